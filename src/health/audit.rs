//! `gomig audit`: what could let someone else change the Go you run, or weaken what Go checks.
//!
//! - every toolchain and the store: nothing group- or world-writable, owned by you or root, no
//!   setuid/setgid files, no symlink leaving its GOROOT;
//! - the shims directory; and the surroundings doctor checks too ([`super::surroundings`]):
//!   every `PATH` entry before the shims and the directories above it, the `system` Go, the
//!   config file;
//! - Go settings, in the environment and in each toolchain's `go env` (the GOENV file and
//!   `$GOROOT/go.env`): GOSUMDB=off, GOINSECURE, GONOSUMDB/GOPRIVATE covering everything, an
//!   `http://` GOPROXY, `-insecure` in GOFLAGS, a GOTOOLCHAIN that downloads toolchains.
//!
//! Each finding has a severity and a fix; [`repair`] applies the permission fixes, and only
//! inside GOMIG_HOME: gomig never changes trees it does not own.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

use serde::Serialize;

use crate::store::{Store, Toolchain};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
}

impl Severity {
    pub fn label(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
        }
    }
}

/// A permission change `--fix` may make.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Repair {
    pub path: PathBuf,
    /// Bits to clear.
    #[serde(serialize_with = "octal")]
    pub clear: u32,
    /// The device and inode number of the entry that was checked: the only one changed.
    #[serde(skip)]
    pub dev: u64,
    #[serde(skip)]
    pub ino: u64,
}

fn octal<S: serde::Serializer>(v: &u32, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format!("{v:04o}"))
}

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub severity: Severity,
    /// A stable name for the kind of problem (`world-writable`, `gosumdb-off`, ...).
    pub check: &'static str,
    /// The path or setting concerned.
    pub subject: String,
    pub message: String,
    pub fix: String,
    /// `--fix` can repair it (a permission inside GOMIG_HOME).
    pub fixable: bool,
    #[serde(skip)]
    pub repair: Option<Repair>,
}

/// What the audit reads besides the file system: the environment, and who runs it.
pub struct Context {
    pub vars: BTreeMap<String, String>,
    pub path: Option<OsString>,
    pub uid: u32,
}

impl Context {
    pub fn capture() -> Context {
        Context {
            vars: std::env::vars().collect(),
            path: std::env::var_os("PATH"),
            // SAFETY: geteuid has no preconditions.
            uid: unsafe { libc::geteuid() },
        }
    }
}

pub(crate) fn chmod_cmd(clear: u32, path: &Path) -> String {
    let mut who = String::new();
    let mut what = String::new();
    if clear & 0o022 != 0 {
        if clear & 0o020 != 0 {
            who.push('g');
        }
        if clear & 0o002 != 0 {
            who.push('o');
        }
        what = format!("{who}-w");
    }
    if clear & 0o6000 != 0 {
        if !what.is_empty() {
            what.push(',');
        }
        what.push_str("ug-s");
    }
    format!("chmod {what} {}", shell_quote(path))
}

pub(crate) fn shell_quote(path: &Path) -> String {
    let s = path.display().to_string();
    if s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"/._-+@%:,".contains(&b))
    {
        s
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

struct Auditor<'a> {
    ctx: &'a Context,
    findings: Vec<Finding>,
}

