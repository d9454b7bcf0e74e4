//! The built-in providers: [`Registry::with_builtin`] and the factories it registers, each
//! provider crate's `from_lookup` fed by the registry's [`Settings`]. `from_lookup` takes a
//! lookup of plain strings, as from the environment, and reads the credentials into
//! `SecretString`s itself.

#[cfg(any(
    feature = "verifykit",
    feature = "verifik",
    feature = "verigator",
    feature = "twilio"
))]
use phone_verify_core::Result;

use crate::registry::Registry;
#[cfg(any(
    feature = "verifykit",
    feature = "verifik",
    feature = "verigator",
    feature = "twilio"
))]
use crate::registry::{Provider, Settings};

/// The built-in providers, defined here so that the registry does not depend on them.
impl Registry {
    /// A registry of the built-in providers whose features are enabled: `verifykit`,
    /// `verifik`, `verigator` and `twilio`.
    pub fn with_builtin() -> Self {
        #[allow(unused_mut)]
        let mut registry = Self::new();
        #[cfg(feature = "verifykit")]
        registry.insert_builtin("verifykit", verifykit);
        #[cfg(feature = "verifik")]
        registry.insert_builtin("verifik", verifik);
        #[cfg(feature = "verigator")]
        registry.insert_builtin("verigator", verigator);
        #[cfg(feature = "twilio")]
        registry.insert_builtin("twilio", twilio);
        registry
    }
}

/// VerifyKit: a verifier and a session resolver.
#[cfg(feature = "verifykit")]
fn verifykit(settings: &Settings<'_>) -> Result<Provider> {
    let verifier =
        phone_verify_verifykit::VerifyKitBuilder::from_lookup(|name| settings.get(name))?
            .build()?;
    Ok(Provider::both(verifier))
}

/// Verifik: a verifier and a session resolver.
#[cfg(feature = "verifik")]
fn verifik(settings: &Settings<'_>) -> Result<Provider> {
    let verifier =
        phone_verify_verifik::VerifikBuilder::from_lookup(|name| settings.get(name))?.build()?;
    Ok(Provider::both(verifier))
}

/// Messente Verigator: a verifier; Verigator has no sessions.
#[cfg(feature = "verigator")]
fn verigator(settings: &Settings<'_>) -> Result<Provider> {
    let verifier =
        phone_verify_verigator::VerigatorBuilder::from_lookup(|name| settings.get(name))?
            .build()?;
    Ok(Provider::new(std::sync::Arc::new(verifier)))
}

/// Twilio Verify: a verifier; Twilio Verify has no sessions.
#[cfg(feature = "twilio")]
fn twilio(settings: &Settings<'_>) -> Result<Provider> {
    let verifier =
        phone_verify_twilio::TwilioBuilder::from_lookup(|name| settings.get(name))?.build()?;
    Ok(Provider::new(std::sync::Arc::new(verifier)))
}

#[cfg(test)]
mod tests {
    use phone_verify_core::ProviderId;

    use crate::registry::{BUILTIN_PROVIDERS, Registry};

    #[test]
    fn builtins_are_registered_under_their_provider_ids() {
        let registry = Registry::with_builtin();
        let enabled = [
            cfg!(feature = "verifykit"),
            cfg!(feature = "verifik"),
            cfg!(feature = "verigator"),
            cfg!(feature = "twilio"),
        ];
        let mut expected: Vec<&str> = BUILTIN_PROVIDERS
            .iter()
            .zip(enabled)
            .filter_map(|(name, on)| on.then_some(*name))
            .collect();
        expected.sort_unstable();
        assert_eq!(registry.names(), expected);
        for name in registry.names() {
            assert_eq!(ProviderId::new(name).unwrap().as_str(), name);
        }
    }
}
