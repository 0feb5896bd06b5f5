//! Every Rust error becomes a Python exception here, once: [`to_py_err`] for the request
//! pipeline's [`Error`] (the classes of `proxmox_sdk.sdk.exceptions`), [`ssh_err`] for the
//! SSH client (the classes of `proxmox_sdk.ssh`).

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

use crate::api::Error;
use crate::transport::ssh::SshFailure;

fn module<'py>(
    py: Python<'py>,
    cell: &'static PyOnceLock<Py<PyModule>>,
    name: &str,
) -> PyResult<&'py Bound<'py, PyModule>> {
    cell.get_or_try_init(py, || Ok::<_, PyErr>(py.import(name)?.unbind()))
        .map(|m| m.bind(py))
}

fn exceptions(py: Python<'_>) -> PyResult<&Bound<'_, PyModule>> {
    static MODULE: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
    module(py, &MODULE, "proxmox_sdk.sdk.exceptions")
}

/// The package's exception for a failed call.
pub fn to_py_err(py: Python<'_>, e: Error) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let m = exceptions(py)?;
        let exc = match e {
            Error::Api(api) => match &api.errors {
                Some(errors) if api.status == 400 => {
                    m.getattr("ValidationError")?.call1((errors.clone(),))?
                }
                // `status_message` is the status line's reason phrase, which is where PVE
                // puts its message (`HTTP 500 QEMU guest agent is not running`), as the
                // original client read it; every backend reports it so.
                _ => m.getattr("ResourceException")?.call1((
                    api.status,
                    match api.message.trim() {
                        "" => api.status_text().to_string(),
                        reason => reason.to_string(),
                    },
                    api.message.clone(),
                    api.errors.clone(),
                    api.exit_code,
                ))?,
            },
            Error::TooLarge { limit, size } => m
                .getattr("ResponseTooLargeError")?
                .call1((limit, format!("at least {size} bytes")))?,
            Error::Auth(msg) => m.getattr("AuthenticationError")?.call1((msg,))?,
            Error::Login(inner) => {
                let class = match *inner {
                    Error::Timeout(_) => "LoginTimeoutError",
                    Error::Connection(_) | Error::Tls(_) => "LoginConnectionError",
                    _ => "AuthenticationError",
                };
                m.getattr(class)?
                    .call1((format!("Proxmox authentication failed: {inner}"),))?
            }
            Error::Redirect { status, location } => m
                .getattr("ProxmoxRedirectError")?
                .call1((status, location))?,
            Error::Timeout(msg) => m.getattr("ProxmoxTimeoutError")?.call1((msg,))?,
            Error::Connection(msg) | Error::Tls(msg) | Error::HostKey(msg) => {
                m.getattr("ProxmoxConnectionError")?.call1((msg,))?
            }
            Error::Encoding(msg) => m
                .getattr("UnsupportedResponseEncodingError")?
                .call1((msg,))?,
            Error::Invalid(msg) => return Ok(PyValueError::new_err(msg)),
        };
        Ok(PyErr::from_value(exc))
    };
    build().unwrap_or_else(|err| err)
}

/// The exception of `proxmox_sdk.ssh` for an SSH failure.
pub fn ssh_err(py: Python<'_>, e: SshFailure) -> PyErr {
    static MODULE: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
    let name = match &e {
        SshFailure::HostKey(_) => "HostKeyMismatch",
        SshFailure::Auth(_) => "SshAuthFailed",
        SshFailure::Timeout(_) => "SshTimeout",
        SshFailure::TooLarge { .. } => "OutputTooLarge",
        SshFailure::Other(_) => "SshError",
    };
    let build = || -> PyResult<PyErr> {
        let cls = module(py, &MODULE, "proxmox_sdk.ssh")?.getattr(name)?;
        Ok(PyErr::from_value(cls.call1((e.to_string(),))?))
    };
    build().unwrap_or_else(|err| err)
}

/// A message of the options builder as Python's exception: an unknown option or a value
/// of the wrong type is a `TypeError` (as for any function), the rest a `ValueError`.
pub fn option_err(message: String) -> PyErr {
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let name = rest.split('`').next().unwrap_or_default();
        let expected = rest.split_once("expected ").map_or("", |(_, e)| e);
        let known = expected.trim_start_matches("one of ").replace('`', "");
        return PyTypeError::new_err(format!(
            "got an unexpected keyword argument '{name}' (the options are: {known})"
        ));
    }
    // A text where a number or a flag belongs, a bool where an integer belongs: wrong type.
    let wrong_type = message.contains("invalid type:")
        || message.contains(", got '")
        || message.ends_with(", got True")
        || message.ends_with(", got False")
        || message.contains(", got [")
        || message.contains(", got {");
    if wrong_type {
        return PyTypeError::new_err(message);
    }
    PyValueError::new_err(message)
}
