//! Twilio's list pages: `PageSize`, `Page` and `PageToken`, and the `meta` of a page, for every
//! list the emulator answers (`GET /v2/Services`, `GET /v2/Attempts`).

use std::ops::{Range, RangeInclusive};

use serde_json::{Value, json};

use super::error::TwError;
use crate::body::Input;

/// `PageSize` when the request names none, as on Twilio.
const DEFAULT_PAGE_SIZE: usize = 50;
/// The largest `PageSize` Twilio takes.
const MAX_PAGE_SIZE: usize = 1000;

/// The place of an item in its list: what orders the list, and what a page token names, so
/// that items created or forgotten between two pages do not shift the next one.
pub(super) trait Place: Ord + Sized {
    /// The place as a page token writes it (after `PA` or `PB`): ASCII letters and digits.
    fn write(&self) -> String;
    /// A place as [`write`](Self::write) writes it; `None` for anything else.
    fn read(raw: &str) -> Option<Self>;
}

/// A service's place: its SID (services are listed by SID).
impl Place for String {
    fn write(&self) -> String {
        self.clone()
    }

    fn read(raw: &str) -> Option<Self> {
        let plain =
            !raw.is_empty() && raw.len() <= 64 && raw.bytes().all(|b| b.is_ascii_alphanumeric());
        plain.then(|| raw.to_owned())
    }
}

/// Where a page starts, from its `PageToken`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum PageToken<P> {
    /// `PA{place}`: the items after `place` (Twilio's token of a next page).
    After(P),
    /// `PB{place}`: the items before `place` (Twilio's token of a previous page).
    Before(P),
}

impl<P: Place> PageToken<P> {
    /// `PageToken` as the sandbox writes it; anything else is `60200`.
    fn parse(raw: &str) -> Result<Self, TwError> {
        let invalid = || TwError::invalid("PageToken", Some(raw));
        let kind = raw.get(..2).ok_or_else(invalid)?;
        let place = P::read(&raw[2..]).ok_or_else(invalid)?;
        match kind {
            "PA" => Ok(Self::After(place)),
            "PB" => Ok(Self::Before(place)),
            _ => Err(invalid()),
        }
    }

    /// The token as [`parse`](Self::parse) reads it.
    fn write(&self) -> String {
        match self {
            Self::After(place) => format!("PA{}", place.write()),
            Self::Before(place) => format!("PB{}", place.write()),
        }
    }
}

/// A list request's paging: `PageSize` (1–1000, default 50), `Page` (from 0, default 0) and
/// `PageToken` (which takes precedence over `Page`).
#[derive(Debug)]
pub(super) struct Paging<P> {
    size: usize,
    page: usize,
    token: Option<PageToken<P>>,
}

impl<P: Place> Paging<P> {
    /// Reads the paging parameters of the query; `60200` for an invalid one.
    pub(super) fn parse(input: &Input) -> Result<Self, TwError> {
        Ok(Self {
            size: number_param(input, "PageSize", DEFAULT_PAGE_SIZE, 1..=MAX_PAGE_SIZE)?,
            page: number_param(input, "Page", 0, 0..=usize::MAX)?,
            token: match input.query("PageToken").map(str::trim) {
                None | Some("") => None,
                Some(raw) => Some(PageToken::parse(raw)?),
            },
        })
    }

    /// The page of `items` (sorted by `place`) this paging names, as the range of indexes it
    /// covers: after the token's place, before it, or at `page * size` without one.
    fn range<T>(&self, items: &[T], place: impl Fn(&T) -> P) -> Range<usize> {
        let len = items.len();
        match &self.token {
            None => {
                let start = self.page.saturating_mul(self.size).min(len);
                start..start.saturating_add(self.size).min(len)
            }
            Some(PageToken::After(after)) => {
                let start = items.partition_point(|item| place(item) <= *after);
                start..start.saturating_add(self.size).min(len)
            }
            Some(PageToken::Before(before)) => {
                let end = items.partition_point(|item| place(item) < *before);
                end.saturating_sub(self.size)..end
            }
        }
    }

