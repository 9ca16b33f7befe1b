//! `gomig prune [--keep N] [--dry-run] [--no-archive]`: remove toolchains nothing needs.

use std::process::ExitCode;

use anyhow::Result;
use serde_json::json;

use super::Ctx;
use crate::config::Config;
use crate::integrity::pack;
use crate::store::events::{Action, Event};
use crate::switch::prune;

/// Remove old installed toolchains: never the default, the rollback target or the rest of the
/// history's last N, one a `.go-version` under the config's `project_roots` selects, or an
/// adopted one. Each is archived into GOMIG_HOME/archives/ first (restore it with gomig restore).
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  gomig prune --dry-run          # what would go, and why the rest stays\n  gomig prune --keep 3\n  gomig prune --no-archive       # no archive kept: reinstall to get one back"
)]
pub struct Args {
    /// Keep this many of the most recent rollback targets (at least 1: the rollback target always stays).
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub keep: usize,
    /// Show what would be removed and kept, change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Remove without archiving first.
    #[arg(long)]
    pub no_archive: bool,
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args, ctx: &Ctx) -> Result<ExitCode> {
    let store = ctx.store_for_change()?;
    let config = Config::load()?;
    let plan = prune::plan(&store, args.keep, &config.project_roots)?;
    let mut rows = Vec::new();
    for k in &plan.keep {
        if !args.json {
            println!("keep    {:<12} {}", k.version, k.reason);
        }
        rows.push(json!({ "version": k.version, "action": "keep", "reason": k.reason }));
    }
    let mut failed = 0;
    for t in &plan.remove {
        if args.dry_run {
            let how = if args.no_archive {
                "(no archive)".to_string()
            } else {
                format!("(archived into {} first)", store.archives_dir().display())
            };
            if !args.json {
                println!("remove  {:<12} {how}", t.name);
            }
            rows.push(json!({ "version": t.name, "action": "remove", "dry_run": true }));
            continue;
        }
        // Each removal re-plans under the store lock (see prune::remove_one).
        match prune::remove_one(
            &store,
            t,
            !args.no_archive,
            pack::DEFAULT_LEVEL,
            args.keep,
            &config.project_roots,
        ) {
            Ok(r) => {
                let archive = r.archive.as_ref().map(|p| p.display().to_string());
                for w in &r.warnings {
                    ctx.note(w);
                }
                if !args.json {
                    match &archive {
                        Some(a) => println!("removed {:<12} (archive: {a})", r.name),
                        None => println!("removed {:<12} (no archive)", r.name),
                    }
                }
                rows.push(json!({ "version": r.name, "action": "removed", "archive": archive }));
            }
            Err(e) => {
                failed += 1;
                let _ = Event::new(Action::Prune)
                    .field("version", t.name.clone())
                    .result(Err(&e.to_string()))
                    .append(&store);
                if !args.json {
                    eprintln!("error: {}: {e}", t.name);
                }
                rows.push(json!({ "version": t.name, "action": "kept", "error": e.to_string() }));
            }
        }
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    }
    if plan.remove.is_empty() {
        ctx.note("nothing to prune");
    }
    Ok(if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
