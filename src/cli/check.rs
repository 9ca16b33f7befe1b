//! `gomig check --to B [--from A] [--cross os/arch,...] [PACKAGES]`: compare a module's tests
//! and vet findings between two toolchains, probe B's runtime, cross-compile with B.

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::Result;

use super::Ctx;
use super::checking::{ProgressLine, RunArgs, side_for, style};
use crate::check::{self, CheckError, Options, Report};
use crate::lookup::{self, Accept};
use crate::resolve::Tool;

/// Exit status when the check could not run at all.
pub const COULD_NOT_RUN: u8 = 2;

/// Run go vet and go test with the current Go and with another one, and show what got worse.
///
/// Both run in a sandbox (GOTOOLCHAIN=local, their own GOROOT, a build cache that is not yours,
/// a private GOTMPDIR), concurrently. Regressions: a test that passes with A and fails, panics,
/// times out or is skipped with B; a package that no longer builds; a new vet finding; a runtime
/// probe that does not report B (a program built with B, and B's go version in the project run
/// with your exported GOTOOLCHAIN, as the go shim runs it); a cross target that built with A
/// and does not with B.
/// Exit status: 0 no regressions, 1 regressions, 2 the check could not run.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  gomig check --to 1.23.9                  # current Go vs 1.23.9, ./...\n  gomig check --from 1.22 --to 1.23 ./pkg/...\n  gomig check --to 1.23.9 --cross linux/arm64,windows/amd64 --timeout 2m\n  gomig check --to 1.23.9 --json > check.json   # for CI"
)]
pub struct Args {
    /// The toolchain to move to (installed: exact, a prefix such as 1.23, or latest).
    #[arg(long, value_name = "VERSION", add = crate::cli::complete::toolchain_or_system())]
    pub to: String,
    /// The toolchain to compare against (default: what this directory uses now).
    #[arg(long, value_name = "VERSION", add = crate::cli::complete::toolchain_or_system())]
    pub from: Option<String>,
    #[command(flatten)]
    pub run: RunArgs,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Package patterns (default ./...).
    pub packages: Vec<String>,
}

fn could_not_run(err: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {err}");
    eprintln!("the check could not run (exit status {COULD_NOT_RUN})");
    ExitCode::from(COULD_NOT_RUN)
}

pub fn run(args: Args, ctx: &Ctx) -> Result<ExitCode> {
    let store = match ctx.store() {
        Ok(s) => s,
        Err(e) => return Ok(could_not_run(e)),
    };
    let cwd = match lookup::current_dir() {
        Ok(d) => d,
        Err(e) => {
            return Ok(could_not_run(lookup::cwd_problem(&e)));
        }
    };
    let Some(dir) = check::module_root(&cwd) else {
        return Ok(could_not_run(CheckError::NotInModule {
            dir: cwd.display().to_string(),
        }));
    };
    let to = match lookup::toolchain_arg(&args.to, Accept::OrSystem)
        .map_err(anyhow::Error::from)
        .and_then(|r| side_for(&store, &r))
    {
        Ok(s) => s,
        Err(e) => return Ok(could_not_run(format!("--to {}: {e}", args.to))),
    };
    let from = match &args.from {
        Some(spec) => lookup::toolchain_arg(spec, Accept::OrSystem).map_err(anyhow::Error::from),
        None => lookup::resolve_here(Tool::Go).map_err(anyhow::Error::from),
    };
    let from = match from.and_then(|r| side_for(&store, &r)) {
        Ok(s) => s,
        Err(e) => {
            return Ok(could_not_run(format!(
                "{}: {e}",
                args.from
                    .as_deref()
                    .map_or("the current toolchain".to_string(), |f| format!("--from {f}"))
            )));
        }
    };
    let cross = match args.run.targets() {
        Ok(t) => t,
        Err(e) => return Ok(could_not_run(e)),
    };
    let trim = match args.run.trim() {
        Ok(t) => t,
        Err(e) => return Ok(could_not_run(e)),
    };
    let opts = Options {
        dir,
        from,
        to,
        packages: args.packages.clone(),
        cross,
        timeout: args.run.timeout.clone(),
        gocache: args.run.gocache(&store),
        trim,
        reruns: args.run.reruns,
    };
    let line = ProgressLine::new(!ctx.quiet && std::io::stderr().is_terminal(), "");
    let result = check::run(&opts, &|p| line.update(p));
    line.finish();
    let report = match result {
        Ok(r) => r,
        Err(e) => return Ok(could_not_run(e)),
    };
    print_report(&report, args.json)?;
    Ok(if report.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

pub fn print_report(report: &Report, json: bool) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(report)?);
    } else {
        print!("{}", report.render(style()));
    }
    Ok(())
}
