//! `gomig exec VERSION -- CMD ARGS...`: run a command with that Go first on PATH.

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitCode};

use anyhow::{Result, anyhow};

use super::Ctx;
use super::explain::selection_env;
use crate::lookup::{self, Accept, text_of};

/// Run a command with a given Go: its bin first on PATH, GOROOT set, GOTOOLCHAIN that never downloads.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  gomig exec 1.22.10 -- go test ./...")]
pub struct Args {
    /// An installed version: exact (1.22.10), a prefix (1.22), latest or system.
    #[arg(add = crate::cli::complete::toolchain_or_system())]
    pub version: String,
    /// The command and its arguments.
    #[arg(last = true, required = true)]
    pub command: Vec<OsString>,
}

pub fn run(args: Args, _ctx: &Ctx) -> Result<ExitCode> {
    let res = lookup::toolchain_arg(&args.version, Accept::OrSystem)?;
    let (bin, goroot) = selection_env(&res);
    let mut path = OsString::from(bin.as_os_str());
    if let Some(old) = std::env::var_os("PATH").filter(|p| !p.is_empty()) {
        path.push(":");
        path.push(old);
    }
    let mut cmd = Command::new(&args.command[0]);
    cmd.args(&args.command[1..])
        .env("PATH", path)
        .env_remove("GOMIG_GO_VERSION");
    match goroot {
        Some(root) => cmd.env("GOROOT", root),
        None => cmd.env_remove("GOROOT"),
    };
    // As the shim does: a GOTOOLCHAIN that never lets go download. Without the shim's
    // handshake (the command may not be go), a toolchain name may switch only through PATH.
    let seen = text_of(res.child_gotoolchain.as_bytes());
    match seen.as_str() {
        "" => {}
        "local" | "path" => {
            cmd.env("GOTOOLCHAIN", &seen);
        }
        name if name.ends_with("+path") => {
            cmd.env("GOTOOLCHAIN", name);
        }
        name => {
            cmd.env("GOTOOLCHAIN", format!("{name}+path"));
        }
    }
    let err = cmd.exec();
    Err(anyhow!("cannot run {}: {err}", args.command[0].to_string_lossy()))
}
