//! [`RedisStore`]: counters shared by every instance of an application, in Redis.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::io::tcp::{TcpSettings, socket2::TcpKeepalive};
use redis::{FromRedisValue, IntoConnectionInfo, ProtocolVersion, RedisError, Script};
use secrecy::{ExposeSecret, SecretString};

use super::{
    Algorithm, Counter, CounterState, Decision, GuardStore, HitId, Reservation, StoreError,
};

#[cfg(feature = "redis-tls")]
mod tls;

/// Redis's clock, `TIME`, in milliseconds with the microseconds as a fraction: `now`. Every
/// script starts with it.
const NOW: &str = r"
if redis.replicate_commands then redis.replicate_commands() end
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + tonumber(clock[2]) / 1000
";

/// Checks every counter, then counts all or none: one round trip, atomic in Redis.
/// KEYS: this hit's marker, then the counters. ARGV: the marker's time to live in
/// milliseconds, then per counter its window in milliseconds, its max, its cost, its algorithm
/// (`0` fixed window: the value is a count expiring with the window; `1` GCRA: the value is
/// the theoretical arrival time in milliseconds of Redis's clock, with a fraction, expiring
/// when it is reached) and GCRA's interval in milliseconds. Returns `{0, 0, end, …}` when
/// allowed, with per counter when what it added stops counting: the end of its window in
/// milliseconds (`PEXPIRETIME`), or the theoretical arrival time it left in whole
/// microseconds (rounded up: a release of the last event leaves none pending), `-1` for a
/// counter without a cost; it also keeps them in the marker when it counted anything.
/// `{index (1-based), ms until the request would fit}` when denied, for the refusing counter that waits longest (the first of equals). A count's expiry
/// is set when its key is made (or found without one), never moved while it counts
/// (`RELEASE` deletes a count taken back to zero). The marker is written last: a script that
/// fails leaves none.
const HIT: &str = r"
local n = #KEYS - 1
local next_tat = {}
local existed = {}
local refused, longest = 0, 0
for i = 1, n do
  local key, arg = KEYS[i + 1], 5 * i - 3
  local window = tonumber(ARGV[arg])
  local max = tonumber(ARGV[arg + 1])
  local cost = tonumber(ARGV[arg + 2])
  local interval = tonumber(ARGV[arg + 4])
  local wait = nil
  if ARGV[arg + 3] == '1' then
    if max == 0 then
      wait = window
    else
      local tat = tonumber(redis.call('GET', key) or '0') or 0
      if tat < now then tat = now end
      local after = tat + math.max(cost, 1) * interval
      if after > now + window then
        wait = math.ceil(after - now - window)
      else
        next_tat[i] = tat + cost * interval
      end
    end
  else
    local value = redis.call('GET', key)
    existed[i] = value ~= false
    local count = tonumber(value or '0') or 0
    if count + math.max(cost, 1) > max then
      wait = redis.call('PTTL', key)
      if wait < 0 then wait = window end
    end
  end
  if wait ~= nil and (refused == 0 or wait > longest) then
    refused, longest = i, wait
  end
end
if refused > 0 then return {refused, longest} end
local ends = {}
local counted = false
for i = 1, n do
  local key, arg = KEYS[i + 1], 5 * i - 3
  local cost = tonumber(ARGV[arg + 2])
  ends[i] = -1
  if cost > 0 then
    counted = true
    if ARGV[arg + 3] == '1' then
      local tat = next_tat[i]
      redis.call('SET', key, string.format('%.17g', tat), 'PX', math.max(math.ceil(tat - now), 1))
      ends[i] = math.ceil(tat * 1000)
    else
      redis.call('INCRBY', key, cost)
      if not existed[i] or redis.call('PTTL', key) < 0 then
        redis.call('PEXPIRE', key, ARGV[arg])
      end
      ends[i] = redis.call('PEXPIRETIME', key)
    end
  end
end
if counted then
  local marker = {}
  for i = 1, n do marker[i] = string.format('%.17g', ends[i]) end
  redis.call('SET', KEYS[1], table.concat(marker, ' '), 'PX', ARGV[1])
end
return {0, 0, unpack(ends)}
";

/// `take_back(key, cost, algorithm, interval, ends)`, for `RELEASE` and `ABANDON`, with `ends`
/// what `HIT` answered for the counter (`-1`: it counted nothing there): a count goes down by
/// the cost (`DECRBY` keeps its expiry) if its window ends at `ends` in milliseconds (a later
/// window holds other events), and the key is deleted when that takes it to zero; a
/// theoretical arrival time goes back by the part of the hit's spacing still ahead,
/// min(cost × interval, `ends` in microseconds − now), and the key is deleted when none is
/// pending. An absent key stays absent.
const TAKE_BACK: &str = r"
local function take_back(key, cost, algorithm, interval, ends)
  if ends < 0 then return end
  local value = tonumber(redis.call('GET', key) or '0') or 0
  if algorithm == '1' then
    local back = math.min(cost * interval, math.max(ends / 1000 - now, 0))
    if value > now and back > 0 then
      local tat = value - back
      if tat > now then
        redis.call('SET', key, string.format('%.17g', tat), 'PX', math.max(math.ceil(tat - now), 1))
      else
        redis.call('DEL', key)
      end
    end
  elseif value > 0 and redis.call('PEXPIRETIME', key) == ends then
    if cost >= value then
      redis.call('DEL', key)
    else
      redis.call('DECRBY', key, cost)
    end
  end
end
";

