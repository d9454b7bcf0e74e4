//! [`Verifik`]: the [`PhoneVerifier`] and [`SessionResolver`] of Verifik.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use phone_verify_core::kit::{HttpResponse, TimeBudget};
use phone_verify_core::{
    Capabilities, Channel, CheckOutcome, CheckRequest, Error, ErrorKind, PhoneNumber,
    PhoneVerifier, ProviderId, RequestContext, ResolvedSession, Result, SessionId, SessionResolver,
    StartRequest, Verification, Verified,
};
use secrecy::SecretString;
use time::OffsetDateTime;

use crate::client::{
    CreateManualValidation, CreateProjectValidation, ListValidations, MAX_PAGE_SIZE, ValidateParts,
    VerifikClient, VerifikPhone, checked_parts, require_digits,
};
use crate::config::{
    ManualMode, Mode, PROVIDER, ProjectFlowMode, VerifikBuilder, invalid, require_id,
    require_resolve_max_age,
};
use crate::errors;
use crate::wire::{
    CheckAnswer, PhoneGateway, PhoneValidation, SessionRecord, Shape, ValidationMethod,
};

/// The handle extra holding the country calling code sent, e.g. `+507`.
pub const EXTRA_COUNTRY_CODE: &str = "country_code";
/// The handle extra holding the gateway the code went through: `sms` or `whatsapp`.
pub const EXTRA_PHONE_GATEWAY: &str = "phone_gateway";
/// The handle extra naming the mode that created it: `manual` or `project_flow`.
pub const EXTRA_MODE: &str = "mode";
/// The handle extra holding the project id (project-flow mode).
pub const EXTRA_PROJECT: &str = "project";
/// The handle extra holding the project flow id, when Verifik reported one.
pub const EXTRA_PROJECT_FLOW: &str = "project_flow";

impl VerifikBuilder {
    /// Builds the verifier; it needs a token.
    pub fn build(&self) -> Result<Verifik> {
        let config = self.config()?;
        if config.token.is_none() {
            return Err(invalid(
                "the Verifik verifier needs an access token: set one with token() or log in \
                 with a client from without_token()",
            ));
        }
        let mode = Arc::new(config.mode.clone());
        let resolve_max_age = config.resolve_max_age;
        Ok(Verifik {
            client: VerifikClient::new(config)?,
            mode,
            resolve_max_age,
        })
    }
}

/// Verifik as a [`PhoneVerifier`] and [`SessionResolver`]. Cheap to clone; `Debug` never
/// shows the token.
///
/// | request | Verifik |
/// |---|---|
/// | `start`, manual mode (default) | `POST /v2/phone-validations/manual` with `phoneGateway` `sms` or `whatsapp` as the request's channel, `language`, the mode's `title`, `whatsappTemplate` and `force`, `ipAddress` from the request context |
/// | `start`, project-flow mode | `POST /v2/phone-validations` with the project, `validationMethod` `verificationCode`, the mode's `type`, `expiresAt`, URLs and `requires2FA`, `phoneGateway` of the mode's channel and the request's `language` |
/// | `check` | `PUT /v2/phone-validations` with the handle's phone, country code, gateway (and project, project flow), the code as a JSON number, or as a string when it starts with `0` |
/// | `resolve` | `GET /v2/phone-validations/{id}` |
///
/// A check uses the code up, so it is never retried blindly. When its answer is lost
/// (timeout, dropped connection, 500/502/504 or a 503 without `Retry-After`:
/// [`ErrorKind::OutcomeUnknown`] from the HTTP layer), or is a 2xx that cannot be read (not
/// JSON, no `data`, an error envelope with a reason Verifik does not document), `check` reads
/// the handle's validation back (`GET /v2/phone-validations/{id}`):
///
/// * `validated`: `Verified`, with the phone of the record, unless its `validatedAt` (or,
///   without one, which Verifik's answers seldom carry, its `updatedAt`: a validation is never
///   later) is more than two minutes (the clock skew allowed) before the lost check was sent:
///   an earlier check validated it, and this check, whatever its code (the used one sent
///   again or any other: Verifik answers a check of a validated validation 404 or 409 whatever
///   the code), did not; the outcome stays [`ErrorKind::OutcomeUnknown`] (a record with neither
///   date is taken for this check's);
/// * not validated: the lost check did not take the handle's validation. Verifik checks a code
///   against the phone's most recent validation waiting for one, so the phone's validations
///   are listed (`GET /v2/phone-validations`, one page of 100, in an order Verifik does not
///   document) and the latest is found by `createdAt`. Only a page that holds every validation
///   of the phone, the handle's among them, is used. When the latest is another one, created
///   after the handle's (a resend made it), the lost check may have taken that one instead,
///   and a repeated check would meet the handle's older code. It is then `Verified` if that
///   validation is `validated` no earlier than two minutes (the clock skew allowed) before the
///   lost check was sent (its id the session id): one validated earlier was validated by its
///   own check. That takes its `validatedAt`, which Verifik's real answers seldom carry (its
///   documentation shows it only in generic examples); `updatedAt` does not stand for it, as a
///   record validated long ago may have been updated since. Anything else, a `validatedAt`
///   missing, or an order that cannot be told (a `createdAt` missing, two alike), is the
///   [`ErrorKind::OutcomeUnknown`] error, without checking again;
/// * the latest is the handle's: one more check with the same code is safe (Verifik has no
///   attempt limit, so a wrong code changed nothing). Its answer is the outcome, except that
///   `phone_validation_already_validated`, `phone_validation_not_found` or a lost answer (the
///   lost check may have taken effect in the meantime) are read back once more and are
///   `Verified` when the record says `validated`; a refusal (`otp_does_not_match`, …) is read
///   back once more too, and stands unless the record says `validated`; a refusal without an
///   outcome (a 429 or a 503 after the retries, a 401, no connection) is read back once more
///   and is `Verified` if the record says `validated`, else the lost answer's
///   [`ErrorKind::OutcomeUnknown`] error (never a retryable one, whose retry would meet a used
///   code);
/// * anything else (a read fails, a record names another phone, the 409 is not confirmed by
///   the record): the [`ErrorKind::OutcomeUnknown`] error, never a rejection.
///
/// So a lost answer costs at most three reads and one repeated check; a check never reports
/// `Rejected` because an answer was lost. The recovery keeps within what is left of the
/// check's overall timeout ([`Timeouts::overall`](phone_verify_core::http::Timeouts::overall),
/// counted from the check's start; at least one second, or the attempt timeout when shorter),
/// each step raced against the HTTP settings' clock: a read cut short proves nothing, the
/// repeated check starts only when a whole attempt timeout fits in what is left (its attempt
/// ends, answered or timed out, before the time does; a retry of it cut short is another lost
/// answer), and once the time is spent the lost answer's
/// [`ErrorKind::OutcomeUnknown`] error stands. A check whose answer is lost thus ends within
/// its overall timeout, or that floor after the answer was lost: at most the overall timeout
/// plus one second (or plus the attempt timeout, when shorter).
///
/// The handle's reference is the validation `_id`; it carries the phone, its expiry
/// (`expiresAt`) and the extras [`EXTRA_COUNTRY_CODE`], [`EXTRA_PHONE_GATEWAY`],
/// [`EXTRA_MODE`], [`EXTRA_PROJECT`] and [`EXTRA_PROJECT_FLOW`], so another process checks it
/// with a fresh client. A successful check returns the validated `_id` as the session id.
///
/// `otp_does_not_match` is `Rejected(WrongCode)` (Verifik has no attempt limit),
/// `phoneValidation_has_expired` `Rejected(Expired)`, and `phone_validation_not_found`,
/// `phone_validation_already_validated` and `otp_send_failed` `Rejected(NotFound)`, except
/// that `phone_validation_not_found` past the handle's `expires_at` (on the HTTP settings'
/// clock) is `Rejected(Expired)`: Verifik looks only for unexpired validations.
///
/// A create answered with an `_id` (or project flow id) that a check would refuse is
/// [`ErrorKind::MaybeSent`]: such a handle could never be checked, and the code may be on its
/// way.
///
/// `resolve` gives a validated record's phone only within
/// [`resolve_max_age`](Self::resolve_max_age) of its validation (and, in project-flow mode,
/// never a record that names another project; one that names none is accepted, see
/// `resolve`): Verifik's ids can be guessed from one another (see
/// `resolve` in its [`SessionResolver`] implementation, and the crate documentation).
#[derive(Clone, Debug)]
pub struct Verifik {
    client: VerifikClient,
    mode: Arc<Mode>,
    /// How long after its validation a validation id resolves.
    resolve_max_age: Duration,
}

