//! Checks, as doc tests that must not compile, that the types which may grow stay
//! `#[non_exhaustive]`: outside this crate, a `match` on [`FaultAction`](crate::FaultAction)
//! or [`Channel`](crate::Channel) needs a wildcard arm, and a pattern of
//! [`SentMessage`](crate::SentMessage) or [`RequestRecord`](crate::RequestRecord) needs `..`.
//!
//! ```compile_fail,E0004
//! use phone_verify_sandbox::FaultAction;
//!
//! fn name(action: &FaultAction) -> &'static str {
//!     match action {
//!         FaultAction::Status { .. } => "status",
//!         FaultAction::Respond { .. } => "respond",
//!         FaultAction::Delay { .. } => "delay",
//!         FaultAction::ConnectionReset => "connection reset",
//!         FaultAction::TruncatedBody => "truncated body",
//!         FaultAction::MalformedJson => "malformed JSON",
//!         FaultAction::WrongContentType => "wrong content type",
//!         FaultAction::RateLimited { .. } => "rate limited",
//!         FaultAction::ServiceUnavailable { .. } => "service unavailable",
//!         FaultAction::ResetAfterProcessing => "reset after processing",
//!         FaultAction::EchoCredentials { .. } => "echo credentials",
//!         FaultAction::OversizedBody { .. } => "oversized body",
//!         FaultAction::SlowDrip { .. } => "slow drip",
//!     }
//! }
//! ```
//!
//! ```compile_fail,E0004
//! use phone_verify_sandbox::Channel;
//!
//! fn name(channel: Channel) -> &'static str {
//!     match channel {
//!         Channel::Sms => "sms",
//!         Channel::Whatsapp => "whatsapp",
//!         Channel::Telegram => "telegram",
//!         Channel::Email => "email",
//!         Channel::Call => "call",
//!     }
//! }
//! ```
//!
//! ```compile_fail,E0638
//! use phone_verify_sandbox::SentMessage;
//!
//! fn text(message: SentMessage) -> String {
//!     let SentMessage { provider, phone, email, channel, code, text, lang, reference, sent_at } =
//!         message;
//!     let _ = (provider, phone, email, channel, code, lang, reference, sent_at);
//!     text
//! }
//! ```
//!
//! ```compile_fail,E0638
//! use phone_verify_sandbox::RequestRecord;
//!
//! fn path(record: RequestRecord) -> String {
//!     let RequestRecord { provider, method, path, status, at, fault, forwarded_for } = record;
//!     let _ = (provider, method, status, at, fault, forwarded_for);
//!     path
//! }
//! ```
