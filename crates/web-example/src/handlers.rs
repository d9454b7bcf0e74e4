//! The axum handlers: short, the SDK doing the work.

use std::time::Duration;

use axum::Json;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::Markup;
use phone_verify::{
    Channel, CheckOutcome, CheckRequest, Code, Language, PhoneNumber, PhoneVerifier as _,
    SessionResolver as _, StartRequest, Verified,
};
use serde::Deserialize;
use serde_json::json;

use crate::AppState;
use crate::backend::Choice;
use crate::messages;
use crate::pages::{self, Frame, Home};
use crate::session::{COOKIE, Done, Notice, Pending, Session, SessionLock};
use crate::visitor::{Visitor, supported_language};

/// How many sandbox messages the inbox panel shows.
const INBOX_SIZE: usize = 8;

/// `?lang=`: the language switch.
#[derive(Debug, Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
}

/// The form of `POST /start`.
#[derive(Debug, Deserialize)]
pub struct StartForm {
    csrf: String,
    method: String,
    #[serde(default)]
    country: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    provider: String,
}

/// The form of `POST /verify`.
#[derive(Debug, Deserialize)]
pub struct CodeForm {
    csrf: String,
    code: String,
}

/// A form that only carries its CSRF token.
#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

/// The form of `POST /sandbox/reply`.
#[derive(Debug, Deserialize)]
pub struct ReplyForm {
    csrf: String,
    phone: String,
}

/// `GET /`: phone entry and methods.
pub async fn home(
    State(app): State<AppState>,
    visitor: Visitor,
    Query(query): Query<LangQuery>,
) -> Response {
    let (id, mut session) = app.sessions.open(visitor.session.as_deref()).await;
    if let Some(lang) = query.lang.as_deref().and_then(supported_language) {
        session.lang = Some(lang.to_owned());
    }
    if session.done.is_some() {
        return with_cookie(&id, Redirect::to("/done"));
    }
    if session.pending.is_some() {
        return with_cookie(&id, Redirect::to("/verify"));
    }
    let lang = language(&session, &visitor);
    let lang = lang.as_str();
    let context = visitor.context();
    let language = Language::new(lang).ok();
    let kit = &app.backend.verifykit;
    let (methods, countries) = tokio::join!(
        kit.init(language.as_ref(), &context),
        kit.country(visitor.region.as_deref(), language.as_ref(), &context),
    );
    let (methods, countries) = match (methods, countries) {
        (Ok(methods), Ok(countries)) => (methods, countries),
        (Err(err), _) | (_, Err(err)) => {
            tracing::warn!(error = %err, "VerifyKit init or country failed");
            let screen = maud::html! {
                h1 { "Verification is unavailable" }
                p.lead { (messages::for_error(&err).text) }
            };
            let frame = frame(&app, &mut session, lang);
            let body = pages::page(&frame, "Unavailable", &screen);
            return with_cookie(&id, (StatusCode::SERVICE_UNAVAILABLE, body));
        }
    };
    let screen = pages::home(
        &session,
        lang,
        &Home {
            methods: &methods,
            countries: &countries,
            choices: app.backend.choices().collect(),
            local_icons: app.backend.sandbox.is_some(),
        },
    );
    render(&app, &id, session, lang, "Verify your phone", &screen)
}

