//! The store's guarantees: atomic default switches with rollback, history, the event log,
//! and refusing a store that other users can write.

mod support;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use support::*;

fn events(env: &TestEnv) -> Vec<serde_json::Value> {
    let text = fs::read_to_string(env.gomig_home.join("log/events.jsonl")).unwrap_or_default();
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad log line {l:?}: {e}")))
        .collect()
}

#[test]
fn switch_and_rollback_walk_the_history() {
    let env = TestEnv::new();
    for name in ["go1.21.13", "go1.22.10", "go1.23.9"] {
        env.fake_toolchain(name);
    }
    env.gomig_ok(&["switch", "1.21.13", "--no-verify"]);
    env.gomig_ok(&["switch", "1.22", "--no-verify"]);
    env.gomig_ok(&["global", "go1.23.9", "--no-verify"]);
    let current = |env: &TestEnv| {
        env.gomig_ok(&["current"])
            .split_whitespace()
            .next()
            .unwrap()
            .to_string()
    };
    assert_eq!(current(&env), "go1.23.9");
    let out = run(&mut env.gomig(&["switch", "1.21.13", "--no-verify"]));
    assert!(
        stderr(&out).contains("gomig rollback"),
        "switch prints the rollback command:\n{}",
        describe(&out)
    );
    env.gomig_ok(&["rollback", "--no-verify"]);
    assert_eq!(current(&env), "go1.23.9");
    env.gomig_ok(&["rollback", "--no-verify"]);
    assert_eq!(current(&env), "go1.22.10");
    env.gomig_ok(&["rollback", "--no-verify"]);
    assert_eq!(current(&env), "go1.21.13");
    let err = fails(&mut env.gomig(&["rollback", "--no-verify"]));
    assert!(err.contains("nothing to roll back to"), "{err}");
    assert_eq!(current(&env), "go1.21.13", "a failed rollback changes nothing");

    let log = events(&env);
    let actions: Vec<_> = log.iter().map(|e| e["action"].as_str().unwrap().to_string()).collect();
    assert_eq!(
        actions,
        [
            "switch", "switch", "switch", "switch", "rollback", "rollback", "rollback"
        ]
    );
    assert_eq!(log[4]["from"], "go1.21.13");
    assert_eq!(log[4]["to"], "go1.23.9");
    for e in &log {
        for key in ["time", "user", "pid", "host", "result"] {
            assert!(e.get(key).is_some(), "{key} missing in {e}");
        }
    }
}

#[test]
fn switch_refuses_what_is_not_installed_and_keeps_the_default() {
    let env = TestEnv::new();
    env.fake_toolchain("go1.21.13");
    env.gomig_ok(&["switch", "1.21.13", "--no-verify"]);
    let err = fails(&mut env.gomig(&["switch", "1.30.1"]));
    assert!(err.contains("gomig install 1.30.1"), "{err}");
    assert_eq!(
        fs::read_link(env.gomig_home.join("default")).unwrap().to_str().unwrap(),
        "toolchains/go1.21.13"
    );
}

/// A fake toolchain whose `bin/go` is `printenv`: `go GOROOT` prints the GOROOT the shim
/// chose, so each run tells which default it saw, as cheaply as `/bin/true`.
fn printenv_toolchain(env: &TestEnv, name: &str) {
    let bin = env.gomig_home.join("toolchains").join(name).join("bin");
    fs::create_dir_all(&bin).unwrap();
    fs::copy("/usr/bin/printenv", bin.join("go")).unwrap();
}

