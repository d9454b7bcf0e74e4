//! [`VerifyKit`]: the [`PhoneVerifier`] and [`SessionResolver`] of VerifyKit; and
//! [`VerifyKitBuilder::build`].

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use phone_verify_core::kit::lenient::trim;
use phone_verify_core::{
    Capabilities, Channel, CheckOutcome, CheckRequest, Code, Error, ErrorKind, PhoneNumber,
    PhoneVerifier, ProviderId, RejectReason, Rejection, RequestContext, ResolvedSession, Result,
    ReverseFlow, SessionId, SessionResolver, StartRequest, Verification, Verified,
};
use time::OffsetDateTime;

use crate::client::{App, SendOtp, StartOptions, VerifyKitClient};
use crate::config::{PROVIDER, VerifyKitBuilder, invalid, require_reverse_flow_ttl};
use crate::errors::{self, Checked};
use crate::wire::{OtpSent, ValidationCheck, ValidationResult};

/// The handle extra naming the flow (see [`Flow`]).
pub const EXTRA_FLOW: &str = "flow";
/// The handle extra holding the ISO country code sent with an SMS code.
pub const EXTRA_COUNTRY_CODE: &str = "country_code";
/// The handle extra holding the app of a reverse flow (`whatsapp`, `telegram`).
pub const EXTRA_APP: &str = "app";
/// The handle extra holding the code length VerifyKit reported for an SMS code.
pub const EXTRA_CODE_LENGTH: &str = "code_length";

/// How long WhatsApp as OTP lasts: VerifyKit's WhatsApp messages say "You have 5 minutes to
/// complete verification", and `start` reports no timeout of its own.
const WHATSAPP_VALIDITY: Duration = Duration::from_secs(5 * 60);

/// Which VerifyKit flow a [`Verification`] belongs to; stored in its extras under
/// [`EXTRA_FLOW`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Flow {
    /// `send-otp` then `check-otp`.
    SmsOtp,
    /// `start` with a phone number (WhatsApp as OTP) then `check-whatsapp`.
    WhatsAppOtp,
    /// `start` (WhatsApp or Telegram deeplink/QR code) then `check` polls, then `result`.
    Reverse,
}

impl Flow {
    /// The name stored in handles: `sms_otp`, `whatsapp_otp` or `reverse`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SmsOtp => "sms_otp",
            Self::WhatsAppOtp => "whatsapp_otp",
            Self::Reverse => "reverse",
        }
    }

    /// The flow of `verification`: its [`EXTRA_FLOW`] extra, or, for handles without it, what
    /// its channel, phone and reverse-flow data imply.
    pub fn of(verification: &Verification) -> Result<Self> {
        match verification.extra_str(EXTRA_FLOW) {
            Some("sms_otp") => Ok(Self::SmsOtp),
            Some("whatsapp_otp") => Ok(Self::WhatsAppOtp),
            Some("reverse") => Ok(Self::Reverse),
            Some(other) => Err(invalid(format!(
                "this handle names an unknown VerifyKit flow {other:?}"
            ))),
            None => match &verification.channel {
                Channel::Sms => Ok(Self::SmsOtp),
                Channel::WhatsApp
                    if verification.reverse.is_none() && verification.phone.is_some() =>
                {
                    Ok(Self::WhatsAppOtp)
                }
                Channel::WhatsApp | Channel::Telegram => Ok(Self::Reverse),
                other => Err(invalid(format!(
                    "VerifyKit has no verification on channel {other}"
                ))),
            },
        }
    }
}

