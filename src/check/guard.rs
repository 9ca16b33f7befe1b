//! Nothing a check starts outlives it.
//!
//! Every process a check starts (`go vet`, `go test`, `go build`, test2json, the probe) runs in
//! one process group of its own, and that group is held by a **watchdog**: a process forked
//! from gomig when the sandbox is made, which leads the group and blocks reading a pipe whose
//! only writer is gomig. However gomig ends (a normal return, an error, a panic, SIGINT, SIGTERM
//! or `kill -9`), the pipe's write end closes, the watchdog reads end-of-file and sends SIGKILL to
//! the whole group, itself included: `go test`, the compilers and vet tools it started, the test
//! binaries and anything they started. Because the watchdog holds the group, its id is never
//! reused for another process while a check runs.
//!
//! Besides, each child gets `PR_SET_PDEATHSIG` = SIGKILL in `pre_exec`. That signal is sent when
//! the *thread* that forked the child ends, not the process; every child of a check is spawned
//! and waited for by the same thread (the check's two worker threads, which outlive their
//! children), so it only fires when gomig itself dies — and then the watchdog ends the rest.
//!
//! Children in their own group do not get the terminal's Ctrl-C. gomig's one interrupt handler
//! (`src/interrupt.rs`, SIGINT, SIGTERM and SIGHUP) calls [`on_interrupt`] before it exits: no new
//! process joins a check from then on, the registered groups are killed and the registered
//! sandbox directories removed.
//!
//! A sandbox directory a killed gomig left (`$TMPDIR/gomig-check-<pid>-...`) is removed by the
//! next check: each is guarded by an flock on `<dir>.lock`, taken before the directory exists
//! and held for its whole life, as `store/staging.rs` guards staging directories.

use std::fs::{self, File};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

use crate::store::atomic::{parse_unique_suffix, pid_is_gone};

/// The leader of a check's process group (see the module doc).
pub struct Watchdog {
    pid: libc::pid_t,
    /// The write end of the pipe the watchdog reads; closing it ends the group.
    pipe: Option<OwnedFd>,
}

impl Watchdog {
    pub fn start() -> io::Result<Watchdog> {
        let mut fds = [0; 2];
        // SAFETY: pipe2 fills two descriptors; close-on-exec, so no child inherits the write end.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: both descriptors are fresh and ours.
        let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        // SAFETY: the child only makes async-signal-safe system calls (setpgid, dup2, close,
        // read, kill, _exit) and never returns into Rust code.
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            return Err(io::Error::last_os_error());
        }
        if pid == 0 {
            unsafe { watchdog_main(read.as_raw_fd(), write.as_raw_fd()) }
        }
        drop(read);
        // Also from this side, so that the group exists before the first child joins it.
        // SAFETY: plain system call on our own child.
        unsafe { libc::setpgid(pid, pid) };
        let dog = Watchdog { pid, pipe: Some(write) };
        register_group(pid);
        Ok(dog)
    }

    /// The process group every child of the check joins.
    #[cfg(test)]
    pub fn pgid(&self) -> libc::pid_t {
        self.pid
    }

    /// Makes `cmd` join the group and die with gomig (see the module doc).
    pub fn guard(&self, cmd: &mut Command) {
        let pgid = self.pid;
        // SAFETY: getpid is async-signal-safe; the closure only makes such calls.
        let parent = unsafe { libc::getpid() };
        // SAFETY: setpgid, prctl, getppid and kill are async-signal-safe.
        unsafe {
            cmd.pre_exec(move || {
                // gomig is being interrupted: nothing new starts (the child sees the flag as it
                // was at the fork).
                if STOPPING.load(Ordering::SeqCst) {
                    return Err(io::Error::from_raw_os_error(libc::ECANCELED));
                }
                if libc::setpgid(0, pgid) != 0 {
                    return Err(io::Error::last_os_error());
                }
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong, 0, 0, 0) != 0 {
                    return Err(io::Error::last_os_error());
                }
                // gomig died between the fork and the prctl: no signal would come.
                if libc::getppid() != parent {
                    libc::kill(libc::getpid(), libc::SIGKILL);
                }
                Ok(())
            });
        }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        // gomig is being interrupted: the interrupt handler removes the sandbox and exits. Wait
        // for that (bounded) rather than report the children it killed as the check's result.
        if STOPPING.load(Ordering::SeqCst) {
            for _ in 0..250 {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        }
        unregister_group(self.pid);
        // Whatever is still in the group (a test's stray background process) ends with it.
        // SAFETY: the group is ours while the watchdog, its leader, is unreaped.
        unsafe { libc::kill(-self.pid, libc::SIGKILL) };
        drop(self.pipe.take());
        let mut status = 0;
        // SAFETY: reaps our own child.
        unsafe { libc::waitpid(self.pid, &mut status, 0) };
    }
}

