//! An emulation of the Go download site (<https://go.dev/dl/>) on 127.0.0.1, for tests of
//! `gomig install`: the JSON index, the archives, and faults injected at run time.
//!
//! ```ignore
//! let site = Site::start(vec![Release::from_goroot("1.22.10", &go_dist("1.22.10"))]);
//! site.fault_times("go1.22.10.linux-amd64.tar.gz", Fault::DropAfter(1 << 20), 1);
//! // ... run `gomig install 1.22.10` with the mirror set to site.url() ...
//! assert_eq!(site.downloads("go1.22.10.linux-amd64.tar.gz"), 2); // the drop, then the resume
//! ```
//!
//! Archives of real Go trees are built once in the official layout and cached under
//! `target/dlsite-cache/` across test runs (see [`cached_archive`]).
#![allow(dead_code)]

use std::collections::HashMap;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use flate2::Compression;
use flate2::write::GzEncoder;
use sha2::{Digest, Sha256};

// ---------------------------------------------------------------------------------------------
// Archives
// ---------------------------------------------------------------------------------------------

/// Bumped whenever the archive layout changes, so stale cache entries are rebuilt.
const ARCHIVE_FORMAT: u32 = 1;

/// Level 1: the 226 MB Go tree compresses in a fraction of the default level's time (this code
/// runs unoptimised in test builds), and clients cannot tell the difference.
const GZIP_LEVEL: u32 = 1;

/// Where built archives are kept across test runs.
pub fn cache_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/dlsite-cache")
}

/// The Go names of this machine's OS and architecture, e.g. `("linux", "amd64")`.
pub fn host_platform() -> (&'static str, &'static str) {
    let os = match std::env::consts::OS {
        "macos" => "darwin",
        os => os,
    };
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "arm" => "armv6l",
        "powerpc64" => "ppc64",
        arch => arch,
    };
    (os, arch)
}

/// `"1.22.10"` or `"go1.22.10"` → `"go1.22.10"`.
pub fn go_version(version: &str) -> String {
    if version.starts_with("go") {
        version.to_string()
    } else {
        format!("go{version}")
    }
}

/// The official archive name for this host, e.g. `go1.22.10.linux-amd64.tar.gz`.
pub fn official_filename(version: &str) -> String {
    let (os, arch) = host_platform();
    format!("{}.{os}-{arch}.tar.gz", go_version(version))
}

/// An archive in the cache: do not modify it (serve a copy, or use a [`Fault`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CachedArchive {
    pub path: PathBuf,
    pub sha256: String,
    pub size: u64,
}

/// Writes `out/<official_filename(version)>` (`out` is a directory): `goroot`'s tree in the
/// official layout (every entry under `go/`, directories included, modes kept, sorted,
/// gzipped). Returns its sha256 (hex) and size. Copies from the cache, building it if needed.
pub fn official_archive(goroot: &Path, version: &str, out: &Path) -> (String, u64) {
    let cached = cached_archive(goroot, version)
        .unwrap_or_else(|e| panic!("dlsite: archive of {} for {version}: {e}", goroot.display()));
    let dest = out.join(official_filename(version));
    fs::copy(&cached.path, &dest)
        .unwrap_or_else(|e| panic!("dlsite: copy {} to {}: {e}", cached.path.display(), dest.display()));
    (cached.sha256, cached.size)
}

/// The official archive of `goroot` as `version`, from `target/dlsite-cache/`. The cache entry
/// is keyed by version and checked against a fingerprint of the tree (paths, modes, sizes,
/// mtimes), so a different tree under the same version replaces it rather than being served
/// stale. Concurrent callers (threads or test processes) build it once, under a lock; the
/// archive is built under a temporary name and renamed into place.
pub fn cached_archive(goroot: &Path, version: &str) -> io::Result<CachedArchive> {
    let entries = walk_tree(goroot)?;
    let fingerprint = fingerprint(&entries);
    let dir = cache_dir();
    fs::create_dir_all(&dir)?;
    let name = official_filename(version);
    let path = dir.join(&name);
    let meta_path = dir.join(format!("{name}.meta"));

    if let Some(hit) = cache_hit(&path, &meta_path, &fingerprint) {
        return Ok(hit);
    }
    let _lock = FileLock::acquire(&dir.join(format!(".lock-{name}")))?;
    // Another process may have built it while this one waited for the lock.
    if let Some(hit) = cache_hit(&path, &meta_path, &fingerprint) {
        return Ok(hit);
    }
    let tmp = dir.join(format!(".tmp-{name}-{}", std::process::id()));
    let built = build_archive(goroot, &entries, &tmp);
    let (sha256, size) = match built {
        Ok(done) => done,
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            return Err(io::Error::new(e.kind(), format!("building {name}: {e}")));
        }
    };
    fs::rename(&tmp, &path)?;
    // The metadata goes last: a reader that sees it also sees the archive it describes.
    let meta_tmp = dir.join(format!(".tmp-{name}.meta-{}", std::process::id()));
    fs::write(&meta_tmp, format!("{fingerprint} {sha256} {size}\n"))?;
    fs::rename(&meta_tmp, &meta_path)?;
    Ok(CachedArchive { path, sha256, size })
}

fn cache_hit(path: &Path, meta_path: &Path, fingerprint: &str) -> Option<CachedArchive> {
    let meta = fs::read_to_string(meta_path).ok()?;
    let mut fields = meta.split_whitespace();
    if fields.next()? != fingerprint {
        return None;
    }
    let sha256 = fields.next()?.to_string();
    let size: u64 = fields.next()?.parse().ok()?;
    (fs::metadata(path).ok()?.len() == size).then(|| CachedArchive {
        path: path.to_path_buf(),
        sha256,
        size,
    })
}

/// An exclusive `flock` on a file, released when dropped (the descriptor closes).
struct FileLock(File);

impl FileLock {
    fn acquire(path: &Path) -> io::Result<FileLock> {
        let file = OpenOptions::new().create(true).truncate(false).write(true).open(path)?;
        // SAFETY: flock on a descriptor this function owns; no memory is involved.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(FileLock(file))
    }
}

#[derive(Debug)]
enum TreeKind {
    Dir,
    File { size: u64 },
    Symlink { target: PathBuf },
}

/// One entry of a tree, `rel` relative to its root (`""` for the root itself).
#[derive(Debug)]
struct TreeEntry {
    rel: String,
    kind: TreeKind,
    mode: u32,
    mtime: u64,
}

/// The tree under `root`, depth first, each directory's entries sorted by name.
fn walk_tree(root: &Path) -> io::Result<Vec<TreeEntry>> {
    let mut out = Vec::new();
    walk_into(root, "", &mut out).map_err(|e| io::Error::new(e.kind(), format!("walking {}: {e}", root.display())))?;
    Ok(out)
}

