//! Property tests (proptest): phone numbers of every region parse, format and parse again to
//! the same number; handles of every provider's shape survive their JSON form and sealing, and
//! any changed byte of a sealed token is refused; the retry policy never exceeds its caps; and
//! the HTTP layer never retries a send, and retries code checks and reads exactly as their
//! rules say, under generated sequences of faults from a local server.
//!
//! Case counts are modest so the file runs in seconds; `PROPTEST_CASES=N` raises them all.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use phone_verify_core::http::{HttpConfig, RetryPolicy, Timeouts};
use phone_verify_core::kit::{BaseUrl, HttpClient, HttpRequest, Operation, OperationKind};
use phone_verify_core::{
    Channel, ErrorKind, Extras, PhoneError, PhoneNumber, ProviderId, ReverseFlow, SealError,
    SealKey, SealKeys, Verification,
};
use phonenumber::metadata::{DATABASE, Descriptor, Metadata};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::Value;
use time::OffsetDateTime;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

mod support;

use support::{FixedJitter, RecordingClock};

/// `default` cases, or `PROPTEST_CASES` when set (for a deeper run).
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn config(default_cases: u32) -> Config {
    Config {
        cases: cases(default_cases),
        ..Config::default()
    }
}

// ---------------------------------------------------------------------------------------------
// Phone numbers of every region
// ---------------------------------------------------------------------------------------------

/// The number types of a region's metadata that a verification can go to.
fn number_types(meta: &Metadata) -> Vec<(&'static str, &Descriptor)> {
    [
        ("fixed_line", meta.descriptors().fixed_line()),
        ("mobile", meta.descriptors().mobile()),
        ("toll_free", meta.descriptors().toll_free()),
        ("premium_rate", meta.descriptors().premium_rate()),
        ("shared_cost", meta.descriptors().shared_cost()),
        ("personal_number", meta.descriptors().personal_number()),
        ("voip", meta.descriptors().voip()),
        ("pager", meta.descriptors().pager()),
        ("uan", meta.descriptors().uan()),
        ("voicemail", meta.descriptors().voicemail()),
    ]
    .into_iter()
    .filter_map(|(name, desc)| desc.map(|desc| (name, desc)))
    .collect()
}

/// A strategy for strings matching a libphonenumber national-number pattern (written for
/// `(?x)` mode; `\d` narrowed to ASCII digits).
fn national_numbers(desc: &Descriptor) -> BoxedStrategy<String> {
    let pattern = format!(
        "(?x){}",
        desc.national_number().as_str().replace(r"\d", "[0-9]")
    );
    proptest::string::string_regex(&pattern)
        .unwrap_or_else(|e| panic!("pattern {pattern:?}: {e}"))
        .boxed()
}

/// `national` (digits) of calling code `cc` parses, and every way of writing the parsed number
/// parses back to the same number.
fn assert_stable(meta: &Metadata, national: &str) -> Result<(), TestCaseError> {
    let cc = meta.country_code();
    let phone = PhoneNumber::parse(&format!("+{cc}{national}"))
        .map_err(|e| TestCaseError::fail(format!("+{cc} {national}: {e}")))?;
    prop_assert_eq!(phone.calling_code(), format!("+{cc}"));
    prop_assert_eq!(phone.calling_code_number(), cc);
    let nsn = phone.national_number().to_owned();
    // `phonenumber` takes a trunk-prefix lookalike off (Russia's `+7 800 …`), and may find
    // no number left (Belarus's `+375 800 000`): its formatting of that misreading is not
    // this number.
    let library_format = phonenumber::parse(None, phone.e164())
        .ok()
        .filter(|library| library.national().to_string() == nsn)
        .map(|library| {
            library
                .format()
                .mode(phonenumber::Mode::International)
                .to_string()
        });
    let written = [
        phone.e164().to_owned(),
        phone.to_string(),
        format!("+{cc} {nsn}"),
        format!("00{cc}{nsn}"),
        format!(
            " +{cc} ({}) {}-{} ",
            &nsn[..1],
            &nsn[1..nsn.len() / 2],
            &nsn[nsn.len() / 2..]
        ),
        format!("+{cc}.{nsn}"),
    ];
    for text in written.into_iter().chain(library_format) {
        let again = PhoneNumber::parse(&text)
            .map_err(|e| TestCaseError::fail(format!("{text:?} does not parse again: {e}")))?;
        prop_assert_eq!(&again, &phone, "written as {:?}", text);
    }
    prop_assert_eq!(
        PhoneNumber::from_parts(&format!("+{cc}"), &nsn),
        Ok(phone.clone())
    );
    let json = serde_json::to_string(&phone).expect("a phone serializes");
    prop_assert_eq!(
        serde_json::from_str::<PhoneNumber>(&json).ok(),
        Some(phone.clone())
    );
    if let Some(region) = phone.region() {
        let regions = DATABASE.region(&cc).unwrap_or_default();
        prop_assert!(
            regions.contains(&region),
            "{} not among {:?}",
            region,
            regions
        );
    }
    let masked = phone.masked();
    let prefix = format!("+{cc}");
    prop_assert!(masked.starts_with(&prefix));
    prop_assert!(
        nsn.len() <= 2 || !masked.contains(&nsn),
        "{} shows {}",
        masked,
        nsn
    );
    Ok(())
}

