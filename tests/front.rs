//! API calls skip the router when no middleware needs it (`server::front`): every answer
//! must be the one the router gives, byte for byte, status, reason and headers included.
//! Two servers, one answering API calls directly and one (with a rate limit no test
//! reaches) through the router, get the same requests in the same order.

use proxmox_sdk::mock::store::forget_store_of;
use proxmox_sdk::schema::{bundled, Product};
use proxmox_sdk::server::inprocess::{Answer, InProcess};
use proxmox_sdk::server::{AuthConfig, ServerConfig};

fn server(ns: &str, auth: bool, routed: bool) -> InProcess {
    forget_store_of(Product::Pve, bundled::latest_of(Product::Pve).unwrap(), ns);
    let mut cfg = ServerConfig::mock(
        "latest",
        ns,
        AuthConfig {
            enabled: auth,
            root_password: "secret".into(),
        },
    );
    cfg.limits.auth_fail_delay = std::time::Duration::ZERO;
    if routed {
        cfg.rate_limit = Some(u32::MAX);
    }
    InProcess::new(cfg).unwrap()
}

type Headers = Vec<(String, Vec<u8>)>;

/// The answer without what differs from call to call by nature (the `Expires` date).
fn comparable(a: Answer) -> (u16, String, Headers, Vec<u8>) {
    let headers = a
        .headers
        .into_iter()
        .filter(|(k, _)| k != "expires")
        .collect();
    (a.status, a.reason, headers, a.body.to_vec())
}

type Call<'a> = (&'a str, &'a str, &'a [(&'a [u8], &'a [u8])], &'a [u8]);

const FORM: (&[u8], &[u8]) = (b"content-type", b"application/x-www-form-urlencoded");

const CALLS: &[Call<'static>] = &[
    ("GET", "/api2/json/version", &[], b""),
    ("HEAD", "/api2/json/version", &[], b""),
    ("GET", "/api2/json/version?x=1", &[], b""),
    ("GET", "/api2/json", &[], b""),
    ("GET", "/api2/json/", &[], b""),
    ("GET", "/api2/jsonx", &[], b""),
    ("GET", "/api2/json/nodes", &[], b""),
    ("HEAD", "/api2/json/nodes/pve1/qemu", &[], b""),
    ("GET", "/api2/json/no/such/path", &[], b""),
    ("OPTIONS", "/api2/json/version", &[], b""),
    ("DELETE", "/api2/json/version", &[], b""),
    (
        "POST",
        "/api2/json/pools",
        &[FORM],
        b"poolid=p1&comment=one",
    ),
    ("POST", "/api2/json/pools", &[FORM], b"poolid=p1"),
    ("GET", "/api2/json/pools", &[], b""),
    ("GET", "/api2/json/pools", &[], b"poolid=x"),
    (
        "POST",
        "/api2/json/pools",
        &[(b"content-type", b"text/plain")],
        b"x",
    ),
    (
        "POST",
        "/api2/json/nodes/pve1/qemu",
        &[(b"content-type", b"application/json")],
        br#"{"vmid": 100, "name": "a"}"#,
    ),
    ("GET", "/api2/json/nodes/pve1/qemu/100/config", &[], b""),
    ("GET", "/api2/json/nodes/pve1/qemu", &[], b""),
    (
        "PUT",
        "/api2/json/nodes/pve1/qemu/100/config",
        &[FORM],
        b"name=b",
    ),
    ("GET", "/api2/json/nodes/pve1/qemu", &[], b""),
    ("GET", "/api2/json/cluster/resources?type=vm", &[], b""),
    (
        "GET",
        "/api2/json/nodes",
        &[(b"authorization", b"PVEAPIToken=root@pam!t=wrong")],
        b"",
    ),
    (
        "GET",
        "/api2/json/nodes",
        &[(b"cookie", b"PVEAuthCookie=bad")],
        b"",
    ),
];

async fn both_answer_alike(auth: bool, ns: &str) {
    let direct = server(&format!("{ns}-direct"), auth, false);
    let routed = server(&format!("{ns}-routed"), auth, true);
    for (method, target, headers, body) in CALLS {
        let headers: Vec<(Vec<u8>, Vec<u8>)> = headers
            .iter()
            .map(|(k, v)| (k.to_vec(), v.to_vec()))
            .collect();
        let a = direct
            .handle(method, target, &headers, body.to_vec(), None)
            .await
            .unwrap();
        let b = routed
            .handle(method, target, &headers, body.to_vec(), None)
            .await
            .unwrap();
        if *method == "HEAD" {
            assert!(a.body.is_empty(), "{method} {target}");
            assert!(
                a.headers.iter().any(|(k, _)| k == "content-length"),
                "{method} {target}"
            );
        }
        assert_eq!(comparable(a), comparable(b), "{method} {target}");
    }
}

#[tokio::test]
async fn direct_answers_equal_the_routers_without_authentication() {
    both_answer_alike(false, "front-open").await;
}

#[tokio::test]
async fn direct_answers_equal_the_routers_with_authentication() {
    both_answer_alike(true, "front-auth").await;
}
