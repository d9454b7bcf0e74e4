//! Phase `pumping`: scripted traffic through `phone-verify-guard` to the sandbox, legitimate
//! users across regions and an SMS-pumping attack, then the guard's decision latency alone,
//! with the in-memory store and with Redis.

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use async_trait::async_trait;
use phone_verify_core::{
    Capabilities, Channel, CheckOutcome, CheckRequest, PhoneVerifier, ProviderId, StartRequest,
    Verification,
};
use phone_verify_guard::{Denial, Guard, GuardConfig, GuardStore, Limit, MemoryStore, RedisStore};
use phone_verify_sandbox::SandboxHandle;
use phone_verify_verifykit::VerifyKitBuilder;

use crate::stats::{decimals_for, percentile};
use crate::table::{Align, Table};

const SECRET: &str = "bench-guard-secret-0123456789";
/// The regions the application of the scenario serves, and a mobile prefix of each.
/// The regions the application of the scenario serves: a mobile prefix of each and the
/// digits that follow it.
const REGIONS: &[(&str, &str, usize)] = &[
    ("TR", "+90532", 7),
    ("GB", "+447911", 6),
    ("DE", "+49151", 8),
    ("BR", "+55119", 8),
    ("IN", "+91981", 7),
    ("US", "+12012", 6),
    ("FR", "+336", 8),
    ("ES", "+346", 8),
];

/// The share of an attack wave's attempts that may get through.
const ATTACK_TARGET_PERCENT: f64 = 1.0;
/// The in-memory decision's median latency to stay within, in µs.
const MEMORY_P50_TARGET_US: f64 = 5.0;

/// What the phase measured.
#[derive(Debug, Default)]
pub(crate) struct PumpingReport {
    /// The legitimate users' sends.
    pub(crate) legit: Traffic,
    /// The attack's sends, per wave.
    pub(crate) waves: Vec<Traffic>,
    /// Decision latency per store measured.
    pub(crate) decisions: Vec<Decisions>,
    /// Why the Redis decisions were not measured, when they were not.
    pub(crate) redis_unmeasured: Option<String>,
}

/// One kind of traffic of the simulation and what became of its sends.
#[derive(Clone, Debug, Default)]
pub(crate) struct Traffic {
    /// What the traffic is.
    pub(crate) name: String,
    /// Sends asked for.
    pub(crate) attempts: usize,
    /// Sends the guard let through and the provider took.
    pub(crate) through: usize,
    /// Sends the guard refused (a [`Denial`]).
    pub(crate) denied: usize,
    /// Sends that failed otherwise (the provider, the network): neither let through nor
    /// stopped by the guard, they leave the traffic unmeasured.
    pub(crate) failed: usize,
    /// The first of those failures.
    pub(crate) first_failure: Option<String>,
}

impl Traffic {
    /// No sends yet of the traffic `name`.
    fn named(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ..Self::default()
        }
    }

    /// Counts one send's result: through, refused by the guard, or failed otherwise.
    fn record(&mut self, result: &phone_verify_core::Result<Verification>) {
        self.attempts += 1;
        match result {
            Ok(_) => self.through += 1,
            Err(err) if Denial::of(err).is_some() => self.denied += 1,
            Err(err) => {
                self.failed += 1;
                self.first_failure.get_or_insert_with(|| err.to_string());
            }
        }
    }

    /// The share of the attempts that got through, in percent.
    #[allow(clippy::cast_precision_loss)]
    fn share(&self) -> f64 {
        self.through as f64 / self.attempts.max(1) as f64 * 100.0
    }

    /// The share through, with two decimals or as many more as it takes for a miss of the
    /// attack's target not to read as on it.
    fn share_text(&self) -> String {
        let share = self.share();
        let decimals = decimals_for(share, 2, |s| s <= ATTACK_TARGET_PERCENT);
        format!("{share:.decimals$}%")
    }

    /// Whether every send was measured (none failed otherwise) and there was one at least.
    fn measured(&self) -> bool {
        self.attempts > 0 && self.failed == 0
    }

    /// Legitimate traffic's target: measured, and every send let through.
    fn legit_met(&self) -> bool {
        self.measured() && self.through == self.attempts
    }

    /// An attack wave's target: measured, and at most [`ATTACK_TARGET_PERCENT`] through.
    fn attack_met(&self) -> bool {
        self.measured() && self.share() <= ATTACK_TARGET_PERCENT
    }
}

