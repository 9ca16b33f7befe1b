//! No silent re-blessing (`docs/integrity.md`), and the store transaction's install and restore
//! steps under kill -9: `snapshot` refuses a tree that fails its manifest unless
//! `--accept-changes`; `restore` over an installed release verifies the tree on disk and repairs
//! it or refuses, and never runs an archive's `bin/go` before the checks that need no program
//! of it have passed.
//!
//! Fake GOROOTs (a shell-script `bin/go` that reports its release) where a tree's contents are
//! all that matters; the small real Go tree of the install tests for `install --archive`.

#[path = "support/dlsite.rs"]
mod dlsite;
#[path = "support/install_kit.rs"]
mod kit;
mod support;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::*;

const V: &str = "1.30.1";
const NAME: &str = "go1.30.1";

/// `gomig ARGS`, with Go's telemetry off.
fn gomig(env: &TestEnv, args: &[&str]) -> Command {
    let mut cmd = env.gomig(args);
    cmd.env("GOTELEMETRY", "off");
    cmd
}

fn gomig_ok(env: &TestEnv, args: &[&str]) -> Output {
    let out = run(&mut gomig(env, args));
    assert!(out.status.success(), "gomig {args:?} failed:\n{}", describe(&out));
    out
}

/// A fake GOROOT at `root`: `bin/go version` reports go1.30.1 (and, if `marker` is given,
/// first creates that file: proof that it ran), a few sources.
fn fake_tree(root: &Path, marker: Option<&Path>) {
    fs::create_dir_all(root.join("bin")).unwrap();
    fs::create_dir_all(root.join("src/fmt")).unwrap();
    let touch = marker.map(|m| format!("touch '{}'\n", m.display())).unwrap_or_default();
    let go = root.join("bin/go");
    fs::write(
        &go,
        format!(
            "#!/bin/sh\n{touch}case \"$1\" in version) echo \"go version {NAME} linux/amd64\";; *) exit 2;; esac\n"
        ),
    )
    .unwrap();
    fs::set_permissions(&go, fs::Permissions::from_mode(0o755)).unwrap();
    fs::write(root.join("VERSION"), format!("{NAME}\ntime 2030-01-01T00:00:00Z\n")).unwrap();
    fs::write(root.join("src/fmt/print.go"), "package fmt\n\nfunc Println() {}\n").unwrap();
    fs::write(root.join("src/fmt/doc.go"), "// Package fmt.\npackage fmt\n").unwrap();
}

/// go1.30.1 installed in the store (a directory, as gomig installs), with its manifest.
fn installed(env: &TestEnv, marker: Option<&Path>) -> PathBuf {
    let root = env.gomig_home.join("toolchains").join(NAME);
    fake_tree(&root, marker);
    gomig_ok(env, &["snapshot", V]);
    root
}

fn verify_code(env: &TestEnv) -> Option<i32> {
    run(&mut gomig(env, &["verify", V])).status.code()
}

fn manifest_path(env: &TestEnv) -> PathBuf {
    env.gomig_home.join(format!("manifests/{NAME}.manifest"))
}

