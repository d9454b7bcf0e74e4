//! VerifyKit's answer decoding and error mapping, for every endpoint, on any answer (see
//! [`Answer`] for the input layout); credentials never shown.
#![no_main]

use libfuzzer_sys::fuzz_target;
use phone_verify_fuzz::{Answer, assert_secrets_hidden};
use phone_verify_verifykit::fuzzing::{SECRETS, decode_answer};

fuzz_target!(|data: &[u8]| {
    let Some(answer) = Answer::read(data) else {
        return;
    };
    if let Err(error) = decode_answer(answer.endpoint, answer.status, &answer.headers, answer.body)
    {
        assert_secrets_hidden(&error, &SECRETS);
    }
});