impl Verifik {
    /// A verifier on `client`, starting verifications in `mode`, resolving validation ids up
    /// to the resolve max age of the client's configuration after their validation
    /// ([`DEFAULT_RESOLVE_MAX_AGE`](crate::DEFAULT_RESOLVE_MAX_AGE) unless set; see
    /// [`with_resolve_max_age`](Self::with_resolve_max_age)). A `mode` that fails
    /// [`Mode::validate`] (a public field set past its checks) fails every `start` with
    /// [`ErrorKind::InvalidInput`] before any request; [`VerifikBuilder::build`] refuses it.
    pub fn new(client: VerifikClient, mode: Mode) -> Self {
        Self {
            resolve_max_age: client.resolve_max_age(),
            client,
            mode: Arc::new(mode),
        }
    }

    /// This verifier resolving validation ids up to `max_age` after their validation (above
    /// zero, at most [`MAX_RESOLVE_MAX_AGE`](crate::MAX_RESOLVE_MAX_AGE), else
    /// [`ErrorKind::InvalidInput`]); as [`VerifikBuilder::resolve_max_age`].
    pub fn with_resolve_max_age(mut self, max_age: Duration) -> Result<Self> {
        require_resolve_max_age(max_age)?;
        self.resolve_max_age = max_age;
        Ok(self)
    }

    /// How long after its validation a validation id resolves.
    pub fn resolve_max_age(&self) -> Duration {
        self.resolve_max_age
    }

