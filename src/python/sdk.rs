//! The SDK's native Python classes: `Client` (one connection), `ProxmoxResource` (path
//! navigation without I/O, and the verbs) and `ProxmoxCall` (what an async verb returns).

use std::sync::Arc;

use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use pyo3::exceptions::{
    PyAttributeError, PyRuntimeError, PyStopIteration, PyTypeError, PyValueError,
};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};
use serde_json::{Map, Value};

use super::convert::{params_to_map, to_py, to_value};
use super::guarded;
use crate::client::{Backend, Client, ClientError};
use crate::mock::MockPve;

/// The root of every path.
const ROOT: &str = "/api2/json";

fn exceptions(py: Python<'_>) -> PyResult<&Bound<'_, PyModule>> {
    static MODULE: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
    MODULE
        .get_or_try_init(py, || {
            Ok::<_, PyErr>(py.import("proxmox_sdk.sdk.exceptions")?.unbind())
        })
        .map(|m| m.bind(py))
}

/// Turns a client error into the package's exception.
fn to_py_err(py: Python<'_>, e: ClientError) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let module = exceptions(py)?;
        let exc = match e {
            ClientError::Api(api) => match &api.errors {
                Some(errors) if api.status == 400 => module
                    .getattr("ValidationError")?
                    .call1((errors.clone(),))?,
                _ => module.getattr("ResourceException")?.call1((
                    api.status,
                    api.status_text(),
                    api.message.clone(),
                ))?,
            },
            ClientError::NotAvailable(msg) => {
                module.getattr("BackendNotAvailableError")?.call1((msg,))?
            }
            ClientError::TooLarge { limit, size } => {
                module.getattr("ResponseTooLargeError")?.call1((format!(
                    "response of {size} bytes exceeds the limit of {limit} bytes"
                ),))?
            }
        };
        Ok(PyErr::from_value(exc))
    };
    build().unwrap_or_else(|err| err)
}

/// One SDK connection (a backend and its request pipeline).
#[pyclass(module = "proxmox_sdk._native", name = "Client", frozen)]
pub struct PyClient {
    inner: Arc<Client>,
    backend_name: String,
}

impl PyClient {
    fn mock_or_err(&self) -> PyResult<&MockPve> {
        self.inner.mock().ok_or_else(|| {
            PyRuntimeError::new_err(format!("backend '{}' has no mock store", self.backend_name))
        })
    }
}

#[pymethods]
impl PyClient {
    /// A client over the process-wide mock of `version` in `namespace`; `data_path` seeds a
    /// new store from a JSON/YAML file; `lenient` stores writes to paths PVE lacks.
    #[staticmethod]
    #[pyo3(signature = (version = "latest", namespace = "default", data_path = None, lenient = false))]
    fn mock(
        py: Python<'_>,
        version: &str,
        namespace: &str,
        data_path: Option<String>,
        lenient: bool,
    ) -> PyResult<PyClient> {
        let mock = guarded(py, || {
            MockPve::shared(
                version,
                namespace,
                data_path.as_deref().map(std::path::Path::new),
                lenient,
            )
            .map_err(|e| PyValueError::new_err(e.to_string()))
        })?;
        Ok(PyClient {
            inner: Arc::new(Client::new(Backend::Mock(mock))),
            backend_name: "mock".into(),
        })
    }

    /// A client whose calls raise `BackendNotAvailableError` with `reason`; with
    /// `validate_version`, parameters are checked against that schema first.
    #[staticmethod]
    #[pyo3(signature = (backend, reason, validate_version = None))]
    fn unavailable(
        backend: String,
        reason: String,
        validate_version: Option<&str>,
    ) -> PyResult<PyClient> {
        let mut client = Client::new(Backend::Unavailable {
            backend: backend.clone(),
            reason,
        });
        if let Some(v) = validate_version {
            let schema = crate::schema::bundled::load(v)
                .map_err(|e| PyValueError::new_err(e.to_string()))?;
            client = client.with_validation(schema);
        }
        Ok(PyClient {
            inner: Arc::new(client),
            backend_name: backend,
        })
    }

    /// The backend's name.
    #[getter]
    fn backend_name(&self) -> &str {
        &self.backend_name
    }

    /// The schema version a mock serves (`None` for other backends).
    #[getter]
    fn schema_version(&self) -> Option<String> {
        self.inner.mock().map(|m| m.schema().version().to_string())
    }

