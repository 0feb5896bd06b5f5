//! Which operations PVE runs as workers, and the task type their UPID carries. One table,
//! checked by a test against every bundled schema: each write operation that returns a
//! plain string is either a worker here or listed in [`NOT_WORKERS`] with what it returns.
//! Also the task index: status, log, lists, stopping a task, and how tasks are recorded.

use serde_json::{json, Value};

use super::computed::{Computed, ComputedRows};
use super::store::TaskRecord;
use super::{Ctx, MockPve};
use crate::api::{ApiError, Method, Rows, Upid};

/// (method, path template, PVE task type).
pub const WORKERS: &[(&str, &str, &str)] = &[
    ("POST", "/access/domains/{realm}/sync", "auth-realm-sync"),
    ("POST", "/cluster/acme/account", "acmeregister"),
    ("DELETE", "/cluster/acme/account/{name}", "acmedeactivate"),
    ("PUT", "/cluster/acme/account/{name}", "acmeupdate"),
    ("POST", "/cluster/bulk-action/guest/migrate", "bulk-migrate"),
    (
        "POST",
        "/cluster/bulk-action/guest/shutdown",
        "bulk-shutdown",
    ),
    ("POST", "/cluster/bulk-action/guest/start", "bulk-start"),
    ("POST", "/cluster/bulk-action/guest/suspend", "bulk-suspend"),
    ("PUT", "/cluster/ceph/flags", "cephsetflags"),
    ("POST", "/cluster/config", "clustercreate"),
    ("POST", "/cluster/config/join", "clusterjoin"),
    ("PUT", "/cluster/sdn", "reloadnetworkall"),
    ("POST", "/nodes/{node}/aplinfo", "download"),
    ("POST", "/nodes/{node}/apt/update", "aptupdate"),
    ("DELETE", "/nodes/{node}/ceph/fs/{name}", "cephdestroyfs"),
    ("POST", "/nodes/{node}/ceph/fs/{name}", "cephfscreate"),
    ("DELETE", "/nodes/{node}/ceph/mds/{name}", "cephdestroymds"),
    ("POST", "/nodes/{node}/ceph/mds/{name}", "cephcreatemds"),
    ("DELETE", "/nodes/{node}/ceph/mgr/{id}", "cephdestroymgr"),
    ("POST", "/nodes/{node}/ceph/mgr/{id}", "cephcreatemgr"),
    ("DELETE", "/nodes/{node}/ceph/mon/{monid}", "cephdestroymon"),
    ("POST", "/nodes/{node}/ceph/mon/{monid}", "cephcreatemon"),
    ("POST", "/nodes/{node}/ceph/osd", "cephcreateosd"),
    ("DELETE", "/nodes/{node}/ceph/osd/{osdid}", "cephdestroyosd"),
    ("POST", "/nodes/{node}/ceph/pool", "cephcreatepool"),
    (
        "DELETE",
        "/nodes/{node}/ceph/pool/{name}",
        "cephdestroypool",
    ),
    ("PUT", "/nodes/{node}/ceph/pool/{name}", "cephsetpool"),
    ("POST", "/nodes/{node}/ceph/restart", "srvrestart"),
    ("POST", "/nodes/{node}/ceph/start", "srvstart"),
    ("POST", "/nodes/{node}/ceph/stop", "srvstop"),
    (
        "DELETE",
        "/nodes/{node}/certificates/acme/certificate",
        "acmerevoke",
    ),
    (
        "POST",
        "/nodes/{node}/certificates/acme/certificate",
        "acmenewcert",
    ),
    (
        "PUT",
        "/nodes/{node}/certificates/acme/certificate",
        "acmerenew",
    ),
    ("POST", "/nodes/{node}/disks/directory", "dircreate"),
    (
        "DELETE",
        "/nodes/{node}/disks/directory/{name}",
        "dirremove",
    ),
    ("POST", "/nodes/{node}/disks/initgpt", "diskinit"),
    ("POST", "/nodes/{node}/disks/lvm", "lvmcreate"),
    ("DELETE", "/nodes/{node}/disks/lvm/{name}", "lvmremove"),
    ("POST", "/nodes/{node}/disks/lvmthin", "lvmthincreate"),
    (
        "DELETE",
        "/nodes/{node}/disks/lvmthin/{name}",
        "lvmthinremove",
    ),
    ("PUT", "/nodes/{node}/disks/wipedisk", "wipedisk"),
    ("POST", "/nodes/{node}/disks/zfs", "zfscreate"),
    ("DELETE", "/nodes/{node}/disks/zfs/{name}", "zfsremove"),
    ("POST", "/nodes/{node}/lxc", "vzcreate"),
    ("DELETE", "/nodes/{node}/lxc/{vmid}", "vzdestroy"),
    ("POST", "/nodes/{node}/lxc/{vmid}/clone", "vzclone"),
    ("POST", "/nodes/{node}/lxc/{vmid}/migrate", "vzmigrate"),
    (
        "POST",
        "/nodes/{node}/lxc/{vmid}/move_volume",
        "move_volume",
    ),
    (
        "POST",
        "/nodes/{node}/lxc/{vmid}/remote_migrate",
        "vzmigrate",
    ),
    ("PUT", "/nodes/{node}/lxc/{vmid}/resize", "resize"),
    ("POST", "/nodes/{node}/lxc/{vmid}/snapshot", "vzsnapshot"),
    (
        "DELETE",
        "/nodes/{node}/lxc/{vmid}/snapshot/{snapname}",
        "vzdelsnapshot",
    ),
    (
        "POST",
        "/nodes/{node}/lxc/{vmid}/snapshot/{snapname}/rollback",
        "vzrollback",
    ),
    ("POST", "/nodes/{node}/lxc/{vmid}/status/reboot", "vzreboot"),
    ("POST", "/nodes/{node}/lxc/{vmid}/status/resume", "vzresume"),
    (
        "POST",
        "/nodes/{node}/lxc/{vmid}/status/shutdown",
        "vzshutdown",
    ),
    ("POST", "/nodes/{node}/lxc/{vmid}/status/start", "vzstart"),
    ("POST", "/nodes/{node}/lxc/{vmid}/status/stop", "vzstop"),
    (
        "POST",
        "/nodes/{node}/lxc/{vmid}/status/suspend",
        "vzsuspend",
    ),
    ("POST", "/nodes/{node}/migrateall", "migrateall"),
    ("PUT", "/nodes/{node}/network", "srvreload"),
    ("POST", "/nodes/{node}/qemu", "qmcreate"),
    ("DELETE", "/nodes/{node}/qemu/{vmid}", "qmdestroy"),
    ("POST", "/nodes/{node}/qemu/{vmid}/clone", "qmclone"),
    ("POST", "/nodes/{node}/qemu/{vmid}/config", "qmconfig"),
    ("POST", "/nodes/{node}/qemu/{vmid}/migrate", "qmigrate"),
    ("POST", "/nodes/{node}/qemu/{vmid}/move_disk", "qmmove"),
    (
        "POST",
        "/nodes/{node}/qemu/{vmid}/remote_migrate",
        "qmigrate",
    ),
    ("PUT", "/nodes/{node}/qemu/{vmid}/resize", "resize"),
    ("POST", "/nodes/{node}/qemu/{vmid}/snapshot", "qmsnapshot"),
    (
        "DELETE",
        "/nodes/{node}/qemu/{vmid}/snapshot/{snapname}",
        "qmdelsnapshot",
    ),
    (
        "POST",
        "/nodes/{node}/qemu/{vmid}/snapshot/{snapname}/rollback",
        "qmrollback",
    ),
    (
        "POST",
        "/nodes/{node}/qemu/{vmid}/status/reboot",
        "qmreboot",
    ),
    ("POST", "/nodes/{node}/qemu/{vmid}/status/reset", "qmreset"),
    (
        "POST",
        "/nodes/{node}/qemu/{vmid}/status/resume",
        "qmresume",
    ),
    (
        "POST",
        "/nodes/{node}/qemu/{vmid}/status/shutdown",
        "qmshutdown",
    ),
    ("POST", "/nodes/{node}/qemu/{vmid}/status/start", "qmstart"),
    ("POST", "/nodes/{node}/qemu/{vmid}/status/stop", "qmstop"),
    (
        "POST",
        "/nodes/{node}/qemu/{vmid}/status/suspend",
        "qmsuspend",
    ),
    ("POST", "/nodes/{node}/qemu/{vmid}/template", "qmtemplate"),
    (
        "POST",
        "/nodes/{node}/services/{service}/reload",
        "srvreload",
    ),
    (
        "POST",
        "/nodes/{node}/services/{service}/restart",
        "srvrestart",
    ),
    ("POST", "/nodes/{node}/services/{service}/start", "srvstart"),
    ("POST", "/nodes/{node}/services/{service}/stop", "srvstop"),
    ("POST", "/nodes/{node}/startall", "startall"),
    ("POST", "/nodes/{node}/stopall", "stopall"),
    ("POST", "/nodes/{node}/suspendall", "suspendall"),
    (
        "DELETE",
        "/nodes/{node}/storage/{storage}/content/{volume}",
        "imgdel",
    ),
    (
        "POST",
        "/nodes/{node}/storage/{storage}/content/{volume}",
        "imgcopy",
    ),
    (
        "POST",
        "/nodes/{node}/storage/{storage}/download-url",
        "download",
    ),
    (
        "POST",
        "/nodes/{node}/storage/{storage}/oci-registry-pull",
        "download",
    ),
    (
        "DELETE",
        "/nodes/{node}/storage/{storage}/prunebackups",
        "prunebackups",
    ),
    ("POST", "/nodes/{node}/storage/{storage}/upload", "imgcopy"),
    ("POST", "/nodes/{node}/vzdump", "vzdump"),
];

