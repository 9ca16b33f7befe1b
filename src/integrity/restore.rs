//! Restoring a gomig archive into the store: the sidecar checksum, protected extraction into
//! staging (the install extractor), the tree checked against the archive's own manifest (and
//! against the manifest the store recorded for that release, if it still has one), and only then
//! the archive's own `go version`; then one rename into place, through the store transaction.
//! Over an installed copy of the same release, the tree on disk is verified: intact, nothing is
//! done; damaged, the archive's tree is swapped in for it atomically (an adopted tree is never
//! modified: refused). Anything wrong leaves the store as it was.

use std::fs;
use std::io::{self, Read};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::install::archive::{self, ArchiveError, Gunzip, Limits};
use crate::integrity::manifest::{Manifest, ManifestError};
use crate::integrity::verify::{Difference, diff};
use crate::store::events::{Action, Event};
use crate::store::staging::Staging;
use crate::store::transaction::TxnError;
use crate::store::{self, Store, StoreError};

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
    #[error(
        "{name} is adopted from {goroot}, whose tree does not match its manifest ({count} difference(s), e.g. {first}), and gomig never modifies adopted trees; nothing was restored: repair it with the tool that installed it, or forget it (gomig remove {name}) and restore again to install the archive's copy"
    )]
    AdoptedDamaged {
        name: String,
        goroot: String,
        count: usize,
        first: String,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}; nothing was restored")]
    Txn(#[from] TxnError),
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
    pub outcome: Outcome,
    /// Where the checksum came from (`FILE.sha256`, `--sha256`), or `None` when unchecked.
    pub checked_against: Option<String>,
    /// Things the user should know although the restore was made (a log line not written).
    pub warnings: Vec<String>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The toolchain was not installed; it is now.
    Installed,
    /// It was installed, with the archive's tree, and the tree on disk is intact: nothing changed.
    Intact,
    /// It was installed with the archive's tree recorded, but the tree on disk differed from
    /// it (`damage`, one line each): the archive's tree replaced it.
    Repaired { damage: Vec<String> },
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
    let staging = store.staging("restore")?;

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
        staging.path(),
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
    // Every check that needs no program of the archive comes before its bin/go runs; the
    // toolchain's lock from here on (then the store's, in the transaction).
    let _lock = store.lock_toolchain(&name)?;
    let recorded_path = store.manifest_path(&name);
    let recorded = match Manifest::load(&recorded_path) {
        Ok(m) => Some(m),
        Err(ManifestError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(RestoreError::Manifest(e)),
    };
    let installed = store.toolchain(&name).ok();
    if let Some(r) = &recorded
        && r.tree_digest() != digest
    {
        if installed.is_some() {
            return Err(RestoreError::InstalledDifferently {
                name,
                installed: r.tree_digest(),
                archived: digest,
            });
        }
        return Err(RestoreError::DiffersFromRecorded {
            path,
            name,
            actual: digest,
            recorded: r.tree_digest(),
            manifest: recorded_path.display().to_string(),
        });
    }
    let checked_against = expected.map(|(_, o)| o);
    let mut event = Event::new(Action::Restore)
        .field("version", name.clone())
        .field("path", path.clone())
        .field("sha256", end.sha256.clone())
        .field("tree_digest", digest.clone())
        .field("sha256_checked", checked_against.is_some());
    let outcome = match (&installed, &recorded) {
        (Some(_), None) => {
            return Err(RestoreError::InstalledDifferently {
                name,
                installed: "unrecorded".into(),
                archived: digest,
            });
        }
        (Some(toolchain), Some(_)) => {
            // The same tree is recorded: is it the one on disk?
            let damage = match store.verify(toolchain) {
                Ok(report) if report.ok() => {
                    return Ok(Restored {
                        name,
                        tree_digest: digest,
                        sha256: end.sha256,
                        outcome: Outcome::Intact,
                        checked_against,
                        warnings: Vec::new(),
                    });
                }
                Ok(report) => report.differences.iter().map(Difference::describe).collect(),
                Err(e) => vec![e.to_string()],
            };
            if let Some(from) = &toolchain.adopted_from {
                return Err(RestoreError::AdoptedDamaged {
                    name,
                    goroot: from.display().to_string(),
                    count: damage.len(),
                    first: damage.first().cloned().unwrap_or_default(),
                });
            }
            Outcome::Repaired { damage }
        }
        (None, _) => Outcome::Installed,
    };
    check_runs(&staging, &path, &name, version)?;
    let mut txn = store.transaction()?;
    let warnings = match &outcome {
        Outcome::Repaired { damage } => {
            event = event.field("repaired", damage.clone());
            txn.replace_tree(staging, &name, event)?
        }
        _ => txn.install_tree(staging, &name, text.as_bytes(), event)?,
    };
    Ok(Restored {
        name,
        tree_digest: digest,
        sha256: end.sha256,
        outcome,
        checked_against,
        warnings,
    })
}

/// The unpacked toolchain's own `go version` must name the archive's release. Run last: it is
/// the archive's program.
fn check_runs(staging: &Staging, path: &str, name: &str, version: &str) -> Result<(), RestoreError> {
    let detail = match crate::gotool::go_version(staging.path()) {
        Ok(v) if v.split_whitespace().any(|w| w == version) => return Ok(()),
        Ok(v) => format!("bin/go version says {v:?}"),
        Err(e) => format!("{e:#}"),
    };
    Err(RestoreError::DoesNotRun {
        path: path.to_string(),
        name: name.to_string(),
        detail,
    })
}
