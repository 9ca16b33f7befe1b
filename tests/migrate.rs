//! `gomig migrate`: the four stages (install beside, verify, check, switch) end to end, with
//! real Go releases served by the loopback download site, real projects, and the real store.

mod support;

#[path = "support/dlsite.rs"]
mod dlsite;

use std::fs;
use std::path::{Path, PathBuf};

use dlsite::{Release, Site};
use serde_json::Value;
use support::*;

/// The Go build cache the checks share (also tests/check.rs's).
fn shared_gocache() -> String {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("check-gocache")
        .display()
        .to_string()
}

fn project(env: &TestEnv, name: &str, files: &[(&str, &str)]) -> PathBuf {
    env.write(
        &format!("{name}/go.mod"),
        format!("module example.com/{name}\n\ngo 1.21\n"),
    );
    for (path, text) in files {
        env.write(&format!("{name}/{path}"), text);
    }
    env.work.join(name)
}

const GREET: &str = "package greet\n\n// Hello greets.\nfunc Hello(name string) string { return \"hello, \" + name }\n";
const GREET_TEST: &str = "package greet\n\nimport \"testing\"\n\nfunc TestHello(t *testing.T) {\n\tif Hello(\"go\") != \"hello, go\" {\n\t\tt.Fatal(Hello(\"go\"))\n\t}\n}\n";
// Go 1.23's time.Parse rejects a zone offset hour out of range; 1.22 accepted it.
const STAMP_TEST: &str = "package stamp\n\nimport (\n\t\"testing\"\n\t\"time\"\n)\n\nfunc TestParseOffset(t *testing.T) {\n\tif _, err := time.Parse(time.RFC3339, \"2024-01-02T15:04:05+25:00\"); err != nil {\n\t\tt.Fatal(err)\n\t}\n}\n";

fn two_projects(env: &TestEnv) -> (PathBuf, PathBuf) {
    let api = project(env, "api", &[("greet.go", GREET), ("greet_test.go", GREET_TEST)]);
    let worker = project(
        env,
        "worker",
        &[
            (
                "queue/queue.go",
                "package queue\n\n// Len is a length.\nfunc Len(q []int) int { return len(q) }\n",
            ),
            (
                "queue/queue_test.go",
                "package queue\n\nimport \"testing\"\n\nfunc TestLen(t *testing.T) {\n\tif Len([]int{1, 2}) != 2 {\n\t\tt.Fatal(\"len\")\n\t}\n}\n",
            ),
        ],
    );
    (api, worker)
}

