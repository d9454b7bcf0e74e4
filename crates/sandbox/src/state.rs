//! The sandbox's in-memory state, below the emulators: the parts every provider shares
//! ([`Common`]), the shape of one provider's lock-protected slot ([`provider_slot!`]) and what
//! one emulator's handlers get ([`Emulator`]). The sandbox's composed state, one emulator per
//! provider, sits above the emulators (module `app`).
//!
//! # Lock layout
//!
//! Each provider's state sits behind its own mutex, held by that provider's [`Emulator`], so the
//! providers never wait for each other. The guard that [`Emulator::lock`] gives derefs to the
//! provider's slot (declared with [`provider_slot!`]) holding the provider's state (field
//! `verifykit`, `verifik`, `verigator` or `twilio`), the provider's own random source (`rng`;
//! Twilio's request ids have one of their own), and the parts every provider shares
//! ([`Common`]: clock, outbox, request log, faults, test numbers, balances), each behind a
//! small lock of its own that is taken and released inside one method call.
//!
//! Lock order: at most one provider lock, then at most one common lock at a time. No code holds
//! two provider locks at once, and no common lock is held while another lock is taken.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use time::OffsetDateTime;

use crate::clock::Clock;
use crate::config::{Balances, SandboxConfig};
use crate::faults::{Fault, FaultAction, FaultQueue};
use crate::model::{ControlError, Provider, RequestLog, RequestRecord, SentMessage};
use crate::otp::SandboxRng;
use crate::phone;

/// Locks `mutex`. A panic while it was held cannot leave sandbox state half-written in a way
/// that matters for a test server, so a poisoned lock is simply taken over.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What one emulator's handlers get as their axum state: the configuration, the parts every
/// provider shares, and the provider's slot `S` behind its own lock. Clones share the slot.
#[derive(Debug)]
pub(crate) struct Emulator<S> {
    /// The configuration the sandbox was started with.
    pub(crate) config: Arc<SandboxConfig>,
    /// The parts every provider shares (for the provider middleware: faults, request log).
    pub(crate) common: Arc<Common>,
    slot: Arc<Mutex<S>>,
}

impl<S> Clone for Emulator<S> {
    fn clone(&self) -> Self {
        Self {
            config: Arc::clone(&self.config),
            common: Arc::clone(&self.common),
            slot: Arc::clone(&self.slot),
        }
    }
}

impl<S> Emulator<S> {
    /// An emulator whose handlers share `config`, `common` and `slot`.
    pub(crate) fn new(config: &Arc<SandboxConfig>, common: &Arc<Common>, slot: S) -> Self {
        Self {
            config: Arc::clone(config),
            common: Arc::clone(common),
            slot: Arc::new(Mutex::new(slot)),
        }
    }

    /// Locks this provider's slot (and only this provider's).
    pub(crate) fn lock(&self) -> MutexGuard<'_, S> {
        lock(&self.slot)
    }
}

/// The random source of `provider`: each provider draws from its own generator, so a seeded
/// sandbox gives the same codes whatever the interleaving of providers.
pub(crate) fn provider_rng(seed: Option<u64>, provider: Provider) -> SandboxRng {
    let salt: u64 = match provider {
        Provider::VerifyKit => 0,
        Provider::Verifik => 0x5646_494b_0000_0001,
        Provider::Verigator => 0x5647_5452_0000_0002,
        Provider::Twilio => 0x5457_4c4f_0000_0003,
    };
    SandboxRng::new(seed.map(|s| s ^ salt))
}

