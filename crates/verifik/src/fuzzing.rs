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
use crate::errors::{check_outcome, decode, is_already_validated};
use crate::wire::{
    AppRegistration, EmailLogin, PhoneValidation, Shape, TokenAnswer, ValidatedPhone,
    ValidationPage,
};

/// How many endpoints [`decode_answer`] tells apart.
pub const ENDPOINTS: u8 = 14;

/// Decodes an answer (`status`, `headers`, `body`) to endpoint `endpoint % ENDPOINTS` the way
/// [`VerifikClient`](crate::VerifikClient) does (that endpoint's payload type and envelope
/// shape, or the error the answer carries; a token endpoint's token read as the client reads
/// it), then reads a code check's error as the verifier does. Values and errors are formatted
/// with `Debug` and `Display`, so those paths run too.
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
        _ => shown::<PhoneValidation>(&at(GET_VALIDATION), Shape::Data),
    }
}

/// [`decode`] into `T` at `shape`, its `Debug` form and the error's forms built.
fn shown<T: DeserializeOwned + Debug>(response: &HttpResponse, shape: Shape) -> Result<()> {
    match decode::<T>(response, shape) {
        Ok((value, envelope)) => {
            drop(format!("{value:?} {envelope:?}"));
            Ok(())
        }
        Err(error) => Err(formatted(error)),
    }
}

/// A token endpoint's answer: decoded, then its token read.
fn token(response: &HttpResponse, shape: Shape) -> Result<()> {
    let (answer, _) = decode::<TokenAnswer>(response, shape).map_err(formatted)?;
    let access = token_of(response.operation().name, answer, TOKEN_VALIDITY).map_err(formatted)?;
    drop(format!("{access:?}"));
    Ok(())
}

/// A code check's answer: decoded, and an error read for the outcome it stands for.
fn checked(response: &HttpResponse) -> Result<()> {
    shown::<ValidatedPhone>(response, Shape::Data).inspect_err(|error| {
        drop(check_outcome(error));
        let _ = is_already_validated(error);
    })
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
