//! Table-driven parameter validation against the bundled 9.2 schema, with PVE's exact
//! messages: good inputs and their coerced values, bad inputs and their errors.

use proxmox_sdk::schema::bundled;
use proxmox_sdk::schema::propstring::{parse_property_string, render_property_string};
use proxmox_sdk::schema::{Format, RequestError};
use serde_json::{json, Map, Value};

fn params(v: Value) -> Map<String, Value> {
    v.as_object().cloned().expect("object")
}

fn errors(method: &str, path: &str, input: Value) -> Map<String, Value> {
    let s = bundled::load("9.2").unwrap();
    match s.validate_request(method, path, &params(input)) {
        Err(RequestError::Params(e)) => e
            .errors
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect(),
        Err(other) => panic!("{method} {path}: unexpected {other}"),
        Ok(v) => panic!("{method} {path}: accepted {:?}", v.params),
    }
}

fn accepted(method: &str, path: &str, input: Value) -> Value {
    let s = bundled::load("9.2").unwrap();
    match s.validate_request(method, path, &params(input)) {
        Ok(v) => Value::Object(v.params),
        Err(e) => panic!("{method} {path}: refused: {e}"),
    }
}

const CREATE_VM: &str = "/api2/json/nodes/pve1/qemu";

#[test]
fn good_inputs_are_coerced() {
    let table: &[(&str, &str, Value, Value)] = &[
        (
            "POST",
            CREATE_VM,
            json!({"vmid": "100", "cores": "2", "memory": "2048", "onboot": "yes", "net0": "virtio,bridge=vmbr0",
                   "scsi0": "local-lvm:32", "scsi30": "local-lvm:1", "name": "web-1", "ostype": "l26"}),
            json!({"node": "pve1", "vmid": 100, "cores": 2, "memory": "2048", "onboot": 1, "net0": "virtio,bridge=vmbr0",
                   "scsi0": "local-lvm:32", "scsi30": "local-lvm:1", "name": "web-1", "ostype": "l26"}),
        ),
        // JSON values are accepted as they are; booleans become 0/1.
        (
            "POST",
            CREATE_VM,
            json!({"vmid": 101, "cores": 4, "onboot": true, "start": false, "tablet": "off"}),
            json!({"node": "pve1", "vmid": 101, "cores": 4, "onboot": 1, "start": 0, "tablet": 0}),
        ),
        (
            "GET",
            "/nodes/pve1/qemu/100/config",
            json!({"current": "1", "snapshot": "before-upgrade"}),
            json!({"node": "pve1", "vmid": 100, "current": 1, "snapshot": "before-upgrade"}),
        ),
        ("GET", "/version", json!({}), json!({})),
        // Number type, path parameter in the middle.
        (
            "PUT",
            "/cluster/replication/100-0",
            json!({"rate": "1.5"}),
            json!({"id": "100-0", "rate": 1.5}),
        ),
        // Array type: a single value of a repeated key, and a list.
        (
            "POST",
            "/cluster/backup",
            json!({"exclude-path": "/tmp", "schedule": "daily", "all": 1}),
            json!({"exclude-path": ["/tmp"], "schedule": "daily", "all": 1}),
        ),
        // -list formats with PVE's separators.
        (
            "PUT",
            "/nodes/pve1/qemu/100/config",
            json!({"delete": "net1,scsi2; ide0 sata1", "digest": "abc"}),
            json!({"node": "pve1", "vmid": 100, "delete": "net1,scsi2; ide0 sata1", "digest": "abc"}),
        ),
        // The node path segment equal to a literal elsewhere still validates as a node name.
        (
            "GET",
            "/nodes/pve-2/status",
            json!({}),
            json!({"node": "pve-2"}),
        ),
    ];
    for (method, path, input, want) in table {
        assert_eq!(
            &accepted(method, path, input.clone()),
            want,
            "{method} {path}"
        );
    }
}

