//! Prune says what it could see, and a pruned toolchain comes back from its archive.

mod support;

use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use support::*;

/// A store with three toolchains (snapshotted so they can be archived), go1.22.1 the default
/// and go1.21.1 the rollback target.
fn store_with_an_old_toolchain() -> TestEnv {
    let env = TestEnv::new();
    env.install_shims();
    for name in ["go1.16.1", "go1.21.1", "go1.22.1"] {
        env.fake_toolchain(name);
        env.gomig_ok(&["snapshot", name]);
    }
    for v in ["1.21.1", "1.22.1"] {
        env.gomig_ok(&["switch", v, "--no-verify"]);
    }
    env
}

#[test]
fn prune_without_project_roots_says_it_cannot_see_other_pins_and_keeps_the_one_here() {
    let env = store_with_an_old_toolchain();
    let project = env.dir("app");
    env.write("app/.go-version", "1.16.1\n");

    let out = run(&mut env.gomig_in(&project.join("."), &["prune", "--dry-run"]));
    let (text, notes) = (stdout(&out), stderr(&out));
    assert!(out.status.success(), "{}", describe(&out));
    assert!(
        text.contains("keep    go1.16.1     pinned by"),
        "the pin go obeys here stays:\n{text}"
    );
    assert!(
        notes.contains(&format!(
            "pin seen: {} selects go1.16.1",
            project.join(".go-version").display()
        )),
        "{notes}"
    );
    assert!(
        notes.contains("project_roots is not set") && notes.contains("gomig config set project_roots DIR,DIR"),
        "says what it cannot see, and how to widen it:\n{notes}"
    );

    // Elsewhere the pin is not seen, and prune says so before it removes go1.16.1.
    let out = run(&mut env.gomig(&["prune", "--dry-run", "--json"]));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["pins_seen"], serde_json::json!([]), "{}", describe(&out));
    assert!(
        report["toolchains"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["version"] == "go1.16.1" && r["action"] == "remove")
    );
}

#[test]
fn with_project_roots_prune_names_the_pins_it_saw_and_the_limit() {
    let env = store_with_an_old_toolchain();
    let projects = env.dir("projects");
    env.write("projects/app/.go-version", "1.16\n");
    fs::write(
        env.root().join("config.toml"),
        format!("project_roots = [{:?}]\n", projects.display().to_string()),
    )
    .unwrap();
    let out = run(&mut env.gomig(&["prune", "--dry-run"]));
    let notes = stderr(&out);
    assert!(
        notes.contains("selects go1.16.1") && notes.contains(&format!("outside {}", projects.display())),
        "{notes}"
    );
    assert!(
        stdout(&out).contains("keep    go1.16.1     pinned by"),
        "{}",
        describe(&out)
    );
}

#[test]
fn a_pruned_toolchain_is_restored_from_its_archive_not_downloaded() {
    let env = store_with_an_old_toolchain();
    env.gomig_ok(&["prune", "--keep", "1"]);
    assert!(!env.gomig_home.join("toolchains/go1.16.1").exists(), "pruned");
    let archive = env.gomig_home.join("archives/go1.16.1.linux-amd64.tar.gz");
    assert!(archive.is_file());

    // The shim names the archive, and the command it suggests works as pasted, with no network.
    let project = env.dir("old");
    env.write("old/.go-version", "1.16.1\n");
    let msg = fails(&mut env.go_in(&project, &["version"]));
    let suggested = format!("gomig restore {}", archive.display());
    assert!(msg.contains(&suggested) && msg.contains("no download"), "{msg}");
    assert!(
        !msg.contains("gomig install"),
        "no new download is suggested first:\n{msg}"
    );
    // `gomig current` words it the same way (one message, shared with the shim).
    let current = fails(&mut env.gomig_in(&project, &["current"]));
    assert!(current.contains(&suggested), "{current}");

    let words: Vec<&str> = suggested.split(' ').skip(1).collect();
    env.gomig_ok(&words);
    assert!(ok(&mut env.go_in(&project, &["version"])).starts_with("go1.16.1 go"));

    // Pruned again, the shim's auto-install (gomig install) restores it and runs it, with no
    // download: the only mirror it could reach is a closed port.
    env.gomig_ok(&["prune", "--keep", "1"]);
    assert!(!env.gomig_home.join("toolchains/go1.16.1").exists(), "pruned again");
    let mut go = env.go_in(&project, &["version"]);
    go.env("GOMIG_AUTO_INSTALL", "1")
        .env("GOMIG_MIRROR", "http://127.0.0.1:9/");
    let out = run(&mut go);
    assert!(
        out.status.success() && stdout(&out).starts_with("go1.16.1 go"),
        "{}",
        describe(&out)
    );
    assert!(
        stderr(&out).contains("archived by gomig prune; no download"),
        "{}",
        describe(&out)
    );
}