/// Takes back what `HIT` added. KEYS: the counters. ARGV: per counter, its cost, its
/// algorithm, GCRA's interval in milliseconds and what `HIT` answered for it (`-1`: nothing).
const RELEASE: &str = r"
for i = 1, #KEYS do
  take_back(KEYS[i], tonumber(ARGV[4 * i - 3]), ARGV[4 * i - 2], tonumber(ARGV[4 * i - 1]),
    tonumber(ARGV[4 * i]))
end
return 0
";

/// Takes back what a `HIT` whose answer was not waited for added, if it ran, as `RELEASE`
/// would: its marker holds what `HIT` answered, and is deleted, so this happens once. Sent on
/// the connection of the hit, it runs after it. KEYS: the hit's marker, then the counters.
/// ARGV: per counter, its cost, its algorithm and GCRA's interval in milliseconds. Returns 1
/// if the hit had counted, else 0.
const ABANDON: &str = r"
local marker = redis.call('GET', KEYS[1])
if not marker then return 0 end
redis.call('DEL', KEYS[1])
local i = 0
for ends in string.gmatch(marker, '%S+') do
  i = i + 1
  if i >= #KEYS then break end
  take_back(KEYS[i + 1], tonumber(ARGV[3 * i - 2]), ARGV[3 * i - 1], tonumber(ARGV[3 * i]),
    tonumber(ends))
end
return 1
";

/// Reads counters: per key, its count and its time to live in milliseconds (-2 when absent).
/// ARGV: per counter, its algorithm and GCRA's interval in milliseconds; a GCRA counter's
/// count is the events its pending time stands for, rounded up.
const PEEK: &str = r"
local out = {}
for i = 1, #KEYS do
  local value = tonumber(redis.call('GET', KEYS[i]) or '0') or 0
  if ARGV[2 * i - 1] == '1' then
    local interval = tonumber(ARGV[2 * i])
    value = math.max(math.ceil((value - now) / interval), 0)
  end
  out[2 * i - 1] = value
  out[2 * i] = redis.call('PTTL', KEYS[i])
end
return out
";

/// The Redis store: every guard connected to the same Redis with the same prefix and secret
/// enforces the same limits.
///
/// Each decision is one `EVALSHA` of a Lua script, so it is atomic and costs one round trip.
/// Keys are `{prefix}:rule:hmac`. It connects to one Redis server, version 7.0 or later;
/// Redis Cluster is not supported (a node that does not own the keys' slot would answer
/// `MOVED`). Built on redis-rs's [`ConnectionManager`], over RESP3 and with TCP keepalive: a
/// connection the server closes (its `timeout`, a restart) is replaced as soon as it closes,
/// even while idle, and keepalive probes keep an idle connection's NAT entries alive and find a
/// peer that is gone. A URL that names its protocol keeps it: over RESP2 (`?protocol=resp2`,
/// for a proxy without `HELLO`) a closed connection is found only when a call fails on it, and
/// with fail closed that decision is refused. A connection that reaches a
/// read-only replica (`READONLY`: a demoted primary), or that stops answering (a call times out
/// or is given up, and a `PING` on it then times out too: a server or a network path gone
/// without closing it), is replaced by a new one in the background, at most once a second. Its
/// connection and response timeouts bound every call (and the guard bounds it again with its
/// own store timeout). A lost connection is replaced at once, the attempt retried twice in the
/// background; a call is not retried: redis-rs reports a connection lost before and
/// after it sent the call alike, and Redis may have run it.
///
/// An allowed hit also leaves a marker, `{prefix}:hit:` and the [`HitId`], with what it
/// counted: [`GuardStore::abandon`], sent on the same connection and so run after the hit,
/// takes the hit back if it finds the marker (after a connection was replaced, the abandon is
/// sent on the replaced one too, for a marker's life, and the replaced one is closed after
/// that). A marker lives ten response timeouts, at least 5 s and at most an hour: the guard
/// sends the abandon as soon as it gives up on the hit, at most one
/// response timeout after it (redis-rs gives up then, if the guard's own timeout did not pass
/// first); or, when the request went ahead (fail open), once the provider answered, and a
/// provider slower than the marker's life leaves the hit counted.
#[derive(Clone)]
pub struct RedisStore {
    link: Arc<Link>,
    prefix: String,
    marker_ttl: Duration,
    hit: Script,
    release: Script,
    abandon: Script,
    peek: Script,
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// Builds a [`RedisStore`]. Its URL may hold a password: `Debug` does not show it.
#[derive(Debug, Clone)]
pub struct RedisStoreBuilder {
    url: SecretString,
    prefix: String,
    connection_timeout: Duration,
    response_timeout: Duration,
    #[cfg(feature = "redis-tls")]
    tls: tls::Tls,
}

impl RedisStoreBuilder {
    /// The key prefix (default `phone-verify-guard`); it becomes the keys' hash tag.
    #[must_use]
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// How long a connection attempt may take (default 1 s).
    #[must_use]
    pub fn connection_timeout(mut self, timeout: Duration) -> Self {
        self.connection_timeout = timeout;
        self
    }

    /// How long a command may take (default 200 ms).
    #[must_use]
    pub fn response_timeout(mut self, timeout: Duration) -> Self {
        self.response_timeout = timeout;
        self
    }

    /// The CA certificates (PEM, one or more) that a `rediss://` server's certificate must
    /// chain to, in place of the system's root certificates: a managed Redis's own CA, or a
    /// private one. Feature `redis-tls`. (redis-rs still loads the system's certificates at
    /// each connection, from `SSL_CERT_FILE`, `SSL_CERT_DIR` or the usual paths, and fails it
    /// if they cannot be read, as without this.)
    #[cfg(feature = "redis-tls")]
    #[must_use]
    pub fn tls_root_certificates(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.tls.roots = Some(pem.into());
        self
    }