    /// This machine's time, on the HTTP settings' clock
    /// ([`HttpConfig::with_clock`](phone_verify_core::http::HttpConfig::with_clock)).
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::from(self.client.http().config().clock().now())
    }

    /// Whether `handle` is past its expiry on [`now`](Self::now)'s clock.
    fn is_expired(&self, handle: &Verification) -> bool {
        handle.is_expired_at(self.now())
    }

    /// Why a validated `record` is too old to resolve at `now` (Verifik's clock), if it is:
    /// its age runs from `validatedAt`, else `updatedAt`, else `createdAt` (see
    /// [`resolve`](SessionResolver::resolve)).
    fn staleness(&self, record: &SessionRecord<'_>, now: OffsetDateTime) -> Option<String> {
        let dated = [
            ("validatedAt", record.validated_at),
            ("updatedAt", record.updated_at),
            ("createdAt", record.created_at),
        ];
        let Some((field, at)) = dated.into_iter().find_map(|(f, at)| Some((f, at?))) else {
            return Some(
                "has no validatedAt, updatedAt or createdAt to tell its age by".to_owned(),
            );
        };
        if at > now.saturating_add(CLOCK_SKEW) {
            return Some(format!(
                "has a {field} ahead of Verifik's clock: its age is unknown"
            ));
        }
        let max_age = time::Duration::try_from(self.resolve_max_age).unwrap_or(time::Duration::MAX);
        let age = now - at;
        (age > max_age).then(|| {
            format!(
                "is too old to resolve: {field} {} s ago, sessions resolve for {} s",
                age.whole_seconds(),
                max_age.whole_seconds()
            )
        })
    }

    /// A builder with `token` for Verifik's API.
    pub fn builder(token: impl Into<SecretString>) -> VerifikBuilder {
        VerifikBuilder::new(token)
    }

    /// A verifier configured from the environment (see [`VerifikBuilder::from_lookup`]).
    pub fn from_env() -> Result<Self> {
        VerifikBuilder::from_env()?.build()
    }

    /// The typed client, for what the traits do not cover (logins, token renewal, app
    /// registrations, listing validations).
    pub fn client(&self) -> &VerifikClient {
        &self.client
    }

    /// The provider id both [`PhoneVerifier::provider`] and [`SessionResolver::provider`]
    /// report (`verifik`), callable with both traits in scope.
    /// Through an `Arc` or a `Box`, both traits' methods are found before this one: write
    /// `(*shared).provider()`.
    pub fn provider(&self) -> ProviderId {
        PROVIDER
    }

    /// How `start` creates validations.
    pub fn mode(&self) -> &Mode {
        &self.mode
    }

    /// What Verifik can do through this verifier: codes by SMS and WhatsApp in manual mode
    /// (the project flow's channel in project-flow mode), session resolution, a session id on
    /// every successful check, and localized messages (`language`).
    pub fn capabilities_of(mode: &Mode) -> Capabilities {
        mode.channels()
            .into_iter()
            .fold(Capabilities::new(), Capabilities::with_otp_channel)
            .with_session_resolution(true)
            .with_check_returns_session(true)
            .with_localized_messages(true)
    }

    /// Sends a new code for the phone and channel of `verification`, skipping Verifik's
    /// resend cooldown (`force: true` in manual mode), and returns the new handle: keep it in
    /// place of the old one and check it. (Verifik checks codes against the phone's most recent
    /// validation, so the old handle checks the new code too; but it names the old validation,
    /// and when such a check's answer is lost the outcome can then only be read from the
    /// newer one: `Verified` if it was validated once the check was sent, else
    /// [`ErrorKind::OutcomeUnknown`].) A send:
    /// never retried.
    pub async fn resend(
        &self,
        verification: &Verification,
        context: &RequestContext,
    ) -> Result<Verification> {
        verification.ensure_provider(&PROVIDER)?;
        let phone = handle_phone(verification)?;
        let request =
            StartRequest::otp(verification.channel.clone(), phone.clone()).context(context.clone());
        self.start_with(&request, true).await
    }

    async fn start_with(&self, request: &StartRequest, force: bool) -> Result<Verification> {
        // Checked again: a verifier made by `new` may hold a mode set on its public fields.
        self.mode.validate()?;
        let capabilities = Self::capabilities_of(&self.mode);
        // `validate` refused a QR code (Verifik has no reverse flow, so every start has a phone).
        request.validate(&capabilities)?;
        let Some(phone) = &request.phone else {
            return Err(invalid("a phone number is required"));
        };
        let Some(gateway) = PhoneGateway::for_channel(&request.channel) else {
            return Err(Error::unsupported(format!(
                "Verifik sends codes by SMS or WhatsApp, not {}",
                request.channel
            ))
            .with_provider(PROVIDER));
        };
        let verifik_phone = VerifikPhone::from(phone);
        let created = match &*self.mode {
            Mode::Manual(manual) => {
                let body = manual_request(manual, request, verifik_phone, gateway, force);
                self.client.create_manual_validation(&body).await?
            }
            Mode::ProjectFlow(project) => {
                let body = project_request(project, request, verifik_phone, gateway, self.now());
                self.client.create_project_validation(&body).await?
            }
        };
        self.handle(&created, request, phone)
    }

    /// The handle of the validation `created` for `request`: a validation whose `_id` (or
    /// project flow id) a check would refuse cannot be checked, and since Verifik took the
    /// request its code may be on its way: [`ErrorKind::MaybeSent`], with the request id.
    fn handle(
        &self,
        created: &PhoneValidation,
        request: &StartRequest,
        phone: &PhoneNumber,
    ) -> Result<Verification> {
        let flow = created
            .project_flow
            .as_deref()
            .map(|flow| require_id("project flow id", flow))
            .transpose();
        if require_id("validation id", created.id.trim()).is_err() || flow.is_err() {
            let error = Error::new(
                ErrorKind::MaybeSent,
                "Verifik answered the create with an id that cannot be checked; the code may \
                 have been sent",
            )
            .with_provider(PROVIDER);
            return Err(match &created.request_id {
                Some(id) => error.with_request_id(id.clone()),
                None => error,
            });
        }
        // The channel Verifik reports, when it names one of ours.
        let channel = created
            .phone_gateway
            .as_ref()
            .and_then(PhoneGateway::channel)
            .unwrap_or_else(|| request.channel.clone());
        let gateway = if channel == Channel::Sms {
            "sms"
        } else {
            "whatsapp"
        };
        let mut handle = Verification::new(PROVIDER, created.id.clone(), channel)
            .with_phone(phone.clone())
            .with_extra(EXTRA_COUNTRY_CODE, phone.calling_code())
            .with_extra(EXTRA_PHONE_GATEWAY, gateway);
        if let Some(created_at) = created.created_at {
            handle = handle.with_created_at(created_at);
        }
        if let Some(expires_at) = created.expires_at {
            handle = handle.with_expires_at(expires_at);
        }
        match &*self.mode {
            Mode::Manual(_) => handle = handle.with_extra(EXTRA_MODE, "manual"),
            Mode::ProjectFlow(project) => {
                handle = handle
                    .with_extra(EXTRA_MODE, "project_flow")
                    .with_extra(EXTRA_PROJECT, project.project.clone());
                if let Some(flow) = &created.project_flow {
                    handle = handle.with_extra(EXTRA_PROJECT_FLOW, flow.clone());
                }
            }
        }
        Ok(handle)
    }

    /// One `PUT /v2/phone-validations`: `Ok` with the outcome of a 200 answer (itself an error
    /// when the answer is not a valid success), `Err` with the error the call failed with.
    async fn validate_once(
        &self,
        handle: &Verification,
        phone: &PhoneNumber,
        request: ValidateParts<'_>,
    ) -> std::result::Result<Result<CheckOutcome>, Error> {
        let response = self.client.validate_response(request).await?;
        outcome_of(handle, phone, &response, &|| self.client.current_token())
    }

    /// After a check sent at `sent_at` (this machine's clock; `started` on its monotonic one)
    /// whose answer was lost: read the validation back, and check once more only when the
    /// record shows the lost check did not take effect and no newer validation of the phone
    /// could have taken the code.
    ///
    /// All of it within what is left of the check's overall timeout ([`TimeBudget`]): a step the
    /// budget cuts short has learned nothing (a read, as a failed one; the repeated check, as
    /// another lost answer), the repeated check starts only when a whole attempt fits in what
    /// is left, and its refusal stands only if the record was read (or failed to be read)
    /// in time: when the time runs out first, the lost answer's error stands.
    async fn recover(
        &self,
        handle: &Verification,
        phone: &PhoneNumber,
        request: ValidateParts<'_>,
        (sent_at, started): (OffsetDateTime, Instant),
        lost: Error,
    ) -> Result<CheckOutcome> {
        let config = self.client.http().config();
        let budget = TimeBudget::after(started, &config.timeouts, &**config.clock());
        let first = budget.within(self.read_back(handle, phone, Some(sent_at)));
        match first.await.unwrap_or(ReadBack::Unknown) {
            ReadBack::Validated(outcome) => return Ok(outcome),
            ReadBack::Unknown => return Err(lost),
            ReadBack::NotValidated => {}
        }
        // Verifik checks a code against the phone's most recent validation waiting for one,
        // which may be newer than the handle's (after a resend): the lost check may have
        // validated that one, and a repeated check would then meet the handle's older code.
        let newer = budget.within(self.newer(handle, phone, request, sent_at));
        match newer.await.unwrap_or(Some(ReadBack::Unknown)) {
            None => {}
            Some(ReadBack::Validated(outcome)) => return Ok(outcome),
            Some(ReadBack::NotValidated | ReadBack::Unknown) => return Err(lost),
        }
        // The repeated check uses the code up: it starts only if a whole attempt fits, so that
        // the budget's end does not cut its attempt off midway (a retry it cuts short leaves
        // the outcome unknown, as a lost answer).
        if !budget.fits(config.timeouts.attempt) {
            return Err(lost);
        }
        let Some(answer) = budget
            .within(self.validate_once(handle, phone, request))
            .await
        else {
            return Err(lost);
        };
        let again = match answer {
            Ok(outcome) => return outcome,
            Err(err) if err.kind() == ErrorKind::OutcomeUnknown => err,
            // The lost check may have taken effect after the read: the validation is then no
            // longer waiting for a code, and Verifik answers that it is validated, that no
            // validation waits (`phone_validation_not_found`), or matches the code against an
            // older validation of the phone. Only the record tells which.
            Err(err) if errors::is_already_validated(&err) || err.kind() == ErrorKind::NotFound => {
                lost
            }
            Err(err) => match errors::check_outcome(&err, self.is_expired(handle)) {
                Some(rejected) => {
                    // Not validated at the first read: a validation now is the lost check's
                    // or this one's, whatever the clocks say.
                    let reread = budget.within(self.read_back(handle, phone, None));
                    return match reread.await {
                        Some(ReadBack::Validated(outcome)) => Ok(outcome),
                        Some(ReadBack::NotValidated | ReadBack::Unknown) => Ok(rejected),
                        // The time ran out before the record could tell: never a rejection,
                        // the lost answer's doubt stands.
                        None => Err(lost),
                    };
                }
                // Refused without an outcome (429 or 503 after the retries, 401, no
                // connection): the repeated check did nothing, but the lost one may have taken
                // effect meanwhile. The record tells; else the lost answer stays in doubt, never
                // a retryable error whose retry would meet a used code.
                None => lost,
            },
        };
        let reread = budget.within(self.read_back(handle, phone, None));
        match reread.await.unwrap_or(ReadBack::Unknown) {
            ReadBack::Validated(outcome) => Ok(outcome),
            ReadBack::NotValidated | ReadBack::Unknown => Err(again),
        }
    }

    /// Reads the handle's validation by id. With `sent_at`, when the lost check was sent (this
    /// machine's clock): a validated record last changed more than [`CLOCK_SKEW`] before it,
    /// by its `validatedAt` or, without one, its `updatedAt` (a validation is never later than
    /// the record's last update), was validated by an earlier check, and says nothing of this
    /// one, whatever its code (Verifik answers a check of a validated validation 404 or 409
    /// whatever the code): `Unknown`; a record without either date is taken for
    /// this check's. `None` after an earlier read found it not validated: a validation since
    /// is this recovery's, whatever the clocks say.
    async fn read_back(
        &self,
        handle: &Verification,
        phone: &PhoneNumber,
        sent_at: Option<OffsetDateTime>,
    ) -> ReadBack {
        let Ok(id) = require_id("validation id", handle.reference.trim()) else {
            return ReadBack::Unknown;
        };
        let Ok(record) = self.client.get_validation(id).await else {
            return ReadBack::Unknown;
        };
        let reported = match (&record.country_code, &record.phone) {
            // Read by the handle's own id: a record that names no number is its validation.
            (None, None) => phone.clone(),
            _ => match record.phone_number() {
                Some(reported) if reported == *phone => reported,
                _ => return ReadBack::Unknown,
            },
        };
        if let Some(sent_at) = sent_at
            && record.is_validated()
            && record
                .validated_at
                .or(record.updated_at)
                .is_some_and(|at| at < sent_at.saturating_sub(CLOCK_SKEW))
        {
            return ReadBack::Unknown;
        }
        read_back_of(handle, &record, reported)
    }

    /// What the phone's other validations say of a check `request`, sent at `sent_at` (this
    /// machine's clock), whose answer was lost: `None` when the handle's validation is the
    /// phone's latest, so that a repeated check meets it.
    ///
    /// Verifik does not document the order of `GET /v2/phone-validations`, so one page of
    /// [`MAX_PAGE_SIZE`] is read and ordered by `createdAt` here; a page that may not hold
    /// every validation of the phone (as many as asked for, or a `total` above those listed)
    /// proves nothing. Another validation is the phone's latest when it was created after the
    /// handle's (both `createdAt` as listed, on Verifik's clock); the lost check took it only if
    /// the check's lookup finds it and it was validated no earlier than [`CLOCK_SKEW`] before
    /// `sent_at` (an older validation was validated by its own check, not by this one), by its
    /// `validatedAt`: without one it proves nothing (`updatedAt` may be later than the
    /// validation), and the outcome is unknown.
    async fn newer(
        &self,
        handle: &Verification,
        phone: &PhoneNumber,
        request: ValidateParts<'_>,
        sent_at: OffsetDateTime,
    ) -> Option<ReadBack> {
        let Ok(number) = VerifikPhone::new(request.country_code, request.phone) else {
            return Some(ReadBack::Unknown);
        };
        let mut query = ListValidations::new().phone(&number).limit(MAX_PAGE_SIZE);
        if let Some(project) = request.project {
            query = query.project(project);
        }
        let Ok(page) = self.client.list_validations(&query).await else {
            return Some(ReadBack::Unknown);
        };
        let listed = page.data.len();
        let complete = listed < MAX_PAGE_SIZE as usize
            && page
                .pagination
                .is_none_or(|p| p.total <= u64::try_from(listed).unwrap_or(u64::MAX));
        if !complete {
            return Some(ReadBack::Unknown);
        }
        let reference = handle.reference.trim();
        let Some(own) = page.data.iter().find(|v| v.id.trim() == reference) else {
            return Some(ReadBack::Unknown);
        };
        let newest = match Latest::of(own, &page.data) {
            // The handle's validation is the phone's latest: a repeated check meets it.
            Latest::Own => return None,
            Latest::Other(newest) => newest,
            Latest::Unknown => return Some(ReadBack::Unknown),
        };
        // Another validation, newer than the handle's: the lost check may have taken it only
        // if the check's lookup (number, gateway, project, project flow) finds it. Ids are hex
        // ObjectIds, the same whatever their case (as `resolve` compares projects).
        let differs = |ours: Option<&str>, theirs: Option<&str>| {
            ours.zip(theirs)
                .is_some_and(|(ours, theirs)| !ours.trim().eq_ignore_ascii_case(theirs.trim()))
        };
        let found = !differs(
            request.gateway.map(PhoneGateway::as_str),
            newest.phone_gateway.as_ref().map(PhoneGateway::as_str),
        ) && !differs(request.project, newest.project.as_deref())
            && !differs(request.project_flow, newest.project_flow.as_deref());
        // Validated by this check only if validated after it was sent.
        let since = sent_at.saturating_sub(CLOCK_SKEW);
        let recent = newest.validated_at.is_some_and(|at| at >= since);
        Some(match newest.phone_number() {
            Some(reported) if found && recent && reported == *phone => {
                read_back_of(handle, newest, reported)
            }
            _ => ReadBack::Unknown,
        })
    }
}

