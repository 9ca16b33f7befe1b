//! The one walker of a GOROOT on disk, shared by the manifest scan and the archive writer.
//!
//! It never follows a link (a link is reported, with its target, and not entered), with one
//! exception: a distro's split tree (below), whose links are the tree's own layout. It reports
//! devices, sockets and FIFOs by kind without opening them (reading a FIFO would hang), and
//! returns the entries sorted by their relative path bytes: the order the manifest body and the
//! archive are written in, so the same tree gives the same bytes everywhere.

use std::fs;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File,
    Dir,
    Symlink,
    Fifo,
    Socket,
    CharDevice,
    BlockDevice,
}

impl Kind {
    /// Devices, sockets and FIFOs: never part of a Go release.
    pub fn is_special(self) -> bool {
        !matches!(self, Kind::File | Kind::Dir | Kind::Symlink)
    }

    fn of(ft: fs::FileType) -> Kind {
        if ft.is_symlink() {
            Kind::Symlink
        } else if ft.is_dir() {
            Kind::Dir
        } else if ft.is_file() {
            Kind::File
        } else if ft.is_fifo() {
            Kind::Fifo
        } else if ft.is_socket() {
            Kind::Socket
        } else if ft.is_char_device() {
            Kind::CharDevice
        } else {
            Kind::BlockDevice
        }
    }
}

/// One entry below the root (the root itself is not one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeEntry {
    /// Relative to the root, `/`-separated, raw bytes.
    pub rel: Vec<u8>,
    /// Where it is on disk: the root joined with `rel`.
    pub path: PathBuf,
    pub kind: Kind,
    /// Permission bits (`0o7777` mask); 0 for symlinks, whose own bits mean nothing.
    pub mode: u32,
    /// A regular file's length; 0 for every other kind.
    pub size: u64,
    /// Seconds since the epoch (0 for earlier times).
    pub mtime: u64,
    /// A symlink's target, as stored in the link.
    pub target: Option<Vec<u8>>,
}

/// What could not be read, and why. (`cause`, not `source`: the message already shows it.)
#[derive(Debug, thiserror::Error)]
#[error("cannot read {}: {cause}", crate::lookup::shown(path.as_os_str().as_encoded_bytes()))]
pub struct TreeError {
    pub path: PathBuf,
    pub cause: io::Error,
}

impl From<TreeError> for io::Error {
    /// Keeps the kind, so callers that look at it still can.
    fn from(e: TreeError) -> io::Error {
        io::Error::new(e.cause.kind(), e)
    }
}

/// Every entry below `root`, sorted by relative path bytes, without following links (but a
/// distro's split-tree links, [`split_tree_link`], which stand for the directories they name).
pub fn walk(root: &Path) -> Result<Vec<TreeEntry>, TreeError> {
    let mut entries = Vec::new();
    walk_dir(root, root, b"", &mut entries)?;
    entries.sort_by(|a, b| a.rel.cmp(&b.rel));
    Ok(entries)
}

/// Debian and Ubuntu ship `/usr/lib/go-1.19` with `src`, `api`, `misc`, `test` and
/// `pkg/include` as links into `/usr/share/go-1.19`: one tree in two halves, and `go` reads
/// its standard library through them. A link at `rel` inside `root` is such a link when it
/// names exactly `S/rel`, where `S` is another directory with the same name as `root` (the
/// other half), and the directory it names passes the trust rule (`resolve::trust`: it and
/// every directory on the way to it, links followed, are yours or root's and not writable by
/// others, sticky directories above it aside). Returns the directory
/// it names; anything else is an ordinary link, reported and never entered.
pub fn split_tree_link(root: &Path, rel: &Path, link: &Path) -> Option<PathBuf> {
    let target = fs::read_link(link).ok()?;
    let named = link_names(link, &target)?;
    let mut half = named.as_path();
    for _ in rel.components() {
        half = half.parent()?;
    }
    if half.join(rel) != named || half == root || half.file_name()? != root.file_name()? {
        return None;
    }
    // The trust rule's own walk: every directory actually traversed (not only those the path
    // spells) and the half itself yours or root's and not writable by others.
    let path = crate::resolve::sys::PathBuf::from_bytes(named.as_os_str().as_bytes())?;
    crate::resolve::trust::is_safe_dir(&path).then_some(named)
}