/// Write operations that return a plain string but are not workers: (method, template,
/// what they return).
pub const NOT_WORKERS: &[(&str, &str, &str)] = &[
    ("POST", "/access/openid/auth-url", "the redirection URL"),
    ("POST", "/cluster/sdn/lock", "the lock token"),
    (
        "POST",
        "/nodes/{node}/qemu/{vmid}/monitor",
        "the monitor's output",
    ),
    (
        "POST",
        "/nodes/{node}/replication/{id}/schedule_now",
        "the job id",
    ),
    (
        "POST",
        "/nodes/{node}/storage/{storage}/content",
        "the new volume ID",
    ),
];

/// The task type of a worker operation.
pub fn worker_type(method: &str, template: &str) -> Option<&'static str> {
    WORKERS
        .iter()
        .find(|(m, t, _)| *m == method && *t == template)
        .map(|(_, _, kind)| *kind)
}

/// Whether the operation is known to return a plain string that is not a task ID.
pub fn is_not_worker(method: &str, template: &str) -> bool {
    NOT_WORKERS
        .iter()
        .any(|(m, t, _)| *m == method && *t == template)
}

/// How long a task of this type takes on a real node, in seconds (scaled by the mock's
/// time scale; with the default scale 0 every task ends at once).
pub fn nominal_seconds(kind: &str) -> f64 {
    match kind {
        "qmcreate" | "vzcreate" => 5.0,
        "qmstart" | "vzstart" | "qmreboot" | "vzreboot" => 3.0,
        "qmstop" | "vzstop" | "qmsuspend" | "vzsuspend" | "qmresume" | "vzresume" | "qmreset" => {
            2.0
        }
        "qmshutdown" | "vzshutdown" => 10.0,
        "qmclone" | "vzclone" => 20.0,
        "qmigrate" | "vzmigrate" | "bulk-migrate" => 30.0,
        "vzdump" => 60.0,
        "download" | "imgcopy" => 15.0,
        _ => 2.0,
    }
}

