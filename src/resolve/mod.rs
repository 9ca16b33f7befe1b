//! The one resolver: which Go runs here, and why (`docs/resolution.md`).
//!
//! Shared by the `go` shim and by `gomig current` / `gomig which`, so they can never disagree.
//! It uses `core` and `libc` only: no heap, no `std`, every path in a fixed stack buffer.
//! The shim includes this directory with `#[path]`; the library exposes it as `gomig::resolve`.

// Errors carry their file path in a fixed buffer: no heap means no `Box`, so they are large.
#![allow(clippy::result_large_err)]

pub mod files;
pub mod message;
pub mod os;
pub mod sys;
pub mod trust;
pub mod version;

use core::cmp::Ordering;

use files::{Found, LineReader};
use sys::{FileId, FileKind, PathBuf};
use version::Version;

/// The longest toolchain name, in bytes: the one limit the shim and every command share.
/// A longer name or request is refused, never cut (a cut name could be a sibling's).
pub const MAX_NAME: usize = 64;

/// A short name (a version or toolchain directory name) in a fixed buffer.
#[derive(Clone, Copy)]
pub struct Name {
    buf: [u8; MAX_NAME],
    len: usize,
}

impl Default for Name {
    fn default() -> Self {
        Name {
            buf: [0; MAX_NAME],
            len: 0,
        }
    }
}

impl Name {
    pub fn from_bytes(b: &[u8]) -> Name {
        let mut n = Name::default();
        n.set(b);
        n
    }
    /// Stores `b`, cut to the buffer size: only for display (requests, bad input). A name that
    /// selects a toolchain is checked against [`MAX_NAME`] first.
    pub fn set(&mut self, b: &[u8]) {
        self.len = b.len().min(self.buf.len());
        self.buf[..self.len].copy_from_slice(&b[..self.len]);
    }
    /// Appends `b`; false if it does not fit.
    pub fn extend(&mut self, b: &[u8]) -> bool {
        let end = self.len + b.len();
        if end > self.buf.len() {
            return false;
        }
        self.buf[self.len..end].copy_from_slice(b);
        self.len = end;
        true
    }
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    fn set_canonical(&mut self, v: &Version<'_>) -> bool {
        match v.write_canonical(&mut self.buf) {
            Some(n) => {
                self.len = n;
                true
            }
            None => false,
        }
    }
}

/// The tool the shim stands in for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tool {
    Go,
    Gofmt,
}

impl Tool {
    pub fn from_name(name: &[u8]) -> Option<Tool> {
        match name {
            b"go" => Some(Tool::Go),
            b"gofmt" => Some(Tool::Gofmt),
            _ => None,
        }
    }
    pub fn name(self) -> &'static [u8] {
        match self {
            Tool::Go => b"go",
            Tool::Gofmt => b"gofmt",
        }
    }
}

/// The environment variables the resolver reads. Empty values count as unset.
#[derive(Clone, Copy, Default)]
pub struct Env<'a> {
    /// A version given on gomig's command line (`gomig exec 1.22`); never set by the shim.
    pub argument: Option<&'a [u8]>,
    pub gomig_go_version: Option<&'a [u8]>,
    pub gomig_home: Option<&'a [u8]>,
    pub home: Option<&'a [u8]>,
    pub xdg_data_home: Option<&'a [u8]>,
    pub gowork: Option<&'a [u8]>,
    pub go111module: Option<&'a [u8]>,
    pub tmpdir: Option<&'a [u8]>,
    pub path: Option<&'a [u8]>,
    pub pwd: Option<&'a [u8]>,
    /// `GOMIG_CONFIG` and `XDG_CONFIG_HOME`: where the config file is, for the trust check.
    pub gomig_config: Option<&'a [u8]>,
    pub xdg_config_home: Option<&'a [u8]>,
}

impl<'a> Env<'a> {
    /// Records `key=value` if the resolver cares about `key`.
    pub fn set(&mut self, key: &[u8], value: &'a [u8]) {
        let slot = match key {
            b"GOMIG_GO_VERSION" => &mut self.gomig_go_version,
            b"GOMIG_HOME" => &mut self.gomig_home,
            b"HOME" => &mut self.home,
            b"XDG_DATA_HOME" => &mut self.xdg_data_home,
            b"GOWORK" => &mut self.gowork,
            b"GO111MODULE" => &mut self.go111module,
            b"TMPDIR" => &mut self.tmpdir,
            b"PATH" => &mut self.path,
            b"PWD" => &mut self.pwd,
            b"GOMIG_CONFIG" => &mut self.gomig_config,
            b"XDG_CONFIG_HOME" => &mut self.xdg_config_home,
            _ => return,
        };
        *slot = if value.is_empty() { None } else { Some(value) };
    }
}

