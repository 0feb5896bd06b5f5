//! The other products' mocks through the Rust API: PBS (datastores, namespaces, groups,
//! snapshots, jobs, its privileges), PDM (remotes and what they hold, resources, views,
//! its roles), PMG (domains, the rule database, its user roles), each with its own
//! schema, tickets and permission dialect.

use proxmox_sdk::api::{ApiError, Upid};
use proxmox_sdk::mock::store::forget_store_of;
use proxmox_sdk::mock::{Caller, MockPve};
use proxmox_sdk::schema::{bundled, Product};
use serde_json::{json, Map, Value};

fn p(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap()
}

fn mock(product: Product, ns: &str) -> MockPve {
    let version = bundled::latest_of(product).unwrap();
    forget_store_of(product, version, ns);
    MockPve::shared_of(product, "latest", ns, None, false).unwrap()
}

fn req(m: &MockPve, method: &str, path: &str, params: Value) -> Result<Value, ApiError> {
    m.handle(
        m.caller(),
        method.parse().unwrap(),
        path,
        &p(if params.is_null() { json!({}) } else { params }),
    )
}

fn as_user(
    m: &MockPve,
    user: &str,
    method: &str,
    path: &str,
    params: Value,
) -> Result<Value, ApiError> {
    let caller = Caller::User {
        userid: user.into(),
    };
    m.handle(&caller, method.parse().unwrap(), path, &p(params))
}

#[test]
fn every_product_has_its_bundled_schema() {
    let ops: Vec<(Product, usize)> = Product::ALL
        .into_iter()
        .map(|p| (p, bundled::load_of(p, "latest").unwrap().operation_count()))
        .collect();
    assert_eq!(
        ops,
        vec![
            (Product::Pve, 675),
            (Product::Pbs, 367),
            (Product::Pmg, 338),
            (Product::Pdm, 318)
        ]
    );
    let err = bundled::load_of(Product::Pbs, "3.0")
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "unknown PBS schema version '3.0' (available: 4, latest)"
    );
    for product in Product::ALL {
        assert_eq!(
            bundled::load_of(product, "latest").unwrap().product(),
            product
        );
    }
}

