//! PVE's refusals and bounds the mock keeps, each with PVE's wording: protected guests,
//! taken ids for `/cluster/nextid`, unknown task ids, the task index (PVE's `start`,
//! `limit` = 50, filters, `source=archive`, a bounded number of finished tasks per node),
//! `/cluster/status` per node with the quorum, and the indexed families' maxima.

mod common;

use common::{enc, fresh_mock, mock_req as req, task_outcome};
use proxmox_sdk::api::ApiError;
use serde_json::{json, Value};

fn err(r: Result<Value, ApiError>) -> (u16, String, Value) {
    let e = r.unwrap_err();
    (e.status, e.message, json!(e.errors))
}

#[test]
fn a_protected_guest_cannot_be_destroyed() {
    let m = fresh_mock("refuse-protection");
    req(
        &m,
        "POST",
        "/nodes/pve1/qemu",
        json!({"vmid": 100, "protection": 1}),
    )
    .unwrap();
    let (status, message, _) = err(req(&m, "DELETE", "/nodes/pve1/qemu/100", json!({})));
    assert_eq!(
        (status, message.as_str()),
        (500, "can't remove VM 100 - protection mode enabled")
    );
    // Still there; once unprotected it goes.
    assert!(req(&m, "GET", "/nodes/pve1/qemu/100/config", json!({})).is_ok());
    req(
        &m,
        "PUT",
        "/nodes/pve1/qemu/100/config",
        json!({"delete": "protection"}),
    )
    .unwrap();
    req(&m, "DELETE", "/nodes/pve1/qemu/100", json!({})).unwrap();
    assert!(req(&m, "GET", "/nodes/pve1/qemu/100/config", json!({})).is_err());
}

#[test]
fn nextid_refuses_a_taken_id() {
    let m = fresh_mock("refuse-nextid");
    req(&m, "POST", "/nodes/pve1/qemu", json!({"vmid": 100})).unwrap();
    let (status, message, errors) = err(req(&m, "GET", "/cluster/nextid", json!({"vmid": 100})));
    assert_eq!(
        (status, message.as_str()),
        (400, "Parameter verification failed.")
    );
    assert_eq!(errors, json!({"vmid": "VM 100 already exists"}));
    assert_eq!(
        req(&m, "GET", "/cluster/nextid", json!({"vmid": 105})).unwrap(),
        json!("105")
    );
    assert_eq!(
        req(&m, "GET", "/cluster/nextid", json!({})).unwrap(),
        json!("101")
    );
}

#[test]
fn unknown_task_ids_are_refused() {
    let m = fresh_mock("refuse-upid");
    let never = "UPID:pve1:00ABCDEF:00ABCDEF:69279F80:qmstart:100:root@pam:";
    for (method, tail, missing) in [
        ("GET", "/status", "no such task"),
        (
            "GET",
            "/log",
            "no such task - unable to open file - No such file or directory",
        ),
        ("DELETE", "", "no such task"),
    ] {
        let (status, _, errors) = err(req(
            &m,
            method,
            &format!("/nodes/pve1/tasks/{}{tail}", enc(never)),
            json!({}),
        ));
        assert_eq!(
            (status, errors),
            (400, json!({"upid": missing})),
            "{method} {tail}"
        );
        let (status, _, errors) = err(req(
            &m,
            method,
            &format!("/nodes/pve1/tasks/bogus{tail}"),
            json!({}),
        ));
        assert_eq!(
            (status, errors),
            (400, json!({"upid": "unable to parse worker upid"})),
            "{method} {tail}"
        );
    }
    // A task the mock started is known.
    let upid = req(&m, "POST", "/nodes/pve1/qemu", json!({"vmid": 100})).unwrap();
    let path = format!("/nodes/pve1/tasks/{}/status", enc(upid.as_str().unwrap()));
    assert_eq!(
        req(&m, "GET", &path, json!({})).unwrap()["exitstatus"],
        "OK"
    );
}

