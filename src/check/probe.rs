//! The runtime probe: a tiny program built and run with the new toolchain, which must report
//! that toolchain's release and platform. It catches a tree whose `bin/go` is some other Go and
//! an install that cannot build or run a program at all.
//!
//! Then the toolchain switch: `go test` and `go vet` run with `GOTOOLCHAIN=local`, but the user's
//! `go` (the gomig shim) runs with the user's `GOTOOLCHAIN` when one is exported, and `local`
//! otherwise. So the probe also runs B's `go version` in the project as the shim would run it;
//! if that reports another release (GOTOOLCHAIN names one, or allows the project's `go` or
//! `toolchain` line to ask for one), B is not what the project would run, and the probe fails.
//! It never downloads a toolchain to find out (`GOPROXY=off`): a switch that would download
//! fails the probe all the same.

use std::fs;
use std::path::Path;
use std::process::Command;

use serde::Serialize;

use super::sandbox::{Sandbox, Side};
use crate::gotool::release_word;

const PROGRAM: &str = r#"package main

import (
	"fmt"
	"runtime"
)

func main() {
	fmt.Println(runtime.Version())
	fmt.Println(runtime.GOOS)
	fmt.Println(runtime.GOARCH)
}
"#;

#[derive(Debug, Clone, Serialize)]
pub struct ProbeResult {
    pub ok: bool,
    pub expected: String,
    /// `go1.23.9 linux/amd64`, as the program printed it.
    pub reported: Option<String>,
    /// The `GOTOOLCHAIN` the user exported, which the shim passes through (`None`: not
    /// exported, so the shim sets `local`).
    pub gotoolchain: Option<String>,
    /// The release `go version` reports in the project, run as the shim runs it (`go1.23.9`),
    /// or the one it would switch to.
    pub runs_as: Option<String>,
    pub error: Option<String>,
}

fn failed(expected: String, error: String) -> ProbeResult {
    ProbeResult {
        ok: false,
        expected,
        reported: None,
        gotoolchain: exported_gotoolchain(),
        runs_as: None,
        error: Some(error),
    }
}

/// The user's `GOTOOLCHAIN`, when exported (even empty): what the gomig shim passes through.
fn exported_gotoolchain() -> Option<String> {
    std::env::var_os("GOTOOLCHAIN").map(|v| v.to_string_lossy().into_owned())
}

/// The project's `go.work` (or `GOWORK`) else `go.mod` line that names `version` as its `go` or
/// `toolchain` line, described for a message: `/src/app/go.mod's toolchain line (toolchain go1.24.11)`.
fn asked_by(project: &Path, version: &str) -> Option<String> {
    let gowork = std::env::var_os("GOWORK").filter(|w| !w.is_empty() && w != "off");
    let file = match gowork {
        Some(w) => Some(project.join(w)),
        None => project
            .ancestors()
            .find_map(|d| ["go.work", "go.mod"].iter().map(|f| d.join(f)).find(|f| f.is_file())),
    }?;
    let text = fs::read_to_string(&file).ok()?;
    text.lines().find_map(|line| {
        let line = line.split("//").next().unwrap_or("").trim();
        let (key, value) = line.split_once(char::is_whitespace)?;
        let value = value.trim();
        let named = match key {
            "toolchain" => value == version,
            "go" => format!("go{value}") == version,
            _ => false,
        };
        named.then(|| format!("{}'s {key} line ({line})", file.display()))
    })
}

