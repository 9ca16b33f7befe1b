//! Runs the shared resolver for this process, exactly as the shim would: same environment
//! variables, same working directory rule, same shim identity for the `system` lookup.

use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::resolve::message::{self, Sink};
use crate::resolve::sys::FileId;
use crate::resolve::version::{self, Version};
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
    /// The go.mod/go.work `go` line as written, and its number, when one was read.
    pub go_line: String,
    pub go_line_number: u32,
}

impl From<resolve::Error> for ResolveFailure {
    fn from(err: resolve::Error) -> Self {
        ResolveFailure::in_store(err, &resolve::sys::PathBuf::default(), &EnvSnapshot::capture().env())
    }
}

impl ResolveFailure {
    /// The failure with its message as the shim words it for the store at `home`.
    fn in_store(err: resolve::Error, home: &resolve::sys::PathBuf, env: &Env<'_>) -> Self {
        let mut sink = StringSink(Vec::new());
        message::write_failure(&err, home, env, &mut sink);
        ResolveFailure {
            message: String::from_utf8_lossy(&sink.0).into_owned(),
            kind: err.kind,
            value: String::from_utf8_lossy(err.value.as_bytes()).into_owned(),
            origin: err.source,
            file: path_of(err.file.as_bytes()),
            line: err.line,
            go_line: String::new(),
            go_line_number: 0,
        }
    }
}

struct StringSink(Vec<u8>);

/// Text gomig read (a file's line, a path, an archive entry's name) ready to print: control
/// characters and bytes that are not UTF-8 escaped, by the shim's own rule
/// ([`message::put_text`]), so that what is printed cannot drive the terminal.
pub fn shown(bytes: impl AsRef<[u8]>) -> String {
    let mut sink = StringSink(Vec::new());
    message::put_text(&mut sink, bytes.as_ref());
    // Only ASCII escapes replaced anything that was not UTF-8.
    String::from_utf8_lossy(&sink.0).into_owned()
}

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

/// What is wrong when the current directory cannot be had, and what to do: the shim's words.
pub fn cwd_problem(e: &std::io::Error) -> &'static str {
    match e.raw_os_error() {
        Some(libc::ENAMETOOLONG | libc::ERANGE) => {
            "the current directory's path is longer than 4096 bytes (PATH_MAX), too long to look for a .go-version from; run gomig from a shorter path to it (a symbolic link will do)"
        }
        Some(libc::EACCES | libc::EPERM) => {
            "cannot determine the current directory: a directory above it cannot be read (permission denied); cd to a directory you can read"
        }
        Some(libc::ENOENT) => "the current directory was deleted; cd to an existing directory",
        _ => "cannot determine the current directory; cd to an existing directory",
    }
}

