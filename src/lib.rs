//! proxmox-sdk: the Rust engine behind the `proxmox_sdk` Python package.
//!
//! Map of the crate, top to bottom; a module uses only modules below it (checked by
//! `tests/layers.rs`):
//!
//! - `python` (feature `python`): the PyO3 edge, compiled only when maturin builds the
//!   module (the `native/` crate, which only declares it): classes, conversions, errors,
//!   the asyncio bridge, logging.
//! - [`cli`]: `proxmox` / `pbx`, the pvesh-like command line over any backend.
//! - [`server`]: the axum server: HTTP only (headers, cookies, CSRF transport, TLS,
//!   limits) over the in-memory PVE, or a validating proxy (real mode).
//! - [`codegen`]: apidoc (file, live node URL) -> `generated/proxmox/<version>/`.
//! - [`client`]: the request pipeline (parameter encoding, validation, request log).
//! - [`backend`]: where requests go ([`backend::Backend`]), and the connection options
//!   that build one ([`backend::options::ClientOptions`], declared once).
//! - [`mock`] | [`transport`]: the in-memory PVE (one model of PVE, access rules
//!   included) | the real transports (HTTPS, pvesh over local/openssh/russh).
//! - [`api`]: the request model and errors ([`api::Call`], [`api::Error`]) and shared
//!   nouns ([`api::Upid`], [`api::ApiPath`]).
//! - [`schema`], [`limits`], [`runtime`], [`tls`], [`files`]: the PVE API schema model; the bounds on
//!   what callers pass; the shared tokio runtime; rustls setup; JSON/YAML files.

pub mod api;
pub mod backend;
pub mod cli;
pub mod client;
pub mod codegen;
pub mod files;
pub mod limits;
pub mod mock;
pub mod runtime;
pub mod schema;
pub mod server;
pub mod tls;
pub mod transport;

#[cfg(feature = "python")]
#[doc(hidden)]
pub mod python;
