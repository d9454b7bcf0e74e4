//! The check of reserved extras: the keys of a handle's `extras` that the layers around a
//! provider write (the router, the `phone-verify` command), which a provider never writes.

use phone_verify_core::{Channel, CheckRequest, Code, ErrorKind, PhoneVerifierExt, Verification};

use super::{Check, Suite, Verdict};

/// The extras keys a provider leaves to others, with who writes them there.
pub(super) const RESERVED_EXTRAS: &[(&str, &str)] = &[
    (
        "route",
        "a router's (phone_verify_router::EXTRA_ROUTE): it writes its route's name there, keeps \
         a value found there as `route.N`, and sends checks by it",
    ),
    (
        "cli_target",
        "the phone-verify command's: it records there where it started the verification",
    ),
];

/// Whether `key` is `route.N`, N a positive integer as written (no sign, no leading zero).
fn is_kept_route(key: &str) -> bool {
    key.strip_prefix("route.").is_some_and(|n| {
        !n.is_empty() && !n.starts_with('0') && n.bytes().all(|b| b.is_ascii_digit())
    })
}

/// The route a handle names in the router's probe: no router has it (a route name holds no
/// `.`).
const NO_SUCH_ROUTE: &str = "conformance.no-such-route";

impl Suite<'_> {
    /// `handle.no_reserved_extras`: a start on each channel returns a handle without a reserved
    /// key, except a router's `route`, which it must route by: a handle naming no route of the
    /// verifier's is refused with `InvalidInput`, before any request.
    pub(super) async fn no_reserved_extras(&self) -> Check {
        if self.caps.otp_channels.is_empty() && self.caps.reverse_channels.is_empty() {
            return Err(Verdict::Skip(
                "the verifier offers no channel to start on".into(),
            ));
        }
        let mut routed = Vec::new();
        for c in &self.caps.otp_channels {
            let (_, handle) = self.start_otp(c).await?;
            if self.reserved_extras_of(&handle, true).await? {
                routed.push(format!("{c} (a code)"));
            }
        }
        for c in &self.caps.reverse_channels {
            let handle = self.start_reverse(c).await?;
            if self.reserved_extras_of(&handle, false).await? {
                routed.push(format!("{c} (a reverse flow)"));
            }
        }
        Ok((!routed.is_empty()).then(|| {
            format!(
                "the handles on {} carry extras.route, and a handle naming no route of the \
                 verifier's is refused before any request: a router's",
                routed.join(", ")
            )
        }))
    }

    /// Fails if `handle` carries a reserved key; `Ok(true)` when it carries `route` and the
    /// verifier routes by it (a router), `otp` telling how to check the handle.
    async fn reserved_extras_of(&self, handle: &Verification, otp: bool) -> Result<bool, Verdict> {
        let channel = &handle.channel;
        let mut routed = false;
        for (key, whose) in RESERVED_EXTRAS {
            if !handle.extras.contains_key(key) {
                continue;
            }
            if *key == "route" && self.routes_by_route(handle, channel, otp).await? {
                routed = true;
                continue;
            }
            fail!(
                "the handle on {channel} carries extras.{key}, a reserved key: it is {whose}; \
                 a provider writes its own extras under other names"
            );
        }
        // `route.1`, `route.2`, …: the routes a router keeps from the levels below it.
        if !routed && let Some(key) = handle.extras.keys().find(|key| is_kept_route(key)) {
            fail!(
                "the handle on {channel} carries extras.{key}, a reserved key: it is a router's \
                 (the route of a level below it); a provider writes its own extras under other \
                 names"
            );
        }
        Ok(routed)
    }

    /// Whether the verifier refuses `handle` naming a route it has not, with `InvalidInput`
    /// before any request, as a router does (a provider that wrote `route` for itself checks
    /// it as usual).
    async fn routes_by_route(
        &self,
        handle: &Verification,
        channel: &Channel,
        otp: bool,
    ) -> Result<bool, Verdict> {
        let mut elsewhere = handle.clone();
        elsewhere.extras.insert("route", NO_SUCH_ROUTE);
        let probe = if otp {
            let code = if self.harness.delivers_codes(channel) {
                self.harness.wrong_code(handle).await?
            } else {
                Code::new("123456").expect("a valid code")
            };
            let request = CheckRequest::code(code);
            self.refused_as(
                &[ErrorKind::InvalidInput],
                self.verifier.check(&elsewhere, &request),
            )
            .await
        } else {
            let poll = self.verifier.poll(&elsewhere);
            self.refused_as(&[ErrorKind::InvalidInput], poll).await
        };
        match probe {
            // Without request counts, the refusal is enough to tell a router.
            Ok(_) | Err(Verdict::Skip(_)) => Ok(true),
            Err(Verdict::Fail(_)) => Ok(false),
        }
    }
}