/// Where the answer came from, in precedence order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// A version on gomig's command line.
    Argument,
    /// `GOMIG_GO_VERSION` (set by `gomig shell`).
    Env,
    GoVersionFile,
    ToolVersions,
    GoWork,
    GoMod,
    /// The global default (`gomig switch`).
    Default,
    /// The first `go` on `PATH` that is not a gomig shim.
    System,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Argument => "argument",
            Source::Env => "env",
            Source::GoVersionFile => "go-version",
            Source::ToolVersions => "tool-versions",
            Source::GoWork => "go.work",
            Source::GoMod => "go.mod",
            Source::Default => "default",
            Source::System => "system",
        }
    }
}

/// How the version was chosen from the request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    /// An exact version was asked for.
    Exact,
    /// A prefix (`1.22`, `1`) or `latest`: the newest installed match.
    Newest,
    /// go.mod/go.work: the default already satisfies the requirement.
    BaseSatisfies,
    /// go.mod/go.work: the default is older, an installed toolchain meets the requirement.
    Upgrade,
    /// `toolchain default` in go.mod/go.work: the default, no upgrade.
    ToolchainDefault,
    /// No file asked for anything: the default.
    Default,
    /// `system`.
    System,
}

/// The answer: which binary runs, and why.
pub struct Resolution {
    pub tool: Tool,
    /// `GOMIG_HOME`.
    pub home: PathBuf,
    pub source: Source,
    pub rule: Rule,
    /// The file that asked (empty for env, default and system).
    pub file: PathBuf,
    pub line: u32,
    /// The request as written (`1.22`, `go1.23.0`, `system`), for explanations.
    pub request: Name,
    /// For go.mod/go.work: the minimum toolchain they require, canonical.
    pub requirement: Name,
    /// The global default, when it was consulted.
    pub base: Name,
    /// The chosen toolchain (a directory name under `toolchains/`); empty for system.
    pub name: Name,
    /// Its GOROOT (an adopted link resolved to its target); empty for system.
    pub goroot: PathBuf,
    /// The program to exec.
    pub exe: PathBuf,
    /// The toolchain whose store entry the trust check has already walked (the default's).
    /// Only the name is wanted, to examine or change the store entry (verify, snapshot,
    /// archive, uninstall, remove): the tree is not about to run, so its own trust check is
    /// left to whoever runs it (the shim, exec, the switch gate). The store is checked all the same.
    pub name_only: bool,
    pub checked: Name,
}

