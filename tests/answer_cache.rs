//! The server's answer cache keeps an answer across writes only while nothing it read
//! changed. Every GET of the schema that can be filled in is answered and stamped (as root
//! and as an unprivileged user), then a scenario of writes across the API runs; after each
//! write, every answer the cache would still serve must be exactly what the mock answers
//! now, and answers about untouched collections must still be served.

mod common;

use std::collections::BTreeMap;

use common::{fresh_mock, mock_req as req};
use proxmox_sdk::api::Method;
use proxmox_sdk::mock::store::Stamp;
use proxmox_sdk::mock::{Caller, MockPve};
use serde_json::{json, Map, Value};

/// Fills a GET template's placeholders from one set of ids (`None`: one is unknown).
fn concrete(template: &str) -> Option<String> {
    let ids: BTreeMap<&str, &str> = [
        ("node", "pve1"),
        ("vmid", "100"),
        ("storage", "local"),
        ("poolid", "p1"),
        ("userid", "watcher@pve"),
        ("snapname", "s0"),
        ("sid", "vm:100"),
    ]
    .into();
    let mut out = String::new();
    for seg in template.split('/').filter(|s| !s.is_empty()) {
        out.push('/');
        match seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(name) => out.push_str(ids.get(name)?),
            None => out.push_str(seg),
        }
    }
    Some(out)
}

struct Cached {
    path: String,
    caller: usize,
    stamp: Stamp,
    body: Vec<u8>,
}

fn answer(m: &MockPve, caller: &Caller, path: &str) -> Option<(Vec<u8>, Option<Stamp>)> {
    let (result, stamp) = m
        .store()
        .stamped(|| m.answer_for_wire(caller, Method::Get, path, &Map::new()));
    result.ok().map(|a| (a.to_json(), stamp))
}

#[test]
fn cached_answers_survive_writes_they_did_not_read_and_no_other() {
    let m = fresh_mock("answer-cache");
    let setup: &[(&str, &str, Value)] = &[
        (
            "POST",
            "/nodes/pve1/qemu",
            json!({"vmid": 100, "name": "web"}),
        ),
        ("POST", "/nodes/pve1/qemu", json!({"vmid": 101})),
        (
            "POST",
            "/nodes/pve1/lxc",
            json!({"vmid": 200, "ostemplate": "local:vztmpl/debian-12.tar.zst", "storage": "local-lvm"}),
        ),
        (
            "POST",
            "/nodes/pve1/qemu/100/snapshot",
            json!({"snapname": "s0"}),
        ),
        ("POST", "/pools", json!({"poolid": "p1"})),
        ("POST", "/access/users", json!({"userid": "watcher@pve"})),
    ];
    for (method, path, params) in setup {
        req(&m, method, path, params.clone()).unwrap_or_else(|e| panic!("{path}: {e:?}"));
    }
    let callers = [
        Caller::root(),
        Caller::User {
            userid: "watcher@pve".into(),
        },
    ];
    let paths: Vec<String> = m
        .schema()
        .operations()
        .filter(|op| op.method == Method::Get)
        .filter_map(|op| concrete(&op.template))
        .collect();
    let mut cached: Vec<Cached> = Vec::new();
    for (i, caller) in callers.iter().enumerate() {
        for path in &paths {
            if let Some((body, Some(stamp))) = answer(&m, caller, path) {
                cached.push(Cached {
                    path: path.clone(),
                    caller: i,
                    stamp,
                    body,
                });
            }
        }
    }
    assert!(cached.len() > 200, "only {} answers", cached.len());

    let writes: &[(&str, &str, Value)] = &[
        (
            "PUT",
            "/nodes/pve1/qemu/101/config",
            json!({"description": "x"}),
        ),
        ("PUT", "/nodes/pve1/qemu/100/config", json!({"cores": 2})),
        ("POST", "/nodes/pve1/qemu/100/status/start", json!({})),
        ("POST", "/nodes/pve1/qemu", json!({"vmid": 102})),
        ("DELETE", "/nodes/pve1/qemu/101", json!({})),
        ("PUT", "/pools/p1", json!({"vms": "100"})),
        (
            "PUT",
            "/access/acl",
            json!({"path": "/vms/100", "roles": "PVEAuditor", "users": "watcher@pve"}),
        ),
        ("POST", "/access/users", json!({"userid": "other@pve"})),
        (
            "POST",
            "/storage",
            json!({"storage": "scratch", "type": "dir", "path": "/srv/scratch"}),
        ),
        (
            "POST",
            "/cluster/firewall/rules",
            json!({"action": "ACCEPT", "type": "in"}),
        ),
        (
            "POST",
            "/nodes/pve1/qemu/100/snapshot",
            json!({"snapname": "s1"}),
        ),
        (
            "PUT",
            "/nodes/pve1/lxc/200/config",
            json!({"description": "ct"}),
        ),
        ("POST", "/cluster/ha/resources", json!({"sid": "vm:100"})),
        ("PUT", "/cluster/options", json!({"keyboard": "de"})),
        ("PUT", "/access/users/watcher@pve", json!({"comment": "c"})),
    ];
    let mut survived: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (method, path, params) in writes {
        req(&m, method, path, params.clone()).unwrap_or_else(|e| panic!("{path}: {e:?}"));
        for c in &mut cached {
            let caller = &callers[c.caller];
            let kept = m.store().still_valid(&mut c.stamp);
            let now = answer(&m, caller, &c.path);
            if kept {
                let (body, _) = now.as_ref().expect("a kept answer is still answered");
                assert_eq!(
                    String::from_utf8_lossy(body),
                    String::from_utf8_lossy(&c.body),
                    "{} (caller {}) was kept after {method} {path} but changed",
                    c.path,
                    c.caller
                );
                survived.entry(path).or_default().push(c.path.clone());
            } else if let Some((body, Some(stamp))) = now {
                // Stamped again, as the server would cache it on its next read.
                c.body = body;
                c.stamp = stamp;
            }
        }
    }
    // The cache is of use: a write to one guest keeps what it did not touch.
    let after_put = survived
        .get("/nodes/pve1/qemu/101/config")
        .expect("no answer was kept after a PUT to a VM");
    for kept in [
        "/version",
        "/nodes/pve1/lxc",
        "/access/users",
        "/storage",
        "/cluster/options",
    ] {
        assert!(
            after_put.iter().any(|p| p == kept),
            "{kept} was dropped after a PUT to a VM"
        );
    }
    // Invalidation is per collection: the VMs' collection changed.
    for dropped in ["/nodes/pve1/qemu", "/nodes/pve1/qemu/101/config"] {
        assert!(
            !after_put.iter().any(|p| p == dropped),
            "{dropped} was kept after a PUT to a VM"
        );
    }
    let total: usize = survived.values().map(Vec::len).sum();
    eprintln!("{total} answers kept across {} writes", writes.len());
}

