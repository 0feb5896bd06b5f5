//! Rust `log` records -> Python `logging`, through pyo3-log.
//!
//! pyo3-log caches each logger's level so that a disabled record costs no GIL. Python's
//! `logging` clears its own level cache (`Manager._clear_cache`) whenever a level changes
//! (`setLevel`, `basicConfig`, `dictConfig`, `logging.disable`); `proxmox_sdk._logging` hooks
//! that moment and calls [`_logging_changed`], which drops pyo3-log's cache and sets
//! `log::max_level` to the most verbose level any `proxmox_sdk` logger has, so that a
//! disabled `debug!` in the request pipeline is one atomic load.

use std::sync::OnceLock;

use log::LevelFilter;
use pyo3::prelude::*;

static RESET: OnceLock<pyo3_log::ResetHandle> = OnceLock::new();

/// Installs the bridge (once per process) and the hook that keeps it in step; `notify` is
/// the module's [`_logging_changed`].
pub fn install(py: Python<'_>, notify: Bound<'_, PyAny>) -> PyResult<()> {
    if RESET.get().is_none() {
        // Only our own records go to Python: dependencies (rustls, russh) log through the
        // same facade, and Python's last-resort handler would print their warnings.
        let logger = pyo3_log::Logger::new(py, pyo3_log::Caching::LoggersAndLevels)?
            .filter(LevelFilter::Off)
            .filter_target("proxmox_sdk".to_string(), LevelFilter::Trace);
        if let Ok(handle) = logger.install() {
            let _ = RESET.set(handle);
        }
    }
    py.import("proxmox_sdk._logging")?
        .call_method1("install", (notify,))?;
    Ok(())
}

/// Called by `proxmox_sdk._logging` when Python's logging levels may have changed:
/// `level` is the most verbose effective level (a `logging` number) among the
/// `proxmox_sdk` loggers, or `None` when everything is disabled.
#[pyfunction]
#[pyo3(signature = (level = None))]
pub fn _logging_changed(level: Option<i64>) {
    if let Some(handle) = RESET.get() {
        handle.reset();
    }
    let filter = match level {
        None => LevelFilter::Off,
        Some(l) if l <= 5 => LevelFilter::Trace,
        Some(l) if l <= 10 => LevelFilter::Debug,
        Some(l) if l <= 20 => LevelFilter::Info,
        Some(l) if l <= 30 => LevelFilter::Warn,
        Some(l) if l <= 50 => LevelFilter::Error,
        Some(_) => LevelFilter::Off,
    };
    log::set_max_level(filter);
}
