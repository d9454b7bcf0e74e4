//! Input checks shared by the emulators (no emulator calls another's).

/// Longest e-mail address accepted, in bytes (RFC 5321's limit on a path, less its brackets).
pub(crate) const MAX_EMAIL_BYTES: usize = 254;

/// A plausible e-mail address: one `@`, a non-empty local part, a dotted domain, no spaces, at
/// most [`MAX_EMAIL_BYTES`].
pub(crate) fn looks_like_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    s.len() <= MAX_EMAIL_BYTES
        && !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(char::is_whitespace)
}

#[cfg(test)]
mod tests {
    use super::{MAX_EMAIL_BYTES, looks_like_email};

    #[test]
    fn email_shapes() {
        assert!(looks_like_email("ada@example.com"));
        assert!(looks_like_email("a.b+tag@mail.example.co"));
        let longest = format!("{}@example.com", "a".repeat(MAX_EMAIL_BYTES - 12));
        assert_eq!(longest.len(), MAX_EMAIL_BYTES);
        assert!(looks_like_email(&longest));
        assert!(!looks_like_email(&format!("a{longest}")), "one byte over");
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a b@example.com",
            "a@b@c.com",
            "a@.com",
            "ada@example.com.",
            "ada@example.com ",
        ] {
            assert!(!looks_like_email(bad), "{bad:?}");
        }
    }
}
