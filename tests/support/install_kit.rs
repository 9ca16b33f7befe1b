//! What the `gomig install` tests share: releases for the loopback download site (real Go
//! archives, and a small real one), running `gomig install` against it, and the checks that
//! nothing was installed. Included by tests/install*.rs next to `mod support` and `mod dlsite`.
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::dlsite::{self, DistFile, Release, Site, TarEntry};
use crate::support::*;

/// The real release of `version`: the official archive of the real Go tree, and the other
/// files go.dev lists for it (which answer 404).
pub fn real_release(version: &str) -> Release {
    Release::from_goroot(version, &go_dist(version))
}

/// A release the index lists whose archive for this host answers 404.
pub fn listed_release(version: &str) -> Release {
    Release::new(version).with_file(DistFile::listed(&dlsite::official_filename(version)))
}

/// The entries of a small real Go tree: the release's own `VERSION`, `go.env`, `bin/go`,
/// `bin/gofmt` and `src/errors`: `bin/go version` reports the release, in a tenth of the
/// bytes, so the tests that do not need the whole tree stay quick.
pub fn mini_entries(version: &str) -> Vec<TarEntry> {
    let root = go_dist(version);
    let mut entries = vec![
        TarEntry::Dir {
            name: "go/".into(),
            mode: 0o755,
        },
        TarEntry::Dir {
            name: "go/bin/".into(),
            mode: 0o755,
        },
        TarEntry::Dir {
            name: "go/src/".into(),
            mode: 0o755,
        },
        TarEntry::Dir {
            name: "go/src/errors/".into(),
            mode: 0o755,
        },
    ];
    let mut add = |rel: &str, mode: u32| {
        entries.push(TarEntry::File {
            name: format!("go/{rel}"),
            mode,
            data: fs::read(root.join(rel)).unwrap_or_else(|e| panic!("reading {rel} of {}: {e}", root.display())),
        });
    };
    add("VERSION", 0o644);
    add("go.env", 0o644);
    add("bin/go", 0o755);
    add("bin/gofmt", 0o755);
    let mut sources: Vec<String> = fs::read_dir(root.join("src/errors"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    sources.sort();
    for name in sources {
        add(&format!("src/errors/{name}"), 0o644);
    }
    entries
}

/// Writes `dir/<official name>`, the small real tree of `version`; returns its path.
pub fn mini_archive(version: &str, dir: &Path) -> PathBuf {
    let path = dir.join(dlsite::official_filename(version));
    dlsite::write_tar_gz(&path, &mini_entries(version));
    path
}

/// A release whose host archive is the small real tree of `version`, written under `dir`.
pub fn mini_release(version: &str, dir: &Path) -> Release {
    let path = mini_archive(version, dir);
    Release::custom(version, &dlsite::official_filename(version), &path)
}

/// A site serving the small real 1.22.10 tree (and its archive's name, sha256 and size).
pub struct MiniSite {
    _tmp: tempfile::TempDir,
    pub site: Site,
    pub file: String,
    pub sha256: String,
    pub size: u64,
}

pub fn mini_site() -> MiniSite {
    let tmp = tempfile::tempdir().unwrap();
    let release = mini_release(GO_122, tmp.path());
    let file = archive_name(GO_122);
    let path = tmp.path().join(&file);
    let (sha256, size) = dlsite::sha256_file(&path).unwrap();
    MiniSite {
        site: Site::start(vec![release]),
        _tmp: tmp,
        file,
        sha256,
        size,
    }
}

/// The archive file name for this host, e.g. `go1.22.10.linux-amd64.tar.gz`.
pub fn archive_name(version: &str) -> String {
    dlsite::official_filename(version)
}

/// `gomig ARGS` with the mirrors set (comma-separated in `GOMIG_MIRROR`), short timeouts and
/// backoff so that fault tests stay quick.
pub fn gomig_with_mirrors(env: &TestEnv, mirrors: &[String], args: &[&str]) -> Command {
    let mut cmd = env.gomig(args);
    cmd.env("GOMIG_MIRROR", mirrors.join(","))
        .env("GOMIG_HTTP_TIMEOUT_MS", "3000")
        .env("GOMIG_RETRY_BASE_MS", "20");
    cmd
}

/// `gomig ARGS` against `site`.
pub fn gomig_site(env: &TestEnv, site: &Site, args: &[&str]) -> Command {
    gomig_with_mirrors(env, &[site.url()], args)
}

/// The names under `toolchains/`, hidden ones (staging) included, sorted.
pub fn toolchain_entries(env: &TestEnv) -> Vec<String> {
    let mut names: Vec<String> = match fs::read_dir(env.gomig_home.join("toolchains")) {
        Ok(rd) => rd.map(|e| e.unwrap().file_name().into_string().unwrap()).collect(),
        Err(_) => Vec::new(),
    };
    names.sort();
    names
}

/// `log/events.jsonl`, parsed.
pub fn events(env: &TestEnv) -> Vec<Value> {
    match fs::read_to_string(env.gomig_home.join("log/events.jsonl")) {
        Ok(text) => text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad event line {l:?}: {e}")))
            .collect(),
        Err(_) => Vec::new(),
    }
}

pub fn install_events(env: &TestEnv) -> Vec<Value> {
    events(env).into_iter().filter(|e| e["action"] == "install").collect()
}

/// `gomig list --json`, the versions.
pub fn listed_versions(env: &TestEnv) -> Vec<String> {
    let out = env.gomig_ok(&["list", "--json"]);
    let rows: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("gomig list --json: {e}\n{out}"));
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| r["version"].as_str().unwrap().to_string())
        .collect()
}

