//! Names are facts (issue 9, item 3): one version-argument parser for every command that takes
//! a toolchain, one name length limit shared by the shim and the CLI, `--name` never claiming
//! another release, and verify checking the name against the tree.

mod support;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use support::{TestEnv, describe, fails, run, stderr, stdout};

/// A fake GOROOT at `root` for release `version`: a VERSION file and a `bin/go` that answers
/// `go version`, `go env` (-json and single keys) like Go, and prints its GOROOT for anything
/// else (`go probe`), so a test sees which tree ran.
fn fake_goroot(root: &Path, version: &str) -> PathBuf {
    fs::create_dir_all(root.join("bin")).unwrap();
    fs::write(root.join("VERSION"), format!("{version}\ntime 2024-12-03T00:00:00Z\n")).unwrap();
    let script = format!(
        "#!/bin/sh\ncase \"$1\" in\nversion) echo \"go version {version} linux/amd64\" ;;\nenv) case \"$*\" in\n  *-json*) echo '{{\"GOARCH\":\"amd64\",\"GOOS\":\"linux\",\"GOVERSION\":\"{version}\"}}' ;;\n  *GOVERSION*) echo {version} ;;\n  *GOROOT*) echo \"$GOROOT\" ;;\n  *) echo ;;\n  esac ;;\n*) echo \"ran GOROOT=$GOROOT\" ;;\nesac\n"
    );
    let go = root.join("bin/go");
    fs::write(&go, script).unwrap();
    fs::set_permissions(&go, fs::Permissions::from_mode(0o755)).unwrap();
    root.to_path_buf()
}

/// (store name, the release its tree reports).
const LAYOUT: &[(&str, &str)] = &[
    ("go1.20", "go1.20"),
    ("go1.21.13", "go1.21.13"),
    ("go1.22.9", "go1.22.9"),
    ("go1.22.10", "go1.22.10"),
    ("go1.22.10-mine", "go1.22.10"),
];

fn env_with_telemetry_off() -> TestEnv {
    TestEnv::new()
}

fn gomig(env: &TestEnv, dir: &Path, args: &[&str]) -> Command {
    let mut cmd = env.gomig_in(dir, args);
    cmd.env("GOTELEMETRY", "off");
    cmd
}

/// The layout, installed in the store (`toolchains/<name>` directories with manifests), or
/// adopted (`gomig add TREE [--name]`, for `remove`). The default is go1.21.13.
fn layout(adopted: bool) -> TestEnv {
    let env = env_with_telemetry_off();
    fs::create_dir_all(env.gomig_home.join("toolchains")).unwrap();
    for (name, release) in LAYOUT {
        if adopted {
            let tree = fake_goroot(&env.work.join("trees").join(name), release);
            let mut args = vec!["add", tree.to_str().unwrap()];
            if name.contains('-') {
                args.extend(["--name", name]);
            }
            let out = run(&mut gomig(&env, &env.work, &args));
            assert!(out.status.success(), "{}", describe(&out));
        } else {
            fake_goroot(&env.gomig_home.join("toolchains").join(name), release);
            let out = run(&mut gomig(&env, &env.work, &["snapshot", name]));
            assert!(out.status.success(), "{}", describe(&out));
        }
    }
    let out = run(&mut gomig(&env, &env.work, &["switch", "go1.21.13"]));
    assert!(out.status.success(), "{}", describe(&out));
    env
}

