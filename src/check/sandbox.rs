//! The environment `gomig check` runs Go in: each toolchain with its own GOROOT and
//! `GOTOOLCHAIN=local` (so neither can hand off to another Go), a GOCACHE that is not the user's
//! unless asked, a private GOTMPDIR removed afterwards; GOFLAGS and everything else as given.
//! (Whether the user's own `GOTOOLCHAIN` would make B hand off is the probe's question: see
//! `probe.rs`.)

use std::ffi::OsString;
use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};

use serde::Serialize;

use super::CheckError;
use super::cache;
use super::guard::{self, Watchdog};

/// One side of the comparison: a toolchain and what it should report itself as.
#[derive(Debug, Clone, Serialize)]
pub struct Side {
    /// How the report names it (`go1.22.10`, or `system`).
    pub label: String,
    pub goroot: PathBuf,
    /// What `runtime.Version()` must say (`go1.23.9`).
    pub expected_version: String,
    /// What `runtime.GOOS`/`GOARCH` must say.
    pub expected_goos: String,
    pub expected_goarch: String,
}

impl Side {
    /// A toolchain at `goroot`. The expected version is the recorded manifest's when there is one
    /// (what the tree was when gomig recorded it), else the tree's VERSION file, else `label`.
    pub fn new(label: &str, goroot: &Path, recorded: Option<&crate::integrity::manifest::Header>) -> Side {
        let (os, arch) = crate::integrity::manifest::host_platform();
        let version_file = fs::read_to_string(goroot.join("VERSION"))
            .ok()
            .and_then(|t| t.lines().next().map(|l| l.trim().to_string()))
            .filter(|l| l.starts_with("go"));
        Side {
            label: label.to_string(),
            goroot: goroot.to_path_buf(),
            expected_version: recorded
                .map(|h| h.go_version.clone())
                .or(version_file)
                .unwrap_or_else(|| label.to_string()),
            expected_goos: recorded.map_or(os.to_string(), |h| h.goos.clone()),
            expected_goarch: recorded.map_or(arch.to_string(), |h| h.goarch.clone()),
        }
    }

    pub fn go(&self) -> PathBuf {
        self.goroot.join("bin/go")
    }
}

/// A directory removed when dropped, guarded by the lock `<dir>.lock` that its creator holds
/// for its whole life (so the next check removes it if its creator was killed: see guard.rs).
pub struct TempDir {
    path: PathBuf,
    _lock: fs::File,
}

impl TempDir {
    pub fn new(prefix: &str) -> std::io::Result<TempDir> {
        let parent = std::env::temp_dir();
        guard::clean_leftovers(&parent, prefix);
        let (path, lock) = guard::reserve(&parent, prefix)?;
        let made = fs::create_dir(&path).and_then(|()| fs::set_permissions(&path, fs::Permissions::from_mode(0o700)));
        if let Err(e) = made {
            let _ = fs::remove_dir(&path);
            let _ = fs::remove_file(guard::lock_path_of(&path));
            return Err(e);
        }
        guard::register_dir(&path);
        Ok(TempDir { path, _lock: lock })
    }
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        guard::unregister_dir(&self.path);
        let _ = fs::remove_dir_all(&self.path);
        // The directory is gone before its lock file is (see guard::clean_leftovers).
        let _ = fs::remove_file(guard::lock_path_of(&self.path));
    }
}

pub struct Sandbox {
    /// First, so that it is dropped first: whatever a check left running ends before its
    /// directory is removed.
    watchdog: Watchdog,
    pub gocache: PathBuf,
    pub tmp: TempDir,
    /// A shared lock on the build cache, so that it is never trimmed or cleared under a check.
    _cache_hold: fs::File,
    /// The project's module directory and each toolchain's private copy of its go.mod, passed
    /// as `-modfile` (see project.rs); empty in workspace mode.
    project: PathBuf,
    modfiles: Vec<(PathBuf, PathBuf)>,
}

impl Sandbox {
    pub fn new(gocache: &Path) -> Result<Sandbox, CheckError> {
        fs::create_dir_all(gocache).map_err(|source| CheckError::Setup {
            what: format!("cannot create the build cache {}", gocache.display()),
            source,
        })?;
        let cache_hold = cache::hold(gocache).map_err(|source| CheckError::Setup {
            what: format!(
                "cannot lock the build cache {} (file {})",
                gocache.display(),
                gocache.join(cache::LOCK).display()
            ),
            source,
        })?;
        let tmp = TempDir::new("gomig-check").map_err(|source| CheckError::Setup {
            what: format!(
                "cannot create a temporary directory in {} (set TMPDIR to a writable directory)",
                std::env::temp_dir().display()
            ),
            source,
        })?;
        let watchdog = Watchdog::start().map_err(|source| CheckError::Setup {
            what: "cannot start the process that ends the check's processes with it".into(),
            source,
        })?;
        Ok(Sandbox {
            watchdog,
            gocache: gocache.to_path_buf(),
            tmp,
            _cache_hold: cache_hold,
            project: PathBuf::new(),
            modfiles: Vec::new(),
        })
    }

