//! The store transaction: every change to the default, the rollback history, the toolchains or
//! the manifests goes through here (`docs/store.md`, "The transaction").
//!
//! A [`Transaction`] holds the store lock for its whole life. Before it changes anything it
//! finishes or undoes a change that a killed gomig left half done, opens the event log (a change
//! that cannot be logged is not made), and checks its preconditions again under the lock: the
//! target exists, the store is trusted, and — the verify gate — the tree matches its manifest.
//!
//! A switch or rollback writes in this order, so that a crash, ENOSPC or EIO at any step leaves
//! either the old state or one the next gomig command completes:
//!
//! 1. `state/pending`: what is about to change (the old and new default and history), fsynced;
//! 2. `state/history`: the new rollback history (atomic rename);
//! 3. `default`: the new link (atomic rename) — the change is made;
//! 4. the event, one line appended to the log opened in advance;
//! 5. `state/pending` removed.
//!
//! A failure before step 3 undoes steps 1-2 and reports that nothing changed; after step 3 the
//! command succeeds (a log line that could not be written is a warning, and `state/pending`
//! stays so that the next command writes it). [`Store::history`] reads through `state/pending`,
//! so even before that, the rollback target is never lost.

use std::fs::{self, File};
use std::io;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::events::{Action, Event, EventLog};
use super::staging::Staging;
use super::{Store, StoreError, Toolchain, short};
use crate::integrity::verify::{self, VerifyError};

/// A change that could not be made; nothing was changed unless the variant says otherwise.
#[derive(Debug, thiserror::Error)]
pub enum TxnError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "cannot write the event log {path}: {source}; nothing was changed (every change is logged there): make it a file you can write, e.g. rm -r {path} if it is not a file, then run the command again"
    )]
    LogUnwritable { path: String, source: io::Error },
    #[error("{source}; nothing was changed: free some space on the disk holding {home} and run the command again")]
    DiskFull {
        home: String,
        source: super::atomic::WriteError,
    },
    #[error("{source}; nothing was changed")]
    NotChanged { source: super::atomic::WriteError },
    #[error("cannot replace {path}: {source}; nothing was changed")]
    RenameFailed { path: String, source: io::Error },
    #[error(
        "{name} has no recorded manifest ({path}), so gomig cannot tell whether it is intact; refusing to {verb} an unverified toolchain: record one with gomig snapshot {short} after checking the tree, or pass --no-verify"
    )]
    NoManifest {
        name: String,
        short: String,
        path: String,
        verb: &'static str,
    },
    #[error("{name} cannot be verified: {source}; refusing to {verb} an unverified toolchain (or pass --no-verify)")]
    VerifyFailed {
        name: String,
        source: VerifyError,
        verb: &'static str,
    },
    #[error(
        "{name} does not match its manifest ({count} difference(s)); refusing to {verb} it:\n{first}\ncheck it with gomig verify {short}; reinstall it (gomig uninstall {short}, gomig install {short}) if it was damaged, or pass --no-verify"
    )]
    Tampered {
        verb: &'static str,
        name: String,
        short: String,
        count: usize,
        first: String,
    },
    #[error("{0}")]
    Refused(String),
}

pub type Result<T> = std::result::Result<T, TxnError>;

impl TxnError {
    /// A write failed because the disk is full.
    pub fn is_disk_full(&self) -> bool {
        match self {
            TxnError::Store(e) => e.is_disk_full(),
            TxnError::DiskFull { .. } => true,
            TxnError::NotChanged { source } => source.is_disk_full(),
            TxnError::LogUnwritable { source, .. } | TxnError::RenameFailed { source, .. } => {
                source.raw_os_error() == Some(libc::ENOSPC)
            }
            _ => false,
        }
    }
}

/// Whether a new default must pass the verify gate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gate {
    /// Re-hash the tree under the lock and compare it with its manifest (and `go version`).
    Verify,
    /// `--no-verify`: recorded in the event.
    Skip,
}

