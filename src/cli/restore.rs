//! `gomig restore FILE`: install a toolchain from a `gomig archive`, checked end to end.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;

use super::Ctx;
use crate::integrity::restore;
use crate::store::events::Event;

/// Restore a toolchain from a gomig archive: the `.sha256` sidecar is checked when present, the
/// tree is unpacked into staging with the install protections, compared with the archive's
/// manifest, and renamed into place. Anything wrong leaves nothing installed.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  gomig restore go1.22.10.linux-amd64.tar.gz\n  gomig restore /backup/go1.22.10.linux-amd64.tar.gz --sha256 HEX"
)]
pub struct Args {
    pub file: PathBuf,
    /// The archive's expected SHA-256 (instead of FILE.sha256).
    #[arg(long, value_name = "HEX")]
    pub sha256: Option<String>,
    /// Store it under this name (default: its Go version).
    #[arg(long)]
    pub name: Option<String>,
}

pub fn run(args: Args, ctx: &Ctx) -> Result<ExitCode> {
    let store = ctx.store_for_change()?;
    let result = restore::restore(&store, &args.file, args.sha256.as_deref(), args.name.as_deref());
    let r = match result {
        Ok(r) => r,
        Err(e) => {
            let _ = Event::new("restore")
                .field("path", args.file.display().to_string())
                .result(Err(&e.to_string()))
                .append(&store);
            return Err(e.into());
        }
    };
    if r.already_installed {
        ctx.note(format!(
            "{} is already installed with the same tree digest {}",
            r.name, r.tree_digest
        ));
        return Ok(ExitCode::SUCCESS);
    }
    match &r.checked_against {
        Some(origin) => ctx.note(format!("checksum matches {origin}")),
        None => ctx.note(format!(
            "note: no {} sidecar; the archive was checked against its own manifest only",
            crate::integrity::pack::sidecar_path(&args.file).display()
        )),
    }
    Event::new("restore")
        .field("version", r.name.clone())
        .field("path", args.file.display().to_string())
        .field("sha256", r.sha256.clone())
        .field("tree_digest", r.tree_digest.clone())
        .field("sha256_checked", r.checked_against.is_some())
        .append(&store)?;
    println!("{} {}", r.name, r.tree_digest);
    ctx.note(format!("restored {} (tree digest {})", r.name, r.tree_digest));
    Ok(ExitCode::SUCCESS)
}
