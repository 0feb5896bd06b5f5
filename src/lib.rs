//! proxmox-sdk: the Rust engine behind the `proxmox_sdk` Python package.
//!
//! Map of the crate (arrows point down):
//! - [`schema`]: the PVE API schema model: apidoc parsing, path-template index, parameter
//!   validation in PVE's wording, response validation, OpenAPI 3.1 emission, bundled versions.
//! - [`mock`]: the in-memory PVE (store, collections, generated answers).
//! - [`client`]: the request model shared by backends (errors, parameter encoding).
//! - [`server`]: the axum server (mock mode): envelope, reason phrases, auth, TLS.
//! - [`cli`]: `proxmox` / `pbx`, the pvesh-like command line over any backend.
//! - [`codegen`]: apidoc (file or live node URL) -> `generated/proxmox/<version>/`.
//! - [`transport`]: the real backends (HTTPS, pvesh over local/openssh/russh), on the shared
//!   [`runtime`].
//! - [`tls`]: rustls setup shared by every HTTPS client (fingerprint pinning).
//! - `python` (feature `python`): the PyO3 edge, compiled only when maturin builds the module.

pub mod api;
pub mod backend;
pub mod cli;
pub mod client;
pub mod codegen;
pub mod limits;
pub mod mock;
pub mod runtime;
pub mod schema;
pub mod server;
pub mod tls;
pub mod transport;

#[cfg(feature = "python")]
mod python;
