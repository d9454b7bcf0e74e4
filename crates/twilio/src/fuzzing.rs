//! Entry points for the repository's `fuzz/` crate (cargo-fuzz targets). Hidden: not part of
//! the public API, and may change in any release.

use std::fmt::Debug;

use phone_verify_core::http::SystemClock;
use phone_verify_core::kit::{HttpResponse, Operation};
use phone_verify_core::reqwest::header::HeaderMap;
use phone_verify_core::{Channel, Error, PhoneNumber, Result};
use serde::de::DeserializeOwned;

use crate::attempts::{Attempt, AttemptPage};
use crate::client::{
    CHECK_VERIFICATION, CREATE_SERVICE, CREATE_VERIFICATION, DELETE_SERVICE, FETCH_ATTEMPT,
    FETCH_SERVICE, FETCH_VERIFICATION, LIST_ATTEMPTS, LIST_SERVICES, UPDATE_SERVICE,
    UPDATE_VERIFICATION,
};
use crate::config::PROVIDER;
use crate::errors::{answer, answer_without_body, check_rejection, request_id};
use crate::verifier::{outcome, started_handle};
use crate::wire::{Service, ServicePage, Verification, VerificationCheck};

/// How many endpoints [`decode_answer`] tells apart: 0 to 5 as before the list, update and
/// delete of services, which are 6, 7 and 8; then the list of attempts (9) and one attempt
/// (10).
pub const ENDPOINTS: u8 = 11;

/// The credentials [`decode_answer`] has the client scrub from what Twilio wrote.
pub const SECRETS: [&str; 2] = [
    "ACfuzzfuzzfuzzfuzzfuzzfuzzfuzzfuzz",
    "fuzz-auth-token-canary",
];

/// Reads an answer (`status`, `headers`, `body`) to endpoint `endpoint % ENDPOINTS` the way
/// [`TwilioClient`](crate::TwilioClient) does (that endpoint's type from a 2xx, the error
/// mapping from anything else, [`SECRETS`] scrubbed), then reads a check's error as the
/// verifier does. Values and errors are formatted with `Debug` and `Display`, so those paths
/// run too; the error is returned so the caller can look for the secrets in it.
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
    let phone = || PhoneNumber::parse("+15017122661").ok();
    match endpoint % ENDPOINTS {
        0 => shown::<Service>(&at(CREATE_SERVICE)).map(drop),
        1 => shown::<Service>(&at(FETCH_SERVICE)).map(drop),
        // A started verification becomes the verifier's handle, written as JSON.
        2 => {
            let response = at(CREATE_VERIFICATION);
            shown::<Verification>(&response).map(|started| {
                if let Some(phone) = phone() {
                    let handle = started_handle(
                        started,
                        request_id(&response, &SECRETS),
                        &phone,
                        &Channel::Sms,
                        FUZZ_SERVICE,
                        &SystemClock,
                    );
                    drop(handle.map(|handle| handle.to_json()));
                }
            })
        }
        3 => shown::<Verification>(&at(FETCH_VERIFICATION)).map(drop),
        4 => shown::<Verification>(&at(UPDATE_VERIFICATION)).map(drop),
        6 => shown::<ServicePage>(&at(LIST_SERVICES)).map(drop),
        7 => shown::<Service>(&at(UPDATE_SERVICE)).map(drop),
        // A delete's answer has no resource: any 2xx is a success.
        8 => answer_without_body(&at(DELETE_SERVICE), &SECRETS).map_err(formatted),
        9 => shown::<AttemptPage>(&at(LIST_ATTEMPTS)).map(drop),
        10 => shown::<Attempt>(&at(FETCH_ATTEMPT)).map(drop),
        // A check's answer becomes the verifier's outcome for a handle, expired or not.
        _ => {
            let response = at(CHECK_VERIFICATION);
            let id = request_id(&response, &SECRETS);
            shown::<VerificationCheck>(&response)
                .map(|check| {
                    let handle = phone_verify_core::Verification::new(
                        PROVIDER,
                        "VEaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                        Channel::Sms,
                    );
                    drop(outcome(&handle, &check, id, &SystemClock).map(|o| format!("{o:?}")));
                    if let Some(phone) = phone() {
                        drop(outcome(&handle.with_phone(phone), &check, id, &SystemClock));
                    }
                })
                .inspect_err(|error| {
                    drop(check_rejection(error, false));
                    drop(check_rejection(error, true));
                })
        }
    }
}

