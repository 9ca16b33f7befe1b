//! `gomig fingerprint [VERSION]`: the environment fingerprint of a toolchain (`go env -json`).

use std::process::ExitCode;

use anyhow::Result;

use super::Ctx;

/// Hash the build-relevant `go env` keys of a toolchain (GOOS, GOARCH, GOVERSION, CGO_ENABLED,
/// GOAMD64..., GOEXPERIMENT, GOFLAGS, GOPROXY, GOSUMDB, GONOSUMDB, GOPRIVATE, GOINSECURE,
/// GOTOOLCHAIN, CC, CXX); machine-specific paths are left out.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  gomig fingerprint               # the Go that runs here\n  gomig fingerprint 1.22.10 --json > go1.22.10.env.json\n  gomig env-diff go1.22.10.env.json 1.23.9"
)]
pub struct Args {
    /// An installed version (exact, a prefix such as 1.22, or latest); default: the Go that runs here.
    #[arg(add = crate::cli::complete::toolchain())]
    pub version: Option<String>,
    /// Print the keys and the fingerprint as JSON (a file `gomig env-diff` can compare).
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args, _ctx: &Ctx) -> Result<ExitCode> {
    let fp = super::fingerprint_of(args.version.as_deref())?;
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
