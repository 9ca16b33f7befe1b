//! Extracting a Go archive (`go/...` entries in a `.tar.gz`) into a staging directory, safely.
//!
//! Refused: absolute paths, `..`, entries outside `go/`, symlinks or hardlinks that leave the
//! tree (a symlink's target is followed through the links extracted before it), device files
//! and FIFOs, duplicate entries, anything written through a symlink, and more data or entries
//! than the caps allow (a gzip bomb). Dropped: setuid/setgid/sticky bits and group/other write
//! bits. Each file is hashed as it is written, so the manifest needs no second read.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::integrity::hex;
use crate::integrity::manifest::{Entry, Kind};

/// The top-level member of a `gomig archive` that carries its manifest (never written out).
pub const MANIFEST_MEMBER: &str = "gomig.manifest";

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error(
        "refusing archive entry {entry:?}: {why}; no Go release archive holds such an entry, so this file is damaged or malicious: get the release from go.dev or a mirror you trust"
    )]
    Unsafe { entry: String, why: &'static str },
    #[error(
        "the archive unpacks to more than {limit} {what}: refusing it (a damaged or malicious archive?); {knob} raises the cap"
    )]
    TooLarge {
        limit: u64,
        what: &'static str,
        knob: &'static str,
    },
    #[error("the archive is damaged or truncated: {0}")]
    Corrupt(io::Error),
    /// (`error`, not `source`: the message already shows it, once.)
    #[error("cannot write {}: {error}", crate::lookup::shown(path))]
    Write { path: String, error: io::Error },
    #[error("the archive holds no go/ tree")]
    Empty,
    #[error("the unpacked tree does not match the archive's own manifest: {detail}")]
    NotAsManifest { detail: String },
}

/// The environment variables that raise the caps.
const BYTES_KNOB: &str = "GOMIG_MAX_EXTRACT_BYTES";
const ENTRIES_KNOB: &str = "GOMIG_MAX_EXTRACT_ENTRIES";

/// Caps on what one archive may unpack to.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_bytes: u64,
    pub max_entries: u64,
}

impl Default for Limits {
    /// A Go release is about 250 MB in 15,000 entries; the caps leave ample room.
    fn default() -> Self {
        let knob = |name: &str, default: u64| std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default);
        Limits {
            max_bytes: knob(BYTES_KNOB, 4 << 30),
            max_entries: knob(ENTRIES_KNOB, 200_000),
        }
    }
}

pub struct Extracted {
    pub entries: Vec<Entry>,
    /// The embedded manifest of a `gomig archive`, if present.
    pub embedded_manifest: Option<String>,
    /// Entries whose setuid/setgid/sticky bits were dropped.
    pub dropped_special_bits: Vec<String>,
}

/// Normalizes an archive path to components below `go/`; `None` for the `go/` root itself.
fn tree_path(raw: &[u8]) -> Result<Option<Vec<&[u8]>>, &'static str> {
    if raw.first() == Some(&b'/') {
        return Err("absolute path");
    }
    let mut comps: Vec<&[u8]> = Vec::new();
    for c in raw.split(|&b| b == b'/') {
        match c {
            b"" | b"." => {}
            b".." => return Err("path contains .."),
            c if c.contains(&0) => return Err("NUL in path"),
            c => comps.push(c),
        }
    }
    match comps.first() {
        Some(&b"go") => Ok(if comps.len() == 1 {
            None
        } else {
            Some(comps[1..].to_vec())
        }),
        _ => Err("entry outside go/"),
    }
}

fn join(comps: &[&[u8]]) -> Vec<u8> {
    comps.join(&b'/')
}

/// How many symlinks resolving one target may follow in all (the kernel's own limit), so that
/// links built to fan out (`a1 -> a0/a0`, `a2 -> a1/a1`, ...) cannot make the check run forever.
const MAX_LINK_HOPS: u32 = 40;

/// Where a symlink target leads, as far as the entries extracted so far tell.
#[derive(Debug, PartialEq)]
enum Landing {
    /// At a directory this extraction made (a real directory: it can never become a link,
    /// since duplicate entries are refused).
    Dir,
    /// At a name that is a file or not extracted yet (a later entry may make it a link): only
    /// names may follow, never a `..` that would climb out of whatever it turns out to be.
    Open,
    /// Outside the tree (or too many links deep to tell).
    Outside,
}

