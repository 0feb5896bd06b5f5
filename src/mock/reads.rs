//! The generic read: an answer stored with `set_object`, a collection's list (only the
//! members the caller may see, as PVE filters them), a directory index, or a generated
//! answer with the member's stored configuration and state laid over it.

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::access::check::has_any;
use super::collections::{concrete, Collection};
use super::generate::{generate_object, GenContext};
use super::store::{MockState, Record};
use super::{guests, pending, Ctx};
use crate::api::Answer;
use crate::schema::SchemaType;

/// An answer set for this exact path, or for its template, with `set_object`.
pub fn stored(ctx: &Ctx<'_>) -> Option<Value> {
    ctx.store().read(|s| {
        s.overrides
            .get(ctx.path)
            .or_else(|| s.template_overrides.get(ctx.op.template.as_str()))
            .cloned()
    })
}

/// The generic read of `ctx`'s path.
pub fn read(ctx: &Ctx<'_>) -> Answer {
    let template = ctx.op.template.as_str();
    let returns = &ctx.op.info.returns;
    let collections = ctx.mock.collections();
    if let Some(c) = collections.at(template) {
        let list = concrete(&c.template, ctx.path_params);
        return ctx.store().read(|s| list_members(ctx, s, c, &list));
    }
    if returns.child_link_key().is_some() {
        return directory_index(ctx).into();
    }
    let Some(c) = collections.ancestors(template).last() else {
        return ctx.mock.generated(ctx.path, returns, &ctx.gen()).into();
    };
    let shared = ctx.mock.generated_shared(ctx.path, returns, &ctx.gen());
    let list = concrete(&c.template, ctx.path_params);
    let id = ctx.path_param(&c.id_param).unwrap_or("");
    let now = ctx.mock.now();
    let full = c.is_member_or_config(template);
    ctx.store().read(|s| {
        let Some(rec) = s.members.get(&list).and_then(|m| m.get(id)) else {
            return Answer::from((*shared).clone());
        };
        // The member itself shows what was stored and what PVE always shows: only the
        // sample's required members are copied (the overlay would drop the rest).
        let mut v = match (&*shared, full) {
            (Value::Object(sample), true) => Value::Object(required_members(sample, returns)),
            (other, _) => other.clone(),
        };
        let with_pending;
        let rec = if template.ends_with("/config")
            && !ctx.flag("current")
            && rec.meta.contains_key("pending")
        {
            with_pending = Record {
                config: pending::applied(rec),
                meta: rec.meta.clone(),
            };
            &with_pending
        } else {
            rec
        };
        if let Value::Object(obj) = &mut v {
            overlay(obj, rec, returns, full);
            if template.ends_with("/status/current") {
                let ha = super::volumes::ha_managed(s, id);
                guests::runtime(obj, rec, returns, now, ha);
            }
            if rec.meta.contains_key("lock_until")
                && guests::held_lock(rec, now).is_none()
                && rec.config.get("lock").is_none()
            {
                obj.remove("lock");
            }
        }
        v.into()
    })
}

