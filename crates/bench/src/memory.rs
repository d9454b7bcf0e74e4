//! What an application holds per pending verification: the [`Verification`] handle in memory
//! (its own size and the heap it owns) and as JSON (what it stores between requests), and what
//! writing and reading that JSON costs.

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use phone_verify_core::{Channel, StartRequest, Verification};

use crate::stats::fmt_duration;
use crate::table::{Align, Table};
use crate::targets::{Phones, Target};

/// Rounds of each JSON timing.
const ROUNDS: usize = 5;
/// Calls per round.
const PER_ROUND: u32 = 20_000;

/// One provider's handle.
#[derive(Clone, Debug)]
pub(crate) struct HandleRow {
    /// Provider id.
    pub(crate) provider: &'static str,
    /// `size_of::<Verification>()`.
    pub(crate) inline: usize,
    /// Bytes of the heap the handle owns (its strings, map entries), counted by capacity.
    pub(crate) heap: usize,
    /// Its JSON (`Verification::to_json`).
    pub(crate) json: usize,
    /// `to_json` per call, each round's.
    pub(crate) write: Vec<Duration>,
    /// `Verification::from_json` per call, each round's.
    pub(crate) read: Vec<Duration>,
}

/// Starts one SMS verification through the SDK and measures its handle.
pub(crate) async fn measure(target: &Arc<dyn Target>, phones: &Phones) -> Result<HandleRow> {
    let request =
        StartRequest::sms(phones.next()?).end_user_ip(IpAddr::V4(Ipv4Addr::new(203, 0, 113, 7)));
    let handle = target
        .verifier()
        .start(&request)
        .await
        .with_context(|| format!("{}: start", target.name()))?;
    let json = handle.to_json()?;
    // Counted as read back from its JSON, the way a handle that crossed requests or processes
    // is held: its provider id and extras' keys owned, where the started one borrows them.
    let read_back = Verification::from_json(&json)?;
    let (write, read) = json_times(&read_back, &json)?;
    Ok(HandleRow {
        provider: target.name(),
        inline: std::mem::size_of::<Verification>(),
        heap: heap_bytes(&read_back),
        json: json.len(),
        write,
        read,
    })
}

/// Per call, round by round: `handle.to_json()`, then `Verification::from_json(json)`, the
/// rounds taking turns. Its phone number is found in the process's memo, as on the instance
/// that started it.
fn json_times(handle: &Verification, json: &str) -> Result<(Vec<Duration>, Vec<Duration>)> {
    let (mut write, mut read) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let started = Instant::now();
        for _ in 0..PER_ROUND {
            black_box(black_box(handle).to_json()?);
        }
        write.push(started.elapsed() / PER_ROUND);
        let started = Instant::now();
        for _ in 0..PER_ROUND {
            black_box(Verification::from_json(black_box(json))?);
        }
        read.push(started.elapsed() / PER_ROUND);
    }
    Ok((write, read))
}

/// The median of `times` and their range, for a table.
fn median_and_range(times: &[Duration]) -> (String, String) {
    let mut sorted = times.to_vec();
    sorted.sort_unstable();
    match (sorted.first(), sorted.get(sorted.len() / 2), sorted.last()) {
        (Some(low), Some(median), Some(high)) => (
            fmt_duration(*median),
            format!("{}–{}", fmt_duration(*low), fmt_duration(*high)),
        ),
        _ => ("—".to_owned(), "—".to_owned()),
    }
}

/// The heap a handle owns, counted field by field: the capacity of every string it holds on
/// the heap (the provider id, the reference, an unknown channel's name, the reverse flow's
/// texts) and what its extras own ([`Extras::heap_bytes`](phone_verify_core::Extras::heap_bytes):
/// their entries, owned keys and string values). The phone number and the times are inline.
/// A lower bound: the allocator's rounding is not counted.
fn heap_bytes(handle: &Verification) -> usize {
    let channel = match &handle.channel {
        Channel::Other(name) => name.capacity(),
        _ => 0,
    };
    let reverse = handle.reverse.as_ref().map_or(0, |flow| {
        [&flow.deeplink, &flow.qr_code]
            .into_iter()
            .flatten()
            .map(String::capacity)
            .sum()
    });
    handle.provider.as_str().len()
        + handle.reference.capacity()
        + channel
        + reverse
        + handle.extras.heap_bytes()
}

