//! `gomig doctor`: why the Go you get is the Go you get, and what to fix.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;

use super::Ctx;
use crate::config::Config;
use crate::health::audit::Context;
use crate::health::surroundings;
use crate::install::shims;
use crate::lookup;
use crate::paint::Paint;
use crate::resolve::Tool;
use crate::store::Store;

/// Check the setup: PATH order, shims, GOROOT/GOTOOLCHAIN overrides, the default, adopted
/// trees, leftovers, version conflicts and the config; and what others could change around it
/// (the checks `gomig audit` shares: PATH entries before the shims, the system Go, the config file). Exit status 1 when something needs fixing.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  gomig doctor")]
pub struct Args {}

struct Report {
    problems: usize,
    paint: Paint,
}

impl Report {
    fn ok(&self, msg: impl AsRef<str>) {
        println!("{}    {}", self.paint.good("ok"), msg.as_ref());
    }
    /// Not a problem: what to do next.
    fn next(&self, msg: impl AsRef<str>, what: impl AsRef<str>) {
        println!(
            "{}  {}\n      run: {}",
            self.paint.warn("next"),
            msg.as_ref(),
            what.as_ref()
        );
    }
    fn warn(&mut self, msg: impl AsRef<str>, fix: impl AsRef<str>) {
        self.problems += 1;
        println!(
            "{}   {}\n      fix: {}",
            self.paint.bad("FIX"),
            msg.as_ref(),
            fix.as_ref()
        );
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => false,
    }
}

/// `go` on PATH in order, as the shell would find it.
fn go_on_path() -> Vec<PathBuf> {
    which::which_all("go").map(|it| it.collect()).unwrap_or_default()
}

fn go_env_file() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("GOENV").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    dirs::config_dir().map(|d| d.join("go/env"))
}

pub fn run(_args: Args, ctx: &Ctx) -> Result<ExitCode> {
    let mut r = Report {
        problems: 0,
        paint: Paint::stdout(),
    };
    // Before the store: an unsafe config file makes the store refuse, and doctor says why.
    check_surroundings(&mut r);
    let store = match ctx.store() {
        Ok(s) => s,
        Err(e) => {
            r.warn(format!("{e:#}"), "see above");
            return Ok(ExitCode::FAILURE);
        }
    };
    check_path_and_shims(&store, &mut r);
    check_overrides(&mut r);
    // A store with no toolchain yet is a normal start, not a fault: say once what to do next.
    let empty = store.toolchains().is_ok_and(|t| t.is_empty()) && store.default_name().is_ok_and(|d| d.is_none());
    if empty {
        r.next(
            "no Go toolchain yet",
            "gomig install latest (behind a proxy or a firewall: gomig config set mirror URL first; offline: gomig install --archive FILE --sha256 HEX), or adopt one you have: gomig add --discover --yes",
        );
    } else {
        check_store(&store, &mut r);
        check_here(&mut r);
    }
    match Config::load() {
        Ok(_) => r.ok("config is valid"),
        Err(e) => r.warn(format!("{e}"), "edit the config file"),
    }
    if r.problems == 0 {
        println!("\n{}", r.paint.good("no problems found"));
        Ok(ExitCode::SUCCESS)
    } else {
        println!("\n{}", r.paint.bad(&format!("{} problem(s) found", r.problems)));
        Ok(ExitCode::FAILURE)
    }
}

/// The checks `gomig audit` makes too: PATH before the shims, the system Go, the config file.
fn check_surroundings(r: &mut Report) {
    let Ok(home) = lookup::home_dir(&lookup::EnvSnapshot::capture()) else {
        return;
    };
    let home = std::fs::canonicalize(&home).unwrap_or(home);
    let findings = surroundings::check(&Context::capture(), &home);
    if findings.is_empty() {
        r.ok("PATH before the shims, the system Go and the config file: only you or root can change them");
    }
    for f in findings {
        r.warn(f.message, f.fix);
    }
}

fn check_path_and_shims(store: &Store, r: &mut Report) {
    let shim_go = store.shims_dir().join("go");
    let winners = go_on_path();
    match winners.first() {
        Some(first) if same_file(first, &shim_go) => {
            r.ok(format!("`go` on PATH is gomig's shim ({})", first.display()))
        }
        Some(first) => r.warn(
            format!(
                "`go` on PATH is {}, not gomig's shim {}",
                first.display(),
                shim_go.display()
            ),
            "put the shims first: eval \"$(gomig init bash)\" (or zsh/fish) at the END of your shell startup file",
        ),
        None => r.warn(
            "no `go` on PATH",
            "eval \"$(gomig init bash)\" (or zsh/fish) in your shell startup file",
        ),
    }
    match shims::shim_source() {
        Ok(source) => match shims::shims_current(store, &source) {
            Ok(true) => r.ok("shims are present and match this gomig"),
            _ => r.warn(
                format!("shims in {} are missing or outdated", store.shims_dir().display()),
                "run: gomig init bash >/dev/null (recreates them)",
            ),
        },
        Err(e) => r.warn(format!("{e:#}"), "reinstall gomig"),
    }
}

