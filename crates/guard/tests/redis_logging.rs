//! The Redis store's warning at connect about a Redis that may evict counters. Its own test
//! binary: `tracing` caches callsite interest globally, so a thread-local subscriber is
//! unreliable beside parallel tests.

mod common;

use std::time::Duration;

use common::RedisServer;
use phone_verify_guard::RedisStore;
use phone_verify_testkit::logs::LogCapture;

/// The logs of connecting a store to `server`, at warning level.
async fn connect_logs(server: &RedisServer) -> String {
    let capture = LogCapture::new();
    let _default = capture.set_default(tracing::Level::WARN);
    RedisStore::builder(server.url())
        .connection_timeout(Duration::from_secs(5))
        .response_timeout(Duration::from_secs(5))
        .connect()
        .await
        .expect("connects to the test's redis-server");
    capture.text()
}

/// A Redis with a `maxmemory` whose `maxmemory-policy` may evict keys (here `allkeys-lru`) is
/// warned about at connect, naming the policy; `noeviction` is not, and neither is a policy
/// that may evict without a `maxmemory` (`0`: Redis evicts nothing). (Nothing was said: an
/// evicted counter silently let requests through its limit; then a Redis without a
/// `maxmemory` was warned about too.)
#[tokio::test]
async fn a_redis_that_may_evict_counters_is_warned_about() {
    let server = RedisServer::start();
    for (maxmemory, policy, warns) in [
        ("100mb", "allkeys-lru", true),
        ("100mb", "noeviction", false),
        ("0", "allkeys-lru", false),
    ] {
        server.config_set("maxmemory", maxmemory).await;
        server.config_set("maxmemory-policy", policy).await;
        let logs = connect_logs(&server).await;
        let warned = logs.contains("maxmemory-policy");
        assert_eq!(warned, warns, "{maxmemory} {policy}: {logs}");
        if warned {
            assert!(logs.contains("WARN") && logs.contains(policy), "{logs}");
        }
    }
}
