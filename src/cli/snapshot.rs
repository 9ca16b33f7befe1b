//! `gomig snapshot VERSION`: record the manifest of a toolchain now (stage 2).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};

use super::Ctx;
use crate::integrity::manifest;
use crate::lookup;
use crate::store::events::Event;

/// Record a manifest of a toolchain's tree: path, type, mode, size, SHA-256, link target.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  gomig snapshot 1.22.10\n  gomig snapshot 1.22.10 --sha256sum go1.22.10.sha256 && sha256sum -c go1.22.10.sha256"
)]
pub struct Args {
    pub version: String,
    /// Also write the regular files in `sha256sum -c` format to FILE.
    #[arg(long, value_name = "FILE")]
    pub sha256sum: Option<PathBuf>,
}

pub fn run(args: Args, ctx: &Ctx) -> Result<ExitCode> {
    let store = ctx.store_for_change()?;
    let toolchain = store.toolchain(&lookup::toolchain_name_arg(&args.version)?)?;
    let path = store.manifest_path(&toolchain.name);
    let m = manifest::record(toolchain.root(), &toolchain.name, &path)
        .with_context(|| format!("cannot record the manifest of {}", toolchain.root().display()))?;
    if let Some(out) = &args.sha256sum {
        crate::store::write_atomic(out, &m.to_sha256sum(toolchain.root()))?;
        ctx.note(format!("wrote {}", out.display()));
    }
    Event::new("snapshot")
        .field("version", toolchain.name.clone())
        .field("tree_digest", m.tree_digest())
        .append(&store)?;
    println!(
        "{} {} entries, tree digest {}",
        toolchain.name,
        m.entries.len(),
        m.tree_digest()
    );
    ctx.note(format!("recorded {}", path.display()));
    Ok(ExitCode::SUCCESS)
}
