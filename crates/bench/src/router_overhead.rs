//! The router's and the guard's own cost: `start` and `check` through `phone-verify-router`
//! and through `phone-verify-guard` against the same calls on the provider directly, at
//! concurrency 1 and 64.
//!
//! The provider is an in-process one that answers at once (no HTTP), so the difference in
//! client CPU per call is the router's: rule matching, candidate order, breaker admission,
//! health bookkeeping, the route in the handle, and the lookup of the route on check. Against
//! a real provider over HTTP the same few hundred nanoseconds disappear in the HTTP stack's
//! tens of microseconds, which vary more than that from round to round.

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Result, ensure};
use async_trait::async_trait;
use phone_verify_core::{
    Capabilities, Channel, CheckOutcome, CheckRequest, Code, PhoneNumber, PhoneVerifier,
    ProviderId, StartRequest, Verification, Verified,
};
use phone_verify_guard::{Guard, GuardConfig, Limit, MemoryStore};
use phone_verify_router::{Route, Router, Rule};

use crate::runner::run;
use crate::stats::{Batch, Summary, decimals_for};
use crate::table::{Align, Table};

/// The target: the router adds at most this much client CPU per call.
pub(crate) const TARGET: Duration = Duration::from_micros(2);

/// A provider that answers at once: every start succeeds, every check verifies.
#[derive(Debug, Default)]
struct Instant {
    next: AtomicU64,
}

const INSTANT: ProviderId = ProviderId::new_static("instant");

#[async_trait]
impl PhoneVerifier for Instant {
    fn provider(&self) -> ProviderId {
        INSTANT
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::new()
            .with_otp_channel(Channel::Sms)
            .with_otp_channel(Channel::WhatsApp)
    }

    async fn start(&self, request: &StartRequest) -> phone_verify_core::Result<Verification> {
        request.validate(&self.capabilities())?;
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let mut handle = Verification::new(INSTANT, n.to_string(), request.channel.clone());
        handle.phone.clone_from(&request.phone);
        Ok(handle)
    }

    async fn check(
        &self,
        verification: &Verification,
        request: &CheckRequest,
    ) -> phone_verify_core::Result<CheckOutcome> {
        verification.ensure_provider(&INSTANT)?;
        request.require_code()?;
        Ok(CheckOutcome::Verified(
            Verified::new(verification.channel.clone()).with_phone(verification.phone.clone()),
        ))
    }
}

/// A router as an application would set it up: three routes, Colombia to one, Turkey to two
/// with failover, the rest to the third.
fn router() -> Result<Router> {
    Ok(Router::builder()
        .route(Route::new("tr-primary", Arc::new(Instant::default())))
        .route(Route::new("tr-backup", Arc::new(Instant::default())))
        .route(Route::new("rest", Arc::new(Instant::default())))
        .rule(Rule::to(["rest"]).regions(["CO"]))
        .rule(Rule::to(["tr-primary", "tr-backup"]).regions(["TR"]))
        .rule(Rule::to(["rest"]))
        .build()?)
}

/// A guard as an application would set it up (the default rules, in memory), with limits no
/// call reaches: each call still reads and writes every counter, and none is refused.
fn guard() -> Result<Guard> {
    let never = Some(Limit::per_hour(u32::MAX));
    let config = GuardConfig {
        per_phone: never,
        per_phone_daily: never,
        resend_cooldown_secs: None,
        per_ip: never,
        per_ipv4_24: never,
        per_ipv6_64: never,
        per_region: never,
        wrong_codes_per_verification: Some(u32::MAX),
        wrong_codes_per_phone: never,
        global_budget: never,
        global_budget_daily: never,
        ..GuardConfig::default()
    };
    Ok(Guard::builder(Arc::new(Instant::default()))
        .secret("bench-guard-overhead-secret-0123")
        .store(Arc::new(MemoryStore::new()))
        .config(config)
        .build()?)
}

/// Which side of the comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Direct,
    Routed,
    Guarded,
}

/// One row: a call at a concurrency, every side.
#[derive(Clone, Debug)]
pub(crate) struct OverheadRow {
    call: &'static str,
    concurrency: usize,
    direct: Summary,
    routed: Summary,
    guarded: Summary,
}

impl OverheadRow {
    /// Client CPU per call the router adds (negative: within noise, below the direct side).
    fn overhead_ns(&self) -> f64 {
        nanos(self.routed.client_cpu_per_op) - nanos(self.direct.client_cpu_per_op)
    }

    /// Client CPU per call the guard adds.
    fn guard_overhead_ns(&self) -> f64 {
        nanos(self.guarded.client_cpu_per_op) - nanos(self.direct.client_cpu_per_op)
    }
}

