//! The check of documented provider errors: each error the provider documents, injected as
//! its wire answer, ends in the typed result it stands for, with the provider's code, message
//! and request id kept.

use phone_verify_core::{
    Channel, CheckOutcome, Code, Error, PhoneVerifierExt, Rejection, RequestContext,
};

use super::{Check, Suite, Verdict, describe};
use crate::harness::{AnswerTo, Answering, DocumentedError, ExpectedResult};

/// What an operation answered with a documented error ended in.
enum Answered {
    /// A start, a resolution, or a check that ended in an error.
    Error(Error),
    /// A check or a poll that ended in an outcome.
    Outcome(CheckOutcome),
    /// A start or a resolution that succeeded.
    Success(String),
}

impl Suite<'_> {
    pub(super) async fn documented_codes_typed(&self) -> Check {
        let errors = self.harness.documented_errors();
        if errors.is_empty() {
            return Err(Verdict::Skip(
                "the harness lists no documented provider errors (Harness::documented_errors)"
                    .into(),
            ));
        }
        let (mut typed, mut skipped, mut failures) = (0, Vec::<String>::new(), Vec::new());
        for error in &errors {
            let name = format!(
                "code {} ({}, HTTP {})",
                error.provider_code,
                error.answering.name(),
                error.status
            );
            match self.documented_error(error).await {
                Ok(_) => typed += 1,
                Err(Verdict::Skip(reason)) => skipped.push(format!("{name}: {reason}")),
                Err(Verdict::Fail(reason)) => failures.push(format!("{name}: {reason}")),
            }
        }
        if !failures.is_empty() {
            fail!(
                "{} of {} documented errors not typed as documented: {}",
                failures.len(),
                errors.len(),
                failures.join("; ")
            );
        }
        if typed == 0 {
            return Err(Verdict::Skip(skipped.join("; ")));
        }
        let note = format!("{typed} documented errors typed");
        if skipped.is_empty() {
            return Ok(Some(note));
        }
        Ok(Some(format!("{note}; not run: {}", skipped.join("; "))))
    }

    /// Injects `error` into a fresh operation of its kind and compares the result.
    async fn documented_error(&self, error: &DocumentedError) -> Check {
        let answered = match error.answering {
            Answering::Send => self.send_answered(error).await?,
            Answering::Check => self.check_answered(error).await?,
            Answering::Lookup => self.lookup_answered(error).await?,
        };
        let verdict = expect_documented(error, &answered);
        self.settle(verdict).await
    }

    /// A start on the first OTP channel that sends a message, answered with `error`.
    async fn send_answered(&self, error: &DocumentedError) -> Result<Answered, Verdict> {
        let Some(channel) = self.caps.otp_channels.iter().find(|c| **c != Channel::Totp) else {
            return Err(Verdict::Skip("no OTP channel that sends a message".into()));
        };
        let phone = self.phone().await?;
        self.harness
            .inject_documented_error(AnswerTo::Send, error)
            .await?;
        let request = phone_verify_core::StartRequest::otp(channel.clone(), phone);
        Ok(match self.verifier.start(&request).await {
            Ok(handle) => Answered::Success(format!("started ({})", handle.reference)),
            Err(err) => Answered::Error(err),
        })
    }

    /// A code check of a fresh verification, answered with `error`: each documented refusal
    /// gets its own verification, since a refusal may use the code up.
    async fn check_answered(&self, error: &DocumentedError) -> Result<Answered, Verdict> {
        let caps = &self.caps;
        let Some(channel) = caps
            .otp_channels
            .iter()
            .find(|c| self.harness.delivers_codes(c))
            .or(caps.otp_channels.first())
        else {
            return Err(Verdict::Skip("no OTP channel to check a code on".into()));
        };
        let (_, handle) = self.start_otp(channel).await?;
        let code = if self.harness.delivers_codes(channel) {
            self.code_for(&handle).await?
        } else {
            Code::new("123456").expect("a valid code")
        };
        self.harness
            .inject_documented_error(AnswerTo::Check(&handle), error)
            .await?;
        Ok(match self.verifier.check_code(&handle, &code).await {
            Ok(outcome) => Answered::Outcome(outcome),
            Err(err) => Answered::Error(err),
        })
    }

    /// A verified session's resolution when the verifier resolves sessions, else a reverse
    /// flow's poll, answered with `error`.
    async fn lookup_answered(&self, error: &DocumentedError) -> Result<Answered, Verdict> {
        if let (true, Some(resolver)) = (self.caps.session_resolution, self.resolver) {
            let (_, handle, session) = self.verified_session().await?;
            self.harness
                .inject_documented_error(AnswerTo::Lookup(&handle), error)
                .await?;
            let found = resolver.resolve(&session, &RequestContext::default()).await;
            return Ok(match found {
                Ok(found) => Answered::Success(format!("resolved to {}", found.phone)),
                Err(err) => Answered::Error(err),
            });
        }
        let Some(channel) = self.caps.reverse_channels.first() else {
            return Err(Verdict::Skip(
                "no lookup to answer: the verifier neither resolves sessions nor polls reverse \
                 flows"
                    .into(),
            ));
        };
        let handle = self.start_reverse(channel).await?;
        self.harness
            .inject_documented_error(AnswerTo::Lookup(&handle), error)
            .await?;
        Ok(match self.verifier.poll(&handle).await {
            Ok(outcome) => Answered::Outcome(outcome),
            Err(err) => Answered::Error(err),
        })
    }
}

