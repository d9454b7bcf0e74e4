//! The number type of a phone, from libphonenumber's metadata.

use phone_verify_core::PhoneNumber;
use phonenumber::Type;

use crate::config::NumberKind;

/// The refusable kind of `phone`, or `None` for mobile and fixed-line numbers.
pub(crate) fn kind_of(phone: &PhoneNumber) -> Option<NumberKind> {
    let Ok(parsed) = phonenumber::parse(None, phone.e164()) else {
        return Some(NumberKind::Unknown);
    };
    match parsed.number_type(&phonenumber::metadata::DATABASE) {
        Type::PremiumRate => Some(NumberKind::PremiumRate),
        Type::SharedCost => Some(NumberKind::SharedCost),
        Type::TollFree => Some(NumberKind::TollFree),
        Type::Voip => Some(NumberKind::Voip),
        Type::PersonalNumber => Some(NumberKind::PersonalNumber),
        Type::Pager => Some(NumberKind::Pager),
        Type::Uan => Some(NumberKind::Uan),
        Type::Voicemail => Some(NumberKind::Voicemail),
        Type::Unknown => Some(NumberKind::Unknown),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_numbers() {
        let kind = |n: &str| kind_of(&n.parse().unwrap());
        assert_eq!(kind("+905321234567"), None); // Turkish mobile
        assert_eq!(kind("+442079460000"), None); // London fixed line
        assert_eq!(kind("+449098790000"), Some(NumberKind::PremiumRate)); // UK 09
        assert_eq!(kind("+448001234567"), Some(NumberKind::TollFree)); // UK 0800
        assert_eq!(kind("+445612345678"), Some(NumberKind::Voip)); // UK 056
    }
}
