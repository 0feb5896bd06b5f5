//! The operations whose answers PVE computes (from the cluster, the access model, the
//! task index ...) rather than stores: one table of small handlers, each defined in the
//! file of the PVE area it belongs to.

use serde_json::Value;

use super::Ctx;
use crate::api::{ApiError, Method, Rows};
use crate::schema::Product;

/// A handler: the answer of one operation, or PVE's error.
pub type Handler = fn(&Ctx<'_>) -> Result<Value, ApiError>;

/// One entry of a handler table: method, template, handler.
pub type Computed = (Method, &'static str, Handler);

/// A handler of a list answered row by row (its answer in final form, no value tree).
pub type RowsHandler = fn(&Ctx<'_>) -> Result<Rows, ApiError>;

/// One entry of a table of lists answered row by row: method, template, handler.
pub type ComputedRows = (Method, &'static str, RowsHandler);

const PVE_ROWS: &[&[ComputedRows]] = &[super::cluster::ROWS, super::tasks::ROWS];
const OTHER_ROWS: &[&[ComputedRows]] = &[super::tasks::ROWS];

/// The row-by-row handler of `(method, template)` in `product`, if it has one.
pub fn rows_handler(product: Product, method: Method, template: &str) -> Option<RowsHandler> {
    let tables = match product {
        Product::Pve => PVE_ROWS,
        _ => OTHER_ROWS,
    };
    find(tables, method, template)
}

/// The entry of `(method, template)` in `tables` (the first one naming it).
fn find<H: Copy>(
    tables: &[&[(Method, &'static str, H)]],
    method: Method,
    template: &str,
) -> Option<H> {
    tables
        .iter()
        .flat_map(|t| t.iter())
        .find(|(m, t, _)| *m == method && *t == template)
        .map(|(_, _, h)| *h)
}

/// Every area's table, per product.
const PVE_TABLES: &[&[Computed]] = &[
    super::access::handlers::HANDLERS,
    super::access::tfa::HANDLERS,
    super::access::acl::HANDLERS,
    super::agent::HANDLERS,
    super::appliances::HANDLERS,
    super::ceph::HANDLERS,
    super::cluster::HANDLERS,
    super::firewall::HANDLERS,
    super::firewall_sets::HANDLERS,
    super::guests::HANDLERS,
    super::node_config::HANDLERS,
    super::node_views::HANDLERS,
    super::sdn::HANDLERS,
    super::pools::HANDLERS,
    super::snapshots::HANDLERS,
    super::storage::HANDLERS,
    super::tasks::HANDLERS,
];
const PBS_TABLES: &[&[Computed]] = &[
    super::pbs::HANDLERS,
    super::access::handlers::HANDLERS,
    super::access::tfa::HANDLERS,
    super::access::rust_acl::HANDLERS,
    super::tasks::HANDLERS,
];
const PDM_TABLES: &[&[Computed]] = &[
    super::pdm::HANDLERS,
    super::access::handlers::HANDLERS,
    super::access::tfa::HANDLERS,
    super::access::rust_acl::HANDLERS,
    super::tasks::HANDLERS,
];
const PMG_TABLES: &[&[Computed]] = &[
    super::pmg::HANDLERS,
    super::access::handlers::HANDLERS,
    super::access::tfa::HANDLERS,
    super::tasks::HANDLERS,
];

/// The answers only a strict mock computes: lenient mode (the original mock's behaviour,
/// which refuses nothing) answers these operations by their shape instead.
const PVE_STRICT_ONLY: &[&[Computed]] = &[super::pools::HANDLERS, super::snapshots::HANDLERS];

/// Whether lenient mode answers `(method, template)` by its shape rather than its handler.
pub fn strict_only(product: Product, method: Method, template: &str) -> bool {
    product == Product::Pve && find(PVE_STRICT_ONLY, method, template).is_some()
}

fn tables(product: Product) -> &'static [&'static [Computed]] {
    match product {
        Product::Pve => PVE_TABLES,
        Product::Pbs => PBS_TABLES,
        Product::Pdm => PDM_TABLES,
        Product::Pmg => PMG_TABLES,
    }
}

/// The handler of `(method, template)` in `product`, if the product computes that answer
/// (the first table naming it wins: a product's own before the shared ones).
pub fn handler(product: Product, method: Method, template: &str) -> Option<Handler> {
    find(tables(product), method, template)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::bundled;

    #[test]
    fn every_own_handler_names_an_operation_of_its_product() {
        for product in Product::ALL {
            let schema = bundled::load_of(product, "latest").unwrap();
            // The product's own table(s) must all exist; the shared access and task tables
            // carry spellings of several products, of which at least one must exist.
            let own: &[&[Computed]] = match product {
                Product::Pve => &PVE_TABLES[1..],
                p => &tables(p)[..1],
            };
            let rows: Vec<(Method, &str)> = match product {
                Product::Pve => PVE_ROWS,
                _ => &[],
            }
            .iter()
            .flat_map(|t| t.iter())
            .map(|(m, t, _)| (*m, *t))
            .collect();
            let own = own.iter().flat_map(|t| t.iter()).map(|(m, t, _)| (*m, *t));
            for (method, template) in own.chain(rows) {
                let known = schema
                    .endpoint_by_template(template)
                    .and_then(|e| e.operation(method))
                    .is_some();
                assert!(known, "{product}: {method} {template} is not in the schema");
            }
        }
        for (method, template, _) in super::super::access::handlers::HANDLERS
            .iter()
            .chain(super::super::access::rust_acl::HANDLERS)
        {
            let somewhere = Product::ALL.into_iter().any(|p| {
                bundled::load_of(p, "latest")
                    .unwrap()
                    .endpoint_by_template(template)
                    .and_then(|e| e.operation(*method))
                    .is_some()
            });
            assert!(somewhere, "{method} {template} is in no product's schema");
        }
    }
}
