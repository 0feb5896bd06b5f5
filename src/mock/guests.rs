//! Guests (VMs and containers): their list as a node shows it, their runtime in
//! `status/current`, their life cycle (start, stop, shutdown, ...) and actions (clone,
//! migrate, template) with PVE's refusals ending the task, locks held by running tasks,
//! pending changes and pool membership.

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use super::collections::concrete;
use super::computed::Computed;
use super::messages::err500;
use super::store::{MockState, Record};
use super::tracked::Tracked;
use super::{is_set, pending, tasks, Ctx};
use crate::api::{Answer, ApiError, Cell, Cells, JsonKeys, Method, Rows};

/// The handlers of this file, by operation.
pub const HANDLERS: &[Computed] = &[(
    Method::Get,
    "/nodes/{node}/qemu/{vmid}/pending",
    pending_list,
)];

/// `GET .../qemu/{vmid}/pending`: the config with pending changes, as PVE lists them.
fn pending_list(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let node = ctx.path_param("node").unwrap_or_default();
    let vmid = ctx.path_param("vmid").unwrap_or_default();
    Ok(ctx.store().read(|s| {
        s.members
            .get(&format!("nodes/{node}/qemu"))
            .and_then(|m| m.get(vmid))
            .map_or(Value::Array(Vec::new()), |r| pending::list(r))
    }))
}

/// The `guests` of a node's list (`list`, the collection's path), as `GET
/// /nodes/{node}/qemu|lxc` shows them: one template row (the members the schema requires,
/// generated once) patched per guest. For the server ([`Ctx::wire`]) the list comes as JSON
/// text, each row copied from the text written last time while its record is unchanged.
pub fn list(
    ctx: &Ctx<'_>,
    kind: &str,
    list: &str,
    guests: &[(&String, &Tracked<Record>)],
    schema: &crate::schema::Schema,
) -> Answer {
    let clock = ctx.mock.now();
    let base = super::generate::generate_object(schema, &ctx.gen(), false);
    let base = base.as_object();
    let props = schema.properties.as_ref();
    let fields: Vec<&str> = GUEST_LIST_FIELDS
        .iter()
        .copied()
        // qemu-server's vmstatus sets `disk` (0) although the schema does not list it.
        .filter(|f| *f == "disk" || props.is_some_and(|p| p.contains_key(*f)))
        .collect();
    let keys = fields
        .iter()
        .copied()
        .chain(["vmid"])
        .chain(base.into_iter().flat_map(|b| b.keys().map(String::as_str)));
    let mut rows = Rows::new(keys);
    let mut template = rows.empty_row();
    for (k, v) in base.into_iter().flatten() {
        if let Some(c) = rows.column(k) {
            template[c] = Cell::from(v);
        }
    }
    let columns: Vec<(ListField, usize)> = fields
        .iter()
        .filter_map(|f| Some((ListField::of(f), rows.column(f)?)))
        .collect();
    let vmid = rows.column("vmid").unwrap_or_default();
    // What every row sets anyway is not copied from the template first.
    for (field, c) in &columns {
        if field.always_set() {
            template[*c] = Cell::Absent;
        }
    }
    template[vmid] = Cell::Absent;
    let kind_value = kind_cell(kind);
    // A row, and whether it is the same at any time while its record is (not so for a
    // running guest's uptime or a lock a task holds until some time).
    let row_of = |id: &str, rec: &Record| {
        let mut row = template.clone();
        let facts = GuestFacts::of(rec);
        for (field, c) in &columns {
            let cell = list_field(*field, &facts, &kind_value, clock);
            if !cell.is_absent() {
                row[*c] = cell;
            }
        }
        row[vmid] = id.parse::<u64>().unwrap_or(0).into();
        let timeless = !facts.running() && !rec.meta.contains_key("lock_until");
        (row, timeless)
    };
    if ctx.wire {
        return ctx.mock.rows.write(list, &rows.json_keys(), guests, row_of);
    }
    rows.reserve(guests.len());
    for (id, rec) in guests {
        rows.push(row_of(id, rec).0);
    }
    rows.into()
}

/// Guest list rows as JSON text, by list and guest, each with the revision of the record
/// it was written from: a list after a write to one guest writes one row and copies the
/// others' text. Only rows that do not change with time are kept; ids no longer listed are
/// dropped when the list is next written.
#[derive(Debug, Default)]
pub struct RowCache {
    lists: parking_lot::Mutex<HashMap<String, KeptRows>>,
}

