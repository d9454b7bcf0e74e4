//! Verigator's answer decoding and error mapping, for every endpoint, on any answer (see
//! [`Answer`] for the input layout), credentials never shown; and, for endpoint number
//! `ENDPOINTS`, `find_user`'s streamed scan of the user list for the `x-wanted` header's value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use phone_verify_fuzz::{Answer, assert_secrets_hidden};
use phone_verify_verigator::fuzzing::{ENDPOINTS, SECRETS, decode_answer, scan_user_list};

fuzz_target!(|data: &[u8]| {
    let Some(answer) = Answer::read(data) else {
        return;
    };
    if answer.endpoint % (ENDPOINTS + 1) == ENDPOINTS {
        let wanted = answer.headers.get("x-wanted").and_then(|v| v.to_str().ok());
        scan_user_list(answer.body, wanted.unwrap_or("alice"));
        return;
    }
    if let Err(error) = decode_answer(answer.endpoint, answer.status, &answer.headers, answer.body)
    {
        assert_secrets_hidden(&error, &SECRETS);
    }
});
