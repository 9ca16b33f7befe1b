//! `gomig which [go|gofmt]`: the binary the shim would run here.

use std::process::ExitCode;

use anyhow::Result;

use super::Ctx;
use crate::lookup;
use crate::resolve::Tool;

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ToolArg {
    Go,
    Gofmt,
}

/// Print the path of the go (or gofmt) binary that runs in this directory.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  gomig which gofmt")]
pub struct Args {
    #[arg(value_enum, default_value = "go")]
    pub tool: ToolArg,
}

pub fn run(args: Args, _ctx: &Ctx) -> Result<ExitCode> {
    let tool = match args.tool {
        ToolArg::Go => Tool::Go,
        ToolArg::Gofmt => Tool::Gofmt,
    };
    let res = lookup::resolve_here(tool)?;
    println!("{}", lookup::path_of(res.exe.as_bytes()).display());
    Ok(ExitCode::SUCCESS)
}
