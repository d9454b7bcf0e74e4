//! Trusted reverse proxies: the peers allowed to say who the visitor is, and the visitor's IP
//! read from the header they name it in (`X-Forwarded-For`, or RFC 7239 `Forwarded`).

mod forwarded;
mod hop;
mod x_forwarded_for;

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use axum::http::HeaderMap;
use ipnet::IpNet;

use self::hop::Hop;
pub use self::x_forwarded_for::X_FORWARDED_FOR;

/// The most entries read from the right (`X-Forwarded-For` entries, or `Forwarded` elements):
/// a chain of trusted proxies longer than this makes the header unusable (the peer is then the
/// visitor). Bounds the work a hostile header can cause.
pub const MAX_FORWARDED_ENTRIES: usize = 16;

/// The header trusted proxies name the visitor in. Only that one is read: a proxy passes the
/// other on as the client sent it, so believing it would let any client choose its address.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum ProxyHeader {
    /// `X-Forwarded-For` (nginx's `$proxy_add_x_forwarded_for`, HAProxy's `option forwardfor`,
    /// the AWS and Google Cloud load balancers).
    #[default]
    XForwardedFor,
    /// RFC 7239 `Forwarded`, the `for` parameter of each element (HAProxy's
    /// `option forwarded`, nginx with `proxy_set_header Forwarded …`).
    Forwarded,
}

impl ProxyHeader {
    /// The header's name as configured (`x-forwarded-for`, `forwarded`).
    pub fn name(self) -> &'static str {
        match self {
            Self::XForwardedFor => "x-forwarded-for",
            Self::Forwarded => "forwarded",
        }
    }
}

impl fmt::Display for ProxyHeader {
    /// The header as written in HTTP (`X-Forwarded-For`, `Forwarded`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::XForwardedFor => "X-Forwarded-For",
            Self::Forwarded => "Forwarded",
        })
    }
}

impl FromStr for ProxyHeader {
    type Err = UnknownProxyHeader;

    /// `x-forwarded-for` or `forwarded`, in any case.
    fn from_str(text: &str) -> Result<Self, UnknownProxyHeader> {
        let text = text.trim();
        [Self::XForwardedFor, Self::Forwarded]
            .into_iter()
            .find(|header| header.name().eq_ignore_ascii_case(text))
            .ok_or_else(|| UnknownProxyHeader(text.to_owned()))
    }
}

/// A proxy header that is neither `x-forwarded-for` nor `forwarded`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownProxyHeader(pub String);

impl fmt::Display for UnknownProxyHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "proxy header `{}`: not `x-forwarded-for` nor `forwarded`",
            self.0
        )
    }
}

impl std::error::Error for UnknownProxyHeader {}

/// The reverse proxies and load balancers believed about the visitor: IP addresses and CIDR
/// networks, and the header they name it in. Empty by default: the connection's peer is the
/// visitor.
///
/// Parsed from a comma-separated list (`10.0.0.0/8, 192.168.1.5, ::1`); an address is the
/// network of that one address. An IPv4-mapped IPv6 peer (`::ffff:10.0.0.1`) matches as its
/// IPv4 address too. The header is `X-Forwarded-For` unless [`with_header`](Self::with_header)
/// says otherwise.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    networks: Vec<IpNet>,
    header: ProxyHeader,
}

impl TrustedProxies {
    /// Trusts the proxies in `networks`, naming the visitor in `X-Forwarded-For`.
    pub fn new(networks: impl IntoIterator<Item = IpNet>) -> Self {
        Self {
            networks: networks.into_iter().collect(),
            header: ProxyHeader::default(),
        }
    }

    /// The same proxies, naming the visitor in `header`.
    #[must_use]
    pub fn with_header(self, header: ProxyHeader) -> Self {
        Self { header, ..self }
    }

    /// The trusted networks.
    pub fn networks(&self) -> &[IpNet] {
        &self.networks
    }

    /// The header the visitor is read from.
    pub fn header(&self) -> ProxyHeader {
        self.header
    }

