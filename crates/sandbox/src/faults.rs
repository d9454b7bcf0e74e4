//! Fault injection: make the next N matching requests fail in a chosen way.

use serde::{Deserialize, Serialize};

use crate::model::{ControlError, Provider};

/// The HTTP statuses a fault may answer ([`Fault::check`]): hyper sends no 1xx status as a
/// final answer (it answers 500 instead, or switches protocols for 101), and HTTP has none
/// past 599.
const FAULT_STATUSES: std::ops::RangeInclusive<u16> = 200..=599;

/// What an injected fault does to a matching request. The control API refuses an action
/// with a field it does not have. New actions may be added: a `match` on it needs a wildcard
/// arm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum FaultAction {
    /// Answer `status` without processing the request. The body is `body` when given (sent
    /// as `application/json`, as [`Respond`](Self::Respond) sends its body), else the
    /// provider's own error shape for that status.
    Status {
        /// HTTP status code.
        status: u16,
        /// Raw body to send instead of the provider-shaped error.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        body: Option<String>,
    },
    /// Answer exactly this, without processing the request: `status`, the `headers` given (a
    /// provider's request-id header, say; `Content-Type` is `application/json` unless one of
    /// them sets it; a name or value HTTP does not allow is left out) and `body`.
    Respond {
        /// HTTP status code.
        status: u16,
        /// Response headers, as name and value.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        headers: Vec<(String, String)>,
        /// The body.
        body: String,
    },
    /// Process the request at once, then hold its answer back `ms` milliseconds (real time),
    /// as a slow provider would: a client that gives up meanwhile still had its request
    /// processed (a code sent, a code used up), and the request is logged when it takes effect.
    Delay {
        /// How long the answer is held back, in milliseconds (the request takes effect at once).
        ms: u64,
    },
    /// Close the connection with a TCP reset before any response byte is sent; the request is
    /// not processed.
    ConnectionReset,
    /// Process the request, then send the status line, headers (with the full
    /// `Content-Length`) and only half of the body before dropping the connection.
    TruncatedBody,
    /// Answer 200 with `Content-Type: application/json` and a body that is not valid JSON; the
    /// request is not processed.
    MalformedJson,
    /// Answer 200 with an HTML page (`Content-Type: text/html`); the request is not processed.
    WrongContentType,
    /// Answer 429 with `Retry-After` and the provider's rate-limit error; not processed.
    RateLimited {
        /// Value of the `Retry-After` header, in seconds.
        retry_after_secs: u64,
    },
    /// Answer 503 with `Retry-After` and the provider's error for 503; not processed (a
    /// provider shedding load that says when to come back).
    ServiceUnavailable {
        /// Value of the `Retry-After` header, in seconds.
        retry_after_secs: u64,
    },
    /// Process the request (a code is sent, a code used up), then close the connection with a
    /// TCP reset before any response byte: the request took effect, the client gets no answer.
    ResetAfterProcessing,
    /// Answer `status` in the provider's error shape, its message quoting every credential the
    /// request carried (`Authorization`, a Basic one decoded; `X-Vfk-Server-Key`;
    /// `X-Service-Auth`), as a provider that echoes credentials would; not processed.
    EchoCredentials {
        /// HTTP status code, e.g. 401.
        status: u16,
    },
    /// Process the request, then answer its status, headers and body padded to `bytes` bytes,
    /// streamed without `Content-Length`, so only a client's own size cap stops it: a JSON
    /// object gets a first field `"padding":"aaa…"`, any other body leading whitespace. A
    /// client without a cap reads the real answer.
    OversizedBody {
        /// Size of the body, in bytes (at least the answer and the 13 bytes of JSON around the
        /// padding).
        bytes: u64,
    },
    /// Process the request, send the status line and headers (with the full
    /// `Content-Length`) at once, then the body `chunk_bytes` bytes at a time, one chunk every
    /// `interval_ms` milliseconds (real time), so only a client's timeout stops a slow read.
    SlowDrip {
        /// Bytes per chunk (at least 1).
        chunk_bytes: usize,
        /// Wait before each chunk, in milliseconds.
        interval_ms: u64,
    },
}

impl FaultAction {
    /// Short name used in the request log, e.g. `connection_reset`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Status { .. } => "status",
            Self::Respond { .. } => "respond",
            Self::Delay { .. } => "delay",
            Self::ConnectionReset => "connection_reset",
            Self::TruncatedBody => "truncated_body",
            Self::MalformedJson => "malformed_json",
            Self::WrongContentType => "wrong_content_type",
            Self::RateLimited { .. } => "rate_limited",
            Self::ServiceUnavailable { .. } => "service_unavailable",
            Self::ResetAfterProcessing => "reset_after_processing",
            Self::EchoCredentials { .. } => "echo_credentials",
            Self::OversizedBody { .. } => "oversized_body",
            Self::SlowDrip { .. } => "slow_drip",
        }
    }
}

