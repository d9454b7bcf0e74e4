//! Entry points for the repository's `fuzz/` crate (cargo-fuzz targets). Hidden: not part of
//! the public API, and may change in any release.

use phone_verify_core::kit::HttpResponse;
use phone_verify_core::reqwest::header::HeaderMap;
use phone_verify_core::{Channel, Error, PhoneNumber, Result};
use serde::de::DeserializeOwned;

use crate::client::{
    ACCESS_TOKEN, BLACKLIST_ADD, BLACKLIST_REMOVE, CHECK, CHECK_EMAIL, CHECK_OTP, CHECK_WHATSAPP,
    COUNTRY, Endpoint, INIT, RESULT, SEND_OTP, SEND_WHATSAPP_MESSAGE, START, START_EMAIL,
};
use crate::config::PROVIDER;
use crate::errors::{Checked, check_outcome, decode};
use crate::verifier::{otp_outcome, resolved_session, sms_handle};
use crate::wire::{
    AccessToken, BlacklistChange, CountryList, EmailCheck, EmailStarted, OtpSent,
    StartedValidation, ValidationCheck, ValidationMethodList, ValidationResult,
    WhatsAppMessageSent,
};

/// How many endpoints [`decode_answer`] tells apart.
pub const ENDPOINTS: u8 = 14;

/// The credential [`decode_answer`] has the client scrub from what VerifyKit wrote: the server
/// key.
pub const SECRETS: [&str; 1] = ["fuzz-verifykit-key-canary"];

/// Decodes an answer (`status`, `headers`, `body`) to endpoint `endpoint % ENDPOINTS` the way
/// [`VerifyKitClient`](crate::VerifyKitClient) does (into that endpoint's type, or into the
/// error the envelope carries, [`SECRETS`] scrubbed), then reads a check's error as the
/// verifier does. The decoded value and the error are formatted with `Debug` and `Display`, so
/// those paths run too; the error is returned so the caller can look for the secrets in it.
pub fn decode_answer(endpoint: u8, status: u16, headers: &HeaderMap, body: &[u8]) -> Result<()> {
    let at = |endpoint: Endpoint| {
        HttpResponse::from_parts(
            PROVIDER,
            endpoint.operation,
            status,
            headers.clone(),
            body.to_vec().into(),
        )
    };
    match endpoint % ENDPOINTS {
        0 => shown::<ValidationMethodList>(&at(INIT)).map(drop),
        1 => shown::<StartedValidation>(&at(START)).map(drop),
        2 => checked(&at(CHECK), Checked::ReverseFlow),
        3 => checked(&at(CHECK_WHATSAPP), Checked::Code),
        4 => shown::<CountryList>(&at(COUNTRY)).map(drop),
        // A sent code becomes the verifier's handle, written as JSON.
        5 => shown::<OtpSent>(&at(SEND_OTP)).map(|sent| {
            if let Ok(phone) = PhoneNumber::parse(FUZZ_PHONE) {
                drop(sms_handle(&sent, &phone, "TR", time::OffsetDateTime::now_utc()).to_json());
            }
        }),
        6 => checked(&at(CHECK_OTP), Checked::Code),
        7 => shown::<EmailStarted>(&at(START_EMAIL)).map(drop),
        8 => shown::<EmailCheck>(&at(CHECK_EMAIL))
            .map(drop)
            .inspect_err(|error| drop(check_outcome(error, Checked::Email))),
        9 => shown::<BlacklistChange>(&at(BLACKLIST_ADD)).map(drop),
        10 => shown::<BlacklistChange>(&at(BLACKLIST_REMOVE)).map(drop),
        // A session's result becomes the resolved session, written as JSON.
        11 => shown::<ValidationResult>(&at(RESULT)).map(|result| {
            drop(resolved_session(result).map(|session| serde_json::to_string(&session)));
        }),
        12 => shown::<AccessToken>(&at(ACCESS_TOKEN)).map(drop),
        _ => shown::<WhatsAppMessageSent>(&at(SEND_WHATSAPP_MESSAGE)).map(drop),
    }
}

/// The number the fuzzed handles and checks are for.
const FUZZ_PHONE: &str = "+905321234567";

