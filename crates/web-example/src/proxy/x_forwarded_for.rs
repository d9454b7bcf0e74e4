//! `X-Forwarded-For`: its entries read from the right, each an address.

use axum::http::{HeaderMap, HeaderName};

use super::hop::{Hop, parse_address};

/// The header a proxy adds the address it received a request from to.
pub const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// The longest entry read (`[` a full IPv6 address with an embedded IPv4 one `]:65535` is 53
/// bytes); a longer one is malformed.
pub(super) const MAX_ENTRY_LEN: usize = 64;

/// The hops `X-Forwarded-For` names, nearest first: its lines from the last, each line's
/// comma-separated entries from the right. Lazy: only the entries taken are read.
///
/// An entry is an address as [`parse_address`] reads it, blanks around it ignored. An empty
/// entry is unreadable: proxies write none.
pub(super) fn hops(headers: &HeaderMap) -> impl Iterator<Item = Hop> + '_ {
    headers
        .get_all(X_FORWARDED_FOR)
        .iter()
        .rev()
        .flat_map(|line| line.as_bytes().rsplit(|&b| b == b','))
        .map(entry)
}

/// The hop one entry names.
fn entry(entry: &[u8]) -> Hop {
    if entry.len() > MAX_ENTRY_LEN {
        return Hop::Unreadable;
    }
    std::str::from_utf8(entry)
        .ok()
        .and_then(|text| parse_address(text.trim_matches([' ', '\t'])))
        .into()
}
