//! `gomig local VERSION`: pin this directory with a `.go-version` file; without a version,
//! print the pin in effect here.

use std::process::ExitCode;

use anyhow::{Context, Result, bail};

use super::Ctx;
use super::explain::{reason, version_label};
use crate::lookup::{self, Accept, ArgError, EnvSnapshot};
use crate::resolve::{Source, Tool};
use crate::store::events::{Action, Event};
use crate::store::write_atomic;

/// Write (or remove) `.go-version` in the current directory.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  gomig local             # print the pin in effect here, and its file\n  gomig local 1.22.10\n  gomig local 1.22        # newest installed 1.22.x\n  gomig local --unset"
)]
pub struct Args {
    /// An exact version (1.22.10), a prefix (1.22), latest or system; none: print the pin here.
    #[arg(add = crate::cli::complete::toolchain_or_system())]
    pub version: Option<String>,
    /// Remove the .go-version file here.
    #[arg(long, conflicts_with = "version")]
    pub unset: bool,
    /// Write the pin even if no installed toolchain satisfies it yet.
    #[arg(long)]
    pub force: bool,
}

pub fn run(args: Args, ctx: &Ctx) -> Result<ExitCode> {
    let dir = lookup::current_dir().map_err(|e| anyhow::anyhow!(lookup::cwd_problem(&e)))?;
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
    let Some(spec) = args.version else {
        return show_pin(&dir, ctx);
    };
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

/// `gomig local` alone: the version file that applies here (this directory's or a parent's),
/// as the shim finds it, with what it asks for and what that runs; or a note that none does.
fn show_pin(dir: &std::path::Path, ctx: &Ctx) -> Result<ExitCode> {
    use std::os::unix::ffi::OsStringExt;
    // The files only: GOMIG_GO_VERSION (gomig shell) comes before them and is noted below.
    let files_only = EnvSnapshot::from_vars(
        std::env::vars_os()
            .filter(|(k, _)| k != "GOMIG_GO_VERSION")
            .map(|(k, v)| (k.into_vec(), v.into_vec())),
    );
    let from_file = |s: Source| matches!(s, Source::GoVersionFile | Source::ToolVersions);
    let found = match lookup::resolve_in(&files_only, dir, Tool::Go) {
        Ok(res) if from_file(res.source) => {
            let request = lookup::shown(res.request.as_bytes());
            let label = version_label(&res);
            println!("{request} ({}; runs {label})", reason(&res));
            true
        }
        // Nothing could be looked at (a path too long for the resolver): say that, not "none".
        Err(f) if f.kind == crate::resolve::ErrorKind::BadPath => return Err(f.into()),
        Err(f) if from_file(f.origin) => {
            // What the file holds, control bytes escaped (a NUL is `\0`, not invisible).
            println!(
                "{} (from {})",
                lookup::shown(&f.value),
                lookup::shown(f.file.as_os_str().as_encoded_bytes())
            );
            eprintln!("warning: {}", f.message);
            true
        }
        _ => false,
    };
    if !found {
        ctx.note(format!(
            "no .go-version applies in {} or above; pin this directory with: gomig local VERSION",
            dir.display()
        ));
    }
    if let Some(v) = std::env::var_os("GOMIG_GO_VERSION").filter(|v| !v.is_empty()) {
        ctx.note(format!(
            "note: GOMIG_GO_VERSION={} (gomig shell) comes first in this shell",
            v.to_string_lossy()
        ));
    }
    Ok(ExitCode::SUCCESS)
}

/// Pins change what runs in a project, so they go in the store's log too (when there is a
/// store: pinning before anything is installed is allowed, and then there is nothing to log to).
fn log_pin(ctx: &Ctx, file: &std::path::Path, pin: Option<&str>) {
    let Ok(store) = ctx.store() else { return };
    if !store.log_dir().is_dir() {
        return;
    }
    let event = Event::new(Action::Local)
        .field("file", file.display().to_string())
        .field("version", pin.map(str::to_string));
    if let Err(e) = event.append(&store) {
        ctx.note(format!("warning: cannot log the pin: {e}"));
    }
}
