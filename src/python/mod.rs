//! The PyO3 edge: the `proxmox_sdk._native` module. Only conversions live here; every
//! function releases the GIL while Rust works and turns a Rust panic into a Python
//! `RuntimeError` instead of letting it cross into the interpreter.

mod args;
mod bridge;
mod call;
mod client;
mod convert;
mod errors;
mod http;
mod logs;
mod resource;
mod server;
mod ssh;
mod store;

use std::panic::{catch_unwind, AssertUnwindSafe};

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use serde_json::{Map, Value};

use crate::schema::Product;
use crate::schema::{bundled, openapi, RequestError};

/// Runs `f` with the GIL released; a panic becomes `RuntimeError`.
pub(crate) fn guarded<T: Send>(
    py: Python<'_>,
    f: impl FnOnce() -> PyResult<T> + Send,
) -> PyResult<T> {
    py.detach(|| held(f))
}

/// Runs `f` with the GIL held (for work of a few microseconds); a panic becomes
/// `RuntimeError`. `f` must not wait for anything that may need the GIL.
pub(crate) fn held<T>(f: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result,
        Err(panic) => {
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| {
                    panic
                        .downcast_ref::<&str>()
                        .map(std::string::ToString::to_string)
                })
                .unwrap_or_else(|| "unknown panic".into());
            Err(PyRuntimeError::new_err(format!(
                "internal error in proxmox_sdk: {msg}"
            )))
        }
    }
}

fn value_error(e: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(e.to_string())
}

/// Checks a duration option as every native one is checked (`0 <= seconds <= 86400`, finite;
/// `zero_allowed=False` refuses 0 too) and returns it as a float; `TypeError` for a value
/// that is not a number (`bool` included), `ValueError` naming `name` otherwise.
#[pyfunction]
#[pyo3(signature = (name, seconds, zero_allowed = true))]
fn check_seconds(name: &str, seconds: &Bound<'_, PyAny>, zero_allowed: bool) -> PyResult<f64> {
    args::seconds_arg(name, seconds, zero_allowed)
}

/// The parts of a task id (`UPID:node:pid:pstart:starttime:type:id:user:`), the numbers
/// decoded from hex; `ValueError` if it is not one.
#[pyfunction]
fn decode_upid<'py>(py: Python<'py>, upid: &str) -> PyResult<Bound<'py, pyo3::types::PyDict>> {
    let u: crate::api::Upid = upid
        .parse()
        .map_err(|e| PyValueError::new_err(format!("upid: {e}")))?;
    let d = pyo3::types::PyDict::new(py);
    d.set_item("upid", upid)?;
    d.set_item("node", u.node)?;
    d.set_item("pid", u.pid)?;
    d.set_item("pstart", u.pstart)?;
    d.set_item("starttime", u.starttime)?;
    d.set_item("type", u.kind)?;
    d.set_item("id", u.id)?;
    d.set_item("user", u.user)?;
    d.set_item("comment", u.comment)?;
    Ok(d)
}

/// The product called `service` (`PVE`, `PBS`, `PMG`, `PDM`, any case).
fn product(service: &str) -> PyResult<Product> {
    service
        .parse::<Product>()
        .map_err(|e| PyValueError::new_err(format!("service: {e}")))
}

/// The bundled schema versions of `service`, oldest first.
#[pyfunction]
#[pyo3(signature = (service = "PVE"))]
fn schema_versions(service: &str) -> PyResult<Vec<&'static str>> {
    Ok(bundled::versions_of(product(service)?))
}

/// The version `latest` stands for.
#[pyfunction]
#[pyo3(signature = (service = "PVE"))]
fn latest_version(service: &str) -> PyResult<&'static str> {
    bundled::latest_of(product(service)?)
        .ok_or_else(|| PyRuntimeError::new_err("no schema version is bundled"))
}

