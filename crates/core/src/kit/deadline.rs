//! [`Deadline`]: a call's timeout, kept by one process-wide thread.
//!
//! A call's deadline almost never comes: the provider answers first. A Tokio timer costs, for
//! every call, a registration into and a removal from the runtime's timer wheel and a clone of
//! the runtime's handle (a reference count every worker writes), and work in the timer driver
//! each time a worker parks. Here a call writes its deadline into a table of the thread it
//! started on, under that table's lock (uncontended: only that thread writes it, but for a
//! task that moved), and takes it out when it ends; nothing shared between threads is written.
//! One thread, `phone-verify-deadlines`, started on first use, sleeps until the earliest
//! deadline, then reads the tables and wakes the calls whose time is up. A new deadline wakes
//! it only when it comes before the one it sleeps until, which calls with the same timeout
//! never do.
//!
//! Deadlines follow the system's monotonic clock, not Tokio's: a paused Tokio clock neither
//! holds nor jumps them. They fire within about a millisecond of their instant.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError, Weak};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use slab::Slab;

/// The tables of every thread that started a call, and whether the deadline thread runs.
static SCHEDULE: Mutex<Schedule> = Mutex::new(Schedule {
    tables: Vec::new(),
    started: false,
});

/// Wakes the deadline thread early.
static WAKE: Condvar = Condvar::new();

/// Whether the deadline thread runs (it never stops once started).
static STARTED: AtomicBool = AtomicBool::new(false);

/// The instant the deadline thread wakes at, in nanoseconds since [`EPOCH`] (`u64::MAX`: it
/// waits for a first deadline, or it is reading the tables). A deadline earlier than this
/// wakes it.
static NEXT: AtomicU64 = AtomicU64::new(u64::MAX);

/// The origin of [`NEXT`], set when the thread starts.
static EPOCH: OnceLock<Instant> = OnceLock::new();

thread_local! {
    /// The table of the calls started on this thread.
    static TABLE: Arc<Table> = Table::registered();
}

struct Schedule {
    /// Every thread's table, while one of its deadlines exists.
    tables: Vec<Weak<Table>>,
    started: bool,
}

fn schedule() -> MutexGuard<'static, Schedule> {
    // What the lock guards stays consistent through any panic (none is expected).
    SCHEDULE.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Starts the deadline thread unless it runs.
fn start() -> io::Result<()> {
    if STARTED.load(Ordering::Acquire) {
        return Ok(());
    }
    let mut schedule = schedule();
    if !schedule.started {
        EPOCH.get_or_init(Instant::now);
        std::thread::Builder::new()
            .name("phone-verify-deadlines".into())
            .spawn(run)?;
        schedule.started = true;
        STARTED.store(true, Ordering::Release);
    }
    Ok(())
}

/// `at` in nanoseconds since [`EPOCH`] (below `u64::MAX`).
fn nanos(at: Instant) -> u64 {
    let epoch = *EPOCH.get_or_init(Instant::now);
    let since = at.saturating_duration_since(epoch).as_nanos();
    u64::try_from(since).unwrap_or(u64::MAX).min(u64::MAX - 1)
}

/// Wakes the deadline thread if `at` comes before the instant it wakes at.
fn wake_for(at: Instant) {
    let at = nanos(at);
    // Read first: the usual deadline is later, and a read writes nothing shared.
    if at < NEXT.load(Ordering::SeqCst) && at < NEXT.fetch_min(at, Ordering::SeqCst) {
        // Taken so that the thread is either waiting or has not yet read `NEXT`.
        let _schedule = schedule();
        WAKE.notify_one();
    }
}

/// The deadline thread: fires what is due, then sleeps until the next deadline.
fn run() {
    let epoch = *EPOCH.get_or_init(Instant::now);
    let mut schedule = schedule();
    loop {
        // From here on, any new deadline lowers `NEXT` and wakes the thread again.
        NEXT.store(u64::MAX, Ordering::SeqCst);
        let now = Instant::now();
        let mut earliest = u64::MAX;
        let mut due = Vec::new();
        schedule.tables.retain(|table| {
            let Some(table) = table.upgrade() else {
                return false;
            };
            let mut entries = table.lock();
            for (_, entry) in entries.iter_mut().filter(|(_, entry)| !entry.fired) {
                if entry.at <= now {
                    entry.fired = true;
                    due.extend(entry.waker.take());
                } else {
                    earliest = earliest.min(nanos(entry.at));
                }
            }
            true
        });
        let next = NEXT.fetch_min(earliest, Ordering::SeqCst).min(earliest);
        if !due.is_empty() {
            // Woken outside the lock: a waker may run code of its own.
            drop(schedule);
            due.into_iter().for_each(Waker::wake);
            schedule = self::schedule();
            continue;
        }
        schedule = if next == u64::MAX {
            WAKE.wait(schedule).unwrap_or_else(PoisonError::into_inner)
        } else {
            let at = epoch + Duration::from_nanos(next);
            let wait = at.saturating_duration_since(Instant::now());
            let waited = WAKE.wait_timeout(schedule, wait);
            waited.unwrap_or_else(PoisonError::into_inner).0
        };
    }
}

