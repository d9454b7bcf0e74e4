//! [`RedisStore`]: counters shared by every instance of an application, in Redis.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use redis::Script;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use secrecy::{ExposeSecret, SecretString};

use super::{Algorithm, Counter, CounterState, Decision, GuardStore, StoreError};

/// Checks every counter, then counts all or none: one round trip, atomic in Redis.
/// KEYS: the counters. ARGV: per counter, its window in milliseconds, its max, its cost and its
/// algorithm (`0` fixed window: the value is a count expiring with the window; `1` GCRA: the
/// value is the theoretical arrival time in milliseconds of Redis's clock, `TIME`, expiring
/// when it is reached). Returns `{0, 0}` when allowed, `{index (1-based), ms until the
/// request would fit}` when denied, for the refusing counter that waits longest (the first of
/// equals). A count's expiry is set when its key is made (or found without one), never moved
/// while it counts (`RELEASE` deletes a count taken back to zero).
const HIT: &str = r"
if redis.replicate_commands then redis.replicate_commands() end
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local next_tat = {}
local existed = {}
local refused, longest = 0, 0
for i = 1, #KEYS do
  local window = tonumber(ARGV[4 * i - 3])
  local max = tonumber(ARGV[4 * i - 2])
  local cost = tonumber(ARGV[4 * i - 1])
  local wait = nil
  if ARGV[4 * i] == '1' then
    if max == 0 then
      wait = window
    else
      local tat = tonumber(redis.call('GET', KEYS[i]) or '0') or 0
      if tat < now then tat = now end
      local after = tat + math.max(cost, 1) * window / max
      if after > now + window then
        wait = math.ceil(after - now - window)
      else
        next_tat[i] = tat + cost * window / max
      end
    end
  else
    local value = redis.call('GET', KEYS[i])
    existed[i] = value ~= false
    local count = tonumber(value or '0') or 0
    if count + math.max(cost, 1) > max then
      wait = redis.call('PTTL', KEYS[i])
      if wait < 0 then wait = window end
    end
  end
  if wait ~= nil and (refused == 0 or wait > longest) then
    refused, longest = i, wait
  end
end
if refused > 0 then return {refused, longest} end
for i = 1, #KEYS do
  local cost = tonumber(ARGV[4 * i - 1])
  if cost > 0 then
    if ARGV[4 * i] == '1' then
      local tat = math.ceil(next_tat[i])
      redis.call('SET', KEYS[i], string.format('%d', tat), 'PX', math.max(tat - now, 1))
    else
      redis.call('INCRBY', KEYS[i], cost)
      if not existed[i] or redis.call('PTTL', KEYS[i]) < 0 then
        redis.call('PEXPIRE', KEYS[i], ARGV[4 * i - 3])
      end
    end
  end
end
return {0, 0}
";

/// Takes back what `HIT` added. KEYS: the counters. ARGV: per counter, its cost, its
/// algorithm and GCRA's interval in milliseconds. A count goes down by the cost (`DECRBY`
/// keeps its expiry), and the key is deleted when that takes it to zero; a theoretical arrival
/// time goes back by cost × interval, and the key is deleted when none is pending. An absent
/// key stays absent.
const RELEASE: &str = r"
if redis.replicate_commands then redis.replicate_commands() end
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
for i = 1, #KEYS do
  local cost = tonumber(ARGV[3 * i - 2])
  local value = tonumber(redis.call('GET', KEYS[i]) or '0') or 0
  if ARGV[3 * i - 1] == '1' then
    if value > now then
      local tat = math.ceil(value - cost * tonumber(ARGV[3 * i]))
      if tat > now then
        redis.call('SET', KEYS[i], string.format('%d', tat), 'PX', tat - now)
      else
        redis.call('DEL', KEYS[i])
      end
    end
  elseif value > 0 then
    if cost >= value then
      redis.call('DEL', KEYS[i])
    else
      redis.call('DECRBY', KEYS[i], cost)
    end
  end
end
return 0
";

/// Reads counters: per key, its count and its time to live in milliseconds (-2 when absent).
/// ARGV: per counter, its algorithm and GCRA's interval in milliseconds; a GCRA counter's
/// count is the events its pending time stands for, rounded up.
const PEEK: &str = r"
if redis.replicate_commands then redis.replicate_commands() end
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
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
/// Keys are `{prefix}:rule:hmac`. It connects to one Redis server; Redis Cluster is not
/// supported (a node that does not own the keys' slot would answer `MOVED`). Built on redis-rs's
/// [`ConnectionManager`], which reconnects after a failure; its connection and response
/// timeouts bound every call (and the guard bounds it again with its own store timeout).
#[derive(Clone)]
pub struct RedisStore {
    connection: ConnectionManager,
    prefix: String,
    hit: Script,
    release: Script,
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

    /// Connects, and loads the scripts so that decisions take one round trip.
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
        let hit = Script::new(HIT);
        let release = Script::new(RELEASE);
        let peek = Script::new(PEEK);
        for script in [&hit, &release, &peek] {
            script
                .load_async(&mut connection)
                .await
                .map_err(|e| unavailable(&e))?;
        }
        Ok(RedisStore {
            connection,
            prefix: self.prefix,
            hit,
            release,
            peek,
        })
    }
}

fn unavailable(err: &redis::RedisError) -> StoreError {
    StoreError::Unavailable(format!("redis: {err}"))
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
}

#[async_trait]
impl GuardStore for RedisStore {
    async fn hit(&self, counters: &[Counter]) -> Result<Decision, StoreError> {
        if counters.is_empty() {
            return Ok(Decision::Allowed);
        }
        let mut invocation = self.hit.prepare_invoke();
        for counter in counters {
            invocation
                .key(self.key(&counter.key))
                .arg(millis(counter.window))
                .arg(counter.max)
                .arg(counter.cost)
                .arg(algorithm(counter.algorithm));
        }
        let mut connection = self.connection.clone();
        let (index, ttl): (usize, i64) = invocation
            .invoke_async(&mut connection)
            .await
            .map_err(|e| unavailable(&e))?;
        Ok(match index {
            0 => Decision::Allowed,
            i => Decision::Denied {
                index: i - 1,
                retry_after: Duration::from_millis(u64::try_from(ttl).unwrap_or(0)),
            },
        })
    }

    async fn release(&self, counters: &[Counter]) -> Result<(), StoreError> {
        if counters.is_empty() {
            return Ok(());
        }
        let mut invocation = self.release.prepare_invoke();
        for counter in counters {
            invocation
                .key(self.key(&counter.key))
                .arg(counter.cost)
                .arg(algorithm(counter.algorithm))
                .arg(counter.interval().as_secs_f64() * 1000.0);
        }
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
                .arg(counter.interval().as_secs_f64() * 1000.0);
        }
        let mut connection = self.connection.clone();
        let raw: Vec<i64> = invocation
            .invoke_async(&mut connection)
            .await
            .map_err(|e| unavailable(&e))?;
        states(&raw, counters.len())
    }
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
