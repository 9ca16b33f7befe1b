//! `gomig migrate`: the seed document's four stages as one command (`docs/cli.md`, "Check and migrate").
//!
//! 1. install B beside A (if missing);
//! 2. verify A and B against their manifests (recording one that is missing);
//! 3. `gomig check` in each project: what the go shim runs there now (the resolver's pick,
//!    resolved before stage 1) against B; a project that already runs B, or whose go files
//!    need more than B, is a finding (the switch does not change what runs there), not a failure;
//! 4. switch the default to B, with `gomig rollback` ready.
//!
//! It stops at the first stage that fails, before the default changes, and says which stage
//! and why, with nothing changed: what the run added is taken back — B if this run installed
//! it (removed as `gomig uninstall` removes it, and logged) and the manifests stage 2 recorded —
//! and the output says so, with how to get B back to examine the failure (`gomig install B`,
//! then `gomig exec B -- go test ./...`). With `--keep`, a B this run installed stays.
//!
//! Stage 3 needs something to check: the projects named with `--project`, else the module or
//! workspace of the current directory. With neither, migrate refuses before stage 1 (so nothing
//! is downloaded for a migration that could not finish: "nothing to check"), unless
//! `--no-check` says to switch on stage 2's verification alone (stage 3 is then skipped, and
//! the log records that no check ran).

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::{Value, json};

use crate::check::{self, Progress, Report, Side};
use crate::integrity::manifest;
use crate::store::events::{Action, Event};
use crate::store::transaction::Gate;
use crate::store::{Store, short};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Ok,
    Failed,
    /// `--dry-run`: what it would do.
    Planned,
    /// Not run, as asked (`--no-check`).
    Skipped,
}

#[derive(Debug, Clone, Serialize)]
pub struct Stage {
    pub number: u8,
    pub name: &'static str,
    pub status: Status,
    /// One or a few lines for people.
    pub summary: String,
    pub details: Value,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProjectCheck {
    pub dir: String,
    /// The toolchain checked against: what the go shim runs in this project now.
    pub baseline: Option<String>,
    /// Why the shim runs it there (`gomig current`'s reason).
    pub baseline_reason: Option<String>,
    pub report: Option<Report>,
    /// The check could not run.
    pub error: Option<String>,
    /// Not checked, and why; it does not stop the migration, because the switch does not
    /// change what this project runs (it already runs B, or needs more than B).
    pub finding: Option<String>,
}

/// A project to check in stage 3, and what the go shim runs there now (resolved before
/// stage 1 installs anything).
#[derive(Debug, Clone)]
pub struct Project {
    pub dir: PathBuf,
    pub baseline: Baseline,
}

#[derive(Debug, Clone)]
pub enum Baseline {
    /// The shim runs `side` there; `requirement` is the minimum go.mod or go.work asks for
    /// (`go1.23.9`), if any.
    Runs {
        side: Side,
        reason: String,
        requirement: Option<String>,
    },
    /// The project asks for a toolchain that is not installed: today the shim runs nothing
    /// there. `requirement` is what it asks for (`go1.23.9`).
    NotInstalled { message: String, requirement: String },
    /// The shim cannot decide (a bad go line, an untrusted store, ...): the check cannot run.
    Error(String),
}

#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub from: String,
    pub to: String,
    pub dry_run: bool,
    pub ok: bool,
    pub failed_stage: Option<u8>,
    pub stages: Vec<Stage>,
    pub checks: Vec<ProjectCheck>,
    pub from_tree_digest: Option<String>,
    pub to_tree_digest: Option<String>,
    /// How to undo the switch (after a successful migration).
    pub rollback: Option<String>,
    /// Set when this run installed B (stage 1), rather than finding it installed.
    pub installed_by_run: bool,
    /// After a failure: what this run had added and took back, one line each.
    pub undone: Vec<String>,
    /// After a failure: what this run added and could not take back, with what to do.
    pub not_undone: Vec<String>,
    /// After a failure with `--keep`: the B this run installed, kept.
    pub kept: Option<String>,
}

/// Why the migration could not start (before any stage).
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error(
        "there is no default toolchain to migrate from; set one first (gomig switch VERSION) or compare two toolchains with gomig check"
    )]
    NoDefault,
    #[error("{0}")]
    Target(String),
    /// Checked before stage 1, so nothing is downloaded for a migration that cannot finish.
    #[error("{}", NOTHING_TO_CHECK)]
    NothingToCheck,
}