/// The deadlines of the calls started on one thread.
#[derive(Default)]
struct Table(Mutex<Slab<Entry>>);

struct Entry {
    at: Instant,
    fired: bool,
    /// The task to wake when it fires.
    waker: Option<Waker>,
}

impl Table {
    /// A new table the deadline thread reads.
    fn registered() -> Arc<Self> {
        let table = Arc::new(Self::default());
        schedule().tables.push(Arc::downgrade(&table));
        table
    }

    /// This thread's table (a new one while the thread is being torn down).
    fn current() -> Arc<Self> {
        TABLE
            .try_with(Arc::clone)
            .unwrap_or_else(|_| Self::registered())
    }

    fn lock(&self) -> MutexGuard<'_, Slab<Entry>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A call's timer: elapsed once the instant it is set to has passed. Set it with
/// [`set`](Self::set) (again for another instant), poll it with
/// [`poll_elapsed`](Self::poll_elapsed) or [`race`](Self::race); dropping it takes its deadline
/// out. One timer serves every attempt and wait of a call.
pub(crate) struct Deadline {
    table: Arc<Table>,
    /// Its entry in the table, once set.
    key: Option<usize>,
}

impl Deadline {
    /// A timer not yet set (it never elapses before it is). Fails only when the deadline
    /// thread cannot be started.
    pub(crate) fn new() -> io::Result<Self> {
        start()?;
        Ok(Self {
            table: Table::current(),
            key: None,
        })
    }

    /// Sets it to `at`; a timer that had elapsed is pending again unless `at` is the instant
    /// it elapsed for.
    pub(crate) fn set(&mut self, at: Instant) {
        {
            let mut entries = self.table.lock();
            match self.key.and_then(|key| entries.get_mut(key)) {
                Some(entry) if entry.at == at => return,
                Some(entry) => {
                    entry.at = at;
                    entry.fired = false;
                }
                None => {
                    let entry = Entry {
                        at,
                        fired: false,
                        waker: None,
                    };
                    self.key = Some(entries.insert(entry));
                }
            }
        }
        wake_for(at);
    }

    /// `Ready` once the instant it is set to has passed; otherwise `cx` is woken then.
    pub(crate) fn poll_elapsed(&mut self, cx: &Context<'_>) -> Poll<()> {
        let mut entries = self.table.lock();
        let Some(entry) = self.key.and_then(|key| entries.get_mut(key)) else {
            return Poll::Pending;
        };
        if entry.fired {
            return Poll::Ready(());
        }
        if entry
            .waker
            .as_ref()
            .is_some_and(|w| w.will_wake(cx.waker()))
        {
            return Poll::Pending;
        }
        let old = entry.waker.replace(cx.waker().clone());
        // Dropped outside the lock: dropping a waker may run code of its own.
        drop(entries);
        drop(old);
        Poll::Pending
    }

    /// Runs `future` until the timer elapses: `None` when it elapsed first. The future is
    /// polled where it was pinned, never moved. A plain future rather than an `async fn`: one
    /// state machine less to poll on every wake-up of the call.
    pub(crate) fn race<'a, F: Future + ?Sized>(
        &'a mut self,
        mut future: Pin<&'a mut F>,
    ) -> impl Future<Output = Option<F::Output>> + 'a {
        std::future::poll_fn(move |cx| {
            if let Poll::Ready(output) = future.as_mut().poll(cx) {
                return Poll::Ready(Some(output));
            }
            self.poll_elapsed(cx).map(|()| None)
        })
    }
}

impl Drop for Deadline {
    fn drop(&mut self) {
        if let Some(key) = self.key {
            let entry = self.table.lock().try_remove(key);
            // Dropped outside the lock, with its waker.
            drop(entry);
        }
    }
}