/// Whether `national` starts like a national (trunk) prefix of its region: `8` in Russia,
/// Kazakhstan, Belarus and Lithuania, `0` or a `90`-carrier code in Brazil, and so on. The
/// `phonenumber` crate takes such a prefix off international input too, so it refuses some
/// valid numbers (Russian 800 toll-free numbers, Brazilian 900 numbers) that libphonenumber
/// accepts; core reads a number valid as written as written, and these must be stable too.
fn trunk_prefix_lookalike(meta: &Metadata, national: &str) -> bool {
    match meta.national_prefix_for_parsing() {
        Some(pattern) => pattern.find(national).is_some_and(|m| m.start() == 0),
        None => meta
            .national_prefix()
            .is_some_and(|prefix| national.starts_with(prefix)),
    }
}

/// Trunk-prefix lookalikes checked.
static LOOKALIKES: AtomicUsize = AtomicUsize::new(0);

/// [`assert_stable`], except that numbers of more than 17 digits (Japanese `0037` toll-free
/// numbers, not dialable from abroad) are refused as `TooLong`.
fn check_number(meta: &Metadata, national: &str) -> Result<(), TestCaseError> {
    let cc = meta.country_code();
    if cc.to_string().len() + national.len() > 17 {
        let parsed = PhoneNumber::parse(&format!("+{cc}{national}"));
        prop_assert_eq!(parsed, Err(PhoneError::TooLong));
        return Ok(());
    }
    if trunk_prefix_lookalike(meta, national) {
        LOOKALIKES.fetch_add(1, Ordering::Relaxed);
    }
    assert_stable(meta, national)
}

#[test]
fn phone_numbers_of_every_region_parse_format_and_parse_again() {
    let mut regions = 0;
    let generated = AtomicUsize::new(0);
    for meta in DATABASE.iter() {
        let types = number_types(meta);
        for (name, desc) in &types {
            if let Some(example) = desc.example() {
                check_number(meta, example)
                    .unwrap_or_else(|e| panic!("{} {name} example: {e}", meta.id()));
            }
        }
        if types.is_empty() {
            continue;
        }
        regions += 1;
        // Numbers generated from each type's pattern: those of a possible length that fit
        // the region's general pattern too must parse and be stable; any other string is a
        // typed error, never a panic. (A type's pattern may be wider than the general one,
        // which libphonenumber checks first: Austria's fixed lines take `+43 435 1000`,
        // its general pattern does not, and neither library calls it valid.)
        let general = meta.descriptors().general();
        let strategies: Vec<_> = types
            .iter()
            .map(|(_, desc)| {
                let desc: &'static Descriptor = desc;
                national_numbers(desc).prop_map(move |n| (desc, n))
            })
            .collect();
        let mut runner = TestRunner::new(config(8));
        runner
            .run(
                &proptest::strategy::Union::new(strategies),
                |(desc, national)| {
                    if desc.is_match(&national) && general.is_match(&national) {
                        generated.fetch_add(1, Ordering::Relaxed);
                        check_number(meta, &national)
                    } else {
                        let _ = PhoneNumber::parse(&format!("+{}{national}", meta.country_code()));
                        Ok(())
                    }
                },
            )
            .unwrap_or_else(|e| panic!("region {}: {e}", meta.id()));
    }
    assert!(regions > 200, "only {regions} regions in the metadata");
    eprintln!(
        "{regions} regions, {} generated numbers of a possible length, {} of them trunk-prefix lookalikes",
        generated.load(Ordering::Relaxed),
        LOOKALIKES.load(Ordering::Relaxed)
    );
    assert!(
        LOOKALIKES.load(Ordering::Relaxed) > 0,
        "no trunk-prefix lookalike was checked"
    );
    let generated = generated.into_inner();
    assert!(
        generated > regions,
        "only {generated} generated numbers were possible"
    );
}

