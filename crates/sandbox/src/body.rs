//! Request input: headers, query pairs and a body that never rejects. A provider's body is read
//! as its API takes it ([`BodyFormat`]: JSON with a JSON `Content-Type`, or a form); the
//! control API's leniently (a JSON object whatever the type, else a form).

use std::time::Duration;

use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, header};
use serde_json::{Map, Value};

/// Largest request body read (a bigger one is malformed and carries no field).
const BODY_LIMIT: usize = 1024 * 1024;

/// How long a request body may take to arrive in full, counted from when [`Input`] starts
/// reading it (the server's header read timeout, also 30 s, ends with the head): a body not all
/// there by then is malformed and carries no field, so a client that announces a body and
/// stalls holds its task and connection no longer.
pub(crate) const BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// How a provider's API takes request bodies. The provider middleware marks each request with
/// its provider's format (a request extension), and [`Input`] reads the body by it; a request
/// without the mark (the control API's) is read leniently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyFormat {
    /// JSON objects sent as `application/json` or a `+json` type (parameters such as `charset`
    /// allowed): any other non-empty body, a form or JSON without that `Content-Type`
    /// included, is malformed and carries no field.
    Json,
    /// `application/x-www-form-urlencoded` pairs: a body of any other type carries no field.
    Form,
}

/// A request's headers, query and body. Extraction never fails: a body that cannot be read as
/// its format says, or not read whole (over [`BODY_LIMIT`], cut off, or not all there within
/// [`BODY_READ_TIMEOUT`]), reads as empty and malformed, so each endpoint answers its own
/// missing-field or malformed-body error.
#[derive(Debug, Clone, Default)]
pub(crate) struct Input {
    /// Request headers.
    pub(crate) headers: HeaderMap,
    /// Query pairs in order, percent-decoded.
    pub(crate) query: Vec<(String, String)>,
    /// Body fields.
    pub(crate) body: Map<String, Value>,
    /// Whether the body was present but could not be read (as its provider's [`BodyFormat`]
    /// says, or leniently for the control API).
    pub(crate) body_malformed: bool,
}

impl<S: Send + Sync> FromRequest<S> for Input {
    type Rejection = std::convert::Infallible;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let (parts, body) = req.into_parts();
        let query = parts
            .uri
            .query()
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .into_owned()
                    .collect()
            })
            .unwrap_or_default();
        let read = tokio::time::timeout(BODY_READ_TIMEOUT, axum::body::to_bytes(body, BODY_LIMIT));
        let content_type = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        let (body, kind) = match (read.await, parts.extensions.get::<BodyFormat>()) {
            (Ok(Ok(bytes)), Some(format)) => read_as(*format, content_type, &bytes),
            (Ok(Ok(bytes)), None) => read_body(&bytes),
            // Over the limit, cut off, or too slow.
            (Ok(Err(_)) | Err(_), _) => (Map::new(), BodyKind::Malformed),
        };
        Ok(Self {
            headers: parts.headers,
            query,
            body,
            body_malformed: kind == BodyKind::Malformed,
        })
    }
}

/// How a request body was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyKind {
    /// Empty (or only whitespace).
    Empty,
    /// A JSON object.
    Json,
    /// `application/x-www-form-urlencoded` pairs.
    Form,
    /// Neither: read as empty.
    Malformed,
}

/// Reads a body leniently, as the control API does: as a JSON object whatever the
/// `Content-Type`, or as `application/x-www-form-urlencoded` pairs; the flag says whether it
/// was malformed (neither).
pub(crate) fn parse_body(bytes: &[u8]) -> (Map<String, Value>, bool) {
    let (map, kind) = read_body(bytes);
    (map, kind == BodyKind::Malformed)
}

/// Reads a body leniently, as the control API does: as a JSON object whatever the
/// `Content-Type`, or as `application/x-www-form-urlencoded` pairs, and says which it was.
pub(crate) fn read_body(bytes: &[u8]) -> (Map<String, Value>, BodyKind) {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return (Map::new(), BodyKind::Empty);
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => (map, BodyKind::Json),
        Ok(_) => (Map::new(), BodyKind::Malformed),
        Err(_) => {
            let looks_like_form = std::str::from_utf8(bytes)
                .is_ok_and(|s| s.contains('=') && !s.trim_start().starts_with(['{', '[']));
            if looks_like_form {
                (form_pairs(bytes), BodyKind::Form)
            } else {
                (Map::new(), BodyKind::Malformed)
            }
        }
    }
}