/// Whether a symlink in `link_dir` (a real directory of the tree) pointing at `target` stays
/// inside the tree. The target is resolved the way the kernel will resolve it: `..` from a
/// directory is its parent, and a component that is an earlier symlink is replaced by where
/// that link leads, so a chain of links that are each harmless alone (`d/l -> ..`, then
/// `d/m -> l/../..`) is caught. `seen` and `entries` are what was extracted so far.
fn link_stays_inside(seen: &HashMap<Vec<u8>, usize>, entries: &[Entry], link_dir: &[&[u8]], target: &[u8]) -> bool {
    let mut at: Vec<Vec<u8>> = link_dir.iter().map(|c| c.to_vec()).collect();
    let mut budget = MAX_LINK_HOPS;
    resolve_link(seen, entries, &mut at, target, &mut budget) != Landing::Outside
}

/// Walks `target` from `at` (components below `go/`), updating `at` to where it leads.
fn resolve_link(
    seen: &HashMap<Vec<u8>, usize>,
    entries: &[Entry],
    at: &mut Vec<Vec<u8>>,
    target: &[u8],
    budget: &mut u32,
) -> Landing {
    if target.first() == Some(&b'/') {
        return Landing::Outside;
    }
    let mut open = false;
    for c in target.split(|&b| b == b'/') {
        match c {
            b"" | b"." => {}
            b".." => {
                if open || at.pop().is_none() {
                    return Landing::Outside;
                }
            }
            name => {
                at.push(name.to_vec());
                if open {
                    continue;
                }
                let known = seen.get(&at.join(&b'/')).map(|&i| &entries[i]);
                match known.map(|e| (e.kind, e.target.as_deref())) {
                    Some((Kind::Dir, _)) => {}
                    Some((Kind::Symlink, Some(link))) => {
                        if *budget == 0 {
                            return Landing::Outside;
                        }
                        *budget -= 1;
                        // The link's own target, from the directory that holds it.
                        at.pop();
                        match resolve_link(seen, entries, at, link, budget) {
                            Landing::Dir => {}
                            Landing::Open => open = true,
                            Landing::Outside => return Landing::Outside,
                        }
                    }
                    _ => open = true,
                }
            }
        }
    }
    if open { Landing::Open } else { Landing::Dir }
}

struct Extractor<'a> {
    dest: &'a Path,
    limits: Limits,
    bytes: u64,
    count: u64,
    /// What each path already is, to refuse duplicates and resolve hardlinks.
    seen: HashMap<Vec<u8>, usize>,
    entries: Vec<Entry>,
    dir_modes: Vec<(PathBuf, u32)>,
    dropped: Vec<String>,
    /// The embedded manifest's entries, once its member was read: each later entry is checked
    /// as soon as it is written, so an altered archive is refused without unpacking the rest.
    expected: Option<HashMap<Vec<u8>, Entry>>,
    /// One copy buffer for every file (not zeroed again per entry).
    buf: Vec<u8>,
}

impl<'a> Extractor<'a> {
    fn new(dest: &'a Path, limits: Limits) -> Extractor<'a> {
        Extractor {
            dest,
            limits,
            bytes: 0,
            count: 0,
            seen: HashMap::new(),
            entries: Vec::new(),
            dir_modes: Vec::new(),
            dropped: Vec::new(),
            expected: None,
            buf: vec![0; 256 << 10],
        }
    }

    fn finish(self, embedded_manifest: Option<String>) -> Result<Extracted, ArchiveError> {
        if self.entries.is_empty() {
            return Err(ArchiveError::Empty);
        }
        // Directory modes last: a read-only directory would have blocked its own contents.
        for (path, mode) in self.dir_modes.iter().rev() {
            fs::set_permissions(path, fs::Permissions::from_mode(*mode)).map_err(Extractor::write_err(path))?;
        }
        let mut entries = self.entries;
        entries.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(Extracted {
            entries,
            embedded_manifest,
            dropped_special_bits: self.dropped,
        })
    }

    fn check_expected(&self, rel: &[u8]) -> Result<(), ArchiveError> {
        let (Some(expected), Some(&i)) = (&self.expected, self.seen.get(rel)) else {
            return Ok(());
        };
        let have = std::slice::from_ref(&self.entries[i]);
        let want = expected.get(rel).map(std::slice::from_ref).unwrap_or_default();
        match crate::integrity::verify::diff(want, have).first() {
            Some(d) => Err(ArchiveError::NotAsManifest { detail: d.describe() }),
            None => Ok(()),
        }
    }

    fn unsafe_entry(raw: &[u8], why: &'static str) -> ArchiveError {
        ArchiveError::Unsafe {
            entry: String::from_utf8_lossy(raw).into_owned(),
            why,
        }
    }

    fn write_err(path: &Path) -> impl FnOnce(io::Error) -> ArchiveError + '_ {
        move |error| ArchiveError::Write {
            path: path.display().to_string(),
            error,
        }
    }

