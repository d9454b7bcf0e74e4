//! Verifik's lock-protected slot (its state, its random source, the shared parts) and what
//! its handlers get.

use super::state::VerifikState;
use crate::model::Provider;
use crate::state::{Emulator, provider_slot};

provider_slot!(
    /// Verifik's lock-protected slot.
    VerifikSlot, verifik: VerifikState, Provider::Verifik
);

/// What Verifik's handlers get: its slot behind its own lock, the configuration and the
/// shared parts.
pub(crate) type Verifik = Emulator<VerifikSlot>;
