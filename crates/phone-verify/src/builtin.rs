//! The factories of the built-in providers: each provider crate's `from_lookup`, fed by the
//! registry's [`Settings`].

#[cfg(any(
    feature = "verifykit",
    feature = "verifik",
    feature = "verigator",
    feature = "twilio"
))]
use phone_verify_core::Result;

#[cfg(any(
    feature = "verifykit",
    feature = "verifik",
    feature = "verigator",
    feature = "twilio"
))]
use crate::registry::{Provider, Settings};

/// VerifyKit: a verifier and a session resolver.
#[cfg(feature = "verifykit")]
pub(crate) fn verifykit(settings: &Settings<'_>) -> Result<Provider> {
    let verifier =
        phone_verify_verifykit::VerifyKitBuilder::from_lookup(|name| settings.get(name))?
            .build()?;
    Ok(Provider::both(verifier))
}

/// Verifik: a verifier and a session resolver.
#[cfg(feature = "verifik")]
pub(crate) fn verifik(settings: &Settings<'_>) -> Result<Provider> {
    let verifier =
        phone_verify_verifik::VerifikBuilder::from_lookup(|name| settings.get(name))?.build()?;
    Ok(Provider::both(verifier))
}

/// Messente Verigator: a verifier; Verigator has no sessions.
#[cfg(feature = "verigator")]
pub(crate) fn verigator(settings: &Settings<'_>) -> Result<Provider> {
    let verifier =
        phone_verify_verigator::VerigatorBuilder::from_lookup(|name| settings.get(name))?
            .build()?;
    Ok(Provider::new(std::sync::Arc::new(verifier)))
}

/// Twilio Verify: a verifier; Twilio Verify has no sessions.
#[cfg(feature = "twilio")]
pub(crate) fn twilio(settings: &Settings<'_>) -> Result<Provider> {
    let verifier =
        phone_verify_twilio::TwilioBuilder::from_lookup(|name| settings.get(name))?.build()?;
    Ok(Provider::new(std::sync::Arc::new(verifier)))
}
