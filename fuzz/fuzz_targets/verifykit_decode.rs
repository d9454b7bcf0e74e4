//! VerifyKit's answer decoding and error mapping, for every endpoint, on any answer (see
//! [`Answer`] for the input layout).
#![no_main]

use libfuzzer_sys::fuzz_target;
use phone_verify_fuzz::Answer;
use phone_verify_verifykit::fuzzing::decode_answer;

fuzz_target!(|data: &[u8]| {
    if let Some(answer) = Answer::read(data) {
        let _ = decode_answer(answer.endpoint, answer.status, &answer.headers, answer.body);
    }
});
