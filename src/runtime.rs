//! The process-wide tokio runtime every network transport runs on, and a way to wait for
//! a future from any thread (a Python thread, a test, or a thread already inside tokio).

use std::future::Future;
use std::sync::OnceLock;

/// How many workers the shared runtime has unless `PROXMOX_SDK_WORKER_THREADS` says:
/// one on a machine of one or two cores, else two. The runtime only drives I/O (the
/// servers run their own; a blocking call waits on its own thread, and Python converts
/// answers on the loop's), which one worker does at well over what one Python thread asks
/// of it; on two cores, where the Python thread needs the other one, a second worker only
/// adds wake-ups and work stealing (benches/README.md: the HTTPS client spends about a
/// tenth less CPU per request with one).
pub fn default_workers(cores: usize) -> usize {
    if cores <= 2 {
        1
    } else {
        2
    }
}

/// The shared multi-thread runtime (built on first use; [`default_workers`] workers,
/// `PROXMOX_SDK_WORKER_THREADS` overrides).
pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        let workers = std::env::var("PROXMOX_SDK_WORKER_THREADS")
            .ok()
            .and_then(|v| v.parse::<usize>().ok())
            .filter(|n| *n > 0)
            .unwrap_or_else(|| {
                default_workers(std::thread::available_parallelism().map_or(1, usize::from))
            });
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .thread_name("proxmox-sdk-io")
            .enable_all()
            .build()
            .expect("building the tokio runtime (threads and an I/O driver) must succeed")
    })
}

/// Runs `fut` on the shared runtime and blocks the calling thread until it finishes.
/// Unlike `Runtime::block_on` this also works on a thread that is itself inside a tokio
/// runtime (the future runs on the shared workers, this thread only waits).
pub fn block_on<F>(fut: F) -> F::Output
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    if tokio::runtime::Handle::try_current().is_err() {
        return runtime().block_on(fut);
    }
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    runtime().spawn(async move {
        let _ = tx.send(fut.await);
    });
    rx.recv()
        .expect("the shared runtime is never shut down while the process runs")
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_worker_on_small_machines_two_on_larger_ones() {
        let got: Vec<usize> = (1..=8).map(super::default_workers).collect();
        assert_eq!(got, [1, 1, 2, 2, 2, 2, 2, 2]);
    }

    #[test]
    fn block_on_from_inside_a_runtime() {
        let inner = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let v = inner.block_on(async { super::block_on(async { 41 + 1 }) });
        assert_eq!(v, 42);
        assert_eq!(super::block_on(async { 7 }), 7);
    }
}
