//! The check's private build cache (`GOMIG_HOME/cache/check-gocache`), kept bounded.
//!
//! It holds Go's build cache (`00/` .. `ff/`, one file per entry; Go refreshes an entry's mtime
//! when it uses one that is more than an hour old) and, beside it, the directories gomig keeps
//! between checks (`gomig-testbins/*`, `gomig-probe/*`, each locked by its `.lock`, whose mtime
//! is its last use). After a check, [`trim`] removes what is older than the age limit and then,
//! oldest first, what is over the size limit. Every check holds a shared lock on the cache's
//! [`LOCK`] for its whole run; trimming and clearing take it exclusively and never wait: while a
//! check runs, the trim is skipped (the check that ends last trims) and `gomig cache clear`
//! refuses.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::Serialize;

/// The lock file in the cache directory.
pub const LOCK: &str = ".gomig-check.lock";

/// The directories kept between checks, beside Go's own entries.
const KEPT_KINDS: &[&str] = &["gomig-testbins", "gomig-probe"];

/// How large and how old the cache may grow (config.toml's `[check_cache]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Limits {
    pub max_size: u64,
    pub max_age: Duration,
}

pub const DEFAULT_MAX_SIZE: u64 = 2 << 30;
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(30 * 24 * 3600);

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_size: DEFAULT_MAX_SIZE,
            max_age: DEFAULT_MAX_AGE,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("a gomig check is using the cache {path} now; run this again when it has finished")]
    Busy { path: String },
    #[error("cannot {what} {path}: {source}")]
    Io {
        what: &'static str,
        path: String,
        source: io::Error,
    },
}

fn io_err<'a>(what: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> CacheError + 'a {
    move |source| CacheError::Io {
        what,
        path: path.display().to_string(),
        source,
    }
}

/// What a trim did.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Trimmed {
    /// A check held the cache: nothing was looked at.
    pub busy: bool,
    pub removed_entries: usize,
    pub removed_bytes: u64,
    /// The size left.
    pub bytes: u64,
}

fn open_lock(gocache: &Path) -> io::Result<File> {
    File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(gocache.join(LOCK))
}

/// The shared lock a check holds on its cache for its whole run.
pub fn hold(gocache: &Path) -> io::Result<File> {
    let file = open_lock(gocache)?;
    file.lock_shared()?;
    Ok(file)
}

/// The exclusive lock, if no check holds the cache. `Ok(None)`: busy.
fn take(gocache: &Path) -> Result<Option<File>, CacheError> {
    let file = open_lock(gocache).map_err(io_err("open the lock", &gocache.join(LOCK)))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(fs::TryLockError::WouldBlock) => Ok(None),
        Err(fs::TryLockError::Error(e)) => Err(io_err("lock", &gocache.join(LOCK))(e)),
    }
}

/// One thing the trim can remove: a Go cache entry or a kept directory.
struct Unit {
    path: PathBuf,
    bytes: u64,
    used: SystemTime,
    /// A kept directory: removed only if its own lock is free.
    kept: bool,
}

fn units(gocache: &Path) -> Vec<Unit> {
    let mut out = Vec::new();
    let Ok(entries) = fs::read_dir(gocache) else { return out };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let path = e.path();
        let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
        if is_dir && name.len() == 2 && name.bytes().all(|b| b.is_ascii_hexdigit()) {
            for f in fs::read_dir(&path).into_iter().flatten().flatten() {
                if let Ok(m) = f.metadata()
                    && m.is_file()
                {
                    out.push(Unit {
                        path: f.path(),
                        bytes: m.len(),
                        used: m.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                        kept: false,
                    });
                }
            }
        } else if is_dir && KEPT_KINDS.contains(&name.as_str()) {
            for d in fs::read_dir(&path).into_iter().flatten().flatten() {
                let dir = d.path();
                if !d.file_type().is_ok_and(|t| t.is_dir()) {
                    continue;
                }
                let used = fs::metadata(dir.join(".lock"))
                    .or_else(|_| fs::metadata(&dir))
                    .and_then(|m| m.modified())
                    .unwrap_or(SystemTime::UNIX_EPOCH);
                out.push(Unit {
                    bytes: size_of(&dir),
                    path: dir,
                    used,
                    kept: true,
                });
            }
        }
    }
    out
}

