//! What a verifier logs while the log check runs: every `tracing` span and event, at every
//! level, as text. The check's own calls log to a subscriber set for its future; the tasks and
//! threads the verifier spawns, which that subscriber does not reach, log to a process-wide
//! one the suite sets once, which writes into the logs being captured.

use std::fmt::{self, Write as _};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::Duration;

use tracing::field::{Field, Visit};
use tracing::level_filters::LevelFilter;
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Dispatch, Event, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Layer};

/// How long a capture stays open after the flow, for the tasks and threads it left running.
const SETTLE: Duration = Duration::from_millis(100);

/// A `tracing` layer that writes every span's and event's fields, at every level, as text.
#[derive(Clone, Default)]
pub(super) struct Log(Arc<Mutex<String>>);

impl Log {
    pub(super) fn text(&self) -> String {
        lock(&self.0).clone()
    }

    /// How long the text is so far, in bytes: where what is logged next begins.
    pub(super) fn len(&self) -> usize {
        lock(&self.0).len()
    }

    /// Appends `lines`, formatted before: no lock is held while a value is formatted, so a
    /// value whose `Debug` logs in turn finds none taken.
    fn append(&self, lines: &str) {
        lock(&self.0).push_str(lines);
    }
}

impl<S: Subscriber> Layer<S> for Log {
    fn on_new_span(&self, attrs: &Attributes<'_>, _: &Id, _: Context<'_, S>) {
        self.append(&Fields::of(|fields| attrs.record(fields)));
    }

    fn on_record(&self, _: &Id, values: &Record<'_>, _: Context<'_, S>) {
        self.append(&Fields::of(|fields| values.record(fields)));
    }

    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        self.append(&Fields::of(|fields| event.record(fields)));
    }
}

/// Writes fields as `name=value` lines.
#[derive(Default)]
struct Fields(String);

impl Fields {
    /// The lines of the fields `record` visits.
    fn of(record: impl FnOnce(&mut Self)) -> String {
        let mut fields = Self::default();
        record(&mut fields);
        fields.0
    }
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        let _ = writeln!(self.0, "{}={value}", field.name());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let _ = writeln!(self.0, "{}={value:?}", field.name());
    }
}

/// A log being captured, and the Tokio runtime its check runs on (`None`: outside one).
struct Active {
    id: u64,
    runtime: Option<tokio::runtime::Id>,
    log: Log,
}

/// The logs being captured now.
static ACTIVE: Mutex<Vec<Active>> = Mutex::new(Vec::new());
/// How many logs are being captured: at 0 the process-wide subscriber records nothing.
static CAPTURING: AtomicUsize = AtomicUsize::new(0);
/// The next capture's id.
static NEXT_CAPTURE: AtomicU64 = AtomicU64::new(1);
/// Whether the process-wide subscriber is the suite's: tried once per process, on first use.
static PROCESS_WIDE: OnceLock<bool> = OnceLock::new();

/// A log receiving what the process-wide subscriber records, until dropped.
pub(super) struct Capture {
    id: u64,
}

impl Capture {
    /// Starts writing into `log` what is logged away from the check's own future: in a task
    /// of the runtime the check runs on, or in a thread outside any runtime (a task of another
    /// runtime belongs to another test). Sets the suite's process-wide subscriber first, once
    /// per process; `None` when the process has a global subscriber of its own, which the
    /// suite cannot share.
    pub(super) fn start(log: &Log) -> Option<Self> {
        let ours = *PROCESS_WIDE.get_or_init(|| {
            tracing::dispatcher::set_global_default(Dispatch::new(Forward)).is_ok()
        });
        if !ours {
            return None;
        }
        let id = NEXT_CAPTURE.fetch_add(1, Ordering::Relaxed);
        let runtime = tokio::runtime::Handle::try_current()
            .ok()
            .map(|handle| handle.id());
        lock(&ACTIVE).push(Active {
            id,
            runtime,
            log: log.clone(),
        });
        CAPTURING.fetch_add(1, Ordering::SeqCst);
        Some(Self { id })
    }

