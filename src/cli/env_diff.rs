//! `gomig env-diff A B`: the fingerprint keys that differ between two toolchains or two saved
//! fingerprints.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;

use super::Ctx;
use crate::integrity::fingerprint::{self, Fingerprint};

/// Show the `go env` keys of the fingerprint that differ between A and B. Each is an installed
/// version or a file saved with `gomig fingerprint --json`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  gomig env-diff 1.22.10 1.23.9\n  gomig fingerprint --json > before.json; ...; gomig env-diff before.json 1.23.9"
)]
pub struct Args {
    #[arg(add = crate::cli::complete::toolchain_or_file())]
    pub a: String,
    #[arg(add = crate::cli::complete::toolchain_or_file())]
    pub b: String,
    #[arg(long)]
    pub json: bool,
}

fn load(arg: &str) -> Result<Fingerprint> {
    let path = Path::new(arg);
    // A path to a saved fingerprint, else a version.
    if path.is_file() {
        return Ok(Fingerprint::load(path)?);
    }
    super::fingerprint_of(Some(arg))
}

pub fn run(args: Args, _ctx: &Ctx) -> Result<ExitCode> {
    let a = load(&args.a)?;
    let b = load(&args.b)?;
    let diffs = fingerprint::diff(&a, &b);
    let label = |fp: &Fingerprint, arg: &str| fp.toolchain.clone().unwrap_or_else(|| arg.to_string());
    let (la, lb) = (label(&a, &args.a), label(&b, &args.b));
    if args.json {
        let out = serde_json::json!({
            "a": { "name": la, "fingerprint": a.fingerprint },
            "b": { "name": lb, "fingerprint": b.fingerprint },
            "same": diffs.is_empty(),
            "differences": diffs,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else if diffs.is_empty() {
        println!("same fingerprint {}", a.fingerprint);
    } else {
        let width = diffs.iter().map(|d| d.key.len()).max().unwrap_or(0).max(3);
        println!("{:<width$}  {}  {}", "key", la, lb);
        for d in &diffs {
            println!(
                "{:<width$}  {}  {}",
                d.key,
                d.a.as_deref().unwrap_or("(unset)"),
                d.b.as_deref().unwrap_or("(unset)")
            );
        }
    }
    // Different releases always differ in GOVERSION: a difference is information, not failure.
    Ok(ExitCode::SUCCESS)
}
