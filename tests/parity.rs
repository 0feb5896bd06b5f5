//! One scenario, access rules included, played against the in-process mock and against our
//! server over HTTP (tickets, CSRF, an API token header): every step must answer the same
//! status, message and data (task ids, secrets and tickets aside, which differ by nature).

mod common;

use proxmox_sdk::api::{Call, Error, Method};
use proxmox_sdk::mock::{Caller, MockPve};
use serde_json::{json, Value};

/// Who makes a step.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Who {
    Root,
    Bob,
    Token,
    Nobody,
}

const BOB_PASSWORD: &str = "bob-Secret-1";

fn steps() -> Vec<(Who, Method, &'static str, Value)> {
    use Method::*;
    use Who::*;
    vec![
        (Root, Get, "/version", json!({})),
        (Nobody, Get, "/version", json!({})),
        (Nobody, Get, "/access/domains", json!({})),
        (
            Root,
            Post,
            "/access/users",
            json!({"userid": "bob@pve", "password": BOB_PASSWORD}),
        ),
        (
            Root,
            Post,
            "/access/users/bob@pve/token/ci",
            json!({"comment": "ci"}),
        ),
        (
            Root,
            Post,
            "/nodes/pve1/qemu",
            json!({"vmid": 100, "name": "web", "cores": 1}),
        ),
        (Bob, Get, "/nodes/pve1/qemu", json!({})),
        (Bob, Get, "/nodes/pve1/qemu/100/config", json!({})),
        (
            Root,
            Put,
            "/access/acl",
            json!({"path": "/vms/100", "users": "bob@pve", "roles": "PVEAuditor"}),
        ),
        (Bob, Get, "/nodes/pve1/qemu", json!({})),
        (Bob, Get, "/nodes/pve1/qemu/100/config", json!({})),
        (Bob, Put, "/nodes/pve1/qemu/100/config", json!({"cores": 2})),
        (Bob, Post, "/nodes/pve1/qemu/100/status/start", json!({})),
        (
            Bob,
            Put,
            "/access/users/root@pam",
            json!({"comment": "mine now"}),
        ),
        (
            Bob,
            Post,
            "/access/users/root@pam/token/evil",
            json!({"privsep": 0}),
        ),
        (Token, Get, "/nodes/pve1/qemu", json!({})),
        (
            Root,
            Put,
            "/access/acl",
            json!({"path": "/vms/100", "tokens": "bob@pve!ci", "roles": "PVEVMAdmin"}),
        ),
        (Token, Get, "/nodes/pve1/qemu/100/config", json!({})),
        (
            Token,
            Put,
            "/nodes/pve1/qemu/100/config",
            json!({"cores": 2}),
        ),
        (Root, Get, "/access/acl", json!({})),
        (
            Root,
            Get,
            "/access/permissions",
            json!({"userid": "bob@pve", "path": "/vms/100"}),
        ),
        (Bob, Get, "/access/permissions", json!({})),
        (Bob, Get, "/access/roles", json!({})),
        (Root, Get, "/access/roles/PVEAuditor", json!({})),
        (Root, Put, "/access/users/bob@pve", json!({"enable": 0})),
        (Bob, Get, "/version", json!({})),
        (Token, Get, "/version", json!({})),
        (Root, Delete, "/access/users/bob@pve", json!({})),
        (Root, Get, "/access/acl", json!({})),
    ]
}

/// (status, message, data) with what differs by nature made equal.
type Outcome = (u16, String, Value);

fn normalize(v: Value) -> Value {
    match v {
        Value::String(s) if s.starts_with("UPID:") => Value::String("UPID".into()),
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| match k.as_str() {
                    "value" | "ticket" | "CSRFPreventionToken" => (k, json!("<secret>")),
                    // Random per VM (PVE generates them), and the digest over them.
                    "smbios1" | "vmgenid" | "digest" => (k, json!("<random>")),
                    _ => (k, normalize(v)),
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(normalize).collect()),
        other => other,
    }
}

fn in_process() -> Vec<Outcome> {
    proxmox_sdk::mock::store::forget_store("9.2", "parity-inproc");
    let root = MockPve::shared("9.2", "parity-inproc", None, false).unwrap();
    let bob = root.acting_as(Caller::User {
        userid: "bob@pve".into(),
    });
    let token = root.acting_as(Caller::Token {
        userid: "bob@pve".into(),
        tokenid: "ci".into(),
        privsep: true,
    });
    let nobody = root.acting_as(Caller::Anonymous);
    steps()
        .into_iter()
        .map(|(who, method, path, params)| {
            let mock = match who {
                Who::Root => &root,
                Who::Bob => &bob,
                Who::Token => &token,
                Who::Nobody => &nobody,
            };
            let call = Call::new(method, format!("/api2/json{path}"), common::params(params));
            match mock.call(&call) {
                Ok(v) => (200, String::new(), normalize(v.into_value())),
                Err(Error::Api(e)) => (e.status, e.message, Value::Null),
                Err(e) => panic!("{who:?} {method} {path}: {e}"),
            }
        })
        .collect()
}

