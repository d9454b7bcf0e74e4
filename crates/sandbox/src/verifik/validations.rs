//! Phone validations: create (project flow, app registration, manual), validate, list, get.

use axum::extract::{Path, State as AxumState};
use axum::response::Response;
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use super::auth::{Caller, authorize, authorize_caller, authorize_registration, issue_token};
use super::constants::{OTP_LENGTH, OTP_MINUTES, RESEND_COOLDOWN_SECS};
use super::envelope::{envelope, signature};
use super::error::{VfError, respond};
use super::fields::{clean_phone, otp_field, valid_country_code};
use super::record::{PhoneValidation, Status};
use super::slot::{Verifik, VerifikSlot as State};
use crate::body::Input;
use crate::model::{Channel, Provider, SentMessage};
use crate::otp::{CodeCheck, PendingCode};
use crate::phone;
use crate::texts::{self, Lang};

/// Largest page size of the list endpoint.
const MAX_LIMIT: usize = 100;

/// Most characters of `title` (the brand in the message): "1–15 chars", as documented for
/// the manual endpoint; the sandbox holds every create endpoint to it.
const MAX_TITLE_CHARS: usize = 15;

/// Most bytes of a stored URL (`redirectUrl`, `webhookUrl`, `identityUrl`).
const MAX_URL_BYTES: usize = 2048;

/// Most bytes of a stored `ipAddress` (a textual IPv6 address takes at most 45).
const MAX_IP_BYTES: usize = 64;

/// Most bytes of the manual endpoint's `language` (a language tag).
const MAX_LANGUAGE_BYTES: usize = 35;

/// An optional text field of at most `max` bytes, else Verifik's validation error `refusal`.
fn bounded(
    input: &Input,
    key: &str,
    max: usize,
    refusal: &'static str,
) -> Result<Option<String>, VfError> {
    match input.str(key) {
        Some(text) if text.len() > max => Err(VfError::invalid(refusal)),
        other => Ok(other),
    }
}

/// The optional `title`, 1 to 15 characters.
fn title_of(input: &Input) -> Result<Option<String>, VfError> {
    let title = input.str("title");
    if title
        .as_ref()
        .is_some_and(|t| t.chars().count() > MAX_TITLE_CHARS)
    {
        return Err(VfError::invalid(
            "Invalid title. The title must have between 1 and 15 characters.",
        ));
    }
    Ok(title)
}

/// The optional `ipAddress`, at most [`MAX_IP_BYTES`].
fn ip_address_of(input: &Input) -> Result<Option<String>, VfError> {
    bounded(
        input,
        "ipAddress",
        MAX_IP_BYTES,
        "Invalid ipAddress. It must have at most 64 characters.",
    )
}

/// The stored fields of a project-flow create that the request may set freely, each bounded.
struct FreeFields {
    title: Option<String>,
    redirect_url: Option<String>,
    webhook_url: Option<String>,
    identity_url: Option<String>,
    ip_address: Option<String>,
}

fn free_fields(input: &Input) -> Result<FreeFields, VfError> {
    Ok(FreeFields {
        title: title_of(input)?,
        redirect_url: bounded(
            input,
            "redirectUrl",
            MAX_URL_BYTES,
            "Invalid redirectUrl. It must have at most 2048 characters.",
        )?,
        webhook_url: bounded(
            input,
            "webhookUrl",
            MAX_URL_BYTES,
            "Invalid webhookUrl. It must have at most 2048 characters.",
        )?,
        identity_url: bounded(
            input,
            "identityUrl",
            MAX_URL_BYTES,
            "Invalid identityUrl. It must have at most 2048 characters.",
        )?,
        ip_address: ip_address_of(input)?,
    })
}

/// Everything needed to create (and usually send) a phone validation.
#[derive(Debug)]
pub(super) struct NewValidation {
    pub(super) source: &'static str,
    pub(super) project: Option<String>,
    pub(super) project_flow: Option<String>,
    pub(super) app_registration: Option<String>,
    pub(super) country_code: String,
    pub(super) phone: String,
    pub(super) e164: String,
    pub(super) gateway: String,
    pub(super) kind: String,
    pub(super) validation_method: String,
    pub(super) title: Option<String>,
    pub(super) language: String,
    pub(super) redirect_url: Option<String>,
    pub(super) webhook_url: Option<String>,
    pub(super) identity_url: Option<String>,
    pub(super) requires_2fa: bool,
    pub(super) ip_address: Option<String>,
    pub(super) expires_at: Option<OffsetDateTime>,
    /// Whether a code is sent (false for the `manual` validation method).
    pub(super) send: bool,
}

