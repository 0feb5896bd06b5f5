//! What the verbs run: a [`Call`] built from Python arguments ([`split_params`]: plain
//! values, files to upload, the `_timeout` option), run in place or on the runtime
//! ([`run_call`]), and [`ProxmoxCall`], the coroutine-like object async verbs return.

use std::sync::Arc;

use pyo3::exceptions::{PyRuntimeError, PyStopIteration, PyTypeError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};
use serde_json::{Map, Value};

use super::convert::{answer_to_py, to_value};
use super::errors::to_py_err;
use super::guarded;
use crate::api::{Call, Upload, UploadSource};
use crate::client::Client;

pub(crate) struct Pending {
    pub(crate) client: Arc<Client>,
    pub(crate) call: Call,
}

/// Where a [`ProxmoxCall`] is in its life.
pub(crate) enum CallState {
    /// Not started: the request is built but not sent.
    Ready(Pending),
    /// Sent: the asyncio future the native request settles (yielded to the task), the
    /// span the request is traced in, if tracing is on, and the handle that aborts the
    /// native request (when the call is cancelled, closed or dropped unfinished).
    Waiting(Py<PyAny>, Option<Py<PyAny>>, tokio::task::AbortHandle),
    /// Answered, failed, cancelled or closed.
    Finished,
}

/// The tracer the SDK attached to `client` (`proxmox_sdk.telemetry`), if any.
fn tracer(py: Python<'_>, client: &Client) -> Option<Py<PyAny>> {
    let hook = client.hook()?;
    hook.downcast_ref::<Py<PyAny>>().map(|t| t.clone_ref(py))
}

/// Starts the span of one request (`None` when tracing is off; a tracer that fails is
/// ignored: tracing never breaks a call).
fn span_start(py: Python<'_>, client: &Client, call: &Call) -> Option<Py<PyAny>> {
    let tracer = tracer(py, client)?;
    tracer
        .bind(py)
        .call_method1(
            intern!(py, "start"),
            (call.method.as_str(), call.path.as_str()),
        )
        .ok()
        .filter(|s| !s.is_none())
        .map(Bound::unbind)
}

/// Ends a span with the call's error, if it failed.
fn span_end(py: Python<'_>, span: Option<Py<PyAny>>, error: Option<&PyErr>) {
    if let Some(span) = span {
        let exc = error.map(|e| e.value(py).clone().into_any());
        let _ = span.bind(py).call_method1(intern!(py, "end"), (exc,));
    }
}

/// Runs `f` inside the span of `call` when tracing is on.
fn traced<'py>(
    py: Python<'py>,
    client: &Client,
    call: &Call,
    f: impl FnOnce() -> PyResult<Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let span = span_start(py, client, call);
    let result = f();
    span_end(py, span, result.as_ref().err());
    result
}

/// What an async verb returns: a coroutine-like object, as asyncio's own coroutines are, so
/// that `await`, `asyncio.gather`, `create_task`, `wait_for`, `TaskGroup` and cancellation all
/// work. The first `send(None)` starts the request and yields an asyncio future (the task
/// waits on it without blocking the loop); the next one returns the answer. The in-process
/// mock without latency answers at the first step, with no trip through the loop.
///
/// Like a coroutine, a call runs once: awaiting it again raises `RuntimeError`. Cancelling
/// the awaiting task (or `close()`) cancels the native request.
#[pyclass(module = "proxmox_sdk._native", name = "ProxmoxCall")]
pub struct ProxmoxCall {
    pub(crate) state: CallState,
}

impl ProxmoxCall {
    /// A call not yet started.
    pub(crate) fn ready(client: Arc<Client>, call: Call) -> ProxmoxCall {
        ProxmoxCall {
            state: CallState::Ready(Pending { client, call }),
        }
    }

