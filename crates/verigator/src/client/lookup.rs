//! Finding one user in a service's user list without holding the list: the answer to
//! `GET …/users` is streamed ([`HttpStream`]) and decoded user by user, so memory stays
//! constant whatever the number of users, and no response-size cap applies to it.
//!
//! serde_json decodes from a blocking [`Read`]er, so the decoding runs on Tokio's blocking
//! pool, fed the body's pieces through a small bounded channel: at most [`CHANNEL_DEPTH`]
//! pieces and the user being decoded are in memory. The scan stops at the first match.
//!
//! Each user of the list is read for its `id` and `id_in_service` only, leniently (`ctime`
//! and other fields are skipped, a field of an unexpected type counts as absent), and only the
//! matching user's id must be one a URL can take: one odd user cannot hide the others.

use std::fmt;
use std::io::{self, Read};

use bytes::{Buf, Bytes};
use phone_verify_core::kit::lenient::Scalar;
use phone_verify_core::kit::{HttpStream, redacted_excerpt, scrub_secrets};
use phone_verify_core::{Error, ErrorKind, Result};
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use tokio::sync::mpsc;

use crate::config::{PROVIDER, is_valid_id};
use crate::wire::User;

/// Body pieces in flight between the connection and the decoder.
const CHANNEL_DEPTH: usize = 8;

/// The message of the serde error that stops the scan at a match.
const FOUND: &str = "phone-verify: user found";

/// Scans a 2xx answer to `GET …/users` for the user registered with `id_in_service`; the user
/// found carries its id and `id_in_service` (no `ctime`). A body that is not a user list is a
/// [`ErrorKind::Decode`] error (redacted, without `secrets`); a failure reading it is the
/// stream's error, unless the user was found before it.
pub(crate) async fn find_user(
    mut stream: HttpStream,
    id_in_service: &str,
    secrets: &[&str],
) -> Result<Option<User>> {
    let (tx, rx) = mpsc::channel::<Bytes>(CHANNEL_DEPTH);
    let wanted = id_in_service.to_owned();
    let decoder = tokio::task::spawn_blocking(move || scan(ChannelReader::new(rx), &wanted));
    let mut read_error = None;
    loop {
        match stream.chunk().await {
            Ok(Some(chunk)) => {
                if tx.send(chunk).await.is_err() {
                    break; // the decoder is done (a match, or a malformed body)
                }
            }
            Ok(None) => break,
            Err(err) => {
                read_error = Some(err);
                break;
            }
        }
    }
    drop(tx);
    let scanned = decoder.await.map_err(|e| {
        Error::new(
            ErrorKind::Decode,
            "list-users: the user list decoder failed",
        )
        .with_provider(PROVIDER)
        .with_source(e)
    })?;
    match (scanned, read_error) {
        // The user was found before the body failed: what follows it is not needed.
        (Ok(Some(user)), _) => Ok(Some(user)),
        // A body cut short decodes as malformed: the read failure is the cause.
        (_, Some(err)) => Err(err),
        (scanned, None) => scanned.map_err(|e| {
            let cause = redacted_excerpt(scrub_secrets(&e.to_string(), secrets).as_bytes());
            Error::new(
                ErrorKind::Decode,
                format!(
                    "list-users answered HTTP {} with a body that is not the expected user list \
                 ({cause})",
                    stream.status().as_u16()
                ),
            )
            .with_provider(PROVIDER)
            .with_http_status(stream.status().as_u16())
        }),
    }
}

/// Decodes a user list from `reader`, stopping at the user with `wanted` as `id_in_service`.
pub(crate) fn scan(reader: impl Read, wanted: &str) -> serde_json::Result<Option<User>> {
    let mut found = None;
    let mut deserializer = serde_json::Deserializer::from_reader(reader);
    let outcome = ListScan {
        wanted,
        found: &mut found,
    }
    .deserialize(&mut deserializer)
    .and_then(|()| deserializer.end());
    match outcome {
        Err(_) if found.is_some() => Ok(found),
        Err(e) => Err(e),
        Ok(()) => Ok(None),
    }
}

/// The list object: `{"users": [...], ...}`; other fields are skipped.
struct ListScan<'a> {
    wanted: &'a str,
    found: &'a mut Option<User>,
}

impl<'de> DeserializeSeed<'de> for ListScan<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ListScan<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a user list object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut users_seen = false;
        while let Some(key) = map.next_key::<String>()? {
            if key == "users" && !users_seen {
                users_seen = true;
                map.next_value_seed(UsersScan {
                    wanted: self.wanted,
                    found: &mut *self.found,
                })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        if users_seen {
            Ok(())
        } else {
            Err(de::Error::missing_field("users"))
        }
    }
}

/// The `users` array (or `null`, as no users).
struct UsersScan<'a> {
    wanted: &'a str,
    found: &'a mut Option<User>,
}

impl<'de> DeserializeSeed<'de> for UsersScan<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for UsersScan<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of users")
    }

    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(user) = seq.next_element::<Listed<'_>>()? {
            let Some(id_in_service) = user.id_in_service.and_then(Scalar::into_text) else {
                continue;
            };
            if id_in_service != self.wanted {
                continue;
            }
            // The id goes into later URLs: the match's must be one they can take.
            let id = match user.id {
                Some(id @ (Scalar::Str(_) | Scalar::Number(_))) => id.into_string(),
                _ => None,
            }
            .filter(|id| is_valid_id(id))
            .ok_or_else(|| {
                de::Error::custom("expected an id of ASCII letters, digits, '-' or '_'")
            })?;
            *self.found = Some(User::known(id, id_in_service.into_owned()));
            // Stop reading: the rest of the list is not needed.
            return Err(de::Error::custom(FOUND));
        }
        Ok(())
    }
}

