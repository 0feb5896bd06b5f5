//! The HTTPS transport against real servers on 127.0.0.1: our mock server over TLS
//! (tickets, re-login after expiry, tokens, TFA, pinning, uploads) and a small axum server
//! that misbehaves on purpose (failures to retry, redirects, slow and large answers) and
//! records what it received (cookies, CSRF headers, renewals).

mod common;

use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::Router;
use common::{params, tls_server, ROOT_PASSWORD};
use parking_lot::Mutex;
use proxmox_sdk::api::{ApiError, Call, Error as ClientError, Method, Upload, UploadSource};
use proxmox_sdk::backend::Backend;
use proxmox_sdk::client::Client;
use proxmox_sdk::mock::MockPve;
use proxmox_sdk::server::{start, AuthConfig, RunningServer, ServerConfig, TlsSource};
use proxmox_sdk::tls::Fingerprint;
use proxmox_sdk::transport::https::{HttpsAuth, HttpsConfig, HttpsTransport};
use serde_json::{json, Map, Value};

fn password_auth(user: &str, password: &str, otp: Option<&str>) -> HttpsAuth {
    HttpsAuth::Password {
        user: user.into(),
        password: password.into(),
        otp: otp.map(str::to_string),
        otptype: "totp".into(),
        cookie: "PVEAuthCookie".into(),
    }
}

fn client_for(base: &str, auth: HttpsAuth, tweak: impl FnOnce(&mut HttpsConfig)) -> Client {
    let mut cfg = HttpsConfig::new(base.to_string(), auth);
    tweak(&mut cfg);
    Client::new(
        Backend::Https(Arc::new(HttpsTransport::new(cfg).unwrap())),
        proxmox_sdk::schema::bundled::load("latest").unwrap(),
    )
}

fn pinned(server: &RunningServer, auth: HttpsAuth) -> Client {
    let fp = server.fingerprint.unwrap();
    client_for(&server.url(), auth, |c| c.fingerprint = Some(fp))
}

fn api_err(r: Result<Value, ClientError>) -> ApiError {
    match r {
        Err(ClientError::Api(e)) => e,
        other => panic!("expected an API error, got {other:?}"),
    }
}

#[test]
fn ticket_auth_over_pinned_tls_with_relogin_after_expiry() {
    let server = tls_server("https-ticket");
    let px = pinned(&server, password_auth("root@pam", ROOT_PASSWORD, None));
    let v = px
        .call(Method::Get, "/api2/json/version", Map::new())
        .unwrap();
    assert_eq!(v["release"], "9.2");
    let upid = px
        .call(
            Method::Post,
            "/api2/json/nodes/pve1/qemu",
            params(json!({"vmid": 100, "name": "web", "onboot": true})),
        )
        .unwrap();
    assert!(upid.as_str().unwrap().starts_with("UPID:pve1:"), "{upid}");
    let cfg = px
        .call(
            Method::Get,
            "/api2/json/nodes/pve1/qemu/100/config",
            Map::new(),
        )
        .unwrap();
    assert_eq!(cfg["name"], "web");
    assert_eq!(cfg["onboot"], 1, "booleans travel as 0/1");

    // Every ticket issued so far becomes invalid: the next call logs in once more and
    // replays the request, for reads and writes alike.
    let store = MockPve::shared("9.2", "https-ticket", None, false).unwrap();
    store.store().expire_tickets();
    let list = px
        .call(Method::Get, "/api2/json/nodes/pve1/qemu", Map::new())
        .unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);
    store.store().expire_tickets();
    px.call(
        Method::Put,
        "/api2/json/nodes/pve1/qemu/100/config",
        params(json!({"memory": 4096})),
    )
    .unwrap();

    // PVE's answers come back as errors with its message.
    let e = api_err(px.call(
        Method::Get,
        "/api2/json/nodes/pve1/qemu/999/config",
        Map::new(),
    ));
    assert_eq!(e.status, 500);
    assert_eq!(
        e.message,
        "Configuration file 'nodes/pve1/qemu-server/999.conf' does not exist"
    );
    let e = api_err(px.call(
        Method::Post,
        "/api2/json/nodes/pve1/qemu",
        params(json!({"vmid": "abc"})),
    ));
    assert_eq!(e.status, 400);
    assert!(e.errors.unwrap()["vmid"].contains("type check"));
    server.stop().unwrap();
}

