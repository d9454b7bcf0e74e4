//! The screens, rendered on the server with maud: phone entry and methods, the code form, the
//! reverse flow, the result, and the sandbox inbox panel.

use std::fmt::Write as _;

use maud::{DOCTYPE, Markup, html};
use phone_verify::providers::verifykit::{Country, ValidationMethod, ValidationMethodList};
use phone_verify::{PhoneNumber, Verification};
use phone_verify_sandbox::SentMessage;

use crate::backend::Choice;
use crate::session::{Done, Notice, Pending, Session};
use crate::visitor::LANGUAGES;

/// What every page shows around its screen.
#[derive(Debug)]
pub struct Frame<'a> {
    /// The visitor's session (CSRF token, language, notice).
    pub session: &'a Session,
    /// The language the page is in.
    pub lang: &'a str,
    /// The sandbox's messages, newest first; `None` when live (no panel).
    pub inbox: Option<Vec<SentMessage>>,
    /// The notice to show once.
    pub notice: Option<Notice>,
}

/// The phone entry and method screen.
#[derive(Debug)]
pub struct Home<'a> {
    /// VerifyKit's `init`: methods and texts.
    pub methods: &'a ValidationMethodList,
    /// VerifyKit's countries, the visitor's region first.
    pub countries: &'a [Country],
    /// The provider choices offered.
    pub choices: Vec<Choice>,
    /// Whether icons come from the local assets (sandbox) instead of VerifyKit's URLs.
    pub local_icons: bool,
}

/// The whole page around `screen`.
pub fn page(frame: &Frame<'_>, title: &str, screen: &Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(frame.lang) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Acme" }
                link rel="stylesheet" href="/assets/app.css";
                script src="/assets/app.js" defer {}
            }
            body {
                header.topbar {
                    a.brand href="/" {
                        span.logo aria-hidden="true" { "A" }
                        span { "Acme" }
                    }
                    @if frame.inbox.is_some() {
                        span.badge title="Every provider is emulated: no real message is sent" {
                            "Sandbox"
                        }
                    }
                }
                div.layout {
                    main.card {
                        @if let Some(notice) = &frame.notice {
                            (notice_box(notice))
                        }
                        (screen)
                    }
                    @if let Some(messages) = &frame.inbox {
                        (inbox(frame.session, messages))
                    }
                }
                footer.footer {
                    "Phone verification by "
                    a href="https://github.com/phone-verify/phone-verify" { "phone-verify" }
                }
            }
        }
    }
}

fn notice_box(notice: &Notice) -> Markup {
    html! {
        div.notice.(notice.level) #notice role="alert" {
            p #notice-text { (notice.text) }
            @if let Some(secs) = notice.retry_after {
                p.countdown {
                    "Try again in "
                    strong #countdown data-countdown=(secs) { (format_secs(secs)) }
                    "."
                }
            }
        }
    }
}

/// `m:ss`.
pub fn format_secs(secs: u64) -> String {
    format!("{}:{:02}", secs / 60, secs % 60)
}

fn csrf(session: &Session) -> Markup {
    html! { input type="hidden" name="csrf" value=(session.csrf); }
}