fn check_overrides(r: &mut Report) {
    if let Some(goroot) = std::env::var_os("GOROOT") {
        r.warn(
            format!(
                "GOROOT is exported ({}); gomig's shim overrides it, but other tools may use the stale value",
                PathBuf::from(goroot).display()
            ),
            "remove `export GOROOT=...` from your shell startup files",
        );
    } else {
        r.ok("GOROOT is not exported");
    }
    match std::env::var("GOTOOLCHAIN") {
        Ok(v) if v != "local" => r.warn(
            format!(
                "GOTOOLCHAIN={v} is exported: the go shim serves it from gomig's store, but a go started without the shim (an IDE's GOROOT, a Go binary by path) may download and run a toolchain gomig did not verify"
            ),
            "pin with gomig shell VERSION or gomig local VERSION instead, then unset GOTOOLCHAIN",
        ),
        _ => r.ok("GOTOOLCHAIN is not overriding gomig"),
    }
    if let Some(file) = go_env_file()
        && let Ok(text) = std::fs::read_to_string(&file)
    {
        for line in text.lines() {
            let key = line.split('=').next().unwrap_or("").trim();
            if key == "GOROOT" || (key == "GOTOOLCHAIN" && line.trim() != "GOTOOLCHAIN=local") {
                r.warn(
                    format!("{} sets {} (go env -w)", file.display(), line.trim()),
                    format!("go env -u {key}"),
                );
            }
        }
    }
}

fn check_store(store: &Store, r: &mut Report) {
    match store.default_name() {
        Ok(Some(name)) => match store.toolchain(&name) {
            Ok(t) if t.is_present() => r.ok(format!("default is {name}")),
            _ => r.warn(
                format!("the default {name} is missing or broken"),
                format!("gomig install {} or gomig switch VERSION", crate::store::short(&name)),
            ),
        },
        Ok(None) => {
            // Name a real toolchain to switch to: the newest installed.
            let newest = store.toolchains().ok().and_then(|t| t.last().map(|t| t.name.clone()));
            let fix = newest.map_or("gomig switch VERSION".to_string(), |n| {
                format!("gomig switch {}", crate::store::short(&n))
            });
            r.warn(
                "no global default is set: `go` outside a project has nothing to run",
                fix,
            )
        }
        Err(e) => r.warn(format!("{e}"), "gomig switch VERSION"),
    }
    match store.toolchains() {
        Ok(list) => {
            let default = store.default_name().ok().flatten();
            let rollback = store.rollback_target().ok().flatten();
            for t in list.iter().filter(|t| t.adopted_from.is_some() && !t.is_present()) {
                // --force only where remove would refuse without it.
                let needed = [&default, &rollback]
                    .iter()
                    .any(|n| n.as_deref() == Some(t.name.as_str()));
                let force = if needed { " --force" } else { "" };
                r.warn(
                    format!("adopted {} points at {}, which is gone", t.name, t.root().display()),
                    format!("gomig remove {}{force}, then gomig add NEW_PATH", t.name),
                );
            }
        }
        Err(e) => r.warn(format!("{e}"), "check the store's permissions"),
    }
    let leftovers: Vec<_> = std::fs::read_dir(store.toolchains_dir())
        .map(|it| {
            it.flatten()
                .filter(|e| e.file_name().to_string_lossy().starts_with(".staging-"))
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default();
    if leftovers.is_empty() {
        r.ok("no interrupted installs left behind");
    } else {
        for p in leftovers {
            r.warn(
                format!("{} is left from an interrupted install", p.display()),
                "the next gomig install removes it (or delete it)",
            );
        }
    }
}

fn check_here(r: &mut Report) {
    match lookup::resolve_here(Tool::Go) {
        Ok(res) => {
            r.ok(format!(
                "here: {} ({})",
                super::explain::version_label(&res),
                super::explain::reason(&res)
            ));
            if let Some(conflict) = super::explain::pin_conflict(&res) {
                r.warn(
                    conflict,
                    "gomig local VERSION with a version that meets go.mod, or remove the pin",
                );
            }
        }
        // The resolver's message ends with the command that fixes it.
        Err(e) => {
            let text = e.to_string();
            let fix = text.rsplit_once("run: ").map_or(
                "gomig current explains what this directory asks for".to_string(),
                |(_, cmd)| cmd.to_string(),
            );
            r.warn(format!("here: {text}"), fix)
        }
    }
}
