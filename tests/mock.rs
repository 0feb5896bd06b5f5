//! The in-memory PVE through its Rust API: collections, errors as PVE words them, seeding,
//! store sharing and snapshots, and generated answers that validate against `returns`.

use std::sync::Arc;

use proxmox_sdk::api::{ApiError, Upid};
use proxmox_sdk::mock::generate::{generate, GenContext};
use proxmox_sdk::mock::store::forget_store;
use proxmox_sdk::mock::MockPve;

/// Requests as the mock's own caller (root), with the method as text.
trait Req {
    fn req(&self, method: &str, path: &str, params: &Map<String, Value>)
        -> Result<Value, ApiError>;
}

impl Req for MockPve {
    fn req(
        &self,
        method: &str,
        path: &str,
        params: &Map<String, Value>,
    ) -> Result<Value, ApiError> {
        self.handle(self.caller(), method.parse().unwrap(), path, params)
    }
}

fn parse_upid(text: &str) -> Option<Upid> {
    text.parse().ok()
}
use proxmox_sdk::schema::{bundled, Method};
use serde_json::{json, Map, Value};

fn p(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap()
}

/// A mock over its own namespace, so tests running in parallel do not share state.
fn mock(ns: &str) -> MockPve {
    forget_store("9.2", ns);
    MockPve::shared("latest", ns, None, false).unwrap()
}

#[test]
fn vm_collection_life() {
    let m = mock("vm-life");
    assert_eq!(
        m.req("GET", "/nodes/pve1/qemu", &Map::new()).unwrap(),
        json!([])
    );
    let upid = m
        .req(
            "POST",
            "/api2/json/nodes/pve1/qemu",
            &p(json!({"vmid": 100, "name": "web", "cores": 2, "memory": "2048", "start": 0})),
        )
        .unwrap();
    let parsed = parse_upid(upid.as_str().unwrap()).unwrap();
    assert_eq!(
        (
            parsed.node.as_str(),
            parsed.kind.as_str(),
            parsed.id.as_str()
        ),
        ("pve1", "qmcreate", "100")
    );

    let list = m.req("GET", "/nodes/pve1/qemu", &Map::new()).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);
    let (list_op, _) = m.schema().operation("GET", "/nodes/pve1/qemu").unwrap();
    assert_eq!(list_op.check_response(&list), vec![], "{list}");
    assert_eq!(
        (list[0]["cpus"].as_u64(), list[0]["maxmem"].as_u64()),
        (Some(2), Some(2048 * 1024 * 1024))
    );
    assert_eq!(
        (list[0]["uptime"].as_u64(), list[0].get("pid")),
        (Some(0), None),
        "a stopped guest"
    );
    assert_eq!(list[0]["vmid"], 100);
    assert_eq!(list[0]["name"], "web");
    assert_eq!(list[0]["status"], "stopped");

    let config = m
        .req("GET", "/nodes/pve1/qemu/100/config", &Map::new())
        .unwrap();
    assert_eq!(config["name"], "web");
    assert_eq!(config["cores"], 2);
    assert_eq!(config["memory"], "2048");
    assert!(
        config.get("start").is_none(),
        "create-only options are not config"
    );
    assert!(
        config.get("acpi").is_none(),
        "nothing invented in a config: {config}"
    );
    let digest = config["digest"].as_str().unwrap().to_string();

    // Update with delete= and a matching digest, then a stale digest.
    m.req(
        "PUT",
        "/nodes/pve1/qemu/100/config",
        &p(json!({"cores": 4, "delete": "memory", "digest": digest})),
    )
    .unwrap();
    let config = m
        .req("GET", "/nodes/pve1/qemu/100/config", &Map::new())
        .unwrap();
    assert_eq!(config["cores"], 4);
    assert!(config.get("memory").is_none());
    let err = m
        .req(
            "PUT",
            "/nodes/pve1/qemu/100/config",
            &p(json!({"cores": 1, "digest": digest})),
        )
        .unwrap_err();
    assert_eq!(
        (err.status, err.message.as_str()),
        (500, "checksum mismatch (file change by other user?)")
    );

    // A second create with the same vmid fails like PVE.
    let err = m
        .req("POST", "/nodes/pve1/qemu", &p(json!({"vmid": 100})))
        .unwrap_err();
    assert_eq!(
        err.message,
        "unable to create VM 100 - VM 100 already exists on node 'pve1'"
    );
    let resources = m
        .req("GET", "/cluster/resources", &p(json!({"type": "vm"})))
        .unwrap();
    assert_eq!(resources[0]["id"], "qemu/100");
    assert_eq!(
        m.req("GET", "/cluster/nextid", &Map::new()).unwrap(),
        json!("101")
    );

    // Destroy: gone from every list, reads fail as PVE fails.
    let upid = m
        .req("DELETE", "/nodes/pve1/qemu/100", &Map::new())
        .unwrap();
    assert_eq!(
        parse_upid(upid.as_str().unwrap()).unwrap().kind,
        "qmdestroy"
    );
    assert_eq!(
        m.req("GET", "/nodes/pve1/qemu", &Map::new()).unwrap(),
        json!([])
    );
    assert_eq!(
        m.req("GET", "/cluster/resources", &p(json!({"type": "vm"})))
            .unwrap(),
        json!([])
    );
    let err = m
        .req("GET", "/nodes/pve1/qemu/100/config", &Map::new())
        .unwrap_err();
    assert_eq!(
        (err.status, err.message.as_str()),
        (
            500,
            "Configuration file 'nodes/pve1/qemu-server/100.conf' does not exist"
        )
    );
    let err = m
        .req("POST", "/nodes/pve1/qemu/100/status/start", &Map::new())
        .unwrap_err();
    assert_eq!(err.status, 500);
    assert!(m.is_deleted("/api2/json/nodes/pve1/qemu/100"));
}

