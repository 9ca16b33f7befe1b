//! `gomig migrate --to B [--project DIR]...`: install, verify, check, switch; stop at the first
//! failing stage with the default unchanged.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;

use super::Ctx;
use super::checking::{ProgressLine, RunArgs, side_for, style};
use super::explain;
use crate::paint::Paint;
use crate::check::{self, Progress, Report};
use crate::config::Config;
use crate::install::Outcome as Installed;
use crate::lookup::{self, Accept, ArgError, EnvSnapshot};
use crate::migrate::{self, Baseline, Driver, Stage, Status};
use crate::resolve::{ErrorKind, Tool};

/// Upgrade the default Go safely, in four stages: install B beside the current default (A);
/// verify both against their manifests; run gomig check (A against B) in each project (or the
/// module here); switch the default to B, with gomig rollback ready. Stops at the first failing
/// stage with nothing changed: the default stays, and a B this run installed is removed again
/// (the output says how to get it back to examine the failure).
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  gomig migrate --to 1.23.9 --project ~/src/api --project ~/src/worker\n  gomig migrate --to 1.23 --dry-run        # the plan, nothing changed\n  gomig migrate --to 1.23.9 --yes --json   # CI: no question, a JSON report\n  gomig migrate --to 1.23.9 --no-check --yes   # nothing to check: switch on verification alone"
)]
pub struct Args {
    /// The release to move the default to (exact, 1.23 for the newest installed 1.23.x or, when none
    /// is installed, the newest in the index, or latest).
    #[arg(long, value_name = "VERSION", add = crate::cli::complete::toolchain_or_release())]
    pub to: String,
    /// A project to check (repeatable; default: the module or workspace here; with neither,
    /// stage 3 fails unless --no-check).
    #[arg(long = "project", value_name = "DIR")]
    pub projects: Vec<PathBuf>,
    /// Check no project: skip stage 3 and switch on stage 2's verification alone (logged).
    #[arg(long, conflicts_with = "projects")]
    pub no_check: bool,
    /// After a failure, keep the B this run installed (to examine the failure with it).
    #[arg(long)]
    pub keep: bool,
    /// Show what each stage would do; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Print the stages and check reports as JSON.
    #[arg(long)]
    pub json: bool,
    /// Switch without asking (needed when stdin is not a terminal).
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Download site for stage 1 (as for gomig install).
    #[arg(long = "mirror", value_name = "URL")]
    pub mirrors: Vec<String>,
    /// How stage 3 runs its checks (as for gomig check).
    #[command(flatten)]
    pub run: RunArgs,
}

struct CliDriver<'a> {
    ctx: &'a Ctx,
    args: &'a Args,
    store: &'a crate::store::Store,
    line: std::sync::Mutex<Option<ProgressLine>>,
}

impl Driver for CliDriver<'_> {
    fn install(&self, spec: &str) -> anyhow::Result<(String, bool)> {
        let installer = super::source::installer(
            self.store,
            self.ctx,
            &super::source::SourceArgs {
                mirrors: self.args.mirrors.clone(),
                ..Default::default()
            },
        )?;
        let outcome = installer
            .install(spec, None)
            .map_err(|e| super::source::nothing_installed(e, self.store))?;
        Ok(match outcome {
            Installed::Installed { name, .. } => (name, true),
            Installed::AlreadyInstalled { name } => (name, false),
        })
    }

    fn confirm(&self, question: &str) -> bool {
        if self.args.yes {
            return true;
        }
        if !std::io::stdin().is_terminal() {
            return false;
        }
        eprint!("{question} [y/N] ");
        let _ = std::io::stderr().flush();
        let mut answer = String::new();
        let _ = std::io::stdin().lock().read_line(&mut answer);
        matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes")
    }

    fn stage(&self, stage: &Stage) {
        // A check that ended in an error never reached `checked`: its spinner stops here,
        // before the stage's result line, not over or after it.
        if let Some(line) = self.line.lock().unwrap_or_else(|e| e.into_inner()).take() {
            line.finish();
        }
        if self.args.json {
            return;
        }
        let paint = Paint::stdout();
        let status = match stage.status {
            Status::Ok => paint.good("ok"),
            Status::Failed => paint.bad("FAILED"),
            Status::Planned => paint.warn("plan"),
            Status::Skipped => paint.faint("skipped"),
        };
        println!("stage {}/4 {}: {status}", stage.number, stage.name);
        for line in stage.summary.lines() {
            println!("    {line}");
        }
        let _ = std::io::stdout().flush();
    }

    fn checking(&self, dir: &Path) {
        if !self.args.json {
            println!("checking {} ...", dir.display());
            let _ = std::io::stdout().flush();
        }
        let enabled = !self.ctx.quiet && std::io::stderr().is_terminal();
        *self.line.lock().unwrap_or_else(|e| e.into_inner()) =
            Some(ProgressLine::new(enabled, &format!("{}: ", dir.display())));
    }

    fn checked(&self, _dir: &Path, report: &Report) {
        if let Some(line) = self.line.lock().unwrap_or_else(|e| e.into_inner()).take() {
            line.finish();
        }
        if !self.args.json {
            println!();
            print!("{}", report.render(style()));
            println!();
        }
    }

    fn check_progress(&self, p: Progress) {
        if let Some(line) = self.line.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            line.update(p);
        }
    }
}

