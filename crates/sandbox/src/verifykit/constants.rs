//! The lengths and lifetimes of VerifyKit's codes and flows.

/// Digits of a VerifyKit OTP.
pub(crate) const OTP_LENGTH: usize = 6;
/// Validity of a VerifyKit OTP and of a reverse (WhatsApp/Telegram/e-mail) flow, in seconds.
pub(crate) const TIMEOUT_SECS: i64 = 300;
