//! The trust rule (src/resolve/trust.rs): the shim, `gomig exec`, `env`, `which` and `current`
//! refuse, with the same one-line message, a store that another user could have changed, and
//! run a healthy one, including one under a sticky `/tmp`-like directory.
//!
//! Other users are real: uid 65534 (the suite runs as root in CI; the tests that need another
//! user say SKIPPED otherwise).

mod support;

use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use support::*;

const NOBODY: u32 = 65534;

fn is_root() -> bool {
    unsafe { libc::geteuid() == 0 }
}

fn chmod(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

fn chown(path: &Path, uid: u32) {
    ok(Command::new("chown").arg("-h").arg(uid.to_string()).arg(path));
}

fn write_exec(path: &Path, contents: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, contents).unwrap();
    chmod(path, 0o755);
}

/// A store with the shims and a fake default toolchain go1.22.0 (its `bin/go` prints
/// `go1.22.0 go GOROOT=...`).
fn store() -> TestEnv {
    let env = TestEnv::new();
    env.install_shims();
    env.fake_toolchain("go1.22.0");
    env.set_default_link("go1.22.0");
    env
}

/// The five ways to run or name a Go, each a command in `env.work`; `version` is what
/// `gomig exec` is given.
fn entry_points(env: &TestEnv, version: &str) -> Vec<(&'static str, Command)> {
    vec![
        ("shim", env.go_in(&env.work, &["version"])),
        ("exec", env.gomig(&["exec", version, "--", "go", "version"])),
        ("env", env.gomig(&["env"])),
        ("which", env.gomig(&["which"])),
        ("current", env.gomig(&["current"])),
    ]
}

/// Every entry point fails with exit status 1, runs nothing, and prints one line containing
/// each of `needles`; the shim (`gomig: `) and the CLI (`error: `) print the same message,
/// which is returned.
fn refused_everywhere(env: &TestEnv, version: &str, tweak: impl Fn(&mut Command), needles: &[&str]) -> String {
    let mut messages = Vec::new();
    for (what, mut cmd) in entry_points(env, version) {
        tweak(&mut cmd);
        let out = run(&mut cmd);
        assert_eq!(out.status.code(), Some(1), "{what} must refuse:\n{}", describe(&out));
        assert!(out.stdout.is_empty(), "{what}: nothing may run:\n{}", describe(&out));
        let err = stderr(&out);
        assert_eq!(err.matches('\n').count(), 1, "{what}: one line:\n{err}");
        let prefix = if what == "shim" { "gomig: " } else { "error: " };
        let msg = err
            .trim_end()
            .strip_prefix(prefix)
            .unwrap_or_else(|| panic!("{what}: {prefix:?} expected:\n{err}"))
            .to_string();
        for needle in needles {
            assert!(msg.contains(needle), "{what}: {needle:?} expected in:\n{msg}");
        }
        messages.push((what, msg));
    }
    let first = messages[0].1.clone();
    for (what, msg) in &messages {
        assert_eq!(msg, &first, "{what} and the shim must say the same");
    }
    first
}

/// Every entry point succeeds, and what runs is `name`.
fn runs_everywhere(env: &TestEnv, version: &str, tweak: impl Fn(&mut Command), name: &str) {
    for (what, mut cmd) in entry_points(env, version) {
        tweak(&mut cmd);
        let out = run(&mut cmd);
        assert!(out.status.success(), "{what} must run:\n{}", describe(&out));
        let text = stdout(&out);
        assert!(text.contains(name), "{what}: {name} expected:\n{text}");
    }
}

fn none(_: &mut Command) {}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn a_healthy_store_runs() {
    let env = store();
    runs_everywhere(&env, "1.22.0", none, "go1.22.0");
}

#[test]
fn a_group_writable_store_is_refused() {
    let env = store();
    chmod(&env.gomig_home, 0o775);
    let msg = refused_everywhere(&env, "1.22.0", none, &[]);
    let home = s(&env.gomig_home);
    assert_eq!(
        msg,
        format!(
            "{home} is writable by other users (mode 0775), so they could put a program on your PATH; run: chmod go-w {home}"
        )
    );
    chmod(&env.gomig_home, 0o755);
    runs_everywhere(&env, "1.22.0", none, "go1.22.0");
}