/// What the go shim runs in `dir` now: the baseline stage 3 checks B against there.
fn baseline(store: &crate::store::Store, dir: &Path) -> Baseline {
    let res = match lookup::resolve_in(&EnvSnapshot::capture(), dir, Tool::Go) {
        Ok(res) => res,
        Err(e) if e.kind == ErrorKind::NotInstalled => {
            return Baseline::NotInstalled {
                message: e.message.trim_end().to_string(),
                requirement: e.value,
            };
        }
        Err(e) => {
            return Baseline::Error(format!("cannot tell which Go runs here now: {}", e.message.trim_end()));
        }
    };
    let requirement = lookup::text_of(res.requirement.as_bytes());
    match side_for(store, &res) {
        Ok(side) => Baseline::Runs {
            side,
            reason: explain::reason(&res),
            requirement: (!requirement.is_empty()).then_some(requirement),
        },
        Err(e) => Baseline::Error(format!("cannot use {} here: {e:#}", explain::version_label(&res))),
    }
}

pub fn run(args: Args, ctx: &Ctx) -> Result<ExitCode> {
    let store = if args.dry_run {
        ctx.store()?
    } else {
        ctx.store_for_change()?
    };
    // B need not be installed yet (stage 1 installs it), but it is read as every command reads
    // a version; only a release can be installed, not a name given with --name.
    let installed = match lookup::toolchain_arg(&args.to, Accept::Toolchain) {
        Ok(res) => Some(lookup::text_of(res.name.as_bytes())),
        Err(ArgError::NotInstalled { request, .. }) if request.is_release() => None,
        Err(e) => return Err(anyhow::anyhow!("--to {}: {e}", args.to)),
    };
    let to = lookup::normalize(&args.to, Accept::Toolchain)?.pin();
    let cwd = lookup::current_dir().map_err(|e| anyhow::anyhow!(lookup::cwd_problem(&e)))?;
    let dirs: Vec<PathBuf> = if args.no_check {
        Vec::new()
    } else if args.projects.is_empty() {
        check::module_root(&cwd).into_iter().collect()
    } else {
        args.projects.iter().map(|p| cwd.join(p)).collect()
    };
    // Before stage 1 installs anything: what each project runs today.
    let projects = dirs
        .into_iter()
        .map(|dir| migrate::Project {
            baseline: baseline(&store, &dir),
            dir,
        })
        .collect();
    let request = migrate::Request {
        to,
        installed,
        projects,
        no_check: args.no_check,
        keep: args.keep,
        dry_run: args.dry_run,
        cross: args.run.targets()?,
        timeout: args.run.timeout.clone(),
        gocache: args.run.gocache(&store),
        trim: args.run.trim()?,
        reruns: args.run.reruns,
        mirrors: super::source::mirrors(&args.mirrors, &Config::load()?),
    };
    let driver = CliDriver {
        ctx,
        args: &args,
        store: &store,
        line: std::sync::Mutex::new(None),
    };
    let outcome = migrate::run(&store, &request, &driver)?;
    let paint = Paint::stdout();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&outcome)?);
    } else if let Some(n) = outcome.failed_stage {
        let name = outcome.stages.last().map_or("", |s| s.name);
        println!();
        println!(
            "{}; the default is still {}",
            paint.bad(&format!("migration stopped at stage {n} ({name})")),
            outcome.from
        );
        for line in &outcome.undone {
            println!("{line}");
        }
        for line in &outcome.not_undone {
            println!("{} {line}", paint.warn("warning:"));
        }
        let b = crate::store::short(&outcome.to);
        if let Some(kept) = &outcome.kept {
            println!(
                "kept {kept}, which this run installed (--keep); examine the failure with: gomig exec {b} -- go test ./... (remove it with gomig uninstall {b})"
            );
        } else if n == 3 && outcome.installed_by_run && outcome.not_undone.is_empty() {
            // A failed check is what one examines with B.
            let mirrors: String = args.mirrors.iter().map(|m| format!(" --mirror {m}")).collect();
            println!(
                "to examine the failure with {}: gomig install {b}{mirrors}, then gomig exec {b} -- go test ./... (or run gomig migrate again with --keep)",
                outcome.to
            );
        } else if n == 4 && outcome.installed_by_run && outcome.not_undone.is_empty() {
            // A later stage (the switch not confirmed) took B back too.
            let mirrors: String = args.mirrors.iter().map(|m| format!(" --mirror {m}")).collect();
            println!(
                "{} was removed again; to switch to it by hand: gomig install {b}{mirrors} && gomig switch {b}",
                outcome.to
            );
        } else if n == 3 && !outcome.installed_by_run {
            println!(
                "{} was installed before this run and stays; examine the failure with: gomig exec {b} -- go test ./...",
                outcome.to
            );
        }
    } else if outcome.dry_run {
        println!();
        println!("dry run: nothing was changed");
    } else {
        println!();
        println!(
            "{}; to undo: gomig rollback",
            paint.good(&format!("migrated {} -> {}", outcome.from, outcome.to))
        );
    }
    Ok(if outcome.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