fn walk_into(path: &Path, rel: &str, out: &mut Vec<TreeEntry>) -> io::Result<()> {
    let meta = fs::symlink_metadata(path)?;
    let kind = if meta.is_dir() {
        TreeKind::Dir
    } else if meta.is_file() {
        TreeKind::File { size: meta.len() }
    } else if meta.file_type().is_symlink() {
        TreeKind::Symlink {
            target: fs::read_link(path)?,
        }
    } else {
        return Err(io::Error::other(format!(
            "{} is neither a file, a directory nor a symlink",
            path.display()
        )));
    };
    let is_dir = matches!(kind, TreeKind::Dir);
    out.push(TreeEntry {
        rel: rel.to_string(),
        kind,
        mode: meta.mode() & 0o7777,
        mtime: u64::try_from(meta.mtime()).unwrap_or(0),
    });
    if is_dir {
        let mut names = fs::read_dir(path)?
            .map(|e| e.map(|e| e.file_name()))
            .collect::<io::Result<Vec<_>>>()?;
        names.sort();
        for name in names {
            let name = name
                .into_string()
                .map_err(|n| io::Error::other(format!("non-UTF-8 name {n:?} in {}", path.display())))?;
            let child_rel = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            walk_into(&path.join(&name), &child_rel, out)?;
        }
    }
    Ok(())
}

fn fingerprint(entries: &[TreeEntry]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(format!("dlsite archive format {ARCHIVE_FORMAT} gzip {GZIP_LEVEL}\n"));
    for e in entries {
        let kind = match &e.kind {
            TreeKind::Dir => "d".to_string(),
            TreeKind::File { size } => format!("f {size}"),
            TreeKind::Symlink { target } => format!("l {}", target.display()),
        };
        hasher.update(format!("{} {:o} {} {kind}\n", e.rel, e.mode, e.mtime));
    }
    hex(&hasher.finalize())
}

/// Writes the official-layout archive of `entries` (from `root`) to `dest`.
fn build_archive(root: &Path, entries: &[TreeEntry], dest: &Path) -> io::Result<(String, u64)> {
    let file = File::create(dest)?;
    let hashing = HashingWriter::new(BufWriter::with_capacity(1 << 20, file));
    let mut tar = tar::Builder::new(GzEncoder::new(hashing, Compression::new(GZIP_LEVEL)));
    for e in entries {
        let name = match (&e.kind, e.rel.is_empty()) {
            (TreeKind::Dir, true) => "go/".to_string(),
            (TreeKind::Dir, false) => format!("go/{}/", e.rel),
            _ => format!("go/{}", e.rel),
        };
        let name = name.as_bytes();
        match &e.kind {
            TreeKind::Dir => {
                let kind = tar::EntryType::Directory;
                append(&mut tar, kind, name, None, e.mode, e.mtime, 0, io::empty())?;
            }
            TreeKind::File { size } => {
                let data = File::open(root.join(&e.rel))?.take(*size);
                let kind = tar::EntryType::Regular;
                append(&mut tar, kind, name, None, e.mode, e.mtime, *size, data)?;
            }
            TreeKind::Symlink { target } => {
                let target = target.as_os_str().as_encoded_bytes();
                let kind = tar::EntryType::Symlink;
                append(&mut tar, kind, name, Some(target), e.mode, e.mtime, 0, io::empty())?;
            }
        }
    }
    let hashing = tar.into_inner()?.finish()?;
    let (sha256, size, buffered) = hashing.finish();
    let file = buffered.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    Ok((sha256, size))
}

/// An entry for [`write_tar_gz`]. Names and link targets are written verbatim (no `..` or
/// absolute-path checks), so hostile archives can be built.
#[derive(Clone, Debug)]
pub enum TarEntry {
    File {
        name: String,
        mode: u32,
        data: Vec<u8>,
    },
    Dir {
        name: String,
        mode: u32,
    },
    Symlink {
        name: String,
        target: String,
    },
    Hardlink {
        name: String,
        target: String,
    },
    /// A character device node (`major`, `minor`), such as `/dev/null` (1, 3).
    CharDevice {
        name: String,
        major: u32,
        minor: u32,
    },
    /// A named pipe.
    Fifo {
        name: String,
    },
}

/// Writes `entries`, in order, as a gzipped tar at `out`; returns its sha256 (hex) and size.
pub fn write_tar_gz(out: &Path, entries: &[TarEntry]) -> (String, u64) {
    let build = || -> io::Result<(String, u64)> {
        let file = File::create(out)?;
        let mut tar = tar::Builder::new(GzEncoder::new(
            HashingWriter::new(BufWriter::new(file)),
            Compression::new(GZIP_LEVEL),
        ));
        for entry in entries {
            append_entry(&mut tar, entry, 1_700_000_000)?;
        }
        let (sha256, size, buffered) = tar.into_inner()?.finish()?.finish();
        buffered.into_inner().map_err(|e| e.into_error())?;
        Ok((sha256, size))
    };
    build().unwrap_or_else(|e| panic!("dlsite: writing {}: {e}", out.display()))
}

fn append_entry<W: Write>(tar: &mut tar::Builder<W>, entry: &TarEntry, mtime: u64) -> io::Result<()> {
    use tar::EntryType;
    match entry {
        TarEntry::File { name, mode, data } => append(
            tar,
            EntryType::Regular,
            name.as_bytes(),
            None,
            *mode,
            mtime,
            data.len() as u64,
            data.as_slice(),
        ),
        TarEntry::Dir { name, mode } => append(
            tar,
            EntryType::Directory,
            name.as_bytes(),
            None,
            *mode,
            mtime,
            0,
            io::empty(),
        ),
        TarEntry::Symlink { name, target } => append(
            tar,
            EntryType::Symlink,
            name.as_bytes(),
            Some(target.as_bytes()),
            0o777,
            mtime,
            0,
            io::empty(),
        ),
        TarEntry::Hardlink { name, target } => append(
            tar,
            EntryType::Link,
            name.as_bytes(),
            Some(target.as_bytes()),
            0o644,
            mtime,
            0,
            io::empty(),
        ),
        TarEntry::CharDevice { name, major, minor } => {
            append_special(tar, EntryType::Char, name, *major, *minor, mtime)
        }
        TarEntry::Fifo { name } => append_special(tar, EntryType::Fifo, name, 0, 0, mtime),
    }
}

