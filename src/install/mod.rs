//! Installing a toolchain: stage 1 of a migration, "beside the old one, never over it".
//!
//! One pass over the bytes: download → SHA-256 → gunzip → untar into
//! `toolchains/.staging-<name>-<random>/`, hashing files as they are written. Then the
//! archive's checksum is compared with the index, `bin/go version` must name the release,
//! the manifest is recorded, and the staging directory is renamed into place. Any failure, or
//! a kill at any instant, leaves nothing that looks installed.

pub mod adopt;
pub mod archive;
pub mod download;
pub mod index;
pub mod proxy;
pub mod shims;

use std::fs;
use std::io;
use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};

use crate::install::archive::{ArchiveError, Extracted, Limits};
use crate::install::download::{DownloadError, Http};
use crate::install::index::{FetchOptions, Index};
use crate::integrity::manifest::{self, Manifest};
use crate::store::events::Event;
use crate::store::staging::Staging;
use crate::store::transaction::{Kind as RemovalKind, Removal};
use crate::store::{self, Store};

/// The disk filled up somewhere in `err`'s chain.
fn is_disk_full(err: &anyhow::Error) -> bool {
    err.chain().any(|c| {
        c.downcast_ref::<io::Error>().and_then(io::Error::raw_os_error) == Some(libc::ENOSPC)
            || matches!(c.downcast_ref::<ArchiveError>(), Some(ArchiveError::Write { error, .. }) if error.raw_os_error() == Some(libc::ENOSPC))
    })
}

fn explain_failure(err: anyhow::Error, store: &Store) -> anyhow::Error {
    if is_disk_full(&err) {
        return err.context(format!(
            "nothing was installed: the disk holding {} is full; free some space and run the install again",
            store.toolchains_dir().display()
        ));
    }
    err.context("nothing was installed")
}

/// `HEX` as given to `--sha256`: 64 hex digits, lower-cased.
fn parse_sha256(hex: &str) -> Result<String> {
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        bail!("--sha256 {hex:?} is not a SHA-256: it needs 64 hex digits (as sha256sum prints)");
    }
    Ok(hex.to_ascii_lowercase())
}

/// Where an install came from, for the log.
pub struct Origin {
    /// The URL or the file the archive came from, for messages.
    pub source: String,
    pub url: Option<String>,
    pub mirror: Option<String>,
    pub sha256: String,
}

pub enum Outcome {
    Installed { name: String, tree_digest: String },
    AlreadyInstalled { name: String },
}

/// A download attempt from one mirror that failed.
struct Attempt {
    error: anyhow::Error,
    /// Another mirror might serve what this one could not (a network fault, a damaged or short
    /// file); not so for an archive that is hostile by its verified checksum.
    next_mirror_may_help: bool,
    not_found: bool,
}

impl Attempt {
    fn transport(err: DownloadError) -> Attempt {
        Attempt {
            not_found: matches!(err, DownloadError::NotFound { .. }),
            error: err.into(),
            next_mirror_may_help: true,
        }
    }

    fn bad_bytes(error: anyhow::Error) -> Attempt {
        Attempt {
            error,
            next_mirror_may_help: true,
            not_found: false,
        }
    }

    fn fatal(error: anyhow::Error) -> Attempt {
        Attempt {
            error,
            next_mirror_may_help: false,
            not_found: false,
        }
    }
}

pub struct Installer<'a> {
    pub store: &'a Store,
    pub http: Http,
    pub mirrors: Vec<String>,
    pub fetch: FetchOptions,
    /// Draw a progress bar (on a terminal, without `-q`).
    pub progress: bool,
    /// `-q`: no notes (resumed downloads, mirrors skipped); errors still go to stderr.
    pub quiet: bool,
}

