//! Rendering answers: JSON, YAML, aligned tables and plain text.

use serde_json::Value;

/// How answers are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// JSON on one line (pvesh's `json`).
    Json,
    /// Indented JSON (pvesh's `json-pretty`).
    JsonPretty,
    /// YAML.
    Yaml,
    /// Aligned columns (lists of objects) or key/value rows (objects).
    Table(TableStyle),
    /// Scalars bare, objects as `key: value` lines.
    Text,
}

/// pvesh's `--noborder` and `--noheader`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableStyle {
    /// The rule under the header.
    pub border: bool,
    /// The header row.
    pub header: bool,
}

impl Default for TableStyle {
    fn default() -> TableStyle {
        TableStyle {
            border: true,
            header: true,
        }
    }
}

/// The `-o/--output-format` values, for messages and completion.
pub const FORMAT_NAMES: &[&str] = &["json", "json-pretty", "yaml", "table", "text"];

impl Format {
    /// `json`, `json-pretty`, `yaml`, `table` or `text`.
    pub fn parse(text: &str) -> Result<Format, String> {
        match text.to_ascii_lowercase().as_str() {
            "json" => Ok(Format::Json),
            "json-pretty" => Ok(Format::JsonPretty),
            "yaml" | "yml" => Ok(Format::Yaml),
            "table" => Ok(Format::Table(TableStyle::default())),
            "text" => Ok(Format::Text),
            other => Err(format!(
                "--output-format: unknown format '{other}'; expected {}",
                FORMAT_NAMES.join(", ")
            )),
        }
    }
}

fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Renders `value` in `format` (ending with a newline, or empty for `null` in text forms).
pub fn render(value: &Value, format: Format) -> String {
    match format {
        Format::Json => {
            let mut s = serde_json::to_string(value).unwrap_or_default();
            s.push('\n');
            s
        }
        Format::JsonPretty => {
            let mut s = serde_json::to_string_pretty(value).unwrap_or_default();
            s.push('\n');
            s
        }
        Format::Yaml => serde_norway::to_string(value).unwrap_or_default(),
        Format::Table(style) => table(value, style),
        Format::Text => text(value),
    }
}

fn text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::Object(o) => o
            .iter()
            .map(|(k, v)| format!("{k}: {}\n", cell(v)))
            .collect(),
        Value::Array(items) => items
            .iter()
            .map(|i| match i {
                Value::Object(o) => {
                    let parts: Vec<String> =
                        o.iter().map(|(k, v)| format!("{k}={}", cell(v))).collect();
                    format!("{}\n", parts.join(" "))
                }
                other => format!("{}\n", cell(other)),
            })
            .collect(),
        other => format!("{}\n", cell(other)),
    }
}

/// Columns first by a preferred order (ids and names), then alphabetically.
fn columns(items: &[Value]) -> Vec<String> {
    const FIRST: &[&str] = &[
        "id", "node", "vmid", "name", "type", "storage", "status", "upid", "key", "volid",
        "userid", "poolid",
    ];
    let mut keys: Vec<String> = Vec::new();
    for i in items {
        if let Value::Object(o) = i {
            for k in o.keys() {
                if !keys.contains(k) {
                    keys.push(k.clone());
                }
            }
        }
    }
    keys.sort_by_key(|k| {
        (
            FIRST.iter().position(|f| f == k).unwrap_or(FIRST.len()),
            k.clone(),
        )
    });
    keys
}

fn table(value: &Value, style: TableStyle) -> String {
    match value {
        Value::Array(items) if items.iter().all(Value::is_object) && !items.is_empty() => {
            let cols = columns(items);
            let rows: Vec<Vec<String>> = items
                .iter()
                .map(|i| cols.iter().map(|c| cell(&i[c.as_str()])).collect())
                .collect();
            let widths: Vec<usize> = cols
                .iter()
                .enumerate()
                .map(|(n, c)| {
                    rows.iter()
                        .map(|r| r[n].chars().count())
                        .chain([c.chars().count()])
                        .max()
                        .unwrap_or(0)
                })
                .collect();
            let line = |cells: &[String]| -> String {
                let parts: Vec<String> = cells
                    .iter()
                    .zip(&widths)
                    .map(|(c, w)| format!("{c:<w$}"))
                    .collect();
                format!("{}\n", parts.join("  ").trim_end())
            };
            let mut out = String::new();
            if style.header {
                out.push_str(&line(&cols));
                if style.border {
                    out.push_str(&line(
                        &widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>(),
                    ));
                }
            }
            for r in &rows {
                out.push_str(&line(r));
            }
            out
        }
        Value::Object(o) if !o.is_empty() => {
            let w = o.keys().map(|k| k.chars().count()).max().unwrap_or(0);
            o.iter()
                .map(|(k, v)| format!("{k:<w$}  {}\n", cell(v)))
                .collect()
        }
        Value::Array(items) if items.is_empty() => String::new(),
        other => text(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tables_and_text() {
        let v = json!([{"vmid": 100, "name": "web", "status": "running"}, {"vmid": 101, "status": "stopped"}]);
        let table = Format::Table(TableStyle::default());
        assert_eq!(
            render(&v, table),
            "vmid  name  status\n----  ----  -------\n100   web   running\n101         stopped\n"
        );
        let plain = TableStyle {
            border: false,
            header: true,
        };
        assert_eq!(
            render(&v, Format::Table(plain)),
            "vmid  name  status\n100   web   running\n101         stopped\n"
        );
        let bare = TableStyle {
            border: true,
            header: false,
        };
        assert_eq!(
            render(&v, Format::Table(bare)),
            "100   web   running\n101         stopped\n"
        );
        assert_eq!(render(&json!({"a": 1, "bb": "x"}), table), "a   1\nbb  x\n");
        assert_eq!(render(&json!({"a": [1]}), Format::Json), "{\"a\":[1]}\n");
        assert_eq!(
            render(&json!({"a": 1}), Format::JsonPretty),
            "{\n  \"a\": 1\n}\n"
        );
        assert_eq!(render(&json!("UPID:x"), Format::Text), "UPID:x\n");
        assert_eq!(render(&Value::Null, Format::Text), "");
        assert_eq!(render(&json!({"a": [1]}), Format::Yaml), "a:\n- 1\n");
        assert!(Format::parse("xml")
            .unwrap_err()
            .contains("json, json-pretty, yaml, table, text"));
    }
}
