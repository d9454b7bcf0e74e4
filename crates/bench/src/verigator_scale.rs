//! Verigator `start` latency against the number of users already registered in the service:
//! the `verigator-scale` phase.
//!
//! For each size, a fresh service is seeded with that many users straight into the sandbox
//! (`SandboxHandle::seed_verigator_users`), and a fresh verifier (empty user cache) starts SMS
//! verifications one at a time, the sizes taking turns:
//!
//! - **new phones**, the common case: register the user, start the authentication; the target
//!   holds these to at most [`SCALE_TARGET`] × their latency at the smallest size;
//! - **registered phones the verifier has not seen** (another process registered them): the
//!   registration answers 409 and the streamed user listing finds the user; linear in the
//!   users before it, reported without a target.

use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use phone_verify_core::{PhoneNumber, PhoneVerifier, StartRequest};
use phone_verify_sandbox::SandboxHandle;
use phone_verify_verigator::VerigatorBuilder;

use crate::stats::{decimals_for, percentile};
use crate::targets::Phones;

/// Users registered before measuring: the target compares the last size with the first.
pub(crate) const SIZES: [usize; 2] = [1_000, 100_000];
/// At the largest size, p50 and p99 of new-phone starts must stay within this factor of the
/// smallest size's.
pub(crate) const SCALE_TARGET: f64 = 2.0;
/// Timed new-phone starts per size, after [`WARMUP`] untimed ones.
const STARTS: usize = 2_000;
/// Untimed starts before the timed ones (connection pool, caches).
const WARMUP: usize = 100;
/// Timed starts of registered phones the verifier has not seen, per size.
const LOOKUPS: usize = 20;

/// The latencies of one kind of start at one service size.
#[derive(Clone, Debug)]
pub(crate) struct ScaleRow {
    /// Users registered in the service before the starts.
    pub(crate) users: usize,
    /// Which starts: `new phone` or `registered, not cached`.
    pub(crate) kind: &'static str,
    /// Starts that succeeded, sorted latencies.
    pub(crate) latencies: Vec<Duration>,
    /// Starts that failed, and the first error.
    pub(crate) failed: usize,
    /// The first failure.
    pub(crate) error: Option<String>,
}

impl ScaleRow {
    /// Median start latency.
    pub(crate) fn p50(&self) -> Option<Duration> {
        percentile(&self.latencies, 50.0)
    }

    /// 99th-percentile start latency.
    pub(crate) fn p99(&self) -> Option<Duration> {
        percentile(&self.latencies, 99.0)
    }

    /// Whether these are starts of new phones (the rows the target is about).
    pub(crate) fn is_new_phone(&self) -> bool {
        self.kind == NEW_PHONE
    }
}

const NEW_PHONE: &str = "new phone";
const REGISTERED: &str = "registered, not cached";

/// Measures every size of [`SIZES`]. The timed new-phone starts alternate between the sizes,
/// one start each in turn, so that load from elsewhere on the machine falls on all sizes alike.
pub(crate) async fn measure(sandbox: &SandboxHandle, phones: &Phones) -> Result<Vec<ScaleRow>> {
    // Seeded users get numbers of their own, so the run's shared sequence stays short.
    let seeded_phones = Phones::with_prefix("+90542");
    let builder = VerigatorBuilder::sandbox(&sandbox.base_url());
    let client = builder.build_client()?;
    let mut services = Vec::new();
    for (n, &size) in SIZES.iter().enumerate() {
        let service = client
            .create_service(&format!("scale{n}.bench.example"), &format!("Scale {n}"))
            .await
            .context("creating a Verigator service")?;
        let seeded: Vec<PhoneNumber> = (0..size)
            .map(|_| seeded_phones.next())
            .collect::<Result<_>>()?;
        // Spread over the whole list, so the lookups scan on average half of it.
        let registered: Vec<PhoneNumber> = (0..LOOKUPS)
            .map(|i| seeded[(2 * i + 1) * size / (2 * LOOKUPS)].clone())
            .collect();
        let t0 = Instant::now();
        sandbox
            .seed_verigator_users(
                &service.id,
                seeded.into_iter().map(|p| (p.e164().to_owned(), p)),
            )
            .map_err(|e| anyhow::anyhow!("seeding {size} Verigator users: {e}"))?;
        eprintln!(
            "  {size} users seeded in {:.2} s",
            t0.elapsed().as_secs_f64()
        );
        let verifier = builder.clone().service_id(service.id.clone()).build()?;
        let warmup: Vec<PhoneNumber> = (0..WARMUP).map(|_| phones.next()).collect::<Result<_>>()?;
        start_each(&verifier, &warmup, &mut empty_row(size, NEW_PHONE)).await;
        services.push((verifier, registered, empty_row(size, NEW_PHONE)));
    }
    for _ in 0..STARTS {
        for (verifier, _, row) in &mut services {
            start_each(verifier, &[phones.next()?], row).await;
        }
    }
    let mut rows = Vec::new();
    for (verifier, registered, mut row) in services {
        row.latencies.sort_unstable();
        report(&row);
        rows.push(row);
        let mut lookups = empty_row(rows[rows.len() - 1].users, REGISTERED);
        start_each(&verifier, &registered, &mut lookups).await;
        lookups.latencies.sort_unstable();
        report(&lookups);
        rows.push(lookups);
    }
    Ok(rows)
}

