//! Verification attempts, Twilio's read-only Verification Attempts API: `GET /v2/Attempts`
//! (list, filtered and paged) and `GET /v2/Attempts/{Sid}` (fetch).
//!
//! Every send of a code is an Attempt resource, with the SID, channel and time of its
//! `send_code_attempts` entry. Its `conversion_status` is `converted` once its verification is
//! approved (by its code at `VerificationCheck` or by an update), with the approval as
//! `date_updated`, `unconverted` otherwise. Attempts outlive their verification for the API
//! (an approved, canceled or expired verification answers `20404`, its attempts are still
//! listed): they live in its record, as long as the sandbox keeps it.

use std::cmp::Reverse;

use axum::extract::{Path, State as AxumState};
use axum::http::StatusCode;
use axum::response::Response;
use phone_verify_core::PhoneNumber;
use time::PrimitiveDateTime;

use super::error::{TwError, respond};
use super::format::is_sid;
use super::page::{Paging, Place};
use super::records::{Attempt, Verification};
use super::request::{authenticate, base_url};
use super::slot::Twilio;
use crate::body::Input;

/// An attempt's place in the list, newest first: by `date_created` (in whole seconds, as it is
/// written), then by SID, both descending. A page token writes it `{Sid}{unix seconds}`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Newest(Reverse<i64>, Reverse<String>);

impl Newest {
    fn of(attempt: &Attempt) -> Self {
        Self(
            Reverse(attempt.time.unix_timestamp()),
            Reverse(attempt.sid.clone()),
        )
    }
}

impl Place for Newest {
    fn write(&self) -> String {
        format!("{}{}", self.1.0, self.0.0)
    }

    fn read(raw: &str) -> Option<Self> {
        let sid = raw.get(..34).filter(|sid| is_sid(sid, "VL"))?;
        let seconds = &raw[34..];
        if seconds.is_empty() || !seconds.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Some(Self(
            Reverse(seconds.parse().ok()?),
            Reverse(sid.to_owned()),
        ))
    }
}

/// The filters of `GET /v2/Attempts`, each optional (an empty value is no filter).
#[derive(Debug, Default)]
struct Filters {
    verification_sid: Option<String>,
    service_sid: Option<String>,
    /// `Status`: `converted` (true) or `unconverted` (false), in either case.
    converted: Option<bool>,
    /// `Channel`, lowercase: `sms`, `call`, `email`, `whatsapp` or `rbm` (which the sandbox
    /// never sends on).
    channel: Option<String>,
    /// `ChannelData.To`, an E.164 number.
    to: Option<String>,
    /// `Country`, uppercase: the region of the number in libphonenumber's metadata.
    country: Option<String>,
    /// `DateCreatedAfter`, in unix seconds: attempts created at or after it.
    created_after: Option<i64>,
    /// `DateCreatedBefore`, in unix seconds: attempts created before it.
    created_before: Option<i64>,
    /// The filters as given, which the page URLs repeat.
    given: Vec<(&'static str, String)>,
}

impl Filters {
    /// Reads the filters of the query; `60200` for a malformed one.
    fn parse(input: &Input) -> Result<Self, TwError> {
        let mut filters = Self::default();
        filters.verification_sid = filters.read(input, "VerificationSid", |raw| {
            is_sid(raw, "VE").then(|| raw.to_owned())
        })?;
        filters.service_sid = filters.read(input, "VerifyServiceSid", |raw| {
            is_sid(raw, "VA").then(|| raw.to_owned())
        })?;
        filters.converted = filters.read(input, "Status", |raw| {
            match raw.to_ascii_lowercase().as_str() {
                "converted" => Some(true),
                "unconverted" => Some(false),
                _ => None,
            }
        })?;
        filters.channel = filters.read(input, "Channel", |raw| {
            let channel = raw.to_ascii_lowercase();
            matches!(
                channel.as_str(),
                "sms" | "call" | "email" | "whatsapp" | "rbm"
            )
            .then_some(channel)
        })?;
        filters.to = filters.read(input, "ChannelData.To", |raw| {
            let digits = raw.strip_prefix('+')?;
            let e164 = (2..=15).contains(&digits.len())
                && !digits.starts_with('0')
                && digits.bytes().all(|b| b.is_ascii_digit());
            e164.then(|| raw.to_owned())
        })?;
        filters.country = filters.read(input, "Country", |raw| {
            (raw.len() == 2 && raw.bytes().all(|b| b.is_ascii_alphabetic()))
                .then(|| raw.to_ascii_uppercase())
        })?;
        filters.created_after = filters.read(input, "DateCreatedAfter", date_param)?;
        filters.created_before = filters.read(input, "DateCreatedBefore", date_param)?;
        Ok(filters)
    }

