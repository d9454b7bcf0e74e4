//! Configuration files read with `ProviderConfig::from_toml` and `RoutingConfig::from_toml`:
//! a malformed file is an `InvalidInput` error with the place, never the file's text, which
//! `toml::from_str`'s own error holds and prints.

use phone_verify::{ErrorKind, ProviderConfig, Registry};

/// A credential in the file and a misspelt table: the error says where, and neither its
/// `Display` nor its `Debug` holds the credential.
#[test]
fn a_malformed_provider_file_never_shows_its_text() {
    let text = r#"
provider = "acme"

[settings]
token = "canary"

[setings]
mode = "manual"
"#;
    let err = ProviderConfig::from_toml(text).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(
        err.message().starts_with("7:2: unknown field `setings`"),
        "{err}"
    );
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains("canary"), "{shown}");
    // What the error replaces: toml's own error holds the file, credential included.
    let raw = toml::from_str::<ProviderConfig>(text).unwrap_err();
    assert!(format!("{raw:?}").contains("canary"));

    let config =
        ProviderConfig::from_toml("provider = \"acme\"\nsettings = { token = \"t\" }").unwrap();
    assert_eq!(config.provider, "acme");
    assert_eq!(config.settings.len(), 1);
}

/// A value of the wrong type on the credential's line: the setting is named, its value and
/// the line are not.
#[test]
fn a_wrong_setting_names_the_setting_only() {
    let err = ProviderConfig::from_toml(
        "provider = \"acme\"\nsettings = { token = [\"canary\"], mode = \"manual\" }",
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(
        err.message()
            .contains("setting \"token\": invalid type: sequence"),
        "{err}"
    );
    assert!(!format!("{err} {err:?}").contains("canary"), "{err:?}");
}

/// The same for a router's file, whose routes hold credentials.
#[cfg(feature = "router")]
#[test]
fn a_malformed_routing_file_never_shows_its_text() {
    use phone_verify::RoutingConfig;

    let text = r#"
[[routes]]
name = "main"
provider = "acme"
settings = { token = "canary" }

[[rulez]]
routes = ["main"]
"#;
    let err = RoutingConfig::from_toml(text).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(
        err.message().starts_with("7:3: unknown field `rulez`"),
        "{err}"
    );
    assert!(!format!("{err} {err:?}").contains("canary"), "{err:?}");
    let twice = RoutingConfig::from_toml(
        "[[routes]]\nname = \"main\"\nprovider = \"acme\"\n\
         [routes.settings]\ntoken = \"canary\"\ntoken = \"canary-2\"\n",
    )
    .unwrap_err();
    assert!(
        !format!("{twice} {twice:?}").contains("canary"),
        "{twice:?}"
    );
    let config = RoutingConfig::from_toml(&text.replace("rulez", "rules")).unwrap();
    assert_eq!(config.routes[0].settings.len(), 1);
}

/// An `{ env = … }` whose "name" is no variable's name (a value pasted in the wrong place) is
/// refused without being shown.
#[test]
fn an_env_reference_must_be_a_variable_name() {
    let err = ProviderConfig::from_toml(
        "provider = \"acme\"\nsettings = { token = { env = \"sk live/abc\" } }",
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(
        err.message()
            .contains("setting \"token\": { \"env\": \"VARIABLE\" } needs the name"),
        "{err}"
    );
    assert!(!format!("{err} {err:?}").contains("sk live"), "{err:?}");
    let config = ProviderConfig::from_toml(
        "provider = \"acme\"\nsettings = { token = { env = \"ACME_TOKEN\" } }",
    )
    .unwrap();
    assert_eq!(
        format!("{:?}", config.settings["token"]),
        r#"Env("ACME_TOKEN")"#
    );
    let unknown = Registry::new().build(&config).unwrap_err();
    assert_eq!(unknown.kind(), ErrorKind::InvalidInput);
}

/// `settings` written as a value instead of a table (a credential pasted in its place) is
/// refused without quoting it, in TOML and in JSON, for providers and for routes.
#[test]
fn settings_that_are_no_table_are_never_quoted() {
    for text in [
        "provider = \"acme\"\nsettings = \"canary\"\n",
        "provider = \"acme\"\nsettings = 1234567\n",
        "provider = \"acme\"\nsettings = [\"canary\"]\n",
    ] {
        let err = ProviderConfig::from_toml(text).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        let shown = format!("{err} {err:?}");
        assert!(shown.contains("settings must be a table"), "{shown}");
        assert!(
            !shown.contains("canary") && !shown.contains("1234567"),
            "{shown}"
        );
    }
    let err = serde_json::from_str::<ProviderConfig>(r#"{"provider":"acme","settings":"canary"}"#)
        .unwrap_err();
    assert!(!format!("{err} {err:?}").contains("canary"), "{err}");
}