/// `start + duration`, or a day past `start` where that sum overflows `Instant` (a timeout
/// too long to come; the call ends long before).
pub(crate) fn after(start: Instant, duration: Duration) -> Instant {
    start
        .checked_add(duration)
        .unwrap_or_else(|| start + Duration::from_secs(86_400))
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Deadline {
        fn at(at: Instant) -> io::Result<Self> {
            let mut deadline = Self::new()?;
            deadline.set(at);
            Ok(deadline)
        }
    }

    /// Waits for `deadline` to elapse; panics if it has not within 10 s (every deadline of
    /// these tests comes well before).
    async fn elapsed(deadline: &mut Deadline) {
        let fired = std::future::poll_fn(|cx| deadline.poll_elapsed(cx));
        tokio::time::timeout(Duration::from_secs(10), fired)
            .await
            .expect("the deadline did not fire within 10 s");
    }

    fn pending(deadline: &mut Deadline) -> bool {
        let cx = Context::from_waker(Waker::noop());
        deadline.poll_elapsed(&cx).is_pending()
    }

    /// A deadline's time on the thread's scale stays below `u64::MAX`, which means "none":
    /// however far away, it is a deadline the thread keeps.
    #[test]
    fn a_far_deadline_is_never_taken_for_none() {
        let epoch = *EPOCH.get_or_init(Instant::now);
        let far = [
            epoch + Duration::from_secs(u64::MAX / 1_000_000_000),
            epoch + Duration::from_secs(u64::MAX / 1_000_000_000 + 1),
            epoch + Duration::from_secs(u64::MAX / 100_000_000),
        ];
        for at in far {
            assert!(nanos(at) < u64::MAX, "{:?}", at.duration_since(epoch));
        }
        assert_eq!(nanos(epoch), 0);
        assert_eq!(nanos(epoch + Duration::from_nanos(7)), 7);
    }

    #[tokio::test]
    async fn fires_at_its_instant_and_not_before() {
        let start = Instant::now();
        let mut deadline = Deadline::at(start + Duration::from_millis(50)).unwrap();
        elapsed(&mut deadline).await;
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(50), "fired early: {took:?}");
    }

    #[tokio::test]
    async fn an_earlier_deadline_wakes_the_sleeping_thread() {
        // The thread sleeps until a far deadline; a near one must still fire on time.
        let _far = Deadline::at(Instant::now() + Duration::from_secs(3600)).unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        let start = Instant::now();
        let mut near = Deadline::at(start + Duration::from_millis(30)).unwrap();
        elapsed(&mut near).await;
        assert!(start.elapsed() >= Duration::from_millis(30));
    }

    #[tokio::test]
    async fn a_reset_timer_waits_for_its_new_instant() {
        let mut deadline = Deadline::at(Instant::now() + Duration::from_millis(10)).unwrap();
        elapsed(&mut deadline).await;
        let reset = Instant::now();
        deadline.set(reset + Duration::from_millis(80));
        assert!(pending(&mut deadline), "a reset timer kept its old firing");
        elapsed(&mut deadline).await;
        assert!(reset.elapsed() >= Duration::from_millis(80));
    }

    #[tokio::test]
    async fn a_timer_set_again_to_the_instant_it_fired_for_stays_elapsed() {
        let at = Instant::now() + Duration::from_millis(5);
        let mut deadline = Deadline::at(at).unwrap();
        elapsed(&mut deadline).await;
        deadline.set(at);
        assert!(!pending(&mut deadline));
    }

    #[test]
    fn a_dropped_timer_leaves_no_deadline_behind() {
        let deadline = Deadline::at(Instant::now() + Duration::from_secs(3600)).unwrap();
        let (table, key) = (deadline.table.clone(), deadline.key.unwrap());
        assert!(table.lock().contains(key));
        drop(deadline);
        assert!(!table.lock().contains(key));
    }

    #[test]
    fn a_timer_moved_to_another_thread_is_taken_out_of_its_own_table() {
        let deadline = Deadline::at(Instant::now() + Duration::from_secs(3600)).unwrap();
        let (table, key) = (deadline.table.clone(), deadline.key.unwrap());
        std::thread::spawn(move || drop(deadline)).join().unwrap();
        assert!(!table.lock().contains(key));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn timers_of_many_threads_fire_in_whatever_order_they_were_set() {
        let start = Instant::now();
        let calls = (0..64u64).map(|i| {
            tokio::spawn(async move {
                let at = start + Duration::from_millis(64 - i);
                let mut deadline = Deadline::at(at).unwrap();
                elapsed(&mut deadline).await;
                assert!(Instant::now() >= at, "fired early");
            })
        });
        for call in calls.collect::<Vec<_>>() {
            call.await.unwrap();
        }
    }

    /// The CPU time, in clock ticks, the deadline thread of this process has used so far.
    #[cfg(target_os = "linux")]
    fn deadline_thread_ticks() -> u64 {
        let tasks = std::fs::read_dir("/proc/self/task").unwrap();
        for task in tasks {
            let path = task.unwrap().path();
            let comm = std::fs::read_to_string(path.join("comm")).unwrap_or_default();
            // Linux keeps the first 15 bytes of a thread's name.
            if comm.trim_end() != &"phone-verify-deadlines"[..15] {
                continue;
            }
            let stat = std::fs::read_to_string(path.join("stat")).unwrap();
            // After the command's closing parenthesis: state is field 3, utime 14, stime 15.
            let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
            return fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
        }
        panic!("no phone-verify-deadlines thread");
    }

    /// While its only deadline is far off, the thread sleeps: over a second it uses next to
    /// no CPU (a thread that polled its deadlines in a loop would use most of a core).
    #[cfg(target_os = "linux")]
    #[test]
    fn the_thread_sleeps_until_a_far_deadline() {
        let _far = Deadline::at(Instant::now() + Duration::from_secs(3600)).unwrap();
        std::thread::sleep(Duration::from_millis(50));
        let before = deadline_thread_ticks();
        std::thread::sleep(Duration::from_secs(1));
        let used = deadline_thread_ticks() - before;
        assert!(
            used < 10,
            "the deadline thread used {used} ticks of CPU in 1 s"
        );
    }

    #[test]
    fn a_timeout_past_the_clocks_range_is_a_far_instant() {
        let start = Instant::now();
        assert!(after(start, Duration::MAX) > start + Duration::from_secs(3600));
        assert_eq!(
            after(start, Duration::from_secs(1)),
            start + Duration::from_secs(1)
        );
    }
}