    /// The query parameter `key` read by `valid` (`None`: malformed, `60200`); `None` when
    /// absent or empty. A given filter is kept for the page URLs.
    fn read<T>(
        &mut self,
        input: &Input,
        key: &'static str,
        valid: impl Fn(&str) -> Option<T>,
    ) -> Result<Option<T>, TwError> {
        match input.query(key).map(str::trim) {
            None | Some("") => Ok(None),
            Some(raw) => {
                let value = valid(raw).ok_or_else(|| TwError::invalid(key, Some(raw)))?;
                self.given.push((key, raw.to_owned()));
                Ok(Some(value))
            }
        }
    }

    /// Whether the attempts of `verification` may be listed: its SID, service, conversion,
    /// number and the number's country.
    fn keeps_verification(&self, verification: &Verification) -> bool {
        let country = || {
            self.country.as_ref().is_none_or(|country| {
                PhoneNumber::parse(&verification.to)
                    .is_ok_and(|phone| phone.region() == Some(country.as_str()))
            })
        };
        self.verification_sid
            .as_ref()
            .is_none_or(|sid| *sid == verification.sid)
            && self
                .service_sid
                .as_ref()
                .is_none_or(|sid| *sid == verification.service_sid)
            && self
                .converted
                .is_none_or(|converted| converted == verification.converted())
            && self.to.as_ref().is_none_or(|to| *to == verification.to)
            && country()
    }

