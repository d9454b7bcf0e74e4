//! [`PhoneNumber`]: a validated international phone number.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use phonenumber::ParseError as LibParseError;
use phonenumber::country::Id as CountryId;
use phonenumber::metadata::DATABASE;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use self::inline::{E164, Region};
use self::memo::Memoized;

mod inline;
mod memo;
mod number_type;
mod parse;
mod patterns;
mod regions;

pub use self::number_type::NumberType;

/// Why a string is not a usable phone number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PhoneError {
    /// The input was empty or only white space.
    #[error("phone number is empty")]
    Empty,
    /// The input contains characters that never appear in a phone number.
    #[error("phone number contains an invalid character {0:?}")]
    InvalidCharacter(char),
    /// The input is not in international form (`+` or `00` followed by the calling code).
    #[error("phone number must start with + and the country calling code, e.g. +507 6264 7737")]
    MissingCallingCode,
    /// The calling code is not a valid `+` followed by 1 to 3 digits, or belongs to no country.
    #[error("invalid country calling code {0:?}")]
    InvalidCallingCode(String),
    /// Too few digits for any phone number of that country.
    #[error("phone number is too short")]
    TooShort,
    /// More digits than any phone number can have.
    #[error("phone number is too long")]
    TooLong,
    /// Extensions (`ext. 123`) cannot receive a verification. (The parse refuses the
    /// characters an extension is written with as [`InvalidCharacter`](Self::InvalidCharacter)
    /// first; this stays for code that matches on it.)
    #[error("phone number has an extension")]
    HasExtension,
    /// Well formed, but not a number that can exist in its country's numbering plan.
    #[error("{0} is not a valid phone number for its country")]
    NotValid(String),
}

/// A validated phone number in international form.
///
/// Parsing uses Google's libphonenumber metadata (through the [`phonenumber`] crate), so only
/// numbers that can exist in their country's numbering plan are accepted. (The `phone` of a
/// stored [`Verification`](crate::Verification) is read more leniently: one this metadata does
/// not know, written by another version, is kept as written, with no region.) It serializes
/// as its E.164 string. `Debug` masks the number; `Display` shows the full E.164 form. It is kept
/// inline (23 bytes): cloning one never allocates.
///
/// ```
/// use phone_verify_core::PhoneNumber;
///
/// let phone: PhoneNumber = "+507 6264 7737".parse()?;
/// assert_eq!(phone.e164(), "+50762647737");
/// assert_eq!(phone.calling_code(), "+507");
/// assert_eq!(phone.national_number(), "62647737");
/// assert_eq!(phone.region(), Some("PA"));
/// assert_eq!(PhoneNumber::from_parts("+507", "6264-7737")?, phone);
/// assert!("call me maybe".parse::<PhoneNumber>().is_err());
/// # Ok::<(), phone_verify_core::PhoneError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PhoneNumber {
    e164: E164,
    /// Digits of the calling code (1 to 3).
    calling_code_len: u8,
    region: Option<Region>,
}

