//! `gomig prune`: removing old toolchains, only those nothing needs (`docs/integrity.md`, "Prune").
//!
//! Kept: the default; the rollback target and the rest of the history's last N entries;
//! anything a `.go-version` under the configured `project_roots` selects (with the resolver's
//! own rules); adopted toolchains (gomig never deletes trees it did not install; `gomig remove`
//! forgets one). Each removed toolchain is archived first into `GOMIG_HOME/archives/` (unless
//! told not to), then renamed out of `toolchains/` and deleted, dropped from the history, and
//! logged. Its manifest stays, so a later `gomig restore` of the archive is checked against
//! what was recorded at install time.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::integrity::pack::{self, Packed};
use crate::lookup::{self, EnvSnapshot, text_of};
use crate::resolve::{Source, Tool};
use crate::store::transaction::{Kind as RemovalKind, Removal};
use crate::store::{Store, Toolchain};

/// Directories never searched for `.go-version` files.
const SKIP_DIRS: &[&str] = &["node_modules", "vendor", "testdata", "target"];
/// How deep below a project root `.go-version` files are looked for.
const MAX_DEPTH: usize = 12;

#[derive(Debug, Clone, Serialize)]
pub struct Kept {
    pub version: String,
    pub reason: String,
}

pub struct Plan {
    pub remove: Vec<Toolchain>,
    pub keep: Vec<Kept>,
    /// Every `.go-version` prune could see, with the toolchain it selects: those below the
    /// project roots and the one the current directory obeys. Pins elsewhere are not seen.
    pub pins: BTreeMap<String, Vec<PathBuf>>,
}

/// Where prune looks for what must stay.
pub struct Scope<'a> {
    /// The rollback history's last N entries stay (at least 1: the rollback target).
    pub keep_history: usize,
    /// Directories searched for `.go-version` files (the config's `project_roots`).
    pub project_roots: &'a [PathBuf],
    /// The directory prune runs in: the pin `go` obeys there stays too.
    pub here: Option<&'a Path>,
}

/// Every `.go-version` below `root` (not following links, skipping hidden and vendored trees).
fn find_pins(root: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    let Ok(items) = fs::read_dir(root) else { return };
    for item in items.flatten() {
        let name = item.file_name();
        let name = name.to_string_lossy();
        let Ok(ft) = item.file_type() else { continue };
        if name == ".go-version" && ft.is_file() {
            out.push(item.path());
        } else if ft.is_dir() && depth < MAX_DEPTH && !name.starts_with('.') && !SKIP_DIRS.contains(&name.as_ref()) {
            find_pins(&item.path(), depth + 1, out);
        }
    }
}

/// Toolchain name → the `.go-version` files that select it: those below `roots`, and the one
/// that `here` obeys (found by the resolver's upward walk).
pub fn pinned(roots: &[PathBuf], here: Option<&Path>) -> BTreeMap<String, Vec<PathBuf>> {
    // The shell pin (GOMIG_GO_VERSION) and GOTOOLCHAIN (environment or go env file, which
    // would beat every pin) are this user's business, not the project's.
    let snapshot = EnvSnapshot::from_vars(
        std::env::vars_os()
            .filter(|(k, _)| k != "GOMIG_GO_VERSION" && k != "GOTOOLCHAIN" && k != "GOENV")
            .map(|(k, v)| {
                use std::os::unix::ffi::OsStringExt;
                (k.into_vec(), v.into_vec())
            })
            .chain([(b"GOENV".to_vec(), b"off".to_vec())]),
    );
    let mut files = Vec::new();
    for root in roots {
        find_pins(root, 0, &mut files);
    }
    let mut out: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    if let Some(dir) = here
        && let Ok(res) = lookup::resolve_in(&snapshot, dir, Tool::Go)
        && res.source == Source::GoVersionFile
        && !res.name.is_empty()
    {
        let file = lookup::path_of(res.file.as_bytes());
        if !files.contains(&file) {
            files.push(file);
        }
    }
    for file in files {
        let Some(dir) = file.parent() else { continue };
        // Exactly what `go` would run there, by the resolver's rules (a prefix picks the newest).
        let Ok(res) = lookup::resolve_in(&snapshot, dir, Tool::Go) else {
            continue;
        };
        if res.source == Source::GoVersionFile && !res.name.is_empty() {
            out.entry(text_of(res.name.as_bytes())).or_default().push(file);
        }
    }
    out
}

