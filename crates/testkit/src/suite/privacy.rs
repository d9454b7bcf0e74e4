//! The privacy checks: no credential and no code in what a verifier shows, no phone number,
//! code or credential in what it logs.

use std::fmt::{self, Write as _};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use phone_verify_core::{
    Channel, CheckOutcome, Code, Error, PhoneNumber, PhoneVerifierExt, RequestContext, SessionId,
    StartRequest, Verification,
};
use tracing::Dispatch;
use tracing::instrument::WithSubscriber;
use tracing_subscriber::layer::SubscriberExt;

use super::captured::{Capture, Log};
use super::{Check, CheckFault, Suite, Verdict, malformed_like};
use crate::harness::{AnswerTo, HarnessError, HostileAnswer, LookupFault, SendFault};

/// The shortest credential the suite searches for: a shorter one would be found by chance.
const MIN_SECRET_LEN: usize = 8;

/// The shortest credential, in bytes, the suite also searches for base64-encoded: the
/// fragments of a shorter one would be found by chance.
const MIN_ENCODED_SECRET_LEN: usize = 12;

/// What a credential is percent-encoded with (RFC 3986): all but its unreserved characters.
const NOT_UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Characters a log may put between a number's digits (`+90 532 …`, `(212) 555-…`).
const DIGIT_SEPARATORS: &[char] = &[' ', '-', '.', '(', ')', '/'];

