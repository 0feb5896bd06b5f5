//! Direct conversion between Python objects and `serde_json::Value` (no intermediate JSON
//! text): parameters in, answers out.

use std::collections::HashMap;

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{
    PyBool, PyByteArray, PyBytes, PyDict, PyFloat, PyFrozenSet, PyInt, PyList, PyMemoryView, PySet,
    PyString, PyTuple,
};
use serde_json::{Map, Number, Value};

use crate::api::{Answer, Cell, Rows};

/// Converts a Python value into JSON; `what` names it in errors (`parameter 'vmid'`).
///
/// The rules (the same for SDK parameters, mock seeding and `set_object`):
/// - `None`, `bool`, `int` (beyond 64 bits: sent as its decimal text), finite `float`, `str`;
/// - `dict` (keys as text), `list`, `tuple`, `set`, `frozenset`, nested at most
///   [`MAX_DEPTH`](crate::limits::MAX_DEPTH) levels; a container holding itself is a
///   `ValueError`, as is a value nested deeper;
/// - iterators and generators are refused (`TypeError`): they may be endless
///   (`itertools.count()`) and are consumed by being read, so the caller passes a list;
/// - `bytes`, `bytearray` and `memoryview` are refused (`TypeError`): PVE's parameters are
///   text, and a file to upload is passed as a file object, not as its bytes.
pub fn to_value(obj: &Bound<'_, PyAny>, what: &dyn Fn() -> String) -> PyResult<Value> {
    let mut open = Vec::new();
    convert(obj, what, what, &mut open)
}

/// `open` holds the containers being converted (outermost first): its length is the depth,
/// and meeting one of them again is a cycle. Type errors name the exact place
/// (`parameter 'net'['x'][3]`); cycle and depth errors name the parameter (`root`).
fn convert(
    obj: &Bound<'_, PyAny>,
    root: &dyn Fn() -> String,
    what: &dyn Fn() -> String,
    open: &mut Vec<*mut pyo3::ffi::PyObject>,
) -> PyResult<Value> {
    if obj.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if let Ok(i) = obj.cast::<PyInt>() {
        if let Ok(v) = i.extract::<i64>() {
            return Ok(Value::from(v));
        }
        if let Ok(v) = i.extract::<u64>() {
            return Ok(Value::from(v));
        }
        // Larger than 64 bits: PVE would read it as text anyway.
        return Ok(Value::String(i.str()?.to_string()));
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        let v = f.value();
        return Number::from_f64(v).map(Value::Number).ok_or_else(|| {
            PyValueError::new_err(format!(
                "{}: expected a finite number, got {}",
                what(),
                crate::limits::py_number(v)
            ))
        });
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Value::String(s.to_str()?.to_string()));
    }
    if obj.is_instance_of::<PyBytes>()
        || obj.is_instance_of::<PyByteArray>()
        || obj.is_instance_of::<PyMemoryView>()
    {
        return Err(PyTypeError::new_err(format!(
            "{}: {} values are not sent as parameters; decode them to str, or pass a file \
             object (open(path, 'rb'), io.BytesIO) to upload them",
            what(),
            obj.get_type().name()?
        )));
    }
    let is_container = obj.is_instance_of::<PyDict>()
        || obj.is_instance_of::<PyList>()
        || obj.is_instance_of::<PyTuple>()
        || obj.is_instance_of::<PySet>()
        || obj.is_instance_of::<PyFrozenSet>();
    if !is_container {
        let kind = if obj.hasattr("__next__")? {
            " (iterators and generators are not consumed: pass list(...) instead)"
        } else {
            ""
        };
        return Err(PyTypeError::new_err(format!(
            "{}: expected str, int, float, bool, None, list, tuple, set or dict, got {}{kind}",
            what(),
            obj.get_type().name()?
        )));
    }
    let ptr = obj.as_ptr();
    if open.contains(&ptr) {
        return Err(PyValueError::new_err(format!(
            "{}: the value contains itself (a dict or list that refers back to itself cannot \
             be sent)",
            root()
        )));
    }
    if open.len() >= crate::limits::MAX_DEPTH {
        return Err(PyValueError::new_err(crate::limits::depth_error(&root())));
    }
    open.push(ptr);
    let out = convert_container(obj, root, what, open);
    open.pop();
    out
}

fn convert_container(
    obj: &Bound<'_, PyAny>,
    root: &dyn Fn() -> String,
    what: &dyn Fn() -> String,
    open: &mut Vec<*mut pyo3::ffi::PyObject>,
) -> PyResult<Value> {
    if let Ok(d) = obj.cast::<PyDict>() {
        // Taken out first: a key's `__str__` is Python code, and a dict that changes size
        // while PyO3 walks it is a panic, not an exception.
        let items: Vec<_> = d.iter().collect();
        let mut map = Map::with_capacity(items.len());
        for (k, v) in items {
            let key = match k.cast::<PyString>() {
                Ok(s) => s.to_str()?.to_string(),
                Err(_) => k.str()?.to_string(),
            };
            let value = convert(&v, root, &|| format!("{}['{key}']", what()), open)?;
            map.insert(key, value);
        }
        return Ok(Value::Object(map));
    }
    let mut out = Vec::with_capacity(obj.len().unwrap_or(0));
    for (i, item) in obj.try_iter()?.enumerate() {
        out.push(convert(&item?, root, &|| format!("{}[{i}]", what()), open)?);
    }
    Ok(Value::Array(out))
}