#[test]
fn pbs_datastores_and_snapshots() {
    let m = mock(Product::Pbs, "pbs-data");
    let stores = req(&m, "GET", "/admin/datastore", Value::Null).unwrap();
    let names: Vec<&str> = stores
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["store"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["backup", "offsite"]);

    // A new datastore through the API shows in both lists; booleans stay JSON booleans.
    req(
        &m,
        "POST",
        "/config/datastore",
        json!({"name": "scratch", "path": "/mnt/datastore/scratch", "verify-new": 1}),
    )
    .unwrap();
    let cfg = req(&m, "GET", "/config/datastore/scratch", Value::Null).unwrap();
    assert_eq!(cfg["verify-new"], json!(true), "{cfg}");
    assert_eq!(
        req(&m, "GET", "/admin/datastore", Value::Null)
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        3
    );

    let snaps = req(
        &m,
        "GET",
        "/admin/datastore/backup/snapshots",
        json!({"backup-type": "vm"}),
    )
    .unwrap();
    assert_eq!(snaps.as_array().unwrap().len(), 3, "{snaps}");
    assert!(snaps
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["backup-type"] == "vm"));
    let groups = req(&m, "GET", "/admin/datastore/backup/groups", Value::Null).unwrap();
    assert_eq!(groups.as_array().unwrap().len(), 3);
    let prod = req(
        &m,
        "GET",
        "/admin/datastore/backup/groups",
        json!({"ns": "prod"}),
    )
    .unwrap();
    assert_eq!(prod[0]["backup-id"], "101");

    // The oldest VM 100 snapshot is protected: PBS refuses to remove it.
    let protected = snaps
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["protected"] == true)
        .unwrap()
        .clone();
    let which =
        json!({"backup-type": "vm", "backup-id": "100", "backup-time": protected["backup-time"]});
    let err = req(
        &m,
        "DELETE",
        "/admin/datastore/backup/snapshots",
        which.clone(),
    )
    .unwrap_err();
    assert_eq!(
        (err.status, err.message.as_str()),
        (400, "cannot remove protected snapshot")
    );
    let mut unprotect = which.clone();
    unprotect["protected"] = json!(false);
    req(&m, "PUT", "/admin/datastore/backup/protected", unprotect).unwrap();
    req(
        &m,
        "DELETE",
        "/admin/datastore/backup/snapshots",
        which.clone(),
    )
    .unwrap();
    let err = req(&m, "DELETE", "/admin/datastore/backup/snapshots", which).unwrap_err();
    assert_eq!(err.status, 400);
    assert!(err.message.contains("does not exist"), "{}", err.message);

    // Unknown datastores and namespaces are refused as PBS refuses them.
    let err = req(&m, "GET", "/admin/datastore/nope/snapshots", Value::Null).unwrap_err();
    assert_eq!(
        (err.status, err.message.as_str()),
        (400, "no such datastore 'nope'")
    );
    let err = req(
        &m,
        "GET",
        "/admin/datastore/backup/snapshots",
        json!({"ns": "ghost"}),
    )
    .unwrap_err();
    assert_eq!(err.message, "namespace 'ghost' does not exist");

    // Namespaces: create, list, refuse to delete a non-empty one.
    let ns = req(
        &m,
        "POST",
        "/admin/datastore/backup/namespace",
        json!({"name": "dev"}),
    )
    .unwrap();
    assert_eq!(ns, json!("dev"));
    let list = req(&m, "GET", "/admin/datastore/backup/namespace", Value::Null).unwrap();
    let spaces: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["ns"].as_str().unwrap())
        .collect();
    assert_eq!(spaces, ["", "dev", "prod", "prod/db"]);
    let err = req(
        &m,
        "DELETE",
        "/admin/datastore/backup/namespace",
        json!({"ns": "prod"}),
    )
    .unwrap_err();
    assert!(err.message.contains("not empty"), "{}", err.message);
    req(
        &m,
        "DELETE",
        "/admin/datastore/backup/namespace",
        json!({"ns": "prod", "delete-groups": 1}),
    )
    .unwrap();

    // Jobs are the schema's collections.
    let verify = req(&m, "GET", "/config/verify", Value::Null).unwrap();
    assert_eq!(verify[0]["id"], "v-backup");
    req(
        &m,
        "POST",
        "/config/prune",
        json!({"id": "p-offsite", "store": "offsite", "schedule": "weekly"}),
    )
    .unwrap();
    assert_eq!(
        req(&m, "GET", "/config/prune", Value::Null)
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        2
    );

    let v = req(&m, "GET", "/version", Value::Null).unwrap();
    assert_eq!(v["version"], "4.1.0");
    let status = req(
        &m,
        "GET",
        "/admin/datastore/backup/status",
        json!({"verbose": 1}),
    )
    .unwrap();
    assert!(status["total"].as_u64().unwrap() > status["used"].as_u64().unwrap());
    assert_eq!(status["counts"]["vm"]["groups"], 1, "{status}");
}

