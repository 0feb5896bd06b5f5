//! Proxmox Datacenter Manager: its remotes (a generic collection at `/remotes/remote`) and
//! what each remote holds — a PVE cluster's nodes, guests and tasks, a PBS server's
//! datastores, snapshots and tasks — as PDM shows them under `/pve/remotes/{remote}/...`,
//! `/pbs/remotes/{remote}/...` and across remotes under `/resources/...`, plus the default
//! datacenter the mock starts from (the original package's PDM seed: 3 remotes, 16 VMs,
//! 5 containers, 2 datastores, 51 snapshots, 3 users, 5 ACL entries, 2 views).
//!
//! Store layout (keys under `members`): `remotes/remote` (id -> remote config; its meta
//! holds `version` and `subscription`), `pve/remotes/<r>/nodes` (node -> node entry),
//! `pve/remotes/<r>/qemu` and `.../lxc` (vmid -> list entry; meta `config` the guest's
//! configuration), `pve/remotes/<r>/tasks` and `pbs/remotes/<r>/tasks` (upid -> task),
//! `pbs/remotes/<r>/datastore` (store -> datastore), `pbs/remotes/<r>/snapshots`
//! (`store|ns|type/id/time` -> snapshot), `config/views` (generic collection).

mod guests;
mod seed;
mod shape;

use serde_json::{json, Value};

use super::computed::Computed;
use super::store::{MockState, Record};
use super::Ctx;
use crate::api::{ApiError, Method};
use guests::{
    guest_config, guest_status, guests, metric_status, metric_trigger, migrate, pbs_datastores,
    pbs_snapshots, pbs_task_status, power, pve_nodes, pve_remotes, pve_resources, remote_migrate,
    resources_list, subscriptions, tasks,
};
pub use seed::{default_state, seed_counts};
pub use shape::{export_seed, import_seed};

/// The handlers of this file, by operation.
pub const HANDLERS: &[Computed] = &[
    (Method::Get, "/version", version),
    (Method::Get, "/ping", |_| Ok(Value::from("pong"))),
    (Method::Get, "/remotes/remote", list_remotes),
    (Method::Post, "/remotes/remote", create_remote),
    (Method::Put, "/remotes/remote/{id}", update_remote),
    (Method::Get, "/remotes/remote/{id}", read_remote),
    (Method::Get, "/remotes/remote/{id}/version", remote_version),
    (Method::Get, "/pve/remotes", pve_remotes),
    (Method::Get, "/pve/remotes/{remote}/nodes", pve_nodes),
    (Method::Get, "/pve/remotes/{remote}/qemu", |c| {
        guests(c, "qemu")
    }),
    (Method::Get, "/pve/remotes/{remote}/lxc", |c| {
        guests(c, "lxc")
    }),
    (
        Method::Get,
        "/pve/remotes/{remote}/qemu/{vmid}/config",
        |c| guest_config(c, "qemu"),
    ),
    (
        Method::Get,
        "/pve/remotes/{remote}/lxc/{vmid}/config",
        |c| guest_config(c, "lxc"),
    ),
    (
        Method::Get,
        "/pve/remotes/{remote}/qemu/{vmid}/status",
        |c| guest_status(c, "qemu"),
    ),
    (
        Method::Get,
        "/pve/remotes/{remote}/lxc/{vmid}/status",
        |c| guest_status(c, "lxc"),
    ),
    (
        Method::Post,
        "/pve/remotes/{remote}/qemu/{vmid}/start",
        |c| power(c, "qemu", "qmstart", "running"),
    ),
    (
        Method::Post,
        "/pve/remotes/{remote}/lxc/{vmid}/start",
        |c| power(c, "lxc", "vzstart", "running"),
    ),
    (
        Method::Post,
        "/pve/remotes/{remote}/qemu/{vmid}/stop",
        |c| power(c, "qemu", "qmstop", "stopped"),
    ),
    (Method::Post, "/pve/remotes/{remote}/lxc/{vmid}/stop", |c| {
        power(c, "lxc", "vzstop", "stopped")
    }),
    (
        Method::Post,
        "/pve/remotes/{remote}/qemu/{vmid}/shutdown",
        |c| power(c, "qemu", "qmshutdown", "stopped"),
    ),
    (
        Method::Post,
        "/pve/remotes/{remote}/lxc/{vmid}/shutdown",
        |c| power(c, "lxc", "vzshutdown", "stopped"),
    ),
    (
        Method::Post,
        "/pve/remotes/{remote}/qemu/{vmid}/resume",
        |c| power(c, "qemu", "qmresume", "running"),
    ),
    (
        Method::Post,
        "/pve/remotes/{remote}/qemu/{vmid}/migrate",
        |c| migrate(c, "qemu", "qmigrate"),
    ),
    (
        Method::Post,
        "/pve/remotes/{remote}/lxc/{vmid}/migrate",
        |c| migrate(c, "lxc", "vzmigrate"),
    ),
    (
        Method::Post,
        "/pve/remotes/{remote}/qemu/{vmid}/remote-migrate",
        |c| remote_migrate(c, "qemu"),
    ),
    (
        Method::Post,
        "/pve/remotes/{remote}/lxc/{vmid}/remote-migrate",
        |c| remote_migrate(c, "lxc"),
    ),
    (
        Method::Get,
        "/pve/remotes/{remote}/resources",
        pve_resources,
    ),
    (Method::Get, "/pve/remotes/{remote}/tasks", |c| {
        tasks(c, "pve")
    }),
    (Method::Get, "/pbs/remotes/{remote}/tasks", |c| {
        tasks(c, "pbs")
    }),
    (
        Method::Get,
        "/pbs/remotes/{remote}/tasks/{upid}/status",
        pbs_task_status,
    ),
    (
        Method::Get,
        "/pbs/remotes/{remote}/datastore",
        pbs_datastores,
    ),
    (
        Method::Get,
        "/pbs/remotes/{remote}/datastore/{datastore}/snapshots",
        pbs_snapshots,
    ),
    (Method::Get, "/resources/list", resources_list),
    (Method::Get, "/resources/subscription", subscriptions),
    (
        Method::Get,
        "/remotes/metric-collection/status",
        metric_status,
    ),
    (
        Method::Post,
        "/remotes/metric-collection/trigger",
        metric_trigger,
    ),
];