/// The guard's decision latency on one store.
#[derive(Clone, Debug)]
pub(crate) struct Decisions {
    /// The store.
    pub(crate) store: String,
    /// Decisions timed.
    pub(crate) count: usize,
    /// Decisions per second.
    pub(crate) rate: f64,
    /// Median latency.
    pub(crate) p50: Duration,
    /// 99th-percentile latency.
    pub(crate) p99: Duration,
    /// Round trips to the store per decision (`None` in memory).
    pub(crate) round_trips: Option<f64>,
}

impl Decisions {
    /// The median in µs.
    #[allow(clippy::cast_precision_loss)]
    fn p50_us(&self) -> f64 {
        self.p50.as_nanos() as f64 / 1e3
    }

    /// The median with one decimal, or as many more as it takes for a miss of the in-memory
    /// target not to read as on it.
    fn p50_text(&self) -> String {
        let p50 = self.p50_us();
        let decimals = decimals_for(p50, 1, |v| v <= MEMORY_P50_TARGET_US);
        format!("{p50:.decimals$} µs")
    }

    /// The round trips with two decimals, or as many more as it takes for a miss of "one"
    /// not to read as one; `-` in memory.
    fn round_trips_text(&self) -> String {
        self.round_trips.map_or_else(
            || "-".to_owned(),
            |trips| {
                let decimals = decimals_for(trips, 2, one_round_trip);
                format!("{trips:.decimals$}")
            },
        )
    }

    /// The store's target: a p50 within [`MEMORY_P50_TARGET_US`] in memory, one round trip per
    /// decision on Redis.
    fn target(&self) -> String {
        match self.round_trips {
            None => format!("p50 ≤ {MEMORY_P50_TARGET_US} µs"),
            Some(_) => "one round trip".to_owned(),
        }
    }

    /// Whether the store's target is met.
    fn met(&self) -> bool {
        self.round_trips
            .map_or_else(|| self.p50_us() <= MEMORY_P50_TARGET_US, one_round_trip)
    }

    /// The figure the target judges.
    fn judged_text(&self) -> String {
        match self.round_trips {
            None => self.p50_text(),
            Some(_) => self.round_trips_text(),
        }
    }
}

/// Whether `trips` round trips per decision are one.
fn one_round_trip(trips: f64) -> bool {
    (trips - 1.0).abs() < 0.01
}

/// A target of the phase, for the report's targets table.
#[derive(Clone, Debug)]
pub(crate) struct Judged {
    /// What the target is.
    pub(crate) label: String,
    /// What was measured.
    pub(crate) measured: String,
    /// Whether it was met.
    pub(crate) met: bool,
    /// The verdict's detail.
    pub(crate) detail: String,
}

/// A region the application also serves, with few users: its hourly limit is set low.
const QUIET_REGION: &str = "EE";
/// The quiet region's hourly limit.
const QUIET_REGION_PER_HOUR: u32 = 20;

/// The scenario's rules: the defaults, with the regions the application serves, and a low
/// hourly limit for the quiet one.
fn config() -> GuardConfig {
    let mut allow_regions: Vec<String> = REGIONS.iter().map(|(r, _, _)| (*r).to_owned()).collect();
    allow_regions.push(QUIET_REGION.to_owned());
    let mut config = GuardConfig {
        allow_regions,
        ..GuardConfig::default()
    };
    config.region_overrides.insert(
        QUIET_REGION.to_owned(),
        Limit::per_hour(QUIET_REGION_PER_HOUR),
    );
    config
}

/// Runs the scenario against `sandbox`, then the decision latencies.
pub(crate) async fn run(
    sandbox: &SandboxHandle,
    legit: usize,
    attack: usize,
) -> Result<PumpingReport> {
    let verifier = VerifyKitBuilder::sandbox(&sandbox.base_url()).build()?;
    let guard = Guard::builder(Arc::new(verifier))
        .secret(SECRET)
        .config(config())
        .build()?;
    let mut report = simulate(&guard, legit, attack).await?;

    let decisions = 20_000;
    let memory: Arc<dyn GuardStore> = Arc::new(MemoryStore::new());
    report
        .decisions
        .push(decide("in memory", memory, decisions, None).await?);
    match RedisServer::start() {
        Ok(server) => {
            let store = RedisStore::builder(server.url()).connect().await?;
            let stats = redis::Client::open(server.url())?;
            let line = decide(
                "Redis (loopback)",
                Arc::new(store),
                decisions / 4,
                Some(stats),
            )
            .await?;
            report.decisions.push(line);
        }
        Err(err) => report.redis_unmeasured = Some(format!("{err:#}")),
    }
    Ok(report)
}

