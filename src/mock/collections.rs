//! Collections found in the schema: a path that lists (GET) and creates (POST with the id
//! parameter of its `/{id}` child), such as `/nodes/{node}/qemu` (id `vmid`),
//! `/access/users` (`userid`), `/pools` (`poolid`) or `/storage` (`storage`); or one whose
//! POST takes no id but answers the new member's integer id, as PMG's rule database does
//! (`/config/ruledb/rules` -> `/config/ruledb/rules/{id}`).

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use parking_lot::Mutex;

use crate::schema::{ApiSchema, Method, SchemaType};

/// One collection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collection {
    /// The list template, for example `/nodes/{node}/qemu`.
    pub template: String,
    /// The member template, for example `/nodes/{node}/qemu/{vmid}`.
    pub member_template: String,
    /// The id parameter, for example `vmid`.
    pub id_param: String,
    /// Number of segments of the member template.
    pub member_depth: usize,
    /// The server picks the id (the next integer) and answers it.
    pub allocates_ids: bool,
    /// Members are created by a POST to their own path (`POST /cluster/metrics/server/{id}`,
    /// `POST /access/users/{userid}/token/{tokenid}`), the list has no POST.
    pub created_at_member: bool,
}

impl Collection {
    /// Whether `template` is the member itself or its `config` (what holds its record).
    pub fn is_member_or_config(&self, template: &str) -> bool {
        matches!(
            template.strip_prefix(self.member_template.as_str()),
            Some("" | "/config")
        )
    }
}

/// Every collection of a schema version, and which ones each template lies under.
#[derive(Debug, Default)]
pub struct Collections {
    list: Vec<Collection>,
    by_template: HashMap<String, usize, foldhash::fast::FixedState>,
    by_member_template: HashMap<String, usize, foldhash::fast::FixedState>,
    /// template -> indexes of the collections whose members it lies at or under, shallow first.
    ancestors: HashMap<String, Vec<usize>, foldhash::fast::FixedState>,
}

fn segments(t: &str) -> Vec<&str> {
    t.split('/').filter(|s| !s.is_empty()).collect()
}

impl Collections {
    /// Discovers the collections of `schema`.
    pub fn discover(schema: &ApiSchema) -> Collections {
        let mut c = Collections::default();
        for e in schema.endpoints() {
            let Some(get) = e.operation(Method::Get) else {
                continue;
            };
            // Firewall rules are positions in a list, not members with ids; aliases and IP
            // sets live in their level's firewall file (case-insensitive names, ordered
            // entries).
            if get.info.returns.ty != Some(SchemaType::Array)
                || super::firewall::is_rule_list(&e.template)
                || super::firewall_sets::is_own_list(&e.template)
                || super::node_config::is_own_list(&e.template)
            {
                continue;
            }
            let prefix = format!("{}/{{", e.template);
            let Some(member) = schema.endpoints().iter().find(|m| {
                m.template.starts_with(&prefix)
                    && m.template[prefix.len()..].ends_with('}')
                    && !m.template[prefix.len()..].contains('/')
            }) else {
                continue;
            };
            let id_param = member.template[prefix.len()..member.template.len() - 1].to_string();
            let Some(post) = e.operation(Method::Post) else {
                // Created at the member's own path: a list of what was made there.
                // A thing made (with settings of its own) and removed there, its GET
                // showing it: not a sub-list, nor an action on the member (PMG's
                // `POST .../postfix/queue/{queue}/{queue_id}` delivers a mail).
                let settings = member.operation(Method::Post).is_some_and(|p| {
                    p.info.parameters.properties.as_ref().is_some_and(|props| {
                        props
                            .keys()
                            .any(|k| !member.template.contains(&format!("{{{k}}}")))
                    })
                });
                let made_there = settings
                    && member.operation(Method::Delete).is_some()
                    && member
                        .operation(Method::Get)
                        .is_some_and(|g| g.info.returns.ty != Some(SchemaType::Array));
                if made_there {
                    c.push(
                        e.template.clone(),
                        member.template.clone(),
                        id_param,
                        false,
                        true,
                    );
                }
                continue;
            };
            let posts_id = post
                .info
                .parameters
                .properties
                .as_ref()
                .is_some_and(|p| p.contains_key(&id_param));
            let allocates_ids = !posts_id && post.info.returns.ty == Some(SchemaType::Integer);
            if !posts_id && !allocates_ids {
                continue;
            }
            c.push(
                e.template.clone(),
                member.template.clone(),
                id_param,
                allocates_ids,
                false,
            );
        }
        for e in schema.endpoints() {
            let segs = segments(&e.template);
            let mut found: Vec<usize> = (0..c.list.len())
                .filter(|&i| {
                    let m = segments(&c.list[i].member_template);
                    m.len() <= segs.len() && m[..] == segs[..m.len()]
                })
                .collect();
            found.sort_by_key(|&i| c.list[i].member_depth);
            if !found.is_empty() {
                c.ancestors.insert(e.template.clone(), found);
            }
        }
        c
    }

