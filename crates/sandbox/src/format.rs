//! How the emulators write values on the wire, where providers agree: ISO-8601 dates with
//! milliseconds and percent-encoded URI components.

use time::OffsetDateTime;
use time::macros::format_description;

/// ISO-8601 in UTC with milliseconds and `Z` (`2024-05-29T03:41:27.009Z`), as Verifik writes
/// dates and Verigator its `ctime`.
pub(crate) fn iso_millis(t: OffsetDateTime) -> String {
    t.checked_to_offset(time::UtcOffset::UTC)
        .and_then(|t| {
            t.format(format_description!(
                "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
            ))
            .ok()
        })
        .unwrap_or_default()
}

/// `s` percent-encoded for a URI query or `mailto:` component, a space as `%20` (not `+`).
pub(crate) fn percent_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_dates_carry_milliseconds_in_utc() {
        let t = OffsetDateTime::from_unix_timestamp(1_716_954_087).unwrap()
            + time::Duration::milliseconds(9);
        assert_eq!(iso_millis(t), "2024-05-29T03:41:27.009Z");
        let shifted = t
            .checked_to_offset(time::UtcOffset::from_hms(3, 0, 0).unwrap())
            .unwrap();
        assert_eq!(iso_millis(shifted), "2024-05-29T03:41:27.009Z");
    }

    #[test]
    fn spaces_and_reserved_characters_are_percent_encoded() {
        assert_eq!(percent_encode("a b+c&d"), "a%20b%2Bc%26d");
        assert_eq!(percent_encode("Acme Inc:ana"), "Acme%20Inc%3Aana");
    }
}
