//! [`Twilio`]: the [`PhoneVerifier`] of Twilio Verify v2.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use phone_verify_core::http::Clock;
use phone_verify_core::kit::TimeBudget;
use phone_verify_core::{
    Capabilities, Channel, CheckOutcome, CheckRequest, Error, ErrorKind, Language, PhoneNumber,
    PhoneVerifier, ProviderId, RejectReason, Rejection, Result, StartRequest, Verification,
    Verified,
};
use secrecy::SecretString;
use time::OffsetDateTime;

use crate::attempts::{Attempt, ListAttempts};
use crate::client::TwilioClient;
use crate::config::{PROVIDER, TwilioBuilder, TwilioSetting, check_sid};
use crate::errors;
use crate::wire::{self, CheckTarget, CreateVerification, TwilioChannel, VerificationStatus};

/// How long a Twilio verification can be checked: 10 minutes from its creation.
pub const VERIFICATION_LIFETIME: Duration = Duration::from_secs(600);

/// The handle extra holding the Verify service SID the verification was started in.
pub const EXTRA_SERVICE_SID: &str = "service_sid";

/// Twilio Verify v2 as a [`PhoneVerifier`]: SMS, WhatsApp and voice-call codes.
///
/// - The handle's reference is the verification SID (`VE…`), its `extras.service_sid` the
///   service, its `expires_at` 10 minutes after Twilio created it; any process with the
///   account's credentials checks it.
/// - The request's language becomes `Locale` in Twilio's shape, a language and at most a
///   region (`en`, `pt-BR`, `es-419`), a script left out (`zh-Hant-HK` → `zh-HK`); a tag
///   with other subtags (an extension, a variant: `zh-cmn-Hans-CN`, `de-CH-1996`) goes as its
///   primary language subtag (`zh`, `de`) rather than failing the start. The end user's IP
///   becomes `DeviceIp`.
/// - A wrong code (`status: pending`) is `Rejected(WrongCode)`; `max_attempts_reached` and
///   `60202` are `Rejected(TooManyAttempts)`; `20404` is `Rejected(Expired)` past the handle's
///   expiry and `Rejected(NotFound)` before (approved, canceled or unknown).
/// - A check whose answer was lost is read back once from the Verification Attempts API: an
///   attempt of the verification listed `converted` makes it `Verified`. Otherwise it is
///   `OutcomeUnknown`: Twilio counted the attempt, so the check is not repeated. If the code
///   was right, Twilio has deleted the verification: checking the handle again is
///   `Rejected(NotFound)` (already used). Start a new verification instead.
/// - Rejections and the errors a 2xx answer stands for carry Twilio's `Twilio-Request-Id`.
#[derive(Clone, Debug)]
pub struct Twilio {
    client: TwilioClient,
    service_sid: String,
    /// What `check` tells expiry by, and what dates Twilio's answers leave out are taken from:
    /// the HTTP settings' clock
    /// ([`HttpConfig::with_clock`](phone_verify_core::http::HttpConfig::with_clock)).
    clock: Arc<dyn Clock>,
}

impl TwilioBuilder {
    /// A [`Twilio`] verifier; the Verify service SID is required.
    pub fn build(&self) -> Result<Twilio> {
        let client = self.build_client()?;
        let service_sid = client.service_sid().map(str::to_owned).ok_or_else(|| {
            Error::invalid_input(format!(
                "twilio: no Verify service: set it with TwilioBuilder::service_sid or {}",
                TwilioSetting::ServiceSid.name()
            ))
            .with_provider(PROVIDER)
        })?;
        Ok(Twilio::from_parts(client, service_sid))
    }
}

impl Twilio {
    /// A verifier starting verifications in the Verify service `service_sid` (`VA` followed
    /// by 32 hex digits; it need not be the client's configured one). Fails with
    /// [`ErrorKind::InvalidInput`] if the service SID is malformed.
    pub fn new(client: TwilioClient, service_sid: &str) -> Result<Self> {
        let service_sid = service_sid.trim();
        check_sid(service_sid, "VA", TwilioSetting::ServiceSid.meaning())?;
        Ok(Self::from_parts(client, service_sid.to_owned()))
    }

    fn from_parts(client: TwilioClient, service_sid: String) -> Self {
        let clock = Arc::clone(client.clock());
        Self {
            client,
            service_sid,
            clock,
        }
    }