    /// A client certificate chain and its private key (PEM), shown to a `rediss://` server
    /// that asks for one (mutual TLS: Redis's `tls-auth-clients`). The key is kept in a
    /// [`SecretSlice`](secrecy::SecretSlice). Both are checked by [`connect`](Self::connect),
    /// and used as given for the store's life, reconnections included: a store outliving its
    /// short-lived certificate is built again with the new one. Feature `redis-tls`.
    #[cfg(feature = "redis-tls")]
    #[must_use]
    pub fn tls_client_certificate(
        mut self,
        chain_pem: impl Into<Vec<u8>>,
        key_pem: secrecy::SecretSlice<u8>,
    ) -> Self {
        self.tls.client = Some((chain_pem.into(), key_pem));
        self
    }

    /// Connects, checks that the server has `PEXPIRETIME` (Redis 7.0), warns (`tracing`)
    /// when Redis has a `maxmemory` and its `maxmemory-policy` is not `noeviction`, and loads
    /// the scripts so that decisions take one round trip. A prefix that is empty or holds a
    /// brace, a URL redis-rs cannot use, or a server that answers `HELLO` as an unknown
    /// command (no RESP3: before Redis 6, some proxies) while the URL names no protocol is
    /// [`StoreError::Config`]; credentials Redis refuses are [`StoreError::Auth`]. Over TLS
    /// (`rediss://`, feature `redis-tls`), a server certificate the store refuses is
    /// [`StoreError::Config`], a client certificate the server refuses [`StoreError::Auth`];
    /// without the feature, a `rediss://` URL is [`StoreError::Config`]. A `rediss://` URL
    /// installs rustls's *ring* provider as the process's default when the application has
    /// installed none: an application choosing another provider installs it before.
    pub async fn connect(self) -> Result<RedisStore, StoreError> {
        if self.prefix.is_empty() || self.prefix.contains(['{', '}']) {
            return Err(StoreError::Config(
                "the Redis key prefix must be non-empty and without braces".into(),
            ));
        }
        let url = self.url.expose_secret();
        #[cfg(not(feature = "redis-tls"))]
        refuse_tls(url)?;
        let mut info = url.into_connection_info().map_err(|e| connect_failed(&e))?;
        // RESP3 unless the URL names a protocol: the connection manager hears of a closed
        // connection at once, not when a call fails on it.
        if !names_protocol(url) {
            info.redis.protocol = ProtocolVersion::RESP3;
        }
        #[cfg(feature = "redis-tls")]
        let client = self.tls.client(info)?;
        #[cfg(not(feature = "redis-tls"))]
        let client = redis::Client::open(info).map_err(|e| connect_failed(&e))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(self.connection_timeout)
            .set_response_timeout(self.response_timeout)
            // A lost connection is replaced at once, and the attempt retried twice in the
            // background (after a second or more: a restart), so the next decision finds it.
            .set_number_of_retries(2)
            .set_tcp_settings(tcp_settings());
        let marker_ttl = super::marker_ttl(self.response_timeout);
        let bound = self
            .connection_timeout
            .saturating_add(self.response_timeout);
        // The set-up runs on a connection of its own, tried once: a refused password or
        // certificate is told at once, not after the manager's backoff, which the bound would
        // cut short into a timeout.
        let mut connection = set_up_connection(&client, &self, bound).await?;
        // `PEXPIRETIME` tells a window from the next one: a server without it is refused here,
        // not at every release.
        let _: i64 = redis::cmd("PEXPIRETIME")
            .arg(format!("{{{}}}:version", self.prefix))
            .query_async(&mut connection)
            .await
            .map_err(|e| too_old(&e))?;
        warn_if_evicting(&mut connection).await;
        let hit = Script::new(&format!("{NOW}{HIT}"));
        let release = Script::new(&format!("{NOW}{TAKE_BACK}{RELEASE}"));
        let abandon = Script::new(&format!("{NOW}{TAKE_BACK}{ABANDON}"));
        let peek = Script::new(&format!("{NOW}{PEEK}"));
        for script in [&hit, &release, &abandon, &peek] {
            script
                .load_async(&mut connection)
                .await
                .map_err(|e| connect_failed(&e))?;
        }
        // Closed by the server before its answer: gone before the store's first call.
        let _: Result<(), RedisError> = redis::cmd("QUIT").query_async(&mut connection).await;
        drop(connection);
        let current = open(&client, &config, bound).await?;
        let link = Link {
            client,
            config,
            bound,
            marker_ttl,
            managers: RwLock::new(Managers {
                current,
                generation: 0,
                previous: None,
            }),
            busy: AtomicBool::new(false),
        };
        Ok(RedisStore {
            link: Arc::new(link),
            prefix: self.prefix,
            marker_ttl,
            hit,
            release,
            abandon,
            peek,
        })
    }
}

/// Refuses a `rediss://` URL with [`StoreError::Config`] naming the feature that connects
/// over TLS. Never shows the URL.
#[cfg(not(feature = "redis-tls"))]
fn refuse_tls(url: &str) -> Result<(), StoreError> {
    if redis::parse_redis_url(url).is_some_and(|url| matches!(url.scheme(), "rediss" | "valkeys")) {
        return Err(StoreError::Config(
            "redis: a `rediss://` URL (TLS) needs the `redis-tls` feature of \
             phone-verify-guard (`guard-redis-tls` of phone-verify)"
                .into(),
        ));
    }
    Ok(())
}

/// Whether `url` names its protocol (`?protocol=resp2`, `resp3`, `2` or `3`), which the store
/// then speaks. Never shows the URL.
fn names_protocol(url: &str) -> bool {
    redis::parse_redis_url(url)
        .is_some_and(|url| url.query_pairs().any(|(key, _)| key == "protocol"))
}

/// Keepalive probes after a minute idle: they keep an idle connection's NAT and load-balancer
/// entries alive, and find a peer that is gone.
fn tcp_settings() -> TcpSettings {
    let keepalive = TcpKeepalive::new().with_time(Duration::from_secs(60));
    #[cfg(any(target_os = "linux", target_os = "macos"))]
    let keepalive = keepalive
        .with_interval(Duration::from_secs(10))
        .with_retries(3);
    TcpSettings::default().set_keepalive(keepalive)
}

/// One connection to `client`, tried once within `bound`, with the builder's timeouts.
async fn set_up_connection(
    client: &redis::Client,
    builder: &RedisStoreBuilder,
    bound: Duration,
) -> Result<redis::aio::MultiplexedConnection, StoreError> {
    let config = redis::AsyncConnectionConfig::new()
        .set_connection_timeout(builder.connection_timeout)
        .set_response_timeout(builder.response_timeout);
    let connect = client.get_multiplexed_async_connection_with_config(&config);
    tokio::time::timeout(bound, connect)
        .await
        .map_err(|_| StoreError::Timeout(bound))?
        .map_err(|e| connect_failed(&e))
}

/// A new connection manager, within `bound`.
async fn open(
    client: &redis::Client,
    config: &ConnectionManagerConfig,
    bound: Duration,
) -> Result<ConnectionManager, StoreError> {
    let connect = ConnectionManager::new_with_config(client.clone(), config.clone());
    tokio::time::timeout(bound, connect)
        .await
        .map_err(|_| StoreError::Timeout(bound))?
        .map_err(|e| connect_failed(&e))
}

/// Warns when Redis has a `maxmemory` and its `maxmemory-policy` is not `noeviction`: a
/// counter Redis evicts lets requests through its limit. Says nothing when `CONFIG` is refused
/// (managed Redis services often disable it), or without a `maxmemory` (`0`: Redis evicts
/// nothing).
async fn warn_if_evicting(connection: &mut impl redis::aio::ConnectionLike) {
    let answer: Result<HashMap<String, String>, RedisError> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("maxmemory")
        .arg("maxmemory-policy")
        .query_async(connection)
        .await;
    if let Ok(config) = answer
        && config.get("maxmemory").is_some_and(|max| max != "0")
        && let Some(policy) = config.get("maxmemory-policy")
        && policy != "noeviction"
    {
        tracing::warn!(
            maxmemory_policy = %policy,
            "guard store: Redis may evict the guard's counters under memory pressure, which \
             lets requests through their limits; set maxmemory-policy to noeviction"
        );
    }
}

/// Replacements of the connection are at least this far apart (a URL that still reaches a
/// read-only replica must not make one per decision).
const REPLACEMENT_SPACING: Duration = Duration::from_secs(1);

/// The longest a check waits for a `PING` on a connection that stalled (less when the link's
/// bound is shorter): an answer later than that is a stall too.
const PING_BOUND: Duration = Duration::from_secs(1);

/// The store's connection to Redis: a [`ConnectionManager`], which reconnects when its
/// connection drops, replaced by a new one when a call finds it read-only or stalled.
struct Link {
    client: redis::Client,
    config: ConnectionManagerConfig,
    /// The longest a new connection may take: the connection and response timeouts.
    bound: Duration,
    /// How long a replaced connection still gets abandons, and is kept: a marker's life.
    marker_ttl: Duration,
    managers: RwLock<Managers>,
    /// A check or a replacement is under way.
    busy: AtomicBool,
}

/// The connection in use, and the one it replaced.
struct Managers {
    current: ConnectionManager,
    /// How many times the connection was replaced: a check of a replaced one does nothing.
    generation: u64,
    /// The connection replaced last, and when; dropped once it has outlived a marker's life.
    previous: Option<(ConnectionManager, Instant)>,
}

/// What a call found wrong with its connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Symptom {
    /// No answer in time: replaced if a `PING` on it gets none either.
    Stalled,
    /// `READONLY`: a replica, replaced at once.
    ReadOnly,
}

