//! What the differential test against fakepve (tests_py/test_differential.py) found, each
//! as PVE answers it: deleted API tokens stop working, storage entries as storage.cfg
//! holds them, firewall rules validated and placed as pve-firewall places them, pool
//! members as cluster resources, PVE's prefixes on refused cluster-config writes.

mod common;

use common::{fresh_mock, mock_req as req, task_outcome};
use proxmox_sdk::api::ApiError;
use serde_json::{json, Value};

fn err(r: Result<Value, ApiError>) -> (u16, String) {
    let e = r.unwrap_err();
    (e.status, e.message)
}

#[test]
fn a_deleted_token_no_longer_authenticates() {
    let m = fresh_mock("fidelity-token");
    req(
        &m,
        "POST",
        "/access/users",
        json!({"userid": "alice@pve", "password": "Alice-pass-42"}),
    )
    .unwrap();
    let t = req(
        &m,
        "POST",
        "/access/users/alice@pve/token/t1",
        json!({"privsep": 0}),
    )
    .unwrap();
    let secret = t["value"].as_str().unwrap().to_string();
    assert!(m.token_caller("alice@pve", "t1", &secret).is_ok());
    let refusal = |user: &str, secret: &str| {
        let e = m.token_caller(user, "t1", secret).unwrap_err();
        (e.status, e.message)
    };
    // PVE's verify_token, in its order: the user, the token, its expiry, the secret.
    assert_eq!(
        refusal("alice@pve", &"0".repeat(36)),
        (401, "invalid token value!".into())
    );
    req(
        &m,
        "PUT",
        "/access/users/alice@pve/token/t1",
        json!({"expire": 1}),
    )
    .unwrap();
    assert_eq!(refusal("alice@pve", &secret), (401, "token expired".into()));
    req(
        &m,
        "PUT",
        "/access/users/alice@pve/token/t1",
        json!({"expire": 0}),
    )
    .unwrap();
    req(&m, "PUT", "/access/users/alice@pve", json!({"enable": 0})).unwrap();
    assert_eq!(
        refusal("alice@pve", &secret),
        (401, "user 'alice@pve' is disabled".into())
    );
    req(&m, "PUT", "/access/users/alice@pve", json!({"enable": 1})).unwrap();
    assert!(m.token_caller("alice@pve", "t1", &secret).is_ok());
    req(&m, "DELETE", "/access/users/alice@pve/token/t1", json!({})).unwrap();
    assert_eq!(
        refusal("alice@pve", &secret),
        (401, "no such token 't1' for user 'alice@pve'".into())
    );
    req(&m, "DELETE", "/access/users/alice@pve", json!({})).unwrap();
    assert_eq!(
        refusal("alice@pve", &secret),
        (401, "no such user ('alice@pve')".into())
    );
}

#[test]
fn a_token_that_is_not_there_cannot_be_deleted() {
    let m = fresh_mock("fidelity-token-missing");
    req(&m, "POST", "/access/users", json!({"userid": "bob@pve"})).unwrap();
    assert_eq!(
        err(req(
            &m,
            "DELETE",
            "/access/users/bob@pve/token/none",
            json!({})
        )),
        (500, "no such token 'none' for user 'bob@pve'".into())
    );
}

