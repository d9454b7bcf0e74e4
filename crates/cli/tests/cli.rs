//! End-to-end tests of the `phone-verify` binary: each runs the built binary with
//! `std::process::Command` against a sandbox the test starts in-process on 127.0.0.1:0, so
//! commands in separate processes share one provider, and the test drives the sandbox (its
//! outbox, clock and request log) directly.

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use phone_verify_sandbox::{Fault, FaultAction, Provider, Sandbox, SandboxConfig, SandboxHandle};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_phone-verify");

/// A sandbox on its own runtime, and a scratch directory.
struct Env {
    sandbox: SandboxHandle,
    dir: PathBuf,
    /// Runs the sandbox; dropped last.
    _runtime: tokio::runtime::Runtime,
}

/// A finished command.
#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn from(output: &Output) -> Self {
        Self {
            code: output.status.code().expect("the command exited normally"),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self:?}"))
    }

    #[track_caller]
    fn expect(self, code: i32) -> Self {
        assert_eq!(self.code, code, "{self:#?}");
        self
    }
}

/// The binary with a clean environment: no credential or setting of the machine leaks in.
fn command(args: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    command.env_clear().args(args);
    command
}

fn run(args: &[&str]) -> Run {
    Run::from(&command(args).output().expect("the binary runs"))
}

fn run_with_stdin(args: &[&str], stdin: &str) -> Run {
    let mut child = command(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    Run::from(&child.wait_with_output().unwrap())
}

impl Env {
    fn new(name: &str) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let sandbox = runtime
            .block_on(Sandbox::start(SandboxConfig::default()))
            .unwrap();
        let dir =
            std::env::temp_dir().join(format!("phone-verify-cli-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self {
            sandbox,
            dir,
            _runtime: runtime,
        }
    }

    fn target(&self) -> String {
        format!("sandbox:{}", self.sandbox.base_url())
    }

    /// The binary against this sandbox.
    fn run(&self, args: &[&str]) -> Run {
        self.run_with_env(&[], args)
    }

    /// The binary against this sandbox, with environment variables.
    fn run_with_env(&self, vars: &[(&str, &str)], args: &[&str]) -> Run {
        let target = self.target();
        let mut command = command(&[&["--target", target.as_str()], args].concat());
        command.envs(vars.iter().copied());
        Run::from(&command.output().expect("the binary runs"))
    }

    fn spawn(&self, args: &[&str]) -> Child {
        let target = self.target();
        command(&[&["--target", target.as_str()], args].concat())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary runs")
    }

    fn path(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }

    fn code(&self, phone: &str) -> String {
        self.sandbox
            .latest_code(phone)
            .unwrap_or_else(|| panic!("the sandbox sent no code to {phone}"))
    }

    fn requests(&self) -> usize {
        self.sandbox.requests().requests.len()
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn wrong(code: &str) -> &'static str {
    if code == "000000" { "111111" } else { "000000" }
}

#[test]
fn demo_runs_every_flow_of_every_provider() {
    let demo = run(&["demo"]).expect(0);
    for line in [
        "no real message is sent",
        "VerifyKit: codes by sms, whatsapp; reverse flows on whatsapp, telegram; sessions",
        "Verifik: codes by sms, whatsapp; sessions",
        "Messente Verigator: codes by sms, totp; no sessions",
        "wrong code 000000 → rejected: wrong code (code 403014",
        "checked by a fresh client from the handle's JSON → verified +905321234567",
        "after 301 s on the sandbox clock → rejected: expired",
        "after 601 s on the sandbox clock → rejected: expired",
        "poll → pending",
        "poll → verified +905551234567, the number the user wrote from",
        "session resolved on the server → +905551234567 verified by whatsapp",
        "session resolved on the server → +573001234567 verified by sms",
        "RFC 6238 from the enrolled secret",
        "→ verified +37251234567",
        "Twilio Verify: codes by sms, whatsapp, voice; no sessions",
        "wrong code 000000 → rejected: wrong code (code pending",
        "checked by a fresh client from the handle's JSON → verified +15017122661",
        "the same code again → rejected: no such pending verification (used, replaced or never started) (code 20404",
        "read out by a call → verified +15017122661",
        "five wrong ones → rejected: too many attempts: start a new verification later (code max_attempts_reached",
        "after that → rejected: too many attempts: start a new verification later (code 60202",
        "demo: all ",
    ] {
        assert!(
            demo.stdout.contains(line),
            "missing {line:?} in:\n{}",
            demo.stdout
        );
    }
    assert!(!demo.stdout.contains('✘'), "{}", demo.stdout);
    // The reverse flow's deeplink, drawn as a QR code of half blocks.
    assert!(demo.stdout.contains("https://wa.me/"));
    assert!(
        demo.stdout
            .lines()
            .filter(|l| l.contains("▀▀▀▀▀▀▀▀▀▀"))
            .count()
            >= 1
    );

    let report = run(&["demo", "--json"]).expect(0).json();
    assert_eq!(report["failed"], 0);
    assert!(report["passed"].as_u64().unwrap() >= 20, "{report}");
    assert!(
        report["steps"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["ok"] == true)
    );
}

#[test]
fn start_in_one_process_check_in_others() {
    let env = Env::new("sms");
    let handle = env.path("handle.json");
    let start = env
        .run(&["start", "--phone", "+90 532 123 45 67", "--out", &handle])
        .expect(0);
    assert!(
        start.stdout.is_empty(),
        "the handle went to the file: {start:?}"
    );
    assert!(
        start.stderr.contains("no real message is sent"),
        "{start:?}"
    );
    assert!(
        start.stderr.contains("started: sms code to +905321234567"),
        "{start:?}"
    );
    assert!(
        start
            .stderr
            .contains("VerifyKit: your verification code is"),
        "{start:?}"
    );
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&handle).unwrap()).unwrap();
    assert_eq!(saved["format"], "phone-verify/verification");
    assert_eq!(saved["provider"], "verifykit");

    let code = env.code("+905321234567");
    // The handle can come on stdin too.
    let text = std::fs::read_to_string(&handle).unwrap();
    let target = env.target();
    let piped = run_with_stdin(
        &[
            "--target",
            &target,
            "check",
            "--handle",
            "-",
            "--code",
            wrong(&code),
        ],
        &text,
    );
    assert!(piped.expect(1).stdout.starts_with("rejected: wrong code"));
    let rejected = env
        .run(&["check", "--handle", &handle, "--code", wrong(&code)])
        .expect(1);
    assert!(
        rejected
            .stdout
            .starts_with("rejected: wrong code (code 403014"),
        "{rejected:?}"
    );

    let verified = env
        .run(&["check", "--handle", &handle, "--code", &code, "--json"])
        .expect(0)
        .json();
    assert_eq!(verified["status"], "verified");
    assert_eq!(verified["phone"], "+905321234567");
    assert!(verified["session_id"].is_string());

    // A code is used once.
    let again = env
        .run(&["check", "--handle", &handle, "--code", &code])
        .expect(1);
    assert!(
        again
            .stdout
            .starts_with("rejected: no such pending verification"),
        "{again:?}"
    );
    // The handle records its target, which was this one: no hint.
    assert!(
        !again.stderr.contains("if `start` ran on another target"),
        "{again:?}"
    );
    // A handle that does not record it (made by the library): the CLI says where it checked.
    let mut bare: Value = serde_json::from_str(&std::fs::read_to_string(&handle).unwrap()).unwrap();
    assert_eq!(bare["extras"]["cli_target"], env.target().as_str());
    bare["extras"].as_object_mut().unwrap().remove("cli_target");
    std::fs::write(&handle, bare.to_string()).unwrap();
    let unknown = env
        .run(&["check", "--handle", &handle, "--code", &code])
        .expect(1);
    assert!(
        unknown.stderr.contains(&format!(
            "checked on {}; if `start` ran on another target",
            env.target()
        )),
        "{unknown:?}"
    );
    // Checked on another target than its own, a handle is refused before any request.
    std::fs::write(&handle, &text).unwrap();
    let before = env.requests();
    let elsewhere = run(&[
        "--target",
        "sandbox:http://127.0.0.1:9",
        "check",
        "--handle",
        &handle,
        "--code",
        &code,
    ])
    .expect(64);
    assert!(
        elsewhere
            .stderr
            .contains(&format!("the handle was started on {}", env.target())),
        "{elsewhere:?}"
    );
    assert_eq!(env.requests(), before);
}

