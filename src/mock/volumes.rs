//! Storage content: the volumes on each node's storages (uploaded ISOs and templates,
//! allocated disks), kept in the store so `.../storage/{storage}/content` lists what was
//! put there through any path.

use serde_json::{json, Map, Value};

use super::digest::Hasher;
use super::store::{MockState, Record};
use super::MockPve;
use crate::api::{ApiError, Method};

/// A file arriving for `.../storage/{storage}/upload`: counted, and hashed with the
/// `checksum-algorithm` given before it, while it streams (never held in memory).
pub struct IncomingFile {
    file_name: String,
    size: u64,
    hasher: Option<Hasher>,
}

impl IncomingFile {
    /// A file called `file_name`, following the parameters sent before it.
    pub fn new(file_name: String, params: &Map<String, Value>) -> IncomingFile {
        let hasher = params
            .get("checksum-algorithm")
            .and_then(Value::as_str)
            .and_then(Hasher::new);
        IncomingFile {
            file_name,
            size: 0,
            hasher,
        }
    }

    /// The next bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        self.size += bytes.len() as u64;
        if let Some(h) = self.hasher.as_mut() {
            h.update(bytes);
        }
    }
}

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

/// The format PVE lists for a file volume: an OS template's is `t` and its compression
/// (`tzst`, `tgz`, `txz`), a backup's what follows `vzdump-...` (`vma.zst`, `tar.zst`), an
/// image's its extension; an ISO is `iso`.
fn file_format(volid: &str) -> String {
    let name = volid.rsplit(['/', ':']).next().unwrap_or(volid);
    let ext = name.rsplit_once('.').map_or("", |(_, e)| e);
    if volid.contains(":vztmpl/") {
        return format!("t{ext}");
    }
    if volid.contains(":backup/") {
        for kind in ["vma", "tar"] {
            if let Some((_, rest)) = name.split_once(&format!(".{kind}")) {
                return format!("{kind}{rest}");
            }
        }
    }
    match ext {
        "iso" | "img" => "iso",
        "qcow2" => "qcow2",
        "vmdk" => "vmdk",
        _ => "raw",
    }
    .to_string()
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
            .filter(|(_, r)| vmid.as_deref().is_none_or(|v| owned_by(r, v)))
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
            config
                .entry("format")
                .or_insert_with(|| json!(file_format(volid)));
            s.members
                .entry(content_key(node, storage))
                .or_default()
                .insert(
                    volid.to_string(),
                    (Record {
                        config,
                        meta: Map::new(),
                    })
                    .into(),
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

    /// Runs an upload as PVE does once the file has arrived: the request is handled (an
    /// `imgcopy` task), then the file becomes a volume, or the task fails as PVE's does when
    /// the checksum the caller gave does not match what arrived.
    pub fn receive_upload(
        &self,
        caller: &super::Caller,
        method: Method,
        path: &str,
        mut params: Map<String, Value>,
        field: &str,
        file: IncomingFile,
    ) -> Result<Value, ApiError> {
        params.insert(field.to_string(), Value::String(file.file_name.clone()));
        let upid = self.handle(caller, method, path, &params)?;
        let expected = params
            .get("checksum")
            .and_then(Value::as_str)
            .map(str::to_ascii_lowercase);
        let checksum = match (expected, file.hasher.map(Hasher::hex)) {
            (Some(e), Some(d)) if e != d => Err((e, d)),
            _ => Ok(()),
        };
        self.finish_upload(path, &params, &file.file_name, file.size, checksum, &upid);
        Ok(upid)
    }

    fn finish_upload(
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
                    t.exitstatus.clone_from(&msg);
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

/// Whether `key` of a guest config holds a disk PVE allocates (`scsi0`, `rootfs`, ...).
pub fn is_disk_key(kind: &str, key: &str) -> bool {
    let numbered = |prefix: &str| {
        key.strip_prefix(prefix)
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    };
    match kind {
        "lxc" => key == "rootfs" || numbered("mp"),
        _ => {
            key == "efidisk0"
                || key == "tpmstate0"
                || ["ide", "sata", "scsi", "virtio"]
                    .iter()
                    .any(|p| numbered(p))
        }
    }
}

/// Allocates the disks a new guest's config asks for with PVE's `STORAGE:SIZE` syntax (size
/// in GiB): each becomes a volume (`local-lvm:vm-100-disk-0`, on a directory storage
/// `local:100/vm-100-disk-0.qcow2`) in the storage's content, and the config value names
/// it with its size and options in order, as PVE writes it
/// (`local-lvm:vm-100-disk-0,iothread=1,size=32G`).
pub fn allocate_disks(
    s: &mut MockState,
    node: &str,
    kind: &str,
    vmid: &str,
    config: &mut Map<String, Value>,
    now: u64,
) -> Result<(), ApiError> {
    let keys: Vec<String> = config
        .keys()
        .filter(|k| is_disk_key(kind, k))
        .cloned()
        .collect();
    // Every disk is checked before any is allocated: a refused create leaves nothing behind.
    let mut planned = Vec::new();
    for key in keys {
        let Some(text) = config.get(&key).and_then(Value::as_str).map(str::to_string) else {
            continue;
        };
        let (first, rest) = text.split_once(',').unwrap_or((text.as_str(), ""));
        if rest.split(',').any(|o| o == "media=cdrom") {
            continue;
        }
        let Some((storage, size)) = first.split_once(':') else {
            continue;
        };
        let Ok(gib) = size.parse::<f64>() else {
            continue; // an existing volume, not a new one
        };
        if !(gib.is_finite() && gib > 0.0) {
            return Err(ApiError::new(500, format!("{key}: invalid size '{size}'")));
        }
        check_content(s, storage, kind)?;
        let bytes = (gib * 1024.0 * 1024.0 * 1024.0).round() as u64;
        // PVE writes a whole number of GiB as `G`, a fraction in MiB (`efidisk0`'s `4M`).
        let size = if gib.fract() == 0.0 {
            format!("{}G", gib as u64)
        } else {
            format!("{}M", (gib * 1024.0).round() as u64)
        };
        planned.push((key, storage.to_string(), rest.to_string(), bytes, size));
    }
    for (key, storage, rest, bytes, size) in planned {
        let new = NewVolume {
            node,
            storage: &storage,
            kind,
            vmid,
            format: rest.split(',').find_map(|o| o.strip_prefix("format=")),
            bytes,
            base: None,
        };
        let volid = alloc_volume(s, &new, now).map_err(|e| ApiError::new(500, e))?;
        let options = rest.split(',').filter(|o| !o.starts_with("format="));
        config.insert(key, json!(drive_value(&volid, options, &size)));
    }
    Ok(())
}

/// A drive's config value as PVE prints it: the volume, then its options in order, with
/// the size (`size=32G`) among them.
pub fn drive_value<'a>(volid: &str, options: impl Iterator<Item = &'a str>, size: &str) -> String {
    let mut opts: Vec<&str> = options
        .filter(|o| !o.is_empty() && !o.starts_with("size="))
        .collect();
    let size = format!("size={size}");
    opts.push(&size);
    opts.sort_by_key(|o| o.split_once('=').map_or(*o, |(k, _)| k));
    let mut out = volid.to_string();
    for o in opts {
        out.push(',');
        out.push_str(o);
    }
    out
}

/// PVE's spelling of a size in bytes (`PVE::JSONSchema::format_size`): the largest unit
/// that divides it (`32G`, `512M`, `4K`), or bytes.
pub fn size_text(bytes: u64) -> String {
    for (unit, factor) in [
        ("T", 1u64 << 40),
        ("G", 1 << 30),
        ("M", 1 << 20),
        ("K", 1 << 10),
    ] {
        if bytes != 0 && bytes.is_multiple_of(factor) {
            return format!("{}{unit}", bytes / factor);
        }
    }
    bytes.to_string()
}

/// A size as PVE's `parse_size` reads it (`32G`, `512M`, `4096` bytes).
pub fn parse_size(text: &str) -> Option<u64> {
    let (digits, factor) = match text.as_bytes().last()? {
        b'T' => (&text[..text.len() - 1], 1u64 << 40),
        b'G' => (&text[..text.len() - 1], 1 << 30),
        b'M' => (&text[..text.len() - 1], 1 << 20),
        b'K' => (&text[..text.len() - 1], 1 << 10),
        _ => (text, 1),
    };
    let n: f64 = digits.parse().ok()?;
    (n.is_finite() && n >= 0.0).then(|| (n * factor as f64).round() as u64)
}

/// PVE's check that a storage takes a guest's disks before it allocates one there
/// (qemu-server's `check_storage_access`, pve-container's `check_ct_storage`): it exists
/// (500), and its `content` has `images` (VM) or `rootdir` (CT), else a 400 naming
/// `storage`.
pub fn check_content(s: &MockState, storage: &str, kind: &str) -> Result<(), ApiError> {
    let Some(scfg) = s.members.get("storage").and_then(|m| m.get(storage)) else {
        return Err(ApiError::new(
            500,
            format!("storage '{storage}' does not exist"),
        ));
    };
    let content = scfg
        .config
        .get("content")
        .and_then(Value::as_str)
        .unwrap_or("");
    let (wanted, what) = if kind == "lxc" {
        ("rootdir", "container directories")
    } else {
        ("images", "vm images")
    };
    if content.split(',').any(|c| c.trim() == wanted) {
        return Ok(());
    }
    Err(ApiError::params([(
        "storage",
        format!("storage '{storage}' does not support {what}"),
    )]))
}

/// What a new volume is: where, whose, how big, in which format, and for a linked clone
/// the template's base volume it stands on.
pub struct NewVolume<'a> {
    pub node: &'a str,
    pub storage: &'a str,
    pub kind: &'a str,
    pub vmid: &'a str,
    /// The image format asked for (file storages); else the storage's, else raw.
    pub format: Option<&'a str>,
    pub bytes: u64,
    /// A linked clone's base volume (`local-lvm:base-100-disk-0`).
    pub base: Option<&'a str>,
}

/// Allocates a volume as `PVE::Storage::vdisk_alloc` (or a plugin's `clone_image`) names
/// it, with the next free disk number of the guest on that storage; its volume id.
pub fn alloc_volume(s: &mut MockState, new: &NewVolume<'_>, now: u64) -> Result<String, String> {
    let (storage, vmid) = (new.storage, new.vmid);
    let Some(scfg) = s.members.get("storage").and_then(|m| m.get(storage)) else {
        return Err(format!("storage '{storage}' does not exist"));
    };
    let setting = |k: &str| scfg.config.get(k).and_then(Value::as_str);
    let stype = setting("type").unwrap_or("dir").to_string();
    let file = file_based(&stype);
    // A file-based storage makes the image in the asked format, else its own default,
    // else raw (PVE::Storage::Plugin's default format); a linked clone is a qcow2 overlay.
    let format = match (file, new.kind, new.base) {
        (true, _, Some(_)) => "qcow2".to_string(),
        (true, "lxc", None) => "raw".to_string(),
        (true, _, None) => new
            .format
            .or_else(|| setting("format"))
            .unwrap_or("raw")
            .to_string(),
        (false, "lxc", _) if stype == "zfspool" => "subvol".to_string(),
        _ => "raw".to_string(),
    };
    let volumes = s.members.entry(content_key(new.node, storage)).or_default();
    let n = free_disk_number(volumes.keys(), vmid);
    let prefix = if format == "subvol" { "subvol" } else { "vm" };
    let name = format!("{prefix}-{vmid}-disk-{n}");
    let base = new.base.map(|b| b.split_once(':').map_or(b, |(_, n)| n));
    let volname = match (file, base) {
        // Plugin::clone_image: `$basevmid/$basename/$vmid/$name`.
        (true, Some(base)) => format!("{base}/{vmid}/{name}.qcow2"),
        (true, None) => format!("{vmid}/{name}.{format}"),
        // LVM-thin, ZFS, RBD: `$basename/$name`.
        (false, Some(base)) => format!("{base}/{name}"),
        (false, None) => name,
    };
    let volid = format!("{storage}:{volname}");
    volumes.insert(
        volid.clone(),
        (Record {
            config: json!({"content": if new.kind == "lxc" { "rootdir" } else { "images" },
                           "format": format, "size": new.bytes,
                           "vmid": vmid.parse::<u64>().map_or(json!(vmid), |v| json!(v)),
                           "ctime": now})
            .as_object()
            .cloned()
            .unwrap_or_default(),
            meta: Map::new(),
        })
        .into(),
    );
    Ok(volid)
}

/// The lowest disk number no volume of guest `vmid` on the storage uses
/// (`find_free_diskname`: `vm-`, `base-`, `subvol-` and `basevol-` names all count).
fn free_disk_number<'a>(volids: impl Iterator<Item = &'a String>, vmid: &str) -> usize {
    let mut taken = std::collections::BTreeSet::new();
    let own = format!("-{vmid}-disk-");
    for volid in volids {
        let file = volid.rsplit(['/', ':']).next().unwrap_or(volid);
        let Some((prefix, rest)) = file.split_once(&own) else {
            continue;
        };
        if !matches!(prefix, "vm" | "base" | "subvol" | "basevol") {
            continue;
        }
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        if let Ok(n) = digits.parse::<usize>() {
            taken.insert(n);
        }
    }
    // Among the first len+1 numbers one is free.
    (0..=taken.len()).find(|n| !taken.contains(n)).unwrap_or(0)
}