    /// Creates the parent directories of `comps` as real directories, never through a link.
    fn ensure_parents(&mut self, comps: &[&[u8]], raw: &[u8]) -> Result<PathBuf, ArchiveError> {
        let mut path = self.dest.to_path_buf();
        for (i, c) in comps[..comps.len() - 1].iter().enumerate() {
            path.push(std::ffi::OsStr::from_bytes(c));
            // What this extraction made of the path already answers without a stat.
            match self.seen.get(&join(&comps[..=i])).map(|&j| self.entries[j].kind) {
                Some(Kind::Dir) => continue,
                Some(Kind::Symlink) => {
                    return Err(Self::unsafe_entry(raw, "it would be written through a symlink"));
                }
                Some(_) => return Err(Self::unsafe_entry(raw, "a parent is not a directory")),
                None => {}
            }
            match fs::symlink_metadata(&path) {
                Ok(m) if m.file_type().is_dir() => {}
                Ok(m) if m.file_type().is_symlink() => {
                    return Err(Self::unsafe_entry(raw, "it would be written through a symlink"));
                }
                Ok(_) => return Err(Self::unsafe_entry(raw, "a parent is not a directory")),
                Err(_) => {
                    fs::create_dir(&path).map_err(Self::write_err(&path))?;
                    let rel = join(&comps[..=i]);
                    self.record(
                        rel,
                        Entry {
                            path: Vec::new(),
                            kind: Kind::Dir,
                            mode: 0o755,
                            size: 0,
                            sha256: None,
                            target: None,
                        },
                    );
                    self.dir_modes.push((path.clone(), 0o755));
                }
            }
        }
        path.push(std::ffi::OsStr::from_bytes(comps[comps.len() - 1]));
        Ok(path)
    }

    fn record(&mut self, rel: Vec<u8>, mut entry: Entry) {
        entry.path = rel.clone();
        match self.seen.get(&rel) {
            Some(&i) => self.entries[i] = entry,
            None => {
                self.seen.insert(rel, self.entries.len());
                self.entries.push(entry);
            }
        }
    }

    fn safe_mode(&mut self, raw: &[u8], mode: u32) -> u32 {
        if mode & 0o7000 != 0 {
            self.dropped.push(String::from_utf8_lossy(raw).into_owned());
        }
        mode & 0o755
    }

    /// One member of the archive: skipped (pax and GNU extension headers, `go/` itself), read
    /// (the embedded manifest, returned), or checked and written below `dest`.
    fn entry<R: Read>(&mut self, mut entry: tar::Entry<'_, R>) -> Result<Option<String>, ArchiveError> {
        let raw = entry.path_bytes().into_owned();
        let header = entry.header();
        let kind = header.entry_type();
        if is_extension_header(kind) {
            return Ok(None);
        }
        if raw.as_slice() == MANIFEST_MEMBER.as_bytes() && kind.is_file() {
            return read_manifest_member(&mut entry).map(Some);
        }
        self.count_entry()?;
        let mode = header.mode().unwrap_or(0o644);
        let Some(comps) = tree_path(&raw).map_err(|why| Self::unsafe_entry(&raw, why))? else {
            return Ok(None); // the go/ directory itself
        };
        let rel = join(&comps);
        self.refuse_duplicate(&rel, kind, &raw)?;
        if kind.is_dir() {
            self.directory(&comps, &rel, &raw, mode)?;
        } else if kind.is_file() || kind == tar::EntryType::Continuous {
            self.file(&mut entry, &comps, &rel, &raw, mode)?;
        } else if kind.is_symlink() {
            self.symlink(&entry, &comps, &rel, &raw)?;
        } else if kind.is_hard_link() {
            self.hard_link(&entry, &comps, &rel, &raw)?;
        } else {
            return Err(Self::unsafe_entry(
                &raw,
                "device files, FIFOs and other special entries are not allowed",
            ));
        }
        self.check_expected(&rel)?;
        Ok(None)
    }

    fn count_entry(&mut self) -> Result<(), ArchiveError> {
        self.count += 1;
        if self.count > self.limits.max_entries {
            return Err(ArchiveError::TooLarge {
                limit: self.limits.max_entries,
                what: "entries",
                knob: ENTRIES_KNOB,
            });
        }
        Ok(())
    }

    /// A path may appear once; only a directory may be named again (as tar allows).
    fn refuse_duplicate(&self, rel: &[u8], kind: tar::EntryType, raw: &[u8]) -> Result<(), ArchiveError> {
        if let Some(&i) = self.seen.get(rel)
            && !(kind.is_dir() && self.entries[i].kind == Kind::Dir)
        {
            return Err(Self::unsafe_entry(raw, "duplicate entry"));
        }
        Ok(())
    }