/// Go's `os.Getwd`: `$PWD` if it is clean and names the current directory, else the real path.
pub fn current_dir() -> std::io::Result<PathBuf> {
    let dot = std::fs::metadata(".")?;
    if let Some(pwd) = std::env::var_os("PWD") {
        let p = PathBuf::from(&pwd);
        if resolve::is_clean_absolute(pwd.as_bytes())
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
    let env = snapshot.env();
    resolve::home_dir(&env, &mut buf).map_err(|e| ResolveFailure::in_store(e, &buf, &env))?;
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
            go_line: String::new(),
            go_line_number: 0,
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
    run_resolver(snapshot, dir, tool, pins, false)
}

fn run_resolver(
    snapshot: &EnvSnapshot,
    dir: &Path,
    tool: Tool,
    pins: bool,
    name_only: bool,
) -> Result<Box<Resolution>, ResolveFailure> {
    let mut env = snapshot.env();
    // Resolving where this process runs, by the path getcwd names: walk up as the shim does
    // there (relative probes), so the two give the same answer in every case.
    env.cwd_is_working_dir = std::env::current_dir().is_ok_and(|wd| wd == dir);
    let home = home_dir(snapshot)?;
    let shim_id = file_id(
        &home
            .join("shims")
            .join(std::str::from_utf8(tool.name()).unwrap_or("go")),
    );
    let mut res = Box::new(Resolution::new(tool));
    res.name_only = name_only;
    let cwd = dir.as_os_str().as_bytes();
    // The resolver's paths stop at PATH_MAX; past it the only true thing to say is that the
    // directory's path is too long (as the shim says), not "unreadable".
    if cwd.len() >= resolve::sys::PATH_CAP {
        return Err(ResolveFailure {
            message: cwd_problem(&std::io::Error::from_raw_os_error(libc::ENAMETOOLONG)).to_string(),
            kind: resolve::ErrorKind::BadPath,
            value: String::new(),
            origin: resolve::Source::Default,
            file: dir.to_path_buf(),
            line: 0,
            go_line: String::new(),
            go_line_number: 0,
        });
    }
    let result = if pins {
        resolve::resolve(&env, cwd, shim_id, &mut res)
    } else {
        resolve::resolve_ignoring_pins(&env, cwd, shim_id, &mut res)
    };
    if let Err(err) = result {
        let mut failure = ResolveFailure::in_store(err, &res.home, &env);
        failure.go_line = text_of(res.go_line.as_bytes());
        failure.go_line_number = res.go_line_number;
        return Err(failure);
    }
    Ok(res)
}

/// Why [`resolve_here`] found no toolchain.
#[derive(Debug, thiserror::Error)]
pub enum HereError {
    #[error("{}", cwd_problem(error))]
    NoCurrentDir { error: std::io::Error },
    #[error(transparent)]
    Resolve(#[from] ResolveFailure),
}

/// Resolves `tool` for the current process (environment and working directory).
pub fn resolve_here(tool: Tool) -> Result<Box<Resolution>, HereError> {
    let dir = current_dir().map_err(|error| HereError::NoCurrentDir { error })?;
    Ok(resolve_in(&EnvSnapshot::capture(), &dir, tool)?)
}

/// Bytes from the resolver as a path.
pub fn path_of(bytes: &[u8]) -> PathBuf {
    PathBuf::from(OsString::from_vec(bytes.to_vec()))
}

/// Bytes from the resolver as text.
pub fn text_of(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// What a version argument means, normalised with the resolver's rules (commands for which a
/// toolchain that is not installed is normal: install, check/migrate `--to`, local --force).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    System,
    Latest,
    /// One toolchain, by its directory name: `go1.22.10`, `go1.20` (typed `1.20.0`), `go1.22.10-mine`.
    Exact(String),
    /// The newest installed release of a line: `go1.22` (typed `1.22`, `v1.22`, `go1.22`).
    Prefix(String),
}

impl Request {
    /// The request as a pin (`.go-version`, `GOMIG_GO_VERSION`) and as `gomig install` takes
    /// it: `1.22.10`, `1.22`, `latest`, `system`, `1.22.10-mine`.
    pub fn pin(&self) -> String {
        match self {
            Request::System => "system".into(),
            Request::Latest => "latest".into(),
            Request::Prefix(name) => crate::resolve::version::short(name).to_string(),
            Request::Exact(name) => {
                // `go1.20` is the release 1.20.0, but `1.20` typed is a prefix: keep it exact.
                let release = crate::resolve::version::claimed_release(name);
                let short = crate::resolve::version::short(name);
                let v = Version::parse_go(release.as_bytes());
                if v.patch.is_empty() || v.is_prerelease() || release.matches('.').count() != 1 {
                    short.to_string()
                } else {
                    let rest = &name[release.len()..];
                    format!("{}.0{rest}", crate::resolve::version::short(release))
                }
            }
        }
    }

    /// A release gomig can install from the index (not a name only `--name` can give).
    pub fn is_release(&self) -> bool {
        match self {
            Request::Exact(name) => !name.contains('-'),
            Request::System => false,
            Request::Latest | Request::Prefix(_) => true,
        }
    }
}

/// Whether `system` (the first `go` on PATH that is not a shim) is an answer for a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accept {
    /// A toolchain in the store (switch, verify, snapshot, archive, uninstall, remove, ...).
    Toolchain,
    /// Also `system` (exec, env, local, shell, check).
    OrSystem,
}

/// A version argument that selects nothing. Each message says what was typed, what is
/// installed near it, and a command that works when pasted.
#[derive(Debug, thiserror::Error)]
pub enum ArgError {
    #[error(
        "{typed:?} is not a Go version; write an exact version (1.22.10), a prefix (1.22){}{}",
        if *.system { ", latest or system" } else { " or latest" },
        installed_note(.installed)
    )]
    NotAVersion {
        typed: String,
        system: bool,
        installed: Vec<String>,
    },
    #[error(
        "{start:?}... is {len} bytes long, over the limit of {max} bytes for a toolchain name; write a version such as 1.22.10 (see gomig list)"
    )]
    TooLong { start: String, len: usize, max: usize },
    #[error("{}", not_installed_message(.typed, .request, .installed))]
    NotInstalled {
        typed: String,
        request: Request,
        installed: Vec<String>,
    },
    #[error(
        "\"system\" is the Go on PATH, not a toolchain gomig manages; name an installed toolchain (see gomig list), or adopt that Go first: gomig add <GOROOT>"
    )]
    System,
    /// Any other resolver failure (no home, an unreadable store), with the shim's message.
    #[error(transparent)]
    Resolve(Box<ResolveFailure>),
}

