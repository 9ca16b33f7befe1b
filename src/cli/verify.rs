//! `gomig verify [VERSION|--all]`: re-hash a toolchain and compare with its manifest.

use std::process::ExitCode;

use anyhow::{Result, bail};
use serde_json::json;

use super::Ctx;
use crate::paint::Paint;
use crate::integrity::verify::VerifyError;
use crate::lookup;
use crate::store::events::{Action, Event};

/// Check a toolchain against its manifest: every added, removed, modified, re-moded or
/// re-targeted entry, and that `go version` names the recorded release. Exit 1 on any difference.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  gomig verify 1.22.10\n  gomig verify --all --json")]
pub struct Args {
    /// The toolchain (default: the global default).
    #[arg(conflicts_with = "all", add = crate::cli::complete::toolchain())]
    pub version: Option<String>,
    /// Verify every toolchain.
    #[arg(long)]
    pub all: bool,
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args, ctx: &Ctx) -> Result<ExitCode> {
    let store = ctx.store()?;
    let toolchains = if args.all {
        store.toolchains()?
    } else {
        let name = match &args.version {
            Some(v) => lookup::toolchain_name_arg(v)?,
            None => match store.default_name()? {
                Some(d) => d,
                None => bail!("no default is set: name a toolchain (gomig verify 1.22.10) or use --all"),
            },
        };
        vec![store.toolchain(&name)?]
    };
    let mut failed = false;
    let mut results = Vec::new();
    let paint = Paint::stdout();
    for t in &toolchains {
        match store.verify(t) {
            Ok(report) => {
                if !report.ok() {
                    failed = true;
                    let _ = Event::new(Action::Verify)
                        .field("version", report.name.clone())
                        .field("expected_tree_digest", report.manifest.tree_digest())
                        .field("actual_tree_digest", report.tree_digest.clone())
                        .field("differences", report.differences.len())
                        .result(Err("differences found"))
                        .append(&store);
                }
                if !args.json {
                    if report.ok() {
                        println!(
                            "{}        {} ({} files, tree digest {})",
                            paint.good("ok"),
                            report.name,
                            report.files_hashed,
                            report.tree_digest
                        );
                    } else {
                        println!(
                            "{}    {} at {}: {} difference(s)",
                            paint.bad("FAILED"),
                            report.name,
                            report.root,
                            report.differences.len()
                        );
                        for d in &report.differences {
                            println!("  {}", d.describe());
                        }
                    }
                }
                results.push(json!({
                    "version": report.name,
                    "ok": report.ok(),
                    "tree_digest": report.tree_digest,
                    "recorded_tree_digest": report.manifest.tree_digest(),
                    "differences": report.differences,
                }));
            }
            Err(e) => {
                failed = true;
                if !args.json {
                    eprintln!("error: {e}");
                }
                let hint = matches!(e, VerifyError::NoManifest { .. });
                let _ = Event::new(Action::Verify)
                    .field("version", t.name.clone())
                    .field("no_manifest", hint)
                    .result(Err(&e.to_string()))
                    .append(&store);
                results.push(json!({ "version": t.name, "ok": false, "error": e.to_string(), "no_manifest": hint }));
            }
        }
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&results)?);
    }
    ctx.note(if failed { "verification failed" } else { "verified" });
    Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}