impl fmt::Display for Flow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// VerifyKit as a [`PhoneVerifier`] and [`SessionResolver`]. Cheap to clone; `Debug` never
/// shows the server key.
///
/// | request | VerifyKit |
/// |---|---|
/// | `StartRequest::sms(phone)` | `send-otp` (phone in E.164, `countryCode` = the number's region), then `check-otp` |
/// | `StartRequest::otp(Channel::WhatsApp, phone)` | `start` with `app=whatsapp` and the phone (WhatsApp as OTP), then `check-whatsapp` |
/// | `StartRequest::reverse(Channel::WhatsApp \| Channel::Telegram)` | `start` with a deeplink, or a QR code with `.qr_code(true)`; `check` polls (`Pending` until the user sends the message), then `result` for the phone |
///
/// A QR code is drawn only for a reverse flow: `.qr_code(true)` on an SMS or WhatsApp-as-OTP
/// start is refused ([`ErrorKind::Unsupported`]) before any request.
///
/// Handles carry the reference, the phone, and extras [`EXTRA_FLOW`] (the [`Flow`]),
/// [`EXTRA_COUNTRY_CODE`], [`EXTRA_APP`] and [`EXTRA_CODE_LENGTH`], so another process can
/// check them. Every handle is created (`created_at`, which its expiry counts from) on the HTTP
/// settings' clock,
/// [`HttpConfig::with_clock`](phone_verify_core::http::HttpConfig::with_clock). An SMS handle
/// expires after VerifyKit's `timeout`; WhatsApp as OTP after the 5 minutes VerifyKit's
/// WhatsApp messages give the user. A reverse flow (WhatsApp or Telegram) expires after the
/// builder's [`reverse_flow_ttl`](VerifyKitBuilder::reverse_flow_ttl) (10 minutes by default:
/// VerifyKit documents no lifetime); past it (on the same clock) a poll VerifyKit
/// still answers as pending is `Rejected(Expired)` (VerifyKit is asked: a flow completed just
/// before is verified), and a poll VerifyKit answers `403037` is `Rejected(Expired)` too.
///
/// Every request needs the end user's IP ([`RequestContext::end_user_ip`], or the builder's
/// [`fallback_end_user_ip`](VerifyKitBuilder::fallback_end_user_ip)): see
/// [`VerifyKitClient`]. A code check whose answer was lost is
/// [`ErrorKind::OutcomeUnknown`], never a rejection.
///
/// A code check reports the handle's phone when VerifyKit's answer names none (`check-whatsapp`
/// takes only the reference and the code): a handle that a client holds (a browser, a mobile
/// app) must be sealed ([`Verification::seal`]), or the client could pair its own reference
/// with another phone and have that phone reported verified.
///
/// E-mail verification (`start-email`, `check-email`) is on the typed client only
/// ([`VerifyKitClient::start_email`]): it verifies an address, not a phone, so it has no
/// [`Verified::phone`] or [`ResolvedSession`] to report.
#[derive(Clone, Debug)]
pub struct VerifyKit {
    client: VerifyKitClient,
    reverse_flow_ttl: Duration,
}

impl VerifyKit {
    /// A verifier on `client`, whose reverse flows last the `reverse_flow_ttl` of the
    /// client's configuration ([`DEFAULT_REVERSE_FLOW_TTL`](crate::DEFAULT_REVERSE_FLOW_TTL)
    /// unless set).
    pub fn new(client: VerifyKitClient) -> Self {
        let reverse_flow_ttl = client.reverse_flow_ttl();
        Self {
            client,
            reverse_flow_ttl,
        }
    }

    /// This verifier with reverse flows' handles lasting `ttl`: longer than zero, at most
    /// [`MAX_REVERSE_FLOW_TTL`](crate::MAX_REVERSE_FLOW_TTL), else
    /// [`ErrorKind::InvalidInput`], as [`VerifyKitBuilder::reverse_flow_ttl`] at build.
    pub fn with_reverse_flow_ttl(mut self, ttl: Duration) -> Result<Self> {
        require_reverse_flow_ttl(ttl)?;
        self.reverse_flow_ttl = ttl;
        Ok(self)
    }

    /// How long a reverse flow's handle lasts.
    pub fn reverse_flow_ttl(&self) -> Duration {
        self.reverse_flow_ttl
    }

