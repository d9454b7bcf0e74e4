//! `routes PHONE --config FILE`: the routes a start would try, in order, and why the others
//! would not, from the router of the file; nothing reaches the providers.

use std::process::Command;

use phone_verify_sandbox::{Sandbox, SandboxConfig, SandboxHandle};

const BIN: &str = env!("CARGO_BIN_EXE_phone-verify");

/// A sandbox (to prove that nothing is sent to it) and a configuration of three routes on it.
struct Setup {
    sandbox: SandboxHandle,
    config: tempfile::NamedTempFile,
    _runtime: tokio::runtime::Runtime,
}

impl Setup {
    fn new() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let sandbox = runtime
            .block_on(Sandbox::start(SandboxConfig::default()))
            .unwrap();
        let url = sandbox.base_url();
        let toml = format!(
            r#"
            [[routes]]
            name = "turkey"
            provider = "verifykit"
            settings = {{ sandbox_url = "{url}", fallback_end_user_ip = "127.0.0.1" }}

            [[routes]]
            name = "colombia"
            provider = "verifik"
            settings = {{ sandbox_url = "{url}" }}

            [[routes]]
            name = "rest"
            provider = "verigator"
            settings = {{ sandbox_url = "{url}", service_id = "any-service" }}

            [[rules]]
            regions = ["TR"]
            routes = ["turkey", "rest"]

            [[rules]]
            regions = ["CO"]
            channels = ["whatsapp"]
            routes = ["rest", "colombia"]
            strategy = "round_robin"

            [[rules]]
            routes = ["rest"]
            "#
        );
        let config = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(config.path(), toml).unwrap();
        Self {
            sandbox,
            config,
            _runtime: runtime,
        }
    }

    /// The binary with a clean environment and `--config`: exit code, stdout, stderr.
    fn run(&self, args: &[&str]) -> (i32, String, String) {
        let output = Command::new(BIN)
            .env_clear()
            .arg("--config")
            .arg(self.config.path())
            .args(args)
            .output()
            .unwrap();
        (
            output.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }
}

#[test]
fn routes_lists_the_candidates_in_order_and_why_the_others_are_left_out() {
    let setup = Setup::new();

    let (code, out, err) = setup.run(&["routes", "+90 532 123 45 67"]);
    assert_eq!(code, 0, "{out}{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        format!(
            "routes for +90********67 by sms, from {}",
            setup.config.path().display()
        )
    );
    assert_eq!(
        lines[1],
        "rule 1 matched (regions TR; failover): turkey, rest"
    );
    assert_eq!(
        lines[2].split_whitespace().collect::<Vec<_>>(),
        ["1.", "turkey", "verifykit", "candidate"]
    );
    assert_eq!(
        lines[3].split_whitespace().collect::<Vec<_>>(),
        ["2.", "rest", "verigator", "candidate"]
    );
    assert!(
        lines[4].starts_with("  -")
            && lines[4].ends_with("colombia  verifik     not in the matching rule"),
        "{out}"
    );
    assert!(!out.contains("532123"), "the phone is masked: {out}");

    // WhatsApp to Colombia: Verigator cannot take it, so Verifik is the only candidate.
    let (code, out, err) = setup.run(&["routes", "+573001234567", "--channel", "whatsapp"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("rule 2 matched (regions CO, channels whatsapp; round_robin): rest, colombia"),
        "{out}"
    );
    assert!(
        out.contains("rest      verigator   filtered out: channel whatsapp"),
        "{out}"
    );
    let candidates: Vec<&str> = out.lines().filter(|l| l.contains("candidate")).collect();
    assert_eq!(candidates.len(), 1, "{out}");
    assert!(
        candidates[0].contains("1.") && candidates[0].contains("colombia"),
        "{out}"
    );

    // As JSON: the fallback rule, every route with its status.
    let (code, out, err) = setup.run(&["--json", "routes", "+3725123456", "--channel", "totp"]);
    assert_eq!(code, 0, "{out}{err}");
    let doc: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(doc["rule"], 3);
    assert_eq!(doc["matches"], "any start");
    assert_eq!(doc["channel"], "totp");
    let statuses: Vec<(&str, &str)> = doc["routes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["route"].as_str().unwrap(), r["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        statuses,
        [
            ("rest", "candidate"),
            ("turkey", "not_in_rule"),
            ("colombia", "not_in_rule")
        ]
    );

    // No route of the matching rule can take WhatsApp to Panama: exit 2, saying so.
    let (code, out, err) = setup.run(&["routes", "+50762647737", "--channel", "whatsapp"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(out.contains("rest      verigator   filtered out"), "{out}");
    assert!(err.contains("no route would take this start"), "{err}");

    // Planning sends nothing.
    let log = setup.sandbox.requests();
    assert!(log.requests.is_empty() && log.counts.is_empty(), "{log:?}");
}

#[test]
fn routes_needs_a_configuration_and_a_channel_some_route_has() {
    let output = Command::new(BIN)
        .env_clear()
        .args(["routes", "+905321234567"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(64));
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .contains("routes needs the router's configuration: --config")
    );

    let setup = Setup::new();
    let (code, out, err) = setup.run(&["routes", "+905321234567", "--channel", "voice"]);
    assert_ne!(code, 0, "{out}{err}");
    assert!(err.contains("voice"), "{err}");
    let (code, _, err) = setup.run(&["routes", "not-a-phone"]);
    assert_eq!(code, 64, "{err}");
}
