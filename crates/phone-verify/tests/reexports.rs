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
