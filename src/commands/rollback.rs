//! `gomig rollback`: return to the previous default, atomically; repeatable through history.

use std::process::ExitCode;

use anyhow::{Result, bail};

use super::Ctx;
use crate::events::Event;

/// Go back to the previous global default.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  gomig switch 1.23.9 && gomig rollback   # back where you were")]
pub struct Args {}

pub fn run(_args: Args, ctx: &Ctx) -> Result<ExitCode> {
    let store = ctx.store_for_change()?;
    let _lock = store.lock_default()?;
    let mut history = store.history()?;
    let Some(target) = history.pop() else {
        bail!(
            "nothing to roll back to: {} is empty (gomig switch records the previous default there)",
            store.history_path().display()
        );
    };
    let toolchain = store.toolchain(&target)?;
    if !toolchain.is_present() {
        bail!(
            "the rollback target {target} is broken ({} has no bin/go); reinstall it first: gomig install {}",
            toolchain.root().display(),
            crate::store::short(&target)
        );
    }
    let current = store.default_name()?;
    store.set_default(&target)?;
    store.write_history(&history)?;
    Event::new("rollback")
        .field("from", current.clone())
        .field("to", target.clone())
        .append(&store)?;
    ctx.note(format!(
        "default: {} -> {target}",
        current.as_deref().unwrap_or("(none)")
    ));
    Ok(ExitCode::SUCCESS)
}
