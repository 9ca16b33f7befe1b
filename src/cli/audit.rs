//! `gomig audit [--fix] [--json] [--fail-on SEVERITY]`: who else could change the Go you run.

use std::process::ExitCode;

use anyhow::Result;
use serde_json::json;

use super::Ctx;
use crate::paint::Paint;
use crate::health::audit::{self, Context, Finding, Severity};
use crate::lookup::{self, EnvSnapshot};
use crate::store::Store;
use crate::store::events::{Action, Event};

/// Check the store, every toolchain, the shims directory and the PATH entries before it, and
/// risky Go settings (GOSUMDB=off, GOINSECURE, GONOSUMDB/GOPRIVATE=*, http:// GOPROXY, GOFLAGS
/// -insecure, a downloading GOTOOLCHAIN) in the environment and in `go env`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  gomig audit\n  gomig audit --fix            # permissions inside GOMIG_HOME\n  gomig audit --json --fail-on high"
)]
pub struct Args {
    /// Repair the permission findings inside GOMIG_HOME (nothing outside it is touched).
    #[arg(long)]
    pub fix: bool,
    #[arg(long)]
    pub json: bool,
    /// Exit status 1 when a finding is at least this severe.
    #[arg(long, value_enum, value_name = "SEVERITY", default_value = "low")]
    pub fail_on: Severity,
}

fn print(findings: &[Finding], paint: Paint) {
    for f in findings {
        // Settings findings name where the value came from (environment, go env of ...).
        let whence = if f.message.contains(&f.subject) {
            String::new()
        } else {
            format!(" [{}]", f.subject)
        };
        // Padded before it is painted, so the columns line up either way.
        let label = format!("{:<7}", f.severity.label().to_uppercase());
        let label = match f.severity {
            Severity::High => paint.bad(&label),
            Severity::Medium => paint.warn(&label),
            Severity::Low => paint.strong(&label),
        };
        println!("{label} {:<20} {}{whence}", f.check, f.message);
        println!(
            "        {:<20} fix: {}{}",
            "",
            f.fix,
            if f.fixable { " (gomig audit --fix)" } else { "" }
        );
    }
}

fn summary(findings: &[Finding]) -> String {
    let count = |s| findings.iter().filter(|f| f.severity == s).count();
    format!(
        "{} finding(s): {} high, {} medium, {} low",
        findings.len(),
        count(Severity::High),
        count(Severity::Medium),
        count(Severity::Low)
    )
}

pub fn run(args: Args, ctx: &Ctx) -> Result<ExitCode> {
    // Not `ctx.store()`: a store others can write is what this command reports (and fixes).
    let store = Store::at(lookup::home_dir(&EnvSnapshot::capture())?);
    let toolchains = store.toolchains().unwrap_or_default();
    let env = Context::capture();
    let mut findings = audit::audit(&store, &toolchains, &env);
    let mut fixed = Vec::new();
    if args.fix {
        let (done, errors) = audit::repair(store.home(), &findings);
        for e in &errors {
            eprintln!("error: {e}");
        }
        if !done.is_empty() {
            let _ = Event::new(Action::AuditFix)
                .field("fixed", done.len())
                .field("paths", done.iter().map(|f| f.path.clone()).collect::<Vec<_>>())
                .append(&store);
            for f in &done {
                ctx.note(format!("fixed {} ({} -> {})", f.path, f.from, f.to));
            }
        }
        fixed = done;
        findings = audit::audit(&store, &toolchains, &env);
    }
    let failing = findings.iter().any(|f| f.severity >= args.fail_on);
    if args.json {
        let out = json!({
            "findings": findings,
            "fixed": fixed,
            "fail_on": args.fail_on,
            "failed": failing,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        let paint = Paint::stdout();
        print(&findings, paint);
        if findings.is_empty() {
            println!("{}", paint.good("no findings"));
        } else if failing {
            println!("{}", paint.bad(&summary(&findings)));
        } else {
            println!("{}", paint.warn(&summary(&findings)));
        }
    }
    Ok(if failing { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}