/// `POST /start`: starts a verification, keeps its handle in the session.
pub async fn start(
    State(app): State<AppState>,
    visitor: Visitor,
    Form(form): Form<StartForm>,
) -> Response {
    let (id, mut session) = app.sessions.open(visitor.session.as_deref()).await;
    if !session.csrf_matches(&form.csrf) {
        return forbidden();
    }
    let lang = language(&session, &visitor);
    let lang = lang.as_str();
    let mobile = visitor.is_mobile();
    let (request, choice) = match form.method.as_str() {
        "whatsapp" | "telegram" => {
            let channel = if form.method == "whatsapp" {
                Channel::WhatsApp
            } else {
                Channel::Telegram
            };
            (Ok(StartRequest::reverse(channel).qr_code(!mobile)), Choice::Auto)
        }
        "otp" => {
            let choice = Choice::parse(&form.provider).unwrap_or(Choice::Auto);
            session.last_choice = choice;
            session.last_phone = form.phone.trim().to_owned();
            session.last_country = form.country.split(':').next().map(str::to_owned);
            (parse_phone(&form.country, &form.phone).map(StartRequest::sms), choice)
        }
        _ => return (StatusCode::BAD_REQUEST, "unknown method").into_response(),
    };
    let request = match request {
        Ok(request) => request,
        Err(notice) => return notice_and_redirect(&id, session, notice, "/"),
    };
    let mut request = request.context(visitor.context());
    if let Ok(language) = Language::new(lang) {
        request = request.language(language);
    }
    let Some(verifier) = app.backend.verifier(choice) else {
        let notice = Notice::error(format!("{} is not configured here.", choice.label()));
        return notice_and_redirect(&id, session, notice, "/");
    };
    match verifier.verifier.start(&request).await {
        Ok(handle) => {
            session.pending = Some(Pending {
                handle,
                choice,
                mobile,
                finished: false,
            });
            with_cookie(&id, Redirect::to("/verify"))
        }
        Err(err) => notice_and_redirect(&id, session, messages::for_error(&err), "/"),
    }
}

/// `GET /verify`: the code form, or the reverse flow screen.
pub async fn verify_page(State(app): State<AppState>, visitor: Visitor) -> Response {
    let (id, session) = app.sessions.open(visitor.session.as_deref()).await;
    let Some(pending) = session.pending.clone() else {
        return with_cookie(&id, Redirect::to(if session.done.is_some() { "/done" } else { "/" }));
    };
    let lang = language(&session, &visitor);
    let lang = lang.as_str();
    let screen = if pending.handle.reverse.is_some() {
        pages::reverse(&session, &pending)
    } else {
        let language = Language::new(lang).ok();
        let texts = app
            .backend
            .verifykit
            .init(language.as_ref(), &visitor.context())
            .await
            .ok();
        let enter_code = texts.as_ref().and_then(|t| t.text("otp.enterCode"));
        pages::code_form(&session, &pending, enter_code)
    };
    render(&app, &id, session, lang, "Verify", &screen)
}

/// `POST /verify`: checks the code typed.
pub async fn check_code(
    State(app): State<AppState>,
    visitor: Visitor,
    Form(form): Form<CodeForm>,
) -> Response {
    let (id, mut session) = app.sessions.open(visitor.session.as_deref()).await;
    if !session.csrf_matches(&form.csrf) {
        return forbidden();
    }
    let Some(pending) = session.pending.clone().filter(|p| !p.finished) else {
        return with_cookie(&id, Redirect::to("/"));
    };
    let code = match Code::new(&form.code) {
        Ok(code) => code,
        Err(_) => {
            let notice = Notice::error("A code is 4 to 10 letters or digits.");
            return notice_and_redirect(&id, session, notice, "/verify");
        }
    };
    let Some(verifier) = app.backend.for_handle(&pending.handle) else {
        return with_cookie(&id, Redirect::to("/"));
    };
    let check = CheckRequest::code(code).context(visitor.context());
    match verifier.verifier.check(&pending.handle, &check).await {
        Ok(outcome) => {
            let target = settle(&app, &visitor, &mut session, &pending, outcome).await;
            with_cookie(&id, Redirect::to(target))
        }
        Err(err) => notice_and_redirect(&id, session, messages::for_error(&err), "/verify"),
    }
}

