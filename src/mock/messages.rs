//! PVE's wording, in one place: the messages the mock answers with, as PVE's sources
//! phrase them (status and text), so that a client parsing them sees what PVE would say.

use super::collections::Collection;
use crate::api::{ApiError, Method};

/// A `500` with PVE's message (PVE answers most refusals with 500).
pub fn err500(msg: impl Into<String>) -> ApiError {
    ApiError::new(500, msg)
}

/// `VM` or `CT` for a guest collection kind (`qemu`, `lxc`).
pub fn guest_noun(kind: &str) -> &'static str {
    if kind == "lxc" {
        "CT"
    } else {
        "VM"
    }
}

/// The create of a member that exists.
pub fn already_exists(c: &Collection, id: &str) -> String {
    match c.template.as_str() {
        "/access/users" => format!("create user failed: user '{id}' already exists"),
        "/pools" => format!("create pool failed: pool '{id}' already exists"),
        "/storage" => format!("create storage failed: storage ID '{id}' already defined"),
        "/access/groups" => format!("create group failed: group '{id}' already exists"),
        "/access/roles" => format!("create role failed: role '{id}' already exists"),
        _ => format!("{} '{id}' already exists", c.id_param),
    }
}

/// A guest id that is taken anywhere in the cluster.
pub fn guest_exists(kind: &str, id: &str, node: &str) -> String {
    let g = guest_noun(kind);
    format!("unable to create {g} {id} - {g} {id} already exists on node '{node}'")
}

/// The prefix PVE puts on every refusal of a write to a cluster configuration file (the
/// message `lock_storage_config`/`lock_user_config` are given), by list and method.
pub fn config_write_failed(list_template: &str, method: Method) -> Option<&'static str> {
    Some(match (list_template, method) {
        ("/storage", Method::Put) => "update storage failed",
        ("/storage", Method::Delete) => "delete storage failed",
        ("/pools", Method::Put) => "update pools failed",
        ("/pools", Method::Delete) => "delete pool failed",
        _ => return None,
    })
}

/// `msg` with the prefix of [`config_write_failed`], if the write has one.
pub fn write_refusal(list_template: &str, method: Method, msg: impl Into<String>) -> ApiError {
    let msg = msg.into();
    err500(match config_write_failed(list_template, method) {
        Some(prefix) => format!("{prefix}: {msg}"),
        None => msg,
    })
}

/// PVE's answer for a member that does not exist (prefixed as a refused write of its
/// configuration file for `PUT`/`DELETE` of the member itself).
pub fn missing_member(
    c: &Collection,
    path_params: &[(&str, String)],
    id: &str,
    method: Method,
    own: bool,
) -> ApiError {
    let e = missing_member_text(c, path_params, id);
    if own {
        write_refusal(&c.template, method, e)
    } else {
        err500(e)
    }
}

fn missing_member_text(c: &Collection, path_params: &[(&str, String)], id: &str) -> String {
    let param = |name: &str| super::path_param(path_params, name).unwrap_or("");
    let node = param("node");
    match c.template.as_str() {
        "/access/users/{userid}/token" => {
            format!("no such token '{id}' for user '{}'", param("userid"))
        }
        "/nodes/{node}/qemu" => missing_guest_config("qemu", node, id),
        "/nodes/{node}/lxc" => missing_guest_config("lxc", node, id),
        "/access/users" => format!("no such user ('{id}')"),
        "/pools" => format!("pool '{id}' does not exist"),
        "/storage" => format!("storage '{id}' does not exist"),
        "/access/groups" => format!("group '{id}' does not exist"),
        "/access/roles" => format!("role '{id}' does not exist"),
        "/access/domains" => format!("domain '{id}' does not exist"),
        t if t.ends_with("/snapshot") => format!("snapshot '{id}' does not exist"),
        _ => format!("{} '{id}' does not exist", c.id_param),
    }
}

/// `Configuration file 'nodes/pve1/qemu-server/100.conf' does not exist`.
pub fn missing_guest_config(kind: &str, node: &str, id: &str) -> String {
    let dir = if kind == "lxc" { "lxc" } else { "qemu-server" };
    format!("Configuration file 'nodes/{node}/{dir}/{id}.conf' does not exist")
}

/// A node PVE cannot resolve.
pub fn unknown_node(node: &str) -> ApiError {
    err500(format!(
        "hostname lookup '{node}' failed - failed to get address info for: {node}: Name or service not known"
    ))
}

/// A guest locked by a running task or a config lock.
pub fn locked(kind: &str, lock: &str) -> String {
    format!("{} is locked ({lock})", guest_noun(kind))
}

/// A stale `digest` on a guest configuration (qemu-server, pve-container).
pub const GUEST_DIGEST_MISMATCH: &str = "checksum mismatch (file change by other user?)";

/// A stale `digest` on a cluster configuration file (storage.cfg, user.cfg, ...).
pub const CONFIG_DIGEST_MISMATCH: &str =
    "detected modified configuration - file changed by other user? Try again.";

/// An offline node's answer to a forwarded request.
pub fn no_route() -> ApiError {
    ApiError::new(595, "No route to host")
}

/// Failed login (PVE never says why).
pub fn authentication_failure() -> ApiError {
    ApiError::new(401, "authentication failure")
}

/// A request without a ticket or token.
pub fn no_ticket() -> ApiError {
    ApiError::new(401, "No ticket")
}

/// A ticket that is forged, expired, revoked, or whose user is gone or disabled.
pub fn invalid_ticket() -> ApiError {
    ApiError::new(401, "permission denied - invalid PVE ticket")
}

/// A write without the CSRF token that goes with its ticket.
pub fn invalid_csrf() -> ApiError {
    ApiError::new(401, "Permission denied - invalid csrf token")
}

/// An API token that is unknown, expired, deleted, or whose user is gone or disabled.
pub fn invalid_token() -> ApiError {
    ApiError::new(401, "invalid token value!")
}

/// A missing privilege: `Permission check failed (/vms/100, VM.Audit)`; an empty reason
/// is PVE's bare `Permission check failed`.
pub fn permission_denied(reason: &str) -> ApiError {
    if reason.is_empty() {
        ApiError::new(403, "Permission check failed")
    } else {
        ApiError::new(403, format!("Permission check failed ({reason})"))
    }
}
