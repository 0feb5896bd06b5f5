//! The API calls: `get`, `create`, `set`, `delete` and `wait`; a task they start is
//! followed to its end with `--wait`, its log streamed.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};

use super::super::params::{api_failure, api_path, check, check_options, parse_params};
use super::super::{print_value, usage, Ctx, Failure, EXIT_API};
use crate::api::{Method, Upid};
use crate::client::Client;

fn is_upid(v: &Value) -> Option<&str> {
    v.as_str().filter(|s| s.starts_with("UPID:"))
}

/// Follows a task: streams its log, shows a spinner on a terminal (neither when `quiet`),
/// returns its exit status.
pub fn wait_task(
    client: &Client,
    upid: &str,
    timeout: Duration,
    quiet: bool,
) -> Result<String, Failure> {
    let base = upid
        .parse::<Upid>()
        .map_err(|e| usage(format!("UPID: {e}")))?
        .task_path(upid);
    let started = Instant::now();
    let tty = !quiet && std::io::stderr().is_terminal();
    let spinner = ['|', '/', '-', '\\'];
    let mut shown = 0u64;
    let mut delay = Duration::from_millis(100);
    let mut tick = 0usize;
    loop {
        let status = client
            .call(Method::Get, &format!("{base}/status"), Map::new())
            .map_err(api_failure)?;
        let mut params = Map::new();
        params.insert("start".into(), json!(shown));
        let log = if quiet {
            Ok(Value::Null)
        } else {
            client.call(Method::Get, &format!("{base}/log"), params)
        };
        if let Ok(Value::Array(lines)) = log {
            for l in lines {
                if let Some(t) = l.get("t").and_then(Value::as_str) {
                    if tty {
                        eprint!("\r\x1b[K");
                    }
                    eprintln!("{t}");
                    shown += 1;
                }
            }
        }
        if status.get("status").and_then(Value::as_str) == Some("stopped") {
            if tty {
                eprint!("\r\x1b[K");
            }
            return Ok(status
                .get("exitstatus")
                .and_then(Value::as_str)
                .unwrap_or("unknown")
                .to_string());
        }
        if started.elapsed() > timeout {
            return Err(Failure {
                code: EXIT_API,
                message: format!(
                    "task {upid} still running after {:.0} s",
                    timeout.as_secs_f64()
                ),
            });
        }
        if tty {
            eprint!(
                "\r{} {upid} running ({:.0} s)",
                spinner[tick % spinner.len()],
                started.elapsed().as_secs_f64()
            );
            tick += 1;
        }
        std::thread::sleep(delay);
        delay = (delay * 2).min(Duration::from_secs(2));
    }
}

/// PVE's rule: `OK` and `WARNINGS: n` are success.
pub fn task_ok(exitstatus: &str) -> bool {
    exitstatus == "OK" || exitstatus.starts_with("WARNINGS")
}

/// Follows a task to its end, prints `{upid, exitstatus}` and fails (exit 1) unless it
/// succeeded.
pub fn follow_task(
    ctx: &Ctx,
    client: &Client,
    upid: &str,
    timeout: Duration,
) -> Result<(), Failure> {
    let status = wait_task(client, upid, timeout, ctx.globals.quiet)?;
    print_value(&json!({"upid": upid, "exitstatus": status}), ctx.format);
    if task_ok(&status) {
        Ok(())
    } else {
        Err(Failure {
            code: EXIT_API,
            message: format!("task failed: {status}"),
        })
    }
}

/// `get`/`create`/`set`/`delete PATH params...` (`--wait` follows a task it starts).
pub fn run_call(ctx: &Ctx, method: Method, path: &str, params: &[String]) -> Result<(), Failure> {
    let parsed = parse_params(params)?;
    let (params, wait) = (parsed.params, parsed.wait);
    let path = api_path(path);
    check_options(&ctx.schema, method, &path, &parsed.dashed)?;
    check(&ctx.schema, method, &path, &params)?;
    let client = ctx.client()?;
    let v = client.call(method, &path, params).map_err(api_failure)?;
    if let (true, Some(upid)) = (wait, is_upid(&v)) {
        let upid = upid.to_string();
        follow_task(ctx, &client, &upid, Duration::from_secs(24 * 3600))
    } else {
        print_value(&v, ctx.format);
        Ok(())
    }
}