/// Builds a validation and, when asked, sends its code.
pub(super) fn issue(state: &mut State, spec: NewValidation) -> PhoneValidation {
    let now = state.now();
    let id = state.rng.object_id(now);
    let expires_at = spec
        .expires_at
        .unwrap_or_else(|| now.saturating_add(Duration::minutes(OTP_MINUTES)));
    let (status, code, provider_confirmation) = if spec.send {
        let code = state.new_code(&spec.e164, OTP_LENGTH);
        let lang = Lang::from_tag(Some(&spec.language));
        let brand = spec.title.clone().unwrap_or_else(|| "Verifik".to_owned());
        let sms = spec.gateway == "sms";
        state.send(SentMessage {
            provider: Provider::Verifik,
            phone: Some(spec.e164.clone()),
            email: None,
            channel: if sms { Channel::Sms } else { Channel::Whatsapp },
            code: Some(code.clone()),
            text: texts::otp_message(lang, &brand, &code, 10),
            lang: lang.code().to_owned(),
            reference: Some(id.clone()),
            sent_at: now,
        });
        let digits = spec.e164.trim_start_matches('+').to_owned();
        let confirmation = if sms {
            json!({"sid": format!("SM{}", state.rng.hex(16)), "status": "queued"})
        } else {
            json!({
                "messaging_product": "whatsapp",
                "contacts": [{"input": digits, "wa_id": digits}],
                "messages": [{"id": format!("wamid.{}", state.rng.alphanumeric(40)), "message_status": "accepted"}],
            })
        };
        (
            Status::Sent,
            Some(PendingCode::new(code, now, expires_at - now)),
            confirmation,
        )
    } else {
        (Status::New, None, json!({}))
    };
    PhoneValidation {
        id,
        project: spec.project,
        project_flow: spec.project_flow,
        app_registration: spec.app_registration,
        source: spec.source,
        status,
        country_code: spec.country_code,
        phone: spec.phone,
        e164: spec.e164,
        gateway: spec.gateway,
        code,
        otp_hash: format!("$2a$10${}", state.rng.alphanumeric(53)),
        title: spec.title,
        kind: spec.kind,
        validation_method: spec.validation_method,
        redirect_url: spec.redirect_url,
        webhook_url: spec.webhook_url,
        identity_url: spec.identity_url,
        requires_2fa: spec.requires_2fa,
        ip_address: spec.ip_address,
        language: spec.language,
        created_at: now,
        updated_at: now,
        expires_at,
        validated_at: None,
        provider_confirmation,
    }
}

/// `POST /v2/phone-validations`: project-flow validation.
pub(super) async fn create(AxumState(app): AxumState<Verifik>, input: Input) -> Response {
    respond(create_for_project(&app, &input, false))
}

/// `POST /v2/phone-validations/app-registration`: onboarding validation.
pub(super) async fn create_app_registration(
    AxumState(app): AxumState<Verifik>,
    input: Input,
) -> Response {
    respond(create_for_project(&app, &input, true))
}

/// `POST /v2/phone-validations/manual`: standalone OTP by SMS or WhatsApp.
pub(super) async fn create_manual(AxumState(app): AxumState<Verifik>, input: Input) -> Response {
    respond(manual(&app, &input))
}

/// `PUT /v2/phone-validations` (and `POST /v2/phone-validations/validate`): checks an OTP
/// against the number's most recent sent, non-expired validation.
pub(super) async fn validate(AxumState(app): AxumState<Verifik>, input: Input) -> Response {
    respond(validate_latest(&app, &input))
}

/// `POST /v2/phone-validations/{id}/validate` with `{"verificationCode": "..."}`.
pub(super) async fn validate_by_id(
    AxumState(app): AxumState<Verifik>,
    Path(id): Path<String>,
    input: Input,
) -> Response {
    respond(validate_one(&app, &id, &input))
}

/// `GET /v2/phone-validations`: paginated, filtered list, newest first.
pub(super) async fn list(AxumState(app): AxumState<Verifik>, input: Input) -> Response {
    respond(list_page(&app, &input))
}