/// The phone entry with the country picker, and VerifyKit's method buttons (either `init`
/// shape).
pub fn home(session: &Session, lang: &str, home: &Home<'_>) -> Markup {
    let methods = home.methods;
    let apps: Vec<&ValidationMethod> = methods
        .list
        .iter()
        .filter(|m| !m.app.eq_ignore_ascii_case("otp"))
        .collect();
    let otp = methods.method("otp");
    let divider = methods
        .alternative_validation_description
        .as_deref()
        .filter(|_| otp.is_none())
        .unwrap_or("or get a code by text message");
    html! {
        nav.languages aria-label="Language" {
            @for (code, name) in LANGUAGES {
                @if code == lang {
                    span.current aria-current="true" { (name) }
                } @else {
                    a href={ "/?lang=" (code) } hreflang=(code) { (name) }
                }
            }
        }
        h1 { "Verify your phone number" }
        @if let Some(text) = methods.description.as_deref() {
            p.lead { (text) }
        }
        @if !apps.is_empty() {
            @if let Some(text) = methods.text("validation.chooseAppText") {
                p.hint { (text) }
            }
            div.methods {
                @for method in &apps {
                    form.method-form method="post" action="/start" {
                        (csrf(session))
                        input type="hidden" name="method" value=(method.app);
                        button.method type="submit" data-app=(method.app)
                            style=(method_style(method)) {
                            (icon(method, home.local_icons))
                            span { (method.text.as_deref().or(method.name.as_deref()).unwrap_or(&method.app)) }
                        }
                    }
                }
            }
        }
        @if otp.is_some() || methods.offers_otp() {
            p.divider { span { (divider) } }
            form #phone-form method="post" action="/start" {
                (csrf(session))
                input type="hidden" name="method" value="otp";
                @if let Some(text) = methods.text("otp.enterPhoneNumber") {
                    p.hint { (text) }
                }
                div.phone-row {
                    div.field {
                        label for="country" { "Country" }
                        select #country name="country" autocomplete="country" {
                            @for (i, country) in home.countries.iter().enumerate() {
                                @let code = country.phone_code.as_deref().unwrap_or("");
                                @let plus = if code.starts_with('+') { "" } else { "+" };
                                @let value = format!("{}:{plus}{code}", country.country_code);
                                @let selected = session.last_country.as_deref().map_or(i == 0, |c| c == country.country_code);
                                option value=(value) selected[selected] {
                                    (country.title.as_deref().unwrap_or(&country.country_code))
                                    " (" (plus) (code) ")"
                                }
                            }
                        }
                    }
                    div.field.grow {
                        label for="phone" { "Phone number" }
                        input #phone name="phone" type="tel" autocomplete="tel-national"
                            inputmode="tel" required placeholder="532 123 45 67"
                            value=(session.last_phone);
                    }
                }
                div.field {
                    label for="provider" { "Provider" }
                    select #provider name="provider" {
                        @for choice in &home.choices {
                            option value=(choice.as_str()) selected[*choice == session.last_choice] {
                                (choice.label())
                            }
                        }
                    }
                }
                @match otp {
                    Some(method) => {
                        button.method.wide #send-code type="submit" data-app="otp" style=(method_style(method)) {
                            (icon(method, home.local_icons))
                            span { (method.text.as_deref().unwrap_or("Send me a code")) }
                        }
                    }
                    None => {
                        button.primary.wide #send-code type="submit" { "Send me a code" }
                    }
                }
            }
        }
    }
}

/// `color`/`background` from the method's hex colours (anything else is ignored). Text that
/// nearly disappears on its background (contrast under 1.75:1, as white on VerifyKit's light
/// grey SMS button) is dark instead; the apps' brand buttons keep their colours.
fn method_style(method: &ValidationMethod) -> String {
    let bg = method.bg_colour.as_deref().and_then(hex_colour);
    let fg = method.text_colour.as_deref().and_then(hex_colour);
    let fg = match (&bg, fg) {
        (Some(bg), Some(fg)) if contrast(bg, &fg).is_some_and(|c| c < 1.75) => {
            Some("#14213d".to_owned())
        }
        (_, fg) => fg,
    };
    let mut style = String::new();
    if let Some(bg) = bg {
        let _ = write!(style, "background:{bg};border-color:{bg};");
    }
    if let Some(fg) = fg {
        let _ = write!(style, "color:{fg};");
    }
    style
}

/// The WCAG contrast ratio of two `#rrggbb` colours.
fn contrast(a: &str, b: &str) -> Option<f64> {
    let (la, lb) = (luminance(a)?, luminance(b)?);
    let (hi, lo) = if la > lb { (la, lb) } else { (lb, la) };
    Some((hi + 0.05) / (lo + 0.05))
}

/// The WCAG relative luminance of `#rrggbb`.
fn luminance(colour: &str) -> Option<f64> {
    let hex = colour.strip_prefix('#')?;
    if hex.len() != 6 {
        return None;
    }
    let channel = |i: usize| -> Option<f64> {
        let v = f64::from(u8::from_str_radix(hex.get(i..i + 2)?, 16).ok()?) / 255.0;
        Some(if v <= 0.039_28 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        })
    };
    Some(0.2126 * channel(0)? + 0.7152 * channel(2)? + 0.0722 * channel(4)?)
}