/// The server's guest list (rows copied from the text written last time while their
/// record is unchanged) says exactly what the in-process list says, before and after
/// writes, for stopped, running, template and tagged guests.
#[test]
fn the_wire_list_is_the_in_process_list() {
    let m = fresh_mock("answer-cache-wire");
    let root = Caller::root();
    let setup: &[(&str, &str, Value)] = &[
        (
            "POST",
            "/nodes/pve1/qemu",
            json!({"vmid": 100, "name": "web", "tags": "a;b"}),
        ),
        (
            "POST",
            "/nodes/pve1/qemu",
            json!({"vmid": 101, "cores": 4, "memory": 2048}),
        ),
        ("POST", "/nodes/pve1/qemu", json!({"vmid": 102})),
        ("POST", "/nodes/pve1/qemu/102/template", json!({})),
        ("POST", "/nodes/pve1/qemu", json!({"vmid": 1000})),
        ("POST", "/nodes/pve1/qemu/101/status/start", json!({})),
    ];
    for (method, path, params) in setup {
        req(&m, method, path, params.clone()).unwrap_or_else(|e| panic!("{path}: {e:?}"));
    }
    let both = |m: &MockPve| {
        let wire = m
            .answer_for_wire(&root, Method::Get, "/nodes/pve1/qemu", &Map::new())
            .unwrap();
        let in_process = m
            .answer_of(&root, Method::Get, "/nodes/pve1/qemu", &Map::new())
            .unwrap()
            .into_value();
        let wire: Value = serde_json::from_slice(&wire.to_json()).unwrap();
        (wire, in_process)
    };
    let (first, expected) = both(&m);
    assert_eq!(first, expected);
    assert_eq!(expected.as_array().unwrap().len(), 4);
    // Again, from kept rows.
    assert_eq!(both(&m).0, expected);
    req(
        &m,
        "PUT",
        "/nodes/pve1/qemu/100/config",
        json!({"name": "web2", "delete": "tags"}),
    )
    .unwrap();
    req(&m, "DELETE", "/nodes/pve1/qemu/1000", json!({})).unwrap();
    let (wire, in_process) = both(&m);
    assert_eq!(wire, in_process);
    let rows = wire.as_array().unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0]["name"], "web2");
    assert!(rows[0].get("tags").is_none());
    assert_eq!(rows[1]["status"], "running");
}
