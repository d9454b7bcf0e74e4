//! The sandbox's request reading: the lenient body parser on any bytes, and any request
//! through a fresh sandbox's whole route tree. Byte 0 picks the endpoint, byte 1 the content
//! type, bit 0 of byte 2 whether credentials are sent; then a line with the path's ids, a line
//! with the query string, and the body.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use phone_verify_fuzz::lines;
use phone_verify_sandbox::fuzzing::{FuzzRequest, handle, read_body};
use serde_json::{Map, Value};
use tokio::runtime::{Builder, Runtime};

static RUNTIME: LazyLock<Runtime> = LazyLock::new(|| {
    Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
});

fuzz_target!(|data: &[u8]| {
    let Some((&[route, content_type, flags], rest)) = data.split_first_chunk::<3>() else {
        return;
    };
    let head = lines(rest, 3);
    // The body is the bytes as given (lossy text would hide invalid UTF-8 from the parser).
    let body = rest.splitn(3, |b| *b == b'\n').nth(2).unwrap_or_default();
    let (fields, malformed) = read_body(body);
    if let Ok(object) = serde_json::from_slice::<Map<String, Value>>(body) {
        assert!(
            !malformed && fields == object.len(),
            "a JSON object read as {fields} fields"
        );
    }
    let request = FuzzRequest {
        route,
        id: &head[0],
        query: &head[1],
        content_type,
        authenticated: flags & 1 == 1,
        body,
    };
    if let Some((status, _)) = RUNTIME.block_on(handle(request)) {
        assert!((100..600).contains(&status), "status {status}");
    }
});
