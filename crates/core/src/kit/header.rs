//! [`ip_header_value`]: an IP address as a header value, without `fmt`.

use std::net::{IpAddr, Ipv4Addr};

use reqwest::header::HeaderValue;

/// The longest IPv4 address in dotted-decimal form: `255.255.255.255`.
const MAX_IPV4_LEN: usize = 15;

/// `ip` as a header value, written exactly as [`IpAddr`]'s `Display` writes it (`203.0.113.7`,
/// `2001:db8::1`), for headers such as `X-Forwarded-For`.
///
/// An IPv4 address is written by hand into a stack buffer (no formatter, one allocation for the
/// value); an IPv6 address goes through `Display`.
///
/// ```
/// use std::net::IpAddr;
/// use phone_verify_core::kit::ip_header_value;
///
/// let ip: IpAddr = "203.0.113.7".parse()?;
/// assert_eq!(ip_header_value(ip), "203.0.113.7");
/// # Ok::<(), std::net::AddrParseError>(())
/// ```
pub fn ip_header_value(ip: IpAddr) -> HeaderValue {
    match ip {
        IpAddr::V4(ip) => {
            let mut buf = [0u8; MAX_IPV4_LEN];
            let len = write_ipv4(ip, &mut buf);
            HeaderValue::from_bytes(&buf[..len]).unwrap_or_else(|_| display_value(IpAddr::V4(ip)))
        }
        IpAddr::V6(_) => display_value(ip),
    }
}

/// `ip` through `Display` (digits, hex letters, `:` and `.`: always a valid header value).
fn display_value(ip: IpAddr) -> HeaderValue {
    HeaderValue::from_str(&ip.to_string()).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Writes `ip` in dotted-decimal form into `buf`; returns the length written.
fn write_ipv4(ip: Ipv4Addr, buf: &mut [u8; MAX_IPV4_LEN]) -> usize {
    let mut len = 0;
    for (i, octet) in ip.octets().into_iter().enumerate() {
        if i > 0 {
            buf[len] = b'.';
            len += 1;
        }
        if octet >= 100 {
            buf[len] = b'0' + octet / 100;
            len += 1;
        }
        if octet >= 10 {
            buf[len] = b'0' + octet / 10 % 10;
            len += 1;
        }
        buf[len] = b'0' + octet % 10;
        len += 1;
    }
    len
}

#[cfg(test)]
mod tests {
    use std::net::Ipv6Addr;

    use proptest::prelude::*;

    use super::*;

    fn check(ip: IpAddr) {
        let value = ip_header_value(ip);
        assert_eq!(value.to_str().unwrap(), ip.to_string(), "{ip:?}");
        assert!(!value.is_sensitive());
    }

    #[test]
    fn ipv4_edge_cases_match_display() {
        for octets in [
            [0, 0, 0, 0],
            [255, 255, 255, 255],
            [127, 0, 0, 1],
            [203, 0, 113, 7],
            [9, 10, 99, 100],
            [1, 20, 199, 200],
            [100, 101, 109, 110],
            [10, 0, 0, 255],
            [192, 168, 1, 254],
        ] {
            check(IpAddr::V4(Ipv4Addr::from(octets)));
        }
    }

    #[test]
    fn writes_dotted_decimal_without_the_fallback() {
        // Checked apart from `ip_header_value`, whose fallback through `Display` would hide
        // a wrong length.
        for (ip, text) in [
            (Ipv4Addr::UNSPECIFIED, "0.0.0.0"),
            (Ipv4Addr::BROADCAST, "255.255.255.255"),
            (Ipv4Addr::new(203, 0, 113, 7), "203.0.113.7"),
            (Ipv4Addr::new(9, 10, 99, 100), "9.10.99.100"),
        ] {
            let mut buf = [0u8; MAX_IPV4_LEN];
            let len = write_ipv4(ip, &mut buf);
            assert_eq!(&buf[..len], text.as_bytes());
        }
    }

    #[test]
    fn every_octet_matches_display() {
        for octet in 0..=u8::MAX {
            check(IpAddr::V4(Ipv4Addr::new(octet, octet, 0, octet)));
        }
    }

    #[test]
    fn ipv6_matches_display() {
        for ip in [
            Ipv6Addr::UNSPECIFIED,
            Ipv6Addr::LOCALHOST,
            "2001:db8::1".parse().unwrap(),
            "::ffff:203.0.113.7".parse().unwrap(),
            "fe80::1:2:3:4".parse().unwrap(),
            Ipv6Addr::from([0xffff; 8]),
        ] {
            check(IpAddr::V6(ip));
        }
    }

    proptest! {
        #[test]
        fn any_ipv4_matches_display(bits in any::<u32>()) {
            let ip = IpAddr::V4(Ipv4Addr::from(bits));
            let value = ip_header_value(ip);
            prop_assert_eq!(value.to_str().unwrap(), ip.to_string());
        }

        #[test]
        fn any_ipv6_matches_display(bits in any::<u128>()) {
            let ip = IpAddr::V6(Ipv6Addr::from(bits));
            let value = ip_header_value(ip);
            prop_assert_eq!(value.to_str().unwrap(), ip.to_string());
        }
    }
}
