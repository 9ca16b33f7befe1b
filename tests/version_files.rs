//! Which files the resolver reads, and which it refuses (docs/resolution.md, "Reading the
//! files"): only regular files, and only so much of them; a pin link to nothing is an error;
//! `GOWORK` naming a directory fails as Go fails; and a pin another user planted in a
//! directory others can write is not obeyed. Each through the real shim and `gomig current`.
//!
//! Other users are real: uid 65534 through `setpriv` (the suite runs as root; the tests that
//! need another user say SKIPPED otherwise).

mod support;

use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use support::*;

/// How long a command may take before the harness calls it hung: far more than any answer
/// needs, far less than forever.
const HANG: Duration = Duration::from_secs(20);

/// A store with the shims, fake toolchains go1.22.0 (the default) and go1.23.9.
fn store() -> TestEnv {
    let env = TestEnv::new();
    env.install_shims();
    env.fake_toolchain("go1.22.0");
    env.fake_toolchain("go1.23.9");
    env.set_default_link("go1.22.0");
    env
}

/// Runs `cmd` with no stdin; kills it and fails the test if it has not ended within [`HANG`].
fn run_bounded(cmd: &mut Command) -> Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let start = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if start.elapsed() > HANG {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} did not end within {HANG:?}: it hangs");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    child.wait_with_output().expect("output")
}

/// The shim (`go version`) and `gomig current` in `dir` both fail, each within the bound, with
/// one line containing every needle; returns the shim's message.
fn refused(env: &TestEnv, dir: &Path, needles: &[&str]) -> String {
    let mut shim_msg = String::new();
    for (what, mut cmd) in [
        ("shim", env.go_in(dir, &["version"])),
        ("current", env.gomig_in(dir, &["current"])),
    ] {
        let out = run_bounded(&mut cmd);
        assert_eq!(out.status.code(), Some(1), "{what} must refuse:\n{}", describe(&out));
        assert!(out.stdout.is_empty(), "{what}: nothing may run:\n{}", describe(&out));
        let err = stderr(&out);
        for needle in needles {
            assert!(err.contains(needle), "{what}: {needle:?} expected in:\n{err}");
        }
        if what == "shim" {
            shim_msg = err;
        }
    }
    shim_msg
}

/// The shim in `dir` runs `want` (a fake toolchain prints its name first).
fn runs(env: &TestEnv, dir: &Path, want: &str) {
    let out = run_bounded(&mut env.go_in(dir, &["version"]));
    assert!(out.status.success(), "shim failed:\n{}", describe(&out));
    let text = stdout(&out);
    assert!(text.starts_with(&format!("{want} go ")), "{want} expected:\n{text}");
}

fn char_device() -> Option<&'static Path> {
    let zero = Path::new("/dev/zero");
    zero.exists().then_some(zero)
}

#[test]
fn a_go_mod_that_is_dev_zero_is_refused_not_read_forever() {
    let env = store();
    let Some(zero) = char_device() else {
        eprintln!("SKIPPED: no /dev/zero");
        return;
    };
    let dir = env.dir("devmod");
    // A device node itself as go.mod (as root: mknod), and a link to one.
    let node = dir.join("go.mod");
    let made = Command::new("mknod").arg(&node).args(["c", "1", "5"]).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("SKIPPED: cannot mknod (not root?); the link case below still runs");
    } else {
        let msg = refused(&env, &dir, &[&format!("{} is a character device", node.display())]);
        assert!(msg.contains(&format!("rm {}", node.display())), "the fix:\n{msg}");
        fs::remove_file(&node).unwrap();
    }
    let linked = env.dir("linkmod");
    symlink(zero, linked.join("go.mod")).unwrap();
    refused(
        &env,
        &env.dir("linkmod/sub"),
        &[
            &format!("{}/go.mod is a character device", linked.display()),
            "not a regular file",
        ],
    );
}

#[test]
fn a_pin_linked_to_a_device_is_refused() {
    let env = store();
    let Some(zero) = char_device() else {
        eprintln!("SKIPPED: no /dev/zero");
        return;
    };
    for name in [".go-version", ".tool-versions"] {
        let dir = env.dir(&format!("pin{name}"));
        symlink(zero, dir.join(name)).unwrap();
        refused(
            &env,
            &dir,
            &[&format!("{}/{name} is a character device", dir.display())],
        );
    }
}

