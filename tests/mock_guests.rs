//! Guests as qemu-server and pve-container make them: the defaults of a new VM, NICs with
//! generated MAC addresses, templates with base volumes, full clones with volumes and an
//! identity of their own, linked clones standing on the template's base volumes, and the
//! refusals PVE answers before forking the clone worker.

mod common;

use common::{fresh_mock, mock_req as req, task_outcome};
use proxmox_sdk::api::ApiError;
use proxmox_sdk::mock::MockPve;
use serde_json::{json, Value};

fn err(r: Result<Value, ApiError>) -> (u16, String) {
    let e = r.unwrap_err();
    (e.status, e.message)
}

fn config(m: &MockPve, kind: &str, vmid: u32) -> Value {
    req(
        m,
        "GET",
        &format!("/nodes/pve1/{kind}/{vmid}/config"),
        json!({}),
    )
    .unwrap()
}

/// The volume ids of a storage's content on pve1.
fn content(m: &MockPve, storage: &str) -> Vec<String> {
    let list = req(
        m,
        "GET",
        &format!("/nodes/pve1/storage/{storage}/content"),
        json!({}),
    )
    .unwrap();
    list.as_array()
        .unwrap()
        .iter()
        .map(|v| v["volid"].as_str().unwrap().to_string())
        .collect()
}

fn mac_of(net: &Value) -> String {
    let first = net.as_str().unwrap().split(',').next().unwrap();
    first.split_once('=').unwrap().1.to_string()
}

fn is_pve_mac(mac: &str) -> bool {
    mac.starts_with("BC:24:11:")
        && mac.len() == 17
        && mac[9..].split(':').all(|b| {
            b.len() == 2
                && b.bytes()
                    .all(|c| c.is_ascii_digit() || (b'A'..=b'F').contains(&c))
        })
}

