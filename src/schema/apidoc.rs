//! Reading the apidoc of every Proxmox product in every form it comes in: the `apidoc.js` a
//! node serves (`const apiSchema = [...];` or `var apiSchema = [...]` followed by the
//! viewer's JavaScript), the older `var pveapi = [...]`, PMG's `var pmgapi = [...]`, plain
//! JSON, and the crawler capture the original package made of PDM
//! (`{"merged_endpoints": {path: {"methods": {...}}}}`, turned into a tree here); plus the
//! normalized form codegen writes.

use serde_json::Value;

use super::model::ApidocNode;

/// Why an apidoc text could not be read.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ApidocError {
    /// The text is not JSON (or not an apidoc tree) at `offset`.
    #[error("invalid apidoc at byte {offset}: {message}")]
    Syntax {
        /// Byte offset into the whole input where reading stopped.
        offset: usize,
        /// What was expected there.
        message: String,
    },
}

fn syntax(offset: usize, message: impl Into<String>) -> ApidocError {
    ApidocError::Syntax {
        offset,
        message: message.into(),
    }
}

/// Where the JSON tree starts in `text`, and whether text may follow it (the JS forms).
fn locate(text: &str) -> Result<(usize, bool), ApidocError> {
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    let lead = text.len() - trimmed.len();
    if trimmed.starts_with('[') || trimmed.starts_with('{') {
        return Ok((lead, false));
    }
    for name in ["apiSchema", "pveapi", "pmgapi"] {
        let mut from = 0;
        while let Some(pos) = text[from..].find(name) {
            let at = from + pos;
            from = at + name.len();
            let before_ok = text[..at]
                .chars()
                .next_back()
                .is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == '$'));
            let rest = text[from..].trim_start();
            if !before_ok || !rest.starts_with('=') || rest.starts_with("==") {
                continue;
            }
            let value = rest[1..].trim_start();
            let start = text.len() - value.len();
            if !value.starts_with('[') {
                return Err(syntax(start, format!("expected `[` after `{name} =`")));
            }
            return Ok((start, true));
        }
    }
    Err(syntax(
        lead,
        "expected a JSON array, `const apiSchema = [`, `var pveapi = [` or `var pmgapi = [`",
    ))
}

/// Byte offset of (1-based line, 1-based column) inside `text`.
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    if line == 0 {
        return text.len();
    }
    let mut offset = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            return offset + column.saturating_sub(1).min(l.len());
        }
        offset += l.len();
    }
    text.len()
}

fn json_error(text: &str, start: usize, err: &serde_json::Error) -> ApidocError {
    let offset = if err.is_eof() {
        text.len()
    } else {
        start + offset_of(&text[start..], err.line(), err.column())
    };
    let full = err.to_string();
    let message = match full.rfind(" at line ") {
        Some(cut) => full[..cut].to_string(),
        None => full,
    };
    syntax(offset, message)
}

/// Reads one JSON value from `text[start..]`, ignoring what follows when `trailing_ok`.
fn read_value<T: serde::de::DeserializeOwned>(
    text: &str,
    start: usize,
    trailing_ok: bool,
) -> Result<T, ApidocError> {
    let mut stream = serde_json::Deserializer::from_str(&text[start..]).into_iter::<T>();
    let value = match stream.next() {
        Some(Ok(v)) => v,
        Some(Err(e)) => return Err(json_error(text, start, &e)),
        None => {
            return Err(syntax(
                text.len(),
                "expected a JSON value, found end of input",
            ))
        }
    };
    let end = start + stream.byte_offset();
    if !trailing_ok {
        let rest = &text[end..];
        let junk = rest.len() - rest.trim_start().len();
        if !rest.trim().is_empty() {
            return Err(syntax(
                end + junk,
                "expected end of input after the JSON value",
            ));
        }
    }
    Ok(value)
}

/// Parses apidoc text of any supported form into its raw JSON tree (an array of nodes).
pub fn parse_apidoc_value(text: &str) -> Result<Value, ApidocError> {
    let (start, trailing_ok) = locate(text)?;
    let value: Value = read_value(text, start, trailing_ok)?;
    let tree = match value {
        Value::Array(_) => value,
        Value::Object(mut map) => match map.remove("data") {
            Some(inner @ Value::Array(_)) => inner,
            Some(_) => {
                return Err(syntax(
                    start,
                    "expected `data` to be an array of apidoc nodes",
                ))
            }
            None if map.contains_key("path") => Value::Array(vec![Value::Object(map)]),
            None if map.contains_key("merged_endpoints") => {
                tree_from_capture(map.get("merged_endpoints").unwrap_or(&Value::Null))
                    .map_err(|m| syntax(start, m))?
            }
            None => {
                return Err(syntax(
                    start,
                    "expected an array of apidoc nodes (or an object with `data`, `path` or `merged_endpoints`)",
                ))
            }
        },
        _ => return Err(syntax(start, "expected an array of apidoc nodes")),
    };
    Ok(tree)
}

