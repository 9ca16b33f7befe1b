//! `gomig rollback`: return to the previous default, atomically; repeatable through history.

use std::process::ExitCode;

use anyhow::Result;

use super::Ctx;
use crate::store::transaction::Gate;

/// Go back to the previous global default.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  gomig switch 1.23.9 && gomig rollback   # back where you were")]
pub struct Args {
    /// Roll back without verifying the target against its manifest first (logged).
    #[arg(long)]
    pub no_verify: bool,
}

pub fn run(args: Args, ctx: &Ctx) -> Result<ExitCode> {
    let store = ctx.store_for_change()?;
    let gate = if args.no_verify { Gate::Skip } else { Gate::Verify };
    let switched = store.transaction()?.rollback(gate)?;
    for w in &switched.warnings {
        ctx.note(w);
    }
    ctx.note(format!(
        "default: {} -> {}",
        switched.previous.as_deref().unwrap_or("(none)"),
        switched.current
    ));
    // Tools rebuilt with the Go rolled back from stay so; say it (best effort: a GOBIN that
    // cannot be read is not the rollback's failure).
    if !ctx.quiet
        && let Ok(t) = store.toolchain(&switched.current)
        && let Ok((release, newer)) = crate::tools::built_with_newer(t.root())
        && !newer.is_empty()
    {
        ctx.note(format!(
            "rollback leaves the tools in GOBIN as they are: {} built with a Go newer than {release}; to rebuild them with it: gomig tools rebuild --with {} {}",
            newer.join(", "),
            crate::store::short(&switched.current),
            newer.join(" ")
        ));
    }
    Ok(ExitCode::SUCCESS)
}