/// What a switch or rollback did.
#[derive(Debug)]
pub struct Switched {
    pub previous: Option<String>,
    pub current: String,
    /// False when `current` already was the default.
    pub changed: bool,
    /// The tree digest the gate checked, if it ran.
    pub tree_digest: Option<String>,
    /// Things the user should know although the change was made (a log line not written).
    pub warnings: Vec<String>,
}

/// The change in progress, kept in `state/pending` until it is complete.
#[derive(Debug, Serialize, Deserialize)]
struct Pending {
    action: String,
    from: Option<String>,
    to: String,
    history_before: Vec<String>,
    history_after: Vec<String>,
    event: Map<String, Value>,
}

/// Holds the store lock; dropped, it releases it.
pub struct Transaction<'s> {
    store: &'s Store,
    _lock: File,
    log: EventLog,
}

impl Store {
    /// Verifies `toolchain` against its manifest (see [`verify::verify_tree`]); read-only.
    pub fn verify(&self, toolchain: &Toolchain) -> std::result::Result<verify::Report, VerifyError> {
        verify::verify_tree(&toolchain.name, toolchain.root(), &self.manifest_path(&toolchain.name))
    }

    /// Starts a transaction: takes the store lock, completes or undoes what a killed gomig left
    /// half done, and opens the event log.
    pub fn transaction(&self) -> Result<Transaction<'_>> {
        let lock = self.lock_store()?;
        let recovered = self.recover_pending_locked();
        let log = EventLog::open(self).map_err(|source| TxnError::LogUnwritable {
            path: super::events::log_path(self).display().to_string(),
            source,
        })?;
        let mut txn = Transaction {
            store: self,
            _lock: lock,
            log,
        };
        if let Some(event) = recovered
            && txn.log_or_warn(event).is_none()
        {
            let _ = fs::remove_file(self.pending_path());
        }
        Ok(txn)
    }

    /// Finishes or undoes an interrupted switch or rollback, under the store lock. Returns a
    /// line for the user when there was one. Used by every command that changes the store.
    pub fn recover(&self) -> std::result::Result<Option<String>, StoreError> {
        if !self.pending_path().exists() {
            return Ok(None);
        }
        let _lock = self.lock_store()?;
        let Some(event) = self.recover_pending_locked() else {
            return Ok(None);
        };
        let line = format!(
            "note: finished a {} that a killed gomig left half done ({})",
            event.get("action").and_then(Value::as_str).unwrap_or("change"),
            event.get("recovered").and_then(Value::as_str).unwrap_or("")
        );
        let logged = EventLog::open(self).and_then(|mut log| log.write(&Event::from_fields(event)));
        match logged {
            Ok(()) => {
                let _ = fs::remove_file(self.pending_path());
                Ok(Some(line))
            }
            // The state is whole; only its log line waits (state/pending keeps it).
            Err(e) => Ok(Some(format!(
                "{line}; its event could not be written to {}: {e}",
                super::events::log_path(self).display()
            ))),
        }
    }

    /// The recovery itself (the caller holds the lock): makes the history match the default
    /// that is actually in place, and returns the event to log. `state/pending` is left for the
    /// caller to remove once the event is written.
    fn recover_pending_locked(&self) -> Option<Map<String, Value>> {
        let pending = self.read_pending()?;
        let current = self.default_name().ok().flatten();
        let (history, outcome) = if current.as_deref() == Some(pending.to.as_str()) {
            (&pending.history_after, "completed")
        } else if current == pending.from {
            (&pending.history_before, "undone: the default had not changed yet")
        } else {
            // The default was changed by hand since: leave the history as it is.
            (
                &pending.history_after,
                "abandoned: the default was changed by other means",
            )
        };
        if outcome != "abandoned: the default was changed by other means" && self.read_history_file().ok()? != *history
        {
            self.write_history(history).ok()?;
        }
        let mut event = pending.event;
        if outcome == "completed" && self.logged_already(&event) {
            // Killed after its event was written, before `state/pending` was removed.
            let _ = fs::remove_file(self.pending_path());
            return None;
        }
        event.insert("recovered".into(), outcome.into());
        if outcome.starts_with("undone") {
            event.insert("result".into(), "error".into());
            event.insert(
                "error".into(),
                "interrupted before the change was made; nothing changed".into(),
            );
        } else if outcome.starts_with("abandoned") {
            event.insert("result".into(), "error".into());
            event.insert(
                "error".into(),
                "interrupted; the default was changed by other means since, and is left as it is".into(),
            );
        }
        Some(event)
    }

    /// Whether the event with `event`'s id is among the last lines of the log.
    fn logged_already(&self, event: &Map<String, Value>) -> bool {
        let Some(id) = event.get("id").and_then(Value::as_str) else {
            return false;
        };
        let needle = format!("\"id\":\"{id}\"");
        super::events::read_lines(self, Some(64)).is_ok_and(|lines| lines.iter().any(|l| l.contains(&needle)))
    }

    fn read_pending(&self) -> Option<Pending> {
        let text = fs::read(self.pending_path()).ok()?;
        match serde_json::from_slice(&text) {
            Ok(p) => Some(p),
            Err(_) => {
                // Torn or foreign: step 1 never completed, so nothing after it happened.
                let _ = fs::remove_file(self.pending_path());
                None
            }
        }
    }
}

