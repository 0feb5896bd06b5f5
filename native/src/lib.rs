//! The `proxmox_sdk._native` extension module. Everything it holds is defined by the
//! `proxmox-sdk` crate's PyO3 edge (`src/python/`); this crate only names the module.

use pyo3::prelude::*;

/// The native core of `proxmox_sdk`.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    proxmox_sdk::python::init_module(m)
}
