//! What the `go` shim adds to every `go` call, measured next to the least any shim can cost
//! and next to Go's own toolchain switch.
//!
//! Run with `cargo bench --bench shim` (std only, `harness = false`; cargo builds the shim for
//! benches). From a directory 8 levels below a `.go-version` and a `go.mod` it times paired,
//! interleaved runs of a direct exec of the toolchain, of the *floor* (a static binary with no C
//! runtime whose `_start` only `execve`s the same target with the environment the shim would
//! hand it; built here with rustc) and of the shim, for a trivial target (a GOROOT whose `bin/go`
//! is a copy of `/bin/true`, as an installed toolchain's `bin/go` is a file of its own) and for
//! `go version` (through an adopted toolchain: a store entry that links to a GOROOT elsewhere). The `go version` rounds also time Go's own switch
//! (`GOTOOLCHAIN=go1.22.10+path` run by go1.23.9), the peer to beat.
//!
//! Added time is a variant minus the direct exec of the same target (median of per-round
//! differences). Minor page faults are the child's (`getrusage(RUSAGE_CHILDREN)` deltas around
//! each wait); the faults a shim or the floor takes itself, before its `execve`, are its faults
//! minus the direct run's (the target's own faults cancel out; exact with `/bin/true`).
//! It prints a table and PASS/FAIL lines against the targets; a FAIL does not fail the run.
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
/// The shim's added time must be at most this multiple of the floor's (issue 9, item 7).
const MAX_OVER_FLOOR: f64 = 1.8;

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
    // The floor gets what the shim's child gets: the shim's own variables passed through, plus
    // GOROOT, GOTOOLCHAIN and the hop counter the shim adds.
    let floor_env = |store: &Path, goroot: &Path| {
        let mut env = vec![("GOMIG_HOME", store.into())];
        env.extend(direct_env(goroot));
        env.push(("GOMIG_SHIM_DEPTH", "1".into()));
        env
    };
    let floors = build_floors(
        tmp.path(),
        &[
            &t.true_goroot.join("bin/go"),
            &goroot_target.join("bin/go"),
            &t.env_goroot.join("bin/go"),
        ],
    )?;
    let true_direct = t.runner(&t.true_goroot.join("bin/go"), direct_env(&t.true_goroot));
    let true_shim = t.runner(&t.shim, vec![("GOMIG_HOME", t.true_store.clone().into())]);
    let go_direct = t.runner(&goroot_target.join("bin/go"), direct_env(&goroot_target));
    let go_shim = t.runner(&t.shim, vec![("GOMIG_HOME", t.store.clone().into())]);
    let go_switch = t.runner(
        &goroot_switcher.join("bin/go"),
        vec![("GOTOOLCHAIN", format!("go{GO_TARGET}+path").into())],
    );
    let (true_floor, go_floor, env_floor) = match &floors {
        Some([f_true, f_go, f_env]) => (
            Some(t.runner(f_true, floor_env(&t.true_store, &t.true_goroot))),
            Some(t.runner(f_go, floor_env(&t.store, &goroot_target))),
            Some(t.runner(f_env, floor_env(&t.env_store, &t.env_goroot))),
        ),
        _ => (None, None, None),
    };

    // Check every variant runs what it should before timing anything.
    true_direct.check(None)?;
    true_shim.check_shim(&t.go_version, &t.true_goroot.join("bin/go"))?;
    go_direct.check(Some(GO_TARGET))?;
    go_shim.check_shim(&t.go_version, &goroot_target.join("bin/go"))?;
    go_shim.check(Some(GO_TARGET))?;
    go_switch.check(Some(GO_TARGET))?;
    if let (Some(f_true), Some(f_go), Some(f_env)) = (&true_floor, &go_floor, &env_floor) {
        f_true.check(None)?;
        f_go.check(Some(GO_TARGET))?;
        // The floor's target must see what the shim's sees: a GOROOT whose bin/go is `env`.
        let env_shim = t.runner(&t.shim, vec![("GOMIG_HOME", t.env_store.clone().into())]);
        let (shim_child, floor_child) = (env_shim.stdout_lines()?, f_env.stdout_lines()?);
        if shim_child != floor_child {
            return Err(format!(
                "the floor's target sees another environment than the shim's:\n  shim  {shim_child:?}\n  floor {floor_child:?}"
            ));
        }
    }

    // One interleaved run per target: direct, floor (when built), shim (and Go's switch).
    let load_before = load_average();
    let mut rng = Rng::seeded();
    let mut trivial_runners = vec![&true_direct, &true_shim];
    trivial_runners.extend(true_floor.as_ref());
    let mut go_runners = vec![&go_direct, &go_shim, &go_switch];
    go_runners.extend(go_floor.as_ref());
    let trivial = measure(&trivial_runners, runs_true, &mut rng)?;
    let go = measure(&go_runners, runs_go, &mut rng)?;

    let size = fs::metadata(&shim).map(|m| m.len()).unwrap_or(0);
    println!("gomig shim benchmark");
    println!("  shim: {} ({size} bytes, {})", shim.display(), linkage(&shim));
    match &floors {
        Some([f, ..]) => {
            let size = fs::metadata(f).map(|m| m.len()).unwrap_or(0);
            println!("  floor: _start + execve only ({size} bytes, {})", linkage(f));
        }
        None => println!("  floor: not measured ({})", floor_unsupported()),
    }
    println!("  cwd {DEPTH} levels below .go-version (go{GO_TARGET}) and go.mod; variants interleaved in random order");
    println!(
        "  load average {load_before} before, {} after (other work on the machine adds noise)",
        load_average()
    );
    println!("  {:<44}{:>10}{:>10}{:>10}{:>8}", "", "median", "p10", "p90", "faults");

    println!("target bin/go = a copy of /bin/true, {runs_true} rounds");
    let [t_direct, t_shim] = [&trivial[0], &trivial[1]];
    let t_floor = trivial.get(2);
    row("direct exec", t_direct);
    if let Some(f) = t_floor {
        row("floor (static, no C runtime, only execve)", f);
    }
    row("shim", t_shim);
    let true_added = added("shim", t_shim, t_direct);
    let true_floor_added = t_floor.map(|f| added("floor", f, t_direct));

    println!("target `go version`, go{GO_TARGET}, {runs_go} rounds");
    let [g_direct, g_shim, g_switch] = [&go[0], &go[1], &go[2]];
    let g_floor = go.get(3);
    row("direct exec", g_direct);
    if let Some(f) = g_floor {
        row("floor (static, no C runtime, only execve)", f);
    }
    row("shim", g_shim);
    row(&format!("Go's switch (go{GO_SWITCHER}, GOTOOLCHAIN=+path)"), g_switch);
    let go_added = added("shim", g_shim, g_direct);
    let go_floor_added = g_floor.map(|f| added("floor", f, g_direct));
    let switch_added = added("Go's switch", g_switch, g_direct);

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
    match (true_floor_added, go_floor_added) {
        (Some(floor), Some(go_floor)) => {
            // The trivial target decides: there the added time is not buried in Go's own
            // start-up noise.
            let ratio = true_added / floor;
            let verdict = if ratio <= MAX_OVER_FLOOR { "PASS" } else { "FAIL" };
            let faults = |v: &Samples| median(&paired_diff(&v.faults, &t_direct.faults));
            println!(
                "{verdict}: shim/floor added time {ratio:.2}x (/bin/true: shim {true_added:.3} ms, floor {floor:.3} ms; \
                 go version: {:.2}x, {go_added:.3} / {go_floor:.3} ms); limit {MAX_OVER_FLOOR}x; page faults before \
                 execve: shim {:.0}, floor {:.0}",
                go_added / go_floor,
                faults(t_shim),
                faults(&trivial[2]),
            );
        }
        _ => println!("SKIP: shim/floor ratio not measured ({})", floor_unsupported()),
    }
    Ok(())
}