    /// The root resource (`/api2/json`), async (awaitable verbs) or sync (blocking verbs).
    #[pyo3(signature = (is_async = true))]
    fn root(&self, is_async: bool) -> ProxmoxResource {
        ProxmoxResource {
            client: self.inner.clone(),
            path: ROOT.to_string(),
            is_async,
        }
    }

    /// Sends one request and blocks (GIL released) until the answer.
    #[pyo3(signature = (method, path, params = None))]
    fn request<'py>(
        &self,
        py: Python<'py>,
        method: &str,
        path: &str,
        params: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let params = params_to_map(params)?;
        run_call(py, &self.inner, method, path, params, None)
    }

    /// Mock store: back to the initial state.
    fn store_reset(&self) -> PyResult<()> {
        self.mock_or_err()?.store().reset();
        Ok(())
    }

    /// Mock store: the value set for `path` (or the member's config), else `None`.
    fn store_get_object<'py>(&self, py: Python<'py>, path: &str) -> PyResult<Bound<'py, PyAny>> {
        match self.mock_or_err()?.get_object(path) {
            Some(v) => to_py(py, &v),
            None => Ok(py.None().into_bound(py)),
        }
    }

    /// Mock store: the exact answer for `path`; a member path makes the member exist.
    fn store_set_object(&self, path: &str, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let v = to_value(value, &|| "value".to_string())?;
        self.mock_or_err()?.set_object(path, v);
        Ok(())
    }

    /// Mock store: forget `path` (and a member with everything under it).
    fn store_delete_object(&self, path: &str) -> PyResult<bool> {
        Ok(self.mock_or_err()?.delete_object(path))
    }

    /// Mock store: whether `path` (or an ancestor) was deleted.
    fn store_is_deleted(&self, path: &str) -> PyResult<bool> {
        Ok(self.mock_or_err()?.is_deleted(path))
    }

    /// Mock store: write the live state to a JSON file.
    fn store_save(&self, path: &str) -> PyResult<()> {
        self.mock_or_err()?
            .store()
            .save(std::path::Path::new(path))
            .map_err(|e| PyValueError::new_err(format!("{path}: {e}")))
    }

    /// Mock store: replace the live state with a saved one.
    fn store_load(&self, path: &str) -> PyResult<()> {
        self.mock_or_err()?
            .store()
            .load(std::path::Path::new(path))
            .map_err(|e| PyValueError::new_err(e.to_string()))
    }

    /// Mock store: seed `{path: value}` and make it part of the state `reset()` returns to.
    fn store_seed(&self, data: &Bound<'_, PyDict>) -> PyResult<()> {
        let mock = self.mock_or_err()?;
        for (k, v) in data.iter() {
            let path: String = k
                .extract()
                .map_err(|_| PyTypeError::new_err("seed data: keys must be API paths (str)"))?;
            if !path.starts_with('/') {
                return Err(PyValueError::new_err(format!(
                    "seed data: key '{path}': expected an API path such as /api2/json/nodes/pve1/qemu/100/config"
                )));
            }
            let value = to_value(&v, &|| format!("seed data['{path}']"))?;
            mock.set_object(&path, value);
        }
        mock.store().set_initial(mock.store().snapshot());
        Ok(())
    }

    /// Mock control: the next `count` requests matching `method` (any if `None`) and `path`
    /// (a concrete path prefix or a template) fail with `status` and `message`; worker
    /// operations answer a UPID whose task fails instead.
    #[pyo3(signature = (path, status = 500, message = "injected failure".to_string(), method = None, count = 1))]
    fn store_inject_failure(
        &self,
        path: String,
        status: u16,
        message: String,
        method: Option<String>,
        count: u32,
    ) -> PyResult<()> {
        if !(100..=599).contains(&status) {
            return Err(PyValueError::new_err(format!(
                "status: expected an HTTP status from 100 to 599, got {status}"
            )));
        }
        self.mock_or_err()?
            .store()
            .inject_fault(crate::mock::store::Fault {
                method,
                path,
                remaining: count.max(1),
                status,
                message,
            });
        Ok(())
    }

    /// Mock control: latency added to every request (seconds).
    fn store_set_latency(&self, seconds: f64) -> PyResult<()> {
        if !seconds.is_finite() || seconds < 0.0 {
            return Err(PyValueError::new_err(format!(
                "seconds: expected a number >= 0, got {seconds}"
            )));
        }
        self.mock_or_err()?
            .store()
            .set_latency(std::time::Duration::from_secs_f64(seconds));
        Ok(())
    }

    /// Mock control: a node's requests answer 595 while it is offline.
    #[pyo3(signature = (node, offline = true))]
    fn store_set_node_offline(&self, node: &str, offline: bool) -> PyResult<()> {
        self.mock_or_err()?.store().set_node_offline(node, offline);
        Ok(())
    }

    /// Mock control: moves the mock's clock forward; returns the new time (epoch seconds).
    fn store_advance_clock(&self, seconds: i64) -> PyResult<u64> {
        let store = self.mock_or_err()?.store();
        store.advance_clock(seconds);
        Ok(store.now())
    }

    /// Mock control: tasks take `scale` times their nominal duration on the mock's clock.
    fn store_set_time_scale(&self, scale: f64) -> PyResult<()> {
        if !scale.is_finite() || scale < 0.0 {
            return Err(PyValueError::new_err(format!(
                "scale: expected a number >= 0, got {scale}"
            )));
        }
        self.mock_or_err()?.store().set_time_scale(scale);
        Ok(())
    }

    /// Mock control: makes every ticket issued so far invalid.
    fn store_expire_tickets(&self) -> PyResult<()> {
        self.mock_or_err()?.store().expire_tickets();
        Ok(())
    }

    /// Mock control: the requests received (oldest first, secrets redacted).
    fn store_requests<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let log = serde_json::to_value(self.mock_or_err()?.store().requests()).unwrap_or_default();
        to_py(py, &log)
    }

    /// Mock control: forgets the request log.
    fn store_clear_requests(&self) -> PyResult<()> {
        self.mock_or_err()?.store().clear_requests();
        Ok(())
    }

    fn __repr__(&self) -> String {
        format!("<proxmox_sdk Client backend={}>", self.backend_name)
    }
}

