//! `gomig local VERSION`: pin this directory with a `.go-version` file.

use std::process::ExitCode;

use anyhow::{Context, Result, bail};

use super::Ctx;
use crate::lookup;
use crate::resolve::{ErrorKind, Tool};
use crate::store::events::Event;
use crate::store::write_atomic;

/// Write (or remove) `.go-version` in the current directory.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  gomig local 1.22.10\n  gomig local 1.22        # newest installed 1.22.x\n  gomig local --unset"
)]
pub struct Args {
    /// An exact version (1.22.10), a prefix (1.22), latest or system.
    #[arg(required_unless_present = "unset")]
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
    let pin = spec.strip_prefix("go").unwrap_or(&spec).to_string();
    if let Err(err) = lookup::resolve_spec(&pin, Tool::Go) {
        let not_installed = err
            .downcast_ref::<lookup::ResolveFailure>()
            .is_some_and(|f| f.kind == ErrorKind::NotInstalled);
        if !(not_installed && args.force) {
            if not_installed {
                bail!("{err}; or pin it anyway with --force");
            }
            return Err(err);
        }
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