/// The config lock a task of this type holds while it runs.
pub fn lock_kind(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "qmcreate" | "vzcreate" => "create",
        "qmclone" | "vzclone" => "clone",
        "qmigrate" | "vzmigrate" => "migrate",
        "vzdump" => "backup",
        "qmsnapshot" | "vzsnapshot" => "snapshot",
        "qmdelsnapshot" | "vzdelsnapshot" => "snapshot-delete",
        "qmrollback" | "vzrollback" => "rollback",
        _ => return None,
    })
}

// -- the task index -------------------------------------------------------------------------

/// The handlers of the task index, by operation.
pub const HANDLERS: &[Computed] = &[
    (Method::Get, "/nodes/{node}/tasks/{upid}/status", status),
    (Method::Get, "/nodes/{node}/tasks/{upid}/log", log),
    (Method::Delete, "/nodes/{node}/tasks/{upid}", stop),
];

/// The task lists, answered row by row.
pub const ROWS: &[ComputedRows] = &[
    (Method::Get, "/nodes/{node}/tasks", list),
    (Method::Get, "/cluster/tasks", list),
];

/// Finished tasks kept per node (PVE keeps a rotated task index; the oldest finished
/// tasks, and their logs, are dropped first). Running tasks are always kept.
pub const TASK_INDEX_PER_NODE: usize = 1000;