#[test]
fn a_default_switched_and_rolled_back_a_thousand_times_is_never_missing_for_the_shim() {
    let env = TestEnv::new();
    printenv_toolchain(&env, "go1.22.10");
    printenv_toolchain(&env, "go1.23.9");
    env.gomig_ok(&["switch", "1.22.10", "--no-verify"]);
    env.install_shims();
    let dir = env.dir("busy");
    let root_of = |name: &str| env.gomig_home.join("toolchains").join(name).display().to_string();
    let (old, new) = (root_of("go1.22.10"), root_of("go1.23.9"));

    // 500 switches to 1.23.9, each followed by a rollback to 1.22.10.
    let changes = 1000;
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let switcher = {
        let cmds: Vec<_> = (0..changes)
            .map(|i| {
                if i % 2 == 0 {
                    env.gomig(&["switch", "1.23.9", "--no-verify"])
                } else {
                    env.gomig(&["rollback", "--no-verify"])
                }
            })
            .collect();
        let done = done.clone();
        std::thread::spawn(move || {
            for mut cmd in cmds {
                let out = run(&mut cmd);
                assert!(
                    out.status.success(),
                    "{cmd:?} failed:
{}",
                    describe(&out)
                );
            }
            done.store(true, std::sync::atomic::Ordering::SeqCst);
        })
    };
    let mut failures = Vec::new();
    let (mut saw_old, mut saw_new, mut changes_seen, mut runs_while_switching) = (0, 0, 0, 0);
    let mut last = String::new();
    for i in 0..10_000 {
        let switching = !done.load(std::sync::atomic::Ordering::SeqCst);
        let out = run(&mut env.go_in(&dir, &["GOROOT"]));
        let root = stdout(&out).trim().to_string();
        if !out.status.success() || (root != old && root != new) {
            failures.push(format!("run {i}: {}", describe(&out)));
            continue;
        }
        runs_while_switching += usize::from(switching);
        if root == old {
            saw_old += 1
        } else {
            saw_new += 1
        }
        changes_seen += usize::from(!last.is_empty() && root != last);
        last = root;
    }
    switcher.join().expect("the switcher thread");
    assert!(
        failures.is_empty(),
        "{} of 10000 shim runs failed or saw no default, first: {}",
        failures.len(),
        failures[0]
    );
    // The two loops really overlapped: runs saw the default change under them, many times.
    assert!(
        runs_while_switching >= 100 && saw_old > 0 && saw_new > 0 && changes_seen >= 10,
        "the runs did not overlap the switches: {runs_while_switching} runs while switching, \
         {saw_old} saw 1.22.10, {saw_new} saw 1.23.9, {changes_seen} changes seen"
    );
    assert_eq!(env.default_name(), "go1.22.10", "500 switches, each rolled back");
    let default_changes = events(&env)
        .iter()
        .filter(|e| e["action"] == "switch" || e["action"] == "rollback")
        .count();
    assert_eq!(
        default_changes,
        changes + 1,
        "every change logged, the first switch too"
    );
}

#[test]
fn a_store_that_others_can_write_is_refused() {
    let env = TestEnv::new();
    env.fake_toolchain("go1.21.13");
    env.gomig_ok(&["switch", "1.21.13", "--no-verify"]);
    fs::set_permissions(&env.gomig_home, fs::Permissions::from_mode(0o777)).unwrap();
    let err = fails(&mut env.gomig(&["list"]));
    assert!(
        err.contains("writable by other users") && err.contains("chmod go-w"),
        "{err}"
    );
    fs::set_permissions(&env.gomig_home, fs::Permissions::from_mode(0o755)).unwrap();
    fs::set_permissions(env.shims_dir(), fs::Permissions::from_mode(0o775)).unwrap();
    let err = fails(&mut env.gomig(&["switch", "1.21.13", "--no-verify"]));
    assert!(err.contains(env.shims_dir().to_str().unwrap()), "{err}");
}

#[test]
fn a_store_that_another_user_owns_is_refused_even_if_only_they_can_write_it() {
    let env = TestEnv::new();
    env.fake_toolchain("go1.21.13");
    env.gomig_ok(&["switch", "1.21.13", "--no-verify"]);
    env.gomig_ok(&["list"]);
    // Handing a directory to another user takes root (CI runs the suite as root).
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("SKIPPED: giving the store to another user needs root");
        return;
    }
    for dir in [env.gomig_home.clone(), env.shims_dir()] {
        ok(Command::new("chown").arg("65534").arg(&dir));
        let err = fails(&mut env.gomig(&["list"]));
        assert!(
            err.contains(dir.to_str().unwrap()) && err.contains("belongs to user id 65534"),
            "{err}"
        );
        ok(Command::new("chown").arg("0").arg(&dir));
    }
    env.gomig_ok(&["list"]);
}