impl Resolution {
    pub fn new(tool: Tool) -> Resolution {
        Resolution {
            tool,
            home: PathBuf::default(),
            source: Source::Default,
            rule: Rule::Default,
            file: PathBuf::default(),
            line: 0,
            request: Name::default(),
            requirement: Name::default(),
            base: Name::default(),
            name: Name::default(),
            goroot: PathBuf::default(),
            exe: PathBuf::default(),
            checked: Name::default(),
            name_only: false,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// Neither `GOMIG_HOME` nor `HOME` (nor `XDG_DATA_HOME`) is usable.
    NoHome,
    /// A version file or `GOMIG_GO_VERSION` holds something that is not a version.
    BadVersion,
    /// A request or toolchain name longer than [`MAX_NAME`] bytes (`value` holds its start).
    NameTooLong,
    /// A `.go-version` with no version line.
    EmptyVersionFile,
    /// `.go-version` is a directory.
    VersionFileIsDir,
    /// A file exists but cannot be read (errno in `Error::errno`).
    Unreadable,
    /// go.mod/go.work has an invalid `go` line.
    BadGoLine,
    /// go.mod/go.work has an invalid `toolchain` line.
    BadToolchainLine,
    /// `GOWORK` is neither `off`, `auto`, nor an absolute path.
    GoworkNotAbsolute,
    /// The requested toolchain is not installed.
    NotInstalled,
    /// The `default` link names a toolchain that is gone.
    DefaultBroken,
    /// `system` was asked for, but no `go` is on `PATH` besides the shims.
    SystemNotFound,
    /// Nothing asked for a version, there is no default and no system Go.
    NoToolchain,
    /// The working directory cannot be determined, or a path is too long.
    BadPath,
    /// The store, the config file or the chosen toolchain could be changed by another user
    /// (`Error::file` names the path, `Error::untrusted` says what is wrong; see [`trust`]).
    Untrusted,
}

/// A resolution failure, with everything needed for a one-line message naming the file.
pub struct Error {
    pub kind: ErrorKind,
    pub source: Source,
    pub file: PathBuf,
    pub line: u32,
    /// The offending text or the missing version.
    pub value: Name,
    pub errno: i32,
    /// For [`ErrorKind::Untrusted`]: what is wrong with `file`.
    pub untrusted: Option<trust::Finding>,
}

impl Error {
    #[cold]
    #[inline(never)]
    fn new(kind: ErrorKind, source: Source) -> Error {
        Error {
            kind,
            source,
            file: PathBuf::default(),
            line: 0,
            value: Name::default(),
            errno: 0,
            untrusted: None,
        }
    }
    #[cold]
    #[inline(never)]
    fn at(kind: ErrorKind, source: Source, file: &PathBuf, line: u32, value: &[u8]) -> Error {
        Error {
            kind,
            source,
            file: file.clone(),
            line,
            value: Name::from_bytes(value),
            errno: 0,
            untrusted: None,
        }
    }
}

/// Under GOMIG_HOME: `<name>` links to the archive `gomig prune` made of that toolchain.
pub const PRUNED_DIR: &[u8] = b"state/pruned";

/// The archive `gomig prune` made of the toolchain `name`, into `out`: a regular file that is
/// still there and that only you or root could have put there, by the trust rule applied to the
/// link and every directory on the way to the file ([`trust::is_safe_file`]). A record someone
/// else could have written or pointed elsewhere is not believed: the toolchain is downloaded
/// and checked instead. Only on the cold path of a toolchain that is not installed.
#[cold]
#[inline(never)]
pub fn pruned_archive(home: &PathBuf, name: &[u8], out: &mut PathBuf) -> bool {
    let mut link = home.clone();
    !home.is_empty()
        && !name.is_empty()
        && link.push(PRUNED_DIR).is_some()
        && link.push(name).is_some()
        && sys::readlink(&link, out).is_ok()
        && trust::is_safe_file(&link)
}

/// What a version request means.
#[derive(Clone, Copy)]
enum Spec<'a> {
    System,
    Latest,
    /// An exact toolchain: the canonical name, plus any `-suffix` as written.
    Exact(Version<'a>, &'a [u8]),
    /// `1.22` or `1`: the newest installed release of that line.
    Prefix {
        major: &'a [u8],
        minor: Option<&'a [u8]>,
    },
}

fn parse_spec(text: &[u8]) -> Option<Spec<'_>> {
    match text {
        b"system" => return Some(Spec::System),
        b"latest" => return Some(Spec::Latest),
        _ => {}
    }
    if !version::is_safe_text(text) {
        return None;
    }
    // `go1.22.10`, and `v1.22.10` as module tooling writes it, name the release `1.22.10`.
    let bare = text
        .strip_prefix(b"go")
        .or_else(|| text.strip_prefix(b"v"))
        .unwrap_or(text);
    let (core, suffix) = match bare.iter().position(|&c| c == b'-') {
        Some(i) => (&bare[..i], &bare[i..]),
        None => (bare, &b""[..]),
    };
    let v = Version::parse(core);
    if !v.is_valid() {
        return None;
    }
    let dots = core.iter().filter(|&&c| c == b'.').count();
    if v.is_prerelease() || dots >= 2 || !suffix.is_empty() {
        return Some(Spec::Exact(v, suffix));
    }
    Some(Spec::Prefix {
        major: v.major,
        minor: if dots == 1 { Some(v.minor) } else { None },
    })
}

/// A request as the resolver reads it, with the one length limit: a version-shaped request
/// longer than [`MAX_NAME`] is refused as too long, never cut.
fn parse_request(text: &[u8]) -> Result<Spec<'_>, ErrorKind> {
    let spec = parse_spec(text).ok_or(ErrorKind::BadVersion)?;
    if text.len() > MAX_NAME {
        return Err(ErrorKind::NameTooLong);
    }
    Ok(spec)
}

/// What a typed version means, without looking at the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestKind {
    System,
    Latest,
    /// One toolchain; `name` holds its directory name (`go1.20`, `go1.22.10-mine`).
    Exact,
    /// `1.22` or `1`: the newest installed release of that line; `name` holds `go1.22`.
    Prefix,
}

