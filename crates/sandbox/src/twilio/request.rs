//! Reading a Twilio request: HTTP Basic credentials, form parameters and the resource URLs' base.
//! Its form body is read as such by [`Input`] (the emulator's `BodyFormat::Form`): a body of any
//! other type, JSON included, carries no parameter.

use base64::Engine as _;

use super::error::TwError;
use crate::body::Input;
use crate::config::{
    TWILIO_ACCOUNT_SID, TWILIO_API_KEY_SECRET, TWILIO_API_KEY_SID, TWILIO_AUTH_TOKEN,
};
use crate::otp::constant_time_eq;

/// Checks HTTP Basic credentials: the Account SID with the auth token, or the API key SID with
/// its secret.
pub(super) fn authenticate(input: &Input) -> Result<(), TwError> {
    let decoded = input
        .header("authorization")
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
        .and_then(|(_, encoded)| {
            base64::engine::general_purpose::STANDARD
                .decode(encoded.trim())
                .ok()
        })
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(TwError::authenticate)?;
    let (user, password) = decoded.split_once(':').ok_or_else(TwError::authenticate)?;
    let expected = match user {
        TWILIO_ACCOUNT_SID => TWILIO_AUTH_TOKEN,
        TWILIO_API_KEY_SID => TWILIO_API_KEY_SECRET,
        _ => return Err(TwError::authenticate()),
    };
    if constant_time_eq(password, expected) {
        Ok(())
    } else {
        Err(TwError::authenticate())
    }
}

/// Longest free-text parameter the emulator keeps (`TtsName`, `Amount`, `Payee`), in bytes.
pub(super) const MAX_TEXT_PARAM: usize = 256;

/// An optional free-text parameter the emulator keeps, at most [`MAX_TEXT_PARAM`] bytes; a
/// longer one is `60200` (its value left out of the message).
pub(super) fn text_param(input: &Input, key: &str) -> Result<Option<String>, TwError> {
    match input.str(key) {
        Some(value) if value.len() > MAX_TEXT_PARAM => Err(TwError::invalid(key, None)),
        value => Ok(value),
    }
}

/// An optional boolean parameter (`true`/`false`); anything else is `60200`.
pub(super) fn bool_param(input: &Input, key: &str) -> Result<Option<bool>, TwError> {
    match input.str(key) {
        None => Ok(None),
        Some(raw) => match raw.to_ascii_lowercase().as_str() {
            "true" => Ok(Some(true)),
            "false" => Ok(Some(false)),
            _ => Err(TwError::invalid(key, Some(&raw))),
        },
    }
}

/// The base of resource URLs: this sandbox's own `/twilio/v2` when the request named its host,
/// else Twilio's.
pub(super) fn base_url(input: &Input) -> String {
    input.header("host").map_or_else(
        || "https://verify.twilio.com/v2".to_owned(),
        |host| format!("http://{host}/twilio/v2"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderMap, HeaderValue};
    use serde_json::json;

    fn with_auth(user: &str, password: &str) -> Input {
        let mut headers = HeaderMap::new();
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        headers.insert(
            "authorization",
            HeaderValue::from_str(&format!("Basic {token}")).unwrap(),
        );
        Input {
            headers,
            ..Input::default()
        }
    }

    #[test]
    fn basic_auth_takes_the_account_or_the_api_key() {
        assert!(authenticate(&with_auth(TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN)).is_ok());
        assert!(authenticate(&with_auth(TWILIO_API_KEY_SID, TWILIO_API_KEY_SECRET)).is_ok());
        for (user, password) in [
            (TWILIO_ACCOUNT_SID, TWILIO_API_KEY_SECRET),
            (TWILIO_API_KEY_SID, TWILIO_AUTH_TOKEN),
            ("ACbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", TWILIO_AUTH_TOKEN),
            (TWILIO_ACCOUNT_SID, ""),
        ] {
            assert_eq!(
                authenticate(&with_auth(user, password)),
                Err(TwError::authenticate()),
                "{user}:{password}"
            );
        }
        assert!(authenticate(&Input::default()).is_err());
        let mut bearer = Input::default();
        bearer.headers.insert(
            "authorization",
            HeaderValue::from_static("Bearer sandbox-auth-token"),
        );
        assert!(authenticate(&bearer).is_err());
        let mut garbage = Input::default();
        garbage
            .headers
            .insert("authorization", HeaderValue::from_static("Basic %%%"));
        assert!(authenticate(&garbage).is_err());
    }

    #[test]
    fn text_parameters_are_bounded() {
        let mut input = Input::default();
        input.body.insert("Payee".into(), json!("Acme Inc."));
        input
            .body
            .insert("Amount".into(), json!("9".repeat(MAX_TEXT_PARAM + 1)));
        input
            .body
            .insert("TtsName".into(), json!("n".repeat(MAX_TEXT_PARAM)));
        assert_eq!(text_param(&input, "Payee"), Ok(Some("Acme Inc.".into())));
        assert_eq!(
            text_param(&input, "TtsName").unwrap().unwrap().len(),
            MAX_TEXT_PARAM
        );
        assert_eq!(text_param(&input, "Missing"), Ok(None));
        assert_eq!(
            text_param(&input, "Amount"),
            Err(TwError::invalid("Amount", None))
        );
    }

    #[test]
    fn booleans_are_true_or_false() {
        let mut input = Input::default();
        input.body.insert("A".into(), json!("True"));
        input.body.insert("B".into(), json!("false"));
        input.body.insert("C".into(), json!("yes"));
        assert_eq!(bool_param(&input, "A"), Ok(Some(true)));
        assert_eq!(bool_param(&input, "B"), Ok(Some(false)));
        assert_eq!(bool_param(&input, "D"), Ok(None));
        assert_eq!(
            bool_param(&input, "C").unwrap_err().code,
            60200,
            "not a boolean"
        );
    }
}
