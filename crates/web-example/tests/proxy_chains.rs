//! The visitor behind a chain of proxies, as random chains are written in `X-Forwarded-For` and
//! in RFC 7239 `Forwarded`: both headers give the same visitor, the one a plain reading of the
//! chain gives.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use axum::http::header::FORWARDED;
use axum::http::{HeaderMap, HeaderValue};
use phone_verify_web_example::proxy::{
    MAX_FORWARDED_ENTRIES, ProxyHeader, TrustedProxies, X_FORWARDED_FOR,
};
use proptest::prelude::*;

/// One proxy's record of where a request came from.
#[derive(Debug, Clone)]
struct Hop {
    ip: IpAddr,
    port: Option<u16>,
    /// `Forwarded` only: the node quoted although the RFC does not ask it.
    quoted: bool,
    /// `Forwarded` only: other parameters, before and after `for`.
    before: Vec<String>,
    after: Vec<String>,
}

/// Addresses from the trusted networks, from others, and IPv4-mapped ones of both.
fn address() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<[u8; 3]>().prop_map(|[a, b, c]| IpAddr::V4(Ipv4Addr::new(10, a, b, c))),
        any::<u8>().prop_map(|d| IpAddr::V4(Ipv4Addr::new(198, 51, 100, d))),
        any::<u16>().prop_map(|d| IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0xffff, 0, 0, 0, 0, d))),
        any::<u16>().prop_map(|d| IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, d))),
        any::<[u8; 2]>().prop_map(|[c, d]| IpAddr::V6(Ipv4Addr::new(10, 0, c, d).to_ipv6_mapped())),
        any::<u8>().prop_map(|d| IpAddr::V6(Ipv4Addr::new(198, 51, 100, d).to_ipv6_mapped())),
    ]
}

/// A parameter other than `for`, its value a token or a quoted string holding the characters
/// a splitter could trip on.
fn parameter() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("proto=https".to_owned()),
        Just("by=\"[2001:db8:ffff::1]:443\"".to_owned()),
        Just("host=example.com".to_owned()),
        "[a-z ,;=\"\\\\]{0,12}".prop_map(|text| {
            let escaped: String = text
                .chars()
                .flat_map(|c| match c {
                    '"' | '\\' => vec!['\\', c],
                    c => vec![c],
                })
                .collect();
            format!("ext=\"{escaped}\"")
        }),
    ]
}

fn hop() -> impl Strategy<Value = Hop> {
    (
        address(),
        proptest::option::of(any::<u16>()),
        any::<bool>(),
        proptest::collection::vec(parameter(), 0..2),
        proptest::collection::vec(parameter(), 0..2),
    )
        .prop_map(|(ip, port, quoted, before, after)| Hop {
            ip,
            port,
            quoted,
            before,
            after,
        })
}

/// The hop as `X-Forwarded-For` writes it.
fn xff_entry(hop: &Hop) -> String {
    match (hop.ip, hop.port) {
        (IpAddr::V4(ip), Some(port)) => format!("{ip}:{port}"),
        (IpAddr::V6(ip), Some(port)) => format!("[{ip}]:{port}"),
        (ip, None) => ip.to_string(),
    }
}

/// The hop as a `Forwarded` element writes it: quoted where RFC 7239 asks (a port, IPv6).
fn forwarded_element(hop: &Hop) -> String {
    let node = match (hop.ip, hop.port) {
        (IpAddr::V6(ip), None) => format!("[{ip}]"),
        _ => xff_entry(hop),
    };
    let node = if hop.quoted || node.contains(':') {
        format!("\"{node}\"")
    } else {
        node
    };
    let for_pair = format!("for={node}");
    let pairs: Vec<&str> = hop
        .before
        .iter()
        .map(String::as_str)
        .chain([for_pair.as_str()])
        .chain(hop.after.iter().map(String::as_str))
        .collect();
    pairs.join(";")
}

/// `entries` joined into header lines, a new line starting after each index in `breaks`.
fn lines(entries: &[String], breaks: &[usize], separator: &str) -> Vec<String> {
    let mut lines = vec![String::new()];
    for (i, entry) in entries.iter().enumerate() {
        let line = lines.last_mut().unwrap();
        if !line.is_empty() {
            line.push_str(separator);
        }
        line.push_str(entry);
        if breaks.contains(&i) && i + 1 < entries.len() {
            lines.push(String::new());
        }
    }
    lines
}

fn headers(name: &axum::http::HeaderName, lines: &[String]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    if lines.iter().all(String::is_empty) {
        return headers;
    }
    for line in lines {
        headers.append(name.clone(), HeaderValue::from_str(line).unwrap());
    }
    headers
}

