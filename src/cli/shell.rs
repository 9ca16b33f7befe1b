//! `gomig shell VERSION`: choose a Go for this shell session (through the shell function).

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::{Result, bail};

use super::Ctx;
use crate::cli::shells::Shell;
use crate::lookup::{self, Accept};

/// Use a Go version in the current shell only (sets GOMIG_GO_VERSION).
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  gomig shell 1.22.10\n  gomig shell --unset\n\nNeeds the shell integration (eval \"$(gomig init bash)\"), which evaluates the output."
)]
pub struct Args {
    /// An exact version (1.22.10), a prefix (1.22), latest or system.
    #[arg(required_unless_present = "unset", add = crate::cli::complete::toolchain_or_system())]
    pub version: Option<String>,
    /// Go back to what the directory and the default say.
    #[arg(long, conflicts_with = "version")]
    pub unset: bool,
}

pub fn run(args: Args, ctx: &Ctx) -> Result<ExitCode> {
    let Some(shell) = Shell::from_env().filter(|_| !std::io::stdout().is_terminal()) else {
        bail!(
            "gomig shell changes the current shell, so it needs the shell integration: add eval \"$(gomig init bash)\" (or zsh; fish: gomig init fish | source) to your shell's startup file, then open a new shell"
        );
    };
    if args.unset {
        println!("{}", shell.unset_var("GOMIG_GO_VERSION"));
        return Ok(ExitCode::SUCCESS);
    }
    let spec = args.version.unwrap_or_default();
    let pin = lookup::normalize(&spec, Accept::OrSystem)?.pin();
    let res = lookup::toolchain_arg(&spec, Accept::OrSystem)?;
    println!("{}", shell.set_var("GOMIG_GO_VERSION", &pin));
    ctx.note(format_args!(
        "this shell now uses {} ({})",
        super::explain::version_label(&res),
        lookup::path_of(res.exe.as_bytes()).display()
    ));
    Ok(ExitCode::SUCCESS)
}