/// What the command layer provides: installing, asking, showing progress.
pub trait Driver: Sync {
    /// Installs `spec` and returns the toolchain name, and whether this call installed it
    /// (`false`: it was there already).
    fn install(&self, spec: &str) -> anyhow::Result<(String, bool)>;
    /// Asks before the switch (`--yes` answers for the user).
    fn confirm(&self, question: &str) -> bool;
    /// A stage finished (or was planned).
    fn stage(&self, stage: &Stage);
    /// A project's check is about to start / finished.
    fn checking(&self, dir: &Path);
    fn checked(&self, dir: &Path, report: &Report);
    fn check_progress(&self, p: Progress);
}

pub struct Request {
    /// The version asked for (`1.23.9`, `1.23`, `latest`).
    pub to: String,
    /// Where B is when it is already installed (from the resolver), else None.
    pub installed: Option<String>,
    pub projects: Vec<Project>,
    /// `--no-check`: skip stage 3 and switch on verification alone.
    pub no_check: bool,
    /// `--keep`: a B this run installed stays after a failure.
    pub keep: bool,
    pub dry_run: bool,
    /// Check settings.
    pub cross: Vec<String>,
    pub timeout: Option<String>,
    pub gocache: PathBuf,
    /// How the check cache is trimmed after each check (`None`: not gomig's own).
    pub trim: Option<check::cache::Limits>,
    /// Reruns of a test that failed with B only (`check --reruns`).
    pub reruns: usize,
    /// Mirrors, for the plan's wording.
    pub mirrors: Vec<String>,
}

struct Run<'a> {
    store: &'a Store,
    driver: &'a dyn Driver,
    outcome: Outcome,
    /// Manifests stage 2 recorded (toolchain names), taken back after a failure.
    recorded: Vec<String>,
    /// `--keep`: a B this run installed is not taken back.
    keep: bool,
}

impl Run<'_> {
    fn push(&mut self, number: u8, name: &'static str, status: Status, summary: String, details: Value) -> bool {
        let stage = Stage {
            number,
            name,
            status,
            summary,
            details,
        };
        self.driver.stage(&stage);
        let failed = status == Status::Failed;
        if failed {
            self.outcome.ok = false;
            self.outcome.failed_stage = Some(number);
        }
        self.outcome.stages.push(stage);
        !failed
    }
}

/// Stage 2's environment comparison: the keys of `go env` (the fingerprint's) that differ
/// between A and B, so the user sees e.g. a GOAMD64 or GOTOOLCHAIN change before the switch.
/// `None` if either environment could not be read (stage 2's tree checks still decide).
pub fn stage2_env_diff(store: &Store, from: &str, to: &str) -> Option<Value> {
    let print = |name: &str| {
        let toolchain = store.toolchain(name).ok()?;
        crate::integrity::fingerprint::of_toolchain(toolchain.root(), Some(name)).ok()
    };
    let (a, b) = (print(from)?, print(to)?);
    serde_json::to_value(crate::integrity::fingerprint::diff(&a, &b)).ok()
}

/// Stage 4's "controlled cleanup": what to tell the user about the old toolchain. Migrate never
/// deletes A (it is the rollback target); `gomig prune` archives and removes old ones later.
pub fn stage4_cleanup_hint(from: &str) -> String {
    format!(
        "{from} stays installed as the rollback target; remove old toolchains later with gomig prune (or gomig uninstall {})",
        short(from)
    )
}

