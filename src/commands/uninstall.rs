//! `gomig uninstall VERSION`: remove an installed toolchain (renamed out first, then deleted).

use std::process::ExitCode;

use anyhow::{Context, Result, bail};

use super::Ctx;
use crate::events::Event;
use crate::store::{StoreError, unique_suffix};

/// Remove an installed toolchain and its manifest.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  gomig uninstall 1.21.13")]
pub struct Args {
    /// The installed version: 1.21.13 or go1.21.13 (any spelling Go accepts: 1.20.0 is go1.20).
    pub version: String,
    /// Also when it is the default or the rollback target.
    #[arg(long)]
    pub force: bool,
}

pub fn run(args: Args, ctx: &Ctx) -> Result<ExitCode> {
    let store = ctx.store_for_change()?;
    let name = super::toolchain_name(&store, &args.version);
    let _default_lock = store.lock_default()?;
    let toolchain = match store.toolchain(&name) {
        Err(StoreError::NotInstalled { .. }) => {
            bail!("{name} is not installed, so there is nothing to uninstall; gomig list shows what is")
        }
        other => other?,
    };
    if toolchain.adopted_from.is_some() {
        bail!(
            "{name} is adopted from {}; forget it with: gomig remove {name} (gomig never deletes adopted trees)",
            toolchain.root().display()
        );
    }
    if !args.force {
        let short = crate::store::short(&name);
        if store.default_name()?.as_deref() == Some(name.as_str()) {
            bail!(
                "{name} is the global default: without it `go` has no default to run; switch to another first (gomig switch VERSION), then uninstall it, or remove it anyway with: gomig uninstall {short} --force"
            );
        }
        if store.rollback_target()?.as_deref() == Some(name.as_str()) {
            bail!(
                "{name} is the rollback target: gomig rollback would switch back to it; keep it while you may need to roll back, or remove it anyway with: gomig uninstall {short} --force"
            );
        }
    }
    let _lock = store.lock_toolchain(&name)?;
    // Out of toolchains/ in one rename, so nothing half-deleted ever looks installed.
    let trash = store
        .toolchains_dir()
        .join(format!(".trash-{name}-{}", unique_suffix()));
    std::fs::rename(&toolchain.path, &trash)
        .with_context(|| format!("cannot move {} aside", toolchain.path.display()))?;
    std::fs::remove_dir_all(&trash).with_context(|| format!("cannot delete {}", trash.display()))?;
    let _ = std::fs::remove_file(store.manifests_dir().join(format!("{name}.manifest")));
    Event::new("uninstall").field("version", name.clone()).append(&store)?;
    ctx.note(format!("uninstalled {name}"));
    Ok(ExitCode::SUCCESS)
}
