//! The pvesh-based backends: one layer that turns a [`Call`] into a `pvesh` (or `pmgsh`)
//! command line and its output back into PVE's data or error, over three runners
//! ([`runner`]): a local subprocess (`local`), the system `ssh` binary (`openssh`) and
//! russh (`ssh_paramiko`).

pub mod runner;

use std::time::Duration;

use percent_encoding::percent_decode_str;
use serde_json::Value;

use super::https::scalar_text;
use crate::api::{ApiError, Call, Error, Method};
use runner::random_hex;
pub use runner::{shell_join, OpenSshConfig, Runner};

/// What a command printed and how it ended.
#[derive(Debug, Clone, Default)]
pub struct Output {
    /// Standard output.
    pub stdout: Vec<u8>,
    /// Standard error.
    pub stderr: Vec<u8>,
    /// The exit code (`None` if killed by a signal).
    pub exit_code: Option<i32>,
}

/// The command line for `call`: `[sudo] pvesh <verb> <path> --output-format json -k v ...`.
pub fn argv(cli: &str, sudo: bool, call: &Call) -> Result<Vec<String>, Error> {
    let verb = match call.method {
        Method::Get => "get",
        Method::Post => "create",
        Method::Put => "set",
        Method::Delete => "delete",
    };
    let rel = crate::schema::index::strip_api_prefix(&call.path);
    let mut path = String::with_capacity(rel.len() + 1);
    for seg in rel.split('/').filter(|s| !s.is_empty()) {
        path.push('/');
        path.push_str(&percent_decode_str(seg).decode_utf8_lossy());
    }
    if path.is_empty() {
        path.push('/');
    }
    let mut out = Vec::with_capacity(6 + 2 * call.params.len());
    if sudo {
        out.push("sudo".to_string());
        out.push("-n".to_string());
    }
    out.extend([cli.to_string(), verb.to_string(), path.clone()]);
    out.extend(["--output-format".to_string(), "json".to_string()]);
    let is_exec = path.ends_with("/agent/exec");
    for (k, v) in &call.params {
        match v {
            Value::Null => {}
            Value::String(s) if is_exec && k == "command" => {
                let words = shlex::split(s).ok_or_else(|| {
                    Error::Invalid(format!(
                        "command: cannot split {s:?} into arguments (unbalanced quotes)"
                    ))
                })?;
                for w in words {
                    out.push(format!("-{k}"));
                    out.push(w);
                }
            }
            Value::Array(items) => {
                for i in items.iter().filter(|i| !i.is_null()) {
                    out.push(format!("-{k}"));
                    out.push(scalar_text(i));
                }
            }
            other => {
                out.push(format!("-{k}"));
                out.push(scalar_text(other));
            }
        }
    }
    Ok(out)
}

/// Whether `text` holds a UPID (`UPID:node:...`).
fn find_upid(text: &str) -> Option<&str> {
    text.lines()
        .map(|l| l.trim().trim_matches('"'))
        .find(|l| l.starts_with("UPID:") && l.matches(':').count() >= 8)
}

/// `NNN Reason` at the start of a line.
fn status_line(line: &str) -> Option<(u16, &str)> {
    let (code, rest) = line.trim().split_once(' ')?;
    if code.len() != 3 {
        return None;
    }
    let status = code
        .parse::<u16>()
        .ok()
        .filter(|s| (100..=599).contains(s))?;
    Some((status, rest.trim()))
}

/// Parses stdout as JSON, skipping non-JSON lines in front of it (pvesh prints warnings
/// there); text that is no JSON at all is returned as a string, nothing as `None`.
pub fn parse_stdout(stdout: &str) -> Value {
    let trimmed = stdout.trim();
    if trimmed.is_empty() {
        return Value::Null;
    }
    if let Ok(v) = serde_json::from_str(trimmed) {
        return v;
    }
    let mut offset = 0;
    for line in stdout.split_inclusive('\n') {
        let rest = &stdout[offset..];
        offset += line.len();
        let t = line.trim_start();
        if t.starts_with(['{', '[', '"']) || t.starts_with("null") {
            if let Ok(v) = serde_json::from_str(rest.trim()) {
                return v;
            }
        }
    }
    Value::String(trimmed.to_string())
}

