//! The runtime probe: a tiny program built and run with the new toolchain, which must report
//! that toolchain's release and platform. It catches a tree whose `bin/go` is some other Go, a
//! silent toolchain switch, and an install that cannot build or run a program at all.

use std::fs;
use std::process::Command;

use serde::Serialize;

use super::sandbox::{Sandbox, Side};

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
    pub error: Option<String>,
}

fn failed(expected: String, error: String) -> ProbeResult {
    ProbeResult {
        ok: false,
        expected,
        reported: None,
        error: Some(error),
    }
}

pub fn run(sandbox: &Sandbox, side: &Side) -> ProbeResult {
    let expected = format!(
        "{} {}/{}",
        side.expected_version, side.expected_goos, side.expected_goarch
    );
    let dir = sandbox.tmp.path().join("probe");
    let prepared = fs::create_dir_all(&dir)
        .and_then(|_| fs::write(dir.join("go.mod"), "module gomigprobe\n"))
        .and_then(|_| fs::write(dir.join("main.go"), PROGRAM));
    if let Err(e) = prepared {
        return failed(
            expected,
            format!("cannot write the probe program in {}: {e}", dir.display()),
        );
    }
    let exe = dir.join("probe");
    let mut build = sandbox.go(side, &dir, &["build", "-o", "probe", "."]);
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
    let out = match Command::new(&exe).current_dir(&dir).output() {
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
    let ok = reported == expected;
    ProbeResult {
        ok,
        error: (!ok).then(|| {
            format!(
                "a program built with {} reports {reported}, expected {expected}: the toolchain is not what it claims to be",
                side.label
            )
        }),
        expected,
        reported: Some(reported),
    }
}