proptest! {
    #![proptest_config(config(256))]

    /// Whatever the text, parsing returns a number or a typed error, and a number parses again.
    #[test]
    fn any_text_parses_to_a_stable_number_or_a_typed_error(
        text in r"(\+|00)?[0-9 ()./+-]{0,24}|\PC{0,24}"
    ) {
        if let Ok(phone) = PhoneNumber::parse(&text) {
            prop_assert_eq!(PhoneNumber::parse(phone.e164()), Ok(phone.clone()));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Handles: JSON and sealed tokens
// ---------------------------------------------------------------------------------------------

/// Valid numbers of many regions: every region's mobile (or fixed-line) example.
static PHONES: LazyLock<Vec<PhoneNumber>> = LazyLock::new(|| {
    DATABASE
        .iter()
        .filter_map(|meta| {
            let example = meta
                .descriptors()
                .mobile()
                .or(meta.descriptors().fixed_line())?
                .example()?;
            PhoneNumber::parse(&format!("+{}{example}", meta.country_code())).ok()
        })
        .collect()
});

fn phone() -> impl Strategy<Value = Option<PhoneNumber>> {
    proptest::option::of(proptest::sample::select(PHONES.clone()))
}

/// Any instant RFC 3339 can write (years 1970 to 9999), to the nanosecond.
fn instant() -> impl Strategy<Value = OffsetDateTime> {
    (0i64..=253_402_300_799, 0u32..1_000_000_000).prop_map(|(secs, nanos)| {
        OffsetDateTime::from_unix_timestamp(secs)
            .unwrap()
            .replace_nanosecond(nanos)
            .unwrap()
    })
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("JSON numbers are finite", |f| f.is_finite())
            .prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            proptest::collection::btree_map("\\PC{0,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A channel other than the built-in ones and their aliases (`otp`, `wa`, `call`, ...), which
/// read back as the built-in channel.
fn other_channel() -> impl Strategy<Value = Channel> {
    "[A-Za-z][A-Za-z0-9_-]{0,15}"
        .prop_filter("not a built-in name or alias", |name| {
            matches!(name.parse::<Channel>(), Ok(Channel::Other(_)))
        })
        .prop_map(Channel::Other)
}

fn any_channel() -> impl Strategy<Value = Channel> {
    prop_oneof![
        Just(Channel::Sms),
        Just(Channel::WhatsApp),
        Just(Channel::Telegram),
        Just(Channel::Voice),
        Just(Channel::FlashCall),
        Just(Channel::Totp),
        Just(Channel::Email),
        other_channel(),
    ]
}

/// What a provider puts in a handle: id, channel, reference, extras and reverse flow.
type Shape = (ProviderId, Channel, String, Extras, Option<ReverseFlow>);

fn extras(pairs: &[(&str, Option<Value>)]) -> Extras {
    pairs
        .iter()
        .filter_map(|(k, v)| v.clone().map(|v| ((*k).to_owned(), v)))
        .collect()
}

fn verifykit() -> impl Strategy<Value = Shape> {
    let otp = (
        prop_oneof![Just(Channel::Sms), Just(Channel::WhatsApp)],
        "[0-9]{6}|[A-Za-z0-9]{8,32}",
        "[A-Z]{2}",
        proptest::option::of(4u64..=8),
    )
        .prop_map(|(channel, reference, country, length)| {
            let flow = if channel == Channel::Sms {
                "sms_otp"
            } else {
                "whatsapp_otp"
            };
            let extras = extras(&[
                ("flow", Some(flow.into())),
                ("country_code", Some(country.into())),
                ("code_length", length.map(Value::from)),
            ]);
            (
                ProviderId::new_static("verifykit"),
                channel,
                reference,
                extras,
                None,
            )
        });
    let reverse = (
        prop_oneof![Just(Channel::WhatsApp), Just(Channel::Telegram)],
        "[0-9]{6}",
        proptest::option::of("https://wa\\.me/[0-9]{8,14}\\?text=[0-9]{6}"),
        proptest::option::of("data:image/png;base64,[A-Za-z0-9+/]{0,120}={0,2}"),
    )
        .prop_map(|(channel, reference, deeplink, qr)| {
            let app = if channel == Channel::WhatsApp {
                "whatsapp"
            } else {
                "telegram"
            };
            let extras = extras(&[("flow", Some("reverse".into())), ("app", Some(app.into()))]);
            let reverse = Some(ReverseFlow::new(deeplink, qr));
            (
                ProviderId::new_static("verifykit"),
                channel,
                reference,
                extras,
                reverse,
            )
        });
    prop_oneof![otp, reverse]
}

fn verifik() -> impl Strategy<Value = Shape> {
    (
        prop_oneof![Just(Channel::Sms), Just(Channel::WhatsApp)],
        "[a-f0-9]{24}",
        "\\+[0-9]{1,3}",
        proptest::option::of("[a-z0-9]{6,24}"),
    )
        .prop_map(|(channel, reference, country, project)| {
            let gateway = if channel == Channel::Sms {
                "sms"
            } else {
                "whatsapp"
            };
            let mode = if project.is_some() {
                "project_flow"
            } else {
                "manual"
            };
            let extras = extras(&[
                ("country_code", Some(country.into())),
                ("phone_gateway", Some(gateway.into())),
                ("mode", Some(mode.into())),
                ("project", project.map(Value::from)),
            ]);
            (
                ProviderId::new_static("verifik"),
                channel,
                reference,
                extras,
                None,
            )
        })
}

fn verigator() -> impl Strategy<Value = Shape> {
    (
        prop_oneof![Just(Channel::Sms), Just(Channel::Totp)],
        "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
        "[0-9a-f-]{8,36}",
        any::<bool>(),
    )
        .prop_map(|(channel, user, service, fell_back)| {
            let method = if channel == Channel::Sms {
                "sms"
            } else {
                "totp"
            };
            let extras = extras(&[
                ("service_id", Some(service.into())),
                ("user_id", Some(user.clone().into())),
                ("method", Some(method.into())),
                ("requested_method", fell_back.then(|| "totp".into())),
            ]);
            (
                ProviderId::new_static("verigator"),
                channel,
                user,
                extras,
                None,
            )
        })
}

fn twilio() -> impl Strategy<Value = Shape> {
    (
        prop_oneof![
            Just(Channel::Sms),
            Just(Channel::WhatsApp),
            Just(Channel::Voice)
        ],
        "VE[0-9a-f]{32}",
        "VA[0-9a-f]{32}",
    )
        .prop_map(|(channel, reference, service)| {
            let extras = extras(&[("service_sid", Some(service.into()))]);
            (
                ProviderId::new_static("twilio"),
                channel,
                reference,
                extras,
                None,
            )
        })
}

/// A third party's provider: any id, channel, reference and extras.
fn any_provider() -> impl Strategy<Value = Shape> {
    (
        "[a-z0-9_-]{1,64}",
        any_channel(),
        "\\PC{1,40}",
        proptest::collection::btree_map("\\PC{0,12}", json_value(), 0..5),
        proptest::option::of(
            (
                proptest::option::of("\\PC{0,40}"),
                proptest::option::of("\\PC{0,40}"),
            )
                .prop_map(|(deeplink, qr)| ReverseFlow::new(deeplink, qr)),
        ),
    )
        .prop_map(|(id, channel, reference, extras, reverse)| {
            (
                ProviderId::new(&id).unwrap(),
                channel,
                reference,
                extras.into_iter().collect(),
                reverse,
            )
        })
}

/// A handle of any provider's shape, maybe behind the router (which adds `extras.route`).
fn handle() -> impl Strategy<Value = Verification> {
    (
        prop_oneof![
            verifykit(),
            verifik(),
            verigator(),
            twilio(),
            any_provider()
        ],
        proptest::option::of("[a-z0-9_-]{1,16}"),
        phone(),
        instant(),
        proptest::option::of(instant()),
    )
        .prop_map(
            |((provider, channel, reference, extras, reverse), route, phone, created, expires)| {
                let mut handle =
                    Verification::new(provider, reference, channel).with_created_at(created);
                handle.phone = phone;
                handle.expires_at = expires;
                handle.reverse = reverse;
                handle.extras = extras;
                if let Some(route) = route {
                    handle = handle.with_extra("route", route);
                }
                handle
            },
        )
}

/// Before any generated expiry, so that opening judges authenticity only.
const BEFORE_ALL: OffsetDateTime = time::macros::datetime!(1969-12-31 0:00 UTC);

static KEYS: LazyLock<SealKeys> = LazyLock::new(|| {
    SealKeys::new(SealKey::generate(2))
        .accept(SealKey::generate(1))
        .unwrap()
});

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn handles_round_trip_through_json(handle in handle()) {
        let json = handle.to_json().unwrap();
        prop_assert_eq!(Verification::from_json(&json).unwrap(), handle.clone());
        let pretty = handle.to_json_pretty().unwrap();
        prop_assert_eq!(Verification::from_json(&pretty).unwrap(), handle.clone());
        let value: Value = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(&value["format"], "phone-verify/verification");
        prop_assert_eq!(&value["version"], 1);
    }

    #[test]
    fn handles_round_trip_through_sealed_tokens(handle in handle()) {
        let token = handle.seal(&KEYS).unwrap();
        prop_assert_eq!(Verification::open_at(&token, &KEYS, BEFORE_ALL), Ok(handle.clone()));
        if let Some(phone) = &handle.phone {
            prop_assert!(!token.contains(phone.national_number()));
        }
        if let Some(expiry) = handle.expires_at {
            // Opened for the keys' grace past the expiry, refused from its end on (the last
            // instant a date holds, where the grace would pass it).
            let grace = time::Duration::try_from(KEYS.expiry_grace()).unwrap();
            if let Some(end) = expiry.checked_add(grace) {
                prop_assert_eq!(Verification::open_at(&token, &KEYS, expiry), Ok(handle.clone()));
                prop_assert_eq!(
                    Verification::open_at(&token, &KEYS, end),
                    Err(SealError::Expired(expiry))
                );
            } else {
                prop_assert_eq!(
                    Verification::open_at(&token, &KEYS, expiry.saturating_add(grace)),
                    Err(SealError::Expired(expiry))
                );
            }
        }
    }

}

proptest! {
    #![proptest_config(config(128))]

    /// Text that was never sealed, base64 or not, is a typed error, never a panic.
    #[test]
    fn any_text_is_refused_as_a_sealed_token(text in "[A-Za-z0-9_-]{0,400}|\\PC{0,200}") {
        prop_assert!(Verification::open_at(&text, &KEYS, BEFORE_ALL).is_err());
    }

    /// Random bytes behind a valid header (version 1, an accepted key id) fail authentication.
    #[test]
    fn random_bytes_under_a_valid_header_are_tampered(
        key_id in 1u8..=2,
        body in proptest::collection::vec(any::<u8>(), 40..400),
    ) {
        use base64::Engine as _;
        let raw = [&[1, key_id][..], &body].concat();
        let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw);
        prop_assert_eq!(
            Verification::open_at(&token, &KEYS, BEFORE_ALL),
            Err(SealError::Tampered)
        );
    }

    #[test]
    fn a_sealed_token_with_any_byte_changed_is_refused(
        handle in handle(),
        position in any::<proptest::sample::Index>(),
        flip in 1u8..=255,
    ) {
        use base64::Engine as _;
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let token = handle.seal(&KEYS).unwrap();
        let mut raw = engine.decode(&token).unwrap();
        let i = position.index(raw.len());
        raw[i] ^= flip;
        let err = Verification::open_at(&engine.encode(&raw), &KEYS, BEFORE_ALL).unwrap_err();
        prop_assert!(
            matches!(err, SealError::Tampered | SealError::UnknownKey(_) | SealError::UnsupportedVersion(_)),
            "byte {}: {:?}", i, err
        );
    }

    #[test]
    fn a_truncated_sealed_token_is_refused(handle in handle(), cut in any::<proptest::sample::Index>()) {
        let token = handle.seal(&KEYS).unwrap();
        let len = cut.index(token.len());
        prop_assert!(Verification::open_at(&token[..len], &KEYS, BEFORE_ALL).is_err());
    }
}

// ---------------------------------------------------------------------------------------------
// The retry policy's caps
// ---------------------------------------------------------------------------------------------

fn millis(max: u64) -> impl Strategy<Value = Duration> {
    (0..=max).prop_map(Duration::from_millis)
}

/// Policies built with the setters, and with fields set directly (a ceiling below the initial
/// backoff included).
fn policy() -> impl Strategy<Value = RetryPolicy> {
    (
        0u32..=12,
        millis(60_000),
        millis(600_000),
        millis(120_000),
        any::<bool>(),
    )
        .prop_map(|(attempts, initial, max, retry_after, direct)| {
            let mut policy = RetryPolicy::default()
                .with_max_attempts(attempts)
                .with_backoff(initial, max)
                .with_max_retry_after(retry_after);
            if direct {
                policy.max_backoff = max;
            }
            policy
        })
}

proptest! {
    #![proptest_config(config(1024))]

    #[test]
    fn backoff_never_exceeds_its_caps(
        policy in policy(),
        attempts_made in 1u32..=64,
        retry_after in proptest::option::of(millis(240_000)),
        jitter in prop_oneof![0.0f64..1.0, -1e9f64..1e9],
    ) {
        let ceiling = policy.ceiling(attempts_made - 1);
        prop_assert!(ceiling <= policy.max_backoff);
        let doubled = policy.initial_backoff.saturating_mul(2u32.saturating_pow((attempts_made - 1).min(30)));
        prop_assert!(ceiling <= doubled);
        prop_assert!(policy.ceiling(attempts_made) >= ceiling, "ceilings never shrink");
        match policy.next_delay(attempts_made, retry_after, jitter) {
            None => prop_assert!(
                attempts_made >= policy.max_attempts
                    || retry_after.is_some_and(|wait| wait > policy.max_retry_after)
            ),
            Some(delay) => {
                prop_assert!(attempts_made < policy.max_attempts);
                match retry_after {
                    Some(wait) => {
                        prop_assert_eq!(delay, wait);
                        prop_assert!(delay <= policy.max_retry_after);
                    }
                    None => prop_assert!(delay <= ceiling),
                }
            }
        }
    }

    #[test]
    fn a_whole_retry_sequence_stays_within_attempts_and_caps(
        policy in policy(),
        waits in proptest::collection::vec(proptest::option::of(millis(240_000)), 13),
        jitter in 0.0f64..1.0,
    ) {
        let mut attempts = 1;
        let mut total = Duration::ZERO;
        while let Some(delay) = policy.next_delay(attempts, waits[attempts as usize], jitter) {
            prop_assert!(delay <= policy.max_backoff.max(policy.initial_backoff).max(policy.max_retry_after));
            total += delay;
            attempts += 1;
        }
        prop_assert!(attempts <= policy.max_attempts);
        let per_retry = policy.max_backoff.max(policy.max_retry_after);
        prop_assert!(total <= per_retry * (policy.max_attempts - 1));
    }
}

// ---------------------------------------------------------------------------------------------
// The HTTP layer under generated faults
// ---------------------------------------------------------------------------------------------

/// What the local server does with one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    /// Answers with this status (a `{}` body).
    Status(u16),
    /// Answers 429 or 503 with `Retry-After: secs`.
    RetryAfter(u16, u64),
    /// Reads the request and closes the connection without answering.
    Drop,
    /// Reads the request and never answers (the attempt times out).
    Hang,
}

fn fault(hang: bool) -> impl Strategy<Value = Fault> {
    let status = proptest::sample::select(vec![200u16, 400, 404, 409, 429, 500, 502, 503, 504]);
    let mut faults = vec![
        (6, status.prop_map(Fault::Status).boxed()),
        (
            3,
            (prop_oneof![Just(429u16), Just(503)], 0u64..=4)
                .prop_map(|(s, secs)| Fault::RetryAfter(s, secs))
                .boxed(),
        ),
        (2, Just(Fault::Drop).boxed()),
    ];
    if hang {
        faults.push((1, Just(Fault::Hang).boxed()));
    }
    proptest::strategy::Union::new_weighted(faults)
}

/// Reads one request (head and `Content-Length` body); `None` if the client went away.
async fn read_request(stream: &mut TcpStream) -> Option<()> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            if buf.len() >= end + 4 + length {
                return Some(());
            }
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// A server that treats the n-th request as `faults[n]` (200 after the last), one request per
/// connection; it counts the requests it received.
async fn fault_server(faults: Vec<Fault>) -> (BaseUrl, Arc<AtomicUsize>, AbortOnDrop) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = BaseUrl::parse(&format!("http://{}/v1", listener.local_addr().unwrap())).unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    let server = tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let seen = seen.clone();
            let faults = faults.clone();
            tokio::spawn(async move {
                if read_request(&mut stream).await.is_none() {
                    return;
                }
                let n = seen.fetch_add(1, Ordering::SeqCst);
                let (status, retry_after) =
                    match faults.get(n).copied().unwrap_or(Fault::Status(200)) {
                        Fault::Status(status) => (status, None),
                        Fault::RetryAfter(status, secs) => (status, Some(secs)),
                        Fault::Drop => return,
                        Fault::Hang => {
                            // Hold the connection until the client gives up and closes it.
                            let mut rest = [0u8; 64];
                            while matches!(stream.read(&mut rest).await, Ok(n) if n > 0) {}
                            return;
                        }
                    };
                let retry_after = retry_after
                    .map(|s| format!("retry-after: {s}\r\n"))
                    .unwrap_or_default();
                let answer = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n{retry_after}\r\n{{}}"
                );
                let _ = stream.write_all(answer.as_bytes()).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    (url, count, AbortOnDrop(server))
}

/// Stops a case's server when the case ends.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// One runtime and one connection pool for every case: building a client (its TLS roots) per
/// case would cost more than the case. Every answer closes its connection, so nothing is
/// pooled from one case to the next.
static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
});