#[cfg(test)]
mod tests {
    use async_trait::async_trait;
    use phone_verify_core::{
        Capabilities, CheckOutcome, Error, PhoneVerifier, ProviderId, Result, StartRequest,
    };

    use super::*;
    use crate::memory::{InMemoryHarness, InMemoryVerifier};

    /// The in-memory provider, its handles carrying `key` (route `a`), and its checks routed
    /// by `route` as a router's when `routes`.
    #[derive(Debug)]
    struct Stamping {
        inner: InMemoryVerifier,
        key: Option<&'static str>,
        routes: bool,
    }

    #[async_trait]
    impl PhoneVerifier for Stamping {
        fn provider(&self) -> ProviderId {
            self.inner.provider()
        }

        fn capabilities(&self) -> Capabilities {
            PhoneVerifier::capabilities(&self.inner)
        }

        async fn start(&self, request: &StartRequest) -> Result<Verification> {
            let mut handle = self.inner.start(request).await?;
            if let Some(key) = self.key {
                handle.extras.insert(key, "a");
            }
            Ok(handle)
        }

        async fn check(
            &self,
            handle: &Verification,
            request: &CheckRequest,
        ) -> Result<CheckOutcome> {
            if self.routes && handle.extra_str("route") != Some("a") {
                return Err(Error::invalid_input(
                    "the handle's route is not one of this router's",
                ));
            }
            self.inner.check(handle, request).await
        }
    }

    /// The check's result against `Stamping` with `key` and `routes`.
    async fn check_with(key: Option<&'static str>, routes: bool) -> Check {
        let verifier = Stamping {
            inner: InMemoryVerifier::new(),
            key,
            routes,
        };
        let harness = InMemoryHarness::new(&verifier.inner);
        let provider = verifier.provider();
        let suite = Suite {
            verifier: &verifier,
            resolver: None,
            harness: &harness,
            caps: verifier.capabilities(),
            handle_providers: vec![provider.clone()],
            provider,
            advanced: std::sync::Mutex::new(std::time::Duration::ZERO),
        };
        suite.no_reserved_extras().await
    }

    fn failure(check: Check) -> String {
        match check {
            Err(Verdict::Fail(reason)) => reason,
            Ok(note) => panic!("passed: {note:?}"),
            Err(Verdict::Skip(reason)) => panic!("skipped: {reason}"),
        }
    }

    #[tokio::test]
    async fn a_provider_writing_a_reserved_key_fails() {
        let route = failure(check_with(Some("route"), false).await);
        assert!(
            route.starts_with(
                "the handle on sms carries extras.route, a reserved key: it is a router's"
            ),
            "{route}"
        );
        let target = failure(check_with(Some("cli_target"), false).await);
        assert!(target.contains("extras.cli_target"), "{target}");
        let kept = failure(check_with(Some("route.1"), false).await);
        assert!(kept.contains("extras.route.1, a reserved key"), "{kept}");
        // Not a router's key: another `route.` name is the provider's own.
        assert_eq!(check_with(Some("route.x"), false).await.ok(), Some(None));
        assert_eq!(check_with(Some("route.01"), false).await.ok(), Some(None));
    }

    #[tokio::test]
    async fn handles_without_reserved_keys_and_a_routers_route_pass() {
        assert_eq!(check_with(None, false).await.ok(), Some(None));
        let note = check_with(Some("route"), true)
            .await
            .ok()
            .flatten()
            .unwrap();
        assert!(
            note.starts_with("the handles on sms (a code), whatsapp (a code), voice (a code), whatsapp (a reverse flow) carry extras.route"),
            "{note}"
        );
        // A router's key is still not a provider's other one.
        assert!(failure(check_with(Some("cli_target"), true).await).contains("cli_target"));
    }
}