impl Link {
    /// The connection in use, and its generation. Drops the connection replaced last once it
    /// has outlived a marker's life.
    fn current(&self) -> (ConnectionManager, u64) {
        let managers = self.managers.read().unwrap_or_else(PoisonError::into_inner);
        let current = (managers.current.clone(), managers.generation);
        let due = managers
            .previous
            .as_ref()
            .is_some_and(|(_, at)| self.outlived(*at));
        drop(managers);
        if due {
            self.retire();
        }
        current
    }

    /// Drops the connection replaced last if it has outlived a marker's life: no abandon goes
    /// there any more, and its manager would keep reconnecting in the background.
    fn retire(&self) {
        let mut managers = self
            .managers
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        // Asked again under the write lock: a newer replacement may have come meanwhile.
        let retired = managers.previous.take_if(|(_, at)| self.outlived(*at));
        drop(managers);
        drop(retired);
    }

    /// Whether a connection replaced `at` has outlived a marker's life.
    fn outlived(&self, at: Instant) -> bool {
        outlived_at(at, Instant::now(), self.marker_ttl)
    }

    /// The connection replaced less than a marker's life ago, and its generation: a hit sent
    /// on it may still run there.
    fn previous(&self) -> Option<(ConnectionManager, u64)> {
        let managers = self.managers.read().unwrap_or_else(PoisonError::into_inner);
        let (previous, at) = managers.previous.as_ref()?;
        (!self.outlived(*at)).then(|| (previous.clone(), managers.generation - 1))
    }

