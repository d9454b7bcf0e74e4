//! `Verification::from_json` on any text; a handle it reads writes back to the same handle.
#![no_main]

use libfuzzer_sys::fuzz_target;
use phone_verify_core::Verification;

fuzz_target!(|json: &str| {
    let Ok(handle) = Verification::from_json(json) else {
        return;
    };
    let written = handle
        .to_json()
        .expect("a handle read from JSON writes back");
    let again = Verification::from_json(&written).expect("a written handle reads back");
    assert_eq!(again, handle, "round trip changed the handle: {written}");
    assert_eq!(
        again.to_json().expect("writes"),
        written,
        "second write differs"
    );
    let pretty = handle.to_json_pretty().expect("writes pretty");
    assert_eq!(
        Verification::from_json(&pretty).expect("reads pretty"),
        handle
    );
});