/// `GET /verify/status`: polls a reverse flow (JSON for the page's script).
pub async fn status(State(app): State<AppState>, visitor: Visitor) -> Response {
    let (_, mut session) = app.sessions.open(visitor.session.as_deref()).await;
    if session.done.is_some() {
        return Json(json!({"state": "verified", "next": "/done"})).into_response();
    }
    let Some(pending) = session.pending.clone().filter(|p| !p.finished) else {
        return Json(json!({"state": "over", "next": "/verify"})).into_response();
    };
    let Some(verifier) = app.backend.for_handle(&pending.handle) else {
        return Json(json!({"state": "over", "next": "/"})).into_response();
    };
    let poll = CheckRequest::poll().context(visitor.context());
    match verifier.verifier.check(&pending.handle, &poll).await {
        Ok(CheckOutcome::Pending) => {
            let remaining = pending.handle.expires_at.map(|at| {
                (at - time::OffsetDateTime::now_utc())
                    .whole_seconds()
                    .max(0)
            });
            Json(json!({"state": "pending", "remaining_secs": remaining})).into_response()
        }
        Ok(outcome) => {
            let next = settle(&app, &visitor, &mut session, &pending, outcome).await;
            let state = if next == "/done" { "verified" } else { "over" };
            Json(json!({"state": state, "next": next})).into_response()
        }
        Err(err) => {
            tracing::warn!(error = %err, "polling a reverse flow failed");
            let retryable = err.is_retryable();
            if !retryable {
                session.notice = Some(messages::for_error(&err));
                if let Some(p) = session.pending.as_mut() {
                    p.finished = true;
                }
            }
            let state = if retryable { "pending" } else { "over" };
            Json(json!({"state": state, "next": "/verify"})).into_response()
        }
    }
}

/// Records a check's outcome in the session; returns where the visitor goes next.
async fn settle(
    app: &AppState,
    visitor: &Visitor,
    session: &mut Session,
    pending: &Pending,
    outcome: CheckOutcome,
) -> &'static str {
    match outcome {
        CheckOutcome::Verified(verified) => {
            session.done = Some(resolve(app, visitor, pending, verified).await);
            session.pending = None;
            "/done"
        }
        CheckOutcome::Rejected(rejection) => {
            let (notice, can_retry) = messages::for_rejection(&rejection);
            session.notice = Some(notice);
            if let Some(p) = session.pending.as_mut() {
                p.finished = !can_retry;
            }
            "/verify"
        }
        _ => "/verify",
    }
}

/// The result of a verification, the session resolved on the server when there is one.
async fn resolve(app: &AppState, visitor: &Visitor, pending: &Pending, verified: Verified) -> Done {
    let resolved = match (&verified.session_id, app.backend.for_handle(&pending.handle)) {
        (Some(session_id), Some(verifier)) => {
            match verifier.resolver.resolve(session_id, &visitor.context()).await {
                Ok(phone) => Some(phone),
                Err(err) => {
                    tracing::warn!(error = %err, "resolving the session failed");
                    None
                }
            }
        }
        _ => None,
    };
    Done {
        phone: verified.phone.clone(),
        channel: verified.channel.as_str().to_owned(),
        route: pending
            .handle
            .extra_str("route")
            .unwrap_or(pending.handle.provider.as_str())
            .to_owned(),
        verified_at: verified.verified_at,
        resolved,
    }
}

/// `GET /done`: the result.
pub async fn done(State(app): State<AppState>, visitor: Visitor) -> Response {
    let (id, session) = app.sessions.open(visitor.session.as_deref()).await;
    let Some(done) = session.done.clone() else {
        return with_cookie(&id, Redirect::to("/"));
    };
    let lang = language(&session, &visitor);
    let lang = lang.as_str();
    let screen = pages::done(&session, &done);
    render(&app, &id, session, lang, "Verified", &screen)
}

/// `POST /restart`: forgets the verification and the result.
pub async fn restart(
    State(app): State<AppState>,
    visitor: Visitor,
    Form(form): Form<CsrfForm>,
) -> Response {
    let (id, mut session) = app.sessions.open(visitor.session.as_deref()).await;
    if !session.csrf_matches(&form.csrf) {
        return forbidden();
    }
    session.pending = None;
    session.done = None;
    with_cookie(&id, Redirect::to("/"))
}

