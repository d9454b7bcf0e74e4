//! A real `redis-server` for tests: on a free loopback port, in a temporary directory, stopped
//! when dropped.

use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `redis-server` owned by one test.
pub(crate) struct RedisServer {
    child: Option<Child>,
    port: u16,
    /// Whether it serves TLS only.
    tls: bool,
    _dir: tempfile::TempDir,
}

impl RedisServer {
    /// Starts `redis-server`; fails the test, saying how to install it, when it is missing.
    #[allow(dead_code, reason = "the TLS tests start TLS servers only")]
    pub(crate) fn start() -> Self {
        Self::spawn(|_, port| vec!["--port".into(), port.to_string()], false)
    }

    /// Starts `redis-server` serving TLS only (`rediss://`), with the certificate chain and
    /// key `cert`, `key` (PEM); it asks clients for a certificate issued by `ca` (PEM) when
    /// `client_ca` is set; `extra` are more arguments (`--tls-protocols TLSv1.2`). Fails the
    /// test as [`start`](Self::start) does, and says so when the server was built without
    /// TLS.
    #[allow(dead_code, reason = "only the TLS tests serve TLS")]
    pub(crate) fn start_tls(
        cert: &str,
        key: &str,
        ca: &str,
        client_ca: bool,
        extra: &[&str],
    ) -> Self {
        let (cert, key, ca) = (cert.to_owned(), key.to_owned(), ca.to_owned());
        let extra: Vec<String> = extra.iter().map(|&arg| arg.to_owned()).collect();
        Self::spawn(
            move |dir, port| {
                let file = |name: &str, pem: &str| {
                    let path = dir.join(name);
                    std::fs::write(&path, pem).expect("a PEM file for redis-server");
                    path.display().to_string()
                };
                vec![
                    "--port".into(),
                    "0".into(),
                    "--tls-port".into(),
                    port.to_string(),
                    "--tls-cert-file".into(),
                    file("server.pem", &cert),
                    "--tls-key-file".into(),
                    file("server.key", &key),
                    "--tls-ca-cert-file".into(),
                    file("ca.pem", &ca),
                    "--tls-auth-clients".into(),
                    if client_ca { "yes" } else { "no" }.into(),
                ]
                .into_iter()
                .chain(extra)
                .collect()
            },
            true,
        )
    }

    /// Starts `redis-server` on a free loopback port with the arguments `args` gives for its
    /// directory and that port, and waits until it listens.
    fn spawn(args: impl FnOnce(&std::path::Path, u16) -> Vec<String>, tls: bool) -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .args(args(dir.path(), port))
            .arg("--dir")
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|err| {
                panic!(
                    "this test needs `redis-server` 7.0 or later on PATH ({err}): install it \
                     with `apt-get install redis-server` (Debian 12, Ubuntu 24.04; Ubuntu \
                     22.04's is 6.0: use the packages.redis.io repository) or `brew install \
                     redis` (macOS); .ci/run installs it in CI"
                )
            });
        let mut server = Self {
            child: Some(child),
            port,
            tls,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err() {
            if let Some(Ok(Some(status))) = server.child.as_mut().map(Child::try_wait) {
                panic!(
                    "redis-server exited ({status}) before listening on {port}{}",
                    if tls {
                        ": a TLS test needs a redis-server built with TLS (Debian's and \
                         Homebrew's are)"
                    } else {
                        ""
                    }
                );
            }
            assert!(
                Instant::now() < deadline,
                "redis-server did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }

    /// The server's URL.
    pub(crate) fn url(&self) -> String {
        let scheme = if self.tls { "rediss" } else { "redis" };
        format!("{scheme}://127.0.0.1:{}/0", self.port)
    }

    /// `CONFIG SET parameter value` on the server.
    #[cfg(feature = "redis")]
    #[allow(
        dead_code,
        reason = "not every test binary sets the server's configuration"
    )]
    pub(crate) async fn config_set(&self, parameter: &str, value: &str) {
        let client = redis::Client::open(self.url()).unwrap();
        let mut conn = client.get_multiplexed_async_connection().await.unwrap();
        let () = redis::cmd("CONFIG")
            .arg("SET")
            .arg(parameter)
            .arg(value)
            .query_async(&mut conn)
            .await
            .unwrap();
    }

    /// Kills the server, as a crash would.
    pub(crate) fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}
