//! `proxmox` / `proxmox-cli` / `pbx`: pvesh-like access to any backend.
//!
//! Global options may appear anywhere on the line ([`globals`]); API parameters are given
//! pvesh-style (`-memory 2048`), GNU-style (`--memory 2048`) or as `memory=2048`
//! ([`params`]). Which connection is used is [`connect`]'s decision. One file per command
//! in [`commands`]. Exit codes: 0 success, 1 API error (PVE's message is printed), 2 usage
//! error (bad options, parameters the schema refuses).

pub mod args;
pub mod commands;
pub mod connect;
pub mod globals;
pub mod output;
pub mod params;
pub mod profiles;
pub mod tui;

use std::io::{IsTerminal, Write};

use clap::Parser;
use serde_json::Value;

use crate::api::Method;
use crate::client::Client;
use crate::schema::ApiSchema;
use args::{Cli, Command};
use commands::{batch, call, complete, config, ls, usage};
use globals::Globals;
use output::Format;

/// Exit code of a failed API call.
pub const EXIT_API: i32 = 1;
/// Exit code of a usage error.
pub const EXIT_USAGE: i32 = 2;

/// A CLI failure and its exit code.
#[derive(Debug)]
pub struct Failure {
    /// 1 (API) or 2 (usage).
    pub code: i32,
    /// What to print on stderr.
    pub message: String,
}

/// A usage error (exit code 2).
pub fn usage(message: impl Into<String>) -> Failure {
    Failure {
        code: EXIT_USAGE,
        message: message.into(),
    }
}

/// What every command gets: the global options, the schema, the output format.
pub struct Ctx {
    /// The global options.
    pub globals: Globals,
    /// The schema parameters are checked against.
    pub schema: std::sync::Arc<ApiSchema>,
    /// How answers are printed.
    pub format: Format,
    /// The connection, made on first use.
    client: std::sync::OnceLock<Client>,
}

impl Ctx {
    /// The client of this command line (see [`connect`]), made once: with `--verbose`
    /// each request's line goes to stderr, and with `--state-file` the mock starts from
    /// the file.
    pub fn client(&self) -> Result<Client, Failure> {
        if let Some(c) = self.client.get() {
            return Ok(c.clone());
        }
        let mut client = connect::client(&self.globals, self.schema.version())?;
        if self.globals.verbose {
            client = client.with_trace(std::sync::Arc::new(|line: &str| {
                let _ = writeln!(std::io::stderr(), "{line}");
            }));
        }
        if let Some(path) = &self.globals.state_file {
            let mock = client.mock().ok_or_else(|| {
                usage("--state-file: only the in-memory mock (no -H/--host) keeps a state file")
            })?;
            let path = std::path::Path::new(path);
            if path.exists() {
                mock.store()
                    .load(path)
                    .map_err(|e| usage(format!("--state-file: {}: {e}", path.display())))?;
            }
        }
        Ok(self.client.get_or_init(|| client).clone())
    }

    /// Writes the mock's state to `--state-file` (when one is given and the mock was used).
    fn save_state(&self) -> Result<(), Failure> {
        let (Some(path), Some(client)) = (&self.globals.state_file, self.client.get()) else {
            return Ok(());
        };
        if let Some(mock) = client.mock() {
            mock.store()
                .save(std::path::Path::new(path))
                .map_err(|e| usage(format!("--state-file: cannot write {path}: {e}")))?;
        }
        Ok(())
    }
}

/// Prints a value in the chosen format.
pub fn print_value(v: &Value, format: Format) {
    let text = output::render(v, format);
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
}

/// Runs the CLI with `argv` (program name first); returns the exit code.
pub fn main_with_args(argv: Vec<String>) -> i32 {
    let prog = argv
        .first()
        .and_then(|p| std::path::Path::new(p).file_name())
        .map_or_else(|| "proxmox".into(), |p| p.to_string_lossy().into_owned());
    let args: Vec<String> = argv.into_iter().skip(1).collect();
    match run(&prog, &args) {
        Ok(()) => 0,
        Err(f) => {
            if !f.message.is_empty() {
                let _ = writeln!(std::io::stderr(), "{}", f.message);
            }
            f.code
        }
    }
}

