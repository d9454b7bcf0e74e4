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
use phone_verify_guard::{Guard, GuardConfig, GuardStore, Limit, MemoryStore, RedisStore};
use phone_verify_sandbox::SandboxHandle;
use phone_verify_verifykit::VerifyKitBuilder;

use crate::stats::percentile;
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

/// What the phase measured.
#[derive(Debug, Default)]
pub(crate) struct PumpingReport {
    /// Legitimate users, and how many the guard refused.
    pub(crate) legit: usize,
    /// Legitimate users refused.
    pub(crate) legit_refused: usize,
    /// Attack attempts per wave: (wave, attempts, messages that got through).
    pub(crate) waves: Vec<(String, usize, usize)>,
    /// Decision latency per store: (store, decisions, decisions/s, p50, p99, round trips per
    /// decision or `None` in memory).
    pub(crate) decisions: Vec<(String, usize, f64, Duration, Duration, Option<f64>)>,
    /// Why a part did not run.
    pub(crate) notes: Vec<String>,
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
    let mut report = PumpingReport {
        legit,
        ..PumpingReport::default()
    };
    // Legitimate users: one send each, from their own address, five to an office /24.
    // Messages each wave got through, and its attempts.
    let mut through = [0_usize; 3];
    let mut attempts = [0_usize; 3];
    // The attack is interleaved with the users: one attack attempt after each user, then the rest.
    let mut attempt = 0;
    for user in 0..legit.max(attack) {
        if user < legit {
            let (_, prefix, digits) = REGIONS[user % REGIONS.len()];
            let phone = format!("{prefix}{:0digits$}", 1000 + user / REGIONS.len()).parse()?;
            let office = u32::try_from(user / 5)?;
            let host = u32::try_from(user % 5)? + 1;
            let ip = IpAddr::V4(Ipv4Addr::from(0x6440_0000 + office * 256 + host));
            let started = guard.start(&StartRequest::sms(phone).end_user_ip(ip)).await;
            if started.is_err() {
                report.legit_refused += 1;
            }
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
            attempts[wave] += 1;
            if guard
                .start(&StartRequest::sms(phone.parse()?).end_user_ip(ip))
                .await
                .is_ok()
            {
                through[wave] += 1;
            }
            attempt += 1;
        }
    }
    let names = [
        "premium-rate range (+44 909 8…), served region".to_owned(),
        "mobile range of an unserved region (+371 20…)".to_owned(),
        format!(
            "mobile range of a quiet served region (+372 5…, {QUIET_REGION_PER_HOUR} per hour)"
        ),
    ];
    for ((name, attempts), through) in names.into_iter().zip(attempts).zip(through) {
        report.waves.push((name, attempts, through));
    }

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
        Err(err) => report
            .notes
            .push(format!("Redis decisions not measured: {err:#}")),
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
) -> Result<(String, usize, f64, Duration, Duration, Option<f64>)> {
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
    Ok((
        name.to_owned(),
        decisions,
        rate,
        percentile(&latencies, 50.0).unwrap_or_default(),
        percentile(&latencies, 99.0).unwrap_or_default(),
        round_trips,
    ))
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
    /// The markdown section.
    pub(crate) fn render(&self) -> String {
        let mut out = String::from("\n### Guard: SMS-pumping simulation\n\n");
        let mut t = Table::new(&[
            ("traffic", Align::Left),
            ("attempts", Align::Right),
            ("got through", Align::Right),
            ("target", Align::Left),
        ]);
        t.row([
            "legitimate users, 8 served regions".to_owned(),
            self.legit.to_string(),
            format!("{} refused", self.legit_refused),
            verdict(self.legit_refused == 0, "0 refused"),
        ]);
        for (wave, attempts, through) in &self.waves {
            #[allow(clippy::cast_precision_loss)]
            let share = *through as f64 / (*attempts).max(1) as f64 * 100.0;
            t.row([
                format!("attack: {wave}"),
                attempts.to_string(),
                format!("{through} ({share:.2}%)"),
                verdict(share <= 1.0, "≤ 1%"),
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
        for (store, n, rate, p50, p99, trips) in &self.decisions {
            let target = match trips {
                None => verdict(*p50 <= Duration::from_micros(5), "p50 ≤ 5 µs"),
                Some(t) => verdict((*t - 1.0).abs() < 0.01, "one round trip"),
            };
            t.row([
                store.clone(),
                n.to_string(),
                format!("{rate:.0}"),
                format!("{:.1} µs", p50.as_secs_f64() * 1e6),
                format!("{:.1} µs", p99.as_secs_f64() * 1e6),
                trips.map_or_else(|| "-".to_owned(), |t| format!("{t:.2}")),
                target,
            ]);
        }
        out.push_str(&t.render());
        let _ = writeln!(
            out,
            "\nThe guard's default rules plus `allow_regions` (the 8 regions of the users, and a \
             quiet ninth, Estonia, with `region_overrides` of {QUIET_REGION_PER_HOUR} per hour), \
             one send per user; every attack attempt from a new IP address, the three waves \
             interleaved with the users. Decisions: one at a time through a \
             verifier that answers at once, a new phone and address each (every counter \
             written); round trips are the script commands (`EVALSHA`, `EVAL`, `SCRIPT`) the Redis server received per decision, from `INFO commandstats`."
        );
        for note in &self.notes {
            let _ = writeln!(out, "\n- {note}");
        }
        out
    }
}

fn verdict(met: bool, target: &str) -> String {
    format!("{}: {target}", if met { "**met**" } else { "**missed**" })
}
