//! `demo`: every provider's flows against an embedded sandbox, through `Arc<dyn PhoneVerifier>`
//! built by the registry, printing each step. Exits 0 only if every step behaved as expected.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use phone_verify::providers::verifykit;
use phone_verify::providers::verigator::VerigatorBuilder;
use phone_verify::{
    Capabilities, Channel, CheckOutcome, Code, PhoneVerifier, PhoneVerifierExt, Provider, Registry,
    RejectReason, Rejection, SessionId, SessionResolver, SessionResolverExt, StartRequest,
    Verification, Verified,
};
use phone_verify_sandbox::{Sandbox, SandboxConfig, SandboxHandle, totp};

use crate::exit::{Failure, Outcome, REJECTED, SUCCESS};
use crate::output;

/// A step's result, for `--json`.
#[derive(Debug, serde::Serialize)]
struct Step {
    provider: &'static str,
    ok: bool,
    text: String,
}

/// What went differently than expected: the text of a failed step.
type Unexpected = String;

struct Demo {
    sandbox: SandboxHandle,
    registry: Registry,
    json: bool,
    provider: &'static str,
    steps: Vec<Step>,
}

/// Runs the demo.
pub(crate) async fn run(json: bool) -> Outcome {
    let sandbox = Sandbox::start(SandboxConfig::default())
        .await
        .map_err(|e| Failure::other(format!("cannot start the embedded sandbox: {e}")))?;
    let mut demo = Demo {
        sandbox,
        registry: Registry::with_builtin(),
        json,
        provider: "",
        steps: Vec::new(),
    };
    demo.say(&format!(
        "phone-verify demo: VerifyKit, Verifik, Messente Verigator and Twilio Verify through \
         Arc<dyn PhoneVerifier>,\nagainst an embedded sandbox at {}: no real message is sent, nothing \
         leaves this machine.",
        demo.sandbox.base_url()
    ));

    let result = demo.verifykit().await;
    demo.finish(result);
    let result = demo.verifik().await;
    demo.finish(result);
    let result = demo.verigator().await;
    demo.finish(result);
    let result = demo.twilio().await;
    demo.finish(result);

    // Like `outln!` and `outjson!`, a closed stdout is ignored.
    let _ = summary(&mut std::io::stdout().lock(), &demo.steps, json);
    demo.sandbox.shutdown().await;
    Ok(if demo.steps.iter().all(|s| s.ok) {
        SUCCESS
    } else {
        REJECTED
    })
}

impl Demo {
    fn say(&self, text: &str) {
        if !self.json {
            outln!("{text}");
        }
    }

