//! How a provider client talks HTTP: the settings applications tune.
//!
//! [`HttpConfig`] holds the time limits ([`Timeouts`]), the retry policy of safe operations
//! ([`RetryPolicy`]), the response size cap and the `User-Agent`. Every provider builder takes
//! them through one shared part, [`HttpSettings`], and the same setters, [`ConfigureHttp`]:
//!
//! ```
//! use std::time::Duration;
//! use phone_verify_core::http::{ConfigureHttp, HttpSettings, RetryPolicy, Timeouts};
//!
//! #[derive(Default)]
//! struct AcmeBuilder {
//!     http: HttpSettings,
//! }
//!
//! impl ConfigureHttp for AcmeBuilder {
//!     fn http_settings_mut(&mut self) -> &mut HttpSettings {
//!         &mut self.http
//!     }
//! }
//!
//! let builder = AcmeBuilder::default()
//!     .timeouts(Timeouts::default().with_overall(Duration::from_secs(20)))
//!     .retry(RetryPolicy::default().with_max_attempts(2));
//! assert_eq!(builder.http.config().retry.max_attempts, 2);
//! ```
//!
//! A client of the application's own ([`ConfigureHttp::reqwest_client`]) starts from
//! [`reqwest_builder`]; a provider config's base URLs are [`BaseUrl`]s. The client that applies
//! the settings, with its retry classes, lives in the provider kit
//! ([`crate::kit::HttpClient`]).

mod builder;
pub(crate) mod config;
pub(crate) mod retry;
mod settings;

pub use crate::kit::BaseUrl;
pub use builder::reqwest_builder;
pub use config::{HttpConfig, Timeouts};
pub use retry::{Clock, Jitter, RandomJitter, RetryPolicy, Sleep, SystemClock};
pub use settings::{ConfigureHttp, HttpSettings};