    /// A builder for Twilio with the Account SID and its auth token (an API key:
    /// [`TwilioBuilder::api_key`]).
    pub fn builder(
        account_sid: impl Into<SecretString>,
        auth_token: impl Into<SecretString>,
    ) -> TwilioBuilder {
        TwilioBuilder::new(account_sid, auth_token)
    }

    /// A verifier configured from the environment (see [`TwilioBuilder::from_lookup`]).
    pub fn from_env() -> Result<Self> {
        TwilioBuilder::from_env()?.build()
    }

    /// The typed client underneath, for the endpoints the trait does not cover.
    pub fn client(&self) -> &TwilioClient {
        &self.client
    }

    /// The Verify service verifications start in.
    pub fn service_sid(&self) -> &str {
        &self.service_sid
    }
}

/// Twilio's channel for a core channel the verifier supports.
fn twilio_channel(channel: &Channel) -> Option<TwilioChannel> {
    match channel {
        Channel::Sms => Some(TwilioChannel::Sms),
        Channel::WhatsApp => Some(TwilioChannel::Whatsapp),
        Channel::Voice => Some(TwilioChannel::Call),
        _ => None,
    }
}

/// The `Locale` Twilio takes for `language`: the tag itself when it is a language (2 or 3
/// letters) with at most a region (2 letters, upper-cased as Twilio writes them, or 3 digits),
/// a script between them left out (`zh-Hant-HK` → `zh-HK`), else its primary subtag. Twilio's
/// locales have that shape (`en`, `pt-BR`, `zh-HK`), and core's [`Language`] accepts longer
/// tags, which the typed client's stricter `Locale` check would refuse.
fn twilio_locale(language: &Language) -> String {
    let primary = language.primary();
    let mut subtags = language.as_str().split('-').skip(1).peekable();
    // A script (4 letters) right after the language is skipped: Twilio's locales name none.
    let _script = subtags
        .next_if(|script| script.len() == 4 && script.bytes().all(|b| b.is_ascii_alphabetic()));
    match (subtags.next(), subtags.next()) {
        (Some(region), None)
            if region.len() == 2 && region.bytes().all(|b| b.is_ascii_alphabetic()) =>
        {
            format!("{primary}-{}", region.to_ascii_uppercase())
        }
        (Some(region), None) if region.len() == 3 && region.bytes().all(|b| b.is_ascii_digit()) => {
            format!("{primary}-{region}")
        }
        _ => primary.to_owned(),
    }
}

/// The error for a check answer that cannot be right: Twilio took the check, so what it did
/// with the code is unknown. `request_id` is the answer's `Twilio-Request-Id`.
fn contradiction(what: &str, request_id: Option<&str>) -> Error {
    let error = Error::new(
        ErrorKind::OutcomeUnknown,
        format!(
            "twilio: check-verification answered {what}; the code may have been used, start a \
             new verification"
        ),
    )
    .with_provider(PROVIDER);
    match request_id {
        Some(id) => error.with_request_id(id),
        None => error,
    }
}

#[async_trait]
impl PhoneVerifier for Twilio {
    fn provider(&self) -> ProviderId {
        PROVIDER
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::new()
            .with_otp_channel(Channel::Sms)
            .with_otp_channel(Channel::WhatsApp)
            .with_otp_channel(Channel::Voice)
            .with_localized_messages(true)
    }

    async fn start(&self, request: &StartRequest) -> Result<Verification> {
        request
            .validate(&self.capabilities())
            .map_err(|e| e.with_provider(PROVIDER))?;
        let (Some(phone), Some(channel)) = (&request.phone, twilio_channel(&request.channel))
        else {
            return Err(
                Error::invalid_input("twilio: a phone number is required").with_provider(PROVIDER)
            );
        };
        let mut create = CreateVerification::new(phone.e164(), channel);
        create.locale = request.language.as_ref().map(twilio_locale);
        create.device_ip = request.context.end_user_ip;
        let (started, request_id) = self
            .client
            .create_verification_with_request_id(&self.service_sid, &create)
            .await?;
        started_handle(
            started,
            request_id.as_deref(),
            phone,
            &request.channel,
            &self.service_sid,
            &*self.clock,
        )
    }