    fn step<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match std::mem::replace(&mut self.state, CallState::Finished) {
            CallState::Ready(p) => {
                if p.client.answers_in_place() {
                    let value = run_call(py, &p.client, p.call)?;
                    return Err(PyStopIteration::new_err((value.unbind(),)));
                }
                let span = span_start(py, &p.client, &p.call);
                let (fut, abort) = match call_future(py, &p.client, p.call) {
                    Ok(f) => f,
                    Err(e) => {
                        span_end(py, span, Some(&e));
                        return Err(e);
                    }
                };
                // What `Future.__await__` does before yielding: tells the task to wait on it.
                fut.setattr(intern!(py, "_asyncio_future_blocking"), true)?;
                self.state = CallState::Waiting(fut.clone().unbind(), span, abort);
                Ok(fut)
            }
            CallState::Waiting(fut, span, abort) => {
                let fut = fut.into_bound(py);
                if !fut.call_method0(intern!(py, "done"))?.is_truthy()? {
                    self.state = CallState::Waiting(fut.unbind(), span, abort);
                    return Err(PyRuntimeError::new_err(
                        "await wasn't used with future (a ProxmoxCall must be awaited in an asyncio task)",
                    ));
                }
                // The answer, or the call's exception (CancelledError if it was cancelled).
                let result = fut.call_method0(intern!(py, "result"));
                span_end(py, span, result.as_ref().err());
                Err(PyStopIteration::new_err((result?.unbind(),)))
            }
            CallState::Finished => Err(PyRuntimeError::new_err(
                "cannot reuse already awaited ProxmoxCall (call the verb again for a new request)",
            )),
        }
    }

    /// Ends the call; a request in flight is cancelled natively.
    fn finish(&mut self, py: Python<'_>) {
        if let CallState::Waiting(fut, span, abort) =
            std::mem::replace(&mut self.state, CallState::Finished)
        {
            abort.abort();
            let _ = fut.bind(py).call_method0(intern!(py, "cancel"));
            let cancelled = py
                .import(intern!(py, "asyncio"))
                .and_then(|m| m.getattr(intern!(py, "CancelledError")))
                .and_then(|c| c.call0())
                .map(PyErr::from_value);
            span_end(py, span, cancelled.as_ref().ok());
        }
    }
}

impl Drop for ProxmoxCall {
    /// A call dropped while its request is in flight (its task destroyed, its loop closed,
    /// or driven by hand and let go) aborts the request: nobody can take its answer.
    fn drop(&mut self) {
        if let CallState::Waiting(_, _, abort) = &self.state {
            abort.abort();
        }
    }
}

#[pymethods]
impl ProxmoxCall {
    fn __await__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.step(py)
    }

    /// Coroutine protocol: `send(None)` starts the request, then returns its answer.
    fn send<'py>(
        &mut self,
        py: Python<'py>,
        value: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        if !value.is_none() && matches!(self.state, CallState::Ready(_)) {
            return Err(PyTypeError::new_err(
                "can't send non-None value to a just-started ProxmoxCall",
            ));
        }
        self.step(py)
    }

    /// Coroutine protocol: raises `typ` (an exception, or a class and its value) here; a
    /// request in flight is cancelled.
    #[pyo3(signature = (typ, val = None, tb = None))]
    fn throw(
        &mut self,
        py: Python<'_>,
        typ: &Bound<'_, PyAny>,
        val: Option<&Bound<'_, PyAny>>,
        tb: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        self.finish(py);
        let mut exc = typ.clone();
        if let Ok(t) = typ.cast::<pyo3::types::PyType>() {
            exc = match val {
                Some(v) if v.is_instance(t)? => v.clone(),
                Some(v) if !v.is_none() => t.call1((v,))?,
                _ => t.call0()?,
            };
        }
        if let Some(tb) = tb.filter(|t| !t.is_none()) {
            exc = exc.call_method1(intern!(py, "with_traceback"), (tb,))?;
        }
        Err(PyErr::from_value(exc))
    }

    /// Coroutine protocol: drops the request (cancelling it if it is in flight).
    fn close(&mut self, py: Python<'_>) {
        self.finish(py);
    }

    fn __repr__(&self) -> String {
        match &self.state {
            CallState::Ready(p) => format!("<ProxmoxCall {} {}>", p.call.method, p.call.path),
            CallState::Waiting(..) => "<ProxmoxCall (running)>".to_string(),
            CallState::Finished => "<ProxmoxCall (done)>".to_string(),
        }
    }
}

/// Runs `call` to its end and converts the answer.
pub(crate) fn run_call<'py>(
    py: Python<'py>,
    client: &Arc<Client>,
    call: Call,
) -> PyResult<Bound<'py, PyAny>> {
    // An in-place answer takes microseconds: releasing and retaking the GIL would cost a
    // good part of that. Anything that waits (a transport, mock latency) releases it.
    let run = |call: Call| {
        let result = if client.answers_in_place() {
            super::held(|| Ok(client.execute(call)))?
        } else {
            guarded(py, || Ok(client.execute(call)))?
        };
        match result {
            Ok(v) => answer_to_py(py, v),
            Err(e) => Err(to_py_err(py, e)),
        }
    };
    if client.hook().is_none() {
        return run(call);
    }
    let (method, path) = (call.method, call.path.clone());
    let probe = Call::new(method, &path, Map::new());
    traced(py, client, &probe, || run(call))
}