fn run(prog: &str, args: &[String]) -> Result<(), Failure> {
    if args.first().map(String::as_str) == Some("__complete") {
        // The words are a partial line: its options are read leniently, never refused.
        for c in complete::run_complete(&args[1..]) {
            println!("{c}");
        }
        return Ok(());
    }
    let (globals, rest) = globals::split_globals(args)?;
    if matches!(rest.first().map(String::as_str), Some("--version" | "-V")) {
        println!("{prog} {}", env!("CARGO_PKG_VERSION"));
        return Ok(());
    }
    let cli = match Cli::try_parse_from(std::iter::once(prog.to_string()).chain(rest)) {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_USAGE } else { 0 };
            let _ = e.print();
            return Err(Failure {
                code,
                message: String::new(),
            });
        }
    };
    if let Command::Mock { args } = cli.command {
        let argv: Vec<String> = std::iter::once(format!("{prog} mock"))
            .chain(args)
            .collect();
        return match crate::server::cli::main_with_args(argv) {
            0 => Ok(()),
            code => Err(Failure {
                code,
                message: String::new(),
            }),
        };
    }
    let version = globals
        .schema_version
        .clone()
        .unwrap_or_else(|| "latest".into());
    let product = match &globals.service {
        Some(name) => name
            .parse::<crate::schema::Product>()
            .map_err(|e| usage(format!("-S/--service: {e}")))?,
        None => crate::schema::Product::Pve,
    };
    let schema = crate::schema::bundled::load_of(product, &version)
        .map_err(|e| usage(format!("--schema-version: {e}")))?;
    let style = output::TableStyle {
        border: !globals.noborder,
        header: !globals.noheader,
    };
    let format = match &globals.output {
        Some(o) => match Format::parse(o).map_err(usage)? {
            Format::Table(_) => Format::Table(style),
            other => other,
        },
        None if std::io::stdout().is_terminal() => Format::Table(style),
        None => Format::JsonPretty,
    };
    let ctx = Ctx {
        globals,
        schema,
        format,
        client: std::sync::OnceLock::new(),
    };
    let done = command(&ctx, cli.command, prog);
    // The state is saved whether or not the command succeeded: what it changed stays.
    ctx.save_state()?;
    done
}

fn command(ctx: &Ctx, command: Command, prog: &str) -> Result<(), Failure> {
    match command {
        Command::Ls { path, params } => {
            if !params.is_empty() {
                return Err(usage("ls: takes only a path"));
            }
            ls::cmd_ls(ctx, path)
        }
        Command::Get { path, params } => call::run_call(ctx, Method::Get, &path, &params),
        Command::Create { path, params } => call::run_call(ctx, Method::Post, &path, &params),
        Command::Set { path, params } => call::run_call(ctx, Method::Put, &path, &params),
        Command::Delete { path, params } => call::run_call(ctx, Method::Delete, &path, &params),
        Command::Usage {
            path,
            verbose,
            returns,
            command,
        } => usage::cmd_usage(ctx, &path, verbose || ctx.globals.verbose, returns, command),
        Command::Help { pattern } => {
            usage::cmd_help(ctx, &pattern);
            Ok(())
        }
        Command::Wait { upid, timeout } => {
            let t = crate::limits::duration("--timeout", timeout, false).map_err(usage)?;
            let client = ctx.client()?;
            call::follow_task(ctx, &client, &upid, t)
        }
        Command::Config { action } => config::cmd_config(ctx, action),
        Command::Batch {
            file,
            stop_on_error,
        } => batch::cmd_batch(ctx, &file, stop_on_error),
        Command::Tui => {
            let client = ctx.client()?;
            tui::run(client).map_err(usage)
        }
        Command::Completion { shell } => {
            print!("{}", complete::completion_script(&shell, prog)?);
            Ok(())
        }
        Command::Complete { words } => {
            for c in complete::run_complete(&words) {
                println!("{c}");
            }
            Ok(())
        }
        Command::Mock { .. } => unreachable!("handled above"),
    }
}