/// A device node or FIFO entry (no data), name stored byte for byte.
fn append_special<W: Write>(
    tar: &mut tar::Builder<W>,
    kind: tar::EntryType,
    name: &str,
    major: u32,
    minor: u32,
    mtime: u64,
) -> io::Result<()> {
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(kind);
    header.set_mode(0o666);
    header.set_mtime(mtime);
    header.set_uid(0);
    header.set_gid(0);
    header.set_size(0);
    header.set_device_major(major)?;
    header.set_device_minor(minor)?;
    copy_truncated(&mut header.as_old_mut().name, name.as_bytes());
    header.set_cksum();
    tar.append(&header, io::empty())
}

/// Appends one entry with a GNU header, names stored byte for byte (tar's own path setters
/// normalise them, dropping a directory's trailing `/` and refusing `..`); names or link
/// targets over 100 bytes get GNU long-name records, as GNU tar writes them.
#[allow(clippy::too_many_arguments)]
fn append<W: Write, R: Read>(
    tar: &mut tar::Builder<W>,
    kind: tar::EntryType,
    name: &[u8],
    link: Option<&[u8]>,
    mode: u32,
    mtime: u64,
    size: u64,
    data: R,
) -> io::Result<()> {
    if name.len() > 100 {
        append_long_name(tar, tar::EntryType::GNULongName, name)?;
    }
    if let Some(link) = link.filter(|l| l.len() > 100) {
        append_long_name(tar, tar::EntryType::GNULongLink, link)?;
    }
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(kind);
    header.set_mode(mode);
    header.set_mtime(mtime);
    header.set_uid(0);
    header.set_gid(0);
    header.set_size(size);
    let old = header.as_old_mut();
    copy_truncated(&mut old.name, name);
    if let Some(link) = link {
        copy_truncated(&mut old.linkname, link);
    }
    header.set_cksum();
    tar.append(&header, data)
}

fn append_long_name<W: Write>(tar: &mut tar::Builder<W>, kind: tar::EntryType, value: &[u8]) -> io::Result<()> {
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(kind);
    header.set_mode(0o644);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(0);
    header.set_size(value.len() as u64 + 1);
    copy_truncated(&mut header.as_old_mut().name, b"././@LongLink");
    header.set_cksum();
    tar.append(
        &header,
        value.iter().copied().chain([0]).collect::<Vec<u8>>().as_slice(),
    )
}

fn copy_truncated(slot: &mut [u8], value: &[u8]) {
    slot.fill(0);
    let n = value.len().min(slot.len());
    slot[..n].copy_from_slice(&value[..n]);
}

/// Hashes and counts what passes through, so an archive's sha256 needs no second read.
struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    len: u64,
}

impl<W: Write> HashingWriter<W> {
    fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hasher: Sha256::new(),
            len: 0,
        }
    }

    fn finish(self) -> (String, u64, W) {
        (hex(&self.hasher.finalize()), self.len, self.inner)
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// The sha256 (hex) and size of a file.
pub fn sha256_file(path: &Path) -> io::Result<(String, u64)> {
    let mut file = File::open(path)?;
    let mut hashing = HashingWriter::new(io::sink());
    io::copy(&mut file, &mut hashing)?;
    let (sha256, size, _) = hashing.finish();
    Ok((sha256, size))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

// ---------------------------------------------------------------------------------------------
// Releases
// ---------------------------------------------------------------------------------------------

/// One file of a release, as the index lists it, and where its bytes are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DistFile {
    pub filename: String,
    /// `""` for source archives, as on go.dev.
    pub os: String,
    pub arch: String,
    /// `archive`, `installer` or `source`.
    pub kind: String,
    pub sha256: String,
    pub size: u64,
    /// The bytes served; `None` for a file that is listed but answers 404.
    pub path: Option<PathBuf>,
    /// Leave `sha256` out of the index entry.
    pub omit_sha256: bool,
}

impl DistFile {
    /// `filename` served from `path`, its sha256 and size computed now; OS, architecture and
    /// kind come from the name (`go1.22.10.linux-amd64.tar.gz`), or are the host's archive.
    pub fn new(filename: &str, path: &Path) -> DistFile {
        let (sha256, size) = sha256_file(path).unwrap_or_else(|e| panic!("dlsite: reading {}: {e}", path.display()));
        let (os, arch, kind) = classify(filename);
        DistFile {
            filename: filename.to_string(),
            os,
            arch,
            kind,
            sha256,
            size,
            path: Some(path.to_path_buf()),
            omit_sha256: false,
        }
    }

    /// A file listed in the index (with a made-up sha256 and size) that answers 404: the
    /// other platforms' files of a realistic release.
    pub fn listed(filename: &str) -> DistFile {
        let (os, arch, kind) = classify(filename);
        DistFile {
            filename: filename.to_string(),
            os,
            arch,
            kind,
            sha256: hex(&Sha256::digest(filename.as_bytes())),
            size: 60_000_000 + filename.len() as u64,
            path: None,
            omit_sha256: false,
        }
    }

    pub fn omit_sha256(mut self) -> DistFile {
        self.omit_sha256 = true;
        self
    }

    pub fn platform(mut self, os: &str, arch: &str) -> DistFile {
        self.os = os.to_string();
        self.arch = arch.to_string();
        self
    }

    pub fn kind(mut self, kind: &str) -> DistFile {
        self.kind = kind.to_string();
        self
    }
}

/// (os, arch, kind) from a go.dev file name.
fn classify(filename: &str) -> (String, String, String) {
    let (stem, kind) = if let Some(stem) = filename.strip_suffix(".tar.gz") {
        (stem, "archive")
    } else if let Some(stem) = filename.strip_suffix(".zip") {
        (stem, "archive")
    } else if let Some(stem) = filename.strip_suffix(".msi").or_else(|| filename.strip_suffix(".pkg")) {
        (stem, "installer")
    } else {
        (filename, "archive")
    };
    match stem.rsplit_once('.').map(|(_, platform)| platform) {
        Some("src") => (String::new(), String::new(), "source".to_string()),
        Some(platform) if platform.contains('-') => {
            let (os, arch) = platform.split_once('-').unwrap_or((platform, ""));
            (os.to_string(), arch.to_string(), kind.to_string())
        }
        _ => {
            let (os, arch) = host_platform();
            (os.to_string(), arch.to_string(), kind.to_string())
        }
    }
}

/// A release in the index: its version (`go1.22.10`), stability and files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Release {
    pub version: String,
    /// False for rc and beta releases (inferred from the version).
    pub stable: bool,
    pub files: Vec<DistFile>,
}

impl Release {
    /// A release without files; `version` as `1.22.10` or `go1.22.10`.
    pub fn new(version: &str) -> Release {
        let version = go_version(version);
        let stable = version_key(&version).2 == STAGE_RELEASE;
        Release {
            version,
            stable,
            files: Vec::new(),
        }
    }