impl Suite<'_> {
    pub(super) async fn secrets_not_shown(&self) -> Check {
        let secrets = self.harness.secrets();
        if secrets.is_empty() {
            return Err(Verdict::Skip(
                "the harness names no credentials (Harness::secrets): nothing to search for".into(),
            ));
        }
        let shown = Shown::new(&secrets);
        let short = shown.too_short();
        if !shown.searches() {
            return Err(Verdict::Skip(format!(
                "{}: nothing left to search for",
                short.unwrap_or_default()
            )));
        }
        shown.check("the verifier's Debug", &format!("{:?}", self.verifier))?;
        if let Some(resolver) = self.resolver {
            shown.check("the resolver's Debug", &format!("{resolver:?}"))?;
        }

        let (channel, handle) = self.any_handle().await?;
        shown.check("a handle's Debug", &format!("{handle:?}"))?;
        let json = handle.to_json().unwrap_or_default();
        shown.check("a handle's JSON", &json)?;
        // The parts the harness could not run, named in the note.
        let mut not_run = Vec::new();
        if self.caps.is_otp(&channel) && !self.harness.delivers_codes(&channel) {
            not_run.push(format!(
                "a wrong code's outcome and a check whose answer was lost (the harness cannot \
                 read codes sent by {channel})"
            ));
        } else if self.caps.is_otp(&channel) {
            let right = self.code_for(&handle).await?;
            let wrong = self.wrong_code_for(&handle, &right).await?;
            let outcome = self.verifier.check_code(&handle, &wrong).await;
            shown.result("a wrong code's outcome", &outcome)?;

            // The answer to a check lost: the error a client makes up itself.
            let what = "a check whose answer was lost";
            match self
                .harness
                .inject_check_fault(&handle, CheckFault::AnswerLost)
                .await
            {
                Ok(()) => {
                    let outcome = self.verifier.check_code(&handle, &right).await;
                    self.clear_faults_after_call().await?;
                    shown.result(what, &outcome)?;
                }
                Err(err @ HarnessError::Unsupported(_)) => not_run.push(format!("{what} ({err})")),
                Err(err) => return Err(err.into()),
            }
        }

        let mut foreign = handle.clone();
        foreign.provider = phone_verify_core::ProviderId::new_static("conformance-foreign");
        let refused = self.verifier.poll(&foreign).await;
        shown.result("a refused handle's error", &refused)?;

        if self.caps.is_otp(&channel) {
            let faults = [
                (SendFault::ServiceUnavailable, "a failed send"),
                (
                    SendFault::CredentialsEchoed,
                    "a send refused, its credentials echoed",
                ),
            ];
            for (fault, what) in faults {
                match self.failed_send(&channel, Answer::Send(fault)).await? {
                    Ok((_, started)) => shown.result(what, &started)?,
                    Err(why) => not_run.push(format!("{what} ({why})")),
                }
            }
        }

        if let Some(resolver) = self.resolver {
            let unknown = SessionId::new("conformanceUnknownSession0000").expect("a session id");
            let resolved = resolver.resolve(&unknown, &RequestContext::default()).await;
            shown.result("an unknown session's answer", &resolved)?;
        }
        Ok(notes([short, not_run_note(&not_run)]))
    }

    /// Codes never show where the application could print them (contract rule 7): a handle's
    /// `Debug` and JSON, the outcomes of a wrong and the right code, and the errors of a
    /// malformed code, of a check whose answer was lost and of one whose answer could not be
    /// read (each when the harness can inject it).
    pub(super) async fn codes_not_shown(&self) -> Check {
        let Some(channel) = self
            .caps
            .otp_channels
            .iter()
            .find(|c| self.harness.delivers_codes(c))
        else {
            return Err(Verdict::Skip(
                "no OTP channel whose codes the harness reads: no code to search for".into(),
            ));
        };
        let (_, handle) = self.start_otp(channel).await?;
        let right = self.code_for(&handle).await?;
        let wrong = self.wrong_code_for(&handle, &right).await?;
        let malformed = malformed_like(&right);
        let shown = CodesShown {
            codes: &[right.clone(), wrong.clone(), malformed.clone()],
        };
        shown.check("a handle's Debug", &format!("{handle:?}"))?;
        shown.check("a handle's JSON", &handle.to_json().unwrap_or_default())?;
        let outcome = self.verifier.check_code(&handle, &wrong).await;
        shown.check("a wrong code's outcome", &result_text(&outcome))?;
        let outcome = self.verifier.check_code(&handle, &right).await;
        shown.check("the right code's outcome", &result_text(&outcome))?;
        let outcome = self.verifier.check_code(&handle, &malformed).await;
        shown.check("a malformed code's answer", &result_text(&outcome))?;

        let mut not_run = Vec::new();
        for lost in [true, false] {
            if let Some(reason) = self.unanswered_check(channel, lost).await? {
                not_run.push(reason);
            }
        }
        Ok(not_run_note(&not_run))
    }

    /// The right code's check of a fresh verification on `channel`, its answer lost (`lost`)
    /// or unreadable (malformed JSON): what the verifier makes of it must show no code. The
    /// reason when the harness cannot inject that answer.
    async fn unanswered_check(
        &self,
        channel: &Channel,
        lost: bool,
    ) -> Result<Option<String>, Verdict> {
        let (_, handle) = self.start_otp(channel).await?;
        let right = self.code_for(&handle).await?;
        let (what, injected) = if lost {
            let injected = self
                .harness
                .inject_check_fault(&handle, CheckFault::AnswerLost)
                .await;
            ("a check whose answer was lost", injected)
        } else {
            let injected = self
                .harness
                .inject_hostile_answer(AnswerTo::Check(&handle), HostileAnswer::MalformedJson)
                .await;
            ("a check whose answer could not be read", injected)
        };
        match injected {
            Ok(()) => {}
            Err(err @ HarnessError::Unsupported(_)) => return Ok(Some(format!("{what} ({err})"))),
            Err(err) => return Err(err.into()),
        }
        let outcome = self.verifier.check_code(&handle, &right).await;
        let codes = [right];
        let shown = CodesShown { codes: &codes };
        let verdict = shown.check(what, &result_text(&outcome)).map(|()| None);
        self.settle(verdict).await
    }

    /// With every `tracing` level recorded, the operations of [`logged_flow`](Self::logged_flow)
    /// (a verification, failed and refused sends, checks whose outcome the verifier cannot
    /// know, lookups retried or answered with an unreadable body) log no phone in full, no code
    /// and no credential; a failure names the part during which it was first logged.
    ///
    /// A subscriber set for the check's future ([`WithSubscriber::with_subscriber`]) records
    /// the calls the check makes, wherever they run while that future is polled. What the
    /// verifier logs from a task or a thread it spawns, which that subscriber does not reach
    /// (unless the verifier passes it on), reaches the suite's process-wide subscriber
    /// ([`Capture`]), set on first use: the capture takes the tasks of the check's runtime and
    /// the threads outside any runtime, during the flow and for a moment after it. Where the
    /// process already has a global subscriber of its own, the note says those were not
    /// searched.
    pub(super) async fn phones_and_codes_not_logged(&self) -> Check {
        let log = Log::default();
        let dispatch = Dispatch::new(tracing_subscriber::registry().with(log.clone()));
        let away = Capture::start(&log);
        let flow = self.logged_flow(&log).with_subscriber(dispatch).await;
        let spawned_searched = match away {
            Some(capture) => {
                capture.settle().await;
                true
            }
            None => false,
        };
        let logged = flow?;
        let text = log.text();
        let joined: String = text
            .chars()
            .filter(|c| !DIGIT_SEPARATORS.contains(c))
            .collect();
        for phone in &logged.phones {
            let digits = phone.national_number();
            ensure!(
                !text.contains(digits) && !joined.contains(digits),
                "the log shows the phone {} in full (its national digits){}; log it masked \
                 (PhoneNumber::masked)",
                phone.masked(),
                logged.during(text.find(digits))
            );
        }
        for code in &logged.codes {
            let at = token_at(&text, code.expose());
            ensure!(
                at.is_none(),
                "the log shows a code ({} characters) that was sent or checked{}: never log \
                 codes",
                code.expose().len(),
                logged.during(at)
            );
        }
        let secrets = self.harness.secrets();
        let shown = Shown::new(&secrets);
        shown.check("the log", &text)?;
        Ok(notes([
            text.is_empty()
                .then(|| "nothing was logged at any level".into()),
            (!spawned_searched).then(|| {
                "not searched: what the verifier logs from the tasks and threads it spawns \
                 (the process has a global tracing subscriber of its own, which the suite \
                 cannot share)"
                    .into()
            }),
            not_run_note(&logged.not_run),
        ]))
    }

    /// A started verification on the first channel the harness reads codes of, else on the
    /// first channel: its channel and handle.
    async fn any_handle(&self) -> Result<(Channel, Verification), Verdict> {
        let caps = &self.caps;
        let otp = caps
            .otp_channels
            .iter()
            .find(|c| self.harness.delivers_codes(c))
            .or(caps.otp_channels.first());
        if let Some(c) = otp {
            return Ok((c.clone(), self.start_otp(c).await?.1));
        }
        match caps.reverse_channels.first() {
            Some(c) => Ok((c.clone(), self.start_reverse(c).await?)),
            None => Err(Verdict::Skip("the verifier has no channel".into())),
        }
    }

    /// What the log check records, each part where the harness can run it: a verification
    /// with a wrong code, the right one and its session resolved; a send that fails, one
    /// answered with an unreadable body, and (when the harness names credentials) one refused
    /// with its credentials echoed; code checks whose outcome the verifier cannot know
    /// ([`LOGGED_CHECKS`]: where it may read the verification back); and lookups retried after
    /// a fault or answered with an unreadable body ([`LOGGED_LOOKUPS`]). Without an OTP
    /// channel whose codes the harness reads, a reverse flow completed and polled, then the
    /// lookups. The phones and codes it used, where each part's logs begin, and the parts the
    /// harness could not run.
    async fn logged_flow(&self, log: &Log) -> Result<Logged, Verdict> {
        let mut logged = Logged::default();
        let Some(channel) = self
            .caps
            .otp_channels
            .iter()
            .find(|c| self.harness.delivers_codes(c))
        else {
            logged.begin(log, "a reverse flow completed and polled");
            let phone = self.logged_reverse_flow().await?;
            logged.phones.push(phone);
            self.logged_lookups(log, &mut logged).await?;
            return Ok(logged);
        };
        logged.begin(log, "a verification");
        let (phone, handle) = self.start_otp(channel).await?;
        let right = self.code_for(&handle).await?;
        let wrong = self.wrong_code_for(&handle, &right).await?;
        let _ = self.verifier.check_code(&handle, &wrong).await;
        let outcome = self.verifier.check_code(&handle, &right).await;
        logged.phones.push(phone);
        logged.codes.extend([right, wrong]);
        if let (Some(resolver), Ok(CheckOutcome::Verified(verified))) = (self.resolver, &outcome)
            && let Some(session) = &verified.session_id
        {
            let _ = resolver.resolve(session, &RequestContext::default()).await;
        }
        let mut sends = vec![
            (Answer::Send(SendFault::ServiceUnavailable), "a failed send"),
            (
                Answer::Hostile(HostileAnswer::MalformedJson),
                "a send whose answer could not be read",
            ),
        ];
        // A provider's refusal that quotes the credentials: a verifier that logs the body
        // logs them.
        if !self.harness.secrets().is_empty() {
            sends.push((
                Answer::Send(SendFault::CredentialsEchoed),
                "a send refused, its credentials echoed",
            ));
        }
        for (answer, what) in sends {
            logged.begin(log, what);
            match self.failed_send(channel, answer).await? {
                Ok((phone, _)) => logged.phones.push(phone),
                Err(why) => logged.not_run(what, &why),
            }
        }
        for &(answer, wrong, what) in LOGGED_CHECKS {
            logged.begin(log, what);
            if let Some(why) = self
                .logged_check(channel, answer, wrong, &mut logged)
                .await?
            {
                logged.not_run(what, &why);
            }
        }
        self.logged_lookups(log, &mut logged).await?;
        Ok(logged)
    }

    /// A check on `channel` of a fresh verification's right code (or, with `wrong`, a wrong
    /// one) answered with `answer`; its phone and codes go into `logged`. Why it did not run,
    /// if it did not (the harness cannot inject `answer`).
    async fn logged_check(
        &self,
        channel: &Channel,
        answer: Answer,
        wrong: bool,
        logged: &mut Logged,
    ) -> Result<Option<String>, Verdict> {
        let (phone, handle) = self.start_otp(channel).await?;
        let right = self.code_for(&handle).await?;
        let wrong_code = self.wrong_code_for(&handle, &right).await?;
        logged.phones.push(phone);
        logged.codes.extend([right.clone(), wrong_code.clone()]);
        if let Some(why) = self.inject(AnswerTo::Check(&handle), answer).await? {
            return Ok(Some(why));
        }
        let code = if wrong { wrong_code } else { right };
        let _ = self.verifier.check_code(&handle, &code).await;
        self.clear_faults_after_call().await?;
        Ok(None)
    }

    /// The lookups of [`LOGGED_LOOKUPS`], each where the verifier makes lookups: a verified
    /// session's resolution when it resolves sessions, else a completed reverse flow's poll.
    async fn logged_lookups(&self, log: &Log, logged: &mut Logged) -> Result<(), Verdict> {
        let resolves = self.caps.session_resolution && self.resolver.is_some();
        if !resolves && self.caps.reverse_channels.is_empty() {
            return Ok(());
        }
        for &(answer, what) in LOGGED_LOOKUPS {
            logged.begin(log, what);
            if let Some(why) = self.logged_lookup(answer, logged).await? {
                logged.not_run(what, &why);
            }
        }
        Ok(())
    }

    /// A lookup answered with `answer`: a verified session's resolution, else a completed
    /// reverse flow's poll; the phones it used go into `logged`. Why it did not run, if it did
    /// not.
    async fn logged_lookup(
        &self,
        answer: Answer,
        logged: &mut Logged,
    ) -> Result<Option<String>, Verdict> {
        if let (true, Some(resolver)) = (self.caps.session_resolution, self.resolver) {
            let (phone, handle, outcome) = self.complete_one().await?;
            logged.phones.push(phone);
            if let Ok(CheckOutcome::Verified(verified)) = outcome
                && let Some(session) = verified.session_id
            {
                if let Some(why) = self.inject(AnswerTo::Lookup(&handle), answer).await? {
                    return Ok(Some(why));
                }
                let _ = resolver.resolve(&session, &RequestContext::default()).await;
                self.clear_faults_after_call().await?;
                return Ok(None);
            }
        }
        let Some(channel) = self.caps.reverse_channels.first() else {
            return Ok(Some("no verified session to resolve".into()));
        };
        let handle = self.start_reverse(channel).await?;
        let phone = self.phone().await?;
        match self.harness.complete_reverse_flow(&handle, &phone).await {
            Ok(()) => logged.phones.push(phone),
            Err(err @ HarnessError::Unsupported(_)) => return Ok(Some(err.to_string())),
            Err(err) => return Err(err.into()),
        }
        if let Some(why) = self.inject(AnswerTo::Lookup(&handle), answer).await? {
            return Ok(Some(why));
        }
        let _ = self.verifier.poll(&handle).await;
        self.clear_faults_after_call().await?;
        Ok(None)
    }

    /// Injects `answer` into the operation `to`: `None` once injected, or why the harness
    /// cannot (`Unsupported`).
    async fn inject(&self, to: AnswerTo<'_>, answer: Answer) -> Result<Option<String>, Verdict> {
        let injected = match (answer, to) {
            (Answer::Send(fault), AnswerTo::Send) => self.harness.inject_send_fault(fault).await,
            (Answer::Check(fault), AnswerTo::Check(handle)) => {
                self.harness.inject_check_fault(handle, fault).await
            }
            (Answer::Lookup(fault), AnswerTo::Lookup(handle)) => {
                self.harness.inject_lookup_fault(handle, fault).await
            }
            (Answer::Hostile(hostile), to) => self.harness.inject_hostile_answer(to, hostile).await,
            (answer, to) => fail!(
                "the suite has no {answer:?} to answer a {} with",
                to.answering().name()
            ),
        };
        match injected {
            Ok(()) => Ok(None),
            Err(err @ HarnessError::Unsupported(_)) => Ok(Some(err.to_string())),
            Err(err) => Err(err.into()),
        }
    }

    /// A start on `channel` to a fresh phone, its send answered with `answer`: the phone and
    /// the result, or why it did not run (TOTP sends nothing; the harness cannot inject
    /// `answer`).
    async fn failed_send(
        &self,
        channel: &Channel,
        answer: Answer,
    ) -> Result<Result<(PhoneNumber, phone_verify_core::Result<Verification>), String>, Verdict>
    {
        if *channel == Channel::Totp {
            return Ok(Err(format!("nothing is sent on {channel}")));
        }
        let phone = self.phone().await?;
        if let Some(why) = self.inject(AnswerTo::Send, answer).await? {
            return Ok(Err(why));
        }
        let request = StartRequest::otp(channel.clone(), phone.clone());
        let started = self.verifier.start(&request).await;
        self.clear_faults_after_call().await?;
        Ok(Ok((phone, started)))
    }

    /// A reverse flow completed and polled, for a verifier without codes to read.
    async fn logged_reverse_flow(&self) -> Result<PhoneNumber, Verdict> {
        let Some(channel) = self.caps.reverse_channels.first() else {
            return Err(Verdict::Skip(
                "no channel on which the harness can complete a verification".into(),
            ));
        };
        let handle = self.start_reverse(channel).await?;
        let phone = self.phone().await?;
        self.harness.complete_reverse_flow(&handle, &phone).await?;
        let _ = self.verifier.poll(&handle).await;
        Ok(phone)
    }
}