/// A task id that does not parse, or that no task has: PVE's 400s (PVE::API2::Tasks:
/// `raise_param_exc({ upid => "unable to parse worker upid" })`, then
/// `"no such task"`; the log's open failure says `no such task - unable to open file`).
/// In lenient mode (the original mock's behaviour) any well-formed id reads as a task
/// that ended `OK`, and a malformed one gets a generated answer (`None`).
fn known_task(ctx: &Ctx<'_>, missing: &str) -> Result<Option<(String, Upid)>, ApiError> {
    let upid = ctx.path_param("upid").unwrap_or_default().to_string();
    let lenient = ctx.mock.lenient();
    let Ok(parsed) = upid.parse::<Upid>() else {
        if lenient {
            return Ok(None);
        }
        return Err(ApiError::params([("upid", "unable to parse worker upid")]));
    };
    if !lenient && !ctx.store().read(|s| s.tasks.contains_key(&upid)) {
        return Err(ApiError::params([("upid", missing)]));
    }
    Ok(Some((upid, parsed)))
}

fn status(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let Some((upid, parsed)) = known_task(ctx, "no such task")? else {
        return Ok(ctx.mock.answer(ctx));
    };
    let now = ctx.mock.now();
    Ok(ctx.store().read(|s| {
        let task = s.tasks.get(&upid);
        let mut status = json!({
            "upid": upid, "node": parsed.node, "pid": parsed.pid, "pstart": parsed.pstart,
            "starttime": parsed.starttime, "type": parsed.kind, "id": parsed.id, "user": parsed.user,
            "status": "stopped",
            "exitstatus": task.map_or("OK", |t| t.exitstatus.as_str()),
        });
        if task.is_some_and(|t| t.endtime > now) {
            status["status"] = json!("running");
            if let Some(o) = status.as_object_mut() {
                o.remove("exitstatus");
            }
        }
        status
    }))
}

fn log(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let Some((upid, _)) = known_task(
        ctx,
        "no such task - unable to open file - No such file or directory",
    )?
    else {
        return Ok(ctx.mock.answer(ctx));
    };
    let now = ctx.mock.now();
    Ok(ctx.store().read(|s| {
        let task = s.tasks.get(&upid);
        let running = task.is_some_and(|t| t.endtime > now);
        let mut lines: Vec<String> =
            task.map_or_else(|| vec!["TASK OK".to_string()], |t| t.log.clone());
        if running {
            // The final `TASK OK` / `TASK ERROR:` line comes when the task ends.
            lines.pop();
        }
        Value::Array(
            lines
                .iter()
                .enumerate()
                .map(|(i, t)| json!({"n": i + 1, "t": t}))
                .collect(),
        )
    }))
}

/// What `GET /nodes/{node}/tasks` filters by (PVE's parameters and defaults).
struct TaskFilter {
    start: usize,
    limit: usize,
    user: Option<String>,
    kind: Option<String>,
    vmid: Option<String>,
    errors: bool,
    since: Option<u64>,
    until: Option<u64>,
    /// `archive` (finished, the default), `active` (running) or `all`.
    source: String,
    /// `ok`, `error`, `warning`, `unknown`.
    statuses: Option<Vec<String>>,
}

impl TaskFilter {
    fn of(ctx: &Ctx<'_>) -> TaskFilter {
        let text = |k: &str| ctx.text(k).filter(|s| !s.is_empty());
        let number = |k: &str| text(k).and_then(|s| s.parse::<u64>().ok());
        TaskFilter {
            start: number("start").unwrap_or(0) as usize,
            // `$param->{limit} || 50`: absent or 0 is 50.
            limit: number("limit").filter(|l| *l > 0).unwrap_or(50) as usize,
            user: text("userfilter").map(|u| u.to_lowercase()),
            kind: text("typefilter"),
            vmid: text("vmid"),
            errors: ctx.flag("errors"),
            since: number("since"),
            until: number("until"),
            source: text("source").unwrap_or_else(|| "archive".into()),
            statuses: text("statusfilter").map(|s| {
                s.split([',', ';', ' '])
                    .filter(|p| !p.is_empty())
                    .map(str::to_lowercase)
                    .collect()
            }),
        }
    }

