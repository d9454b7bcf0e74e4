//! Phone-number helpers on top of `phone_verify_core::PhoneNumber`, and the country list.

use std::sync::OnceLock;

use phone_verify_core::PhoneNumber;

/// A country of the VerifyKit `/country` list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Country {
    /// ISO 3166-1 alpha-2 code, e.g. `TR`.
    pub(crate) iso2: String,
    /// Calling code with `+`, e.g. `+90`.
    pub(crate) phone_code: String,
    /// English name.
    pub(crate) title: String,
}

/// Every region of libphonenumber's metadata that has an ISO country, sorted by name.
pub(crate) fn countries() -> &'static [Country] {
    static LIST: OnceLock<Vec<Country>> = OnceLock::new();
    LIST.get_or_init(|| {
        let mut list: Vec<Country> = phonenumber::metadata::DATABASE
            .iter()
            .filter(|m| m.id().len() == 2 && m.id().bytes().all(|b| b.is_ascii_uppercase()))
            .map(|m| Country {
                iso2: m.id().to_owned(),
                phone_code: format!("+{}", m.country_code()),
                title: isocountry::CountryCode::for_alpha2(m.id())
                    .map_or_else(|_| m.id().to_owned(), |c| c.name().to_owned()),
            })
            .collect();
        list.sort_by(|a, b| a.title.cmp(&b.title).then_with(|| a.iso2.cmp(&b.iso2)));
        list
    })
}

/// The country with ISO code `iso2` (case-insensitive).
pub(crate) fn country(iso2: &str) -> Option<&'static Country> {
    let iso2 = iso2.trim();
    countries()
        .iter()
        .find(|c| c.iso2.eq_ignore_ascii_case(iso2))
}

/// Parses a number in international form (`+` or `00` prefix).
pub(crate) fn parse_international(input: &str) -> Option<PhoneNumber> {
    PhoneNumber::parse(input).ok()
}

/// Parses `input` as an international number, or, when it has no `+`/`00` prefix, as a national
/// number of the country `iso2`. The number's calling code must belong to that country.
pub(crate) fn parse_for_country(input: &str, iso2: &str) -> Option<PhoneNumber> {
    let country = country(iso2)?;
    let trimmed = input.trim();
    let phone = if trimmed.starts_with('+') || trimmed.starts_with("00") {
        PhoneNumber::parse(trimmed).ok()?
    } else {
        PhoneNumber::from_parts(&country.phone_code, trimmed).ok()?
    };
    (phone.calling_code() == country.phone_code).then_some(phone)
}

/// Builds a number from a calling code (`+57`) and a national number (`3211234567`).
pub(crate) fn from_parts(calling_code: &str, national: &str) -> Option<PhoneNumber> {
    PhoneNumber::from_parts(calling_code, national).ok()
}

/// Normalizes a phone number given in a query string, where a `+` may have been decoded to a
/// space: returns the E.164 form when it parses, else the trimmed input.
pub(crate) fn normalize_query_phone(raw: &str) -> String {
    let trimmed = raw.trim();
    let candidate = if trimmed.starts_with('+') || trimmed.starts_with("00") {
        trimmed.to_owned()
    } else {
        format!("+{trimmed}")
    };
    PhoneNumber::parse(&candidate).map_or_else(|_| trimmed.to_owned(), |p| p.e164().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_country_list_has_codes_and_names() {
        let tr = country("tr").unwrap();
        assert_eq!(tr.phone_code, "+90");
        assert_eq!(tr.iso2, "TR");
        assert!(!tr.title.is_empty());
        assert!(countries().len() > 200);
        assert!(country("ZZ").is_none());
        assert!(countries().iter().all(|c| c.phone_code.len() >= 2));
    }

    #[test]
    fn parses_national_and_international_numbers_for_a_country() {
        let a = parse_for_country("+90 532 123 45 67", "TR").unwrap();
        let b = parse_for_country("5321234567", "TR").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.e164(), "+905321234567");
        assert!(
            parse_for_country("+34612345678", "TR").is_none(),
            "calling code mismatch"
        );
        assert!(parse_for_country("+905321234567", "XX").is_none());
        assert!(parse_for_country("not a number", "TR").is_none());
    }

    #[test]
    fn query_phones_get_their_plus_back() {
        assert_eq!(normalize_query_phone(" 905321234567"), "+905321234567");
        assert_eq!(normalize_query_phone("+905321234567"), "+905321234567");
        assert_eq!(
            normalize_query_phone("someone@example.com"),
            "someone@example.com"
        );
        assert_eq!(
            from_parts("+507", "62647737").unwrap().e164(),
            "+50762647737"
        );
        assert!(parse_international("12").is_none());
    }
}
