//! One-time codes: the sandbox's random source and the life cycle of a pending code.

use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use time::{Duration, OffsetDateTime};

/// The sandbox's random source: ChaCha20 seeded from the OS (a CSPRNG), or from a fixed seed so
/// tests get the same codes and ids on every run.
#[derive(Debug, Clone)]
pub(crate) struct SandboxRng(ChaCha20Rng);

impl SandboxRng {
    /// A generator seeded with `seed`, or from operating-system entropy when `None`.
    pub(crate) fn new(seed: Option<u64>) -> Self {
        Self(match seed {
            Some(seed) => ChaCha20Rng::seed_from_u64(seed),
            None => ChaCha20Rng::from_os_rng(),
        })
    }

    /// A numeric code of `len` decimal digits (leading zeros allowed).
    pub(crate) fn digits(&mut self, len: usize) -> String {
        (0..len)
            .map(|_| char::from(b'0' + self.0.random_range(0..10u8)))
            .collect()
    }

    /// `len` characters from `[A-Za-z0-9]`.
    pub(crate) fn alphanumeric(&mut self, len: usize) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        (0..len)
            .map(|_| char::from(ALPHABET[self.0.random_range(0..ALPHABET.len())]))
            .collect()
    }

    /// `N` random bytes.
    pub(crate) fn bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        self.0.fill_bytes(&mut out);
        out
    }

    /// `len` random bytes as lowercase hex.
    pub(crate) fn hex(&mut self, len: usize) -> String {
        let mut buf = vec![0u8; len];
        self.0.fill_bytes(&mut buf);
        hex(&buf)
    }

    /// A random (version 4) UUID in its hyphenated form.
    pub(crate) fn uuid(&mut self) -> String {
        let mut b: [u8; 16] = self.bytes();
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        let h = hex(&b);
        format!(
            "{}-{}-{}-{}-{}",
            &h[..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..]
        )
    }

    /// A 24-hex MongoDB-style ObjectId: 4 bytes of `now` (seconds) then 8 random bytes.
    pub(crate) fn object_id(&mut self, now: OffsetDateTime) -> String {
        let secs = u32::try_from(now.unix_timestamp().max(0)).unwrap_or(u32::MAX);
        format!("{secs:08x}{}", self.hex(8))
    }
}