/// What the log check has the provider answer one of its operations with.
#[derive(Debug, Clone, Copy)]
enum Answer {
    /// A send fault.
    Send(SendFault),
    /// A code check fault.
    Check(CheckFault),
    /// A lookup fault, after which the verifier retries.
    Lookup(LookupFault),
    /// A hostile answer.
    Hostile(HostileAnswer),
}

/// The code checks the log check makes whose outcome the verifier cannot know, where it may
/// read the verification back: each answer, whether the code is a wrong one, and what the part
/// is called.
const LOGGED_CHECKS: &[(Answer, bool, &str)] = &[
    (
        Answer::Check(CheckFault::AnswerLost),
        false,
        "a check whose answer was lost",
    ),
    (
        Answer::Check(CheckFault::AnswerLost),
        true,
        "a wrong code's check whose answer was lost",
    ),
    (
        Answer::Check(CheckFault::InternalServerError),
        false,
        "a check answered 500",
    ),
    (
        Answer::Hostile(HostileAnswer::MalformedJson),
        false,
        "a check whose answer could not be read",
    ),
];

/// The lookups the log check makes: each answer, and what the part is called.
const LOGGED_LOOKUPS: &[(Answer, &str)] = &[
    (
        Answer::Lookup(LookupFault::ServiceUnavailableWithoutRetryAfter),
        "a lookup retried after a 503",
    ),
    (
        Answer::Hostile(HostileAnswer::MalformedJson),
        "a lookup whose answer could not be read",
    ),
];

