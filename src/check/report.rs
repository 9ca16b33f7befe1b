//! The check's result: one struct, printed as a table for people or as JSON for CI.

use crate::paint::Paint;
use std::fmt::Write;

use serde::Serialize;

use super::compare::{Fixed, Kind, PackageRow, Regression, SideTotals};
use super::probe::ProbeResult;
use super::project::ProjectChange;
use super::rerun::Flaky;
use super::sandbox::Side;
use super::vet::VetFinding;

/// How many output lines the table shows per regression (JSON has more).
pub const TABLE_LINES: usize = 6;

#[derive(Debug, Clone, Serialize)]
pub struct CrossResult {
    /// `os/arch`.
    pub target: String,
    /// Builds with B.
    pub ok: bool,
    /// When B fails: whether A builds it (`false`: it was broken before the upgrade).
    pub ok_with_from: Option<bool>,
    pub output: Vec<String>,
    pub output_with_from: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Totals {
    pub from: SideTotals,
    pub to: SideTotals,
    pub regressions: usize,
    pub fixed: usize,
    /// Tests that failed with B, and on rerun passed with B or failed with A too (rerun.rs).
    pub flaky: usize,
    pub cross_ok: usize,
    pub cross_targets: usize,
    pub probe_ok: Option<bool>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub dir: String,
    pub patterns: Vec<String>,
    pub from: Side,
    pub to: Side,
    /// No regressions.
    pub ok: bool,
    pub totals: Totals,
    pub regressions: Vec<Regression>,
    pub fixed: Vec<Fixed>,
    pub flaky: Vec<Flaky>,
    /// The time the reruns took (included in `seconds`).
    pub rerun_seconds: f64,
    pub probe: Option<ProbeResult>,
    pub cross: Vec<CrossResult>,
    pub packages: Vec<PackageRow>,
    pub vet_from: Vec<VetFinding>,
    pub vet_to: Vec<VetFinding>,
    /// What a toolchain wanted to change in the project's go.mod/go.sum (it changed only its
    /// own copy), and project files that changed during the check and were put back.
    pub project_changes: Vec<ProjectChange>,
    pub seconds: f64,
}

impl Report {
    /// The table: totals first, then each regression with its package, test and first output
    /// lines, then what got fixed and what was already broken.
    /// `paint`: colour for the verdict and the status words (see [`crate::paint`]).
    pub fn render(&self, paint: Paint) -> String {
        let mut s = String::new();
        let t = &self.totals;
        let (a, b) = (&self.from.label, &self.to.label);
        let _ = writeln!(
            s,
            "{} {a} -> {b} in {} ({}), {:.1}s",
            paint.strong("gomig check"),
            self.dir,
            self.patterns.join(" "),
            self.seconds
        );
        let _ = writeln!(s);
        let w = a.len().max(b.len()).max(10);
        let _ = writeln!(s, "  {:<16}{a:>w$}  {b:>w$}", "");
        type Count = fn(&SideTotals) -> usize;
        let rows: [(&str, Count); 7] = [
            ("packages", |x| x.packages),
            ("build failures", |x| x.build_failures),
            ("tests", |x| x.tests),
            ("  passed", |x| x.passed),
            ("  failed", |x| x.failed),
            ("  skipped", |x| x.skipped),
            ("vet findings", |x| x.vet_findings),
        ];
        for (name, get) in rows {
            let _ = writeln!(s, "  {name:<16}{:>w$}  {:>w$}", get(&t.from), get(&t.to));
        }
        if let Some(p) = &self.probe {
            let text = if p.ok {
                format!("ok ({})", p.reported.as_deref().unwrap_or(""))
            } else if p.reported.as_deref() == Some(p.expected.as_str()) {
                // The tree is B; what `go` runs as here is not (or could not be told).
                match &p.runs_as {
                    Some(other) => format!("FAILED (go switches to {other} here, expected {})", p.expected),
                    None => format!(
                        "FAILED (go version in the project fails with {}; see below)",
                        p.expected
                    ),
                }
            } else {
                format!("FAILED (expected {})", p.expected)
            };
            let _ = writeln!(s, "  {:<16}{:>w$}  {}", "runtime probe", "", text);
        }
        if !self.cross.is_empty() {
            let failed: Vec<&str> = self.cross.iter().filter(|c| !c.ok).map(|c| c.target.as_str()).collect();
            let text = if failed.is_empty() {
                format!("{}/{} ok", t.cross_ok, t.cross_targets)
            } else {
                format!("{}/{} ok, failing: {}", t.cross_ok, t.cross_targets, failed.join(" "))
            };
            let _ = writeln!(s, "  {:<16}{:>w$}  {}", "cross builds", "", text);
        }
        let _ = writeln!(s);
        let verdict = if self.ok {
            paint.good(&format!("no regressions from {a} to {b}"))
        } else {
            paint.bad(&format!(
                "{} regression{} from {a} to {b}",
                t.regressions,
                if t.regressions == 1 { "" } else { "s" }
            ))
        };
        let _ = writeln!(
            s,
            "{verdict}{}",
            if t.fixed > 0 {
                format!(", {} fixed", t.fixed)
            } else {
                String::new()
            }
        );
        for r in &self.regressions {
            let _ = writeln!(s);
            let mut what = vec![r.package.clone()];
            if let Some(test) = &r.test {
                what.push(test.clone());
            }
            if let Some(a) = &r.analyzer {
                what.push(format!("{a} at {}", r.position.as_deref().unwrap_or("?")));
            }
            if let Some(target) = &r.target {
                what.push(target.clone());
            }
            let what: Vec<String> = what.into_iter().filter(|w| !w.is_empty()).collect();
            let kind = format!("{:<15}", r.kind.label());
            let _ = writeln!(s, "  {} {}", paint.bad(&kind), what.join("  "));
            if r.kind != Kind::VetFinding {
                // The counts on the same line: the output's first lines come right after.
                let runs = r.runs.map_or(String::new(), |n| {
                    format!(
                        "; failed {} of {} with {b}, {} of {} with {a} (not flaky)",
                        n.failed_to, n.runs_to, n.failed_from, n.runs_from
                    )
                });
                let _ = writeln!(s, "      {}{runs}", r.message);
            }
            for line in r.output.iter().filter(|l| !l.trim().is_empty()).take(TABLE_LINES) {
                let _ = writeln!(s, "      | {}", line.trim_end());
            }
        }
        if !self.flaky.is_empty() {
            let _ = writeln!(s);
            for f in &self.flaky {
                let _ = writeln!(
                    s,
                    "  {} {}  {}: {} (not a regression)",
                    paint.strong("flaky          "),
                    f.package,
                    f.test,
                    f.message
                );
            }
        }
        let reran = self.flaky.len() + self.regressions.iter().filter(|r| r.runs.is_some()).count();
        if reran > 0 {
            let _ = writeln!(
                s,
                "  reran {reran} test{} that failed with {b} only, in {:.1}s",
                if reran == 1 { "" } else { "s" },
                self.rerun_seconds
            );
        }
        if !self.fixed.is_empty() {
            let _ = writeln!(s);
            for f in &self.fixed {
                let _ = writeln!(
                    s,
                    "  {} {}{}: {}",
                    paint.good("fixed          "),
                    f.package,
                    f.test.as_ref().map(|t| format!("  {t}")).unwrap_or_default(),
                    f.message
                );
            }
        }
        let broken: Vec<&CrossResult> = self
            .cross
            .iter()
            .filter(|c| !c.ok && c.ok_with_from == Some(false))
            .collect();
        if !broken.is_empty() {
            let _ = writeln!(s);
            for c in broken {
                let _ = writeln!(
                    s,
                    "  cross build     {}: fails with {b} and with {a} too (not a regression)",
                    c.target
                );
                for line in c.output.iter().take(TABLE_LINES) {
                    let _ = writeln!(s, "      | {line}");
                }
            }
        }
        if !self.project_changes.is_empty() {
            let _ = writeln!(s);
            let _ = writeln!(
                s,
                "  project files (gomig check leaves them as they were; each toolchain wrote only its own copy):"
            );
            for c in &self.project_changes {
                let what = match (&c.side, c.restored) {
                    (Some(side), _) => format!(
                        "{side} wanted to {} {}",
                        if c.created { "create" } else { "change" },
                        c.file
                    ),
                    (None, true) => format!("{} changed during the check; put back as it was", c.file),
                    (None, false) => format!("{} changed during the check and could not be put back", c.file),
                };
                let _ = writeln!(s, "  {} {what}", paint.strong("go files       "));
                for line in &c.removed {
                    let _ = writeln!(s, "      - {line}");
                }
                for line in &c.added {
                    let _ = writeln!(s, "      + {line}");
                }
            }
        }
        s
    }
}