fn events(env: &TestEnv) -> Vec<Value> {
    fs::read_to_string(env.gomig_home.join("log/events.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Everything under GOMIG_HOME that a change would touch: names, link targets, file contents.
fn store_state(home: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![home.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in fs::read_dir(&dir).unwrap() {
            let e = e.unwrap();
            let path = e.path();
            let rel = path.strip_prefix(home).unwrap().display().to_string();
            let meta = fs::symlink_metadata(&path).unwrap();
            if meta.file_type().is_symlink() {
                out.push(format!("{rel} -> {}", fs::read_link(&path).unwrap().display()));
            } else if meta.is_dir() {
                out.push(format!("{rel}/"));
                if rel != "cache" {
                    stack.push(path);
                }
            } else {
                out.push(format!("{rel} {:x}", md5ish(&fs::read(&path).unwrap())));
            }
        }
    }
    out.sort();
    out
}

/// A content fingerprint (FNV-1a): enough to see that a file changed.
fn md5ish(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// Each stage as `NUMBER NAME STATUS` (`3 check skipped`).
fn stages(report: &Value) -> Vec<String> {
    report["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            format!(
                "{} {} {}",
                s["number"],
                s["name"].as_str().unwrap(),
                s["status"].as_str().unwrap()
            )
        })
        .collect()
}

fn json_of(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("no JSON ({e}):\n{}", describe(out)))
}

#[test]
fn migrate_installs_verifies_checks_and_switches_with_rollback_ready() {
    let site = Site::start(vec![
        Release::from_goroot(GO_122, &go_dist(GO_122)),
        Release::from_goroot(GO_123, &go_dist(GO_123)),
    ]);
    let env = TestEnv::new();
    let mirror = site.url();
    env.gomig_ok(&["install", GO_122, "--mirror", &mirror]);
    env.gomig_ok(&["switch", GO_122]);
    let (api, worker) = two_projects(&env);
    let cache = shared_gocache();
    let base = [
        "migrate",
        "--to",
        GO_123,
        "--project",
        api.to_str().unwrap(),
        "--project",
        worker.to_str().unwrap(),
        "--mirror",
        &mirror,
        "--gocache",
        &cache,
        "--cross",
        "linux/arm64",
        "--json",
    ];

    // The plan: nothing installed, switched, recorded or logged.
    let before = store_state(&env.gomig_home);
    let out = run(&mut env.gomig(&[&base[..], &["--dry-run"]].concat()));
    assert!(out.status.success(), "{}", describe(&out));
    let plan = json_of(&out);
    assert_eq!(
        stages(&plan),
        vec![
            "1 install planned",
            "2 verify planned",
            "3 check planned",
            "4 switch planned"
        ]
    );
    assert!(
        plan["stages"][0]["summary"]
            .as_str()
            .unwrap()
            .contains("would install 1.23.9")
    );
    assert_eq!(store_state(&env.gomig_home), before, "--dry-run changed the store");
    assert_eq!(site.downloads(&dlsite::official_filename(GO_123)), 0);

    // The migration.
    let out = run(&mut env.gomig(&[&base[..], &["--yes"]].concat()));
    assert!(out.status.success(), "{}", describe(&out));
    let report = json_of(&out);
    assert_eq!(
        stages(&report),
        vec!["1 install ok", "2 verify ok", "3 check ok", "4 switch ok"],
        "{report:#}"
    );
    assert_eq!(report["stages"][0]["details"]["installed"], true);
    assert_eq!(site.downloads(&dlsite::official_filename(GO_123)), 1);
    let checked: Vec<&str> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["dir"].as_str().unwrap())
        .collect();
    assert_eq!(checked, vec![api.to_str().unwrap(), worker.to_str().unwrap()]);
    for c in report["checks"].as_array().unwrap() {
        assert_eq!(c["report"]["ok"], true, "{c:#}");
        assert_eq!(c["report"]["probe"]["reported"], "go1.23.9 linux/amd64");
        assert_eq!(c["report"]["cross"][0]["target"], "linux/arm64");
        assert_eq!(c["report"]["totals"]["to"]["passed"], 1);
    }
    assert_eq!(report["rollback"], "gomig rollback");
    assert_eq!(env.default_name(), "go1.23.9");

    // The evidence in the log: both tree digests and each project's totals.
    let log = events(&env);
    let migrate = log.iter().rev().find(|e| e["action"] == "migrate").unwrap();
    assert_eq!(migrate["result"], "ok");
    assert_eq!(migrate["from"], "go1.22.10");
    assert_eq!(migrate["to"], "go1.23.9");
    for (key, version) in [("from_tree_digest", GO_122), ("to_tree_digest", GO_123)] {
        let recorded = env.gomig_ok(&["verify", version]);
        let digest = migrate[key].as_str().unwrap();
        assert_eq!(digest.len(), 64);
        assert!(
            recorded.contains(digest),
            "{key} {digest} is not what verify says: {recorded}"
        );
    }
    assert_eq!(migrate["projects"].as_array().unwrap().len(), 2);
    assert_eq!(migrate["projects"][0]["totals"]["regressions"], 0);
    let order: Vec<&str> = log
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .filter(|a| ["install", "switch", "migrate"].contains(a))
        .collect();
    assert_eq!(order, vec!["install", "switch", "install", "switch", "migrate"]);

    // And back.
    env.gomig_ok(&["rollback"]);
    assert_eq!(env.default_name(), "go1.22.10");
}