/// An asyncio future settled by `call` running on the shared runtime, and the handle that
/// aborts it.
fn call_future<'py>(
    py: Python<'py>,
    client: &Arc<Client>,
    call: Call,
) -> PyResult<(Bound<'py, PyAny>, tokio::task::AbortHandle)> {
    let client = client.clone();
    let run = async move { client.execute_shared(call).await };
    super::bridge::spawn_owned(py, run, |py, result| match result {
        Ok(v) => Ok(answer_to_py(py, v)?.unbind()),
        Err(e) => Err(to_py_err(py, e)),
    })
}

/// Keyword parameters split into plain values, files to upload (a file-like value or an
/// `os.PathLike` makes the request multipart) and the `_timeout` option (seconds, this
/// call only).
#[allow(clippy::type_complexity)]
pub(crate) fn split_params(
    params: Option<&Bound<'_, PyDict>>,
) -> PyResult<(Map<String, Value>, Vec<Upload>, Option<std::time::Duration>)> {
    let mut map = Map::new();
    let mut uploads = Vec::new();
    let mut timeout = None;
    let Some(d) = params else {
        return Ok((map, uploads, timeout));
    };
    for (k, v) in d.iter() {
        let key: String = k.extract()?;
        if key == "_timeout" {
            if v.is_none() {
                continue;
            }
            if v.is_instance_of::<pyo3::types::PyBool>() {
                return Err(PyTypeError::new_err(
                    "_timeout: expected a number of seconds, got bool",
                ));
            }
            let secs: f64 = v
                .extract()
                .map_err(|_| PyTypeError::new_err("_timeout: expected a number of seconds"))?;
            timeout = Some(
                crate::limits::duration("_timeout", secs, false).map_err(PyValueError::new_err)?,
            );
            continue;
        }
        if let Some(up) = as_upload(&key, &v)? {
            uploads.push(up);
            continue;
        }
        let value = to_value(&v, &|| format!("parameter '{key}'"))?;
        map.insert(key, value);
    }
    Ok((map, uploads, timeout))
}

fn base_name(path: &str) -> String {
    std::path::Path::new(path)
        .file_name()
        .map_or_else(|| path.to_string(), |n| n.to_string_lossy().into_owned())
}

/// A file to upload, if `v` is one: `os.PathLike` (streamed from disk), an open file at its
/// start (streamed from its path), or another file-like object (read into memory).
fn as_upload(key: &str, v: &Bound<'_, PyAny>) -> PyResult<Option<Upload>> {
    let py = v.py();
    if v.is_instance_of::<PyString>() || v.is_instance_of::<pyo3::types::PyBytes>() {
        return Ok(None);
    }
    let os = py.import("os")?;
    if v.is_instance(&os.getattr("PathLike")?)? {
        let path: String = os.call_method1("fspath", (v,))?.extract()?;
        let meta = std::fs::metadata(&path)
            .map_err(|e| PyValueError::new_err(format!("{key}: cannot read '{path}': {e}")))?;
        if !meta.is_file() {
            return Err(PyValueError::new_err(format!(
                "{key}: '{path}' is not a regular file"
            )));
        }
        // `pathlib.Path.name` is the base name; other path-likes may name the file otherwise.
        let file_name = v
            .getattr("name")
            .ok()
            .and_then(|n| n.extract::<String>().ok())
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| base_name(&path));
        return Ok(Some(Upload {
            field: key.to_string(),
            file_name,
            source: UploadSource::Path(path.into()),
        }));
    }
    if !v.hasattr("read")? {
        return Ok(None);
    }
    let name: Option<String> = v
        .getattr("name")
        .ok()
        .and_then(|n| n.extract::<String>().ok());
    let at_start = match v.call_method0("tell") {
        Ok(pos) => pos.extract::<i64>().unwrap_or(-1) == 0,
        Err(_) => false,
    };
    if let Some(name) = &name {
        if at_start && std::fs::metadata(name).is_ok_and(|m| m.is_file()) {
            return Ok(Some(Upload {
                field: key.to_string(),
                file_name: base_name(name),
                source: UploadSource::Path(name.into()),
            }));
        }
    }
    let data = v.call_method0("read")?;
    let bytes = if let Ok(b) = data.cast::<pyo3::types::PyBytes>() {
        b.as_bytes().to_vec()
    } else if let Ok(s) = data.cast::<PyString>() {
        s.to_str()?.as_bytes().to_vec()
    } else {
        return Err(PyTypeError::new_err(format!(
            "{key}: read() returned {}, expected bytes or str",
            data.get_type().name()?
        )));
    };
    Ok(Some(Upload {
        field: key.to_string(),
        file_name: name.as_deref().map_or_else(|| key.to_string(), base_name),
        source: UploadSource::Bytes(bytes),
    }))
}
