//! Latency percentiles and throughput summaries.

use std::time::Duration;

/// The `p`-th percentile (0 < p <= 100) of `sorted` by the nearest-rank method: the smallest
/// value such that at least `p`% of the values are less than or equal to it. `None` when empty.
pub(crate) fn percentile(sorted: &[Duration], p: f64) -> Option<Duration> {
    if sorted.is_empty() {
        return None;
    }
    let p = p.clamp(0.0, 100.0);
    // Nearest rank: ceil(p/100 * n), 1-based, at least 1.
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// The median of `values` (the lower middle for an even count), `None` when empty.
pub(crate) fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    Some(sorted[(sorted.len() - 1) / 2])
}

/// What one measured batch of operations gave.
#[derive(Clone, Debug, Default)]
pub(crate) struct Batch {
    /// Operations completed.
    pub(crate) ops: usize,
    /// Wall-clock time of the batch.
    pub(crate) wall: Duration,
    /// Latency of every operation.
    pub(crate) latencies: Vec<Duration>,
    /// CPU time of the client runtime's threads during the batch.
    pub(crate) client_cpu: Duration,
    /// CPU time of the sandbox runtime's threads during the batch.
    pub(crate) server_cpu: Duration,
}

impl Batch {
    /// Operations per second.
    pub(crate) fn throughput(&self) -> f64 {
        rate(self.ops, self.wall)
    }

    /// Adds `other`, measured apart, to this batch: its operations, times and latencies.
    pub(crate) fn absorb(&mut self, other: Batch) {
        self.ops += other.ops;
        self.wall += other.wall;
        self.latencies.extend(other.latencies);
        self.client_cpu += other.client_cpu;
        self.server_cpu += other.server_cpu;
    }
}

/// `ops` per second over `wall`.
#[allow(clippy::cast_precision_loss)]
pub(crate) fn rate(ops: usize, wall: Duration) -> f64 {
    let secs = wall.as_secs_f64();
    if secs > 0.0 { ops as f64 / secs } else { 0.0 }
}

/// Several batches of the same measurement (rounds), summarised.
#[derive(Clone, Debug, Default)]
pub(crate) struct Summary {
    /// Median throughput of the rounds, operations per second.
    pub(crate) throughput: f64,
    /// Every round's throughput.
    pub(crate) round_throughputs: Vec<f64>,
    /// Median latency over all rounds' operations.
    pub(crate) p50: Duration,
    /// 99th-percentile latency over all rounds' operations.
    pub(crate) p99: Duration,
    /// Client-runtime CPU time per operation.
    pub(crate) client_cpu_per_op: Duration,
    /// Sandbox-runtime CPU time per operation.
    pub(crate) server_cpu_per_op: Duration,
    /// Operations measured in all.
    pub(crate) ops: usize,
}

impl Summary {
    /// Half the range of the rounds' throughputs, relative to the median: 0.1 is ±10%.
    pub(crate) fn spread(&self) -> f64 {
        let max = self
            .round_throughputs
            .iter()
            .copied()
            .fold(f64::MIN, f64::max);
        let min = self
            .round_throughputs
            .iter()
            .copied()
            .fold(f64::MAX, f64::min);
        if self.throughput > 0.0 && max >= min {
            (max - min) / 2.0 / self.throughput
        } else {
            0.0
        }
    }

    /// Summarises rounds of one measurement.
    pub(crate) fn of(batches: &[Batch]) -> Self {
        let round_throughputs: Vec<f64> = batches.iter().map(Batch::throughput).collect();
        let mut latencies: Vec<Duration> = batches
            .iter()
            .flat_map(|b| b.latencies.iter().copied())
            .collect();
        latencies.sort_unstable();
        let ops: usize = batches.iter().map(|b| b.ops).sum();
        let client: Duration = batches.iter().map(|b| b.client_cpu).sum();
        let server: Duration = batches.iter().map(|b| b.server_cpu).sum();
        let per_op = |total: Duration| {
            u32::try_from(ops)
                .ok()
                .filter(|n| *n > 0)
                .map_or(Duration::ZERO, |n| total / n)
        };
        Self {
            throughput: median(&round_throughputs).unwrap_or(0.0),
            round_throughputs,
            p50: percentile(&latencies, 50.0).unwrap_or_default(),
            p99: percentile(&latencies, 99.0).unwrap_or_default(),
            client_cpu_per_op: per_op(client),
            server_cpu_per_op: per_op(server),
            ops,
        }
    }
}

