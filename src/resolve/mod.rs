//! The one resolver: which Go runs here, and why (`docs/resolution.md`).
//!
//! Shared by the `go` shim and by `gomig current` / `gomig which`, so they can never disagree.
//! It uses `core` and `libc` only: no heap, no `std`, every path in a fixed stack buffer.
//! The shim includes this directory with `#[path]`; the library exposes it as `gomig::resolve`.

// No heap means no `Box`: an error (its path kept apart, in a `MappedPath`) is 120 bytes.
#![allow(clippy::result_large_err)]

pub mod files;
pub mod gotoolchain;
pub mod message;
pub mod os;
pub mod sys;
pub mod trust;
pub mod version;

use core::cmp::Ordering;

use files::{Found, LineReader};
use sys::{FileId, FileKind, MappedPath, PathBuf};
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
    /// `GOTOOLCHAIN` and `GOENV` (where `go env -w` keeps GOTOOLCHAIN), read as cmd/go reads them.
    pub gotoolchain: Option<&'a [u8]>,
    pub goenv: Option<&'a [u8]>,
    /// What the go command line asks for, where that changes Go's choice (the shim sets it).
    pub command: gotoolchain::GoCommand,
    /// The shim runs as a toolchain's command (`go1.22.10`): its name.
    pub command_name: Option<&'a [u8]>,
    /// The directory resolved in is this process's working directory, by the path `getcwd`
    /// gives (no link on it): then `..` from it is the parent its path names, and the walk up
    /// may probe by relative paths ([`Climb`]).
    pub cwd_is_working_dir: bool,
    /// The effective user id, when the caller knows it already (the shim, from the kernel's
    /// auxiliary vector); else the resolver asks.
    pub euid: Option<u32>,
}

impl<'a> Env<'a> {
    /// The variables [`Env::set`] reads: every key it matches is listed here (the shim's own
    /// `GOMIG_*` variables, read by the shim itself, all start with `G` too).
    pub const KEYS: [&'static [u8]; 13] = [
        b"GOMIG_GO_VERSION",
        b"GOMIG_HOME",
        b"HOME",
        b"XDG_DATA_HOME",
        b"GOWORK",
        b"GO111MODULE",
        b"TMPDIR",
        b"PATH",
        b"PWD",
        b"GOMIG_CONFIG",
        b"XDG_CONFIG_HOME",
        b"GOTOOLCHAIN",
        b"GOENV",
    ];

    /// Whether an entry whose first byte is `first` could be one of [`Env::KEYS`] or the
    /// shim's own `GOMIG_*`: the shim skips every other entry without reading it.
    pub fn may_set(first: u8) -> bool {
        matches!(first, b'G' | b'H' | b'P' | b'T' | b'X')
    }

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
            b"GOTOOLCHAIN" => &mut self.gotoolchain,
            b"GOENV" => &mut self.goenv,
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
    /// `GOTOOLCHAIN` naming a toolchain, from the environment or the go env file.
    Gotoolchain,
    /// The shim run as a toolchain's own command (`go1.22.10 build`).
    Command,
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
            Source::Gotoolchain => "GOTOOLCHAIN",
            Source::Command => "command",
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

/// Which line of a go.mod or go.work decided the requirement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Directive {
    None,
    /// The `go` line.
    Go,
    /// The `toolchain` line.
    Toolchain,
}

impl Directive {
    pub fn as_str(self) -> Option<&'static str> {
        match self {
            Directive::None => None,
            Directive::Go => Some("go"),
            Directive::Toolchain => Some("toolchain"),
        }
    }
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
    /// For go.mod/go.work: the minimum toolchain they require, canonical: the toolchain Go
    /// itself would ask for.
    pub requirement: Name,
    /// For go.mod/go.work: the line that set `requirement` (`line` is its number).
    pub decided: Directive,
    /// For go.mod/go.work: the `go` line as written (`1.22`), empty without one. Go refuses to
    /// build with a toolchain older than this, whatever the toolchain line says.
    pub go_line: Name,
    pub go_line_number: u32,
    /// GOTOOLCHAIN as set (empty: not set, or not read for this command).
    pub gotoolchain: Name,
    /// The go env file GOTOOLCHAIN came from (empty: the environment, or not set).
    pub gotoolchain_file: PathBuf,
    /// The base came from GOTOOLCHAIN (`NAME+auto`), not from the default.
    pub base_from_gotoolchain: bool,
    /// What the exec'd go must see as GOTOOLCHAIN so that it never switches (or downloads)
    /// behind gomig's back; empty: leave the caller's environment as it is.
    pub child_gotoolchain: Name,
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
    /// Whether that entry is a directory (not a link), as the trust check's `lstat` found it.
    pub checked_dir: bool,
    /// The identity of `exe` (links followed) as the trust check reached it; `None` when it
    /// was not checked (name only, `system`) or is missing.
    pub exe_id: Option<FileId>,
    /// Who resolves: the effective user id, asked once.
    pub euid: u32,
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
            decided: Directive::None,
            go_line: Name::default(),
            go_line_number: 0,
            gotoolchain: Name::default(),
            gotoolchain_file: PathBuf::default(),
            base_from_gotoolchain: false,
            child_gotoolchain: Name::default(),
            base: Name::default(),
            name: Name::default(),
            goroot: PathBuf::default(),
            exe: PathBuf::default(),
            checked: Name::default(),
            checked_dir: false,
            exe_id: None,
            name_only: false,
            euid: 0,
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
    /// `GOTOOLCHAIN` is not a form Go accepts, or names a language version (`go1.22`).
    BadGotoolchain,
    /// The working directory cannot be determined, or a path is too long.
    BadPath,
    /// The store, the config file or the chosen toolchain could be changed by another user
    /// (`Error::file` names the path, `Error::untrusted` says what is wrong; see [`trust`]).
    Untrusted,
    /// A version file, go.mod or go.work (or what its link leads to) is a device, FIFO or
    /// socket: never read (`Error::detail` holds its `st_mode`).
    NotRegular,
    /// A `.go-version` or `.tool-versions` is a symbolic link to nothing: a pin that cannot
    /// be read (`Error::file` names the link; the message reads its target).
    DanglingLink,
    /// No answer within the first bytes of the file that gomig reads (`Error::detail`: how many).
    TooLong,
    /// `GOWORK` names a directory; Go fails the same way (`read DIR: is a directory`).
    GoworkIsDir,
    /// A version file, go.work or go.mod owned by another user (`Error::detail`: the uid) in
    /// a directory others can write: anyone could have planted it, so it is not obeyed.
    ForeignFile,
}

