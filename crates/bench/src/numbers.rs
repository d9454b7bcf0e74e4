//! `PhoneNumber::parse` of numbers the process has not seen: what every `start` with a new
//! phone pays before any request, for traffic from one region and from many.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use phone_verify_core::PhoneNumber;
use phonenumber::metadata::{DATABASE, Metadata};

use crate::stats::{count, fmt_duration};
use crate::table::{Align, Table};

/// Rounds per workload; the table gives their median and range.
const ROUNDS: usize = 5;
/// New numbers parsed per round.
const PER_ROUND: u32 = 20_000;
/// Trailing digits varied to make new numbers: room for every round of every workload.
const VARIED_DIGITS: u32 = 6;

/// One workload's figures.
#[derive(Clone, Debug)]
pub(crate) struct ParseRow {
    /// What traffic it models.
    pub(crate) workload: String,
    /// Regions whose numbers take turns.
    pub(crate) regions: usize,
    /// Threads parsing at once, each its own numbers.
    pub(crate) threads: usize,
    /// Time per parse of each round: the round's wall time over the numbers of all threads.
    pub(crate) per_parse: Vec<Duration>,
    /// Numbers the parse accepted, of all parsed.
    pub(crate) valid: usize,
    /// Numbers parsed.
    pub(crate) parsed: usize,
}

/// A region's example number (mobile if it has one), as calling code and national number.
fn example(meta: &Metadata) -> Option<(u16, String)> {
    let d = meta.descriptors();
    let example = d
        .mobile()
        .or(d.fixed_line())
        .and_then(|d| d.example())
        .filter(|e| e.len() > VARIED_DIGITS as usize)?;
    Some((meta.country_code(), example.to_owned()))
}

/// The examples of the geographic regions, in the order of their ids.
fn examples() -> Vec<(String, (u16, String))> {
    let mut all: Vec<_> = DATABASE
        .iter()
        .filter(|meta| meta.id() != "001")
        .filter_map(|meta| Some((meta.id().to_owned(), example(meta)?)))
        .collect();
    all.sort();
    all
}

/// New numbers: the regions' examples taking turns, their last digits counting up from
/// `next`, which moves past every number made.
fn numbers(regions: &[(u16, String)], count: usize, next: &mut u64) -> Vec<String> {
    let modulus = 10_u64.pow(VARIED_DIGITS);
    let width = VARIED_DIGITS as usize;
    let made = (0..count)
        .map(|i| {
            let (code, example) = &regions[i % regions.len()];
            let serial = (*next + (i / regions.len()) as u64) % modulus;
            let kept = &example[..example.len() - width];
            format!("+{code}{kept}{serial:0width$}")
        })
        .collect();
    *next += count.div_ceil(regions.len()) as u64;
    made
}

