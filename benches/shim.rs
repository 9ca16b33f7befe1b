//! What the `go` shim adds to every `go` call, measured next to Go's own toolchain switch.
//!
//! Run with `cargo bench --bench shim` (std only, `harness = false`; cargo builds the shim for
//! benches). From a directory 8 levels below a `.go-version` and a `go.mod` it times paired,
//! interleaved runs of the shim and of a direct exec of the same toolchain, for a trivial target
//! (a GOROOT whose `bin/go` is `/bin/true`) and for `go version`. The `go version` rounds also
//! time Go's own switch (`GOTOOLCHAIN=go1.22.10+path` run by go1.23.9), the peer to beat.
//! It prints a table and a PASS/FAIL line against the targets; a FAIL does not fail the run.
//!
//! Environment: `GOMIG_BENCH_RUNS_TRUE` (rounds for the trivial target, default 400),
//! `GOMIG_BENCH_RUNS_GO` (rounds for `go version`, default 200), `GOMIG_BENCH_SHIM` (a shim
//! binary to measure instead of the one cargo built), `GOMIG_TEST_DISTS` (the Go distribution
//! cache of `tests/support/fetch-go.sh`, default `target/go-dists`).

mod common;

use common::*;
use std::env;
use std::ffi::OsString;
use std::fs;
use std::io;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// The toolchain every variant ends up running.
const GO_TARGET: &str = "1.22.10";
/// The release that performs Go's own switch to `GO_TARGET`.
const GO_SWITCHER: &str = "1.23.9";
/// How far below the project root the calls are made: the shim walks up all of it.
const DEPTH: usize = 8;
const MAX_ADDED_MS: f64 = 0.5;
/// The shim's added time must be at most this share of Go's own switch.
const MAX_SHARE_OF_SWITCH: f64 = 0.2;

fn main() {
    bench_main("shim", run);
}

