//! The generic writes of collections: create a member (ids unique as PVE keeps them, guest
//! disks allocated as volumes), update it (`delete=`, `digest`, pending changes of a
//! running VM), destroy it (refusals for running, locked, protected and HA-managed
//! guests), and the lenient store-anything mode for legacy seeding code.

use serde_json::{json, Map, Value};

use super::collections::concrete;
use super::messages::{self, err500};
use super::reads::config_digest;
use super::store::Record;
use super::{containers, devices, guests, pending, storage_types, volumes, Ctx, MockPve};
use crate::api::{ApiError, Method};
use crate::schema::SchemaType;

/// Parameters that steer an operation but are not stored in a member's configuration.
const ACTION_PARAMS: &[&str] = &[
    "start",
    "archive",
    "pool",
    "unique",
    "force",
    "live-restore",
    "bwlimit",
    "delete",
    "digest",
    "revert",
    "skiplock",
    "background_delay",
    "purge",
    "destroy-unreferenced-disks",
    "import-working-storage",
    "ignore-unpack-errors",
    "restore",
    "ssh-public-keys",
    "password",
];

/// Every collection member the path lies under must exist, as in PVE.
pub fn check_members_exist(ctx: &Ctx<'_>) -> Result<(), ApiError> {
    let template = ctx.op.template.as_str();
    let path_params = ctx.path_params;
    let mut ancestors = ctx.mock.collections().ancestors(template).peekable();
    if ancestors.peek().is_none() {
        return Ok(());
    }
    ctx.store().read(|s| {
        for c in ancestors {
            let Some(id) = path_params
                .iter()
                .find(|(n, _)| *n == c.id_param)
                .map(|(_, v)| v)
            else {
                continue;
            };
            // A snapshot a worker (rollback, delete) is asked for is looked up in the task,
            // which fails with PVE::AbstractConfig's `snapshot 'x' does not exist`.
            // Made by a POST to its own path: the member is what the call creates.
            if c.created_at_member && c.member_template == template && ctx.op.method == Method::Post
            {
                continue;
            }
            let worker = super::tasks::worker_type(ctx.op.method.as_str(), template).is_some();
            if c.id_param == "snapname" && worker {
                continue;
            }
            let list = concrete(&c.template, path_params);
            let exists = (s.members.get(&list).is_some_and(|m| m.contains_key(id))
                && !s.is_deleted(&format!("{list}/{id}")))
                || super::access::is_builtin_member(s, &list, id);
            if !exists {
                let own = c.member_template == template;
                return Err(messages::missing_member(
                    c,
                    path_params,
                    id,
                    ctx.op.method,
                    own,
                ));
            }
        }
        Ok(())
    })
}

/// Lenient mode: a write to a path PVE lacks is stored as that path's answer (a read
/// answers it), as the original mock did for seeding code.
pub fn lenient_write(
    mock: &MockPve,
    method: Method,
    path: &str,
    params: &Map<String, Value>,
) -> Value {
    if method != Method::Get {
        mock.set_object(path, Value::Object(params.clone()));
        return Value::Null;
    }
    mock.get_object(path).unwrap_or(Value::Null)
}

/// A new member of the collection at `ctx`'s path.
/// A guest config value as PVE keeps it: the cloud-init password as a `$5$` crypt hash
/// (PVE's `encrypt_pw`; a value that already is one is kept), everything else as given.
fn stored(guest: bool, key: &str, v: &Value) -> Value {
    match (guest, key, v) {
        (true, "cipassword", Value::String(pw))
            if !pw.starts_with("$5$") && !pw.starts_with("$6$") =>
        {
            Value::String(super::access::hash_password_sha256(pw))
        }
        _ => v.clone(),
    }
}

