//! `gomig switch VERSION` (alias `global`): change the global default atomically.

use std::process::ExitCode;

use anyhow::Result;

use super::Ctx;
use crate::lookup;
use crate::store::transaction::Gate;

/// Set the global default Go (atomic; the previous default becomes the rollback target).
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  gomig switch 1.23.9\n  gomig global 1.22      # newest installed 1.22.x\n  gomig rollback         # back to the previous default"
)]
pub struct Args {
    /// An installed version: exact (1.22.10), a prefix (1.22) or latest.
    #[arg(add = crate::cli::complete::toolchain())]
    pub version: String,
    /// Switch without verifying the toolchain against its manifest first (logged).
    #[arg(long)]
    pub no_verify: bool,
}

pub fn run(args: Args, ctx: &Ctx) -> Result<ExitCode> {
    let store = ctx.store_for_change()?;
    let name = lookup::toolchain_name_arg(&args.version)?;
    let gate = if args.no_verify {
        ctx.note(format!(
            "warning: switching to {name} without verifying it (--no-verify)"
        ));
        Gate::Skip
    } else {
        Gate::Verify
    };
    let switched = store.transaction()?.switch(&name, gate, None)?;
    for w in &switched.warnings {
        ctx.note(w);
    }
    match (&switched.previous, switched.changed) {
        (_, false) => ctx.note(format!("{name} is already the default")),
        (Some(prev), true) => ctx.note(format!("default: {prev} -> {name}\nto undo: gomig rollback")),
        (None, true) => ctx.note(format!("default: {name}")),
    }
    Ok(ExitCode::SUCCESS)
}
