//! The load runner: `n` operations at a fixed concurrency, on two named Tokio runtimes (one
//! for the clients, one for the sandbox) so each side's CPU time can be told apart.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, anyhow};

use crate::procfs::{cpu_since, threads_cpu};
use crate::stats::Batch;

/// Thread-name prefix of the client runtime.
pub(crate) const CLIENT_THREADS: &str = "bench-client";
/// Thread-name prefix of the sandbox runtime.
pub(crate) const SANDBOX_THREADS: &str = "bench-sandbox";
/// Thread-name prefix of the SDK's own thread, which keeps its calls' deadlines
/// (`phone-verify-deadlines`, cut to the 15 bytes Linux keeps of a thread's name). Its CPU
/// time counts as the client's: only the SDK's side uses it.
pub(crate) const SDK_THREADS: &str = "phone-verify-de";

/// A multi-threaded runtime whose threads are named `name`, its blocking threads (those of
/// `spawn_blocking`, e.g. Verigator's user-list decoder) kept until it shuts down.
///
/// Tokio ends a blocking thread left idle for 10 seconds by default, which can be inside a
/// timed slice; the CPU it used since the slice's [`CpuMark`] would then go uncounted. With
/// the threads kept, every thread that ran in a slice is still there to be read at its end.
pub(crate) fn runtime(name: &str, workers: usize) -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .thread_name(name)
        .thread_keep_alive(Duration::MAX)
        .enable_all()
        .build()
        .with_context(|| format!("cannot start the {name} runtime"))
}

/// CPU time of the client's threads (its runtime's and the SDK's deadline thread) and of the
/// sandbox runtime's so far, thread by thread.
#[derive(Clone, Debug)]
pub(crate) struct CpuMark {
    client: HashMap<u32, Duration>,
    sandbox: HashMap<u32, Duration>,
}

impl CpuMark {
    /// Now.
    pub(crate) fn now() -> Self {
        Self {
            client: threads_cpu(&[CLIENT_THREADS, SDK_THREADS]),
            sandbox: threads_cpu(&[SANDBOX_THREADS]),
        }
    }

    /// CPU used since `self`: (client, sandbox), summed thread by thread ([`cpu_since`]): a
    /// thread that exited in between takes only its own time since the mark with it.
    pub(crate) fn elapsed(&self) -> (Duration, Duration) {
        let now = Self::now();
        (
            cpu_since(&self.client, &now.client),
            cpu_since(&self.sandbox, &now.sandbox),
        )
    }
}

