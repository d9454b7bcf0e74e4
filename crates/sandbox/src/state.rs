//! The sandbox's in-memory state, shared by the HTTP handlers and the control handle.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use time::OffsetDateTime;

use crate::clock::Clock;
use crate::config::{Balances, SandboxConfig};
use crate::faults::FaultQueue;
use crate::model::{Provider, RequestRecord, SentMessage};
use crate::otp::SandboxRng;
use crate::{phone, verifik, verifykit, verigator};

/// Configuration plus the mutable state behind one mutex.
#[derive(Debug)]
pub(crate) struct Shared {
    /// The configuration the sandbox was started with.
    pub(crate) config: SandboxConfig,
    state: Mutex<State>,
}

/// What handlers and routers share.
pub(crate) type App = Arc<Shared>;

impl Shared {
    /// Fresh state for `config`.
    pub(crate) fn new(config: SandboxConfig) -> App {
        let state = Mutex::new(State::new(&config));
        Arc::new(Self { config, state })
    }

    /// Locks the state. A panic while it was held cannot leave it half-written in a way that
    /// matters for a test server, so a poisoned lock is simply taken over.
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Throws everything away and starts over from the configuration (clock included).
    pub(crate) fn reset(&self) {
        *self.lock() = State::new(&self.config);
    }
}

/// All mutable sandbox state.
#[derive(Debug)]
pub(crate) struct State {
    /// Source of codes and ids.
    pub(crate) rng: SandboxRng,
    /// The sandbox clock.
    pub(crate) clock: Clock,
    /// Sent messages, oldest first.
    pub(crate) outbox: Vec<SentMessage>,
    /// Requests that reached a provider, oldest first.
    pub(crate) requests: Vec<RequestRecord>,
    /// Pending injected faults.
    pub(crate) faults: FaultQueue,
    /// Test numbers (E.164) and their fixed codes.
    pub(crate) test_numbers: BTreeMap<String, String>,
    /// Remaining credits.
    pub(crate) balances: Balances,
    /// VerifyKit flows.
    pub(crate) verifykit: verifykit::VerifyKitState,
    /// Verifik validations and tokens.
    pub(crate) verifik: verifik::VerifikState,
    /// Verigator services, users and authentications.
    pub(crate) verigator: verigator::VerigatorState,
}

impl State {
    fn new(config: &SandboxConfig) -> Self {
        let test_numbers = config
            .test_numbers
            .iter()
            .map(|(phone, code)| (phone::normalize_query_phone(phone), code.trim().to_owned()))
            .collect();
        Self {
            rng: SandboxRng::new(config.seed),
            clock: Clock::default(),
            outbox: Vec::new(),
            requests: Vec::new(),
            faults: FaultQueue::default(),
            test_numbers,
            balances: config.balances,
            verifykit: verifykit::VerifyKitState::default(),
            verifik: verifik::VerifikState::default(),
            verigator: verigator::VerigatorState::default(),
        }
    }

    /// The current sandbox time.
    pub(crate) fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// A new code for `e164`: the test number's fixed code, else `len` random digits.
    pub(crate) fn new_code(&mut self, e164: &str, len: usize) -> String {
        match self.test_numbers.get(e164) {
            Some(code) => code.clone(),
            None => self.rng.digits(len),
        }
    }

    /// Whether `e164` is a configured test number.
    pub(crate) fn is_test_number(&self, e164: &str) -> bool {
        self.test_numbers.contains_key(e164)
    }

    /// Records a sent message.
    pub(crate) fn send(&mut self, message: SentMessage) {
        tracing::debug!(provider = %message.provider, channel = message.channel.as_str(), "message sent");
        self.outbox.push(message);
    }

    /// Messages to `recipient` (E.164 phone or e-mail), newest first; all messages when `None`.
    pub(crate) fn messages(&self, recipient: Option<&str>) -> Vec<SentMessage> {
        self.outbox
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

    /// The credits of `provider` (`None` = unlimited; Verigator is always unlimited).
    pub(crate) fn balance(&self, provider: Provider) -> Option<u64> {
        match provider {
            Provider::VerifyKit => self.balances.verifykit,
            Provider::Verifik => self.balances.verifik,
            Provider::Verigator => None,
        }
    }

    /// Sets the credits of `provider` (ignored for Verigator, which has no balance).
    pub(crate) fn set_balance(&mut self, provider: Provider, credits: Option<u64>) {
        match provider {
            Provider::VerifyKit => self.balances.verifykit = credits,
            Provider::Verifik => self.balances.verifik = credits,
            Provider::Verigator => {}
        }
    }

    /// Whether `provider` has a credit left.
    pub(crate) fn has_credit(&self, provider: Provider) -> bool {
        self.balance(provider).is_none_or(|c| c > 0)
    }

    /// Spends one credit of `provider` (no-op when unlimited).
    pub(crate) fn charge(&mut self, provider: Provider) {
        let slot = match provider {
            Provider::VerifyKit => &mut self.balances.verifykit,
            Provider::Verifik => &mut self.balances.verifik,
            Provider::Verigator => return,
        };
        if let Some(credits) = slot {
            *credits = credits.saturating_sub(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Channel;

    #[test]
    fn credits_are_spent_and_stop_at_zero() {
        let config = SandboxConfig {
            balances: Balances {
                verifykit: Some(1),
                verifik: None,
            },
            ..SandboxConfig::default()
        };
        let app = Shared::new(config);
        let mut s = app.lock();
        assert!(s.has_credit(Provider::VerifyKit));
        s.charge(Provider::VerifyKit);
        assert!(!s.has_credit(Provider::VerifyKit));
        s.charge(Provider::VerifyKit);
        assert_eq!(s.balance(Provider::VerifyKit), Some(0));
        s.charge(Provider::Verifik);
        assert!(s.has_credit(Provider::Verifik));
        s.set_balance(Provider::Verigator, Some(0));
        assert!(s.has_credit(Provider::Verigator));
    }

    #[test]
    fn test_numbers_get_their_fixed_code_and_reset_restores_config() {
        let config = SandboxConfig {
            test_numbers: vec![("+90 532 000 00 00".into(), "123456".into())],
            ..SandboxConfig::seeded(1)
        };
        let app = Shared::new(config);
        assert_eq!(app.lock().new_code("+905320000000", 6), "123456");
        let random = app.lock().new_code("+905321111111", 6);
        assert_eq!(random.len(), 6);
        app.lock().test_numbers.clear();
        app.lock().clock.advance(time::Duration::hours(1));
        app.reset();
        assert!(app.lock().is_test_number("+905320000000"));
        assert_eq!(app.lock().clock.offset(), time::Duration::ZERO);
        assert_eq!(
            app.lock().new_code("+905321111111", 6),
            random,
            "seeded again after reset"
        );
    }

    #[test]
    fn messages_are_newest_first_and_filtered() {
        let app = Shared::new(SandboxConfig::default());
        let mut s = app.lock();
        for (i, phone) in ["+905321111111", "+905322222222", "+905321111111"]
            .into_iter()
            .enumerate()
        {
            let sent_at = s.now();
            s.send(SentMessage {
                provider: Provider::VerifyKit,
                phone: Some(phone.into()),
                email: None,
                channel: Channel::Sms,
                code: Some(i.to_string()),
                text: String::new(),
                lang: "en".into(),
                reference: None,
                sent_at,
            });
        }
        let mine = s.messages(Some("+905321111111"));
        assert_eq!(mine.len(), 2);
        assert_eq!(mine[0].code.as_deref(), Some("2"));
        assert_eq!(s.messages(None).len(), 3);
    }
}
