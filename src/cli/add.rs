//! `gomig add PATH`: adopt an existing GOROOT; `--discover` finds candidates.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};

use super::Ctx;
use crate::install::adopt::{self, Adopted};
use crate::resolve::version::compare_go;

/// Adopt a Go installed by something else (the tree is never modified).
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  gomig add /usr/lib/go-1.19\n  gomig add ~/sdk/go1.22.0 --name go1.22.0-sdk\n  gomig add --discover          # list what could be adopted\n  gomig add --discover --yes    # adopt all of it"
)]
pub struct Args {
    /// The GOROOT (the directory that holds bin/go).
    #[arg(required_unless_present = "discover")]
    pub path: Option<PathBuf>,
    /// Store it under this name instead of its version (must still be a Go version, e.g. go1.22.0-sdk).
    #[arg(long)]
    pub name: Option<String>,
    /// Look in the usual places (/usr/local/go, /usr/lib/go-*, ~/sdk, goenv, gvm, g, the module cache).
    #[arg(long, conflicts_with_all = ["path", "name"])]
    pub discover: bool,
    /// With --discover: adopt everything found.
    #[arg(long, requires = "discover")]
    pub yes: bool,
}

pub fn run(args: Args, ctx: &Ctx) -> Result<ExitCode> {
    let store = ctx.store_for_change()?;
    let targets: Vec<PathBuf> = if args.discover {
        let found = adopt::discover();
        if found.is_empty() {
            ctx.note("no Go installations found in the usual places");
            return Ok(ExitCode::SUCCESS);
        }
        for (version, path) in &found {
            println!("{version}\t{}", path.display());
        }
        if !args.yes {
            ctx.note("adopt them with: gomig add --discover --yes (or gomig add PATH for one)");
            return Ok(ExitCode::SUCCESS);
        }
        found.into_iter().map(|(_, p)| p).collect()
    } else {
        args.path.into_iter().collect()
    };
    let mut failed = 0;
    let mut adopted = Vec::new();
    for path in targets {
        match adopt::adopt(&store, &path, args.name.as_deref()) {
            Ok(Adopted::New {
                name, root, warnings, ..
            }) => {
                for w in &warnings {
                    ctx.note(w);
                }
                ctx.note(format!("adopted {name} from {}", root.display()));
                adopted.push(name);
            }
            Ok(Adopted::AlreadyThere { name, root }) => {
                ctx.note(format!("{name} from {} is already adopted", root.display()))
            }
            Err(e) if args.discover => {
                eprintln!("error: {}: {e}", path.display());
                failed += 1;
            }
            Err(e) => return Err(e.into()),
        }
    }
    // With no default yet, the newest adopted toolchain becomes it: `go` works right away.
    if let Some(newest) = adopted.iter().max_by(|a, b| compare_go(a.as_bytes(), b.as_bytes()))
        && let Some(set) = store
            .transaction()?
            .default_if_unset(newest, "first toolchain adopted")?
    {
        for w in &set.warnings {
            ctx.note(w);
        }
        ctx.note(format!(
            "default: {newest} (there was none; change it with gomig switch)"
        ));
    }
    if failed > 0 {
        bail!("{failed} installation(s) could not be adopted");
    }
    Ok(ExitCode::SUCCESS)
}