/// Measures `start` and `check` at concurrency 1 and `high`, `rounds` rounds per side.
pub(crate) async fn measure(
    rounds: usize,
    calls_c1: usize,
    calls_high: usize,
    high: usize,
) -> Result<Vec<OverheadRow>> {
    let direct: Arc<dyn PhoneVerifier> = Arc::new(Instant::default());
    let routed: Arc<dyn PhoneVerifier> = Arc::new(router()?);
    let guarded: Arc<dyn PhoneVerifier> = Arc::new(guard()?);
    let phones: Arc<Vec<PhoneNumber>> = Arc::new(
        (0..1024)
            .map(|n| format!("+90532{n:07}").parse())
            .collect::<Result<_, _>>()?,
    );
    let code = Code::new("123456")?;
    let mut rows = Vec::new();
    for call in ["start", "check"] {
        for (concurrency, n) in [(1, calls_c1), (high, calls_high)] {
            let mut batches: [Vec<Batch>; 3] = [Vec::new(), Vec::new(), Vec::new()];
            for round in 0..rounds.max(1) {
                let order = match round % 3 {
                    0 => [Side::Direct, Side::Routed, Side::Guarded],
                    1 => [Side::Routed, Side::Guarded, Side::Direct],
                    _ => [Side::Guarded, Side::Direct, Side::Routed],
                };
                for side in order {
                    let verifier = match side {
                        Side::Direct => Arc::clone(&direct),
                        Side::Routed => Arc::clone(&routed),
                        Side::Guarded => Arc::clone(&guarded),
                    };
                    let batch = if call == "start" {
                        time_starts(verifier, Arc::clone(&phones), concurrency, n).await?
                    } else {
                        time_checks(verifier, &phones, &code, concurrency, n).await?
                    };
                    batches[side as usize].push(batch);
                }
            }
            let row = OverheadRow {
                call,
                concurrency,
                direct: Summary::of(&batches[0]),
                routed: Summary::of(&batches[1]),
                guarded: Summary::of(&batches[2]),
            };
            eprintln!(
                "  {call:<6} c={concurrency:<3} direct {:>7.0} ns/call  router {:>7.0} ns/call  \
                 overhead {:>+6.0} ns  guard {:>7.0} ns/call  overhead {:>+6.0} ns",
                row.direct.client_cpu_per_op.as_secs_f64() * 1e9,
                row.routed.client_cpu_per_op.as_secs_f64() * 1e9,
                row.overhead_ns(),
                row.guarded.client_cpu_per_op.as_secs_f64() * 1e9,
                row.guard_overhead_ns()
            );
            rows.push(row);
        }
    }
    Ok(rows)
}

async fn time_starts(
    verifier: Arc<dyn PhoneVerifier>,
    phones: Arc<Vec<PhoneNumber>>,
    concurrency: usize,
    n: usize,
) -> Result<Batch> {
    let requests: Arc<Vec<StartRequest>> = Arc::new(
        phones
            .iter()
            .enumerate()
            .map(|(i, phone)| {
                // An address per phone, so the guard's address counters are written too.
                let ip =
                    std::net::Ipv4Addr::from(0x0a00_0000_u32 + u32::try_from(i).unwrap_or(0) * 256);
                StartRequest::sms(phone.clone()).end_user_ip(ip.into())
            })
            .collect(),
    );
    let warm = Arc::clone(&requests);
    let warm_verifier = Arc::clone(&verifier);
    run(concurrency, concurrency * 4, move |i| {
        let (verifier, requests) = (Arc::clone(&warm_verifier), Arc::clone(&warm));
        async move {
            verifier.start(&requests[i % requests.len()]).await?;
            Ok(())
        }
    })
    .await?;
    run(concurrency, n, move |i| {
        let (verifier, requests) = (Arc::clone(&verifier), Arc::clone(&requests));
        async move {
            verifier.start(&requests[i % requests.len()]).await?;
            Ok(())
        }
    })
    .await
}

async fn time_checks(
    verifier: Arc<dyn PhoneVerifier>,
    phones: &[PhoneNumber],
    code: &Code,
    concurrency: usize,
    n: usize,
) -> Result<Batch> {
    let mut handles = Vec::with_capacity(phones.len());
    for phone in phones {
        handles.push(verifier.start(&StartRequest::sms(phone.clone())).await?);
    }
    let handles = Arc::new(handles);
    let request = Arc::new(CheckRequest::code(code.clone()));
    let batch = run(concurrency, n, move |i| {
        let (verifier, handles, request) = (
            Arc::clone(&verifier),
            Arc::clone(&handles),
            Arc::clone(&request),
        );
        async move {
            let outcome = verifier
                .check(&handles[i % handles.len()], &request)
                .await?;
            ensure!(outcome.is_verified(), "the check did not verify");
            Ok(())
        }
    })
    .await?;
    Ok(batch)
}