    /// Runs `invocation` on the connection in use.
    async fn invoke<T: FromRedisValue>(
        self: &Arc<Self>,
        invocation: &redis::ScriptInvocation<'_>,
    ) -> Result<T, RedisError> {
        let (connection, generation) = self.current();
        self.invoke_on(connection, generation, invocation).await
    }

    /// Runs `invocation` on `connection`, of `generation`, and has the connection checked if
    /// the call times out, is given up before its answer, or finds a read-only replica.
    async fn invoke_on<T: FromRedisValue>(
        self: &Arc<Self>,
        mut connection: ConnectionManager,
        generation: u64,
        invocation: &redis::ScriptInvocation<'_>,
    ) -> Result<T, RedisError> {
        let mut watch = Watch {
            link: self,
            generation,
            answered: false,
        };
        let result = invocation.invoke_async(&mut connection).await;
        watch.answered = true;
        if let Err(err) = &result {
            if err.kind() == redis::ErrorKind::ReadOnly {
                self.check(generation, Symptom::ReadOnly);
            } else if err.is_timeout() {
                self.check(generation, Symptom::Stalled);
            }
        }
        result
    }

    /// Checks connection `generation` in the background, unless a check is under way.
    fn check(self: &Arc<Self>, generation: u64, symptom: Symptom) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if self.busy.swap(true, Ordering::AcqRel) {
            return;
        }
        let link = Arc::clone(self);
        runtime.spawn(async move {
            let _idle = Idle(&link.busy);
            link.recover(generation, symptom).await;
        });
    }

    /// Replaces connection `generation`, if it is still in use and not replaced less than
    /// [`REPLACEMENT_SPACING`] ago, when it is read-only, or stalled and a `PING` on it
    /// gets no answer in time either (within [`PING_BOUND`], or the link's bound if shorter).
    async fn recover(&self, generation: u64, symptom: Symptom) {
        let (mut connection, current) = self.current();
        let recent = {
            let managers = self.managers.read().unwrap_or_else(PoisonError::into_inner);
            let previous = managers.previous.as_ref();
            previous.is_some_and(|(_, at)| at.elapsed() < REPLACEMENT_SPACING)
        };
        if current != generation || recent {
            return;
        }
        if symptom == Symptom::Stalled {
            // Bounded here too: without a response timeout (`Duration::MAX`), a connection kept
            // open but silent would hold the check, and every later one, for ever.
            let ping = redis::cmd("PING");
            let answer = tokio::time::timeout(
                PING_BOUND.min(self.bound),
                ping.query_async::<()>(&mut connection),
            )
            .await;
            // An answer, or a dropped connection (which the manager replaces itself).
            if answer.is_ok_and(|ping| !ping.is_err_and(|e| e.is_timeout())) {
                return;
            }
        }
        match open(&self.client, &self.config, self.bound).await {
            Ok(fresh) => {
                let mut managers = self
                    .managers
                    .write()
                    .unwrap_or_else(PoisonError::into_inner);
                let replaced = std::mem::replace(&mut managers.current, fresh);
                managers.previous = Some((replaced, Instant::now()));
                managers.generation += 1;
                drop(managers);
                tracing::warn!(?symptom, "guard store: replaced the Redis connection");
            }
            Err(err) => {
                tracing::warn!(?symptom, error = %err, "guard store: could not replace the Redis connection");
            }
        }
    }
}

/// Clears [`Link::busy`] when dropped: at the end of a check, or when its task is cancelled
/// (the runtime shutting down), so that a later check can start.
struct Idle<'a>(&'a AtomicBool);

impl Drop for Idle<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

/// Whether a connection replaced `at` has outlived `life` by `now` (a marker's life: no hit
/// sent on it can still be abandoned there).
fn outlived_at(at: Instant, now: Instant, life: Duration) -> bool {
    now.saturating_duration_since(at) >= life
}

/// A call on a connection: given up before its answer (its future dropped, e.g. at the guard's
/// timeout), it has the connection checked.
struct Watch<'a> {
    link: &'a Arc<Link>,
    generation: u64,
    answered: bool,
}

impl Drop for Watch<'_> {
    fn drop(&mut self) {
        if !self.answered {
            self.link.check(self.generation, Symptom::Stalled);
        }
    }
}

/// A call's failure: [`StoreError::Refused`] when it surely left nothing to run later (the
/// connection was refused, so nothing was sent; or Redis answered with an error, and a
/// script that fails leaves no marker), else [`StoreError::Unavailable`] (a timeout, a
/// connection lost with the call on it: it may still run).
fn unavailable(err: &RedisError) -> StoreError {
    let message = format!("redis: {err}");
    if err.is_connection_refusal() || err.code().is_some() {
        StoreError::Refused(message)
    } else {
        StoreError::Unavailable(message)
    }
}

