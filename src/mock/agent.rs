//! The QEMU guest agent of a VM (`/nodes/{node}/qemu/{vmid}/agent/...`): available only as
//! qemu-server's `assert_agent_available` allows (`No QEMU guest agent configured`, `VM 100
//! is not running`), then answering each command with a result of the shape the agent gives,
//! made from the VM (its NICs' MACs, its name, its CPUs); nothing runs in a guest.

use serde_json::{json, Value};

use super::computed::Computed;
use super::messages::err500;
use super::store::Record;
use super::{devices, Ctx};
use crate::api::{ApiError, Method};

macro_rules! agent {
    ($method:ident, $cmd:literal) => {
        (
            Method::$method,
            concat!("/nodes/{node}/qemu/{vmid}/agent/", $cmd),
            command as super::computed::Handler,
        )
    };
}

pub const HANDLERS: &[Computed] = &[
    agent!(Get, "get-fsinfo"),
    agent!(Get, "get-host-name"),
    agent!(Get, "get-memory-block-info"),
    agent!(Get, "get-memory-blocks"),
    agent!(Get, "get-osinfo"),
    agent!(Get, "get-time"),
    agent!(Get, "get-timezone"),
    agent!(Get, "get-users"),
    agent!(Get, "get-vcpus"),
    agent!(Get, "info"),
    agent!(Get, "network-get-interfaces"),
    agent!(Post, "ping"),
    agent!(Post, "fsfreeze-freeze"),
    agent!(Post, "fsfreeze-status"),
    agent!(Post, "fsfreeze-thaw"),
    agent!(Post, "fstrim"),
    agent!(Post, "shutdown"),
    agent!(Post, "suspend-disk"),
    agent!(Post, "suspend-hybrid"),
    agent!(Post, "suspend-ram"),
    agent!(Post, "set-user-password"),
    agent!(Post, "exec"),
    agent!(Get, "exec-status"),
    agent!(Get, "file-read"),
    agent!(Post, "file-write"),
];

/// Whether the config enables the agent (`agent: 1`, `agent: enabled=1,fstrim_cloned_disks=1`).
fn agent_enabled(config: &serde_json::Map<String, Value>) -> bool {
    let text = match config.get("agent") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(b)) => u8::from(*b).to_string(),
        _ => return false,
    };
    text.split(',')
        .any(|p| matches!(p, "1" | "enabled=1" | "enabled=yes" | "enabled=on"))
}

/// qemu-server's `assert_agent_available`.
fn available(ctx: &Ctx<'_>) -> Result<Record, ApiError> {
    let node = ctx.path_param("node").unwrap_or_default();
    let vmid = ctx.path_param("vmid").unwrap_or_default();
    let rec = ctx
        .store()
        .read(|s| {
            s.members
                .get(&format!("nodes/{node}/qemu"))?
                .get(vmid)
                .cloned()
        })
        .ok_or_else(|| err500(super::messages::missing_guest_config("qemu", node, vmid)))?;
    if !agent_enabled(&rec.config) {
        return Err(err500("No QEMU guest agent configured"));
    }
    if rec.meta.get("status").and_then(Value::as_str) != Some("running") {
        return Err(err500(format!("VM {vmid} is not running")));
    }
    Ok(rec.into_inner())
}

/// An interface's counters in a guest where nothing runs.
fn no_traffic() -> Value {
    json!({"rx-bytes": 0, "rx-packets": 0, "tx-bytes": 0, "tx-packets": 0,
           "rx-errs": 0, "tx-errs": 0, "rx-dropped": 0, "tx-dropped": 0})
}

/// The guest's interfaces: `lo`, then one `ethN` per NIC with its MAC, an IPv4 address on
/// the first (from TEST-NET-2, by vmid) and an IPv6 link-local address from the MAC.
fn interfaces(vmid: u64, rec: &Record) -> Value {
    let mut out = vec![json!({
        "name": "lo", "hardware-address": "00:00:00:00:00:00",
        "ip-addresses": [
            {"ip-address": "127.0.0.1", "ip-address-type": "ipv4", "prefix": 8},
            {"ip-address": "::1", "ip-address-type": "ipv6", "prefix": 128}
        ],
        "statistics": no_traffic()
    })];
    let mut nics: Vec<(u32, &str)> = rec
        .config
        .iter()
        .filter(|(k, _)| devices::is_net_key(k))
        .filter_map(|(k, v)| Some((k[3..].parse().ok()?, v.as_str()?)))
        .collect();
    nics.sort_unstable();
    for (i, (_, value)) in nics.iter().enumerate() {
        let mac = value
            .split(',')
            .find_map(|p| {
                let (k, v) = p.split_once('=')?;
                (v.len() == 17 && k != "bridge").then_some(v)
            })
            .unwrap_or("bc:24:11:00:00:00")
            .to_ascii_lowercase();
        let b: Vec<u8> = mac
            .split(':')
            .filter_map(|x| u8::from_str_radix(x, 16).ok())
            .collect();
        let mut addresses = Vec::new();
        if i == 0 {
            addresses.push(
                json!({"ip-address": format!("198.51.100.{}", vmid % 254 + 1),
                                  "ip-address-type": "ipv4", "prefix": 24}),
            );
        }
        if b.len() == 6 {
            let link_local = format!(
                "fe80::{:02x}{:02x}:{:02x}ff:fe{:02x}:{:02x}{:02x}",
                b[0] ^ 2,
                b[1],
                b[2],
                b[3],
                b[4],
                b[5]
            );
            addresses
                .push(json!({"ip-address": link_local, "ip-address-type": "ipv6", "prefix": 64}));
        }
        out.push(json!({"name": format!("eth{i}"), "hardware-address": mac,
                        "ip-addresses": addresses,
                        "statistics": no_traffic()}));
    }
    Value::Array(out)
}

