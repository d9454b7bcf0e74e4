//! [`trim`]: `str::trim` without its scan for the usual, already trimmed text.

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
