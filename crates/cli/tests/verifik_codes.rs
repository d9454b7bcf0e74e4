//! Verifik codes that start with `0` through the `phone-verify` binary: one process starts the
//! verification against a sandbox this test runs in-process, another checks the code from the
//! saved handle. Verifik's documentation types the code as a number, which would drop the
//! zero; the sandbox compares codes exactly, so only a code sent as the string `"012345"`
//! verifies.

use std::path::PathBuf;
use std::process::Command;

use phone_verify_sandbox::{Provider, Sandbox, SandboxConfig, SandboxHandle};

const BIN: &str = env!("CARGO_BIN_EXE_phone-verify");
/// A Verifik test number of the sandbox, whose code is always `012345`.
const PHONE: &str = "+573001230000";
const CODE: &str = "012345";

/// A sandbox on its own runtime (dropped last) and a scratch directory.
struct Env {
    sandbox: SandboxHandle,
    dir: PathBuf,
    _runtime: tokio::runtime::Runtime,
}

impl Env {
    fn new() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let config = SandboxConfig {
            test_numbers: vec![(PHONE.to_owned(), CODE.to_owned())],
            ..SandboxConfig::default()
        };
        let sandbox = runtime.block_on(Sandbox::start(config)).unwrap();
        let dir = std::env::temp_dir().join(format!(
            "phone-verify-cli-verifik-codes-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self {
            sandbox,
            dir,
            _runtime: runtime,
        }
    }

    /// Runs the binary against the sandbox with Verifik as the provider and a clean
    /// environment; returns the exit code, stdout and stderr.
    fn run(&self, args: &[&str]) -> (i32, String, String) {
        let target = format!("sandbox:{}", self.sandbox.base_url());
        let output = Command::new(BIN)
            .env_clear()
            .env("PHONE_VERIFY_PROVIDER", "verifik")
            .args(["--target", target.as_str()])
            .args(args)
            .output()
            .expect("the binary runs");
        (
            output.status.code().expect("the command exited normally"),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn a_verifik_code_with_a_leading_zero_verifies_across_processes() {
    let env = Env::new();
    let handle = env.dir.join("verifik.json").display().to_string();
    let (code, stdout, stderr) = env.run(&["start", "--phone", PHONE, "--out", &handle]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(env.sandbox.latest_code(PHONE).as_deref(), Some(CODE));

    // The code without its zero is another code: rejected (exit 1), not verified.
    let (code, stdout, stderr) = env.run(&["check", "--handle", &handle, "--code", "12345"]);
    assert_eq!(code, 1, "{stdout}{stderr}");

    let (code, stdout, stderr) = env.run(&["check", "--handle", &handle, "--code", CODE]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.starts_with(&format!("verified: {PHONE} by sms")),
        "{stdout}"
    );
    assert_eq!(
        env.sandbox
            .request_count(Provider::Verifik, "PUT", "/v2/phone-validations"),
        2,
        "one request per check"
    );
}
