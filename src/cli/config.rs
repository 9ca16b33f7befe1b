//! `gomig config [get KEY | set KEY VALUE | unset KEY]`: read and change `config.toml`, keeping
//! its comments and layout.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow, bail};

use super::Ctx;
use crate::config::{self, Config};

/// Show or change gomig's settings (config.toml).
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Keys:\n  mirror         download site(s), tried in order: URL, or URL,URL,...\n  proxy          true: install from the Go module proxy (GOPROXY as Go reads it), or a GOPROXY list\n  auto_install   true: the shim installs a missing toolchain, then runs the command\n  project_roots  directories whose .go-version pins gomig prune keeps: DIR,DIR,...\n  trusted_dirs   directories others can write whose version files, go.mod and go.work are\n                 obeyed even when another user owns them: DIR,DIR,...\n  check_cache.max_size  gomig check's build cache is trimmed to this after each check: 2GiB, 500MB\n  check_cache.max_age   ... and entries unused this long are removed: 30d, 2weeks\n\nExamples:\n  gomig config                                   # every setting and the file\n  gomig config set mirror https://golang.google.cn/dl/\n  gomig config set auto_install true\n  gomig config set check_cache.max_size 5GiB\n  gomig config unset mirror"
)]
pub struct Args {
    #[command(subcommand)]
    pub action: Option<Action>,
}

#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// Print one setting.
    Get { key: Key },
    /// Change one setting.
    Set { key: Key, value: String },
    /// Remove one setting (back to its default).
    Unset { key: Key },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum Key {
    Mirror,
    Proxy,
    AutoInstall,
    ProjectRoots,
    TrustedDirs,
    #[value(name = "check_cache.max_size")]
    CheckCacheMaxSize,
    #[value(name = "check_cache.max_age")]
    CheckCacheMaxAge,
}

const KEYS: [Key; 7] = [
    Key::Mirror,
    Key::Proxy,
    Key::AutoInstall,
    Key::ProjectRoots,
    Key::TrustedDirs,
    Key::CheckCacheMaxSize,
    Key::CheckCacheMaxAge,
];

impl Key {
    fn name(self) -> &'static str {
        match self {
            Key::Mirror => "mirror",
            Key::Proxy => "proxy",
            Key::AutoInstall => "auto_install",
            Key::ProjectRoots => "project_roots",
            Key::TrustedDirs => "trusted_dirs",
            Key::CheckCacheMaxSize => "check_cache.max_size",
            Key::CheckCacheMaxAge => "check_cache.max_age",
        }
    }

    /// Where the key lives: `[table]` (if any) and the key in it.
    fn place(self) -> (Option<&'static str>, &'static str) {
        match self.name().split_once('.') {
            Some((table, key)) => (Some(table), key),
            None => (None, self.name()),
        }
    }

    /// The TOML value of `text` as typed on the command line.
    fn value(self, text: &str) -> Result<toml_edit::Item> {
        let list =
            |text: &str| -> toml_edit::Array { text.split(',').map(str::trim).filter(|s| !s.is_empty()).collect() };
        if matches!(self, Key::Mirror) {
            for url in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                crate::install::download::check_site_url(url)?;
            }
        }
        Ok(match self {
            Key::Mirror if text.contains(',') => toml_edit::value(list(text)),
            Key::Mirror => toml_edit::value(text.trim()),
            Key::Proxy => match text.trim() {
                "true" => toml_edit::value(true),
                "false" => toml_edit::value(false),
                list => toml_edit::value(list),
            },
            Key::AutoInstall => match text.trim() {
                "true" => toml_edit::value(true),
                "false" => toml_edit::value(false),
                other => bail!("auto_install is true or false, not {other:?}; run: gomig config set auto_install true"),
            },
            Key::ProjectRoots => toml_edit::value(list(text)),
            Key::TrustedDirs => {
                let dirs = list(text);
                if let Some(bad) = dirs.iter().filter_map(|d| d.as_str()).find(|d| !d.starts_with('/')) {
                    bail!(
                        "trusted_dirs holds absolute directories, not {bad:?}; run: gomig config set trusted_dirs \"$(realpath {bad})\""
                    );
                }
                toml_edit::value(dirs)
            }
            Key::CheckCacheMaxSize => match crate::check::cache::parse_size(text) {
                Some(_) => toml_edit::value(text.trim()),
                None => bail!(
                    "check_cache.max_size is a size such as 2GiB or 500MB, not {text:?}; run: gomig config set check_cache.max_size 2GiB"
                ),
            },
            Key::CheckCacheMaxAge => match humantime::parse_duration(text.trim()) {
                Ok(_) => toml_edit::value(text.trim()),
                Err(_) => bail!(
                    "check_cache.max_age is a duration such as 30d or 2weeks, not {text:?}; run: gomig config set check_cache.max_age 30d"
                ),
            },
        })
    }

    fn show(self, config: &Config) -> String {
        match self {
            Key::Mirror => config
                .mirror
                .as_ref()
                .map_or("(not set: GOMIG_MIRROR, else https://go.dev/dl/)".into(), |m| {
                    m.to_vec().join(",")
                }),
            Key::Proxy => match &config.proxy {
                None => "(not set: installs come from the download site)".into(),
                Some(crate::config::ProxyConfig::On(on)) => on.to_string(),
                Some(crate::config::ProxyConfig::List(list)) => list.clone(),
            },
            Key::AutoInstall => config.auto_install.to_string(),
            Key::ProjectRoots => config
                .project_roots
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(","),
            Key::TrustedDirs => config
                .trusted_dirs
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(","),
            Key::CheckCacheMaxSize | Key::CheckCacheMaxAge => {
                let (set, default) = match self {
                    Key::CheckCacheMaxSize => (&config.check_cache.max_size, "2GiB"),
                    _ => (&config.check_cache.max_age, "30d"),
                };
                set.clone().unwrap_or_else(|| format!("(not set: {default})"))
            }
        }
    }
}

