//! The codegen: determinism, identity with the committed files, the command line, and
//! fetching from a node over real TLS on 127.0.0.1 (verified, pinned, insecure).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use proxmox_sdk::codegen::{fetch, generate, render, CodegenError};
use proxmox_sdk::schema::Product;
use proxmox_sdk::tls::Fingerprint;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn input(version: &str) -> String {
    std::fs::read_to_string(root().join(format!("generated/inputs/proxmox/{version}/apidoc.js")))
        .unwrap()
}

#[test]
fn output_is_deterministic_and_matches_committed_files() {
    for v in ["9.2", "9.1.11"] {
        let text = input(v);
        let a = render(&text, Product::Pve, v, "input").unwrap();
        let b = render(&text, Product::Pve, v, "input").unwrap();
        assert!(
            a.apidoc_json == b.apidoc_json && a.openapi_json == b.openapi_json,
            "{v} is not deterministic"
        );
        let dir = root().join("generated/proxmox").join(v);
        let committed_apidoc = std::fs::read_to_string(dir.join("apidoc.json")).unwrap();
        let committed_openapi = std::fs::read_to_string(dir.join("openapi.json")).unwrap();
        assert!(
            a.apidoc_json == committed_apidoc,
            "{v}: apidoc.json differs from `make regen`"
        );
        assert!(
            a.openapi_json == committed_openapi,
            "{v}: openapi.json differs from `make regen`"
        );
    }
}

#[test]
fn writes_version_folders_and_index() {
    let out = tempfile::tempdir().unwrap();
    let s = generate(&input("9.1.11"), Product::Pve, "9.1.11", out.path(), "in").unwrap();
    assert_eq!((s.operations, s.paths), (649, 431));
    let s = generate(&input("9.2"), Product::Pve, "9.2", out.path(), "in").unwrap();
    assert_eq!((s.operations, s.paths), (675, 444));
    let index: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("versions.json")).unwrap())
            .unwrap();
    assert_eq!(
        index,
        serde_json::json!({"latest": "9.2", "versions": ["9.1.11", "9.2"]})
    );
    assert!(out.path().join("9.2/openapi.json").is_file());
    assert!(!out.path().join("9.2/openapi.json.tmp").exists());
}

#[test]
fn plain_json_and_old_forms_give_the_same_output() {
    let js = input("9.2");
    let from_js = render(&js, Product::Pve, "9.2", "js").unwrap();
    let start = js.find('[').unwrap();
    let end = js.rfind(']').unwrap();
    let json = &js[start..=end];
    let old = format!("var pveapi = {json};\nExt.onReady(function() {{ /* ]; */ }});");
    for text in [json.to_string(), old] {
        let r = render(&text, Product::Pve, "9.2", "other").unwrap();
        assert!(r.openapi_json == from_js.openapi_json);
        assert!(r.apidoc_json == from_js.apidoc_json);
    }
}

#[test]
fn bad_input_names_the_offset() {
    let err = render(
        "const apiSchema = [{\"path\": \"/a\" \"text\": 1}];",
        Product::Pve,
        "1.0",
        "broken.js",
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "broken.js: invalid apidoc at byte 33: expected `,` or `}`"
    );
    let err = render(
        "[{\"info\": {\"FETCH\": {}}, \"path\": \"/x\"}]",
        Product::Pve,
        "1.0",
        "m.json",
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("unknown HTTP method 'FETCH'"),
        "{err}"
    );
    let err = render("[]", Product::Pve, "latest", "m.json").unwrap_err();
    assert!(matches!(
        err,
        CodegenError::Usage {
            option: "--version-tag",
            ..
        }
    ));
}

fn codegen_bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_proxmox-sdk-codegen"))
}

#[test]
fn command_line_exit_codes_and_messages() {
    let out = tempfile::tempdir().unwrap();
    let ok = codegen_bin()
        .args(["--input"])
        .arg(root().join("generated/inputs/proxmox/9.2/apidoc.js"))
        .args(["--version-tag", "9.2", "--output-dir"])
        .arg(out.path())
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).starts_with("9.2: 675 operations on 444 paths -> "));

    let missing = codegen_bin()
        .args(["--input", "/nonexistent/apidoc.js", "--version-tag", "9.2"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("/nonexistent/apidoc.js"));

    let bad_tag = codegen_bin()
        .args(["--input", "x", "--version-tag", "../9.2"])
        .output()
        .unwrap();
    assert_eq!(bad_tag.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad_tag.stderr).contains("--version-tag"));

    let no_args = codegen_bin().output().unwrap();
    assert_eq!(no_args.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&no_args.stderr).contains("--input"));

    let help = codegen_bin().arg("--help").output().unwrap();
    assert_eq!(help.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&help.stdout).contains("--fingerprint"));
}

