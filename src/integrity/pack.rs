//! Writing a gomig archive: a POSIX pax `.tar.gz` of a GOROOT under `go/`, with the manifest
//! as a member of its own and a `sha256sum`-format sidecar.
//!
//! Layout, in this order: a pax global header with gomig's metadata (`GOMIG.*` keywords, which
//! GNU tar and libarchive ignore quietly), the `gomig.manifest` member (the recorded manifest,
//! so a reader knows what to expect before the tree), `go/`, then every entry sorted by path.
//! Owner and group are numeric 0/0 with no names. Each file is read once: the bytes go into the
//! tar stream and the hasher together, and the hashes are compared with the manifest at the
//! end, so a tree that changed since it was recorded is refused rather than archived.
//!
//! The gzip stream is compressed in parallel, as pigz does: the tar stream is cut into chunks,
//! each deflated on its own core with the previous chunk's last 32 KiB as its dictionary and
//! ended with a sync flush, and the pieces are joined into one ordinary gzip member (the CRCs
//! are combined). Any gzip reader sees a single standard stream.

use std::collections::VecDeque;
use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use flate2::{Compress, Compression, Crc, FlushCompress, Status};
use sha2::{Digest, Sha256};

use crate::install::archive::MANIFEST_MEMBER;
use crate::integrity::hex;
use crate::integrity::manifest::{Entry, Header, Kind, Manifest};
use crate::integrity::tree::{self, TreeEntry};
use crate::integrity::verify::{Difference, diff};
use crate::store::{sync_dir, unique_suffix};

/// gzip's default level: the size of `tar -czf`, and with every core compressing, faster.
pub const DEFAULT_LEVEL: u32 = 6;
/// Tar bytes per compression job.
const CHUNK: usize = 1 << 20;
/// A chunk buffer: a chunk is sent off once it holds `CHUNK` bytes, so a read of up to
/// `BUF_CAP - CHUNK` bytes always fits.
const BUF_CAP: usize = CHUNK + 256 * 1024;
/// Deflate's window: each chunk is primed with this much of the one before.
const DICT: usize = 32 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum PackError {
    #[error(
        "{name} has no recorded manifest ({path}), so its archive could not be checked; record one first: gomig snapshot {name}"
    )]
    NoManifest { name: String, path: String },
    #[error(transparent)]
    Manifest(#[from] crate::integrity::manifest::ManifestError),
    #[error(
        "{name} does not match its manifest ({count} difference(s), e.g. {first}); refusing to archive a changed tree: see gomig verify {name}"
    )]
    Differs { name: String, count: usize, first: String },
    #[error("{path} is a device, socket or FIFO, which has no place in a GOROOT: remove it, then archive again")]
    Special { path: String },
    #[error("{path} changed while it was being archived; try again")]
    Changed { path: String },
    #[error("cannot read {path}: {cause}")]
    Read { path: String, cause: io::Error },
    #[error("cannot write {path}: {cause}")]
    Write { path: String, cause: io::Error },
}

/// What `pack` wrote.
#[derive(Debug, Clone)]
pub struct Packed {
    pub path: PathBuf,
    pub sidecar: PathBuf,
    pub sha256: String,
    pub size: u64,
    pub tree_digest: String,
    pub entries: usize,
}

/// `go1.22.10.linux-amd64.tar.gz`, the official name for the release and platform.
pub fn file_name(header: &Header) -> String {
    format!("{}.{}-{}.tar.gz", header.go_version, header.goos, header.goarch)
}

