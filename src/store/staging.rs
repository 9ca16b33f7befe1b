//! The one staging guard and its one leftover cleaner (`docs/store.md`, "Staging").
//!
//! A [`Staging`] is a hidden directory in `toolchains/` — `.staging-LABEL-SUFFIX` (a tree being
//! unpacked: install, restore) or `.trash-LABEL-SUFFIX` (a tree on its way out: uninstall,
//! prune, the damaged tree a restore replaced) — guarded by an flock on its own lock file,
//! `state/locks/<dir name>.lock`. The lock is taken *before* the directory exists and held for
//! the guard's whole life, so a directory whose lock is free belongs to a process that is gone.
//! Dropped, the guard deletes the directory unless it was [committed](Staging::commit) (renamed
//! into place), then its lock file.
//!
//! A `.staging-` guard is also listed in this process's live stagings: on SIGINT or SIGTERM,
//! [`clean_on_interrupt`] removes them at once (a kill -9 leaves them to the next command). A
//! rename of one into place runs under [`Staging::moving`], so that cleaner never deletes a
//! tree half-way while it is being put in place.
//!
//! [`Store::clean_leftovers`] (run by every command that changes the store) removes the
//! directories whose lock is free, and lock files left without a directory. A directory with no
//! lock file of its own was made by an older gomig: its guard was the toolchain's lock
//! (`.staging-NAME-*`, `.trash-NAME-*`), the archive staging lock (`.staging-archive-*`), or the
//! pid in its suffix (`.staging-restore-*`).

use std::fs::{self, File};
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use super::atomic::{parse_unique_suffix, pid_is_gone, unique_suffix};
use super::{Result, Store, io_err};

/// What a guarded directory is for; its name starts with the kind's prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StagingKind {
    /// `.staging-`: a tree being unpacked, renamed into place when complete.
    Staging,
    /// `.trash-`: a tree moved out of `toolchains/NAME`, deleted when the guard drops.
    Trash,
}

impl StagingKind {
    fn prefix(self) -> &'static str {
        match self {
            StagingKind::Staging => ".staging-",
            StagingKind::Trash => ".trash-",
        }
    }
}

/// A guarded directory (see the module doc).
pub struct Staging {
    path: PathBuf,
    lock_path: PathBuf,
    _lock: File,
    committed: bool,
    /// Its entry in [`LIVE`] (`.staging-` guards only).
    live: Option<u64>,
}

/// A `.staging-` directory of this process, for [`clean_on_interrupt`].
struct Live {
    id: u64,
    path: PathBuf,
    lock_path: PathBuf,
}

/// This process's `.staging-` directories. Held by [`Staging::moving`] while one is renamed into
/// place, and for good by [`clean_on_interrupt`] (nothing is staged or moved after it).
static LIVE: Mutex<Vec<Live>> = Mutex::new(Vec::new());
static NEXT_LIVE: AtomicU64 = AtomicU64::new(0);

fn live() -> MutexGuard<'static, Vec<Live>> {
    LIVE.lock().unwrap_or_else(|e| e.into_inner())
}

impl Staging {
    /// The directory (it may not exist yet for a trash slot).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `put_in_place` (the rename of this directory into place) with the interrupt cleaner
    /// held off: it removes the directory before or not at all, never a part of it.
    pub fn moving<R>(&self, put_in_place: impl FnOnce(&Path) -> R) -> R {
        let _held = live();
        put_in_place(&self.path)
    }

    /// The directory was renamed into place: it is no longer ours to delete.
    pub fn commit(mut self) {
        self.committed = true;
    }

    fn unlist(&mut self) {
        if let Some(id) = self.live.take() {
            live().retain(|l| l.id != id);
        }
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.path);
        }
        // The directory is gone (or in place) before its lock file is: a cleaner that still
        // sees the directory also sees the lock, held.
        let _ = fs::remove_file(&self.lock_path);
        self.unlist();
    }
}

