//! The server on 127.0.0.1, driven by a real HTTP client (reqwest): envelope, reason
//! phrases, headers, auth (tickets, CSRF, renewal, tokens), TLS, service endpoints, and the
//! state file across a restart.

mod common;

use std::net::TcpListener;
use std::time::Duration;

use common::{answer, client, config, rt, run};
use proxmox_sdk::server::proxy::ProxyCredentials;
use proxmox_sdk::server::{start, TlsSource};
use serde_json::{json, Value};

#[test]
fn mock_api_over_http_without_auth() {
    let server = run(config("srv-noauth", false));
    let base = format!("{}/api2/json", server.url());
    rt().block_on(async {
        let c = client();
        let resp = c.get(format!("{base}/version")).send().await.unwrap();
        assert_eq!(resp.headers()["server"], "pve-api-daemon/3.0");
        assert_eq!(resp.headers()["cache-control"], "max-age=0");
        assert_eq!(resp.headers()["pragma"], "no-cache");
        let (status, _, body) = answer(resp).await;
        assert_eq!(status, 200);
        assert_eq!(body["data"]["release"], "9.2");

        // Reads are cached between writes, never across one.
        let (_, _, empty) = answer(c.get(format!("{base}/nodes/pve1/qemu")).send().await.unwrap()).await;
        assert_eq!(empty["data"], json!([]));
        let (_, _, again) = answer(c.get(format!("{base}/nodes/pve1/qemu")).send().await.unwrap()).await;
        assert_eq!(again["data"], json!([]));

        // Form-encoded create, JSON update, query-string read.
        let (status, _, body) = answer(
            c.post(format!("{base}/nodes/pve1/qemu"))
                .form(&[("vmid", "100"), ("name", "web"), ("cores", "2")])
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 200);
        assert!(body["data"].as_str().unwrap().starts_with("UPID:pve1:"));
        let (status, _, _) = answer(
            c.put(format!("{base}/nodes/pve1/qemu/100/config"))
                .json(&json!({"cores": 4, "onboot": true}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 200);
        let listed = c.get(format!("{base}/nodes/pve1/qemu")).send().await.unwrap();
        assert!(listed.headers().contains_key("expires"));
        let (_, _, listed) = answer(listed).await;
        assert_eq!(listed["data"][0]["vmid"], 100, "the create is visible right after it");
        let (_, _, body) = answer(c.get(format!("{base}/nodes/pve1/qemu/100/config?current=1")).send().await.unwrap()).await;
        assert_eq!((body["data"]["cores"].clone(), body["data"]["onboot"].clone()), (json!(4), json!(1)));

        // PVE's error shapes.
        let (status, reason, body) = answer(c.post(format!("{base}/nodes/pve1/qemu")).form(&[("vmid", "99")]).send().await.unwrap()).await;
        assert_eq!((status, reason.as_str()), (400, "Parameter verification failed."));
        assert_eq!(body["errors"]["vmid"], "invalid format - value does not look like a valid VM ID\n");
        let (status, reason, body) = answer(c.get(format!("{base}/nodes/pve1/qemu/555/config")).send().await.unwrap()).await;
        assert_eq!(status, 500);
        assert_eq!(reason, "Configuration file 'nodes/pve1/qemu-server/555.conf' does not exist");
        assert_eq!(body, json!({"data": null, "message": "Configuration file 'nodes/pve1/qemu-server/555.conf' does not exist\n"}));
        let (status, reason, _) = answer(c.get(format!("{base}/nodes/pve1/nothing")).send().await.unwrap()).await;
        assert_eq!((status, reason.as_str()), (501, "Method 'GET /nodes/pve1/nothing' not implemented"));

        // Service endpoints.
        let health: Value = c.get(format!("{}/health", server.url())).send().await.unwrap().json().await.unwrap();
        assert_eq!(health["status"], "ok");
        let versions: Value = c.get(format!("{}/versions", server.url())).send().await.unwrap().json().await.unwrap();
        assert_eq!(versions["latest"], "9.2");
        let doc: Value = c.get(format!("{}/openapi.json", server.url())).send().await.unwrap().json().await.unwrap();
        assert_eq!(doc["openapi"], "3.1.0");
        assert_eq!(doc["paths"]["/health"]["servers"][0]["url"], "/");
        assert!(doc["paths"]["/nodes/{node}/qemu"]["post"].is_object());
        let metrics = c.get(format!("{}/metrics", server.url())).send().await.unwrap().text().await.unwrap();
        assert!(
            metrics.contains("proxmox_mock_requests_total{method=\"GET\",route=\"/version\",status=\"200\"} "),
            "{metrics}"
        );
        assert!(metrics.contains("proxmox_mock_request_duration_seconds_bucket{method=\"GET\",route=\"/version\",status=\"200\",le=\"+Inf\"}"));
    });
    server.stop().unwrap();
}

#[test]
fn cached_answers_are_counted_in_their_own_series() {
    let server = run(config("srv-metrics", false));
    let base = format!("{}/api2/json", server.url());
    rt().block_on(async {
        let c = client();
        // The first list is made, the next four come from the answer cache.
        for _ in 0..5 {
            assert_eq!(c.get(format!("{base}/nodes/pve1/qemu")).send().await.unwrap().status(), 200);
        }
        for _ in 0..2 {
            assert_eq!(c.head(format!("{base}/nodes/pve1/qemu")).send().await.unwrap().status(), 200);
        }
        for _ in 0..3 {
            assert_eq!(c.get(format!("{base}/nodes/pve1/qemu/555/config")).send().await.unwrap().status(), 500);
        }
        let metrics = c.get(format!("{}/metrics", server.url())).send().await.unwrap().text().await.unwrap();
        for (line, count) in [
            (r#"proxmox_mock_requests_total{method="GET",route="/nodes/{node}/qemu",status="200"}"#, 5),
            (r#"proxmox_mock_requests_total{method="HEAD",route="/nodes/{node}/qemu",status="200"}"#, 2),
            (r#"proxmox_mock_requests_total{method="GET",route="/nodes/{node}/qemu/{vmid}/config",status="500"}"#, 3),
            (r#"proxmox_mock_request_duration_seconds_count{method="GET",route="/nodes/{node}/qemu",status="200"}"#, 5),
        ] {
            assert!(metrics.lines().any(|l| l == format!("{line} {count}")), "{line} {count}\n{metrics}");
        }
    });
    server.stop().unwrap();
}

#[test]
fn tickets_csrf_renewal_and_tokens() {
    let server = run(config("srv-auth", true));
    let base = format!("{}/api2/json", server.url());
    rt().block_on(async {
        let c = client();
        let (status, reason, _) =
            answer(c.get(format!("{base}/nodes")).send().await.unwrap()).await;
        assert_eq!((status, reason.as_str()), (401, "No ticket"));
        let (status, reason, _) = answer(
            c.post(format!("{base}/access/ticket"))
                .form(&[("username", "root@pam"), ("password", "wrong")])
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!((status, reason.as_str()), (401, "authentication failure"));

        let (status, _, body) = answer(
            c.post(format!("{base}/access/ticket"))
                .form(&[
                    ("username", "root"),
                    ("realm", "pam"),
                    ("password", "correct horse"),
                ])
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 200);
        let ticket = body["data"]["ticket"].as_str().unwrap().to_string();
        let csrf = body["data"]["CSRFPreventionToken"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(ticket.starts_with("PVE:root@pam:"));
        assert_eq!(body["data"]["username"], "root@pam");
        assert!(body["data"]["cap"].is_object());
        let cookie = format!("PVEAuthCookie={ticket}");

        let (status, _, body) = answer(
            c.get(format!("{base}/nodes"))
                .header("Cookie", &cookie)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(body["data"][0]["node"], "pve1");
        // A write without the CSRF header is refused; with it, accepted.
        let (status, reason, _) = answer(
            c.post(format!("{base}/pools"))
                .header("Cookie", &cookie)
                .form(&[("poolid", "p1")])
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(
            (status, reason.as_str()),
            (401, "Permission denied - invalid csrf token")
        );
        let (status, _, _) = answer(
            c.post(format!("{base}/pools"))
                .header("Cookie", &cookie)
                .header("CSRFPreventionToken", &csrf)
                .form(&[("poolid", "p1")])
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 200);
        // Forged ticket.
        let forged = format!("PVEAuthCookie={}", ticket.replace("root@pam", "evil@pam"));
        let (status, reason, _) = answer(
            c.get(format!("{base}/nodes"))
                .header("Cookie", forged)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(
            (status, reason.as_str()),
            (401, "permission denied - invalid PVE ticket")
        );
        // Renewal: the current ticket as password gives a fresh one.
        let (status, _, body) = answer(
            c.post(format!("{base}/access/ticket"))
                .form(&[("username", "root@pam"), ("password", ticket.as_str())])
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 200);
        assert!(body["data"]["ticket"]
            .as_str()
            .unwrap()
            .starts_with("PVE:root@pam:"));

        // A user created through the API can sign in with its password.
        let (status, _, _) = answer(
            c.post(format!("{base}/access/users"))
                .header("Cookie", &cookie)
                .header("CSRFPreventionToken", &csrf)
                .form(&[("userid", "alice@pve"), ("password", "alice-pass-1")])
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 200);
        let (status, _, _) = answer(
            c.post(format!("{base}/access/ticket"))
                .form(&[("username", "alice@pve"), ("password", "alice-pass-1")])
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 200);

        // API tokens: created through the API, secret shown once, checked on use.
        let (status, _, body) = answer(
            c.post(format!("{base}/access/users/root@pam/token/ci"))
                .header("Cookie", &cookie)
                .header("CSRFPreventionToken", &csrf)
                .form(&[("privsep", "0"), ("comment", "ci")])
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["data"]["full-tokenid"], "root@pam!ci");
        let secret = body["data"]["value"].as_str().unwrap().to_string();
        let header = format!("PVEAPIToken=root@pam!ci={secret}");
        let (status, _, _) = answer(
            c.get(format!("{base}/nodes"))
                .header("Authorization", &header)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 200);
        // Tokens need no CSRF header for writes.
        let (status, _, _) = answer(
            c.post(format!("{base}/pools"))
                .header("Authorization", &header)
                .form(&[("poolid", "p2")])
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 200);
        let bad = format!("PVEAPIToken=root@pam!ci={}", "0".repeat(36));
        let (status, reason, _) = answer(
            c.get(format!("{base}/nodes"))
                .header("Authorization", bad)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!((status, reason.as_str()), (401, "invalid token value!"));
        // With privilege separation (the default) a token may do only what ACLs grant it.
        let admin = |req: reqwest::RequestBuilder| req.header("Cookie", &cookie).header("CSRFPreventionToken", &csrf);
        for vmid in ["100", "101"] {
            let (status, _, _) = answer(admin(c.post(format!("{base}/nodes/pve1/qemu"))).form(&[("vmid", vmid)]).send().await.unwrap()).await;
            assert_eq!(status, 200);
        }
        let (_, _, body) = answer(admin(c.post(format!("{base}/access/users/root@pam/token/sep"))).send().await.unwrap()).await;
        assert_eq!(body["data"]["info"]["privsep"], 1);
        let sep = format!("PVEAPIToken=root@pam!sep={}", body["data"]["value"].as_str().unwrap());
        let (status, reason, _) = answer(c.get(format!("{base}/nodes/pve1/qemu/100/config")).header("Authorization", &sep).send().await.unwrap()).await;
        assert_eq!((status, reason.as_str()), (403, "Permission check failed (/vms/100, VM.Audit)"));
        let (status, _, _) = answer(c.get(format!("{base}/version")).header("Authorization", &sep).send().await.unwrap()).await;
        assert_eq!(status, 200, "operations open to every user stay open");
        let (status, _, _) = answer(
            admin(c.put(format!("{base}/access/acl")))
                .form(&[("path", "/vms/100"), ("tokens", "root@pam!sep"), ("roles", "PVEVMAdmin")])
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 200);
        let (status, _, _) = answer(c.get(format!("{base}/nodes/pve1/qemu/100/config")).header("Authorization", &sep).send().await.unwrap()).await;
        assert_eq!(status, 200);
        let (status, _, _) = answer(c.get(format!("{base}/nodes/pve1/qemu/101/config")).header("Authorization", &sep).send().await.unwrap()).await;
        assert_eq!(status, 403);
        let (_, _, acl) = answer(c.get(format!("{base}/access/acl")).header("Cookie", &cookie).send().await.unwrap()).await;
        assert_eq!(acl["data"], json!([{"path": "/vms/100", "type": "token", "ugid": "root@pam!sep", "roleid": "PVEVMAdmin", "propagate": 1}]));

        // The token list shows it, without the secret.
        let (_, _, body) = answer(
            c.get(format!("{base}/access/users/root@pam/token"))
                .header("Authorization", &header)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert!(!body.to_string().contains(&secret));
    });
    server.stop().unwrap();
}

#[test]
fn tls_self_signed_and_state_file() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let mut cfg = config("srv-tls", false);
    cfg.tls = Some(TlsSource::SelfSigned(vec![
        "localhost".into(),
        "127.0.0.1".into(),
    ]));
    cfg.state_file = Some(state.clone());
    let server = run(cfg.clone());
    assert!(server.url().starts_with("https://127.0.0.1:"));
    let fp = server.fingerprint.expect("a fingerprint with TLS");
    rt().block_on(async {
        // Pinned by fingerprint, verification on.
        let pinned = reqwest::Client::builder()
            .use_preconfigured_tls(proxmox_sdk::tls::pinned_client_config(fp))
            .build()
            .unwrap();
        let (status, _, _) = answer(
            pinned
                .post(format!("{}/api2/json/pools", server.url()))
                .form(&[("poolid", "kept")])
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 200);
        // A client that trusts only CAs refuses the self-signed certificate.
        let strict = reqwest::Client::builder().build().unwrap();
        assert!(strict
            .get(format!("{}/health", server.url()))
            .send()
            .await
            .is_err());
    });
    server.stop().unwrap();
    assert!(state.is_file(), "the state file is written at shutdown");

    // A new store from the state file: the pool survived the restart.
    proxmox_sdk::mock::store::forget_store("9.2", "srv-tls");
    let server = run(cfg);
    rt().block_on(async {
        let (_, _, body) = answer(
            client()
                .get(format!("{}/api2/json/pools", server.url()))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(body["data"][0]["poolid"], "kept");
    });
}

#[test]
fn command_line_flags() {
    use clap::Parser;
    let args = proxmox_sdk::server::cli::ServerArgs::try_parse_from([
        "x",
        "--port",
        "0",
        "--tls",
        "--schema-version",
        "9.1.11",
        "--no-auth",
    ])
    .unwrap();
    let (cfg, show) = args.config();
    assert_eq!(cfg.version, "9.1.11");
    assert!(!cfg.auth.enabled && !show);
    assert!(matches!(cfg.tls, Some(TlsSource::SelfSigned(_))));
    assert!(!format!("{:?}", cfg.auth).contains(&cfg.auth.root_password));
    let err =
        proxmox_sdk::server::cli::ServerArgs::try_parse_from(["x", "--cert", "a.pem"]).unwrap_err();
    assert!(err.to_string().contains("--key"));
    assert_eq!(
        proxmox_sdk::server::cli::main_with_args(["x", "--mode", "real"]),
        2
    );
}

#[test]
fn docs_rate_limit_cors_and_codegen_endpoints() {
    let mut cfg = config("srv-extras", false);
    cfg.rate_limit = Some(5);
    cfg.cors_origins = vec!["https://ui.example".into()];
    cfg.codegen_api_key = Some("k3y".into());
    let server = run(cfg);
    let url = server.url();
    rt().block_on(async {
        let c = client();
        // Swagger UI from the bundled assets (no CDN): the page and its script load locally.
        for page in ["/docs", "/docs/"] {
            let page = c.get(format!("{url}{page}")).send().await.unwrap();
            assert_eq!(page.status(), 200);
            let html = page.text().await.unwrap();
            assert!(html.contains("swagger-ui") && html.contains("url: '/openapi.json'"), "{html}");
            // Every asset the page names is served.
            for asset in ["/docs/assets/swagger-ui-bundle.js", "/docs/assets/swagger-ui.css"] {
                assert!(html.contains(asset), "{html}");
                let got = c.get(format!("{url}{asset}")).send().await.unwrap();
                assert_eq!(got.status(), 200, "{asset}");
                assert!(got.text().await.unwrap().len() > 100_000, "{asset}");
            }
        }

        // CORS preflight.
        let pre = c
            .request(reqwest::Method::OPTIONS, format!("{url}/api2/json/version"))
            .header("Origin", "https://ui.example")
            .header("Access-Control-Request-Method", "GET")
            .send()
            .await
            .unwrap();
        assert_eq!(pre.headers()["access-control-allow-origin"], "https://ui.example");

        // Codegen endpoint: 401 with a wrong key, a document with the right one.
        let apidoc = r#"[{"path": "/version", "text": "version", "info": {"GET": {"method": "GET", "name": "v", "description": "d", "parameters": {}, "returns": {"type": "object"}}}}]"#;
        let wrong = c.post(format!("{url}/codegen/openapi")).bearer_auth("nope").body(apidoc).send().await.unwrap();
        assert_eq!(wrong.status(), 401);
        let ok = c
            .post(format!("{url}/codegen/openapi?version_tag=1.0"))
            .bearer_auth("k3y")
            .body(apidoc)
            .send()
            .await
            .unwrap();
        assert_eq!(ok.status(), 200);
        let doc: Value = ok.json().await.unwrap();
        assert_eq!(doc["info"]["version"], "1.0");

        // Rate limit: 5 per second per client address, then 429 with Retry-After.
        let mut limited = None;
        for _ in 0..20 {
            let r = c.get(format!("{url}/health")).send().await.unwrap();
            if r.status() == 429 {
                limited = Some(r);
                break;
            }
        }
        let r = limited.expect("a 429 within 20 quick requests");
        assert!(r.headers()["retry-after"].to_str().unwrap().parse::<u64>().unwrap() >= 1);
    });
    let no_key = run(config("srv-nokey", false));
    rt().block_on(async {
        let r = client()
            .post(format!("{}/codegen/openapi", no_key.url()))
            .bearer_auth("x")
            .body("[]")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
    });
}

/// Logs into a server as root@pam; returns (cookie, csrf).
async fn root_session(c: &reqwest::Client, url: &str) -> (String, String) {
    let (status, _, body) = answer(
        c.post(format!("{url}/api2/json/access/ticket"))
            .form(&[("username", "root@pam"), ("password", "correct horse")])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    (
        format!("PVEAuthCookie={}", body["data"]["ticket"].as_str().unwrap()),
        body["data"]["CSRFPreventionToken"]
            .as_str()
            .unwrap()
            .to_string(),
    )
}

fn metric(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// The token clients of the proxies below present (they use the proxy's credentials).
const PROXY_TOKEN: &str = "proxy-token-for-tests";

#[test]
fn real_mode_validates_and_forwards_to_a_pve_over_tls() {
    use proxmox_sdk::server::proxy::UpstreamConfig;
    // The "real PVE": our own server over TLS with authentication on.
    let mut up_cfg = config("srv-upstream", true);
    up_cfg.tls = Some(TlsSource::SelfSigned(vec![
        "localhost".into(),
        "127.0.0.1".into(),
    ]));
    let upstream = run(up_cfg);
    let up_url = upstream.url();
    let fp = upstream.fingerprint.unwrap();
    let secret = rt().block_on(async {
        let c = client();
        let (cookie, csrf) = root_session(&c, &up_url).await;
        let (status, _, body) = answer(
            c.post(format!(
                "{up_url}/api2/json/access/users/root@pam/token/proxy"
            ))
            .header("Cookie", cookie)
            .header("CSRFPreventionToken", csrf)
            .form(&[("privsep", "0")])
            .send()
            .await
            .unwrap(),
        )
        .await;
        assert_eq!(status, 200);
        body["data"]["value"].as_str().unwrap().to_string()
    });
    let upstream_config = |strict: bool, token: bool| UpstreamConfig {
        credentials: ProxyCredentials::Own {
            token: PROXY_TOKEN.into(),
        },
        service: proxmox_sdk::schema::Product::Pve,
        url: up_url.clone(),
        path_prefix: String::new(),
        token_id: token.then(|| "root@pam!proxy".to_string()),
        token_secret: token.then(|| secret.clone()),
        username: (!token).then(|| "root@pam".to_string()),
        password: (!token).then(|| "correct horse".to_string()),
        verify_ssl: true,
        fingerprint: Some(fp),
        timeout: Duration::from_secs(10),
        connect_timeout: Duration::from_secs(5),
        strict,
        retries: 0,
        retry_backoff: Duration::from_millis(10),
    };
    let mut proxy_cfg = config("srv-proxy", false);
    proxy_cfg.upstream = Some(upstream_config(false, true));
    let proxy = run(proxy_cfg);
    let mut strict_cfg = config("srv-proxy-strict", false);
    strict_cfg.upstream = Some(upstream_config(true, false));
    let strict = run(strict_cfg);
    rt().block_on(async {
        let c = client();
        let up_metrics = || async {
            c.get(format!("{up_url}/metrics"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        };
        let before = metric(&up_metrics().await, "proxmox_mock_requests_total");

        // A bad request is refused locally: nothing reaches the upstream.
        let (status, reason, body) = answer(
            c.post(format!("{}/api2/json/nodes/pve1/qemu", proxy.url()))
                .bearer_auth(PROXY_TOKEN)
                .form(&[("vmid", "42")])
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(
            (status, reason.as_str()),
            (400, "Parameter verification failed.")
        );
        assert!(body["errors"]["vmid"].is_string());
        let (status, _, _) = answer(
            c.get(format!("{}/api2/json/nodes/pve1/bogus", proxy.url()))
                .bearer_auth(PROXY_TOKEN)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 501);
        assert_eq!(
            metric(&up_metrics().await, "proxmox_mock_requests_total"),
            before
        );

        // A good one reaches the upstream with its /api2/json path, with the proxy's token.
        let (status, _, body) = answer(
            c.post(format!("{}/api2/json/nodes/pve1/qemu", proxy.url()))
                .bearer_auth(PROXY_TOKEN)
                .form(&[("vmid", "100"), ("name", "via-proxy")])
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert!(body["data"].as_str().unwrap().starts_with("UPID:pve1:"));
        let (cookie, _) = root_session(&c, &up_url).await;
        let (_, _, direct) = answer(
            c.get(format!("{up_url}/api2/json/nodes/pve1/qemu/100/config"))
                .header("Cookie", &cookie)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(direct["data"]["name"], "via-proxy");
        // Upstream errors come back with PVE's reason phrase.
        let (status, reason, _) = answer(
            c.get(format!(
                "{}/api2/json/nodes/pve1/qemu/999/config",
                proxy.url()
            ))
            .bearer_auth(PROXY_TOKEN)
            .send()
            .await
            .unwrap(),
        )
        .await;
        assert_eq!(
            (status, reason.as_str()),
            (
                500,
                "Configuration file 'nodes/pve1/qemu-server/999.conf' does not exist"
            )
        );
        let mode: Value = c
            .get(format!("{}/mode", proxy.url()))
            .bearer_auth(PROXY_TOKEN)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(mode["mode"], "real");

        // An upstream answer that breaks its schema: reported (header, counter), or 502 when strict.
        let up_mock =
            proxmox_sdk::mock::MockPve::shared("latest", "srv-upstream", None, false).unwrap();
        up_mock.set_object(
            "/nodes/pve1/version",
            json!({"version": 9, "release": "9.2", "repoid": "0123abcd"}),
        );
        let resp = c
            .get(format!("{}/api2/json/nodes/pve1/version", proxy.url()))
            .bearer_auth(PROXY_TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        assert!(resp.headers()[proxmox_sdk::server::MISMATCH_HEADER]
            .to_str()
            .unwrap()
            .contains("'/version'"));
        let m = c
            .get(format!("{}/metrics", proxy.url()))
            .bearer_auth(PROXY_TOKEN)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(metric(&m, "proxmox_proxy_schema_mismatches_total"), 1);
        // The strict proxy logs in with a password (ticket) and answers 502.
        let (status, reason, _) = answer(
            c.get(format!("{}/api2/json/nodes/pve1/version", strict.url()))
                .bearer_auth(PROXY_TOKEN)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 502);
        assert!(
            reason.contains("does not match its schema at '/version'"),
            "{reason}"
        );
        let (status, _, body) = answer(
            c.get(format!("{}/api2/json/nodes", strict.url()))
                .bearer_auth(PROXY_TOKEN)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 200, "{body}");
    });
}

#[test]
fn two_step_login_with_totp() {
    let server = run(config("srv-tfa", true));
    let url = server.url();
    let base32 = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
    let totp = totp_rs::TOTP::new_unchecked(
        totp_rs::Algorithm::SHA1,
        6,
        1,
        30,
        totp_rs::Secret::Encoded(base32.into()).to_bytes().unwrap(),
    );
    rt().block_on(async {
        let c = client();
        let (cookie, csrf) = root_session(&c, &url).await;
        let admin = |req: reqwest::RequestBuilder| {
            req.header("Cookie", &cookie)
                .header("CSRFPreventionToken", &csrf)
        };
        let (status, _, _) = answer(
            admin(c.post(format!("{url}/api2/json/access/users")))
                .form(&[("userid", "bob@pve"), ("password", "bob-password")])
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 200);
        let uri = format!("otpauth://totp/pve:bob@pve?secret={base32}&issuer=pve");
        let (status, _, body) = answer(
            admin(c.post(format!("{url}/api2/json/access/tfa/bob@pve")))
                .form(&[
                    ("type", "totp"),
                    ("totp", uri.as_str()),
                    ("value", "000000"),
                ])
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(
            status, 400,
            "a wrong code does not register the factor: {body}"
        );
        let code = totp.generate_current().unwrap();
        let (status, _, body) = answer(
            admin(c.post(format!("{url}/api2/json/access/tfa/bob@pve")))
                .form(&[
                    ("type", "totp"),
                    ("totp", uri.as_str()),
                    ("value", code.as_str()),
                ])
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 200, "{body}");

        // Step one: password -> challenge ticket with NeedTFA, useless for API calls.
        let (status, _, body) = answer(
            c.post(format!("{url}/api2/json/access/ticket"))
                .form(&[("username", "bob@pve"), ("password", "bob-password")])
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(body["data"]["NeedTFA"], 1);
        let challenge = body["data"]["ticket"].as_str().unwrap().to_string();
        assert!(challenge.starts_with("PVE:!tfa!bob@pve:"));
        let (status, _, _) = answer(
            c.get(format!("{url}/api2/json/nodes"))
                .header("Cookie", format!("PVEAuthCookie={challenge}"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 401);
        // Step two: a wrong code fails, the right one gives a full ticket.
        let (status, reason, _) = answer(
            c.post(format!("{url}/api2/json/access/ticket"))
                .form(&[
                    ("username", "bob@pve"),
                    ("tfa-challenge", challenge.as_str()),
                    ("password", "totp:000000"),
                ])
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!((status, reason.as_str()), (401, "authentication failure"));
        let code = format!("totp:{}", totp.generate_current().unwrap());
        let (status, _, body) = answer(
            c.post(format!("{url}/api2/json/access/ticket"))
                .form(&[
                    ("username", "bob@pve"),
                    ("tfa-challenge", challenge.as_str()),
                    ("password", code.as_str()),
                ])
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 200);
        let ticket = body["data"]["ticket"].as_str().unwrap();
        assert!(ticket.starts_with("PVE:bob@pve:"));
        assert!(body["data"].get("NeedTFA").is_none());
        let (status, _, _) = answer(
            c.get(format!("{url}/api2/json/nodes"))
                .header("Cookie", format!("PVEAuthCookie={ticket}"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 200);
    });
}

#[test]
fn real_mode_retries_reads_on_503() {
    use std::io::{Read, Write};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    // A flaky "PVE": 503 twice, then the answer.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let hits = Arc::new(AtomicUsize::new(0));
    let seen = hits.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let n = seen.fetch_add(1, Ordering::SeqCst);
            let resp = if n < 2 {
                "HTTP/1.1 503 busy\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}".to_string()
            } else {
                let body = r#"{"data":{"version":"9.2.0","release":"9.2","repoid":"0123abcd"}}"#;
                format!("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len())
            };
            let _ = s.write_all(resp.as_bytes());
        }
    });
    let mut cfg = config("srv-retry", false);
    cfg.upstream = Some(proxmox_sdk::server::proxy::UpstreamConfig {
        credentials: ProxyCredentials::Own {
            token: PROXY_TOKEN.into(),
        },
        service: proxmox_sdk::schema::Product::Pve,
        url: format!("http://{addr}"),
        path_prefix: String::new(),
        token_id: Some("root@pam!t".into()),
        token_secret: Some("s".into()),
        username: None,
        password: None,
        verify_ssl: true,
        fingerprint: None,
        timeout: Duration::from_secs(5),
        connect_timeout: Duration::from_secs(5),
        strict: true,
        retries: 3,
        retry_backoff: Duration::from_millis(10),
    });
    let proxy = run(cfg);
    rt().block_on(async {
        let (status, _, body) = answer(
            client()
                .get(format!("{}/api2/json/version", proxy.url()))
                .bearer_auth(PROXY_TOKEN)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["data"]["release"], "9.2");
        assert_eq!(hits.load(Ordering::SeqCst), 3, "two retries, then success");
        // Writes are never retried.
        hits.store(0, Ordering::SeqCst);
        let (status, reason, _) = answer(
            client()
                .post(format!("{}/api2/json/pools", proxy.url()))
                .bearer_auth(PROXY_TOKEN)
                .form(&[("poolid", "x")])
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!((status, reason.as_str()), (503, "busy"));
        assert_eq!(hits.load(Ordering::SeqCst), 1);
    });
}

#[test]
fn tls_from_pem_files() {
    let dir = tempfile::tempdir().unwrap();
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    std::fs::write(&cert, certified.cert.pem()).unwrap();
    std::fs::write(&key, certified.signing_key.serialize_pem()).unwrap();
    let mut cfg = config("srv-pem", false);
    cfg.tls = Some(TlsSource::Files {
        cert: cert.clone(),
        key: key.clone(),
    });
    let server = run(cfg);
    let expected = proxmox_sdk::tls::Fingerprint::of(certified.cert.der().as_ref());
    assert_eq!(
        server.fingerprint,
        Some(expected),
        "the fingerprint of the given certificate"
    );
    rt().block_on(async {
        let pinned = reqwest::Client::builder()
            .use_preconfigured_tls(proxmox_sdk::tls::pinned_client_config(expected))
            .build()
            .unwrap();
        let (status, _, _) = answer(
            pinned
                .get(format!("{}/api2/json/version", server.url()))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 200);
    });
    // A missing key file is an error naming it, not a panic.
    let mut bad = config("srv-pem-bad", false);
    bad.tls = Some(TlsSource::Files {
        cert,
        key: dir.path().join("missing.pem"),
    });
    let err = start(TcpListener::bind("127.0.0.1:0").unwrap(), bad)
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("missing.pem"), "{err}");
}

/// The admin token of the servers the admin tests start.
const ADMIN_TOKEN: &str = "admin-token-for-tests";

#[test]
fn admin_endpoints_control_the_mock() {
    let off = run(config("srv-admin-off", false));
    rt().block_on(async {
        let r = client()
            .post(format!("{}/_mock/latency", off.url()))
            .form(&[("ms", "5")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "disabled unless asked for");
    });
    let mut cfg = config("srv-admin", true);
    cfg.admin = true;
    cfg.admin_token = Some(ADMIN_TOKEN.into());
    let server = run(cfg);
    let url = server.url();
    let base = format!("{url}/api2/json");
    rt().block_on(async {
        let c = client();
        let (cookie, csrf) = root_session(&c, &url).await;
        let get = |p: &str| c.get(format!("{base}{p}")).header("Cookie", &cookie);
        // Failures for the next two matching calls, then normal answers.
        let r = c
            .post(format!("{url}/_mock/faults"))
            .bearer_auth(ADMIN_TOKEN)
            .form(&[
                ("method", "GET"),
                ("path", "/nodes/pve1/version"),
                ("count", "2"),
                ("status", "500"),
                ("message", "boom"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        for _ in 0..2 {
            let (status, reason, _) =
                answer(get("/nodes/pve1/version").send().await.unwrap()).await;
            assert_eq!((status, reason.as_str()), (500, "boom"));
        }
        let (status, _, _) = answer(get("/nodes/pve1/version").send().await.unwrap()).await;
        assert_eq!(status, 200);

        // A failure injected into a worker ends its task with the message.
        let admin = |req: reqwest::RequestBuilder| {
            req.header("Cookie", &cookie)
                .header("CSRFPreventionToken", &csrf)
        };
        answer(
            admin(c.post(format!("{base}/nodes/pve1/qemu")))
                .form(&[("vmid", "100")])
                .send()
                .await
                .unwrap(),
        )
        .await;
        c.post(format!("{url}/_mock/faults"))
            .bearer_auth(ADMIN_TOKEN)
            .form(&[
                ("path", "nodes/{node}/qemu/{vmid}/status/start"),
                ("message", "start failed: QEMU exited with code 1"),
            ])
            .send()
            .await
            .unwrap();
        let (status, _, body) = answer(
            admin(c.post(format!("{base}/nodes/pve1/qemu/100/status/start")))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 200);
        let upid = body["data"].as_str().unwrap().to_string();
        let enc = percent_encoding::utf8_percent_encode(&upid, percent_encoding::NON_ALPHANUMERIC)
            .to_string();
        let (_, _, st) = answer(
            get(&format!("/nodes/pve1/tasks/{enc}/status"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(
            st["data"]["exitstatus"],
            "start failed: QEMU exited with code 1"
        );

        // An offline node answers 595.
        c.post(format!("{url}/_mock/nodes/pve1/offline"))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .unwrap();
        let (status, reason, _) = answer(get("/nodes/pve1/status").send().await.unwrap()).await;
        assert_eq!((status, reason.as_str()), (595, "No route to host"));
        c.delete(format!("{url}/_mock/nodes/pve1/offline"))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .unwrap();
        let (status, _, _) = answer(get("/nodes/pve1/status").send().await.unwrap()).await;
        assert_eq!(status, 200);

        // The clock: two hours later the ticket has expired; expiring all tickets works too.
        c.post(format!("{url}/_mock/clock/advance"))
            .bearer_auth(ADMIN_TOKEN)
            .form(&[("seconds", "7201")])
            .send()
            .await
            .unwrap();
        let (status, reason, _) = answer(get("/version").send().await.unwrap()).await;
        assert_eq!(
            (status, reason.as_str()),
            (401, "permission denied - invalid PVE ticket")
        );
        let (cookie2, _) = root_session(&c, &url).await;
        let (status, _, _) = answer(
            c.get(format!("{base}/version"))
                .header("Cookie", &cookie2)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 200);
        c.post(format!("{url}/_mock/tickets/expire"))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .unwrap();
        let (status, _, _) = answer(
            c.get(format!("{base}/version"))
                .header("Cookie", &cookie2)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 401);

        // The request log, with secrets redacted.
        let log: Value = c
            .get(format!("{url}/_mock/requests"))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let entries = log["data"].as_array().unwrap();
        assert!(entries
            .iter()
            .any(|e| e["path"] == "/nodes/pve1/qemu" && e["method"] == "POST"));
        assert!(!log.to_string().contains("correct horse"));
    });
}

#[test]
fn admin_endpoints_need_root_or_the_admin_token() {
    let mut cfg = config("srv-admin-auth", true);
    cfg.admin = true;
    cfg.admin_token = Some(ADMIN_TOKEN.into());
    let server = run(cfg);
    let url = server.url();
    rt().block_on(async {
        let c = client();
        let (cookie, csrf) = root_session(&c, &url).await;
        let pool = c
            .post(format!("{url}/api2/json/pools"))
            .header("Cookie", &cookie)
            .header("CSRFPreventionToken", &csrf)
            .form(&[("poolid", "kept")])
            .send()
            .await
            .unwrap();
        assert_eq!(pool.status(), 200);
        // Nobody, a wrong token, root's ticket without its CSRF token on a write: refused,
        // and nothing happens.
        for req in [
            c.post(format!("{url}/_mock/reset")),
            c.post(format!("{url}/_mock/reset")).bearer_auth("wrong"),
            c.post(format!("{url}/_mock/reset"))
                .header("Cookie", &cookie),
        ] {
            let (status, _, _) = answer(req.send().await.unwrap()).await;
            assert_eq!(status, 401);
        }
        let (status, _, body) = answer(
            c.get(format!("{url}/api2/json/pools"))
                .header("Cookie", &cookie)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(body["data"][0]["poolid"], "kept", "{body}");
        // Root's ticket reads; the token writes.
        let (status, _, _) = answer(
            c.get(format!("{url}/_mock/requests"))
                .header("Cookie", &cookie)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 200);
        let (status, _, _) = answer(
            c.post(format!("{url}/_mock/latency"))
                .bearer_auth(ADMIN_TOKEN)
                .form(&[("ms", "1e300")])
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 400, "values are range-checked");
        let (status, _, _) = answer(
            c.post(format!("{url}/_mock/reset"))
                .header("Cookie", &cookie)
                .header("CSRFPreventionToken", &csrf)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 200);
    });
}
