//! Twilio's lock-protected slot (its state, its random source, the shared parts) and what
//! its handlers get.

use super::state::TwilioState;
use crate::model::Provider;
use crate::state::{Emulator, provider_slot};

provider_slot!(
    /// Twilio's lock-protected slot.
    TwilioSlot, twilio: TwilioState, Provider::Twilio
);

/// What Twilio's handlers get: its slot behind its own lock, the configuration and the
/// shared parts.
pub(crate) type Twilio = Emulator<TwilioSlot>;
