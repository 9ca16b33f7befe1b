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
pub mod goenv;
pub mod index;
pub mod modproxy;
pub mod proxy;
pub mod shims;
pub mod sumdb;

use std::fs;
use std::io::{self, Read, Write};
use std::path::Path;

use sha2::Digest;

use crate::gotool::GoToolError;
use crate::install::adopt::AdoptError;
use crate::install::archive::{ArchiveError, Extracted, Limits};
use crate::install::download::{DownloadError, Http};
use crate::install::goenv::GoSetting;
use crate::install::index::{FetchOptions, Index, IndexError};
use crate::install::modproxy::{ModProxyError, ProxyList, TOOLCHAIN_MODULE};
use crate::install::sumdb::SumDbError;
use crate::integrity::manifest::{self, Manifest, ManifestError};
use crate::store::events::{Action, Event};
use crate::store::staging::Staging;
use crate::store::transaction::{Kind as RemovalKind, Removal, TxnError};
use crate::store::{self, Store, StoreError};

/// Why an install failed; nothing was installed. Wrapped errors are `transparent`, so the
/// message and its causes read as the wrapped error's own.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error("--sha256 {hex:?} is not a SHA-256: it needs 64 hex digits (as sha256sum prints)")]
    BadSha256 { hex: String },
    /// `--offline` and no mirror's index is cached: each mirror's reason, one per line.
    #[error("{}", lines(.errors, "\n"))]
    IndexOffline { errors: Vec<IndexError> },
    #[error(
        "no download site gave its index:\n  {}\n{}name a mirror that works with --mirror URL (or GOMIG_MIRROR)",
        lines(.errors, "\n  "),
        if .errors.iter().any(IndexError::is_network) { "check the network, or " } else { "" }
    )]
    NoIndex { errors: Vec<IndexError> },
    #[error(
        "no Go release matches {spec:?} in the index of {mirror} (closest for {os}/{arch}: {}); gomig list-remote --all shows them all",
        none_if_empty(.near)
    )]
    NoSuchRelease {
        spec: String,
        mirror: String,
        os: String,
        arch: String,
        near: Vec<String>,
    },
    #[error("{name} has no archive for {os}/{arch} in the index of {mirror} (available: {})", none_if_empty(.near))]
    NoArchiveForPlatform {
        name: String,
        os: String,
        arch: String,
        mirror: String,
        near: Vec<String>,
    },
    #[error(
        "--sha256 {given} differs from the SHA-256 the index of {mirror} lists for {filename} ({listed}); check where your checksum came from"
    )]
    Sha256DiffersFromIndex {
        given: String,
        mirror: String,
        filename: String,
        listed: String,
    },
    #[error(
        "the index of {mirror} has no SHA-256 for {filename}: refusing to install it unverified; if you know its checksum, pass --sha256 HEX"
    )]
    NoChecksum { mirror: String, filename: String },
    #[error(
        "the index of {mirror} lists {listed:?} as the SHA-256 of {filename}, which is not 64 hex digits: the index is damaged, and nothing was downloaded against it; run again with --refresh, use another mirror (--mirror URL), or pass the checksum go.dev lists with --sha256 HEX"
    )]
    MalformedChecksum {
        mirror: String,
        filename: String,
        listed: String,
    },
    /// A further mirror's own index, asked when the first one's checksum is in doubt.
    #[error(transparent)]
    MirrorIndex(IndexError),
    #[error("the index of {mirror} does not list {filename}; its index differs from the first mirror's")]
    NotListed { mirror: String, filename: String },
    #[error(
        "--offline: installing {name} needs its archive {filename} from {mirror}; run without --offline, or install from a copy of that file: gomig install --archive FILE --sha256 {sha256}"
    )]
    Offline {
        name: String,
        filename: String,
        mirror: String,
        sha256: String,
    },
    /// Every mirror answered 404 for the archive the index lists.
    #[error(
        "{name} is listed in the index, but its archive was not found:\n  {}\nclosest releases for {os}/{arch}: {}",
        .failures.join("\n  "),
        none_if_empty(.near)
    )]
    NotOnAnyMirror {
        name: String,
        failures: Vec<String>,
        os: String,
        arch: String,
        near: Vec<String>,
    },
    #[error(
        "could not download {name}:\n  {}\n{}try another mirror with --mirror URL",
        .failures.join("\n  "),
        if *.network { "check the network and run the install again, or " } else { "" }
    )]
    DownloadFailed {
        name: String,
        failures: Vec<String>,
        /// Some failure was the network's (worth checking it, and trying again).
        network: bool,
    },
    #[error(transparent)]
    Download(#[from] DownloadError),
    #[error(
        "--sha256 does not apply to an install from the module proxy: the checksum database vouches for the module; drop --sha256, or drop --proxy to check a download-site archive against it"
    )]
    Sha256WithProxy,
    #[error(transparent)]
    ModProxy(#[from] ModProxyError),
    #[error(transparent)]
    SumDb(#[from] SumDbError),
    #[error(
        "the checksum database ({url}) has no h1: line for {module}: it does not vouch for this toolchain, so gomig will not install it; check that GOSUMDB names Go's checksum database"
    )]
    NotInSumDb { module: String, url: String },
    #[error(
        "{url}: the proxy answers for {got:?} when asked for {want}; it is broken or not a Go module proxy: try another (--proxy=https://proxy.golang.org)"
    )]
    InfoMismatch { url: String, want: String, got: String },
    #[error(
        "{url}: this go.mod hashes to {got}, but the checksum database records {want} for {module}: the proxy serves a file that is not the published one; try another proxy (--proxy=https://proxy.golang.org)"
    )]
    ModHashMismatch {
        url: String,
        module: String,
        got: String,
        want: String,
    },
    #[error(
        "{url}: the module zip hashes to {got}, but the checksum database records {want} for {module}: the proxy served a toolchain that is not the published release (tampered with, or damaged); try another proxy (--proxy=https://proxy.golang.org)"
    )]
    ZipHashMismatch {
        url: String,
        module: String,
        got: String,
        want: String,
    },
    #[error(
        "{url}: the module zip is damaged or was altered, so it cannot be the release the checksum database records ({want}); try again, or another proxy (--proxy=https://proxy.golang.org)"
    )]
    ZipDamaged {
        url: String,
        want: String,
        source: ArchiveError,
    },
    #[error("cannot write {path}")]
    ZipWrite { path: String, source: io::Error },
    /// Reading the rest of the body failed after the tree was out.
    #[error("{url}: {error}")]
    Transfer { url: String, error: io::Error },
    #[error(
        "{url}: received {received} of {size} bytes the index lists; the file on this mirror differs from the index (a stale index? try --refresh)"
    )]
    SizeMismatch { url: String, received: u64, size: u64 },
    #[error(
        "{url}: checksum mismatch: expected SHA-256 {expected} ({checksum_from}), got {actual}; the download is damaged or was tampered with"
    )]
    ChecksumMismatch {
        url: String,
        expected: String,
        checksum_from: String,
        actual: String,
    },
    #[error(
        "checksum mismatch for {path}: expected SHA-256 {expected}, got {actual}; the file is damaged or not the one you meant"
    )]
    FileChecksumMismatch {
        path: String,
        expected: String,
        actual: String,
    },
    #[error("cannot open {path}")]
    Open { path: String, source: io::Error },
    #[error("cannot read {path}")]
    Stat { path: String, source: io::Error },
    #[error("{path} is not a file; name a .tar.gz archive")]
    NotAFile { path: String },
    /// The system failed reading the archive file (not its contents).
    #[error("cannot read {path}: {error}")]
    Read { path: String, error: io::Error },
    #[error("{path} is damaged: its gzip data is corrupt or cut short ({error}); get the archive again")]
    Gzip { path: String, error: io::Error },
    #[error("unpacking {what}")]
    Unpack { what: String, source: ArchiveError },
    #[error("{path} holds {version:?}, which is not a Go version")]
    NotAGoVersion { path: String, version: String },
    #[error(
        "{path}: the unpacked tree does not match the archive's own manifest (tree digest {unpacked} vs {embedded}); the archive was altered"
    )]
    NotAsEmbeddedManifest {
        path: String,
        unpacked: String,
        embedded: String,
    },
    /// The tree's `bin/go version` names another release than the one being installed.
    #[error(
        "{from} holds another release: its bin/go version reports {reported:?}, not {name}; the file is mislabelled or was tampered with: install {name} from go.dev or another mirror you trust (--mirror URL)"
    )]
    OtherRelease {
        from: String,
        reported: String,
        name: String,
    },
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// Reading the version of an unpacked archive's tree.
    #[error(transparent)]
    TreeVersion(#[from] AdoptError),
    #[error(transparent)]
    GoTool(#[from] GoToolError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Txn(#[from] TxnError),
}

fn enospc(error: &io::Error) -> bool {
    error.raw_os_error() == Some(libc::ENOSPC)
}

impl InstallError {
    /// The disk filled up (writing the tree, the manifest or the staging directory).
    pub fn is_disk_full(&self) -> bool {
        match self {
            InstallError::Unpack {
                source: ArchiveError::Write { error, .. },
                ..
            } => enospc(error),
            InstallError::Open { source, .. }
            | InstallError::Stat { source, .. }
            | InstallError::ZipWrite { source, .. } => enospc(source),
            InstallError::GoTool(GoToolError::Run { source, .. }) => enospc(source),
            InstallError::Manifest(ManifestError::Io { source, .. }) => enospc(source),
            InstallError::TreeVersion(AdoptError::Store(e)) | InstallError::Store(e) => e.is_disk_full(),
            InstallError::TreeVersion(AdoptError::Txn(e)) | InstallError::Txn(e) => e.is_disk_full(),
            _ => false,
        }
    }

    /// The network failed (as opposed to an answer that was wrong).
    fn is_network(&self) -> bool {
        match self {
            InstallError::Download(e) => e.is_transient(),
            InstallError::Transfer { .. } => true,
            _ => false,
        }
    }

    /// Another mirror might serve what this one could not (a network fault, a damaged or short
    /// file); not so for an archive that is hostile by its verified checksum, or a local fault.
    fn next_mirror_may_help(&self) -> bool {
        matches!(
            self,
            InstallError::Download(_)
                | InstallError::MalformedChecksum { .. }
                | InstallError::NotListed { .. }
                | InstallError::MirrorIndex(_)
                | InstallError::Transfer { .. }
                | InstallError::SizeMismatch { .. }
                | InstallError::ChecksumMismatch { .. }
        )
    }
}

/// The message and its causes on one line, as a mirror's failure in a list of them.
fn with_causes(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut cause = err.source();
    while let Some(c) = cause {
        text.push_str(&format!(": {c}"));
        cause = c.source();
    }
    text
}

fn lines(errors: &[IndexError], sep: &str) -> String {
    errors.iter().map(ToString::to_string).collect::<Vec<_>>().join(sep)
}

type Result<T> = std::result::Result<T, InstallError>;

/// What an install spec selects.
enum Wanted<'i> {
    New(&'i index::Release),
    Installed(String),
}

/// `HEX` as given to `--sha256`: 64 hex digits, lower-cased.
fn parse_sha256(hex: &str) -> Result<String> {
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(InstallError::BadSha256 { hex: hex.to_string() });
    }
    Ok(hex.to_ascii_lowercase())
}