fn command(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    if ctx.mock.lenient() {
        return Ok(ctx.mock.answer(ctx));
    }
    let rec = available(ctx)?;
    let vmid: u64 = ctx
        .path_param("vmid")
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let cmd = ctx.op.template.rsplit('/').next().unwrap_or_default();
    let cores = rec.config.get("cores").and_then(Value::as_u64).unwrap_or(1)
        * rec
            .config
            .get("sockets")
            .and_then(Value::as_u64)
            .unwrap_or(1);
    let now = ctx.mock.now();
    let name = rec
        .config
        .get("name")
        .and_then(Value::as_str)
        .map_or_else(|| format!("VM{vmid}"), str::to_string);
    let result = match cmd {
        "network-get-interfaces" => interfaces(vmid, &rec),
        "get-host-name" => json!({"host-name": name}),
        "get-osinfo" => json!({"id": "debian", "name": "Debian GNU/Linux", "pretty-name":
            "Debian GNU/Linux 13 (trixie)", "version": "13 (trixie)", "version-id": "13",
            "kernel-release": "6.12.48+deb13-amd64", "kernel-version": "#1 SMP PREEMPT_DYNAMIC Debian 6.12.48-1",
            "machine": "x86_64"}),
        "get-time" => json!(now.saturating_mul(1_000_000_000)),
        "get-timezone" => json!({"zone": "UTC", "offset": 0}),
        "get-users" => json!([]),
        "get-vcpus" => Value::Array(
            (0..cores)
                .map(|n| json!({"logical-id": n, "online": true, "can-offline": n > 0}))
                .collect(),
        ),
        "get-fsinfo" => json!([{"name": "sda1", "mountpoint": "/", "type": "ext4",
            "used-bytes": 2_147_483_648u64, "total-bytes": 10_737_418_240u64,
            "disk": [{"bus-type": "scsi", "bus": 0, "target": 0, "unit": 0, "serial": "drive-scsi0"}]}]),
        "get-memory-blocks" => json!([{"phys-index": 0, "online": true, "can-offline": false}]),
        "get-memory-block-info" => json!({"size": 134_217_728}),
        "info" => {
            json!({"version": "9.2.0", "supported_commands": HANDLERS.iter().map(|(_, t, _)| {
            json!({"name": format!("guest-{}", t.rsplit('/').next().unwrap_or_default()),
                   "enabled": true, "success-response": true})
        }).collect::<Vec<_>>()})
        }
        "fsfreeze-status" => json!("thawed"),
        "fsfreeze-freeze" | "fsfreeze-thaw" => json!(1),
        "fstrim" => json!({"paths": [{"path": "/", "trimmed": 0, "minimum": 0}]}),
        "exec" => {
            let pid = ctx.store().write(|s| {
                s.seq += 1;
                s.seq
            });
            return Ok(json!({"pid": pid}));
        }
        "exec-status" => {
            return Ok(json!({"exited": 1, "exitcode": 0, "out-data": "", "err-data": ""}))
        }
        "file-read" => return Ok(json!({"content": "", "truncated": false})),
        "file-write" => return Ok(Value::Null),
        _ => json!({}),
    };
    Ok(json!({"result": result}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_agent_is_enabled_as_the_property_string_says() {
        let cfg = |v: Value| json!({"agent": v}).as_object().cloned().unwrap();
        assert!(agent_enabled(&cfg(json!("1"))));
        assert!(agent_enabled(&cfg(json!(1))));
        assert!(agent_enabled(&cfg(json!(
            "enabled=1,fstrim_cloned_disks=1"
        ))));
        assert!(!agent_enabled(&cfg(json!("0"))));
        assert!(!agent_enabled(&cfg(json!("enabled=0"))));
        assert!(!agent_enabled(&serde_json::Map::new()));
    }
}