fn one() -> u32 {
    1
}

/// A fault for the next `times` requests that match `provider`, `method` and `path`.
///
/// `path` is the provider's own path (what the real host would see), e.g. `/v1.0/send-otp`,
/// `/v2/phone-validations` or `/v1/service/service/{id}/users`, matched with [`path_matches`]:
/// a `*` segment matches any one segment and a trailing `*` any suffix. `None` fields match
/// everything. A field it does not know is an error when it is read (the control API answers
/// 400), so a misspelt filter never makes a fault match every request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    /// Only requests to this provider (any provider when `None`).
    #[serde(default)]
    pub provider: Option<Provider>,
    /// Only this HTTP method, case-insensitive (any when `None`).
    #[serde(default)]
    pub method: Option<String>,
    /// Only this path, or prefix when it ends with `*` (any when `None`).
    #[serde(default)]
    pub path: Option<String>,
    /// How many matching requests it affects (default 1).
    #[serde(default = "one")]
    pub times: u32,
    /// What happens to them.
    pub action: FaultAction,
}

impl Fault {
    /// A fault for the next request to `provider`, any method and path.
    pub fn new(provider: Provider, action: FaultAction) -> Self {
        Self {
            provider: Some(provider),
            method: None,
            path: None,
            times: 1,
            action,
        }
    }

    /// Restricts it to one HTTP method.
    #[must_use]
    pub fn method(mut self, method: impl Into<String>) -> Self {
        self.method = Some(method.into());
        self
    }

    /// Restricts it to one path (or a prefix ending with `*`).
    #[must_use]
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// Makes it affect the next `times` matching requests.
    #[must_use]
    pub fn times(mut self, times: u32) -> Self {
        self.times = times;
        self
    }

    /// Checks that the sandbox can honour it: `times` is at least 1 and the status it answers
    /// (`status`, `respond`, `echo_credentials`) is from 200 to 599 (hyper sends no 1xx status
    /// as a final answer, and HTTP has none past 599); else [`ControlError::InvalidRequest`]
    /// saying why.
    pub fn check(&self) -> Result<(), ControlError> {
        if self.times == 0 {
            return Err(ControlError::InvalidRequest(
                "\"times\" must be at least 1".into(),
            ));
        }
        match &self.action {
            FaultAction::Status { status, .. }
            | FaultAction::Respond { status, .. }
            | FaultAction::EchoCredentials { status }
                if !FAULT_STATUSES.contains(status) =>
            {
                Err(ControlError::InvalidRequest(format!(
                    "\"status\" must be within {}..={}, not {status}",
                    FAULT_STATUSES.start(),
                    FAULT_STATUSES.end()
                )))
            }
            _ => Ok(()),
        }
    }

    /// Reads a fault as the control API takes it, refusing a field that neither the fault nor
    /// its action has (also beside an action without fields, such as `connection_reset`,
    /// which serde lets through in an internally tagged enum), then [`check`](Self::check)s it.
    pub(crate) fn from_json(json: serde_json::Value) -> Result<Self, ControlError> {
        let given = json
            .get("action")
            .and_then(serde_json::Value::as_object)
            .map_or(0, serde_json::Map::len);
        let fault: Self = serde_json::from_value(json)
            .map_err(|e| ControlError::InvalidRequest(format!("bad fault: {e}")))?;
        let fieldless = matches!(
            fault.action,
            FaultAction::ConnectionReset
                | FaultAction::TruncatedBody
                | FaultAction::MalformedJson
                | FaultAction::WrongContentType
                | FaultAction::ResetAfterProcessing
        );
        if fieldless && given > 1 {
            return Err(ControlError::InvalidRequest(format!(
                "bad fault: the action {:?} has no field but \"type\"",
                fault.action.name()
            )));
        }
        fault.check()?;
        Ok(fault)
    }

    fn matches(&self, provider: Provider, method: &str, path: &str) -> bool {
        self.provider.is_none_or(|p| p == provider)
            && self
                .method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(method))
            && self.path.as_deref().is_none_or(|p| path_matches(p, path))
    }
}

