//! Verifying a toolchain against its manifest: every difference, by kind, plus the seed's
//! second factor — the toolchain's own `go version` must name the recorded release.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use crate::gotool::release_word;
use crate::integrity::manifest::{self, Entry, Kind, Manifest, ManifestError};
use crate::resolve::version::Version;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Difference {
    Added {
        path: String,
        entry_type: &'static str,
    },
    Removed {
        path: String,
        entry_type: &'static str,
    },
    Modified {
        path: String,
        expected_sha256: String,
        actual_sha256: String,
    },
    Mode {
        path: String,
        expected: String,
        actual: String,
    },
    Type {
        path: String,
        expected: &'static str,
        actual: &'static str,
    },
    Target {
        path: String,
        expected: String,
        actual: String,
    },
    Version {
        expected: String,
        actual: String,
    },
    /// The toolchain's name claims another release than its own `go version` reports.
    Name {
        name: String,
        actual: String,
    },
}

impl Difference {
    /// One line for people: `modified  src/fmt/print.go (sha256 1a2b… → 3c4d…)`.
    pub fn describe(&self) -> String {
        let short = |h: &str| h.chars().take(12).collect::<String>();
        // Names from the tree: a file named with an escape sequence is shown, not obeyed.
        let shown = |s: &str| crate::lookup::shown(s);
        match self {
            Difference::Added { path, entry_type } => format!("added     {} ({entry_type})", shown(path)),
            Difference::Removed { path, entry_type } => format!("removed   {} ({entry_type})", shown(path)),
            Difference::Modified {
                path,
                expected_sha256,
                actual_sha256,
            } => {
                format!(
                    "modified  {} (sha256 {}… → {}…)",
                    shown(path),
                    short(expected_sha256),
                    short(actual_sha256)
                )
            }
            Difference::Mode { path, expected, actual } => {
                format!("mode      {} ({} → {})", shown(path), shown(expected), shown(actual))
            }
            Difference::Type { path, expected, actual } => {
                format!("type      {} ({} → {})", shown(path), shown(expected), shown(actual))
            }
            Difference::Target { path, expected, actual } => {
                format!("target    {} ({} → {})", shown(path), shown(expected), shown(actual))
            }
            Difference::Version { expected, actual } => {
                format!("version   go version reports {actual:?}, expected {expected}")
            }
            Difference::Name { name, actual } => format!(
                "name      {name} claims release {}, but go version reports {actual}",
                crate::store::claimed_release(name)
            ),
        }
    }
}

/// Compares recorded entries with the tree's entries now.
pub fn diff(expected: &[Entry], actual: &[Entry]) -> Vec<Difference> {
    let want: BTreeMap<&[u8], &Entry> = expected.iter().map(|e| (e.path.as_slice(), e)).collect();
    let have: BTreeMap<&[u8], &Entry> = actual.iter().map(|e| (e.path.as_slice(), e)).collect();
    let mut out = Vec::new();
    for (path, w) in &want {
        let name = String::from_utf8_lossy(path).into_owned();
        let Some(h) = have.get(path) else {
            out.push(Difference::Removed {
                path: name,
                entry_type: w.kind.name(),
            });
            continue;
        };
        if w.kind != h.kind {
            out.push(Difference::Type {
                path: name,
                expected: w.kind.name(),
                actual: h.kind.name(),
            });
            continue;
        }
        match w.kind {
            Kind::File if w.sha256 != h.sha256 => out.push(Difference::Modified {
                path: name.clone(),
                expected_sha256: w.sha256.clone().unwrap_or_default(),
                actual_sha256: h.sha256.clone().unwrap_or_default(),
            }),
            Kind::Symlink if w.target != h.target => out.push(Difference::Target {
                path: name.clone(),
                expected: String::from_utf8_lossy(w.target.as_deref().unwrap_or_default()).into_owned(),
                actual: String::from_utf8_lossy(h.target.as_deref().unwrap_or_default()).into_owned(),
            }),
            _ => {}
        }
        if w.kind != Kind::Symlink && w.mode != h.mode {
            out.push(Difference::Mode {
                path: name,
                expected: format!("{:04o}", w.mode),
                actual: format!("{:04o}", h.mode),
            });
        }
    }
    for (path, h) in &have {
        if !want.contains_key(path) {
            out.push(Difference::Added {
                path: String::from_utf8_lossy(path).into_owned(),
                entry_type: h.kind.name(),
            });
        }
    }
    out
}

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("{name} has no recorded manifest ({path}); record one now with: gomig snapshot {name}")]
    NoManifest { name: String, path: String },
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    #[error("cannot read the tree of {name} at {root}: {source}")]
    Scan {
        name: String,
        root: String,
        source: std::io::Error,
    },
}

