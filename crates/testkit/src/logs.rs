//! What a `tracing` subscriber writes, kept in memory for a test to search: a verifier's logs
//! must name what happened and show no credential, code or full phone number.

use std::io;
use std::sync::{Arc, Mutex, PoisonError};

use tracing::Level;
use tracing::subscriber::DefaultGuard;

/// The text a `tracing_subscriber::fmt` subscriber writes, collected in memory.
///
/// Give it to [`fmt().with_writer`](tracing_subscriber::fmt::SubscriberBuilder::with_writer)
/// (its clones share one buffer), or let [`set_default`](Self::set_default) install such a
/// subscriber for the current thread. `tracing` caches which callsites are enabled
/// process-wide, so a test that reads its logs is best kept in a test binary of its own.
#[derive(Clone, Debug, Default)]
pub struct LogCapture(Arc<Mutex<Vec<u8>>>);

impl LogCapture {
    /// An empty capture.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Installs, until the guard drops, a plain-text `fmt` subscriber writing here for this
    /// thread, recording `level` and more severe events.
    #[must_use = "the subscriber is removed when the guard drops"]
    pub fn set_default(&self, level: Level) -> DefaultGuard {
        let subscriber = tracing_subscriber::fmt()
            .with_writer(self.clone())
            .with_max_level(level)
            .with_ansi(false)
            .finish();
        tracing::subscriber::set_default(subscriber)
    }

    /// Everything written so far (invalid UTF-8 replaced).
    #[must_use]
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(PoisonError::into_inner)).into_owned()
    }
}

impl io::Write for LogCapture {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogCapture {
    type Writer = Self;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_one_buffer() {
        let capture = LogCapture::new();
        let mut writer = capture.clone();
        io::Write::write_all(&mut writer, b"one ").unwrap();
        io::Write::write_all(&mut capture.clone(), b"two").unwrap();
        assert_eq!(capture.text(), "one two");
    }
}
