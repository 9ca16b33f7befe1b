//! The store transaction: every change to the default and the history is made under the store
//! lock, passes the verify gate there, and is whole or not at all — against a second gomig, a
//! kill -9 at each step, an unwritable event log and a full disk — and the exit status says
//! which.

mod support;

use std::fs;
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use support::*;

const A: &str = "go1.21.13";
const B: &str = "go1.22.10";

/// A store with the fake toolchains A and B, each with its manifest, A the default.
fn store_with_a_and_b() -> TestEnv {
    let env = TestEnv::new();
    for name in [A, B] {
        env.fake_toolchain(name);
        env.gomig_ok(&["snapshot", name]);
    }
    env.gomig_ok(&["switch", A]);
    env.install_shims();
    env
}

fn history(env: &TestEnv) -> Vec<String> {
    fs::read_to_string(env.gomig_home.join("state/history"))
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

fn events(env: &TestEnv) -> Vec<serde_json::Value> {
    fs::read_to_string(env.gomig_home.join("log/events.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A GOROOT outside the store, to adopt: its `bin/go` says it is `name`.
fn adoptable_tree(env: &TestEnv, name: &str) -> PathBuf {
    let tree = env.dir(&format!("elsewhere/{name}"));
    fs::create_dir_all(tree.join("bin")).unwrap();
    fs::write(tree.join("bin/go"), format!("#!/bin/sh\necho \"{name} go args=$*\"\n")).unwrap();
    fs::set_permissions(tree.join("bin/go"), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    fs::write(tree.join("VERSION"), format!("{name}\n")).unwrap();
    tree
}

/// `go` through the shim runs the default: the one thing that must never break.
fn default_runs(env: &TestEnv) -> String {
    let out = run(&mut env.go_in(&env.work, &["version"]));
    assert!(out.status.success(), "the default does not run:\n{}", describe(&out));
    stdout(&out).split_whitespace().next().unwrap().to_string()
}

/// Starts `gomig ARGS` held at `step` (the transaction's test hook) and waits until it is there.
struct Held {
    child: Child,
    file: PathBuf,
}

impl Held {
    fn start(env: &TestEnv, args: &[&str], step: &str) -> Held {
        let file = env.root().join(format!("pause-{}", step.replace(':', "-")));
        let _ = fs::remove_file(&file);
        let child = env
            .gomig(args)
            .env("GOMIG_TEST_PAUSE_AT", step)
            .env("GOMIG_TEST_PAUSE_FILE", &file)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut held = Held { child, file };
        let deadline = Instant::now() + Duration::from_secs(30);
        while !fs::read_to_string(&held.file).is_ok_and(|pid| !pid.is_empty()) {
            if let Ok(Some(status)) = held.child.try_wait() {
                let out = held.child.stderr_now();
                panic!("gomig {args:?} ended ({status}) before reaching {step}:\n{out}");
            }
            assert!(Instant::now() < deadline, "gomig {args:?} never reached {step}");
            std::thread::sleep(Duration::from_millis(5));
        }
        held
    }

    fn release(self) -> std::process::Output {
        fs::remove_file(&self.file).unwrap();
        self.child.wait_with_output().unwrap()
    }

    fn kill_9(mut self) {
        self.child.kill().unwrap(); // SIGKILL
        self.child.wait().unwrap();
        let _ = fs::remove_file(&self.file);
    }
}

trait StderrNow {
    fn stderr_now(&mut self) -> String;
}

impl StderrNow for Child {
    /// What an ended child wrote to stderr.
    fn stderr_now(&mut self) -> String {
        use std::io::Read;
        let mut text = String::new();
        if let Some(e) = self.stderr.as_mut() {
            let _ = e.read_to_string(&mut text);
        }
        text
    }
}

#[test]
fn rollback_to_a_tampered_target_is_refused_and_the_default_stays() {
    let env = store_with_a_and_b();
    env.gomig_ok(&["switch", B]);
    fs::write(
        env.gomig_home.join("toolchains").join(A).join("bin/gofmt"),
        "#!/bin/sh\necho planted\n",
    )
    .unwrap();

    let err = fails(&mut env.gomig(&["rollback"]));
    assert!(
        err.contains(&format!("{A} does not match its manifest")) && err.contains("bin/gofmt"),
        "{err}"
    );
    assert!(err.contains("refusing to roll back to it"), "{err}");
    assert_eq!(env.default_name(), B, "the default stays");
    assert_eq!(history(&env), [A], "the rollback target stays");
    let refused = events(&env).pop().unwrap();
    assert_eq!(
        (refused["action"].as_str(), refused["result"].as_str()),
        (Some("rollback"), Some("error"))
    );

    // Said plainly, the user can go back anyway; the log says the gate was skipped.
    env.gomig_ok(&["rollback", "--no-verify"]);
    assert_eq!(env.default_name(), A);
    assert_eq!(events(&env).pop().unwrap()["verified"], false);
}

#[test]
fn a_switch_held_between_its_check_and_its_write_keeps_uninstall_and_remove_out() {
    let env = store_with_a_and_b();
    // An adopted C, to race remove against.
    let c_tree = adoptable_tree(&env, "go1.23.9");
    env.gomig_ok(&["add", c_tree.to_str().unwrap()]);

    for (target, other) in [(B, vec!["uninstall", B]), ("go1.23.9", vec!["remove", "go1.23.9"])] {
        // The switch has verified its target and holds the store lock, about to write.
        let switch = Held::start(&env, &["switch", target], "switch:before-pending");
        let mut remover = env
            .gomig(&other)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(300));
        assert!(
            remover.try_wait().unwrap().is_none(),
            "gomig {other:?} must wait for the switch's lock, not act between its check and its write"
        );
        let out = switch.release();
        assert!(out.status.success(), "{}", describe(&out));
        let removed = remover.wait_with_output().unwrap();
        assert_eq!(removed.status.code(), Some(1), "{}", describe(&removed));
        assert!(
            stderr(&removed).contains("is the global default"),
            "{}",
            describe(&removed)
        );
        assert_eq!(env.default_name(), target);
        assert!(default_runs(&env).starts_with(target));
        env.gomig_ok(&["switch", A]);
    }
}

#[test]
fn switch_racing_uninstall_or_remove_never_leaves_a_default_that_is_gone() {
    let env = store_with_a_and_b();
    let manifest_of_b = fs::read(env.gomig_home.join("manifests").join(format!("{B}.manifest"))).unwrap();
    let c_tree = adoptable_tree(&env, "go1.23.9");

    let mut outcomes = std::collections::BTreeMap::new();
    for round in 0..300 {
        // Even rounds race `uninstall B`, odd ones `remove C` (adopted), each against a switch to it.
        let (target, remover): (&str, Vec<&str>) = if round % 2 == 0 {
            (B, vec!["uninstall", B])
        } else {
            ("go1.23.9", vec!["remove", "go1.23.9"])
        };
        if round % 2 == 0 && !env.gomig_home.join("toolchains").join(B).exists() {
            env.fake_toolchain(B);
            fs::write(
                env.gomig_home.join("manifests").join(format!("{B}.manifest")),
                &manifest_of_b,
            )
            .unwrap();
        }
        if round % 2 == 1 && fs::symlink_metadata(env.gomig_home.join("toolchains/go1.23.9")).is_err() {
            env.gomig_ok(&["add", c_tree.to_str().unwrap()]);
        }
        let mut switch = env
            .gomig(&["switch", target])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut other = env
            .gomig(&remover)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let switched = switch.wait().unwrap().success();
        let removed = other.wait().unwrap().success();
        assert!(
            !(switched && removed) || env.default_name() != target,
            "round {round}: both won"
        );
        let default = env.default_name();
        assert!(
            env.gomig_home
                .join("toolchains")
                .join(&default)
                .join("bin/go")
                .is_file(),
            "round {round}: the default {default} is gone (switch ok: {switched}, {remover:?} ok: {removed})"
        );
        assert!(default_runs(&env).starts_with(&default), "round {round}");
        *outcomes.entry((switched, removed)).or_insert(0) += 1;
        if default != A {
            env.gomig_ok(&["switch", A]);
        }
    }
    eprintln!("(switch ok, removal ok) -> rounds: {outcomes:?}");
}

/// Every step of a switch, in the order it writes.
const SWITCH_STEPS: [&str; 6] = [
    "switch:locked",
    "switch:before-pending",
    "switch:before-history",
    "switch:before-default",
    "switch:before-log",
    "switch:before-done",
];

#[test]
fn a_switch_killed_at_any_step_keeps_the_rollback_target_and_the_next_command_finishes_it() {
    for step in SWITCH_STEPS {
        let env = store_with_a_and_b();
        let logged_before = events(&env).len();
        Held::start(&env, &["switch", B], step).kill_9();

        // Before any other command: `go` runs, and the rollback target is never lost.
        let default = default_runs(&env);
        assert!(default == A || default == B, "{step}: {default}");
        let list: serde_json::Value = serde_json::from_str(&env.gomig_ok(&["list", "--json"])).unwrap();
        let target = list
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["rollback_target"] == true)
            .map(|t| t["version"].as_str().unwrap().to_string());
        if default == B {
            assert_eq!(target.as_deref(), Some(A), "{step}: the rollback target survives");
        } else {
            assert_eq!(
                target, None,
                "{step}: nothing to roll back while A is still the default"
            );
        }

        // The next command that changes the store completes or undoes the change.
        let out = run(&mut env.gomig(&["init", "bash"]));
        assert!(out.status.success(), "{step}: {}", describe(&out));
        assert!(!env.gomig_home.join("state/pending").exists(), "{step}: pending left");
        let switches: Vec<_> = events(&env)[logged_before..]
            .iter()
            .filter(|e| e["action"] == "switch" && e["result"] == "ok")
            .cloned()
            .collect();
        if env.default_name() == B {
            assert_eq!(history(&env), [A], "{step}");
            assert_eq!(
                switches.len(),
                1,
                "{step}: the switch is logged exactly once: {switches:?}"
            );
            assert_eq!(
                (switches[0]["from"].as_str(), switches[0]["to"].as_str()),
                (Some(A), Some(B))
            );
            env.gomig_ok(&["rollback"]);
            assert_eq!(env.default_name(), A, "{step}: rollback goes back to A");
        } else {
            assert_eq!(
                history(&env),
                Vec::<String>::new(),
                "{step}: no history entry for a switch not made"
            );
            assert!(switches.is_empty(), "{step}: {switches:?}");
        }
    }
}

#[test]
fn a_rollback_killed_at_any_step_keeps_a_running_default_and_is_finished_or_undone() {
    for step in [
        "rollback:before-history",
        "rollback:before-default",
        "rollback:before-log",
    ] {
        let env = store_with_a_and_b();
        env.gomig_ok(&["switch", B]);
        Held::start(&env, &["rollback"], step).kill_9();
        let default = default_runs(&env);
        env.gomig_ok(&["init", "bash"]);
        assert_eq!(env.default_name(), default, "{step}: recovery keeps what is in place");
        match default.as_str() {
            A => assert_eq!(history(&env), Vec::<String>::new(), "{step}"),
            B => assert_eq!(history(&env), [A], "{step}: rollback can be run again"),
            other => panic!("{step}: {other}"),
        }
    }
}

/// Turns the event log into something that cannot be appended to.
fn break_event_log(env: &TestEnv) -> PathBuf {
    let log = env.gomig_home.join("log/events.jsonl");
    let _ = fs::remove_file(&log);
    fs::create_dir_all(log.join("not-a-file")).unwrap();
    log
}

#[test]
fn with_the_event_log_unwritable_switch_and_rollback_change_nothing_and_say_so() {
    let env = store_with_a_and_b();
    env.gomig_ok(&["switch", B]);
    let log = break_event_log(&env);
    for args in [vec!["switch", A], vec!["rollback"]] {
        let err = fails(&mut env.gomig(&args));
        assert!(
            err.contains(&format!("cannot write the event log {}", log.display()))
                && err.contains("nothing was changed"),
            "{args:?}: {err}"
        );
        assert_eq!(env.default_name(), B, "{args:?}: exit 1, so the default is unchanged");
        assert_eq!(history(&env), [A], "{args:?}");
    }
    fs::remove_dir_all(&log).unwrap();
    env.gomig_ok(&["rollback"]);
    assert_eq!(env.default_name(), A);
}

#[test]
fn on_a_full_disk_switch_and_rollback_change_nothing_and_say_so() {
    let env = TestEnv::new();
    // The store on a small disk; the trees (adopted) live elsewhere.
    let Some(disk) = SmallDisk::mount_for(
        "on_a_full_disk_switch_and_rollback_change_nothing_and_say_so",
        &env.gomig_home,
        "1m",
    ) else {
        return;
    };
    for name in [A, B, "go1.23.9"] {
        let tree = adoptable_tree(&env, name);
        env.gomig_ok(&["add", tree.to_str().unwrap()]);
    }
    env.gomig_ok(&["switch", B]);
    let filler = disk.fill();
    for args in [vec!["switch", "go1.23.9"], vec!["rollback"]] {
        let err = fails(&mut env.gomig(&args));
        assert!(
            err.contains("nothing was changed") && err.contains("free some space"),
            "{args:?}: {err}"
        );
        assert!(
            err.contains(&env.gomig_home.display().to_string()),
            "{args:?}: names the disk: {err}"
        );
        assert_eq!(env.default_name(), B, "{args:?}");
        assert_eq!(history(&env), [A], "{args:?}");
    }
    assert!(!env.gomig_home.join("state/pending").exists());
    fs::remove_file(filler).unwrap();
    env.gomig_ok(&["switch", "go1.23.9"]);
    assert_eq!(history(&env), [A, B]);
}

#[test]
fn a_prune_killed_while_recording_its_archive_leaves_no_temporary_link_and_the_way_back_is_named() {
    let env = TestEnv::new();
    env.install_shims();
    for name in ["go1.16.1", "go1.21.1", "go1.22.1"] {
        env.fake_toolchain(name);
        env.gomig_ok(&["snapshot", name]);
    }
    for v in ["1.21.1", "1.22.1"] {
        env.gomig_ok(&["switch", v, "--no-verify"]);
    }
    let pruned = env.gomig_home.join("state/pruned");
    Held::start(&env, &["prune", "--keep", "1"], "prune:record-linked").kill_9();
    let leftovers = || -> Vec<String> {
        fs::read_dir(&pruned)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with('.'))
            .collect()
    };
    assert_eq!(leftovers().len(), 1, "killed with its temporary link made");

    env.gomig_ok(&["prune", "--keep", "1"]);
    assert_eq!(leftovers(), Vec::<String>::new(), "the next command removes it");
    assert!(pruned.join("go1.16.1").is_symlink(), "and the record is made");
    let project = env.dir("old");
    env.write("old/.go-version", "1.16.1\n");
    let msg = fails(&mut env.go_in(&project, &["version"]));
    assert!(msg.contains("gomig restore"), "the way back is named:\n{msg}");
}
