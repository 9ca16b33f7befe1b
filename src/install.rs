//! Installing a toolchain: stage 1 of a migration, "beside the old one, never over it".
//!
//! One pass over the bytes: download → SHA-256 → gunzip → untar into
//! `toolchains/.staging-<name>-<random>/`, hashing files as they are written. Then the
//! archive's checksum is compared with the index, `bin/go version` must name the release,
//! the manifest is recorded, and the staging directory is renamed into place. Any failure, or
//! a kill at any instant, leaves nothing that looks installed.

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, anyhow, bail};

use crate::archive::{self, ArchiveError, Extracted, Limits};
use crate::download::{DownloadError, Http};
use crate::events::Event;
use crate::index::{FetchOptions, Index};
use crate::manifest::{self, Manifest};
use crate::store::{self, Store, unique_suffix};

/// A staging directory that is removed unless it was renamed into place.
struct Staging {
    path: PathBuf,
    committed: bool,
}

impl Staging {
    fn create(store: &Store, name: &str) -> Result<Staging> {
        let path = store
            .toolchains_dir()
            .join(format!(".staging-{name}-{}", unique_suffix()));
        fs::create_dir_all(store.toolchains_dir())?;
        fs::create_dir(&path).with_context(|| format!("cannot create {}", path.display()))?;
        Ok(Staging { path, committed: false })
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}

/// Removes staging directories left by killed installs, when no install of that version is
/// running (its lock is free). Returns how many were removed.
pub fn clean_stale_staging(store: &Store) -> usize {
    let Ok(entries) = fs::read_dir(store.toolchains_dir()) else {
        return 0;
    };
    let mut removed = 0;
    for e in entries.flatten() {
        let file_name = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = file_name.strip_prefix(".staging-") else {
            continue;
        };
        // `.staging-<name>-<pid>-<nanos>-<n>`: the name is everything before the last three parts.
        let name = rest.rsplitn(4, '-').nth(3).unwrap_or(rest);
        if let Ok(Some(_lock)) = store.try_lock_toolchain(name)
            && fs::remove_dir_all(e.path()).is_ok()
        {
            removed += 1;
        }
    }
    removed
}

/// The disk filled up somewhere in `err`'s chain.
fn is_disk_full(err: &anyhow::Error) -> bool {
    err.chain().any(|c| {
        c.downcast_ref::<io::Error>().and_then(io::Error::raw_os_error) == Some(libc::ENOSPC)
            || matches!(c.downcast_ref::<ArchiveError>(), Some(ArchiveError::Write { source, .. }) if source.raw_os_error() == Some(libc::ENOSPC))
    })
}

fn explain_failure(err: anyhow::Error, store: &Store) -> anyhow::Error {
    if is_disk_full(&err) {
        return err.context(format!(
            "the disk holding {} is full: free some space and run the install again; nothing was installed",
            store.toolchains_dir().display()
        ));
    }
    err.context("nothing was installed")
}

/// Where an install came from, for the log.
pub struct Origin {
    pub url: Option<String>,
    pub mirror: Option<String>,
    pub sha256: String,
}

pub enum Outcome {
    Installed { name: String, tree_digest: String },
    AlreadyInstalled { name: String },
}

pub struct Installer<'a> {
    pub store: &'a Store,
    pub http: Http,
    pub mirrors: Vec<String>,
    pub fetch: FetchOptions,
    pub progress: bool,
}

