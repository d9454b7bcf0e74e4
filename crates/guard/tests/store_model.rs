//! The in-memory store against a model of [`GuardStore`]'s contract: random decisions,
//! releases, reads and clock moves, over fixed-window and GCRA counters, checked step by step
//! (windows that end, counts that start again, GCRA's spacing, all-or-nothing decisions that
//! name the refusing counter with the longest wait and the windows they count in, releases
//! that take from those windows only, counters released back to nothing gone).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

use phone_verify_guard::store::{Algorithm, Counter, CounterState, Decision, HitId, Reservation};
use phone_verify_guard::{GuardStore, ManualClock, MemoryStore};

/// The counters: (key, window in seconds, algorithm). GCRA intervals are whole milliseconds
/// for every `max` drawn, as the manual clock counts milliseconds.
const KEYS: [(&str, u64, Algorithm); 5] = [
    ("a", 60, Algorithm::FixedWindow),
    ("b", 120, Algorithm::FixedWindow),
    ("c", 60, Algorithm::FixedWindow),
    ("d:gcra", 60, Algorithm::Gcra),
    ("e:gcra", 120, Algorithm::Gcra),
];

#[derive(Debug, Clone)]
enum Step {
    Hit(Vec<(usize, u64)>),
    /// The release of an allowed hit not released yet, by its index modulo their number.
    Release(usize),
    /// The clock moves by this many milliseconds.
    Wait(u64),
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    let counters = proptest::sample::subsequence((0..KEYS.len()).collect::<Vec<_>>(), 1..=3)
        .prop_flat_map(|keys| {
            let n = keys.len();
            (Just(keys), proptest::collection::vec(0_u64..=2, n))
        })
        .prop_map(|(keys, costs)| keys.into_iter().zip(costs).collect::<Vec<_>>());
    // Waits land on, just before and just after the windows' and intervals' ends.
    let wait = prop_oneof![
        Just(1_u64),
        (1_u64..=8).prop_map(|k| k * 15_000),
        (1_u64..=8).prop_map(|k| k * 15_000 - 1),
        (1_u64..=8).prop_map(|k| k * 15_000 + 1),
        0_u64..150_000,
    ];
    let step = prop_oneof![
        4 => counters.clone().prop_map(Step::Hit),
        1 => (0_usize..60).prop_map(Step::Release),
        2 => wait.prop_map(Step::Wait),
    ];
    proptest::collection::vec(step, 1..60)
}

/// What the contract says a counter holds: a count and when its window ends (fixed window),
/// or the theoretical arrival time (GCRA), on the clock's milliseconds.
/// `later - earlier`, where the model knows `later` is not before `earlier`.
fn since(later: Duration, earlier: Duration) -> Duration {
    later
        .checked_sub(earlier)
        .expect("the model compares times in order")
}

#[derive(Debug, Default)]
struct Model {
    now: Duration,
    /// Fixed window: (count, end of the window). GCRA: (unused, theoretical arrival time).
    counters: HashMap<String, (u64, Duration)>,
}

impl Model {
    fn interval(c: &Counter) -> Duration {
        c.window / u32::try_from(c.max.max(1)).unwrap()
    }

    /// The counter's value if it still counts (its window or pending time not over).
    fn live(&self, c: &Counter) -> Option<(u64, Duration)> {
        self.counters
            .get(&c.key)
            .copied()
            .filter(|&(_, end)| end > self.now)
    }

    /// Why `c` refuses the request: the time until it would fit.
    fn refusal(&self, c: &Counter) -> Option<Duration> {
        let cost = c.cost.max(1);
        match c.algorithm {
            Algorithm::FixedWindow => {
                let (count, end) = self.live(c).unwrap_or((0, self.now + c.window));
                (count + cost > c.max).then(|| since(end, self.now))
            }
            Algorithm::Gcra => {
                if c.max == 0 {
                    return Some(c.window);
                }
                let start = self.live(c).map_or(self.now, |(_, tat)| tat);
                let next = start + Self::interval(c) * u32::try_from(cost).unwrap();
                (next > self.now + c.window).then(|| since(next, self.now + c.window))
            }
            other => panic!("the model does not count {other:?}"),
        }
    }

