//! What the fuzz targets share: inputs in a plain layout, so the seed corpora are the
//! documented examples with a short prefix (see `fuzz/README.md`).

use phone_verify_core::reqwest::header::{HeaderMap, HeaderName, HeaderValue};

/// A provider's HTTP answer, read from fuzzer bytes: byte 0 the endpoint, bytes 1–2 the HTTP
/// status (big-endian), then `Name: value` header lines, an empty line and the body. Without
/// an empty line, everything after the status is the body.
#[derive(Debug)]
pub struct Answer<'a> {
    /// Which endpoint the answer is to (taken modulo the provider's endpoint count).
    pub endpoint: u8,
    /// The HTTP status as given (the kit reads an impossible one as 500).
    pub status: u16,
    /// The headers that are valid header names and values.
    pub headers: HeaderMap,
    /// The body.
    pub body: &'a [u8],
}

impl<'a> Answer<'a> {
    /// Reads `data`; `None` when it is shorter than the 3-byte prefix.
    pub fn read(data: &'a [u8]) -> Option<Self> {
        let (&[endpoint, high, low], rest) = data.split_first_chunk::<3>()?;
        let (head, body) = match rest.windows(2).position(|w| w == b"\n\n") {
            Some(end) => (&rest[..end], &rest[end + 2..]),
            None => (&[][..], rest),
        };
        let mut headers = HeaderMap::new();
        for line in head.split(|b| *b == b'\n') {
            let Some(colon) = line.iter().position(|b| *b == b':') else {
                continue;
            };
            let name = HeaderName::from_bytes(&line[..colon]);
            let value = HeaderValue::from_bytes(line[colon + 1..].trim_ascii());
            if let (Ok(name), Ok(value)) = (name, value) {
                headers.append(name, value);
            }
        }
        Some(Self {
            endpoint,
            status: u16::from_be_bytes([high, low]),
            headers,
            body,
        })
    }
}

/// Panics when `error` shows any of `secrets` (the clients scrub credentials a provider
/// echoes).
pub fn assert_secrets_hidden(error: &phone_verify_core::Error, secrets: &[&str]) {
    let shown = format!("{error} {error:?}");
    for secret in secrets {
        assert!(
            !shown.contains(secret),
            "a credential leaked into an error: {shown}"
        );
    }
}

/// Splits `data` at its first `count - 1` newlines into `count` texts (missing ones empty;
/// invalid UTF-8 replaced).
pub fn lines(data: &[u8], count: usize) -> Vec<String> {
    let mut parts: Vec<String> = data
        .splitn(count, |b| *b == b'\n')
        .map(|part| String::from_utf8_lossy(part).into_owned())
        .collect();
    parts.resize(count, String::new());
    parts
}