/// A list's rows by guest id: the record's revision and the row's JSON text.
type KeptRows = HashMap<String, (u64, Box<[u8]>)>;

impl RowCache {
    /// The rows of `guests` (in their order) as a JSON list: kept text where the record's
    /// revision matches, else `row_of`'s row written with `keys` (and kept if timeless).
    fn write(
        &self,
        list: &str,
        keys: &JsonKeys,
        guests: &[(&String, &Tracked<Record>)],
        row_of: impl Fn(&str, &Record) -> (Cells, bool),
    ) -> Answer {
        let mut lists = self.lists.lock();
        if !lists.contains_key(list) {
            lists.insert(list.to_string(), HashMap::new());
        }
        let Some(kept) = lists.get_mut(list) else {
            return Answer::Json(b"[]".to_vec());
        };
        let mut out = Vec::with_capacity(guests.len() * 192 + 2);
        out.push(b'[');
        for (i, (id, rec)) in guests.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            match kept.get(id.as_str()) {
                Some((revision, text)) if *revision == rec.revision() => {
                    out.extend_from_slice(text);
                }
                _ => {
                    let start = out.len();
                    let (row, timeless) = row_of(id, rec);
                    keys.write_row(&row, &mut out);
                    if timeless {
                        kept.insert((*id).clone(), (rec.revision(), out[start..].into()));
                    } else {
                        kept.remove(id.as_str());
                    }
                }
            }
        }
        out.push(b']');
        if kept.len() > guests.len() {
            let listed: std::collections::HashSet<&str> =
                guests.iter().map(|(id, _)| id.as_str()).collect();
            kept.retain(|id, _| listed.contains(id.as_str()));
        }
        Answer::Json(out)
    }
}

/// Fields PVE shows for a guest in `/nodes/{node}/qemu|lxc` (a stopped guest: counters 0).
const GUEST_LIST_FIELDS: &[&str] = &[
    "name",
    "status",
    "cpus",
    "maxmem",
    "maxdisk",
    "maxswap",
    "mem",
    "memhost",
    "disk",
    "swap",
    "cpu",
    "uptime",
    "netin",
    "netout",
    "diskread",
    "diskwrite",
    "type",
    "template",
    "tags",
    "lock",
];

/// Leading digits of a size such as `2048` or `current=2048` (MiB).
pub(super) fn leading_mib(v: Option<&Value>) -> Option<u64> {
    let text = match v? {
        Value::Number(n) => return n.as_u64(),
        Value::String(s) => s.strip_prefix("current=").unwrap_or(s),
        _ => return None,
    };
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    text[..digits].parse().ok()
}

/// A member of a guest's row in its node's guest list, decided once per list (not by its
/// name for every guest).
#[derive(Clone, Copy)]
enum ListField {
    Name,
    Status,
    Cpus,
    MaxMem,
    MaxSwap,
    Type,
    Uptime,
    Lock,
    /// Shown as stored.
    Template,
    /// Shown as stored.
    Tags,
    /// A counter of a stopped guest.
    Zero,
}

impl ListField {
    /// Whether every guest's row has this member (from its record or a default).
    fn always_set(self) -> bool {
        !matches!(
            self,
            ListField::Name | ListField::Lock | ListField::Template | ListField::Tags
        )
    }

    fn of(name: &str) -> ListField {
        match name {
            "name" => ListField::Name,
            "status" => ListField::Status,
            "cpus" => ListField::Cpus,
            "maxmem" => ListField::MaxMem,
            "maxswap" => ListField::MaxSwap,
            "type" => ListField::Type,
            "uptime" => ListField::Uptime,
            "lock" => ListField::Lock,
            "template" => ListField::Template,
            "tags" => ListField::Tags,
            _ => ListField::Zero,
        }
    }
}

/// What a guest's row (in its node's guest list and in `/cluster/resources`) reads of its
/// record, its config found in one pass (not one lookup per member).
pub(super) struct GuestFacts<'a> {
    rec: &'a Record,
    name: Option<&'a Value>,
    hostname: Option<&'a Value>,
    cores: Option<&'a Value>,
    sockets: Option<&'a Value>,
    memory: Option<&'a Value>,
    swap: Option<&'a Value>,
    lock: Option<&'a Value>,
    pub(super) template: Option<&'a Value>,
    pub(super) tags: Option<&'a Value>,
    pub(super) status: Option<&'a Value>,
    starttime: Option<&'a Value>,
}

