//! The sandbox clock: wall-clock time plus an offset that tests can advance.

use time::{Duration, OffsetDateTime};

/// The furthest the clock can be moved ahead (about 100 years), so dates stay representable.
const MAX_OFFSET: Duration = Duration::days(36_525);

/// A clock that runs with real time but can be moved forward, so expiry is testable without
/// waiting. Every expiry in the sandbox reads this clock.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Clock {
    offset: Duration,
}

impl Clock {
    /// The current sandbox time (UTC).
    pub(crate) fn now(self) -> OffsetDateTime {
        let real = OffsetDateTime::now_utc();
        real.checked_add(self.offset).unwrap_or(real)
    }

    /// Moves the clock forward by `by` (negative durations are ignored; the total offset is
    /// capped at about 100 years).
    pub(crate) fn advance(&mut self, by: Duration) {
        if by.is_positive() {
            self.offset = self.offset.saturating_add(by).min(MAX_OFFSET);
        }
    }

    /// How far the clock has been moved ahead of real time.
    pub(crate) fn offset(self) -> Duration {
        self.offset
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advance_moves_now_forward_and_ignores_negative() {
        let mut clock = Clock::default();
        let before = clock.now();
        clock.advance(Duration::minutes(10));
        assert!(clock.now() - before >= Duration::minutes(10));
        clock.advance(Duration::minutes(-5));
        assert_eq!(clock.offset(), Duration::minutes(10));
        clock.advance(Duration::MAX);
        assert_eq!(clock.offset(), MAX_OFFSET);
        assert!(clock.now().year() > 2100);
    }
}