/// `POST /sandbox/reply`: plays the user sending the WhatsApp/Telegram message.
pub async fn sandbox_reply(
    State(app): State<AppState>,
    visitor: Visitor,
    Form(form): Form<ReplyForm>,
) -> Response {
    let (id, session) = app.sessions.open(visitor.session.as_deref()).await;
    if !session.csrf_matches(&form.csrf) {
        return forbidden();
    }
    let (Some(sandbox), Some(pending)) = (&app.backend.sandbox, &session.pending) else {
        return with_cookie(&id, Redirect::to("/"));
    };
    let phone = match PhoneNumber::parse(&form.phone) {
        Ok(phone) => phone,
        Err(err) => {
            let notice = Notice::error(format!("That phone number is not valid: {err}."));
            return notice_and_redirect(&id, session, notice, "/verify");
        }
    };
    if let Err(err) = sandbox.complete_reverse_flow(&pending.handle.reference, phone.e164()) {
        let notice = Notice::error(format!("The sandbox refused: {err}."));
        return notice_and_redirect(&id, session, notice, "/verify");
    }
    with_cookie(&id, Redirect::to("/verify"))
}

/// `POST /sandbox/clock`: moves the sandbox clock 10 minutes ahead.
pub async fn sandbox_clock(
    State(app): State<AppState>,
    visitor: Visitor,
    Form(form): Form<CsrfForm>,
) -> Response {
    let (id, session) = app.sessions.open(visitor.session.as_deref()).await;
    if !session.csrf_matches(&form.csrf) {
        return forbidden();
    }
    let Some(sandbox) = &app.backend.sandbox else {
        return with_cookie(&id, Redirect::to("/"));
    };
    sandbox.advance_clock(Duration::from_secs(600));
    let notice = Notice::info("The sandbox clock moved 10 minutes ahead.");
    let back = if session.pending.is_some() { "/verify" } else { "/" };
    notice_and_redirect(&id, session, notice, back)
}

/// A phone from the picker's `ISO:+code` and the typed number (an international number typed
/// with `+` or `00` wins over the picker).
fn parse_phone(country: &str, phone: &str) -> Result<PhoneNumber, Notice> {
    let typed = phone.trim();
    if typed.is_empty() {
        return Err(Notice::error("Please enter your phone number."));
    }
    let parsed = if typed.starts_with('+') || typed.starts_with("00") {
        PhoneNumber::parse(typed)
    } else {
        let code = country.split_once(':').map_or("", |(_, code)| code);
        PhoneNumber::from_parts(code, typed)
    };
    parsed.map_err(|err| Notice::error(format!("That phone number is not valid: {err}.")))
}

/// The session's language, else the browser's, else English.
fn language(session: &Session, visitor: &Visitor) -> String {
    session
        .lang
        .as_deref()
        .or(visitor.language.as_deref())
        .unwrap_or("en")
        .to_owned()
}

fn frame<'a>(app: &AppState, session: &'a mut Session, lang: &'a str) -> Frame<'a> {
    let notice = session.notice.take();
    Frame {
        inbox: app.backend.sandbox.as_ref().map(|s| {
            let mut all = s.all_messages();
            all.truncate(INBOX_SIZE);
            all
        }),
        session,
        lang,
        notice,
    }
}

fn render(
    app: &AppState,
    id: &str,
    mut session: SessionLock,
    lang: &str,
    title: &str,
    screen: &Markup,
) -> Response {
    let lang = lang.to_owned();
    let body = {
        let frame = frame(app, &mut session, &lang);
        pages::page(&frame, title, screen)
    };
    with_cookie(id, body)
}

fn notice_and_redirect(id: &str, mut session: SessionLock, notice: Notice, to: &str) -> Response {
    session.notice = Some(notice);
    with_cookie(id, Redirect::to(to))
}

fn forbidden() -> Response {
    (
        StatusCode::FORBIDDEN,
        "This form has expired: reload the page and try again.",
    )
        .into_response()
}

/// `response` with the session cookie: HttpOnly, SameSite=Strict (no cross-site form or
/// script sees or sends it).
fn with_cookie(id: &str, response: impl IntoResponse) -> Response {
    let mut response = response.into_response();
    let cookie = cookie::Cookie::build((COOKIE, id))
        .path("/")
        .http_only(true)
        .same_site(cookie::SameSite::Strict)
        .max_age(time::Duration::hours(2))
        .build();
    if let Ok(value) = HeaderValue::from_str(&cookie.to_string()) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}