fn over_http() -> Vec<Outcome> {
    let server = common::run(common::config("parity-http", true));
    let base = format!("{}/api2/json", server.url());
    let out = common::rt().block_on(async {
        let c = common::client();
        let login = |user: &'static str, password: &'static str| {
            let c = c.clone();
            let base = base.clone();
            async move {
                let (_, _, body) = common::answer(
                    c.post(format!("{base}/access/ticket"))
                        .form(&[("username", user), ("password", password)])
                        .send()
                        .await
                        .unwrap(),
                )
                .await;
                let d = &body["data"];
                (
                    d["ticket"].as_str().unwrap_or_default().to_string(),
                    d["CSRFPreventionToken"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                )
            }
        };
        let root = login("root@pam", common::ROOT_PASSWORD).await;
        let mut bob: Option<(String, String)> = None;
        let mut token_secret = String::new();
        let mut out = Vec::new();
        for (who, method, path, params) in steps() {
            if who == Who::Bob && bob.is_none() {
                bob = Some(login("bob@pve", BOB_PASSWORD).await);
            }
            let url = format!("{base}{path}");
            let form: Vec<(String, String)> = params
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v.as_str().map_or_else(|| v.to_string(), str::to_string),
                    )
                })
                .collect();
            let mut req = match method {
                Method::Get => c.get(&url).query(&form),
                Method::Delete => c.delete(&url).query(&form),
                Method::Post => c.post(&url).form(&form),
                Method::Put => c.put(&url).form(&form),
            };
            let session = match who {
                Who::Root => Some(&root),
                Who::Bob => bob.as_ref(),
                _ => None,
            };
            if let Some((ticket, csrf)) = session {
                req = req
                    .header("Cookie", format!("PVEAuthCookie={ticket}"))
                    .header("CSRFPreventionToken", csrf);
            }
            if who == Who::Token {
                req = req.header(
                    "Authorization",
                    format!("PVEAPIToken=bob@pve!ci={token_secret}"),
                );
            }
            let (status, reason, body) = common::answer(req.send().await.unwrap()).await;
            if path.ends_with("/token/ci") && status == 200 {
                token_secret = body["data"]["value"].as_str().unwrap().to_string();
            }
            out.push(if status == 200 {
                (200, String::new(), normalize(body["data"].clone()))
            } else {
                (status, reason, Value::Null)
            });
        }
        out
    });
    server.stop().unwrap();
    out
}

#[test]
fn in_process_and_http_answer_alike_access_included() {
    let a = in_process();
    let b = over_http();
    let steps = steps();
    for (i, ((x, y), step)) in a.iter().zip(&b).zip(&steps).enumerate() {
        assert_eq!(x, y, "step {i}: {:?} {} {}", step.0, step.1, step.2);
    }
    assert_eq!(a.len(), steps.len());
    // The scenario exercised what it meant to: refusals, filters and revocations.
    let status = |i: usize| a[i].0;
    assert_eq!(status(1), 401, "no ticket");
    assert_eq!(status(2), 200, "realms need no login");
    assert_eq!(a[6].2, json!([]), "bob sees no guests before the ACL");
    assert_eq!(
        (status(7), a[7].1.as_str()),
        (403, "Permission check failed (/vms/100, VM.Audit)")
    );
    assert_eq!(a[9].2.as_array().map(Vec::len), Some(1));
    assert_eq!(status(11), 403);
    assert_eq!(status(12), 403);
    assert_eq!(status(13), 403);
    assert_eq!(status(14), 403);
    assert_eq!(
        a[15].2,
        json!([]),
        "a privilege-separated token has nothing of its own"
    );
    assert_eq!(status(17), 200);
    assert_eq!(status(18), 403, "token privileges are within the user's");
    assert_eq!(status(25), 401, "a disabled user's ticket");
    assert_eq!(status(26), 401, "a disabled user's token");
    let acl_after = a.last().unwrap().2.as_array().unwrap();
    assert!(
        acl_after.is_empty(),
        "deleting a user drops its ACL entries: {acl_after:?}"
    );
}