#[test]
fn an_expired_code_is_rejected() {
    let env = Env::new("expired");
    let start = env.run(&["start", "--phone", "+905321234567"]).expect(0);
    let handle = env.path("handle.json");
    std::fs::write(&handle, &start.stdout).unwrap();
    let code = env.code("+905321234567");
    env.sandbox.advance_clock(Duration::from_secs(301));
    let expired = env
        .run(&["check", "--handle", &handle, "--code", &code])
        .expect(1);
    assert!(
        expired
            .stdout
            .starts_with("rejected: expired: start a new verification (code 403037"),
        "{expired:?}"
    );
    let json = env
        .run(&["check", "--handle", &handle, "--code", &code, "--json"])
        .expect(1)
        .json();
    assert_eq!(json["status"], "rejected");
    assert_eq!(json["reason"], "expired");
}

#[test]
fn a_reverse_flow_is_polled_waited_for_and_resolved() {
    let env = Env::new("reverse");
    let start = env.run(&["start", "--reverse", "--json"]).expect(0);
    let saved = start.json();
    assert_eq!(saved["channel"], "whatsapp");
    let link = saved["reverse"]["deeplink"].as_str().unwrap().to_owned();
    assert!(link.starts_with("https://wa.me/"));
    let handle = env.path("reverse.json");
    std::fs::write(&handle, &start.stdout).unwrap();

    // The human form draws the deeplink as a QR code on stderr.
    let human = env.run(&["start", "--reverse"]).expect(0);
    assert!(
        human.stderr.contains("open on the phone: https://wa.me/"),
        "{human:?}"
    );
    assert!(human.stderr.contains("▀▀▀▀▀▀▀▀▀▀"), "{human:?}");

    let pending = env.run(&["check", "--handle", &handle]).expect(3);
    assert!(pending.stdout.starts_with("pending:"), "{pending:?}");
    let gave_up = env
        .run(&[
            "check",
            "--handle",
            &handle,
            "--wait",
            "--timeout",
            "0.3",
            "--interval",
            "0.1",
        ])
        .expect(3);
    assert!(gave_up.stdout.starts_with("pending:"), "{gave_up:?}");
    // An interval longer than the timeout: one poll at once, the last at the timeout.
    let before = env.requests();
    let gave_up = env
        .run(&[
            "check",
            "--handle",
            &handle,
            "--wait",
            "--timeout",
            "0.3",
            "--interval",
            "30",
        ])
        .expect(3);
    assert!(gave_up.stdout.starts_with("pending:"), "{gave_up:?}");
    assert_eq!(env.requests() - before, 2, "{gave_up:?}");

    let waiting = env.spawn(&[
        "check",
        "--handle",
        &handle,
        "--wait",
        "--interval",
        "0.1",
        "--timeout",
        "60",
        "--json",
    ]);
    let reference = saved["reference"].as_str().unwrap();
    env.sandbox
        .complete_reverse_flow(reference, "+905551234567")
        .unwrap();
    let done = Run::from(&waiting.wait_with_output().unwrap()).expect(0);
    let outcome = done.json();
    assert_eq!(outcome["status"], "verified");
    assert_eq!(outcome["phone"], "+905551234567");
    let session = outcome["session_id"].as_str().unwrap().to_owned();

    let resolved = env.run(&["resolve", "--session", &session]).expect(0);
    assert!(
        resolved
            .stdout
            .starts_with("+905551234567 verified by whatsapp"),
        "{resolved:?}"
    );
    let json = env
        .run(&["resolve", "--session", &session, "--json"])
        .expect(0)
        .json();
    assert_eq!(json["phone"], "+905551234567");
    assert_eq!(json["provider"], "verifykit");

    let unknown = env
        .run(&["resolve", "--session", "unknown0session"])
        .expect(1);
    assert!(unknown.stderr.contains("not resolved"), "{unknown:?}");
    assert!(
        unknown.stderr.contains("code 403036, request sbx"),
        "{unknown:?}"
    );
}

