//! RFC 4226 HOTP and RFC 6238 TOTP (HMAC-SHA1, 6 digits, 30-second steps), as the sandbox's
//! Verigator emulation checks them and as an authenticator app computes them. Public so tests
//! and demos can play the user's app with the secret from
//! [`SandboxHandle::enroll_totp`](crate::SandboxHandle::enroll_totp).
//!
//! ```
//! use phone_verify_sandbox::totp;
//!
//! let secret = totp::base32_decode("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ").unwrap();
//! assert_eq!(totp::totp(&secret, 59, totp::DIGITS), "287082"); // RFC 6238, appendix B
//! ```

use hmac::{Hmac, Mac};
use sha1::Sha1;

/// TOTP time step in seconds.
pub const STEP_SECONDS: u64 = 30;
/// Digits of a TOTP code.
pub const DIGITS: u32 = 6;

/// Most digits [`hotp`] gives: the value is 31 bits, at most 10 decimal digits (RFC 4226 §5.3
/// takes 6 to 8).
const MAX_DIGITS: u32 = 10;

/// The HOTP value of `secret` at `counter`, `digits` long (RFC 4226 §5.3); `digits` is clamped
/// to 1..=10 (the value is 31 bits, at most 10 decimal digits).
pub fn hotp(secret: &[u8], counter: u64, digits: u32) -> String {
    let digits = digits.clamp(1, MAX_DIGITS);
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(secret) else {
        // HMAC accepts keys of any length; this branch cannot be taken.
        return "0".repeat(digits as usize);
    };
    mac.update(&counter.to_be_bytes());
    let hash = mac.finalize().into_bytes();
    let offset = usize::from(hash[19] & 0x0f);
    let binary = u32::from_be_bytes([
        hash[offset] & 0x7f,
        hash[offset + 1],
        hash[offset + 2],
        hash[offset + 3],
    ]);
    let value = u64::from(binary) % 10u64.pow(digits);
    format!("{value:0width$}", width = digits as usize)
}

/// The TOTP step counter for a Unix time (negative times count as 0).
pub fn step_at(unix_seconds: i64) -> u64 {
    u64::try_from(unix_seconds).unwrap_or(0) / STEP_SECONDS
}

/// The TOTP value of `secret` at `unix_seconds` (RFC 6238, SHA1, 30 s step), `digits` long
/// (clamped as [`hotp`] clamps it).
pub fn totp(secret: &[u8], unix_seconds: i64, digits: u32) -> String {
    hotp(secret, step_at(unix_seconds), digits)
}

/// Seconds until the code valid at `unix_seconds` is replaced by the next one.
pub fn seconds_left(unix_seconds: i64) -> u64 {
    STEP_SECONDS - u64::try_from(unix_seconds).unwrap_or(0) % STEP_SECONDS
}

/// RFC 4648 base32 without padding, the form authenticator apps take secrets in.
pub fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let mut buffer: u32 = 0;
    let mut bits = 0u32;
    for &byte in bytes {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 0x1f) as usize]));
        }
        buffer &= (1 << bits) - 1;
    }
    if bits > 0 {
        out.push(char::from(
            ALPHABET[((buffer << (5 - bits)) & 0x1f) as usize],
        ));
    }
    out
}

/// Decodes RFC 4648 base32 (upper or lower case; padding and spaces ignored); `None` if `text`
/// is not base32.
pub fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut buffer: u64 = 0;
    let mut bits = 0u32;
    let mut out = Vec::new();
    for c in text.chars().filter(|c| !c.is_whitespace() && *c != '=') {
        let value = match c.to_ascii_uppercase() {
            c @ 'A'..='Z' => u64::from(c) - u64::from('A'),
            c @ '2'..='7' => u64::from(c) - u64::from('2') + 26,
            _ => return None,
        };
        buffer = ((buffer << 5) | value) & 0xffff;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((buffer >> bits) & 0xff).ok()?);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC_SECRET: &[u8] = b"12345678901234567890";

    #[test]
    fn rfc4226_hotp_vectors() {
        let expected = [
            "755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583",
            "399871", "520489",
        ];
        for (counter, want) in expected.iter().enumerate() {
            assert_eq!(
                hotp(RFC_SECRET, counter as u64, 6),
                *want,
                "counter {counter}"
            );
        }
    }

    #[test]
    fn rfc6238_sha1_vectors() {
        let cases = [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ];
        for (time, want) in cases {
            assert_eq!(totp(RFC_SECRET, time, 8), want, "T = {time}");
            assert_eq!(
                totp(RFC_SECRET, time, DIGITS),
                want[2..],
                "T = {time}, 6 digits"
            );
        }
    }

    #[test]
    fn digits_outside_one_to_ten_are_clamped_not_a_panic() {
        let ten = hotp(b"k", 0, 10);
        assert_eq!(ten.len(), 10);
        assert_eq!(hotp(b"k", 0, 20), ten);
        assert_eq!(hotp(b"k", 0, u32::MAX), ten);
        assert_eq!(totp(b"k", 0, 20), ten);
        let one = hotp(b"k", 0, 0);
        assert_eq!(one, hotp(b"k", 0, 1));
        assert_eq!(one.len(), 1);
    }

    #[test]
    fn steps_and_remaining_seconds() {
        assert_eq!(step_at(59), 1);
        assert_eq!(step_at(60), 2);
        assert_eq!(step_at(-5), 0);
        assert_eq!(seconds_left(60), 30);
        assert_eq!(seconds_left(89), 1);
    }

    #[test]
    fn base32_decodes_what_it_encodes() {
        assert_eq!(base32_decode("MZXW6YTBOI").unwrap(), b"foobar");
        assert_eq!(base32_decode("mzxw 6ytb oi======").unwrap(), b"foobar");
        assert!(base32_decode("not base32!").is_none());
        let secret: Vec<u8> = (0u8..=255).collect();
        assert_eq!(base32_decode(&base32(&secret)).unwrap(), secret);
    }

    #[test]
    fn base32_matches_rfc4648_vectors() {
        let cases = [
            ("", ""),
            ("f", "MY"),
            ("fo", "MZXQ"),
            ("foo", "MZXW6"),
            ("foob", "MZXW6YQ"),
            ("fooba", "MZXW6YTB"),
            ("foobar", "MZXW6YTBOI"),
        ];
        for (input, want) in cases {
            assert_eq!(base32(input.as_bytes()), want, "{input:?}");
        }
        assert_eq!(base32(RFC_SECRET), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    }
}