/// The version the mock reports.
pub const VERSION: (&str, &str, &str) = ("1.0.4", "1", "abcdef01");

pub(super) fn remote_rec<'s>(s: &'s MockState, id: &str) -> Option<&'s Record> {
    s.members
        .get("remotes/remote")?
        .get(id)
        .map(|r| &**r)
        .filter(|_| !s.is_deleted(&format!("remotes/remote/{id}")))
}

/// Whether `remote` exists as a remote of `kind` (`pve`, `pbs`); PDM's refusal otherwise.
pub fn check_remote(s: &MockState, remote: &str, kind: Option<&str>) -> Result<(), ApiError> {
    let Some(rec) = remote_rec(s, remote) else {
        return Err(ApiError::new(400, format!("no such remote '{remote}'")));
    };
    match kind {
        Some(k)
            if rec
                .config
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or("pve")
                != k =>
        {
            Err(ApiError::new(
                400,
                format!("remote '{remote}' is not a {k} remote"),
            ))
        }
        _ => Ok(()),
    }
}

pub(super) fn remote_param(ctx: &Ctx<'_>) -> String {
    ctx.path_param("remote").unwrap_or_default().to_string()
}

pub(super) fn members_of<'s>(
    s: &'s MockState,
    list: &str,
) -> impl Iterator<Item = (&'s String, &'s Record)> {
    s.members
        .get(list)
        .into_iter()
        .flatten()
        .map(|(k, v)| (k, &**v))
}

fn version(_ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let (version, release, repoid) = VERSION;
    Ok(json!({"version": version, "release": release, "repoid": repoid}))
}

/// A remote as PDM shows it: its configuration, the token never.
pub(super) fn remote_view(id: &str, rec: &Record) -> Value {
    let mut v = Value::Object(rec.config.clone());
    v["id"] = json!(id);
    v["token"] = json!("");
    v
}

fn list_remotes(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    Ok(ctx.store().read(|s| {
        Value::Array(
            members_of(s, "remotes/remote")
                .filter(|(id, _)| remote_rec(s, id).is_some())
                .map(|(id, r)| remote_view(id, r))
                .collect(),
        )
    }))
}

/// The token a remote is reached with is not kept: the mock never connects, and the
/// store (which can be saved to a file) must hold no secret.
fn forget_token(ctx: &Ctx<'_>, id: &str) {
    ctx.store().write(|s| {
        if let Some(r) = s
            .members
            .get_mut("remotes/remote")
            .and_then(|m| m.get_mut(id))
        {
            if r.config.remove("token").is_some() {
                r.meta.insert("has-token".into(), json!(true));
            }
        }
    });
}

fn create_remote(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let v = super::writes::create(ctx)?;
    forget_token(ctx, &ctx.text("id").unwrap_or_default());
    Ok(v)
}

fn update_remote(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let v = super::writes::update(ctx)?;
    forget_token(ctx, ctx.path_param("id").unwrap_or_default());
    Ok(v)
}

fn read_remote(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let id = ctx.path_param("id").unwrap_or_default().to_string();
    ctx.store().read(|s| {
        check_remote(s, &id, None)?;
        Ok(remote_rec(s, &id).map_or(Value::Null, |r| remote_view(&id, r)))
    })
}

fn remote_version(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let id = ctx.path_param("id").unwrap_or_default().to_string();
    ctx.store().read(|s| {
        check_remote(s, &id, None)?;
        Ok(remote_rec(s, &id)
            .and_then(|r| r.meta.get("version").cloned())
            .unwrap_or_else(|| json!({"version": "unknown", "release": "", "repoid": ""})))
    })
}
