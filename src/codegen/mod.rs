//! The codegen: a Proxmox product's apidoc (a local file, a live node's
//! `/pve-docs/api-viewer/apidoc.js`, PMG's `apidata.js` or the PDM crawler capture) ->
//! `generated/<product>/<tag>/{apidoc,openapi}.json`, byte-identical for the same input,
//! plus `versions.json` naming what `latest` means.

pub mod pydantic;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Parser;
use serde_json::{json, Value};

use crate::schema::apidoc::{nodes_from_value, normalize_tree, parse_apidoc_value};
use crate::schema::bundled::compare_versions;
use crate::schema::openapi::openapi_document;
use crate::schema::{ApiSchema, Product, SchemaError};
use crate::tls::{pinned_client_config, Fingerprint};

/// Why codegen failed.
#[derive(Debug, thiserror::Error)]
pub enum CodegenError {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Fetching the apidoc from a node failed.
    #[error("fetching {url}: {message}")]
    Fetch {
        /// The URL.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// The apidoc is not valid.
    #[error("{input}: {source}")]
    Schema {
        /// The input path or URL.
        input: String,
        /// The cause.
        source: SchemaError,
    },
    /// A bad command-line value.
    #[error("invalid value for {option}: {message}")]
    Usage {
        /// The option, for example `--version-tag`.
        option: &'static str,
        /// What was expected.
        message: String,
    },
}

/// `proxmox-sdk-codegen`: turn PVE's apidoc into the files under `generated/`.
#[derive(Debug, Parser)]
#[command(
    name = "proxmox-sdk-codegen",
    version,
    about = "Generate generated/<product>/<tag>/{apidoc.json,openapi.json} from a Proxmox apidoc"
)]
pub struct CodegenArgs {
    /// A local apidoc file (apidoc.js or JSON) or a node's URL, such as
    /// https://pve1:8006/pve-docs/api-viewer/apidoc.js.
    #[arg(long, short = 'i')]
    pub input: String,
    /// The version tag to write, such as 9.2 (`latest` is reserved: it is an alias).
    #[arg(long)]
    pub version_tag: String,
    /// The product the apidoc describes: PVE, PBS, PMG or PDM.
    #[arg(long, default_value = "PVE", value_parser = parse_product)]
    pub service: Product,
    /// Where the per-version folders go (default: generated/<product folder>, such as
    /// generated/proxmox for PVE and generated/pbs for PBS).
    #[arg(long)]
    pub output_dir: Option<PathBuf>,
    /// Skip TLS certificate verification when fetching from a URL.
    #[arg(long)]
    pub insecure: bool,
    /// Pin the node's certificate by SHA-256 fingerprint (AA:BB:...) instead of trusting a CA.
    #[arg(long)]
    pub fingerprint: Option<String>,
    /// Seconds to wait for a URL.
    #[arg(long, default_value_t = 30)]
    pub timeout: u64,
    /// Where the Pydantic models go as an importable package: `DIR/v<tag>/pydantic_models.py`
    /// (`9.1.11` -> `v9_1_11`) and `DIR/latest/pydantic_models.py` re-exporting the newest
    /// version (this repository: python/proxmox_sdk/generated/<product folder>). Without
    /// it they go beside the schema, as `<output-dir>/<tag>/pydantic_models.py`.
    #[arg(long)]
    pub models_dir: Option<PathBuf>,
}

/// What one codegen run produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// The version tag.
    pub tag: String,
    /// Number of operations.
    pub operations: usize,
    /// Number of path templates with at least one operation.
    pub paths: usize,
    /// The folder written.
    pub dir: PathBuf,
}

/// The two generated documents of one version, as text.
#[derive(Debug)]
pub struct Rendered {
    /// Normalized apidoc (`apidoc.json`).
    pub apidoc_json: String,
    /// OpenAPI 3.1 (`openapi.json`).
    pub openapi_json: String,
    /// The model built from it.
    pub schema: ApiSchema,
}

fn parse_product(s: &str) -> Result<Product, String> {
    s.parse::<Product>().map_err(|e| e.to_string())
}

fn pretty(value: &Value) -> String {
    let mut s = serde_json::to_string_pretty(value).unwrap_or_default();
    s.push('\n');
    s
}

fn check_tag(tag: &str) -> Result<(), CodegenError> {
    let valid = !tag.is_empty()
        && tag
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && tag
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        && !tag.eq_ignore_ascii_case(crate::schema::bundled::LATEST_ALIAS);
    if valid {
        Ok(())
    } else {
        Err(CodegenError::Usage {
            option: "--version-tag",
            message: format!(
                "'{tag}': expected a version such as 9.2 (letters, digits, '.', '_', '-'; not 'latest')"
            ),
        })
    }
}