fn path() -> Result<PathBuf> {
    config::config_path().ok_or_else(|| anyhow!("no config directory: set HOME, or GOMIG_CONFIG to the file to use"))
}

pub fn run(args: Args, ctx: &Ctx) -> Result<ExitCode> {
    let path = path()?;
    match args.action {
        None => {
            let config = Config::load()?;
            println!("# {}", path.display());
            for key in KEYS {
                println!("{:<14} {}", key.name(), key.show(&config));
            }
        }
        Some(Action::Get { key }) => println!("{}", key.show(&Config::load()?)),
        Some(Action::Set { key, value }) => {
            let item = key.value(&value)?;
            edit(&path, |doc| match key.place() {
                (Some(table), name) => {
                    // A `[table]` of its own, not an inline one, when there is none yet.
                    if !doc.contains_key(table) {
                        doc[table] = toml_edit::Item::Table(toml_edit::Table::new());
                    }
                    doc[table][name] = item;
                }
                (None, name) => doc[name] = item,
            })?;
            ctx.note(format!(
                "{} = {} in {}",
                key.name(),
                key.show(&Config::load()?),
                path.display()
            ));
        }
        Some(Action::Unset { key }) => {
            edit(&path, |doc| match key.place() {
                (Some(table), name) => {
                    if let Some(t) = doc.get_mut(table).and_then(toml_edit::Item::as_table_like_mut) {
                        t.remove(name);
                    }
                }
                (None, name) => {
                    doc.remove(name);
                }
            })?;
            ctx.note(format!("removed {} from {}", key.name(), path.display()));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Applies `change` to the file (created if missing), refusing to write a file that would not
/// load afterwards; written whole or not at all.
fn edit(path: &std::path::Path, change: impl FnOnce(&mut toml_edit::DocumentMut)) -> Result<()> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let mut doc: toml_edit::DocumentMut = text
        .parse()
        .with_context(|| format!("{} is not valid TOML; fix it by hand first", path.display()))?;
    change(&mut doc);
    let new = doc.to_string();
    toml::from_str::<Config>(&new).map_err(|e| anyhow!("{}: {}; nothing was changed", path.display(), e.message()))?;
    crate::store::write_atomic(path, new.as_bytes())?;
    Ok(())
}
