//! Sealed handles: a [`Verification`] as a compact, encrypted and authenticated token for
//! clients that hold it (browsers, mobile apps), with key rotation.
//!
//! A token is the URL-safe base64 (no padding) of
//! `version (1 byte) || key id (1 byte) || nonce (24 bytes) || ciphertext || tag (16 bytes)`:
//! XChaCha20-Poly1305 over the handle's JSON, with the first two bytes as associated data, so
//! changing any byte of the token fails authentication. See [`Verification::seal`].

use std::fmt;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use chacha20poly1305::aead::{Aead as _, KeyInit as _, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::TryRngCore as _;
use rand::rngs::OsRng;
use secrecy::zeroize::{Zeroize as _, Zeroizing};
use secrecy::{ExposeSecret as _, SecretBox};
use time::OffsetDateTime;

use crate::error::{Error, ErrorKind};
use crate::verification::Verification;

/// The token format version this crate writes and reads.
pub const SEAL_VERSION: u8 = 1;
/// The length of a seal key, in bytes.
pub const SEAL_KEY_LEN: usize = 32;
/// The longest token [`Verification::open`] reads, in characters; longer input is refused
/// before it is decoded.
pub const MAX_TOKEN_LEN: usize = 64 * 1024;

const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
const HEADER_LEN: usize = 2;
/// The shortest well-formed token, in bytes before base64: header, nonce and tag.
const MIN_RAW_LEN: usize = HEADER_LEN + NONCE_LEN + TAG_LEN;
/// How long past its handle's `expires_at` a token still opens, unless
/// [`SealKeys::with_expiry_grace`] says otherwise.
const DEFAULT_EXPIRY_GRACE: Duration = Duration::from_secs(120);

/// Why a handle could not be sealed or a token opened. It never contains key material.
///
/// Converts into [`Error`]: [`ErrorKind::Expired`] for [`SealError::Expired`],
/// [`ErrorKind::InvalidInput`] otherwise.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    /// Not a token: not URL-safe base64, too short to hold a sealed handle, or too long.
    #[error("malformed sealed handle: {0}")]
    Malformed(&'static str),
    /// The token was written by a newer (or unknown) format version.
    #[error(
        "sealed handle version {0} is not supported (this library reads version {SEAL_VERSION})"
    )]
    UnsupportedVersion(u8),
    /// The token was sealed with a key id that is not in the key set (rotated out, or never
    /// this application's).
    #[error("sealed handle uses key id {0}, which is not among the accepted keys")]
    UnknownKey(u8),
    /// Authentication failed: the token was changed, truncated, or sealed with another key of
    /// the same id.
    #[error("sealed handle failed authentication (tampered, truncated or sealed with another key)")]
    Tampered,
    /// The handle inside has expired, or is older than the key set's maximum age.
    #[error("sealed handle expired at {0}")]
    Expired(OffsetDateTime),
    /// The token is authentic but holds no valid handle, or the handle cannot be serialized or
    /// is too large to seal (its token would pass [`MAX_TOKEN_LEN`]).
    #[error("sealed handle holds no valid verification: {0}")]
    InvalidHandle(String),
    /// A key is not [`SEAL_KEY_LEN`] bytes of base64.
    #[error("a seal key must be {SEAL_KEY_LEN} bytes in base64: {0}")]
    InvalidKey(&'static str),
    /// Two keys of a key set share an id.
    #[error("key id {0} is used by more than one seal key")]
    DuplicateKeyId(u8),
}

impl From<SealError> for Error {
    fn from(err: SealError) -> Self {
        let kind = match err {
            SealError::Expired(_) => ErrorKind::Expired,
            _ => ErrorKind::InvalidInput,
        };
        Error::new(kind, err.to_string()).with_source(err)
    }
}

/// One 256-bit sealing key with its id (written into each token so that
/// [`Verification::open`] picks the right key). `Debug` shows the id only.
///
/// ```
/// use phone_verify_core::SealKey;
///
/// let key = SealKey::from_base64(1, "q2Cz6xqYbFMBVf2M0C5uYb0bUa7hJp4uJk0pB1L1s7o=")?;
/// assert_eq!(key.id(), 1);
/// assert_eq!(format!("{key:?}"), "SealKey { id: 1, .. }");
/// assert!(SealKey::from_base64(2, "dG9vIHNob3J0").is_err());
/// # Ok::<(), phone_verify_core::SealError>(())
/// ```
pub struct SealKey {
    id: u8,
    key: SecretBox<[u8; SEAL_KEY_LEN]>,
}