/// The message of a TLS failure; with password auth the first TLS handshake is the
/// login's, so it arrives as a login failure carrying the TLS error.
fn tls_failure<T: std::fmt::Debug>(r: Result<T, ClientError>) -> String {
    match r {
        Err(ClientError::Tls(m)) => m,
        Err(ClientError::Login(inner)) => match *inner {
            ClientError::Tls(m) => m,
            other => panic!("login failed with {other:?}, not TLS"),
        },
        other => panic!("{other:?}"),
    }
}

#[test]
fn tls_verification_and_pinning() {
    let server = tls_server("https-tls");
    let auth = || password_auth("root@pam", ROOT_PASSWORD, None);
    // Verification on (the default): a self-signed certificate is refused.
    let strict = client_for(&server.url(), auth(), |_| {});
    let m = tls_failure(strict.call(Method::Get, "/api2/json/version", Map::new()));
    assert!(m.contains("certificate"), "{m}");
    // A pin of another certificate is refused too, naming both fingerprints.
    let wrong = Fingerprint::of(b"some other certificate");
    let mismatch = client_for(&server.url(), auth(), |c| c.fingerprint = Some(wrong));
    let m = tls_failure(mismatch.call(Method::Get, "/api2/json/version", Map::new()));
    assert!(m.to_lowercase().contains("fingerprint"), "{m}");
    // verify_ssl=False still works.
    let loose = client_for(&server.url(), auth(), |c| c.verify_ssl = false);
    assert!(loose
        .call(Method::Get, "/api2/json/version", Map::new())
        .is_ok());
    // The right pin works.
    assert!(pinned(&server, auth())
        .call(Method::Get, "/api2/json/version", Map::new())
        .is_ok());
    server.stop().unwrap();
}

#[test]
fn failed_logins_keep_pves_reason() {
    let server = tls_server("https-badlogin");
    let px = pinned(&server, password_auth("root@pam", "wrong", None));
    match px.call(Method::Get, "/api2/json/version", Map::new()) {
        Err(ClientError::Auth(m)) => {
            assert!(m.contains("root@pam") && m.contains("401"), "{m}");
            assert!(!m.contains("wrong"), "the password is never shown: {m}");
        }
        other => panic!("{other:?}"),
    }
    server.stop().unwrap();
}