    /// This machine's time, on the HTTP settings' clock
    /// ([`HttpConfig::with_clock`](phone_verify_core::http::HttpConfig::with_clock)).
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::from(self.client.clock().now())
    }

    /// A builder with `server_key` for VerifyKit's production hosts.
    pub fn builder(
        server_key: impl Into<phone_verify_core::secrecy::SecretString>,
    ) -> VerifyKitBuilder {
        VerifyKitBuilder::new(server_key)
    }

    /// A verifier configured from the environment (see [`VerifyKitBuilder::from_lookup`]).
    pub fn from_env() -> Result<Self> {
        VerifyKitBuilder::from_env()?.build()
    }

    /// The typed client of every endpoint, for what the traits do not cover (`init`,
    /// `country`, blacklists, WhatsApp messages, access tokens).
    pub fn client(&self) -> &VerifyKitClient {
        &self.client
    }

    /// The provider id both [`PhoneVerifier::provider`] and [`SessionResolver::provider`]
    /// report (`verifykit`), callable with both traits in scope.
    /// Through an `Arc` or a `Box`, both traits' methods are found before this one: write
    /// `(*shared).provider()`.
    pub fn provider(&self) -> ProviderId {
        PROVIDER
    }

    /// What VerifyKit can do through this crate.
    pub fn capabilities() -> Capabilities {
        Capabilities::new()
            .with_otp_channel(Channel::Sms)
            .with_otp_channel(Channel::WhatsApp)
            .with_reverse_channel(Channel::WhatsApp)
            .with_reverse_channel(Channel::Telegram)
            .with_qr_code(true)
            .with_session_resolution(true)
            .with_check_returns_session(true)
            .with_localized_messages(true)
    }

    async fn start_sms(&self, request: &StartRequest, phone: &PhoneNumber) -> Result<Verification> {
        let Some(region) = phone.region() else {
            return Err(invalid(
                "VerifyKit sends SMS codes to numbers of a country; this number has none",
            ));
        };
        let mut otp = SendOtp::new(phone.clone()).country_code(region);
        if let Some(language) = &request.language {
            otp = otp.language(language.clone());
        }
        let sent = self.client.send_otp(&otp, &request.context).await?;
        Ok(sms_handle(&sent, phone, region, self.now()))
    }

    async fn start_whatsapp_otp(
        &self,
        request: &StartRequest,
        phone: &PhoneNumber,
    ) -> Result<Verification> {
        let mut options = StartOptions::whatsapp_otp(phone.clone());
        if let Some(language) = &request.language {
            options = options.language(language.clone());
        }
        let started = self.client.start(&options, &request.context).await?;
        let handle = Verification::new(PROVIDER, started.reference, Channel::WhatsApp)
            .with_created_at(self.now())
            .with_phone(phone.clone())
            .with_extra(EXTRA_FLOW, Flow::WhatsAppOtp.as_str());
        Ok(handle.with_expires_in(WHATSAPP_VALIDITY))
    }

    async fn start_reverse(&self, request: &StartRequest, app: App) -> Result<Verification> {
        let mut options = StartOptions::new(app)
            .deeplink(!request.qr_code)
            .qr_code(request.qr_code);
        if let Some(language) = &request.language {
            options = options.language(language.clone());
        }
        let started = self.client.start(&options, &request.context).await?;
        if started.deeplink.is_none() && started.qr_code.is_none() {
            return Err(Error::new(
                ErrorKind::Decode,
                "start answered with neither a deeplink nor a QR code",
            )
            .with_provider(PROVIDER));
        }
        // Stamped on the configured clock, which `poll_reverse` judges the expiry by.
        let handle = Verification::new(PROVIDER, started.reference, request.channel.clone())
            .with_created_at(self.now())
            .with_reverse(ReverseFlow::new(started.deeplink, started.qr_code))
            .with_extra(EXTRA_FLOW, Flow::Reverse.as_str())
            .with_extra(EXTRA_APP, app.as_str());
        Ok(handle.with_expires_in(self.reverse_flow_ttl))
    }

    /// Checks the code of an SMS handle (`check-otp`) or a WhatsApp-as-OTP one
    /// (`check-whatsapp`).
    async fn check_code(
        &self,
        flow: Flow,
        handle: &Verification,
        code: &Code,
        context: &RequestContext,
    ) -> Result<CheckOutcome> {
        let phone = handle_phone(handle)?;
        let (answer, channel) = if flow == Flow::SmsOtp {
            let country_code = handle
                .extra_str(EXTRA_COUNTRY_CODE)
                .or(phone.region())
                .ok_or_else(|| invalid("this SMS handle has no country code"))?;
            let answer = (self.client)
                .check_otp(phone, country_code, &handle.reference, code, context)
                .await;
            (answer, Channel::Sms)
        } else {
            let answer = (self.client)
                .check_whatsapp(&handle.reference, code, context)
                .await;
            (answer, Channel::WhatsApp)
        };
        otp_outcome(answer, phone, channel)
    }

    async fn poll_reverse(
        &self,
        handle: &Verification,
        context: &RequestContext,
    ) -> Result<CheckOutcome> {
        // A handle from before reverse flows had an expiry gets the configured lifetime, so
        // that a reference VerifyKit answers `403036` for (pending, or unknown) stops polling.
        // VerifyKit is asked even past it: a user who completed the flow just before the
        // expiry is verified, and only a flow still pending then has expired.
        let expires_at = handle
            .expires_at
            .unwrap_or_else(|| handle.expiry_after(self.reverse_flow_ttl));
        let pending = || {
            if self.now() >= expires_at {
                CheckOutcome::Rejected(
                    Rejection::new(RejectReason::Expired)
                        .with_message("the verification expired before the user completed it"),
                )
            } else {
                CheckOutcome::Pending
            }
        };
        let check = match self.client.check(&handle.reference, context).await {
            Ok(check) => check,
            Err(err) => {
                return match errors::check_outcome(&err, Checked::ReverseFlow) {
                    Some(CheckOutcome::Pending) => Ok(pending()),
                    Some(outcome) => Ok(outcome),
                    None => Err(err),
                };
            }
        };
        if !check.is_verified() {
            return Ok(pending());
        }
        if check.phone_number.is_none() && check.session_id.is_none() {
            // Verified, but by whom is unknown: no outcome to report. A poll is a read: an
            // application may poll again (`wait_for_outcome` ends at this error).
            let error = Error::new(
                ErrorKind::Decode,
                "check answered validationStatus true with neither a session id nor a phone \
                 number: who verified is unknown",
            )
            .with_provider(PROVIDER);
            return Err(match check.request_id {
                Some(id) => error.with_request_id(id),
                None => error,
            });
        }
        let mut verified = Verified::new(handle.channel.clone());
        if let Some(phone) = check.phone_number.as_deref() {
            verified = verified.with_phone(Some(reported_phone(phone, "check")?));
        }
        if let Some(session) = &check.session_id {
            if verified.phone.is_none() {
                // `check` does not say who verified: `result` does.
                let result = self.client.result(session, context).await?;
                verified = verified
                    .with_phone(Some(reported_phone(&result.phone_number, "result")?))
                    .with_verified_at(result.validation_date);
                if let Some(channel) = result_channel(&result) {
                    verified.channel = channel;
                }
            }
            verified = verified.with_session_id(Some(session.clone()));
        }
        Ok(CheckOutcome::Verified(verified))
    }
}