/// The scenario's traffic through `guard`: `legit` users, one send each, and `attack`
/// attempts in three waves, interleaved.
async fn simulate(guard: &Guard, legit: usize, attack: usize) -> Result<PumpingReport> {
    let mut report = PumpingReport {
        legit: Traffic::named(format!(
            "legitimate users, {} served regions",
            REGIONS.len()
        )),
        waves: vec![
            Traffic::named("premium-rate range (+44 909 8…), served region"),
            Traffic::named("mobile range of an unserved region (+371 20…)"),
            Traffic::named(format!(
                "mobile range of a quiet served region (+372 5…, {QUIET_REGION_PER_HOUR} per hour)"
            )),
        ],
        ..PumpingReport::default()
    };
    // The attack is interleaved with the users: one attack attempt after each user, then the rest.
    let mut attempt = 0;
    for user in 0..legit.max(attack) {
        if user < legit {
            // Legitimate users: one send each, from their own address, five to an office /24.
            let (_, prefix, digits) = REGIONS[user % REGIONS.len()];
            let phone = format!("{prefix}{:0digits$}", 1000 + user / REGIONS.len()).parse()?;
            let office = u32::try_from(user / 5)?;
            let host = u32::try_from(user % 5)? + 1;
            let ip = IpAddr::V4(Ipv4Addr::from(0x6440_0000 + office * 256 + host));
            let started = guard.start(&StartRequest::sms(phone).end_user_ip(ip)).await;
            report.legit.record(&started);
        }
        if attempt < attack {
            // Wave A: a premium-rate range in a served region; wave B: mobile numbers of a
            // region the application does not serve; wave C: mobile numbers of the quiet
            // region (not caught by number type or region lists: only by the region's hourly
            // limit). Every attempt from a new address.
            let ip = IpAddr::V4(Ipv4Addr::from(
                0x0b00_0000_u32 + u32::try_from(attempt)? * 257,
            ));
            let wave = attempt % 3;
            let serial = attempt / 3 % 1_000_000;
            let phone = match wave {
                0 => format!("+449098{serial:06}"),
                1 => format!("+37120{serial:06}"),
                _ => format!("+3725{serial:07}"),
            };
            let started = guard
                .start(&StartRequest::sms(phone.parse()?).end_user_ip(ip))
                .await;
            report.waves[wave].record(&started);
            attempt += 1;
        }
    }
    Ok(report)
}

/// Times `decisions` sends through a guard over a verifier that answers at once, so only the
/// guard's decision is measured. Each send is to a new phone from a new address, so every
/// decision is allowed and counts all its counters.
async fn decide(
    name: &str,
    store: Arc<dyn GuardStore>,
    decisions: usize,
    redis: Option<redis::Client>,
) -> Result<Decisions> {
    // Every rule of the scenario, with a region limit the decisions (all to one region) do not
    // reach: each counter is still read and written.
    let config = GuardConfig {
        per_region: Some(Limit::per_hour(u32::MAX)),
        ..config()
    };
    let guard = Guard::builder(Arc::new(Instant_))
        .secret(SECRET)
        .store(store)
        .config(config)
        .build()?;
    let commands_before = match &redis {
        Some(client) => Some(total_commands(client).await?),
        None => None,
    };
    let requests: Vec<StartRequest> = (0..decisions)
        .map(|i| {
            let phone = format!("+90532{:07}", i % 10_000_000)
                .parse()
                .expect("a valid number");
            let ip = IpAddr::V4(Ipv4Addr::from(
                0x0a00_0000_u32 + u32::try_from(i).unwrap_or(0) * 256,
            ));
            StartRequest::sms(phone).end_user_ip(ip)
        })
        .collect();
    let mut latencies = Vec::with_capacity(decisions);
    let wall = Instant::now();
    for request in &requests {
        let started = Instant::now();
        let result = guard.start(request).await;
        latencies.push(started.elapsed());
        if let Err(err) = result {
            bail!("{name}: a decision was refused: {err}");
        }
    }
    let wall = wall.elapsed();
    latencies.sort_unstable();
    let round_trips = match (&redis, commands_before) {
        (Some(client), Some(before)) => {
            let after = total_commands(client).await?;
            #[allow(clippy::cast_precision_loss)]
            Some((after - before) as f64 / decisions as f64)
        }
        _ => None,
    };
    #[allow(clippy::cast_precision_loss)]
    let rate = decisions as f64 / wall.as_secs_f64();
    Ok(Decisions {
        store: name.to_owned(),
        count: decisions,
        rate,
        p50: percentile(&latencies, 50.0).unwrap_or_default(),
        p99: percentile(&latencies, 99.0).unwrap_or_default(),
        round_trips,
    })
}

