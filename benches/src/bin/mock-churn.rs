//! The mock under churn: a create+delete of a VM, a 50-VM list and `/nodes/{node}/tasks`
//! timed on a fresh store and again after 20,000 create/delete cycles, and the process's RSS
//! after a warm-up and at the end. Targets (issue 14): each time within 1.5x of the fresh
//! store's, RSS within 20 MB of its post-warm-up value. Run with `make bench`.

use std::time::{Duration, Instant};

use proxmox_sdk::api::Method;
use proxmox_sdk::mock::{store, MockPve};
use serde_json::{json, Map, Value};

const CYCLES: u32 = 20_000;
const WARM_UP: u32 = 1_000;

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

fn params(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

fn call(m: &MockPve, method: Method, path: &str, p: &Map<String, Value>) -> Value {
    m.handle(m.caller(), method, path, p)
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
}

/// Median of `rounds` timings of `f`.
fn median(rounds: usize, mut f: impl FnMut()) -> Duration {
    let mut samples: Vec<Duration> = (0..rounds)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    samples.sort();
    samples[samples.len() / 2]
}

struct Figures {
    cycle: Duration,
    list: Duration,
    tasks: Duration,
}

fn cycle(m: &MockPve, vmid: u32) {
    call(
        m,
        Method::Post,
        "/nodes/pve1/qemu",
        &params(json!({"vmid": vmid, "scsi0": "local-lvm:1", "net0": "virtio,bridge=vmbr0"})),
    );
    call(
        m,
        Method::Delete,
        &format!("/nodes/pve1/qemu/{vmid}"),
        &Map::new(),
    );
}

fn measure(m: &MockPve) -> Figures {
    let none = Map::new();
    let mut n = 0u32;
    let cycle_time = median(301, || {
        n += 1;
        cycle(m, 90_000 + n % 50);
    });
    let list = median(301, || {
        let vms = call(m, Method::Get, "/nodes/pve1/qemu", &none);
        assert_eq!(vms.as_array().map(Vec::len), Some(50));
    });
    let tasks = median(301, || {
        let t = call(m, Method::Get, "/nodes/pve1/tasks", &none);
        assert!(t.as_array().is_some_and(|t| t.len() <= 50));
    });
    Figures {
        cycle: cycle_time,
        list,
        tasks,
    }
}

fn main() {
    store::forget_store("9.2", "bench-churn");
    let m = MockPve::shared("9.2", "bench-churn", None, false).expect("mock");
    // The 50 listed VMs stay; the churn's ids (100-5099) and the timed cycle's stay apart.
    for vmid in 9000..9050 {
        call(
            &m,
            Method::Post,
            "/nodes/pve1/qemu",
            &params(json!({"vmid": vmid, "name": format!("vm{vmid}"), "cores": 2})),
        );
    }
    let fresh = measure(&m);
    let mut rss_warm = 0;
    let started = Instant::now();
    for i in 0..CYCLES {
        if i == WARM_UP {
            rss_warm = rss_kib();
        }
        cycle(&m, 100 + i % 5_000);
    }
    let churn_secs = started.elapsed().as_secs_f64();
    let churned = measure(&m);
    let rss_end = rss_kib();
    println!("mock churn: {CYCLES} create/delete cycles of a VM with a disk and a NIC ({churn_secs:.1} s)");
    println!("| figure | fresh store | after churn | ratio (target <= 1.5) |");
    println!("|---|---|---|---|");
    let mut over = false;
    for (name, a, b) in [
        ("create + delete", fresh.cycle, churned.cycle),
        ("list of 50 VMs", fresh.list, churned.list),
        ("/nodes/pve1/tasks", fresh.tasks, churned.tasks),
    ] {
        let ratio = b.as_secs_f64() / a.as_secs_f64();
        over |= ratio > 1.5;
        println!("| {name} | {a:.1?} | {b:.1?} | {ratio:.2} |");
    }
    let grown = rss_end.saturating_sub(rss_warm) as f64 / 1024.0;
    over |= grown > 20.0;
    println!(
        "RSS after {WARM_UP} cycles {:.1} MB, at the end {:.1} MB: +{grown:.1} MB (target <= 20)",
        rss_warm as f64 / 1024.0,
        rss_end as f64 / 1024.0
    );
    if over {
        println!("(over a target)");
    }
}