#[async_trait]
impl PhoneVerifier for VerifyKit {
    fn provider(&self) -> ProviderId {
        Self::provider(self)
    }

    fn capabilities(&self) -> Capabilities {
        Self::capabilities()
    }

    async fn start(&self, request: &StartRequest) -> Result<Verification> {
        let capabilities = Self::capabilities();
        // `validate` refused a phone on Telegram (reverse only), a QR code with a phone, and a
        // request without a phone on a channel that has no reverse flow. WhatsApp is both an
        // OTP and a reverse channel: without a phone it is a reverse flow.
        request.validate(&capabilities)?;
        match (&request.channel, &request.phone) {
            (Channel::WhatsApp | Channel::Telegram, None) => {
                let app = if request.channel == Channel::Telegram {
                    App::Telegram
                } else {
                    App::WhatsApp
                };
                self.start_reverse(request, app).await
            }
            (Channel::Sms, Some(phone)) => self.start_sms(request, phone).await,
            (Channel::WhatsApp, Some(phone)) => self.start_whatsapp_otp(request, phone).await,
            (channel, _) => Err(Error::unsupported(format!(
                "VerifyKit does not verify on channel {channel}"
            ))
            .with_provider(PROVIDER)),
        }
    }

    async fn check(
        &self,
        verification: &Verification,
        request: &CheckRequest,
    ) -> Result<CheckOutcome> {
        verification.ensure_provider(&PROVIDER)?;
        match Flow::of(verification)? {
            flow @ (Flow::SmsOtp | Flow::WhatsAppOtp) => {
                let code = request.require_code()?;
                self.check_code(flow, verification, code, &request.context)
                    .await
            }
            Flow::Reverse => {
                if request.code.is_some() {
                    return Err(invalid(
                        "a reverse flow is polled without a code: the user sends the message",
                    ));
                }
                self.poll_reverse(verification, &request.context).await
            }
        }
    }
}

#[async_trait]
impl SessionResolver for VerifyKit {
    fn provider(&self) -> ProviderId {
        Self::provider(self)
    }

    async fn resolve(
        &self,
        session: &SessionId,
        context: &RequestContext,
    ) -> Result<ResolvedSession> {
        let result = self.client.result(session, context).await?;
        resolved_session(result)
    }
}

