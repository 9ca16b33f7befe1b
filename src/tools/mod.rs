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

/// What a rebuild with a Go would do with the programs of GOBIN.
pub struct Plan<'a> {
    /// Rebuilt, with how.
    pub chosen: Vec<(&'a Tool, rebuild::Recipe)>,
    /// Not rebuilt, with why.
    pub skipped: Vec<(&'a Tool, String)>,
    /// Names asked for that are not in GOBIN.
    pub unknown: Vec<String>,
}

/// The programs of `found` a rebuild with `release` would take: the ones named, else every Go
/// program built with an older Go; each with its recipe, or why it cannot be rebuilt.
pub fn plan<'a>(found: &'a [Tool], names: &[String], release: &str, host: &rebuild::Host) -> Plan<'a> {
    let mut plan = Plan {
        chosen: Vec::new(),
        skipped: Vec::new(),
        unknown: names
            .iter()
            .filter(|n| !found.iter().any(|t| &t.name == *n))
            .cloned()
            .collect(),
    };
    for tool in found {
        let named = names.contains(&tool.name);
        if !named && (!names.is_empty() || !tool.older_than(release)) {
            continue;
        }
        match rebuild::recipe(tool, host) {
            Ok(recipe) => plan.chosen.push((tool, recipe)),
            Err(why) => plan.skipped.push((tool, why)),
        }
    }
    plan
}

/// The tools a Go would leave behind: GOBIN's programs built with an older Go.
#[derive(Clone, Debug, Serialize)]
pub struct LeftBehind {
    pub gobin: PathBuf,
    /// The Go they are compared with (`go1.23.9`).
    pub release: String,
    /// `name`, `go`, `target` (PACKAGE@VERSION) of each that `gomig tools rebuild` can rebuild.
    pub rebuildable: Vec<serde_json::Value>,
    /// `name`, `go`, `reason` of each it cannot.
    pub not_rebuildable: Vec<serde_json::Value>,
}

impl LeftBehind {
    pub fn is_empty(&self) -> bool {
        self.rebuildable.is_empty() && self.not_rebuildable.is_empty()
    }

    /// Lines for people: one per tool, and the command that rebuilds them (`short`: B as typed
    /// in `--with`).
    pub fn lines(&self, short: &str) -> Vec<String> {
        let text = |v: &serde_json::Value, k: &str| v[k].as_str().unwrap_or_default().to_string();
        let mut lines = Vec::new();
        if self.is_empty() {
            lines.push(format!(
                "tools: every Go program in {} is built with {} or newer",
                self.gobin.display(),
                self.release
            ));
            return lines;
        }
        lines.push(format!(
            "tools in {} built with a Go older than {}:",
            self.gobin.display(),
            self.release
        ));
        for t in &self.rebuildable {
            lines.push(format!(
                "  {} ({}, {})",
                text(t, "name"),
                text(t, "go"),
                text(t, "target")
            ));
        }
        for t in &self.not_rebuildable {
            lines.push(format!(
                "  {} ({}): not rebuildable: {}",
                text(t, "name"),
                text(t, "go"),
                text(t, "reason")
            ));
        }
        if !self.rebuildable.is_empty() {
            lines.push(format!(
                "rebuild them with {}: gomig tools rebuild --with {short}",
                self.release
            ));
        }
        lines
    }
}

/// The programs the toolchain at `goroot` (B) would leave behind in GOBIN (as B's `go env`
/// reports it).
pub fn left_behind(goroot: &Path) -> Result<LeftBehind, ToolsError> {
    let go = gotool::go_binary(goroot).display().to_string();
    let version = gotool::go_version(goroot).map_err(|source| ToolsError::GoEnv { go: go.clone(), source })?;
    let release = gotool::release_word(&version).unwrap_or(&version).to_string();
    let gobin = gobin(goroot)?;
    let found = scan(goroot, &gobin)?;
    let host = rebuild::host(goroot).map_err(|source| ToolsError::GoEnv { go, source })?;
    let plan = plan(&found, &[], &release, &host);
    let go_of = |t: &Tool| t.build_info().map(|i| i.go_version.clone()).unwrap_or_default();
    Ok(LeftBehind {
        rebuildable: plan
            .chosen
            .iter()
            .map(|(t, r)| serde_json::json!({ "name": t.name, "go": go_of(t), "target": r.target }))
            .collect(),
        not_rebuildable: plan
            .skipped
            .iter()
            .map(|(t, why)| serde_json::json!({ "name": t.name, "go": go_of(t), "reason": why }))
            .collect(),
        gobin,
        release,
    })
}

/// The Go release of the toolchain at `goroot` and the names of GOBIN's programs built with a
/// newer one (what a rollback to it leaves as they are).
pub fn built_with_newer(goroot: &Path) -> Result<(String, Vec<String>), ToolsError> {
    let go = gotool::go_binary(goroot).display().to_string();
    let version = gotool::go_version(goroot).map_err(|source| ToolsError::GoEnv { go, source })?;
    let release = gotool::release_word(&version).unwrap_or(&version).to_string();
    let found = scan(goroot, &gobin(goroot)?)?;
    let newer = found
        .iter()
        .filter(|t| {
            t.build_info()
                .and_then(BuildInfo::release)
                .is_some_and(|built| version::compare_go(built.as_bytes(), release.as_bytes()).is_gt())
        })
        .map(|t| t.name.clone())
        .collect();
    Ok((release, newer))
}
