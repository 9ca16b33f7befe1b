//! Prune says what it could see, and a pruned toolchain comes back from its archive.

mod support;

use std::fs;

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