    /// Whether `attempt` (of a kept verification) is listed: its channel and creation time.
    fn keeps_attempt(&self, attempt: &Attempt) -> bool {
        let created = attempt.time.unix_timestamp();
        self.channel
            .as_ref()
            .is_none_or(|channel| channel == attempt.channel.as_str())
            && self.created_after.is_none_or(|after| created >= after)
            && self.created_before.is_none_or(|before| created < before)
    }
}

/// A date filter, `yyyy-MM-ddTHH:mm:ssZ` (UTC) exactly, in unix seconds.
fn date_param(raw: &str) -> Option<i64> {
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    (raw.len() == 20)
        .then(|| PrimitiveDateTime::parse(raw, format).ok())
        .flatten()
        .map(|date| date.assume_utc().unix_timestamp())
}

/// `GET /v2/Attempts` with the filters `VerificationSid`, `VerifyServiceSid`, `Status`,
/// `Channel`, `ChannelData.To`, `Country`, `DateCreatedAfter`, `DateCreatedBefore` and the
/// paging of every list: 200 with `attempts` (newest first) and Twilio's `meta`; `60200` for
/// a malformed parameter.
pub(super) async fn list(AxumState(app): AxumState<Twilio>, input: Input) -> Response {
    respond((|| {
        authenticate(&input)?;
        let filters = Filters::parse(&input)?;
        let paging = Paging::parse(&input)?;
        let base = base_url(&input);
        let state = app.lock();
        let verifications = &state.twilio.verifications;
        let candidates: Vec<&Verification> = match &filters.verification_sid {
            Some(sid) => verifications.get(sid).into_iter().collect(),
            None => verifications.values().collect(),
        };
        let mut attempts: Vec<(&Verification, &Attempt)> = candidates
            .into_iter()
            .filter(|v| filters.keeps_verification(v))
            .flat_map(|v| {
                v.attempts
                    .iter()
                    .filter(|a| filters.keeps_attempt(a))
                    .map(move |a| (v, a))
            })
            .collect();
        attempts.sort_by_cached_key(|(_, attempt)| Newest::of(attempt));
        Ok((
            StatusCode::OK,
            paging.answer(
                "attempts",
                &format!("{base}/Attempts"),
                &filters.given,
                &attempts,
                |(_, attempt)| Newest::of(attempt),
                |(verification, attempt)| verification.attempt_json(attempt, &base),
            ),
        ))
    })())
}

/// `GET /v2/Attempts/{Sid}`: 200 with the attempt, `20404` for an unknown (or malformed) SID.
pub(super) async fn fetch(
    AxumState(app): AxumState<Twilio>,
    Path(sid): Path<String>,
    input: Input,
) -> Response {
    respond((|| {
        authenticate(&input)?;
        let state = app.lock();
        let (verification, attempt) = state
            .twilio
            .attempt(&sid)
            .ok_or_else(|| TwError::not_found(&format!("/v2/Attempts/{sid}")))?;
        Ok((
            StatusCode::OK,
            verification.attempt_json(attempt, &base_url(&input)),
        ))
    })())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::{Duration, OffsetDateTime};

    use super::super::records::{Status, TwChannel};

    const VL: &str = "VL0123456789abcdef0123456789abcdef";

    fn query(pairs: &[(&str, &str)]) -> Input {
        Input {
            query: pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            ..Input::default()
        }
    }

    fn verification(status: Status) -> Verification {
        let t0 = OffsetDateTime::UNIX_EPOCH + Duration::days(20_000);
        Verification {
            sid: "VE0123456789abcdef0123456789abcdef".into(),
            service_sid: "VA0123456789abcdef0123456789abcdef".into(),
            to: "+905321234567".into(),
            channel: TwChannel::Sms,
            status,
            code: "123456".into(),
            failed_checks: 0,
            attempts: vec![Attempt {
                time: t0,
                channel: TwChannel::Sms,
                sid: VL.into(),
            }],
            lookup: json!({}),
            amount: None,
            payee: None,
            date_created: t0,
            date_updated: t0 + Duration::minutes(2),
            expires_at: t0 + Duration::minutes(10),
        }
    }

    #[test]
    fn places_are_newest_first_and_read_back() {
        let newer = Newest(Reverse(200), Reverse("VLa".into()));
        let older = Newest(Reverse(100), Reverse("VLb".into()));
        assert!(newer < older);
        assert!(
            Newest(Reverse(100), Reverse("VLb".into()))
                < Newest(Reverse(100), Reverse("VLa".into())),
            "then by SID, descending"
        );
        let place = Newest(Reverse(1_700_000_000), Reverse(VL.into()));
        assert_eq!(place.write(), format!("{VL}1700000000"));
        assert_eq!(Newest::read(&place.write()), Some(place));
        for bad in [
            VL.to_owned(),
            format!("{VL}-1"),
            format!("{VL}1a"),
            format!("VE{}1", &VL[2..]),
            format!("{}1", &VL[..33]),
            "Ş".repeat(20),
        ] {
            assert_eq!(Newest::read(&bad), None, "{bad}");
        }
    }

    #[test]
    fn filters_read_twilios_values_and_refuse_others() {
        let filters = Filters::parse(&query(&[
            ("Status", "CONVERTED"),
            ("Channel", "SMS"),
            ("Country", "tr"),
            ("ChannelData.To", "+905321234567"),
            ("DateCreatedAfter", "2024-01-02T03:04:05Z"),
            ("VerificationSid", ""),
        ]))
        .unwrap();
        assert_eq!(filters.converted, Some(true));
        assert_eq!(filters.channel.as_deref(), Some("sms"));
        assert_eq!(filters.country.as_deref(), Some("TR"));
        assert_eq!(filters.created_after, Some(1_704_164_645));
        assert_eq!(filters.verification_sid, None, "empty: no filter");
        assert_eq!(filters.given.len(), 5);
        for (key, bad) in [
            ("VerificationSid", "VE123"),
            ("VerificationSid", VL),
            ("VerifyServiceSid", "VE0123456789abcdef0123456789abcdef"),
            ("Status", "approved"),
            ("Channel", "telegram"),
            ("ChannelData.To", "905321234567"),
            ("ChannelData.To", "+0905321234567"),
            ("ChannelData.To", "+9053212345671234"),
            ("Country", "TUR"),
            ("Country", "T1"),
            ("DateCreatedAfter", "2024-01-02"),
            ("DateCreatedBefore", "2024-01-02T03:04:05+01:00"),
            ("DateCreatedBefore", "2024-13-02T03:04:05Z"),
        ] {
            assert_eq!(
                Filters::parse(&query(&[(key, bad)])).unwrap_err(),
                TwError::invalid(key, Some(bad)),
                "{key}={bad}"
            );
        }
    }

    #[test]
    fn filters_keep_what_they_name() {
        let approved = verification(Status::Approved);
        let pending = verification(Status::Pending);
        let attempt = &approved.attempts[0];
        let keeps = |pairs: &[(&str, &str)], v: &Verification| {
            let filters = Filters::parse(&query(pairs)).unwrap();
            filters.keeps_verification(v) && filters.keeps_attempt(attempt)
        };
        assert!(keeps(&[], &pending));
        assert!(keeps(&[("Status", "converted")], &approved));
        assert!(!keeps(&[("Status", "converted")], &pending));
        assert!(keeps(&[("Status", "Unconverted")], &pending));
        assert!(keeps(&[("Country", "TR")], &approved));
        assert!(!keeps(&[("Country", "US")], &approved));
        assert!(keeps(&[("ChannelData.To", "+905321234567")], &approved));
        assert!(!keeps(&[("ChannelData.To", "+15017122661")], &approved));
        assert!(keeps(&[("Channel", "sms")], &approved));
        assert!(!keeps(&[("Channel", "call")], &approved));
        assert!(!keeps(&[("Channel", "rbm")], &approved));
        let created = date_string(attempt.time);
        let later = date_string(attempt.time + Duration::seconds(1));
        assert!(keeps(&[("DateCreatedAfter", &created)], &approved));
        assert!(!keeps(&[("DateCreatedAfter", &later)], &approved));
        assert!(keeps(&[("DateCreatedBefore", &later)], &approved));
        assert!(!keeps(&[("DateCreatedBefore", &created)], &approved));
        let mut other = verification(Status::Pending);
        other.sid = "VEffffffffffffffffffffffffffffffff".into();
        assert!(!keeps(&[("VerificationSid", &approved.sid)], &other));
        assert!(!keeps(
            &[("VerifyServiceSid", "VAffffffffffffffffffffffffffffffff")],
            &approved
        ));
    }

    fn date_string(t: OffsetDateTime) -> String {
        super::super::format::date(t)
    }

    #[test]
    fn an_attempt_is_converted_with_its_verification() {
        let pending = verification(Status::Pending);
        let attempt = &pending.attempts[0];
        let json = pending.attempt_json(attempt, "https://h/v2");
        assert_eq!(json["conversion_status"], "unconverted");
        assert_eq!(json["date_updated"], json["date_created"]);
        assert_eq!(json["url"], format!("https://h/v2/Attempts/{VL}"));
        assert_eq!(
            json["channel_data"],
            json!({"to": "+905321234567", "status": "delivered"})
        );
        let approved = verification(Status::Approved);
        let json = approved.attempt_json(attempt, "https://h/v2");
        assert_eq!(json["conversion_status"], "converted");
        assert_eq!(json["date_updated"], date_string(approved.date_updated));
        for status in [
            Status::Canceled,
            Status::Expired,
            Status::MaxAttemptsReached,
        ] {
            let json = verification(status).attempt_json(attempt, "https://h/v2");
            assert_eq!(json["conversion_status"], "unconverted", "{status:?}");
        }
    }
}