impl PhoneNumber {
    /// Parses a number in international form: `+` or `00`, the calling code, then the national
    /// number, with optional spaces, dots, dashes, slashes and parentheses.
    pub fn parse(input: &str) -> Result<Self, PhoneError> {
        let trimmed = crate::text::trim(input);
        if trimmed.is_empty() {
            return Err(PhoneError::Empty);
        }
        if let Some(bad) = trimmed
            .chars()
            .find(|c| !(c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '.' | '(' | ')' | '/')))
        {
            return Err(PhoneError::InvalidCharacter(bad));
        }
        // Numbers usually come compact already (`+` and digits): then nothing is copied.
        let compact: Cow<'_, str> = if trimmed.bytes().all(|b| b == b'+' || b.is_ascii_digit()) {
            Cow::Borrowed(trimmed)
        } else {
            trimmed
                .chars()
                .filter(|c| *c == '+' || c.is_ascii_digit())
                .collect::<String>()
                .into()
        };
        if compact.rfind('+').is_some_and(|i| i > 0) {
            return Err(PhoneError::InvalidCharacter('+'));
        }
        if let Some(rest) = compact.strip_prefix("00") {
            Self::parse_international(&format!("+{rest}"))
        } else if compact.starts_with('+') {
            Self::parse_international(&compact)
        } else {
            Err(PhoneError::MissingCallingCode)
        }
    }

    /// Builds a number from a calling code (`"+507"` or `"507"`) and a national number
    /// (separators allowed; a leading trunk `0` is dropped where the country does not keep it).
    pub fn from_parts(calling_code: &str, national: &str) -> Result<Self, PhoneError> {
        let code = calling_code.trim();
        let digits = code.strip_prefix('+').unwrap_or(code);
        if digits.is_empty() || digits.len() > 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            // Shown in messages: at most a few characters of what was given.
            return Err(PhoneError::InvalidCallingCode(
                code.chars().take(8).collect(),
            ));
        }
        let national = national.trim();
        if national.is_empty() {
            return Err(PhoneError::Empty);
        }
        if let Some(bad) = national
            .chars()
            .find(|c| !(c.is_ascii_digit() || matches!(c, ' ' | '-' | '.' | '(' | ')' | '/')))
        {
            return Err(PhoneError::InvalidCharacter(bad));
        }
        // Assembled on the stack: a provider's answer names the number this way on every
        // check or session lookup, and the memo usually knows it.
        let mut inline = [0; ASSEMBLED];
        let long;
        let international = if let Some(text) = assemble(&mut inline, digits, national) {
            text
        } else {
            let national: String = national.chars().filter(char::is_ascii_digit).collect();
            long = format!("+{digits}{national}");
            long.as_str()
        };
        let parsed = Self::parse_international(international);
        match (&parsed, international[1 + digits.len()..].strip_prefix('0')) {
            (Err(PhoneError::NotValid(_) | PhoneError::TooLong), Some(without_trunk)) => {
                Self::parse_international(&format!("+{digits}{without_trunk}")).or(parsed)
            }
            _ => parsed,
        }
    }

    /// Parses `+` and digits. Successful parses are memoized (see [`memo`]): a parse and its
    /// validation against libphonenumber's patterns cost about 0.5 to 1.6 µs, a memo hit tens
    /// of nanoseconds, and a number is typically parsed again soon (at start, then in the
    /// provider's answer to a check or a session lookup).
    fn parse_international(international: &str) -> Result<Self, PhoneError> {
        let key = E164::new(international);
        if let Some(key) = key
            && let Some(hit) = memo::get(&key)
        {
            return Ok(Self {
                e164: key,
                calling_code_len: hit.calling_code_len,
                region: hit.region,
            });
        }
        let parsed = Self::parse_uncached(international)?;
        // Only a number that is its own E.164 form is memoized: a hit rebuilds it from the key.
        if let Some(key) = key
            && parsed.e164 == key
        {
            memo::put(
                key,
                Memoized {
                    calling_code_len: parsed.calling_code_len,
                    region: parsed.region,
                },
            );
        }
        Ok(parsed)
    }

    fn parse_uncached(international: &str) -> Result<Self, PhoneError> {
        let digit_count = international.len() - 1;
        if digit_count > 17 {
            return Err(PhoneError::TooLong);
        }
        let parsed = parse::parse(international);
        // E.164 has no national prefix: a number valid as written is that number, although its
        // first digits may read as its region's prefix. `phonenumber` takes such digits off
        // (Lithuania's `8` off the toll-free `+370 800 11734`, Belarus's `80` off
        // `+375 800 000`), leaving a number that is not valid, or too short, or no number;
        // libphonenumber keeps the number when what is left would not fit the region.
        let took_digits_off = match &parsed {
            Ok(parsed) => {
                parsed.national != international[1 + usize::from(decimal_digits(parsed.code))..]
            }
            Err(e) => matches!(
                e,
                LibParseError::MalformedInteger(_) | LibParseError::TooShortNsn
            ),
        };
        if took_digits_off && let Some(number) = Self::valid_as_written(international) {
            return Ok(number);
        }
        let parsed = parsed.map_err(|e| match e {
            LibParseError::InvalidCountryCode => {
                PhoneError::InvalidCallingCode(international.chars().take(4).collect())
            }
            LibParseError::TooLong => PhoneError::TooLong,
            LibParseError::NoNumber
            | LibParseError::TooShortAfterIdd
            | LibParseError::TooShortNsn => PhoneError::TooShort,
            LibParseError::MalformedInteger(_) => PhoneError::NotValid(mask(international, 1)),
        })?;
        let calling_code_len = decimal_digits(parsed.code);
        let text = format!("+{}{}", parsed.code, parsed.national);
        let national = &text[1 + usize::from(calling_code_len)..];
        let Ok(region) = validated_region(parsed.code, national) else {
            return Err(PhoneError::NotValid(mask(&text, 1)));
        };
        let e164 = E164::new(&text).ok_or(PhoneError::TooLong)?;
        Ok(Self {
            e164,
            calling_code_len,
            region,
        })
    }

    /// A number read back from storage (a handle's `phone`): [`parse`](Self::parse)d, or, when
    /// that refuses it, taken as written if it is well-formed E.164 (`+`, no leading zero, a
    /// calling code the metadata knows, 8 to 15 digits in all), with no region. A number
    /// valid under the metadata of the process that stored it (another version of this crate,
    /// during a rolling deploy) stays readable when this metadata does not know its range.
    /// Such a number is not memoized: a later `parse` of the same text still refuses it.
    pub(crate) fn parse_stored(text: &str) -> Result<Self, PhoneError> {
        Self::parse(text).or_else(|refused| Self::well_formed(text).ok_or(refused))
    }

    /// `text` as written, if it is well-formed E.164, with no region (see
    /// [`parse_stored`](Self::parse_stored)).
    fn well_formed(text: &str) -> Option<Self> {
        let digits = text.strip_prefix('+')?;
        if !(8..=15).contains(&digits.len())
            || digits.starts_with('0')
            || !digits.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let (code, _, _) = parse::split_calling_code(digits)?;
        Some(Self {
            e164: E164::new(text)?,
            calling_code_len: decimal_digits(code),
            region: None,
        })
    }

    /// `international` (`+` and digits) read as written, if it is a valid number so.
    fn valid_as_written(international: &str) -> Option<Self> {
        let (code, _, national) = parse::split_calling_code(international.strip_prefix('+')?)?;
        let region = validated_region(code, national).ok()?;
        Some(Self {
            e164: E164::new(international)?,
            calling_code_len: decimal_digits(code),
            region,
        })
    }

    /// The E.164 form, e.g. `+50762647737`.
    pub fn e164(&self) -> &str {
        self.e164.as_str()
    }

    /// The country calling code with its `+`, e.g. `+507`.
    pub fn calling_code(&self) -> &str {
        &self.e164()[..=usize::from(self.calling_code_len)]
    }

    /// The calling code's digits as a number, e.g. `507`.
    pub fn calling_code_number(&self) -> u16 {
        self.calling_code()[1..].parse().unwrap_or_default()
    }

    /// The national significant number (digits after the calling code), e.g. `62647737`.
    pub fn national_number(&self) -> &str {
        &self.e164()[usize::from(self.calling_code_len) + 1..]
    }

    /// The ISO 3166-1 alpha-2 region of the number, e.g. `PA` or `TR`, as libphonenumber's
    /// `getRegionCodeForNumber` finds it (`VA` for the Vatican's `+39 06 698 …`); `None` for
    /// non-geographic numbers, and for the phone of a stored handle that this metadata does not
    /// know (see [`Verification`](crate::Verification)).
    pub fn region(&self) -> Option<&str> {
        self.region.as_ref().map(Region::as_str)
    }

    /// The calling code of ISO 3166-1 alpha-2 region `region` (`"TR"` → 90, `"us"` → 1), or
    /// `None` for a region libphonenumber's metadata does not know (`"UK"`: the United
    /// Kingdom is `GB`). For checking region names given in configuration.
    ///
    /// ```
    /// use phone_verify_core::PhoneNumber;
    ///
    /// assert_eq!(PhoneNumber::region_calling_code("TR"), Some(90));
    /// assert_eq!(PhoneNumber::region_calling_code("gb"), Some(44));
    /// assert_eq!(PhoneNumber::region_calling_code("UK"), None);
    /// ```
    pub fn region_calling_code(region: &str) -> Option<u16> {
        let bytes = region.as_bytes();
        if bytes.len() != 2 || !bytes.iter().all(u8::is_ascii_alphabetic) {
            return None;
        }
        DATABASE
            .by_id(region.to_ascii_uppercase().as_str())
            .map(phonenumber::Metadata::country_code)
    }

    /// Whether `code` is a country calling code of libphonenumber's metadata: a region's (`90`,
    /// `44`) or a non-geographic one (`800`, `882`). For checking calling codes given in
    /// configuration (`4400` is none: the United Kingdom's is `44`).
    ///
    /// ```
    /// use phone_verify_core::PhoneNumber;
    ///
    /// assert!(PhoneNumber::is_calling_code(90));
    /// assert!(PhoneNumber::is_calling_code(800));
    /// assert!(!PhoneNumber::is_calling_code(4400));
    /// assert!(!PhoneNumber::is_calling_code(0));
    /// ```
    pub fn is_calling_code(code: u16) -> bool {
        DATABASE.by_code(&code).is_some()
    }

    /// The number's type in its region's numbering plan, from libphonenumber's metadata. The
    /// phone of a stored handle that this metadata does not know is typed by its calling code's
    /// main region, which usually answers [`NumberType::Unknown`].
    ///
    /// ```
    /// use phone_verify_core::{NumberType, PhoneNumber};
    ///
    /// let mobile: PhoneNumber = "+90 532 123 45 67".parse()?;
    /// assert_eq!(mobile.number_type(), NumberType::Mobile);
    /// let premium: PhoneNumber = "+44 909 879 0000".parse()?;
    /// assert_eq!(premium.number_type(), NumberType::PremiumRate);
    /// # Ok::<(), phone_verify_core::PhoneError>(())
    /// ```
    pub fn number_type(&self) -> NumberType {
        let meta = match self.region() {
            Some(region) => DATABASE.by_id(region),
            None => regions::main_metadata(self.calling_code_number()),
        };
        meta.map_or(NumberType::Unknown, |meta| {
            regions::number_type(meta, self.national_number())
        })
    }

    /// A form safe for logs: the calling code and the last two digits, e.g. `+507******37`.
    pub fn masked(&self) -> String {
        mask(self.e164(), self.calling_code().len())
    }

    /// Writes the [`masked`](Self::masked) form without allocating it.
    pub(crate) fn write_masked(&self, out: &mut impl fmt::Write) -> fmt::Result {
        write_mask(out, self.e164(), self.calling_code().len())
    }
}