    /// The real release: this host's official archive of `goroot` (built via the cache and
    /// served from it), plus the other files go.dev lists for a release (source, other
    /// platforms, installers), which answer 404.
    pub fn from_goroot(version: &str, goroot: &Path) -> Release {
        let archive = cached_archive(goroot, version)
            .unwrap_or_else(|e| panic!("dlsite: archive of {} for {version}: {e}", goroot.display()));
        let mut release = Release::new(version);
        let v = release.version.clone();
        let own = official_filename(version);
        let mut files: Vec<DistFile> = [
            format!("{v}.src.tar.gz"),
            format!("{v}.darwin-amd64.pkg"),
            format!("{v}.darwin-amd64.tar.gz"),
            format!("{v}.darwin-arm64.pkg"),
            format!("{v}.darwin-arm64.tar.gz"),
            format!("{v}.linux-386.tar.gz"),
            format!("{v}.linux-amd64.tar.gz"),
            format!("{v}.linux-arm64.tar.gz"),
            format!("{v}.windows-amd64.msi"),
            format!("{v}.windows-amd64.zip"),
        ]
        .iter()
        .filter(|name| **name != own)
        .map(|name| DistFile::listed(name))
        .collect();
        let (os, arch) = host_platform();
        files.push(DistFile {
            filename: own,
            os: os.to_string(),
            arch: arch.to_string(),
            kind: "archive".to_string(),
            sha256: archive.sha256,
            size: archive.size,
            path: Some(archive.path),
            omit_sha256: false,
        });
        files.sort_by(|a, b| a.filename.cmp(&b.filename));
        release.files = files;
        release
    }

    /// A release of one file, `filename` served from `bytes_path` (e.g. a hostile archive).
    pub fn custom(version: &str, filename: &str, bytes_path: &Path) -> Release {
        Release::new(version).with_file(DistFile::new(filename, bytes_path))
    }

    pub fn with_file(mut self, file: DistFile) -> Release {
        self.files.push(file);
        self
    }

    /// Leaves every file's sha256 out of the index.
    pub fn omit_sha256(mut self) -> Release {
        for f in &mut self.files {
            f.omit_sha256 = true;
        }
        self
    }

    pub fn file(&self, filename: &str) -> Option<&DistFile> {
        self.files.iter().find(|f| f.filename == filename)
    }

    /// This host's archive, if the release has one.
    pub fn host_archive(&self) -> Option<&DistFile> {
        let (os, arch) = host_platform();
        self.files
            .iter()
            .find(|f| f.os == os && f.arch == arch && f.kind == "archive")
    }
}

const STAGE_BETA: u8 = 0;
const STAGE_RC: u8 = 1;
const STAGE_RELEASE: u8 = 2;

/// Go's version order: go1.21beta1 < go1.21rc1 < go1.21rc2 < go1.21.0 < go1.21.1 (go1.20 is
/// go1.20.0). Returns (major, minor, stage, patch or pre-release number).
fn version_key(version: &str) -> (u64, u64, u8, u64) {
    let v = version.strip_prefix("go").unwrap_or(version);
    let (base, stage, pre) = if let Some((base, n)) = v.split_once("rc") {
        (base, STAGE_RC, n)
    } else if let Some((base, n)) = v.split_once("beta") {
        (base, STAGE_BETA, n)
    } else {
        (v, STAGE_RELEASE, "")
    };
    let mut nums = base.split('.').map(|p| p.parse::<u64>().unwrap_or(0));
    let major = nums.next().unwrap_or(0);
    let minor = nums.next().unwrap_or(0);
    let patch = nums.next().unwrap_or(0);
    let n = if stage == STAGE_RELEASE {
        patch
    } else {
        pre.parse().unwrap_or(0)
    };
    (major, minor, stage, n)
}

fn sort_newest_first(releases: &mut [Release]) {
    releases.sort_by(|a, b| {
        version_key(&b.version)
            .cmp(&version_key(&a.version))
            .then_with(|| b.version.cmp(&a.version))
    });
}

// ---------------------------------------------------------------------------------------------
// Faults
// ---------------------------------------------------------------------------------------------

/// What a fault applies to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// Every request: the index, the files, anything else.
    All,
    /// The JSON index.
    Index,
    /// One file, by name (also `"name".into()`).
    File(String),
}

impl From<&str> for Target {
    fn from(filename: &str) -> Target {
        Target::File(filename.to_string())
    }
}

impl From<String> for Target {
    fn from(filename: String) -> Target {
        Target::File(filename)
    }
}

/// The thing a request asks for, matched against fault targets.
enum Subject<'a> {
    Index,
    File(&'a str),
    Other,
}

impl Target {
    fn covers(&self, subject: &Subject) -> bool {
        match (self, subject) {
            (Target::All, _) | (Target::Index, Subject::Index) => true,
            (Target::File(name), Subject::File(other)) => name == other,
            _ => false,
        }
    }
}

/// A misbehaviour of the site. A fault set with [`Site::fault_times`] is spent only by the
/// requests it affects (a `FlipByte` is not spent by a HEAD); faults combine where they can
/// (`Truncate` + `DropAfter`), the first matching one of each kind wins.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Read the request, then close the connection without a response (a dead mirror).
    Down,
    /// Read the request and never answer, until the client hangs up or the site is dropped.
    NoResponse,
    /// Answer 404.
    NotFound,
    /// Answer with this status and a short text body.
    Status(u16),
    /// Send the headers (full Content-Length), then nothing until the client hangs up or the
    /// site is dropped.
    Stall,
    /// Like `Stall`, after this many body bytes.
    StallAfter(u64),
    /// Send the headers (full Content-Length), then close the connection after this many body
    /// bytes.
    DropAfter(u64),
    /// Serve the content with the byte at this offset inverted; the index keeps the true
    /// sha256.
    FlipByte(u64),
    /// Serve only the first `len` bytes, with a matching Content-Length.
    Truncate(u64),
    /// The index lists the file's size plus one (spent per index response listing the file).
    WrongSize,
    /// Answer 200 with the whole content even when a Range is asked.
    IgnoreRange,
    /// Answer 302 to this Location (any URL: `http://`, `file:///etc/passwd`).
    RedirectTo(String),
    /// Answer 200 with an HTML page (a captive portal, a login page) instead of the content.
    HtmlPage,
    /// Serve the content padded with spaces to this many bytes (a JSON index stays valid).
    PadTo(u64),
    /// Send the body one byte at a time, this long apart (a server that never quite stalls).
    Drip(Duration),
}

/// What [`Fault::HtmlPage`] serves.
pub const HTML_PAGE: &str =
    "<!DOCTYPE html>\n<html><head><title>Sign in</title></head><body><form>Sign in to continue</form></body></html>\n";

