//! Where releases come from: the `--mirror`/`--offline`/`--refresh` options and the installer
//! they make (shared by install, list-remote, outdated and migrate).

use std::io::IsTerminal;

use anyhow::Result;

use super::Ctx;
use crate::config::{Config, ProxyConfig};
use crate::install::download::Http;
use crate::install::goenv::GoSetting;
use crate::install::index::{FetchOptions, normalize_mirror};
use crate::install::{InstallError, Installer, ProxySource, modproxy, sumdb};

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
    /// Install from the Go module proxy (golang.org/toolchain), verified by the checksum
    /// database (GOSUMDB): --proxy reads GOPROXY as Go does, --proxy=LIST takes a GOPROXY list.
    #[arg(long, value_name = "LIST", num_args = 0..=1, require_equals = true, default_missing_value = "")]
    pub proxy: Option<String>,
}

/// The module proxy source, if the flag or the config asks for one: the flag's list, else the
/// config's, else GOPROXY as Go reads it.
pub fn proxy_source(flag: Option<&str>, config: &Config) -> Result<Option<ProxySource>> {
    let setting = match (flag, &config.proxy) {
        (Some(list), _) if !list.trim().is_empty() => GoSetting {
            value: list.to_string(),
            from: "--proxy".into(),
        },
        (Some(_), _) | (None, Some(ProxyConfig::On(true))) => modproxy::goproxy_from_go(),
        (None, Some(ProxyConfig::List(list))) => GoSetting {
            value: list.clone(),
            from: format!(
                "proxy in {}",
                crate::config::config_path().map_or("the config".into(), |p| p.display().to_string())
            ),
        },
        (None, None | Some(ProxyConfig::On(false))) => return Ok(None),
    };
    Ok(Some(ProxySource {
        list: modproxy::parse(setting)?,
        sumdb: sumdb::gosumdb_from_go(),
    }))
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
    let proxy = proxy_source(source.proxy.as_deref(), &config)?;
    if proxy.is_some() && source.offline {
        anyhow::bail!(
            "--offline: a module proxy install needs the proxy and the checksum database; run without --offline, or install from a file with --archive FILE --sha256 HEX"
        );
    }
    if source.proxy.is_some() && !source.mirrors.is_empty() {
        anyhow::bail!(
            "--proxy and --mirror name two sources: use one (--proxy=LIST takes proxies in GOPROXY's syntax)"
        );
    }
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
        proxy,
    })
}