    /// Lets what the flow left running log for a moment (the runtime's ready tasks, then
    /// [`SETTLE`]), then stops the capture.
    pub(super) async fn settle(self) {
        if tokio::runtime::Handle::try_current().is_ok() {
            for _ in 0..16 {
                tokio::task::yield_now().await;
            }
            tokio::time::sleep(SETTLE).await;
        }
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        let mut active = lock(&ACTIVE);
        if let Some(at) = active.iter().position(|a| a.id == self.id) {
            active.swap_remove(at);
            CAPTURING.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// The suite's process-wide subscriber: writes every span's and event's fields into the logs
/// being captured whose runtime it runs on (all of them from outside a runtime), and records
/// nothing while none is.
///
/// `tracing` passes an event logged while another is dispatched (by a value's `Debug`) to this
/// subscriber again, on the same thread, when no scoped subscriber is set anywhere: so no lock
/// is held while fields are formatted.
struct Forward;

impl Forward {
    /// The logs being captured whose runtime this thread runs on (all of them from outside a
    /// runtime), cloned out of [`ACTIVE`], whose lock is released on return.
    fn logs() -> Vec<Log> {
        let runtime = tokio::runtime::Handle::try_current()
            .ok()
            .map(|handle| handle.id());
        lock(&ACTIVE)
            .iter()
            .filter(|a| runtime.is_none() || a.runtime.is_none() || a.runtime == runtime)
            .map(|a| a.log.clone())
            .collect()
    }

    /// Writes the fields `record` visits into [`logs`](Self::logs), formatted once, with no
    /// lock held.
    fn write(record: impl FnOnce(&mut Fields)) {
        let logs = Self::logs();
        if logs.is_empty() {
            return;
        }
        let lines = Fields::of(record);
        for log in &logs {
            log.append(&lines);
        }
    }
}

/// Ids of the spans [`Forward`] records (never 0).
static NEXT_SPAN: AtomicU64 = AtomicU64::new(1);

impl Subscriber for Forward {
    fn register_callsite(&self, _: &'static Metadata<'static>) -> Interest {
        // Asked again each time: whether a log is being captured changes.
        Interest::sometimes()
    }

    fn enabled(&self, _: &Metadata<'_>) -> bool {
        CAPTURING.load(Ordering::Relaxed) > 0
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(LevelFilter::TRACE)
    }

    fn new_span(&self, span: &Attributes<'_>) -> Id {
        Self::write(|fields| span.record(fields));
        Id::from_u64(NEXT_SPAN.fetch_add(1, Ordering::Relaxed))
    }

    fn record(&self, _: &Id, values: &Record<'_>) {
        Self::write(|fields| values.record(fields));
    }

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        Self::write(|fields| event.record(fields));
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use tracing_subscriber::layer::SubscriberExt;

    use super::*;

    #[test]
    fn the_log_records_every_level_and_span_fields() {
        let log = Log::default();
        let dispatch = Dispatch::new(tracing_subscriber::registry().with(log.clone()));
        tracing::dispatcher::with_default(&dispatch, || {
            let span = tracing::trace_span!("call", phone = tracing::field::Empty);
            span.record("phone", "+90 532 000 00 12");
            tracing::debug!(code = %"123456", "checked");
        });
        let text = log.text();
        assert!(text.contains("phone=+90 532 000 00 12"), "{text}");
        assert!(text.contains("code=123456"), "{text}");
        assert!(text.contains("message=checked"), "{text}");
    }

    /// Shows itself once another thread has written into `self.0`, which it waits for.
    struct WaitsForAWrite(Log);

    impl fmt::Debug for WaitsForAWrite {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            let log = self.0.clone();
            std::thread::spawn(move || log.append("from a thread\n"))
                .join()
                .expect("the thread ends");
            f.write_str("waited")
        }
    }

    #[test]
    fn the_log_holds_no_lock_while_a_value_is_formatted() {
        let log = Log::default();
        let value = WaitsForAWrite(log.clone());
        let layer = log.clone();
        let (done, finished) = std::sync::mpsc::channel();
        // On a thread of its own: a deadlock holds it, and this one stops waiting.
        std::thread::spawn(move || {
            let dispatch = Dispatch::new(tracing_subscriber::registry().with(layer));
            tracing::dispatcher::with_default(&dispatch, || tracing::info!(value = ?value));
            let _ = done.send(());
        });
        finished
            .recv_timeout(Duration::from_secs(30))
            .expect("the event is recorded: the log's lock is free while its value is formatted");
        assert_eq!(log.text(), "from a thread\nvalue=waited\n");
    }

    #[test]
    fn the_process_wide_subscriber_writes_into_the_logs_of_its_runtime_or_of_none() {
        let own = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let other = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let (ours, theirs) = (Log::default(), Log::default());
        // Ids no capture takes: these entries are this test's alone.
        let ids = [u64::MAX, u64::MAX - 1];
        for (id, runtime, log) in [(ids[0], &own, &ours), (ids[1], &other, &theirs)] {
            lock(&ACTIVE).push(Active {
                id,
                runtime: Some(runtime.handle().id()),
                log: log.clone(),
            });
        }
        let write = |line: &str| {
            for log in Forward::logs() {
                log.append(&format!("{line}\n"));
            }
        };
        {
            let _task = own.enter();
            write("from a task");
        }
        write("from a thread");
        lock(&ACTIVE).retain(|a| !ids.contains(&a.id));
        // A task of the check's runtime reaches its log only; a thread of no runtime, both.
        assert_eq!(ours.text(), "from a task\nfrom a thread\n");
        assert_eq!(theirs.text(), "from a thread\n");
    }
}