/// How far Verifik's clock (`validatedAt`) may be behind this machine's, at most, when a
/// validation is matched to the moment a check was sent.
const CLOCK_SKEW: time::Duration = time::Duration::minutes(2);

/// Which of the listed validations of a phone was created last.
enum Latest<'a> {
    /// The handle's own.
    Own,
    /// Another one, created after the handle's.
    Other(&'a PhoneValidation),
    /// The order cannot be told: a `createdAt` missing, or two alike.
    Unknown,
}

impl<'a> Latest<'a> {
    /// The latest of `listed`, compared by `createdAt`; `own` is the handle's, one of them.
    fn of(own: &PhoneValidation, listed: &'a [PhoneValidation]) -> Self {
        let others = || listed.iter().filter(|v| v.id.trim() != own.id.trim());
        if others().next().is_none() {
            return Self::Own;
        }
        let Some(since) = own.created_at else {
            return Self::Unknown;
        };
        let mut latest: Option<(OffsetDateTime, &PhoneValidation)> = None;
        let mut tied = false;
        for record in others() {
            let Some(at) = record.created_at else {
                return Self::Unknown;
            };
            if at == since {
                return Self::Unknown;
            }
            if at < since {
                continue;
            }
            match latest {
                Some((best, _)) if at < best => {}
                Some((best, _)) if at == best => tied = true,
                _ => {
                    latest = Some((at, record));
                    tied = false;
                }
            }
        }
        match latest {
            None => Self::Own,
            Some(_) if tied => Self::Unknown,
            Some((_, record)) => Self::Other(record),
        }
    }
}

