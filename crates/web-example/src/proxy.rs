//! Trusted reverse proxies: the peers allowed to say who the visitor is, and the visitor's IP
//! read from their `X-Forwarded-For` header.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::str::FromStr;

use axum::http::{HeaderMap, HeaderName};
use ipnet::IpNet;

/// The header a proxy adds the address it received a request from to.
pub const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// The most `X-Forwarded-For` entries read, from the right: a chain of trusted proxies longer
/// than this makes the header unusable (the peer is then the visitor). Bounds the work a
/// hostile header can cause.
pub const MAX_FORWARDED_ENTRIES: usize = 16;

/// The longest entry read (`[` a full IPv6 address with an embedded IPv4 one `]:65535` is 53
/// bytes); a longer one is malformed.
const MAX_ENTRY_LEN: usize = 64;

/// The reverse proxies and load balancers whose `X-Forwarded-For` is believed: IP addresses
/// and CIDR networks. Empty by default: the connection's peer is the visitor.
///
/// Parsed from a comma-separated list (`10.0.0.0/8, 192.168.1.5, ::1`); an address is the
/// network of that one address. An IPv4-mapped IPv6 peer (`::ffff:10.0.0.1`) matches as its
/// IPv4 address too.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Trusts the proxies in `networks`.
    pub fn new(networks: impl IntoIterator<Item = IpNet>) -> Self {
        Self(networks.into_iter().collect())
    }

    /// The trusted networks.
    pub fn networks(&self) -> &[IpNet] {
        &self.0
    }

    /// Whether no proxy is trusted.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `ip` is a trusted proxy (an IPv4-mapped IPv6 address also as its IPv4 one).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let canonical = ip.to_canonical();
        self.0
            .iter()
            .any(|net| net.contains(&ip) || net.contains(&canonical))
    }

    /// The visitor's IP for a connection from `peer` carrying `headers`.
    ///
    /// A peer that is not a trusted proxy is the visitor, whatever its headers say. From a
    /// trusted one, the `X-Forwarded-For` entries (its lines in order, then each line's
    /// entries) are read from the right, skipping trusted proxies: the first other address is
    /// the visitor (the entries left of it are the client's own claims, never believed). When
    /// every entry is a trusted proxy, the leftmost is the visitor. A missing header, an entry
    /// met on the way that is not an address, or more than [`MAX_FORWARDED_ENTRIES`] trusted
    /// entries, and the peer is the visitor.
    ///
    /// An entry is an IP address, optionally with a port (`203.0.113.7:4711`), an IPv6 one
    /// optionally in brackets (`[2001:db8::1]`, `[2001:db8::1]:4711`).
    pub fn visitor_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.contains(peer) {
            return peer;
        }
        self.forwarded_visitor(headers).unwrap_or_else(|| {
            tracing::debug!(%peer, "no usable X-Forwarded-For from a trusted proxy");
            peer
        })
    }

    /// The visitor `X-Forwarded-For` names, if the header is usable (see
    /// [`visitor_ip`](Self::visitor_ip)).
    fn forwarded_visitor(&self, headers: &HeaderMap) -> Option<IpAddr> {
        let mut entries = headers
            .get_all(X_FORWARDED_FOR)
            .iter()
            .rev()
            .flat_map(|line| line.as_bytes().rsplit(|&b| b == b','));
        let mut leftmost = None;
        for entry in entries.by_ref().take(MAX_FORWARDED_ENTRIES) {
            let ip = parse_entry(entry)?;
            if !self.contains(ip) {
                return Some(ip);
            }
            leftmost = Some(ip);
        }
        // Only trusted proxies: the leftmost, if it was the last entry.
        entries.next().map_or(leftmost, |_| None)
    }
}

/// The address of one `X-Forwarded-For` entry, or `None` when it is not one.
fn parse_entry(entry: &[u8]) -> Option<IpAddr> {
    if entry.len() > MAX_ENTRY_LEN {
        return None;
    }
    let text = std::str::from_utf8(entry).ok()?.trim_matches([' ', '\t']);
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Some(addr.ip());
    }
    let bracketed = text.strip_prefix('[')?.strip_suffix(']')?;
    bracketed.parse::<Ipv6Addr>().ok().map(IpAddr::V6)
}

impl FromStr for TrustedProxies {
    type Err = InvalidProxy;

    /// Comma-separated addresses and CIDR networks; blank means none.
    fn from_str(list: &str) -> Result<Self, InvalidProxy> {
        if list.trim().is_empty() {
            return Ok(Self::default());
        }
        list.split(',')
            .map(parse_network)
            .collect::<Result<_, _>>()
            .map(Self)
    }
}

