//! [`run`]: the conformance checks of the [`PhoneVerifier`] contract.

use std::any::Any;
use std::fmt::Debug;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use phone_verify_core::{
    Capabilities, Channel, CheckOutcome, CheckRequest, Code, ErrorKind, PhoneNumber, PhoneVerifier,
    PhoneVerifierExt, ProviderId, RejectReason, RequestContext, ResolvedSession, SessionId,
    SessionResolver, StartRequest, Verification, Verified,
};

use crate::harness::{
    CheckFault, Harness, HarnessError, HarnessResult, LookupFault, RequestCounts, SendFault,
};
use crate::report::{CheckResult, Report, Status};

/// Why a check did not pass.
enum Verdict {
    /// Recorded as skipped, with the reason: the harness lacks what the check needs, or the
    /// check does not apply to this provider (e.g. it sets no limit the check could test).
    Skip(String),
    Fail(String),
}

impl From<HarnessError> for Verdict {
    fn from(err: HarnessError) -> Self {
        match err {
            HarnessError::Unsupported(_) => Self::Skip(err.to_string()),
            HarnessError::Failed(_) => Self::Fail(err.to_string()),
        }
    }
}

/// A check's result: `Ok` is a pass, with an optional note.
type Check = Result<Option<String>, Verdict>;

macro_rules! fail {
    ($($arg:tt)*) => {
        return Err(Verdict::Fail(format!($($arg)*)))
    };
}

macro_rules! ensure {
    ($cond:expr, $($arg:tt)*) => {
        if !$cond {
            fail!($($arg)*);
        }
    };
}

// After the macros, which they use.
mod attempts;
mod captured;
mod errors;
mod expiry;
mod extras;
mod hostile;
mod lookups;
mod privacy;

