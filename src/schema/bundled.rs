//! The schemas compiled into the crate (from `generated/<product>/<version>/apidoc.json`,
//! minified and deflated by `build.rs`), each inflated and parsed once per process on first
//! use and shared. The functions without a product are PVE's.

use std::cmp::Ordering;
use std::io::Read;
use std::sync::{Arc, OnceLock};

use super::product::Product;
use super::{ApiSchema, SchemaError};

include!(concat!(env!("OUT_DIR"), "/bundled.rs"));

/// The alias for the newest bundled version.
pub const LATEST_ALIAS: &str = "latest";

/// Orders version tags numerically where both parts are numbers (`9.1.11` < `9.2`).
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    let split = |s: &str| -> Vec<String> { s.split(['.', '-']).map(str::to_string).collect() };
    let (pa, pb) = (split(a), split(b));
    for (x, y) in pa.iter().zip(pb.iter()) {
        let ord = match (x.parse::<u64>(), y.parse::<u64>()) {
            (Ok(i), Ok(j)) => i.cmp(&j),
            _ => x.cmp(y),
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    pa.len().cmp(&pb.len())
}

fn entries(product: Product) -> impl Iterator<Item = (usize, &'static str)> {
    BUNDLED
        .iter()
        .enumerate()
        .filter(move |(_, (dir, ..))| *dir == product.dir())
        .map(|(i, (_, version, ..))| (i, *version))
}

/// The bundled versions of `product`, oldest first.
pub fn versions_of(product: Product) -> Vec<&'static str> {
    let mut v: Vec<&'static str> = entries(product).map(|(_, v)| v).collect();
    v.sort_by(|a, b| compare_versions(a, b));
    v
}

/// The bundled PVE versions, oldest first.
pub fn versions() -> Vec<&'static str> {
    versions_of(Product::Pve)
}

/// The newest bundled version of `product` (what `latest` means for it).
pub fn latest_of(product: Product) -> Option<&'static str> {
    versions_of(product).pop()
}

/// The newest bundled PVE version.
pub fn latest() -> Option<&'static str> {
    latest_of(Product::Pve)
}

/// Maps `latest` (or a concrete tag) to a bundled version tag of `product`.
pub fn resolve_version_of(product: Product, requested: &str) -> Result<&'static str, SchemaError> {
    position(product, requested).map(|i| BUNDLED[i].1)
}

/// Maps `latest` (or a concrete tag) to a bundled PVE version tag.
pub fn resolve_version(requested: &str) -> Result<&'static str, SchemaError> {
    resolve_version_of(Product::Pve, requested)
}

fn position(product: Product, requested: &str) -> Result<usize, SchemaError> {
    let wanted = requested.trim();
    let tag = if wanted.eq_ignore_ascii_case(LATEST_ALIAS) {
        latest_of(product)
    } else {
        entries(product).map(|(_, v)| v).find(|v| *v == wanted)
    };
    tag.and_then(|t| entries(product).find(|(_, v)| *v == t).map(|(i, _)| i))
        .ok_or_else(|| SchemaError::UnknownVersion {
            product: if product == Product::Pve {
                String::new()
            } else {
                format!("{product} ")
            },
            requested: requested.to_string(),
            available: {
                let mut names = versions_of(product);
                names.push(LATEST_ALIAS);
                names.join(", ")
            },
        })
}

type Slot<T> = OnceLock<Result<Arc<T>, String>>;

fn text_slots() -> &'static [Slot<str>] {
    static SLOTS: OnceLock<Vec<Slot<str>>> = OnceLock::new();
    SLOTS.get_or_init(|| BUNDLED.iter().map(|_| OnceLock::new()).collect())
}

fn schema_slots() -> &'static [Slot<ApiSchema>] {
    static SLOTS: OnceLock<Vec<Slot<ApiSchema>>> = OnceLock::new();
    SLOTS.get_or_init(|| BUNDLED.iter().map(|_| OnceLock::new()).collect())
}

fn damaged(pos: usize, e: impl std::fmt::Display) -> String {
    let (dir, version, ..) = BUNDLED[pos];
    format!("bundled schema {dir}/{version} is damaged: {e}")
}

fn inflate(pos: usize) -> Result<Arc<str>, String> {
    let (_, _, packed, size) = BUNDLED[pos];
    let mut text = String::with_capacity(size);
    flate2::read::DeflateDecoder::new(packed)
        .read_to_string(&mut text)
        .map_err(|e| damaged(pos, e))?;
    Ok(Arc::from(text))
}

fn as_schema_error(message: String) -> SchemaError {
    SchemaError::Apidoc(super::ApidocError::Syntax { offset: 0, message })
}

/// The (minified) apidoc JSON text of a bundled schema of `product`.
pub fn apidoc_text_of(product: Product, version: &str) -> Result<Arc<str>, SchemaError> {
    let pos = position(product, version)?;
    text_slots()[pos]
        .get_or_init(|| inflate(pos))
        .clone()
        .map_err(as_schema_error)
}

/// The (minified) apidoc JSON text of a bundled PVE version.
pub fn apidoc_text(version: &str) -> Result<Arc<str>, SchemaError> {
    apidoc_text_of(Product::Pve, version)
}

/// The schema model of a bundled version of `product` (`latest` allowed), parsed once per
/// process.
pub fn load_of(product: Product, version: &str) -> Result<Arc<ApiSchema>, SchemaError> {
    let pos = position(product, version)?;
    schema_slots()[pos]
        .get_or_init(|| {
            // The text is needed only to build the model: it is not kept.
            let text = match text_slots()[pos].get() {
                Some(Ok(t)) => t.clone(),
                _ => inflate(pos)?,
            };
            ApiSchema::from_apidoc_text(BUNDLED[pos].1, &text)
                .map(|s| Arc::new(s.for_product(product)))
                .map_err(|e| damaged(pos, e))
        })
        .clone()
        .map_err(as_schema_error)
}

/// The schema model of a bundled PVE version (`latest` allowed), parsed once per process.
pub fn load(version: &str) -> Result<Arc<ApiSchema>, SchemaError> {
    load_of(Product::Pve, version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_order() {
        assert_eq!(compare_versions("9.1.11", "9.2"), Ordering::Less);
        assert_eq!(compare_versions("9.10", "9.2"), Ordering::Greater);
        assert_eq!(compare_versions("9.2", "9.2"), Ordering::Equal);
        assert_eq!(compare_versions("9.2", "9.2.1"), Ordering::Less);
    }
}