fn uuid_ok(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    parts.iter().map(|p| p.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
        && text.bytes().all(|c| c == b'-' || c.is_ascii_hexdigit())
}

/// A directory storage `dimg` that holds VM images (PVE's `local` does not).
fn image_dir(m: &MockPve) {
    req(
        m,
        "POST",
        "/storage",
        json!({"storage": "dimg", "type": "dir", "path": "/srv/dimg", "content": "images,rootdir"}),
    )
    .unwrap();
}

/// A VM on local-lvm with a disk, a CD-ROM and a NIC, made into a template when asked.
fn vm(m: &MockPve, vmid: u32, template: bool) {
    req(
        m,
        "POST",
        "/nodes/pve1/qemu",
        json!({"vmid": vmid, "name": "web", "scsi0": "local-lvm:4,iothread=1",
               "ide2": "none,media=cdrom", "net0": "virtio,bridge=vmbr0,firewall=1"}),
    )
    .unwrap();
    if template {
        let upid = req(
            m,
            "POST",
            &format!("/nodes/pve1/qemu/{vmid}/template"),
            json!({}),
        )
        .unwrap();
        assert_eq!(task_outcome(m, &upid), "OK");
    }
}

#[test]
fn a_new_vm_gets_qemu_servers_defaults() {
    let m = fresh_mock("guests-defaults");
    vm(&m, 100, false);
    let c = config(&m, "qemu", 100);
    assert_eq!(c["boot"], "order=scsi0;ide2;net0");
    let meta = c["meta"].as_str().unwrap();
    assert!(meta.starts_with("creation-qemu=10."), "{meta}");
    assert!(
        meta.split(',').nth(1).unwrap().starts_with("ctime="),
        "{meta}"
    );
    let smbios = c["smbios1"].as_str().unwrap();
    assert!(uuid_ok(smbios.strip_prefix("uuid=").unwrap()), "{smbios}");
    assert!(uuid_ok(c["vmgenid"].as_str().unwrap()), "{c}");
    // model=MAC first, the other options in order.
    let net = c["net0"].as_str().unwrap();
    assert!(is_pve_mac(&mac_of(&c["net0"])), "{net}");
    assert!(
        net.starts_with("virtio=") && net.ends_with(",bridge=vmbr0,firewall=1"),
        "{net}"
    );
    // The disk's options in order, the size among them.
    assert_eq!(c["scsi0"], "local-lvm:vm-100-disk-0,iothread=1,size=4G");
    // What was given is kept: no vmgenid when asked for none, a given boot order.
    req(
        &m,
        "POST",
        "/nodes/pve1/qemu",
        json!({"vmid": 101, "vmgenid": "0", "boot": "order=net0", "smbios1": "manufacturer=QUJD",
               "net0": "e1000=AA:BB:CC:DD:EE:FF,bridge=vmbr0"}),
    )
    .unwrap();
    let c = config(&m, "qemu", 101);
    assert_eq!(c["vmgenid"], "0");
    assert_eq!(c["boot"], "order=net0");
    assert_eq!(c["smbios1"], "manufacturer=QUJD");
    assert_eq!(c["net0"], "e1000=AA:BB:CC:DD:EE:FF,bridge=vmbr0");
    // A NIC added later gets its MAC too.
    req(
        &m,
        "PUT",
        "/nodes/pve1/qemu/101/config",
        json!({"net1": "bridge=vmbr0,model=virtio"}),
    )
    .unwrap();
    assert!(is_pve_mac(&mac_of(&config(&m, "qemu", 101)["net1"])));
}

#[test]
fn a_running_vm_reports_its_qemu_and_machine() {
    let m = fresh_mock("guests-running-qemu");
    req(
        &m,
        "POST",
        "/nodes/pve1/qemu",
        json!({"vmid": 100, "machine": "q35"}),
    )
    .unwrap();
    let status =
        |m: &MockPve| req(m, "GET", "/nodes/pve1/qemu/100/status/current", json!({})).unwrap();
    let s = status(&m);
    assert!(
        s.get("running-qemu").is_none() && s.get("running-machine").is_none(),
        "{s}"
    );
    let upid = req(&m, "POST", "/nodes/pve1/qemu/100/status/start", json!({})).unwrap();
    assert_eq!(task_outcome(&m, &upid), "OK");
    let s = status(&m);
    assert!(
        s["running-qemu"].as_str().unwrap().starts_with("10."),
        "{s}"
    );
    assert!(
        s["running-machine"]
            .as_str()
            .unwrap()
            .starts_with("pc-q35-10."),
        "{s}"
    );
}

#[test]
fn a_template_has_base_volumes() {
    let m = fresh_mock("guests-template");
    vm(&m, 100, true);
    let c = config(&m, "qemu", 100);
    assert_eq!(c["template"], 1);
    assert_eq!(c["scsi0"], "local-lvm:base-100-disk-0,iothread=1,size=4G");
    assert_eq!(c["ide2"], "none,media=cdrom");
    let volumes = content(&m, "local-lvm");
    assert!(
        volumes.contains(&"local-lvm:base-100-disk-0".to_string()),
        "{volumes:?}"
    );
    assert!(
        !volumes.contains(&"local-lvm:vm-100-disk-0".to_string()),
        "{volumes:?}"
    );
    // A template of a template is refused, unless one disk is converted.
    assert_eq!(
        err(req(&m, "POST", "/nodes/pve1/qemu/100/template", json!({}))),
        (500, "you can't convert a template to a template".into())
    );
    // On a directory storage the file is renamed.
    image_dir(&m);
    req(
        &m,
        "POST",
        "/nodes/pve1/qemu",
        json!({"vmid": 200, "scsi0": "dimg:1,format=qcow2"}),
    )
    .unwrap();
    req(&m, "POST", "/nodes/pve1/qemu/200/template", json!({})).unwrap();
    assert_eq!(
        config(&m, "qemu", 200)["scsi0"],
        "dimg:200/base-200-disk-0.qcow2,size=1G"
    );
}

#[test]
fn a_full_clone_has_its_own_volumes_and_identity() {
    let m = fresh_mock("guests-full-clone");
    vm(&m, 100, false);
    let upid = req(
        &m,
        "POST",
        "/nodes/pve1/qemu/100/clone",
        json!({"newid": 101}),
    )
    .unwrap();
    assert_eq!(task_outcome(&m, &upid), "OK");
    let (src, new) = (config(&m, "qemu", 100), config(&m, "qemu", 101));
    assert_eq!(new["name"], "Copy-of-VM-web");
    assert_eq!(new["scsi0"], "local-lvm:vm-101-disk-0,iothread=1,size=4G");
    assert_eq!(new["ide2"], "none,media=cdrom");
    assert_ne!(mac_of(&src["net0"]), mac_of(&new["net0"]));
    assert!(is_pve_mac(&mac_of(&new["net0"])));
    assert_ne!(src["smbios1"], new["smbios1"]);
    assert_ne!(src["vmgenid"], new["vmgenid"]);
    assert_eq!(src["boot"], new["boot"]);
    let volumes = content(&m, "local-lvm");
    assert!(volumes.contains(&"local-lvm:vm-100-disk-0".to_string()));
    assert!(volumes.contains(&"local-lvm:vm-101-disk-0".to_string()));
    // Onto another storage, in the asked format.
    image_dir(&m);
    let upid = req(
        &m,
        "POST",
        "/nodes/pve1/qemu/100/clone",
        json!({"newid": 102, "name": "copy", "storage": "dimg", "format": "qcow2", "full": 1}),
    )
    .unwrap();
    assert_eq!(task_outcome(&m, &upid), "OK");
    let c = config(&m, "qemu", 102);
    assert_eq!(c["name"], "copy");
    assert_eq!(
        c["scsi0"],
        "dimg:102/vm-102-disk-0.qcow2,iothread=1,size=4G"
    );
    // Destroying the source leaves the clone's volume.
    req(&m, "DELETE", "/nodes/pve1/qemu/100", json!({})).unwrap();
    let volumes = content(&m, "local-lvm");
    assert!(!volumes.contains(&"local-lvm:vm-100-disk-0".to_string()));
    assert!(volumes.contains(&"local-lvm:vm-101-disk-0".to_string()));
}

#[test]
fn a_linked_clone_stands_on_the_templates_base_volume() {
    let m = fresh_mock("guests-linked-clone");
    vm(&m, 100, true);
    let upid = req(
        &m,
        "POST",
        "/nodes/pve1/qemu/100/clone",
        json!({"newid": 101}),
    )
    .unwrap();
    assert_eq!(task_outcome(&m, &upid), "OK");
    let c = config(&m, "qemu", 101);
    assert_eq!(
        c["scsi0"],
        "local-lvm:base-100-disk-0/vm-101-disk-0,iothread=1,size=4G"
    );
    assert!(c.get("template").is_none(), "{c}");
    // The base volume stays while a linked clone stands on it.
    req(&m, "DELETE", "/nodes/pve1/qemu/100", json!({})).unwrap();
    let volumes = content(&m, "local-lvm");
    assert!(
        volumes.contains(&"local-lvm:base-100-disk-0".to_string()),
        "{volumes:?}"
    );
    // On a directory storage: a qcow2 overlay below the base's path.
    image_dir(&m);
    req(
        &m,
        "POST",
        "/nodes/pve1/qemu",
        json!({"vmid": 200, "scsi0": "dimg:1"}),
    )
    .unwrap();
    req(&m, "POST", "/nodes/pve1/qemu/200/template", json!({})).unwrap();
    let upid = req(
        &m,
        "POST",
        "/nodes/pve1/qemu/200/clone",
        json!({"newid": 201}),
    )
    .unwrap();
    assert_eq!(task_outcome(&m, &upid), "OK");
    assert_eq!(
        config(&m, "qemu", 201)["scsi0"],
        "dimg:200/base-200-disk-0.raw/201/vm-201-disk-0.qcow2,size=1G"
    );
}

#[test]
fn clones_pve_refuses_at_once() {
    let m = fresh_mock("guests-clone-refusals");
    vm(&m, 100, false);
    vm(&m, 110, true);
    let clone = |vmid: u32, params: Value| {
        err(req(
            &m,
            "POST",
            &format!("/nodes/pve1/qemu/{vmid}/clone"),
            params,
        ))
    };
    assert_eq!(
        clone(100, json!({"newid": 101, "full": 0})),
        (
            500,
            "Linked clone feature is not supported for 'local-lvm:vm-100-disk-0' (scsi0)".into()
        )
    );
    assert_eq!(
        clone(110, json!({"newid": 111, "storage": "local-lvm"})),
        (
            500,
            "parameter 'storage' not allowed for linked clones".into()
        )
    );
    assert_eq!(
        clone(110, json!({"newid": 111, "format": "qcow2"})),
        (
            500,
            "parameter 'format' not allowed for linked clones".into()
        )
    );
    assert_eq!(
        clone(100, json!({"newid": 110})),
        (
            500,
            "unable to create VM 110: config file already exists".into()
        )
    );
    assert_eq!(
        clone(100, json!({"newid": 101, "snapname": "nope"})),
        (500, "snapshot 'nope' does not exist".into())
    );
    assert_eq!(
        clone(100, json!({"newid": 101, "target": "pve9"})),
        (500, "no such cluster node 'pve9'".into())
    );
    // PVE's `local` holds no VM images: a 400 naming `storage`, at once.
    let e = req(
        &m,
        "POST",
        "/nodes/pve1/qemu/100/clone",
        json!({"newid": 102, "storage": "local", "full": 1}),
    )
    .unwrap_err();
    assert_eq!(e.status, 400);
    assert_eq!(
        e.errors.unwrap()["storage"],
        "storage 'local' does not support vm images"
    );
}

#[test]
fn disks_go_only_where_the_storage_takes_them() {
    let m = fresh_mock("guests-content");
    let e = req(
        &m,
        "POST",
        "/nodes/pve1/qemu",
        json!({"vmid": 100, "scsi0": "local:1"}),
    )
    .unwrap_err();
    assert_eq!(e.status, 400);
    assert_eq!(
        e.errors.unwrap()["storage"],
        "storage 'local' does not support vm images"
    );
    let e = req(
        &m,
        "POST",
        "/nodes/pve1/lxc",
        json!({"vmid": 101, "ostemplate": "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst",
               "rootfs": "local:1"}),
    )
    .unwrap_err();
    assert_eq!(
        e.errors.unwrap()["storage"],
        "storage 'local' does not support container directories"
    );
    assert_eq!(
        err(req(
            &m,
            "POST",
            "/nodes/pve1/qemu",
            json!({"vmid": 102, "scsi0": "nowhere:1"})
        )),
        (500, "storage 'nowhere' does not exist".into())
    );
    // Nothing was created by the refused requests.
    let vms = req(&m, "GET", "/nodes/pve1/qemu", json!({})).unwrap();
    assert_eq!(vms.as_array().unwrap().len(), 0, "{vms}");
}

#[test]
fn a_clone_from_a_snapshot_copies_the_snapshots_config() {
    let m = fresh_mock("guests-clone-snapshot");
    req(
        &m,
        "POST",
        "/nodes/pve1/qemu",
        json!({"vmid": 100, "cores": 1, "scsi0": "local-lvm:1"}),
    )
    .unwrap();
    let upid = req(
        &m,
        "POST",
        "/nodes/pve1/qemu/100/snapshot",
        json!({"snapname": "s1"}),
    )
    .unwrap();
    assert_eq!(task_outcome(&m, &upid), "OK");
    req(
        &m,
        "PUT",
        "/nodes/pve1/qemu/100/config",
        json!({"cores": 4}),
    )
    .unwrap();
    let upid = req(
        &m,
        "POST",
        "/nodes/pve1/qemu/100/clone",
        json!({"newid": 101, "snapname": "s1"}),
    )
    .unwrap();
    assert_eq!(task_outcome(&m, &upid), "OK");
    let c = config(&m, "qemu", 101);
    assert_eq!(c["cores"], 1);
    assert!(
        c.get("parent").is_none() && c.get("snaptime").is_none(),
        "{c}"
    );
}

#[test]
fn containers_get_veth_nics_and_base_volumes() {
    let m = fresh_mock("guests-lxc");
    req(
        &m,
        "POST",
        "/nodes/pve1/lxc",
        json!({"vmid": 300, "ostemplate": "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst",
               "rootfs": "local-lvm:2", "net0": "bridge=vmbr0,name=eth0,ip=dhcp"}),
    )
    .unwrap();
    let c = config(&m, "lxc", 300);
    let net = c["net0"].as_str().unwrap();
    let parts: Vec<&str> = net.split(',').collect();
    assert_eq!(parts[0], "name=eth0", "{net}");
    assert!(
        is_pve_mac(parts[2].strip_prefix("hwaddr=").unwrap()),
        "{net}"
    );
    assert!(net.ends_with(",ip=dhcp,type=veth"), "{net}");
    assert_eq!(c["rootfs"], "local-lvm:vm-300-disk-0,size=2G");
    req(&m, "POST", "/nodes/pve1/lxc/300/template", json!({})).unwrap();
    assert_eq!(
        config(&m, "lxc", 300)["rootfs"],
        "local-lvm:base-300-disk-0,size=2G"
    );
    let upid = req(
        &m,
        "POST",
        "/nodes/pve1/lxc/300/clone",
        json!({"newid": 301, "hostname": "ct301"}),
    )
    .unwrap();
    assert_eq!(task_outcome(&m, &upid), "OK");
    let c = config(&m, "lxc", 301);
    assert_eq!(c["hostname"], "ct301");
    assert_eq!(
        c["rootfs"],
        "local-lvm:base-300-disk-0/vm-301-disk-0,size=2G"
    );
    assert_ne!(c["net0"], config(&m, "lxc", 300)["net0"]);
    // A running container is fully cloned only from a snapshot.
    req(
        &m,
        "POST",
        "/nodes/pve1/lxc",
        json!({"vmid": 310, "ostemplate": "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst",
               "rootfs": "local-lvm:1"}),
    )
    .unwrap();
    let upid = req(&m, "POST", "/nodes/pve1/lxc/310/status/start", json!({})).unwrap();
    assert_eq!(task_outcome(&m, &upid), "OK");
    assert_eq!(
        err(req(
            &m,
            "POST",
            "/nodes/pve1/lxc/310/clone",
            json!({"newid": 311})
        )),
        (
            500,
            "Full clone of a running container is only possible from a snapshot".into()
        )
    );
    assert_eq!(
        err(req(
            &m,
            "POST",
            "/nodes/pve1/lxc/310/clone",
            json!({"newid": 311, "full": 0})
        )),
        (
            500,
            "Linked clone feature for 'local-lvm:vm-310-disk-0' is not available".into()
        )
    );
}

#[test]
fn containers_come_from_templates_downloaded_from_the_appliance_index() {
    let m = fresh_mock("guests-aplinfo");
    let index = req(&m, "GET", "/nodes/pve1/aplinfo", json!({})).unwrap();
    let debian = index
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["package"] == "debian-12-standard")
        .cloned()
        .unwrap();
    let template = debian["template"].as_str().unwrap().to_string();
    assert_eq!(debian["type"], "lxc");
    assert_eq!(debian["os"], "debian-12");
    // Refusals before the download starts.
    let e = req(
        &m,
        "POST",
        "/nodes/pve1/aplinfo",
        json!({"storage": "local", "template": "nope.tar.zst"}),
    )
    .unwrap_err();
    assert_eq!(e.status, 400);
    assert_eq!(e.errors.unwrap()["template"], "no such template");
    assert_eq!(
        err(req(
            &m,
            "POST",
            "/nodes/pve1/aplinfo",
            json!({"storage": "local-lvm", "template": template})
        )),
        (500, "storage 'local-lvm' does not support templates".into())
    );
    let upid = req(
        &m,
        "POST",
        "/nodes/pve1/aplinfo",
        json!({"storage": "local", "template": template}),
    )
    .unwrap();
    assert!(upid.as_str().unwrap().contains(":download:"), "{upid}");
    assert_eq!(task_outcome(&m, &upid), "OK");
    let volid = format!("local:vztmpl/{template}");
    let listed = req(
        &m,
        "GET",
        "/nodes/pve1/storage/local/content",
        json!({"content": "vztmpl"}),
    )
    .unwrap();
    assert_eq!(listed[0]["volid"], volid.as_str());
    assert_eq!(listed[0]["format"], "tzst");
    // A container from it: PVE's defaults, the OS detected from the template.
    let upid = req(
        &m,
        "POST",
        "/nodes/pve1/lxc",
        json!({"vmid": 300, "ostemplate": volid, "storage": "local-lvm"}),
    )
    .unwrap();
    assert_eq!(task_outcome(&m, &upid), "OK");
    let c = config(&m, "lxc", 300);
    assert_eq!(c["hostname"], "CT300");
    assert_eq!(
        (c["memory"].clone(), c["swap"].clone()),
        (json!(512), json!(512))
    );
    assert_eq!(c["ostype"], "debian");
    assert_eq!(c["arch"], "amd64");
    assert_eq!(c["unprivileged"], 1);
    assert_eq!(c["rootfs"], "local-lvm:vm-300-disk-0,size=4G");
    assert!(
        c.get("ostemplate").is_none() && c.get("storage").is_none(),
        "{c}"
    );
    // The storage knows its templates now: one that is not there fails the task, and
    // the container is not created.
    let upid = req(
        &m,
        "POST",
        "/nodes/pve1/lxc",
        json!({"vmid": 301, "ostemplate": "local:vztmpl/nope.tar.zst", "storage": "local-lvm"}),
    )
    .unwrap();
    assert_eq!(
        task_outcome(&m, &upid),
        "unable to create CT 301 - volume 'local:vztmpl/nope.tar.zst' does not exist"
    );
    assert_eq!(
        err(req(&m, "GET", "/nodes/pve1/lxc/301/config", json!({}))).0,
        500
    );
    // Other refusals come at once.
    assert_eq!(
        err(req(
            &m,
            "POST",
            "/nodes/pve1/lxc",
            json!({"vmid": 302, "ostemplate": "local:iso/x.iso", "storage": "local-lvm"})
        )),
        (
            500,
            "unable to use volume local:iso/x.iso - content type needs to be 'vztmpl'".into()
        )
    );
    // Without `storage`, the root disk goes to `local`, which takes no containers.
    let e = req(
        &m,
        "POST",
        "/nodes/pve1/lxc",
        json!({"vmid": 303, "ostemplate": volid}),
    )
    .unwrap_err();
    assert_eq!(
        e.errors.unwrap()["storage"],
        "storage 'local' does not support container directories"
    );
}

