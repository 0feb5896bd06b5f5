//! Storage as a node shows it: the node's storage list (from the cluster's storage
//! configuration) and each storage's content (volumes of guests, uploads, downloads).

use serde_json::{json, Map, Value};

use super::cluster::gen_item;
use super::computed::Computed;
use super::messages::err500;
use super::store::{MockState, Record};
use super::{volumes, Ctx};
use crate::api::{ApiError, Method};

/// The handlers of this file, by operation.
pub const HANDLERS: &[Computed] = &[
    (Method::Get, "/storage", config_list),
    (Method::Get, "/storage/{storage}", config_entry),
    (Method::Get, "/nodes/{node}/storage", node_storage),
    (
        Method::Get,
        "/nodes/{node}/storage/{storage}/content",
        content,
    ),
    (
        Method::Get,
        "/nodes/{node}/storage/{storage}/status",
        status,
    ),
    (
        Method::Get,
        "/nodes/{node}/storage/{storage}/content/{volume}",
        volume_info,
    ),
    (
        Method::Delete,
        "/nodes/{node}/storage/{storage}/content/{volume}",
        volume_delete,
    ),
];

/// A storage's size on a node, and what its volumes use of it: (total, used, avail).
/// Local storages have the node's 100 GiB (a directory storage shares the root file system
/// with the 8 GiB the system uses), network storages 1 TiB; used is what the volumes the
/// node's content lists take.
pub fn usage(s: &MockState, node: &str, storage: &str, storage_type: &str) -> (u64, u64, u64) {
    const GIB: u64 = 1 << 30;
    let network = matches!(
        storage_type,
        "nfs" | "cifs" | "cephfs" | "rbd" | "pbs" | "glusterfs" | "iscsi" | "iscsidirect" | "zfs"
    );
    let total = if network { 1024 * GIB } else { 100 * GIB };
    let system = if storage_type == "dir" { 8 * GIB } else { 0 };
    let volumes: u64 = s
        .members
        .get(&volumes::content_key(node, storage))
        .map_or(0, |m| {
            m.values()
                .filter_map(|r| r.config.get("size").and_then(Value::as_u64))
                .sum()
        });
    let used = (system + volumes).min(total);
    (total, used, total - used)
}

/// `GET .../storage/{storage}/status`: the storage.cfg entry's type and content with its
/// usage (PVE's 400 `No such storage.` for one that is not there).
fn status(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    if ctx.mock.lenient() {
        return Ok(ctx.mock.answer(ctx));
    }
    let node = ctx.path_param("node").unwrap_or_default();
    let id = ctx.path_param("storage").unwrap_or_default();
    ctx.store().read(|s| {
        let rec = s
            .members
            .get("storage")
            .and_then(|m| m.get(id))
            .filter(|_| !s.is_deleted(&format!("storage/{id}")))
            .ok_or_else(|| ApiError::params([("storage", "No such storage.")]))?;
        let ty = rec
            .config
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("dir");
        let (total, used, avail) = usage(s, node, id, ty);
        Ok(json!({
            "type": ty,
            "content": rec.config.get("content").cloned().unwrap_or(json!("")),
            "shared": rec.config.get("shared").cloned().unwrap_or(json!(0)),
            "active": 1, "enabled": 1,
            "total": total, "used": used, "avail": avail,
        }))
    })
}

