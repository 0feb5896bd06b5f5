//! The path-template index: a trie over path segments that resolves a concrete API path
//! (`/api2/json/nodes/pve1/qemu/100/status/start`) to its template and path parameters.
//! Lookup cost grows with the path's depth, not with the number of templates.

use std::borrow::Cow;
use std::collections::HashMap;

use percent_encoding::percent_decode_str;

/// The API prefix PVE serves under; accepted and stripped by [`strip_api_prefix`].
pub const API_PREFIX: &str = "/api2/json";

/// A concrete path resolved to a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedPath<'i, 'p> {
    /// Index of the endpoint (as given to [`PathIndex::insert`]).
    pub endpoint: usize,
    /// Path parameters in template order: (name, percent-decoded value).
    pub params: Vec<(&'i str, Cow<'p, str>)>,
}

#[derive(Debug, Default)]
struct TrieNode {
    literals: HashMap<Box<str>, TrieNode, foldhash::fast::FixedState>,
    param: Option<(Box<str>, Box<TrieNode>)>,
    endpoint: Option<usize>,
}

/// Why a template could not be added.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TemplateError {
    /// Two templates differ only in the names of their parameters.
    #[error("template '{template}' conflicts with an existing template: parameter '{{{new}}}' vs '{{{existing}}}'")]
    ConflictingParam {
        /// The template being added.
        template: String,
        /// The parameter name already in the index at that position.
        existing: String,
        /// The parameter name in the new template.
        new: String,
    },
    /// The same template was added twice.
    #[error("template '{0}' is already in the index")]
    Duplicate(String),
}

/// A trie of path templates; literal segments win over `{param}` segments.
#[derive(Debug, Default)]
pub struct PathIndex {
    root: TrieNode,
    len: usize,
}

/// Strips the `/api2/json` prefix (if present) and surrounding slashes.
pub fn strip_api_prefix(path: &str) -> &str {
    let p = path.strip_prefix(API_PREFIX).unwrap_or(path);
    let p = if p.len() < path.len() && !p.is_empty() && !p.starts_with('/') {
        // `/api2/jsonx` is not the prefix.
        path
    } else {
        p
    };
    p.trim_start_matches('/').trim_end_matches('/')
}

fn segments(path: &str) -> impl Iterator<Item = &str> {
    let p = strip_api_prefix(path);
    p.split('/').filter(move |_| !p.is_empty())
}

fn param_name(segment: &str) -> Option<&str> {
    segment.strip_prefix('{')?.strip_suffix('}')
}

impl PathIndex {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of templates in the index.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the index holds no template.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Adds `template` (for example `/nodes/{node}/qemu/{vmid}`) for endpoint `id`.
    pub fn insert(&mut self, template: &str, id: usize) -> Result<(), TemplateError> {
        let mut node = &mut self.root;
        for seg in segments(template) {
            node = match param_name(seg) {
                Some(name) => {
                    let slot = node
                        .param
                        .get_or_insert_with(|| (name.into(), Box::default()));
                    if &*slot.0 != name {
                        return Err(TemplateError::ConflictingParam {
                            template: template.to_string(),
                            existing: slot.0.to_string(),
                            new: name.to_string(),
                        });
                    }
                    &mut slot.1
                }
                None => node.literals.entry(seg.into()).or_default(),
            };
        }
        if node.endpoint.is_some() {
            return Err(TemplateError::Duplicate(template.to_string()));
        }
        node.endpoint = Some(id);
        self.len += 1;
        Ok(())
    }

    /// Resolves a concrete path (with or without `/api2/json`, percent-encoded or not).
    /// Returns `None` when no template matches or a segment is not valid UTF-8 once decoded.
    pub fn resolve<'i, 'p>(&'i self, path: &'p str) -> Option<ResolvedPath<'i, 'p>> {
        let mut decoded: Vec<Cow<'p, str>> = Vec::with_capacity(8);
        for seg in segments(path) {
            decoded.push(decode_segment(seg)?);
        }
        let mut params = Vec::new();
        let endpoint = walk(&self.root, &decoded, &mut params)?;
        Some(ResolvedPath { endpoint, params })
    }
}

