//! Seeds in the original package's PDM shape (`version`, `remotes`, `pve`, `pbs`,
//! `access`, `views`, ...), written from and read into the store.

use serde_json::{json, Map, Value};

use super::{members_of, VERSION};
use crate::mock::store::{MockState, Record};

/// The state as the original package's PDM seed: `version`, `remotes`, `remote_versions`,
/// `pve` (per remote: `nodes`, `qemu`, `lxc`, `tasks`), `pbs` (per remote: `datastores`,
/// `snapshots`, `tasks`), `resources` (`status`, `subscriptions`), `metrics`, `access`
/// (`users`, `acl`, `tfa`, `tokens` — never a secret), `views`.
pub fn export_seed(s: &MockState) -> Value {
    let list = |key: &str| -> Vec<(String, Map<String, Value>)> {
        members_of(s, key)
            .map(|(k, r)| (k.clone(), r.config.clone()))
            .collect()
    };
    let (version, release, repoid) = VERSION;
    let version = s
        .overrides
        .get("version")
        .cloned()
        .unwrap_or_else(|| json!({"version": version, "release": release, "repoid": repoid}));
    let mut remotes = Vec::new();
    let mut remote_versions = Map::new();
    let mut pve = Map::new();
    let mut pbs = Map::new();
    let mut status = Vec::new();
    let mut subscriptions = Vec::new();
    let mut last_collection = 0u64;
    for (id, r) in members_of(s, "remotes/remote") {
        let mut remote = Value::Object(r.config.clone());
        remote["id"] = json!(id);
        remotes.push(remote);
        if let Some(v) = r.meta.get("version") {
            remote_versions.insert(id.clone(), v.clone());
        }
        status.push(json!({"remote": id, "status": "online"}));
        if let Some(sub) = r.meta.get("subscription") {
            let mut sub = sub.clone();
            sub["remote"] = json!(id);
            subscriptions.push(sub);
        }
        if let Some(t) = r.meta.get("last-collection").and_then(Value::as_u64) {
            last_collection = last_collection.max(t);
        }
        let objects = |key: &str| -> Vec<Value> {
            list(key)
                .into_iter()
                .map(|(_, c)| Value::Object(c))
                .collect()
        };
        if r.config.get("type").and_then(Value::as_str) == Some("pbs") {
            {
                let datastores: Vec<Value> = list(&format!("pbs/remotes/{id}/datastore"))
                    .into_iter()
                    .map(|(store, mut c)| {
                        c.insert("store".into(), json!(store));
                        Value::Object(c)
                    })
                    .collect();
                let snapshots: Vec<Value> = list(&format!("pbs/remotes/{id}/snapshots"))
                    .into_iter()
                    .map(|(key, mut c)| {
                        let mut parts = key.splitn(3, '|');
                        let store = parts.next().unwrap_or_default().to_string();
                        let ns = parts.next().unwrap_or_default().to_string();
                        c.insert("store".into(), json!(store));
                        c.insert("namespace".into(), json!(ns));
                        Value::Object(c)
                    })
                    .collect();
                pbs.insert(
                    id.clone(),
                    json!({"datastores": datastores, "snapshots": snapshots,
                           "tasks": objects(&format!("pbs/remotes/{id}/tasks"))}),
                );
            }
        } else {
            {
                let guests = |kind: &str| -> Vec<Value> {
                    let mut g: Vec<(u64, Value)> =
                        members_of(s, &format!("pve/remotes/{id}/{kind}"))
                            .map(|(vmid, r)| {
                                let mut v = Value::Object(r.config.clone());
                                if let Some(cfg) = r.meta.get("config") {
                                    v["config"] = cfg.clone();
                                }
                                (vmid.parse().unwrap_or(0), v)
                            })
                            .collect();
                    g.sort_by_key(|(k, _)| *k);
                    g.into_iter().map(|(_, v)| v).collect()
                };
                pve.insert(
                    id.clone(),
                    json!({"nodes": objects(&format!("pve/remotes/{id}/nodes")),
                           "qemu": guests("qemu"), "lxc": guests("lxc"),
                           "tasks": objects(&format!("pve/remotes/{id}/tasks"))}),
                );
            }
        }
    }
    let users: Vec<Value> = list("access/users")
        .into_iter()
        .map(|(u, mut c)| {
            c.insert("userid".into(), json!(u));
            Value::Object(c)
        })
        .collect();
    let acl: Vec<Value> = crate::mock::access::roles::acl_entries(s)
        .into_iter()
        .map(|e| {
            json!({"path": e.path, "type": e.kind, "ugid": e.ugid, "roleid": e.role,
                   "propagate": e.propagate})
        })
        .collect();
    let mut tokens = Map::new();
    for (key, members) in &s.members {
        if let Some(user) = key
            .strip_prefix("access/users/")
            .and_then(|k| k.strip_suffix("/token"))
        {
            let list: Vec<Value> = members
                .iter()
                .map(|(name, r)| {
                    let mut t = Value::Object(r.config.clone());
                    t["tokenid"] = json!(name);
                    t
                })
                .collect();
            tokens.insert(user.to_string(), Value::Array(list));
        }
    }
    let views: Vec<Value> = list("config/views")
        .into_iter()
        .map(|(id, mut c)| {
            c.insert("id".into(), json!(id));
            Value::Object(c)
        })
        .collect();
    json!({
        "version": version,
        "remotes": remotes,
        "remote_versions": remote_versions,
        "pve": pve,
        "pbs": pbs,
        "resources": {"status": status, "subscriptions": subscriptions},
        "metrics": {"status": {"enabled": true, "status": "ok", "last-collection": last_collection}},
        "access": {"users": users, "acl": acl, "tfa": {}, "tokens": tokens},
        "views": views,
    })
}