/// The service SID the fuzzed handles name.
const FUZZ_SERVICE: &str = "VAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

/// [`answer`] into `T`, its `Debug` form and the error's forms built.
fn shown<T: DeserializeOwned + Debug>(response: &HttpResponse) -> Result<T> {
    match answer::<T>(response, &SECRETS) {
        Ok(value) => {
            drop(format!("{value:?}"));
            Ok(value)
        }
        Err(error) => Err(formatted(error)),
    }
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
    fn every_endpoint_maps_an_error_body_without_the_secrets() {
        let body = format!(
            r#"{{"code":20003,"message":"Authenticate {} {}","status":401}}"#,
            SECRETS[0], SECRETS[1]
        );
        for endpoint in 0..ENDPOINTS {
            let error =
                decode_answer(endpoint, 401, &HeaderMap::new(), body.as_bytes()).unwrap_err();
            assert_eq!(error.provider_code(), Some("20003"), "endpoint {endpoint}");
            let shown = format!("{error} {error:?}");
            assert!(SECRETS.iter().all(|s| !shown.contains(s)), "{shown}");
        }
    }

    #[test]
    fn each_endpoint_decodes_its_own_type() {
        // A check's answer needs no field, nor does a page or an attempt; a service's and a
        // verification's need their `sid`; a delete reads no body.
        let decodes = |endpoint, body: &[u8]| decode_answer(endpoint, 200, &HeaderMap::new(), body);
        for endpoint in [0, 1, 2, 3, 4, 7] {
            assert!(decodes(endpoint, b"{}").is_err(), "endpoint {endpoint}");
            assert!(
                decodes(endpoint + ENDPOINTS, b"{}").is_err(),
                "endpoint {endpoint}"
            );
            decodes(endpoint, br#"{"sid":"VAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}"#).unwrap();
        }
        for endpoint in [5, 6, 8, 9, 10] {
            decodes(endpoint, b"{}").unwrap();
            decodes(endpoint + ENDPOINTS, b"{}").unwrap();
        }
        // A page holds services, each needing its `sid`; a delete takes any body, none too.
        assert!(decodes(6, br#"{"services":[{}]}"#).is_err());
        decodes(
            6,
            br#"{"services":[{"sid":"VAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}]}"#,
        )
        .unwrap();
        // A page of attempts needs a list where it says `attempts`.
        assert!(decodes(9, br#"{"attempts":{}}"#).is_err());
        decodes(9, br#"{"attempts":[{"conversion_status":"converted"}]}"#).unwrap();
        decodes(8, b"").unwrap();
        decodes(8, b"<html>").unwrap();
        assert!(decodes(5, b"<html>").is_err());
    }

    #[test]
    fn answers_run_through_to_the_verifiers_handle_and_outcome() {
        // A start whose 10 minutes run past what a date holds, and a check's date past year
        // 9999 in UTC: the handle and the outcome are built without a panic.
        let started = br#"{"sid":"VEaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","date_created":"9999-12-31T23:59:59Z"}"#;
        decode_answer(2, 201, &HeaderMap::new(), started).unwrap();
        let checked = br#"{"status":"approved","valid":true,"to":"+15017122662","date_updated":"9999-12-31T23:30:00-01:00"}"#;
        decode_answer(5, 200, &HeaderMap::new(), checked).unwrap();
    }

    #[test]
    fn a_check_decodes() {
        let check = br#"{"sid":"VEaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","service_sid":"VAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","account_sid":"ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","to":"+15017122661","channel":"sms","status":"approved","valid":true,"date_created":"2015-07-30T20:00:00Z","date_updated":"2015-07-30T20:00:00Z"}"#;
        decode_answer(5, 200, &HeaderMap::new(), check).unwrap();
        assert!(decode_answer(5, 200, &HeaderMap::new(), b"<html>").is_err());
    }
}