/// A checksum (and size) a download is held to, and where it came from, for messages.
#[derive(Clone)]
struct Listing {
    sha256: String,
    from: String,
    size: u64,
}

/// Where an install came from, for the log.
pub struct Origin {
    /// The URL or the file the archive came from, for messages.
    pub source: String,
    /// The URL the bytes came from (after redirects).
    pub url: Option<String>,
    /// The URL asked for, when redirects led elsewhere.
    pub requested: Option<String>,
    pub mirror: Option<String>,
    pub sha256: String,
    /// More for the event (a proxy install: the module, its h1, the checksum database).
    pub fields: Vec<(&'static str, String)>,
    /// The manifest's `source` line.
    pub manifest_source: Option<String>,
}

/// Installs from the Go module proxy: the GOPROXY list and the GOSUMDB setting.
pub struct ProxySource {
    pub list: ProxyList,
    pub sumdb: GoSetting,
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
    /// Draw a progress bar (on a terminal, without `-q`).
    pub progress: bool,
    /// `-q`: no notes (resumed downloads, mirrors skipped); errors still go to stderr.
    pub quiet: bool,
    /// Install from the Go module proxy instead of the download site.
    pub proxy: Option<ProxySource>,
}

impl Installer<'_> {
    fn note(&self, msg: impl std::fmt::Display) {
        if !self.quiet {
            eprintln!("{msg}");
        }
    }

