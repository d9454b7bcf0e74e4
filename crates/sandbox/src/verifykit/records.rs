//! The records VerifyKit's state holds: OTP, WhatsApp/Telegram and e-mail flows, and sessions.

use time::OffsetDateTime;

use crate::otp::PendingCode;

/// A pending SMS OTP.
#[derive(Debug)]
pub(super) struct OtpFlow {
    pub(super) phone: String,
    pub(super) country: String,
    pub(super) code: PendingCode,
}

/// A completed verification, as `result` reports it.
#[derive(Debug, Clone)]
pub(super) struct Session {
    pub(super) validation_type: String,
    pub(super) date: OffsetDateTime,
    pub(super) phone: String,
    pub(super) country: String,
}

/// An e-mail flow.
#[derive(Debug)]
pub(crate) struct EmailFlow {
    pub(super) subject: String,
    pub(super) expires_at: OffsetDateTime,
    /// Sender address and completion time.
    pub(super) completion: Option<(String, OffsetDateTime)>,
}

/// A WhatsApp/Telegram flow.
#[derive(Debug)]
pub(crate) struct ReverseFlow {
    pub(super) app: String,
    pub(super) expires_at: OffsetDateTime,
    /// WhatsApp-as-OTP: the number the code went to and the code.
    pub(super) otp: Option<(String, String, PendingCode)>,
    /// Who completed it, and the session it produced.
    pub(super) completion: Option<(String, String)>,
}
