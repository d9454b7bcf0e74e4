//! Twilio's formats: dates and SIDs.

use time::OffsetDateTime;

use crate::otp::SandboxRng;

/// ISO 8601 in UTC without fractions, as Twilio writes `date_created`.
pub(super) fn date(t: OffsetDateTime) -> String {
    t.checked_to_offset(time::UtcOffset::UTC)
        .and_then(|t| {
            t.format(time::macros::format_description!(
                "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
            ))
            .ok()
        })
        .unwrap_or_default()
}

/// A Twilio SID: two-letter prefix and 32 random lowercase hex digits.
pub(super) fn new_sid(rng: &mut SandboxRng, prefix: &str) -> String {
    format!("{prefix}{}", rng.hex(16))
}

/// Whether `raw` is a SID of `prefix`: the prefix and 32 hex digits (either case, as Twilio's
/// OpenAPI patterns take them, `^VE[0-9a-fA-F]{32}$`).
pub(super) fn is_sid(raw: &str, prefix: &str) -> bool {
    raw.len() == 34 && raw.starts_with(prefix) && raw.bytes().skip(2).all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{TWILIO_ACCOUNT_SID, TWILIO_API_KEY_SID, TWILIO_SERVICE_SID};

    #[test]
    fn dates_and_sids_have_twilios_shape() {
        assert_eq!(date(OffsetDateTime::UNIX_EPOCH), "1970-01-01T00:00:00Z");
        let sid = new_sid(&mut SandboxRng::new(Some(1)), "VE");
        assert_eq!(sid.len(), 34);
        assert!(sid[2..].bytes().all(|b| b.is_ascii_hexdigit()));
        assert!(is_sid(&sid, "VE"));
        assert!(is_sid("VEABCDEF0123456789abcdef0123456789", "VE"));
        for bad in [
            "VA0123456789abcdef0123456789abcdef",
            "VE0123456789abcdef0123456789abcde",
            "VE0123456789abcdef0123456789abcdef0",
            "VE0123456789abcdef0123456789abcdeg",
            "",
        ] {
            assert!(!is_sid(bad, "VE"), "{bad}");
        }
        assert_eq!(TWILIO_SERVICE_SID.len(), 34);
        assert_eq!(TWILIO_ACCOUNT_SID.len(), 34);
        assert_eq!(TWILIO_API_KEY_SID.len(), 34);
    }
}