    /// The index from the first mirror that answers, or the module proxy's `@v/list`.
    pub fn index(&self) -> Result<Index> {
        self.http.check_settings()?;
        if let Some(source) = &self.proxy {
            return self.proxy_index(source);
        }
        let mut errors = Vec::new();
        for (i, mirror) in self.mirrors.iter().enumerate() {
            match Index::load(&self.http, mirror, &self.store.cache_dir(), &self.fetch) {
                Ok(index) => return Ok(index),
                Err(e) => {
                    if let Some(next) = self.mirrors.get(i + 1)
                        && !self.fetch.offline
                    {
                        self.note(format!("warning: {e}\n  trying the next mirror, {next}"));
                    }
                    errors.push(e);
                }
            }
        }
        if self.fetch.offline {
            // Nothing was asked of the network: it is not what to check.
            return Err(InstallError::IndexOffline { errors });
        }
        Err(InstallError::NoIndex { errors })
    }

    /// Installs the release `spec` names (`latest`, `1.22`, `1.22.10`, `1.23rc1`). On any
    /// failure nothing is installed and no staging directory is left (the CLI says so first,
    /// and whether the disk is full: `cli::source::nothing_installed`).
    pub fn install(&self, spec: &str, sha256_override: Option<&str>) -> Result<Outcome> {
        let sha256_override = sha256_override.map(parse_sha256).transpose()?;
        if let Some(source) = &self.proxy {
            if sha256_override.is_some() {
                return Err(InstallError::Sha256WithProxy);
            }
            return self.install_from_proxy(spec, source);
        }
        let index = self.index()?;
        let (os, arch) = manifest::host_platform();
        let release = match self.wanted(&index, spec)? {
            Wanted::New(release) => release,
            Wanted::Installed(name) => return Ok(Outcome::AlreadyInstalled { name }),
        };
        let name = release.version.clone();
        let Some(file) = release.archive_for(os, arch) else {
            return Err(InstallError::NoArchiveForPlatform {
                near: index.closest(spec, os, arch, 5, Some(&name)),
                name,
                os: os.to_string(),
                arch: arch.to_string(),
                mirror: index.mirror.clone(),
            });
        };
        let listed = file.sha256.trim().to_ascii_lowercase();
        // Checked before anything is downloaded: a damaged listing cannot verify anything.
        let damaged = (!listed.is_empty() && parse_sha256(&listed).is_err()).then(|| InstallError::MalformedChecksum {
            mirror: index.mirror.clone(),
            filename: file.filename.clone(),
            listed: file.sha256.clone(),
        });
        let from_index = |sha256: String| Listing {
            sha256,
            from: format!("from the index of {}", index.mirror),
            size: file.size,
        };
        let given = |sha256: String| Listing {
            sha256,
            from: "given with --sha256".to_string(),
            size: file.size,
        };
        let unusable = listed.is_empty() || damaged.is_some();
        let mut listing = match (sha256_override.clone(), unusable) {
            (Some(sha), true) => Some(given(sha)),
            (Some(sha), false) if sha == listed => Some(from_index(sha)),
            (Some(sha), false) => {
                return Err(InstallError::Sha256DiffersFromIndex {
                    given: sha,
                    mirror: index.mirror.clone(),
                    filename: file.filename.clone(),
                    listed,
                });
            }
            (None, false) => Some(from_index(listed)),
            (None, true) if damaged.is_some() => None,
            (None, true) => {
                return Err(InstallError::NoChecksum {
                    mirror: index.mirror.clone(),
                    filename: file.filename.clone(),
                });
            }
        };
        if self.fetch.offline {
            return match (listing, damaged) {
                (Some(listing), _) => Err(InstallError::Offline {
                    name,
                    filename: file.filename.clone(),
                    mirror: index.mirror.clone(),
                    sha256: listing.sha256,
                }),
                (None, damaged) => Err(damaged.unwrap_or(InstallError::NoChecksum {
                    mirror: index.mirror.clone(),
                    filename: file.filename.clone(),
                })),
            };
        }
        let _lock = self.store.lock_toolchain(&name)?;
        if self.store.toolchain(&name).is_ok() {
            // Another gomig installed it while we waited for the lock.
            return Ok(Outcome::AlreadyInstalled { name });
        }

        // The index's mirror first, then the others, each held to the index's checksum, unless
        // that checksum is in doubt (damaged, or a download did not match it): then each further
        // mirror is held to its own index's.
        let mut order = vec![index.mirror.clone()];
        order.extend(self.mirrors.iter().filter(|m| **m != index.mirror).cloned());
        let mut failures = Vec::new();
        let mut all_not_found = true;
        let mut network = false;
        let mut in_doubt = listing.is_none();
        let mut fail = |e: &InstallError, next: Option<&String>| {
            let error = with_causes(e);
            if let Some(next) = next {
                self.note(format!("warning: {error}\n  trying the next mirror, {next}"));
            }
            all_not_found &= matches!(e, InstallError::Download(DownloadError::NotFound { .. }));
            network |= e.is_network();
            failures.push(error);
        };
        if let Some(damaged) = &damaged
            && listing.is_none()
        {
            fail(damaged, order.get(1));
        }
        for (i, mirror) in order.iter().enumerate() {
            if i == 0 && listing.is_none() {
                continue;
            }
            if i > 0 && in_doubt && sha256_override.is_none() {
                match self.own_listing(mirror, &name, &file.filename) {
                    Ok(own) => listing = Some(own),
                    // A mirror without an index of its own is held to the first one's checksum.
                    Err(e) if listing.is_some() => self.note(format!("note: {}", with_causes(&e))),
                    Err(e) => {
                        fail(&e, order.get(i + 1));
                        continue;
                    }
                }
            }
            let Some(Listing { sha256, from, size }) = listing.clone() else {
                continue;
            };
            let url = format!("{mirror}{}", file.filename);
            match self.fetch_into_staging(&url, size, &sha256, &from, &name) {
                Ok((staging, extracted, source)) => {
                    let origin = Origin {
                        source: source.clone(),
                        requested: (source != url).then_some(url),
                        url: Some(source),
                        mirror: Some(mirror.clone()),
                        sha256,
                        fields: Vec::new(),
                        manifest_source: None,
                    };
                    return self.commit(staging, extracted, &name, origin);
                }
                Err(e) if e.next_mirror_may_help() => {
                    in_doubt |= matches!(
                        e,
                        InstallError::ChecksumMismatch { .. } | InstallError::SizeMismatch { .. }
                    );
                    fail(&e, order.get(i + 1));
                }
                Err(e) => return Err(e),
            }
        }
        if all_not_found {
            return Err(InstallError::NotOnAnyMirror {
                near: index.closest(spec, os, arch, 5, Some(&name)),
                name,
                failures,
                os: os.to_string(),
                arch: arch.to_string(),
            });
        }
        Err(InstallError::DownloadFailed {
            name,
            failures,
            network,
        })
    }

