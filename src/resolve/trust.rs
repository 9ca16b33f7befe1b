//! The trust rule: whoever can write the store decides what `go` runs, so nothing from a store
//! that someone else could have changed is run or believed.
//!
//! # The rule
//!
//! A path is *safe* when it is owned by the effective user or by root and neither its group
//! nor others may write it. The store is trusted only when all of these are safe:
//!
//! - GOMIG_HOME itself, and every directory above it up to `/`;
//! - `shims/`, `toolchains/` and `state/` (the shim execs `state/gomig` to auto-install);
//! - the toolchain the `default` link names (`toolchains/<name>`; when that is an adopted link,
//!   the tree it leads to and every directory above that tree);
//! - the config file (`$GOMIG_CONFIG`, else `$XDG_CONFIG_HOME/gomig/config.toml`, else
//!   `$HOME/.config/gomig/config.toml`), when it exists.
//!
//! Before a toolchain runs, its `toolchains/<name>` entry, its `bin/` and the program itself
//! must be safe too; for an adopted tree outside the store that means its GOROOT and every
//! directory above it as well (Debian's root-owned `/usr/lib/go-1.19` passes).
//!
//! One exception, the one ssh's `StrictModes` and sudo make: a directory *above* the checked
//! path may be writable by others when it is sticky (`/tmp`, `/dev/shm`) and the entry below it
//! on the path is owned by you or root, because the sticky bit stops others from renaming or
//! removing entries they do not own. The checked path itself is never exempt.
//!
//! # How paths are walked
//!
//! A path is checked the way the kernel resolves it: component by component from `/`, with
//! `lstat`. A symbolic link must itself be owned by you or root (in a sticky directory anyone
//! may create one), and is followed: an absolute target restarts the walk at `/`, a relative
//! one continues from the link's directory, and `..` steps back in the path reached so far.
//! So every directory that is actually traversed is checked, not the directories the path
//! merely spells, and the walk ends with the real path of what it reached. More than 40 links
//! (the kernel's own limit) or a path longer than `PATH_MAX` cannot be checked and is refused.
//! A path that does not exist, or that this user cannot search, is not refused: nothing there
//! can be read or run either.
//!
//! Once a directory passes, only you or root can change what it holds, so the paths inside it
//! need one `lstat` each, and nothing checked can change between the check and the `execve`.
//!
//! Everything here is `core` and `libc` only, on fixed stack buffers, like the rest of the
//! resolver: the shim runs it on every call.

use super::sys::{self, FileId, FileKind, Meta, PathBuf};
use super::{Env, Error, ErrorKind, Name, Source, os};

/// The kernel's limit on symbolic links followed in one path resolution.
const MAX_LINKS: u32 = 40;
/// The sticky bit (`S_ISVTX`, whose C type differs between systems).
const STICKY: u32 = 0o1000;

/// What is wrong with a path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Problem {
    /// Owned by this user id: neither you nor root.
    Owner(u32),
    /// Writable by its group or by others (the permission bits, e.g. `0o777`).
    Writable(u32),
    /// A directory on the way that others can write and that is not sticky (its bits).
    ParentWritable(u32),
    /// Too many symbolic links or too long to check.
    Unchecked,
}

/// What the offending path is to gomig, for the message's consequence and fix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// GOMIG_HOME, or something inside it.
    Store,
    /// A directory above GOMIG_HOME.
    AboveStore,
    /// The config file.
    Config,
    /// An adopted toolchain's tree outside the store (its GOROOT, `bin/` or program).
    Toolchain,
    /// A directory above an adopted toolchain's tree.
    AboveToolchain,
}

/// Why a path is not trusted: carried by [`Error`] (kind [`ErrorKind::Untrusted`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Finding {
    pub problem: Problem,
    pub role: Role,
}

fn untrusted(path: &[u8], problem: Problem, role: Role, toolchain: &[u8]) -> Error {
    let mut e = Error::new(ErrorKind::Untrusted, Source::Default);
    // The path always fits: it is a prefix of a path that did.
    let _ = e.file.set(path);
    e.value = Name::from_bytes(toolchain);
    e.untrusted = Some(Finding { problem, role });
    e
}

pub fn owner_ok(uid: u32, euid: u32) -> bool {
    uid == euid || uid == 0
}

pub fn writable_bits(mode: u32) -> u32 {
    mode & 0o022
}

/// Where a walk reports problems: the object reached, and what lies above it.
#[derive(Clone, Copy)]
struct Roles {
    target: Role,
    above: Role,
}

