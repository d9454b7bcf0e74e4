//! How results look: outcomes, times, QR codes in the terminal, the spinner.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::{self, IsTerminal as _};

use phone_verify::{CheckOutcome, RejectReason, Rejection, ResolvedSession, Verification};
use qrcode::render::unicode::Dense1x2;
use qrcode::{EcLevel, QrCode};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::exit::{ERROR, PENDING, REJECTED, SUCCESS};

/// `text` with every control character but the line break and the tab, and every bidirectional
/// override, written as U+FFFD: what the CLI prints may come from a provider, and an escape
/// sequence or a carriage return in it would rewrite the user's terminal.
pub(crate) fn terminal_safe(text: &str) -> Cow<'_, str> {
    fn unsafe_char(c: char) -> bool {
        (c.is_control() && c != '\n' && c != '\t')
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    }
    if text.chars().any(unsafe_char) {
        Cow::Owned(
            text.chars()
                .map(|c| if unsafe_char(c) { '\u{fffd}' } else { c })
                .collect(),
        )
    } else {
        Cow::Borrowed(text)
    }
}

/// Writes `line` and a line break to `out` for a person, written [`terminal_safe`].
pub(crate) fn write_line(out: &mut impl io::Write, line: &str) -> io::Result<()> {
    writeln!(out, "{}", terminal_safe(line))
}

/// Writes `document` (a JSON document or a handle) and a line break to `out` as it is, so that
/// it reads back the same (serde_json already escapes the control characters below U+0020),
/// and flushes it: an error means the document did not get there.
pub(crate) fn write_document(out: &mut impl io::Write, document: &str) -> io::Result<()> {
    writeln!(out, "{document}")?;
    out.flush()
}

/// RFC 3339, to the second.
pub(crate) fn timestamp(at: OffsetDateTime) -> String {
    at.replace_nanosecond(0)
        .unwrap_or(at)
        .format(&Rfc3339)
        .unwrap_or_else(|_| at.to_string())
}

/// What a rejection means, in words.
pub(crate) fn reason(reason: RejectReason) -> &'static str {
    match reason {
        RejectReason::WrongCode => "wrong code",
        RejectReason::Expired => "expired: start a new verification",
        RejectReason::TooManyAttempts => "too many attempts: start a new verification later",
        RejectReason::NotFound => "no such pending verification (used, replaced or never started)",
        _ => "rejected",
    }
}

/// A rejection with the provider's code, message and request id.
pub(crate) fn rejection(rejection: &Rejection) -> String {
    let mut text = reason(rejection.reason).to_owned();
    match (&rejection.provider_code, &rejection.message) {
        (Some(code), Some(message)) => {
            let _ = write!(text, " (code {code}: {message})");
        }
        (Some(code), None) => {
            let _ = write!(text, " (code {code})");
        }
        (None, Some(message)) => {
            let _ = write!(text, " ({message})");
        }
        (None, None) => {}
    }
    if let Some(id) = &rejection.request_id {
        let _ = write!(text, " [request {id}]");
    }
    text
}

/// One line describing a check's outcome, and its exit code.
pub(crate) fn outcome(outcome: &CheckOutcome) -> (String, u8) {
    match outcome {
        CheckOutcome::Verified(verified) => {
            let mut text = format!(
                "verified: {} by {}",
                verified
                    .phone
                    .as_ref()
                    .map_or_else(|| "the phone".to_owned(), |p| p.e164().to_owned()),
                verified.channel
            );
            if let Some(at) = verified.verified_at {
                let _ = write!(text, " at {}", timestamp(at));
            }
            if let Some(session) = &verified.session_id {
                let _ = write!(text, " (session {session})");
            }
            (text, SUCCESS)
        }
        CheckOutcome::Pending => (
            "pending: the user has not completed the verification yet".to_owned(),
            PENDING,
        ),
        CheckOutcome::Rejected(r) => (format!("rejected: {}", rejection(r)), REJECTED),
        // An outcome this CLI does not know is not a rejection.
        _ => ("unknown outcome".to_owned(), ERROR),
    }
}

/// One line describing a resolved session.
pub(crate) fn verified_phone(phone: &ResolvedSession) -> String {
    let mut text = format!("{} verified by {}", phone.phone.e164(), phone.channel);
    if let Some(at) = phone.verified_at {
        let _ = write!(text, " at {}", timestamp(at));
    }
    let _ = write!(text, " ({})", phone.provider);
    for (key, value) in &phone.extras {
        match value.as_str() {
            Some(s) => {
                let _ = write!(text, ", {key}: {s}");
            }
            None => {
                let _ = write!(text, ", {key}: {value}");
            }
        }
    }
    text
}

/// One line describing a started verification.
pub(crate) fn started(handle: &Verification) -> String {
    let mut text = match &handle.phone {
        Some(phone) => format!(
            "started: {} code to {} ({}, reference {})",
            handle.channel,
            phone.e164(),
            handle.provider,
            handle.reference
        ),
        None => format!(
            "started: {} reverse flow ({}, reference {})",
            handle.channel, handle.provider, handle.reference
        ),
    };
    if let Some(at) = handle.expires_at {
        let _ = write!(text, ", expires at {}", timestamp(at));
    }
    text
}