impl Auditor<'_> {
    fn push(&mut self, f: Finding) {
        self.findings.push(f);
    }

    /// Permission, owner and setuid checks for one entry (not a symlink).
    fn entry(&mut self, path: &Path, meta: &fs::Metadata, owned: bool) {
        let mode = meta.mode() & 0o7777;
        let fixable = owned;
        let where_ = if owned {
            ""
        } else {
            " (outside GOMIG_HOME: gomig leaves it to you)"
        };
        let writable = mode & 0o022;
        if writable != 0 {
            let (severity, check, who) = if mode & 0o002 != 0 {
                (Severity::High, "world-writable", "every user")
            } else {
                (Severity::Medium, "group-writable", "the group")
            };
            let kind = if meta.is_dir() { "directory" } else { "file" };
            self.push(Finding {
                severity,
                check,
                subject: path.display().to_string(),
                message: format!("{kind} {} is writable by {who} (mode {mode:04o})", path.display()),
                fix: format!("{}{where_}", chmod_cmd(writable, path)),
                fixable,
                repair: fixable.then(|| Repair {
                    path: path.to_path_buf(),
                    clear: writable,
                    dev: meta.dev(),
                    ino: meta.ino(),
                }),
            });
        }
        if meta.is_file() && mode & 0o6000 != 0 {
            let bits = mode & 0o6000;
            self.push(Finding {
                severity: Severity::High,
                check: "setuid",
                subject: path.display().to_string(),
                message: format!(
                    "{} has the {} bit (mode {mode:04o}): it runs with its owner's rights",
                    path.display(),
                    if bits == 0o6000 {
                        "setuid and setgid"
                    } else if bits & 0o4000 != 0 {
                        "setuid"
                    } else {
                        "setgid"
                    }
                ),
                fix: format!("{}{where_}", chmod_cmd(bits, path)),
                fixable,
                repair: fixable.then(|| Repair {
                    path: path.to_path_buf(),
                    clear: bits,
                    dev: meta.dev(),
                    ino: meta.ino(),
                }),
            });
        }
        let uid = meta.uid();
        if uid != self.ctx.uid && uid != 0 {
            self.push(Finding {
                severity: Severity::Medium,
                check: "owner",
                subject: path.display().to_string(),
                message: format!(
                    "{} is owned by uid {uid}, neither you (uid {}) nor root: that user can change it",
                    path.display(),
                    self.ctx.uid
                ),
                fix: format!("chown {} {}", self.ctx.uid, shell_quote(path)),
                fixable: false,
                repair: None,
            });
        }
    }

    /// Walks a tree (not following links). `goroot`: symlinks must stay inside it.
    fn walk(&mut self, dir: &Path, goroot: Option<&Path>, owned: bool, skip: &[PathBuf]) {
        let Ok(items) = fs::read_dir(dir) else { return };
        for item in items.flatten() {
            let path = item.path();
            if skip.contains(&path) {
                continue;
            }
            let Ok(meta) = fs::symlink_metadata(&path) else {
                continue;
            };
            if meta.file_type().is_symlink() {
                if let Some(root) = goroot {
                    match split_tree_link(root, &path) {
                        // A distro's own layout: its other half is checked like the rest.
                        Some(half) => self.walk(&half, Some(&half), owned, skip),
                        None => self.symlink(root, &path, owned),
                    }
                }
                continue;
            }
            self.entry(&path, &meta, owned);
            if meta.is_dir() {
                self.walk(&path, goroot, owned, skip);
            }
        }
    }

    fn symlink(&mut self, root: &Path, link: &Path, owned: bool) {
        let Ok(target) = fs::read_link(link) else { return };
        if stays_inside(root, link, &target) {
            return;
        }
        self.push(Finding {
            severity: Severity::Medium,
            check: "symlink-escape",
            subject: link.display().to_string(),
            message: format!(
                "symlink {} points outside its GOROOT {} (to {}): what it runs or reads is not part of the toolchain gomig checks",
                link.display(),
                root.display(),
                target.display()
            ),
            fix: if owned {
                format!(
                    "check that {} is trusted, or remove the link and reinstall the toolchain",
                    target.display()
                )
            } else {
                format!("check that {} is trusted (the tree is not gomig's)", target.display())
            },
            fixable: false,
            repair: None,
        });
    }

    /// Risky Go settings; `cause` says where the values came from.
    fn settings(&mut self, values: &BTreeMap<String, String>, cause: &str) {
        let get = |k: &str| values.get(k).map(String::as_str).unwrap_or("").trim();
        let covers_all = |v: &str| {
            v.split(',')
                .map(str::trim)
                .any(|p| p == "*" || p == "*/*" || p == "*.*")
        };
        let mut add = |severity, check, key: &str, value: &str, message: String, fix: &str| {
            self.findings.push(Finding {
                severity,
                check,
                subject: format!("{key}={value} ({cause})"),
                message,
                fix: fix.to_string(),
                fixable: false,
                repair: None,
            });
        };
        if get("GOSUMDB") == "off" {
            add(
                Severity::High,
                "gosumdb-off",
                "GOSUMDB",
                "off",
                "GOSUMDB=off: module downloads are not checked against the checksum database".into(),
                "unset GOSUMDB (go env -u GOSUMDB), or list private modules in GOPRIVATE instead",
            );
        }
        let insecure = get("GOINSECURE");
        if !insecure.is_empty() {
            let all = covers_all(insecure);
            add(
                if all { Severity::High } else { Severity::Medium },
                "goinsecure",
                "GOINSECURE",
                insecure,
                format!(
                    "GOINSECURE={insecure}: {} fetched over plain HTTP and without certificate checks",
                    if all { "every module is" } else { "these modules are" }
                ),
                "unset GOINSECURE (go env -u GOINSECURE); serve those modules over HTTPS",
            );
        }
        for key in ["GONOSUMDB", "GOPRIVATE", "GONOSUMCHECK"] {
            let v = get(key);
            if v.is_empty() {
                continue;
            }
            if key == "GONOSUMCHECK" {
                add(
                    Severity::Low,
                    "gonosumcheck",
                    key,
                    v,
                    "GONOSUMCHECK is set: it asks to skip checksum checks (current Go ignores it, older betas did not)"
                        .into(),
                    "unset GONOSUMCHECK",
                );
            } else if covers_all(v) {
                add(
                    Severity::High,
                    "nosumdb-all",
                    key,
                    v,
                    format!("{key}={v} covers every module: none is checked against the checksum database"),
                    "list only your private module paths (e.g. GOPRIVATE=example.com/corp/*)",
                );
            }
        }
        let proxy = get("GOPROXY");
        for p in proxy.split([',', '|']).map(str::trim) {
            if p.to_ascii_lowercase().starts_with("http://") {
                add(
                    Severity::High,
                    "goproxy-http",
                    "GOPROXY",
                    proxy,
                    format!(
                        "GOPROXY uses {p} over plain HTTP: anyone on the network path can change what you download"
                    ),
                    "use an https:// proxy (the default is https://proxy.golang.org,direct)",
                );
            }
        }
        let flags = get("GOFLAGS");
        if flags
            .split_whitespace()
            .any(|f| f == "-insecure" || f.starts_with("-insecure="))
        {
            add(
                Severity::High,
                "goflags-insecure",
                "GOFLAGS",
                flags,
                "GOFLAGS has -insecure: downloads without HTTPS or certificate checks".into(),
                "remove -insecure from GOFLAGS",
            );
        }
    }

    fn gotoolchain_env(&mut self) {
        let Some(v) = self.ctx.vars.get("GOTOOLCHAIN").map(|v| v.trim().to_string()) else {
            return;
        };
        if v == "local" || v == "path" || v.ends_with("+path") {
            return;
        }
        self.push(Finding {
            severity: Severity::Medium,
            check: "gotoolchain-download",
            subject: format!("GOTOOLCHAIN={v} (environment)"),
            message: format!(
                "GOTOOLCHAIN={v} is exported: the go shim serves it from gomig's store (and hands go a GOTOOLCHAIN that cannot download), but a go started without the shim may download and run a toolchain gomig did not install or verify"
            ),
            fix: "pin with gomig shell VERSION or gomig local VERSION instead, then unset GOTOOLCHAIN".into(),
            fixable: false,
            repair: None,
        });
    }
}