#[derive(Debug)]
struct ActiveFault {
    target: Target,
    fault: Fault,
    /// `None`: until cleared.
    remaining: Option<u32>,
}

// ---------------------------------------------------------------------------------------------
// The site
// ---------------------------------------------------------------------------------------------

/// At most this many connections are served at once; more get a 503.
const MAX_CONNECTIONS: usize = 64;
/// How often blocked reads look at the shutdown flag.
const POLL: Duration = Duration::from_millis(50);
/// An idle keep-alive connection is closed after this long.
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// A client that reads nothing for this long is dropped.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
const MAX_REQUEST_HEAD: usize = 64 * 1024;

/// A request the site received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    /// Path and query, as sent: `/dl/?mode=json&include=all`.
    pub target: String,
    /// The Range header, if any: `bytes=1000-`.
    pub range: Option<String>,
    pub headers: Vec<(String, String)>,
    /// The status answered; `None` when no response was sent (Down, NoResponse) or yet.
    pub status: Option<u16>,
}

impl Request {
    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn path(&self) -> &str {
        self.target.split_once('?').map_or(&self.target, |(p, _)| p)
    }

    fn query(&self) -> &str {
        self.target.split_once('?').map_or("", |(_, q)| q)
    }
}

/// `GET /dl/go1.22.10.linux-amd64.tar.gz Range: bytes=1000-`, the form [`Site::requests`]
/// returns.
impl fmt::Display for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.target)?;
        if let Some(range) = &self.range {
            write!(f, " Range: {range}")?;
        }
        Ok(())
    }
}

struct Shared {
    addr: SocketAddr,
    releases: Mutex<Vec<Release>>,
    faults: Mutex<Vec<ActiveFault>>,
    log: Mutex<Vec<Request>>,
    redirect: AtomicBool,
    shutdown: AtomicBool,
    /// A handle on every open connection, to shut them down when the site stops.
    conns: Mutex<HashMap<u64, TcpStream>>,
    workers: Mutex<Vec<JoinHandle<()>>>,
}

/// The emulated download site; stops (closing every connection) when dropped.
pub struct Site {
    addr: SocketAddr,
    shared: Arc<Shared>,
    acceptor: Mutex<Option<JoinHandle<()>>>,
}

/// A mirror URL where nothing listens (connections are refused).
pub fn unused_url() -> String {
    let listener =
        TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("dlsite: cannot listen on 127.0.0.1: {e}"));
    let port = listener
        .local_addr()
        .unwrap_or_else(|e| panic!("dlsite: local address: {e}"))
        .port();
    drop(listener);
    format!("http://127.0.0.1:{port}/dl/")
}