/// Nothing installed, nothing staged, no manifest, no install logged: as if never run.
pub fn assert_nothing_installed(env: &TestEnv) {
    let entries = toolchain_entries(env);
    assert!(
        entries.is_empty(),
        "toolchains/ should be empty (no toolchain, no staging directory), has {entries:?}"
    );
    let manifests: Vec<String> = match fs::read_dir(env.gomig_home.join("manifests")) {
        Ok(rd) => rd.map(|e| e.unwrap().file_name().into_string().unwrap()).collect(),
        Err(_) => Vec::new(),
    };
    assert!(
        manifests.is_empty(),
        "no manifest should be recorded, found {manifests:?}"
    );
    assert!(
        listed_versions(env).is_empty(),
        "gomig list shows toolchains after a failed install"
    );
    assert!(
        install_events(env).is_empty(),
        "a failed install was logged as an install"
    );
}

/// Runs `cmd`, asserts it fails (exit 1), and returns stderr.
pub fn install_fails(cmd: &mut Command) -> String {
    let err = fails(cmd);
    eprintln!("--- the error a user sees:\n{err}");
    assert!(err.contains("error:"), "no error line:\n{err}");
    assert!(
        err.contains("nothing was installed"),
        "the error should say nothing was installed:\n{err}"
    );
    err
}

/// The real `go version` line of a release on this host, e.g. `go version go1.22.10 linux/amd64`.
pub fn go_version_line(version: &str) -> String {
    let (os, arch) = dlsite::host_platform();
    format!("go version go{version} {os}/{arch}")
}

/// Every path under `root` whose name contains `needle` (no symlinks followed).
pub fn find_named(root: &Path, needle: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(rd) = fs::read_dir(&dir) else { continue };
        for e in rd.flatten() {
            let path = e.path();
            if e.file_name().to_string_lossy().contains(needle) {
                found.push(path.clone());
            }
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(path);
            }
        }
    }
    found
}

/// The SHA-256 (hex) of a file.
pub fn sha256_of(path: &Path) -> String {
    dlsite::sha256_file(path).unwrap().0
}

/// Runs `cmd` and returns its output, or kills it and fails the test when it is still running
/// after `limit` (a download that would hold an install forever).
pub fn run_within(cmd: &mut Command, limit: std::time::Duration) -> std::process::Output {
    use std::process::Stdio;
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let start = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "still running after {limit:?}, killed:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// [`install_fails`], with the run bounded by `limit` ([`run_within`]).
pub fn install_fails_within(cmd: &mut Command, limit: std::time::Duration) -> String {
    let out = run_within(cmd, limit);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    eprintln!("--- the error a user sees:\n{err}");
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("error:") && err.contains("nothing was installed"),
        "the error should say nothing was installed:\n{err}"
    );
    err
}
