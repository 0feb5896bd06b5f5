//! `SshClient`: the native half of `proxmox_sdk.ssh.RemoteSSHClient` (one russh
//! connection, commands with timeouts and output caps).

use std::sync::Arc;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use super::errors::ssh_err as to_py_err;
use crate::transport::ssh::SshSession;

/// One SSH connection, opened on first use and reused.
#[pyclass(module = "proxmox_sdk._native", name = "SshClient", frozen)]
pub struct SshClient {
    session: Arc<SshSession>,
}

struct RunOut(crate::transport::ssh::ExecResult);

impl<'py> IntoPyObject<'py> for RunOut {
    type Target = PyDict;
    type Output = Bound<'py, PyDict>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("stdout", PyBytes::new(py, &self.0.stdout))?;
        d.set_item("stderr", PyBytes::new(py, &self.0.stderr))?;
        d.set_item("exit_code", self.0.exit_code)?;
        d.set_item("duration_s", self.0.duration.as_secs_f64())?;
        d.set_item("truncated", self.0.truncated)?;
        Ok(d)
    }
}

#[pymethods]
impl SshClient {
    #[new]
    #[pyo3(signature = (host, *, port = None, user = None, password = None, private_key_file = None,
        private_key_passphrase = None, use_agent = false, known_hosts_file = None,
        host_key_fingerprint = None, accept_new_host_key = false, connect_timeout = 10.0,
        private_key = None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        host: String,
        port: Option<&Bound<'_, PyAny>>,
        user: Option<String>,
        password: Option<String>,
        private_key_file: Option<String>,
        private_key_passphrase: Option<String>,
        use_agent: bool,
        known_hosts_file: Option<String>,
        host_key_fingerprint: Option<String>,
        accept_new_host_key: bool,
        connect_timeout: f64,
        private_key: Option<String>,
    ) -> PyResult<SshClient> {
        let key_text = private_key.filter(|k| !k.is_empty());
        let passphrase = private_key_passphrase.clone();
        let options = crate::backend::options::ClientOptions {
            port: Some(super::args::opt_int_in("port", port, 1, 65535)?.unwrap_or(22) as u16),
            password,
            private_key_file,
            private_key_passphrase,
            use_agent: Some(use_agent),
            known_hosts_file,
            host_key_fingerprint,
            accept_new_host_key: Some(accept_new_host_key),
            ..Default::default()
        };
        let login = user.map(|u| u.split('@').next().unwrap_or_default().to_string());
        let mut config = options.ssh_config(
            host,
            login,
            crate::limits::duration("connect_timeout", connect_timeout, false)
                .map_err(PyValueError::new_err)?,
        );
        if let Some(pem) = key_text {
            // A key given as text comes first; without a password or key file the
            // defaults (agent, ~/.ssh keys) would have been added: the key replaces them.
            let has_explicit = options.password.is_some()
                || options.private_key_file.is_some()
                || options.use_agent == Some(true);
            if !has_explicit {
                config.auth.clear();
            }
            config.auth.insert(
                0,
                crate::transport::ssh::SshAuth::KeyText { pem, passphrase },
            );
        }
        Ok(SshClient {
            session: Arc::new(SshSession::new(config)),
        })
    }

    /// Connects and logs in (awaitable).
    fn connect<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let s = self.session.clone();
        super::bridge::spawn(py, async move { s.connect().await }, |py, r| match r {
            Ok(()) => Ok(py.None()),
            Err(e) => Err(to_py_err(py, e)),
        })
    }

    /// Runs a shell command line; awaitable of a dict (`stdout`, `stderr` as bytes,
    /// `exit_code`, `duration_s`, `truncated`).
    #[pyo3(signature = (command, timeout = None, max_output_bytes = None))]
    fn run<'py>(
        &self,
        py: Python<'py>,
        command: String,
        timeout: Option<f64>,
        max_output_bytes: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let timeout = timeout
            .map(|t| crate::limits::duration("timeout", t, false))
            .transpose()
            .map_err(PyValueError::new_err)?;
        let max_output_bytes =
            super::args::opt_int_in("max_output_bytes", max_output_bytes, 1, i64::MAX)?
                .map(|n| n as usize);
        let s = self.session.clone();
        let run = async move { s.exec(&command, timeout, max_output_bytes).await };
        super::bridge::spawn(py, run, |py, r| match r {
            Ok(out) => Ok(RunOut(out).into_pyobject(py)?.into_any().unbind()),
            Err(e) => Err(to_py_err(py, e)),
        })
    }

    /// Closes the connection (awaitable).
    fn close<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let s = self.session.clone();
        super::bridge::spawn(py, async move { s.close().await }, |py, ()| Ok(py.None()))
    }

    fn __repr__(&self) -> String {
        let c = self.session.config();
        format!("<SshClient {}@{}:{}>", c.user, c.host, c.port)
    }
}
