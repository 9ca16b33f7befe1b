//! `gomig check` against the same work done by hand: a shell script that runs, one after the
//! other, `go test -count=1 -json -vet=off` and `go vet -json` with Go A and then with Go B (the
//! commands gomig check runs), on a generated module with a few hundred tests.
//!
//! Run with `cargo bench --bench check` (std only, `harness = false`). Both variants use the
//! same warm Go build cache (a warm-up round of each runs first, untimed), the same GOROOTs and
//! `GOTOOLCHAIN=local`; gomig runs with `--cross none` so it does the script's work plus only
//! its tiny runtime probe. gomig is timed twice: as a rerun (its test binaries kept from the run
//! before, as after any earlier check of the project) and as a first run (none kept); the
//! target is judged on the rerun, and both are printed. Rounds are interleaved in random order. It prints medians and the
//! ratio gomig / script against the target (no slower: at most 1.0); a miss does not fail the
//! run.
//!
//! In the same run gomig check is also timed (as a rerun) on the same module with some flaky
//! tests: a few planted tests fail on their first run with Go B and pass afterwards. Each one
//! keeps a marker file in the directory named by `GOMIG_BENCH_FLAKY_DIR` (emptied before each
//! such round, and unset in the other variants, where the planted tests simply pass), so what
//! the report must say is known: every planted test flaky ("failed 1 of 4 with B, 0 of 4 with
//! A"), none a regression. Failing with B only is what makes a test a rerun candidate (one that
//! failed with A too is "already broken"). It prints both figures side by side, the time the
//! reruns add, and the flaky count of `--json`; PASS only if that count equals the planted one
//! in every round.
//!
//! Environment: `GOMIG_BENCH_ROUNDS` (timed rounds per variant, default 5),
//! `GOMIG_BENCH_PACKAGES` (default 12), `GOMIG_BENCH_TESTS` (tests per package, default 30),
//! `GOMIG_BENCH_FLAKY` (planted flaky tests, default 3), `GOMIG_TEST_DISTS` (the Go
//! distribution cache of `tests/support/fetch-go.sh`).

mod common;

use common::*;
use std::env;
use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

const GO_A: &str = "1.22.10";
const GO_B: &str = "1.23.9";
/// gomig check's total time over the script's: no slower.
const MAX_RATIO: f64 = 1.0;
/// Where the planted flaky tests keep their markers; set only in the flaky variant.
const FLAKY_DIR_VAR: &str = "GOMIG_BENCH_FLAKY_DIR";

fn main() {
    bench_main("check", run);
}