    fn admits(&self, u: &Upid, t: &TaskRecord, running: bool) -> bool {
        let source_ok = match self.source.as_str() {
            "active" => running,
            "all" => true,
            _ => !running,
        };
        let class = if running {
            "unknown"
        } else if t.exitstatus == "OK" {
            "ok"
        } else if t.exitstatus.starts_with("WARNINGS") {
            "warning"
        } else {
            "error"
        };
        source_ok
            && self
                .user
                .as_ref()
                .is_none_or(|f| u.user.to_lowercase().contains(f.as_str()))
            && self.kind.as_ref().is_none_or(|k| *k == u.kind)
            && self.vmid.as_ref().is_none_or(|v| *v == u.id)
            && !(self.errors && !running && t.exitstatus == "OK")
            && self.since.is_none_or(|s| u.starttime >= s)
            && self.until.is_none_or(|s| u.starttime <= s)
            && self
                .statuses
                .as_ref()
                .is_none_or(|st| st.iter().any(|x| x == class))
    }
}

/// The members of a task list's rows, as PVE lists a task (a running one without `status`
/// and `endtime`).
const TASK_KEYS: [&str; 10] = [
    "endtime",
    "id",
    "node",
    "pid",
    "pstart",
    "starttime",
    "status",
    "type",
    "upid",
    "user",
];

fn list(ctx: &Ctx<'_>) -> Result<Rows, ApiError> {
    let node = ctx.path_param("node");
    let clock = ctx.mock.now();
    // `/cluster/tasks` takes no parameters: every node's tasks, running ones too.
    let filter = node.map(|_| TaskFilter::of(ctx));
    let (start, limit) = filter
        .as_ref()
        .map_or((0, usize::MAX), |f| (f.start, f.limit));
    let (mut rows, [endtime, id, node_col, pid, pstart, starttime, status, kind, upid_col, user]) =
        Rows::with_columns(TASK_KEYS);
    ctx.store().read(|s| {
        let tasks: Box<dyn DoubleEndedIterator<Item = (&String, &TaskRecord)>> = match node {
            Some(n) => Box::new(node_tasks(s, n)),
            None => Box::new(s.tasks.iter()),
        };
        let admitted = tasks.rev().filter_map(|(upid, t)| {
            let u = upid.parse::<Upid>().ok()?;
            let running = t.endtime > clock;
            match &filter {
                Some(f) if !f.admits(&u, t, running) => None,
                _ => Some((upid, u, t, running)),
            }
        });
        for (upid, u, t, running) in admitted.skip(start).take(limit) {
            let mut row = rows.empty_row();
            row[upid_col] = upid.clone().into();
            row[node_col] = u.node.into();
            row[pid] = u.pid.into();
            row[pstart] = u.pstart.into();
            row[starttime] = u.starttime.into();
            row[kind] = u.kind.into();
            row[id] = u.id.into();
            row[user] = u.user.into();
            if !running {
                row[status] = t.exitstatus.clone().into();
                row[endtime] = t.endtime.into();
            }
            rows.push(row);
        }
    });
    Ok(rows)
}

/// `DELETE /nodes/{node}/tasks/{upid}`: a running task ends, interrupted.
fn stop(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let Some((upid, _)) = known_task(ctx, "no such task")? else {
        return Ok(Value::Null);
    };
    let now = ctx.mock.now();
    ctx.store().write(|s| {
        if let Some(t) = s.tasks.get_mut(&upid).filter(|t| t.endtime > now) {
            t.endtime = now;
            t.exitstatus = "interrupted by signal".into();
            t.log.pop();
            t.log.push("TASK ERROR: interrupted by signal".into());
        }
    });
    Ok(Value::Null)
}