/// The members of a generated object the schema requires (what a member's own read keeps
/// of the sample).
fn required_members(
    sample: &Map<String, Value>,
    schema: &crate::schema::Schema,
) -> Map<String, Value> {
    let props = schema.properties.as_ref();
    sample
        .iter()
        .filter(|(k, _)| props.and_then(|p| p.get(*k)).is_some_and(|s| !s.optional))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Whether the caller may see member `id` of collection `c` in its list (PVE filters guest,
/// pool, storage and user lists by privilege; everything else shows in full).
fn visible(ctx: &Ctx<'_>, s: &MockState, c: &Collection, id: &str) -> bool {
    if ctx.caller.is_root() {
        return true;
    }
    let Some(who) = ctx.caller.subject() else {
        return false;
    };
    match c.template.as_str() {
        "/nodes/{node}/qemu" | "/nodes/{node}/lxc" => {
            has_any(s, &who, &format!("/vms/{id}"), &["VM.Audit"])
        }
        "/pools" => has_any(s, &who, &format!("/pool/{id}"), &["Pool.Audit"]),
        "/storage" => may_audit_storage(ctx, s, id),
        "/access/users" => {
            ctx.caller.userid() == Some(id)
                || has_any(s, &who, "/access/groups", &["User.Modify", "Sys.Audit"])
                || super::access::roles::user_groups(s, id).iter().any(|g| {
                    has_any(
                        s,
                        &who,
                        &format!("/access/groups/{g}"),
                        &["User.Modify", "Sys.Audit"],
                    )
                })
        }
        _ => true,
    }
}

/// Whether the caller may see storage `id` (`Datastore.Audit` or `.AllocateSpace` on it).
pub fn may_audit_storage(ctx: &Ctx<'_>, s: &MockState, id: &str) -> bool {
    if ctx.caller.is_root() {
        return true;
    }
    ctx.caller.subject().is_some_and(|who| {
        has_any(
            s,
            &who,
            &format!("/storage/{id}"),
            &["Datastore.Audit", "Datastore.AllocateSpace"],
        )
    })
}

/// The members of collection `c` at `list` the caller may see, as its list shows them.
fn list_members(ctx: &Ctx<'_>, s: &MockState, c: &Collection, list: &str) -> Answer {
    let Some(members) = s.members.get(list) else {
        return Value::Array(Vec::new()).into();
    };
    let returns = &ctx.op.info.returns;
    let item_schema = returns.items.as_deref();
    let mut listed: Vec<(&String, &super::tracked::Tracked<Record>)> = members
        .iter()
        .filter(|(id, _)| s.deleted.is_empty() || !s.is_deleted(&format!("{list}/{id}")))
        .filter(|(id, _)| visible(ctx, s, c, id))
        .collect();
    // Numeric ids in numeric order, then the others in text order (each id parsed once).
    listed.sort_by_cached_key(|(id, _)| match id.parse::<u64>() {
        Ok(n) => (0, n, ""),
        Err(_) => (1, 0, id.as_str()),
    });
    let Some((first, _)) = listed.first() else {
        return Value::Array(Vec::new()).into();
    };
    let guest_kind = match list.rsplit('/').next() {
        Some(k @ ("qemu" | "lxc")) if list.starts_with("nodes/") => Some(k),
        _ => None,
    };
    if let (Some(kind), Some(schema)) = (guest_kind, item_schema) {
        return guests::list(ctx, kind, list, &listed, schema);
    }
    // One generated item for the whole list; each member differs in its id and data.
    let mut params: Vec<(&str, String)> = ctx.path_params.to_vec();
    params.push((c.id_param.as_str(), (*first).clone()));
    let base = match item_schema {
        Some(schema) => generate_object(
            schema,
            &GenContext {
                path_params: &params,
            },
            true,
        ),
        None => Value::Object(Map::new()),
    };
    // A member's free text is what was stored, never a sample (`comment` unset stays unset).
    let mut base = base;
    if let (Value::Object(obj), Some(props)) =
        (&mut base, item_schema.and_then(|i| i.properties.as_ref()))
    {
        for k in ["comment", "description"] {
            if props.get(k).is_some_and(|s| s.optional) {
                obj.remove(k);
            }
        }
    }
    // The id sits under the collection's parameter name, or where the list's child link
    // says (`/nodes/{node}/ceph/pool` is created with `name` and lists `pool_name`).
    // Where the schema lists no id at all (`/cluster/acme/account`'s items are bare objects),
    // PVE's items still carry the child link's key: a client follows it.
    let props = item_schema.and_then(|i| i.properties.as_ref());
    let id_key = match props {
        Some(p) if p.contains_key(&c.id_param) => c.id_param.as_str(),
        _ => returns.child_link_key().unwrap_or(c.id_param.as_str()),
    };
    let id_schema = props.and_then(|p| p.get(id_key));
    let families = item_schema
        .map(crate::schema::Schema::families)
        .unwrap_or_default();
    let mut out = Vec::with_capacity(listed.len());
    for (id, rec) in listed {
        let mut item = base.clone();
        if let Value::Object(obj) = &mut item {
            let typed = match id_schema.map(crate::schema::Schema::schema_type) {
                Some(SchemaType::Integer) => id
                    .parse::<i64>()
                    .map_or_else(|_| Value::from(id.as_str()), Value::from),
                _ => Value::from(id.as_str()),
            };
            obj.insert(id_key.to_owned(), typed);
            if let Some(schema) = item_schema {
                overlay_with(obj, rec, schema, false, families);
            }
        }
        out.push(item);
    }
    if c.template == "/access/users" {
        super::access::handlers::patch_user_rows(s, &mut out);
    }
    Value::Array(out).into()
}

/// A directory index: one item per literal child of the template. A list of things no
/// handler computes (members under a `{param}` child only) has one representative member
/// whose link key names a valid id, so that a client can go on.
fn directory_index(ctx: &Ctx<'_>) -> Value {
    let template = ctx.op.template.as_str();
    let returns = &ctx.op.info.returns;
    let key_name = returns.child_link_key().unwrap_or("name");
    let prefix = format!("{template}/");
    let schema = ctx.mock.schema();
    let mut children: Vec<&str> = schema
        .endpoints()
        .iter()
        .filter_map(|e| e.template.strip_prefix(&prefix))
        .filter(|rest| !rest.contains('/'))
        .collect();
    children.sort_unstable();
    children.dedup();
    if children.iter().all(|c| c.starts_with('{')) {
        if let Some(member) = children.first() {
            return generated_member(ctx, &format!("{prefix}{member}"), key_name);
        }
    }
    children.retain(|c| !c.starts_with('{'));
    Value::Array(
        children
            .into_iter()
            .map(|c| json!({ key_name: c }))
            .collect(),
    )
}

/// The one generated member of a list whose members live at `member_template`: the list
/// item's schema filled, and its link key set to a sample of the member's path parameter.
fn generated_member(ctx: &Ctx<'_>, member_template: &str, key_name: &str) -> Value {
    let param = member_template
        .rsplit('/')
        .next()
        .and_then(|s| s.strip_prefix('{'))
        .and_then(|s| s.strip_suffix('}'))
        .unwrap_or(key_name);
    let schema = ctx.mock.schema();
    let param_schema = schema
        .endpoint_by_template(member_template)
        .and_then(|e| e.operation(crate::api::Method::Get))
        .and_then(|op| op.param(param));
    let gen = ctx.gen();
    let id = match param_schema {
        Some(s) => super::generate::generate(s, param, &gen),
        None => Value::from("example"),
    };
    let mut item = match ctx.op.info.returns.items.as_deref() {
        Some(items) => generate_object(items, &gen, true),
        None => Value::Object(Map::new()),
    };
    if let Value::Object(obj) = &mut item {
        let typed = match (obj.get(key_name), &id) {
            // The item's own type for the key wins (a number listed as text, say).
            (Some(Value::String(_)), Value::Number(n)) => Value::from(n.to_string()),
            _ => id,
        };
        obj.insert(key_name.to_owned(), typed);
    }
    Value::Array(vec![item])
}

/// Overlays a member's stored data onto a generated object: everything the schema can
/// hold when `full` (the member or its config), else only members the schema names.
pub fn overlay(
    obj: &mut Map<String, Value>,
    rec: &Record,
    schema: &crate::schema::Schema,
    full: bool,
) {
    overlay_with(obj, rec, schema, full, schema.families());
}

pub fn overlay_with(
    obj: &mut Map<String, Value>,
    rec: &Record,
    schema: &crate::schema::Schema,
    full: bool,
    families: &[crate::schema::IndexedFamily],
) {
    let props = schema.properties.as_ref();
    let allowed = |k: &str| {
        props.is_some_and(|p| p.contains_key(k))
            || families.iter().any(|f| f.matches(k))
            || (full && !schema.forbids_additional_properties() && props.is_none())
    };
    if full {
        // Only what was stored (and what PVE always shows), not invented extras.
        obj.retain(|k, _| props.and_then(|p| p.get(k)).is_some_and(|s| !s.optional));
    }
    for (k, v) in rec.config.iter().chain(rec.meta.iter()) {
        if allowed(k) {
            let v = if k.contains("password") {
                json!("**********")
            } else {
                v.clone()
            };
            obj.insert(k.clone(), v);
        }
    }
    if full && props.is_some_and(|p| p.contains_key("digest")) {
        obj.insert("digest".into(), json!(config_digest(&rec.config)));
    }
}

/// The digest PVE shows for a configuration (and checks on update).
pub fn config_digest(config: &Map<String, Value>) -> String {
    // The map is ordered by key already (serde_json's `Map` is a BTreeMap here): its text
    // is canonical.
    let text = serde_json::to_vec(config).unwrap_or_default();
    let digest = Sha256::digest(&text);
    let mut out = String::with_capacity(40);
    for b in &digest[..20] {
        use std::fmt::Write;
        let _ = write!(out, "{b:02x}");
    }
    out
}