#[test]
fn verifik_and_verigator_start_and_check_across_processes() {
    let env = Env::new("providers");
    // The provider from PHONE_VERIFY_PROVIDER; checks follow the handle's provider.
    let handle = env.path("verifik.json");
    let verifik = [("PHONE_VERIFY_PROVIDER", "verifik")];
    env.run_with_env(
        &verifik,
        &["start", "--phone", "+573001234567", "--out", &handle],
    )
    .expect(0);
    let code = env.code("+573001234567");
    env.run_with_env(
        &[("PHONE_VERIFY_PROVIDER", "verifykit")],
        &["check", "--handle", &handle, "--code", wrong(&code)],
    )
    .expect(1);
    let verified = env
        .run(&["check", "--handle", &handle, "--code", &code])
        .expect(0);
    assert!(
        verified
            .stdout
            .starts_with("verified: +573001234567 by sms"),
        "{verified:?}"
    );

    // Verigator: the sandbox has no service, so the first start creates one...
    let first = env.path("verigator.json");
    let start = env
        .run(&[
            "start",
            "--provider",
            "verigator",
            "--phone",
            "+37251234567",
            "--out",
            &first,
        ])
        .expect(0);
    assert!(
        start.stderr.contains("created the Verigator service"),
        "{start:?}"
    );
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&first).unwrap()).unwrap();
    let service = saved["extras"]["service_id"].as_str().unwrap().to_owned();
    let code = env.code("+37251234567");
    // ...and the check uses the service in the handle.
    env.run(&["check", "--handle", &first, "--code", &code])
        .expect(0);

    // --service-id reuses it; the handle of the second start is checked the same way.
    let second = env.path("verigator-2.json");
    let start = env
        .run(&[
            "start",
            "--provider",
            "verigator",
            "--service-id",
            &service,
            "--phone",
            "+37251234567",
            "--out",
            &second,
        ])
        .expect(0);
    assert!(!start.stderr.contains("created"), "{start:?}");
    let code = env.code("+37251234567");
    env.run(&["check", "--handle", &second, "--code", wrong(&code)])
        .expect(1);
    env.run(&["check", "--handle", &second, "--code", &code])
        .expect(0);

    // A handle names its provider: a contradicting --provider is a usage error.
    env.run(&[
        "check",
        "--provider",
        "verifykit",
        "--handle",
        &second,
        "--code",
        &code,
    ])
    .expect(64);
}

#[test]
fn methods_and_countries_come_from_verifykit() {
    let env = Env::new("lookups");
    let methods = env.run(&["methods", "--lang", "en"]).expect(0);
    for app in ["whatsapp", "telegram", "otp"] {
        assert!(methods.stdout.contains(app), "{methods:?}");
    }
    let json = env.run(&["methods", "--json"]).expect(0).json();
    assert_eq!(json["offers_otp"], true);
    assert_eq!(json["methods"][0]["app"], "whatsapp");

    let countries = env.run(&["countries", "--country", "tr"]).expect(0);
    let first = countries.stdout.lines().next().unwrap();
    assert!(first.starts_with("TR") && first.contains("+90"), "{first}");
    let json = env
        .run(&["countries", "--country", "PA", "--json"])
        .expect(0)
        .json();
    assert_eq!(json[0]["country_code"], "PA");
    assert!(json.as_array().unwrap().len() > 200);

    env.run(&["methods", "--provider", "verifik"]).expect(64);
    assert_eq!(env.requests(), 4, "the refused command sent nothing");
}

#[test]
fn verifik_login_exchanges_the_whatsapp_code_for_a_token() {
    let env = Env::new("login");
    let phone = "+50762647737";

    // In two commands: send, then confirm with --code.
    env.run(&["verifik", "login", "--phone", phone, "--send-only"])
        .expect(0);
    let code = env.code(phone);
    let token_file = env.path("token");
    // A file that exists, readable by everyone, is made private before the token goes in.
    std::fs::write(&token_file, "old").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let everyone = std::fs::Permissions::from_mode(0o644);
        std::fs::set_permissions(&token_file, everyone).unwrap();
    }
    let confirm = env
        .run(&[
            "verifik",
            "login",
            "--phone",
            phone,
            "--code",
            &code,
            "--out",
            &token_file,
        ])
        .expect(0);
    assert!(
        confirm.stdout.is_empty(),
        "the token went to the file: {confirm:?}"
    );
    let token = std::fs::read_to_string(&token_file).unwrap();
    assert!(token.trim().len() > 20);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&token_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // In one command: the code is typed on stdin once it has arrived.
    let sent = env.sandbox.messages(phone).len();
    let mut child = env.spawn(&["verifik", "login", "--phone", phone, "--json"]);
    // Bounded: a slow machine gets 30 s to start the process and send.
    for _ in 0..1200 {
        if env.sandbox.messages(phone).len() > sent {
            break;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    assert!(
        env.sandbox.messages(phone).len() > sent,
        "a second login code arrived"
    );
    let code = env.code(phone);
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "{code}").unwrap();
    drop(stdin);
    let done = Run::from(&child.wait_with_output().unwrap()).expect(0);
    let json = done.json();
    assert_eq!(json["token_type"], "bearer");
    assert!(json["access_token"].as_str().unwrap().len() > 20);

    // A wrong code is a rejection.
    env.run(&["verifik", "login", "--phone", phone, "--send-only"])
        .expect(0);
    let code = env.code(phone);
    let refused = env
        .run(&["verifik", "login", "--phone", phone, "--code", wrong(&code)])
        .expect(1);
    assert!(refused.stderr.contains("rejected:"), "{refused:?}");
    assert!(refused.stdout.is_empty());
}

