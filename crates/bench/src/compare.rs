//! SDK against raw `reqwest`: each provider's `check` and `resolve`, at concurrency 1 and 64.

use std::sync::Arc;

use anyhow::{Context as _, Result};

use crate::runner::run;
use crate::slice_log::{self, SliceLog};
use crate::stats::{Batch, Summary, median};
use crate::targets::{Op, Side, Target};

/// The calls compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Call {
    /// `PhoneVerifier::check` with the right code of a fresh verification.
    Check,
    /// `SessionResolver::resolve` of a verified session.
    Resolve,
}

impl Call {
    /// `check` or `resolve`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Check => "check",
            Self::Resolve => "resolve",
        }
    }
}

/// The high concurrency of the comparison (beside concurrency 1).
pub(crate) const HIGH_CONCURRENCY: usize = 64;

/// A row of the comparison: a provider's call at a concurrency.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RowKey {
    /// Provider id.
    pub(crate) provider: &'static str,
    /// The call.
    pub(crate) call: Call,
    /// Concurrent callers.
    pub(crate) concurrency: usize,
}

impl RowKey {
    /// `verifykit check c=64`.
    pub(crate) fn name(self) -> String {
        format!(
            "{} {} c={}",
            self.provider,
            self.call.name(),
            self.concurrency
        )
    }
}

