//! `gomig install [VERSION...]`: verified, atomic installs from go.dev or a mirror.

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, ExitCode};

use anyhow::{Result, bail};

use super::Ctx;
use super::source::{SourceArgs, installer, nothing_installed};
use crate::install::Outcome;
use crate::integrity::restore;
use crate::lookup::{self, HereError};
use crate::resolve::version::compare_go;
use crate::resolve::{ErrorKind, Tool};

/// Install Go releases side by side (checksummed against the index; nothing half-installed).
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  gomig install                 # what this directory needs\n  gomig install 1.22.10 1.23    # several at once; 1.23 = newest 1.23.x\n  gomig install latest --mirror https://golang.google.cn/dl/\n  gomig install --archive go1.22.10.linux-amd64.tar.gz --sha256 HEX"
)]
pub struct Args {
    /// latest, 1.22 (newest 1.22.x), 1.23rc1, or exact versions; none: what `gomig current` needs.
    #[arg(add = crate::cli::complete::release())]
    pub versions: Vec<String>,
    #[command(flatten)]
    pub source: SourceArgs,
    /// Install from an archive file (official or `gomig archive`) instead of downloading.
    #[arg(long, value_name = "FILE")]
    pub archive: Option<PathBuf>,
    /// The expected SHA-256 (for --archive, or a release the index lists without one).
    #[arg(long, value_name = "HEX")]
    pub sha256: Option<String>,
    /// After installing, run the shim again with these arguments (the shim's auto-install).
    #[arg(long, hide = true, value_name = "TOOL")]
    pub then_exec: Option<String>,
    #[arg(last = true, hide = true)]
    pub exec_args: Vec<std::ffi::OsString>,
}

/// What this directory needs and does not have, as `gomig current` resolves it.
fn needed_here() -> Result<Option<String>> {
    match lookup::resolve_here(Tool::Go) {
        Ok(_) => Ok(None),
        Err(HereError::Resolve(f)) if f.kind == ErrorKind::NotInstalled => Ok(Some(f.value)),
        Err(e) => Err(e.into()),
    }
}

/// How one version came to be installed.
enum Done {
    /// Downloaded, or from `--archive` (or already there).
    Fetched(Outcome),
    /// Restored from the archive `gomig prune` made of it.
    Restored {
        name: String,
        tree_digest: String,
        archive: PathBuf,
    },
}

/// An exact release that is not installed but that `gomig prune` archived: its name and archive.
fn pruned(store: &crate::store::Store, version: &str) -> Option<(String, PathBuf)> {
    let Ok(lookup::Request::Exact(name)) = lookup::normalize(version, lookup::Accept::Toolchain) else {
        return None;
    };
    if store.toolchain(&name).is_ok() {
        return None;
    }
    let archive = store.pruned_archive(&name)?;
    Some((name, archive))
}

/// Restores a pruned toolchain from its archive (checked as `gomig restore` checks it): no
/// download, and the tree is the one that was installed before.
fn restore_pruned(store: &crate::store::Store, name: &str, archive: &std::path::Path, ctx: &Ctx) -> Result<Done> {
    let r = restore::restore(store, archive, None, Some(name))
        .map_err(|e| {
            anyhow::anyhow!(
                "{e} (restoring {name} from the archive gomig prune made); to download it instead: rm {} && gomig install {}",
                archive.display(),
                crate::store::short(name)
            )
        })?;
    for w in &r.warnings {
        ctx.note(w);
    }
    Ok(Done::Restored {
        name: r.name,
        tree_digest: r.tree_digest,
        archive: archive.to_path_buf(),
    })
}