#[test]
fn a_regression_in_one_project_stops_at_stage_3_and_the_default_stays() {
    let env = TestEnv::new();
    env.adopt(GO_122);
    env.adopt(GO_123);
    env.gomig_ok(&["switch", GO_122]);
    let (api, _) = two_projects(&env);
    let stamps = project(
        &env,
        "stamps",
        &[("stamp.go", "package stamp\n"), ("stamp_test.go", STAMP_TEST)],
    );
    let history = fs::read_to_string(env.gomig_home.join("state/history")).unwrap_or_default();
    let cache = shared_gocache();
    let out = run(&mut env.gomig(&[
        "migrate",
        "--to",
        GO_123,
        "--project",
        api.to_str().unwrap(),
        "--project",
        stamps.to_str().unwrap(),
        "--gocache",
        &cache,
        "--cross",
        "none",
        "--yes",
    ]));
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let text = stdout(&out);
    let at = |needle: &str| {
        text.find(needle)
            .unwrap_or_else(|| panic!("{needle:?} missing from:\n{text}"))
    };
    // Stages in order, the failing project's table with the test named, then the stop.
    assert!(at("stage 1/4 install: ok") < at("stage 2/4 verify: ok"));
    assert!(at("stage 2/4 verify: ok") < at(&format!("checking {}", api.display())));
    assert!(at(&format!("checking {}", api.display())) < at(&format!("checking {}", stamps.display())));
    assert!(at("test fails      example.com/stamps  TestParseOffset") < at("stage 3/4 check: FAILED"));
    assert!(text.contains("time zone offset hour out of range"), "{text}");
    assert!(text.contains(&format!(
        "{}: 1 regression(s) from go1.22.10 to go1.23.9",
        stamps.display()
    )));
    assert!(!text.contains("stage 4/4"), "{text}");
    assert!(text.contains("migration stopped at stage 3 (check); the default is still go1.22.10"));
    assert!(
        text.contains(
            "go1.23.9 was installed before this run and stays; examine the failure with: gomig exec 1.23.9 -- go test ./..."
        ),
        "{text}"
    );
    assert!(env.gomig_home.join("toolchains/go1.23.9").exists());

    assert_eq!(env.default_name(), "go1.22.10");
    assert_eq!(
        fs::read_to_string(env.gomig_home.join("state/history")).unwrap_or_default(),
        history
    );
    let log = events(&env);
    let last = log.last().unwrap();
    assert_eq!(last["action"], "migrate");
    assert_eq!(last["result"], "error");
    assert_eq!(last["failed_stage"], 3);
    assert!(last["error"].as_str().unwrap().contains("stage 3 (check) failed"));
    assert!(!log.iter().any(|e| e["action"] == "switch" && e["to"] == "go1.23.9"));
}

#[test]
fn a_tree_that_no_longer_matches_its_manifest_stops_at_stage_2() {
    let env = TestEnv::new();
    env.adopt(GO_122);
    env.gomig_ok(&["switch", GO_122]);
    // go1.23.9 as an installed tree (a copy, so it can be damaged), recorded, then changed.
    let tree = env.copy_dist_into_store(GO_123);
    env.gomig_ok(&["snapshot", GO_123]);
    let mut text = fs::read_to_string(tree.join("src/fmt/print.go")).unwrap();
    text.push_str("\n// changed after the manifest was recorded\n");
    fs::write(tree.join("src/fmt/print.go"), text).unwrap();
    let (api, _) = two_projects(&env);

    let out = run(&mut env.gomig(&[
        "migrate",
        "--to",
        GO_123,
        "--project",
        api.to_str().unwrap(),
        "--yes",
        "--json",
    ]));
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let report = json_of(&out);
    assert_eq!(stages(&report), vec!["1 install ok", "2 verify failed"]);
    assert_eq!(report["failed_stage"], 2);
    let why = report["stages"][1]["summary"].as_str().unwrap();
    assert!(why.contains("go1.23.9 does not match its manifest"), "{why}");
    assert!(why.contains("src/fmt/print.go"), "{why}");
    assert_eq!(
        report["checks"],
        serde_json::json!([]),
        "no check runs after stage 2 fails"
    );
    assert_eq!(env.default_name(), "go1.22.10");
}