/// Renders both documents from apidoc text (pure: no I/O).
pub fn render(
    text: &str,
    product: Product,
    tag: &str,
    input_name: &str,
) -> Result<Rendered, CodegenError> {
    check_tag(tag)?;
    let schema_err = |source: SchemaError| CodegenError::Schema {
        input: input_name.to_string(),
        source,
    };
    let tree = normalize_tree(parse_apidoc_value(text).map_err(|e| schema_err(e.into()))?);
    let nodes = nodes_from_value(&tree).map_err(|e| schema_err(e.into()))?;
    let schema = ApiSchema::from_nodes(tag, nodes)
        .map_err(schema_err)?
        .for_product(product);
    let openapi = openapi_document(&schema);
    Ok(Rendered {
        apidoc_json: pretty(&tree),
        openapi_json: pretty(&openapi),
        schema,
    })
}

fn write(path: &Path, text: &str) -> Result<(), CodegenError> {
    let io = |source| CodegenError::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(io)?;
    }
    // Write-then-rename so a crash never leaves a half-written schema behind.
    let tmp = path.with_extension("json.tmp");
    fs::write(&tmp, text).map_err(io)?;
    fs::rename(&tmp, path).map_err(io)
}

/// Writes `versions.json`: every version folder found, and which one `latest` means.
pub fn write_versions_index(output_dir: &Path) -> Result<(), CodegenError> {
    let io = |source| CodegenError::Io {
        path: output_dir.to_path_buf(),
        source,
    };
    let mut versions: Vec<String> = fs::read_dir(output_dir)
        .map_err(io)?
        .filter_map(Result::ok)
        .filter(|e| e.path().join("apidoc.json").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    versions.sort_by(|a, b| compare_versions(a, b));
    let latest = versions.last().cloned();
    let index = json!({"latest": latest, "versions": versions});
    write(&output_dir.join("versions.json"), &pretty(&index))
}

/// Generates one version from apidoc text into `output_dir/<tag>/`.
pub fn generate(
    text: &str,
    product: Product,
    tag: &str,
    output_dir: &Path,
    input_name: &str,
) -> Result<Summary, CodegenError> {
    generate_with_models(text, product, tag, output_dir, input_name, None)
}

/// [`generate`], plus the Pydantic models: into `models_dir` as a package (see
/// [`CodegenArgs::models_dir`]), else beside the schema.
pub fn generate_with_models(
    text: &str,
    product: Product,
    tag: &str,
    output_dir: &Path,
    input_name: &str,
    models_dir: Option<&Path>,
) -> Result<Summary, CodegenError> {
    let rendered = render(text, product, tag, input_name)?;
    let dir = output_dir.join(tag);
    write(&dir.join("apidoc.json"), &rendered.apidoc_json)?;
    write(&dir.join("openapi.json"), &rendered.openapi_json)?;
    write_versions_index(output_dir)?;
    let models = pydantic::render_models(&rendered.schema);
    let index = pretty(&models.index);
    match models_dir {
        None => {
            write(&dir.join("pydantic_models.py"), &models.source)?;
            write(&dir.join("model_index.json"), &index)?;
        }
        Some(root) => {
            let pkg = root.join(pydantic::module_dir(tag));
            write(&pkg.join("pydantic_models.py"), &models.source)?;
            write(&pkg.join("model_index.json"), &index)?;
            write_package_inits(root, &pkg)?;
            write_latest_models(output_dir, root, tag, &models.names)?;
        }
    }
    Ok(Summary {
        tag: tag.to_string(),
        operations: rendered.schema.operation_count(),
        paths: rendered
            .schema
            .endpoints()
            .iter()
            .filter(|e| !e.operations.is_empty())
            .count(),
        dir,
    })
}

const INIT: &str =
    "\"\"\"Generated Pydantic models (proxmox-sdk-codegen); see `proxmox_sdk.generated`.\"\"\"\n";

/// The `__init__.py` files that make `root` and `pkg` importable.
fn write_package_inits(root: &Path, pkg: &Path) -> Result<(), CodegenError> {
    for dir in [root, pkg] {
        let init = dir.join("__init__.py");
        if !init.exists() {
            write(&init, INIT)?;
        }
    }
    Ok(())
}

/// `root/latest/pydantic_models.py`: the newest version's models under the `latest` name,
/// written when `tag` (whose models are `names`) is the newest.
fn write_latest_models(
    output_dir: &Path,
    root: &Path,
    tag: &str,
    names: &[String],
) -> Result<(), CodegenError> {
    let index = fs::read_to_string(output_dir.join("versions.json")).map_err(|source| {
        CodegenError::Io {
            path: output_dir.join("versions.json"),
            source,
        }
    })?;
    let latest = serde_json::from_str::<Value>(&index)
        .ok()
        .and_then(|v| v["latest"].as_str().map(str::to_string));
    let Some(latest) = latest.filter(|l| l == tag) else {
        return Ok(());
    };
    let pkg = root.join("latest");
    let module = pydantic::module_dir(&latest);
    let package = root
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .skip_while(|c| c != "proxmox_sdk")
        .collect::<Vec<_>>()
        .join(".");
    let package = if package.is_empty() {
        module.clone()
    } else {
        format!("{package}.{module}")
    };
    // Explicit re-exports (not `import *`), which every type checker follows.
    let mut text = format!(
        "\"\"\"The newest bundled version's models ({latest}); see `{package}.pydantic_models`.\"\"\"\n\n\
         from {package}.pydantic_models import (\n"
    );
    for n in names {
        text.push_str(&format!("    {n} as {n},\n"));
    }
    text.push_str(")\nfrom ");
    text.push_str(&package);
    text.push_str(".pydantic_models import __all__ as __all__\n");
    write(&pkg.join("pydantic_models.py"), &text)?;
    write_package_inits(root, &pkg)
}

/// Fetches apidoc text from a node over HTTPS (verified, pinned, or `insecure`).
pub fn fetch(
    url: &str,
    insecure: bool,
    fingerprint: Option<&str>,
    timeout: Duration,
) -> Result<String, CodegenError> {
    let fetch_err = |message: String| CodegenError::Fetch {
        url: url.to_string(),
        message,
    };
    crate::tls::install_crypto_provider();
    let mut builder = reqwest::Client::builder()
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none());
    if let Some(fp) = fingerprint {
        let pin = Fingerprint::parse(fp).map_err(|message| CodegenError::Usage {
            option: "--fingerprint",
            message,
        })?;
        builder = builder.use_preconfigured_tls(pinned_client_config(pin));
    } else if insecure {
        builder = builder.tls_danger_accept_invalid_certs(true);
    }
    let client = builder.build().map_err(|e| fetch_err(error_chain(&e)))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| fetch_err(e.to_string()))?;
    runtime.block_on(async {
        let resp = client
            .get(url)
            .send()
            .await
            .map_err(|e| fetch_err(error_chain(&e)))?;
        let status = resp.status();
        if !status.is_success() {
            return Err(fetch_err(format!("HTTP {status}")));
        }
        resp.text().await.map_err(|e| fetch_err(error_chain(&e)))
    })
}