/// A resolution failure, with everything needed for a one-line message naming the file.
pub struct Error {
    pub kind: ErrorKind,
    pub source: Source,
    /// The file it is about (empty if none): kept out of line, see [`MappedPath`].
    pub file: MappedPath,
    pub line: u32,
    /// The offending text or the missing version.
    pub value: Name,
    pub errno: i32,
    /// For [`ErrorKind::Untrusted`]: what is wrong with `file`.
    pub untrusted: Option<trust::Finding>,
    /// The owner's uid ([`ErrorKind::ForeignFile`]), the `st_mode` ([`ErrorKind::NotRegular`])
    /// or the bytes read ([`ErrorKind::TooLong`]).
    pub detail: u64,
}

impl Error {
    #[cold]
    #[inline(never)]
    fn new(kind: ErrorKind, source: Source) -> Error {
        Error {
            kind,
            source,
            file: MappedPath::new(),
            line: 0,
            value: Name::default(),
            errno: 0,
            untrusted: None,
            detail: 0,
        }
    }
    #[cold]
    #[inline(never)]
    fn at(kind: ErrorKind, source: Source, file: &PathBuf, line: u32, value: &[u8]) -> Error {
        Error {
            kind,
            source,
            file: MappedPath::from_bytes(file.as_bytes()),
            line,
            value: Name::from_bytes(value),
            errno: 0,
            untrusted: None,
            detail: 0,
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
    let mut link = PathBuf::default();
    !home.is_empty()
        && !name.is_empty()
        && link.set(home.as_bytes()).is_some()
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
    let mut link = PathBuf::default();
    link.set(home.as_bytes())
        .and_then(|()| link.push(b"default"))
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
    let mut dir = PathBuf::default();
    if dir.set(home.as_bytes()).is_none() || dir.push(b"toolchains").is_none() {
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
/// `link`: whether it may be one (false when the trust check saw a directory).
// Out of line (as `is_installed`): its path buffer takes stack only while it runs, not under
// the trust check of the toolchain that follows.
#[inline(never)]
fn locate_toolchain(
    home: &PathBuf,
    name: &Name,
    tool: Tool,
    link: bool,
    goroot: &mut PathBuf,
    exe: &mut PathBuf,
) -> Option<()> {
    goroot.set(home.as_bytes())?;
    goroot.push(b"toolchains")?;
    goroot.push(name.as_bytes())?;
    let mut target = PathBuf::default();
    if link && sys::readlink(goroot, &mut target).is_ok() {
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

/// Is this the default's entry, which the trust check found to be a directory (not a link)?
/// Then it is installed, and GOROOT is the entry itself, with no system call to ask.
fn known_dir(out: &Resolution, name: &[u8]) -> bool {
    out.checked_dir && out.checked.as_bytes() == name
}

/// Is this toolchain directory present?
#[inline(never)]
fn is_installed(out: &Resolution, name: &[u8]) -> bool {
    if known_dir(out, name) {
        return true;
    }
    let mut p = PathBuf::default();
    p.set(out.home.as_bytes()).is_some()
        && p.push(b"toolchains").is_some()
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
    out.euid = env.euid.unwrap_or_else(os::geteuid);
    // Before anything in the store is believed: whoever could change it picks what runs.
    out.checked_dir = trust::check_store_noting(env, &out.home, &mut out.checked, out.euid)?;

    // GOTOOLCHAIN as Go reads it. A toolchain it names beats the pins, as it would in Go
    // (the pinned go would switch to it); `local`, `auto` and `path` leave gomig's rules.
    let mut setting_text = Name::default();
    let mut setting = None;
    if env.command != gotoolchain::GoCommand::EnvQuery {
        if gotoolchain::find(env, &mut setting_text, &mut out.gotoolchain_file) {
            out.gotoolchain = setting_text;
            setting = Some(gotoolchain_setting(&setting_text, out)?);
        } else {
            out.child_gotoolchain.set(b"local");
        }
    }
    let named = setting.and_then(|s| s.min.map(|m| (m, s.switching)));

    let explicit = match (env.argument, env.gomig_go_version) {
        (Some(text), _) => Some((text, Source::Argument)),
        (None, Some(text)) if named.is_none() => Some((text, Source::Env)),
        _ => None,
    };
    // A `go1.22.10` command (the shim under a toolchain's name) runs that toolchain, as
    // golang.org/dl's commands do, whatever GOTOOLCHAIN or the files say.
    let exact = match env.command_name {
        Some(cmd) => Some((cmd, Source::Command)),
        None => named
            .filter(|(_, switching)| *switching == gotoolchain::Switching::None)
            .map(|(min, _)| (min, Source::Gotoolchain)),
    };
    if let Some((text, source)) = exact.filter(|_| pins && env.argument.is_none()) {
        return select_exact(text, source, out);
    }
    if let Some((min, _)) = named.filter(|_| pins && env.argument.is_none()) {
        return select_from_gotoolchain_base(env, cwd, min, shim_id, out);
    }
    if let Some((text, source)) = explicit.filter(|_| pins) {
        out.source = source;
        out.request.set(text);
        let spec = parse_request(text).map_err(|kind| Error::at(kind, source, &PathBuf::default(), 0, text))?;
        return select_spec(env, spec, shim_id, out);
    }

    let mut dir = PathBuf::from_bytes(cwd).ok_or_else(|| Error::new(ErrorKind::BadPath, Source::Default))?;
    // Checked first, whether or not a pin is found (a bad GOWORK is an error either way).
    let gofiles = GoFiles::new(env)?;
    // Two passes, the pins first: a pin anywhere above beats every go.work and go.mod, so
    // those are looked for only when no pin is found, and a pinned project (the common case
    // of a shim call) costs two probes per directory instead of four.
    if pins {
        let mut text = [0u8; 256];
        let mut climb = Climb::new(env, cwd);
        loop {
            if let Some((source, found)) = version_file_in(&mut dir, &climb, &mut text, env, out.euid)? {
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
            if !dir.pop() {
                break;
            }
            climb.up();
        }
    }
    select_unpinned(env, cwd, dir, gofiles, shim_id, out)
}

/// No pin above `cwd`: go.work or go.mod, as Go finds them, else the default. Out of line:
/// a pinned call never gets here.
#[inline(never)]
fn select_unpinned(
    env: &Env<'_>,
    cwd: &[u8],
    mut dir: PathBuf,
    mut gofiles: GoFiles<'_>,
    shim_id: Option<FileId>,
    out: &mut Resolution,
) -> Result<(), Error> {
    // The pins' walk left `dir` somewhere above: back to `cwd`, in the buffer it already has.
    dir.set(cwd)
        .ok_or_else(|| Error::new(ErrorKind::BadPath, Source::Default))?;
    let mut climb = Climb::new(env, cwd);
    loop {
        if !gofiles.observe(&mut dir, &climb) || !dir.pop() {
            break;
        }
        climb.up();
    }

    let mut path = PathBuf::default();
    if let Some(chosen) = gofiles.chosen(cwd, &mut path)? {
        return select_from_go_file(env, &chosen, &path, shim_id, out);
    }
    select_default(env, shim_id, out)
}

/// `GOTOOLCHAIN=go1.23.9` (or a toolchain's own command, `go1.23.9`): that toolchain,
/// whatever the files say. Out of line, as the next one: the pinned call never takes
/// these branches, and inlined they sat between the lines it runs.
#[inline(never)]
fn select_exact(text: &[u8], source: Source, out: &mut Resolution) -> Result<(), Error> {
    out.source = source;
    if source == Source::Gotoolchain {
        out.file = out.gotoolchain_file.clone();
    }
    out.request.set(text);
    out.rule = Rule::Exact;
    let name = exact_name(text).ok_or_else(|| Error::at(ErrorKind::NameTooLong, source, &out.file, 0, text))?;
    if !is_installed(out, name.as_bytes()) {
        let mut e = Error::at(ErrorKind::NotInstalled, source, &out.file, 0, b"");
        e.value = name;
        return Err(e);
    }
    out.name = name;
    finish_toolchain(out)
}

/// `GOTOOLCHAIN=go1.22.10+auto`: the base is that toolchain, go.mod/go.work may raise it.
#[inline(never)]
fn select_from_gotoolchain_base(
    env: &Env<'_>,
    cwd: &[u8],
    min: &[u8],
    shim_id: Option<FileId>,
    out: &mut Resolution,
) -> Result<(), Error> {
    out.source = Source::Gotoolchain;
    out.file = out.gotoolchain_file.clone();
    out.request.set(min);
    let name =
        exact_name(min).ok_or_else(|| Error::at(ErrorKind::NameTooLong, Source::Gotoolchain, &out.file, 0, min))?;
    out.base = name;
    out.base_from_gotoolchain = true;
    let mut dir = PathBuf::from_bytes(cwd).ok_or_else(|| Error::new(ErrorKind::BadPath, Source::Default))?;
    let mut gofiles = GoFiles::new(env)?;
    let mut climb = Climb::new(env, cwd);
    while gofiles.observe(&mut dir, &climb) && dir.pop() {
        climb.up();
    }
    let mut path = PathBuf::default();
    if let Some(chosen) = gofiles.chosen(cwd, &mut path)? {
        return select_from_go_file(env, &chosen, &path, shim_id, out);
    }
    out.rule = Rule::Default;
    use_base(env, true, shim_id, out)
}

/// Reads a GOTOOLCHAIN value as Go does and records what the exec'd go must see: `local`
/// stays `local`; a setting that lets Go switch becomes `path`, so it may switch only to a
/// toolchain on PATH (gomig's `go1.X.Y` commands), never download one; a toolchain name is
/// passed on (the shim also tells the exec'd go it is that toolchain, as Go's own switch does).
#[cold]
#[inline(never)]
fn gotoolchain_setting<'t>(text: &'t Name, out: &mut Resolution) -> Result<gotoolchain::Setting<'t>, Error> {
    let bad = |out: &Resolution| {
        Error::at(
            ErrorKind::BadGotoolchain,
            Source::Gotoolchain,
            &out.gotoolchain_file,
            0,
            text.as_bytes(),
        )
    };
    let setting = gotoolchain::parse(text.as_bytes()).ok_or_else(|| bad(out))?;
    if setting.min.is_some_and(gotoolchain::is_language_version) {
        return Err(bad(out));
    }
    let child = &mut out.child_gotoolchain;
    let fits = match (setting.min, setting.switching) {
        (None, gotoolchain::Switching::None) => child.extend(b"local"),
        (None, _) => child.extend(b"path"),
        (Some(min), gotoolchain::Switching::None) => child.extend(min),
        (Some(min), _) => child.extend(min) && child.extend(b"+path"),
    };
    if !fits {
        return Err(bad(out));
    }
    Ok(setting)
}

/// The store name of an exact toolchain name (`go1.20.0` is `go1.20`, a `-suffix` kept).
fn exact_name(text: &[u8]) -> Option<Name> {
    let bare = text.strip_prefix(b"go")?;
    let (core, suffix) = match bare.iter().position(|&c| c == b'-') {
        Some(i) => (&bare[..i], &bare[i..]),
        None => (bare, &b""[..]),
    };
    let mut name = Name::default();
    (name.set_canonical(&Version::parse(core)) && name.extend(suffix)).then_some(name)
}

/// Looks for `.go-version`, then `.tool-versions`, in `dir`. On a hit, `dir` is left holding
/// the file's path; otherwise it is restored. Out of line: its line buffer then shares
/// stack pages with the calls that follow the walk instead of adding to them.
#[inline(never)]
fn version_file_in(
    dir: &mut PathBuf,
    climb: &Climb,
    text: &mut [u8],
    env: &Env<'_>,
    euid: u32,
) -> Result<Option<(Source, Found)>, Error> {
    let len = dir.len();
    for (name, source) in [
        (&b".go-version"[..], Source::GoVersionFile),
        (b".tool-versions", Source::ToolVersions),
    ] {
        // An `lstat` first: where the file is missing (almost everywhere) it answers as `open`
        // would, ENOENT or ENOTDIR, without the open file `open` sets up before its lookup;
        // and it tells a link to nothing (an explicit pin that cannot be read) from no file.
        let probe = climb.lstat(dir, name);
        if matches!(probe, Err(libc::ENOENT) | Err(libc::ENOTDIR)) {
            continue;
        }
        dir.push(name).ok_or_else(|| Error::new(ErrorKind::BadPath, source))?;
        let probe = match probe {
            Err(e) => return Err(file_error(ErrorKind::Unreadable, source, dir, e)),
            Ok(meta) => meta,
        };
        let Some((fd, opened)) = open_version_file(dir, len, &probe, source, env, None)? else {
            if source == Source::GoVersionFile {
                return Err(file_error(ErrorKind::VersionFileIsDir, source, dir, 0));
            }
            dir.truncate(len);
            continue;
        };
        // A `.go-version` is a pin whatever it holds; a `.tool-versions` only if it names Go.
        let link_owner = (probe.kind == FileKind::Link).then_some(probe.uid);
        if source == Source::GoVersionFile {
            check_owner(dir, len, opened.uid, link_owner, source, env, euid)?;
        }
        let mut reader = LineReader::<SMALL_READ>::small(fd).limit(files::PIN_LIMIT);
        let found = match read_version_file(source, &mut reader, text) {
            Err(files::GROW) => read_version_file_grown(source, reader, text),
            found => found,
        };
        match found {
            Ok(Some(found)) => {
                if source == Source::ToolVersions {
                    check_owner(dir, len, opened.uid, link_owner, source, env, euid)?;
                }
                return Ok(Some((source, found)));
            }
            Ok(None) if source == Source::GoVersionFile => {
                return Err(file_error(ErrorKind::EmptyVersionFile, source, dir, 0));
            }
            Ok(None) => {}
            Err(files::TOO_LONG) => return Err(too_long(source, dir, files::PIN_LIMIT)),
            Err(e) => return Err(file_error(ErrorKind::Unreadable, source, dir, e)),
        }
        dir.truncate(len);
    }
    Ok(None)
}

#[cold]
#[inline(never)]
fn file_error(kind: ErrorKind, source: Source, file: &PathBuf, errno: i32) -> Error {
    let mut e = Error::at(kind, source, file, 0, b"");
    e.errno = errno;
    e
}

/// An error about `file` whose [`Error::detail`] says how: the bytes allowed
/// ([`ErrorKind::TooLong`]) or the `st_mode` found ([`ErrorKind::NotRegular`]).
#[cold]
#[inline(never)]
fn detailed(kind: ErrorKind, source: Source, file: &PathBuf, detail: u64) -> Error {
    let mut e = Error::at(kind, source, file, 0, b"");
    e.detail = detail;
    e
}

fn too_long(source: Source, file: &PathBuf, limit: usize) -> Error {
    detailed(ErrorKind::TooLong, source, file, limit as u64)
}

/// Opens the version file, go.work or go.mod at `path` (whose directory is `path[..dir_len]`
/// and whose `lstat` is `probe`) for reading, if it is one to read: `Ok(None)` for a
/// directory. Refused, never opened: a device, FIFO or socket, even behind a link (a read of
/// `/dev/zero` never ends); a link to nothing; and a file another user owns in a directory
/// others can write ([`check_owner`], for user `owner_rule`; `None`: the owner is not questioned).
fn open_version_file(
    path: &PathBuf,
    dir_len: usize,
    probe: &sys::Meta,
    source: Source,
    env: &Env<'_>,
    owner_rule: Option<u32>,
) -> Result<Option<(sys::Fd, sys::Meta)>, Error> {
    let meta = if probe.kind == FileKind::Link {
        match sys::stat(path) {
            Err(libc::ENOENT) => return Err(file_error(ErrorKind::DanglingLink, source, path, libc::ENOENT)),
            Err(e) => return Err(file_error(ErrorKind::Unreadable, source, path, e)),
            Ok(meta) => meta,
        }
    } else {
        *probe
    };
    match meta.kind {
        FileKind::Dir => return Ok(None),
        FileKind::File => {}
        _ => return Err(not_regular(source, path, meta.mode)),
    }
    let (fd, opened) = sys::Fd::open_read_meta(path).map_err(|e| file_error(ErrorKind::Unreadable, source, path, e))?;
    // Replaced between the `stat` and the `open`: judged by what was opened.
    if opened.kind != FileKind::File {
        return Err(not_regular(source, path, opened.mode));
    }
    if let Some(euid) = owner_rule {
        let link_owner = (probe.kind == FileKind::Link).then_some(probe.uid);
        check_owner(path, dir_len, opened.uid, link_owner, source, env, euid)?;
    }
    Ok(Some((fd, opened)))
}

fn not_regular(source: Source, file: &PathBuf, mode: u32) -> Error {
    detailed(ErrorKind::NotRegular, source, file, mode as u64)
}

/// git's `safe.directory` rule for the files that choose a Go: one owned by another user
/// (not you, not root), or reached through a link of theirs, is obeyed only where others
/// cannot write its directory (an ordinary shared checkout), or where the config's
/// `trusted_dirs` lists that directory. The owner comes from the `fstat` already made; the
/// directory is looked at only for another user's file.
fn check_owner(
    path: &PathBuf,
    dir_len: usize,
    owner: u32,
    link_owner: Option<u32>,
    source: Source,
    env: &Env<'_>,
    euid: u32,
) -> Result<(), Error> {
    let foreign = match link_owner {
        Some(uid) if !trust::owner_ok(uid, euid) => uid,
        _ if !trust::owner_ok(owner, euid) => owner,
        _ => return Ok(()),
    };
    check_foreign(path, dir_len, foreign, source, env)
}

#[cold]
#[inline(never)]
fn check_foreign(path: &PathBuf, dir_len: usize, owner: u32, source: Source, env: &Env<'_>) -> Result<(), Error> {
    let mut dir = path.clone();
    dir.truncate(dir_len.max(1));
    let open_to_others = match sys::stat(&dir) {
        Ok(meta) => trust::writable_bits(meta.mode) != 0,
        // Its directory cannot be looked at: nothing says it is safe.
        Err(_) => true,
    };
    if !open_to_others || config_trusts_dir(env, dir.as_bytes()) {
        return Ok(());
    }
    let mut e = Error::at(ErrorKind::ForeignFile, source, path, 0, b"");
    e.detail = owner as u64;
    Err(e)
}

/// Does the config's `trusted_dirs` list `dir`? The config file itself passed the trust check
/// already. A small scanner for `trusted_dirs = ["DIR", 'DIR', ...]` (one line or several):
/// only read when another user's file was found in a directory others can write.
#[cold]
#[inline(never)]
pub fn config_trusts_dir(env: &Env<'_>, dir: &[u8]) -> bool {
    let mut path = PathBuf::default();
    if trust::config_path(env, &mut path).is_none() {
        return false;
    }
    let Ok(mut reader) = files::open_lines(&path) else {
        return false;
    };
    let mut in_list = false;
    let want = trim_slash(dir);
    while let Ok(Some(line)) = reader.next_line() {
        let mut text = files::trim(line.text);
        if !in_list {
            let Some(rest) = text.strip_prefix(b"trusted_dirs") else {
                continue;
            };
            let rest = files::trim(rest);
            let Some(rest) = rest.strip_prefix(b"=") else { continue };
            let Some(rest) = files::trim(rest).strip_prefix(b"[") else {
                return false;
            };
            in_list = true;
            text = rest;
        }
        // The quoted items on this line, up to `]` or a comment.
        let mut rest = text;
        loop {
            rest = files::trim(rest);
            match rest.first() {
                Some(b',') => rest = &rest[1..],
                Some(&q @ (b'"' | b'\'')) => {
                    let body = &rest[1..];
                    let Some(end) = body.iter().position(|&c| c == q) else {
                        return false;
                    };
                    let item = &body[..end];
                    // A basic string with escapes is not compared (never matches by accident).
                    if !(q == b'"' && item.contains(&b'\\')) && trim_slash(item) == want {
                        return true;
                    }
                    rest = &body[end + 1..];
                }
                Some(b']') => return false,
                _ => break,
            }
        }
    }
    false
}

/// The small reader's buffer for version files: they hold a line or a few, and a frame
/// under a page has no stack probe touching pages it does not use.
const SMALL_READ: usize = 256;

fn read_version_file<const N: usize>(
    source: Source,
    reader: &mut LineReader<N>,
    text: &mut [u8],
) -> Result<Option<Found>, i32> {
    if source == Source::GoVersionFile {
        files::read_go_version(reader, text)
    } else {
        files::read_tool_versions(reader, text)
    }
}

/// A version file with more than [`SMALL_READ`] bytes before its answer: read again in the
/// full buffer, in a frame of its own, off the common path.
#[cold]
#[inline(never)]
fn read_version_file_grown(
    source: Source,
    reader: LineReader<SMALL_READ>,
    text: &mut [u8],
) -> Result<Option<Found>, i32> {
    read_version_file(source, &mut reader.grown(), text)
}

/// Tracks the nearest go.work and go.mod during the walk up, by the length of their
/// directory prefix in the walked path (no copies).
struct GoFiles<'a> {
    enabled: bool,
    work: WorkMode<'a>,
    tmpdir: &'a [u8],
    work_dir_len: Option<usize>,
    mod_dir_len: Option<usize>,
    /// The `lstat`s of the go.work and go.mod found: the owner of a link, the kind of a file.
    work_probe: Option<sys::Meta>,
    mod_probe: Option<sys::Meta>,
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
            // `go install m@v` and `go run m@v` ignore the module here, as cmd/go does.
            enabled: env.go111module != Some(b"off") && env.command != gotoolchain::GoCommand::ModuleAtVersion,
            work,
            tmpdir: env.tmpdir.unwrap_or(b"/tmp"),
            work_dir_len: None,
            mod_dir_len: None,
            work_probe: None,
            mod_probe: None,
        })
    }

    /// Looks in `dir`; false once nothing above can change the answer.
    fn observe(&mut self, dir: &mut PathBuf, climb: &Climb) -> bool {
        if !self.enabled {
            return false;
        }
        let len = dir.len();
        if matches!(self.work, WorkMode::Search)
            && self.work_dir_len.is_none()
            && let Some(probe) = file_in(dir, climb, b"go.work")
        {
            self.work_dir_len = Some(len);
            self.work_probe = Some(probe);
        }
        if self.mod_dir_len.is_none() && self.work_dir_len.is_none() {
            // Like cmd/go, ignore a go.mod at the root of the temp directory (golang/go#26708).
            if let Some(probe) = file_in(dir, climb, b"go.mod")
                && trim_slash(dir.as_bytes()) != trim_slash(self.tmpdir)
            {
                self.mod_dir_len = Some(len);
                self.mod_probe = Some(probe);
            }
        }
        dir.truncate(len);
        // Only a go.work above can still win, and only while go.work is searched for.
        self.work_dir_len.is_none() && (matches!(self.work, WorkMode::Search) || self.mod_dir_len.is_none())
    }

    /// The file Go would read: the workspace file if any, else the module file; with its
    /// `lstat`, the length of its directory in `path`, and whether `GOWORK` named it.
    fn chosen(&self, cwd: &[u8], path: &mut PathBuf) -> Result<Option<Chosen>, Error> {
        if !self.enabled {
            return Ok(None);
        }
        if let WorkMode::File(p) = self.work {
            let fail = || Error::at(ErrorKind::BadPath, Source::GoWork, &PathBuf::default(), 0, p);
            path.set(p).ok_or_else(fail)?;
            // GOWORK may name a file that does not exist yet (`go work init`): then go.mod.
            // A directory is read by Go all the same, and fails: so here.
            if let Ok(probe) = sys::lstat(path) {
                let kind = if probe.kind == FileKind::Link {
                    sys::stat(path).map(|m| m.kind).ok()
                } else {
                    Some(probe.kind)
                };
                if kind == Some(FileKind::Dir) {
                    let mut e = Error::at(ErrorKind::GoworkIsDir, Source::GoWork, path, 0, b"");
                    e.errno = libc::EISDIR;
                    return Err(e);
                }
                if kind.is_some() {
                    let dir_len = p.iter().rposition(|&c| c == b'/').unwrap_or(0);
                    return Ok(Some(Chosen {
                        source: Source::GoWork,
                        probe,
                        dir_len,
                        from_env: true,
                    }));
                }
            }
        }
        let (len, name, source, probe) = match (self.work_dir_len, self.mod_dir_len) {
            (Some(len), _) => (len, &b"go.work"[..], Source::GoWork, self.work_probe),
            (None, Some(len)) => (len, &b"go.mod"[..], Source::GoMod, self.mod_probe),
            (None, None) => return Ok(None),
        };
        let fail = || Error::new(ErrorKind::BadPath, source);
        path.set(&cwd[..len.min(cwd.len())]).ok_or_else(fail)?;
        path.push(name).ok_or_else(fail)?;
        Ok(probe.map(|probe| Chosen {
            source,
            probe,
            dir_len: len,
            from_env: false,
        }))
    }
}

fn trim_slash(p: &[u8]) -> &[u8] {
    if p.len() > 1 {
        p.strip_suffix(b"/").unwrap_or(p)
    } else {
        p
    }
}

/// The go.work or go.mod Go would see in `dir` (anything but a directory, links followed, as
/// cmd/go's `os.Stat` test): its `lstat`, which for a plain file is its `stat` as well.
fn file_in(dir: &mut PathBuf, climb: &Climb, name: &[u8]) -> Option<sys::Meta> {
    let len = dir.len();
    let probe = climb.lstat(dir, name).ok()?;
    let found = dir.push(name).and_then(|_| {
        let kind = if probe.kind == FileKind::Link {
            sys::stat(dir).ok()?.kind
        } else {
            probe.kind
        };
        (kind != FileKind::Dir).then_some(probe)
    });
    dir.truncate(len);
    found
}

/// An absolute path with no empty, `.` or `..` component (a trailing slash aside): gomig's rule
/// for believing `$PWD` (docs/resolution.md; Go's `os.Getwd` asks only that it be absolute and
/// name the working directory). One pass over the bytes.
pub fn is_clean_absolute(p: &[u8]) -> bool {
    if p.first() != Some(&b'/') {
        return false;
    }
    // The component being read: its length so far, and how many of its bytes are dots.
    let (mut len, mut dots) = (0usize, 0usize);
    let dot_name = |len: usize, dots: usize| len > 0 && len <= 2 && dots == len;
    for &c in &p[1..] {
        if c == b'/' {
            if len == 0 || dot_name(len, dots) {
                return false;
            }
            (len, dots) = (0, 0);
        } else {
            len += 1;
            dots += usize::from(c == b'.');
        }
    }
    // The last one: `/.` and `/..` are not clean; a trailing `/` (or `/` itself) is.
    !dot_name(len, dots)
}

/// Where the walk up from the working directory is, for probing by relative paths.
///
/// Each `lstat` of the walk costs the kernel one lookup per path component: from 8 levels
/// deep, `/home/me/src/project/.../.go-version` is a dozen, `../../.go-version` three. So
/// while the relative path is the shorter one, and only for the process's own working
/// directory named as `getcwd` names it (`..` is then the parent its path names), the probe
/// goes by `../` steps; what is found is then opened and reported by its absolute path.
struct Climb {
    levels: usize,
    /// Components of the absolute path of the directory being probed; 0: relative paths off.
    components: usize,
}

/// Room for `../` 27 times, a 14-byte name (`.tool-versions`) and its NUL.
const CLIMB_CAP: usize = 96;
/// `../` as many times as fits.
const UP: [u8; CLIMB_CAP] = {
    let mut up = [0u8; CLIMB_CAP];
    let mut i = 0;
    while i + 3 <= CLIMB_CAP {
        up[i] = b'.';
        up[i + 1] = b'.';
        up[i + 2] = b'/';
        i += 3;
    }
    up
};

impl Climb {
    fn new(env: &Env<'_>, cwd: &[u8]) -> Climb {
        let physical = env.cwd_is_working_dir && cwd.first() == Some(&b'/');
        Climb {
            levels: 0,
            components: if physical {
                cwd.split(|&c| c == b'/').filter(|c| !c.is_empty()).count()
            } else {
                0
            },
        }
    }

