//! Phone parsing on any text: line 1 international (`PhoneNumber::parse`), line 2 a calling
//! code and line 3 a national number (`PhoneNumber::from_parts`). A parsed number formats and
//! re-parses to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use phone_verify_core::PhoneNumber;
use phone_verify_fuzz::lines;

fuzz_target!(|data: &[u8]| {
    let [international, calling_code, national] = &lines(data, 3)[..] else {
        unreachable!("lines gives 3 texts")
    };
    if let Ok(phone) = PhoneNumber::parse(international) {
        stable(&phone);
    }
    if let Ok(phone) = PhoneNumber::from_parts(calling_code, national) {
        stable(&phone);
    }
});

/// `phone` re-parses to itself from each of its forms, and its masked form hides it.
fn stable(phone: &PhoneNumber) {
    let e164 = phone.e164();
    assert!(
        e164.starts_with('+') && e164[1..].bytes().all(|b| b.is_ascii_digit()),
        "{e164}"
    );
    assert_eq!(
        PhoneNumber::parse(e164).as_ref(),
        Ok(phone),
        "E.164 re-parse"
    );
    assert_eq!(
        PhoneNumber::parse(&phone.to_string()).as_ref(),
        Ok(phone),
        "Display re-parse"
    );
    assert_eq!(
        PhoneNumber::from_parts(phone.calling_code(), phone.national_number()).as_ref(),
        Ok(phone),
        "parts re-parse"
    );
    assert_eq!(
        format!("{}{}", phone.calling_code(), phone.national_number()),
        e164
    );
    assert!(
        !phone.masked().contains(phone.national_number()),
        "{}",
        phone.masked()
    );
    let json = serde_json::to_string(phone).expect("serializes");
    assert_eq!(
        serde_json::from_str::<PhoneNumber>(&json).ok().as_ref(),
        Some(phone),
        "{json}"
    );
}