#[test]
fn api_tokens_and_tfa() {
    let server = tls_server("https-token");
    let root = pinned(&server, password_auth("root@pam", ROOT_PASSWORD, None));
    let token = root
        .call(
            Method::Post,
            "/api2/json/access/users/root@pam/token/ci",
            params(json!({"privsep": 0})),
        )
        .unwrap();
    let secret = token["value"].as_str().unwrap().to_string();
    let by_token = pinned(
        &server,
        HttpsAuth::token("PVEAPIToken=", "root@pam", "ci", "=", &secret),
    );
    assert_eq!(
        by_token
            .call(Method::Get, "/api2/json/version", Map::new())
            .unwrap()["release"],
        "9.2"
    );
    // Writes need no CSRF token with API tokens.
    by_token
        .call(
            Method::Post,
            "/api2/json/pools",
            params(json!({"poolid": "ci-pool"})),
        )
        .unwrap();
    let wrong = pinned(
        &server,
        HttpsAuth::token(
            "PVEAPIToken=",
            "root@pam",
            "ci",
            "=",
            "00000000-0000-0000-0000-000000000000",
        ),
    );
    let e = api_err(wrong.call(Method::Get, "/api2/json/version", Map::new()));
    assert_eq!(e.status, 401);

    // TFA: bob gets a TOTP factor; without an OTP the login says what is missing.
    root.call(
        Method::Post,
        "/api2/json/access/users",
        params(json!({"userid": "bob@pve", "password": "bob-password"})),
    )
    .unwrap();
    let base32 = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
    let totp = totp_rs::TOTP::new_unchecked(
        totp_rs::Algorithm::SHA1,
        6,
        1,
        30,
        totp_rs::Secret::Encoded(base32.into()).to_bytes().unwrap(),
    );
    root.call(
        Method::Post,
        "/api2/json/access/tfa/bob@pve",
        params(json!({
            "type": "totp",
            "totp": format!("otpauth://totp/pve:bob@pve?secret={base32}&issuer=pve"),
            "value": totp.generate_current().unwrap(),
        })),
    )
    .unwrap();
    let no_otp = pinned(&server, password_auth("bob@pve", "bob-password", None));
    match no_otp.call(Method::Get, "/api2/json/version", Map::new()) {
        Err(ClientError::Auth(m)) => assert!(m.contains("otp="), "{m}"),
        other => panic!("{other:?}"),
    }
    let bad_otp = pinned(
        &server,
        password_auth("bob@pve", "bob-password", Some("000000")),
    );
    assert!(matches!(
        bad_otp.call(Method::Get, "/api2/json/version", Map::new()),
        Err(ClientError::Auth(_))
    ));
    let code = totp.generate_current().unwrap();
    let bob = pinned(
        &server,
        password_auth("bob@pve", "bob-password", Some(&code)),
    );
    assert!(bob
        .call(Method::Get, "/api2/json/version", Map::new())
        .is_ok());
    let (ticket, csrf) = proxmox_sdk::runtime::block_on({
        let bob = bob.clone();
        async move { bob.tokens().await }
    })
    .unwrap()
    .unwrap();
    assert!(ticket.starts_with("PVE:bob@pve:"), "{ticket}");
    assert!(!csrf.is_empty());
    server.stop().unwrap();
}

#[test]
fn uploads_stream_as_multipart_and_land_in_storage() {
    let server = tls_server("https-upload");
    let px = pinned(&server, password_auth("root@pam", ROOT_PASSWORD, None));
    let dir = tempfile::tempdir().unwrap();
    let iso = dir.path().join("debian.iso");
    let bytes: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&iso, &bytes).unwrap();
    let digest = {
        use sha2::Digest;
        let d = sha2::Sha256::digest(&bytes);
        d.iter().map(|b| format!("{b:02x}")).collect::<String>()
    };
    let upload = |checksum: &str, name: &str| {
        let mut call = Call::new(
            Method::Post,
            "/api2/json/nodes/pve1/storage/local/upload",
            params(json!({"content": "iso", "checksum": checksum, "checksum-algorithm": "sha256"})),
        );
        call.uploads.push(Upload {
            field: "filename".into(),
            file_name: name.into(),
            source: UploadSource::Path(iso.clone()),
        });
        px.execute(call).unwrap().into_value()
    };
    let status = |upid: &Value| {
        px.call(
            Method::Get,
            &format!(
                "/api2/json/nodes/pve1/tasks/{}/status",
                percent_encoding::utf8_percent_encode(
                    upid.as_str().unwrap(),
                    percent_encoding::NON_ALPHANUMERIC
                )
            ),
            Map::new(),
        )
        .unwrap()
    };
    let upid = upload(&digest, "debian.iso");
    assert_eq!(status(&upid)["exitstatus"], "OK");
    let content = px
        .call(
            Method::Get,
            "/api2/json/nodes/pve1/storage/local/content",
            Map::new(),
        )
        .unwrap();
    assert_eq!(
        content,
        json!([{"volid": "local:iso/debian.iso", "content": "iso", "format": "iso",
                "size": 3_000_000, "ctime": content[0]["ctime"]}])
    );
    // A checksum that does not match fails the task as PVE does, and stores nothing.
    let upid = upload(&"0".repeat(64), "other.iso");
    let st = status(&upid);
    assert!(
        st["exitstatus"]
            .as_str()
            .unwrap()
            .starts_with("checksum mismatch: got '"),
        "{st}"
    );
    let content = px
        .call(
            Method::Get,
            "/api2/json/nodes/pve1/storage/local/content",
            Map::new(),
        )
        .unwrap();
    assert_eq!(content.as_array().unwrap().len(), 1);
    server.stop().unwrap();
}