#[test]
fn task_lists_page_filter_and_stay_bounded() {
    let m = fresh_mock("tasks-index");
    req(&m, "POST", "/nodes/pve1/qemu", json!({"vmid": 100})).unwrap();
    for _ in 0..30 {
        req(&m, "POST", "/nodes/pve1/qemu/100/status/start", json!({})).unwrap();
        req(&m, "POST", "/nodes/pve1/qemu/100/status/stop", json!({})).unwrap();
    }
    // 61 tasks: 50 by default, newest first; start and limit page through them.
    let all = req(&m, "GET", "/nodes/pve1/tasks", json!({})).unwrap();
    let all = all.as_array().unwrap();
    assert_eq!(all.len(), 50);
    assert_eq!(all[0]["type"], "qmstop");
    let page = req(
        &m,
        "GET",
        "/nodes/pve1/tasks",
        json!({"start": 55, "limit": 10}),
    )
    .unwrap();
    assert_eq!(page.as_array().unwrap().len(), 6);
    assert_eq!(page[5]["type"], "qmcreate");
    let few = req(&m, "GET", "/nodes/pve1/tasks", json!({"limit": 3})).unwrap();
    assert_eq!(few.as_array().unwrap().len(), 3);
    // Filters: type, vmid, user, errors (a failed start: VM already running).
    let starts = req(
        &m,
        "GET",
        "/nodes/pve1/tasks",
        json!({"typefilter": "qmstart", "limit": 100}),
    )
    .unwrap();
    assert_eq!(starts.as_array().unwrap().len(), 30);
    let none = req(&m, "GET", "/nodes/pve1/tasks", json!({"vmid": 999})).unwrap();
    assert_eq!(none, json!([]));
    let root = req(
        &m,
        "GET",
        "/nodes/pve1/tasks",
        json!({"userfilter": "ROOT", "limit": 100}),
    )
    .unwrap();
    assert_eq!(root.as_array().unwrap().len(), 61);
    req(&m, "POST", "/nodes/pve1/qemu/100/status/start", json!({})).unwrap();
    req(&m, "POST", "/nodes/pve1/qemu/100/status/start", json!({})).unwrap();
    let failed = req(&m, "GET", "/nodes/pve1/tasks", json!({"errors": 1})).unwrap();
    assert_eq!(failed.as_array().unwrap().len(), 1);
    assert_eq!(failed[0]["status"], "VM 100 already running");
    let errors = req(
        &m,
        "GET",
        "/nodes/pve1/tasks",
        json!({"statusfilter": "error"}),
    )
    .unwrap();
    assert_eq!(errors, failed);
    // Running tasks are `source=active` (PVE's default lists the finished ones).
    m.store().set_time_scale(1.0);
    let running = req(&m, "POST", "/nodes/pve1/qemu/100/status/stop", json!({})).unwrap();
    let archive = req(&m, "GET", "/nodes/pve1/tasks", json!({"limit": 1})).unwrap();
    assert_ne!(archive[0]["upid"], running);
    let active = req(&m, "GET", "/nodes/pve1/tasks", json!({"source": "active"})).unwrap();
    assert_eq!(active.as_array().unwrap().len(), 1);
    assert_eq!(active[0]["upid"], running);
    m.store().set_time_scale(0.0);
    // The index keeps a bounded number of finished tasks per node.
    for _ in 0..600 {
        req(&m, "POST", "/nodes/pve1/qemu/100/status/stop", json!({})).unwrap();
        req(&m, "POST", "/nodes/pve1/qemu/100/status/start", json!({})).unwrap();
    }
    m.store().advance_clock(3600);
    let kept = req(&m, "GET", "/nodes/pve1/tasks", json!({"limit": 100_000})).unwrap();
    let kept = kept.as_array().unwrap().len();
    let bound = proxmox_sdk::mock::tasks::TASK_INDEX_PER_NODE;
    assert!(kept <= bound + 64 && kept >= bound, "{kept}");
}

#[test]
fn cluster_status_lists_each_node_and_the_quorum() {
    let m = fresh_mock("cluster-status");
    // One node: it stands alone.
    let alone = req(&m, "GET", "/cluster/status", json!({})).unwrap();
    assert_eq!(alone.as_array().unwrap().len(), 1);
    assert_eq!(
        (
            alone[0]["type"].as_str(),
            alone[0]["name"].as_str(),
            alone[0]["nodeid"].as_u64()
        ),
        (Some("node"), Some("pve1"), Some(0))
    );
    m.add_node("pve2");
    m.add_node("pve3");
    m.store().set_node_offline("pve3", true);
    let st = req(&m, "GET", "/cluster/status", json!({})).unwrap();
    let rows = st.as_array().unwrap();
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[0]["type"], "cluster");
    assert_eq!(
        (rows[0]["nodes"].as_u64(), rows[0]["quorate"].as_u64()),
        (Some(3), Some(1))
    );
    let online: Vec<u64> = rows[1..]
        .iter()
        .map(|r| r["online"].as_u64().unwrap())
        .collect();
    assert_eq!(online, [1, 1, 0]);
    assert_eq!(rows[1]["local"], 1);
    assert_eq!(rows[2]["local"], 0);
    m.store().set_node_offline("pve2", true);
    let st = req(&m, "GET", "/cluster/status", json!({})).unwrap();
    assert_eq!(st[0]["quorate"], 0, "one of three online: no quorum");
    // The answer matches the operation's `returns`.
    let (op, _) = m.schema().operation("GET", "/cluster/status").unwrap();
    assert_eq!(op.check_response(&st), vec![]);
}

