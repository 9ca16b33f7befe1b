//! Installing the shim into the store as `shims/go` and `shims/gofmt`.
//!
//! Real files, not symlinks: tools that canonicalize paths would otherwise run the wrong
//! program (rustup #4224). `go` and `gofmt` are hardlinks of one copy, each renamed into
//! place so a running `go` never finds a half-written shim.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::store::events::{Action, Event};
use crate::store::{Store, unique_suffix};

pub const TOOLS: [&str; 2] = ["go", "gofmt"];

/// The shim binary shipped beside the `gomig` executable (`GOMIG_SHIM_BIN` overrides).
pub fn shim_source() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("GOMIG_SHIM_BIN").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    let exe = std::env::current_exe().context("cannot locate the gomig executable")?;
    let candidate = exe.with_file_name("gomig-shim");
    if candidate.is_file() {
        return Ok(candidate);
    }
    bail!(
        "cannot find the shim binary {} (it is installed beside gomig); reinstall gomig (cargo install --path .) or set GOMIG_SHIM_BIN",
        candidate.display()
    )
}

/// Are the installed shims byte-for-byte the shipped shim?
pub fn shims_current(store: &Store, source: &Path) -> Result<bool> {
    let want = fs::read(source).with_context(|| format!("cannot read {}", source.display()))?;
    for tool in TOOLS {
        match fs::read(store.shims_dir().join(tool)) {
            Ok(have) if have == want => {}
            _ => return Ok(false),
        }
    }
    Ok(true)
}

/// (Re)creates `shims/go` and `shims/gofmt` from `source`, atomically per file.
pub fn install(store: &Store, source: &Path) -> Result<()> {
    let dir = store.shims_dir();
    fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let tmp = dir.join(format!(".shim.tmp-{}", unique_suffix()));
    fs::copy(source, &tmp)
        .with_context(|| format!("cannot copy the shim {} to {}", source.display(), tmp.display()))?;
    fs::set_permissions(&tmp, fs::Permissions::from_mode(0o755))?;
    let result = (|| -> Result<()> {
        for tool in TOOLS {
            let staged = dir.join(format!(".{tool}.tmp-{}", unique_suffix()));
            fs::hard_link(&tmp, &staged).or_else(|_| fs::copy(&tmp, &staged).map(|_| ()))?;
            fs::rename(&staged, dir.join(tool))
                .with_context(|| format!("cannot install {}", dir.join(tool).display()))?;
        }
        Ok(())
    })();
    let _ = fs::remove_file(&tmp);
    result
}

/// Makes sure the shims exist and match this gomig's shim.
pub fn ensure(store: &Store) -> Result<()> {
    record_cli(store)?;
    let source = shim_source()?;
    // Byte for byte (two 50 KB reads per `gomig init`): an upgraded gomig whose shim happens to
    // have the old one's size must still replace it.
    if !shims_current(store, &source).unwrap_or(false) {
        install(store, &source)?;
        Event::new(Action::Shims)
            .field("source", source.display().to_string())
            .field("dir", store.shims_dir().display().to_string())
            .append(store)?;
    }
    Ok(())
}

/// Keeps `state/gomig` pointing at this gomig, so the shim can hand over to it (auto-install).
pub fn record_cli(store: &Store) -> Result<()> {
    let exe = std::env::current_exe().context("cannot locate the gomig executable")?;
    let link = store.state_dir().join("gomig");
    if fs::read_link(&link).ok().as_deref() == Some(exe.as_path()) {
        return Ok(());
    }
    fs::create_dir_all(store.state_dir())?;
    let tmp = store.state_dir().join(format!(".gomig.tmp-{}", unique_suffix()));
    std::os::unix::fs::symlink(&exe, &tmp)?;
    fs::rename(&tmp, &link).with_context(|| format!("cannot update {}", link.display()))
}
