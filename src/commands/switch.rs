//! `gomig switch VERSION` (alias `global`): change the global default atomically.

use std::process::ExitCode;

use anyhow::{Result, bail};

use super::Ctx;
use crate::events::Event;
use crate::lookup::{self, text_of};
use crate::resolve::Tool;

/// Set the global default Go (atomic; the previous default becomes the rollback target).
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  gomig switch 1.23.9\n  gomig global 1.22      # newest installed 1.22.x\n  gomig rollback         # back to the previous default"
)]
pub struct Args {
    /// An installed version: exact (1.22.10), a prefix (1.22) or latest.
    pub version: String,
}

pub fn run(args: Args, ctx: &Ctx) -> Result<ExitCode> {
    let store = ctx.store_for_change()?;
    let res = lookup::resolve_spec(&args.version, Tool::Go)?;
    if res.name.is_empty() {
        bail!("the default must be a toolchain gomig manages; adopt the system Go first: gomig add <GOROOT>");
    }
    let name = text_of(res.name.as_bytes());
    let _lock = store.lock_default()?;
    let previous = store.default_name()?;
    if previous.as_deref() == Some(name.as_str()) {
        ctx.note(format!("{name} is already the default"));
        return Ok(ExitCode::SUCCESS);
    }
    store.set_default(&name)?;
    if let Some(prev) = &previous {
        let mut history = store.history()?;
        history.push(prev.clone());
        store.write_history(&history)?;
    }
    Event::new("switch")
        .field("from", previous.clone())
        .field("to", name.clone())
        .append(&store)?;
    match previous {
        Some(prev) => ctx.note(format!("default: {prev} -> {name}\nto undo: gomig rollback")),
        None => ctx.note(format!("default: {name}")),
    }
    Ok(ExitCode::SUCCESS)
}
