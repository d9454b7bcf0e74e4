//! [`VerifikPhone`]: a phone number as Verifik's bodies and queries take it.

use std::borrow::Cow;
use std::fmt;

use phone_verify_core::kit::mask_phone_field;
use phone_verify_core::{PhoneNumber, Result};

use crate::config::invalid;

/// A phone number as Verifik takes it: `countryCode` (`+` and 1 to 3 digits) and `phone` (the
/// national number, digits only, spaces removed), checked before any request. `Debug` masks
/// the number.
///
/// ```
/// use phone_verify_core::PhoneNumber;
/// use phone_verify_verifik::VerifikPhone;
///
/// let phone = VerifikPhone::new("+507", "6264 7737")?;
/// assert_eq!((phone.country_code(), phone.phone()), ("+507", "62647737"));
/// let parsed: PhoneNumber = "+507 6264 7737".parse()?;
/// assert_eq!(VerifikPhone::from(&parsed), phone);
/// assert!(VerifikPhone::new("507", "62647737").is_err());
/// assert!(VerifikPhone::new("+507", "6264-7737").is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct VerifikPhone {
    pub(super) country_code: String,
    pub(super) phone: String,
}

impl VerifikPhone {
    /// Checks a country code and a national number the way Verifik's documentation states.
    pub fn new(country_code: &str, phone: &str) -> Result<Self> {
        let (country_code, phone) = checked_parts(country_code, phone)?;
        Ok(Self {
            country_code: country_code.to_owned(),
            phone: phone.into_owned(),
        })
    }

    /// `countryCode`, e.g. `+507`.
    pub fn country_code(&self) -> &str {
        &self.country_code
    }

    /// `phone`, the national number, e.g. `62647737`.
    pub fn phone(&self) -> &str {
        &self.phone
    }

    /// The number as a validated [`PhoneNumber`], if it is one.
    pub fn to_phone_number(&self) -> Option<PhoneNumber> {
        PhoneNumber::from_parts(&self.country_code, &self.phone).ok()
    }
}

/// The checks of [`VerifikPhone::new`], without copying: the trimmed country code and the
/// national number without spaces (borrowed when it has none).
pub(crate) fn checked_parts<'a>(
    country_code: &'a str,
    phone: &'a str,
) -> Result<(&'a str, Cow<'a, str>)> {
    let country_code = country_code.trim();
    let valid_code = country_code.strip_prefix('+').is_some_and(|digits| {
        (1..=3).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
    });
    if !valid_code {
        return Err(invalid(
            "the country code must be + followed by 1 to 3 digits, e.g. +507",
        ));
    }
    let phone: Cow<'a, str> = if phone.bytes().all(|b| b.is_ascii_digit()) {
        // The usual form: nothing to remove.
        Cow::Borrowed(phone)
    } else {
        Cow::Owned(phone.chars().filter(|c| !c.is_whitespace()).collect())
    };
    if phone.is_empty() || phone.len() > 15 || !phone.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid(
            "the phone must be the national number, 1 to 15 digits (spaces are removed)",
        ));
    }
    Ok((country_code, phone))
}

impl From<&PhoneNumber> for VerifikPhone {
    fn from(phone: &PhoneNumber) -> Self {
        Self {
            country_code: phone.calling_code().to_owned(),
            phone: phone.national_number().to_owned(),
        }
    }
}

impl fmt::Debug for VerifikPhone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifikPhone")
            .field("country_code", &self.country_code)
            .field("phone", &mask_phone_field(&self.phone))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use phone_verify_core::ErrorKind;

    use super::*;

    #[test]
    fn phones_follow_the_documented_format() {
        let phone = VerifikPhone::new(" +57 ", " 300 123 4567 ").unwrap();
        assert_eq!(phone.country_code(), "+57");
        assert_eq!(phone.phone(), "3001234567");
        assert!(!format!("{phone:?}").contains("3001234567"));
        for (code, number) in [
            ("57", "3001234567"),
            ("+", "3001234567"),
            ("+5777", "3001234567"),
            ("+5a", "3001234567"),
            ("+57", ""),
            ("+57", "300-123"),
            ("+57", "1234567890123456"),
            ("+57", "３００"),
        ] {
            let err = VerifikPhone::new(code, number).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{code} {number}");
        }
        let parsed = PhoneNumber::parse("+39 06 6982 1234").unwrap();
        assert_eq!(VerifikPhone::from(&parsed).phone(), "0669821234");
    }

    #[test]
    fn checked_parts_borrow_a_number_without_spaces() {
        let (code, number) = checked_parts(" +57", "3001234567").unwrap();
        assert_eq!(code, "+57");
        assert!(matches!(number, Cow::Borrowed("3001234567")));
        let (_, number) = checked_parts("+57", "300 123\t4567").unwrap();
        assert!(matches!(number, Cow::Owned(ref n) if n == "3001234567"));
        for (code, number) in [("+57", ""), ("57", "1"), ("+57", "3001234567890123")] {
            assert!(checked_parts(code, number).is_err(), "{code} {number}");
        }
    }

    /// A national number of 15 digits is the longest taken, one digit more is refused, and
    /// the shortest is one digit; `Debug` shows the country code and the masked number.
    #[test]
    fn national_numbers_of_1_to_15_digits() {
        let longest = VerifikPhone::new("+1", "123456789012345").unwrap();
        assert_eq!(longest.phone().len(), 15);
        assert_eq!(
            format!("{longest:?}"),
            r#"VerifikPhone { country_code: "+1", phone: "*************45" }"#
        );
        assert!(VerifikPhone::new("+1", "1234567890123456").is_err());
        assert_eq!(VerifikPhone::new("+1", "7").unwrap().phone(), "7");
    }
}
