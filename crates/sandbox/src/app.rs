//! The sandbox's composed state: the configuration, the parts every provider shares and one
//! [`Emulator`] per provider. It sits above the emulators; the lock layout is documented with
//! the parts it composes, in `crate::state`.

use std::sync::Arc;

use crate::config::SandboxConfig;
use crate::state::{Common, Emulator};
use crate::twilio::{Twilio, TwilioSlot};
use crate::verifik::{Verifik, VerifikSlot};
use crate::verifykit::{VerifyKit, VerifyKitSlot};
use crate::verigator::{Verigator, VerigatorSlot};

/// Configuration, the shared parts, and each provider's emulator (its slot behind its own lock).
#[derive(Debug)]
pub(crate) struct Shared {
    /// The configuration the sandbox was started with.
    pub(crate) config: Arc<SandboxConfig>,
    /// The parts every provider shares.
    pub(crate) common: Arc<Common>,
    /// VerifyKit's handler state.
    pub(crate) verifykit: VerifyKit,
    /// Verifik's handler state.
    pub(crate) verifik: Verifik,
    /// Verigator's handler state.
    pub(crate) verigator: Verigator,
    /// Twilio's handler state.
    pub(crate) twilio: Twilio,
}

/// What the route tree, the control API and the handle share.
pub(crate) type App = Arc<Shared>;

impl Shared {
    /// Fresh state for `config`.
    pub(crate) fn new(config: SandboxConfig) -> App {
        let config = Arc::new(config);
        let common = Arc::new(Common::new(&config));
        Arc::new(Self {
            verifykit: Emulator::new(&config, &common, VerifyKitSlot::new(&config, &common)),
            verifik: Emulator::new(&config, &common, VerifikSlot::new(&config, &common)),
            verigator: Emulator::new(&config, &common, VerigatorSlot::new(&config, &common)),
            twilio: Emulator::new(&config, &common, TwilioSlot::new(&config, &common)),
            config,
            common,
        })
    }

    /// Throws everything away and starts over from the configuration (clock included). The
    /// providers are reset one after the other, never two locks at once.
    pub(crate) fn reset(&self) {
        *self.verifykit.lock() = VerifyKitSlot::new(&self.config, &self.common);
        *self.verifik.lock() = VerifikSlot::new(&self.config, &self.common);
        *self.verigator.lock() = VerigatorSlot::new(&self.config, &self.common);
        *self.twilio.lock() = TwilioSlot::new(&self.config, &self.common);
        self.common.reset(&self.config);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Balances;
    use crate::model::Provider;

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
        let s = app.verifykit.lock();
        assert!(s.has_credit(Provider::VerifyKit));
        s.charge(Provider::VerifyKit);
        assert!(!s.has_credit(Provider::VerifyKit));
        s.charge(Provider::VerifyKit);
        assert_eq!(app.common.balance(Provider::VerifyKit), Some(0));
        s.charge(Provider::Verifik);
        assert!(s.has_credit(Provider::Verifik));
        app.common.set_balance(Provider::Verigator, Some(0));
        assert!(s.has_credit(Provider::Verigator));
    }

    #[test]
    fn test_numbers_get_their_fixed_code_and_reset_restores_config() {
        let config = SandboxConfig {
            test_numbers: vec![("+90 532 000 00 00".into(), "123456".into())],
            ..SandboxConfig::seeded(1)
        };
        let app = Shared::new(config);
        assert_eq!(app.verifik.lock().new_code("+905320000000", 6), "123456");
        let random = app.verifik.lock().new_code("+905321111111", 6);
        assert_eq!(random.len(), 6);
        assert!(app.common.remove_test_number("+905320000000"));
        app.common.advance_clock(time::Duration::hours(1));
        app.reset();
        assert!(app.verigator.lock().is_test_number("+905320000000"));
        assert_eq!(app.common.clock_offset(), time::Duration::ZERO);
        assert_eq!(
            app.verifik.lock().new_code("+905321111111", 6),
            random,
            "seeded again after reset"
        );
    }

    #[test]
    fn each_provider_draws_from_its_own_seeded_generator() {
        let app = Shared::new(SandboxConfig::seeded(7));
        let first = app.verifykit.lock().rng.alphanumeric(16);
        let twin = Shared::new(SandboxConfig::seeded(7));
        // Another provider's draws in between do not shift VerifyKit's sequence.
        twin.verigator.lock().rng.alphanumeric(16);
        twin.verifik.lock().rng.alphanumeric(16);
        assert_eq!(twin.verifykit.lock().rng.alphanumeric(16), first);
        assert_ne!(app.verifik.lock().rng.alphanumeric(16), first);
    }
}
