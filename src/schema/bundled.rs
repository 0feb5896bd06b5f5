//! The schema versions compiled into the crate (from `generated/proxmox/<version>/`), each
//! parsed once per process on first use and shared.

use std::cmp::Ordering;
use std::sync::{Arc, OnceLock};

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

/// The bundled versions, oldest first.
pub fn versions() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = BUNDLED.iter().map(|(ver, _)| *ver).collect();
    v.sort_by(|a, b| compare_versions(a, b));
    v
}

/// The newest bundled version (what `latest` means).
pub fn latest() -> Option<&'static str> {
    versions().pop()
}

/// Maps `latest` (or a concrete tag) to a bundled version tag.
pub fn resolve_version(requested: &str) -> Result<&'static str, SchemaError> {
    let wanted = requested.trim();
    let found = if wanted.eq_ignore_ascii_case(LATEST_ALIAS) {
        latest()
    } else {
        BUNDLED.iter().map(|(v, _)| *v).find(|v| *v == wanted)
    };
    found.ok_or_else(|| SchemaError::UnknownVersion {
        requested: requested.to_string(),
        available: {
            let mut names = versions();
            names.push(LATEST_ALIAS);
            names.join(", ")
        },
    })
}

/// The normalized apidoc JSON text of a bundled version.
pub fn apidoc_text(version: &str) -> Result<&'static str, SchemaError> {
    let tag = resolve_version(version)?;
    Ok(BUNDLED
        .iter()
        .find(|(v, _)| *v == tag)
        .map(|(_, text)| *text)
        .unwrap_or_default())
}

type Slot = OnceLock<Result<Arc<ApiSchema>, String>>;

fn slots() -> &'static [Slot] {
    static SLOTS: OnceLock<Vec<Slot>> = OnceLock::new();
    SLOTS.get_or_init(|| BUNDLED.iter().map(|_| OnceLock::new()).collect())
}

/// The schema model of a bundled version (`latest` allowed), parsed once per process.
pub fn load(version: &str) -> Result<Arc<ApiSchema>, SchemaError> {
    let tag = resolve_version(version)?;
    let pos = BUNDLED
        .iter()
        .position(|(v, _)| *v == tag)
        .unwrap_or_default();
    let slot = &slots()[pos];
    let loaded = slot.get_or_init(|| {
        ApiSchema::from_apidoc_text(tag, BUNDLED[pos].1)
            .map(Arc::new)
            .map_err(|e| format!("bundled schema {tag} is damaged: {e}"))
    });
    loaded.clone().map_err(|e| {
        SchemaError::Apidoc(super::ApidocError::Syntax {
            offset: 0,
            message: e,
        })
    })
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
