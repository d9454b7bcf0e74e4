//! Reading Verifik request fields: country codes, phone numbers and OTPs.

use serde_json::Value;

use crate::body::Input;

/// Whether `code` is `+` followed by 1 to 3 digits.
pub(super) fn valid_country_code(code: &str) -> bool {
    code.strip_prefix('+')
        .is_some_and(|d| (1..=3).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()))
}

/// A phone field with spaces removed.
pub(super) fn clean_phone(raw: &str) -> String {
    raw.chars().filter(|c| !c.is_whitespace()).collect()
}

/// The OTP a request carries, as text, compared exactly: a string as sent (trimmed), a JSON
/// number as its plain decimal digits. A number cannot carry a leading zero, so `012345` sent
/// as the number `12345` does not match, as on Verifik (nothing is padded back).
pub(super) fn otp_field(input: &Input, key: &str) -> Option<String> {
    match input.body.get(key)? {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn country_codes_and_otps() {
        assert!(valid_country_code("+507"));
        assert!(valid_country_code("+1"));
        assert!(!valid_country_code("507"));
        assert!(!valid_country_code("+5077"));
        assert!(!valid_country_code("+5a"));
        assert_eq!(clean_phone(" 6264 7737 "), "62647737");
    }
}
