//! The SDK's native Python classes: `Client` (one connection), `ProxmoxResource` (path
//! navigation without I/O, and the verbs) and `ProxmoxCall` (what an async verb returns).

use std::sync::Arc;

use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use pyo3::exceptions::{
    PyAttributeError, PyRuntimeError, PyStopIteration, PyTypeError, PyValueError,
};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};
use serde_json::{Map, Value};

use super::convert::{to_py, to_value};
use super::guarded;
use crate::client::{Backend, Client, ClientError};
use crate::mock::MockPve;
use crate::transport::{Call, Upload, UploadSource};

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
                    api.errors.clone(),
                    api.exit_code,
                ))?,
            },
            ClientError::TooLarge { limit, size } => {
                module.getattr("ResponseTooLargeError")?.call1((format!(
                    "response of {size} bytes exceeds the limit of {limit} bytes"
                ),))?
            }
            ClientError::Auth(msg) => module.getattr("AuthenticationError")?.call1((msg,))?,
            ClientError::Redirect { status, location } => module
                .getattr("ProxmoxRedirectError")?
                .call1((status, location))?,
            ClientError::Timeout(msg) => module.getattr("ProxmoxTimeoutError")?.call1((msg,))?,
            ClientError::Connection(msg) | ClientError::Tls(msg) => {
                module.getattr("ProxmoxConnectionError")?.call1((msg,))?
            }
            ClientError::Encoding(msg) => module
                .getattr("UnsupportedResponseEncodingError")?
                .call1((msg,))?,
            ClientError::Invalid(msg) => PyValueError::new_err(msg)
                .into_value(py)
                .into_bound(py)
                .into_any(),
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

    /// A client over any backend (`https`, `ssh_paramiko`, `openssh`, `local`, `mock`) from
    /// the SDK's constructor arguments (see `ClientOptions`, which checks them).
    #[staticmethod]
    #[pyo3(signature = (backend, *, service = None, host = None, port = None, user = None,
        password = None, token_name = None, token_value = None, otp = None, otptype = None,
        path_prefix = None, verify_ssl = true, cert = None, fingerprint = None, timeout = None,
        connect_timeout = None, proxies = None, max_retries = None, retry_backoff = 0.5, sudo = false,
        private_key_file = None, private_key_passphrase = None, use_agent = false,
        config_file = None, forward_ssh_agent = false, known_hosts_file = None,
        host_key_fingerprint = None, accept_new_host_key = false, ssh_options = None,
        schema_version = None, validate = false, mock_namespace = None, mock_data_path = None,
        lenient = false))]
    #[allow(clippy::too_many_arguments)]
    fn connect(
        py: Python<'_>,
        backend: String,
        service: Option<String>,
        host: Option<String>,
        port: Option<&Bound<'_, PyAny>>,
        user: Option<String>,
        password: Option<String>,
        token_name: Option<String>,
        token_value: Option<String>,
        otp: Option<String>,
        otptype: Option<String>,
        path_prefix: Option<String>,
        verify_ssl: bool,
        cert: Option<String>,
        fingerprint: Option<String>,
        timeout: Option<f64>,
        connect_timeout: Option<f64>,
        proxies: Option<Vec<(String, String)>>,
        max_retries: Option<&Bound<'_, PyAny>>,
        retry_backoff: f64,
        sudo: bool,
        private_key_file: Option<String>,
        private_key_passphrase: Option<String>,
        use_agent: bool,
        config_file: Option<String>,
        forward_ssh_agent: bool,
        known_hosts_file: Option<String>,
        host_key_fingerprint: Option<String>,
        accept_new_host_key: bool,
        ssh_options: Option<Vec<String>>,
        schema_version: Option<String>,
        validate: bool,
        mock_namespace: Option<String>,
        mock_data_path: Option<String>,
        lenient: bool,
    ) -> PyResult<PyClient> {
        let port = super::args::opt_int_in("port", port, 1, 65535)?.map(|p| p as u16);
        let max_retries = super::args::opt_int_in("max_retries", max_retries, 0, 1000)?;
        let options = crate::client::options::ClientOptions {
            backend: Some(backend.clone()),
            service,
            host,
            port,
            user,
            password,
            token_name,
            token_value,
            otp,
            otptype,
            path_prefix,
            verify_ssl: Some(verify_ssl),
            cert,
            fingerprint,
            timeout,
            connect_timeout,
            proxies: proxies.unwrap_or_default(),
            max_retries: Some(max_retries.unwrap_or(0) as u32),
            retry_backoff: Some(retry_backoff),
            sudo,
            private_key_file,
            private_key_passphrase,
            use_agent,
            config_file,
            forward_ssh_agent,
            known_hosts_file,
            host_key_fingerprint,
            accept_new_host_key,
            ssh_options: ssh_options.unwrap_or_default(),
            schema_version,
            validate,
            mock_namespace,
            mock_data_path,
            lenient,
        };
        let client = guarded(py, || options.build().map_err(PyValueError::new_err))?;
        Ok(PyClient {
            inner: Arc::new(client),
            backend_name: backend.to_ascii_lowercase(),
        })
    }

    /// `(ticket, CSRFPreventionToken)` of ticket authentication (logs in if needed), or
    /// `None`; blocking.
    fn tokens(&self, py: Python<'_>) -> PyResult<Option<(String, String)>> {
        let client = (*self.inner).clone();
        let result = guarded(py, || {
            Ok(crate::runtime::block_on(
                async move { client.tokens().await },
            ))
        })?;
        result.map_err(|e| to_py_err(py, e))
    }

    /// `tokens()` as an awaitable.
    fn tokens_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let client = (*self.inner).clone();
        super::bridge::spawn(py, async move { client.tokens().await }, |py, r| match r {
            Ok(t) => Ok(t.into_pyobject(py)?.into_any().unbind()),
            Err(e) => Err(to_py_err(py, e)),
        })
    }

    /// Closes connections and forgets sessions (blocking; later calls reconnect).
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        if self.inner.is_in_process() {
            return Ok(());
        }
        let client = (*self.inner).clone();
        guarded(py, || {
            crate::runtime::block_on(async move { client.close().await });
            Ok(())
        })
    }

    /// `close()` as an awaitable.
    fn close_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let client = (*self.inner).clone();
        super::bridge::spawn(py, async move { client.close().await }, |py, ()| {
            Ok(py.None())
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
        let (params, uploads, timeout) = split_params(params)?;
        let mut call = Call::new(method, path, params);
        call.uploads = uploads;
        call.timeout = timeout;
        run_call(py, &self.inner, call)
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
        let items: Vec<_> = data.iter().collect();
        for (k, v) in items {
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
    #[pyo3(signature = (path, status = None, message = "injected failure".to_string(), method = None, count = None))]
    fn store_inject_failure(
        &self,
        path: String,
        status: Option<&Bound<'_, PyAny>>,
        message: String,
        method: Option<String>,
        count: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let status = match status {
            Some(s) if !s.is_none() => super::args::int_in("status", s, 100, 599).map_err(|e| {
                if e.is_instance_of::<PyValueError>(s.py()) {
                    PyValueError::new_err(format!(
                        "status: expected an HTTP status from 100 to 599, got {}",
                        s.repr().map_or_else(|_| "?".into(), |r| r.to_string())
                    ))
                } else {
                    e
                }
            })? as u16,
            _ => 500,
        };
        let count =
            super::args::opt_int_in("count", count, 1, i64::from(u32::MAX))?.unwrap_or(1) as u32;
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

    /// Mock control: latency added to every request (seconds, 0 to 86400). The async SDK
    /// waits for it on the runtime, never blocking the event loop.
    fn store_set_latency(&self, seconds: f64) -> PyResult<()> {
        let latency =
            crate::limits::duration("seconds", seconds, true).map_err(PyValueError::new_err)?;
        self.mock_or_err()?.store().set_latency(latency);
        Ok(())
    }

    /// Mock control: a node's requests answer 595 while it is offline.
    #[pyo3(signature = (node, offline = true))]
    fn store_set_node_offline(&self, node: &str, offline: bool) -> PyResult<()> {
        self.mock_or_err()?.store().set_node_offline(node, offline);
        Ok(())
    }

    /// Mock control: moves the mock's clock forward (0 to ten years, in seconds); returns
    /// the new time (epoch seconds).
    fn store_advance_clock(&self, seconds: f64) -> PyResult<u64> {
        let step = crate::limits::seconds(
            "seconds",
            seconds,
            crate::limits::MAX_CLOCK_STEP_SECONDS,
            true,
        )
        .map_err(PyValueError::new_err)?;
        let store = self.mock_or_err()?.store();
        store.advance_clock(step.as_secs() as i64);
        Ok(store.now())
    }

    /// Mock control: tasks take `scale` times their nominal duration on the mock's clock
    /// (0 to 10,000).
    fn store_set_time_scale(&self, scale: f64) -> PyResult<()> {
        if !(scale.is_finite() && (0.0..=10_000.0).contains(&scale)) {
            return Err(PyValueError::new_err(format!(
                "scale must be between 0 and 10000, got {}",
                crate::limits::py_number(scale)
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

fn run_call<'py>(py: Python<'py>, client: &Arc<Client>, call: Call) -> PyResult<Bound<'py, PyAny>> {
    // An in-place answer takes microseconds: releasing and retaking the GIL would cost a
    // good part of that. Anything that waits (a transport, mock latency) releases it.
    let result = if client.answers_in_place() {
        super::held(|| Ok(client.execute(call)))?
    } else {
        guarded(py, || Ok(client.execute(call)))?
    };
    match result {
        Ok(v) => to_py(py, &v),
        Err(e) => Err(to_py_err(py, e)),
    }
}

/// An asyncio awaitable running `call` on the shared runtime.
fn call_future<'py>(
    py: Python<'py>,
    client: &Arc<Client>,
    call: Call,
) -> PyResult<Bound<'py, PyAny>> {
    let client = (**client).clone();
    super::bridge::spawn(py, client.execute_async(call), |py, result| match result {
        Ok(v) => Ok(to_py(py, &v)?.unbind()),
        Err(e) => Err(to_py_err(py, e)),
    })
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

/// Whether `obj` (an instance of a subclass of `ProxmoxResource`) has `name` as an attribute
/// of its class (by a set of `dir(cls)` made once per class) or of its own `__dict__`.
fn subclass_has(obj: &Bound<'_, PyAny>, name: &Bound<'_, PyString>) -> PyResult<bool> {
    static NAMES: PyOnceLock<Py<PyDict>> = PyOnceLock::new();
    let py = obj.py();
    let cache = NAMES.get_or_init(py, || PyDict::new(py).unbind()).bind(py);
    let ty = obj.get_type();
    let names = match cache.get_item(&ty)? {
        Some(names) => names,
        None => {
            let names = pyo3::types::PyFrozenSet::new(py, ty.dir()?.iter())?.into_any();
            cache.set_item(&ty, &names)?;
            names
        }
    };
    if names.contains(name)? {
        return Ok(true);
    }
    // SAFETY: `obj` is a live object; the result is a new reference to its `__dict__`
    // (or NULL with an exception set when it has none), taken by `from_owned_ptr_or_err`.
    let dict = unsafe {
        Bound::from_owned_ptr_or_err(
            py,
            pyo3::ffi::PyObject_GenericGetDict(obj.as_ptr(), std::ptr::null_mut()),
        )
    };
    match dict {
        Ok(d) => d.contains(name),
        Err(_) => Ok(false),
    }
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
        let (params, uploads, timeout) = split_params(params)?;
        let mut call = Call::new(method, &path, params);
        call.uploads = uploads;
        call.timeout = timeout;
        call.limit = limit;
        if self.is_async {
            let call = ProxmoxCall {
                state: CallState::Ready(Pending {
                    client: self.client.clone(),
                    call,
                }),
            };
            return Ok(Bound::new(py, call)?.into_any());
        }
        run_call(py, &self.client, call)
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
        let navigates = !private
            && if slf.is_exact_instance_of::<ProxmoxResource>() {
                !NATIVE_ATTRIBUTES.contains(&text)
            } else {
                // An SDK object (a subclass): navigate unless its class or the instance
                // has the name, decided without raising and catching AttributeError.
                !subclass_has(slf.as_any(), name)?
            };
        if navigates {
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
        max_response_bytes: &Bound<'py, PyAny>,
        args: &Bound<'py, PyTuple>,
        params: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let limit = super::args::int_in("max_response_bytes", max_response_bytes, 0, i64::MAX)?;
        self.verb(py, "GET", args, params, Some(limit as usize))
    }
}

struct Pending {
    client: Arc<Client>,
    call: Call,
}

/// Where a [`ProxmoxCall`] is in its life.
enum CallState {
    /// Not started: the request is built but not sent.
    Ready(Pending),
    /// Sent: the asyncio future the native request settles (yielded to the task).
    Waiting(Py<PyAny>),
    /// Answered, failed, cancelled or closed.
    Finished,
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
    state: CallState,
}

impl ProxmoxCall {
    fn step<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match std::mem::replace(&mut self.state, CallState::Finished) {
            CallState::Ready(p) => {
                if p.client.answers_in_place() {
                    let value = run_call(py, &p.client, p.call)?;
                    return Err(PyStopIteration::new_err((value.unbind(),)));
                }
                let fut = call_future(py, &p.client, p.call)?;
                // What `Future.__await__` does before yielding: tells the task to wait on it.
                fut.setattr(intern!(py, "_asyncio_future_blocking"), true)?;
                self.state = CallState::Waiting(fut.clone().unbind());
                Ok(fut)
            }
            CallState::Waiting(fut) => {
                let fut = fut.into_bound(py);
                if !fut.call_method0(intern!(py, "done"))?.is_truthy()? {
                    self.state = CallState::Waiting(fut.unbind());
                    return Err(PyRuntimeError::new_err(
                        "await wasn't used with future (a ProxmoxCall must be awaited in an asyncio task)",
                    ));
                }
                // The answer, or the call's exception (CancelledError if it was cancelled).
                let value = fut.call_method0(intern!(py, "result"))?;
                Err(PyStopIteration::new_err((value.unbind(),)))
            }
            CallState::Finished => Err(PyRuntimeError::new_err(
                "cannot reuse already awaited ProxmoxCall (call the verb again for a new request)",
            )),
        }
    }

    /// Ends the call; a request in flight is cancelled natively.
    fn finish(&mut self, py: Python<'_>) {
        if let CallState::Waiting(fut) = std::mem::replace(&mut self.state, CallState::Finished) {
            let _ = fut.bind(py).call_method0(intern!(py, "cancel"));
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
            CallState::Waiting(_) => "<ProxmoxCall (running)>".to_string(),
            CallState::Finished => "<ProxmoxCall (done)>".to_string(),
        }
    }
}

/// Keyword parameters split into plain values, files to upload (a file-like value or an
/// `os.PathLike` makes the request multipart) and the `_timeout` option (seconds, this
/// call only).
#[allow(clippy::type_complexity)]
fn split_params(
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
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.to_string())
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