/// The region of the number `national` under calling code `code` if it is valid (`None` for a
/// non-geographic number): what libphonenumber's `isValidNumber` and
/// `getRegionCodeForNumber` answer, read from the patterns of [`regions`] (compiled once, not
/// through phonenumber's cache of 100), the number's metadata found once for both. `national`
/// is the national number with its leading zeros, as both read it. (`phonenumber`'s
/// `country().id()` reads it without them, and so files the Vatican's `+39 06 698 …` under
/// Italy, whose patterns leave it out.)
fn validated_region(code: u16, national: &str) -> Result<Option<Region>, NotValid> {
    let calling_code = regions::calling_code(code).ok_or(NotValid)?;
    let meta = calling_code.metadata_for(national).ok_or(NotValid)?;
    if regions::number_type(meta, national) == NumberType::Unknown {
        return Err(NotValid);
    }
    let region = meta
        .id()
        .parse::<CountryId>()
        .ok()
        .and_then(|id| Region::new(id.as_ref()));
    Ok(region)
}

/// A number that is not valid in its country's numbering plan.
#[derive(Debug, PartialEq, Eq)]
struct NotValid;

/// How many decimal digits `n` has, as `n.to_string().len()` counts them.
fn decimal_digits(n: u16) -> u8 {
    match n {
        0..=9 => 1,
        10..=99 => 2,
        100..=999 => 3,
        1000..=9999 => 4,
        _ => 5,
    }
}