impl From<ResolveFailure> for ArgError {
    fn from(f: ResolveFailure) -> Self {
        ArgError::Resolve(Box::new(f))
    }
}

fn installed_note(installed: &[String]) -> String {
    if installed.is_empty() {
        "; nothing is installed yet".into()
    } else {
        format!(
            "; installed close to it: {} (gomig list shows all)",
            installed.join(", ")
        )
    }
}

/// Reads a version argument with the resolver's rules (the shim's), without the store.
pub fn normalize(text: &str, accept: Accept) -> Result<Request, ArgError> {
    let mut name = resolve::Name::default();
    match resolve::normalize_request(text.as_bytes(), &mut name) {
        Ok(resolve::RequestKind::System) if accept == Accept::Toolchain => Err(ArgError::System),
        Ok(resolve::RequestKind::System) => Ok(Request::System),
        Ok(resolve::RequestKind::Latest) => Ok(Request::Latest),
        Ok(resolve::RequestKind::Exact) => Ok(Request::Exact(text_of(name.as_bytes()))),
        Ok(resolve::RequestKind::Prefix) => Ok(Request::Prefix(text_of(name.as_bytes()))),
        Err(resolve::ErrorKind::NameTooLong) => Err(ArgError::TooLong {
            start: text.chars().take(resolve::MAX_NAME).collect(),
            len: text.len(),
            max: resolve::MAX_NAME,
        }),
        Err(_) => Err(ArgError::NotAVersion {
            typed: text.to_string(),
            system: accept == Accept::OrSystem,
            installed: close_installed(None),
        }),
    }
}

/// The one parser of a version argument for every command that takes an installed toolchain:
/// the toolchain the shim would run for that text (exact with or without `go` or `v`, Go's
/// other spellings such as `1.20.0` for go1.20, a prefix `1.22` or `1` for the newest installed
/// of that line, `latest`, an exact name with a suffix, and with [`Accept::OrSystem`] `system`).
pub fn toolchain_arg(text: &str, accept: Accept) -> Result<Box<Resolution>, ArgError> {
    select(text, accept, false)
}

fn select(text: &str, accept: Accept, name_only: bool) -> Result<Box<Resolution>, ArgError> {
    let request = normalize(text, accept)?;
    let dir = current_dir().unwrap_or_else(|_| PathBuf::from("/"));
    let snapshot = EnvSnapshot::capture().with_version(text);
    match run_resolver(&snapshot, &dir, Tool::Go, true, name_only) {
        Ok(res) => Ok(res),
        // Permission hides it: the resolver's message says so; "not installed" would not be true.
        Err(f) if f.kind == resolve::ErrorKind::NotInstalled && !hidden(&f) => Err(not_installed(text, request)),
        Err(f) => Err(f.into()),
    }
}