#[test]
fn bad_inputs_give_pve_messages() {
    let enum_ostype = "value 'dos' does not have a value in the enumeration 'other, wxp, w2k, w2k3, w2k8, wvista, win7, win8, win10, win11, l24, l26, solaris'";
    let table: &[(&str, &str, Value, Value)] = &[
        (
            "POST",
            CREATE_VM,
            json!({}),
            json!({"vmid": "property is missing and it is not optional"}),
        ),
        (
            "POST",
            CREATE_VM,
            json!({"vmid": "abc"}),
            json!({"vmid": "type check ('integer') failed - got 'abc'"}),
        ),
        (
            "POST",
            CREATE_VM,
            json!({"vmid": "99"}),
            json!({"vmid": "invalid format - value does not look like a valid VM ID\n"}),
        ),
        (
            "POST",
            CREATE_VM,
            json!({"vmid": 1.5}),
            json!({"vmid": "type check ('integer') failed - got '1.5'"}),
        ),
        (
            "POST",
            CREATE_VM,
            json!({"vmid": true}),
            json!({"vmid": "type check ('integer') failed - got JSON::PP::Boolean"}),
        ),
        (
            "POST",
            CREATE_VM,
            json!({"vmid": [100]}),
            json!({"vmid": "type check ('integer') failed - got ARRAY"}),
        ),
        (
            "POST",
            CREATE_VM,
            json!({"vmid": 100, "cores": "0"}),
            json!({"cores": "value must have a minimum value of 1"}),
        ),
        (
            "POST",
            CREATE_VM,
            json!({"vmid": 100, "ostype": "dos"}),
            json!({"ostype": enum_ostype}),
        ),
        (
            "POST",
            CREATE_VM,
            json!({"vmid": 100, "onboot": "maybe"}),
            json!({"onboot": "type check ('boolean') failed - got 'maybe'"}),
        ),
        (
            "POST",
            CREATE_VM,
            json!({"vmid": 100, "bogus": "1"}),
            json!({"bogus": "property is not defined in schema and the schema does not allow additional properties"}),
        ),
        // Indexed families stop where PVE stops.
        (
            "POST",
            CREATE_VM,
            json!({"vmid": 100, "scsi31": "local-lvm:1", "net01": "virtio"}),
            json!({
                "scsi31": "property is not defined in schema and the schema does not allow additional properties",
                "net01": "property is not defined in schema and the schema does not allow additional properties",
            }),
        ),
        // Property strings: a bad key, a bad sub-value, a missing default key value.
        (
            "POST",
            CREATE_VM,
            json!({"vmid": 100, "net0": "virtio,colour=blue"}),
            json!({"net0": "invalid format - invalid key in comma-separated list property: colour\n"}),
        ),
        (
            "POST",
            CREATE_VM,
            json!({"vmid": 100, "net0": "model=fast,mtu=0"}),
            json!({"net0": "invalid format - format error\nnet0.model: value 'fast' does not have a value in the enumeration 'e1000, e1000-82540em, e1000-82544gc, e1000-82545em, e1000e, i82551, i82557b, i82559er, ne2k_isa, ne2k_pci, pcnet, rtl8139, virtio, vmxnet3'\nnet0.mtu: value must have a minimum value of 1\n"}),
        ),
        (
            "POST",
            CREATE_VM,
            json!({"vmid": 100, "net0": "bridge=vmbr0"}),
            json!({"net0": "invalid format - format error\nnet0.model: property is missing and it is not optional\n"}),
        ),
        (
            "POST",
            CREATE_VM,
            json!({"vmid": 100, "memory": "lots"}),
            json!({"memory": "invalid format - format error\nmemory.current: type check ('integer') failed - got 'lots'\n"}),
        ),
        (
            "POST",
            CREATE_VM,
            json!({"vmid": 100, "net0": "virtio=01:00:00:00:00:00"}),
            json!({"net0": "invalid format - format error\nnet0.macaddr: invalid format - value does not look like a valid unicast MAC address\n\n"}),
        ),
        // Path parameters are validated too.
        (
            "GET",
            "/nodes/pve_1/qemu",
            json!({}),
            json!({"node": "invalid format - value does not look like a valid node name\n"}),
        ),
        (
            "GET",
            "/nodes/pve1/qemu/abc/config",
            json!({}),
            json!({"vmid": "type check ('integer') failed - got 'abc'"}),
        ),
        // -list formats check each element.
        (
            "PUT",
            "/nodes/pve1/qemu/100/config",
            json!({"delete": "net0,9lives"}),
            json!({"delete": "invalid format - invalid configuration ID '9lives'\n"}),
        ),
        // Lengths, patterns, numbers, requires.
        (
            "PUT",
            "/access/password",
            json!({"userid": "root@pam", "password": "short"}),
            json!({"password": "value must be at least 8 characters long"}),
        ),
        (
            "PUT",
            "/access/password",
            json!({"userid": "root@pam", "password": "x".repeat(65)}),
            json!({"password": "value may only be 64 characters long"}),
        ),
        (
            "POST",
            "/access/domains",
            json!({"realm": "ldap1", "type": "ldap", "domain": "a b"}),
            json!({"domain": "value does not match the regex pattern"}),
        ),
        (
            "PUT",
            "/cluster/replication/100-0",
            json!({"rate": "fast"}),
            json!({"rate": "type check ('number') failed - got 'fast'"}),
        ),
        (
            "PUT",
            "/cluster/replication/100-0",
            json!({"rate": "0.5"}),
            json!({"rate": "value must have a minimum value of 1"}),
        ),
        (
            "PUT",
            "/access/roles/Admin",
            json!({"append": 1}),
            json!({"privs": "missing property - 'append' requires this property"}),
        ),
        (
            "POST",
            "/cluster/bulk-action/guest/migrate",
            json!({"target": "pve2", "vms": ["100", "5"]}),
            json!({"vms[1]": "invalid format - value does not look like a valid VM ID\n"}),
        ),
    ];
    for (method, path, input, want) in table {
        let got = errors(method, path, input.clone());
        assert_eq!(&Value::Object(got), want, "{method} {path} {input}");
    }
}