/// The path a link at `link` with `target` names, resolved lexically (`..` drops the
/// component before it; nothing on disk is looked at). `None` for a link with no parent.
pub fn link_names(link: &Path, target: &Path) -> Option<PathBuf> {
    use std::path::Component;
    let mut at: Vec<Component> = if target.is_absolute() {
        Vec::new()
    } else {
        link.parent()?.components().collect()
    };
    for c in target.components() {
        match c {
            Component::RootDir => at = vec![Component::RootDir],
            Component::CurDir => {}
            Component::ParentDir => {
                at.pop();
            }
            c => at.push(c),
        }
    }
    Some(at.iter().collect())
}

fn walk_dir(root: &Path, dir: &Path, rel_dir: &[u8], out: &mut Vec<TreeEntry>) -> Result<(), TreeError> {
    let at = |p: &Path| {
        let path = p.to_path_buf();
        move |cause| TreeError { path, cause }
    };
    for item in fs::read_dir(dir).map_err(at(dir))? {
        let item = item.map_err(at(dir))?;
        let path = item.path();
        let mut rel = rel_dir.to_vec();
        if !rel.is_empty() {
            rel.push(b'/');
        }
        rel.extend_from_slice(item.file_name().as_bytes());
        let meta = fs::symlink_metadata(&path).map_err(at(&path))?;
        let kind = Kind::of(meta.file_type());
        if kind == Kind::Symlink
            && let Some(half) = split_tree_link(root, Path::new(std::ffi::OsStr::from_bytes(&rel)), &path)
        {
            // The other half of the tree, recorded as the directory `go` sees here.
            let real = fs::metadata(&half).map_err(at(&half))?;
            out.push(TreeEntry {
                rel: rel.clone(),
                kind: Kind::Dir,
                mode: real.mode() & 0o7777,
                size: 0,
                mtime: real.mtime().max(0) as u64,
                target: None,
                path: half.clone(),
            });
            walk_dir(root, &half, &rel, out)?;
            continue;
        }
        let target = match kind {
            Kind::Symlink => Some(fs::read_link(&path).map_err(at(&path))?.as_os_str().as_bytes().to_vec()),
            _ => None,
        };
        out.push(TreeEntry {
            rel: rel.clone(),
            kind,
            mode: if kind == Kind::Symlink { 0 } else { meta.mode() & 0o7777 },
            size: if kind == Kind::File { meta.len() } else { 0 },
            mtime: meta.mtime().max(0) as u64,
            target,
            path: path.clone(),
        });
        if kind == Kind::Dir {
            walk_dir(root, &path, &rel, out)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{PermissionsExt, symlink};

    fn rels(entries: &[TreeEntry]) -> Vec<&[u8]> {
        entries.iter().map(|e| e.rel.as_slice()).collect()
    }

    #[test]
    fn entries_come_sorted_by_path_bytes_not_by_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        fs::create_dir_all(root.join("a/b")).unwrap();
        fs::write(root.join("a/b/z"), "z").unwrap();
        // '-' sorts before '/', so a-c comes between a and a/b in path order.
        fs::write(root.join("a-c"), "12345").unwrap();
        fs::write(root.join("B"), "").unwrap();
        let entries = walk(root).unwrap();
        assert_eq!(
            rels(&entries),
            [&b"B"[..], b"a", b"a-c", b"a/b", b"a/b/z"],
            "the manifest's order"
        );
        let file = &entries[2];
        assert_eq!(
            (file.kind, file.size, file.path.clone()),
            (Kind::File, 5, root.join("a-c"))
        );
        assert_eq!(entries[1].kind, Kind::Dir);
        assert_eq!(entries[1].size, 0);
    }

    #[test]
    fn links_are_reported_with_their_target_and_never_followed() {
        let tmp = tempfile::tempdir().unwrap();
        let outside = tmp.path().join("outside");
        fs::create_dir_all(&outside).unwrap();
        fs::write(outside.join("secret"), "x").unwrap();
        let root = tmp.path().join("go");
        fs::create_dir_all(&root).unwrap();
        symlink(&outside, root.join("out")).unwrap();
        symlink("missing", root.join("dangling")).unwrap();
        let entries = walk(&root).unwrap();
        assert_eq!(rels(&entries), [&b"dangling"[..], b"out"]);
        for e in &entries {
            assert_eq!((e.kind, e.mode, e.size), (Kind::Symlink, 0, 0));
        }
        assert_eq!(entries[0].target.as_deref(), Some(&b"missing"[..]));
        assert_eq!(entries[1].target.as_deref(), Some(outside.as_os_str().as_bytes()));
    }

    /// `mknod` at `path`; root only for devices.
    fn mknod(path: &Path, kind: libc::mode_t, dev: libc::dev_t) -> bool {
        let c = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        unsafe { libc::mknod(c.as_ptr(), kind | 0o640, dev) == 0 }
    }

    #[test]
    fn a_fifo_is_reported_by_kind_without_being_opened() {
        let tmp = tempfile::tempdir().unwrap();
        let fifo = tmp.path().join("pipe");
        assert!(mknod(&fifo, libc::S_IFIFO, 0));
        fs::set_permissions(&fifo, fs::Permissions::from_mode(0o640)).unwrap();
        // Opening a FIFO without a writer would block: the walk finishing shows it does not.
        let entries = walk(tmp.path()).unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(
            (entries[0].kind, entries[0].mode, entries[0].size),
            (Kind::Fifo, 0o640, 0)
        );
        assert!(entries[0].kind.is_special());
    }

    #[test]
    fn a_device_is_reported_by_kind() {
        let tmp = tempfile::tempdir().unwrap();
        if mknod(&tmp.path().join("null"), libc::S_IFCHR, libc::makedev(1, 3)) {
            let entries = walk(tmp.path()).unwrap();
            assert_eq!(rels(&entries), [&b"null"[..]]);
            assert_eq!(entries[0].kind, Kind::CharDevice);
        } else {
            // Not root: the kernel's own device says the same.
            let meta = fs::symlink_metadata("/dev/null").unwrap();
            assert_eq!(Kind::of(meta.file_type()), Kind::CharDevice);
        }
        assert!(Kind::CharDevice.is_special() && Kind::BlockDevice.is_special() && Kind::Socket.is_special());
        assert!(!Kind::File.is_special() && !Kind::Dir.is_special() && !Kind::Symlink.is_special());
    }

    const UNREADABLE: &str = "integrity::tree::tests::an_unreadable_directory_is_an_error_naming_it";

    #[test]
    fn an_unreadable_directory_is_an_error_naming_it() {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } == 0 {
            // Root reads a 000 directory anyway: run this test again as nobody.
            use std::os::unix::process::CommandExt;
            let mut child = std::process::Command::new(std::env::current_exe().unwrap());
            child.args(["--exact", UNREADABLE, "--test-threads=1"]);
            // SAFETY: only async-signal-safe system calls between fork and exec.
            unsafe {
                child.pre_exec(|| {
                    if libc::setgroups(0, std::ptr::null()) != 0 || libc::setgid(65534) != 0 || libc::setuid(65534) != 0
                    {
                        return Err(io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
            let out = child.output().unwrap();
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success() && text.contains("1 passed"),
                "{text}{}",
                String::from_utf8_lossy(&out.stderr)
            );
            return;
        }
        let tmp = tempfile::tempdir().unwrap();
        let locked = tmp.path().join("src/locked");
        fs::create_dir_all(&locked).unwrap();
        fs::write(locked.join("f"), "").unwrap();
        fs::set_permissions(&locked, fs::Permissions::from_mode(0o000)).unwrap();
        let result = walk(tmp.path());
        fs::set_permissions(&locked, fs::Permissions::from_mode(0o755)).unwrap();
        let err = result.unwrap_err();
        assert_eq!(err.path, locked);
        assert_eq!(err.cause.kind(), io::ErrorKind::PermissionDenied);
        assert_eq!(
            err.to_string(),
            format!("cannot read {}: {}", locked.display(), err.cause)
        );
        let io: io::Error = err.into();
        assert_eq!(io.kind(), io::ErrorKind::PermissionDenied);
        assert!(io.to_string().contains(&locked.display().to_string()), "{io}");
    }
}
