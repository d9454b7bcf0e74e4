//! [`Code`]: a one-time code typed by the user.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, ErrorKind};

/// A validated one-time code (OTP, PIN or TOTP): 4 to 10 ASCII letters or digits, with spaces
/// and dashes removed, kept inline (making one does not allocate). `Debug` never shows it; read
/// it with [`Code::expose`].
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
pub struct Code {
    bytes: [u8; Code::MAX_LEN],
    len: u8,
}

impl Code {
    /// Shortest accepted code.
    pub const MIN_LEN: usize = 4;
    /// Longest accepted code.
    pub const MAX_LEN: usize = 10;

    /// Validates and normalizes a code.
    pub fn new(input: &str) -> Result<Self, Error> {
        let mut bytes = [0; Self::MAX_LEN];
        let mut len = 0;
        for c in input.chars().filter(|c| !c.is_whitespace() && *c != '-') {
            if !c.is_ascii_alphanumeric() {
                return Err(Error::new(
                    ErrorKind::InvalidInput,
                    "code may only contain letters and digits",
                ));
            }
            // Counted past the end too, for the error; only the first `MAX_LEN` are kept.
            if let Some(slot) = bytes.get_mut(len) {
                // An ASCII character is one byte.
                *slot = u8::try_from(c).unwrap_or_default();
            }
            len += 1;
        }
        if len == 0 {
            return Err(Error::new(ErrorKind::InvalidInput, "code is empty"));
        }
        if !(Self::MIN_LEN..=Self::MAX_LEN).contains(&len) {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!(
                    "code must have {} to {} characters, got {len}",
                    Self::MIN_LEN,
                    Self::MAX_LEN,
                ),
            ));
        }
        Ok(Self {
            bytes,
            // At most `MAX_LEN` (10).
            len: u8::try_from(len).unwrap_or_default(),
        })
    }

    /// The code itself, to put on the wire.
    pub fn expose(&self) -> &str {
        // ASCII letters and digits only (checked in `new`): always UTF-8.
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or_default()
    }

    /// Whether the code is made of digits only (some providers send it as a JSON number).
    pub fn is_numeric(&self) -> bool {
        self.expose().bytes().all(|b| b.is_ascii_digit())
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
        write!(f, "Code(<{} characters>)", self.len)
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
        assert!(Code::new("012345").unwrap().is_numeric());
        for bad in ["", "  ", "123", "12345678901", "12 3!4", "１２３４５６"] {
            let err = Code::new(bad).expect_err(bad);
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad}");
        }
        assert_eq!(
            Code::new(" 12-34 56\t7890 ").unwrap().expose(),
            "1234567890"
        );
        let err = Code::new("1234-5678-9012").unwrap_err();
        assert!(err.to_string().contains("got 12"), "{err}");
        assert_eq!(Code::new("12-34").unwrap(), Code::new("1234").unwrap());
    }

    #[test]
    fn debug_hides_digits() {
        let code = Code::new("987654").unwrap();
        assert_eq!(format!("{code:?}"), "Code(<6 characters>)");
        let parsed: Code = "12-34".parse().unwrap();
        assert_eq!(format!("{parsed:?}"), "Code(<4 characters>)");
    }
}