fn remove(unit: &Unit) -> bool {
    if !unit.kept {
        return fs::remove_file(&unit.path).is_ok();
    }
    match File::options().write(true).open(unit.path.join(".lock")) {
        Ok(lock) if lock.try_lock().is_ok() => fs::remove_dir_all(&unit.path).is_ok(),
        Ok(_) => false,
        Err(e) if e.kind() == io::ErrorKind::NotFound => fs::remove_dir_all(&unit.path).is_ok(),
        Err(_) => false,
    }
}

/// Removes what is older than `limits.max_age`, then the least recently used until the cache
/// is within `limits.max_size`; nothing while a check holds it.
pub fn trim(gocache: &Path, limits: Limits) -> Result<Trimmed, CacheError> {
    if !gocache.is_dir() {
        return Ok(Trimmed::default());
    }
    let Some(_lock) = take(gocache)? else {
        return Ok(Trimmed {
            busy: true,
            bytes: size_of(gocache),
            ..Trimmed::default()
        });
    };
    let mut units = units(gocache);
    units.sort_by_key(|u| u.used);
    let now = SystemTime::now();
    // Everything counts, Go's README and trim.txt too, though only units can go.
    let mut total = size_of(gocache);
    let mut done = Trimmed::default();
    for unit in &units {
        let too_old = now.duration_since(unit.used).is_ok_and(|age| age > limits.max_age);
        if !too_old && total <= limits.max_size {
            break;
        }
        if remove(unit) {
            total = total.saturating_sub(unit.bytes);
            done.removed_entries += 1;
            done.removed_bytes += unit.bytes;
        }
    }
    done.bytes = size_of(gocache);
    Ok(done)
}

/// Empties the cache (its lock file stays); the bytes freed. Refuses while a check holds it.
pub fn clear(gocache: &Path) -> Result<u64, CacheError> {
    if !gocache.is_dir() {
        return Ok(0);
    }
    let Some(_lock) = take(gocache)? else {
        return Err(CacheError::Busy {
            path: gocache.display().to_string(),
        });
    };
    let before = size_of(gocache);
    for e in fs::read_dir(gocache).map_err(io_err("read", gocache))?.flatten() {
        if e.file_name() == LOCK {
            continue;
        }
        let path = e.path();
        let removed = if e.file_type().is_ok_and(|t| t.is_dir()) {
            fs::remove_dir_all(&path)
        } else {
            fs::remove_file(&path)
        };
        match removed {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            // Go makes its cache read-only in places (the module cache without -modcacherw is
            // not here, but a test may have done the same): make it writable and try again.
            Err(_) => {
                make_writable(&path);
                let again = if path.is_dir() {
                    fs::remove_dir_all(&path)
                } else {
                    fs::remove_file(&path)
                };
                again.map_err(io_err("remove", &path))?;
            }
        }
    }
    Ok(before.saturating_sub(size_of(gocache)))
}

fn make_writable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(m) = fs::symlink_metadata(path)
        && m.is_dir()
    {
        let _ = fs::set_permissions(path, fs::Permissions::from_mode(m.permissions().mode() | 0o700));
        for e in fs::read_dir(path).into_iter().flatten().flatten() {
            make_writable(&e.path());
        }
    }
}

/// The bytes of the files under `path` (not following links).
pub fn size_of(path: &Path) -> u64 {
    let Ok(m) = fs::symlink_metadata(path) else { return 0 };
    if !m.is_dir() {
        return m.len();
    }
    fs::read_dir(path)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| size_of(&e.path()))
        .sum()
}

/// `2GiB`, `512 MiB`, `500MB`, `1G`, `1048576`: a size in bytes (K, M, G, T alone are binary).
pub fn parse_size(text: &str) -> Option<u64> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let number: f64 = number.parse().ok()?;
    let scale: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" => 1 << 10,
        "m" | "mib" => 1 << 20,
        "g" | "gib" => 1 << 30,
        "t" | "tib" => 1 << 40,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        "tb" => 1_000_000_000_000,
        _ => return None,
    };
    let bytes = number * scale as f64;
    (bytes.is_finite() && bytes >= 0.0).then_some(bytes as u64)
}

