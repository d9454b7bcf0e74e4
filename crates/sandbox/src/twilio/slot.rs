//! Twilio's lock-protected slot (its state, its random sources, the shared parts) and what
//! its handlers get.

use super::state::TwilioState;
use crate::model::Provider;
use crate::otp::SandboxRng;
use crate::state::{Emulator, provider_slot};

provider_slot!(
    /// Twilio's lock-protected slot.
    TwilioSlot, twilio: TwilioState, Provider::Twilio;
    /// The source of `Twilio-Request-Id`s, apart from `rng`
    /// ([`request_id::generator`](super::request_id::generator)).
    request_ids: SandboxRng = super::request_id::generator
);

/// What Twilio's handlers get: its slot behind its own lock, the configuration and the
/// shared parts.
pub(crate) type Twilio = Emulator<TwilioSlot>;