fn run_call<'py>(
    py: Python<'py>,
    client: &Arc<Client>,
    method: &str,
    path: &str,
    params: Map<String, Value>,
    limit: Option<usize>,
) -> PyResult<Bound<'py, PyAny>> {
    let result = guarded(py, || {
        Ok(match limit {
            Some(limit) => client.call_bounded(method, path, params, limit),
            None => client.call(method, path, params),
        })
    })?;
    match result {
        Ok(v) => to_py(py, &v),
        Err(e) => Err(to_py_err(py, e)),
    }
}

/// Appends one already-split segment, percent-encoded with no safe characters.
fn push_segment(path: &mut String, seg: &str) {
    path.push('/');
    path.extend(utf8_percent_encode(seg, NON_ALPHANUMERIC));
}

/// Appends `arg` the way `resource(arg)` does: `None` nothing; `str`/`int` split on `/`
/// (a leading `/` ignored, other empty parts kept); a list/tuple one segment per element.
fn append_arg(path: &mut String, arg: &Bound<'_, PyAny>) -> PyResult<()> {
    if arg.is_none() {
        return Ok(());
    }
    if arg.is_instance_of::<PyList>() || arg.is_instance_of::<PyTuple>() {
        for item in arg.try_iter()? {
            let item = item?;
            let text = if let Ok(s) = item.cast::<PyString>() {
                s.to_str()?.to_string()
            } else {
                item.str()?.to_string()
            };
            push_segment(path, &text);
        }
        return Ok(());
    }
    let text = if let Ok(s) = arg.cast::<PyString>() {
        s.to_str()?.to_string()
    } else if arg.is_instance_of::<pyo3::types::PyInt>() {
        arg.str()?.to_string()
    } else {
        return Err(PyTypeError::new_err(format!(
            "path segment: expected str, int, list, tuple or None, got {}",
            arg.get_type().name()?
        )));
    };
    let text = text.strip_prefix('/').unwrap_or(&text);
    for part in text.split('/') {
        push_segment(path, part);
    }
    Ok(())
}

/// A node of the API tree. Building one does no I/O; the verbs send requests.
#[pyclass(
    module = "proxmox_sdk.sdk.resource",
    name = "ProxmoxResource",
    frozen,
    subclass
)]
pub struct ProxmoxResource {
    client: Arc<Client>,
    path: String,
    is_async: bool,
}

