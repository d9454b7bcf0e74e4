//! Counter keys: an HMAC-SHA256 of the subject (a phone, an IP address, a subnet) with the
//! configured secret, so the store never holds a phone number or an IP address in clear.
//!
//! A decision computes one HMAC per subject, not per rule: the rules of a subject (resend
//! cooldown, sends per phone, per phone per day, wrong codes per phone) share its digest, and
//! their keys differ by the rule's name in front of it (`per_phone:` + 32 hex digits).

use std::fmt;
use std::net::IpAddr;

use hmac::{Hmac, Mac};
use phone_verify_core::PhoneNumber;
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

use crate::denial::Rule;

/// Derives subject digests: a keyed HMAC state, cloned for each digest (never re-keyed).
#[derive(Clone)]
pub(crate) struct Keyer {
    mac: Hmac<Sha256>,
}

impl fmt::Debug for Keyer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Keyer(HMAC-SHA256, secret redacted)")
    }
}

/// 128 bits of a subject's HMAC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Digest([u8; 16]);

impl Digest {
    /// The key of `rule`'s counter for this subject: the rule's name, `:`, the digest in hex.
    pub(crate) fn key(self, rule: Rule) -> String {
        let name = rule.as_str();
        let mut key = String::with_capacity(name.len() + 33);
        key.push_str(name);
        key.push(':');
        push_hex(&mut key, &self.0);
        key
    }
}

/// The kinds of subject, kept apart in the HMAC's input.
#[derive(Clone, Copy, Debug)]
enum Domain {
    Phone = 1,
    Ip = 2,
    Ipv4Subnet = 3,
    Ipv6Subnet = 4,
    Verification = 5,
    Scope = 6,
}