/// `GET /v2/phone-validations/{id}`.
pub(super) async fn get_one(
    AxumState(app): AxumState<Verifik>,
    Path(id): Path<String>,
    input: Input,
) -> Response {
    respond(fetch(&app, &id, &input))
}

/// Names of `fields` that the body lacks, in order.
fn missing_fields<'a>(input: &Input, fields: &[&'a str]) -> Vec<&'a str> {
    fields
        .iter()
        .copied()
        .filter(|f| input.str(f).is_none())
        .collect()
}

/// Whether a code went to `e164` through `gateway` within the resend cooldown and is still pending.
fn recently_sent(state: &State, e164: &str, gateway: &str, now: OffsetDateTime) -> bool {
    let vf = &state.verifik;
    vf.by_phone.get(e164).is_some_and(|indexes| {
        indexes.iter().rev().map(|i| &vf.validations[*i]).any(|v| {
            v.gateway == gateway
                && v.status == Status::Sent
                && now - v.created_at < Duration::seconds(RESEND_COOLDOWN_SECS)
        })
    })
}

/// The manual endpoint's checks before it sends: credits, then the resend cooldown (about
/// 2 minutes per phone and gateway, skipped with `force: true`), which Verifik documents for
/// that endpoint only.
fn may_send(state: &State, input: &Input, e164: &str, gateway: &str) -> Result<(), VfError> {
    if !state.has_credit(Provider::Verifik) {
        return Err(VfError::reason(403, "insufficient_credits"));
    }
    if input.bool("force") != Some(true) && recently_sent(state, e164, gateway, state.now()) {
        return Err(VfError::reason(409, "otp_recently_sent"));
    }
    Ok(())
}

fn gateway_of(input: &Input, default: Option<&str>) -> Result<String, VfError> {
    let gateway = input
        .str("phoneGateway")
        .or_else(|| default.map(str::to_owned))
        .unwrap_or_default();
    if matches!(gateway.as_str(), "sms" | "whatsapp") {
        Ok(gateway)
    } else {
        Err(VfError::invalid(
            "Invalid phoneGateway. Use sms or whatsapp.",
        ))
    }
}

/// The `language` stored as given (`en` by default), at most [`MAX_LANGUAGE_BYTES`]: the
/// manual endpoint's and the phone login's.
pub(super) fn stored_language(input: &Input) -> Result<String, VfError> {
    let language = bounded(
        input,
        "language",
        MAX_LANGUAGE_BYTES,
        "Invalid language. Use a language code such as en or es.",
    )?;
    Ok(language.unwrap_or_else(|| "en".to_owned()))
}

/// `language`: a primary language subtag (2 or 3 letters), `en` by default.
fn language_of(input: &Input) -> Result<String, VfError> {
    match input.str("language") {
        None => Ok("en".to_owned()),
        Some(tag)
            if (2..=3).contains(&tag.len()) && tag.bytes().all(|b| b.is_ascii_alphabetic()) =>
        {
            Ok(tag.to_ascii_lowercase())
        }
        Some(_) => Err(VfError::invalid(
            "Invalid language. Use a language code such as en or es.",
        )),
    }
}