/// Whether `path` matches `pattern`: segments are compared one by one, a segment `*` matches
/// any one segment, and a `*` ending the pattern matches any suffix.
///
/// ```
/// use phone_verify_sandbox::faults::path_matches;
///
/// assert!(path_matches("/v1/service/service/*/users/*/auth", "/v1/service/service/s1/users/u1/auth"));
/// assert!(!path_matches("/v1/service/service/*/users/*/auth", "/v1/service/service/s1/users"));
/// assert!(path_matches("/v2/phone-validations*", "/v2/phone-validations/manual"));
/// assert!(path_matches("/v1.0/*", "/v1.0/blacklist/add"));
/// assert!(!path_matches("/v1.0/send-otp", "/v1.0/send-otp/x"));
/// ```
pub fn path_matches(pattern: &str, path: &str) -> bool {
    let mut pattern_segments = pattern.split('/').peekable();
    let mut path_segments = path.split('/');
    while let Some(expected) = pattern_segments.next() {
        if pattern_segments.peek().is_none()
            && let Some(prefix) = expected.strip_suffix('*')
        {
            let rest: Vec<&str> = path_segments.collect();
            return !rest.is_empty() && rest.join("/").starts_with(prefix);
        }
        match path_segments.next() {
            Some(actual) if expected == "*" || expected == actual => {}
            _ => return false,
        }
    }
    path_segments.next().is_none()
}

/// Pending faults, consumed in the order they were added.
#[derive(Debug, Clone, Default)]
pub(crate) struct FaultQueue {
    pending: Vec<Fault>,
}

impl FaultQueue {
    /// Adds a fault (ignored when `times` is 0).
    pub(crate) fn push(&mut self, fault: Fault) {
        if fault.times > 0 {
            self.pending.push(fault);
        }
    }

    /// Takes one use of the first fault matching the request.
    pub(crate) fn take(
        &mut self,
        provider: Provider,
        method: &str,
        path: &str,
    ) -> Option<FaultAction> {
        let index = self
            .pending
            .iter()
            .position(|f| f.matches(provider, method, path))?;
        let fault = &mut self.pending[index];
        fault.times -= 1;
        let action = fault.action.clone();
        if fault.times == 0 {
            self.pending.remove(index);
        }
        Some(action)
    }

    /// Removes and returns the faults `provider` may take (its own and those of no provider),
    /// the others kept with their uses left and in their order.
    pub(crate) fn take_for(&mut self, provider: Provider) -> Vec<Fault> {
        let (taken, kept) = std::mem::take(&mut self.pending)
            .into_iter()
            .partition(|fault| fault.provider.is_none_or(|p| p == provider));
        self.pending = kept;
        taken
    }

    /// Faults not used up yet.
    pub(crate) fn pending(&self) -> &[Fault] {
        &self.pending
    }