#[test]
fn users_pools_and_errors() {
    let m = mock("users");
    let users = m.req("GET", "/access/users", &Map::new()).unwrap();
    assert_eq!(users[0]["userid"], "root@pam");
    m.req(
        "POST",
        "/access/users",
        &p(json!({"userid": "alice@pve", "email": "alice@example.com", "password": "s3cret-pass"})),
    )
    .unwrap();
    let alice = m
        .req("GET", "/access/users/alice@pve", &Map::new())
        .unwrap();
    assert_eq!(alice["email"], "alice@example.com");
    assert!(alice.get("password").is_none(), "secrets are not echoed");
    let err = m
        .req("POST", "/access/users", &p(json!({"userid": "alice@pve"})))
        .unwrap_err();
    assert_eq!(
        err.message,
        "create user failed: user 'alice@pve' already exists"
    );
    let err = m
        .req("GET", "/access/users/bob@pve", &Map::new())
        .unwrap_err();
    assert_eq!(err.message, "no such user ('bob@pve')");

    m.req(
        "POST",
        "/pools",
        &p(json!({"poolid": "prod", "comment": "production"})),
    )
    .unwrap();
    let pools = m.req("GET", "/pools", &Map::new()).unwrap();
    assert_eq!(pools, json!([{"poolid": "prod", "comment": "production"}]));

    // Parameter errors and unknown paths as PVE answers them.
    let err = m.req("POST", "/pools", &Map::new()).unwrap_err();
    assert_eq!(err.status, 400);
    assert_eq!(
        err.errors.unwrap()["poolid"],
        "property is missing and it is not optional"
    );
    let err = m
        .req("GET", "/nodes/pve1/nothing", &Map::new())
        .unwrap_err();
    assert_eq!(
        (err.status, err.message.as_str()),
        (501, "Method 'GET /nodes/pve1/nothing' not implemented")
    );
}

