//! Entry points for the repository's `fuzz/` crate (cargo-fuzz targets). Hidden: not part of
//! the public API, and may change in any release.

use std::fmt::Debug;

use phone_verify_core::kit::{HttpResponse, Operation};
use phone_verify_core::reqwest::header::HeaderMap;
use phone_verify_core::{Error, Result};
use serde::de::DeserializeOwned;

use crate::client::lookup::scan;
use crate::client::{
    CREATE_SERVICE, CREATE_USER, DELETE_SERVICE, DELETE_USER, GET_SERVICE, GET_USER, LIST_USERS,
    START_AUTH, VERIFY_PIN,
};
use crate::config::PROVIDER;
use crate::errors::{answer, answer_without_body, check_outcome, rejection};
use crate::wire::{AuthStarted, PinVerification, Service, User, UserList};

/// How many endpoints [`decode_answer`] tells apart.
pub const ENDPOINTS: u8 = 9;

/// The credentials [`decode_answer`] has the client scrub from what Verigator wrote.
pub const SECRETS: [&str; 3] = [
    "fuzz-service-auth-canary",
    "fuzz-username-canary",
    "fuzz-password-canary",
];

/// Reads an answer (`status`, `headers`, `body`) to endpoint `endpoint % ENDPOINTS` the way
/// [`VerigatorClient`](crate::VerigatorClient) does (that endpoint's type from a 2xx, the
/// error mapping from anything else, [`SECRETS`] scrubbed), then reads a PIN check's outcome
/// as the verifier does (the refusal's reason from every answer). Values and errors are
/// formatted with `Debug` and `Display`, so those paths run too; the error is returned so the
/// caller can look for the secrets in it.
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
        0 => shown::<Service>(&at(CREATE_SERVICE)),
        1 => shown::<Service>(&at(GET_SERVICE)),
        2 => answer_without_body(&at(DELETE_SERVICE), &SECRETS).map_err(formatted),
        3 => shown::<User>(&at(CREATE_USER)),
        4 => shown::<UserList>(&at(LIST_USERS)),
        5 => shown::<User>(&at(GET_USER)),
        6 => answer_without_body(&at(DELETE_USER), &SECRETS).map_err(formatted),
        7 => shown::<AuthStarted>(&at(START_AUTH)),
        _ => {
            let response = at(VERIFY_PIN);
            match answer::<PinVerification>(&response, &SECRETS) {
                Ok(verification) => {
                    // The reason is read from every answer, not only a refused one: whatever
                    // the status holds, reading it must not fail.
                    let reason = rejection(verification.status.as_ref());
                    drop(format!("{verification:?} {reason:?}"));
                    Ok(())
                }
                Err(error) => {
                    drop(check_outcome(&error));
                    Err(formatted(error))
                }
            }
        }
    }
}

/// Scans a 2xx answer to `GET …/users` (`body`) for the user registered with `wanted`, as
/// [`VerigatorClient::find_user`](crate::VerigatorClient::find_user) does on the streamed
/// body. Returns whether a user was found.
pub fn scan_user_list(body: &[u8], wanted: &str) -> bool {
    match scan(body, wanted) {
        Ok(found) => {
            drop(format!("{found:?}"));
            found.is_some()
        }
        Err(error) => {
            drop(error.to_string());
            false
        }
    }
}

/// [`answer`] into `T`, its `Debug` form and the error's forms built.
fn shown<T: DeserializeOwned + Debug>(response: &HttpResponse) -> Result<()> {
    match answer::<T>(response, &SECRETS) {
        Ok(value) => {
            drop(format!("{value:?}"));
            Ok(())
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
    fn every_endpoint_maps_an_error_status_without_the_secrets() {
        let body = format!(r#"{{"message":"bad auth {}"}}"#, SECRETS[0]);
        for endpoint in 0..ENDPOINTS {
            let error =
                decode_answer(endpoint, 401, &HeaderMap::new(), body.as_bytes()).unwrap_err();
            assert_eq!(error.http_status(), Some(401), "endpoint {endpoint}");
            assert!(
                !format!("{error} {error:?}").contains(SECRETS[0]),
                "{error:?}"
            );
        }
    }

    /// Endpoint `i` (and `i + ENDPOINTS`) reads the answer as its own operation: a 2xx body
    /// that is no JSON is an error naming that operation, except for the two deletes, which
    /// read no body.
    #[test]
    fn each_endpoint_reads_as_its_own_operation() {
        let operations = [
            CREATE_SERVICE,
            GET_SERVICE,
            DELETE_SERVICE,
            CREATE_USER,
            LIST_USERS,
            GET_USER,
            DELETE_USER,
            START_AUTH,
            VERIFY_PIN,
        ];
        assert_eq!(operations.len(), usize::from(ENDPOINTS));
        for (index, operation) in (0..).zip(operations) {
            for at in [index, index + ENDPOINTS] {
                let read = decode_answer(at, 200, &HeaderMap::new(), b"<html>");
                if [DELETE_SERVICE.name, DELETE_USER.name].contains(&operation.name) {
                    read.unwrap();
                    continue;
                }
                let error = read.unwrap_err();
                let named = format!("{} answered HTTP 200", operation.name);
                assert!(error.message().starts_with(&named), "{at}: {error}");
            }
        }
    }

    #[test]
    fn answers_and_user_lists_decode() {
        let pin =
            br#"{"verified":false,"method":"sms","status":{"invalid":true,"result":"INVALID"}}"#;
        decode_answer(8, 200, &HeaderMap::new(), pin).unwrap();
        decode_answer(2, 202, &HeaderMap::new(), b"").unwrap();
        let users =
            br#"{"users":[{"id":"u1","ctime":"2017-09-15T06:44:15","id_in_service":"alice"}]}"#;
        assert!(scan_user_list(users, "alice"));
        assert!(!scan_user_list(users, "bob"));
        assert!(!scan_user_list(b"{\"users\":[{", "alice"));
    }
}
