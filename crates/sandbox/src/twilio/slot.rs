//! Twilio's lock-protected slot (its state, its random sources, the shared parts) and what
//! its handlers get.

use super::state::TwilioState;
use crate::config::SandboxConfig;
use crate::model::Provider;
use crate::otp::SandboxRng;
use crate::state::{Emulator, provider_slot};

provider_slot!(
    /// Twilio's lock-protected slot.
    TwilioSlot, twilio: TwilioState, Provider::Twilio;
    /// The source of `Twilio-Request-Id`s, apart from `rng` ([`request_ids`]).
    request_ids: SandboxRng = request_ids
);

/// Sets the request ids' generator apart from every provider's own
/// ([`provider_rng`](crate::state::provider_rng)).
const REQUEST_IDS_SALT: u64 = 0x5251_4944_0000_0005;

/// The source of `Twilio-Request-Id`s: a generator of their own, derived from the seed, so
/// that a seeded sandbox's codes and SIDs (from Twilio's `rng`) do not depend on how many
/// answers, retries and lookups came before.
fn request_ids(config: &SandboxConfig) -> SandboxRng {
    SandboxRng::new(config.seed.map(|seed| seed ^ REQUEST_IDS_SALT))
}

/// What Twilio's handlers get: its slot behind its own lock, the configuration and the
/// shared parts.
pub(crate) type Twilio = Emulator<TwilioSlot>;
