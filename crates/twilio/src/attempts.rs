//! The Verification Attempts API (`GET /v2/Attempts`, `GET /v2/Attempts/{Sid}`): its filters
//! and answers, as Twilio's OpenAPI names them (`verify.v2.verification_attempt`). Each send
//! of a code is an attempt; an attempt is `converted` once its verification was approved.
//! Answers are decoded leniently, as [`wire`](crate::wire) decodes the others.

use std::fmt;

use phone_verify_core::kit::{lenient, mask_numbers};
use serde::{Deserialize, Deserializer};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::wire::{PageMeta, TwilioChannel, opt_meta, opt_time};

/// An attempt's `conversion_status`: whether its verification was approved.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConversionStatus {
    /// `converted`: the user gave the right code (the verification was approved).
    Converted,
    /// `unconverted`: not (yet) approved.
    Unconverted,
    /// A status Twilio may add later, as sent.
    Other(String),
}

impl ConversionStatus {
    /// The status for its wire name (any case: Twilio's prose writes `CONVERTED`).
    pub fn parse(name: &str) -> Self {
        let name = name.trim();
        if name.eq_ignore_ascii_case("converted") {
            Self::Converted
        } else if name.eq_ignore_ascii_case("unconverted") {
            Self::Unconverted
        } else {
            Self::Other(name.to_owned())
        }
    }

    /// The wire name of a status the filter `Status` takes (`None` for [`Self::Other`]).
    fn filter_name(&self) -> Option<&'static str> {
        match self {
            Self::Converted => Some("converted"),
            Self::Unconverted => Some("unconverted"),
            Self::Other(_) => None,
        }
    }
}

/// A conversion status, or `None` when absent, `null` or blank.
fn opt_conversion<'de, D: Deserializer<'de>>(d: D) -> Result<Option<ConversionStatus>, D::Error> {
    Ok(lenient::opt_non_blank_text(d)?.map(|s| ConversionStatus::parse(&s)))
}

/// An object Twilio may leave out (`null` or absent: `None`), kept as sent.
fn opt_value<'de, D: Deserializer<'de>>(d: D) -> Result<Option<serde_json::Value>, D::Error> {
    Ok(Option::<serde_json::Value>::deserialize(d)?.filter(|value| !value.is_null()))
}

/// A Verification Attempt resource (`verify.v2.verification_attempt`): one send of a code.
#[derive(Clone, Deserialize, PartialEq)]
#[non_exhaustive]
pub struct Attempt {
    /// `sid`: `VL…`.
    #[serde(default, deserialize_with = "lenient::opt_non_blank_string")]
    pub sid: Option<String>,
    /// `service_sid`: the Verify service (`VA…`).
    #[serde(default, deserialize_with = "lenient::opt_non_blank_string")]
    pub service_sid: Option<String>,
    /// `verification_sid`: the verification (`VE…`) the attempt belongs to.
    #[serde(default, deserialize_with = "lenient::opt_non_blank_string")]
    pub verification_sid: Option<String>,
    /// `channel`, as sent (`sms`, `call`, `email`, `whatsapp`, `rbm`).
    #[serde(default, deserialize_with = "lenient::opt_non_blank_string")]
    pub channel: Option<String>,
    /// `conversion_status` (`None` when Twilio sends none).
    #[serde(default, deserialize_with = "opt_conversion")]
    pub conversion_status: Option<ConversionStatus>,
    /// `date_created`: when the code was sent.
    #[serde(default, deserialize_with = "opt_time")]
    pub date_created: Option<OffsetDateTime>,
    /// `date_updated`: when the attempt last changed (its conversion, its delivery status or
    /// its price).
    #[serde(default, deserialize_with = "opt_time")]
    pub date_updated: Option<OffsetDateTime>,
    /// `channel_data`: the channel's details (its `to`, the message's status), as sent.
    #[serde(default, deserialize_with = "opt_value")]
    pub channel_data: Option<serde_json::Value>,
    /// `price`: `{"value", "currency"}`, as sent; Twilio may not know it yet.
    #[serde(default, deserialize_with = "opt_value")]
    pub price: Option<serde_json::Value>,
}

impl Attempt {
    /// `channel_data.to`: the number or address the code went to, when Twilio says.
    pub fn to(&self) -> Option<&str> {
        self.channel_data.as_ref()?.get("to")?.as_str()
    }

    /// Whether the attempt is `converted`.
    pub fn is_converted(&self) -> bool {
        self.conversion_status == Some(ConversionStatus::Converted)
    }
}

impl fmt::Debug for Attempt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The channel's data holds the recipient: never shown.
        f.debug_struct("Attempt")
            .field("sid", &self.sid)
            .field("service_sid", &self.service_sid)
            .field("verification_sid", &self.verification_sid)
            .field("channel", &self.channel)
            .field("conversion_status", &self.conversion_status)
            .field("date_created", &self.date_created)
            .field("date_updated", &self.date_updated)
            .field(
                "channel_data",
                &self.channel_data.as_ref().map(|_| "<redacted>"),
            )
            .field("price", &self.price)
            .finish()
    }
}

