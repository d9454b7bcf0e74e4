//! `kit::parse_retry_after` on any header value (bytes 4 on; bytes 0–3 the current time, in
//! big-endian seconds since 1970): delay-seconds give that delay; an HTTP-date the time until
//! it (none once past), never more than an HTTP-date can name.
#![no_main]

use std::time::{Duration, UNIX_EPOCH};

use libfuzzer_sys::fuzz_target;
use phone_verify_core::kit::parse_retry_after;

/// 9999-12-31T23:59:59Z, the last instant an HTTP-date can name.
const LAST_HTTP_DATE: u64 = 253_402_300_799;

fuzz_target!(|data: &[u8]| {
    let Some((now, value)) = data.split_first_chunk::<4>() else {
        return;
    };
    let Ok(value) = std::str::from_utf8(value) else {
        return;
    };
    let now_secs = u64::from(u32::from_be_bytes(*now));
    let now = UNIX_EPOCH + Duration::from_secs(now_secs);
    let Some(delay) = parse_retry_after(value, now) else {
        return;
    };
    if let Ok(seconds) = value.trim().parse::<u64>() {
        assert_eq!(delay, Duration::from_secs(seconds), "{value:?}");
        return;
    }
    // An HTTP-date: the wait until it, so a second later it is a second shorter (or none).
    assert!(
        delay.as_secs() <= LAST_HTTP_DATE - now_secs,
        "{value:?}: {delay:?}"
    );
    let later = parse_retry_after(value, now + Duration::from_secs(1)).expect("still a date");
    assert_eq!(
        later,
        delay.saturating_sub(Duration::from_secs(1)),
        "{value:?}"
    );
});
