//! `gomig check`: stage 3 of a migration. Runs `go vet` and `go test -json` with the current
//! toolchain (A) and the new one (B) side by side in a sandbox, compares them per package and
//! per test, probes B's runtime, and cross-compiles with B. See `docs/cli.md`, "Check and migrate".
//!
//! The two toolchains run concurrently where that is safe: their test binaries never run at the
//! same time (tests may share their package directory, ports or other machine state), but while
//! A runs `go test`, B runs `go vet` (compiling what its tests need) and the runtime probe, and
//! while B runs `go test`, A runs `go vet`; the cross builds go to whichever is free.

pub mod cache;
pub mod compare;
pub mod guard;
mod kept;
pub mod probe;
pub mod project;
pub mod report;
pub mod rerun;
pub mod sandbox;
pub mod test2json;
pub mod vet;

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

pub use compare::{Kind, Regression};
pub use report::Report;
pub use sandbox::Side;

use compare::Kind as K;
use sandbox::{Sandbox, stream};
use test2json::{Parser, Seen, TestRun};
use vet::VetRun;

/// The default cross-compile matrix.
pub const DEFAULT_CROSS: &[&str] = &["linux/amd64", "linux/arm64", "darwin/arm64", "windows/amd64"];

/// Why a check could not run (exit status 2), as opposed to finding regressions (1).
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error(
        "{dir} is not inside a Go module or workspace (no go.mod or go.work here or above); cd into the module (the directory with its go.mod or go.work), then run: gomig check --to VERSION"
    )]
    NotInModule { dir: String },
    #[error("{what}: {source}")]
    Setup { what: String, source: std::io::Error },
    #[error("cannot run {what}: {source}")]
    Spawn { what: String, source: std::io::Error },
    #[error("nothing to compare: --from and --to are both {label}")]
    SameToolchain { label: String },
    #[error("{target:?} is not a cross-compile target: write os/arch, e.g. linux/arm64")]
    BadTarget { target: String },
    #[error(
        "{target:?} is not a cross-compile target: Go has no {kind} {value:?} (go tool dist list names them; known: {known})"
    )]
    UnknownTarget {
        target: String,
        kind: &'static str,
        value: String,
        known: String,
    },
    #[error("the baseline does not run: {step} with {label} failed before testing anything:\n{output}")]
    Baseline {
        label: String,
        step: String,
        output: String,
    },
}

#[derive(Clone)]
pub struct Options {
    /// The module or workspace directory (commands run here).
    pub dir: PathBuf,
    pub from: Side,
    pub to: Side,
    /// Package patterns (`./...` when empty).
    pub packages: Vec<String>,
    /// `os/arch` targets for B's cross builds.
    pub cross: Vec<String>,
    /// `go test -timeout`.
    pub timeout: Option<String>,
    pub gocache: PathBuf,
    /// Trim `gocache` to these limits after the check (gomig's own cache; `None` for one the
    /// user named).
    pub trim: Option<cache::Limits>,
    /// How many more times a test that passed with A and failed with B runs with each (0: not
    /// rerun; see rerun.rs).
    pub reruns: usize,
}