/// Runs every conformance check that `verifier`'s [`Capabilities`] allow against `harness`,
/// and reports each as passed, skipped or failed.
///
/// Checks run one after another, each on a [fresh phone](Harness::fresh_phone). A check whose
/// harness support is missing ([`HarnessError::Unsupported`]) is skipped, and so is a check
/// that does not apply to the provider (no limit of wrong codes, no credentials named), each
/// with its reason in the report. A panic inside a check fails that check only, and so does
/// a check that takes longer than [`DEFAULT_CHECK_TIMEOUT`] ([`run_with_timeout`] sets
/// another). After every check, whatever its end, the suite calls
/// [`Harness::clear_faults`], so a fault a check injected never reaches the next one; a
/// failure to clear fails the check. Session checks need `resolver`: with
/// `capabilities.session_resolution` set and no resolver they are skipped.
///
/// The checks, by name (`c` is each OTP channel, `r` each reverse channel):
///
/// | check | what passes |
/// |---|---|
/// | `input.unsupported_channel_refused[x]` | starting on a channel the capabilities lack fails with `Unsupported` or `InvalidInput`, with no request |
/// | `input.otp_without_phone_refused[c]` | an OTP start without a phone is refused the same way (only for `c` that is not also a reverse channel: there, no phone means a reverse flow) |
/// | `input.phone_on_reverse_only_refused[r]` | a start with a phone on `r` is refused with `InvalidInput`, with no request, never started (only for `r` that is not also an OTP channel: there the user sends the message, and the phone would be dropped) |
/// | `input.otp_check_without_code_refused[c]` | checking an OTP verification without a code is refused, with no request |
/// | `input.qr_code_with_phone_refused[c]` | a start with a phone and a QR code asked for is refused with `Unsupported`, with no request and nothing sent (a code is sent, nothing is drawn), even from a provider that draws QR codes |
/// | `input.foreign_handle_refused` | checking a handle of another provider is refused, with no request |
/// | `input.hostile_handle_refused` | a handle whose reference holds a `/`, `?`, `#`, `..` or `%2F`, or has 512 characters or more, is refused with `InvalidInput`, or answered `NotFound` / `Rejected(NotFound)`: never verified, pending, another rejection or an untyped error (a reference used in a URL must be refused, or escaped, so that it cannot reach another path). Where the harness lists the requests' paths ([`Harness::requests_since`]), a request whose path holds the real reference as a segment of its own, and not the hostile one whole in one percent-encoded segment, fails it, whatever the answer; the detail says how many were refused before any request and how many the provider was asked about, and when their paths were not looked at |
/// | `input.malformed_session_refused` | with a resolver, session ids shaped the same way (up to the 512 characters a `SessionId` takes) are refused with `InvalidInput` or answered `NotFound`, never resolved; their requests' paths are looked at as for references |
/// | `input.qr_code_refused[r]` | without `capabilities.qr_code`, asking for a QR code is refused, with no request |
/// | `otp.right_code_verifies[c]` | the delivered code verifies, with the phone the code was sent to and channel `c` (and a session id when `capabilities.check_returns_session`); the harness reads the code sent on `c`, and the in-memory and sandbox harnesses fail every check that reads one sent on another channel ([`Harness::delivered_code`]) |
/// | `otp.wrong_code_rejected[c]` | a wrong code is `Rejected(WrongCode)` |
/// | `otp.right_code_after_wrong_code[c]` | after a wrong code, the right one still verifies (`WrongCode` promises another attempt may succeed) |
/// | `otp.code_single_use[c]` | once the right code verified, the same code again is `Ok(Rejected(_))` (any reason): a code is used up (RFC 6238 asks the same of a TOTP code), and a used-up code is an outcome, not an error (contract rule 3) |
/// | `otp.malformed_code_refused[c]` | a code of the wrong shape is `InvalidInput` with no request, or `Rejected(WrongCode)`; the right code still verifies |
/// | `otp.unknown_reference_rejected[c]` | a handle of a verification never started (a real one's reference with its digits, or letters, moved on, for a fresh phone), checked with a well-formed code, is `Ok(Rejected(NotFound))`, or `InvalidInput` with no request; an `Err(NotFound)`, `Verified`, `Pending` or another rejection fails |
/// | `otp.wrong_code_limit[c]` | when [`Harness::wrong_code_limit`] gives the provider's limit *n*: *n* wrong codes are `Rejected(WrongCode)` (the last may be `TooManyAttempts`), then the right code is `Rejected(TooManyAttempts)`, or `Rejected(NotFound)` where the provider discards the verification; without a limit it is skipped |
/// | `otp.right_code_within_limit[c]` | with a limit *n* of 2 or more: *n* − 1 wrong codes are each `Rejected(WrongCode)`, then the right code verifies with the phone (a verifier that locks early fails); without a limit, or with a limit of 1, it is skipped |
/// | `otp.lost_answer_not_rejected[c]` | the right code's check is taken by the provider and its answer lost ([`CheckFault::AnswerLost`]): the result is an `OutcomeUnknown` error, or `Verified` by a verifier that reads the verification back (which takes a second request: `Verified` after a single counted request fails, since the fault cannot have been used); never a rejection, nor an error that invites a repeat. Exactly one code-check request was made: the check was not sent again (a read-back is a lookup, not a check); where the harness does not count code checks ([`RequestCounts::checks`]), the check is skipped once the outcome passed, saying what was not proven |
/// | `otp.lost_answer_wrong_code_not_verified[c]` | a wrong code's check is taken by the provider and its answer lost: never `Verified`. An `OutcomeUnknown` error after exactly one code-check request passes; so does `Rejected(WrongCode)` as the answer to a second check sent after a read-back, where the harness says a repeat is harmless ([`Harness::repeat_check_harmless`]: the wrong code changed nothing); any other rejection or error fails (without code checks counted, skipped once the outcome passed) |
/// | `otp.used_code_lost_answer_not_verified[c]` | a handle verified by its right code is checked again three minutes later on the provider's clock (past any clock skew a read-back allows) with a wrong code, as a replayed token would be; the provider takes the check and its answer is lost: never `Verified` (a read-back must not take the earlier check's success for this one's). Any rejection or error passes; skipped when the handle is valid for less than four minutes, without [`Harness::advance_time`], and when the check never reached the provider (the fault unused) |
/// | `otp.server_error_not_rejected[c]` | the right code's check is answered, unprocessed, 503 without `Retry-After` ([`CheckFault::ServerError`]), which a proxy may give after forwarding it: an `OutcomeUnknown` error, never a rejection or another error, after exactly one code-check request (without code checks counted, skipped once the outcome passed). Where the harness says a repeat is harmless ([`Harness::repeat_check_harmless`]), also `Verified` with the right phone after a read-back and one more check (two code-check requests and a request between); without code checks counted, such a `Verified` is skipped as unproven, and where the harness does not say so, it fails |
/// | `otp.server_error_500_not_rejected[c]`, `otp.server_error_502_not_rejected[c]`, `otp.server_error_504_not_rejected[c]` | the same with a 500, a 502 and a 504 without `Retry-After` ([`CheckFault::SERVER_ERRORS`]), which a provider may give after taking the check (and a proxy after forwarding it): only a 503 with `Retry-After` is refused before processing. An `OutcomeUnknown` error, never a rejection or another error, after exactly one code-check request; `Verified` only after a read-back and a second check where the harness says a repeat is harmless, as for the 503 |
/// | `otp.unreadable_answer_not_rejected[c]` | the right code's check is answered, in turn, with each unreadable [`HostileAnswer`](crate::harness::HostileAnswer) (truncated body, malformed JSON, wrong content type, oversized body, an object without fields `{}`, an array `[]`; [`Harness::inject_hostile_answer`]): each is an `OutcomeUnknown` error, or `Verified` with the right phone after a read-back (with request counts, `Verified` after a single request fails: it was made up from the unreadable body; after an answer given without processing, `Verified` after a single code-check request fails too: the code was not used, so only a second check can have verified it); never a rejection nor another error. Either after exactly one code-check request: the check may have been taken, and is not sent again (after malformed JSON, the wrong content type, `{}` or `[]`, answers given without processing, two with a read-back between where the harness says a repeat is harmless, [`Harness::repeat_check_harmless`]); without code checks counted, an answer whose outcome passed is skipped as unproven. Answers the harness cannot give are named in the detail; none: skipped |
/// | `otp.unreadable_answer_wrong_code_not_verified[c]` | a wrong code's check answered, in turn, with each unreadable answer: never `Verified`. Each is an `OutcomeUnknown` error after exactly one code-check request (or a `Decode` error after an answer given once the check was taken, whose status is the provider's refusal of the wrong code), or `Rejected(WrongCode)` answering a second check after a read-back where the harness says a repeat is harmless; any other rejection or error fails. Answers the harness cannot give are named in the detail; none: skipped |
/// | `otp.stalled_answer_not_rejected[c]` | the same with an answer that stalls mid-body ([`HostileAnswer::StalledBody`](crate::harness::HostileAnswer::StalledBody)) for longer than the [`impatient client`](Harness::impatient_client) waits, met by that client: `OutcomeUnknown`, or `Verified` after a read-back, within the check's deadline, after exactly one code-check request (without code checks counted, skipped once the outcome passed) |
/// | `otp.expired_is_rejected[c]` | after the provider's clock passes the handle's `expires_at`, the right code is `Ok(Rejected(Expired))` |
/// | `otp.valid_until_expires_at[c]` | after the provider's clock moves to a minute before the handle's `expires_at`, the right code (read then) still verifies: a handle that claims a later expiry than the provider's fails; skipped without `expires_at`, with a validity of a minute or less, or without [`Harness::advance_time`] |
/// | `otp.handle_json_round_trip[c]` | the handle is equal after `to_json`/`from_json`, and the parsed handle verifies |
/// | `otp.handle_in_fresh_client[c]` | the parsed handle verifies in a [fresh verifier](Harness::fresh_verifier), which must be another instance (not the verifier under test itself) for the same provider |
/// | `reverse.pending_then_verified[r]` | the handle has a deeplink or QR code; a poll is `Pending`, and `Verified` with the user's phone once the flow is completed |
/// | `reverse.qr_code[r]` | with `capabilities.qr_code`, asking for a QR code returns one |
/// | `reverse.handle_json_round_trip[r]`, `reverse.handle_in_fresh_client[r]` | as for OTP, by polling |
/// | `reverse.expired_is_rejected[r]` | after the provider's clock passes the handle's `expires_at`, a poll of the flow the user never completed is `Ok(Rejected(Expired))`; skipped without `expires_at` or without [`Harness::advance_time`] |
/// | `reverse.poll_retried_after_503[r]` | the provider answers a completed flow's poll 503 with `Retry-After: 1` ([`LookupFault::ServiceUnavailable`]): the verifier retries after that second, no sooner, and reports `Verified` with the user's phone |
/// | `reverse.poll_retried_after_429[r]` | the same with a 429 and `Retry-After: 1` ([`LookupFault::RateLimited`]): retried after that second, no sooner, then `Verified` with the user's phone |
/// | `reverse.poll_retried_after_plain_503[r]` | the same with a 503 without `Retry-After` ([`LookupFault::ServiceUnavailableWithoutRetryAfter`]): retried after a backoff of the verifier's choosing (any), then `Verified` with the user's phone |
/// | `reverse.poll_retried_after_reset[r]` | the same with the connection reset before any answer, the poll unprocessed ([`LookupFault::ConnectionReset`]): retried, then `Verified` with the user's phone |
/// | `reverse.unreadable_poll_not_misread[r]`, `reverse.stalled_poll_not_misread[r]` | a completed flow's poll answered with each unreadable answer (or a stalled one, met by the impatient client): a `Decode`, `Transport`, `Timeout` or `ProviderUnavailable` error, or `Verified` with the user's phone after asking again (two requests or more; without request counts, skipped as unproven); never pending, rejected or another error |
/// | `send.exactly_once[c]` | one start makes exactly one send request (not for TOTP) |
/// | `send.not_retried_after_503[c]` | a send answered 503 with `Retry-After` ([`SendFault::ServiceUnavailable`]) reaches the provider exactly once and fails with `ProviderUnavailable`: refused before processing, nothing went out, and a send is never retried. Where the counts hold each provider's ([`RequestCounts::providers`]), each provider gets it at most once: a verifier over several (a router) may rightly try the next after such a refusal |
/// | `send.maybe_sent_after_plain_503[c]` | a send answered 503 without `Retry-After` ([`SendFault::ServiceUnavailableWithoutRetryAfter`]), which a proxy may answer after forwarding it, reaches the provider exactly once and fails with `MaybeSent`, and nothing else (any other kind says nothing went out, and a router would send again) |
/// | `send.not_retried_after_reset[c]` | a send whose connection is reset before any answer reaches the provider exactly once and fails with `MaybeSent`: the request had left |
/// | `send.maybe_sent_after_500[c]`, `send.maybe_sent_after_502[c]`, `send.maybe_sent_after_504[c]` | a send answered 500, 502 or 504 without `Retry-After` ([`SendFault::SERVER_ERRORS`]), which a provider may give after taking it (and a proxy after forwarding it), reaches the provider exactly once and fails with `MaybeSent`, and nothing else: any other kind says nothing went out, and a router would send again (contract rule 2: only a 503 with `Retry-After` is a refusal before processing) |
/// | `send.unreadable_answer_maybe_sent[c]`, `send.stalled_answer_maybe_sent[c]` | a send answered with each unreadable answer (or a stalled one, met by the impatient client) fails with `MaybeSent`, and nothing else (the provider may have taken it: any other kind says nothing went out, and a router would send again), after exactly one send request when the harness counts them |
/// | `session.resolves_verified_phone` | with `capabilities.session_resolution`, the session id of a verification resolves to its phone |
/// | `session.unknown_is_not_found` | with a resolver, a well-formed unknown session id fails with `NotFound` |
/// | `session.resolve_retried_after_503` | with `capabilities.session_resolution`, the provider answers the resolution of a verified session 503 with `Retry-After: 1`: the resolver retries after that second, no sooner, and finds the phone |
/// | `session.resolve_retried_after_429`, `session.resolve_retried_after_plain_503`, `session.resolve_retried_after_reset` | the same with a 429 and `Retry-After: 1` (retried after that second, no sooner), a 503 without `Retry-After` (retried after any backoff) and a connection reset before any answer (retried): the resolver finds the phone |
/// | `session.unreadable_resolution_not_misread`, `session.stalled_resolution_not_misread` | with `capabilities.session_resolution`, a verified session's resolution answered with each unreadable answer (or a stalled one, met by the impatient client's resolver): a `Decode`, `Transport`, `Timeout` or `ProviderUnavailable` error, or the verified phone after asking again (without request counts, skipped as unproven); never `NotFound`, another phone or another error |
/// | `handle.no_reserved_extras` | a start on each OTP and each reverse channel returns a handle whose `extras` hold none of the keys the layers around a provider write: `route` (a router's: it writes its route's name there, over the provider's value) and `cli_target` (the `phone-verify` command's). A verifier whose handles carry `route` passes only if it routes by it, as a router does: the handle naming a route it has not is refused with `InvalidInput`, before any request (the detail says so) |
/// | `errors.documented_codes_typed` | each error [`Harness::documented_errors`] lists ([`DocumentedError`](crate::harness::DocumentedError): the operation it answers, its HTTP status, headers and body), injected in turn as the provider's answer to a fresh start, a code check of a fresh verification, or a lookup (a verified session's resolution, else a reverse flow's poll) with [`Harness::inject_documented_error`], ends in the documented typed result: an error of the documented `ErrorKind` or, for a check, `Ok(Rejected(reason))`, keeping the provider's code (`Error::provider_code`, `Rejection::provider_code`), its message when the entry names one (in `Error::message` or `Error::provider_message`, `Rejection::message`) and its request id when the entry names one. One failure names every code that was not typed, and what was lost; entries the harness cannot inject are named in the detail; no entries, or no injection: skipped |
/// | `privacy.secrets_not_shown` | when [`Harness::secrets`] names the credentials (skipped when it names none; a credential under 8 characters is not searched for, and the detail says so): none shows, as it is, percent-encoded or (one of 12 bytes or more) base64-encoded at any offset (a Basic `Authorization` holding `user:secret`), in the verifier's or resolver's `Debug`, in a handle (`Debug`, JSON), in an outcome, or in the errors of a refused handle, a failed send, a send refused with its credentials echoed ([`SendFault::CredentialsEchoed`]), a lost check answer or an unknown session (`Display`, `Debug`, sources); the detail names the parts the harness could not run (say, the echo it cannot inject) |
/// | `privacy.codes_not_shown` | with an OTP channel whose codes the harness reads: the right, a wrong and a malformed code show (as whole tokens) nowhere the application could print them (contract rule 7): a handle's `Debug` and JSON, the outcomes of the wrong and the right code, the answer to the malformed one, and the errors of a check whose answer was lost or could not be read (each when the harness can inject it; the detail names those it could not); without such a channel it is skipped |
/// | `privacy.phones_and_codes_not_logged` | with every `tracing` level recorded, a verification (a wrong code, the right one, its session resolved), a failed send, a send whose answer could not be read (malformed JSON) and a send refused with its credentials echoed ([`SendFault::CredentialsEchoed`], when the harness names credentials), code checks whose outcome the verifier cannot know and may read back (the right code's answer lost, a wrong code's answer lost, the right code's answered 500, the right code's answered with malformed JSON), and lookups (a verified session's resolution, else a completed reverse flow's poll) answered 503 without `Retry-After`, which the verifier retries, or with malformed JSON, log no phone number in full (its national digits), no code and none of the credentials [`Harness::secrets`] names (in the forms `privacy.secrets_not_shown` searches for); a failure names the part during which the phone or code was first logged. A subscriber set for the check's future records its own calls; the tasks and threads the verifier spawns log to a process-wide subscriber the suite sets on first use, which the check searches too: the tasks of its own Tokio runtime and the threads outside any runtime, during the flow and for 100 ms after it. A process with a global subscriber of its own keeps it, and the detail says those were not searched; the detail also names the parts the harness could not run |
///
/// **Request counts.** A check that must prove a request count (no request before a refusal,
/// exactly one send, a read-back) is skipped, saying so, when [`Harness::request_counts`] is
/// `Unsupported`, and so is one that must prove exactly one code check when the counts do not
/// tell code checks apart ([`RequestCounts::checks`]); it still fails first when the error
/// kind or outcome alone shows the verifier wrong.
///
/// **Providers.** Every handle a start returns, and every session the resolver finds, must name
/// the verifier's own provider, or one of those [`Harness::handle_providers`] lists (a router's
/// handles keep the provider that sent the code); any other fails the check.
///
/// **Expiry.** The core contract (rule 3, "outcomes, not errors") makes an expired
/// verification `Ok(CheckOutcome::Rejected(..))` with [`RejectReason::Expired`]. An `Err` of
/// kind [`ErrorKind::Expired`] fails the check, and so does another rejection reason: a
/// provider that forgets expired verifications must still tell expiry apart. A handle without
/// `expires_at` skips the check, since the suite cannot know how far to move the clock. Each
/// expiry check moves the provider's clock by the handle's own validity (`expires_at` minus
/// `created_at`, both on the provider's clock) and a minute; `otp.valid_until_expires_at` by
/// that validity less a minute, and there the right code must still verify.
pub async fn run(
    verifier: &dyn PhoneVerifier,
    resolver: Option<&dyn SessionResolver>,
    harness: &dyn Harness,
) -> Report {
    run_with_timeout(verifier, resolver, harness, DEFAULT_CHECK_TIMEOUT).await
}

