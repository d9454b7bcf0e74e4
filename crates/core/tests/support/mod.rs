//! Test doubles shared by the HTTP-layer tests: a clock that records its waits and a fixed
//! jitter.

use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use phone_verify_core::http::{Clock, Jitter, Sleep};

/// A clock that records the waits it is asked for and returns at once.
#[derive(Debug, Default)]
pub(crate) struct RecordingClock {
    /// Every wait asked for, in order.
    pub(crate) sleeps: Mutex<Vec<Duration>>,
}

impl Clock for RecordingClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
    fn sleep(&self, duration: Duration) -> Sleep {
        self.sleeps.lock().unwrap().push(duration);
        Box::pin(std::future::ready(()))
    }
}

/// A jitter that always samples the same value.
#[derive(Debug)]
pub(crate) struct FixedJitter(pub(crate) f64);

impl Jitter for FixedJitter {
    fn sample(&self) -> f64 {
        self.0
    }
}