/// The watchdog's whole life: lead a group, wait for the pipe to close, kill the group.
unsafe fn watchdog_main(read: libc::c_int, write: libc::c_int) -> ! {
    unsafe {
        libc::setpgid(0, 0);
        // Not gomig's terminal signals: it ends when gomig does, through the pipe.
        libc::signal(libc::SIGINT, libc::SIG_IGN);
        libc::signal(libc::SIGHUP, libc::SIG_IGN);
        libc::close(write);
        // Only the pipe, on stdin: no copy of gomig's stdout, pipes or locks is kept open.
        libc::dup2(read, 0);
        if libc::syscall(libc::SYS_close_range, 1u32, u32::MAX, 0u32) != 0 {
            for fd in 1..4096 {
                libc::close(fd);
            }
        }
        let mut buf = [0u8; 64];
        loop {
            let n = libc::read(0, buf.as_mut_ptr().cast(), buf.len());
            if n == 0 || (n < 0 && *libc::__errno_location() != libc::EINTR) {
                break;
            }
        }
        libc::kill(0, libc::SIGKILL);
        libc::_exit(0)
    }
}

// The groups and sandbox directories of the checks running now, for [`on_interrupt`].
const SLOTS: usize = 16;
static GROUPS: [AtomicI32; SLOTS] = [const { AtomicI32::new(0) }; SLOTS];
static DIRS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
/// Set by [`on_interrupt`]: no new process joins a check.
static STOPPING: AtomicBool = AtomicBool::new(false);

fn register_group(pgid: libc::pid_t) {
    for slot in &GROUPS {
        if slot
            .compare_exchange(0, pgid, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            return;
        }
    }
    // More than SLOTS checks at once in one process: the watchdog still ends the group.
}

fn unregister_group(pgid: libc::pid_t) {
    for slot in &GROUPS {
        let _ = slot.compare_exchange(pgid, 0, Ordering::SeqCst, Ordering::SeqCst);
    }
}

/// A sandbox directory to remove if gomig is interrupted.
pub fn register_dir(dir: &Path) {
    DIRS.lock().unwrap_or_else(|e| e.into_inner()).push(dir.to_path_buf());
}

pub fn unregister_dir(dir: &Path) {
    DIRS.lock().unwrap_or_else(|e| e.into_inner()).retain(|d| d != dir);
}

fn kill_groups() {
    for slot in &GROUPS {
        let pgid = slot.load(Ordering::SeqCst);
        if pgid > 0 {
            // SAFETY: signals a group this process leads through its watchdog.
            unsafe { libc::kill(-pgid, libc::SIGKILL) };
        }
    }
}

