//! What the pages talk to: the providers built through the registry, a router per provider
//! choice behind one guard, VerifyKit's typed client for the screens, and the embedded sandbox.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use phone_verify::guard::{Guard, GuardConfig, Limit, MemoryStore};
use phone_verify::providers::verifykit::{
    Country, ValidationMethodList, VerifyKitBuilder, VerifyKitClient,
};
use phone_verify::providers::verigator::VerigatorBuilder;
use phone_verify::providers::{twilio, verifik, verifykit, verigator};
use phone_verify::router::{EXTRA_ROUTE, Route, Router, Rule};
use phone_verify::{
    Error, ErrorKind, Language, PhoneVerifier, Registry, RequestContext, Result, SessionResolver,
    Verification,
};
use phone_verify_sandbox::{InitTheme, Sandbox, SandboxConfig, SandboxHandle};

use crate::screens::{Answer, ScreenData};

/// Where verifications go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A sandbox started inside this process with the given `init` answer shape: no account,
    /// no network, no real message.
    Embedded(InitTheme),
    /// The real providers, configured from the environment (`VERIFYKIT_SERVER_KEY`, and
    /// `VERIFIK_TOKEN`, `VERIGATOR_USERNAME`/`_PASSWORD`/`_SERVICE_ID`,
    /// `TWILIO_ACCOUNT_SID`/`_AUTH_TOKEN` (or `TWILIO_API_KEY_SID`/`_SECRET`) and
    /// `TWILIO_SERVICE_SID` when set).
    Live,
}

/// The provider a visitor picks for a code: the router's own rules, or one route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Choice {
    /// The router's rules: VerifyKit for Turkey, Verifik for Colombia and Mexico, Twilio for
    /// North America (+1), failover to the others.
    Auto,
    /// VerifyKit only.
    VerifyKit,
    /// Verifik only.
    Verifik,
    /// Messente Verigator only.
    Verigator,
    /// Twilio Verify only.
    Twilio,
}

impl Choice {
    /// Every choice, in the order the picker shows them.
    pub const ALL: [Self; 5] = [
        Self::Auto,
        Self::VerifyKit,
        Self::Verifik,
        Self::Verigator,
        Self::Twilio,
    ];

    /// The route name (`auto` for the rules).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::VerifyKit => "verifykit",
            Self::Verifik => "verifik",
            Self::Verigator => "verigator",
            Self::Twilio => "twilio",
        }
    }

    /// The label of the picker.
    pub fn label(self) -> &'static str {
        match self {
            Self::Auto => "Automatic (routing rules)",
            Self::VerifyKit => "VerifyKit",
            Self::Verifik => "Verifik",
            Self::Verigator => "Messente Verigator",
            Self::Twilio => "Twilio Verify",
        }
    }

    /// The choice named `name`, if any.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == name)
    }
}

/// One guarded router: the verifier and resolver a choice uses.
#[derive(Clone)]
pub struct Verifier {
    /// Starts and checks verifications.
    pub verifier: Arc<dyn PhoneVerifier>,
    /// Resolves the session ids of reverse flows.
    pub resolver: Arc<dyn SessionResolver>,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("provider", &self.verifier.provider())
            .finish_non_exhaustive()
    }
}

/// Everything the handlers need from the SDK.
#[derive(Debug)]
pub struct Backend {
    /// VerifyKit's typed client: `init` (methods and texts) and `country`.
    pub verifykit: VerifyKitClient,
    /// Their answers, kept a few minutes (ask through [`Backend::init`] and
    /// [`Backend::country`]).
    screens: ScreenData,
    verifiers: BTreeMap<Choice, Verifier>,
    /// The embedded sandbox; `None` when live.
    pub sandbox: Option<SandboxHandle>,
}