#[test]
fn with_nothing_to_check_it_refuses_before_stage_1_and_no_check_switches_on_verification_alone() {
    let env = TestEnv::new();
    env.adopt(GO_122);
    env.adopt(GO_123);
    env.gomig_ok(&["switch", GO_122]);
    // No --project and no module here: --yes does not switch without evidence, and nothing is
    // installed or recorded for a migration that could not finish.
    let before = store_state(&env.gomig_home);
    for args in [
        &["migrate", "--to", GO_123, "--yes"][..],
        &["migrate", "--to", GO_123, "--dry-run"],
    ] {
        let out = run(&mut env.gomig(args));
        assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
        assert!(
            stderr(&out).contains(
                "nothing to check: run gomig migrate in a module, name projects with --project DIR, or pass --no-check to switch on verification alone"
            ),
            "{}",
            describe(&out)
        );
        assert!(
            !stdout(&out).contains("stage 1/4"),
            "no stage runs:\n{}",
            describe(&out)
        );
    }
    assert_eq!(store_state(&env.gomig_home), before, "nothing changed");
    assert_eq!(env.default_name(), "go1.22.10");

    // --no-check: stage 3 is skipped, the switch rests on stage 2, and the log says no check ran.
    let out = run(&mut env.gomig(&["migrate", "--to", GO_123, "--no-check", "--yes", "--json"]));
    assert!(out.status.success(), "{}", describe(&out));
    let report = json_of(&out);
    assert_eq!(
        stages(&report),
        vec!["1 install ok", "2 verify ok", "3 check skipped", "4 switch ok"],
        "{report:#}"
    );
    assert!(
        report["stages"][2]["summary"]
            .as_str()
            .unwrap()
            .contains("skipped (--no-check): no project checked"),
        "{report:#}"
    );
    assert_eq!(env.default_name(), "go1.23.9");
    let migrate = events(&env)
        .into_iter()
        .rev()
        .find(|e| e["action"] == "migrate")
        .unwrap();
    assert_eq!(migrate["result"], "ok");
    assert_eq!(migrate["no_check"], true);
    assert_eq!(migrate["projects"], serde_json::json!([]));
    env.gomig_ok(&["rollback"]);

    // Checking and not checking at once is a usage error.
    let out = run(&mut env.gomig(&["migrate", "--to", GO_123, "--no-check", "--project", "."]));
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(stderr(&out).contains("--no-check"), "{}", describe(&out));
}

#[test]
fn without_yes_and_no_terminal_to_ask_it_does_not_switch() {
    let env = TestEnv::new();
    env.adopt(GO_122);
    env.adopt(GO_123);
    env.gomig_ok(&["switch", GO_122]);
    let out = run(env
        .gomig(&["migrate", "--to", GO_123, "--no-check"])
        .stdin(std::process::Stdio::null()));
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let text = stdout(&out);
    assert!(text.contains("stage 3/4 check: skipped"), "{text}");
    assert!(text.contains("stage 4/4 switch: FAILED"), "{text}");
    assert!(text.contains("pass --yes to switch without asking"), "{text}");
    assert_eq!(env.default_name(), "go1.22.10");

    // Already the default: nothing to do.
    let out = run(&mut env.gomig(&["migrate", "--to", GO_122, "--yes"]));
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        stderr(&out).contains("go1.22.10 is already the default"),
        "{}",
        describe(&out)
    );
}

