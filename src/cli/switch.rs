//! `gomig switch VERSION` (alias `global`): change the global default atomically; without a
//! version, print it.

use std::process::ExitCode;

use anyhow::Result;

use super::Ctx;
use crate::lookup::{self, EnvSnapshot};
use crate::store::Store;
use crate::store::transaction::Gate;

/// Set the global default Go (atomic; the previous default becomes the rollback target).
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  gomig switch            # print the global default\n  gomig switch 1.23.9\n  gomig global 1.22      # newest installed 1.22.x\n  gomig rollback         # back to the previous default"
)]
pub struct Args {
    /// An installed version: exact (1.22.10), a prefix (1.22) or latest; none: print the default.
    #[arg(add = crate::cli::complete::toolchain())]
    pub version: Option<String>,
    /// Switch without verifying the toolchain against its manifest first (logged).
    #[arg(long)]
    pub no_verify: bool,
}

pub fn run(args: Args, ctx: &Ctx) -> Result<ExitCode> {
    let Some(version) = args.version else {
        return show_default(ctx);
    };
    let store = ctx.store_for_change()?;
    let name = lookup::toolchain_name_arg(&version)?;
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

/// `gomig switch` alone: the global default's name on stdout, or a note that there is none
/// and how to set one. Read only: a store that does not exist yet is not created.
fn show_default(ctx: &Ctx) -> Result<ExitCode> {
    let store = Store::at(lookup::home_dir(&EnvSnapshot::capture())?);
    let present = store.home().is_dir();
    if present {
        store.check_permissions()?;
    }
    let default = if present { store.default_name()? } else { None };
    match default {
        Some(name) => {
            println!("{name}");
            if !store.toolchain_path(&name).exists() {
                ctx.note(format!(
                    "warning: the default's tree {} is missing; choose another with gomig switch VERSION (gomig doctor explains)",
                    store.toolchain_path(&name).display()
                ));
            }
        }
        None => {
            let installed: Vec<String> = store.toolchains()?.into_iter().map(|t| t.name).collect();
            if installed.is_empty() {
                ctx.note(
                    "no global default is set and nothing is installed; run: gomig install latest (it becomes the default), or adopt a Go with gomig add PATH",
                );
            } else {
                ctx.note(format!(
                    "no global default is set; set one with: gomig switch VERSION (installed: {})",
                    installed.join(", ")
                ));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