#[test]
fn pbs_access_is_pbss() {
    let m = mock(Product::Pbs, "pbs-access");
    req(
        &m,
        "POST",
        "/access/users",
        json!({"userid": "alice@pbs", "password": "alice-password"}),
    )
    .unwrap();
    // No ACL: PBS's wording, not PVE's.
    let err = as_user(
        &m,
        "alice@pbs",
        "GET",
        "/config/datastore/backup",
        json!({}),
    )
    .unwrap_err();
    assert_eq!(
        (err.status, err.message.as_str()),
        (403, "permission check failed")
    );
    req(
        &m,
        "PUT",
        "/access/acl",
        json!({"path": "/datastore/backup", "role": "DatastoreAudit", "auth-id": "alice@pbs"}),
    )
    .unwrap();
    as_user(
        &m,
        "alice@pbs",
        "GET",
        "/config/datastore/backup",
        json!({}),
    )
    .unwrap();
    let err = as_user(
        &m,
        "alice@pbs",
        "PUT",
        "/config/datastore/backup",
        json!({"comment": "x"}),
    )
    .unwrap_err();
    assert_eq!(err.status, 403);
    let acl = req(&m, "GET", "/access/acl", Value::Null).unwrap();
    assert_eq!(
        acl,
        json!([{"path": "/datastore/backup", "ugid": "alice@pbs", "ugid_type": "user",
                "roleid": "DatastoreAudit", "propagate": true}])
    );
    let err = req(
        &m,
        "PUT",
        "/access/acl",
        json!({"path": "/", "role": "Bogus", "auth-id": "alice@pbs"}),
    )
    .unwrap_err();
    assert_eq!(err.status, 400);
    assert!(
        err.errors.as_ref().is_some_and(|e| e.contains_key("role")),
        "{err:?}"
    );
    let err = req(
        &m,
        "PUT",
        "/access/acl",
        json!({"path": "/", "role": "Audit", "auth-id": "bob@pbs"}),
    )
    .unwrap_err();
    assert_eq!(err.message, "no such user 'bob@pbs'");
    let roles = req(&m, "GET", "/access/roles", Value::Null).unwrap();
    assert_eq!(roles.as_array().unwrap().len(), 18);

    // Tokens: `token-name`, PBS's answer, always privilege-separated.
    let tok = req(&m, "POST", "/access/users/alice@pbs/token/ci", json!({})).unwrap();
    assert_eq!(tok["tokenid"], "alice@pbs!ci");
    let secret = tok["value"].as_str().unwrap();
    let caller = m.token_caller("alice@pbs", "ci", secret).unwrap();
    let err = m
        .handle(
            &caller,
            "GET".parse().unwrap(),
            "/config/datastore/backup",
            &Map::new(),
        )
        .unwrap_err();
    assert_eq!(err.status, 403, "a token holds only its own ACL entries");

    // Tickets say PBS.
    let login = req(
        &m,
        "POST",
        "/access/ticket",
        json!({"username": "alice@pbs", "password": "alice-password"}),
    )
    .unwrap();
    assert!(
        login["ticket"]
            .as_str()
            .unwrap()
            .starts_with("PBS:alice@pbs:"),
        "{login}"
    );
    assert!(login.get("cap").is_none());
    let err = m
        .handle(
            &Caller::Anonymous,
            "GET".parse().unwrap(),
            "/config/datastore",
            &Map::new(),
        )
        .unwrap_err();
    assert_eq!(err.status, 401);

    // Tasks have PBS's UPIDs.
    let upid = req(&m, "DELETE", "/config/datastore/scratch-none", Value::Null);
    assert!(upid.is_err() || upid.unwrap().is_string());
}