/// The names in a store directory (hidden ones too: staging and trash), sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn a_failed_check_takes_back_what_the_run_installed_and_recorded() {
    let site = Site::start(vec![Release::from_goroot(GO_123, &go_dist(GO_123))]);
    let env = TestEnv::new();
    env.adopt(GO_122);
    env.gomig_ok(&["switch", GO_122]);
    // A's manifest is missing, so stage 2 records one: that is taken back too.
    fs::remove_file(env.gomig_home.join("manifests/go1.22.10.manifest")).unwrap();
    let stamps = project(
        &env,
        "stamps",
        &[("stamp.go", "package stamp\n"), ("stamp_test.go", STAMP_TEST)],
    );
    let toolchains = listing(&env.gomig_home.join("toolchains"));
    let manifests = listing(&env.gomig_home.join("manifests"));
    let history = fs::read_to_string(env.gomig_home.join("state/history")).unwrap_or_default();
    let mirror = site.url();
    let cache = shared_gocache();

    let out = run(&mut env.gomig(&[
        "migrate",
        "--to",
        GO_123,
        "--project",
        stamps.to_str().unwrap(),
        "--mirror",
        &mirror,
        "--gocache",
        &cache,
        "--cross",
        "none",
        "--yes",
    ]));
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let text = stdout(&out);
    assert!(text.contains("installed go1.23.9 beside go1.22.10"), "{text}");
    assert!(text.contains("go1.22.10: no manifest existed; recorded one"), "{text}");
    assert!(text.contains("stage 3/4 check: FAILED"), "{text}");
    assert!(text.contains("migration stopped at stage 3 (check); the default is still go1.22.10"));
    assert!(
        text.contains("uninstalled go1.23.9, which this run installed"),
        "{text}"
    );
    assert!(
        text.contains("removed the manifest of go1.22.10 this run recorded"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "to examine the failure with go1.23.9: gomig install 1.23.9 --mirror {mirror}, then gomig exec 1.23.9 -- go test ./..."
        )),
        "{text}"
    );
    assert_eq!(site.downloads(&dlsite::official_filename(GO_123)), 1);

    // Nothing changed: the default, the history, toolchains/ and manifests/ as before (no
    // staging or trash left either).
    assert_eq!(env.default_name(), "go1.22.10");
    assert_eq!(
        fs::read_to_string(env.gomig_home.join("state/history")).unwrap_or_default(),
        history
    );
    assert_eq!(listing(&env.gomig_home.join("toolchains")), toolchains);
    assert_eq!(listing(&env.gomig_home.join("manifests")), manifests);
    let out = run(&mut env.gomig(&["exec", GO_123, "--", "go", "version"]));
    assert!(!out.status.success(), "go1.23.9 is not installed:\n{}", describe(&out));

    // The log tells the story: installed, taken back by migrate, the failed migration.
    let log = events(&env);
    let order: Vec<(&str, &str)> = log
        .iter()
        .filter(|e| ["install", "uninstall", "migrate"].contains(&e["action"].as_str().unwrap()))
        .map(|e| {
            (
                e["action"].as_str().unwrap(),
                e["version"].as_str().or(e["to"].as_str()).unwrap(),
            )
        })
        .collect();
    assert_eq!(
        order,
        vec![
            ("install", "go1.23.9"),
            ("uninstall", "go1.23.9"),
            ("migrate", "go1.23.9")
        ]
    );
    let uninstall = log.iter().find(|e| e["action"] == "uninstall").unwrap();
    assert_eq!(uninstall["by"], "migrate");
    let migrate = log.last().unwrap();
    assert_eq!(migrate["result"], "error");
    assert_eq!(migrate["installed_by_run"], true);
    assert_eq!(migrate["undone"].as_array().unwrap().len(), 2, "{migrate}");

    // And B comes back as the message says, to examine the failure.
    env.gomig_ok(&["install", GO_123, "--mirror", &mirror]);
    let out = run(env
        .gomig_in(&stamps, &["exec", GO_123, "--", "go", "test", "./..."])
        .env("GOCACHE", &cache));
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        stdout(&out).contains("time zone offset hour out of range"),
        "{}",
        describe(&out)
    );
}