pub struct Report {
    pub name: String,
    pub root: String,
    pub manifest: Manifest,
    pub tree_digest: String,
    pub differences: Vec<Difference>,
    pub files_hashed: usize,
}

impl Report {
    pub fn ok(&self) -> bool {
        self.differences.is_empty()
    }

    /// The first `limit` differences, one indented line each, for an error message.
    pub fn first_differences(&self, limit: usize) -> String {
        let lines: Vec<String> = self
            .differences
            .iter()
            .take(limit)
            .map(|d| format!("  {}", d.describe()))
            .collect();
        lines.join("\n")
    }
}

/// Re-hashes the tree (in parallel, each file read once), compares it with the manifest, and
/// checks that the toolchain's own `go version` reports the recorded release.
/// `name` is the toolchain's name in the store, `root` its tree, `manifest` where its manifest
/// is (`Store::manifest_path`).
pub fn verify_tree(name: &str, root: &Path, manifest: &Path) -> Result<Report, VerifyError> {
    let path = manifest;
    if !path.is_file() {
        return Err(VerifyError::NoManifest {
            name: name.to_string(),
            path: path.display().to_string(),
        });
    }
    let recorded = Manifest::load(path)?;
    let scan_err = |source| VerifyError::Scan {
        name: name.to_string(),
        root: root.display().to_string(),
        source,
    };
    let actual = manifest::scan(root).map_err(scan_err)?;
    let files_hashed = actual.iter().filter(|e| e.kind == Kind::File).count();
    let differences = differences(&recorded, name, root, &actual);
    let tree_digest = Manifest::new(recorded.header.clone(), actual).tree_digest();
    Ok(Report {
        name: name.to_string(),
        root: root.display().to_string(),
        manifest: recorded,
        tree_digest,
        differences,
        files_hashed,
    })
}

/// How the tree at `root`, whose entries are `actual` now, differs from `recorded`: every entry,
/// and the toolchain's own `go version`, which must name the recorded release.
pub fn differences(recorded: &Manifest, name: &str, root: &Path, actual: &[Entry]) -> Vec<Difference> {
    let mut differences = diff(&recorded.entries, actual);
    let reported = reported_version(root);
    // The header holds what `go env GOVERSION` said (`go1.22.10 X:boringcrypto` for some builds):
    // its release word is what `go version` must name.
    let recorded_release = release_word(&recorded.header.go_version).unwrap_or(&recorded.header.go_version);
    if reported.as_deref() != Ok(recorded_release) {
        differences.push(Difference::Version {
            expected: recorded.header.go_version.clone(),
            actual: reported
                .clone()
                .unwrap_or_else(|e| format!("(bin/go version does not run: {e})")),
        });
    }
    // The name is what `.go-version` and `gomig switch` select by: it must be the tree's release.
    if let Ok(actual) = &reported
        && Version::parse_go(crate::store::claimed_release(name).as_bytes())
            .compare(&Version::parse_go(actual.as_bytes()))
            != std::cmp::Ordering::Equal
    {
        differences.push(Difference::Name {
            name: name.to_string(),
            actual: actual.clone(),
        });
    }
    differences
}

/// The release the toolchain says it is: the release word of its `go version` (run as
/// [`crate::gotool::go_version`] runs it, untouched by the user's Go settings), or why it
/// could not tell.
fn reported_version(root: &Path) -> Result<String, String> {
    let out = crate::gotool::go_version(root).map_err(|e| format!("{e:#}"))?;
    release_word(&out).map(str::to_string).ok_or(out)
}