    /// One directory up.
    fn up(&mut self) {
        self.levels += 1;
        self.components = self.components.saturating_sub(1);
    }

    /// `lstat` of `name` in the directory being probed, whose absolute path is `dir` (left as
    /// it was). `ENAMETOOLONG` if the absolute path would not fit.
    ///
    /// Only a miss is answered by the relative path: a hit is looked up again by the absolute
    /// path, which is what is then opened and judged (whose link, whose file), so that a
    /// directory renamed or mounted over since `getcwd`, or one above that this user cannot
    /// search, is seen as the absolute walk sees it.
    fn lstat(&self, dir: &mut PathBuf, name: &[u8]) -> Result<sys::Meta, i32> {
        let absolute = |dir: &mut PathBuf| {
            let len = dir.len();
            dir.push(name).ok_or(libc::ENAMETOOLONG)?;
            let found = sys::lstat(dir);
            dir.truncate(len);
            found
        };
        let steps = 3 * self.levels;
        if self.levels >= self.components || steps + name.len() >= CLIMB_CAP {
            return absolute(dir);
        }
        // The absolute path must fit as well: past PATH_MAX the absolute walk fails.
        if dir.len() + 1 + name.len() >= sys::PATH_CAP {
            return Err(libc::ENAMETOOLONG);
        }
        // `../` as often as needed, then the name and its NUL: what `UP` does not hold is
        // written before the call reads it.
        let mut rel = UP;
        rel[steps..steps + name.len()].copy_from_slice(name);
        rel[steps + name.len()] = 0;
        os::lstat_of(rel.as_ptr().cast())?;
        absolute(dir)
    }
}

/// The file [`GoFiles::chosen`] picked.
struct Chosen {
    source: Source,
    probe: sys::Meta,
    dir_len: usize,
    /// Named by `GOWORK`: chosen by whoever set it, so its owner is not questioned.
    from_env: bool,
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
            if !is_installed(out, name.as_bytes()) {
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
    let link = !known_dir(out, name.as_bytes());
    locate_toolchain(&out.home, &name, out.tool, link, &mut out.goroot, &mut out.exe)
        .ok_or_else(|| Error::new(ErrorKind::BadPath, out.source))?;
    if out.name_only {
        return Ok(());
    }
    // The tree about to run, which may lie outside the store (an adopted GOROOT).
    out.exe_id = trust::check_toolchain(&out.home, &name, &out.checked, &out.goroot, out.tool.name(), out.euid)?;
    Ok(())
}

// Out of line like `version_file_in`: its line buffer must not add to the walk's frame.
#[inline(never)]
fn select_from_go_file(
    env: &Env<'_>,
    chosen: &Chosen,
    path: &PathBuf,
    shim_id: Option<FileId>,
    out: &mut Resolution,
) -> Result<(), Error> {
    let source = chosen.source;
    let mut go_text = [0u8; 64];
    let mut tc_text = [0u8; 64];
    // GOWORK's file is the choice of whoever set it: its owner is not questioned.
    let owner_rule = (!chosen.from_env).then_some(out.euid);
    let opened = open_version_file(path, chosen.dir_len, &chosen.probe, source, env, owner_rule).map_err(|mut e| {
        if chosen.from_env {
            e.value.set(b"GOWORK");
        }
        e
    });
    let Some((fd, _)) = opened? else {
        // A directory now, where the walk saw a file: as if it had not been there.
        return select_default(env, shim_id, out);
    };
    let mut reader = LineReader::new(fd).limit(files::GO_FILE_LIMIT);
    let found = match files::read_go_directives(&mut reader, &mut go_text, &mut tc_text) {
        Ok(found) => found,
        Err(files::TOO_LONG) => return Err(too_long(source, path, files::GO_FILE_LIMIT)),
        Err(e) => return Err(file_error(ErrorKind::Unreadable, source, path, e)),
    };
    out.source = source;
    out.file = path.clone();

    let mut base = out.base;
    let has_base = out.base_from_gotoolchain || read_default(&out.home, &mut base)?;
    if has_base {
        out.base = base;
    }

    // cmd/go's order (toolchain/select.go): a toolchain line newer than the base replaces it;
    // then a go line newer than that, compared as written (`1.22`, not `1.22.0`), wins and
    // only then becomes a release (`go1.22.0`). So `go 1.22` with `toolchain go1.22rc1` asks
    // for go1.22rc1, and with `toolchain go1.22` for go1.22. Equivalently: the toolchain
    // line unless the go line is newer, and the base unless that is newer than the base.
    let mut toolchain: Option<(Version<'_>, u32)> = None;
    if let Some(tc) = &found.toolchain {
        let value = &tc_text[..tc.len];
        out.line = tc.line;
        if value == b"default" {
            out.request.set(value);
            out.decided = Directive::Toolchain;
            out.rule = Rule::ToolchainDefault;
            return use_base(env, has_base, shim_id, out);
        }
        let v = Version::parse_go(value);
        if tc.truncated || !v.is_valid() || !version::is_safe_name(value) {
            return Err(Error::at(ErrorKind::BadToolchainLine, source, path, tc.line, value));
        }
        toolchain = Some((v, tc.line));
    }
    let mut go_line: Option<(Version<'_>, u32)> = None;
    if let Some(go) = &found.go {
        let value = &go_text[..go.len];
        let v = Version::parse(value);
        if go.truncated || !v.is_valid() {
            return Err(Error::at(ErrorKind::BadGoLine, source, path, go.line, value));
        }
        out.go_line.set(value);
        out.go_line_number = go.line;
        go_line = Some((v, go.line));
    }
    // (what decides, as written; the toolchain Go would ask for; which line; its number)
    let decision = match (go_line, toolchain) {
        (Some((g, line)), Some((t, _))) if g.compare(&t) == Ordering::Greater => {
            Some((g, g.lang_to_release(), Directive::Go, line))
        }
        (_, Some((t, line))) => Some((t, t, Directive::Toolchain, line)),
        (Some((g, line)), None) => Some((g, g.lang_to_release(), Directive::Go, line)),
        (None, None) => None,
    };
    let Some((min, asked, decided, line)) = decision else {
        // Neither line: nothing is required; the default applies.
        out.line = 0;
        out.rule = Rule::Default;
        return use_base(env, has_base, shim_id, out);
    };
    out.line = line;
    out.decided = decided;
    match decided {
        Directive::Go => out.request.set(&go_text[..found.go.as_ref().map_or(0, |f| f.len)]),
        _ => out
            .request
            .set(&tc_text[..found.toolchain.as_ref().map_or(0, |f| f.len)]),
    }
    out.requirement.set_canonical(&asked);

    if has_base && Version::parse_go(base.as_bytes()).compare(&min) != Ordering::Less {
        out.rule = Rule::BaseSatisfies;
        return use_base(env, has_base, shim_id, out);
    }
    out.rule = Rule::Upgrade;
    let mut name = Name::default();
    if !pick_installed(&out.home, &Want::AtLeast(asked), &mut name) {
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
        if !is_installed(out, out.name.as_bytes()) {
            if out.base_from_gotoolchain {
                let mut e = Error::at(
                    ErrorKind::NotInstalled,
                    Source::Gotoolchain,
                    &out.gotoolchain_file,
                    0,
                    b"",
                );
                e.value = out.name;
                return Err(e);
            }
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
    let mut shims = PathBuf::default();
    let shims_id = shims
        .set(out.home.as_bytes())
        .and_then(|()| shims.push(b"shims"))
        .and_then(|()| sys::stat(&shims).ok())
        .map(|m| m.id);
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
        out.exe_id = Some(meta.id);
        return Ok(());
    }
    let mut e = Error::at(ErrorKind::SystemNotFound, out.source, &out.file, out.line, b"");
    e.value.set(out.tool.name());
    Err(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rule Go's `os.Getwd` applies to `$PWD`, spelled out: absolute, with no `//`, `/./`
    /// or `/../`, and not ending in `/.` or `/..`.
    fn clean_by_substrings(p: &[u8]) -> bool {
        p.first() == Some(&b'/')
            && !p.windows(2).any(|w| w == b"//")
            && !p.windows(3).any(|w| w == b"/./")
            && !p.windows(4).any(|w| w == b"/../")
            && !p.ends_with(b"/.")
            && !p.ends_with(b"/..")
    }

    #[test]
    fn every_variable_the_resolver_reads_passes_the_first_byte_filter() {
        for key in Env::KEYS {
            assert!(Env::may_set(key[0]), "{}", String::from_utf8_lossy(key));
            let mut env = Env::default();
            env.set(key, b"value");
            // Each key lands in a field of its own: one of them is now set.
            let set = [
                env.gomig_go_version,
                env.gomig_home,
                env.home,
                env.xdg_data_home,
                env.gowork,
                env.go111module,
                env.tmpdir,
                env.path,
                env.pwd,
                env.gomig_config,
                env.xdg_config_home,
                env.gotoolchain,
                env.goenv,
            ]
            .iter()
            .filter(|v| v.is_some())
            .count();
            assert_eq!(set, 1, "{}", String::from_utf8_lossy(key));
        }
        // The shim's own variables.
        assert!(Env::may_set(b'G'));
        assert!(!Env::may_set(b'L') && !Env::may_set(b'S') && !Env::may_set(b'g'));
    }

    #[test]
    fn a_clean_pwd_is_absolute_with_no_empty_dot_or_dot_dot_component() {
        for (p, clean) in [
            ("/", true),
            ("/home/me/src", true),
            ("/home/me/src/", true),
            ("/a/.b/...c/..d/...", true),
            ("", false),
            ("home/me", false),
            ("//home", false),
            ("/home//me", false),
            ("/home/./me", false),
            ("/home/../me", false),
            ("/home/me/.", false),
            ("/home/me/..", false),
            ("/.", false),
            ("/..", false),
        ] {
            assert_eq!(is_clean_absolute(p.as_bytes()), clean, "{p:?}");
        }
        // Every path of up to five bytes over '/', '.', 'a': the one-pass rule is the same rule.
        let alphabet = [b'/', b'.', b'a'];
        let mut paths: Vec<Vec<u8>> = vec![vec![]];
        for _ in 0..5 {
            let longer: Vec<Vec<u8>> = paths
                .iter()
                .flat_map(|p| {
                    alphabet.iter().map(move |&c| {
                        let mut q = p.clone();
                        q.push(c);
                        q
                    })
                })
                .collect();
            for p in &longer {
                assert_eq!(
                    is_clean_absolute(p),
                    clean_by_substrings(p),
                    "{:?}",
                    String::from_utf8_lossy(p)
                );
            }
            paths = longer;
        }
    }

    #[test]
    fn a_path_with_a_nul_anywhere_is_refused() {
        let mut p = PathBuf::default();
        for len in 0..40 {
            for at in 0..len {
                let mut bytes = vec![b'x'; len];
                bytes[at] = 0;
                assert!(p.set(&bytes).is_none(), "NUL at {at} of {len}");
            }
            assert!(p.set(&vec![b'x'; len]).is_some());
            // High bytes next to each other never look like a NUL.
            assert!(p.set(&vec![0x80; len]).is_some());
            assert!(p.set(&vec![0xff; len]).is_some());
        }
    }

    #[test]
    fn the_climb_goes_relative_only_from_the_working_directory_and_while_shorter() {
        let working = Env {
            cwd_is_working_dir: true,
            ..Env::default()
        };
        let cwd = b"/home/me/src/project/a/b";
        let mut climb = Climb::new(&working, cwd);
        // Relative while `../` steps are fewer than the components of the absolute path:
        // in b, a and project (0, 1, 2 steps against 6, 5, 4 components)...
        for levels in 0..3 {
            assert!(climb.levels < climb.components, "level {levels}");
            climb.up();
        }
        // ...then the absolute path is as short: `/home/me/src/.go-version`.
        assert!(climb.levels >= climb.components);
        // A `$PWD` with a link on it, or a directory other than the working one: never.
        assert_eq!(Climb::new(&Env::default(), cwd).components, 0);
        assert_eq!(Climb::new(&working, b"relative/path").components, 0);
    }
}