impl Backend {
    /// Starts the embedded sandbox (or reads the environment when live) and builds every
    /// provider through the registry, as an application would.
    pub async fn start(target: Target) -> Result<Self> {
        match target {
            Target::Embedded(theme) => {
                let config = SandboxConfig {
                    listen: SocketAddr::from(([127, 0, 0, 1], 0)),
                    init_theme: theme,
                    ..SandboxConfig::default()
                };
                let sandbox = Sandbox::start(config).await.map_err(|e| {
                    Error::new(
                        ErrorKind::Transport,
                        format!("cannot start the embedded sandbox: {e}"),
                    )
                })?;
                let url = sandbox.base_url();
                let mut routes = vec![
                    build(
                        "verifykit",
                        &[(verifykit::VerifyKitSetting::SandboxUrl.name(), url.clone())],
                    )?,
                    build(
                        "verifik",
                        &[(verifik::VerifikSetting::SandboxUrl.name(), url.clone())],
                    )?,
                ];
                let service = VerigatorBuilder::sandbox(&url)
                    .build_client()?
                    .create_service(
                        "web-example.phone-verify.localhost",
                        "phone-verify web example",
                    )
                    .await?;
                routes.push(build(
                    "verigator",
                    &[
                        (verigator::VerigatorSetting::SandboxUrl.name(), url.clone()),
                        (verigator::VerigatorSetting::ServiceId.name(), service.id),
                    ],
                )?);
                // The sandbox's Twilio account and its default Verify service.
                routes.push(build(
                    "twilio",
                    &[(twilio::TwilioSetting::SandboxUrl.name(), url.clone())],
                )?);
                let verifykit = VerifyKitBuilder::sandbox(&url).build_client()?;
                Self::new(verifykit, &routes, Some(sandbox))
            }
            Target::Live => {
                let verifykit = VerifyKitBuilder::from_env()?.build_client()?;
                let mut routes = vec![build_from_env("verifykit")?];
                for (name, variables) in [
                    ("verifik", &[verifik::VerifikSetting::Token.name()][..]),
                    (
                        "verigator",
                        &[verigator::VerigatorSetting::Username.name()][..],
                    ),
                    (
                        "twilio",
                        &[
                            twilio::TwilioSetting::AccountSid.name(),
                            twilio::TwilioSetting::ApiKeySid.name(),
                        ][..],
                    ),
                ] {
                    if variables.iter().any(|v| std::env::var_os(v).is_some()) {
                        routes.push(build_from_env(name)?);
                    }
                }
                Self::new(verifykit, &routes, None)
            }
        }
    }

    /// One router per choice over the same routes, each behind a guard sharing one store.
    fn new(
        verifykit: VerifyKitClient,
        all_routes: &[Route],
        sandbox: Option<SandboxHandle>,
    ) -> Result<Self> {
        let store = Arc::new(MemoryStore::new());
        let secret = crate::token::random_token();
        let names: Vec<String> = all_routes.iter().map(|r| r.name().to_owned()).collect();
        let mut verifiers = BTreeMap::new();
        for choice in Choice::ALL {
            let rules = match choice {
                Choice::Auto => auto_rules(&names),
                one if names.iter().any(|n| n == one.as_str()) => vec![Rule::to([one.as_str()])],
                _ => continue,
            };
            // A one-provider choice holds only its route.
            let mut builder = Router::builder();
            for route in all_routes
                .iter()
                .filter(|r| choice == Choice::Auto || r.name() == choice.as_str())
            {
                builder = builder.route(route.clone());
            }
            for rule in rules {
                builder = builder.rule(rule);
            }
            let router: Arc<Router> = Arc::new(builder.build()?);
            let guard = Arc::new(
                Guard::builder(router.clone())
                    .resolver(router)
                    .secret(secret.clone())
                    .config(guard_config())
                    .store(store.clone())
                    .build()?,
            );
            verifiers.insert(
                choice,
                Verifier {
                    verifier: guard.clone(),
                    resolver: guard,
                },
            );
        }
        Ok(Self {
            verifykit,
            screens: ScreenData::default(),
            verifiers,
            sandbox,
        })
    }

    /// VerifyKit's methods and texts in `language` (`init`), reused for a few minutes (an
    /// error for a few seconds: [`ScreenData::init`]).
    pub async fn init(
        &self,
        language: Option<&Language>,
        context: &RequestContext,
    ) -> Answer<ValidationMethodList> {
        self.screens.init(&self.verifykit, language, context).await
    }

