//! `gomig init bash|zsh|fish`: the code to eval in a shell's startup file.

use std::process::ExitCode;

use anyhow::{Context, Result};

use super::Ctx;
use crate::cli::shells::{self, Shell};

/// Print the shell integration: shims first on PATH, the `gomig` function, completions.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  eval \"$(gomig init bash)\"   # in ~/.bashrc\n  eval \"$(gomig init zsh)\"    # in ~/.zshrc\n  gomig init fish | source     # in ~/.config/fish/config.fish"
)]
pub struct Args {
    #[arg(value_enum)]
    pub shell: Shell,
}

pub fn run(args: Args, ctx: &Ctx) -> Result<ExitCode> {
    let store = ctx.store_for_change()?;
    crate::install::shims::ensure(&store)?;
    let exe = std::env::current_exe().context("cannot locate the gomig executable")?;
    print!("{}", shells::init_script(args.shell, &exe, &store.shims_dir()));
    Ok(ExitCode::SUCCESS)
}