/// Reads a provider's request body as its API takes it: `format`, under the request's
/// `content_type`. A body of another type is malformed and carries no field.
fn read_as(
    format: BodyFormat,
    content_type: Option<&str>,
    bytes: &[u8],
) -> (Map<String, Value>, BodyKind) {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return (Map::new(), BodyKind::Empty);
    }
    let essence = content_type
        .and_then(|ct| ct.split(';').next())
        .map(|ct| ct.trim().to_ascii_lowercase())
        .unwrap_or_default();
    match format {
        BodyFormat::Json if is_json(&essence) => match serde_json::from_slice::<Value>(bytes) {
            Ok(Value::Object(map)) => (map, BodyKind::Json),
            _ => (Map::new(), BodyKind::Malformed),
        },
        BodyFormat::Form if essence == "application/x-www-form-urlencoded" => {
            (form_pairs(bytes), BodyKind::Form)
        }
        BodyFormat::Json | BodyFormat::Form => (Map::new(), BodyKind::Malformed),
    }
}

/// Whether the media type `essence` (lowercase, without parameters) is JSON:
/// `application/json` or a `+json` type such as `application/merge-patch+json`.
fn is_json(essence: &str) -> bool {
    essence == "application/json"
        || essence
            .split_once('/')
            .is_some_and(|(kind, subtype)| !kind.is_empty() && subtype.ends_with("+json"))
}

/// `application/x-www-form-urlencoded` pairs as text fields (a repeated key keeps its last
/// value).
fn form_pairs(bytes: &[u8]) -> Map<String, Value> {
    url::form_urlencoded::parse(bytes)
        .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
        .collect()
}

impl Input {
    /// A header value as text.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    }

