//! Text helpers: [`trim`], `str::trim` without its scan for the usual, already trimmed text,
//! and [`deserialize_str`], a string read without a copy of its own.

/// `str::trim`, without its per-character scan for text that neither starts nor ends with
/// whitespace (an ASCII byte at either end is a whole character; the ASCII whitespace
/// `char::is_whitespace` knows is tab, LF, VT, FF, CR and space). For what is trimmed on every
/// call: numbers, session ids, channel names, and every field of a provider's answer.
pub(crate) fn trim(text: &str) -> &str {
    let plain = |b: &u8| b.is_ascii() && !matches!(b, b'\t' | b'\n' | 0x0B | 0x0C | b'\r' | b' ');
    match (text.as_bytes().first(), text.as_bytes().last()) {
        (Some(first), Some(last)) if plain(first) && plain(last) => text,
        _ => text.trim(),
    }
}

/// Deserializes a string and hands it to `read` without an owned copy of its own: borrowed
/// from the input where the format allows, or the deserializer's buffer. `expecting` names
/// what the string should be in the error for a value of another type.
pub(crate) fn deserialize_str<'de, D, T, E>(
    deserializer: D,
    expecting: &'static str,
    read: impl FnOnce(&str) -> Result<T, E>,
) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    E: std::fmt::Display,
{
    struct Text<F> {
        expecting: &'static str,
        read: F,
    }

    impl<T, E: std::fmt::Display, F: FnOnce(&str) -> Result<T, E>> serde::de::Visitor<'_> for Text<F> {
        type Value = T;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.expecting)
        }

        fn visit_str<Err: serde::de::Error>(self, text: &str) -> Result<T, Err> {
            (self.read)(text).map_err(Err::custom)
        }
    }

    deserializer.deserialize_str(Text { expecting, read })
}

#[cfg(test)]
mod tests {
    #[test]
    fn trim_is_str_trim() {
        for text in [
            "",
            " ",
            "a",
            " a",
            "a ",
            "\ta\n",
            "\u{b}a\u{c}",
            "a b",
            "\r\n",
            "\u{1}a\u{7f}",
            "a\u{85}",
            "\u{85}x",
            "\u{a0}a",
            "a\u{a0}",
            "\u{3000}a",
            "ab\u{2003}",
            "é",
            " é ",
            "+90 555",
        ] {
            assert_eq!(super::trim(text), text.trim(), "{text:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_text_is_trimmed_as_str_trims_it(
            text in "\\PC{0,8}|[ \t\n\u{b}\u{c}\r\u{85}\u{a0}\u{2028}a-z]{0,8}"
        ) {
            proptest::prop_assert_eq!(super::trim(&text), text.trim());
        }
    }
}