fn decode_segment(seg: &str) -> Option<Cow<'_, str>> {
    if seg.contains('%') {
        percent_decode_str(seg).decode_utf8().ok()
    } else {
        Some(Cow::Borrowed(seg))
    }
}

/// Depth-first walk: a literal child first, then the parameter child (backtracking if the
/// literal branch dead-ends further down).
fn walk<'i, 'p>(
    node: &'i TrieNode,
    segs: &[Cow<'p, str>],
    params: &mut Vec<(&'i str, Cow<'p, str>)>,
) -> Option<usize> {
    let Some((first, rest)) = segs.split_first() else {
        return node.endpoint;
    };
    if let Some(child) = node.literals.get(first.as_ref()) {
        if let Some(found) = walk(child, rest, params) {
            return Some(found);
        }
    }
    if let Some((name, child)) = &node.param {
        if first.is_empty() {
            return None;
        }
        params.push((name, first.clone()));
        if let Some(found) = walk(child, rest, params) {
            return Some(found);
        }
        params.pop();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index() -> PathIndex {
        let mut idx = PathIndex::new();
        for (i, t) in [
            "/nodes",
            "/nodes/{node}",
            "/nodes/{node}/qemu",
            "/nodes/{node}/qemu/{vmid}",
            "/nodes/{node}/qemu/{vmid}/status/start",
            "/nodes/{node}/tasks/{upid}/status",
            "/nodes/{node}/status",
            "/version",
        ]
        .iter()
        .enumerate()
        {
            idx.insert(t, i).unwrap();
        }
        idx
    }

    #[test]
    fn resolves_with_params() {
        let idx = index();
        let r = idx
            .resolve("/api2/json/nodes/pve1/qemu/100/status/start")
            .unwrap();
        assert_eq!(r.endpoint, 4);
        assert_eq!(
            r.params,
            vec![
                ("node", Cow::Borrowed("pve1")),
                ("vmid", Cow::Borrowed("100"))
            ]
        );
        assert_eq!(idx.resolve("nodes/pve1/").unwrap().endpoint, 1);
        assert_eq!(idx.resolve("/").map(|r| r.endpoint), None);
        assert_eq!(idx.resolve("/nodes/pve1/lxc"), None);
    }

    #[test]
    fn literal_wins_over_param() {
        let idx = index();
        // `status` is a literal under /nodes/{node}; `/nodes/status` has node = "status".
        assert_eq!(idx.resolve("/nodes/pve1/status").unwrap().endpoint, 6);
        assert_eq!(idx.resolve("/nodes/status").unwrap().endpoint, 1);
    }

    #[test]
    fn percent_decoding() {
        let idx = index();
        let upid = "UPID:pve1:000003E8:00001B58:6B08E68D:qmcreate:101:root@pam:";
        let encoded = "/nodes/pve1/tasks/UPID%3Apve1%3A000003E8%3A00001B58%3A6B08E68D%3Aqmcreate%3A101%3Aroot%40pam%3A/status";
        let r = idx.resolve(encoded).unwrap();
        assert_eq!(r.endpoint, 5);
        assert_eq!(r.params[1].1, upid);
        assert_eq!(idx.resolve("/nodes/%FF/qemu"), None);
    }

    #[test]
    fn conflicts_are_reported() {
        let mut idx = index();
        assert_eq!(
            idx.insert("/nodes/{name}/x", 99),
            Err(TemplateError::ConflictingParam {
                template: "/nodes/{name}/x".into(),
                existing: "node".into(),
                new: "name".into()
            })
        );
        assert_eq!(
            idx.insert("/version", 99),
            Err(TemplateError::Duplicate("/version".into()))
        );
    }
}
