//! Verigator's lock-protected slot (its state, its random source, the shared parts) and what
//! its handlers get.

use super::state::VerigatorState;
use crate::model::Provider;
use crate::state::{Emulator, provider_slot};

provider_slot!(
    /// Verigator's lock-protected slot.
    VerigatorSlot, verigator: VerigatorState, Provider::Verigator
);

/// What Verigator's handlers get: its slot behind its own lock, the configuration and the
/// shared parts.
pub(crate) type Verigator = Emulator<VerigatorSlot>;