/// The directory a distro split-tree link at `path` below `root` stands for.
fn split_tree_link(root: &Path, path: &Path) -> Option<PathBuf> {
    let rel = path.strip_prefix(root).ok()?;
    crate::integrity::tree::split_tree_link(root, rel, path)
}

/// Whether `target` of the link at `link` stays inside `root`, lexically.
pub fn stays_inside(root: &Path, link: &Path, target: &Path) -> bool {
    // A link with no parent is the root itself: what it names is resolved from the root.
    let named = crate::integrity::tree::link_names(link, target)
        .or_else(|| crate::integrity::tree::link_names(&root.join("."), target));
    named.is_some_and(|p| p.starts_with(root))
}

/// The go env keys the settings check reads.
const SETTING_KEYS: &[&str] = &["GOFLAGS", "GOINSECURE", "GONOSUMDB", "GOPRIVATE", "GOPROXY", "GOSUMDB"];

/// Runs every check. Toolchains whose `go env` cannot run are skipped for the settings check
/// (`gomig verify` is what reports a broken toolchain).
pub fn audit(store: &Store, toolchains: &[Toolchain], ctx: &Context) -> Vec<Finding> {
    let home = fs::canonicalize(store.home()).unwrap_or_else(|_| store.home().to_path_buf());
    let mut a = Auditor {
        ctx,
        findings: Vec::new(),
    };
    let shims = home.join("shims");
    // GOMIG_HOME and the shims directory: others writing there control what `go` is.
    for (dir, what) in [(&home, "GOMIG_HOME"), (&shims, "the shims directory")] {
        a.findings
            .extend(super::surroundings::path_dir(dir, what, Severity::High, ctx.uid, &home));
    }
    // The store, each installed toolchain's tree with the symlink rule.
    let toolchains_dir = home.join("toolchains");
    let mut skip = vec![shims.clone(), toolchains_dir.clone()];
    a.walk(&home, None, true, &skip);
    if fs::symlink_metadata(&shims).is_ok_and(|m| m.is_dir()) {
        a.walk(&shims, None, true, &[]);
    }
    if let Ok(meta) = fs::symlink_metadata(&toolchains_dir)
        && meta.is_dir()
    {
        a.entry(&toolchains_dir, &meta, true);
        skip.clear();
        let Ok(items) = fs::read_dir(&toolchains_dir) else {
            return a.findings;
        };
        for item in items.flatten() {
            let path = item.path();
            let Ok(meta) = fs::symlink_metadata(&path) else {
                continue;
            };
            if meta.is_dir() {
                a.entry(&path, &meta, true);
                a.walk(&path, Some(&path), true, &[]);
            }
        }
    }
    // Adopted trees: checked, never changed.
    for t in toolchains {
        if let Some(root) = &t.adopted_from {
            let root = fs::canonicalize(root).unwrap_or_else(|_| root.clone());
            let owned = root.starts_with(&home);
            if let Ok(meta) = fs::metadata(&root) {
                a.entry(&root, &meta, owned);
                a.walk(&root, Some(&root), owned, &[]);
            }
        }
    }
    // PATH before the shims, the system Go, the config file: the checks doctor makes too.
    a.findings.extend(super::surroundings::check(ctx, &home));
    a.settings(&ctx.vars, "environment");
    a.gotoolchain_env();
    // What each toolchain's go env says beyond the environment (the GOENV file, $GOROOT/go.env):
    // one finding per setting, naming every toolchain that has it.
    let mut by_setting: BTreeMap<(&'static str, String), (Finding, Vec<String>)> = BTreeMap::new();
    for t in toolchains {
        let Ok(values) = crate::integrity::fingerprint::go_env(t.root(), SETTING_KEYS) else {
            continue;
        };
        let values: BTreeMap<String, String> = values.into_iter().filter(|(k, v)| ctx.vars.get(k) != Some(v)).collect();
        let before = a.findings.len();
        a.settings(&values, "");
        for f in a.findings.drain(before..).collect::<Vec<_>>() {
            let entry = by_setting
                .entry((f.check, f.subject.clone()))
                .or_insert_with(|| (f, Vec::new()));
            entry.1.push(t.name.clone());
        }
    }
    for (_, (mut f, names)) in by_setting {
        f.subject = format!(
            "{} (go env of {}: the GOENV file or $GOROOT/go.env)",
            f.subject.trim_end_matches(" ()"),
            names.join(", ")
        );
        a.findings.push(f);
    }
    a.findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    a.findings
}

/// A permission change that was made.
#[derive(Debug, Clone, Serialize)]
pub struct Fixed {
    pub path: String,
    pub from: String,
    pub to: String,
}

/// Why a permission fix was not made.
#[derive(Debug, thiserror::Error)]
pub enum RepairError {
    #[error("cannot change the mode of {path}: {cause}; nothing was changed there: check it and run chmod yourself")]
    Io { path: String, cause: std::io::Error },
    #[error(
        "did not change the mode of {path}: it is not the entry that was checked any more ({what}); nothing was changed there: someone who can write its directory may be tampering with it: check who owns {dir} and run gomig audit again"
    )]
    Changed {
        path: String,
        dir: String,
        what: &'static str,
    },
}