#[test]
fn gowork_naming_a_device_is_refused() {
    let env = store();
    let Some(zero) = char_device() else {
        eprintln!("SKIPPED: no /dev/zero");
        return;
    };
    let dir = env.dir("ws");
    env.write("ws/go.mod", "module ws\ngo 1.23.0\n");
    let msg = {
        let mut shim = env.go_in(&dir, &["version"]);
        shim.env("GOWORK", zero);
        let out = run_bounded(&mut shim);
        assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
        stderr(&out)
    };
    assert!(
        msg.contains("GOWORK=/dev/zero is a character device, not a go.work file; set GOWORK to a go.work file, or off, or unset it"),
        "{msg}"
    );
    let mut current = env.gomig_in(&dir, &["current"]);
    current.env("GOWORK", zero);
    let out = run_bounded(&mut current);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        stderr(&out).contains("GOWORK=/dev/zero is a character device"),
        "{}",
        describe(&out)
    );
}

#[test]
fn gowork_naming_a_directory_fails_as_go_does() {
    let env = store();
    let dir = env.dir("ws");
    env.write("ws/go.mod", "module ws\ngo 1.23.0\n");
    let work_dir = env.dir("wsdir");
    let want = format!("GOWORK={0}: read {0}: is a directory", work_dir.display());
    for mut cmd in [env.go_in(&dir, &["version"]), env.gomig_in(&dir, &["current"])] {
        cmd.env("GOWORK", &work_dir);
        let out = run_bounded(&mut cmd);
        assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
        let err = stderr(&out);
        assert!(err.contains(&want), "{want:?} expected:\n{err}");
        assert!(
            err.contains(&format!("GOWORK={}/go.work", work_dir.display())),
            "the fix:\n{err}"
        );
    }
    // Real Go says the same (`go: read DIR: is a directory`), and a GOWORK file that does not
    // exist yet still falls back to go.mod (`go work init`), as in Go.
    let go = go_dist("1.23.9").join("bin/go");
    let mut real = env.command(&go, &dir);
    real.args(["version"])
        .env("GOWORK", &work_dir)
        .env("GOTOOLCHAIN", "auto");
    let out = run_bounded(&mut real);
    assert!(
        stderr(&out).contains(&format!("read {}: is a directory", work_dir.display())),
        "{}",
        describe(&out)
    );
    let mut missing = env.go_in(&dir, &["version"]);
    missing.env("GOWORK", work_dir.join("go.work"));
    let out = run_bounded(&mut missing);
    assert!(stdout(&out).starts_with("go1.23.9 go "), "{}", describe(&out));
}

#[test]
fn a_dangling_go_version_link_is_an_error_naming_its_target() {
    let env = store();
    let dir = env.dir("dangling");
    let target = env.work.join("gone/.go-version");
    symlink(&target, dir.join(".go-version")).unwrap();
    let msg = refused(
        &env,
        &env.dir("dangling/sub"),
        &[&format!(
            "{}/.go-version is a symbolic link to {}, which does not exist",
            dir.display(),
            target.display()
        )],
    );
    assert!(
        msg.contains(&format!("rm {}/.go-version", dir.display())),
        "the fix:\n{msg}"
    );
    // Where it leads to a version, it is obeyed.
    env.write("gone/.go-version", "1.23.9\n");
    runs(&env, &dir, "go1.23.9");
}

#[test]
fn a_sparse_gigabyte_go_mod_is_read_only_so_far() {
    let env = store();
    let dir = env.dir("sparse");
    let file = fs::File::create(dir.join("go.mod")).unwrap();
    file.set_len(1 << 30).unwrap();
    drop(file);
    refused(
        &env,
        &dir,
        &[&format!(
            "{}/go.mod: no go and toolchain lines within its first 4 MiB",
            dir.display()
        )],
    );
    // The go line first and no toolchain line anywhere in the first 4 MiB: still unknown.
    let mut text = String::from("module big\ngo 1.23.0\n");
    while text.len() < 5 << 20 {
        text.push_str("// filler filler filler filler filler filler filler filler filler filler\n");
    }
    env.write("big/go.mod", &text);
    refused(
        &env,
        &env.work.join("big"),
        &["go.mod: no go and toolchain lines within its first 4 MiB"],
    );
    // Both lines at the top: found, the rest is never read.
    text.insert_str("module big\ngo 1.23.0\n".len(), "toolchain go1.23.9\n");
    env.write("big/go.mod", &text);
    runs(&env, &env.work.join("big"), "go1.23.9");
}

fn is_root() -> bool {
    unsafe { libc::geteuid() == 0 }
}

/// Runs `sh -c script` as uid/gid 65534 with no groups.
fn as_nobody(script: &str) {
    let out = run(Command::new("setpriv").args([
        "--reuid",
        "65534",
        "--regid",
        "65534",
        "--clear-groups",
        "sh",
        "-c",
        script,
    ]));
    assert!(out.status.success(), "as uid 65534: {script}\n{}", describe(&out));
}