/// `text` (free text such as a provider's error message) with every phone number in it masked
/// but its last two digits, the way [`PhoneNumber::masked`] masks a number: a run of 7 or more
/// ASCII digits, or digit groups joined by one or two separators (space, `-`, `.`, `(`, `)`:
/// `+90 532 123 45 67`, `+1 (501) 712-2661`) holding 7 or more in all. The separators are
/// kept; shorter runs (codes, counts) are kept as they are.
///
/// ```
/// use phone_verify_core::kit::mask_numbers;
///
/// assert_eq!(mask_numbers("Invalid `To`: +15017122661"), "Invalid `To`: +*********61");
/// assert_eq!(mask_numbers("Invalid `To`: +1 (501) 712-2661"), "Invalid `To`: +* (***) ***-**61");
/// assert_eq!(mask_numbers("code 60200"), "code 60200");
/// ```
pub fn mask_numbers(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = 0;
    for span in number_spans(text) {
        out.push_str(&text[rest..span.start]);
        let number = &text[span.clone()];
        let digits = number.bytes().filter(u8::is_ascii_digit).count();
        let mut seen = 0;
        for c in number.chars() {
            if c.is_ascii_digit() {
                seen += 1;
                out.push(if seen + 2 > digits { c } else { '*' });
            } else {
                out.push(c);
            }
        }
        rest = span.end;
    }
    out.push_str(&text[rest..]);
    out
}

/// `phone`, a field that holds one phone number as a provider wrote it (not parsed), with every
/// digit masked but the last two, whatever separates them (`+90/532/123/4567` →
/// `+**/***/***/**67`, `532123` → `****23`), as [`PhoneNumber::masked`] masks a number. For
/// `Debug` of a provider's wire types; [`mask_numbers`] is for free text, where short runs
/// (codes, counts) stay as they are.
///
/// ```
/// use phone_verify_core::kit::mask_phone_field;
///
/// assert_eq!(mask_phone_field("+90/532/123/4567"), "+**/***/***/**67");
/// assert_eq!(mask_phone_field("62647737"), "******37");
/// ```
pub fn mask_phone_field(phone: &str) -> String {
    let digits = phone.chars().filter(|c| c.is_numeric()).count();
    let mut seen = 0;
    phone
        .chars()
        .map(|c| {
            if !c.is_numeric() {
                return c;
            }
            seen += 1;
            if seen + 2 > digits { c } else { '*' }
        })
        .collect()
}

/// The byte ranges of `text` that read as phone numbers, for [`mask_numbers`] and
/// [`redacted_excerpt`](crate::kit::redacted_excerpt): runs of ASCII digits joined by gaps of one
/// or two separators (space, `-`, `.`, `(`, `)`), as numbers are written, holding 7 digits or
/// more in all. Each range starts and ends with a digit; a plain run of 7 digits is one.
pub(crate) fn number_spans(text: &str) -> Vec<std::ops::Range<usize>> {
    const MIN_DIGITS: usize = 7;
    const MAX_GAP: usize = 2;
    let bytes = text.as_bytes();
    let is_separator = |b: u8| matches!(b, b' ' | b'-' | b'.' | b'(' | b')');
    let mut spans = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        let mut digits = 0;
        let end = loop {
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                digits += 1;
                i += 1;
            }
            let group_end = i;
            let mut next = i;
            while next < bytes.len() && next - i < MAX_GAP && is_separator(bytes[next]) {
                next += 1;
            }
            if next > i && bytes.get(next).is_some_and(u8::is_ascii_digit) {
                i = next;
            } else {
                break group_end;
            }
        };
        if digits >= MIN_DIGITS {
            spans.push(start..end);
        }
        i = end;
    }
    spans
}

/// Keeps the first `keep_prefix` characters and the last two, stars in between.
fn mask(e164: &str, keep_prefix: usize) -> String {
    let mut out = String::with_capacity(e164.len());
    // Writing to a `String` cannot fail.
    let _ = write_mask(&mut out, e164, keep_prefix);
    out
}

/// Writes what [`mask`] returns (`e164` is ASCII: `+` and digits).
fn write_mask(out: &mut impl fmt::Write, e164: &str, keep_prefix: usize) -> fmt::Result {
    let len = e164.len();
    let shown = if len <= keep_prefix + 2 {
        ("", len, "")
    } else {
        (
            e164.get(..keep_prefix).unwrap_or_default(),
            len - keep_prefix - 2,
            e164.get(len - 2..).unwrap_or_default(),
        )
    };
    out.write_str(shown.0)?;
    for _ in 0..shown.1 {
        out.write_char('*')?;
    }
    out.write_str(shown.2)
}

impl FromStr for PhoneNumber {
    type Err = PhoneError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<(&str, &str)> for PhoneNumber {
    type Error = PhoneError;
    fn try_from((calling_code, national): (&str, &str)) -> Result<Self, Self::Error> {
        Self::from_parts(calling_code, national)
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.e164())
    }
}

impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PhoneNumber").field(&self.masked()).finish()
    }
}

impl Serialize for PhoneNumber {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.e164())
    }
}

impl<'de> Deserialize<'de> for PhoneNumber {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        crate::text::deserialize_str(deserializer, "a phone number in E.164 form", Self::parse)
    }
}

/// Room for `+`, a calling code and a national number assembled by
/// [`PhoneNumber::from_parts`]; longer texts (too long for any number) are assembled on the heap.
const ASSEMBLED: usize = 32;