impl<'a> GuestFacts<'a> {
    pub(super) fn of(rec: &'a Record) -> GuestFacts<'a> {
        let mut f = GuestFacts {
            rec,
            name: None,
            hostname: None,
            cores: None,
            sockets: None,
            memory: None,
            swap: None,
            lock: None,
            template: None,
            tags: None,
            status: rec.meta.get("status"),
            starttime: rec.meta.get("starttime"),
        };
        for (k, v) in &rec.config {
            let slot = match k.as_str() {
                "name" => &mut f.name,
                "hostname" => &mut f.hostname,
                "cores" => &mut f.cores,
                "sockets" => &mut f.sockets,
                "memory" => &mut f.memory,
                "swap" => &mut f.swap,
                "lock" => &mut f.lock,
                "template" => &mut f.template,
                "tags" => &mut f.tags,
                _ => continue,
            };
            *slot = Some(v);
        }
        f
    }

    fn num(v: Option<&Value>) -> Option<u64> {
        v.and_then(|v| v.as_u64().or_else(|| v.as_str()?.parse().ok()))
    }

    pub(super) fn running(&self) -> bool {
        self.status.and_then(Value::as_str) == Some("running")
    }

    /// `name`, or a container's `hostname`.
    pub(super) fn name(&self) -> Cell {
        self.name.or(self.hostname).into()
    }

    /// Cores times sockets.
    pub(super) fn cpus(&self) -> u64 {
        Self::num(self.cores).unwrap_or(1) * Self::num(self.sockets).unwrap_or(1)
    }

    /// The memory, in bytes.
    pub(super) fn maxmem(&self) -> u64 {
        leading_mib(self.memory).unwrap_or(512) * MIB
    }

    /// The swap, in bytes.
    fn maxswap(&self) -> u64 {
        Self::num(self.swap).unwrap_or(512) * MIB
    }

    /// Seconds since a running guest started (0 for a stopped one).
    pub(super) fn uptime(&self, clock: u64) -> u64 {
        match self.starttime.and_then(Value::as_u64) {
            Some(t) if self.running() => clock.saturating_sub(t),
            _ => 0,
        }
    }

    /// A lock set in the config, else one a running task holds ([`held_lock`]).
    pub(super) fn lock(&self, clock: u64) -> Cell {
        match self.lock {
            Some(v) => v.into(),
            None => held_lock(self.rec, clock).into(),
        }
    }
}

const MIB: u64 = 1024 * 1024;

/// `qemu` or `lxc`, as the fixed text a row shows.
pub(super) fn kind_cell(kind: &str) -> Cell {
    Cell::Static(if kind == "qemu" { "qemu" } else { "lxc" })
}

/// One member of a guest's row in its node's guest list, from its stored config and state
/// (absent: the row keeps what the template has, if anything).
fn list_field(field: ListField, f: &GuestFacts<'_>, kind: &Cell, clock: u64) -> Cell {
    match field {
        ListField::Name => f.name(),
        ListField::Status => match f.status {
            // The two states a list shows without an allocation each.
            Some(Value::String(s)) if s == "running" => Cell::Static("running"),
            Some(Value::String(s)) if s == "stopped" => Cell::Static("stopped"),
            Some(other) => other.into(),
            None => Cell::Static("stopped"),
        },
        ListField::Cpus => f.cpus().into(),
        ListField::MaxMem => f.maxmem().into(),
        ListField::MaxSwap => f.maxswap().into(),
        ListField::Type => kind.clone(),
        ListField::Uptime => f.uptime(clock).into(),
        ListField::Lock => f.lock(clock),
        ListField::Template => f.template.into(),
        ListField::Tags => f.tags.into(),
        ListField::Zero => 0u8.into(),
    }
}

/// What a guest's `status/current` shows of its runtime: counters and pid only while it runs.
pub fn runtime(
    obj: &mut Map<String, Value>,
    rec: &Record,
    schema: &crate::schema::Schema,
    clock: u64,
    ha_managed: bool,
) {
    let running = rec.meta.get("status").and_then(Value::as_str) == Some("running");
    obj.insert(
        "status".into(),
        json!(if running { "running" } else { "stopped" }),
    );
    if schema
        .properties
        .as_ref()
        .is_some_and(|p| p.contains_key("qmpstatus"))
    {
        let qmp = rec
            .meta
            .get("qmpstatus")
            .cloned()
            .unwrap_or(json!("stopped"));
        obj.insert("qmpstatus".into(), qmp);
    }
    if running {
        let started = rec
            .meta
            .get("starttime")
            .and_then(Value::as_u64)
            .unwrap_or(clock);
        obj.insert("uptime".into(), json!(clock.saturating_sub(started)));
    } else {
        obj.remove("pid");
        for k in [
            "uptime",
            "cpu",
            "mem",
            "netin",
            "netout",
            "diskread",
            "diskwrite",
        ] {
            if obj.contains_key(k) {
                obj.insert(k.into(), json!(0));
            }
        }
        // Pressure comes from a running guest's cgroup, the balloon from its QMP.
        obj.retain(|k, _| !k.starts_with("pressure") && k != "balloon");
    }
    // A running VM's QEMU and machine version (QMP `query-version`, `query-machines`).
    let has = |k: &str| {
        schema
            .properties
            .as_ref()
            .is_some_and(|p| p.contains_key(k))
    };
    if has("running-qemu") && running {
        obj.insert("running-qemu".into(), json!(super::devices::QEMU_VERSION));
        let machine = rec
            .config
            .get("machine")
            .and_then(Value::as_str)
            .unwrap_or("");
        obj.insert(
            "running-machine".into(),
            json!(super::devices::running_machine(machine)),
        );
    } else {
        obj.remove("running-qemu");
        obj.remove("running-machine");
    }
    // qemu-server's vmstatus: `disk` always (0), `template` and `spice` only when so,
    // `clipboard` as configured, HA as the HA stack reports it.
    obj.insert("disk".into(), json!(0));
    if !rec.config.get("template").is_some_and(is_set) {
        obj.remove("template");
    }
    let vga = rec.config.get("vga").and_then(Value::as_str).unwrap_or("");
    // vga_conf_has_spice: the display type (the property string's default key) is qxl*.
    let vga_type = vga
        .split(',')
        .find_map(|p| match p.split_once('=') {
            Some(("type", t)) => Some(t),
            Some(_) => None,
            None => Some(p),
        })
        .unwrap_or("");
    if vga_type.starts_with("qxl") {
        obj.insert("spice".into(), json!(1));
    } else {
        obj.remove("spice");
    }
    // PVE sends `clipboard: null` when none is configured, which its own schema does not
    // allow (a string enum); left out then, so the answer validates.
    match vga.split(',').find_map(|p| p.strip_prefix("clipboard=")) {
        Some(c) if obj.contains_key("clipboard") => {
            obj.insert("clipboard".into(), json!(c));
        }
        _ => {
            obj.remove("clipboard");
        }
    }
    if obj.contains_key("ha") && !ha_managed {
        obj.insert("ha".into(), json!({"managed": 0}));
    }
}

/// clone, migrate and template of a guest; refusals end the task with PVE's error.
pub fn action(ctx: &Ctx<'_>, action: &str) -> Result<Value, ApiError> {
    let (op, path_params, params) = (ctx.op, ctx.path_params, ctx.params);
    let mock = ctx.mock;
    let kind = if op.template.contains("/lxc/") {
        "lxc"
    } else {
        "qemu"
    };
    let guest = if kind == "lxc" { "CT" } else { "VM" };
    let get = |k: &str| {
        super::path_param(path_params, k)
            .map(str::to_string)
            .unwrap_or_default()
    };
    let text = |k: &str| match params.get(k) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Null) | None => None,
        Some(v) => Some(v.to_string()),
    };
    let (node, vmid) = (get("node"), get("vmid"));
    let list = format!("nodes/{node}/{kind}");
    let exists = mock
        .store()
        .read(|s| s.members.get(&list).is_some_and(|m| m.contains_key(&vmid)));
    if !exists && mock.lenient() {
        return Ok(mock.answer(ctx));
    }
    let (newid, target) = (text("newid").unwrap_or_default(), text("target"));
    let (storage, format, snapname) = (text("storage"), text("format"), text("snapname"));
    let (name, description) = (
        text(if kind == "lxc" { "hostname" } else { "name" }),
        text("description"),
    );
    let full = params.get("full").map(is_set);
    let clone_request = super::clone::CloneRequest {
        kind,
        node: &node,
        vmid: &vmid,
        newid: &newid,
        target: target
            .as_deref()
            .filter(|t| *t != "localhost")
            .unwrap_or(&node),
        full,
        storage: storage.as_deref(),
        format: format.as_deref(),
        snapname: snapname.as_deref(),
        name: name.as_deref(),
        description: description.as_deref(),
        lenient: mock.lenient(),
    };
    if !mock.lenient() {
        early_refusal(ctx, action, kind, guest, &list, &vmid)?;
        if action == "clone" {
            ctx.store()
                .read(|s| super::clone::refusal(s, &clone_request))
                .map_err(|(status, message)| {
                    if status == 400 {
                        ApiError::params([("storage", message)])
                    } else {
                        err500(message)
                    }
                })?;
        }
    }
    let clock = mock.store().now();
    let outcome = mock.store().write(|s| -> Result<(), String> {
        let rec = s
            .members
            .get(&list)
            .and_then(|m| m.get(&vmid))
            .cloned()
            .ok_or_else(|| format!("{guest} {vmid} does not exist"))?;
        if let Some(lock) = held_lock(&rec, clock) {
            return Err(format!("{guest} is locked ({lock})"));
        }
        let running = rec.meta.get("status").and_then(Value::as_str) == Some("running");
        match action {
            "template" => {
                if running {
                    return Err(format!("you can't convert a running {guest} to a template"));
                }
                let disk = text("disk");
                super::clone::make_template(s, &node, kind, &vmid, disk.as_deref());
                Ok(())
            }
            "clone" => super::clone::clone_guest(s, &clone_request, clock),
            "migrate" => {
                let target = text("target").unwrap_or_default();
                if target == node {
                    return Err("target is local node.".into());
                }
                if !s.nodes.contains(&target) {
                    return Err(format!("no such cluster node '{target}'"));
                }
                let live = ["online", "restart"]
                    .iter()
                    .any(|k| params.get(*k).and_then(Value::as_u64) == Some(1));
                if running && !live {
                    return Err(format!("can't migrate running {guest} without --online"));
                }
                if let Some(r) = s.members.get_mut(&list).and_then(|m| m.remove(&vmid)) {
                    s.drop_overrides_below(&format!("{list}/{vmid}"));
                    s.members
                        .entry(format!("nodes/{target}/{kind}"))
                        .or_default()
                        .insert(vmid.clone(), r);
                }
                Ok(())
            }
            _ => Ok(()),
        }
    });
    if tasks::worker_type(op.method.as_str(), &op.template).is_none() {
        // Not a worker in PVE (a container's `template`): done, or refused, right away
        // (lenient mode refuses nothing).
        if mock.lenient() {
            return Ok(Value::Null);
        }
        return outcome.map(|()| Value::Null).map_err(err500);
    }
    let upid = mock.new_upid(ctx, path_params);
    mock.record_task(&upid, outcome);
    Ok(Value::String(upid))
}

