//! libphonenumber's parse of a number in international form, as `phonenumber::parse` reads
//! `+` and digits, on the compiled patterns of [`super::regions`].
//!
//! `phonenumber::parse` reads any text: a natural-language number, a `tel:` URI, an extension.
//! For `+` and digits, the only form [`PhoneNumber`](super::PhoneNumber) hands on, its steps
//! come down to these: the calling code, the region the rest is read against, then that
//! region's national prefix taken off. Done here, they take no lock and compile nothing: its
//! steps read patterns through the cache all threads share, keyed by each pattern's text, and
//! found the region twice. The unit tests hold this parse to `phonenumber::parse` on every
//! example number of the metadata, variants of them, and random digits.

use std::borrow::Cow;

use phonenumber::ParseError;
use phonenumber::metadata::Metadata;

use super::regions::{self, CallingCode};

/// Fewest digits of a national number (`MIN_LENGTH_FOR_NSN`).
const MIN_NATIONAL: usize = 2;
/// Most digits of a national number (`MAX_LENGTH_FOR_NSN`).
const MAX_NATIONAL: usize = 17;
/// Fewest digits after the `+` that `phonenumber` reads as a number at all.
const MIN_DIGITS: usize = 3;

/// A parsed number: its calling code and its national number, leading zeros kept.
#[derive(Debug)]
pub(super) struct Parsed<'a> {
    pub(super) code: u16,
    pub(super) national: Cow<'a, str>,
}

/// What `phonenumber::parse(None, international)` answers, for `international` made of `+`
/// and ASCII digits (any other text is [`ParseError::NoNumber`]).
pub(super) fn parse(international: &str) -> Result<Parsed<'_>, ParseError> {
    let digits = international
        .strip_prefix('+')
        .filter(|digits| digits.bytes().all(|b| b.is_ascii_digit()))
        .ok_or(ParseError::NoNumber)?;
    if digits.len() < MIN_DIGITS {
        return Err(ParseError::NoNumber);
    }
    if digits.starts_with('0') {
        return Err(ParseError::InvalidCountryCode);
    }
    let (code, calling_code, rest) =
        split_calling_code(digits).ok_or(ParseError::InvalidCountryCode)?;
    // `phonenumber` keeps the prefix when the number without it would be too short for the
    // region's general lengths. No general pattern of its metadata lists lengths, so that never
    // happens (a unit test holds the metadata to it).
    let national = match calling_code.metadata_for(rest.trim_start_matches('0')) {
        Some(meta) => without_national_prefix(meta, rest),
        None => Cow::Borrowed(rest),
    };
    if national.len() < MIN_NATIONAL {
        return Err(ParseError::TooShortNsn);
    }
    if national.len() > MAX_NATIONAL {
        return Err(ParseError::TooLong);
    }
    // `NationalNumber`'s own rules: a value after the leading zeros, below 2^56.
    let value = national.trim_start_matches('0');
    if value.parse::<u64>()? >= 1 << 56 {
        return Err(ParseError::TooLong);
    }
    Ok(Parsed { code, national })
}

/// The calling code `digits` start with, its entry, and the digits after it: the shortest
/// prefix of 1 to 3 digits that is some country's calling code (no calling code is a prefix
/// of another).
pub(super) fn split_calling_code(digits: &str) -> Option<(u16, &'static CallingCode, &str)> {
    (1..=3).find_map(|len| {
        let code = digits.get(..len)?.parse::<u16>().ok()?;
        Some((code, regions::calling_code(code)?, &digits[len..]))
    })
}

/// `national` without what the region writes before a national number: its prefix for
/// parsing (with the transform rule, if any), then its national prefix, as `phonenumber`'s
/// parse takes them off (`helper::national_number`, then the prefix once more).
fn without_national_prefix<'a>(meta: &'static Metadata, national: &'a str) -> Cow<'a, str> {
    let stripped = match regions::patterns(meta).and_then(|p| Some((p, p.prefix_for_parsing()?))) {
        None => Cow::Borrowed(strip_prefix(meta, national)),
        Some((patterns, parsing)) => match parsing.captures(national) {
            None => Cow::Borrowed(national),
            Some(captures) => {
                let last_matched = captures.get(captures.len() - 1).is_some();
                match meta.national_prefix_transform_rule() {
                    Some(rule) if last_matched => {
                        let transformed = parsing.replace(national, rule);
                        if patterns.is_general(national) && !patterns.is_general(&transformed) {
                            Cow::Borrowed(national)
                        } else {
                            Cow::Owned(transformed.into_owned())
                        }
                    }
                    // `phonenumber` compares the number with itself here, so the prefix always
                    // goes.
                    _ => Cow::Borrowed(&national[captures.get(0).map_or(0, |m| m.end())..]),
                }
            }
        },
    };
    match stripped {
        Cow::Borrowed(text) => Cow::Borrowed(strip_prefix(meta, text)),
        Cow::Owned(text) => Cow::Owned(strip_prefix(meta, &text).to_owned()),
    }
}