/// gomig is interrupted and about to exit: ends every running check's processes and removes
/// their sandboxes; returns the directories removed.
pub fn on_interrupt() -> Vec<PathBuf> {
    STOPPING.store(true, Ordering::SeqCst);
    // A process forked just before the flag was set may still be writing in a sandbox: end the
    // groups again and retry until the directories are gone (for two seconds at most).
    let dirs: Vec<PathBuf> = DIRS.lock().unwrap_or_else(|e| e.into_inner()).drain(..).collect();
    let mut removed = Vec::new();
    for _ in 0..100 {
        kill_groups();
        removed = dirs
            .iter()
            .filter(|d| fs::remove_dir_all(d).is_ok() || !d.exists())
            .cloned()
            .collect();
        if removed.len() == dirs.len() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    for dir in &removed {
        let _ = fs::remove_file(lock_path_of(dir));
    }
    removed
}

/// `<dir>.lock`: the lock file that guards a sandbox directory.
pub fn lock_path_of(dir: &Path) -> PathBuf {
    let mut name = dir.file_name().unwrap_or_default().to_os_string();
    name.push(".lock");
    dir.with_file_name(name)
}

/// Takes the lock of a fresh `<parent>/<prefix>-<pid>-<nanos>-<n>` (before the directory
/// exists; the same inode check as the store's staging guard).
pub fn reserve(parent: &Path, prefix: &str) -> io::Result<(PathBuf, File)> {
    loop {
        let dir = parent.join(format!("{prefix}-{}", crate::store::unique_suffix()));
        let lock_path = lock_path_of(&dir);
        let file = File::options().create_new(true).write(true).open(&lock_path)?;
        file.lock()?;
        let same = match (file.metadata(), fs::metadata(&lock_path)) {
            (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            _ => false,
        };
        if same {
            return Ok((dir, file));
        }
    }
}

/// Removes the `<prefix>-*` sandbox directories in `parent` whose creator is gone: their lock
/// is free (or, made by an older gomig without a lock file, the pid in their name is gone), and
/// lock files left without a directory by a creator that is gone. Only directories of this user,
/// never through a link. Returns how many directories were removed.
pub fn clean_leftovers(parent: &Path, prefix: &str) -> usize {
    let Ok(entries) = fs::read_dir(parent) else { return 0 };
    // SAFETY: geteuid cannot fail.
    let me = unsafe { libc::geteuid() };
    let start = format!("{prefix}-");
    let mut removed = 0;
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix(&start) else {
            continue;
        };
        let (suffix, is_lock) = match rest.strip_suffix(".lock") {
            Some(s) => (s, true),
            None => (rest, false),
        };
        let Some(pid) = parse_unique_suffix(suffix.as_bytes()) else {
            continue;
        };
        let path = e.path();
        let Ok(meta) = fs::symlink_metadata(&path) else {
            continue;
        };
        if meta.uid() != me {
            continue;
        }
        if is_lock {
            // A lock file without its directory: a kill between the two.
            let dir = path.with_file_name(format!("{start}{suffix}"));
            if meta.is_file()
                && fs::symlink_metadata(&dir).is_err()
                && pid_is_gone(pid)
                && File::options()
                    .write(true)
                    .open(&path)
                    .is_ok_and(|f| f.try_lock().is_ok())
            {
                let _ = fs::remove_file(&path);
            }
            continue;
        }
        if !meta.is_dir() {
            continue;
        }
        let lock_path = lock_path_of(&path);
        let free = match File::options().write(true).open(&lock_path) {
            Ok(file) => match file.try_lock() {
                Ok(()) => {
                    let gone = fs::remove_dir_all(&path).is_ok() || !path.exists();
                    if gone {
                        let _ = fs::remove_file(&lock_path);
                        removed += 1;
                    }
                    continue;
                }
                Err(_) => false,
            },
            Err(e) if e.kind() == io::ErrorKind::NotFound => pid_is_gone(pid),
            Err(_) => false,
        };
        if free && fs::remove_dir_all(&path).is_ok() {
            removed += 1;
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sandboxes_whose_creator_is_gone_are_removed_and_held_ones_kept() {
        let tmp = tempfile::tempdir().unwrap();
        let (held, lock) = reserve(tmp.path(), "gomig-check").unwrap();
        fs::create_dir(&held).unwrap();
        // A killed creator: its directory and its lock file, the lock free.
        let dead = tmp.path().join("gomig-check-999999999-1f-0");
        fs::create_dir_all(dead.join("b001")).unwrap();
        fs::write(lock_path_of(&dead), "").unwrap();
        // An older gomig's, without a lock file, its pid gone; and one whose pid lives.
        let old = tmp.path().join("gomig-check-999999998-2f-0");
        fs::create_dir(&old).unwrap();
        let alive = tmp.path().join(format!("gomig-check-{}-3f-0", std::process::id()));
        fs::create_dir(&alive).unwrap();
        // A lock file without a directory, its pid gone.
        let orphan = tmp.path().join("gomig-check-999999997-4f-0.lock");
        fs::write(&orphan, "").unwrap();

        assert_eq!(clean_leftovers(tmp.path(), "gomig-check"), 2);
        assert!(held.is_dir() && lock_path_of(&held).is_file());
        assert!(!dead.exists() && !lock_path_of(&dead).exists());
        assert!(!old.exists());
        assert!(alive.is_dir());
        assert!(!orphan.exists());
        drop(lock);
    }

    #[test]
    fn the_watchdog_ends_its_group_when_dropped() {
        let dog = Watchdog::start().unwrap();
        let mut cmd = Command::new("sleep");
        cmd.arg("30");
        dog.guard(&mut cmd);
        let mut child = cmd.spawn().unwrap();
        // SAFETY: getpgid on our own child.
        assert_eq!(unsafe { libc::getpgid(child.id() as libc::pid_t) }, dog.pgid());
        drop(dog);
        let status = child.wait().unwrap();
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(libc::SIGKILL));
    }
}
