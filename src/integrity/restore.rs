//! Restoring a gomig archive into the store: the sidecar checksum, protected extraction into
//! staging (the install extractor), the tree checked against the archive's own manifest (and
//! against the manifest the store recorded for that release, if it still has one), `go version`,
//! then one rename into place. Anything wrong leaves nothing installed.

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::install::archive::{self, ArchiveError, Gunzip, Limits};
use crate::integrity::manifest::{Manifest, ManifestError};
use crate::integrity::verify::{Difference, diff};
use crate::store::{self, Store, StoreError, unique_suffix};

#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    #[error("cannot open {path}: {cause}")]
    Open { path: String, cause: std::io::Error },
    #[error("{sidecar}: {problem}")]
    BadSidecar { sidecar: String, problem: String },
    #[error(
        "checksum mismatch for {path}: {origin} says SHA-256 {expected}, the file has {actual}; the archive is damaged or was altered, nothing was restored"
    )]
    Checksum {
        path: String,
        origin: String,
        expected: String,
        actual: String,
    },
    #[error("{path}: {cause}; nothing was restored")]
    Archive { path: String, cause: ArchiveError },
    #[error(
        "{path} has no {member} member, so it is not a gomig archive; an official Go archive is installed with: gomig install --archive {path}"
    )]
    NoManifest { path: String, member: &'static str },
    #[error("{0}; nothing was restored")]
    Manifest(ManifestError),
    #[error(
        "{path}: the unpacked tree does not match the archive's own manifest ({count} difference(s), e.g. {first}); the archive was altered, nothing was restored"
    )]
    TreeMismatch { path: String, count: usize, first: String },
    #[error(
        "{path} holds {name} with tree digest {actual}, but the store recorded {recorded} for {name} in {manifest}; nothing was restored (if this archive is the one you want, delete that manifest and restore again)"
    )]
    DiffersFromRecorded {
        path: String,
        name: String,
        actual: String,
        recorded: String,
        manifest: String,
    },
    #[error("{path}: the manifest says {version:?}, which is not a Go version; pass --name")]
    BadVersion { path: String, version: String },
    #[error("{path}: the unpacked toolchain does not run as {name}: {detail}; nothing was restored")]
    DoesNotRun { path: String, name: String, detail: String },
    #[error(
        "{name} is already installed with another tree (digest {installed}, the archive has {archived}); uninstall it first to restore it from the archive"
    )]
    InstalledDifferently {
        name: String,
        installed: String,
        archived: String,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot {action} {path}: {cause}")]
    Io {
        action: &'static str,
        path: String,
        cause: std::io::Error,
    },
}

/// A reader that fails once `stop` is set.
struct Stoppable<'a, R> {
    inner: R,
    stop: &'a AtomicBool,
}

impl<R: Read> Read for Stoppable<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.stop.load(Ordering::Relaxed) {
            return Err(io::Error::other("stopped: the archive's checksum does not match"));
        }
        self.inner.read(buf)
    }
}

/// What a restore did.
#[derive(Debug)]
pub struct Restored {
    pub name: String,
    pub tree_digest: String,
    pub sha256: String,
    /// It was already installed with the same tree: nothing changed.
    pub already_installed: bool,
    /// Where the checksum came from (`FILE.sha256`, `--sha256`), or `None` when unchecked.
    pub checked_against: Option<String>,
}

/// A staging directory, removed unless renamed into place.
struct Staging {
    path: PathBuf,
    keep: bool,
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.keep {
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}

/// Removes `.staging-restore-<pid>-...` directories whose restore process is gone.
pub(crate) fn clean_stale_staging(toolchains: &Path) {
    let Ok(entries) = fs::read_dir(toolchains) else { return };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix(".staging-restore-")
            .and_then(|rest| rest.split('-').next())
            .and_then(|p| p.parse::<libc::pid_t>().ok())
        else {
            continue;
        };
        if crate::store::pid_is_gone(pid) {
            let _ = fs::remove_dir_all(e.path());
        }
    }
}

/// The expected SHA-256 of `archive` from its `sha256sum`-format sidecar, if there is one.
pub fn read_sidecar(archive: &Path) -> Result<Option<(String, String)>, RestoreError> {
    let sidecar = crate::integrity::pack::sidecar_path(archive);
    let text = match fs::read_to_string(&sidecar) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(RestoreError::BadSidecar {
                sidecar: sidecar.display().to_string(),
                problem: e.to_string(),
            });
        }
    };
    let base = archive
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let lines: Vec<(&str, &str)> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_once(' ').map(|(h, n)| (h, n.trim_start_matches([' ', '*']))))
        .collect();
    // The line for this file; a single line for a renamed archive is still its checksum.
    let hit = lines
        .iter()
        .find(|(_, n)| Path::new(n).file_name().map(|f| f.to_string_lossy() == base) == Some(true))
        .or(if lines.len() == 1 { lines.first() } else { None });
    match hit {
        Some((h, _)) if h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Ok(Some((h.to_ascii_lowercase(), sidecar.display().to_string())))
        }
        _ => Err(RestoreError::BadSidecar {
            sidecar: sidecar.display().to_string(),
            problem: format!("no SHA-256 line for {base} (expected `HEX  {base}`, as sha256sum writes)"),
        }),
    }
}

fn first(d: &[Difference]) -> String {
    d.first().map(Difference::describe).unwrap_or_default()
}