/// The visitor a plain reading of the chain gives: from the right, the first hop that is not a
/// trusted proxy within the bound; the leftmost when all are trusted and the chain ends within
/// it; the peer otherwise.
fn expected(trusted: &TrustedProxies, chain: &[Hop], peer: IpAddr) -> IpAddr {
    let nearest = chain.iter().rev().take(MAX_FORWARDED_ENTRIES);
    for hop in nearest {
        if !trusted.contains(hop.ip) {
            return hop.ip;
        }
    }
    match chain.first() {
        Some(first) if chain.len() <= MAX_FORWARDED_ENTRIES => first.ip,
        _ => peer,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn both_headers_name_the_visitor_the_chain_gives(
        chain in proptest::collection::vec(hop(), 0..=MAX_FORWARDED_ENTRIES + 3),
        breaks in proptest::collection::vec(0..MAX_FORWARDED_ENTRIES + 3, 0..4),
        separator in prop_oneof![Just(","), Just(", "), Just(" ,\t")],
    ) {
        let trusted: TrustedProxies = "10.0.0.0/8, 2001:db8:ffff::/48".parse().unwrap();
        let peer: IpAddr = "10.0.0.1".parse().unwrap();
        let want = expected(&trusted, &chain, peer);

        let xff: Vec<String> = chain.iter().map(xff_entry).collect();
        let xff = headers(&X_FORWARDED_FOR, &lines(&xff, &breaks, separator));
        prop_assert_eq!(trusted.visitor_ip(peer, &xff), want, "X-Forwarded-For {:?}", xff);

        let elements: Vec<String> = chain.iter().map(forwarded_element).collect();
        let forwarded = headers(&FORWARDED, &lines(&elements, &breaks, separator));
        let rfc7239 = trusted.clone().with_header(ProxyHeader::Forwarded);
        prop_assert_eq!(rfc7239.visitor_ip(peer, &forwarded), want, "Forwarded {:?}", forwarded);

        // Neither header is read when the other is configured.
        prop_assert_eq!(trusted.visitor_ip(peer, &forwarded), peer);
        prop_assert_eq!(rfc7239.visitor_ip(peer, &xff), peer);
    }
}

/// What a client may write into a forwarding header: visible ASCII, blanks, and more of the
/// characters a splitter could trip on.
fn client_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ -~\t]{0,80}",
        "[\"\\\\,;= \\[\\]:_a-z0-9.]{0,80}",
        "((for|FOR|by|ext)=(\"[ -!#-~]{0,12}|[0-9.:\\[\\]_a-f]{0,20})[;,]? ?){0,6}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    /// Whatever a client writes on the left, the entry the trusted proxy appends decides. When
    /// that entry is a trusted proxy's own, the walk reads on into the client's text: any
    /// answer is then possible (that proxy's client is trusted), but never a panic.
    #[test]
    fn the_client_cannot_outvote_the_proxy(prefix in client_text()) {
        let trusted: TrustedProxies = "10.0.0.0/8".parse().unwrap();
        let rfc7239 = trusted.clone().with_header(ProxyHeader::Forwarded);
        let peer: IpAddr = "10.0.0.1".parse().unwrap();
        let visitor: IpAddr = "198.51.100.7".parse().unwrap();
        let one = |name: &axum::http::HeaderName, value: String| headers(name, &[value]);

        let xff = one(&X_FORWARDED_FOR, format!("{prefix}, 198.51.100.7"));
        prop_assert_eq!(trusted.visitor_ip(peer, &xff), visitor);
        let forwarded = one(&FORWARDED, format!("{prefix}, for=198.51.100.7"));
        prop_assert_eq!(rfc7239.visitor_ip(peer, &forwarded), visitor);

        trusted.visitor_ip(peer, &one(&X_FORWARDED_FOR, format!("{prefix}, 10.0.0.5")));
        rfc7239.visitor_ip(peer, &one(&FORWARDED, format!("{prefix},for=10.0.0.5")));
        rfc7239.visitor_ip(peer, &one(&FORWARDED, prefix));
    }
}

/// Google Cloud's external Application Load Balancer connects from its proxy ranges and
/// appends two entries, the client and the forwarding rule's own external IP: that IP must be
/// trusted too, or every visitor is the load balancer's address.
#[test]
fn a_google_cloud_load_balancer_needs_its_forwarding_rules_ip_trusted() {
    let peer: IpAddr = "35.191.1.1".parse().unwrap();
    let xff = headers(&X_FORWARDED_FOR, &["203.0.113.7, 34.120.0.1".to_owned()]);
    let ranges_only: TrustedProxies = "35.191.0.0/16, 130.211.0.0/22".parse().unwrap();
    assert_eq!(
        ranges_only.visitor_ip(peer, &xff),
        "34.120.0.1".parse::<IpAddr>().unwrap(),
        "the walk stops at the load balancer's own address"
    );
    let with_rule: TrustedProxies = "35.191.0.0/16, 130.211.0.0/22, 34.120.0.1/32"
        .parse()
        .unwrap();
    assert_eq!(
        with_rule.visitor_ip(peer, &xff),
        "203.0.113.7".parse::<IpAddr>().unwrap()
    );
}
