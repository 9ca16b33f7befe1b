//! `gomig remove NAME`: forget an adopted GOROOT without touching it.

use std::process::ExitCode;

use anyhow::Result;

use super::Ctx;
use crate::store::transaction::{Kind, Removal};

/// Forget an adopted toolchain (the GOROOT itself is left alone).
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  gomig remove go1.19.8")]
pub struct Args {
    /// The toolchain name as `gomig list` shows it (go1.19.8, or 1.19.8).
    #[arg(add = crate::cli::complete::adopted_entry())]
    pub name: String,
    /// Also when it is the default or the rollback target.
    #[arg(long)]
    pub force: bool,
}

pub fn run(args: Args, ctx: &Ctx) -> Result<ExitCode> {
    let store = ctx.store_for_change()?;
    let name = crate::lookup::toolchain_entry_arg(&args.name)?;
    let policy = Removal {
        archive: None,
        kind: Kind::Remove,
        force: args.force,
        drop_from_history: false,
        fields: Vec::new(),
    };
    let removed = store.transaction()?.remove_toolchain(&name, &policy)?;
    for warning in &removed.warnings {
        ctx.note(warning);
    }
    let toolchain = removed.toolchain;
    ctx.note(format!("forgot {name} (left {} untouched)", toolchain.root().display()));
    Ok(ExitCode::SUCCESS)
}