/// Method, `Cookie` and `CSRFPreventionToken` of one request.
type Echo = (String, Option<String>, Option<String>);

/// What the misbehaving server saw.
#[derive(Default)]
struct Seen {
    logins: AtomicUsize,
    flaky: AtomicUsize,
    /// (method, cookie, csrf) of `/echo` requests.
    echo: Mutex<Vec<Echo>>,
    /// The `password` of each ticket request.
    passwords: Mutex<Vec<String>>,
}

fn header(h: &HeaderMap, name: &str) -> Option<String> {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

async fn ticket(State(seen): State<Arc<Seen>>, body: String) -> Response {
    let n = seen.logins.fetch_add(1, Ordering::SeqCst) + 1;
    let form: Vec<(String, String)> = form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    let password = form
        .iter()
        .find(|(k, _)| k == "password")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    seen.passwords.lock().push(password);
    axum::Json(json!({"data": {
        "ticket": format!("PVE:root@pam:0000000{n}::sig=={n}"),
        "CSRFPreventionToken": format!("0000000{n}:csrf{n}"),
        "username": "root@pam",
    }}))
    .into_response()
}

fn misbehaving() -> (String, Arc<Seen>) {
    let seen = Arc::new(Seen::default());
    let app = Router::new()
        .route("/api2/json/access/ticket", post(ticket))
        .route(
            "/api2/json/echo",
            any(|State(seen): State<Arc<Seen>>, method: axum::http::Method, h: HeaderMap| async move {
                seen.echo.lock().push((
                    method.to_string(),
                    header(&h, "cookie"),
                    header(&h, "csrfpreventiontoken"),
                ));
                axum::Json(json!({"data": "ok"}))
            }),
        )
        .route(
            "/api2/json/flaky",
            any(|State(seen): State<Arc<Seen>>| async move {
                if seen.flaky.fetch_add(1, Ordering::SeqCst) < 2 {
                    (StatusCode::SERVICE_UNAVAILABLE, "busy").into_response()
                } else {
                    axum::Json(json!({"data": "finally"})).into_response()
                }
            }),
        )
        .route(
            "/api2/json/redirect",
            get(|| async { (StatusCode::FOUND, [("location", "https://elsewhere.example/")]).into_response() }),
        )
        .route(
            "/api2/json/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(3)).await;
                axum::Json(json!({"data": 1}))
            }),
        )
        .route(
            "/api2/json/big",
            get(|| async { axum::Json(json!({"data": "x".repeat(100_000)})) }),
        )
        .route(
            "/api2/json/unreachable",
            get(|| async {
                let mut r = Response::new(axum::body::Body::from("{\"data\":null}"));
                *r.status_mut() = StatusCode::from_u16(595).unwrap();
                r.extensions_mut().insert(hyper::ext::ReasonPhrase::from_static(b"No route to host"));
                r
            }),
        )
        .with_state(seen.clone());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async move {
            let l = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(l, app).await.unwrap();
        });
    });
    (format!("http://{addr}"), seen)
}