/// The handle of an SMS code VerifyKit `sent` to `phone` of `region`, created at `now` (the
/// configured clock's), its expiry counted from there.
pub(crate) fn sms_handle(
    sent: &OtpSent,
    phone: &PhoneNumber,
    region: &str,
    now: OffsetDateTime,
) -> Verification {
    let mut handle = Verification::new(PROVIDER, sent.reference.clone(), Channel::Sms)
        .with_created_at(now)
        .with_phone(phone.clone())
        .with_extra(EXTRA_FLOW, Flow::SmsOtp.as_str())
        .with_extra(EXTRA_COUNTRY_CODE, region);
    if let Some(validity) = sent.validity() {
        handle = handle.with_expires_in(validity);
    }
    if let Some(length) = sent.length {
        handle = handle.with_extra(EXTRA_CODE_LENGTH, length);
    }
    handle
}

/// The session `result` names: the reported phone, the channel, when and where.
pub(crate) fn resolved_session(result: ValidationResult) -> Result<ResolvedSession> {
    let phone = reported_phone(&result.phone_number, "result")?;
    let channel = result_channel(&result).unwrap_or(Channel::Other("unknown".to_owned()));
    let mut verified =
        ResolvedSession::new(phone, channel, PROVIDER).with_verified_at(result.validation_date);
    if let Some(network) = result.mobile_network.filter(|n| !n.is_null()) {
        verified = verified.with_extra("mobile_network", network);
    }
    if let Some(country) = result.country_code {
        verified = verified.with_extra("country_code", country);
    }
    Ok(verified)
}

/// The outcome of a code check (`check-otp`, `check-whatsapp`).
pub(crate) fn otp_outcome(
    answer: Result<ValidationCheck>,
    phone: &PhoneNumber,
    channel: Channel,
) -> Result<CheckOutcome> {
    let check = match answer {
        Ok(check) => check,
        Err(err) => return errors::check_outcome(&err, Checked::Code).ok_or(err),
    };
    match check.validation_status {
        // A session id means VerifyKit completed the verification: with `false` the answer
        // contradicts itself, and the code may have been used. Never taken for a wrong code.
        Some(false) if check.session_id.is_some() => {
            return Err(unknown_check(
                "the check answered validationStatus false with a session id",
                check.request_id,
            ));
        }
        // Not an error code, not verified: VerifyKit did not accept the code.
        Some(false) => {
            let mut rejection = Rejection::new(RejectReason::WrongCode)
                .with_message("VerifyKit answered validationStatus false");
            if let Some(id) = check.request_id {
                rejection = rejection.with_request_id(id);
            }
            return Ok(CheckOutcome::Rejected(rejection));
        }
        // An answer that says nothing (`"result": {}`): VerifyKit took the request, so the
        // code may have been used. Never taken for a wrong code.
        None if check.session_id.is_none() => {
            return Err(unknown_check(
                "the check answered with neither validationStatus nor a session id",
                check.request_id,
            ));
        }
        _ => {}
    }
    let reported = match check.phone_number.as_deref() {
        // The number checked, as VerifyKit usually reports it: no parse needed.
        Some(raw) if same_number(raw, phone) => phone.clone(),
        // VerifyKit took the code, but its answer cannot be used.
        Some(raw) => reported_phone(raw, "check").map_err(|err| {
            Error::new(
                ErrorKind::OutcomeUnknown,
                "the check's answer cannot be used; the code may have been used, start a new \
                 verification",
            )
            .with_provider(PROVIDER)
            .with_source(err)
        })?,
        None => phone.clone(),
    };
    Ok(CheckOutcome::Verified(
        Verified::new(channel)
            .with_phone(Some(reported))
            .with_session_id(check.session_id),
    ))
}

/// The [`ErrorKind::OutcomeUnknown`] error of a code check VerifyKit took with an answer that
/// cannot be used: `what` it answered, and its request id.
fn unknown_check(what: &str, request_id: Option<String>) -> Error {
    let error = Error::new(
        ErrorKind::OutcomeUnknown,
        format!("{what}; the code may have been used, start a new verification"),
    )
    .with_provider(PROVIDER);
    match request_id {
        Some(id) => error.with_request_id(id),
        None => error,
    }
}