/// Removes this process's `.staging-` directories and their lock files, on SIGINT or SIGTERM,
/// and returns the directories removed. The process must exit right after: the list stays
/// locked, so no staging directory is made or moved into place any more.
pub fn clean_on_interrupt() -> Vec<PathBuf> {
    let held = live();
    let mut removed = Vec::new();
    for l in held.iter() {
        // The unpacking may still be writing into it: until the top is gone, nothing can be
        // created below it again.
        let mut gone = false;
        for _ in 0..200 {
            match fs::remove_dir_all(&l.path) {
                Ok(()) => {
                    gone = true;
                    removed.push(l.path.clone());
                    break;
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    gone = true;
                    break;
                }
                Err(_) => std::thread::sleep(std::time::Duration::from_millis(5)),
            }
        }
        if gone {
            let _ = fs::remove_file(&l.lock_path);
        }
    }
    std::mem::forget(held);
    removed
}

impl Store {
    /// A new, empty staging directory `.staging-LABEL-SUFFIX` in `toolchains/`, guarded.
    pub fn staging(&self, label: &str) -> Result<Staging> {
        let mut guard = self.reserve(StagingKind::Staging, label)?;
        let id = NEXT_LIVE.fetch_add(1, Ordering::Relaxed);
        live().push(Live {
            id,
            path: guard.path.clone(),
            lock_path: guard.lock_path.clone(),
        });
        guard.live = Some(id);
        fs::create_dir(&guard.path).map_err(io_err("cannot create", &guard.path))?;
        Ok(guard)
    }

    /// A guarded name `.trash-LABEL-SUFFIX` in `toolchains/`, not yet created: a tree is renamed
    /// to it, and deleted when the guard drops.
    pub fn trash_slot(&self, label: &str) -> Result<Staging> {
        self.reserve(StagingKind::Trash, label)
    }

    /// Takes the lock of a fresh name (the flock-then-check-the-inode dance, so that a cleaner
    /// removing an orphan lock file at the same moment cannot leave us holding an unlinked one).
    fn reserve(&self, kind: StagingKind, label: &str) -> Result<Staging> {
        let toolchains = self.toolchains_dir();
        fs::create_dir_all(&toolchains).map_err(io_err("cannot create", &toolchains))?;
        let locks = self.locks_dir();
        fs::create_dir_all(&locks).map_err(io_err("cannot create", &locks))?;
        loop {
            let dir_name = format!("{}{label}-{}", kind.prefix(), unique_suffix());
            let lock_path = locks.join(format!("{dir_name}.lock"));
            let file = File::options()
                .create_new(true)
                .write(true)
                .open(&lock_path)
                .map_err(io_err("cannot create", &lock_path))?;
            file.lock().map_err(io_err("cannot lock", &lock_path))?;
            let same = match (file.metadata(), fs::metadata(&lock_path)) {
                (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
                _ => false,
            };
            if same {
                return Ok(Staging {
                    path: toolchains.join(dir_name),
                    lock_path,
                    _lock: file,
                    committed: false,
                    live: None,
                });
            }
        }
    }

    /// Removes what killed gomig processes left in `toolchains/`: staging and trash directories
    /// whose lock is free (see the module doc), and lock files without a directory. Returns how
    /// many directories were removed.
    pub fn clean_leftovers(&self) -> usize {
        let toolchains = self.toolchains_dir();
        let mut removed = 0;
        if let Ok(entries) = fs::read_dir(&toolchains) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if leftover_label(&name).is_none() {
                    continue;
                }
                if self.leftover_is_free(&name) && remove_tree(&e.path()) {
                    removed += 1;
                    let _ = fs::remove_file(self.locks_dir().join(format!("{name}.lock")));
                }
            }
        }
        // Lock files whose directory is gone: a kill between the lock and the directory, or
        // between the directory's removal and the lock file's.
        if let Ok(entries) = fs::read_dir(self.locks_dir()) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                let Some(dir) = name.strip_suffix(".lock") else {
                    continue;
                };
                if leftover_label(dir).is_none() || fs::symlink_metadata(toolchains.join(dir)).is_ok() {
                    continue;
                }
                if let Ok(file) = File::options().write(true).open(e.path())
                    && file.try_lock().is_ok()
                {
                    let _ = fs::remove_file(e.path());
                }
            }
        }
        removed
    }

    /// Whether no live process guards the leftover directory `dir_name`.
    fn leftover_is_free(&self, dir_name: &str) -> bool {
        let lock_path = self.locks_dir().join(format!("{dir_name}.lock"));
        match File::options().write(true).open(&lock_path) {
            // Held while the file is open; released when it returns.
            Ok(file) => file.try_lock().is_ok(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => self.legacy_guard_is_free(dir_name),
            Err(_) => false,
        }
    }

    /// The guard of a directory made by an older gomig (no lock file of its own).
    fn legacy_guard_is_free(&self, dir_name: &str) -> bool {
        let Some(label) = leftover_label(dir_name) else {
            return false;
        };
        if label == "archive" {
            return matches!(self.try_lock(ARCHIVE_STAGING_LOCK), Ok(Some(_)));
        }
        if super::check_name(label).is_ok() {
            return matches!(self.try_lock_toolchain(label), Ok(Some(_)));
        }
        // `.staging-restore-PID-...`: guarded by its pid.
        let suffix = &dir_name[dir_name.len() - suffix_len(dir_name)..];
        parse_unique_suffix(suffix.as_bytes()).is_some_and(pid_is_gone)
    }
}

