//! Entry points for the repository's `fuzz/` crate (cargo-fuzz targets). Hidden: not part of
//! the public API, and may change in any release.

use std::fmt::Debug;

use phone_verify_core::kit::{HttpResponse, Operation};
use phone_verify_core::reqwest::header::HeaderMap;
use phone_verify_core::{Error, Result};
use serde::de::DeserializeOwned;

use crate::client::{
    CREATE_APP_REGISTRATION, CREATE_APP_REGISTRATION_VALIDATION, CREATE_MANUAL_VALIDATION,
    CREATE_VALIDATION, EMAIL_LOGIN, EMAIL_LOGIN_CONFIRM, GET_VALIDATION, LIST_VALIDATIONS,
    PHONE_LOGIN, PHONE_LOGIN_CONFIRM, RENEW_AND_REVOKE, RENEW_SESSION, TOKEN_VALIDITY, VALIDATE,
    VALIDATE_POST, token_of,
};
use crate::config::PROVIDER;
use crate::errors::{Secrets, check_outcome, decode, decode_payload, is_already_validated};
use crate::wire::{
    AppRegistration, CheckAnswer, EmailLogin, PhoneValidation, SessionRecord, Shape, TokenAnswer,
    ValidatedPhone, ValidationPage,
};

/// How many endpoints [`decode_answer`] tells apart.
pub const ENDPOINTS: u8 = 14;

/// The credential [`decode_answer`] has the client scrub from what Verifik wrote: the access
/// token.
pub const SECRETS: [&str; 1] = ["fuzz-access-token-canary"];

/// Decodes an answer (`status`, `headers`, `body`) to endpoint `endpoint % ENDPOINTS` the way
/// [`VerifikClient`](crate::VerifikClient) does (that endpoint's payload type and envelope
/// shape, or the error the answer carries, [`SECRETS`] scrubbed; a token endpoint's token read
/// as the client reads it), then reads a code check's error as the verifier does. Values and
/// errors are formatted with `Debug` and `Display`, so those paths run too; the error is
/// returned so the caller can look for the secrets in it.
pub fn decode_answer(endpoint: u8, status: u16, headers: &HeaderMap, body: &[u8]) -> Result<()> {
    let at = |operation: Operation| {
        HttpResponse::from_parts(
            PROVIDER,
            operation,
            status,
            headers.clone(),
            body.to_vec().into(),
        )
    };
    match endpoint % ENDPOINTS {
        0 => shown::<PhoneValidation>(&at(PHONE_LOGIN), Shape::Data),
        1 => token(&at(PHONE_LOGIN_CONFIRM), Shape::Data),
        2 => shown::<EmailLogin>(&at(EMAIL_LOGIN), Shape::Data),
        3 => token(&at(EMAIL_LOGIN_CONFIRM), Shape::Data),
        4 => token(&at(RENEW_SESSION), Shape::DataOrRoot),
        5 => token(&at(RENEW_AND_REVOKE), Shape::DataOrRoot),
        6 => shown::<PhoneValidation>(&at(CREATE_VALIDATION), Shape::Data),
        7 => shown::<PhoneValidation>(&at(CREATE_APP_REGISTRATION_VALIDATION), Shape::Data),
        8 => shown::<PhoneValidation>(&at(CREATE_MANUAL_VALIDATION), Shape::Data),
        9 => shown::<AppRegistration>(&at(CREATE_APP_REGISTRATION), Shape::Data),
        10 => checked(&at(VALIDATE)),
        11 => checked(&at(VALIDATE_POST)),
        12 => shown::<ValidationPage>(&at(LIST_VALIDATIONS), Shape::Root),
        _ => resolved(&at(GET_VALIDATION)),
    }
}

