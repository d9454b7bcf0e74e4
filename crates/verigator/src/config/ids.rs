//! Verigator's ids: [`IdScheme`], how a phone number becomes the `id_in_service` of a user,
//! and the checks every id passes before it is sent.

use std::fmt;
use std::sync::Arc;

use phone_verify_core::{PhoneNumber, Result};

use super::invalid;

/// The longest service or user id accepted.
pub const MAX_ID_LEN: usize = 128;

/// The longest `id_in_service` this crate sends.
pub const MAX_ID_IN_SERVICE_LEN: usize = 256;

/// Checks a service or user id (`what`) before it goes into a URL path: 1 to [`MAX_ID_LEN`]
/// ASCII letters, digits, `-` or `_` (Verigator's ids are UUIDs).
pub(crate) fn check_id<'a>(what: &str, id: &'a str) -> Result<&'a str> {
    if is_valid_id(id) {
        Ok(id)
    } else {
        Err(invalid(format!(
            "a Verigator {what} must be 1 to {MAX_ID_LEN} ASCII letters, digits, '-' or '_'"
        )))
    }
}

/// Whether `id` can be a service or user id (see [`check_id`]).
pub(crate) fn is_valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_ID_LEN && id.bytes().all(|b| ID_BYTES[usize::from(b)])
}

/// The bytes of an id (see [`is_valid_id`]), as a table: one load per byte.
const ID_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        #[allow(clippy::cast_possible_truncation)] // b < 256
        let byte = b as u8;
        table[b] = byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_';
        b += 1;
    }
    table
};

type IdFn = dyn Fn(&PhoneNumber) -> String + Send + Sync;

/// How [`Verigator`](crate::Verigator) names the user it registers for a phone number: the
/// user's `id_in_service`.
///
/// Verigator verifies *users* of a *service*; applications verify *phone numbers*. To start a
/// verification the verifier looks up the service's user whose `id_in_service` is
/// `scheme.id_for(phone)`, and registers one with that id and the phone when there is none.
///
/// The default, [`IdScheme::E164`], uses the number itself (`+37251234567`):
///
/// - **stable**: a number always maps to the same user, across processes and restarts, with no
///   mapping table to keep;
/// - **unique per phone**: two numbers never share a user, so a code never goes to a number
///   other than the one asked for;
/// - **no new personal data**: Verigator already stores the number with the user; the id adds
///   nothing (a username or e-mail address would).
///
/// Alternatives: [`IdScheme::Prefixed`] (`shop-+37251234567`) keeps the ids of several
/// applications sharing a service apart; [`IdScheme::custom`] maps numbers with your own
/// function, e.g. to the ids under which your Verigator users were registered before.
///
/// A custom mapping must be a function of the number alone and give distinct ids to distinct
/// numbers: Verigator sends the PIN to the phone stored with the user, so if two numbers map to
/// one id, the second number's code goes to the first number. Verigator's user listing does not
/// show phone numbers, so the verifier cannot detect such a mix-up.
///
/// ```
/// use phone_verify_core::PhoneNumber;
/// use phone_verify_verigator::IdScheme;
///
/// let phone: PhoneNumber = "+372 5123 4567".parse()?;
/// assert_eq!(IdScheme::E164.id_for(&phone)?, "+37251234567");
/// assert_eq!(IdScheme::prefixed("shop-").id_for(&phone)?, "shop-+37251234567");
/// let digits = IdScheme::custom(|p| format!("tel:{}", &p.e164()[1..]));
/// assert_eq!(digits.id_for(&phone)?, "tel:37251234567");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum IdScheme {
    /// The E.164 number, e.g. `+37251234567` (the default).
    #[default]
    E164,
    /// A prefix and the E.164 number, e.g. `shop-+37251234567`.
    Prefixed(String),
    /// A caller-supplied function of the number.
    Custom(Arc<IdFn>),
}

impl IdScheme {
    /// `prefix` followed by the E.164 number.
    pub fn prefixed(prefix: impl Into<String>) -> Self {
        Self::Prefixed(prefix.into())
    }

    /// Ids from `map`, which must give distinct, non-empty ids without white space around
    /// them to distinct numbers (see the type's documentation and [`id_for`](Self::id_for)).
    pub fn custom(map: impl Fn(&PhoneNumber) -> String + Send + Sync + 'static) -> Self {
        Self::Custom(Arc::new(map))
    }