/// Archives a toolchain of the store as `out` (a file, or a directory to put the official name
/// in), against its recorded manifest. Callers hold the toolchain's lock.
pub fn archive_toolchain(
    store: &crate::store::Store,
    toolchain: &crate::store::Toolchain,
    out: &Path,
    level: u32,
) -> Result<Packed, PackError> {
    let mpath = store.manifest_path(&toolchain.name);
    let text = match fs::read_to_string(&mpath) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(PackError::NoManifest {
                name: toolchain.name.clone(),
                path: mpath.display().to_string(),
            });
        }
        Err(cause) => {
            return Err(PackError::Read {
                path: mpath.display().to_string(),
                cause,
            });
        }
    };
    let manifest = Manifest::parse(&text, &mpath.display().to_string())?;
    let out = if out.is_dir() || out.as_os_str().as_encoded_bytes().ends_with(b"/") {
        out.join(file_name(&manifest.header))
    } else {
        out.to_path_buf()
    };
    if let Some(dir) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(dir).map_err(|cause| PackError::Write {
            path: dir.display().to_string(),
            cause,
        })?;
    }
    pack(toolchain.root(), &toolchain.name, &text, &manifest, &out, level)
}

/// The tree as found on disk, in archive order; a device, socket or FIFO refuses the archive.
fn walk(root: &Path) -> Result<Vec<TreeEntry>, PackError> {
    let found = tree::walk(root).map_err(|e| PackError::Read {
        path: e.path.display().to_string(),
        cause: e.cause,
    })?;
    match found.iter().find(|t| t.kind.is_special()) {
        // Never in a GOROOT (and reading a FIFO would hang).
        Some(t) => Err(PackError::Special {
            path: t.path.display().to_string(),
        }),
        None => Ok(found),
    }
}

fn differs(name: &str, d: &[Difference]) -> PackError {
    PackError::Differs {
        name: name.to_string(),
        count: d.len(),
        first: d.first().map(Difference::describe).unwrap_or_default(),
    }
}

/// Archives the tree at `root`, which `manifest` (whose text is `manifest_text`) describes, as
/// `out`, plus `out.sha256`. Both appear whole or not at all.
pub fn pack(
    root: &Path,
    name: &str,
    manifest_text: &str,
    manifest: &Manifest,
    out: &Path,
    level: u32,
) -> Result<Packed, PackError> {
    let found = walk(root)?;
    check_shape(name, manifest, &found)?;
    let staging = Staging::beside(out);
    let written = write_archive(root, name, manifest_text, manifest, &found, &staging.tmp, level)
        .and_then(|written| {
            fs::rename(&staging.tmp, out).map_err(write_err(out))?;
            Ok(written)
        })
        .inspect_err(|_| {
            let _ = fs::remove_file(&staging.tmp);
        })?;
    let sidecar = write_sidecar(out, &staging.base, &written.sha256)?;
    sync_dir(&staging.dir);
    Ok(Packed {
        path: out.to_path_buf(),
        sidecar,
        sha256: written.sha256,
        size: written.size,
        tree_digest: written.tree_digest,
        entries: written.entries,
    })
}

fn read_err(p: &Path) -> impl FnOnce(io::Error) -> PackError + use<> {
    let path = p.display().to_string();
    move |cause| PackError::Read { path, cause }
}

fn write_err(p: &Path) -> impl FnOnce(io::Error) -> PackError + use<> {
    let path = p.display().to_string();
    move |cause| PackError::Write { path, cause }
}

/// The shape first (no reading): a tree that is visibly different is refused at once.
fn check_shape(name: &str, manifest: &Manifest, found: &[TreeEntry]) -> Result<(), PackError> {
    let strip = |e: &Entry| Entry {
        sha256: None,
        ..e.clone()
    };
    let want: Vec<Entry> = manifest.entries.iter().map(strip).collect();
    let have: Vec<Entry> = found.iter().map(Entry::unhashed).collect();
    let d = diff(&want, &have);
    if !d.is_empty() {
        return Err(differs(name, &d));
    }
    Ok(())
}

/// Where the archive is written before it is renamed to its name: beside it, hidden.
struct Staging {
    dir: PathBuf,
    /// The archive's file name, as the sidecar names it.
    base: String,
    tmp: PathBuf,
}