/// `text` as a QR code of Unicode half blocks, light on dark so terminals with a dark
/// background show it scannable, each line indented by `indent`.
pub(crate) fn qr_code(text: &str, indent: &str) -> Option<String> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::L).ok()?;
    let image = code
        .render::<Dense1x2>()
        .dark_color(Dense1x2::Light)
        .light_color(Dense1x2::Dark)
        .quiet_zone(true)
        .build();
    Some(
        image
            .lines()
            .map(|line| format!("{indent}{line}"))
            .collect::<Vec<_>>()
            .join("\n"),
    )
}

/// A spinner on stderr while polling, drawn only when stderr is a terminal.
#[derive(Debug)]
pub(crate) struct Spinner {
    enabled: bool,
    frame: usize,
}

impl Spinner {
    const FRAMES: [char; 10] = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

    /// A spinner, silent unless stderr is a terminal and `allowed`.
    pub(crate) fn new(allowed: bool) -> Self {
        Self {
            enabled: allowed && std::io::stderr().is_terminal(),
            frame: 0,
        }
    }

    /// Draws the next frame with `message`.
    pub(crate) fn tick(&mut self, message: &str) {
        self.tick_to(&mut std::io::stderr().lock(), message);
    }

    /// Erases the spinner's line.
    pub(crate) fn clear(&mut self) {
        self.clear_to(&mut std::io::stderr().lock());
    }

    /// [`tick`](Self::tick), drawn on `out`.
    fn tick_to(&mut self, out: &mut impl std::io::Write, message: &str) {
        if !self.enabled {
            return;
        }
        let frame = Self::FRAMES[self.frame % Self::FRAMES.len()];
        self.frame += 1;
        let _ = write!(out, "\r\x1b[2K{frame} {message}");
        let _ = out.flush();
    }

    /// [`clear`](Self::clear), on `out`.
    fn clear_to(&self, out: &mut impl std::io::Write) {
        if self.enabled {
            let _ = write!(out, "\r\x1b[2K");
            let _ = out.flush();
        }
    }
}

#[cfg(test)]
mod tests {
    use phone_verify::{Channel, Verified};
    use time::macros::datetime;

    use super::*;

    #[test]
    fn the_spinner_draws_each_frame_in_turn_and_erases_its_line() {
        let mut spinner = Spinner {
            enabled: true,
            frame: 0,
        };
        let mut out = Vec::new();
        for _ in 0..=Spinner::FRAMES.len() {
            spinner.tick_to(&mut out, "waiting");
        }
        spinner.clear_to(&mut out);
        let drawn = String::from_utf8(out).unwrap();
        let mut expected = String::new();
        for frame in Spinner::FRAMES.iter().chain([&'\u{280b}']) {
            write!(expected, "\r\x1b[2K{frame} waiting").unwrap();
        }
        expected.push_str("\r\x1b[2K");
        assert_eq!(drawn, expected);

        let mut silent = Spinner {
            enabled: false,
            frame: 0,
        };
        let mut out = Vec::new();
        silent.tick_to(&mut out, "waiting");
        silent.clear_to(&mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn text_for_the_terminal_keeps_lines_and_tabs_and_nothing_that_drives_it() {
        assert!(matches!(terminal_safe("Türkiye\t+90\n"), Cow::Borrowed(_)));
        assert_eq!(
            terminal_safe("a\x1b]0;pwned\x07b\rc\u{7f}d\u{202e}e\u{2066}f\u{85}"),
            "a\u{fffd}]0;pwned\u{fffd}b\u{fffd}c\u{fffd}d\u{fffd}e\u{fffd}f\u{fffd}"
        );
    }

    #[test]
    fn describes_outcomes() {
        let verified = CheckOutcome::Verified(
            Verified::new(Channel::Sms)
                .with_phone(Some("+905321234567".parse().unwrap()))
                .with_verified_at(Some(datetime!(2026-11-22 18:00:00.5 UTC))),
        );
        assert_eq!(
            outcome(&verified),
            (
                "verified: +905321234567 by sms at 2026-11-22T18:00:00Z".to_owned(),
                SUCCESS
            )
        );
        let wrong = CheckOutcome::Rejected(
            Rejection::new(RejectReason::WrongCode)
                .with_provider_code("403014")
                .with_message("Wrong code."),
        );
        assert_eq!(
            outcome(&wrong),
            (
                "rejected: wrong code (code 403014: Wrong code.)".to_owned(),
                REJECTED
            )
        );
        let with_id = CheckOutcome::Rejected(
            Rejection::new(RejectReason::WrongCode).with_request_id("app02-REQ-1"),
        );
        assert_eq!(
            outcome(&with_id).0,
            "rejected: wrong code [request app02-REQ-1]"
        );
        assert_eq!(outcome(&CheckOutcome::Pending).1, PENDING);
    }

    #[test]
    fn draws_qr_codes() {
        let qr = qr_code("https://wa.me/15550100000?text=hi", "  ").unwrap();
        let lines: Vec<&str> = qr.lines().collect();
        assert!(lines.len() > 10);
        assert!(lines.iter().all(|l| l.starts_with("  ")));
        assert!(qr.contains('█') && qr.contains('▀'));
    }
}