/// The script commands clients sent (`EVALSHA`, `EVAL`, `SCRIPT`), from `INFO commandstats`:
/// the commands a script runs inside Redis are counted there too, but are no round trips.
async fn total_commands(client: &redis::Client) -> Result<u64> {
    let mut conn = client.get_multiplexed_async_connection().await?;
    let info: String = redis::cmd("INFO")
        .arg("commandstats")
        .query_async(&mut conn)
        .await?;
    Ok(info
        .lines()
        .filter(|l| {
            ["cmdstat_evalsha:", "cmdstat_eval:", "cmdstat_script"]
                .iter()
                .any(|p| l.starts_with(p))
        })
        .filter_map(|l| l.split("calls=").nth(1))
        .filter_map(|rest| rest.split(',').next()?.parse::<u64>().ok())
        .sum())
}

/// A verifier that answers every start at once, without a network.
#[derive(Debug)]
struct Instant_;

#[async_trait]
impl PhoneVerifier for Instant_ {
    fn provider(&self) -> ProviderId {
        ProviderId::new_static("instant")
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::new().with_otp_channel(Channel::Sms)
    }
    async fn start(&self, request: &StartRequest) -> phone_verify_core::Result<Verification> {
        Ok(Verification::new(
            self.provider(),
            "ref",
            request.channel.clone(),
        ))
    }
    async fn check(
        &self,
        _: &Verification,
        _: &CheckRequest,
    ) -> phone_verify_core::Result<CheckOutcome> {
        Err(phone_verify_core::Error::unsupported(
            "the bench only starts",
        ))
    }
}

/// A `redis-server` of the bench's own, on a free loopback port, killed when dropped.
struct RedisServer {
    child: Child,
    port: u16,
    _dir: PathGuard,
}

/// A temporary directory removed when dropped.
struct PathGuard(std::path::PathBuf);