#[test]
fn an_other_writable_store_is_refused() {
    let env = store();
    chmod(&env.gomig_home, 0o757);
    refused_everywhere(
        &env,
        "1.22.0",
        none,
        &[
            &format!("{} is writable by other users (mode 0757)", s(&env.gomig_home)),
            &format!("run: chmod go-w {}", s(&env.gomig_home)),
        ],
    );
    // Sticky does not excuse the store itself: others could still add entries to it.
    chmod(&env.gomig_home, 0o1777);
    refused_everywhere(&env, "1.22.0", none, &["(mode 1777)"]);
}

#[test]
fn a_store_owned_by_another_user_is_refused() {
    if !is_root() {
        eprintln!("SKIPPED: giving the store to another user needs root");
        return;
    }
    let env = store();
    chown(&env.gomig_home, NOBODY);
    let home = s(&env.gomig_home);
    let msg = refused_everywhere(&env, "1.22.0", none, &[]);
    assert_eq!(
        msg,
        format!(
            "{home} belongs to user id 65534, not to you, so that user could put a program on your PATH; use your own GOMIG_HOME, or run: chown -R $(id -u) {home}"
        )
    );
    chown(&env.gomig_home, 0);
    // The toolchain the default names, and the shims directory.
    for dir in [env.gomig_home.join("toolchains/go1.22.0"), env.shims_dir()] {
        chown(&dir, NOBODY);
        refused_everywhere(
            &env,
            "1.22.0",
            none,
            &[&format!("{} belongs to user id 65534", s(&dir))],
        );
        chown(&dir, 0);
    }
    runs_everywhere(&env, "1.22.0", none, "go1.22.0");
}

#[test]
fn a_store_under_a_parent_others_can_write_is_refused() {
    let env = store();
    // GOMIG_HOME is <root>/gomig: make <root> writable by all, not sticky.
    let root = env.root().to_path_buf();
    chmod(&root, 0o777);
    let msg = refused_everywhere(&env, "1.22.0", none, &[]);
    let r = s(&root);
    assert_eq!(
        msg,
        format!(
            "{r} is writable by other users (mode 0777, not sticky), so they could replace what it holds and put a program on your PATH; run: chmod go-w {r}"
        )
    );
    // Further up: a parent of the parent.
    chmod(&root, 0o755);
    let deep = root.join("a/b");
    fs::create_dir_all(&deep).unwrap();
    let mut env2 = TestEnv::new();
    env2.gomig_home = deep.join("gomig");
    env2.install_shims();
    env2.fake_toolchain("go1.22.0");
    env2.set_default_link("go1.22.0");
    runs_everywhere(&env2, "1.22.0", none, "go1.22.0");
    chmod(&root.join("a"), 0o770);
    refused_everywhere(
        &env2,
        "1.22.0",
        none,
        &[&format!(
            "{} is writable by other users (mode 0770, not sticky)",
            s(&root.join("a"))
        )],
    );
}

#[test]
fn the_directories_actually_reached_are_checked_not_the_spelled_path() {
    let env = store();
    let root = env.root().to_path_buf();
    // GOMIG_HOME spelled through a link into a world-writable directory: the real parent is
    // what matters.
    let wild = root.join("wild");
    fs::create_dir_all(&wild).unwrap();
    fs::rename(&env.gomig_home, wild.join("gomig")).unwrap();
    symlink(wild.join("gomig"), &env.gomig_home).unwrap();
    runs_everywhere(&env, "1.22.0", none, "go1.22.0");
    chmod(&wild, 0o777);
    refused_everywhere(
        &env,
        "1.22.0",
        none,
        &[&format!(
            "{} is writable by other users (mode 0777, not sticky)",
            s(&wild)
        )],
    );
}

#[test]
fn toolchains_or_the_defaults_tree_writable_by_others_is_refused() {
    let env = store();
    let toolchains = env.gomig_home.join("toolchains");
    let tree = toolchains.join("go1.22.0");
    for (path, mode) in [
        (toolchains.clone(), 0o777),
        (tree.clone(), 0o777),
        (tree.join("bin"), 0o775),
        (tree.join("bin/go"), 0o777),
        (env.gomig_home.join("state"), 0o777),
    ] {
        chmod(&path, mode);
        refused_everywhere(
            &env,
            "1.22.0",
            none,
            &[
                &format!("{} is writable by other users (mode 0{mode:o})", s(&path)),
                &format!("run: chmod go-w {}", s(&path)),
            ],
        );
        chmod(&path, 0o755);
    }
    // The default's tree is checked even when a pin chooses another toolchain.
    env.fake_toolchain("go1.23.0");
    chmod(&tree, 0o777);
    let pin = |c: &mut Command| {
        c.env("GOMIG_GO_VERSION", "1.23.0");
    };
    refused_everywhere(
        &env,
        "1.23.0",
        pin,
        &[&format!("{} is writable by other users", s(&tree))],
    );
    chmod(&tree, 0o755);
    runs_everywhere(&env, "1.23.0", pin, "go1.23.0");
}