/// `national` without the region's national prefix (a trunk `0`, say) if it starts with it.
fn strip_prefix<'a>(meta: &Metadata, national: &'a str) -> &'a str {
    meta.national_prefix()
        .and_then(|prefix| national.strip_prefix(prefix))
        .unwrap_or(national)
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// What `phonenumber::parse` answers for `input`, in this module's terms.
    fn theirs(input: &str) -> Result<(u16, String), String> {
        phonenumber::parse(None, input)
            .map(|number| {
                assert!(number.extension().is_none(), "{input}");
                (number.country().code(), number.national().to_string())
            })
            .map_err(|e| format!("{e:?}"))
    }

    fn ours(input: &str) -> Result<(u16, String), String> {
        parse(input)
            .map(|parsed| (parsed.code, parsed.national.into_owned()))
            .map_err(|e| format!("{e:?}"))
    }

    /// Holds the parse of `input` to `phonenumber`'s; whether it parsed.
    pub(in crate::phone) fn check(input: &str) -> bool {
        let expected = theirs(input);
        assert_eq!(ours(input), expected, "{input}");
        expected.is_ok()
    }

    #[test]
    fn short_odd_and_edge_inputs_parse_as_phonenumber_does() {
        let inputs = [
            "+",
            "+1",
            "+12",
            "+123",
            "+0123",
            "+1234",
            "+999",
            "+9999999",
            "+80012345678",
            "+390000",
            "+39000000",
            "+3900001",
            "+440",
            "+4400",
            "+44000",
            "+4407911123456",
            "+44079111234567",
            "+12125550123",
            "+112125550123",
            "+5491123456789",
            "+54911234567890",
            "+52155123456789",
            "+5215512345678",
            "+8613800138000",
            "+86013800138000",
            "+61412345678",
            "+610412345678",
            "+7999123456789",
            "+12345678901234567",
            "+99999999999999999",
            "+88888888888888888",
            // Argentina's transform rule would make a number its general pattern refuses.
            "+5411151244292",
        ];
        let parsed = inputs.iter().filter(|input| check(input)).count();
        assert!(parsed > 15, "{parsed} parsed");
        // National numbers of 16 to 18 digits (at most 17, and below 2^56), past what
        // `PhoneNumber` hands on.
        for digits in [
            "2".repeat(16),
            "2".repeat(17),
            "2".repeat(18),
            "9".repeat(17),
        ] {
            check(&format!("+1{digits}"));
        }
        assert!(parse(&format!("+1{}", "2".repeat(17))).is_ok());
        assert!(parse("+44 7911").is_err() && parse("44").is_err() && parse("").is_err());
    }

    /// The premise of leaving out `phonenumber`'s length check after the national prefix: it
    /// reads the general pattern's lengths, and this metadata lists none. Should a version of
    /// the metadata list them, the check must come back (`validator::length`).
    #[test]
    fn no_general_pattern_lists_lengths() {
        let listing: Vec<_> = regions::every_region()
            .filter(|meta| {
                let general = meta.descriptors().general();
                !general.possible_length().is_empty() || !general.possible_local_length().is_empty()
            })
            .map(|meta| (meta.country_code(), meta.id()))
            .collect();
        assert!(
            listing.is_empty(),
            "general patterns with lengths: {listing:?}"
        );
    }

    /// Every example number of the metadata and every cut of it, with and without the region's
    /// national prefix before it: the prefixes taken off, and the transform rules.
    #[test]
    fn prefixed_and_cut_examples_parse_as_phonenumber_does() {
        let (mut inputs, mut parsed) = (0, 0);
        for meta in regions::every_region() {
            let d = meta.descriptors();
            let descriptors = [Some(d.general()), d.fixed_line(), d.mobile(), d.toll_free()];
            let code = meta.country_code();
            let prefixes = ["", meta.national_prefix().unwrap_or("0")];
            for example in descriptors
                .into_iter()
                .flatten()
                .filter_map(|d| d.example())
            {
                for prefix in prefixes {
                    for end in 0..=example.len() {
                        inputs += 1;
                        parsed +=
                            usize::from(check(&format!("+{code}{prefix}{}", &example[..end])));
                    }
                }
            }
        }
        assert!(
            inputs > 12_000 && parsed > 10_000,
            "{parsed} of {inputs} parsed"
        );
    }

    proptest::proptest! {
        /// Random digits: short, long, unknown calling codes, leading zeros, trunk prefixes.
        #[test]
        fn random_digits_parse_as_phonenumber_does(digits in "[0-9]{0,17}") {
            check(&format!("+{digits}"));
        }
    }
}