/// The lock an older gomig's archive installs held while their staging directory existed.
const ARCHIVE_STAGING_LOCK: &str = "staging-archive";

/// `.staging-<label>-<pid>-<nanos>-<n>` or `.trash-<label>-<pid>-<nanos>-<n>` → the label.
fn leftover_label(file_name: &str) -> Option<&str> {
    let rest = file_name
        .strip_prefix(StagingKind::Staging.prefix())
        .or_else(|| file_name.strip_prefix(StagingKind::Trash.prefix()))?;
    rest.rsplitn(4, '-').nth(3)
}

/// The length of the `<pid>-<nanos>-<n>` at the end of a leftover's name.
fn suffix_len(file_name: &str) -> usize {
    file_name.rsplitn(4, '-').take(3).map(|p| p.len() + 1).sum::<usize>() - 1
}

/// Deletes a leftover tree; true if it is gone.
fn remove_tree(path: &Path) -> bool {
    match fs::remove_dir_all(path) {
        Ok(()) => true,
        Err(e) => e.kind() == io::ErrorKind::NotFound,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_suffixes_of_leftover_names() {
        assert_eq!(leftover_label(".staging-go1.22.10-4242-1f-0"), Some("go1.22.10"));
        assert_eq!(leftover_label(".trash-go1.20-rc-4242-2f-0"), Some("go1.20-rc"));
        assert_eq!(leftover_label(".staging-restore-77-af-3"), Some("restore"));
        assert_eq!(leftover_label(".staging-x"), None);
        assert_eq!(leftover_label("go1.22.10"), None);
        let name = ".staging-restore-77-af-3";
        assert_eq!(&name[name.len() - suffix_len(name)..], "77-af-3");
    }

    #[test]
    fn a_guarded_directory_survives_the_cleaner_until_its_guard_drops() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::at(tmp.path());
        store.ensure_layout().unwrap();
        let staging = store.staging("go1.22.10").unwrap();
        fs::write(staging.path().join("f"), "x").unwrap();
        assert_eq!(store.clean_leftovers(), 0);
        assert!(staging.path().is_dir());
        let path = staging.path().to_path_buf();
        drop(staging);
        assert!(!path.exists());
        assert_eq!(fs::read_dir(store.locks_dir()).unwrap().count(), 0);

        // A killed owner: its directory and its lock file, the lock free.
        let dead = store.toolchains_dir().join(".staging-go1.22.10-4242-1f-0");
        fs::create_dir_all(dead.join("bin")).unwrap();
        fs::write(store.locks_dir().join(".staging-go1.22.10-4242-1f-0.lock"), "").unwrap();
        // And an orphan lock file (killed between the lock and the directory).
        fs::write(store.locks_dir().join(".trash-go1.21-4242-2f-0.lock"), "").unwrap();
        assert_eq!(store.clean_leftovers(), 1);
        assert!(!dead.exists());
        assert_eq!(fs::read_dir(store.locks_dir()).unwrap().count(), 0);
    }
}
