//! `Client`: one SDK connection (a backend and its request pipeline), built from the SDK's
//! keyword arguments through the one options struct ([`ClientOptions`]).

use std::sync::Arc;

use pyo3::exceptions::{PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};
use serde_json::{Map, Value};

use super::call::{run_call, split_params, ProxmoxCall};
use super::convert::to_value;
use super::errors::{option_err, to_py_err};
use super::guarded;
use super::resource::ProxmoxResource;
use super::store::MockStore;
use crate::api::{Call, Method, API_ROOT};
use crate::backend::options::ClientOptions;
use crate::client::Client;
use crate::mock::MockPve;

/// One SDK connection (a backend and its request pipeline).
#[pyclass(module = "proxmox_sdk._native", name = "Client", frozen)]
pub struct PyClient {
    pub(crate) inner: Arc<Client>,
}

/// The keyword arguments as JSON: `os.PathLike` values become their path text.
fn options_json(kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<Value> {
    let mut out = Map::new();
    let Some(kwargs) = kwargs else {
        return Ok(Value::Object(out));
    };
    let py = kwargs.py();
    let path_like = py.import("os")?.getattr("PathLike")?;
    for (k, v) in kwargs.iter() {
        let key: String = k.extract()?;
        let v = if v.is_instance(&path_like)? {
            py.import("os")?.call_method1("fspath", (v,))?
        } else {
            v
        };
        // JSON has no NaN or infinity: they travel as text and fail the range check, with
        // the option named, as any other bad duration does.
        let non_finite = v
            .cast::<pyo3::types::PyFloat>()
            .is_ok_and(|f| !f.value().is_finite());
        let value = if non_finite {
            Value::String(v.repr()?.to_string())
        } else {
            to_value(&v, &|| key.clone())?
        };
        out.insert(key, value);
    }
    Ok(Value::Object(out))
}

/// One call from a method name (`PATCH` is PUT, as pvesh `set`), a path and parameters.
fn make_call(
    method: &Bound<'_, PyString>,
    path: &str,
    params: Option<&Bound<'_, PyDict>>,
) -> PyResult<Call> {
    let text = method.to_str()?;
    let method: Method = match text.to_ascii_uppercase().as_str() {
        "PATCH" => Method::Put,
        m => m.parse().map_err(|_| {
            PyTypeError::new_err(format!(
                "method: expected GET, POST, PUT, PATCH or DELETE, got {text:?}"
            ))
        })?,
    };
    let (params, uploads, timeout) = split_params(params)?;
    let mut call = Call::new(method, path, params);
    call.uploads = uploads;
    call.timeout = timeout;
    Ok(call)
}

#[pymethods]
impl PyClient {
    /// A client over the process-wide mock of `version` in `namespace`; `data_path` seeds a
    /// new store from a JSON/YAML file; `lenient` stores writes to paths PVE lacks.
    #[staticmethod]
    #[pyo3(signature = (version = "latest", namespace = "default", data_path = None, lenient = false, service = "PVE"))]
    fn mock(
        py: Python<'_>,
        version: &str,
        namespace: &str,
        data_path: Option<String>,
        lenient: bool,
        service: &str,
    ) -> PyResult<PyClient> {
        let product = service
            .parse::<crate::schema::Product>()
            .map_err(|e| PyValueError::new_err(format!("service: {e}")))?;
        let mock = guarded(py, || {
            MockPve::shared_of(
                product,
                version,
                namespace,
                data_path.as_deref().map(std::path::Path::new),
                lenient,
            )
            .map_err(|e| PyValueError::new_err(e.to_string()))
        })?;
        Ok(PyClient {
            inner: Arc::new(Client::over_mock(mock)),
        })
    }

    /// A client over any backend from the SDK's keyword arguments (`host`, `user`,
    /// `backend`, `timeout`, ...): unknown names and wrong types are `TypeError`, values
    /// out of range `ValueError`, each naming the option.
    #[staticmethod]
    #[pyo3(signature = (**options))]
    fn connect(py: Python<'_>, options: Option<&Bound<'_, PyDict>>) -> PyResult<PyClient> {
        let json = options_json(options)?;
        let options = ClientOptions::from_json(json).map_err(option_err)?;
        let client = guarded(py, || {
            Client::connect(&options).map_err(PyValueError::new_err)
        })?;
        Ok(PyClient {
            inner: Arc::new(client),
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

    /// The backend's name (`https`, `mock`, ...).
    #[getter]
    fn backend_name(&self) -> &'static str {
        self.inner.backend().kind().as_str()
    }

    /// The schema version a mock serves (`None` for other backends).
    #[getter]
    fn schema_version(&self) -> Option<String> {
        self.inner.mock().map(|m| m.schema().version().to_string())
    }

    /// The product the client speaks to (`PVE`, `PBS`, `PMG`, `PDM`).
    #[getter]
    fn service(&self) -> &'static str {
        self.inner.schema().product().name()
    }

    /// The total timeout in seconds that every later call uses over the backend's own
    /// (`None`: the backend's).
    #[getter]
    fn get_call_timeout(&self) -> Option<f64> {
        self.inner.call_timeout().map(|d| d.as_secs_f64())
    }

    /// Sets (or with `None` clears) that timeout; 0 to 86400 seconds.
    #[setter]
    fn set_call_timeout(&self, seconds: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        let timeout = match seconds {
            None => None,
            Some(v) if v.is_none() => None,
            // 0 is no timeout at all, as aiohttp's `ClientTimeout(total=0)` meant.
            Some(v) => {
                let secs = super::args::seconds_arg("timeout", v, true)?;
                let secs = if secs == 0.0 {
                    crate::limits::MAX_SECONDS
                } else {
                    secs
                };
                Some(std::time::Duration::from_secs_f64(secs))
            }
        };
        self.inner.set_call_timeout(timeout);
        Ok(())
    }

    /// Attaches a tracer (an object with `start(method, path) -> span` and
    /// `span.end(exception_or_None)`), or with `None` removes it: every request of this
    /// client and its resources is then traced.
    #[pyo3(signature = (tracer = None))]
    fn set_tracer(&self, tracer: Option<Py<PyAny>>) {
        let hook: Option<crate::client::Hook> = tracer.map(|t| Arc::new(t) as crate::client::Hook);
        self.inner.set_hook(hook);
    }

    /// The mock's store (`RuntimeError` for other backends).
    #[getter]
    fn store(&self) -> PyResult<MockStore> {
        match self.inner.mock() {
            Some(m) => Ok(MockStore::new(m.clone())),
            None => Err(PyRuntimeError::new_err(format!(
                "backend '{}' has no mock store",
                self.inner.backend().kind()
            ))),
        }
    }

    /// The root resource (`/api2/json`), async (awaitable verbs) or sync (blocking verbs).
    #[pyo3(signature = (is_async = true))]
    fn root(&self, is_async: bool) -> ProxmoxResource {
        ProxmoxResource::new(self.inner.clone(), API_ROOT.to_string(), is_async)
    }

    /// Sends one request and blocks (GIL released) until the answer.
    #[pyo3(signature = (method, path, params = None))]
    fn request<'py>(
        &self,
        py: Python<'py>,
        method: &Bound<'py, PyString>,
        path: &str,
        params: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        run_call(py, &self.inner, make_call(method, path, params)?)
    }

    /// `request` as an awaitable (a `ProxmoxCall`, like the async verbs return).
    #[pyo3(signature = (method, path, params = None))]
    fn call(
        &self,
        method: &Bound<'_, PyString>,
        path: &str,
        params: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<ProxmoxCall> {
        Ok(ProxmoxCall::ready(
            self.inner.clone(),
            make_call(method, path, params)?,
        ))
    }

    fn __repr__(&self) -> String {
        format!(
            "<proxmox_sdk Client backend={}>",
            self.inner.backend().kind()
        )
    }
}
