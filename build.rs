//! Embeds every schema version found under `generated/proxmox/<version>/apidoc.json`, so
//! adding a version with the codegen needs no code change.

use std::env;
use std::fs;
use std::path::PathBuf;

fn main() {
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let generated = root.join("generated").join("proxmox");
    println!("cargo:rerun-if-changed={}", generated.display());
    let mut versions: Vec<(String, PathBuf)> = Vec::new();
    if let Ok(entries) = fs::read_dir(&generated) {
        for entry in entries.flatten() {
            let apidoc = entry.path().join("apidoc.json");
            if apidoc.is_file() {
                println!("cargo:rerun-if-changed={}", apidoc.display());
                versions.push((entry.file_name().to_string_lossy().into_owned(), apidoc));
            }
        }
    }
    versions.sort();
    let mut out = String::from("/// (version, normalized apidoc JSON) of every bundled version.\n");
    out.push_str("pub static BUNDLED: &[(&str, &str)] = &[\n");
    for (version, path) in &versions {
        out.push_str(&format!(
            "    ({version:?}, include_str!({:?})),\n",
            path.display().to_string()
        ));
    }
    out.push_str("];\n");
    let dest = PathBuf::from(env::var("OUT_DIR").expect("set by cargo")).join("bundled.rs");
    fs::write(dest, out).expect("write bundled.rs");
}