impl SealKey {
    /// A key from its 32 bytes (this copy of them is zeroed).
    pub fn new(id: u8, mut bytes: [u8; SEAL_KEY_LEN]) -> Self {
        let key = Self::from_slice(id, &bytes);
        bytes.zeroize();
        key
    }

    /// A key copied from `bytes` straight into its heap box, no copy left on the stack.
    /// `bytes` is [`SEAL_KEY_LEN`] long.
    fn from_slice(id: u8, bytes: &[u8]) -> Self {
        Self {
            id,
            key: SecretBox::init_with_mut(|key: &mut [u8; SEAL_KEY_LEN]| {
                key.copy_from_slice(bytes);
            }),
        }
    }

    /// A key from 32 bytes in base64 (standard or URL-safe, padded or not), e.g. the output of
    /// `openssl rand -base64 32` kept in a secret store.
    pub fn from_base64(id: u8, encoded: &str) -> Result<Self, SealError> {
        let unpadded = encoded.trim().trim_end_matches('=');
        let engine = if unpadded.contains(['-', '_']) {
            URL_SAFE_NO_PAD
        } else {
            STANDARD_NO_PAD
        };
        let decoded = Zeroizing::new(
            engine
                .decode(unpadded)
                .map_err(|_| SealError::InvalidKey("not valid base64"))?,
        );
        if decoded.len() != SEAL_KEY_LEN {
            return Err(SealError::InvalidKey("wrong length"));
        }
        Ok(Self::from_slice(id, &decoded))
    }

    /// A new random key from the operating system's generator, for keys that live as long as
    /// the process and tests. Panics if that generator fails.
    pub fn generate(id: u8) -> Self {
        Self {
            id,
            key: SecretBox::init_with_mut(|key: &mut [u8; SEAL_KEY_LEN]| os_random(key)),
        }
    }

    /// The key id written into tokens.
    pub fn id(&self) -> u8 {
        self.id
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(self.key.expose_secret().into())
    }
}

impl Clone for SealKey {
    fn clone(&self) -> Self {
        Self::from_slice(self.id, self.key.expose_secret())
    }
}

/// Fills `bytes` from the operating system's generator, read afresh on every call: a user-space
/// generator (`rand`'s thread generator) is copied with its state into every process forked
/// after it was used, so forked workers of a pre-fork server would draw the same nonces under
/// the same key. Panics if the generator fails, as `rand`'s own generators do.
fn os_random(bytes: &mut [u8]) {
    OsRng
        .try_fill_bytes(bytes)
        .expect("the operating system's random generator failed");
}

impl fmt::Debug for SealKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// The keys of sealed handles: one current key that seals, and older keys still accepted when
/// opening (key rotation), with an optional maximum age and a grace past each handle's expiry.
/// `Debug` shows key ids only.
///
/// Rotation, in three deploys, so that every instance opens what any other seals while they
/// roll out one by one (an instance that does not know the sealing key refuses the token with
/// [`SealError::UnknownKey`]):
///
/// 1. accept the new key everywhere, still sealing with the old one:
///    `SealKeys::new(old).accept(new)?`;
/// 2. once every instance runs step 1, seal with the new key: `SealKeys::new(new).accept(old)?`;
/// 3. once every instance runs step 2, and the longest verification lifetime (or the maximum
///    age) and the expiry grace have passed, drop the old key: `SealKeys::new(new)`.
///
/// ```
/// use phone_verify_core::{SealKey, SealKeys};
///
/// let keys = SealKeys::new(SealKey::generate(2))
///     .accept(SealKey::generate(1))?
///     .with_max_age(std::time::Duration::from_secs(15 * 60));
/// assert_eq!(keys.current_id(), 2);
/// assert_eq!(
///     format!("{keys:?}"),
///     "SealKeys { current: 2, accepted: [1], max_age: Some(900s), expiry_grace: 120s }"
/// );
/// # Ok::<(), phone_verify_core::SealError>(())
/// ```
#[derive(Clone)]
pub struct SealKeys {
    current: SealKey,
    accepted: Vec<SealKey>,
    max_age: Option<Duration>,
    expiry_grace: Duration,
}

impl SealKeys {
    /// A key set that seals and opens with `current` only.
    pub fn new(current: SealKey) -> Self {
        Self {
            current,
            accepted: Vec::new(),
            max_age: None,
            expiry_grace: DEFAULT_EXPIRY_GRACE,
        }
    }

    /// Also accepts tokens sealed with `key` (a previous key during rotation). Fails if its id
    /// is already in the set.
    pub fn accept(mut self, key: SealKey) -> Result<Self, SealError> {
        if self.key(key.id).is_some() {
            return Err(SealError::DuplicateKeyId(key.id));
        }
        self.accepted.push(key);
        Ok(self)
    }