    /// The answer of a list: `{key: [the page's items], "meta": {...}}`, with Twilio's `meta`
    /// (`page`, `page_size`, `first_page_url`, `previous_page_url`, `url`, `next_page_url`,
    /// `key`). `items` are the whole list, sorted by `place`; `url` is the list's URL, and its
    /// page URLs repeat `filters` (query parameters, encoded here) before the paging ones.
    pub(super) fn answer<T>(
        &self,
        key: &str,
        url: &str,
        filters: &[(&str, String)],
        items: &[T],
        place: impl Fn(&T) -> P,
        to_json: impl Fn(&T) -> Value,
    ) -> Value {
        let range = self.range(items, &place);
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in filters {
            query.append_pair(name, value);
        }
        let mut filters = query.finish();
        if !filters.is_empty() {
            filters.push('&');
        }
        let page_url = |page: usize, token: Option<String>| {
            let mut page_url = format!("{url}?{filters}PageSize={}&Page={page}", self.size);
            if let Some(token) = token {
                page_url.push_str("&PageToken=");
                page_url.push_str(&token);
            }
            page_url
        };
        let next = match items[range.clone()].last() {
            Some(last) if range.end < items.len() => Value::String(page_url(
                self.page.saturating_add(1),
                Some(PageToken::After(place(last)).write()),
            )),
            _ => Value::Null,
        };
        let previous = match items[range.clone()].first() {
            Some(first) if range.start > 0 => Value::String(page_url(
                self.page.saturating_sub(1),
                Some(PageToken::Before(place(first)).write()),
            )),
            _ => Value::Null,
        };
        let current = page_url(self.page, self.token.as_ref().map(PageToken::write));
        let on_page: Vec<Value> = items[range].iter().map(to_json).collect();
        json!({
            key: on_page,
            "meta": {
                "page": self.page,
                "page_size": self.size,
                "first_page_url": page_url(0, None),
                "previous_page_url": previous,
                "url": current,
                "next_page_url": next,
                "key": key,
            },
        })
    }
}

/// A non-negative integer query parameter, `default` when absent; anything else, or a value
/// outside `range`, is `60200`.
fn number_param(
    input: &Input,
    key: &str,
    default: usize,
    range: RangeInclusive<usize>,
) -> Result<usize, TwError> {
    match input.query(key).map(str::trim) {
        None => Ok(default),
        Some(raw) => raw
            .parse::<usize>()
            .ok()
            .filter(|n| range.contains(n))
            .ok_or_else(|| TwError::invalid(key, Some(raw))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paging(page: usize, size: usize, token: Option<PageToken<String>>) -> Paging<String> {
        Paging { size, page, token }
    }

    #[test]
    fn pages_follow_the_order_and_their_tokens() {
        let all: Vec<String> = ["VAa", "VAb", "VAc", "VAd", "VAe"]
            .iter()
            .map(|sid| (*sid).to_owned())
            .collect();
        let range = |paging: Paging<String>| paging.range(&all, String::clone);
        assert_eq!(range(paging(0, 2, None)), 0..2);
        assert_eq!(range(paging(2, 2, None)), 4..5);
        assert_eq!(range(paging(3, 2, None)), 5..5);
        assert_eq!(range(paging(usize::MAX, 1000, None)), 5..5);
        let after = |sid: &str| Some(PageToken::After(sid.to_owned()));
        let before = |sid: &str| Some(PageToken::Before(sid.to_owned()));
        assert_eq!(range(paging(1, 2, after("VAb"))), 2..4);
        // A forgotten place still marks its place.
        assert_eq!(range(paging(1, 2, after("VAbb"))), 2..4);
        assert_eq!(range(paging(1, 2, after("VAe"))), 5..5);
        assert_eq!(range(paging(1, 2, before("VAc"))), 0..2);
        assert_eq!(range(paging(1, 2, before("VAb"))), 0..1);
        assert_eq!(
            PageToken::parse("PAVAb"),
            Ok(PageToken::After("VAb".to_owned()))
        );
        assert_eq!(
            PageToken::parse("PBVAb"),
            Ok(PageToken::Before("VAb".to_owned()))
        );
        assert_eq!(PageToken::After("VAb".to_owned()).write(), "PAVAb");
        for bad in ["PA", "P", "XXVAb", "PAVA/b", "PŞ", "ŞŞ"] {
            assert_eq!(
                PageToken::<String>::parse(bad).unwrap_err().code,
                60200,
                "{bad}"
            );
        }
    }

    #[test]
    fn page_urls_repeat_the_filters_encoded() {
        let all: Vec<String> = ["a", "b", "c"].iter().map(|s| (*s).to_owned()).collect();
        let answer = paging(0, 2, None).answer(
            "things",
            "http://h/v2/Things",
            &[("ChannelData.To", "+15017122661".to_owned())],
            &all,
            String::clone,
            |s| json!(s),
        );
        assert_eq!(answer["things"], json!(["a", "b"]));
        let meta = &answer["meta"];
        assert_eq!(
            meta["next_page_url"],
            "http://h/v2/Things?ChannelData.To=%2B15017122661&PageSize=2&Page=1&PageToken=PAb"
        );
        assert_eq!(meta["url"], meta["first_page_url"]);
        assert_eq!(meta["previous_page_url"], Value::Null);
        assert_eq!(meta["key"], "things");
    }
}