/// One entry of a trusted proxy list: an address, or a network without host bits.
fn parse_network(entry: &str) -> Result<IpNet, InvalidProxy> {
    let text = entry.trim();
    let invalid = |reason: String| InvalidProxy {
        entry: text.to_owned(),
        reason,
    };
    if text.is_empty() {
        return Err(invalid(
            "an empty entry (two commas in a row, or one at an end)".into(),
        ));
    }
    if !text.contains('/') {
        return text
            .parse::<IpAddr>()
            .map(IpNet::from)
            .map_err(|_| invalid("not an IP address".into()));
    }
    let net = text.parse::<IpNet>().map_err(|_| {
        invalid("not a CIDR network (an address, `/`, a prefix length in its range)".into())
    })?;
    if net != net.trunc() {
        return Err(invalid(format!(
            "host bits are set: the network is {}, the one address {}",
            net.trunc(),
            IpNet::from(net.addr())
        )));
    }
    Ok(net)
}

impl fmt::Display for TrustedProxies {
    /// The networks, comma-separated (`none` when empty).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("none");
        }
        for (i, net) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{net}")?;
        }
        Ok(())
    }
}

/// An entry of a trusted proxy list that is neither an IP address nor a CIDR network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidProxy {
    /// The entry, trimmed.
    pub entry: String,
    /// What is wrong with it.
    pub reason: String,
}

impl fmt::Display for InvalidProxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "trusted proxy `{}`: {}", self.entry, self.reason)
    }
}

impl std::error::Error for InvalidProxy {}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn proxies(list: &str) -> TrustedProxies {
        list.parse().unwrap()
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    /// Headers with one `X-Forwarded-For` line per item.
    fn forwarded(lines: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for line in lines {
            headers.append(X_FORWARDED_FOR, HeaderValue::from_str(line).unwrap());
        }
        headers
    }

    /// The visitor behind `10.0.0.0/8` and `2001:db8:ffff::/48` for a request from `peer`.
    fn visitor(peer: &str, lines: &[&str]) -> IpAddr {
        proxies("10.0.0.0/8, 2001:db8:ffff::/48").visitor_ip(ip(peer), &forwarded(lines))
    }

    #[test]
    fn a_list_of_addresses_and_networks_parses() {
        let list = proxies(" 10.0.0.0/8,192.168.1.5 , ::1,2001:db8::/32 ");
        assert_eq!(
            list.to_string(),
            "10.0.0.0/8, 192.168.1.5/32, ::1/128, 2001:db8::/32"
        );
        assert!(list.contains(ip("10.255.0.1")));
        assert!(list.contains(ip("192.168.1.5")));
        assert!(!list.contains(ip("192.168.1.6")));
        assert!(list.contains(ip("::1")));
        assert!(list.contains(ip("2001:db8:1::9")));
        assert!(!list.contains(ip("2001:db9::1")));
        assert!(!list.contains(ip("127.0.0.1")));
        assert_eq!(proxies(""), TrustedProxies::default());
        assert_eq!(proxies("  ").to_string(), "none");
    }

    #[test]
    fn an_invalid_entry_is_named() {
        for (list, entry, reason) in [
            (
                "10.0.0.0/8,10.0.0.0/33",
                "10.0.0.0/33",
                "not a CIDR network",
            ),
            (
                "10.0.0.0/8, proxy.internal",
                "proxy.internal",
                "not an IP address",
            ),
            ("10.0.0.0/8,", "", "an empty entry"),
            ("1.2.3.4,,::1", "", "an empty entry"),
            ("010.0.0.1", "010.0.0.1", "not an IP address"),
            ("::1/", "::1/", "not a CIDR network"),
            (
                "10.0.0.5/8",
                "10.0.0.5/8",
                "host bits are set: the network is 10.0.0.0/8, the one address 10.0.0.5/32",
            ),
        ] {
            let err = list.parse::<TrustedProxies>().unwrap_err();
            assert_eq!(err.entry, entry, "{list}");
            assert!(err.reason.starts_with(reason), "{list}: {err}");
            assert!(err.to_string().contains(&format!("`{entry}`")), "{err}");
        }
    }

    #[test]
    fn an_ipv4_mapped_peer_matches_its_ipv4_network() {
        let list = proxies("10.0.0.0/8");
        assert!(list.contains(ip("::ffff:10.0.0.1")));
        assert!(!list.contains(ip("::ffff:11.0.0.1")));
        assert!(proxies("::ffff:10.0.0.0/104").contains(ip("::ffff:10.0.0.1")));
        assert_eq!(
            visitor("::ffff:10.0.0.1", &["203.0.113.7"]),
            ip("203.0.113.7")
        );
    }

    #[test]
    fn an_untrusted_peer_is_the_visitor_whatever_it_forwards() {
        assert_eq!(visitor("203.0.113.9", &["198.51.100.1"]), ip("203.0.113.9"));
        assert_eq!(
            TrustedProxies::default().visitor_ip(ip("10.0.0.1"), &forwarded(&["198.51.100.1"])),
            ip("10.0.0.1"),
            "no proxy trusted by default"
        );
    }

    #[test]
    fn a_trusted_peer_forwards_the_visitor() {
        assert_eq!(visitor("10.0.0.1", &["198.51.100.1"]), ip("198.51.100.1"));
        assert_eq!(visitor("10.0.0.1", &[]), ip("10.0.0.1"), "no header");
    }