    /// VerifyKit's countries in `language` (`country`), `region`'s first, reused as
    /// [`init`](Self::init) is ([`ScreenData::country`]).
    pub async fn country(
        &self,
        region: Option<&str>,
        language: Option<&Language>,
        context: &RequestContext,
    ) -> Answer<Vec<Country>> {
        self.screens
            .country(&self.verifykit, region, language, context)
            .await
    }

    /// The verifier of `choice`, if its provider is configured.
    pub fn verifier(&self, choice: Choice) -> Option<&Verifier> {
        self.verifiers.get(&choice)
    }

    /// The verifier that checks `handle`: the guarded router of the handle's own route (the
    /// route the handle names, whichever choice started it).
    ///
    /// The mixed router would take the check too (the guard has no provider check, and the
    /// router sends a check to the route its handle names); the handle's one route is used so
    /// that a reverse flow's session is also resolved at that provider alone, where the mixed
    /// router would try every resolver in rule order. Its guard shares the store of the
    /// others, so the wrong-code limits hold whichever guard counts.
    pub fn for_handle(&self, handle: &Verification) -> Option<&Verifier> {
        let route = handle.extra_str(EXTRA_ROUTE)?;
        Choice::parse(route)
            .filter(|c| *c != Choice::Auto)
            .and_then(|c| self.verifiers.get(&c))
    }

    /// The choices this backend offers.
    pub fn choices(&self) -> impl Iterator<Item = Choice> + '_ {
        self.verifiers.keys().copied()
    }

    /// How long the guard makes a visitor wait between two sends to one number (its resend
    /// cooldown), if it does.
    pub fn resend_cooldown(&self) -> Option<Duration> {
        guard_config().resend_cooldown_secs.map(Duration::from_secs)
    }
}

/// The guard's rules: the defaults, with a per-IP limit for a demo whose one visitor is on
/// loopback.
fn guard_config() -> GuardConfig {
    GuardConfig {
        per_ip: Some(Limit::per_hour(30)),
        ..GuardConfig::default()
    }
}

/// The automatic rules: Turkey to VerifyKit, Colombia and Mexico to Verifik, North America
/// (+1) to Twilio, everything else (reverse flows included: only VerifyKit can take them) in
/// route order.
fn auto_rules(names: &[String]) -> Vec<Rule> {
    let has = |name: &str| names.iter().any(|n| n == name);
    let ordered = |first: &str| -> Vec<String> {
        let mut order: Vec<String> = names.iter().filter(|n| *n == first).cloned().collect();
        order.extend(names.iter().filter(|n| *n != first).cloned());
        order
    };
    let mut rules = Vec::new();
    if has("verifykit") {
        rules.push(Rule::to(ordered("verifykit")).regions(["TR"]));
    }
    if has("verifik") {
        rules.push(Rule::to(ordered("verifik")).calling_codes([57, 52]));
    }
    if has("twilio") {
        rules.push(Rule::to(ordered("twilio")).calling_codes([1]));
    }
    rules.push(Rule::to(names.to_vec()));
    rules
}

/// A route built through the registry from `variables`.
fn build(name: &str, variables: &[(&str, String)]) -> Result<Route> {
    let vars: BTreeMap<&str, &String> = variables.iter().map(|(k, v)| (*k, v)).collect();
    let provider =
        Registry::with_builtin().build_named(name, |v| vars.get(v).map(|s| (*s).clone()))?;
    Ok(route(name, provider))
}

/// A route built through the registry from the environment.
fn build_from_env(name: &str) -> Result<Route> {
    let provider = Registry::with_builtin().build_named(name, |v| std::env::var(v).ok())?;
    Ok(route(name, provider))
}

fn route(name: &str, provider: phone_verify::Provider) -> Route {
    let route = Route::new(name, provider.verifier);
    match provider.resolver {
        Some(resolver) => route.with_resolver(resolver),
        None => route,
    }
}
