//! Random tokens: session ids, CSRF tokens and the guard's HMAC key (its counters' keys).

use std::fmt::Write as _;

use rand::RngCore as _;

/// 32 random bytes from the OS-seeded generator, in hex.
pub(crate) fn random_token() -> String {
    let mut bytes = [0_u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().fold(String::with_capacity(64), |mut hex, b| {
        let _ = write!(hex, "{b:02x}");
        hex
    })
}