/// What qemu-server and pve-container refuse before forking the template worker (a 500
/// at once): a template of a template (unless converting one `disk`), of a guest with
/// snapshots or of a running guest. A clone's are `clone::refusal`.
fn early_refusal(
    ctx: &Ctx<'_>,
    action: &str,
    kind: &str,
    guest: &str,
    list: &str,
    vmid: &str,
) -> Result<(), ApiError> {
    ctx.store().read(|s| {
        let Some(rec) = s.members.get(list).and_then(|m| m.get(vmid)) else {
            return Ok(());
        };
        match action {
            "template" => {
                let snapshots = s
                    .members
                    .get(&format!("{list}/{vmid}/snapshot"))
                    .is_some_and(|m| !m.is_empty());
                if snapshots {
                    return Err(err500(format!(
                        "unable to create template, because {guest} contains snapshots"
                    )));
                }
                if rec.config.get("template").is_some_and(is_set)
                    && !ctx.params.contains_key("disk")
                {
                    return Err(err500("you can't convert a template to a template"));
                }
                if rec.meta.get("status").and_then(Value::as_str) == Some("running") {
                    return Err(err500(if kind == "lxc" {
                        "you can't convert a CT to template if the CT is running".to_string()
                    } else {
                        "you can't convert a VM to template if VM is running".to_string()
                    }));
                }
                Ok(())
            }
            _ => Ok(()),
        }
    })
}