fn verify_one(store: &Store, name: &str, dry_run: bool) -> Result<(String, Value), String> {
    let toolchain = store.toolchain(name).map_err(|e| e.to_string())?;
    let path = store.manifest_path(name);
    if !path.is_file() {
        if dry_run {
            return Ok((
                format!("{name}: would record a manifest (none yet)"),
                json!({"version": name, "manifest": "missing"}),
            ));
        }
        let snap =
            crate::integrity::snapshot::snapshot(store, name, false, Some("migrate")).map_err(|e| e.to_string())?;
        let m = snap.manifest;
        return Ok((
            format!(
                "{name}: no manifest existed; recorded one, tree digest {}",
                m.tree_digest()
            ),
            json!({"version": name, "manifest": "recorded", "tree_digest": m.tree_digest()}),
        ));
    }
    if dry_run {
        return Ok((
            format!("{name}: would verify against {}", path.display()),
            json!({"version": name, "manifest": "present"}),
        ));
    }
    let report = store.verify(&toolchain).map_err(|e| e.to_string())?;
    if !report.ok() {
        return Err(format!(
            "{name} does not match its manifest ({} difference(s)):\n{}\nexamine it with gomig verify {name}; reinstall it if it was damaged",
            report.differences.len(),
            report.first_differences(10)
        ));
    }
    Ok((
        format!(
            "{name}: ok ({} files, tree digest {})",
            report.files_hashed, report.tree_digest
        ),
        json!({"version": name, "manifest": "verified", "tree_digest": report.tree_digest}),
    ))
}

fn side(store: &Store, name: &str) -> Result<Side, String> {
    let t = store.toolchain(name).map_err(|e| e.to_string())?;
    let recorded = manifest::Manifest::load(&store.manifest_path(name)).ok();
    Ok(Side::new(name, t.root(), recorded.as_ref().map(|m| &m.header)))
}

pub fn run(store: &Store, req: &Request, driver: &dyn Driver) -> Result<Outcome, MigrateError> {
    let from = store
        .default_name()
        .map_err(|e| MigrateError::Target(e.to_string()))?
        .ok_or(MigrateError::NoDefault)?;
    let mut run = Run {
        store,
        driver,
        outcome: Outcome {
            from: from.clone(),
            to: req
                .installed
                .clone()
                .unwrap_or_else(|| format!("go{}", req.to.trim_start_matches("go"))),
            dry_run: req.dry_run,
            ok: true,
            failed_stage: None,
            stages: Vec::new(),
            checks: Vec::new(),
            from_tree_digest: None,
            to_tree_digest: None,
            rollback: None,
            installed_by_run: false,
            undone: Vec::new(),
            not_undone: Vec::new(),
            kept: None,
        },
        recorded: Vec::new(),
        keep: req.keep,
    };
    if req.installed.as_deref() == Some(from.as_str()) {
        return Err(MigrateError::Target(format!(
            "{from} is already the default: nothing to migrate"
        )));
    }
    if req.projects.is_empty() && !req.no_check {
        return Err(MigrateError::NothingToCheck);
    }
    stages(&mut run, req, &from);
    if !req.dry_run && run.outcome.failed_stage.is_some() {
        undo(&mut run);
    }
    if !req.dry_run {
        let projects: Vec<Value> = run
            .outcome
            .checks
            .iter()
            .map(|c| {
                json!({
                    "dir": c.dir,
                    "baseline": c.baseline,
                    "regressions": c.report.as_ref().map(|r| r.totals.regressions),
                    "totals": c.report.as_ref().map(|r| &r.totals),
                    "error": c.error,
                    "finding": c.finding,
                })
            })
            .collect();
        let failed = run.outcome.failed_stage.map(|n| {
            let s = &run.outcome.stages[run.outcome.stages.len() - 1];
            format!("stage {n} ({}) failed: {}", s.name, s.summary)
        });
        let _ = Event::new(Action::Migrate)
            .field("from", from.clone())
            .field("to", run.outcome.to.clone())
            .field("from_tree_digest", run.outcome.from_tree_digest.clone())
            .field("to_tree_digest", run.outcome.to_tree_digest.clone())
            .field("failed_stage", run.outcome.failed_stage)
            .field("projects", Value::Array(projects))
            .field("no_check", req.no_check)
            .field("installed_by_run", run.outcome.installed_by_run)
            .field("undone", run.outcome.undone.clone())
            .field("not_undone", run.outcome.not_undone.clone())
            .field("kept", run.outcome.kept.clone())
            .result(match &failed {
                Some(msg) => Err(msg.as_str()),
                None => Ok(()),
            })
            .append(store);
    }
    Ok(run.outcome)
}

/// The four stages in order, each run only if the one before passed.
fn stages(run: &mut Run, req: &Request, from: &str) {
    let Some(to) = install_stage(run, req, from) else {
        return;
    };
    if !verify_stage(run, req.dry_run, from, &to) {
        return;
    }
    if !check_stage(run, req, from, &to) {
        return;
    }
    switch_stage(run, req.dry_run, from, &to);
}

