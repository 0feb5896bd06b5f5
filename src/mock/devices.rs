//! Guest config values as PVE writes them: network devices with their MAC address, the
//! defaults qemu-server gives a new VM (boot order, `meta`, `smbios1`, `vmgenid`), and the
//! volume names of templates (`base-100-disk-0`) and their linked clones.

use serde_json::{json, Map, Value};

/// The QEMU version a new VM's `meta` records (`creation-qemu=`), and a running VM's
/// `running-qemu`: PVE 9's pve-qemu-kvm.
pub const QEMU_VERSION: &str = "10.1.2";

/// The machine version a running VM reports (`running-machine`) for its config's
/// `machine`: an unversioned type (`pc`, `q35`, none) runs as the newest version of the
/// QEMU, a pinned version as itself, with PVE's `+pve0` revision.
pub fn running_machine(machine: &str) -> String {
    let ty = machine
        .split(',')
        .find_map(|p| match p.split_once('=') {
            Some(("type", t)) => Some(t),
            Some(_) => None,
            None => Some(p),
        })
        .unwrap_or("");
    let minor = QEMU_VERSION
        .rsplit_once('.')
        .map_or(QEMU_VERSION, |(m, _)| m);
    match ty {
        "" | "pc" | "i440fx" => format!("pc-i440fx-{minor}+pve0"),
        "q35" => format!("pc-q35-{minor}+pve0"),
        t if t.contains('+') => t.to_string(),
        t => format!("{t}+pve0"),
    }
}

/// QEMU's NIC models (qemu-server's `$nic_model_list`), written as `model=MAC`.
const NIC_MODELS: &[&str] = &[
    "e1000",
    "e1000-82540em",
    "e1000-82544gc",
    "e1000-82545em",
    "e1000e",
    "i82551",
    "i82557b",
    "i82559er",
    "ne2k_isa",
    "ne2k_pci",
    "pcnet",
    "rtl8139",
    "virtio",
    "vmxnet3",
];

/// A MAC address as PVE makes one (`PVE::Tools::random_ether_addr` with the datacenter's
/// default `mac_prefix`, Proxmox's OUI `BC:24:11`).
pub fn random_mac() -> String {
    let mut b = [0u8; 3];
    rand::fill(&mut b);
    format!("BC:24:11:{:02X}:{:02X}:{:02X}", b[0], b[1], b[2])
}