    /// The `id_in_service` of the user for `phone`. Fails with
    /// [`ErrorKind::InvalidInput`](phone_verify_core::ErrorKind::InvalidInput) if the id is
    /// empty, longer than [`MAX_ID_IN_SERVICE_LEN`] bytes, has control characters, or begins or
    /// ends with white space (a listed user's id is read trimmed, so such an id would never be
    /// found again).
    pub fn id_for(&self, phone: &PhoneNumber) -> Result<String> {
        let id = match self {
            Self::E164 => phone.e164().to_owned(),
            Self::Prefixed(prefix) => format!("{prefix}{}", phone.e164()),
            Self::Custom(map) => map(phone),
        };
        check_id_in_service(&id)?;
        Ok(id)
    }
}

/// Checks an `id_in_service` before it is sent: not blank, not longer than
/// [`MAX_ID_IN_SERVICE_LEN`] bytes, without control characters, and without white space
/// around it, which [`find_user`](crate::VerigatorClient::find_user) could not match (it
/// reads listed ids trimmed).
pub(crate) fn check_id_in_service(id: &str) -> Result<()> {
    let trimmed = id.trim();
    if trimmed.is_empty() {
        return Err(invalid("a user's id_in_service must not be empty"));
    }
    if trimmed.len() != id.len() {
        return Err(invalid(
            "a user's id_in_service must not begin or end with white space",
        ));
    }
    if id.len() > MAX_ID_IN_SERVICE_LEN {
        return Err(invalid(format!(
            "a user's id_in_service must be at most {MAX_ID_IN_SERVICE_LEN} bytes, not {}",
            id.len()
        )));
    }
    if id.chars().any(char::is_control) {
        return Err(invalid(
            "a user's id_in_service must not contain control characters",
        ));
    }
    Ok(())
}

impl fmt::Debug for IdScheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::E164 => f.write_str("E164"),
            Self::Prefixed(prefix) => f.debug_tuple("Prefixed").field(prefix).finish(),
            Self::Custom(_) => f.write_str("Custom(<fn>)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use phone_verify_core::ErrorKind;

    use super::*;

    #[test]
    fn schemes_map_numbers() {
        let phone = PhoneNumber::parse("+507 6264 7737").unwrap();
        assert_eq!(IdScheme::default().id_for(&phone).unwrap(), "+50762647737");
        assert_eq!(
            IdScheme::prefixed("a/").id_for(&phone).unwrap(),
            "a/+50762647737"
        );
        let custom = IdScheme::custom(|p| p.national_number().to_owned());
        assert_eq!(custom.id_for(&phone).unwrap(), "62647737");
        assert_eq!(format!("{custom:?}"), "Custom(<fn>)");
        assert_eq!(format!("{:?}", IdScheme::E164), "E164");
        assert_eq!(format!("{:?}", IdScheme::prefixed("p")), "Prefixed(\"p\")");
    }

    #[test]
    fn path_ids_are_checked() {
        assert!(check_id("user id", "a-b_C9").is_ok());
        for bad in ["", "a.b", "a/b", "..", "a?b", "é"] {
            let err = check_id("user id", bad).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad:?}");
            assert_eq!(
                err.provider().map(phone_verify_core::ProviderId::as_str),
                Some("verigator")
            );
        }
        assert!(is_valid_id(&"a".repeat(MAX_ID_LEN)));
        for b in 0..=u8::MAX {
            let expected = b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
            assert_eq!(ID_BYTES[usize::from(b)], expected, "{b}");
        }
        assert!(!is_valid_id(&"a".repeat(MAX_ID_LEN + 1)));
    }

    #[test]
    fn refuses_unusable_ids() {
        let phone = PhoneNumber::parse("+507 6264 7737").unwrap();
        for scheme in [
            IdScheme::custom(|_| String::new()),
            IdScheme::custom(|_| "  ".to_owned()),
            IdScheme::custom(|_| "x".repeat(MAX_ID_IN_SERVICE_LEN + 1)),
            IdScheme::custom(|p| format!("{}\n", p.e164())),
            // Listed ids are read trimmed: one with spaces around it would never be found.
            IdScheme::custom(|p| format!(" {}", p.e164())),
            IdScheme::custom(|p| format!("{} ", p.e164())),
            IdScheme::custom(|p| format!("{}\u{a0}", p.e164())),
        ] {
            let err = scheme.id_for(&phone).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{scheme:?}");
        }
        let longest = IdScheme::custom(|_| "x".repeat(MAX_ID_IN_SERVICE_LEN));
        assert!(longest.id_for(&phone).is_ok());
    }
}
