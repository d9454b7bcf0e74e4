//! The provider crates, each behind the feature of its name, for what the traits do not
//! cover: builders, typed clients of every endpoint, provider-specific handle extras.
//!
//! | module | feature | crate |
//! |---|---|---|
//! | `verifykit` | `verifykit` | [`phone-verify-verifykit`](https://docs.rs/phone-verify-verifykit) |
//! | `verifik` | `verifik` | [`phone-verify-verifik`](https://docs.rs/phone-verify-verifik) |
//! | `verigator` | `verigator` | [`phone-verify-verigator`](https://docs.rs/phone-verify-verigator) |
//! | `twilio` | `twilio` | [`phone-verify-twilio`](https://docs.rs/phone-verify-twilio) |

#[cfg(feature = "verifykit")]
#[doc(inline)]
pub use phone_verify_verifykit as verifykit;

#[cfg(feature = "verifik")]
#[doc(inline)]
pub use phone_verify_verifik as verifik;

#[cfg(feature = "verigator")]
#[doc(inline)]
pub use phone_verify_verigator as verigator;

#[cfg(feature = "twilio")]
#[doc(inline)]
pub use phone_verify_twilio as twilio;