pub fn create(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let (op, path_params, params) = (ctx.op, ctx.path_params, ctx.params);
    let mock = ctx.mock;
    let Some(c) = mock.collections().created_by(&op.template) else {
        return Ok(mock.answer(ctx));
    };
    let list = concrete(&c.template, path_params);
    let id_given = params
        .get(&c.id_param)
        .cloned()
        .or_else(|| super::path_param(path_params, &c.id_param).map(Value::from));
    let id = match id_given.as_ref() {
        Some(Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
        None => {
            let numeric = op
                .param(&c.id_param)
                .is_some_and(|p| p.schema_type() == SchemaType::Integer);
            mock.store().write(|s| {
                if c.allocates_ids {
                    // The next id after the highest one (PMG's rule database starts at 1).
                    let max = s
                        .members
                        .get(&list)
                        .into_iter()
                        .flatten()
                        .filter_map(|(k, _)| k.parse::<u64>().ok())
                        .max()
                        .unwrap_or(0);
                    (max + 1).to_string()
                } else if numeric {
                    // Integer ids (firewall rule `pos`, ...) are positions: the next one.
                    s.members.get(&list).map_or(0, |m| m.len()).to_string()
                } else {
                    s.seq += 1;
                    format!("{}-{:08x}", c.id_param, s.seq)
                }
            })
        }
    };
    let is_guest = list.ends_with("/qemu") || list.ends_with("/lxc");
    let mut config = Map::new();
    for (k, v) in params {
        if k == &c.id_param
            || path_params.iter().any(|(p, _)| p == k)
            || ACTION_PARAMS.contains(&k.as_str())
        {
            continue;
        }
        config.insert(k.clone(), stored(is_guest, k, v));
    }
    let mut meta = Map::new();
    if is_guest {
        meta.insert("status".into(), json!("stopped"));
    }
    let lenient = mock.lenient();
    if list == "storage" && !lenient {
        // check_config runs before the storage.cfg lock: no `create storage failed` prefix.
        storage_types::check_create(&id, &mut config)?;
    }
    let now = mock.store().now();
    let failed = mock.store().write(|s| {
        if lenient {
            // Legacy seeding re-creates what exists: an update, not an error.
        } else if is_guest {
            // VMIDs are unique cluster-wide.
            for (other_list, members) in &s.members {
                if (other_list.ends_with("/qemu") || other_list.ends_with("/lxc"))
                    && members.contains_key(&id)
                    && !s.is_deleted(&format!("{other_list}/{id}"))
                {
                    let node = other_list.split('/').nth(1).unwrap_or("");
                    let (what, noun) = if list.ends_with("/qemu") {
                        ("VM", "VM")
                    } else {
                        ("CT", "CT")
                    };
                    return Err(err500(format!(
                        "unable to create {what} {id} - {noun} {id} already exists on node '{node}'"
                    )));
                }
            }
        } else if s.members.get(&list).is_some_and(|m| m.contains_key(&id))
            && !s.is_deleted(&format!("{list}/{id}"))
        {
            return Err(err500(messages::already_exists(c, &id)));
        }
        let pool = if is_guest {
            params.get("pool").and_then(Value::as_str)
        } else {
            None
        };
        if let Some(pool) = pool.filter(|_| !lenient) {
            if !s.members.get("pools").is_some_and(|p| p.contains_key(pool)) {
                return Err(err500(format!("pool '{pool}' does not exist")));
            }
        }
        if is_guest && !lenient {
            let node = super::path_param(path_params, "node").unwrap_or_default();
            let kind = if list.ends_with("/lxc") {
                "lxc"
            } else {
                "qemu"
            };
            if kind == "lxc" {
                if let Some(failure) = containers::prepare_create(s, &id, &mut config)? {
                    return Ok(Some(failure));
                }
            }
            volumes::allocate_disks(s, node, kind, &id, &mut config, now)?;
            devices::normalize_nets(kind, &mut config);
            if kind == "qemu" {
                devices::qemu_create_defaults(&mut config, now);
            }
        }
        s.undelete(&format!("{list}/{id}"));
        s.drop_overrides_below(&format!("{list}/{id}"));
        s.members
            .entry(list.clone())
            .or_default()
            .insert(id.clone(), (Record { config, meta }).into());
        if let Some(pool) = pool {
            guests::add_pool_member(s, pool, &list, &id);
        }
        Ok(None)
    })?;
    if let Some(failure) = failed {
        // The worker fails and the guest is not created (pve-container's create).
        let upid = mock.new_upid(ctx, path_params);
        mock.record_task(&upid, Err(failure));
        return Ok(Value::String(upid));
    }
    if c.allocates_ids {
        return Ok(id.parse::<u64>().map_or(Value::String(id), Value::from));
    }
    let mut p: Vec<(&str, String)> = path_params.to_vec();
    p.push((c.id_param.as_str(), id));
    Ok(mock.answer(&Ctx {
        path_params: &p,
        ..*ctx
    }))
}

/// A change of the member (or its config) at `ctx`'s path.
pub fn update(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let (op, path_params, params) = (ctx.op, ctx.path_params, ctx.params);
    let mock = ctx.mock;
    let Some(c) = mock.collections().ancestors(&op.template).last() else {
        return Ok(mock.answer(ctx));
    };
    let lenient = mock.lenient();
    let list = concrete(&c.template, path_params);
    let id = super::path_param(path_params, &c.id_param)
        .map(str::to_string)
        .unwrap_or_default();
    let deletes: Vec<String> = params
        .get("delete")
        .and_then(Value::as_str)
        .map(|d| {
            crate::schema::formats::split_list(d)
                .into_iter()
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let clock = mock.store().now();
    let guest = list.ends_with("/qemu") || list.ends_with("/lxc");
    mock.store().write(|s| {
        // The digest a stale `digest` is checked against, computed only when one is sent:
        // storage entries carry the digest of the whole storage.cfg.
        let want = params
            .get("digest")
            .and_then(Value::as_str)
            .filter(|w| !lenient && !w.is_empty());
        let storage_digest = want
            .filter(|_| c.template == "/storage")
            .map(|_| super::storage::storage_cfg_digest(s));
        let rec = s
            .members
            .entry(list.clone())
            .or_default()
            .entry(id.clone())
            .or_default();
        if let Some(lock) = guests::held_lock(rec, clock) {
            let guest = if list.ends_with("/lxc") { "CT" } else { "VM" };
            return Err(err500(format!("{guest} is locked ({lock})")));
        }
        if let Some(want) = want {
            let current = storage_digest.unwrap_or_else(|| config_digest(&rec.config));
            if want != current {
                // qemu-server compares the config's digest itself; pve-container and the
                // cluster files use PVE::Tools::assert_if_modified.
                let refusal = if list.ends_with("/qemu") {
                    messages::GUEST_DIGEST_MISMATCH
                } else {
                    messages::CONFIG_DIGEST_MISMATCH
                };
                return Err(messages::write_refusal(&c.template, op.method, refusal));
            }
        }
        if c.template == "/storage" && !lenient {
            let mut changes: Map<String, Value> = params
                .iter()
                .filter(|(k, _)| {
                    !path_params.iter().any(|(p, _)| p == *k)
                        && !ACTION_PARAMS.contains(&k.as_str())
                })
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            storage_types::check_update(&rec.config, &mut changes, &deletes)
                .map_err(|m| messages::write_refusal(&c.template, op.method, m))?;
        }
        // A running VM keeps what it cannot change live as pending changes.
        let running_vm = !lenient
            && list.ends_with("/qemu")
            && rec.meta.get("status").is_some_and(|st| st == "running");
        for (k, v) in params {
            if path_params.iter().any(|(p, _)| p == k) || ACTION_PARAMS.contains(&k.as_str()) {
                continue;
            }
            if c.template == "/storage" && storage_types::is_secret(k) {
                continue; // PVE keeps it in /etc/pve/priv/, not in storage.cfg
            }
            let mut v = stored(guest, k, v);
            if guest && !lenient && devices::is_net_key(k) {
                if let Some(text) = v.as_str() {
                    let kind = if list.ends_with("/lxc") {
                        "lxc"
                    } else {
                        "qemu"
                    };
                    v = json!(devices::net_value(kind, text, false));
                }
            }
            if running_vm {
                pending::set(rec, k, v);
            } else {
                rec.config.insert(k.clone(), v);
            }
        }
        for d in &deletes {
            if running_vm {
                pending::delete(rec, d);
            } else {
                rec.config.remove(d);
            }
        }
        s.drop_override(&format!("{list}/{id}/config"));
        s.drop_override(&format!("{list}/{id}"));
        Ok(())
    })?;
    Ok(mock.answer(ctx))
}

/// The member at `ctx`'s path removed (with its volumes, pool membership and, with
/// `purge`, its jobs and HA entries, for a guest).
pub fn destroy(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let (op, path_params, params) = (ctx.op, ctx.path_params, ctx.params);
    let mock = ctx.mock;
    let Some(c) = mock.collections().member_at(&op.template) else {
        return Ok(mock.answer(ctx));
    };
    let list = concrete(&c.template, path_params);
    let id = super::path_param(path_params, &c.id_param)
        .map(str::to_string)
        .unwrap_or_default();
    let is_guest = list.ends_with("/qemu") || list.ends_with("/lxc");
    let clock = mock.store().now();
    let locked = mock.store().read(|s| {
        s.members
            .get(&list)
            .and_then(|m| m.get(&id))
            .and_then(|r| guests::held_lock(r, clock))
    });
    if let (true, Some(lock)) = (is_guest, locked) {
        let guest = if list.ends_with("/lxc") { "CT" } else { "VM" };
        return Err(err500(format!("{guest} is locked ({lock})")));
    }
    let purge = params.get("purge").is_some_and(super::is_set);
    if is_guest && !mock.lenient() {
        let (running, ha, protected) = mock.store().read(|s| {
            let rec = s.members.get(&list).and_then(|m| m.get(&id));
            let running = rec
                .and_then(|r| r.meta.get("status"))
                .is_some_and(|st| st == "running");
            let protected = rec
                .and_then(|r| r.config.get("protection"))
                .is_some_and(super::is_set);
            (running, volumes::ha_managed(s, &id), protected)
        });
        let guest = if list.ends_with("/lxc") { "CT" } else { "VM" };
        // PVE checks protection first (qemu-server/pve-container `destroy_vm`:
        // `check_protection($conf, "can't remove VM $vmid")`).
        if protected {
            return Err(err500(format!(
                "can't remove {guest} {id} - protection mode enabled"
            )));
        }
        if running {
            return Err(err500(format!("{guest} {id} is running - destroy failed")));
        }
        if ha && !purge {
            return Err(err500(format!(
                "unable to remove {guest} {id} - used in HA resources and purge parameter not set."
            )));
        }
    }
    let node = super::path_param(path_params, "node")
        .unwrap_or_default()
        .to_string();
    mock.store().write(|s| {
        if let Some(m) = s.members.get_mut(&list) {
            m.remove(&id);
        }
        if is_guest {
            volumes::free_guest_volumes(s, &node, &id);
            if purge {
                volumes::purge_guest(s, &id);
            }
            // PVE drops a destroyed guest from its pool.
            if let Some(pools) = s.members.get_mut("pools") {
                for pool in pools.values_mut() {
                    if let Some(Value::Array(members)) = pool.meta.get_mut("members") {
                        members.retain(|m| {
                            m.get("vmid").and_then(Value::as_u64).map(|v| v.to_string())
                                != Some(id.clone())
                        });
                    }
                }
            }
        }
        let member = format!("{list}/{id}");
        s.drop_overrides_below(&member);
        // What lives below the member (a guest's snapshots) goes with it.
        let below = format!("{member}/");
        s.members.retain(|k, _| !k.starts_with(&below));
        s.deleted.insert(member);
    });
    Ok(mock.answer(ctx))
}
