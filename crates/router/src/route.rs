//! [`Route`]: a named verifier, with its session resolver when it has one; the handle's
//! [`EXTRA_ROUTE`] key, and the routes of nested levels kept as `route.N`.

use std::sync::Arc;

use phone_verify_core::{Error, Extras, PhoneVerifier, Result, SessionResolver, Verification};

/// The key under which the router records the route name in a handle's `extras`.
///
/// The handle keeps the provider's own id and reference, so the provider crate alone can still
/// check it; the router reads this key to send the check back to the route that started it.
/// The key is the router's, and so are the keys `route.1`, `route.2`, …: a start whose handle
/// already carries `route` (a router over one provider nested as a route, or a provider that
/// writes the key) keeps that value under `route.N`, N one past the highest it keeps
/// (`route.1`, then `route.2` a level up), before writing its route's name; a check
/// hands the route's verifier the handle with `route` set back to the highest `route.N`'s
/// value and that key removed, and a handle without `route.N` as it is. So a router over one
/// provider works as a route of another; a router over several providers (it reports
/// [`ROUTER_ID`](crate::ROUTER_ID)) is refused as a route at build.
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

/// The N of a `route.N` key (a positive integer, as written: no sign, no leading zero).
fn kept_at(key: &str) -> Option<u64> {
    let n = key.strip_prefix(EXTRA_ROUTE)?.strip_prefix('.')?;
    if n.starts_with('0') || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    n.parse().ok()
}

/// Writes `name` as the handle's route. A route already there is kept as `route.N`, N one
/// past the highest `route.N` the handle keeps (1 for the first), and N is returned: the last
/// kept is the first [`popped`], whatever else wrote such keys.
pub(crate) fn push_route(extras: &mut Extras, name: &str) -> Option<u64> {
    let found = extras.insert(EXTRA_ROUTE, name.to_owned())?;
    let n = extras
        .keys()
        .filter_map(kept_at)
        .max()
        .map_or(1, |highest| highest.saturating_add(1));
    extras.insert(format!("{EXTRA_ROUTE}.{n}"), found);
    Some(n)
}

/// Whether `verification` keeps routes as `route.N`: the route's verifier is a router, which
/// checks the handle's provider against its own route.
pub(crate) fn keeps_routes(verification: &Verification) -> bool {
    verification.extras.keys().any(|key| kept_at(key).is_some())
}

/// The handle the route's verifier made, when `verification` keeps routes as `route.N`: a
/// clone whose `route` is the highest `route.N`'s value, that key removed. `None` when it
/// keeps none: the verifier takes `verification` as it is.
pub(crate) fn popped(verification: &Verification) -> Option<Verification> {
    let (_, key) = verification
        .extras
        .keys()
        .filter_map(|key| kept_at(key).map(|n| (n, key)))
        .max_by_key(|(n, _)| *n)?;
    let mut below = verification.clone();
    let value = below.extras.remove(key)?;
    below.extras.insert(EXTRA_ROUTE, value);
    Some(below)
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
    fn only_route_dot_a_positive_integer_keeps_a_route() {
        assert_eq!(kept_at("route.1"), Some(1));
        assert_eq!(kept_at("route.12"), Some(12));
        for other in [
            "route",
            "route.",
            "route.0",
            "route.01",
            "route.+1",
            "route.1a",
            "routes.1",
            "route.99999999999999999999",
        ] {
            assert_eq!(kept_at(other), None, "{other:?}");
        }
    }

    #[test]
    fn a_route_found_at_start_is_kept_one_past_the_highest_route_n() {
        let mut extras = Extras::new();
        assert_eq!(push_route(&mut extras, "a"), None, "nothing to keep");
        assert_eq!(extras.keys().collect::<Vec<_>>(), ["route"]);
        assert_eq!(push_route(&mut extras, "b"), Some(1));
        assert_eq!(push_route(&mut extras, "c"), Some(2));
        let kept: Vec<_> = extras
            .iter()
            .map(|(k, v)| (k, v.as_str().unwrap()))
            .collect();
        assert_eq!(kept, [("route", "c"), ("route.1", "a"), ("route.2", "b")]);

        // Past a gap, so that the last kept is the first popped; the value moves as it is, a
        // string or not.
        let mut extras: Extras = [("route", serde_json::json!(7)), ("route.2", "x".into())]
            .into_iter()
            .collect();
        assert_eq!(push_route(&mut extras, "d"), Some(3));
        assert_eq!(extras.get("route.3"), Some(&serde_json::json!(7)));
        assert_eq!(extras.get_str("route"), Some("d"));
        let mut handle = Verification::new(
            phone_verify_core::ProviderId::new_static("acme"),
            "r",
            phone_verify_core::Channel::Sms,
        );
        handle.extras = extras;
        assert!(keeps_routes(&handle));
        assert_eq!(
            popped(&handle).unwrap().extras.get("route"),
            Some(&serde_json::json!(7))
        );
        handle.extras = Extras::new();
        assert!(!keeps_routes(&handle));
    }

    #[test]
    fn a_check_gives_back_the_highest_kept_route() {
        let mut handle = Verification::new(
            phone_verify_core::ProviderId::new_static("memory"),
            "ver_1",
            phone_verify_core::Channel::Sms,
        );
        handle.extras.insert("flow", "sms");
        assert_eq!(popped(&handle), None, "nothing kept: the handle as it is");
        handle.extras.insert(EXTRA_ROUTE, "own");
        let inner = handle.clone();
        for outer in ["a", "a", "b"] {
            push_route(&mut handle.extras, outer);
        }
        let mut levels = Vec::new();
        let mut at = handle;
        while let Some(below) = popped(&at) {
            levels.push(at.extra_str(EXTRA_ROUTE).unwrap().to_owned());
            at = below;
        }
        assert_eq!(levels, ["b", "a", "a"]);
        assert_eq!(at, inner, "the handle the provider made");
    }

    #[test]
    fn names_use_the_provider_id_alphabet() {
        assert!(validate_name("tr-primary_2").is_ok());
        for bad in ["", "TR", "a b", "é", &"x".repeat(65)] {
            assert!(validate_name(bad).is_err(), "{bad:?}");
        }
    }
}