    fn directory(&mut self, comps: &[&[u8]], rel: &[u8], raw: &[u8], mode: u32) -> Result<(), ArchiveError> {
        let path = self.ensure_parents(comps, raw)?;
        match fs::symlink_metadata(&path) {
            Ok(m) if m.file_type().is_dir() => {}
            Ok(_) => return Err(Self::unsafe_entry(raw, "a directory would replace another entry")),
            Err(_) => fs::create_dir(&path).map_err(Self::write_err(&path))?,
        }
        let mode = self.safe_mode(raw, mode) | 0o700;
        self.dir_modes.push((path, mode));
        self.record(
            rel.to_vec(),
            Entry {
                path: Vec::new(),
                kind: Kind::Dir,
                mode,
                size: 0,
                sha256: None,
                target: None,
            },
        );
        Ok(())
    }

    fn file<R: Read>(
        &mut self,
        entry: &mut tar::Entry<'_, R>,
        comps: &[&[u8]],
        rel: &[u8],
        raw: &[u8],
        mode: u32,
    ) -> Result<(), ArchiveError> {
        let size = entry.header().size().map_err(ArchiveError::Corrupt)?;
        self.write_file(entry, size, comps, rel, raw, mode)
    }

    /// Writes one regular file of `size` bytes from `from` (a tar member, a zip entry).
    fn write_file(
        &mut self,
        from: &mut impl Read,
        size: u64,
        comps: &[&[u8]],
        rel: &[u8],
        raw: &[u8],
        mode: u32,
    ) -> Result<(), ArchiveError> {
        let path = self.ensure_parents(comps, raw)?;
        if self.bytes.saturating_add(size) > self.limits.max_bytes {
            return Err(self.too_many_bytes());
        }
        let mode = self.safe_mode(raw, mode);
        let mut out = OpenOptions::new()
            .write(true)
            .create_new(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .mode(0o600)
            .open(&path)
            .map_err(Self::write_err(&path))?;
        let (written, sha256) = self.copy_hashed(from, &mut out, &path)?;
        if written != size {
            return Err(ArchiveError::Corrupt(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "an entry is shorter than its header says",
            )));
        }
        out.set_permissions(fs::Permissions::from_mode(mode))
            .map_err(Self::write_err(&path))?;
        self.record(
            rel.to_vec(),
            Entry {
                path: Vec::new(),
                kind: Kind::File,
                mode,
                size,
                sha256: Some(sha256),
                target: None,
            },
        );
        Ok(())
    }

    fn too_many_bytes(&self) -> ArchiveError {
        ArchiveError::TooLarge {
            limit: self.limits.max_bytes,
            what: "bytes",
            knob: BYTES_KNOB,
        }
    }

    /// Copies the member's data to `out` (at `path`), hashing it and counting it against the
    /// byte cap as it goes; returns the bytes written and their SHA-256.
    fn copy_hashed(
        &mut self,
        from: &mut impl Read,
        out: &mut File,
        path: &Path,
    ) -> Result<(u64, String), ArchiveError> {
        let mut hasher = Sha256::new();
        let mut buf = std::mem::take(&mut self.buf);
        let mut written = 0u64;
        loop {
            let n = from.read(&mut buf).map_err(ArchiveError::Corrupt)?;
            if n == 0 {
                break;
            }
            written += n as u64;
            self.bytes += n as u64;
            if self.bytes > self.limits.max_bytes {
                return Err(self.too_many_bytes());
            }
            hasher.update(&buf[..n]);
            out.write_all(&buf[..n]).map_err(Self::write_err(path))?;
        }
        self.buf = buf;
        Ok((written, hex(&hasher.finalize())))
    }

    fn symlink<R: Read>(
        &mut self,
        entry: &tar::Entry<'_, R>,
        comps: &[&[u8]],
        rel: &[u8],
        raw: &[u8],
    ) -> Result<(), ArchiveError> {
        let target = entry
            .link_name_bytes()
            .ok_or_else(|| Self::unsafe_entry(raw, "symlink without a target"))?
            .into_owned();
        if !link_stays_inside(&self.seen, &self.entries, &comps[..comps.len() - 1], &target) {
            return Err(Self::unsafe_entry(raw, "symlink points outside the tree"));
        }
        let path = self.ensure_parents(comps, raw)?;
        std::os::unix::fs::symlink(std::ffi::OsStr::from_bytes(&target), &path).map_err(Self::write_err(&path))?;
        self.record(
            rel.to_vec(),
            Entry {
                path: Vec::new(),
                kind: Kind::Symlink,
                mode: 0,
                size: 0,
                sha256: None,
                target: Some(target),
            },
        );
        Ok(())
    }