/// Checks one entry of an already trusted directory with a single `lstat`: a link is walked
/// in full (`link_roles`), anything else must be safe itself (`role`). `Ok(None)` if absent.
fn check_entry(path: &PathBuf, role: Role, link_roles: Roles, euid: u32, name: &[u8]) -> Result<Option<Meta>, Error> {
    Ok(check_entry_linked(path, role, link_roles, euid, name)?.map(|(meta, _)| meta))
}

/// [`check_entry`], also saying whether the entry is a link (the `Meta` is then its target's).
fn check_entry_linked(
    path: &PathBuf,
    role: Role,
    link_roles: Roles,
    euid: u32,
    name: &[u8],
) -> Result<Option<(Meta, bool)>, Error> {
    let Ok(meta) = sys::lstat(path) else {
        return Ok(None);
    };
    if meta.kind == FileKind::Link {
        return Ok(walk_link(path, &meta, link_roles, euid, name)?.map(|m| (m, true)));
    }
    check_self(path.as_bytes(), &meta, role, euid, name)?;
    Ok(Some((meta, false)))
}

/// Walks the link at `path` (its `lstat` is `meta`), an entry of a directory that has passed
/// already, as [`walk`] of the whole `path` would: every directory above it passed, so an
/// absolute target is walked from `/` straight away, without an `lstat` of each directory
/// above the link again. A relative target goes through [`walk`] of the whole path, which
/// knows the real directory it continues from.
fn walk_link(path: &PathBuf, meta: &Meta, roles: Roles, euid: u32, name: &[u8]) -> Result<Option<Meta>, Error> {
    let mut real = PathBuf::default();
    let mut target = PathBuf::default();
    // Only a link that passes its own checks is taken apart here: whatever is to be reported
    // comes from the whole walk, which names the real path of what it found.
    let absolute = owner_ok(meta.uid, euid)
        && sys::readlink(path, &mut target).is_ok()
        && target.as_bytes().first() == Some(&b'/')
        && target.extend(b"/").is_some();
    if absolute {
        return walk_from(target.as_bytes(), roles, euid, name, &mut real, 1);
    }
    walk(path.as_bytes(), roles, euid, name, &mut real)
}

/// The checked object itself: yours or root's, not writable by group or others.
fn check_self(path: &[u8], meta: &Meta, role: Role, euid: u32, name: &[u8]) -> Result<(), Error> {
    if !owner_ok(meta.uid, euid) {
        return Err(untrusted(path, Problem::Owner(meta.uid), role, name));
    }
    if writable_bits(meta.mode) != 0 {
        return Err(untrusted(path, Problem::Writable(meta.mode & 0o7777), role, name));
    }
    Ok(())
}

/// Walks the absolute `path` from `/` as the kernel resolves it, following every link, and
/// checks each directory traversed, each link and the object reached (see the module doc).
/// On success `real` holds the path reached, free of links. `Ok(None)`: it cannot be reached.
fn walk(path: &[u8], roles: Roles, euid: u32, name: &[u8], real: &mut PathBuf) -> Result<Option<Meta>, Error> {
    walk_from(path, roles, euid, name, real, 0)
}

