//! The axum handlers: short, the SDK doing the work.

use std::fmt;
use std::time::Duration;

use axum::Json;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::Markup;
use phone_verify::{
    Channel, CheckOutcome, CheckRequest, Code, ErrorKind, Language, PhoneNumber,
    PhoneVerifier as _, ResolvedSession, SessionResolver as _, StartRequest, Verified,
};
use serde::Deserialize;
use serde_json::json;

use crate::backend::Choice;
use crate::messages;
use crate::pages::{self, Frame, Home};
use crate::session::{
    Done, LOCK_WAIT, Notice, Pending, Session, SessionLock, TooManySessions, masked_phone,
};
use crate::state::AppState;
use crate::visitor::{Visitor, supported_language};

/// How many sandbox messages the inbox panel shows.
const INBOX_SIZE: usize = 8;

/// The most characters of a typed phone number a session keeps (to fill the form again).
const MAX_TYPED_PHONE: usize = 40;

/// `?lang=`: the language switch.
#[derive(Debug, Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
}

// Every field of the forms reads as empty when missing, so a form is answered only after its
// CSRF token is compared: one without the token is refused with 403, as one with a wrong token
// is (not 422 for the missing field), before anything else is read or sent.

/// The form of `POST /start`.
#[derive(Deserialize)]
pub struct StartForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    method: String,
    #[serde(default)]
    country: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    provider: String,
}

impl fmt::Debug for StartForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The CSRF token is never shown, the phone only masked.
        f.debug_struct("StartForm")
            .field("csrf", &"<redacted>")
            .field("method", &self.method)
            .field("country", &self.country)
            .field(
                "phone",
                &masked_phone(parse_phone(&self.country, &self.phone)),
            )
            .field("provider", &self.provider)
            .finish()
    }
}

/// The form of `POST /verify`.
#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
}

impl fmt::Debug for CodeForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Neither the CSRF token nor the code is shown.
        f.debug_struct("CodeForm")
            .field("csrf", &"<redacted>")
            .field("code", &"<redacted>")
            .finish()
    }
}

/// A form that only carries its CSRF token.
#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

impl fmt::Debug for CsrfForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CsrfForm")
            .field("csrf", &"<redacted>")
            .finish()
    }
}

/// The form of `POST /sandbox/reply`.
#[derive(Deserialize)]
pub struct ReplyForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    phone: String,
}

impl fmt::Debug for ReplyForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The CSRF token is never shown, the phone only masked.
        f.debug_struct("ReplyForm")
            .field("csrf", &"<redacted>")
            .field("phone", &masked_phone(PhoneNumber::parse(&self.phone)))
            .finish()
    }
}

