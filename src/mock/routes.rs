//! How the mock answers each operation, decided once when the schema loads: a computed
//! handler, the generic collection behaviour (read, create, update, destroy), a guest's
//! life cycle or action, or an answer generated from the schema.

use super::collections::Collections;
use super::computed::{handler, rows_handler, strict_only, Handler, RowsHandler};
use crate::api::Method;
use crate::schema::ApiSchema;

/// What the mock does for one operation.
#[derive(Clone, Copy)]
pub enum Route {
    /// An answer PVE computes ([`crate::mock::computed`]).
    Computed(Handler),
    /// A list PVE computes, row by row ([`crate::mock::computed`]).
    Rows(RowsHandler),
    /// A stored answer, a collection's list, a member (its config), or a generated answer
    /// with the member's state laid over it.
    Read,
    /// A new member of a collection.
    Create,
    /// A change of a member (or its config), with `delete=` and `digest`.
    Update,
    /// A member removed.
    Destroy,
    /// A guest's `status/<action>` (start, stop, shutdown, reboot, suspend, resume, reset).
    Lifecycle(&'static str),
    /// A guest's clone, migrate or template.
    GuestAction(&'static str),
    /// Generated from the schema: a task id for worker operations, `null`, or a value.
    Answer,
}

impl std::fmt::Debug for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Route::Computed(_) => f.write_str("Computed"),
            Route::Rows(_) => f.write_str("Rows"),
            Route::Read => f.write_str("Read"),
            Route::Create => f.write_str("Create"),
            Route::Update => f.write_str("Update"),
            Route::Destroy => f.write_str("Destroy"),
            Route::Lifecycle(a) => write!(f, "Lifecycle({a})"),
            Route::GuestAction(a) => write!(f, "GuestAction({a})"),
            Route::Answer => f.write_str("Answer"),
        }
    }
}

/// The route of every operation of one schema, by [`crate::schema::Operation::id`], for a
/// strict mock and for a lenient one.
#[derive(Debug)]
pub struct Routes {
    strict: Vec<Route>,
    lenient: Vec<Route>,
}

impl Routes {
    /// Decides every operation's route.
    pub fn for_schema(schema: &ApiSchema, collections: &Collections) -> Routes {
        let mut strict = vec![Route::Answer; schema.operation_count()];
        let mut lenient = strict.clone();
        for op in schema.operations() {
            let (method, template) = (op.method, op.template.as_str());
            strict[op.id] = route(schema.product(), method, template, collections);
            lenient[op.id] = if strict_only(schema.product(), method, template) {
                generic(method, template, collections)
            } else {
                strict[op.id]
            };
        }
        Routes { strict, lenient }
    }

    /// The route of the operation with this id (for a strict mock).
    pub fn get(&self, id: usize) -> Route {
        self.get_for(id, false)
    }

    /// The route of the operation with this id for a lenient or a strict mock.
    pub fn get_for(&self, id: usize, lenient: bool) -> Route {
        let routes = if lenient { &self.lenient } else { &self.strict };
        routes.get(id).copied().unwrap_or(Route::Answer)
    }
}

fn route(
    product: crate::schema::Product,
    method: Method,
    template: &str,
    collections: &Collections,
) -> Route {
    if let Some(h) = rows_handler(product, method, template) {
        return Route::Rows(h);
    }
    if let Some(h) = handler(product, method, template) {
        return Route::Computed(h);
    }
    generic(method, template, collections)
}

/// The route of an operation by its shape alone (collections, configs, guest actions):
/// what an operation without a computed answer gets, and what lenient mode gives the
/// strict-only ones.
fn generic(method: Method, template: &str, collections: &Collections) -> Route {
    let is_config = collections
        .ancestors(template)
        .last()
        .is_some_and(|c| c.is_member_or_config(template));
    match method {
        Method::Get => Route::Read,
        Method::Post if collections.created_by(template).is_some() => Route::Create,
        Method::Put | Method::Post if is_config => Route::Update,
        Method::Delete if collections.member_at(template).is_some() => Route::Destroy,
        Method::Post => match (lifecycle_action(template), guest_action(template)) {
            (Some(a), _) => Route::Lifecycle(a),
            (_, Some(a)) => Route::GuestAction(a),
            _ => Route::Answer,
        },
        _ => Route::Answer,
    }
}

/// The guest action of a `.../qemu|lxc/{vmid}/status/<action>` template.
fn lifecycle_action(template: &str) -> Option<&'static str> {
    let action = template.rsplit_once("/status/")?.1;
    let guest = template.starts_with("/nodes/{node}/qemu/{vmid}/status/")
        || template.starts_with("/nodes/{node}/lxc/{vmid}/status/");
    if !guest {
        return None;
    }
    [
        "start", "stop", "shutdown", "reboot", "suspend", "resume", "reset",
    ]
    .into_iter()
    .find(|a| *a == action)
}

/// The guest action (clone, migrate, template) of a `.../qemu|lxc/{vmid}/<action>` template.
fn guest_action(template: &str) -> Option<&'static str> {
    let (base, action) = template.rsplit_once('/')?;
    let guest = base == "/nodes/{node}/qemu/{vmid}" || base == "/nodes/{node}/lxc/{vmid}";
    if !guest {
        return None;
    }
    ["clone", "migrate", "template"]
        .into_iter()
        .find(|a| *a == action)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::bundled;

    #[test]
    fn routes_of_well_known_operations() {
        let schema = bundled::load("9.2").unwrap();
        let collections = super::super::collections::for_schema(&schema);
        let routes = Routes::for_schema(&schema, &collections);
        let of = |m: Method, t: &str| {
            let op = schema
                .endpoint_by_template(t)
                .unwrap()
                .operation(m)
                .unwrap();
            format!("{:?}", routes.get(op.id))
        };
        assert_eq!(of(Method::Get, "/nodes/{node}/qemu"), "Read");
        assert_eq!(of(Method::Post, "/nodes/{node}/qemu"), "Create");
        assert_eq!(
            of(Method::Put, "/nodes/{node}/qemu/{vmid}/config"),
            "Update"
        );
        assert_eq!(of(Method::Delete, "/nodes/{node}/qemu/{vmid}"), "Destroy");
        assert_eq!(
            of(Method::Post, "/nodes/{node}/qemu/{vmid}/status/start"),
            "Lifecycle(start)"
        );
        assert_eq!(
            of(Method::Post, "/nodes/{node}/lxc/{vmid}/clone"),
            "GuestAction(clone)"
        );
        assert_eq!(of(Method::Get, "/cluster/resources"), "Rows");
        assert_eq!(of(Method::Get, "/nodes/{node}/tasks"), "Rows");
        assert_eq!(of(Method::Post, "/access/ticket"), "Computed");
        assert_eq!(of(Method::Post, "/nodes/{node}/vzdump"), "Answer");
    }
}