/// How long one check may take before [`run`] fails it: 60 seconds.
pub const DEFAULT_CHECK_TIMEOUT: Duration = Duration::from_secs(60);

/// [`run`], with `check_timeout` instead of [`DEFAULT_CHECK_TIMEOUT`] as the time each check
/// may take.
///
/// A check still running at its deadline is dropped and recorded as failed ("did not finish
/// within ..."), so a verifier that retries without end, or waits for an answer that never
/// comes, fails its checks instead of hanging the test. The deadline is kept with
/// `tokio::time::timeout`: under a Tokio runtime (`#[tokio::test]`) it needs the runtime's
/// timers enabled, as the HTTP layer's retries do; outside a Tokio runtime checks run
/// without a deadline. It is checked only when the check yields to the runtime: it cannot
/// stop a verifier that blocks its thread (a synchronous HTTP client, a `std::sync::Mutex`
/// deadlock, a loop that never awaits), which hangs the test whatever the timeout.
pub async fn run_with_timeout(
    verifier: &dyn PhoneVerifier,
    resolver: Option<&dyn SessionResolver>,
    harness: &dyn Harness,
    check_timeout: Duration,
) -> Report {
    let provider = verifier.provider();
    let handle_providers = harness
        .handle_providers()
        .unwrap_or_else(|| vec![provider.clone()]);
    let suite = Suite {
        verifier,
        resolver,
        harness,
        caps: verifier.capabilities(),
        provider,
        handle_providers,
        advanced: std::sync::Mutex::new(Duration::ZERO),
    };
    let mut recorder = Recorder {
        report: Report::new(suite.provider.clone()),
        harness,
        deadline: check_timeout,
    };
    let otp = suite.caps.otp_channels.clone();
    let reverse = suite.caps.reverse_channels.clone();
    let r = &mut recorder;

    // Input first: nothing in this group may reach the provider.
    let unsupported = unsupported_channel(&suite.caps);
    let name = format!("input.unsupported_channel_refused[{unsupported}]");
    r.record(name, suite.unsupported_channel_refused(&unsupported))
        .await;
    for c in otp.iter().filter(|c| !suite.caps.is_reverse(c)) {
        let name = format!("input.otp_without_phone_refused[{c}]");
        r.record(name, suite.otp_without_phone_refused(c)).await;
    }
    for c in reverse.iter().filter(|c| !suite.caps.is_otp(c)) {
        let name = format!("input.phone_on_reverse_only_refused[{c}]");
        r.record(name, suite.phone_on_reverse_only_refused(c)).await;
    }
    for c in &otp {
        let name = format!("input.otp_check_without_code_refused[{c}]");
        r.record(name, suite.otp_check_without_code_refused(c))
            .await;
        let name = format!("input.qr_code_with_phone_refused[{c}]");
        r.record(name, suite.qr_code_with_phone_refused(c)).await;
    }
    if let Some(c) = otp.first().or(reverse.first()) {
        let name = "input.foreign_handle_refused".to_owned();
        r.record(name, suite.foreign_handle_refused(c)).await;
    }
    if let Some(c) = otp.first().or(reverse.first()) {
        let name = "input.hostile_handle_refused".to_owned();
        r.record(name, suite.hostile_handle_refused(c)).await;
    }
    if suite.caps.session_resolution || resolver.is_some() {
        let name = "input.malformed_session_refused".to_owned();
        r.record(name, suite.malformed_session_refused()).await;
    }
    if !suite.caps.qr_code {
        for c in &reverse {
            let name = format!("input.qr_code_refused[{c}]");
            r.record(name, suite.qr_code_refused(c)).await;
        }
    }

    for c in &otp {
        let name = |check: &str| format!("otp.{check}[{c}]");
        r.record(name("right_code_verifies"), suite.right_code_verifies(c))
            .await;
        r.record(name("wrong_code_rejected"), suite.wrong_code_rejected(c))
            .await;
        let after_wrong = suite.right_code_after_wrong_code(c);
        r.record(name("right_code_after_wrong_code"), after_wrong)
            .await;
        r.record(name("code_single_use"), suite.code_single_use(c))
            .await;
        r.record(name("malformed_code_refused"), suite.malformed_code(c))
            .await;
        let unknown = suite.unknown_reference_rejected(c);
        r.record(name("unknown_reference_rejected"), unknown).await;
        r.record(name("expired_is_rejected"), suite.expired_is_rejected(c))
            .await;
        let valid = suite.valid_until_expires_at(c);
        r.record(name("valid_until_expires_at"), valid).await;
        let limit = suite.wrong_code_limit(c);
        r.record(name("wrong_code_limit"), limit).await;
        let within = suite.right_code_within_limit(c);
        r.record(name("right_code_within_limit"), within).await;
        let lost = suite.lost_answer_not_rejected(c);
        r.record(name("lost_answer_not_rejected"), lost).await;
        let lost_wrong = suite.lost_answer_wrong_code(c);
        r.record(name("lost_answer_wrong_code_not_verified"), lost_wrong)
            .await;
        let used = suite.used_code_lost_answer(c);
        r.record(name("used_code_lost_answer_not_verified"), used)
            .await;
        let server_error = suite.server_error_not_rejected(c);
        r.record(name("server_error_not_rejected"), server_error)
            .await;
        for &fault in CheckFault::SERVER_ERRORS {
            let status = fault.status().unwrap_or_default();
            let check = format!("server_error_{status}_not_rejected");
            r.record(name(&check), suite.check_server_error(c, fault))
                .await;
        }
        let unreadable = suite.check_unreadable(c);
        r.record(name("unreadable_answer_not_rejected"), unreadable)
            .await;
        let unreadable_wrong = suite.check_unreadable_wrong_code(c);
        let check = name("unreadable_answer_wrong_code_not_verified");
        r.record(check, unreadable_wrong).await;
        let stalled = suite.check_stalled(c);
        r.record(name("stalled_answer_not_rejected"), stalled).await;
        let round_trip = suite.otp_json_round_trip(c);
        r.record(name("handle_json_round_trip"), round_trip).await;
        let fresh = suite.otp_in_fresh_client(c);
        r.record(name("handle_in_fresh_client"), fresh).await;
    }

    for c in &reverse {
        let name = |check: &str| format!("reverse.{check}[{c}]");
        let pending = suite.reverse_pending_then_verified(c);
        r.record(name("pending_then_verified"), pending).await;
        if suite.caps.qr_code {
            r.record(name("qr_code"), suite.reverse_qr_code(c)).await;
        }
        let round_trip = suite.reverse_json_round_trip(c);
        r.record(name("handle_json_round_trip"), round_trip).await;
        let fresh = suite.reverse_in_fresh_client(c);
        r.record(name("handle_in_fresh_client"), fresh).await;
        let expired = suite.reverse_expired_is_rejected(c);
        r.record(name("expired_is_rejected"), expired).await;
        for &fault in LookupFault::ALL {
            let retried = suite.poll_retried(c, fault);
            let check = format!("poll_retried_after_{}", fault.name());
            r.record(name(&check), retried).await;
        }
        let unreadable = suite.poll_unreadable(c);
        r.record(name("unreadable_poll_not_misread"), unreadable)
            .await;
        let stalled = suite.poll_stalled(c);
        r.record(name("stalled_poll_not_misread"), stalled).await;
    }

    // TOTP codes come from an authenticator app: nothing is sent.
    for c in otp.iter().filter(|c| **c != Channel::Totp) {
        let name = |check: &str| format!("send.{check}[{c}]");
        r.record(name("exactly_once"), suite.send_exactly_once(c))
            .await;
        let faults = [
            SendFault::ServiceUnavailable,
            SendFault::ServiceUnavailableWithoutRetryAfter,
            SendFault::ConnectionReset,
        ];
        for &fault in faults.iter().chain(SendFault::SERVER_ERRORS) {
            let check = match fault {
                SendFault::ServiceUnavailable | SendFault::ConnectionReset => {
                    format!("not_retried_after_{}", fault.name())
                }
                _ => format!("maybe_sent_after_{}", fault.name()),
            };
            r.record(name(&check), suite.send_not_retried(c, fault))
                .await;
        }
        let unreadable = suite.send_unreadable(c);
        r.record(name("unreadable_answer_maybe_sent"), unreadable)
            .await;
        let stalled = suite.send_stalled(c);
        r.record(name("stalled_answer_maybe_sent"), stalled).await;
    }

    if suite.caps.session_resolution {
        let name = "session.resolves_verified_phone".to_owned();
        r.record(name, suite.session_resolves_verified_phone())
            .await;
    }
    if suite.caps.session_resolution || resolver.is_some() {
        let name = "session.unknown_is_not_found".to_owned();
        r.record(name, suite.session_unknown_is_not_found()).await;
    }
    if suite.caps.session_resolution {
        for &fault in LookupFault::ALL {
            let name = format!("session.resolve_retried_after_{}", fault.name());
            r.record(name, suite.resolve_retried(fault)).await;
        }
        let name = "session.unreadable_resolution_not_misread".to_owned();
        r.record(name, suite.resolution_unreadable()).await;
        let name = "session.stalled_resolution_not_misread".to_owned();
        r.record(name, suite.resolution_stalled()).await;
    }

    // The handles' extras leave the keys of the layers around a provider alone, once.
    let name = "handle.no_reserved_extras".to_owned();
    r.record(name, suite.no_reserved_extras()).await;

    // The provider's documented errors, each as its wire answer, once.
    let name = "errors.documented_codes_typed".to_owned();
    r.record(name, suite.documented_codes_typed()).await;

    // Last, privacy: what the verifier shows of credentials, phones and codes.
    let name = "privacy.secrets_not_shown".to_owned();
    r.record(name, suite.secrets_not_shown()).await;
    let name = "privacy.codes_not_shown".to_owned();
    r.record(name, suite.codes_not_shown()).await;
    let name = "privacy.phones_and_codes_not_logged".to_owned();
    r.record(name, suite.phones_and_codes_not_logged()).await;
    recorder.report
}

