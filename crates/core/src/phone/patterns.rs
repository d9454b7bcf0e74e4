//! libphonenumber's number patterns, each region's compiled once for the life of the process.
//!
//! The `phonenumber` crate compiles its metadata's patterns on use, through one cache of 100
//! compiled patterns for all regions behind one mutex, keyed by the pattern's text. Parsing
//! and validating a number reads about a dozen patterns of its region, so once traffic spans
//! more than a few regions nearly every number recompiled its patterns: 1.4 to 2.6 ms a number
//! across 20 regions or more, against a few microseconds here (`cargo xtask bench`, phase
//! `numbers`). [`RegionPatterns`] holds what the parse ([`super::parse`]) and the validation
//! read; the unit tests hold both to `phonenumber`'s answers.

use phonenumber::metadata::{Descriptor, Metadata};
use regex::{Regex, RegexBuilder};

use super::number_type::NumberType;

/// Compiles `source` as `phonenumber` does (the metadata lays its patterns out with white
/// space), anchored at the start: `phonenumber` accepts a match that starts at the first
/// digit. A national number holds ASCII digits only, so `\d` is compiled as ASCII, which keeps
/// the automaton small; a pattern that needs Unicode is compiled with it.
fn compile(source: &str) -> Option<Regex> {
    let anchored = format!("^(?:{source})");
    RegexBuilder::new(&anchored)
        .ignore_whitespace(true)
        .unicode(false)
        .build()
        .or_else(|_| RegexBuilder::new(&anchored).ignore_whitespace(true).build())
        .ok()
}

/// One number type's pattern and the lengths its national numbers may have.
struct Pattern {
    lengths: Box<[u16]>,
    regex: Regex,
}

impl Pattern {
    /// A pattern `phonenumber` would refuse to compile makes the type absent, as in a region
    /// without it: `phonenumber` then finds no match either.
    fn new(descriptor: &Descriptor) -> Option<Self> {
        Some(Self {
            lengths: descriptor.possible_length().into(),
            regex: compile(descriptor.national_number().as_str())?,
        })
    }

    /// `Descriptor::is_match`: a possible length (when the metadata lists any), and a match
    /// from the first digit.
    fn matches(&self, national: &str) -> bool {
        let length = u16::try_from(national.len()).unwrap_or(u16::MAX);
        (self.lengths.is_empty() || self.lengths.contains(&length)) && self.regex.is_match(national)
    }
}

/// The patterns of one region that the parse, the validation, the classification and the
/// region lookup read.
pub(super) struct RegionPatterns {
    general: Option<Pattern>,
    /// The types other than fixed line and mobile, in the order libphonenumber tries them.
    special: Box<[(NumberType, Pattern)]>,
    fixed_line: Option<Pattern>,
    mobile: Option<Pattern>,
    /// The region's fixed-line and mobile patterns are the same text.
    fixed_line_is_mobile: bool,
    leading_digits: Option<Regex>,
    /// `nationalPrefixForParsing`: what a national number may start with that is not part of
    /// it (a trunk prefix, a carrier code).
    prefix_for_parsing: Option<Regex>,
}

impl RegionPatterns {
    pub(super) fn new(meta: &Metadata) -> Self {
        let d = meta.descriptors();
        let special = [
            (NumberType::PremiumRate, d.premium_rate()),
            (NumberType::TollFree, d.toll_free()),
            (NumberType::SharedCost, d.shared_cost()),
            (NumberType::Voip, d.voip()),
            (NumberType::PersonalNumber, d.personal_number()),
            (NumberType::Pager, d.pager()),
            (NumberType::Uan, d.uan()),
            (NumberType::Voicemail, d.voicemail()),
        ];
        Self {
            general: Pattern::new(d.general()),
            special: special
                .into_iter()
                .filter_map(|(kind, d)| Some((kind, Pattern::new(d?)?)))
                .collect(),
            fixed_line: d.fixed_line().and_then(Pattern::new),
            mobile: d.mobile().and_then(Pattern::new),
            fixed_line_is_mobile: source(d.fixed_line()) == source(d.mobile()),
            leading_digits: meta.leading_digits().and_then(|p| compile(p.as_str())),
            prefix_for_parsing: meta
                .national_prefix_for_parsing()
                .and_then(|p| compile(p.as_str())),
        }
    }

    /// The pattern of the digits that start the region's numbers, if it has one.
    pub(super) fn leading_digits(&self) -> Option<&Regex> {
        self.leading_digits.as_ref()
    }

    /// The region's `nationalPrefixForParsing`, anchored at the first digit.
    pub(super) fn prefix_for_parsing(&self) -> Option<&Regex> {
        self.prefix_for_parsing.as_ref()
    }

    /// `Descriptor::is_match` of the region's general pattern: whether `national` may be a
    /// number of the region at all.
    pub(super) fn is_general(&self, national: &str) -> bool {
        self.general.as_ref().is_some_and(|p| p.matches(national))
    }

    /// `phonenumber`'s `number_type(meta, national)`.
    pub(super) fn number_type(&self, national: &str) -> NumberType {
        let matches = |p: &Option<Pattern>| p.as_ref().is_some_and(|p| p.matches(national));
        if !matches(&self.general) {
            return NumberType::Unknown;
        }
        if let Some((kind, _)) = self.special.iter().find(|(_, p)| p.matches(national)) {
            return *kind;
        }
        if matches(&self.fixed_line) {
            if self.fixed_line_is_mobile || matches(&self.mobile) {
                NumberType::FixedLineOrMobile
            } else {
                NumberType::FixedLine
            }
        } else if matches(&self.mobile) {
            NumberType::Mobile
        } else {
            NumberType::Unknown
        }
    }
}

/// A descriptor's pattern, as the metadata writes it.
fn source(descriptor: Option<&Descriptor>) -> Option<&str> {
    descriptor.map(|d| d.national_number().as_str())
}