    /// A hard link, only to a file this extraction wrote earlier; it shares that file's entry.
    fn hard_link<R: Read>(
        &mut self,
        entry: &tar::Entry<'_, R>,
        comps: &[&[u8]],
        rel: &[u8],
        raw: &[u8],
    ) -> Result<(), ArchiveError> {
        let target = entry
            .link_name_bytes()
            .ok_or_else(|| Self::unsafe_entry(raw, "hardlink without a target"))?
            .into_owned();
        let target_comps = match tree_path(&target) {
            Ok(Some(c)) => c,
            _ => return Err(Self::unsafe_entry(raw, "hardlink points outside the tree")),
        };
        let target_rel = join(&target_comps);
        let Some(existing) = self
            .seen
            .get(&target_rel)
            .map(|&i| self.entries[i].clone())
            .filter(|e| e.kind == Kind::File)
        else {
            return Err(Self::unsafe_entry(
                raw,
                "hardlink to something that is not a file extracted earlier",
            ));
        };
        let path = self.ensure_parents(comps, raw)?;
        let from = self.dest.join(std::ffi::OsStr::from_bytes(&target_rel));
        fs::hard_link(&from, &path).map_err(Self::write_err(&path))?;
        self.record(rel.to_vec(), existing);
        Ok(())
    }
}

/// pax and GNU headers that only describe the member after them (the tar crate applies them).
fn is_extension_header(kind: tar::EntryType) -> bool {
    kind.is_pax_global_extensions()
        || kind.is_pax_local_extensions()
        || kind.is_gnu_longname()
        || kind.is_gnu_longlink()
}

/// The embedded manifest of a `gomig archive` (at most 64 MiB of it).
fn read_manifest_member(entry: &mut impl Read) -> Result<String, ArchiveError> {
    let mut text = String::new();
    entry
        .take(64 << 20)
        .read_to_string(&mut text)
        .map_err(ArchiveError::Corrupt)?;
    Ok(text)
}

/// Extracts the `go/` tree of a `.tar.gz` stream into `dest` (which must exist and be empty).
/// `on_progress` is told the bytes and entries written so far.
pub fn extract_tar_gz<R: Read>(
    reader: R,
    dest: &Path,
    limits: Limits,
    on_progress: impl FnMut(u64, u64),
) -> Result<Extracted, ArchiveError> {
    extract_tar(flate2::read::GzDecoder::new(reader), dest, limits, on_progress)
}

/// Like [`extract_tar_gz`], for a stream that is already decompressed (see [`Gunzip`]).
pub fn extract_tar<R: Read>(
    reader: R,
    dest: &Path,
    limits: Limits,
    mut on_progress: impl FnMut(u64, u64),
) -> Result<Extracted, ArchiveError> {
    let mut archive = tar::Archive::new(reader);
    let mut x = Extractor::new(dest, limits);
    let mut embedded_manifest = None;
    for entry in archive.entries().map_err(ArchiveError::Corrupt)? {
        let entry = entry.map_err(ArchiveError::Corrupt)?;
        if let Some(m) = x.entry(entry)? {
            // A manifest that does not parse is reported by the caller's own check.
            if let Ok(parsed) = crate::integrity::manifest::Manifest::parse(&m, MANIFEST_MEMBER) {
                x.expected = Some(parsed.entries.into_iter().map(|e| (e.path.clone(), e)).collect());
            }
            embedded_manifest = Some(m);
        }
        on_progress(x.bytes, x.count);
    }
    x.finish(embedded_manifest)
}

/// A module path below the zip's `module@version/` prefix, as components; refused like Go's
/// module.CheckFilePath would (absolute, `.`, `..`, empty elements, NUL, backslashes).
fn module_path(rel: &[u8]) -> Result<Vec<&[u8]>, &'static str> {
    if rel.is_empty() {
        return Err("empty path");
    }
    let mut comps = Vec::new();
    for c in rel.split(|&b| b == b'/') {
        match c {
            b"" => return Err("empty path element (absolute path, or //)"),
            b"." | b".." => return Err("path contains . or .."),
            c if c.contains(&0) || c.contains(&b'\\') => return Err("NUL or backslash in path"),
            c => comps.push(c),
        }
    }
    Ok(comps)
}

/// Go's filepath.Match("go_?*_?*_exec", name): the wasm and other exec wrappers in lib/.
fn is_exec_wrapper(name: &[u8]) -> bool {
    let Some(mid) = name.strip_prefix(b"go_").and_then(|n| n.strip_suffix(b"_exec")) else {
        return false;
    };
    (1..mid.len().saturating_sub(1)).any(|i| mid[i] == b'_')
}

/// The mode cmd/go leaves a file of a downloaded toolchain with (toolchain/select.go: the module
/// zip has no modes; it restores the exec bits of everything in bin/ and pkg/tool/ and of the
/// `go_*_*_exec` wrappers in lib/). gomig's trees are the owner's to write, as tarball installs.
fn toolchain_mode(comps: &[&[u8]]) -> u32 {
    let exec = match comps {
        [b"bin", _, ..] => true,
        [b"pkg", b"tool", _, ..] => true,
        [b"lib", .., last] if comps.len() > 1 => is_exec_wrapper(last),
        _ => false,
    };
    if exec { 0o755 } else { 0o644 }
}