impl Installer<'_> {
    fn note(&self, msg: impl std::fmt::Display) {
        if !self.quiet {
            eprintln!("{msg}");
        }
    }

    /// The index from the first mirror that answers.
    pub fn index(&self) -> Result<Index> {
        let mut errors = Vec::new();
        for mirror in &self.mirrors {
            match Index::load(&self.http, mirror, &self.store.cache_dir(), &self.fetch) {
                Ok(index) => return Ok(index),
                Err(e) => errors.push(e.to_string()),
            }
        }
        if self.fetch.offline {
            // Nothing was asked of the network: it is not what to check.
            return Err(anyhow!("{}", errors.join("\n")));
        }
        Err(anyhow!(
            "no download site answered:\n  {}\ncheck the network, or name a mirror that works with --mirror URL (or GOMIG_MIRROR)",
            errors.join("\n  ")
        ))
    }

    /// Installs the release `spec` names (`latest`, `1.22`, `1.22.10`, `1.23rc1`). On any
    /// failure nothing is installed and no staging directory is left.
    pub fn install(&self, spec: &str, sha256_override: Option<&str>) -> Result<Outcome> {
        self.install_from_index(spec, sha256_override)
            .map_err(|e| explain_failure(e, self.store))
    }

    fn install_from_index(&self, spec: &str, sha256_override: Option<&str>) -> Result<Outcome> {
        let sha256_override = sha256_override.map(parse_sha256).transpose()?;
        let index = self.index()?;
        let (os, arch) = manifest::host_platform();
        let Some(release) = index.select(spec) else {
            let near = index.closest(spec, os, arch, 5, None);
            bail!(
                "no Go release matches {spec:?} in the index of {} (closest for {os}/{arch}: {}); gomig list-remote --all shows them all",
                index.mirror,
                none_if_empty(&near)
            );
        };
        let name = release.version.clone();
        store::check_name(&name)?;
        if self.store.toolchain(&name).is_ok() {
            return Ok(Outcome::AlreadyInstalled { name });
        }
        let Some(file) = release.archive_for(os, arch) else {
            let near = index.closest(spec, os, arch, 5, Some(&name));
            bail!(
                "{name} has no archive for {os}/{arch} in the index of {} (available: {})",
                index.mirror,
                none_if_empty(&near)
            );
        };
        let listed = file.sha256.to_ascii_lowercase();
        let from_index = format!("from the index of {}", index.mirror);
        let (expected, checksum_source) = match (sha256_override, listed.is_empty()) {
            (Some(given), true) => (given, "given with --sha256".to_string()),
            (Some(given), false) if given == listed => (given, from_index),
            (Some(given), false) => bail!(
                "--sha256 {given} differs from the SHA-256 the index of {} lists for {} ({listed}); check where your checksum came from",
                index.mirror,
                file.filename
            ),
            (None, false) => (listed, from_index),
            (None, true) => bail!(
                "the index of {} has no SHA-256 for {}: refusing to install it unverified; if you know its checksum, pass --sha256 HEX",
                index.mirror,
                file.filename
            ),
        };
        if self.fetch.offline {
            bail!(
                "--offline: installing {name} needs its archive {} from {}; run without --offline, or install from a copy of that file: gomig install --archive FILE --sha256 {expected}",
                file.filename,
                index.mirror
            );
        }
        let _lock = self.store.lock_toolchain(&name)?;
        if self.store.toolchain(&name).is_ok() {
            // Another gomig installed it while we waited for the lock.
            return Ok(Outcome::AlreadyInstalled { name });
        }

        // The index's mirror first, then the others, each checked against the index's checksum.
        let mut order = vec![index.mirror.clone()];
        order.extend(self.mirrors.iter().filter(|m| **m != index.mirror).cloned());
        let mut failures = Vec::new();
        let mut all_not_found = true;
        for (i, mirror) in order.iter().enumerate() {
            let url = format!("{mirror}{}", file.filename);
            match self.fetch_into_staging(&url, file.size, &expected, &checksum_source, &name) {
                Ok((staging, extracted)) => {
                    let origin = Origin {
                        source: url.clone(),
                        url: Some(url),
                        mirror: Some(mirror.clone()),
                        sha256: expected,
                    };
                    return self.commit(staging, extracted, &name, origin);
                }
                Err(attempt) if attempt.next_mirror_may_help => {
                    let error = format!("{:#}", attempt.error);
                    if let Some(next) = order.get(i + 1) {
                        self.note(format!("warning: {error}\n  trying the next mirror, {next}"));
                    }
                    all_not_found &= attempt.not_found;
                    failures.push(error);
                }
                Err(attempt) => return Err(attempt.error),
            }
        }
        if all_not_found {
            let near = index.closest(spec, os, arch, 5, Some(&name));
            bail!(
                "{name} is listed in the index, but its archive was not found:\n  {}\nclosest releases for {os}/{arch}: {}",
                failures.join("\n  "),
                none_if_empty(&near)
            );
        }
        bail!(
            "could not download {name}:\n  {}\ncheck the network and run the install again, or try another mirror with --mirror URL",
            failures.join("\n  ")
        )
    }

    fn progress_bar(&self, len: Option<u64>, what: &str) -> indicatif::ProgressBar {
        if !self.progress {
            return indicatif::ProgressBar::hidden();
        }
        let bar = match len {
            Some(n) => indicatif::ProgressBar::new(n),
            None => indicatif::ProgressBar::new_spinner(),
        };
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{prefix} [{wide_bar}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}, {msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        bar.set_prefix(what.to_string());
        bar.set_message("0 files");
        bar
    }

    /// Download, hash and extract in one pass. The transfer and then the checksum decide: a
    /// dropped transfer or a mismatch is reported as such even when it first showed up as a
    /// gzip or tar error.
    fn fetch_into_staging(
        &self,
        url: &str,
        size: u64,
        expected: &str,
        checksum_source: &str,
        name: &str,
    ) -> std::result::Result<(Staging, Extracted), Attempt> {
        let mut body = self
            .http
            .open(url, (size > 0).then_some(size))
            .map_err(Attempt::transport)?;
        let staging = self.store.staging(name).map_err(|e| Attempt::fatal(e.into()))?;
        let bar = self.progress_bar((size > 0).then_some(size), name);
        let result = archive::extract_tar_gz(
            bar.wrap_read(&mut body),
            staging.path(),
            Limits::default(),
            |_, files| {
                if files.is_multiple_of(64) {
                    bar.set_message(format!("{files} files"));
                }
            },
        );
        let drained = body.drain();
        bar.finish_and_clear();
        if let Some(failure) = body.failure() {
            return Err(Attempt::transport(failure.clone()));
        }
        let resumed = body.resumed();
        if let Err(e) = drained {
            return Err(Attempt::bad_bytes(anyhow!("{url}: {e}")));
        }
        let (actual, received) = body.finish();
        if size > 0 && received != size {
            return Err(Attempt::bad_bytes(anyhow!(
                "{url}: received {received} of {size} bytes the index lists; the file on this mirror differs from the index (a stale index? try --refresh)"
            )));
        }
        if actual != expected {
            return Err(Attempt::bad_bytes(anyhow!(
                "{url}: checksum mismatch: expected SHA-256 {expected} ({checksum_source}), got {actual}; the download is damaged or was tampered with"
            )));
        }
        let extracted = result
            .with_context(|| format!("unpacking {url}"))
            .map_err(Attempt::fatal)?;
        if resumed > 0 {
            self.note(format!(
                "note: the download of {url} was resumed {resumed} time(s) after dropped connections"
            ));
        }
        Ok((staging, extracted))
    }

    /// Installs from an archive file on disk (an official archive or a `gomig archive`).
    pub fn install_archive(&self, path: &Path, sha256: Option<&str>) -> Result<Outcome> {
        self.install_archive_file(path, sha256)
            .map_err(|e| explain_failure(e, self.store))
    }

    fn install_archive_file(&self, path: &Path, sha256: Option<&str>) -> Result<Outcome> {
        let want = sha256.map(parse_sha256).transpose()?;
        let file = fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        let meta = file
            .metadata()
            .with_context(|| format!("cannot read {}", path.display()))?;
        if !meta.is_file() {
            bail!("{} is not a file; name a .tar.gz archive", path.display());
        }
        let size = Some(meta.len());
        // The version is known only once the tree is out.
        let staging = self.store.staging("archive")?;
        let bar = self.progress_bar(size, "unpacking");
        // Inflating (and hashing the raw bytes) on a second core while this one unpacks.
        let mut gunzip = archive::Gunzip::spawn(bar.wrap_read(file));
        let result = archive::extract_tar(&mut gunzip, staging.path(), Limits::default(), |_, files| {
            if files.is_multiple_of(64) {
                bar.set_message(format!("{files} files"));
            }
        });
        bar.finish_and_clear();
        let end = gunzip.finish();
        if let Some(want) = &want
            && end.sha256 != *want
        {
            bail!(
                "checksum mismatch for {}: expected SHA-256 {want}, got {}; the file is damaged or not the one you meant",
                path.display(),
                end.sha256
            );
        }
        let actual = end.sha256;
        // Damaged compressed data is reported as such, even where it first broke the unpacking
        // or lay past the end of the tree.
        if let Some(damage) = end.error {
            // An error of the file itself (an I/O error from the system), not of its contents.
            if damage.raw_os_error().is_some() {
                bail!("cannot read {}: {damage}", path.display());
            }
            bail!(
                "{} is damaged: its gzip data is corrupt or cut short ({damage}); get the archive again",
                path.display()
            );
        }
        let extracted = result.with_context(|| format!("unpacking {}", path.display()))?;
        let version = crate::install::adopt::tree_version(staging.path())?;
        let name = crate::install::adopt::canonical_name(&version)
            .ok_or_else(|| anyhow!("{} holds {version:?}, which is not a Go version", path.display()))?;
        if let Some(text) = &extracted.embedded_manifest {
            check_embedded_manifest(text, &extracted, path)?;
        }
        let _lock = self.store.lock_toolchain(&name)?;
        if self.store.toolchain(&name).is_ok() {
            return Ok(Outcome::AlreadyInstalled { name });
        }
        let origin = Origin {
            source: path.display().to_string(),
            url: None,
            mirror: None,
            sha256: actual,
        };
        self.commit(staging, extracted, &name, origin)
    }

    /// `bin/go version` check, then the manifest, the rename into place and the event in one
    /// store transaction. The caller holds the toolchain's lock.
    fn commit(&self, staging: Staging, extracted: Extracted, name: &str, origin: Origin) -> Result<Outcome> {
        let reported = crate::gotool::go_version(staging.path())?;
        if !reported.split_whitespace().any(|w| w == name) {
            bail!(
                "{} holds another release: its bin/go version reports {reported:?}, not {name}; the file is mislabelled or was tampered with: install {name} from go.dev or another mirror you trust (--mirror URL)",
                origin.source
            );
        }
        let m = Manifest::new(manifest::header_for(staging.path(), name), extracted.entries);
        let digest = m.tree_digest();
        let dest = self.store.toolchain_path(name);
        let mut event = Event::new("install")
            .field("version", name)
            .field("sha256", origin.sha256)
            .field("tree_digest", digest.clone())
            .field("path", dest.display().to_string());
        if let Some(url) = origin.url {
            event = event.field("url", url);
        }
        if let Some(mirror) = origin.mirror {
            event = event.field("mirror", mirror);
        }
        if !extracted.dropped_special_bits.is_empty() {
            event = event.field("dropped_setuid_setgid", extracted.dropped_special_bits);
        }
        let warnings = self
            .store
            .transaction()?
            .install_tree(staging, name, m.to_text().as_bytes(), event)?;
        // Installed whatever happens now: a log line that could not be written is a warning.
        for w in warnings {
            eprintln!("{w}");
        }
        Ok(Outcome::Installed {
            name: name.to_string(),
            tree_digest: digest,
        })
    }
}