/// [`walk`], with `links` symbolic links followed already.
fn walk_from(
    path: &[u8],
    roles: Roles,
    euid: u32,
    name: &[u8],
    real: &mut PathBuf,
    mut links: u32,
) -> Result<Option<Meta>, Error> {
    let unchecked = |p: &[u8]| untrusted(p, Problem::Unchecked, roles.above, name);
    if path.first() != Some(&b'/') {
        return Err(unchecked(path));
    }
    let mut rest = PathBuf::default();
    rest.set(path).ok_or_else(|| unchecked(path))?;
    let mut pos = 0;
    real.set(b"/").ok_or_else(|| unchecked(path))?;
    let Ok(root) = sys::lstat(real) else {
        return Ok(None);
    };
    if !owner_ok(root.uid, euid) {
        return Err(untrusted(b"/", Problem::Owner(root.uid), roles.above, name));
    }
    let mut dir = root;
    loop {
        let bytes = rest.as_bytes();
        while pos < bytes.len() && bytes[pos] == b'/' {
            pos += 1;
        }
        if pos == bytes.len() {
            break;
        }
        let end = bytes[pos..]
            .iter()
            .position(|&c| c == b'/')
            .map_or(bytes.len(), |i| pos + i);
        let comp = &bytes[pos..end];
        pos = end;
        if comp == b"." {
            continue;
        }
        if comp == b".." {
            real.pop();
            match sys::lstat(real) {
                Ok(m) => dir = m,
                Err(_) => return Ok(None),
            }
            continue;
        }
        if dir.kind != FileKind::Dir {
            return Ok(None);
        }
        let parent_len = real.len();
        real.push(comp).ok_or_else(|| unchecked(path))?;
        let Ok(meta) = sys::lstat(real) else {
            return Ok(None);
        };
        let last = meta.kind != FileKind::Link && bytes[pos..].iter().all(|&c| c == b'/');
        // The directory holding it: others may write it only if it is sticky and this entry
        // is ours (checked just below).
        if writable_bits(dir.mode) != 0 && dir.mode & STICKY == 0 {
            let parent = &real.as_bytes()[..parent_len];
            return Err(untrusted(
                parent,
                Problem::ParentWritable(dir.mode & 0o7777),
                roles.above,
                name,
            ));
        }
        if !owner_ok(meta.uid, euid) {
            let role = if last { roles.target } else { roles.above };
            return Err(untrusted(real.as_bytes(), Problem::Owner(meta.uid), role, name));
        }
        if meta.kind == FileKind::Link {
            links += 1;
            if links > MAX_LINKS {
                return Err(unchecked(real.as_bytes()));
            }
            match continue_at_target(real, &mut rest, pos) {
                Ok(true) => {}
                Ok(false) => return Ok(None),
                Err(()) => return Err(unchecked(real.as_bytes())),
            }
            real.truncate(parent_len);
            if rest.as_bytes().first() == Some(&b'/') {
                real.set(b"/").ok_or_else(|| unchecked(path))?;
                dir = root;
            }
            pos = 0;
            continue;
        }
        dir = meta;
    }
    if writable_bits(dir.mode) != 0 {
        return Err(untrusted(
            real.as_bytes(),
            Problem::Writable(dir.mode & 0o7777),
            roles.target,
            name,
        ));
    }
    Ok(Some(dir))
}

/// Replaces `rest` with what the walk reads next after the link `link` (whose name ends at
/// `rest[..pos]`): the link's target, then the rest of the path. `Ok(false)` when the link
/// cannot be read, `Err` when the two do not fit in a path. Out of line: most calls walk no
/// link, and its buffer then takes stack only while it runs.
#[inline(never)]
fn continue_at_target(link: &PathBuf, rest: &mut PathBuf, pos: usize) -> Result<bool, ()> {
    let mut target = PathBuf::default();
    if sys::readlink(link, &mut target).is_err() {
        return Ok(false);
    }
    if target.extend(b"/").is_none() || target.extend(&rest.as_bytes()[pos..]).is_none() {
        return Err(());
    }
    *rest = target;
    Ok(true)
}

/// Whether `path` leads (links followed) to a regular file that only you or root could have put
/// there: every directory traversed, every link and the file itself are safe by the rule above.
/// For what the store records by path outside its checked directories (a pruned toolchain's
/// archive), which gomig would otherwise unpack and run on someone else's word.
pub fn is_safe_file(path: &PathBuf) -> bool {
    reaches_safe(path, FileKind::File)
}

/// Whether `path` leads (links followed) to a directory that only you or root could have
/// changed, by the same walk: what gomig enters on a path's word (a distro's split GOROOT).
pub fn is_safe_dir(path: &PathBuf) -> bool {
    reaches_safe(path, FileKind::Dir)
}

fn reaches_safe(path: &PathBuf, kind: FileKind) -> bool {
    let mut real = PathBuf::default();
    matches!(
        walk(path.as_bytes(), store_links(), os::geteuid(), b"", &mut real),
        Ok(Some(m)) if m.kind == kind
    )
}

/// Checks the store at `home` and the config file `env` names (see the module doc). A store
/// that does not exist yet passes: nothing in it can run. `checked` is left holding the name
/// of the toolchain the default names, whose entry this checked (empty if none), so that
/// [`check_toolchain`] need not walk it again.
pub fn check_store(env: &Env<'_>, home: &PathBuf, checked: &mut Name) -> Result<(), Error> {
    check_store_noting(env, home, checked, os::geteuid()).map(drop)
}