/// A toolchain module zip unpacked into a GOROOT, and the zip's `h1:` hash.
pub struct ExtractedModule {
    pub extracted: Extracted,
    pub h1: String,
}

/// Unpacks the toolchain module zip `file` into `dest` (existing and empty) as cmd/go turns it
/// into a GOROOT: every name must start with `prefix` (`golang.org/toolchain@VERSION/`), which is
/// stripped; exec bits as [`toolchain_mode`]; each `_go.mod` (distpack's name for the go.mod
/// files a module cannot hold) copied to `go.mod` beside it, as cmd/go copies them. Only regular
/// files (and directory entries) are allowed; the caps, duplicate (and case-folded duplicate)
/// names and the parent-directory checks are those of tarballs. Computes Go's dirhash `h1:` of
/// the zip (names with the prefix, as HashZip) from the same read.
pub fn extract_module_zip(
    file: File,
    prefix: &str,
    dest: &Path,
    limits: Limits,
    mut on_progress: impl FnMut(u64, u64),
) -> Result<ExtractedModule, ArchiveError> {
    let corrupt = |e: zip::result::ZipError| ArchiveError::Corrupt(io::Error::other(e));
    let mut zip = zip::ZipArchive::new(io::BufReader::with_capacity(256 << 10, file)).map_err(corrupt)?;
    let mut x = Extractor::new(dest, limits);
    let mut sums: Vec<(String, String)> = Vec::new();
    let mut folded = std::collections::HashSet::new();
    let mut go_mods = Vec::new();
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).map_err(corrupt)?;
        let raw = f.name_raw().to_vec();
        x.count_entry()?;
        let unsafe_entry = |why| Extractor::unsafe_entry(&raw, why);
        let name = std::str::from_utf8(&raw).map_err(|_| unsafe_entry("its name is not UTF-8"))?;
        if name.contains('\n') {
            return Err(unsafe_entry("newline in name"));
        }
        let rel = name
            .strip_prefix(prefix)
            .ok_or_else(|| unsafe_entry("entry outside the module's golang.org/toolchain@VERSION/ prefix"))?;
        if !folded.insert(name.to_lowercase()) {
            return Err(unsafe_entry(
                "duplicate entry (or one that differs from another only in case)",
            ));
        }
        let unix_type = f.unix_mode().map(|m| m & libc::S_IFMT);
        if f.is_dir() && matches!(unix_type, None | Some(0) | Some(libc::S_IFDIR)) {
            // Nothing to write (directories are implied), but HashZip hashes its (empty) data.
            sums.push((name.to_string(), hex(&Sha256::digest(b""))));
            continue;
        }
        if !f.is_file() || !matches!(unix_type, None | Some(0) | Some(libc::S_IFREG)) {
            return Err(unsafe_entry(
                "a module zip holds only regular files (no links or devices)",
            ));
        }
        let comps = module_path(rel.as_bytes()).map_err(unsafe_entry)?;
        if comps.len() > 1 && comps[comps.len() - 1] == b"go.mod" {
            return Err(unsafe_entry(
                "a go.mod below the module root (Go's toolchain modules hold _go.mod)",
            ));
        }
        let rel_bytes = join(&comps);
        x.refuse_duplicate(&rel_bytes, tar::EntryType::Regular, &raw)?;
        let size = f.size();
        x.write_file(&mut f, size, &comps, &rel_bytes, &raw, toolchain_mode(&comps))?;
        let sha = x
            .seen
            .get(&rel_bytes)
            .and_then(|&j| x.entries[j].sha256.clone())
            .unwrap_or_default();
        sums.push((name.to_string(), sha));
        if comps[comps.len() - 1] == b"_go.mod" {
            go_mods.push(rel_bytes);
        }
        on_progress(x.bytes, x.count);
    }
    for rel in go_mods {
        x.copy_go_mod(&rel)?;
    }
    let h1 = crate::install::sumdb::hash1(&mut sums);
    Ok(ExtractedModule {
        extracted: x.finish(None)?,
        h1,
    })
}