    /// Refuses tokens whose handle was created longer than `max_age` ago, even when the handle
    /// has no expiry of its own.
    #[must_use]
    pub fn with_max_age(mut self, max_age: Duration) -> Self {
        self.max_age = Some(max_age);
        self
    }

    /// Opens tokens for `grace` past their handle's `expires_at` (2 minutes unless set; zero
    /// refuses a token from its handle's expiry on). The provider is the judge of expiry: a
    /// code typed just before it, or a reverse flow completed just before it, reaches the
    /// verifier a little after it, and the provider's answer (verified, or `Rejected(Expired)`)
    /// is the one to give. The maximum age has no grace.
    #[must_use]
    pub fn with_expiry_grace(mut self, grace: Duration) -> Self {
        self.expiry_grace = grace;
        self
    }

    /// The id of the key that seals.
    pub fn current_id(&self) -> u8 {
        self.current.id
    }

    /// The maximum age, if set.
    pub fn max_age(&self) -> Option<Duration> {
        self.max_age
    }

    /// How long past its handle's `expires_at` a token still opens.
    pub fn expiry_grace(&self) -> Duration {
        self.expiry_grace
    }

    fn key(&self, id: u8) -> Option<&SealKey> {
        std::iter::once(&self.current)
            .chain(&self.accepted)
            .find(|key| key.id == id)
    }
}

impl fmt::Debug for SealKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let accepted: Vec<u8> = self.accepted.iter().map(SealKey::id).collect();
        f.debug_struct("SealKeys")
            .field("current", &self.current.id)
            .field("accepted", &accepted)
            .field("max_age", &self.max_age.map(|d| Secs(d.as_secs())))
            .field("expiry_grace", &Secs(self.expiry_grace.as_secs()))
            .finish()
    }
}

/// Seconds in `Debug`, e.g. `900s`.
struct Secs(u64);

impl fmt::Debug for Secs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}s", self.0)
    }
}

/// Sealing, defined here so that the handle's module does not depend on the token format.
impl Verification {
    /// This handle as a sealed token: its JSON encrypted and authenticated with the current
    /// key of `keys` (XChaCha20-Poly1305), in URL-safe base64. Give it to a client that must
    /// hold the handle (a browser, a mobile app) instead of the JSON: the client can neither
    /// read it (the phone number stays hidden) nor change it; [`open`](Self::open) gets the
    /// handle back. The format and key rotation are described in `docs/reliability.md`.
    ///
    /// A handle whose token would be longer than [`MAX_TOKEN_LEN`] (about 49 KB of JSON), which
    /// `open` would refuse, is refused with [`SealError::InvalidHandle`]. Each token's nonce
    /// comes from the operating system's generator (panics if it fails).
    ///
    /// ```
    /// use phone_verify_core::{Channel, ProviderId, SealKey, SealKeys, Verification};
    ///
    /// // In production: SealKey::from_base64(1, &secret_from_your_store)?
    /// let keys = SealKeys::new(SealKey::generate(1));
    /// let handle = Verification::new(ProviderId::new_static("acme"), "ref-1", Channel::Sms)
    ///     .with_phone("+507 6264 7737".parse()?);
    /// let token = handle.seal(&keys)?;
    /// assert!(!token.contains("62647737"));
    /// assert_eq!(Verification::open(&token, &keys)?, handle);
    ///
    /// let mut tampered = token.into_bytes();
    /// tampered[40] = if tampered[40] == b'A' { b'B' } else { b'A' };
    /// assert!(Verification::open(std::str::from_utf8(&tampered)?, &keys).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn seal(&self, keys: &SealKeys) -> Result<String, SealError> {
        seal(self, keys)
    }

    /// The handle in a token written by [`seal`](Self::seal) with any key of `keys`, refused
    /// with a [`SealError`] when it is malformed, of an unknown version or key, tampered with,
    /// expired (its `expires_at` passed more than the keys'
    /// [expiry grace](SealKeys::with_expiry_grace) ago), or older than the keys' maximum age.
    pub fn open(token: &str, keys: &SealKeys) -> Result<Self, SealError> {
        open(token, keys, OffsetDateTime::now_utc())
    }

    /// [`open`](Self::open), judging expiry at `now` instead of the system clock.
    pub fn open_at(token: &str, keys: &SealKeys, now: OffsetDateTime) -> Result<Self, SealError> {
        open(token, keys, now)
    }
}

