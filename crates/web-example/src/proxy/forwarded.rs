//! RFC 7239 `Forwarded`: its elements read from the right, each the address its `for`
//! parameter names.

use std::borrow::Cow;

use axum::http::HeaderMap;
use axum::http::header::FORWARDED;

use super::hop::{Hop, parse_address};

/// The longest element read: room for `for`, `by`, `host` and `proto` with the longest values
/// a proxy writes. A longer one is unreadable, and its line is not read past it.
pub(super) const MAX_ELEMENT_LEN: usize = 512;

/// Blanks read around elements, pairs and `=`: RFC 7239 has none inside an element, but
/// hand-written proxy configurations add them.
const BLANKS: [char; 2] = [' ', '\t'];

/// The hops `Forwarded` names, nearest first: its lines from the last, each line's elements
/// from the right (split at the commas outside quoted strings). Lazy: only the elements taken
/// are read, each at most [`MAX_ELEMENT_LEN`] bytes of it.
///
/// An element's hop is its `for` parameter's node: an address, optionally with a port or an
/// obfuscated port, an IPv6 one in brackets (`for="[2001:db8::17]:4711"`). An element without
/// `for`, with it twice, malformed, or naming `unknown` or an obfuscated node (`_hidden`) is
/// unreadable; an empty one is blank. Parameter names are read in any case; an unquoted
/// address with a port or an IPv6 one, which the RFC asks to quote, is read too.
pub(super) fn hops(headers: &HeaderMap) -> impl Iterator<Item = Hop> + '_ {
    headers
        .get_all(FORWARDED)
        .iter()
        .rev()
        .flat_map(|line| Elements(Some(line.as_bytes())))
        .map(element)
}

/// A line's elements from the right, split at the commas outside quoted strings. An element
/// longer than [`MAX_ELEMENT_LEN`] comes cut to one byte more (so unreadable), and ends the
/// line.
struct Elements<'a>(Option<&'a [u8]>);

impl<'a> Iterator for Elements<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let line = self.0?;
        let floor = line.len().saturating_sub(MAX_ELEMENT_LEN + 1);
        let mut quoted = false;
        for at in (floor..line.len()).rev() {
            match line[at] {
                b'"' if !quoted => quoted = true,
                b'"' if !escaped(line, floor, at) => quoted = false,
                b',' if !quoted => {
                    self.0 = Some(&line[..at]);
                    return Some(&line[at + 1..]);
                }
                _ => {}
            }
        }
        self.0 = None;
        Some(&line[floor..])
    }
}

/// Whether the byte at `at` follows an odd number of backslashes (counted down to `floor`:
/// a run reaching it makes the element too long anyway).
fn escaped(line: &[u8], floor: usize, at: usize) -> bool {
    line[floor..at]
        .iter()
        .rev()
        .take_while(|&&b| b == b'\\')
        .count()
        % 2
        == 1
}

/// The hop one element names.
fn element(element: &[u8]) -> Hop {
    if element.len() > MAX_ELEMENT_LEN {
        return Hop::Unreadable;
    }
    let Ok(text) = std::str::from_utf8(element) else {
        return Hop::Unreadable;
    };
    let text = text.trim_matches(BLANKS);
    if text.is_empty() {
        return Hop::Blank;
    }
    let mut node = None;
    let mut rest = Some(text);
    while let Some(current) = rest {
        let Some((pair, next)) = split_pair(current) else {
            return Hop::Unreadable;
        };
        rest = next;
        let pair = pair.trim_matches(BLANKS);
        if pair.is_empty() {
            continue;
        }
        let Some((name, value)) = pair.split_once('=') else {
            return Hop::Unreadable;
        };
        let name = name.trim_matches(BLANKS);
        let Some(value) = unquote(value.trim_matches(BLANKS)) else {
            return Hop::Unreadable;
        };
        if !is_token(name) {
            return Hop::Unreadable;
        }
        if name.eq_ignore_ascii_case("for") && node.replace(value).is_some() {
            return Hop::Unreadable;
        }
    }
    node.map_or(Hop::Unreadable, |node| node_address(&node))
}

/// The first pair of `rest` and what follows its `;`, or `None` when a quoted string in it is
/// not closed.
fn split_pair(rest: &str) -> Option<(&str, Option<&str>)> {
    let (mut quoted, mut escaped) = (false, false);
    for (i, b) in rest.bytes().enumerate() {
        if quoted {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => quoted = false,
                _ => {}
            }
        } else if b == b'"' {
            quoted = true;
        } else if b == b';' {
            return Some((&rest[..i], Some(&rest[i + 1..])));
        }
    }
    (!quoted).then_some((rest, None))
}

/// A value as a token or a quoted string, the latter unescaped; `None` when it is neither. A
/// token may hold `:`, `[` and `]` too, which proxies write unquoted.
fn unquote(value: &str) -> Option<Cow<'_, str>> {
    let Some(inner) = value.strip_prefix('"') else {
        let token = !value.is_empty()
            && value
                .bytes()
                .all(|b| b.is_ascii_graphic() && !matches!(b, b'"' | b'\\' | b',' | b';'));
        return token.then_some(Cow::Borrowed(value));
    };
    let inner = inner.strip_suffix('"')?;
    if !inner.contains(['\\', '"']) {
        return Some(Cow::Borrowed(inner));
    }
    let mut unescaped = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => unescaped.push(chars.next()?),
            '"' => return None,
            c => unescaped.push(c),
        }
    }
    Some(Cow::Owned(unescaped))
}