/// One user of the list, as the scan reads it: `id` and `id_in_service` as any JSON value
/// (an id is a string or a number, an `id_in_service` a string, number or boolean; anything
/// else counts as absent), every other field skipped.
#[derive(Deserialize)]
struct Listed<'a> {
    #[serde(default, borrow)]
    id: Option<Scalar<'a>>,
    #[serde(default, borrow)]
    id_in_service: Option<Scalar<'a>>,
}

/// A blocking [`Read`] over the body pieces sent through a channel; the end of the channel
/// is the end of the body.
struct ChannelReader {
    rx: mpsc::Receiver<Bytes>,
    current: Bytes,
}

impl ChannelReader {
    fn new(rx: mpsc::Receiver<Bytes>) -> Self {
        Self {
            rx,
            current: Bytes::new(),
        }
    }
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                Some(chunk) => self.current = chunk,
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        self.current.advance(n);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan_str(body: &str, wanted: &str) -> serde_json::Result<Option<User>> {
        scan(body.as_bytes(), wanted)
    }

    #[test]
    fn finds_the_user_and_stops() {
        let body = r#"{"total":3,"users":[
            {"id":"u-1","id_in_service":"+1"},
            {"id":"u-2","id_in_service":"+2","ctime":"2017-09-15T06:44:15.274438"},
            {"id":"u-3","id_in_service":"+3"}
        ],"count":3}"#;
        assert_eq!(scan_str(body, "+2").unwrap().unwrap().id, "u-2");
        assert_eq!(scan_str(body, "+9").unwrap(), None);
        // Stops at the match: what follows is never read.
        let cut = r#"{"users":[{"id":"u-1","id_in_service":"+1"},{"id":"#;
        assert_eq!(scan_str(cut, "+1").unwrap().unwrap().id, "u-1");
    }

    #[test]
    fn an_odd_user_does_not_hide_the_others() {
        // Only the match's id must be path-safe; other fields are skipped or read as absent.
        let body = r#"{"users":[
            {"id":"u-1","id_in_service":"+1","ctime":"garbage"},
            {"id":"../x","id_in_service":"+3","ctime":{}},
            {"id":{"x":1},"id_in_service":["+4"]},
            {"id":true,"id_in_service":null,"extra":[1,{"a":2}]},
            {"id":"u-2","id_in_service":"+2"}
        ]}"#;
        let found = scan_str(body, "+2").unwrap().unwrap();
        assert_eq!(found.id, "u-2");
        assert_eq!(found.id_in_service.as_deref(), Some("+2"));
        assert_eq!(found.ctime, None, "the list's times are not read");
        assert_eq!(scan_str(body, "+1").unwrap().unwrap().id, "u-1");
        assert_eq!(scan_str(body, "+9").unwrap(), None);
        // The match's id still goes into URLs: one they cannot take is an error.
        for wanted in ["+3", "+4"] {
            let list = r#"{"users":[{"id":"../x","id_in_service":"+3"},{"id":true,"id_in_service":"+4"}]}"#;
            let err = scan_str(list, wanted).unwrap_err().to_string();
            assert!(err.contains("expected an id"), "{wanted}: {err}");
        }
        // Numbers are ids, as everywhere else.
        let numeric = scan_str(r#"{"users":[{"id":7,"id_in_service":" +5 "}]}"#, "+5");
        assert_eq!(numeric.unwrap().unwrap().id, "7");
    }

    #[test]
    fn null_and_empty_lists_have_no_users() {
        assert_eq!(scan_str(r#"{"users":null}"#, "+1").unwrap(), None);
        assert_eq!(scan_str(r#"{"users":[],"total":0}"#, "+1").unwrap(), None);
    }

    #[test]
    fn malformed_lists_are_errors() {
        for body in [
            "",
            "[]",
            "null",
            r#"{"total":1}"#,
            r#"{"users":"everyone"}"#,
            r#"{"users":[{"id":"../x","id_in_service":"+1"}]}"#,
            r#"{"users":[{"id":"u-1","id_in_service":"+2"}"#,
            r#"{"users":[]} trailing"#,
        ] {
            assert!(scan_str(body, "+1").is_err(), "{body:?}");
        }
        // The decode error says what was expected.
        let err = scan_str("[]", "+1").unwrap_err().to_string();
        assert!(err.contains("expected a user list object"), "{err}");
        let err = scan_str(r#"{"users":"everyone"}"#, "+1")
            .unwrap_err()
            .to_string();
        assert!(err.contains("expected a list of users"), "{err}");
    }

    #[test]
    fn reads_across_pieces() {
        let (tx, rx) = mpsc::channel(4);
        let body =
            r#"{"users":[{"id":"u-1","id_in_service":"+1"},{"id":"u-2","id_in_service":"+2"}]}"#;
        let pieces: Vec<Bytes> = body
            .as_bytes()
            .chunks(7)
            .map(Bytes::copy_from_slice)
            .collect();
        let feeder = std::thread::spawn(move || {
            for piece in pieces {
                tx.blocking_send(piece).unwrap();
            }
        });
        let found = scan(ChannelReader::new(rx), "+2").unwrap();
        feeder.join().unwrap();
        assert_eq!(found.unwrap().id, "u-2");
    }
}
