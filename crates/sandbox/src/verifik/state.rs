//! Verifik's state: tokens, logins, app registrations and phone validations, bounded.

use std::collections::HashMap;

use time::OffsetDateTime;

use super::record::PhoneValidation;
use crate::bounded::{BoundedMap, SeqLog};
use crate::otp::PendingCode;

/// Verifik's tokens, logins and phone validations. Every kind of record keeps at most
/// [`SandboxConfig::records_capacity`](crate::SandboxConfig::records_capacity) entries,
/// forgetting the oldest first.
#[derive(Debug)]
pub(crate) struct VerifikState {
    /// Issued access tokens and their expiry.
    pub(super) tokens: BoundedMap<String, OffsetDateTime>,
    /// Whether renew-and-revoke has revoked the configured token.
    pub(super) configured_token_revoked: bool,
    /// Pending phone logins by E.164 number.
    pub(super) phone_logins: BoundedMap<String, PhoneValidation>,
    /// Pending e-mail logins by lowercase address.
    pub(super) email_logins: BoundedMap<String, PendingCode>,
    /// Phone validations, oldest first, by sequence number.
    pub(super) validations: SeqLog<PhoneValidation>,
    /// App registrations by their JWT.
    pub(super) registrations: BoundedMap<String, Registration>,
    /// Sequence number in `validations` by `_id`.
    pub(super) by_id: HashMap<String, usize>,
    /// Sequence numbers in `validations` per E.164 number, oldest first.
    pub(super) by_phone: HashMap<String, Vec<usize>>,
}

impl VerifikState {
    /// Empty state keeping at most `capacity` records of each kind.
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            tokens: BoundedMap::new(capacity),
            configured_token_revoked: false,
            phone_logins: BoundedMap::new(capacity),
            email_logins: BoundedMap::new(capacity),
            validations: SeqLog::new(capacity),
            registrations: BoundedMap::new(capacity),
            by_id: HashMap::new(),
            by_phone: HashMap::new(),
        }
    }

    /// Stores `validation` and returns its sequence number; the oldest validations past the
    /// capacity are forgotten, indexes included.
    pub(super) fn insert(&mut self, validation: PhoneValidation) -> usize {
        let id = validation.id.clone();
        let e164 = validation.e164.clone();
        let (seq, forgotten) = self.validations.push(validation);
        for (old_seq, old) in forgotten {
            self.by_id.remove(&old.id);
            if let Some(seqs) = self.by_phone.get_mut(&old.e164) {
                seqs.retain(|s| *s != old_seq);
                if seqs.is_empty() {
                    self.by_phone.remove(&old.e164);
                }
            }
        }
        self.by_id.insert(id, seq);
        self.by_phone.entry(e164).or_default().push(seq);
        seq
    }
}

/// An app registration.
#[derive(Debug, Clone)]
pub(crate) struct Registration {
    /// `_id`.
    pub(crate) id: String,
    /// The project.
    pub(crate) project: String,
    /// The project flow.
    pub(crate) project_flow: String,
    /// The registrant's phone, E.164.
    pub(crate) e164: Option<String>,
    /// The registrant's e-mail address, lowercase.
    pub(crate) email: Option<String>,
    /// When its JWT stops working.
    pub(crate) expires_at: OffsetDateTime,
}