#[test]
fn seeding_and_object_helpers() {
    let m = mock("seeding");
    m.set_object(
        "/api2/json/nodes/pve1/qemu/200/config",
        json!({"name": "seeded", "cores": 1}),
    );
    let list = m.req("GET", "/nodes/pve1/qemu", &Map::new()).unwrap();
    assert_eq!(list[0]["vmid"], 200);
    assert_eq!(list[0]["name"], "seeded");
    assert_eq!(
        m.get_object("/api2/json/nodes/pve1/qemu/200/config")
            .unwrap()["name"],
        "seeded"
    );
    // An exact seed answers exactly.
    assert_eq!(
        m.req("GET", "/nodes/pve1/qemu/200/config", &Map::new())
            .unwrap(),
        json!({"name": "seeded", "cores": 1})
    );
    m.set_object(
        "/nodes/{node}/version",
        json!({"version": "9.9", "release": "9.9", "repoid": "deadbeef"}),
    );
    assert_eq!(
        m.req("GET", "/nodes/pve1/version", &Map::new()).unwrap()["version"],
        "9.9"
    );
    assert!(m.delete_object("/api2/json/nodes/pve1/qemu/200/config"));
    assert!(m.is_deleted("/api2/json/nodes/pve1/qemu/200/config"));
    assert_eq!(m.get_object("/api2/json/nodes/pve1/qemu/200/config"), None);

    m.store().reset();
    assert_eq!(
        m.req("GET", "/nodes/pve1/qemu", &Map::new()).unwrap(),
        json!([])
    );
    assert!(!m.is_deleted("/api2/json/nodes/pve1/qemu/200/config"));
}

#[test]
fn lenient_mode_keeps_legacy_seeding() {
    forget_store("9.2", "lenient");
    let m = MockPve::shared("latest", "lenient", None, true).unwrap();
    assert_eq!(
        m.req("POST", "/custom/legacy/thing", &p(json!({"a": 1})))
            .unwrap(),
        Value::Null
    );
    assert_eq!(
        m.req("GET", "/custom/legacy/thing", &Map::new()).unwrap(),
        json!({"a": 1})
    );
    // Unknown members answer from the schema instead of failing.
    assert!(m
        .req("GET", "/nodes/pve1/qemu/999/status/current", &Map::new())
        .is_ok());
    // Re-creating what exists updates it; a stale digest does not fail.
    m.req(
        "POST",
        "/pools",
        &p(json!({"poolid": "again", "comment": "one"})),
    )
    .unwrap();
    m.req(
        "POST",
        "/pools",
        &p(json!({"poolid": "again", "comment": "two"})),
    )
    .unwrap();
    assert_eq!(
        m.req("GET", "/pools", &Map::new()).unwrap(),
        json!([{"poolid": "again", "comment": "two"}])
    );
    m.req("POST", "/nodes/pve1/qemu", &p(json!({"vmid": 300})))
        .unwrap();
    m.req(
        "PUT",
        "/nodes/pve1/qemu/300/config",
        &p(json!({"cores": 2, "digest": "0".repeat(40)})),
    )
    .unwrap();
    // Integer ids are positions.
    m.req(
        "POST",
        "/cluster/firewall/rules",
        &p(json!({"type": "in", "action": "ACCEPT"})),
    )
    .unwrap();
    let rules = m
        .req("GET", "/cluster/firewall/rules", &Map::new())
        .unwrap();
    assert_eq!(rules[0]["pos"], 0);
}

#[test]
fn stores_are_shared_per_version_and_namespace() {
    forget_store("9.2", "shared");
    let a = MockPve::shared("latest", "shared", None, false).unwrap();
    let b = MockPve::shared("9.2", "shared", None, false).unwrap();
    assert!(Arc::ptr_eq(a.store(), b.store()));
    a.req("POST", "/pools", &p(json!({"poolid": "p1"})))
        .unwrap();
    assert_eq!(
        b.req("GET", "/pools", &Map::new()).unwrap()[0]["poolid"],
        "p1"
    );
    let other = MockPve::shared("9.1.11", "shared", None, false).unwrap();
    assert!(!Arc::ptr_eq(a.store(), other.store()));
    assert_eq!(other.req("GET", "/pools", &Map::new()).unwrap(), json!([]));
}

#[test]
fn concurrent_writers_lose_nothing() {
    let m = mock("concurrent");
    std::thread::scope(|s| {
        for t in 0..8 {
            let m = m.clone();
            s.spawn(move || {
                for i in 0..50 {
                    let vmid = 1000 + t * 100 + i;
                    m.req("POST", "/nodes/pve1/qemu", &p(json!({"vmid": vmid})))
                        .unwrap();
                    m.req("GET", "/nodes/pve1/qemu", &Map::new()).unwrap();
                }
            });
        }
    });
    assert_eq!(
        m.req("GET", "/nodes/pve1/qemu", &Map::new())
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        400
    );
}

