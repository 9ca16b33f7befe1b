//! The manifest of a GOROOT: every entry's path, type, mode, size, SHA-256 and link target.
//!
//! Format (version 1), plain text so it diffs and greps well:
//!
//! ```text
//! gomig-manifest 1
//! go-version go1.22.10
//! goos linux
//! goarch amd64
//! created 2026-11-25T09:30:00Z
//! env-fingerprint -
//! tree-digest 3f1c...                  (SHA-256 of the body below)
//! entries 12081
//!
//! d 0755 - - bin
//! f 0755 12688957 9a0b... bin/go
//! l - - - misc/link target/of/link
//! ```
//!
//! The body is one line per entry, sorted by path bytes, paths relative to the GOROOT with
//! bytes outside `[A-Za-z0-9._/+@~,=:-]` percent-encoded. The same release therefore gives the
//! same body, and the same *tree digest*, on every machine.

use std::fmt::Write as _;
use std::fs::{self, File};
use std::io::{self, Read};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::integrity::{hex, tree};
use rayon::prelude::*;
use sha2::{Digest, Sha256};

pub const FORMAT_LINE: &str = "gomig-manifest 1";

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error(
        "{path}: not a gomig manifest (the first line should be {FORMAT_LINE:?}); re-create it with gomig snapshot"
    )]
    NotAManifest { path: String },
    #[error("{path} line {line}: {problem}; re-create it with gomig snapshot")]
    Malformed { path: String, line: usize, problem: String },
    #[error("{path}: the tree digest in the header does not match the entries (the manifest was edited or damaged)")]
    DigestMismatch { path: String },
    #[error("cannot read {path}: {source}")]
    Io { path: String, source: io::Error },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    File,
    Dir,
    Symlink,
}

impl Kind {
    fn letter(self) -> char {
        match self {
            Kind::File => 'f',
            Kind::Dir => 'd',
            Kind::Symlink => 'l',
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Kind::File => "file",
            Kind::Dir => "dir",
            Kind::Symlink => "symlink",
        }
    }
}

/// One entry of a tree. `path` is relative to the root, `/`-separated, raw bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub path: Vec<u8>,
    pub kind: Kind,
    /// Permission bits (`0o7777` mask); 0 for symlinks.
    pub mode: u32,
    pub size: u64,
    /// Lowercase hex SHA-256 of a file's content.
    pub sha256: Option<String>,
    pub target: Option<Vec<u8>>,
}

