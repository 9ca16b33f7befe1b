//! `gomig local VERSION`: pin this directory with a `.go-version` file.

use std::process::ExitCode;

use anyhow::{Context, Result, bail};

use super::Ctx;
use crate::lookup::{self, Accept, ArgError};
use crate::store::events::Event;
use crate::store::write_atomic;

/// Write (or remove) `.go-version` in the current directory.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  gomig local 1.22.10\n  gomig local 1.22        # newest installed 1.22.x\n  gomig local --unset"
)]
pub struct Args {
    /// An exact version (1.22.10), a prefix (1.22), latest or system.
    #[arg(required_unless_present = "unset", add = crate::cli::complete::toolchain_or_system())]
    pub version: Option<String>,
    /// Remove the .go-version file here.
    #[arg(long, conflicts_with = "version")]
    pub unset: bool,
    /// Write the pin even if no installed toolchain satisfies it yet.
    #[arg(long)]
    pub force: bool,
}

pub fn run(args: Args, ctx: &Ctx) -> Result<ExitCode> {
    let dir = lookup::current_dir().context("cannot determine the current directory")?;
    let file = dir.join(".go-version");
    if args.unset {
        match std::fs::remove_file(&file) {
            Ok(()) => {
                log_pin(ctx, &file, None);
                ctx.note(format!("removed {}", file.display()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => ctx.note(format!("no {} to remove", file.display())),
            Err(e) => return Err(e).with_context(|| format!("cannot remove {}", file.display())),
        }
        return Ok(ExitCode::SUCCESS);
    }
    let spec = args.version.unwrap_or_default();
    // The pin is the request as the shim reads it, spelt plainly (`v1.22.10` -> 1.22.10).
    let pin = lookup::normalize(&spec, Accept::OrSystem)?.pin();
    match lookup::toolchain_arg(&spec, Accept::OrSystem) {
        Ok(_) => {}
        Err(ArgError::NotInstalled { .. }) if args.force => {}
        Err(err @ ArgError::NotInstalled { .. }) => bail!("{err}; or pin it anyway with --force"),
        Err(err) => return Err(err.into()),
    }
    write_atomic(&file, format!("{pin}\n").as_bytes())?;
    log_pin(ctx, &file, Some(&pin));
    ctx.note(format!("wrote {} ({pin})", file.display()));
    Ok(ExitCode::SUCCESS)
}

/// Pins change what runs in a project, so they go in the store's log too (when there is a
/// store: pinning before anything is installed is allowed, and then there is nothing to log to).
fn log_pin(ctx: &Ctx, file: &std::path::Path, pin: Option<&str>) {
    let Ok(store) = ctx.store() else { return };
    if !store.log_dir().is_dir() {
        return;
    }
    let event = Event::new("local")
        .field("file", file.display().to_string())
        .field("version", pin.map(str::to_string));
    if let Err(e) = event.append(&store) {
        ctx.note(format!("warning: cannot log the pin: {e}"));
    }
}
