//! What `/proc` tells: the machine, the load, this process's memory and its threads' CPU time.

use std::collections::HashMap;
use std::fs;
use std::time::Duration;

/// The machine a run happened on.
#[derive(Clone, Debug)]
pub(crate) struct Machine {
    /// Online CPUs.
    pub(crate) cpus: usize,
    /// `model name` of the first CPU in `/proc/cpuinfo`.
    pub(crate) cpu_model: String,
    /// Total memory, bytes.
    pub(crate) memory: u64,
    /// The kernel release.
    pub(crate) kernel: String,
}

impl Machine {
    /// Reads the machine's description.
    pub(crate) fn read() -> Self {
        let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let meminfo = fs::read_to_string("/proc/meminfo").unwrap_or_default();
        Self {
            cpus: std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
            cpu_model: cpu_model(&cpuinfo).unwrap_or_else(|| "unknown".to_owned()),
            memory: status_kib(&meminfo, "MemTotal").unwrap_or(0) * 1024,
            kernel: fs::read_to_string("/proc/sys/kernel/osrelease")
                .map_or_else(|_| "unknown".to_owned(), |s| s.trim().to_owned()),
        }
    }
}

/// The `model name` of the first processor in a `/proc/cpuinfo` text.
pub(crate) fn cpu_model(cpuinfo: &str) -> Option<String> {
    cpuinfo.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key.trim() == "model name").then(|| value.trim().to_owned())
    })
}

/// The 1, 5 and 15-minute load averages.
pub(crate) fn load_average() -> Option<(f64, f64, f64)> {
    let text = fs::read_to_string("/proc/loadavg").ok()?;
    let mut parts = text.split_whitespace().map(str::parse::<f64>);
    Some((
        parts.next()?.ok()?,
        parts.next()?.ok()?,
        parts.next()?.ok()?,
    ))
}

/// A `Key:   123 kB` value of `/proc/self/status` or `/proc/meminfo`, in KiB.
pub(crate) fn status_kib(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let (k, v) = line.split_once(':')?;
        if k.trim() != key {
            return None;
        }
        v.split_whitespace().next()?.parse().ok()
    })
}

/// This process's peak resident set (`VmHWM`), bytes.
pub(crate) fn peak_rss() -> Option<u64> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    status_kib(&status, "VmHWM").map(|kib| kib * 1024)
}

/// This process's current resident set (`VmRSS`), bytes.
pub(crate) fn current_rss() -> Option<u64> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    status_kib(&status, "VmRSS").map(|kib| kib * 1024)
}