/// Runs the checks one by one into a report.
struct Recorder<'a> {
    report: Report,
    harness: &'a dyn Harness,
    /// How long one check may take.
    deadline: Duration,
}

impl Recorder<'_> {
    /// Runs one check and records its result: a panic fails the check, and so does running
    /// past the deadline. Whatever happened, the harness's faults are cleared afterwards
    /// ([`Harness::clear_faults`]), so none leaks into the next check; a failure to clear
    /// fails the check.
    async fn record(&mut self, name: String, check: impl Future<Output = Check>) {
        tracing::debug!(check = %name, "conformance check");
        let (mut status, mut detail) = match bounded(self.deadline, check).await {
            Ended::Done(Ok(note)) => (Status::Passed, note),
            Ended::Done(Err(Verdict::Skip(reason))) => (Status::Skipped, Some(reason)),
            Ended::Done(Err(Verdict::Fail(reason))) => (Status::Failed, Some(reason)),
            Ended::Panicked(message) => (Status::Failed, Some(format!("panicked: {message}"))),
            Ended::TimedOut(after) => (
                Status::Failed,
                Some(format!(
                    "timed out: the check did not finish within {after:?} (a verifier that \
                     retries without end, or waits for an answer that never comes, hangs its \
                     caller)"
                )),
            ),
        };
        let cleared = match bounded(self.deadline, self.harness.clear_faults()).await {
            Ended::Done(Ok(()) | Err(HarnessError::Unsupported(_))) => None,
            Ended::Done(Err(err)) => Some(err.to_string()),
            Ended::Panicked(message) => Some(format!("panicked: {message}")),
            Ended::TimedOut(after) => Some(format!("did not finish within {after:?}")),
        };
        if let Some(problem) = cleared {
            let problem = format!("clearing the harness's faults after the check: {problem}");
            detail = Some(match detail {
                Some(reason) if status != Status::Passed => format!("{reason}; then {problem}"),
                _ => problem,
            });
            status = Status::Failed;
        }
        self.report.push(CheckResult::new(name, status, detail));
    }
}

/// How a bounded piece of work ended.
enum Ended<T> {
    Done(T),
    Panicked(String),
    TimedOut(Duration),
}

