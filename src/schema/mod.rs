//! The PVE API schema model every other layer reads: apidoc parsing, the typed model of
//! endpoints and operations, the path-template index, parameter validation, response
//! validation and OpenAPI emission, plus the bundled versions under `generated/`.

pub mod apidoc;
pub mod bundled;
pub mod formats;
pub mod index;
pub mod model;
pub mod openapi;
pub mod product;
pub mod propstring;
pub mod response;
pub mod validate;

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use serde_json::{Map, Value};

pub use apidoc::ApidocError;
pub use index::{PathIndex, ResolvedPath, TemplateError, API_PREFIX};
pub use model::{ApidocNode, Format, MethodInfo, Schema, SchemaType};
pub use product::{PermissionDialect, Product};
pub use validate::{ErrorMap, IndexedFamily, ParamErrors, ParamRules};

/// An HTTP method of the PVE API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Method {
    /// Read.
    Get,
    /// Create (pvesh `create`).
    Post,
    /// Update (pvesh `set`).
    Put,
    /// Remove.
    Delete,
}

impl Method {
    /// All methods PVE uses, in a fixed order.
    pub const ALL: [Method; 4] = [Method::Get, Method::Post, Method::Put, Method::Delete];

    /// The upper-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An HTTP method name PVE does not use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown HTTP method '{0}' (expected GET, POST, PUT or DELETE)")]
pub struct UnknownMethod(pub String);

impl FromStr for Method {
    type Err = UnknownMethod;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Method::ALL
            .into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownMethod(s.to_string()))
    }
}

/// Path parameters of a resolved path: (name from the template, decoded value).
pub type PathParams<'s, 'p> = Vec<(&'s str, Cow<'p, str>)>;

/// One operation: a method on a path template.
#[derive(Debug)]
pub struct Operation {
    /// Its position among the schema's operations (0..operation_count), so that tables of
    /// per-operation data can be plain vectors.
    pub id: usize,
    /// The method.
    pub method: Method,
    /// The path template, for example `/nodes/{node}/qemu/{vmid}/config`.
    pub template: String,
    /// Everything the apidoc says about it.
    pub info: MethodInfo,
    /// Indexed families, required parameters and `requires` pairs, derived once.
    pub rules: ParamRules,
    /// The returns schema compiled for `jsonschema`, built on first use.
    pub(crate) returns_validator: OnceLock<Option<jsonschema::Validator>>,
}

impl Operation {
    /// The parameter schema of `name`, looking through indexed families (`net3` -> `net[n]`).
    pub fn param(&self, name: &str) -> Option<&Schema> {
        validate::param_schema(&self.info.parameters, &self.rules.families, name)
    }

    /// Validates and coerces parameters; `path_params` win over same-named `input` keys.
    pub fn check_params(
        &self,
        input: &Map<String, Value>,
        path_params: &[(&str, String)],
    ) -> Result<Map<String, Value>, ParamErrors> {
        validate::check_params(&self.info.parameters, &self.rules, input, path_params)
    }
}

/// A path template and its operations.
#[derive(Debug)]
pub struct Endpoint {
    /// The template.
    pub template: String,
    /// The last segment as the API viewer shows it.
    pub text: String,
    /// Whether the apidoc marks it a leaf.
    pub leaf: bool,
    /// Names of the `{param}` segments, in order.
    pub path_params: Vec<String>,
    /// The operations, sorted by method.
    pub operations: Vec<Operation>,
}

impl Endpoint {
    /// The operation for `method`, if the endpoint has one.
    pub fn operation(&self, method: Method) -> Option<&Operation> {
        self.operations.iter().find(|o| o.method == method)
    }
}

/// Why a request does not reach an operation, or fails validation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// No template matches the path, or the template lacks the method: PVE answers
    /// `501 Method 'GET /nodes/pve1/foo' not implemented`.
    #[error("Method '{method} /{path}' not implemented")]
    NotImplemented {
        /// The method as given.
        method: String,
        /// The path without `/api2/json` and surrounding slashes.
        path: String,
    },
    /// The parameters failed verification (PVE: 400).
    #[error(transparent)]
    Params(#[from] ParamErrors),
}