/// [`decode`] into `T`, its `Debug` form and the error's `Display` and `Debug` forms built.
fn shown<T: DeserializeOwned + std::fmt::Debug>(response: &HttpResponse) -> Result<T> {
    match decode::<T>(response, &SECRETS[0].into()) {
        Ok(value) => {
            drop(format!("{value:?}"));
            Ok(value)
        }
        Err(error) => Err(formatted(error)),
    }
}

/// A check's answer: decoded, then the verifier's outcome of a code check built from it; an
/// error read for the outcome it stands for.
fn checked(response: &HttpResponse, checked: Checked) -> Result<()> {
    shown::<ValidationCheck>(response)
        .map(|check| {
            if checked == Checked::Code
                && let Ok(phone) = PhoneNumber::parse(FUZZ_PHONE)
            {
                drop(otp_outcome(Ok(check), &phone, Channel::Sms).map(|o| format!("{o:?}")));
            }
        })
        .inspect_err(|error| drop(check_outcome(error, checked)))
}

/// `error`, its `Display` and `Debug` forms built once.
fn formatted(error: Error) -> Error {
    drop(format!("{error} {error:?}"));
    error
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_endpoint_maps_an_error_envelope_without_the_secrets() {
        let echo = format!(
            r#"{{"meta":{{"httpStatusCode":401,"errorCode":"401 {0}","errorMessage":"bad key {0}"}}}}"#,
            SECRETS[0]
        );
        let not_json = format!("<html>bad key {}</html>", SECRETS[0]);
        for body in [echo, not_json] {
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
    fn every_endpoint_maps_an_error_envelope() {
        let body = br#"{"meta":{"httpStatusCode":403,"errorCode":"403014","errorMessage":"OTP code is invalid."}}"#;
        for endpoint in 0..ENDPOINTS {
            let error = decode_answer(endpoint, 403, &HeaderMap::new(), body).unwrap_err();
            assert_eq!(error.provider_code(), Some("403014"), "endpoint {endpoint}");
        }
    }

    /// Endpoint `i` (and `i + ENDPOINTS`) reads the answer as the client's endpoint `i`: a body
    /// that is no JSON is an error naming that endpoint's operation.
    #[test]
    fn each_endpoint_reads_as_its_own_operation() {
        let endpoints = crate::client::ENDPOINTS;
        assert_eq!(endpoints.len(), usize::from(ENDPOINTS));
        for (index, endpoint) in (0..).zip(endpoints) {
            for at in [index, index + ENDPOINTS] {
                let error = decode_answer(at, 200, &HeaderMap::new(), b"<html>").unwrap_err();
                let named = format!("{} answered HTTP 200", endpoint.operation.name);
                assert!(error.message().starts_with(&named), "{at}: {error}");
            }
        }
    }

    #[test]
    fn endpoints_decode_their_documented_results() {
        let send_otp =
            br#"{"meta":{"httpStatusCode":201},"result":{"reference":"111111","timeout":300}}"#;
        decode_answer(5, 201, &HeaderMap::new(), send_otp).unwrap();
        let check = br#"{"meta":{"httpStatusCode":200},"result":{"validationStatus":true,"sessionId":"QWERTY123456"}}"#;
        decode_answer(6, 200, &HeaderMap::new(), check).unwrap();
        assert!(decode_answer(6, 200, &HeaderMap::new(), b"[]").is_err());
    }

    #[test]
    fn answers_run_through_to_the_verifiers_handle_outcome_and_session() {
        // A validity past what a date holds, a check that says nothing, a result dated past
        // year 9999 in UTC: the handle, the outcome and the session are built without a panic.
        let send_otp = br#"{"meta":{"httpStatusCode":201},"result":{"reference":"111111","timeout":18446744073709551615}}"#;
        decode_answer(5, 201, &HeaderMap::new(), send_otp).unwrap();
        let empty = br#"{"meta":{"httpStatusCode":200},"result":{}}"#;
        decode_answer(6, 200, &HeaderMap::new(), empty).unwrap();
        let result = br#"{"meta":{"httpStatusCode":200},"result":{"phoneNumber":"+905321234567","validationType":"whatsapp","validationDate":"9999-12-31T23:30:00-01:00"}}"#;
        decode_answer(11, 200, &HeaderMap::new(), result).unwrap();
    }
}