/// Lowercase hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// Compares two codes in time independent of where they differ.
pub(crate) fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The outcome of checking a candidate against a [`PendingCode`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CodeCheck {
    /// The candidate matched; the code is now used up.
    Valid,
    /// The candidate did not match; one more failed attempt was counted.
    Invalid,
    /// The code's validity period is over.
    Expired,
    /// Too many failed attempts: the code no longer accepts any candidate.
    Throttled,
    /// The code was already used successfully (codes are single use).
    Used,
}

/// A code that was sent and waits for the user to enter it.
#[derive(Debug, Clone)]
pub(crate) struct PendingCode {
    code: String,
    expires_at: OffsetDateTime,
    failed_attempts: u32,
    used: bool,
}

impl PendingCode {
    /// A code issued at `now`, valid for `ttl`. An expiry past the last representable date
    /// saturates there (the code then never expires) instead of overflowing.
    pub(crate) fn new(code: String, now: OffsetDateTime, ttl: Duration) -> Self {
        Self {
            code,
            expires_at: now.saturating_add(ttl),
            failed_attempts: 0,
            used: false,
        }
    }

    /// Whether the validity period is over at `now`.
    pub(crate) fn is_expired(&self, now: OffsetDateTime) -> bool {
        now >= self.expires_at
    }

    /// Failed attempts so far.
    pub(crate) fn failed_attempts(&self) -> u32 {
        self.failed_attempts
    }

    /// Counts a failed attempt made outside [`PendingCode::check`] (e.g. a wrong TOTP value).
    pub(crate) fn record_failure(&mut self) {
        self.failed_attempts += 1;
    }

    /// Checks `candidate` at `now`. With `max_failures`, a code that already had that many
    /// failed attempts answers [`CodeCheck::Throttled`] whatever the candidate.
    pub(crate) fn check(
        &mut self,
        candidate: &str,
        now: OffsetDateTime,
        max_failures: Option<u32>,
    ) -> CodeCheck {
        if self.used {
            return CodeCheck::Used;
        }
        if max_failures.is_some_and(|max| self.failed_attempts >= max) {
            return CodeCheck::Throttled;
        }
        if self.is_expired(now) {
            return CodeCheck::Expired;
        }
        if constant_time_eq(candidate.trim(), &self.code) {
            self.used = true;
            CodeCheck::Valid
        } else {
            self.failed_attempts += 1;
            CodeCheck::Invalid
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_have_the_requested_length_and_only_digits() {
        let mut rng = SandboxRng::new(None);
        for len in [4, 6, 8] {
            let code = rng.digits(len);
            assert_eq!(code.len(), len);
            assert!(code.bytes().all(|b| b.is_ascii_digit()), "{code}");
        }
    }

    #[test]
    fn a_seed_makes_codes_deterministic() {
        let a: Vec<String> = {
            let mut rng = SandboxRng::new(Some(7));
            (0..5).map(|_| rng.digits(6)).collect()
        };
        let b: Vec<String> = {
            let mut rng = SandboxRng::new(Some(7));
            (0..5).map(|_| rng.digits(6)).collect()
        };
        let c: Vec<String> = {
            let mut rng = SandboxRng::new(Some(8));
            (0..5).map(|_| rng.digits(6)).collect()
        };
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn entropy_seeded_generators_differ() {
        let mut a = SandboxRng::new(None);
        let mut b = SandboxRng::new(None);
        assert_ne!(a.hex(16), b.hex(16));
    }

    #[test]
    fn digits_cover_all_values() {
        let mut rng = SandboxRng::new(Some(1));
        let all: String = (0..200).map(|_| rng.digits(6)).collect();
        for d in '0'..='9' {
            assert!(all.contains(d), "digit {d} never drawn");
        }
    }

    #[test]
    fn ids_have_their_formats() {
        let mut rng = SandboxRng::new(Some(3));
        let now = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        let oid = rng.object_id(now);
        assert_eq!(oid.len(), 24);
        assert!(oid.starts_with("6553f100"));
        assert!(oid.bytes().all(|b| b.is_ascii_hexdigit()));
        let uuid = rng.uuid();
        assert_eq!(uuid.len(), 36);
        assert_eq!(&uuid[14..15], "4");
        let alnum = rng.alphanumeric(30);
        assert!(alnum.bytes().all(|b| b.is_ascii_alphanumeric()));
    }

    /// Version 4, RFC 4122's variant (`8`, `9`, `a` or `b` after the third hyphen), and the
    /// other bits of those bytes still random.
    #[test]
    fn uuids_are_random_version_4() {
        let mut rng = SandboxRng::new(Some(11));
        let uuids: Vec<String> = (0..64).map(|_| rng.uuid()).collect();
        let mut variants = std::collections::BTreeSet::new();
        let mut versions = std::collections::BTreeSet::new();
        for uuid in &uuids {
            let groups: Vec<&str> = uuid.split('-').collect();
            let lens: Vec<usize> = groups.iter().map(|g| g.len()).collect();
            assert_eq!(lens, [8, 4, 4, 4, 12], "{uuid}");
            assert!(
                uuid.bytes()
                    .all(|b| b == b'-' || b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
                "{uuid}"
            );
            assert_eq!(&uuid[14..15], "4", "{uuid}");
            assert!("89ab".contains(&uuid[19..20]), "{uuid}");
            versions.insert(uuid[15..16].to_owned());
            variants.insert(uuid[19..21].to_owned());
        }
        assert!(versions.len() > 4, "{versions:?}");
        assert!(variants.len() > 8, "{variants:?}");
        let distinct: std::collections::BTreeSet<_> = uuids.iter().collect();
        assert_eq!(distinct.len(), uuids.len());
    }

    #[test]
    fn constant_time_eq_compares_exactly() {
        assert!(constant_time_eq("123456", "123456"));
        assert!(!constant_time_eq("123456", "123457"));
        assert!(!constant_time_eq("12345", "123456"));
        assert!(!constant_time_eq("", "1"));
    }

    fn at(secs: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_700_000_000 + secs).unwrap()
    }

    #[test]
    fn a_code_is_single_use() {
        let mut code = PendingCode::new("123456".into(), at(0), Duration::seconds(300));
        assert_eq!(code.check("123456", at(1), None), CodeCheck::Valid);
        assert_eq!(code.check("123456", at(2), None), CodeCheck::Used);
    }

    #[test]
    fn a_code_expires_at_its_ttl() {
        let mut code = PendingCode::new("123456".into(), at(0), Duration::seconds(300));
        assert!(!code.is_expired(at(299)));
        assert!(code.is_expired(at(300)));
        assert_eq!(code.check("123456", at(300), None), CodeCheck::Expired);
        assert_eq!(
            code.failed_attempts(),
            0,
            "an expired check is not a failed attempt"
        );
    }

    #[test]
    fn wrong_codes_count_and_throttle_at_the_limit() {
        let mut code = PendingCode::new("123456".into(), at(0), Duration::seconds(300));
        for n in 1..=3 {
            assert_eq!(code.check("000000", at(1), Some(3)), CodeCheck::Invalid);
            assert_eq!(code.failed_attempts(), n);
        }
        assert_eq!(code.check("123456", at(1), Some(3)), CodeCheck::Throttled);
        code.record_failure();
        assert_eq!(code.failed_attempts(), 4);
    }

    #[test]
    fn an_expiry_past_the_last_date_saturates_instead_of_panicking() {
        let near_end = time::macros::datetime!(9999-12-31 23:00 UTC);
        let mut code = PendingCode::new("123456".into(), near_end, Duration::hours(2));
        assert!(!code.is_expired(time::macros::datetime!(9999-12-31 23:59:59 UTC)));
        assert_eq!(code.check("123456", near_end, None), CodeCheck::Valid);
        let early = PendingCode::new("1".into(), at(0), Duration::MIN);
        assert!(early.is_expired(at(0)));
    }

    #[test]
    fn without_a_limit_wrong_codes_never_throttle() {
        let mut code = PendingCode::new("123456".into(), at(0), Duration::seconds(600));
        for _ in 0..50 {
            assert_eq!(code.check("654321", at(1), None), CodeCheck::Invalid);
        }
        assert_eq!(code.check(" 123456 ", at(1), None), CodeCheck::Valid);
    }
}
