//! Runs the shared resolver for this process, exactly as the shim would: same environment
//! variables, same working directory rule, same shim identity for the `system` lookup.

use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::resolve::message::{self, Sink};
use crate::resolve::sys::FileId;
use crate::resolve::{self, Env, Resolution, Tool};

/// A resolution failure with the same one-line message the shim prints.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ResolveFailure {
    pub message: String,
    pub kind: resolve::ErrorKind,
    /// The offending text or the missing version (`go1.23.0`).
    pub value: String,
    /// Where the request came from, and its file and line (empty and 0 when none).
    pub origin: resolve::Source,
    pub file: PathBuf,
    pub line: u32,
}

impl From<resolve::Error> for ResolveFailure {
    fn from(err: resolve::Error) -> Self {
        let mut sink = StringSink(Vec::new());
        message::write_error(&err, &mut sink);
        ResolveFailure {
            message: String::from_utf8_lossy(&sink.0).into_owned(),
            kind: err.kind,
            value: String::from_utf8_lossy(err.value.as_bytes()).into_owned(),
            origin: err.source,
            file: path_of(err.file.as_bytes()),
            line: err.line,
        }
    }
}

struct StringSink(Vec<u8>);

impl Sink for StringSink {
    fn put(&mut self, bytes: &[u8]) {
        self.0.extend_from_slice(bytes);
    }
}

/// The environment the resolver reads, captured once (the resolver borrows from it).
pub struct EnvSnapshot {
    vars: Vec<(Vec<u8>, Vec<u8>)>,
    argument: Option<Vec<u8>>,
}

impl EnvSnapshot {
    pub fn capture() -> EnvSnapshot {
        EnvSnapshot {
            vars: std::env::vars_os().map(|(k, v)| (k.into_vec(), v.into_vec())).collect(),
            argument: None,
        }
    }

    /// An explicit environment (tests, and callers that build one).
    pub fn from_vars<K: AsRef<[u8]>, V: AsRef<[u8]>>(vars: impl IntoIterator<Item = (K, V)>) -> EnvSnapshot {
        EnvSnapshot {
            vars: vars
                .into_iter()
                .map(|(k, v)| (k.as_ref().to_vec(), v.as_ref().to_vec()))
                .collect(),
            argument: None,
        }
    }

    /// With a version given on the command line: how `gomig exec 1.22` and friends reuse the
    /// resolver's version rules.
    pub fn with_version(mut self, spec: &str) -> EnvSnapshot {
        self.argument = Some(spec.as_bytes().to_vec());
        self
    }

    pub fn env(&self) -> Env<'_> {
        let mut env = Env::default();
        for (k, v) in &self.vars {
            env.set(k, v);
        }
        env.argument = self.argument.as_deref();
        env
    }
}

/// Go's `os.Getwd`: `$PWD` if it is clean and names the current directory, else the real path.
pub fn current_dir() -> std::io::Result<PathBuf> {
    let dot = std::fs::metadata(".")?;
    if let Some(pwd) = std::env::var_os("PWD") {
        let p = PathBuf::from(&pwd);
        let b = pwd.as_bytes();
        let clean = p.is_absolute()
            && !b.windows(2).any(|w| w == b"//")
            && !b.windows(3).any(|w| w == b"/./")
            && !b.windows(4).any(|w| w == b"/../")
            && !b.ends_with(b"/.")
            && !b.ends_with(b"/..");
        if clean
            && let Ok(m) = std::fs::metadata(&p)
            && m.dev() == dot.dev()
            && m.ino() == dot.ino()
        {
            return Ok(p);
        }
    }
    std::env::current_dir()
}

/// The store's home directory, as the shim computes it.
pub fn home_dir(snapshot: &EnvSnapshot) -> Result<PathBuf, ResolveFailure> {
    let mut buf = resolve::sys::PathBuf::default();
    resolve::home_dir(&snapshot.env(), &mut buf)?;
    Ok(PathBuf::from(OsString::from_vec(buf.as_bytes().to_vec())))
}

