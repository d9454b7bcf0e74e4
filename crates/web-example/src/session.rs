//! The server-side session store: a random cookie names a session; the verification handle,
//! the CSRF token and the result live here, never in the browser.

use std::fmt;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use lru::LruCache;
use phone_verify::{PhoneNumber, ResolvedSession, Verification};
use time::OffsetDateTime;

use crate::backend::Choice;
use crate::token::random_token;

/// The session cookie's name.
pub const COOKIE: &str = "pv_session";

/// How many sessions are kept; the least recently used is forgotten past it.
pub const CAPACITY: usize = 10_000;

/// A message shown once on the next page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// `error`, `warning` or `info`: the style.
    pub level: &'static str,
    /// The text.
    pub text: String,
    /// Seconds until the visitor may try again (a guard denial), counted down on the page.
    pub retry_after: Option<u64>,
}

impl Notice {
    /// An error message.
    pub fn error(text: impl Into<String>) -> Self {
        Self {
            level: "error",
            text: text.into(),
            retry_after: None,
        }
    }

    /// An informational message.
    pub fn info(text: impl Into<String>) -> Self {
        Self {
            level: "info",
            text: text.into(),
            retry_after: None,
        }
    }
}

/// A verification in progress.
#[derive(Debug, Clone)]
pub struct Pending {
    /// The handle `start` returned: it never leaves the server.
    pub handle: Verification,
    /// The provider choice that started it (its check goes to the same router).
    pub choice: Choice,
    /// Whether the visitor's browser is a mobile one (deeplink instead of QR code).
    pub mobile: bool,
    /// Set when the verification can no longer succeed (expired, too many attempts).
    pub finished: bool,
    /// When a reverse flow was last polled at the provider.
    pub last_poll: Option<Instant>,
}

/// The shortest time between two polls of a reverse flow at the provider, per session (the
/// page's script polls every 1.5 s): reloads and scripted requests do not multiply the
/// provider calls a visitor makes.
pub const POLL_INTERVAL: Duration = Duration::from_secs(1);

impl Pending {
    /// Whether the flow may be polled at the provider now (and if so, that it is, from now).
    pub fn may_poll(&mut self) -> bool {
        let now = Instant::now();
        if self
            .last_poll
            .is_some_and(|at| now.duration_since(at) < POLL_INTERVAL)
        {
            return false;
        }
        self.last_poll = Some(now);
        true
    }
}

/// A completed verification, as resolved on the server.
#[derive(Debug, Clone)]
pub struct Done {
    /// The verified phone number.
    pub phone: Option<PhoneNumber>,
    /// The channel name.
    pub channel: String,
    /// The route (provider) that verified it.
    pub route: String,
    /// When the provider verified it.
    pub verified_at: Option<OffsetDateTime>,
    /// What the session resolver reported, for reverse flows.
    pub resolved: Option<ResolvedSession>,
}

/// One visitor's state.
#[derive(Clone)]
pub struct Session {
    /// The token every form carries back.
    pub csrf: String,
    /// The language of texts and messages (`en`, `tr`, `es`).
    pub lang: Option<String>,
    /// The last phone typed, to fill the form again.
    pub last_phone: String,
    /// The last country picked (ISO 3166-1 alpha-2).
    pub last_country: Option<String>,
    /// The last provider choice.
    pub last_choice: Choice,
    /// The verification in progress.
    pub pending: Option<Pending>,
    /// The verified result.
    pub done: Option<Done>,
    /// A message for the next page.
    pub notice: Option<Notice>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The CSRF token is never shown, the phone only masked.
        f.debug_struct("Session")
            .field("csrf", &"<redacted>")
            .field("lang", &self.lang)
            .field(
                "last_phone",
                &masked_phone(PhoneNumber::parse(&self.last_phone)),
            )
            .field("last_country", &self.last_country)
            .field("last_choice", &self.last_choice)
            .field("pending", &self.pending)
            .field("done", &self.done)
            .field("notice", &self.notice)
            .finish()
    }
}

/// A phone the visitor typed, for `Debug`: [`PhoneNumber::masked`] when it reads as a number,
/// else `<redacted>`.
pub(crate) fn masked_phone<E>(parsed: Result<PhoneNumber, E>) -> String {
    parsed.map_or_else(|_| "<redacted>".to_owned(), |phone| phone.masked())
}

impl Session {
    fn new() -> Self {
        Self {
            csrf: random_token(),
            lang: None,
            last_phone: String::new(),
            last_country: None,
            last_choice: Choice::Auto,
            pending: None,
            done: None,
            notice: None,
        }
    }

