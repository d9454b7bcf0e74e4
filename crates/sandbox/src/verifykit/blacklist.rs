//! `blacklist/add` and `blacklist/remove`: banned numbers per validation type.

use axum::extract::State as AxumState;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use super::error::{VkError, respond};
use super::request::guard;
use super::slot::VerifyKit;
use crate::body::Input;
use crate::phone;

/// Validation types a number can be banned from.
const TYPES: [&str; 4] = ["otp", "whatsapp", "telegram", "flashcall"];

/// Most banned `(type, number)` pairs the sandbox keeps; past it, `add` lists new numbers in
/// `failList` (VerifyKit's slot for numbers it could not process) and bans nothing more.
pub(crate) const MAX_BLACKLIST: usize = 10_000;

/// Most `msisdn` entries of one request; a longer list is refused whole with `400007`.
pub(crate) const MAX_MSISDN_PER_REQUEST: usize = 1_000;

/// A `msisdn` list longer than [`MAX_MSISDN_PER_REQUEST`].
const TOO_MANY_NUMBERS: VkError = VkError::new(
    400,
    400_007,
    "Too many phone numbers: send at most 1000 msisdn per request.",
);

/// `POST /v1.0/blacklist/add`: bans numbers (`type`, `msisdn[]`); they then get `403012`.
pub(super) async fn add(AxumState(app): AxumState<VerifyKit>, input: Input) -> Response {
    respond(update(&app, &input, true))
}

/// `POST /v1.0/blacklist/remove`: lifts bans.
pub(super) async fn remove(AxumState(app): AxumState<VerifyKit>, input: Input) -> Response {
    respond(update(&app, &input, false))
}

/// The `msisdn` entries as given (strings or numbers; a single value counts as a list of one).
fn msisdn_list(input: &Input) -> Vec<String> {
    let text = |v: &Value| match v {
        Value::String(s) => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    match input.body.get("msisdn") {
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| text(v).unwrap_or_else(|| v.to_string()))
            .collect(),
        Some(other) => text(other).into_iter().collect(),
        None => Vec::new(),
    }
}

fn update(app: &VerifyKit, input: &Input, add: bool) -> Result<(StatusCode, Value), VkError> {
    let mut state = app.lock();
    guard(&mut state, &app.config, input)?;
    let kind = input
        .str("type")
        .map(|t| t.to_ascii_lowercase())
        .filter(|t| TYPES.contains(&t.as_str()))
        .ok_or(VkError::TYPE_NOT_ACTIVE)?;
    let numbers = msisdn_list(input);
    if numbers.is_empty() {
        return Err(VkError::INVALID_PHONE);
    }
    if numbers.len() > MAX_MSISDN_PER_REQUEST {
        return Err(TOO_MANY_NUMBERS);
    }
    let (mut success, mut unchanged, mut bad_format, mut failed) =
        (0usize, Vec::new(), Vec::new(), Vec::new());
    for raw in &numbers {
        let international = if raw.starts_with('+') || raw.starts_with("00") {
            raw.clone()
        } else {
            format!("+{raw}")
        };
        let Some(parsed) = phone::parse_international(&international) else {
            bad_format.push(raw.clone());
            continue;
        };
        let key = (kind.clone(), parsed.e164().to_owned());
        let blacklist = &state.verifykit.blacklist;
        if add && blacklist.len() >= MAX_BLACKLIST && !blacklist.contains(&key) {
            failed.push(raw.clone());
            continue;
        }
        let changed = if add {
            state.verifykit.blacklist.insert(key)
        } else {
            state.verifykit.blacklist.remove(&key)
        };
        if changed {
            success += 1;
        } else {
            unchanged.push(raw.clone());
        }
    }
    let (count_key, list_key) = if add {
        ("alreadyExistsCount", "alreadyExistsList")
    } else {
        ("notExistsCount", "notExistsList")
    };
    Ok((
        StatusCode::OK,
        json!({
            "totalCount": numbers.len(),
            "successCount": success,
            count_key: unchanged.len(),
            "numberFormatCount": bad_format.len(),
            "failCount": failed.len(),
            list_key: unchanged,
            "numberFormatList": bad_format,
            "failList": failed,
        }),
    ))
}