/// One page of `GET /Attempts` (ListVerificationAttempt). Its `Debug` masks the numbers in
/// the page URLs, which repeat the filters (`ChannelData.To` among them).
#[derive(Clone, Default, Deserialize, PartialEq)]
#[non_exhaustive]
pub struct AttemptPage {
    /// `attempts`: this page's attempts (absent or `null`: none).
    #[serde(default, deserialize_with = "lenient::vec")]
    pub attempts: Vec<Attempt>,
    /// `meta`: the page's place in the list (absent or `null`: every field `None`).
    #[serde(default, deserialize_with = "opt_meta")]
    pub meta: PageMeta,
}

impl AttemptPage {
    /// The URL of the next page (`meta.next_page_url`), `None` on the last page.
    pub fn next_page_url(&self) -> Option<&str> {
        self.meta.next_page_url.as_deref()
    }
}

impl fmt::Debug for AttemptPage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let meta = &self.meta;
        let masked = |url: &Option<String>| url.as_deref().map(mask_numbers);
        f.debug_struct("AttemptPage")
            .field("attempts", &self.attempts)
            .field("page", &meta.page)
            .field("page_size", &meta.page_size)
            .field("first_page_url", &masked(&meta.first_page_url))
            .field("previous_page_url", &masked(&meta.previous_page_url))
            .field("url", &masked(&meta.url))
            .field("next_page_url", &masked(&meta.next_page_url))
            .field("key", &meta.key)
            .finish()
    }
}

/// The filters of `GET /Attempts`; only what is set is sent. Twilio lists the attempts of
/// the last 30 days.
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListAttempts {
    /// `VerificationSid`: the attempts of one verification (`VE…`).
    pub verification_sid: Option<String>,
    /// `VerifyServiceSid`: the attempts of one Verify service (`VA…`).
    pub service_sid: Option<String>,
    /// `Status`: converted or unconverted attempts ([`ConversionStatus::Other`] is refused).
    pub conversion_status: Option<ConversionStatus>,
    /// `Channel`.
    pub channel: Option<TwilioChannel>,
    /// `ChannelData.To`: the attempts sent to this E.164 number.
    pub to: Option<String>,
    /// `Country`: the attempts sent to this country (ISO 3166-1 alpha-2, e.g. `US`).
    pub country: Option<String>,
    /// `DateCreatedAfter`: attempts created after this time (sent in UTC, to the second).
    pub created_after: Option<OffsetDateTime>,
    /// `DateCreatedBefore`: attempts created before this time (sent in UTC, to the second).
    pub created_before: Option<OffsetDateTime>,
    /// `PageSize`: 1 to 1000 (Twilio's default, 50, when `None`).
    pub page_size: Option<u32>,
}

impl ListAttempts {
    /// Every attempt of the verification `verification_sid`, nothing else set.
    pub fn of_verification(verification_sid: impl Into<String>) -> Self {
        Self {
            verification_sid: Some(verification_sid.into()),
            ..Self::default()
        }
    }

    /// The query parameters, in the OpenAPI's names; `Err` names a filter Twilio cannot take
    /// (the client checks SIDs, the number, the country and the page size).
    pub(crate) fn query(&self) -> Result<Vec<(&'static str, String)>, &'static str> {
        let mut query = Vec::new();
        if let Some(sid) = &self.verification_sid {
            query.push(("VerificationSid", sid.clone()));
        }
        if let Some(sid) = &self.service_sid {
            query.push(("VerifyServiceSid", sid.clone()));
        }
        if let Some(status) = &self.conversion_status {
            let name = status
                .filter_name()
                .ok_or("Status must be converted or unconverted")?;
            query.push(("Status", name.to_owned()));
        }
        if let Some(channel) = self.channel {
            query.push(("Channel", channel.as_str().to_owned()));
        }
        if let Some(to) = &self.to {
            query.push(("ChannelData.To", to.clone()));
        }
        if let Some(country) = &self.country {
            query.push(("Country", country.clone()));
        }
        for (name, time) in [
            ("DateCreatedAfter", self.created_after),
            ("DateCreatedBefore", self.created_before),
        ] {
            if let Some(time) = time {
                query.push((name, utc_second(time)?));
            }
        }
        if let Some(size) = self.page_size {
            query.push(("PageSize", size.to_string()));
        }
        Ok(query)
    }
}

/// `time` as Twilio's filters take it: `yyyy-MM-ddTHH:mm:ssZ`, in UTC, to the second.
fn utc_second(time: OffsetDateTime) -> Result<String, &'static str> {
    let utc = time
        .checked_to_offset(time::UtcOffset::UTC)
        .and_then(|utc| utc.replace_nanosecond(0).ok());
    match utc.map(|utc| utc.format(&Rfc3339)) {
        Some(Ok(text)) if text.len() == 20 => Ok(text),
        _ => Err("a date filter must be between the years 0 and 9999 in UTC"),
    }
}