impl Drop for PathGuard {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl RedisServer {
    fn start() -> Result<Self> {
        let dir =
            std::env::temp_dir().join(format!("phone-verify-bench-redis-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
            .local_addr()?
            .port();
        let child = Command::new("redis-server")
            .args([
                "--bind",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                "--save",
                "",
            ])
            .arg("--dir")
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("redis-server is not on PATH (apt-get install redis-server)")?;
        let server = Self {
            child,
            port,
            _dir: PathGuard(dir),
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err() {
            if Instant::now() > deadline {
                bail!("redis-server did not listen on {port}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(server)
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Targets: the attack stopped after at most 1% of its attempts, no legitimate user refused,
/// an in-memory decision within 5 µs (p50), one Redis round trip per decision.
impl PumpingReport {
    /// The phase's targets, for the report's targets table: a send that failed for another
    /// reason than the guard's refusal, or a store not measured, misses its target.
    pub(crate) fn targets(&self) -> Vec<Judged> {
        let legit = &self.legit;
        let mut out = vec![Judged {
            label: "guard: no legitimate user refused".to_owned(),
            measured: format!(
                "{} of {} refused, {} failed otherwise",
                legit.denied, legit.attempts, legit.failed
            ),
            met: legit.legit_met(),
            detail: String::new(),
        }];
        if let Some(worst) = self
            .waves
            .iter()
            .max_by(|a, b| a.share().total_cmp(&b.share()))
        {
            let measured: Vec<String> = self
                .waves
                .iter()
                .map(|w| {
                    format!(
                        "{}: {} of {} through ({}), {} failed otherwise",
                        w.name,
                        w.through,
                        w.attempts,
                        w.share_text(),
                        w.failed
                    )
                })
                .collect();
            out.push(Judged {
                label: format!(
                    "guard: ≤ {ATTACK_TARGET_PERCENT}% of each SMS-pumping wave's attempts through"
                ),
                measured: measured.join("; "),
                met: self.waves.iter().all(Traffic::attack_met),
                detail: format!(
                    "highest {} ({}); {} sends failed otherwise",
                    worst.share_text(),
                    worst.name,
                    self.waves.iter().map(|w| w.failed).sum::<usize>()
                ),
            });
        }
        for d in &self.decisions {
            out.push(Judged {
                label: format!("guard decision ({}): {}", d.store, d.target()),
                measured: d.judged_text(),
                met: d.met(),
                detail: String::new(),
            });
        }
        if let Some(why) = &self.redis_unmeasured {
            out.push(Judged {
                label: "guard decision (Redis (loopback)): one round trip".to_owned(),
                measured: "not measured".to_owned(),
                met: false,
                detail: format!("not measured: {why}"),
            });
        }
        out
    }

    /// The markdown section.
    pub(crate) fn render(&self) -> String {
        let mut out = String::from("\n### Guard: SMS-pumping simulation\n\n");
        let mut t = Table::new(&[
            ("traffic", Align::Left),
            ("attempts", Align::Right),
            ("got through", Align::Right),
            ("refused by the guard", Align::Right),
            ("failed otherwise", Align::Right),
            ("target", Align::Left),
        ]);
        let legit = &self.legit;
        t.row([
            legit.name.clone(),
            legit.attempts.to_string(),
            legit.through.to_string(),
            legit.denied.to_string(),
            legit.failed.to_string(),
            verdict(legit.legit_met(), "0 refused"),
        ]);
        for wave in &self.waves {
            t.row([
                format!("attack: {}", wave.name),
                wave.attempts.to_string(),
                format!("{} ({})", wave.through, wave.share_text()),
                wave.denied.to_string(),
                wave.failed.to_string(),
                verdict(wave.attack_met(), &format!("≤ {ATTACK_TARGET_PERCENT}%")),
            ]);
        }
        out.push_str(&t.render());
        out.push_str("\n### Guard: decision latency\n\n");
        let mut t = Table::new(&[
            ("store", Align::Left),
            ("decisions", Align::Right),
            ("decisions/s", Align::Right),
            ("p50", Align::Right),
            ("p99", Align::Right),
            ("round trips per decision", Align::Right),
            ("target", Align::Left),
        ]);
        for d in &self.decisions {
            t.row([
                d.store.clone(),
                d.count.to_string(),
                format!("{:.0}", d.rate),
                d.p50_text(),
                format!("{:.1} µs", d.p99.as_secs_f64() * 1e6),
                d.round_trips_text(),
                verdict(d.met(), &d.target()),
            ]);
        }
        if let Some(why) = &self.redis_unmeasured {
            t.row([
                "Redis (loopback)".to_owned(),
                "—".to_owned(),
                "—".to_owned(),
                "—".to_owned(),
                "—".to_owned(),
                "—".to_owned(),
                verdict(false, &format!("one round trip; not measured: {why}")),
            ]);
        }
        out.push_str(&t.render());
        let _ = writeln!(
            out,
            "\nThe guard's default rules plus `allow_regions` (the 8 regions of the users, and a \
             quiet ninth, Estonia, with `region_overrides` of {QUIET_REGION_PER_HOUR} per hour), \
             one send per user; every attack attempt from a new IP address, the three waves \
             interleaved with the users. A send counts as stopped only when the guard refused \
             it; one that failed otherwise (the sandbox, the network) is neither, and misses \
             its traffic's target. Decisions: one at a time through a \
             verifier that answers at once, a new phone and address each (every counter \
             written); round trips are the script commands (`EVALSHA`, `EVAL`, `SCRIPT`) the Redis server received per decision, from `INFO commandstats`."
        );
        for traffic in std::iter::once(&self.legit).chain(&self.waves) {
            if let Some(first) = &traffic.first_failure {
                let _ = writeln!(
                    out,
                    "\n- {}: {} sends failed otherwise; the first: {first}",
                    traffic.name, traffic.failed
                );
            }
        }
        out
    }
}

fn verdict(met: bool, target: &str) -> String {
    format!("{}: {target}", if met { "**met**" } else { "**missed**" })
}

#[cfg(test)]
mod tests {
    use phone_verify_core::{Error, ErrorKind};

    use super::*;

    /// A provider that is down: every send fails, and not because of the guard.
    #[derive(Debug)]
    struct Down;

    #[async_trait]
    impl PhoneVerifier for Down {
        fn provider(&self) -> ProviderId {
            ProviderId::new_static("down")
        }
        fn capabilities(&self) -> Capabilities {
            Capabilities::new().with_otp_channel(Channel::Sms)
        }
        async fn start(&self, _: &StartRequest) -> phone_verify_core::Result<Verification> {
            Err(Error::new(ErrorKind::ProviderUnavailable, "down"))
        }
        async fn check(
            &self,
            _: &Verification,
            _: &CheckRequest,
        ) -> phone_verify_core::Result<CheckOutcome> {
            Err(Error::new(ErrorKind::ProviderUnavailable, "down"))
        }
    }

    fn guard(inner: Arc<dyn PhoneVerifier>, config: GuardConfig) -> Guard {
        Guard::builder(inner)
            .secret(SECRET)
            .config(config)
            .build()
            .unwrap()
    }

    #[tokio::test]
    async fn a_failing_provider_is_no_stopped_attack() {
        // A guard that stops nothing, over a provider that is down: nothing gets through, but
        // nothing was stopped by the guard either.
        let report = simulate(&guard(Arc::new(Down), GuardConfig::off()), 30, 30)
            .await
            .unwrap();
        for wave in &report.waves {
            assert_eq!((wave.attempts, wave.through, wave.denied), (10, 0, 0));
            assert_eq!(wave.failed, 10);
            assert!(!wave.attack_met(), "{wave:?}");
        }
        assert_eq!(report.legit.failed, 30);
        assert!(!report.legit.legit_met());
        let text = report.render();
        assert!(!text.contains("**met**"), "{text}");
        assert!(
            text.contains("30 sends failed otherwise; the first: provider unavailable: down"),
            "{text}"
        );
        let targets = report.targets();
        assert!(targets.iter().all(|t| !t.met), "{targets:?}");
    }

    #[tokio::test]
    async fn the_guard_refusing_is_a_stopped_attack() {
        // The scenario's rules over a provider that answers at once.
        let report = simulate(&guard(Arc::new(Instant_), config()), 16, 300)
            .await
            .unwrap();
        assert!(report.legit.legit_met(), "{:?}", report.legit);
        let [premium, unserved, quiet] = &report.waves[..] else {
            panic!("three waves: {:?}", report.waves);
        };
        assert_eq!((premium.denied, unserved.denied), (100, 100));
        assert!(premium.attack_met() && unserved.attack_met());
        // The quiet region's hourly limit lets its first sends through: 20 of 100 misses.
        assert_eq!(quiet.through, QUIET_REGION_PER_HOUR as usize);
        assert!(!quiet.attack_met(), "{quiet:?}");
        assert_eq!(quiet.share_text(), "20.00%");
    }

    #[test]
    fn a_decision_just_past_its_target_never_reads_as_on_it() {
        let memory = Decisions {
            store: "in memory".to_owned(),
            count: 10,
            rate: 1.0,
            p50: Duration::from_nanos(5_040),
            p99: Duration::from_micros(9),
            round_trips: None,
        };
        assert!(!memory.met());
        assert_eq!(memory.p50_text(), "5.04 µs");
        let on_target = Decisions {
            p50: Duration::from_micros(5),
            ..memory.clone()
        };
        assert!(on_target.met());
        assert_eq!(on_target.p50_text(), "5.0 µs");
        let redis = Decisions {
            round_trips: Some(1.012),
            ..memory
        };
        assert!(!redis.met());
        assert_eq!(redis.round_trips_text(), "1.01");
        // Within 0.01 of one, but "1.01" would not be.
        let close = Decisions {
            round_trips: Some(1.0099),
            ..redis
        };
        assert!(close.met());
        assert_eq!(close.round_trips_text(), "1.0099");
        let wave = Traffic {
            attempts: 100_000,
            through: 1_004,
            ..Traffic::default()
        };
        assert!(!wave.attack_met());
        assert_eq!(wave.share_text(), "1.004%");
    }
}