impl Keyer {
    /// A keyer with `secret`.
    pub(crate) fn new(secret: &SecretString) -> Self {
        let mac = Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes())
            .expect("HMAC takes keys of any length");
        Self { mac }
    }

    fn digest(&self, domain: Domain, parts: &[&[u8]]) -> Digest {
        let mut mac = self.mac.clone();
        mac.update(&[domain as u8]);
        for part in parts {
            mac.update(part);
            mac.update(b"\0");
        }
        let full = mac.finalize().into_bytes();
        let mut digest = [0; 16];
        digest.copy_from_slice(&full[..16]);
        Digest(digest)
    }

    /// The digest of a phone number (its E.164 form).
    pub(crate) fn phone(&self, phone: &PhoneNumber) -> Digest {
        self.digest(Domain::Phone, &[phone.e164().as_bytes()])
    }

    /// The digest of an end-user IP address (an IPv4-mapped IPv6 address counts as IPv4).
    pub(crate) fn ip(&self, ip: IpAddr) -> Digest {
        match ip.to_canonical() {
            IpAddr::V4(v4) => self.digest(Domain::Ip, &[&v4.octets()]),
            IpAddr::V6(v6) => self.digest(Domain::Ip, &[&v6.octets()]),
        }
    }

    /// The rule of `ip`'s subnet (its IPv4 /24 or IPv6 /64) and the subnet's digest.
    pub(crate) fn subnet(&self, ip: IpAddr) -> (Rule, Digest) {
        match ip.to_canonical() {
            IpAddr::V4(v4) => {
                let octets = v4.octets();
                let digest = self.digest(Domain::Ipv4Subnet, &[&octets[..3]]);
                (Rule::PerIpv4Subnet, digest)
            }
            IpAddr::V6(v6) => {
                let octets = v6.octets();
                let digest = self.digest(Domain::Ipv6Subnet, &[&octets[..8]]);
                (Rule::PerIpv6Subnet, digest)
            }
        }
    }

    /// The digest of a verification: its provider, its reference and when it was started (in
    /// nanoseconds since the Unix epoch). A provider may give every verification of a phone
    /// the same reference (Verigator's is the user id), so the start time tells one
    /// verification from the next.
    pub(crate) fn verification(&self, provider: &str, reference: &str, started: i128) -> Digest {
        self.digest(
            Domain::Verification,
            &[
                provider.as_bytes(),
                reference.as_bytes(),
                &started.to_be_bytes(),
            ],
        )
    }

    /// The tag of the counters that have no subject (a region's, the global budget's): 8 hex
    /// digits of an HMAC with the secret, so that applications sharing a store with different
    /// secrets keep them apart, as they keep their subjects' counters apart.
    pub(crate) fn scope(&self) -> String {
        let Digest(digest) = self.digest(Domain::Scope, &[b"scope"]);
        let mut tag = String::with_capacity(8);
        push_hex(&mut tag, &digest[..4]);
        tag
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends `bytes` in lower-case hex.
fn push_hex(out: &mut String, bytes: &[u8]) {
    for byte in bytes {
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0xf)]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keyer(secret: &str) -> Keyer {
        Keyer::new(&SecretString::from(secret))
    }

    #[test]
    fn keys_hide_the_subject_and_depend_on_the_secret() {
        let a = keyer("secret-one-0123456789");
        let b = keyer("secret-two-0123456789");
        let phone: PhoneNumber = "+905321234567".parse().unwrap();
        let key = a.phone(&phone).key(Rule::PerPhone);
        assert!(key.starts_with("per_phone:") && key.len() == "per_phone:".len() + 32);
        assert!(!key.contains("5321234567"));
        assert_ne!(key, b.phone(&phone).key(Rule::PerPhone));
        assert_ne!(key, a.phone(&phone).key(Rule::PerPhoneDaily));
        assert_eq!(key, a.phone(&phone).key(Rule::PerPhone));
        let other: PhoneNumber = "+905321234568".parse().unwrap();
        assert_ne!(a.phone(&phone), a.phone(&other));
    }

    #[test]
    fn the_scope_tag_depends_on_the_secret_only() {
        let a = keyer("secret-one-0123456789");
        let tag = a.scope();
        assert_eq!(tag.len(), 8);
        assert!(tag.bytes().all(|b| HEX.contains(&b)), "{tag}");
        assert_eq!(tag, keyer("secret-one-0123456789").scope());
        assert_ne!(tag, keyer("secret-two-0123456789").scope());
    }

    #[test]
    fn debug_redacts_the_secret() {
        let shown = format!("{:?}", keyer("secret-one-0123456789"));
        assert_eq!(shown, "Keyer(HMAC-SHA256, secret redacted)");
    }

    #[test]
    fn subjects_of_different_kinds_never_share_a_digest() {
        let k = keyer("secret-one-0123456789");
        let ip: IpAddr = "203.0.113.0".parse().unwrap();
        assert_ne!(k.ip(ip), k.subnet(ip).1);
        assert_ne!(k.verification("a", "bc", 0), k.verification("ab", "c", 0));
    }

    #[test]
    fn verifications_with_one_reference_started_apart_have_their_own_digest() {
        let k = keyer("secret-one-0123456789");
        let at = 1_796_598_000_000_000_000;
        let next = at + 1;
        assert_eq!(
            k.verification("verigator", "u1", at),
            k.verification("verigator", "u1", at)
        );
        assert_ne!(
            k.verification("verigator", "u1", at),
            k.verification("verigator", "u1", next)
        );
        assert_ne!(
            k.verification("verigator", "u1", at),
            k.verification("verigator", "u2", at)
        );
    }

    #[test]
    fn subnets() {
        let k = keyer("secret-one-0123456789");
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let (rule, net) = k.subnet(ip("203.0.113.77"));
        assert_eq!(rule, Rule::PerIpv4Subnet);
        assert_eq!(net, k.subnet(ip("203.0.113.9")).1);
        assert_eq!(net, k.subnet(ip("::ffff:203.0.113.9")).1);
        assert_ne!(net, k.subnet(ip("203.0.114.9")).1);
        assert_eq!(k.ip(ip("203.0.113.9")), k.ip(ip("::ffff:203.0.113.9")));
        let (rule, net6) = k.subnet(ip("2001:db8:1:2:3:4:5:6"));
        assert_eq!(rule, Rule::PerIpv6Subnet);
        assert_eq!(net6, k.subnet(ip("2001:db8:1:2:ffff::1")).1);
        assert_ne!(net6, k.subnet(ip("2001:db8:1:3::1")).1);
    }
}