/// Resets `VmHWM` to the current RSS (`echo 5 > /proc/self/clear_refs`); false if the kernel
/// refused.
pub(crate) fn reset_peak_rss() -> bool {
    fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// CPU time used so far by each of this process's threads whose name starts with one of
/// `prefixes` (Tokio runtimes name their threads), by thread id:
/// `/proc/self/task/*/schedstat` (nanoseconds), or `stat`'s `utime + stime` (clock ticks,
/// assumed 100 Hz) where schedstat is missing. A thread that has exited is in no reading after
/// it: compare readings thread by thread ([`cpu_since`]), never by their totals.
pub(crate) fn threads_cpu(prefixes: &[&str]) -> HashMap<u32, Duration> {
    let mut threads = HashMap::new();
    let Ok(tasks) = fs::read_dir("/proc/self/task") else {
        return threads;
    };
    for task in tasks.flatten() {
        let Some(id) = task.file_name().to_str().and_then(|id| id.parse().ok()) else {
            continue;
        };
        let path = task.path();
        let name = fs::read_to_string(path.join("comm")).unwrap_or_default();
        if !prefixes
            .iter()
            .any(|prefix| name.trim_end().starts_with(prefix))
        {
            continue;
        }
        let cpu = fs::read_to_string(path.join("schedstat"))
            .ok()
            .and_then(|s| schedstat_ns(&s))
            .map(Duration::from_nanos)
            .or_else(|| {
                fs::read_to_string(path.join("stat"))
                    .ok()
                    .and_then(|s| stat_ticks(&s))
                    .map(|ticks| Duration::from_millis(ticks * 10))
            })
            .unwrap_or_default();
        threads.insert(id, cpu);
    }
    threads
}

/// The CPU time the threads of reading `now` used since reading `before` (both from
/// [`threads_cpu`]), summed thread by thread: a thread in both, what it added; a thread new
/// since `before` (or an id reused by a new thread, whose time is below the old one's), all
/// of its time. A thread that exited in between counts up to its last reading, `before`: its
/// time before then is no part of the difference, so it never cancels the others' time as a
/// difference of totals would (the exited thread's whole time subtracted, the others' wiped).
pub(crate) fn cpu_since(before: &HashMap<u32, Duration>, now: &HashMap<u32, Duration>) -> Duration {
    now.iter()
        .map(|(id, cpu)| {
            before
                .get(id)
                .and_then(|earlier| cpu.checked_sub(*earlier))
                .unwrap_or(*cpu)
        })
        .sum()
}

/// The run time (first field, ns) of a `schedstat` line.
pub(crate) fn schedstat_ns(text: &str) -> Option<u64> {
    text.split_whitespace().next()?.parse().ok()
}

/// `utime + stime` (fields 14 and 15) of a `/proc/.../stat` line, in clock ticks. The command
/// name in parentheses may contain spaces, so fields are counted after the last `)`.
pub(crate) fn stat_ticks(text: &str) -> Option<u64> {
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (state): utime is field 14, stime 15.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// Bytes as MiB with one decimal.
#[allow(clippy::cast_precision_loss)]
pub(crate) fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_proc_texts() {
        let cpuinfo = "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\nflags\t: x\n\nprocessor\t: 1\nmodel name\t: other\n";
        assert_eq!(cpu_model(cpuinfo).as_deref(), Some("AMD EPYC 7B13"));
        assert_eq!(cpu_model("nothing"), None);
        let status = "Name:\tbench\nVmPeak:\t  200 kB\nVmHWM:\t   12345 kB\nVmRSS:\t 1000 kB\n";
        assert_eq!(status_kib(status, "VmHWM"), Some(12345));
        assert_eq!(status_kib(status, "VmRSS"), Some(1000));
        assert_eq!(status_kib(status, "Vm"), None);
        assert_eq!(schedstat_ns("77957064 21340107 185\n"), Some(77_957_064));
        let stat =
            "1931 (tokio (rt) 1) S 1930 1931 1931 0 -1 4194560 6417 58610 0 10 2 5 39 15 20 0 1 0";
        assert_eq!(stat_ticks(stat), Some(7));
        assert_eq!(mib(3 * 1024 * 1024 / 2), "1.5 MiB");
    }

    #[test]
    fn cpu_is_compared_thread_by_thread() {
        let ms = Duration::from_millis;
        let before = HashMap::from([(1, ms(50)), (2, ms(10)), (3, ms(40))]);
        // Thread 1 exited; 2 ran 5 ms more; 3's id went to a new thread that ran 2 ms; 4 is new.
        let now = HashMap::from([(2, ms(15)), (3, ms(2)), (4, ms(1))]);
        assert_eq!(cpu_since(&before, &now), ms(8));
        assert_eq!(cpu_since(&HashMap::new(), &now), ms(18));
        assert_eq!(cpu_since(&before, &HashMap::new()), Duration::ZERO);
        let mine = threads_cpu(&[""]);
        assert!(!mine.is_empty(), "every thread's name starts with \"\"");
        assert!(threads_cpu(&["no thread is named so"]).is_empty());
    }

    #[test]
    fn this_process_is_readable() {
        assert!(peak_rss().is_some_and(|b| b > 0));
        assert!(current_rss().is_some_and(|b| b > 0));
        assert!(Machine::read().cpus >= 1);
    }
}
