//! The process-wide tokio runtime every network transport runs on, and a way to wait for
//! a future from any thread (a Python thread, a test, or a thread already inside tokio).

use std::future::Future;
use std::sync::OnceLock;

/// The shared multi-thread runtime (built on first use; two workers on this class of
/// machine is plenty for I/O-bound work, `PROXMOX_SDK_WORKER_THREADS` overrides).
pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        let workers = std::env::var("PROXMOX_SDK_WORKER_THREADS")
            .ok()
            .and_then(|v| v.parse::<usize>().ok())
            .filter(|n| *n > 0)
            .unwrap_or_else(|| {
                std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 4))
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
    fn block_on_from_inside_a_runtime() {
        let inner = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let v = inner.block_on(async { super::block_on(async { 41 + 1 }) });
        assert_eq!(v, 42);
        assert_eq!(super::block_on(async { 7 }), 7);
    }
}
