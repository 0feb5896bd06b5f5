//! `ProxmoxResource`: a node of the API tree. Navigation builds paths natively with no
//! I/O (`r.nodes`, `r("nodes/pve1")`, `r(["a/b"])`), every segment percent-encoded; the
//! verbs send requests (awaitable on the async SDK, blocking on the sync one).

use std::sync::Arc;

use pyo3::exceptions::{PyAttributeError, PyTypeError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyList, PyString, PyTuple, PyType};

use super::call::{run_call, split_params, ProxmoxCall};
use super::client::PyClient;
use crate::api::{push_segment, Call, Method, API_ROOT};
use crate::client::Client;

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

/// The crate's one use of `unsafe` (allowed here only): two CPython calls PyO3 does not
/// wrap, the generic attribute lookup and an instance's `__dict__`, which let navigation
/// avoid raising and catching `AttributeError`.
#[allow(unsafe_code)]
mod ffi {
    use pyo3::prelude::*;
    use pyo3::types::PyString;

    /// `object.__getattribute__(obj, name)` without the class's override.
    pub fn generic_getattr<'py>(
        obj: &Bound<'py, PyAny>,
        name: &Bound<'py, PyString>,
    ) -> PyResult<Bound<'py, PyAny>> {
        // SAFETY: both pointers are valid, owned by live `Bound`s; the result is a new
        // reference (or NULL with an exception set), which `from_owned_ptr_or_err` takes.
        unsafe {
            Bound::from_owned_ptr_or_err(
                obj.py(),
                pyo3::ffi::PyObject_GenericGetAttr(obj.as_ptr(), name.as_ptr()),
            )
        }
    }

    /// `obj.__dict__` (an error when it has none).
    pub fn instance_dict<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        // SAFETY: `obj` is a live object; the result is a new reference to its `__dict__`
        // (or NULL with an exception set when it has none), taken by `from_owned_ptr_or_err`.
        unsafe {
            Bound::from_owned_ptr_or_err(
                obj.py(),
                pyo3::ffi::PyObject_GenericGetDict(obj.as_ptr(), std::ptr::null_mut()),
            )
        }
    }
}

/// Whether `obj` (an instance of a subclass of `ProxmoxResource`) has `name` as an attribute
/// of its class (by a set of `dir(cls)` made once per class) or of its own `__dict__`.
fn subclass_has(obj: &Bound<'_, PyAny>, name: &Bound<'_, PyString>) -> PyResult<bool> {
    static NAMES: PyOnceLock<Py<PyDict>> = PyOnceLock::new();
    let py = obj.py();
    let cache = NAMES.get_or_init(py, || PyDict::new(py).unbind()).bind(py);
    let ty = obj.get_type();
    let names = if let Some(names) = cache.get_item(&ty)? {
        names
    } else {
        let names = pyo3::types::PyFrozenSet::new(py, ty.dir()?.iter())?.into_any();
        cache.set_item(&ty, &names)?;
        names
    };
    if names.contains(name)? {
        return Ok(true);
    }
    match ffi::instance_dict(obj) {
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
    /// A resource at `path` (already encoded) over `client`.
    pub(crate) fn new(client: Arc<Client>, path: String, is_async: bool) -> ProxmoxResource {
        ProxmoxResource {
            client,
            path,
            is_async,
        }
    }

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
        method: Method,
        args: &Bound<'py, PyTuple>,
        params: Option<&Bound<'py, PyDict>>,
        limit: Option<usize>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let path = self.with_args(args)?;
        let typed = take_model_flag(params)?;
        let (params, uploads, timeout) = split_params(params)?;
        let typed = if typed {
            Some(self.typed_answer(method, &path)?)
        } else {
            None
        };
        let mut call = Call::new(method, path, params);
        call.uploads = uploads;
        call.timeout = timeout;
        call.limit = limit;
        if self.is_async {
            let call = Bound::new(py, ProxmoxCall::ready(self.client.clone(), call))?.into_any();
            return match typed {
                None => Ok(call),
                Some(args) => {
                    generated(py)?.call_method1("_typed", (call, args.0, args.1, args.2, args.3))
                }
            };
        }
        let value = run_call(py, &self.client, call)?;
        match typed {
            None => Ok(value),
            Some(args) => {
                generated(py)?.call_method1("_to_model", (args.0, args.1, args.2, args.3, value))
            }
        }
    }

    /// `(service, version, method, template)` of a `model=True` call: the operation must
    /// exist in the schema of the client.
    fn typed_answer(
        &self,
        method: Method,
        path: &str,
    ) -> PyResult<(String, String, &'static str, String)> {
        let schema = self.client.schema();
        let Some((endpoint, _)) = schema.resolve(path) else {
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                "model=True: {path} is no path of the {} {} schema",
                schema.product().name(),
                schema.version()
            )));
        };
        Ok((
            schema.product().name().to_string(),
            schema.version().to_string(),
            method.as_str(),
            endpoint.template.clone(),
        ))
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
            path: path.unwrap_or_else(|| API_ROOT.to_string()),
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
        let found = ffi::generic_getattr(slf.as_any(), name);
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

    /// `ProxmoxResource[T]` (T: what the verbs return, for type checkers) is a
    /// `types.GenericAlias`, so the SDK classes can declare it as their base.
    #[classmethod]
    fn __class_getitem__<'py>(
        cls: &Bound<'py, PyType>,
        item: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        static GENERIC_ALIAS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
        let py = cls.py();
        GENERIC_ALIAS
            .import(py, "types", "GenericAlias")?
            .call1((cls, item))
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
        self.verb(py, Method::Get, args, params, Some(limit as usize))
    }
}

/// Takes `model` out of a verb's keyword arguments: `True` asks for the answer as its
/// generated Pydantic model.
fn take_model_flag(params: Option<&Bound<'_, PyDict>>) -> PyResult<bool> {
    let Some(params) = params else {
        return Ok(false);
    };
    let Some(flag) = params.get_item("model")? else {
        return Ok(false);
    };
    params.del_item("model")?;
    if flag.is_instance_of::<pyo3::types::PyBool>() {
        return flag.is_truthy();
    }
    Err(PyTypeError::new_err(format!(
        "model: expected True or False, got {}",
        flag.get_type().name()?
    )))
}

/// `proxmox_sdk.generated` (imported once).
fn generated(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
    static MODULE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    Ok(MODULE
        .get_or_try_init(py, || {
            py.import("proxmox_sdk.generated")
                .map(|m| m.into_any().unbind())
        })?
        .bind(py))
}

/// The verbs: each takes `(*path_args, **params)` and sends one request.
macro_rules! verbs {
    ($($(#[$doc:meta])* $name:ident => $method:expr;)*) => {
        #[pymethods]
        impl ProxmoxResource {
            $(
                $(#[$doc])*
                #[pyo3(signature = (*args, **params))]
                fn $name<'py>(
                    &self,
                    py: Python<'py>,
                    args: &Bound<'py, PyTuple>,
                    params: Option<&Bound<'py, PyDict>>,
                ) -> PyResult<Bound<'py, PyAny>> {
                    self.verb(py, $method, args, params, None)
                }
            )*
        }
    };
}

verbs! {
    /// GET: read.
    get => Method::Get;
    /// POST: create or run an action.
    post => Method::Post;
    /// PUT: update.
    put => Method::Put;
    /// PATCH: PVE has no PATCH; sent as PUT (what pvesh `set` does).
    patch => Method::Put;
    /// DELETE: remove.
    delete => Method::Delete;
    /// `create` = `post`.
    create => Method::Post;
    /// `set` = `put`.
    set => Method::Put;
}
