//! `gomig install [VERSION...]`: verified, atomic installs from go.dev or a mirror.

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, ExitCode};

use anyhow::{Result, bail};

use super::Ctx;
use super::source::{SourceArgs, installer};
use crate::install::Outcome;
use crate::lookup;
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
        Err(e) => match e.downcast_ref::<lookup::ResolveFailure>() {
            Some(f) if f.kind == ErrorKind::NotInstalled => Ok(Some(f.value.clone())),
            _ => Err(e),
        },
    }
}

pub fn run(args: Args, ctx: &Ctx) -> Result<ExitCode> {
    let store = ctx.store_for_change()?;
    let installer = installer(&store, ctx, &args.source)?;
    let mut failed = 0;
    let mut installed = Vec::new();
    let mut report = |result: Result<Outcome>, what: &str| match result {
        Ok(Outcome::Installed { name, tree_digest }) => {
            ctx.note(format!("installed {name} (tree digest {tree_digest})"));
            installed.push(name);
        }
        Ok(Outcome::AlreadyInstalled { name }) => ctx.note(format!("{name} is already installed")),
        Err(e) => {
            eprintln!("error: {what}: {e:#}");
            failed += 1;
        }
    };
    if let Some(file) = &args.archive {
        report(
            installer.install_archive(file, args.sha256.as_deref()),
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
            report(installer.install(&spec, args.sha256.as_deref()), v);
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