    /// The first query value for `key`.
    pub(crate) fn query(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// A body field as non-empty text: strings are trimmed, numbers are written out.
    pub(crate) fn str(&self, key: &str) -> Option<String> {
        match self.body.get(key)? {
            Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }

    /// A body field as a boolean (`true`/`false`, `"true"`/`"false"`, `1`/`0`).
    pub(crate) fn bool(&self, key: &str) -> Option<bool> {
        match self.body.get(key)? {
            Value::Bool(b) => Some(*b),
            Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "1" => Some(true),
                "false" | "0" => Some(false),
                _ => None,
            },
            Value::Number(n) => n.as_u64().map(|n| n != 0),
            _ => None,
        }
    }

    /// A body field, falling back to the query string (some SDKs send `lang` either way).
    pub(crate) fn str_or_query(&self, key: &str) -> Option<String> {
        self.str(key).or_else(|| self.query(key).map(str::to_owned))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use futures::StreamExt as _;
    use serde_json::json;

    async fn extract(body: Body) -> Input {
        let request = Request::post("/").body(body).unwrap();
        Input::from_request(request, &()).await.unwrap()
    }

    #[tokio::test]
    async fn a_body_over_the_limit_is_malformed() {
        let fits = extract(Body::from(format!("a={}", "1".repeat(BODY_LIMIT - 2)))).await;
        assert_eq!((fits.body.len(), fits.body_malformed), (1, false));
        let over = extract(Body::from(format!("a={}", "1".repeat(BODY_LIMIT - 1)))).await;
        assert_eq!((over.body.len(), over.body_malformed), (0, true));
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_not_all_there_within_the_read_timeout_is_malformed() {
        let started = tokio::time::Instant::now();
        let stalled = futures::stream::iter([Ok::<_, std::io::Error>(bytes::Bytes::from_static(
            b"a=1&b=",
        ))])
        .chain(futures::stream::pending());
        let read = tokio::time::timeout(
            Duration::from_secs(3600),
            extract(Body::from_stream(stalled)),
        )
        .await
        .expect("a stalled body is not waited for forever");
        assert_eq!((read.body.len(), read.body_malformed), (0, true));
        assert!(started.elapsed() >= BODY_READ_TIMEOUT, "not before it");
    }

    fn input(body: &[u8]) -> Input {
        let (body, body_malformed) = parse_body(body);
        Input {
            body,
            body_malformed,
            ..Input::default()
        }
    }

    #[test]
    fn json_objects_are_read_and_everything_else_is_empty() {
        let i = input(br#"{"phone": 3211234567, "code": " 123456 ", "flag": "true", "empty": ""}"#);
        assert_eq!(i.str("phone").as_deref(), Some("3211234567"));
        assert_eq!(i.str("code").as_deref(), Some("123456"));
        assert_eq!(i.bool("flag"), Some(true));
        assert_eq!(i.str("empty"), None);
        assert!(!i.body_malformed);
        for bad in [&b"{not json"[..], b"[1,2]", b"\"text\"", b"\xff\xfe"] {
            let i = input(bad);
            assert!(i.body.is_empty());
            assert!(i.body_malformed, "{bad:?}");
        }
        assert!(!input(b"  ").body_malformed);
    }

    #[test]
    fn booleans_are_read_in_every_documented_form() {
        let i = input(
            br#"{"t": true, "f": false, "ts": " TRUE ", "fs": "false", "one": "1", "zero": "0",
                 "n1": 1, "n0": 0, "n2": 2, "neg": -1, "half": 0.5, "word": "maybe", "null": null}"#,
        );
        let read = |key| i.bool(key);
        assert_eq!(read("t"), Some(true));
        assert_eq!(read("f"), Some(false));
        assert_eq!(read("ts"), Some(true));
        assert_eq!(read("fs"), Some(false));
        assert_eq!(read("one"), Some(true));
        assert_eq!(read("zero"), Some(false));
        assert_eq!(read("n1"), Some(true));
        assert_eq!(read("n0"), Some(false));
        assert_eq!(read("n2"), Some(true));
        for unread in ["neg", "half", "word", "null", "absent"] {
            assert_eq!(read(unread), None, "{unread}");
        }
    }

    #[test]
    fn text_is_a_form_only_with_a_pair_and_never_as_broken_json() {
        // Broken JSON holding an `=` is not taken for a form, nor is text without any pair.
        for broken in [
            &br#"{"code":"a=b""#[..],
            b"[\"a=b\"",
            b"hello",
            b"  plain text",
        ] {
            assert_eq!(read_body(broken).1, BodyKind::Malformed, "{broken:?}");
        }
        assert_eq!(read_body(b" lang=tr").1, BodyKind::Form);
    }

    #[test]
    fn forms_are_read_too() {
        let i = input(b"sessionId=abc123&lang=tr");
        assert_eq!(i.str("sessionId").as_deref(), Some("abc123"));
        assert_eq!(read_body(b"sessionId=abc123").1, BodyKind::Form);
        assert_eq!(read_body(br#"{"a":1}"#).1, BodyKind::Json);
        assert_eq!(read_body(b" ").1, BodyKind::Empty);
        assert_eq!(i.body.get("lang"), Some(&json!("tr")));
    }

    #[test]
    fn json_providers_read_json_only_under_a_json_content_type() {
        let body = br#"{"phone":"3211234567"}"#;
        for json_type in [
            "application/json",
            "Application/JSON; charset=UTF-8",
            "application/merge-patch+json",
            " application/json ;charset=utf-8",
        ] {
            let (map, kind) = read_as(BodyFormat::Json, Some(json_type), body);
            assert_eq!((kind, map.len()), (BodyKind::Json, 1), "{json_type}");
        }
        for other in [
            None,
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
            Some("application/jsonx"),
            Some("json"),
        ] {
            let (map, kind) = read_as(BodyFormat::Json, other, body);
            assert_eq!((kind, map.len()), (BodyKind::Malformed, 0), "{other:?}");
        }
        let form = read_as(
            BodyFormat::Json,
            Some("application/x-www-form-urlencoded"),
            b"phone=3211234567",
        );
        assert_eq!(
            form,
            (Map::new(), BodyKind::Malformed),
            "no form for JSON APIs"
        );
        assert_eq!(
            read_as(BodyFormat::Json, Some("application/json"), b"[1]").1,
            BodyKind::Malformed
        );
        assert_eq!(read_as(BodyFormat::Json, None, b" \n").1, BodyKind::Empty);
    }

    #[test]
    fn form_providers_read_forms_only_under_the_form_content_type() {
        let form = "application/x-www-form-urlencoded; charset=utf-8";
        let (map, kind) = read_as(
            BodyFormat::Form,
            Some(form),
            b"To=%2B15017122661&Channel=sms",
        );
        assert_eq!(kind, BodyKind::Form);
        assert_eq!(map.get("To"), Some(&json!("+15017122661")));
        for other in [None, Some("application/json")] {
            let (map, kind) = read_as(BodyFormat::Form, other, br#"{"To":"+15017122661"}"#);
            assert_eq!((kind, map.len()), (BodyKind::Malformed, 0), "{other:?}");
        }
    }
}
