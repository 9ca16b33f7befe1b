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
    #[error("{path}: {key} = {value:?} is not {expected}; fix or remove that line")]
    Value {
        path: String,
        key: &'static str,
        value: String,
        expected: &'static str,
    },
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
    /// `[check_cache]`: the bounds of gomig check's private build cache.
    #[serde(default)]
    pub check_cache: CheckCache,
}

/// `[check_cache]` in config.toml (defaults: 2 GiB, 30 days).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckCache {
    /// `max_size = "2GiB"`: trimmed to this after each check, least recently used first.
    pub max_size: Option<String>,
    /// `max_age = "30d"`: entries not used for this long are removed after each check.
    pub max_age: Option<String>,
}

pub fn config_path() -> Option<PathBuf> {
    match std::env::var_os("GOMIG_CONFIG") {
        Some(p) if !p.is_empty() => Some(PathBuf::from(p)),
        _ => dirs::config_dir().map(|d| d.join("gomig/config.toml")),
    }
}

impl Config {
    /// The check cache's limits: `[check_cache]`, else the defaults.
    pub fn check_cache_limits(&self) -> Result<crate::check::cache::Limits, ConfigError> {
        use crate::check::cache::{DEFAULT_MAX_AGE, DEFAULT_MAX_SIZE, Limits, parse_size};
        let path = || config_path().map_or_else(|| "config.toml".into(), |p| p.display().to_string());
        let max_size = match &self.check_cache.max_size {
            None => DEFAULT_MAX_SIZE,
            Some(v) => parse_size(v).ok_or_else(|| ConfigError::Value {
                path: path(),
                key: "check_cache.max_size",
                value: v.clone(),
                expected: "a size such as \"2GiB\", \"500MB\" or a number of bytes",
            })?,
        };
        let max_age = match &self.check_cache.max_age {
            None => DEFAULT_MAX_AGE,
            Some(v) => humantime::parse_duration(v).map_err(|_| ConfigError::Value {
                path: path(),
                key: "check_cache.max_age",
                value: v.clone(),
                expected: "a duration such as \"30d\", \"2weeks\" or \"12h\"",
            })?,
        };
        Ok(Limits { max_size, max_age })
    }

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