    /// What `mirror`'s own index lists for `filename` of release `name`, checked as the first
    /// index's listing is.
    fn own_listing(&self, mirror: &str, name: &str, filename: &str) -> Result<Listing> {
        let index =
            Index::load(&self.http, mirror, &self.store.cache_dir(), &self.fetch).map_err(InstallError::MirrorIndex)?;
        let not_listed = || InstallError::NotListed {
            mirror: mirror.to_string(),
            filename: filename.to_string(),
        };
        let file = index
            .releases
            .iter()
            .filter(|r| r.version == name)
            .flat_map(|r| &r.files)
            .find(|f| f.filename == filename)
            .ok_or_else(not_listed)?;
        let sha256 = parse_sha256(file.sha256.trim()).map_err(|_| InstallError::MalformedChecksum {
            mirror: mirror.to_string(),
            filename: filename.to_string(),
            listed: file.sha256.clone(),
        })?;
        Ok(Listing {
            sha256,
            from: format!("from the index of {mirror}"),
            size: file.size,
        })
    }

    /// The releases of this platform in the proxy's `@v/list`, as an index (`latest`, `1.22`).
    fn proxy_index(&self, source: &ProxySource) -> Result<Index> {
        let (os, arch) = manifest::host_platform();
        let (names, base) = source.list.releases(&self.http, os, arch)?;
        let releases = names
            .into_iter()
            .map(|name| index::Release {
                stable: !crate::resolve::version::Version::parse_go(name.as_bytes()).is_prerelease(),
                files: vec![index::FileInfo {
                    filename: format!("{}.zip", modproxy::module_version(&name, os, arch)),
                    os: os.to_string(),
                    arch: arch.to_string(),
                    version: name.clone(),
                    sha256: String::new(),
                    size: 0,
                    kind: "module".to_string(),
                }],
                version: name,
            })
            .collect();
        Ok(Index {
            mirror: modproxy::url(&base, "@v/list"),
            releases,
            from_cache: false,
        })
    }

