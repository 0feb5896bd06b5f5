//! Answers in their final form. Most answers are a [`Value`]; a list the mock computes row
//! by row (a guest list, `/cluster/resources`, a task list) is [`Rows`]: one sorted set of
//! keys and, per row, the cells it has. Rows are made from a template row per row type and
//! patched where members differ, so a 10,000-guest list is 10,000 small allocations rather
//! than a tree of maps with a copy of every key; serialized (to JSON, or to Python objects at
//! the edge) straight from the cells, each key converted once per answer. A [`Cell`] holds a
//! number, a flag or a fixed text inline (24 bytes, no allocation), other text in a box of
//! its own size, and anything else as a boxed value.

use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

/// An answer: a JSON value, or rows of objects sharing their keys.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// Any JSON.
    Value(Value),
    /// A list of objects.
    Rows(Rows),
    /// JSON text already written (the server's form of some lists, see
    /// [`crate::mock::MockPve::answer_for_wire`]).
    Json(Vec<u8>),
}

impl Answer {
    /// The answer as a JSON value (rows become a list of objects).
    pub fn into_value(self) -> Value {
        match self {
            Answer::Value(v) => v,
            Answer::Rows(r) => r.into_value(),
            // Text this crate wrote from JSON values: it reads back.
            Answer::Json(text) => serde_json::from_slice(&text).unwrap_or(Value::Null),
        }
    }

    /// The answer as JSON text.
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.size_hint());
        self.write_json(&mut out);
        out
    }

    /// `{"data": <answer>}`, PVE's envelope, written without copying the answer.
    pub fn to_envelope(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.size_hint() + 10);
        out.extend_from_slice(b"{\"data\":");
        self.write_json(&mut out);
        out.push(b'}');
        out
    }

    fn write_json(&self, out: &mut Vec<u8>) {
        match self {
            Answer::Rows(rows) => rows.write_json(out),
            Answer::Value(v) => write_value(out, v),
            Answer::Json(text) => out.extend_from_slice(text),
        }
    }

    fn size_hint(&self) -> usize {
        match self {
            Answer::Value(_) => 256,
            Answer::Rows(r) => r.len() * r.keys.len() * 16,
            Answer::Json(text) => text.len(),
        }
    }
}

/// Appends `v` as JSON. Writing to a Vec fails only for what JSON cannot hold (nothing that
/// reaches here: the mock's values are JSON already), which is written as `null`.
fn write_value<T: Serialize + ?Sized>(out: &mut Vec<u8>, v: &T) {
    let start = out.len();
    if serde_json::to_writer(&mut *out, v).is_err() {
        out.truncate(start);
        out.extend_from_slice(b"null");
    }
}

impl From<Value> for Answer {
    fn from(v: Value) -> Answer {
        Answer::Value(v)
    }
}

impl From<Rows> for Answer {
    fn from(r: Rows) -> Answer {
        Answer::Rows(r)
    }
}

/// One row's cells, by key.
pub type Cells = Box<[Cell]>;

/// One member of a row: nothing (the row does not have the key), or its value.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Cell {
    /// The row does not have this key.
    #[default]
    Absent,
    /// `null`.
    Null,
    /// A flag.
    Bool(bool),
    /// A whole number.
    Int(i64),
    /// A whole number beyond `i64`.
    Uint(u64),
    /// A number with a fraction.
    Float(f64),
    /// Text known when the code was written (`stopped`, `qemu`).
    Static(&'static str),
    /// Other text.
    Text(Box<str>),
    /// A list or an object.
    Value(Box<Value>),
}

impl Cell {
    /// Whether the row lacks this key.
    pub fn is_absent(&self) -> bool {
        matches!(self, Cell::Absent)
    }