/// PVE's data or error from a command's output: a UPID means success; else the first
/// `NNN Reason` line of stderr gives the status (later `param: message` lines of a 400
/// become its errors); else a non-zero exit code is a 500 with stderr as the message.
pub fn interpret(out: &Output) -> Result<Value, Error> {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if let Some(upid) = find_upid(&stdout).or_else(|| find_upid(&stderr)) {
        return Ok(Value::String(upid.to_string()));
    }
    let mut lines = stderr.lines().map(str::trim).filter(|l| !l.is_empty());
    if let Some((status, reason)) = lines.clone().find_map(status_line) {
        if status >= 400 || out.exit_code != Some(0) {
            let errors = if status == 400 {
                let map: std::collections::BTreeMap<String, String> = lines
                    .by_ref()
                    .skip_while(|l| status_line(l).is_none())
                    .skip(1)
                    .filter_map(|l| l.split_once(": "))
                    .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                    .collect();
                Some(map).filter(|m| !m.is_empty())
            } else {
                None
            };
            return Err(Error::Api(ApiError {
                status,
                message: reason.to_string(),
                errors,
                exit_code: out.exit_code,
            }));
        }
    }
    if out.exit_code != Some(0) {
        let message = stderr.trim();
        let message = if message.is_empty() {
            match out.exit_code {
                Some(c) => format!("command failed with exit code {c}"),
                None => "command was killed by a signal".to_string(),
            }
        } else {
            message.to_string()
        };
        return Err(Error::Api(ApiError {
            status: 500,
            message,
            errors: None,
            exit_code: out.exit_code,
        }));
    }
    Ok(parse_stdout(&stdout))
}

/// A pvesh backend: the command-line tool (`pvesh` or `pmgsh`), sudo, a timeout and where
/// commands run.
#[derive(Debug, Clone)]
pub struct PveshTransport {
    /// `pvesh` (PVE) or `pmgsh` (PMG).
    pub cli: String,
    /// Prefix commands with `sudo -n`.
    pub sudo: bool,
    /// Timeout of each command.
    pub timeout: Option<Duration>,
    /// Where commands run.
    pub runner: Runner,
}

