//! `gomig shell VERSION`: choose a Go for this shell session (through the shell function);
//! without a version, print the one this shell has.

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::{Result, bail};

use super::Ctx;
use crate::cli::shells::Shell;
use crate::lookup::{self, Accept};

/// Use a Go version in the current shell only (sets GOMIG_GO_VERSION).
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  gomig shell             # print this shell's GOMIG_GO_VERSION\n  gomig shell 1.22.10\n  gomig shell --unset\n\nNeeds the shell integration (eval \"$(gomig init bash)\"), which evaluates the output."
)]
pub struct Args {
    /// An exact version (1.22.10), a prefix (1.22), latest or system; none: print this shell's.
    #[arg(add = crate::cli::complete::toolchain_or_system())]
    pub version: Option<String>,
    /// Go back to what the directory and the default say.
    #[arg(long, conflicts_with = "version")]
    pub unset: bool,
}

pub fn run(args: Args, ctx: &Ctx) -> Result<ExitCode> {
    if args.version.is_none() && !args.unset {
        return show(ctx);
    }
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

/// `gomig shell` alone: this shell's `GOMIG_GO_VERSION` on stdout (as shell code that prints
/// it when the shell function evaluates the output, `GOMIG_SHELL_EVAL`), or a note that none
/// is set. Needs no integration: the variable is in gomig's environment either way.
fn show(ctx: &Ctx) -> Result<ExitCode> {
    let Some(value) = std::env::var("GOMIG_GO_VERSION").ok().filter(|v| !v.is_empty()) else {
        ctx.note(
            "GOMIG_GO_VERSION is not set in this shell: the directory and the default decide (gomig current); set it with: gomig shell VERSION",
        );
        return Ok(ExitCode::SUCCESS);
    };
    if std::env::var_os("GOMIG_SHELL_EVAL").is_some() {
        let shell = Shell::from_env().unwrap_or(Shell::Bash);
        println!("printf '%s\\n' {}", shell.quote(&value));
    } else {
        println!("{value}");
    }
    match lookup::toolchain_arg(&value, Accept::OrSystem) {
        Ok(res) => ctx.note(format_args!(
            "this shell uses {} ({})",
            super::explain::version_label(&res),
            lookup::path_of(res.exe.as_bytes()).display()
        )),
        Err(e) => ctx.note(format_args!("warning: {e}")),
    }
    Ok(ExitCode::SUCCESS)
}