    /// Refused by the counter that waits longest (the first of equals), or else counted, with
    /// the end of each fixed window counted in and each theoretical arrival time left.
    fn hit(&mut self, counters: &[Counter]) -> Decision {
        let mut refused: Option<(usize, Duration)> = None;
        for (index, c) in counters.iter().enumerate() {
            if let Some(wait) = self.refusal(c)
                && refused.is_none_or(|(_, longest)| wait > longest)
            {
                refused = Some((index, wait));
            }
        }
        if let Some((index, retry_after)) = refused {
            return Decision::Denied { index, retry_after };
        }
        let mut ends = vec![None; counters.len()];
        for (c, end) in counters.iter().zip(&mut ends) {
            if c.cost == 0 {
                continue;
            }
            let value = match (c.algorithm, self.live(c)) {
                (Algorithm::FixedWindow, Some((count, end))) => (count + c.cost, end),
                (Algorithm::FixedWindow, None) => (c.cost, self.now + c.window),
                (Algorithm::Gcra, live) => {
                    let start = live.map_or(self.now, |(_, tat)| tat);
                    (
                        1,
                        start + Self::interval(c) * u32::try_from(c.cost).unwrap(),
                    )
                }
                (other, _) => panic!("the model does not count {other:?}"),
            };
            *end = Some(value.1);
            self.counters.insert(c.key.clone(), value);
        }
        Decision::Allowed(Reservation::new(ends))
    }

    /// Takes back what a hit added, from the window it counted in only, or the part of its
    /// GCRA spacing still ahead (the time it left, less now, at most its cost's intervals); a
    /// counter back to nothing is gone (its next event starts a new window).
    fn release(&mut self, counters: &[Counter], reservation: &Reservation) {
        for (index, c) in counters.iter().enumerate() {
            let (Some((count, end)), Some(reserved)) = (self.live(c), reservation.end(index))
            else {
                continue;
            };
            if c.algorithm == Algorithm::FixedWindow && reserved != end {
                continue;
            }
            let value = match c.algorithm {
                Algorithm::FixedWindow => (count.saturating_sub(c.cost), end),
                Algorithm::Gcra => {
                    let spacing = Self::interval(c) * u32::try_from(c.cost).unwrap();
                    let back = spacing.min(reserved.saturating_sub(self.now));
                    (count, end.saturating_sub(back).max(self.now))
                }
                other => panic!("the model does not count {other:?}"),
            };
            let gone = match c.algorithm {
                Algorithm::FixedWindow => value.0 == 0,
                Algorithm::Gcra => value.1 <= self.now,
                other => panic!("the model does not count {other:?}"),
            };
            if gone {
                self.counters.remove(&c.key);
            } else {
                self.counters.insert(c.key.clone(), value);
            }
        }
    }

    fn peek(&self, c: &Counter) -> CounterState {
        let Some((count, end)) = self.live(c) else {
            return CounterState::default();
        };
        let left = since(end, self.now);
        let count = match c.algorithm {
            Algorithm::FixedWindow => count,
            Algorithm::Gcra => {
                u64::try_from(left.as_nanos().div_ceil(Self::interval(c).as_nanos())).unwrap()
            }
            other => panic!("the model does not count {other:?}"),
        };
        CounterState {
            count,
            resets_in: Some(left),
        }
    }
}

#[test]
fn the_memory_store_keeps_the_contract() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut runner = TestRunner::new(Config {
        cases: 512,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = (proptest::collection::vec(0_u64..=4, KEYS.len()), steps());
    let result = runner.run(&strategy, |(maxes, steps)| {
        let counter = |index: usize, cost: u64| {
            let (key, seconds, algorithm) = KEYS[index];
            Counter {
                key: key.into(),
                window: Duration::from_secs(seconds),
                max: maxes[index],
                cost,
                algorithm,
            }
        };
        let clock = ManualClock::new();
        let store = MemoryStore::with_clock(Arc::new(clock.clone()));
        let mut model = Model::default();
        let all: Vec<Counter> = (0..KEYS.len()).map(|i| counter(i, 1)).collect();
        // The allowed hits not released yet, and what they reserved (the same in both).
        let mut held: Vec<(Vec<Counter>, Reservation)> = Vec::new();
        runtime.block_on(async {
            for (number, step) in steps.iter().enumerate() {
                match step {
                    Step::Hit(picked) => {
                        let counters: Vec<Counter> =
                            picked.iter().map(|&(i, cost)| counter(i, cost)).collect();
                        let got = store.hit(&counters, HitId::random()).await.unwrap();
                        let want = model.hit(&counters);
                        prop_assert_eq!(&got, &want, "step {} ({:?})", number, step);
                        if let Decision::Allowed(reservation) = got {
                            held.push((counters, reservation));
                        }
                    }
                    Step::Release(_) if held.is_empty() => {}
                    &Step::Release(which) => {
                        let (counters, reservation) = held.remove(which % held.len());
                        store.release(&counters, &reservation).await.unwrap();
                        model.release(&counters, &reservation);
                    }
                    Step::Wait(ms) => {
                        clock.advance(Duration::from_millis(*ms));
                        model.now += Duration::from_millis(*ms);
                    }
                }
                let got = store.peek(&all).await.unwrap();
                let want: Vec<CounterState> = all.iter().map(|c| model.peek(c)).collect();
                prop_assert_eq!(got, want, "after step {} ({:?})", number, step);
            }
            Ok::<(), TestCaseError>(())
        })
    });
    if let Err(err) = result {
        panic!("the memory store breaks the contract: {err}");
    }
}