fn create_for_project(
    app: &Verifik,
    input: &Input,
    app_registration: bool,
) -> Result<Value, VfError> {
    let mut state = app.lock();
    // App-registration validations need the registration's JWT, nothing else.
    let registration = if app_registration {
        let r = authorize_registration(&state, input)?;
        Some((r.id.clone(), r.project_flow.clone()))
    } else {
        authorize(&state, &app.config, input)?;
        None
    };
    let missing = missing_fields(
        input,
        &[
            "project",
            "validationMethod",
            "phone",
            "countryCode",
            "type",
        ],
    );
    if !missing.is_empty() {
        return Err(VfError::missing(&missing, false));
    }
    let field = |name: &str| input.str(name).unwrap_or_default();
    let (project, method, kind, country_code) = (
        field("project"),
        field("validationMethod"),
        field("type"),
        field("countryCode"),
    );
    let number = clean_phone(&field("phone"));
    if !valid_country_code(&country_code) {
        return Err(VfError::invalid_country_code());
    }
    let method_ok = if app_registration {
        method == "verificationCode"
    } else {
        matches!(method.as_str(), "verificationCode" | "manual")
    };
    if !method_ok {
        return Err(VfError::invalid(if app_registration {
            "Invalid validationMethod. App registration phone validations use verificationCode."
        } else {
            "Invalid validationMethod. Use verificationCode or manual."
        }));
    }
    if !matches!(
        kind.as_str(),
        "validation" | "login" | "onboarding" | "oneTimeLink"
    ) {
        return Err(VfError::invalid(
            "Invalid type. Use validation, login, onboarding or oneTimeLink.",
        ));
    }
    let gateway = gateway_of(input, Some("whatsapp"))?;
    let project_flow = match input.str("projectFlow") {
        Some(flow) if flow != super::constants::PROJECT_FLOW_ID => {
            return Err(VfError::reason(404, "projectFlow_not_found"));
        }
        _ => super::constants::PROJECT_FLOW_ID.to_owned(),
    };
    let language = language_of(input)?;
    let parsed = phone::from_parts(&country_code, &number)
        .ok_or_else(|| VfError::bad_request("Invalid phone number format."))?;
    if !app.config.verifik_projects.contains(&project) {
        return Err(VfError::reason(404, "project_not_found"));
    }
    let expires_at = match input.str("expiresAt") {
        None => None,
        // A date whose UTC form is past year 9999 (`9999-12-31T23:59:59-01:00`) is refused
        // like an unreadable one, before anything is stored or sent.
        Some(raw) => Some(
            OffsetDateTime::parse(&raw, &Rfc3339)
                .ok()
                .and_then(|t| t.checked_to_offset(time::UtcOffset::UTC))
                .ok_or_else(|| {
                    VfError::invalid(
                        "Invalid expiresAt. Use an ISO-8601 date such as 2024-12-31T23:59:59.000Z.",
                    )
                })?,
        ),
    };
    let free = free_fields(input)?;
    let send = method == "verificationCode";
    if !state.has_credit(Provider::Verifik) {
        return Err(VfError::reason(403, "insufficient_credits"));
    }
    let (registration, project_flow) = match registration {
        Some((id, flow)) => (Some(id), flow),
        None => (None, project_flow),
    };
    let record = issue(
        &mut state,
        NewValidation {
            source: if app_registration {
                "app-registration"
            } else {
                "project"
            },
            project: Some(project),
            project_flow: Some(project_flow),
            app_registration: registration,
            country_code,
            phone: number,
            e164: parsed.e164().to_owned(),
            gateway,
            kind,
            validation_method: method,
            title: free.title,
            language,
            redirect_url: free.redirect_url,
            webhook_url: free.webhook_url,
            identity_url: free.identity_url,
            requires_2fa: input.bool("requires2FA").unwrap_or(false),
            ip_address: free.ip_address,
            expires_at,
            send,
        },
    );
    state.charge(Provider::Verifik);
    let body = record.to_created_json();
    state.verifik.insert(record);
    Ok(envelope(&mut state, body))
}

fn manual(app: &Verifik, input: &Input) -> Result<Value, VfError> {
    let mut state = app.lock();
    authorize(&state, &app.config, input)?;
    let missing = missing_fields(input, &["phone", "countryCode", "phoneGateway"]);
    if !missing.is_empty() {
        return Err(VfError::missing(&missing, false));
    }
    let country_code = input.str("countryCode").unwrap_or_default();
    let number = clean_phone(&input.str("phone").unwrap_or_default());
    if !valid_country_code(&country_code) {
        return Err(VfError::invalid_country_code());
    }
    let gateway = gateway_of(input, None)?;
    let title = title_of(input)?;
    let ip_address = ip_address_of(input)?;
    let language = stored_language(input)?;
    let parsed = phone::from_parts(&country_code, &number)
        .ok_or_else(|| VfError::bad_request("Invalid phone number format."))?;
    may_send(&state, input, parsed.e164(), &gateway)?;
    let record = issue(
        &mut state,
        NewValidation {
            source: "manual",
            project: None,
            project_flow: None,
            app_registration: None,
            country_code,
            phone: number,
            e164: parsed.e164().to_owned(),
            gateway,
            kind: "validation".to_owned(),
            validation_method: "verificationCode".to_owned(),
            title,
            language,
            redirect_url: None,
            webhook_url: None,
            identity_url: None,
            requires_2fa: false,
            ip_address,
            expires_at: None,
            send: true,
        },
    );
    state.charge(Provider::Verifik);
    let body = record.to_created_json();
    state.verifik.insert(record);
    Ok(envelope(&mut state, body))
}