/// start/stop/shutdown/reboot/suspend/resume/reset of a guest: the state changes as in
/// PVE, and an impossible transition ends the task with PVE's error.
pub fn lifecycle(ctx: &Ctx<'_>, action: &str) -> Value {
    let (op, path_params) = (ctx.op, ctx.path_params);
    let mock = ctx.mock;
    let guest = if op.template.contains("/lxc/") {
        "CT"
    } else {
        "VM"
    };
    let Some(c) = mock.collections().ancestors(&op.template).last() else {
        return mock.answer(ctx);
    };
    let list = concrete(&c.template, path_params);
    let id = super::path_param(path_params, &c.id_param)
        .map(str::to_string)
        .unwrap_or_default();
    let clock = mock.store().now();
    let outcome = mock.store().write(|s| {
        let Some(rec) = s.members.get_mut(&list).and_then(|m| m.get_mut(&id)) else {
            return Err(format!("{guest} {id} does not exist"));
        };
        if let Some(lock) = held_lock(rec, clock) {
            return Err(format!("{guest} is locked ({lock})"));
        }
        let running = rec.meta.get("status").and_then(Value::as_str) == Some("running");
        let set = |rec: &mut Record, status: &str| {
            rec.meta.insert("status".into(), json!(status));
            rec.meta.insert("qmpstatus".into(), json!(status));
        };
        let template = rec.config.get("template").is_some_and(is_set);
        match action {
            "start" if running => Err(format!("{guest} {id} already running")),
            // qemu-server's vm_start and pve-container's start, in the task.
            "start" if template && guest == "CT" => {
                Err("you can't start a CT if it's a template".into())
            }
            "start" if template => Err("you can't start a vm if it's a template".into()),
            "start" => {
                pending::apply(rec);
                set(rec, "running");
                rec.meta.insert("starttime".into(), json!(clock));
                Ok(())
            }
            "stop" => {
                set(rec, "stopped");
                rec.meta.remove("starttime");
                Ok(())
            }
            "shutdown" | "reboot" | "suspend" | "resume" | "reset" if !running => {
                Err(format!("{guest} {id} not running"))
            }
            "shutdown" => {
                set(rec, "stopped");
                rec.meta.remove("starttime");
                Ok(())
            }
            "reboot" => {
                pending::apply(rec);
                Ok(())
            }
            "suspend" => {
                rec.meta.insert("qmpstatus".into(), json!("paused"));
                Ok(())
            }
            "resume" => {
                rec.meta.insert("qmpstatus".into(), json!("running"));
                Ok(())
            }
            _ => Ok(()),
        }
    });
    let upid = mock.new_upid(ctx, path_params);
    mock.record_task(&upid, outcome);
    Value::String(upid)
}