#[test]
fn pdm_remotes_and_resources() {
    let m = mock(Product::Pdm, "pdm-data");
    let remotes = req(&m, "GET", "/remotes/remote", Value::Null).unwrap();
    assert_eq!(remotes.as_array().unwrap().len(), 3);
    assert!(
        remotes.as_array().unwrap().iter().all(|r| r["token"] == ""),
        "secrets never show"
    );
    let one = req(&m, "GET", "/remotes/remote/pve-cluster-a", Value::Null).unwrap();
    assert_eq!(one["type"], "pve");
    let vms = req(&m, "GET", "/pve/remotes/pve-cluster-a/qemu", Value::Null).unwrap();
    assert_eq!(vms.as_array().unwrap().len(), 10);
    let on_node = req(
        &m,
        "GET",
        "/pve/remotes/pve-cluster-a/qemu",
        json!({"node": "pve-a-1"}),
    )
    .unwrap();
    assert_eq!(on_node.as_array().unwrap().len(), 4);

    let upid = req(
        &m,
        "POST",
        "/pve/remotes/pve-cluster-a/qemu/102/start",
        Value::Null,
    )
    .unwrap();
    let parsed: Upid = upid.as_str().unwrap().parse().unwrap();
    assert_eq!(
        (
            parsed.kind.as_str(),
            parsed.id.as_str(),
            parsed.node.as_str()
        ),
        ("qmstart", "102", "pve-a-3")
    );
    let status = req(
        &m,
        "GET",
        "/pve/remotes/pve-cluster-a/qemu/102/status",
        Value::Null,
    )
    .unwrap();
    assert_eq!(status["status"], "running");
    let tasks = req(&m, "GET", "/pve/remotes/pve-cluster-a/tasks", Value::Null).unwrap();
    assert_eq!(tasks[0]["upid"], upid);

    // Guests and datastores of the wrong kind of remote, and unknown remotes.
    let err = req(&m, "GET", "/pve/remotes/pbs-main/qemu", Value::Null).unwrap_err();
    assert_eq!(err.message, "remote 'pbs-main' is not a pve remote");
    let err = req(&m, "GET", "/pbs/remotes/nope/datastore", Value::Null).unwrap_err();
    assert_eq!(err.message, "no such remote 'nope'");

    let stores = req(&m, "GET", "/pbs/remotes/pbs-main/datastore", Value::Null).unwrap();
    assert_eq!(stores.as_array().unwrap().len(), 2);
    let snaps = req(
        &m,
        "GET",
        "/pbs/remotes/pbs-main/datastore/tank/snapshots",
        json!({"ns": "prod"}),
    )
    .unwrap();
    assert_eq!(snaps.as_array().unwrap().len(), 30);

    // Resources, grouped by remote, filtered by type and by a view.
    let all = req(&m, "GET", "/resources/list", Value::Null).unwrap();
    assert_eq!(all.as_array().unwrap().len(), 3);
    let lxc = req(
        &m,
        "GET",
        "/resources/list",
        json!({"resource-type": "lxc"}),
    )
    .unwrap();
    let count: usize = lxc
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["resources"].as_array().unwrap().len())
        .sum();
    assert_eq!(count, 5);
    let view = req(&m, "GET", "/resources/list", json!({"view": "backups"})).unwrap();
    assert_eq!(view.as_array().unwrap().len(), 1, "{view}");
    assert_eq!(view[0]["remote"], "pbs-main");

    // Migration moves the guest; a remote migration moves it to another remote.
    req(
        &m,
        "POST",
        "/pve/remotes/pve-cluster-a/qemu/100/migrate",
        json!({"target": "pve-a-2"}),
    )
    .unwrap();
    let cfg = req(
        &m,
        "GET",
        "/pve/remotes/pve-cluster-a/qemu",
        json!({"node": "pve-a-2"}),
    )
    .unwrap();
    assert!(cfg.as_array().unwrap().iter().any(|g| g["vmid"] == 100));
    req(&m, "POST", "/pve/remotes/pve-cluster-a/qemu/109/remote-migrate", json!({"target": "pve-cluster-b", "target-vmid": 409, "target-endpoint": "pve-b-1", "target-storage": "local-lvm", "target-bridge": "vmbr0"})).unwrap();
    let b = req(&m, "GET", "/pve/remotes/pve-cluster-b/qemu", Value::Null).unwrap();
    assert!(b.as_array().unwrap().iter().any(|g| g["vmid"] == 409));

    // A new remote, then its removal.
    req(&m, "POST", "/remotes/remote", json!({"id": "pve-c", "type": "pve", "nodes": ["10.0.0.1"], "authid": "root@pam!pdm", "token": "s3cr3t"})).unwrap();
    assert_eq!(
        req(&m, "GET", "/pve/remotes/pve-c/qemu", Value::Null).unwrap(),
        json!([])
    );
    req(&m, "DELETE", "/remotes/remote/pve-c", Value::Null).unwrap();
    assert!(req(&m, "GET", "/pve/remotes/pve-c/qemu", Value::Null).is_err());
}