/// A gomig archive of a `go1.16.1` whose `bin/go` says it is go1.16.1 and writes `ran` into
/// `marker`, made in a store of its own and owned by uid 65534: what another user would put
/// where a pruned record points.
fn planted_archive(into: &Path, marker: &Path) -> PathBuf {
    let other = TestEnv::new();
    let tree = other.fake_toolchain("go1.16.1");
    let go = format!(
        "#!/bin/sh\necho ran >> '{}'\necho 'go version go1.16.1 linux/amd64'\n",
        marker.display()
    );
    fs::write(tree.join("bin/go"), go).unwrap();
    other.gomig_ok(&["snapshot", "go1.16.1"]);
    fs::create_dir_all(into).unwrap();
    other.gomig_ok(&["archive", "go1.16.1", "-o", into.to_str().unwrap()]);
    let archive = into.join("go1.16.1.linux-amd64.tar.gz");
    assert!(archive.is_file());
    ok(Command::new("chown").arg("-R").arg("65534").arg(into));
    // Making it ran that bin/go; from here on the marker says whether gomig ran it.
    let _ = fs::remove_file(marker);
    archive
}

#[test]
fn a_pruned_record_another_user_could_have_planted_is_neither_suggested_nor_restored() {
    let env = store_with_an_old_toolchain();
    env.gomig_ok(&["prune", "--keep", "1"]);
    // state/pruned/ left writable by others (as an older gomig under umask 000 made it): another
    // user points the record at an archive of their own.
    let pruned = env.gomig_home.join("state/pruned");
    fs::set_permissions(&pruned, fs::Permissions::from_mode(0o777)).unwrap();
    let marker = env.root().join("planted-go-ran");
    let evil = planted_archive(&env.root().join("evil"), &marker);
    let link = pruned.join("go1.16.1");
    fs::remove_file(&link).unwrap();
    symlink(&evil, &link).unwrap();
    ok(Command::new("chown").arg("-h").arg("65534").arg(&link));

    let project = env.dir("old");
    env.write("old/.go-version", "1.16.1\n");
    let msg = fails(&mut env.go_in(&project, &["version"]));
    assert!(
        !msg.contains(evil.to_str().unwrap()),
        "an archive someone else chose is not suggested:\n{msg}"
    );
    let mut go = env.go_in(&project, &["version"]);
    go.env("GOMIG_AUTO_INSTALL", "1")
        .env("GOMIG_MIRROR", "http://127.0.0.1:9/");
    let out = run(&mut go);
    assert!(
        !out.status.success() && !marker.exists(),
        "the planted archive is neither restored nor its bin/go run:\n{}",
        describe(&out)
    );
    assert!(
        !env.gomig_home.join("toolchains/go1.16.1").exists(),
        "{}",
        describe(&out)
    );
    assert!(
        !stderr(&out).contains(evil.to_str().unwrap()),
        "and not named as the archive gomig prune made:\n{}",
        describe(&out)
    );
}

#[test]
fn under_umask_000_prune_keeps_its_archive_and_record_writable_by_no_one_else() {
    let env = store_with_an_old_toolchain();
    let mut prune = env.gomig(&["prune", "--keep", "1"]);
    unsafe {
        prune.pre_exec(|| {
            libc::umask(0);
            Ok(())
        });
    }
    ok(&mut prune);
    for dir in ["state/pruned", "archives"] {
        let mode = fs::metadata(env.gomig_home.join(dir)).unwrap().permissions().mode();
        assert_eq!(mode & 0o022, 0, "{dir} is {mode:o}: others could replace what is in it");
    }
    // And the record still works: the shim names the archive.
    let project = env.dir("old");
    env.write("old/.go-version", "1.16.1\n");
    let msg = fails(&mut env.go_in(&project, &["version"]));
    assert!(msg.contains("gomig restore"), "{msg}");
}

#[test]
fn an_exported_gotoolchain_or_go_env_file_does_not_hide_the_pins_from_prune() {
    let env = store_with_an_old_toolchain();
    let projects = env.dir("projects");
    env.write("projects/app/.go-version", "1.16.1\n");
    fs::write(
        env.root().join("config.toml"),
        format!("project_roots = [{:?}]\n", projects.display().to_string()),
    )
    .unwrap();
    // GOTOOLCHAIN naming a toolchain beats every pin where go runs; prune must still see them.
    let go_env = env.home.join(".config/go/env");
    fs::create_dir_all(go_env.parent().unwrap()).unwrap();
    fs::write(&go_env, "GOTOOLCHAIN=go1.22.1\n").unwrap();
    for exported in [None, Some("go1.21.1+auto")] {
        let mut cmd = env.gomig(&["prune", "--dry-run"]);
        if let Some(v) = exported {
            cmd.env("GOTOOLCHAIN", v);
        }
        let out = run(&mut cmd);
        assert!(
            stdout(&out).contains("keep    go1.16.1     pinned by"),
            "GOTOOLCHAIN={exported:?}: {}",
            describe(&out)
        );
    }
}