    /// Removes every pending fault.
    pub(crate) fn clear(&mut self) {
        self.pending.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trailing_star_needs_a_rest_that_starts_with_its_prefix() {
        assert!(path_matches("/v1.0/*", "/v1.0/blacklist/add"));
        assert!(path_matches(
            "/v2/phone-validations*",
            "/v2/phone-validations/manual"
        ));
        // Nothing left for the star, or a rest that does not start with its prefix.
        assert!(!path_matches("/v1.0/*", "/v1.0"));
        assert!(!path_matches("/v2/phone-validations*", "/v2/other"));
        assert!(!path_matches(
            "/v1/service/service/*/users/*/auth",
            "/v1/service/service/s1/users"
        ));
        assert!(!path_matches("/v1.0/send-otp", "/v1.0/send-otp/x"));
    }

    #[test]
    fn faults_match_and_are_used_up() {
        let mut q = FaultQueue::default();
        q.push(
            Fault::new(Provider::VerifyKit, FaultAction::ConnectionReset)
                .method("post")
                .path("/v1.0/send-otp")
                .times(2),
        );
        assert_eq!(q.take(Provider::Verifik, "POST", "/v1.0/send-otp"), None);
        assert_eq!(q.take(Provider::VerifyKit, "GET", "/v1.0/send-otp"), None);
        assert_eq!(q.take(Provider::VerifyKit, "POST", "/v1.0/check-otp"), None);
        assert_eq!(
            q.take(Provider::VerifyKit, "POST", "/v1.0/send-otp"),
            Some(FaultAction::ConnectionReset)
        );
        assert_eq!(q.pending().len(), 1);
        assert!(
            q.take(Provider::VerifyKit, "POST", "/v1.0/send-otp")
                .is_some()
        );
        assert!(
            q.take(Provider::VerifyKit, "POST", "/v1.0/send-otp")
                .is_none()
        );
        assert!(q.pending().is_empty());
    }

    #[test]
    fn prefixes_wildcards_and_zero_times() {
        let mut q = FaultQueue::default();
        q.push(Fault::new(Provider::Verigator, FaultAction::MalformedJson).times(0));
        assert!(q.pending().is_empty());
        q.push(Fault {
            provider: None,
            method: None,
            path: Some("/v1/service/*".into()),
            times: 1,
            action: FaultAction::Delay { ms: 5 },
        });
        assert!(q.take(Provider::Verigator, "PUT", "/v1/other").is_none());
        assert_eq!(
            q.take(Provider::Verigator, "PUT", "/v1/service/service/x"),
            Some(FaultAction::Delay { ms: 5 })
        );
        q.push(Fault::new(Provider::Verifik, FaultAction::TruncatedBody));
        q.clear();
        assert!(q.take(Provider::Verifik, "GET", "/v2/x").is_none());
    }

    #[test]
    fn faults_deserialize_from_control_json() {
        let f: Fault = serde_json::from_str(
            r#"{"provider":"verifykit","path":"/v1.0/send-otp","action":{"type":"rate_limited","retry_after_secs":7}}"#,
        )
        .unwrap();
        assert_eq!(f.times, 1);
        assert_eq!(
            f.action,
            FaultAction::RateLimited {
                retry_after_secs: 7
            }
        );
        assert_eq!(f.action.name(), "rate_limited");
        let s: Fault =
            serde_json::from_str(r#"{"action":{"type":"status","status":503},"times":3}"#).unwrap();
        assert_eq!(
            s.action,
            FaultAction::Status {
                status: 503,
                body: None
            }
        );
        assert_eq!(s.provider, None);
    }

    #[test]
    fn unknown_fields_are_refused_and_check_finds_what_cannot_be_honoured() {
        for json in [
            r#"{"provider":"verifykit","paht":"/v1.0/send-otp","action":{"type":"connection_reset"}}"#,
            r#"{"action":{"type":"delay","ms":5,"times":2}}"#,
            r#"{"action":{"type":"status","status":503,"headers":[]}}"#,
        ] {
            assert!(serde_json::from_str::<Fault>(json).is_err(), "{json}");
        }
        let read = |json: &str| Fault::from_json(serde_json::from_str(json).unwrap());
        for json in [
            r#"{"action":{"type":"connection_reset","ms":5}}"#,
            r#"{"action":{"type":"reset_after_processing","times":2}}"#,
            r#"{"times":0,"action":{"type":"malformed_json"}}"#,
            r#"{"action":{"type":"status","status":600}}"#,
        ] {
            assert!(read(json).is_err(), "{json}");
        }
        assert_eq!(
            read(r#"{"times":2,"action":{"type":"truncated_body"}}"#),
            Ok(Fault {
                provider: None,
                method: None,
                path: None,
                times: 2,
                action: FaultAction::TruncatedBody
            })
        );
        let status = |status: u16| Fault {
            provider: None,
            method: None,
            path: None,
            times: 1,
            action: FaultAction::Status { status, body: None },
        };
        for ok in [200, 404, 599] {
            assert_eq!(status(ok).check(), Ok(()), "{ok}");
        }
        for bad in [0, 100, 101, 199, 600, 999, 1000] {
            assert!(status(bad).check().is_err(), "{bad}");
        }
        let respond = FaultAction::Respond {
            status: 99,
            headers: Vec::new(),
            body: String::new(),
        };
        assert!(Fault::new(Provider::Twilio, respond).check().is_err());
        let echo = FaultAction::EchoCredentials { status: 1000 };
        assert!(Fault::new(Provider::Twilio, echo).check().is_err());
        let never = Fault::new(Provider::Twilio, FaultAction::ConnectionReset).times(0);
        assert_eq!(
            never.check(),
            Err(ControlError::InvalidRequest(
                "\"times\" must be at least 1".into()
            ))
        );
    }

    /// The matrix's actions round-trip through the control API's JSON under their snake_case
    /// names, and each one's `type` is its log name.
    #[test]
    fn new_actions_have_snake_case_names() {
        let cases = [
            (
                r#"{"type":"service_unavailable","retry_after_secs":2}"#,
                FaultAction::ServiceUnavailable {
                    retry_after_secs: 2,
                },
            ),
            (
                r#"{"type":"reset_after_processing"}"#,
                FaultAction::ResetAfterProcessing,
            ),
            (
                r#"{"type":"oversized_body","bytes":10485760}"#,
                FaultAction::OversizedBody { bytes: 10_485_760 },
            ),
            (
                r#"{"type":"slow_drip","chunk_bytes":1,"interval_ms":250}"#,
                FaultAction::SlowDrip {
                    chunk_bytes: 1,
                    interval_ms: 250,
                },
            ),
        ];
        for (json, action) in cases {
            let parsed: FaultAction = serde_json::from_str(json).unwrap();
            assert_eq!(parsed, action, "{json}");
            let written = serde_json::to_value(&parsed).unwrap();
            assert_eq!(
                written,
                serde_json::from_str::<serde_json::Value>(json).unwrap()
            );
            assert_eq!(written["type"], parsed.name(), "{json}");
        }
        let missing =
            serde_json::from_str::<FaultAction>(r#"{"type":"slow_drip","chunk_bytes":1}"#);
        assert!(missing.is_err(), "interval_ms is required");
    }
}