    async fn check(
        &self,
        verification: &Verification,
        request: &CheckRequest,
    ) -> Result<CheckOutcome> {
        verification.ensure_provider(&PROVIDER)?;
        let code = request.require_code()?;
        let service = verification
            .extra_str(EXTRA_SERVICE_SID)
            .unwrap_or(&self.service_sid);
        let target = CheckTarget::VerificationSid(verification.reference.clone());
        let started = Instant::now();
        let checked = self
            .client
            .check_verification_with_request_id(service, code, &target)
            .await;
        let outcome = match checked {
            Ok((answer, request_id)) => {
                if answer
                    .sid
                    .as_deref()
                    .is_some_and(|sid| sid != verification.reference)
                {
                    Err(contradiction(
                        "for another verification",
                        request_id.as_deref(),
                    ))
                } else {
                    outcome(verification, &answer, request_id.as_deref(), &*self.clock)
                }
            }
            Err(error) => {
                let expired = verification.is_expired_at(OffsetDateTime::from(self.clock.now()));
                match errors::check_rejection(&error, expired) {
                    Some(rejection) => Ok(CheckOutcome::Rejected(rejection)),
                    None => Err(error),
                }
            }
        };
        match outcome {
            // Boxed: the read-back's future is made only when an answer was lost, and the
            // check's own future stays the size it was.
            Err(lost) if lost.kind() == ErrorKind::OutcomeUnknown => {
                Box::pin(self.read_back(verification, lost, started)).await
            }
            known => known,
        }
    }
}

/// How much earlier than the lost check Twilio's clock may date the attempt's last update, as
/// clocks disagree: an update older than that was an earlier check's.
const CLOCK_SKEW: Duration = Duration::from_secs(120);

impl Twilio {
    /// The outcome of a check of `verification`, sent at `started`, whose answer was `lost`
    /// (an [`ErrorKind::OutcomeUnknown`] error): `Verified` when the Verification Attempts API
    /// lists an attempt of the verification, sent to the handle's number, as `converted`, last
    /// updated no earlier than the check was sent (less [`CLOCK_SKEW`]), else `lost` as it is.
    ///
    /// Twilio deletes an approved verification, so its attempts are what is left to read. The
    /// time bound keeps an approval by an earlier check of the same handle from passing for
    /// this one's (a check of an approved verification is answered `20404` whatever its code);
    /// an earlier approval updated within the skew still would, for a check with any code. A
    /// read that fails, an attempt of another verification or another number, or a conversion
    /// Twilio has not recorded yet leave `lost`. One read, retried as reads are but within
    /// what is left of the overall timeout ([`TimeBudget`]: at least a second); never a second
    /// check. `verified_at` is when the read-back learned it: Twilio's `date_updated` of an
    /// attempt also moves with its delivery status and price.
    async fn read_back(
        &self,
        verification: &Verification,
        lost: Error,
        started: Instant,
    ) -> Result<CheckOutcome> {
        let budget = TimeBudget::after(started, &self.client.timeouts(), &*self.clock);
        let filter = ListAttempts::of_verification(verification.reference.clone());
        let Some(Ok(page)) = budget.within(self.client.list_attempts(&filter)).await else {
            return Err(lost);
        };
        let now = OffsetDateTime::from(self.clock.now());
        let earliest = started.elapsed().saturating_add(CLOCK_SKEW);
        let Some(sent_at) = time::Duration::try_from(earliest)
            .ok()
            .and_then(|back| now.checked_sub(back))
        else {
            return Err(lost);
        };
        let ours = |attempt: &&Attempt| {
            attempt.verification_sid.as_deref() == Some(verification.reference.as_str())
        };
        // An attempt of the verification sent elsewhere than the handle's number is not a
        // proof of it.
        let elsewhere = |attempt: &Attempt| match (attempt.to(), &verification.phone) {
            (Some(to), Some(phone)) => to != phone.e164(),
            _ => false,
        };
        if page.attempts.iter().filter(ours).any(elsewhere) {
            return Err(lost);
        }
        let approved_now = |attempt: &Attempt| {
            attempt.is_converted() && attempt.date_updated.is_some_and(|at| at >= sent_at)
        };
        if page.attempts.iter().filter(ours).any(approved_now) {
            Ok(CheckOutcome::Verified(
                Verified::new(verification.channel.clone())
                    .with_phone(verification.phone.clone())
                    .with_verified_at(Some(now)),
            ))
        } else {
            Err(lost)
        }
    }
}