/// Names a plain resource answers itself instead of treating them as path segments.
const NATIVE_ATTRIBUTES: &[&str] = &[
    "get",
    "post",
    "put",
    "patch",
    "delete",
    "create",
    "set",
    "get_bounded",
    "path",
    "is_async",
];

impl ProxmoxResource {
    fn child_segment(&self, name: &str) -> ProxmoxResource {
        let mut path = String::with_capacity(self.path.len() + name.len() + 1);
        path.push_str(&self.path);
        push_segment(&mut path, name);
        self.child(path)
    }

    fn child(&self, path: String) -> ProxmoxResource {
        ProxmoxResource {
            client: self.client.clone(),
            path,
            is_async: self.is_async,
        }
    }

    fn with_args(&self, args: &Bound<'_, PyTuple>) -> PyResult<String> {
        let mut path = self.path.clone();
        for arg in args.iter() {
            append_arg(&mut path, &arg)?;
        }
        Ok(path)
    }

    fn verb<'py>(
        &self,
        py: Python<'py>,
        method: &'static str,
        args: &Bound<'py, PyTuple>,
        params: Option<&Bound<'py, PyDict>>,
        limit: Option<usize>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let path = self.with_args(args)?;
        let params = params_to_map(params)?;
        if self.is_async {
            let call = ProxmoxCall {
                pending: Some(Pending {
                    client: self.client.clone(),
                    method,
                    path,
                    params,
                    limit,
                }),
            };
            return Ok(Bound::new(py, call)?.into_any());
        }
        run_call(py, &self.client, method, &path, params, limit)
    }
}

#[pymethods]
impl ProxmoxResource {
    /// The API path (`/api2/json/nodes/pve1`).
    #[getter]
    fn path(&self) -> &str {
        &self.path
    }

    /// Whether the verbs are awaitable.
    #[getter]
    fn is_async(&self) -> bool {
        self.is_async
    }

    /// `ProxmoxResource(client, is_async=True, path="/api2/json")`; the SDK classes
    /// subclass it so that they navigate natively too.
    #[new]
    #[pyo3(signature = (client, is_async = true, path = None))]
    fn py_new(
        client: PyRef<'_, PyClient>,
        is_async: bool,
        path: Option<String>,
    ) -> ProxmoxResource {
        ProxmoxResource {
            client: client.inner.clone(),
            path: path.unwrap_or_else(|| ROOT.to_string()),
            is_async,
        }
    }

    /// Attribute access: the verbs and properties, else a child path segment. Navigation
    /// never goes through a failed lookup on a plain resource, which keeps it cheap.
    fn __getattribute__(slf: &Bound<'_, Self>, name: &Bound<'_, PyString>) -> PyResult<Py<PyAny>> {
        let text = name.to_str()?;
        let private = text.starts_with('_');
        let exact = slf.is_exact_instance_of::<ProxmoxResource>();
        if exact && !private && !NATIVE_ATTRIBUTES.contains(&text) {
            return Ok(Bound::new(slf.py(), slf.get().child_segment(text))?
                .into_any()
                .unbind());
        }
        // SAFETY: both pointers are valid, owned by live `Bound`s; the result is a new
        // reference (or NULL with an exception set), which `from_owned_ptr_or_err` takes.
        let found = unsafe {
            Bound::from_owned_ptr_or_err(
                slf.py(),
                pyo3::ffi::PyObject_GenericGetAttr(slf.as_ptr(), name.as_ptr()),
            )
        };
        match found {
            Ok(v) => Ok(v.unbind()),
            Err(e) if !private && e.is_instance_of::<PyAttributeError>(slf.py()) => {
                Ok(Bound::new(slf.py(), slf.get().child_segment(text))?
                    .into_any()
                    .unbind())
            }
            Err(e) => Err(e),
        }
    }

    #[pyo3(signature = (*args))]
    fn __call__(&self, args: &Bound<'_, PyTuple>) -> PyResult<ProxmoxResource> {
        Ok(self.child(self.with_args(args)?))
    }

    fn __repr__(&self) -> String {
        format!("ProxmoxResource(path='{}')", self.path)
    }

    fn __str__(&self) -> String {
        self.path.clone()
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<ProxmoxResource>()
            .is_ok_and(|o| o.get().path == self.path && Arc::ptr_eq(&o.get().client, &self.client))
    }