    #[test]
    fn spoofed_entries_left_of_the_visitor_are_not_believed() {
        let spoofed = "1.1.1.1, 10.0.0.7, 198.51.100.1, 10.0.0.3";
        assert_eq!(visitor("10.0.0.1", &[spoofed]), ip("198.51.100.1"));
        assert_eq!(
            visitor("10.0.0.1", &["not an address, 198.51.100.1"]),
            ip("198.51.100.1"),
            "what is left of the visitor is not even read"
        );
    }

    #[test]
    fn a_chain_of_trusted_proxies_only_gives_the_leftmost() {
        assert_eq!(
            visitor("10.0.0.1", &["10.1.1.1, 10.0.0.2, 10.0.0.3"]),
            ip("10.1.1.1")
        );
    }

    #[test]
    fn header_lines_are_read_in_order() {
        let lines = ["1.1.1.1, 198.51.100.1", "10.0.0.2", "10.0.0.3"];
        assert_eq!(visitor("10.0.0.1", &lines), ip("198.51.100.1"));
        let lines = ["198.51.100.1", "198.51.100.2, 10.0.0.2"];
        assert_eq!(visitor("10.0.0.1", &lines), ip("198.51.100.2"));
        assert_eq!(
            visitor("10.0.0.1", &["10.0.0.4", "10.0.0.3"]),
            ip("10.0.0.4")
        );
    }

    #[test]
    fn a_malformed_entry_on_the_way_falls_back_to_the_peer() {
        for line in [
            "",
            " ",
            "unknown",
            "198.51.100.1, unknown",
            "198.51.100.1,",
            "198.51.100.1, 10.0.0.2 10.0.0.3",
            "198.51.100.1;10.0.0.2",
            "for=198.51.100.1",
            "198.51.100.1, [10.0.0.2]",
            "198.51.100.256",
            "2001:db8::1]",
            "[2001:db8::1",
            "fe80::1%eth0",
        ] {
            assert_eq!(visitor("10.0.0.1", &[line]), ip("10.0.0.1"), "{line:?}");
        }
        assert_eq!(
            visitor("10.0.0.1", &["198.51.100.1", ""]),
            ip("10.0.0.1"),
            "an empty last line"
        );
        let mut headers = HeaderMap::new();
        headers.append(X_FORWARDED_FOR, HeaderValue::from_bytes(b"\xff").unwrap());
        let peer = ip("10.0.0.1");
        assert_eq!(proxies("10.0.0.0/8").visitor_ip(peer, &headers), peer);
    }

    #[test]
    fn ports_brackets_and_ipv6_are_read() {
        for (line, expected) in [
            ("203.0.113.7:4711", "203.0.113.7"),
            ("2001:db8::1", "2001:db8::1"),
            ("[2001:db8::1]", "2001:db8::1"),
            ("[2001:db8::1]:4711", "2001:db8::1"),
            (" \t198.51.100.1 ", "198.51.100.1"),
            ("::ffff:198.51.100.1", "::ffff:198.51.100.1"),
            ("2001:db8::1, [2001:db8:ffff::2]:443", "2001:db8::1"),
        ] {
            assert_eq!(visitor("10.0.0.1", &[line]), ip(expected), "{line}");
        }
        assert_eq!(
            visitor("2001:db8:ffff::1", &["198.51.100.1"]),
            ip("198.51.100.1"),
            "an IPv6 proxy"
        );
        assert_eq!(
            visitor("10.0.0.1", &["[::ffff:10.0.0.9]:80"]),
            ip("::ffff:10.0.0.9"),
            "a mapped trusted entry is skipped, here as the only one"
        );
    }

    #[test]
    fn at_most_a_bounded_number_of_entries_is_read() {
        let trusted = |n: usize| vec!["10.0.0.2"; n].join(",");
        let within = format!("198.51.100.1,{}", trusted(MAX_FORWARDED_ENTRIES - 1));
        assert_eq!(visitor("10.0.0.1", &[&within]), ip("198.51.100.1"));
        let beyond = format!("198.51.100.1,{}", trusted(MAX_FORWARDED_ENTRIES));
        assert_eq!(
            visitor("10.0.0.1", &[&beyond]),
            ip("10.0.0.1"),
            "the visitor lies past the bound"
        );
        let lines = vec!["10.0.0.2"; MAX_FORWARDED_ENTRIES + 1];
        assert_eq!(
            visitor("10.0.0.1", &lines),
            ip("10.0.0.1"),
            "all trusted, but past the bound: the leftmost is unknown"
        );
        let lines = vec!["10.0.0.2"; MAX_FORWARDED_ENTRIES];
        assert_eq!(visitor("10.0.0.1", &lines), ip("10.0.0.2"));
        // A huge header of thousands of entries: the visitor on the right is found at once.
        let huge = format!("{}198.51.100.1", "1.1.1.1,".repeat(100_000));
        assert_eq!(visitor("10.0.0.1", &[&huge]), ip("198.51.100.1"));
        let long_entry = format!("198.51.100.1,{}10.0.0.2", " ".repeat(MAX_ENTRY_LEN));
        assert_eq!(visitor("10.0.0.1", &[&long_entry]), ip("10.0.0.1"));
    }
}
