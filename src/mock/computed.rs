//! The operations whose answers PVE computes (from the cluster, the access model, the
//! task index ...) rather than stores: one table of small handlers, each defined in the
//! file of the PVE area it belongs to.

use serde_json::Value;

use super::Ctx;
use crate::api::{ApiError, Method};

/// A handler: the answer of one operation, or PVE's error.
pub type Handler = fn(&Ctx<'_>) -> Result<Value, ApiError>;

/// One entry of a handler table: method, template, handler.
pub type Computed = (Method, &'static str, Handler);

/// Every area's table.
const TABLES: &[&[Computed]] = &[
    super::access::handlers::HANDLERS,
    super::access::acl::HANDLERS,
    super::cluster::HANDLERS,
    super::guests::HANDLERS,
    super::storage::HANDLERS,
    super::tasks::HANDLERS,
];

/// The handler of `(method, template)`, if PVE computes that answer.
pub fn handler(method: Method, template: &str) -> Option<Handler> {
    TABLES
        .iter()
        .flat_map(|t| t.iter())
        .find(|(m, t, _)| *m == method && *t == template)
        .map(|(_, _, h)| *h)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::bundled;

    #[test]
    fn every_handler_names_an_operation_of_the_latest_schema() {
        let schema = bundled::load("latest").unwrap();
        for (method, template, _) in TABLES.iter().flat_map(|t| t.iter()) {
            let known = schema
                .endpoint_by_template(template)
                .and_then(|e| e.operation(*method))
                .is_some();
            assert!(known, "{method} {template} is not in the schema");
        }
    }
}