impl Transaction<'_> {
    pub fn store(&self) -> &Store {
        self.store
    }

    /// Appends `event` to the log opened at the start; a failure is returned as a warning.
    fn log_or_warn(&mut self, event: Map<String, Value>) -> Option<String> {
        match self.log.write(&Event::from_fields(event)) {
            Ok(()) => None,
            Err(e) => Some(format!(
                "warning: the change was made, but its event could not be written to {}: {e}",
                self.log.path().display()
            )),
        }
    }

    /// Logs an event that is not part of a journaled change; a failure is a warning.
    pub fn log(&mut self, event: Event) -> Option<String> {
        self.log_or_warn(event.into_fields())
    }

    /// The verify gate: `name` exists, and matches its manifest unless `gate` is `Skip`.
    fn gate(&mut self, name: &str, gate: Gate, action: Action) -> Result<(Toolchain, Option<String>)> {
        let toolchain = self.store.toolchain(name)?;
        // Trusted as the shim checks it: the store, and the tree that would run.
        self.store.check_permissions()?;
        crate::lookup::check_toolchain_trust(name).map_err(|f| StoreError::Untrusted {
            message: f.message,
            path: f.file,
        })?;
        if gate == Gate::Skip {
            return Ok((toolchain, None));
        }
        let refuse = |txn: &mut Self, err: TxnError, fields: Vec<(&str, Value)>| {
            let mut event = Event::new(action).field("to", name.to_string());
            for (k, v) in fields {
                event = event.field(k, v);
            }
            let _ = txn.log(event.result(Err(&format!("verify failed: {err}"))));
            Err(err)
        };
        let verb = if action == Action::Rollback {
            "roll back to"
        } else {
            "switch to"
        };
        let path = self.store.manifest_path(name);
        let report = match verify::verify_tree(name, toolchain.root(), &path) {
            Ok(report) => report,
            Err(VerifyError::NoManifest { .. }) => {
                let err = TxnError::NoManifest {
                    name: name.to_string(),
                    short: short(name).to_string(),
                    path: path.display().to_string(),
                    verb,
                };
                return refuse(self, err, vec![("no_manifest", true.into())]);
            }
            Err(source) => {
                let err = TxnError::VerifyFailed {
                    name: name.to_string(),
                    source,
                    verb,
                };
                return refuse(self, err, vec![]);
            }
        };
        if !report.ok() {
            let count = report.differences.len();
            let err = TxnError::Tampered {
                verb,
                name: name.to_string(),
                short: short(name).to_string(),
                count,
                first: report.first_differences(10),
            };
            return refuse(self, err, vec![("differences", count.into())]);
        }
        Ok((toolchain, Some(report.tree_digest)))
    }

    /// Makes `name` the default (after the gate), pushing the previous default onto the
    /// rollback history. `by` names the command in the log when it is not `switch` itself.
    pub fn switch(&mut self, name: &str, gate: Gate, by: Option<&str>) -> Result<Switched> {
        hook("switch:locked");
        let (_, digest) = self.gate(name, gate, Action::Switch)?;
        let previous = self.store.default_name()?;
        if previous.as_deref() == Some(name) {
            return Ok(Switched {
                previous,
                current: name.to_string(),
                changed: false,
                tree_digest: digest,
                warnings: Vec::new(),
            });
        }
        let before = self.store.history()?;
        let mut after = before.clone();
        after.extend(previous.clone());
        let mut event = Event::new(Action::Switch)
            .field("from", previous.clone())
            .field("to", name.to_string())
            .field("verified", digest.is_some())
            .field("tree_digest", digest.clone());
        if let Some(by) = by {
            event = event.field("by", by);
        }
        self.change_default(Action::Switch, previous, name, before, after, event, digest)
    }

    /// Makes the newest history entry the default again (after the gate), dropping it from
    /// the history.
    pub fn rollback(&mut self, gate: Gate) -> Result<Switched> {
        hook("rollback:locked");
        let before = self.store.history()?;
        let mut after = before.clone();
        let Some(target) = after.pop() else {
            return Err(TxnError::Refused(format!(
                "nothing to roll back to: {} is empty (gomig switch records the previous default there)",
                self.store.history_path().display()
            )));
        };
        let (toolchain, digest) = self.gate(&target, gate, Action::Rollback)?;
        if !toolchain.is_present() {
            return Err(TxnError::Refused(format!(
                "the rollback target {target} is broken ({} has no bin/go); reinstall it first: gomig install {}",
                toolchain.root().display(),
                short(&target)
            )));
        }
        let previous = self.store.default_name()?;
        let event = Event::new(Action::Rollback)
            .field("from", previous.clone())
            .field("to", target.clone())
            .field("verified", digest.is_some())
            .field("tree_digest", digest.clone());
        self.change_default(Action::Rollback, previous, &target, before, after, event, digest)
    }

    /// Makes `name` the default if there is none (the first toolchain a user gets, as rustup
    /// and fnm do). The caller has just installed or adopted the tree and recorded its
    /// manifest from it, so it is not hashed again. Returns what it did, if anything.
    pub fn default_if_unset(&mut self, name: &str, reason: &str) -> Result<Option<Switched>> {
        if self.store.default_name()?.is_some() {
            return Ok(None);
        }
        self.store.toolchain(name)?;
        let history = self.store.history()?;
        let event = Event::new(Action::Switch)
            .field("from", None::<String>)
            .field("to", name.to_string())
            .field("reason", reason.to_string());
        self.change_default(Action::Switch, None, name, history.clone(), history, event, None)
            .map(Some)
    }

    /// Steps 1-5 of the module doc.
    #[allow(clippy::too_many_arguments)]
    fn change_default(
        &mut self,
        action: Action,
        from: Option<String>,
        to: &str,
        history_before: Vec<String>,
        history_after: Vec<String>,
        event: Event,
        tree_digest: Option<String>,
    ) -> Result<Switched> {
        let store = self.store;
        let history_after = super::tidy_history(history_after, Some(to));
        // The id lets a recovery tell whether the event was written before a kill.
        let event = event.field("id", super::unique_suffix());
        let pending = Pending {
            action: action.to_string(),
            from: from.clone(),
            to: to.to_string(),
            history_before: history_before.clone(),
            history_after: history_after.clone(),
            event: event.into_fields(),
        };
        let text = serde_json::to_vec(&pending).map_err(|e| TxnError::Refused(e.to_string()))?;
        hook(&format!("{action}:before-pending"));
        super::write_atomic(&store.pending_path(), &text).map_err(|e| self.not_changed(e))?;
        hook(&format!("{action}:before-history"));
        if history_after != history_before
            && let Err(e) = store.write_history(&history_after)
        {
            let _ = fs::remove_file(store.pending_path());
            return Err(match e {
                StoreError::Write(w) => self.not_changed(w),
                e => e.into(),
            });
        }
        hook(&format!("{action}:before-default"));
        if let Err(e) = store.set_default(to) {
            // Not changed: put the history back (if that fails too, state/pending makes the next
            // command do it, and the history reads through it until then).
            if history_after == history_before || store.write_history(&history_before).is_ok() {
                let _ = fs::remove_file(store.pending_path());
            }
            return Err(match e {
                StoreError::Io { path, source, .. } => TxnError::RenameFailed { path, source },
                e => e.into(),
            });
        }
        hook(&format!("{action}:before-log"));
        let mut warnings = Vec::new();
        match self.log.write(&Event::from_fields(pending.event)) {
            Ok(()) => {
                hook(&format!("{action}:before-done"));
                let _ = fs::remove_file(store.pending_path());
            }
            Err(e) => warnings.push(format!(
                "warning: the default is now {to}, but the event could not be written to {}: {e}; the next gomig command that changes the store writes it",
                self.log.path().display()
            )),
        }
        Ok(Switched {
            previous: from,
            current: to.to_string(),
            changed: true,
            tree_digest,
            warnings,
        })
    }

    fn not_changed(&self, e: super::atomic::WriteError) -> TxnError {
        if e.is_disk_full() {
            TxnError::DiskFull {
                home: self.store.home().display().to_string(),
                source: e,
            }
        } else {
            TxnError::NotChanged { source: e }
        }
    }

    /// Removes a toolchain from the store: an installed tree (moved aside in one rename, then
    /// deleted) or an adopted link (the tree it points to is never touched), and its manifest.
    /// The default and the rollback target are refused unless `policy` allows them.
    pub fn remove_toolchain(&mut self, name: &str, policy: &Removal<'_>) -> Result<Removed> {
        let toolchain = match self.store.toolchain(name) {
            Err(StoreError::NotInstalled { .. }) => {
                return Err(TxnError::Refused(format!(
                    "{name} is not installed, so there is nothing to {}; gomig list shows what is",
                    policy.verb()
                )));
            }
            other => other?,
        };
        let adopted = toolchain.adopted_from.is_some();
        let short = short(name);
        match (policy.kind, adopted) {
            (Kind::Uninstall, true) => {
                return Err(TxnError::Refused(format!(
                    "{name} is adopted from {}; forget it with: gomig remove {short} (gomig never deletes adopted trees)",
                    toolchain.root().display()
                )));
            }
            (Kind::Remove, false) => {
                return Err(TxnError::Refused(format!(
                    "{name} was installed by gomig, not adopted; remove it with: gomig uninstall {short}"
                )));
            }
            _ => {}
        }
        let command = policy.command_line(short);
        if self.store.default_name()?.as_deref() == Some(name) && !policy.force {
            return Err(TxnError::Refused(format!(
                "{name} is the global default: without it `go` has no default to run; switch to another first (gomig switch VERSION), then {} it, or anyway with: {command} --force",
                policy.verb()
            )));
        }
        if self.store.rollback_target()?.as_deref() == Some(name) && !policy.force {
            return Err(TxnError::Refused(format!(
                "{name} is the rollback target: gomig rollback would switch back to it; keep it while you may need to roll back, or {} it anyway with: {command} --force",
                policy.verb()
            )));
        }
        hook("remove:checked");
        let mut warnings = Vec::new();
        // Recorded before the tree goes, so that a kill -9 in between still leaves the way back
        // (a record of an installed toolchain is never read: only a missing one is looked up).
        if let Some(archive) = policy.archive
            && let Err(e) = self.record_pruned(name, archive)
        {
            warnings.push(format!(
                "warning: {e}; a `go` that asks for {name} will suggest a new download instead of gomig restore {}",
                archive.display()
            ));
        }
        let mut trash = None;
        if adopted {
            fs::remove_file(&toolchain.path).map_err(super::io_err("cannot remove", &toolchain.path))?;
        } else {
            // Out of toolchains/ in one rename, so nothing half-deleted ever looks installed;
            // into a guarded trash directory, which the next command removes after a kill.
            let aside = self.store.trash_slot(name)?;
            fs::rename(&toolchain.path, aside.path()).map_err(super::io_err("cannot move aside", &toolchain.path))?;
            trash = Some(aside);
        }
        let _ = fs::remove_file(self.store.manifest_path(name));
        if policy.drop_from_history {
            let history: Vec<String> = self.store.history()?.into_iter().filter(|h| h != name).collect();
            let history = super::tidy_history(history, self.store.default_name()?.as_deref());
            if let Err(e) = self.store.write_history(&history) {
                warnings.push(format!("warning: {e}; gomig rollback may name {name}, which is gone"));
            }
        }
        let mut event = Event::new(policy.kind.action()).field("version", name.to_string());
        if adopted {
            event = event.field("goroot", toolchain.root().display().to_string());
        }
        for (k, v) in &policy.fields {
            event = event.field(k, v.clone());
        }
        warnings.extend(self.log(event));
        warnings.extend(self.sync_commands());
        if let Some(trash) = trash
            && let Err(e) = fs::remove_dir_all(trash.path())
        {
            // The toolchain is gone from the store either way; the leftover cleaner finishes.
            warnings.push(format!(
                "warning: cannot delete {}: {e}; the next gomig command that changes the store retries",
                trash.path().display()
            ));
        }
        Ok(Removed { toolchain, warnings })
    }

    /// Keeps the `go1.X.Y` commands in `shims/` in step with `toolchains/` (the shims module
    /// owns them). The toolchain change is made either way; a failure is a warning with the fix.
    fn sync_commands(&self) -> Option<String> {
        crate::install::shims::sync_commands(self.store).err().map(|e| {
            format!(
                "warning: {e:#}; the go1.X.Y commands in {} are out of step with the store: run gomig init",
                self.store.shims_dir().display()
            )
        })
    }

    /// Links `state/pruned/<name>` to `archive`, replacing any older link in one rename.
    fn record_pruned(&self, name: &str, archive: &Path) -> std::result::Result<(), String> {
        let link = self.store.pruned_link(name);
        let dir = link.parent().expect("state/pruned/<name> has a parent");
        Store::create_private_dir(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let archive = fs::canonicalize(archive).unwrap_or_else(|_| archive.to_path_buf());
        // `.NAME.tmp-<suffix>`: the shape clean_stale_temp_files removes after a kill -9.
        let tmp = dir.join(format!(".{name}.tmp-{}", super::atomic::unique_suffix()));
        std::os::unix::fs::symlink(&archive, &tmp)
            .and_then(|()| {
                hook("prune:record-linked");
                fs::rename(&tmp, &link)
            })
            .map_err(|e| {
                let _ = fs::remove_file(&tmp);
                format!("cannot record the archive in {}: {e}", link.display())
            })
    }

    /// Records `manifest` as what `name` contains, and logs `event`.
    pub fn record_manifest(&mut self, name: &str, manifest_text: &[u8], event: Event) -> Result<Vec<String>> {
        self.store.toolchain(name)?;
        let path = self.store.manifest_path(name);
        super::write_atomic(&path, manifest_text).map_err(|e| self.not_changed(e))?;
        Ok(self.log(event).into_iter().collect())
    }

    /// Puts the unpacked tree `staging` in place as `toolchains/NAME` with its manifest, and
    /// logs `event`: install's commit and a restore into a store without NAME. `toolchains/NAME`
    /// must not exist (checked under the lock). The manifest is written first: a kill before the
    /// rename leaves a manifest without a tree (ignored, and replaced by the next install or
    /// restore), never a tree without its manifest; the staging directory is then a leftover
    /// the next command removes.
    pub fn install_tree(
        &mut self,
        staging: Staging,
        name: &str,
        manifest_text: &[u8],
        event: Event,
    ) -> Result<Vec<String>> {
        super::check_name(name)?;
        self.store.check_permissions()?;
        let dest = self.store.toolchain_path(name);
        self.refuse_existing(name, &dest)?;
        hook("install:before-manifest");
        let previous = self.write_manifest_first(name, manifest_text)?;
        hook("install:before-rename");
        if let Err(source) = staging.moving(|path| fs::rename(path, &dest)) {
            self.undo_manifest(name, previous);
            return Err(TxnError::RenameFailed {
                path: dest.display().to_string(),
                source,
            });
        }
        staging.commit();
        super::sync_dir(&self.store.toolchains_dir());
        hook("install:before-log");
        let mut warnings: Vec<String> = self.log(event).into_iter().collect();
        warnings.extend(self.sync_commands());
        Ok(warnings)
    }

    /// Records the adopted GOROOT `root` as `toolchains/NAME -> root` with its manifest (written
    /// first, as in [`Transaction::install_tree`]), and logs `event`. The link is made under a
    /// temporary name and renamed into place; the tree itself is never touched.
    pub fn adopt_link(&mut self, name: &str, root: &Path, manifest_text: &[u8], event: Event) -> Result<Vec<String>> {
        super::check_name(name)?;
        self.store.check_permissions()?;
        let dest = self.store.toolchain_path(name);
        self.refuse_existing(name, &dest)?;
        let previous = self.write_manifest_first(name, manifest_text)?;
        hook("adopt:before-link");
        let tmp = self
            .store
            .toolchains_dir()
            .join(format!(".adopt-{name}-{}", super::unique_suffix()));
        let linked = std::os::unix::fs::symlink(root, &tmp).and_then(|()| fs::rename(&tmp, &dest));
        if let Err(source) = linked {
            let _ = fs::remove_file(&tmp);
            self.undo_manifest(name, previous);
            return Err(TxnError::RenameFailed {
                path: dest.display().to_string(),
                source,
            });
        }
        super::sync_dir(&self.store.toolchains_dir());
        let mut warnings: Vec<String> = self.log(event).into_iter().collect();
        warnings.extend(self.sync_commands());
        Ok(warnings)
    }

    /// Replaces the installed (not adopted) tree `toolchains/NAME` by the checked tree
    /// `staging` in one atomic exchange, and logs `event`; the old tree, now in the staging
    /// directory, is deleted when the guard drops (or, after a kill, by the next command). The
    /// manifest stays: the caller checked that the new tree matches it. A kill at any instant
    /// leaves the old tree or the new one in place, never none.
    pub fn replace_tree(&mut self, staging: Staging, name: &str, event: Event) -> Result<Vec<String>> {
        let toolchain = self.store.toolchain(name)?;
        self.store.check_permissions()?;
        let is_dir = fs::symlink_metadata(&toolchain.path).is_ok_and(|m| m.is_dir());
        if toolchain.adopted_from.is_some() || !is_dir {
            return Err(TxnError::Refused(format!(
                "{} is not a tree gomig installed (it is a link to {}), and gomig never modifies adopted trees; nothing was changed",
                toolchain.path.display(),
                toolchain.root().display()
            )));
        }
        hook("restore:before-swap");
        let mut aside = None;
        if let Err(e) = staging.moving(|path| exchange(path, &toolchain.path)) {
            if !matches!(e.raw_os_error(), Some(libc::EINVAL | libc::ENOSYS | libc::EOPNOTSUPP)) {
                return Err(TxnError::RenameFailed {
                    path: toolchain.path.display().to_string(),
                    source: e,
                });
            }
            // A filesystem without RENAME_EXCHANGE: the old tree aside, the new into place.
            let trash = self.store.trash_slot(name)?;
            // Both renames with the interrupt cleaner held off: never the old tree aside and
            // the new one deleted.
            staging.moving(|path| {
                fs::rename(&toolchain.path, trash.path()).map_err(|source| TxnError::RenameFailed {
                    path: toolchain.path.display().to_string(),
                    source,
                })?;
                hook("restore:aside");
                if let Err(source) = fs::rename(path, &toolchain.path) {
                    let _ = fs::rename(trash.path(), &toolchain.path);
                    return Err(TxnError::RenameFailed {
                        path: toolchain.path.display().to_string(),
                        source,
                    });
                }
                Ok(())
            })?;
            aside = Some(trash);
        }
        super::sync_dir(&self.store.toolchains_dir());
        hook("restore:before-log");
        let warnings = self.log(event).into_iter().collect();
        hook("restore:before-delete");
        // The old tree: in the staging directory after the exchange, or in the trash.
        drop(aside);
        drop(staging);
        Ok(warnings)
    }

    fn refuse_existing(&self, name: &str, dest: &Path) -> Result<()> {
        if fs::symlink_metadata(dest).is_ok() {
            return Err(TxnError::Refused(format!(
                "{} already exists, so {name} was not put in its place; nothing was changed: gomig list shows what is installed (gomig uninstall {} or gomig remove {} first to replace it)",
                dest.display(),
                short(name),
                short(name)
            )));
        }
        Ok(())
    }

    /// Writes `name`'s manifest before the tree it describes is put in place; returns the
    /// manifest it replaced, for [`Transaction::undo_manifest`].
    fn write_manifest_first(&self, name: &str, text: &[u8]) -> Result<Option<Vec<u8>>> {
        let path = self.store.manifest_path(name);
        let previous = fs::read(&path).ok();
        super::write_atomic(&path, text).map_err(|e| self.not_changed(e))?;
        Ok(previous)
    }

    fn undo_manifest(&self, name: &str, previous: Option<Vec<u8>>) {
        let path = self.store.manifest_path(name);
        match previous {
            Some(text) => {
                let _ = super::write_atomic(&path, &text);
            }
            None => {
                let _ = fs::remove_file(&path);
            }
        }
    }
}