fn objects_of(v: Option<&Value>) -> &[Value] {
    v.and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

fn text_of(v: &Value, k: &str) -> Option<String> {
    match v.get(k)? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

/// A state from a seed in the original package's shape (what [`export_seed`] writes); a
/// seed that is not that shape is an error naming the part at fault.
pub fn import_seed(seed: &Value) -> Result<MockState, String> {
    let Value::Object(top) = seed else {
        return Err("seed: expected an object".into());
    };
    let mut s = MockState {
        product: crate::schema::Product::Pdm,
        nodes: vec!["localhost".into()].into(),
        ..MockState::default()
    };
    if let Some(v) = top.get("version").filter(|v| v.is_object()) {
        s.overrides.insert("version".into(), v.clone());
    }
    let put = |s: &mut MockState,
               list: String,
               id: String,
               mut config: Map<String, Value>,
               drop: &[&str]| {
        for k in drop {
            config.remove(*k);
        }
        s.members.entry(list).or_default().insert(
            id,
            (Record {
                config,
                meta: Map::new(),
            })
            .into(),
        );
    };
    for (i, r) in objects_of(top.get("remotes")).iter().enumerate() {
        let id = text_of(r, "id").ok_or(format!("remotes[{i}]: expected an id"))?;
        let config = r.as_object().cloned().unwrap_or_default();
        put(
            &mut s,
            "remotes/remote".into(),
            id,
            config,
            &["id", "token"],
        );
    }
    let remote_meta = |s: &mut MockState, id: &str, k: &str, v: Value| {
        if let Some(r) = s
            .members
            .get_mut("remotes/remote")
            .and_then(|m| m.get_mut(id))
        {
            r.meta.insert(k.into(), v);
        }
    };
    if let Some(Value::Object(versions)) = top.get("remote_versions") {
        for (id, v) in versions {
            remote_meta(&mut s, id, "version", v.clone());
        }
    }
    for sub in objects_of(top.get("resources").and_then(|r| r.get("subscriptions"))) {
        if let Some(id) = text_of(sub, "remote") {
            let mut v = sub.clone();
            if let Some(o) = v.as_object_mut() {
                o.remove("remote");
            }
            remote_meta(&mut s, &id, "subscription", v);
        }
    }
    if let Some(Value::Object(pve)) = top.get("pve") {
        for (remote, bucket) in pve {
            for n in objects_of(bucket.get("nodes")) {
                let id =
                    text_of(n, "node").ok_or(format!("pve.{remote}.nodes: expected node names"))?;
                put(
                    &mut s,
                    format!("pve/remotes/{remote}/nodes"),
                    id,
                    n.as_object().cloned().unwrap_or_default(),
                    &[],
                );
            }
            for kind in ["qemu", "lxc"] {
                for g in objects_of(bucket.get(kind)) {
                    let vmid = text_of(g, "vmid")
                        .ok_or(format!("pve.{remote}.{kind}: expected a vmid"))?;
                    let mut config = g.as_object().cloned().unwrap_or_default();
                    let guest_config = config.remove("config");
                    let list = format!("pve/remotes/{remote}/{kind}");
                    put(&mut s, list.clone(), vmid.clone(), config, &[]);
                    let defaults = json!({"name": g.get("name").cloned().unwrap_or(Value::Null),
                                          "cores": g.get("cpus").cloned().unwrap_or(json!(1))});
                    if let Some(r) = s.members.get_mut(&list).and_then(|m| m.get_mut(&vmid)) {
                        r.meta
                            .insert("config".into(), guest_config.unwrap_or(defaults));
                    }
                }
            }
            for t in objects_of(bucket.get("tasks")) {
                let upid =
                    text_of(t, "upid").ok_or(format!("pve.{remote}.tasks: expected a upid"))?;
                put(
                    &mut s,
                    format!("pve/remotes/{remote}/tasks"),
                    upid,
                    t.as_object().cloned().unwrap_or_default(),
                    &[],
                );
            }
        }
    }
    if let Some(Value::Object(pbs)) = top.get("pbs") {
        for (remote, bucket) in pbs {
            for d in objects_of(bucket.get("datastores")) {
                let store = text_of(d, "store")
                    .or_else(|| text_of(d, "name"))
                    .ok_or(format!("pbs.{remote}.datastores: expected store names"))?;
                put(
                    &mut s,
                    format!("pbs/remotes/{remote}/datastore"),
                    store,
                    d.as_object().cloned().unwrap_or_default(),
                    &["store", "name"],
                );
            }
            for sn in objects_of(bucket.get("snapshots")) {
                let store = text_of(sn, "store").unwrap_or_default();
                let ns = text_of(sn, "namespace").unwrap_or_default();
                let key = format!(
                    "{store}|{ns}|{}/{}/{}",
                    text_of(sn, "backup-type").unwrap_or_default(),
                    text_of(sn, "backup-id").unwrap_or_default(),
                    text_of(sn, "backup-time").unwrap_or_default()
                );
                put(
                    &mut s,
                    format!("pbs/remotes/{remote}/snapshots"),
                    key,
                    sn.as_object().cloned().unwrap_or_default(),
                    &["store", "namespace"],
                );
            }
            for t in objects_of(bucket.get("tasks")) {
                let upid =
                    text_of(t, "upid").ok_or(format!("pbs.{remote}.tasks: expected a upid"))?;
                put(
                    &mut s,
                    format!("pbs/remotes/{remote}/tasks"),
                    upid,
                    t.as_object().cloned().unwrap_or_default(),
                    &[],
                );
            }
        }
    }
    let access = top.get("access");
    for u in objects_of(access.and_then(|a| a.get("users"))) {
        let id = text_of(u, "userid").ok_or("access.users: expected a userid")?;
        put(
            &mut s,
            "access/users".into(),
            id,
            u.as_object().cloned().unwrap_or_default(),
            &["userid"],
        );
    }
    for a in objects_of(access.and_then(|a| a.get("acl"))) {
        let path = text_of(a, "path").unwrap_or_else(|| "/".into());
        let kind = text_of(a, "type")
            .or_else(|| text_of(a, "ugid_type"))
            .unwrap_or_else(|| "user".into());
        let ugid = text_of(a, "ugid").unwrap_or_default();
        let role = text_of(a, "roleid").unwrap_or_default();
        let propagate = !matches!(a.get("propagate"), Some(v) if v == false || v == 0);
        let config = json!({"path": path, "type": kind, "ugid": ugid, "roleid": role, "propagate": u8::from(propagate)});
        put(
            &mut s,
            "access/acl".into(),
            format!("{path}|{kind}:{ugid}|{role}"),
            config.as_object().cloned().unwrap_or_default(),
            &[],
        );
    }
    if let Some(Value::Object(tokens)) = access.and_then(|a| a.get("tokens")) {
        for (user, list) in tokens {
            for t in objects_of(Some(list)) {
                let name = text_of(t, "tokenid").unwrap_or_default();
                let name = name.rsplit('!').next().unwrap_or_default().to_string();
                put(
                    &mut s,
                    format!("access/users/{user}/token"),
                    name,
                    t.as_object().cloned().unwrap_or_default(),
                    &["tokenid", "value"],
                );
            }
        }
    }
    for v in objects_of(top.get("views")) {
        let id = text_of(v, "id").ok_or("views: expected an id")?;
        put(
            &mut s,
            "config/views".into(),
            id,
            v.as_object().cloned().unwrap_or_default(),
            &["id"],
        );
    }
    Ok(s)
}

impl crate::mock::MockPve {
    /// The state as the original package's PDM seed ([`export_seed`]).
    pub fn pdm_seed(&self) -> Value {
        self.store().read(export_seed)
    }

    /// Replaces the state with `seed` (the original's PDM seed shape); with `initial`,
    /// `reset()` returns to it.
    pub fn load_pdm_seed(&self, seed: &Value, initial: bool) -> Result<(), String> {
        if self.schema().product() != crate::schema::Product::Pdm {
            return Err(format!(
                "a PDM seed needs the PDM mock, not {}",
                self.schema().product()
            ));
        }
        let state = import_seed(seed)?;
        self.store().write(|s| *s = state);
        if initial {
            self.store().keep_as_initial();
        }
        Ok(())
    }
}
