//! Flaky tests are not regressions.
//!
//! A test that passed with A and failed, panicked or timed out with B is run again, alone
//! (`-run` anchored to its exact name and its parents'), `Options::reruns` more times with B and
//! as many with A, one run at a time, after both sides' own runs. It stays a regression only if
//! every rerun fails again with B and passes again with A; otherwise it is flaky, reported with
//! its counts ("failed 1 of 4 with go1.23.9, 0 of 4 with go1.22.10"). Packages that do not build
//! are never rerun (those are build regressions, not test ones), nor tests new with B.

use serde::Serialize;

use super::compare::{Kind, Regression};
use super::sandbox::{Sandbox, Side, stream};
use super::test2json::{Parser, TestOutcome, TestRun};
use super::{CheckError, Options, Progress};

/// How often a test failed, of how many runs, with each side (its first run included).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Runs {
    pub failed_from: usize,
    pub runs_from: usize,
    pub failed_to: usize,
    pub runs_to: usize,
}

/// A test that failed with B once but not every time (or failed with A too): not a regression.
#[derive(Debug, Clone, Serialize)]
pub struct Flaky {
    /// What the first run with B looked like (`test-failed`, `test-panicked`, `test-timed-out`).
    pub kind: Kind,
    pub package: String,
    pub test: String,
    /// `failed 1 of 4 with go1.23.9, 0 of 4 with go1.22.10`.
    pub message: String,
    pub runs: Runs,
    /// The first run's output with B.
    pub output: Vec<String>,
}

/// `regexp.QuoteMeta`: the name matched literally.
fn quote_meta(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `-run` for exactly `test` (`TestA/sub_1` -> `^TestA$/^sub_1$`): the test, its parents (which
/// must run for it to run) and nothing else.
pub fn run_pattern(test: &str) -> String {
    test.split('/')
        .map(|part| format!("^{}$", quote_meta(part)))
        .collect::<Vec<_>>()
        .join("/")
}

/// One run of `test` in `package` with `side`: whether it passed.
fn passes(sandbox: &Sandbox, opts: &Options, side: &Side, package: &str, test: &str) -> Result<bool, CheckError> {
    let pattern = run_pattern(test);
    let mut args = vec!["test", "-count=1", "-json", "-vet=off", "-run", &pattern];
    let timeout;
    if let Some(t) = &opts.timeout {
        timeout = format!("-timeout={t}");
        args.push(&timeout);
    }
    args.push(package);
    let mut parser = Parser::default();
    let cmd = sandbox.go(side, &opts.dir, &args);
    let finished = stream(
        cmd,
        &format!("go test -run {pattern} {package} with {}", side.label),
        |line| {
            parser.line(line);
        },
    )?;
    let run: TestRun = parser.finish(&finished.stderr, finished.status.success());
    Ok(run
        .packages
        .get(package)
        .and_then(|p| p.tests.get(test))
        .is_some_and(|t| t.outcome == TestOutcome::Pass))
}

fn rerun_kind(kind: Kind) -> bool {
    matches!(kind, Kind::TestFailed | Kind::TestPanicked | Kind::TestTimedOut)
}

/// Reruns each test regression of `regressions` that passed with A (`a_test`); what is flaky
/// moves out to the returned list, what stays gets its counts.
pub fn rerun(
    sandbox: &Sandbox,
    opts: &Options,
    a_test: &TestRun,
    regressions: &mut Vec<Regression>,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Vec<Flaky>, CheckError> {
    let mut flaky = Vec::new();
    if opts.reruns == 0 {
        return Ok(flaky);
    }
    let passed_with_a = |r: &Regression| {
        r.test.as_ref().is_some_and(|t| {
            a_test
                .packages
                .get(&r.package)
                .and_then(|p| p.tests.get(t))
                .is_some_and(|t| t.outcome == TestOutcome::Pass)
        })
    };
    let mut kept = Vec::with_capacity(regressions.len());
    for mut r in std::mem::take(regressions) {
        if !rerun_kind(r.kind) || !passed_with_a(&r) {
            kept.push(r);
            continue;
        }
        let test = r.test.clone().unwrap_or_default();
        progress(Progress::Step {
            side: format!("{} and {}", opts.to.label, opts.from.label),
            step: "rerun",
        });
        let mut runs = Runs {
            failed_from: 0,
            runs_from: 1 + opts.reruns,
            failed_to: 1,
            runs_to: 1 + opts.reruns,
        };
        for _ in 0..opts.reruns {
            if !passes(sandbox, opts, &opts.to, &r.package, &test)? {
                runs.failed_to += 1;
            }
        }
        for _ in 0..opts.reruns {
            if !passes(sandbox, opts, &opts.from, &r.package, &test)? {
                runs.failed_from += 1;
            }
        }
        if runs.failed_to == runs.runs_to && runs.failed_from == 0 {
            r.runs = Some(runs);
            kept.push(r);
            continue;
        }
        flaky.push(Flaky {
            kind: r.kind,
            package: r.package,
            test,
            message: format!(
                "failed {} of {} with {}, {} of {} with {}",
                runs.failed_to, runs.runs_to, opts.to.label, runs.failed_from, runs.runs_from, opts.from.label
            ),
            runs,
            output: r.output,
        });
    }
    *regressions = kept;
    Ok(flaky)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_run_pattern_is_the_exact_name_and_its_parents_with_metacharacters_quoted() {
        assert_eq!(run_pattern("TestA"), "^TestA$");
        assert_eq!(run_pattern("TestA/sub_1"), "^TestA$/^sub_1$");
        assert_eq!(run_pattern("TestA/x(1)+y.z"), "^TestA$/^x\\(1\\)\\+y\\.z$");
        assert_eq!(run_pattern("TestA/[a]|b"), "^TestA$/^\\[a\\]\\|b$");
    }
}