#[test]
fn remove_refuses_the_default_and_installed_trees() {
    let env = TestEnv::new();
    let other = env.dir("elsewhere");
    fs::create_dir_all(other.join("bin")).unwrap();
    fs::copy("/bin/true", other.join("bin/go")).unwrap();
    fs::write(other.join("VERSION"), "go1.22.1\ntime 2024\n").unwrap();
    env.gomig_ok(&["add", other.to_str().unwrap()]);
    env.gomig_ok(&["switch", "1.22.1", "--no-verify"]);
    let err = fails(&mut env.gomig(&["remove", "go1.22.1"]));
    assert!(err.contains("global default"), "{err}");
    env.fake_toolchain("go1.21.13");
    let err = fails(&mut env.gomig(&["remove", "1.21.13"]));
    assert!(err.contains("gomig uninstall"), "{err}");
    env.gomig_ok(&["remove", "go1.22.1", "--force"]);
    assert!(other.join("bin/go").exists(), "the adopted tree is untouched");
}

#[test]
fn uninstall_takes_either_spelling_and_refuses_the_default_and_the_rollback_target() {
    let env = TestEnv::new();
    for name in ["go1.20", "go1.21.13", "go1.22.10", "go1.23.9"] {
        env.fake_toolchain(name);
    }
    // go1.23.9 is the default, go1.21.13 the rollback target.
    env.gomig_ok(&["switch", "1.21.13", "--no-verify"]);
    env.gomig_ok(&["switch", "1.23.9", "--no-verify"]);
    let installed = |env: &TestEnv| -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(env.gomig_home.join("toolchains"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    };

    // Go names the first 1.20 release go1.20: 1.20.0 is the same version.
    env.gomig_ok(&["uninstall", "1.20.0"]);
    // The toolchain's own name works as typed.
    env.gomig_ok(&["uninstall", "go1.22.10"]);
    assert_eq!(installed(&env), ["go1.21.13", "go1.23.9"]);
    let uninstalled: Vec<String> = events(&env)
        .iter()
        .filter(|e| e["action"] == "uninstall")
        .map(|e| e["version"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(uninstalled, ["go1.20", "go1.22.10"]);

    let err = fails(&mut env.gomig(&["uninstall", "1.22.10"]));
    assert!(err.contains("go1.22.10 is not installed"), "{err}");
    assert!(err.contains("gomig list"), "the error says where to look:\n{err}");

    for spelling in ["1.23.9", "go1.23.9"] {
        let err = fails(&mut env.gomig(&["uninstall", spelling]));
        assert!(err.contains("go1.23.9 is the global default"), "{err}");
        assert!(
            err.contains("gomig switch VERSION"),
            "the error says what to do:\n{err}"
        );
        assert!(err.contains("gomig uninstall 1.23.9 --force"), "{err}");
    }
    for spelling in ["1.21.13", "go1.21.13"] {
        let err = fails(&mut env.gomig(&["uninstall", spelling]));
        assert!(err.contains("go1.21.13 is the rollback target"), "{err}");
        assert!(err.contains("gomig uninstall 1.21.13 --force"), "{err}");
    }
    assert_eq!(
        installed(&env),
        ["go1.21.13", "go1.23.9"],
        "a refused uninstall removes nothing"
    );
    assert_eq!(env.default_name(), "go1.23.9");

    // --force removes the rollback target; gomig rollback then says what is missing.
    env.gomig_ok(&["uninstall", "1.21.13", "--force"]);
    assert_eq!(installed(&env), ["go1.23.9"]);
    let err = fails(&mut env.gomig(&["rollback", "--no-verify"]));
    assert!(err.contains("go1.21.13 is not installed"), "{err}");
    assert_eq!(env.default_name(), "go1.23.9");
}

#[test]
fn remove_takes_any_spelling_of_the_version_too() {
    let env = TestEnv::new();
    let tree = env.dir("go120");
    fs::create_dir_all(tree.join("bin")).unwrap();
    fs::copy("/bin/true", tree.join("bin/go")).unwrap();
    fs::create_dir_all(env.gomig_home.join("toolchains")).unwrap();
    std::os::unix::fs::symlink(&tree, env.gomig_home.join("toolchains/go1.20")).unwrap();
    let out = env.gomig_ok(&["-q", "remove", "1.20.0"]);
    assert_eq!(out, "");
    assert!(!env.gomig_home.join("toolchains/go1.20").exists());
    assert!(tree.join("bin/go").exists(), "the adopted tree is untouched");
}

#[test]
fn a_command_that_changes_the_store_first_removes_what_killed_runs_left() {
    let env = TestEnv::new();
    env.fake_toolchain("go1.21.13");
    env.fake_toolchain("go1.23.9");
    env.gomig_ok(&["switch", "1.21.13", "--no-verify"]);
    let toolchains = env.gomig_home.join("toolchains");
    // A killed install's staging directory and a killed uninstall's trash: their locks are free.
    let staging = toolchains.join(".staging-go1.22.10-4242-1f-0");
    fs::create_dir_all(staging.join("go/bin")).unwrap();
    fs::write(staging.join("go/bin/go"), "half").unwrap();
    let trash = toolchains.join(".trash-go1.20-4242-2f-0");
    fs::create_dir_all(trash.join("bin")).unwrap();
    // A killed switch's link, made but never renamed over `default`.
    let tmp_link = env.gomig_home.join(".default.tmp-4242-3f-0");
    std::os::unix::fs::symlink("toolchains/go1.23.9", &tmp_link).unwrap();
    // A live install's staging directory: its lock is held (here, by the test).
    let live = toolchains.join(".staging-go1.24.11-4343-4f-0");
    fs::create_dir_all(&live).unwrap();
    let lock = fs::File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(env.gomig_home.join("state/locks/toolchain-go1.24.11.lock"))
        .unwrap();
    lock.lock().unwrap();

    // Any command that changes the store, even one with nothing to change.
    let out = env.gomig_ok(&["switch", "1.21.13", "--no-verify"]);
    assert_eq!(out, "");
    assert!(!staging.exists(), "a stale staging directory was left");
    assert!(!trash.exists(), "stale trash was left");
    assert!(
        fs::symlink_metadata(&tmp_link).is_err(),
        "a stale .default.tmp link was left"
    );
    assert!(live.exists(), "a staging directory whose lock is held was removed");
    // The default is what it was: the killed switch's link was removed, not completed.
    assert_eq!(env.default_name(), "go1.21.13");
    assert!(env.gomig_ok(&["current"]).starts_with("go1.21.13"));
    assert_eq!(
        env.gomig_ok(&["list", "--json"]).matches("\"version\"").count(),
        2,
        "gomig list shows the two toolchains only"
    );

    // Once its owner is gone, the next change removes it too. (A child that another test thread
    // forks at this moment holds a copy of the descriptor until it execs: wait for the lock to
    // be free for real.)
    drop(lock);
    let probe = fs::File::open(env.gomig_home.join("state/locks/toolchain-go1.24.11.lock")).unwrap();
    while probe.try_lock().is_err() {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    drop(probe);
    env.gomig_ok(&["switch", "1.23.9", "--no-verify"]);
    assert!(!live.exists(), "a staging directory whose owner died was left");
    assert_eq!(env.default_name(), "go1.23.9");
    env.gomig_ok(&["rollback", "--no-verify"]);
    assert_eq!(env.default_name(), "go1.21.13");
}

/// The pid of a process that has exited (and was reaped).
fn dead_pid() -> u32 {
    let mut child = Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    pid
}

#[test]
fn temporary_files_of_killed_runs_are_removed_and_those_of_live_runs_kept() {
    let env = TestEnv::new();
    env.fake_toolchain("go1.21.13");
    env.gomig_ok(&["switch", "1.21.13", "--no-verify"]);
    let home = &env.gomig_home;
    let dead = dead_pid();
    let live = std::process::id();
    // What a kill between write and rename leaves: atomic writes, an adoption's link, a shim.
    let dead_ones = [
        home.join(format!("state/.history.tmp-{dead}-1f-0")),
        home.join(format!("manifests/.go1.21.13.manifest.tmp-{dead}-2f-0")),
        home.join(format!("shims/.go.tmp-{dead}-3f-0")),
    ];
    for p in &dead_ones {
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, "partial").unwrap();
    }
    let dead_adopt = home.join(format!("toolchains/.adopt-go1.22.10-{dead}-4f-0"));
    std::os::unix::fs::symlink("/usr/lib/go-1.19", &dead_adopt).unwrap();
    // The same from a process that is still running: in use, kept.
    let live_one = home.join(format!("state/.history.tmp-{live}-5f-0"));
    fs::write(&live_one, "being written").unwrap();
    // Not ours to touch: a directory with such a name, and files named like ours but not quite.
    let dir_like = home.join(format!("state/.dir.tmp-{dead}-6f-0"));
    fs::create_dir_all(&dir_like).unwrap();
    let not_ours = [
        home.join(format!("state/notes.tmp-{dead}-7f-0")),
        home.join(format!("state/.notes.tmp-{dead}-draft")),
        home.join(format!("state/.notes.tmp-{dead}-7f-0-copy")),
        home.join(format!("toolchains/.adopt-{dead}-8f")),
    ];
    for p in &not_ours {
        fs::write(p, "mine").unwrap();
    }
    let cache_tmp = home.join(format!("cache/.index.json.tmp-{dead}-9f-0"));
    fs::create_dir_all(cache_tmp.parent().unwrap()).unwrap();
    fs::write(&cache_tmp, "partial").unwrap();

    env.gomig_ok(&["switch", "1.21.13", "--no-verify"]);
    for p in dead_ones.iter().chain([&dead_adopt, &cache_tmp]) {
        assert!(fs::symlink_metadata(p).is_err(), "{} was left", p.display());
    }
    assert!(live_one.exists(), "a live process's temporary file was removed");
    assert!(dir_like.is_dir(), "a directory was removed");
    for p in &not_ours {
        assert!(
            p.exists(),
            "{} is not a gomig temporary file and was removed",
            p.display()
        );
    }
    assert_eq!(env.default_name(), "go1.21.13");
}

#[test]
fn adopting_the_same_tree_twice_is_harmless_and_a_clash_is_refused() {
    let env = TestEnv::new();
    let a = env.dir("a");
    let b = env.dir("b");
    for d in [&a, &b] {
        fs::create_dir_all(d.join("bin")).unwrap();
        fs::copy("/bin/true", d.join("bin/go")).unwrap();
        fs::write(d.join("VERSION"), "go1.22.1\n").unwrap();
    }
    env.gomig_ok(&["add", a.to_str().unwrap()]);
    let out = run(&mut env.gomig(&["add", a.to_str().unwrap()]));
    assert!(
        out.status.success() && stderr(&out).contains("already adopted"),
        "{}",
        describe(&out)
    );
    let err = fails(&mut env.gomig(&["add", b.to_str().unwrap()]));
    assert!(err.contains("--name"), "{err}");
    env.gomig_ok(&["add", b.to_str().unwrap(), "--name", "go1.22.1-b"]);
    let list: serde_json::Value = serde_json::from_str(&env.gomig_ok(&["list", "--json"])).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2);
}

#[test]
fn doctor_names_each_problem_with_its_fix() {
    let env = TestEnv::new();
    env.fake_toolchain("go1.21.13");
    env.gomig_ok(&["switch", "1.21.13", "--no-verify"]);
    env.install_shims();
    let out = run(&mut env.gomig(&["doctor"]));
    assert!(out.status.success(), "{}", describe(&out));
    // A stale GOROOT, a shadowing go earlier on PATH, a broken default and a leftover staging dir.
    let shadow = env.dir("shadow");
    fs::copy("/bin/true", shadow.join("go")).unwrap();
    fs::create_dir_all(env.gomig_home.join("toolchains/.staging-go1.24.0-abc")).unwrap();
    fs::remove_dir_all(env.gomig_home.join("toolchains/go1.21.13")).unwrap();
    let out = run(env
        .gomig(&["doctor"])
        .env("GOROOT", "/old/go")
        .env("PATH", format!("{}:{}", shadow.display(), env.path_with_shims())));
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let text = stdout(&out);
    for needle in [
        "GOROOT is exported",
        "not gomig's shim",
        "default go1.21.13 is missing",
        ".staging-go1.24.0-abc",
    ] {
        assert!(text.contains(needle), "doctor should report {needle:?}:\n{text}");
    }
    assert!(text.matches("fix:").count() >= 4, "{text}");
}

#[test]
fn unknown_config_keys_are_errors_that_name_the_key() {
    let env = TestEnv::new();
    fs::write(
        env.root().join("config.toml"),
        "mirror = \"http://127.0.0.1:1/dl/\"\nauto_instal = true\n",
    )
    .unwrap();
    let out = run(&mut env.gomig(&["doctor"]));
    assert!(stdout(&out).contains("auto_instal"), "{}", describe(&out));
}

#[test]
fn init_replaces_a_stale_shim_even_of_the_same_size_and_logs_it() {
    let env = TestEnv::new();
    env.install_shims();
    env.install_shims();
    let shim_events = |env: &TestEnv| events(env).iter().filter(|e| e["action"] == "shims").count();
    assert_eq!(shim_events(&env), 1, "a second init with current shims changes nothing");
    // An older shim of exactly the same size (one byte differs).
    let go = env.shims_dir().join("go");
    let mut bytes = fs::read(&go).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    fs::remove_file(&go).unwrap();
    fs::write(&go, &bytes).unwrap();
    fs::set_permissions(&go, fs::Permissions::from_mode(0o755)).unwrap();
    env.install_shims();
    assert_eq!(
        fs::read(&go).unwrap(),
        fs::read(shim_bin()).unwrap(),
        "init restores the shim"
    );
    assert_eq!(shim_events(&env), 2);
}

#[test]
fn local_pins_and_unpins_are_logged_with_the_file() {
    let env = TestEnv::new();
    env.fake_toolchain("go1.21.13");
    env.gomig_ok(&["switch", "1.21.13", "--no-verify"]);
    let dir = env.dir("app");
    ok(&mut env.gomig_in(&dir, &["local", "1.21.13"]));
    ok(&mut env.gomig_in(&dir, &["local", "--unset"]));
    let pins: Vec<_> = events(&env).into_iter().filter(|e| e["action"] == "local").collect();
    let file = dir.join(".go-version").display().to_string();
    assert_eq!(pins.len(), 2, "{pins:#?}");
    assert_eq!(
        (pins[0]["file"].as_str(), pins[0]["version"].as_str()),
        (Some(file.as_str()), Some("1.21.13"))
    );
    assert_eq!(
        (pins[1]["file"].as_str(), pins[1]["version"].as_str()),
        (Some(file.as_str()), None)
    );
}

#[test]
fn doctor_on_a_fresh_machine_says_once_what_to_do_next_and_exits_0() {
    let env = TestEnv::new();
    env.install_shims();
    let out = run(&mut env.gomig(&["doctor"]));
    let text = stdout(&out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "nothing is broken on a fresh machine:\n{}",
        describe(&out)
    );
    assert!(!text.contains("FIX"), "{text}");
    assert_eq!(text.matches("next  ").count(), 1, "one next step, said once:\n{text}");
    assert!(text.contains("run: gomig install latest"), "{text}");
    assert!(
        text.contains("gomig config set mirror URL") && text.contains("--archive FILE --sha256 HEX"),
        "{text}"
    );
}

#[test]
fn doctor_without_a_default_names_a_toolchain_to_switch_to() {
    let env = TestEnv::new();
    env.install_shims();
    env.fake_toolchain("go1.21.13");
    env.fake_toolchain("go1.23.9");
    let out = run(&mut env.gomig(&["doctor"]));
    let text = stdout(&out);
    assert!(
        text.contains("no global default is set") && text.contains("fix: gomig switch 1.23.9"),
        "{text}"
    );
    assert!(!text.contains("see the message"), "{text}");
}

#[test]
fn doctor_says_an_exported_gotoolchain_is_served_by_the_shim_and_risky_only_without_it() {
    let env = TestEnv::new();
    env.install_shims();
    env.fake_toolchain("go1.22.10");
    env.gomig_ok(&["switch", "1.22.10", "--no-verify"]);
    let out = run(env.gomig(&["doctor"]).env("GOTOOLCHAIN", "go1.22.10"));
    let text = stdout(&out);
    assert!(
        text.contains("GOTOOLCHAIN=go1.22.10 is exported: the go shim serves it from gomig's store")
            && text.contains("a go started without the shim"),
        "{text}"
    );
    // The fix names commands that work as pasted.
    assert!(
        text.contains("fix: pin with gomig shell VERSION or gomig local VERSION instead"),
        "{text}"
    );
}