/// `d` in nanoseconds, exact (a `Duration` is whole nanoseconds).
#[allow(clippy::cast_precision_loss)]
fn nanos(d: Duration) -> f64 {
    d.as_nanos() as f64
}

fn ns(d: Duration) -> String {
    format!("{:.0} ns", d.as_secs_f64() * 1e9)
}

/// Every row's overhead, whether all meet [`TARGET`], and the worst against it, for the
/// targets table.
pub(crate) fn verdict(rows: &[OverheadRow]) -> Option<(String, bool, String)> {
    let worst = rows
        .iter()
        .max_by(|a, b| a.overhead_ns().total_cmp(&b.overhead_ns()))?;
    let detail = format!(
        "highest {} ({} c={}) of {} µs",
        overhead_text(worst.overhead_ns()),
        worst.call,
        worst.concurrency,
        TARGET.as_secs_f64() * 1e6
    );
    let all: Vec<String> = rows
        .iter()
        .map(|r| {
            format!(
                "{} c={} {}",
                r.call,
                r.concurrency,
                overhead_text(r.overhead_ns())
            )
        })
        .collect();
    let met = rows.iter().all(|r| within_target(r.overhead_ns()));
    Some((all.join("; "), met, detail))
}

/// Whether an overhead of `ns` nanoseconds meets [`TARGET`].
#[allow(clippy::cast_precision_loss)]
fn within_target(ns: f64) -> bool {
    ns <= TARGET.as_nanos() as f64
}

/// An overhead in whole nanoseconds, or with as many decimals as it takes for a miss not to
/// read as [`TARGET`].
fn overhead_text(ns: f64) -> String {
    let decimals = decimals_for(ns, 0, within_target);
    format!("{ns:+.decimals$} ns")
}

/// The section of the report.
pub(crate) fn render(rows: &[OverheadRow]) -> String {
    let mut t = Table::new(&[
        ("call", Align::Left),
        ("concurrency", Align::Right),
        ("client CPU/call direct", Align::Right),
        ("client CPU/call router", Align::Right),
        ("router overhead", Align::Right),
        ("client CPU/call guard", Align::Right),
        ("guard overhead", Align::Right),
        ("p50 direct → router / guard", Align::Right),
    ]);
    for r in rows {
        t.row([
            r.call.to_owned(),
            r.concurrency.to_string(),
            ns(r.direct.client_cpu_per_op),
            ns(r.routed.client_cpu_per_op),
            overhead_text(r.overhead_ns()),
            ns(r.guarded.client_cpu_per_op),
            format!("{:+.0} ns", r.guard_overhead_ns()),
            format!(
                "{} → {} / {}",
                ns(r.direct.p50),
                ns(r.routed.p50),
                ns(r.guarded.p50)
            ),
        ]);
    }
    let mut out = t.render();
    let _ = write!(
        out,
        "\nThe provider answers in-process at once, so the difference is the router's own CPU \
         (rules, candidate order, breaker, health, the route in the handle and its lookup on \
         check); a router of three routes and three region rules, Turkish phones. The guard \
         column is `phone-verify-guard` with its default rules on the in-memory store, limits \
         set out of reach so that every call reads and writes all its counters and none is \
         refused (no target: its decision latency has one, below). The sides take turns going \
         first each round. Target: the router adds at most {} µs per call.\n",
        TARGET.as_secs_f64() * 1e6
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(direct_ns: u64, routed_ns: u64) -> OverheadRow {
        let cpu = |ns| Summary {
            client_cpu_per_op: Duration::from_nanos(ns),
            ..Summary::default()
        };
        OverheadRow {
            call: "start",
            concurrency: 1,
            direct: cpu(direct_ns),
            routed: cpu(routed_ns),
            guarded: cpu(direct_ns),
        }
    }

    #[test]
    fn an_overhead_just_past_the_target_never_reads_as_it() {
        let (_, met, detail) = verdict(&[row(1_000, 1_500), row(10_000, 12_001)]).unwrap();
        assert!(!met, "{detail}");
        assert_eq!(detail, "highest +2001 ns (start c=1) of 2 µs");
        let (measured, met, _) = verdict(&[row(1_000, 3_000)]).unwrap();
        assert!(met, "{measured}");
        assert_eq!(measured, "start c=1 +2000 ns");
        assert_eq!(overhead_text(2_000.4), "+2000.4 ns");
        assert_eq!(overhead_text(1_999.6), "+2000 ns");
        assert!(!within_target(2_000.4));
    }
}