impl Installer<'_> {
    /// The index from the first mirror that answers.
    pub fn index(&self) -> Result<Index> {
        let mut errors = Vec::new();
        for mirror in &self.mirrors {
            match Index::load(&self.http, mirror, &self.store.cache_dir(), &self.fetch) {
                Ok(index) => return Ok(index),
                Err(e) => errors.push(e.to_string()),
            }
        }
        Err(anyhow!("no download site answered:\n  {}", errors.join("\n  ")))
    }

    /// Installs the release `spec` names (`latest`, `1.22`, `1.22.10`, `1.23rc1`).
    pub fn install(&self, spec: &str, sha256_override: Option<&str>) -> Result<Outcome> {
        let index = self.index()?;
        let (os, arch) = manifest::host_platform();
        let Some(release) = index.select(spec) else {
            let near = index.closest(spec, os, arch, 5);
            bail!(
                "no Go release matches {spec:?} in the index of {} (closest for {os}/{arch}: {})",
                index.mirror,
                near.join(", ")
            );
        };
        let name = release.version.clone();
        store::check_name(&name)?;
        if self.store.toolchain(&name).is_ok() {
            return Ok(Outcome::AlreadyInstalled { name });
        }
        let Some(file) = release.archive_for(os, arch) else {
            let near = index.closest(spec, os, arch, 5);
            bail!(
                "{name} has no archive for {os}/{arch} in the index of {} (available: {})",
                index.mirror,
                near.join(", ")
            );
        };
        let expected = match (sha256_override, file.sha256.is_empty()) {
            (Some(hex), _) => hex.to_ascii_lowercase(),
            (None, false) => file.sha256.to_ascii_lowercase(),
            (None, true) => bail!(
                "the index of {} has no SHA-256 for {}: refusing to install it unverified; if you know its checksum, pass --sha256 HEX",
                index.mirror,
                file.filename
            ),
        };
        let _lock = self.store.lock_toolchain(&name)?;
        if self.store.toolchain(&name).is_ok() {
            // Another gomig installed it while we waited for the lock.
            return Ok(Outcome::AlreadyInstalled { name });
        }
        clean_stale_staging(self.store);

        // The index's mirror first, then the others, each with the index's checksum.
        let mut order = vec![index.mirror.clone()];
        order.extend(self.mirrors.iter().filter(|m| **m != index.mirror).cloned());
        let mut failures = Vec::new();
        for mirror in order {
            let url = format!("{mirror}{}", file.filename);
            match self.fetch_into_staging(&url, file.size, &expected, &name) {
                Ok((staging, extracted)) => {
                    let origin = Origin {
                        url: Some(url),
                        mirror: Some(mirror),
                        sha256: expected,
                    };
                    return self
                        .commit(staging, extracted, &name, origin)
                        .map_err(|e| explain_failure(e, self.store));
                }
                Err(e) => {
                    let transient = e
                        .downcast_ref::<DownloadError>()
                        .is_some_and(DownloadError::is_transient)
                        || e.downcast_ref::<DownloadError>()
                            .is_some_and(|d| matches!(d, DownloadError::NotFound { .. }));
                    failures.push(format!("{url}: {e:#}"));
                    if !transient {
                        // A checksum mismatch or a hostile archive is not fixed by another mirror
                        // serving the same bytes; report it as it is.
                        return Err(explain_failure(e, self.store));
                    }
                }
            }
        }
        let near = index.closest(spec, os, arch, 5);
        Err(explain_failure(
            anyhow!(
                "could not download {name} ({}); closest releases: {}",
                failures.join("; "),
                near.join(", ")
            ),
            self.store,
        ))
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
            indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_message(what.to_string());
        bar
    }

    /// Download, hash and extract in one pass. The checksum decides: a mismatch is reported
    /// as such even when it first showed up as a gzip or tar error.
    fn fetch_into_staging(&self, url: &str, size: u64, expected: &str, name: &str) -> Result<(Staging, Extracted)> {
        let mut body = self.http.open(url, (size > 0).then_some(size))?;
        let staging = Staging::create(self.store, name)?;
        let bar = self.progress_bar((size > 0).then_some(size), name);
        let mut counted = ProgressReader {
            inner: &mut body,
            bar: &bar,
        };
        let result = archive::extract_tar_gz(&mut counted, &staging.path, Limits::default(), |_, _| {});
        let drained = body.drain();
        bar.finish_and_clear();
        let resumed = body.resumed();
        let (actual, received) = body.finish();
        if size > 0 && received != size {
            bail!(
                "{url}: received {received} bytes but the index says {size}: the download is incomplete or the index is wrong"
            );
        }
        if actual != expected {
            bail!(
                "checksum mismatch for {url}: expected SHA-256 {expected}, got {actual}; the download is damaged or was tampered with"
            );
        }
        let extracted = result.with_context(|| format!("unpacking {url}"))?;
        drained.with_context(|| format!("reading {url}"))?;
        if resumed > 0 {
            eprintln!("note: the download of {url} was resumed {resumed} time(s) after dropped connections");
        }
        Ok((staging, extracted))
    }

    /// Installs from an archive file on disk (an official archive or a `gomig archive`).
    pub fn install_archive(&self, path: &Path, sha256: Option<&str>) -> Result<Outcome> {
        let file = fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        let size = file.metadata().map(|m| m.len()).ok();
        let mut hashing = HashingReader {
            inner: file,
            hasher: <sha2::Sha256 as sha2::Digest>::new(),
        };
        let staging = Staging::create(self.store, "archive")?;
        let bar = self.progress_bar(size, "unpacking");
        let result = archive::extract_tar_gz(
            ProgressReader {
                inner: &mut hashing,
                bar: &bar,
            },
            &staging.path,
            Limits::default(),
            |_, _| {},
        );
        bar.finish_and_clear();
        io::copy(&mut hashing, &mut io::sink())?;
        let actual = manifest::hex(&sha2::Digest::finalize(hashing.hasher));
        if let Some(want) = sha256
            && !actual.eq_ignore_ascii_case(want)
        {
            bail!(
                "checksum mismatch for {}: expected SHA-256 {want}, got {actual}; nothing was installed",
                path.display()
            );
        }
        let extracted = result
            .with_context(|| format!("unpacking {}", path.display()))
            .map_err(|e| explain_failure(e, self.store))?;
        let version = crate::adopt::tree_version(&staging.path)?;
        let name = crate::adopt::canonical_name(&version)
            .ok_or_else(|| anyhow!("{} holds {version:?}, which is not a Go version", path.display()))?;
        if let Some(text) = &extracted.embedded_manifest {
            check_embedded_manifest(text, &extracted, path)?;
        }
        let _lock = self.store.lock_toolchain(&name)?;
        if self.store.toolchain(&name).is_ok() {
            return Ok(Outcome::AlreadyInstalled { name });
        }
        // Rename the staging directory to carry the real name, for stale-cleanup bookkeeping.
        let named = Staging::create(self.store, &name)?;
        fs::remove_dir(&named.path)?;
        fs::rename(&staging.path, &named.path)?;
        let mut staging = staging;
        staging.committed = true;
        let origin = Origin {
            url: None,
            mirror: None,
            sha256: actual,
        };
        self.commit(named, extracted, &name, origin)
            .map_err(|e| explain_failure(e, self.store))
    }

    /// `bin/go version` check, manifest, rename into place, log.
    fn commit(&self, mut staging: Staging, extracted: Extracted, name: &str, origin: Origin) -> Result<Outcome> {
        let reported = go_version(&staging.path)?;
        if !reported.split_whitespace().any(|w| w == name) {
            bail!("the unpacked toolchain reports {reported:?}, not {name}: the archive is not what the index says");
        }
        let m = Manifest::new(manifest::header_for(&staging.path, name), extracted.entries);
        let digest = m.tree_digest();
        store::write_atomic(
            &self.store.manifests_dir().join(format!("{name}.manifest")),
            m.to_text().as_bytes(),
        )?;
        let dest = self.store.toolchain_path(name);
        fs::rename(&staging.path, &dest)
            .with_context(|| format!("cannot move {} to {}", staging.path.display(), dest.display()))?;
        staging.committed = true;
        store::sync_dir(&self.store.toolchains_dir());
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
        event.append(self.store)?;
        Ok(Outcome::Installed {
            name: name.to_string(),
            tree_digest: digest,
        })
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

/// `bin/go version` of a tree, run with its own GOROOT and no toolchain switching.
pub fn go_version(root: &Path) -> Result<String> {
    let out = Command::new(root.join("bin/go"))
        .arg("version")
        .env("GOROOT", root)
        .env("GOTOOLCHAIN", "local")
        .env_remove("GOFLAGS")
        .output()
        .with_context(|| format!("cannot run {}/bin/go", root.display()))?;
    if !out.status.success() {
        bail!(
            "{}/bin/go version failed: {}",
            root.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

struct ProgressReader<'a, R> {
    inner: R,
    bar: &'a indicatif::ProgressBar,
}

impl<R: Read> Read for ProgressReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bar.inc(n as u64);
        Ok(n)
    }
}

struct HashingReader<R> {
    inner: R,
    hasher: sha2::Sha256,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        sha2::Digest::update(&mut self.hasher, &buf[..n]);
        Ok(n)
    }
}