#[test]
fn csrf_only_on_writes_cookie_unquoted_and_renewal() {
    let (base, seen) = misbehaving();
    let px = client_for(&base, password_auth("root@pam", "pw", None), |_| {});
    px.call(Method::Get, "/api2/json/echo", Map::new()).unwrap();
    px.call(Method::Post, "/api2/json/echo", Map::new())
        .unwrap();
    px.call(Method::Delete, "/api2/json/echo", Map::new())
        .unwrap();
    let echo = seen.echo.lock().clone();
    assert_eq!(seen.logins.load(Ordering::SeqCst), 1, "one lazy login");
    assert_eq!(
        echo[0].1.as_deref(),
        Some("PVEAuthCookie=PVE:root@pam:00000001::sig==1")
    );
    assert_eq!(echo[0].2, None, "no CSRF token on reads");
    assert_eq!(echo[1].2.as_deref(), Some("00000001:csrf1"));
    assert_eq!(echo[2].2.as_deref(), Some("00000001:csrf1"));

    // A ticket older than the renewal age is renewed by posting it as the password.
    let renewing = client_for(&base, password_auth("root@pam", "pw", None), |c| {
        c.renew_after = Duration::ZERO;
    });
    renewing
        .call(Method::Get, "/api2/json/echo", Map::new())
        .unwrap();
    renewing
        .call(Method::Get, "/api2/json/echo", Map::new())
        .unwrap();
    let passwords = seen.passwords.lock().clone();
    assert_eq!(passwords[1], "pw");
    assert_eq!(passwords[2], "PVE:root@pam:00000002::sig==2");
}

#[test]
fn retries_redirects_timeouts_and_size_caps() {
    let (base, seen) = misbehaving();
    let token = || HttpsAuth::token("PVEAPIToken=", "root@pam", "t", "=", "s");
    // Writes are never retried.
    let retrying = client_for(&base, token(), |c| {
        c.max_retries = 3;
        c.retry_backoff = Duration::from_millis(10);
    });
    let e = api_err(retrying.call(Method::Post, "/api2/json/flaky", Map::new()));
    assert_eq!(e.status, 503);
    assert_eq!(seen.flaky.load(Ordering::SeqCst), 1);
    // Reads are, until the server recovers.
    assert_eq!(
        retrying
            .call(Method::Get, "/api2/json/flaky", Map::new())
            .unwrap(),
        json!("finally")
    );
    assert_eq!(seen.flaky.load(Ordering::SeqCst), 3);

    match retrying.call(Method::Get, "/api2/json/redirect", Map::new()) {
        Err(ClientError::Redirect { status, location }) => {
            assert_eq!(status, 302);
            assert_eq!(location.as_deref(), Some("https://elsewhere.example/"));
        }
        other => panic!("{other:?}"),
    }

    let quick = client_for(&base, token(), |c| {
        c.timeout = Some(Duration::from_millis(300));
    });
    assert!(matches!(
        quick.call(Method::Get, "/api2/json/slow", Map::new()),
        Err(ClientError::Timeout(_))
    ));
    // A per-call timeout overrides the client's.
    let mut call = Call::new(Method::Get, "/api2/json/slow", Map::new());
    call.timeout = Some(Duration::from_millis(200));
    let patient = client_for(&base, token(), |c| {
        c.timeout = Some(Duration::from_secs(30));
    });
    assert!(matches!(
        patient.execute(call),
        Err(ClientError::Timeout(_))
    ));

    match patient.call_bounded(Method::Get, "/api2/json/big", Map::new(), 1000) {
        Err(ClientError::TooLarge { limit, size }) => {
            assert_eq!(limit, 1000);
            assert!(size > 1000);
        }
        other => panic!("{other:?}"),
    }
    assert!(patient
        .call_bounded(Method::Get, "/api2/json/big", Map::new(), 200_000)
        .is_ok());

    let e = api_err(patient.call(Method::Get, "/api2/json/unreachable", Map::new()));
    assert_eq!(e.status, 595);
    assert!(
        e.message
            .starts_with("No route to host (PVE could not connect"),
        "{}",
        e.message
    );

    // Nothing listens: a connection error (and retried reads give up after max_retries).
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let nowhere = client_for(&format!("http://127.0.0.1:{port}"), token(), |c| {
        c.max_retries = 1;
        c.retry_backoff = Duration::from_millis(1);
    });
    assert!(matches!(
        nowhere.call(Method::Get, "/api2/json/version", Map::new()),
        Err(ClientError::Connection(_))
    ));
}