/// `+`, `calling_code` (digits) and the digits of `national` in `buf`; `None` when they do
/// not fit.
fn assemble<'b>(
    buf: &'b mut [u8; ASSEMBLED],
    calling_code: &str,
    national: &str,
) -> Option<&'b str> {
    buf[0] = b'+';
    let mut len = 1;
    for digit in calling_code
        .bytes()
        .chain(national.bytes().filter(u8::is_ascii_digit))
    {
        *buf.get_mut(len)? = digit;
        len += 1;
    }
    // ASCII digits only: always UTF-8.
    std::str::from_utf8(&buf[..len]).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every region's example numbers of each number type, with the region's metadata.
    fn typed_examples() -> impl Iterator<Item = (&'static phonenumber::Metadata, &'static str)> {
        regions::every_region().flat_map(|meta| {
            let d = meta.descriptors();
            [
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
            ]
            .into_iter()
            .flatten()
            .filter_map(move |d| Some((meta, d.example()?)))
        })
    }

    /// Every example number of every region and number type in libphonenumber's metadata, as
    /// it is, with a leading zero (kept in Italy's national numbers), with its last digit
    /// changed, one digit longer, and cut short.
    fn metadata_examples() -> Vec<String> {
        let mut inputs = Vec::new();
        let general = regions::every_region()
            .filter_map(|meta| Some((meta, meta.descriptors().general().example()?)));
        for (meta, example) in general.chain(typed_examples()) {
            let code = meta.country_code();
            let (head, last) = example.split_at(example.len() - 1);
            let other = if last == "9" { "0" } else { "9" };
            inputs.push(format!("+{code}{example}"));
            inputs.push(format!("+{code}0{example}"));
            inputs.push(format!("+{code}{head}{other}"));
            inputs.push(format!("+{code}{example}5"));
            inputs.push(format!("+{code}{}", &example[..example.len() / 2]));
        }
        inputs.extend(["+390612345678", "+3906698", "+39000123"].map(String::from));
        inputs
    }

    /// What the parse answered before `validated_region`: phonenumber's own validation, then its
    /// region lookup, then the calling code's main region. One answer is libphonenumber's
    /// instead: the Vatican's `+39 06 698 …`, which `phonenumber` files under Italy (it reads
    /// the number without its leading zero, which only the Vatican's leading digits name).
    fn phonenumbers_region(number: &phonenumber::PhoneNumber) -> Result<Option<Region>, NotValid> {
        if !phonenumber::is_valid(number) {
            return Err(NotValid);
        }
        let national = number.national();
        if number.country().code() == 39
            && national.zeros() == 1
            && national.value().to_string().starts_with("6698")
        {
            return Ok(Region::new("VA"));
        }
        Ok(number
            .country()
            .id()
            .and_then(|id: CountryId| Region::new(id.as_ref()))
            .or_else(|| {
                regions::main_metadata(number.country().code())
                    .and_then(|meta| Region::new(meta.id()))
            }))
    }

    /// The parse, the E.164 text, the validity, the region and (without leading zeros) the
    /// type of `input` as the SDK finds them, against phonenumber's own answers; `None` when
    /// phonenumber cannot parse it.
    fn check_against_phonenumber(input: &str) -> Option<(bool, bool)> {
        if !parse::tests::check(input) {
            return None;
        }
        let number = phonenumber::parse(None, input).ok()?;
        let parsed = parse::parse(input).unwrap();
        let text = format!("+{}{}", parsed.code, parsed.national);
        let formatted = number.format().mode(phonenumber::Mode::E164).to_string();
        assert_eq!(text, formatted, "{input}");
        let national = &text[1 + usize::from(decimal_digits(parsed.code))..];
        assert_eq!(
            validated_region(parsed.code, national),
            phonenumbers_region(&number),
            "{input}"
        );
        let zeros = number.national().zeros() > 0;
        // Where the number is valid as written, core keeps it and `phonenumber` may not
        // (`every_example_number_reads_as_written`).
        if !zeros
            && let Ok(phone) = PhoneNumber::parse(input)
            && phone.national_number() == national
        {
            assert_eq!(
                phone.number_type(),
                phonenumbers_type(number.number_type(&DATABASE)),
                "{input}"
            );
        }
        Some((phonenumber::is_valid(&number), zeros))
    }

    fn phonenumbers_type(kind: phonenumber::Type) -> NumberType {
        use phonenumber::Type;
        match kind {
            Type::FixedLine => NumberType::FixedLine,
            Type::Mobile => NumberType::Mobile,
            Type::FixedLineOrMobile => NumberType::FixedLineOrMobile,
            Type::TollFree => NumberType::TollFree,
            Type::PremiumRate => NumberType::PremiumRate,
            Type::SharedCost => NumberType::SharedCost,
            Type::Voip => NumberType::Voip,
            Type::PersonalNumber => NumberType::PersonalNumber,
            Type::Pager => NumberType::Pager,
            Type::Uan => NumberType::Uan,
            Type::Voicemail => NumberType::Voicemail,
            Type::Unknown => NumberType::Unknown,
            other => panic!("number_type never answers {other:?}"),
        }
    }

    #[test]
    fn texts_validity_regions_and_types_are_phonenumbers() {
        let (mut valid, mut invalid, mut zeros) = (0, 0, 0);
        for input in &metadata_examples() {
            let Some((is_valid, has_zeros)) = check_against_phonenumber(input) else {
                continue;
            };
            if is_valid {
                valid += 1;
            } else {
                invalid += 1;
            }
            zeros += usize::from(is_valid && has_zeros);
        }
        assert!(
            valid > 2_000 && invalid > 2_000 && zeros > 10,
            "{valid} valid, {invalid} not valid, {zeros} valid with leading zeros"
        );
    }

    #[test]
    fn every_example_number_reads_as_written() {
        let (mut examples, mut phonenumber_misreads) = (0, 0);
        for (meta, example) in typed_examples() {
            let input = format!("+{}{example}", meta.country_code());
            let phone = PhoneNumber::parse(&input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(phone.e164(), input);
            assert_ne!(phone.number_type(), NumberType::Unknown, "{input}");
            examples += 1;
            let theirs = phonenumber::parse(None, &input).expect("phonenumber reads it");
            phonenumber_misreads += usize::from(theirs.national().to_string() != example);
        }
        assert!(examples > 1_000, "{examples} examples");
        // 10 of 1,144 examples `phonenumber` reads with a trunk prefix taken off, leaving a
        // number that is not valid: Russia's and Kazakhstan's `+7 800 123 45 67`, `+7 808 …`
        // and `+7 809 …`, Lithuania's `+370 800 12345`, `+370 808 12345` and
        // `+370 801 23456`, Belarus's `+375 801 123 45 67`.
        assert!(phonenumber_misreads > 0, "no example tells the rule apart");
    }

    #[test]
    fn a_number_with_leading_zeros_is_filed_and_typed_by_the_patterns_that_validate_it() {
        // The Vatican's fixed line: its region is the one whose leading digits (`06698`) start
        // the number with its zero, as libphonenumber finds it (`phonenumber` says Italy).
        let vatican = PhoneNumber::parse("+39 06 698 12345").unwrap();
        assert_eq!(vatican.region(), Some("VA"));
        assert_eq!(vatican.number_type(), NumberType::FixedLine);
        let from_parts = PhoneNumber::from_parts("39", "06 698 12345").unwrap();
        assert_eq!(from_parts.region(), Some("VA"));
        let next_door = PhoneNumber::parse("+39 06 697 12345").unwrap();
        assert_eq!(next_door.region(), Some("IT"));
        let rome = PhoneNumber::parse("+39 06 1234 5678").unwrap();
        assert_eq!(rome.number_type(), NumberType::FixedLine);
        let italian_mobile = PhoneNumber::parse("+39 312 345 6789").unwrap();
        assert_eq!(italian_mobile.number_type(), NumberType::Mobile);
    }

    #[test]
    fn a_valid_number_parses_back_from_each_of_its_forms() {
        // Found by the `phone_parse` fuzz target: `8800 11734` under +370 read as
        // +370 800 11734 (its trunk `8` taken off), whose E.164 form then lost another `8`.
        let phone = PhoneNumber::from_parts("370", "8800 11734").unwrap();
        assert_eq!(phone.e164(), "+37080011734");
        for form in [phone.e164().to_owned(), phone.to_string()] {
            assert_eq!(PhoneNumber::parse(&form).as_ref(), Ok(&phone), "{form}");
        }
        assert_eq!(
            PhoneNumber::from_parts(phone.calling_code(), phone.national_number()).as_ref(),
            Ok(&phone)
        );
        // Found by the property test at 100,000 cases: Belarus's `80` taken off the toll-free
        // `+375 800 000` leaves only zeros, no number at all in `phonenumber`'s reading.
        // Brazil's `90` likewise, off the premium-rate `+55 900 000 000`.
        for (number, kind) in [
            ("+375800000", NumberType::TollFree),
            ("+3758000000", NumberType::TollFree),
            ("+37580000000", NumberType::TollFree),
            ("+55900000000", NumberType::PremiumRate),
        ] {
            let phone = PhoneNumber::parse(number).unwrap_or_else(|e| panic!("{number}: {e}"));
            assert_eq!(phone.e164(), number);
            assert_eq!(phone.number_type(), kind, "{number}");
        }
        // A trunk prefix written after the calling code is still taken off where the number
        // is not valid with it.
        assert_eq!(
            PhoneNumber::parse("+7 8 912 345 67 89").unwrap().e164(),
            "+79123456789"
        );
        assert_eq!(
            PhoneNumber::parse("+44 (0)7400 123456").unwrap().e164(),
            "+447400123456"
        );
    }

    proptest::proptest! {
        /// Under calling codes whose regions write a trunk prefix that national numbers may
        /// also start with, every number that parses reads back as itself.
        #[test]
        fn a_parsed_number_is_its_own_e164_form(
            code in proptest::sample::select(vec![1_u16, 7, 36, 55, 370, 375, 976, 993, 998, 380]),
            national in "[0-9]{0,2}[0-9]{4,12}",
        ) {
            if let Ok(phone) = PhoneNumber::parse(&format!("+{code}{national}")) {
                let again = PhoneNumber::parse(phone.e164());
                proptest::prop_assert_eq!(again.as_ref(), Ok(&phone));
                let from_parts =
                    PhoneNumber::from_parts(phone.calling_code(), phone.national_number());
                proptest::prop_assert_eq!(from_parts.as_ref(), Ok(&phone));
            }
        }
    }

    proptest::proptest! {
        /// Random national numbers under calling codes shared by several regions, of one
        /// region, with leading zeros kept, and non-geographic.
        #[test]
        fn random_numbers_validate_as_phonenumber_does(
            code in proptest::sample::select(
                vec![1_u16, 7, 44, 39, 262, 590, 599, 90, 49, 507, 800, 882, 979],
            ),
            national in "0?[0-9]{4,14}",
        ) {
            check_against_phonenumber(&format!("+{code}{national}"));
        }
    }

    #[test]
    fn decimal_digits_count_as_to_string_does() {
        for n in [0, 1, 9, 10, 99, 100, 999, 1000, 9999, 10_000, u16::MAX] {
            assert_eq!(usize::from(decimal_digits(n)), n.to_string().len(), "{n}");
        }
    }

    #[test]
    fn a_malformed_number_is_masked_in_its_error() {
        // Brazil's `90` taken off leaves only zeros, and the 8 digits as written are not a
        // Brazilian number (the 9 digits of `+55 900 000 000` are: a premium-rate number).
        match PhoneNumber::parse("+5590000000") {
            Err(PhoneError::NotValid(shown)) => assert!(!shown.contains("90000000"), "{shown}"),
            other => panic!("expected NotValid, got {other:?}"),
        }
    }

    #[test]
    fn parses_numbers_of_many_countries() {
        // (input, e164, calling code, national, region)
        let cases = [
            ("+507 6264 7737", "+50762647737", "+507", "62647737", "PA"),
            (
                "+90 532 123 45 67",
                "+905321234567",
                "+90",
                "5321234567",
                "TR",
            ),
            (
                "+1 (415) 555-2671",
                "+14155552671",
                "+1",
                "4155552671",
                "US",
            ),
            ("+1 416-555-0123", "+14165550123", "+1", "4165550123", "CA"),
            (
                "+44 7400 123456",
                "+447400123456",
                "+44",
                "7400123456",
                "GB",
            ),
            (
                "+49 1512 3456789",
                "+4915123456789",
                "+49",
                "15123456789",
                "DE",
            ),
            (
                "+33 6 12 34 56 78",
                "+33612345678",
                "+33",
                "612345678",
                "FR",
            ),
            (
                "+39 02 1234 5678",
                "+390212345678",
                "+39",
                "0212345678",
                "IT",
            ),
            ("+34 612 34 56 78", "+34612345678", "+34", "612345678", "ES"),
            (
                "+57 321 1234567",
                "+573211234567",
                "+57",
                "3211234567",
                "CO",
            ),
            (
                "+52 55 1234 5678",
                "+525512345678",
                "+52",
                "5512345678",
                "MX",
            ),
            (
                "+55 11 91234-5678",
                "+5511912345678",
                "+55",
                "11912345678",
                "BR",
            ),
            (
                "+91 98765 43210",
                "+919876543210",
                "+91",
                "9876543210",
                "IN",
            ),
            (
                "+81 90-1234-5678",
                "+819012345678",
                "+81",
                "9012345678",
                "JP",
            ),
            ("+61 412 345 678", "+61412345678", "+61", "412345678", "AU"),
            ("+372 5123 4567", "+37251234567", "+372", "51234567", "EE"),
            (
                "+234 802 123 4567",
                "+2348021234567",
                "+234",
                "8021234567",
                "NG",
            ),
            ("+27 82 123 4567", "+27821234567", "+27", "821234567", "ZA"),
            (
                "0090 532 123 45 67",
                "+905321234567",
                "+90",
                "5321234567",
                "TR",
            ),
        ];
        for (input, e164, cc, national, region) in cases {
            let phone = PhoneNumber::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(phone.e164(), e164, "{input}");
            assert_eq!(phone.calling_code(), cc, "{input}");
            assert_eq!(phone.national_number(), national, "{input}");
            assert_eq!(phone.region(), Some(region), "{input}");
        }
    }

    #[test]
    fn builds_from_parts() {
        let a = PhoneNumber::from_parts("+507", "62647737").unwrap();
        assert_eq!(a.e164(), "+50762647737");
        let b = PhoneNumber::try_from(("90", "0532 123 45 67")).unwrap();
        assert_eq!(b.e164(), "+905321234567", "trunk 0 dropped");
        let it = PhoneNumber::from_parts("+39", "06 6982 1234").unwrap();
        assert_eq!(it.e164(), "+390669821234", "Italian leading 0 kept");
        // Spain has no trunk prefix, so the parser keeps a `0` written before the number,
        // which is then not valid; built from parts, the `0` is dropped and the number is.
        assert!(matches!(
            PhoneNumber::parse("+34 0612 345 678"),
            Err(PhoneError::NotValid(_))
        ));
        assert_eq!(
            PhoneNumber::from_parts("34", "0612 345 678")
                .unwrap()
                .e164(),
            "+34612345678"
        );
        assert_eq!(a.calling_code_number(), 507);
        // Separators take no room on the stack; digits past it are assembled on the heap.
        let spaced = format!("0532{}123 45 67", " ".repeat(40));
        assert_eq!(PhoneNumber::from_parts("90", &spaced).unwrap(), b);
        for national in ["5".repeat(40), format!("0{}", "5".repeat(40))] {
            assert_eq!(
                PhoneNumber::from_parts("+90", &national),
                Err(PhoneError::TooLong)
            );
        }
    }

    #[test]
    fn rejects_bad_input() {
        type Check = fn(&PhoneError) -> bool;
        let cases: [(&str, Check); 12] = [
            ("", |e| *e == PhoneError::Empty),
            ("   ", |e| *e == PhoneError::Empty),
            ("call me maybe", |e| {
                matches!(e, PhoneError::InvalidCharacter('c'))
            }),
            ("+90 532 123 45 67 ext 5", |e| {
                matches!(e, PhoneError::InvalidCharacter('e'))
            }),
            ("532 123 45 67", |e| *e == PhoneError::MissingCallingCode),
            ("+", |e| *e == PhoneError::TooShort),
            ("+90", |e| *e == PhoneError::TooShort),
            ("+999 1234567", |e| {
                matches!(e, PhoneError::InvalidCallingCode(_))
            }),
            ("+90 532 123 45 67 89 01 23 45", |e| {
                *e == PhoneError::TooLong
            }),
            ("+90 000 000 00 00", |e| {
                matches!(e, PhoneError::NotValid(_))
            }),
            ("+1 123 456 7890", |e| matches!(e, PhoneError::NotValid(_))),
            ("+90+5321234567", |e| {
                matches!(e, PhoneError::InvalidCharacter('+'))
            }),
        ];
        for (input, check) in cases {
            let err = PhoneNumber::parse(input).expect_err(input);
            assert!(check(&err), "{input:?} gave {err:?}");
        }
        assert!(matches!(
            PhoneNumber::from_parts("+5077", "62647737"),
            Err(PhoneError::InvalidCallingCode(_))
        ));
        // A long calling code is echoed cut, never whole.
        let long = format!("+{}", "9".repeat(10_000));
        assert_eq!(
            PhoneNumber::from_parts(&long, "62647737"),
            Err(PhoneError::InvalidCallingCode("+9999999".to_owned()))
        );
        assert!(matches!(
            PhoneNumber::from_parts("+507", ""),
            Err(PhoneError::Empty)
        ));
        assert!(matches!(
            PhoneNumber::from_parts("+507", "6264x7737"),
            Err(PhoneError::InvalidCharacter('x'))
        ));
    }

    #[test]
    fn memoized_parses_equal_fresh_ones_and_the_cache_stays_bounded() {
        let mut memoized = 0;
        for i in 0..(memo::SHARED_CAPACITY + 10) {
            let input = format!("+90532{i:07}");
            let first = PhoneNumber::parse(&input).unwrap();
            // The second parse is a hit unless another test emptied the full memo in between.
            let key = E164::new(&input).unwrap();
            let (held, len) = memo::shared_holds(&key);
            memoized += usize::from(held);
            assert!(len <= memo::SHARED_CAPACITY);
            let again = PhoneNumber::parse(&input).unwrap();
            assert_eq!(first, again);
            assert_eq!(again, PhoneNumber::parse_uncached(&input).unwrap());
        }
        assert!(
            memoized > memo::SHARED_CAPACITY,
            "{memoized} numbers memoized"
        );
        assert!(
            PhoneNumber::parse("+90 000 000 00 00").is_err(),
            "errors are not cached as numbers"
        );
    }

    #[test]
    fn a_number_is_small_and_inline() {
        assert!(std::mem::size_of::<PhoneNumber>() <= 24);
        let longest = PhoneNumber::parse("+49 30 1234567890123").unwrap();
        assert_eq!(longest.clone(), longest);
        assert_eq!(longest.calling_code(), "+49");
    }

    #[test]
    fn debug_masks_and_display_shows() {
        let phone = PhoneNumber::parse("+507 6264 7737").unwrap();
        assert_eq!(phone.masked(), "+507******37");
        assert_eq!(format!("{phone:?}"), "PhoneNumber(\"+507******37\")");
        assert_eq!(phone.to_string(), "+50762647737");
    }

    /// A number written in groups is masked whole, its separators kept; a plain run of seven
    /// digits or more as before; shorter runs, and groups too far apart, are kept.
    #[test]
    fn mask_numbers_masks_numbers_written_with_separators() {
        assert_eq!(
            mask_numbers(r#"{"phone":"+90 532 123 45 67"}"#),
            r#"{"phone":"+** *** *** ** 67"}"#
        );
        assert_eq!(
            mask_numbers("Invalid parameter `To`: +1 (501) 712-2661"),
            "Invalid parameter `To`: +* (***) ***-**61"
        );
        assert_eq!(mask_numbers("06.12.34.56.78"), "**.**.**.**.78");
        assert_eq!(mask_numbers("+905321234567."), "+**********67.");
        assert_eq!(
            mask_numbers("code 60200, 3 attempts"),
            "code 60200, 3 attempts"
        );
        assert_eq!(mask_numbers("retry 1 of 3 in 30 s"), "retry 1 of 3 in 30 s");
        assert_eq!(mask_numbers("12 - 345 - 67"), "12 - 345 - 67");
        assert_eq!(mask_numbers("123456"), "123456");
        assert_eq!(mask_numbers("1234567"), "*****67");
        assert_eq!(mask_numbers("ünï 123 4567 ✓"), "ünï *** **67 ✓");
        assert_eq!(mask_numbers(""), "");
    }

    #[test]
    fn number_spans_start_and_end_with_digits() {
        let text = "to (0532) 123-45-67. Or 1-2";
        let spans = number_spans(text);
        assert_eq!(spans.len(), 1);
        assert_eq!(&text[spans[0].clone()], "0532) 123-45-67");
    }

    /// A stored number is parsed when it can be (with its region), else kept if it is
    /// well-formed E.164, and never memoized so: what users type is still parsed strictly.
    #[test]
    fn a_stored_number_is_parsed_or_kept_if_well_formed() {
        let valid = PhoneNumber::parse_stored("+905321234567").unwrap();
        assert_eq!(valid, PhoneNumber::parse("+905321234567").unwrap());
        assert_eq!(valid.region(), Some("TR"));
        // 8 and 15 digits, a calling code of one, two and three digits: kept, no region.
        for (text, code) in [
            ("+15550100", "+1"),
            ("+155501000000000", "+1"),
            ("+4400000000", "+44"),
            ("+5070000000", "+507"),
        ] {
            assert!(PhoneNumber::parse(text).is_err(), "{text}");
            let kept = PhoneNumber::parse_stored(text).unwrap();
            assert_eq!((kept.e164(), kept.calling_code()), (text, code));
            assert_eq!(kept.region(), None);
            assert_eq!(kept.number_type(), NumberType::Unknown, "{text}");
            assert!(PhoneNumber::parse(text).is_err(), "{text}: memoized");
        }
        // Too short or long, a leading zero, no such calling code, not compact E.164: the
        // strict parse's error.
        for text in [
            "+1555010",
            "+1555010000000000",
            "+0155501000",
            "+01555010000",
            "+99912345678",
            "+1 555 010 0000",
            "15550100000",
            "+",
            "",
        ] {
            let refused = PhoneNumber::parse(text).unwrap_err();
            assert_eq!(PhoneNumber::parse_stored(text), Err(refused), "{text:?}");
        }
    }

    #[test]
    fn serde_uses_e164_and_validates() {
        let phone = PhoneNumber::parse("+90 532 123 45 67").unwrap();
        assert_eq!(serde_json::to_string(&phone).unwrap(), "\"+905321234567\"");
        let back: PhoneNumber = serde_json::from_str("\"+905321234567\"").unwrap();
        assert_eq!(back, phone);
        assert!(serde_json::from_str::<PhoneNumber>("\"12\"").is_err());
    }
}