fn hidden(f: &ResolveFailure) -> bool {
    let Ok(home) = home_dir(&EnvSnapshot::capture()) else {
        return false;
    };
    let Some(home) = resolve::sys::PathBuf::from_bytes(home.as_os_str().as_bytes()) else {
        return false;
    };
    let mut at = resolve::sys::PathBuf::default();
    message::hidden_toolchain(&home, f.value.as_bytes(), &mut at)
}

/// [`toolchain_arg`] for commands that act on a toolchain in the store: its name.
pub fn toolchain_name_arg(text: &str) -> Result<String, ArgError> {
    Ok(text_of(select(text, Accept::Toolchain, true)?.name.as_bytes()))
}

fn not_installed(typed: &str, request: Request) -> ArgError {
    let near = match &request {
        Request::Exact(name) | Request::Prefix(name) => Some(name.as_str()),
        _ => None,
    };
    ArgError::NotInstalled {
        typed: typed.to_string(),
        installed: close_installed(near),
        request,
    }
}

/// `go1.22.12 is not installed ("1.22.12" on the command line); installed close to it: go1.22.10
/// (gomig list shows all); run: gomig install 1.22.12`. Only a release gets an install command.
fn not_installed_message(typed: &str, request: &Request, installed: &[String]) -> String {
    let what = match request {
        Request::Exact(name) => format!("{name} is not installed"),
        Request::Prefix(name) => format!("no {name}.x is installed"),
        _ => "no toolchain is installed".to_string(),
    };
    let fix = if request.is_release() {
        format!("run: gomig install {}", request.pin())
    } else {
        "a name with a suffix is one given with gomig add --name or gomig restore --name; see gomig list".into()
    };
    format!(
        "{what} ({typed:?} on the command line){}; {fix}",
        installed_note(installed)
    )
}

/// Installed toolchains near `name` (same minor line, else same major, else any), newest
/// first, at most five.
fn close_installed(name: Option<&str>) -> Vec<String> {
    let Ok(home) = home_dir(&EnvSnapshot::capture()) else {
        return Vec::new();
    };
    let Ok(entries) = std::fs::read_dir(home.join("toolchains")) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| !n.starts_with('.') && n.len() <= resolve::MAX_NAME && Version::parse_go(n.as_bytes()).is_valid())
        .collect();
    names.sort_by(|a, b| version::compare_go(b.as_bytes(), a.as_bytes()).then_with(|| a.cmp(b)));
    if let Some(want) = name.map(|n| Version::parse_go(n.as_bytes())).filter(Version::is_valid) {
        let line: Vec<String> = names
            .iter()
            .filter(|n| Version::parse_go(n.as_bytes()).same_line(&want))
            .cloned()
            .collect();
        let major: Vec<String> = names
            .iter()
            .filter(|n| Version::parse_go(n.as_bytes()).major == want.major)
            .cloned()
            .collect();
        if !line.is_empty() {
            names = line;
        } else if !major.is_empty() {
            names = major;
        }
    }
    names.truncate(5);
    names
}

/// [`toolchain_name_arg`] for commands that forget or delete a toolchain: an exact name whose
/// entry is in the store counts even when its tree is gone (an adopted GOROOT that moved),
/// which the shim would not run.
pub fn toolchain_entry_arg(text: &str) -> Result<String, ArgError> {
    match toolchain_name_arg(text) {
        Err(ArgError::NotInstalled {
            request: Request::Exact(name),
            ..
        }) if home_dir(&EnvSnapshot::capture())
            .is_ok_and(|home| std::fs::symlink_metadata(home.join("toolchains").join(&name)).is_ok()) =>
        {
            Ok(name)
        }
        other => other,
    }
}
