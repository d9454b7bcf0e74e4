//! `--guard guard.toml` and `guard status`: two CLI processes share the guard's counters
//! through a real `redis-server` started by the test, against a sandbox started in-process.

use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use phone_verify_sandbox::{Sandbox, SandboxConfig};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_phone-verify");

/// A `redis-server` on a free loopback port in a temporary directory, killed when dropped.
struct RedisServer {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl RedisServer {
    fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let child = Command::new("redis-server")
            .args([
                "--bind",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                "--save",
                "",
            ])
            .arg("--dir")
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|err| {
                panic!(
                    "this test needs `redis-server` on PATH ({err}): install it with \
                     `apt-get install redis-server` (Debian/Ubuntu) or `brew install redis` \
                     (macOS); .ci/run installs it in CI"
                )
            });
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not listen");
            std::thread::sleep(Duration::from_millis(20));
        }
        Self {
            child,
            port,
            _dir: dir,
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn two_processes_share_the_guard_and_status_shows_its_counters() {
    let redis = RedisServer::start();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let sandbox = runtime
        .block_on(Sandbox::start(SandboxConfig::default()))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("guard.toml");
    std::fs::write(
        &config,
        "store = \"redis\"\n[rules]\nresend_cooldown_secs = 60\n# Generous: CI runs this beside other tests on two cores.\nstore_timeout_ms = 5000\n",
    )
    .unwrap();
    let target = format!("sandbox:{}", sandbox.base_url());
    let redis_url = format!("redis://127.0.0.1:{}/0", redis.port);
    let run = |args: &[&str]| {
        let output = Command::new(BIN)
            .env_clear()
            .env("PHONE_VERIFY_GUARD_SECRET", "cli-test-secret-0123456789")
            .env("PHONE_VERIFY_GUARD_REDIS_URL", &redis_url)
            .args(["--target", &target, "--guard", config.to_str().unwrap()])
            .args(args)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        (output.status.code(), stdout, stderr)
    };
    let phone = "+905321239901";
    let (code, _, stderr) = run(&["start", "--phone", phone]);
    assert_eq!(code, Some(0), "{stderr}");
    let (code, _, stderr) = run(&["start", "--phone", phone]);
    assert_ne!(code, Some(0), "the second process is refused: {stderr}");
    assert!(stderr.contains("resend_cooldown"), "{stderr}");
    assert_eq!(
        sandbox.requests().requests.len(),
        1,
        "the refused send reached nobody"
    );

    let (code, stdout, stderr) = run(&["--json", "guard", "status", phone]);
    assert_eq!(code, Some(0), "{stderr}");
    let status: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(status["subject"], "+90********01");
    let counters = status["counters"].as_array().unwrap();
    let per_phone = counters.iter().find(|c| c["rule"] == "per_phone").unwrap();
    assert_eq!(per_phone["count"], 1);
    assert!(
        !stdout.contains("5321239901"),
        "no phone number in the output"
    );

    assert_eq!(
        sandbox.requests().requests.len(),
        1,
        "reading the counters built no provider and sent nothing"
    );

    let (code, _, stderr) = run(&["guard", "status", "not a phone"]);
    assert_eq!(code, Some(64), "a usage error: {stderr}");
}

#[test]
fn status_of_a_memory_store_warns_that_its_counters_live_in_one_process() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("guard.toml");
    std::fs::write(&config, "[rules]\nresend_cooldown_secs = 60\n").unwrap();
    let output = Command::new(BIN)
        .env_clear()
        .env("PHONE_VERIFY_GUARD_SECRET", "cli-test-secret-0123456789")
        .args(["--guard", config.to_str().unwrap()])
        .args(["guard", "status", "+905321239901"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("warning: a memory store's counters"),
        "{stderr}"
    );
    assert!(stderr.contains("store = \"redis\""), "{stderr}");
    // No provider was built: no credential was asked for, though none is set.
    assert!(String::from_utf8_lossy(&output.stdout).contains("per_phone"));
}
