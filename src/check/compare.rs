//! The comparison: what got worse from A to B (regressions), what got better (fixed).
//!
//! Rules: a test that passed with A and fails, panics, times out, is skipped or no longer runs
//! with B is a regression; so is a test new with B that fails (when its package built with A), a
//! package that built with A and does not with B, a package whose test binary fails with B
//! outside any test, a vet finding B reports that A did not, and a package vet could check with
//! A but not with B. A test that failed with A and passes with B is fixed. What fails with both
//! is neither: it is counted, not blamed on the upgrade.

use std::collections::BTreeSet;

use serde::Serialize;

use super::test2json::{self, PackageOutcome, PackageResult, TestOutcome, TestRun};
use super::vet::{VetFinding, VetRun};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    TestFailed,
    TestPanicked,
    TestTimedOut,
    TestSkipped,
    TestNotRun,
    BuildFailed,
    PackageFailed,
    VetFinding,
    VetFailed,
    LoadFailed,
    Probe,
    CrossBuild,
}

impl Kind {
    /// A short label for the table.
    pub fn label(self) -> &'static str {
        match self {
            Kind::TestFailed => "test fails",
            Kind::TestPanicked => "test panics",
            Kind::TestTimedOut => "test times out",
            Kind::TestSkipped => "test skipped",
            Kind::TestNotRun => "test not run",
            Kind::BuildFailed => "build fails",
            Kind::PackageFailed => "package fails",
            Kind::VetFinding => "vet",
            Kind::VetFailed => "vet fails",
            Kind::LoadFailed => "go fails",
            Kind::Probe => "runtime probe",
            Kind::CrossBuild => "cross build",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Regression {
    pub kind: Kind,
    /// The import path (empty for the probe).
    pub package: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test: Option<String>,
    /// For vet findings: the analyzer (`printf`, `stdversion`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub analyzer: Option<String>,
    /// For vet findings: `file:line:col`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<String>,
    /// For cross builds: `os/arch`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// One line: what changed.
    pub message: String,
    /// The first lines of the relevant output with B.
    pub output: Vec<String>,
    /// For a test that was rerun (rerun.rs): it failed every time with B, passed with A.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runs: Option<super::rerun::Runs>,
}

impl Regression {
    fn new(kind: Kind, package: &str, message: String) -> Regression {
        Regression {
            kind,
            package: package.to_string(),
            test: None,
            analyzer: None,
            position: None,
            target: None,
            message,
            output: Vec::new(),
            runs: None,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Fixed {
    pub package: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test: Option<String>,
    pub message: String,
}

/// One side's counts.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SideTotals {
    pub packages: usize,
    pub build_failures: usize,
    pub tests: usize,
    pub passed: usize,
    /// Failed, panicked, timed out or did not finish.
    pub failed: usize,
    pub skipped: usize,
    pub vet_findings: usize,
}

pub fn totals(test: &TestRun, vet: &VetRun) -> SideTotals {
    let mut t = SideTotals {
        packages: test.packages.len(),
        vet_findings: vet.findings.len(),
        ..SideTotals::default()
    };
    for pkg in test.packages.values() {
        if !pkg.built() {
            t.build_failures += 1;
        }
        for r in pkg.tests.values() {
            t.tests += 1;
            match r.outcome {
                TestOutcome::Pass => t.passed += 1,
                TestOutcome::Skip => t.skipped += 1,
                _ => t.failed += 1,
            }
        }
    }
    t
}

/// Per package, for the JSON report.
#[derive(Debug, Clone, Serialize)]
pub struct PackageRow {
    pub package: String,
    pub from: Option<PackageOutcome>,
    pub to: Option<PackageOutcome>,
    pub tests_from: usize,
    pub tests_to: usize,
}

pub struct Comparison {
    pub regressions: Vec<Regression>,
    pub fixed: Vec<Fixed>,
    pub packages: Vec<PackageRow>,
}

fn first_lines(lines: &[String]) -> Vec<String> {
    lines.to_vec()
}

fn test_kind(outcome: TestOutcome) -> Kind {
    match outcome {
        TestOutcome::Panic => Kind::TestPanicked,
        TestOutcome::Timeout => Kind::TestTimedOut,
        TestOutcome::Skip => Kind::TestSkipped,
        _ => Kind::TestFailed,
    }
}

fn outcome_words(outcome: TestOutcome) -> &'static str {
    match outcome {
        TestOutcome::Pass => "passes",
        TestOutcome::Fail => "fails",
        TestOutcome::Skip => "is skipped",
        TestOutcome::Panic => "panics",
        TestOutcome::Timeout => "times out",
        TestOutcome::Unfinished => "does not finish",
    }
}

pub fn compare(a_label: &str, b_label: &str, a: (&TestRun, &VetRun), b: (&TestRun, &VetRun)) -> Comparison {
    let (a_test, a_vet) = a;
    let (b_test, b_vet) = b;
    let mut regressions = Vec::new();
    let mut fixed = Vec::new();
    let mut rows = Vec::new();
    let empty = PackageResult {
        outcome: PackageOutcome::Unfinished,
        tests: Default::default(),
        output: Vec::new(),
        build_output: Vec::new(),
        timed_out: false,
        panicked: false,
    };
    let names: BTreeSet<&String> = a_test.packages.keys().chain(b_test.packages.keys()).collect();
    let mut b_build_failed = BTreeSet::new();
    for name in names {
        let pa = a_test.packages.get(name);
        let pb = b_test.packages.get(name);
        rows.push(PackageRow {
            package: name.clone(),
            from: pa.map(|p| p.outcome),
            to: pb.map(|p| p.outcome),
            tests_from: pa.map_or(0, |p| p.tests.len()),
            tests_to: pb.map_or(0, |p| p.tests.len()),
        });
        let a_built = pa.is_some_and(PackageResult::built);
        let b_built = pb.is_none_or(PackageResult::built);
        if !b_built {
            b_build_failed.insert(name.clone());
        }
        if a_built && !b_built {
            let pb = pb.unwrap_or(&empty);
            let mut r = Regression::new(
                Kind::BuildFailed,
                name,
                format!("builds with {a_label}, does not build with {b_label}"),
            );
            r.output = first_lines(if pb.build_output.is_empty() {
                &pb.output
            } else {
                &pb.build_output
            });
            regressions.push(r);
            continue;
        }
        if pa.is_some_and(|p| !p.built()) && b_built && pb.is_some() {
            fixed.push(Fixed {
                package: name.clone(),
                test: None,
                message: format!("does not build with {a_label}, builds with {b_label}"),
            });
        }
        if let (Some(pa), None) = (pa, pb)
            && pa.outcome == PackageOutcome::Pass
            && b_test.load_error.is_none()
        {
            regressions.push(Regression::new(
                Kind::PackageFailed,
                name,
                format!("its tests pass with {a_label}; {b_label} does not test it at all"),
            ));
            continue;
        }
        let (Some(pa), Some(pb)) = (pa, pb) else {
            continue;
        };
        if !b_built {
            continue;
        }
        let tests: BTreeSet<&String> = pa.tests.keys().chain(pb.tests.keys()).collect();
        let mut test_regressed = false;
        // Tests the crashed binary never reached: one entry, not one per test.
        let mut never_ran = Vec::new();
        for test in tests {
            let ta = pa.tests.get(test).map(|t| t.outcome);
            let tb = pb.tests.get(test);
            let regression = match (ta, tb.map(|t| t.outcome)) {
                (Some(TestOutcome::Pass) | Some(TestOutcome::Skip), Some(ob)) if ob.is_failure() => Some((
                    test_kind(ob),
                    format!(
                        "{} with {a_label}, {} with {b_label}",
                        outcome_words(ta.unwrap()),
                        outcome_words(ob)
                    ),
                )),
                (None, Some(ob)) if ob.is_failure() && a_built => {
                    Some((test_kind(ob), format!("new with {b_label} and {}", outcome_words(ob))))
                }
                (Some(TestOutcome::Pass), Some(TestOutcome::Skip)) => Some((
                    Kind::TestSkipped,
                    format!("passes with {a_label}, is skipped with {b_label}"),
                )),
                (Some(TestOutcome::Pass), None) => Some((
                    Kind::TestNotRun,
                    format!("passes with {a_label}, does not run with {b_label}"),
                )),
                (Some(oa), Some(TestOutcome::Pass)) if oa.is_failure() => {
                    fixed.push(Fixed {
                        package: name.clone(),
                        test: Some(test.clone()),
                        message: format!("{} with {a_label}, passes with {b_label}", outcome_words(oa)),
                    });
                    None
                }
                _ => None,
            };
            if let Some((kind, message)) = regression {
                test_regressed = true;
                if kind == Kind::TestNotRun && (pb.panicked || pb.timed_out) {
                    never_ran.push(test.clone());
                    continue;
                }
                let mut r = Regression::new(kind, name, message);
                r.test = Some(test.clone());
                r.output = tb.map(|t| first_lines(&t.output)).unwrap_or_default();
                regressions.push(r);
            }
        }
        if !never_ran.is_empty() {
            let why = if pb.timed_out { "timeout" } else { "panic" };
            let mut r = Regression::new(
                Kind::TestNotRun,
                name,
                if never_ran.len() == 1 {
                    format!("passes with {a_label}, never ran with {b_label}: the test binary stopped earlier ({why})")
                } else {
                    format!(
                        "{} tests that pass with {a_label} never ran with {b_label}: the test binary stopped earlier ({why})",
                        never_ran.len()
                    )
                },
            );
            if never_ran.len() == 1 {
                r.test = never_ran.pop();
            } else {
                r.output = never_ran.into_iter().take(test2json::KEEP_LINES).collect();
            }
            regressions.push(r);
        }
        if !test_regressed && pb.outcome == PackageOutcome::Fail && pa.outcome == PackageOutcome::Pass {
            let mut r = Regression::new(
                Kind::PackageFailed,
                name,
                format!("its tests pass with {a_label}; the test binary fails with {b_label}"),
            );
            r.output = first_lines(&pb.output);
            regressions.push(r);
        }
    }
    drop_parents(&mut regressions);
    compare_vet(
        a_label,
        b_label,
        a_vet,
        b_vet,
        &b_build_failed,
        &mut regressions,
        &mut fixed,
    );
    Comparison {
        regressions,
        fixed,
        packages: rows,
    }
}

/// `TestX` failing because `TestX/case` failed says nothing new: keep the subtest.
fn drop_parents(regressions: &mut Vec<Regression>) {
    let names: Vec<(String, String)> = regressions
        .iter()
        .filter_map(|r| r.test.clone().map(|t| (r.package.clone(), t)))
        .collect();
    regressions.retain(|r| {
        let Some(t) = &r.test else { return true };
        let prefix = format!("{t}/");
        !names.iter().any(|(p, n)| *p == r.package && n.starts_with(&prefix))
    });
}

fn same_finding(a: &VetFinding, b: &VetFinding) -> bool {
    a.package == b.package && a.analyzer == b.analyzer && (a.line_key() == b.line_key() || a.message == b.message)
}

fn compare_vet(
    a_label: &str,
    b_label: &str,
    a: &VetRun,
    b: &VetRun,
    b_build_failed: &BTreeSet<String>,
    regressions: &mut Vec<Regression>,
    fixed: &mut Vec<Fixed>,
) {
    for f in &b.findings {
        if !a.findings.iter().any(|o| same_finding(o, f)) {
            let mut r = Regression::new(
                Kind::VetFinding,
                &f.package,
                format!("go vet ({}) with {b_label}: {}", f.analyzer, f.message),
            );
            r.analyzer = Some(f.analyzer.clone());
            r.position = Some(f.position.clone());
            r.output = vec![f.message.clone()];
            regressions.push(r);
        }
    }
    for f in &a.findings {
        if !b.findings.iter().any(|o| same_finding(o, f)) && !b.errors.contains_key(&f.package) {
            fixed.push(Fixed {
                package: f.package.clone(),
                test: None,
                message: format!(
                    "go vet ({}) with {a_label} reported {}: {}, {b_label} does not",
                    f.analyzer, f.position, f.message
                ),
            });
        }
    }
    for (pkg, errors) in &b.errors {
        if !a.errors.contains_key(pkg) && !b_build_failed.contains(pkg) {
            let mut r = Regression::new(
                Kind::VetFailed,
                pkg,
                format!("go vet checks it with {a_label}, cannot with {b_label}"),
            );
            r.output = errors.clone();
            regressions.push(r);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::test2json::Parser;

    fn run(lines: &[&str]) -> TestRun {
        let mut p = Parser::default();
        for l in lines {
            p.line(l);
        }
        p.finish("", true)
    }

    fn kinds(c: &Comparison) -> Vec<(Kind, String, Option<String>)> {
        c.regressions
            .iter()
            .map(|r| (r.kind, r.package.clone(), r.test.clone()))
            .collect()
    }

    const PASS_X: &str = r#"{"Action":"pass","Package":"m/p","Test":"TestX"}"#;
    const FAIL_X: &str = r#"{"Action":"fail","Package":"m/p","Test":"TestX"}"#;
    const SKIP_X: &str = r#"{"Action":"skip","Package":"m/p","Test":"TestX"}"#;
    const PKG_PASS: &str = r#"{"Action":"pass","Package":"m/p"}"#;
    const PKG_FAIL: &str = r#"{"Action":"fail","Package":"m/p"}"#;

    #[test]
    fn pass_to_fail_and_pass_to_skip_are_regressions_fail_to_pass_is_fixed() {
        let vet = VetRun::default();
        let c = compare(
            "A",
            "B",
            (&run(&[PASS_X, PKG_PASS]), &vet),
            (&run(&[FAIL_X, PKG_FAIL]), &vet),
        );
        assert_eq!(kinds(&c), vec![(Kind::TestFailed, "m/p".into(), Some("TestX".into()))]);
        assert_eq!(c.regressions[0].message, "passes with A, fails with B");
        let c = compare(
            "A",
            "B",
            (&run(&[PASS_X, PKG_PASS]), &vet),
            (&run(&[SKIP_X, PKG_PASS]), &vet),
        );
        assert_eq!(kinds(&c), vec![(Kind::TestSkipped, "m/p".into(), Some("TestX".into()))]);
        let c = compare(
            "A",
            "B",
            (&run(&[FAIL_X, PKG_FAIL]), &vet),
            (&run(&[PASS_X, PKG_PASS]), &vet),
        );
        assert!(c.regressions.is_empty());
        assert_eq!(c.fixed.len(), 1);
        let c = compare(
            "A",
            "B",
            (&run(&[FAIL_X, PKG_FAIL]), &vet),
            (&run(&[FAIL_X, PKG_FAIL]), &vet),
        );
        assert!(
            c.regressions.is_empty() && c.fixed.is_empty(),
            "failing with both is neither"
        );
    }

    #[test]
    fn a_package_b_does_not_test_at_all_is_a_regression() {
        let vet = VetRun::default();
        let c = compare("A", "B", (&run(&[PASS_X, PKG_PASS]), &vet), (&run(&[]), &vet));
        assert_eq!(kinds(&c), vec![(Kind::PackageFailed, "m/p".into(), None)]);
    }

    #[test]
    fn tests_a_panic_kept_from_running_are_one_entry() {
        let vet = VetRun::default();
        let a = run(&[
            PASS_X,
            r#"{"Action":"pass","Package":"m/p","Test":"TestY"}"#,
            r#"{"Action":"pass","Package":"m/p","Test":"TestZ"}"#,
            PKG_PASS,
        ]);
        let b = run(&[
            r#"{"Action":"output","Package":"m/p","Test":"TestX","Output":"panic: boom\n"}"#,
            FAIL_X,
            PKG_FAIL,
        ]);
        let c = compare("A", "B", (&a, &vet), (&b, &vet));
        assert_eq!(
            kinds(&c),
            vec![
                (Kind::TestPanicked, "m/p".into(), Some("TestX".into())),
                (Kind::TestNotRun, "m/p".into(), None)
            ]
        );
        assert_eq!(
            c.regressions[1].message,
            "2 tests that pass with A never ran with B: the test binary stopped earlier (panic)"
        );
        assert_eq!(c.regressions[1].output, vec!["TestY", "TestZ"]);
    }

    #[test]
    fn a_failing_subtest_stands_for_its_parent() {
        let vet = VetRun::default();
        let a = run(&[
            r#"{"Action":"pass","Package":"m/p","Test":"TestX/case"}"#,
            PASS_X,
            PKG_PASS,
        ]);
        let b = run(&[
            r#"{"Action":"fail","Package":"m/p","Test":"TestX/case"}"#,
            FAIL_X,
            PKG_FAIL,
        ]);
        let c = compare("A", "B", (&a, &vet), (&b, &vet));
        assert_eq!(
            kinds(&c),
            vec![(Kind::TestFailed, "m/p".into(), Some("TestX/case".into()))]
        );
    }

    #[test]
    fn a_vet_finding_moved_by_a_column_is_the_same_finding() {
        let f = |pos: &str, msg: &str| VetFinding {
            package: "m".into(),
            analyzer: "tests".into(),
            position: pos.into(),
            message: msg.into(),
        };
        let a = VetRun {
            findings: vec![f("m_test.go:8:1", "Testfoo has malformed name")],
            ..VetRun::default()
        };
        let b = VetRun {
            findings: vec![f("m_test.go:8:6", "Testfoo has malformed name"), f("x.go:3:1", "new")],
            ..VetRun::default()
        };
        let t = TestRun::default();
        let c = compare("A", "B", (&t, &a), (&t, &b));
        assert_eq!(c.regressions.len(), 1);
        assert_eq!(c.regressions[0].position.as_deref(), Some("x.go:3:1"));
    }
}