#[test]
fn a_download_that_fails_stops_at_stage_1() {
    let env = TestEnv::new();
    env.adopt(GO_122);
    env.gomig_ok(&["switch", GO_122]);
    let (api, _) = two_projects(&env);
    let out = run(&mut env.gomig(&[
        "migrate",
        "--to",
        GO_123,
        "--project",
        api.to_str().unwrap(),
        "--mirror",
        &dlsite::unused_url(),
        "--yes",
    ]));
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let text = stdout(&out);
    assert!(text.contains("stage 1/4 install: FAILED"), "{text}");
    assert!(text.contains("cannot install 1.23.9"), "{text}");
    assert!(!text.contains("stage 2/4"), "{text}");
    assert!(text.contains("migration stopped at stage 1 (install); the default is still go1.22.10"));
    assert_eq!(env.default_name(), "go1.22.10");
    let names: Vec<String> = fs::read_dir(env.gomig_home.join("toolchains"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec!["go1.22.10"], "nothing half-installed is left");
}

/// A module whose go.mod is `go_mod_tail` after the module line, with the greet package.
fn greet_project(env: &TestEnv, name: &str, go_mod_tail: &str) -> PathBuf {
    env.write(
        &format!("{name}/go.mod"),
        format!("module example.com/{name}\n\n{go_mod_tail}"),
    );
    env.write(&format!("{name}/greet.go"), GREET);
    env.write(&format!("{name}/greet_test.go"), GREET_TEST);
    env.work.join(name)
}

fn check_of<'a>(report: &'a Value, dir: &Path) -> &'a Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["dir"] == dir.to_str().unwrap())
        .unwrap_or_else(|| panic!("no check of {} in {report:#}", dir.display()))
}

#[test]
fn each_project_is_checked_against_what_the_go_shim_runs_there_now() {
    let env = TestEnv::new();
    env.adopt(GO_122);
    env.adopt(GO_123);
    env.adopt(GO_124);
    env.gomig_ok(&["switch", GO_122]);
    // go1.22.10 cannot build this module (GOTOOLCHAIN=local refuses go 1.23.0): the shim runs
    // go1.23.9 here, for the toolchain line.
    let modern = greet_project(&env, "modern", "go 1.23.0\n\ntoolchain go1.23.9\n");
    let (api, _) = two_projects(&env);
    let cache = shared_gocache();

    let out = run(&mut env.gomig(&[
        "migrate",
        "--to",
        GO_124,
        "--project",
        modern.to_str().unwrap(),
        "--project",
        api.to_str().unwrap(),
        "--gocache",
        &cache,
        "--cross",
        "none",
        "--yes",
        "--json",
    ]));
    let report = json_of(&out);
    assert_eq!(out.status.code(), Some(0), "{report:#}");
    assert_eq!(
        stages(&report),
        ["1 install ok", "2 verify ok", "3 check ok", "4 switch ok"]
    );
    let modern_check = check_of(&report, &modern);
    assert_eq!(modern_check["baseline"], "go1.23.9", "{modern_check:#}");
    assert!(
        modern_check["baseline_reason"]
            .as_str()
            .unwrap()
            .contains("toolchain line 5 (go1.23.9)"),
        "{modern_check:#}"
    );
    assert_eq!(modern_check["report"]["from"]["label"], "go1.23.9");
    assert_eq!(
        modern_check["report"]["totals"]["from"]["passed"], 1,
        "{modern_check:#}"
    );
    assert_eq!(modern_check["report"]["totals"]["to"]["passed"], 1, "{modern_check:#}");
    let api_check = check_of(&report, &api);
    assert_eq!(api_check["baseline"], "go1.22.10", "{api_check:#}");
    assert_eq!(api_check["report"]["from"]["label"], "go1.22.10");
    assert_eq!(env.default_name(), "go1.24.11");
}