#[test]
fn storage_entries_are_storage_cfg_entries() {
    let m = fresh_mock("fidelity-storage");
    req(
        &m,
        "POST",
        "/storage",
        json!({"storage": "d1", "type": "dir", "path": "/srv/d1", "content": "images,iso"}),
    )
    .unwrap();
    let one = req(&m, "GET", "/storage/d1", json!({})).unwrap();
    assert_eq!(one["storage"], "d1");
    assert_eq!(one["type"], "dir");
    assert_eq!(one["path"], "/srv/d1");
    assert_eq!(one["content"], "images,iso");
    let digest = one["digest"].as_str().unwrap().to_string();
    assert_eq!(digest.len(), 40);
    // Every entry carries the digest of the whole file; `type` filters.
    let all = req(&m, "GET", "/storage", json!({})).unwrap();
    let all = all.as_array().unwrap();
    assert!(all.len() >= 2, "{all:?}");
    assert!(all
        .iter()
        .all(|e| e["digest"] == digest.as_str() && e["type"].is_string()));
    let dirs = req(&m, "GET", "/storage", json!({"type": "dir"})).unwrap();
    assert!(dirs.as_array().unwrap().iter().all(|e| e["type"] == "dir"));
    assert!(dirs
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["storage"] == "d1"));
    // A stale digest, a missing storage: lock_storage_config's prefixes.
    assert_eq!(
        err(req(&m, "PUT", "/storage/d1", json!({"digest": "0".repeat(40), "shared": 0}))),
        (
            500,
            "update storage failed: detected modified configuration - file changed by other user? Try again."
                .into()
        )
    );
    req(
        &m,
        "PUT",
        "/storage/d1",
        json!({"digest": digest, "content": "images"}),
    )
    .unwrap();
    assert_eq!(
        err(req(
            &m,
            "PUT",
            "/storage/none",
            json!({"content": "images"})
        )),
        (
            500,
            "update storage failed: storage 'none' does not exist".into()
        )
    );
    assert_eq!(
        err(req(&m, "GET", "/storage/none", json!({}))),
        (500, "storage 'none' does not exist".into())
    );
    req(&m, "DELETE", "/storage/d1", json!({})).unwrap();
    assert_eq!(
        err(req(&m, "DELETE", "/storage/d1", json!({}))),
        (
            500,
            "delete storage failed: storage 'd1' does not exist".into()
        )
    );
}

#[test]
fn firewall_rules_are_placed_checked_and_numbered_as_pve_does() {
    let m = fresh_mock("fidelity-firewall");
    req(&m, "POST", "/nodes/pve1/qemu", json!({"vmid": 100})).unwrap();
    let rules = "/nodes/pve1/qemu/100/firewall/rules";
    req(
        &m,
        "POST",
        rules,
        json!({"type": "in", "action": "ACCEPT", "proto": "tcp", "dport": "22"}),
    )
    .unwrap();
    req(
        &m,
        "POST",
        rules,
        json!({"type": "in", "action": "DROP", "enable": 1}),
    )
    .unwrap();
    req(
        &m,
        "POST",
        rules,
        json!({"type": "out", "action": "REJECT", "pos": 1}),
    )
    .unwrap();
    let list = req(&m, "GET", rules, json!({})).unwrap();
    let actions: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    // New rules go on top; `pos` puts one where it says.
    assert_eq!(actions, ["DROP", "REJECT", "ACCEPT"]);
    let first = &list[0];
    assert_eq!(first["pos"], 0);
    assert_eq!(first["enable"], 1);
    assert_eq!(list[1]["enable"], 0, "enable defaults to 0");
    // Only the keys a rule has, and the list's digest on each.
    assert!(
        first.get("dport").is_none() && first.get("comment").is_none(),
        "{first}"
    );
    let digest = first["digest"].as_str().unwrap();
    assert!(list
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["digest"] == digest));
    assert_eq!(
        req(&m, "GET", &format!("{rules}/2"), json!({})).unwrap()["dport"],
        "22"
    );
    // verify_rule's refusals, by parameter.
    let bad = |params: Value| req(&m, "POST", rules, params).unwrap_err();
    let e = bad(json!({"type": "in", "action": "MAYBE"}));
    assert_eq!(
        (e.status, e.message.as_str()),
        (400, "Parameter verification failed.")
    );
    assert_eq!(json!(e.errors), json!({"action": "unknown action 'MAYBE'"}));
    let e = bad(json!({"type": "in", "action": "ACCEPT", "dport": "99999"}));
    assert_eq!(
        json!(e.errors),
        json!({"dport": "invalid format - invalid port '99999'\n"})
    );
    let e = bad(json!({"type": "group", "action": "nosuchgroup"}));
    assert_eq!(
        json!(e.errors),
        json!({"action": "security group 'nosuchgroup' does not exist"})
    );
    // moveto, update with a stale digest, positions past the end.
    req(&m, "PUT", &format!("{rules}/2"), json!({"moveto": 0})).unwrap();
    assert_eq!(
        req(&m, "GET", &format!("{rules}/0"), json!({})).unwrap()["action"],
        "ACCEPT"
    );
    assert_eq!(
        err(req(
            &m,
            "PUT",
            &format!("{rules}/0"),
            json!({"digest": "0".repeat(40), "comment": "x"})
        )),
        (
            500,
            "detected modified configuration - file changed by other user? Try again.".into()
        )
    );
    assert_eq!(
        err(req(&m, "GET", &format!("{rules}/5"), json!({}))),
        (500, "no rule at position 5".into())
    );
    assert_eq!(
        err(req(&m, "DELETE", &format!("{rules}/5"), json!({}))),
        (500, "no rule at position 5".into())
    );
    req(&m, "DELETE", &format!("{rules}/0"), json!({})).unwrap();
    assert_eq!(
        req(&m, "GET", rules, json!({}))
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // The rules go with their guest.
    req(&m, "DELETE", "/nodes/pve1/qemu/100", json!({})).unwrap();
    req(&m, "POST", "/nodes/pve1/qemu", json!({"vmid": 100})).unwrap();
    assert_eq!(req(&m, "GET", rules, json!({})).unwrap(), json!([]));
}