#[test]
fn a_config_file_others_can_write_is_refused() {
    let env = store();
    // GOMIG_CONFIG names it (TestEnv sets it to <root>/config.toml).
    let config = env.root().join("config.toml");
    fs::write(&config, "auto_install = true\n").unwrap();
    chmod(&config, 0o644);
    runs_everywhere(&env, "1.22.0", none, "go1.22.0");
    chmod(&config, 0o666);
    let c = s(&config);
    let msg = refused_everywhere(&env, "1.22.0", none, &[]);
    assert_eq!(
        msg,
        format!(
            "{c} is writable by other users (mode 0666), so they could change gomig's settings (mirror, auto_install); run: chmod go-w {c}"
        )
    );
    // Without GOMIG_CONFIG: $XDG_CONFIG_HOME/gomig/config.toml.
    let xdg = env.home.join(".config/gomig/config.toml");
    fs::create_dir_all(xdg.parent().unwrap()).unwrap();
    fs::write(&xdg, "").unwrap();
    chmod(&xdg, 0o646);
    let no_var = |c: &mut Command| {
        c.env_remove("GOMIG_CONFIG");
    };
    refused_everywhere(
        &env,
        "1.22.0",
        no_var,
        &[&format!("{} is writable by other users", s(&xdg))],
    );
    chmod(&xdg, 0o644);
    runs_everywhere(&env, "1.22.0", no_var, "go1.22.0");
    if is_root() {
        chmod(&config, 0o644);
        chown(&config, NOBODY);
        refused_everywhere(
            &env,
            "1.22.0",
            none,
            &[&format!(
                "{c} belongs to user id 65534, not to you, so that user could change gomig's settings"
            )],
        );
    }
}

/// An adopted tree `<root>/<dir>/<name>` (a fake Go) linked as `toolchains/<name>`.
fn adopted_tree(env: &TestEnv, dir: &str, name: &str) -> PathBuf {
    let goroot = env.root().join(dir).join(name);
    for tool in ["go", "gofmt"] {
        write_exec(
            &goroot.join("bin").join(tool),
            &format!("#!/bin/sh\necho \"{name} {tool} GOROOT=$GOROOT\"\n"),
        );
    }
    symlink(&goroot, env.gomig_home.join("toolchains").join(name)).unwrap();
    goroot
}

#[test]
fn an_adopted_tree_under_a_world_writable_directory_is_refused() {
    let env = store();
    let goroot = adopted_tree(&env, "shared", "go1.23.0");
    let shared = goroot.parent().unwrap().to_path_buf();
    let pin = |c: &mut Command| {
        c.env("GOMIG_GO_VERSION", "1.23.0");
    };
    runs_everywhere(&env, "1.23.0", pin, "go1.23.0");
    chmod(&shared, 0o777);
    let sh = s(&shared);
    let msg = refused_everywhere(&env, "1.23.0", pin, &[]);
    assert_eq!(
        msg,
        format!(
            "{sh} is writable by other users (mode 0777, not sticky), so they could replace what it holds and change what runs as Go; run: chmod go-w {sh} (or forget the toolchain: gomig remove go1.23.0)"
        )
    );
    // As the default, without a pin: refused as well (the default's tree is part of the store).
    env.set_default_link("go1.23.0");
    refused_everywhere(&env, "1.23.0", none, &[&format!("{sh} is writable by other users")]);
    chmod(&shared, 0o755);
    runs_everywhere(&env, "1.23.0", none, "go1.23.0");
    // The tree's own bin/ and program.
    for (path, mode) in [
        (goroot.join("bin"), 0o775),
        (goroot.join("bin/go"), 0o757),
        (goroot.clone(), 0o777),
    ] {
        chmod(&path, mode);
        refused_everywhere(
            &env,
            "1.23.0",
            none,
            &[&format!("{} is writable by other users (mode 0{mode:o})", s(&path))],
        );
        chmod(&path, 0o755);
    }
    runs_everywhere(&env, "1.23.0", none, "go1.23.0");
}

