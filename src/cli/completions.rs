//! `gomig completions bash|zsh|fish`.

use std::process::ExitCode;

use anyhow::{Context, Result};

use super::Ctx;
use crate::cli::shells::{self, Shell};

/// Print the completion script for a shell (`gomig init` already includes it).
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  gomig completions fish > ~/.config/fish/completions/gomig.fish")]
pub struct Args {
    #[arg(value_enum)]
    pub shell: Shell,
}

pub fn run(args: Args, _ctx: &Ctx) -> Result<ExitCode> {
    let exe = std::env::current_exe().context("cannot locate the gomig executable")?;
    print!("{}", shells::completions(args.shell, &exe));
    Ok(ExitCode::SUCCESS)
}