/// Where a volume is on the node (`PVE::Storage::path`): a block device of LVM/ZFS, a file
/// below a directory storage's path.
fn volume_path(rec: &Record, storage_type: &str, volid: &str) -> String {
    let name = volid.split_once(':').map_or(volid, |(_, n)| n);
    let setting = |k: &str| rec.config.get(k).and_then(Value::as_str).unwrap_or("");
    match storage_type {
        "lvm" | "lvmthin" => format!(
            "/dev/{}/{}",
            setting("vgname"),
            name.rsplit('/').next().unwrap_or(name)
        ),
        "zfspool" => format!("/dev/zvol/{}/{name}", setting("pool")),
        "rbd" => format!("/dev/rbd-pve/{}/{name}", setting("pool")),
        _ => {
            let base = setting("path");
            match name.split_once('/') {
                Some(("iso", f)) => format!("{base}/template/iso/{f}"),
                Some(("vztmpl", f)) => format!("{base}/template/cache/{f}"),
                Some(("backup", f)) => format!("{base}/dump/{f}"),
                Some(("snippets", f)) => format!("{base}/snippets/{f}"),
                Some(("import", f)) => format!("{base}/import/{f}"),
                _ => format!("{base}/images/{name}"),
            }
        }
    }
}

/// The path's volume as a volume id: named with or without its storage.
fn path_volid(ctx: &Ctx<'_>) -> String {
    let storage = ctx.path_param("storage").unwrap_or_default();
    let volume = ctx.path_param("volume").unwrap_or_default();
    if volume.contains(':') {
        volume.to_string()
    } else {
        format!("{storage}:{volume}")
    }
}

/// `GET .../content/{volume}`: a volume's path, size, use and format (PVE's
/// `volume_size_info on '...' failed` for one that is not there).
fn volume_info(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    if ctx.mock.lenient() {
        return Ok(ctx.mock.answer(ctx));
    }
    let node = ctx.path_param("node").unwrap_or_default();
    let storage = ctx.path_param("storage").unwrap_or_default();
    let volid = path_volid(ctx);
    ctx.store().read(|s| {
        let failed = || err500(format!("volume_size_info on '{volid}' failed"));
        let scfg = s
            .members
            .get("storage")
            .and_then(|m| m.get(storage))
            .ok_or_else(failed)?;
        let vol = s
            .members
            .get(&volumes::content_key(node, storage))
            .and_then(|m| m.get(&volid))
            .ok_or_else(failed)?;
        let ty = scfg
            .config
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("dir");
        let size = vol.config.get("size").and_then(Value::as_u64).unwrap_or(0);
        let format = vol.config.get("format").cloned().unwrap_or(json!("raw"));
        // Block devices are their size; a new image file is sparse.
        let used = if matches!(ty, "lvm" | "lvmthin" | "zfspool" | "rbd")
            || vol.config.get("content") != Some(&json!("images"))
        {
            size
        } else {
            0
        };
        let mut out = json!({"path": volume_path(scfg, ty, &volid), "size": size, "used": used,
                             "format": format});
        for k in ["notes", "protected"] {
            if let Some(v) = vol.config.get(k) {
                out[k] = v.clone();
            }
        }
        Ok(out)
    })
}

/// `DELETE .../content/{volume}`: the `imgdel` task frees the volume.
fn volume_delete(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let node = ctx.path_param("node").unwrap_or_default().to_string();
    let storage = ctx.path_param("storage").unwrap_or_default().to_string();
    let volid = path_volid(ctx);
    let upid = ctx.mock.new_upid_with_id(ctx, ctx.path_params, &volid);
    if !ctx.mock.lenient() {
        ctx.store().write(|s| {
            if let Some(m) = s.members.get_mut(&volumes::content_key(&node, &storage)) {
                m.remove(&volid);
            }
        });
    }
    ctx.mock.record_task(&upid, Ok(()));
    Ok(Value::String(upid))
}

/// The digest of the cluster's whole storage configuration (PVE's `storage.cfg` digest:
/// every entry of the list carries it, and a write with another `digest` is refused).
pub fn storage_cfg_digest(s: &MockState) -> String {
    let all: Map<String, Value> = s
        .members
        .get("storage")
        .map(|m| {
            m.iter()
                .filter(|(id, _)| !s.is_deleted(&format!("storage/{id}")))
                .map(|(id, r)| (id.clone(), Value::Object(r.config.clone())))
                .collect()
        })
        .unwrap_or_default();
    super::reads::config_digest(&all)
}

