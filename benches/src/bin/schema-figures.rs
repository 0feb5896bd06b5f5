//! Figures for the schema engine and the codegen, printed as a table: codegen time, model
//! load time and memory, path resolution and parameter validation per call.
//! Run with `make bench` (release build).

use std::hint::black_box;
use std::time::{Duration, Instant};

use proxmox_sdk::codegen::generate;
use proxmox_sdk::schema::{bundled, ApiSchema};
use serde_json::{json, Map, Value};

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// Median over `rounds` of the mean time per call over `iters` calls.
fn per_call(rounds: usize, iters: u32, mut f: impl FnMut()) -> Duration {
    let samples = (0..rounds)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..iters {
                f();
            }
            t.elapsed() / iters
        })
        .collect();
    median(samples)
}

fn main() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let input = std::fs::read_to_string(format!("{root}/generated/inputs/proxmox/9.2/apidoc.js"))
        .expect("input");
    let bundled_text = bundled::apidoc_text("9.2").expect("bundled");

    // Memory first, in a fresh process state: RSS before and after one model is built.
    let before = rss_kib();
    let model = ApiSchema::from_apidoc_text("9.2", &bundled_text).expect("model");
    let after = rss_kib();
    black_box(&model);

    let out = tempfile::tempdir().expect("tempdir");
    let codegen = median(
        (0..5)
            .map(|_| {
                let t = Instant::now();
                generate(
                    &input,
                    proxmox_sdk::schema::Product::Pve,
                    "9.2",
                    out.path(),
                    "bench",
                )
                .expect("codegen");
                t.elapsed()
            })
            .collect(),
    );
    let load = median(
        (0..10)
            .map(|_| {
                let t = Instant::now();
                black_box(ApiSchema::from_apidoc_text("9.2", &bundled_text).expect("model"));
                t.elapsed()
            })
            .collect(),
    );

    let path = "/api2/json/nodes/pve1/qemu/100/status/start";
    let resolve = per_call(7, 200_000, || {
        black_box(model.resolve(black_box(path)));
    });
    let encoded = "/api2/json/nodes/pve1/tasks/UPID%3Apve1%3A000003E8%3A00001B58%3A6B08E68D%3Aqmcreate%3A101%3Aroot%40pam%3A/status";
    let resolve_encoded = per_call(7, 200_000, || {
        black_box(model.resolve(black_box(encoded)));
    });

    let params: Map<String, Value> = json!({
        "vmid": "101", "name": "web-1", "cores": "2", "sockets": "1", "memory": "2048",
        "ostype": "l26", "onboot": "1", "net0": "virtio,bridge=vmbr0,firewall=1",
        "scsi0": "local-lvm:32,ssd=1", "scsihw": "virtio-scsi-single",
    })
    .as_object()
    .cloned()
    .expect("object");
    assert!(model
        .validate_request("POST", "/nodes/pve1/qemu", &params)
        .is_ok());
    let validate = per_call(7, 50_000, || {
        black_box(
            model
                .validate_request("POST", "/nodes/pve1/qemu", black_box(&params))
                .is_ok(),
        );
    });

    if std::env::var_os("BREAKDOWN").is_some() {
        breakdown(&model);
    }
    println!("| figure | measured | target |");
    println!("|---|---|---|");
    println!(
        "| codegen of 9.2 (parse, normalize, model, OpenAPI, write) | {:.0} ms | < 2 s |",
        codegen.as_secs_f64() * 1e3
    );
    println!(
        "| load one version's model (9.2, from bundled JSON) | {:.1} ms | < 30 ms |",
        load.as_secs_f64() * 1e3
    );
    println!(
        "| RSS added by one model | {:.1} MiB | < 30 MB |",
        (after.saturating_sub(before)) as f64 / 1024.0
    );
    println!(
        "| process RSS with one model | {:.1} MiB | |",
        after as f64 / 1024.0
    );
    println!(
        "| resolve `{path}` | {:.0} ns | < 1 µs |",
        resolve.as_secs_f64() * 1e9
    );
    println!(
        "| resolve a percent-encoded UPID path | {:.0} ns | < 1 µs |",
        resolve_encoded.as_secs_f64() * 1e9
    );
    println!(
        "| validate a 10-parameter POST /nodes/{{node}}/qemu | {:.2} µs | < 10 µs |",
        validate.as_secs_f64() * 1e6
    );
}

#[allow(dead_code)]
fn breakdown(model: &ApiSchema) {
    for (k, v) in [
        ("vmid", "101"),
        ("name", "web-1"),
        ("cores", "2"),
        ("memory", "2048"),
        ("ostype", "l26"),
        ("onboot", "1"),
        ("net0", "virtio,bridge=vmbr0,firewall=1"),
        ("scsi0", "local-lvm:32,ssd=1"),
        ("scsihw", "virtio-scsi-single"),
    ] {
        let mut p = Map::new();
        p.insert("vmid".into(), json!("101"));
        p.insert(k.into(), json!(v));
        let t = per_call(5, 20_000, || {
            black_box(
                model
                    .validate_request("POST", "/nodes/pve1/qemu", black_box(&p))
                    .is_ok(),
            );
        });
        println!("{k}: {:.2} µs", t.as_secs_f64() * 1e6);
    }
}
