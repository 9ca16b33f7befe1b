//! Recording what a toolchain's tree contains now: `gomig snapshot` and the manifest stage 2 of
//! a migration records for a toolchain that had none. The one place a manifest is re-recorded,
//! so the one place that refuses to re-bless a changed tree (`docs/integrity.md`).
//!
//! A tree with no manifest yet is recorded. A tree that matches its manifest is recorded again
//! (the same digest). A tree that differs from it is refused unless the caller accepts the
//! changes: then they are recorded, listed in the event, and returned for the user to see. The
//! toolchain's lock, then the store's (a [`Transaction`](crate::store::transaction::Transaction)),
//! are held from the scan to the write, so the manifest written is of the tree that was checked.

use std::path::PathBuf;

use crate::integrity::manifest::{self, Manifest, ManifestError};
use crate::integrity::verify::{self, Difference};
use crate::store::events::{Action, Event};
use crate::store::transaction::TxnError;
use crate::store::{self, Store, StoreError, short};

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Txn(#[from] TxnError),
    #[error("cannot record the manifest of {name}: cannot read its tree {root}: {source}; nothing was recorded")]
    Scan {
        name: String,
        root: String,
        source: std::io::Error,
    },
    #[error(
        "{name} does not match its manifest {manifest} ({count} difference(s)):\n{lines}\nrecording it now would make these changes the new truth, so nothing was recorded: check them with gomig verify {short}; if you made them and want to keep them, run gomig snapshot {short} --accept-changes; if the tree was damaged, reinstall it (gomig uninstall {short}, then gomig install {short})"
    )]
    Changed {
        name: String,
        short: String,
        manifest: String,
        count: usize,
        lines: String,
    },
    #[error(
        "{source}; so gomig cannot tell what changed in {name} since it was recorded, and nothing was recorded: if the tree is as it should be, record it anew with gomig snapshot {short} --accept-changes"
    )]
    Unreadable {
        name: String,
        short: String,
        source: ManifestError,
    },
}

/// What was recorded.
#[derive(Debug)]
pub struct Snapshot {
    pub name: String,
    pub manifest: Manifest,
    pub path: PathBuf,
    /// The tree had no manifest before.
    pub first: bool,
    /// The differences from the previous manifest that were accepted (`--accept-changes`).
    pub accepted: Vec<Difference>,
    /// The previous manifest could not be read and was replaced (`--accept-changes`).
    pub replaced_unreadable: bool,
    /// Things the user should know although the manifest was recorded (a log line not written).
    pub warnings: Vec<String>,
}

/// Records the manifest of the toolchain `name` (see the module doc). `accept_changes` lets a
/// tree that differs from its manifest be recorded; `by` names the command in the event when it
/// is not `gomig snapshot` itself (`migrate`).
pub fn snapshot(store: &Store, name: &str, accept_changes: bool, by: Option<&str>) -> Result<Snapshot, SnapshotError> {
    store::check_name(name)?;
    // Lock order: the toolchain's lock, then the store's.
    let _lock = store.lock_toolchain(name)?;
    let mut txn = store.transaction()?;
    let toolchain = store.toolchain(name)?;
    let root = toolchain.root();
    let path = store.manifest_path(name);
    let entries = manifest::scan(root).map_err(|source| SnapshotError::Scan {
        name: name.to_string(),
        root: root.display().to_string(),
        source,
    })?;
    let mut replaced_unreadable = false;
    let previous = if path.is_file() {
        match Manifest::load(&path) {
            Ok(m) => Some(m),
            Err(_) if accept_changes => {
                replaced_unreadable = true;
                None
            }
            Err(source) => {
                return Err(SnapshotError::Unreadable {
                    name: name.to_string(),
                    short: short(name).to_string(),
                    source,
                });
            }
        }
    } else {
        None
    };
    let first = previous.is_none() && !replaced_unreadable;
    let differences = previous
        .as_ref()
        .map(|m| verify::differences(m, name, root, &entries))
        .unwrap_or_default();
    let described: Vec<String> = differences.iter().map(Difference::describe).collect();
    let mut event = Event::new(Action::Snapshot).field("version", name);
    if let Some(by) = by {
        event = event.field("by", by);
    }
    if !differences.is_empty() && !accept_changes {
        let err = SnapshotError::Changed {
            name: name.to_string(),
            short: short(name).to_string(),
            manifest: path.display().to_string(),
            count: differences.len(),
            lines: described
                .iter()
                .map(|d| format!("  {d}"))
                .collect::<Vec<_>>()
                .join("\n"),
        };
        // A refusal is logged too (best effort: nothing changed either way).
        let _ = txn.log(
            event
                .field("differences", differences.len())
                .result(Err("the tree does not match its manifest; nothing was recorded")),
        );
        return Err(err);
    }
    let m = Manifest::new(manifest::header_for(root, name), entries);
    event = event.field("tree_digest", m.tree_digest());
    if !described.is_empty() {
        event = event.field("accepted_changes", described);
    }
    if replaced_unreadable {
        event = event.field("replaced_unreadable_manifest", true);
    }
    let warnings = txn.record_manifest(name, m.to_text().as_bytes(), event)?;
    Ok(Snapshot {
        name: name.to_string(),
        manifest: m,
        path,
        first,
        accepted: differences,
        replaced_unreadable,
        warnings,
    })
}