/// Runs `work`, catching a panic, for at most `deadline` when a Tokio runtime is running.
async fn bounded<T>(deadline: Duration, work: impl Future<Output = T>) -> Ended<T> {
    let under_tokio = tokio::runtime::Handle::try_current().is_ok();
    // The timer is made inside the guarded future: a runtime without timers panics there,
    // and that panic is recorded like any other.
    let guarded = AssertUnwindSafe(async move {
        if under_tokio {
            tokio::time::timeout(deadline, work).await.ok()
        } else {
            Some(work.await)
        }
    })
    .catch_unwind();
    match guarded.await {
        Ok(Some(value)) => Ended::Done(value),
        Ok(None) => Ended::TimedOut(deadline),
        Err(panic) => Ended::Panicked(panic_message(&*panic)),
    }
}

/// The message a panic was raised with.
fn panic_message(panic: &(dyn Any + Send)) -> String {
    panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)")
        .to_owned()
}

/// The channel of the check `input.unsupported_channel_refused[x]`: the first of voice,
/// Telegram, flash call, e-mail, TOTP, SMS and WhatsApp that `caps` does not support, or
/// `Channel::Other("conformance-unsupported")` when it supports them all.
///
/// An [`Expected`](crate::Expected) list can name the check without writing the channel out:
///
/// ```
/// use phone_verify_core::{Capabilities, Channel};
/// use phone_verify_testkit::{Expected, unsupported_channel};
///
/// let caps = Capabilities::new().with_otp_channel(Channel::Sms);
/// assert_eq!(unsupported_channel(&caps), Channel::Voice);
/// let expected = Expected::new()
///     .check(format!("input.unsupported_channel_refused[{}]", unsupported_channel(&caps)));
/// assert_eq!(expected.names(), ["input.unsupported_channel_refused[voice]"]);
/// ```
pub fn unsupported_channel(caps: &Capabilities) -> Channel {
    [
        Channel::Voice,
        Channel::Telegram,
        Channel::FlashCall,
        Channel::Email,
        Channel::Totp,
        Channel::Sms,
        Channel::WhatsApp,
    ]
    .into_iter()
    .find(|c| !caps.supports(c))
    .unwrap_or_else(|| Channel::Other("conformance-unsupported".into()))
}

/// A one-line description of a check's result for failure messages.
fn describe(outcome: &phone_verify_core::Result<CheckOutcome>) -> String {
    match outcome {
        Ok(CheckOutcome::Verified(_)) => "verified".into(),
        Ok(CheckOutcome::Pending) => "pending".into(),
        Ok(CheckOutcome::Rejected(r)) => format!("rejected ({:?})", r.reason),
        Ok(other) => format!("{other:?}"),
        Err(err) => format!("error ({err})"),
    }
}

fn is_rejected(outcome: &phone_verify_core::Result<CheckOutcome>, reason: RejectReason) -> bool {
    matches!(outcome, Ok(CheckOutcome::Rejected(r)) if r.reason == reason)
}

/// A well-formed code of another length than `right`, all letters: the wrong shape for a
/// provider whose codes look like `right`.
fn malformed_like(right: &Code) -> Code {
    let shape = if right.expose().len() == Code::MAX_LEN {
        "ZZZZ"
    } else {
        "ZZZZZZZZZZ"
    };
    Code::new(shape).expect("a valid code")
}

/// The first words of a skip for want of request counts.
const UNCOUNTED: &str = "the harness cannot count requests";

/// The send requests made between two counts: in all, and to each provider when the counts
/// hold each provider's ([`RequestCounts::providers`]).
struct SendsSince {
    total: u64,
    by_provider: Vec<(ProviderId, u64)>,
}

impl SendsSince {
    /// A provider that received more than one send, and how many.
    fn repeated(&self) -> Option<(&ProviderId, u64)> {
        self.by_provider
            .iter()
            .find(|(_, n)| *n > 1)
            .map(|(provider, n)| (provider, *n))
    }
}

/// The send requests made from `before` to `after`, two counts of one harness (which gives
/// its providers' counts in the same order each time).
fn sends_since(before: &RequestCounts, after: &RequestCounts) -> SendsSince {
    let by_provider = after
        .providers
        .iter()
        .enumerate()
        .map(|(n, (provider, now))| {
            let then = before
                .providers
                .get(n)
                .filter(|(id, _)| id == provider)
                .map_or(0, |(_, then)| then.sends);
            (provider.clone(), now.sends.saturating_sub(then))
        })
        .collect();
    SendsSince {
        total: after.sends.saturating_sub(before.sends),
        by_provider,
    }
}

/// A session id of the same shape as `session` that is not it ([`shifted`]).
fn unknown_like(session: &SessionId) -> Option<SessionId> {
    shifted(session.as_str()).and_then(|id| SessionId::new(&id).ok())
}

/// An id of the same shape as `id` that is not it: digits move to the next digit (letters to
/// the next letter when there are no digits); `None` when nothing moves.
fn shifted(id: &str) -> Option<String> {
    let has_digits = id.bytes().any(|b| b.is_ascii_digit());
    let moved: String = id
        .chars()
        .map(|c| match c {
            '0'..='9' => char::from(b'0' + (c as u8 - b'0' + 1) % 10),
            'a'..='z' if !has_digits => char::from(b'a' + (c as u8 - b'a' + 1) % 26),
            'A'..='Z' if !has_digits => char::from(b'A' + (c as u8 - b'A' + 1) % 26),
            other => other,
        })
        .collect();
    (moved != id).then_some(moved)
}

struct Suite<'a> {
    verifier: &'a dyn PhoneVerifier,
    resolver: Option<&'a dyn SessionResolver>,
    harness: &'a dyn Harness,
    caps: Capabilities,
    provider: ProviderId,
    /// The providers a handle or resolved session may name ([`Harness::handle_providers`]).
    handle_providers: Vec<ProviderId>,
    /// How far the suite has moved the provider's clock, in all: the provider's time is the
    /// real time plus at most this.
    advanced: std::sync::Mutex<Duration>,
}

