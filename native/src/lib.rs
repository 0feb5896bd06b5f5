//! The `proxmox_sdk._native` extension module. Everything it holds is defined by the
//! `proxmox-sdk` crate's PyO3 edge (`src/python/`); this crate only names the module and
//! chooses the allocator of its Rust side.

use pyo3::prelude::*;

/// mimalloc for every Rust allocation (Python's objects keep Python's allocators). Answers
/// are made on the runtime's threads and freed on Python's, and requests the other way
/// round: glibc's malloc locks the owning arena for each such free, mimalloc does not
/// (benches/README.md has the figures: about a fifth of the HTTPS client's CPU per request,
/// a quarter of a 10,000-guest list in-process).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The mimalloc options set here, by name and index (the same in mimalloc 2 and 3;
/// `tests_py/test_allocator.py` checks each index against the option mimalloc reads from
/// its environment variable), and the value used unless that variable is set:
///
/// - `arena_eager_commit` 0: commit arena memory as it is used, not whole arenas up front
///   (else a store of 10,000 guests takes ~9 MiB more RSS than under glibc's malloc);
/// - `purge_delay` 1 ms (mimalloc: 10): return freed memory to the system soon, so that a
///   large answer's peak stays where glibc's is.
///
/// mimalloc 2 (the `v2` feature), not 3: with 3 the server answered `GET /version` 8-10%
/// slower than under glibc (0.73-0.81 of the axum ceiling against 0.86-0.87), with 2 at
/// par (0.85-0.88); and 3 kept ~60 MiB of freed startup memory in an idle server.
const OPTIONS: [(&str, libmimalloc_sys::mi_option_t, std::ffi::c_long); 2] =
    [("ARENA_EAGER_COMMIT", 4, 0), ("PURGE_DELAY", 15, 1)];

/// Sets [`OPTIONS`] that the environment (`MIMALLOC_<NAME>`) does not set.
fn tune_allocator() {
    for (name, option, value) in OPTIONS {
        if std::env::var_os(format!("MIMALLOC_{name}")).is_none() {
            // SAFETY: mi_option_set writes one option's slot; it runs while the module is
            // imported (under the GIL), before this module starts any thread.
            #[allow(unsafe_code)]
            unsafe {
                libmimalloc_sys::mi_option_set(option, value);
            }
        }
    }
}

/// The mimalloc options set here and their values now (for tests).
#[pyfunction]
fn _allocator_options() -> Vec<(String, std::ffi::c_long)> {
    OPTIONS
        .iter()
        .map(|(name, option, _)| {
            // SAFETY: mi_option_get reads one option's slot.
            #[allow(unsafe_code)]
            let value = unsafe { libmimalloc_sys::mi_option_get(*option) };
            (name.to_ascii_lowercase(), value)
        })
        .collect()
}

/// The native core of `proxmox_sdk`.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    tune_allocator();
    m.add_function(wrap_pyfunction!(_allocator_options, m)?)?;
    proxmox_sdk::python::init_module(m)
}