/// Maps `latest` (or a concrete tag) to a bundled version tag; `ValueError` if unknown.
#[pyfunction]
#[pyo3(signature = (version, service = "PVE"))]
fn resolve_version(version: &str, service: &str) -> PyResult<&'static str> {
    bundled::resolve_version_of(product(service)?, version).map_err(value_error)
}

/// The OpenAPI 3.1 document of a bundled version, as JSON text.
#[pyfunction]
#[pyo3(signature = (version = "latest", service = "PVE"))]
fn openapi_json(py: Python<'_>, version: &str, service: &str) -> PyResult<String> {
    let product = product(service)?;
    guarded(py, || {
        let schema = bundled::load_of(product, version).map_err(value_error)?;
        serde_json::to_string(&openapi::openapi_document(&schema)).map_err(value_error)
    })
}

/// The normalized apidoc of a bundled version, as JSON text.
#[pyfunction]
#[pyo3(signature = (version = "latest", service = "PVE"))]
fn apidoc_json(version: &str, service: &str) -> PyResult<String> {
    bundled::apidoc_text_of(product(service)?, version)
        .map(|t| t.to_string())
        .map_err(value_error)
}

/// Validates a request: `(200, coerced_params_json)`, `(400, errors_json)` or
/// `(501, message)`. `params_json` is a JSON object.
#[pyfunction]
#[pyo3(signature = (method, path, params_json, version = "latest", service = "PVE"))]
fn validate_json(
    py: Python<'_>,
    method: &str,
    path: &str,
    params_json: &str,
    version: &str,
    service: &str,
) -> PyResult<(u16, String)> {
    let product = product(service)?;
    guarded(py, || {
        let schema = bundled::load_of(product, version).map_err(value_error)?;
        let params: Map<String, Value> = serde_json::from_str(params_json)
            .map_err(|e| PyValueError::new_err(format!("params: expected a JSON object ({e})")))?;
        Ok(match schema.validate_request(method, path, &params) {
            Ok(v) => (200, Value::Object(v.params).to_string()),
            Err(RequestError::Params(e)) => {
                (400, serde_json::to_string(&e.errors).unwrap_or_default())
            }
            Err(e @ RequestError::NotImplemented { .. }) => (501, e.to_string()),
        })
    })
}

/// A template and its (param, value) pairs.
type ResolvedTemplate = (String, Vec<(String, String)>);

/// Resolves a concrete path: `(template, {param: value})`, or `None`.
#[pyfunction]
#[pyo3(signature = (path, version = "latest", service = "PVE"))]
fn resolve_path(
    py: Python<'_>,
    path: &str,
    version: &str,
    service: &str,
) -> PyResult<Option<ResolvedTemplate>> {
    let product = product(service)?;
    guarded(py, || {
        let schema = bundled::load_of(product, version).map_err(value_error)?;
        Ok(schema.resolve(path).map(|(e, params)| {
            (
                e.template.clone(),
                params
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v.into_owned()))
                    .collect(),
            )
        }))
    })
}

/// Runs `proxmox-sdk-codegen` with `argv` (program name first); returns the exit code.
#[pyfunction]
fn codegen_main(py: Python<'_>, argv: Vec<String>) -> PyResult<i32> {
    guarded(py, || Ok(crate::codegen::main_with_args(argv)))
}

/// Reads a JSON or YAML file (by extension) and returns it as JSON text.
#[pyfunction]
fn read_structured_file(py: Python<'_>, path: &str) -> PyResult<String> {
    guarded(py, || {
        crate::files::read_structured(std::path::Path::new(path))
            .map(|v| v.to_string())
            .map_err(PyValueError::new_err)
    })
}