fn events(env: &TestEnv) -> Vec<Value> {
    fs::read_to_string(env.gomig_home.join("log/events.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn last_event(env: &TestEnv, action: &str) -> Value {
    events(env).into_iter().rev().find(|e| e["action"] == action).unwrap()
}

/// `gomig archive 1.30.1 -o DIR/`.
fn archive(env: &TestEnv, dir: &Path) -> PathBuf {
    fs::create_dir_all(dir).unwrap();
    gomig_ok(env, &["archive", V, "-o", &format!("{}/", dir.display())]);
    let path = dir.join(dlsite::official_filename(V));
    assert!(path.is_file());
    path
}

/// The hidden entries (staging, trash) in `toolchains/`.
fn leftovers(env: &TestEnv) -> Vec<String> {
    fs::read_dir(env.gomig_home.join("toolchains"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect()
}

/// Runs `gomig ARGS` held at the transaction's test hook `step`, kill -9s it there, and waits
/// for it to be gone.
fn kill_at(env: &TestEnv, args: &[&str], step: &str) {
    let pause = env.root().join(format!("pause-{}", step.replace(':', "-")));
    let mut child = gomig(env, args)
        .env("GOMIG_TEST_PAUSE_AT", step)
        .env("GOMIG_TEST_PAUSE_FILE", &pause)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let pid = loop {
        if let Ok(text) = fs::read_to_string(&pause)
            && let Ok(pid) = text.trim().parse::<u32>()
        {
            break pid;
        }
        if let Some(status) = child.try_wait().unwrap() {
            let out = child.wait_with_output().unwrap();
            panic!(
                "gomig {args:?} finished ({status}) without reaching {step}:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        assert!(Instant::now() < deadline, "gomig {args:?} never reached {step}");
        std::thread::sleep(Duration::from_millis(5));
    };
    assert_eq!(pid, child.id());
    ok(Command::new("kill").args(["-9", &pid.to_string()]));
    child.wait().unwrap();
    let _ = fs::remove_file(&pause);
}

// ---------------------------------------------------------------------------------------------
// snapshot
// ---------------------------------------------------------------------------------------------

#[test]
fn snapshot_refuses_a_tampered_tree_unless_accept_changes_and_then_prints_what_it_accepts() {
    let env = TestEnv::new();
    let root = installed(&env, None);
    assert_eq!(verify_code(&env), Some(0));
    let before = fs::read(manifest_path(&env)).unwrap();

    fs::write(
        root.join("src/fmt/print.go"),
        "package fmt\n\nfunc Println() { evil() }\n",
    )
    .unwrap();
    fs::write(root.join("src/fmt/extra.go"), "package fmt\n").unwrap();
    assert_eq!(verify_code(&env), Some(1));

    // Refused: the manifest is unchanged, verify still fails.
    let out = run(&mut gomig(&env, &["snapshot", V]));
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let err = stderr(&out);
    for part in [
        "go1.30.1 does not match its manifest",
        "(2 difference(s))",
        "modified  src/fmt/print.go",
        "added     src/fmt/extra.go",
        "nothing was recorded",
        "gomig snapshot 1.30.1 --accept-changes",
    ] {
        assert!(err.contains(part), "{part:?} missing:\n{}", describe(&out));
    }
    assert_eq!(fs::read(manifest_path(&env)).unwrap(), before, "the manifest changed");
    assert_eq!(verify_code(&env), Some(1), "a refused snapshot blessed the tree");
    let refused = last_event(&env, "snapshot");
    assert_eq!(
        (refused["action"].as_str(), refused["result"].as_str()),
        (Some("snapshot"), Some("error"))
    );

    // Accepted: each difference printed (even with -q) and logged; verify passes after.
    let out = gomig_ok(&env, &["-q", "snapshot", V, "--accept-changes"]);
    let err = stderr(&out);
    assert!(err.contains("accepted 2 change(s) to go1.30.1"), "{}", describe(&out));
    assert!(err.contains("  modified  src/fmt/print.go"), "{}", describe(&out));
    assert!(err.contains("  added     src/fmt/extra.go"), "{}", describe(&out));
    assert_ne!(fs::read(manifest_path(&env)).unwrap(), before);
    assert_eq!(verify_code(&env), Some(0));
    let accepted = last_event(&env, "snapshot");
    assert_eq!(accepted["result"], "ok");
    assert_eq!(
        accepted["accepted_changes"].as_array().map(Vec::len),
        Some(2),
        "{accepted}"
    );

    // An intact tree is recorded again without the flag, and a new one as before.
    gomig_ok(&env, &["snapshot", V]);
    fs::remove_file(manifest_path(&env)).unwrap();
    gomig_ok(&env, &["snapshot", V]);
    assert_eq!(verify_code(&env), Some(0));
}

// ---------------------------------------------------------------------------------------------
// restore over an installed release
// ---------------------------------------------------------------------------------------------

#[test]
fn restore_over_a_damaged_installed_tree_repairs_it_and_over_an_intact_one_says_so() {
    let env = TestEnv::new();
    let root = installed(&env, None);
    let backup = archive(&env, &env.root().join("backup"));
    let file = backup.to_str().unwrap();

    // Intact: nothing to do.
    let out = gomig_ok(&env, &["restore", file]);
    assert!(
        stderr(&out).contains("go1.30.1 is already installed and intact"),
        "{}",
        describe(&out)
    );

    // Damaged: repaired from the archive.
    fs::write(root.join("src/fmt/print.go"), "package fmt // damaged\n").unwrap();
    fs::remove_file(root.join("src/fmt/doc.go")).unwrap();
    assert_eq!(verify_code(&env), Some(1));
    let out = gomig_ok(&env, &["restore", file]);
    let err = stderr(&out);
    for part in [
        "repaired go1.30.1: its tree did not match its manifest (2 difference(s))",
        "modified  src/fmt/print.go",
        "removed   src/fmt/doc.go",
        "replaced it with the archive's tree",
    ] {
        assert!(err.contains(part), "{part:?} missing:\n{}", describe(&out));
    }
    assert_eq!(verify_code(&env), Some(0), "the tree was not repaired");
    assert!(root.join("src/fmt/doc.go").is_file());
    assert!(leftovers(&env).is_empty(), "{:?}", leftovers(&env));
    let event = last_event(&env, "restore");
    assert_eq!(event["action"], "restore");
    assert_eq!(event["repaired"].as_array().map(Vec::len), Some(2), "{event}");

    // And once repaired, intact again.
    let out = gomig_ok(&env, &["restore", file]);
    assert!(
        stderr(&out).contains("is already installed and intact"),
        "{}",
        describe(&out)
    );
}

#[test]
fn restore_of_an_archive_that_differs_from_the_recorded_manifest_never_runs_its_bin_go() {
    // The archive: another go1.30.1, consistent in itself, whose bin/go leaves a marker.
    let marker = std::env::temp_dir().join(format!("gomig-rebless-marker-{}", std::process::id()));
    let other = TestEnv::new();
    installed(&other, Some(&marker));
    let foreign = archive(&other, &other.root().join("out"));
    let _ = fs::remove_file(&marker);
    let file = foreign.to_str().unwrap();

    // Over the installed go1.30.1, which recorded another tree: refused, bin/go never run.
    let env = TestEnv::new();
    installed(&env, None);
    let before = fs::read(manifest_path(&env)).unwrap();
    let out = run(&mut gomig(&env, &["restore", file]));
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        stderr(&out).contains("go1.30.1 is already installed with another tree"),
        "{}",
        describe(&out)
    );
    assert!(!marker.exists(), "the archive's bin/go was run before the checks");
    assert_eq!(fs::read(manifest_path(&env)).unwrap(), before);
    assert_eq!(verify_code(&env), Some(0));

    // With only the manifest left (the tree gone): refused the same way.
    fs::remove_dir_all(env.gomig_home.join("toolchains").join(NAME)).unwrap();
    let out = run(&mut gomig(&env, &["restore", file]));
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(stderr(&out).contains("but the store recorded"), "{}", describe(&out));
    assert!(!marker.exists(), "the archive's bin/go was run before the checks");
    assert!(leftovers(&env).is_empty(), "{:?}", leftovers(&env));
}

// ---------------------------------------------------------------------------------------------
// kill -9 in the transaction's steps
// ---------------------------------------------------------------------------------------------

#[test]
fn a_kill_during_install_commit_leaves_nothing_installed_or_a_complete_install() {
    let env = TestEnv::new();
    let dir = env.root().join("dl");
    fs::create_dir_all(&dir).unwrap();
    let version = GO_122;
    let name = format!("go{version}");
    let file = kit::mini_archive(version, &dir);
    let file = file.to_str().unwrap();
    let tree = env.gomig_home.join("toolchains").join(&name);
    for step in ["install:before-manifest", "install:before-rename", "install:before-log"] {
        kill_at(&env, &["install", "--archive", file], step);
        let listed = stdout(&run(&mut gomig(&env, &["list"])));
        if step == "install:before-log" {
            // The rename was made: installed, whole, with its manifest.
            assert!(tree.join("bin/go").is_file(), "{step}");
            assert!(listed.contains(&name), "{step}: {listed}");
            assert_eq!(
                run(&mut gomig(&env, &["verify", version])).status.code(),
                Some(0),
                "{step}"
            );
        } else {
            assert!(!tree.exists(), "{step}: a tree in place before its rename");
            assert!(!listed.contains(&name), "{step}: {listed}");
        }
        // The next command that changes the store completes: the install works (or is there),
        // verify passes, no leftovers.
        gomig_ok(&env, &["install", "--archive", file]);
        assert_eq!(
            run(&mut gomig(&env, &["verify", version])).status.code(),
            Some(0),
            "{step}"
        );
        assert!(leftovers(&env).is_empty(), "{step}: {:?}", leftovers(&env));
        gomig_ok(&env, &["uninstall", version, "--force"]);
    }
}

#[test]
fn a_kill_during_restore_swap_leaves_the_old_tree_or_the_repaired_one() {
    let env = TestEnv::new();
    let root = installed(&env, None);
    let backup = archive(&env, &env.root().join("backup"));
    let file = backup.to_str().unwrap();
    for step in ["restore:before-swap", "restore:before-log", "restore:before-delete"] {
        fs::write(root.join("src/fmt/print.go"), "package fmt // damaged\n").unwrap();
        assert_eq!(verify_code(&env), Some(1));
        kill_at(&env, &["restore", file], step);
        // A tree is in place either way: the damaged one before the swap, the archive's after.
        assert!(root.join("bin/go").is_file(), "{step}: no tree in place");
        let expected = if step == "restore:before-swap" { 1 } else { 0 };
        assert_eq!(verify_code(&env), Some(expected), "{step}");
        // The next command removes what the killed one left, and the restore completes.
        gomig_ok(&env, &["restore", file]);
        assert_eq!(verify_code(&env), Some(0), "{step}");
        assert!(leftovers(&env).is_empty(), "{step}: {:?}", leftovers(&env));
    }
}