#[test]
fn a_rollback_keeps_the_guests_description() {
    let m = fresh_mock("guests-rollback-description");
    req(
        &m,
        "POST",
        "/nodes/pve1/qemu",
        json!({"vmid": 100, "cores": 1, "description": "before", "scsi0": "local-lvm:1"}),
    )
    .unwrap();
    let upid = req(
        &m,
        "POST",
        "/nodes/pve1/qemu/100/snapshot",
        json!({"snapname": "s1", "description": "the snapshot"}),
    )
    .unwrap();
    assert_eq!(task_outcome(&m, &upid), "OK");
    let snap = req(
        &m,
        "GET",
        "/nodes/pve1/qemu/100/snapshot/s1/config",
        json!({}),
    )
    .unwrap();
    assert_eq!(snap["description"], "the snapshot");
    req(
        &m,
        "PUT",
        "/nodes/pve1/qemu/100/config",
        json!({"cores": 4, "description": "after"}),
    )
    .unwrap();
    let upid = req(
        &m,
        "POST",
        "/nodes/pve1/qemu/100/snapshot/s1/rollback",
        json!({}),
    )
    .unwrap();
    assert_eq!(task_outcome(&m, &upid), "OK");
    let c = config(&m, "qemu", 100);
    assert_eq!(c["cores"], 1);
    assert_eq!(c["description"], "after");
    assert_eq!(c["parent"], "s1");
}