/// One storage as `GET /storage` lists it: its configuration as storage.cfg holds it,
/// with its id and the file's digest (PVE's `api_storage_config`).
fn entry(id: &str, rec: &Record, digest: &str) -> Value {
    let mut m = rec.config.clone();
    m.insert("storage".into(), json!(id));
    m.insert("digest".into(), json!(digest));
    Value::Object(m)
}

/// `GET /storage`: every storage the caller may audit, in id order, `type` filtering.
fn config_list(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let want = ctx.text("type");
    Ok(ctx.store().read(|s| {
        let digest = storage_cfg_digest(s);
        let Some(storages) = s.members.get("storage") else {
            return Value::Array(Vec::new());
        };
        Value::Array(
            storages
                .iter()
                .filter(|(id, _)| !s.is_deleted(&format!("storage/{id}")))
                .filter(|(_, r)| {
                    want.as_deref()
                        .is_none_or(|t| r.config.get("type").and_then(Value::as_str) == Some(t))
                })
                .filter(|(id, _)| super::reads::may_audit_storage(ctx, s, id))
                .map(|(id, r)| entry(id, r, &digest))
                .collect(),
        )
    }))
}

/// `GET /storage/{storage}`.
fn config_entry(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let id = ctx.path_param("storage").unwrap_or_default();
    let missing = ctx.store().read(|s| {
        !s.members.get("storage").is_some_and(|m| m.contains_key(id))
            || s.is_deleted(&format!("storage/{id}"))
    });
    if missing && ctx.mock.lenient() {
        // Lenient mode (the original mock's behaviour) refuses nothing: the schema's shape.
        return Ok(ctx.mock.answer(ctx));
    }
    ctx.store().read(|s| {
        let rec = s
            .members
            .get("storage")
            .and_then(|m| m.get(id))
            .filter(|_| !s.is_deleted(&format!("storage/{id}")))
            .ok_or_else(|| super::messages::err500(format!("storage '{id}' does not exist")))?;
        Ok(entry(id, rec, &storage_cfg_digest(s)))
    })
}

fn node_storage(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    Ok(ctx.store().read(|s| {
        let Some(storages) = s.members.get("storage") else {
            return Value::Array(Vec::new());
        };
        Value::Array(
            storages
                .iter()
                .map(|(id, rec)| {
                    let mut m = gen_item(ctx, &[("storage", id.clone())]);
                    for k in ["type", "content", "shared"] {
                        if let Some(v) = rec.config.get(k) {
                            m.insert(k.into(), v.clone());
                        }
                    }
                    // storage.cfg says `shared` only for storages marked so.
                    if !rec.config.contains_key("shared") {
                        m.insert("shared".into(), json!(0));
                    }
                    m.insert("active".into(), json!(1));
                    m.insert("enabled".into(), json!(1));
                    let ty = rec
                        .config
                        .get("type")
                        .and_then(Value::as_str)
                        .unwrap_or("dir");
                    let node = ctx.path_param("node").unwrap_or_default();
                    let (total, used, avail) = usage(s, node, id, ty);
                    m.insert("total".into(), json!(total));
                    m.insert("used".into(), json!(used));
                    m.insert("avail".into(), json!(avail));
                    m.insert("used_fraction".into(), json!(used as f64 / total as f64));
                    // Only plugins that cannot allocate volumes say so (iSCSI), and the
                    // formats only come with a `format` query (PVE::API2::Storage::Status).
                    let ty = rec.config.get("type").and_then(Value::as_str).unwrap_or("");
                    if !ty.starts_with("iscsi") {
                        m.remove("select_existing");
                    }
                    if ctx.params.get("format").is_none() {
                        m.remove("formats");
                    }
                    Value::Object(m)
                })
                .collect(),
        )
    }))
}

fn content(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let node = ctx.path_param("node").unwrap_or_default();
    let storage = ctx.path_param("storage").unwrap_or_default();
    Ok(ctx
        .store()
        .read(|s| volumes::list(s, node, storage, ctx.params)))
}