/// What `record`, a validation of `reported` (the handle's number), says of the handle's check.
fn read_back_of(
    handle: &Verification,
    record: &PhoneValidation,
    reported: PhoneNumber,
) -> ReadBack {
    if !record.is_validated() {
        return ReadBack::NotValidated;
    }
    let Ok(session) = SessionId::new(&record.id) else {
        return ReadBack::Unknown;
    };
    ReadBack::Validated(CheckOutcome::Verified(
        Verified::new(handle.channel.clone())
            .with_phone(Some(reported))
            .with_session_id(Some(session))
            .with_verified_at(record.validated_at),
    ))
}

/// The string extras a check reads, found in one pass over the handle's extras (as
/// [`Verification::extra_str`] finds them: an extra that is not a string is absent).
#[derive(Default)]
struct HandleExtras<'a> {
    country_code: Option<&'a str>,
    phone_gateway: Option<&'a str>,
    project: Option<&'a str>,
    project_flow: Option<&'a str>,
}

impl<'a> HandleExtras<'a> {
    fn of(handle: &'a Verification) -> Self {
        let mut extras = Self::default();
        for (key, value) in &handle.extras {
            let slot = match key {
                EXTRA_COUNTRY_CODE => &mut extras.country_code,
                EXTRA_PHONE_GATEWAY => &mut extras.phone_gateway,
                EXTRA_PROJECT => &mut extras.project,
                EXTRA_PROJECT_FLOW => &mut extras.project_flow,
                _ => continue,
            };
            *slot = value.as_str();
        }
        extras
    }
}

/// What reading a validation back after a lost answer tells.
enum ReadBack {
    /// It is validated: the outcome to report.
    Validated(CheckOutcome),
    /// It exists for this phone and is not validated.
    NotValidated,
    /// Nothing certain: the read failed or the record does not match the handle.
    Unknown,
}

/// Whether Verifik's `countryCode` (with or without `+`) and national `phone` are exactly
/// `number`'s calling code and the digits after it.
fn same_number(number: &PhoneNumber, country_code: &str, national: &str) -> bool {
    let calling = number.calling_code();
    country_code.trim().trim_start_matches('+') == &calling[1..]
        && national.trim() == &number.e164()[calling.len()..]
}

/// What a check's answer says: `Ok` with the outcome of a 200 answer (itself an error when the
/// answer is not a valid success), `Err` with the error the answer carries.
/// `secrets` are what the error must not show.
fn outcome_of(
    handle: &Verification,
    phone: &PhoneNumber,
    response: &HttpResponse,
    secrets: errors::Secrets<'_>,
) -> std::result::Result<Result<CheckOutcome>, Error> {
    let answer = errors::decode_payload::<CheckAnswer<'_>>(response, Shape::Data, secrets)?;
    Ok(checked(handle, phone, &answer, secrets))
}

/// The error for a check Verifik took (200, validated) whose answer cannot be used: what it did
/// with the code is unknown.
fn unusable(what: &str) -> Error {
    Error::new(
        ErrorKind::OutcomeUnknown,
        format!(
            "validate answered with {what}; the code may have been used, start a new verification"
        ),
    )
    .with_provider(PROVIDER)
}

/// The outcome of a check Verifik answered with 200; `secrets` are what its error must not
/// show.
fn checked(
    handle: &Verification,
    phone: &PhoneNumber,
    validated: &CheckAnswer<'_>,
    secrets: errors::Secrets<'_>,
) -> Result<CheckOutcome> {
    if !validated.is_validated() {
        // Verifik documents only `validated` for a 200: it took the code, and what it did
        // with it is unknown (never a rejection). Its status is Verifik's text, shown clean.
        let status = validated
            .status
            .as_deref()
            .and_then(|status| errors::shown_value(status, secrets))
            .unwrap_or_else(|| "none".to_owned());
        return Err(unusable(&format!("status {status:?}")));
    }
    let reported = match (&validated.country_code, &validated.phone) {
        // The number checked, as Verifik usually reports it: no parse needed.
        (Some(code), Some(national)) if same_number(phone, code, national) => phone.clone(),
        (Some(_), Some(_)) => validated
            .phone_number()
            .ok_or_else(|| unusable("a phone number that is not valid"))?,
        _ => phone.clone(),
    };
    let session =
        SessionId::new(&validated.id).map_err(|_| unusable("an id that is not a session id"))?;
    Ok(CheckOutcome::Verified(
        Verified::new(handle.channel.clone())
            .with_phone(Some(reported))
            .with_session_id(Some(session)),
    ))
}