#[test]
fn a_template_does_not_start_and_digests_read_as_each_guest_type_says() {
    let m = fresh_mock("fidelity-template");
    req(&m, "POST", "/nodes/pve1/qemu", json!({"vmid": 100})).unwrap();
    req(&m, "POST", "/nodes/pve1/qemu/100/template", json!({})).unwrap();
    let upid = req(&m, "POST", "/nodes/pve1/qemu/100/status/start", json!({})).unwrap();
    assert_eq!(
        task_outcome(&m, &upid),
        "you can't start a vm if it's a template"
    );
    let status = req(&m, "GET", "/nodes/pve1/qemu/100/status/current", json!({})).unwrap();
    assert_eq!(status["status"], "stopped");
    req(&m, "POST", "/nodes/pve1/qemu", json!({"vmid": 101})).unwrap();
    assert_eq!(
        err(req(
            &m,
            "PUT",
            "/nodes/pve1/qemu/101/config",
            json!({"digest": "0".repeat(40), "cores": 2})
        )),
        (500, "checksum mismatch (file change by other user?)".into())
    );
    // The list shows PVE 9's counters of a stopped guest.
    let list = req(&m, "GET", "/nodes/pve1/qemu", json!({})).unwrap();
    assert_eq!(list[0]["disk"], 0);
    assert_eq!(list[0]["memhost"], 0);
    let resources = req(&m, "GET", "/cluster/resources", json!({"type": "vm"})).unwrap();
    assert_eq!(resources[0]["memhost"], 0);
}

#[test]
fn pool_members_read_with_their_guests_counters() {
    let m = fresh_mock("fidelity-pool-members");
    req(
        &m,
        "POST",
        "/nodes/pve1/qemu",
        json!({"vmid": 100, "name": "web", "memory": 1024}),
    )
    .unwrap();
    req(&m, "POST", "/pools", json!({"poolid": "p"})).unwrap();
    req(&m, "PUT", "/pools/p", json!({"vms": "100"})).unwrap();
    let member = &req(&m, "GET", "/pools/p", json!({})).unwrap()["members"][0];
    assert_eq!(member["name"], "web");
    assert_eq!(member["status"], "stopped");
    assert_eq!(member["maxmem"], 1024u64 * 1024 * 1024);
    assert_eq!(member["id"], "qemu/100");
    assert_eq!(member["uptime"], 0);
}