/// Marks validation `index` validated and builds the success answer (login validations also
/// get an `appLogin` and a `token`).
fn mark_validated(state: &mut State, index: usize) -> Value {
    let now = state.now();
    let record = &mut state.verifik.validations[index];
    record.status = Status::Validated;
    record.updated_at = now;
    record.validated_at = Some(now);
    let mut data = record.to_validated_json();
    if record.kind == "login" {
        let login_id = state.rng.object_id(now);
        let token = issue_token(state, super::constants::TOKEN_DAYS);
        if let Value::Object(map) = &mut data {
            map.insert(
                "appLogin".into(),
                json!({"id": login_id, "status": "validated"}),
            );
            map.insert("token".into(), json!(token));
        }
    }
    envelope(state, data)
}

/// Checks that `caller` may validate a validation of app registration `owner`: only that
/// registration's JWT may validate its validations, and a registration's JWT only those.
fn may_validate(caller: &Caller, owner: Option<&String>) -> Result<(), VfError> {
    match (caller, owner) {
        (Caller::Account, None) => Ok(()),
        (Caller::Registration(id), Some(owner)) if id == owner => Ok(()),
        _ => Err(VfError::unauthorized()),
    }
}

fn validate_latest(app: &Verifik, input: &Input) -> Result<Value, VfError> {
    let mut state = app.lock();
    let caller = authorize_caller(&state, &app.config, input)?;
    let otp = otp_field(input, "otp");
    let missing: Vec<&str> = [
        ("phone", input.str("phone").is_some()),
        ("countryCode", input.str("countryCode").is_some()),
        ("otp", otp.is_some()),
    ]
    .into_iter()
    .filter_map(|(name, present)| (!present).then_some(name))
    .collect();
    if !missing.is_empty() {
        return Err(VfError::missing(&missing, false));
    }
    let country_code = input.str("countryCode").unwrap_or_default();
    if !valid_country_code(&country_code) {
        return Err(VfError::invalid_country_code());
    }
    let not_found = || VfError::reason(404, "phone_validation_not_found");
    let number = clean_phone(&input.str("phone").unwrap_or_default());
    let parsed = phone::from_parts(&country_code, &number).ok_or_else(not_found)?;
    let (project, flow, gateway) = (
        input.str("project"),
        input.str("projectFlow"),
        input.str("phoneGateway"),
    );
    let now = state.now();
    let vf = &state.verifik;
    // The phone's validations the request narrows to, newest first.
    let narrowed: Vec<usize> = vf
        .by_phone
        .get(parsed.e164())
        .into_iter()
        .flat_map(|indexes| indexes.iter().rev().copied())
        .filter(|i| {
            let v = &vf.validations[*i];
            v.status != Status::New
                && project
                    .as_ref()
                    .is_none_or(|p| v.project.as_ref() == Some(p))
                && flow
                    .as_ref()
                    .is_none_or(|f| v.project_flow.as_ref() == Some(f))
                && gateway
                    .as_ref()
                    .is_none_or(|g| v.gateway == *g || g == "none")
        })
        .collect();
    // Those the caller may validate: an app registration's JWT its own, the account's token
    // the account's (an app registration's validation is not the account's to pick, even
    // when it is the newest).
    let mut candidates = narrowed
        .iter()
        .copied()
        .filter(|i| match &caller {
            Caller::Account => vf.validations[*i].app_registration.is_none(),
            Caller::Registration(id) => vf.validations[*i].app_registration.as_ref() == Some(id),
        })
        .peekable();
    // Verifik validates the most recent sent, non-expired validation (SPEC.md §2.3); when none
    // waits for a code, the most recent one tells why (validated: 409, expired: 412).
    let newest = candidates.peek().copied();
    let waiting = candidates.find(|i| {
        let v = &vf.validations[*i];
        v.status == Status::Sent && v.code.as_ref().is_some_and(|c| !c.is_expired(now))
    });
    let index = match waiting.or(newest) {
        Some(index) => index,
        // Only app registrations' validations: the account's token may not validate them.
        None if matches!(caller, Caller::Account) && !narrowed.is_empty() => {
            return Err(VfError::unauthorized());
        }
        None => return Err(not_found()),
    };
    let record = &mut state.verifik.validations[index];
    may_validate(&caller, record.app_registration.as_ref())?;
    if record.status == Status::Validated {
        return Err(VfError::reason(409, "phone_validation_already_validated"));
    }
    let code = record.code.as_mut().ok_or_else(not_found)?;
    match code.check(&otp.unwrap_or_default(), now, None) {
        CodeCheck::Valid => Ok(mark_validated(&mut state, index)),
        CodeCheck::Expired => Err(VfError::reason(412, "phoneValidation_has_expired")),
        CodeCheck::Invalid | CodeCheck::Throttled => {
            Err(VfError::reason(403, "otp_does_not_match"))
        }
        CodeCheck::Used => Err(VfError::reason(409, "phone_validation_already_validated")),
    }
}

