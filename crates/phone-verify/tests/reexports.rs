//! The facade names every domain item core's root exports, so an application that depends on
//! `phone-verify` alone can name a number's type, a handle's extras, a seal key's length and
//! the errors of `Channel::other` and `ProviderId::new` without adding `phone-verify-core`.

use phone_verify::{
    BlankChannel, Channel, ExtraKey, Extras, InvalidProviderId, MAX_TOKEN_LEN, NumberType,
    PhoneNumber, ProviderId, SEAL_KEY_LEN, SealKey, SealKeys, Verification,
};

#[test]
fn number_types_are_named_through_the_facade() {
    let premium: PhoneNumber = "+44 909 879 0000".parse().unwrap();
    assert_eq!(premium.number_type(), NumberType::PremiumRate);
    let mobile: PhoneNumber = "+90 532 123 45 67".parse().unwrap();
    assert_eq!(mobile.number_type(), NumberType::Mobile);
}

#[test]
fn extras_are_named_through_the_facade() {
    let key: ExtraKey = "flow".into();
    let handle = Verification::new(ProviderId::new_static("acme"), "ref-1", Channel::Sms)
        .with_extra(key, "reverse");
    let extras: &Extras = &handle.extras;
    assert_eq!(extras.get_str("flow"), Some("reverse"));
}

#[test]
fn seal_limits_are_named_through_the_facade() {
    let keys = SealKeys::new(SealKey::new(1, [7; SEAL_KEY_LEN]));
    let handle = Verification::new(ProviderId::new_static("acme"), "ref-1", Channel::Sms);
    let token = handle.seal(&keys).unwrap();
    assert!(token.len() <= MAX_TOKEN_LEN);
    assert_eq!(Verification::open(&token, &keys).unwrap(), handle);
}

#[test]
fn refusals_of_names_are_named_through_the_facade() {
    let blank: BlankChannel = Channel::other(" ").unwrap_err();
    assert_eq!(blank, BlankChannel);
    let invalid: InvalidProviderId = ProviderId::new("Acme").unwrap_err();
    assert_eq!(invalid.name(), "Acme");
}

/// With `mock`, the mocks' own mockall is named through the facade: its `predicate` and
/// `Sequence` at the version the mocks are built with.
#[cfg(feature = "mock")]
#[test]
fn mockall_is_named_through_the_facade() {
    use phone_verify::mockall::{Predicate as _, Sequence, predicate};
    use phone_verify::{MockPhoneVerifier, PhoneVerifier};

    let mut mock = MockPhoneVerifier::new();
    let mut seq = Sequence::new();
    mock.expect_provider()
        .times(1)
        .in_sequence(&mut seq)
        .returning(|| ProviderId::new_static("first"));
    mock.expect_provider()
        .times(1)
        .in_sequence(&mut seq)
        .returning(|| ProviderId::new_static("second"));
    assert_eq!(mock.provider().as_str(), "first");
    assert_eq!(mock.provider().as_str(), "second");
    assert!(predicate::eq(1).eval(&1));
}

/// The names `source` exports at its root: those of its `pub use` statements
/// (`pub use a::{B, C};` gives `B` and `C`, `pub use a::b;` gives `b`, `pub use a as b;`
/// gives `b`) and the items it defines there (`pub fn`, `pub const`, `pub struct`, …), but for
/// an item compiled only for doc tests.
fn exported_names(source: &str) -> Vec<String> {
    const ITEMS: [&str; 8] = [
        "pub fn ",
        "pub const ",
        "pub static ",
        "pub struct ",
        "pub enum ",
        "pub trait ",
        "pub type ",
        "pub mod ",
    ];
    let mut names = Vec::new();
    let mut statement: Option<String> = None;
    let mut doctest_only = false;
    for line in source.lines() {
        if let Some(text) = statement.as_mut() {
            text.push(' ');
            text.push_str(line.trim());
        } else if line.starts_with("pub use ") {
            statement = Some(line.to_owned());
        } else {
            if line.starts_with("#[cfg(doctest)]") {
                doctest_only = true;
            }
            if let Some(item) = ITEMS.iter().find_map(|item| line.strip_prefix(item)) {
                let name = item
                    .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .next();
                if !doctest_only {
                    names.extend(name.map(str::to_owned));
                }
                doctest_only = false;
            }
            continue;
        }
        let Some(text) = statement.take_if(|text| text.ends_with(';')) else {
            continue;
        };
        let path = text["pub use ".len()..].trim_end_matches(';');
        let items = match path.split_once('{') {
            Some((_, list)) => list.trim_end_matches('}').split(',').collect(),
            None => vec![path.rsplit("::").next().unwrap_or(path)],
        };
        for item in items.into_iter().map(str::trim).filter(|i| !i.is_empty()) {
            let name = item.rsplit(" as ").next().unwrap_or(item);
            let name = name.rsplit("::").next().unwrap_or(name);
            names.push(name.trim().to_owned());
        }
    }
    names
}

/// Every item core exports at its root, feature-gated or not, is re-exported by the facade
/// (a root item added to core and forgotten here fails this test). The provider kit stays in
/// core: its `kit` module is the only exception.
#[test]
fn every_item_of_cores_root_is_re_exported() {
    let core = include_str!("../../core/src/lib.rs");
    let facade = include_str!("../src/lib.rs");
    let facade_names = exported_names(facade);
    let core_names = exported_names(core);
    assert!(core_names.len() > 40, "{core_names:?}");
    let missing: Vec<&str> = core_names
        .iter()
        .map(String::as_str)
        .filter(|name| !facade_names.iter().any(|f| f == name))
        .collect();
    assert_eq!(missing, ["kit"], "not re-exported by the facade");
}

#[test]
fn exported_names_reads_statements_and_items_at_the_root() {
    let source = "pub use a::{B, c::D as E, x::Y};\npub use f::g;\npub use h as i;\n\
                  pub const J: u8 = 1;\npub fn k() {}\n#[cfg(doctest)]\n/// doc\npub struct L;\n\
                  pub mod m;\n    pub fn nested() {}\n";
    assert_eq!(
        exported_names(source),
        ["B", "E", "Y", "g", "i", "J", "k", "m"]
    );
}