#[test]
fn access_ids_are_refused_in_pves_words() {
    let m = fresh_mock("fidelity-ids");
    let e = req(&m, "POST", "/pools", json!({"poolid": "bad name"})).unwrap_err();
    assert_eq!(
        json!(e.errors),
        json!({"poolid": "invalid format - pool name 'bad name' contains invalid characters\n"})
    );
    let e = req(&m, "POST", "/pools", json!({"poolid": "a/b/c/d"})).unwrap_err();
    assert_eq!(
        json!(e.errors),
        json!({"poolid": "invalid format - pool name 'a/b/c/d' nested too deeply (max levels = 3)\n"})
    );
    let e = req(&m, "POST", "/access/roles", json!({"roleid": "bad role"})).unwrap_err();
    assert_eq!(
        json!(e.errors),
        json!({"roleid": "invalid format - role name 'bad role' contains invalid characters\n"})
    );
}

#[test]
fn nextid_is_text_as_pve_sends_it_and_a_number_for_the_original_mocks_code() {
    let strict = fresh_mock("fidelity-nextid");
    assert_eq!(
        req(&strict, "GET", "/cluster/nextid", json!({})).unwrap(),
        json!("100")
    );
    proxmox_sdk::mock::store::forget_store("9.2", "fidelity-nextid-lenient");
    let lenient =
        proxmox_sdk::mock::MockPve::shared("latest", "fidelity-nextid-lenient", None, true)
            .unwrap();
    assert_eq!(
        req(&lenient, "GET", "/cluster/nextid", json!({})).unwrap(),
        json!(100)
    );
    // Lenient mode never refuses a rule position, a token, a storage, an alias or an IP set
    // that is not there; strict mode does.
    assert!(req(&lenient, "GET", "/cluster/firewall/rules/7", json!({})).is_ok());
    let storage = req(&lenient, "GET", "/storage/nostore", json!({})).unwrap();
    assert!(storage.is_object(), "{storage}");
    assert!(req(&strict, "GET", "/storage/nostore", json!({})).is_err());
    assert!(req(&lenient, "GET", "/cluster/firewall/aliases/nope", json!({})).is_ok());
    assert!(req(&lenient, "GET", "/cluster/firewall/ipset/nope", json!({})).is_ok());
    assert!(req(
        &lenient,
        "DELETE",
        "/access/users/root@pam/token/none",
        json!({})
    )
    .is_ok());
}

#[test]
fn a_raw_image_on_a_directory_storage_cannot_be_snapshotted() {
    let m = fresh_mock("fidelity-raw-snapshot");
    req(
        &m,
        "POST",
        "/storage",
        json!({"storage": "dimg", "type": "dir", "path": "/srv/dimg", "content": "images"}),
    )
    .unwrap();
    req(
        &m,
        "POST",
        "/nodes/pve1/qemu",
        json!({"vmid": 100, "scsi0": "dimg:1"}),
    )
    .unwrap();
    req(
        &m,
        "POST",
        "/nodes/pve1/qemu",
        json!({"vmid": 101, "scsi0": "dimg:1,format=qcow2"}),
    )
    .unwrap();
    req(
        &m,
        "POST",
        "/nodes/pve1/qemu",
        json!({"vmid": 102, "scsi0": "local-lvm:1"}),
    )
    .unwrap();
    let config = req(&m, "GET", "/nodes/pve1/qemu/100/config", json!({})).unwrap();
    assert_eq!(config["scsi0"], "dimg:100/vm-100-disk-0.raw,size=1G");
    let snap = |vmid: u32| {
        let upid = req(
            &m,
            "POST",
            &format!("/nodes/pve1/qemu/{vmid}/snapshot"),
            json!({"snapname": "snap1"}),
        )
        .unwrap();
        task_outcome(&m, &upid)
    };
    assert_eq!(snap(100), "snapshot feature is not available");
    assert_eq!(snap(101), "OK");
    assert_eq!(snap(102), "OK");
}