#[async_trait]
impl PhoneVerifier for Verifik {
    fn provider(&self) -> ProviderId {
        Self::provider(self)
    }

    fn capabilities(&self) -> Capabilities {
        Self::capabilities_of(&self.mode)
    }

    async fn start(&self, request: &StartRequest) -> Result<Verification> {
        let force = matches!(&*self.mode, Mode::Manual(ManualMode { force: true, .. }));
        self.start_with(request, force).await
    }

    async fn check(
        &self,
        verification: &Verification,
        request: &CheckRequest,
    ) -> Result<CheckOutcome> {
        verification.ensure_provider(&PROVIDER)?;
        // Verifik checks by phone and code, but the reference is the validation `_id` a lost
        // answer is read back by: a handle whose reference is not one was not made by `start`.
        require_id("validation id", verification.reference.trim())?;
        let code = request.require_code()?;
        require_digits(code)?;
        let handle = verification;
        let phone = handle_phone(handle)?;
        let extras = HandleExtras::of(handle);
        let country_code = extras.country_code.unwrap_or(phone.calling_code());
        let (country_code, national) = checked_parts(country_code, phone.national_number())?;
        let gateway = match extras.phone_gateway {
            Some(raw) => raw
                .parse::<PhoneGateway>()
                .unwrap_or_else(|never| match never {}),
            None => PhoneGateway::for_channel(&handle.channel).ok_or_else(|| {
                invalid(format!(
                    "Verifik has no verification on channel {}",
                    handle.channel
                ))
            })?,
        };
        if !matches!(gateway, PhoneGateway::Sms | PhoneGateway::WhatsApp) {
            return Err(invalid(format!(
                "this handle names an unknown Verifik gateway {gateway}"
            )));
        }
        let request = ValidateParts {
            country_code,
            phone: &national,
            code,
            project: extras
                .project
                .map(|p| require_id("project id", p))
                .transpose()?,
            project_flow: extras
                .project_flow
                .map(|f| require_id("project flow id", f))
                .transpose()?,
            gateway: Some(&gateway),
        };
        // Built in a statement of its own, so that the check's future does not keep the
        // request beside the HTTP layer's copy. It fails before anything is sent (never
        // `OutcomeUnknown`): such an error is classified as the answer's errors are.
        let http = match self.client.validate_request(request) {
            Ok(http) => http,
            Err(err) => return errors::check_outcome(&err, false).ok_or(err),
        };
        // Before the check leaves: a validation validated earlier was not validated by it, and
        // the recovery of a lost answer keeps within what is left of the overall timeout.
        let sent = (self.now(), Instant::now());
        let answer = self.client.http().execute(http).await;
        let lost = match answer.and_then(|response| {
            outcome_of(handle, phone, &response, &|| self.client.current_token())
        }) {
            Ok(outcome) => return outcome,
            // The answer was lost, or is a 2xx that cannot be read: Verifik may have taken the
            // check, and only the record can tell what it did with the code.
            Err(err) if err.kind() == ErrorKind::OutcomeUnknown => err,
            Err(err) => return errors::check_outcome(&err, self.is_expired(handle)).ok_or(err),
        };
        // Boxed: the rare path does not weigh on every check's future.
        Box::pin(self.recover(handle, phone, request, sent, lost)).await
    }
}

#[async_trait]
impl SessionResolver for Verifik {
    fn provider(&self) -> ProviderId {
        Self::provider(self)
    }

    /// Resolves a validation id: `validated` gives the phone; any other status fails with
    /// [`ErrorKind::Expired`] when its `expiresAt` has passed (on Verifik's clock, from the
    /// answer's signature, else this machine's) and with [`ErrorKind::NotFound`] otherwise.
    ///
    /// Verifik's ids are MongoDB ObjectIds (a timestamp, a per-process value and a counter),
    /// so one can be guessed from another: a validated record resolves only up to
    /// [`resolve_max_age`](Self::resolve_max_age) after its validation, older ones fail with
    /// [`ErrorKind::Expired`]. The age runs from `validatedAt`; Verifik's real answers seldom
    /// carry it, so else from `updatedAt` (a validation is the last change Verifik documents
    /// to a record), else from `createdAt` (earlier than the validation: a record created
    /// within the age was validated within it), to now on Verifik's clock (the answer's
    /// signature, else this machine's). A record without any of these dates, or dated more than
    /// two minutes ahead of that clock, is `Expired` too. In project-flow mode a record that
    /// names another project (ids compared without regard to ASCII case: ObjectIds are hex) is
    /// [`ErrorKind::NotFound`]; a record that names no project is accepted as one of the mode's:
    /// Verifik documents no field of this answer (its retrieve page shows `data: {…}`), and
    /// `project` is only among the fields seen in sample payloads, none promising it on every
    /// record of a project, so refusing it could refuse every resolve. Such a record may be a
    /// manual validation of the same account (manual ones carry no project), which the token
    /// reads anyway; the age limit holds for it as for any. Resolve only ids the backend
    /// obtained itself (or holds sealed), and each once: see the crate documentation.
    async fn resolve(
        &self,
        session: &SessionId,
        _context: &RequestContext,
    ) -> Result<ResolvedSession> {
        let id = require_id("validation id", session.as_str())?;
        let request = self.client.get_validation_request(id)?;
        let response = self.client.http().execute(request).await?;
        let secrets = || self.client.current_token();
        let (record, envelope) =
            errors::decode_borrowed::<SessionRecord<'_>>(&response, Shape::Data, &secrets)?;
        // The rare answers: read in full (their request id cleaned), as the typed client reads
        // them.
        let refused = |kind: ErrorKind, message: String| -> Result<ResolvedSession> {
            let (_, envelope): (serde::de::IgnoredAny, _) =
                errors::decode(&response, Shape::Data, &secrets)?;
            let error = Error::new(kind, message).with_provider(PROVIDER);
            Err(match envelope.request_id {
                Some(request_id) => error.with_request_id(request_id),
                None => error,
            })
        };
        if let Mode::ProjectFlow(project) = &*self.mode
            && let Some(theirs) = &record.project
            && !theirs.trim().eq_ignore_ascii_case(&project.project)
        {
            return refused(
                ErrorKind::NotFound,
                format!("Verifik validation {id} belongs to another project than this verifier's"),
            );
        }
        if !record.is_validated() {
            let (validation, envelope): (PhoneValidation, _) =
                errors::decode(&response, Shape::Data, &secrets)?;
            // Named by the id asked for, checked, not by the `_id` Verifik wrote.
            let validation = PhoneValidation {
                id: id.to_owned(),
                request_id: envelope.request_id,
                signed_at: envelope.signed_at,
                ..validation
            };
            return Err(not_verified(&validation, self.now(), &secrets));
        }
        let now = envelope.signed_at().unwrap_or_else(|| self.now());
        if let Some(stale) = self.staleness(&record, now) {
            return refused(
                ErrorKind::Expired,
                format!("Verifik validation {id} {stale}"),
            );
        }
        let phone = record.phone_number().ok_or_else(|| {
            Error::new(
                ErrorKind::Decode,
                "the validation has no valid countryCode and phone",
            )
            .with_provider(PROVIDER)
        })?;
        let channel = record
            .phone_gateway
            .as_deref()
            .and_then(|gateway| {
                gateway
                    .parse::<PhoneGateway>()
                    .unwrap_or_else(|never| match never {})
                    .channel()
            })
            .unwrap_or_else(|| Channel::Other("unknown".to_owned()));
        let mut verified =
            ResolvedSession::new(phone, channel, PROVIDER).with_verified_at(record.validated_at);
        if let Some(kind) = &record.kind {
            verified = verified.with_extra("type", kind.as_ref());
        }
        if let Some(project) = &record.project {
            verified = verified.with_extra("project", project.as_ref());
        }
        if let Some(method) = record
            .validation_method
            .as_deref()
            .filter(|m| *m != ValidationMethod::VerificationCode.as_str())
        {
            verified = verified.with_extra("validation_method", method);
        }
        Ok(verified)
    }
}

