//! Twilio's `Twilio-Request-Id` header, which Twilio puts on every answer (errors included).

use axum::extract::State as AxumState;
use axum::http::{HeaderName, HeaderValue};
use axum::response::Response;

use super::slot::Twilio;
use crate::config::SandboxConfig;
use crate::otp::SandboxRng;
use crate::wire::Verbatim;

/// The header naming the request, as Twilio sends it.
const REQUEST_ID: HeaderName = HeaderName::from_static("twilio-request-id");

/// Sets the request ids' generator apart from every provider's own
/// ([`provider_rng`](crate::state::provider_rng)).
const SALT: u64 = 0x5251_4944_0000_0005;

/// The source of request ids: a generator of their own, derived from the seed, so that a
/// seeded sandbox's codes and SIDs (from Twilio's `rng`) do not depend on how many answers,
/// retries and lookups came before.
pub(super) fn generator(config: &SandboxConfig) -> SandboxRng {
    SandboxRng::new(config.seed.map(|seed| seed ^ SALT))
}

/// Gives `response` a `Twilio-Request-Id` of `RQ` and 32 lowercase hex digits, from the
/// request ids' own (seeded) random source ([`generator`]): every answer of the emulator,
/// errors and fault answers included, but a `respond` fault's, which is sent exactly as given
/// ([`Verbatim`]).
pub(super) async fn stamp(AxumState(app): AxumState<Twilio>, mut response: Response) -> Response {
    if response.extensions().get::<Verbatim>().is_none() {
        let id = format!("RQ{}", app.lock().request_ids.hex(16));
        if let Ok(value) = HeaderValue::from_str(&id) {
            response.headers_mut().insert(REQUEST_ID, value);
        }
    }
    response
}