/// The trust rule for the store at `home` and this process's config file: the very check the
/// shim and every resolution make (`resolve::trust`), for commands that use the store
/// without resolving (`Store::check_permissions`).
pub fn check_trust(home: &Path) -> Result<(), ResolveFailure> {
    let snapshot = EnvSnapshot::capture();
    let abs = if home.is_absolute() {
        home.to_path_buf()
    } else {
        current_dir()
            .map(|d| d.join(home))
            .unwrap_or_else(|_| home.to_path_buf())
    };
    let Some(buf) = resolve::sys::PathBuf::from_bytes(abs.as_os_str().as_bytes()) else {
        return Err(ResolveFailure {
            message: format!("{}: the path is too long to check who can change it", abs.display()),
            kind: resolve::ErrorKind::BadPath,
            value: String::new(),
            origin: resolve::Source::Default,
            file: abs,
            line: 0,
        });
    };
    let mut checked = resolve::Name::default();
    resolve::trust::check_store(&snapshot.env(), &buf, &mut checked)?;
    Ok(())
}

/// The trust rule for the toolchain `name` as the shim would run it (its store entry, and for
/// an adopted one the tree it leads to): the gate of a switch or rollback refuses what the shim
/// would refuse. Only a refusal by the trust rule is an error here.
pub fn check_toolchain_trust(name: &str) -> Result<(), ResolveFailure> {
    match resolve_in(&EnvSnapshot::capture().with_version(name), Path::new("/"), Tool::Go) {
        Err(f) if f.kind == resolve::ErrorKind::Untrusted => Err(f),
        _ => Ok(()),
    }
}

fn file_id(path: &Path) -> Option<FileId> {
    std::fs::metadata(path).ok().map(|m| FileId {
        dev: m.dev(),
        ino: m.ino(),
    })
}

/// Resolves `tool` in `dir` with `snapshot`'s environment. The shim's own identity is that of
/// the installed shim in the store, so `system` skips it here too.
pub fn resolve_in(snapshot: &EnvSnapshot, dir: &Path, tool: Tool) -> Result<Box<Resolution>, ResolveFailure> {
    resolve_with(snapshot, dir, tool, true)
}

/// Like [`resolve_in`]; without `pins`, `GOMIG_GO_VERSION` and version files are ignored.
pub fn resolve_with(
    snapshot: &EnvSnapshot,
    dir: &Path,
    tool: Tool,
    pins: bool,
) -> Result<Box<Resolution>, ResolveFailure> {
    let env = snapshot.env();
    let home = home_dir(snapshot)?;
    let shim_id = file_id(
        &home
            .join("shims")
            .join(std::str::from_utf8(tool.name()).unwrap_or("go")),
    );
    let mut res = Box::new(Resolution::new(tool));
    let cwd = dir.as_os_str().as_bytes();
    if pins {
        resolve::resolve(&env, cwd, shim_id, &mut res)?;
    } else {
        resolve::resolve_ignoring_pins(&env, cwd, shim_id, &mut res)?;
    }
    Ok(res)
}

/// Resolves `tool` for the current process (environment and working directory).
pub fn resolve_here(tool: Tool) -> anyhow::Result<Box<Resolution>> {
    let dir = current_dir().map_err(|e| anyhow::anyhow!("cannot determine the current directory: {e}"))?;
    Ok(resolve_in(&EnvSnapshot::capture(), &dir, tool)?)
}

/// Resolves a version request (`1.22.10`, `1.22`, `latest`, `system`) to an installed toolchain,
/// with the resolver's own rules.
pub fn resolve_spec(spec: &str, tool: Tool) -> anyhow::Result<Box<Resolution>> {
    let dir = current_dir().unwrap_or_else(|_| PathBuf::from("/"));
    Ok(resolve_in(&EnvSnapshot::capture().with_version(spec), &dir, tool)?)
}

/// Bytes from the resolver as a path.
pub fn path_of(bytes: &[u8]) -> PathBuf {
    PathBuf::from(OsString::from_vec(bytes.to_vec()))
}

/// Bytes from the resolver as text.
pub fn text_of(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
