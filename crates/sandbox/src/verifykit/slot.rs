//! VerifyKit's lock-protected slot (its state, its random source, the shared parts) and what
//! its handlers get.

use super::state::VerifyKitState;
use crate::model::Provider;
use crate::state::{Emulator, provider_slot};

provider_slot!(
    /// VerifyKit's lock-protected slot.
    VerifyKitSlot, verifykit: VerifyKitState, Provider::VerifyKit
);

/// What VerifyKit's handlers get: its slot behind its own lock, the configuration and the
/// shared parts.
pub(crate) type VerifyKit = Emulator<VerifyKitSlot>;
