//! The secrets and privacy sweep: every subcommand of the `phone-verify` binary (the list is
//! read from its own `--help`, so a new command cannot be forgotten) and the demo, run with
//! `RUST_LOG=trace` against a sandbox this test starts with canary credentials, their stdout
//! and stderr searched for the canaries, the test phones in any common spelling and every code
//! the sandbox sent.
//!
//! Provider commands run with `--live --base-url` pointed at the sandbox: that is the path on
//! which the credentials come from the environment (on a sandbox target the CLI uses the
//! sandbox's public defaults), so the canaries are the real credentials of the run. The
//! sandbox's Twilio credentials are fixed, so its auth token (`sandbox-auth-token`) stands as
//! Twilio's canary; a run with an unknown Twilio token (and one per other provider) covers the
//! 401 error path.
//!
//! What may appear, and where (every exception is the command's intended result for the user
//! who typed the input):
//!
//! - **Canaries**: nowhere, in no command; only `sandbox`'s stdout shows the sandbox's own
//!   credentials (its purpose is to print them), so Twilio's fixed token is allowed there, and
//!   its sample command line `start --phone +905321234567` (the sandbox's example number).
//! - **Log lines** (tracing's lines on stderr, which start with a timestamp): no canary, no
//!   full phone, no code, in every command.
//! - **Full phones** in the command's own output: `start` (it confirms the number it sent to and
//!   writes the handle, which carries it), `check` (the verified phone), `resolve` (the phone a
//!   session resolves to), `verifik login --send-only` (where the code went) and `demo` (it
//!   narrates the sandbox's flows). `routes`, `guard status`, `methods` and `countries` print
//!   none (`routes` and `guard status` mask the phone they are given).
//! - **Codes** in the command's own output: only `demo`'s stdout (it shows the sandbox's
//!   outbox). A code given to `check` or `verifik login` is never echoed.

use std::collections::BTreeSet;
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use phone_verify::providers::verigator::VerigatorBuilder;
use phone_verify_sandbox::{Sandbox, SandboxConfig, SandboxHandle, config};

const BIN: &str = env!("CARGO_BIN_EXE_phone-verify");

const VERIFYKIT_KEY: &str = "canary-verifykit-key-7Q2xW9";
const VERIFIK_TOKEN: &str = "canary-verifik-token-3Jd8Lp";
const VERIGATOR_USER: &str = "canary-verigator-user-5Hs2Kq";
const VERIGATOR_PASSWORD: &str = "canary-verigator-password-8Ne4Rt";
const GUARD_SECRET: &str = "canary-guard-secret-2Fk9Xc-0123456789abcdef";
/// Wrong credentials of the 401 runs: canaries too.
const WRONG: &str = "canary-wrong-credential-6Vb1Mz";

const VERIFYKIT_PHONE: &str = "+905321234567";
const VERIFIK_PHONE: &str = "+573001234567";
const VERIGATOR_PHONE: &str = "+37251234567";
const TWILIO_PHONE: &str = "+15017122661";
const END_USER_IP: &str = "198.51.100.7";

/// Every secret of the sweep.
fn canaries() -> [&'static str; 7] {
    [
        VERIFYKIT_KEY,
        VERIFIK_TOKEN,
        VERIGATOR_USER,
        VERIGATOR_PASSWORD,
        GUARD_SECRET,
        WRONG,
        config::TWILIO_AUTH_TOKEN,
    ]
}

/// What a run's own output (not its log lines) may show.
#[derive(Debug, Clone, Copy, Default)]
struct Allow {
    phones: bool,
    codes: bool,
    /// Only `sandbox`: the sandbox's own (fixed Twilio) credentials on stdout.
    sandbox_credentials: bool,
}

/// One finished command.
#[derive(Debug)]
struct Run {
    /// The subcommand path, e.g. `verifik login`.
    command: String,
    args: Vec<String>,
    code: Option<i32>,
    stdout: String,
    stderr: String,
    allow: Allow,
}

impl Run {
    /// stderr lines written by tracing (they start with an RFC 3339 timestamp).
    fn log_lines(&self) -> impl Iterator<Item = &str> {
        self.stderr.lines().filter(|line| is_log_line(line))
    }

    /// Everything else: stdout and the command's own stderr lines.
    fn own_output(&self) -> String {
        let own_stderr: Vec<&str> = self.stderr.lines().filter(|l| !is_log_line(l)).collect();
        format!("{}\n{}", self.stdout, own_stderr.join("\n"))
    }
}

