//! libphonenumber's metadata by calling code, found by indexing (no hashing, nothing
//! allocated), each region's patterns compiled on its first number.
//!
//! `phonenumber`'s own lookups hash their key and collect a new list on every call
//! (`Database::by_code`, `Database::region`), and a parse makes several. This table answers the
//! same questions from lists built once, in the same order.

use std::sync::{LazyLock, OnceLock};

use phonenumber::country::Id as CountryId;
use phonenumber::metadata::{DATABASE, Metadata};

use super::number_type::NumberType;
use super::patterns::RegionPatterns;

/// The highest calling code (they have 1 to 3 digits).
const MAX_CODE: u16 = 999;

/// Every calling code's metadata, by code (`None`: no country has it).
static CODES: LazyLock<Box<[Option<CallingCode>]>> =
    LazyLock::new(|| (0..=MAX_CODE).map(CallingCode::new).collect());

/// A calling code's metadata entries and regions.
pub(super) struct CallingCode {
    /// Its entries as `DATABASE.by_code` lists them (the main region's first), each with its
    /// patterns, compiled on first use.
    entries: Box<[Entry]>,
    /// Its regions as `DATABASE.region` lists them, in the order a number's region is looked
    /// for (`None`: the metadata lists none).
    regions: Option<Box<[Candidate]>>,
}

/// One metadata entry and its compiled patterns.
struct Entry {
    meta: &'static Metadata,
    patterns: OnceLock<RegionPatterns>,
}

impl Entry {
    /// The entry's patterns, compiled on the first call.
    fn patterns(&self) -> &RegionPatterns {
        self.patterns.get_or_init(|| RegionPatterns::new(self.meta))
    }
}

/// One region of a calling code, as the region lookup reads it.
struct Candidate {
    /// The region's id (`001`: non-geographic).
    id: &'static str,
    /// Where `DATABASE.by_id(region)`, whose patterns the lookup tries, is among the code's
    /// entries (`None` only for the id `001`, which the lookup never tries).
    at: Option<usize>,
    /// The metadata the lookup answers when the region fits: the region read as a country id
    /// (`None` for an id that is not one), then found by that id.
    answer: Option<&'static Metadata>,
}

impl CallingCode {
    fn new(code: u16) -> Option<Self> {
        let entries: Box<[Entry]> = DATABASE
            .by_code(&code)?
            .into_iter()
            .map(|meta| Entry {
                meta,
                patterns: OnceLock::new(),
            })
            .collect();
        let regions = DATABASE.region(&code).map(|regions| {
            regions
                .into_iter()
                .map(|region| Candidate {
                    id: region,
                    at: DATABASE.by_id(region).and_then(|meta| {
                        entries
                            .iter()
                            .position(|entry| std::ptr::eq(entry.meta, meta))
                    }),
                    answer: by_region(region),
                })
                .collect()
        });
        Some(Self { entries, regions })
    }

    /// The metadata of the code's main region: the first of its entries.
    pub(super) fn main(&self) -> Option<&'static Metadata> {
        self.entries.first().map(|entry| entry.meta)
    }

    /// The metadata `national` is read against, found as `phonenumber`'s `source_for` finds
    /// it: the code's one region (the main entry for a non-geographic code), else the first of
    /// its regions whose leading digits start the number or, for a region without them, that
    /// knows its type.
    pub(super) fn metadata_for(&self, national: &str) -> Option<&'static Metadata> {
        let regions = self.regions.as_deref()?;
        if let [only] = regions {
            return if only.id == "001" {
                self.main()
            } else {
                only.answer
            };
        }
        regions.iter().find_map(|candidate| {
            let patterns = self.entries.get(candidate.at?)?.patterns();
            let here = match patterns.leading_digits() {
                Some(leading) => leading.is_match(national),
                None => patterns.number_type(national) != NumberType::Unknown,
            };
            if here { candidate.answer } else { None }
        })
    }
}

/// The calling code `code`, if a country has it (`DATABASE.by_code(code).is_some()`).
pub(super) fn calling_code(code: u16) -> Option<&'static CallingCode> {
    CODES.get(usize::from(code))?.as_ref()
}

/// The metadata of the calling code's main region.
pub(super) fn main_metadata(code: u16) -> Option<&'static Metadata> {
    calling_code(code)?.main()
}

/// The compiled patterns of a metadata entry (compiled on the first call for it).
pub(super) fn patterns(meta: &'static Metadata) -> Option<&'static RegionPatterns> {
    let entry = calling_code(meta.country_code())?
        .entries
        .iter()
        .find(|entry| std::ptr::eq(entry.meta, meta))?;
    Some(entry.patterns())
}

/// The type of `national` in `meta`'s numbering plan, as `phonenumber::is_valid` reads it:
/// a number whose type is [`NumberType::Unknown`] is not valid.
pub(super) fn number_type(meta: &'static Metadata, national: &str) -> NumberType {
    patterns(meta).map_or(NumberType::Unknown, |patterns| {
        patterns.number_type(national)
    })
}

/// The metadata of a region id, read as `phonenumber` reads it (through its country id).
fn by_region(region: &str) -> Option<&'static Metadata> {
    let id: CountryId = region.parse().ok()?;
    DATABASE.by_id(id.as_ref())
}

/// Every metadata entry, by calling code: `DATABASE.iter()` yields one of the entries that
/// share the id `001`, not all of them.
#[cfg(test)]
pub(super) fn every_region() -> impl Iterator<Item = &'static Metadata> {
    CODES
        .iter()
        .flatten()
        .flat_map(|code| code.entries.iter().map(|entry| entry.meta))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_answers_as_the_database_does() {
        for code in 0..=MAX_CODE {
            let listed = DATABASE.by_code(&code);
            assert_eq!(calling_code(code).is_some(), listed.is_some(), "+{code}");
            let main = listed.and_then(|entries| entries.into_iter().next());
            assert_eq!(
                main_metadata(code).map(|m| (m.country_code(), m.id())),
                main.map(|m| (m.country_code(), m.id())),
                "+{code}"
            );
        }
        assert!(calling_code(1000).is_none() && calling_code(u16::MAX).is_none());
        // Every entry has its patterns, the non-geographic ones of each code included.
        let entries: Vec<_> = every_region().collect();
        assert!(entries.len() > 240, "{} entries", entries.len());
        assert!(entries.iter().all(|meta| patterns(meta).is_some()));
        assert!(entries.iter().filter(|meta| meta.id() == "001").count() > 5);
        // Every region a lookup tries (those of codes with several) is an entry of its code.
        let shared = CODES
            .iter()
            .flatten()
            .filter_map(|code| code.regions.as_deref().filter(|regions| regions.len() > 1));
        let tried: Vec<&Candidate> = shared.flatten().collect();
        assert!(tried.len() > 30, "{} regions share a code", tried.len());
        assert!(tried.iter().all(|c| c.at.is_some()));
    }
}
