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
    let here = std::env::current_dir().ok();
    let scope = prune::Scope {
        keep_history: args.keep,
        project_roots: &config.project_roots,
        here: here.as_deref(),
    };
    let plan = prune::plan(&store, &scope)?;
    if !args.json {
        say_what_was_seen(&plan, &config.project_roots, ctx);
    }
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
        match prune::remove_one(&store, t, !args.no_archive, pack::DEFAULT_LEVEL, &scope) {
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
        let pins: Vec<_> = plan
            .pins
            .iter()
            .flat_map(|(v, files)| {
                files
                    .iter()
                    .map(move |f| json!({ "file": f.display().to_string(), "version": v }))
            })
            .collect();
        let report = json!({ "toolchains": rows, "pins_seen": pins, "project_roots": config.project_roots });
        println!("{}", serde_json::to_string_pretty(&report)?);
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

/// Which pins prune could see, and that it cannot see the others: a toolchain another project
/// pins outside them may go (it stays restorable from its archive).
fn say_what_was_seen(plan: &prune::Plan, roots: &[std::path::PathBuf], ctx: &Ctx) {
    for (version, files) in &plan.pins {
        for f in files {
            ctx.note(format!("pin seen: {} selects {version}", f.display()));
        }
    }
    if roots.is_empty() {
        ctx.note(
            "note: project_roots is not set, so the only .go-version prune can see is the one this directory obeys; a toolchain another project pins may be removed (it is archived first, and the next `go` there says how to restore it); to keep those: gomig config set project_roots DIR,DIR",
        );
    } else {
        let list: Vec<String> = roots.iter().map(|r| r.display().to_string()).collect();
        ctx.note(format!(
            "note: .go-version files outside {} (and this directory) are not seen; add their directories with gomig config set project_roots DIR,DIR",
            list.join(", ")
        ));
    }
}