#[test]
fn snapshot_save_and_load() {
    let m = mock("snapshot");
    m.req("POST", "/pools", &p(json!({"poolid": "kept"})))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("state.json");
    m.store().save(&file).unwrap();
    m.store().reset();
    assert_eq!(m.req("GET", "/pools", &Map::new()).unwrap(), json!([]));
    m.store().load(&file).unwrap();
    assert_eq!(
        m.req("GET", "/pools", &Map::new()).unwrap()[0]["poolid"],
        "kept"
    );
    std::fs::write(&file, "{not json").unwrap();
    let err = m.store().load(&file).unwrap_err().to_string();
    assert!(
        err.contains("state.json") && err.contains("not a saved mock state"),
        "{err}"
    );
}

#[test]
fn data_files_seed_and_bad_ones_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = dir.path().join("data.yaml");
    std::fs::write(
        &yaml,
        "/api2/json/nodes/pve1/qemu/300/config:\n  name: from-yaml\n  cores: 2\n",
    )
    .unwrap();
    forget_store("9.2", "data-yaml");
    let m = MockPve::shared("latest", "data-yaml", Some(&yaml), false).unwrap();
    assert_eq!(
        m.req("GET", "/nodes/pve1/qemu", &Map::new()).unwrap()[0]["name"],
        "from-yaml"
    );
    m.store().reset();
    assert_eq!(
        m.req("GET", "/nodes/pve1/qemu", &Map::new()).unwrap()[0]["vmid"],
        300,
        "reset returns to the seeded state"
    );

    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"nodes/pve1/qemu": []}"#).unwrap();
    forget_store("9.2", "data-bad");
    let err = MockPve::shared("latest", "data-bad", Some(&bad), false)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("bad.json") && err.contains("key 'nodes/pve1/qemu'"),
        "{err}"
    );
}

#[test]
fn tasks_finish_ok() {
    let m = mock("tasks");
    m.req("POST", "/nodes/pve1/qemu", &p(json!({"vmid": 100})))
        .unwrap();
    let upid = m
        .req("POST", "/nodes/pve1/qemu/100/status/start", &Map::new())
        .unwrap();
    let upid = upid.as_str().unwrap();
    let enc =
        percent_encoding::utf8_percent_encode(upid, percent_encoding::NON_ALPHANUMERIC).to_string();
    let status = m
        .req(
            "GET",
            &format!("/nodes/pve1/tasks/{enc}/status"),
            &Map::new(),
        )
        .unwrap();
    assert_eq!(status["status"], "stopped");
    assert_eq!(status["exitstatus"], "OK");
    assert_eq!(status["type"], "qmstart");
    assert_eq!(status["upid"], upid);
}