/// What the log check's flow used: the phones and codes to search the log for, the parts the
/// harness could not run, and where in the log each part's lines begin.
#[derive(Debug, Default)]
struct Logged {
    phones: Vec<PhoneNumber>,
    codes: Vec<Code>,
    not_run: Vec<String>,
    /// Each part, with the length of the log when it began.
    parts: Vec<(usize, &'static str)>,
}

impl Logged {
    /// Marks where the part `what` begins in `log`.
    fn begin(&mut self, log: &Log, what: &'static str) {
        self.parts.push((log.len(), what));
    }

    /// Notes that the part `what` did not run, and why.
    fn not_run(&mut self, what: &str, why: &str) {
        self.not_run.push(format!("{what} ({why})"));
    }

    /// `, first logged during …`, naming the part whose lines hold the offset `at` of the
    /// log's text (what tasks and threads log late may fall into the next part); empty
    /// without an offset.
    fn during(&self, at: Option<usize>) -> String {
        at.and_then(|at| self.parts.iter().rev().find(|(begin, _)| *begin <= at))
            .map(|(_, what)| format!(", first logged during {what}"))
            .unwrap_or_default()
    }
}

/// Searches what a verifier shows for the harness's secrets, in each form they may take on
/// the wire ([`secret_forms`]).
struct Shown<'a> {
    secrets: &'a [String],
    /// The secrets long enough to search for, by their place in the list, with their forms.
    forms: Vec<(usize, Vec<(&'static str, String)>)>,
}

impl<'a> Shown<'a> {
    fn new(secrets: &'a [String]) -> Self {
        let forms = secrets
            .iter()
            .enumerate()
            .filter(|(_, s)| s.chars().count() >= MIN_SECRET_LEN)
            .map(|(n, s)| (n, secret_forms(s)))
            .collect();
        Self { secrets, forms }
    }

    /// Whether any secret is long enough to search for.
    fn searches(&self) -> bool {
        !self.forms.is_empty()
    }

    /// A note naming the secrets too short to search for (by place, never shown), if any.
    fn too_short(&self) -> Option<String> {
        let short: Vec<String> = self
            .secrets
            .iter()
            .enumerate()
            .filter(|(_, s)| s.chars().count() < MIN_SECRET_LEN)
            .map(|(n, _)| format!("#{}", n + 1))
            .collect();
        (!short.is_empty()).then(|| {
            format!(
                "not searched for: the harness's secret(s) {} (shorter than {MIN_SECRET_LEN} \
                 characters, found by chance)",
                short.join(", ")
            )
        })
    }

    /// Fails when `text`, which is `what`, contains a secret long enough to search for, in
    /// any of its forms (named by its place in the list and the form, never shown).
    fn check(&self, what: &str, text: &str) -> Result<(), Verdict> {
        for (n, forms) in &self.forms {
            if let Some((form, _)) = forms
                .iter()
                .find(|(_, shape)| text.contains(shape.as_str()))
            {
                fail!("{what} shows the harness's secret #{}{form}", n + 1);
            }
        }
        Ok(())
    }

    /// Checks a result ([`result_text`]).
    fn result<T: fmt::Debug>(&self, what: &str, result: &Result<T, Error>) -> Result<(), Verdict> {
        self.check(what, &result_text(result))
    }
}

/// The forms `secret` is searched for in, each with how the failure names it: as it is; its
/// percent-encoding (RFC 3986), where that differs; and, for a secret of at least
/// [`MIN_ENCODED_SECRET_LEN`] bytes, its base64 at each of the three byte offsets a longer
/// encoded text may hold it at (`user:secret` in a Basic `Authorization`, say), with the
/// characters at its edges, which its neighbours' bytes decide, left out
/// ([`base64_fragments`]).
fn secret_forms(secret: &str) -> Vec<(&'static str, String)> {
    let mut forms = vec![("", secret.to_owned())];
    let encoded = utf8_percent_encode(secret, NOT_UNRESERVED).to_string();
    if encoded != secret {
        forms.push((" (percent-encoded)", encoded));
    }
    if secret.len() >= MIN_ENCODED_SECRET_LEN {
        for fragment in base64_fragments(secret.as_bytes()) {
            if !forms.iter().any(|(_, form)| *form == fragment) {
                forms.push((" (base64-encoded)", fragment));
            }
        }
    }
    forms
}

/// The base64 characters (standard and URL-safe alphabets) that `secret` alone decides in any
/// text whose encoding holds it, one string for each byte offset modulo 3 it may start at and
/// each alphabet: character `j` of an encoding holds bits `6j..6j + 6` of the bytes, so those
/// wholly within the secret's bits are its own.
fn base64_fragments(secret: &[u8]) -> Vec<String> {
    let mut fragments = Vec::with_capacity(6);
    for offset in 0..3 {
        let mut bytes = vec![0; offset];
        bytes.extend_from_slice(secret);
        let first = (8 * offset).div_ceil(6);
        let end = 8 * bytes.len() / 6;
        for engine in [&STANDARD_NO_PAD, &URL_SAFE_NO_PAD] {
            fragments.push(engine.encode(&bytes)[first..end].to_owned());
        }
    }
    fragments
}

/// What the application could print of a result: the value's `Debug`, or the error's
/// `Display`, `Debug` and sources.
fn result_text<T: fmt::Debug>(result: &Result<T, Error>) -> String {
    match result {
        Ok(value) => format!("{value:?}"),
        Err(err) => {
            let mut text = format!("{err}\n{err:?}");
            let mut source = std::error::Error::source(err);
            while let Some(cause) = source {
                let _ = write!(text, "\n{cause}");
                source = cause.source();
            }
            text
        }
    }
}

/// A note naming the parts of a check the harness could not run, if any.
fn not_run_note(not_run: &[String]) -> Option<String> {
    (!not_run.is_empty()).then(|| format!("not run: {}", not_run.join("; ")))
}

/// The notes given, joined: a pass's detail.
fn notes<const N: usize>(notes: [Option<String>; N]) -> Option<String> {
    let notes: Vec<String> = notes.into_iter().flatten().collect();
    (!notes.is_empty()).then(|| notes.join("; "))
}

/// Searches what a verifier shows for codes, each as a whole token ([`contains_token`]).
struct CodesShown<'a> {
    codes: &'a [Code],
}

impl CodesShown<'_> {
    /// Fails when `text`, which is `what`, contains one of the codes (never shown).
    fn check(&self, what: &str, text: &str) -> Result<(), Verdict> {
        match self.codes.iter().find(|c| contains_token(text, c.expose())) {
            Some(code) => fail!(
                "{what} shows a code ({} characters) that was sent or checked: codes never \
                 appear in Debug, errors or handles (contract rule 7)",
                code.expose().len()
            ),
            None => Ok(()),
        }
    }
}