/// Runs `op(0)` … `op(n - 1)` with `concurrency` workers on the current runtime, timing each
/// call. Fails with the first operation's error, if any: a benchmark of failing calls measures
/// nothing.
pub(crate) async fn run<F, Fut>(concurrency: usize, n: usize, op: F) -> Result<Batch>
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<()>> + Send + 'static,
{
    let op = Arc::new(op);
    let next = Arc::new(AtomicUsize::new(0));
    let cpu = CpuMark::now();
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency.max(1))
        .map(|_| {
            let op = Arc::clone(&op);
            let next = Arc::clone(&next);
            tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(n / concurrency.max(1) + 1);
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        return Ok::<_, anyhow::Error>(latencies);
                    }
                    let t0 = Instant::now();
                    op(i).await.with_context(|| format!("operation {i}"))?;
                    latencies.push(t0.elapsed());
                }
            })
        })
        .collect();
    let mut latencies = Vec::with_capacity(n);
    let mut first_error = None;
    for worker in workers {
        match worker.await.map_err(|e| anyhow!("worker panicked: {e}"))? {
            Ok(mine) => latencies.extend(mine),
            Err(e) => {
                // Stop the others quickly, keep the first error.
                next.store(n, Ordering::Relaxed);
                first_error.get_or_insert(e);
            }
        }
    }
    let wall = started.elapsed();
    let (client_cpu, server_cpu) = cpu.elapsed();
    if let Some(e) = first_error {
        return Err(e);
    }
    Ok(Batch {
        ops: latencies.len(),
        wall,
        latencies,
        client_cpu,
        server_cpu,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The SDK's deadline thread is counted as the client's: the prefix names it.
    #[test]
    fn the_sdk_thread_prefix_names_the_deadline_thread() {
        use phone_verify_core::ProviderId;
        use phone_verify_core::http::HttpConfig;
        use phone_verify_core::kit::{BaseUrl, HttpClient, HttpRequest, Operation};

        let rt = runtime("test-runner", 1).unwrap();
        // A call to a port nobody listens on: it fails to connect, after its timer is made.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .unwrap()
            .port();
        let base = BaseUrl::parse(&format!("http://127.0.0.1:{port}")).unwrap();
        let client = HttpClient::new(ProviderId::new_static("t"), HttpConfig::default()).unwrap();
        let request = HttpRequest::get(Operation::send("t"), base.join("x"));
        assert!(rt.block_on(client.execute(request)).is_err());
        // A new thread names itself once it runs, a moment after it is spawned: look again
        // until it has, for at most ten seconds.
        let threads = || -> Vec<String> {
            std::fs::read_dir("/proc/self/task")
                .unwrap()
                .flatten()
                .filter_map(|task| std::fs::read_to_string(task.path().join("comm")).ok())
                .collect()
        };
        let until = Instant::now() + Duration::from_secs(10);
        let mut names = threads();
        while !names.iter().any(|name| name.starts_with(SDK_THREADS)) && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(10));
            names = threads();
        }
        assert!(
            names.iter().any(|name| name.starts_with(SDK_THREADS)),
            "no thread named {SDK_THREADS}…: {names:?}"
        );
    }

    /// Spins until this thread has run for `cpu` more.
    fn burn(cpu: Duration) {
        let now = || {
            let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
            Duration::new(
                u64::try_from(t.tv_sec).unwrap(),
                u32::try_from(t.tv_nsec).unwrap(),
            )
        };
        let until = now() + cpu;
        while now() < until {
            std::hint::spin_loop();
        }
    }

    /// A client thread that ran before the mark and exits inside the measurement (as a
    /// blocking-pool thread idle past its keep-alive did) takes only its own time with it, not
    /// the time the other threads spent meanwhile.
    #[test]
    fn a_thread_that_exits_keeps_the_others_cpu() {
        use std::sync::mpsc::channel;

        let (burnt, ready) = channel();
        let (exit, told) = channel::<()>();
        let exiting = std::thread::Builder::new()
            .name(format!("{CLIENT_THREADS}-x"))
            .spawn(move || {
                burn(Duration::from_millis(50));
                burnt.send(()).unwrap();
                told.recv().ok();
            })
            .unwrap();
        ready.recv().unwrap();
        let mark = CpuMark::now();
        exit.send(()).unwrap();
        exiting.join().unwrap();
        let (burnt, ready) = channel();
        let (exit, told) = channel::<()>();
        let worker = std::thread::Builder::new()
            .name(format!("{CLIENT_THREADS}-w"))
            .spawn(move || {
                burn(Duration::from_millis(5));
                burnt.send(()).unwrap();
                told.recv().ok();
            })
            .unwrap();
        ready.recv().unwrap();
        let (client, _) = mark.elapsed();
        exit.send(()).unwrap();
        worker.join().unwrap();
        assert!(client >= Duration::from_millis(5), "{client:?}");
        assert!(client < Duration::from_millis(50), "{client:?}");
    }

    #[test]
    fn runs_every_operation_once() {
        let rt = runtime("test-runner", 2).unwrap();
        let seen = Arc::new((0..100).map(|_| AtomicUsize::new(0)).collect::<Vec<_>>());
        let counted = Arc::clone(&seen);
        let batch = rt
            .block_on(run(8, 100, move |i| {
                let counted = Arc::clone(&counted);
                async move {
                    counted[i].fetch_add(1, Ordering::Relaxed);
                    Ok(())
                }
            }))
            .unwrap();
        assert_eq!(batch.ops, 100);
        assert_eq!(batch.latencies.len(), 100);
        assert!(seen.iter().all(|c| c.load(Ordering::Relaxed) == 1));
    }

    #[test]
    fn fails_with_an_operation_error() {
        let rt = runtime("test-runner", 1).unwrap();
        let err = rt
            .block_on(run(4, 50, |i| async move {
                if i == 17 {
                    Err(anyhow!("boom"))
                } else {
                    Ok(())
                }
            }))
            .unwrap_err();
        assert!(format!("{err:#}").contains("boom"), "{err:#}");
    }
}
