//! Messente Verigator: SMS PINs of a service's users (`POST …/users/{uid}/auth`, checked with
//! `PUT …/users/{uid}/auth`). Verigator has no sessions: `check` only.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context as _, Result, ensure};
use async_trait::async_trait;
use phone_verify_core::http::ConfigureHttp;
use phone_verify_core::{PhoneVerifier, SessionResolver, StartRequest, Verification};
use phone_verify_sandbox::SandboxHandle;
use phone_verify_verigator::{EXTRA_SERVICE_ID, Verigator, VerigatorBuilder};
use serde::{Deserialize, Serialize};

use super::{Op, Phones, Side, Target, boxed, codes_by_reference, prepare, sdk_check_op};

/// Users per service when preparing checks (one fresh verifier per service).
const USERS_PER_SERVICE: usize = 50;

/// Verigator against the sandbox.
#[derive(Debug)]
pub(crate) struct VerigatorTarget {
    sandbox: Arc<SandboxHandle>,
    builder: VerigatorBuilder,
    /// The verifier measured, on the service the flows use.
    sdk: Arc<Verigator>,
    /// One pool for the preparation verifiers (one per service).
    prep_client: reqwest::Client,
    raw: Arc<Raw>,
    /// The same on a client of its own: the other side of an A/A run.
    twin: Arc<Raw>,
    phones: Arc<Phones>,
    services: AtomicUsize,
}

/// The hand-written client.
#[derive(Clone, Debug)]
struct Raw {
    client: reqwest::Client,
    base: String,
    service_auth: String,
}

impl VerigatorTarget {
    /// The raw client of `side` (the twin's for an A/A run's second side).
    fn raw_of(&self, side: Side) -> &Arc<Raw> {
        if side == Side::Twin {
            &self.twin
        } else {
            &self.raw
        }
    }

    /// A target on `sandbox`, with a fresh service for the flows.
    pub(crate) async fn new(sandbox: Arc<SandboxHandle>, phones: Arc<Phones>) -> Result<Self> {
        let builder = VerigatorBuilder::sandbox(&sandbox.base_url());
        let service = builder
            .build_client()?
            .create_service("flows.bench.example", "Bench flows")
            .await
            .context("creating a Verigator service")?;
        let sdk = builder
            .clone()
            .service_id(service.id.clone())
            .build()
            .context("building the Verigator verifier")?;
        let raw = Raw {
            client: super::raw_client()?,
            base: sandbox.verigator_url(),
            service_auth: sandbox.config().verigator_service_auth(),
        };
        let twin = Raw {
            client: super::raw_client()?,
            ..raw.clone()
        };
        Ok(Self {
            sandbox,
            builder,
            sdk: Arc::new(sdk),
            prep_client: reqwest::Client::new(),
            raw: Arc::new(raw),
            twin: Arc::new(twin),
            phones,
            services: AtomicUsize::new(0),
        })
    }

    /// A verifier on a new service, sharing the preparation pool.
    async fn fresh_service_verifier(&self) -> Result<Verigator> {
        let n = self.services.fetch_add(1, Ordering::Relaxed);
        let service = self
            .builder
            .clone()
            .reqwest_client(self.prep_client.clone())
            .build_client()?
            .create_service(&format!("s{n}.bench.example"), &format!("Bench {n}"))
            .await?;
        Ok(self
            .builder
            .clone()
            .reqwest_client(self.prep_client.clone())
            .service_id(service.id)
            .build()?)
    }

    /// `n` SMS authentications started with the SDK, `USERS_PER_SERVICE` per service, with
    /// their PINs.
    async fn started(&self, n: usize) -> Result<Vec<(Verification, String)>> {
        let mut verifiers = Vec::new();
        for _ in 0..n.div_ceil(USERS_PER_SERVICE) {
            verifiers.push(Arc::new(self.fresh_service_verifier().await?));
        }
        let verifiers = Arc::new(verifiers);
        let phones = Arc::clone(&self.phones);
        let handles = prepare(n, 64, move |i| {
            let verifier = Arc::clone(&verifiers[i / USERS_PER_SERVICE]);
            let phone = phones.next();
            async move { Ok(verifier.start(&StartRequest::sms(phone?)).await?) }
        })
        .await?;
        let codes = codes_by_reference(&self.sandbox);
        handles
            .into_iter()
            .map(|h| {
                let code = codes
                    .get(&h.reference)
                    .cloned()
                    .with_context(|| format!("no PIN was sent to user {}", h.reference))?;
                Ok((h, code))
            })
            .collect()
    }
}

#[derive(Serialize)]
struct VerifyBody<'a> {
    token: &'a str,
    method: &'a str,
}

#[derive(Deserialize)]
struct Verified {
    verified: bool,
}

#[async_trait]
impl Target for VerigatorTarget {
    fn name(&self) -> &'static str {
        "verigator"
    }

    fn resolves(&self) -> bool {
        false
    }

    async fn check_op(&self, side: Side, n: usize) -> Result<Op> {
        let started = self.started(n).await?;
        match side {
            Side::Sdk => Ok(sdk_check_op(self.sdk.clone(), started, None)),
            Side::Raw | Side::Twin => {
                let items: Vec<(String, String)> = started
                    .into_iter()
                    .map(|(h, code)| {
                        let service = h.extra_str(EXTRA_SERVICE_ID).context("no service id")?;
                        let url = format!(
                            "{}/service/service/{service}/users/{}/auth",
                            self.raw.base, h.reference
                        );
                        Ok((url, code))
                    })
                    .collect::<Result<_>>()?;
                let items = Arc::new(items);
                let raw = Arc::clone(self.raw_of(side));
                Ok(Arc::new(move |i| {
                    let raw = Arc::clone(&raw);
                    let items = Arc::clone(&items);
                    boxed(async move {
                        let (url, code) = &items[i];
                        let answer: Verified = raw
                            .client
                            .put(url)
                            .header("x-service-auth", &raw.service_auth)
                            .json(&VerifyBody {
                                token: code,
                                method: "sms",
                            })
                            .send()
                            .await?
                            .error_for_status()?
                            .json()
                            .await?;
                        ensure!(answer.verified, "not verified");
                        Ok(())
                    })
                }))
            }
        }
    }

    async fn resolve_op(&self, _side: Side, _pool: usize) -> Result<Op> {
        anyhow::bail!("Verigator has no session resolution")
    }

    fn verifier(&self) -> Arc<dyn PhoneVerifier> {
        self.sdk.clone()
    }

    fn resolver(&self) -> Option<Arc<dyn SessionResolver>> {
        None
    }
}
