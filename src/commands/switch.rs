//! `gomig switch VERSION` (alias `global`): change the global default atomically.

use std::process::ExitCode;

use anyhow::{Result, anyhow, bail};

use super::Ctx;
use crate::events::Event;
use crate::lookup::{self, text_of};
use crate::resolve::Tool;
use crate::verify;

/// Set the global default Go (atomic; the previous default becomes the rollback target).
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  gomig switch 1.23.9\n  gomig global 1.22      # newest installed 1.22.x\n  gomig rollback         # back to the previous default"
)]
pub struct Args {
    /// An installed version: exact (1.22.10), a prefix (1.22) or latest.
    pub version: String,
    /// Switch without verifying the toolchain against its manifest first (logged).
    #[arg(long)]
    pub no_verify: bool,
}

pub fn run(args: Args, ctx: &Ctx) -> Result<ExitCode> {
    let store = ctx.store_for_change()?;
    let res = lookup::resolve_spec(&args.version, Tool::Go)?;
    if res.name.is_empty() {
        bail!("the default must be a toolchain gomig manages; adopt the system Go first: gomig add <GOROOT>");
    }
    let name = text_of(res.name.as_bytes());
    // The gate: never make a toolchain the default unless it is what was recorded.
    let digest = if args.no_verify {
        ctx.note(format!(
            "warning: switching to {name} without verifying it (--no-verify)"
        ));
        None
    } else {
        let report = match verify::verify(&store, &store.toolchain(&name)?) {
            Ok(report) => report,
            Err(e) => {
                // Refused by the gate (no manifest, an unreadable tree): logged like a mismatch.
                let _ = Event::new("switch")
                    .field("to", name.clone())
                    .field("no_manifest", matches!(e, verify::VerifyError::NoManifest { .. }))
                    .result(Err(&format!("verify failed: {e}")))
                    .append(&store);
                return Err(anyhow!(
                    "{e}\nrefusing to switch to an unverified toolchain (or pass --no-verify)"
                ));
            }
        };
        if !report.ok() {
            let _ = Event::new("switch")
                .field("to", name.clone())
                .field("differences", report.differences.len())
                .result(Err("verify failed"))
                .append(&store);
            bail!(
                "{name} does not match its manifest ({} difference(s)); refusing to switch:\n{}\ncheck it with gomig verify {name}; reinstall it (gomig uninstall, gomig install) if it was damaged",
                report.differences.len(),
                report.first_differences(10)
            );
        }
        Some(report.tree_digest)
    };
    let switched = store.switch_default(&name)?;
    let previous = switched.previous;
    if !switched.changed {
        ctx.note(format!("{name} is already the default"));
        return Ok(ExitCode::SUCCESS);
    }
    Event::new("switch")
        .field("from", previous.clone())
        .field("to", name.clone())
        .field("verified", digest.is_some())
        .field("tree_digest", digest)
        .append(&store)?;
    match previous {
        Some(prev) => ctx.note(format!("default: {prev} -> {name}\nto undo: gomig rollback")),
        None => ctx.note(format!("default: {name}")),
    }
    Ok(ExitCode::SUCCESS)
}
