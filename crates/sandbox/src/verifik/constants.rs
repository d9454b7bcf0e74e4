//! The sandbox's Verifik account ids and the lifetimes of its codes and tokens.

/// The sandbox's Verifik client (account) id.
pub(crate) const CLIENT_ID: &str = "507f1f77bcf86cd799439013";
/// The project flow of the default project.
pub(crate) const PROJECT_FLOW_ID: &str = "507f1f77bcf86cd799439015";
/// Digits of a Verifik OTP.
pub(crate) const OTP_LENGTH: usize = 6;
/// Validity of a Verifik OTP, in minutes.
pub(crate) const OTP_MINUTES: i64 = 10;
/// The resend cooldown per number and gateway, in seconds.
pub(crate) const RESEND_COOLDOWN_SECS: i64 = 120;
/// Validity of an access token, in days.
pub(crate) const TOKEN_DAYS: i64 = 30;
