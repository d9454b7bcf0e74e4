//! The built-in providers: [`Registry::with_builtin`] and the factories it registers, each
//! provider crate's `from_secret_lookup` fed by the registry's [`Settings::get_secret`], so that
//! no credential is ever in a plain `String` on the way.

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
    let verifier = phone_verify_verifykit::VerifyKitBuilder::from_secret_lookup(|name| {
        settings.get_secret(name)
    })?
    .build()?;
    Ok(Provider::both(verifier))
}

/// Verifik: a verifier and a session resolver.
#[cfg(feature = "verifik")]
fn verifik(settings: &Settings<'_>) -> Result<Provider> {
    let verifier =
        phone_verify_verifik::VerifikBuilder::from_secret_lookup(|name| settings.get_secret(name))?
            .build()?;
    Ok(Provider::both(verifier))
}

/// Messente Verigator: a verifier; Verigator has no sessions.
#[cfg(feature = "verigator")]
fn verigator(settings: &Settings<'_>) -> Result<Provider> {
    let verifier = phone_verify_verigator::VerigatorBuilder::from_secret_lookup(|name| {
        settings.get_secret(name)
    })?
    .build()?;
    Ok(Provider::new(std::sync::Arc::new(verifier)))
}

/// Twilio Verify: a verifier; Twilio Verify has no sessions.
#[cfg(feature = "twilio")]
fn twilio(settings: &Settings<'_>) -> Result<Provider> {
    let verifier =
        phone_verify_twilio::TwilioBuilder::from_secret_lookup(|name| settings.get_secret(name))?
            .build()?;
    Ok(Provider::new(std::sync::Arc::new(verifier)))
}

#[cfg(test)]
mod tests {
    use phone_verify_core::ProviderId;

    use crate::registry::{BUILTIN_PROVIDERS, Registry};

    /// Each enabled built-in provider, built from a configuration with every kind of
    /// credential it takes, reads its credentials as secrets only. Each is marked secret in
    /// the provider's settings, so that the provider's `EnvReader` refuses to give it as plain
    /// text (a panic here: tests are debug builds); and none is read through the registry's
    /// plain `get` and `require`, whose `String`s are never wiped.
    #[cfg(any(
        feature = "verifykit",
        feature = "verifik",
        feature = "verigator",
        feature = "twilio"
    ))]
    #[test]
    fn credentials_are_never_read_as_plain_strings() {
        use std::collections::BTreeMap;

        use phone_verify_core::kit::EnvSetting;
        use phone_verify_core::secrecy::SecretString;

        use crate::registry::{Provider, Settings, Source};

        /// A provider, its factory, the credential variables it must read, the variables its
        /// settings mark secret, and its settings.
        struct Case {
            name: &'static str,
            build: fn(&Settings<'_>) -> phone_verify_core::Result<Provider>,
            credentials: &'static [&'static str],
            secrets: fn() -> Vec<&'static str>,
            settings: &'static [(&'static str, &'static str)],
        }

        /// The variables of `S` marked secret.
        fn secrets<S: EnvSetting>() -> Vec<&'static str> {
            S::ALL
                .iter()
                .filter(|setting| setting.is_secret())
                .map(|setting| setting.name())
                .collect()
        }

        let cases = [
            #[cfg(feature = "verifykit")]
            Case {
                name: "verifykit",
                build: super::verifykit,
                secrets: secrets::<phone_verify_verifykit::VerifyKitSetting>,
                credentials: &["VERIFYKIT_SERVER_KEY"],
                settings: &[("server_key", "k")],
            },
            #[cfg(feature = "verifik")]
            Case {
                name: "verifik",
                build: super::verifik,
                secrets: secrets::<phone_verify_verifik::VerifikSetting>,
                credentials: &["VERIFIK_TOKEN"],
                settings: &[("token", "t")],
            },
            #[cfg(feature = "verigator")]
            Case {
                name: "verigator",
                build: super::verigator,
                secrets: secrets::<phone_verify_verigator::VerigatorSetting>,
                credentials: &["VERIGATOR_USERNAME", "VERIGATOR_PASSWORD"],
                settings: &[("username", "u"), ("password", "p"), ("service_id", "s-1")],
            },
            // The sandbox's credentials, once none are found.
            #[cfg(feature = "verigator")]
            Case {
                name: "verigator",
                build: super::verigator,
                secrets: secrets::<phone_verify_verigator::VerigatorSetting>,
                credentials: &["VERIGATOR_USERNAME", "VERIGATOR_PASSWORD"],
                settings: &[
                    ("sandbox_url", "http://127.0.0.1:8025"),
                    ("service_id", "s-1"),
                ],
            },
            #[cfg(feature = "twilio")]
            Case {
                name: "twilio",
                build: super::twilio,
                secrets: secrets::<phone_verify_twilio::TwilioSetting>,
                credentials: &["TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"],
                settings: &[
                    ("account_sid", "AC0123456789abcdef0123456789abcdef"),
                    ("auth_token", "t"),
                    ("service_sid", "VA0123456789abcdef0123456789abcdef"),
                ],
            },
            #[cfg(feature = "twilio")]
            Case {
                name: "twilio",
                build: super::twilio,
                secrets: secrets::<phone_verify_twilio::TwilioSetting>,
                credentials: &[
                    "TWILIO_ACCOUNT_SID",
                    "TWILIO_API_KEY_SID",
                    "TWILIO_API_KEY_SECRET",
                    "TWILIO_AUTH_TOKEN",
                ],
                settings: &[
                    ("account_sid", "AC0123456789abcdef0123456789abcdef"),
                    ("api_key_sid", "SK0123456789abcdef0123456789abcdef"),
                    ("api_key_secret", "s"),
                    ("service_sid", "VA0123456789abcdef0123456789abcdef"),
                ],
            },
            #[cfg(feature = "twilio")]
            Case {
                name: "twilio",
                build: super::twilio,
                secrets: secrets::<phone_verify_twilio::TwilioSetting>,
                credentials: &["TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"],
                settings: &[("sandbox_url", "http://127.0.0.1:8025")],
            },
        ];
        for case in cases {
            let values: BTreeMap<String, SecretString> = case
                .settings
                .iter()
                .map(|(k, v)| ((*k).to_owned(), SecretString::from(*v)))
                .collect();
            let settings = Settings::new(case.name, Source::Config(&values));
            let name = case.name;
            let marked = (case.secrets)();
            (case.build)(&settings).unwrap_or_else(|e| panic!("{name}: {e}"));
            let read = settings.read.borrow();
            for credential in case.credentials {
                assert!(
                    marked.contains(credential),
                    "{name} does not mark {credential} secret"
                );
                assert!(
                    read.contains(*credential),
                    "{name} did not read {credential}"
                );
            }
            let plain = settings.read_plain.borrow();
            assert!(plain.is_empty(), "{name} read {plain:?} as plain strings");
        }
    }

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