/// Converts JSON into Python objects. Object keys repeat across items and calls (a guest list
/// has the same thirty keys fifty times, every `/version` answer the same three), so each
/// distinct key becomes a Python string once per process (up to [`KEY_CACHE_LIMIT`] keys,
/// each at most 64 bytes) and is reused with its hash already computed.
pub fn to_py<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
    with_keys(|keys| to_py_keys(py, v, keys))
}

/// Runs `f` with the process-wide key cache; re-entered (a finalizer run by the garbage
/// collector during a conversion made a call of its own), with keys of its own rather
/// than waiting for itself.
fn with_keys<T>(f: impl FnOnce(&mut Option<KeyCache>) -> T) -> T {
    match KEYS.try_lock() {
        Some(mut keys) => f(&mut keys),
        None => f(&mut None),
    }
}

/// An answer as Python objects: [`to_py`] for a value; rows become a list of dicts, each
/// key converted once for the whole answer and each row's cells freed as soon as its dict
/// is made (the native and the Python copy of a large list are never both whole).
pub fn answer_to_py(py: Python<'_>, answer: Answer) -> PyResult<Bound<'_, PyAny>> {
    match answer {
        Answer::Value(v) => to_py(py, &v),
        Answer::Rows(rows) => with_keys(|keys| rows_to_py(py, rows, keys)),
        // Only the server asks for this form; an in-process answer never has it.
        json @ Answer::Json(_) => to_py(py, &json.into_value()),
    }
}

fn rows_to_py<'py>(
    py: Python<'py>,
    rows: Rows,
    keys: &mut Option<KeyCache>,
) -> PyResult<Bound<'py, PyAny>> {
    let (names, rows) = rows.into_parts();
    let names: Vec<Bound<'py, PyString>> = names.iter().map(|k| key(py, k, keys)).collect();
    let mut items = Vec::with_capacity(rows.len());
    for cells in rows {
        let dict = PyDict::new(py);
        for (name, cell) in names.iter().zip(cells.iter()) {
            let value = match cell {
                Cell::Absent => continue,
                Cell::Null => py.None().into_bound(py),
                Cell::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
                Cell::Int(i) => i.into_pyobject(py)?.into_any(),
                Cell::Uint(u) => u.into_pyobject(py)?.into_any(),
                Cell::Float(f) => f.into_pyobject(py)?.into_any(),
                Cell::Static(t) => PyString::new(py, t).into_any(),
                Cell::Text(t) => PyString::new(py, t).into_any(),
                Cell::Value(v) => to_py_keys(py, v, keys)?,
            };
            dict.set_item(name, value)?;
        }
        drop(cells);
        items.push(dict);
    }
    Ok(PyList::new(py, items)?.into_any())
}

/// Keys kept as Python strings.
const KEY_CACHE_LIMIT: usize = 8192;

/// The process-wide key cache. Only touched with the GIL held, so the lock is never
/// contended; it is a lock rather than a GIL-bound cell so that the type stays `Sync`.
static KEYS: parking_lot::Mutex<Option<KeyCache>> = parking_lot::Mutex::new(None);

/// Interned dict keys (a fast hasher: keys are looked up for every answer's every field).
type KeyCache = HashMap<Box<str>, Py<PyString>, foldhash::fast::RandomState>;

fn key<'py>(py: Python<'py>, k: &str, keys: &mut Option<KeyCache>) -> Bound<'py, PyString> {
    let cache = keys.get_or_insert_with(KeyCache::default);
    if let Some(found) = cache.get(k) {
        return found.bind(py).clone();
    }
    let s = PyString::new(py, k);
    if k.len() <= 64 && cache.len() < KEY_CACHE_LIMIT {
        cache.insert(k.into(), s.clone().unbind());
    }
    s
}

fn to_py_keys<'py>(
    py: Python<'py>,
    v: &Value,
    keys: &mut Option<KeyCache>,
) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any()
            } else if let Some(u) = n.as_u64() {
                u.into_pyobject(py)?.into_any()
            } else {
                n.as_f64().unwrap_or(0.0).into_pyobject(py)?.into_any()
            }
        }
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(to_py_keys(py, item, keys)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (k, item) in map {
                let value = to_py_keys(py, item, keys)?;
                dict.set_item(key(py, k, keys), value)?;
            }
            dict.into_any()
        }
    })
}