#[test]
fn pdm_access_uses_pdms_roles() {
    let m = mock(Product::Pdm, "pdm-access");
    // ops@pdm administers cluster A's resources and audits cluster B's.
    as_user(
        &m,
        "ops@pdm",
        "GET",
        "/pve/remotes/pve-cluster-a/qemu",
        json!({}),
    )
    .unwrap();
    as_user(
        &m,
        "ops@pdm",
        "POST",
        "/pve/remotes/pve-cluster-a/qemu/102/start",
        json!({}),
    )
    .unwrap();
    as_user(
        &m,
        "ops@pdm",
        "GET",
        "/pve/remotes/pve-cluster-b/qemu",
        json!({}),
    )
    .unwrap();
    let err = as_user(
        &m,
        "ops@pdm",
        "POST",
        "/pve/remotes/pve-cluster-b/qemu/300/stop",
        json!({}),
    )
    .unwrap_err();
    assert_eq!(
        (err.status, err.message.as_str()),
        (403, "permission check failed")
    );
    // The auditor reads everything, changes nothing.
    as_user(
        &m,
        "auditor@pdm",
        "GET",
        "/pve/remotes/pve-cluster-b/qemu",
        json!({}),
    )
    .unwrap();
    let err = as_user(
        &m,
        "auditor@pdm",
        "POST",
        "/config/views",
        json!({"id": "mine"}),
    )
    .unwrap_err();
    assert_eq!(err.status, 403);
    let login = req(
        &m,
        "POST",
        "/access/ticket",
        json!({"username": "root@pam", "password": "x"}),
    );
    assert!(
        login.is_err(),
        "root@pam has no password in the mock until one is set"
    );
}