pub fn run(args: Args, ctx: &Ctx) -> Result<ExitCode> {
    let store = ctx.store_for_change()?;
    let installer = installer(&store, ctx, &args.source)?;
    let mut failed = 0;
    let mut installed = Vec::new();
    let mut downloaded = 0;
    let mut report = |result: Result<Done>, what: &str| match result {
        Ok(Done::Fetched(Outcome::Installed { name, tree_digest })) => {
            ctx.note(format!("installed {name} (tree digest {tree_digest})"));
            installed.push(name);
            downloaded += 1;
        }
        Ok(Done::Restored {
            name,
            tree_digest,
            archive,
        }) => {
            ctx.note(format!(
                "restored {name} from {} (archived by gomig prune; no download), tree digest {tree_digest}",
                archive.display()
            ));
            installed.push(name);
        }
        Ok(Done::Fetched(Outcome::AlreadyInstalled { name })) => ctx.note(format!("{name} is already installed")),
        Err(e) => {
            eprintln!("error: {what}: {e:#}");
            failed += 1;
        }
    };
    if let Some(file) = &args.archive {
        // Checked against `--sha256`, else against the `sha256sum`-format sidecar beside it (as
        // `gomig archive` writes one and go.dev's checksums are published), else said unchecked.
        let sidecar = match &args.sha256 {
            Some(_) => None,
            None => crate::integrity::restore::read_sidecar(file)?,
        };
        let sha256 = args.sha256.as_deref().or(sidecar.as_ref().map(|(hex, _)| hex.as_str()));
        match (&args.sha256, &sidecar) {
            (Some(_), _) => {}
            (None, Some((_, from))) => ctx.note(format!("checking {} against {from}", file.display())),
            (None, None) => ctx.note(format!(
                "{} is not checked against a SHA-256 (no --sha256 and no {} beside it): only its \
                 tree and bin/go version are; pass --sha256 HEX, as go.dev lists it, to check the file",
                file.display(),
                crate::integrity::pack::sidecar_path(file)
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default()
            )),
        }
        report(
            installer
                .install_archive(file, sha256)
                .map(Done::Fetched)
                .map_err(|e| nothing_installed(e, &store)),
            &file.display().to_string(),
        );
    } else {
        let versions = if args.versions.is_empty() {
            match needed_here()? {
                Some(v) => vec![v.trim_start_matches("go").to_string()],
                None => {
                    ctx.note("everything this directory needs is installed (see gomig current)");
                    vec![]
                }
            }
        } else {
            args.versions.clone()
        };
        if versions.len() > 1 && args.sha256.is_some() {
            bail!("--sha256 names one file: install one version at a time with it");
        }
        for v in &versions {
            // Read as every command reads a version (`v1.22.10`, `1.20.0`), then installed by
            // the index's rules; a name with a suffix is not a release.
            let spec = match lookup::normalize(v, lookup::Accept::Toolchain) {
                Ok(request) if request.is_release() => request.pin(),
                Ok(_) => {
                    report(
                        Err(anyhow::anyhow!(
                            "{v:?} has a suffix, so it is not a Go release; install the release ({}) and name it with gomig restore --name, or gomig add --name",
                            crate::store::claimed_release(v)
                        )),
                        v,
                    );
                    continue;
                }
                Err(e) => {
                    report(Err(e.into()), v);
                    continue;
                }
            };
            if let Some((name, archive)) = pruned(&store, v) {
                report(restore_pruned(&store, &name, &archive, ctx), v);
                continue;
            }
            report(
                installer
                    .install(&spec, args.sha256.as_deref())
                    .map(Done::Fetched)
                    .map_err(|e| nothing_installed(e, &store)),
                v,
            );
        }
    }
    // With no default yet, the newest installed toolchain becomes it: `go` works right away.
    if let Some(newest) = installed.iter().max_by(|a, b| compare_go(a.as_bytes(), b.as_bytes()))
        && let Some(set) = store
            .transaction()?
            .default_if_unset(newest, "first toolchain installed")?
    {
        for w in &set.warnings {
            ctx.note(w);
        }
        ctx.note(format!(
            "default: {newest} (there was none; change it with gomig switch)"
        ));
    }
    // A --mirror that worked and is not saved: say how to keep it (the next install would go to
    // the default site again).
    if failed == 0
        && downloaded > 0
        && let [mirror, ..] = args.source.mirrors.as_slice()
        && crate::config::Config::load().is_ok_and(|c| c.mirror.is_none())
        && std::env::var_os("GOMIG_MIRROR").is_none()
    {
        ctx.note(format!(
            "to use this mirror every time: gomig config set mirror {mirror}"
        ));
    }
    if let Some(tool) = &args.then_exec
        && failed == 0
    {
        // Back to the shim, which now finds the toolchain; the command runs as typed.
        let shim = store.shims_dir().join(tool);
        let err = Command::new(&shim)
            .args(&args.exec_args)
            .env("GOMIG_AUTO_INSTALLING", "1")
            .exec();
        bail!("cannot run {}: {err}", shim.display());
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