impl Suite<'_> {
    // ---- helpers ----

    /// Whether a handle or a resolved session may name `provider`.
    fn expects_provider(&self, provider: &ProviderId) -> bool {
        self.handle_providers.contains(provider)
    }

    /// The providers a handle may name, for failure messages.
    fn expected_providers(&self) -> String {
        let names: Vec<&str> = self
            .handle_providers
            .iter()
            .map(ProviderId::as_str)
            .collect();
        names.join(", ")
    }

    async fn phone(&self) -> Result<PhoneNumber, Verdict> {
        Ok(self.harness.fresh_phone().await?)
    }

    fn require_delivery(&self, channel: &Channel) -> Result<(), Verdict> {
        if self.harness.delivers_codes(channel) {
            Ok(())
        } else {
            Err(Verdict::Skip(format!(
                "the harness cannot read codes sent by {channel}"
            )))
        }
    }

    async fn start(&self, request: &StartRequest) -> Result<Verification, Verdict> {
        let handle = match self.verifier.start(request).await {
            Ok(handle) => handle,
            Err(err) => fail!("start on {} failed: {err}", request.channel),
        };
        ensure!(
            self.expects_provider(&handle.provider),
            "the handle names provider {}, but the verifier is {} and its handles may name only {}",
            handle.provider,
            self.provider,
            self.expected_providers()
        );
        ensure!(
            handle.channel == request.channel,
            "started on {} but the handle says {}",
            request.channel,
            handle.channel
        );
        Ok(handle)
    }

    async fn start_otp(&self, channel: &Channel) -> Result<(PhoneNumber, Verification), Verdict> {
        let phone = self.phone().await?;
        let handle = self
            .start(&StartRequest::otp(channel.clone(), phone.clone()))
            .await?;
        if let Some(on_handle) = &handle.phone {
            ensure!(
                on_handle == &phone,
                "the handle's phone {on_handle} is not the number the code was sent to, {phone}"
            );
        }
        Ok((phone, handle))
    }

    async fn start_reverse(&self, channel: &Channel) -> Result<Verification, Verdict> {
        let handle = self.start(&StartRequest::reverse(channel.clone())).await?;
        let shown = handle
            .reverse
            .as_ref()
            .is_some_and(|r| r.deeplink.is_some() || r.qr_code.is_some());
        ensure!(
            shown,
            "the reverse flow on {channel} has neither a deeplink nor a QR code to show the user"
        );
        Ok(handle)
    }

    async fn code_for(&self, handle: &Verification) -> Result<Code, Verdict> {
        match self.harness.delivered_code(handle).await? {
            Some(code) => Ok(code),
            None => fail!(
                "no code was delivered for the verification on {}",
                handle.channel
            ),
        }
    }

    async fn wrong_code_for(&self, handle: &Verification, right: &Code) -> Result<Code, Verdict> {
        let wrong = self.harness.wrong_code(handle).await?;
        ensure!(
            &wrong != right,
            "harness failure: its wrong code is the right one"
        );
        Ok(wrong)
    }

    /// The outcome must be `Verified` with `phone` on `channel`.
    fn expect_verified(
        &self,
        outcome: phone_verify_core::Result<CheckOutcome>,
        phone: &PhoneNumber,
        channel: &Channel,
    ) -> Result<Verified, Verdict> {
        let verified = match outcome {
            Ok(CheckOutcome::Verified(verified)) => verified,
            other => fail!("expected verified, got {}", describe(&other)),
        };
        match &verified.phone {
            Some(reported) => ensure!(
                reported == phone,
                "verified phone {reported}, expected {phone}"
            ),
            None => fail!(
                "verified without a phone: `Verified.phone` must be the phone the provider \
                 reported, or the number the code was sent to"
            ),
        }
        ensure!(
            &verified.channel == channel,
            "verified on channel {}, expected {channel}",
            verified.channel
        );
        if self.caps.check_returns_session {
            ensure!(
                verified.session_id.is_some(),
                "capabilities.check_returns_session is set, but the outcome has no session id"
            );
        }
        Ok(verified)
    }

    /// Runs `attempt`, which must fail with `InvalidInput` or `Unsupported` before any request.
    async fn refused<T: Debug>(
        &self,
        attempt: impl Future<Output = phone_verify_core::Result<T>>,
    ) -> Check {
        let kinds = [ErrorKind::InvalidInput, ErrorKind::Unsupported];
        self.refused_as(&kinds, attempt).await
    }

    /// Runs `attempt`, which must fail with an error of one of `kinds` before any request.
    async fn refused_as<T: Debug>(
        &self,
        kinds: &[ErrorKind],
        attempt: impl Future<Output = phone_verify_core::Result<T>>,
    ) -> Check {
        let before = self.harness.request_counts().await;
        let result = attempt.await;
        match &result {
            Ok(value) => fail!("accepted instead of refused: {value:?}"),
            Err(err) => ensure!(
                kinds.contains(&err.kind()),
                "expected an {} error, got {err}",
                kinds
                    .iter()
                    .map(|k| format!("{k:?}"))
                    .collect::<Vec<_>>()
                    .join(" or ")
            ),
        }
        self.no_requests_since(before).await
    }

    /// Passes if no request was made since `before`; skipped when the harness cannot count
    /// requests, since the refusal is then not proven request-free.
    async fn no_requests_since(&self, before: HarnessResult<RequestCounts>) -> Check {
        match before {
            Ok(before) => {
                let after = self.harness.request_counts().await?;
                let made = after.total.saturating_sub(before.total);
                ensure!(
                    made == 0,
                    "refused, but only after {made} request(s) to the provider: validate input first"
                );
                Ok(None)
            }
            Err(HarnessError::Unsupported(_)) => Err(Verdict::Skip(format!(
                "{UNCOUNTED}: refused as expected, but not proven request-free"
            ))),
            Err(err) => Err(err.into()),
        }
    }

    /// A verified outcome with its phone and handle, on the first channel the harness can
    /// complete.
    async fn verify_one(&self) -> Result<(PhoneNumber, Verification, Verified), Verdict> {
        let (phone, handle, outcome) = self.complete_one().await?;
        let verified = self.expect_verified(outcome, &phone, &handle.channel)?;
        Ok((phone, handle, verified))
    }

    /// Completes a verification on the first channel the harness can: the phone, the handle
    /// and the outcome of the check.
    async fn complete_one(
        &self,
    ) -> Result<
        (
            PhoneNumber,
            Verification,
            phone_verify_core::Result<CheckOutcome>,
        ),
        Verdict,
    > {
        let caps = &self.caps;
        if let Some(c) = caps
            .otp_channels
            .iter()
            .find(|c| self.harness.delivers_codes(c))
        {
            let (phone, handle) = self.start_otp(c).await?;
            let code = self.code_for(&handle).await?;
            let outcome = self.verifier.check_code(&handle, &code).await;
            return Ok((phone, handle, outcome));
        }
        if let Some(c) = caps.reverse_channels.first() {
            let handle = self.start_reverse(c).await?;
            let phone = self.phone().await?;
            self.harness.complete_reverse_flow(&handle, &phone).await?;
            let outcome = self.verifier.poll(&handle).await;
            return Ok((phone, handle, outcome));
        }
        Err(Verdict::Skip(
            "no channel on which the harness can complete a verification".into(),
        ))
    }

    // ---- input first ----

    async fn unsupported_channel_refused(&self, channel: &Channel) -> Check {
        let request = StartRequest::otp(channel.clone(), self.phone().await?);
        self.refused(self.verifier.start(&request)).await
    }

    async fn otp_without_phone_refused(&self, channel: &Channel) -> Check {
        let request = StartRequest::new(channel.clone(), None);
        self.refused(self.verifier.start(&request)).await
    }

    /// A phone on a channel that is only a reverse one here: a reverse flow would drop it (the
    /// user sends the message, from any number), so it must be refused, not started.
    async fn phone_on_reverse_only_refused(&self, channel: &Channel) -> Check {
        let request = StartRequest::otp(channel.clone(), self.phone().await?);
        self.refused_as(&[ErrorKind::InvalidInput], self.verifier.start(&request))
            .await
    }

    /// A QR code asked for with a phone: a code is sent, nothing is drawn.
    async fn qr_code_with_phone_refused(&self, channel: &Channel) -> Check {
        let request = StartRequest::otp(channel.clone(), self.phone().await?).qr_code(true);
        self.refused_as(&[ErrorKind::Unsupported], self.verifier.start(&request))
            .await
    }

    async fn otp_check_without_code_refused(&self, channel: &Channel) -> Check {
        let (_, handle) = self.start_otp(channel).await?;
        self.refused(self.verifier.check(&handle, &CheckRequest::poll()))
            .await
    }

    async fn foreign_handle_refused(&self, channel: &Channel) -> Check {
        let mut handle;
        let request = if self.caps.is_otp(channel) {
            handle = self.start_otp(channel).await?.1;
            let code = if self.harness.delivers_codes(channel) {
                self.code_for(&handle).await?
            } else {
                Code::new("123456").expect("a valid code")
            };
            CheckRequest::code(code)
        } else {
            handle = self.start_reverse(channel).await?;
            CheckRequest::poll()
        };
        let foreign = if self.provider.as_str() == "conformance-foreign" {
            "conformance-other"
        } else {
            "conformance-foreign"
        };
        handle.provider = ProviderId::new_static(foreign);
        self.refused(self.verifier.check(&handle, &request)).await
    }

    async fn qr_code_refused(&self, channel: &Channel) -> Check {
        let request = StartRequest::reverse(channel.clone()).qr_code(true);
        self.refused(self.verifier.start(&request)).await
    }

    // ---- OTP ----

    async fn right_code_verifies(&self, channel: &Channel) -> Check {
        self.require_delivery(channel)?;
        let (phone, handle) = self.start_otp(channel).await?;
        let code = self.code_for(&handle).await?;
        let outcome = self.verifier.check_code(&handle, &code).await;
        self.expect_verified(outcome, &phone, channel)?;
        Ok(None)
    }

    async fn wrong_code_rejected(&self, channel: &Channel) -> Check {
        self.require_delivery(channel)?;
        let (_, handle) = self.start_otp(channel).await?;
        let right = self.code_for(&handle).await?;
        let wrong = self.wrong_code_for(&handle, &right).await?;
        let outcome = self.verifier.check_code(&handle, &wrong).await;
        ensure!(
            is_rejected(&outcome, RejectReason::WrongCode),
            "a wrong code: expected rejected (WrongCode), got {}",
            describe(&outcome)
        );
        Ok(None)
    }

    async fn right_code_after_wrong_code(&self, channel: &Channel) -> Check {
        self.require_delivery(channel)?;
        let (phone, handle) = self.start_otp(channel).await?;
        let right = self.code_for(&handle).await?;
        let wrong = self.wrong_code_for(&handle, &right).await?;
        let outcome = self.verifier.check_code(&handle, &wrong).await;
        ensure!(
            is_rejected(&outcome, RejectReason::WrongCode),
            "a wrong code first: expected rejected (WrongCode), got {}",
            describe(&outcome)
        );
        let outcome = self.verifier.check_code(&handle, &right).await;
        self.expect_verified(outcome, &phone, channel)
            .map_err(|v| match v {
                Verdict::Fail(reason) => Verdict::Fail(format!(
                    "the right code after a wrong one: {reason} (WrongCode promises that \
                     another attempt may succeed)"
                )),
                other @ Verdict::Skip(_) => other,
            })?;
        Ok(None)
    }

    async fn code_single_use(&self, channel: &Channel) -> Check {
        self.require_delivery(channel)?;
        let (phone, handle) = self.start_otp(channel).await?;
        let right = self.code_for(&handle).await?;
        let outcome = self.verifier.check_code(&handle, &right).await;
        self.expect_verified(outcome, &phone, channel)?;
        let again = self.verifier.check_code(&handle, &right).await;
        ensure!(
            matches!(again, Ok(CheckOutcome::Rejected(_))),
            "the same right code a second time: expected it rejected (used up; a used-up code \
             is an outcome, Ok(Rejected(..)), not an error: contract rule 3), got {}",
            describe(&again)
        );
        Ok(None)
    }

    async fn malformed_code(&self, channel: &Channel) -> Check {
        self.require_delivery(channel)?;
        let (phone, handle) = self.start_otp(channel).await?;
        let right = self.code_for(&handle).await?;
        let malformed = malformed_like(&right);
        let shape = malformed.expose();
        let before = self.harness.request_counts().await;
        let outcome = self.verifier.check_code(&handle, &malformed).await;
        // Without request counts, a refusal is not proven request-free: the check is skipped,
        // but only once the right code verified (which can fail it all the same).
        let (note, unproven) = match &outcome {
            Err(err) if err.kind() == ErrorKind::InvalidInput => {
                match self.no_requests_since(before).await {
                    Ok(note) => (note, None),
                    Err(Verdict::Skip(reason)) => (None, Some(reason)),
                    Err(fail) => return Err(fail),
                }
            }
            Ok(CheckOutcome::Rejected(r)) if r.reason == RejectReason::WrongCode => {
                (Some("the provider took it as a wrong code".into()), None)
            }
            other => fail!(
                "code {shape:?}: expected an InvalidInput error before any request, or rejected \
                 (WrongCode); got {}",
                describe(other)
            ),
        };
        let outcome = self.verifier.check_code(&handle, &right).await;
        self.expect_verified(outcome, &phone, channel)
            .map_err(|v| match v {
                Verdict::Fail(reason) => {
                    Verdict::Fail(format!("the right code after a malformed one: {reason}"))
                }
                other @ Verdict::Skip(_) => other,
            })?;
        match unproven {
            Some(reason) => Err(Verdict::Skip(reason)),
            None => Ok(note),
        }
    }

    /// A handle of a verification never started (a real reference with its digits, or
    /// letters, moved on, for a fresh phone: some providers check a code by phone), checked
    /// with a well-formed code: "no such pending verification" is an outcome,
    /// `Rejected(NotFound)` (contract rule 3), unless the verifier refuses the reference
    /// before any request.
    async fn unknown_reference_rejected(&self, channel: &Channel) -> Check {
        self.require_delivery(channel)?;
        let (_, handle) = self.start_otp(channel).await?;
        let code = self.code_for(&handle).await?;
        let Some(reference) = shifted(&handle.reference) else {
            return Err(Verdict::Skip(
                "the reference has no letter or digit to derive an unknown one from".into(),
            ));
        };
        let mut unknown = handle.clone();
        unknown.reference = reference;
        if unknown.phone.is_some() {
            unknown.phone = Some(self.phone().await?);
        }
        let before = self.harness.request_counts().await;
        let outcome = self.verifier.check_code(&unknown, &code).await;
        match &outcome {
            _ if is_rejected(&outcome, RejectReason::NotFound) => Ok(None),
            Err(err) if err.kind() == ErrorKind::InvalidInput => {
                self.no_requests_since(before).await
            }
            Err(err) if err.kind() == ErrorKind::NotFound => fail!(
                "a well-formed reference of no verification: expected Ok(Rejected(NotFound)) \
                 (contract rule 3: no such pending verification is an outcome, not an error), \
                 got the error {err}"
            ),
            other => fail!(
                "a well-formed reference of no verification, checked with a well-formed code: \
                 expected rejected (NotFound), or an InvalidInput error before any request; \
                 got {}",
                describe(other)
            ),
        }
    }

    async fn otp_json_round_trip(&self, channel: &Channel) -> Check {
        self.require_delivery(channel)?;
        let (phone, handle) = self.start_otp(channel).await?;
        let code = self.code_for(&handle).await?;
        let parsed = round_trip(&handle)?;
        let outcome = self.verifier.check_code(&parsed, &code).await;
        self.expect_verified(outcome, &phone, channel)?;
        Ok(None)
    }

    /// The harness's [fresh verifier](Harness::fresh_verifier): another instance than the
    /// verifier under test, for the same provider.
    async fn fresh_verifier(&self) -> Result<Arc<dyn PhoneVerifier>, Verdict> {
        let fresh = self.harness.fresh_verifier().await?;
        ensure!(
            fresh.provider() == self.provider,
            "harness failure: the fresh verifier is for provider {}",
            fresh.provider()
        );
        // Compared by data pointer (the vtables of one type may differ). A verifier of no
        // size holds no state it could share, and two of them may have one address.
        let same = std::ptr::addr_eq(Arc::as_ptr(&fresh), std::ptr::from_ref(self.verifier));
        ensure!(
            !same || size_of_val(self.verifier) == 0,
            "harness failure: the fresh verifier is the verifier under test itself, so the \
             check cannot show that a handle works in another client; build a new one"
        );
        Ok(fresh)
    }

    async fn otp_in_fresh_client(&self, channel: &Channel) -> Check {
        self.require_delivery(channel)?;
        let fresh = self.fresh_verifier().await?;
        let (phone, handle) = self.start_otp(channel).await?;
        let code = self.code_for(&handle).await?;
        let parsed = round_trip(&handle)?;
        let outcome = fresh.check_code(&parsed, &code).await;
        self.expect_verified(outcome, &phone, channel)?;
        Ok(None)
    }

    // ---- reverse flows ----

    async fn reverse_pending_then_verified(&self, channel: &Channel) -> Check {
        let handle = self.start_reverse(channel).await?;
        self.pending_then_verified(self.verifier, &handle).await
    }

    /// Polls `handle` with `verifier`: pending, then verified once the harness completes it.
    async fn pending_then_verified(
        &self,
        verifier: &dyn PhoneVerifier,
        handle: &Verification,
    ) -> Check {
        let outcome = verifier.poll(handle).await;
        ensure!(
            outcome.as_ref().is_ok_and(CheckOutcome::is_pending),
            "before the user sent the message: expected pending, got {}",
            describe(&outcome)
        );
        let phone = self.phone().await?;
        self.harness.complete_reverse_flow(handle, &phone).await?;
        let outcome = verifier.poll(handle).await;
        self.expect_verified(outcome, &phone, &handle.channel)?;
        Ok(None)
    }

    async fn reverse_qr_code(&self, channel: &Channel) -> Check {
        let request = StartRequest::reverse(channel.clone()).qr_code(true);
        let handle = self.start(&request).await?;
        ensure!(
            handle.reverse.is_some_and(|r| r.qr_code.is_some()),
            "asked for a QR code, but the handle has none"
        );
        Ok(None)
    }

    async fn reverse_json_round_trip(&self, channel: &Channel) -> Check {
        let handle = self.start_reverse(channel).await?;
        let parsed = round_trip(&handle)?;
        self.pending_then_verified(self.verifier, &parsed).await
    }

    async fn reverse_in_fresh_client(&self, channel: &Channel) -> Check {
        let fresh = self.fresh_verifier().await?;
        let handle = self.start_reverse(channel).await?;
        let parsed = round_trip(&handle)?;
        self.pending_then_verified(&*fresh, &parsed).await
    }

    // ---- sends ----

    async fn send_exactly_once(&self, channel: &Channel) -> Check {
        let before = self.harness.request_counts().await?;
        self.start_otp(channel).await?;
        let after = self.harness.request_counts().await?;
        let sends = after.sends.saturating_sub(before.sends);
        ensure!(
            sends == 1,
            "starting one verification made {sends} send requests, expected exactly 1"
        );
        Ok(None)
    }

    async fn send_not_retried(&self, channel: &Channel, fault: SendFault) -> Check {
        let phone = self.phone().await?;
        self.harness.inject_send_fault(fault).await?;
        let before = self.harness.request_counts().await;
        let result = self
            .verifier
            .start(&StartRequest::otp(channel.clone(), phone))
            .await;
        self.clear_faults_after_call().await?;
        let sends = match before {
            Ok(before) => {
                let after = self.harness.request_counts().await?;
                Some(sends_since(&before, &after))
            }
            Err(HarnessError::Unsupported(_)) => None,
            Err(err) => return Err(err.into()),
        };
        match &sends {
            // Refused before processing, nothing went out: a verifier over several providers
            // (a router) may rightly try the next, each once.
            Some(sends)
                if fault == SendFault::ServiceUnavailable && !sends.by_provider.is_empty() =>
            {
                if let Some((provider, n)) = sends.repeated() {
                    fail!(
                        "provider {provider} received {n} send requests, expected at most 1: a \
                         failed send must never be retried (a send refused before processing \
                         may go to another provider, once)"
                    );
                }
                ensure!(
                    sends.total >= 1,
                    "no provider received a send request, expected at least 1"
                );
            }
            Some(sends) => ensure!(
                sends.total == 1,
                "the provider received {} send requests, expected exactly 1: a failed send must \
                 never be retried",
                sends.total
            ),
            None => {}
        }
        match (result, fault) {
            (Ok(_), _) => fail!(
                "start succeeded although its send failed (was the injected fault consumed by \
                 something else?)"
            ),
            // The connection dropped after the request left: the code may be on its way, and
            // only `MaybeSent` keeps a router from sending a second one.
            (Err(err), SendFault::ConnectionReset) => ensure!(
                err.kind() == ErrorKind::MaybeSent,
                "expected a MaybeSent error (the request had left), got {err}"
            ),
            (Err(err), SendFault::ServiceUnavailableWithoutRetryAfter) => ensure!(
                err.kind() == ErrorKind::MaybeSent,
                "expected a MaybeSent error (a 503 without Retry-After may come from a proxy \
                 that forwarded the send, so a message may have gone out; any other error \
                 tells the caller that nothing went out, and a router would send again), got \
                 {err}"
            ),
            (
                Err(err),
                SendFault::InternalServerError | SendFault::BadGateway | SendFault::GatewayTimeout,
            ) => ensure!(
                err.kind() == ErrorKind::MaybeSent,
                "expected a MaybeSent error for a send answered {}: a server error may come \
                 after the provider or a proxy took the send, so a message may have gone out \
                 (only a 503 with Retry-After is a refusal before processing; any other error \
                 tells the caller that nothing went out, and a router would send again), got \
                 {err}",
                fault.status().unwrap_or_default()
            ),
            // Refused before processing: nothing was sent.
            (Err(err), SendFault::ServiceUnavailable) => ensure!(
                err.kind() == ErrorKind::ProviderUnavailable,
                "expected a ProviderUnavailable error (a 503 with Retry-After is refused before \
                 processing: nothing went out), got {err}"
            ),
            (Err(err), SendFault::CredentialsEchoed) => ensure!(
                err.kind() == ErrorKind::Unauthorized,
                "expected an Unauthorized error, got {err}"
            ),
        }
        match sends {
            Some(_) => Ok(None),
            None => Err(Verdict::Skip(format!(
                "{UNCOUNTED}: the send failed as expected, but not proven sent exactly once"
            ))),
        }
    }

    // ---- sessions ----

    /// The resolver [`run`] got; without one the session checks are skipped.
    fn require_resolver(&self) -> Result<&dyn SessionResolver, Verdict> {
        self.resolver.ok_or_else(|| {
            Verdict::Skip(
                "capabilities.session_resolution is set, but run() got no SessionResolver".into(),
            )
        })
    }

    /// Fails unless a session resolved to `phone`, with a provider the harness names.
    fn expect_resolved(
        &self,
        found: phone_verify_core::Result<ResolvedSession>,
        phone: &PhoneNumber,
    ) -> Result<(), Verdict> {
        let found = match found {
            Ok(found) => found,
            Err(err) => fail!("resolving the session of a verification failed: {err}"),
        };
        ensure!(
            &found.phone == phone,
            "the session resolved to {}, but {phone} was verified",
            found.phone
        );
        ensure!(
            self.expects_provider(&found.provider),
            "the session resolved with provider {}, expected one of {}",
            found.provider,
            self.expected_providers()
        );
        Ok(())
    }

    async fn session_resolves_verified_phone(&self) -> Check {
        let resolver = self.require_resolver()?;
        ensure!(
            resolver.provider() == self.provider,
            "the resolver is for provider {}, the verifier for {}",
            resolver.provider(),
            self.provider
        );
        let (phone, _, session) = self.verified_session().await?;
        let found = resolver.resolve(&session, &RequestContext::default()).await;
        self.expect_resolved(found, &phone)?;
        Ok(None)
    }

    /// A verification completed on the first channel the harness can, with the session id
    /// its check returned: the phone, the handle and the session.
    async fn verified_session(&self) -> Result<(PhoneNumber, Verification, SessionId), Verdict> {
        let (phone, handle, verified) = self.verify_one().await?;
        let Some(session) = verified.session_id else {
            return Err(Verdict::Skip(
                "checks return no session id, so the suite has no session to resolve".into(),
            ));
        };
        Ok((phone, handle, session))
    }

    async fn session_unknown_is_not_found(&self) -> Check {
        let resolver = self.require_resolver()?;
        // Derive a well-formed id from a real one when possible: providers refuse ids of the
        // wrong shape as InvalidInput before asking.
        let real = match self.complete_one().await {
            Ok((_, _, Ok(CheckOutcome::Verified(verified)))) => verified.session_id,
            _ => None,
        };
        let derived = real.as_ref().and_then(unknown_like);
        let unknown = derived.clone().unwrap_or_else(|| {
            SessionId::new("conformanceUnknownSession0000").expect("a valid session id")
        });
        match resolver.resolve(&unknown, &RequestContext::default()).await {
            Err(err) if err.kind() == ErrorKind::NotFound => Ok(None),
            Err(err) if err.kind() == ErrorKind::InvalidInput && derived.is_none() => {
                Err(Verdict::Skip(format!(
                    "no real session id to derive a well-formed unknown one from, and the \
                     generic one was refused: {err}"
                )))
            }
            Ok(found) => fail!("an unknown session resolved to {}", found.phone),
            Err(err) => fail!("an unknown session: expected a NotFound error, got {err}"),
        }
    }
}

