//! [`ScreenData`]: VerifyKit's `init` and `country` answers, kept a few minutes.
//!
//! Every home page shows VerifyKit's methods and texts (`init`) and its country list
//! (`country`); they follow VerifyKit's configuration, not the visitor, so one answer per
//! language (and region) serves every page for [`SCREEN_DATA_TTL`]. Without it each page load
//! is two requests on the server key's quota, and any visitor can spend it.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use lru::LruCache;
use phone_verify::providers::verifykit::{Country, ValidationMethodList, VerifyKitClient};
use phone_verify::{Language, RequestContext, Result};

/// How long an answer is reused.
pub const SCREEN_DATA_TTL: Duration = Duration::from_secs(300);

/// How many languages (and language–region pairs) are kept.
const CAPACITY: NonZeroUsize = NonZeroUsize::new(512).unwrap();

type Kept<K, V> = Mutex<LruCache<K, (Instant, Arc<V>)>>;

/// `init` by language, `country` by region and language.
#[derive(Debug)]
pub struct ScreenData {
    init: Kept<Option<String>, ValidationMethodList>,
    country: Kept<(Option<String>, Option<String>), Vec<Country>>,
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
    /// [`SCREEN_DATA_TTL`] is kept. Errors are not kept.
    pub async fn init(
        &self,
        client: &VerifyKitClient,
        language: Option<&Language>,
        context: &RequestContext,
    ) -> Result<Arc<ValidationMethodList>> {
        let key = language.map(|l| l.as_str().to_owned());
        if let Some(kept) = fresh(&self.init, &key) {
            return Ok(kept);
        }
        let answer = Arc::new(client.init(language, context).await?);
        keep(&self.init, key, &answer);
        Ok(answer)
    }

    /// `country` for `region` in `language`, kept as [`init`](Self::init) is.
    pub async fn country(
        &self,
        client: &VerifyKitClient,
        region: Option<&str>,
        language: Option<&Language>,
        context: &RequestContext,
    ) -> Result<Arc<Vec<Country>>> {
        let key = (
            region.map(str::to_owned),
            language.map(|l| l.as_str().to_owned()),
        );
        if let Some(kept) = fresh(&self.country, &key) {
            return Ok(kept);
        }
        let answer = Arc::new(client.country(region, language, context).await?);
        keep(&self.country, key, &answer);
        Ok(answer)
    }
}

/// The answer kept under `key`, if it is younger than [`SCREEN_DATA_TTL`].
fn fresh<K: std::hash::Hash + Eq, V>(kept: &Kept<K, V>, key: &K) -> Option<Arc<V>> {
    let mut kept = kept.lock().unwrap_or_else(PoisonError::into_inner);
    match kept.get(key) {
        Some((at, answer)) if at.elapsed() < SCREEN_DATA_TTL => Some(Arc::clone(answer)),
        _ => None,
    }
}

fn keep<K: std::hash::Hash + Eq, V>(kept: &Kept<K, V>, key: K, answer: &Arc<V>) {
    kept.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .put(key, (Instant::now(), Arc::clone(answer)));
}
