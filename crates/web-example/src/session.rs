//! The server-side session store: a random cookie names a session; the verification handle,
//! the CSRF token and the result live here, never in the browser.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr};
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

/// The session cookie's name when it is `Secure` ([`Sessions::secure_cookie`]): with the
/// `__Host-` prefix, a browser takes it only from this host over HTTPS, with `Path=/` and no
/// `Domain`, so a neighbouring subdomain or a page over plain HTTP cannot set one.
pub const SECURE_COOKIE: &str = "__Host-pv_session";

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
    /// Whether the visitor's browser is a mobile one (deeplink instead of QR code).
    pub mobile: bool,
    /// Set when the verification can no longer succeed (expired, too many attempts).
    pub finished: bool,
    /// Set while a code check is at the provider, cleared once its outcome is recorded. Still
    /// set when the check was cut short (its visitor closed the connection, and the server
    /// dropped the request): the provider may have used the code, so the next check closes
    /// the form instead of checking a code again.
    pub checking: bool,
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
    /// The last phone typed, to fill the form again. Written only together with a new id for
    /// the session, in the answer to the form that typed it ([`Sessions::rotate`]).
    pub last_phone: String,
    /// The last country picked (ISO 3166-1 alpha-2), written as `last_phone` is.
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

/// How long a request waits for its session's lock, held by the visitor's other requests,
/// before it is answered `503` without calling a provider: longer than one provider call
/// (the SDK's overall deadline is 30 s), so a request queued behind one goes through. Only
/// the wait is bounded, never a provider call under way. A request the visitor gives up
/// (closing the connection) is cancelled with its provider call: the session's new id can
/// only be given in that request's own response (session fixation), so nothing of it may
/// outlive the request. A code sent then stays valid, but the session has no handle for it,
/// and the visitor asks again once the guard's resend cooldown ends; a code check cut short
/// leaves [`Pending::checking`] set, and closes the form. A check answered verified is recorded
/// before the provider's session is resolved: a request given up during the resolution leaves
/// the session verified (under the id given when the verification started).
pub const LOCK_WAIT: Duration = Duration::from_secs(35);

/// How long a session lives without being used: past it, its id names nothing.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// How long a session lives at most from when it was made, however often it is used.
pub const LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);

/// How many new sessions one address may make per [`NEW_SESSIONS_WINDOW`].
pub const NEW_SESSIONS_PER_ADDRESS: u32 = 20;

/// The window [`NEW_SESSIONS_PER_ADDRESS`] counts in.
pub const NEW_SESSIONS_WINDOW: Duration = Duration::from_secs(60);

/// How many addresses the limit on new sessions remembers; the least recently seen is
/// forgotten past it.
pub const ADDRESSES: usize = 10_000;

/// A session in the store, with when it was made and last used.
struct Entry {
    session: Arc<tokio::sync::Mutex<Session>>,
    created: Instant,
    used: Instant,
}

/// A page that would make a session was refused: its address made too many lately.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooManySessions {
    /// How long until the address may make one again.
    pub retry_after: Duration,
}

/// The limit on the sessions one address makes: at most `per_window` in a fixed window per
/// address, the addresses kept in a bounded map (least recently seen out). An IPv6 address
/// counts by its /64 (one subscriber's prefix), an IPv4-mapped one as the IPv4 address, and
/// requests without a known address share one count.
#[derive(Debug)]
pub struct AddressLimit {
    per_window: u32,
    window: Duration,
    windows: Mutex<LruCache<Option<IpAddr>, Window>>,
}

/// One address's count in its current window.
#[derive(Debug, Clone, Copy)]
struct Window {
    start: Instant,
    count: u32,
}

impl Default for AddressLimit {
    fn default() -> Self {
        Self::new(NEW_SESSIONS_PER_ADDRESS, NEW_SESSIONS_WINDOW, ADDRESSES)
    }
}

impl AddressLimit {
    /// At most `per_window` (at least one) new sessions per address per `window`, counted for
    /// at most `addresses` (at least one) addresses.
    pub fn new(per_window: u32, window: Duration, addresses: usize) -> Self {
        Self {
            per_window: per_window.max(1),
            window,
            windows: Mutex::new(LruCache::new(
                NonZeroUsize::new(addresses).unwrap_or(NonZeroUsize::MIN),
            )),
        }
    }