/// An error with its causes, so TLS failures say why (`UnknownIssuer`, fingerprint mismatch).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut msg = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !msg.contains(&text) {
            msg.push_str(": ");
            msg.push_str(&text);
        }
        source = s.source();
    }
    msg
}

/// Runs the codegen from parsed arguments.
pub fn run(args: &CodegenArgs) -> Result<Summary, CodegenError> {
    check_tag(&args.version_tag)?;
    let is_url = args.input.starts_with("https://") || args.input.starts_with("http://");
    let text = if is_url {
        fetch(
            &args.input,
            args.insecure,
            args.fingerprint.as_deref(),
            Duration::from_secs(args.timeout.max(1)),
        )?
    } else {
        fs::read_to_string(&args.input).map_err(|source| CodegenError::Io {
            path: PathBuf::from(&args.input),
            source,
        })?
    };
    let output_dir = args
        .output_dir
        .clone()
        .unwrap_or_else(|| Path::new("generated").join(args.service.dir()));
    generate_with_models(
        &text,
        args.service,
        &args.version_tag,
        &output_dir,
        &args.input,
        args.models_dir.as_deref(),
    )
}

/// The command-line entry: parses `argv` (program name first), runs, prints, and returns
/// the exit code (0 ok, 1 failure, 2 usage).
pub fn main_with_args<I, T>(argv: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let args = match CodegenArgs::try_parse_from(argv) {
        Ok(a) => a,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    match run(&args) {
        Ok(s) => {
            println!(
                "{}: {} operations on {} paths -> {}",
                s.tag,
                s.operations,
                s.paths,
                s.dir.display()
            );
            0
        }
        Err(e @ CodegenError::Usage { .. }) => {
            eprintln!("error: {e}");
            2
        }
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}