/// The error for a validation that exists but is not validated: [`ErrorKind::Expired`] past
/// its `expiresAt` on Verifik's clock (the answer's signature, else `local_now`, this
/// machine's time on the HTTP settings' clock), [`ErrorKind::NotFound`] otherwise. Its status,
/// Verifik's text, is quoted and kept as provider code clean ([`errors::shown_value`]: without
/// `secrets`, numbers masked, short).
fn not_verified(
    validation: &PhoneValidation,
    local_now: OffsetDateTime,
    secrets: errors::Secrets<'_>,
) -> Error {
    let status = validation
        .status
        .as_ref()
        .and_then(|status| errors::shown_value(status.as_str(), secrets))
        .unwrap_or_else(|| "unknown".to_owned());
    let now = validation.signed_at.unwrap_or(local_now);
    let expired = validation.expires_at.is_some_and(|at| at <= now);
    let (kind, message) = if expired {
        (
            ErrorKind::Expired,
            format!(
                "Verifik validation {} expired before it was validated (status {status})",
                validation.id
            ),
        )
    } else {
        (
            ErrorKind::NotFound,
            format!(
                "Verifik validation {} is not verified (status {status})",
                validation.id
            ),
        )
    };
    let mut error = Error::new(kind, message)
        .with_provider(PROVIDER)
        .with_provider_code(status);
    if let Some(id) = &validation.request_id {
        error = error.with_request_id(id.clone());
    }
    error
}

fn manual_request(
    manual: &ManualMode,
    request: &StartRequest,
    phone: VerifikPhone,
    gateway: PhoneGateway,
    force: bool,
) -> CreateManualValidation {
    let mut body = CreateManualValidation::new(phone, gateway).force(force || manual.force);
    if let Some(title) = &manual.title {
        body = body.title(title.clone());
    }
    if let Some(template) = &manual.whatsapp_template {
        body = body.whatsapp_template(template.clone());
    }
    if let Some(language) = &request.language {
        body = body.language(language.primary());
    }
    if let Some(ip) = request.context.end_user_ip {
        body = body.ip_address(ip);
    }
    body
}

fn project_request(
    project: &ProjectFlowMode,
    request: &StartRequest,
    phone: VerifikPhone,
    gateway: PhoneGateway,
    now: OffsetDateTime,
) -> CreateProjectValidation {
    let mut body =
        CreateProjectValidation::new(&project.project, phone, project.validation_type.clone())
            .gateway(gateway);
    if let Some(language) = &request.language {
        body = body.language(language.primary());
    }
    if let Some(validity) = project.validity
        && let Ok(validity) = time::Duration::try_from(validity)
    {
        body = body.expires_at(now.saturating_add(validity));
    }
    if let Some(url) = &project.redirect_url {
        body = body.redirect_url(url.clone());
    }
    if let Some(url) = &project.webhook_url {
        body = body.webhook_url(url.clone());
    }
    if let Some(url) = &project.identity_url {
        body = body.identity_url(url.clone());
    }
    if let Some(yes) = project.requires_2fa {
        body = body.requires_2fa(yes);
    }
    if let Some(ip) = request.context.end_user_ip {
        body = body.ip_address(ip);
    }
    body
}