    fn section(&mut self, provider: &'static str, caps: &Capabilities) {
        self.provider = provider;
        let list = |channels: &[Channel]| {
            channels
                .iter()
                .map(Channel::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut text = format!("\n{provider}: codes by {}", list(&caps.otp_channels));
        if !caps.reverse_channels.is_empty() {
            let _ = write!(text, "; reverse flows on {}", list(&caps.reverse_channels));
        }
        text.push_str(if caps.session_resolution {
            "; sessions"
        } else {
            "; no sessions"
        });
        self.say(&text);
    }

    fn ok(&mut self, text: String) {
        self.say(&format!("  ✔ {text}"));
        self.steps.push(Step {
            provider: self.provider,
            ok: true,
            text,
        });
    }

    fn detail(&self, text: &str) {
        self.say(&format!("      {text}"));
    }

    fn finish(&mut self, result: Result<(), Unexpected>) {
        if let Err(text) = result {
            self.say(&format!("  ✘ {text}"));
            self.steps.push(Step {
                provider: self.provider,
                ok: false,
                text,
            });
        }
    }

    fn build(&self, name: &str, vars: &[(&str, String)]) -> Result<Provider, Unexpected> {
        self.registry
            .build_named(name, |variable| {
                vars.iter()
                    .find(|(n, _)| *n == variable)
                    .map(|(_, v)| v.clone())
            })
            .map_err(|e| format!("building {name} from the registry failed: {e}"))
    }

    /// VerifyKit's settings: the sandbox, and the loopback address as the end user's IP, which
    /// VerifyKit asks for on every request (no end user is behind the demo).
    fn verifykit_settings(&self) -> [(&'static str, String); 2] {
        [
            ("VERIFYKIT_SANDBOX_URL", self.sandbox.base_url()),
            (
                verifykit::VerifyKitSetting::FallbackEndUserIp.name(),
                std::net::Ipv4Addr::LOCALHOST.to_string(),
            ),
        ]
    }

    /// The code the sandbox "sent" to `phone`, shown as the user would read it.
    fn outbox(&self, phone: &str) -> Result<String, Unexpected> {
        let message = self
            .sandbox
            .messages(phone)
            .into_iter()
            .next()
            .ok_or_else(|| format!("the sandbox sent nothing to {phone}"))?;
        self.detail(&format!(
            "the sandbox's outbox, {} to {phone}: {:?}",
            message.channel.as_str(),
            message.text
        ));
        message
            .code
            .ok_or_else(|| format!("the message to {phone} has no code"))
    }

    async fn start(
        verifier: &dyn PhoneVerifier,
        request: &StartRequest,
    ) -> Result<Verification, Unexpected> {
        verifier
            .start(request)
            .await
            .map_err(|e| format!("start on {} failed: {e}", request.channel))
    }

    async fn check(
        verifier: &dyn PhoneVerifier,
        handle: &Verification,
        code: &str,
    ) -> Result<CheckOutcome, Unexpected> {
        let code = Code::new(code).map_err(|e| format!("code {code:?}: {e}"))?;
        verifier
            .check_code(handle, &code)
            .await
            .map_err(|e| format!("checking a code failed: {e}"))
    }

    async fn resolve(
        &mut self,
        resolver: &dyn SessionResolver,
        session: &SessionId,
        phone: &str,
    ) -> Result<(), Unexpected> {
        let found = resolver
            .resolve_session(session)
            .await
            .map_err(|e| format!("resolving the session failed: {e}"))?;
        if found.phone.e164() != phone {
            return Err(format!(
                "the session resolved to {}, not {phone}",
                found.phone
            ));
        }
        self.ok(format!(
            "session resolved on the server → {}",
            output::verified_phone(&found)
        ));
        Ok(())
    }

    /// VerifyKit: SMS code (wrong, right from a fresh client, expired), session resolution,
    /// and a reverse WhatsApp flow with its QR code.
    async fn verifykit(&mut self) -> Result<(), Unexpected> {
        let provider = self.build("verifykit", &self.verifykit_settings())?;
        let verifier: Arc<dyn PhoneVerifier> = provider.verifier.clone();
        self.section("VerifyKit", &verifier.capabilities());
        let resolver = provider
            .resolver
            .clone()
            .ok_or("VerifyKit came without a session resolver")?;
        let phone = "+905321234567";
        let sms = StartRequest::sms(phone.parse().map_err(|e| format!("{e}"))?);

        let handle = Self::start(verifier.as_ref(), &sms).await?;
        self.ok(output::started(&handle));
        let code = self.outbox(phone)?;
        let wrong = wrong_code(&code);
        let outcome = Self::check(verifier.as_ref(), &handle, &wrong).await?;
        let rejection = expect_rejected(&outcome, RejectReason::WrongCode)?;
        self.ok(format!(
            "wrong code {wrong} → rejected: {}",
            output::rejection(rejection)
        ));

        // Another process: a fresh client from the registry, the handle from its JSON.
        let saved = handle.to_json().map_err(|e| e.to_string())?;
        let fresh = self
            .build("verifykit", &self.verifykit_settings())?
            .verifier;
        let handle = Verification::from_json(&saved).map_err(|e| e.to_string())?;
        let outcome = Self::check(fresh.as_ref(), &handle, &code).await?;
        let result = expect_verified(&outcome, phone)?;
        let session = result
            .session_id
            .clone()
            .ok_or("VerifyKit returned no session id")?;
        self.ok(format!(
            "code {code}, checked by a fresh client from the handle's JSON → verified {phone} \
             (session {session})"
        ));
        self.resolve(resolver.as_ref(), &session, phone).await?;

        let handle = Self::start(verifier.as_ref(), &sms).await?;
        let code = self
            .sandbox
            .latest_code(phone)
            .ok_or("the sandbox sent no second code")?;
        self.sandbox.advance_clock(Duration::from_secs(301));
        let outcome = Self::check(verifier.as_ref(), &handle, &code).await?;
        let rejection = expect_rejected(&outcome, RejectReason::Expired)?;
        self.ok(format!(
            "a new code {code}, typed after 301 s on the sandbox clock → rejected: {}",
            output::rejection(rejection)
        ));

        self.reverse_whatsapp(verifier.as_ref(), resolver.as_ref())
            .await
    }

    async fn reverse_whatsapp(
        &mut self,
        verifier: &dyn PhoneVerifier,
        resolver: &dyn SessionResolver,
    ) -> Result<(), Unexpected> {
        let handle = Self::start(verifier, &StartRequest::reverse(Channel::WhatsApp)).await?;
        let link = handle
            .reverse
            .as_ref()
            .and_then(|r| r.deeplink.clone())
            .ok_or("the reverse flow has no deeplink")?;
        self.ok(
            "reverse WhatsApp flow opened: the user sends the prefilled message from this link \
             or QR code"
                .to_owned(),
        );
        self.detail(&link);
        if let Some(qr) = output::qr_code(&link, "      ").filter(|_| !self.json) {
            outln!("{qr}");
        }
        let outcome = verifier
            .poll(&handle)
            .await
            .map_err(|e| format!("polling failed: {e}"))?;
        if !outcome.is_pending() {
            return Err(format!(
                "polling before the user acted: expected pending, got {outcome:?}"
            ));
        }
        self.ok("poll → pending: the user has not sent the message yet".to_owned());

        let user = "+905551234567";
        self.sandbox
            .complete_reverse_flow(&handle.reference, user)
            .map_err(|e| format!("the sandbox could not complete the flow: {e}"))?;
        self.ok(format!(
            "the user sends the message from {user} (the sandbox plays WhatsApp)"
        ));
        let outcome = verifier
            .wait_for_outcome(&handle, Duration::from_millis(200), Duration::from_secs(10))
            .await
            .map_err(|e| format!("polling failed: {e}"))?;
        let result = expect_verified(&outcome, user)?;
        let session = result
            .session_id
            .clone()
            .ok_or("the reverse flow returned no session id")?;
        self.ok(format!(
            "poll → verified {user}, the number the user wrote from (session {session})"
        ));
        self.resolve(resolver, &session, user).await
    }

    /// Verifik: SMS code (wrong, expired, right), session resolution.
    async fn verifik(&mut self) -> Result<(), Unexpected> {
        let provider = self.build(
            "verifik",
            &[("VERIFIK_SANDBOX_URL", self.sandbox.base_url())],
        )?;
        let verifier = provider.verifier.clone();
        self.section("Verifik", &verifier.capabilities());
        let resolver = provider
            .resolver
            .clone()
            .ok_or("Verifik came without a session resolver")?;
        let phone = "+573001234567";
        let sms = StartRequest::sms(phone.parse().map_err(|e| format!("{e}"))?);

        let handle = Self::start(verifier.as_ref(), &sms).await?;
        self.ok(output::started(&handle));
        let code = self.outbox(phone)?;
        let wrong = wrong_code(&code);
        let outcome = Self::check(verifier.as_ref(), &handle, &wrong).await?;
        let rejection = expect_rejected(&outcome, RejectReason::WrongCode)?;
        self.ok(format!(
            "wrong code {wrong} → rejected: {}",
            output::rejection(rejection)
        ));
        self.sandbox.advance_clock(Duration::from_secs(601));
        let outcome = Self::check(verifier.as_ref(), &handle, &code).await?;
        let rejection = expect_rejected(&outcome, RejectReason::Expired)?;
        self.ok(format!(
            "code {code}, typed after 601 s on the sandbox clock → rejected: {}",
            output::rejection(rejection)
        ));

        let handle = Self::start(verifier.as_ref(), &sms).await?;
        self.ok(format!("a new code: {}", output::started(&handle)));
        let code = self.outbox(phone)?;
        let outcome = Self::check(verifier.as_ref(), &handle, &code).await?;
        let result = expect_verified(&outcome, phone)?;
        let session = result
            .session_id
            .clone()
            .ok_or("Verifik returned no validation id")?;
        self.ok(format!(
            "code {code} → verified {phone} (validation {session})"
        ));
        self.resolve(resolver.as_ref(), &session, phone).await
    }

    /// Verigator: a service, an SMS code (wrong, right), and TOTP from the authenticator
    /// secret the user enrolled.
    async fn verigator(&mut self) -> Result<(), Unexpected> {
        self.provider = "Messente Verigator";
        let url = self.sandbox.base_url();
        let service = VerigatorBuilder::sandbox(&url)
            .build_client()
            .map_err(|e| e.to_string())?
            .create_service("demo.phone-verify.example", "phone-verify demo")
            .await
            .map_err(|e| format!("creating a Verigator service failed: {e}"))?;
        let provider = self.build(
            "verigator",
            &[
                ("VERIGATOR_SANDBOX_URL", url.clone()),
                ("VERIGATOR_SERVICE_ID", service.id.clone()),
            ],
        )?;
        let verifier = provider.verifier.clone();
        self.section("Messente Verigator", &verifier.capabilities());
        if provider.resolver.is_some() {
            return Err("Verigator has no sessions, yet came with a resolver".to_owned());
        }
        self.ok(format!(
            "service {} created; users are registered by phone number",
            service.id
        ));
        let phone = "+37251234567";
        let number = phone.parse().map_err(|e| format!("{e}"))?;

        let handle = Self::start(verifier.as_ref(), &StartRequest::sms(number)).await?;
        self.ok(output::started(&handle));
        let code = self.outbox(phone)?;
        let wrong = wrong_code(&code);
        let outcome = Self::check(verifier.as_ref(), &handle, &wrong).await?;
        let rejection = expect_rejected(&outcome, RejectReason::WrongCode)?;
        self.ok(format!(
            "wrong code {wrong} → rejected: {}",
            output::rejection(rejection)
        ));
        let outcome = Self::check(verifier.as_ref(), &handle, &code).await?;
        expect_verified(&outcome, phone)?;
        self.ok(format!("code {code} → verified {phone}"));

        // The user sets up an authenticator app with the secret the sandbox enrols.
        let user = handle
            .extra_str(phone_verify::providers::verigator::EXTRA_USER_ID)
            .unwrap_or(&handle.reference)
            .to_owned();
        let enrollment = self
            .sandbox
            .enroll_totp(&service.id, &user)
            .map_err(|e| format!("enrolling the authenticator failed: {e}"))?;
        let shown: String = enrollment.secret.chars().take(4).collect();
        self.ok(format!(
            "the user adds the service to an authenticator app (secret {shown}…, from an \
             otpauth:// URI)"
        ));
        let totp_request =
            StartRequest::otp(Channel::Totp, phone.parse().map_err(|e| format!("{e}"))?);
        let handle = Self::start(verifier.as_ref(), &totp_request).await?;
        if handle.channel != Channel::Totp {
            return Err(format!(
                "a TOTP start for an enrolled user fell back to {}",
                handle.channel
            ));
        }
        self.ok(output::started(&handle));
        let secret =
            totp::base32_decode(&enrollment.secret).ok_or("the enrolled secret is not base32")?;
        let code = totp::totp(&secret, self.sandbox.now().unix_timestamp(), totp::DIGITS);
        self.ok(format!(
            "the app shows {code} (RFC 6238 from the enrolled secret, on the sandbox clock)"
        ));
        let outcome = Self::check(verifier.as_ref(), &handle, &code).await?;
        expect_verified(&outcome, phone)?;
        self.ok(format!("TOTP code {code} → verified {phone}"));
        let outcome = Self::check(verifier.as_ref(), &handle, &code).await?;
        let rejection = outcome.rejection().ok_or_else(|| {
            format!("a TOTP code used twice: expected a rejection, got {outcome:?}")
        })?;
        self.ok(format!(
            "the same TOTP code again → rejected: {} (a verification is used once)",
            output::rejection(rejection)
        ));
        Ok(())
    }

    /// Twilio Verify: an SMS code (wrong, right from a fresh client, again after approval), a
    /// voice-call code, and the five wrong codes a verification takes.
    async fn twilio(&mut self) -> Result<(), Unexpected> {
        let settings = [("TWILIO_SANDBOX_URL", self.sandbox.base_url())];
        let provider = self.build("twilio", &settings)?;
        let verifier = provider.verifier.clone();
        self.section("Twilio Verify", &verifier.capabilities());
        if provider.resolver.is_some() {
            return Err("Twilio has no sessions, yet came with a resolver".to_owned());
        }
        let phone = "+15017122661";
        let number: phone_verify::PhoneNumber = phone.parse().map_err(|e| format!("{e}"))?;

        let handle = Self::start(verifier.as_ref(), &StartRequest::sms(number.clone())).await?;
        self.ok(output::started(&handle));
        let code = self.outbox(phone)?;
        let wrong = wrong_code(&code);
        let outcome = Self::check(verifier.as_ref(), &handle, &wrong).await?;
        let rejection = expect_rejected(&outcome, RejectReason::WrongCode)?;
        self.ok(format!(
            "wrong code {wrong} → rejected: {}",
            output::rejection(rejection)
        ));
        let saved = handle.to_json().map_err(|e| e.to_string())?;
        let fresh = self.build("twilio", &settings)?.verifier;
        let handle = Verification::from_json(&saved).map_err(|e| e.to_string())?;
        let outcome = Self::check(fresh.as_ref(), &handle, &code).await?;
        expect_verified(&outcome, phone)?;
        self.ok(format!(
            "code {code}, checked by a fresh client from the handle's JSON → verified {phone}"
        ));
        let outcome = Self::check(verifier.as_ref(), &handle, &code).await?;
        let rejection = expect_rejected(&outcome, RejectReason::NotFound)?;
        self.ok(format!(
            "the same code again → rejected: {} (Twilio deletes approved verifications)",
            output::rejection(rejection)
        ));

        let call = StartRequest::otp(Channel::Voice, number.clone());
        let handle = Self::start(verifier.as_ref(), &call).await?;
        self.ok(output::started(&handle));
        let code = self.outbox(phone)?;
        let outcome = Self::check(verifier.as_ref(), &handle, &code).await?;
        expect_verified(&outcome, phone)?;
        self.ok(format!(
            "code {code}, read out by a call → verified {phone}"
        ));

        let handle = Self::start(verifier.as_ref(), &StartRequest::sms(number)).await?;
        let code = self.outbox(phone)?;
        let wrong = wrong_code(&code);
        for _ in 0..4 {
            let outcome = Self::check(verifier.as_ref(), &handle, &wrong).await?;
            expect_rejected(&outcome, RejectReason::WrongCode)?;
        }
        let outcome = Self::check(verifier.as_ref(), &handle, &wrong).await?;
        let rejection = expect_rejected(&outcome, RejectReason::TooManyAttempts)?;
        self.ok(format!(
            "a new code, then five wrong ones → rejected: {}",
            output::rejection(rejection)
        ));
        let outcome = Self::check(verifier.as_ref(), &handle, &code).await?;
        let rejection = expect_rejected(&outcome, RejectReason::TooManyAttempts)?;
        self.ok(format!(
            "the right code {code} after that → rejected: {}",
            output::rejection(rejection)
        ));
        Ok(())
    }
}

/// The run's last word on `out`: with `--json`, the steps as one JSON document, written as it is
/// (it must read back the same); else, for a person, how many steps behaved as expected.
fn summary(out: &mut impl std::io::Write, steps: &[Step], json: bool) -> std::io::Result<()> {
    let failed = steps.iter().filter(|s| !s.ok).count();
    let total = steps.len();
    if json {
        let document =
            serde_json::json!({ "passed": total - failed, "failed": failed, "steps": steps });
        output::write_document(out, &document.to_string())
    } else if failed == 0 {
        output::write_line(
            out,
            &format!("\ndemo: all {total} steps behaved as expected"),
        )
    } else {
        output::write_line(
            out,
            &format!("\ndemo: {failed} of {total} steps did not behave as expected"),
        )
    }
}

/// A 6-digit code that is not `code`.
fn wrong_code(code: &str) -> String {
    if code == "000000" {
        "111111".to_owned()
    } else {
        "000000".to_owned()
    }
}

fn expect_rejected(outcome: &CheckOutcome, reason: RejectReason) -> Result<&Rejection, Unexpected> {
    match outcome.rejection() {
        Some(rejection) if rejection.reason == reason => Ok(rejection),
        _ => Err(format!(
            "expected a rejection ({}), got {outcome:?}",
            output::reason(reason)
        )),
    }
}

fn expect_verified<'a>(outcome: &'a CheckOutcome, phone: &str) -> Result<&'a Verified, Unexpected> {
    match outcome.verified() {
        Some(verified) if verified.phone.as_ref().is_none_or(|p| p.e164() == phone) => Ok(verified),
        _ => Err(format!("expected {phone} verified, got {outcome:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_json_summary_is_written_as_it_is_and_the_text_one_for_a_person() {
        // DEL, a C1 control and a bidirectional override: JSON leaves them as they are.
        let text = "code 403014: wrong\u{7f}\u{85}\u{202e}code".to_owned();
        let steps = [
            Step {
                provider: "VerifyKit",
                ok: true,
                text: text.clone(),
            },
            Step {
                provider: "VerifyKit",
                ok: false,
                text: "unexpected".to_owned(),
            },
        ];
        let mut out = Vec::new();
        summary(&mut out, &steps, true).unwrap();
        let written = String::from_utf8(out).unwrap();
        let document: serde_json::Value = serde_json::from_str(&written).unwrap();
        assert_eq!(document["steps"][0]["text"], text.as_str(), "{written}");
        assert_eq!(
            (document["passed"].clone(), document["failed"].clone()),
            (1.into(), 1.into())
        );
        assert!(
            written.ends_with("}\n") && written.lines().count() == 1,
            "{written:?}"
        );

        let mut out = Vec::new();
        summary(&mut out, &steps, false).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\ndemo: 1 of 2 steps did not behave as expected\n"
        );
    }
}