/// Whether `name` is an HTTP token (RFC 9110 §5.6.2).
fn is_token(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// The hop a node names (RFC 7239 §6): an address, optionally with a port or an obfuscated
/// port. `unknown` and obfuscated nodes (`_hidden`) are not addresses, so they name none.
fn node_address(node: &str) -> Hop {
    let address = match node.rsplit_once(':') {
        Some((address, port)) if is_obfuscated(port) => address,
        _ => node,
    };
    parse_address(address).into()
}

/// Whether `id` is an obfuscated node or port: `_` and letters, digits, `.`, `_`, `-`.
fn is_obfuscated(id: &str) -> bool {
    id.strip_prefix('_').is_some_and(|rest| {
        !rest.is_empty()
            && rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn elements(line: &str) -> Vec<&str> {
        Elements(Some(line.as_bytes()))
            .map(|e| std::str::from_utf8(e).unwrap())
            .collect()
    }

    #[test]
    fn elements_split_at_commas_outside_quoted_strings_from_the_right() {
        assert_eq!(elements("a,b, c"), [" c", "b", "a"]);
        assert_eq!(elements(""), [""]);
        assert_eq!(elements(",,"), ["", "", ""]);
        assert_eq!(elements(r#"a="x,y",b"#), ["b", r#"a="x,y""#]);
        assert_eq!(elements(r#"a="x\",y",b"#), ["b", r#"a="x\",y""#]);
        assert_eq!(elements(r#"a="x\\\",y",b"#), ["b", r#"a="x\\\",y""#]);
        assert_eq!(elements(r#"a="x\\",y="z""#), [r#"y="z""#, r#"a="x\\""#]);
        assert_eq!(elements(r#"a="x\\",y"#), ["y", r#"a="x\\""#]);
    }

    #[test]
    fn a_long_element_ends_its_line() {
        let long = "a".repeat(MAX_ELEMENT_LEN + 10);
        let line = format!("for=1.1.1.1,{long},b");
        let found = elements(&line);
        assert_eq!(found.len(), 2, "nothing left of the long element is read");
        assert_eq!(found[0], "b");
        assert_eq!(found[1].len(), MAX_ELEMENT_LEN + 1);
        let exact = "a".repeat(MAX_ELEMENT_LEN);
        assert_eq!(elements(&format!("x,{exact}")), [exact.as_str(), "x"]);
        assert_eq!(elements(&exact), [exact.as_str()]);
    }

    #[test]
    fn values_are_tokens_or_quoted_strings() {
        for (value, expected) in [
            ("abc", Some("abc")),
            ("[2001:db8::1]:80", Some("[2001:db8::1]:80")),
            (r#""a b""#, Some("a b")),
            (r#""a\"b""#, Some(r#"a"b"#)),
            (r#""a\\b""#, Some(r"a\b")),
            (r#""a\b""#, Some("ab")),
            (r#""""#, Some("")),
            ("", None),
            ("a b", None),
            (r"a\b", None),
            (r#"a"b"#, None),
            (r#"""#, None),
            (r#""a"#, None),
            (r#""a\""#, None),
            (r#""a"b""#, None),
        ] {
            assert_eq!(unquote(value).as_deref(), expected, "{value}");
        }
    }

    #[test]
    fn pairs_split_at_semicolons_outside_quoted_strings() {
        assert_eq!(split_pair("a=1;b=2"), Some(("a=1", Some("b=2"))));
        assert_eq!(split_pair(r#"a="1;2";b"#), Some((r#"a="1;2""#, Some("b"))));
        assert_eq!(
            split_pair(r#"a="1\";2";b"#),
            Some((r#"a="1\";2""#, Some("b")))
        );
        assert_eq!(split_pair("a=1"), Some(("a=1", None)));
        assert_eq!(split_pair(r#"a="1;2"#), None);
    }

    #[test]
    fn nodes_name_addresses() {
        for (node, expected) in [
            ("192.0.2.60", Hop::Address("192.0.2.60".parse().unwrap())),
            (
                "192.0.2.60:_x-1.y",
                Hop::Address("192.0.2.60".parse().unwrap()),
            ),
            (
                "[2001:db8::1]:_p",
                Hop::Address("2001:db8::1".parse().unwrap()),
            ),
            ("unknown", Hop::Unreadable),
            ("UNKNOWN", Hop::Unreadable),
            ("unknown:80", Hop::Unreadable),
            ("_gazonk", Hop::Unreadable),
            ("192.0.2.60:_", Hop::Unreadable),
            ("192.0.2.60:_a:b", Hop::Unreadable),
        ] {
            assert_eq!(node_address(node), expected, "{node}");
        }
        assert!(is_token("For"));
        assert!(is_token("x-ext.1"));
        assert!(!is_token(""));
        assert!(!is_token("a b"));
        assert!(!is_token("a/b"));
    }
}