fn validate_one(app: &Verifik, id: &str, input: &Input) -> Result<Value, VfError> {
    let mut state = app.lock();
    let caller = authorize_caller(&state, &app.config, input)?;
    let not_found = || VfError::reason(404, "phone_validation_not_found");
    let index = *state.verifik.by_id.get(id).ok_or_else(not_found)?;
    let candidate = otp_field(input, "verificationCode")
        .ok_or_else(|| VfError::missing(&["verificationCode"], false))?;
    let now = state.now();
    let record = &mut state.verifik.validations[index];
    may_validate(&caller, record.app_registration.as_ref())?;
    if record.status == Status::Validated {
        return Err(VfError::reason(409, "phone_validation_already_validated"));
    }
    let code = record.code.as_mut().ok_or_else(not_found)?;
    match code.check(&candidate, now, None) {
        CodeCheck::Valid => Ok(mark_validated(&mut state, index)),
        CodeCheck::Expired => Err(VfError::reason(409, "CODE_EXPIRED")),
        CodeCheck::Invalid | CodeCheck::Throttled => Err(VfError::reason(400, "INVALID_CODE")),
        CodeCheck::Used => Err(VfError::reason(409, "phone_validation_already_validated")),
    }
}

/// A positive integer query parameter within `1..=max`, or `default` when absent.
fn page_param(input: &Input, key: &str, default: usize, max: usize) -> Result<usize, VfError> {
    match input.query(key) {
        None => Ok(default),
        Some(raw) => raw
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=max).contains(n))
            .ok_or_else(|| VfError::reason(400, "INVALID_PARAMETERS")),
    }
}

fn list_page(app: &Verifik, input: &Input) -> Result<Value, VfError> {
    let state = app.lock();
    authorize(&state, &app.config, input)?;
    let page = page_param(input, "page", 1, usize::MAX)?;
    let limit = page_param(input, "limit", 10, MAX_LIMIT)?;
    let status = input.query("status");
    if status.is_some_and(|s| !matches!(s, "new" | "sent" | "validated" | "failed")) {
        return Err(VfError::reason(400, "INVALID_PARAMETERS"));
    }
    let phone_filter = input.query("phone").map(clean_phone);
    let matches = |v: &&PhoneValidation| {
        input
            .query("project")
            .is_none_or(|p| v.project.as_deref() == Some(p))
            && status.is_none_or(|s| v.status.as_str() == s)
            && input.query("type").is_none_or(|t| v.kind == t)
            && input.query("countryCode").is_none_or(|c| {
                v.country_code.trim_start_matches('+') == c.trim().trim_start_matches('+')
            })
            && phone_filter.as_ref().is_none_or(|p| v.phone == *p)
    };
    let all: Vec<&PhoneValidation> = state
        .verifik
        .validations
        .iter()
        .rev()
        .filter(matches)
        .collect();
    let total = all.len();
    let data: Vec<Value> = all
        .iter()
        .skip((page - 1).saturating_mul(limit))
        .take(limit)
        .map(|v| v.to_json())
        .collect();
    Ok(json!({
        "success": true,
        "data": data,
        "pagination": {"page": page, "limit": limit, "total": total, "pages": total.div_ceil(limit)},
        "signature": signature(state.now()),
    }))
}

fn fetch(app: &Verifik, id: &str, input: &Input) -> Result<Value, VfError> {
    let state = app.lock();
    authorize(&state, &app.config, input)?;
    let index = *state
        .verifik
        .by_id
        .get(id)
        .ok_or_else(|| VfError::reason(404, "phone_validation_not_found"))?;
    Ok(json!({
        "success": true,
        "data": state.verifik.validations[index].to_json(),
        "signature": signature(state.now()),
    }))
}
