//! Checked arguments at the Python edge. PyO3's own extraction of fixed-width integers
//! raises `OverflowError` for large values; these helpers turn every out-of-range or
//! wrongly typed argument into the `ValueError` / `TypeError` that names it.

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyInt};

/// An integer argument from `lo` to `hi` (inclusive): `TypeError` if it is not an `int`
/// (`bool` included), `ValueError` naming `name` and the range otherwise.
pub fn int_in(name: &str, obj: &Bound<'_, PyAny>, lo: i64, hi: i64) -> PyResult<i64> {
    if obj.is_instance_of::<PyBool>() || !obj.is_instance_of::<PyInt>() {
        return Err(PyTypeError::new_err(format!(
            "{name}: expected an integer, got {}",
            type_name(obj)
        )));
    }
    match obj.extract::<i64>() {
        Ok(v) if (lo..=hi).contains(&v) => Ok(v),
        _ => Err(PyValueError::new_err(format!(
            "{name}: expected an integer from {lo} to {hi}, got {}",
            obj.repr().map_or_else(|_| "?".into(), |r| r.to_string())
        ))),
    }
}

/// [`int_in`] for an optional argument (`None` stays `None`).
pub fn opt_int_in(
    name: &str,
    obj: Option<&Bound<'_, PyAny>>,
    lo: i64,
    hi: i64,
) -> PyResult<Option<i64>> {
    match obj {
        Some(o) if !o.is_none() => int_in(name, o, lo, hi).map(Some),
        _ => Ok(None),
    }
}

/// The name of `obj`'s type, for messages.
pub fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map_or_else(|_| "?".to_string(), |n| n.to_string())
}

/// A path argument: `str` or `os.PathLike`, as text.
pub fn fspath(obj: &Bound<'_, PyAny>) -> PyResult<String> {
    let py = obj.py();
    py.import("os")?
        .call_method1("fspath", (obj,))
        .and_then(|p| p.extract::<String>())
        .map_err(|_| {
            PyTypeError::new_err(format!(
                "expected a path (str or os.PathLike), got {}",
                type_name(obj)
            ))
        })
}

/// A number of seconds as every native duration is checked (`0 <= seconds <= 86400`,
/// finite; `zero_allowed=false` refuses 0 too): `TypeError` for a value that is not a
/// number (`bool` included), `ValueError` naming `name` otherwise.
pub fn seconds_arg(name: &str, seconds: &Bound<'_, PyAny>, zero_allowed: bool) -> PyResult<f64> {
    let number = (!seconds.is_instance_of::<pyo3::types::PyBool>())
        .then(|| seconds.extract::<f64>().ok())
        .flatten()
        .ok_or_else(|| {
            pyo3::exceptions::PyTypeError::new_err(format!(
                "{name}: expected a number of seconds, got {}",
                type_name(seconds)
            ))
        })?;
    let max = crate::limits::MAX_SECONDS;
    if !crate::limits::in_range(number, max, zero_allowed) {
        // Shown as the caller wrote it (`-1`, not `-1.0`).
        let shown = seconds
            .repr()
            .map_or_else(|_| number.to_string(), |r| r.to_string());
        return Err(PyValueError::new_err(crate::limits::range_error(
            name,
            max,
            zero_allowed,
            &shown,
        )));
    }
    Ok(number)
}
