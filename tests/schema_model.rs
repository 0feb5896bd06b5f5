//! The bundled schema versions: counts, template resolution, OpenAPI identity with the
//! committed files, and response-schema compilation.

use std::collections::HashSet;

use proxmox_sdk::schema::bundled;
use proxmox_sdk::schema::openapi::openapi_document;
use proxmox_sdk::schema::Method;
use serde_json::json;

#[test]
fn bundled_versions_and_latest() {
    assert_eq!(bundled::versions(), vec!["9.1.11", "9.2"]);
    assert_eq!(bundled::latest(), Some("9.2"));
    assert_eq!(bundled::resolve_version("latest").unwrap(), "9.2");
    assert_eq!(bundled::resolve_version("LATEST").unwrap(), "9.2");
    let err = bundled::resolve_version("8.0").unwrap_err().to_string();
    assert_eq!(
        err,
        "unknown schema version '8.0' (available: 9.1.11, 9.2, latest)"
    );
    // `latest` is the same model as 9.2, not a third copy.
    let a = bundled::load("latest").unwrap();
    let b = bundled::load("9.2").unwrap();
    assert!(std::sync::Arc::ptr_eq(&a, &b));
}

#[test]
fn operation_counts() {
    assert_eq!(bundled::load("9.2").unwrap().operation_count(), 675);
    assert_eq!(bundled::load("9.1.11").unwrap().operation_count(), 649);
    let s = bundled::load("9.2").unwrap();
    assert_eq!(s.operations().count(), 675);
}

#[test]
fn every_template_resolves_to_itself() {
    for v in bundled::versions() {
        let s = bundled::load(v).unwrap();
        for e in s.endpoints() {
            let (found, params) = s.resolve(&e.template).expect(&e.template);
            assert_eq!(found.template, e.template, "{v}");
            // Each `{param}` resolves to its own literal text.
            for (name, value) in params {
                assert_eq!(value, format!("{{{name}}}"));
            }
            assert!(s.endpoint_by_template(&e.template).is_some());
            let prefixed = format!("/api2/json{}", e.template);
            assert_eq!(s.resolve(&prefixed).unwrap().0.template, e.template);
        }
    }
}

#[test]
fn concrete_paths_resolve_with_parameters() {
    type Case<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)]);
    let s = bundled::load("9.2").unwrap();
    let cases: &[Case] = &[
        ("/api2/json/version", "/version", &[]),
        ("/nodes", "/nodes", &[]),
        ("/nodes/pve1/qemu/100/status/start", "/nodes/{node}/qemu/{vmid}/status/start", &[("node", "pve1"), ("vmid", "100")]),
        ("/api2/json/nodes/pve1/qemu/100/config/", "/nodes/{node}/qemu/{vmid}/config", &[("node", "pve1"), ("vmid", "100")]),
        ("/nodes/pve1/lxc/0/status/current", "/nodes/{node}/lxc/{vmid}/status/current", &[("node", "pve1"), ("vmid", "0")]),
        (
            "/nodes/pve1/tasks/UPID%3Apve1%3A000003E8%3A00001B58%3A6B08E68D%3Aqmcreate%3A101%3Aroot%40pam%3A/status",
            "/nodes/{node}/tasks/{upid}/status",
            &[("node", "pve1"), ("upid", "UPID:pve1:000003E8:00001B58:6B08E68D:qmcreate:101:root@pam:")],
        ),
        ("/nodes/pve1/storage/local/content/local%3Aiso%2Fdebian.iso", "/nodes/{node}/storage/{storage}/content/{volume}", &[("node", "pve1"), ("storage", "local"), ("volume", "local:iso/debian.iso")]),
        ("/access/users/root%40pam/token/ci", "/access/users/{userid}/token/{tokenid}", &[("userid", "root@pam"), ("tokenid", "ci")]),
        // Literal segments win over parameters.
        ("/cluster/resources", "/cluster/resources", &[]),
        ("/nodes/pve1/qemu", "/nodes/{node}/qemu", &[("node", "pve1")]),
    ];
    for (path, template, params) in cases {
        let (e, got) = s
            .resolve(path)
            .unwrap_or_else(|| panic!("{path} did not resolve"));
        assert_eq!(e.template, *template, "{path}");
        let got: Vec<(&str, String)> = got.into_iter().map(|(k, v)| (k, v.into_owned())).collect();
        let want: Vec<(&str, String)> = params.iter().map(|(k, v)| (*k, v.to_string())).collect();
        assert_eq!(got, want, "{path}");
    }
    for missing in [
        "/nodes/pve1/foo",
        "/",
        "/nodes/pve1/qemu/100/nothing/here",
        "/api2/jsonx/version",
    ] {
        assert!(s.resolve(missing).is_none(), "{missing}");
    }
}