fn chmod(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

/// A store whose test root uid 65534 can reach (searchable, not writable: the store's own
/// trust check still passes).
fn store_for_two() -> Option<TestEnv> {
    if !is_root() {
        eprintln!("SKIPPED: needs root to act as uid 65534");
        return None;
    }
    let env = store();
    chmod(env.root(), 0o711);
    chmod(&env.work, 0o711);
    Some(env)
}

#[test]
fn a_pin_planted_by_another_user_in_a_shared_sticky_directory_is_not_obeyed() {
    let Some(env) = store_for_two() else { return };
    let shared = env.dir("shared");
    chmod(&shared, 0o1777);
    let pin = shared.join(".go-version");
    as_nobody(&format!("echo 1.23.9 > {}", pin.display()));
    let msg = refused(
        &env,
        &env.dir("shared/project"),
        &[
            &format!("{} belongs to user id 65534", pin.display()),
            &format!("{} can be written by others", shared.display()),
            "it is not obeyed",
            &format!("gomig config set trusted_dirs {}", shared.display()),
        ],
    );
    assert_eq!(msg.matches('\n').count(), 1, "one line:\n{msg}");
    // doctor shows it too.
    let out = run_bounded(&mut env.gomig_in(&shared, &["doctor"]));
    assert!(
        stdout(&out).contains(&format!("{} belongs to user id 65534", pin.display()))
            || stderr(&out).contains(&format!("{} belongs to user id 65534", pin.display())),
        "doctor must name it:\n{}",
        describe(&out)
    );
    // The command the message gives makes it obeyed.
    env.gomig_ok(&["config", "set", "trusted_dirs", shared.to_str().unwrap()]);
    runs(&env, &shared, "go1.23.9");
    // Written by hand: a list over several lines, literal strings, comments.
    let config = env.root().join("config.toml");
    fs::write(
        &config,
        format!(
            "auto_install = false\ntrusted_dirs = [\n  \"/elsewhere\", # not this one\n  '{}/',\n]\n",
            shared.display()
        ),
    )
    .unwrap();
    env.gomig_ok(&["config", "get", "trusted_dirs"]);
    runs(&env, &shared, "go1.23.9");
    fs::write(&config, "trusted_dirs = [\"/elsewhere\"]\n").unwrap();
    refused(&env, &shared, &[&format!("{} belongs to user id 65534", pin.display())]);
    // Another user's go.mod and .tool-versions are held to the same rule.
    env.gomig_ok(&["config", "unset", "trusted_dirs"]);
    as_nobody(&format!("rm {}", pin.display()));
    let tools = shared.join(".tool-versions");
    as_nobody(&format!("echo 'golang 1.23.9' > {}", tools.display()));
    refused(
        &env,
        &shared,
        &[&format!("{} belongs to user id 65534", tools.display())],
    );
    // One that does not name Go pins nothing, whoever owns it: the walk goes on.
    as_nobody(&format!("echo 'python 3.12' > {}", tools.display()));
    runs(&env, &shared, "go1.22.0");
    as_nobody(&format!("rm {}", tools.display()));
    let gomod = shared.join("go.mod");
    as_nobody(&format!("printf 'module m\\ngo 1.23.0\\n' > {}", gomod.display()));
    refused(
        &env,
        &shared,
        &[&format!("{} belongs to user id 65534", gomod.display())],
    );
}

#[test]
fn a_link_another_user_planted_to_your_own_file_is_not_obeyed_either() {
    let Some(env) = store_for_two() else { return };
    let shared = env.dir("shared");
    chmod(&shared, 0o1777);
    let mine = env.write("mine/version", "1.23.9\n");
    let link = shared.join(".go-version");
    as_nobody(&format!("ln -s {} {}", mine.display(), link.display()));
    refused(
        &env,
        &shared,
        &[&format!("{} belongs to user id 65534", link.display())],
    );
}

#[test]
fn another_users_pin_in_a_directory_only_they_can_write_is_obeyed() {
    let Some(env) = store_for_two() else { return };
    let theirs = env.dir("theirs");
    chmod(&theirs, 0o755);
    ok(Command::new("chown").arg("65534:65534").arg(&theirs));
    as_nobody(&format!("echo 1.23.9 > {}/.go-version", theirs.display()));
    runs(&env, &env.dir("theirs/src"), "go1.23.9");
    // And your own pin in the sticky, world-writable directory is obeyed.
    let shared = env.dir("shared");
    chmod(&shared, 0o1777);
    env.write("shared/.go-version", "1.23.9\n");
    runs(&env, &shared, "go1.23.9");
}
