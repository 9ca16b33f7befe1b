//! The store (`docs/store.md`): where toolchains, shims, the default and the
//! history live, and how they change: whole or not at all, under locks.

pub mod atomic;
pub mod events;
pub mod journal;
pub mod staging;
pub mod transaction;

use atomic::parse_unique_suffix;
pub use atomic::{WriteError, pid_is_gone, sync_dir, unique_suffix, write_atomic};

use std::fs::{self, File};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::resolve::MAX_NAME;
use crate::resolve::version::{self, Version};
pub use crate::resolve::version::{claimed_release, short};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The trust rule refused the store (the message names the path, what is wrong and the fix,
    /// in the same words as the shim's).
    #[error("{message}")]
    Untrusted { message: String, path: PathBuf },
    #[error("toolchain {name} is not installed; run: gomig install {short} (or gomig list to see what is)")]
    NotInstalled { name: String, short: String },
    #[error("{name:?} is not a valid toolchain name (expected a Go version such as go1.22.10)")]
    BadName { name: String },
    #[error(
        "the toolchain name {name:?} is {len} bytes long, over the limit of {max}; choose a shorter name (e.g. go1.22.10-mine)"
    )]
    NameTooLong { name: String, len: usize, max: usize },
    #[error(
        "the name {name} claims release {claimed}, but {tree} is {release} (its own go version); name it {release} or {release}-SUFFIX (e.g. {release}-mine)"
    )]
    ClaimsOtherRelease {
        name: String,
        claimed: String,
        release: String,
        tree: String,
    },
    #[error(
        "GOMIG_HOME {} is a {kind}, not a directory; set GOMIG_HOME to a directory (or move it away and gomig makes the store there)",
        crate::lookup::shown(path.as_os_str().as_encoded_bytes())
    )]
    HomeNotDirectory { path: PathBuf, kind: &'static str },
    #[error(transparent)]
    Write(#[from] WriteError),
    #[error("{action} {path}: {source}")]
    Io {
        action: &'static str,
        path: String,
        source: io::Error,
    },
}

pub type Result<T> = std::result::Result<T, StoreError>;

impl StoreError {
    /// A write failed because the disk is full.
    pub fn is_disk_full(&self) -> bool {
        match self {
            StoreError::Write(e) => e.is_disk_full(),
            StoreError::Io { source, .. } => source.raw_os_error() == Some(libc::ENOSPC),
            _ => false,
        }
    }
}

pub(crate) fn io_err<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> StoreError + 'a {
    move |source| StoreError::Io {
        action,
        path: path.display().to_string(),
        source,
    }
}

/// An installed (directory) or adopted (symlink) toolchain.
#[derive(Debug, Clone)]
pub struct Toolchain {
    pub name: String,
    /// `toolchains/<name>` in the store.
    pub path: PathBuf,
    /// For adopted toolchains, the GOROOT the link points to.
    pub adopted_from: Option<PathBuf>,
}

impl Toolchain {
    /// The tree itself: the adopted GOROOT, or the store directory.
    pub fn root(&self) -> &Path {
        self.adopted_from.as_deref().unwrap_or(&self.path)
    }
    pub fn is_present(&self) -> bool {
        self.root().join("bin/go").is_file()
    }
}

/// Validates a toolchain directory name: a Go version (optionally with a `-suffix`).
pub fn check_name(name: &str) -> Result<()> {
    if name.len() > MAX_NAME {
        return Err(StoreError::NameTooLong {
            name: name.to_string(),
            len: name.len(),
            max: MAX_NAME,
        });
    }
    if version::is_safe_name(name.as_bytes()) && Version::parse_go(name.as_bytes()).is_valid() {
        Ok(())
    } else {
        Err(StoreError::BadName { name: name.to_string() })
    }
}