/// Stage 1: install B beside A. Returns B's name (empty in a dry run that would install it),
/// or `None` if the stage failed.
fn install_stage(run: &mut Run, req: &Request, from: &str) -> Option<String> {
    match &req.installed {
        Some(name) => {
            let root = run.store.toolchain_path(name);
            run.push(
                1,
                "install",
                Status::Ok,
                format!("{name} is already installed ({})", root.display()),
                json!({"version": name, "installed": false}),
            );
            Some(name.clone())
        }
        None if req.dry_run => {
            run.push(
                1,
                "install",
                Status::Planned,
                format!("would install {} from {}", req.to, req.mirrors.join(", ")),
                json!({"version": req.to, "installed": false}),
            );
            Some(String::new())
        }
        None => match run.driver.install(&req.to) {
            Ok((name, installed)) => {
                run.outcome.to = name.clone();
                run.outcome.installed_by_run = installed;
                run.push(
                    1,
                    "install",
                    Status::Ok,
                    if installed {
                        format!("installed {name} beside {from}")
                    } else {
                        format!("{name} is already installed")
                    },
                    json!({"version": name, "installed": installed}),
                );
                Some(name)
            }
            Err(e) => {
                run.push(
                    1,
                    "install",
                    Status::Failed,
                    format!("cannot install {}: {e:#}", req.to),
                    json!({"version": req.to}),
                );
                None
            }
        },
    }
}

/// Stage 2: both trees are what was recorded, and the `go env` differences are shown.
/// Returns whether the migration goes on.
fn verify_stage(run: &mut Run, dry: bool, from: &str, to: &str) -> bool {
    let mut lines = Vec::new();
    let mut details = Vec::new();
    for name in [from, to] {
        if name.is_empty() {
            lines.push(format!("{}: would verify after installing", run.outcome.to));
            continue;
        }
        match verify_one(run.store, name, dry) {
            Ok((line, d)) => {
                if d["manifest"] == "recorded" {
                    run.recorded.push(name.to_string());
                }
                let digest = d["tree_digest"].as_str().map(str::to_string);
                if name == from {
                    run.outcome.from_tree_digest = digest;
                } else {
                    run.outcome.to_tree_digest = digest;
                }
                lines.push(line);
                details.push(d);
            }
            Err(e) => {
                run.push(2, "verify", Status::Failed, e, Value::Array(details));
                return false;
            }
        }
    }
    let env_diff = if to.is_empty() {
        None
    } else {
        stage2_env_diff(run.store, from, to)
    };
    lines.extend(env_diff_lines(env_diff.as_ref()));
    run.push(
        2,
        "verify",
        if dry { Status::Planned } else { Status::Ok },
        lines.join("\n"),
        json!({"toolchains": details, "env_diff": env_diff}),
    )
}

/// `go env KEY: A -> B`, one line per key of [`stage2_env_diff`].
fn env_diff_lines(env_diff: Option<&Value>) -> Vec<String> {
    let show = |v: &Value| v.as_str().map_or("(unset)".to_string(), str::to_string);
    env_diff
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|d| format!("go env {}: {} -> {}", show(&d["key"]), show(&d["a"]), show(&d["b"])))
        .collect()
}

