//! The futures of `check` and `resolve`, the calls an application makes on every successful
//! verification, stay small enough for glibc's per-thread cache of freed blocks (blocks of up to
//! 1,032 bytes): `#[async_trait]` allocates each of them, and a larger one takes the allocator's
//! slower path on every call (issue 18). The HTTP layer runs its attempts in a box of its own,
//! so this bounds what a provider crate keeps beside it: a second copy of the request (an
//! `async fn` argument, or a `?` before an `.await`) is what pushed Twilio's `check` to 1,680
//! bytes and Verifik's to 1,200. Nothing is sent: the futures are made, measured and dropped.
#![cfg(feature = "full")]

use std::collections::HashMap;

use phone_verify::{
    CheckRequest, Code, Provider, Registry, RequestContext, SessionId, Verification,
};

/// The largest request glibc's per-thread cache (tcache) serves: chunks of up to 1,040 bytes,
/// 8 of them its header.
const TCACHE_MAX: usize = 1032;

const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
const SERVICE: &str = "VA0123456789abcdef0123456789abcdef";

fn provider(pairs: &[(&str, &str)]) -> Provider {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    Registry::with_builtin()
        .build_from_lookup(move |name| map.get(name).cloned())
        .unwrap()
}

/// Every built-in provider, with a handle of the shape its `start` returns.
fn providers() -> Vec<(Provider, Verification)> {
    // A loopback port nobody listens on: the futures are never polled.
    let url = "http://127.0.0.1:9";
    let at = |provider: &Provider, reference: &str| {
        Verification::new(provider.id().clone(), reference, phone_verify::Channel::Sms)
            .with_phone("+905321234567".parse().unwrap())
    };
    let verifykit = provider(&[
        ("PHONE_VERIFY_PROVIDER", "verifykit"),
        ("VERIFYKIT_SERVER_KEY", "key"),
        ("VERIFYKIT_SANDBOX_URL", url),
    ]);
    let verifykit_handle = at(&verifykit, "ref").with_extra("flow", "sms_otp");
    let verifik = provider(&[
        ("PHONE_VERIFY_PROVIDER", "verifik"),
        ("VERIFIK_TOKEN", "token"),
        ("VERIFIK_SANDBOX_URL", url),
    ]);
    let verifik_handle = at(&verifik, "validation-id")
        .with_extra("country_code", "+90")
        .with_extra("phone_gateway", "sms");
    let verigator = provider(&[
        ("PHONE_VERIFY_PROVIDER", "verigator"),
        ("VERIGATOR_SANDBOX_URL", url),
        ("VERIGATOR_SERVICE_ID", "service"),
    ]);
    let verigator_handle = at(&verigator, "user")
        .with_extra("service_id", "service")
        .with_extra("user_id", "user")
        .with_extra("method", "sms");
    let twilio = provider(&[
        ("PHONE_VERIFY_PROVIDER", "twilio"),
        ("TWILIO_ACCOUNT_SID", ACCOUNT),
        ("TWILIO_AUTH_TOKEN", "token"),
        ("TWILIO_SERVICE_SID", SERVICE),
        ("TWILIO_SANDBOX_URL", url),
    ]);
    let twilio_handle =
        at(&twilio, "VE0123456789abcdef0123456789abcdef").with_extra("service_sid", SERVICE);
    vec![
        (verifykit, verifykit_handle),
        (verifik, verifik_handle),
        (verigator, verigator_handle),
        (twilio, twilio_handle),
    ]
}

#[test]
fn check_and_resolve_futures_fit_the_allocators_per_thread_cache() {
    let request = CheckRequest::code(Code::new("123456").unwrap());
    let session = SessionId::new("session").unwrap();
    let context = RequestContext::new();
    for (provider, handle) in providers() {
        let id = provider.id().clone();
        let check = provider.verifier.check(&handle, &request);
        let size = size_of_val(&*check);
        assert!(
            size <= TCACHE_MAX,
            "{id}: the check future takes {size} bytes, more than {TCACHE_MAX}"
        );
        if let Some(resolver) = &provider.resolver {
            let resolve = resolver.resolve(&session, &context);
            let size = size_of_val(&*resolve);
            assert!(
                size <= TCACHE_MAX,
                "{id}: the resolve future takes {size} bytes, more than {TCACHE_MAX}"
            );
        }
    }
}
