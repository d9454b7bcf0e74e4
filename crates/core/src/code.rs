//! [`Code`]: a one-time code typed by the user.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, ErrorKind};

/// A validated one-time code (OTP, PIN or TOTP): 4 to 10 ASCII letters or digits, with spaces
/// and dashes removed. `Debug` never shows it; read it with [`Code::expose`].
///
/// ```
/// use phone_verify_core::Code;
///
/// let code = Code::new(" 123-456 ")?;
/// assert_eq!(code.expose(), "123456");
/// assert_eq!(format!("{code:?}"), "Code(<6 characters>)");
/// assert!(Code::new("12").is_err());
/// # Ok::<(), phone_verify_core::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Code(String);

impl Code {
    /// Shortest accepted code.
    pub const MIN_LEN: usize = 4;
    /// Longest accepted code.
    pub const MAX_LEN: usize = 10;

    /// Validates and normalizes a code.
    pub fn new(input: &str) -> Result<Self, Error> {
        let compact: String = input
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect();
        if compact.is_empty() {
            return Err(Error::new(ErrorKind::InvalidInput, "code is empty"));
        }
        if !compact.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                "code may only contain letters and digits",
            ));
        }
        if !(Self::MIN_LEN..=Self::MAX_LEN).contains(&compact.len()) {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!(
                    "code must have {} to {} characters, got {}",
                    Self::MIN_LEN,
                    Self::MAX_LEN,
                    compact.len()
                ),
            ));
        }
        Ok(Self(compact))
    }

    /// The code itself, to put on the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the code is made of digits only (some providers send it as a JSON number).
    pub fn is_numeric(&self) -> bool {
        self.0.bytes().all(|b| b.is_ascii_digit())
    }
}

impl FromStr for Code {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl fmt::Debug for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Code(<{} characters>)", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates() {
        assert_eq!(Code::new("0042").unwrap().expose(), "0042");
        assert!(Code::new("ABC123").unwrap().expose() == "ABC123");
        assert!(!Code::new("ABC123").unwrap().is_numeric());
        for bad in ["", "  ", "123", "12345678901", "12 3!4", "１２３４５６"] {
            let err = Code::new(bad).expect_err(bad);
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad}");
        }
    }

    #[test]
    fn debug_hides_digits() {
        let code = Code::new("987654").unwrap();
        assert!(!format!("{code:?}").contains("987654"));
    }
}