/// The size of a volume in bytes: its storage content entry's, else the drive's `size=`.
pub fn volume_bytes(s: &MockState, node: &str, drive: &str) -> u64 {
    let (volid, opts) = drive.split_once(',').unwrap_or((drive, ""));
    let storage = volid.split_once(':').map_or("", |(st, _)| st);
    s.members
        .get(&content_key(node, storage))
        .and_then(|m| m.get(volid))
        .and_then(|r| r.config.get("size"))
        .and_then(Value::as_u64)
        .or_else(|| {
            opts.split(',')
                .find_map(|o| o.strip_prefix("size="))
                .and_then(parse_size)
        })
        .unwrap_or(0)
}

/// The type of a storage (`dir`, `lvmthin`, ...), when it exists.
pub fn storage_type<'a>(s: &'a MockState, storage: &str) -> Option<&'a str> {
    s.members
        .get("storage")?
        .get(storage)?
        .config
        .get("type")?
        .as_str()
}

/// Storage types whose volumes are files (their format is the file's).
fn file_based(storage_type: &str) -> bool {
    matches!(
        storage_type,
        "dir" | "nfs" | "cifs" | "glusterfs" | "cephfs"
    )
}

/// Whether every disk of a guest's config can be snapshotted (PVE's `has_feature
/// ('snapshot')`): qcow2 images on file storages, any volume of LVM-thin, ZFS, RBD and
/// btrfs, none on thick LVM or iSCSI; CD-ROMs do not count.
pub fn snapshot_feature(s: &MockState, kind: &str, config: &Map<String, Value>) -> bool {
    config
        .iter()
        .filter(|(k, _)| is_disk_key(kind, k))
        .all(|(_, v)| {
            let text = v.as_str().unwrap_or_default();
            let (volid, opts) = text.split_once(',').unwrap_or((text, ""));
            if volid == "none" || opts.split(',').any(|o| o == "media=cdrom") {
                return true;
            }
            let Some((storage, name)) = volid.split_once(':') else {
                return false;
            };
            let stype = s
                .members
                .get("storage")
                .and_then(|m| m.get(storage))
                .and_then(|r| r.config.get("type"))
                .and_then(Value::as_str)
                .unwrap_or("");
            match stype {
                // PVE's volume names are case-sensitive (`parse_name_dir`: `\.(raw|qcow2|...)$`).
                t if file_based(t) => name.rsplit_once('.').is_some_and(|(_, ext)| ext == "qcow2"),
                "lvm" | "iscsi" | "iscsidirect" | "" => false,
                _ => true,
            }
        })
}