    /// The cell as a JSON value (`None` for [`Cell::Absent`]).
    pub fn to_value(&self) -> Option<Value> {
        Some(match self {
            Cell::Absent => return None,
            Cell::Null => Value::Null,
            Cell::Bool(b) => Value::Bool(*b),
            Cell::Int(i) => Value::from(*i),
            Cell::Uint(u) => Value::from(*u),
            Cell::Float(f) => Value::from(*f),
            Cell::Static(t) => Value::from(*t),
            Cell::Text(t) => Value::from(&**t),
            Cell::Value(v) => (**v).clone(),
        })
    }

    /// The cell as a JSON value, taken apart (`None` for [`Cell::Absent`]).
    pub fn into_value(self) -> Option<Value> {
        match self {
            Cell::Text(t) => Some(Value::String(t.into())),
            Cell::Value(v) => Some(*v),
            other => other.to_value(),
        }
    }
}

impl From<Value> for Cell {
    fn from(v: Value) -> Cell {
        match v {
            Value::Null => Cell::Null,
            Value::Bool(b) => Cell::Bool(b),
            Value::Number(n) => match (n.as_i64(), n.as_u64()) {
                (Some(i), _) => Cell::Int(i),
                (None, Some(u)) => Cell::Uint(u),
                _ => n.as_f64().map_or(Cell::Null, Cell::Float),
            },
            Value::String(t) => Cell::Text(t.into_boxed_str()),
            other => Cell::Value(Box::new(other)),
        }
    }
}

impl From<&Value> for Cell {
    fn from(v: &Value) -> Cell {
        match v {
            Value::String(t) => Cell::Text(t.as_str().into()),
            Value::Array(_) | Value::Object(_) => Cell::Value(Box::new(v.clone())),
            scalar => Cell::from(scalar.clone()),
        }
    }
}

impl<T: Into<Cell>> From<Option<T>> for Cell {
    fn from(v: Option<T>) -> Cell {
        v.map_or(Cell::Absent, Into::into)
    }
}

impl From<&'static str> for Cell {
    fn from(t: &'static str) -> Cell {
        Cell::Static(t)
    }
}

impl From<String> for Cell {
    fn from(t: String) -> Cell {
        Cell::Text(t.into_boxed_str())
    }
}

impl From<bool> for Cell {
    fn from(b: bool) -> Cell {
        Cell::Bool(b)
    }
}

impl From<f64> for Cell {
    fn from(f: f64) -> Cell {
        Cell::Float(f)
    }
}

macro_rules! int_cells {
    ($($t:ty),*) => {$(
        impl From<$t> for Cell {
            fn from(i: $t) -> Cell {
                Cell::Int(i64::from(i))
            }
        }
    )*};
}
int_cells!(i32, u8, u16, u32);

impl From<u64> for Cell {
    fn from(u: u64) -> Cell {
        i64::try_from(u).map_or(Cell::Uint(u), Cell::Int)
    }
}

impl Serialize for Cell {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Cell::Absent | Cell::Null => s.serialize_unit(),
            Cell::Bool(b) => s.serialize_bool(*b),
            Cell::Int(i) => s.serialize_i64(*i),
            Cell::Uint(u) => s.serialize_u64(*u),
            // As serde_json writes a value's float (non-finite ones never reach a cell).
            Cell::Float(f) => Value::from(*f).serialize(s),
            Cell::Static(t) => s.serialize_str(t),
            Cell::Text(t) => s.serialize_str(t),
            Cell::Value(v) => v.serialize(s),
        }
    }
}

/// The keys of [`Rows`] escaped once, as `"key":`, for writing rows as JSON objects.
pub struct JsonKeys(Box<[Box<[u8]>]>);

impl JsonKeys {
    /// Appends one row (cells by key, as [`Rows::empty_row`] makes them) as a JSON object
    /// with the cells it has.
    pub fn write_row(&self, cells: &[Cell], out: &mut Vec<u8>) {
        out.push(b'{');
        let mut first = true;
        for (key, cell) in self.0.iter().zip(cells.iter()) {
            if cell.is_absent() {
                continue;
            }
            if !first {
                out.push(b',');
            }
            first = false;
            out.extend_from_slice(key);
            write_value(out, cell);
        }
        out.push(b'}');
    }
}