/// The token of `handle`, sealed with the current key of `keys` and a fresh nonce.
fn seal(handle: &Verification, keys: &SealKeys) -> Result<String, SealError> {
    let mut nonce = [0; NONCE_LEN];
    os_random(&mut nonce);
    seal_with_nonce(handle, keys, nonce)
}

/// The token of `handle`, sealed with the current key of `keys` and `nonce` (the golden token
/// test gives a fixed one).
fn seal_with_nonce(
    handle: &Verification,
    keys: &SealKeys,
    nonce: [u8; NONCE_LEN],
) -> Result<String, SealError> {
    let json = handle
        .to_json()
        .map_err(|e| SealError::InvalidHandle(e.message().to_owned()))?;
    let too_large = || SealError::InvalidHandle("too large to seal".to_owned());
    let raw_len = MIN_RAW_LEN.checked_add(json.len()).ok_or_else(too_large)?;
    if base64::encoded_len(raw_len, false).is_none_or(|len| len > MAX_TOKEN_LEN) {
        return Err(too_large());
    }
    let key = &keys.current;
    let header = [SEAL_VERSION, key.id];
    let ciphertext = key
        .cipher()
        .encrypt(
            &XNonce::from(nonce),
            Payload {
                msg: json.as_bytes(),
                aad: &header,
            },
        )
        .map_err(|_| too_large())?;
    let mut raw = Vec::with_capacity(raw_len);
    raw.extend_from_slice(&header);
    raw.extend_from_slice(&nonce);
    raw.extend_from_slice(&ciphertext);
    Ok(URL_SAFE_NO_PAD.encode(raw))
}

/// The handle in `token`, if authentic under `keys` and not expired at `now` (past the grace).
fn open(token: &str, keys: &SealKeys, now: OffsetDateTime) -> Result<Verification, SealError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(SealError::Malformed("longer than the token limit"));
    }
    let raw = URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|_| SealError::Malformed("not URL-safe base64 without padding"))?;
    let (&version, rest) = raw
        .split_first()
        .ok_or(SealError::Malformed("empty token"))?;
    if version != SEAL_VERSION {
        return Err(SealError::UnsupportedVersion(version));
    }
    if raw.len() < MIN_RAW_LEN {
        return Err(SealError::Malformed("too short"));
    }
    let key_id = rest[0];
    let key = keys.key(key_id).ok_or(SealError::UnknownKey(key_id))?;
    let (header, body) = raw.split_at(HEADER_LEN);
    let (nonce, ciphertext) = body.split_at(NONCE_LEN);
    let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| SealError::Tampered)?;
    let json = key
        .cipher()
        .decrypt(
            &XNonce::from(nonce),
            Payload {
                msg: ciphertext,
                aad: header,
            },
        )
        .map_err(|_| SealError::Tampered)?;
    let json =
        String::from_utf8(json).map_err(|_| SealError::InvalidHandle("not UTF-8".to_owned()))?;
    let handle =
        Verification::from_json(&json).map_err(|e| SealError::InvalidHandle(e.message().into()))?;
    if let Some(expires_at) = handle.expires_at
        && now >= expires_at.saturating_add(signed(keys.expiry_grace))
    {
        return Err(SealError::Expired(expires_at));
    }
    if let Some(max_age) = keys.max_age {
        let limit = handle.created_at.saturating_add(signed(max_age));
        if now >= limit {
            return Err(SealError::Expired(limit));
        }
    }
    Ok(handle)
}

