//! Embeds every schema found under `generated/<product>/<version>/apidoc.json` (`proxmox`,
//! `pbs`, `pmg`, `pdm`), minified and deflate-compressed (decompressed once, on first use),
//! so adding a version with the codegen needs no code change and the library stays small.

use std::env;
use std::fs;
use std::io::Write;
use std::path::PathBuf;

const PRODUCT_DIRS: &[&str] = &["proxmox", "pbs", "pmg", "pdm"];

fn main() {
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("set by cargo"));
    let mut bundled: Vec<(String, String, PathBuf)> = Vec::new();
    for dir in PRODUCT_DIRS {
        let generated = root.join("generated").join(dir);
        println!("cargo:rerun-if-changed={}", generated.display());
        let Ok(entries) = fs::read_dir(&generated) else {
            continue;
        };
        for entry in entries.flatten() {
            let apidoc = entry.path().join("apidoc.json");
            if apidoc.is_file() {
                println!("cargo:rerun-if-changed={}", apidoc.display());
                let version = entry.file_name().to_string_lossy().into_owned();
                bundled.push(((*dir).to_string(), version, apidoc));
            }
        }
    }
    bundled.sort();
    let mut out = String::from(
        "/// (product folder, version, minified apidoc JSON deflated, its inflated size) of\n\
         /// every bundled schema.\n",
    );
    out.push_str("#[allow(clippy::unreadable_literal)]\n");
    out.push_str("pub static BUNDLED: &[(&str, &str, &[u8], usize)] = &[\n");
    for (dir, version, path) in &bundled {
        let text = fs::read_to_string(path).expect("read apidoc.json");
        let value: serde_json::Value = serde_json::from_str(&text).expect("apidoc.json is JSON");
        let minified = serde_json::to_vec(&value).expect("serialize");
        let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        enc.write_all(&minified).expect("deflate");
        let packed = enc.finish().expect("deflate");
        let name = format!("{dir}-{version}.deflate");
        fs::write(out_dir.join(&name), &packed).expect("write the packed schema");
        out.push_str(&format!(
            "    ({dir:?}, {version:?}, include_bytes!(concat!(env!(\"OUT_DIR\"), {:?})), {}),\n",
            format!("/{name}"),
            minified.len()
        ));
    }
    out.push_str("];\n");
    fs::write(out_dir.join("bundled.rs"), out).expect("write bundled.rs");
}