    /// The release `spec` names in `index` (from a download site or a module proxy), unless a
    /// toolchain of that name is installed already.
    fn wanted<'i>(&self, index: &'i Index, spec: &str) -> Result<Wanted<'i>> {
        let (os, arch) = manifest::host_platform();
        let Some(release) = index.select(spec) else {
            return Err(InstallError::NoSuchRelease {
                spec: spec.to_string(),
                mirror: index.mirror.clone(),
                os: os.to_string(),
                arch: arch.to_string(),
                near: index.closest(spec, os, arch, 5, None),
            });
        };
        store::check_name(&release.version)?;
        if self.store.toolchain(&release.version).is_ok() {
            return Ok(Wanted::Installed(release.version.clone()));
        }
        Ok(Wanted::New(release))
    }

    /// `spec` from the module proxy: the checksum database's record first (GOSUMDB=off, an
    /// unknown key, a forked log are refused before any download), then `.info`, `.mod` (its
    /// hash checked) and the zip, unpacked as cmd/go makes a GOROOT of it and checked against
    /// the record's `h1:`, then committed as every install is.
    fn install_from_proxy(&self, spec: &str, source: &ProxySource) -> Result<Outcome> {
        let (os, arch) = manifest::host_platform();
        let index = self.proxy_index(source)?;
        let release = match self.wanted(&index, spec)? {
            Wanted::New(release) => release,
            Wanted::Installed(name) => return Ok(Outcome::AlreadyInstalled { name }),
        };
        let name = release.version.clone();
        let db = sumdb::parse(source.sumdb.clone())?;
        let _lock = self.store.lock_toolchain(&name)?;
        if self.store.toolchain(&name).is_ok() {
            return Ok(Outcome::AlreadyInstalled { name });
        }
        let version = modproxy::module_version(&name, os, arch);
        let module = format!("{TOOLCHAIN_MODULE}@{version}");
        let client = sumdb::Client {
            http: &self.http,
            db: db.clone(),
            proxies: Some(&source.list),
            state_dir: self.store.sumdb_dir(),
        };
        let verified = client.lookup(TOOLCHAIN_MODULE, &version)?;
        let recorded = |v: &str| {
            verified
                .lines
                .iter()
                .find_map(|line| match line.split_whitespace().collect::<Vec<_>>()[..] {
                    [path, ver, hash] if path == TOOLCHAIN_MODULE && ver == v => Some(hash.to_string()),
                    _ => None,
                })
        };
        let want_zip = recorded(&version).ok_or_else(|| InstallError::NotInSumDb {
            module: module.clone(),
            url: verified.url.clone(),
        })?;
        let want_mod = recorded(&format!("{version}/go.mod"));

        let (info, _) = source.list.try_each(&format!("{module} (.info)"), |e| {
            self.http.get_bytes(
                &modproxy::url(&e.base, &format!("@v/{version}.info")),
                modproxy::MAX_DOCUMENT,
            )
        })?;
        let got = serde_json::from_slice::<serde_json::Value>(&info)
            .ok()
            .and_then(|v| v.get("Version").and_then(|v| v.as_str()).map(str::to_string))
            .unwrap_or_default();
        if got != version {
            return Err(InstallError::InfoMismatch {
                url: format!("{version}.info"),
                want: version,
                got,
            });
        }
        let (go_mod, entry) = source.list.try_each(&format!("{module} (.mod)"), |e| {
            self.http.get_bytes(
                &modproxy::url(&e.base, &format!("@v/{version}.mod")),
                modproxy::MAX_DOCUMENT,
            )
        })?;
        if let Some(want) = want_mod {
            let got = sumdb::hash1(&mut [(
                "go.mod".to_string(),
                crate::integrity::hex(&sha2::Sha256::digest(&go_mod)),
            )]);
            if got != want {
                return Err(InstallError::ModHashMismatch {
                    url: modproxy::url(&entry.base, &format!("@v/{version}.mod")),
                    module,
                    got,
                    want,
                });
            }
        }

        // The zip is read twice (central directory, then entries): it goes to a guarded
        // directory of its own, removed whatever happens.
        let zip_dir = self.store.staging(&format!("{name}-zip"))?;
        let zip_path = zip_dir.path().join("module.zip");
        let local = std::cell::RefCell::new(None);
        let fetched = source.list.try_each(&format!("{module} (.zip)"), |e| {
            let url = modproxy::url(&e.base, &format!("@v/{version}.zip"));
            self.download_zip(&url, &zip_path, &name, &local).map(|sha| (sha, url))
        });
        if let Some(source) = local.take() {
            return Err(InstallError::ZipWrite {
                path: zip_path.display().to_string(),
                source,
            });
        }
        let ((sha256, zip_url), entry) = fetched?;
        let file = fs::File::open(&zip_path).map_err(|source| InstallError::ZipWrite {
            path: zip_path.display().to_string(),
            source,
        })?;
        let staging = self.store.staging(&name)?;
        let bar = self.progress_bar(None, &format!("{name} (unpacking)"));
        let unpacked = archive::extract_module_zip(
            file,
            &modproxy::zip_prefix(&version),
            staging.path(),
            Limits::default(),
            |_, files| {
                if files.is_multiple_of(64) {
                    bar.set_message(format!("{files} files"));
                }
            },
        );
        bar.finish_and_clear();
        drop(zip_dir);
        let unpacked = unpacked.map_err(|source| match source {
            ArchiveError::Corrupt(_) => InstallError::ZipDamaged {
                url: zip_url.clone(),
                want: want_zip.clone(),
                source,
            },
            source => InstallError::Unpack {
                what: zip_url.clone(),
                source,
            },
        })?;
        if unpacked.h1 != want_zip {
            return Err(InstallError::ZipHashMismatch {
                url: zip_url,
                module,
                got: unpacked.h1,
                want: want_zip,
            });
        }
        let origin = Origin {
            source: zip_url.clone(),
            url: Some(zip_url),
            requested: None,
            mirror: Some(entry.base.clone()),
            sha256,
            fields: vec![
                ("module", module.clone()),
                ("h1", want_zip.clone()),
                ("sumdb", db.name.clone()),
                ("sumdb_tree_size", verified.tree_size.to_string()),
            ],
            manifest_source: Some(format!("{module} {want_zip} proxy={} sumdb={}", entry.base, db.name)),
        };
        self.commit(staging, unpacked.extracted, &name, origin)
    }

    /// Downloads a module zip to `path` (truncated first: a `|` list may retry another proxy),
    /// resuming dropped transfers; returns its SHA-256.
    fn download_zip(
        &self,
        url: &str,
        path: &Path,
        name: &str,
        local: &std::cell::RefCell<Option<io::Error>>,
    ) -> std::result::Result<String, DownloadError> {
        // Go's codehost.MaxZipFile.
        const MAX_ZIP: u64 = 500 << 20;
        *local.borrow_mut() = None;
        let mut body = self.http.open(url, None)?;
        // A fault of this machine (a full disk), not of the proxy: reported as such by the caller.
        let write_failed = |e: io::Error| {
            let message = format!("cannot write {}: {e}", path.display());
            *local.borrow_mut() = Some(e);
            DownloadError::Network {
                url: url.to_string(),
                message,
            }
        };
        let mut out = fs::File::create(path).map_err(write_failed)?;
        let bar = self.progress_bar(None, name);
        let mut reader = bar.wrap_read((&mut body).take(MAX_ZIP + 1));
        let mut buf = vec![0; 256 << 10];
        let mut copied = 0u64;
        let read_result = loop {
            match reader.read(&mut buf) {
                Ok(0) => break Ok(()),
                Ok(n) => {
                    copied += n as u64;
                    if let Err(e) = out.write_all(&buf[..n]) {
                        bar.finish_and_clear();
                        return Err(write_failed(e));
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => break Err(e),
            }
        };
        drop(reader);
        bar.finish_and_clear();
        if let Some(failure) = body.failure() {
            return Err(failure.clone());
        }
        read_result.map_err(|e| DownloadError::Network {
            url: url.to_string(),
            message: e.to_string(),
        })?;
        if copied > MAX_ZIP {
            return Err(DownloadError::Network {
                url: url.to_string(),
                message: "the module zip is larger than Go's limit of 500 MiB".into(),
            });
        }
        if body.resumed() > 0 {
            self.note(format!(
                "note: the download of {url} was resumed {} time(s) after dropped connections",
                body.resumed()
            ));
        }
        Ok(body.finish().0)
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
        // A download that fails drops its bar: cleared, not left above the error.
        bar.with_finish(indicatif::ProgressFinish::AndClear)
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
    ) -> Result<(Staging, Extracted, String)> {
        let mut body = self.http.open(url, (size > 0).then_some(size))?;
        let staging = self.store.staging(name)?;
        let bar = self.progress_bar((size > 0).then_some(size), name);
        let _line = crate::interrupt::progress_line(&bar);
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
            return Err(failure.clone().into());
        }
        let resumed = body.resumed();
        if let Err(error) = drained {
            return Err(InstallError::Transfer { url: url.into(), error });
        }
        let source = body.source().to_string();
        let (actual, received) = body.finish();
        if size > 0 && received != size {
            return Err(InstallError::SizeMismatch {
                url: url.into(),
                received,
                size,
            });
        }
        if actual != expected {
            return Err(InstallError::ChecksumMismatch {
                url: url.into(),
                expected: expected.into(),
                checksum_from: checksum_source.into(),
                actual,
            });
        }
        let extracted = result.map_err(|source| InstallError::Unpack {
            what: url.into(),
            source,
        })?;
        if resumed > 0 {
            self.note(format!(
                "note: the download of {url} was resumed {resumed} time(s) after dropped connections"
            ));
        }
        Ok((staging, extracted, source))
    }

    /// Installs from an archive file on disk (an official archive or a `gomig archive`).
    /// As [`Installer::install`], nothing is installed on failure.
    pub fn install_archive(&self, path: &Path, sha256: Option<&str>) -> Result<Outcome> {
        let want = sha256.map(parse_sha256).transpose()?;
        let shown = || path.display().to_string();
        let file = fs::File::open(path).map_err(|source| InstallError::Open { path: shown(), source })?;
        let meta = file
            .metadata()
            .map_err(|source| InstallError::Stat { path: shown(), source })?;
        if !meta.is_file() {
            return Err(InstallError::NotAFile { path: shown() });
        }
        let size = Some(meta.len());
        // The version is known only once the tree is out.
        let staging = self.store.staging("archive")?;
        let bar = self.progress_bar(size, "unpacking");
        let _line = crate::interrupt::progress_line(&bar);
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
            return Err(InstallError::FileChecksumMismatch {
                path: shown(),
                expected: want.clone(),
                actual: end.sha256,
            });
        }
        let actual = end.sha256;
        // Damaged compressed data is reported as such, even where it first broke the unpacking
        // or lay past the end of the tree.
        if let Some(damage) = end.error {
            // An error of the file itself (an I/O error from the system), not of its contents.
            if damage.raw_os_error().is_some() {
                return Err(InstallError::Read {
                    path: shown(),
                    error: damage,
                });
            }
            return Err(InstallError::Gzip {
                path: shown(),
                error: damage,
            });
        }
        let extracted = result.map_err(|source| InstallError::Unpack { what: shown(), source })?;
        let version = crate::install::adopt::tree_version(staging.path())?;
        let name = crate::install::adopt::canonical_name(&version)
            .ok_or_else(|| InstallError::NotAGoVersion { path: shown(), version })?;
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
            requested: None,
            mirror: None,
            sha256: actual,
            fields: Vec::new(),
            manifest_source: None,
        };
        self.commit(staging, extracted, &name, origin)
    }

    /// `bin/go version` check, then the manifest, the rename into place and the event in one
    /// store transaction. The caller holds the toolchain's lock.
    fn commit(&self, staging: Staging, extracted: Extracted, name: &str, origin: Origin) -> Result<Outcome> {
        let reported = crate::gotool::go_version(staging.path())?;
        if !reported.split_whitespace().any(|w| w == name) {
            return Err(InstallError::OtherRelease {
                from: origin.source,
                reported,
                name: name.to_string(),
            });
        }
        let mut header = manifest::header_for(staging.path(), name);
        header.source = origin.manifest_source;
        let m = Manifest::new(header, extracted.entries);
        let digest = m.tree_digest();
        let dest = self.store.toolchain_path(name);
        let mut event = Event::new(Action::Install)
            .field("version", name)
            .field("sha256", origin.sha256)
            .field("tree_digest", digest.clone())
            .field("path", dest.display().to_string());
        if let Some(url) = origin.url {
            event = event.field("url", url);
        }
        if let Some(requested) = origin.requested {
            event = event.field("requested", requested);
        }
        if let Some(mirror) = origin.mirror {
            event = event.field("mirror", mirror);
        }
        for (key, value) in origin.fields {
            event = event.field(key, value);
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
        return Err(InstallError::NotAsEmbeddedManifest {
            path: path.display().to_string(),
            unpacked: unpacked.tree_digest(),
            embedded: embedded.tree_digest(),
        });
    }
    Ok(())
}