impl RequestError {
    /// The HTTP status PVE answers with.
    pub fn status(&self) -> u16 {
        match self {
            RequestError::NotImplemented { .. } => 501,
            RequestError::Params(_) => 400,
        }
    }
}

/// Why a schema could not be built.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    /// The apidoc text could not be read.
    #[error(transparent)]
    Apidoc(#[from] ApidocError),
    /// Two templates clash.
    #[error(transparent)]
    Template(#[from] TemplateError),
    /// An unknown method name in the tree.
    #[error("path '{path}': {source}")]
    Method {
        /// The template.
        path: String,
        /// The bad method.
        source: UnknownMethod,
    },
    /// A requested version is not bundled.
    #[error("unknown {product}schema version '{requested}' (available: {available})")]
    UnknownVersion {
        /// The product and a space (`PBS `), empty for PVE.
        product: String,
        /// What was asked for.
        requested: String,
        /// What exists, comma-separated.
        available: String,
    },
}

/// A request resolved to its operation, with parameters validated and coerced.
#[derive(Debug)]
pub struct ValidatedRequest<'s> {
    /// The operation.
    pub operation: &'s Operation,
    /// Path parameters (name, decoded value).
    pub path_params: Vec<(&'s str, String)>,
    /// All parameters (path ones included), coerced to their types.
    pub params: Map<String, Value>,
}

/// An operation with its decoded path parameters (name, value).
pub type ResolvedOperation<'s> = (&'s Operation, Vec<(&'s str, String)>);

/// One PVE version's API: every endpoint, indexed by path template.
#[derive(Debug)]
pub struct ApiSchema {
    product: Product,
    version: String,
    endpoints: Vec<Endpoint>,
    index: PathIndex,
    operation_count: usize,
}

impl ApiSchema {
    /// Builds the model from parsed apidoc nodes.
    pub fn from_nodes(version: &str, nodes: Vec<ApidocNode>) -> Result<ApiSchema, SchemaError> {
        let mut endpoints = Vec::new();
        let mut stack: Vec<ApidocNode> = nodes.into_iter().rev().collect();
        while let Some(mut node) = stack.pop() {
            let children = std::mem::take(&mut node.children);
            stack.extend(children.into_iter().rev());
            let mut operations = Vec::with_capacity(node.info.len());
            for (name, info) in std::mem::take(&mut node.info) {
                let method = name
                    .parse::<Method>()
                    .map_err(|source| SchemaError::Method {
                        path: node.path.clone(),
                        source,
                    })?;
                let rules = ParamRules::of(&info.parameters);
                operations.push(Operation {
                    id: 0,
                    method,
                    template: node.path.clone(),
                    info,
                    rules,
                    returns_validator: OnceLock::new(),
                });
            }
            operations.sort_by_key(|o| o.method);
            let path_params = index::strip_api_prefix(&node.path)
                .split('/')
                .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
                .map(str::to_string)
                .collect();
            endpoints.push(Endpoint {
                template: node.path,
                text: node.text,
                leaf: node.leaf,
                path_params,
                operations,
            });
        }
        for (id, op) in endpoints
            .iter_mut()
            .flat_map(|e| e.operations.iter_mut())
            .enumerate()
        {
            op.id = id;
        }
        let mut index = PathIndex::new();
        for (i, e) in endpoints.iter().enumerate() {
            index.insert(&e.template, i)?;
        }
        let operation_count = endpoints.iter().map(|e| e.operations.len()).sum();
        Ok(ApiSchema {
            product: Product::Pve,
            version: version.to_string(),
            endpoints,
            index,
            operation_count,
        })
    }

    /// Parses apidoc text (any supported form) and builds the model.
    pub fn from_apidoc_text(version: &str, text: &str) -> Result<ApiSchema, SchemaError> {
        Self::from_nodes(version, apidoc::parse_apidoc(text)?)
    }

    /// The same schema, as `product`'s (a tree read from a file says nothing about that).
    #[must_use]
    pub fn for_product(mut self, product: Product) -> ApiSchema {
        self.product = product;
        if product.is_rust() {
            // In the Rust products' schemas a parameter with a default is optional (their
            // API viewer marks only the ones without one), as their servers treat it.
            for e in &mut self.endpoints {
                for op in &mut e.operations {
                    if let Some(props) = op.info.parameters.properties.as_mut() {
                        for p in props.values_mut() {
                            if p.default.is_some() {
                                p.optional = true;
                            }
                        }
                    }
                    op.rules = ParamRules::of(&op.info.parameters);
                }
            }
        }
        self
    }

    /// The product whose API this is.
    pub fn product(&self) -> Product {
        self.product
    }

    /// The version tag (`9.2`).
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Every endpoint, in apidoc order (depth first).
    pub fn endpoints(&self) -> &[Endpoint] {
        &self.endpoints
    }

    /// Every operation.
    pub fn operations(&self) -> impl Iterator<Item = &Operation> {
        self.endpoints.iter().flat_map(|e| e.operations.iter())
    }

    /// Number of operations (675 for 9.2).
    pub fn operation_count(&self) -> usize {
        self.operation_count
    }

    /// The endpoint with exactly this template.
    pub fn endpoint_by_template(&self, template: &str) -> Option<&Endpoint> {
        let r = self.index.resolve(template)?;
        let e = &self.endpoints[r.endpoint];
        (index::strip_api_prefix(&e.template) == index::strip_api_prefix(template)).then_some(e)
    }

    /// Resolves a concrete path to its endpoint and path parameters.
    pub fn resolve<'s, 'p>(&'s self, path: &'p str) -> Option<(&'s Endpoint, PathParams<'s, 'p>)> {
        let r = self.index.resolve(path)?;
        Some((&self.endpoints[r.endpoint], r.params))
    }

    /// Finds the operation for a method and concrete path, or PVE's 501.
    pub fn operation<'s, 'p>(
        &'s self,
        method: &str,
        path: &'p str,
    ) -> Result<(&'s Operation, PathParams<'s, 'p>), RequestError> {
        // PVE names the path as it routed it: decoded (`custom-cpu-models`, not `%2D`).
        let not_implemented = || RequestError::NotImplemented {
            method: method.to_ascii_uppercase(),
            path: percent_encoding::percent_decode_str(index::strip_api_prefix(path))
                .decode_utf8_lossy()
                .into_owned(),
        };
        let m: Method = method.parse().map_err(|_| not_implemented())?;
        let (endpoint, params) = self.resolve(path).ok_or_else(not_implemented)?;
        let op = endpoint.operation(m).ok_or_else(not_implemented)?;
        Ok((op, params))
    }

    /// The operation at `(method, path)` with its decoded path parameters, or PVE's 501.
    pub fn resolve_operation<'s>(
        &'s self,
        method: Method,
        path: &str,
    ) -> Result<ResolvedOperation<'s>, RequestError> {
        let (op, params) = self.operation(method.as_str(), path)?;
        Ok((
            op,
            params
                .into_iter()
                .map(|(k, v)| (k, v.into_owned()))
                .collect(),
        ))
    }

    /// Resolves, then validates `params` merged with the path parameters (path wins).
    pub fn validate_request<'s>(
        &'s self,
        method: &str,
        path: &str,
        params: &Map<String, Value>,
    ) -> Result<ValidatedRequest<'s>, RequestError> {
        let (operation, path_params) = self.operation(method, path)?;
        let path_params: Vec<(&'s str, String)> = path_params
            .into_iter()
            .map(|(k, v)| (k, v.into_owned()))
            .collect();
        let coerced = operation.check_params(params, &path_params)?;
        Ok(ValidatedRequest {
            operation,
            path_params,
            params: coerced,
        })
    }
}
