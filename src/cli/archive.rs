//! `gomig archive VERSION [-o FILE|DIR]`: a pax `.tar.gz` of a toolchain with its manifest, and
//! a `.sha256` sidecar.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};

use super::Ctx;
use crate::integrity::pack;
use crate::lookup;
use crate::store::events::{Action, Event};

/// Archive a toolchain: `go1.22.10.linux-amd64.tar.gz` (POSIX pax, the tree under go/, owner
/// 0/0, sorted, the manifest as member gomig.manifest, gomig metadata in pax headers) and
/// `<archive>.sha256` beside it. The tree must match its recorded manifest.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  gomig archive 1.22.10                    # ./go1.22.10.linux-amd64.tar.gz (+ .sha256)\n  gomig archive 1.22.10 -o /backup/\n  sha256sum -c go1.22.10.linux-amd64.tar.gz.sha256 && gomig restore go1.22.10.linux-amd64.tar.gz"
)]
pub struct Args {
    #[arg(add = crate::cli::complete::toolchain())]
    pub version: String,
    /// The archive file, or a directory for the official name (default: the current directory).
    #[arg(short, long, value_name = "FILE|DIR")]
    pub output: Option<PathBuf>,
    /// gzip level (1 fastest .. 9 smallest).
    #[arg(long, default_value_t = pack::DEFAULT_LEVEL, value_parser = clap::value_parser!(u32).range(1..=9))]
    pub level: u32,
}

pub fn run(args: Args, ctx: &Ctx) -> Result<ExitCode> {
    let store = ctx.store()?;
    let toolchain = store.toolchain(&lookup::toolchain_name_arg(&args.version)?)?;
    let _lock = store.lock_toolchain(&toolchain.name)?;
    let out = args.output.unwrap_or_else(|| PathBuf::from("."));
    let packed = pack::archive_toolchain(&store, &toolchain, &out, args.level)
        .with_context(|| format!("cannot archive {}", toolchain.name))?;
    Event::new(Action::Archive)
        .field("version", toolchain.name.clone())
        .field("path", packed.path.display().to_string())
        .field("sha256", packed.sha256.clone())
        .field("tree_digest", packed.tree_digest.clone())
        .append(&store)?;
    println!("{}  {}", packed.sha256, packed.path.display());
    ctx.note(format!(
        "archived {} ({} entries, {} bytes, tree digest {}); checksum in {}",
        toolchain.name,
        packed.entries,
        packed.size,
        packed.tree_digest,
        packed.sidecar.display()
    ));
    Ok(ExitCode::SUCCESS)
}