impl Staging {
    fn beside(out: &Path) -> Staging {
        let dir = out
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf();
        let base = out
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = dir.join(format!(".{base}.tmp-{}", unique_suffix()));
        Staging { dir, base, tmp }
    }
}

/// What `write_archive` wrote to the staging file.
struct Written {
    sha256: String,
    size: u64,
    entries: usize,
    tree_digest: String,
}

/// Writes the whole archive to `tmp` and syncs it: the preamble, every entry of `found` (each
/// file hashed as it is copied), the end of the archive; refused if the hashes do not match the
/// manifest.
fn write_archive(
    root: &Path,
    name: &str,
    manifest_text: &str,
    manifest: &Manifest,
    found: &[TreeEntry],
    tmp: &Path,
    level: u32,
) -> Result<Written, PackError> {
    // Writable by its owner only, whatever the umask: gomig restores from it without a download.
    let file = File::options()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o644)
        .open(tmp)
        .map_err(write_err(tmp))?;
    let mut gz =
        ParallelGz::new(HashingWriter::new(BufWriter::with_capacity(1 << 20, file)), level).map_err(write_err(tmp))?;
    let mut tar = TarWriter { gz: &mut gz };
    let root_meta = fs::metadata(root).map_err(read_err(root))?;
    let tree_digest = manifest.tree_digest();
    write_preamble(&mut tar, name, manifest, manifest_text, &tree_digest, &root_meta).map_err(write_err(tmp))?;
    let mut actual = Vec::with_capacity(found.len());
    for f in found {
        actual.push(write_entry(&mut tar, root, f, tmp)?);
    }
    tar.end();
    let d = diff(&manifest.entries, &actual);
    if !d.is_empty() {
        return Err(differs(name, &d));
    }
    let (sha256, size) = finish_file(gz, tmp)?;
    Ok(Written {
        sha256,
        size,
        entries: actual.len(),
        tree_digest,
    })
}

/// What comes before the tree: the pax global header with gomig's metadata, the manifest
/// member, and `go/` itself.
fn write_preamble<W: Write>(
    tar: &mut TarWriter<'_, W>,
    name: &str,
    manifest: &Manifest,
    manifest_text: &str,
    tree_digest: &str,
    root_meta: &fs::Metadata,
) -> io::Result<()> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let global = global_records(name, manifest, tree_digest);
    let records: Vec<(&str, &[u8])> = global.iter().map(|(k, v)| (*k, v.as_bytes())).collect();
    tar.pax(b'g', b"pax_global_header", &records)?;
    tar.member(
        MANIFEST_MEMBER.as_bytes(),
        b'0',
        0o644,
        manifest_text.len() as u64,
        now,
        b"",
    )?;
    tar.gz.write(manifest_text.as_bytes());
    tar.pad(manifest_text.len() as u64);
    tar.member(
        b"go/",
        b'5',
        root_meta.mode() & 0o7777,
        0,
        root_meta.mtime().max(0) as u64,
        b"",
    )
}

