//! `gomig env [VERSION]`: shell lines that select a Go, for scripts and CI.

use std::process::ExitCode;

use anyhow::Result;
use serde_json::json;

use super::Ctx;
use super::explain::selection_env;
use crate::cli::shells::Shell;
use crate::lookup::{self, Accept};
use crate::resolve::Tool;

/// Print the environment that selects a Go (GOROOT, PATH, GOTOOLCHAIN) as shell code.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  eval \"$(gomig env 1.22.10)\"\n  gomig env --shell fish | source\n  gomig env --json"
)]
pub struct Args {
    /// A version (default: what this directory resolves to).
    #[arg(add = crate::cli::complete::toolchain_or_system())]
    pub version: Option<String>,
    /// Syntax of the output.
    #[arg(long, value_enum, default_value = "bash")]
    pub shell: Shell,
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args, _ctx: &Ctx) -> Result<ExitCode> {
    let res = match &args.version {
        Some(v) => lookup::toolchain_arg(v, Accept::OrSystem)?,
        None => lookup::resolve_here(Tool::Go)?,
    };
    let (bin, goroot) = selection_env(&res);
    if args.json {
        let out = json!({ "GOROOT": goroot, "PATH_PREPEND": bin, "GOTOOLCHAIN": "local" });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(ExitCode::SUCCESS);
    }
    let sh = args.shell;
    let bin = bin.to_string_lossy();
    match goroot {
        Some(root) => println!("{}", sh.set_var("GOROOT", &root.to_string_lossy())),
        None => println!("{}", sh.unset_var("GOROOT")),
    }
    match sh {
        Shell::Fish => {
            println!("set -gx PATH {} $PATH", sh.quote(&bin));
            println!("set -q GOTOOLCHAIN; or set -gx GOTOOLCHAIN local");
        }
        _ => {
            println!("export PATH={}\"${{PATH:+:$PATH}}\"", sh.quote(&bin));
            println!("export GOTOOLCHAIN=\"${{GOTOOLCHAIN:-local}}\"");
        }
    }
    Ok(ExitCode::SUCCESS)
}
