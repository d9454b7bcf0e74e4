//! `--config phone-verify.toml`: a router of several providers, through the binary. Turkish
//! numbers go to VerifyKit, Colombian ones to Verifik, the rest to Verigator; `check` in
//! another process goes back to the route that sent the code.

use std::process::Command;

use phone_verify::providers::verigator::VerigatorBuilder;
use phone_verify_sandbox::{Provider, Sandbox, SandboxConfig, SandboxHandle};

const BIN: &str = env!("CARGO_BIN_EXE_phone-verify");

struct Setup {
    sandbox: SandboxHandle,
    dir: std::path::PathBuf,
    _runtime: tokio::runtime::Runtime,
}

impl Setup {
    fn new(name: &str) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let sandbox = runtime
            .block_on(Sandbox::start(SandboxConfig::default()))
            .unwrap();
        let url = sandbox.base_url();
        let service = runtime
            .block_on(async {
                VerigatorBuilder::sandbox(&url)
                    .build_client()?
                    .create_service("cli-router.phone-verify.localhost", "CLI router test")
                    .await
            })
            .unwrap();
        let dir = std::env::temp_dir().join(format!(
            "phone-verify-cli-router-{name}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
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
            settings = {{ sandbox_url = "{url}", service_id = "{}" }}

            [[rules]]
            regions = ["TR"]
            routes = ["turkey"]

            [[rules]]
            regions = ["CO"]
            routes = ["colombia"]

            [[rules]]
            routes = ["rest"]
            "#,
            service.id
        );
        std::fs::write(dir.join("phone-verify.toml"), toml).unwrap();
        Self {
            sandbox,
            dir,
            _runtime: runtime,
        }
    }

    fn path(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }

    /// The binary with a clean environment and `--config`.
    fn run(&self, args: &[&str]) -> (i32, String, String) {
        let config = self.path("phone-verify.toml");
        let output = Command::new(BIN)
            .env_clear()
            .args([&["--config", config.as_str()], args].concat())
            .output()
            .unwrap();
        (
            output.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }
}

impl Drop for Setup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn routes_by_region_from_a_toml_file() {
    let setup = Setup::new("regions");
    for (phone, route, provider) in [
        ("+905321234567", "turkey", Provider::VerifyKit),
        ("+573001234567", "colombia", Provider::Verifik),
        ("+50762647737", "rest", Provider::Verigator),
    ] {
        let handle = setup.path(&format!("{route}.json"));
        let (code, _, stderr) = setup.run(&["start", "--phone", phone, "--out", &handle]);
        assert_eq!(code, 0, "{stderr}");
        assert!(
            stderr.contains("--config"),
            "the next command keeps --config: {stderr}"
        );
        assert!(
            stderr.contains("phone-verify: router from "),
            "the router is named: {stderr}"
        );
        let written: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&handle).unwrap()).unwrap();
        assert_eq!(written["extras"]["route"], route);
        let sent = setup.sandbox.messages(phone);
        assert_eq!(sent.len(), 1, "{phone}");
        assert_eq!(sent[0].provider, provider, "{phone}");
        // The check, in another process, goes to the same route.
        let otp = sent[0].code.clone().unwrap();
        let (code, stdout, stderr) = setup.run(&["check", "--handle", &handle, "--code", &otp]);
        assert_eq!(code, 0, "{stdout}{stderr}");
    }
    let checks = |p: Provider| {
        setup
            .sandbox
            .requests_of(p)
            .requests
            .iter()
            .filter(|r| r.method == "PUT" || r.path.contains("check"))
            .count()
    };
    assert_eq!(checks(Provider::VerifyKit), 1);
    assert_eq!(checks(Provider::Verifik), 1);
    assert_eq!(checks(Provider::Verigator), 1);

    // With --json, stderr carries no chatter about the router.
    let handle = setup.path("json.json");
    let (code, stdout, stderr) = setup.run(&[
        "--json",
        "start",
        "--phone",
        "+905321234568",
        "--out",
        &handle,
    ]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(!stderr.contains("router from"), "{stderr}");
}

#[test]
fn config_refuses_other_targets_and_bad_files() {
    let setup = Setup::new("refusals");
    let (code, _, stderr) = setup.run(&["--live", "start", "--phone", "+905321234567"]);
    assert_eq!(code, 64, "{stderr}");
    std::fs::write(
        setup.path("phone-verify.toml"),
        "[[routes]]\nname = \"x\"\n",
    )
    .unwrap();
    let (code, _, stderr) = setup.run(&["start", "--phone", "+905321234567"]);
    assert_eq!(code, 64, "{stderr}");
    assert!(stderr.contains("phone-verify.toml"), "{stderr}");
    assert!(setup.sandbox.all_messages().is_empty());
}

/// A `[guard]` table in the `--config` file guards the router (the secret from the
/// environment); `--guard` beside it is a usage error.
#[test]
fn a_guard_table_in_the_config_guards_the_router() {
    let setup = Setup::new("guard-table");
    let config = setup.path("phone-verify.toml");
    let mut toml = std::fs::read_to_string(&config).unwrap();
    toml.push_str("\n[guard]\n[guard.rules]\ndeny_regions = [\"PA\"]\n");
    std::fs::write(&config, toml).unwrap();
    let run = |args: &[&str]| {
        let output = Command::new(BIN)
            .env_clear()
            .env("PHONE_VERIFY_GUARD_SECRET", "cli-test-secret-0123456789")
            .args([&["--config", config.as_str()], args].concat())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        (output.status.code().unwrap_or(-1), stderr)
    };
    let (code, stderr) = run(&["start", "--phone", "+50762647737"]);
    assert_ne!(code, 0, "{stderr}");
    assert!(stderr.contains("guard rule region"), "{stderr}");
    assert!(setup.sandbox.messages("+50762647737").is_empty());
    let (code, stderr) = run(&["start", "--phone", "+905321234567"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(setup.sandbox.messages("+905321234567").len(), 1);
    let guard = setup.path("guard.toml");
    std::fs::write(&guard, "[rules]\n").unwrap();
    let (code, stderr) = run(&["--guard", &guard, "start", "--phone", "+905321234568"]);
    assert_eq!(code, 64, "{stderr}");
    assert!(stderr.contains("[guard]"), "{stderr}");
    assert!(setup.sandbox.messages("+905321234568").is_empty());
}
