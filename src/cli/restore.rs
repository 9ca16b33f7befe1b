//! `gomig restore FILE`: install a toolchain from a `gomig archive`, checked end to end.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;

use super::Ctx;
use crate::integrity::restore::{self, Outcome};
use crate::store::events::{Action, Event};

/// Restore a toolchain from a gomig archive: the `.sha256` sidecar is checked when present, the
/// tree is unpacked into staging with the install protections, compared with the archive's
/// manifest, and renamed into place. Over an installed copy of the same release, the tree on
/// disk is verified and, if damaged, replaced by the archive's. Anything wrong changes nothing.
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
            let _ = Event::new(Action::Restore)
                .field("path", args.file.display().to_string())
                .result(Err(&e.to_string()))
                .append(&store);
            return Err(e.into());
        }
    };
    for w in &r.warnings {
        ctx.note(w);
    }
    if r.outcome == Outcome::Intact {
        ctx.note(format!(
            "{} is already installed and intact: its tree on disk matches its manifest and this archive (tree digest {}); nothing to restore",
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
    println!("{} {}", r.name, r.tree_digest);
    if let Outcome::Repaired { damage } = &r.outcome {
        // Shown even with -q: the tree that was in place is gone.
        eprintln!(
            "repaired {}: its tree did not match its manifest ({} difference(s)):",
            r.name,
            damage.len()
        );
        for d in damage {
            eprintln!("  {d}");
        }
        eprintln!(
            "replaced it with the archive's tree, which matches it (tree digest {}); gomig verify {} checks it",
            r.tree_digest,
            crate::store::short(&r.name)
        );
        return Ok(ExitCode::SUCCESS);
    }
    ctx.note(format!("restored {} (tree digest {})", r.name, r.tree_digest));
    Ok(ExitCode::SUCCESS)
}
