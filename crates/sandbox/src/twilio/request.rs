//! Reading a Twilio request: HTTP Basic credentials, form parameters and the resource URLs' base.
//! Its form body is read as such by [`Input`] (the emulator's `BodyFormat::Form`): a body of any
//! other type, JSON included, carries no parameter.

use axum::http::uri::Authority;
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

/// Twilio's API root, the base of resource URLs when the request names no usable host.
const TWILIO_BASE: &str = "https://verify.twilio.com/v2";

/// Longest `Host` repeated in resource URLs, in bytes (a DNS name is at most 253, an IPv6
/// address with a port about 50).
const MAX_HOST: usize = 255;

/// The base of resource URLs: this sandbox's own `/twilio/v2` when the request named its host
/// (an authority of at most [`MAX_HOST`] bytes without user information), else Twilio's, so a
/// hostile `Host` is never repeated in every URL of an answer.
pub(super) fn base_url(input: &Input) -> String {
    match input.header("host").filter(|host| usable_host(host)) {
        Some(host) => format!("http://{host}/twilio/v2"),
        None => TWILIO_BASE.to_owned(),
    }
}

/// Whether `host` may name this sandbox in a URL: at most [`MAX_HOST`] bytes, an authority
/// (`host` or `host:port`), and no user information (`@`).
fn usable_host(host: &str) -> bool {
    host.len() <= MAX_HOST && !host.contains('@') && host.parse::<Authority>().is_ok()
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
    fn only_a_short_plain_authority_names_the_sandbox_in_urls() {
        let with_host = |host: &str| {
            let mut input = Input::default();
            input
                .headers
                .insert("host", HeaderValue::from_str(host).unwrap());
            input
        };
        for (host, base) in [
            ("127.0.0.1:8025", "http://127.0.0.1:8025/twilio/v2"),
            ("[::1]:8025", "http://[::1]:8025/twilio/v2"),
            ("sandbox", "http://sandbox/twilio/v2"),
            (
                &"h".repeat(MAX_HOST),
                &format!("http://{}/twilio/v2", "h".repeat(MAX_HOST)),
            ),
        ] {
            assert_eq!(base_url(&with_host(host)), base, "{host}");
        }
        for host in [
            "h".repeat(MAX_HOST + 1),
            "user@sandbox".into(),
            "sand box".into(),
            "sandbox/path".into(),
            String::new(),
        ] {
            assert_eq!(base_url(&with_host(&host)), TWILIO_BASE, "{host:.20}");
        }
        assert_eq!(base_url(&Input::default()), TWILIO_BASE);
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