fn run() -> Result<()> {
    let runs_true = env_count("GOMIG_BENCH_RUNS_TRUE", 400)?;
    let runs_go = env_count("GOMIG_BENCH_RUNS_GO", 200)?;
    let shim = shim_binary()?;
    let dists = env::var_os("GOMIG_TEST_DISTS").map_or_else(|| Path::new(ROOT).join("target/go-dists"), PathBuf::from);
    let goroot_target = fetch_go(&dists, GO_TARGET)?;
    let goroot_switcher = fetch_go(&dists, GO_SWITCHER)?;

    let tmp = TempDir::new().map_err(|e| format!("cannot create a temporary directory: {e}"))?;
    let t = Tree::create(tmp.path(), &shim, &goroot_target, &goroot_switcher)
        .map_err(|e| format!("cannot set up the store and project in {}: {e}", tmp.path().display()))?;

    // Direct runs get exactly the environment the shim hands to the toolchain, so the only
    // difference left is the shim itself.
    let direct_env = |goroot: &Path| vec![("GOROOT", goroot.into()), ("GOTOOLCHAIN", "local".into())];
    let true_direct = t.runner(&t.true_goroot.join("bin/go"), direct_env(&t.true_goroot));
    let true_shim = t.runner(&t.shim, vec![("GOMIG_HOME", t.true_store.clone().into())]);
    let go_direct = t.runner(&goroot_target.join("bin/go"), direct_env(&goroot_target));
    let go_shim = t.runner(&t.shim, vec![("GOMIG_HOME", t.store.clone().into())]);
    let go_switch = t.runner(
        &goroot_switcher.join("bin/go"),
        vec![("GOTOOLCHAIN", format!("go{GO_TARGET}+path").into())],
    );

    // Check every variant runs what it should before timing anything.
    true_direct.check(None)?;
    true_shim.check_shim(&t.go_version, &t.true_goroot.join("bin/go"))?;
    go_direct.check(Some(GO_TARGET))?;
    go_shim.check_shim(&t.go_version, &goroot_target.join("bin/go"))?;
    go_shim.check(Some(GO_TARGET))?;
    go_switch.check(Some(GO_TARGET))?;

    let load_before = load_average();
    let mut rng = Rng::seeded();
    let trivial = measure(&[&true_direct, &true_shim], runs_true, &mut rng)?;
    let go = measure(&[&go_direct, &go_shim, &go_switch], runs_go, &mut rng)?;

    let size = fs::metadata(&shim).map(|m| m.len()).unwrap_or(0);
    println!("gomig shim benchmark");
    println!("  shim: {} ({size} bytes, {})", shim.display(), linkage(&shim));
    println!("  cwd {DEPTH} levels below .go-version (go{GO_TARGET}) and go.mod; variants interleaved in random order");
    println!(
        "  load average {load_before} before, {} after (other work on the machine adds noise)",
        load_average()
    );
    println!("  {:<44}{:>10}{:>10}{:>10}", "", "median", "p10", "p90");

    println!("target bin/go = /bin/true, {runs_true} rounds");
    row("direct exec", &trivial[0]);
    row("shim", &trivial[1]);
    let true_added = median(&paired_diff(&trivial[1], &trivial[0]));
    let true_ratio = median(&trivial[1]) / median(&trivial[0]);
    println!(
        "  {:<44}{true_added:>7.3} ms   ({true_ratio:.2}x direct)",
        "added by the shim (median of pairs)"
    );

    println!("target `go version`, go{GO_TARGET}, {runs_go} rounds");
    row("direct exec", &go[0]);
    row("shim", &go[1]);
    row(&format!("Go's switch (go{GO_SWITCHER}, GOTOOLCHAIN=+path)"), &go[2]);
    let go_added = median(&paired_diff(&go[1], &go[0]));
    let go_ratio = median(&go[1]) / median(&go[0]);
    let switch_added = median(&paired_diff(&go[2], &go[0]));
    let switch_ratio = median(&go[2]) / median(&go[0]);
    println!(
        "  {:<44}{go_added:>7.3} ms   ({go_ratio:.2}x direct)",
        "added by the shim (median of pairs)"
    );
    println!(
        "  {:<44}{switch_added:>7.3} ms   ({switch_ratio:.2}x direct)",
        "added by Go's switch (median of pairs)"
    );

    let limit = MAX_ADDED_MS.min(switch_added * MAX_SHARE_OF_SWITCH);
    let verdict = if true_added.max(go_added) <= limit {
        "PASS"
    } else {
        "FAIL"
    };
    println!(
        "{verdict}: added {true_added:.3} ms (/bin/true), {go_added:.3} ms (go version); limit {limit:.3} ms \
         = min({MAX_ADDED_MS} ms, 1/5 of Go's switch {switch_added:.3} ms); shim = {:.0}% of Go's switch",
        100.0 * go_added / switch_added
    );
    Ok(())
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

/// The shim cargo built for this benchmark (or `GOMIG_BENCH_SHIM`), built on demand if the
/// benchmark binary is run on its own after the shim was removed.
fn shim_binary() -> Result<PathBuf> {
    if let Some(p) = env::var_os("GOMIG_BENCH_SHIM") {
        return fs::canonicalize(&p).map_err(|e| format!("GOMIG_BENCH_SHIM={}: {e}", p.to_string_lossy()));
    }
    let shim = PathBuf::from(env!("CARGO_BIN_EXE_gomig-shim"));
    if !shim.exists() {
        let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let ok = Command::new(cargo)
            .args(["build", "--release", "--bin", "gomig-shim"])
            .current_dir(ROOT)
            .status()
            .is_ok_and(|s| s.success());
        if !ok || !shim.exists() {
            return Err(format!("cannot build the shim {}", shim.display()));
        }
    }
    Ok(shim)
}

/// The stores and project tree every variant runs in.
struct Tree {
    /// `HOME` for every run: Go writes telemetry counters there, never into the real `~`.
    home: PathBuf,
    /// A store whose toolchains link to the real Go distributions; default go1.23.9, so only the
    /// `.go-version` makes the shim pick go1.22.10.
    store: PathBuf,
    /// A store whose go1.22.10 is a GOROOT directory with `bin/go` -> `/bin/true`.
    true_store: PathBuf,
    true_goroot: PathBuf,
    /// `shims/go` in `store`: a copy of the shim, as gomig installs it.
    shim: PathBuf,
    /// Holds `go1.22.10` (a link to its `bin/go`) for Go's `+path` switch.
    path_dir: PathBuf,
    /// The project's `.go-version` (go1.22.10); a `go.mod` (go 1.22) sits beside it.
    go_version: PathBuf,
    /// The deepest directory of the project, where every run starts.
    cwd: PathBuf,
}

impl Tree {
    fn create(root: &Path, shim: &Path, goroot_target: &Path, goroot_switcher: &Path) -> io::Result<Tree> {
        let target = format!("go{GO_TARGET}");
        let home = root.join("home");
        fs::create_dir(&home)?;

        let store = root.join("store");
        fs::create_dir_all(store.join("toolchains"))?;
        fs::create_dir_all(store.join("shims"))?;
        symlink(goroot_target, store.join("toolchains").join(&target))?;
        symlink(goroot_switcher, store.join(format!("toolchains/go{GO_SWITCHER}")))?;
        symlink(format!("toolchains/go{GO_SWITCHER}"), store.join("default"))?;
        let shim_copy = store.join("shims/go");
        fs::copy(shim, &shim_copy)?;

        let true_store = root.join("true-store");
        let true_goroot = true_store.join("toolchains").join(&target);
        fs::create_dir_all(true_goroot.join("bin"))?;
        symlink("/bin/true", true_goroot.join("bin/go"))?;
        symlink(format!("toolchains/{target}"), true_store.join("default"))?;

        let path_dir = root.join("path");
        fs::create_dir(&path_dir)?;
        symlink(goroot_target.join("bin/go"), path_dir.join(&target))?;

        let project = root.join("project");
        fs::create_dir(&project)?;
        let go_version = project.join(".go-version");
        fs::write(&go_version, format!("{GO_TARGET}\n"))?;
        fs::write(project.join("go.mod"), "module example.com/bench\n\ngo 1.22\n")?;
        let cwd = (0..DEPTH).fold(project, |dir, i| dir.join(format!("d{i}")));
        fs::create_dir_all(&cwd)?;

        Ok(Tree {
            home,
            store,
            true_store,
            true_goroot,
            shim: shim_copy,
            path_dir,
            go_version,
            cwd,
        })
    }

    /// A run of `program version` from the project with a small, fixed environment plus `extra`.
    fn runner(&self, program: &Path, extra: Vec<(&'static str, OsString)>) -> Runner {
        let mut path = OsString::from(&self.path_dir);
        path.push(":/usr/bin:/bin");
        let mut env = vec![
            ("HOME", self.home.clone().into()),
            ("PATH", path),
            ("PWD", self.cwd.clone().into()),
        ];
        env.extend(extra);
        Runner {
            program: program.to_path_buf(),
            cwd: self.cwd.clone(),
            env,
        }
    }
}

struct Runner {
    program: PathBuf,
    cwd: PathBuf,
    env: Vec<(&'static str, OsString)>,
}

impl Runner {
    fn command(&self) -> Command {
        let mut cmd = Command::new(&self.program);
        cmd.arg("version")
            .current_dir(&self.cwd)
            .env_clear()
            .stdin(Stdio::null());
        cmd.envs(self.env.iter().map(|(k, v)| (k, v)));
        cmd
    }

    /// Runs once; with `want`, stdout must name `go<want>`.
    fn check(&self, want: Option<&str>) -> Result<()> {
        let out = self
            .command()
            .output()
            .map_err(|e| format!("cannot run {}: {e}", self.program.display()))?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let named = want.is_none_or(|v| stdout.split_whitespace().any(|w| w == format!("go{v}")));
        if !out.status.success() || !named {
            return Err(format!(
                "{} version ({:?}) printed {:?} {:?}, expected go{}",
                self.program.display(),
                self.env,
                stdout.trim(),
                String::from_utf8_lossy(&out.stderr).trim(),
                want.unwrap_or("-")
            ));
        }
        Ok(())
    }

    /// Runs the shim with its trace on: it must have followed `go_version` to `exe`.
    fn check_shim(&self, go_version: &Path, exe: &Path) -> Result<()> {
        let mut cmd = self.command();
        cmd.env("GOMIG_SHIM_TRACE", "1");
        let out = cmd.output().map_err(|e| format!("cannot run the shim: {e}"))?;
        let trace = String::from_utf8_lossy(&out.stderr);
        let expected = format!("gomig: trace: go-version {} -> {}", go_version.display(), exe.display());
        if !out.status.success() || !trace.lines().any(|l| l == expected) {
            return Err(format!(
                "the shim did not resolve {}: {}",
                go_version.display(),
                trace.trim()
            ));
        }
        Ok(())
    }
}

/// Times `rounds` rounds (after a warm-up) of every runner, in a fresh random order per round,
/// so drift and ordering effects hit all variants alike. Milliseconds per runner per round.
fn measure(runners: &[&Runner], rounds: usize, rng: &mut Rng) -> Result<Vec<Vec<f64>>> {
    let warmup = (rounds / 10).max(10);
    let mut cmds: Vec<Command> = runners
        .iter()
        .map(|r| {
            let mut c = r.command();
            c.stdout(Stdio::null()).stderr(Stdio::null());
            c
        })
        .collect();
    let mut times = vec![Vec::with_capacity(rounds); cmds.len()];
    let mut order: Vec<usize> = (0..cmds.len()).collect();
    for round in 0..warmup + rounds {
        rng.shuffle(&mut order);
        for &i in &order {
            let start = Instant::now();
            let status = cmds[i]
                .status()
                .map_err(|e| format!("cannot run {}: {e}", runners[i].program.display()))?;
            let elapsed = start.elapsed();
            if !status.success() {
                return Err(format!("{} failed: {status}", runners[i].program.display()));
            }
            if round >= warmup {
                times[i].push(elapsed.as_secs_f64() * 1e3);
            }
        }
    }
    Ok(times)
}

fn row(name: &str, ms: &[f64]) {
    println!(
        "  {name:<44}{:>7.3} ms{:>7.3} ms{:>7.3} ms",
        percentile(ms, 0.5),
        percentile(ms, 0.1),
        percentile(ms, 0.9)
    );
}

fn paired_diff(a: &[f64], b: &[f64]) -> Vec<f64> {
    a.iter().zip(b).map(|(x, y)| x - y).collect()
}

/// How `path` is linked, from its ELF program headers: an interpreter means dynamic linking.
fn linkage(path: &Path) -> String {
    let describe = || -> Option<String> {
        let b = fs::read(path).ok()?;
        let le = |at: usize, n: usize| -> Option<u64> {
            let bytes = b.get(at..at.checked_add(n)?)?;
            Some(bytes.iter().rev().fold(0, |acc, &x| acc << 8 | u64::from(x)))
        };
        // 64-bit little-endian ELF only (x86_64, aarch64); anything else is "unknown".
        if b.get(..6)? != b"\x7fELF\x02\x01" {
            return None;
        }
        let (phoff, phentsize, phnum) = (le(0x20, 8)? as usize, le(0x36, 2)? as usize, le(0x38, 2)? as usize);
        let (mut interp, mut dynamic) = (None, false);
        for i in 0..phnum {
            let h = phoff + i * phentsize;
            match le(h, 4)? {
                2 => dynamic = true,
                3 => {
                    let (off, size) = (le(h + 8, 8)? as usize, le(h + 32, 8)? as usize);
                    let name = b.get(off..off + size)?;
                    interp = Some(String::from_utf8_lossy(name).trim_end_matches('\0').to_string());
                }
                _ => {}
            }
        }
        Some(match (interp, dynamic) {
            (Some(i), _) => format!("dynamically linked, interpreter {i}"),
            (None, true) => "statically linked (static-pie)".to_string(),
            (None, false) => "statically linked".to_string(),
        })
    };
    describe().unwrap_or_else(|| "linkage unknown".to_string())
}