    fn __hash__(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.path.hash(&mut h);
        h.finish()
    }

    /// GET: read.
    #[pyo3(signature = (*args, **params))]
    fn get<'py>(
        &self,
        py: Python<'py>,
        args: &Bound<'py, PyTuple>,
        params: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.verb(py, "GET", args, params, None)
    }

    /// POST: create or run an action.
    #[pyo3(signature = (*args, **params))]
    fn post<'py>(
        &self,
        py: Python<'py>,
        args: &Bound<'py, PyTuple>,
        params: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.verb(py, "POST", args, params, None)
    }

    /// PUT: update.
    #[pyo3(signature = (*args, **params))]
    fn put<'py>(
        &self,
        py: Python<'py>,
        args: &Bound<'py, PyTuple>,
        params: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.verb(py, "PUT", args, params, None)
    }

    /// PATCH: PVE has no PATCH; sent as PUT (what pvesh `set` does).
    #[pyo3(signature = (*args, **params))]
    fn patch<'py>(
        &self,
        py: Python<'py>,
        args: &Bound<'py, PyTuple>,
        params: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.verb(py, "PUT", args, params, None)
    }

    /// DELETE: remove.
    #[pyo3(signature = (*args, **params))]
    fn delete<'py>(
        &self,
        py: Python<'py>,
        args: &Bound<'py, PyTuple>,
        params: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.verb(py, "DELETE", args, params, None)
    }

    /// `create` = `post`.
    #[pyo3(signature = (*args, **params))]
    fn create<'py>(
        &self,
        py: Python<'py>,
        args: &Bound<'py, PyTuple>,
        params: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.verb(py, "POST", args, params, None)
    }

    /// `set` = `put`.
    #[pyo3(signature = (*args, **params))]
    fn set<'py>(
        &self,
        py: Python<'py>,
        args: &Bound<'py, PyTuple>,
        params: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.verb(py, "PUT", args, params, None)
    }

    /// GET refusing answers larger than `max_response_bytes` (`ResponseTooLargeError`).
    #[pyo3(signature = (max_response_bytes, *args, **params))]
    fn get_bounded<'py>(
        &self,
        py: Python<'py>,
        max_response_bytes: i64,
        args: &Bound<'py, PyTuple>,
        params: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let limit = usize::try_from(max_response_bytes).map_err(|_| {
            PyValueError::new_err(format!(
                "max_response_bytes: expected a non-negative integer, got {max_response_bytes}"
            ))
        })?;
        self.verb(py, "GET", args, params, Some(limit))
    }
}

struct Pending {
    client: Arc<Client>,
    method: &'static str,
    path: String,
    params: Map<String, Value>,
    limit: Option<usize>,
}

/// What an async verb returns: an awaitable that runs the request when awaited. The mock
/// answers in-process, so awaiting completes without a round trip through an event loop.
#[pyclass(module = "proxmox_sdk._native", name = "ProxmoxCall")]
pub struct ProxmoxCall {
    pending: Option<Pending>,
}

impl ProxmoxCall {
    fn step<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let Some(p) = self.pending.take() else {
            return Err(PyRuntimeError::new_err(
                "cannot reuse an already awaited ProxmoxCall",
            ));
        };
        let value = run_call(py, &p.client, p.method, &p.path, p.params, p.limit)?;
        Err(PyStopIteration::new_err((value.unbind(),)))
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

    /// Coroutine protocol: `send(None)` runs the request.
    fn send<'py>(
        &mut self,
        py: Python<'py>,
        _value: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.step(py)
    }

    /// Coroutine protocol: raises `exc` (the request is not sent).
    #[pyo3(signature = (exc, _value = None, _tb = None))]
    fn throw(
        &mut self,
        exc: &Bound<'_, PyAny>,
        _value: Option<&Bound<'_, PyAny>>,
        _tb: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        self.pending = None;
        Err(PyErr::from_value(exc.clone()))
    }

    /// Coroutine protocol: drops the request unsent.
    fn close(&mut self) {
        self.pending = None;
    }

    fn __repr__(&self) -> String {
        match &self.pending {
            Some(p) => format!("<ProxmoxCall {} {}>", p.method, p.path),
            None => "<ProxmoxCall (done)>".to_string(),
        }
    }
}