/// Progress, for a terminal display.
#[derive(Debug, Clone)]
pub enum Progress {
    Step { side: String, step: &'static str },
    PackageDone { side: String, package: String, ok: bool },
    CrossDone { target: String, ok: bool },
}

/// The module or workspace holding `dir`, as the go command finds it.
pub fn module_root(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .find(|d| d.join("go.work").is_file() || d.join("go.mod").is_file())
        .map(Path::to_path_buf)
}

/// In a workspace root that is not itself a module, `./...` matches nothing ("directory prefix
/// . does not contain modules listed in go.work"): the default there is each module the
/// workspace uses (`./a/...`, `./b/...`), as A's `go work edit -json` reads go.work. `None`
/// where `./...` is right, or when go.work cannot be read (go test then says why).
fn workspace_patterns(sandbox: &Sandbox, opts: &Options) -> Option<Vec<String>> {
    if !opts.packages.is_empty() || !opts.dir.join("go.work").is_file() || opts.dir.join("go.mod").is_file() {
        return None;
    }
    // With A, else with B: a go.work whose go line is newer than A is read by B only.
    let out = [&opts.from, &opts.to].into_iter().find_map(|side| {
        let mut cmd = sandbox.go(side, &opts.dir, &["work", "edit", "-json"]);
        cmd.env_remove("GOWORK");
        cmd.output().ok().filter(|o| o.status.success())
    })?;
    let work: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    let patterns: Vec<String> = work["Use"]
        .as_array()?
        .iter()
        .filter_map(|u| u["DiskPath"].as_str())
        .map(|p| {
            let p = p.trim_end_matches('/');
            if p == "." {
                "./...".to_string()
            } else if p.starts_with('/') || p.starts_with("./") || p.starts_with("../") {
                format!("{p}/...")
            } else {
                format!("./{p}/...")
            }
        })
        .collect();
    (!patterns.is_empty()).then_some(patterns)
}

/// Every GOOS and GOARCH of `go tool dist list` (Go 1.19 to 1.25, with the retired nacl), so a
/// typo (`--cross bogus/x`) is a usage error, not a cross build that fails later.
const KNOWN_GOOS: &[&str] = &[
    "aix",
    "android",
    "darwin",
    "dragonfly",
    "freebsd",
    "illumos",
    "ios",
    "js",
    "linux",
    "nacl",
    "netbsd",
    "openbsd",
    "plan9",
    "solaris",
    "wasip1",
    "windows",
    "zos",
    "hurd",
];
const KNOWN_GOARCH: &[&str] = &[
    "386", "amd64", "arm", "arm64", "loong64", "mips", "mips64", "mips64le", "mipsle", "ppc64", "ppc64le", "riscv64",
    "s390x", "wasm", "sparc64", "amd64p32",
];

pub fn parse_targets(list: &[String]) -> Result<Vec<String>, CheckError> {
    let mut out = Vec::new();
    for item in list
        .iter()
        .flat_map(|s| s.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        if item == "none" {
            continue;
        }
        let ok = item.split_once('/').is_some_and(|(os, arch)| {
            let word = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
            word(os) && word(arch)
        });
        if !ok {
            return Err(CheckError::BadTarget { target: item.into() });
        }
        let (os, arch) = item.split_once('/').unwrap_or_default();
        for (kind, value, known) in [("GOOS", os, KNOWN_GOOS), ("GOARCH", arch, KNOWN_GOARCH)] {
            if !known.contains(&value) {
                return Err(CheckError::UnknownTarget {
                    target: item.into(),
                    kind,
                    value: value.into(),
                    known: known.join(" "),
                });
            }
        }
        if !out.iter().any(|t| t == item) {
            out.push(item.to_string());
        }
    }
    Ok(out)
}

/// One toolchain's `go test` and `go vet`.
struct SideRun {
    test: TestRun,
    vet: VetRun,
}

enum Extra {
    Probe,
    Cross(String),
}

enum ExtraResult {
    Probe(probe::ProbeResult),
    Cross(String, Result<(), Vec<String>>),
}

pub(crate) fn patterns(opts: &Options) -> Vec<&str> {
    if opts.packages.is_empty() {
        vec!["./..."]
    } else {
        opts.packages.iter().map(String::as_str).collect()
    }
}

fn run_tests(
    sandbox: &Sandbox,
    opts: &Options,
    side: &Side,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<TestRun, CheckError> {
    progress(Progress::Step {
        side: side.label.clone(),
        step: "go test",
    });
    // -vet=off: gomig runs the whole of go vet itself and compares it; go test's own vet subset
    // would turn a new finding into a build failure and report it twice.
    let mut args = vec!["test", "-count=1", "-json", "-vet=off"];
    let timeout;
    if let Some(t) = &opts.timeout {
        timeout = format!("-timeout={t}");
        args.push(&timeout);
    }
    args.extend(patterns(opts));
    let feed = |parser: &mut Parser, line: &str| {
        if let Seen::PackageDone { package, ok } = parser.line(line) {
            progress(Progress::PackageDone {
                side: side.label.clone(),
                package,
                ok,
            });
        }
    };
    // The same events from the test binaries kept since the last check, where that is sure to
    // be the same (kept.rs); else go test itself.
    let mut parser = Parser::default();
    if let Some(passed) = kept::run(sandbox, opts, side, &mut |line| feed(&mut parser, line)) {
        return Ok(parser.finish("", passed));
    }
    let mut parser = Parser::default();
    let cmd = sandbox.go(side, &opts.dir, &args);
    let finished = stream(cmd, &format!("go test with {}", side.label), |line| {
        feed(&mut parser, line)
    })?;
    Ok(parser.finish(&finished.stderr, finished.status.success()))
}

fn run_vet(
    sandbox: &Sandbox,
    opts: &Options,
    side: &Side,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<VetRun, CheckError> {
    progress(Progress::Step {
        side: side.label.clone(),
        step: "go vet",
    });
    let mut args = vec!["vet", "-json"];
    args.extend(patterns(opts));
    let cmd = sandbox.go(side, &opts.dir, &args);
    let finished = stream(cmd, &format!("go vet with {}", side.label), |_| {})?;
    Ok(vet::parse(&finished.stderr, finished.status.success(), &opts.dir))
}

/// `CGO_ENABLED=0 GOOS=os GOARCH=arch go build -o /dev/null PACKAGES` with `side`.
fn cross_build(
    sandbox: &Sandbox,
    opts: &Options,
    side: &Side,
    target: &str,
) -> Result<Result<(), Vec<String>>, CheckError> {
    let (os, arch) = target.split_once('/').unwrap_or((target, ""));
    let mut args = vec!["build", "-o", "/dev/null"];
    args.extend(patterns(opts));
    let mut cmd = sandbox.go(side, &opts.dir, &args);
    cmd.env("CGO_ENABLED", "0").env("GOOS", os).env("GOARCH", arch);
    let finished = stream(cmd, &format!("go build for {target} with {}", side.label), |_| {})?;
    if finished.status.success() {
        return Ok(Ok(()));
    }
    let lines: Vec<String> = finished
        .stderr
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(test2json::KEEP_LINES)
        .map(str::to_string)
        .collect();
    Ok(Err(lines))
}

fn run_extra(
    sandbox: &Sandbox,
    opts: &Options,
    extra: Extra,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<ExtraResult, CheckError> {
    Ok(match extra {
        Extra::Probe => {
            progress(Progress::Step {
                side: opts.to.label.clone(),
                step: "runtime probe",
            });
            ExtraResult::Probe(probe::run(sandbox, &opts.to, &opts.dir))
        }
        Extra::Cross(target) => {
            let result = cross_build(sandbox, opts, &opts.to, &target)?;
            progress(Progress::CrossDone {
                target: target.clone(),
                ok: result.is_ok(),
            });
            ExtraResult::Cross(target, result)
        }
    })
}

/// Runs the whole check. `Err` means it could not run (exit 2); regressions are in the report.
/// The project's files are left as they were (project.rs); the cache is trimmed afterwards.
pub fn run(opts: &Options, progress: &(dyn Fn(Progress) + Sync)) -> Result<Report, CheckError> {
    if opts.from.goroot == opts.to.goroot {
        return Err(CheckError::SameToolchain {
            label: opts.to.label.clone(),
        });
    }
    let result = {
        let mut sandbox = Sandbox::new(&opts.gocache)?;
        let module_dirs = |opts: &Options| -> Vec<PathBuf> {
            std::iter::once(opts.dir.clone())
                .chain(opts.packages.iter().filter_map(|p| {
                    let base = p.strip_suffix("/...").unwrap_or(p);
                    (base.starts_with("./") || base.starts_with("../") || base.starts_with('/'))
                        .then(|| opts.dir.join(base))
                }))
                .collect()
        };
        let mut snapshot = project::Snapshot::take(&module_dirs(opts));
        let in_workspace;
        let opts = match workspace_patterns(&sandbox, opts) {
            Some(packages) => {
                in_workspace = Options {
                    packages,
                    ..opts.clone()
                };
                &in_workspace
            }
            None => opts,
        };
        // Each module the workspace uses, too.
        snapshot = project::Snapshot::take(&module_dirs(opts)).merged_into(snapshot);
        let modfiles = if !project::workspace_mode(&opts.dir) && opts.dir.join("go.mod").is_file() {
            let made = project::Modfiles::prepare(sandbox.tmp.path(), &opts.dir, &[&opts.from, &opts.to]);
            let modfiles = made.map_err(|source| CheckError::Setup {
                what: format!(
                    "cannot copy {} into the sandbox {}",
                    opts.dir.join("go.mod").display(),
                    sandbox.tmp.path().display()
                ),
                source,
            })?;
            sandbox.use_modfiles(&opts.dir, modfiles.flags());
            Some(modfiles)
        } else {
            None
        };
        let result = run_in(&sandbox, opts, progress);
        let (mut changes, failed) = snapshot.restore();
        let wanted = modfiles.map(|m| m.wanted()).unwrap_or_default();
        changes.splice(0..0, wanted);
        result.and_then(|mut report| {
            if let Some(first) = failed.into_iter().next() {
                return Err(CheckError::Setup {
                    what: first,
                    source: std::io::Error::other("the project's files changed"),
                });
            }
            report.project_changes = changes;
            Ok(report)
        })
    };
    // After the sandbox (and its hold on the cache) is gone.
    if let Some(limits) = opts.trim {
        let _ = cache::trim(&opts.gocache, limits);
    }
    result
}

/// The check itself, in `sandbox`, with the workspace's patterns already in `opts`.
fn run_in(sandbox: &Sandbox, opts: &Options, progress: &(dyn Fn(Progress) + Sync)) -> Result<Report, CheckError> {
    let started = Instant::now();
    let mut queue: VecDeque<Extra> = opts.cross.iter().cloned().map(Extra::Cross).collect();
    queue.push_back(Extra::Probe);
    let queue = Mutex::new(queue);
    let take = || queue.lock().unwrap_or_else(|e| e.into_inner()).pop_front();
    // B's worker takes the probe first (from the back), then helps with cross builds.
    let take_back = || queue.lock().unwrap_or_else(|e| e.into_inner()).pop_back();

    let extras_from = |take: &dyn Fn() -> Option<Extra>| -> Result<Vec<ExtraResult>, CheckError> {
        let mut done = Vec::new();
        while let Some(extra) = take() {
            done.push(run_extra(sandbox, opts, extra, progress)?);
        }
        Ok(done)
    };
    // A's test binaries and B's never run at the same time: tests may share their package
    // directory, fixed ports or other machine state, and two copies of one test running at once
    // would fail for reasons neither Go release has. Everything else overlaps: while A tests, B
    // vets (compiling B's packages for its tests) and runs its probe; while B tests, A vets and
    // both take the cross builds.
    let (a_tests_done, wait_for_a_tests) = std::sync::mpsc::channel::<bool>();
    let (extras_from, take) = (&extras_from, &take);
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(move || -> Result<(SideRun, Vec<ExtraResult>), CheckError> {
            let test = run_tests(sandbox, opts, &opts.from, progress);
            let _ = a_tests_done.send(test.is_ok());
            let test = test?;
            let vet = run_vet(sandbox, opts, &opts.from, progress)?;
            Ok((SideRun { test, vet }, extras_from(take)?))
        });
        let b = (|| -> Result<(SideRun, Vec<ExtraResult>), CheckError> {
            let vet = run_vet(sandbox, opts, &opts.to, progress)?;
            let mut extras = match take_back() {
                Some(probe) => vec![run_extra(sandbox, opts, probe, progress)?],
                None => Vec::new(),
            };
            // Once A's tests ended. If they could not run, the check cannot either (A's error is
            // the one reported): B's tests would be wasted.
            if wait_for_a_tests.recv() != Ok(true) {
                return Err(CheckError::Setup {
                    what: format!("skipped {}'s tests: {}'s could not run", opts.to.label, opts.from.label),
                    source: std::io::Error::other("the baseline could not run"),
                });
            }
            let test = run_tests(sandbox, opts, &opts.to, progress)?;
            extras.extend(extras_from(take)?);
            Ok((SideRun { test, vet }, extras))
        })();
        (a.join().unwrap_or_else(|p| std::panic::resume_unwind(p)), b)
    });
    let (a, mut extras) = a?;
    let (b, more) = b?;
    extras.extend(more);

    for (step, err) in [("go test", &a.test.load_error), ("go vet", &a.vet.load_error)] {
        if let Some(output) = err {
            return Err(CheckError::Baseline {
                label: opts.from.label.clone(),
                step: step.into(),
                output: output.clone(),
            });
        }
    }

    let mut cmp = compare::compare(&opts.from.label, &opts.to.label, (&a.test, &a.vet), (&b.test, &b.vet));
    let rerun_started = Instant::now();
    let flaky = rerun::rerun(sandbox, opts, &a.test, &mut cmp.regressions, progress)?;
    let rerun_seconds = rerun_started.elapsed().as_secs_f64();
    for (step, err) in [("go test", &b.test.load_error), ("go vet", &b.vet.load_error)] {
        if let Some(output) = err {
            cmp.regressions.insert(
                0,
                Regression {
                    kind: K::LoadFailed,
                    package: String::new(),
                    test: None,
                    analyzer: None,
                    position: None,
                    target: None,
                    message: format!("{step} runs with {}, fails with {}", opts.from.label, opts.to.label),
                    output: output.lines().map(str::to_string).collect(),
                    runs: None,
                },
            );
        }
    }

    let mut probe_result = None;
    let mut cross = Vec::new();
    for extra in extras {
        match extra {
            ExtraResult::Probe(p) => probe_result = Some(p),
            ExtraResult::Cross(target, result) => {
                // A target that fails with B is a regression only if A builds it.
                let (ok_with_from, from_output) = match &result {
                    Ok(()) => (None, Vec::new()),
                    Err(_) => match cross_build(sandbox, opts, &opts.from, &target)? {
                        Ok(()) => (Some(true), Vec::new()),
                        Err(lines) => (Some(false), lines),
                    },
                };
                cross.push(report::CrossResult {
                    target,
                    ok: result.is_ok(),
                    ok_with_from,
                    output: result.err().unwrap_or_default(),
                    output_with_from: from_output,
                });
            }
        }
    }
    cross.sort_by_key(|c| opts.cross.iter().position(|t| *t == c.target));
    if let Some(p) = &probe_result
        && !p.ok
    {
        cmp.regressions.push(Regression {
            kind: K::Probe,
            package: String::new(),
            test: None,
            analyzer: None,
            position: None,
            target: None,
            message: p.error.clone().unwrap_or_default(),
            output: Vec::new(),
            runs: None,
        });
    }
    for c in &cross {
        if !c.ok && c.ok_with_from == Some(true) {
            cmp.regressions.push(Regression {
                kind: K::CrossBuild,
                package: String::new(),
                test: None,
                analyzer: None,
                position: None,
                target: Some(c.target.clone()),
                message: format!(
                    "CGO_ENABLED=0 GOOS={} GOARCH={} go build works with {}, fails with {}",
                    c.target.split('/').next().unwrap_or(""),
                    c.target.split('/').nth(1).unwrap_or(""),
                    opts.from.label,
                    opts.to.label
                ),
                output: c.output.clone(),
                runs: None,
            });
        }
    }
    let totals = report::Totals {
        from: compare::totals(&a.test, &a.vet),
        to: compare::totals(&b.test, &b.vet),
        regressions: cmp.regressions.len(),
        fixed: cmp.fixed.len(),
        flaky: flaky.len(),
        cross_ok: cross.iter().filter(|c| c.ok).count(),
        cross_targets: cross.len(),
        probe_ok: probe_result.as_ref().map(|p| p.ok),
    };
    Ok(Report {
        dir: opts.dir.display().to_string(),
        patterns: patterns(opts).iter().map(|s| s.to_string()).collect(),
        from: opts.from.clone(),
        to: opts.to.clone(),
        ok: cmp.regressions.is_empty(),
        totals,
        regressions: cmp.regressions,
        fixed: cmp.fixed,
        flaky,
        rerun_seconds,
        probe: probe_result,
        cross,
        packages: cmp.packages,
        vet_from: a.vet.findings,
        vet_to: b.vet.findings,
        project_changes: Vec::new(),
        seconds: started.elapsed().as_secs_f64(),
    })
}
