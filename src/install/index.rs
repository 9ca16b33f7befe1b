//! The download index: `<mirror>?mode=json&include=all` in go.dev's format, cached in
//! `cache/` for a day.

use std::cmp::Ordering;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::install::download::{DownloadError, Http};
use crate::integrity::hex;
use crate::resolve::version::{self, Version};

const MAX_AGE: Duration = Duration::from_secs(24 * 3600);

/// The most of an index gomig reads (go.dev's full index is a few MB).
pub const MAX_INDEX_BYTES: u64 = 64 << 20;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Release {
    pub version: String,
    #[serde(default)]
    pub stable: bool,
    #[serde(default)]
    pub files: Vec<FileInfo>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileInfo {
    pub filename: String,
    #[serde(default)]
    pub os: String,
    #[serde(default)]
    pub arch: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub sha256: String,
    #[serde(default)]
    pub size: u64,
    #[serde(default)]
    pub kind: String,
}

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("cannot fetch the download index from {mirror}: {source}")]
    Fetch { mirror: String, source: DownloadError },
    #[error("the download index from {mirror} is not valid JSON in go.dev's format: {message}")]
    Parse { mirror: String, message: String },
    #[error(
        "--offline: no cached download index for {mirror} in {cache}; run once without --offline to fetch it, or install with --archive FILE"
    )]
    NotCached { mirror: String, cache: String },
}

impl IndexError {
    /// The network failed (worth checking it), as opposed to an answer gomig refused.
    pub fn is_network(&self) -> bool {
        matches!(self, IndexError::Fetch { source, .. } if source.is_transient())
    }
}

/// The index of one mirror, newest release first.
pub struct Index {
    pub mirror: String,
    pub releases: Vec<Release>,
    pub from_cache: bool,
}

/// `https://go.dev/dl/` → `https://go.dev/dl/?mode=json&include=all`.
pub fn index_url(mirror: &str) -> String {
    format!("{mirror}?mode=json&include=all")
}

/// Makes a mirror a base URL that file names can be appended to.
pub fn normalize_mirror(mirror: &str) -> String {
    if mirror.ends_with('/') {
        mirror.to_string()
    } else {
        format!("{mirror}/")
    }
}

fn cache_path(cache_dir: &Path, mirror: &str) -> PathBuf {
    cache_dir.join(format!("index-{}.json", &hex(&Sha256::digest(mirror.as_bytes()))[..16]))
}

pub struct FetchOptions {
    pub refresh: bool,
    pub offline: bool,
}

impl Index {
    pub fn load(http: &Http, mirror: &str, cache_dir: &Path, opts: &FetchOptions) -> Result<Index, IndexError> {
        let cache = cache_path(cache_dir, mirror);
        let fresh = std::fs::metadata(&cache)
            .and_then(|m| m.modified())
            .map(|t| SystemTime::now().duration_since(t).unwrap_or_default() < MAX_AGE)
            .unwrap_or(false);
        if opts.offline || (fresh && !opts.refresh) {
            if let Ok(bytes) = std::fs::read(&cache)
                && let Ok(releases) = parse(&bytes, mirror)
            {
                return Ok(Index {
                    mirror: mirror.into(),
                    releases,
                    from_cache: true,
                });
            }
            if opts.offline {
                return Err(IndexError::NotCached {
                    mirror: mirror.into(),
                    cache: cache_dir.display().to_string(),
                });
            }
        }
        let bytes = http
            .get_bytes(&index_url(mirror), MAX_INDEX_BYTES)
            .map_err(|source| IndexError::Fetch {
                mirror: mirror.into(),
                source,
            })?;
        let releases = parse(&bytes, mirror)?;
        // The cache is an optimisation: failing to write it is not an error.
        let _ = crate::store::write_atomic(&cache, &bytes);
        Ok(Index {
            mirror: mirror.into(),
            releases,
            from_cache: false,
        })
    }

    /// Releases newest first (by Go's version order).
    pub fn sorted(&self) -> Vec<&Release> {
        let mut r: Vec<&Release> = self
            .releases
            .iter()
            .filter(|r| Version::parse_go(r.version.as_bytes()).is_valid())
            .collect();
        r.sort_by(|a, b| version::compare_go(b.version.as_bytes(), a.version.as_bytes()));
        r
    }

    /// What `gomig install SPEC` means: `latest` (newest stable), `1.22` (newest stable
    /// 1.22.x), or an exact version (`1.22.10`, `go1.23rc1`).
    pub fn select(&self, spec: &str) -> Option<&Release> {
        let sorted = self.sorted();
        if spec == "latest" {
            return sorted.into_iter().find(|r| r.stable);
        }
        let bare = spec.strip_prefix("go").unwrap_or(spec);
        let v = Version::parse(bare.as_bytes());
        if !v.is_valid() {
            return None;
        }
        let dots = bare.matches('.').count();
        if v.is_prerelease() || dots >= 2 {
            return sorted
                .into_iter()
                .find(|r| Version::parse_go(r.version.as_bytes()).compare(&v) == Ordering::Equal);
        }
        sorted.into_iter().find(|r| {
            let rv = Version::parse_go(r.version.as_bytes());
            r.stable && rv.major == v.major && (dots == 0 || rv.minor == v.minor)
        })
    }

    /// Versions near `spec` that exist for this platform, for "did you mean" messages: the
    /// same minor line first, newest first; `exclude` (the release that just failed) left out.
    pub fn closest(&self, spec: &str, os: &str, arch: &str, n: usize, exclude: Option<&str>) -> Vec<String> {
        let bare = spec.strip_prefix("go").unwrap_or(spec);
        let want = Version::parse(bare.as_bytes());
        let mut candidates: Vec<&Release> = self
            .sorted()
            .into_iter()
            .filter(|r| Some(r.version.as_str()) != exclude && r.archive_for(os, arch).is_some())
            .collect();
        if want.is_valid() {
            // A stable sort: newest first within each group.
            candidates.sort_by_key(|r| !Version::parse_go(r.version.as_bytes()).same_line(&want));
        }
        candidates.into_iter().take(n).map(|r| r.version.clone()).collect()
    }
}

impl Release {
    /// The archive for a platform.
    pub fn archive_for(&self, os: &str, arch: &str) -> Option<&FileInfo> {
        self.files.iter().find(|f| {
            f.os == os
                && f.arch == arch
                && ((f.kind == "archive" && f.filename.ends_with(".tar.gz"))
                    || (f.kind == "module" && f.filename.ends_with(".zip")))
        })
    }
}

/// A mirror's cached index with its releases' names only (no files): what completion lists at
/// each TAB, never from the network, several times faster to read than [`Index::load`]
/// (a full index is over a megabyte, mostly file entries). None when nothing usable is cached.
pub fn cached_names(mirror: &str, cache_dir: &Path) -> Option<Index> {
    #[derive(Deserialize)]
    struct Name {
        version: String,
        #[serde(default)]
        stable: bool,
    }
    let bytes = std::fs::read(cache_path(cache_dir, mirror)).ok()?;
    let names: Vec<Name> = serde_json::from_slice(&bytes).ok()?;
    Some(Index {
        mirror: mirror.into(),
        releases: names
            .into_iter()
            .map(|n| Release {
                version: n.version,
                stable: n.stable,
                files: Vec::new(),
            })
            .collect(),
        from_cache: true,
    })
}

fn parse(bytes: &[u8], mirror: &str) -> Result<Vec<Release>, IndexError> {
    serde_json::from_slice(bytes).map_err(|e| IndexError::Parse {
        mirror: mirror.into(),
        message: e.to_string(),
    })
}