/// `#rrggbb` from VerifyKit's `rrggbb` (or `#rgb`, with or without `#`); `None` if not hex.
pub fn hex_colour(raw: &str) -> Option<String> {
    let hex = raw.trim().trim_start_matches('#');
    let ok = matches!(hex.len(), 3 | 6 | 8) && hex.chars().all(|c| c.is_ascii_hexdigit());
    ok.then(|| format!("#{hex}"))
}

/// The method's icon: VerifyKit's URL when live (https only), the bundled one in the sandbox
/// (whose icon URLs point at the real VerifyKit).
fn icon(method: &ValidationMethod, local: bool) -> Markup {
    let app = method.app.to_ascii_lowercase();
    let src = if local {
        crate::assets::ICON_APPS
            .contains(&app.as_str())
            .then(|| format!("/assets/icons/{app}.svg"))
    } else {
        method.icon.clone().filter(|u| u.starts_with("https://"))
    };
    html! {
        @if let Some(src) = src {
            img.icon src=(src) alt="" width="24" height="24";
        }
    }
}

/// The code form of an OTP verification.
pub fn code_form(session: &Session, pending: &Pending, enter_code: Option<&str>) -> Markup {
    let handle = &pending.handle;
    html! {
        h1 { (if pending.finished { "This code can no longer be used" } else { "Enter your code" }) }
        p.lead {
            (enter_code.unwrap_or("Enter the verification code we sent to your phone."))
            @if let Some(phone) = &handle.phone {
                " " strong.phone { (display_phone(phone)) }
            }
        }
        p.meta { "Sent by " (provider_label(handle)) " by " (channel_name(handle.channel.as_str())) "." }
        @if !pending.finished {
            form #code-form method="post" action="/verify" {
                (csrf(session))
                div.field {
                    label for="code" { "Verification code" }
                    input #code.code name="code" type="text" autocomplete="one-time-code"
                        inputmode="numeric" pattern="[0-9A-Za-z -]*" minlength="4" maxlength="12"
                        required autofocus aria-describedby="code-help";
                    small #code-help { "The code in the message, 4 to 10 characters." }
                }
                button.primary.wide #verify-button type="submit" { "Verify" }
            }
        }
        (restart(session, pending.finished, if pending.finished { "Send a new code" } else { "Use another number" }))
    }
}

/// The reverse WhatsApp/Telegram flow: a QR code on a desktop, the deeplink button on a
/// phone, and the progress of the polling.
pub fn reverse(session: &Session, pending: &Pending) -> Markup {
    let handle = &pending.handle;
    let app = app_name(handle.channel.as_str());
    let flow = handle.reverse.as_ref();
    let qr = flow.and_then(|r| r.qr_code.as_deref()).and_then(qr_src);
    let deeplink = flow.and_then(|r| r.deeplink.as_deref()).filter(|l| {
        l.starts_with("https://") || l.starts_with("tg://") || l.starts_with("whatsapp://")
    });
    html! {
        h1 { "Verify with " (app) }
        @if pending.finished {
            p.lead { "This verification is over." }
        } @else {
            @if pending.mobile {
                p.lead { "Tap the button: " (app) " opens with a message ready. Send it, then come back here." }
                @if let Some(link) = deeplink {
                    a.method.wide #deeplink href=(link) data-app=(handle.channel.as_str()) {
                        img.icon src={ "/assets/icons/" (handle.channel.as_str()) ".svg" } alt="" width="24" height="24";
                        span { "Open " (app) }
                    }
                }
            } @else {
                p.lead { "Scan the code with your phone's camera: " (app) " opens with a message ready. Send it and this page continues by itself." }
                @if let Some(src) = qr {
                    figure.qr #qr {
                        img #qr-code src=(src) alt={ "QR code that opens " (app) } width="220" height="220";
                    }
                }
            }
            div.progress #progress data-poll="/verify/status" aria-live="polite" {
                span.spinner aria-hidden="true" {}
                span #progress-text { "Waiting for your message…" }
                span.remaining #remaining {}
            }
            noscript { p.hint { "Reload this page once you have sent the message." } }
        }
        (restart(session, pending.finished, if pending.finished { "Start again" } else { "Choose another method" }))
    }
}