static REQWEST: LazyLock<reqwest::Client> = LazyLock::new(|| {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(5))
        .build()
        .unwrap()
});

fn client(
    policy: RetryPolicy,
    attempt: Duration,
    clock: &Arc<RecordingClock>,
    jitter: f64,
) -> HttpClient {
    let config = HttpConfig::default()
        .with_timeouts(
            Timeouts::default()
                .with_connect(Duration::from_secs(5))
                .with_attempt(attempt)
                .with_overall(Duration::from_secs(120)),
        )
        .with_retry(policy)
        .with_clock(clock.clone())
        .with_jitter(Arc::new(FixedJitter(jitter)));
    HttpClient::with_reqwest(ProviderId::new_static("acme"), REQWEST.clone(), config).unwrap()
}

fn request(kind: OperationKind, base: &BaseUrl) -> HttpRequest {
    let operation = match kind {
        OperationKind::Send => Operation::send("send-otp"),
        OperationKind::Write => Operation::write("create-user"),
        OperationKind::Consume => Operation::consume("check-otp"),
        _ => Operation::read("lookup"),
    };
    HttpRequest::post(operation, base.join("op"))
        .json(&serde_json::json!({"phone": "+905321234567"}))
        .unwrap()
}

/// The attempts the documented rules allow for `faults`: reads are retried on 429, 502, 503,
/// 504, lost connections and timeouts; code checks on 429 and on 503 with `Retry-After`; a
/// `Retry-After` beyond the cap, or the last attempt, ends the operation.
fn expected_attempts(kind: OperationKind, faults: &[Fault], policy: &RetryPolicy) -> usize {
    let mut attempts = 0;
    loop {
        let fault = faults.get(attempts).copied().unwrap_or(Fault::Status(200));
        attempts += 1;
        let retried = match (kind, fault) {
            (OperationKind::Read, Fault::Status(s) | Fault::RetryAfter(s, _)) => {
                matches!(s, 429 | 502 | 503 | 504)
            }
            (OperationKind::Read, Fault::Drop | Fault::Hang)
            | (OperationKind::Consume, Fault::RetryAfter(..)) => true,
            (OperationKind::Consume, Fault::Status(s)) => s == 429,
            _ => false,
        };
        let over_cap = matches!(fault, Fault::RetryAfter(_, secs) if Duration::from_secs(secs) > policy.max_retry_after);
        if !retried || over_cap || attempts >= policy.max_attempts as usize {
            return attempts;
        }
    }
}