#[test]
fn live_without_credentials_refuses_and_sends_nothing() {
    let env = Env::new("live");
    let web_rest = env.sandbox.verifykit_web_rest_url();
    // Pointed at the test's sandbox, so that "nothing was sent" can be checked.
    let missing = run(&[
        "start",
        "--live",
        "--base-url",
        &web_rest,
        "--phone",
        "+905321234567",
    ])
    .expect(2);
    assert!(
        missing.stderr.contains(
            "phone-verify: error: verifykit: invalid input: VERIFYKIT_SERVER_KEY is not set"
        ),
        "{missing:?}"
    );
    assert!(
        !missing.stderr.contains("real messages are sent"),
        "{missing:?}"
    );
    assert_eq!(env.requests(), 0);

    let json = run(&["start", "--live", "--phone", "+905321234567", "--json"])
        .expect(2)
        .json();
    assert_eq!(json["error"]["kind"], "InvalidInput");
    assert_eq!(json["error"]["provider"], "verifykit");

    let verifik = run(&[
        "start",
        "--live",
        "--provider",
        "verifik",
        "--phone",
        "+573001234567",
    ])
    .expect(2);
    assert!(
        verifik.stderr.contains("VERIFIK_TOKEN is not set"),
        "{verifik:?}"
    );

    let verigator = command(&[
        "start",
        "--live",
        "--provider",
        "verigator",
        "--phone",
        "+37251234567",
    ])
    .env("VERIGATOR_USERNAME", "canary-user")
    .output()
    .unwrap();
    let verigator = Run::from(&verigator).expect(2);
    assert!(
        verigator.stderr.contains("VERIGATOR_PASSWORD is not"),
        "{verigator:?}"
    );
    assert!(!verigator.stderr.contains("canary"), "{verigator:?}");

    // Twilio: the auth token alone names the Account SID it lacks, never the token; a
    // malformed SID is refused before anything is sent.
    let twilio = command(&[
        "start",
        "--live",
        "--provider",
        "twilio",
        "--phone",
        "+15017122661",
    ])
    .env("TWILIO_AUTH_TOKEN", "canary-token")
    .output()
    .unwrap();
    let twilio = Run::from(&twilio).expect(2);
    assert!(
        twilio.stderr.contains("TWILIO_ACCOUNT_SID is not set"),
        "{twilio:?}"
    );
    assert!(!twilio.stderr.contains("canary"), "{twilio:?}");
    let twilio = command(&[
        "start",
        "--live",
        "--provider",
        "twilio",
        "--base-url",
        &format!("{}/twilio/v2", env.sandbox.base_url()),
        "--service-id",
        "VA0123456789abcdef0123456789abcdef",
        "--phone",
        "+15017122661",
    ])
    .env("TWILIO_ACCOUNT_SID", "AC-not-a-sid")
    .env("TWILIO_AUTH_TOKEN", "canary-token")
    .output()
    .unwrap();
    let twilio = Run::from(&twilio).expect(2);
    assert!(
        twilio.stderr.contains("TWILIO_ACCOUNT_SID must be"),
        "{twilio:?}"
    );

    // A real sandbox variable does not make --live a sandbox.
    let sandboxed = command(&["start", "--live", "--phone", "+905321234567"])
        .env("VERIFYKIT_SANDBOX_URL", env.sandbox.base_url())
        .output()
        .unwrap();
    Run::from(&sandboxed).expect(2);
    assert_eq!(env.requests(), 0);
}

#[test]
fn live_credentials_can_come_from_stdin_and_never_show() {
    let env = Env::new("stdin");
    let web_rest = env.sandbox.verifykit_web_rest_url();
    let args = [
        "start",
        "--live",
        "--key-stdin",
        "--base-url",
        &web_rest,
        "--phone",
        "+905321234567",
        "--end-user-ip",
        "203.0.113.7",
    ];
    // Live VerifyKit needs the end user's IP: refused before anything is sent without it.
    let no_ip = run_with_stdin(&args[..7], "sandbox-server-key\n").expect(64);
    assert!(no_ip.stderr.contains("--end-user-ip"), "{no_ip:?}");
    assert_eq!(env.requests(), 0);
    let ok = run_with_stdin(&args, "sandbox-server-key\n").expect(0);
    assert!(
        ok.stderr.contains("live VerifyKit: real messages are sent"),
        "{ok:?}"
    );
    let saved: Value = serde_json::from_str(&ok.stdout).unwrap();
    assert_eq!(saved["provider"], "verifykit");
    assert!(!ok.stdout.contains("sandbox-server-key") && !ok.stderr.contains("sandbox-server-key"));
    // The next command it suggests carries the options the check needs again.
    let next = format!(
        "next: phone-verify check --target live --end-user-ip 203.0.113.7 --base-url {web_rest} \
         --key-stdin --handle HANDLE.json --code CODE"
    );
    assert!(ok.stderr.contains(&next), "{ok:?}");

    let refused = run_with_stdin(&args, "canary-wrong-key\n").expect(2);
    let errors: Vec<&str> = refused
        .stderr
        .lines()
        .filter(|l| l.contains("error"))
        .collect();
    assert_eq!(errors.len(), 1, "one line: {refused:?}");
    assert!(
        errors[0].starts_with("phone-verify: error: verifykit: unauthorized:")
            && errors[0].contains("(HTTP 403, code 403038, request sbx"),
        "{refused:?}"
    );
    assert!(!refused.stderr.contains("canary") && !refused.stdout.contains("canary"));
}

#[test]
fn a_bad_phone_number_is_refused_before_anything_is_sent() {
    let env = Env::new("badphone");
    for phone in ["12", "+90 532", "+90 532 123 45 67 ext. 9", "phone"] {
        let refused = env.run(&["start", "--phone", phone]).expect(64);
        assert!(
            refused.stderr.contains("invalid phone number"),
            "{refused:?}"
        );
        assert!(refused.stdout.is_empty());
    }
    env.run(&["verifik", "login", "--phone", "12"]).expect(64);
    assert_eq!(env.requests(), 0, "{:?}", env.sandbox.requests());
}