#[test]
fn error_display_is_pvesh_like() {
    let s = bundled::load("9.2").unwrap();
    let err = s
        .validate_request(
            "POST",
            CREATE_VM,
            &params(json!({"vmid": "99", "cores": "0"})),
        )
        .unwrap_err();
    assert_eq!(err.status(), 400);
    assert_eq!(
        err.to_string(),
        "Parameter verification failed.\ncores: value must have a minimum value of 1\nvmid: invalid format - value does not look like a valid VM ID"
    );
}

#[test]
fn property_strings_round_trip_with_the_real_formats() {
    let s = bundled::load("9.2").unwrap();
    let (op, _) = s.operation("POST", CREATE_VM).unwrap();
    let Some(Format::PropertyString(net)) = &op.param("net3").unwrap().format else {
        panic!("net[n] is a property string");
    };
    let parsed = parse_property_string(
        net,
        "virtio=BC:24:11:AA:BB:CC,bridge=vmbr0,firewall=on,tag=10",
    )
    .unwrap();
    assert_eq!(parsed["model"], "virtio");
    assert_eq!(parsed["macaddr"], "BC:24:11:AA:BB:CC");
    assert_eq!(parsed["firewall"], "1");
    assert_eq!(
        render_property_string(net, &parsed),
        "virtio=BC:24:11:AA:BB:CC,bridge=vmbr0,firewall=1,tag=10"
    );
    let Some(Format::PropertyString(scsi)) = &op.param("scsi0").unwrap().format else {
        panic!("scsi[n] is a property string");
    };
    let parsed =
        parse_property_string(scsi, "local-lvm:vm-100-disk-0,size=32G,ssd=1,discard=on").unwrap();
    assert_eq!(parsed["file"], "local-lvm:vm-100-disk-0");
    assert_eq!(
        render_property_string(scsi, &parsed),
        "local-lvm:vm-100-disk-0,discard=on,size=32G,ssd=1"
    );
    assert!(op.param("scsi31").is_none());
    assert!(op.param("net31").is_some());
}