/// `GET /`: phone entry and methods.
pub async fn home(
    State(app): State<AppState>,
    visitor: Visitor,
    Query(query): Query<LangQuery>,
) -> Response {
    let (id, mut session) = match open(&app, &visitor).await {
        Ok(opened) => opened,
        Err(refused) => return refused,
    };
    if let Some(lang) = query.lang.as_deref().and_then(supported_language) {
        session.lang = Some(lang.to_owned());
    }
    if session.done.is_some() {
        return with_cookie(&app, &id, Redirect::to("/done"));
    }
    if session.pending.is_some() {
        return with_cookie(&app, &id, Redirect::to("/verify"));
    }
    let lang = language(&session, &visitor);
    let lang = lang.as_str();
    let context = visitor.context();
    let language = Language::new(lang).ok();
    let backend = &app.backend;
    let (methods, countries) = tokio::join!(
        backend.init(language.as_ref(), &context),
        backend.country(visitor.region.as_deref(), language.as_ref(), &context),
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
            return with_cookie(&app, &id, (StatusCode::SERVICE_UNAVAILABLE, body));
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

/// `POST /start`: starts a verification, keeps its handle in the session. The number typed is
/// kept to fill the form again only with a new id for the session (`Typed::keep`).
pub async fn start(
    State(app): State<AppState>,
    visitor: Visitor,
    Form(form): Form<StartForm>,
) -> Response {
    let (id, mut session) = match existing(&app, &visitor, forbidden).await {
        Ok(found) => found,
        Err(refused) => return refused,
    };
    if !session.csrf_matches(&form.csrf) {
        return forbidden();
    }
    let lang = language(&session, &visitor);
    let lang = lang.as_str();
    let mobile = visitor.is_mobile();
    let mut typed = None;
    let (request, choice) = match form.method.as_str() {
        "whatsapp" | "telegram" => {
            let channel = if form.method == "whatsapp" {
                Channel::WhatsApp
            } else {
                Channel::Telegram
            };
            (
                Ok(StartRequest::reverse(channel).qr_code(!mobile)),
                Choice::Auto,
            )
        }
        "otp" => {
            let choice = Choice::parse(&form.provider).unwrap_or(Choice::Auto);
            session.last_choice = choice;
            // Written into the session only as it is answered, with its new id.
            typed = Some(Typed::of(&form));
            (
                parse_phone(&form.country, &form.phone).map(StartRequest::sms),
                choice,
            )
        }
        _ => return (StatusCode::BAD_REQUEST, "unknown method").into_response(),
    };
    let request = match request {
        Ok(request) => request,
        Err(notice) => return start_failed(&app, id, session, typed, notice),
    };
    let mut request = request.context(visitor.context());
    if let Ok(language) = Language::new(lang) {
        request = request.language(language);
    }
    let Some(verifier) = app.backend.verifier(choice) else {
        let notice = Notice::error(format!("{} is not configured here.", choice.label()));
        return start_failed(&app, id, session, typed, notice);
    };
    match verifier.verifier.start(&request).await {
        Ok(handle) => {
            session.pending = Some(Pending {
                handle,
                mobile,
                finished: false,
                checking: false,
                last_poll: None,
            });
            // A new id for the verification in progress, given by this form of the visitor's
            // own browser: an id planted there before, or seen on the way, names neither the
            // flow nor its result (whichever request sees it verified).
            let id = match typed {
                Some(typed) => typed.keep(&app, &id, &mut session),
                None => app.sessions.rotate(&id, &mut session),
            };
            with_cookie(&app, &id, Redirect::to("/verify"))
        }
        Err(err) => {
            let notice = if request.phone.is_some() {
                messages::for_code_send_error(&err, app.backend.resend_cooldown())
            } else {
                messages::for_error(&err)
            };
            start_failed(&app, id, session, typed, notice)
        }
    }
}

/// The number a start form typed, kept in the session to fill the form again.
struct Typed {
    /// The number as typed, trimmed, at most [`MAX_TYPED_PHONE`] characters.
    phone: String,
    /// The country picked, when it is two capital letters.
    country: Option<String>,
}

impl Typed {
    /// What `form` typed, bounded: the session holds no more than a number.
    fn of(form: &StartForm) -> Self {
        Self {
            phone: form.phone.trim().chars().take(MAX_TYPED_PHONE).collect(),
            country: form
                .country
                .split(':')
                .next()
                .filter(|c| c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase()))
                .map(str::to_owned),
        }
    }

    /// Writes the number into `session` (named `id`, locked by the caller) and gives the
    /// session a new id, returned for the answer's cookie; nothing is awaited between the two.
    /// Only the browser that typed the number gets the new id: an id planted there before (with
    /// its CSRF token) or seen on the way names nothing afterwards, so whoever holds it never
    /// reads the number, whether the start succeeded or not. A start given up by its visitor
    /// during the provider call writes nothing.
    fn keep(self, app: &AppState, id: &str, session: &mut Session) -> String {
        session.last_phone = self.phone;
        session.last_country = self.country;
        app.sessions.rotate(id, session)
    }
}

/// The answer to a start that failed with `notice`: back to the phone form, the number typed
/// (if any) kept to fill it again, under a new id ([`Typed::keep`]).
fn start_failed(
    app: &AppState,
    id: String,
    mut session: SessionLock,
    typed: Option<Typed>,
    notice: Notice,
) -> Response {
    let id = match typed {
        Some(typed) => typed.keep(app, &id, &mut session),
        None => id,
    };
    notice_and_redirect(app, &id, session, notice, "/")
}

/// `GET /verify`: the code form, or the reverse flow screen.
pub async fn verify_page(State(app): State<AppState>, visitor: Visitor) -> Response {
    let (mut id, mut session) = match open(&app, &visitor).await {
        Ok(opened) => opened,
        Err(refused) => return refused,
    };
    let Some(pending) = session.pending.clone() else {
        return with_cookie(
            &app,
            &id,
            Redirect::to(if session.done.is_some() { "/done" } else { "/" }),
        );
    };
    let lang = language(&session, &visitor);
    let lang = lang.as_str();
    // Only a reverse flow still open is polled, and only then is the poll recorded.
    if pending.handle.reverse.is_some()
        && !pending.finished
        && session.pending.as_mut().is_some_and(Pending::may_poll)
    {
        // One poll on load, so a reload continues the flow without the script.
        if let Some(route) = app.backend.for_handle(&pending.handle) {
            let poll = CheckRequest::poll().context(visitor.context());
            if let Ok(outcome @ (CheckOutcome::Verified(_) | CheckOutcome::Rejected(_))) =
                route.verifier.check(&pending.handle, &poll).await
            {
                let next = settle(&app, &visitor, (&mut id, &mut session), &pending, outcome).await;
                return with_cookie(&app, &id, Redirect::to(next));
            }
        }
    }
    let Some(mut pending) = session.pending.clone() else {
        return with_cookie(&app, &id, Redirect::to("/"));
    };
    if pending.checking && !pending.finished {
        // A check cut short (its visitor gave the request up): the form is closed, as the next
        // `POST /verify` would close it.
        pending.finished = true;
        session.pending = Some(pending.clone());
        session.notice = Some(messages::check_cut_short());
    }
    let screen = if pending.handle.reverse.is_some() {
        pages::reverse(&session, &pending)
    } else {
        let language = Language::new(lang).ok();
        let texts = app
            .backend
            .init(language.as_ref(), &visitor.context())
            .await
            .ok();
        let enter_code = texts.as_ref().and_then(|t| t.text("otp.enterCode"));
        pages::code_form(&session, &pending, enter_code)
    };
    render(&app, &id, session, lang, "Verify", &screen)
}

/// `POST /verify`: checks the code typed. A check cut short (the visitor gave its request
/// up) is not followed by another: the next one closes the form ([`Pending::checking`]).
pub async fn check_code(
    State(app): State<AppState>,
    visitor: Visitor,
    Form(form): Form<CodeForm>,
) -> Response {
    let (mut id, mut session) = match existing(&app, &visitor, forbidden).await {
        Ok(found) => found,
        Err(refused) => return refused,
    };
    if !session.csrf_matches(&form.csrf) {
        return forbidden();
    }
    let Some(pending) = session.pending.clone().filter(|p| !p.finished) else {
        return with_cookie(&app, &id, Redirect::to("/"));
    };
    if pending.checking {
        // The previous check was cut short (its visitor closed the connection): the provider
        // may have used the code, so checking again could call it wrong. As with a lost
        // answer, the form is closed and the visitor asks for a new code.
        if let Some(p) = session.pending.as_mut() {
            p.finished = true;
        }
        return notice_and_redirect(&app, &id, session, messages::check_cut_short(), "/verify");
    }
    let Ok(code) = Code::new(&form.code) else {
        let notice = Notice::error("A code is 4 to 10 letters or digits.");
        return notice_and_redirect(&app, &id, session, notice, "/verify");
    };
    let Some(verifier) = app.backend.for_handle(&pending.handle) else {
        return with_cookie(&app, &id, Redirect::to("/"));
    };
    let check = CheckRequest::code(code).context(visitor.context());
    // Marked before the provider call, in the session the request owns the lock of: the mark
    // stays if the request is dropped during the call.
    if let Some(p) = session.pending.as_mut() {
        p.checking = true;
    }
    let target = match verifier.verifier.check(&pending.handle, &check).await {
        Ok(outcome) => settle(&app, &visitor, (&mut id, &mut session), &pending, outcome).await,
        Err(err) => {
            // The code may have been used up: checking it again could call it wrong, so the
            // form is closed and the visitor asks for a new code.
            if err.kind() == ErrorKind::OutcomeUnknown
                && let Some(p) = session.pending.as_mut()
            {
                p.finished = true;
            }
            session.notice = Some(messages::for_error(&err));
            "/verify"
        }
    };
    // Only once the outcome is recorded (a verified one is recorded before anything else is
    // awaited, and the verification in progress is gone with it).
    if let Some(p) = session.pending.as_mut() {
        p.checking = false;
    }
    with_cookie(&app, &id, Redirect::to(target))
}

/// `GET /verify/status`: polls a reverse flow (JSON for the page's script). A code flow is
/// not polled (its code is checked when typed): it is "over" here, and `/verify` shows it.
pub async fn status(State(app): State<AppState>, visitor: Visitor) -> Response {
    let over = || Json(json!({"state": "over", "next": "/"})).into_response();
    let (mut id, mut session) = match existing(&app, &visitor, over).await {
        Ok(found) => found,
        Err(refused) => return refused,
    };
    if session.done.is_some() {
        return Json(json!({"state": "verified", "next": "/done"})).into_response();
    }
    let Some(pending) = session
        .pending
        .clone()
        .filter(|p| !p.finished && p.handle.reverse.is_some())
    else {
        return Json(json!({"state": "over", "next": "/verify"})).into_response();
    };
    let Some(verifier) = app.backend.for_handle(&pending.handle) else {
        return Json(json!({"state": "over", "next": "/"})).into_response();
    };
    let remaining = || {
        pending.handle.expires_at.map(|at| {
            (at - time::OffsetDateTime::now_utc())
                .whole_seconds()
                .max(0)
        })
    };
    if !session.pending.as_mut().is_some_and(Pending::may_poll) {
        // Polled less than a second ago: still pending, as far as this session knows.
        return Json(json!({"state": "pending", "remaining_secs": remaining()})).into_response();
    }
    let poll = CheckRequest::poll().context(visitor.context());
    match verifier.verifier.check(&pending.handle, &poll).await {
        Ok(CheckOutcome::Pending) => {
            Json(json!({"state": "pending", "remaining_secs": remaining()})).into_response()
        }
        Ok(outcome) => {
            let next = settle(&app, &visitor, (&mut id, &mut session), &pending, outcome).await;
            let state = if next == "/done" { "verified" } else { "over" };
            // The session has a new id once verified: the cookie follows it.
            with_cookie(&app, &id, Json(json!({"state": state, "next": next})))
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
///
/// A verified outcome is recorded at once, before any further provider call: the session is
/// done, with the number the check reported, and its verification in progress is gone. Only
/// then is the provider's session resolved, enriching the result when that call completes. A
/// request given up during it (its visitor closing the connection drops the handler) or a
/// resolution that fails still leaves the visitor verified, not told to ask for a new code.
/// Once resolved (or failed), the session gets a new id (in `id`) and CSRF token: see
/// [`Sessions::rotate`](crate::Sessions::rotate). A request given up before that keeps the id
/// the visitor's browser holds, the one given when the verification started.
async fn settle(
    app: &AppState,
    visitor: &Visitor,
    (id, session): (&mut String, &mut Session),
    pending: &Pending,
    outcome: CheckOutcome,
) -> &'static str {
    match outcome {
        CheckOutcome::Verified(verified) => {
            session.done = Some(done_of(pending, &verified));
            session.pending = None;
            if let Some(resolved) = resolve(app, visitor, pending, &verified).await
                && let Some(done) = session.done.as_mut()
            {
                done.resolved = Some(resolved);
            }
            *id = app.sessions.rotate(id, session);
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

/// The result of `pending`'s verification as its check reported it, not resolved yet.
fn done_of(pending: &Pending, verified: &Verified) -> Done {
    Done {
        phone: verified.phone.clone(),
        channel: verified.channel.as_str().to_owned(),
        route: pending
            .handle
            .extra_str("route")
            .unwrap_or(pending.handle.provider.as_str())
            .to_owned(),
        verified_at: verified.verified_at,
        resolved: None,
    }
}

/// The provider's session of a verification, resolved on the server, when the check named
/// one and the resolution succeeds.
async fn resolve(
    app: &AppState,
    visitor: &Visitor,
    pending: &Pending,
    verified: &Verified,
) -> Option<ResolvedSession> {
    let session_id = verified.session_id.as_ref()?;
    let route = app.backend.for_handle(&pending.handle)?;
    match route.resolver.resolve(session_id, &visitor.context()).await {
        Ok(resolved) => Some(resolved),
        Err(err) => {
            tracing::warn!(error = %err, "resolving the session failed");
            None
        }
    }
}

/// `GET /done`: the result.
pub async fn done(State(app): State<AppState>, visitor: Visitor) -> Response {
    let (id, session) = match open(&app, &visitor).await {
        Ok(opened) => opened,
        Err(refused) => return refused,
    };
    let Some(done) = session.done.clone() else {
        return with_cookie(&app, &id, Redirect::to("/"));
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
    let (id, mut session) = match existing(&app, &visitor, forbidden).await {
        Ok(found) => found,
        Err(refused) => return refused,
    };
    if !session.csrf_matches(&form.csrf) {
        return forbidden();
    }
    session.pending = None;
    session.done = None;
    with_cookie(&app, &id, Redirect::to("/"))
}

/// `POST /sandbox/reply`: plays the user sending the WhatsApp/Telegram message.
pub async fn sandbox_reply(
    State(app): State<AppState>,
    visitor: Visitor,
    Form(form): Form<ReplyForm>,
) -> Response {
    let (id, session) = match existing(&app, &visitor, forbidden).await {
        Ok(found) => found,
        Err(refused) => return refused,
    };
    if !session.csrf_matches(&form.csrf) {
        return forbidden();
    }
    let (Some(sandbox), Some(pending)) = (&app.backend.sandbox, &session.pending) else {
        return with_cookie(&app, &id, Redirect::to("/"));
    };
    let phone = match PhoneNumber::parse(&form.phone) {
        Ok(phone) => phone,
        Err(err) => {
            let notice = Notice::error(format!("That phone number is not valid: {err}."));
            return notice_and_redirect(&app, &id, session, notice, "/verify");
        }
    };
    if let Err(err) = sandbox.complete_reverse_flow(&pending.handle.reference, phone.e164()) {
        let notice = Notice::error(format!("The sandbox refused: {err}."));
        return notice_and_redirect(&app, &id, session, notice, "/verify");
    }
    with_cookie(&app, &id, Redirect::to("/verify"))
}

/// `POST /sandbox/clock`: moves the sandbox clock 10 minutes ahead.
pub async fn sandbox_clock(
    State(app): State<AppState>,
    visitor: Visitor,
    Form(form): Form<CsrfForm>,
) -> Response {
    let (id, session) = match existing(&app, &visitor, forbidden).await {
        Ok(found) => found,
        Err(refused) => return refused,
    };
    if !session.csrf_matches(&form.csrf) {
        return forbidden();
    }
    let Some(sandbox) = &app.backend.sandbox else {
        return with_cookie(&app, &id, Redirect::to("/"));
    };
    sandbox.advance_clock(Duration::from_secs(600));
    let notice = Notice::info("The sandbox clock moved 10 minutes ahead.");
    let back = if session.pending.is_some() {
        "/verify"
    } else {
        "/"
    };
    notice_and_redirect(&app, &id, session, notice, back)
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
    with_cookie(app, id, body)
}

fn notice_and_redirect(
    app: &AppState,
    id: &str,
    mut session: SessionLock,
    notice: Notice,
    to: &str,
) -> Response {
    session.notice = Some(notice);
    with_cookie(app, id, Redirect::to(to))
}

/// The visitor's session, made when it has none ([`Sessions::open`](crate::Sessions::open)),
/// waiting at most [`LOCK_WAIT`] for the visitor's other requests; else the answer to give
/// (429 past the limit on new sessions, 503 when the session stayed busy).
async fn open(app: &AppState, visitor: &Visitor) -> Result<(String, SessionLock), Response> {
    let opening = app.sessions.open(visitor.session.as_deref(), visitor.ip);
    match tokio::time::timeout(LOCK_WAIT, opening).await {
        Ok(Ok(opened)) => Ok(opened),
        Ok(Err(refused)) => Err(too_many_sessions(refused)),
        Err(_) => Err(busy()),
    }
}

/// The visitor's session, if it has one
/// ([`Sessions::existing`](crate::Sessions::existing)), waiting at most [`LOCK_WAIT`] for the
/// visitor's other requests; else `missing()`, or 503 when the session stayed busy.
async fn existing(
    app: &AppState,
    visitor: &Visitor,
    missing: impl FnOnce() -> Response,
) -> Result<(String, SessionLock), Response> {
    let finding = app.sessions.existing(visitor.session.as_deref());
    match tokio::time::timeout(LOCK_WAIT, finding).await {
        Ok(Some(found)) => Ok(found),
        Ok(None) => Err(missing()),
        Err(_) => Err(busy()),
    }
}

/// How long a client asked to come back after [`busy`] should wait, in seconds.
const BUSY_RETRY_AFTER_SECS: u64 = 5;

/// `503 Service Unavailable` with `Retry-After`: the visitor's session stayed locked by its
/// other requests for [`LOCK_WAIT`]. Nothing was sent to a provider.
fn busy() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::RETRY_AFTER, BUSY_RETRY_AFTER_SECS.to_string())],
        "Your previous request is still being handled: try again in a few seconds.",
    )
        .into_response()
}

fn forbidden() -> Response {
    (
        StatusCode::FORBIDDEN,
        "This form has expired: reload the page and try again.",
    )
        .into_response()
}

/// `429 Too Many Requests` for a page that would have made a session: its address made
/// too many lately ([`AddressLimit`](crate::session::AddressLimit)). No session, no cookie.
fn too_many_sessions(refused: TooManySessions) -> Response {
    // Whole seconds, rounded up: retrying on time is never refused again for the same window.
    let wait = refused.retry_after;
    let secs = (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1);
    (
        StatusCode::TOO_MANY_REQUESTS,
        [(header::RETRY_AFTER, secs.to_string())],
        format!("Too many new visits from your address: try again in {secs} s."),
    )
        .into_response()
}

/// `response` with the session cookie: HttpOnly, SameSite=Strict (no cross-site form or
/// script sees or sends it), kept by the browser no longer than the session can live
/// ([`Sessions::max_age`](crate::Sessions::max_age)); `Secure` and `__Host-` prefixed when
/// the app is configured so ([`Sessions::secure_cookie`](crate::Sessions::secure_cookie)).
fn with_cookie(app: &AppState, id: &str, response: impl IntoResponse) -> Response {
    let mut response = response.into_response();
    let max_age = app.sessions.max_age(id).as_secs();
    let cookie = cookie::Cookie::build((app.sessions.cookie_name(), id))
        .path("/")
        .http_only(true)
        .secure(app.sessions.is_cookie_secure())
        .same_site(cookie::SameSite::Strict)
        .max_age(time::Duration::seconds(
            i64::try_from(max_age).unwrap_or(i64::MAX),
        ))
        .build();
    if let Ok(value) = HeaderValue::from_str(&cookie.to_string()) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

#[cfg(test)]
mod tests {
    //! The handlers over HTTP, without a browser: the app's router answers requests built
    //! here, against the embedded sandbox.

    use std::net::SocketAddr;

    use axum::body::Body;
    use axum::extract::ConnectInfo;
    use axum::http::{HeaderName, Request, StatusCode, header};
    use phone_verify_sandbox::{Fault, FaultAction, InitTheme, Provider};
    use tower::ServiceExt as _;

    use crate::proxy::{ProxyHeader, X_FORWARDED_FOR};
    use crate::{AppState, Backend, Inner, Sessions, Target, TrustedProxies, app};

    /// The end user's address the requests come from.
    const USER: &str = "203.0.113.9:51000";

    /// The home page's form for a code by SMS through VerifyKit to a Turkish mobile
    /// (+90 532 123 45 67).
    const VERIFYKIT_CODE_TO_TR: [(&str, &str); 4] = [
        ("method", "otp"),
        ("country", "TR:+90"),
        ("phone", "532 123 45 67"),
        ("provider", "verifykit"),
    ];

    /// A visitor: the app, its cookie and its CSRF token once a page gave them, and the
    /// address its requests come from.
    struct Browser {
        state: AppState,
        cookie: Option<String>,
        csrf: Option<String>,
        peer: SocketAddr,
        /// The forwarding header its requests carry, and its value.
        forwarding: Option<(HeaderName, String)>,
        /// Its `Accept-Language`.
        accept_language: String,
        /// A `Cookie` header sent as it is, instead of the one `cookie` makes.
        cookie_header: Option<String>,
    }

    struct Page {
        status: StatusCode,
        location: Option<String>,
        body: String,
        headers: axum::http::HeaderMap,
    }

    impl Browser {
        async fn new(theme: InitTheme) -> Self {
            Self::behind(theme, TrustedProxies::default()).await
        }

        /// A visitor of an app that trusts `proxies`.
        async fn behind(theme: InitTheme, proxies: TrustedProxies) -> Self {
            let backend = Backend::start(Target::Embedded(theme)).await.unwrap();
            Self::of(AppState::from(Inner {
                backend,
                sessions: Sessions::default(),
                proxies,
            }))
        }

        /// A visitor of the app of `state`, without a cookie yet, from [`USER`].
        fn of(state: AppState) -> Self {
            Self {
                state,
                cookie: None,
                csrf: None,
                peer: USER.parse().unwrap(),
                forwarding: None,
                accept_language: "tr-TR,tr;q=0.9,en;q=0.5".to_owned(),
                cookie_header: None,
            }
        }

        /// Another visitor of the same app, without a cookie yet, from `peer`.
        fn stranger(&self, peer: &str) -> Self {
            Self {
                peer: peer.parse().unwrap(),
                ..Self::of(self.state.clone())
            }
        }

        /// Another visitor of the same app, without a cookie yet, from `peer` with
        /// `X-Forwarded-For: forwarded_for`.
        fn forwarded(&self, peer: &str, forwarded_for: &str) -> Self {
            Self {
                forwarding: Some((X_FORWARDED_FOR, forwarded_for.to_owned())),
                ..self.stranger(peer)
            }
        }

        /// Another visitor of the same app, without a cookie yet, from `peer` with RFC 7239
        /// `Forwarded: forwarded`.
        fn rfc7239(&self, peer: &str, forwarded: &str) -> Self {
            Self {
                forwarding: Some((header::FORWARDED, forwarded.to_owned())),
                ..self.stranger(peer)
            }
        }

        fn sandbox(&self) -> &phone_verify_sandbox::SandboxHandle {
            self.state.backend.sandbox.as_ref().unwrap()
        }

        /// The request `request` with `body`, as this visitor sends it.
        fn request(&self, request: axum::http::request::Builder, body: Body) -> Request<Body> {
            let mut request = request
                .header(header::ACCEPT_LANGUAGE, &self.accept_language)
                .header(header::USER_AGENT, "Mozilla/5.0 (X11; Linux x86_64) Test");
            if let Some((name, value)) = &self.forwarding {
                request = request.header(name, value);
            }
            if let Some(raw) = &self.cookie_header {
                request = request.header(header::COOKIE, raw);
            } else if let Some(cookie) = &self.cookie {
                let name = self.state.sessions.cookie_name();
                request = request.header(header::COOKIE, format!("{name}={cookie}"));
            }
            let mut request = request.body(body).unwrap();
            request.extensions_mut().insert(ConnectInfo(self.peer));
            request
        }

        async fn send(&mut self, request: axum::http::request::Builder, body: Body) -> Page {
            let request = self.request(request, body);
            let response = app(self.state.clone()).oneshot(request).await.unwrap();
            let status = response.status();
            let headers = response.headers().clone();
            if let Some(set) = headers.get(header::SET_COOKIE) {
                let parsed = cookie::Cookie::parse(set.to_str().unwrap().to_owned()).unwrap();
                self.cookie = Some(parsed.value().to_owned());
            }
            let location = headers
                .get(header::LOCATION)
                .map(|l| l.to_str().unwrap().to_owned());
            let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
                .await
                .unwrap();
            let body = String::from_utf8(bytes.to_vec()).unwrap();
            if let Some(token) = csrf_of(&body) {
                self.csrf = Some(token);
            }
            Page {
                status,
                location,
                body,
                headers,
            }
        }

        async fn get(&mut self, path: &str) -> Page {
            self.send(Request::get(path), Body::empty()).await
        }

        /// A form post carrying this visitor's CSRF token.
        async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
            let csrf = self.csrf.clone().unwrap_or_default();
            self.post_with(path, &csrf, fields).await
        }

        async fn post_with(&mut self, path: &str, csrf: &str, fields: &[(&str, &str)]) -> Page {
            let request = Request::post(path)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
            self.send(request, form(csrf, fields)).await
        }

        /// A form post carrying this visitor's CSRF token, given up as a browser closing its
        /// connection gives it up (the server drops the handler) as soon as `arrived` says the
        /// provider has the request, before its answer: the provider must hold it back (a
        /// `Delay` fault).
        async fn post_and_hang_up(
            &mut self,
            path: &str,
            fields: &[(&str, &str)],
            arrived: impl Fn(&phone_verify_sandbox::SandboxHandle) -> bool,
        ) {
            let csrf = self.csrf.clone().unwrap_or_default();
            let request = Request::post(path)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
            let request = self.request(request, form(&csrf, fields));
            let answer = app(self.state.clone()).oneshot(request);
            tokio::pin!(answer);
            while !arrived(self.sandbox()) {
                tokio::select! {
                    answered = &mut answer => {
                        panic!("answered before the provider had the request: {answered:?}")
                    }
                    () = tokio::time::sleep(std::time::Duration::from_millis(10)) => {}
                }
            }
        }
    }

    /// A form's body: `csrf` and `fields`, URL-encoded.
    fn form(csrf: &str, fields: &[(&str, &str)]) -> Body {
        let mut form = format!("csrf={csrf}");
        for (name, value) in fields {
            form.push('&');
            form.push_str(name);
            form.push('=');
            form.push_str(&encode(value));
        }
        Body::from(form)
    }

    fn encode(value: &str) -> String {
        value
            .bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                    char::from(b).to_string()
                }
                b' ' => "+".to_owned(),
                _ => format!("%{b:02X}"),
            })
            .collect()
    }

    fn csrf_of(body: &str) -> Option<String> {
        let start = body.find(r#"name="csrf" value=""#)? + r#"name="csrf" value=""#.len();
        Some(body[start..].split('"').next()?.to_owned())
    }

    #[tokio::test]
    async fn the_home_page_shows_init_methods_and_the_visitors_country_first() {
        let mut browser = Browser::new(InitTheme::Recommended).await;
        let page = browser.get("/").await;
        assert_eq!(page.status, StatusCode::OK);
        for app in ["whatsapp", "telegram", "otp"] {
            assert!(page.body.contains(&format!(r#"data-app="{app}""#)), "{app}");
        }
        // Turkish from Accept-Language: init's texts and the country list.
        assert!(page.body.contains("WhatsApp ile doğrula"), "{}", page.body);
        let first = page.body.find("<option value=\"").unwrap();
        assert!(page.body[first..].starts_with(r#"<option value="TR:+90" selected"#));
        assert!(page.body.contains("background:#1bd741"));
        assert!(page.body.contains(r#"autocomplete="tel-national""#));
        let cookie = page.headers[header::SET_COOKIE].to_str().unwrap();
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
            "{cookie}"
        );
        assert!(
            cookie.starts_with("pv_session=") && !cookie.contains("Secure"),
            "not Secure unless asked: {cookie}"
        );
        // The cookie lives as long as the session can: a whole lifetime, when new.
        let max_age = cookie::Cookie::parse(cookie).unwrap().max_age().unwrap();
        let lifetime = time::Duration::try_from(crate::session::LIFETIME).unwrap();
        assert!(
            max_age <= lifetime && max_age > lifetime - time::Duration::MINUTE,
            "{cookie}"
        );
        let csp = page.headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap();
        assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"));
        // The end user's IP reached VerifyKit with `init`.
        let log = browser.sandbox().requests_of(Provider::VerifyKit);
        assert!(
            log.requests
                .iter()
                .all(|r| r.forwarded_for.as_deref() == Some("203.0.113.9")),
            "{log:?}"
        );
    }

    #[tokio::test]
    async fn the_basic_theme_offers_sms_as_the_alternative_and_the_language_switches() {
        let mut browser = Browser::new(InitTheme::Basic).await;
        let page = browser.get("/?lang=en").await;
        assert!(
            page.body.contains("Don&#39;t use any of these apps?")
                || page.body.contains("Don't use any of these apps?"),
            "{}",
            page.body
        );
        assert!(page.body.contains(r#"id="send-code""#));
        assert!(!page.body.contains(r#"data-app="otp""#));
        let page = browser.get("/?lang=es").await;
        assert!(page.body.contains("Verificar con WhatsApp"));
        assert!(page.body.contains(r#"<html lang="es">"#));
    }

    #[tokio::test]
    async fn a_form_without_the_sessions_token_is_refused_before_any_send() {
        let mut browser = Browser::new(InitTheme::Recommended).await;
        browser.get("/").await;
        let fields = [
            ("method", "otp"),
            ("country", "TR:+90"),
            ("phone", "5321234567"),
        ];
        let page = browser.post_with("/start", "forged", &fields).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN);
        let mut stranger = Browser {
            csrf: browser.csrf.clone(),
            ..browser.stranger(USER)
        };
        let page = stranger.post("/start", &fields).await;
        assert_eq!(
            page.status,
            StatusCode::FORBIDDEN,
            "a token of another session"
        );
        assert!(browser.sandbox().all_messages().is_empty());
    }

    #[tokio::test]
    async fn a_form_without_the_csrf_field_is_refused_with_403_before_any_send() {
        let mut browser = Browser::new(InitTheme::Recommended).await;
        browser.get("/").await;
        let form = |path: &str| {
            Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        };
        let page = browser
            .send(form("/start"), Body::from("method=otp&phone=5321234567"))
            .await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.body);
        // Every form, whatever else it lacks: the token is asked for first.
        for path in [
            "/start",
            "/verify",
            "/restart",
            "/sandbox/reply",
            "/sandbox/clock",
        ] {
            let page = browser.send(form(path), Body::empty()).await;
            assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}: {}", page.body);
        }
        assert!(browser.sandbox().all_messages().is_empty(), "nothing sent");
        let sends = browser
            .sandbox()
            .requests_of(Provider::VerifyKit)
            .requests
            .iter()
            .filter(|r| r.path.ends_with("/send-otp"))
            .count();
        assert_eq!(sends, 0, "no send reached VerifyKit");
    }

    /// A start form posted with an id and token an attacker planted in the visitor's browser,
    /// failing (a number that does not parse, a send the provider refuses): the number typed
    /// is kept for the visitor only, under a new id.
    #[tokio::test]
    async fn a_failed_start_keeps_the_typed_number_from_a_planted_id() {
        let browser = Browser::new(InitTheme::Recommended).await;
        // VerifyKit refuses the second case's send.
        browser.sandbox().inject_fault(
            Fault::new(
                Provider::VerifyKit,
                FaultAction::Status {
                    status: 400,
                    body: None,
                },
            )
            .path("/v1.0/send-otp"),
        );
        for (typed, typed_in_page, failure) in [
            ("53998", r#"value="53998""#, "not valid"),
            (
                "532 998 76 54",
                r#"value="532 998 76 54""#,
                r#"id="notice""#,
            ),
        ] {
            let mut attacker = browser.stranger("198.51.100.66:40000");
            attacker.get("/").await;
            let planted = attacker.cookie.clone().unwrap();
            let mut victim = Browser {
                cookie: attacker.cookie.clone(),
                csrf: attacker.csrf.clone(),
                ..browser.stranger(USER)
            };
            let fields = [
                ("method", "otp"),
                ("country", "TR:+90"),
                ("phone", typed),
                ("provider", "verifykit"),
            ];
            let page = victim.post("/start", &fields).await;
            assert_eq!(
                page.location.as_deref(),
                Some("/"),
                "{typed}: {}",
                page.body
            );
            // The planted id shows the attacker nothing of it.
            let page = attacker.get("/").await;
            assert!(!page.body.contains(typed), "{typed}: {}", page.body);
            assert_ne!(victim.cookie.as_deref(), Some(planted.as_str()), "{typed}");
            // The visitor's own next page fills the form again.
            let page = victim.get("/").await;
            assert!(page.body.contains(typed_in_page), "{typed}: {}", page.body);
            assert!(page.body.contains(failure), "{typed}: {}", page.body);
        }
        assert!(
            browser.sandbox().pending_faults().is_empty(),
            "the send was refused"
        );
        assert!(browser.sandbox().all_messages().is_empty());
    }

    #[tokio::test]
    async fn a_bad_phone_gets_a_clear_message_and_no_request() {
        let mut browser = Browser::new(InitTheme::Recommended).await;
        browser.get("/").await;
        let before = browser.sandbox().requests().requests.len();
        let page = browser
            .post(
                "/start",
                &[("method", "otp"), ("country", "TR:+90"), ("phone", "12")],
            )
            .await;
        assert_eq!(page.location.as_deref(), Some("/"));
        assert_eq!(browser.sandbox().requests().requests.len(), before);
        let page = browser.get("/").await;
        assert!(
            page.body.contains("That phone number is not valid"),
            "{}",
            page.body
        );
        assert!(
            page.body.contains(r#"value="12""#),
            "the form keeps what was typed"
        );
    }

    #[tokio::test]
    async fn an_sms_code_verifies_with_the_users_ip_and_user_agent() {
        let mut browser = Browser::new(InitTheme::Recommended).await;
        browser.get("/").await;
        let page = browser.post("/start", &VERIFYKIT_CODE_TO_TR).await;
        assert_eq!(page.location.as_deref(), Some("/verify"));
        let page = browser.get("/verify").await;
        assert!(page.body.contains(r#"autocomplete="one-time-code""#));
        assert!(page.body.contains(r#"inputmode="numeric""#));
        let code = browser.sandbox().latest_code("+905321234567").unwrap();
        let page = browser.post("/verify", &[("code", &code)]).await;
        assert_eq!(page.location.as_deref(), Some("/done"));
        let page = browser.get("/done").await;
        assert!(page.body.contains("+90 532 123 45 67"), "{}", page.body);
        let sends: Vec<_> = browser
            .sandbox()
            .requests_of(Provider::VerifyKit)
            .requests
            .into_iter()
            .filter(|r| r.path.ends_with("send-otp") || r.path.ends_with("check-otp"))
            .collect();
        assert_eq!(sends.len(), 2);
        assert!(
            sends
                .iter()
                .all(|r| r.forwarded_for.as_deref() == Some("203.0.113.9"))
        );
    }

    /// Starts an SMS code to `phone` through `provider`, types the code the sandbox sent, and
    /// returns the result page.
    async fn sms_flow(browser: &mut Browser, phone: &str, e164: &str, provider: &str) -> Page {
        browser.get("/").await;
        let page = browser
            .post(
                "/start",
                &[
                    ("method", "otp"),
                    ("country", "TR:+90"),
                    ("phone", phone),
                    ("provider", provider),
                ],
            )
            .await;
        assert_eq!(page.location.as_deref(), Some("/verify"), "{provider}");
        // The form's page, with the token the session got when it started.
        browser.get("/verify").await;
        let code = browser.sandbox().latest_code(e164).unwrap();
        let page = browser.post("/verify", &[("code", &code)]).await;
        assert_eq!(page.location.as_deref(), Some("/done"), "{provider}");
        browser.get("/done").await
    }

    #[tokio::test]
    async fn verifying_gives_the_session_a_new_id_and_the_old_one_names_nothing() {
        let mut browser = Browser::new(InitTheme::Recommended).await;
        browser.get("/").await;
        let planted = browser.cookie.clone().unwrap();
        sms_flow(&mut browser, "532 123 45 67", "+905321234567", "verifykit").await;
        let verified = browser.cookie.clone().unwrap();
        assert_ne!(verified, planted, "a new id once verified");
        let page = browser.get("/done").await;
        assert_eq!(page.status, StatusCode::OK);
        let mut attacker = Browser {
            cookie: Some(planted),
            ..browser.stranger(USER)
        };
        let page = attacker.get("/done").await;
        assert_eq!(
            page.location.as_deref(),
            Some("/"),
            "the planted id shows nothing"
        );
    }

    #[tokio::test]
    async fn page_loads_reuse_verifykits_init_and_country_answers() {
        let mut browser = Browser::new(InitTheme::Recommended).await;
        let asked = |browser: &Browser, path: &str| {
            browser
                .sandbox()
                .requests_of(Provider::VerifyKit)
                .requests
                .iter()
                .filter(|r| r.path.ends_with(path))
                .count()
        };
        for _ in 0..10 {
            let page = browser.get("/").await;
            assert_eq!(page.status, StatusCode::OK);
            let mut stranger = browser.stranger("198.51.100.9:40000");
            assert_eq!(stranger.get("/").await.status, StatusCode::OK);
        }
        assert_eq!(asked(&browser, "/init"), 1, "one init for every page");
        assert_eq!(asked(&browser, "/country"), 1, "one country for every page");
        // Another language is another answer.
        let page = browser.get("/?lang=en").await;
        assert_eq!(page.status, StatusCode::OK);
        assert_eq!(asked(&browser, "/init"), 2);
    }

    #[tokio::test]
    async fn polls_reach_the_provider_at_most_once_a_second_per_session() {
        let mut browser = Browser::new(InitTheme::Recommended).await;
        browser.get("/").await;
        browser.post("/start", &[("method", "telegram")]).await;
        let polls = |browser: &Browser| {
            browser
                .sandbox()
                .requests_of(Provider::VerifyKit)
                .requests
                .iter()
                .filter(|r| r.path.starts_with("/v1.0/check"))
                .count()
        };
        let before = polls(&browser);
        let started = std::time::Instant::now();
        for _ in 0..50 {
            let page = browser.get("/verify/status").await;
            assert!(page.body.contains("pending"), "{}", page.body);
        }
        let seconds = started.elapsed().as_secs();
        let made = polls(&browser) - before;
        assert!(made >= 1, "the first poll reached the provider");
        assert!(
            made <= usize::try_from(seconds).unwrap() + 1,
            "{made} polls in {seconds} s"
        );
    }

    #[tokio::test]
    async fn requests_without_a_session_make_none() {
        let browser = Browser::new(InitTheme::Recommended).await;
        for _ in 0..20 {
            let mut stranger = browser.stranger(USER);
            let page = stranger.get("/verify/status").await;
            assert!(page.body.contains("over"), "{}", page.body);
            let page = stranger
                .post_with("/start", "forged", &[("method", "telegram")])
                .await;
            assert_eq!(page.status, StatusCode::FORBIDDEN);
            assert!(stranger.cookie.is_none(), "no cookie given");
        }
        assert!(browser.state.sessions.is_empty(), "no session was made");
    }

    #[tokio::test]
    async fn a_flood_of_page_loads_from_one_address_is_refused_and_sessions_keep_working() {
        let mut visitor = Browser::new(InitTheme::Recommended).await;
        visitor.get("/").await;
        let per_address = usize::try_from(crate::session::NEW_SESSIONS_PER_ADDRESS).unwrap();
        let mut refused = 0;
        for _ in 0..3 * per_address {
            let mut stranger = visitor.stranger(USER);
            let page = stranger.get("/").await;
            if page.status == StatusCode::OK {
                assert!(stranger.cookie.is_some());
                continue;
            }
            assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
            let retry_after: u64 = page.headers[header::RETRY_AFTER]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!((1..=60).contains(&retry_after), "{retry_after}");
            assert!(page.body.contains("Too many"), "{}", page.body);
            assert!(stranger.cookie.is_none(), "no session, no cookie");
            refused += 1;
        }
        assert_eq!(
            refused,
            2 * per_address + 1,
            "the visitor's session counted"
        );
        assert_eq!(
            visitor.state.sessions.len(),
            per_address,
            "the store is left alone"
        );
        for path in ["/verify", "/done"] {
            let page = visitor.stranger(USER).get(path).await;
            assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS, "{path}");
        }
        // The visitor with a session, from the same address, goes on.
        let page = visitor.get("/").await;
        assert_eq!(page.status, StatusCode::OK);
        let page = visitor.post("/start", &[("method", "telegram")]).await;
        assert_eq!(page.location.as_deref(), Some("/verify"));
        let page = visitor.get("/verify").await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains(r#"id="qr-code""#));
        // Another address is not limited.
        let mut neighbour = visitor.stranger("198.51.100.7:40000");
        assert_eq!(neighbour.get("/").await.status, StatusCode::OK);
        assert!(neighbour.cookie.is_some());
        assert_eq!(visitor.state.sessions.len(), per_address + 1);
    }

    /// The address of a trusted proxy (in `10.0.0.0/8`) the requests come from.
    const PROXY: &str = "10.0.0.2:40000";

    /// Page loads from `browser`'s strangers (made by `stranger`) until one is refused: how
    /// many made a session, at most `bound`.
    async fn sessions_until_refused(
        browser: &Browser,
        bound: usize,
        stranger: impl Fn(&Browser, usize) -> Browser,
    ) -> usize {
        for made in 0..bound {
            let page = stranger(browser, made).get("/").await;
            if page.status == StatusCode::TOO_MANY_REQUESTS {
                return made;
            }
            assert_eq!(page.status, StatusCode::OK);
        }
        bound
    }

    /// A visitor of an app trusting the proxies of `10.0.0.0/8`, which name the visitor in
    /// `header`, and how many sessions an address may make.
    async fn behind_ten_slash_eight(header: ProxyHeader) -> (Browser, usize) {
        let proxies = TrustedProxies::new(["10.0.0.0/8".parse().unwrap()]).with_header(header);
        let browser = Browser::behind(InitTheme::Recommended, proxies).await;
        let limit = usize::try_from(crate::session::NEW_SESSIONS_PER_ADDRESS).unwrap();
        (browser, limit)
    }

    /// The end user's IP the last request to VerifyKit carried.
    fn last_forwarded_for(browser: &Browser) -> Option<String> {
        let requests = browser.sandbox().requests_of(Provider::VerifyKit).requests;
        requests.last()?.forwarded_for.clone()
    }

    #[tokio::test]
    async fn behind_a_trusted_proxy_the_session_limit_counts_the_forwarded_address() {
        let (browser, limit) = behind_ten_slash_eight(ProxyHeader::XForwardedFor).await;
        // One visitor behind the proxy, whose leftmost entries change (spoofed) every time.
        let made = sessions_until_refused(&browser, 2 * limit, |b, i| {
            b.forwarded(PROXY, &format!("192.0.2.{i}, 198.51.100.1, 10.0.0.3"))
        })
        .await;
        assert_eq!(made, limit, "one visitor, whatever it puts on the left");
        // Others behind the same proxy are not locked out.
        let made = sessions_until_refused(&browser, limit, |b, i| {
            b.forwarded(PROXY, &format!("198.51.100.{}", i + 2))
        })
        .await;
        assert_eq!(made, limit, "each other visitor made its session");
        // The forwarded address is the end user's IP the providers see.
        let mut other = browser.forwarded(PROXY, "198.51.100.200");
        assert_eq!(other.get("/").await.status, StatusCode::OK);
        // (A start: the home page's VerifyKit answers are reused, a start always asks.)
        other.post("/start", &[("method", "telegram")]).await;
        assert_eq!(
            last_forwarded_for(&browser).as_deref(),
            Some("198.51.100.200")
        );
        // Without a usable header, the proxy's own address counts.
        let made =
            sessions_until_refused(&browser, 2 * limit, |b, _| b.forwarded(PROXY, "unknown")).await;
        assert_eq!(made, limit);
    }

    #[tokio::test]
    async fn behind_a_proxy_writing_forwarded_the_session_limit_counts_its_for_address() {
        let (browser, limit) = behind_ten_slash_eight(ProxyHeader::Forwarded).await;
        let made = sessions_until_refused(&browser, 2 * limit, |b, i| {
            b.rfc7239(
                PROXY,
                &format!(
                    "for=192.0.2.{i};ext=\"a, for=192.0.2.{i}\", \
                     for=\"198.51.100.1:4711\";proto=https, for=10.0.0.3"
                ),
            )
        })
        .await;
        assert_eq!(made, limit, "one visitor, whatever it puts on the left");
        let made = sessions_until_refused(&browser, limit, |b, i| {
            b.rfc7239(PROXY, &format!("for=\"[2001:db8:{:x}::1]\"", i + 2))
        })
        .await;
        assert_eq!(made, limit, "each other visitor made its session");
        let mut other = browser.rfc7239(PROXY, "for=198.51.100.200;by=10.0.0.2");
        assert_eq!(other.get("/").await.status, StatusCode::OK);
        // (A start: the home page's VerifyKit answers are reused, a start always asks.)
        other.post("/start", &[("method", "telegram")]).await;
        assert_eq!(
            last_forwarded_for(&browser).as_deref(),
            Some("198.51.100.200")
        );
        // `X-Forwarded-For` is not read from a proxy that writes `Forwarded`.
        let made = sessions_until_refused(&browser, 2 * limit, |b, i| {
            b.forwarded(PROXY, &format!("198.51.100.{i}"))
        })
        .await;
        assert_eq!(made, limit, "the proxy's own address counts");
    }

    #[tokio::test]
    async fn from_an_untrusted_peer_the_session_limit_counts_the_peer() {
        let (browser, limit) = behind_ten_slash_eight(ProxyHeader::XForwardedFor).await;
        let made = sessions_until_refused(&browser, 2 * limit, |b, i| {
            b.forwarded(USER, &format!("198.51.100.{i}"))
        })
        .await;
        assert_eq!(
            made, limit,
            "X-Forwarded-For from an untrusted peer is ignored"
        );
        let mut neighbour = browser.stranger("203.0.113.10:40000");
        assert_eq!(neighbour.get("/").await.status, StatusCode::OK);
        neighbour.post("/start", &[("method", "telegram")]).await;
        assert_eq!(
            last_forwarded_for(&browser).as_deref(),
            Some("203.0.113.10")
        );
    }

    #[tokio::test]
    async fn a_session_keeps_no_more_of_the_form_than_a_number() {
        let mut browser = Browser::new(InitTheme::Recommended).await;
        let empty = browser.get("/").await.body.len();
        let typed = "5".repeat(5_000);
        let country = format!("{}:+90", "X".repeat(5_000));
        browser
            .post(
                "/start",
                &[("method", "otp"), ("country", &country), ("phone", &typed)],
            )
            .await;
        let page = browser.get("/").await;
        // The page holds the number cut to its limit and a short notice, not the form.
        assert!(page.body.len() < empty + 1_000, "{} bytes", page.body.len());
        assert!(page.body.contains(&"5".repeat(super::MAX_TYPED_PHONE)));
        assert!(!page.body.contains(&"5".repeat(super::MAX_TYPED_PHONE + 1)));
        // A calling code of thousands of digits: the notice shows a few of them.
        let country = format!("TR:+{}", "9".repeat(10_000));
        browser
            .post(
                "/start",
                &[
                    ("method", "otp"),
                    ("country", &country),
                    ("phone", "5321234567"),
                ],
            )
            .await;
        let page = browser.get("/").await;
        assert!(
            !page.body.contains(&"9".repeat(64)),
            "{} bytes",
            page.body.len()
        );
        // A body over the limit is refused before it is read.
        let refused = browser
            .post(
                "/start",
                &[("method", "otp"), ("phone", &"5".repeat(20_000))],
            )
            .await;
        assert_eq!(refused.status, StatusCode::PAYLOAD_TOO_LARGE);
    }

    #[tokio::test]
    async fn the_automatic_rules_and_each_provider_choice_verify() {
        let mut browser = Browser::new(InitTheme::Recommended).await;
        let page = sms_flow(&mut browser, "+57 300 765 4321", "+573007654321", "auto").await;
        assert!(
            page.body.contains("Verifik"),
            "Colombia goes to Verifik: {}",
            page.body
        );
        browser.post("/restart", &[]).await;
        let page = sms_flow(&mut browser, "532 765 43 21", "+905327654321", "auto").await;
        assert!(
            page.body.contains(">VerifyKit<"),
            "Turkey goes to VerifyKit"
        );
        browser.post("/restart", &[]).await;
        let page = sms_flow(&mut browser, "+372 5123 4567", "+37251234567", "verigator").await;
        assert!(page.body.contains(">Messente Verigator<"), "{}", page.body);
        assert!(page.body.contains("+372 5123 4567"));
        browser.post("/restart", &[]).await;
        let page = sms_flow(&mut browser, "+1 501 712 2661", "+15017122661", "auto").await;
        assert!(
            page.body.contains(">Twilio Verify<"),
            "North America goes to Twilio: {}",
            page.body
        );
        browser.post("/restart", &[]).await;
        let page = sms_flow(&mut browser, "+44 7911 123456", "+447911123456", "twilio").await;
        assert!(page.body.contains(">Twilio Verify<"), "{}", page.body);
        let by_provider = |p| browser.sandbox().requests_of(p).requests.len();
        assert!(by_provider(Provider::Verifik) > 0);
        assert!(by_provider(Provider::Verigator) > 0);
        let twilio_sends = browser.sandbox().request_count(
            Provider::Twilio,
            "POST",
            "/v2/Services/VAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Verifications",
        );
        assert_eq!(twilio_sends, 2, "one send per Twilio flow");
    }

    #[tokio::test]
    async fn a_reverse_flow_polls_pending_then_verified() {
        let mut browser = Browser::new(InitTheme::Recommended).await;
        browser.get("/").await;
        let page = browser.post("/start", &[("method", "telegram")]).await;
        assert_eq!(page.location.as_deref(), Some("/verify"));
        let page = browser.get("/verify").await;
        assert!(
            page.body.contains(r#"id="qr-code""#),
            "a desktop gets the QR code"
        );
        assert!(page.body.contains(r#"id="reply-form""#));
        let status = browser.get("/verify/status").await;
        let json: serde_json::Value = serde_json::from_str(&status.body).unwrap();
        assert_eq!(json["state"], "pending");
        let page = browser
            .post("/sandbox/reply", &[("phone", "+90 532 765 43 21")])
            .await;
        assert_eq!(page.location.as_deref(), Some("/verify"));
        // At once, the session was polled less than a second ago: pending, without a request.
        let status = browser.get("/verify/status").await;
        let json: serde_json::Value = serde_json::from_str(&status.body).unwrap();
        assert_eq!(json["state"], "pending");
        tokio::time::sleep(crate::session::POLL_INTERVAL).await;
        let status = browser.get("/verify/status").await;
        let json: serde_json::Value = serde_json::from_str(&status.body).unwrap();
        assert_eq!(json["state"], "verified");
        assert_eq!(json["next"], "/done");
        let page = browser.get("/done").await;
        assert!(page.body.contains("+90 532 765 43 21"));
        assert!(page.body.contains(r#"id="resolved""#));
    }

    #[tokio::test]
    async fn without_the_script_a_reload_continues_the_reverse_flow() {
        let mut browser = Browser::new(InitTheme::Recommended).await;
        browser.get("/").await;
        browser.post("/start", &[("method", "whatsapp")]).await;
        let page = browser.get("/verify").await;
        assert_eq!(page.status, StatusCode::OK, "pending: the page again");
        assert!(page.body.contains("<noscript>"));
        browser
            .post("/sandbox/reply", &[("phone", "+90 532 123 45 67")])
            .await;
        // A reload within a second of the last poll shows the page again, without a request.
        let page = browser.get("/verify").await;
        assert_eq!(page.status, StatusCode::OK);
        tokio::time::sleep(crate::session::POLL_INTERVAL).await;
        let page = browser.get("/verify").await;
        assert_eq!(page.location.as_deref(), Some("/done"));
    }

    #[tokio::test]
    async fn the_pages_hold_no_handle() {
        let mut browser = Browser::new(InitTheme::Recommended).await;
        browser.get("/").await;
        browser.post("/start", &[("method", "whatsapp")]).await;
        let page = browser.get("/verify").await;
        let (_, session) = browser
            .state
            .sessions
            .existing(browser.cookie.as_deref())
            .await
            .unwrap();
        let reference = session.pending.as_ref().unwrap().handle.reference.clone();
        assert!(!reference.is_empty());
        assert!(
            !page.body.contains(&reference),
            "the handle's reference is not in the page"
        );
        assert!(!page.body.contains("phone-verify/verification"));
    }

    #[tokio::test]
    async fn assets_are_served_and_unknown_icons_are_not() {
        let mut browser = Browser::new(InitTheme::Recommended).await;
        let css = browser.get("/assets/app.css").await;
        assert_eq!(css.status, StatusCode::OK);
        assert!(
            css.headers[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/css")
        );
        let icon = browser.get("/assets/icons/whatsapp.svg").await;
        assert!(icon.body.starts_with("<svg"));
        let missing = browser.get("/assets/icons/..%2Fapp.css").await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
    }

    /// The JSON of a `/verify/status` answer.
    fn json_of(page: &Page) -> serde_json::Value {
        serde_json::from_str(&page.body).unwrap()
    }

    /// The handle of the verification in progress of `browser`'s session.
    async fn pending_reference(browser: &Browser) -> String {
        let (_, session) = browser
            .state
            .sessions
            .existing(browser.cookie.as_deref())
            .await
            .unwrap();
        session.pending.as_ref().unwrap().handle.reference.clone()
    }

    #[tokio::test]
    async fn a_planted_id_gets_nothing_of_a_reverse_flow_it_polls() {
        let mut browser = Browser::new(InitTheme::Recommended).await;
        browser.get("/").await;
        // The attacker planted this id in the visitor's browser, and polls with it.
        let mut attacker = Browser {
            cookie: browser.cookie.clone(),
            ..browser.stranger("198.51.100.66:40000")
        };
        let page = browser.post("/start", &[("method", "telegram")]).await;
        assert_eq!(page.location.as_deref(), Some("/verify"));
        assert_ne!(browser.cookie, attacker.cookie, "a new id once started");
        let reference = pending_reference(&browser).await;
        browser
            .sandbox()
            .complete_reverse_flow(&reference, "+905327654321")
            .unwrap();
        let status = attacker.get("/verify/status").await;
        assert!(
            !status.headers.contains_key(header::SET_COOKIE),
            "no id for the attacker"
        );
        assert_eq!(json_of(&status)["state"], "over", "{}", status.body);
        let status = browser.get("/verify/status").await;
        assert_eq!(json_of(&status)["state"], "verified", "{}", status.body);
        let page = browser.get("/done").await;
        assert!(page.body.contains("+90 532 765 43 21"), "{}", page.body);
        let page = attacker.get("/done").await;
        assert_eq!(
            page.location.as_deref(),
            Some("/"),
            "nothing verified there"
        );
    }

    #[tokio::test]
    async fn a_status_poll_leaves_a_code_flow_alone() {
        let mut browser = Browser::new(InitTheme::Recommended).await;
        browser.get("/").await;
        let fields = VERIFYKIT_CODE_TO_TR;
        browser.post("/start", &fields).await;
        let status = browser.get("/verify/status").await;
        let json = json_of(&status);
        assert_eq!(json["state"], "over", "{}", status.body);
        assert_eq!(json["next"], "/verify");
        let page = browser.get("/verify").await;
        assert!(page.body.contains(r#"id="code-form""#), "{}", page.body);
        let code = browser.sandbox().latest_code("+905321234567").unwrap();
        let page = browser.post("/verify", &[("code", &code)]).await;
        assert_eq!(
            page.location.as_deref(),
            Some("/done"),
            "the code still verifies"
        );
    }

    #[tokio::test]
    async fn a_check_whose_answer_was_lost_closes_the_code_form() {
        let mut browser = Browser::new(InitTheme::Recommended).await;
        browser.get("/").await;
        let fields = [
            ("method", "otp"),
            ("country", "TR:+90"),
            ("phone", "+372 5123 4567"),
            ("provider", "verigator"),
        ];
        let page = browser.post("/start", &fields).await;
        assert_eq!(page.location.as_deref(), Some("/verify"));
        browser.get("/verify").await;
        let code = browser.sandbox().latest_code("+37251234567").unwrap();
        // Verigator takes the code, and its answer is cut off.
        browser.sandbox().inject_fault(
            Fault::new(Provider::Verigator, FaultAction::TruncatedBody)
                .method("PUT")
                .path("/v1/service/service/*/users/*/auth"),
        );
        let page = browser.post("/verify", &[("code", &code)]).await;
        assert_eq!(page.location.as_deref(), Some("/verify"));
        assert!(browser.sandbox().pending_faults().is_empty());
        let page = browser.get("/verify").await;
        assert!(page.body.contains("could not tell"), "{}", page.body);
        assert!(
            !page.body.contains(r#"id="code-form""#),
            "no form for a code that may be used up: {}",
            page.body
        );
        assert!(page.body.contains("Send a new code"), "{}", page.body);
        let page = browser.post("/verify", &[("code", &code)]).await;
        assert_eq!(page.location.as_deref(), Some("/"), "nothing left to check");
    }

    /// The code-check requests VerifyKit received.
    fn verifykit_checks(browser: &Browser) -> usize {
        browser
            .sandbox()
            .requests_of(Provider::VerifyKit)
            .requests
            .iter()
            .filter(|r| r.path.ends_with("/check-otp"))
            .count()
    }

    /// A code form whose check the visitor gave up once VerifyKit had the code (the request
    /// dropped with its provider call; VerifyKit uses the code up at once and holds its answer
    /// back), and that code.
    async fn a_check_cut_short() -> (Browser, String) {
        let mut browser = Browser::new(InitTheme::Recommended).await;
        browser.get("/").await;
        let fields = VERIFYKIT_CODE_TO_TR;
        browser.post("/start", &fields).await;
        browser.get("/verify").await;
        let code = browser.sandbox().latest_code("+905321234567").unwrap();
        browser.sandbox().inject_fault(
            Fault::new(Provider::VerifyKit, FaultAction::Delay { ms: 2_000 })
                .path("/v1.0/check-otp"),
        );
        // The visitor gives the check up once VerifyKit has the code.
        browser
            .post_and_hang_up("/verify", &[("code", &code)], |sandbox| {
                sandbox
                    .requests_of(Provider::VerifyKit)
                    .requests
                    .iter()
                    .any(|r| r.path.ends_with("/check-otp"))
            })
            .await;
        (browser, code)
    }

    #[tokio::test]
    async fn a_check_whose_visitor_hung_up_is_not_checked_again() {
        let (mut browser, code) = a_check_cut_short().await;
        // The visitor sends the code again: it may have been used, so it is not checked
        // again (VerifyKit would call it unknown, read as a wrong code), and the form closes.
        let page = browser.post("/verify", &[("code", &code)]).await;
        assert_eq!(page.location.as_deref(), Some("/verify"), "{}", page.body);
        assert_eq!(verifykit_checks(&browser), 1, "the code was checked once");
        let page = browser.get("/verify").await;
        assert!(page.body.contains("may have been used"), "{}", page.body);
        assert!(!page.body.contains("not right"), "{}", page.body);
        assert!(
            !page.body.contains(r#"id="code-form""#),
            "no form for a code that may be used up: {}",
            page.body
        );
        assert!(page.body.contains("Send a new code"), "{}", page.body);
        let page = browser.post("/verify", &[("code", &code)]).await;
        assert_eq!(page.location.as_deref(), Some("/"), "nothing left to check");
        assert_eq!(verifykit_checks(&browser), 1);
    }

    /// A reload after a check cut short shows the form closed, not a form whose code would be
    /// refused once typed.
    #[tokio::test]
    async fn a_reload_after_a_check_cut_short_shows_the_form_closed() {
        let (mut browser, _) = a_check_cut_short().await;
        let page = browser.get("/verify").await;
        assert!(page.body.contains("may have been used"), "{}", page.body);
        assert!(!page.body.contains(r#"id="code-form""#), "{}", page.body);
        assert!(page.body.contains("Send a new code"), "{}", page.body);
        assert_eq!(verifykit_checks(&browser), 1);
    }

    /// Whether VerifyKit has been asked to resolve a session (`result`).
    fn verifykit_resolving(sandbox: &phone_verify_sandbox::SandboxHandle) -> bool {
        sandbox
            .requests_of(Provider::VerifyKit)
            .requests
            .iter()
            .any(|r| r.path.ends_with("/v1.0/result"))
    }

    #[tokio::test]
    async fn a_code_verified_is_kept_when_its_visitor_hangs_up_during_the_resolution() {
        let mut browser = Browser::new(InitTheme::Recommended).await;
        browser.get("/").await;
        let page = browser.post("/start", &VERIFYKIT_CODE_TO_TR).await;
        assert_eq!(page.location.as_deref(), Some("/verify"));
        browser.get("/verify").await;
        let code = browser.sandbox().latest_code("+905321234567").unwrap();
        // VerifyKit verifies the code at once, and holds back the answer of the session's
        // resolution that follows.
        browser.sandbox().inject_fault(
            Fault::new(Provider::VerifyKit, FaultAction::Delay { ms: 2_000 }).path("/v1.0/result"),
        );
        browser
            .post_and_hang_up("/verify", &[("code", &code)], verifykit_resolving)
            .await;
        assert_eq!(verifykit_checks(&browser), 1);
        // The visitor comes back with the id it held: verified, the number from the check.
        let page = browser.get("/verify").await;
        assert_eq!(page.location.as_deref(), Some("/done"), "{}", page.body);
        let page = browser.get("/done").await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("+90 532 123 45 67"), "{}", page.body);
        assert!(!page.body.contains(r#"id="resolved""#), "{}", page.body);
        assert_eq!(browser.get("/").await.location.as_deref(), Some("/done"));
        assert_eq!(browser.sandbox().all_messages().len(), 1, "no second code");
    }

    #[tokio::test]
    async fn a_code_verified_shows_its_number_whether_the_resolution_fails_or_not() {
        let mut browser = Browser::new(InitTheme::Recommended).await;
        let page = sms_flow(&mut browser, "532 123 45 67", "+905321234567", "verifykit").await;
        assert!(page.body.contains(r#"id="resolved""#), "{}", page.body);
        browser.post("/restart", &[]).await;
        browser.sandbox().inject_fault(
            Fault::new(
                Provider::VerifyKit,
                FaultAction::Status {
                    status: 500,
                    body: None,
                },
            )
            .path("/v1.0/result")
            .times(10),
        );
        let before = browser.cookie.clone();
        let page = sms_flow(&mut browser, "532 765 43 21", "+905327654321", "verifykit").await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("+90 532 765 43 21"), "{}", page.body);
        assert!(!page.body.contains(r#"id="resolved""#), "{}", page.body);
        assert_ne!(browser.cookie, before, "a new id once verified");
    }

    #[tokio::test]
    async fn a_send_whose_visitor_hung_up_leaves_the_held_id_nothing_and_counts_the_cooldown() {
        let mut browser = Browser::new(InitTheme::Recommended).await;
        browser.get("/").await;
        // VerifyKit sends the code at once and holds its answer back.
        browser.sandbox().inject_fault(
            Fault::new(Provider::VerifyKit, FaultAction::Delay { ms: 2_000 })
                .path("/v1.0/send-otp"),
        );
        let fields = VERIFYKIT_CODE_TO_TR;
        // The visitor gives the send up once the code went out: the request is dropped with
        // its provider call, and nothing of it reaches the session.
        browser
            .post_and_hang_up("/start", &fields, |sandbox| {
                sandbox.all_messages().len() == 1
            })
            .await;
        // The id the browser held (which a planted one would be) names no verification.
        let page = browser.get("/verify").await;
        assert_eq!(page.location.as_deref(), Some("/"), "{}", page.body);
        // Asking again is the guard's resend cooldown, counted down, and no second send.
        let page = browser.post("/start", &fields).await;
        assert_eq!(page.location.as_deref(), Some("/"), "{}", page.body);
        let page = browser.get("/").await;
        assert!(page.body.contains("We just sent a code"), "{}", page.body);
        assert!(page.body.contains("data-countdown"), "{}", page.body);
        assert_eq!(browser.sandbox().all_messages().len(), 1, "one code sent");
    }

    #[tokio::test]
    async fn a_code_that_may_have_been_sent_is_not_offered_and_the_cooldown_is_counted_down() {
        let mut browser = Browser::new(InitTheme::Recommended).await;
        browser.get("/").await;
        browser.sandbox().inject_fault(
            Fault::new(Provider::VerifyKit, FaultAction::TruncatedBody).path("/v1.0/send-otp"),
        );
        let fields = VERIFYKIT_CODE_TO_TR;
        let page = browser.post("/start", &fields).await;
        assert_eq!(page.location.as_deref(), Some("/"));
        assert_eq!(
            browser.sandbox().all_messages().len(),
            1,
            "the code went out"
        );
        let page = browser.get("/").await;
        assert!(page.body.contains("cannot be used here"), "{}", page.body);
        assert!(!page.body.contains("look at your phone"), "{}", page.body);
        let cooldown = browser.state.backend.resend_cooldown().unwrap().as_secs();
        assert!(
            page.body
                .contains(&format!(r#"data-countdown="{cooldown}""#)),
            "{}",
            page.body
        );
        // Asking again at once is the guard's cooldown, counted down too, and no second send.
        browser.post("/start", &fields).await;
        let page = browser.get("/").await;
        assert!(page.body.contains("data-countdown"), "{}", page.body);
        assert_eq!(browser.sandbox().all_messages().len(), 1);
    }

    #[tokio::test]
    async fn cycling_the_region_asks_verifykit_for_the_countries_once() {
        let mut browser = Browser::new(InitTheme::Recommended).await;
        let regions = (b'A'..=b'Z').flat_map(|a| {
            (b'A'..=b'Z').map(move |b| format!("{}{}", char::from(a), char::from(b)))
        });
        for region in regions.take(600) {
            browser.accept_language = format!("tr-{region}");
            assert_eq!(browser.get("/").await.status, StatusCode::OK, "{region}");
        }
        browser.accept_language = "tr-DE".to_owned();
        let page = browser.get("/").await;
        let first = page.body.find("<option value=\"").unwrap();
        assert!(
            page.body[first..].starts_with(r#"<option value="DE:+49" selected"#),
            "the visitor's region first"
        );
        let countries = browser
            .sandbox()
            .requests_of(Provider::VerifyKit)
            .requests
            .iter()
            .filter(|r| r.path.ends_with("/country"))
            .count();
        assert_eq!(countries, 1, "one language, one request");
    }

    #[tokio::test]
    async fn a_request_waits_for_its_session_a_bounded_time_and_never_after_sending() {
        let mut browser = Browser::new(InitTheme::Recommended).await;
        browser.get("/").await;
        // A send that would take a while, were it made.
        browser.sandbox().inject_fault(
            Fault::new(Provider::VerifyKit, FaultAction::Delay { ms: 2_000 })
                .path("/v1.0/send-otp"),
        );
        tokio::time::pause();
        // Another request of the visitor holds the session for 100 s.
        let (_, held) = browser
            .state
            .sessions
            .existing(browser.cookie.as_deref())
            .await
            .unwrap();
        let holder = tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_secs(100)).await;
            drop(held);
        });
        let fields = VERIFYKIT_CODE_TO_TR;
        let page = browser.post("/start", &fields).await;
        assert_eq!(
            page.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{}",
            page.body
        );
        assert!(page.headers.contains_key(header::RETRY_AFTER));
        assert_eq!(
            browser.sandbox().pending_faults().len(),
            1,
            "nothing was sent"
        );
        holder.await.unwrap();
        tokio::time::resume();
        browser.sandbox().clear_faults();
        let page = browser.post("/start", &fields).await;
        assert_eq!(page.location.as_deref(), Some("/verify"), "free again");
    }

    #[tokio::test]
    async fn an_ipv4_visitor_of_a_dual_stack_listener_reaches_the_providers_as_ipv4() {
        let browser = Browser::new(InitTheme::Recommended).await;
        let mut mapped = browser.stranger("[::ffff:203.0.113.9]:40000");
        assert_eq!(mapped.get("/").await.status, StatusCode::OK);
        assert_eq!(last_forwarded_for(&browser).as_deref(), Some("203.0.113.9"));
    }

    #[tokio::test]
    async fn a_secure_cookie_is_host_prefixed_and_only_that_name_is_read() {
        let backend = Backend::start(Target::Embedded(InitTheme::Recommended))
            .await
            .unwrap();
        let sessions = Sessions::default().secure_cookie(true);
        let mut browser = Browser::of(AppState::with_sessions(backend, sessions));
        let page = browser.get("/").await;
        let set = page.headers[header::SET_COOKIE].to_str().unwrap();
        let cookie = cookie::Cookie::parse(set).unwrap();
        assert_eq!(cookie.name(), crate::session::SECURE_COOKIE);
        assert_eq!(cookie.secure(), Some(true), "{set}");
        assert_eq!(cookie.path(), Some("/"), "{set}");
        assert_eq!(cookie.domain(), None, "{set}");
        let page = browser.post("/start", &[("method", "telegram")]).await;
        assert_eq!(page.location.as_deref(), Some("/verify"));
        let id = browser.cookie.clone().unwrap();
        let mut plain = Browser {
            cookie_header: Some(format!("{}={id}", crate::session::COOKIE)),
            csrf: browser.csrf.clone(),
            ..browser.stranger(USER)
        };
        let page = plain.post("/restart", &[]).await;
        assert_eq!(
            page.status,
            StatusCode::FORBIDDEN,
            "the plain name is not read"
        );
    }

    #[tokio::test]
    async fn several_session_cookies_name_no_session() {
        let mut browser = Browser::new(InitTheme::Recommended).await;
        browser.get("/").await;
        let id = browser.cookie.clone().unwrap();
        let name = crate::session::COOKIE;
        for both in [
            format!("{name}={id}; {name}=planted"),
            format!("{name}=planted; {name}={id}"),
            format!("{name}={id}; {name}={id}"),
        ] {
            let mut confused = Browser {
                cookie_header: Some(both.clone()),
                csrf: browser.csrf.clone(),
                ..browser.stranger(USER)
            };
            let page = confused.post("/start", &[("method", "telegram")]).await;
            assert_eq!(page.status, StatusCode::FORBIDDEN, "{both}");
        }
        let page = browser.post("/start", &[("method", "telegram")]).await;
        assert_eq!(
            page.location.as_deref(),
            Some("/verify"),
            "one cookie works"
        );
    }

    #[test]
    fn debug_masks_phones_and_redacts_codes_and_tokens() {
        let csrf = "csrf-canary-0123456789";
        let start = super::StartForm {
            csrf: csrf.into(),
            method: "otp".into(),
            country: "TR:+90".into(),
            phone: "5321234567".into(),
            provider: "auto".into(),
        };
        let shown = format!("{start:?}");
        assert!(
            shown.contains("+90********67") && shown.contains("TR:+90"),
            "{shown}"
        );
        let typed = super::StartForm {
            phone: "532 123 45 67".into(),
            country: "nowhere".into(),
            ..start
        };
        let code = super::CodeForm {
            csrf: csrf.into(),
            code: "987654".into(),
        };
        let reply = super::ReplyForm {
            csrf: csrf.into(),
            phone: "+905321234567".into(),
        };
        let only = super::CsrfForm { csrf: csrf.into() };
        for shown in [
            shown,
            format!("{typed:?}"),
            format!("{code:?}"),
            format!("{reply:?}"),
            format!("{only:?}"),
        ] {
            assert!(
                !shown.contains("canary")
                    && !shown.contains("987654")
                    && !shown.contains("1234567")
                    && !shown.contains("123 45 67"),
                "{shown}"
            );
        }
    }
}
