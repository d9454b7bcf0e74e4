//! [`ScreenData`]: VerifyKit's `init` and `country` answers, kept a few minutes.
//!
//! Every home page shows VerifyKit's methods and texts (`init`) and its country list
//! (`country`); they follow VerifyKit's configuration, not the visitor, so one answer per
//! language serves every page for [`SCREEN_DATA_TTL`]. Without it each page load is two
//! requests on the server key's quota, and any visitor can spend it. The visitor's region is
//! put first in the list here rather than asked of VerifyKit: a key of region and language
//! would give a visitor cycling the regions of its `Accept-Language` one request per page
//! load. A failure that is not about the visitor (VerifyKit down or unreachable, the server key
//! refused or out of quota) is kept too, for [`ERROR_TTL`], so a failing VerifyKit is not asked
//! again on every page load; one that may be about the visitor (a rate limit on its address,
//! say) is not, or one visitor's refusal would be every visitor's page.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use lru::LruCache;
use phone_verify::providers::verifykit::{Country, ValidationMethodList, VerifyKitClient};
use phone_verify::{Error, ErrorKind, Language, RequestContext};

/// How long an answer is reused.
pub const SCREEN_DATA_TTL: Duration = Duration::from_secs(300);

/// How long a failed answer is reused.
pub const ERROR_TTL: Duration = Duration::from_secs(30);

/// How many languages are kept (the screens' three, and none).
const CAPACITY: NonZeroUsize = NonZeroUsize::new(8).unwrap();

/// An answer of VerifyKit, or its error, shared by the pages that show it.
pub type Answer<V> = Result<Arc<V>, Arc<Error>>;

type Kept<V> = Mutex<LruCache<Option<String>, (Instant, Answer<V>)>>;

/// `init` and `country`, by language.
#[derive(Debug)]
pub struct ScreenData {
    init: Kept<ValidationMethodList>,
    country: Kept<Vec<Country>>,
}

impl Default for ScreenData {
    fn default() -> Self {
        Self {
            init: Mutex::new(LruCache::new(CAPACITY)),
            country: Mutex::new(LruCache::new(CAPACITY)),
        }
    }
}

impl ScreenData {
    /// `init` in `language`, asked of `client` when no answer younger than
    /// [`SCREEN_DATA_TTL`] (an error younger than [`ERROR_TTL`]) is kept.
    pub async fn init(
        &self,
        client: &VerifyKitClient,
        language: Option<&Language>,
        context: &RequestContext,
    ) -> Answer<ValidationMethodList> {
        let key = language.map(|l| l.as_str().to_owned());
        if let Some(kept) = fresh(&self.init, key.as_ref(), Instant::now()) {
            return kept;
        }
        let answer = client.init(language, context).await;
        keep(&self.init, key, answer, Instant::now())
    }

    /// `country` in `language`, kept as [`init`](Self::init) is, with `region`'s country
    /// (ISO 3166-1 alpha-2, any case) first.
    pub async fn country(
        &self,
        client: &VerifyKitClient,
        region: Option<&str>,
        language: Option<&Language>,
        context: &RequestContext,
    ) -> Answer<Vec<Country>> {
        self.country_at(client, region, language, context, Instant::now())
            .await
    }

    /// [`country`](Self::country) at `now`.
    pub(crate) async fn country_at(
        &self,
        client: &VerifyKitClient,
        region: Option<&str>,
        language: Option<&Language>,
        context: &RequestContext,
        now: Instant,
    ) -> Answer<Vec<Country>> {
        let key = language.map(|l| l.as_str().to_owned());
        let all = if let Some(kept) = fresh(&self.country, key.as_ref(), now) {
            kept
        } else {
            let answer = client.country(None, language, context).await;
            keep(&self.country, key, answer, now)
        };
        Ok(region_first(all?, region))
    }
}

/// `countries` with `region`'s first (the others in VerifyKit's order).
fn region_first(countries: Arc<Vec<Country>>, region: Option<&str>) -> Arc<Vec<Country>> {
    let Some(at) = region.and_then(|region| {
        countries
            .iter()
            .position(|c| c.country_code.eq_ignore_ascii_case(region))
    }) else {
        return countries;
    };
    if at == 0 {
        return countries;
    }
    let mut reordered = Vec::clone(&countries);
    let first = reordered.remove(at);
    reordered.insert(0, first);
    Arc::new(reordered)
}