/// [`check_store`], also saying whether the default's entry is a directory (not a link): its
/// `lstat` then answers what the resolver would `stat` and `readlink` it for.
pub fn check_store_noting(env: &Env<'_>, home: &PathBuf, checked: &mut Name, euid: u32) -> Result<bool, Error> {
    *checked = Name::default();
    let store = Roles {
        target: Role::Store,
        above: Role::AboveStore,
    };
    let mut real = PathBuf::default();
    if walk(home.as_bytes(), store, euid, b"", &mut real)?.is_none() {
        return check_config(env, euid).map(|()| false);
    }
    let len = real.len();
    let fail = || Error::new(ErrorKind::BadPath, Source::Default);
    for sub in [&b"shims"[..], b"toolchains", b"state"] {
        real.push(sub).ok_or_else(fail)?;
        check_entry(&real, Role::Store, store_links(), euid, b"")?;
        real.truncate(len);
    }

    // The toolchain the default names, as `read_default` reads it: the link's last component.
    real.push(b"default").ok_or_else(fail)?;
    let mut target = PathBuf::default();
    let mut dir = false;
    if sys::readlink(&real, &mut target).is_ok() && !target.file_name().is_empty() {
        let name = target.file_name();
        real.truncate(len);
        real.push(b"toolchains").ok_or_else(fail)?;
        real.push(name).ok_or_else(fail)?;
        let entry = check_entry_linked(&real, Role::Store, adopted(), euid, name)?;
        dir = matches!(entry, Some((m, false)) if m.kind == FileKind::Dir);
        checked.set(name);
    }
    check_config(env, euid).map(|()| dir)
}

/// A link inside the store (`shims/`, say) leads somewhere that counts as the store.
fn store_links() -> Roles {
    Roles {
        target: Role::Store,
        above: Role::AboveStore,
    }
}

/// `lstat`, or nothing (`Ok(None)`) when the entry was checked already.
fn lstat_unless(path: &PathBuf, checked: bool) -> Result<Option<Meta>, i32> {
    if checked { Ok(None) } else { sys::lstat(path).map(Some) }
}

fn adopted() -> Roles {
    Roles {
        target: Role::Toolchain,
        above: Role::AboveToolchain,
    }
}

/// The config file, if there is one: the file it names (links followed) must be safe.
fn check_config(env: &Env<'_>, euid: u32) -> Result<(), Error> {
    let mut path = PathBuf::default();
    if config_path(env, &mut path).is_none() {
        return Ok(());
    }
    match sys::stat(&path) {
        Ok(meta) => check_self(path.as_bytes(), &meta, Role::Config, euid, b""),
        Err(_) => Ok(()),
    }
}

/// Where the config file is: `$GOMIG_CONFIG`, else `$XDG_CONFIG_HOME/gomig/config.toml`
/// (when absolute), else `$HOME/.config/gomig/config.toml`.
pub fn config_path(env: &Env<'_>, out: &mut PathBuf) -> Option<()> {
    if let Some(c) = env.gomig_config {
        return out.set(c);
    }
    if let Some(x) = env.xdg_config_home.filter(|x| x[0] == b'/') {
        out.set(x)?;
        return out.push(b"gomig/config.toml");
    }
    let home = env.home.filter(|h| h[0] == b'/')?;
    out.set(home)?;
    out.push(b".config/gomig/config.toml")
}

/// Checks the toolchain about to run: its `toolchains/<name>` entry in the trusted store at
/// `home` (for an adopted link, the tree it leads to and every directory above it, unless
/// [`check_store`] already walked it: `checked`), then `bin/` and `bin/<tool>` under `goroot`,
/// the tree the resolver will run. On success, the identity of the program it reached (links
/// followed, so what `stat` of it would say), if it exists.
pub fn check_toolchain(
    home: &PathBuf,
    name: &Name,
    checked: &Name,
    goroot: &PathBuf,
    tool: &[u8],
    euid: u32,
) -> Result<Option<FileId>, Error> {
    let name = name.as_bytes();
    let fail = || Error::new(ErrorKind::BadPath, Source::Default);
    let mut path = PathBuf::default();
    path.set(home.as_bytes()).ok_or_else(fail)?;
    path.push(b"toolchains").ok_or_else(fail)?;
    path.push(name).ok_or_else(fail)?;
    let role = match lstat_unless(&path, checked.as_bytes() == name) {
        Err(_) => return Ok(None),
        // Walked by `check_store` already: a link when the resolver followed one.
        Ok(None) if goroot.as_bytes() != path.as_bytes() => Role::Toolchain,
        Ok(None) => Role::Store,
        Ok(Some(meta)) if meta.kind == FileKind::Link => {
            if walk_link(&path, &meta, adopted(), euid, name)?.is_none() {
                return Ok(None);
            }
            Role::Toolchain
        }
        Ok(Some(meta)) => {
            check_self(path.as_bytes(), &meta, Role::Store, euid, name)?;
            Role::Store
        }
    };
    // Inside a checked directory: one `lstat` each (a link is walked in full).
    path.set(goroot.as_bytes()).ok_or_else(fail)?;
    path.push(b"bin").ok_or_else(fail)?;
    if check_entry(&path, role, adopted(), euid, name)?.is_none() {
        return Ok(None);
    }
    path.push(tool).ok_or_else(fail)?;
    Ok(check_entry(&path, role, adopted(), euid, name)?.map(|m| m.id))
}
