//! [`Route`]: a named verifier, with its session resolver when it has one.

use std::sync::Arc;

use phone_verify_core::{Error, PhoneVerifier, Result, SessionResolver};

/// The key under which the router records the route name in a handle's `extras`.
///
/// The handle keeps the provider's own id and reference, so the provider crate alone can still
/// check it; the router reads this key to send the check back to the route that started it.
pub const EXTRA_ROUTE: &str = "route";

/// A named way to reach a provider: a verifier, and optionally its session resolver.
///
/// Two routes may use the same provider with different accounts; the name, not the provider,
/// identifies the route in handles, rules, health and metrics.
#[derive(Clone, Debug)]
pub struct Route {
    pub(crate) name: String,
    pub(crate) verifier: Arc<dyn PhoneVerifier>,
    pub(crate) resolver: Option<Arc<dyn SessionResolver>>,
}

impl Route {
    /// A route named `name` (1-64 lowercase letters, digits, `-` or `_`; checked by
    /// [`RouterBuilder::build`](crate::RouterBuilder::build)) over `verifier`.
    pub fn new(name: impl Into<String>, verifier: Arc<dyn PhoneVerifier>) -> Self {
        Self {
            name: name.into(),
            verifier,
            resolver: None,
        }
    }

    /// Adds the route's session resolver.
    #[must_use]
    pub fn with_resolver(mut self, resolver: Arc<dyn SessionResolver>) -> Self {
        self.resolver = Some(resolver);
        self
    }

    /// The route's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The route's verifier.
    pub fn verifier(&self) -> &Arc<dyn PhoneVerifier> {
        &self.verifier
    }
}

/// Checks a route name: the same alphabet as provider ids.
pub(crate) fn validate_name(name: &str) -> Result<()> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if valid {
        Ok(())
    } else {
        Err(Error::invalid_input(format!(
            "route name {name:?} must be 1-64 lowercase letters, digits, '-' or '_'"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_route_keeps_its_name() {
        let verifier: Arc<dyn PhoneVerifier> =
            Arc::new(phone_verify_testkit::memory::InMemoryVerifier::new());
        assert_eq!(Route::new("tr-primary", verifier).name(), "tr-primary");
    }

    #[test]
    fn names_use_the_provider_id_alphabet() {
        assert!(validate_name("tr-primary_2").is_ok());
        for bad in ["", "TR", "a b", "é", &"x".repeat(65)] {
            assert!(validate_name(bad).is_err(), "{bad:?}");
        }
    }
}
