//! [`RedisStore`]: counters shared by every instance of an application, in Redis.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use redis::Script;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use secrecy::{ExposeSecret, SecretString};

use super::{
    Algorithm, Counter, CounterState, Decision, GuardStore, HitId, Reservation, StoreError,
};

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
/// `MOVED`). Built on redis-rs's [`ConnectionManager`], which reconnects after a failure; its
/// connection and response timeouts bound every call (and the guard bounds it again with its
/// own store timeout).
///
/// An allowed hit also leaves a marker, `{prefix}:hit:` and the [`HitId`], with what it
/// counted: [`GuardStore::abandon`], sent on the same connection and so run after the hit,
/// takes the hit back if it finds the marker. A marker lives ten response timeouts, at least
/// 5 s: the guard sends the abandon as soon as it gives up on the hit, at most one response
/// timeout after it (redis-rs gives up then, if the guard's own timeout did not pass first);
/// or, when the request went ahead (fail open), once the provider answered, and a provider
/// slower than the marker's life leaves the hit counted.
#[derive(Clone)]
pub struct RedisStore {
    connection: ConnectionManager,
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

    /// Connects, checks that the server has `PEXPIRETIME` (Redis 7.0), and loads the scripts
    /// so that decisions take one round trip.
    pub async fn connect(self) -> Result<RedisStore, StoreError> {
        if self.prefix.is_empty() || self.prefix.contains(['{', '}']) {
            return Err(StoreError::Unavailable(
                "the Redis key prefix must be non-empty and without braces".into(),
            ));
        }
        let client = redis::Client::open(self.url.expose_secret()).map_err(|e| unavailable(&e))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(self.connection_timeout)
            .set_response_timeout(self.response_timeout)
            .set_number_of_retries(1);
        let bound = self.connection_timeout + self.response_timeout;
        let connect = ConnectionManager::new_with_config(client, config);
        let mut connection = tokio::time::timeout(bound, connect)
            .await
            .map_err(|_| StoreError::Timeout(bound))?
            .map_err(|e| unavailable(&e))?;
        // `PEXPIRETIME` tells a window from the next one: a server without it is refused here,
        // not at every release.
        let _: i64 = redis::cmd("PEXPIRETIME")
            .arg(format!("{{{}}}:version", self.prefix))
            .query_async(&mut connection)
            .await
            .map_err(|e| too_old(&e))?;
        let hit = Script::new(&format!("{NOW}{HIT}"));
        let release = Script::new(&format!("{NOW}{TAKE_BACK}{RELEASE}"));
        let abandon = Script::new(&format!("{NOW}{TAKE_BACK}{ABANDON}"));
        let peek = Script::new(&format!("{NOW}{PEEK}"));
        for script in [&hit, &release, &abandon, &peek] {
            script
                .load_async(&mut connection)
                .await
                .map_err(|e| unavailable(&e))?;
        }
        Ok(RedisStore {
            connection,
            prefix: self.prefix,
            marker_ttl: super::marker_ttl(self.response_timeout),
            hit,
            release,
            abandon,
            peek,
        })
    }
}

/// A call's failure: [`StoreError::Refused`] when it surely left nothing to run later (the
/// connection was refused, so nothing was sent; or Redis answered with an error, and a
/// script that fails leaves no marker), else [`StoreError::Unavailable`] (a timeout, a
/// connection lost with the call on it: it may still run).
fn unavailable(err: &redis::RedisError) -> StoreError {
    let message = format!("redis: {err}");
    if err.is_connection_refusal() || err.code().is_some() {
        StoreError::Refused(message)
    } else {
        StoreError::Unavailable(message)
    }
}

/// The error of `PEXPIRETIME` at connect: a server that does not know the command is too old.
fn too_old(err: &redis::RedisError) -> StoreError {
    if err.kind() == redis::ErrorKind::ResponseError {
        StoreError::Unavailable(format!(
            "redis: the guard's store needs Redis 7.0 or later (PEXPIRETIME): {err}"
        ))
    } else {
        unavailable(err)
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
        let mut connection = self.connection.clone();
        let raw: Vec<i64> = invocation
            .invoke_async(&mut connection)
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
        let mut connection = self.connection.clone();
        let _: i64 = invocation
            .invoke_async(&mut connection)
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
        // The clone shares the hit's connection: Redis runs this after the hit, if it got it.
        let mut connection = self.connection.clone();
        let _: i64 = invocation
            .invoke_async(&mut connection)
            .await
            .map_err(|e| unavailable(&e))?;
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
        let mut connection = self.connection.clone();
        let raw: Vec<i64> = invocation
            .invoke_async(&mut connection)
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
        let refused =
            redis::RedisError::from(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        assert!(!too_old(&refused).to_string().contains("Redis 7.0"));
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
