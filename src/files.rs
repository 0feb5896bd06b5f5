//! Reading the files users give (mock data files, the real mode's config file, SDK
//! configs): JSON, or YAML by extension (`.yaml`/`.yml`, any case), with errors that name
//! the file.

use std::path::Path;

use serde_json::Value;

/// Whether `path` names a YAML file by its extension.
pub fn is_yaml(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"))
}

/// The JSON or YAML document in `text` (YAML when `yaml`).
pub fn parse_structured(text: &str, yaml: bool) -> Result<Value, String> {
    if yaml {
        serde_norway::from_str(text).map_err(|e| format!("invalid YAML: {e}"))
    } else {
        serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))
    }
}

/// The JSON or YAML file at `path`; the error starts with the path.
pub fn read_structured(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    parse_structured(&text, is_yaml(path)).map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_and_yaml() {
        let dir = tempfile::tempdir().unwrap();
        let y = dir.path().join("a.YML");
        std::fs::write(&y, "a: 1\nb: [x]\n").unwrap();
        assert_eq!(
            read_structured(&y).unwrap(),
            serde_json::json!({"a": 1, "b": ["x"]})
        );
        let j = dir.path().join("a.json");
        std::fs::write(&j, "{").unwrap();
        assert!(read_structured(&j).unwrap_err().contains("invalid JSON"));
        assert!(read_structured(&dir.path().join("none"))
            .unwrap_err()
            .contains("none"));
    }
}