/// A duration for a table: µs below 10 ms, ms below 1 s, s above.
pub(crate) fn fmt_latency(d: Duration) -> String {
    let micros = d.as_secs_f64() * 1e6;
    if micros < 10_000.0 {
        format!("{micros:.0} µs")
    } else if micros < 1_000_000.0 {
        format!("{:.1} ms", micros / 1000.0)
    } else {
        format!("{:.2} s", micros / 1e6)
    }
}

/// A short duration for a table: nanoseconds below 10 µs, microseconds above, with thousands
/// separators.
pub(crate) fn fmt_duration(d: Duration) -> String {
    let nanos = d.as_nanos();
    if nanos < 10_000 {
        format!("{} ns", count(usize::try_from(nanos).unwrap_or(usize::MAX)))
    } else {
        format!(
            "{} µs",
            count(usize::try_from(nanos / 1_000).unwrap_or(usize::MAX))
        )
    }
}

/// A rate for a table, with thousands separators: `12,345/s`.
pub(crate) fn fmt_rate(per_sec: f64) -> String {
    format!("{}/s", thousands(per_sec))
}

/// A number rounded to a whole one, with thousands separators.
pub(crate) fn thousands(value: f64) -> String {
    grouped(value, 0)
}

/// A number with `decimals` decimals and thousands separators: `49,999.6`.
pub(crate) fn grouped(value: f64, decimals: usize) -> String {
    let text = format!("{:.decimals$}", value.abs());
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let sign = if value < 0.0 && text.bytes().any(|b| matches!(b, b'1'..=b'9')) {
        "-"
    } else {
        ""
    };
    let point = if fraction.is_empty() { "" } else { "." };
    format!("{sign}{}{point}{fraction}", group(whole))
}

/// A count with thousands separators: `10,000`.
pub(crate) fn count(n: usize) -> String {
    group(&n.to_string())
}

