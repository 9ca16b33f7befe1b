//! `gomig snapshot VERSION`: record the manifest of a toolchain now (stage 2).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;

use super::Ctx;
use crate::integrity::snapshot;
use crate::lookup;

/// Record a manifest of a toolchain's tree: path, type, mode, size, SHA-256, link target. A tree
/// that no longer matches its manifest is refused unless --accept-changes.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  gomig snapshot 1.22.10\n  gomig snapshot 1.22.10 --accept-changes   # after changing the tree on purpose\n  gomig snapshot 1.22.10 --sha256sum go1.22.10.sha256 && sha256sum -c go1.22.10.sha256"
)]
pub struct Args {
    #[arg(add = crate::cli::complete::toolchain())]
    pub version: String,
    /// Also write the regular files in `sha256sum -c` format to FILE.
    #[arg(long, value_name = "FILE")]
    pub sha256sum: Option<PathBuf>,
    /// Record the tree even though it differs from its manifest (the differences are printed
    /// and logged). Without it, a tree that fails `gomig verify` is refused.
    #[arg(long)]
    pub accept_changes: bool,
}

pub fn run(args: Args, ctx: &Ctx) -> Result<ExitCode> {
    let store = ctx.store_for_change()?;
    let name = lookup::toolchain_name_arg(&args.version)?;
    let snap = snapshot::snapshot(&store, &name, args.accept_changes, None)?;
    for w in &snap.warnings {
        ctx.note(w);
    }
    if !snap.accepted.is_empty() {
        // What is accepted is shown even with -q: it is the new truth from now on.
        eprintln!(
            "accepted {} change(s) to {} since it was last recorded:",
            snap.accepted.len(),
            snap.name
        );
        for d in &snap.accepted {
            eprintln!("  {}", d.describe());
        }
    }
    if snap.replaced_unreadable {
        eprintln!(
            "replaced the unreadable manifest of {}: what changed before cannot be told",
            snap.name
        );
    }
    let m = &snap.manifest;
    let toolchain = store.toolchain(&snap.name)?;
    if let Some(out) = &args.sha256sum {
        crate::store::write_atomic(out, &m.to_sha256sum(toolchain.root()))?;
        ctx.note(format!("wrote {}", out.display()));
    }
    println!(
        "{} {} entries, tree digest {}",
        snap.name,
        m.entries.len(),
        m.tree_digest()
    );
    ctx.note(format!("recorded {}", snap.path.display()));
    Ok(ExitCode::SUCCESS)
}