    /// Counts one new session for `ip` at `now`, or refuses it (uncounted) with the time
    /// until its window ends.
    pub fn acquire(&self, ip: Option<IpAddr>, now: Instant) -> Result<(), TooManySessions> {
        let mut windows = self.windows.lock().unwrap_or_else(PoisonError::into_inner);
        let window = windows.get_or_insert_mut(ip.map(address_key), || Window {
            start: now,
            count: 0,
        });
        let age = now.saturating_duration_since(window.start);
        if age >= self.window {
            *window = Window {
                start: now,
                count: 0,
            };
        } else if window.count >= self.per_window {
            return Err(TooManySessions {
                retry_after: self.window.saturating_sub(age),
            });
        }
        window.count += 1;
        Ok(())
    }

    /// How many addresses are counted.
    pub fn len(&self) -> usize {
        self.windows
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Whether no address is counted.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What an address counts as: an IPv4 address itself (IPv4-mapped IPv6 included), an IPv6
/// address by its /64, since one subscriber usually holds a whole /64.
fn address_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from_bits(v6.to_bits() & !u128::from(u64::MAX))),
        v4 @ IpAddr::V4(_) => v4,
    }
}

/// The sessions of every visitor: bounded (least recently used out), each forgotten once
/// unused for its idle timeout or past its lifetime ([`IDLE_TIMEOUT`] and [`LIFETIME`] by
/// default), new ones limited per address ([`AddressLimit`]).
#[derive(Debug)]
pub struct Sessions {
    map: Mutex<LruCache<String, Entry>>,
    idle_timeout: Duration,
    lifetime: Duration,
    limit: AddressLimit,
    secure_cookie: bool,
}

impl Default for Sessions {
    fn default() -> Self {
        Self::with_capacity(CAPACITY)
    }
}