impl Site {
    /// Serves `releases` (in any order; the index lists them newest first) on a random port.
    pub fn start(releases: Vec<Release>) -> Site {
        let listener =
            TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("dlsite: cannot listen on 127.0.0.1: {e}"));
        let addr = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("dlsite: local address: {e}"));
        let mut releases = releases;
        sort_newest_first(&mut releases);
        let shared = Arc::new(Shared {
            addr,
            releases: Mutex::new(releases),
            faults: Mutex::new(Vec::new()),
            log: Mutex::new(Vec::new()),
            redirect: AtomicBool::new(false),
            shutdown: AtomicBool::new(false),
            conns: Mutex::new(HashMap::new()),
            workers: Mutex::new(Vec::new()),
        });
        let acceptor_shared = Arc::clone(&shared);
        let acceptor = thread::Builder::new()
            .name("dlsite-accept".into())
            .spawn(move || accept_loop(&acceptor_shared, &listener))
            .unwrap_or_else(|e| panic!("dlsite: spawning the accept thread: {e}"));
        Site {
            addr,
            shared,
            acceptor: Mutex::new(Some(acceptor)),
        }
    }

    /// The mirror base URL: `http://127.0.0.1:PORT/dl/`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/dl/", self.addr.port())
    }

    /// `<url>?mode=json&include=all`.
    pub fn index_url(&self) -> String {
        format!("{}?mode=json&include=all", self.url())
    }

    /// `<url><filename>`.
    pub fn file_url(&self, filename: &str) -> String {
        format!("{}{filename}", self.url())
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Replaces the releases served (a new release appears, one is withdrawn).
    pub fn set_releases(&self, releases: Vec<Release>) {
        let mut releases = releases;
        sort_newest_first(&mut releases);
        *lock(&self.shared.releases) = releases;
    }

    /// Like go.dev, answer `/dl/<file>` with a 302 to `/go/<file>` (which serves the file).
    pub fn redirect_downloads(&self, on: bool) {
        self.shared.redirect.store(on, Ordering::SeqCst);
    }

    /// Injects `fault` on `target` until [`Site::clear_faults`].
    pub fn fault(&self, target: impl Into<Target>, fault: Fault) {
        self.push_fault(target.into(), fault, None);
    }

    /// Injects `fault` on `target` for the next `times` requests it affects, then behaves.
    pub fn fault_times(&self, target: impl Into<Target>, fault: Fault, times: u32) {
        if times > 0 {
            self.push_fault(target.into(), fault, Some(times));
        }
    }

    fn push_fault(&self, target: Target, fault: Fault, remaining: Option<u32>) {
        lock(&self.shared.faults).push(ActiveFault {
            target,
            fault,
            remaining,
        });
    }

    pub fn clear_faults(&self) {
        lock(&self.shared.faults).clear();
    }

    /// Every request so far, in arrival order, as `METHOD TARGET[ Range: RANGE]`.
    pub fn requests(&self) -> Vec<String> {
        lock(&self.shared.log).iter().map(|r| r.to_string()).collect()
    }

    /// Every request so far, with headers and the status answered.
    pub fn request_log(&self) -> Vec<Request> {
        lock(&self.shared.log).clone()
    }

    pub fn clear_requests(&self) {
        lock(&self.shared.log).clear();
    }

    /// How many GETs of `filename` were answered with content (200 or 206).
    pub fn downloads(&self, filename: &str) -> usize {
        lock(&self.shared.log)
            .iter()
            .filter(|r| {
                r.method == "GET"
                    && matches!(r.status, Some(200 | 206))
                    && (r.path().strip_prefix("/dl/") == Some(filename)
                        || r.path().strip_prefix("/go/") == Some(filename))
            })
            .count()
    }

    /// Stops listening (further connections are refused) and closes every open connection.
    /// Idempotent; dropping the site does it too.
    pub fn stop(&self) {
        let Some(acceptor) = lock(&self.acceptor).take() else {
            return;
        };
        self.shared.shutdown.store(true, Ordering::SeqCst);
        // accept() does not look at the flag: a connection wakes it up.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        let _ = acceptor.join();
        for conn in lock(&self.shared.conns).values() {
            let _ = conn.shutdown(Shutdown::Both);
        }
        let workers = std::mem::take(&mut *lock(&self.shared.workers));
        for worker in workers {
            let _ = worker.join();
        }
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Locks, ignoring poisoning: a panicking connection thread must not wedge the whole site.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

fn accept_loop(shared: &Arc<Shared>, listener: &TcpListener) {
    let mut next_id = 0u64;
    for incoming in listener.incoming() {
        if shared.shutdown.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = incoming else {
            // Out of descriptors, most likely: give the connections a moment to finish.
            thread::sleep(POLL);
            continue;
        };
        next_id += 1;
        let id = next_id;
        {
            let mut conns = lock(&shared.conns);
            if conns.len() >= MAX_CONNECTIONS {
                drop(conns);
                let _ = refuse_busy(stream);
                continue;
            }
            let Ok(handle) = stream.try_clone() else {
                continue;
            };
            conns.insert(id, handle);
        }
        let conn_shared = Arc::clone(shared);
        let spawned = thread::Builder::new().name(format!("dlsite-conn-{id}")).spawn(move || {
            serve_connection(&conn_shared, stream);
            lock(&conn_shared.conns).remove(&id);
        });
        match spawned {
            Ok(worker) => {
                let mut workers = lock(&shared.workers);
                workers.retain(|w| !w.is_finished());
                workers.push(worker);
            }
            Err(_) => {
                lock(&shared.conns).remove(&id);
            }
        }
    }
}

fn refuse_busy(mut stream: TcpStream) -> io::Result<()> {
    let body = "dlsite: too many connections\n";
    write!(
        stream,
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    stream.shutdown(Shutdown::Both)
}

struct Conn<'a> {
    shared: &'a Shared,
    stream: TcpStream,
    /// Bytes read past the current request (pipelining).
    buf: Vec<u8>,
    /// The log entry of the current request, to record its status.
    log_index: usize,
    /// The client asked to close after this response (or speaks HTTP/1.0).
    close: bool,
}

fn serve_connection(shared: &Shared, stream: TcpStream) {
    let setup = stream
        .set_read_timeout(Some(POLL))
        .and_then(|()| stream.set_write_timeout(Some(WRITE_TIMEOUT)))
        .and_then(|()| stream.set_nodelay(true));
    if setup.is_err() {
        return;
    }
    let mut conn = Conn {
        shared,
        stream,
        buf: Vec::new(),
        log_index: 0,
        close: false,
    };
    while let Some(request) = conn.read_request() {
        conn.log_index = {
            let mut log = lock(&shared.log);
            log.push(request.clone());
            log.len() - 1
        };
        match route(&mut conn, &request) {
            Ok(true) if !conn.close => {}
            _ => break,
        }
    }
    let _ = conn.stream.shutdown(Shutdown::Both);
}

impl Conn<'_> {
    fn stopping(&self) -> bool {
        self.shared.shutdown.load(Ordering::SeqCst)
    }

    /// The next request on the connection; `None` when the client is gone, idle too long,
    /// sent garbage, or the site is stopping.
    fn read_request(&mut self) -> Option<Request> {
        let idle_since = Instant::now();
        let end = loop {
            if let Some(end) = find(&self.buf, b"\r\n\r\n") {
                break end;
            }
            if self.buf.len() > MAX_REQUEST_HEAD || !self.read_more(idle_since) {
                return None;
            }
        };
        let head: Vec<u8> = self.buf.drain(..end + 4).collect();
        let head = String::from_utf8_lossy(&head[..end]).into_owned();
        let mut lines = head.split("\r\n");
        let mut request_line = lines.next()?.split(' ');
        let method = request_line.next()?.to_string();
        let target = request_line.next()?.to_string();
        let version = request_line.next()?;
        let headers: Vec<(String, String)> = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
            .collect();
        let mut request = Request {
            method,
            target,
            range: None,
            headers,
            status: None,
        };
        request.range = request.header("range").map(str::to_string);
        self.close = version == "HTTP/1.0"
            || request
                .header("connection")
                .is_some_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case("close")));
        // A body is never expected here, but skip one so the next request parses.
        let body_len: usize = request
            .header("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        while self.buf.len() < body_len {
            if !self.read_more(Instant::now()) {
                return None;
            }
        }
        self.buf.drain(..body_len);
        Some(request)
    }

    /// Reads what is available into `buf`; false when the client closed, the connection has
    /// been idle since `idle_since` for too long, or the site is stopping.
    fn read_more(&mut self, idle_since: Instant) -> bool {
        let mut chunk = [0u8; 8192];
        loop {
            match self.stream.read(&mut chunk) {
                Ok(0) => return false,
                Ok(n) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    return true;
                }
                Err(e) if is_timeout(&e) => {
                    if self.stopping() || idle_since.elapsed() > IDLE_TIMEOUT {
                        return false;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
    }

    fn record_status(&self, status: u16) {
        if let Some(entry) = lock(&self.shared.log).get_mut(self.log_index) {
            entry.status = Some(status);
        }
    }

    /// Writes a status line and headers (Content-Length included by the caller).
    fn write_head(&mut self, status: u16, headers: &[(&str, String)]) -> io::Result<()> {
        self.record_status(status);
        let mut head = format!("HTTP/1.1 {status} {}\r\n", reason(status));
        head.push_str("Server: dlsite\r\n");
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        if self.close {
            head.push_str("Connection: close\r\n");
        }
        head.push_str("\r\n");
        self.stream.write_all(head.as_bytes())
    }

    /// A complete small response; returns whether the connection may carry on.
    fn simple(
        &mut self,
        request: &Request,
        status: u16,
        content_type: &str,
        body: &str,
        extra: &[(&str, String)],
    ) -> io::Result<bool> {
        let mut headers = vec![
            ("Content-Type", content_type.to_string()),
            ("Content-Length", body.len().to_string()),
        ];
        headers.extend(extra.iter().cloned());
        self.write_head(status, &headers)?;
        if request.method != "HEAD" {
            self.stream.write_all(body.as_bytes())?;
        }
        Ok(true)
    }

    /// Holds the connection open, sending nothing, until the client hangs up or the site
    /// stops. Whatever the client sends meanwhile is discarded.
    fn hold(&mut self) {
        let mut chunk = [0u8; 4096];
        while !self.stopping() {
            match self.stream.read(&mut chunk) {
                Ok(0) => return,
                Ok(_) => {}
                Err(e) if is_timeout(&e) || e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return,
            }
        }
    }

    /// Takes the first active fault on `subject` that `want` accepts, spending one use.
    fn take(&self, subject: &Subject, want: impl Fn(&Fault) -> bool) -> Option<Fault> {
        take_fault(self.shared, subject, want)
    }
}

fn take_fault(shared: &Shared, subject: &Subject, want: impl Fn(&Fault) -> bool) -> Option<Fault> {
    let mut faults = lock(&shared.faults);
    let i = faults.iter().position(|f| f.target.covers(subject) && want(&f.fault))?;
    let fault = faults[i].fault.clone();
    if let Some(remaining) = &mut faults[i].remaining {
        *remaining -= 1;
        if *remaining == 0 {
            faults.remove(i);
        }
    }
    Some(fault)
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        206 => "Partial Content",
        302 => "Found",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        416 => "Range Not Satisfiable",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

/// What a request resolves to, before faults.
enum Resource {
    Disk(PathBuf),
    Memory(Vec<u8>),
    Missing,
    Redirect(String),
}

/// Answers one request; `Ok(true)` if the connection may serve another.
fn route(conn: &mut Conn, request: &Request) -> io::Result<bool> {
    if request.method != "GET" && request.method != "HEAD" {
        return conn.simple(
            request,
            405,
            "text/plain",
            "method not allowed\n",
            &[("Allow", "GET, HEAD".to_string())],
        );
    }
    let path = request.path();
    if path == "/dl" || path == "/dl/" {
        let query: Vec<(&str, &str)> = request.query().split('&').filter_map(|kv| kv.split_once('=')).collect();
        if query.contains(&("mode", "json")) {
            let all = query.contains(&("include", "all"));
            let body = index_json(conn.shared, all).into_bytes();
            return deliver(
                conn,
                request,
                &Subject::Index,
                Resource::Memory(body),
                "application/json",
            );
        }
        let body = index_html(conn.shared).into_bytes();
        return deliver(
            conn,
            request,
            &Subject::Other,
            Resource::Memory(body),
            "text/html; charset=utf-8",
        );
    }
    let (name, redirect) = if let Some(name) = path.strip_prefix("/dl/") {
        (name, conn.shared.redirect.load(Ordering::SeqCst))
    } else if let Some(name) = path.strip_prefix("/go/") {
        (name, false)
    } else {
        return deliver(conn, request, &Subject::Other, Resource::Missing, "");
    };
    let resource = if redirect {
        Resource::Redirect(format!("http://{}/go/{name}", conn.shared.addr))
    } else {
        lock(&conn.shared.releases)
            .iter()
            .flat_map(|r| &r.files)
            .find(|f| f.filename == name)
            .and_then(|f| f.path.clone())
            .map_or(Resource::Missing, Resource::Disk)
    };
    deliver(
        conn,
        request,
        &Subject::File(name),
        resource,
        "application/octet-stream",
    )
}

/// Answers with `resource`, as the faults on `subject` dictate.
fn deliver(
    conn: &mut Conn,
    request: &Request,
    subject: &Subject,
    resource: Resource,
    content_type: &str,
) -> io::Result<bool> {
    if conn.take(subject, |f| *f == Fault::Down).is_some() {
        return Ok(false);
    }
    if conn.take(subject, |f| *f == Fault::NoResponse).is_some() {
        conn.hold();
        return Ok(false);
    }
    if conn.take(subject, |f| *f == Fault::NotFound).is_some() {
        return conn.simple(request, 404, "text/plain", "not found\n", &[]);
    }
    if let Some(Fault::Status(status)) = conn.take(subject, |f| matches!(f, Fault::Status(_))) {
        let body = format!("dlsite: injected status {status}\n");
        return conn.simple(request, status, "text/plain", &body, &[]);
    }
    if let Some(Fault::RedirectTo(location)) = conn.take(subject, |f| matches!(f, Fault::RedirectTo(_))) {
        let body = format!("<a href=\"{location}\">Found</a>.\n");
        return conn.simple(request, 302, "text/html", &body, &[("Location", location)]);
    }
    if conn.take(subject, |f| *f == Fault::HtmlPage).is_some() {
        return conn.simple(request, 200, "text/html; charset=utf-8", HTML_PAGE, &[]);
    }
    let mut body = match resource {
        Resource::Missing => {
            return conn.simple(request, 404, "text/plain", "not found\n", &[]);
        }
        Resource::Redirect(location) => {
            let body = format!("<a href=\"{location}\">Found</a>.\n");
            let location = ("Location", location);
            return conn.simple(request, 302, "text/html", &body, &[location]);
        }
        Resource::Disk(path) => match File::open(&path).and_then(Body::file) {
            Ok(body) => body,
            Err(e) => {
                let msg = format!("dlsite: cannot read {}: {e}\n", path.display());
                return conn.simple(request, 500, "text/plain", &msg, &[]);
            }
        },
        Resource::Memory(bytes) => Body::Memory(bytes),
    };
    let head_only = request.method == "HEAD";
    if let Some(Fault::PadTo(total)) = conn.take(subject, |f| matches!(f, Fault::PadTo(_))) {
        body = Body::Padded(Box::new(body), total);
    }

    let mut len = body.len();
    if let Some(Fault::Truncate(max)) = conn.take(subject, |f| matches!(f, Fault::Truncate(_))) {
        len = len.min(max);
    }
    let flip = if head_only {
        None
    } else {
        match conn.take(subject, |f| matches!(f, Fault::FlipByte(_))) {
            Some(Fault::FlipByte(offset)) => Some(offset),
            _ => None,
        }
    };

    let mut status = 200;
    let (mut start, mut end) = (0, len);
    let mut headers = vec![
        ("Content-Type", content_type.to_string()),
        ("Accept-Ranges", "bytes".to_string()),
    ];
    if let Some(range) = request.range.as_deref().and_then(parse_range) {
        let ignore = conn.take(subject, |f| *f == Fault::IgnoreRange).is_some();
        if !ignore {
            let (first, last) = range;
            if first >= len {
                let msg = "range not satisfiable\n";
                let unsatisfied = ("Content-Range", format!("bytes */{len}"));
                return conn.simple(request, 416, "text/plain", msg, &[unsatisfied]);
            }
            status = 206;
            start = first;
            end = last.map_or(len, |last| last.saturating_add(1).min(len));
            headers.push(("Content-Range", format!("bytes {start}-{}/{len}", end - 1)));
        }
    }
    headers.push(("Content-Length", (end - start).to_string()));

    let cut = if head_only {
        None
    } else {
        conn.take(subject, |f| {
            matches!(f, Fault::Stall | Fault::StallAfter(_) | Fault::DropAfter(_))
        })
    };
    let drip = match conn.take(subject, |f| !head_only && matches!(f, Fault::Drip(_))) {
        Some(Fault::Drip(every)) => Some(every),
        _ => None,
    };
    conn.write_head(status, &headers)?;
    if head_only {
        return Ok(true);
    }
    let sent = match cut {
        Some(Fault::Stall) => 0,
        Some(Fault::StallAfter(n) | Fault::DropAfter(n)) => n.min(end - start),
        _ => end - start,
    };
    match drip {
        Some(every) => {
            let mut byte = Vec::with_capacity(1);
            for at in start..start + sent {
                if conn.stopping() {
                    return Ok(false);
                }
                byte.clear();
                body.copy_to(&mut byte, at, 1, flip)?;
                conn.stream.write_all(&byte)?;
                conn.stream.flush()?;
                thread::sleep(every);
            }
        }
        None => body.copy_to(&mut conn.stream, start, sent, flip)?,
    }
    conn.stream.flush()?;
    match cut {
        Some(Fault::DropAfter(_)) => {
            let _ = conn.stream.shutdown(Shutdown::Both);
            Ok(false)
        }
        Some(_) => {
            conn.hold();
            Ok(false)
        }
        None => Ok(true),
    }
}

/// `bytes=N-` or `bytes=N-M` → (N, M); anything else (suffix or multiple ranges) is ignored,
/// as RFC 9110 allows.
fn parse_range(value: &str) -> Option<(u64, Option<u64>)> {
    let spec = value.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (first, last) = spec.split_once('-')?;
    let first = first.trim().parse().ok()?;
    let last = match last.trim() {
        "" => None,
        last => Some(last.parse().ok()?),
    };
    match last {
        Some(last) if last < first => None,
        _ => Some((first, last)),
    }
}

/// Content being served, read from the start offset on.
enum Body {
    File(File, u64),
    Memory(Vec<u8>),
    /// The content, then spaces up to the length.
    Padded(Box<Body>, u64),
}

impl Body {
    fn file(file: File) -> io::Result<Body> {
        let len = file.metadata()?.len();
        Ok(Body::File(file, len))
    }

    fn len(&self) -> u64 {
        match self {
            Body::File(_, len) => *len,
            Body::Memory(bytes) => bytes.len() as u64,
            Body::Padded(inner, len) => inner.len().max(*len),
        }
    }

    /// Writes `count` bytes from `start`, the byte at absolute offset `flip` inverted.
    fn copy_to(&mut self, out: &mut impl Write, start: u64, count: u64, flip: Option<u64>) -> io::Result<()> {
        if let Body::Padded(inner, _) = self {
            let end = start + count;
            let content = inner.len();
            if start < content {
                inner.copy_to(out, start, end.min(content) - start, flip)?;
            }
            let spaces = vec![b' '; 64 * 1024];
            let mut pos = start.max(content);
            while pos < end {
                let n = (end - pos).min(spaces.len() as u64);
                out.write_all(&spaces[..n as usize])?;
                pos += n;
            }
            return Ok(());
        }
        let mut chunk = vec![0u8; 64 * 1024];
        let mut pos = start;
        let end = start + count;
        if let Body::File(file, _) = self {
            file.seek(SeekFrom::Start(start))?;
        }
        while pos < end {
            let want = usize::try_from(end - pos).map_or(chunk.len(), |n| n.min(chunk.len()));
            let n = match self {
                Body::File(file, _) => file.read(&mut chunk[..want])?,
                Body::Memory(bytes) => {
                    let from = usize::try_from(pos).unwrap_or(usize::MAX).min(bytes.len());
                    let n = want.min(bytes.len() - from);
                    chunk[..n].copy_from_slice(&bytes[from..from + n]);
                    n
                }
                Body::Padded(..) => unreachable!("padded bodies are copied above"),
            };
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "content shrank while being served",
                ));
            }
            if let Some(at) = flip.filter(|at| (pos..pos + n as u64).contains(at)) {
                let i = usize::try_from(at - pos).unwrap_or(0);
                chunk[i] = !chunk[i];
            }
            out.write_all(&chunk[..n])?;
            pos += n as u64;
        }
        Ok(())
    }
}