/// Exchanges two paths atomically (`renameat2(RENAME_EXCHANGE)`).
fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let a = std::ffi::CString::new(a.as_os_str().as_bytes()).map_err(io::Error::other)?;
    let b = std::ffi::CString::new(b.as_os_str().as_bytes()).map_err(io::Error::other)?;
    // SAFETY: both paths are NUL-terminated strings that live across the call.
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Which removal, and what it may remove.
pub struct Removal<'a> {
    pub kind: Kind,
    /// Also the default or the rollback target.
    pub force: bool,
    /// Drop the name from the rollback history (prune: it is archived).
    pub drop_from_history: bool,
    /// Extra event fields (`by: migrate`, the archive prune wrote).
    pub fields: Vec<(&'a str, Value)>,
    /// The archive the toolchain was saved to (prune): recorded in `state/pruned/`, so that
    /// a `go` that asks for it again names the archive, and `gomig install` restores from it.
    pub archive: Option<&'a Path>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `gomig uninstall`: an installed tree.
    Uninstall,
    /// `gomig remove`: an adopted link.
    Remove,
    /// `gomig prune`: either.
    Prune,
}

impl Kind {
    fn action(self) -> Action {
        match self {
            Kind::Uninstall => Action::Uninstall,
            Kind::Remove => Action::Remove,
            Kind::Prune => Action::Prune,
        }
    }
}

