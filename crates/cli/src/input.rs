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
/// it reads in a buffer of its own that is never wiped. Nothing past the line is taken.
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

/// [`read_stdin_secret`] from `reader`, a byte at a time up to the first line break: at most
/// `limit` bytes, not counting the line break (`\n` or `\r\n`).
fn read_secret_line(mut reader: impl Read, limit: u64) -> io::Result<Option<SecretString>> {
    let limit_len = usize::try_from(limit).map_err(|_| too_long(limit))?;
    let capacity = limit_len.checked_add(1).ok_or_else(|| too_long(limit))?;
    let mut line = Zeroizing::new(Vec::with_capacity(capacity));
    let mut byte = [0u8];
    loop {
        match reader.read(&mut byte) {
            Ok(0) => break,
            Ok(_) if byte[0] == b'\n' => break,
            // The `\r` of a `\r\n` fits the one byte reserved past the limit.
            Ok(_) if line.len() == limit_len && byte[0] == b'\r' => line.push(b'\r'),
            Ok(_) if line.len() >= limit_len => return Err(too_long(limit)),
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
    /// 8 KiB without its line break, `\n` or `\r\n`.
    #[test]
    fn a_key_of_a_few_kilobytes_is_read_and_one_past_8_kib_is_refused() {
        use phone_verify::secrecy::ExposeSecret as _;
        let token = format!("eyJ{}", "a".repeat(4096));
        let longest = "a".repeat(8 * 1024);
        for key in [&token, &longest] {
            for end in ["\n", "\r\n", ""] {
                let line = format!("{key}{end}");
                let read = read_secret_line(line.as_bytes(), MAX_LINE_BYTES).unwrap();
                assert_eq!(read.unwrap().expose_secret(), key, "{end:?}");
            }
        }
        for over in [format!("{longest}a\n"), format!("{longest}\ra\n")] {
            assert!(read_secret_line(over.as_bytes(), MAX_LINE_BYTES).is_err());
        }
    }

    /// The variable that tells [`the_key_is_read_past_stds_stdin_buffer`] it is its own child.
    const CHILD: &str = "PHONE_VERIFY_CLI_TEST_STDIN_CHILD";

    /// `--key-stdin`'s line is read from stdin's descriptor, not through std's stdin, whose
    /// buffer would take (and keep) everything the pipe holds: what follows the line is still
    /// in the pipe. The test runs itself again as a child with its stdin piped.
    #[test]
    fn the_key_is_read_past_stds_stdin_buffer() {
        use phone_verify::secrecy::ExposeSecret as _;
        use std::io::Write as _;
        if std::env::var_os(CHILD).is_some() {
            let key = read_stdin_secret().unwrap().unwrap();
            assert_eq!(key.expose_secret(), "k-123");
            let mut rest = String::new();
            unbuffered_stdin()
                .unwrap()
                .read_to_string(&mut rest)
                .unwrap();
            assert_eq!(rest, "rest\n");
            return;
        }
        let name = "input::tests::the_key_is_read_past_stds_stdin_buffer";
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .args([name, "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD, "1")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(b"k-123\nrest\n")
            .unwrap();
        let output = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success() && stdout.contains("1 passed"),
            "the child run failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}