/// The members of a captured method object that the apidoc has too (the rest is the
/// crawler's own bookkeeping: `source`, `raw_sections`, `viewer_*`, ...).
const CAPTURED_METHOD_KEYS: &[&str] = &[
    "allowtoken",
    "description",
    "download",
    "method",
    "parameters",
    "permissions",
    "protected",
    "returns",
    "unstable",
];

/// Builds an apidoc tree from a crawler capture: `{path: {"methods": {METHOD: {...}}}}`.
/// Every path becomes a node under its longest captured ancestor (missing ancestors are
/// made, without methods); null members are dropped, `method_name` becomes `name`.
fn tree_from_capture(endpoints: &Value) -> Result<Value, String> {
    use std::collections::BTreeMap;
    let Value::Object(endpoints) = endpoints else {
        return Err("expected `merged_endpoints` to be an object of paths".into());
    };
    let mut nodes: BTreeMap<String, serde_json::Map<String, Value>> = BTreeMap::new();
    for (path, entry) in endpoints {
        if !path.starts_with('/') {
            return Err(format!("captured path {path:?} does not start with `/`"));
        }
        let mut info = serde_json::Map::new();
        if let Some(Value::Object(methods)) = entry.get("methods") {
            for (method, m) in methods {
                let Value::Object(m) = m else {
                    return Err(format!("{path} {method}: expected an object"));
                };
                let mut out = serde_json::Map::new();
                for k in CAPTURED_METHOD_KEYS {
                    if let Some(v) = m.get(*k).filter(|v| !v.is_null()) {
                        out.insert((*k).to_string(), v.clone());
                    }
                }
                if let Some(name) = m.get("method_name").filter(|v| v.is_string()) {
                    out.insert("name".into(), name.clone());
                }
                out.insert("method".into(), Value::from(method.to_ascii_uppercase()));
                info.insert(method.to_ascii_uppercase(), Value::Object(out));
            }
        }
        let mut node = serde_json::Map::new();
        node.insert("path".into(), Value::from(path.as_str()));
        node.insert(
            "text".into(),
            Value::from(path.rsplit('/').next().unwrap_or_default()),
        );
        node.insert("info".into(), Value::Object(info));
        nodes.insert(path.clone(), node);
    }
    // Ancestors the capture lacks, so that every node has a parent.
    let paths: Vec<String> = nodes.keys().cloned().collect();
    for path in paths {
        let mut p = path.as_str();
        while let Some((parent, _)) = p.rsplit_once('/') {
            if parent.is_empty() {
                break;
            }
            nodes.entry(parent.to_string()).or_insert_with(|| {
                let mut node = serde_json::Map::new();
                node.insert("path".into(), Value::from(parent));
                node.insert(
                    "text".into(),
                    Value::from(parent.rsplit('/').next().unwrap_or_default()),
                );
                node
            });
            p = parent;
        }
    }
    // Children before parents (deepest first), each attached to its parent; the rest are
    // the top level, which goes under the root `/` when the capture has one (as PBS's
    // apidoc has it).
    let mut order: Vec<String> = nodes.keys().filter(|p| *p != "/").cloned().collect();
    order.sort_by_key(|p| std::cmp::Reverse(p.matches('/').count()));
    let mut top = Vec::new();
    for path in order {
        let Some(mut node) = nodes.remove(&path) else {
            continue;
        };
        let has_children = node
            .get("children")
            .and_then(Value::as_array)
            .is_some_and(|c| !c.is_empty());
        node.insert("leaf".into(), Value::from(u8::from(!has_children)));
        let parent = path
            .rsplit_once('/')
            .map(|(p, _)| p)
            .filter(|p| !p.is_empty());
        match parent.and_then(|p| nodes.get_mut(p)) {
            Some(parent) => push_child(parent, node),
            None => top.push(Value::Object(node)),
        }
    }
    match nodes.remove("/") {
        Some(mut root) => {
            for node in top {
                if let Value::Object(node) = node {
                    push_child(&mut root, node);
                }
            }
            root.insert("leaf".into(), Value::from(0));
            Ok(normalize_tree(Value::Array(vec![Value::Object(root)])))
        }
        None => Ok(normalize_tree(Value::Array(top))),
    }
}

fn push_child(parent: &mut serde_json::Map<String, Value>, child: serde_json::Map<String, Value>) {
    if let Value::Array(c) = parent
        .entry("children")
        .or_insert_with(|| Value::Array(Vec::new()))
    {
        c.push(Value::Object(child));
    }
}

