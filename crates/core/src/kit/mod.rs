//! The provider kit: what a provider crate needs and an application does not.
//!
//! A provider crate (ours, or a third party's) is built from these parts, in one-way files
//! (`config` → `wire` → `errors` → `client` → `verifier`; see `docs/writing-a-provider.md`):
//!
//! - **HTTP**: [`HttpClient`] runs every request on one path (https only, no redirect taken,
//!   timeouts, a size cap, retries by [`OperationKind`], a `tracing` span per operation with a
//!   masked phone); [`HttpRequest`] and [`Operation`] describe a request, [`HttpResponse`] and
//!   [`HttpStream`] its answer, [`BaseUrl`] a provider's base URL (and paths under it),
//!   [`sandbox_url`] its base URL
//!   in a phone-verify sandbox, and [`base_url_setters!`](crate::base_url_setters) a builder's
//!   `base_url` and `sandbox_url` setters; [`secret_header_value`] and [`basic_auth_value`]
//!   make a credential's header once, and [`fits_header`] checks a credential in place long
//!   before. The application tunes it through [`crate::http::HttpSettings`], which a builder
//!   holds.
//! - **Decoding**: [`lenient`] field decoders for providers whose documentation disagrees on
//!   types; [`HttpResponse::undecodable`] for a body that is not the expected JSON,
//!   [`provider_text`] and [`provider_code`] (or [`provider_code_scrubbed`], credentials
//!   scrubbed) for a provider's message, code and request id as an error keeps them, and
//!   [`redacted_excerpt`], [`scrub_secrets`] and [`mask_numbers`] for what a provider wrote,
//!   quoted in an error; [`mask_phone_field`] for a phone-number field in a wire type's `Debug`.
//! - **Errors**: [`ErrorSpec`], [`CheckRule`] and [`ErrorTable`], the types `cargo xtask
//!   codegen` fills from a provider's `errors.toml`; [`kind_for_status`] for what is not
//!   documented; [`kind_for_operation`], the doubt an unavailable provider leaves on a send or
//!   a code check; [`parse_retry_after`].
//! - **Settings**: [`EnvSetting`], one typed enum of a provider's variables (its credentials
//!   marked secret), and [`EnvReader`], which reads them with errors that name the variable
//!   and gives a credential only as a secret;
//!   [`env_settings!`](crate::env_settings) declares such an enum, with its names, meanings,
//!   `Display` and the HTTP variables; [`HttpSetting`], the HTTP variables
//!   every provider lists, [`check_env_settings`], which a provider's unit test runs, and
//!   [`placed_message`], an error's place in a config file.

mod base_url;
mod budget;
mod client;
mod deadline;
mod env;
mod error_spec;
mod header;
mod header_list;
pub mod lenient;
mod request;
mod response;
mod stream;

pub use crate::http::config::HttpSetting;
pub use base_url::{BaseUrl, JoinedUrls, sandbox_url};
pub use budget::TimeBudget;
pub use client::{HttpClient, surely_unsent};
pub use env::{EnvReader, EnvSetting, check_env_settings, placed_message};
pub use error_spec::{CheckRule, ErrorSpec, ErrorTable};
pub use header::ip_header_value;
pub use request::{
    HttpRequest, Operation, OperationKind, basic_auth_value, fits_header, secret_header_value,
};
pub use response::{
    HttpResponse, MIN_ENCODED_SECRET_LEN, kind_for_operation, kind_for_status, provider_code,
    provider_code_scrubbed, provider_text, redacted_excerpt, scrub_secrets,
};
pub use stream::HttpStream;

pub use crate::http::config::parse_env_seconds;
pub use crate::http::retry::parse_retry_after;
pub use crate::phone::{mask_numbers, mask_phone_field};
