//! Async calls from Python: a Rust future runs on the shared runtime and resolves an
//! asyncio future of the calling loop.
//!
//! Completions are queued per event loop and wake it without the GIL: a byte on a socket
//! pair whose reading end the loop watches (`loop.add_reader`), so a worker never waits for
//! the GIL and never hands it over; the loop settles every queued answer in one callback.
//! Where a loop cannot watch a socket (Windows' proactor loop), a worker takes the GIL
//! once per batch for `call_soon_threadsafe`. Those completions are counted, and an
//! `atexit` hook waits for them: a thread that re-takes the GIL while the interpreter
//! finalizes aborts the process.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

static IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);
static CLOSING: AtomicBool = AtomicBool::new(false);
/// Native calls started and not yet finished or cancelled (a debugging aid for tests).
static RUNNING: AtomicUsize = AtomicUsize::new(0);

/// Counts one native call from its start until its future finishes or is dropped (a
/// cancelled call's future is dropped when the runtime aborts its task).
struct Running;

impl Running {
    fn start() -> Running {
        RUNNING.fetch_add(1, Ordering::SeqCst);
        Running
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        RUNNING.fetch_sub(1, Ordering::SeqCst);
    }
}

/// How many native async calls are running now: started and neither finished nor
/// cancelled. After `asyncio.wait_for` times a call out, this drops back as the native
/// request is dropped.
#[pyfunction]
pub fn native_calls_in_flight() -> usize {
    RUNNING.load(Ordering::SeqCst)
}

/// A completion allowed to touch Python (none once the interpreter is exiting).
struct Flight;

impl Flight {
    fn enter() -> Option<Flight> {
        IN_FLIGHT.fetch_add(1, Ordering::SeqCst);
        if CLOSING.load(Ordering::SeqCst) {
            IN_FLIGHT.fetch_sub(1, Ordering::SeqCst);
            return None;
        }
        Some(Flight)
    }
}

impl Drop for Flight {
    fn drop(&mut self) {
        IN_FLIGHT.fetch_sub(1, Ordering::SeqCst);
    }
}

/// `atexit` hook: stop starting completions and wait (GIL released, at most 5 s) for the
/// ones inside Python to leave.
#[pyfunction]
pub fn _drain_async_calls(py: Python<'_>) {
    CLOSING.store(true, Ordering::SeqCst);
    py.detach(|| {
        let deadline = Instant::now() + Duration::from_secs(5);
        while IN_FLIGHT.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
    });
}