/// A random (version 4) UUID, as `smbios1`'s `uuid` and `vmgenid` carry.
pub fn random_uuid() -> String {
    let mut b = [0u8; 16];
    rand::fill(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// Whether `key` is a network device (`net0` .. `net31`).
pub fn is_net_key(key: &str) -> bool {
    key.strip_prefix("net")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// A network device's value as PVE writes it back, with a new MAC address when it has none
/// (or always, with `fresh`, as for a clone). A VM's NIC is `model=MAC` followed by the
/// other options in order (`virtio=BC:24:11:..,bridge=vmbr0,firewall=1`, qemu-server's
/// `print_net`); a container's is `name=` first, then the rest in order with `hwaddr` and
/// `type=veth` (pve-container's `print_lxc_network`). A value without a model is left as it
/// is (the schema refuses it).
pub fn net_value(kind: &str, value: &str, fresh: bool) -> String {
    let mut opts: Vec<(String, String)> = Vec::new();
    let mut model: Option<(String, String)> = None;
    for part in value.split(',').filter(|p| !p.is_empty()) {
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        if kind == "qemu" && NIC_MODELS.contains(&k) {
            model = Some((k.to_string(), v.to_string()));
        } else {
            opts.push((k.to_string(), v.to_string()));
        }
    }
    if kind == "qemu" {
        if let Some(i) = opts.iter().position(|(k, _)| k == "model") {
            let (_, m) = opts.remove(i);
            let mac = opts
                .iter()
                .position(|(k, _)| k == "macaddr")
                .map(|i| opts.remove(i).1)
                .unwrap_or_default();
            model = Some((m, mac));
        }
        let Some((model, mac)) = model else {
            return value.to_string();
        };
        let mac = if fresh || mac.is_empty() {
            random_mac()
        } else {
            mac
        };
        opts.sort();
        let mut out = format!("{model}={mac}");
        for (k, v) in opts {
            out.push_str(&format!(",{k}={v}"));
        }
        return out;
    }
    match opts.iter_mut().find(|(k, _)| k == "hwaddr") {
        Some((_, mac)) if !fresh && !mac.is_empty() => {}
        Some((_, mac)) => *mac = random_mac(),
        None => opts.push(("hwaddr".into(), random_mac())),
    }
    if !opts.iter().any(|(k, _)| k == "type") {
        opts.push(("type".into(), "veth".into()));
    }
    opts.sort_by(|a, b| (a.0 != "name", &a.0).cmp(&(b.0 != "name", &b.0)));
    opts.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// Every network device of `config` written as PVE writes it (a new MAC where none is given).
pub fn normalize_nets(kind: &str, config: &mut Map<String, Value>) {
    for (k, v) in config.iter_mut() {
        if is_net_key(k) {
            if let Some(text) = v.as_str() {
                *v = json!(net_value(kind, text, false));
            }
        }
    }
}

/// Whether a drive value is a CD-ROM (`media=cdrom`, or the bare `cdrom`).
pub fn is_cdrom(value: &str) -> bool {
    let (volume, opts) = value.split_once(',').unwrap_or((value, ""));
    volume == "cdrom" || opts.split(',').any(|o| o == "media=cdrom")
}

/// qemu-server's `get_default_bootdevices`: the first disk, the first CD-ROM (each in the
/// order ide, sata, scsi, virtio) and the first NIC, as `order=scsi0;ide2;net0`; `None`
/// when the VM has none of them.
pub fn default_boot_order(config: &Map<String, Value>) -> Option<String> {
    let drive = |want_cdrom: bool| {
        let mut keys: Vec<(usize, u32, &String)> = config
            .iter()
            .filter_map(|(k, v)| {
                let (bus, n) = ["ide", "sata", "scsi", "virtio"]
                    .iter()
                    .enumerate()
                    .find_map(|(i, p)| k.strip_prefix(p).map(|n| (i, n)))?;
                let n = n.parse::<u32>().ok()?;
                (is_cdrom(v.as_str()?) == want_cdrom).then_some((bus, n, k))
            })
            .collect();
        keys.sort();
        keys.first().map(|(_, _, k)| (*k).clone())
    };
    // The first NIC in Perl's `sort keys` order (net0, net1, net10, net2, ...).
    let nic = config.keys().find(|k| is_net_key(k)).cloned();
    let order: Vec<String> = [drive(false), drive(true), nic]
        .into_iter()
        .flatten()
        .collect();
    (!order.is_empty()).then(|| format!("order={}", order.join(";")))
}

/// What qemu-server's `create_vm` adds to a new VM's config: `meta` (the QEMU version and
/// creation time), the default boot order when none is given, an `smbios1` UUID when
/// `smbios1` is not given, and a `vmgenid` unless it is given as something other than `1`.
pub fn qemu_create_defaults(config: &mut Map<String, Value>, now: u64) {
    config.insert(
        "meta".into(),
        json!(format!("creation-qemu={QEMU_VERSION},ctime={now}")),
    );
    if config
        .get("boot")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        if let Some(order) = default_boot_order(config) {
            config.insert("boot".into(), json!(order));
        }
    }
    if !config.contains_key("smbios1") {
        config.insert("smbios1".into(), json!(format!("uuid={}", random_uuid())));
    }
    let vmgenid = config.get("vmgenid").map(|v| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    });
    if vmgenid.as_deref().is_none_or(|v| v == "1") {
        config.insert("vmgenid".into(), json!(random_uuid()));
    }
}

/// A clone's identity: new MACs, a new `smbios1` UUID (its other fields kept) and a new
/// `vmgenid` when the source has one (qemu-server's `clone_vm`).
pub fn fresh_identity(kind: &str, config: &mut Map<String, Value>) {
    for (k, v) in config.iter_mut() {
        if is_net_key(k) {
            if let Some(text) = v.as_str() {
                *v = json!(net_value(kind, text, true));
            }
        }
    }
    if kind != "qemu" {
        return;
    }
    if let Some(smbios) = config.get("smbios1").and_then(Value::as_str) {
        let mut parts: Vec<String> = smbios
            .split(',')
            .filter(|p| !p.is_empty() && !p.starts_with("uuid="))
            .map(str::to_string)
            .collect();
        parts.push(format!("uuid={}", random_uuid()));
        parts.sort();
        config.insert("smbios1".into(), json!(parts.join(",")));
    }
    if config
        .get("vmgenid")
        .and_then(Value::as_str)
        .is_some_and(|v| !v.is_empty() && v != "0")
    {
        config.insert("vmgenid".into(), json!(random_uuid()));
    }
}

/// The name a volume gets when its guest becomes a template (`vdisk_create_base`):
/// `vm-100-disk-0` becomes `base-100-disk-0`, a container's `subvol-` becomes `basevol-`.
/// Other names (already a base, a path) are kept.
pub fn base_name(volid: &str) -> String {
    let Some((storage, name)) = volid.split_once(':') else {
        return volid.to_string();
    };
    let (dir, file) = name.rsplit_once('/').map_or(("", name), |(d, f)| (d, f));
    let file = if let Some(rest) = file.strip_prefix("vm-") {
        format!("base-{rest}")
    } else if let Some(rest) = file.strip_prefix("subvol-") {
        format!("basevol-{rest}")
    } else {
        return volid.to_string();
    };
    if dir.is_empty() {
        format!("{storage}:{file}")
    } else {
        format!("{storage}:{dir}/{file}")
    }
}

/// Whether a volume is a template's base volume (the last part of its name starts with
/// `base-` or `basevol-`), which a linked clone can be made from.
pub fn is_base_volume(volid: &str) -> bool {
    let name = volid.split_once(':').map_or(volid, |(_, n)| n);
    let file = name.rsplit('/').next().unwrap_or(name);
    file.starts_with("base-") || file.starts_with("basevol-")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_pve_mac(mac: &str) -> bool {
        mac.len() == 17
            && mac.starts_with("BC:24:11:")
            && mac[9..].split(':').all(|b| {
                b.len() == 2
                    && b.bytes()
                        .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase())
            })
    }

    #[test]
    fn a_vm_nic_gets_model_equals_mac_first_and_sorted_options() {
        let v = net_value("qemu", "virtio,firewall=1,bridge=vmbr0", false);
        let (first, rest) = v.split_once(',').unwrap();
        let (model, mac) = first.split_once('=').unwrap();
        assert_eq!(model, "virtio");
        assert!(is_pve_mac(mac), "{mac}");
        assert_eq!(rest, "bridge=vmbr0,firewall=1");
        // A given MAC is kept, `model=`/`macaddr=` are folded into `model=MAC`.
        assert_eq!(
            net_value(
                "qemu",
                "bridge=vmbr0,model=e1000,macaddr=AA:BB:CC:DD:EE:FF",
                false
            ),
            "e1000=AA:BB:CC:DD:EE:FF,bridge=vmbr0"
        );
        assert_ne!(
            net_value("qemu", "virtio=AA:BB:CC:DD:EE:FF,bridge=vmbr0", true),
            "virtio=AA:BB:CC:DD:EE:FF,bridge=vmbr0"
        );
        assert_eq!(net_value("qemu", "bridge=vmbr0", false), "bridge=vmbr0");
    }

    #[test]
    fn a_container_nic_gets_name_first_hwaddr_and_veth() {
        let v = net_value("lxc", "bridge=vmbr0,name=eth0,ip=dhcp", false);
        let parts: Vec<&str> = v.split(',').collect();
        assert_eq!(parts[0], "name=eth0");
        assert_eq!(parts[1], "bridge=vmbr0");
        assert!(is_pve_mac(parts[2].strip_prefix("hwaddr=").unwrap()), "{v}");
        assert_eq!(&parts[3..], ["ip=dhcp", "type=veth"]);
    }

    #[test]
    fn boot_order_is_first_disk_first_cdrom_first_nic() {
        let config: Map<String, Value> = serde_json::from_value(json!({
            "virtio0": "local-lvm:vm-1-disk-1", "scsi0": "local-lvm:vm-1-disk-0",
            "ide2": "none,media=cdrom", "net1": "virtio=x", "net0": "virtio=y",
            "efidisk0": "local-lvm:vm-1-disk-2"
        }))
        .unwrap();
        assert_eq!(
            default_boot_order(&config).as_deref(),
            Some("order=scsi0;ide2;net0")
        );
        assert_eq!(default_boot_order(&Map::new()), None);
    }

    #[test]
    fn create_defaults_keep_what_was_given() {
        let mut config: Map<String, Value> = serde_json::from_value(
            json!({"smbios1": "manufacturer=x", "vmgenid": "0", "boot": "order=net0"}),
        )
        .unwrap();
        qemu_create_defaults(&mut config, 1_700_000_000);
        assert_eq!(config["smbios1"], "manufacturer=x");
        assert_eq!(config["vmgenid"], "0");
        assert_eq!(config["boot"], "order=net0");
        assert_eq!(
            config["meta"],
            format!("creation-qemu={QEMU_VERSION},ctime=1700000000")
        );
        let mut fresh = Map::new();
        qemu_create_defaults(&mut fresh, 1);
        let uuid = fresh["smbios1"]
            .as_str()
            .unwrap()
            .strip_prefix("uuid=")
            .unwrap();
        assert_eq!(uuid.len(), 36);
        assert_eq!(&uuid[14..15], "4");
        assert_eq!(fresh["vmgenid"].as_str().unwrap().len(), 36);
        assert!(!fresh.contains_key("boot"));
    }

    #[test]
    fn running_machine_follows_the_configured_type() {
        assert_eq!(running_machine(""), "pc-i440fx-10.1+pve0");
        assert_eq!(running_machine("q35,viommu=virtio"), "pc-q35-10.1+pve0");
        assert_eq!(running_machine("type=pc-q35-8.1"), "pc-q35-8.1+pve0");
        assert_eq!(running_machine("pc-i440fx-9.2+pve1"), "pc-i440fx-9.2+pve1");
    }

    #[test]
    fn template_volumes_are_renamed_to_base() {
        assert_eq!(
            base_name("local-lvm:vm-100-disk-0"),
            "local-lvm:base-100-disk-0"
        );
        assert_eq!(
            base_name("local:100/vm-100-disk-1.qcow2"),
            "local:100/base-100-disk-1.qcow2"
        );
        assert_eq!(
            base_name("local:100/subvol-100-disk-0.raw"),
            "local:100/basevol-100-disk-0.raw"
        );
        assert_eq!(
            base_name("local-lvm:base-100-disk-0"),
            "local-lvm:base-100-disk-0"
        );
        assert!(is_base_volume("local-lvm:base-100-disk-0"));
        assert!(!is_base_volume("local-lvm:base-100-disk-0/vm-101-disk-0"));
        assert!(!is_base_volume("local-lvm:vm-100-disk-0"));
    }
}
