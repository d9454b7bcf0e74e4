//! VerifyKit's state: flows, sessions, the blacklist and the send and request windows, bounded.

use std::collections::{HashSet, VecDeque};

use time::OffsetDateTime;

use super::records::{EmailFlow, OtpFlow, ReverseFlow, Session};
use crate::bounded::BoundedMap;
use crate::config::SandboxConfig;
use crate::otp::SandboxRng;

/// VerifyKit's flows, sessions and lists. Every kind of record keeps at most
/// [`SandboxConfig::records_capacity`] entries, forgetting the oldest first; the blacklist,
/// which only the user fills, keeps at most `blacklist::MAX_BLACKLIST` entries and refuses
/// more (it forgets nothing on its own).
#[derive(Debug)]
pub(crate) struct VerifyKitState {
    /// SMS OTP flows by reference.
    pub(super) otps: BoundedMap<String, OtpFlow>,
    /// The reference of the live OTP of each number (a new send replaces it).
    pub(super) live_otp: BoundedMap<String, String>,
    /// WhatsApp/Telegram flows by reference.
    pub(super) reverse: BoundedMap<String, ReverseFlow>,
    /// E-mail flows by reference.
    pub(super) emails: BoundedMap<String, EmailFlow>,
    /// Completed verifications by session id.
    pub(super) sessions: BoundedMap<String, Session>,
    /// Banned `(type, E.164)` pairs.
    pub(super) blacklist: HashSet<(String, String)>,
    /// Send times per number (for `403015`).
    pub(super) sends: BoundedMap<String, VecDeque<OffsetDateTime>>,
    /// Request times per end-user IP (for `429001`).
    pub(super) hits: BoundedMap<String, VecDeque<OffsetDateTime>>,
    /// Last WhatsApp verification per number (session messages are allowed for 24 h).
    pub(super) whatsapp_verified: BoundedMap<String, OffsetDateTime>,
}

impl VerifyKitState {
    /// Empty state keeping at most `capacity` records of each kind.
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            otps: BoundedMap::new(capacity),
            live_otp: BoundedMap::new(capacity),
            reverse: BoundedMap::new(capacity),
            emails: BoundedMap::new(capacity),
            sessions: BoundedMap::new(capacity),
            blacklist: HashSet::new(),
            sends: BoundedMap::new(capacity),
            hits: BoundedMap::new(capacity),
            whatsapp_verified: BoundedMap::new(capacity),
        }
    }

    pub(super) fn is_banned(&self, kind: &str, e164: &str) -> bool {
        self.blacklist.contains(&(kind.to_owned(), e164.to_owned()))
    }

    /// Whether one more code may be sent to `e164` under `config`'s send limit.
    pub(super) fn may_send(
        &mut self,
        e164: &str,
        now: OffsetDateTime,
        config: &SandboxConfig,
    ) -> bool {
        let limit = config.verifykit_send_limit;
        let sends = self
            .sends
            .get_or_insert_with(e164.to_owned(), VecDeque::new);
        if let Some(cutoff) = window_start(now, limit.window) {
            while sends.front().is_some_and(|t| *t <= cutoff) {
                sends.pop_front();
            }
        }
        sends.len() < limit.max_sends as usize
    }

    pub(super) fn record_send(&mut self, e164: &str, now: OffsetDateTime) {
        self.sends
            .get_or_insert_with(e164.to_owned(), VecDeque::new)
            .push_back(now);
    }

    pub(super) fn reference_taken(&self, reference: &str) -> bool {
        self.otps.contains_key(reference)
            || self.reverse.contains_key(reference)
            || self.emails.contains_key(reference)
    }

    /// Records a completed verification and returns its session id.
    pub(super) fn create_session(&mut self, rng: &mut SandboxRng, session: Session) -> String {
        let mut id = rng.alphanumeric(32);
        while self.sessions.contains_key(&id) {
            id = rng.alphanumeric(32);
        }
        if session.validation_type == "whatsapp" {
            // The number's newest verification: forgotten after the older ones.
            self.whatsapp_verified
                .insert_newest(session.phone.clone(), session.date);
        }
        self.sessions.insert(id.clone(), session);
        id
    }
}

/// The start of a sliding `window` ending at `now`; `None` when it reaches before any date.
pub(super) fn window_start(
    now: OffsetDateTime,
    window: std::time::Duration,
) -> Option<OffsetDateTime> {
    time::Duration::try_from(window)
        .ok()
        .and_then(|w| now.checked_sub(w))
}