/// `1.5 GiB`, `312 KiB`, `17 B`.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if value < 10.0 {
        format!("{value:.1} {}", UNITS[unit])
    } else {
        format!("{value:.0} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(cache: &Path, name: &str, bytes: usize, age: Duration) -> PathBuf {
        let path = cache.join(&name[..2]).join(name);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, vec![0u8; bytes]).unwrap();
        File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(SystemTime::now() - age)
            .unwrap();
        path
    }

    const DAY: Duration = Duration::from_secs(24 * 3600);

    #[test]
    fn sizes_parse_with_binary_and_decimal_units() {
        assert_eq!(parse_size("2GiB"), Some(2 << 30));
        assert_eq!(parse_size("512 MiB"), Some(512 << 20));
        assert_eq!(parse_size("500MB"), Some(500_000_000));
        assert_eq!(parse_size("1G"), Some(1 << 30));
        assert_eq!(parse_size("1048576"), Some(1 << 20));
        assert_eq!(parse_size("1.5k"), Some(1536));
        assert_eq!(parse_size("two"), None);
        assert_eq!(parse_size("5 parsecs"), None);
        assert_eq!(human_size(2 << 30), "2.0 GiB");
        assert_eq!(human_size(17), "17 B");
    }

    /// Sleeps 25 ms; always true (for retry loops).
    fn sleep_a_little() -> bool {
        std::thread::sleep(Duration::from_millis(25));
        true
    }

    #[test]
    fn the_trim_removes_old_entries_then_the_least_recently_used_and_waits_for_no_check() {
        let tmp = tempfile::tempdir().unwrap();
        let cache = tmp.path();
        let old = entry(cache, "aa-old-d", 100, 40 * DAY);
        let older_used = entry(cache, "bb-lru-d", 300, 3 * DAY);
        let recent = entry(cache, "cc-new-d", 300, Duration::ZERO);
        fs::write(cache.join("README"), "go's").unwrap();
        // A kept directory last used 2 days ago, and one in use now (its lock held).
        let kept = cache.join("gomig-testbins/go1.22.10-1");
        fs::create_dir_all(&kept).unwrap();
        fs::write(kept.join("m.test"), vec![0u8; 200]).unwrap();
        let lock = File::create(kept.join(".lock")).unwrap();
        lock.set_modified(SystemTime::now() - 2 * DAY).unwrap();
        let busy = cache.join("gomig-probe/go1.23.9");
        fs::create_dir_all(&busy).unwrap();
        fs::write(busy.join("probe"), vec![0u8; 500]).unwrap();
        let busy_lock = File::create(busy.join(".lock")).unwrap();
        busy_lock.set_modified(SystemTime::now() - 50 * DAY).unwrap();
        busy_lock.lock().unwrap();

        // While a check holds the cache, nothing goes.
        let check = hold(cache).unwrap();
        let t = trim(
            cache,
            Limits {
                max_size: 0,
                max_age: DAY,
            },
        )
        .unwrap();
        assert!(t.busy);
        assert!(old.exists() && recent.exists());
        assert!(matches!(clear(cache), Err(CacheError::Busy { .. })));
        drop(check);

        // 1404 bytes: four of them Go's README, which counts but is never removed.
        let limits = Limits {
            max_size: 1010,
            max_age: 30 * DAY,
        };
        // Another test of this process that forks meanwhile holds a copy of the lock's
        // descriptor until its child execs: wait for the lock rather than fail on that.
        let t = (0..200)
            .map(|_| trim(cache, limits).unwrap())
            .find(|t| !t.busy || !sleep_a_little())
            .unwrap();
        assert!(!t.busy);
        // The 40-day-old entry goes for its age (the locked one stays), then the least
        // recently used (bb, 3 days) until 1010 is not exceeded.
        assert!(!old.exists(), "older than max_age");
        assert!(!older_used.exists(), "least recently used, over max_size");
        assert!(recent.exists() && kept.join("m.test").exists());
        assert!(busy.join("probe").exists(), "a kept directory in use is never removed");
        assert!(cache.join("README").exists());
        assert_eq!(t.removed_entries, 2);
        assert_eq!(t.removed_bytes, 400);

        drop(busy_lock);
        let cleared = (0..200)
            .find_map(|_| match clear(cache) {
                Err(CacheError::Busy { .. }) => {
                    sleep_a_little();
                    None
                }
                other => Some(other.unwrap()),
            })
            .expect("the cache lock is free again");
        assert!(cleared > 0);
        let left: Vec<_> = fs::read_dir(cache).unwrap().flatten().map(|e| e.file_name()).collect();
        assert_eq!(left, vec![std::ffi::OsString::from(LOCK)]);
    }
}