#[test]
fn a_ca_bundle_verifies_the_server() {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    let dir = tempfile::tempdir().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_key = KeyPair::generate().unwrap();
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .signed_by(&leaf_key, &issuer)
        .unwrap();
    let (cert, key, ca) = (
        dir.path().join("node.pem"),
        dir.path().join("node.key"),
        dir.path().join("ca.pem"),
    );
    std::fs::write(&cert, leaf.pem()).unwrap();
    std::fs::write(&key, leaf_key.serialize_pem()).unwrap();
    std::fs::write(&ca, ca_cert.pem()).unwrap();

    proxmox_sdk::mock::store::forget_store("9.2", "https-ca");
    let mut cfg = ServerConfig::mock(
        "latest",
        "https-ca",
        AuthConfig {
            enabled: true,
            root_password: ROOT_PASSWORD.into(),
        },
    );
    cfg.tls = Some(TlsSource::Files {
        cert: cert.clone(),
        key,
    });
    let server = start(TcpListener::bind("127.0.0.1:0").unwrap(), cfg).unwrap();
    let url = format!("https://localhost:{}", server.addr.port());
    let auth = || password_auth("root@pam", ROOT_PASSWORD, None);
    let trusted = client_for(&url, auth(), |c| c.cert = Some(ca.clone()));
    assert_eq!(
        trusted
            .call(Method::Get, "/api2/json/version", Map::new())
            .unwrap()["release"],
        "9.2"
    );
    // The bundle replaces the system roots: another CA (here the leaf itself) fails.
    let other = client_for(&url, auth(), |c| c.cert = Some(cert.clone()));
    tls_failure(other.call(Method::Get, "/api2/json/version", Map::new()));
    let missing = HttpsTransport::new({
        let mut c = HttpsConfig::new(url.clone(), auth());
        c.cert = Some(dir.path().join("nope.pem"));
        c
    });
    assert!(missing.unwrap_err().starts_with("cert: cannot read"));
    server.stop().unwrap();
}

