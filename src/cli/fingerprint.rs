//! `gomig fingerprint [VERSION]`: the environment fingerprint of a toolchain (`go env -json`).

use std::process::ExitCode;

use anyhow::{Result, bail};

use super::Ctx;
use crate::integrity::fingerprint::{self, Fingerprint};
use crate::lookup::{self, text_of};
use crate::resolve::Tool;

/// Hash the build-relevant `go env` keys of a toolchain (GOOS, GOARCH, GOVERSION, CGO_ENABLED,
/// GOAMD64..., GOEXPERIMENT, GOFLAGS, GOPROXY, GOSUMDB, GONOSUMDB, GOPRIVATE, GOINSECURE,
/// GOTOOLCHAIN, CC, CXX); machine-specific paths are left out.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  gomig fingerprint               # the Go that runs here\n  gomig fingerprint 1.22.10 --json > go1.22.10.env.json\n  gomig env-diff go1.22.10.env.json 1.23.9"
)]
pub struct Args {
    /// An installed version (exact, a prefix such as 1.22, or latest); default: the Go that runs here.
    pub version: Option<String>,
    /// Print the keys and the fingerprint as JSON (a file `gomig env-diff` can compare).
    #[arg(long)]
    pub json: bool,
}

/// A toolchain's fingerprint by version spec (`None`: the Go that runs here).
pub fn for_spec(spec: Option<&str>) -> Result<Fingerprint> {
    let res = match spec {
        Some(v) => lookup::resolve_spec(v, Tool::Go)?,
        None => lookup::resolve_here(Tool::Go)?,
    };
    if res.name.is_empty() {
        bail!(
            "the Go selected here is the system's, not a toolchain gomig manages; name a version, or adopt it first: gomig add <GOROOT>"
        );
    }
    let name = text_of(res.name.as_bytes());
    let root = lookup::path_of(res.goroot.as_bytes());
    Ok(fingerprint::of_toolchain(&root, Some(&name))?)
}

pub fn run(args: Args, _ctx: &Ctx) -> Result<ExitCode> {
    let fp = for_spec(args.version.as_deref())?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&fp)?);
    } else {
        println!("{}  {}", fp.fingerprint, fp.toolchain.as_deref().unwrap_or(""));
        for (k, v) in &fp.keys {
            println!("  {k}={v}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