    /// From now on, `go test`, `vet`, `build` and `list` in `project` with each toolchain read
    /// and write that toolchain's own copy of go.mod (`-modfile`), never the project's.
    pub fn use_modfiles(&mut self, project: &Path, modfiles: Vec<(PathBuf, PathBuf)>) {
        self.project = project.to_path_buf();
        self.modfiles = modfiles;
    }

    /// Makes `cmd` a process of this check: in its process group, ended with gomig.
    pub fn guard(&self, cmd: &mut Command) {
        self.watchdog.guard(cmd);
    }

    /// A directory kept beside the build cache between checks, `<gocache>/<kind>/<side label>[-<key>]`,
    /// created and locked (the lock is `<dir>/.lock`, held while the returned file lives), so two
    /// checks take turns on what is in it.
    pub fn kept_dir(&self, kind: &str, side: &Side, key: Option<u64>) -> std::io::Result<(PathBuf, fs::File)> {
        let label: String = side
            .label
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || ".-_".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let name = match key {
            Some(k) => format!("{label}-{k:016x}"),
            None => label,
        };
        let dir = self.gocache.join(kind).join(name);
        fs::create_dir_all(&dir)?;
        let lock = fs::File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join(".lock"))?;
        lock.lock()?;
        // Marks it used now: the cache trim removes what was not used for longest (cache.rs).
        let _ = lock.set_modified(std::time::SystemTime::now());
        Ok((dir, lock))
    }

    /// `go ARGS` with `side`, run in `dir`.
    pub fn go(&self, side: &Side, dir: &Path, args: &[&str]) -> Command {
        let mut cmd = Command::new(side.go());
        let modfile = self
            .modfiles
            .iter()
            .find(|(goroot, _)| *goroot == side.goroot)
            .filter(|_| dir == self.project)
            .filter(|_| matches!(args.first(), Some(&("test" | "vet" | "build" | "list"))));
        match (modfile, args.split_first()) {
            (Some((_, file)), Some((verb, rest))) => {
                let mut flag = OsString::from("-modfile=");
                flag.push(file);
                cmd.arg(verb).arg(flag).args(rest)
            }
            _ => cmd.args(args),
        };
        self.guard(&mut cmd);
        cmd.current_dir(dir)
            .env("GOROOT", &side.goroot)
            .env("GOTOOLCHAIN", "local")
            .env("GOCACHE", &self.gocache)
            .env("GOTMPDIR", self.tmp.path())
            // Tests that run `go` themselves must get this toolchain, not the shim's choice.
            .env("PATH", path_with(&side.goroot.join("bin")))
            .env("PWD", dir)
            .env_remove("GOMIG_GO_VERSION")
            .stdin(Stdio::null());
        cmd
    }
}

fn path_with(bin: &Path) -> OsString {
    let mut path = OsString::from(bin.as_os_str());
    if let Some(old) = std::env::var_os("PATH").filter(|p| !p.is_empty()) {
        path.push(":");
        path.push(old);
    }
    path
}

/// What a finished command left.
pub struct Finished {
    pub status: ExitStatus,
    pub stderr: String,
}

/// Runs `cmd`, handing each stdout line to `on_line` as it arrives; stderr is collected.
pub fn stream(mut cmd: Command, what: &str, mut on_line: impl FnMut(&str)) -> Result<Finished, CheckError> {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let program = cmd.get_program().to_string_lossy().into_owned();
    let mut child = cmd.spawn().map_err(|source| CheckError::Spawn {
        what: format!("{what} ({program})"),
        source,
    })?;
    let mut err_pipe = child.stderr.take().expect("piped stderr");
    let stderr_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = err_pipe.read_to_end(&mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    });
    if let Some(out) = child.stdout.take() {
        let mut reader = BufReader::new(out);
        let mut line = Vec::new();
        while reader.read_until(b'\n', &mut line).unwrap_or(0) > 0 {
            on_line(String::from_utf8_lossy(&line).trim_end());
            line.clear();
        }
    }
    let status = child.wait().map_err(|source| CheckError::Spawn {
        what: format!("{what} ({program})"),
        source,
    })?;
    let stderr = stderr_reader.join().unwrap_or_default();
    Ok(Finished { status, stderr })
}