/// The store name of the tree at a GOROOT printed by a fake go.
fn name_of_goroot(text: &str) -> String {
    let root = text
        .split("GOROOT=")
        .nth(1)
        .map(|r| r.split_whitespace().next().unwrap_or(""))
        .unwrap_or_else(|| panic!("no GOROOT in {text:?}"));
    Path::new(root).file_name().unwrap().to_string_lossy().into_owned()
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// What a command made of the argument: the toolchain it acted on, or its error.
type Outcome = Result<String, String>;

fn outcome(out: std::process::Output, pick: impl FnOnce(&str, &str) -> String) -> Outcome {
    if out.status.success() {
        Ok(pick(&stdout(&out), &stderr(&out)))
    } else {
        Err(stderr(&out))
    }
}

/// Runs every command that takes a version with `arg`, each in a store where it changes
/// nothing the next one reads (switch and snapshot only re-record; uninstall and remove each
/// get their own store).
fn through_every_command(arg: &str) -> Vec<(&'static str, Outcome)> {
    let env = layout(false);
    let w = env.work.clone();
    let mut results = Vec::new();

    let out = run(&mut gomig(&env, &w, &["switch", arg]));
    results.push((
        "switch",
        outcome(out, |_, _| env.default_name()).inspect(|_| {
            run(&mut gomig(&env, &w, &["switch", "go1.21.13"]));
        }),
    ));

    let dir = env.dir(&format!("local-{}", results.len()));
    let out = run(&mut gomig(&env, &dir, &["local", arg]));
    env.install_shims();
    results.push((
        "local",
        outcome(out, |_, _| {
            let mut go = env.go_in(&dir, &["probe"]);
            name_of_goroot(&support::ok(&mut go))
        }),
    ));

    let mut cmd = gomig(&env, &w, &["shell", arg]);
    cmd.env("GOMIG_SHELL", "bash");
    let out = run(&mut cmd);
    results.push((
        "shell",
        outcome(out, |stdout, _| {
            let value = stdout.split('\'').nth(1).expect("export GOMIG_GO_VERSION='...'");
            let mut go = env.go_in(&w, &["probe"]);
            go.env("GOMIG_GO_VERSION", value);
            name_of_goroot(&support::ok(&mut go))
        }),
    ));

    let out = run(&mut gomig(&env, &w, &["exec", arg, "--", "go", "probe"]));
    results.push(("exec", outcome(out, |stdout, _| name_of_goroot(stdout))));

    let out = run(&mut gomig(&env, &w, &["env", arg, "--json"]));
    results.push((
        "env",
        outcome(out, |stdout, _| {
            let root = json(stdout)["GOROOT"].as_str().unwrap().to_string();
            Path::new(&root).file_name().unwrap().to_string_lossy().into_owned()
        }),
    ));

    let out = run(&mut gomig(&env, &w, &["verify", arg, "--json"]));
    results.push((
        "verify",
        outcome(out, |stdout, _| {
            json(stdout)[0]["version"].as_str().unwrap().to_string()
        }),
    ));

    let out = run(&mut gomig(&env, &w, &["snapshot", arg]));
    results.push((
        "snapshot",
        outcome(out, |stdout, _| stdout.split_whitespace().next().unwrap().to_string()),
    ));

    let archives = env.dir("archives");
    let out = run(&mut gomig(
        &env,
        &w,
        &["archive", arg, "-o", archives.to_str().unwrap()],
    ));
    results.push((
        "archive",
        outcome(out, |_, stderr| {
            stderr
                .split("archived ")
                .nth(1)
                .and_then(|s| s.split_whitespace().next())
                .unwrap()
                .to_string()
        }),
    ));

    let out = run(&mut gomig(&env, &w, &["fingerprint", arg, "--json"]));
    results.push((
        "fingerprint",
        outcome(out, |stdout, _| json(stdout)["toolchain"].as_str().unwrap().to_string()),
    ));

    let out = run(&mut gomig(&env, &w, &["env-diff", arg, "go1.21.13", "--json"]));
    results.push((
        "env-diff",
        outcome(out, |stdout, _| json(stdout)["a"]["name"].as_str().unwrap().to_string()),
    ));

    // check: what it resolved --to and --from to is in its refusal (no module here) or report.
    for flag in ["--to", "--from"] {
        let module = env.dir("module");
        fs::write(module.join("go.mod"), "module m\n\ngo 1.20\n").unwrap();
        let args: Vec<&str> = if flag == "--to" {
            vec!["check", "--to", arg, "--from", "go1.21.13", "--cross", "none", "--json"]
        } else {
            vec!["check", "--from", arg, "--to", "go1.21.13", "--cross", "none", "--json"]
        };
        let out = run(&mut gomig(&env, &module, &args));
        let text = format!("{}{}", stdout(&out), stderr(&out));
        let prefix = format!("{flag} {arg}: ");
        let side = if flag == "--to" { "to" } else { "from" };
        results.push((
            if flag == "--to" { "check --to" } else { "check --from" },
            match text.find(&prefix) {
                Some(_) => Err(text),
                None => {
                    let report = json(&stdout(&out));
                    Ok(report[side]["label"]
                        .as_str()
                        .unwrap_or_else(|| panic!("no {side}.label in {report}"))
                        .to_string())
                }
            },
        ));
    }

    let out = run(&mut gomig(
        &env,
        &w,
        &["migrate", "--to", arg, "--no-check", "--dry-run", "--json"],
    ));
    results.push((
        "migrate --to",
        outcome(out, |stdout, _| {
            let report = json(stdout);
            report["to"]
                .as_str()
                .unwrap_or_else(|| panic!("no to in {report}"))
                .to_string()
        }),
    ));

    for (command, adopted) in [("uninstall", false), ("remove", true)] {
        let env = layout(adopted);
        let before = toolchains(&env);
        let out = run(&mut gomig(&env, &env.work, &[command, arg, "--force"]));
        results.push((
            command,
            outcome(out, |_, _| {
                let after = toolchains(&env);
                let gone: Vec<&String> = before.iter().filter(|n| !after.contains(n)).collect();
                assert_eq!(gone.len(), 1, "{command} {arg} removed {gone:?}");
                gone[0].clone()
            }),
        ));
    }
    results
}

fn toolchains(env: &TestEnv) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(env.gomig_home.join("toolchains"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    names.sort();
    names
}

/// The toolchain a spelling selects, or (what every refusal says, what it must never say).
type Want = Result<&'static str, (&'static [&'static str], &'static [&'static str])>;

/// Every spelling of a version, through every command that takes one: each command acts on
/// the toolchain the shim runs for that text, or refuses it with the same words.
#[test]
fn one_version_argument_means_the_same_toolchain_in_every_command() {
    // (typed, the toolchain, or what every refusal says and what it must never say)
    let cases: &[(&str, Want)] = &[
        ("1.22.10", Ok("go1.22.10")),
        ("go1.22.10", Ok("go1.22.10")),
        ("v1.22.10", Ok("go1.22.10")),
        ("1.22", Ok("go1.22.10")),
        ("latest", Ok("go1.22.10")),
        ("1.20.0", Ok("go1.20")),
        ("go1.22.10-mine", Ok("go1.22.10-mine")),
        (
            "1.22.12",
            Err((
                &[
                    "go1.22.12 is not installed (\"1.22.12\" on the command line)",
                    "installed close to it: go1.22.10, go1.22.10-mine, go1.22.9",
                    "run: gomig install 1.22.12",
                ],
                &[],
            )),
        ),
        (
            "go1.22.10-other",
            Err((
                &[
                    "go1.22.10-other is not installed",
                    "installed close to it: go1.22.10",
                    "gomig add --name",
                ],
                &["gomig install 1.22.10-other", "gomig install go1.22.10-other"],
            )),
        ),
        (
            "garbage",
            Err((
                &["\"garbage\" is not a Go version", "write an exact version (1.22.10)"],
                &[],
            )),
        ),
    ];
    let mut failures = Vec::new();
    for (typed, want) in cases {
        for (command, got) in through_every_command(typed) {
            // migrate installs a release that is missing (its stage 1): its own semantics.
            let want = match (command, typed, want) {
                ("migrate --to", &"1.22.12", _) => Ok("go1.22.12"),
                _ => *want,
            };
            let fine = match (&want, &got) {
                (Ok(name), Ok(n)) => n == name,
                (Err((must, never)), Err(text)) => {
                    must.iter().all(|m| text.contains(m)) && !never.iter().any(|n| text.contains(n))
                }
                _ => false,
            };
            if !fine {
                failures.push(format!("{command} {typed}: want {want:?}\n  got {got:?}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `add --name` and `restore --name` may add a suffix, never claim another release.
#[test]
fn name_claiming_another_release_is_refused_by_add_and_restore() {
    let env = env_with_telemetry_off();
    let tree = fake_goroot(&env.work.join("tree"), "go1.22.10");
    let t = tree.to_str().unwrap();
    let err = fails(&mut gomig(&env, &env.work, &["add", t, "--name", "go1.22.12"]));
    assert!(
        err.contains("the name go1.22.12 claims release go1.22.12, but the tree at")
            && err.contains("is go1.22.10 (its own go version); name it go1.22.10 or go1.22.10-SUFFIX"),
        "{err}"
    );
    for claim in ["go1.22.12-mine", "go1.23.0"] {
        let err = fails(&mut gomig(&env, &env.work, &["add", t, "--name", claim]));
        assert!(err.contains("is go1.22.10"), "{claim}: {err}");
    }
    assert!(!env.gomig_home.join("toolchains/go1.22.12").exists());
    support::ok(&mut gomig(&env, &env.work, &["add", t, "--name", "go1.22.10-mine"]));

    // An archive of a go1.22.10 tree restored under another release's name.
    let store_tree = env.gomig_home.join("toolchains/go1.22.10");
    fake_goroot(&store_tree, "go1.22.10");
    support::ok(&mut gomig(&env, &env.work, &["snapshot", "go1.22.10"]));
    let out_dir = env.dir("out");
    support::ok(&mut gomig(
        &env,
        &env.work,
        &["archive", "1.22.10", "-o", out_dir.to_str().unwrap()],
    ));
    let archive = fs::read_dir(&out_dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().ends_with(".tar.gz"))
        .unwrap();
    let a = archive.to_str().unwrap();
    let err = fails(&mut gomig(&env, &env.work, &["restore", a, "--name", "go1.22.12"]));
    assert!(
        err.contains("the name go1.22.12 claims release go1.22.12, but the tree in") && err.contains("is go1.22.10"),
        "{err}"
    );
    assert!(!env.gomig_home.join("toolchains/go1.22.12").exists());
    support::ok(&mut gomig(&env, &env.work, &["restore", a, "--name", "go1.22.10-copy"]));
    assert!(env.gomig_home.join("toolchains/go1.22.10-copy/bin/go").exists());
}

/// A name over the limit is refused the same way by the shim and the CLI, and its 64-byte cut,
/// a sibling that exists, never runs instead.
#[test]
fn a_100_byte_name_is_refused_by_the_shim_and_the_cli_and_never_cut() {
    let env = env_with_telemetry_off();
    let long = format!("go1.22.10-{}", "x".repeat(90));
    assert_eq!(long.len(), 100);
    let cut = &long[..64];
    fake_goroot(&env.gomig_home.join("toolchains/go1.21.13"), "go1.21.13");
    support::ok(&mut gomig(&env, &env.work, &["snapshot", "go1.21.13"]));
    support::ok(&mut gomig(&env, &env.work, &["switch", "1.21.13"]));
    // The sibling an old gomig ran instead: the cut name.
    fake_goroot(&env.gomig_home.join("toolchains").join(cut), "go1.22.10");
    env.install_shims();

    // CLI: adopting or restoring under the long name is refused, naming the limit.
    let tree = fake_goroot(&env.work.join("tree"), "go1.22.10");
    let err = fails(&mut gomig(
        &env,
        &env.work,
        &["add", tree.to_str().unwrap(), "--name", &long],
    ));
    assert!(err.contains("is 100 bytes long, over the limit of 64"), "{err}");
    assert!(!env.gomig_home.join("toolchains").join(&long).exists());

    // The shim and the CLI with the long name as the request: both refuse, nothing runs.
    let dir = env.dir("p");
    fs::write(dir.join(".go-version"), format!("{long}\n")).unwrap();
    let limit = "bytes, the limit for a toolchain name";
    let shim = run(&mut env.go_in(&dir, &["probe"]));
    assert_eq!(shim.status.code(), Some(1), "{}", describe(&shim));
    assert!(stdout(&shim).is_empty(), "something ran: {}", describe(&shim));
    let shim_err = stderr(&shim);
    assert!(
        shim_err.contains(&format!("{} line 1: \"", dir.join(".go-version").display()))
            && shim_err.contains("is longer than 64")
            && shim_err.contains(limit),
        "{shim_err}"
    );
    let current = run(&mut gomig(&env, &dir, &["current"]));
    assert!(
        !current.status.success() && stderr(&current).contains(limit),
        "{}",
        describe(&current)
    );
    for args in [
        vec!["exec", long.as_str(), "--", "go", "probe"],
        vec!["switch", long.as_str()],
        vec!["verify", long.as_str()],
    ] {
        let out = run(&mut gomig(&env, &env.work, &args));
        assert!(!out.status.success(), "{args:?}: {}", describe(&out));
        assert!(!stdout(&out).contains("ran GOROOT"), "{args:?} ran something");
        assert!(
            stderr(&out).contains("over the limit of 64 bytes"),
            "{args:?}: {}",
            describe(&out)
        );
    }
    let mut shell = env.go_in(&env.work, &["probe"]);
    shell.env("GOMIG_GO_VERSION", &long);
    let out = run(&mut shell);
    assert!(
        !out.status.success() && stderr(&out).contains(limit),
        "{}",
        describe(&out)
    );

    // A store an old gomig left with the long name as the default: refused, where the old
    // shim cut the name and ran the sibling.
    fake_goroot(&env.gomig_home.join("toolchains").join(&long), "go1.22.10");
    fs::remove_file(dir.join(".go-version")).unwrap();
    env.set_default_link(&long);
    let out = run(&mut env.go_in(&dir, &["probe"]));
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        !stdout(&out).contains("ran GOROOT"),
        "the cut sibling ran: {}",
        describe(&out)
    );
    assert!(
        stderr(&out).contains("is longer than 64") && stderr(&out).contains("run: gomig switch VERSION"),
        "{}",
        describe(&out)
    );
}

/// A toolchain whose name claims another release than its own `go version` fails verify, and
/// the switch gate refuses it.
#[test]
fn verify_fails_a_tree_whose_name_claims_another_release() {
    let env = env_with_telemetry_off();
    fake_goroot(&env.gomig_home.join("toolchains/go1.21.13"), "go1.21.13");
    support::ok(&mut gomig(&env, &env.work, &["snapshot", "go1.21.13"]));
    support::ok(&mut gomig(&env, &env.work, &["switch", "1.21.13"]));
    // What an old `add --name go1.22.12` made of a go1.22.10 tree, manifest and all.
    fake_goroot(&env.gomig_home.join("toolchains/go1.22.12"), "go1.22.10");
    support::ok(&mut gomig(&env, &env.work, &["snapshot", "go1.22.12"]));

    let out = run(&mut gomig(&env, &env.work, &["verify", "1.22.12"]));
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        stdout(&out).contains("name      go1.22.12 claims release go1.22.12, but go version reports go1.22.10"),
        "{}",
        describe(&out)
    );
    let out = run(&mut gomig(&env, &env.work, &["verify", "1.22.12", "--json"]));
    let report = json(&stdout(&out));
    assert_eq!(report[0]["differences"][0]["kind"], "name", "{report}");

    let err = fails(&mut gomig(&env, &env.work, &["switch", "1.22.12"]));
    assert!(err.contains("go1.22.12 claims release go1.22.12"), "{err}");
    assert_eq!(env.default_name(), "go1.21.13");
}
