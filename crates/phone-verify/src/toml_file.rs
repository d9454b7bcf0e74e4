//! TOML configurations read without their text in errors: the one place this crate and the
//! `phone-verify` command turn toml's errors into ours.

use phone_verify_core::{Error, Result};
use serde::de::DeserializeOwned;

/// `text` read as TOML. An error is `InvalidInput` with toml's message after its place,
/// `line:column: ` (1-based, as compilers write it), and nothing of `text`: toml's own error
/// holds the whole input, which its `Display` quotes (the offending line) and its `Debug`
/// shows in full, credentials included.
pub(crate) fn from_toml<T: DeserializeOwned>(text: &str) -> Result<T> {
    toml::from_str(text).map_err(|e| {
        let message = e.message().trim_end();
        Error::invalid_input(match e.span() {
            Some(span) => {
                let (line, column) = line_and_column(text, span.start);
                format!("{line}:{column}: {message}")
            }
            None => message.to_owned(),
        })
    })
}

/// The 1-based line and column (in characters) of byte `at` in `text`.
fn line_and_column(text: &str, at: usize) -> (usize, usize) {
    let before = text.get(..at).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use phone_verify_core::ErrorKind;

    use super::*;

    #[test]
    fn places_are_lines_and_columns() {
        let text = "a = 1\nbé = [2]\n";
        assert_eq!(line_and_column(text, 0), (1, 1));
        assert_eq!(line_and_column(text, 6), (2, 1));
        assert_eq!(line_and_column(text, text.find('[').unwrap()), (2, 6));
        assert_eq!(line_and_column(text, 999), (3, 1));
    }

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