/// `node`'s tasks, oldest first: one key range of the index (`UPID:pve1:` up to
/// `UPID:pve1;`), as a node's UPIDs start with its name and a zero-padded pid.
fn node_tasks<'s>(
    s: &'s super::store::MockState,
    node: &str,
) -> std::collections::btree_map::Range<'s, String, TaskRecord> {
    s.tasks
        .range(format!("UPID:{node}:")..format!("UPID:{node};"))
}

/// Drops `node`'s oldest finished tasks beyond [`TASK_INDEX_PER_NODE`] (checked every 64
/// tasks, so that recording stays cheap).
fn bound_task_index(s: &mut super::store::MockState, node: &str, now: u64) {
    if !s.seq.is_multiple_of(64) {
        return;
    }
    let finished: Vec<String> = node_tasks(s, node)
        .filter(|(_, t)| t.endtime <= now)
        .map(|(k, _)| k.clone())
        .collect();
    let excess = finished.len().saturating_sub(TASK_INDEX_PER_NODE);
    for k in finished.into_iter().take(excess) {
        s.tasks.remove(&k);
    }
}

impl MockPve {
    /// A new task id for `ctx`'s operation, started now by `ctx`'s caller (on the path's
    /// node, else the first node; for the path's guest, if any).
    pub fn new_upid(&self, ctx: &Ctx<'_>, path_params: &[(&str, String)]) -> String {
        let id = super::path_param(path_params, "vmid").unwrap_or_default();
        self.new_upid_with_id(ctx, path_params, id)
    }

    /// A task id like [`MockPve::new_upid`]'s with `id` as the worker's id (a download's
    /// file name, ...).
    pub fn new_upid_with_id(
        &self,
        ctx: &Ctx<'_>,
        path_params: &[(&str, String)],
        id: &str,
    ) -> String {
        let pid = self.store().write(|s| {
            s.seq += 1;
            s.seq
        });
        let node = super::path_param(path_params, "node")
            .map(str::to_string)
            .or_else(|| self.store().read(|s| s.nodes.first().cloned()))
            .unwrap_or_else(|| "pve1".into());
        let id = id.to_string();
        let user = match ctx.caller.authid() {
            a if a.is_empty() => "root@pam".to_string(),
            a => a,
        };
        Upid {
            node,
            pid: 0x1000 + pid,
            pstart: 0x2000 + pid,
            task_id: self.schema().product().is_rust().then_some(pid),
            starttime: self.now(),
            kind: worker_type(ctx.op.method.as_str(), &ctx.op.template)
                .unwrap_or("unknown")
                .to_string(),
            id,
            user,
            comment: String::new(),
        }
        .to_string()
    }

    /// Remembers how a worker task ended (`OK`, or PVE's error and a `TASK ERROR:` line);
    /// while it runs (with a time scale set) its guest stays locked.
    pub fn record_task(&self, upid: &str, outcome: Result<(), String>) {
        let parsed = upid.parse::<Upid>().ok();
        let kind = parsed.as_ref().map(|u| u.kind.clone()).unwrap_or_default();
        let node = parsed.as_ref().map(|u| u.node.clone());
        let vmid = parsed.map(|u| u.id).unwrap_or_default();
        let scale = self.store().time_scale();
        let now = self.now();
        let endtime = now + (nominal_seconds(&kind) * scale).round() as u64;
        let record = match outcome {
            Ok(()) => TaskRecord {
                exitstatus: "OK".into(),
                log: vec!["TASK OK".into()],
                endtime,
            },
            Err(e) => TaskRecord {
                log: vec![format!("TASK ERROR: {e}")],
                exitstatus: e,
                endtime,
            },
        };
        let lock = lock_kind(&kind).filter(|_| endtime > now);
        self.store().write(|s| {
            s.tasks.insert(upid.to_string(), record);
            if let Some(node) = &node {
                bound_task_index(s, node, now);
            }
            let Some(lock) = lock else { return };
            let Some(node) = super::guests::owner(s, &vmid) else {
                return;
            };
            for kind in ["qemu", "lxc"] {
                if let Some(r) = s
                    .members
                    .get_mut(&format!("nodes/{node}/{kind}"))
                    .and_then(|m| m.get_mut(&vmid))
                {
                    // The guest stays locked while the task runs, as PVE's config lock does.
                    r.meta.insert("lock".into(), json!(lock));
                    r.meta.insert("lock_until".into(), json!(endtime));
                }
            }
        });
    }
}
