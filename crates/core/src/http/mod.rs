//! The shared HTTP layer every provider crate uses.
//!
//! One path for every request: https only (loopback excepted), no redirects, connect,
//! per-attempt and overall timeouts, a response-size cap, retries with exponential backoff and
//! full jitter for [`OperationKind::Read`] operations (on transport failures and on 429,
//! 502, 503 and 504, honouring `Retry-After`), for [`OperationKind::Consume`] code checks only
//! when the provider surely did not process them, never for sends, and a `tracing` span per
//! operation with the provider, operation, attempts, status and a masked phone number.
//! [`HttpClient::execute_streamed`] gives the same path with a body read piece by piece
//! ([`HttpStream`]), for answers too large to hold.

mod base_url;
mod client;
mod config;
mod request;
mod response;
mod retry;
mod stream;

pub use base_url::BaseUrl;
pub use client::HttpClient;
pub use config::{HttpConfig, Timeouts, parse_env_seconds};
pub use request::{HttpRequest, Operation, OperationKind};
pub use response::{HttpResponse, excerpt, fallback_kind};
pub use retry::{Clock, Jitter, RandomJitter, RetryPolicy, Sleep, SystemClock, parse_retry_after};
pub use stream::HttpStream;