#[test]
fn every_generated_get_answer_validates_against_returns() {
    for v in bundled::versions() {
        let s = bundled::load(v).unwrap();
        let mut failures = Vec::new();
        for op in s.operations().filter(|o| o.method == Method::Get) {
            let e = s.endpoint_by_template(&op.template).unwrap();
            let params: Vec<(&str, String)> = e
                .path_params
                .iter()
                .map(|n| (n.as_str(), sample_param(n)))
                .collect();
            let value = generate(
                &op.info.returns,
                "",
                &GenContext {
                    path_params: &params,
                },
            );
            let again = generate(
                &op.info.returns,
                "",
                &GenContext {
                    path_params: &params,
                },
            );
            assert_eq!(value, again, "deterministic: {}", op.template);
            let bad = op.check_response(&value);
            if !bad.is_empty() {
                failures.push(format!("{v} GET {}: {:?} in {value}", op.template, bad[0]));
            }
        }
        assert!(
            failures.is_empty(),
            "{} failures:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }
}

fn sample_param(name: &str) -> String {
    match name {
        "node" => "pve1",
        "vmid" => "100",
        "storage" => "local",
        "userid" => "root@pam",
        "upid" => "UPID:pve1:000003E8:00001B58:69279F80:qmstart:100:root@pam:",
        _ => "example",
    }
    .to_string()
}

#[test]
fn guest_lifecycle_and_task_outcomes() {
    let m = mock("lifecycle");
    let task = |upid: &Value| {
        let enc = percent_encoding::utf8_percent_encode(
            upid.as_str().unwrap(),
            percent_encoding::NON_ALPHANUMERIC,
        )
        .to_string();
        let status = m
            .req(
                "GET",
                &format!("/nodes/pve1/tasks/{enc}/status"),
                &Map::new(),
            )
            .unwrap();
        let log = m
            .req("GET", &format!("/nodes/pve1/tasks/{enc}/log"), &Map::new())
            .unwrap();
        (status["exitstatus"].as_str().unwrap().to_string(), log)
    };
    let current = || {
        m.req("GET", "/nodes/pve1/qemu/100/status/current", &Map::new())
            .unwrap()
    };
    m.req(
        "POST",
        "/nodes/pve1/qemu",
        &p(json!({"vmid": 100, "name": "vm"})),
    )
    .unwrap();
    let st = current();
    assert_eq!(
        (st["status"].as_str(), st.get("pid")),
        (Some("stopped"), None)
    );

    let up = m
        .req("POST", "/nodes/pve1/qemu/100/status/start", &Map::new())
        .unwrap();
    assert_eq!(task(&up).0, "OK");
    let st = current();
    assert_eq!(
        (st["status"].as_str(), st["qmpstatus"].as_str()),
        (Some("running"), Some("running"))
    );
    let (op, _) = m
        .schema()
        .operation("GET", "/nodes/pve1/qemu/100/status/current")
        .unwrap();
    assert_eq!(op.check_response(&st), vec![]);
    assert_eq!(
        m.req("GET", "/nodes/pve1/qemu", &Map::new()).unwrap()[0]["status"],
        "running"
    );

    // Starting a running VM: the call answers a UPID, the task fails as PVE's does.
    let again = m
        .req("POST", "/nodes/pve1/qemu/100/status/start", &Map::new())
        .unwrap();
    let (exit, log) = task(&again);
    assert_eq!(exit, "VM 100 already running");
    assert_eq!(
        log,
        json!([{"n": 1, "t": "TASK ERROR: VM 100 already running"}])
    );

    m.req("POST", "/nodes/pve1/qemu/100/status/suspend", &Map::new())
        .unwrap();
    assert_eq!(current()["qmpstatus"], "paused");
    m.req("POST", "/nodes/pve1/qemu/100/status/resume", &Map::new())
        .unwrap();
    m.req("POST", "/nodes/pve1/qemu/100/status/shutdown", &Map::new())
        .unwrap();
    assert_eq!(current()["status"], "stopped");
    let down = m
        .req("POST", "/nodes/pve1/qemu/100/status/shutdown", &Map::new())
        .unwrap();
    assert_eq!(task(&down).0, "VM 100 not running");
    // Stopping a stopped VM is fine, as in PVE.
    let stop = m
        .req("POST", "/nodes/pve1/qemu/100/status/stop", &Map::new())
        .unwrap();
    assert_eq!(task(&stop).0, "OK");

    // The node's task list has them all, newest first, with their outcomes.
    let tasks = m.req("GET", "/nodes/pve1/tasks", &Map::new()).unwrap();
    let statuses: Vec<&str> = tasks
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["status"].as_str().unwrap())
        .collect();
    assert!(
        statuses.contains(&"VM 100 already running") && statuses.contains(&"OK"),
        "{statuses:?}"
    );
    assert!(tasks
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["type"] == "qmcreate"));

    // A container has the same life, with CT wording.
    m.req(
        "POST",
        "/nodes/pve1/lxc",
        &p(json!({"vmid": 200, "ostemplate": "local:vztmpl/debian-13.tar.zst", "storage": "local-lvm"})),
    )
    .unwrap();
    m.req("POST", "/nodes/pve1/lxc/200/status/start", &Map::new())
        .unwrap();
    let again = m
        .req("POST", "/nodes/pve1/lxc/200/status/start", &Map::new())
        .unwrap();
    assert_eq!(task(&again).0, "CT 200 already running");
    let ct = m
        .req("GET", "/nodes/pve1/lxc/200/status/current", &Map::new())
        .unwrap();
    assert_eq!(ct["status"], "running");
    let (op, _) = m
        .schema()
        .operation("GET", "/nodes/pve1/lxc/200/status/current")
        .unwrap();
    assert_eq!(op.check_response(&ct), vec![]);
    // A container's template is no worker in PVE: refused or done right away.
    let err = m
        .req("POST", "/nodes/pve1/lxc/200/template", &Map::new())
        .unwrap_err();
    assert_eq!(
        (err.status, err.message.as_str()),
        (
            500,
            "you can't convert a CT to template if the CT is running"
        )
    );
    m.req("POST", "/nodes/pve1/lxc/200/status/stop", &Map::new())
        .unwrap();
    assert_eq!(
        m.req("POST", "/nodes/pve1/lxc/200/template", &Map::new())
            .unwrap(),
        Value::Null
    );
    assert_eq!(
        m.req("GET", "/nodes/pve1/lxc/200/config", &Map::new())
            .unwrap()["template"],
        1
    );
}

