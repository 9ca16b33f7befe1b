//! `gomig remove NAME`: forget an adopted GOROOT without touching it.

use std::process::ExitCode;

use anyhow::{Context, Result, bail};

use super::Ctx;
use crate::events::Event;

/// Forget an adopted toolchain (the GOROOT itself is left alone).
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  gomig remove go1.19.8")]
pub struct Args {
    /// The toolchain name as `gomig list` shows it (go1.19.8, or 1.19.8).
    pub name: String,
    /// Also when it is the default or the rollback target.
    #[arg(long)]
    pub force: bool,
}

pub fn run(args: Args, ctx: &Ctx) -> Result<ExitCode> {
    let store = ctx.store_for_change()?;
    let name = super::toolchain_name(&store, &args.name);
    let _lock = store.lock_default()?;
    let toolchain = store.toolchain(&name)?;
    if toolchain.adopted_from.is_none() {
        bail!("{name} was installed by gomig, not adopted; remove it with: gomig uninstall {name}");
    }
    if !args.force {
        if store.default_name()?.as_deref() == Some(name.as_str()) {
            bail!("{name} is the global default; switch to another first (gomig switch VERSION), or use --force");
        }
        if store.rollback_target()?.as_deref() == Some(name.as_str()) {
            bail!("{name} is the rollback target; use --force to remove it anyway");
        }
    }
    std::fs::remove_file(&toolchain.path).with_context(|| format!("cannot remove {}", toolchain.path.display()))?;
    Event::new("remove")
        .field("version", name.clone())
        .field("goroot", toolchain.root().display().to_string())
        .append(&store)?;
    ctx.note(format!("forgot {name} (left {} untouched)", toolchain.root().display()));
    Ok(ExitCode::SUCCESS)
}