/// Prints and returns the median of per-round differences `variant - direct`, in time and in
/// page faults (the faults the variant takes itself, before its `execve`).
fn added(name: &str, variant: &Samples, direct: &Samples) -> f64 {
    let ms = median(&paired_diff(&variant.ms, &direct.ms));
    let faults = median(&paired_diff(&variant.faults, &direct.faults));
    let ratio = median(&variant.ms) / median(&direct.ms);
    println!(
        "  {:<44}{ms:>7.3} ms   ({ratio:.2}x direct){faults:>+9.0} faults",
        format!("added by {name} (median of pairs)")
    );
    ms
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

/// `true(1)`, the trivial program every variant of the first rounds ends up running.
fn true_program() -> io::Result<PathBuf> {
    ["/bin/true", "/usr/bin/true"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no /bin/true or /usr/bin/true"))
}

/// The stores and project tree every variant runs in.
struct Tree {
    /// `HOME` for every run: Go writes telemetry counters there, never into the real `~`.
    home: PathBuf,
    /// A store whose toolchains link to the real Go distributions; default go1.23.9, so only the
    /// `.go-version` makes the shim pick go1.22.10.
    store: PathBuf,
    /// A store whose go1.22.10 is a GOROOT directory, as `gomig install` leaves one, whose
    /// `bin/go` is a copy of `/bin/true`. A copy, not a link: a link out of the tree makes the
    /// trust rule walk every directory on the way to the program (an adopted toolchain's
    /// cost, which the `go version` rounds measure), and no installed toolchain has one.
    true_store: PathBuf,
    true_goroot: PathBuf,
    /// A store whose go1.22.10 has `bin/go` -> `env`: what the toolchain is handed, printed.
    env_store: PathBuf,
    env_goroot: PathBuf,
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
        fs::copy(true_program()?, true_goroot.join("bin/go"))?;
        symlink(format!("toolchains/{target}"), true_store.join("default"))?;

        let env_store = root.join("env-store");
        let env_goroot = env_store.join("toolchains").join(&target);
        fs::create_dir_all(env_goroot.join("bin"))?;
        let env_program = ["/usr/bin/env", "/bin/env"]
            .into_iter()
            .find(|p| Path::new(p).is_file());
        symlink(env_program.unwrap_or("/usr/bin/env"), env_goroot.join("bin/go"))?;
        symlink(format!("toolchains/{target}"), env_store.join("default"))?;

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
            env_store,
            env_goroot,
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
        let mut cmd = self.bare_command();
        cmd.arg("version");
        cmd
    }

    /// The program with no arguments.
    fn bare_command(&self) -> Command {
        let mut cmd = Command::new(&self.program);
        cmd.current_dir(&self.cwd).env_clear().stdin(Stdio::null());
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

    /// Runs once with no arguments (`env` prints what it was handed); stdout's lines, sorted.
    fn stdout_lines(&self) -> Result<Vec<String>> {
        let out = self
            .bare_command()
            .output()
            .map_err(|e| format!("cannot run {}: {e}", self.program.display()))?;
        if !out.status.success() {
            return Err(format!("{} failed: {}", self.program.display(), out.status));
        }
        let mut lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect();
        lines.sort();
        Ok(lines)
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

/// One runner's samples, one per round: wall time (ms) and the child's minor page faults.
struct Samples {
    ms: Vec<f64>,
    faults: Vec<f64>,
}

/// Times `rounds` rounds (after a warm-up) of every runner, in a fresh random order per round,
/// so drift and ordering effects hit all variants alike. Per runner, per round: milliseconds
/// and the minor page faults of the child (the benchmark has no other children, so the
/// `RUSAGE_CHILDREN` delta around one wait is that child's).
fn measure(runners: &[&Runner], rounds: usize, rng: &mut Rng) -> Result<Vec<Samples>> {
    let warmup = (rounds / 10).max(10);
    let mut cmds: Vec<Command> = runners
        .iter()
        .map(|r| {
            let mut c = r.command();
            c.stdout(Stdio::null()).stderr(Stdio::null());
            c
        })
        .collect();
    let mut samples: Vec<Samples> = (0..cmds.len())
        .map(|_| Samples {
            ms: Vec::with_capacity(rounds),
            faults: Vec::with_capacity(rounds),
        })
        .collect();
    let mut order: Vec<usize> = (0..cmds.len()).collect();
    for round in 0..warmup + rounds {
        rng.shuffle(&mut order);
        for &i in &order {
            let faults_before = children_minor_faults();
            let start = Instant::now();
            let status = cmds[i]
                .status()
                .map_err(|e| format!("cannot run {}: {e}", runners[i].program.display()))?;
            let elapsed = start.elapsed();
            let faults = children_minor_faults() - faults_before;
            if !status.success() {
                return Err(format!("{} failed: {status}", runners[i].program.display()));
            }
            if round >= warmup {
                samples[i].ms.push(elapsed.as_secs_f64() * 1e3);
                samples[i].faults.push(faults as f64);
            }
        }
    }
    Ok(samples)
}

/// Minor page faults of all waited-for children so far.
fn children_minor_faults() -> i64 {
    let mut ru = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage fills the struct it is given; zeroed is a valid rusage anyway.
    let ru = unsafe {
        libc::getrusage(libc::RUSAGE_CHILDREN, ru.as_mut_ptr());
        ru.assume_init()
    };
    ru.ru_minflt as i64
}

fn row(name: &str, s: &Samples) {
    println!(
        "  {name:<44}{:>7.3} ms{:>7.3} ms{:>7.3} ms{:>8.0}",
        percentile(&s.ms, 0.5),
        percentile(&s.ms, 0.1),
        percentile(&s.ms, 0.9),
        median(&s.faults)
    );
}

/// The floor's program: `_start` reads argc, argv and envp off the initial stack and `execve`s
/// `@TARGET@` with them (exit 127 if that fails). Nothing else runs: no C runtime, no Rust code.
const FLOOR_SOURCE: &str = r#"#![no_std]
#![no_main]

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    loop {}
}

#[cfg(target_arch = "x86_64")]
core::arch::global_asm!(
    ".globl _start",
    "_start:",
    "mov rax, [rsp]",
    "lea rsi, [rsp + 8]",
    "lea rdx, [rsi + rax * 8 + 8]",
    "lea rdi, [rip + 2f]",
    "mov eax, 59",
    "syscall",
    "mov edi, 127",
    "mov eax, 231",
    "syscall",
    ".section .rodata",
    "2: .asciz \"@TARGET@\"",
    ".text",
);

#[cfg(target_arch = "aarch64")]
core::arch::global_asm!(
    ".globl _start",
    "_start:",
    "ldr x9, [sp]",
    "add x1, sp, #8",
    "add x2, x1, x9, lsl #3",
    "add x2, x2, #8",
    "adrp x0, 2f",
    "add x0, x0, :lo12:2f",
    "mov x8, #221",
    "svc #0",
    "mov x0, #127",
    "mov x8, #94",
    "svc #0",
    ".section .rodata",
    "2: .asciz \"@TARGET@\"",
    ".text",
);
"#;

fn floor_unsupported() -> String {
    format!(
        "the floor's _start is written for Linux x86_64 and aarch64, not {} {}",
        env::consts::OS,
        env::consts::ARCH
    )
}

/// Builds one floor per target (the target's path is compiled in, as the shim's choice would
/// be made before its exec), linked like the shim: static, no start files, no C library.
/// `None` where the floor's assembly does not exist.
fn build_floors<const N: usize>(dir: &Path, targets: &[&Path; N]) -> Result<Option<[PathBuf; N]>> {
    if env::consts::OS != "linux" || !matches!(env::consts::ARCH, "x86_64" | "aarch64") {
        return Ok(None);
    }
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let mut out = [(); N].map(|_| PathBuf::new());
    for (i, target) in targets.iter().enumerate() {
        let text = target.to_str().filter(|t| !t.contains(['"', '\\', '\n']));
        let Some(text) = text else {
            return Err(format!(
                "{}: a path the floor's assembly cannot quote",
                target.display()
            ));
        };
        let src = dir.join(format!("floor{i}.rs"));
        fs::write(&src, FLOOR_SOURCE.replace("@TARGET@", text)).map_err(|e| format!("{}: {e}", src.display()))?;
        let exe = dir.join(format!("floor{i}"));
        let result = Command::new(&rustc)
            .args([
                "--edition",
                "2021",
                "-C",
                "opt-level=2",
                "-C",
                "panic=abort",
                "-C",
                "relocation-model=static",
            ])
            .args(["-C", "link-arg=-nostartfiles", "-C", "link-arg=-nostdlib"])
            .args(["-C", "link-arg=-static", "-C", "link-arg=-no-pie", "-o"])
            .arg(&exe)
            .arg(&src)
            .output()
            .map_err(|e| format!("cannot run {}: {e}", rustc.to_string_lossy()))?;
        if !result.status.success() {
            return Err(format!(
                "cannot build the floor {}: {}",
                src.display(),
                String::from_utf8_lossy(&result.stderr).trim()
            ));
        }
        out[i] = exe;
    }
    Ok(Some(out))
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
