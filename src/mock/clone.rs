//! Templates and clones of guests, as qemu-server (`template_create`, `clone_vm`) and
//! pve-container make them: a template's disks become base volumes (`base-100-disk-0`); a
//! full clone gets volumes of its own (same size, on the asked storage), a linked clone
//! volumes standing on the template's base (`base-100-disk-0/vm-101-disk-0`); every clone
//! gets new MAC addresses and, for a VM, a new `smbios1` UUID and `vmgenid`.

use serde_json::{json, Map, Value};

use super::devices;
use super::guests::owner;
use super::is_set;
use super::store::{MockState, Record};
use super::volumes::{self, is_disk_key, NewVolume};

/// Config keys a clone does not copy (qemu-server's and pve-container's `clone_vm`).
const CLONE_SKIP: &[&str] = &[
    "snapshots",
    "parent",
    "snaptime",
    "vmstate",
    "snapstate",
    "runningcpu",
    "runningmachine",
    "running-nets-host-mtu",
    "lock",
    "template",
    "pending",
];

/// A clone as the request asks for it.
pub struct CloneRequest<'a> {
    /// `qemu` or `lxc`.
    pub kind: &'a str,
    pub node: &'a str,
    pub vmid: &'a str,
    pub newid: &'a str,
    /// The node the clone ends up on (`target`, else the source's node).
    pub target: &'a str,
    /// `full`, when the request says; a template's clones default to linked.
    pub full: Option<bool>,
    pub storage: Option<&'a str>,
    pub format: Option<&'a str>,
    pub snapname: Option<&'a str>,
    /// `name` (VM) or `hostname` (CT).
    pub name: Option<&'a str>,
    pub description: Option<&'a str>,
    /// Lenient mode (the original mock's behaviour): disks are copied as they are written,
    /// no volumes are allocated (so no storage can make the clone fail).
    pub lenient: bool,
}

impl CloneRequest<'_> {
    fn noun(&self) -> &'static str {
        if self.kind == "lxc" {
            "CT"
        } else {
            "VM"
        }
    }

    fn list(&self) -> String {
        format!("nodes/{}/{}", self.node, self.kind)
    }
}

/// The config a clone copies: the guest's, or the snapshot's.
fn source_config<'s>(s: &'s MockState, req: &CloneRequest<'_>) -> Option<&'s Record> {
    let list = req.list();
    match req.snapname {
        Some(snap) => s
            .members
            .get(&format!("{list}/{}/snapshot", req.vmid))?
            .get(snap)
            .map(|r| &**r),
        None => s.members.get(&list)?.get(req.vmid).map(|r| &**r),
    }
}

/// The disks of a config that a clone allocates anew (not CD-ROMs, not paths, not
/// `none`), with their config keys.
fn cloned_disks<'c>(kind: &str, config: &'c Map<String, Value>) -> Vec<(&'c String, &'c str)> {
    config
        .iter()
        .filter(|(k, _)| is_disk_key(kind, k))
        .filter_map(|(k, v)| Some((k, v.as_str()?)))
        .filter(|(_, v)| {
            let volid = v.split(',').next().unwrap_or("");
            !devices::is_cdrom(v) && volid.contains(':') && !volid.starts_with('/')
        })
        .collect()
}

