//! `MockStore`: the handle test suites use on a mock's shared state (`reset`,
//! `get_object`, `set_object`, `seed`, `save`, `load`) and its test controls (failures,
//! latency, offline nodes, the clock, task duration, ticket expiry, the request log).

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use super::convert::{to_py, to_value};
use crate::mock::MockPve;

/// A handle on one mock store (shared per schema version and namespace).
#[pyclass(module = "proxmox_sdk.mock.state", name = "MockStore", frozen)]
pub struct MockStore {
    mock: MockPve,
}

impl MockStore {
    /// The store of `mock`.
    pub fn new(mock: MockPve) -> MockStore {
        MockStore { mock }
    }
}

#[pymethods]
impl MockStore {
    /// The state as the original package's PDM seed (a PDM mock only).
    fn pdm_seed<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        if self.mock.schema().product() != crate::schema::Product::Pdm {
            return Err(PyValueError::new_err(
                "pdm_seed: this store is not a PDM mock's",
            ));
        }
        to_py(py, &self.mock.pdm_seed())
    }

    /// Replaces the state with a seed in the original package's PDM shape; with
    /// `initial` (default), `reset()` returns to it.
    #[pyo3(signature = (seed, initial = true))]
    fn load_pdm_seed(&self, seed: &Bound<'_, PyAny>, initial: bool) -> PyResult<()> {
        let v = to_value(seed, &|| "seed".to_string())?;
        self.mock
            .load_pdm_seed(&v, initial)
            .map_err(PyValueError::new_err)
    }

    /// The product whose state this is (`PVE`, `PBS`, `PMG`, `PDM`).
    #[getter]
    fn service(&self) -> &'static str {
        self.mock.schema().product().name()
    }

    /// Back to the initial state.
    fn reset(&self) -> PyResult<()> {
        self.mock.store().reset();
        Ok(())
    }

    /// The value set for `path` (or the member's config), else `None`.
    fn get_object<'py>(&self, py: Python<'py>, path: &str) -> PyResult<Bound<'py, PyAny>> {
        match self.mock.get_object(path) {
            Some(v) => to_py(py, &v),
            None => Ok(py.None().into_bound(py)),
        }
    }

    /// The exact answer for `path`; a member path makes the member exist.
    fn set_object(&self, path: &str, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let v = to_value(value, &|| "value".to_string())?;
        self.mock.set_object(path, v);
        Ok(())
    }

    /// Forget `path` (and a member with everything under it).
    fn delete_object(&self, path: &str) -> PyResult<bool> {
        Ok(self.mock.delete_object(path))
    }

    /// Whether `path` (or an ancestor) was deleted.
    fn is_deleted(&self, path: &str) -> PyResult<bool> {
        Ok(self.mock.is_deleted(path))
    }

    /// Write the live state to a JSON file.
    fn save(&self, path: &Bound<'_, PyAny>) -> PyResult<()> {
        let path = super::args::fspath(path)?;
        self.mock
            .store()
            .save(std::path::Path::new(&path))
            .map(drop)
            .map_err(|e| PyValueError::new_err(format!("{path}: {e}")))
    }

    /// Replace the live state with a saved one.
    fn load(&self, path: &Bound<'_, PyAny>) -> PyResult<()> {
        let path = super::args::fspath(path)?;
        self.mock
            .store()
            .load(std::path::Path::new(&path))
            .map_err(|e| PyValueError::new_err(e.to_string()))
    }

    /// Seed `{path: value}` and make it part of the state `reset()` returns to.
    fn seed(&self, data: &Bound<'_, PyDict>) -> PyResult<()> {
        let mock = &self.mock;
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
        mock.store().keep_as_initial();
        Ok(())
    }

    /// The next `count` requests matching `method` (any if `None`) and `path`
    /// (a concrete path prefix or a template) fail with `status` and `message`; worker
    /// Operations answer a UPID whose task fails instead.
    #[pyo3(signature = (path, status = None, message = "injected failure".to_string(), method = None, count = None))]
    fn inject_failure(
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
        self.mock.store().inject_fault(crate::mock::control::Fault {
            method,
            path,
            remaining: count.max(1),
            status,
            message,
        });
        Ok(())
    }

    /// Latency added to every request (seconds, 0 to 86400). The async SDK
    /// Waits for it on the runtime, never blocking the event loop.
    fn set_latency(&self, seconds: f64) -> PyResult<()> {
        let latency =
            crate::limits::duration("seconds", seconds, true).map_err(PyValueError::new_err)?;
        self.mock.store().set_latency(latency);
        Ok(())
    }

    /// A node's requests answer 595 while it is offline.
    #[pyo3(signature = (node, offline = true))]
    fn set_node_offline(&self, node: &str, offline: bool) -> PyResult<()> {
        self.mock.store().set_node_offline(node, offline);
        Ok(())
    }

    /// Moves the mock's clock forward (0 to ten years, in seconds); returns
    /// The new time (epoch seconds).
    fn advance_clock(&self, seconds: f64) -> PyResult<u64> {
        let step = crate::limits::seconds(
            "seconds",
            seconds,
            crate::limits::MAX_CLOCK_STEP_SECONDS,
            true,
        )
        .map_err(PyValueError::new_err)?;
        let store = self.mock.store();
        store.advance_clock(step.as_secs() as i64);
        Ok(store.now())
    }

    /// Tasks take `scale` times their nominal duration on the mock's clock
    /// (0 to 10,000).
    fn set_time_scale(&self, scale: f64) -> PyResult<()> {
        if !(scale.is_finite() && (0.0..=10_000.0).contains(&scale)) {
            return Err(PyValueError::new_err(format!(
                "scale must be between 0 and 10000, got {}",
                crate::limits::py_number(scale)
            )));
        }
        self.mock.store().set_time_scale(scale);
        Ok(())
    }

    /// Makes every ticket issued so far invalid.
    fn expire_tickets(&self) -> PyResult<()> {
        self.mock.store().expire_tickets();
        Ok(())
    }

    /// The requests received (oldest first, secrets redacted).
    fn requests<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let log = serde_json::to_value(self.mock.store().requests()).unwrap_or_default();
        to_py(py, &log)
    }

    /// Forgets the request log.
    fn clear_requests(&self) -> PyResult<()> {
        self.mock.store().clear_requests();
        Ok(())
    }

    /// The schema version this store serves.
    #[getter]
    fn schema_version(&self) -> String {
        self.mock.schema().version().to_string()
    }

    fn __repr__(&self) -> String {
        format!(
            "<MockStore version={} namespace={}>",
            self.mock.schema().version(),
            self.mock.store().namespace()
        )
    }
}