#[test]
fn status_shows_spice_only_for_a_qxl_display() {
    let m = fresh_mock("fidelity-spice");
    for (vmid, vga) in [
        (100, "qxl"),
        (101, "type=qxl2,memory=32"),
        (102, "std,clipboard=vnc"),
    ] {
        req(
            &m,
            "POST",
            "/nodes/pve1/qemu",
            json!({"vmid": vmid, "vga": vga}),
        )
        .unwrap();
    }
    let status = |vmid: u32| {
        req(
            &m,
            "GET",
            &format!("/nodes/pve1/qemu/{vmid}/status/current"),
            json!({}),
        )
        .unwrap()
    };
    assert_eq!(status(100)["spice"], 1);
    assert_eq!(status(101)["spice"], 1);
    let vnc = status(102);
    assert!(vnc.get("spice").is_none(), "{vnc}");
    assert_eq!(vnc["clipboard"], "vnc");
}

#[test]
fn storages_take_what_their_type_takes() {
    let m = fresh_mock("fidelity-storage-types");
    let post = |p: Value| err(req(&m, "POST", "/storage", p));
    assert_eq!(
        post(json!({"storage": "d1", "type": "dir"})),
        (500, "missing value for required option 'path'".into())
    );
    assert_eq!(
        post(
            json!({"storage": "t1", "type": "lvmthin", "vgname": "pve", "thinpool": "data", "path": "/x"})
        ),
        (500, "unexpected property 'path'".into())
    );
    let e = req(
        &m,
        "POST",
        "/storage",
        json!({"storage": "r1", "type": "dir", "path": "x"}),
    )
    .unwrap_err();
    assert_eq!(
        e.errors.unwrap()["path"],
        "invalid format - value does not look like a valid absolute path\n"
    );
    // Fixed options are not in the update's schema at all.
    let e = req(&m, "PUT", "/storage/local-lvm", json!({"vgname": "other"})).unwrap_err();
    assert_eq!(
        e.errors.unwrap()["vgname"],
        "property is not defined in schema and the schema does not allow additional properties"
    );
    assert_eq!(
        err(req(
            &m,
            "PUT",
            "/storage/local-lvm",
            json!({"delete": "thinpool"})
        )),
        (
            500,
            "update storage failed: unable to delete required option 'thinpool'".into()
        )
    );
    // Defaults of the type; secrets stay out of storage.cfg.
    req(
        &m,
        "POST",
        "/storage",
        json!({"storage": "n1", "type": "nfs", "server": "10.0.0.9", "export": "/e"}),
    )
    .unwrap();
    let n1 = req(&m, "GET", "/storage/n1", json!({})).unwrap();
    assert_eq!(
        (n1["path"].clone(), n1["content"].clone()),
        (json!("/mnt/pve/n1"), json!("images"))
    );
    req(
        &m,
        "POST",
        "/storage",
        json!({"storage": "b1", "type": "pbs", "server": "pbs.example", "datastore": "ds",
               "username": "u@pbs", "password": "hunter2-secret"}),
    )
    .unwrap();
    let b1 = req(&m, "GET", "/storage/b1", json!({})).unwrap();
    assert_eq!(b1["content"], "backup");
    assert!(b1.get("password").is_none(), "{b1}");
    req(
        &m,
        "PUT",
        "/storage/b1",
        json!({"password": "other-secret"}),
    )
    .unwrap();
    let all = req(&m, "GET", "/storage", json!({})).unwrap().to_string();
    assert!(!all.contains("secret"), "{all}");
}

