//! The number type of a phone, from libphonenumber's metadata.
//!
//! The classification reads the national number of the already-parsed [`PhoneNumber`] against
//! its region's patterns: no second parse. Each region's patterns are compiled once, on first
//! use, into a table of the process (at most one entry per region of the metadata): the
//! `phonenumber` crate's own pattern cache holds 100 compiled patterns for every region and
//! every use, so traffic across regions recompiled them on nearly every decision.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, PoisonError, RwLock};

use phone_verify_core::PhoneNumber;
use phonenumber::metadata::{DATABASE, Descriptor, Metadata};
use regex::{Regex, RegexBuilder};

use crate::config::NumberKind;

/// One type's pattern: the possible lengths of its national numbers and the anchored pattern.
#[derive(Debug)]
struct Pattern {
    lengths: Vec<u16>,
    regex: Regex,
}

impl Pattern {
    fn new(descriptor: Option<&Descriptor>) -> Option<Self> {
        let descriptor = descriptor?;
        let source = descriptor.national_number().as_str();
        // A pattern the regex crate refused would have failed in `phonenumber` too: the type is
        // then absent, as for a region without it.
        // Compiled as `phonenumber` compiles it (the metadata's patterns are laid out with
        // whitespace), anchored at both ends.
        let regex = RegexBuilder::new(&format!("^(?:{source})$"))
            .ignore_whitespace(true)
            .build()
            .ok()?;
        Some(Self {
            lengths: descriptor.possible_length().to_vec(),
            regex,
        })
    }

    fn matches(&self, national: &str) -> bool {
        let length = u16::try_from(national.len()).unwrap_or(u16::MAX);
        (self.lengths.is_empty() || self.lengths.contains(&length)) && self.regex.is_match(national)
    }
}

/// A region's patterns, in libphonenumber's order of classification.
#[derive(Debug)]
struct RegionTypes {
    general: Option<Pattern>,
    /// The refusable types, in the order libphonenumber tries them.
    special: Vec<(NumberKind, Pattern)>,
    fixed_line: Option<Pattern>,
    mobile: Option<Pattern>,
}

impl RegionTypes {
    fn new(meta: &Metadata) -> Self {
        let d = meta.descriptors();
        let special = [
            (NumberKind::PremiumRate, d.premium_rate()),
            (NumberKind::TollFree, d.toll_free()),
            (NumberKind::SharedCost, d.shared_cost()),
            (NumberKind::Voip, d.voip()),
            (NumberKind::PersonalNumber, d.personal_number()),
            (NumberKind::Pager, d.pager()),
            (NumberKind::Uan, d.uan()),
            (NumberKind::Voicemail, d.voicemail()),
        ]
        .into_iter()
        .filter_map(|(kind, descriptor)| Some((kind, Pattern::new(descriptor)?)))
        .collect();
        Self {
            general: Pattern::new(Some(d.general())),
            special,
            fixed_line: Pattern::new(d.fixed_line()),
            mobile: Pattern::new(d.mobile()),
        }
    }

    fn kind_of(&self, national: &str) -> Option<NumberKind> {
        if !self.general.as_ref().is_some_and(|p| p.matches(national)) {
            return Some(NumberKind::Unknown);
        }
        if let Some((kind, _)) = self.special.iter().find(|(_, p)| p.matches(national)) {
            return Some(*kind);
        }
        let ordinary = [&self.fixed_line, &self.mobile]
            .into_iter()
            .flatten()
            .any(|p| p.matches(national));
        if ordinary {
            None
        } else {
            Some(NumberKind::Unknown)
        }
    }
}

/// A region of the metadata: the calling code and the region's id (`TR`, or `001` for
/// non-geographic numbers, which several calling codes share).
type RegionKey = (u16, [u8; 3]);

static REGIONS: LazyLock<RwLock<HashMap<RegionKey, Arc<RegionTypes>>>> =
    LazyLock::new(RwLock::default);

fn metadata_of(phone: &PhoneNumber) -> Option<&'static Metadata> {
    match phone.region() {
        Some(region) => DATABASE.by_id(region),
        None => DATABASE
            .by_code(&phone.calling_code_number())
            .and_then(|regions| regions.into_iter().next()),
    }
}

/// The refusable kind of `phone`, or `None` for mobile and fixed-line numbers.
pub(crate) fn kind_of(phone: &PhoneNumber) -> Option<NumberKind> {
    let Some(meta) = metadata_of(phone) else {
        return Some(NumberKind::Unknown);
    };
    let mut id = [0; 3];
    for (slot, byte) in id.iter_mut().zip(meta.id().bytes()) {
        *slot = byte;
    }
    let key = (phone.calling_code_number(), id);
    let national = phone.national_number();
    let known = REGIONS
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&key)
        .cloned();
    let types = known.unwrap_or_else(|| {
        // Compiled outside the lock; two first uses at once compile twice, harmlessly.
        let types = Arc::new(RegionTypes::new(meta));
        REGIONS
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(key)
            .or_insert(types)
            .clone()
    });
    types.kind_of(national)
}

#[cfg(test)]
mod tests {
    use phonenumber::Type;

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
    /// as the Rome number above), and numbers it files under another region.
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
                assert_eq!(kind_of(&phone), expected(&parsed), "{e164} ({})", meta.id());
                compared += 1;
            }
        }
        assert!(compared > 500, "only {compared} example numbers compared");
    }
}