/// Reads a version request with the resolver's own rules (the CLI's one parser, so commands
/// and the shim agree on every spelling). Sets `name` for exact and prefix requests.
pub fn normalize_request(text: &[u8], name: &mut Name) -> Result<RequestKind, ErrorKind> {
    *name = Name::default();
    match parse_request(text)? {
        Spec::System => Ok(RequestKind::System),
        Spec::Latest => Ok(RequestKind::Latest),
        Spec::Exact(v, suffix) => {
            if name.set_canonical(&v) && name.extend(suffix) {
                Ok(RequestKind::Exact)
            } else {
                Err(ErrorKind::NameTooLong)
            }
        }
        Spec::Prefix { major, minor } => {
            let ok =
                name.extend(b"go") && name.extend(major) && minor.is_none_or(|m| name.extend(b".") && name.extend(m));
            if ok {
                Ok(RequestKind::Prefix)
            } else {
                Err(ErrorKind::NameTooLong)
            }
        }
    }
}

/// Finds `GOMIG_HOME`: the variable, else the platform data directory + `gomig`,
/// computed as the `dirs` crate does.
pub fn home_dir(env: &Env<'_>, out: &mut PathBuf) -> Result<(), Error> {
    let fail = || Error::new(ErrorKind::NoHome, Source::Default);
    if let Some(h) = env.gomig_home {
        if h[0] != b'/' {
            return Err(Error::at(ErrorKind::NoHome, Source::Default, &PathBuf::default(), 0, h));
        }
        return out.set(h).ok_or_else(fail);
    }
    #[cfg(not(target_os = "macos"))]
    if let Some(x) = env.xdg_data_home.filter(|x| x[0] == b'/') {
        out.set(x).ok_or_else(fail)?;
        return out.push(b"gomig").ok_or_else(fail);
    }
    let home = env.home.filter(|h| h[0] == b'/').ok_or_else(fail)?;
    out.set(home).ok_or_else(fail)?;
    #[cfg(target_os = "macos")]
    out.push(b"Library/Application Support/gomig").ok_or_else(fail)?;
    #[cfg(not(target_os = "macos"))]
    out.push(b".local/share/gomig").ok_or_else(fail)?;
    Ok(())
}

/// Reads the global default (`$GOMIG_HOME/default -> toolchains/<name>`) with one `readlink`.
/// `Ok(false)` when no default is set.
pub fn read_default(home: &PathBuf, name: &mut Name) -> Result<bool, Error> {
    let mut link = home.clone();
    link.push(b"default")
        .ok_or_else(|| Error::new(ErrorKind::BadPath, Source::Default))?;
    let mut target = PathBuf::default();
    match sys::readlink(&link, &mut target) {
        Ok(()) => {
            if target.file_name().len() > MAX_NAME {
                return Err(Error::at(
                    ErrorKind::NameTooLong,
                    Source::Default,
                    &link,
                    0,
                    target.file_name(),
                ));
            }
            name.set(target.file_name());
            Ok(!name.is_empty())
        }
        Err(libc::ENOENT) => Ok(false),
        Err(e) => {
            let mut err = Error::at(ErrorKind::Unreadable, Source::Default, &link, 0, b"");
            err.errno = e;
            Err(err)
        }
    }
}

/// The best installed toolchain for a request, from one read of `toolchains/`.
enum Want<'a> {
    /// Newest release (or, with `minor`, of that line); `None` major = any.
    Newest {
        major: Option<&'a [u8]>,
        minor: Option<&'a [u8]>,
    },
    /// go.mod rule: the lowest minor line with an installed version >= min, then the newest
    /// patch in that line, releases before pre-releases.
    AtLeast(Version<'a>),
}

fn pick_installed(home: &PathBuf, want: &Want<'_>, out: &mut Name) -> bool {
    let mut dir = home.clone();
    if dir.push(b"toolchains").is_none() {
        return false;
    }
    let mut best = Name::default();
    let _ = sys::for_each_dir_entry(&dir, |entry| {
        // A name over the limit can never be requested, so it is never picked either (its
        // cut form could be another toolchain's name).
        if entry.first() == Some(&b'.') || entry.len() > MAX_NAME {
            return;
        }
        let v = Version::parse_go(entry);
        if !v.is_valid() || !matches_want(&v, want) {
            return;
        }
        let cur = Version::parse_go(best.as_bytes());
        // Equal versions (go1.22.10 and go1.22.10-mine): the smaller name, so the plain release
        // wins and the answer never depends on the order of the directory.
        let take = best.is_empty()
            || better(&v, &cur, want)
            || (v.compare(&cur) == Ordering::Equal && entry < best.as_bytes());
        if take {
            best.set(entry);
        }
    });
    if best.is_empty() {
        return false;
    }
    *out = best;
    true
}

fn matches_want(v: &Version<'_>, want: &Want<'_>) -> bool {
    match want {
        Want::Newest { major, minor } => {
            !v.is_prerelease() && major.is_none_or(|m| v.major == m) && minor.is_none_or(|m| v.minor == m)
        }
        Want::AtLeast(min) => v.compare(min) != Ordering::Less,
    }
}

