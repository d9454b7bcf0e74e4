//! The slice log: when and for which side each timed slice of the comparison ran, on the
//! clock `perf record -k CLOCK_MONOTONIC` stamps its samples with, so that a profile of one
//! run can be split into the raw side's slices and the SDK's (`cargo xtask bench-profile`).

use std::fs::File;
use std::io::{BufWriter, Write as _};
use std::path::Path;
use std::sync::Mutex;

use anyhow::{Context as _, Result};

use crate::targets::Side;

/// Lines `<side> <concurrency> <start ns> <end ns>`, one per timed slice.
#[derive(Debug)]
pub(crate) struct SliceLog {
    out: Mutex<BufWriter<File>>,
}

impl SliceLog {
    /// A log written to `path` (replaced if it exists).
    pub(crate) fn create(path: &Path) -> Result<Self> {
        let file = File::create(path)
            .with_context(|| format!("cannot create the slice log {}", path.display()))?;
        Ok(Self {
            out: Mutex::new(BufWriter::new(file)),
        })
    }

    /// Records that `side` ran a slice at `concurrency` from `start` to `end` (from [`now`]).
    pub(crate) fn record(
        &self,
        side: Side,
        concurrency: usize,
        start: u64,
        end: u64,
    ) -> Result<()> {
        let mut out = self
            .out
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        writeln!(out, "{} {concurrency} {start} {end}", side.name())?;
        out.flush().context("cannot write the slice log")
    }
}

/// Now on `CLOCK_MONOTONIC`, in nanoseconds.
pub(crate) fn now() -> u64 {
    let now = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
    let secs = u64::try_from(now.tv_sec).unwrap_or_default();
    let nanos = u64::try_from(now.tv_nsec).unwrap_or_default();
    secs * 1_000_000_000 + nanos
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_one_line_per_slice_on_a_clock_that_moves_forward() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("slices.txt");
        let log = SliceLog::create(&path).unwrap();
        let start = now();
        let end = now();
        assert!(end >= start);
        log.record(Side::Raw, 64, start, end).unwrap();
        log.record(Side::Sdk, 1, end, end + 5).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            format!("raw 64 {start} {end}\nsdk 1 {end} {}\n", end + 5)
        );
    }
}