#[test]
fn lenient_mode_clones_disks_as_they_are_written() {
    proxmox_sdk::mock::store::forget_store("9.2", "guests-lenient-clone");
    let m = MockPve::shared("latest", "guests-lenient-clone", None, true).unwrap();
    req(
        &m,
        "POST",
        "/nodes/pve1/qemu",
        json!({"vmid": 100, "name": "web", "scsi0": "nowhere:32"}),
    )
    .unwrap();
    let upid = req(
        &m,
        "POST",
        "/nodes/pve1/qemu/100/clone",
        json!({"newid": 101}),
    )
    .unwrap();
    assert_eq!(task_outcome(&m, &upid), "OK");
    let c = config(&m, "qemu", 101);
    assert_eq!(c["scsi0"], "nowhere:32");
    assert_eq!(c["name"], "Copy-of-VM-web");
}

#[test]
fn the_guest_agent_answers_only_when_configured_and_running() {
    let m = fresh_mock("guests-agent");
    req(
        &m,
        "POST",
        "/nodes/pve1/qemu",
        json!({"vmid": 100, "name": "web", "cores": 2, "net0": "virtio=BC:24:11:AA:BB:01,bridge=vmbr0"}),
    )
    .unwrap();
    let ifaces = "/nodes/pve1/qemu/100/agent/network-get-interfaces";
    assert_eq!(
        err(req(&m, "GET", ifaces, json!({}))),
        (500, "No QEMU guest agent configured".into())
    );
    req(
        &m,
        "PUT",
        "/nodes/pve1/qemu/100/config",
        json!({"agent": "enabled=1"}),
    )
    .unwrap();
    assert_eq!(
        err(req(&m, "GET", ifaces, json!({}))),
        (500, "VM 100 is not running".into())
    );
    let upid = req(&m, "POST", "/nodes/pve1/qemu/100/status/start", json!({})).unwrap();
    assert_eq!(task_outcome(&m, &upid), "OK");
    let got = req(&m, "GET", ifaces, json!({})).unwrap();
    let list = got["result"].as_array().unwrap();
    assert_eq!(list[0]["name"], "lo");
    assert_eq!(list[1]["name"], "eth0");
    assert_eq!(list[1]["hardware-address"], "bc:24:11:aa:bb:01");
    let addresses = list[1]["ip-addresses"].as_array().unwrap();
    assert_eq!(addresses[0]["ip-address-type"], "ipv4");
    assert_eq!(addresses[1]["ip-address"], "fe80::be24:11ff:feaa:bb01");
    let host = req(
        &m,
        "GET",
        "/nodes/pve1/qemu/100/agent/get-host-name",
        json!({}),
    )
    .unwrap();
    assert_eq!(host["result"]["host-name"], "web");
    let vcpus = req(&m, "GET", "/nodes/pve1/qemu/100/agent/get-vcpus", json!({})).unwrap();
    assert_eq!(vcpus["result"].as_array().unwrap().len(), 2);
    let ping = req(&m, "POST", "/nodes/pve1/qemu/100/agent/ping", json!({})).unwrap();
    assert_eq!(ping, json!({"result": {}}));
}