fn run() -> Result<()> {
    let rounds = env_count("GOMIG_BENCH_ROUNDS", 5)?;
    let packages = env_count("GOMIG_BENCH_PACKAGES", 12)?;
    let tests = env_count("GOMIG_BENCH_TESTS", 30)?;
    let planted = env_count("GOMIG_BENCH_FLAKY", 3)?;
    if planted > packages * tests {
        return Err(format!(
            "GOMIG_BENCH_FLAKY={planted} is more than the module's {} tests",
            packages * tests
        ));
    }
    let gomig = PathBuf::from(env!("CARGO_BIN_EXE_gomig"));
    let dists = env::var_os("GOMIG_TEST_DISTS").map_or_else(|| Path::new(ROOT).join("target/go-dists"), PathBuf::from);
    let goroot_a = fetch_go(&dists, GO_A)?;
    let goroot_b = fetch_go(&dists, GO_B)?;

    let tmp = TempDir::new().map_err(|e| format!("cannot create a temporary directory: {e}"))?;
    let root = tmp.path();
    let module = root.join("module");
    let total_tests =
        generate_module(&module, packages, tests, planted).map_err(|e| format!("cannot write the module: {e}"))?;
    let home = root.join("gomig");
    let gocache = root.join("gocache");
    fs::create_dir_all(&gocache).map_err(|e| e.to_string())?;
    for goroot in [&goroot_a, &goroot_b] {
        let out = Command::new(&gomig)
            .args(["add", &goroot.display().to_string()])
            .env("GOMIG_HOME", &home)
            .output()
            .map_err(|e| format!("cannot run {}: {e}", gomig.display()))?;
        if !out.status.success() {
            return Err(format!("gomig add failed: {}", String::from_utf8_lossy(&out.stderr)));
        }
    }
    let script = root.join("by-hand.sh");
    fs::write(&script, by_hand_script(&goroot_a, &goroot_b)).map_err(|e| e.to_string())?;

    let gomig_run = || {
        let mut cmd = Command::new(&gomig);
        cmd.args([
            "check",
            "--from",
            GO_A,
            "--to",
            GO_B,
            "--cross",
            "none",
            "--json",
            "--gocache",
        ])
        .arg(&gocache)
        .current_dir(&module)
        .env("GOMIG_HOME", &home)
        .env("PWD", &module)
        .env("GOPATH", root.join("gopath"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        cmd
    };
    let script_run = || {
        let mut cmd = Command::new("bash");
        cmd.arg(&script)
            .current_dir(&module)
            .env("GOCACHE", &gocache)
            .env("GOPATH", root.join("gopath"))
            .env("OUT", root)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        cmd
    };

    let flaky_dir = root.join("flaky-markers");
    // The planted tests fail once more with B only after their markers are gone.
    let flaky_run = || -> Result<Command> {
        let _ = fs::remove_dir_all(&flaky_dir);
        fs::create_dir_all(&flaky_dir).map_err(|e| format!("cannot create {}: {e}", flaky_dir.display()))?;
        let mut cmd = gomig_run();
        cmd.env(FLAKY_DIR_VAR, &flaky_dir);
        Ok(cmd)
    };

    // Warm-up (untimed): fills the build cache for both, and checks gomig sees every test.
    let out = gomig_run().output().map_err(|e| e.to_string())?;
    let report = String::from_utf8_lossy(&out.stdout);
    let expect = format!("\"tests\": {total_tests},");
    if out.status.code() != Some(0) || report.matches(&expect).count() != 2 || flaky_of(&out.stdout)?.flaky != 0 {
        return Err(format!(
            "the warm-up gomig check did not report {total_tests} passing tests per toolchain:\n{}\n{}",
            report,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    time(&mut script_run())?;
    // And builds what the reruns build (`go test -run` of each planted test with A and B).
    time_output(&mut flaky_run()?)?;

    let load_before = load_average();
    let mut rng = Rng::seeded();
    let mut gomig_s = Vec::new();
    let mut first_s = Vec::new();
    let mut script_s = Vec::new();
    let mut flaky_s = Vec::new();
    let mut flaky_reports = Vec::new();
    let kept = gocache.join("gomig-testbins");
    for _ in 0..rounds {
        let mut order = [0usize, 1, 2, 3];
        rng.shuffle(&mut order);
        for v in order {
            match v {
                0 => gomig_s.push(time(&mut gomig_run())?),
                1 => {
                    // The first check of a project: no test binaries kept yet (then kept again
                    // by this run, which the next gomig round finds as a rerun does).
                    let _ = fs::remove_dir_all(&kept);
                    first_s.push(time(&mut gomig_run())?);
                }
                2 => script_s.push(time(&mut script_run())?),
                _ => {
                    let (seconds, stdout) = time_output(&mut flaky_run()?)?;
                    flaky_s.push(seconds);
                    flaky_reports.push(flaky_of(&stdout)?);
                }
            }
        }
    }
    let (g, f, s) = (median(&gomig_s), median(&first_s), median(&script_s));
    let ratio = g / s;
    println!("gomig check benchmark");
    println!(
        "  module: {packages} packages x {tests} tests = {total_tests} tests; go{GO_A} -> go{GO_B}; warm build cache"
    );
    println!("  load average {load_before} before, {} after", load_average());
    println!("  {:<58}{:>9}{:>9}{:>9}", "", "median", "min", "max");
    row("gomig check --cross none (rerun: test binaries kept)", &gomig_s);
    row("gomig check --cross none (first run: none kept)", &first_s);
    row("script: go test + go vet with A, then with B", &script_s);
    println!(
        "  ratio gomig / script: {ratio:.2} rerun, {:.2} first run (target <= {MAX_RATIO:.2})",
        f / s
    );
    println!(
        "{}: gomig check is {} the same commands run one after the other",
        if ratio <= MAX_RATIO { "PASS" } else { "FAIL" },
        if ratio <= 1.0 {
            format!("{:.0}% faster than", (1.0 - ratio) * 100.0)
        } else {
            format!("{:.0}% slower than", (ratio - 1.0) * 100.0)
        }
    );

    let fl = median(&flaky_s);
    let rerun_seconds: Vec<f64> = flaky_reports.iter().map(|r| r.rerun_seconds).collect();
    let counts: Vec<String> = flaky_reports.iter().map(|r| r.flaky.to_string()).collect();
    let as_planted = flaky_reports.iter().all(|r| r.flaky == planted && r.regressions == 0);
    println!("flaky tests: {planted} planted (fail on their first run with go{GO_B}, pass afterwards)");
    println!("  {:<58}{:>9}{:>9}{:>9}", "", "median", "min", "max");
    row("gomig check, no flaky tests (rerun: test binaries kept)", &gomig_s);
    row(
        &format!("gomig check, {planted} flaky tests (rerun: test binaries kept)"),
        &flaky_s,
    );
    row("  of which reruns (report's rerun_seconds)", &rerun_seconds);
    println!(
        "  no flaky tests vs {planted}: {g:.2}s vs {fl:.2}s; the reruns add {:.2}s ({:.2}s per flaky test, {:.2}x)",
        fl - g,
        (fl - g) / planted as f64,
        fl / g
    );
    let regressions: Vec<String> = flaky_reports.iter().map(|r| r.regressions.to_string()).collect();
    println!(
        "{}: gomig check --json gave flaky {} and regressions {} in the {} rounds ({planted} planted)",
        if as_planted { "PASS" } else { "FAIL" },
        counts.join(", "),
        regressions.join(", "),
        flaky_reports.len()
    );
    Ok(())
}

/// What a check with flaky tests reported, from its `--json`.
struct FlakyReport {
    flaky: usize,
    regressions: usize,
    rerun_seconds: f64,
}

fn flaky_of(json: &[u8]) -> Result<FlakyReport> {
    let v: serde_json::Value = serde_json::from_slice(json).map_err(|e| {
        format!(
            "gomig check --json did not print JSON ({e}):\n{}",
            String::from_utf8_lossy(json)
        )
    })?;
    let count = |key: &str| {
        v["totals"][key]
            .as_u64()
            .map(|n| n as usize)
            .ok_or_else(|| format!("gomig check --json has no totals.{key}"))
    };
    Ok(FlakyReport {
        flaky: count("flaky")?,
        regressions: count("regressions")?,
        rerun_seconds: v["rerun_seconds"]
            .as_f64()
            .ok_or("gomig check --json has no rerun_seconds")?,
    })
}

/// What a person would run to compare the two releases by hand.
fn by_hand_script(a: &Path, b: &Path) -> String {
    let mut s = String::from("#!/usr/bin/env bash\n# go test and go vet with Go A, then with Go B.\n");
    for (name, goroot) in [("a", a), ("b", b)] {
        let _ = writeln!(
            s,
            "export GOROOT='{g}' GOTOOLCHAIN=local PATH='{g}/bin':\"$PATH\"\n\
             '{g}/bin/go' test -count=1 -json -vet=off ./... > \"$OUT/test-{name}.json\" 2> \"$OUT/test-{name}.err\"\n\
             '{g}/bin/go' vet -json ./... 2> \"$OUT/vet-{name}.json\"",
            g = goroot.display()
        );
    }
    s.push_str("exit 0\n");
    s
}

/// A module of `packages` packages with `tests` small tests each; returns the number of tests.
/// `planted` of them (`TestCase000` of the first packages, then `TestCase001`, ...) call
/// `failOnce`, which fails the test's first run with Go B while `GOMIG_BENCH_FLAKY_DIR` is set.
fn generate_module(dir: &Path, packages: usize, tests: usize, planted: usize) -> io::Result<usize> {
    fs::create_dir_all(dir)?;
    fs::write(dir.join("go.mod"), "module example.com/bench\n\ngo 1.21\n")?;
    for p in 0..packages {
        let pkg = dir.join(format!("pkg{p:02}"));
        fs::create_dir_all(&pkg)?;
        let name = format!("pkg{p:02}");
        fs::write(
            pkg.join("lib.go"),
            format!(
                "package {name}\n\nimport (\n\t\"sort\"\n\t\"strings\"\n)\n\n// Words sorts the words of s.\nfunc Words(s string) []string {{\n\tw := strings.Fields(s)\n\tsort.Strings(w)\n\treturn w\n}}\n\n// Sum adds n numbers.\nfunc Sum(n int) int {{\n\tt := 0\n\tfor i := 1; i <= n; i++ {{\n\t\tt += i\n\t}}\n\treturn t\n}}\n"
            ),
        )?;
        let mut test =
            format!("package {name}\n\nimport (\n\t\"fmt\"\n\t\"strings\"\n\t\"testing\"\n)\n\nvar _ = strings.Join\n");
        let flaky_here = |t: usize| t * packages + p < planted;
        if flaky_here(0) {
            fs::write(pkg.join("flaky_test.go"), fail_once_go(&name))?;
        }
        for t in 0..tests {
            let fail_once = if flaky_here(t) {
                format!("\tfailOnce(t, \"TestCase{t:03}\")\n")
            } else {
                String::new()
            };
            let _ = write!(
                test,
                "\nfunc TestCase{t:03}(t *testing.T) {{\n{fail_once}\tif got, want := Sum({n}), {sum}; got != want {{\n\t\tt.Fatalf(\"Sum = %d, want %d\", got, want)\n\t}}\n\tw := Words(fmt.Sprint(\"c b a \", {t}))\n\tif len(w) != 4 {{\n\t\tt.Fatal(w)\n\t}}\n}}\n",
                n = t + 10,
                sum = (t + 10) * (t + 11) / 2
            );
        }
        fs::write(pkg.join("lib_test.go"), test)?;
    }
    Ok(packages * tests)
}

/// `failOnce`: the first run of a planted test with Go B fails and leaves a marker; every later
/// run (and every run with A, or without `GOMIG_BENCH_FLAKY_DIR`) goes on as the test would.
fn fail_once_go(package: &str) -> String {
    format!(
        "package {package}\n\nimport (\n\t\"os\"\n\t\"path/filepath\"\n\t\"runtime\"\n\t\"testing\"\n)\n\n\
         func failOnce(t *testing.T, name string) {{\n\
         \tdir := os.Getenv(\"{FLAKY_DIR_VAR}\")\n\
         \tif dir == \"\" || runtime.Version() != \"go{GO_B}\" {{\n\t\treturn\n\t}}\n\
         \tmarker := filepath.Join(dir, \"{package}.\"+name)\n\
         \tif _, err := os.Stat(marker); err == nil {{\n\t\treturn\n\t}}\n\
         \tif err := os.WriteFile(marker, nil, 0o644); err != nil {{\n\t\tt.Fatal(err)\n\t}}\n\
         \tt.Fatalf(\"planted flaky failure: first run with %s (marker %s)\", runtime.Version(), marker)\n\
         }}\n"
    )
}

fn time(cmd: &mut Command) -> Result<f64> {
    time_output(cmd).map(|(seconds, _)| seconds)
}

/// The command's time and its standard output.
fn time_output(cmd: &mut Command) -> Result<(f64, Vec<u8>)> {
    let start = Instant::now();
    let out = cmd.output().map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{cmd:?} failed ({}): {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        ));
    }
    Ok((start.elapsed().as_secs_f64(), out.stdout))
}

fn row(name: &str, s: &[f64]) {
    let min = s.iter().copied().fold(f64::INFINITY, f64::min);
    let max = s.iter().copied().fold(0.0, f64::max);
    println!("  {name:<58}{:>8.2}s{min:>8.2}s{max:>8.2}s", median(s));
}

fn env_count(name: &str, default: usize) -> Result<usize> {
    match env::var(name) {
        Ok(v) => v
            .parse()
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| format!("{name}={v} is not a positive count")),
        Err(_) => Ok(default),
    }
}