impl Extractor<'_> {
    /// `DIR/_go.mod` copied to `DIR/go.mod` (never through a link: there are none in the tree).
    fn copy_go_mod(&mut self, rel: &[u8]) -> Result<(), ArchiveError> {
        let from = self.dest.join(std::ffi::OsStr::from_bytes(rel));
        let data = fs::read(&from).map_err(Self::write_err(&from))?;
        let mut to_rel = rel[..rel.len() - b"_go.mod".len()].to_vec();
        to_rel.extend_from_slice(b"go.mod");
        if self.seen.contains_key(&to_rel) {
            return Err(Self::unsafe_entry(&to_rel, "go.mod beside _go.mod"));
        }
        let comps: Vec<&[u8]> = to_rel.split(|&b| b == b'/').collect();
        let comps = comps.clone();
        self.write_file(
            &mut data.as_slice(),
            data.len() as u64,
            &comps,
            &to_rel.clone(),
            &to_rel.clone(),
            0o644,
        )
    }
}

/// Opens an archive file for [`extract_tar_gz`].
pub fn open(path: &Path) -> io::Result<File> {
    File::open(path)
}

/// A `.tar.gz` file (or any byte source) decompressed on a thread of its own, so that
/// inflating and unpacking use two cores (as `tar -xzf` does with its gzip process). The
/// thread also hashes the raw bytes, to the last one, for a checksum check that needs no
/// second read.
pub struct Gunzip {
    rx: std::sync::mpsc::Receiver<GunzipMsg>,
    chunk: Vec<u8>,
    pos: usize,
    /// Set once the thread reported the file's checksum.
    raw: Option<(String, u64)>,
    /// A decompression error seen while draining in [`Gunzip::finish`].
    error: Option<io::Error>,
}

enum GunzipMsg {
    Data(Vec<u8>),
    Error(io::Error),
    /// The SHA-256 and size of the whole raw file.
    End(String, u64),
}

/// What a [`Gunzip`] saw: the raw file's SHA-256 and size, and whether the gzip stream was
/// damaged anywhere (also past the end of the tar data).
pub struct GunzipEnd {
    pub sha256: String,
    pub size: u64,
    pub error: Option<io::Error>,
}

impl Gunzip {
    pub fn spawn(file: impl Read + Send + 'static) -> Gunzip {
        let (tx, rx) = std::sync::mpsc::sync_channel(8);
        std::thread::spawn(move || {
            let mut raw = HashCount {
                inner: file,
                hasher: Sha256::new(),
                size: 0,
            };
            let mut gz = flate2::read::GzDecoder::new(&mut raw);
            loop {
                let mut buf = vec![0u8; 1 << 20];
                let mut filled = 0;
                let mut failed = None;
                while filled < buf.len() {
                    match gz.read(&mut buf[filled..]) {
                        Ok(0) => break,
                        Ok(n) => filled += n,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => {
                            failed = Some(e);
                            break;
                        }
                    }
                }
                buf.truncate(filled);
                let end = filled == 0 || failed.is_some();
                if filled > 0 && tx.send(GunzipMsg::Data(buf)).is_err() {
                    return;
                }
                if let Some(e) = failed {
                    let _ = tx.send(GunzipMsg::Error(e));
                }
                if end {
                    break;
                }
            }
            drop(gz);
            // The rest of the file (trailing bytes after the gzip stream, or after an error)
            // still counts for the checksum.
            let _ = io::copy(&mut raw, &mut io::sink());
            let _ = tx.send(GunzipMsg::End(hex(&raw.hasher.finalize()), raw.size));
        });
        Gunzip {
            rx,
            chunk: Vec::new(),
            pos: 0,
            raw: None,
            error: None,
        }
    }

    /// Reads to the end of the file and reports its checksum and any gzip damage.
    pub fn finish(mut self) -> GunzipEnd {
        while self.raw.is_none() {
            match self.rx.recv() {
                Ok(GunzipMsg::Data(_)) => {}
                Ok(GunzipMsg::Error(e)) => {
                    self.error.get_or_insert(e);
                }
                Ok(GunzipMsg::End(sha, size)) => self.raw = Some((sha, size)),
                Err(_) => {
                    self.error
                        .get_or_insert_with(|| io::Error::other("the decompression thread stopped"));
                    break;
                }
            }
        }
        let (sha256, size) = self.raw.unwrap_or_default();
        GunzipEnd {
            sha256,
            size,
            error: self.error,
        }
    }
}