/// The `GOMIG.*` keywords of the pax global header (and a comment saying what to do with it).
fn global_records(name: &str, manifest: &Manifest, tree_digest: &str) -> [(&'static str, String); 10] {
    let h = &manifest.header;
    [
        (
            "comment",
            format!(
                "gomig archive of {} {}/{}; check and install it with: gomig restore FILE",
                h.go_version, h.goos, h.goarch
            ),
        ),
        ("GOMIG.format", "1".to_string()),
        ("GOMIG.name", name.to_string()),
        ("GOMIG.go-version", h.go_version.clone()),
        ("GOMIG.goos", h.goos.clone()),
        ("GOMIG.goarch", h.goarch.clone()),
        ("GOMIG.tree-digest", tree_digest.to_string()),
        ("GOMIG.entries", manifest.entries.len().to_string()),
        ("GOMIG.manifest", MANIFEST_MEMBER.to_string()),
        ("GOMIG.gomig-version", env!("CARGO_PKG_VERSION").to_string()),
    ]
}

/// One entry of the tree as `go/PATH`; returns its manifest entry as archived (a file's hash
/// is of the bytes that went into the archive).
fn write_entry<W: Write>(
    tar: &mut TarWriter<'_, W>,
    root: &Path,
    f: &TreeEntry,
    tmp: &Path,
) -> Result<Entry, PackError> {
    let mut path = b"go/".to_vec();
    path.extend_from_slice(&f.rel);
    let mut entry = Entry::unhashed(f);
    match entry.kind {
        Kind::Dir => {
            path.push(b'/');
            tar.member(&path, b'5', entry.mode, 0, f.mtime, b"")
                .map_err(write_err(tmp))?;
        }
        Kind::Symlink => {
            let target = entry.target.clone().unwrap_or_default();
            tar.member(&path, b'2', 0o777, 0, f.mtime, &target)
                .map_err(write_err(tmp))?;
        }
        Kind::File => entry.sha256 = Some(write_file(tar, root, &path, &entry, f.mtime, tmp)?),
    }
    Ok(entry)
}

/// A regular file's header and content; returns the SHA-256 of the bytes archived.
fn write_file<W: Write>(
    tar: &mut TarWriter<'_, W>,
    root: &Path,
    path: &[u8],
    entry: &Entry,
    mtime: u64,
    tmp: &Path,
) -> Result<String, PackError> {
    let src = root.join(std::ffi::OsStr::from_bytes(&entry.path));
    let mut file = File::open(&src).map_err(read_err(&src))?;
    tar.member(path, b'0', entry.mode, entry.size, mtime, b"")
        .map_err(write_err(tmp))?;
    let sha = tar.gz.copy_file(&mut file, entry.size).map_err(|e| match e {
        CopyError::Read(cause) => read_err(&src)(cause),
        CopyError::Changed => PackError::Changed {
            path: src.display().to_string(),
        },
        CopyError::Write(cause) => write_err(tmp)(cause),
    })?;
    tar.pad(entry.size);
    Ok(sha)
}

/// Ends the gzip stream and syncs the staging file; returns the archive's SHA-256 and size.
fn finish_file(gz: ParallelGz<HashingWriter<BufWriter<File>>>, tmp: &Path) -> Result<(String, u64), PackError> {
    let writer = gz.finish().map_err(write_err(tmp))?;
    let (buf, sha256, size) = writer.into_parts();
    let file = buf.into_inner().map_err(|e| write_err(tmp)(e.into_error()))?;
    file.sync_all().map_err(write_err(tmp))?;
    Ok((sha256, size))
}

/// `out.sha256`, in `sha256sum` format, naming the archive by its file name.
fn write_sidecar(out: &Path, base: &str, sha256: &str) -> Result<PathBuf, PackError> {
    let sidecar = sidecar_path(out);
    crate::store::write_atomic(&sidecar, format!("{sha256}  {base}\n").as_bytes()).map_err(|e| PackError::Write {
        path: sidecar.display().to_string(),
        cause: io::Error::other(e),
    })?;
    Ok(sidecar)
}

/// The `GOMIG.tree-digest` of a gomig archive: the tree digest of the manifest it was made
/// against, from the pax global header that opens it (only the first member is read). `None`
/// for an archive without one (not a gomig archive).
pub fn embedded_tree_digest(archive: &Path) -> io::Result<Option<String>> {
    let file = File::open(archive)?;
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(io::BufReader::new(file)));
    let Some(first) = tar.entries()?.next() else {
        return Ok(None);
    };
    let mut first = first?;
    if !first.header().entry_type().is_pax_global_extensions() {
        return Ok(None);
    }
    let Some(extensions) = first.pax_extensions()? else {
        return Ok(None);
    };
    for extension in extensions {
        let extension = extension?;
        if extension.key_bytes() == b"GOMIG.tree-digest" {
            return Ok(Some(String::from_utf8_lossy(extension.value_bytes()).into_owned()));
        }
    }
    Ok(None)
}