fn empty_row(users: usize, kind: &'static str) -> ScaleRow {
    ScaleRow {
        users,
        kind,
        latencies: Vec::new(),
        failed: 0,
        error: None,
    }
}

/// Starts an SMS verification of each phone in turn, timing each into `row`.
async fn start_each(verifier: &dyn PhoneVerifier, phones: &[PhoneNumber], row: &mut ScaleRow) {
    for phone in phones {
        let request = StartRequest::sms(phone.clone());
        let t0 = Instant::now();
        match verifier.start(&request).await {
            Ok(_) => row.latencies.push(t0.elapsed()),
            Err(e) => {
                row.failed += 1;
                row.error.get_or_insert_with(|| e.to_string());
            }
        }
    }
}

fn report(row: &ScaleRow) {
    let ms = |d: Option<Duration>| d.map_or(f64::NAN, |d| d.as_secs_f64() * 1e3);
    eprintln!(
        "  {} users, {}: p50 {:.3} ms, p99 {:.3} ms, {} failed",
        row.users,
        row.kind,
        ms(row.p50()),
        ms(row.p99()),
        row.failed
    );
}

/// Whether the largest size's new-phone starts stay within [`SCALE_TARGET`] × the smallest
/// size's, at p50 and at p99: `(met, target, measured)`, or `None` without both rows.
pub(crate) fn verdict(rows: &[ScaleRow]) -> Option<(bool, String, String)> {
    let new: Vec<&ScaleRow> = rows.iter().filter(|r| r.is_new_phone()).collect();
    let (small, large) = (new.first()?, new.last()?);
    if small.users == large.users {
        return None;
    }
    let ratio = |a: Option<Duration>, b: Option<Duration>| match (a, b) {
        (Some(a), Some(b)) if !b.is_zero() => Some(a.as_secs_f64() / b.as_secs_f64()),
        _ => None,
    };
    let p50 = ratio(large.p50(), small.p50());
    let p99 = ratio(large.p99(), small.p99());
    let clean = small.failed == 0 && large.failed == 0;
    let met =
        clean && p50.is_some_and(|r| r <= SCALE_TARGET) && p99.is_some_and(|r| r <= SCALE_TARGET);
    // Two decimals, or as many more as it takes for a miss not to read as the target.
    let show = |r: Option<f64>| {
        r.map_or_else(
            || "—".to_owned(),
            |r| {
                let decimals = decimals_for(r, 2, |x| x <= SCALE_TARGET);
                format!("{r:.decimals$}×")
            },
        )
    };
    let measured = format!(
        "p50 {} and p99 {} of the {}-user figures; {} failed",
        show(p50),
        show(p99),
        crate::stats::count(small.users),
        small.failed + large.failed
    );
    let label = format!(
        "Verigator `start` (new phone) with {} users ≤ {SCALE_TARGET} × with {}",
        crate::stats::count(large.users),
        crate::stats::count(small.users)
    );
    Some((met, label, measured))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(users: usize, kind: &'static str, ms: &[u64], failed: usize) -> ScaleRow {
        ScaleRow {
            users,
            kind,
            latencies: ms.iter().map(|&m| Duration::from_millis(m)).collect(),
            failed,
            error: None,
        }
    }

    #[test]
    fn the_target_compares_new_phone_starts_at_both_ends() {
        let fast = row(1_000, NEW_PHONE, &[1, 1, 2], 0);
        let lookups = row(100_000, REGISTERED, &[90, 95, 99], 0);
        let (met, _, measured) = verdict(&[
            fast.clone(),
            lookups.clone(),
            row(100_000, NEW_PHONE, &[1, 2, 3], 0),
        ])
        .unwrap();
        assert!(met, "{measured}");
        let (met, _, measured) = verdict(&[
            fast.clone(),
            lookups,
            row(100_000, NEW_PHONE, &[3, 3, 5], 0),
        ])
        .unwrap();
        assert!(!met, "{measured}");
        let (met, _, _) = verdict(&[fast.clone(), row(100_000, NEW_PHONE, &[1, 1, 2], 1)]).unwrap();
        assert!(!met, "a failed start misses the target");
        assert!(verdict(&[fast]).is_none());
    }

    #[test]
    fn a_ratio_just_past_the_target_never_reads_as_it() {
        let micros = |us: &[u64]| us.iter().map(|&u| Duration::from_micros(u)).collect();
        let small = ScaleRow {
            latencies: micros(&[1_000]),
            ..row(1_000, NEW_PHONE, &[], 0)
        };
        let large = ScaleRow {
            latencies: micros(&[2_004]),
            ..row(100_000, NEW_PHONE, &[], 0)
        };
        let (met, _, measured) = verdict(&[small, large]).unwrap();
        assert!(!met, "{measured}");
        assert!(
            measured.starts_with("p50 2.004× and p99 2.004× of"),
            "{measured}"
        );
    }
}