/// The handle of a verification Twilio `started` (in an answer whose `Twilio-Request-Id` was
/// `request_id`) for `phone` on `channel` in service `service_sid`: its SID, created when
/// Twilio says (when `clock` says if Twilio does not), expiring 10 minutes later.
pub(crate) fn started_handle(
    started: wire::Verification,
    request_id: Option<&str>,
    phone: &PhoneNumber,
    channel: &Channel,
    service_sid: &str,
    clock: &dyn Clock,
) -> Result<Verification> {
    // The SID goes into later URLs: an answer without a well-formed one cannot be checked.
    // Twilio took the request, so the code may be on its way.
    check_sid(&started.sid, "VE", "a verification SID").map_err(|_| {
        let error = Error::new(
            ErrorKind::MaybeSent,
            "twilio: create-verification answered without a well-formed verification SID; the \
             code may have been sent",
        )
        .with_provider(PROVIDER);
        match request_id {
            Some(id) => error.with_request_id(id),
            None => error,
        }
    })?;
    let created = started
        .date_created
        .unwrap_or_else(|| OffsetDateTime::from(clock.now()));
    Ok(Verification::new(PROVIDER, started.sid, channel.clone())
        .with_phone(phone.clone())
        .with_created_at(created)
        .with_expires_in(VERIFICATION_LIFETIME)
        .with_extra(EXTRA_SERVICE_SID, service_sid.to_owned()))
}

/// The number Twilio reports, parsed only when it is not the handle's own (the usual answer,
/// which then costs no parse); the handle's if Twilio reports none or an unreadable one.
fn reported_phone(verification: &Verification, to: Option<&str>) -> Option<PhoneNumber> {
    match (to, &verification.phone) {
        (Some(to), Some(phone)) if to == phone.e164() => Some(phone.clone()),
        (Some(to), _) => to
            .parse::<PhoneNumber>()
            .ok()
            .or_else(|| verification.phone.clone()),
        (None, _) => verification.phone.clone(),
    }
}

/// The outcome of a check Twilio answered with `answer`, whose `Twilio-Request-Id` was
/// `request_id` (kept in rejections and errors). `verified_at` is Twilio's `date_updated`, or
/// `clock`'s time when the answer has none.
pub(crate) fn outcome(
    verification: &Verification,
    answer: &wire::VerificationCheck,
    request_id: Option<&str>,
    clock: &dyn Clock,
) -> Result<CheckOutcome> {
    let rejection = |rejection: Rejection| {
        Ok(CheckOutcome::Rejected(match request_id {
            Some(id) => rejection.with_request_id(id),
            None => rejection,
        }))
    };
    let rejected = |reason: RejectReason, status: &str| {
        rejection(
            Rejection::new(reason)
                .with_provider_code(status)
                .with_message(format!("the verification is {status}")),
        )
    };
    let contradiction = |what: &str| Err(contradiction(what, request_id));
    // `valid` is Twilio's legacy flag: nullable, like `status`. Each tells when the other is
    // missing; when both are there they must agree.
    match (&answer.status, answer.valid) {
        (Some(VerificationStatus::Approved), Some(true) | None) | (None, Some(true)) => {
            Ok(CheckOutcome::Verified(
                Verified::new(verification.channel.clone())
                    // The number as Twilio reports it; the handle's if the answer has none.
                    .with_phone(reported_phone(verification, answer.to.as_deref()))
                    .with_verified_at(Some(
                        answer
                            .date_updated
                            .unwrap_or_else(|| OffsetDateTime::from(clock.now())),
                    )),
            ))
        }
        (Some(VerificationStatus::Approved), Some(false)) => {
            contradiction("status approved with valid: false")
        }
        (Some(status), Some(true)) => {
            contradiction(&format!("status {} with valid: true", status_shown(status)))
        }
        // No status and not valid: a wrong code, or a verification gone? Twilio took the
        // check, so the code may have been used: never a rejection.
        (None, Some(false) | None) => contradiction("neither a status nor valid: true"),
        // From here on `valid` is false or missing.
        (Some(VerificationStatus::Pending), _) => rejection(
            Rejection::new(RejectReason::WrongCode)
                .with_provider_code("pending")
                .with_message("the code is not correct"),
        ),
        (Some(VerificationStatus::MaxAttemptsReached), _) => {
            rejected(RejectReason::TooManyAttempts, "max_attempts_reached")
        }
        (Some(VerificationStatus::Expired), _) => rejected(RejectReason::Expired, "expired"),
        (Some(VerificationStatus::Canceled), _) => rejected(RejectReason::NotFound, "canceled"),
        (Some(VerificationStatus::Deleted), _) => rejected(RejectReason::NotFound, "deleted"),
        (Some(VerificationStatus::Failed), _) => rejected(RejectReason::NotFound, "failed"),
        (Some(status @ VerificationStatus::Other(_)), _) => {
            contradiction(&format!("the undocumented status {}", status_shown(status)))
        }
    }
}

