//! Adopting a GOROOT that something else installed (a distro package, `/usr/local/go`,
//! `~/sdk/go1.22.0`, goenv/gvm/g trees, Go's own module-cache toolchains). The store records
//! it as a symlink `toolchains/<name> -> GOROOT` and never modifies the tree itself.

use std::fs;
use std::path::{Path, PathBuf};

use crate::integrity::manifest::{self, Manifest};
use crate::resolve::version::Version;
use crate::store::events::{Action, Event};
use crate::store::transaction::TxnError;
use crate::store::{self, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum AdoptError {
    #[error("{path} is not a Go installation: {path}/bin/go is missing; point at the directory that holds bin/go")]
    NotGoroot { path: String },
    #[error("cannot tell which Go version {path} holds: no VERSION file and `bin/go env GOVERSION` failed ({detail})")]
    UnknownVersion { path: String, detail: String },
    #[error(
        "{name} is already in the store at {existing}; {} first, or adopt this tree under another name: gomig add {path} --name {name}-2",
        if *.existing_adopted { format!("forget that one (gomig remove {name})") } else { format!("uninstall that one (gomig uninstall {name})") }
    )]
    Taken {
        name: String,
        existing: String,
        existing_adopted: bool,
        path: String,
    },
    #[error(
        "cannot record the manifest of {path}: {source}; nothing was adopted (check that you can read every file in it)"
    )]
    Scan { path: String, source: std::io::Error },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Txn(#[from] TxnError),
}

/// The Go version a GOROOT holds: its `VERSION` file, else `bin/go env GOVERSION`.
pub fn tree_version(root: &Path) -> Result<String, AdoptError> {
    if !root.join("bin/go").is_file() {
        return Err(AdoptError::NotGoroot {
            path: root.display().to_string(),
        });
    }
    if let Ok(text) = fs::read_to_string(root.join("VERSION"))
        && let Some(first) = text.lines().next().map(str::trim)
        && Version::parse_go(first.as_bytes()).is_valid()
    {
        return Ok(first.to_string());
    }
    let mut cmd = crate::gotool::identity(root);
    cmd.args(["env", "GOVERSION"]);
    let text = crate::gotool::output(cmd, root).map_err(|e| AdoptError::UnknownVersion {
        path: root.display().to_string(),
        detail: e.to_string(),
    })?;
    if Version::parse_go(text.as_bytes()).is_valid() {
        return Ok(text);
    }
    Err(AdoptError::UnknownVersion {
        path: root.display().to_string(),
        detail: format!("go env GOVERSION printed {text:?}"),
    })
}

/// The canonical directory name for a version string like `go1.19.8` or `go1.21.0-bigcorp`.
pub fn canonical_name(version: &str) -> Option<String> {
    let (core, suffix) = match version.find('-') {
        Some(i) => version.split_at(i),
        None => (version, ""),
    };
    let mut buf = [0u8; 64];
    let n = Version::parse_loose(core.as_bytes()).write_canonical(&mut buf)?;
    Some(format!("{}{suffix}", std::str::from_utf8(&buf[..n]).ok()?))
}

/// What adopting did.
pub enum Adopted {
    New {
        name: String,
        root: PathBuf,
        tree_digest: String,
        /// Things the user should know although the adoption was made (a log line not written).
        warnings: Vec<String>,
    },
    AlreadyThere {
        name: String,
        root: PathBuf,
    },
}

/// Adopts `root` under `name` (default: its version): records its manifest (stage 2's
/// snapshot, taken at adoption: later `gomig verify` compares against it), then the link
/// `toolchains/NAME -> root` and the `add` event, in one store transaction.
pub fn adopt(store: &Store, root: &Path, name: Option<&str>) -> Result<Adopted, AdoptError> {
    let root = fs::canonicalize(root).map_err(|_| AdoptError::NotGoroot {
        path: root.display().to_string(),
    })?;
    let version = tree_version(&root)?;
    let name = match name {
        Some(n) => {
            store::check_name_for_tree(n, &version, &format!("the tree at {}", root.display()))?;
            n.to_string()
        }
        None => canonical_name(&version).ok_or_else(|| AdoptError::UnknownVersion {
            path: root.display().to_string(),
            detail: format!("{version:?} is not a Go version"),
        })?,
    };
    store::check_name(&name)?;
    let _lock = store.lock_toolchain(&name)?;
    if let Ok(existing) = store.toolchain(&name) {
        if existing
            .adopted_from
            .as_deref()
            .and_then(|p| fs::canonicalize(p).ok())
            .as_deref()
            == Some(root.as_path())
        {
            return Ok(Adopted::AlreadyThere { name, root });
        }
        return Err(AdoptError::Taken {
            name,
            existing: existing.root().display().to_string(),
            existing_adopted: existing.adopted_from.is_some(),
            path: root.display().to_string(),
        });
    }
    let entries = manifest::scan(&root).map_err(|source| AdoptError::Scan {
        path: root.display().to_string(),
        source,
    })?;
    let m = Manifest::new(manifest::header_for(&root, &name), entries);
    let tree_digest = m.tree_digest();
    let event = Event::new(Action::Add)
        .field("version", name.clone())
        .field("goroot", root.display().to_string())
        .field("tree_digest", tree_digest.clone());
    let warnings = store
        .transaction()?
        .adopt_link(&name, &root, m.to_text().as_bytes(), event)?;
    Ok(Adopted::New {
        name,
        root,
        tree_digest,
        warnings,
    })
}

