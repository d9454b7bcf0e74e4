//! Counter keys: an HMAC-SHA256 of the rule and its subject with the configured secret, so the
//! store never holds a phone number or an IP address in clear.

use std::fmt;
use std::net::IpAddr;

use hmac::{Hmac, Mac};
use phone_verify_core::PhoneNumber;
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

use crate::denial::Rule;

/// Derives counter keys.
#[derive(Clone)]
pub(crate) struct Keyer {
    mac: Hmac<Sha256>,
}

impl fmt::Debug for Keyer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Keyer(HMAC-SHA256, secret redacted)")
    }
}

impl Keyer {
    /// A keyer with `secret`.
    pub(crate) fn new(secret: &SecretString) -> Self {
        let mac = Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes())
            .expect("HMAC takes keys of any length");
        Self { mac }
    }

    /// The key of `rule`'s counter for `subject`: `rule:` and 128 bits of the HMAC in hex.
    pub(crate) fn key(&self, rule: Rule, subject: &str) -> String {
        let mut mac = self.mac.clone();
        mac.update(rule.as_str().as_bytes());
        mac.update(b"\0");
        mac.update(subject.as_bytes());
        let digest = mac.finalize().into_bytes();
        let mut key = String::with_capacity(rule.as_str().len() + 33);
        key.push_str(rule.as_str());
        key.push(':');
        for byte in &digest[..16] {
            key.push(char::from(HEX[usize::from(byte >> 4)]));
            key.push(char::from(HEX[usize::from(byte & 0xf)]));
        }
        key
    }

    /// The key of `rule`'s counter for `phone`.
    pub(crate) fn phone(&self, rule: Rule, phone: &PhoneNumber) -> String {
        self.key(rule, phone.e164())
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// The IPv4 /24 or IPv6 /64 of `ip`, as text (an IPv4-mapped IPv6 address counts as IPv4).
pub(crate) fn subnet(ip: IpAddr) -> (Rule, String) {
    match ip.to_canonical() {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            (Rule::PerIpv4Subnet, format!("{a}.{b}.{c}.0/24"))
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            (
                Rule::PerIpv6Subnet,
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3]),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_hide_the_subject_and_depend_on_the_secret() {
        let a = Keyer::new(&SecretString::from("secret-one-0123456789"));
        let b = Keyer::new(&SecretString::from("secret-two-0123456789"));
        let phone: PhoneNumber = "+905321234567".parse().unwrap();
        let key = a.phone(Rule::PerPhone, &phone);
        assert!(key.starts_with("per_phone:") && key.len() == "per_phone:".len() + 32);
        assert!(!key.contains("5321234567"));
        assert_ne!(key, b.phone(Rule::PerPhone, &phone));
        assert_ne!(key, a.phone(Rule::PerPhoneDaily, &phone));
        assert_eq!(key, a.phone(Rule::PerPhone, &phone));
    }

    #[test]
    fn subnets() {
        assert_eq!(
            subnet("203.0.113.77".parse().unwrap()),
            (Rule::PerIpv4Subnet, "203.0.113.0/24".into())
        );
        assert_eq!(
            subnet("::ffff:203.0.113.9".parse().unwrap()).1,
            "203.0.113.0/24"
        );
        assert_eq!(
            subnet("2001:db8:1:2:3:4:5:6".parse().unwrap()),
            (Rule::PerIpv6Subnet, "2001:db8:1:2::/64".into())
        );
    }
}
