//! Storage content: the volumes on each node's storages (uploaded ISOs and templates,
//! allocated disks), kept in the store so `.../storage/{storage}/content` lists what was
//! put there through any path.

use serde_json::{json, Map, Value};

use super::store::{MockState, Record};
use super::MockPve;

/// The store key of a storage's content on a node.
pub fn content_key(node: &str, storage: &str) -> String {
    format!("nodes/{node}/storage/{storage}/content")
}

/// The volume id PVE gives an uploaded or downloaded file: `local:iso/debian.iso`.
pub fn file_volid(storage: &str, content: &str, file_name: &str) -> String {
    let dir = match content {
        "vztmpl" => "vztmpl",
        "import" => "import",
        "backup" => "backup",
        "snippets" => "snippets",
        _ => "iso",
    };
    format!("{storage}:{dir}/{file_name}")
}

/// A storage content list entry for a volume.
pub fn entry(volid: &str, rec: &Record) -> Value {
    let mut m = Map::new();
    m.insert("volid".into(), json!(volid));
    for (k, v) in &rec.config {
        m.insert(k.clone(), v.clone());
    }
    Value::Object(m)
}

/// The volumes of `node`/`storage`, filtered by `content` and `vmid` as PVE filters them.
pub fn list(s: &MockState, node: &str, storage: &str, params: &Map<String, Value>) -> Value {
    let content = params.get("content").and_then(Value::as_str);
    let vmid = params.get("vmid").map(|v| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    });
    let Some(volumes) = s.members.get(&content_key(node, storage)) else {
        return Value::Array(Vec::new());
    };
    Value::Array(
        volumes
            .iter()
            .filter(|(_, r)| {
                content.is_none_or(|c| r.config.get("content").and_then(Value::as_str) == Some(c))
            })
            .filter(|(_, r)| {
                vmid.as_deref().is_none_or(|v| {
                    r.config.get("vmid").is_some_and(|x| match x {
                        Value::String(s) => s == v,
                        other => *other == v,
                    })
                })
            })
            .map(|(id, r)| entry(id, r))
            .collect(),
    )
}

impl MockPve {
    /// Puts a volume on `node`/`storage` (replacing one of the same id).
    pub fn add_volume(&self, node: &str, storage: &str, volid: &str, fields: Map<String, Value>) {
        let now = self.store().now();
        self.store().write(|s| {
            let mut config = fields;
            config.entry("ctime").or_insert(json!(now));
            config.entry("format").or_insert_with(|| {
                json!(volid.rsplit_once('.').map_or("raw", |(_, ext)| match ext {
                    "iso" | "img" => "iso",
                    "qcow2" => "qcow2",
                    "vmdk" => "vmdk",
                    "gz" | "xz" | "zst" => "tgz",
                    _ => "raw",
                }))
            });
            s.members
                .entry(content_key(node, storage))
                .or_default()
                .insert(
                    volid.to_string(),
                    Record {
                        config,
                        meta: Map::new(),
                    },
                );
        });
    }

    /// Removes a volume; whether it existed.
    pub fn remove_volume(&self, node: &str, storage: &str, volid: &str) -> bool {
        self.store().write(|s| {
            s.members
                .get_mut(&content_key(node, storage))
                .is_some_and(|m| m.remove(volid).is_some())
        })
    }

    /// Finishes an upload the server received: the file becomes a volume, or the task
    /// fails as PVE's does when the checksum does not match (`Err((expected, got))`).
    pub fn finish_upload(
        &self,
        path: &str,
        params: &Map<String, Value>,
        file_name: &str,
        size: u64,
        checksum: Result<(), (String, String)>,
        upid: &Value,
    ) {
        let rel = crate::schema::index::strip_api_prefix(path);
        let parts: Vec<&str> = rel.split('/').collect();
        let (Some(node), Some(storage)) = (parts.get(1), parts.get(3)) else {
            return;
        };
        let node = percent_encoding::percent_decode_str(node)
            .decode_utf8_lossy()
            .into_owned();
        let storage = percent_encoding::percent_decode_str(storage)
            .decode_utf8_lossy()
            .into_owned();
        let upid = upid.as_str().unwrap_or_default();
        if let Err((expected, got)) = checksum {
            let msg = format!("checksum mismatch: got '{got}' != expect '{expected}'");
            self.store().write(|s| {
                if let Some(t) = s.tasks.get_mut(upid) {
                    t.log = vec![format!("TASK ERROR: {msg}")];
                    t.exitstatus = msg.clone();
                }
            });
            return;
        }
        let content = params
            .get("content")
            .and_then(Value::as_str)
            .unwrap_or("iso");
        let volid = file_volid(&storage, content, file_name);
        let mut fields = Map::new();
        fields.insert("content".into(), json!(content));
        fields.insert("size".into(), json!(size));
        self.add_volume(&node, &storage, &volid, fields);
        self.store().write(|s| {
            if let Some(t) = s.tasks.get_mut(upid) {
                t.log.insert(
                    0,
                    format!("target file: /var/lib/vz/template/{content}/{file_name}"),
                );
                t.log.insert(1, format!("file size is: {size}"));
            }
        });
    }
}