/// Is `v` a better pick than `cur` (both already matching)?
fn better(v: &Version<'_>, cur: &Version<'_>, want: &Want<'_>) -> bool {
    match want {
        Want::Newest { .. } => v.compare(cur) == Ordering::Greater,
        Want::AtLeast(_) => {
            if !v.same_line(cur) {
                // The lowest minor line wins.
                return v.compare(cur) == Ordering::Less;
            }
            match (v.is_prerelease(), cur.is_prerelease()) {
                (false, true) => true,
                (true, false) => false,
                _ => v.compare(cur) == Ordering::Greater,
            }
        }
    }
}

/// Sets `goroot` and `exe` for the installed toolchain `name`. An adopted toolchain is a
/// link to a GOROOT elsewhere; the link is resolved so GOROOT names the real tree.
fn locate_toolchain(home: &PathBuf, name: &Name, tool: Tool, goroot: &mut PathBuf, exe: &mut PathBuf) -> Option<()> {
    goroot.set(home.as_bytes())?;
    goroot.push(b"toolchains")?;
    goroot.push(name.as_bytes())?;
    let mut target = PathBuf::default();
    if sys::readlink(goroot, &mut target).is_ok() {
        if target.as_bytes().first() == Some(&b'/') {
            goroot.set(target.as_bytes())?;
        } else {
            goroot.pop();
            goroot.push(target.as_bytes())?;
        }
    }
    exe.set(goroot.as_bytes())?;
    exe.push(b"bin")?;
    exe.push(tool.name())?;
    Some(())
}

/// Is this toolchain directory present?
fn is_installed(home: &PathBuf, name: &[u8]) -> bool {
    let mut p = home.clone();
    p.push(b"toolchains").is_some()
        && p.push(name).is_some()
        && matches!(sys::stat(&p), Ok(m) if m.kind == FileKind::Dir)
}

/// Resolves which binary to run for `tool` in directory `cwd` (absolute).
///
/// `shim_id` is the identity of the shim itself, so a `system` lookup never finds it.
pub fn resolve(env: &Env<'_>, cwd: &[u8], shim_id: Option<FileId>, out: &mut Resolution) -> Result<(), Error> {
    resolve_with(env, cwd, shim_id, out, true)
}

/// What Go's own files (go.work, go.mod) and the default would choose, ignoring
/// `GOMIG_GO_VERSION` and version files: used to show a pin that conflicts with go.mod.
pub fn resolve_ignoring_pins(
    env: &Env<'_>,
    cwd: &[u8],
    shim_id: Option<FileId>,
    out: &mut Resolution,
) -> Result<(), Error> {
    resolve_with(env, cwd, shim_id, out, false)
}

fn resolve_with(
    env: &Env<'_>,
    cwd: &[u8],
    shim_id: Option<FileId>,
    out: &mut Resolution,
    pins: bool,
) -> Result<(), Error> {
    home_dir(env, &mut out.home)?;
    // Before anything in the store is believed: whoever could change it picks what runs.
    trust::check_store(env, &out.home, &mut out.checked)?;

    let explicit = match (env.argument, env.gomig_go_version) {
        (Some(text), _) => Some((text, Source::Argument)),
        (None, Some(text)) => Some((text, Source::Env)),
        _ => None,
    };
    if let Some((text, source)) = explicit.filter(|_| pins) {
        out.source = source;
        out.request.set(text);
        let spec = parse_request(text).map_err(|kind| Error::at(kind, source, &PathBuf::default(), 0, text))?;
        return select_spec(env, spec, shim_id, out);
    }

    let mut dir = PathBuf::from_bytes(cwd).ok_or_else(|| Error::new(ErrorKind::BadPath, Source::Default))?;
    let mut gofiles = GoFiles::new(env)?;
    let mut text = [0u8; 256];
    loop {
        if let Some((source, found)) = if pins {
            version_file_in(&mut dir, &mut text)?
        } else {
            None
        } {
            let value = &text[..found.len];
            out.source = source;
            out.file = dir.clone();
            out.line = found.line;
            out.request.set(value);
            let spec = match parse_request(value) {
                Ok(spec) if !found.truncated => spec,
                Ok(_) => return Err(Error::at(ErrorKind::NameTooLong, source, &dir, found.line, value)),
                Err(kind) => return Err(Error::at(kind, source, &dir, found.line, value)),
            };
            return select_spec(env, spec, shim_id, out);
        }
        gofiles.observe(&mut dir);
        if !dir.pop() {
            break;
        }
    }

    let mut path = PathBuf::default();
    if let Some(source) = gofiles.chosen(cwd, &mut path) {
        return select_from_go_file(env, source, &path, shim_id, out);
    }
    select_default(env, shim_id, out)
}

