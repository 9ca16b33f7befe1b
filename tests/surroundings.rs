//! What others could change around the store (issue 10, item 5), one set of checks reported
//! by both `gomig doctor` and `gomig audit`: a PATH entry before the shims that others can
//! write, or whose parent they can; the `system` Go in a directory others can write; a config
//! file others can write or own. Each finding's fix works when pasted into a shell.

mod support;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use serde_json::Value;
use support::*;

const OTHER: u32 = 65534;

fn chmod(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

fn audit(env: &TestEnv, path: &str) -> Value {
    let out = run(env.gomig(&["audit", "--json"]).env("PATH", path));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}:\n{}", describe(&out)))
}

fn doctor(env: &TestEnv, path: &str) -> String {
    let out = run(env.gomig(&["doctor"]).env("PATH", path));
    format!("{}{}", stdout(&out), stderr(&out))
}

/// The finding `check` about `subject`, if audit reports one.
fn find(report: &Value, check: &str, subject: &Path) -> Option<Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check"] == check && f["subject"] == subject.to_str().unwrap())
        .cloned()
}

/// Audit and doctor both report `check` about `subject`, with the same message and fix; the fix,
/// pasted into a shell, makes it go away.
fn reported_by_both_and_fixed(env: &TestEnv, path: &str, check: &str, subject: &Path) {
    let report = audit(env, path);
    let f = find(&report, check, subject)
        .unwrap_or_else(|| panic!("audit: no {check} for {}:\n{report:#}", subject.display()));
    let (message, fix) = (f["message"].as_str().unwrap(), f["fix"].as_str().unwrap());
    assert!(
        message.contains(subject.to_str().unwrap()),
        "the message names the path: {message}"
    );
    let text = doctor(env, path);
    assert!(
        text.contains(&format!("FIX   {message}\n      fix: {fix}")),
        "doctor should report {check} for {}:\n{text}",
        subject.display()
    );
    ok(Command::new("sh").arg("-c").arg(fix));
    let report = audit(env, path);
    assert!(find(&report, check, subject).is_none(), "after `{fix}`:\n{report:#}");
}

fn store(env: &TestEnv) {
    env.fake_toolchain("go1.22.10");
    env.gomig_ok(&["switch", "1.22.10", "--no-verify"]);
    env.install_shims();
}

#[test]
fn a_world_writable_path_entry_before_the_shims_is_reported_by_doctor_too() {
    let env = TestEnv::new();
    store(&env);
    let early = env.root().join("early-bin");
    fs::create_dir(&early).unwrap();
    chmod(&early, 0o777);
    let path = format!("{}:{}", early.display(), env.path_with_shims());
    reported_by_both_and_fixed(&env, &path, "path-writable", &early);
    assert!(
        doctor(&env, &env.path_with_shims()).contains("ok    PATH before the shims, the system Go and the config file")
    );
}

#[test]
fn a_path_entry_whose_parent_others_can_write_is_reported() {
    let env = TestEnv::new();
    store(&env);
    let shared = env.root().join("shared");
    let bin = shared.join("bin");
    fs::create_dir_all(&bin).unwrap();
    chmod(&shared, 0o777);
    let path = format!("{}:{}", bin.display(), env.path_with_shims());
    let report = audit(&env, &path);
    let f = find(&report, "path-parent-writable", &bin).expect("path-parent-writable");
    assert!(
        f["message"].as_str().unwrap().contains(shared.to_str().unwrap()),
        "{f:#}"
    );
    assert_eq!(f["fix"], format!("chmod go-w {}", shared.display()));
    reported_by_both_and_fixed(&env, &path, "path-parent-writable", &bin);

    // A sticky parent is fine while the entry is yours or root's, as in the trust rule...
    chmod(&shared, 0o1777);
    assert!(find(&audit(&env, &path), "path-parent-writable", &bin).is_none());
    // ...but not when another user owns the entry: they may rename it.
    if is_root() {
        std::os::unix::fs::chown(&bin, Some(OTHER), Some(OTHER)).unwrap();
        let report = audit(&env, &path);
        assert!(find(&report, "path-parent-writable", &bin).is_some(), "{report:#}");
        assert!(find(&report, "path-owner", &bin).is_some(), "{report:#}");
    }
}

#[test]
fn a_system_go_in_a_directory_others_can_write_is_reported() {
    let env = TestEnv::new();
    store(&env);
    let sys = env.root().join("sysgo/bin");
    fs::create_dir_all(&sys).unwrap();
    fs::copy("/bin/true", sys.join("go")).unwrap();
    chmod(&sys, 0o777);
    // After the shims: what `system` runs.
    let path = format!("{}:{}", env.path_with_shims(), sys.display());
    reported_by_both_and_fixed(&env, &path, "system-go-writable", &sys);
    chmod(&sys.join("go"), 0o757);
    reported_by_both_and_fixed(&env, &path, "system-go-writable", &sys.join("go"));
    // A go in a later directory is not what `system` runs: only the first is checked.
    let later = env.root().join("later");
    fs::create_dir(&later).unwrap();
    fs::copy("/bin/true", later.join("go")).unwrap();
    chmod(&later, 0o777);
    let report = audit(&env, &format!("{path}:{}", later.display()));
    assert!(find(&report, "system-go-writable", &later).is_none(), "{report:#}");
}

#[test]
fn a_config_file_others_can_write_or_own_is_reported() {
    let env = TestEnv::new();
    store(&env);
    let config = env.root().join("config.toml");
    fs::write(&config, "mirror = \"https://go.dev/dl/\"\n").unwrap();
    chmod(&config, 0o666);
    let path = env.path_with_shims();
    // The store refuses to run (the trust rule), and doctor still says why and how to fix it.
    reported_by_both_and_fixed(&env, &path, "config-writable", &config);
    if is_root() {
        std::os::unix::fs::chown(&config, Some(OTHER), Some(OTHER)).unwrap();
        reported_by_both_and_fixed(&env, &path, "config-owner", &config);
    }
    assert!(doctor(&env, &path).contains("ok    PATH before the shims"));
}
