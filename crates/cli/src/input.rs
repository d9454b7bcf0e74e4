//! Files and stdin read with a bound: a command never reads without end (`--handle /dev/zero`,
//! a stream piped into `--key-stdin`).

use std::fs;
use std::io::{self, BufRead as _, Read};
use std::path::Path;

use phone_verify::secrecy::SecretString;
use phone_verify::secrecy::zeroize::{Zeroize as _, Zeroizing};

/// The largest handle, `--config` or `--guard` file read (a handle is about a kilobyte, a
/// configuration a few).
pub(crate) const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// The longest line read from stdin (a key, a code).
pub(crate) const MAX_LINE_BYTES: u64 = 8 * 1024;

/// The text of `path`, refused past [`MAX_FILE_BYTES`].
pub(crate) fn read_file(path: &Path) -> io::Result<String> {
    read_text(fs::File::open(path)?, MAX_FILE_BYTES)
}

/// All of stdin, refused past [`MAX_FILE_BYTES`].
pub(crate) fn read_stdin() -> io::Result<String> {
    read_text(io::stdin().lock(), MAX_FILE_BYTES)
}

/// The first line of stdin (with its line break), refused past [`MAX_LINE_BYTES`].
pub(crate) fn read_stdin_line() -> io::Result<String> {
    read_line(io::stdin().lock(), MAX_LINE_BYTES)
}

/// The first line of stdin as a secret, trimmed (`None` when blank), refused past
/// [`MAX_LINE_BYTES`]: for `--key-stdin`. The line goes into one buffer, wiped when dropped and
/// reserved whole before reading so that it never grows (a growth would leave a copy behind).
/// It is read from a duplicate of stdin's descriptor, a byte at a time: std's stdin keeps what
/// it reads in a buffer of its own that is never wiped, and reading byte by byte takes nothing
/// past the line, which std's stdin still reads after it (the login code).
pub(crate) fn read_stdin_secret() -> io::Result<Option<SecretString>> {
    read_secret_line(unbuffered_stdin()?, MAX_LINE_BYTES)
}

/// Stdin's descriptor, duplicated: reads from it skip std's buffer.
#[cfg(unix)]
fn unbuffered_stdin() -> io::Result<fs::File> {
    use std::os::fd::AsFd as _;
    Ok(fs::File::from(io::stdin().as_fd().try_clone_to_owned()?))
}

/// Stdin's handle, duplicated: reads from it skip std's buffer.
#[cfg(windows)]
fn unbuffered_stdin() -> io::Result<fs::File> {
    use std::os::windows::io::AsHandle as _;
    Ok(fs::File::from(
        io::stdin().as_handle().try_clone_to_owned()?,
    ))
}

/// [`read_stdin_secret`] from `reader`, a byte at a time up to the first line break, and at
/// most `limit` bytes.
fn read_secret_line(mut reader: impl Read, limit: u64) -> io::Result<Option<SecretString>> {
    let capacity = usize::try_from(limit + 1).map_err(|_| too_long(limit))?;
    let mut line = Zeroizing::new(Vec::with_capacity(capacity));
    let mut byte = [0u8];
    loop {
        match reader.read(&mut byte) {
            Ok(0) => break,
            Ok(_) if byte[0] == b'\n' => break,
            Ok(_) if line.len() == capacity - 1 => return Err(too_long(limit)),
            Ok(_) => line.push(byte[0]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    byte.zeroize();
    let line = std::str::from_utf8(&line).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            "stream did not contain valid UTF-8",
        )
    })?;
    let key = line.trim();
    Ok((!key.is_empty()).then(|| SecretString::from(key)))
}

/// All of `reader` as UTF-8 text, or an error once it passes `limit` bytes.
fn read_text(reader: impl Read, limit: u64) -> io::Result<String> {
    let mut text = String::new();
    reader.take(limit + 1).read_to_string(&mut text)?;
    if text.len() as u64 > limit {
        return Err(too_long(limit));
    }
    Ok(text)
}

/// The first line of `reader` as UTF-8 text, or an error once it passes `limit` bytes.
fn read_line(reader: impl io::BufRead, limit: u64) -> io::Result<String> {
    let mut line = String::new();
    reader.take(limit + 1).read_line(&mut line)?;
    if line.len() as u64 > limit {
        return Err(too_long(limit));
    }
    Ok(line)
}

fn too_long(limit: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("longer than {limit} bytes"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_line_is_trimmed_bounded_and_blank_is_none() {
        use phone_verify::secrecy::ExposeSecret as _;
        let key = read_secret_line(&b" k-123 \nrest"[..], 16)
            .unwrap()
            .unwrap();
        assert_eq!(key.expose_secret(), "k-123");
        assert!(read_secret_line(&b"  \t\n"[..], 16).unwrap().is_none());
        assert!(read_secret_line(&b""[..], 16).unwrap().is_none());
        assert!(read_secret_line(&b"12345678901234567\n"[..], 16).is_err());
        assert!(read_secret_line(io::repeat(b'7'), 64).is_err());
        // Up to the limit, with or without its line break.
        let key = read_secret_line(&b"1234567890123456\n"[..], 16).unwrap();
        assert_eq!(key.unwrap().expose_secret(), "1234567890123456");
        let key = read_secret_line(&b"1234567890123456"[..], 16).unwrap();
        assert_eq!(key.unwrap().expose_secret(), "1234567890123456");
        let err = read_secret_line(&b"\xff\xfe\n"[..], 16).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    }

    #[test]
    fn a_secret_line_takes_nothing_past_its_line_break() {
        use phone_verify::secrecy::ExposeSecret as _;
        let mut stream = &b"k-123\n123456\n"[..];
        let key = read_secret_line(&mut stream, 64).unwrap().unwrap();
        assert_eq!(key.expose_secret(), "k-123");
        assert_eq!(stream, b"123456\n");
    }

    #[test]
    fn text_up_to_the_limit_is_read_and_one_byte_more_is_refused() {
        assert_eq!(read_text(&b"abcd"[..], 4).unwrap(), "abcd");
        let err = read_text(&b"abcde"[..], 4).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert_eq!(err.to_string(), "longer than 4 bytes");
        // A source without end stops at the limit.
        assert!(read_text(io::repeat(b'a'), 1024).is_err());
    }

    #[test]
    fn a_line_up_to_the_limit_is_read_and_a_longer_one_is_refused() {
        assert_eq!(read_line(&b"1234\nrest"[..], 5).unwrap(), "1234\n");
        assert_eq!(read_line(&b"12345"[..], 5).unwrap(), "12345");
        assert!(read_line(&b"123456\n"[..], 5).is_err());
        assert!(read_line(io::BufReader::new(io::repeat(b'7')), 64).is_err());
    }

    /// `--key-stdin` takes a Verifik access token, a JWT of a few kilobytes, on one line: up to
    /// 8 KiB with its line break.
    #[test]
    fn a_line_of_a_few_kilobytes_is_a_key_and_one_past_8_kib_is_refused() {
        let token = format!("eyJ{}\n", "a".repeat(4096));
        assert_eq!(read_line(token.as_bytes(), MAX_LINE_BYTES).unwrap(), token);
        let longest = format!("{}\n", "a".repeat(8 * 1024 - 1));
        assert_eq!(
            read_line(longest.as_bytes(), MAX_LINE_BYTES).unwrap(),
            longest
        );
        let over = format!("{}\n", "a".repeat(8 * 1024));
        assert!(read_line(over.as_bytes(), MAX_LINE_BYTES).is_err());
    }
}
