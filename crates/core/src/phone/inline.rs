//! The inline texts a [`PhoneNumber`](super::PhoneNumber) is made of: its E.164 text and its
//! region's code, both copied without allocating.

/// An E.164 text (`+` and at most 17 digits, the most libphonenumber accepts), inline and
/// zero-padded: a number is 23 bytes, and cloning one copies them without allocating. Its
/// order is the text's (no text holds a zero byte). It is also the memo's key.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) struct E164 {
    pub(super) bytes: [u8; E164::CAPACITY],
    len: u8,
}

impl E164 {
    /// The longest text: `+` and 17 digits.
    const CAPACITY: usize = 18;

    /// `text` inline; `None` when it is longer than any number libphonenumber accepts.
    pub(super) fn new(text: &str) -> Option<Self> {
        let mut bytes = [0; Self::CAPACITY];
        bytes
            .get_mut(..text.len())?
            .copy_from_slice(text.as_bytes());
        Some(Self {
            bytes,
            len: u8::try_from(text.len()).ok()?,
        })
    }

    pub(super) fn as_str(&self) -> &str {
        // Copied whole from a `&str` in `new`: always UTF-8.
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or_default()
    }
}

/// An ISO 3166-1 alpha-2 code, kept inline: a number's clone copies one string, not two.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) struct Region([u8; 2]);

impl Region {
    /// `id` if it is two ASCII letters.
    pub(super) fn new(id: &str) -> Option<Self> {
        match *id.as_bytes() {
            [a, b] if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() => Some(Self([a, b])),
            _ => None,
        }
    }

    pub(super) fn as_str(&self) -> &str {
        // Two ASCII letters (checked in `new`) are always UTF-8.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e164_texts_hold_what_libphonenumber_accepts_and_keep_their_order() {
        assert_eq!(
            E164::new("+905321234567").unwrap().as_str(),
            "+905321234567"
        );
        let longest = "+12345678901234567";
        assert_eq!(
            E164::new(longest).unwrap().as_str(),
            longest,
            "17 digits fit"
        );
        assert!(E164::new("+123456789012345678").is_none(), "18 do not");
        assert!(E164::new("+9053212345") != E164::new("+90532123450"));
        let mut texts = [
            "+905321234567",
            "+9053212345",
            "+1415555267",
            "+14155552671",
            "+2",
        ];
        let mut inline: Vec<E164> = texts.iter().map(|t| E164::new(t).unwrap()).collect();
        texts.sort_unstable();
        inline.sort_unstable();
        let inline: Vec<&str> = inline.iter().map(E164::as_str).collect();
        assert_eq!(inline, texts, "the same order as the texts'");
    }
}
