//! The crate's layers, checked: a module may use only modules of lower layers (the map in
//! `src/lib.rs`). Every `crate::<module>` mentioned in code (comments aside) is checked.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Top to bottom; modules on one line share a layer and must not use each other.
const LAYERS: &[&[&str]] = &[
    &["python"],
    &["cli"],
    &["server"],
    &["codegen"],
    &["client"],
    &["backend"],
    &["mock", "transport"],
    &["api"],
    &["schema", "limits", "runtime", "tls", "files"],
];

fn layer(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// `crate::X` names in `line` (identifier characters after the prefix).
fn crate_refs(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(i) = rest.find("crate::") {
        let before = rest[..i].chars().last();
        rest = &rest[i + "crate::".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue; // `proxmox_sdk_crate::` and the like
        }
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            out.push(name);
        }
    }
    out
}

#[test]
fn modules_only_use_lower_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut violations: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut seen_modules = std::collections::BTreeSet::new();
    for file in &files {
        let rel = file.strip_prefix(&src).unwrap();
        let first = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy();
        let module = first.trim_end_matches(".rs").to_string();
        if module == "lib" || module == "bin" {
            continue;
        }
        let own = layer(&module)
            .unwrap_or_else(|| panic!("module `{module}` is not in LAYERS: add it to the map"));
        seen_modules.insert(module.clone());
        let text = std::fs::read_to_string(file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") {
                continue;
            }
            for used in crate_refs(line) {
                if used == module {
                    continue;
                }
                let Some(theirs) = layer(&used) else {
                    continue; // not a module of the crate (a macro, `crate::Error` ...)
                };
                if theirs <= own {
                    violations
                        .entry(format!("{module} -> {used}"))
                        .or_default()
                        .push(format!("{}:{}", rel.display(), n + 1));
                }
            }
        }
    }
    assert!(
        violations.is_empty(),
        "modules use layers above (or beside) them:\n{}",
        violations
            .iter()
            .map(|(k, v)| format!("  {k}: {}", v.join(", ")))
            .collect::<Vec<_>>()
            .join("\n")
    );
    // The map names only modules that exist (the python edge is feature-gated but present).
    for l in LAYERS.iter().flat_map(|l| l.iter()) {
        assert!(
            seen_modules.contains(*l),
            "LAYERS names `{l}`, which has no file"
        );
    }
}

#[test]
fn the_crate_map_in_lib_rs_names_every_module() {
    let lib =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs")).unwrap();
    for l in LAYERS.iter().flat_map(|l| l.iter()) {
        assert!(
            lib.contains(&format!("[`{l}`]")) || lib.contains(&format!("`{l}`")),
            "src/lib.rs's map does not mention `{l}`"
        );
    }
}