fn is_log_line(line: &str) -> bool {
    let bytes = line.as_bytes();
    bytes.len() > 20
        && bytes[..4].iter().all(u8::is_ascii_digit)
        && bytes[4] == b'-'
        && bytes[10] == b'T'
}

struct Sweep {
    sandbox: SandboxHandle,
    dir: tempfile::TempDir,
    runtime: tokio::runtime::Runtime,
    runs: Vec<Run>,
}

impl Sweep {
    fn new() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let mut config = SandboxConfig::seeded(5);
        VERIFYKIT_KEY.clone_into(&mut config.verifykit_server_key);
        VERIFIK_TOKEN.clone_into(&mut config.verifik_token);
        VERIGATOR_USER.clone_into(&mut config.verigator_username);
        VERIGATOR_PASSWORD.clone_into(&mut config.verigator_password);
        let sandbox = runtime.block_on(Sandbox::start(config)).unwrap();
        Self {
            sandbox,
            dir: tempfile::tempdir().unwrap(),
            runtime,
            runs: Vec::new(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The environment of every run: tracing on, and every canary credential.
    fn env(&self) -> Vec<(String, String)> {
        let base = self.sandbox.base_url();
        [
            ("RUST_LOG", "trace".to_owned()),
            ("VERIFYKIT_SERVER_KEY", VERIFYKIT_KEY.to_owned()),
            ("VERIFYKIT_API_URL", format!("{base}/verifykit/api/v1.0")),
            ("VERIFIK_TOKEN", VERIFIK_TOKEN.to_owned()),
            ("VERIGATOR_USERNAME", VERIGATOR_USER.to_owned()),
            ("VERIGATOR_PASSWORD", VERIGATOR_PASSWORD.to_owned()),
            ("TWILIO_ACCOUNT_SID", config::TWILIO_ACCOUNT_SID.to_owned()),
            ("TWILIO_AUTH_TOKEN", config::TWILIO_AUTH_TOKEN.to_owned()),
            ("TWILIO_SERVICE_SID", config::TWILIO_SERVICE_SID.to_owned()),
            ("PHONE_VERIFY_GUARD_SECRET", GUARD_SECRET.to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    /// `--live` at the sandbox's host of `provider`.
    fn live(&self, provider: &str) -> Vec<String> {
        let base = self.sandbox.base_url();
        let url = match provider {
            "verifykit" => format!("{base}/verifykit/web-rest/v1.0"),
            "verifik" => format!("{base}/verifik/v2"),
            "verigator" => format!("{base}/verigator/v1"),
            "twilio" => format!("{base}/twilio/v2"),
            other => panic!("unknown provider {other}"),
        };
        [
            "--live",
            "--provider",
            provider,
            "--base-url",
            &url,
            "--end-user-ip",
            END_USER_IP,
        ]
        .map(str::to_owned)
        .to_vec()
    }

    /// Runs the binary with the sweep's environment plus `extra`, records and returns the run.
    fn run(
        &mut self,
        command: &str,
        args: &[String],
        extra: &[(&str, &str)],
        allow: Allow,
    ) -> &Run {
        let mut cmd = Command::new(BIN);
        cmd.env_clear()
            .envs(self.env())
            .envs(extra.iter().copied())
            .args(args)
            .stdin(Stdio::null());
        let output = cmd.output().expect("the binary runs");
        self.runs.push(Run {
            command: command.to_owned(),
            args: args.to_vec(),
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            allow,
        });
        self.runs.last().unwrap()
    }

    /// `start`, a wrong code, the right code (JSON) and `resolve` through the live `provider`;
    /// then a start with a wrong credential.
    fn provider_flow(&mut self, provider: &str, phone: &str, extra: &[(&str, &str)]) {
        let live = self.live(provider);
        let handle = self.path(&format!("{provider}.json"));
        let handle = handle.display().to_string();
        let phones = Allow {
            phones: true,
            ..Allow::default()
        };
        let args = [
            &live[..],
            &strings(&["start", "--phone", phone, "--out", &handle]),
        ]
        .concat();
        expect(self.run("start", &args, extra, phones), 0);
        let code = self
            .sandbox
            .latest_code(phone)
            .unwrap_or_else(|| panic!("{provider} sent {phone} a code"));
        let wrong = if code == "000000" { "111111" } else { "000000" };
        let check = |code: &str, json: bool| {
            let mut args = [
                &live[..],
                &strings(&["check", "--handle", &handle, "--code", code]),
            ]
            .concat();
            if json {
                args.push("--json".to_owned());
            }
            args
        };
        expect(self.run("check", &check(wrong, false), extra, phones), 1);
        let verified = expect(self.run("check", &check(&code, true), extra, phones), 0);
        let outcome: serde_json::Value = serde_json::from_str(verified.stdout.trim())
            .unwrap_or_else(|e| panic!("check --json prints JSON ({e}): {verified:?}"));
        let session = find_key(&outcome, "session_id").and_then(|s| s.as_str().map(str::to_owned));
        let session = session.unwrap_or_else(|| "no-session".to_owned());
        let resolve = [&live[..], &strings(&["resolve", "--session", &session])].concat();
        let resolves = matches!(provider, "verifykit" | "verifik");
        expect(
            self.run("resolve", &resolve, extra, phones),
            if resolves { 0 } else { 64 },
        );
        // The 401 path: an unknown credential.
        let variable = match provider {
            "verifykit" => "VERIFYKIT_SERVER_KEY",
            "verifik" => "VERIFIK_TOKEN",
            "verigator" => "VERIGATOR_PASSWORD",
            _ => "TWILIO_AUTH_TOKEN",
        };
        let mut wrong_env = extra.to_vec();
        wrong_env.push((variable, WRONG));
        let args = [
            &live[..],
            &strings(&["start", "--phone", phone, "--out", &handle]),
        ]
        .concat();
        expect(self.run("start", &args, &wrong_env, phones), 2);
    }
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| (*s).to_owned()).collect()
}

#[track_caller]
fn expect(run: &Run, code: i32) -> &Run {
    assert_eq!(run.code, Some(code), "{run:#?}");
    run
}

fn find_key<'a>(value: &'a serde_json::Value, key: &str) -> Option<&'a serde_json::Value> {
    match value {
        serde_json::Value::Object(map) => map
            .get(key)
            .or_else(|| map.values().find_map(|v| find_key(v, key))),
        serde_json::Value::Array(items) => items.iter().find_map(|v| find_key(v, key)),
        _ => None,
    }
}

/// The subcommands `--help` of `path` lists (without `help`).
fn listed_subcommands(path: &[&str]) -> Vec<String> {
    let output = Command::new(BIN)
        .env_clear()
        .args(path)
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&output.stdout).into_owned();
    help.lines()
        .skip_while(|line| !line.starts_with("Commands:"))
        .skip(1)
        .take_while(|line| line.starts_with("  "))
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect()
}

/// Every leaf command of the binary, e.g. `start`, `verifik login`.
fn every_command() -> BTreeSet<String> {
    let mut all = BTreeSet::new();
    for top in listed_subcommands(&[]) {
        let nested = listed_subcommands(&[top.as_str()]);
        if nested.is_empty() {
            all.insert(top);
        } else {
            all.extend(nested.into_iter().map(|sub| format!("{top} {sub}")));
        }
    }
    all
}

/// The spellings of `e164` to look for: its national digits, found in `text` with separators
/// (spaces, dashes, parentheses) removed, covers E.164, digits only and spaced forms.
fn contains_phone(text: &str, e164: &str) -> bool {
    let phone: phone_verify::PhoneNumber = e164.parse().unwrap();
    let national = phone.national_number().to_string();
    let squeezed: String = text
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '(' | ')'))
        .collect();
    squeezed.contains(&national)
}