#[test]
fn indexed_families_stop_where_pves_do() {
    let m = fresh_mock("families");
    req(
        &m,
        "POST",
        "/nodes/pve1/qemu",
        json!({"vmid": 100, "net31": "virtio"}),
    )
    .unwrap();
    for name in ["net32", "net1000"] {
        let (status, _, errors) = err(req(
            &m,
            "PUT",
            "/nodes/pve1/qemu/100/config",
            json!({ name: "virtio" }),
        ));
        assert_eq!(status, 400);
        assert!(errors[name]
            .as_str()
            .unwrap()
            .contains("property is not defined in schema"));
    }
}

#[test]
fn snapshots_list_roll_back_and_delete_as_pve() {
    let m = fresh_mock("snapshots");
    req(
        &m,
        "POST",
        "/nodes/pve1/qemu",
        json!({"vmid": 100, "memory": 1024}),
    )
    .unwrap();
    let snap = |name: &str, description: &str| {
        let upid = req(
            &m,
            "POST",
            "/nodes/pve1/qemu/100/snapshot",
            json!({"snapname": name, "description": description}),
        )
        .unwrap();
        task_outcome(&m, &upid)
    };
    assert_eq!(snap("first", "before the upgrade"), "OK");
    req(
        &m,
        "PUT",
        "/nodes/pve1/qemu/100/config",
        json!({"memory": 2048}),
    )
    .unwrap();
    assert_eq!(snap("second", ""), "OK");
    assert_eq!(snap("second", ""), "snapshot name 'second' already used");
    for reserved in ["current", "pending", "PENDING"] {
        let (status, message, _) = err(req(
            &m,
            "POST",
            "/nodes/pve1/qemu/100/snapshot",
            json!({ "snapname": reserved }),
        ));
        assert_eq!(status, 500);
        assert!(message.ends_with("(reserved name)"), "{message}");
    }
    let list = req(&m, "GET", "/nodes/pve1/qemu/100/snapshot", json!({})).unwrap();
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["first", "second", "current"]);
    assert_eq!(list[0]["description"], "before the upgrade");
    assert!(list[0].get("parent").is_none() && list[1]["parent"] == "first");
    assert_eq!(list[2]["parent"], "second");
    let (op, _) = m
        .schema()
        .operation("GET", "/nodes/pve1/qemu/100/snapshot")
        .unwrap();
    assert_eq!(op.check_response(&list), vec![]);
    let held = req(
        &m,
        "GET",
        "/nodes/pve1/qemu/100/snapshot/first/config",
        json!({}),
    )
    .unwrap();
    assert_eq!(held["memory"], "1024");
    // Rollback restores the snapshot's config and stands on it.
    req(&m, "POST", "/nodes/pve1/qemu/100/status/start", json!({})).unwrap();
    let upid = req(
        &m,
        "POST",
        "/nodes/pve1/qemu/100/snapshot/first/rollback",
        json!({}),
    )
    .unwrap();
    assert_eq!(task_outcome(&m, &upid), "OK");
    let config = req(&m, "GET", "/nodes/pve1/qemu/100/config", json!({})).unwrap();
    assert_eq!(
        (config["memory"].as_str(), config["parent"].as_str()),
        (Some("1024"), Some("first"))
    );
    let status = req(&m, "GET", "/nodes/pve1/qemu/100/status/current", json!({})).unwrap();
    assert_eq!(status["status"], "stopped");
    // Deleting `first` re-parents `second`; unknown snapshots are PVE's errors.
    let upid = req(
        &m,
        "DELETE",
        "/nodes/pve1/qemu/100/snapshot/first",
        json!({}),
    )
    .unwrap();
    assert_eq!(task_outcome(&m, &upid), "OK");
    let list = req(&m, "GET", "/nodes/pve1/qemu/100/snapshot", json!({})).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert!(list[0].get("parent").is_none(), "{list}");
    let upid = req(
        &m,
        "DELETE",
        "/nodes/pve1/qemu/100/snapshot/nope",
        json!({}),
    )
    .unwrap();
    assert_eq!(task_outcome(&m, &upid), "snapshot 'nope' does not exist");
    let (status, message, _) = err(req(
        &m,
        "GET",
        "/nodes/pve1/qemu/100/snapshot/nope/config",
        json!({}),
    ));
    assert_eq!(
        (status, message.as_str()),
        (500, "snapshot 'nope' does not exist")
    );
    // A template takes no snapshot (and a guest with snapshots becomes no template).
    req(
        &m,
        "DELETE",
        "/nodes/pve1/qemu/100/snapshot/second",
        json!({}),
    )
    .unwrap();
    req(&m, "POST", "/nodes/pve1/qemu/100/template", json!({})).unwrap();
    assert_eq!(
        snap("third", ""),
        "you can't take a snapshot if it's a template"
    );
}