/// Whether `text` contains `token` with no letter or digit right before or after it.
fn contains_token(text: &str, token: &str) -> bool {
    token_at(text, token).is_some()
}

/// Where `text` first contains `token` with no letter or digit right before or after it.
fn token_at(text: &str, token: &str) -> Option<usize> {
    let alnum = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    text.match_indices(token)
        .find(|(at, _)| {
            !alnum(text[..*at].chars().next_back())
                && !alnum(text[at + token.len()..].chars().next())
        })
        .map(|(at, _)| at)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whatever comes before and after it, the base64 of a text holding a secret holds one of
    /// its fragments.
    #[test]
    fn a_secret_is_found_base64_encoded_at_any_offset() {
        // `~~~` encodes to `+` and `/` in the standard alphabet, `-` and `_` in the URL-safe.
        let secret = "broken-api-key~~~0123";
        let fragments = base64_fragments(secret.as_bytes());
        assert!(fragments.iter().any(|f| f.contains('+') || f.contains('/')));
        assert!(fragments.iter().any(|f| f.contains('-') || f.contains('_')));
        for before in ["", "u", "us", "user:", "AC0123456789:", "x:"] {
            for after in ["", "!", "ab", "xyz"] {
                let text = STANDARD_NO_PAD.encode(format!("{before}{secret}{after}"));
                let padded = base64::engine::general_purpose::STANDARD
                    .encode(format!("{before}{secret}{after}"));
                // The URL-safe alphabet too (a JWT-style token): `-` and `_` for `+` and `/`.
                let url_safe = URL_SAFE_NO_PAD.encode(format!("{before}{secret}{after}"));
                for encoded in [text, padded, url_safe] {
                    assert!(
                        fragments.iter().any(|f| encoded.contains(f.as_str())),
                        "{before:?} {after:?}: {encoded} holds none of {fragments:?}"
                    );
                }
            }
        }
        // Each fragment is the secret's own: at least 4 characters for every 3 bytes, less the
        // edges.
        assert!(
            fragments
                .iter()
                .all(|f| f.len() >= 4 * secret.len() / 3 - 2)
        );
    }

    #[test]
    fn secrets_are_searched_for_verbatim_percent_encoded_and_in_base64() {
        let shown = |secret: &str| {
            secret_forms(secret)
                .into_iter()
                .map(|(form, _)| form)
                .collect::<Vec<_>>()
        };
        // Short: as it is only; with characters a URL escapes, percent-encoded too.
        assert_eq!(shown("short-key"), [""]);
        assert_eq!(shown("a/b+c=d"), ["", " (percent-encoded)"]);
        let forms = secret_forms("tok/en+12345=");
        assert_eq!(forms[1].1, "tok%2Fen%2B12345%3D");
        assert_eq!(
            forms.len(),
            5,
            "verbatim, percent-encoded, three base64 fragments"
        );

        let secrets = ["broken-api-key-0123".to_owned()];
        let shown = Shown::new(&secrets);
        let basic =
            base64::engine::general_purpose::STANDARD.encode("memory-account:broken-api-key-0123");
        let Err(Verdict::Fail(reason)) = shown.check("the log", &format!("Basic {basic}")) else {
            panic!("a Basic credential holding the secret is found");
        };
        assert_eq!(
            reason,
            "the log shows the harness's secret #1 (base64-encoded)"
        );
        assert!(shown.check("the log", "Basic dXNlcjpwYXNzd29yZA==").is_ok());
    }

    #[test]
    fn a_finding_names_the_part_whose_lines_hold_it() {
        let log = Log::default();
        let mut logged = Logged::default();
        assert_eq!(logged.during(Some(0)), "");
        logged.begin(&log, "a verification");
        logged.parts.push((40, "a check whose answer was lost"));
        logged.parts.push((90, "a lookup retried after a 503"));
        assert_eq!(
            logged.during(Some(0)),
            ", first logged during a verification"
        );
        assert_eq!(
            logged.during(Some(40)),
            ", first logged during a check whose answer was lost"
        );
        assert_eq!(
            logged.during(Some(89)),
            ", first logged during a check whose answer was lost"
        );
        assert_eq!(
            logged.during(Some(200)),
            ", first logged during a lookup retried after a 503"
        );
        assert_eq!(logged.during(None), "");
    }

    #[test]
    fn tokens_are_whole() {
        assert_eq!(token_at("id=91234567 code=123456", "123456"), Some(17));
        assert_eq!(token_at("id=91234567", "123456"), None);
        assert!(contains_token("code=123456 sent", "123456"));
        assert!(contains_token("123456", "123456"));
        assert!(contains_token("\"123456\"", "123456"));
        assert!(!contains_token("id=91234567", "123456"));
        assert!(!contains_token("REQ123456", "123456"));
    }
}