#[test]
fn token_headers_per_service() {
    // PBS and PDM put `:` before the secret and use their own prefix.
    let pbs = HttpsAuth::token("PBSAPIToken=", "backup@pbs", "ci", ":", "s3cret");
    match &pbs {
        HttpsAuth::Token { id_part, secret } => {
            assert_eq!(
                format!("{id_part}{secret}"),
                "PBSAPIToken=backup@pbs!ci:s3cret"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(!format!("{pbs:?}").contains("s3cret"));
}

#[test]
fn a_token_no_header_can_carry_is_refused_before_any_connection() {
    // Nothing listens on this port: a request sent would fail to connect instead.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let c = client_for(
        &format!("https://127.0.0.1:{port}"),
        HttpsAuth::token(
            "PVEAPIToken=",
            "root@pam",
            "ci",
            "=",
            "s3cret\nX-Injected: 1",
        ),
        |_| {},
    );
    for _ in 0..2 {
        match c.call(Method::Get, "/api2/json/version", Map::new()) {
            Err(ClientError::Invalid(m)) => {
                assert_eq!(
                    m,
                    "token_value: contains characters not allowed in an HTTP header"
                );
                assert!(!m.contains("s3cret"));
            }
            other => panic!("{other:?}"),
        }
    }
}

/// A bare HTTP/1.1 server on 127.0.0.1: answers every request of a connection with
/// `{"data": "pong"}` (gzip-compressed when `gzip` and the client accepts it), and closes a
/// connection that stays idle for `idle` (a keep-alive timeout). Counts connections.
fn keepalive_server(idle: Duration, gzip: bool) -> (String, Arc<AtomicUsize>) {
    use std::io::{Read, Write};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            count.fetch_add(1, Ordering::SeqCst);
            std::thread::spawn(move || {
                stream.set_read_timeout(Some(idle)).unwrap();
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                        match stream.read(&mut chunk) {
                            Ok(0) | Err(_) => return, // closed, or idle too long
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                        continue;
                    };
                    let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                    buf.drain(..end + 4);
                    let body = br#"{"data": "pong"}"#.to_vec();
                    let (body, encoding) = if gzip && head.contains("accept-encoding: gzip") {
                        let mut enc =
                            flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                        enc.write_all(&body).unwrap();
                        (enc.finish().unwrap(), "Content-Encoding: gzip\r\n")
                    } else {
                        (body, "")
                    };
                    let head = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n{encoding}Content-Length: {}\r\n\r\n",
                        body.len()
                    );
                    if stream.write_all(head.as_bytes()).is_err()
                        || stream.write_all(&body).is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    (base, accepted)
}

fn token_transport(base: &str, tweak: impl FnOnce(&mut HttpsConfig)) -> HttpsTransport {
    let mut cfg = HttpsConfig::new(
        base.to_string(),
        HttpsAuth::token("PVEAPIToken=", "root@pam", "t", "=", "s"),
    );
    tweak(&mut cfg);
    HttpsTransport::new(cfg).unwrap()
}

#[test]
fn the_lean_path_keeps_connections_alive_and_replaces_the_ones_the_server_closed() {
    let (base, accepted) = keepalive_server(Duration::from_millis(150), false);
    let t = token_transport(&base, |_| {});
    assert!(
        t.is_lean(),
        "plain HTTP without a proxy takes the lean path"
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    let version = Call::new(Method::Get, "/api2/json/version", Map::new());
    rt.block_on(async {
        for _ in 0..5 {
            assert_eq!(t.call(&version).await.unwrap(), json!("pong"));
        }
        assert_eq!(
            accepted.load(Ordering::SeqCst),
            1,
            "one kept-alive connection"
        );
        // The server drops the idle connection; the next call gets a new one.
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert_eq!(t.call(&version).await.unwrap(), json!("pong"));
        assert_eq!(accepted.load(Ordering::SeqCst), 2);
        // Concurrent calls open connections as needed and all succeed.
        let all = futures_util::future::join_all((0..8).map(|_| t.call(&version))).await;
        assert!(
            all.iter().all(|r| r.as_ref().ok() == Some(&json!("pong"))),
            "{all:?}"
        );
    });
}

#[test]
fn the_lean_path_accepts_gzip_as_reqwest_does() {
    let (base, _) = keepalive_server(Duration::from_secs(5), true);
    let t = token_transport(&base, |_| {});
    assert!(t.is_lean());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let answer = rt.block_on(t.call(&Call::new(Method::Get, "/api2/json/version", Map::new())));
    assert_eq!(answer.unwrap(), json!("pong"));
}

#[test]
fn proxies_and_unpinned_certificates_go_through_reqwest() {
    let server = tls_server("https-lean");
    let fp = server.fingerprint.unwrap();
    assert!(token_transport(&server.url(), |c| c.fingerprint = Some(fp)).is_lean());
    // Verified against the system's roots or a CA bundle: reqwest's verifier.
    assert!(!token_transport(&server.url(), |_| {}).is_lean());
    // A proxy: reqwest's proxy support.
    let proxied = token_transport(&server.url(), |c| {
        c.fingerprint = Some(fp);
        c.proxies = vec![("https".into(), "http://127.0.0.1:9".into())];
    });
    assert!(!proxied.is_lean());
}