/// A failure to connect: [`StoreError::Config`] for a URL redis-rs cannot use, a server
/// that answers `HELLO` as an unknown command (no RESP3) or a server TLS certificate refused,
/// [`StoreError::Auth`] for credentials Redis refuses (or that lack a permission the store
/// needs) or a TLS client certificate the server refuses, else as [`unavailable`].
/// redis-rs's messages never hold the URL.
fn connect_failed(err: &RedisError) -> StoreError {
    #[cfg(feature = "redis-tls")]
    if let Some(refused) = tls::refused(err) {
        return refused;
    }
    let message = format!("redis: {err}");
    if err.kind() == redis::ErrorKind::InvalidClientConfig {
        StoreError::Config(message)
    } else if err.kind() == redis::ErrorKind::RESP3NotSupported {
        StoreError::Config(format!(
            "redis: the guard's store needs Redis 7.0 or later (RESP3), or a URL with \
             `?protocol=resp2`: {err}"
        ))
    } else if err.kind() == redis::ErrorKind::AuthenticationFailed
        || matches!(err.code(), Some("WRONGPASS" | "NOAUTH" | "NOPERM"))
    {
        StoreError::Auth(message)
    } else {
        unavailable(err)
    }
}

/// The error of `PEXPIRETIME` at connect: a server that does not know the command is too old.
fn too_old(err: &RedisError) -> StoreError {
    if err.kind() == redis::ErrorKind::ResponseError {
        StoreError::Config(format!(
            "redis: the guard's store needs Redis 7.0 or later (PEXPIRETIME): {err}"
        ))
    } else {
        connect_failed(err)
    }
}

