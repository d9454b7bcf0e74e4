//! Public data types of the control API: providers, sent messages, the request log and errors.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// One of the emulated providers. New providers may be added: a `match` on it needs a
/// wildcard arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Provider {
    /// VerifyKit (`web-rest.verifykit.com` and `api.verifykit.com`).
    #[serde(alias = "verify-kit", alias = "VerifyKit")]
    VerifyKit,
    /// Verifik (`api.verifik.co`).
    #[serde(alias = "Verifik")]
    Verifik,
    /// Messente Verigator (`api.verigator.com`).
    #[serde(alias = "Verigator", alias = "messente")]
    Verigator,
    /// Twilio Verify v2 (`verify.twilio.com`).
    #[serde(alias = "Twilio")]
    Twilio,
}

impl Provider {
    /// All providers, in a fixed order. A slice, so that a provider added later changes
    /// neither its type nor code that iterates it.
    pub const ALL: &'static [Self] = &[
        Self::VerifyKit,
        Self::Verifik,
        Self::Verigator,
        Self::Twilio,
    ];

    /// The lowercase name used in URLs and JSON (`verifykit`, `verifik`, `verigator`, `twilio`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::VerifyKit => "verifykit",
            Self::Verifik => "verifik",
            Self::Verigator => "verigator",
            Self::Twilio => "twilio",
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Provider {
    type Err = ControlError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "verifykit" | "verify-kit" => Ok(Self::VerifyKit),
            "verifik" => Ok(Self::Verifik),
            "verigator" | "messente" => Ok(Self::Verigator),
            "twilio" => Ok(Self::Twilio),
            other => Err(ControlError::InvalidRequest(format!(
                "unknown provider {other:?}"
            ))),
        }
    }
}

/// How a message reached (or would have reached) the user. New channels may be added: a
/// `match` on it needs a wildcard arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Channel {
    /// A text message.
    Sms,
    /// A WhatsApp message.
    Whatsapp,
    /// A Telegram message.
    Telegram,
    /// An e-mail.
    Email,
    /// A voice call that reads the code out (Twilio's `call` channel).
    Call,
}

impl Channel {
    /// The lowercase name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sms => "sms",
            Self::Whatsapp => "whatsapp",
            Self::Telegram => "telegram",
            Self::Email => "email",
            Self::Call => "call",
        }
    }
}

/// A message the sandbox "sent" instead of delivering it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SentMessage {
    /// The provider that sent it.
    pub provider: Provider,
    /// Recipient phone number in E.164 form (`None` for e-mails).
    pub phone: Option<String>,
    /// Recipient e-mail address (e-mails only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The delivery channel.
    pub channel: Channel,
    /// The one-time code in the message, if it carries one.
    pub code: Option<String>,
    /// The full text, in the language that was asked for (`en`, `tr` or `es`; others fall back to `en`).
    pub text: String,
    /// The language the text is in.
    pub lang: String,
    /// The provider-side handle of the flow: VerifyKit `reference`, Verifik `_id`, Verigator
    /// user id, Twilio verification SID (`VE...`).
    pub reference: Option<String>,
    /// When it was sent, on the sandbox clock.
    #[serde(with = "time::serde::rfc3339")]
    pub sent_at: OffsetDateTime,
}

/// One request that reached a provider emulation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RequestRecord {
    /// The provider whose routes it hit.
    pub provider: Provider,
    /// The HTTP method, e.g. `POST` (cut to 256 bytes).
    pub method: String,
    /// The path as the real provider would see it, e.g. `/v1.0/send-otp` (no query string; cut
    /// to 256 bytes).
    pub path: String,
    /// The status answered; `None` when an injected fault reset the connection.
    pub status: Option<u16>,
    /// When it arrived, on the sandbox clock.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The injected fault that shaped the answer, if any (e.g. `connection_reset`).
    pub fault: Option<String>,
    /// The `X-Vfk-Forwarded-For` header (end-user IP) if the request carried one (cut to 256
    /// bytes).
    pub forwarded_for: Option<String>,
}

/// The request log: the newest requests in arrival order, and exact counts per `"METHOD path"`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestLog {
    /// The newest requests (at most `SandboxConfig::request_log_capacity`), oldest first.
    pub requests: Vec<RequestRecord>,
    /// Number of requests per `"METHOD path"`, e.g. `"POST /v1.0/send-otp": 1`, counting every
    /// request since the start (or the last reset), including those dropped from `requests`.
    pub counts: BTreeMap<String, usize>,
}

impl RequestLog {
    /// The one key of [`RequestLog::counts`] under which every request that matched no route
    /// of its provider (an unknown path, the 404 fallback) or came with a method outside the
    /// standard ones is counted. A standard method a route does not serve (a 405) is counted
    /// under its own path.
    pub const UNMATCHED: &'static str = "* <unmatched>";

    /// Builds the log and its counts from records.
    pub fn from_records(requests: Vec<RequestRecord>) -> Self {
        let mut counts = BTreeMap::new();
        for r in &requests {
            *counts
                .entry(format!("{} {}", r.method, r.path))
                .or_insert(0) += 1;
        }
        Self { requests, counts }
    }
}

/// A Verigator user's authenticator enrolment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TotpEnrollment {
    /// The shared secret, RFC 4648 base32 without padding.
    pub secret: String,
    /// An `otpauth://` URI that authenticator apps import.
    pub otpauth_uri: String,
    /// The code valid right now (sandbox clock).
    pub code: String,
}

/// Why a control operation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ControlError {
    /// The referenced flow, user or service does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// The flow's validity period is over.
    #[error("expired: {0}")]
    Expired(String),
    /// The flow was already completed.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The request was malformed (bad phone number, unknown provider, bad JSON …).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
}

impl ControlError {
    /// The HTTP status the control API answers for this error.
    pub fn status(&self) -> u16 {
        match self {
            Self::NotFound(_) => 404,
            Self::Expired(_) => 410,
            Self::Conflict(_) => 409,
            Self::InvalidRequest(_) => 400,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn providers_parse_and_print() {
        for &p in Provider::ALL {
            assert_eq!(p.as_str().parse::<Provider>().unwrap(), p);
            assert_eq!(serde_json::to_string(&p).unwrap(), format!("\"{p}\""));
        }
        assert!("twillio".parse::<Provider>().is_err());
    }

    #[test]
    fn all_providers_are_a_slice_of_distinct_providers() {
        let all: &'static [Provider] = Provider::ALL;
        let distinct: std::collections::BTreeSet<_> = all.iter().collect();
        assert_eq!(distinct.len(), all.len());
        assert!(all.contains(&Provider::Twilio));
    }

    #[test]
    fn request_log_counts_per_endpoint() {
        let at = OffsetDateTime::UNIX_EPOCH;
        let rec = |m: &str, p: &str| RequestRecord {
            provider: Provider::VerifyKit,
            method: m.into(),
            path: p.into(),
            status: Some(200),
            at,
            fault: None,
            forwarded_for: None,
        };
        let log = RequestLog::from_records(vec![
            rec("POST", "/v1.0/send-otp"),
            rec("POST", "/v1.0/send-otp"),
            rec("POST", "/v1.0/check-otp"),
        ]);
        assert_eq!(log.counts["POST /v1.0/send-otp"], 2);
        assert_eq!(log.counts["POST /v1.0/check-otp"], 1);
    }
}