/// A validation read back: decoded in full as the client does, and as the resolver reads it,
/// which must agree wherever the full read succeeds.
fn resolved(response: &HttpResponse) -> Result<()> {
    let slim = decode_payload::<SessionRecord<'_>>(response, Shape::Data, CURRENT_TOKEN);
    let full = shown::<PhoneValidation>(response, Shape::Data);
    if let (Ok(()), Ok((validation, _))) = (
        &full,
        decode::<PhoneValidation>(response, Shape::Data, CURRENT_TOKEN),
    ) {
        let Ok(slim) = slim else {
            panic!("the resolver failed to read a validation the client reads");
        };
        assert_eq!(slim.is_validated(), validation.is_validated());
        assert_eq!(slim.phone_number(), validation.phone_number());
        assert_eq!(slim.validated_at, validation.validated_at);
        assert_eq!(slim.project.as_deref(), validation.project.as_deref());
    }
    full
}

/// [`decode`] into `T` at `shape`, its `Debug` form and the error's forms built.
fn shown<T: DeserializeOwned + Debug>(response: &HttpResponse, shape: Shape) -> Result<()> {
    match decode::<T>(response, shape, CURRENT_TOKEN) {
        Ok((value, envelope)) => {
            drop(format!("{value:?} {envelope:?}"));
            Ok(())
        }
        Err(error) => Err(formatted(error)),
    }
}

/// A token endpoint's answer: decoded, then its token read.
fn token(response: &HttpResponse, shape: Shape) -> Result<()> {
    let (answer, envelope) =
        decode::<TokenAnswer>(response, shape, CURRENT_TOKEN).map_err(formatted)?;
    let access = token_of(response, answer, &envelope, TOKEN_VALIDITY).map_err(formatted)?;
    drop(format!("{access:?}"));
    Ok(())
}

/// A code check's answer: decoded, and an error read for the outcome it stands for.
/// The verifier's own read of the answer must agree with the client's wherever that succeeds.
fn checked(response: &HttpResponse) -> Result<()> {
    let slim = decode_payload::<CheckAnswer<'_>>(response, Shape::Data, CURRENT_TOKEN);
    if let Ok((validated, _)) = decode::<ValidatedPhone>(response, Shape::Data, CURRENT_TOKEN) {
        let Ok(slim) = &slim else {
            panic!("the verifier failed to read a check answer the client reads");
        };
        assert_eq!(slim.id, validated.id);
        assert_eq!(slim.is_validated(), validated.is_validated());
        assert_eq!(slim.phone_number(), validated.phone_number());
    }
    shown::<ValidatedPhone>(response, Shape::Data).inspect_err(|error| {
        drop(check_outcome(error, false));
        drop(check_outcome(error, true));
        let _ = is_already_validated(error);
    })
}

/// The client's current token, as [`decode`] asks for it: the first of [`SECRETS`].
const CURRENT_TOKEN: Secrets<'static> = &|| Some(SECRETS[0].into());