impl Sessions {
    /// A store of at most `capacity` sessions (at least one), with the default expiry
    /// ([`IDLE_TIMEOUT`], [`LIFETIME`]) and limit per address ([`AddressLimit::default`]).
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            map: Mutex::new(LruCache::new(
                NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN),
            )),
            idle_timeout: IDLE_TIMEOUT,
            lifetime: LIFETIME,
            limit: AddressLimit::default(),
            secure_cookie: false,
        }
    }

    /// Forgets a session unused for `timeout`.
    #[must_use]
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// Forgets a session `lifetime` after it was made, used or not.
    #[must_use]
    pub fn lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = lifetime;
        self
    }

    /// Limits the new sessions per address with `limit`.
    #[must_use]
    pub fn address_limit(mut self, limit: AddressLimit) -> Self {
        self.limit = limit;
        self
    }

    /// When `secure`, the cookie naming a session is `Secure` (sent over HTTPS only) and named
    /// [`SECURE_COOKIE`] instead of [`COOKIE`]; only that name is read. For an app served over
    /// HTTPS (behind a reverse proxy that terminates TLS, say): the browser then never sends
    /// the session id in clear, and a subdomain cannot plant one.
    #[must_use]
    pub fn secure_cookie(mut self, secure: bool) -> Self {
        self.secure_cookie = secure;
        self
    }

    /// Whether the session cookie is `Secure` ([`secure_cookie`](Self::secure_cookie)).
    pub fn is_cookie_secure(&self) -> bool {
        self.secure_cookie
    }

    /// The session cookie's name: [`SECURE_COOKIE`] when it is `Secure`, else [`COOKIE`].
    pub fn cookie_name(&self) -> &'static str {
        if self.secure_cookie {
            SECURE_COOKIE
        } else {
            COOKIE
        }
    }

    /// The session named by `cookie`, or a new one (with a new id) when the cookie is absent,
    /// unknown or expired; returns its id and the locked session. A new one counts against
    /// the limit of its address `ip`: past it, none is made and the store is left as it is.
    /// Only a page that shows a form needs one: every other request takes
    /// [`existing`](Self::existing), so requests without a cookie do not fill the store.
    pub async fn open(
        &self,
        cookie: Option<&str>,
        ip: Option<IpAddr>,
    ) -> Result<(String, SessionLock), TooManySessions> {
        self.open_at(cookie, ip, Instant::now()).await
    }

    /// [`open`](Self::open) at `now`.
    pub(crate) async fn open_at(
        &self,
        cookie: Option<&str>,
        ip: Option<IpAddr>,
        now: Instant,
    ) -> Result<(String, SessionLock), TooManySessions> {
        if let Some(found) = self.existing_at(cookie, now).await {
            return Ok(found);
        }
        self.limit.acquire(ip, now)?;
        let id = random_token();
        let session = Arc::new(tokio::sync::Mutex::new(Session::new()));
        {
            let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
            // The least recently used end holds the sessions idle longest: drop the expired.
            while map
                .peek_lru()
                .is_some_and(|(_, entry)| self.expired(entry, now))
            {
                map.pop_lru();
            }
            map.put(
                id.clone(),
                Entry {
                    session: session.clone(),
                    created: now,
                    used: now,
                },
            );
        }
        Ok((id, session.lock_owned().await))
    }

    /// The session named by `cookie`, locked, if there is one and it has not expired (an
    /// expired one is forgotten); none is made. A session whose id was
    /// [rotated](Self::rotate) while this waited for its lock is not returned: the id it was
    /// asked by names nothing any more.
    pub async fn existing(&self, cookie: Option<&str>) -> Option<(String, SessionLock)> {
        self.existing_at(cookie, Instant::now()).await
    }

    /// [`existing`](Self::existing) at `now`.
    pub(crate) async fn existing_at(
        &self,
        cookie: Option<&str>,
        now: Instant,
    ) -> Option<(String, SessionLock)> {
        let id = cookie?;
        let session = {
            let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
            if self.expired(map.peek(id)?, now) {
                map.pop(id);
                return None;
            }
            let entry = map.get_mut(id)?;
            entry.used = now;
            entry.session.clone()
        };
        let locked = Arc::clone(&session).lock_owned().await;
        // The request holding the lock may have given the session a new id (or it was
        // forgotten): then `id` no longer names it.
        let map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        map.peek(id)
            .is_some_and(|entry| Arc::ptr_eq(&entry.session, &session))
            .then(|| (id.to_owned(), locked))
    }

    /// Whether `entry` has been idle too long or lived too long at `now`.
    fn expired(&self, entry: &Entry, now: Instant) -> bool {
        now.saturating_duration_since(entry.used) >= self.idle_timeout
            || now.saturating_duration_since(entry.created) >= self.lifetime
    }

    /// How long the cookie naming `id` may live: what remains of the session's lifetime (zero
    /// when `id` names no live session). The browser then keeps the id no longer than the
    /// server honours it; an id idle too long names nothing, and the next page replaces it.
    pub fn max_age(&self, id: &str) -> Duration {
        self.max_age_at(id, Instant::now())
    }

    /// [`max_age`](Self::max_age) at `now`.
    pub(crate) fn max_age_at(&self, id: &str, now: Instant) -> Duration {
        let map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        map.peek(id)
            .filter(|entry| !self.expired(entry, now))
            .map_or(Duration::ZERO, |entry| {
                self.lifetime
                    .saturating_sub(now.saturating_duration_since(entry.created))
            })
    }

    /// Gives the session named `id` (whose lock the caller holds as `session`) a new id and a
    /// new CSRF token, and forgets the old id; returns the new id. Called when the visitor
    /// starts a verification (a form with the CSRF token, from the visitor's own browser),
    /// whenever that form's number is kept to fill it again (the start failed or not), and
    /// when it verifies: an id planted in the visitor's browser before (session fixation) or
    /// seen on the way names neither the number typed, nor the verification in progress, nor
    /// the verified session, and a request that waited for the lock with the old id gets
    /// nothing ([`existing`](Self::existing)).
    ///
    /// The session keeps its creation time, so its [lifetime](Self::lifetime) still counts
    /// from when it was made: a new id is no renewal. Were it reset, a stolen cookie would
    /// outlive the lifetime by as many verifications as its holder makes, and the lifetime
    /// would no longer bound how long one session lasts.
    pub fn rotate(&self, id: &str, session: &mut Session) -> String {
        let new_id = random_token();
        session.csrf = random_token();
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(entry) = map.pop(id) {
            map.put(new_id.clone(), entry);
        }
        new_id
    }

    /// How many sessions are held (expired ones included until they are looked up or a new
    /// session drops them).
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
        let (id, mut session) = sessions.open(None, None).await.unwrap();
        assert_eq!(id.len(), 64);
        session.last_phone = "5321234567".into();
        drop(session);
        let (again, session) = sessions.open(Some(&id), None).await.unwrap();
        assert_eq!(again, id);
        assert_eq!(session.last_phone, "5321234567");
        drop(session);
        let (other, session) = sessions.open(Some("forged"), None).await.unwrap();
        assert_ne!(other, "forged");
        assert!(session.last_phone.is_empty());
        assert_eq!(sessions.len(), 2);
    }

    #[tokio::test]
    async fn the_store_is_bounded() {
        let sessions = Sessions::with_capacity(2);
        let (first, session) = sessions.open(None, None).await.unwrap();
        drop(session);
        for _ in 0..2 {
            drop(sessions.open(None, None).await.unwrap());
        }
        assert_eq!(sessions.len(), 2);
        let (id, _session) = sessions.open(Some(&first), None).await.unwrap();
        assert_ne!(id, first, "the oldest session was forgotten");
    }

    #[tokio::test]
    async fn a_rotated_session_answers_to_its_new_id_only() {
        let sessions = Sessions::default();
        let (id, mut session) = sessions.open(None, None).await.unwrap();
        session.last_phone = "5321234567".into();
        let csrf = session.csrf.clone();
        let new_id = sessions.rotate(&id, &mut session);
        assert_ne!(new_id, id);
        assert_ne!(session.csrf, csrf, "a new CSRF token too");
        drop(session);
        let (again, session) = sessions.open(Some(&new_id), None).await.unwrap();
        assert_eq!(again, new_id);
        assert_eq!(session.last_phone, "5321234567");
        drop(session);
        let (other, session) = sessions.open(Some(&id), None).await.unwrap();
        assert_ne!(other, id, "the old id names nothing");
        assert!(session.last_phone.is_empty());
    }

    #[tokio::test]
    async fn a_request_queued_behind_a_rotation_gets_nothing() {
        let sessions = Sessions::default();
        let (id, session) = sessions.open(None, None).await.unwrap();
        let mut waker = std::task::Context::from_waker(std::task::Waker::noop());
        // A request with the same id, queued while the lock is held, then given it.
        let mut queued = std::pin::pin!(sessions.existing(Some(&id)));
        assert!(queued.as_mut().poll(&mut waker).is_pending());
        drop(session);
        let (same, mut session) = queued.await.expect("the id still names it");
        assert_eq!(same, id);
        // One queued while the holder gives the session a new id.
        let mut queued = std::pin::pin!(sessions.existing(Some(&id)));
        assert!(queued.as_mut().poll(&mut waker).is_pending());
        let new_id = sessions.rotate(&id, &mut session);
        drop(session);
        assert!(queued.await.is_none(), "the old id names nothing");
        assert!(sessions.existing(Some(&new_id)).await.is_some());
    }

    #[test]
    fn the_secure_cookie_has_its_own_name() {
        let sessions = Sessions::default();
        assert!(!sessions.is_cookie_secure());
        assert_eq!(sessions.cookie_name(), COOKIE);
        let sessions = sessions.secure_cookie(true);
        assert!(sessions.is_cookie_secure());
        assert_eq!(sessions.cookie_name(), "__Host-pv_session");
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
        let (_, session) = sessions.open(None, None).await.unwrap();
        let token = session.csrf.clone();
        assert!(session.csrf_matches(&token));
        assert!(!session.csrf_matches(""));
        assert!(!session.csrf_matches(&token[..63]));
        let mut flipped = token.into_bytes();
        flipped[0] = if flipped[0] == b'a' { b'b' } else { b'a' };
        assert!(!session.csrf_matches(&String::from_utf8(flipped).unwrap()));
    }

    const MINUTE: Duration = Duration::from_secs(60);

    /// A session made at `now` (from `ip`): its id.
    async fn made(sessions: &Sessions, ip: &str, now: Instant) -> String {
        let (id, _session) = sessions
            .open_at(None, Some(ip.parse().unwrap()), now)
            .await
            .unwrap();
        id
    }

    /// Whether `id` names a live session at `now`.
    async fn found(sessions: &Sessions, id: &str, now: Instant) -> bool {
        sessions.existing_at(Some(id), now).await.is_some()
    }

    #[tokio::test]
    async fn a_session_idle_too_long_names_nothing() {
        let sessions = Sessions::default();
        let t0 = Instant::now();
        let id = made(&sessions, "203.0.113.9", t0).await;
        let almost = IDLE_TIMEOUT.saturating_sub(MINUTE);
        assert!(
            found(&sessions, &id, t0 + almost).await,
            "used within the timeout"
        );
        assert!(
            found(&sessions, &id, t0 + 2 * almost).await,
            "each use starts the timeout again"
        );
        let idle = t0 + 2 * almost + IDLE_TIMEOUT;
        assert!(!found(&sessions, &id, idle).await, "idle for the timeout");
    }

    #[tokio::test]
    async fn a_session_used_all_along_ends_with_its_lifetime() {
        let sessions = Sessions::default();
        let t0 = Instant::now();
        let id = made(&sessions, "203.0.113.9", t0).await;
        let mut now = t0;
        while now + IDLE_TIMEOUT / 2 < t0 + LIFETIME {
            now += IDLE_TIMEOUT / 2;
            assert!(found(&sessions, &id, now).await, "{:?} in", now - t0);
        }
        assert!(
            !found(&sessions, &id, t0 + LIFETIME).await,
            "used {:?} ago, but made a lifetime ago",
            t0 + LIFETIME - now
        );
    }

    #[tokio::test]
    async fn an_expired_session_is_forgotten_and_its_cookie_gets_a_new_one() {
        let sessions = Sessions::default()
            .idle_timeout(MINUTE)
            .lifetime(10 * MINUTE);
        let t0 = Instant::now();
        let id = made(&sessions, "203.0.113.9", t0).await;
        let (_, mut session) = sessions.existing_at(Some(&id), t0).await.unwrap();
        session.last_phone = "5321234567".into();
        drop(session);
        assert!(!found(&sessions, &id, t0 + MINUTE).await);
        assert!(sessions.is_empty(), "removed from the store");
        assert_eq!(sessions.max_age_at(&id, t0 + MINUTE), Duration::ZERO);
        let (other, session) = sessions
            .open_at(Some(&id), None, t0 + MINUTE)
            .await
            .unwrap();
        assert_ne!(other, id, "a new id, as for an unknown cookie");
        assert!(session.last_phone.is_empty());
        drop(session);
        assert!(!found(&sessions, &id, t0 + MINUTE).await);
        assert_eq!(sessions.len(), 1);
    }

    #[tokio::test]
    async fn a_new_session_drops_the_expired_ones() {
        let sessions = Sessions::default();
        let t0 = Instant::now();
        for _ in 0..3 {
            made(&sessions, "203.0.113.9", t0).await;
        }
        let kept = made(&sessions, "203.0.113.9", t0 + IDLE_TIMEOUT / 2).await;
        assert_eq!(sessions.len(), 4);
        made(&sessions, "198.51.100.7", t0 + IDLE_TIMEOUT).await;
        assert_eq!(sessions.len(), 2, "the three idle since t0 are gone");
        assert!(found(&sessions, &kept, t0 + IDLE_TIMEOUT).await);
    }

    #[tokio::test]
    async fn a_rotated_session_keeps_its_lifetime() {
        let sessions = Sessions::default().idle_timeout(2 * LIFETIME);
        let t0 = Instant::now();
        let id = made(&sessions, "203.0.113.9", t0).await;
        let later = t0 + LIFETIME / 2;
        assert_eq!(sessions.max_age_at(&id, later), LIFETIME / 2);
        let (_, mut session) = sessions.existing_at(Some(&id), later).await.unwrap();
        let new_id = sessions.rotate(&id, &mut session);
        drop(session);
        assert_eq!(
            sessions.max_age_at(&new_id, later),
            LIFETIME / 2,
            "the cookie lives what remains"
        );
        assert!(found(&sessions, &new_id, t0 + LIFETIME.saturating_sub(MINUTE)).await);
        assert!(
            !found(&sessions, &new_id, t0 + LIFETIME).await,
            "a lifetime after the first id was made"
        );
    }

    #[test]
    fn an_address_past_its_limit_is_refused_until_its_window_passes() {
        let limit = AddressLimit::new(3, MINUTE, 100);
        let (ip, other) = (Some("203.0.113.9".parse().unwrap()), "198.51.100.7".parse());
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(limit.acquire(ip, t0), Ok(()));
        }
        let refused = |retry_after| Err(TooManySessions { retry_after });
        assert_eq!(limit.acquire(ip, t0), refused(MINUTE));
        let later = t0 + Duration::from_secs(45);
        assert_eq!(
            limit.acquire(ip, later),
            refused(Duration::from_secs(15)),
            "refusals are not counted, and do not move the window"
        );
        assert_eq!(limit.acquire(other.ok(), later), Ok(()), "another address");
        assert_eq!(limit.acquire(ip, t0 + MINUTE), Ok(()), "a new window");
        assert_eq!(limit.acquire(ip, t0 + MINUTE), Ok(()));
    }

    #[test]
    fn an_ipv6_address_counts_by_its_64_and_a_mapped_ipv4_as_itself() {
        let limit = AddressLimit::new(1, MINUTE, 100);
        let now = Instant::now();
        let ip = |text: &str| Some(text.parse().unwrap());
        assert!(limit.acquire(ip("2001:db8:1:2::1"), now).is_ok());
        assert!(
            limit.acquire(ip("2001:db8:1:2:ffff::9"), now).is_err(),
            "the same /64"
        );
        assert!(limit.acquire(ip("2001:db8:1:3::1"), now).is_ok());
        assert!(limit.acquire(ip("203.0.113.9"), now).is_ok());
        assert!(limit.acquire(ip("::ffff:203.0.113.9"), now).is_err());
        assert!(limit.acquire(ip("203.0.113.10"), now).is_ok());
        assert!(limit.acquire(None, now).is_ok());
        assert!(
            limit.acquire(None, now).is_err(),
            "unknown addresses share one"
        );
    }

    #[test]
    fn the_limit_remembers_a_bounded_number_of_addresses() {
        let limit = AddressLimit::new(1, MINUTE, 2);
        let now = Instant::now();
        for i in 0..100_u8 {
            assert!(limit.acquire(Some([198, 51, 100, i].into()), now).is_ok());
        }
        assert_eq!(limit.len(), 2);
    }

    #[tokio::test]
    async fn an_address_past_its_limit_makes_no_session_but_a_known_cookie_still_works() {
        let sessions = Sessions::default().address_limit(AddressLimit::new(2, MINUTE, ADDRESSES));
        let t0 = Instant::now();
        let ip = Some("203.0.113.9".parse().unwrap());
        let first = made(&sessions, "203.0.113.9", t0).await;
        made(&sessions, "203.0.113.9", t0).await;
        let refused = sessions.open_at(None, ip, t0).await.err();
        assert_eq!(
            refused,
            Some(TooManySessions {
                retry_after: MINUTE
            })
        );
        let refused = sessions.open_at(Some("forged"), ip, t0).await;
        assert!(refused.is_err(), "an unknown cookie is no way round");
        assert_eq!(sessions.len(), 2, "the store is left as it is");
        let (id, session) = sessions.open_at(Some(&first), ip, t0).await.unwrap();
        assert_eq!(id, first, "a known cookie is never limited");
        drop(session);
        made(&sessions, "198.51.100.7", t0).await;
        made(&sessions, "203.0.113.9", t0 + MINUTE).await;
        assert_eq!(sessions.len(), 4);
    }
}