#[test]
fn templates_are_refused_at_once_as_pve_refuses_them() {
    let m = fresh_mock("template-refusals");
    req(&m, "POST", "/nodes/pve1/qemu", json!({"vmid": 100})).unwrap();
    let refused = |path: &str| err(req(&m, "POST", path, json!({}))).1;
    req(&m, "POST", "/nodes/pve1/qemu/100/status/start", json!({})).unwrap();
    assert_eq!(
        refused("/nodes/pve1/qemu/100/template"),
        "you can't convert a VM to template if VM is running"
    );
    req(&m, "POST", "/nodes/pve1/qemu/100/status/stop", json!({})).unwrap();
    req(
        &m,
        "POST",
        "/nodes/pve1/qemu/100/snapshot",
        json!({"snapname": "s1"}),
    )
    .unwrap();
    assert_eq!(
        refused("/nodes/pve1/qemu/100/template"),
        "unable to create template, because VM contains snapshots"
    );
    req(&m, "DELETE", "/nodes/pve1/qemu/100/snapshot/s1", json!({})).unwrap();
    let upid = req(&m, "POST", "/nodes/pve1/qemu/100/template", json!({})).unwrap();
    assert_eq!(task_outcome(&m, &upid), "OK");
    assert_eq!(
        refused("/nodes/pve1/qemu/100/template"),
        "you can't convert a template to a template"
    );
    // A clone onto an id whose config exists is refused before any task.
    req(&m, "POST", "/nodes/pve1/qemu", json!({"vmid": 101})).unwrap();
    let (status, message, _) = err(req(
        &m,
        "POST",
        "/nodes/pve1/qemu/100/clone",
        json!({"newid": 101}),
    ));
    assert_eq!(
        (status, message.as_str()),
        (500, "unable to create VM 101: config file already exists")
    );
}

#[test]
fn cluster_resources_rows_are_shaped_per_type_with_pools() {
    let m = fresh_mock("resources-rows");
    // A fresh mock: node and storage rows only, with nothing of a guest's.
    let fresh = req(&m, "GET", "/cluster/resources", json!({})).unwrap();
    for row in fresh.as_array().unwrap() {
        assert!(
            row.get("vmid").is_none() && row.get("name").is_none(),
            "{row}"
        );
    }
    req(
        &m,
        "POST",
        "/nodes/pve1/qemu",
        json!({"vmid": 100, "name": "web", "memory": 2048, "cores": 2}),
    )
    .unwrap();
    req(&m, "POST", "/pools", json!({"poolid": "prod"})).unwrap();
    req(&m, "PUT", "/pools/prod", json!({"vms": "100"})).unwrap();
    let rows = req(&m, "GET", "/cluster/resources", json!({})).unwrap();
    let rows = rows.as_array().unwrap();
    let of = |t: &'static str| rows.iter().find(move |r| r["type"] == t).unwrap();
    let vm = of("qemu");
    assert_eq!(
        (
            vm["id"].as_str(),
            vm["name"].as_str(),
            vm["pool"].as_str(),
            vm["maxcpu"].as_u64()
        ),
        (Some("qemu/100"), Some("web"), Some("prod"), Some(2))
    );
    assert_eq!(vm["maxmem"], 2048u64 * 1024 * 1024);
    assert!(vm.get("storage").is_none() && vm.get("plugintype").is_none());
    let node = of("node");
    assert!(node.get("vmid").is_none() && node.get("pool").is_none() && node["level"] == "");
    let storage = of("storage");
    assert!(storage.get("vmid").is_none() && storage["plugintype"].is_string());
    let pool = of("pool");
    assert_eq!(
        (pool["id"].as_str(), pool["pool"].as_str()),
        (Some("/pool/prod"), Some("prod"))
    );
    let (op, _) = m.schema().operation("GET", "/cluster/resources").unwrap();
    assert_eq!(op.check_response(&Value::Array(rows.clone())), vec![]);
    // `type=vm` gives the guests alone.
    let vms = req(&m, "GET", "/cluster/resources", json!({"type": "vm"})).unwrap();
    assert_eq!(vms.as_array().unwrap().len(), 1);
}