/// The way back to the start: a link-like button, or the main button when nothing else is
/// left to do on the page.
fn restart(session: &Session, main: bool, label: &str) -> Markup {
    html! {
        form.inline method="post" action="/restart" {
            (csrf(session))
            button.(if main { "primary wide" } else { "link" }) #restart type="submit" { (label) }
        }
    }
}

/// The result page: the verified phone as resolved on the server.
pub fn done(session: &Session, done: &Done) -> Markup {
    let phone = done
        .resolved
        .as_ref()
        .map(|r| &r.phone)
        .or(done.phone.as_ref());
    html! {
        div.success-mark aria-hidden="true" { "✓" }
        h1 { "Phone number verified" }
        @if let Some(phone) = phone {
            p.verified-phone #verified-phone { (display_phone(phone)) }
        }
        dl.facts {
            dt { "Channel" } dd #verified-channel { (channel_name(&done.channel)) }
            dt { "Provider" } dd #verified-route { (provider_name(&done.route)) }
            @if let Some(at) = done.verified_at {
                dt { "Verified at" } dd { (format_time(at)) }
            }
            @if let Some(resolved) = &done.resolved {
                dt { "Resolved" } dd #resolved { "by " (provider_name(resolved.provider.as_str())) "'s session resolver, on the server" }
            }
        }
        (restart(session, false, "Verify another number"))
    }
}

/// The sandbox inbox panel (like Mailpit): the messages the providers "sent", the button that
/// plays the user sending the WhatsApp message, and the clock.
fn inbox(session: &Session, messages: &[SentMessage]) -> Markup {
    let reverse = session
        .pending
        .as_ref()
        .filter(|p| !p.finished && p.handle.reverse.is_some());
    html! {
        aside.inbox #inbox aria-label="Sandbox inbox" {
            h2 { "Sandbox inbox" }
            p.small { "What the providers would have sent. Nothing leaves this machine." }
            @if let Some(pending) = reverse {
                form.sandbox-action #reply-form method="post" action="/sandbox/reply" {
                    (csrf(session))
                    label for="reply-phone" { "Play the user: send the " (app_name(pending.handle.channel.as_str())) " message from" }
                    div.row {
                        input #reply-phone name="phone" type="tel" value="+90 532 123 45 67" required;
                        button.secondary #reply-button type="submit" { "Send message" }
                    }
                }
            }
            @if messages.is_empty() {
                p.empty #inbox-empty { "No message yet." }
            } @else {
                ul.messages {
                    @for message in messages {
                        li.message data-channel=(message.channel.as_str()) {
                            div.message-head {
                                span.to { (message.phone.as_deref().or(message.email.as_deref()).unwrap_or("")) }
                                span.via { (message.provider.as_str()) " · " (message.channel.as_str()) }
                            }
                            @if let Some(code) = &message.code {
                                code.otp-code { (code) }
                            }
                            p.text { (message.text) }
                        }
                    }
                }
            }
            form.sandbox-action #clock-form method="post" action="/sandbox/clock" {
                (csrf(session))
                button.secondary #skip-clock type="submit" { "Skip 10 minutes" }
                small { " Moves the sandbox clock: codes and flows expire." }
            }
        }
    }
}

/// The international form with the country's grouping, `+90 532 123 45 67` (libphonenumber's
/// formatting rules).
pub fn display_phone(phone: &PhoneNumber) -> String {
    phonenumber::parse(None, phone.e164()).map_or_else(
        |_| format!("{} {}", phone.calling_code(), phone.national_number()),
        |parsed| {
            parsed
                .format()
                .mode(phonenumber::Mode::International)
                .to_string()
        },
    )
}

/// The display name of the provider that sent the code.
fn provider_label(handle: &Verification) -> &str {
    provider_name(
        handle
            .extra_str(phone_verify::router::EXTRA_ROUTE)
            .unwrap_or(handle.provider.as_str()),
    )
}