#[test]
fn not_implemented_like_pve() {
    let s = bundled::load("9.2").unwrap();
    let err = s.operation("GET", "/api2/json/nodes/pve1/foo").unwrap_err();
    assert_eq!(
        err.to_string(),
        "Method 'GET /nodes/pve1/foo' not implemented"
    );
    assert_eq!(err.status(), 501);
    let err = s.operation("delete", "/version").unwrap_err();
    assert_eq!(err.to_string(), "Method 'DELETE /version' not implemented");
    let err = s.operation("PATCH", "/version").unwrap_err();
    assert_eq!(err.to_string(), "Method 'PATCH /version' not implemented");
    let (op, _) = s.operation("get", "/version").unwrap();
    assert_eq!(op.method, Method::Get);
}

#[test]
fn runtime_openapi_matches_committed_files() {
    let root = env!("CARGO_MANIFEST_DIR");
    for v in bundled::versions() {
        let s = bundled::load(v).unwrap();
        let mut rendered = serde_json::to_string_pretty(&openapi_document(&s)).unwrap();
        rendered.push('\n');
        let committed =
            std::fs::read_to_string(format!("{root}/generated/proxmox/{v}/openapi.json")).unwrap();
        assert!(
            rendered == committed,
            "openapi.json of {v} differs from what the model renders"
        );
    }
}

#[test]
fn openapi_shape() {
    let s = bundled::load("9.2").unwrap();
    let doc = openapi_document(&s);
    assert_eq!(doc["openapi"], "3.1.0");
    let mut ids = HashSet::new();
    let mut count = 0;
    for (_, item) in doc["paths"].as_object().unwrap() {
        for (_, op) in item.as_object().unwrap() {
            count += 1;
            assert!(
                ids.insert(op["operationId"].as_str().unwrap().to_string()),
                "duplicate {}",
                op["operationId"]
            );
        }
    }
    assert_eq!(count, 675);
    let create = &doc["paths"]["/nodes/{node}/qemu"]["post"];
    assert_eq!(create["operationId"], "post_nodes_node_qemu");
    assert_eq!(create["parameters"][0]["in"], "path");
    assert_eq!(create["parameters"][0]["name"], "node");
    let body = &create["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"];
    assert_eq!(body["required"], json!(["vmid"]));
    assert!(
        body["properties"].get("node").is_none(),
        "path params stay out of the body"
    );
    assert!(
        body["patternProperties"]["^net(0|[1-9][0-9]*)$"]["x-pve-format"]["model"]["enum"]
            .is_array()
    );
    assert_eq!(create["x-pve-protected"], true);
    assert_eq!(create["x-pve-allowtoken"], true);
    assert!(create["x-pve-permissions"].is_object());
    assert!(
        create["responses"]["200"]["content"]["application/json"]["schema"]["properties"]["data"]
            .is_object()
    );
    let config = &doc["paths"]["/nodes/{node}/qemu/{vmid}/config"]["get"];
    let current = config["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "current")
        .unwrap();
    assert_eq!(current["in"], "query");
    assert_eq!(current["schema"]["enum"], json!([false, true, 0, 1]));
    assert_eq!(
        doc["paths"]["/access/ticket"]["post"]["security"],
        json!([])
    );
}

#[test]
fn every_returns_schema_compiles_and_checks() {
    for v in bundled::versions() {
        let s = bundled::load(v).unwrap();
        let broken: Vec<String> = s
            .operations()
            .filter(|o| !o.has_response_validator())
            .map(|o| format!("{} {}", o.method, o.template))
            .collect();
        assert!(broken.is_empty(), "{v}: {broken:?}");
    }
    let s = bundled::load("9.2").unwrap();
    let (op, _) = s.operation("GET", "/version").unwrap();
    assert!(op
        .check_response(&json!({"version": "9.2.0", "release": "9.2", "repoid": "0123abcd"}))
        .is_empty());
    let bad = op.check_response(&json!({"version": 9, "release": "9.2", "repoid": "xyz"}));
    let pointers: Vec<&str> = bad.iter().map(|m| m.pointer.as_str()).collect();
    assert!(pointers.contains(&"/version"), "{bad:?}");
    assert!(pointers.contains(&"/repoid"), "{bad:?}");
}