impl PveshTransport {
    /// Runs `call` as a pvesh command. Uploads are first copied to a unique temporary file
    /// on the node (`/var/tmp/pveupload-<hex>`, the name PVE's upload handler uses), passed
    /// as `tmpfilename`, and removed afterwards.
    pub async fn call(&self, call: &Call) -> Result<Value, Error> {
        let timeout = call.timeout.or(self.timeout);
        if call.uploads.is_empty() {
            let argv = argv(&self.cli, self.sudo, call)?;
            let out = self.runner.run(&argv, timeout).await?;
            return interpret(&out);
        }
        if call.uploads.len() > 1 {
            return Err(Error::Invalid(
                "uploads: pvesh backends send one file per request".into(),
            ));
        }
        let up = &call.uploads[0];
        let remote = format!("/var/tmp/pveupload-{}", random_hex());
        self.runner.put_file(&up.source, &remote).await?;
        let mut with_file = call.clone();
        with_file.uploads.clear();
        with_file
            .params
            .insert(up.field.clone(), Value::String(up.file_name.clone()));
        with_file
            .params
            .insert("tmpfilename".into(), Value::String(remote.clone()));
        let result = match argv(&self.cli, self.sudo, &with_file) {
            Ok(a) => match self.runner.run(&a, None).await {
                Ok(out) => interpret(&out),
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        };
        // PVE moves the file away on success; remove whatever is left either way.
        let rm = vec!["rm".to_string(), "-f".to_string(), "--".to_string(), remote];
        let _ = self.runner.run(&rm, timeout).await;
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn call(method: &str, path: &str, params: Value) -> Call {
        Call::new(
            method.parse().unwrap(),
            path,
            params.as_object().unwrap().clone(),
        )
    }

    #[test]
    fn command_lines() {
        let c = call(
            "POST",
            "/api2/json/nodes/pve%2D1/qemu",
            json!({"vmid": 100, "onboot": true, "net0": "virtio,bridge=vmbr0", "x": null, "tags": ["a", "b"]}),
        );
        assert_eq!(
            argv("pvesh", false, &c).unwrap(),
            [
                "pvesh",
                "create",
                "/nodes/pve-1/qemu",
                "--output-format",
                "json",
                "-net0",
                "virtio,bridge=vmbr0",
                "-onboot",
                "1",
                "-tags",
                "a",
                "-tags",
                "b",
                "-vmid",
                "100"
            ]
        );
        let c = call("PUT", "/api2/json/nodes/pve1/qemu/100/config", json!({}));
        assert_eq!(
            argv("pmgsh", true, &c).unwrap()[..5],
            ["sudo", "-n", "pmgsh", "set", "/nodes/pve1/qemu/100/config"]
        );
        let c = call("DELETE", "/api2/json", json!({}));
        assert_eq!(argv("pvesh", false, &c).unwrap()[1..3], ["delete", "/"]);
        let c = call(
            "POST",
            "/api2/json/nodes/pve1/qemu/100/agent/exec",
            json!({"command": "ls -l 'my dir'"}),
        );
        assert_eq!(
            argv("pvesh", false, &c).unwrap()[5..],
            ["-command", "ls", "-command", "-l", "-command", "my dir"]
        );
        let c = call(
            "POST",
            "/api2/json/nodes/pve1/qemu/100/agent/exec",
            json!({"command": "ls 'open"}),
        );
        assert!(
            matches!(argv("pvesh", false, &c), Err(Error::Invalid(m)) if m.starts_with("command:"))
        );
    }

    fn out(stdout: &str, stderr: &str, code: i32) -> Output {
        Output {
            stdout: stdout.as_bytes().to_vec(),
            stderr: stderr.as_bytes().to_vec(),
            exit_code: Some(code),
        }
    }

    #[test]
    fn outputs() {
        assert_eq!(
            interpret(&out("{\"a\":1}\n", "", 0)).unwrap(),
            json!({"a": 1})
        );
        assert_eq!(
            interpret(&out(
                "Use of uninitialized value in x.pm line 3.\n[1,2]\n",
                "",
                0
            ))
            .unwrap(),
            json!([1, 2])
        );
        assert_eq!(interpret(&out("", "", 0)).unwrap(), Value::Null);
        assert_eq!(
            interpret(&out("plain text\n", "", 0)).unwrap(),
            json!("plain text")
        );
        let upid = "UPID:pve1:00001234:00005678:6B08E68D:qmstart:100:root@pam:";
        assert_eq!(
            interpret(&out("", &format!("{upid}\n"), 0)).unwrap(),
            json!(upid)
        );
        assert_eq!(
            interpret(&out(&format!("\"{upid}\"\n"), "", 0)).unwrap(),
            json!(upid)
        );
        match interpret(&out(
            "",
            "400 Parameter verification failed.\nvmid: type check ('integer') failed - got 'x'\n",
            255,
        )) {
            Err(Error::Api(e)) => {
                assert_eq!((e.status, e.exit_code), (400, Some(255)));
                assert_eq!(e.message, "Parameter verification failed.");
                assert_eq!(
                    e.errors.unwrap()["vmid"],
                    "type check ('integer') failed - got 'x'"
                );
            }
            other => panic!("{other:?}"),
        }
        match interpret(&out(
            "",
            "Configuration file 'nodes/pve1/qemu-server/100.conf' does not exist\n",
            2,
        )) {
            Err(Error::Api(e)) => {
                assert_eq!((e.status, e.exit_code), (500, Some(2)));
                assert!(e.message.starts_with("Configuration file"));
            }
            other => panic!("{other:?}"),
        }
        match interpret(&out("", "", 1)) {
            Err(Error::Api(e)) => assert!(e.message.contains("exit code 1")),
            other => panic!("{other:?}"),
        }
        match interpret(&out(
            "",
            "403 Permission check failed (/vms/100, VM.Audit)\n",
            255,
        )) {
            Err(Error::Api(e)) => {
                assert_eq!(e.status, 403);
                assert_eq!(e.message, "Permission check failed (/vms/100, VM.Audit)");
            }
            other => panic!("{other:?}"),
        }
    }
}
