//! Where releases come from: the `--mirror`/`--offline`/`--refresh` options and the installer
//! they make (shared by install, list-remote, outdated and migrate).

use std::io::IsTerminal;

use anyhow::Result;

use super::Ctx;
use crate::config::Config;
use crate::install::download::Http;
use crate::install::index::{FetchOptions, normalize_mirror};
use crate::install::{InstallError, Installer};

/// Where releases come from when nothing else is set.
pub const DEFAULT_MIRROR: &str = "https://go.dev/dl/";

/// Where releases and the index come from: the options of every command that reads the index.
#[derive(Debug, Default, clap::Args)]
pub struct SourceArgs {
    /// Download site(s), tried in order (default: GOMIG_MIRROR, config `mirror`, https://go.dev/dl/).
    #[arg(long = "mirror", value_name = "URL")]
    pub mirrors: Vec<String>,
    /// Fetch the index again even if the cached copy is less than a day old.
    #[arg(long)]
    pub refresh: bool,
    /// Use only the cached index (and --archive files).
    #[arg(long)]
    pub offline: bool,
}

/// Mirrors in priority order: flags, then GOMIG_MIRROR (comma-separated), then the config.
pub fn mirrors(flags: &[String], config: &Config) -> Vec<String> {
    let list: Vec<String> = if !flags.is_empty() {
        flags.to_vec()
    } else if let Some(env) = std::env::var("GOMIG_MIRROR").ok().filter(|v| !v.trim().is_empty()) {
        env.split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    } else if let Some(m) = &config.mirror {
        m.to_vec()
    } else {
        vec![DEFAULT_MIRROR.to_string()]
    };
    list.iter().map(|m| normalize_mirror(m)).collect()
}

/// A failed install as the user reads it: nothing was installed (and if the disk is full,
/// which one to free), then why.
pub fn nothing_installed(err: InstallError, store: &crate::store::Store) -> anyhow::Error {
    let note = if err.is_disk_full() {
        format!(
            "nothing was installed: the disk holding {} is full; free some space and run the install again",
            store.toolchains_dir().display()
        )
    } else {
        "nothing was installed".to_string()
    };
    anyhow::Error::new(err).context(note)
}

pub fn installer<'a>(store: &'a crate::store::Store, ctx: &Ctx, source: &SourceArgs) -> Result<Installer<'a>> {
    let config = Config::load()?;
    Ok(Installer {
        store,
        http: Http::new(),
        mirrors: mirrors(&source.mirrors, &config),
        fetch: FetchOptions {
            refresh: source.refresh,
            offline: source.offline,
        },
        progress: !ctx.quiet && std::io::stderr().is_terminal(),
        quiet: ctx.quiet,
    })
}
