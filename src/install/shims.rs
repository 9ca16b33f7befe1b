//! Installing the shim into the store as `shims/go` and `shims/gofmt`, and one command per
//! toolchain (`shims/go1.22.10`, as golang.org/dl provides them), which runs that toolchain.
//!
//! Real files, not symlinks: tools that canonicalize paths would otherwise run the wrong
//! program (rustup #4224). Every shim is a hardlink of one copy, each renamed into place so a
//! running `go` never finds a half-written shim. The toolchain commands also let Go's own
//! switch (`GOTOOLCHAIN=go1.22.10+path`, which looks for `go1.22.10` on PATH) find gomig's
//! trees, through the shim and its checks.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
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
    // Under the store lock, like every other change of the commands.
    let _txn = store.transaction()?;
    sync_commands(store)
}

/// Is `name` a toolchain command this module manages (`go1.22.10`, `go1.22.10-mine`), rather
/// than `go`, `gofmt` or a temporary file?
fn is_toolchain_command(name: &str) -> bool {
    name.starts_with("go1") || (name.starts_with("go") && name.as_bytes().get(2).is_some_and(u8::is_ascii_digit))
}

/// Makes `shims/` hold one command per toolchain in the store, each the installed shim, and
/// no command for a toolchain that is gone. Nothing to do before the shims are installed
/// (`gomig init` calls this once they are). Called by every change to `toolchains/` (the
/// store transaction), so the commands stay in step with install, uninstall, adopt and remove.
pub fn sync_commands(store: &Store) -> Result<()> {
    let dir = store.shims_dir();
    let shim = dir.join("go");
    let Ok(shim_meta) = fs::metadata(&shim) else {
        return Ok(());
    };
    let wanted: Vec<String> = store
        .toolchains()?
        .into_iter()
        .map(|t| t.name)
        .filter(|n| is_toolchain_command(n))
        .collect();
    let entries = fs::read_dir(&dir).with_context(|| format!("cannot read {}", dir.display()))?;
    for entry in entries {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if is_toolchain_command(&name) && !wanted.contains(&name) {
            let path = dir.join(&name);
            fs::remove_file(&path).with_context(|| format!("cannot remove {}", path.display()))?;
        }
    }
    for name in &wanted {
        let path = dir.join(name);
        // Already this very shim (same file): nothing to do; anything else is replaced.
        if fs::symlink_metadata(&path).is_ok_and(|m| m.dev() == shim_meta.dev() && m.ino() == shim_meta.ino()) {
            continue;
        }
        let staged = dir.join(format!(".{name}.tmp-{}", unique_suffix()));
        fs::hard_link(&shim, &staged)
            .or_else(|_| fs::copy(&shim, &staged).map(|_| ()))
            .with_context(|| format!("cannot create {}", staged.display()))?;
        if let Err(e) = fs::rename(&staged, &path) {
            let _ = fs::remove_file(&staged);
            return Err(e).with_context(|| format!("cannot install {}", path.display()));
        }
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