/// Removes the installed (not adopted) toolchain `name` and its manifest, and logs it: what
/// `gomig uninstall` does, and how `gomig migrate` takes back a toolchain it installed. Unless
/// `force`, the default and the rollback target are refused. `by` names the command that did it
/// in the log (`migrate`). Returns warnings about what could not be tidied (the toolchain is gone).
pub fn uninstall(
    store: &Store,
    name: &str,
    force: bool,
    by: Option<&str>,
) -> std::result::Result<Vec<String>, TxnError> {
    // An install of the same version finishes first (toolchain lock, then the store's).
    let _lock = store.lock_toolchain(name)?;
    let policy = Removal {
        archive: None,
        kind: RemovalKind::Uninstall,
        force,
        drop_from_history: false,
        fields: by.map(|by| ("by", by.into())).into_iter().collect(),
    };
    Ok(store.transaction()?.remove_toolchain(name, &policy)?.warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full() -> io::Error {
        io::Error::from_raw_os_error(libc::ENOSPC)
    }

    #[test]
    fn a_full_disk_is_told_by_the_variant_wherever_it_struck() {
        let unpacking = InstallError::Unpack {
            what: "go.tar.gz".into(),
            source: ArchiveError::Write {
                path: "go/bin/go".into(),
                error: full(),
            },
        };
        let staging = InstallError::Store(StoreError::Io {
            action: "cannot create",
            path: "toolchains/.staging-x".into(),
            source: full(),
        });
        let manifest = InstallError::Txn(TxnError::DiskFull {
            home: "/h".into(),
            source: store::atomic::WriteError {
                path: "manifests/x".into(),
                source: full(),
            },
        });
        for e in [unpacking, staging, manifest] {
            assert!(e.is_disk_full(), "{e}");
        }
        let denied = InstallError::Unpack {
            what: "go.tar.gz".into(),
            source: ArchiveError::Write {
                path: "go/bin/go".into(),
                error: io::Error::from_raw_os_error(libc::EACCES),
            },
        };
        assert!(!denied.is_disk_full());
    }

    #[test]
    fn a_mirror_failure_reads_with_its_causes() {
        let e = InstallError::Unpack {
            what: "u".into(),
            source: ArchiveError::Empty,
        };
        assert_eq!(with_causes(&e), "unpacking u: the archive holds no go/ tree");
        let near = InstallError::NoSuchRelease {
            spec: "9.9".into(),
            mirror: "m/".into(),
            os: "linux".into(),
            arch: "amd64".into(),
            near: vec![],
        };
        assert_eq!(
            near.to_string(),
            "no Go release matches \"9.9\" in the index of m/ (closest for linux/amd64: none); gomig list-remote --all shows them all"
        );
    }
}
