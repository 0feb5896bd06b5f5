//! `http_request`: one plain HTTP(S) request through the native transport (the Ceph
//! providers' default transport), as an awaitable.

use pyo3::prelude::*;
use pyo3::types::PyBytes;

use super::errors::to_py_err;
use crate::transport::plain::{send, PlainRequest};

/// Sends one request (awaitable): `(status, [(name, value)], body)`. Redirects are not
/// followed; connection, TLS and timeout failures raise the SDK's exceptions.
#[pyfunction]
#[pyo3(signature = (method, url, headers = Vec::new(), body = None, verify_ssl = true, timeout = None))]
pub fn http_request<'py>(
    py: Python<'py>,
    method: String,
    url: String,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
    verify_ssl: bool,
    timeout: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let secs = match timeout {
        Some(t) if !t.is_none() => super::args::seconds_arg("timeout", t, false)?,
        _ => 30.0,
    };
    let req = PlainRequest {
        method,
        url,
        headers,
        body,
        verify_tls: verify_ssl,
        timeout: std::time::Duration::from_secs_f64(secs),
    };
    super::bridge::spawn(py, send(req), |py, r| match r {
        Ok(a) => Ok((a.status, a.headers, PyBytes::new(py, &a.body))
            .into_pyobject(py)?
            .into_any()
            .unbind()),
        Err(e) => Err(to_py_err(py, e)),
    })
}