/// The handle after a JSON round trip, which must not change it.
fn round_trip(handle: &Verification) -> Result<Verification, Verdict> {
    let parsed = handle
        .to_json()
        .and_then(|json| Verification::from_json(&json));
    match parsed {
        Ok(parsed) if &parsed == handle => Ok(parsed),
        Ok(parsed) => {
            fail!("the handle changed in a JSON round trip: before {handle:?}, after {parsed:?}")
        }
        Err(err) => fail!("the handle does not survive a JSON round trip: {err}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_sessions_keep_their_shape() {
        let real = SessionId::new("ses_09af").unwrap();
        assert_eq!(unknown_like(&real).unwrap().as_str(), "ses_10af");
        let letters = SessionId::new("abZ-z").unwrap();
        assert_eq!(unknown_like(&letters).unwrap().as_str(), "bcA-a");
        assert!(unknown_like(&SessionId::new("---").unwrap()).is_none());
    }

    #[test]
    fn picks_an_unsupported_channel() {
        let caps = Capabilities::new()
            .with_otp_channel(Channel::Voice)
            .with_reverse_channel(Channel::Telegram);
        assert_eq!(unsupported_channel(&caps), Channel::FlashCall);
        let everything = [
            Channel::Sms,
            Channel::WhatsApp,
            Channel::Telegram,
            Channel::Voice,
            Channel::FlashCall,
            Channel::Totp,
            Channel::Email,
        ]
        .into_iter()
        .fold(Capabilities::new(), Capabilities::with_otp_channel);
        assert!(matches!(
            unsupported_channel(&everything),
            Channel::Other(_)
        ));
    }
}
