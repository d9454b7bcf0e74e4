//! One hop of a forwarding chain: what an entry of a proxy's header says about the address a
//! request came from.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

/// What one entry of `X-Forwarded-For` or one element of `Forwarded` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Hop {
    /// The address the request came from.
    Address(IpAddr),
    /// Nothing: an empty list element, which RFC 9110 §5.6.1 has recipients ignore.
    Blank,
    /// No address: `unknown`, an obfuscated identifier, or malformed. The chain cannot be
    /// followed past it.
    Unreadable,
}

impl From<Option<IpAddr>> for Hop {
    fn from(ip: Option<IpAddr>) -> Self {
        ip.map_or(Self::Unreadable, Self::Address)
    }
}

/// An IP address, optionally with a port (`203.0.113.7:4711`), an IPv6 one optionally in
/// brackets (`[2001:db8::1]`, `[2001:db8::1]:4711`); `None` for anything else.
pub(super) fn parse_address(text: &str) -> Option<IpAddr> {
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Some(addr.ip());
    }
    let bracketed = text.strip_prefix('[')?.strip_suffix(']')?;
    bracketed.parse::<Ipv6Addr>().ok().map(IpAddr::V6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_with_and_without_ports_parse() {
        for (text, expected) in [
            ("203.0.113.7", Some("203.0.113.7")),
            ("203.0.113.7:4711", Some("203.0.113.7")),
            ("2001:db8::1", Some("2001:db8::1")),
            ("[2001:db8::1]", Some("2001:db8::1")),
            ("[2001:db8::1]:4711", Some("2001:db8::1")),
            ("::ffff:198.51.100.1", Some("::ffff:198.51.100.1")),
            ("[10.0.0.1]", None),
            ("203.0.113.7:65536", None),
            ("203.0.113.256", None),
            ("2001:db8::1]", None),
            ("[2001:db8::1", None),
            ("fe80::1%eth0", None),
            ("", None),
            ("unknown", None),
        ] {
            let expected = expected.map(|ip| ip.parse::<IpAddr>().unwrap());
            assert_eq!(parse_address(text), expected, "{text:?}");
        }
    }
}