/// What PVE refuses before it forks the clone worker (a 500 at once, or for a storage that
/// cannot hold images a 400 naming `storage`); `Ok` when the clone may start.
pub fn refusal(s: &MockState, req: &CloneRequest<'_>) -> Result<(), (u16, String)> {
    let noun = req.noun();
    let fail = |m: String| Err((500, m));
    if req.target != req.node && !s.nodes.iter().any(|n| n == req.target) {
        return fail(format!("no such cluster node '{}'", req.target));
    }
    let Some(src) = s.members.get(&req.list()).and_then(|m| m.get(req.vmid)) else {
        return Ok(()); // the worker says the guest does not exist
    };
    let template = src.config.get("template").is_some_and(is_set);
    let full = req.full.unwrap_or(!template);
    if let Some(storage) = req.storage {
        if let Err(e) = volumes::check_content(s, storage, req.kind) {
            let message = e
                .errors
                .and_then(|m| m.into_values().next())
                .unwrap_or(e.message);
            return Err((e.status, message));
        }
        let shared = s
            .members
            .get("storage")
            .and_then(|m| m.get(storage))
            .is_some_and(|r| r.config.get("shared").is_some_and(is_set));
        if req.target != req.node && !shared {
            return fail(format!("can't clone to non-shared storage '{storage}'"));
        }
        if !full {
            return fail("parameter 'storage' not allowed for linked clones".into());
        }
    }
    if req.format.is_some() && !full {
        return fail("parameter 'format' not allowed for linked clones".into());
    }
    if let Some(snap) = req.snapname {
        if source_config(s, req).is_none() {
            return fail(format!("snapshot '{snap}' does not exist"));
        }
    }
    if owner(s, req.newid).is_some() {
        return fail(format!(
            "unable to create {noun} {}: config file already exists",
            req.newid
        ));
    }
    let running = src.meta.get("status").and_then(Value::as_str) == Some("running");
    if req.kind == "lxc" && full && running && req.snapname.is_none() {
        return fail("Full clone of a running container is only possible from a snapshot".into());
    }
    let Some(config) = source_config(s, req).map(|r| &r.config) else {
        return Ok(());
    };
    let mut shared = true;
    for (key, value) in cloned_disks(req.kind, config) {
        let volid = value.split(',').next().unwrap_or(value);
        let storage = volid.split_once(':').map_or("", |(st, _)| st);
        let Some(scfg) = s.members.get("storage").and_then(|m| m.get(storage)) else {
            return fail(format!("storage '{storage}' does not exist"));
        };
        shared &= scfg.config.get("shared").is_some_and(is_set);
        if !full && !devices::is_base_volume(volid) {
            return fail(if req.kind == "lxc" {
                format!("Linked clone feature for '{volid}' is not available")
            } else {
                format!("Linked clone feature is not supported for '{volid}' ({key})")
            });
        }
    }
    if req.target != req.node && req.storage.is_none() && !shared {
        return fail(format!(
            "can't clone {noun} to node '{}' ({noun} uses local storage)",
            req.target
        ));
    }
    Ok(())
}