#[test]
fn worker_table_covers_every_string_returning_write_of_both_versions() {
    use proxmox_sdk::mock::tasks::{is_not_worker, worker_type, NOT_WORKERS, WORKERS};
    use proxmox_sdk::schema::SchemaType;
    let mut missing = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for v in bundled::versions() {
        let s = bundled::load(v).unwrap();
        for op in s.operations() {
            let r = &op.info.returns;
            let plain_string =
                r.ty == Some(SchemaType::String) && r.format.is_none() && r.pattern.is_none();
            if op.method == Method::Get || !plain_string {
                continue;
            }
            let (m, t) = (op.method.as_str(), op.template.as_str());
            seen.insert((m.to_string(), t.to_string()));
            let listed = u8::from(worker_type(m, t).is_some()) + u8::from(is_not_worker(m, t));
            if listed != 1 {
                missing.push(format!("{v}: {m} {t} (listed {listed} times)"));
            }
        }
    }
    assert!(missing.is_empty(), "{missing:#?}");
    // And the table names only operations that exist.
    for (m, t, _) in WORKERS.iter().chain(NOT_WORKERS) {
        assert!(
            seen.contains(&(m.to_string(), t.to_string())),
            "{m} {t} is in no bundled schema"
        );
    }
}

#[test]
fn clone_migrate_template_and_pools() {
    let m = mock("guest-actions");
    m.add_node("pve2");
    let exit = |upid: Value| {
        let enc = percent_encoding::utf8_percent_encode(
            upid.as_str().unwrap(),
            percent_encoding::NON_ALPHANUMERIC,
        )
        .to_string();
        m.req(
            "GET",
            &format!("/nodes/pve1/tasks/{enc}/status"),
            &Map::new(),
        )
        .unwrap()["exitstatus"]
            .as_str()
            .unwrap()
            .to_string()
    };
    m.req("POST", "/pools", &p(json!({"poolid": "prod"})))
        .unwrap();
    let err = m
        .req(
            "POST",
            "/nodes/pve1/qemu",
            &p(json!({"vmid": 100, "pool": "nope"})),
        )
        .unwrap_err();
    assert_eq!(err.message, "pool 'nope' does not exist");
    m.req(
        "POST",
        "/nodes/pve1/qemu",
        &p(json!({"vmid": 100, "name": "base", "cores": 2, "pool": "prod"})),
    )
    .unwrap();
    let pool = m.req("GET", "/pools/prod", &Map::new()).unwrap();
    let member = &pool["members"][0];
    assert_eq!(pool["members"].as_array().unwrap().len(), 1);
    assert_eq!(
        [
            &member["id"],
            &member["type"],
            &member["vmid"],
            &member["node"],
            &member["name"]
        ],
        [
            &json!("qemu/100"),
            &json!("qemu"),
            &json!(100),
            &json!("pve1"),
            &json!("base")
        ]
    );

    // Template, then clone it (config copied, new name, not a template).
    assert_eq!(
        exit(
            m.req("POST", "/nodes/pve1/qemu/100/template", &Map::new())
                .unwrap()
        ),
        "OK"
    );
    assert_eq!(
        m.req("GET", "/nodes/pve1/qemu/100/config", &Map::new())
            .unwrap()["template"],
        1
    );
    let up = m
        .req(
            "POST",
            "/nodes/pve1/qemu/100/clone",
            &p(json!({"newid": 101, "name": "web"})),
        )
        .unwrap();
    assert_eq!(parse_upid(up.as_str().unwrap()).unwrap().kind, "qmclone");
    assert_eq!(exit(up), "OK");
    let cfg = m
        .req("GET", "/nodes/pve1/qemu/101/config", &Map::new())
        .unwrap();
    assert_eq!(
        (
            cfg["name"].as_str(),
            cfg["cores"].as_i64(),
            cfg.get("template")
        ),
        (Some("web"), Some(2), None)
    );
    // Onto a taken id: refused at once (qemu-server checks before forking the worker).
    let dup = m
        .req(
            "POST",
            "/nodes/pve1/qemu/100/clone",
            &p(json!({"newid": 101})),
        )
        .unwrap_err();
    assert_eq!(
        (dup.status, dup.message.as_str()),
        (500, "unable to create VM 101: config file already exists")
    );

    // Migrate: refused while running without online, then moved to the other node.
    m.req("POST", "/nodes/pve1/qemu/101/status/start", &Map::new())
        .unwrap();
    let refused = m
        .req(
            "POST",
            "/nodes/pve1/qemu/101/migrate",
            &p(json!({"target": "pve2"})),
        )
        .unwrap();
    assert_eq!(exit(refused), "can't migrate running VM without --online");
    let local = m
        .req(
            "POST",
            "/nodes/pve1/qemu/101/migrate",
            &p(json!({"target": "pve1", "online": 1})),
        )
        .unwrap();
    assert_eq!(exit(local), "target is local node.");
    let moved = m
        .req(
            "POST",
            "/nodes/pve1/qemu/101/migrate",
            &p(json!({"target": "pve2", "online": 1})),
        )
        .unwrap();
    assert_eq!(exit(moved), "OK");
    assert!(m
        .req("GET", "/nodes/pve1/qemu/101/config", &Map::new())
        .is_err());
    assert_eq!(
        m.req("GET", "/nodes/pve2/qemu/101/status/current", &Map::new())
            .unwrap()["status"],
        "running"
    );
    let res = m
        .req("GET", "/cluster/resources", &p(json!({"type": "vm"})))
        .unwrap();
    let nodes: Vec<(&str, &str)> = res
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["id"].as_str().unwrap(), r["node"].as_str().unwrap()))
        .collect();
    assert!(nodes.contains(&("qemu/101", "pve2")), "{nodes:?}");

    // Destroy drops the guest from its pool.
    m.req("DELETE", "/nodes/pve1/qemu/100", &Map::new())
        .unwrap();
    assert_eq!(
        m.req("GET", "/pools/prod", &Map::new()).unwrap()["members"],
        json!([])
    );
}