/// Whether a volume belongs to guest `vmid` (stored as a number or as text).
fn owned_by(volume: &Record, vmid: &str) -> bool {
    volume.config.get("vmid").is_some_and(|v| match v {
        Value::String(t) => t == vmid,
        other => other.as_u64().map(|n| n.to_string()).as_deref() == Some(vmid),
    })
}

/// Removes every volume owned by `vmid` on `node`'s storages, except a template's base
/// volumes that linked clones still stand on (PVE's `vdisk_free` refuses those: "base
/// volume ... is still in use by linked cloned", a warning of the destroy task).
pub fn free_guest_volumes(s: &mut MockState, node: &str, vmid: &str) {
    let prefix = format!("nodes/{node}/storage/");
    for (list, volumes) in &mut s.members {
        if list.starts_with(&prefix) && list.ends_with("/content") {
            let in_use: Vec<String> = volumes
                .keys()
                .filter(|v| super::devices::is_base_volume(v))
                .filter(|v| {
                    let below = format!("{v}/");
                    volumes.keys().any(|k| k.starts_with(&below))
                })
                .cloned()
                .collect();
            volumes.retain(|id, r| !owned_by(r, vmid) || in_use.contains(id));
        }
    }
}

/// `purge=1` of a guest's destroy: the guest leaves backup jobs (a job left without
/// guests is removed), replication jobs and HA resources.
pub fn purge_guest(s: &mut MockState, vmid: &str) {
    if let Some(jobs) = s.members.get_mut("cluster/backup") {
        jobs.retain(|_, job| {
            let Some(list) = job.config.get("vmid").and_then(Value::as_str) else {
                return true;
            };
            let rest: Vec<&str> = list
                .split(',')
                .map(str::trim)
                .filter(|v| *v != vmid)
                .collect();
            if rest.is_empty() {
                return false;
            }
            let rest = rest.join(",");
            job.config.insert("vmid".into(), json!(rest));
            true
        });
    }
    if let Some(jobs) = s.members.get_mut("cluster/replication") {
        jobs.retain(|id, job| {
            let guest = job
                .config
                .get("guest")
                .and_then(Value::as_str)
                .map(str::to_string);
            guest.as_deref() != Some(vmid) && id.split('-').next() != Some(vmid)
        });
    }
    if let Some(ha) = s.members.get_mut("cluster/ha/resources") {
        ha.retain(|sid, _| sid_vmid(sid) != vmid);
    }
}

/// The guest ids HA manages, once for a whole list.
pub fn ha_vmids(s: &MockState) -> std::collections::HashSet<&str> {
    ha_guests(s).collect()
}

/// Whether HA manages the guest.
pub fn ha_managed(s: &MockState, vmid: &str) -> bool {
    ha_guests(s).any(|id| id == vmid)
}

/// The guest id of every HA resource.
fn ha_guests(s: &MockState) -> impl Iterator<Item = &str> {
    s.members
        .get("cluster/ha/resources")
        .into_iter()
        .flat_map(|ha| ha.keys())
        .map(|sid| sid_vmid(sid))
}

/// The guest id of an HA resource id (`vm:100`, `ct:100` or a bare `100`).
fn sid_vmid(sid: &str) -> &str {
    sid.split_once(':').map_or(sid, |(_, id)| id)
}