impl Read for Gunzip {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.chunk.len() {
            if self.raw.is_some() {
                return Ok(0);
            }
            match self.rx.recv() {
                Ok(GunzipMsg::Data(d)) => {
                    self.chunk = d;
                    self.pos = 0;
                }
                Ok(GunzipMsg::Error(e)) => {
                    let copy = io::Error::new(e.kind(), e.to_string());
                    self.error.get_or_insert(e);
                    return Err(copy);
                }
                Ok(GunzipMsg::End(sha, size)) => self.raw = Some((sha, size)),
                Err(_) => return Err(io::Error::other("the decompression thread stopped")),
            }
        }
        let n = buf.len().min(self.chunk.len() - self.pos);
        buf[..n].copy_from_slice(&self.chunk[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

struct HashCount<R> {
    inner: R,
    hasher: Sha256,
    size: u64,
}

impl<R: Read> Read for HashCount<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_must_stay_under_go() {
        assert_eq!(tree_path(b"go/bin/go").unwrap().unwrap(), vec![&b"bin"[..], b"go"]);
        assert_eq!(
            tree_path(b"./go/./src//fmt").unwrap().unwrap(),
            vec![&b"src"[..], b"fmt"]
        );
        assert!(tree_path(b"go/").unwrap().is_none());
        assert!(tree_path(b"/go/bin").is_err());
        assert!(tree_path(b"go/../etc/passwd").is_err());
        assert!(tree_path(b"other/file").is_err());
        assert!(tree_path(b"gox/file").is_err());
    }

    /// `(path, kind, link target)` entries as an extraction records them.
    fn tree(items: &[(&str, Kind, Option<&str>)]) -> (HashMap<Vec<u8>, usize>, Vec<Entry>) {
        let entries: Vec<Entry> = items
            .iter()
            .map(|(path, kind, target)| Entry {
                path: path.as_bytes().to_vec(),
                kind: *kind,
                mode: 0o755,
                size: 0,
                sha256: None,
                target: target.map(|t| t.as_bytes().to_vec()),
            })
            .collect();
        let seen = entries.iter().enumerate().map(|(i, e)| (e.path.clone(), i)).collect();
        (seen, entries)
    }

    fn inside(tree: &(HashMap<Vec<u8>, usize>, Vec<Entry>), link_dir: &str, target: &str) -> bool {
        let dir: Vec<&[u8]> = link_dir
            .split('/')
            .filter(|c| !c.is_empty())
            .map(str::as_bytes)
            .collect();
        link_stays_inside(&tree.0, &tree.1, &dir, target.as_bytes())
    }

    #[test]
    fn symlinks_must_not_leave_the_tree() {
        let t = tree(&[("src", Kind::Dir, None), ("src/pkg", Kind::Dir, None)]);
        assert!(inside(&t, "src/pkg", "../lib/x"));
        assert!(inside(&t, "src/pkg", "../../VERSION"));
        assert!(inside(&t, "src/pkg", "./a//b/."));
        assert!(!inside(&t, "src/pkg", "../../../etc"));
        assert!(!inside(&t, "src/pkg", "/etc"));
        assert!(!inside(&t, "", ".."));
    }

    #[test]
    fn a_chain_of_links_is_resolved_through_the_links_extracted_before() {
        let t = tree(&[
            ("d", Kind::Dir, None),
            ("d/e", Kind::Dir, None),
            ("d/l", Kind::Symlink, Some("..")),
            ("d/f", Kind::File, None),
            ("d/deeper", Kind::Symlink, Some("e")),
            ("d/loop", Kind::Symlink, Some("loop")),
        ]);
        // `l` is the tree's root: climbing from it leaves the tree.
        assert!(!inside(&t, "d", "l/../.."));
        assert!(!inside(&t, "d", "l/.."));
        assert!(inside(&t, "d", "l/d/e"));
        assert!(inside(&t, "d", "l/d/../VERSION"));
        // Through a link to a subdirectory and back up: still inside.
        assert!(inside(&t, "d", "deeper/../f"));
        assert!(inside(&t, "d", "deeper/../../VERSION"));
        assert!(!inside(&t, "d", "deeper/../../.."));
        // A real directory climbs to its real parent.
        assert!(inside(&t, "d", "e/../../VERSION"));
        // A file or a name not extracted yet may be followed by names only.
        assert!(inside(&t, "d", "later/x"));
        assert!(!inside(&t, "d", "later/.."));
        assert!(!inside(&t, "d", "f/.."));
        // A loop is never resolved forever.
        assert!(!inside(&t, "d", "loop/x"));
    }

    #[test]
    fn links_that_fan_out_are_given_up_after_forty_hops_in_all() {
        // a1 -> a0/a0, a2 -> a1/a1, ...: resolving a60 would take 2^60 steps without a budget.
        let mut items = vec![
            ("d".to_string(), Kind::Dir, None),
            ("d/a0".to_string(), Kind::Symlink, Some(".".to_string())),
        ];
        for i in 1..=60 {
            items.push((format!("d/a{i}"), Kind::Symlink, Some(format!("a{0}/a{0}", i - 1))));
        }
        let items: Vec<(&str, Kind, Option<&str>)> =
            items.iter().map(|(p, k, t)| (p.as_str(), *k, t.as_deref())).collect();
        let t = tree(&items);
        assert!(!inside(&t, "d", "a60/x"));
        // A short chain within the budget still resolves.
        assert!(inside(&t, "d", "a3/x"));
    }
}
