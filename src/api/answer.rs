//! Answers in their final form. Most answers are a [`Value`]; a list the mock computes row
//! by row (a guest list, `/cluster/resources`, a task list) is [`Rows`]: one sorted set of
//! keys and, per row, the cells it has. Rows are made from a template row per row type and
//! patched where members differ, so a 10,000-guest list is 10,000 small allocations rather
//! than a tree of maps with a copy of every key; serialized (to JSON, or to Python objects at
//! the edge) straight from the cells, each key converted once per answer.

use std::sync::Arc;

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

/// An answer: a JSON value, or rows of objects sharing their keys.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// Any JSON.
    Value(Value),
    /// A list of objects.
    Rows(Rows),
}

impl Answer {
    /// The answer as a JSON value (rows become a list of objects).
    pub fn into_value(self) -> Value {
        match self {
            Answer::Value(v) => v,
            Answer::Rows(r) => r.into_value(),
        }
    }

    /// The JSON value, if the answer is one.
    pub fn as_value(&self) -> Option<&Value> {
        match self {
            Answer::Value(v) => Some(v),
            Answer::Rows(_) => None,
        }
    }

    /// `{"data": <answer>}`, PVE's envelope, serialized without copying the answer.
    pub fn to_envelope(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.size_hint() + 10);
        out.extend_from_slice(b"{\"data\":");
        match self {
            Answer::Rows(rows) => rows.write_json(&mut out),
            // Writing to a Vec fails only for values JSON cannot hold (none reach here:
            // the mock's values are JSON already).
            Answer::Value(v) => {
                if serde_json::to_writer(&mut out, v).is_err() {
                    out.truncate(8);
                    out.extend_from_slice(b"null");
                }
            }
        }
        out.push(b'}');
        out
    }

    fn size_hint(&self) -> usize {
        match self {
            Answer::Value(_) => 256,
            Answer::Rows(r) => r.len() * r.keys.len() * 16,
        }
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

impl Serialize for Answer {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Answer::Value(v) => v.serialize(s),
            Answer::Rows(r) => r.serialize(s),
        }
    }
}

/// One row's cells: per key, its value or nothing.
pub type Cells = Box<[Option<Value>]>;

/// A list of objects over one sorted set of keys; each row holds, per key, its value or
/// nothing (a key the row does not have).
#[derive(Debug, Clone, PartialEq)]
pub struct Rows {
    keys: Arc<[Box<str>]>,
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
        vec![None; self.keys.len()].into_boxed_slice()
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
            row.resize(self.keys.len(), None);
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

    /// Keeps the rows `keep` says yes to, in order.
    pub fn retain(&mut self, mut keep: impl FnMut(RowRef<'_>) -> bool) {
        let keys = self.keys.clone();
        self.rows
            .retain(|cells| keep(RowRef { keys: &keys, cells }));
    }

    /// Sorts the rows by `key` (stable).
    pub fn sort_by_cached_key<K: Ord>(&mut self, mut key: impl FnMut(RowRef<'_>) -> K) {
        let keys = self.keys.clone();
        self.rows
            .sort_by_cached_key(|cells| key(RowRef { keys: &keys, cells }));
    }

    /// Keeps at most `n` rows after the first `start`.
    pub fn window(&mut self, start: usize, n: usize) {
        let start = start.min(self.rows.len());
        self.rows.drain(..start);
        self.rows.truncate(n);
    }

    /// The rows, each as `(key, value)` pairs in key order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = RowRef<'_>> {
        self.rows.iter().map(|cells| RowRef {
            keys: &self.keys,
            cells,
        })
    }

    /// The keys and the rows, taken apart (for a consumer that converts row by row and
    /// frees each as it goes).
    pub fn into_parts(self) -> (Arc<[Box<str>]>, Vec<Cells>) {
        (self.keys, self.rows)
    }

    /// Appends the rows as JSON text (what serializing them writes, each key escaped once
    /// for all rows rather than once per row).
    pub fn write_json(&self, out: &mut Vec<u8>) {
        let keys: Vec<Vec<u8>> = self
            .keys
            .iter()
            .map(|k| {
                let mut text = serde_json::to_vec(&**k).unwrap_or_default();
                text.push(b':');
                text
            })
            .collect();
        out.push(b'[');
        for (i, cells) in self.rows.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.push(b'{');
            let mut first = true;
            for (key, cell) in keys.iter().zip(cells.iter()) {
                let Some(v) = cell else { continue };
                if !first {
                    out.push(b',');
                }
                first = false;
                out.extend_from_slice(key);
                if serde_json::to_writer(&mut *out, v).is_err() {
                    out.extend_from_slice(b"null");
                }
            }
            out.push(b'}');
        }
        out.push(b']');
    }