#[test]
fn pools_keep_pves_membership_rules() {
    let m = fresh_mock("pool-rules");
    for vmid in [100, 101, 102] {
        req(&m, "POST", "/nodes/pve1/qemu", json!({ "vmid": vmid })).unwrap();
    }
    req(&m, "POST", "/pools", json!({"poolid": "a"})).unwrap();
    req(&m, "POST", "/pools", json!({"poolid": "b"})).unwrap();
    req(
        &m,
        "PUT",
        "/pools/a",
        json!({"vms": "100,101", "storage": "local"}),
    )
    .unwrap();
    // Every refusal carries lock_user_config's "update pools failed" prefix.
    let refused = |path: &str, params: Value| err(req(&m, "PUT", path, params)).1;
    assert_eq!(
        refused("/pools/b", json!({"vms": "100"})),
        "update pools failed: VM 100 belongs already to pool 'a' and 'allow-move' is not set"
    );
    assert_eq!(
        refused("/pools/a", json!({"vms": "100"})),
        "update pools failed: VM 100 is already a pool member"
    );
    assert_eq!(
        refused("/pools/b", json!({"vms": "101", "delete": 1})),
        "update pools failed: VM 101 is not a pool member"
    );
    assert_eq!(
        refused("/pools/b", json!({"storage": "nope"})),
        "update pools failed: Storage 'nope' does not exist"
    );
    assert_eq!(
        refused("/pools/nopool", json!({"vms": "102"})),
        "update pools failed: pool 'nopool' does not exist"
    );
    // A refusal changes nothing, even for the members listed before the refused one.
    assert_eq!(
        refused("/pools/b", json!({"vms": "102,100"})),
        "update pools failed: VM 100 belongs already to pool 'a' and 'allow-move' is not set"
    );
    // PVE keeps any vmid it is given (user.cfg holds ids); reads show guests that exist.
    req(&m, "PUT", "/pools/b", json!({"vms": "999"})).unwrap();
    let b = req(&m, "GET", "/pools/b", json!({})).unwrap();
    assert_eq!(b["members"], json!([]));
    // allow-move moves it (PUT /pools with poolid too).
    req(
        &m,
        "PUT",
        "/pools",
        json!({"poolid": "b", "vms": "100", "allow-move": 1}),
    )
    .unwrap();
    let a = req(&m, "GET", "/pools/a", json!({})).unwrap();
    let vmids: Vec<u64> = a["members"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|x| x["vmid"].as_u64())
        .collect();
    assert_eq!(vmids, [101]);
    let b = req(&m, "GET", "/pools/b", json!({})).unwrap();
    assert_eq!(b["members"][0]["vmid"], 100);
    let only = req(&m, "GET", "/pools/a", json!({"type": "storage"})).unwrap();
    assert_eq!(only["members"].as_array().unwrap().len(), 1);
    assert_eq!(only["members"][0]["storage"], "local");
    // A pool with members stays; emptied, it goes.
    let (status, message, _) = err(req(&m, "DELETE", "/pools/a", json!({})));
    assert_eq!(
        (status, message.as_str()),
        (
            500,
            "delete pool failed: pool 'a' is not empty (contains VM 101)"
        )
    );
    req(
        &m,
        "PUT",
        "/pools/a",
        json!({"vms": "101", "storage": "local", "delete": 1}),
    )
    .unwrap();
    req(&m, "DELETE", "/pools/a", json!({})).unwrap();
    assert_eq!(
        err(req(&m, "GET", "/pools/a", json!({}))).1,
        "pool 'a' does not exist"
    );
    assert_eq!(
        err(req(&m, "DELETE", "/pools/a", json!({}))).1,
        "delete pool failed: pool 'a' does not exist"
    );
    // A pool whose only members are guests that do not exist is empty.
    req(&m, "PUT", "/pools/b", json!({"vms": "100", "delete": 1})).unwrap();
    req(&m, "DELETE", "/pools/b", json!({})).unwrap();
}