#[test]
fn firewall_aliases_ipsets_and_options_as_pve_firewall_keeps_them() {
    let m = fresh_mock("fidelity-fw-sets");
    let aliases = "/cluster/firewall/aliases";
    req(
        &m,
        "POST",
        aliases,
        json!({"name": "Web", "cidr": "10.0.0.0/24"}),
    )
    .unwrap();
    // Names are case-insensitive.
    let e = req(
        &m,
        "POST",
        aliases,
        json!({"name": "web", "cidr": "10.0.1.0/24"}),
    )
    .unwrap_err();
    assert_eq!(e.errors.unwrap()["name"], "alias 'web' already exists");
    let web = req(&m, "GET", &format!("{aliases}/WEB"), json!({})).unwrap();
    assert_eq!(
        web,
        json!({"name": "Web", "cidr": "10.0.0.0/24", "ipversion": 4})
    );
    let e = req(&m, "GET", &format!("{aliases}/nope"), json!({})).unwrap_err();
    assert_eq!(e.errors.unwrap()["name"], "no such alias");
    let list = req(&m, "GET", aliases, json!({})).unwrap();
    let digest = list[0]["digest"].as_str().unwrap().to_string();
    assert_eq!(
        err(req(
            &m,
            "PUT",
            &format!("{aliases}/web"),
            json!({"cidr": "10.0.2.0/24", "digest": "0".repeat(40)})
        )),
        (
            500,
            "detected modified configuration - file changed by other user? Try again.".into()
        )
    );
    req(
        &m,
        "PUT",
        &format!("{aliases}/web"),
        json!({"cidr": "fd00::/64", "rename": "www", "digest": digest}),
    )
    .unwrap();
    let www = req(&m, "GET", &format!("{aliases}/www"), json!({})).unwrap();
    assert_eq!(
        (www["name"].clone(), www["ipversion"].clone()),
        (json!("www"), json!(6))
    );

    let sets = "/cluster/firewall/ipset";
    req(&m, "POST", sets, json!({"name": "office"})).unwrap();
    let e = req(&m, "POST", sets, json!({"name": "office"})).unwrap_err();
    assert_eq!(e.errors.unwrap()["name"], "IPSet 'office' already exists");
    let set = format!("{sets}/office");
    req(&m, "POST", &set, json!({"cidr": "192.168.1.77/24"})).unwrap();
    req(
        &m,
        "POST",
        &set,
        json!({"cidr": "192.168.2.7/32", "comment": "host"}),
    )
    .unwrap();
    req(&m, "POST", &set, json!({"cidr": "www"})).unwrap();
    let e = req(&m, "POST", &set, json!({"cidr": "192.168.1.0/24"})).unwrap_err();
    assert_eq!(
        e.errors.unwrap()["cidr"],
        "address '192.168.1.0/24' already exists"
    );
    let e = req(&m, "POST", &set, json!({"cidr": "0.0.0.0/0"})).unwrap_err();
    assert_eq!(
        e.errors.unwrap()["cidr"],
        "a zero prefix is not allowed in ipset entries"
    );
    assert_eq!(
        err(req(&m, "POST", &set, json!({"cidr": "nope"}))),
        (500, "no such alias 'nope'".into())
    );
    // Newest first, cleaned, each with the set's digest.
    let entries = req(&m, "GET", &set, json!({})).unwrap();
    let cidrs: Vec<&str> = entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["cidr"].as_str().unwrap())
        .collect();
    assert_eq!(cidrs, ["www", "192.168.2.7", "192.168.1.0/24"]);
    assert_eq!(entries[1]["comment"], "host");
    assert!(entries[0]["digest"].is_string());
    assert_eq!(
        err(req(&m, "DELETE", &set, json!({}))),
        (500, "IPSet 'office' is not empty".into())
    );
    req(
        &m,
        "PUT",
        &format!("{set}/192.168.2.7"),
        json!({"nomatch": 1}),
    )
    .unwrap();
    assert_eq!(
        req(&m, "GET", &format!("{set}/192.168.2.7"), json!({})).unwrap()["nomatch"],
        1
    );
    let e = req(&m, "GET", &format!("{set}/10.9.9.9"), json!({})).unwrap_err();
    assert_eq!(e.errors.unwrap()["cidr"], "no such IP/Network");
    req(&m, "DELETE", &set, json!({"force": 1})).unwrap();
    assert_eq!(
        err(req(&m, "GET", &set, json!({}))),
        (500, "no such IPSet 'office'".into())
    );

    // Options read back what was set, with their digest; unknown ones cannot be deleted.
    let opts = "/cluster/firewall/options";
    let fresh = req(&m, "GET", opts, json!({})).unwrap();
    assert_eq!(
        fresh.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["digest"]
    );
    req(&m, "PUT", opts, json!({"enable": 1, "policy_in": "DROP"})).unwrap();
    let set_opts = req(&m, "GET", opts, json!({})).unwrap();
    assert_eq!(
        (set_opts["enable"].clone(), set_opts["policy_in"].clone()),
        (json!(1), json!("DROP"))
    );
    let e = req(&m, "PUT", opts, json!({"delete": "nosuch"})).unwrap_err();
    assert_eq!(e.errors.unwrap()["delete"], "no such option 'nosuch'");
    req(&m, "PUT", opts, json!({"delete": "policy_in"})).unwrap();
    assert!(req(&m, "GET", opts, json!({}))
        .unwrap()
        .get("policy_in")
        .is_none());

    // A guest's aliases and sets are its own and go with it; its sets may name the
    // cluster's aliases.
    req(&m, "POST", "/nodes/pve1/qemu", json!({"vmid": 100})).unwrap();
    let guest = "/nodes/pve1/qemu/100/firewall";
    req(
        &m,
        "POST",
        &format!("{guest}/ipset"),
        json!({"name": "own"}),
    )
    .unwrap();
    req(
        &m,
        "POST",
        &format!("{guest}/ipset/own"),
        json!({"cidr": "dc/www"}),
    )
    .unwrap();
    assert_eq!(
        err(req(
            &m,
            "POST",
            &format!("{guest}/ipset/own"),
            json!({"cidr": "guest/www"})
        )),
        (500, "no such alias 'www'".into())
    );
    req(&m, "DELETE", "/nodes/pve1/qemu/100", json!({})).unwrap();
    req(&m, "POST", "/nodes/pve1/qemu", json!({"vmid": 100})).unwrap();
    let again = req(&m, "GET", &format!("{guest}/ipset"), json!({})).unwrap();
    assert_eq!(again, json!([]));
}