#[test]
fn pmg_domains_rules_and_roles() {
    let m = mock(Product::Pmg, "pmg-data");
    let domains = req(&m, "GET", "/config/domains", Value::Null).unwrap();
    assert_eq!(domains.as_array().unwrap().len(), 2);
    req(
        &m,
        "POST",
        "/config/domains",
        json!({"domain": "example.net", "comment": "new"}),
    )
    .unwrap();
    assert_eq!(
        req(&m, "GET", "/config/domains", Value::Null)
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let err = req(
        &m,
        "POST",
        "/config/domains",
        json!({"domain": "example.net"}),
    )
    .unwrap_err();
    assert_eq!(err.status, 500);

    // Rules get the next id and answer it.
    let id = req(
        &m,
        "POST",
        "/config/ruledb/rules",
        json!({"name": "Quarantine", "priority": 50}),
    )
    .unwrap();
    assert_eq!(id, json!(4));
    let cfg = req(&m, "GET", "/config/ruledb/rules/4/config", Value::Null).unwrap();
    assert_eq!(cfg["name"], "Quarantine");
    req(&m, "DELETE", "/config/ruledb/rules/4", Value::Null).unwrap();
    assert_eq!(
        req(&m, "GET", "/config/ruledb/rules", Value::Null)
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        3
    );

    // Roles, not ACLs: the auditor reads, the administrator writes.
    as_user(&m, "audit@pmg", "GET", "/config/domains", json!({})).unwrap();
    let err = as_user(
        &m,
        "audit@pmg",
        "POST",
        "/config/domains",
        json!({"domain": "x.example"}),
    )
    .unwrap_err();
    assert_eq!(
        (err.status, err.message.as_str()),
        (403, "Permission check failed")
    );
    as_user(
        &m,
        "admin@pmg",
        "POST",
        "/config/domains",
        json!({"domain": "y.example"}),
    )
    .unwrap();
}

mod over_http {
    //! Our server in each product's mode, reached by the SDK's HTTPS client with that
    //! product's ticket cookie and token header.

    use std::net::TcpListener;

    use proxmox_sdk::api::{Error, Method};
    use proxmox_sdk::backend::options::ClientOptions;
    use proxmox_sdk::client::Client;
    use proxmox_sdk::mock::store::forget_store_of;
    use proxmox_sdk::schema::{bundled, Product};
    use proxmox_sdk::server::{start, AuthConfig, RunningServer, ServerConfig};
    use serde_json::{json, Map, Value};

    const PASSWORD: &str = "correct horse";

    fn server(product: Product, ns: &str) -> RunningServer {
        forget_store_of(product, bundled::latest_of(product).unwrap(), ns);
        let mut cfg = ServerConfig::mock(
            "latest",
            ns,
            AuthConfig {
                enabled: true,
                root_password: PASSWORD.into(),
            },
        );
        cfg.service = product;
        start(TcpListener::bind("127.0.0.1:0").unwrap(), cfg).unwrap()
    }

    fn client(srv: &RunningServer, product: Product, auth: Value) -> Result<Client, String> {
        let mut o = json!({"host": srv.url(), "service": product.name(), "user": "root@pam"});
        for (k, v) in auth.as_object().unwrap() {
            o[k] = v.clone();
        }
        Client::connect(&ClientOptions::from_json(o)?)
    }

    fn get(c: &Client, path: &str) -> Result<Value, Error> {
        c.call(Method::Get, &format!("/api2/json{path}"), Map::new())
    }

    #[test]
    fn pbs_over_http_with_ticket_and_token() {
        let srv = server(Product::Pbs, "pbs-http");
        let c = client(&srv, Product::Pbs, json!({"password": PASSWORD})).unwrap();
        let stores = get(&c, "/admin/datastore").unwrap();
        assert_eq!(stores.as_array().unwrap().len(), 2);
        let mut p = Map::new();
        p.insert("comment".into(), json!("ci"));
        let tok = c
            .call(Method::Post, "/api2/json/access/users/root@pam/token/ci", p)
            .unwrap();
        let secret = tok["value"].as_str().unwrap().to_string();
        // The token header is PBSAPIToken=root@pam!ci:<secret>.
        let t = client(
            &srv,
            Product::Pbs,
            json!({"token_name": "ci", "token_value": secret}),
        )
        .unwrap();
        assert_eq!(get(&t, "/version").unwrap()["version"], "4.1.0");
        // Tokens are privilege-separated: without ACL entries of its own it sees nothing.
        match get(&t, "/config/datastore/backup") {
            Err(Error::Api(e)) => assert_eq!(
                (e.status, e.message.as_str()),
                (403, "permission check failed")
            ),
            other => panic!("{other:?}"),
        }
        let bad = client(
            &srv,
            Product::Pbs,
            json!({"token_name": "ci", "token_value": "wrong"}),
        )
        .unwrap();
        match get(&bad, "/version") {
            Err(Error::Api(e)) => assert_eq!(e.status, 401),
            other => panic!("{other:?}"),
        }
        srv.stop().unwrap();
    }

    #[test]
    fn pdm_and_pmg_over_http() {
        let srv = server(Product::Pdm, "pdm-http");
        let c = client(&srv, Product::Pdm, json!({"password": PASSWORD})).unwrap();
        let groups = get(&c, "/resources/list").unwrap();
        assert_eq!(groups.as_array().unwrap().len(), 3);
        srv.stop().unwrap();

        let srv = server(Product::Pmg, "pmg-http");
        let c = client(&srv, Product::Pmg, json!({"password": PASSWORD})).unwrap();
        assert_eq!(
            get(&c, "/config/domains")
                .unwrap()
                .as_array()
                .unwrap()
                .len(),
            2
        );
        // PMG has no API tokens: refused before anything is sent.
        let err = client(
            &srv,
            Product::Pmg,
            json!({"token_name": "x", "token_value": "y"}),
        )
        .err()
        .unwrap();
        assert!(
            err.starts_with("token_name: PMG has no API tokens"),
            "{err}"
        );
        srv.stop().unwrap();
    }
}