/// Restores `archive` into `store`. `sha256` overrides the sidecar; `name` the toolchain name
/// (default: the archive's Go version).
pub fn restore(
    store: &Store,
    archive_path: &Path,
    sha256: Option<&str>,
    name: Option<&str>,
) -> Result<Restored, RestoreError> {
    let path = archive_path.display().to_string();
    let expected = match sha256 {
        Some(h) => Some((h.to_ascii_lowercase(), "--sha256".to_string())),
        None => read_sidecar(archive_path)?,
    };
    let file = archive::open(archive_path).map_err(|cause| RestoreError::Open {
        path: path.clone(),
        cause,
    })?;
    let io_err = |action, p: &Path| {
        let p = p.display().to_string();
        move |cause| RestoreError::Io { action, path: p, cause }
    };
    let toolchains = store.toolchains_dir();
    fs::create_dir_all(&toolchains).map_err(io_err("create", &toolchains))?;
    clean_stale_staging(&toolchains);
    let mut staging = Staging {
        path: toolchains.join(format!(".staging-restore-{}", unique_suffix())),
        keep: false,
    };
    fs::create_dir(&staging.path).map_err(io_err("create", &staging.path))?;

    // With a checksum to meet, a second thread hashes the file (from the page cache, in a
    // fraction of the unpacking time) and stops the unpacking as soon as it knows the file is
    // not the one expected.
    let mismatch = Arc::new(AtomicBool::new(false));
    let prehash = expected.as_ref().map(|(want, _)| {
        let (want, path, mismatch) = (want.clone(), archive_path.to_path_buf(), mismatch.clone());
        std::thread::spawn(move || {
            let got = crate::integrity::manifest::hash_file(&path).unwrap_or_default();
            if got != want {
                mismatch.store(true, Ordering::Relaxed);
            }
            got
        })
    });
    let mut gunzip = Gunzip::spawn(file);
    let extracted = archive::extract_tar(
        Stoppable {
            inner: &mut gunzip,
            stop: &mismatch,
        },
        &staging.path,
        Limits::default(),
        |_, _| {},
    );
    if let (Some(h), Some((want, origin))) = (prehash, &expected) {
        let got = h.join().unwrap_or_default();
        if got != *want {
            return Err(RestoreError::Checksum {
                path,
                origin: origin.clone(),
                expected: want.clone(),
                actual: got,
            });
        }
    }
    let end = gunzip.finish();
    // The checksum decides first: a damaged archive is reported as such, whatever broke.
    if let Some((want, origin)) = &expected
        && *want != end.sha256
    {
        return Err(RestoreError::Checksum {
            path,
            origin: origin.clone(),
            expected: want.clone(),
            actual: end.sha256,
        });
    }
    let extracted = extracted.map_err(|cause| RestoreError::Archive {
        path: path.clone(),
        cause,
    })?;
    if let Some(e) = end.error {
        return Err(RestoreError::Archive {
            path,
            cause: ArchiveError::Corrupt(e),
        });
    }
    let Some(text) = extracted.embedded_manifest.as_deref() else {
        return Err(RestoreError::NoManifest {
            path,
            member: archive::MANIFEST_MEMBER,
        });
    };
    let embedded = Manifest::parse(text, &format!("{path} (member {})", archive::MANIFEST_MEMBER))
        .map_err(RestoreError::Manifest)?;
    let d = diff(&embedded.entries, &extracted.entries);
    if !d.is_empty() {
        return Err(RestoreError::TreeMismatch {
            path,
            count: d.len(),
            first: first(&d),
        });
    }
    let digest = embedded.tree_digest();
    let version = &embedded.header.go_version;
    let name = match name {
        Some(n) => {
            store::check_name_for_tree(n, version, &format!("the tree in {path}"))?;
            n.to_string()
        }
        None => crate::install::adopt::canonical_name(version).ok_or_else(|| RestoreError::BadVersion {
            path: path.clone(),
            version: version.clone(),
        })?,
    };
    store::check_name(&name)?;
    let recorded_path = store.manifest_path(&name);
    let recorded = match Manifest::load(&recorded_path) {
        Ok(m) => Some(m),
        Err(ManifestError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(RestoreError::Manifest(e)),
    };
    match crate::gotool::go_version(&staging.path) {
        Ok(v) if v.split_whitespace().any(|w| w == version) => {}
        Ok(v) => {
            return Err(RestoreError::DoesNotRun {
                path,
                name,
                detail: format!("bin/go version says {v:?}"),
            });
        }
        Err(e) => {
            return Err(RestoreError::DoesNotRun {
                path,
                name,
                detail: format!("{e:#}"),
            });
        }
    }

    let _lock = store.lock_toolchain(&name)?;
    if store.toolchain(&name).is_ok() {
        let installed = recorded.as_ref().map(Manifest::tree_digest).unwrap_or_default();
        if installed == digest {
            return Ok(Restored {
                name,
                tree_digest: digest,
                sha256: end.sha256,
                already_installed: true,
                checked_against: expected.map(|(_, o)| o),
            });
        }
        return Err(RestoreError::InstalledDifferently {
            name,
            installed: if installed.is_empty() {
                "unrecorded".into()
            } else {
                installed
            },
            archived: digest,
        });
    }
    if let Some(r) = &recorded
        && r.tree_digest() != digest
    {
        return Err(RestoreError::DiffersFromRecorded {
            path,
            name,
            actual: digest,
            recorded: r.tree_digest(),
            manifest: recorded_path.display().to_string(),
        });
    }
    store::write_atomic(&recorded_path, text.as_bytes()).map_err(StoreError::from)?;
    let dest = store.toolchain_path(&name);
    if let Err(e) = fs::rename(&staging.path, &dest) {
        if recorded.is_none() {
            let _ = fs::remove_file(&recorded_path);
        }
        return Err(io_err("move the restored tree to", &dest)(e));
    }
    staging.keep = true;
    store::sync_dir(&toolchains);
    Ok(Restored {
        name,
        tree_digest: digest,
        sha256: end.sha256,
        already_installed: false,
        checked_against: expected.map(|(_, o)| o),
    })
}