impl fmt::Debug for ListAttempts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The recipient is never shown.
        f.debug_struct("ListAttempts")
            .field("verification_sid", &self.verification_sid)
            .field("service_sid", &self.service_sid)
            .field("conversion_status", &self.conversion_status)
            .field("channel", &self.channel)
            .field("to", &self.to.as_ref().map(|_| "<redacted>"))
            .field("country", &self.country)
            .field("created_after", &self.created_after)
            .field("created_before", &self.created_before)
            .field("page_size", &self.page_size)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn an_attempt_is_read_leniently_and_never_shows_its_recipient() {
        let attempt: Attempt = serde_json::from_str(
            r#"{"sid": "VL0123456789abcdef0123456789abcdef", "verification_sid":
            "VE0123456789abcdef0123456789abcdef", "channel": "sms", "conversion_status":
            "CONVERTED", "date_created": "2026-12-07T10:00:00Z", "date_updated": "not a date",
            "channel_data": {"to": "+15017122661", "status": "delivered"}, "price": null,
            "unknown": [1, 2]}"#,
        )
        .unwrap();
        assert!(attempt.is_converted());
        assert_eq!(attempt.to(), Some("+15017122661"));
        assert_eq!(attempt.date_created, Some(datetime!(2026-12-07 10:00 UTC)));
        assert_eq!(attempt.date_updated, None);
        assert_eq!(attempt.price, None);
        let shown = format!("{attempt:?}");
        assert!(!shown.contains("5017122661"), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");

        let bare: Attempt = serde_json::from_str(r#"{"conversion_status": null}"#).unwrap();
        assert!(!bare.is_converted());
        assert_eq!(bare.to(), None);
        for (status, parsed) in [
            ("unconverted", ConversionStatus::Unconverted),
            (" Converted ", ConversionStatus::Converted),
            ("pending", ConversionStatus::Other("pending".into())),
        ] {
            assert_eq!(ConversionStatus::parse(status), parsed, "{status}");
        }
    }

    #[test]
    fn a_page_without_attempts_or_meta_is_an_empty_last_page() {
        let page: AttemptPage = serde_json::from_str(r#"{"attempts": null}"#).unwrap();
        assert!(page.attempts.is_empty());
        assert_eq!(page.next_page_url(), None);
        // The page URLs repeat the filters: `Debug` masks the number among them.
        let page: AttemptPage = serde_json::from_str(
            r#"{"attempts": [], "meta": {"url": "https://verify.twilio.com/v2/Attempts?ChannelData.To=%2B15017122661&PageSize=50",
            "next_page_url": "https://verify.twilio.com/v2/Attempts?ChannelData.To=%2B15017122661&Page=1"}}"#,
        )
        .unwrap();
        assert!(page.next_page_url().unwrap().contains("15017122661"));
        let shown = format!("{page:?}");
        assert!(!shown.contains("5017122661"), "{shown}");
        assert!(shown.contains("PageSize=50"), "{shown}");
        // A `meta` that is there but unreadable is an error, not a last page.
        assert!(serde_json::from_str::<AttemptPage>(r#"{"meta": "last"}"#).is_err());
    }

    #[test]
    fn filters_have_the_openapi_names_and_twilio_s_date_form() {
        let mut filter = ListAttempts::of_verification("VE0123456789abcdef0123456789abcdef");
        filter.service_sid = Some("VA0123456789abcdef0123456789abcdef".into());
        filter.conversion_status = Some(ConversionStatus::Unconverted);
        filter.channel = Some(TwilioChannel::Whatsapp);
        filter.to = Some("+15017122661".into());
        filter.country = Some("US".into());
        filter.created_after = Some(datetime!(2026-12-07 12:30:15.75 +02:00));
        filter.created_before = Some(datetime!(2026-12-08 00:00 UTC));
        filter.page_size = Some(20);
        let query = filter.query().unwrap();
        assert_eq!(
            query,
            [
                (
                    "VerificationSid",
                    "VE0123456789abcdef0123456789abcdef".to_owned()
                ),
                (
                    "VerifyServiceSid",
                    "VA0123456789abcdef0123456789abcdef".to_owned()
                ),
                ("Status", "unconverted".to_owned()),
                ("Channel", "whatsapp".to_owned()),
                ("ChannelData.To", "+15017122661".to_owned()),
                ("Country", "US".to_owned()),
                ("DateCreatedAfter", "2026-12-07T10:30:15Z".to_owned()),
                ("DateCreatedBefore", "2026-12-08T00:00:00Z".to_owned()),
                ("PageSize", "20".to_owned()),
            ]
        );
        assert!(ListAttempts::default().query().unwrap().is_empty());
        let shown = format!("{filter:?}");
        assert!(!shown.contains("5017122661"), "{shown}");

        filter.conversion_status = Some(ConversionStatus::Other("pending".into()));
        assert!(filter.query().is_err());
        filter.conversion_status = None;
        filter.created_after = Some(datetime!(-0001-01-01 00:00 UTC));
        assert!(filter.query().is_err());
        // Past year 9999 once in UTC: refused, not a panic.
        filter.created_after = Some(datetime!(9999-12-31 23:30 -01:00));
        assert!(filter.query().is_err());
    }
}
