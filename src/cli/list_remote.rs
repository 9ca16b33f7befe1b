//! `gomig list-remote`: releases in the download index.

use std::process::ExitCode;

use anyhow::Result;
use serde_json::json;

use super::Ctx;
use super::source::{SourceArgs, installer};
use crate::integrity::manifest::host_platform;

/// List releases from the download index (cached for a day), stable first.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  gomig list-remote\n  gomig list-remote --all --json")]
pub struct Args {
    /// Include release candidates and betas.
    #[arg(long)]
    pub all: bool,
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub source: SourceArgs,
}

pub fn run(args: Args, ctx: &Ctx) -> Result<ExitCode> {
    let store = ctx.store()?;
    let index = installer(&store, ctx, &args.source)?.index()?;
    let (os, arch) = host_platform();
    let installed: Vec<String> = store.toolchains()?.into_iter().map(|t| t.name).collect();
    let mut rows: Vec<_> = index.sorted().into_iter().filter(|r| args.all || r.stable).collect();
    rows.sort_by_key(|r| !r.stable); // stable first, each group newest first
    let json_rows: Vec<_> = rows
        .iter()
        .map(|r| {
            json!({
                "version": r.version,
                "stable": r.stable,
                "installed": installed.contains(&r.version),
                "available_here": r.archive_for(os, arch).is_some(),
            })
        })
        .collect();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&json_rows)?);
    } else {
        for (r, row) in rows.iter().zip(&json_rows) {
            let mut marks = Vec::new();
            if !r.stable {
                marks.push("unstable");
            }
            if row["installed"] == true {
                marks.push("installed");
            }
            if row["available_here"] == false {
                marks.push("no archive for this platform");
            }
            println!("{:<14} {}", r.version, marks.join(", "));
        }
    }
    Ok(ExitCode::SUCCESS)
}
