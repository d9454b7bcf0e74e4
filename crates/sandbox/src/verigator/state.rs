//! Verigator's state: its services and their users.

use std::collections::HashMap;

use super::records::Service;

/// Verigator's services and their users.
#[derive(Debug, Default)]
pub(crate) struct VerigatorState {
    /// Services by id.
    pub(super) services: HashMap<String, Service>,
}

impl VerigatorState {
    /// Empty state. Services and users are what the caller registers, so they are not
    /// bounded by `_capacity` (each user keeps only its latest authentication).
    pub(crate) fn new(_capacity: usize) -> Self {
        Self::default()
    }
}