/// An answer waiting for its loop: the asyncio future and how to make its value.
type Settle = (
    Py<PyAny>,
    Box<dyn FnOnce(Python<'_>) -> PyResult<Py<PyAny>> + Send>,
);

/// The completions of one event loop. Workers queue answers without the GIL; only the
/// first answer of a batch wakes the loop, which then converts and settles every queued
/// answer in one callback.
struct Inbox {
    queue: parking_lot::Mutex<Vec<Settle>>,
    scheduled: AtomicBool,
    /// `weakref.ref(loop)`: the inbox must not keep a closed loop alive.
    event_loop: Py<PyAny>,
    /// The socket pair the loop watches (reading end first).
    #[cfg(unix)]
    wake: Option<(
        std::os::unix::net::UnixStream,
        std::os::unix::net::UnixStream,
    )>,
    /// Whether the loop watches it (`add_reader` succeeded).
    watched: AtomicBool,
}

impl Inbox {
    /// Wakes the loop without the GIL; `false` if this loop must be woken through
    /// `call_soon_threadsafe` instead.
    fn wake_without_gil(&self) -> bool {
        if !self.watched.load(Ordering::Acquire) {
            return false;
        }
        #[cfg(unix)]
        if let Some((_, writer)) = &self.wake {
            use std::io::Write;
            // A full buffer means wake-ups are already waiting to be read: nothing is lost.
            let _ = (&*writer).write(&[1]);
            return true;
        }
        false
    }

    /// Reads the wake-up bytes (the loop calls `drain` once for all of them).
    fn clear_wake(&self) {
        #[cfg(unix)]
        if let Some((reader, _)) = &self.wake {
            use std::io::Read;
            let mut buf = [0u8; 256];
            while matches!((&*reader).read(&mut buf), Ok(n) if n == buf.len()) {}
        }
    }
}

/// The Python face of an [`Inbox`] (kept per loop in `proxmox_sdk._aio`).
#[pyclass(module = "proxmox_sdk._native", frozen)]
pub struct Mailbox {
    inner: std::sync::Arc<Inbox>,
}

#[pymethods]
impl Mailbox {
    /// Settles every queued answer (runs on the loop's thread).
    fn drain(&self, py: Python<'_>) -> PyResult<()> {
        // In this order. The wake-up bytes are read before the flag is cleared: a worker
        // that sets the flag afterwards writes a byte that stays, and wakes the loop again
        // (read after it, that byte could be lost with the flag left set: no worker would
        // ever wake the loop again). An answer queued before the queue is taken is settled
        // now, one queued after it wakes the loop.
        self.inner.clear_wake();
        self.inner.scheduled.store(false, Ordering::SeqCst);
        let items = std::mem::take(&mut *self.inner.queue.lock());
        for (fut, make) in items {
            let fut = fut.bind(py);
            if fut.call_method0(intern!(py, "done"))?.is_truthy()? {
                continue;
            }
            match make(py) {
                Ok(v) => fut.call_method1(intern!(py, "set_result"), (v,))?,
                Err(e) => fut.call_method1(intern!(py, "set_exception"), (e.into_value(py),))?,
            };
        }
        Ok(())
    }
}

/// The inbox of `event_loop` (made on first use; the last one used on this thread is
/// remembered, as a thread runs one loop at a time).
fn inbox(py: Python<'_>, event_loop: &Bound<'_, PyAny>) -> PyResult<std::sync::Arc<Inbox>> {
    thread_local! {
        static LAST: std::cell::RefCell<Option<std::sync::Arc<Inbox>>> =
            const { std::cell::RefCell::new(None) };
    }
    let last = LAST.with(|l| l.borrow().clone());
    if let Some(inbox) = last {
        // The weak reference answers the loop it was made for, or None once it is gone.
        if inbox.event_loop.bind(py).call0()?.is(event_loop) {
            return Ok(inbox);
        }
    }
    let inbox = find_or_make_inbox(py, event_loop)?;
    LAST.with(|l| *l.borrow_mut() = Some(inbox.clone()));
    Ok(inbox)
}

fn find_or_make_inbox(
    py: Python<'_>,
    event_loop: &Bound<'_, PyAny>,
) -> PyResult<std::sync::Arc<Inbox>> {
    static MAILBOXES: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let boxes = MAILBOXES
        .get_or_try_init(py, || {
            Ok::<_, PyErr>(
                py.import("proxmox_sdk._aio")?
                    .getattr("MAILBOXES")?
                    .unbind(),
            )
        })?
        .bind(py);
    let existing = boxes.call_method1("get", (event_loop,))?;
    if let Ok(found) = existing.cast::<Mailbox>() {
        return Ok(found.get().inner.clone());
    }
    let weak = py.import("weakref")?.getattr("ref")?.call1((event_loop,))?;
    #[cfg(unix)]
    let wake = std::os::unix::net::UnixStream::pair()
        .and_then(|(r, w)| {
            r.set_nonblocking(true)?;
            w.set_nonblocking(true)?;
            Ok((r, w))
        })
        .ok();
    let inner = std::sync::Arc::new(Inbox {
        queue: parking_lot::Mutex::new(Vec::new()),
        scheduled: AtomicBool::new(false),
        event_loop: weak.unbind(),
        #[cfg(unix)]
        wake,
        watched: AtomicBool::new(false),
    });
    let mailbox = Bound::new(
        py,
        Mailbox {
            inner: inner.clone(),
        },
    )?;
    watch(py, event_loop, &mailbox, &inner);
    boxes.set_item(event_loop, mailbox)?;
    Ok(inner)
}

/// Lets `event_loop` watch the inbox's socket (`add_reader`, calling `drain`). A loop that
/// cannot (Windows' proactor loop) is woken through `call_soon_threadsafe` instead.
#[cfg(unix)]
fn watch(
    py: Python<'_>,
    event_loop: &Bound<'_, PyAny>,
    mailbox: &Bound<'_, Mailbox>,
    inner: &Inbox,
) {
    use std::os::fd::AsRawFd;
    let Some((reader, _)) = &inner.wake else {
        return;
    };
    let Ok(drain) = mailbox.getattr("drain") else {
        return;
    };
    if event_loop
        .call_method1(intern!(py, "add_reader"), (reader.as_raw_fd(), drain))
        .is_ok()
    {
        inner.watched.store(true, Ordering::Release);
    }
}

#[cfg(not(unix))]
fn watch(_: Python<'_>, _: &Bound<'_, PyAny>, _: &Bound<'_, Mailbox>, _: &Inbox) {}

/// Aborts the Rust task when its asyncio future is cancelled.
#[pyclass(module = "proxmox_sdk._native", frozen)]
pub struct Canceller {
    handle: tokio::task::AbortHandle,
}

#[pymethods]
impl Canceller {
    fn __call__(&self, fut: &Bound<'_, PyAny>) -> PyResult<()> {
        if fut.call_method0("cancelled")?.is_truthy()? {
            self.handle.abort();
        }
        Ok(())
    }
}

/// Runs `fut` on the shared runtime; returns an asyncio future of the running loop that
/// `finish` settles with the output (converted on the loop's thread). Cancelling the
/// future aborts the Rust task.
pub fn spawn<F, T, C>(py: Python<'_>, fut: F, finish: C) -> PyResult<Bound<'_, PyAny>>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
    C: FnOnce(Python<'_>, T) -> PyResult<Py<PyAny>> + Send + 'static,
{
    let (py_fut, handle) = spawn_owned(py, fut, finish)?;
    py_fut.call_method1(intern!(py, "add_done_callback"), (Canceller { handle },))?;
    Ok(py_fut)
}

/// [`spawn`] for a caller that owns the future and aborts the task itself (through the
/// handle) when it is cancelled or dropped: no done callback per call, which would cost
/// the loop one more callback to run for every answer.
pub fn spawn_owned<F, T, C>(
    py: Python<'_>,
    fut: F,
    finish: C,
) -> PyResult<(Bound<'_, PyAny>, tokio::task::AbortHandle)>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
    C: FnOnce(Python<'_>, T) -> PyResult<Py<PyAny>> + Send + 'static,
{
    static GET_RUNNING_LOOP: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let event_loop = GET_RUNNING_LOOP
        .get_or_try_init(py, || {
            Ok::<_, PyErr>(py.import("asyncio")?.getattr("get_running_loop")?.unbind())
        })?
        .bind(py)
        .call0()?;
    let py_fut = event_loop.call_method0(intern!(py, "create_future"))?;
    let inbox = inbox(py, &event_loop)?;
    let fut_ref = py_fut.clone().unbind();
    let running = Running::start();
    let task = crate::runtime::runtime().spawn(async move {
        let out = fut.await;
        drop(running);
        inbox
            .queue
            .lock()
            .push((fut_ref, Box::new(move |py| finish(py, out))));
        if inbox.scheduled.swap(true, Ordering::SeqCst) {
            return; // a wake-up is already on its way and will take this answer too
        }
        if inbox.wake_without_gil() {
            return;
        }
        let Some(flight) = Flight::enter() else {
            return;
        };
        // Taking the GIL may block: do it off the I/O workers.
        let _ = tokio::task::spawn_blocking(move || {
            let _flight = flight;
            Python::attach(|py| {
                let event_loop = inbox.event_loop.bind(py).call0();
                let Ok(event_loop) = event_loop else { return };
                if event_loop.is_none() {
                    return; // the loop is gone, and with it everyone waiting
                }
                if let Ok(m) = Bound::new(
                    py,
                    Mailbox {
                        inner: inbox.clone(),
                    },
                ) {
                    if let Ok(drain) = m.getattr("drain") {
                        // A closed loop has nobody waiting for the answer.
                        let _ = event_loop.call_method1("call_soon_threadsafe", (drain,));
                    }
                }
            });
        })
        .await;
    });
    Ok((py_fut, task.abort_handle()))
}