/// Where other tools keep Go installations: (directory, entry-name prefix, subdirectory of each
/// entry that holds the GOROOT). Each manager's own data-directory variable is honoured.
fn install_dirs(home: &Path) -> Vec<(PathBuf, &'static str, &'static [&'static str])> {
    let env_dir = |var: &str| std::env::var_os(var).filter(|v| !v.is_empty()).map(PathBuf::from);
    let xdg_data = env_dir("XDG_DATA_HOME").unwrap_or_else(|| home.join(".local/share"));
    let asdf = env_dir("ASDF_DATA_DIR").unwrap_or_else(|| home.join(".asdf"));
    let mise = env_dir("MISE_DATA_DIR").unwrap_or_else(|| xdg_data.join("mise"));
    let gopath = env_dir("GOPATH")
        .and_then(|p| std::env::split_paths(&p).next())
        .unwrap_or_else(|| home.join("go"));
    let modcache = env_dir("GOMODCACHE").unwrap_or_else(|| gopath.join("pkg/mod"));
    let mut dirs: Vec<(PathBuf, &'static str, &'static [&'static str])> = vec![
        // Distributions: /usr/lib/go-1.19 (Debian, Ubuntu).
        ("/usr/lib".into(), "go-", &["", "go"]),
        // golang.org/dl: ~/sdk/go1.22.10.
        (home.join("sdk"), "go", &[""]),
        (asdf.join("installs/golang"), "", &["go", ""]),
        (mise.join("installs/go"), "", &["", "go"]),
        (home.join(".goenv/versions"), "", &[""]),
        (home.join(".gvm/gos"), "", &[""]),
        (home.join(".g/versions"), "", &["", "go"]),
        (home.join(".gobrew/versions"), "", &["go", ""]),
        // goup: ~/.go/go1.22.10.
        (home.join(".go"), "go", &[""]),
        (home.join(".go/versions"), "", &["", "go"]),
        // Go's own toolchain switching: read-only module directories.
        (modcache.join("golang.org"), "toolchain@", &[""]),
    ];
    // Homebrew keeps GOROOT in libexec of each version.
    let mut cellars: Vec<PathBuf> = vec![
        "/opt/homebrew/Cellar".into(),
        "/usr/local/Cellar".into(),
        "/home/linuxbrew/.linuxbrew/Cellar".into(),
        home.join(".linuxbrew/Cellar"),
    ];
    cellars.extend(env_dir("HOMEBREW_CELLAR"));
    cellars.extend(env_dir("HOMEBREW_PREFIX").map(|p| p.join("Cellar")));
    for cellar in cellars {
        dirs.push((cellar.join("go"), "", &["libexec"]));
    }
    dirs
}

/// Places where Go installations usually live: the system's, those of other version managers
/// (asdf, mise, goenv, gvm, g, gobrew, goup, golang.org/dl, Homebrew), Go's own module-cache
/// toolchains, and the `go` on PATH. Found by their layout, never by running them; the version
/// comes from [`tree_version`].
pub fn discover() -> Vec<(String, PathBuf)> {
    let home = dirs::home_dir().unwrap_or_default();
    let mut candidates: Vec<PathBuf> = vec![
        "/usr/local/go".into(),
        "/usr/lib/go".into(),
        "/usr/lib/golang".into(),
        "/opt/go".into(),
    ];
    for (dir, prefix, subdirs) in install_dirs(&home) {
        let Ok(entries) = fs::read_dir(&dir) else { continue };
        for e in entries.flatten() {
            if e.file_name().to_string_lossy().starts_with(prefix) {
                candidates.extend(subdirs.iter().map(|sub| e.path().join(sub)));
            }
        }
    }
    // The `go` on PATH (not gomig's shim): its GOROOT is two levels above the real binary.
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let go = dir.join("go");
            if let Ok(real) = fs::canonicalize(&go)
                && let Some(root) = real.parent().and_then(Path::parent)
                && real.parent().is_some_and(|bin| bin.ends_with("bin"))
            {
                candidates.push(root.to_path_buf());
                break;
            }
        }
    }
    let mut seen = Vec::new();
    let mut found = Vec::new();
    for c in candidates {
        let Ok(real) = fs::canonicalize(&c) else { continue };
        let looks_like_goroot = real.join("src").is_dir() || real.join("VERSION").is_file();
        if seen.contains(&real) || !real.join("bin/go").is_file() || !looks_like_goroot {
            continue;
        }
        seen.push(real.clone());
        if let Ok(v) = tree_version(&real) {
            found.push((v, real));
        }
    }
    found
}