/// The longest undocumented status an error shows.
const MAX_STATUS_SHOWN: usize = 32;

/// `status` as an error names it: a documented one by its wire name; an undocumented one
/// quoted only if it reads as a status name (at most [`MAX_STATUS_SHOWN`] lowercase ASCII
/// letters and underscores), else by its length alone. Anything else Twilio put there may be a
/// credential it echoed (an auth token is 32 hex digits), which the verifier holds none of to
/// scrub, or a phone number: only a name is shown.
fn status_shown(status: &VerificationStatus) -> Cow<'static, str> {
    Cow::Borrowed(match status {
        VerificationStatus::Pending => "pending",
        VerificationStatus::Approved => "approved",
        VerificationStatus::Canceled => "canceled",
        VerificationStatus::MaxAttemptsReached => "max_attempts_reached",
        VerificationStatus::Expired => "expired",
        VerificationStatus::Failed => "failed",
        VerificationStatus::Deleted => "deleted",
        VerificationStatus::Other(other) => {
            let name = other.len() <= MAX_STATUS_SHOWN
                && other.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
            return Cow::Owned(if name {
                format!("{other:?}")
            } else {
                format!(
                    "(not a status name, {} characters, not shown)",
                    other.chars().count()
                )
            });
        }
    })
}

#[cfg(test)]
mod tests {
    use phone_verify_core::http::SystemClock;

    use super::*;

    fn handle() -> Verification {
        Verification::new(PROVIDER, "VE0123456789abcdef0123456789abcdef", Channel::Sms)
            .with_phone("+15017122661".parse().unwrap())
    }