/// Looks for `.go-version`, then `.tool-versions`, in `dir`. On a hit, `dir` is left holding
/// the file's path; otherwise it is restored. Out of line: its 16 KiB line buffer then shares
/// stack pages with the calls that follow the walk instead of adding to them.
#[inline(never)]
fn version_file_in(dir: &mut PathBuf, text: &mut [u8]) -> Result<Option<(Source, Found)>, Error> {
    let len = dir.len();
    for (name, source) in [
        (&b".go-version"[..], Source::GoVersionFile),
        (b".tool-versions", Source::ToolVersions),
    ] {
        dir.push(name).ok_or_else(|| Error::new(ErrorKind::BadPath, source))?;
        let fail = |kind: ErrorKind, errno: i32, dir: &PathBuf| {
            let mut e = Error::at(kind, source, dir, 0, b"");
            e.errno = errno;
            e
        };
        match sys::Fd::open_read(dir) {
            Err(libc::ENOENT) | Err(libc::ENOTDIR) => {}
            Err(e) => return Err(fail(ErrorKind::Unreadable, e, dir)),
            Ok(fd) => match sys::fstat(fd.0) {
                Ok(m) if m.kind == FileKind::Dir => {
                    if source == Source::GoVersionFile {
                        return Err(fail(ErrorKind::VersionFileIsDir, 0, dir));
                    }
                }
                Err(e) => return Err(fail(ErrorKind::Unreadable, e, dir)),
                Ok(_) => {
                    let mut reader = LineReader::new(fd);
                    let found = if source == Source::GoVersionFile {
                        files::read_go_version(&mut reader, text)
                    } else {
                        files::read_tool_versions(&mut reader, text)
                    };
                    match found {
                        Ok(Some(found)) => return Ok(Some((source, found))),
                        Ok(None) if source == Source::GoVersionFile => {
                            return Err(fail(ErrorKind::EmptyVersionFile, 0, dir));
                        }
                        Ok(None) => {}
                        Err(e) => return Err(fail(ErrorKind::Unreadable, e, dir)),
                    }
                }
            },
        }
        dir.truncate(len);
    }
    Ok(None)
}

/// Tracks the nearest go.work and go.mod during the walk up, by the length of their
/// directory prefix in the walked path (no copies).
struct GoFiles<'a> {
    enabled: bool,
    work: WorkMode<'a>,
    tmpdir: &'a [u8],
    work_dir_len: Option<usize>,
    mod_dir_len: Option<usize>,
}

enum WorkMode<'a> {
    Off,
    Search,
    File(&'a [u8]),
}