fn handle_phone(handle: &Verification) -> Result<&PhoneNumber> {
    handle
        .phone
        .as_ref()
        .ok_or_else(|| invalid("this Verifik handle has no phone number"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_is_callable_with_both_traits_in_scope() {
        let verifik = Verifik::builder("a-token").build().unwrap();
        assert_eq!(verifik.provider(), PROVIDER);
        assert_eq!(PhoneVerifier::provider(&verifik), verifik.provider());
        assert_eq!(SessionResolver::provider(&verifik), verifik.provider());
    }

    #[test]
    fn extras_are_found_as_extra_str_finds_them() {
        let handles = [
            Verification::new(PROVIDER, "a", Channel::Sms),
            Verification::new(PROVIDER, "a", Channel::Sms)
                .with_extra(EXTRA_COUNTRY_CODE, "+57")
                .with_extra(EXTRA_PHONE_GATEWAY, "sms")
                .with_extra(EXTRA_MODE, "project_flow")
                .with_extra(EXTRA_PROJECT, "p1")
                .with_extra(EXTRA_PROJECT_FLOW, "f1")
                .with_extra("other", "x"),
            Verification::new(PROVIDER, "a", Channel::WhatsApp)
                .with_extra(EXTRA_COUNTRY_CODE, 57)
                .with_extra(EXTRA_PROJECT, serde_json::Value::Null)
                .with_extra(EXTRA_PHONE_GATEWAY, "whatsapp"),
        ];
        for handle in &handles {
            let extras = HandleExtras::of(handle);
            assert_eq!(extras.country_code, handle.extra_str(EXTRA_COUNTRY_CODE));
            assert_eq!(extras.phone_gateway, handle.extra_str(EXTRA_PHONE_GATEWAY));
            assert_eq!(extras.project, handle.extra_str(EXTRA_PROJECT));
            assert_eq!(extras.project_flow, handle.extra_str(EXTRA_PROJECT_FLOW));
        }
    }

    #[test]
    fn the_latest_validation_is_found_by_creation_time_in_any_order() {
        let at = |id: &str, created: Option<&str>| -> PhoneValidation {
            serde_json::from_value(serde_json::json!({"_id": id, "createdAt": created})).unwrap()
        };
        let own = at("a", Some("2024-12-02T17:05:00Z"));
        let older = at("o", Some("2024-12-01T09:00:00Z"));
        let newer = at("n", Some("2024-12-02T17:06:00Z"));
        let latest = at("l", Some("2024-12-02T17:07:00Z"));
        let name = |found: Latest<'_>| match found {
            Latest::Own => "own".to_owned(),
            Latest::Other(record) => record.id.clone(),
            Latest::Unknown => "unknown".to_owned(),
        };
        let cases: [(Vec<PhoneValidation>, &str); 8] = [
            (vec![own.clone()], "own"),
            (vec![older.clone(), own.clone()], "own"),
            (vec![own.clone(), older.clone()], "own"),
            (vec![newer.clone(), own.clone(), latest.clone()], "l"),
            (
                vec![latest.clone(), older.clone(), newer.clone(), own.clone()],
                "l",
            ),
            // No order without every creation time, nor between two alike.
            (vec![own.clone(), at("x", None)], "unknown"),
            (
                vec![own.clone(), at("x", Some("2024-12-02T17:05:00Z"))],
                "unknown",
            ),
            (
                vec![
                    own.clone(),
                    newer.clone(),
                    at("x", Some("2024-12-02T17:06:00Z")),
                ],
                "unknown",
            ),
        ];
        for (listed, expected) in cases {
            let ids: Vec<&str> = listed.iter().map(|v| v.id.as_str()).collect();
            assert_eq!(name(Latest::of(&own, &listed)), expected, "{ids:?}");
        }
        // The handle's own without a creation time: alone, it is the latest; else unknown.
        let undated = at("a", None);
        assert!(matches!(
            Latest::of(&undated, std::slice::from_ref(&undated)),
            Latest::Own
        ));
        let listed = [undated.clone(), older];
        assert!(matches!(Latest::of(&undated, &listed), Latest::Unknown));
    }

    #[test]
    fn a_verifier_on_a_client_keeps_its_configured_resolve_max_age() {
        let max_age = Duration::from_secs(60);
        let client = VerifikBuilder::new("t")
            .resolve_max_age(max_age)
            .build_client()
            .unwrap();
        assert_eq!(
            Verifik::new(client.clone(), Mode::manual()).resolve_max_age(),
            max_age
        );
        // A client for another token keeps it too.
        let other = client.with_token(SecretString::from("u")).unwrap();
        assert_eq!(
            Verifik::new(other, Mode::manual()).resolve_max_age(),
            max_age
        );
        let login = VerifikBuilder::without_token()
            .resolve_max_age(max_age)
            .build_client()
            .unwrap();
        assert_eq!(
            Verifik::new(login, Mode::manual()).resolve_max_age(),
            max_age
        );
        let default = VerifikBuilder::new("t").build_client().unwrap();
        assert_eq!(
            Verifik::new(default, Mode::manual()).resolve_max_age(),
            crate::DEFAULT_RESOLVE_MAX_AGE
        );
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

    #[tokio::test]
    async fn an_unsigned_pending_validation_expires_on_the_configured_clock() {
        use phone_verify_core::http::{ConfigureHttp, HttpConfig};
        use wiremock::matchers::{method, path};
        use wiremock::{Mock, MockServer, ResponseTemplate};

        const ID: &str = "674de8df21c72be3cc42b8a7";
        let server = MockServer::start().await;
        // Unsigned: no Verifik clock in the answer, so this machine's (the configured one)
        // judges the expiry, 10 minutes away on the system clock, an hour past on the
        // configured one.
        let expires_at = (OffsetDateTime::now_utc() + time::Duration::minutes(10))
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap();
        let body = serde_json::json!({"success": true, "data": {
            "_id": ID, "status": "sent", "countryCode": "+507", "phone": "62647737",
            "phoneGateway": "sms", "type": "validation", "expiresAt": expires_at,
        }});
        Mock::given(method("GET"))
            .and(path(format!("/v2/phone-validations/{ID}")))
            .respond_with(ResponseTemplate::new(200).set_body_json(body))
            .expect(1)
            .mount(&server)
            .await;
        let verifier = VerifikBuilder::new("t")
            .base_url(&format!("{}/v2", server.uri()))
            .http_config(HttpConfig::default().with_clock(Arc::new(HourAhead)))
            .build()
            .unwrap();
        let err = verifier
            .resolve(&SessionId::new(ID).unwrap(), &RequestContext::new())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Expired, "{err}");
    }

    /// A project-flow code's `expiresAt` is counted from the configured clock's now.
    #[tokio::test]
    async fn a_project_flow_validity_counts_from_the_configured_clock() {
        use phone_verify_core::http::{ConfigureHttp, HttpConfig};
        use wiremock::matchers::{method, path};
        use wiremock::{Mock, MockServer, ResponseTemplate};

        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/v2/phone-validations"))
            .respond_with(ResponseTemplate::new(400))
            .expect(1)
            .mount(&server)
            .await;
        let mode = Mode::project_flow("507f1f77bcf86cd799439011")
            .unwrap()
            .with_validity(Duration::from_secs(600))
            .unwrap();
        let verifier = VerifikBuilder::new("t")
            .base_url(&format!("{}/v2", server.uri()))
            .mode(mode)
            .http_config(HttpConfig::default().with_clock(Arc::new(HourAhead)))
            .build()
            .unwrap();
        let phone: PhoneNumber = "+50762647737".parse().unwrap();
        let request = StartRequest::new(phone_verify_core::Channel::WhatsApp, Some(phone));
        let before = OffsetDateTime::now_utc();
        verifier.start(&request).await.unwrap_err();
        let sent = &server.received_requests().await.unwrap()[0];
        let body: serde_json::Value = serde_json::from_slice(&sent.body).unwrap();
        let expires_at = OffsetDateTime::parse(
            body["expiresAt"].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap();
        // Ten minutes past the configured clock's now, an hour ahead of this machine's.
        assert!(
            expires_at > before + time::Duration::minutes(65),
            "{expires_at}"
        );
    }

    #[test]
    fn only_the_exact_number_is_the_same_number() {
        let number: PhoneNumber = "+573001234567".parse().unwrap();
        assert!(same_number(&number, "+57", "3001234567"));
        assert!(same_number(&number, "57", " 3001234567 "));
        assert!(!same_number(&number, "+57", "3001234568"));
        assert!(!same_number(&number, "+1", "3001234567"));
        assert!(!same_number(&number, "+57", "03001234567"));
    }
}
