//! `init`, `country`, `result`, `access-token` and `send-whatsapp-message`.

use axum::extract::State as AxumState;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Map, Value, json};
use time::Duration;

use super::error::{VkError, respond};
use super::format::vk_date;
use super::request::{guard, lang, method_active};
use super::slot::VerifyKit;
use crate::body::Input;
use crate::config::InitTheme;
use crate::model::{Channel, Provider, SentMessage};
use crate::phone;
use crate::texts::{self, Lang};

/// Display attributes of a validation method: `(app, text colour, background colour)`.
const METHODS: [(&str, &str, &str); 3] = [
    ("whatsapp", "ffffff", "1bd741"),
    ("telegram", "ffffff", "61a8de"),
    ("otp", "ffffff", "cbcbd0"),
];

/// How long session messages may be sent after a WhatsApp verification.
const WHATSAPP_SESSION_HOURS: i64 = 24;
/// Validity of a Web SDK access token.
const ACCESS_TOKEN_MINUTES: i64 = 60;
/// Shortest session message (VerifyKit's SDKs refuse shorter ones).
const MIN_MESSAGE_CHARS: usize = 10;
/// Longest session message the sandbox sends (WhatsApp's limit on a text message's body).
const MAX_MESSAGE_CHARS: usize = 4096;

/// `GET /v1.0/init`: validation methods and localization texts, in the configured theme.
pub(super) async fn init(AxumState(app): AxumState<VerifyKit>, input: Input) -> Response {
    respond(init_list(&app, &input))
}

/// `POST /v1.0/country`: the country list, `countryCode` first when given.
pub(super) async fn country(AxumState(app): AxumState<VerifyKit>, input: Input) -> Response {
    respond(country_list(&app, &input))
}

/// `POST /v1.0/result` (api host): the verified number of a session.
pub(super) async fn result(AxumState(app): AxumState<VerifyKit>, input: Input) -> Response {
    respond(session_result(&app, &input))
}

/// `GET /v1.0/access-token` (api host): a Web SDK access token.
pub(super) async fn access_token(AxumState(app): AxumState<VerifyKit>, input: Input) -> Response {
    respond(new_access_token(&app, &input))
}

/// `POST /v1.0/send-whatsapp-message` (api host): a session message to a recently verified number.
pub(super) async fn send_whatsapp_message(
    AxumState(app): AxumState<VerifyKit>,
    input: Input,
) -> Response {
    respond(whatsapp_message(&app, &input))
}

fn method_entry(lang: Lang, app: &str, text_colour: &str, bg_colour: &str) -> Value {
    json!({
        "appPackage": app,
        "name": texts::app_name(app),
        "app": app,
        "text": texts::method_button(lang, app),
        "textColour": text_colour,
        "bgColour": bg_colour,
        "icon": format!("https://web-rest.verifykit.com/img/web/{app}@3x.png"),
    })
}

fn init_list(app: &VerifyKit, input: &Input) -> Result<(StatusCode, Value), VkError> {
    let config = &app.config;
    guard(&mut app.lock(), config, input)?;
    let lang = lang(input);
    let basic = config.init_theme == InitTheme::Basic;
    let list: Vec<Value> = METHODS
        .iter()
        .filter(|(m, _, _)| method_active(config, m) && !(basic && *m == "otp"))
        .map(|(m, fg, bg)| method_entry(lang, m, fg, bg))
        .collect();
    let localization: Vec<Value> = texts::localization_list(lang)
        .into_iter()
        .map(|(key, value)| json!({"key": key, "value": value}))
        .collect();
    let mut result = Map::new();
    result.insert("list".into(), Value::Array(list));
    if basic && method_active(config, "otp") {
        result.insert("alternativeValidation".into(), json!("otp"));
        result.insert(
            "alternativeValidationDescription".into(),
            json!(texts::alternative_description(lang)),
        );
    }
    result.insert("description".into(), json!(texts::init_description(lang)));
    result.insert("localizationList".into(), Value::Array(localization));
    result.insert("messages".into(), json!([]));
    Ok((StatusCode::OK, Value::Object(result)))
}

fn country_list(app: &VerifyKit, input: &Input) -> Result<(StatusCode, Value), VkError> {
    guard(&mut app.lock(), &app.config, input)?;
    let first = input.str("countryCode").map(|c| c.to_ascii_uppercase());
    let all = phone::countries();
    let list: Vec<Value> = all
        .iter()
        .filter(|c| first.as_deref() == Some(c.iso2.as_str()))
        .chain(
            all.iter()
                .filter(|c| first.as_deref() != Some(c.iso2.as_str())),
        )
        .map(|c| json!({"phoneCode": c.phone_code, "countryCode": c.iso2, "title": c.title}))
        .collect();
    Ok((StatusCode::OK, json!({"list": list})))
}

fn session_result(app: &VerifyKit, input: &Input) -> Result<(StatusCode, Value), VkError> {
    let mut state = app.lock();
    guard(&mut state, &app.config, input)?;
    let session_id = input
        .str("sessionId")
        .ok_or(VkError::VALIDATION_NOT_FOUND)?;
    let session = state
        .verifykit
        .sessions
        .get(&session_id)
        .ok_or(VkError::VALIDATION_NOT_FOUND)?;
    Ok((
        StatusCode::OK,
        json!({
            "validationType": session.validation_type,
            "validationDate": vk_date(session.date),
            "phoneNumber": session.phone,
            "countryCode": session.country,
            "mobileNetwork": "Sandbox Mobile",
        }),
    ))
}

fn new_access_token(app: &VerifyKit, input: &Input) -> Result<(StatusCode, Value), VkError> {
    let mut state = app.lock();
    guard(&mut state, &app.config, input)?;
    let token = state.rng.alphanumeric(40);
    let timeout = vk_date(state.now() + Duration::minutes(ACCESS_TOKEN_MINUTES));
    Ok((
        StatusCode::OK,
        json!({"accessToken": token, "timeout": timeout}),
    ))
}

fn whatsapp_message(app: &VerifyKit, input: &Input) -> Result<(StatusCode, Value), VkError> {
    let mut state = app.lock();
    guard(&mut state, &app.config, input)?;
    let raw = input.str("phoneNumber").ok_or(VkError::INVALID_PHONE)?;
    let phone = phone::parse_international(&raw).ok_or(VkError::INVALID_PHONE)?;
    let message = input
        .str("message")
        .filter(|m| (MIN_MESSAGE_CHARS..=MAX_MESSAGE_CHARS).contains(&m.chars().count()))
        .ok_or(VkError::MESSAGE_INVALID)?;
    let now = state.now();
    let recently_verified = state
        .verifykit
        .whatsapp_verified
        .get(phone.e164())
        .is_some_and(|at| now - *at < Duration::hours(WHATSAPP_SESSION_HOURS));
    if !recently_verified {
        return Err(VkError::VALIDATION_NOT_FOUND);
    }
    state.send(SentMessage {
        provider: Provider::VerifyKit,
        phone: Some(phone.e164().to_owned()),
        email: None,
        channel: Channel::Whatsapp,
        code: None,
        text: message.clone(),
        lang: "en".to_owned(),
        reference: None,
        sent_at: now,
    });
    Ok((
        StatusCode::OK,
        json!({"phoneNumber": phone.e164(), "message": message, "status": "sent"}),
    ))
}
