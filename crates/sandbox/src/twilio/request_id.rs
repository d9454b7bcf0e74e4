//! Twilio's `Twilio-Request-Id` header, which Twilio puts on every answer (errors included).

use axum::extract::State as AxumState;
use axum::http::{HeaderName, HeaderValue};
use axum::response::Response;

use super::slot::Twilio;
use crate::wire::Verbatim;

/// The header naming the request, as Twilio sends it.
const REQUEST_ID: HeaderName = HeaderName::from_static("twilio-request-id");

/// Gives `response` a `Twilio-Request-Id` of `RQ` and 32 lowercase hex digits, from the
/// request ids' own (seeded) random source (the slot's `request_ids`): every answer of the emulator,
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