/// The clone itself (the worker's part): the new guest on `target`, stopped, with new
/// volumes and identity. Refusals found only here end the task with their message.
pub fn clone_guest(s: &mut MockState, req: &CloneRequest<'_>, now: u64) -> Result<(), String> {
    let noun = req.noun();
    let src = s
        .members
        .get(&req.list())
        .and_then(|m| m.get(req.vmid))
        .ok_or_else(|| format!("{noun} {} does not exist", req.vmid))?;
    if !s.nodes.iter().any(|n| n == req.target) {
        return Err(format!("no such cluster node '{}'", req.target));
    }
    if let Some(owner) = owner(s, req.newid) {
        return Err(format!(
            "unable to create {noun} {newid} - {noun} {newid} already exists on node '{owner}'",
            newid = req.newid
        ));
    }
    let template = src.config.get("template").is_some_and(is_set);
    let full = req.full.unwrap_or(!template);
    let source = source_config(s, req)
        .ok_or_else(|| format!("snapshot '{}' does not exist", req.snapname.unwrap_or("")))?;
    let src_name = src
        .config
        .get(if req.kind == "lxc" {
            "hostname"
        } else {
            "name"
        })
        .cloned();
    let mut config: Map<String, Value> = source
        .config
        .iter()
        .filter(|(k, _)| !CLONE_SKIP.contains(&k.as_str()) && !k.starts_with("unused"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let disks: Vec<(String, String)> = if req.lenient {
        Vec::new()
    } else {
        cloned_disks(req.kind, &source.config)
            .into_iter()
            .map(|(k, v)| (k.clone(), v.to_string()))
            .collect()
    };
    // The source's volumes sit on the source node's storages.
    let sizes: Vec<u64> = disks
        .iter()
        .map(|(_, v)| volumes::volume_bytes(s, req.node, v))
        .collect();
    let mut made = Vec::new();
    for ((key, value), bytes) in disks.iter().zip(sizes) {
        let (volid, opts) = value.split_once(',').unwrap_or((value, ""));
        let storage = volid.split_once(':').map_or("", |(st, _)| st);
        let dest = req.storage.unwrap_or(storage);
        let format = req.format.map(str::to_string).or_else(|| {
            (dest == storage)
                .then(|| volume_format(s, req.node, volid))
                .flatten()
        });
        let new = NewVolume {
            node: req.target,
            storage: dest,
            kind: req.kind,
            vmid: req.newid,
            format: format.as_deref(),
            bytes,
            base: (!full).then_some(volid),
        };
        match volumes::alloc_volume(s, &new, now) {
            Ok(id) => {
                // The source's size as it was written, else in PVE's spelling.
                let size = opts
                    .split(',')
                    .find_map(|o| o.strip_prefix("size="))
                    .map_or_else(|| volumes::size_text(bytes), str::to_string);
                config.insert(
                    key.clone(),
                    json!(volumes::drive_value(&id, opts.split(','), &size)),
                );
                made.push((dest.to_string(), id));
            }
            Err(e) => {
                for (storage, id) in made {
                    if let Some(m) = s
                        .members
                        .get_mut(&volumes::content_key(req.target, &storage))
                    {
                        m.remove(&id);
                    }
                }
                return Err(format!("clone failed: {e}"));
            }
        }
    }
    devices::fresh_identity(req.kind, &mut config);
    if req.kind == "lxc" {
        if let Some(h) = req.name {
            config.insert("hostname".into(), json!(h));
        }
    } else {
        let name = req.name.map_or_else(
            || {
                let base = src_name
                    .as_ref()
                    .and_then(Value::as_str)
                    .map_or_else(|| req.vmid.to_string(), str::to_string);
                format!("Copy-of-VM-{base}")
            },
            str::to_string,
        );
        config.insert("name".into(), json!(name));
    }
    if let Some(d) = req.description {
        config.insert("description".into(), json!(d));
    }
    let mut meta = Map::new();
    meta.insert("status".into(), json!("stopped"));
    let list = format!("nodes/{}/{}", req.target, req.kind);
    s.undelete(&format!("{list}/{}", req.newid));
    s.members
        .entry(list)
        .or_default()
        .insert(req.newid.to_string(), (Record { config, meta }).into());
    Ok(())
}

/// The image format of a volume (its content entry's).
fn volume_format(s: &MockState, node: &str, volid: &str) -> Option<String> {
    let storage = volid.split_once(':')?.0;
    s.members
        .get(&volumes::content_key(node, storage))?
        .get(volid)?
        .config
        .get("format")?
        .as_str()
        .map(str::to_string)
}

/// A guest becomes a template: its disks (or only `disk`) become base volumes, in its config
/// and in storage content, and `template: 1` is set.
pub fn make_template(s: &mut MockState, node: &str, kind: &str, vmid: &str, disk: Option<&str>) {
    let list = format!("nodes/{node}/{kind}");
    let Some(rec) = s.members.get(&list).and_then(|m| m.get(vmid)) else {
        return;
    };
    let renames: Vec<(String, String, String)> = cloned_disks(kind, &rec.config)
        .into_iter()
        .filter(|(k, _)| disk.is_none_or(|d| d == k.as_str()))
        .filter_map(|(k, v)| {
            let (volid, opts) = v.split_once(',').unwrap_or((v, ""));
            let base = devices::base_name(volid);
            (base != volid).then(|| {
                let value = if opts.is_empty() {
                    base.clone()
                } else {
                    format!("{base},{opts}")
                };
                (k.clone(), volid.to_string(), value)
            })
        })
        .collect();
    for (key, volid, value) in renames {
        let storage = volid.split_once(':').map_or("", |(st, _)| st).to_string();
        if let Some(content) = s.members.get_mut(&volumes::content_key(node, &storage)) {
            if let Some(vol) = content.remove(&volid) {
                let base = value.split(',').next().unwrap_or(&value).to_string();
                content.insert(base, vol);
            }
        }
        if let Some(r) = s.members.get_mut(&list).and_then(|m| m.get_mut(vmid)) {
            r.config.insert(key, json!(value));
        }
    }
    if let Some(r) = s.members.get_mut(&list).and_then(|m| m.get_mut(vmid)) {
        r.config.insert("template".into(), json!(1));
    }
}