    /// Whether `token` is this session's CSRF token (compared in constant time).
    pub fn csrf_matches(&self, token: &str) -> bool {
        let (a, b) = (self.csrf.as_bytes(), token.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0_u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

/// A session locked for the length of one request, so a poll and a form of the same visitor
/// never overwrite each other.
pub type SessionLock = tokio::sync::OwnedMutexGuard<Session>;

/// The sessions of every visitor, bounded.
#[derive(Debug)]
pub struct Sessions {
    map: Mutex<LruCache<String, Arc<tokio::sync::Mutex<Session>>>>,
}

impl Default for Sessions {
    fn default() -> Self {
        Self::with_capacity(CAPACITY)
    }
}

impl Sessions {
    /// A store of at most `capacity` sessions (at least one).
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            map: Mutex::new(LruCache::new(
                NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN),
            )),
        }
    }

    /// The session named by `cookie`, or a new one (with a new id) when the cookie is absent or
    /// unknown; returns its id and the locked session. Only a page that shows a form needs
    /// one: every other request takes [`existing`](Self::existing), so requests without a
    /// cookie do not fill the store.
    pub async fn open(&self, cookie: Option<&str>) -> (String, SessionLock) {
        if let Some(found) = self.existing(cookie).await {
            return found;
        }
        let id = random_token();
        let session = Arc::new(tokio::sync::Mutex::new(Session::new()));
        self.map
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .put(id.clone(), session.clone());
        (id, session.lock_owned().await)
    }

    /// The session named by `cookie`, locked, if there is one; none is made.
    pub async fn existing(&self, cookie: Option<&str>) -> Option<(String, SessionLock)> {
        let id = cookie?;
        let session = self
            .map
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(id)
            .cloned()?;
        Some((id.to_owned(), session.lock_owned().await))
    }

    /// Gives the session named `id` (whose lock the caller holds as `session`) a new id and a
    /// new CSRF token, and forgets the old id; returns the new id. Called when the visitor
    /// verifies: an id planted in the visitor's browser before (session fixation) or seen on
    /// the way no longer names the verified session.
    pub fn rotate(&self, id: &str, session: &mut Session) -> String {
        let new_id = random_token();
        session.csrf = random_token();
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(entry) = map.pop(id) {
            map.put(new_id.clone(), entry);
        }
        new_id
    }

    /// How many sessions are held.
    pub fn len(&self) -> usize {
        self.map
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Whether no session is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_cookie_finds_its_session_and_an_unknown_one_gets_a_new_id() {
        let sessions = Sessions::default();
        let (id, mut session) = sessions.open(None).await;
        assert_eq!(id.len(), 64);
        session.last_phone = "5321234567".into();
        drop(session);
        let (again, session) = sessions.open(Some(&id)).await;
        assert_eq!(again, id);
        assert_eq!(session.last_phone, "5321234567");
        drop(session);
        let (other, session) = sessions.open(Some("forged")).await;
        assert_ne!(other, "forged");
        assert!(session.last_phone.is_empty());
        assert_eq!(sessions.len(), 2);
    }

    #[tokio::test]
    async fn the_store_is_bounded() {
        let sessions = Sessions::with_capacity(2);
        let (first, session) = sessions.open(None).await;
        drop(session);
        for _ in 0..2 {
            let _ = sessions.open(None).await;
        }
        assert_eq!(sessions.len(), 2);
        let (id, _session) = sessions.open(Some(&first)).await;
        assert_ne!(id, first, "the oldest session was forgotten");
    }

    #[tokio::test]
    async fn a_rotated_session_answers_to_its_new_id_only() {
        let sessions = Sessions::default();
        let (id, mut session) = sessions.open(None).await;
        session.last_phone = "5321234567".into();
        let csrf = session.csrf.clone();
        let new_id = sessions.rotate(&id, &mut session);
        assert_ne!(new_id, id);
        assert_ne!(session.csrf, csrf, "a new CSRF token too");
        drop(session);
        let (again, session) = sessions.open(Some(&new_id)).await;
        assert_eq!(again, new_id);
        assert_eq!(session.last_phone, "5321234567");
        drop(session);
        let (other, session) = sessions.open(Some(&id)).await;
        assert_ne!(other, id, "the old id names nothing");
        assert!(session.last_phone.is_empty());
    }

    #[test]
    fn debug_masks_the_phone_and_redacts_the_csrf_token() {
        let mut session = Session::new();
        let csrf = session.csrf.clone();
        for typed in ["+905321234567", "532 123 45 67"] {
            session.last_phone = typed.into();
            let shown = format!("{session:?}");
            assert!(
                !shown.contains(&csrf) && !shown.contains(typed) && !shown.contains("1234567"),
                "{shown}"
            );
        }
        session.last_phone = "+905321234567".into();
        assert!(format!("{session:?}").contains("+90********67"));
    }

    #[tokio::test]
    async fn csrf_tokens_compare_exactly() {
        let sessions = Sessions::default();
        let (_, session) = sessions.open(None).await;
        let token = session.csrf.clone();
        assert!(session.csrf_matches(&token));
        assert!(!session.csrf_matches(""));
        assert!(!session.csrf_matches(&token[..63]));
        let mut flipped = token.into_bytes();
        flipped[0] = if flipped[0] == b'a' { b'b' } else { b'a' };
        assert!(!session.csrf_matches(&String::from_utf8(flipped).unwrap()));
    }
}