#[test]
fn debians_root_owned_go_runs_adopted() {
    let debian = Path::new(DEBIAN_GOROOT);
    if !debian.join("bin/go").is_file() {
        eprintln!("SKIPPED: {DEBIAN_GOROOT} is not installed (tests/run.sh installs it)");
        return;
    }
    let env = store();
    symlink(debian, env.gomig_home.join("toolchains/go1.19.8")).unwrap();
    let mut cmd = env.go_in(&env.work, &["version"]);
    cmd.env("GOMIG_GO_VERSION", "1.19.8").env("GOTELEMETRY", "off");
    let out = ok(&mut cmd);
    assert!(out.starts_with("go version go1.19"), "{out}");
}

#[test]
fn a_sticky_parent_with_your_own_child_runs() {
    let mut env = TestEnv::new();
    let sticky = env.root().join("tmp-like");
    fs::create_dir_all(&sticky).unwrap();
    chmod(&sticky, 0o1777);
    env.gomig_home = sticky.join("gomig");
    env.install_shims();
    env.fake_toolchain("go1.22.0");
    env.set_default_link("go1.22.0");
    runs_everywhere(&env, "1.22.0", none, "go1.22.0");

    // The same sticky directory, when the entry in it is someone else's: refused.
    if is_root() {
        chown(&env.gomig_home, NOBODY);
        refused_everywhere(
            &env,
            "1.22.0",
            none,
            &[&format!("{} belongs to user id 65534", s(&env.gomig_home))],
        );
        chown(&env.gomig_home, 0);
        // A link in the sticky directory that another user made, to your own store.
        let link = sticky.join("link");
        symlink(&env.gomig_home, &link).unwrap();
        chown(&link, NOBODY);
        let real = env.gomig_home.clone();
        env.gomig_home = link.clone();
        refused_everywhere(
            &env,
            "1.22.0",
            none,
            &[&format!("{} belongs to user id 65534", s(&link))],
        );
        chown(&link, 0);
        runs_everywhere(&env, "1.22.0", none, "go1.22.0");
        env.gomig_home = real;
    }
    // Without the sticky bit the same directory is refused.
    chmod(&sticky, 0o777);
    refused_everywhere(&env, "1.22.0", none, &[&format!("{} is writable", s(&sticky))]);
}

/// The attack from issue 9: another user who can write GOMIG_HOME swaps `toolchains/` for
/// their own, whose `go1.22.0` is a link to a tree of theirs; root then types `go version`.
#[test]
fn another_user_cannot_swap_the_toolchain_root_runs() {
    if !is_root() {
        eprintln!("SKIPPED: the attacker is uid 65534, which needs root");
        return;
    }
    let env = store();
    let root = env.root().to_path_buf();
    // The attacker must be able to reach GOMIG_HOME; their tree and the marker root would write.
    chmod(&root, 0o755);
    chmod(&env.gomig_home, 0o777);
    let evil = root.join("evil");
    fs::create_dir_all(&evil).unwrap();
    chown(&evil, NOBODY);
    let marker = root.join("pwned");
    let script = format!(
        "set -e\nmkdir -p {evil}/go/bin\nprintf '#!/bin/sh\\ntouch {marker}\\necho PWNED\\n' > {evil}/go/bin/go\n\
         chmod 755 {evil}/go/bin/go\ncd {home}\nmv toolchains toolchains.old\nmkdir toolchains\n\
         ln -s {evil}/go toolchains/go1.22.0\n",
        evil = s(&evil),
        marker = s(&marker),
        home = s(&env.gomig_home),
    );
    let out = run(Command::new("sh").arg("-c").arg(&script).uid(NOBODY).gid(NOBODY));
    assert!(out.status.success(), "the attacker's swap:\n{}", describe(&out));
    assert!(
        fs::read_link(env.gomig_home.join("toolchains/go1.22.0")).is_ok(),
        "the swap happened"
    );

    let msg = refused_everywhere(
        &env,
        "1.22.0",
        none,
        &[&format!(
            "{} is writable by other users (mode 0777)",
            s(&env.gomig_home)
        )],
    );
    assert!(msg.contains("chmod go-w"), "{msg}");
    assert!(!marker.exists(), "the attacker's go ran as root");

    // Even with GOMIG_HOME fixed, their toolchains/ (owned by them) is refused.
    chmod(&env.gomig_home, 0o755);
    refused_everywhere(
        &env,
        "1.22.0",
        none,
        &[&format!(
            "{} belongs to user id 65534",
            s(&env.gomig_home.join("toolchains"))
        )],
    );
    assert!(!marker.exists(), "the attacker's go ran as root");
}
