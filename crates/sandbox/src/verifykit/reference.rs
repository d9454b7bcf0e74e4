//! New flow references.

use super::slot::VerifyKitSlot as State;

/// A new reference, unique among live flows.
pub(super) fn new_reference(state: &mut State) -> String {
    loop {
        let candidate = state.rng.alphanumeric(24);
        if !state.verifykit.reference_taken(&candidate) {
            return candidate;
        }
    }
}
