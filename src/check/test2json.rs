//! Reading `go test -json` (the `test2json` event stream) into per-package, per-test results.
//!
//! Go 1.24 also reports build errors as events (`build-output`, `build-fail`, and a
//! `FailedBuild` field); older releases print them on stderr under `# importpath` headers. Both
//! end up in [`PackageResult::build_output`].

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// How many lines of a test's or package's output are kept (the report shows fewer).
pub const KEEP_LINES: usize = 40;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TestOutcome {
    Pass,
    Fail,
    Skip,
    /// Failed with a `panic:` in its output.
    Panic,
    /// Was running when the test binary's `-timeout` alarm fired.
    Timeout,
    /// Started but never finished: the test binary died under it (os.Exit, a crash elsewhere).
    Unfinished,
}

impl TestOutcome {
    pub fn is_failure(self) -> bool {
        matches!(
            self,
            TestOutcome::Fail | TestOutcome::Panic | TestOutcome::Timeout | TestOutcome::Unfinished
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PackageOutcome {
    Pass,
    Fail,
    /// No test files (test2json's package-level `skip`).
    NoTests,
    BuildFailed,
    /// No final event arrived (the go command itself died).
    Unfinished,
}

#[derive(Debug, Clone, Serialize)]
pub struct TestResult {
    pub outcome: TestOutcome,
    /// The first lines of its output, without the `=== RUN`/`--- PASS` framing.
    pub output: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PackageResult {
    pub outcome: PackageOutcome,
    pub tests: BTreeMap<String, TestResult>,
    /// Package-level output (not inside a test), first lines.
    pub output: Vec<String>,
    /// Compiler or setup errors, first lines.
    pub build_output: Vec<String>,
    /// The test binary hit its `-timeout`.
    pub timed_out: bool,
    /// The test binary panicked.
    pub panicked: bool,
}

impl PackageResult {
    fn new() -> PackageResult {
        PackageResult {
            outcome: PackageOutcome::Unfinished,
            tests: BTreeMap::new(),
            output: Vec::new(),
            build_output: Vec::new(),
            timed_out: false,
            panicked: false,
        }
    }

    pub fn built(&self) -> bool {
        self.outcome != PackageOutcome::BuildFailed
    }
}

/// One `go test -json` run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TestRun {
    pub packages: BTreeMap<String, PackageResult>,
    /// stderr lines not under any package header (`go: ...` errors, warnings).
    pub stderr: Vec<String>,
    /// The go command failed before reporting on any package (e.g. go.mod needs a newer Go).
    pub load_error: Option<String>,
}

#[derive(Deserialize)]
struct Event {
    #[serde(rename = "Action")]
    action: String,
    #[serde(rename = "Package", default)]
    package: Option<String>,
    #[serde(rename = "ImportPath", default)]
    import_path: Option<String>,
    #[serde(rename = "Test", default)]
    test: Option<String>,
    #[serde(rename = "Output", default)]
    output: Option<String>,
    #[serde(rename = "FailedBuild", default)]
    failed_build: Option<String>,
}

/// `example.com/m/p [example.com/m/p.test]` or `[example.com/m]` -> `example.com/m/p`.
/// An external test package (`m/p_test [m/p.test]`) belongs to the package it tests.
pub fn package_key(id: &str) -> String {
    let id = id.trim();
    let id = match (id.strip_prefix('['), id.find(" [")) {
        (Some(inner), _) => inner.strip_suffix(']').unwrap_or(inner),
        (None, Some(i)) => id[i + 2..].strip_suffix(']').unwrap_or(&id[i + 2..]),
        (None, None) => id,
    };
    id.strip_suffix(".test").unwrap_or(id).to_string()
}

/// Framing lines that say nothing the outcome does not.
fn is_framing(line: &str) -> bool {
    let t = line.trim_start();
    t.starts_with("=== RUN")
        || t.starts_with("=== PAUSE")
        || t.starts_with("=== CONT")
        || t.starts_with("=== NAME")
        || t.starts_with("--- PASS")
        || t.starts_with("--- FAIL")
        || t.starts_with("--- SKIP")
        || t == "PASS"
        || t == "FAIL"
        || t.starts_with("ok  \t")
        || t.starts_with("FAIL\t")
        || t.starts_with("?   \t")
        || t.starts_with("testing: warning: no tests to run")
}

fn keep(lines: &mut Vec<String>, text: &str) {
    for line in text.lines() {
        if lines.len() >= KEEP_LINES {
            return;
        }
        if !is_framing(line) {
            lines.push(line.trim_end().to_string());
        }
    }
}

fn mentions_timeout(lines: &[String]) -> bool {
    lines
        .iter()
        .any(|l| l.trim_start().starts_with("panic: test timed out"))
}

fn mentions_panic(lines: &[String]) -> bool {
    lines.iter().any(|l| l.trim_start().starts_with("panic: "))
}

/// Incremental parser: feed stdout lines as they arrive, then [`Parser::finish`].
#[derive(Default)]
pub struct Parser {
    packages: BTreeMap<String, PackageResult>,
    /// Per package: tests that started and have not ended.
    running: BTreeMap<String, BTreeSet<String>>,
    /// Per package: full test output while running (only the kept lines).
    test_output: BTreeMap<(String, String), Vec<String>>,
    /// Lines that were not JSON (a test binary writing to stdout bypasses test2json).
    pub stray: Vec<String>,
}

/// What a line meant, for progress reports.
pub enum Seen {
    Nothing,
    /// A package finished.
    PackageDone {
        package: String,
        ok: bool,
    },
}

impl Parser {
    pub fn line(&mut self, line: &str) -> Seen {
        let Ok(ev) = serde_json::from_str::<Event>(line) else {
            if !line.trim().is_empty() && self.stray.len() < KEEP_LINES {
                self.stray.push(line.to_string());
            }
            return Seen::Nothing;
        };
        // Go 1.24: build errors as events, keyed by ImportPath.
        if ev.action == "build-output" || ev.action == "build-fail" {
            if let Some(id) = &ev.import_path {
                let pkg = self.packages.entry(package_key(id)).or_insert_with(PackageResult::new);
                if let Some(out) = &ev.output {
                    let text: String = out
                        .lines()
                        .filter(|l| !l.starts_with("# "))
                        .collect::<Vec<_>>()
                        .join("\n");
                    keep(&mut pkg.build_output, &text);
                }
            }
            return Seen::Nothing;
        }
        let Some(package) = ev.package.clone() else {
            return Seen::Nothing;
        };
        let pkg = self.packages.entry(package.clone()).or_insert_with(PackageResult::new);
        match ev.test {
            Some(test) => {
                let key = (package.clone(), test.clone());
                match ev.action.as_str() {
                    "run" => {
                        self.running.entry(package).or_default().insert(test);
                    }
                    "output" => {
                        if let Some(out) = &ev.output {
                            keep(self.test_output.entry(key).or_default(), out);
                        }
                    }
                    "pass" | "fail" | "skip" => {
                        if let Some(r) = self.running.get_mut(&package) {
                            r.remove(&test);
                        }
                        let output = self.test_output.remove(&key).unwrap_or_default();
                        let outcome = match ev.action.as_str() {
                            "pass" => TestOutcome::Pass,
                            "skip" => TestOutcome::Skip,
                            // The -timeout alarm is itself a panic ("panic: test timed out
                            // after 4s"): it must be told apart first.
                            _ if mentions_timeout(&output) => TestOutcome::Timeout,
                            _ if mentions_panic(&output) => TestOutcome::Panic,
                            _ => TestOutcome::Fail,
                        };
                        // A panic ends the test binary: the tests after it never run.
                        pkg.panicked |= outcome == TestOutcome::Panic;
                        pkg.timed_out |= outcome == TestOutcome::Timeout;
                        pkg.tests.insert(test, TestResult { outcome, output });
                    }
                    _ => {}
                }
                Seen::Nothing
            }
            None => match ev.action.as_str() {
                "output" => {
                    if let Some(out) = &ev.output {
                        if out.contains("[build failed]") || out.contains("[setup failed]") {
                            pkg.outcome = PackageOutcome::BuildFailed;
                        }
                        keep(&mut pkg.output, out);
                    }
                    Seen::Nothing
                }
                "pass" | "fail" | "skip" => {
                    let ok = ev.action != "fail";
                    if ev.failed_build.is_some() || pkg.outcome == PackageOutcome::BuildFailed {
                        pkg.outcome = PackageOutcome::BuildFailed;
                    } else {
                        pkg.outcome = match ev.action.as_str() {
                            "pass" => PackageOutcome::Pass,
                            "skip" => PackageOutcome::NoTests,
                            _ => PackageOutcome::Fail,
                        };
                    }
                    self.close_running(&package);
                    Seen::PackageDone { package, ok }
                }
                _ => Seen::Nothing,
            },
        }
    }

    /// Tests still running when their package ended: the binary stopped under them.
    fn close_running(&mut self, package: &str) {
        let Some(running) = self.running.remove(package) else {
            return;
        };
        let Some(pkg) = self.packages.get_mut(package) else {
            return;
        };
        let mut outputs = Vec::new();
        for test in &running {
            outputs.push(
                self.test_output
                    .remove(&(package.to_string(), test.clone()))
                    .unwrap_or_default(),
            );
        }
        let all: Vec<String> = outputs.iter().flatten().chain(pkg.output.iter()).cloned().collect();
        let timed_out = mentions_timeout(&all);
        let panicked = !timed_out && mentions_panic(&all);
        pkg.timed_out |= timed_out;
        pkg.panicked |= panicked;
        for (test, mut output) in running.into_iter().zip(outputs) {
            let outcome = if timed_out {
                TestOutcome::Timeout
            } else if panicked {
                TestOutcome::Panic
            } else {
                TestOutcome::Unfinished
            };
            if output.is_empty() {
                output = pkg.output.clone();
            }
            // Parallel parents stay "running" while their subtests run; only leaf tests count.
            pkg.tests.insert(test, TestResult { outcome, output });
        }
    }

    /// Completes the run with the command's stderr and exit status.
    pub fn finish(mut self, stderr: &str, success: bool) -> TestRun {
        let (blocks, loose) = split_blocks(stderr);
        for (id, lines) in blocks {
            let pkg = self.packages.entry(package_key(&id)).or_insert_with(PackageResult::new);
            keep(&mut pkg.build_output, &lines.join("\n"));
        }
        let packages: Vec<String> = self.running.keys().cloned().collect();
        for p in packages {
            self.close_running(&p);
        }
        let mut stderr_lines = loose;
        stderr_lines.extend(self.stray);
        let load_error = (!success && self.packages.is_empty()).then(|| {
            let text = stderr_lines.join("\n");
            if text.trim().is_empty() {
                "go test failed without output".to_string()
            } else {
                text
            }
        });
        TestRun {
            packages: self.packages,
            stderr: stderr_lines,
            load_error,
        }
    }
}

/// Splits go command stderr into `# importpath` blocks and lines outside any block.
pub fn split_blocks(stderr: &str) -> (Vec<(String, Vec<String>)>, Vec<String>) {
    let mut blocks: Vec<(String, Vec<String>)> = Vec::new();
    let mut loose = Vec::new();
    for line in stderr.lines() {
        if let Some(id) = line.strip_prefix("# ") {
            blocks.push((id.to_string(), Vec::new()));
        } else if line.starts_with("go: ") || line.starts_with("go build") || line.starts_with("warning: ") {
            loose.push(line.to_string());
        } else if let Some((_, lines)) = blocks.last_mut() {
            lines.push(line.to_string());
        } else if !line.trim().is_empty() {
            loose.push(line.to_string());
        }
    }
    (blocks, loose)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(lines: &[&str], stderr: &str) -> TestRun {
        let mut p = Parser::default();
        for l in lines {
            p.line(l);
        }
        p.finish(stderr, false)
    }

    #[test]
    fn a_panicking_test_is_a_panic_and_a_running_test_at_timeout_is_a_timeout() {
        let run = parse(
            &[
                r#"{"Action":"run","Package":"m/p","Test":"TestPanic"}"#,
                r#"{"Action":"output","Package":"m/p","Test":"TestPanic","Output":"=== RUN   TestPanic\n"}"#,
                r#"{"Action":"output","Package":"m/p","Test":"TestPanic","Output":"panic: boom [recovered]\n"}"#,
                r#"{"Action":"fail","Package":"m/p","Test":"TestPanic","Elapsed":0}"#,
                r#"{"Action":"fail","Package":"m/p","Elapsed":0.1}"#,
                r#"{"Action":"run","Package":"m/t","Test":"TestSlow"}"#,
                r#"{"Action":"output","Package":"m/t","Test":"TestSlow","Output":"panic: test timed out after 2s\n"}"#,
                r#"{"Action":"fail","Package":"m/t","Elapsed":2}"#,
            ],
            "",
        );
        let p = &run.packages["m/p"];
        assert_eq!(p.tests["TestPanic"].outcome, TestOutcome::Panic);
        assert_eq!(p.tests["TestPanic"].output, vec!["panic: boom [recovered]"]);
        let t = &run.packages["m/t"];
        assert_eq!(t.tests["TestSlow"].outcome, TestOutcome::Timeout);
        assert!(t.timed_out);
    }

    #[test]
    fn a_failed_test_whose_output_is_the_timeout_alarm_is_a_timeout_not_a_panic() {
        // The alarm's message starts with "panic:", and test2json may close the running test
        // with an explicit fail event carrying it.
        let run = parse(
            &[
                r#"{"Action":"run","Package":"m/t","Test":"TestSlow"}"#,
                r#"{"Action":"output","Package":"m/t","Test":"TestSlow","Output":"=== RUN   TestSlow\n"}"#,
                r#"{"Action":"output","Package":"m/t","Test":"TestSlow","Output":"panic: test timed out after 4s\n"}"#,
                r#"{"Action":"output","Package":"m/t","Test":"TestSlow","Output":"\trunning tests:\n"}"#,
                r#"{"Action":"output","Package":"m/t","Test":"TestSlow","Output":"\t\tTestSlow (4s)\n"}"#,
                r#"{"Action":"fail","Package":"m/t","Test":"TestSlow","Elapsed":4}"#,
                r#"{"Action":"fail","Package":"m/t","Elapsed":4.01}"#,
            ],
            "",
        );
        let t = &run.packages["m/t"];
        assert_eq!(t.tests["TestSlow"].outcome, TestOutcome::Timeout);
        assert_eq!(t.tests["TestSlow"].output[0], "panic: test timed out after 4s");
        assert!(t.timed_out, "the package is marked as timed out");
        assert!(!t.panicked, "a timeout is not counted as a panic");
    }

    #[test]
    fn build_failures_come_from_stderr_headers_or_go_1_24_events() {
        let old = parse(
            &[
                r#"{"Action":"start","Package":"m/sub"}"#,
                r#"{"Action":"output","Package":"m/sub","Output":"FAIL\tm/sub [build failed]\n"}"#,
                r#"{"Action":"fail","Package":"m/sub","Elapsed":0}"#,
            ],
            "# m/sub [m/sub.test]\nsub/x.go:3:28: undefined: y\n",
        );
        assert_eq!(old.packages["m/sub"].outcome, PackageOutcome::BuildFailed);
        assert_eq!(old.packages["m/sub"].build_output, vec!["sub/x.go:3:28: undefined: y"]);
        let new = parse(
            &[
                r##"{"ImportPath":"m/sub","Action":"build-output","Output":"# m/sub\n"}"##,
                r#"{"ImportPath":"m/sub","Action":"build-output","Output":"sub/x.go:3:28: undefined: y\n"}"#,
                r#"{"ImportPath":"m/sub","Action":"build-fail"}"#,
                r#"{"Action":"fail","Package":"m/sub","Elapsed":0,"FailedBuild":"m/sub"}"#,
            ],
            "",
        );
        assert_eq!(new.packages["m/sub"].outcome, PackageOutcome::BuildFailed);
        assert_eq!(new.packages["m/sub"].build_output, vec!["sub/x.go:3:28: undefined: y"]);
    }

    #[test]
    fn a_command_that_reports_nothing_is_a_load_error() {
        let run = parse(
            &[],
            "go: go.mod requires go >= 1.23 (running go 1.22.10; GOTOOLCHAIN=local)\n",
        );
        assert!(run.load_error.unwrap().contains("requires go >= 1.23"));
    }

    #[test]
    fn package_keys_drop_test_variants() {
        assert_eq!(package_key("m/p [m/p.test]"), "m/p");
        assert_eq!(package_key("[m/p]"), "m/p");
        assert_eq!(package_key("m/p_test [m/p.test]"), "m/p");
        assert_eq!(package_key("m/p"), "m/p");
    }
}