#[test]
fn usage_errors_exit_64_and_send_nothing() {
    let env = Env::new("usage");
    let handle = env.path("handle.json");
    std::fs::write(&handle, "{\"format\": \"something else\"}").unwrap();
    for args in [
        &["start", "--code"][..],
        &["start"],
        &["start", "--phone", "+905321234567", "--channel", "pigeon"],
        &["start", "--phone", "+905321234567", "--service-id", "x"],
        &["check"],
        &["check", "--handle", &handle, "--code", "1"],
        &["check", "--handle", &handle, "--code", "123456"],
        &[
            "check",
            "--handle",
            &env.path("missing.json"),
            "--code",
            "123456",
        ],
        &["resolve", "--session", "has space"],
        &["countries", "--country", "Turkey"],
        &["resolve", "--provider", "verigator", "--session", "abc"],
        &["start", "--provider", "acme", "--phone", "+905321234567"],
        &["resolve", "--provider", "twilio", "--session", "abc"],
    ] {
        let refused = env.run(args);
        assert_eq!(refused.code, 64, "{args:?}: {refused:?}");
        assert!(!refused.stderr.trim().is_empty(), "{args:?}");
    }
    // The embedded sandbox lives for one command: check and resolve need another target.
    let acme = env.run_with_env(
        &[("PHONE_VERIFY_PROVIDER", "acme")],
        &["start", "--phone", "+905321234567"],
    );
    assert!(
        acme.expect(64)
            .stderr
            .contains("PHONE_VERIFY_PROVIDER: unknown provider \"acme\""),
    );
    let embedded = run(&["check", "--handle", &handle, "--code", "123456"]).expect(64);
    assert!(embedded.stderr.contains("embedded sandbox"), "{embedded:?}");
    run(&["resolve", "--session", "abc"]).expect(64);
    run(&["--live", "--target", "embedded", "methods"]).expect(64);
    run(&["demo", "--live"]).expect(64);
    run(&["--target", "production", "methods"]).expect(64);
    run(&["--base-url", "https://example.com", "methods"]).expect(64);
    run(&[]).expect(64);
    assert_eq!(env.requests(), 0);

    let help = run(&["--help"]).expect(0);
    for text in [
        "demo",
        "start",
        "check",
        "resolve",
        "methods",
        "countries",
        "verifik",
        "sandbox",
    ] {
        assert!(help.stdout.contains(text), "{text}: {help:?}");
    }
    assert!(help.stdout.contains("Exit codes:") && help.stdout.contains("64  usage"));
}

#[test]
fn embedded_start_shows_what_the_sandbox_received() {
    let start = run(&["start", "--phone", "+905321234567"]).expect(0);
    assert!(
        start.stderr.starts_with("phone-verify: embedded sandbox"),
        "{start:?}"
    );
    assert!(
        start
            .stderr
            .contains("the sandbox received instead of +905321234567: sms"),
        "{start:?}"
    );
    assert!(start.stderr.contains("phone-verify sandbox"), "{start:?}");
    let saved: Value = serde_json::from_str(&start.stdout).unwrap();
    assert_eq!(saved["phone"], "+905321234567");
}

/// A handle started on the embedded sandbox, which stopped with its command: every other
/// command refuses it, and none advises `--target embedded`, which cannot check it either.
#[test]
fn an_embedded_handle_is_refused_without_advising_the_embedded_target() {
    let env = Env::new("embeddedhandle");
    let handle = env.path("handle.json");
    run(&["start", "--phone", "+905321234567", "--out", &handle]).expect(0);
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&handle).unwrap()).unwrap();
    assert_eq!(saved["extras"]["cli_target"], "embedded");
    let config = one_route_config(&env);
    let target = env.target();
    let check = ["check", "--handle", handle.as_str(), "--code", "123456"];
    for options in [
        &["--target", target.as_str()][..],
        &["--live"],
        &["--config", &config],
        &[],
    ] {
        let refused = run(&[options, &check].concat()).expect(64);
        assert!(refused.stderr.contains("embedded sandbox"), "{refused:?}");
        assert!(!refused.stderr.contains("--target embedded"), "{refused:?}");
        if !options.is_empty() {
            assert!(
                refused
                    .stderr
                    .contains("no other command can check it: run `phone-verify sandbox`"),
                "{refused:?}"
            );
        }
    }
    assert_eq!(env.requests(), 0);
}