/// Turns a raw tree into typed nodes; a shape error names the JSON path of the bad member.
pub fn nodes_from_value(tree: &Value) -> Result<Vec<ApidocNode>, ApidocError> {
    let Value::Array(items) = tree else {
        return Err(syntax(0, "expected an array of apidoc nodes"));
    };
    let mut nodes = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let node = ApidocNode::deserialize_value(item).map_err(|e| {
            syntax(
                0,
                format!(
                    "node [{i}] ({}): {e}",
                    item.get("path").and_then(Value::as_str).unwrap_or("?")
                ),
            )
        })?;
        nodes.push(node);
    }
    Ok(nodes)
}

impl ApidocNode {
    fn deserialize_value(v: &Value) -> Result<ApidocNode, serde_json::Error> {
        serde::Deserialize::deserialize(v)
    }
}

/// Parses apidoc text of any supported form straight into typed nodes.
pub fn parse_apidoc(text: &str) -> Result<Vec<ApidocNode>, ApidocError> {
    let (start, trailing_ok) = locate(text)?;
    if text[start..].starts_with('[') {
        // The fast path (and the form codegen writes): deserialize typed nodes directly.
        return read_value(text, start, trailing_ok);
    }
    nodes_from_value(&parse_apidoc_value(text)?)
}

/// Canonical form written by codegen: object keys sorted and children sorted by path, so
/// that the same schema always gives byte-identical output.
pub fn normalize(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            let mut out = serde_json::Map::new();
            for (k, v) in entries {
                let v = if k == "children" {
                    sort_nodes(normalize(v))
                } else {
                    normalize(v)
                };
                out.insert(k, v);
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.into_iter().map(normalize).collect()),
        other => other,
    }
}

fn sort_nodes(v: Value) -> Value {
    match v {
        Value::Array(mut items) => {
            items.sort_by(|a, b| {
                let pa = a.get("path").and_then(Value::as_str).unwrap_or("");
                let pb = b.get("path").and_then(Value::as_str).unwrap_or("");
                pa.cmp(pb)
            });
            Value::Array(items)
        }
        other => other,
    }
}

/// Normalizes a whole tree (the top-level array is sorted by path too).
pub fn normalize_tree(tree: Value) -> Value {
    sort_nodes(normalize(tree))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn js_form_with_trailing_code_and_tricky_strings() {
        let text = r#"// viewer
const apiSchema = [{"path": "/a", "text": "a];{", "leaf": 1, "info": {"GET": {"method": "GET", "name": "x;]", "description": "}", "parameters": {}, "returns": {}}}}];
var other = [1, 2, 3]; function f() { return "]"; }"#;
        let nodes = parse_apidoc(text).unwrap();
        assert_eq!(nodes.len(), 1);
        assert_eq!(nodes[0].text, "a];{");
        assert_eq!(nodes[0].info["GET"].name, "x;]");
    }

    #[test]
    fn old_pveapi_form() {
        let nodes = parse_apidoc("var pveapi = [{\"path\": \"/b\"}];").unwrap();
        assert_eq!(nodes[0].path, "/b");
    }

    #[test]
    fn plain_json_forms() {
        assert_eq!(
            parse_apidoc(" [{\"path\": \"/c\"}] \n").unwrap()[0].path,
            "/c"
        );
        assert_eq!(
            parse_apidoc("{\"data\": [{\"path\": \"/d\"}]}").unwrap()[0].path,
            "/d"
        );
        assert_eq!(parse_apidoc("{\"path\": \"/e\"}").unwrap()[0].path, "/e");
    }

    #[test]
    fn errors_name_the_byte_offset() {
        let err = parse_apidoc("const apiSchema = [{\"path\": \"/a\",}];").unwrap_err();
        let ApidocError::Syntax { offset, message } = err;
        assert_eq!(offset, 33, "{message}");
        assert!(message.contains("trailing comma"), "{message}");

        let err = parse_apidoc("hello world").unwrap_err();
        assert!(err.to_string().contains("byte 0"));
        assert!(err.to_string().contains("apiSchema"));

        let err = parse_apidoc("[{\"path\": \"/a\"}] trailing").unwrap_err();
        assert_eq!(
            err,
            syntax(17, "expected end of input after the JSON value")
        );

        let err = parse_apidoc("const apiSchema = 42;").unwrap_err();
        assert_eq!(err, syntax(18, "expected `[` after `apiSchema =`"));

        let err = parse_apidoc("[{\"path\": \"/a\"").unwrap_err();
        let ApidocError::Syntax { offset, .. } = err;
        assert_eq!(offset, 14);
    }

    #[test]
    fn normalize_sorts_keys_and_children() {
        let v: Value = serde_json::from_str(
            r#"[{"path": "/z", "text": "z"}, {"text": "a", "path": "/a", "children": [{"path": "/a/y"}, {"path": "/a/b"}]}]"#,
        )
        .unwrap();
        let n = normalize_tree(v);
        assert_eq!(
            serde_json::to_string(&n).unwrap(),
            r#"[{"children":[{"path":"/a/b"},{"path":"/a/y"}],"path":"/a","text":"a"},{"path":"/z","text":"z"}]"#
        );
    }
}
