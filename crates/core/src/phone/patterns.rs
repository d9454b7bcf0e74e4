//! libphonenumber's number patterns, each region's compiled once for the life of the process.
//!
//! The `phonenumber` crate compiles its metadata's patterns on use, through one cache of 100
//! compiled patterns for all regions behind one mutex. Validating a number reads up to a dozen
//! patterns of its region, so once traffic spans more than a few regions nearly every
//! validation recompiled its patterns: 1.4 to 2.6 ms a number across 20 regions or more,
//! against a few microseconds here (`cargo xtask bench`, phase `numbers`). The validation below reads the same metadata with the same rules as
//! `phonenumber::is_valid` and `PhoneNumber::country().id()`; the unit tests hold it to them.
//!
//! `phonenumber`'s parse still goes through that cache, for each region's general pattern and
//! national prefix rule: about 120 patterns for all regions. [`parse`] makes room for them.

use std::collections::HashMap;
use std::sync::{LazyLock, Once, OnceLock, PoisonError};

use phonenumber::ParseError;
use phonenumber::country::Id as CountryId;
use phonenumber::metadata::{DATABASE, Descriptor, Metadata};
use regex::{Regex, RegexBuilder};

use super::number_type::NumberType;

/// How many compiled patterns `phonenumber`'s cache keeps, at least: room for what its parse
/// reads in every region, over its default of 100.
const PARSE_PATTERNS: usize = 256;

/// `phonenumber::parse`, its pattern cache first given room for [`PARSE_PATTERNS`].
pub(super) fn parse(international: &str) -> Result<phonenumber::PhoneNumber, ParseError> {
    static GROWN: Once = Once::new();
    GROWN.call_once(|| {
        let cache = DATABASE.cache();
        let mut cache = cache.lock().unwrap_or_else(PoisonError::into_inner);
        if cache.capacity() < PARSE_PATTERNS {
            cache.set_capacity(PARSE_PATTERNS);
        }
    });
    phonenumber::parse(None, international)
}

/// A region's metadata entry: its calling code and its id (`001` for non-geographic numbers,
/// which several calling codes share).
type RegionKey = (u16, &'static str);

/// Every region of the metadata, its patterns compiled on first use.
static REGIONS: LazyLock<HashMap<RegionKey, OnceLock<RegionPatterns>>> = LazyLock::new(|| {
    every_region()
        .map(|meta| ((meta.country_code(), meta.id()), OnceLock::new()))
        .collect()
});

/// Every metadata entry, by calling code: `DATABASE.iter()` yields one of the entries that
/// share the id `001`, not all of them.
pub(super) fn every_region() -> impl Iterator<Item = &'static Metadata> {
    (1..=999)
        .filter_map(|code| DATABASE.by_code(&code))
        .flatten()
}

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

/// The patterns of one region that validation, classification and the region lookup read.
struct RegionPatterns {
    general: Option<Pattern>,
    /// The types other than fixed line and mobile, in the order libphonenumber tries them.
    special: Box<[(NumberType, Pattern)]>,
    fixed_line: Option<Pattern>,
    mobile: Option<Pattern>,
    /// The region's fixed-line and mobile patterns are the same text.
    fixed_line_is_mobile: bool,
    leading_digits: Option<Regex>,
}

impl RegionPatterns {
    fn new(meta: &Metadata) -> Self {
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
        }
    }

    fn of(meta: &'static Metadata) -> Option<&'static Self> {
        let cell = REGIONS.get(&(meta.country_code(), meta.id()))?;
        Some(cell.get_or_init(|| Self::new(meta)))
    }

    /// `phonenumber`'s `number_type(meta, national)`.
    fn number_type(&self, national: &str) -> NumberType {
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

/// The metadata `national` is read against under calling code `code`, found as
/// `phonenumber`'s `source_for` finds it: the code's one region, else the first of its regions
/// whose leading digits start the number or, for a region without them, that knows its type.
pub(super) fn metadata_for(code: u16, national: &str) -> Option<&'static Metadata> {
    let regions = DATABASE.region(&code)?;
    if let [only] = regions[..] {
        return if only == "001" {
            main_metadata(code)
        } else {
            by_region(only)
        };
    }
    regions.into_iter().find_map(|region| {
        let meta = DATABASE.by_id(region)?;
        let patterns = RegionPatterns::of(meta)?;
        let here = match &patterns.leading_digits {
            Some(leading) => leading.is_match(national),
            None => patterns.number_type(national) != NumberType::Unknown,
        };
        if here { by_region(region) } else { None }
    })
}

/// The metadata of the calling code's main region: the first of its entries.
pub(super) fn main_metadata(code: u16) -> Option<&'static Metadata> {
    DATABASE.by_code(&code)?.into_iter().next()
}

/// The metadata of a region id, read as `phonenumber` reads it (through its country id).
fn by_region(region: &str) -> Option<&'static Metadata> {
    let id: CountryId = region.parse().ok()?;
    DATABASE.by_id(id.as_ref())
}

/// The type of `national` in `meta`'s numbering plan, as `phonenumber::is_valid` reads it:
/// a number whose type is [`NumberType::Unknown`] is not valid.
pub(super) fn number_type(meta: &'static Metadata, national: &str) -> NumberType {
    RegionPatterns::of(meta).map_or(NumberType::Unknown, |patterns| {
        patterns.number_type(national)
    })
}