/// `duration` as a date's duration, the longest one where it does not fit.
fn signed(duration: Duration) -> time::Duration {
    duration.try_into().unwrap_or(time::Duration::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Channel, PhoneNumber, ProviderId, ReverseFlow};
    use base64::engine::general_purpose::STANDARD;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-11-22 18:01:00 UTC);

    fn handle() -> Verification {
        Verification::new(ProviderId::new_static("verifykit"), "111111", Channel::Sms)
            .with_phone(PhoneNumber::parse("+905321234567").unwrap())
            .with_created_at(datetime!(2026-11-22 18:00:00 UTC))
            .with_expires_at(datetime!(2026-11-22 18:05:00 UTC))
            .with_reverse(ReverseFlow::new(
                Some("https://wa.me/1?text=x".into()),
                None,
            ))
            .with_extra("flow", "otp")
    }

    fn keys() -> SealKeys {
        SealKeys::new(SealKey::new(7, [42; SEAL_KEY_LEN]))
    }

    fn raw(token: &str) -> Vec<u8> {
        URL_SAFE_NO_PAD.decode(token).unwrap()
    }

    fn encode(raw: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(raw)
    }

    #[test]
    fn round_trips_and_hides_the_handle() {
        let token = seal(&handle(), &keys()).unwrap();
        assert_eq!(open(&token, &keys(), NOW).unwrap(), handle());
        assert!(
            token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        let bytes = raw(&token);
        assert_eq!(&bytes[..2], &[SEAL_VERSION, 7]);
        assert_eq!(bytes.len(), MIN_RAW_LEN + handle().to_json().unwrap().len());
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains("905321234567") && !text.contains("verifykit"));
    }

    #[test]
    fn each_seal_uses_a_fresh_nonce() {
        let first = seal(&handle(), &keys()).unwrap();
        let second = seal(&handle(), &keys()).unwrap();
        assert_ne!(first, second);
        assert_ne!(raw(&first)[2..26], raw(&second)[2..26]);
    }

    #[test]
    fn every_changed_byte_is_refused() {
        let token = seal(&handle(), &keys()).unwrap();
        let bytes = raw(&token);
        for i in 0..bytes.len() {
            for flip in [0x01, 0x80, 0xff] {
                let mut changed = bytes.clone();
                changed[i] ^= flip;
                let err = open(&encode(&changed), &keys(), NOW).unwrap_err();
                let expected = match i {
                    0 => SealError::UnsupportedVersion(bytes[0] ^ flip),
                    1 => SealError::UnknownKey(7 ^ flip),
                    _ => SealError::Tampered,
                };
                assert_eq!(err, expected, "byte {i} ^ {flip:#x}");
            }
        }
    }

    #[test]
    fn every_bit_of_the_header_nonce_and_tag_is_authenticated() {
        let bytes = raw(&seal(&handle(), &keys()).unwrap());
        let last = bytes.len() - 1;
        for i in [2, 13, 25, 26, last - 15, last] {
            for bit in 0..8 {
                let mut changed = bytes.clone();
                changed[i] ^= 1 << bit;
                assert_eq!(
                    open(&encode(&changed), &keys(), NOW),
                    Err(SealError::Tampered),
                    "byte {i} bit {bit}"
                );
            }
        }
    }

    #[test]
    fn every_truncation_and_extension_is_refused() {
        let token = seal(&handle(), &keys()).unwrap();
        let bytes = raw(&token);
        for len in 0..bytes.len() {
            let err = open(&encode(&bytes[..len]), &keys(), NOW).unwrap_err();
            assert!(
                matches!(err, SealError::Malformed(_) | SealError::Tampered),
                "{len}: {err:?}"
            );
        }
        for len in 0..token.len() {
            assert!(open(&token[..len], &keys(), NOW).is_err(), "{len} chars");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(
            open(&encode(&longer), &keys(), NOW),
            Err(SealError::Tampered)
        );
    }

    #[test]
    fn every_changed_character_is_refused() {
        let token = seal(&handle(), &keys()).unwrap();
        for (i, c) in token.char_indices() {
            let other = if c == 'A' { 'B' } else { 'A' };
            let changed = format!("{}{other}{}", &token[..i], &token[i + 1..]);
            assert!(open(&changed, &keys(), NOW).is_err(), "char {i}");
        }
    }

    #[test]
    fn malformed_tokens_are_typed() {
        for token in ["", "not a token!", "AAAA=", "YQ"] {
            let err = open(token, &keys(), NOW).unwrap_err();
            assert!(
                matches!(
                    err,
                    SealError::Malformed(_) | SealError::UnsupportedVersion(_)
                ),
                "{token:?}: {err:?}"
            );
        }
        let huge = "A".repeat(MAX_TOKEN_LEN + 1);
        assert_eq!(
            open(&huge, &keys(), NOW),
            Err(SealError::Malformed("longer than the token limit"))
        );
        // Header, nonce and tag with nothing between: long enough to be tried, and not
        // authentic; one byte less is too short.
        let mut shortest = vec![SEAL_VERSION, 7];
        shortest.resize(MIN_RAW_LEN, 0);
        assert_eq!(
            open(&encode(&shortest), &keys(), NOW),
            Err(SealError::Tampered)
        );
        assert_eq!(
            open(&encode(&shortest[..MIN_RAW_LEN - 1]), &keys(), NOW),
            Err(SealError::Malformed("too short"))
        );
        // At the limit it is decoded (and found to be no token).
        let at_limit = "A".repeat(MAX_TOKEN_LEN);
        assert_eq!(
            open(&at_limit, &keys(), NOW),
            Err(SealError::UnsupportedVersion(0))
        );
        let err: Error = SealError::Malformed("too short").into();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
    }

    #[test]
    fn a_large_handle_under_the_token_limit_opens() {
        // 40,000 characters of extras: a token of about 53,000, under the 64 KiB limit.
        let large = handle().with_extra("note", "x".repeat(40_000));
        let token = seal(&large, &keys()).unwrap();
        assert!(
            (50_000..MAX_TOKEN_LEN).contains(&token.len()),
            "{}",
            token.len()
        );
        assert_eq!(open(&token, &keys(), NOW).unwrap(), large);
    }

    #[test]
    fn a_handle_too_large_to_open_is_refused_when_sealed() {
        let too_large = Err(SealError::InvalidHandle("too large to seal".to_owned()));
        let huge = handle().with_extra("note", "x".repeat(50_000));
        assert_eq!(seal(&huge, &keys()), too_large);
        // The largest handle that seals opens; one byte more is refused when sealed. A token
        // of 64 KiB characters holds 49,152 bytes: 42 of them header, nonce and tag.
        let base = handle().with_extra("note", "").to_json().unwrap().len();
        let largest_json = MAX_TOKEN_LEN / 4 * 3 - MIN_RAW_LEN;
        let largest = handle().with_extra("note", "x".repeat(largest_json - base));
        assert_eq!(largest.to_json().unwrap().len(), largest_json);
        let token = seal(&largest, &keys()).unwrap();
        assert_eq!(token.len(), MAX_TOKEN_LEN);
        assert_eq!(open(&token, &keys(), NOW).unwrap(), largest);
        let one_more = handle().with_extra("note", "x".repeat(largest_json - base + 1));
        assert_eq!(seal(&one_more, &keys()), too_large);
    }

    #[test]
    fn a_handle_that_would_not_read_back_is_refused_when_sealed() {
        let mut blank = handle();
        blank.reference.clear();
        let Err(SealError::InvalidHandle(why)) = blank.seal(&keys()) else {
            panic!("an empty reference was sealed");
        };
        assert!(why.contains("`reference` is empty"), "{why}");
        blank = handle();
        blank.channel = Channel::Other(" ".into());
        assert!(matches!(
            blank.seal(&keys()),
            Err(SealError::InvalidHandle(_))
        ));
    }

    #[test]
    fn keys_tell_their_ids_and_maximum_age() {
        let keys = SealKeys::new(SealKey::new(2, [1; SEAL_KEY_LEN]))
            .accept(SealKey::new(5, [2; SEAL_KEY_LEN]))
            .unwrap()
            .accept(SealKey::new(1, [3; SEAL_KEY_LEN]))
            .unwrap();
        assert_eq!(keys.current_id(), 2);
        assert_eq!(keys.max_age(), None);
        assert_eq!(keys.expiry_grace(), Duration::from_secs(120));
        assert_eq!(
            format!("{keys:?}"),
            "SealKeys { current: 2, accepted: [5, 1], max_age: None, expiry_grace: 120s }"
        );
        let keys = keys
            .with_max_age(Duration::from_millis(90_500))
            .with_expiry_grace(Duration::from_secs(30));
        assert_eq!(keys.max_age(), Some(Duration::from_millis(90_500)));
        assert_eq!(keys.expiry_grace(), Duration::from_secs(30));
        assert_eq!(
            format!("{keys:?}"),
            "SealKeys { current: 2, accepted: [5, 1], max_age: Some(90s), expiry_grace: 30s }"
        );
        let key = SealKey::new(200, [4; SEAL_KEY_LEN]);
        assert_eq!(key.id(), 200);
        assert_eq!(format!("{key:?}"), "SealKey { id: 200, .. }");
    }

    #[test]
    fn another_key_of_the_same_id_is_tampering() {
        let token = seal(&handle(), &keys()).unwrap();
        let impostor = SealKeys::new(SealKey::new(7, [43; SEAL_KEY_LEN]));
        assert_eq!(open(&token, &impostor, NOW), Err(SealError::Tampered));
    }

    #[test]
    fn rotation_accepts_old_keys_until_they_are_dropped() {
        let old = SealKey::generate(1);
        let new = SealKey::generate(2);
        let before = SealKeys::new(old.clone());
        let during = SealKeys::new(new.clone()).accept(old).unwrap();
        let after = SealKeys::new(new);
        let old_token = seal(&handle(), &before).unwrap();
        assert_eq!(open(&old_token, &during, NOW).unwrap(), handle());
        assert_eq!(open(&old_token, &after, NOW), Err(SealError::UnknownKey(1)));
        let new_token = seal(&handle(), &during).unwrap();
        assert_eq!(raw(&new_token)[1], 2, "the current key seals");
        assert_eq!(open(&new_token, &after, NOW).unwrap(), handle());
        assert_eq!(
            open(&new_token, &before, NOW),
            Err(SealError::UnknownKey(2))
        );
        let duplicate = SealKeys::new(SealKey::generate(3)).accept(SealKey::generate(3));
        assert_eq!(duplicate.unwrap_err(), SealError::DuplicateKeyId(3));
    }

    /// The three-step rotation: while instances roll from one step to the next, a token sealed
    /// by an instance at either step opens at both.
    #[test]
    fn tokens_open_across_each_step_of_a_rotation() {
        let old = || SealKey::new(1, [1; SEAL_KEY_LEN]);
        let new = || SealKey::new(2, [2; SEAL_KEY_LEN]);
        let before = SealKeys::new(old());
        let accepting = SealKeys::new(old()).accept(new()).unwrap();
        let sealing = SealKeys::new(new()).accept(old()).unwrap();
        let after = SealKeys::new(new());
        for (from, to) in [
            (&before, &accepting),
            (&accepting, &sealing),
            (&sealing, &after),
        ] {
            for keys in [from, to] {
                let token = seal(&handle(), keys).unwrap();
                assert_eq!(raw(&token)[1], keys.current_id());
                for other in [from, to] {
                    assert_eq!(
                        open(&token, other, NOW).unwrap(),
                        handle(),
                        "sealed by {keys:?}, opened by {other:?}"
                    );
                }
            }
        }
        // Skipping step 1: an instance still at the old key cannot open the new one's tokens.
        let token = seal(&handle(), &sealing).unwrap();
        assert_eq!(open(&token, &before, NOW), Err(SealError::UnknownKey(2)));
    }

    /// A token sealed by an earlier version, a literal here, opens to its handle, and the same
    /// handle, key and nonce seal to the same token: the format cannot change unnoticed.
    #[test]
    fn a_golden_token_opens_and_seals_the_same() {
        // Checked once against an independent XChaCha20-Poly1305 (HChaCha20 and RFC 8439's
        // ChaCha20-Poly1305), key 7 = 32 bytes of 42, nonce 0, 1, …, 23.
        const GOLDEN: &str = "AQcAAQIDBAUGBwgJCgsMDQ4PEBESExQVFhc90ZDNeFJJqUZOWghdPlWWWcibS2fIGfBIn0ktZik2ht5inDGN-QYeE5TZXJ50riPFNDskMn2lK1ZMgSqKsbY8kWK4mqwR0dXW7FXSXrgyLD4MUDc1PNjgtF_Oi68ChaSik5OUdNFt1Z2MW_lr6gxVXQnkwufoS7XLyvUVTspfmMVWyTqRYVT6wA6uCSsh8EODSScDfePhxzNqtm4dciwYtNBIpZTG7966IiJmfK6UzKBANeYnk22yp3sE_xm9MWT502AeozG83_brKnthSkB6RxrSAEygbPeTL3e19bedRnOmQAGAmRUKWwB6y_fgitWyefvap-7MPYSTn0x_5xq7p9ZexcuhEiKUQwFe9Hz3TXXRKdtzN_iDKgN_o4plA3DXjnJRwag";
        let handle = Verification::new(ProviderId::new_static("verifykit"), "111111", Channel::Sms)
            .with_phone(PhoneNumber::parse("+905321234567").unwrap())
            .with_created_at(datetime!(2026-11-22 18:00:00 UTC))
            .with_expires_at(datetime!(2026-11-22 18:05:00 UTC))
            .with_reverse(ReverseFlow::new(
                Some("https://wa.me/1?text=x".into()),
                None,
            ))
            .with_extra("flow", "otp");
        let nonce: [u8; NONCE_LEN] = std::array::from_fn(|i| u8::try_from(i).unwrap());
        assert_eq!(open(GOLDEN, &keys(), NOW).unwrap(), handle);
        assert_eq!(seal_with_nonce(&handle, &keys(), nonce).unwrap(), GOLDEN);
        assert_eq!(
            &raw(GOLDEN)[..HEADER_LEN + NONCE_LEN],
            &[&[SEAL_VERSION, 7][..], &nonce].concat()
        );
    }

    #[test]
    fn expired_and_too_old_handles_are_refused() {
        let token = seal(&handle(), &keys()).unwrap();
        let expiry = datetime!(2026-11-22 18:05:00 UTC);
        let no_grace = keys().with_expiry_grace(Duration::ZERO);
        assert!(open(&token, &no_grace, expiry - time::Duration::SECOND).is_ok());
        assert_eq!(
            open(&token, &no_grace, expiry),
            Err(SealError::Expired(expiry))
        );
        let strict = keys().with_max_age(Duration::from_secs(30));
        let limit = datetime!(2026-11-22 18:00:30 UTC);
        assert!(open(&token, &strict, limit - time::Duration::SECOND).is_ok());
        assert_eq!(open(&token, &strict, limit), Err(SealError::Expired(limit)));
        let err: Error = SealError::Expired(limit).into();
        assert_eq!(err.kind(), ErrorKind::Expired);
        let open_ended = Verification::new(ProviderId::new_static("acme"), "r", Channel::Sms)
            .with_created_at(datetime!(2026-11-22 18:00:00 UTC));
        let token = seal(&open_ended, &keys()).unwrap();
        assert!(open(&token, &keys(), datetime!(2030-01-01 0:00 UTC)).is_ok());
        assert!(matches!(
            open(&token, &strict, NOW),
            Err(SealError::Expired(_))
        ));
    }

    #[test]
    fn a_token_opens_for_the_grace_past_its_handles_expiry() {
        // A code typed at 4:59 reaches `open` after 5:00: the provider judges it.
        let token = seal(&handle(), &keys()).unwrap();
        let expiry = datetime!(2026-11-22 18:05:00 UTC);
        let grace = time::Duration::minutes(2);
        assert_eq!(open(&token, &keys(), expiry).unwrap(), handle());
        assert_eq!(
            open(&token, &keys(), expiry + time::Duration::seconds(30)).unwrap(),
            handle()
        );
        assert!(open(&token, &keys(), expiry + grace - time::Duration::SECOND).is_ok());
        assert_eq!(
            open(&token, &keys(), expiry + grace),
            Err(SealError::Expired(expiry))
        );
        let longer = keys().with_expiry_grace(Duration::from_secs(600));
        assert!(open(&token, &longer, expiry + grace).is_ok());
        assert_eq!(
            open(&token, &longer, expiry + time::Duration::minutes(10)),
            Err(SealError::Expired(expiry))
        );
        // A grace past what a date holds opens the token at any time; the maximum age has none.
        let endless = keys().with_expiry_grace(Duration::MAX);
        assert!(open(&token, &endless, datetime!(9999-12-31 23:59 UTC)).is_ok());
        let strict = endless.with_max_age(Duration::from_secs(30));
        let limit = datetime!(2026-11-22 18:00:30 UTC);
        assert_eq!(open(&token, &strict, limit), Err(SealError::Expired(limit)));
    }

    #[test]
    fn an_authentic_token_without_a_handle_is_refused() {
        let key = SealKey::new(7, [42; SEAL_KEY_LEN]);
        let header = [SEAL_VERSION, 7];
        let nonce = [0u8; NONCE_LEN];
        let ciphertext = key
            .cipher()
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: b"{}",
                    aad: &header,
                },
            )
            .unwrap();
        let token = encode(&[&header[..], &nonce, &ciphertext].concat());
        assert!(matches!(
            open(&token, &keys(), NOW),
            Err(SealError::InvalidHandle(_))
        ));
    }

    #[test]
    fn keys_never_show_their_bytes() {
        let key = SealKey::new(9, [0xab; SEAL_KEY_LEN]);
        let keys = SealKeys::new(key.clone());
        for text in [format!("{key:?}"), format!("{keys:?}")] {
            assert!(!text.contains("171") && !text.contains("ab"), "{text}");
        }
        let encoded = STANDARD.encode([0xab; SEAL_KEY_LEN]);
        for text in [
            format!(" {encoded}\n"),
            encoded.trim_end_matches('=').to_owned(),
        ] {
            let parsed = SealKey::from_base64(9, &text).unwrap();
            let token = seal(&handle(), &SealKeys::new(parsed)).unwrap();
            assert!(open(&token, &keys, NOW).is_ok(), "same bytes, same key");
        }
        let url_safe = URL_SAFE_NO_PAD.encode([0xfb; SEAL_KEY_LEN]);
        assert!(url_safe.contains(['-', '_']));
        assert!(SealKey::from_base64(1, &url_safe).is_ok());
        for bad in [
            "",
            "%%%%",
            &STANDARD.encode([1u8; 31]),
            &STANDARD.encode([1u8; 33]),
        ] {
            let err = SealKey::from_base64(1, bad).unwrap_err();
            assert!(matches!(err, SealError::InvalidKey(_)), "{bad:?}");
        }
    }
}