/// The Proxmox services (`PVE`, `PMG`, `PBS`, `PDM`) with their ports, backends and wire
/// details, as `proxmox_sdk.sdk.services.SERVICES` shows them.
#[pyfunction]
fn services(py: Python<'_>) -> PyResult<Bound<'_, pyo3::types::PyDict>> {
    let out = pyo3::types::PyDict::new(py);
    for s in crate::backend::services::SERVICES {
        let d = pyo3::types::PyDict::new(py);
        d.set_item("default_port", s.default_port)?;
        let backends: Vec<&str> = s.backends.iter().map(|b| b.as_str()).collect();
        d.set_item("supported_backends", backends)?;
        d.set_item("supported_https_auths", s.https_auths.to_vec())?;
        d.set_item("token_separator", s.token_separator)?;
        d.set_item("auth_cookie", s.auth_cookie)?;
        d.set_item("auth_header_prefix", s.token_prefix)?;
        if let Some(cli) = s.cli {
            d.set_item("cli", cli)?;
        }
        out.set_item(s.name, d)?;
    }
    Ok(out)
}

/// Runs the `proxmox` CLI with `argv` (program name first); returns the exit code.
#[pyfunction]
fn cli_main(py: Python<'_>, argv: Vec<String>) -> PyResult<i32> {
    guarded(py, || Ok(crate::cli::main_with_args(argv)))
}

/// Drops the mock store of (version, namespace); the next mock there starts fresh.
#[pyfunction]
#[pyo3(signature = (version = "latest", namespace = "default"))]
fn forget_mock_store(version: &str, namespace: &str) -> PyResult<bool> {
    let tag = bundled::resolve_version(version).map_err(value_error)?;
    Ok(crate::mock::store::forget_store(tag, namespace))
}

/// Fills the `proxmox_sdk._native` module (declared by the `native/` crate, the cdylib
/// maturin builds): its functions, classes and the atexit drain of async calls.
pub fn init_module(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    // Async calls complete on the shared runtime; exit waits for those inside Python.
    let drain = wrap_pyfunction!(bridge::_drain_async_calls, m)?;
    m.add_function(drain.clone())?;
    m.py()
        .import("atexit")?
        .call_method1("register", (drain,))?;
    m.add_function(wrap_pyfunction!(bridge::native_calls_in_flight, m)?)?;
    let changed = wrap_pyfunction!(logs::_logging_changed, m)?;
    m.add_function(changed.clone())?;
    logs::install(m.py(), changed.into_any())?;
    m.add_function(wrap_pyfunction!(check_seconds, m)?)?;
    m.add_function(wrap_pyfunction!(http::http_request, m)?)?;
    m.add_function(wrap_pyfunction!(decode_upid, m)?)?;
    m.add_function(wrap_pyfunction!(schema_versions, m)?)?;
    m.add_function(wrap_pyfunction!(latest_version, m)?)?;
    m.add_function(wrap_pyfunction!(resolve_version, m)?)?;
    m.add_function(wrap_pyfunction!(openapi_json, m)?)?;
    m.add_function(wrap_pyfunction!(apidoc_json, m)?)?;
    m.add_function(wrap_pyfunction!(validate_json, m)?)?;
    m.add_function(wrap_pyfunction!(resolve_path, m)?)?;
    m.add_function(wrap_pyfunction!(codegen_main, m)?)?;
    m.add_function(wrap_pyfunction!(forget_mock_store, m)?)?;
    m.add_function(wrap_pyfunction!(cli_main, m)?)?;
    m.add_function(wrap_pyfunction!(services, m)?)?;
    m.add_function(wrap_pyfunction!(read_structured_file, m)?)?;
    m.add_class::<client::PyClient>()?;
    m.add_class::<resource::ProxmoxResource>()?;
    m.add_class::<call::ProxmoxCall>()?;
    m.add_class::<store::MockStore>()?;
    m.add_class::<ssh::SshClient>()?;
    m.add_class::<server::ServerHandle>()?;
    m.add_class::<server::AsgiRouter>()?;
    m.add_function(wrap_pyfunction!(server::start_server, m)?)?;
    m.add_function(wrap_pyfunction!(server::server_main, m)?)?;
    Ok(())
}