/// The channel `result` reports (`otp` is SMS).
fn result_channel(result: &ValidationResult) -> Option<Channel> {
    result
        .validation_type
        .as_deref()
        .filter(|t| !trim(t).is_empty())
        .map(|t| match t {
            // VerifyKit's usual names, as `Channel::from_str` reads them, without its copy.
            "otp" | "sms" => Channel::Sms,
            "whatsapp" => Channel::WhatsApp,
            "telegram" => Channel::Telegram,
            _ => t
                .parse()
                .unwrap_or_else(|never: std::convert::Infallible| match never {}),
        })
}

/// Whether VerifyKit's `raw` number (with or without its `+`) is `phone`, exactly.
fn same_number(raw: &str, phone: &PhoneNumber) -> bool {
    let raw = trim(raw);
    let e164 = phone.e164();
    raw == e164 || e164.strip_prefix('+') == Some(raw)
}

/// A phone number VerifyKit reported, with or without its `+`.
fn reported_phone(raw: &str, operation: &str) -> Result<PhoneNumber> {
    let raw = trim(raw);
    PhoneNumber::parse(raw)
        .or_else(|first| {
            if raw.starts_with('+') {
                Err(first)
            } else {
                PhoneNumber::parse(&format!("+{raw}"))
            }
        })
        .map_err(|e| {
            Error::new(
                ErrorKind::Decode,
                format!("{operation} answered with a phone number that is not valid: {e}"),
            )
            .with_provider(PROVIDER)
        })
}

fn handle_phone(handle: &Verification) -> Result<&PhoneNumber> {
    handle
        .phone
        .as_ref()
        .ok_or_else(|| invalid("this VerifyKit handle has no phone number"))
}

