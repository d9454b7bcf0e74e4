//! `Verification::open` on any text, with a key set of two keys (ids 1 and 2, see [`KEYS`]): a
//! typed error (`Expired` for an expired handle, `InvalidInput` otherwise), or a handle that
//! seals and opens again to itself. And a handle read from the text as JSON seals and opens
//! back to itself.
#![no_main]

use std::sync::LazyLock;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use phone_verify_core::time::OffsetDateTime;
use phone_verify_core::{
    Error, ErrorKind, MAX_TOKEN_LEN, SEAL_KEY_LEN, SealError, SealKey, SealKeys, Verification,
};

/// The keys the seeds are sealed with: id 1 seals, id 2 still opens (rotation); both of bytes
/// `[1; SEAL_KEY_LEN]` and `[2; SEAL_KEY_LEN]`.
static KEYS: LazyLock<SealKeys> = LazyLock::new(|| {
    SealKeys::new(SealKey::new(1, [1; SEAL_KEY_LEN]))
        .accept(SealKey::new(2, [2; SEAL_KEY_LEN]))
        .expect("two ids")
});

/// [`KEYS`] with no expiry: what they seal opens at any time, so a round trip is exact.
static NO_EXPIRY: LazyLock<SealKeys> =
    LazyLock::new(|| KEYS.clone().with_expiry_grace(Duration::MAX));

/// When the tokens are opened: 2026-11-22 18:01:00 UTC, a minute into the seeds' handles.
const NOW: i64 = 1_795_370_460;

fuzz_target!(|text: &str| {
    let now = OffsetDateTime::from_unix_timestamp(NOW).expect("a date");
    match Verification::open_at(text, &KEYS, now) {
        Ok(handle) => round_trip(&handle),
        Err(error) => {
            let expected = match error {
                SealError::Expired(_) => ErrorKind::Expired,
                _ => ErrorKind::InvalidInput,
            };
            assert_eq!(Error::from(error).kind(), expected);
        }
    }
    if let Ok(handle) = Verification::from_json(text) {
        round_trip(&handle);
    }
});

/// `handle` sealed with [`NO_EXPIRY`] opens to itself; only a handle whose JSON is near the
/// token limit may be refused as too large.
fn round_trip(handle: &Verification) {
    let json = handle.to_json().expect("a handle writes");
    let token = match handle.seal(&NO_EXPIRY) {
        Ok(token) => token,
        Err(SealError::InvalidHandle(_)) if json.len() > MAX_TOKEN_LEN / 2 => return,
        Err(error) => panic!(
            "a handle of {} bytes of JSON did not seal: {error}",
            json.len()
        ),
    };
    let now = OffsetDateTime::from_unix_timestamp(NOW).expect("a date");
    let opened = Verification::open_at(&token, &NO_EXPIRY, now).expect("a sealed handle opens");
    assert_eq!(&opened, handle, "the sealed handle changed: {json}");
}