/// A list of objects over one sorted set of keys; each row holds, per key, its value or
/// nothing (a key the row does not have).
#[derive(Debug, Clone, PartialEq)]
pub struct Rows {
    keys: Box<[Box<str>]>,
    rows: Vec<Cells>,
}

impl Rows {
    /// No rows yet, over `keys` (sorted and deduplicated here).
    pub fn new<K: Into<Box<str>>>(keys: impl IntoIterator<Item = K>) -> Rows {
        let mut keys: Vec<Box<str>> = keys.into_iter().map(Into::into).collect();
        keys.sort_unstable();
        keys.dedup();
        Rows {
            keys: keys.into(),
            rows: Vec::new(),
        }
    }

    /// No rows yet, over `keys`, and the column of each of `keys` in their order given (so
    /// that a caller fills cells by name without looking each up).
    pub fn with_columns<const N: usize>(keys: [&str; N]) -> (Rows, [usize; N]) {
        let rows = Rows::new(keys);
        // Every key is one of the keys just sorted in: the search cannot miss.
        let columns = keys.map(|k| rows.column(k).unwrap_or_default());
        (rows, columns)
    }

    /// The keys, sorted.
    pub fn keys(&self) -> &[Box<str>] {
        &self.keys
    }

    /// The column of `key`, if it is one of the keys.
    pub fn column(&self, key: &str) -> Option<usize> {
        self.keys.binary_search_by(|k| (**k).cmp(key)).ok()
    }

    /// A row with no cells set, to fill and [`Rows::push`] (or to keep as a template).
    pub fn empty_row(&self) -> Cells {
        vec![Cell::Absent; self.keys.len()].into_boxed_slice()
    }

    /// Appends a row made by [`Rows::empty_row`] (or a copy of one).
    ///
    /// # Panics
    /// Never for rows made by this value's `empty_row`; a row of another width is a bug in
    /// the caller and is cut or padded rather than trusted.
    pub fn push(&mut self, row: Cells) {
        if row.len() == self.keys.len() {
            self.rows.push(row);
        } else {
            let mut row = row.into_vec();
            row.resize(self.keys.len(), Cell::Absent);
            self.rows.push(row.into_boxed_slice());
        }
    }

    /// Reserves room for `n` more rows.
    pub fn reserve(&mut self, n: usize) {
        self.rows.reserve(n);
    }

    /// How many rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The keys and the rows, taken apart (for a consumer that converts row by row and
    /// frees each as it goes).
    pub fn into_parts(self) -> (Box<[Box<str>]>, Vec<Cells>) {
        (self.keys, self.rows)
    }