#[test]
fn a_node_has_its_network_and_services() {
    let m = fresh_mock("fidelity-node-config");
    let net = "/nodes/pve1/network";
    let all = req(&m, "GET", net, json!({})).unwrap();
    let ifaces: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["iface"].as_str().unwrap())
        .collect();
    assert_eq!(ifaces, ["eno1", "vmbr0"]);
    let bridges = req(&m, "GET", net, json!({"type": "bridge"})).unwrap();
    assert_eq!(bridges.as_array().unwrap().len(), 1);
    assert_eq!(bridges[0]["bridge_ports"], "eno1");
    assert_eq!(bridges[0]["cidr"], "192.0.2.10/24");
    assert!(bridges[0].get("bond_mode").is_none(), "{bridges}");
    // Create, read, change and remove an interface with PVE's checks.
    req(
        &m,
        "POST",
        net,
        json!({"iface": "vmbr1", "type": "bridge", "cidr": "10.10.0.1/24", "autostart": 1}),
    )
    .unwrap();
    let e = req(&m, "POST", net, json!({"iface": "vmbr1", "type": "bridge"})).unwrap_err();
    assert_eq!(e.errors.unwrap()["iface"], "interface already exists");
    let vmbr1 = req(&m, "GET", &format!("{net}/vmbr1"), json!({})).unwrap();
    assert_eq!(
        (
            vmbr1["address"].clone(),
            vmbr1["netmask"].clone(),
            vmbr1["method"].clone()
        ),
        (json!("10.10.0.1"), json!("24"), json!("static"))
    );
    req(
        &m,
        "PUT",
        &format!("{net}/vmbr1"),
        json!({"type": "bridge", "delete": "cidr,address,netmask", "comments": "lab"}),
    )
    .unwrap();
    let vmbr1 = req(&m, "GET", &format!("{net}/vmbr1"), json!({})).unwrap();
    assert_eq!(vmbr1["method"], "manual");
    assert!(vmbr1.get("address").is_none(), "{vmbr1}");
    req(&m, "DELETE", &format!("{net}/vmbr1"), json!({})).unwrap();
    assert_eq!(
        err(req(&m, "GET", &format!("{net}/vmbr1"), json!({}))),
        (500, "network interface 'vmbr1' does not exist".into())
    );
    // Services: pve-manager's list, and a stop that sticks.
    let services = req(&m, "GET", "/nodes/pve1/services", json!({})).unwrap();
    let proxy = services
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["service"] == "pveproxy")
        .cloned()
        .unwrap();
    assert_eq!(
        (proxy["state"].clone(), proxy["active-state"].clone()),
        (json!("running"), json!("active"))
    );
    let upid = req(&m, "POST", "/nodes/pve1/services/pveproxy/stop", json!({})).unwrap();
    assert!(
        upid.as_str().unwrap().contains(":srvstop:pveproxy:"),
        "{upid}"
    );
    assert_eq!(task_outcome(&m, &upid), "OK");
    let state = req(&m, "GET", "/nodes/pve1/services/pveproxy/state", json!({})).unwrap();
    assert_eq!(state["state"], "dead");
}