/// What B's `go` runs as in `project` when the shim starts it: the user's GOTOOLCHAIN if
/// exported, else `local`. `Err` says why that is not B.
fn check_switch(
    sandbox: &Sandbox,
    side: &Side,
    project: &Path,
    gotoolchain: Option<&str>,
) -> (Option<String>, Result<(), String>) {
    let mut cmd = Command::new(side.go());
    cmd.arg("version")
        .current_dir(project)
        .env("PWD", project)
        .env("GOROOT", &side.goroot)
        // Find out, never download: a switch that needs a download fails as one.
        .env("GOPROXY", "off")
        .env_remove("GOMIG_GO_VERSION")
        .stdin(std::process::Stdio::null());
    sandbox.guard(&mut cmd);
    if gotoolchain.is_none() {
        cmd.env("GOTOOLCHAIN", "local");
    }
    let setting = match gotoolchain {
        None => "GOTOOLCHAIN=local (what the gomig shim sets when GOTOOLCHAIN is not exported)".to_string(),
        Some("") => "GOTOOLCHAIN exported empty (so go reads it from GOENV or its go.env: auto)".to_string(),
        Some(v) => format!("GOTOOLCHAIN={v}, exported in your environment (the gomig shim passes it through)"),
    };
    let fix = "unset GOTOOLCHAIN (the gomig shim then sets GOTOOLCHAIN=local), or export GOTOOLCHAIN=local";
    let out = match cmd.output() {
        Ok(o) => o,
        Err(e) => return (None, Err(format!("cannot run {}: {e}", side.go().display()))),
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let reason = |to: &str| {
        asked_by(project, to)
            .map(|why| format!(", as {why} asks"))
            .unwrap_or_default()
    };
    if !out.status.success() {
        // `go: downloading go1.22.10 (linux/amd64)`: a switch that was stopped at the download.
        let target = stderr
            .lines()
            .find_map(|l| l.strip_prefix("go: downloading "))
            .and_then(release_word)
            .map(str::to_string);
        let err = match &target {
            Some(to) if *to != side.expected_version => format!(
                "with {setting}, go in {} switches from {} to {to}{} (the probe does not download it: {}); {fix}",
                project.display(),
                side.label,
                reason(to),
                stderr.trim().lines().last().unwrap_or("").trim(),
            ),
            _ => format!(
                "with {setting}, {}'s go version fails in {}: {}",
                side.label,
                project.display(),
                stderr.trim()
            ),
        };
        return (target, Err(err));
    }
    let Some(runs_as) = release_word(&stdout).map(str::to_string) else {
        return (
            None,
            Err(format!(
                "with {setting}, {}'s go version in {} printed something unexpected: {:?}",
                side.label,
                project.display(),
                stdout.trim()
            )),
        );
    };
    if runs_as == side.expected_version {
        return (Some(runs_as), Ok(()));
    }
    let err = format!(
        "with {setting}, go in {} runs as {runs_as}, not {}: go switches toolchains{}; {fix}",
        project.display(),
        side.expected_version,
        reason(&runs_as),
    );
    (Some(runs_as), Err(err))
}

/// Builds and runs the probe program with `side`, then checks what `side`'s `go` runs as in
/// `project` (the toolchain switch).
pub fn run(sandbox: &Sandbox, side: &Side, project: &Path) -> ProbeResult {
    let expected = format!(
        "{} {}/{}",
        side.expected_version, side.expected_goos, side.expected_goarch
    );
    // Beside the check's build cache, one directory per toolchain, kept between runs: go build
    // then finds the program up to date (same sources, same toolchain build IDs) and skips the
    // compile and link, while a changed toolchain rebuilds it.
    let kept = sandbox.kept_dir("gomig-probe", side, None);
    let write_if_changed = |dir: &Path, name: &str, text: &str| {
        if fs::read(dir.join(name)).ok().as_deref() == Some(text.as_bytes()) {
            return Ok(());
        }
        fs::write(dir.join(name), text)
    };
    // The lock first (kept_dir takes it): another check may be building from these files.
    let prepared = kept.and_then(|(dir, lock)| {
        write_if_changed(&dir, "go.mod", "module gomigprobe\n")?;
        write_if_changed(&dir, "main.go", PROGRAM)?;
        Ok((dir, lock))
    });
    let (dir, _lock) = match prepared {
        Ok(kept) => kept,
        Err(e) => {
            return failed(
                expected,
                format!(
                    "cannot write the probe program in {}: {e}",
                    sandbox.gocache.join("gomig-probe").display()
                ),
            );
        }
    };
    let exe = dir.join("probe");
    let mut build = sandbox.go(side, &dir, &["build", "-trimpath", "-o", "probe", "."]);
    // The probe is ours: the user's build settings and any workspace must not change it.
    build
        .env("GOFLAGS", "")
        .env("GOWORK", "off")
        .env("GO111MODULE", "on")
        .env_remove("GOOS")
        .env_remove("GOARCH");
    let out = match build.output() {
        Ok(o) => o,
        Err(e) => return failed(expected, format!("cannot run {}: {e}", side.go().display())),
    };
    if !out.status.success() {
        return failed(
            expected,
            format!(
                "the probe program does not build with {}: {}",
                side.label,
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        );
    }
    let mut run = Command::new(&exe);
    run.current_dir(&dir);
    sandbox.guard(&mut run);
    let out = match run.output() {
        Ok(o) => o,
        Err(e) => {
            return failed(
                expected,
                format!("the probe program built by {} does not run: {e}", side.label),
            );
        }
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let [version, goos, goarch] = lines.as_slice() else {
        return failed(
            expected,
            format!("the probe program printed something unexpected: {:?}", text.trim()),
        );
    };
    // `go1.23.9 X:boringcrypto` is still go1.23.9.
    let release = version.split_whitespace().next().unwrap_or(version);
    let reported = format!("{release} {goos}/{goarch}");
    let gotoolchain = exported_gotoolchain();
    if reported != expected {
        return ProbeResult {
            ok: false,
            error: Some(format!(
                "a program built with {} reports {reported}, expected {expected}: the toolchain is not what it claims to be",
                side.label
            )),
            expected,
            reported: Some(reported),
            gotoolchain,
            runs_as: None,
        };
    }
    let (runs_as, switch) = check_switch(sandbox, side, project, gotoolchain.as_deref());
    ProbeResult {
        ok: switch.is_ok(),
        error: switch.err(),
        expected,
        reported: Some(reported),
        gotoolchain,
        runs_as,
    }
}