/// A name chosen with `--name` may add a `-suffix` but must spell the tree's own release as the
/// resolver names it (`version` is what the tree reports: its VERSION file or `go version`),
/// so `.go-version` 1.22.12 can never run a go1.22.10 tree, and every name can be typed.
/// `tree` says where the tree is, for the message (`the tree at /usr/lib/go-1.22`).
pub fn check_name_for_tree(name: &str, version: &str, tree: &str) -> Result<()> {
    check_name(name)?;
    let word = version.split_whitespace().next().unwrap_or(version);
    let release = claimed_release(word);
    let mut buf = [0u8; MAX_NAME];
    let canonical = Version::parse_go(release.as_bytes())
        .write_canonical(&mut buf)
        .and_then(|n| std::str::from_utf8(&buf[..n]).ok())
        .unwrap_or(release);
    let claimed = claimed_release(name);
    if claimed == canonical {
        return Ok(());
    }
    Err(StoreError::ClaimsOtherRelease {
        name: name.to_string(),
        claimed: claimed.to_string(),
        release: canonical.to_string(),
        tree: tree.to_string(),
    })
}

pub struct Store {
    home: PathBuf,
}

impl Store {
    pub fn at(home: impl Into<PathBuf>) -> Store {
        Store { home: home.into() }
    }

    pub fn home(&self) -> &Path {
        &self.home
    }
    pub fn toolchains_dir(&self) -> PathBuf {
        self.home.join("toolchains")
    }
    pub fn toolchain_path(&self, name: &str) -> PathBuf {
        self.toolchains_dir().join(name)
    }
    pub fn manifests_dir(&self) -> PathBuf {
        self.home.join("manifests")
    }
    /// `manifests/<name>.manifest`: what the tree `name` contained when it was recorded.
    pub fn manifest_path(&self, name: &str) -> PathBuf {
        self.manifests_dir().join(format!("{name}.manifest"))
    }
    /// What `gomig prune` archived before removing it.
    pub fn archives_dir(&self) -> PathBuf {
        self.home.join("archives")
    }
    pub fn shims_dir(&self) -> PathBuf {
        self.home.join("shims")
    }
    pub fn default_link(&self) -> PathBuf {
        self.home.join("default")
    }
    pub fn state_dir(&self) -> PathBuf {
        self.home.join("state")
    }
    /// `state/pruned/<name>`: a link to the archive `gomig prune` made of `name`, which the
    /// resolver names when `go` asks for it again and `gomig install` restores from.
    pub fn pruned_link(&self, name: &str) -> PathBuf {
        self.home
            .join(std::ffi::OsStr::from_bytes(crate::resolve::PRUNED_DIR))
            .join(name)
    }
    /// The archive prune made of `name`, if it is still there and only you or root could have
    /// put it there (the resolver's rule, [`crate::resolve::pruned_archive`]).
    pub fn pruned_archive(&self, name: &str) -> Option<PathBuf> {
        let home = crate::resolve::sys::PathBuf::from_bytes(self.home.as_os_str().as_bytes())?;
        let mut target = crate::resolve::sys::PathBuf::default();
        crate::resolve::pruned_archive(&home, name.as_bytes(), &mut target)
            .then(|| PathBuf::from(std::ffi::OsStr::from_bytes(target.as_bytes())))
    }
    /// Creates `dir` (and what is missing above it) writable by its owner only, whatever the
    /// umask: for the store's own directories made after the layout (`archives/`,
    /// `state/pruned/`), which the trust rule would refuse to believe otherwise.
    pub fn create_private_dir(dir: &Path) -> io::Result<()> {
        use std::os::unix::fs::DirBuilderExt;
        fs::DirBuilder::new().recursive(true).mode(0o755).create(dir)
    }
    pub fn history_path(&self) -> PathBuf {
        self.state_dir().join("history")
    }
    /// `state/sumdb/<name>/latest`: the newest tree head of each checksum database seen.
    pub fn sumdb_dir(&self) -> PathBuf {
        self.state_dir().join("sumdb")
    }
    pub fn log_dir(&self) -> PathBuf {
        self.home.join("log")
    }
    pub fn cache_dir(&self) -> PathBuf {
        self.home.join("cache")
    }
    fn locks_dir(&self) -> PathBuf {
        self.state_dir().join("locks")
    }