#[test]
fn storage_usage_volumes_and_node_status_agree_with_each_other() {
    let m = fresh_mock("fidelity-storage-usage");
    let status = |m: &proxmox_sdk::mock::MockPve| {
        req(m, "GET", "/nodes/pve1/storage/local-lvm/status", json!({})).unwrap()
    };
    let before = status(&m);
    assert_eq!(
        (before["type"].clone(), before["content"].clone()),
        (json!("lvmthin"), json!("images,rootdir"))
    );
    assert_eq!(before["used"], 0);
    req(
        &m,
        "POST",
        "/nodes/pve1/qemu",
        json!({"vmid": 100, "scsi0": "local-lvm:4", "memory": 4096}),
    )
    .unwrap();
    let after = status(&m);
    assert_eq!(after["used"], 4u64 << 30);
    assert_eq!(
        after["avail"].as_u64().unwrap() + after["used"].as_u64().unwrap(),
        after["total"].as_u64().unwrap()
    );
    let list = req(&m, "GET", "/nodes/pve1/storage", json!({})).unwrap();
    let lvm = list
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["storage"] == "local-lvm")
        .cloned()
        .unwrap();
    assert_eq!(lvm["used"], after["used"]);
    let fraction = lvm["used_fraction"].as_f64().unwrap();
    assert!((fraction - 4.0 / 100.0).abs() < 1e-9, "{fraction}");
    let e = req(&m, "GET", "/nodes/pve1/storage/nostore/status", json!({})).unwrap_err();
    assert_eq!(e.errors.unwrap()["storage"], "No such storage.");
    // A volume's details, and its removal.
    let vol = "/nodes/pve1/storage/local-lvm/content/local-lvm:vm-100-disk-0";
    let info = req(&m, "GET", vol, json!({})).unwrap();
    assert_eq!(
        info,
        json!({"path": "/dev/pve/vm-100-disk-0", "size": 4u64 << 30, "used": 4u64 << 30, "format": "raw"})
    );
    assert_eq!(
        err(req(
            &m,
            "GET",
            "/nodes/pve1/storage/local-lvm/content/local-lvm:vm-9-disk-0",
            json!({})
        )),
        (
            500,
            "volume_size_info on 'local-lvm:vm-9-disk-0' failed".into()
        )
    );
    let upid = req(&m, "DELETE", vol, json!({})).unwrap();
    assert_eq!(common::task_outcome(&m, &upid), "OK");
    assert_eq!(status(&m)["used"], 0);
    // The node's status: PVE's versions and the memory its running guests take.
    let node =
        |m: &proxmox_sdk::mock::MockPve| req(m, "GET", "/nodes/pve1/status", json!({})).unwrap();
    let idle = node(&m);
    assert_eq!(idle["pveversion"], "pve-manager/9.2.0/0123abcd");
    assert_eq!(idle["current-kernel"]["sysname"], "Linux");
    assert_eq!(idle["loadavg"].as_array().unwrap().len(), 3);
    let upid = req(&m, "POST", "/nodes/pve1/qemu/100/status/start", json!({})).unwrap();
    assert_eq!(common::task_outcome(&m, &upid), "OK");
    let busy = node(&m);
    assert_eq!(
        busy["memory"]["used"].as_u64().unwrap() - idle["memory"]["used"].as_u64().unwrap(),
        4096u64 << 20
    );
}