    #[test]
    fn new_refuses_a_malformed_service_sid_before_any_request() {
        let client = Twilio::builder("AC0123456789abcdef0123456789abcdef", "auth-token")
            .build_client()
            .unwrap();
        for bad in [
            "",
            "VA0123",
            "AC0123456789abcdef0123456789abcdef",
            "VA0123456789abcdef0123456789abcdeg",
        ] {
            let err = Twilio::new(client.clone(), bad).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad:?}");
            assert_eq!(err.provider(), Some(&PROVIDER), "{bad:?}");
        }
        let verifier = Twilio::new(client, " VA0123456789abcdef0123456789abcdef ").unwrap();
        assert_eq!(verifier.service_sid(), "VA0123456789abcdef0123456789abcdef");
    }

    #[test]
    fn the_reported_number_is_parsed_only_when_it_is_not_the_handles() {
        let handle = handle();
        let own = reported_phone(&handle, Some("+15017122661")).unwrap();
        assert_eq!(Some(&own), handle.phone.as_ref());
        let other = reported_phone(&handle, Some("+905321234567")).unwrap();
        assert_eq!(other.e164(), "+905321234567");
        assert_eq!(reported_phone(&handle, Some("garbage")), handle.phone);
        assert_eq!(reported_phone(&handle, None), handle.phone);
        let bare = Verification::new(PROVIDER, "VE0123456789abcdef0123456789abcdef", Channel::Sms);
        assert!(reported_phone(&bare, None).is_none());
    }

    /// A language and at most a region go as they are (the region as Twilio writes it); any
    /// longer tag core accepts goes as its primary subtag, never a refused start.
    #[test]
    fn languages_become_locales_of_twilios_shape() {
        for (tag, locale) in [
            ("en", "en"),
            ("pt-BR", "pt-BR"),
            ("pt-br", "pt-BR"),
            ("zh-HK", "zh-HK"),
            ("es-419", "es-419"),
            ("fil", "fil"),
            ("zh-cmn-Hans-CN", "zh"),
            ("zh-Hant", "zh"),
            ("sr-Latn", "sr"),
            // A script is left out, the region kept.
            ("zh-Hant-HK", "zh-HK"),
            ("zh-Hans-CN", "zh-CN"),
            ("zh-hans-cn", "zh-CN"),
            ("sr-Latn-RS", "sr-RS"),
            ("es-Latn-419", "es-419"),
            ("zh-Hant-HK-x-y", "zh"),
            ("de-CH-1996", "de"),
            ("en-US-x-twain", "en"),
            ("en-1", "en"),
        ] {
            let language: Language = tag.parse().unwrap();
            assert_eq!(twilio_locale(&language), locale, "{tag}");
        }
    }

    fn answer(json: &str) -> wire::VerificationCheck {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn statuses_map_to_outcomes() {
        let verified = outcome(
            &handle(),
            &answer(r#"{"status":"approved","valid":true}"#),
            None,
            &SystemClock,
        )
        .unwrap();
        assert_eq!(
            verified.verified().unwrap().phone.as_ref().unwrap().e164(),
            "+15017122661"
        );
        let reported = outcome(
            &handle(),
            &answer(r#"{"status":"approved","valid":true,"to":"+15017122669"}"#),
            None,
            &SystemClock,
        )
        .unwrap();
        assert_eq!(
            reported.verified().unwrap().phone.as_ref().unwrap().e164(),
            "+15017122669"
        );
        for (status, reason) in [
            ("pending", RejectReason::WrongCode),
            ("max_attempts_reached", RejectReason::TooManyAttempts),
            ("expired", RejectReason::Expired),
            ("canceled", RejectReason::NotFound),
            ("deleted", RejectReason::NotFound),
            ("failed", RejectReason::NotFound),
        ] {
            let json = format!(r#"{{"status":"{status}","valid":false}}"#);
            let got = outcome(&handle(), &answer(&json), None, &SystemClock).unwrap();
            assert_eq!(got.rejection().unwrap().reason, reason, "{status}");
        }
    }

    #[test]
    fn contradictions_and_unknown_statuses_are_errors() {
        for json in [
            r#"{"status":"approved","valid":false}"#,
            r#"{"status":"pending","valid":true}"#,
        ] {
            // Twilio took the check: what it did with the code is unknown.
            let err = outcome(&handle(), &answer(json), None, &SystemClock).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::OutcomeUnknown, "{json}");
        }
        let err = outcome(
            &handle(),
            &answer(r#"{"status":"mystery"}"#),
            None,
            &SystemClock,
        )
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::OutcomeUnknown);
        assert!(err.to_string().contains("\"mystery\""), "{err}");
        // No status (nullable) and not valid: neither a verification nor a rejection, and the
        // code may have been used.
        for json in [r#"{"status":null,"valid":false}"#, "{}"] {
            let err = outcome(&handle(), &answer(json), None, &SystemClock).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::OutcomeUnknown, "{json}");
        }
    }

    #[test]
    fn a_right_code_without_a_status_is_verified() {
        let verified = outcome(
            &handle(),
            &answer(r#"{"status":null,"valid":true}"#),
            None,
            &SystemClock,
        )
        .unwrap();
        assert!(verified.is_verified(), "{verified:?}");
    }

    #[test]
    fn without_valid_the_status_tells() {
        // `valid` is nullable and legacy: `status` alone decides.
        for json in [
            r#"{"status":"approved","valid":null}"#,
            r#"{"status":"approved"}"#,
        ] {
            assert!(
                outcome(&handle(), &answer(json), None, &SystemClock)
                    .unwrap()
                    .is_verified(),
                "{json}"
            );
        }
        for (json, reason) in [
            (
                r#"{"status":"pending","valid":null}"#,
                RejectReason::WrongCode,
            ),
            (r#"{"status":"expired"}"#, RejectReason::Expired),
        ] {
            let got = outcome(&handle(), &answer(json), None, &SystemClock).unwrap();
            assert_eq!(got.rejection().unwrap().reason, reason, "{json}");
        }
    }

    #[test]
    fn capabilities_are_the_channels_twilio_delivers() {
        let verifier = TwilioBuilder::new("AC0123456789abcdef0123456789abcdef", "t")
            .service_sid("VA0123456789abcdef0123456789abcdef")
            .build()
            .unwrap();
        assert_eq!(verifier.service_sid(), "VA0123456789abcdef0123456789abcdef");
        let caps = verifier.capabilities();
        for channel in [Channel::Sms, Channel::WhatsApp, Channel::Voice] {
            assert!(caps.is_otp(&channel), "{channel}");
            assert!(twilio_channel(&channel).is_some());
        }
        for channel in [
            Channel::Telegram,
            Channel::Totp,
            Channel::Email,
            Channel::FlashCall,
        ] {
            assert!(!caps.supports(&channel), "{channel}");
        }
        assert!(caps.localized_messages);
        let err = TwilioBuilder::new("AC0123456789abcdef0123456789abcdef", "t")
            .build()
            .unwrap_err();
        assert!(err.to_string().contains("TWILIO_SERVICE_SID"), "{err}");
    }
}