/// Parses new numbers for each workload, after one warm-up pass over every region (the
/// patterns a region's first number compiles are a one-time cost of the process).
pub(crate) fn measure() -> Vec<ParseRow> {
    let all = examples();
    let mut next = 0_u64;
    let every: Vec<(u16, String)> = all.iter().map(|(_, e)| e.clone()).collect();
    for number in numbers(&every, every.len() * 4, &mut next) {
        let _ = PhoneNumber::parse(&number);
    }
    let pick = |ids: &[&str]| -> Vec<(u16, String)> {
        all.iter()
            .filter(|(id, _)| ids.contains(&id.as_str()))
            .map(|(_, e)| e.clone())
            .collect()
    };
    // The twenty regions with the most mobile subscribers, roughly: a global consumer app.
    let twenty = pick(&[
        "CN", "IN", "US", "ID", "BR", "RU", "JP", "NG", "BD", "PK", "VN", "PH", "MX", "DE", "TR",
        "EG", "IR", "TH", "GB", "FR",
    ]);
    let workloads = [
        ("one region: Turkey", pick(&["TR"]), 1),
        ("one region: United States", pick(&["US"]), 1),
        ("one region: United Kingdom", pick(&["GB"]), 1),
        ("twenty large regions, taking turns", twenty.clone(), 1),
        ("twenty large regions, two threads at once", twenty, 2),
        ("every region, taking turns", every, 1),
    ];
    workloads
        .into_iter()
        .map(|(name, regions, threads)| {
            eprintln!("  {name}: {} regions", regions.len());
            let mut row = ParseRow {
                workload: name.to_owned(),
                regions: regions.len(),
                threads,
                per_parse: Vec::new(),
                valid: 0,
                parsed: 0,
            };
            for _ in 0..ROUNDS {
                let batches: Vec<Vec<String>> = (0..threads)
                    .map(|_| numbers(&regions, PER_ROUND as usize, &mut next))
                    .collect();
                let started = Instant::now();
                let valid: usize = std::thread::scope(|scope| {
                    let parsing: Vec<_> = batches
                        .iter()
                        .map(|batch| scope.spawn(|| valid_count(batch)))
                        .collect();
                    parsing
                        .into_iter()
                        // A parse that panics fails the bench, as on one thread.
                        .map(|t| {
                            t.join()
                                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                        })
                        .sum()
                });
                let took = started.elapsed();
                let parsed: usize = batches.iter().map(Vec::len).sum();
                row.per_parse
                    .push(took / u32::try_from(parsed).unwrap_or(u32::MAX));
                row.valid += valid;
                row.parsed += parsed;
            }
            row
        })
        .collect()
}

/// Parses `batch`; how many numbers were valid.
fn valid_count(batch: &[String]) -> usize {
    batch
        .iter()
        .filter(|n| PhoneNumber::parse(n).is_ok())
        .count()
}

/// The table and its note.
pub(crate) fn render(rows: &[ParseRow]) -> String {
    let mut t = Table::new(&[
        ("workload", Align::Left),
        ("regions", Align::Right),
        ("threads", Align::Right),
        ("per new number (median of rounds)", Align::Right),
        ("rounds", Align::Right),
        ("valid", Align::Right),
    ]);
    for row in rows {
        let mut sorted = row.per_parse.clone();
        sorted.sort();
        let (Some(low), Some(high)) = (sorted.first(), sorted.last()) else {
            continue;
        };
        t.row([
            row.workload.clone(),
            row.regions.to_string(),
            row.threads.to_string(),
            fmt_duration(sorted[sorted.len() / 2]),
            format!("{}–{}", fmt_duration(*low), fmt_duration(*high)),
            format!("{} of {}", count(row.valid), count(row.parsed)),
        ]);
    }
    let mut out = t.render();
    let _ = write!(
        out,
        "\n`PhoneNumber::parse` of numbers the process has not parsed before: each region's \
         example number (mobile where it has one) with its last {VARIED_DIGITS} digits \
         counting up, the regions taking turns, {rounds} rounds of {per_round} numbers per \
         thread. With two threads, each parses its own numbers at the same time, and the time \
         per number is the round's wall time over both threads' numbers: half the one-thread \
         figure if nothing they share slows them. A warm-up pass over every region runs \
         first: the patterns a region's first number compiles are paid once per process. \
         Numbers the digits made invalid are parsed too.\n",
        rounds = ROUNDS,
        per_round = count(PER_ROUND as usize),
    );
    out
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn every_number_made_is_new() {
        let regions = [(90, "5321234567".to_owned()), (1, "2015550123".to_owned())];
        let mut next = 0;
        let first = numbers(&regions, 1_000, &mut next);
        let second = numbers(&regions, 1_001, &mut next);
        let all: HashSet<&String> = first.iter().chain(&second).collect();
        assert_eq!(all.len(), 2_001, "a number was made twice");
        assert_eq!(first[0], "+905321000000");
        assert_eq!(first[1], "+12015000000");
        assert!(second.iter().step_by(2).all(|n| n.starts_with("+90532")));
    }

    #[test]
    fn the_regions_have_examples() {
        assert!(examples().len() > 200);
    }
}