/// `FILE.sha256`.
pub fn sidecar_path(archive: &Path) -> PathBuf {
    let mut s = archive.as_os_str().to_owned();
    s.push(".sha256");
    PathBuf::from(s)
}

// ---------------------------------------------------------------------------------------------
// pax tar
// ---------------------------------------------------------------------------------------------

struct TarWriter<'a, W: Write> {
    gz: &'a mut ParallelGz<W>,
}

/// Writes `value` as zero-padded octal with a trailing NUL; false if it does not fit.
fn octal(field: &mut [u8], value: u64) -> bool {
    let digits = field.len() - 1;
    let text = format!("{value:0digits$o}");
    if text.len() > digits {
        return false;
    }
    field[..digits].copy_from_slice(text.as_bytes());
    field[digits] = 0;
    true
}

/// One pax record: `"<len> <key>=<value>\n"`, the length counting itself.
fn pax_record(out: &mut Vec<u8>, key: &str, value: &[u8]) {
    let body = key.len() + value.len() + 3; // ' ', '=', '\n'
    let mut len = body + 1;
    while len != body + len.to_string().len() {
        len = body + len.to_string().len();
    }
    out.extend_from_slice(len.to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(key.as_bytes());
    out.push(b'=');
    out.extend_from_slice(value);
    out.push(b'\n');
}

/// Splits a path into ustar's `prefix` (≤155) and `name` (≤100) at a slash.
fn split_ustar(path: &[u8]) -> Option<(&[u8], &[u8])> {
    if path.len() <= 100 {
        return Some((&[], path));
    }
    // The name part may end with '/', so search for the split from the left of the last 101.
    let trimmed = path.strip_suffix(b"/").unwrap_or(path);
    for (i, &b) in trimmed.iter().enumerate() {
        if b == b'/' && i <= 155 && path.len() - i - 1 <= 100 && i > 0 {
            return Some((&path[..i], &path[i + 1..]));
        }
    }
    None
}

impl<W: Write> TarWriter<'_, W> {
    fn header(name: &[u8], prefix: &[u8], kind: u8, mode: u32, size: u64, mtime: u64, link: &[u8]) -> [u8; 512] {
        let mut h = [0u8; 512];
        h[..name.len().min(100)].copy_from_slice(&name[..name.len().min(100)]);
        octal(&mut h[100..108], u64::from(mode));
        octal(&mut h[108..116], 0);
        octal(&mut h[116..124], 0);
        if !octal(&mut h[124..136], size) {
            octal(&mut h[124..136], 0); // the pax `size` record carries it
        }
        if !octal(&mut h[136..148], mtime) {
            octal(&mut h[136..148], 0);
        }
        h[156] = kind;
        h[157..157 + link.len().min(100)].copy_from_slice(&link[..link.len().min(100)]);
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        octal(&mut h[329..337], 0);
        octal(&mut h[337..345], 0);
        h[345..345 + prefix.len().min(155)].copy_from_slice(&prefix[..prefix.len().min(155)]);
        h[148..156].fill(b' ');
        let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
        let text = format!("{sum:06o}\0 ");
        h[148..156].copy_from_slice(text.as_bytes());
        h
    }

    /// A pax extended header (`x`, local; `g`, global) holding `records`.
    fn pax(&mut self, kind: u8, name: &[u8], records: &[(&str, &[u8])]) -> io::Result<()> {
        let mut data = Vec::new();
        for (k, v) in records {
            pax_record(&mut data, k, v);
        }
        let h = Self::header(name, b"", kind, 0o644, data.len() as u64, 0, b"");
        self.gz.write(&h);
        self.gz.write(&data);
        self.pad(data.len() as u64);
        Ok(())
    }

    /// A member's header, preceded by a pax header when the path, link or size do not fit
    /// ustar's fields.
    fn member(&mut self, path: &[u8], kind: u8, mode: u32, size: u64, mtime: u64, link: &[u8]) -> io::Result<()> {
        let mut records: Vec<(&str, Vec<u8>)> = Vec::new();
        let split = split_ustar(path);
        if split.is_none() {
            records.push(("path", path.to_vec()));
        }
        if link.len() > 100 {
            records.push(("linkpath", link.to_vec()));
        }
        if size > 0o777_7777_7777 {
            records.push(("size", size.to_string().into_bytes()));
        }
        if !records.is_empty() {
            if std::str::from_utf8(path).is_err() || std::str::from_utf8(link).is_err() {
                records.insert(0, ("hdrcharset", b"BINARY".to_vec()));
            }
            let base = path
                .strip_suffix(b"/")
                .unwrap_or(path)
                .rsplit(|&b| b == b'/')
                .next()
                .unwrap_or(b"");
            let mut name = b"go/PaxHeaders/".to_vec();
            name.extend_from_slice(&base[..base.len().min(80)]);
            let refs: Vec<(&str, &[u8])> = records.iter().map(|(k, v)| (*k, v.as_slice())).collect();
            self.pax(b'x', &name, &refs)?;
        }
        let (prefix, name) = split.unwrap_or((b"", &path[path.len().saturating_sub(100)..]));
        let h = Self::header(name, prefix, kind, mode, size, mtime, link);
        self.gz.write(&h);
        Ok(())
    }

    /// End of archive: two zero blocks.
    fn end(&mut self) {
        self.gz.write(&[0u8; 1024]);
    }

    fn pad(&mut self, size: u64) {
        let rem = (size % 512) as usize;
        if rem != 0 {
            self.gz.write(&[0u8; 512][..512 - rem]);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Parallel gzip
// ---------------------------------------------------------------------------------------------

enum CopyError {
    Read(io::Error),
    Write(io::Error),
    Changed,
}

struct Compressed {
    data: Vec<u8>,
    crc: Crc,
}

/// A gzip writer that deflates chunks on all cores and writes them in order.
struct ParallelGz<W: Write> {
    out: W,
    level: u32,
    /// The chunk being filled: always `BUF_CAP` long, `filled` bytes used.
    buf: Vec<u8>,
    filled: usize,
    dict: Vec<u8>,
    pending: VecDeque<mpsc::Receiver<io::Result<Compressed>>>,
    max_pending: usize,
    crc: Crc,
    /// The first write error; reported by `finish` (writes into the buffer cannot fail).
    error: Option<io::Error>,
}

impl<W: Write> ParallelGz<W> {
    fn new(mut out: W, level: u32) -> io::Result<Self> {
        // gzip header: magic, deflate, no flags, no mtime, no extra flags, OS = Unix.
        out.write_all(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3])?;
        Ok(ParallelGz {
            out,
            level,
            buf: vec![0u8; BUF_CAP],
            filled: 0,
            dict: Vec::new(),
            pending: VecDeque::new(),
            max_pending: 2 * rayon::current_num_threads() + 2,
            crc: Crc::new(),
            error: None,
        })
    }

    fn write(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            let n = bytes.len().min(BUF_CAP - self.filled);
            self.buf[self.filled..self.filled + n].copy_from_slice(&bytes[..n]);
            self.filled += n;
            bytes = &bytes[n..];
            if self.filled >= CHUNK {
                self.dispatch(false);
            }
        }
    }

    /// Appends exactly `size` bytes of `file` to the stream, returning their SHA-256. The file
    /// is read straight into the chunk buffer and hashed there: one read, no copy.
    fn copy_file(&mut self, file: &mut File, size: u64) -> Result<String, CopyError> {
        let mut hasher = Sha256::new();
        let mut left = size;
        while left > 0 {
            // After a dispatch at CHUNK bytes at least BUF_CAP - CHUNK bytes are free.
            let want = (BUF_CAP - self.filled).min(usize::try_from(left).unwrap_or(usize::MAX));
            let start = self.filled;
            let n = loop {
                match file.read(&mut self.buf[start..start + want]) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(CopyError::Read(e)),
                }
            };
            if n == 0 {
                return Err(CopyError::Changed); // shorter than when it was listed
            }
            hasher.update(&self.buf[start..start + n]);
            self.filled += n;
            left -= n as u64;
            if self.filled >= CHUNK {
                self.dispatch(false);
            }
        }
        // Longer than listed?
        let mut probe = [0u8; 1];
        match file.read(&mut probe) {
            Ok(0) => {}
            Ok(_) => return Err(CopyError::Changed),
            Err(e) => return Err(CopyError::Read(e)),
        }
        if let Some(e) = self.error.take() {
            return Err(CopyError::Write(e));
        }
        Ok(hex(&hasher.finalize()))
    }

    fn dispatch(&mut self, last: bool) {
        let mut data = std::mem::replace(&mut self.buf, vec![0u8; BUF_CAP]);
        data.truncate(self.filled);
        self.filled = 0;
        let dict = std::mem::take(&mut self.dict);
        self.dict = data[data.len().saturating_sub(DICT)..].to_vec();
        let (tx, rx) = mpsc::sync_channel(1);
        let level = self.level;
        rayon::spawn(move || {
            let _ = tx.send(deflate_chunk(&data, &dict, level, last));
        });
        self.pending.push_back(rx);
        while self.pending.len() > self.max_pending {
            self.write_oldest();
        }
    }

    fn write_oldest(&mut self) {
        let Some(rx) = self.pending.pop_front() else { return };
        let result = rx
            .recv()
            .unwrap_or_else(|_| Err(io::Error::other("a compression job failed")));
        match result {
            Ok(c) => {
                self.crc.combine(&c.crc);
                if self.error.is_none()
                    && let Err(e) = self.out.write_all(&c.data)
                {
                    self.error = Some(e);
                }
            }
            Err(e) => {
                self.error.get_or_insert(e);
            }
        }
    }

    fn finish(mut self) -> io::Result<W> {
        self.dispatch(true);
        while !self.pending.is_empty() {
            self.write_oldest();
        }
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.out.write_all(&self.crc.sum().to_le_bytes())?;
        self.out.write_all(&self.crc.amount().to_le_bytes())?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Raw deflate of one chunk, primed with `dict`; ends on a byte boundary with a sync flush so
/// the next chunk's output can follow it, or finishes the stream if `last`.
fn deflate_chunk(data: &[u8], dict: &[u8], level: u32, last: bool) -> io::Result<Compressed> {
    let mut c = Compress::new(Compression::new(level), false);
    if !dict.is_empty() {
        c.set_dictionary(dict).map_err(io::Error::other)?;
    }
    let mut out = Vec::with_capacity(data.len() / 2 + 1024);
    let flush = if last {
        FlushCompress::Finish
    } else {
        FlushCompress::Sync
    };
    loop {
        if out.capacity() - out.len() < 16 * 1024 {
            out.reserve(out.capacity().max(64 * 1024));
        }
        let consumed = c.total_in() as usize;
        let status = c
            .compress_vec(&data[consumed..], &mut out, flush)
            .map_err(io::Error::other)?;
        let all_in = c.total_in() as usize == data.len();
        match status {
            Status::StreamEnd => break,
            // A sync flush is complete when all input is in and output space was left over.
            _ if !last && all_in && out.len() < out.capacity() => break,
            Status::BufError if all_in && !last => break,
            _ => {}
        }
    }
    let mut crc = Crc::new();
    crc.update(data);
    Ok(Compressed { data: out, crc })
}

/// Counts and hashes what passes through (the archive's own SHA-256, for the sidecar).
struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    size: u64,
}

impl<W: Write> HashingWriter<W> {
    fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hasher: Sha256::new(),
            size: 0,
        }
    }
    fn into_parts(self) -> (W, String, u64) {
        (self.inner, hex(&self.hasher.finalize()), self.size)
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pax_records_count_their_own_length() {
        let mut out = Vec::new();
        pax_record(&mut out, "path", b"a");
        assert_eq!(out, b"9 path=a\n");
        let mut out = Vec::new();
        let v = vec![b'x'; 95];
        pax_record(&mut out, "path", &v);
        assert_eq!(out.len(), 105);
        assert!(out.starts_with(b"105 path="));
    }

    #[test]
    fn long_paths_split_at_a_slash_or_need_pax() {
        assert_eq!(split_ustar(b"go/bin/go"), Some((&b""[..], &b"go/bin/go"[..])));
        let long = [b"go/".to_vec(), vec![b'a'; 120], b"/file.go".to_vec()].concat();
        let (prefix, name) = split_ustar(&long).unwrap();
        assert_eq!(name, b"file.go");
        assert_eq!(prefix.len(), 123);
        assert!(split_ustar(&[b"go/".to_vec(), vec![b'a'; 200]].concat()).is_none());
    }

    #[test]
    fn long_and_binary_names_round_trip_through_pax_records() {
        use std::os::unix::ffi::OsStrExt;
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("tree");
        let deep = root.join("d".repeat(120)).join("e".repeat(120));
        fs::create_dir_all(&deep).unwrap();
        let long_name = deep.join(format!("{}.go", "f".repeat(150)));
        fs::write(&long_name, "package f\n").unwrap();
        fs::write(root.join(std::ffi::OsStr::from_bytes(b"caf\xe9")), "latin-1\n").unwrap();
        let target = format!("{}/{}/{}.go", "d".repeat(120), "e".repeat(120), "f".repeat(150));
        std::os::unix::fs::symlink(&target, root.join("link")).unwrap();
        let m = Manifest::new(Header::default(), crate::integrity::manifest::scan(&root).unwrap());
        let out = tmp.path().join("t.tar.gz");
        pack(&root, "go1.0.0", &m.to_text(), &m, &out, 1).unwrap();

        let mut names = Vec::new();
        let mut links = Vec::new();
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(File::open(&out).unwrap()));
        for e in archive.entries().unwrap() {
            let e = e.unwrap();
            names.push(e.path_bytes().into_owned());
            if let Some(l) = e.link_name_bytes() {
                links.push(l.into_owned());
            }
        }
        let rel = long_name.strip_prefix(&root).unwrap().as_os_str().as_bytes();
        assert!(names.contains(&[b"go/", rel].concat()), "the 400-byte path survives");
        assert!(names.contains(&b"go/caf\xe9".to_vec()), "so do non-UTF-8 names");
        assert_eq!(links, vec![target.into_bytes()]);
        // GNU tar reads the same names.
        let listing = std::process::Command::new("tar")
            .arg("-tzf")
            .arg(&out)
            .output()
            .unwrap();
        assert!(listing.status.success());
        assert!(String::from_utf8_lossy(&listing.stdout).contains(&format!("{}.go", "f".repeat(150))));
    }

    #[test]
    fn parallel_gzip_is_one_standard_stream() {
        let data: Vec<u8> = (0..5 * CHUNK + 12345)
            .map(|i| ((i * 7) % 251) as u8 ^ (i / 4096) as u8)
            .collect();
        let mut gz = ParallelGz::new(Vec::new(), 6).unwrap();
        for piece in data.chunks(70_000) {
            gz.write(piece);
        }
        let out = gz.finish().unwrap();
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(&out[..]).read_to_end(&mut back).unwrap();
        assert_eq!(back, data);
        assert!(
            out.len() < data.len() / 4,
            "the dictionary keeps the ratio: {}",
            out.len()
        );
    }
}