#[test]
fn a_project_that_already_runs_b_or_needs_more_than_b_is_a_finding_and_the_rest_is_checked() {
    let env = TestEnv::new();
    env.adopt(GO_122);
    env.adopt(GO_123);
    env.adopt(GO_124);
    env.gomig_ok(&["switch", GO_122]);
    // Needs Go 1.24: the shim runs go1.24.11 here, and go1.23.9 (B) cannot build it.
    let future = greet_project(&env, "future", "go 1.24.0\n");
    // Asks for B itself: the shim runs go1.23.9 here already.
    let pinned = greet_project(&env, "pinned", "go 1.21\n\ntoolchain go1.23.9\n");
    let (api, _) = two_projects(&env);
    let cache = shared_gocache();

    let out = run(&mut env.gomig(&[
        "migrate",
        "--to",
        GO_123,
        "--project",
        future.to_str().unwrap(),
        "--project",
        pinned.to_str().unwrap(),
        "--project",
        api.to_str().unwrap(),
        "--gocache",
        &cache,
        "--cross",
        "none",
        "--yes",
    ]));
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let text = stdout(&out);
    assert!(text.contains("stage 3/4 check: ok"), "{text}");
    assert!(text.contains("no regressions in 1 project(s)"), "{text}");
    assert!(
        text.contains(&format!(
            "{}: not checked: its go files require go1.24.0, more than go1.23.9 (go1.23.9): the go shim will not run go1.23.9 here after the switch either",
            future.display()
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("{}: not checked: it runs go1.23.9 already", pinned.display())),
        "{text}"
    );
    assert!(text.contains(&format!("checking {}", api.display())), "{text}");
    assert!(!text.contains(&format!("checking {}", future.display())), "{text}");
    assert_eq!(env.default_name(), "go1.23.9");

    let migrate = events(&env)
        .into_iter()
        .rev()
        .find(|e| e["action"] == "migrate")
        .unwrap();
    let projects = migrate["projects"].as_array().unwrap();
    let of = |dir: &Path| projects.iter().find(|p| p["dir"] == dir.to_str().unwrap()).unwrap();
    assert_eq!(of(&future)["baseline"], "go1.24.11", "{migrate:#}");
    assert!(of(&future)["finding"].is_string() && of(&future)["error"].is_null());
    assert_eq!(of(&pinned)["baseline"], "go1.23.9", "{migrate:#}");
    assert_eq!(of(&api)["regressions"], 0, "{migrate:#}");
}

#[test]
fn keep_leaves_the_b_a_failed_run_installed_and_a_project_that_runs_nothing_today_is_a_finding() {
    let site = Site::start(vec![Release::from_goroot(GO_123, &go_dist(GO_123))]);
    let env = TestEnv::new();
    env.adopt(GO_122);
    env.gomig_ok(&["switch", GO_122]);
    let stamps = project(
        &env,
        "stamps",
        &[("stamp.go", "package stamp\n"), ("stamp_test.go", STAMP_TEST)],
    );
    // Asks for go1.23.9, not installed yet: today the shim runs nothing here.
    let waiting = greet_project(&env, "waiting", "go 1.21\n\ntoolchain go1.23.9\n");
    let mirror = site.url();
    let cache = shared_gocache();

    let out = run(&mut env.gomig(&[
        "migrate",
        "--to",
        GO_123,
        "--project",
        waiting.to_str().unwrap(),
        "--project",
        stamps.to_str().unwrap(),
        "--mirror",
        &mirror,
        "--gocache",
        &cache,
        "--cross",
        "none",
        "--yes",
        "--keep",
    ]));
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let text = stdout(&out);
    assert!(text.contains("stage 3/4 check: FAILED"), "{text}");
    assert!(
        text.contains(&format!(
            "{}: not checked: today the go shim runs nothing here, so there is nothing to compare go1.23.9 against",
            waiting.display()
        )),
        "{text}"
    );
    assert!(
        text.contains(
            "kept go1.23.9, which this run installed (--keep); examine the failure with: gomig exec 1.23.9 -- go test ./... (remove it with gomig uninstall 1.23.9)"
        ),
        "{text}"
    );
    assert!(!text.contains("uninstalled go1.23.9"), "{text}");
    assert_eq!(env.default_name(), "go1.22.10");
    assert!(env.gomig_home.join("manifests/go1.23.9.manifest").is_file());
    let migrate = events(&env)
        .into_iter()
        .rev()
        .find(|e| e["action"] == "migrate")
        .unwrap();
    assert_eq!(migrate["kept"], "go1.23.9", "{migrate:#}");
    assert!(!events(&env).iter().any(|e| e["action"] == "uninstall"));

    // The kept B runs the failing test as the message says.
    let out = run(env
        .gomig_in(&stamps, &["exec", GO_123, "--", "go", "test", "./..."])
        .env("GOCACHE", &cache));
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        stdout(&out).contains("time zone offset hour out of range"),
        "{}",
        describe(&out)
    );
}