/// Stage 3: the projects, A against B (skipped with `--no-check`, planned in a dry run).
/// Returns whether the migration goes on.
fn check_stage(run: &mut Run, req: &Request, from: &str, to: &str) -> bool {
    let projects = &req.projects;
    if req.no_check {
        run.push(
            3,
            "check",
            Status::Skipped,
            format!(
                "skipped (--no-check): no project checked; the switch rests on stage 2's verification of {from} and {} alone",
                run.outcome.to
            ),
            json!({"projects": [], "no_check": true}),
        )
    } else if req.dry_run {
        let names: Vec<String> = projects.iter().map(|p| p.dir.display().to_string()).collect();
        let mut lines = vec![format!(
            "would run go vet and go test in each project with what the go shim runs there now and with {}, probe the runtime, cross-compile:",
            run.outcome.to
        )];
        for p in projects {
            lines.push(match &p.baseline {
                Baseline::Runs { side, reason, .. } => {
                    format!(
                        "{}: {} ({reason}) against {}",
                        p.dir.display(),
                        side.label,
                        run.outcome.to
                    )
                }
                Baseline::NotInstalled { message, .. } | Baseline::Error(message) => {
                    format!("{}: {message}", p.dir.display())
                }
            });
        }
        run.push(
            3,
            "check",
            Status::Planned,
            lines.join("\n"),
            json!({"projects": names}),
        )
    } else {
        let Ok(side_b) = side(run.store, to) else {
            run.push(
                3,
                "check",
                Status::Failed,
                format!("cannot find {to} in the store"),
                Value::Null,
            );
            return false;
        };
        let failures = check_projects(run, req, &side_b, to);
        let findings: Vec<String> = run
            .outcome
            .checks
            .iter()
            .filter_map(|c| c.finding.as_ref().map(|f| format!("{}: not checked: {f}", c.dir)))
            .collect();
        let checked = run.outcome.checks.iter().filter(|c| c.report.is_some()).count();
        let ok = failures.is_empty();
        let summary = if !ok {
            failures.into_iter().chain(findings).collect::<Vec<_>>().join("\n")
        } else {
            std::iter::once(format!("no regressions in {checked} project(s)"))
                .chain(findings)
                .collect::<Vec<_>>()
                .join("\n")
        };
        let status = if ok { Status::Ok } else { Status::Failed };
        let dirs: Vec<String> = run.outcome.checks.iter().map(|c| c.dir.clone()).collect();
        run.push(3, "check", status, summary, json!({"projects": dirs}))
    }
}

/// Checks each project in turn against what the go shim runs there now, keeping every result
/// in the outcome; returns one line per project that regressed or could not be checked.
fn check_projects(run: &mut Run, req: &Request, side_b: &Side, to: &str) -> Vec<String> {
    let mut failures = Vec::new();
    for project in &req.projects {
        let result = check_project(req, project, side_b, run.driver);
        if let Some(r) = &result.report {
            run.driver.checked(&project.dir, r);
            if !r.ok {
                failures.push(format!(
                    "{}: {} regression(s) from {} to {to}",
                    result.dir,
                    r.totals.regressions,
                    result.baseline.as_deref().unwrap_or("?")
                ));
            }
        }
        if let Some(e) = &result.error {
            failures.push(format!("{}: the check could not run: {e}", result.dir));
        }
        run.outcome.checks.push(result);
    }
    failures
}

/// Stage 4: the switch, with the rollback ready (after the user confirms).
fn switch_stage(run: &mut Run, dry: bool, from: &str, to: &str) {
    let b = if to.is_empty() {
        run.outcome.to.clone()
    } else {
        to.to_string()
    };
    if dry {
        run.push(
            4,
            "switch",
            Status::Planned,
            format!("would switch the default {from} -> {b}; to undo: gomig rollback"),
            json!({"from": from, "to": b}),
        );
        return;
    }
    if !run.driver.confirm(&format!("switch the default from {from} to {b}?")) {
        run.push(
            4,
            "switch",
            Status::Failed,
            format!("not confirmed: the default stays {from} (pass --yes to switch without asking)"),
            json!({"from": from, "to": b}),
        );
        return;
    }
    // The store's gate verifies B again under the store lock: it must still be what stage 2
    // verified when it becomes the default.
    let switched = run
        .store
        .transaction()
        .and_then(|mut txn| txn.switch(&b, Gate::Verify, Some("migrate")));
    match switched {
        Ok(switched) => {
            run.outcome.rollback = Some("gomig rollback".into());
            let mut text = format!(
                "default: {from} -> {b}\nto undo: gomig rollback\n{}",
                stage4_cleanup_hint(from)
            );
            for w in &switched.warnings {
                text.push('\n');
                text.push_str(w);
            }
            run.push(
                4,
                "switch",
                Status::Ok,
                text,
                json!({"from": from, "to": b, "rollback": "gomig rollback"}),
            );
        }
        Err(e) => {
            run.push(
                4,
                "switch",
                Status::Failed,
                format!("refusing to switch: {e}"),
                Value::Null,
            );
        }
    }
}