    /// Appends the rows as JSON text: a list of objects, each key escaped once for all
    /// rows rather than once per row.
    fn write_json(&self, out: &mut Vec<u8>) {
        let keys = self.json_keys();
        out.push(b'[');
        for (i, cells) in self.rows.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            keys.write_row(cells, out);
        }
        out.push(b']');
    }

    /// The keys as JSON text, to write rows of these keys one at a time
    /// ([`JsonKeys::write_row`]).
    pub fn json_keys(&self) -> JsonKeys {
        JsonKeys(
            self.keys
                .iter()
                .map(|k| {
                    let mut text = Vec::new();
                    write_value(&mut text, &**k);
                    text.push(b':');
                    text.into_boxed_slice()
                })
                .collect(),
        )
    }

    /// The rows as a JSON list of objects.
    pub fn into_value(self) -> Value {
        let (keys, rows) = self.into_parts();
        Value::Array(
            rows.into_iter()
                .map(|cells| {
                    let mut map = Map::new();
                    for (k, cell) in keys.iter().zip(cells.into_vec()) {
                        if let Some(v) = cell.into_value() {
                            map.insert(k.to_string(), v);
                        }
                    }
                    Value::Object(map)
                })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Rows {
        let mut rows = Rows::new(["vmid", "name", "status", "name"]);
        assert_eq!(rows.keys().len(), 3, "keys are deduplicated");
        let (name, status, vmid) = (
            rows.column("name").unwrap(),
            rows.column("status").unwrap(),
            rows.column("vmid").unwrap(),
        );
        let mut template = rows.empty_row();
        template[status] = "stopped".into();
        for id in [101, 100] {
            let mut row = template.clone();
            row[vmid] = Cell::from(id);
            if id == 100 {
                row[name] = Cell::from(json!("web"));
            }
            rows.push(row);
        }
        rows
    }

    #[test]
    fn rows_serialize_as_a_list_of_objects_with_only_the_cells_set() {
        let rows = sample();
        let expected = json!([
            {"status": "stopped", "vmid": 101},
            {"name": "web", "status": "stopped", "vmid": 100},
        ]);
        assert_eq!(rows.clone().into_value(), expected);
        let answer = Answer::Rows(rows);
        assert_eq!(
            answer.to_json(),
            serde_json::to_vec(&expected).unwrap(),
            "the text serde_json writes for the same value"
        );
        let text = String::from_utf8(answer.to_envelope()).unwrap();
        assert_eq!(
            serde_json::from_str::<Value>(&text).unwrap(),
            json!({ "data": expected })
        );
    }

    #[test]
    fn a_key_not_among_the_keys_has_no_column() {
        assert_eq!(Rows::new(["a"]).column("b"), None);
        assert_eq!(Rows::new(["a"]).column("a"), Some(0));
    }

    #[test]
    fn a_row_of_another_width_is_padded_not_trusted() {
        let mut rows = Rows::new(["a", "b"]);
        rows.push(vec![Cell::from(1u8)].into_boxed_slice());
        assert_eq!(rows.into_value(), json!([{"a": 1}]));
    }

    #[test]
    fn cells_hold_every_json_value_and_write_it_as_serde_json_does() {
        let values = [
            json!(null),
            json!(true),
            json!(-3),
            json!(u64::MAX),
            json!(0.02),
            json!(1.0),
            json!("stopped \"quoted\" \u{e9}"),
            json!([1, "a"]),
            json!({"b": [null]}),
        ];
        for v in values {
            let cell = Cell::from(v.clone());
            assert_eq!(cell.to_value(), Some(v.clone()));
            assert_eq!(Cell::from(&v), cell);
            assert_eq!(serde_json::to_string(&cell).unwrap(), v.to_string());
            assert_eq!(cell.into_value(), Some(v));
        }
        assert_eq!(Cell::from(None::<Value>), Cell::Absent);
        assert_eq!(Cell::from(7u64), Cell::Int(7));
        assert_eq!(Cell::Static("qemu").to_value(), Some(json!("qemu")));
        assert!(std::mem::size_of::<Cell>() <= 24, "a cell stays small");
    }

    #[test]
    fn json_maps_are_ordered_by_key() {
        // Rows sort their keys to serialize as a map of the same members would, and config
        // digests hash a map's text as canonical: both need serde_json without
        // `preserve_order` (no dependency may turn it on).
        let mut m = Map::new();
        m.insert("b".into(), json!(1));
        m.insert("a".into(), json!(2));
        assert_eq!(serde_json::to_string(&m).unwrap(), r#"{"a":2,"b":1}"#);
    }

    #[test]
    fn values_envelope_like_pve() {
        let answer = Answer::from(json!({"version": "9.2"}));
        assert_eq!(
            answer.to_envelope(),
            br#"{"data":{"version":"9.2"}}"#.to_vec()
        );
        assert_eq!(
            Answer::from(Value::Null).to_envelope(),
            br#"{"data":null}"#.to_vec()
        );
    }
}