/// Whether `code` appears as a whole run of digits (not a fraction of a second).
fn contains_code(text: &str, code: &str) -> bool {
    let bytes = text.as_bytes();
    let mut start = 0;
    while let Some(found) = text[start..].find(code) {
        let at = start + found;
        let end = at + code.len();
        let before = at.checked_sub(1).map(|i| bytes[i]);
        let after = bytes.get(end).copied();
        let whole = !before.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'.')
            && !after.is_some_and(|b| b.is_ascii_alphanumeric());
        if whole {
            return true;
        }
        start = at + 1;
    }
    false
}

/// The `+` numbers and the codes the demo's own output mentions (its embedded sandbox is out of
/// reach).
fn demo_phones_and_codes(stdout: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut phones = BTreeSet::new();
    let mut codes = BTreeSet::new();
    for word in stdout.split(|c: char| c.is_whitespace() || c == '(' || c == ')' || c == ',') {
        let word = word.trim_end_matches(['.', ':', '"']);
        if let Some(digits) = word.strip_prefix('+')
            && (8..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
        {
            phones.insert(word.to_owned());
        }
    }
    for marker in ["code is ", "code "] {
        for (i, _) in stdout.match_indices(marker) {
            let digits: String = stdout[i + marker.len()..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            // "code is 165153" and "code 165153, checked …"; not "(code 403014: …)", a
            // provider's error code.
            let next = stdout[i + marker.len() + digits.len()..].chars().next();
            if (4..=10).contains(&digits.len()) && (marker == "code is " || next == Some(',')) {
                codes.insert(digits);
            }
        }
    }
    (phones, codes)
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

#[test]
fn no_command_prints_a_secret_a_full_phone_or_a_code_in_its_logs() {
    let mut sweep = Sweep::new();
    let base = sweep.sandbox.base_url();

    // demo: its own embedded sandbox; it narrates phones and codes on stdout by design.
    let demo = sweep.run(
        "demo",
        &strings(&["demo"]),
        &[],
        Allow {
            phones: true,
            codes: true,
            ..Allow::default()
        },
    );
    assert_eq!(demo.code, Some(0), "{demo:#?}");
    let (demo_phones, demo_codes) = demo_phones_and_codes(&demo.stdout);
    assert!(
        demo_phones.len() >= 4 && demo_codes.len() >= 4,
        "{demo_phones:?} {demo_codes:?}"
    );

    // sandbox: serves until stopped; read its banner, then stop it.
    let mut child = Command::new(BIN)
        .env_clear()
        .envs(sweep.env())
        .args(["sandbox", "--listen", "127.0.0.1:0", "--seed", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut banner = String::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        let last = line.contains("Ctrl-C");
        banner.push_str(&line);
        banner.push('\n');
        if last {
            break;
        }
    }
    // One code sent through it, so its request log has something to show.
    let url = banner
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .expect("the banner names the URL")
        .trim_end_matches(':')
        .to_owned();
    let sandbox_code = sweep.runtime.block_on(async {
        let http = phone_verify::reqwest::Client::new();
        let sent = http
            .post(format!("{url}/verifykit/web-rest/v1.0/send-otp"))
            .header("X-Vfk-Server-Key", config::DEFAULT_VERIFYKIT_SERVER_KEY)
            .header("X-Vfk-Forwarded-For", END_USER_IP)
            .json(&serde_json::json!({"phoneNumber": VERIFYKIT_PHONE, "countryCode": "TR"}))
            .send()
            .await
            .unwrap();
        assert_eq!(sent.status(), 201);
        let latest: serde_json::Value = http
            .get(format!("{url}/_sandbox/messages/latest"))
            .query(&[("phone", VERIFYKIT_PHONE)])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        latest["code"].as_str().unwrap().to_owned()
    });
    child.kill().unwrap();
    let output = child.wait_with_output().unwrap();
    sweep.runs.push(Run {
        command: "sandbox".to_owned(),
        args: strings(&["sandbox", "--listen", "127.0.0.1:0"]),
        code: Some(0),
        stdout: banner,
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        // Its banner shows the sandbox's credentials and a sample `start --phone` line.
        allow: Allow {
            sandbox_credentials: true,
            phones: true,
            ..Allow::default()
        },
    });

    // Each provider's start, check, resolve, and a 401.
    sweep.provider_flow("verifykit", VERIFYKIT_PHONE, &[]);
    sweep.provider_flow("verifik", VERIFIK_PHONE, &[]);
    let service = sweep
        .runtime
        .block_on(async {
            VerigatorBuilder::new(VERIGATOR_USER, VERIGATOR_PASSWORD)
                .sandbox_url(&base)
                .build_client()
                .unwrap()
                .create_service("privacy.example.com", "Privacy sweep")
                .await
        })
        .unwrap()
        .id;
    sweep.provider_flow(
        "verigator",
        VERIGATOR_PHONE,
        &[("VERIGATOR_SERVICE_ID", &service)],
    );
    sweep.provider_flow("twilio", TWILIO_PHONE, &[]);

    // VerifyKit's lookups.
    let live = sweep.live("verifykit");
    let none = Allow::default();
    expect(
        sweep.run(
            "methods",
            &[&live[..], &strings(&["methods"])].concat(),
            &[],
            none,
        ),
        0,
    );
    let countries = [&live[..], &strings(&["countries", "--country", "TR"])].concat();
    expect(sweep.run("countries", &countries, &[], none), 0);

    // Verifik's phone login, in two commands; the token goes to a file.
    let live = sweep.live("verifik");
    let phones = Allow {
        phones: true,
        ..Allow::default()
    };
    let send = [
        &live[..],
        &strings(&["verifik", "login", "--phone", VERIFIK_PHONE, "--send-only"]),
    ]
    .concat();
    expect(sweep.run("verifik login", &send, &[], phones), 0);
    let code = sweep.sandbox.latest_code(VERIFIK_PHONE).unwrap();
    let token_file = sweep.path("token").display().to_string();
    let confirm = [
        &live[..],
        &strings(&[
            "verifik",
            "login",
            "--phone",
            VERIFIK_PHONE,
            "--code",
            &code,
            "--out",
            &token_file,
        ]),
    ]
    .concat();
    expect(sweep.run("verifik login", &confirm, &[], none), 0);

    // The guard: a guarded start, then its counters of the phone.
    let guard = sweep.path("guard.toml");
    write(
        &guard,
        "store = \"memory\"\n[rules]\nresend_cooldown_secs = 60\n",
    );
    let guard = guard.display().to_string();
    let live = sweep.live("verifykit");
    let handle = sweep.path("guarded.json").display().to_string();
    let start = [
        &live[..],
        &strings(&[
            "--guard",
            &guard,
            "start",
            "--phone",
            VERIFYKIT_PHONE,
            "--out",
            &handle,
        ]),
    ]
    .concat();
    expect(sweep.run("start", &start, &[], phones), 0);
    let status = [
        &live[..],
        &strings(&["--guard", &guard, "guard", "status", VERIFYKIT_PHONE]),
    ]
    .concat();
    expect(sweep.run("guard status", &status, &[], none), 0);

    // The router: its plan for a phone, and a start and check through it, with the canary
    // credentials in the configuration file.
    let router = sweep.path("router.toml");
    write(
        &router,
        &format!(
            r#"
            [[routes]]
            name = "turkey"
            provider = "verifykit"
            settings = {{ web_rest_url = "{base}/verifykit/web-rest/v1.0", api_url = "{base}/verifykit/api/v1.0", server_key = "{VERIFYKIT_KEY}", fallback_end_user_ip = "{END_USER_IP}" }}

            [[routes]]
            name = "colombia"
            provider = "verifik"
            settings = {{ base_url = "{base}/verifik/v2", token = "{VERIFIK_TOKEN}" }}

            [[rules]]
            regions = ["CO"]
            routes = ["colombia", "turkey"]

            [[rules]]
            routes = ["turkey", "colombia"]
            "#
        ),
    );
    // A configuration that does not parse, a credential on the offending line: the error
    // names the place, never the line.
    let broken = sweep.path("broken.toml");
    write(
        &broken,
        &format!(
            r#"
            [[routes]]
            name = "colombia"
            provider = "verifik"
            settings = {{ base_url = "{base}/verifik/v2", token = "{VERIFIK_TOKEN}", max_attempts = [2] }}
            "#
        ),
    );
    let broken = broken.display().to_string();
    let plan = strings(&["--config", &broken, "routes", VERIFIK_PHONE]);
    let refused = expect(sweep.run("routes", &plan, &[], none), 64);
    assert!(
        refused.stderr.contains("broken.toml:5:"),
        "the place of the error: {refused:?}"
    );
    let router = router.display().to_string();
    let plan = strings(&["--config", &router, "routes", VERIFIK_PHONE]);
    expect(sweep.run("routes", &plan, &[], none), 0);
    let handle = sweep.path("routed.json").display().to_string();
    let start = strings(&[
        "--config",
        &router,
        "start",
        "--phone",
        VERIFIK_PHONE,
        "--out",
        &handle,
    ]);
    expect(sweep.run("start", &start, &[], phones), 0);
    let code = sweep.sandbox.latest_code(VERIFIK_PHONE).unwrap();
    let check = strings(&[
        "--config", &router, "check", "--handle", &handle, "--code", &code,
    ]);
    expect(sweep.run("check", &check, &[], phones), 0);

    // Every command of the binary ran.
    let ran: BTreeSet<String> = sweep.runs.iter().map(|r| r.command.clone()).collect();
    assert_eq!(ran, every_command(), "run every command `--help` lists");

    // Logging was on: every command that made a request logged at TRACE (`routes` and
    // `guard status` with the memory store make none, nor does `resolve` of a provider without
    // sessions; `sandbox` logs its requests at INFO).
    for command in [
        "demo",
        "start",
        "check",
        "resolve",
        "methods",
        "countries",
        "verifik login",
    ] {
        assert!(
            sweep
                .runs
                .iter()
                .any(|r| r.command == command && r.log_lines().any(|l| l.contains("TRACE"))),
            "RUST_LOG=trace took effect for {command}"
        );
    }
    assert!(
        sweep
            .runs
            .iter()
            .any(|r| r.command == "sandbox" && r.log_lines().any(|l| l.contains("/v1.0/send-otp"))),
        "the sandbox logged its request"
    );
    assert!(
        sweep
            .runs
            .iter()
            .any(|r| r.log_lines().any(|l| l.contains("phone_verify.http"))),
        "the SDK's HTTP spans are in the logs"
    );

    let mut phones: BTreeSet<String> = [
        VERIFYKIT_PHONE,
        VERIFIK_PHONE,
        VERIGATOR_PHONE,
        TWILIO_PHONE,
    ]
    .map(str::to_owned)
    .into();
    phones.extend(demo_phones);
    let mut codes: BTreeSet<String> = sweep
        .sandbox
        .all_messages()
        .into_iter()
        .filter_map(|m| m.code)
        .collect();
    assert!(codes.len() >= 6, "the sandbox sent codes: {codes:?}");
    codes.extend(demo_codes);
    codes.insert(sandbox_code);

    let mut leaks = Vec::new();
    for run in &sweep.runs {
        let logs: Vec<&str> = run.log_lines().collect();
        let own = run.own_output();
        for canary in canaries() {
            let allowed = run.allow.sandbox_credentials && canary == config::TWILIO_AUTH_TOKEN;
            if logs.iter().any(|l| l.contains(canary)) || (!allowed && own.contains(canary)) {
                leaks.push(format!(
                    "{} {:?}: the canary {canary}",
                    run.command, run.args
                ));
            }
        }
        for phone in &phones {
            if let Some(line) = logs.iter().find(|l| contains_phone(l, phone)) {
                leaks.push(format!(
                    "{} {:?}: {phone} in the log line {line}",
                    run.command, run.args
                ));
            }
            if !run.allow.phones && contains_phone(&own, phone) {
                leaks.push(format!(
                    "{} {:?}: {phone} in its output",
                    run.command, run.args
                ));
            }
        }
        for code in &codes {
            if let Some(line) = logs.iter().find(|l| contains_code(l, code)) {
                leaks.push(format!(
                    "{} {:?}: code {code} in the log line {line}",
                    run.command, run.args
                ));
            }
            if !run.allow.codes && contains_code(&own, code) {
                leaks.push(format!(
                    "{} {:?}: code {code} in its output",
                    run.command, run.args
                ));
            }
        }
    }
    assert!(leaks.is_empty(), "leaks:\n{}", leaks.join("\n"));
}

#[test]
fn the_detectors_find_what_they_look_for() {
    for text in [
        "+905321234567",
        "905321234567",
        "+90 532 123 45 67",
        "(532) 123-4567",
    ] {
        assert!(contains_phone(text, VERIFYKIT_PHONE), "{text}");
    }
    assert!(!contains_phone("+90******67", VERIFYKIT_PHONE));
    assert!(contains_code("your code is 082282.", "082282"));
    assert!(contains_code("code=082282", "082282"));
    assert!(!contains_code("at 20:46:03.082282Z", "082282"));
    assert!(!contains_code("id 10822823", "082282"));
    assert!(is_log_line("2026-12-02T20:46:03.574708Z TRACE hyper: x"));
    assert!(!is_log_line("phone-verify: error: x"));
    let (phones, codes) = demo_phones_and_codes(
        "sms to +905321234567: \"your verification code is 165153.\"\n\
         wrong code 000000 → rejected (code 403014: invalid)\ncode 818169, typed",
    );
    assert!(phones.contains("+905321234567"));
    assert_eq!(
        codes,
        BTreeSet::from(["165153".to_owned(), "818169".to_owned()])
    );
}