/// `digits` with a comma before each group of three from the right.
fn group(digits: &str) -> String {
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The fewest decimals, `at_least` or more, with which `value` shown rounded gets the verdict
/// `met` gives `value` itself, so that a figure beside a verdict never reads as its opposite:
/// 0.9496 against "at least 0.95" takes 4 ("0.9496"), not 2 ("0.95"), and 10.04 against "at
/// most 10" takes 2 ("10.04"), not 1 ("10.0").
pub(crate) fn decimals_for(value: f64, at_least: usize, met: impl Fn(f64) -> bool) -> usize {
    // 17 decimals give back any f64 this report shows, so the search always ends.
    let most = at_least.max(17);
    let verdict = met(value);
    (at_least..=most)
        .find(|&decimals| {
            format!("{value:.decimals$}")
                .parse::<f64>()
                .is_ok_and(|shown| met(shown) == verdict)
        })
        .unwrap_or(most)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_in_nanoseconds_or_microseconds() {
        assert_eq!(fmt_duration(Duration::from_nanos(423)), "423 ns");
        assert_eq!(fmt_duration(Duration::from_nanos(9_999)), "9,999 ns");
        assert_eq!(fmt_duration(Duration::from_micros(2_642)), "2,642 µs");
    }

    #[test]
    fn absorbing_slices_adds_them_up() {
        let mut total = Batch::default();
        for (ops, wall) in [(300, 100), (200, 150)] {
            total.absorb(Batch {
                ops,
                wall: Duration::from_millis(wall),
                latencies: vec![Duration::from_millis(1); ops],
                client_cpu: Duration::from_millis(wall / 2),
                server_cpu: Duration::from_millis(wall / 5),
            });
        }
        assert_eq!(total.ops, 500);
        assert_eq!(total.wall, Duration::from_millis(250));
        assert_eq!(total.latencies.len(), 500);
        assert_eq!(total.client_cpu, Duration::from_millis(125));
        assert_eq!(total.server_cpu, Duration::from_millis(50));
        assert!((total.throughput() - 2000.0).abs() < 1e-9);
    }

    fn ms(values: &[u64]) -> Vec<Duration> {
        values.iter().map(|v| Duration::from_millis(*v)).collect()
    }

    #[test]
    fn nearest_rank_percentiles() {
        let sorted = ms(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        assert_eq!(percentile(&sorted, 50.0), Some(Duration::from_millis(5)));
        assert_eq!(percentile(&sorted, 90.0), Some(Duration::from_millis(9)));
        assert_eq!(percentile(&sorted, 99.0), Some(Duration::from_millis(10)));
        assert_eq!(percentile(&sorted, 100.0), Some(Duration::from_millis(10)));
        assert_eq!(percentile(&sorted, 0.0), Some(Duration::from_millis(1)));
        assert_eq!(percentile(&sorted, 10.0), Some(Duration::from_millis(1)));
        assert_eq!(percentile(&sorted, 11.0), Some(Duration::from_millis(2)));
        assert_eq!(percentile(&[], 50.0), None);
        let one = ms(&[7]);
        assert_eq!(percentile(&one, 99.0), Some(Duration::from_millis(7)));
        // 1000 values 1..=1000 ms: p99 is the 990th.
        let many: Vec<Duration> = (1..=1000).map(Duration::from_millis).collect();
        assert_eq!(percentile(&many, 99.0), Some(Duration::from_millis(990)));
        assert_eq!(percentile(&many, 50.0), Some(Duration::from_millis(500)));
    }

    #[test]
    fn medians() {
        assert!(median(&[3.0, 1.0, 2.0]).is_some_and(|m| (m - 2.0).abs() < 1e-9));
        assert!(median(&[4.0, 1.0, 3.0, 2.0]).is_some_and(|m| (m - 2.0).abs() < 1e-9));
        assert!(median(&[]).is_none());
    }

    #[test]
    fn summaries_pool_latencies_and_take_the_median_round() {
        let batch = |ops: usize, wall_ms: u64, lat: &[u64]| Batch {
            ops,
            wall: Duration::from_millis(wall_ms),
            latencies: ms(lat),
            client_cpu: Duration::from_millis(wall_ms),
            server_cpu: Duration::from_millis(2 * wall_ms),
        };
        let s = Summary::of(&[
            batch(100, 1000, &[1, 2]),
            batch(100, 500, &[3, 4]),
            batch(100, 250, &[5, 6]),
        ]);
        let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
        assert!(close(s.round_throughputs[0], 100.0) && close(s.round_throughputs[2], 400.0));
        assert!((s.throughput - 200.0).abs() < 1e-9);
        assert_eq!(s.p50, Duration::from_millis(3));
        assert_eq!(s.p99, Duration::from_millis(6));
        assert_eq!(s.ops, 300);
        assert_eq!(s.client_cpu_per_op, Duration::from_nanos(5_833_333));
        assert_eq!(s.server_cpu_per_op, Duration::from_nanos(11_666_666));
        assert!((s.spread() - 0.75).abs() < 1e-9);
        let empty = Summary::of(&[]);
        assert!(empty.throughput.abs() < f64::EPSILON);
        assert_eq!(empty.client_cpu_per_op, Duration::ZERO);
        assert!(empty.spread().abs() < f64::EPSILON);
    }

    #[test]
    fn formatting() {
        assert_eq!(thousands(1_234_567.4), "1,234,567");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(thousands(1000.0), "1,000");
        assert_eq!(thousands(-12_345.0), "-12,345");
        assert_eq!(count(10_000), "10,000");
        assert_eq!(count(0), "0");
        assert_eq!(fmt_rate(50_123.6), "50,124/s");
        assert_eq!(thousands(-0.4), "0");
        assert_eq!(grouped(49_999.6, 1), "49,999.6");
        assert_eq!(grouped(-1_234.567_8, 2), "-1,234.57");
        assert_eq!(grouped(999.96, 1), "1,000.0");
        assert_eq!(fmt_latency(Duration::from_micros(250)), "250 µs");
        assert_eq!(fmt_latency(Duration::from_micros(12_340)), "12.3 ms");
        assert_eq!(fmt_latency(Duration::from_millis(2835)), "2.83 s");
    }

    #[test]
    fn decimals_keep_a_figure_on_its_side_of_the_target() {
        let at_least = |target: f64| move |v: f64| v >= target;
        let at_most = |target: f64| move |v: f64| v <= target;
        assert_eq!(decimals_for(0.9496, 2, at_least(0.95)), 4);
        assert_eq!(decimals_for(0.9449, 2, at_least(0.95)), 2);
        assert_eq!(decimals_for(0.9504, 2, at_least(0.95)), 2);
        assert_eq!(decimals_for(10.04, 1, at_most(10.0)), 2);
        assert_eq!(
            decimals_for(9.96, 1, at_most(10.0)),
            1,
            "a met 10.0 is still met"
        );
        assert_eq!(decimals_for(2.004, 2, at_most(2.0)), 3);
        assert_eq!(decimals_for(49_999.6, 0, at_least(50_000.0)), 1);
        // "-0.0" reads as 0, on target: a shortfall of 0.04 takes two decimals.
        assert_eq!(decimals_for(-0.04, 1, |p| p >= 0.0), 2);
        assert_eq!(decimals_for(10.000_000_1, 1, at_most(10.0)), 7);
    }
}