/// Decides what may go. `keep_history` is clamped to at least 1: the rollback target stays.
pub fn plan(store: &Store, scope: &Scope<'_>) -> crate::store::Result<Plan> {
    let keep_history = scope.keep_history;
    let default = store.default_name()?;
    let history = store.history()?;
    let mut recent: Vec<&String> = Vec::new();
    for name in history.iter().rev() {
        if recent.len() == keep_history.max(1) {
            break;
        }
        if !recent.contains(&name) {
            recent.push(name);
        }
    }
    let pins = pinned(scope.project_roots, scope.here);
    let mut p = Plan {
        remove: Vec::new(),
        keep: Vec::new(),
        pins: BTreeMap::new(),
    };
    for t in store.toolchains()? {
        let reason = if default.as_deref() == Some(t.name.as_str()) {
            Some("the default".to_string())
        } else if recent.first().map(|s| s.as_str()) == Some(t.name.as_str()) {
            Some("the rollback target".to_string())
        } else if recent.iter().any(|r| **r == t.name) {
            Some(format!("in the last {} of the rollback history", keep_history.max(1)))
        } else if let Some(files) = pins.get(&t.name) {
            Some(format!("pinned by {}", files[0].display()))
        } else if t.adopted_from.is_some() {
            Some(format!(
                "adopted from {} (gomig never deletes adopted trees; gomig remove {} forgets it)",
                t.root().display(),
                t.name
            ))
        } else {
            None
        };
        match reason {
            Some(reason) => p.keep.push(Kept {
                version: t.name.clone(),
                reason,
            }),
            None => p.remove.push(t),
        }
    }
    p.pins = pins;
    Ok(p)
}

/// An archive of `t` that already exists in `dir` and holds what its manifest records now: the
/// sidecar's checksum matches the file, and the tree digest in the archive's header is the
/// manifest's. Anything else (a stale archive of a tree recorded again since, a damaged one)
/// is replaced by a fresh archive.
fn existing_archive(dir: &Path, t: &Toolchain, store: &Store) -> Option<PathBuf> {
    let m = crate::integrity::manifest::Manifest::load(&store.manifest_path(&t.name)).ok()?;
    let path = dir.join(pack::file_name(&m.header));
    let (want, _) = crate::integrity::restore::read_sidecar(&path).ok()??;
    let got = crate::integrity::manifest::hash_file(&path).ok()?;
    if got != want {
        return None;
    }
    let digest = pack::embedded_tree_digest(&path).ok()??;
    (digest == m.tree_digest()).then_some(path)
}

#[derive(Debug, thiserror::Error)]
pub enum PruneError {
    #[error(
        "kept: it does not match its manifest ({count} difference(s), e.g. {first}), so it cannot be archived as recorded; see what changed with gomig verify {name}; if the change is yours, record it (gomig snapshot {name}) and prune again; to remove it without an archive: gomig uninstall {name}"
    )]
    Tampered { name: String, count: usize, first: String },
    #[error("kept: archiving it failed: {0}")]
    Archive(pack::PackError),
    #[error("kept: {reason} now")]
    NowKept { name: String, reason: String },
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Txn(#[from] crate::store::transaction::TxnError),
    #[error("cannot {action} {path}: {cause}")]
    Io {
        action: &'static str,
        path: String,
        cause: std::io::Error,
    },
}

/// What happened to one toolchain.
pub struct Removed {
    pub name: String,
    /// The archive it was saved to (new or already there).
    pub archive: Option<PathBuf>,
    pub packed: Option<Packed>,
    pub warnings: Vec<String>,
}

/// Archives (unless `archive` is false) and removes one toolchain, through the store's
/// transaction: under the store lock the plan is made again, so a toolchain that became the
/// default, the rollback target or pinned meanwhile is kept. `scope` is the plan's.
pub fn remove_one(
    store: &Store,
    t: &Toolchain,
    archive: bool,
    level: u32,
    scope: &Scope<'_>,
) -> Result<Removed, PruneError> {
    // Toolchain lock first, then the store's: the order install and uninstall take them in.
    let _lock = store.lock_toolchain(&t.name)?;
    let mut saved = None;
    let mut packed = None;
    if archive {
        let dir = store.archives_dir();
        Store::create_private_dir(&dir).map_err(|cause| PruneError::Io {
            action: "create",
            path: dir.display().to_string(),
            cause,
        })?;
        match existing_archive(&dir, t, store) {
            Some(p) => saved = Some(p),
            None => {
                let p = pack::archive_toolchain(store, t, &dir, level).map_err(|e| match e {
                    pack::PackError::Differs { name, count, first } => PruneError::Tampered { name, count, first },
                    e => PruneError::Archive(e),
                })?;
                saved = Some(p.path.clone());
                packed = Some(p);
            }
        }
    }
    let mut txn = store.transaction()?;
    let again = plan(store, scope)?;
    if let Some(kept) = again.keep.iter().find(|k| k.version == t.name) {
        return Err(PruneError::NowKept {
            name: t.name.clone(),
            reason: kept.reason.clone(),
        });
    }
    let mut fields: Vec<(&str, serde_json::Value)> =
        vec![("archive", saved.as_ref().map(|p| p.display().to_string()).into())];
    if let Some(p) = &packed {
        fields.push(("sha256", p.sha256.clone().into()));
        fields.push(("tree_digest", p.tree_digest.clone().into()));
    }
    let policy = Removal {
        archive: saved.as_deref(),
        kind: RemovalKind::Prune,
        force: false,
        drop_from_history: true,
        fields,
    };
    let removed = txn.remove_toolchain(&t.name, &policy)?;
    Ok(Removed {
        name: t.name.clone(),
        archive: saved,
        packed,
        warnings: removed.warnings,
    })
}