impl<'a> GoFiles<'a> {
    fn new(env: &Env<'a>) -> Result<GoFiles<'a>, Error> {
        let work = match env.gowork {
            None | Some(b"auto") => WorkMode::Search,
            Some(b"off") => WorkMode::Off,
            Some(p) if p[0] == b'/' => WorkMode::File(p),
            Some(p) => {
                return Err(Error::at(
                    ErrorKind::GoworkNotAbsolute,
                    Source::GoWork,
                    &PathBuf::default(),
                    0,
                    p,
                ));
            }
        };
        Ok(GoFiles {
            enabled: env.go111module != Some(b"off"),
            work,
            tmpdir: env.tmpdir.unwrap_or(b"/tmp"),
            work_dir_len: None,
            mod_dir_len: None,
        })
    }

    fn observe(&mut self, dir: &mut PathBuf) {
        if !self.enabled {
            return;
        }
        let len = dir.len();
        if matches!(self.work, WorkMode::Search) && self.work_dir_len.is_none() && is_file_in(dir, b"go.work") {
            self.work_dir_len = Some(len);
        }
        if self.mod_dir_len.is_none() && self.work_dir_len.is_none() && is_file_in(dir, b"go.mod") {
            // Like cmd/go, ignore a go.mod at the root of the temp directory (golang/go#26708).
            if trim_slash(dir.as_bytes()) != trim_slash(self.tmpdir) {
                self.mod_dir_len = Some(len);
            }
        }
        dir.truncate(len);
    }

    /// The file Go would read: the workspace file if any, else the module file.
    fn chosen(&self, cwd: &[u8], path: &mut PathBuf) -> Option<Source> {
        if !self.enabled {
            return None;
        }
        if let WorkMode::File(p) = self.work {
            // GOWORK may name a file that does not exist yet (`go work init`): then go.mod.
            if path.set(p).is_some() && matches!(sys::stat(path), Ok(m) if m.kind != FileKind::Dir) {
                return Some(Source::GoWork);
            }
        }
        let (len, name, source) = match (self.work_dir_len, self.mod_dir_len) {
            (Some(len), _) => (len, &b"go.work"[..], Source::GoWork),
            (None, Some(len)) => (len, &b"go.mod"[..], Source::GoMod),
            (None, None) => return None,
        };
        path.set(&cwd[..len.min(cwd.len())])?;
        path.push(name)?;
        Some(source)
    }
}

fn trim_slash(p: &[u8]) -> &[u8] {
    if p.len() > 1 {
        p.strip_suffix(b"/").unwrap_or(p)
    } else {
        p
    }
}

fn is_file_in(dir: &mut PathBuf, name: &[u8]) -> bool {
    let len = dir.len();
    let ok = dir.push(name).is_some() && matches!(sys::stat(dir), Ok(m) if m.kind != FileKind::Dir);
    dir.truncate(len);
    ok
}

fn select_spec(env: &Env<'_>, spec: Spec<'_>, shim_id: Option<FileId>, out: &mut Resolution) -> Result<(), Error> {
    let not_installed = |out: &Resolution, value: &[u8]| {
        let mut e = Error::at(ErrorKind::NotInstalled, out.source, &out.file, out.line, value);
        e.value.set(value);
        e
    };
    match spec {
        Spec::System => {
            out.rule = Rule::System;
            return find_system(env, shim_id, out);
        }
        Spec::Exact(v, suffix) => {
            out.rule = Rule::Exact;
            let mut name = Name::default();
            if !name.set_canonical(&v) {
                return Err(not_installed(out, out.request.as_bytes()));
            }
            if !name.extend(suffix) {
                let req = out.request;
                return Err(Error::at(
                    ErrorKind::NameTooLong,
                    out.source,
                    &out.file,
                    out.line,
                    req.as_bytes(),
                ));
            }
            if !is_installed(&out.home, name.as_bytes()) {
                return Err(not_installed(out, name.as_bytes()));
            }
            out.name = name;
        }
        Spec::Latest | Spec::Prefix { .. } => {
            out.rule = Rule::Newest;
            let want = match spec {
                Spec::Prefix { major, minor } => Want::Newest {
                    major: Some(major),
                    minor,
                },
                _ => Want::Newest {
                    major: None,
                    minor: None,
                },
            };
            let mut name = Name::default();
            if !pick_installed(&out.home, &want, &mut name) {
                let req = out.request;
                return Err(not_installed(out, req.as_bytes()));
            }
            out.name = name;
        }
    }
    finish_toolchain(out)
}

fn finish_toolchain(out: &mut Resolution) -> Result<(), Error> {
    let name = out.name;
    locate_toolchain(&out.home, &name, out.tool, &mut out.goroot, &mut out.exe)
        .ok_or_else(|| Error::new(ErrorKind::BadPath, out.source))?;
    if out.name_only {
        return Ok(());
    }
    // The tree about to run, which may lie outside the store (an adopted GOROOT).
    trust::check_toolchain(&out.home, &name, &out.checked, &out.goroot, out.tool.name())
}

// Out of line like `version_file_in`: its line buffer must not add to the walk's frame.
#[inline(never)]
fn select_from_go_file(
    env: &Env<'_>,
    source: Source,
    path: &PathBuf,
    shim_id: Option<FileId>,
    out: &mut Resolution,
) -> Result<(), Error> {
    let mut go_text = [0u8; 64];
    let mut tc_text = [0u8; 64];
    let unreadable = |e: i32| {
        let mut err = Error::at(ErrorKind::Unreadable, source, path, 0, b"");
        err.errno = e;
        err
    };
    let mut reader = files::open_lines(path).map_err(unreadable)?;
    let found = files::read_go_directives(&mut reader, &mut go_text, &mut tc_text).map_err(unreadable)?;
    out.source = source;
    out.file = path.clone();

    let mut base = Name::default();
    let has_base = read_default(&out.home, &mut base)?;
    if has_base {
        out.base = base;
    }

    // The toolchain line: `default`, or a toolchain name newer than the go line.
    let mut toolchain: Option<(Version<'_>, u32)> = None;
    if let Some(tc) = &found.toolchain {
        let value = &tc_text[..tc.len];
        out.line = tc.line;
        if value == b"default" {
            out.request.set(value);
            out.rule = Rule::ToolchainDefault;
            return use_base(env, has_base, shim_id, out);
        }
        let v = Version::parse_go(value);
        if tc.truncated || !v.is_valid() || !version::is_safe_name(value) {
            return Err(Error::at(ErrorKind::BadToolchainLine, source, path, tc.line, value));
        }
        toolchain = Some((v, tc.line));
    }
    let mut requirement: Option<(Version<'_>, u32, &[u8])> = None;
    if let Some(go) = &found.go {
        let value = &go_text[..go.len];
        let v = Version::parse(value);
        if go.truncated || !v.is_valid() {
            return Err(Error::at(ErrorKind::BadGoLine, source, path, go.line, value));
        }
        requirement = Some((v.lang_to_release(), go.line, value));
    }
    if let Some((t, line)) = toolchain {
        // A toolchain line older than (or equal to) the go line is ignored.
        if requirement.is_none_or(|(r, _, _)| t.compare(&r) == Ordering::Greater) {
            requirement = Some((t, line, &tc_text[..found.toolchain.as_ref().map_or(0, |f| f.len)]));
        }
    }
    let Some((min, line, text)) = requirement else {
        // Neither line: nothing is required; the default applies.
        out.line = 0;
        out.rule = Rule::Default;
        return use_base(env, has_base, shim_id, out);
    };
    out.line = line;
    out.request.set(text);
    out.requirement.set_canonical(&min);

    if has_base && Version::parse_go(base.as_bytes()).compare(&min) != Ordering::Less {
        out.rule = Rule::BaseSatisfies;
        return use_base(env, has_base, shim_id, out);
    }
    out.rule = Rule::Upgrade;
    let mut name = Name::default();
    if !pick_installed(&out.home, &Want::AtLeast(min), &mut name) {
        let req = out.requirement;
        let mut e = Error::at(ErrorKind::NotInstalled, source, path, line, b"");
        e.value = req;
        return Err(e);
    }
    out.name = name;
    finish_toolchain(out)
}

/// Uses the default when the file defers to it; without one, `system`.
fn use_base(env: &Env<'_>, has_base: bool, shim_id: Option<FileId>, out: &mut Resolution) -> Result<(), Error> {
    if has_base {
        out.name = out.base;
        if !is_installed(&out.home, out.name.as_bytes()) {
            let mut e = Error::new(ErrorKind::DefaultBroken, Source::Default);
            e.value = out.name;
            return Err(e);
        }
        return finish_toolchain(out);
    }
    find_system(env, shim_id, out).map_err(|mut e| {
        if e.kind == ErrorKind::SystemNotFound {
            e.kind = ErrorKind::NoToolchain;
        }
        e
    })
}

fn select_default(env: &Env<'_>, shim_id: Option<FileId>, out: &mut Resolution) -> Result<(), Error> {
    let mut base = Name::default();
    let has_base = read_default(&out.home, &mut base)?;
    out.file.clear();
    out.line = 0;
    if has_base {
        out.base = base;
        out.source = Source::Default;
        out.rule = Rule::Default;
        out.request = base;
    }
    use_base(env, has_base, shim_id, out)
}

/// `system`: the first `tool` on `PATH` that is not a gomig shim: empty and relative entries,
/// the shims directory, and any file that is the shim itself are skipped.
fn find_system(env: &Env<'_>, shim_id: Option<FileId>, out: &mut Resolution) -> Result<(), Error> {
    out.source = if out.file.is_empty() && !matches!(out.source, Source::Env | Source::Argument) {
        Source::System
    } else {
        out.source
    };
    out.name = Name::default();
    out.goroot.clear();
    let mut shims = out.home.clone();
    let shims_id = shims.push(b"shims").and_then(|_| sys::stat(&shims).ok()).map(|m| m.id);
    for entry in env.path.unwrap_or(b"").split(|&c| c == b':') {
        if entry.first() != Some(&b'/') {
            continue;
        }
        let Some(mut dir) = PathBuf::from_bytes(entry) else {
            continue;
        };
        if shims_id.is_some() && sys::stat(&dir).ok().map(|m| m.id) == shims_id {
            continue;
        }
        if dir.push(out.tool.name()).is_none() {
            continue;
        }
        let Ok(meta) = sys::stat(&dir) else { continue };
        if meta.kind != FileKind::File || Some(meta.id) == shim_id || !sys::is_executable(&dir) {
            continue;
        }
        out.exe = dir;
        return Ok(());
    }
    let mut e = Error::at(ErrorKind::SystemNotFound, out.source, &out.file, out.line, b"");
    e.value.set(out.tool.name());
    Err(e)
}
