//! `config.toml`: `$GOMIG_CONFIG`, else the platform config directory + `gomig/config.toml`.
//! Every key is documented in the README; an unknown key is an error that names it.

use std::path::PathBuf;

use serde::Deserialize;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("{path}: {message}; fix or remove that line (the keys are listed in gomig's README)")]
    Parse { path: String, message: String },
}

/// A mirror or an ordered list of mirrors to fall back through.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Mirrors {
    One(String),
    Many(Vec<String>),
}

impl Mirrors {
    pub fn to_vec(&self) -> Vec<String> {
        match self {
            Mirrors::One(m) => vec![m.clone()],
            Mirrors::Many(v) => v.clone(),
        }
    }
}

/// `proxy`: install from the Go module proxy; `true` reads GOPROXY as Go does, a string is a
/// GOPROXY list of its own.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum ProxyConfig {
    On(bool),
    List(String),
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Download site(s) for `gomig install`, tried in order.
    pub mirror: Option<Mirrors>,
    /// Install from the Go module proxy instead of the download site.
    pub proxy: Option<ProxyConfig>,
    /// Let the shim install a missing toolchain instead of failing.
    #[serde(default)]
    pub auto_install: bool,
    /// Directories whose `.go-version` pins protect toolchains from `gomig prune`.
    #[serde(default)]
    pub project_roots: Vec<PathBuf>,
    /// Directories others can write whose `.go-version`, `.tool-versions`, go.work and go.mod
    /// are obeyed although another user owns them (read by the resolver itself, `src/resolve`).
    #[serde(default)]
    pub trusted_dirs: Vec<PathBuf>,
}

pub fn config_path() -> Option<PathBuf> {
    match std::env::var_os("GOMIG_CONFIG") {
        Some(p) if !p.is_empty() => Some(PathBuf::from(p)),
        _ => dirs::config_dir().map(|d| d.join("gomig/config.toml")),
    }
}

impl Config {
    /// Loads the config; a missing file is the default config.
    pub fn load() -> Result<Config, ConfigError> {
        let Some(path) = config_path() else {
            return Ok(Config::default());
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Config::default()),
            Err(source) => {
                return Err(ConfigError::Read {
                    path: path.display().to_string(),
                    source,
                });
            }
        };
        toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.display().to_string(),
            message: e.message().to_string(),
        })
    }
}