#[test]
fn tasks_take_simulated_time_on_a_clock_tests_control() {
    let m = mock("time-scale");
    m.store().set_time_scale(1.0);
    let status = |upid: &str| {
        let enc = percent_encoding::utf8_percent_encode(upid, percent_encoding::NON_ALPHANUMERIC)
            .to_string();
        m.req(
            "GET",
            &format!("/nodes/pve1/tasks/{enc}/status"),
            &Map::new(),
        )
        .unwrap()
    };
    let upid = m
        .req("POST", "/nodes/pve1/qemu", &p(json!({"vmid": 100})))
        .unwrap();
    let upid = upid.as_str().unwrap().to_string();
    let st = status(&upid);
    assert_eq!(
        (st["status"].as_str(), st.get("exitstatus")),
        (Some("running"), None)
    );
    let (op, _) = m
        .schema()
        .operation("GET", "/nodes/pve1/tasks/x/status")
        .unwrap();
    assert_eq!(op.check_response(&st), vec![]);
    let listed = m
        .req("GET", "/nodes/pve1/tasks", &p(json!({"source": "active"})))
        .unwrap();
    assert_eq!(listed[0]["upid"], json!(upid));
    assert!(
        listed[0].get("endtime").is_none(),
        "a running task has no end yet"
    );
    m.store().advance_clock(5);
    let st = status(&upid);
    assert_eq!(
        (st["status"].as_str(), st["exitstatus"].as_str()),
        (Some("stopped"), Some("OK"))
    );

    // DELETE on a running task stops it.
    let start = m
        .req("POST", "/nodes/pve1/qemu/100/status/start", &Map::new())
        .unwrap();
    let start = start.as_str().unwrap().to_string();
    assert_eq!(status(&start)["status"], "running");
    let enc = percent_encoding::utf8_percent_encode(&start, percent_encoding::NON_ALPHANUMERIC)
        .to_string();
    m.req("DELETE", &format!("/nodes/pve1/tasks/{enc}"), &Map::new())
        .unwrap();
    let st = status(&start);
    assert_eq!(
        (st["status"].as_str(), st["exitstatus"].as_str()),
        (Some("stopped"), Some("interrupted by signal"))
    );
    let log = m
        .req("GET", &format!("/nodes/pve1/tasks/{enc}/log"), &Map::new())
        .unwrap();
    assert_eq!(
        log.as_array().unwrap().last().unwrap()["t"],
        "TASK ERROR: interrupted by signal"
    );
}