/// Declares a provider's slot: its state under the provider's name, its random source, and
/// methods that delegate to [`Common`], so handlers read `state.now()`, `state.send(..)` etc.
/// Each emulator declares its own slot with it. After a `;`, fields of the provider's own,
/// each made by a function of the [`SandboxConfig`] (`name: Type = function`), at the start
/// and at every reset as the rest of the slot.
macro_rules! provider_slot {
    (
        $(#[$meta:meta])* $slot:ident, $field:ident: $state:ty, $provider:expr
        $(; $(#[$own_meta:meta])* $own:ident: $own_ty:ty = $make:path)* $(;)?
    ) => {
        $(#[$meta])*
        #[derive(Debug)]
        pub(crate) struct $slot {
            /// The provider's own state.
            pub(crate) $field: $state,
            /// The provider's source of codes and ids.
            pub(crate) rng: $crate::otp::SandboxRng,
            $($(#[$own_meta])* pub(crate) $own: $own_ty,)*
            common: ::std::sync::Arc<$crate::state::Common>,
        }

        impl $slot {
            /// Fresh state for `config`, sharing `common`.
            pub(crate) fn new(
                config: &$crate::config::SandboxConfig,
                common: &::std::sync::Arc<$crate::state::Common>,
            ) -> Self {
                Self {
                    $field: <$state>::new(config.records_capacity),
                    rng: $crate::state::provider_rng(config.seed, $provider),
                    $($own: $make(config),)*
                    common: ::std::sync::Arc::clone(common),
                }
            }

            /// The current sandbox time.
            pub(crate) fn now(&self) -> ::time::OffsetDateTime {
                self.common.now()
            }

            /// A new code for `e164`: the test number's fixed code, else `len` random digits.
            pub(crate) fn new_code(&mut self, e164: &str, len: usize) -> String {
                match self.common.test_code(e164) {
                    Some(code) => code,
                    None => self.rng.digits(len),
                }
            }

            /// Whether `e164` is a configured test number.
            #[allow(dead_code, reason = "not every provider has test-number-only modes")]
            pub(crate) fn is_test_number(&self, e164: &str) -> bool {
                self.common.test_code(e164).is_some()
            }

            /// Records a sent message in the outbox.
            pub(crate) fn send(&self, message: $crate::model::SentMessage) {
                self.common.send(message);
            }

            /// Whether `provider` has a credit left.
            #[allow(dead_code, reason = "Verigator and Twilio have no balance")]
            pub(crate) fn has_credit(&self, provider: $crate::model::Provider) -> bool {
                self.common.has_credit(provider)
            }

            /// Spends one credit of `provider` (no-op when unlimited).
            #[allow(dead_code, reason = "Verigator and Twilio have no balance")]
            pub(crate) fn charge(&self, provider: $crate::model::Provider) {
                self.common.charge(provider);
            }
        }
    };
}
pub(crate) use provider_slot;

/// The state every provider shares, each part behind its own small lock.
#[derive(Debug)]
pub(crate) struct Common {
    clock: Mutex<Clock>,
    outbox: Mutex<Ring<SentMessage>>,
    requests: Mutex<RequestBook>,
    faults: Mutex<FaultQueue>,
    test_numbers: Mutex<BTreeMap<String, String>>,
    balances: Mutex<Balances>,
}

impl Common {
    /// Fresh shared parts for `config`.
    pub(crate) fn new(config: &SandboxConfig) -> Self {
        Self {
            clock: Mutex::new(Clock::default()),
            outbox: Mutex::new(Ring::new(config.outbox_capacity)),
            requests: Mutex::new(RequestBook::new(config.request_log_capacity)),
            faults: Mutex::new(FaultQueue::default()),
            test_numbers: Mutex::new(test_numbers(config)),
            balances: Mutex::new(config.balances),
        }
    }

    /// Throws everything away and starts over from `config` (clock included).
    pub(crate) fn reset(&self, config: &SandboxConfig) {
        *lock(&self.clock) = Clock::default();
        *lock(&self.outbox) = Ring::new(config.outbox_capacity);
        *lock(&self.requests) = RequestBook::new(config.request_log_capacity);
        lock(&self.faults).clear();
        *lock(&self.test_numbers) = test_numbers(config);
        *lock(&self.balances) = config.balances;
    }

    /// The current sandbox time.
    pub(crate) fn now(&self) -> OffsetDateTime {
        lock(&self.clock).now()
    }

    /// Moves the sandbox clock forward.
    pub(crate) fn advance_clock(&self, by: time::Duration) {
        lock(&self.clock).advance(by);
    }

    /// How far the sandbox clock is ahead of real time.
    pub(crate) fn clock_offset(&self) -> time::Duration {
        lock(&self.clock).offset()
    }

    /// Records a sent message; past the outbox's capacity the oldest one is dropped.
    pub(crate) fn send(&self, message: SentMessage) {
        tracing::debug!(provider = %message.provider, channel = message.channel.as_str(), "message sent");
        lock(&self.outbox).push(message);
    }

    /// Messages to `recipient` (E.164 phone or e-mail), newest first; all messages when `None`.
    pub(crate) fn messages(&self, recipient: Option<&str>) -> Vec<SentMessage> {
        lock(&self.outbox)
            .items
            .iter()
            .rev()
            .filter(|m| {
                recipient.is_none_or(|r| {
                    m.phone.as_deref() == Some(r)
                        || m.email
                            .as_deref()
                            .is_some_and(|e| e.eq_ignore_ascii_case(r))
                })
            })
            .cloned()
            .collect()
    }

    /// Logs a request and counts it under the key `route` says (see [`Route`]).
    pub(crate) fn log_request(&self, record: RequestRecord, route: &Route) {
        lock(&self.requests).record(record, route);
    }

    /// The request log (newest `request_log_capacity` records) with exact counts, optionally
    /// only `provider`'s.
    pub(crate) fn request_log(&self, provider: Option<Provider>) -> RequestLog {
        lock(&self.requests).log(provider)
    }

    /// Exactly how many `method` requests to `provider`'s `path` arrived.
    pub(crate) fn request_count(&self, provider: Provider, method: &str, path: &str) -> usize {
        lock(&self.requests).count(provider, method, path)
    }

    /// Takes one use of the first pending fault matching the request.
    pub(crate) fn take_fault(
        &self,
        provider: Provider,
        method: &str,
        path: &str,
    ) -> Option<FaultAction> {
        lock(&self.faults).take(provider, method, path)
    }

    /// Queues a fault.
    pub(crate) fn push_fault(&self, fault: Fault) -> Result<(), ControlError> {
        let mut faults = lock(&self.faults);
        if faults.pending().len() >= MAX_PENDING_FAULTS {
            return Err(ControlError::InvalidRequest(format!(
                "{MAX_PENDING_FAULTS} faults are pending already: clear them \
                 (DELETE /_sandbox/faults) before adding more"
            )));
        }
        faults.push(fault);
        Ok(())
    }

    /// Faults not used up yet.
    pub(crate) fn pending_faults(&self) -> Vec<Fault> {
        lock(&self.faults).pending().to_vec()
    }

    /// Removes and returns the pending faults `provider` may take, in one step.
    pub(crate) fn take_faults_for(&self, provider: Provider) -> Vec<Fault> {
        lock(&self.faults).take_for(provider)
    }

    /// Drops every pending fault.
    pub(crate) fn clear_faults(&self) {
        lock(&self.faults).clear();
    }

    /// The fixed code of test number `e164`, if it is one.
    pub(crate) fn test_code(&self, e164: &str) -> Option<String> {
        lock(&self.test_numbers).get(e164).cloned()
    }

    /// Makes `e164` a test number with `code` (a test number already, its code replaced);
    /// refused past [`MAX_TEST_NUMBERS`] test numbers.
    pub(crate) fn add_test_number(&self, e164: String, code: String) -> Result<(), ControlError> {
        let mut numbers = lock(&self.test_numbers);
        if numbers.len() >= MAX_TEST_NUMBERS && !numbers.contains_key(&e164) {
            return Err(ControlError::InvalidRequest(format!(
                "{MAX_TEST_NUMBERS} test numbers are set already: remove some \
                 (DELETE /_sandbox/test-numbers/{{phone}}) before adding more"
            )));
        }
        numbers.insert(e164, code);
        Ok(())
    }

    /// Removes a test number; false if it was not one.
    pub(crate) fn remove_test_number(&self, e164: &str) -> bool {
        lock(&self.test_numbers).remove(e164).is_some()
    }

    /// Every test number with its code, sorted by number.
    pub(crate) fn test_numbers(&self) -> Vec<(String, String)> {
        lock(&self.test_numbers)
            .iter()
            .map(|(p, c)| (p.clone(), c.clone()))
            .collect()
    }

    /// The credits of `provider` (`None` = unlimited; Verigator and Twilio always are).
    pub(crate) fn balance(&self, provider: Provider) -> Option<u64> {
        let balances = lock(&self.balances);
        match provider {
            Provider::VerifyKit => balances.verifykit,
            Provider::Verifik => balances.verifik,
            Provider::Verigator | Provider::Twilio => None,
        }
    }

    /// Sets the credits of `provider` (ignored for Verigator and Twilio, which have no balance).
    pub(crate) fn set_balance(&self, provider: Provider, credits: Option<u64>) {
        let mut balances = lock(&self.balances);
        match provider {
            Provider::VerifyKit => balances.verifykit = credits,
            Provider::Verifik => balances.verifik = credits,
            Provider::Verigator | Provider::Twilio => {}
        }
    }

    /// Whether `provider` has a credit left.
    pub(crate) fn has_credit(&self, provider: Provider) -> bool {
        self.balance(provider).is_none_or(|c| c > 0)
    }

    /// Spends one credit of `provider` (no-op when unlimited).
    pub(crate) fn charge(&self, provider: Provider) {
        let mut balances = lock(&self.balances);
        let slot = match provider {
            Provider::VerifyKit => &mut balances.verifykit,
            Provider::Verifik => &mut balances.verifik,
            Provider::Verigator | Provider::Twilio => return,
        };
        if let Some(credits) = slot {
            *credits = credits.saturating_sub(1);
        }
    }
}

fn test_numbers(config: &SandboxConfig) -> BTreeMap<String, String> {
    config
        .test_numbers
        .iter()
        .map(|(phone, code)| (phone::normalize_query_phone(phone), code.trim().to_owned()))
        .collect()
}

/// A first-in first-out buffer that keeps the newest `capacity` items.
#[derive(Debug)]
struct Ring<T> {
    items: VecDeque<T>,
    capacity: usize,
}

impl<T> Ring<T> {
    fn new(capacity: usize) -> Self {
        Self {
            items: VecDeque::new(),
            capacity,
        }
    }

    /// Appends `item`, dropping the oldest items past the capacity.
    fn push(&mut self, item: T) {
        if self.capacity == 0 {
            return;
        }
        while self.items.len() >= self.capacity {
            self.items.pop_front();
        }
        self.items.push_back(item);
    }
}

/// Most distinct `"METHOD path"` keys counted per provider; past it, a request to a path not
/// counted yet is counted under its route's pattern (`"GET /v2/Services/{sid}"`), of which there
/// are only as many as routes.
pub(crate) const MAX_COUNTED_PATHS: usize = 10_000;

/// At most this many faults wait at once: every provider request scans them.
pub(crate) const MAX_PENDING_FAULTS: usize = 10_000;

/// At most this many test numbers are set at once.
pub(crate) const MAX_TEST_NUMBERS: usize = 10_000;

/// Longest path, method and `X-Vfk-Forwarded-For` value kept in the request log and in a count
/// key, in bytes (cut on a char boundary), so a record's size is bounded whatever the request.
pub(crate) const MAX_LOGGED_TEXT: usize = 256;

/// What a request matched, for counting it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    /// A route of the provider, with its pattern relative to the provider's prefix
    /// (`/v2/Services/{sid}`).
    Matched(String),
    /// No route (the 404 fallback), or a method outside the standard ones.
    Unmatched,
}

/// `text` cut to at most [`MAX_LOGGED_TEXT`] bytes, on a char boundary.
pub(crate) fn truncate_logged(mut text: String) -> String {
    if text.len() > MAX_LOGGED_TEXT {
        let mut end = MAX_LOGGED_TEXT;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

/// The bounded request log plus exact counts per provider and `"METHOD path"`, kept apart so
/// the counts stay exact after the log has dropped old records. The counts are bounded too:
/// unmatched requests share one key, and past [`MAX_COUNTED_PATHS`] keys per provider new
/// paths are counted under their route's pattern.
#[derive(Debug)]
struct RequestBook {
    log: Ring<RequestRecord>,
    counts: HashMap<Provider, HashMap<String, usize>>,
}

impl RequestBook {
    fn new(capacity: usize) -> Self {
        Self {
            log: Ring::new(capacity),
            counts: HashMap::new(),
        }
    }

    fn record(&mut self, mut record: RequestRecord, route: &Route) {
        record.method = truncate_logged(std::mem::take(&mut record.method));
        record.path = truncate_logged(std::mem::take(&mut record.path));
        record.forwarded_for = record.forwarded_for.take().map(truncate_logged);
        let counts = self.counts.entry(record.provider).or_default();
        let key = match route {
            Route::Unmatched => RequestLog::UNMATCHED.to_owned(),
            Route::Matched(pattern) => {
                let key = endpoint_key(&record.method, &record.path);
                if counts.len() < MAX_COUNTED_PATHS || counts.contains_key(&key) {
                    key
                } else {
                    endpoint_key(&record.method, pattern)
                }
            }
        };
        *counts.entry(key).or_insert(0) += 1;
        self.log.push(record);
    }

    fn count(&self, provider: Provider, method: &str, path: &str) -> usize {
        self.counts
            .get(&provider)
            .and_then(|c| c.get(&endpoint_key(method, path)))
            .copied()
            .unwrap_or(0)
    }

    fn log(&self, provider: Option<Provider>) -> RequestLog {
        let requests = self
            .log
            .items
            .iter()
            .filter(|r| provider.is_none_or(|p| r.provider == p))
            .cloned()
            .collect();
        let mut counts = BTreeMap::new();
        for (p, per_endpoint) in &self.counts {
            if provider.is_none_or(|wanted| wanted == *p) {
                for (endpoint, n) in per_endpoint {
                    *counts.entry(endpoint.clone()).or_insert(0) += n;
                }
            }
        }
        RequestLog { requests, counts }
    }
}

/// The counts' key: `"METHOD path"` with the method upper-cased.
fn endpoint_key(method: &str, path: &str) -> String {
    format!("{} {path}", method.to_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Channel;

    /// Each provider's generator is the seed mixed with the provider's salt, bit for bit: two
    /// seeds give two series for every provider (had the salt been OR-ed in, the seeds `0` and
    /// the salt itself would give Verifik the same codes).
    #[test]
    fn every_seed_gives_each_provider_its_own_series() {
        for provider in [Provider::Verifik, Provider::Verigator, Provider::Twilio] {
            let salted = match provider {
                Provider::Verifik => 0x5646_494b_0000_0001,
                Provider::Verigator => 0x5647_5452_0000_0002,
                _ => 0x5457_4c4f_0000_0003,
            };
            let series = |seed| provider_rng(Some(seed), provider).digits(12);
            assert_ne!(series(0), series(salted), "{provider:?}");
            assert_eq!(series(7), series(7), "{provider:?}: seeded");
        }
    }

    fn message(phone: &str, code: String, at: OffsetDateTime) -> SentMessage {
        SentMessage {
            provider: Provider::VerifyKit,
            phone: Some(phone.into()),
            email: None,
            channel: Channel::Sms,
            code: Some(code),
            text: String::new(),
            lang: "en".into(),
            reference: None,
            sent_at: at,
        }
    }

    fn record(provider: Provider, method: &str, path: &str) -> RequestRecord {
        RequestRecord {
            provider,
            method: method.into(),
            path: path.into(),
            status: Some(200),
            at: OffsetDateTime::UNIX_EPOCH,
            fault: None,
            forwarded_for: None,
        }
    }

    /// A matched route whose pattern is never needed (the counts have room).
    fn matched() -> Route {
        Route::Matched("/unused/{pattern}".into())
    }

    #[test]
    fn counts_stay_bounded_whatever_the_paths() {
        let common = Common::new(&SandboxConfig::default());
        let pattern = Route::Matched("/v1/service/service/{sid}".into());
        for i in 0..MAX_COUNTED_PATHS + 500 {
            let path = format!("/v1/service/service/{i}");
            common.log_request(record(Provider::Verigator, "GET", &path), &pattern);
            common.log_request(
                record(Provider::Verigator, "GET", &format!("/junk/{i}")),
                &Route::Unmatched,
            );
        }
        let counts = common.request_log(Some(Provider::Verigator)).counts;
        assert_eq!(
            counts.len(),
            MAX_COUNTED_PATHS + 1,
            "the bound, then the pattern"
        );
        // The unmatched key took one of the slots, so the last 501 paths went to the pattern.
        assert_eq!(counts["GET /v1/service/service/{sid}"], 501);
        assert_eq!(counts[RequestLog::UNMATCHED], MAX_COUNTED_PATHS + 500);
        assert_eq!(
            common.request_count(Provider::Verigator, "GET", "/v1/service/service/7"),
            1,
            "a path counted before the bound keeps counting"
        );
        common.log_request(
            record(Provider::Verigator, "GET", "/v1/service/service/7"),
            &pattern,
        );
        assert_eq!(
            common.request_count(Provider::Verigator, "GET", "/v1/service/service/7"),
            2
        );
        assert_eq!(
            counts.values().sum::<usize>(),
            2 * (MAX_COUNTED_PATHS + 500),
            "every request is counted somewhere"
        );
    }

    #[test]
    fn long_paths_are_cut_on_a_char_boundary() {
        let common = Common::new(&SandboxConfig::default());
        let long = format!("/v2/{}", "é".repeat(300));
        common.log_request(record(Provider::Twilio, "GET", &long), &matched());
        let book = common.request_log(None);
        let kept = &book.requests[0].path;
        assert!(kept.len() <= MAX_LOGGED_TEXT && kept.len() >= MAX_LOGGED_TEXT - 1);
        assert!(long.starts_with(kept.as_str()));
        assert_eq!(book.counts.keys().next().unwrap(), &format!("GET {kept}"));
        assert_eq!(truncate_logged("/short".into()), "/short");
    }

    /// A character that straddles the limit is dropped whole: the cut moves back to the
    /// boundary before it, never past the limit.
    #[test]
    fn a_character_across_the_limit_is_dropped_whole() {
        let text = format!("{}é and more", "a".repeat(MAX_LOGGED_TEXT - 1));
        assert_eq!(truncate_logged(text), "a".repeat(MAX_LOGGED_TEXT - 1));
        let exact = "b".repeat(MAX_LOGGED_TEXT);
        assert_eq!(truncate_logged(exact.clone()), exact);
    }

    #[test]
    fn long_methods_and_forwarded_for_values_are_cut_too() {
        let common = Common::new(&SandboxConfig::default());
        let method = "X".repeat(100_000);
        let mut long = record(Provider::VerifyKit, &method, "/v1.0/init");
        long.forwarded_for = Some("9".repeat(100_000));
        common.log_request(long, &Route::Unmatched);
        let kept = &common.request_log(None).requests[0];
        assert_eq!(kept.method.len(), MAX_LOGGED_TEXT);
        assert_eq!(
            kept.forwarded_for.as_ref().map(String::len),
            Some(MAX_LOGGED_TEXT)
        );
        let mut short = record(Provider::VerifyKit, "GET", "/v1.0/init");
        short.forwarded_for = Some("203.0.113.7".into());
        common.log_request(short, &matched());
        let kept = &common.request_log(None).requests[1];
        assert_eq!(kept.forwarded_for.as_deref(), Some("203.0.113.7"));
    }

    #[test]
    fn messages_are_newest_first_and_filtered() {
        let common = Common::new(&SandboxConfig::default());
        for (i, phone) in ["+905321111111", "+905322222222", "+905321111111"]
            .into_iter()
            .enumerate()
        {
            common.send(message(phone, i.to_string(), common.now()));
        }
        let mine = common.messages(Some("+905321111111"));
        assert_eq!(mine.len(), 2);
        assert_eq!(mine[0].code.as_deref(), Some("2"));
        assert_eq!(common.messages(None).len(), 3);
    }

    #[test]
    fn log_and_outbox_stay_bounded_while_counts_stay_exact() {
        let config = SandboxConfig {
            request_log_capacity: 5,
            outbox_capacity: 3,
            ..SandboxConfig::default()
        };
        let common = Common::new(&config);
        for i in 0..1_000 {
            common.log_request(
                record(
                    Provider::VerifyKit,
                    "POST",
                    if i % 4 == 0 {
                        "/v1.0/send-otp"
                    } else {
                        "/v1.0/check-otp"
                    },
                ),
                &matched(),
            );
            common.log_request(
                record(Provider::Verifik, "PUT", "/v2/phone-validations"),
                &matched(),
            );
            common.send(message(
                "+905321111111",
                i.to_string(),
                OffsetDateTime::UNIX_EPOCH,
            ));
        }
        let log = common.request_log(None);
        assert_eq!(
            log.requests.len(),
            5,
            "the log keeps only the newest records"
        );
        assert_eq!(log.requests[4].provider, Provider::Verifik);
        assert_eq!(log.counts["POST /v1.0/send-otp"], 250);
        assert_eq!(log.counts["POST /v1.0/check-otp"], 750);
        assert_eq!(log.counts["PUT /v2/phone-validations"], 1_000);
        assert_eq!(
            common.request_count(Provider::VerifyKit, "post", "/v1.0/check-otp"),
            750
        );
        assert_eq!(
            common.request_count(Provider::Verigator, "PUT", "/v2/phone-validations"),
            0
        );
        let verifik_only = common.request_log(Some(Provider::Verifik));
        assert_eq!(verifik_only.counts.len(), 1);
        assert!(
            verifik_only
                .requests
                .iter()
                .all(|r| r.provider == Provider::Verifik)
        );
        let outbox = common.messages(None);
        let codes: Vec<_> = outbox.iter().filter_map(|m| m.code.as_deref()).collect();
        assert_eq!(
            codes,
            ["999", "998", "997"],
            "the oldest messages are dropped"
        );
        common.reset(&config);
        assert!(common.request_log(None).counts.is_empty());
        assert!(common.messages(None).is_empty());
    }

    #[test]
    fn a_zero_capacity_keeps_nothing_but_still_counts() {
        let config = SandboxConfig {
            request_log_capacity: 0,
            outbox_capacity: 0,
            ..SandboxConfig::default()
        };
        let common = Common::new(&config);
        common.log_request(
            record(Provider::Verigator, "GET", "/v1/service/service/x"),
            &matched(),
        );
        common.send(message(
            "+905321111111",
            "1".into(),
            OffsetDateTime::UNIX_EPOCH,
        ));
        assert!(common.request_log(None).requests.is_empty());
        assert_eq!(
            common.request_count(Provider::Verigator, "GET", "/v1/service/service/x"),
            1
        );
        assert!(common.messages(None).is_empty());
    }
}