/// The section of the report.
pub(crate) fn render(rows: &[HandleRow]) -> String {
    let mut t = Table::new(&[
        ("provider", Align::Left),
        ("`size_of::<Verification>()`", Align::Right),
        ("heap it owns (≈)", Align::Right),
        ("JSON (`to_json`)", Align::Right),
        ("≈ per 100,000 pending in memory", Align::Right),
        ("`to_json` (median of rounds)", Align::Right),
        ("rounds", Align::Right),
        ("`from_json` (median of rounds)", Align::Right),
        ("rounds", Align::Right),
    ]);
    for r in rows {
        let per = (r.inline + r.heap) * 100_000;
        let (write, write_rounds) = median_and_range(&r.write);
        let (read, read_rounds) = median_and_range(&r.read);
        t.row([
            r.provider.to_owned(),
            format!("{} B", r.inline),
            format!("{} B", r.heap),
            format!("{} B", r.json),
            format!("{:.1} MiB", mib_f(per)),
            write,
            write_rounds,
            read,
            read_rounds,
        ]);
    }
    let mut out = t.render();
    out.push_str(
        "\nOne SMS verification started through the SDK per provider, counted as read back from \
         its JSON. The heap figure adds up the capacity of every string the handle keeps on the \
         heap (provider id, reference, extras' keys and values) and of the extras' entries (the \
         phone number and the times are inline): a lower bound, since the allocator rounds each \
         allocation up. An application that keeps the handle between requests stores the JSON \
         (in its session or database) or holds the value. The two times are per call of \
         `to_json` and of `Verification::from_json` on that handle, 5 rounds of 20,000 calls \
         each, the two taking turns; the handle's phone number is found in the process's memo of \
         parsed numbers, as on the instance that started it.\n",
    );
    out
}

#[allow(clippy::cast_precision_loss)]
fn mib_f(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use phone_verify_core::ProviderId;

    #[test]
    fn times_read_as_their_median_and_range() {
        let ns = Duration::from_nanos;
        assert_eq!(
            median_and_range(&[ns(900), ns(700), ns(800)]),
            ("800 ns".to_owned(), "700 ns–900 ns".to_owned())
        );
        assert_eq!(median_and_range(&[]), ("—".to_owned(), "—".to_owned()));
    }

    #[test]
    fn heap_counts_every_string_of_the_handle() {
        // One creation time for both: its text length varies with the clock's fraction.
        let at = time::OffsetDateTime::UNIX_EPOCH;
        let handle = Verification::new(ProviderId::new_static("acme"), "ref-1", Channel::Sms)
            .with_created_at(at);
        let bare = heap_bytes(&handle);
        let longer = Verification::new(
            ProviderId::new_static("acme"),
            "ref-1-and-more",
            Channel::Sms,
        )
        .with_created_at(at);
        assert_eq!(heap_bytes(&longer), bare + "-and-more".len());
        assert!(bare >= "acme".len() + "ref-1".len());
        let with_extra = handle
            .clone()
            .with_phone("+905321234567".parse().unwrap())
            .with_extra("service_sid", "VA0123");
        let extras = with_extra.extras.heap_bytes();
        assert!(
            extras
                >= size_of::<(phone_verify_core::ExtraKey, serde_json::Value)>() + "VA0123".len(),
            "an extra's entry and value are on the heap"
        );
        assert_eq!(
            heap_bytes(&with_extra),
            bare + extras,
            "the phone number is inline, the extras are counted"
        );
    }
}