/// Compares what the operation ended in with what `error` documents; every mismatch is named.
fn expect_documented(error: &DocumentedError, answered: &Answered) -> Check {
    let mut wrong = Vec::new();
    match (&error.expected, answered) {
        (ExpectedResult::Error(kind), Answered::Error(err)) => {
            if err.kind() != *kind {
                wrong.push(format!(
                    "expected a {kind:?} error, got {:?} ({err})",
                    err.kind()
                ));
            }
            keeps(
                &mut wrong,
                error,
                err.provider_code(),
                &[Some(err.message()), err.provider_message()],
                err.request_id(),
            );
        }
        (ExpectedResult::Rejected(reason), Answered::Outcome(CheckOutcome::Rejected(r))) => {
            if r.reason != *reason {
                wrong.push(format!(
                    "expected rejected ({reason:?}), got rejected ({:?})",
                    r.reason
                ));
            }
            let Rejection {
                provider_code,
                message,
                request_id,
                ..
            } = r;
            keeps(
                &mut wrong,
                error,
                provider_code.as_deref(),
                &[message.as_deref()],
                request_id.as_deref(),
            );
        }
        (expected, Answered::Error(err)) => {
            wrong.push(format!("expected {expected}, got the error {err}"));
        }
        (expected, Answered::Outcome(outcome)) => wrong.push(format!(
            "expected {expected}, got {}",
            describe(&Ok(outcome.clone()))
        )),
        (expected, Answered::Success(what)) => {
            wrong.push(format!("expected {expected}, but the operation {what}"));
        }
    }
    ensure!(wrong.is_empty(), "{}", wrong.join(", "));
    Ok(None)
}

/// Adds to `wrong` what the result lost of the provider's code, message and request id.
fn keeps(
    wrong: &mut Vec<String>,
    error: &DocumentedError,
    code: Option<&str>,
    messages: &[Option<&str>],
    request_id: Option<&str>,
) {
    if code.map(str::trim) != Some(error.provider_code.as_str()) {
        wrong.push(format!(
            "the provider code {:?} was not kept (got {code:?})",
            error.provider_code
        ));
    }
    if let Some(text) = &error.message
        && !messages
            .iter()
            .flatten()
            .any(|m| collapsed(m).contains(&collapsed(text)))
    {
        wrong.push(format!(
            "the provider's message {text:?} was lost (got {:?})",
            messages.iter().flatten().collect::<Vec<_>>()
        ));
    }
    if let Some(id) = &error.request_id
        && request_id != Some(id.as_str())
    {
        wrong.push(format!(
            "the request id {id:?} was not kept (got {request_id:?})"
        ));
    }
}

/// `text` with every run of whitespace and control characters made one space, trimmed: a
/// client may clean what a provider wrote (a line break in a message, say) before showing it.
fn collapsed(text: &str) -> String {
    text.split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}