impl Entry {
    pub fn path_lossy(&self) -> String {
        String::from_utf8_lossy(&self.path).into_owned()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Header {
    pub go_version: String,
    pub goos: String,
    pub goarch: String,
    pub created: String,
    pub env_fingerprint: Option<String>,
    /// Where the tree came from, when gomig knows it better than the event log alone (a
    /// module proxy install: the module, its `h1:` and the checksum database that vouched for it).
    pub source: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    pub header: Header,
    /// Sorted by path.
    pub entries: Vec<Entry>,
}

fn encode_into(out: &mut String, bytes: &[u8]) {
    for &b in bytes {
        if b.is_ascii_alphanumeric() || b"._/+@~,=:-".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
}

fn decode(s: &str) -> Option<Vec<u8>> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(out)
}

/// The canonical line for an entry (without newline).
pub fn entry_line(e: &Entry) -> String {
    let mut line = String::with_capacity(100 + e.path.len());
    line.push(e.kind.letter());
    match e.kind {
        Kind::File => {
            let _ = write!(
                line,
                " {:04o} {} {} ",
                e.mode,
                e.size,
                e.sha256.as_deref().unwrap_or("-")
            );
        }
        Kind::Dir => {
            let _ = write!(line, " {:04o} - - ", e.mode);
        }
        Kind::Symlink => line.push_str(" - - - "),
    }
    encode_into(&mut line, &e.path);
    if let Some(t) = &e.target {
        line.push(' ');
        encode_into(&mut line, t);
    }
    line
}

impl Manifest {
    pub fn new(header: Header, mut entries: Vec<Entry>) -> Manifest {
        entries.sort_by(|a, b| a.path.cmp(&b.path));
        Manifest { header, entries }
    }

    pub fn body(&self) -> String {
        let mut body = String::with_capacity(self.entries.len() * 110);
        for e in &self.entries {
            body.push_str(&entry_line(e));
            body.push('\n');
        }
        body
    }

    /// SHA-256 of the body: one value to compare a release across machines.
    pub fn tree_digest(&self) -> String {
        hex(&Sha256::digest(self.body().as_bytes()))
    }

    pub fn to_text(&self) -> String {
        let body = self.body();
        let h = &self.header;
        let mut text = String::with_capacity(body.len() + 300);
        let _ = writeln!(text, "{FORMAT_LINE}");
        let _ = writeln!(text, "go-version {}", h.go_version);
        let _ = writeln!(text, "goos {}", h.goos);
        let _ = writeln!(text, "goarch {}", h.goarch);
        let _ = writeln!(text, "created {}", h.created);
        let _ = writeln!(text, "env-fingerprint {}", h.env_fingerprint.as_deref().unwrap_or("-"));
        if let Some(source) = &h.source {
            // One line whatever it holds (a newline would end the header).
            let _ = writeln!(text, "source {}", source.replace(['\n', '\r'], " "));
        }
        let _ = writeln!(text, "tree-digest {}", hex(&Sha256::digest(body.as_bytes())));
        let _ = writeln!(text, "entries {}", self.entries.len());
        text.push('\n');
        text.push_str(&body);
        text
    }

    /// The regular files in `sha256sum` format, paths prefixed by `prefix` (e.g. the GOROOT),
    /// byte for byte. A name with a backslash, newline or carriage return is escaped the way GNU
    /// sha256sum does it (the line starts with a backslash), so `sha256sum -c` reads every name back.
    pub fn to_sha256sum(&self, prefix: &Path) -> Vec<u8> {
        let mut out = Vec::new();
        for e in self.entries.iter().filter(|e| e.kind == Kind::File) {
            let path = prefix.join(std::ffi::OsStr::from_bytes(&e.path));
            let name = path.as_os_str().as_bytes();
            let escape = name.iter().any(|b| matches!(b, b'\\' | b'\n' | b'\r'));
            if escape {
                out.push(b'\\');
            }
            out.extend_from_slice(e.sha256.as_deref().unwrap_or("").as_bytes());
            out.extend_from_slice(b"  ");
            for &b in name {
                match b {
                    b'\\' => out.extend_from_slice(b"\\\\"),
                    b'\n' => out.extend_from_slice(b"\\n"),
                    b'\r' => out.extend_from_slice(b"\\r"),
                    _ => out.push(b),
                }
            }
            out.push(b'\n');
        }
        out
    }

    pub fn parse(text: &str, path: &str) -> Result<Manifest, ManifestError> {
        let mut lines = text.split('\n').enumerate();
        let malformed = |line: usize, problem: &str| ManifestError::Malformed {
            path: path.into(),
            line: line + 1,
            problem: problem.into(),
        };
        match lines.next() {
            Some((_, FORMAT_LINE)) => {}
            _ => return Err(ManifestError::NotAManifest { path: path.into() }),
        }
        let mut header = Header::default();
        let mut digest = None;
        for (n, line) in lines.by_ref() {
            if line.is_empty() {
                break;
            }
            let (key, value) = line
                .split_once(' ')
                .ok_or_else(|| malformed(n, "header line without a value"))?;
            match key {
                "go-version" => header.go_version = value.into(),
                "goos" => header.goos = value.into(),
                "goarch" => header.goarch = value.into(),
                "created" => header.created = value.into(),
                "env-fingerprint" => header.env_fingerprint = (value != "-").then(|| value.to_string()),
                "tree-digest" => digest = Some(value.to_string()),
                "source" => header.source = Some(value.to_string()),
                _ => {} // entries count and future keys
            }
        }
        let mut entries = Vec::new();
        for (n, line) in lines {
            if line.is_empty() {
                continue;
            }
            let f: Vec<&str> = line.split(' ').collect();
            let bad = || malformed(n, "malformed entry");
            let kind = match f.first() {
                Some(&"f") => Kind::File,
                Some(&"d") => Kind::Dir,
                Some(&"l") => Kind::Symlink,
                _ => return Err(bad()),
            };
            let want = if kind == Kind::Symlink { 6 } else { 5 };
            if f.len() != want {
                return Err(bad());
            }
            let mode = if kind == Kind::Symlink {
                0
            } else {
                u32::from_str_radix(f[1], 8).map_err(|_| bad())?
            };
            let size = if kind == Kind::File {
                f[2].parse().map_err(|_| bad())?
            } else {
                0
            };
            let sha256 = (kind == Kind::File).then(|| f[3].to_string());
            let path = decode(f[4]).ok_or_else(bad)?;
            let target = if kind == Kind::Symlink {
                Some(decode(f[5]).ok_or_else(bad)?)
            } else {
                None
            };
            entries.push(Entry {
                path,
                kind,
                mode,
                size,
                sha256,
                target,
            });
        }
        let m = Manifest::new(header, entries);
        if digest.as_deref() != Some(m.tree_digest().as_str()) {
            return Err(ManifestError::DigestMismatch { path: path.into() });
        }
        Ok(m)
    }

    pub fn load(path: &Path) -> Result<Manifest, ManifestError> {
        let text = fs::read_to_string(path).map_err(|source| ManifestError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Manifest::parse(&text, &path.display().to_string())
    }
}

/// Walks `root` (not following links, [`tree::walk`]) and hashes every regular file, in
/// parallel on all cores. Each file is read exactly once.
pub fn scan(root: &Path) -> io::Result<Vec<Entry>> {
    let found = tree::walk(root)?;
    let mut entries: Vec<Entry> = found.iter().map(Entry::unhashed).collect();
    let mut files: Vec<(usize, &Path, u64)> = found
        .iter()
        .enumerate()
        .filter(|(_, t)| t.kind == tree::Kind::File)
        .map(|(i, t)| (i, t.path.as_path(), t.size))
        .collect();
    // Large files first, so the last thread is not left hashing a big one alone.
    files.sort_by_key(|f| std::cmp::Reverse(f.2));
    let hashes: Vec<(usize, io::Result<String>)> = files.par_iter().map(|(i, p, _)| (*i, hash_file(p))).collect();
    for (i, h) in hashes {
        entries[i].sha256 = Some(h?);
    }
    Ok(entries)
}

impl Entry {
    /// The manifest's entry for what the walker found, without a file's hash. Devices, sockets
    /// and FIFOs do not belong in a GOROOT; they are recorded as files hashed `special-file`
    /// so verify flags them.
    pub fn unhashed(t: &tree::TreeEntry) -> Entry {
        let kind = match t.kind {
            tree::Kind::Dir => Kind::Dir,
            tree::Kind::Symlink => Kind::Symlink,
            _ => Kind::File,
        };
        Entry {
            path: t.rel.clone(),
            kind,
            mode: t.mode,
            size: t.size,
            sha256: t.kind.is_special().then(|| "special-file".to_string()),
            target: t.target.clone(),
        }
    }
}

thread_local! {
    static BUF: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(vec![0; 256 * 1024]);
}

pub fn hash_file(path: &Path) -> io::Result<String> {
    let mut f = File::open(path)?;
    let mut h = Sha256::new();
    BUF.with(|buf| -> io::Result<()> {
        let mut buf = buf.borrow_mut();
        loop {
            let n = f.read(&mut buf)?;
            if n == 0 {
                return Ok(());
            }
            h.update(&buf[..n]);
        }
    })?;
    Ok(hex(&h.finalize()))
}

/// `GOOS`/`GOARCH` names for this machine, as go.dev's index and `go env` spell them.
pub fn host_platform() -> (&'static str, &'static str) {
    go_platform(
        std::env::consts::OS,
        std::env::consts::ARCH,
        cfg!(target_endian = "little"),
    )
}

/// Rust's names for an OS and an architecture (`std::env::consts`) → Go's `GOOS`/`GOARCH`.
/// Where Go's name depends on the byte order (`ppc64`/`ppc64le`, `mips`/`mipsle`), `little`
/// decides. A name Go spells the same way (`linux`, `freebsd`, `riscv64`, `s390x`) passes
/// through.
pub fn go_platform<'a>(os: &'a str, arch: &'a str, little: bool) -> (&'a str, &'a str) {
    let os = match os {
        "macos" => "darwin",
        other => other,
    };
    let arch = match (arch, little) {
        ("x86_64", _) => "amd64",
        ("aarch64", _) => "arm64",
        ("x86", _) => "386",
        // go.dev's 32-bit ARM archive for Linux is built for ARMv6 (hard float).
        ("arm", _) => "armv6l",
        ("powerpc64", true) => "ppc64le",
        ("powerpc64", false) => "ppc64",
        ("mips", true) => "mipsle",
        ("mips64", true) => "mips64le",
        ("loongarch64", _) => "loong64",
        (other, _) => other,
    };
    (os, arch)
}

/// A manifest header for the toolchain at `root`: its GOVERSION, GOOS and GOARCH as its own
/// `go env` says (`name` and the host's names if it cannot run), the time, and the environment
/// fingerprint (one `go env -json` run gives all of it).
pub fn header_for(root: &Path, name: &str) -> Header {
    let env = crate::integrity::fingerprint::go_env(root, crate::integrity::fingerprint::KEYS).ok();
    let get = |k: &str| env.as_ref().and_then(|e| e.get(k)).filter(|v| !v.is_empty()).cloned();
    let (go_version, goos, goarch) = match (get("GOVERSION"), get("GOOS"), get("GOARCH")) {
        (Some(v), Some(os), Some(arch)) => (v, os, arch),
        _ => {
            let (os, arch) = host_platform();
            (name.to_string(), os.to_string(), arch.to_string())
        }
    };
    Header {
        go_version,
        goos,
        goarch,
        created: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        env_fingerprint: env.map(|e| crate::integrity::fingerprint::Fingerprint::from_env(None, &e).fingerprint),
        source: None,
    }
}

/// Scans `root` and records its manifest as `path` (atomically).
pub fn record(root: &Path, name: &str, path: &Path) -> io::Result<Manifest> {
    let m = Manifest::new(header_for(root, name), scan(root)?);
    crate::store::atomic::write_atomic(path, m.to_text().as_bytes()).map_err(io::Error::other)?;
    Ok(m)
}

impl Manifest {
    /// Total bytes of the regular files.
    pub fn total_size(&self) -> u64 {
        self.entries
            .iter()
            .filter(|e| e.kind == Kind::File)
            .map(|e| e.size)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256sum_reads_back_every_name_backslashes_newlines_and_odd_bytes_included() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("go");
        fs::create_dir_all(root.join("src")).unwrap();
        let names: [&[u8]; 5] = [
            b"plain.go",
            b"back\\slash",
            b"new\nline",
            b"carriage\rreturn",
            b"latin1-\xe9",
        ];
        for (i, name) in names.iter().enumerate() {
            fs::write(
                root.join("src").join(std::ffi::OsStr::from_bytes(name)),
                format!("file {i}"),
            )
            .unwrap();
        }
        let header = Header {
            go_version: "go1.22.10".into(),
            goos: "linux".into(),
            goarch: "amd64".into(),
            created: "2026-11-30T00:00:00Z".into(),
            env_fingerprint: None,
            source: None,
        };
        let list = dir.path().join("list.sha256");
        let m = Manifest::new(header, scan(&root).unwrap());
        fs::write(&list, m.to_sha256sum(&root)).unwrap();
        let out = std::process::Command::new("sha256sum")
            .arg("-c")
            .arg(&list)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "sha256sum -c:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).matches(": OK").count(),
            names.len()
        );
    }

    #[test]
    fn rust_platform_names_become_the_names_in_go_devs_index() {
        let cases = [
            // (Rust OS, Rust arch, little-endian) -> (GOOS, GOARCH)
            (("linux", "x86_64", true), ("linux", "amd64")),
            (("macos", "aarch64", true), ("darwin", "arm64")),
            (("macos", "x86_64", true), ("darwin", "amd64")),
            (("linux", "aarch64", true), ("linux", "arm64")),
            (("linux", "x86", true), ("linux", "386")),
            (("linux", "arm", true), ("linux", "armv6l")),
            (("linux", "powerpc64", true), ("linux", "ppc64le")),
            (("linux", "powerpc64", false), ("linux", "ppc64")),
            (("linux", "mips", true), ("linux", "mipsle")),
            (("linux", "mips", false), ("linux", "mips")),
            (("linux", "mips64", true), ("linux", "mips64le")),
            (("linux", "loongarch64", true), ("linux", "loong64")),
            (("linux", "riscv64", true), ("linux", "riscv64")),
            (("linux", "s390x", false), ("linux", "s390x")),
            (("freebsd", "x86_64", true), ("freebsd", "amd64")),
            (("windows", "x86", true), ("windows", "386")),
        ];
        for ((os, arch, little), want) in cases {
            assert_eq!(go_platform(os, arch, little), want, "{os}/{arch}");
        }
    }

    #[test]
    fn this_host_is_named_as_go_names_it() {
        let (os, arch) = host_platform();
        assert_ne!(os, "macos", "go.dev calls it darwin");
        assert!(!["x86_64", "aarch64", "x86", "arm"].contains(&arch), "{arch}");
    }
}