    /// Creates the layout (owner-only writable) and refuses a store others can write.
    pub fn ensure_layout(&self) -> Result<()> {
        self.check_is_directory()?;
        for dir in [
            self.home.clone(),
            self.toolchains_dir(),
            self.manifests_dir(),
            self.shims_dir(),
            self.state_dir(),
            self.locks_dir(),
            self.log_dir(),
            self.cache_dir(),
        ] {
            if !dir.is_dir() {
                fs::create_dir_all(&dir).map_err(io_err("cannot create", &dir))?;
                fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).map_err(io_err("cannot chmod", &dir))?;
            }
        }
        self.check_permissions()
    }

    /// GOMIG_HOME naming a file (or a device...) is not a permission problem: say what it is.
    /// A store that does not exist yet is fine.
    fn check_is_directory(&self) -> Result<()> {
        match fs::metadata(&self.home) {
            Ok(m) if !m.is_dir() => Err(StoreError::HomeNotDirectory {
                path: self.home.clone(),
                kind: if m.is_file() { "file" } else { "special file" },
            }),
            _ => Ok(()),
        }
    }

    /// The trust rule (`resolve::trust`): GOMIG_HOME and every directory above it, `shims/`,
    /// `toolchains/`, `state/`, the default's toolchain and the config file must be yours (or
    /// root's) and not writable by group or others: whoever can write them decides what `go`
    /// runs. The same check the shim makes before it runs anything.
    pub fn check_permissions(&self) -> Result<()> {
        self.check_is_directory()?;
        crate::lookup::check_trust(&self.home).map_err(|f| StoreError::Untrusted {
            message: f.message,
            path: f.file,
        })
    }

    /// Installed and adopted toolchains, sorted by Go's version order (oldest first).
    pub fn toolchains(&self) -> Result<Vec<Toolchain>> {
        let dir = self.toolchains_dir();
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_err("cannot read", &dir)(e)),
        };
        let mut out = Vec::new();
        for entry in entries {
            let entry = entry.map_err(io_err("cannot read", &dir))?;
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            if name.starts_with('.') || check_name(&name).is_err() {
                continue;
            }
            out.push(self.toolchain_entry(name));
        }
        out.sort_by(|a, b| version::compare_go(a.name.as_bytes(), b.name.as_bytes()).then_with(|| a.name.cmp(&b.name)));
        Ok(out)
    }

    fn toolchain_entry(&self, name: String) -> Toolchain {
        let path = self.toolchain_path(&name);
        let adopted_from = fs::read_link(&path).ok().map(|t| {
            if t.is_absolute() {
                t
            } else {
                self.toolchains_dir().join(t)
            }
        });
        Toolchain {
            name,
            path,
            adopted_from,
        }
    }

    pub fn toolchain(&self, name: &str) -> Result<Toolchain> {
        check_name(name)?;
        let path = self.toolchain_path(name);
        if fs::symlink_metadata(&path).is_err() {
            return Err(StoreError::NotInstalled {
                name: name.to_string(),
                short: short(name).to_string(),
            });
        }
        Ok(self.toolchain_entry(name.to_string()))
    }

    /// The global default's toolchain name, if set.
    pub fn default_name(&self) -> Result<Option<String>> {
        let link = self.default_link();
        match fs::read_link(&link) {
            Ok(target) => Ok(target.file_name().and_then(|n| n.to_str()).map(str::to_string)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_err("cannot read", &link)(e)),
        }
    }

    /// Points `default` at `name` atomically: a new link is made beside it and renamed over it,
    /// so a concurrent `go` sees the old default or the new one, never none.
    /// Only the [`transaction`] calls this, under the store lock.
    pub(crate) fn set_default(&self, name: &str) -> Result<()> {
        check_name(name)?;
        let tmp = self.home.join(format!("{DEFAULT_TMP_PREFIX}{}", unique_suffix()));
        std::os::unix::fs::symlink(Path::new("toolchains").join(name), &tmp).map_err(io_err("cannot create", &tmp))?;
        let link = self.default_link();
        fs::rename(&tmp, &link).map_err(|e| {
            let _ = fs::remove_file(&tmp);
            io_err("cannot replace", &link)(e)
        })?;
        sync_dir(&self.home);
        Ok(())
    }

    /// Removes `.default.tmp-*` links left by a process killed between making one and renaming
    /// it over `default` (see [`Store::set_default`]), unless someone holds the store lock
    /// (a switch in progress makes its link under it). Returns how many were removed.
    pub fn clean_stale_default_links(&self) -> usize {
        let Ok(entries) = fs::read_dir(&self.home) else {
            return 0;
        };
        let stale: Vec<PathBuf> = entries
            .flatten()
            .filter(|e| {
                e.file_name()
                    .as_encoded_bytes()
                    .starts_with(DEFAULT_TMP_PREFIX.as_bytes())
            })
            .map(|e| e.path())
            .collect();
        if stale.is_empty() {
            return 0;
        }
        // Listed before locking: any link still there once the lock is ours is a dead one's.
        let Ok(Some(_lock)) = self.try_lock(STORE_LOCK) else {
            return 0;
        };
        stale.iter().filter(|p| fs::remove_file(p).is_ok()).count()
    }

    /// Removes the temporary files and links of killed gomig processes: `.NAME.tmp-<suffix>`
    /// (atomic writes, shims, the CLI link) and `.adopt-NAME-<suffix>` (an adoption's link),
    /// whose [`unique_suffix`] starts with the pid that made them. Only those of processes that
    /// are gone; directories and `.default.tmp-*` (see [`Store::clean_stale_default_links`]) are
    /// left alone. Returns how many were removed.
    pub fn clean_stale_temp_files(&self) -> usize {
        let dirs = [
            self.home.clone(),
            self.toolchains_dir(),
            self.manifests_dir(),
            self.shims_dir(),
            self.state_dir(),
            self.cache_dir(),
            self.archives_dir(),
            self.home.join(std::ffi::OsStr::from_bytes(crate::resolve::PRUNED_DIR)),
        ];
        let mut removed = 0;
        for dir in dirs {
            let Ok(entries) = fs::read_dir(&dir) else { continue };
            for e in entries.flatten() {
                let name = e.file_name();
                let name = name.as_encoded_bytes();
                // Only names of exactly these shapes, with a whole unique_suffix at the end.
                let suffix: Option<&[u8]> =
                    if name.starts_with(DEFAULT_TMP_PREFIX.as_bytes()) || !name.starts_with(b".") {
                        None
                    } else if let Some(rest) = name.strip_prefix(b".adopt-") {
                        // `.adopt-NAME-PID-NANOS-COUNTER`: the suffix starts after the third dash
                        // from the end.
                        let dashes: Vec<usize> = (0..rest.len()).filter(|&i| rest[i] == b'-').collect();
                        dashes.len().checked_sub(3).map(|i| &rest[dashes[i] + 1..])
                    } else {
                        // `.NAME.tmp-PID-NANOS-COUNTER`
                        name.windows(5).rposition(|w| w == b".tmp-").map(|at| &name[at + 5..])
                    };
                let pid = suffix.and_then(parse_unique_suffix);
                let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
                if let Some(pid) = pid
                    && !is_dir
                    && pid_is_gone(pid)
                    && fs::remove_file(e.path()).is_ok()
                {
                    removed += 1;
                }
            }
        }
        removed
    }

    /// `state/pending`: a switch or rollback in progress (see [`transaction`]).
    pub fn pending_path(&self) -> PathBuf {
        self.state_dir().join("pending")
    }

    /// Previous defaults, oldest first. While a switch or rollback is in progress (or was
    /// killed), the history that goes with the default actually in place.
    pub fn history(&self) -> Result<Vec<String>> {
        if let Ok(text) = fs::read(self.pending_path())
            && let Ok(pending) = serde_json::from_slice::<serde_json::Value>(&text)
        {
            let current = self.default_name()?;
            let list = |key: &str| -> Vec<String> {
                pending[key]
                    .as_array()
                    .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
                    .unwrap_or_default()
            };
            if current.as_deref() == pending["to"].as_str() {
                return Ok(list("history_after"));
            }
            if current.as_deref() == pending["from"].as_str() {
                return Ok(list("history_before"));
            }
        }
        self.read_history_file()
    }

    /// `state/history` as it is on disk.
    pub fn read_history_file(&self) -> Result<Vec<String>> {
        let path = self.history_path();
        match fs::read_to_string(&path) {
            Ok(text) => Ok(text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(io_err("cannot read", &path)(e)),
        }
    }

    /// Replaces the history file atomically. Callers hold the store lock, and pass what
    /// [`tidy_history`] made of the entries.
    pub fn write_history(&self, entries: &[String]) -> Result<()> {
        let mut text = entries.join("\n");
        if !text.is_empty() {
            text.push('\n');
        }
        Ok(write_atomic(&self.history_path(), text.as_bytes())?)
    }

    /// The rollback target: the newest history entry.
    pub fn rollback_target(&self) -> Result<Option<String>> {
        Ok(self.history()?.pop())
    }

    /// The store lock: held by every [`Transaction`](transaction::Transaction) for its whole life.
    pub fn lock_store(&self) -> Result<File> {
        self.lock(STORE_LOCK)
    }

    /// One lock file per toolchain (installs of one version wait for each other).
    pub fn lock_toolchain(&self, name: &str) -> Result<File> {
        check_name(name)?;
        self.lock(&format!("toolchain-{name}"))
    }

    /// The toolchain's lock if it is free right now (`None` if an install holds it).
    pub fn try_lock_toolchain(&self, name: &str) -> Result<Option<File>> {
        check_name(name)?;
        self.try_lock(&format!("toolchain-{name}"))
    }

    /// `locks/<what>.lock` if it is free right now.
    fn try_lock(&self, what: &str) -> Result<Option<File>> {
        let path = self.locks_dir().join(format!("{what}.lock"));
        fs::create_dir_all(self.locks_dir()).map_err(io_err("cannot create", &self.locks_dir()))?;
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io_err("cannot open", &path))?;
        match file.try_lock() {
            Ok(()) => Ok(Some(file)),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(e)) => Err(io_err("cannot lock", &path)(e)),
        }
    }

    fn lock(&self, what: &str) -> Result<File> {
        let dir = self.locks_dir();
        fs::create_dir_all(&dir).map_err(io_err("cannot create", &dir))?;
        let path = dir.join(format!("{what}.lock"));
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io_err("cannot open", &path))?;
        file.lock().map_err(io_err("cannot lock", &path))?;
        Ok(file)
    }
}

