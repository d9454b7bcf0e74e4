//! The refusable kind of a phone's number, from its type in libphonenumber's metadata
//! ([`PhoneNumber::number_type`], read from the already-parsed number: no second parse).

use phone_verify_core::{NumberType, PhoneNumber};

use crate::config::NumberKind;

/// The refusable kind of `phone`, or `None` for mobile and fixed-line numbers. A type that a
/// later version of core adds counts as [`NumberKind::Unknown`] until the guard names it.
pub(crate) fn kind_of(phone: &PhoneNumber) -> Option<NumberKind> {
    match phone.number_type() {
        NumberType::FixedLine | NumberType::Mobile | NumberType::FixedLineOrMobile => None,
        NumberType::PremiumRate => Some(NumberKind::PremiumRate),
        NumberType::SharedCost => Some(NumberKind::SharedCost),
        NumberType::TollFree => Some(NumberKind::TollFree),
        NumberType::Voip => Some(NumberKind::Voip),
        NumberType::PersonalNumber => Some(NumberKind::PersonalNumber),
        NumberType::Pager => Some(NumberKind::Pager),
        NumberType::Uan => Some(NumberKind::Uan),
        NumberType::Voicemail => Some(NumberKind::Voicemail),
        _ => Some(NumberKind::Unknown),
    }
}

#[cfg(test)]
mod tests {
    use phonenumber::Type;
    use phonenumber::metadata::{DATABASE, Descriptor, Metadata};

    use super::*;

    #[test]
    fn classifies_numbers() {
        let kind = |n: &str| kind_of(&n.parse().unwrap());
        assert_eq!(kind("+905321234567"), None); // Turkish mobile
        assert_eq!(kind("+442079460000"), None); // London fixed line
        assert_eq!(kind("+449098790000"), Some(NumberKind::PremiumRate)); // UK 09
        assert_eq!(kind("+448001234567"), Some(NumberKind::TollFree)); // UK 0800
        assert_eq!(kind("+445612345678"), Some(NumberKind::Voip)); // UK 056
        assert_eq!(kind("+390612345678"), None); // Rome fixed line: a leading zero
        assert_eq!(kind("+390669812345"), None); // Vatican fixed line: a leading zero
        assert_eq!(kind("+78001234567"), Some(NumberKind::TollFree)); // Russian 800, as written
        assert_eq!(kind("+80012345678"), Some(NumberKind::TollFree)); // non-geographic +800
    }

    fn expected(parsed: &phonenumber::PhoneNumber) -> Option<NumberKind> {
        match parsed.number_type(&DATABASE) {
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

    /// Every example number of every region's metadata gets the type `phonenumber` gives it.
    /// Left out: national numbers with a leading zero, which `phonenumber` drops before
    /// classifying (Italy's fixed lines come out `Unknown` there; here they are fixed lines,
    /// as the Rome number above), numbers it files under another region, and numbers it
    /// misreads by taking off digits that look like a trunk prefix.
    #[test]
    fn agrees_with_phonenumber_on_every_example_number() {
        let mut compared = 0;
        for meta in DATABASE.iter() {
            let d = meta.descriptors();
            let examples = [
                d.fixed_line(),
                d.mobile(),
                d.toll_free(),
                d.premium_rate(),
                d.shared_cost(),
                d.personal_number(),
                d.voip(),
                d.pager(),
                d.uan(),
                d.voicemail(),
            ];
            let examples = examples
                .into_iter()
                .flatten()
                .filter_map(Descriptor::example);
            for example in examples.filter(|e| !e.starts_with('0')) {
                let e164 = format!("+{}{example}", meta.country_code());
                let Ok(phone) = PhoneNumber::parse(&e164) else {
                    continue; // not a valid number for core (e.g. a local-only example)
                };
                let parsed = phonenumber::parse(None, &e164).unwrap();
                if parsed.metadata(&DATABASE).map(Metadata::id) != Some(meta.id()) {
                    continue;
                }
                if parsed.national().to_string() != example {
                    // `phonenumber` took a trunk-prefix lookalike off (Russia's `+7 800 …`);
                    // core reads the number as written (its own tests hold that).
                    continue;
                }
                assert_eq!(kind_of(&phone), expected(&parsed), "{e164} ({})", meta.id());
                compared += 1;
            }
        }
        assert!(compared > 500, "only {compared} example numbers compared");
    }
}