/// A TLS server on 127.0.0.1 with a fresh self-signed certificate, answering every request
/// with `status` and `body`; returns its address and the certificate's fingerprint.
fn tls_server(status: &'static str, body: String) -> (SocketAddr, Fingerprint) {
    proxmox_sdk::tls::install_crypto_provider();
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let cert_der = certified.cert.der().clone();
    let fingerprint = Fingerprint::of(cert_der.as_ref());
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(vec![cert_der], key)
        .unwrap();
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut tcp) = stream else { continue };
            let config = config.clone();
            let body = body.clone();
            std::thread::spawn(move || {
                let Ok(conn) = rustls::ServerConnection::new(config) else {
                    return;
                };
                let mut tls = rustls::StreamOwned::new(conn, &mut tcp);
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let head = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: application/javascript\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = tls.write_all(head.as_bytes());
                let _ = tls.write_all(body.as_bytes());
                let _ = tls.flush();
                tls.conn.send_close_notify();
                let _ = tls.flush();
            });
        }
    });
    (addr, fingerprint)
}

const TIMEOUT: Duration = Duration::from_secs(10);

#[test]
fn fetches_from_a_node_over_tls() {
    let body = format!("{}\n/* viewer code */ var x = '];';\n", input("9.1.11"));
    let (addr, fp) = tls_server("200 OK", body);
    let url = format!(
        "https://localhost:{}/pve-docs/api-viewer/apidoc.js",
        addr.port()
    );

    // Not trusted by any CA: refused unless pinned or insecure.
    let err = fetch(&url, false, None, TIMEOUT).unwrap_err().to_string();
    assert!(
        err.contains("certificate") || err.contains("UnknownIssuer"),
        "{err}"
    );

    let pinned = fetch(&url, false, Some(&fp.to_string()), TIMEOUT).unwrap();
    assert!(pinned.starts_with("const apiSchema = ["));
    let r = render(&pinned, Product::Pve, "9.1.11", &url).unwrap();
    assert_eq!(r.schema.operation_count(), 649);

    let wrong = Fingerprint([7u8; 32]).to_string();
    let err = fetch(&url, false, Some(&wrong), TIMEOUT)
        .unwrap_err()
        .to_string();
    assert!(err.contains("fingerprint mismatch"), "{err}");

    let insecure = fetch(&url, true, None, TIMEOUT).unwrap();
    assert_eq!(insecure.len(), pinned.len());

    let err = fetch(&url, false, Some("AA:BB"), TIMEOUT).unwrap_err();
    assert!(
        matches!(
            err,
            CodegenError::Usage {
                option: "--fingerprint",
                ..
            }
        ),
        "{err}"
    );

    // The command line over the same server, pinned.
    let out = tempfile::tempdir().unwrap();
    let run = codegen_bin()
        .args([
            "--input",
            &url,
            "--version-tag",
            "9.1.11",
            "--fingerprint",
            &fp.to_string(),
            "--output-dir",
        ])
        .arg(out.path())
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let written = std::fs::read_to_string(out.path().join("9.1.11/openapi.json")).unwrap();
    let committed =
        std::fs::read_to_string(root().join("generated/proxmox/9.1.11/openapi.json")).unwrap();
    assert!(written == committed);
}

#[test]
fn http_errors_are_reported() {
    let (addr, fp) = tls_server("404 Not Found", "no such file".into());
    let url = format!(
        "https://localhost:{}/pve-docs/api-viewer/apidoc.js",
        addr.port()
    );
    let err = fetch(&url, false, Some(&fp.to_string()), TIMEOUT)
        .unwrap_err()
        .to_string();
    assert!(err.contains("HTTP 404"), "{err}");
    // Nothing listens here: a connection error, not a hang.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let err = fetch(&format!("https://127.0.0.1:{port}/x"), true, None, TIMEOUT)
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("fetching https://127.0.0.1:"), "{err}");
}