fn http_policy() -> impl Strategy<Value = RetryPolicy> {
    (1u32..=5, millis(2_000), millis(10_000), 0u64..=3).prop_map(|(attempts, initial, max, cap)| {
        RetryPolicy::default()
            .with_max_attempts(attempts)
            .with_backoff(initial, max)
            .with_max_retry_after(Duration::from_secs(cap))
    })
}

proptest! {
    #![proptest_config(config(64))]

    /// A send (or a write) reaches the provider exactly once whatever happens, and an unknown
    /// outcome is `MaybeSent` (`Timeout`/`Transport` for a write).
    #[test]
    fn a_send_or_write_is_never_retried(
        send in any::<bool>(),
        faults in proptest::collection::vec(fault(true), 1..=4),
        policy in http_policy(),
        jitter in 0.0f64..1.0,
    ) {
        let kind = if send { OperationKind::Send } else { OperationKind::Write };
        RUNTIME.block_on(async {
            let (base, count, _server) = fault_server(faults.clone()).await;
            let clock = Arc::new(RecordingClock::default());
            // A send makes one attempt: only a case whose first answer never comes needs a
            // short attempt timeout, and no other case can time out by chance.
            let attempt = if faults[0] == Fault::Hang {
                Duration::from_millis(300)
            } else {
                Duration::from_secs(30)
            };
            let client = client(policy, attempt, &clock, jitter);
            let result = client.execute(request(kind, &base)).await;
            prop_assert_eq!(count.load(Ordering::SeqCst), 1, "{:?}", faults);
            prop_assert!(clock.sleeps.lock().unwrap().is_empty());
            match (faults[0], result) {
                (Fault::Status(status) | Fault::RetryAfter(status, _), Ok(response)) => {
                    prop_assert_eq!(response.status().as_u16(), status);
                }
                (Fault::Drop | Fault::Hang, Err(err)) if send => {
                    prop_assert_eq!(err.kind(), ErrorKind::MaybeSent, "{}", err);
                }
                (Fault::Drop | Fault::Hang, Err(err)) => {
                    prop_assert!(matches!(err.kind(), ErrorKind::Transport | ErrorKind::Timeout), "{}", err);
                }
                (fault, other) => prop_assert!(false, "{:?} gave {:?}", fault, other.map(|r| r.status())),
            }
            Ok(())
        })?;
    }

    /// Code checks and reads are attempted exactly as often as their rules allow, every wait
    /// stays within the caps, and a check whose answer was lost is `OutcomeUnknown`.
    #[test]
    fn checks_and_reads_follow_their_retry_rules(
        consume in any::<bool>(),
        faults in proptest::collection::vec(fault(false), 0..=5),
        policy in http_policy(),
        jitter in 0.0f64..1.0,
    ) {
        let kind = if consume { OperationKind::Consume } else { OperationKind::Read };
        RUNTIME.block_on(async {
            let (base, count, _server) = fault_server(faults.clone()).await;
            let clock = Arc::new(RecordingClock::default());
            let client = client(policy, Duration::from_secs(30), &clock, jitter);
            let result = client.execute(request(kind, &base)).await;
            let attempts = expected_attempts(kind, &faults, &policy);
            prop_assert_eq!(count.load(Ordering::SeqCst), attempts, "{:?} {:?}", kind, faults);
            let sleeps = clock.sleeps.lock().unwrap().clone();
            prop_assert_eq!(sleeps.len(), attempts - 1);
            for (retry, wait) in sleeps.iter().enumerate() {
                match faults[retry] {
                    Fault::RetryAfter(_, secs) => prop_assert_eq!(*wait, Duration::from_secs(secs)),
                    _ => prop_assert!(*wait <= policy.ceiling(u32::try_from(retry).unwrap())),
                }
                prop_assert!(*wait <= policy.max_backoff.max(policy.max_retry_after));
            }
            let last = faults.get(attempts - 1).copied().unwrap_or(Fault::Status(200));
            match (last, result) {
                (Fault::Status(status) | Fault::RetryAfter(status, _), Ok(response)) => {
                    prop_assert_eq!(response.status().as_u16(), status);
                }
                (Fault::Drop, Err(err)) => {
                    let expected = if consume { ErrorKind::OutcomeUnknown } else { ErrorKind::Transport };
                    prop_assert_eq!(err.kind(), expected, "{}", err);
                }
                (fault, other) => prop_assert!(false, "{:?} gave {:?}", fault, other.map(|r| r.status())),
            }
            Ok(())
        })?;
    }
}