/// `error`, its `Display` and `Debug` forms built once.
fn formatted(error: Error) -> Error {
    drop(format!("{error} {error:?}"));
    error
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_endpoint_maps_an_error_body_without_the_secrets() {
        let echo = format!(
            r#"{{"code":"bad {0}","message":"401:token {0} expired"}}"#,
            SECRETS[0]
        );
        let no_reason = format!(r#"{{"detail":"token {}"}}"#, SECRETS[0]);
        let not_json = format!("<html>token {}</html>", SECRETS[0]);
        for body in [echo, no_reason, not_json] {
            for endpoint in 0..ENDPOINTS {
                let error =
                    decode_answer(endpoint, 401, &HeaderMap::new(), body.as_bytes()).unwrap_err();
                let shown = format!("{error} {error:?}");
                assert!(!shown.contains(SECRETS[0]), "endpoint {endpoint}: {shown}");
                assert!(shown.contains("<redacted>"), "endpoint {endpoint}: {shown}");
            }
        }
    }

    #[test]
    fn every_endpoint_maps_an_error_body() {
        let body = br#"{"code":"otp_does_not_match","message":"403:otp_does_not_match"}"#;
        for endpoint in 0..ENDPOINTS {
            let error = decode_answer(endpoint, 403, &HeaderMap::new(), body).unwrap_err();
            assert_eq!(
                error.provider_code(),
                Some("otp_does_not_match"),
                "endpoint {endpoint}"
            );
        }
    }

    /// Endpoint `i` (and `i + ENDPOINTS`) reads the answer as its own operation: a body that is
    /// no JSON is an error naming that operation.
    #[test]
    fn each_endpoint_reads_as_its_own_operation() {
        let operations = [
            PHONE_LOGIN,
            PHONE_LOGIN_CONFIRM,
            EMAIL_LOGIN,
            EMAIL_LOGIN_CONFIRM,
            RENEW_SESSION,
            RENEW_AND_REVOKE,
            CREATE_VALIDATION,
            CREATE_APP_REGISTRATION_VALIDATION,
            CREATE_MANUAL_VALIDATION,
            CREATE_APP_REGISTRATION,
            VALIDATE,
            VALIDATE_POST,
            LIST_VALIDATIONS,
            GET_VALIDATION,
        ];
        assert_eq!(operations.len(), usize::from(ENDPOINTS));
        for (index, operation) in (0..).zip(operations) {
            for at in [index, index + ENDPOINTS] {
                let error = decode_answer(at, 200, &HeaderMap::new(), b"<html>").unwrap_err();
                let named = format!("{} answered HTTP 200", operation.name);
                assert!(error.message().starts_with(&named), "{at}: {error}");
            }
        }
    }

    proptest::proptest! {
        /// The verifier's slim reads agree with the client's full reads (the assertions in
        /// `checked` and `resolved`) on answers mixing every field with odd values.
        #[test]
        fn slim_reads_agree_with_full_reads(
            fields in proptest::collection::vec(
                (
                    proptest::sample::select(vec![
                        "_id", "status", "countryCode", "phone", "phoneGateway", "type",
                        "validationMethod", "project", "validatedAt", "expiresAt", "token",
                        "appLogin", "requires2FA", "sent",
                    ]),
                    proptest::sample::select(vec![
                        "null", "\"\"", "\" \"", "\"validated\"", "\" validated \"", "\"sent\"",
                        "\"+57\"", "57", "\"3001234567\"", "3001234567", "\"300 123 4567\"",
                        "\"sms\"", "\"whatsapp\"", "\"login\"", "true", "1.5", "-3", "[]",
                        "[\"x\"]", "{}", "{\"_id\":\"p1\"}", "{\"_id\":null}",
                        "\"2024-12-02T17:15:35.000Z\"", "\"2024-12-02T17:15:35+02:00\"",
                        "\"tomorrow\"", "\"a\\u0031\"",
                    ]),
                ),
                0..10,
            ),
            endpoint in proptest::sample::select(vec![10u8, 11, 13]),
        ) {
            let data: Vec<String> = fields.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
            let body = format!(
                r#"{{"data":{{{}}},"id":"R1","signature":{{"dateTime":"May 29, 2024 3:41 AM"}}}}"#,
                data.join(",")
            );
            let _ = decode_answer(endpoint, 200, &HeaderMap::new(), body.as_bytes());
        }
    }

    #[test]
    fn endpoints_decode_their_documented_answers() {
        let token =
            br#"{"data":{"accessToken":"eyJhbGciOiJIUzI1NiJ9.e30.sig","tokenType":"bearer"}}"#;
        decode_answer(1, 200, &HeaderMap::new(), token).unwrap();
        // renew-and-revoke answers at the root.
        decode_answer(5, 200, &HeaderMap::new(), br#"{"token":"eyJ.e30.s"}"#).unwrap();
        let no_token = decode_answer(1, 200, &HeaderMap::new(), br#"{"data":{}}"#).unwrap_err();
        assert!(
            no_token.to_string().contains("without a token"),
            "{no_token}"
        );
    }
}