fn algorithm(algorithm: Algorithm) -> u8 {
    match algorithm {
        Algorithm::FixedWindow => 0,
        Algorithm::Gcra => 1,
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}

/// GCRA's interval in milliseconds, with its fraction: the scripts keep microseconds.
fn interval(counter: &Counter) -> f64 {
    counter.interval().as_secs_f64() * 1000.0
}

impl RedisStore {
    /// A builder for the Redis at `url` (e.g. `redis://127.0.0.1:6379/0`).
    pub fn builder(url: impl Into<String>) -> RedisStoreBuilder {
        RedisStoreBuilder {
            url: SecretString::from(url.into()),
            prefix: "phone-verify-guard".into(),
            connection_timeout: Duration::from_secs(1),
            response_timeout: Duration::from_millis(200),
            #[cfg(feature = "redis-tls")]
            tls: tls::Tls::default(),
        }
    }

    fn key(&self, key: &str) -> String {
        format!("{{{}}}:{key}", self.prefix)
    }

    /// The key of hit `id`'s marker.
    fn marker(&self, id: HitId) -> String {
        format!("{{{}}}:hit:{id}", self.prefix)
    }
}

#[async_trait]
impl GuardStore for RedisStore {
    async fn hit(&self, counters: &[Counter], id: HitId) -> Result<Decision, StoreError> {
        if counters.is_empty() {
            return Ok(Decision::Allowed(Reservation::default()));
        }
        let mut invocation = self.hit.prepare_invoke();
        invocation.key(self.marker(id)).arg(millis(self.marker_ttl));
        for counter in counters {
            invocation
                .key(self.key(&counter.key))
                .arg(millis(counter.window))
                .arg(counter.max)
                .arg(counter.cost)
                .arg(algorithm(counter.algorithm))
                .arg(interval(counter));
        }
        let raw: Vec<i64> = self
            .link
            .invoke(&invocation)
            .await
            .map_err(|e| unavailable(&e))?;
        decision(&raw, counters)
    }

    async fn release(
        &self,
        counters: &[Counter],
        reservation: &Reservation,
    ) -> Result<(), StoreError> {
        if counters.is_empty() {
            return Ok(());
        }
        let mut invocation = self.release.prepare_invoke();
        for (index, counter) in counters.iter().enumerate() {
            let end = reservation.end(index).map_or(-1, |end| {
                let end = match counter.algorithm {
                    Algorithm::FixedWindow => end.as_millis(),
                    Algorithm::Gcra => end.as_micros(),
                };
                i64::try_from(end).unwrap_or(i64::MAX)
            });
            invocation
                .key(self.key(&counter.key))
                .arg(counter.cost)
                .arg(algorithm(counter.algorithm))
                .arg(interval(counter))
                .arg(end);
        }
        let _: i64 = self
            .link
            .invoke(&invocation)
            .await
            .map_err(|e| unavailable(&e))?;
        Ok(())
    }

    async fn abandon(&self, counters: &[Counter], id: HitId) -> Result<(), StoreError> {
        if counters.is_empty() {
            return Ok(());
        }
        let mut invocation = self.abandon.prepare_invoke();
        invocation.key(self.marker(id));
        for counter in counters {
            invocation
                .key(self.key(&counter.key))
                .arg(counter.cost)
                .arg(algorithm(counter.algorithm))
                .arg(interval(counter));
        }
        // On the hit's connection, Redis runs this after the hit, if it got it; the hit may have
        // gone on the connection replaced last.
        let current = self.link.invoke::<i64>(&invocation);
        let result = match self.link.previous() {
            Some((previous, generation)) => {
                let on_previous = self
                    .link
                    .invoke_on::<i64>(previous, generation, &invocation);
                let (now, then) = tokio::join!(current, on_previous);
                now.or_else(|err| then.map_err(|_| err))
            }
            None => current.await,
        };
        result.map_err(|e| unavailable(&e))?;
        Ok(())
    }

    async fn peek(&self, counters: &[Counter]) -> Result<Vec<CounterState>, StoreError> {
        if counters.is_empty() {
            return Ok(Vec::new());
        }
        let mut invocation = self.peek.prepare_invoke();
        for counter in counters {
            invocation
                .key(self.key(&counter.key))
                .arg(algorithm(counter.algorithm))
                .arg(interval(counter));
        }
        let raw: Vec<i64> = self
            .link
            .invoke(&invocation)
            .await
            .map_err(|e| unavailable(&e))?;
        states(&raw, counters.len())
    }
}

/// `HIT`'s answer for `counters`: `{0, 0}` and an end (or `-1`) per counter, a window's in
/// milliseconds or a GCRA time in microseconds, or the refusing counter (1-based) and its wait
/// in milliseconds; an error if it is neither.
fn decision(raw: &[i64], counters: &[Counter]) -> Result<Decision, StoreError> {
    let n = counters.len();
    if let [0, 0, ends @ ..] = raw
        && ends.len() == n
    {
        let ends = ends
            .iter()
            .zip(counters)
            .map(|(&end, counter)| {
                u64::try_from(end).ok().map(match counter.algorithm {
                    Algorithm::FixedWindow => Duration::from_millis,
                    Algorithm::Gcra => Duration::from_micros,
                })
            })
            .collect();
        return Ok(Decision::Allowed(Reservation::new(ends)));
    }
    if let &[index, wait] = raw
        && let Some(index) = usize::try_from(index).ok().filter(|i| (1..=n).contains(i))
    {
        return Ok(Decision::Denied {
            index: index - 1,
            retry_after: Duration::from_millis(u64::try_from(wait).unwrap_or(0)),
        });
    }
    Err(StoreError::Unavailable(format!(
        "redis: the hit script answered {} values that are no decision on {n} counters",
        raw.len()
    )))
}

/// `PEEK`'s answer for `n` counters: a count and a time to live each, or an error if it does
/// not hold exactly that.
fn states(raw: &[i64], n: usize) -> Result<Vec<CounterState>, StoreError> {
    if raw.len() != 2 * n {
        return Err(StoreError::Unavailable(format!(
            "redis: the peek script answered {} values for {n} counters",
            raw.len()
        )));
    }
    Ok(raw
        .chunks_exact(2)
        .map(|pair| CounterState {
            count: u64::try_from(pair[0]).unwrap_or(0),
            resets_in: u64::try_from(pair[1]).ok().map(Duration::from_millis),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counter(algorithm: Algorithm) -> Counter {
        Counter {
            key: "k".into(),
            window: Duration::from_secs(60),
            max: 5,
            cost: 1,
            algorithm,
        }
    }

    /// `HIT`'s answers: allowed with an end per counter (a window's in milliseconds, a GCRA
    /// time in microseconds; `-1`: none), or refused by a counter of the decision; anything
    /// else is an error, not a panic or a wrong index.
    #[test]
    fn a_hit_answer_that_is_no_decision_is_an_error() {
        let two = [
            counter(Algorithm::FixedWindow),
            counter(Algorithm::FixedWindow),
        ];
        let allowed = decision(&[0, 0, 1_700_000_030_123, -1], &two).unwrap();
        let end = Some(Duration::from_millis(1_700_000_030_123));
        assert_eq!(
            allowed,
            Decision::Allowed(Reservation::new(vec![end, None]))
        );
        let mixed = [counter(Algorithm::Gcra), counter(Algorithm::FixedWindow)];
        let allowed = decision(&[0, 0, 1_700_000_030_123_456, 1_700_000_030_123], &mixed);
        let ends = vec![
            Some(Duration::from_micros(1_700_000_030_123_456)),
            Some(Duration::from_millis(1_700_000_030_123)),
        ];
        assert_eq!(allowed.unwrap(), Decision::Allowed(Reservation::new(ends)));
        assert_eq!(
            decision(&[2, 1500], &two).unwrap(),
            Decision::Denied {
                index: 1,
                retry_after: Duration::from_millis(1500)
            }
        );
        for raw in [
            &[0_i64, 0, 5][..],
            &[0, 0],
            &[3, 1500],
            &[-1, 1500],
            &[1],
            &[],
        ] {
            let err = decision(raw, &two).unwrap_err();
            assert!(matches!(err, StoreError::Unavailable(_)), "{raw:?}: {err}");
        }
    }

    /// A server without `PEXPIRETIME` is named too old; a connection error stays itself.
    #[test]
    fn a_server_without_pexpiretime_is_too_old() {
        let unknown = redis::RedisError::from((
            redis::ErrorKind::ResponseError,
            "An error was signalled by the server",
            "unknown command 'PEXPIRETIME'".to_owned(),
        ));
        assert!(too_old(&unknown).to_string().contains("Redis 7.0"));
        assert!(matches!(too_old(&unknown), StoreError::Config(_)));
        let refused =
            redis::RedisError::from(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        assert!(!too_old(&refused).to_string().contains("Redis 7.0"));
    }

    /// At connect, a URL redis-rs cannot use is `Config` and refused credentials are `Auth`,
    /// neither of which may still count; anything else is as for a call. (Each was
    /// `Unavailable`: a misconfiguration reported as a passing outage.)
    #[test]
    fn connect_failures_tell_configuration_and_credentials_apart() {
        let config = redis::RedisError::from((
            redis::ErrorKind::InvalidClientConfig,
            "Invalid database number",
        ));
        assert!(matches!(connect_failed(&config), StoreError::Config(_)));
        let auth = [
            redis::RedisError::from((
                redis::ErrorKind::AuthenticationFailed,
                "Password authentication failed",
            )),
            redis::make_extension_error("WRONGPASS".into(), Some("invalid password".into())),
            redis::make_extension_error("NOAUTH".into(), Some("Authentication required".into())),
            redis::make_extension_error("NOPERM".into(), Some("no permissions".into())),
        ];
        for err in &auth {
            let failure = connect_failed(err);
            assert!(matches!(failure, StoreError::Auth(_)), "{err}: {failure:?}");
            assert!(!failure.may_still_count());
        }
        assert!(!connect_failed(&config).may_still_count());
        let lost = redis::RedisError::from(std::io::Error::from(std::io::ErrorKind::BrokenPipe));
        assert!(matches!(connect_failed(&lost), StoreError::Unavailable(_)));
        let refused =
            redis::RedisError::from(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        assert!(matches!(connect_failed(&refused), StoreError::Refused(_)));
    }

    /// A server that answers `HELLO` as an unknown command (no RESP3: Redis before 6, some
    /// proxies) is `Config`, named too old, with the way out: retrying will not help. (It was
    /// `Unavailable`, a passing outage.) Another answer to `HELLO` stays as for a call.
    #[test]
    fn a_server_without_resp3_is_a_configuration_error() {
        let err = redis::RedisError::from((
            redis::ErrorKind::RESP3NotSupported,
            "Redis Server doesn't support HELLO command therefore resp3 cannot be used",
        ));
        let failure = connect_failed(&err);
        assert!(matches!(failure, StoreError::Config(_)), "{failure:?}");
        let message = failure.to_string();
        assert!(message.contains("Redis 7.0 or later"), "{message}");
        assert!(message.contains("?protocol=resp2"), "{message}");
        assert!(!failure.may_still_count());
        let other = redis::RedisError::from((
            redis::ErrorKind::ResponseError,
            "An error was signalled by the server",
            "proxy: command not allowed".to_owned(),
        ));
        assert!(matches!(connect_failed(&other), StoreError::Refused(_)));
    }

    /// A URL's `protocol`, when it names one, is kept; without one the store speaks RESP3.
    /// (RESP3 was forced even on a URL that asked for RESP2.)
    #[test]
    fn a_protocol_the_url_names_is_kept() {
        for url in [
            "redis://127.0.0.1:6379/0?protocol=resp2",
            "redis://:pw@127.0.0.1/0?db=1&protocol=2",
            "rediss://h:6380/?protocol=resp3",
        ] {
            assert!(names_protocol(url), "{url}");
        }
        for url in [
            "redis://127.0.0.1:6379/0",
            "redis://127.0.0.1:6379/0?db=1",
            "redis://h/0?protocols=resp2",
            "not a url",
        ] {
            assert!(!names_protocol(url), "{url}");
        }
    }

    /// The replaced connection is due to be dropped once a marker's life has passed since the
    /// replacement, not before (nor when the clock reads earlier). (It was kept until the next
    /// replacement, reconnecting in the background.)
    #[test]
    fn a_replaced_connection_outlives_a_markers_life_then_goes() {
        let at = Instant::now();
        let life = Duration::from_secs(5);
        let almost = Duration::from_nanos(4_999_999_999);
        assert!(!outlived_at(at, at, life));
        assert!(!outlived_at(at, at + almost, life));
        assert!(outlived_at(at, at + life, life));
        assert!(outlived_at(at, at + 2 * life, life));
        assert!(!outlived_at(at + life, at, life));
    }

    /// A failure that surely left nothing to run later is `Refused`, which the guard does not
    /// abandon: a refused connection (nothing was sent) or an error Redis answered (its script
    /// did not finish, so it left no marker). A timeout, a connection lost with the call on it
    /// or an answer that is not what the script returns may still count: `Unavailable`.
    #[test]
    fn failures_that_leave_nothing_to_abandon_are_told_apart() {
        let io = |kind| redis::RedisError::from(std::io::Error::from(kind));
        let server = |kind, code: &str| {
            redis::RedisError::from((kind, "An error was signalled by the server", code.into()))
        };
        let refused = [
            io(std::io::ErrorKind::ConnectionRefused),
            server(redis::ErrorKind::ResponseError, "OOM command not allowed"),
            server(
                redis::ErrorKind::ReadOnly,
                "You can't write against a replica",
            ),
            redis::make_extension_error("BUSY".into(), Some("busy running a script".into())),
        ];
        for err in &refused {
            let failure = unavailable(err);
            assert!(
                matches!(failure, StoreError::Refused(_)),
                "{err}: {failure:?}"
            );
            assert!(!failure.may_still_count());
            assert!(
                failure
                    .to_string()
                    .starts_with("guard store unavailable: redis:")
            );
        }
        let pending = [
            io(std::io::ErrorKind::TimedOut),
            io(std::io::ErrorKind::BrokenPipe),
            io(std::io::ErrorKind::ConnectionReset),
            redis::RedisError::from((
                redis::ErrorKind::TypeError,
                "Response was of incompatible type",
            )),
        ];
        for err in &pending {
            let failure = unavailable(err);
            assert!(
                matches!(failure, StoreError::Unavailable(_)),
                "{err}: {failure:?}"
            );
            assert!(failure.may_still_count());
        }
    }

    #[test]
    fn a_peek_answer_of_the_wrong_length_is_an_error() {
        let read = states(&[3, 1500, 0, -2], 2).unwrap();
        assert_eq!(
            read,
            [
                CounterState {
                    count: 3,
                    resets_in: Some(Duration::from_millis(1500))
                },
                CounterState::default()
            ]
        );
        for raw in [&[3_i64, 1500, 0][..], &[3, 1500], &[]] {
            let err = states(raw, 2).unwrap_err();
            assert!(matches!(err, StoreError::Unavailable(_)), "{raw:?}: {err}");
        }
    }
}