/// The answer kept under `key`, if it is still fresh at `now`.
fn fresh<V>(kept: &Kept<V>, key: Option<&String>, now: Instant) -> Option<Answer<V>> {
    let mut kept = kept.lock().unwrap_or_else(PoisonError::into_inner);
    let (at, answer) = kept.get(&key.cloned())?;
    let ttl = if answer.is_ok() {
        SCREEN_DATA_TTL
    } else {
        ERROR_TTL
    };
    (now.saturating_duration_since(*at) < ttl).then(|| answer.clone())
}

/// Keeps `answer` under `key` from `now`, and returns it.
fn keep<V>(
    kept: &Kept<V>,
    key: Option<String>,
    answer: phone_verify::Result<V>,
    now: Instant,
) -> Answer<V> {
    let answer = answer.map(Arc::new).map_err(Arc::new);
    if answer
        .as_ref()
        .map_or_else(|err| shared_failure(err.kind()), |_| true)
    {
        kept.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .put(key, (now, answer.clone()));
    }
    answer
}

/// Whether a failure of kind `kind` is every visitor's, not only the one whose request met it:
/// VerifyKit down or unreachable, or the server key refused or out of quota.
fn shared_failure(kind: ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::Transport
            | ErrorKind::Timeout
            | ErrorKind::ProviderUnavailable
            | ErrorKind::Unauthorized
            | ErrorKind::QuotaExhausted
    )
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use phone_verify::providers::verifykit::VerifyKitBuilder;
    use phone_verify_sandbox::{Fault, FaultAction, Provider, Sandbox, SandboxConfig};

    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    #[tokio::test]
    async fn countries_are_kept_by_language_with_the_region_first_and_errors_briefly() {
        let sandbox = Sandbox::start(SandboxConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            ..SandboxConfig::default()
        })
        .await
        .unwrap();
        let client = VerifyKitBuilder::sandbox(&sandbox.base_url())
            .build_client()
            .unwrap();
        let context = RequestContext::new().end_user_ip("203.0.113.9".parse().unwrap());
        let screens = ScreenData::default();
        let asked = || {
            let log = sandbox.requests_of(Provider::VerifyKit);
            log.requests
                .iter()
                .filter(|r| r.path.ends_with("/country"))
                .count()
        };
        let refused = FaultAction::Status {
            status: 401,
            body: None,
        };
        sandbox.inject_fault(
            Fault::new(Provider::VerifyKit, refused)
                .path("/v1.0/country")
                .times(100),
        );
        let t0 = Instant::now();
        let at = |region, now| screens.country_at(&client, region, None, &context, now);
        assert!(at(None, t0).await.is_err());
        let almost = (t0 + ERROR_TTL).checked_sub(SECOND).unwrap();
        assert!(at(Some("DE"), almost).await.is_err());
        assert_eq!(asked(), 1, "the error is kept");
        assert!(at(None, t0 + ERROR_TTL).await.is_err());
        assert_eq!(asked(), 2, "for a while");
        sandbox.clear_faults();
        let t1 = t0 + 2 * ERROR_TTL;
        let first = |countries: Answer<Vec<Country>>| countries.unwrap()[0].country_code.clone();
        assert_eq!(first(at(Some("de"), t1).await), "DE");
        assert_eq!(first(at(Some("TR"), t1).await), "TR");
        assert_eq!(first(at(Some("XX"), t1).await), first(at(None, t1).await));
        let almost = (t1 + SCREEN_DATA_TTL).checked_sub(SECOND).unwrap();
        assert_eq!(first(at(Some("MX"), almost).await), "MX");
        assert_eq!(asked(), 3, "one answer for every region");
        assert!(at(None, t1 + SCREEN_DATA_TTL).await.is_ok());
        assert_eq!(asked(), 4);
        // A refusal that may be about the visitor (its address rate-limited) is not kept.
        sandbox.inject_fault(
            Fault::new(
                Provider::VerifyKit,
                FaultAction::Status {
                    status: 429,
                    body: None,
                },
            )
            .path("/v1.0/country")
            .times(100),
        );
        let t2 = t1 + 2 * SCREEN_DATA_TTL;
        assert!(at(None, t2).await.is_err());
        sandbox.clear_faults();
        // A kept error would be this visitor's answer too.
        assert!(
            at(None, t2).await.is_ok(),
            "the next visitor is asked for again"
        );
    }
}