impl Removal<'_> {
    fn verb(&self) -> &'static str {
        match self.kind {
            Kind::Uninstall => "uninstall",
            Kind::Remove => "remove",
            Kind::Prune => "prune",
        }
    }
    fn command_line(&self, short: &str) -> String {
        match self.kind {
            Kind::Remove => format!("gomig remove {short}"),
            _ => format!("gomig uninstall {short}"),
        }
    }
}

/// What [`Transaction::remove_toolchain`] removed.
pub struct Removed {
    pub toolchain: Toolchain,
    pub warnings: Vec<String>,
}

/// A test hook: with `GOMIG_TEST_PAUSE_AT=<step>`, the process writes its pid to
/// `GOMIG_TEST_PAUSE_FILE` at that step and waits until the file is removed (or 60 s), so a
/// test can act between two writes (another gomig, or kill -9). Debug builds only.
pub fn hook(step: &str) {
    if !cfg!(debug_assertions) {
        return;
    }
    let (Some(at), Some(file)) = (
        std::env::var_os("GOMIG_TEST_PAUSE_AT"),
        std::env::var_os("GOMIG_TEST_PAUSE_FILE"),
    ) else {
        return;
    };
    if at != step {
        return;
    }
    let file = std::path::PathBuf::from(file);
    if fs::write(&file, std::process::id().to_string()).is_err() {
        return;
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while file.exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}