    /// The rows as a JSON list of objects.
    pub fn into_value(self) -> Value {
        let (keys, rows) = self.into_parts();
        Value::Array(
            rows.into_iter()
                .map(|cells| {
                    let mut map = Map::new();
                    for (k, v) in keys.iter().zip(cells.into_vec()) {
                        if let Some(v) = v {
                            map.insert(k.to_string(), v);
                        }
                    }
                    Value::Object(map)
                })
                .collect(),
        )
    }
}

/// One row, borrowed: its cells by key.
#[derive(Clone, Copy)]
pub struct RowRef<'a> {
    keys: &'a [Box<str>],
    cells: &'a [Option<Value>],
}

impl<'a> RowRef<'a> {
    /// The value under `key`, if the row has it.
    pub fn get(&self, key: &str) -> Option<&'a Value> {
        let i = self.keys.binary_search_by(|k| (**k).cmp(key)).ok()?;
        self.cells[i].as_ref()
    }

    /// The row's `(key, value)` pairs, in key order.
    pub fn entries(&self) -> impl Iterator<Item = (&'a str, &'a Value)> {
        self.keys
            .iter()
            .zip(self.cells.iter())
            .filter_map(|(k, v)| Some((&**k, v.as_ref()?)))
    }
}

impl Serialize for RowRef<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        for (k, v) in self.entries() {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl Serialize for Rows {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.rows.len()))?;
        for row in self.iter() {
            seq.serialize_element(&row)?;
        }
        seq.end()
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
        template[status] = Some(json!("stopped"));
        for id in [101, 100] {
            let mut row = template.clone();
            row[vmid] = Some(json!(id));
            if id == 100 {
                row[name] = Some(json!("web"));
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
        assert_eq!(serde_json::to_value(&rows).unwrap(), expected);
        assert_eq!(rows.clone().into_value(), expected);
        let mut written = Vec::new();
        rows.write_json(&mut written);
        assert_eq!(
            written,
            serde_json::to_vec(&rows).unwrap(),
            "the same text either way"
        );
        let text = String::from_utf8(Answer::Rows(rows).to_envelope()).unwrap();
        assert_eq!(
            serde_json::from_str::<Value>(&text).unwrap(),
            json!({ "data": expected })
        );
    }

    #[test]
    fn rows_sort_filter_and_window() {
        let mut rows = sample();
        rows.sort_by_cached_key(|r| r.get("vmid").and_then(Value::as_u64));
        assert_eq!(rows.iter().next().unwrap().get("name"), Some(&json!("web")));
        rows.retain(|r| r.get("name").is_none());
        assert_eq!(rows.len(), 1);
        rows.window(1, 10);
        assert!(rows.is_empty());
        assert_eq!(Rows::new(["a"]).column("b"), None);
    }

    #[test]
    fn a_row_of_another_width_is_padded_not_trusted() {
        let mut rows = Rows::new(["a", "b"]);
        rows.push(vec![Some(json!(1))].into_boxed_slice());
        assert_eq!(rows.into_value(), json!([{"a": 1}]));
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
