//! `gomig uninstall VERSION`: remove an installed toolchain (renamed out first, then deleted).

use std::process::ExitCode;

use anyhow::Result;

use super::Ctx;

/// Remove an installed toolchain and its manifest.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  gomig uninstall 1.21.13")]
pub struct Args {
    /// The installed version: 1.21.13, go1.21.13, v1.21.13 (any spelling Go accepts: 1.20.0 is
    /// go1.20), a prefix (1.21: the newest installed 1.21.x) or latest.
    #[arg(add = crate::cli::complete::installed_entry())]
    pub version: String,
    /// Also when it is the default or the rollback target.
    #[arg(long)]
    pub force: bool,
}

pub fn run(args: Args, ctx: &Ctx) -> Result<ExitCode> {
    let store = ctx.store_for_change()?;
    let name = crate::lookup::toolchain_entry_arg(&args.version)?;
    for warning in crate::install::uninstall(&store, &name, args.force, None)? {
        ctx.note(warning);
    }
    ctx.note(format!("uninstalled {name}"));
    Ok(ExitCode::SUCCESS)
}