const STORE_LOCK: &str = "store";

/// The temporary link [`Store::set_default`] renames over `default`.
const DEFAULT_TMP_PREFIX: &str = ".default.tmp-";

/// How many previous defaults `state/history` keeps: the newest `HISTORY_LIMIT`, enough to roll
/// back through any realistic sequence of upgrades, and a file that never grows without bound.
pub const HISTORY_LIMIT: usize = 50;

/// The history as it is written, the one rule every write of `state/history` follows (a switch
/// or rollback's "after" history, a removal that drops a name): no two equal neighbours (rolling
/// back to the same toolchain twice in a row is one step), no entry equal to `default` at the top
/// (a rollback to the toolchain already in use would change nothing), and at most
/// [`HISTORY_LIMIT`] entries, the oldest dropped first.
pub fn tidy_history(entries: Vec<String>, default: Option<&str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(entries.len());
    for entry in entries {
        if out.last() != Some(&entry) {
            out.push(entry);
        }
    }
    while default.is_some() && out.last().map(String::as_str) == default {
        out.pop();
    }
    let excess = out.len().saturating_sub(HISTORY_LIMIT);
    out.drain(..excess);
    out
}

#[cfg(test)]
mod history_tests {
    use super::{HISTORY_LIMIT, tidy_history};

    fn names(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn tidy_history_drops_neighbours_the_default_at_the_top_and_the_oldest() {
        assert_eq!(tidy_history(names("a a b b a"), Some("c")), names("a b a"));
        // Rolling back to the toolchain already in use would change nothing.
        assert_eq!(tidy_history(names("a b c c"), Some("c")), names("a b"));
        assert_eq!(tidy_history(names("c a"), Some("c")), names("c a"));
        assert_eq!(tidy_history(names("a"), None), names("a"));
        let long: Vec<String> = (0..HISTORY_LIMIT + 7).map(|i| format!("go1.{i}.0")).collect();
        let kept = tidy_history(long.clone(), None);
        assert_eq!(kept, long[7..], "the newest {HISTORY_LIMIT} are kept");
    }
}