    /// Whether no proxy is trusted.
    pub fn is_empty(&self) -> bool {
        self.networks.is_empty()
    }

    /// Whether `ip` is a trusted proxy (an IPv4-mapped IPv6 address also as its IPv4 one).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let canonical = ip.to_canonical();
        self.networks
            .iter()
            .any(|net| net.contains(&ip) || net.contains(&canonical))
    }

    /// The visitor's IP for a connection from `peer` carrying `headers`.
    ///
    /// A peer that is not a trusted proxy is the visitor, whatever its headers say. From a
    /// trusted one, the [`header`](Self::header)'s entries (its lines in order, then each
    /// line's entries) are read from the right, skipping trusted proxies: the first other
    /// address is the visitor (the entries left of it are the client's own claims, never
    /// believed). When every entry is a trusted proxy, the leftmost is the visitor. A missing
    /// header, an entry met on the way that names no address, or more than
    /// [`MAX_FORWARDED_ENTRIES`] trusted entries, and the peer is the visitor.
    ///
    /// An `X-Forwarded-For` entry is an IP address, optionally with a port
    /// (`203.0.113.7:4711`), an IPv6 one optionally in brackets (`[2001:db8::1]`,
    /// `[2001:db8::1]:4711`). A `Forwarded` element names its `for` parameter's node
    /// (`for=192.0.2.60;proto=https`, `for="[2001:db8::17]:4711"`); `unknown` and obfuscated
    /// nodes name no address, and empty elements are skipped.
    pub fn visitor_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.contains(peer) {
            return peer;
        }
        let forwarded = match self.header {
            ProxyHeader::XForwardedFor => self.walk(x_forwarded_for::hops(headers)),
            ProxyHeader::Forwarded => self.walk(forwarded::hops(headers)),
        };
        forwarded.unwrap_or_else(|| {
            let header = self.header;
            tracing::debug!(%peer, %header, "no usable forwarding header from a trusted proxy");
            peer
        })
    }

    /// The visitor `hops` name, nearest first (see [`visitor_ip`](Self::visitor_ip)), if they
    /// are usable.
    fn walk(&self, mut hops: impl Iterator<Item = Hop>) -> Option<IpAddr> {
        let mut leftmost = None;
        for hop in hops.by_ref().take(MAX_FORWARDED_ENTRIES) {
            match hop {
                Hop::Address(ip) if !self.contains(ip) => return Some(ip),
                Hop::Address(ip) => leftmost = Some(ip),
                Hop::Blank => {}
                Hop::Unreadable => return None,
            }
        }
        // Only trusted proxies: the leftmost, if the chain ended there.
        hops.next().map_or(leftmost, |_| None)
    }
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
            .collect::<Result<Vec<_>, _>>()
            .map(Self::new)
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
        if self.networks.is_empty() {
            return f.write_str("none");
        }
        for (i, net) in self.networks.iter().enumerate() {
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
    use axum::http::header::FORWARDED;
    use axum::http::{HeaderName, HeaderValue};

    use super::*;

    fn proxies(list: &str) -> TrustedProxies {
        list.parse().unwrap()
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    /// Headers with one `name` line per item.
    fn lines_of(name: &HeaderName, lines: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for line in lines {
            headers.append(name, HeaderValue::from_str(line).unwrap());
        }
        headers
    }

    /// Headers with one `X-Forwarded-For` line per item.
    fn forwarded(lines: &[&str]) -> HeaderMap {
        lines_of(&X_FORWARDED_FOR, lines)
    }

    /// The visitor behind `10.0.0.0/8` and `2001:db8:ffff::/48` for a request from `peer`.
    fn visitor(peer: &str, lines: &[&str]) -> IpAddr {
        proxies("10.0.0.0/8, 2001:db8:ffff::/48").visitor_ip(ip(peer), &forwarded(lines))
    }

    /// Headers with one `Forwarded` line per item.
    fn rfc7239(lines: &[&str]) -> HeaderMap {
        lines_of(&FORWARDED, lines)
    }

    /// The visitor behind the proxies of [`visitor`] naming it in `Forwarded`.
    fn rfc7239_visitor(peer: &str, lines: &[&str]) -> IpAddr {
        proxies("10.0.0.0/8, 2001:db8:ffff::/48")
            .with_header(ProxyHeader::Forwarded)
            .visitor_ip(ip(peer), &rfc7239(lines))
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
        let long_entry = format!(
            "198.51.100.1,{}10.0.0.2",
            " ".repeat(x_forwarded_for::MAX_ENTRY_LEN)
        );
        assert_eq!(visitor("10.0.0.1", &[&long_entry]), ip("10.0.0.1"));
        // The longest entry read, blanks included, and one byte more.
        let pad = x_forwarded_for::MAX_ENTRY_LEN - "198.51.100.1".len();
        let longest = format!("{}198.51.100.1", " ".repeat(pad));
        assert_eq!(visitor("10.0.0.1", &[&longest]), ip("198.51.100.1"));
        assert_eq!(
            visitor("10.0.0.1", &[&format!(" {longest}")]),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn the_proxy_header_parses_and_prints() {
        for (text, header) in [
            ("x-forwarded-for", ProxyHeader::XForwardedFor),
            (" X-Forwarded-For ", ProxyHeader::XForwardedFor),
            ("forwarded", ProxyHeader::Forwarded),
            ("FORWARDED", ProxyHeader::Forwarded),
        ] {
            assert_eq!(text.parse::<ProxyHeader>(), Ok(header), "{text}");
        }
        let err = "x-real-ip".parse::<ProxyHeader>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "proxy header `x-real-ip`: not `x-forwarded-for` nor `forwarded`"
        );
        assert_eq!(ProxyHeader::default(), ProxyHeader::XForwardedFor);
        assert_eq!(ProxyHeader::Forwarded.to_string(), "Forwarded");
        assert_eq!(ProxyHeader::XForwardedFor.to_string(), "X-Forwarded-For");
        let list = proxies("10.0.0.0/8");
        assert_eq!(list.header(), ProxyHeader::XForwardedFor);
        let list = list.with_header(ProxyHeader::Forwarded);
        assert_eq!(list.header(), ProxyHeader::Forwarded);
        let ten: IpNet = "10.0.0.0/8".parse().unwrap();
        assert_eq!(list.networks(), [ten]);
        assert_eq!(list.to_string(), "10.0.0.0/8");
        assert!(!list.is_empty());
        assert!(TrustedProxies::default().is_empty());
        assert!(proxies(" ").is_empty());
        assert_eq!(TrustedProxies::new([ten]), proxies("10.0.0.0/8"));
    }

    #[test]
    fn only_the_configured_header_is_read() {
        let mut both = forwarded(&["198.51.100.1"]);
        both.append(FORWARDED, HeaderValue::from_static("for=198.51.100.2"));
        let trusted = proxies("10.0.0.0/8");
        let peer = ip("10.0.0.1");
        assert_eq!(trusted.visitor_ip(peer, &both), ip("198.51.100.1"));
        let trusted = trusted.with_header(ProxyHeader::Forwarded);
        assert_eq!(trusted.visitor_ip(peer, &both), ip("198.51.100.2"));
        // A client's `X-Forwarded-For` passed on by a proxy that writes `Forwarded`.
        assert_eq!(
            trusted.visitor_ip(peer, &forwarded(&["198.51.100.1"])),
            peer
        );
        assert_eq!(
            proxies("10.0.0.0/8").visitor_ip(peer, &rfc7239(&["for=198.51.100.2"])),
            peer,
            "and the other way round"
        );
    }

    #[test]
    fn forwarded_names_the_visitor_as_rfc_7239_writes_it() {
        // The examples of RFC 7239 §4 and §7.4, behind a trusted proxy.
        for (line, expected) in [
            ("for=\"_gazonk\"", "10.0.0.1"),
            ("For=\"[2001:db8:cafe::17]:4711\"", "2001:db8:cafe::17"),
            ("for=192.0.2.60;proto=http;by=203.0.113.43", "192.0.2.60"),
            ("for=192.0.2.43, for=198.51.100.17", "198.51.100.17"),
            (
                "for=192.0.2.43,for=\"[2001:db8:cafe::17]\",for=unknown",
                "10.0.0.1",
            ),
            ("for=unknown, for=192.0.2.60", "192.0.2.60"),
            ("for=192.0.2.60:_hidden", "192.0.2.60"),
            ("for=\"[2001:db8::1]:_port.1-a\"", "2001:db8::1"),
        ] {
            assert_eq!(rfc7239_visitor("10.0.0.1", &[line]), ip(expected), "{line}");
        }
    }

    #[test]
    fn forwarded_chains_are_walked_from_the_right() {
        for (lines, expected) in [
            (
                &["for=1.1.1.1, for=198.51.100.1;proto=https, for=10.0.0.3"][..],
                "198.51.100.1",
            ),
            (&["for=10.1.1.1, for=10.0.0.2, for=10.0.0.3"], "10.1.1.1"),
            (
                &[
                    "for=1.1.1.1, for=198.51.100.1",
                    "for=10.0.0.2",
                    "for=10.0.0.3",
                ],
                "198.51.100.1",
            ),
            (
                &["for=198.51.100.1", "for=198.51.100.2;by=10.0.0.1"],
                "198.51.100.2",
            ),
            (
                &["for=\"[2001:db8:ffff::2]:443\", for=2001:db8::1"],
                "2001:db8::1",
            ),
            (&["FOR=198.51.100.1 ; Proto=https"], "198.51.100.1"),
            (&["  for = 198.51.100.1  "], "198.51.100.1"),
            (&["for=198.51.100.1:4711"], "198.51.100.1"),
            (&["for=[2001:db8::1]:4711"], "2001:db8::1"),
            (&["for=198.51.100.1;;proto=https;"], "198.51.100.1"),
            // Empty elements are skipped (RFC 9110 §5.6.1).
            (&["for=198.51.100.1,, for=10.0.0.2,"], "198.51.100.1"),
            (&["for=198.51.100.1", ""], "198.51.100.1"),
            (&["for=\"::ffff:10.0.0.9\""], "::ffff:10.0.0.9"),
        ] {
            assert_eq!(
                rfc7239_visitor("10.0.0.1", lines),
                ip(expected),
                "{lines:?}"
            );
        }
        assert_eq!(
            rfc7239_visitor("203.0.113.9", &["for=198.51.100.1"]),
            ip("203.0.113.9"),
            "an untrusted peer is the visitor"
        );
        assert_eq!(
            rfc7239_visitor("10.0.0.1", &[]),
            ip("10.0.0.1"),
            "no header"
        );
    }

    #[test]
    fn quoted_strings_hide_their_commas_and_semicolons() {
        for (line, expected) in [
            (
                "for=198.51.100.1;ext=\"a, for=203.0.113.66\"",
                "198.51.100.1",
            ),
            (
                "for=198.51.100.1;ext=\"a\\\", for=203.0.113.66\"",
                "198.51.100.1",
            ),
            (
                "for=198.51.100.1;ext=\"x;for=203.0.113.66\"",
                "198.51.100.1",
            ),
            (
                "for=198.51.100.1;ext=\"ends in a backslash \\\\\", for=10.0.0.2",
                "198.51.100.1",
            ),
            ("ext=\",\";for=\"198.51.100.1\"", "198.51.100.1"),
        ] {
            assert_eq!(rfc7239_visitor("10.0.0.1", &[line]), ip(expected), "{line}");
        }
    }

    #[test]
    fn a_malformed_forwarded_element_on_the_way_falls_back_to_the_peer() {
        for line in [
            "198.51.100.1",
            "proto=https",
            "by=198.51.100.1",
            "for=198.51.100.1;for=198.51.100.2",
            "for=",
            "for=\"\"",
            "for=\"198.51.100.1",
            "for=198.51.100.1\"",
            "for=\"198.51.100.1\"x",
            "for=\"198.\"51.100.1\"",
            "for=198.51.100.1;ext=\"unclosed",
            "for=198.51.100.1;=x",
            "for=198.51.100.1;e(x)t=1",
            "for=198.51.100.1;ext",
            "for=198.51.100.1 for=198.51.100.2",
            "for=198.51.100.256",
            "for=198.51.100.1:99999",
            "for=198.51.100.1:_",
            "for=198.51.100.1:_a/b",
            "for=_",
            "for=fe80::1%eth0",
            "for=198.51.100.1, for=unknown",
            "for=198.51.100.1, for=_hidden",
        ] {
            assert_eq!(
                rfc7239_visitor("10.0.0.1", &[line]),
                ip("10.0.0.1"),
                "{line:?}"
            );
        }
        let mut headers = HeaderMap::new();
        headers.append(FORWARDED, HeaderValue::from_bytes(b"for=\xff").unwrap());
        let peer = ip("10.0.0.1");
        let trusted = proxies("10.0.0.0/8").with_header(ProxyHeader::Forwarded);
        assert_eq!(trusted.visitor_ip(peer, &headers), peer);
    }

    #[test]
    fn at_most_a_bounded_number_of_forwarded_elements_is_read() {
        let trusted = |n: usize| vec!["for=10.0.0.2"; n].join(",");
        let within = format!("for=198.51.100.1,{}", trusted(MAX_FORWARDED_ENTRIES - 1));
        assert_eq!(rfc7239_visitor("10.0.0.1", &[&within]), ip("198.51.100.1"));
        let beyond = format!("for=198.51.100.1,{}", trusted(MAX_FORWARDED_ENTRIES));
        assert_eq!(rfc7239_visitor("10.0.0.1", &[&beyond]), ip("10.0.0.1"));
        let blanks = format!("for=198.51.100.1{}", ",".repeat(MAX_FORWARDED_ENTRIES));
        assert_eq!(
            rfc7239_visitor("10.0.0.1", &[&blanks]),
            ip("10.0.0.1"),
            "blank elements count against the bound"
        );
        let lines = vec!["for=10.0.0.2"; MAX_FORWARDED_ENTRIES];
        assert_eq!(rfc7239_visitor("10.0.0.1", &lines), ip("10.0.0.2"));
        // A huge header: the visitor on the right is found at once.
        let huge = format!("{}for=198.51.100.1", "for=1.1.1.1,".repeat(100_000));
        assert_eq!(rfc7239_visitor("10.0.0.1", &[&huge]), ip("198.51.100.1"));
        let quoted = format!("ext=\"{}\",for=198.51.100.1", ",".repeat(100_000));
        assert_eq!(rfc7239_visitor("10.0.0.1", &[&quoted]), ip("198.51.100.1"));
        let pad = forwarded::MAX_ELEMENT_LEN - "for=198.51.100.1;x=".len();
        let longest = format!("for=198.51.100.1;x={}", "a".repeat(pad));
        assert_eq!(rfc7239_visitor("10.0.0.1", &[&longest]), ip("198.51.100.1"));
        let too_long = format!("{longest}a");
        assert_eq!(rfc7239_visitor("10.0.0.1", &[&too_long]), ip("10.0.0.1"));
        let long_trusted = format!("for=198.51.100.1, for=10.0.0.2;x={}", "a".repeat(600));
        assert_eq!(
            rfc7239_visitor("10.0.0.1", &[&long_trusted]),
            ip("10.0.0.1"),
            "the line is not read past a long element"
        );
        let open_quote = format!(
            "for=198.51.100.1, for=10.0.0.2;x=\"{}",
            "\\".repeat(100_000)
        );
        assert_eq!(rfc7239_visitor("10.0.0.1", &[&open_quote]), ip("10.0.0.1"));
    }
}