#[test]
fn the_sandbox_command_serves_other_processes() {
    let mut server = command(&["sandbox", "--listen", "127.0.0.1:0", "--seed", "7"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Keep reading its stdout open: the server prints more lines.
    let mut lines = BufReader::new(server.stdout.take().unwrap());
    let mut first = String::new();
    lines.read_line(&mut first).unwrap();
    let url = first
        .split_whitespace()
        .find(|w| w.starts_with("http://127.0.0.1:"))
        .map_or_else(
            || panic!("no URL in {first:?}"),
            |w| w.trim_end_matches(':').to_owned(),
        );
    assert!(first.contains("no real message is sent"), "{first}");
    // Every provider's URL and credentials follow, Twilio's among them.
    let listing: Vec<String> = (&mut lines)
        .lines()
        .take(6)
        .collect::<Result<_, _>>()
        .unwrap();
    let twilio = listing
        .iter()
        .find(|l| l.trim_start().starts_with("Twilio"))
        .unwrap_or_else(|| panic!("no Twilio line in {listing:?}"));
    assert!(twilio.contains(&format!("{url}/twilio/v2")), "{twilio}");
    assert!(
        twilio.contains("ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa:sandbox-auth-token"),
        "{twilio}"
    );
    assert!(
        twilio.contains("VAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
        "{twilio}"
    );

    let dir = std::env::temp_dir().join(format!("phone-verify-cli-serve-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let handle = dir.join("handle.json").display().to_string();
    let target = format!("sandbox:{url}");
    let start = run(&[
        "--target",
        &target,
        "start",
        "--phone",
        "+905321234567",
        "--out",
        &handle,
    ]);
    let start = start.expect(0);
    assert!(
        start.stderr.contains(&format!("sandbox at {url}")),
        "{start:?}"
    );

    // The code, from the served sandbox's control API.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let message: Value = runtime.block_on(async {
        phone_verify::reqwest::get(format!(
            "{url}/_sandbox/messages/latest?phone=%2B905321234567"
        ))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
    });
    let code = message["code"].as_str().unwrap();
    let check = run(&[
        "--sandbox-url",
        &url,
        "check",
        "--handle",
        &handle,
        "--code",
        code,
    ]);
    assert!(
        check
            .expect(0)
            .stdout
            .starts_with("verified: +905321234567")
    );

    server.kill().unwrap();
    server.wait().unwrap();
    drop(lines);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_sandbox_target_honours_the_providers_http_variables() {
    let env = Env::new("http-vars");
    // Read on a sandbox target too: a malformed value is refused before anything is sent.
    for (provider, variable, phone) in [
        ("verifykit", "VERIFYKIT_MAX_ATTEMPTS", "+905321234567"),
        ("verifik", "VERIFIK_ATTEMPT_TIMEOUT_SECS", "+573001234567"),
        (
            "verigator",
            "VERIGATOR_CONNECT_TIMEOUT_SECS",
            "+37251234567",
        ),
    ] {
        let refused = env
            .run_with_env(
                &[(variable, "soon")],
                &["start", "--provider", provider, "--phone", phone],
            )
            .expect(2);
        assert!(refused.stderr.contains(variable), "{refused:?}");
    }
    assert_eq!(env.requests(), 0);

    // They take effect: one 503 on `init` is retried by default, not with one attempt.
    let init = || {
        env.sandbox.inject_fault(
            Fault::new(
                Provider::VerifyKit,
                FaultAction::Status {
                    status: 503,
                    body: None,
                },
            )
            .path("/v1.0/init"),
        );
    };
    let count = || {
        env.sandbox
            .request_count(Provider::VerifyKit, "GET", "/v1.0/init")
    };
    init();
    env.run(&["methods"]).expect(0);
    assert_eq!(count(), 2, "retried once");
    init();
    let failed = env
        .run_with_env(&[("VERIFYKIT_MAX_ATTEMPTS", "1")], &["methods"])
        .expect(2);
    assert!(failed.stderr.contains("HTTP 503"), "{failed:?}");
    assert_eq!(count(), 3, "not retried with VERIFYKIT_MAX_ATTEMPTS=1");

    // Credentials and URLs of the environment are not the sandbox's: they are not used.
    let started = env
        .run_with_env(
            &[
                ("VERIFYKIT_SERVER_KEY", "live-canary-key"),
                (
                    "VERIFYKIT_WEB_REST_URL",
                    "https://web-rest.verifykit.com/v1.0",
                ),
            ],
            &["start", "--phone", "+905321234567"],
        )
        .expect(0);
    assert!(!started.stderr.contains("canary"), "{started:?}");
    assert_eq!(
        env.sandbox
            .request_count(Provider::VerifyKit, "POST", "/v1.0/send-otp"),
        1
    );
}

#[test]
fn a_check_whose_answer_is_lost_exits_2_and_asks_for_a_new_verification() {
    let env = Env::new("outcome-unknown");
    let handle = env.path("handle.json");
    env.run(&["start", "--phone", "+905321234567", "--out", &handle])
        .expect(0);
    let code = env.code("+905321234567");
    // The provider processes the check at once but answers after the client gave up.
    let slow_check = || {
        env.sandbox.inject_fault(
            Fault::new(Provider::VerifyKit, FaultAction::Delay { ms: 5_000 })
                .method("POST")
                .path("/v1.0/check-otp"),
        );
    };
    let checks = || {
        env.sandbox
            .request_count(Provider::VerifyKit, "POST", "/v1.0/check-otp")
    };
    let timeout = [("VERIFYKIT_ATTEMPT_TIMEOUT_SECS", "1")];

    slow_check();
    let lost = env
        .run_with_env(&timeout, &["check", "--handle", &handle, "--code", &code])
        .expect(2);
    assert!(
        lost.stdout.is_empty(),
        "neither verified nor rejected: {lost:?}"
    );
    assert!(
        lost.stderr.contains("outcome unknown")
            && lost
                .stderr
                .contains("phone-verify: the provider may or may not have accepted the code")
            && lost.stderr.contains("start a new verification"),
        "{lost:?}"
    );
    assert_eq!(checks(), 1, "a check that uses up the code is sent once");

    slow_check();
    let json = env
        .run_with_env(
            &timeout,
            &["check", "--handle", &handle, "--code", &code, "--json"],
        )
        .expect(2)
        .json();
    assert_eq!(json["error"]["kind"], "OutcomeUnknown");
    assert_eq!(json["error"]["retryable"], false);
    assert!(
        json["error"]["hint"]
            .as_str()
            .unwrap()
            .contains("start a new verification"),
        "{json}"
    );
    assert_eq!(checks(), 2);

    // Why: the lost check used the code up, so checking it again is a rejection.
    let again = env
        .run(&["check", "--handle", &handle, "--code", &code])
        .expect(1);
    assert!(
        again
            .stdout
            .starts_with("rejected: no such pending verification"),
        "{again:?}"
    );
}

#[test]
fn a_handle_that_cannot_be_saved_costs_no_code_and_one_that_fails_on_writing_is_not_lost() {
    let env = Env::new("out");
    let nowhere = env.path("no-such-dir/handle.json");
    let refused = env
        .run(&["start", "--phone", "+905321234567", "--out", &nowhere])
        .expect(64);
    assert!(refused.stderr.contains("nothing was sent"), "{refused:?}");
    assert_eq!(
        env.requests(),
        0,
        "no code for a handle that has nowhere to go"
    );

    // A start refused after the file was opened leaves no new file, and an old one as it was.
    let fresh = env.path("fresh.json");
    let args = |out: &str| {
        env.run(&[
            "start",
            "--phone",
            "+905321234567",
            "--channel",
            "voice",
            "--out",
            out,
        ])
    };
    let refused = args(&fresh).expect(64);
    assert!(!std::path::Path::new(&fresh).exists(), "{refused:?}");
    let old = env.path("old.json");
    std::fs::write(&old, "kept").unwrap();
    args(&old).expect(64);
    assert_eq!(std::fs::read_to_string(&old).unwrap(), "kept");
    assert_eq!(env.requests(), 0);

    // A device that is not a regular file takes the handle as a file does.
    if std::path::Path::new("/dev/null").exists() {
        let null = env
            .run(&["start", "--phone", "+905321234567", "--out", "/dev/null"])
            .expect(0);
        assert!(null.stdout.is_empty(), "{null:?}");
        assert_eq!(env.requests(), 1);
    }
    // A file that opens but cannot take the handle (a full disk): the code went out, so the
    // handle is shown, and the command says so.
    if std::path::Path::new("/dev/full").exists() {
        let full = env
            .run(&["start", "--phone", "+905321234567", "--out", "/dev/full"])
            .expect(2);
        assert!(full.stderr.contains("the code was sent"), "{full:?}");
        let shown = full
            .stderr
            .split_once("could not be saved:\n")
            .map(|(_, rest)| rest)
            .unwrap_or_default();
        let end = shown.find("\n}").map_or(0, |at| at + 2);
        let handle: Value = serde_json::from_str(&shown[..end]).expect("the handle, whole");
        assert_eq!(handle["provider"], "verifykit");
        // The write itself failed (no space), not an emptying of the device first.
        assert!(full.stderr.contains("No space left on device"), "{full:?}");
        assert_eq!(env.requests(), 2);
    }
}

#[test]
fn bounded_inputs_pauses_and_json_errors_of_the_command_line() {
    let env = Env::new("bounds");
    // A handle file without end is refused, not read until memory runs out.
    if std::path::Path::new("/dev/zero").exists() {
        let endless = env
            .run(&["check", "--handle", "/dev/zero", "--code", "123456"])
            .expect(64);
        assert!(
            endless.stderr.contains("longer than 1048576 bytes"),
            "{endless:?}"
        );
    }
    let handle = env.path("handle.json");
    env.run(&["start", "--reverse", "--out", &handle]).expect(0);
    let tight = env.run(&[
        "check",
        "--handle",
        &handle,
        "--wait",
        "--interval",
        "1e-10",
    ]);
    assert!(tight.expect(64).stderr.contains("at least 0.1 s"));
    // Checking a code handle without a code is refused before any request: a usage error.
    let otp = env.path("otp.json");
    env.run(&["start", "--phone", "+905321234567", "--out", &otp])
        .expect(0);
    let before = env.requests();
    let no_code = env.run(&["check", "--handle", &otp, "--json"]).expect(64);
    assert_eq!(no_code.json()["error"]["kind"], "InvalidInput");
    assert_eq!(env.requests(), before);
    // `--json` answers a command line clap refuses with one JSON document too.
    let bad = run(&["--json", "start", "--phone", "12"]).expect(64);
    let json = bad.json();
    assert_eq!(json["error"]["kind"], "Usage");
    assert!(
        json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("invalid phone number"),
        "{bad:?}"
    );
}

#[cfg(unix)]
#[test]
fn a_variable_that_is_not_utf8_does_not_stop_the_command() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt as _;

    let env = Env::new("nonutf8");
    let target = env.target();
    let output = command(&["--target", &target, "start", "--phone", "+905321234567"])
        .env(
            OsStr::from_bytes(b"X_NOT_UTF8"),
            OsStr::from_bytes(b"\xff\xfe"),
        )
        .env(OsStr::from_bytes(b"VERIFYKIT_\xff"), "1")
        .output()
        .unwrap();
    let run = Run::from(&output).expect(0);
    assert!(!run.stderr.contains("internal error"), "{run:?}");
}

#[test]
fn with_a_config_the_target_variable_is_not_read() {
    let env = Env::new("configtarget");
    let config = env.path("routes.toml");
    let url = env.sandbox.base_url();
    std::fs::write(
        &config,
        format!(
            "[[routes]]\nname = \"vk\"\nprovider = \"verifykit\"\nsettings = {{ sandbox_url = \"{url}\", fallback_end_user_ip = \"127.0.0.1\" }}\n"
        ),
    )
    .unwrap();
    // A target no parse accepts: were the variable read, the command would be refused.
    let ok = command(&["--config", &config, "start", "--phone", "+905321234567"])
        .env("PHONE_VERIFY_TARGET", "nonsense")
        .output()
        .unwrap();
    let ok = Run::from(&ok).expect(0);
    assert!(!ok.stderr.contains("the sandbox received"), "{ok:?}");
    assert_eq!(env.requests(), 1);
    let service = command(&[
        "--config",
        &config,
        "start",
        "--phone",
        "+905321234567",
        "--service-id",
        "x",
    ])
    .output()
    .unwrap();
    let service = Run::from(&service).expect(64);
    assert!(service.stderr.contains("service_id"), "{service:?}");
    assert_eq!(env.requests(), 1);
}

/// Writes a `--config` file with one VerifyKit route to the sandbox of `env`.
fn one_route_config(env: &Env) -> String {
    let config = env.path("routes.toml");
    let url = env.sandbox.base_url();
    std::fs::write(
        &config,
        format!(
            "[[routes]]\nname = \"vk\"\nprovider = \"verifykit\"\nsettings = {{ sandbox_url = \"{url}\", fallback_end_user_ip = \"127.0.0.1\" }}\n"
        ),
    )
    .unwrap();
    config
}

#[test]
fn a_handle_is_checked_with_a_config_only_when_it_was_started_with_one() {
    let started = Env::new("cfg-started");
    let routed = Env::new("cfg-routed");
    let config = one_route_config(&routed);
    let phone = "+905321234567";

    // Started on a target, checked with --config: refused before any request to its routes.
    let handle = started.path("handle.json");
    started
        .run(&["start", "--phone", phone, "--out", &handle])
        .expect(0);
    let code = started.code(phone);
    let refused = run(&[
        "--config", &config, "check", "--handle", &handle, "--code", &code,
    ])
    .expect(64);
    assert!(
        refused.stderr.contains(&format!(
            "the handle was started on {} without --config",
            started.target()
        )),
        "{refused:?}"
    );
    assert_eq!(routed.requests(), 0);

    // Started with --config, it records that, and checks there, not on a target.
    let routed_handle = routed.path("routed.json");
    run(&[
        "--config",
        &config,
        "start",
        "--phone",
        phone,
        "--out",
        &routed_handle,
    ])
    .expect(0);
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(&routed_handle).unwrap()).unwrap();
    assert_eq!(saved["extras"]["cli_target"], "config");
    let before = (started.requests(), routed.requests());
    let routed_code = routed.code(phone);
    let elsewhere = started
        .run(&["check", "--handle", &routed_handle, "--code", &routed_code])
        .expect(64);
    assert!(
        elsewhere
            .stderr
            .contains("the handle was started with --config"),
        "{elsewhere:?}"
    );
    assert_eq!((started.requests(), routed.requests()), before);
    let verified = run(&[
        "--config",
        &config,
        "check",
        "--handle",
        &routed_handle,
        "--code",
        &routed_code,
    ])
    .expect(0);
    assert!(verified.stdout.starts_with("verified: "), "{verified:?}");
}

#[cfg(unix)]
#[test]
fn a_handle_or_a_token_that_stdout_does_not_take_is_not_lost() {
    use std::fs::File;
    if !std::path::Path::new("/dev/full").exists() {
        return;
    }
    let env = Env::new("fullstdout");
    let target = env.target();
    let full = || File::options().write(true).open("/dev/full").unwrap();
    let phone = "+905321234567";
    // The code went out, so the handle is shown on stderr, whole, and the command fails.
    for json in [&[][..], &["--json"]] {
        let args = [
            &["--target", target.as_str(), "start", "--phone", phone],
            json,
        ]
        .concat();
        let sent = env.requests();
        let output = command(&args).stdout(full()).output().unwrap();
        let lost = Run::from(&output).expect(2);
        assert!(lost.stderr.contains("the code was sent"), "{lost:?}");
        assert!(lost.stderr.contains("No space left on device"), "{lost:?}");
        let shown = lost
            .stderr
            .split_once("could not be written to stdout:\n")
            .map(|(_, rest)| rest)
            .unwrap_or_default();
        let end = shown.find("\n}").map_or(0, |at| at + 2);
        let handle: Value = serde_json::from_str(&shown[..end]).expect("the handle, whole");
        assert_eq!(handle["provider"], "verifykit");
        assert_eq!(handle["extras"]["cli_target"], target.as_str());
        assert_eq!(env.requests(), sent + 1, "one code, not two");
    }

    // With --out, the handle is saved before stdout is written: a stdout that does not take
    // the JSON document is a warning naming the file, and the start succeeded (a wrapper that
    // took exit 2 for a failed start would send a second code).
    let out = env.path("saved.json");
    let args = [
        "--target", &target, "--json", "start", "--phone", phone, "--out", &out,
    ];
    let sent = env.requests();
    let output = command(&args).stdout(full()).output().unwrap();
    let saved = Run::from(&output).expect(0);
    assert!(
        saved
            .stderr
            .contains("phone-verify: warning: cannot write the handle to stdout"),
        "{saved:?}"
    );
    assert!(
        saved
            .stderr
            .contains(&format!("the handle is saved in {out}")),
        "{saved:?}"
    );
    let handle: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(handle["provider"], "verifykit");
    assert_eq!(handle["extras"]["cli_target"], target.as_str());
    assert_eq!(env.requests(), sent + 1, "one code, not two");

    // A login token stdout does not take fails the command, and is not shown on stderr.
    let login = "+50762647737";
    for json in [&[][..], &["--json"]] {
        env.run(&["verifik", "login", "--phone", login, "--send-only"])
            .expect(0);
        let code = env.code(login);
        let args = [
            &[
                "--target",
                target.as_str(),
                "verifik",
                "login",
                "--phone",
                login,
                "--code",
                &code,
            ],
            json,
        ]
        .concat();
        let output = command(&args).stdout(full()).output().unwrap();
        let lost = Run::from(&output).expect(2);
        assert!(
            lost.stderr
                .contains("cannot write the access token to stdout"),
            "{lost:?}"
        );
        assert!(!lost.stderr.contains("eyJ"), "no token on stderr: {lost:?}");
    }
}

/// `PHONE_VERIFY_PROVIDER` is read only where it picks the provider: beside `--provider`, with
/// `--config` (whose routes name their providers), and in commands that build no provider of
/// its choosing, a value the command line does not know (an application's own registry
/// provider, or a misspelling) is none of the command's business.
#[test]
fn the_provider_variable_is_read_only_when_it_picks_the_provider() {
    let env = Env::new("envprovider");
    let phone = "+905321234567";
    for value in ["acme", "Twilio"] {
        let var = [("PHONE_VERIFY_PROVIDER", value)];
        // `--provider` wins.
        let started = env
            .run_with_env(
                &var,
                &["--provider", "verifykit", "start", "--phone", phone],
            )
            .expect(0);
        assert!(started.stderr.contains("(VerifyKit)"), "{started:?}");
        // The handle names its provider.
        let handle = env.path("handle.json");
        env.run(&["start", "--phone", phone, "--out", &handle])
            .expect(0);
        let code = env.code(phone);
        env.run_with_env(&var, &["check", "--handle", &handle, "--code", &code])
            .expect(0);
        // Commands of one provider, or of none.
        env.run_with_env(&var, &["methods"]).expect(0);
        let guard = env.path("guard.toml");
        std::fs::write(
            &guard,
            "store = \"memory\"\n[rules]\nresend_cooldown_secs = 60\n",
        )
        .unwrap();
        let status = command(&["--guard", &guard, "guard", "status", phone])
            .envs(var)
            .env("PHONE_VERIFY_GUARD_SECRET", "cli-test-secret-0123456789")
            .output()
            .unwrap();
        Run::from(&status).expect(0);

        // With `--config`, the routes name the providers.
        let config = one_route_config(&env);
        let before = env.requests();
        let routed = command(&["--config", &config, "start", "--phone", phone])
            .envs(var)
            .output()
            .unwrap();
        Run::from(&routed).expect(0);
        assert_eq!(env.requests(), before + 1);
        let plan = command(&["--config", &config, "routes", phone])
            .envs(var)
            .output()
            .unwrap();
        Run::from(&plan).expect(0);

        // Where the variable is what picks the provider, an unknown one is refused, naming it,
        // before anything is sent.
        let before = env.requests();
        for args in [
            &["start", "--phone", phone][..],
            &["resolve", "--session", "abc"][..],
        ] {
            let refused = env.run_with_env(&var, args).expect(64);
            assert!(
                refused.stderr.contains(&format!(
                    "PHONE_VERIFY_PROVIDER: unknown provider \"{value}\""
                )),
                "{args:?}: {refused:?}"
            );
        }
        assert_eq!(env.requests(), before);
    }
}