/// Why migrate refuses to start when there is nothing to check.
pub const NOTHING_TO_CHECK: &str = "nothing to check: run gomig migrate in a module, name projects with --project DIR, or pass --no-check to switch on verification alone";

/// After a failed stage: takes back what this run added, so the store is as it was. B goes the
/// way `gomig uninstall` removes it (logged, `by: migrate`); manifests stage 2 recorded are
/// deleted (the trees they describe stay as they were).
fn undo(run: &mut Run) {
    let b = run.outcome.to.clone();
    let keep = run.outcome.installed_by_run && run.keep;
    if keep {
        run.outcome.kept = Some(b.clone());
    } else if run.outcome.installed_by_run {
        match crate::install::uninstall(run.store, &b, false, Some("migrate")) {
            Ok(_) => run
                .outcome
                .undone
                .push(format!("uninstalled {b}, which this run installed")),
            Err(e) => run.outcome.not_undone.push(format!(
                "{b}, which this run installed, could not be removed: {e:#}; remove it with gomig uninstall {}",
                short(&b)
            )),
        }
    }
    for name in std::mem::take(&mut run.recorded) {
        if run.outcome.installed_by_run && name == b {
            continue; // went with the toolchain, or stays with it (--keep)
        }
        let path = run.store.manifest_path(&name);
        match std::fs::remove_file(&path) {
            Ok(()) => run.outcome.undone.push(format!(
                "removed the manifest of {name} this run recorded ({})",
                path.display()
            )),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => run.outcome.not_undone.push(format!(
                "the manifest of {name} this run recorded could not be removed: {e}; delete {}",
                path.display()
            )),
        }
    }
}

/// Why `b` is not checked in a project whose go files ask for `requirement`: the shim would
/// not run it there after the switch (it runs the default only if that meets the requirement).
fn needs_more_than(requirement: Option<&str>, b: &Side) -> Option<String> {
    let req = requirement?;
    let older = crate::resolve::version::compare_loose(b.expected_version.as_bytes(), req.as_bytes()).is_lt();
    older.then(|| {
        format!(
            "its go files require {req}, more than {} ({}): the go shim will not run {} here after the switch either",
            b.label, b.expected_version, b.label
        )
    })
}

fn check_project(req: &Request, project: &Project, b: &Side, driver: &dyn Driver) -> ProjectCheck {
    let dir = &project.dir;
    let mut result = ProjectCheck {
        dir: dir.display().to_string(),
        baseline: None,
        baseline_reason: None,
        report: None,
        error: None,
        finding: None,
    };
    let Some(root) = check::module_root(dir) else {
        result.error = Some(format!("{} is not inside a Go module or workspace", dir.display()));
        return result;
    };
    result.dir = root.display().to_string();
    let a = match &project.baseline {
        Baseline::Runs {
            side,
            reason,
            requirement,
        } => {
            result.baseline = Some(side.label.clone());
            result.baseline_reason = Some(reason.clone());
            if let Some(why) = needs_more_than(requirement.as_deref(), b) {
                result.finding = Some(why);
                return result;
            }
            if side.goroot == b.goroot {
                result.finding = Some(format!(
                    "it runs {} already ({reason}): nothing to compare, and the switch does not change what runs here",
                    b.label
                ));
                return result;
            }
            side
        }
        Baseline::NotInstalled { message, requirement } => {
            result.finding = Some(match needs_more_than(Some(requirement), b) {
                Some(why) => format!("{why}; today the go shim runs nothing here: {message}"),
                None => format!(
                    "today the go shim runs nothing here, so there is nothing to compare {} against: {message}",
                    b.label
                ),
            });
            return result;
        }
        Baseline::Error(message) => {
            result.error = Some(message.clone());
            return result;
        }
    };
    driver.checking(&root);
    let opts = check::Options {
        dir: root.clone(),
        from: a.clone(),
        to: b.clone(),
        packages: Vec::new(),
        cross: req.cross.clone(),
        timeout: req.timeout.clone(),
        gocache: req.gocache.clone(),
        trim: req.trim,
        reruns: req.reruns,
    };
    match check::run(&opts, &|p| driver.check_progress(p)) {
        Ok(report) => result.report = Some(report),
        Err(e) => result.error = Some(e.to_string()),
    }
    result
}