impl VerifyKitBuilder {
    /// Builds the verifier.
    pub fn build(&self) -> Result<VerifyKit> {
        Ok(VerifyKit::new(VerifyKitClient::new(self.config()?)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{DEFAULT_REVERSE_FLOW_TTL, MAX_REVERSE_FLOW_TTL};

    #[test]
    fn result_channels_are_channel_from_str() {
        for name in [
            "otp",
            "sms",
            "whatsapp",
            "telegram",
            "OTP",
            " WhatsApp ",
            "wa",
            "voice",
            "email",
            "flash_call",
            "viber",
            " Viber ",
            "",
            "  ",
        ] {
            let result: ValidationResult = serde_json::from_value(serde_json::json!({
                "phoneNumber": "+905555555555",
                "validationType": name,
            }))
            .unwrap();
            let expected = (!name.trim().is_empty()).then(|| name.parse::<Channel>().unwrap());
            assert_eq!(result_channel(&result), expected, "{name:?}");
        }
    }

    #[test]
    fn flows_of_handles_without_the_extra_follow_channel_phone_and_reverse_data() {
        let phone: PhoneNumber = "+905321234567".parse().unwrap();
        let bare = |channel| Verification::new(PROVIDER, "ref", channel);
        let reverse = || ReverseFlow::new(Some("https://wa.me/1?text=x".into()), None);
        let cases = [
            (bare(Channel::Sms), Flow::SmsOtp),
            (
                bare(Channel::WhatsApp).with_phone(phone.clone()),
                Flow::WhatsAppOtp,
            ),
            (bare(Channel::WhatsApp), Flow::Reverse),
            (
                bare(Channel::WhatsApp)
                    .with_phone(phone.clone())
                    .with_reverse(reverse()),
                Flow::Reverse,
            ),
            (
                bare(Channel::WhatsApp).with_reverse(reverse()),
                Flow::Reverse,
            ),
            (bare(Channel::Telegram).with_phone(phone), Flow::Reverse),
        ];
        for (handle, flow) in cases {
            assert_eq!(Flow::of(&handle).unwrap(), flow, "{handle:?}");
            let named = handle.clone().with_extra(EXTRA_FLOW, flow.as_str());
            assert_eq!(Flow::of(&named).unwrap(), flow);
            assert_eq!(flow.to_string(), flow.as_str());
        }
        // The extra wins over what the channel implies.
        let named = bare(Channel::WhatsApp).with_extra(EXTRA_FLOW, "whatsapp_otp");
        assert_eq!(Flow::of(&named).unwrap(), Flow::WhatsAppOtp);
        for refused in [
            bare(Channel::Voice),
            bare(Channel::Sms).with_extra(EXTRA_FLOW, "voice_otp"),
        ] {
            let err = Flow::of(&refused).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{refused:?}");
        }
        assert_eq!(
            [Flow::SmsOtp, Flow::WhatsAppOtp, Flow::Reverse].map(|f| f.to_string()),
            ["sms_otp", "whatsapp_otp", "reverse"]
        );
    }

    #[test]
    fn a_code_check_reports_the_number_verifykit_names() {
        let phone: PhoneNumber = "+905321234567".parse().unwrap();
        let check = |reported: Option<&str>| ValidationCheck {
            validation_status: Some(true),
            session_id: None,
            app_platform: None,
            phone_number: reported.map(str::to_owned),
            request_id: None,
        };
        let verified_phone = |reported| match otp_outcome(Ok(check(reported)), &phone, Channel::Sms)
        {
            Ok(CheckOutcome::Verified(verified)) => verified.phone.map(|p| p.e164().to_owned()),
            other => panic!("{other:?}"),
        };
        assert_eq!(verified_phone(None).as_deref(), Some("+905321234567"));
        assert_eq!(
            verified_phone(Some("905321234567")).as_deref(),
            Some("+905321234567")
        );
        // Another number than the handle's: VerifyKit's word is reported.
        assert_eq!(
            verified_phone(Some("+905329876543")).as_deref(),
            Some("+905329876543")
        );
        assert_eq!(
            verified_phone(Some("905329876543")).as_deref(),
            Some("+905329876543")
        );
        // A number that cannot be read: the code was taken, so the outcome is unknown.
        let err = otp_outcome(Ok(check(Some("not a number"))), &phone, Channel::Sms).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::OutcomeUnknown);
    }

    #[test]
    fn reverse_flow_ttls_out_of_range_are_refused_as_the_builder_refuses_them() {
        let verifier = VerifyKit::new(VerifyKitBuilder::new("key").build_client().unwrap());
        assert_eq!(verifier.reverse_flow_ttl(), DEFAULT_REVERSE_FLOW_TTL);
        let verifier = verifier
            .with_reverse_flow_ttl(Duration::from_secs(90))
            .unwrap();
        assert_eq!(verifier.reverse_flow_ttl(), Duration::from_secs(90));
        let verifier = verifier
            .with_reverse_flow_ttl(MAX_REVERSE_FLOW_TTL)
            .unwrap();
        assert_eq!(verifier.reverse_flow_ttl(), MAX_REVERSE_FLOW_TTL);
        for ttl in [
            Duration::ZERO,
            MAX_REVERSE_FLOW_TTL + Duration::from_secs(1),
        ] {
            let err = verifier.clone().with_reverse_flow_ttl(ttl).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{ttl:?}");
            let built = VerifyKitBuilder::new("key").reverse_flow_ttl(ttl).build();
            assert_eq!(built.unwrap_err().message(), err.message(), "{ttl:?}");
        }
    }

    #[test]
    fn a_verifier_on_a_client_keeps_its_configured_reverse_flow_ttl() {
        let ttl = Duration::from_secs(90);
        let client = VerifyKitBuilder::new("key")
            .reverse_flow_ttl(ttl)
            .build_client()
            .unwrap();
        assert_eq!(VerifyKit::new(client).reverse_flow_ttl(), ttl);
        let built = VerifyKitBuilder::new("key")
            .reverse_flow_ttl(ttl)
            .build()
            .unwrap();
        assert_eq!(built.reverse_flow_ttl(), ttl);
    }

    #[test]
    fn a_code_check_that_says_nothing_is_never_a_wrong_code() {
        let phone: PhoneNumber = "+905321234567".parse().unwrap();
        let check = |status: Option<bool>, session: Option<&str>| ValidationCheck {
            validation_status: status,
            session_id: session.map(|s| s.parse().unwrap()),
            app_platform: None,
            phone_number: None,
            request_id: None,
        };
        let outcome = |check| otp_outcome(Ok(check), &phone, Channel::Sms);
        // `"result": {}`, or `validationStatus: null` without a session; and an explicit false
        // with a session id, which means completed: an answer that contradicts itself.
        for (status, session) in [(None, None), (Some(false), Some("QWERTY123456"))] {
            let err = outcome(check(status, session)).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::OutcomeUnknown, "{err}");
            assert_eq!(err.provider(), Some(&PROVIDER));
        }
        // An explicit false without a session is VerifyKit's refusal of the code.
        let rejected = outcome(check(Some(false), None)).unwrap();
        assert_eq!(
            rejected.rejection().map(|r| r.reason),
            Some(RejectReason::WrongCode)
        );
        // A session without a status, or a true status: verified.
        assert!(
            outcome(check(None, Some("QWERTY123456")))
                .unwrap()
                .is_verified()
        );
        assert!(outcome(check(Some(true), None)).unwrap().is_verified());
    }

    /// A clock an hour ahead of this machine's.
    #[derive(Debug)]
    struct HourAhead;

    impl phone_verify_core::http::Clock for HourAhead {
        fn now(&self) -> std::time::SystemTime {
            std::time::SystemTime::now() + Duration::from_secs(3600)
        }
        fn sleep(&self, duration: Duration) -> phone_verify_core::http::Sleep {
            Box::pin(tokio::time::sleep(duration))
        }
    }

    /// A verifier of `server` on a clock an hour ahead, whose one poll of `/check` answers
    /// `403036` (not completed yet).
    async fn hour_ahead_with_pending_poll(server: &wiremock::MockServer) -> VerifyKit {
        use phone_verify_core::http::{ConfigureHttp, HttpConfig};
        use wiremock::matchers::{method, path};
        use wiremock::{Mock, ResponseTemplate};

        Mock::given(method("POST"))
            .and(path("/web-rest/v1.0/check"))
            .respond_with(ResponseTemplate::new(403).set_body_json(serde_json::json!({
                "meta": {"requestId": "R1", "httpStatusCode": 403,
                         "errorMessage": "Validation not found.", "errorCode": "403036"}
            })))
            .expect(1)
            .mount(server)
            .await;
        VerifyKitBuilder::new("key")
            .web_rest_url(&format!("{}/web-rest/v1.0", server.uri()))
            .api_url(&format!("{}/api/v1.0", server.uri()))
            .fallback_end_user_ip([203, 0, 113, 7].into())
            .http_config(HttpConfig::default().with_clock(std::sync::Arc::new(HourAhead)))
            .build()
            .unwrap()
    }

    #[tokio::test]
    async fn a_pending_reverse_flow_expires_on_the_configured_clock() {
        use wiremock::MockServer;

        let server = MockServer::start().await;
        let verifier = hour_ahead_with_pending_poll(&server).await;
        // 10 minutes left on the system clock, an hour past on the configured one.
        let handle = Verification::new(PROVIDER, "ref", Channel::WhatsApp)
            .with_extra(EXTRA_FLOW, Flow::Reverse.as_str())
            .with_expires_in(Duration::from_secs(600));
        let outcome = verifier
            .check(&handle, &CheckRequest::poll())
            .await
            .unwrap();
        assert_eq!(
            outcome.rejection().map(|r| r.reason),
            Some(RejectReason::Expired),
            "{outcome:?}"
        );
    }

    /// A reverse flow started on a clock an hour ahead of this machine's is stamped with that
    /// clock's now, so its first poll is judged against an expiry of the same clock: pending.
    #[tokio::test]
    async fn a_reverse_flow_started_on_the_configured_clock_is_pending_on_it() {
        use phone_verify_core::http::Clock as _;
        use wiremock::matchers::{method, path};
        use wiremock::{Mock, MockServer, ResponseTemplate};

        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/web-rest/v1.0/start"))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "meta": {"requestId": "R0", "httpStatusCode": 200},
                "result": {"reference": "rev-1", "deeplink": "https://wa.me/90?text=rev-1"}
            })))
            .expect(1)
            .mount(&server)
            .await;
        let verifier = hour_ahead_with_pending_poll(&server).await;
        let before = OffsetDateTime::from(HourAhead.now());
        let handle = verifier
            .start(&StartRequest::reverse(Channel::WhatsApp))
            .await
            .unwrap();
        let after = OffsetDateTime::from(HourAhead.now());
        let outcome = verifier
            .check(&handle, &CheckRequest::poll())
            .await
            .unwrap();
        assert_eq!(outcome, CheckOutcome::Pending);
        assert!(
            before <= handle.created_at && handle.created_at <= after,
            "{} not in [{before}, {after}]",
            handle.created_at
        );
        assert_eq!(
            handle.expires_at,
            Some(handle.created_at + DEFAULT_REVERSE_FLOW_TTL)
        );
        server.verify().await;
    }

    #[test]
    fn only_the_exact_number_is_the_same_number() {
        let number: PhoneNumber = "+905321234567".parse().unwrap();
        assert!(same_number("+905321234567", &number));
        assert!(same_number(" 905321234567 ", &number));
        assert!(!same_number("+905321234568", &number));
        assert!(!same_number("05321234567", &number));
    }
}
