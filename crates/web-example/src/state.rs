//! [`AppState`]: what every handler shares.

use std::sync::Arc;

use crate::backend::Backend;
use crate::proxy::TrustedProxies;
use crate::session::Sessions;

/// The state every handler shares.
#[derive(Debug, Clone)]
pub struct AppState(Arc<Inner>);

/// What [`AppState`] holds.
#[derive(Debug)]
pub struct Inner {
    /// The SDK side.
    pub backend: Backend,
    /// The visitors' sessions.
    pub sessions: Sessions,
    /// The reverse proxies believed about the visitor, and the header they name it in.
    pub proxies: TrustedProxies,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// The state of an app over `backend`, with the default session store.
    pub fn new(backend: Backend) -> Self {
        Self::with_sessions(backend, Sessions::default())
    }

    /// The state of an app over `backend` keeping its visitors in `sessions` (its capacity,
    /// expiry and limit per address).
    pub fn with_sessions(backend: Backend, sessions: Sessions) -> Self {
        Self::from(Inner {
            backend,
            sessions,
            proxies: TrustedProxies::default(),
        })
    }
}

impl From<Inner> for AppState {
    /// The state of an app with every part given (trusted proxies included).
    fn from(inner: Inner) -> Self {
        Self(Arc::new(inner))
    }
}