    fn push(
        &mut self,
        template: String,
        member_template: String,
        id_param: String,
        allocates_ids: bool,
        created_at_member: bool,
    ) {
        let idx = self.list.len();
        self.by_template.insert(template.clone(), idx);
        self.by_member_template.insert(member_template.clone(), idx);
        self.list.push(Collection {
            member_depth: segments(&member_template).len(),
            template,
            member_template,
            id_param,
            allocates_ids,
            created_at_member,
        });
    }

    /// The collection listed at `template`.
    pub fn at(&self, template: &str) -> Option<&Collection> {
        self.by_template.get(template).map(|&i| &self.list[i])
    }

    /// The collection whose members are created by a POST to `template` (the list's own
    /// path, or the member's for a collection created at its members).
    pub fn created_by(&self, template: &str) -> Option<&Collection> {
        match self.at(template) {
            Some(c) if !c.created_at_member => Some(c),
            Some(_) => None,
            None => self.member_at(template).filter(|c| c.created_at_member),
        }
    }

    /// The collection whose member template is `template`.
    pub fn member_at(&self, template: &str) -> Option<&Collection> {
        self.by_member_template
            .get(template)
            .map(|&i| &self.list[i])
    }

    /// The collections whose members `template` lies at or under, shallow first.
    pub fn ancestors(&self, template: &str) -> impl Iterator<Item = &Collection> {
        self.ancestors
            .get(template)
            .into_iter()
            .flatten()
            .map(|&i| &self.list[i])
    }

    /// Every collection.
    pub fn all(&self) -> &[Collection] {
        &self.list
    }
}

/// The collections of a bundled version, discovered once per process.
pub fn for_schema(schema: &ApiSchema) -> Arc<Collections> {
    type Cache = Mutex<HashMap<(crate::schema::Product, String), Arc<Collections>>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    cache
        .lock()
        .entry((schema.product(), schema.version().to_string()))
        .or_insert_with(|| Arc::new(Collections::discover(schema)))
        .clone()
}

/// Fills a template's `{param}` segments from `params`.
pub fn concrete(template: &str, params: &[(&str, String)]) -> String {
    segments(template)
        .into_iter()
        .map(
            |s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(name) => params
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map_or_else(|| s.to_string(), |(_, v)| v.clone()),
                None => s.to_string(),
            },
        )
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{bundled, Product};

    #[test]
    fn members_made_at_their_own_path_are_collections_and_actions_are_not() {
        let pve = Collections::discover(&bundled::load_of(Product::Pve, "9.2").unwrap());
        for member in [
            "/access/users/{userid}/token/{tokenid}",
            "/cluster/jobs/realm-sync/{id}",
            "/cluster/metrics/server/{id}",
        ] {
            let c = pve.member_at(member).unwrap_or_else(|| panic!("{member}"));
            assert!(c.created_at_member, "{member}");
            assert!(std::ptr::eq(pve.created_by(member).unwrap(), c), "{member}");
        }
        // A list with a POST of its own is created there, not at the member.
        assert!(pve.created_by("/nodes/{node}/qemu/{vmid}").is_none());
        assert!(pve.created_by("/nodes/{node}/qemu").is_some());
        // PMG's POST of a queued mail delivers it: an action, not a create.
        let pmg = Collections::discover(&bundled::load_of(Product::Pmg, "6.3").unwrap());
        assert!(pmg
            .member_at("/nodes/{node}/postfix/queue/{queue}/{queue_id}")
            .is_none());
    }
}