/// The rows the comparison's targets need measured: every provider's `check`, and the
/// `resolve` of each provider that resolves sessions (`(id, resolves)`, from the targets), at
/// concurrency 1 and `high`. A run that leaves one out (`--providers`, `--calls`,
/// `--only-side`, `--phases`) misses the targets that need it.
pub(crate) fn required_rows(providers: &[(&'static str, bool)], high: usize) -> Vec<RowKey> {
    let mut rows = Vec::new();
    for call in [Call::Check, Call::Resolve] {
        for (provider, resolves) in providers {
            if call == Call::Resolve && !resolves {
                continue;
            }
            for concurrency in [1, high] {
                rows.push(RowKey {
                    provider,
                    call,
                    concurrency,
                });
            }
        }
    }
    rows
}

/// How much to measure.
#[derive(Clone, Debug)]
pub(crate) struct Plan {
    /// Rounds per side; the sides alternate which goes first.
    pub(crate) rounds: usize,
    /// Timed calls per round at concurrency 1.
    pub(crate) calls_c1: usize,
    /// Timed calls per round at high concurrency.
    pub(crate) calls_high: usize,
    /// The high concurrency.
    pub(crate) high: usize,
    /// Sessions resolved round-robin by `resolve`.
    pub(crate) session_pool: usize,
    /// Only these calls (all when empty).
    pub(crate) calls: Vec<Call>,
    /// Only this side (for profiling one side; the ratio is then meaningless).
    pub(crate) only: Option<Side>,
    /// Raw reqwest on both sides, the SDK's with a client of its own (an A/A run).
    pub(crate) raw_twin: bool,
    /// Slices each round's timed calls at concurrency 1 are cut into, the sides taking turns
    /// slice by slice.
    pub(crate) slices_c1: usize,
    /// The same at the high concurrency.
    pub(crate) slices_high: usize,
    /// Where to record each timed slice's side and times, if anywhere.
    pub(crate) slice_log: Option<Arc<SliceLog>>,
}

/// One line of the comparison.
#[derive(Clone, Debug)]
pub(crate) struct Comparison {
    /// Provider id.
    pub(crate) provider: &'static str,
    /// The call.
    pub(crate) call: Call,
    /// Concurrent callers.
    pub(crate) concurrency: usize,
    /// Raw reqwest.
    pub(crate) raw: Summary,
    /// The SDK.
    pub(crate) sdk: Summary,
}

impl Comparison {
    /// SDK throughput over raw throughput: the median of the rounds' ratios, each round's SDK
    /// batch over the raw batch measured next to it (so that a slow stretch of the machine
    /// weighs on both sides of a ratio alike), or the medians' ratio when the rounds do not pair.
    pub(crate) fn ratio(&self) -> f64 {
        let rounds = self.round_ratios();
        if let Some(ratio) = median(&rounds) {
            return ratio;
        }
        if self.raw.throughput > 0.0 {
            self.sdk.throughput / self.raw.throughput
        } else {
            0.0
        }
    }

    /// Each round's SDK throughput over the raw throughput of the same round (empty when the
    /// sides did not run the same rounds).
    pub(crate) fn round_ratios(&self) -> Vec<f64> {
        let (raw, sdk) = (&self.raw.round_throughputs, &self.sdk.round_throughputs);
        if raw.len() != sdk.len() || raw.iter().any(|r| *r <= 0.0) {
            return Vec::new();
        }
        raw.iter().zip(sdk).map(|(r, s)| s / r).collect()
    }

    /// The lowest and highest of the rounds' ratios.
    pub(crate) fn ratio_range(&self) -> Option<(f64, f64)> {
        let rounds = self.round_ratios();
        let low = rounds.iter().copied().reduce(f64::min)?;
        let high = rounds.iter().copied().reduce(f64::max)?;
        Some((low, high))
    }

    /// Its provider, call and concurrency.
    pub(crate) fn key(&self) -> RowKey {
        RowKey {
            provider: self.provider,
            call: self.call,
            concurrency: self.concurrency,
        }
    }

    /// Which side was not measured (no call timed: `--only-side`, or no calls asked), `None`
    /// when both were. Such a row has no ratio and no CPU overhead to judge.
    pub(crate) fn unmeasured(&self) -> Option<&'static str> {
        match (self.raw.ops > 0, self.sdk.ops > 0) {
            (true, true) => None,
            (true, false) => Some("the SDK side not measured"),
            (false, true) => Some("the raw side not measured"),
            (false, false) => Some("neither side measured"),
        }
    }

    /// The client CPU per call the SDK adds to raw reqwest's, in microseconds (from whole
    /// nanoseconds, so that an overhead of exactly the target is not judged past it).
    #[allow(clippy::cast_precision_loss)]
    pub(crate) fn cpu_overhead_us(&self) -> f64 {
        (self.sdk.client_cpu_per_op.as_nanos() as f64
            - self.raw.client_cpu_per_op.as_nanos() as f64)
            / 1e3
    }
}

/// Compares every call of `target` at concurrency 1 and `plan.high`.
pub(crate) async fn compare(target: &Arc<dyn Target>, plan: &Plan) -> Result<Vec<Comparison>> {
    let mut out = Vec::new();
    let calls = [Call::Check, Call::Resolve]
        .into_iter()
        .filter(|c| plan.calls.is_empty() || plan.calls.contains(c))
        .filter(|c| *c == Call::Check || target.resolves());
    for call in calls {
        for (concurrency, n) in [(1, plan.calls_c1), (plan.high, plan.calls_high)] {
            let warm = concurrency * 4;
            let mut raw = Vec::new();
            let mut sdk = Vec::new();
            for round in 0..plan.rounds {
                let (r, s) = measure_round(target, call, round, concurrency, n, warm, plan)
                    .await
                    .with_context(|| {
                        format!(
                            "{} {} (round {}, concurrency {concurrency})",
                            target.name(),
                            call.name(),
                            round + 1
                        )
                    })?;
                raw.extend(r);
                sdk.extend(s);
            }
            let line = Comparison {
                provider: target.name(),
                call,
                concurrency,
                raw: Summary::of(&raw),
                sdk: Summary::of(&sdk),
            };
            eprintln!(
                "  {:<10} {:<8} c={:<3} raw {:>8.0}/s  sdk {:>8.0}/s  ratio {:.2}",
                line.provider,
                call.name(),
                concurrency,
                line.raw.throughput,
                line.sdk.throughput,
                line.ratio()
            );
            out.push(line);
        }
    }
    Ok(out)
}

/// One round: both sides prepared at once (untimed) and warmed up, then their `n` timed calls
/// run in alternating slices (`plan.slices_c1` or `plan.slices_high` of them: raw, SDK, SDK,
/// raw, …; the other way round in odd rounds), so that a slow stretch of the machine lasting
/// longer than a slice weighs on both sides alike. Each side's batch sums its slices. A side
/// left out by `plan.only` is `None`.
async fn measure_round(
    target: &Arc<dyn Target>,
    call: Call,
    round: usize,
    concurrency: usize,
    n: usize,
    warm: usize,
    plan: &Plan,
) -> Result<(Option<Batch>, Option<Batch>)> {
    let first = if round.is_multiple_of(2) {
        Side::Raw
    } else {
        Side::Sdk
    };
    let chosen: Vec<Side> = [first, first.other()]
        .into_iter()
        .filter(|side| plan.only.is_none_or(|only| only == *side))
        .collect();
    // Both sides are prepared at once, their records made in turns: the side prepared last
    // would otherwise find its records warmer in the caches (docs/benchmarks.md, ninth pass).
    let ops = match chosen.as_slice() {
        [a, b] => {
            let (a, b) = tokio::join!(
                prepare(target, call, *a, warm + n, plan),
                prepare(target, call, *b, warm + n, plan)
            );
            vec![a?, b?]
        }
        [a] => vec![prepare(target, call, *a, warm + n, plan).await?],
        _ => Vec::new(),
    };
    let mut sides: Vec<(Side, Op, Batch)> = Vec::new();
    for (side, op) in chosen.into_iter().zip(ops) {
        let warm_op = Arc::clone(&op);
        run(concurrency, warm, move |i| warm_op(i))
            .await
            .with_context(|| format!("warming the {} side up", side.name()))?;
        sides.push((side, op, Batch::default()));
    }
    let count = if concurrency == 1 {
        plan.slices_c1
    } else {
        plan.slices_high
    };
    for (k, (start, len)) in slices(n, count).into_iter().enumerate() {
        if k > 0 {
            // Each slice starts with the side that ended the previous one: A B, B A, A B, …
            sides.reverse();
        }
        for (side, op, total) in &mut sides {
            let op = Arc::clone(op);
            let offset = warm + start;
            // The clock is read only for a slice log: its vDSO lookup does not run under
            // valgrind (the callgrind counts in docs/benchmarks.md).
            let started = plan.slice_log.as_ref().map(|_| slice_log::now());
            let batch = run(concurrency, len, move |i| op(offset + i))
                .await
                .with_context(|| format!("the {} side", side.name()))?;
            if let (Some(log), Some(started)) = (&plan.slice_log, started) {
                log.record(*side, concurrency, started, slice_log::now())?;
            }
            total.absorb(batch);
        }
    }
    let mut raw = None;
    let mut sdk = None;
    for (side, _, batch) in sides {
        match side {
            Side::Raw => raw = Some(batch),
            Side::Sdk | Side::Twin => sdk = Some(batch),
        }
    }
    Ok((raw, sdk))
}

/// The call `side` times in a round, with its `n` verifications or its sessions made.
async fn prepare(
    target: &Arc<dyn Target>,
    call: Call,
    side: Side,
    n: usize,
    plan: &Plan,
) -> Result<Op> {
    let client = client_of(side, plan.raw_twin);
    match call {
        Call::Check => target.check_op(client, n).await,
        Call::Resolve => target.resolve_op(client, plan.session_pool).await,
    }
    .with_context(|| format!("preparing the {} side", side.name()))
}

/// The client that makes `side`'s calls: an A/A run (`raw_twin`) puts raw reqwest's twin, on a
/// client of its own, in the SDK's place.
fn client_of(side: Side, raw_twin: bool) -> Side {
    match side {
        Side::Sdk if raw_twin => Side::Twin,
        _ => side,
    }
}

/// `n` calls cut into `count` consecutive slices as even as can be: (first index, length).
fn slices(n: usize, count: usize) -> Vec<(usize, usize)> {
    let count = count.clamp(1, n.max(1));
    let (base, extra) = (n / count, n % count);
    let mut start = 0;
    (0..count)
        .map(|k| {
            let len = base + usize::from(k < extra);
            let slice = (start, len);
            start += len;
            slice
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rounds(throughputs: &[f64]) -> Summary {
        Summary {
            throughput: median(throughputs).unwrap_or(0.0),
            round_throughputs: throughputs.to_vec(),
            ..Summary::default()
        }
    }

    fn comparison(raw: &[f64], sdk: &[f64]) -> Comparison {
        Comparison {
            provider: "verifykit",
            call: Call::Check,
            concurrency: 1,
            raw: rounds(raw),
            sdk: rounds(sdk),
        }
    }

    #[test]
    fn the_ratio_is_the_median_of_the_paired_rounds() {
        // The machine slowed down in the second and third rounds; the SDK's third round was bad.
        let c = comparison(&[300.0, 200.0, 100.0], &[288.0, 192.0, 50.0]);
        assert_eq!(c.round_ratios(), vec![0.96, 0.96, 0.5]);
        assert!((c.ratio() - 0.96).abs() < 1e-12, "{}", c.ratio());
        assert_eq!(c.ratio_range(), Some((0.5, 0.96)));
        // The medians' ratio would have said 192 / 200.
        assert!((c.sdk.throughput / c.raw.throughput - 0.96).abs() < 1e-12);
        let skewed = comparison(&[300.0, 100.0, 200.0], &[150.0, 96.0, 192.0]);
        assert!((skewed.ratio() - 0.96).abs() < 1e-12, "{}", skewed.ratio());
        assert!((skewed.sdk.throughput / skewed.raw.throughput - 0.75).abs() < 1e-12);
    }

    #[test]
    fn slices_cover_every_call_once_in_order() {
        for (n, count) in [(6000, 10), (1500, 10), (7, 3), (3, 10), (0, 10), (5, 0)] {
            let cut = slices(n, count);
            assert!(!cut.is_empty());
            assert!(cut.len() <= count.max(1));
            let mut next = 0;
            for (start, len) in &cut {
                assert_eq!(*start, next, "{n} calls in {count}: {cut:?}");
                next += len;
            }
            assert_eq!(next, n, "{n} calls in {count}: {cut:?}");
            let (min, max) = cut.iter().fold((usize::MAX, 0), |(lo, hi), (_, len)| {
                (lo.min(*len), hi.max(*len))
            });
            assert!(max - min <= 1, "uneven: {cut:?}");
        }
    }

    #[test]
    fn unpaired_rounds_fall_back_to_the_medians() {
        let c = comparison(&[100.0], &[90.0, 80.0]);
        assert!(c.round_ratios().is_empty());
        assert_eq!(c.ratio_range(), None);
        assert!((c.ratio() - 0.8).abs() < 1e-12, "{}", c.ratio());
        assert!(comparison(&[], &[]).ratio().abs() < f64::EPSILON);
    }

    #[test]
    fn an_a_a_run_puts_the_twin_in_the_sdks_place_and_nowhere_else() {
        assert_eq!(client_of(Side::Sdk, false), Side::Sdk);
        assert_eq!(client_of(Side::Raw, false), Side::Raw);
        assert_eq!(client_of(Side::Sdk, true), Side::Twin);
        assert_eq!(client_of(Side::Raw, true), Side::Raw);
    }
}