#[test]
fn a_running_task_locks_its_guest() {
    let m = mock("locks");
    m.store().set_time_scale(1.0);
    let exit = |upid: Value| {
        let enc = percent_encoding::utf8_percent_encode(
            upid.as_str().unwrap(),
            percent_encoding::NON_ALPHANUMERIC,
        )
        .to_string();
        m.req(
            "GET",
            &format!("/nodes/pve1/tasks/{enc}/status"),
            &Map::new(),
        )
        .unwrap()
    };
    m.req(
        "POST",
        "/nodes/pve1/qemu",
        &p(json!({"vmid": 100, "name": "busy"})),
    )
    .unwrap();
    assert_eq!(
        m.req("GET", "/nodes/pve1/qemu/100/config", &Map::new())
            .unwrap()["lock"],
        "create"
    );
    assert_eq!(
        m.req("GET", "/nodes/pve1/qemu", &Map::new()).unwrap()[0]["lock"],
        "create"
    );
    let err = m
        .req(
            "PUT",
            "/nodes/pve1/qemu/100/config",
            &p(json!({"cores": 2})),
        )
        .unwrap_err();
    assert_eq!(
        (err.status, err.message.as_str()),
        (500, "VM is locked (create)")
    );
    let err = m
        .req("DELETE", "/nodes/pve1/qemu/100", &Map::new())
        .unwrap_err();
    assert_eq!(err.message, "VM is locked (create)");
    let start = m
        .req("POST", "/nodes/pve1/qemu/100/status/start", &Map::new())
        .unwrap();
    m.store().advance_clock(60);
    assert_eq!(exit(start)["exitstatus"], "VM is locked (create)");
    // Once the create task ended, the lock is gone.
    assert!(m
        .req("GET", "/nodes/pve1/qemu/100/config", &Map::new())
        .unwrap()
        .get("lock")
        .is_none());
    m.req(
        "PUT",
        "/nodes/pve1/qemu/100/config",
        &p(json!({"cores": 2})),
    )
    .unwrap();
    let start = m
        .req("POST", "/nodes/pve1/qemu/100/status/start", &Map::new())
        .unwrap();
    m.store().advance_clock(60);
    assert_eq!(exit(start)["exitstatus"], "OK");
}

#[test]
fn lists_put_the_id_where_the_child_link_says() {
    // `/nodes/{node}/ceph/pool` is created with `name` but lists `pool_name`.
    let m = mock("ceph-pool-list");
    m.req(
        "POST",
        "/nodes/pve1/ceph/pool",
        &p(json!({"name": "vmdata", "size": 3})),
    )
    .unwrap();
    let list = m.req("GET", "/nodes/pve1/ceph/pool", &Map::new()).unwrap();
    let items = list.as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["pool_name"], json!("vmdata"));
    assert_eq!(items[0]["size"], json!(3));
    assert!(items[0].get("name").is_none(), "{list}");
}