/// go.dev's `?mode=json` answer: with `include=all`, every release; without, only the
/// newest stable release of the two newest stable minor versions (the supported ones), as
/// go.dev does.
fn index_json(shared: &Shared, include_all: bool) -> String {
    let releases = lock(&shared.releases);
    let mut listed: Vec<&Release> = Vec::new();
    if include_all {
        listed.extend(releases.iter());
    } else {
        let mut lines: Vec<(u64, u64)> = Vec::new();
        for release in releases.iter().filter(|r| r.stable) {
            let (major, minor, _, _) = version_key(&release.version);
            if lines.len() == 2 {
                break;
            }
            if !lines.contains(&(major, minor)) {
                lines.push((major, minor));
                listed.push(release);
            }
        }
    }
    let mut out = String::from("[\n");
    for (i, release) in listed.iter().enumerate() {
        out.push_str(&format!(
            " {{\n  \"version\": {},\n  \"stable\": {},\n  \"files\": [\n",
            json_str(&release.version),
            release.stable
        ));
        for (j, file) in release.files.iter().enumerate() {
            let mut size = file.size;
            let subject = Subject::File(&file.filename);
            if take_fault(shared, &subject, |f| *f == Fault::WrongSize).is_some() {
                size += 1;
            }
            out.push_str(&format!(
                "   {{\n    \"filename\": {},\n    \"os\": {},\n    \"arch\": {},\n    \"version\": {},\n",
                json_str(&file.filename),
                json_str(&file.os),
                json_str(&file.arch),
                json_str(&release.version),
            ));
            if !file.omit_sha256 {
                out.push_str(&format!("    \"sha256\": {},\n", json_str(&file.sha256)));
            }
            out.push_str(&format!(
                "    \"size\": {size},\n    \"kind\": {}\n   }}{}\n",
                json_str(&file.kind),
                if j + 1 < release.files.len() { "," } else { "" }
            ));
        }
        out.push_str(&format!("  ]\n }}{}\n", if i + 1 < listed.len() { "," } else { "" }));
    }
    out.push_str("]\n");
    out
}

fn json_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_string())
}

/// A bare version of the human download page, for clients that scrape it.
fn index_html(shared: &Shared) -> String {
    let mut out = String::from("<!DOCTYPE html>\n<title>Downloads</title>\n");
    for release in lock(&shared.releases).iter() {
        out.push_str(&format!("<h2 id=\"{0}\">{0}</h2>\n", release.version));
        for file in &release.files {
            out.push_str(&format!(
                "<a class=\"download\" href=\"/dl/{0}\">{0}</a>\n",
                file.filename
            ));
        }
    }
    out
}