/// A descriptor this module opened (closed when dropped).
struct Fd(libc::c_int);

impl Drop for Fd {
    fn drop(&mut self) {
        // SAFETY: the descriptor is ours and closed once.
        unsafe { libc::close(self.0) };
    }
}

fn c_name(bytes: &[u8]) -> std::io::Result<std::ffi::CString> {
    std::ffi::CString::new(bytes).map_err(|_| std::io::Error::from_raw_os_error(libc::EINVAL))
}

fn openat(dir: libc::c_int, name: &[u8], flags: libc::c_int) -> std::io::Result<Fd> {
    let name = c_name(name)?;
    // SAFETY: `name` is NUL-terminated; the result is checked.
    let fd = unsafe { libc::openat(dir, name.as_ptr(), flags | libc::O_CLOEXEC | libc::O_NOCTTY) };
    if fd < 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(Fd(fd))
    }
}

fn fstat(fd: &Fd) -> std::io::Result<libc::stat> {
    // SAFETY: an all-zero `stat` is valid; fstat fills it in.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `fd` is open and `st` is writable.
    if unsafe { libc::fstat(fd.0, &mut st) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(st)
}

/// What an `openat` with `O_NOFOLLOW` failing says about the entry.
enum Reached {
    Entry(Fd, libc::stat, bool),
    /// A link (or a non-directory) where the checked path had a directory or the entry.
    Changed(&'static str),
}

/// Opens the entry at `path` (absolute, `.`/`..`-free) from `/`, one component at a time,
/// never following a link: a directory handle for each directory on the way, and for the
/// entry itself a read-only descriptor (`O_NONBLOCK`: no FIFO or device blocks or acts on the
/// open) or, when it cannot be read, an `O_PATH` one. The `bool` says which (`true`: `O_PATH`).
fn open_entry(path: &Path) -> std::io::Result<Reached> {
    use std::os::unix::ffi::OsStrExt;
    let mut names: Vec<&[u8]> = Vec::new();
    for c in path.components() {
        match c {
            Component::RootDir => {}
            Component::Normal(n) => names.push(n.as_bytes()),
            _ => return Err(std::io::Error::from_raw_os_error(libc::EINVAL)),
        }
    }
    let Some((last, dirs)) = names.split_last() else {
        return Err(std::io::Error::from_raw_os_error(libc::EINVAL));
    };
    let dir_flags = libc::O_PATH | libc::O_DIRECTORY | libc::O_NOFOLLOW;
    let mut dir = openat(libc::AT_FDCWD, b"/", dir_flags)?;
    for name in dirs {
        dir = match openat(dir.0, name, dir_flags) {
            Ok(fd) => fd,
            Err(e) if matches!(e.raw_os_error(), Some(libc::ELOOP | libc::ENOTDIR)) => {
                return Ok(Reached::Changed("a directory on its path is now a link or a file"));
            }
            Err(e) => return Err(e),
        };
    }
    let (fd, o_path) = match openat(dir.0, last, libc::O_RDONLY | libc::O_NOFOLLOW | libc::O_NONBLOCK) {
        Ok(fd) => (fd, false),
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => return Ok(Reached::Changed("it is now a link")),
        Err(e) if e.raw_os_error() == Some(libc::EACCES) => {
            (openat(dir.0, last, libc::O_PATH | libc::O_NOFOLLOW)?, true)
        }
        Err(e) => return Err(e),
    };
    let st = fstat(&fd)?;
    Ok(Reached::Entry(fd, st, o_path))
}

/// Changes the mode of the entry `fd` holds, never anything a link leads to: `fchmod` on a
/// read-only descriptor; for an `O_PATH` descriptor of a file or directory (never of a link:
/// the caller checked), `chmod` of its `/proc/self/fd` entry, which names that inode itself.
fn chmod_fd(fd: &Fd, o_path: bool, mode: u32) -> std::io::Result<()> {
    // SAFETY: plain system calls on a descriptor we own / a NUL-terminated path.
    let rc = if o_path {
        let proc = c_name(format!("/proc/self/fd/{}", fd.0).as_bytes())?;
        unsafe { libc::chmod(proc.as_ptr(), mode as libc::mode_t) }
    } else {
        unsafe { libc::fchmod(fd.0, mode as libc::mode_t) }
    };
    if rc < 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// One repair, through a handle on the very entry that was checked.
fn repair_one(r: &Repair) -> Result<Option<Fixed>, RepairError> {
    let path = r.path.display().to_string();
    let changed = |what| RepairError::Changed {
        path: path.clone(),
        dir: r.path.parent().unwrap_or(Path::new("/")).display().to_string(),
        what,
    };
    let io = |cause| RepairError::Io {
        path: path.clone(),
        cause,
    };
    let (fd, st, o_path) = match open_entry(&r.path) {
        Ok(Reached::Entry(fd, st, o_path)) => (fd, st, o_path),
        Ok(Reached::Changed(what)) => return Err(changed(what)),
        // Gone since: nothing to repair.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(e)),
    };
    let kind = st.st_mode & libc::S_IFMT;
    if kind != libc::S_IFREG && kind != libc::S_IFDIR {
        return Err(changed("it is not a regular file or a directory"));
    }
    if st.st_dev != r.dev || st.st_ino != r.ino {
        return Err(changed("another file has taken its name"));
    }
    let mode = st.st_mode & 0o7777;
    let new = mode & !r.clear;
    if new == mode {
        return Ok(None);
    }
    chmod_fd(&fd, o_path, new).map_err(io)?;
    Ok(Some(Fixed {
        path,
        from: format!("{mode:04o}"),
        to: format!("{new:04o}"),
    }))
}

/// Applies the repairs of `findings` that are inside `home` (checked again here: nothing
/// outside GOMIG_HOME is ever changed). Each change is made through a descriptor on the entry
/// itself, opened from `/` without following any link and checked to be the very file or
/// directory the audit saw (device and inode): a link is never followed or changed, and an
/// entry swapped for a link or another file between the check and the change is left alone.
pub fn repair(home: &Path, findings: &[Finding]) -> (Vec<Fixed>, Vec<RepairError>) {
    let home = fs::canonicalize(home).unwrap_or_else(|_| home.to_path_buf());
    let mut fixed = Vec::new();
    let mut errors = Vec::new();
    for r in findings.iter().filter_map(|f| f.repair.as_ref()) {
        if !r.path.starts_with(&home)
            || r.path
                .components()
                .any(|c| !matches!(c, Component::RootDir | Component::Normal(_)))
        {
            continue;
        }
        match repair_one(r) {
            Ok(Some(f)) => fixed.push(f),
            Ok(None) => {}
            Err(e) => errors.push(e),
        }
    }
    (fixed, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_inside_and_outside_a_goroot() {
        let root = Path::new("/s/toolchains/go1.22.10");
        let link = root.join("misc/x/link");
        assert!(stays_inside(root, &link, Path::new("../../src/fmt")));
        assert!(stays_inside(root, &link, Path::new("/s/toolchains/go1.22.10/bin/go")));
        assert!(!stays_inside(root, &link, Path::new("../../../go1.21.13/bin")));
        assert!(!stays_inside(root, &link, Path::new("/etc/passwd")));
        assert!(!stays_inside(root, &link, Path::new("../../../go1.22.10x/bin")));
    }

    #[test]
    fn chmod_commands_name_what_to_clear() {
        assert_eq!(chmod_cmd(0o022, Path::new("/a")), "chmod go-w /a");
        assert_eq!(chmod_cmd(0o4000, Path::new("/a b")), "chmod ug-s '/a b'");
    }
}
