//! TOML configurations read without their text in errors: the one place this crate and the
//! `phone-verify` command turn toml's errors into ours.

use phone_verify_core::kit::placed_message;
use phone_verify_core::{Error, Result};
use serde::de::DeserializeOwned;

/// `text` read as TOML. An error is `InvalidInput` with toml's message after its place,
/// `line:column: ` (1-based, as compilers write it), and nothing of `text`: toml's own error
/// holds the whole input, which its `Display` quotes (the offending line) and its `Debug`
/// shows in full, credentials included.
pub(crate) fn from_toml<T: DeserializeOwned>(text: &str) -> Result<T> {
    toml::from_str(text).map_err(|e| {
        Error::invalid_input(placed_message(text, e.span().map(|s| s.start), e.message()))
    })
}

#[cfg(test)]
mod tests {
    use phone_verify_core::ErrorKind;

    use super::*;

    /// A malformed file: the place and toml's message, never the offending line.
    #[test]
    fn an_error_has_the_place_never_the_text() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Config {
            token: String,
        }
        let err = from_toml::<Config>("\ntoken = \"canary\" oops\n").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.message().starts_with("2:18: "), "{err}");
        assert!(!format!("{err} {err:?}").contains("canary"), "{err:?}");
        let ok: Config = from_toml("token = \"t\"").unwrap();
        assert_eq!(ok.token, "t");
    }
}