/// The node that holds guest `vmid`, if any (VMIDs are unique cluster-wide).
pub fn owner(s: &MockState, vmid: &str) -> Option<String> {
    s.members.iter().find_map(|(list, members)| {
        let parts: Vec<&str> = list.split('/').collect();
        match parts[..] {
            ["nodes", node, "qemu" | "lxc"]
                if members.contains_key(vmid) && !s.is_deleted(&format!("{list}/{vmid}")) =>
            {
                Some(node.to_string())
            }
            _ => None,
        }
    })
}

/// Adds a guest to a pool's `members` (what `GET /pools/{poolid}` lists).
pub fn add_pool_member(s: &mut MockState, pool: &str, list: &str, vmid: &str) {
    let mut parts = list.split('/');
    let (Some("nodes"), Some(node), Some(kind)) = (parts.next(), parts.next(), parts.next()) else {
        return;
    };
    let entry = json!({
        "id": format!("{kind}/{vmid}"),
        "type": kind,
        "vmid": vmid.parse::<u64>().unwrap_or(0),
        "node": node,
    });
    if let Some(rec) = s.members.get_mut("pools").and_then(|p| p.get_mut(pool)) {
        match rec.meta.get_mut("members") {
            Some(Value::Array(members)) => members.push(entry),
            _ => {
                rec.meta.insert("members".into(), json!([entry]));
            }
        }
    }
}

/// The lock a running task holds on a guest, if its task has not ended yet.
pub fn held_lock(rec: &Record, now: u64) -> Option<String> {
    let until = rec.meta.get("lock_until")?.as_u64()?;
    (until > now).then(|| {
        rec.meta
            .get("lock")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    })
}