fn none_if_empty(list: &[String]) -> String {
    if list.is_empty() {
        "none".to_string()
    } else {
        list.join(", ")
    }
}

/// A gomig archive's embedded manifest must describe exactly the tree that was unpacked.
fn check_embedded_manifest(text: &str, extracted: &Extracted, path: &Path) -> Result<()> {
    let embedded = Manifest::parse(text, &format!("{} (embedded manifest)", path.display()))?;
    let unpacked = Manifest::new(embedded.header.clone(), extracted.entries.clone());
    if embedded.tree_digest() != unpacked.tree_digest() {
        bail!(
            "{}: the unpacked tree does not match the archive's own manifest (tree digest {} vs {}); the archive was altered",
            path.display(),
            unpacked.tree_digest(),
            embedded.tree_digest()
        );
    }
    Ok(())
}

/// Removes the installed (not adopted) toolchain `name` and its manifest, and logs it: what
/// `gomig uninstall` does, and how `gomig migrate` takes back a toolchain it installed. Unless
/// `force`, the default and the rollback target are refused. `by` names the command that did it
/// in the log (`migrate`). Returns warnings about what could not be tidied (the toolchain is gone).
pub fn uninstall(store: &Store, name: &str, force: bool, by: Option<&str>) -> Result<Vec<String>> {
    // An install of the same version finishes first (toolchain lock, then the store's).
    let _lock = store.lock_toolchain(name)?;
    let policy = Removal {
        kind: RemovalKind::Uninstall,
        force,
        drop_from_history: false,
        fields: by.map(|by| ("by", by.into())).into_iter().collect(),
    };
    Ok(store.transaction()?.remove_toolchain(name, &policy)?.warnings)
}