/// A route's or provider's display name (`verifykit` → `VerifyKit`).
fn provider_name(route: &str) -> &str {
    Choice::parse(route).map_or(route, |c| c.label())
}

/// `2 Dec 2026, 16:34 UTC`.
fn format_time(at: time::OffsetDateTime) -> String {
    let format = time::macros::format_description!(
        "[day padding:none] [month repr:short] [year], [hour]:[minute] UTC"
    );
    // A provider's date may be past what a date holds once in UTC
    // (`9999-12-31T23:30:00-01:00`): then it is shown as the provider gave it.
    at.checked_to_offset(time::UtcOffset::UTC)
        .and_then(|utc| utc.format(&format).ok())
        .unwrap_or_else(|| at.to_string())
}

/// A channel's display name.
fn channel_name(channel: &str) -> &str {
    match channel {
        "sms" => "SMS",
        "whatsapp" => "WhatsApp",
        "telegram" => "Telegram",
        "totp" => "Authenticator app",
        other => other,
    }
}

fn app_name(channel: &str) -> &'static str {
    match channel {
        "telegram" => "Telegram",
        "whatsapp" => "WhatsApp",
        _ => "your messaging app",
    }
}

/// A `data:` URI for a base64 PNG QR code (with or without its prefix); `None` if the text is
/// not base64.
pub fn qr_src(qr: &str) -> Option<String> {
    let data = qr
        .strip_prefix("data:image/png;base64,")
        .unwrap_or(qr)
        .trim();
    let ok = !data.is_empty()
        && data
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='));
    ok.then(|| format!("data:image/png;base64,{data}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_are_hex_only() {
        assert_eq!(hex_colour("1bd741").as_deref(), Some("#1bd741"));
        assert_eq!(hex_colour("#FFF").as_deref(), Some("#FFF"));
        assert_eq!(hex_colour("red;background:url(x)"), None);
        assert_eq!(hex_colour(""), None);
    }

    #[test]
    fn unreadable_text_colours_are_darkened() {
        let method = |fg: &str, bg: &str| -> ValidationMethod {
            serde_json::from_value(serde_json::json!({
                "app": "otp", "textColour": fg, "bgColour": bg
            }))
            .unwrap()
        };
        assert_eq!(
            method_style(&method("ffffff", "1bd741")),
            "background:#1bd741;border-color:#1bd741;color:#ffffff;"
        );
        assert!(method_style(&method("ffffff", "cbcbd0")).ends_with("color:#14213d;"));
        assert!(contrast("#ffffff", "#000000").unwrap() > 20.0);
    }

    #[test]
    fn qr_codes_are_base64_png_only() {
        assert_eq!(
            qr_src("iVBORw0K").as_deref(),
            Some("data:image/png;base64,iVBORw0K")
        );
        assert_eq!(
            qr_src("data:image/png;base64,iVBO+/=").as_deref(),
            Some("data:image/png;base64,iVBO+/=")
        );
        assert_eq!(qr_src("\"><script>"), None);
        assert_eq!(qr_src(""), None);
        assert_eq!(format_secs(75), "1:15");
        let at = time::macros::datetime!(2026-12-02 16:34:35 UTC);
        assert_eq!(format_time(at), "2 Dec 2026, 16:34 UTC");
        let offset = time::macros::datetime!(2026-12-02 13:34:35 -03:00);
        assert_eq!(format_time(offset), "2 Dec 2026, 16:34 UTC");
        // A provider's date past what a date holds once in UTC: shown as given, no panic.
        let late = time::macros::datetime!(9999-12-31 23:30:00 -01:00);
        assert_eq!(format_time(late), late.to_string());
    }

    #[test]
    fn phones_show_in_their_countrys_grouping() {
        let phone: PhoneNumber = "+905321234567".parse().unwrap();
        assert_eq!(display_phone(&phone), "+90 532 123 45 67");
        let phone: PhoneNumber = "+573001234567".parse().unwrap();
        assert_eq!(display_phone(&phone), "+57 300 1234567");
    }
}
