//! Checks, as doc tests that must not compile, that the types which may grow stay
//! `#[non_exhaustive]`: outside this crate, a `match` on [`FaultAction`](crate::FaultAction),
//! [`Channel`](crate::Channel) or [`Provider`](crate::Provider) needs a wildcard arm, and a
//! pattern of [`SentMessage`](crate::SentMessage), [`RequestRecord`](crate::RequestRecord) or
//! [`TotpEnrollment`](crate::TotpEnrollment) needs `..`.
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
//! ```compile_fail,E0004
//! use phone_verify_sandbox::Provider;
//!
//! fn name(provider: Provider) -> &'static str {
//!     match provider {
//!         Provider::VerifyKit => "verifykit",
//!         Provider::Verifik => "verifik",
//!         Provider::Verigator => "verigator",
//!         Provider::Twilio => "twilio",
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
//!
//! ```compile_fail,E0638
//! use phone_verify_sandbox::TotpEnrollment;
//!
//! fn code(enrollment: TotpEnrollment) -> String {
//!     let TotpEnrollment { secret, otpauth_uri, code } = enrollment;
//!     let _ = (secret, otpauth_uri);
//!     code
//! }
//! ```
//!
//! The same code with a wildcard arm, or `..` in the pattern, compiles: the blocks above fail
//! for the attribute alone, not for a name that moved. The unit tests below list every variant
//! and field (exhaustive inside this crate), so that one added fails them until the lists here
//! are brought up to date.
//!
//! ```
//! use phone_verify_sandbox::{
//!     Channel, FaultAction, Provider, RequestRecord, SentMessage, TotpEnrollment,
//! };
//!
//! fn action(action: &FaultAction) -> &'static str {
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
//!         _ => "other",
//!     }
//! }
//!
//! fn channel(channel: Channel) -> &'static str {
//!     match channel {
//!         Channel::Sms => "sms",
//!         Channel::Whatsapp => "whatsapp",
//!         Channel::Telegram => "telegram",
//!         Channel::Email => "email",
//!         Channel::Call => "call",
//!         _ => "other",
//!     }
//! }
//!
//! fn provider(provider: Provider) -> &'static str {
//!     match provider {
//!         Provider::VerifyKit => "verifykit",
//!         Provider::Verifik => "verifik",
//!         Provider::Verigator => "verigator",
//!         Provider::Twilio => "twilio",
//!         _ => "other",
//!     }
//! }
//!
//! fn text(message: SentMessage) -> String {
//!     let SentMessage { provider, phone, email, channel, code, text, lang, reference, sent_at, .. } =
//!         message;
//!     let _ = (provider, phone, email, channel, code, lang, reference, sent_at);
//!     text
//! }
//!
//! fn path(record: RequestRecord) -> String {
//!     let RequestRecord { provider, method, path, status, at, fault, forwarded_for, .. } = record;
//!     let _ = (provider, method, status, at, fault, forwarded_for);
//!     path
//! }
//!
//! fn code(enrollment: TotpEnrollment) -> String {
//!     let TotpEnrollment { secret, otpauth_uri, code, .. } = enrollment;
//!     let _ = (secret, otpauth_uri);
//!     code
//! }
//! ```

#[cfg(test)]
mod tests {
    use crate::{Channel, FaultAction, Provider, RequestRecord, SentMessage, TotpEnrollment};

    #[test]
    fn the_lists_above_are_every_variant_and_field() {
        let action = |action: &FaultAction| match action {
            FaultAction::Status { .. }
            | FaultAction::Respond { .. }
            | FaultAction::Delay { .. }
            | FaultAction::ConnectionReset
            | FaultAction::TruncatedBody
            | FaultAction::MalformedJson
            | FaultAction::WrongContentType
            | FaultAction::RateLimited { .. }
            | FaultAction::ServiceUnavailable { .. }
            | FaultAction::ResetAfterProcessing
            | FaultAction::EchoCredentials { .. }
            | FaultAction::OversizedBody { .. }
            | FaultAction::SlowDrip { .. } => (),
        };
        let channel = |channel| match channel {
            Channel::Sms
            | Channel::Whatsapp
            | Channel::Telegram
            | Channel::Email
            | Channel::Call => {}
        };
        let provider = |provider| match provider {
            Provider::VerifyKit | Provider::Verifik | Provider::Verigator | Provider::Twilio => {}
        };
        let message = |message: SentMessage| {
            let SentMessage {
                provider,
                phone,
                email,
                channel,
                code,
                text,
                lang,
                reference,
                sent_at,
            } = message;
            drop((
                provider, phone, email, channel, code, text, lang, reference, sent_at,
            ));
        };
        let record = |record: RequestRecord| {
            let RequestRecord {
                provider,
                method,
                path,
                status,
                at,
                fault,
                forwarded_for,
            } = record;
            drop((provider, method, path, status, at, fault, forwarded_for));
        };
        let enrollment = |enrollment: TotpEnrollment| {
            let TotpEnrollment {
                secret,
                otpauth_uri,
                code,
            } = enrollment;
            drop((secret, otpauth_uri, code));
        };
        action(&FaultAction::ConnectionReset);
        channel(Channel::Sms);
        provider(Provider::Twilio);
        let _ = (message, record, enrollment);
    }
}
