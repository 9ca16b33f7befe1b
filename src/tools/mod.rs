//! The Go programs in GOBIN (`gopls`, `dlv`, `staticcheck`, ...): which Go built each, from
//! which module version with which build settings, and rebuilding them with another Go
//! ([`rebuild`]). A switch changes the compiler, not the tools built with the old one.

pub mod buildinfo;
pub mod rebuild;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::gotool;
use crate::version;
use buildinfo::BuildInfo;

/// Temporary GOBINs of rebuilds in progress live in GOBIN under this prefix (see [`rebuild`]).
pub const STAGING_PREFIX: &str = ".gomig-rebuild.";

#[derive(Debug, thiserror::Error)]
pub enum ToolsError {
    #[error("cannot ask {go} where GOBIN is: {source}")]
    GoEnv { go: String, source: gotool::GoToolError },
    #[error("{go} env -json printed what gomig cannot read ({reason}); run it to see: {go} env GOBIN GOPATH")]
    GoEnvOutput { go: String, reason: String },
    #[error(
        "{go} reports neither GOBIN nor GOPATH, so there is no place for installed programs; set one: go env -w GOBIN=$HOME/go/bin"
    )]
    NoGobin { go: String },
    #[error("cannot read {dir}: {source}; check its permissions (ls -ld {dir})")]
    ReadDir { dir: String, source: std::io::Error },
}

/// Where `go install` puts programs, as the toolchain at `goroot` says for this user (the user's
/// environment and `go env -w` settings): GOBIN, else the first GOPATH entry's `bin`.
pub fn gobin(goroot: &Path) -> Result<PathBuf, ToolsError> {
    let mut cmd = gotool::as_the_shim_runs(goroot);
    // JSON: an empty GOBIN is an empty string, not a blank line lost to trimming.
    cmd.args(["env", "-json", "GOBIN", "GOPATH"]);
    let go = gotool::go_binary(goroot).display().to_string();
    let out = gotool::output(cmd, goroot).map_err(|source| ToolsError::GoEnv { go: go.clone(), source })?;
    let vars: std::collections::HashMap<String, String> =
        serde_json::from_str(&out).map_err(|e| ToolsError::GoEnvOutput {
            go: go.clone(),
            reason: e.to_string(),
        })?;
    let var = |k: &str| vars.get(k).map(String::as_str).unwrap_or_default();
    if !var("GOBIN").is_empty() {
        return Ok(PathBuf::from(var("GOBIN")));
    }
    match std::env::split_paths(var("GOPATH")).find(|p| !p.as_os_str().is_empty()) {
        Some(first) => Ok(first.join("bin")),
        None => Err(ToolsError::NoGobin { go }),
    }
}

/// One file in GOBIN.
#[derive(Clone, Debug, Serialize)]
pub struct Tool {
    /// The file name in GOBIN (what the user runs).
    pub name: String,
    pub file: PathBuf,
    /// Set when the entry is a symbolic link: its target (read through, never replaced).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link_target: Option<PathBuf>,
    /// The build information, or why there is none.
    #[serde(skip)]
    pub info: Result<BuildInfo, String>,
    /// The entry as it was read: a rebuild replaces it only if it is still that file.
    #[serde(skip)]
    pub stamp: Option<Stamp>,
}

/// Which file an entry is, and its last change: device, inode, size, modification time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp(u64, u64, u64, i64, i64);

impl Stamp {
    pub fn of(meta: &fs::Metadata) -> Stamp {
        use std::os::unix::fs::MetadataExt;
        Stamp(meta.dev(), meta.ino(), meta.size(), meta.mtime(), meta.mtime_nsec())
    }

    /// The stamp of `path` now (not following a link).
    pub fn now(path: &Path) -> Option<Stamp> {
        fs::symlink_metadata(path).ok().map(|m| Stamp::of(&m))
    }
}

impl Tool {
    pub fn build_info(&self) -> Option<&BuildInfo> {
        self.info.as_ref().ok()
    }

    /// Whether a Go program here was built with a Go older than `release` (`go1.23.9`).
    pub fn older_than(&self, release: &str) -> bool {
        self.build_info()
            .and_then(BuildInfo::release)
            .is_some_and(|built| version::compare_go(built.as_bytes(), release.as_bytes()).is_lt())
    }
}

/// The entries of GOBIN, sorted by name. A GOBIN that does not exist is empty (nothing was ever
/// installed). Directories and gomig's own rebuild staging are left out; a device, FIFO or
/// socket is listed as not a program without being opened (reading a FIFO would hang).
pub fn scan(goroot: &Path, dir: &Path) -> Result<Vec<Tool>, ToolsError> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(ToolsError::ReadDir {
                dir: dir.display().to_string(),
                source,
            });
        }
    };
    let mut names: Vec<String> = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(STAGING_PREFIX) {
            continue;
        }
        names.push(name);
    }
    names.sort();
    let tools: Vec<Tool> = names
        .into_iter()
        .filter_map(|name| {
            let file = dir.join(&name);
            let meta = fs::symlink_metadata(&file).ok()?;
            let link_target = meta
                .file_type()
                .is_symlink()
                .then(|| fs::read_link(&file).ok())
                .flatten();
            // Through a link, the target decides.
            let target = match fs::metadata(&file) {
                Ok(m) => m,
                Err(e) => {
                    return Some(Tool {
                        name,
                        file,
                        link_target,
                        info: Err(format!("a link to nothing readable ({e})")),
                        stamp: Some(Stamp::of(&meta)),
                    });
                }
            };
            if target.is_dir() {
                return None;
            }
            let info = if !target.is_file() {
                Err("not a regular file".to_string())
            } else if target.permissions().mode() & 0o111 == 0 {
                Err("not executable".to_string())
            } else {
                Ok(())
            };
            Some(Tool {
                name,
                file,
                link_target,
                info: info.map(|()| BuildInfo::default()),
                stamp: Some(Stamp::of(&meta)),
            })
        })
        .collect();
    // `go version -m` once per file, a few at a time: a GOBIN can hold dozens.
    use rayon::prelude::*;
    Ok(tools
        .into_par_iter()
        .map(|mut t| {
            if t.info.is_ok() {
                t.info = buildinfo::read(goroot, &t.file).map_err(|e| e.to_string());
            }
            t
        })
        .collect())
}
