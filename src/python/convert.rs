//! Direct conversion between Python objects and `serde_json::Value` (no intermediate JSON
//! text): parameters in, answers out.

use std::collections::HashMap;

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde_json::{Map, Number, Value};

/// Converts a Python value into JSON; `what` names it in errors (`params['vmid']`).
pub fn to_value(obj: &Bound<'_, PyAny>, what: &dyn Fn() -> String) -> PyResult<Value> {
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
            PyTypeError::new_err(format!("{}: expected a finite number, got {v}", what()))
        });
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Value::String(s.to_str()?.to_string()));
    }
    if let Ok(d) = obj.cast::<PyDict>() {
        let mut map = Map::with_capacity(d.len());
        for (k, v) in d.iter() {
            let key = match k.cast::<PyString>() {
                Ok(s) => s.to_str()?.to_string(),
                Err(_) => k.str()?.to_string(),
            };
            let value = to_value(&v, &|| format!("{}['{key}']", what()))?;
            map.insert(key, value);
        }
        return Ok(Value::Object(map));
    }
    if let Ok(l) = obj.cast::<PyList>() {
        let mut out = Vec::with_capacity(l.len());
        for (i, item) in l.iter().enumerate() {
            out.push(to_value(&item, &|| format!("{}[{i}]", what()))?);
        }
        return Ok(Value::Array(out));
    }
    if let Ok(t) = obj.cast::<PyTuple>() {
        let mut out = Vec::with_capacity(t.len());
        for (i, item) in t.iter().enumerate() {
            out.push(to_value(&item, &|| format!("{}[{i}]", what()))?);
        }
        return Ok(Value::Array(out));
    }
    if let Ok(items) = obj.try_iter() {
        // Sets and other iterables of values (not bytes or mappings, handled above/below).
        if !obj.hasattr("read")? && !obj.is_instance_of::<pyo3::types::PyBytes>() {
            let mut out = Vec::new();
            for (i, item) in items.enumerate() {
                out.push(to_value(&item?, &|| format!("{}[{i}]", what()))?);
            }
            return Ok(Value::Array(out));
        }
    }
    Err(PyTypeError::new_err(format!(
        "{}: expected str, int, float, bool, None, list, tuple or dict, got {}",
        what(),
        obj.get_type().name()?
    )))
}

/// Converts JSON into Python objects. Object keys repeat across list items (a guest list has
/// the same thirty keys fifty times), so each distinct key becomes a Python string once.
pub fn to_py<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
    let mut keys = HashMap::new();
    to_py_keys(py, v, &mut keys)
}

fn to_py_keys<'py, 'v>(
    py: Python<'py>,
    v: &'v Value,
    keys: &mut HashMap<&'v str, Bound<'py, PyString>>,
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
                let key = keys
                    .entry(k.as_str())
                    .or_insert_with(|| PyString::new(py, k))
                    .clone();
                dict.set_item(key, to_py_keys(py, item, keys)?)?;
            }
            dict.into_any()
        }
    })
}
