//! Input checks shared by the emulators (no emulator calls another's).

/// A plausible e-mail address: one `@`, a non-empty local part, a dotted domain, no spaces.
pub(crate) fn looks_like_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(char::is_whitespace)
}

#[cfg(test)]
mod tests {
    use super::looks_like_email;

    #[test]
    fn email_shapes() {
        assert!(looks_like_email("ada@example.com"));
        assert!(looks_like_email("a.b+tag@mail.example.co"));
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
