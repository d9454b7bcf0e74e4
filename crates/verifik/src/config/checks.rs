//! The checks of values handed to Verifik, shared by the builder, the modes, the client and the
//! verifier: each answers an [`InvalidInput`](phone_verify_core::ErrorKind::InvalidInput)
//! error naming Verifik before any request.

use phone_verify_core::kit::fits_header;
use phone_verify_core::{Error, ProviderId, Result};
use secrecy::{ExposeSecret, SecretString};

/// Verifik's provider id, stored in every handle: `verifik`.
pub const PROVIDER: ProviderId = ProviderId::new_static("verifik");
/// The longest `title` of a manual validation, in characters.
pub const MAX_TITLE_CHARS: usize = 15;

/// An [`InvalidInput`](phone_verify_core::ErrorKind::InvalidInput) error of Verifik.
pub(crate) fn invalid(message: impl Into<String>) -> Error {
    Error::invalid_input(message).with_provider(PROVIDER)
}

/// Checks that a token is non-empty and can be sent in a header.
pub(crate) fn require_token(token: &SecretString) -> Result<()> {
    let exposed = token.expose_secret();
    if exposed.trim().is_empty() {
        return Err(invalid("the Verifik access token is empty"));
    }
    // Checked in place (no copy of the token): the client builds `Bearer <token>` inside a
    // secret.
    if !fits_header(exposed) {
        return Err(invalid(
            "the Verifik access token has characters that cannot be sent in a header",
        ));
    }
    Ok(())
}

/// An id that can go in a path or a field: 1 to 64 ASCII letters, digits, `-` or `_`.
pub(crate) fn require_id<'a>(what: &str, id: &'a str) -> Result<&'a str> {
    let ok = (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(id)
    } else {
        Err(invalid(format!(
            "a Verifik {what} has 1 to 64 letters, digits, '-' or '_'"
        )))
    }
}

/// A manual-mode title: 1 to 15 characters, no control characters.
pub(crate) fn require_title(title: &str) -> Result<String> {
    let title = title.trim();
    let count = title.chars().count();
    if count == 0 || count > MAX_TITLE_CHARS || title.chars().any(char::is_control) {
        return Err(invalid(format!(
            "the title must have 1 to {MAX_TITLE_CHARS} characters"
        )));
    }
    Ok(title.to_owned())
}

/// An `http(s)` URL to hand to Verifik (redirect, webhook, identity).
pub(crate) fn require_url(what: &str, url: &str) -> Result<String> {
    let url = url.trim();
    let ok = (url.starts_with("https://") || url.starts_with("http://"))
        && url.len() <= 2048
        && !url.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(url.to_owned())
    } else {
        Err(invalid(format!("the {what} must be an http(s) URL")))
    }
}

#[cfg(test)]
mod tests {
    use phone_verify_core::ErrorKind;

    use super::*;

    #[test]
    fn ids_titles_urls_and_tokens() {
        assert!(require_id("x", "674de8df21c72be3cc42b8a7").is_ok());
        for bad in ["", "../x", "a b", "a/b", "a?b", &"a".repeat(65)] {
            assert!(require_id("x", bad).is_err(), "{bad:?}");
        }
        assert_eq!(require_title(" Acme ").unwrap(), "Acme");
        assert!(require_title("Fifteen chars!!").is_ok());
        for bad in ["", "   ", "Sixteen chars!!!", "a\u{7}b"] {
            assert!(require_title(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            require_url("hook", " https://acme.test/h ").unwrap(),
            "https://acme.test/h"
        );
        for bad in ["ftp://x", "https://a b", "acme.test"] {
            let err = require_url("webhook URL", bad).unwrap_err();
            assert!(err.to_string().contains("webhook URL"), "{err}");
        }
        for bad in ["", "  ", "line\nbreak"] {
            let err = require_token(&SecretString::from(bad.to_owned())).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput);
            assert!(!err.to_string().contains("line\nbreak"));
        }
        assert!(require_token(&SecretString::from("t".to_owned())).is_ok());
        assert_eq!(invalid("x").provider(), Some(&PROVIDER));
    }
}
