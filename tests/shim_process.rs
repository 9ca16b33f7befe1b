//! The `go` shim as a real process: no heap allocation before `execve`, exit status, signals,
//! stdio, fds and pid pass through, recursion is stopped, bad input is one clear line, and the
//! exec'd toolchain gets the right GOROOT and GOTOOLCHAIN.
//!
//! Every test builds its own store with `TestEnv` (a temp HOME and GOMIG_HOME) and fake
//! toolchains (shell scripts, or links to `ls`/`env` where a script would blur what the shim
//! handed over). Nothing touches the real home directory.

mod support;

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use support::{TestEnv, describe, shim_bin, stderr, stdout};

/// Generous: a shim run takes milliseconds, but the box may be busy compiling.
const TIMEOUT: Duration = Duration::from_secs(30);

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// A store with the shims installed (`gomig init`).
fn setup() -> TestEnv {
    let env = TestEnv::new();
    env.install_shims();
    env
}

fn write_exec(path: &Path, contents: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, contents).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

/// `toolchains/<name>` whose `bin/go` and `bin/gofmt` run the shell `body`.
fn script_toolchain(env: &TestEnv, name: &str, body: &str) -> PathBuf {
    let root = env.gomig_home.join("toolchains").join(name);
    for tool in ["go", "gofmt"] {
        write_exec(&root.join("bin").join(tool), &format!("#!/bin/sh\n{body}\n"));
    }
    root
}

/// `toolchains/<name>` whose `bin/go` is a symbolic link to `program`, so the shim's
/// `execve` lands directly in it (no shell in between to open files or rewrite the env).
fn linked_toolchain(env: &TestEnv, name: &str, program: &Path) -> PathBuf {
    let root = env.gomig_home.join("toolchains").join(name);
    fs::create_dir_all(root.join("bin")).unwrap();
    std::os::unix::fs::symlink(program, root.join("bin/go")).unwrap();
    root
}

/// The first of `candidates` that exists.
/// The default toolchain go1.22.10, whose `bin/go` is `env(1)`: a call prints the environment
/// the shim handed over. Returns its GOROOT.
fn default_that_prints_its_environment(env: &TestEnv) -> PathBuf {
    let root = linked_toolchain(env, "go1.22.10", &env_program());
    env.set_default_link("go1.22.10");
    root
}

/// `env(1)`, the program that prints the environment it was given.
fn env_program() -> PathBuf {
    system_program(&["/usr/bin/env", "/bin/env"])
}

fn system_program(candidates: &[&str]) -> PathBuf {
    candidates
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("none of {candidates:?} exists"))
}

/// Spawns `cmd` with piped stdio, feeds `input`, and waits at most `timeout` (then kills it
/// and fails). Returns the output and the pid of the spawned process.
fn run_timeout(cmd: &mut Command, input: Option<Vec<u8>>, timeout: Duration) -> (Output, u32) {
    cmd.stdin(if input.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("cannot spawn {cmd:?}: {e}"));
    let pid = child.id();
    let feeder = input.map(|data| {
        let mut w = child.stdin.take().unwrap();
        thread::spawn(move || {
            let _ = w.write_all(&data);
        })
    });
    let mut out_pipe = child.stdout.take().unwrap();
    let mut err_pipe = child.stderr.take().unwrap();
    let out_reader = thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out_pipe.read_to_end(&mut v);
        v
    });
    let err_reader = thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err_pipe.read_to_end(&mut v);
        v
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} did not finish within {timeout:?} (killed): a hang or a loop");
        }
        thread::sleep(Duration::from_millis(5));
    };
    if let Some(f) = feeder {
        f.join().unwrap();
    }
    let out = Output {
        status,
        stdout: out_reader.join().unwrap(),
        stderr: err_reader.join().unwrap(),
    };
    (out, pid)
}

fn run(cmd: &mut Command) -> Output {
    run_timeout(cmd, None, TIMEOUT).0
}

/// Asserts the shim failed the documented way: exit status 1, nothing on stdout, exactly one
/// line on stderr starting with `gomig: `. Returns that line.
fn one_line_error(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(1), "expected exit status 1:\n{}", describe(out));
    assert!(
        out.stdout.is_empty(),
        "nothing may run, stdout must be empty:\n{}",
        describe(out)
    );
    let err = stderr(out);
    assert!(
        err.starts_with("gomig: ") && err.ends_with('\n') && err.matches('\n').count() == 1,
        "expected one `gomig: ...` line on stderr:\n{}",
        describe(out)
    );
    err.trim_end().to_string()
}

fn assert_contains(haystack: &str, needle: &str) {
    assert!(haystack.contains(needle), "expected {needle:?} in:\n{haystack}");
}

/// `SigIgn:` from a `/proc/<pid>/status` dump in `text`.
fn sig_ign(text: &str) -> u64 {
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("SigIgn:"))
        .unwrap_or_else(|| panic!("no SigIgn line in:\n{text}"));
    u64::from_str_radix(line.trim(), 16).unwrap()
}

const SIGPIPE_BIT: u64 = 1 << (libc::SIGPIPE - 1);

/// Shell lines printing the shell's own `SigIgn:` line (a builtin loop: no fork, no exec).
const PRINT_SIGIGN: &str =
    "while IFS= read -r l; do case \"$l\" in SigIgn:*) echo \"$l\";; esac; done < /proc/self/status";

/// Marks every fd from 3 up close-on-exec in the spawned child, so whatever the test harness
/// itself inherited cannot be mistaken for a leak of the shim.
fn only_std_fds(cmd: &mut Command) {
    unsafe {
        cmd.pre_exec(|| {
            if libc::close_range(3, u32::MAX, libc::CLOSE_RANGE_CLOEXEC as libc::c_int) != 0 {
                for fd in 3..4096 {
                    libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
                }
            }
            Ok(())
        });
    }
}

/// The 30-level-deep directory under `project`.
fn deep_dir(project: &Path, depth: usize) -> PathBuf {
    let mut dir = project.to_path_buf();
    for i in 1..=depth {
        dir.push(format!("d{i:02}"));
    }
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// A go.mod of about 1 MB: require lines in and out of blocks, comments, a line longer than
/// the resolver's read buffer, decoy `go`/`toolchain` words inside blocks and comments, and
/// the real go line at the very end.
fn big_go_mod(go_line: &str) -> String {
    let mut s = String::from("// A large module file; the go line is the last line.\nmodule example.com/big\n\n");
    s.push_str("// ");
    s.push_str(&"x".repeat(40_000));
    s.push('\n');
    let mut i = 0;
    while s.len() < 1_000_000 {
        s.push_str("require (\n\tgo 1.99 // inside a block: not the go line\n");
        for _ in 0..200 {
            writeln!(s, "\texample.com/dep{i:06} v1.{}.{} // indirect", i % 50, i % 7).unwrap();
            i += 1;
        }
        s.push_str(")\n\n// go 1.98 in a comment is not the go line either\n");
        for _ in 0..50 {
            writeln!(s, "require example.com/single{i:06} v0.0.{i}").unwrap();
            i += 1;
        }
        s.push_str("replace (\n\ttoolchain go1.97.0\n\texample.com/old => example.com/new v1.0.0\n)\n\n");
    }
    s.push_str(go_line);
    s.push('\n');
    s
}

// ---------------------------------------------------------------------------------------------
// ELF inspection: can LD_PRELOAD reach the shim?
// ---------------------------------------------------------------------------------------------

/// The ELF file's program interpreter (PT_INTERP), if any. Only with one does a dynamic loader
/// run and honour LD_PRELOAD; a static or static-pie binary has none.
fn interpreter(path: &Path) -> Option<String> {
    let b = fs::read(path).unwrap();
    assert_eq!(&b[..4], b"\x7fELF", "{} is not an ELF file", path.display());
    let le = b[5] == 1;
    let num = |o: usize, n: usize| -> usize {
        let bytes = &b[o..o + n];
        let fold = |acc: usize, x: &u8| (acc << 8) | *x as usize;
        if le {
            bytes.iter().rev().fold(0, fold)
        } else {
            bytes.iter().fold(0, fold)
        }
    };
    let wide = b[4] == 2;
    let (phoff, phentsize, phnum) = if wide {
        (num(0x20, 8), num(0x36, 2), num(0x38, 2))
    } else {
        (num(0x1c, 4), num(0x2a, 2), num(0x2c, 2))
    };
    const PT_INTERP: usize = 3;
    (0..phnum)
        .map(|i| phoff + i * phentsize)
        .find(|&ph| num(ph, 4) == PT_INTERP)
        .map(|ph| {
            let (off, size) = if wide {
                (num(ph + 8, 8), num(ph + 32, 8))
            } else {
                (num(ph + 4, 4), num(ph + 16, 4))
            };
            String::from_utf8_lossy(&b[off..off + size])
                .trim_end_matches('\0')
                .to_string()
        })
}

fn describe_file(path: &Path) -> String {
    Command::new("file")
        .arg(path)
        .output()
        .map(|o| stdout(&o).trim().to_string())
        .unwrap_or_else(|_| "(file(1) not available)".into())
}

/// Symbol names (`nm`) of the binary; `None` if it has no symbol table (stripped).
fn symbols(path: &Path) -> Option<BTreeSet<String>> {
    let out = Command::new("nm").arg(path).output().expect("run nm");
    let text = stdout(&out);
    let names: BTreeSet<String> = text
        .lines()
        .filter_map(|l| l.split_whitespace().last())
        .map(|s| s.split('@').next().unwrap_or(s).to_string())
        .collect();
    if names.is_empty() { None } else { Some(names) }
}

const ALLOC_FUNCTIONS: &[&str] = &[
    "malloc",
    "calloc",
    "realloc",
    "reallocarray",
    "posix_memalign",
    "aligned_alloc",
    "memalign",
    "valloc",
    "pvalloc",
    "__libc_malloc",
    "__libc_calloc",
    "__libc_realloc",
    "__libc_memalign",
    "__libc_valloc",
    "__libc_pvalloc",
];

/// Compiles `tests/support/alloc_counter.c` into `dir`.
fn build_alloc_counter(dir: &Path) -> PathBuf {
    let so = dir.join("alloc_counter.so");
    let src = support::repo_root().join("tests/support/alloc_counter.c");
    let out = Command::new("cc")
        .args(["-shared", "-fPIC", "-O1", "-Wall", "-Werror", "-o"])
        .arg(&so)
        .arg(&src)
        .arg("-ldl")
        .output()
        .expect("run cc");
    assert!(
        out.status.success(),
        "compiling {} failed:\n{}",
        src.display(),
        describe(&out)
    );
    so
}

/// The counts the interposer reported, in order.
fn alloc_reports(out: &Output) -> Vec<u64> {
    stderr(out)
        .lines()
        .filter_map(|l| l.strip_prefix("allocs_before_execve="))
        .map(|n| n.trim().parse().unwrap())
        .collect()
}

/// What gdb saw between process start and the exec catchpoint.
struct GdbTrace {
    /// Allocation breakpoints hit before `main` (C start-up), each with its backtrace.
    before_main: Vec<String>,
    /// Allocation breakpoints hit from `main` on (the shim's own code).
    after_main: Vec<String>,
    /// Hits at locations inside the dynamic loader: its calls through `__rtld_malloc`, which
    /// during start-up is the loader's private minimal allocator (pages it maps for its own
    /// bookkeeping before libc is relocated), not the process's malloc; LD_PRELOAD cannot see
    /// it either. Once libc's malloc takes over, such a call also stops in libc's `malloc`,
    /// and that hit counts above.
    in_loader: Vec<String>,
    reached_main: bool,
    /// The exec catchpoint line (`Catchpoint N (exec'd /path)`), if it was hit.
    exec: Option<String>,
    text: String,
}

/// `#3  0x00007ffff7fdd47b in _dl_get_origin ()` or `#0  malloc (n=1) at x.c:1` -> the name.
fn frame_function(line: &str) -> &str {
    let mut words = line.split_whitespace().skip(1);
    match words.next() {
        Some(w) if w.starts_with("0x") => words.nth(1).unwrap_or("?"),
        Some(w) => w,
        None => "?",
    }
}

/// Runs `program version` under gdb, in `dir` with the test environment: a breakpoint on
/// every allocation function that logs where it is and continues, one on `main`, and
/// `catch exec` to stop at the exec. Works for dynamic and static binaries alike (needs
/// symbols). `loader` is the program's interpreter, if dynamic.
fn gdb_trace(env: &TestEnv, program: &Path, dir: &Path, loader: Option<&str>) -> GdbTrace {
    let mut script = String::new();
    for f in ALLOC_FUNCTIONS {
        writeln!(
            script,
            "break {f}\ncommands\nsilent\nprintf \"@@alloc {f}\\n\"\ninfo symbol $pc\nbt 8\ncontinue\nend"
        )
        .unwrap();
    }
    script.push_str("break main\ncommands\nsilent\nprintf \"@@main\\n\"\ncontinue\nend\ncatch exec\nrun\n");
    let script_path = env.root().join("trace.gdb");
    fs::write(&script_path, script).unwrap();
    let mut cmd = env.command("gdb", dir);
    cmd.args(["-nx", "-batch", "-q"])
        .args(["-ex", "set startup-with-shell off"])
        .args(["-ex", "set pagination off"])
        .args(["-ex", "set breakpoint pending on"])
        .args(["-ex", "set debuginfod enabled off"])
        .arg("-x")
        .arg(&script_path)
        .arg("--args")
        .arg(program)
        .arg("version");
    let (out, _) = run_timeout(&mut cmd, None, Duration::from_secs(120));
    let text = format!("{}\n{}", stdout(&out), stderr(&out));
    let loader_name = loader.map(|l| Path::new(l).file_name().unwrap().to_string_lossy().into_owned());
    let mut trace = GdbTrace {
        before_main: Vec::new(),
        after_main: Vec::new(),
        in_loader: Vec::new(),
        reached_main: false,
        exec: None,
        text: text.clone(),
    };
    // The hit being read: its description, and whether it is inside the loader.
    let mut current: Option<(String, bool)> = None;
    let flush = |t: &mut GdbTrace, c: &mut Option<(String, bool)>| {
        if let Some((hit, in_loader)) = c.take() {
            if in_loader {
                t.in_loader.push(hit);
            } else if t.reached_main {
                t.after_main.push(hit);
            } else {
                t.before_main.push(hit);
            }
        }
    };
    for line in text.lines() {
        if let Some(f) = line.strip_prefix("@@alloc ") {
            flush(&mut trace, &mut current);
            current = Some((format!("{f}:"), false));
        } else if line == "@@main" {
            flush(&mut trace, &mut current);
            trace.reached_main = true;
        } else if line.contains("(exec'd ") {
            flush(&mut trace, &mut current);
            trace.exec = Some(line.to_string());
            break;
        } else if let Some((hit, in_loader)) = current.as_mut() {
            if line.starts_with('#') {
                write!(hit, " {}", frame_function(line)).unwrap();
            } else if line.contains(" in section ") {
                // `info symbol $pc`: "malloc in section .text of /lib64/ld-linux-x86-64.so.2"
                // (no "of ..." for the main executable).
                let object = line.rsplit_once(" of ").map(|(_, o)| o.trim());
                *in_loader = match (object, &loader_name) {
                    (Some(o), Some(l)) => Path::new(o).file_name().is_some_and(|n| n.to_string_lossy() == *l),
                    _ => false,
                };
                write!(hit, " [{}]", object.unwrap_or("executable")).unwrap();
            }
        }
    }
    flush(&mut trace, &mut current);
    trace
}

/// The project the allocation tests run in: a 1 MB go.mod that needs Go 1.23 (the default
/// is 1.22.10, so the resolver lists `toolchains/` too), and a working directory 30 levels
/// below it. Returns that directory and the GOROOT that must be chosen.
fn big_project(env: &TestEnv, toolchain_body: &str) -> (PathBuf, PathBuf) {
    script_toolchain(env, "go1.22.10", "echo \"ran go1.22.10 GOROOT=$GOROOT\"");
    script_toolchain(env, "go1.23.0", "echo \"ran go1.23.0 GOROOT=$GOROOT\"");
    let chosen = script_toolchain(env, "go1.23.4", toolchain_body);
    script_toolchain(env, "go1.24.1", "echo \"ran go1.24.1 GOROOT=$GOROOT\"");
    env.set_default_link("go1.22.10");
    let project = env.dir("big");
    let go_mod = big_go_mod("go 1.23");
    assert!(go_mod.len() >= 1_000_000);
    fs::write(project.join("go.mod"), &go_mod).unwrap();
    (deep_dir(&project, 30), chosen)
}

// ---------------------------------------------------------------------------------------------
// 1. No heap allocation from process start to execve
// ---------------------------------------------------------------------------------------------

#[test]
fn no_heap_allocation_from_process_start_to_execve() {
    let env = setup();
    let body = format!("echo \"ran go1.23.4 GOROOT=$GOROOT\"\n{PRINT_SIGIGN}");
    let (deep, chosen) = big_project(&env, &body);
    let ran = format!("ran go1.23.4 GOROOT={}", chosen.display());

    // Sanity: the resolution is the one intended.
    let out = run(&mut env.go_in(&deep, &["version"]));
    assert!(out.status.success(), "{}", describe(&out));
    assert_contains(&stdout(&out), &ran);
    // The child does not inherit SIGPIPE ignored (std's runtime would leave it so).
    assert_eq!(
        sig_ign(&stdout(&out)) & SIGPIPE_BIT,
        0,
        "SIGPIPE ignored in the toolchain:\n{}",
        describe(&out)
    );
    // ... and the check would see it if it were: the same script started with SIGPIPE ignored.
    let script = chosen.join("bin/go");
    let ignored = run(Command::new("/bin/sh")
        .arg("-c")
        .arg(format!("trap '' PIPE; exec {}", script.display())));
    assert_ne!(
        sig_ign(&stdout(&ignored)) & SIGPIPE_BIT,
        0,
        "control: {}",
        describe(&ignored)
    );

    let shim = env.shims_dir().join("go");
    assert_eq!(
        fs::read(&shim).unwrap(),
        fs::read(shim_bin()).unwrap(),
        "shims/go is the built shim"
    );
    let loader = interpreter(&shim);
    let dynamic = loader.is_some();
    eprintln!(
        "shim: {} ({})",
        describe_file(&shim),
        if dynamic { "dynamic" } else { "static" }
    );

    if dynamic {
        let so = build_alloc_counter(env.root());
        for tool in ["go", "gofmt"] {
            let mut cmd = env.command(env.shims_dir().join(tool), &deep);
            cmd.arg("version").env("LD_PRELOAD", &so);
            let out = run(&mut cmd);
            let reports = alloc_reports(&out);
            assert!(out.status.success(), "{tool}: {}", describe(&out));
            assert!(
                !reports.is_empty(),
                "{tool}: the interposer saw no exec:\n{}",
                describe(&out)
            );
            assert_eq!(
                reports[0],
                0,
                "{tool}: the shim allocated before execve:\n{}",
                describe(&out)
            );
            // The exec really happened, into the toolchain go.mod asks for.
            assert_contains(&stdout(&out), &ran);
            assert_eq!(sig_ign(&stdout(&out)) & SIGPIPE_BIT, 0);
        }

        // Controls: the counter does count. A program that allocates once, then execs...
        let c_src = env.root().join("one_malloc.c");
        fs::write(
            &c_src,
            "#include <stdlib.h>\n#include <unistd.h>\n\
             int main(int argc, char **argv) {\n  (void)argc;\n  void *volatile p = malloc(32);\n  (void)p;\n\
             char *args[] = {argv[1], NULL};\n  execv(argv[1], args);\n  return 127;\n}\n",
        )
        .unwrap();
        let c_bin = env.root().join("one_malloc");
        let cc = Command::new("cc")
            .arg("-O0")
            .arg("-o")
            .arg(&c_bin)
            .arg(&c_src)
            .output()
            .unwrap();
        assert!(cc.status.success(), "{}", describe(&cc));
        let out = run(Command::new(&c_bin).arg("/bin/true").env("LD_PRELOAD", &so));
        assert!(out.status.success(), "{}", describe(&out));
        assert_eq!(
            alloc_reports(&out).first(),
            Some(&1),
            "one malloc must count as 1:\n{}",
            describe(&out)
        );
        // ... and a shell that allocates before it execs.
        let out = run(Command::new("/bin/sh")
            .arg("-c")
            .arg("x=$(echo y); exec /bin/true")
            .env("LD_PRELOAD", &so));
        let first = alloc_reports(&out).first().copied();
        assert!(
            first.is_some_and(|n| n > 0),
            "sh allocates before exec:\n{}",
            describe(&out)
        );
    }

    // gdb, for either linkage: no allocation breakpoint between process start and the exec
    // catchpoint. For a static binary this is the check (LD_PRELOAD cannot reach it).
    let Some(names) = symbols(&shim) else {
        assert!(
            dynamic,
            "a stripped static shim cannot be checked for allocations (no symbols for gdb)"
        );
        eprintln!("note: the shim has no symbol table; the LD_PRELOAD check above is the allocation check");
        return;
    };
    let linked: Vec<&str> = ALLOC_FUNCTIONS.iter().copied().filter(|f| names.contains(*f)).collect();
    if !dynamic {
        eprintln!("static shim: allocation functions linked in: {linked:?}");
    }
    let trace = gdb_trace(&env, &shim, &deep, loader.as_deref());
    assert!(trace.exec.is_some(), "gdb never saw the exec:\n{}", trace.text);
    if !trace.in_loader.is_empty() {
        eprintln!(
            "note: the dynamic loader's private start-up allocator ran {} times (not the process heap)",
            trace.in_loader.len()
        );
    }
    assert!(
        trace.before_main.is_empty() && trace.after_main.is_empty(),
        "heap allocations between process start and execve ({} linkage):\n  \
         before main (C start-up): {:?}\n  in the shim (main to execve): {:?}",
        if dynamic { "dynamic" } else { "static" },
        trace.before_main,
        trace.after_main,
    );
    if !dynamic && linked.is_empty() {
        eprintln!("static shim links no allocator at all");
    }
}

/// The shim's own code (from `main` to `execve`) never allocates, whatever the linkage: a
/// narrower check than the one above, which also covers the C start-up before `main`.
#[test]
fn shim_code_allocates_nothing_from_main_to_execve() {
    let env = setup();
    let (deep, chosen) = big_project(&env, "echo \"ran go1.23.4 GOROOT=$GOROOT\"");
    // The chosen toolchain's go is `true` itself (the others are shell scripts), so the exec
    // catchpoint names the program the shim chose.
    let target = fs::canonicalize(system_program(&["/bin/true", "/usr/bin/true"])).unwrap();
    fs::remove_file(chosen.join("bin/go")).unwrap();
    std::os::unix::fs::symlink(&target, chosen.join("bin/go")).unwrap();
    let shim = env.shims_dir().join("go");
    if symbols(&shim).is_none() {
        eprintln!("note: the shim has no symbol table; gdb cannot break on main");
        return;
    }
    let trace = gdb_trace(&env, &shim, &deep, interpreter(&shim).as_deref());
    assert!(trace.reached_main, "gdb never saw main:\n{}", trace.text);
    let exec = trace
        .exec
        .as_deref()
        .unwrap_or_else(|| panic!("gdb never saw the exec:\n{}", trace.text));
    assert_contains(exec, &format!("(exec'd {})", target.display()));
    assert!(
        trace.after_main.is_empty(),
        "the shim allocated between main and execve: {:?}",
        trace.after_main
    );
    if !trace.before_main.is_empty() {
        eprintln!("note: C start-up allocated before main: {:?}", trace.before_main);
    }
}

// ---------------------------------------------------------------------------------------------
// 2. Exit status, signals, stdio, fds and pid pass through
// ---------------------------------------------------------------------------------------------

#[test]
fn exit_status_passes_through() {
    let env = setup();
    script_toolchain(&env, "go1.22.10", "exit 42");
    env.set_default_link("go1.22.10");
    let out = run(&mut env.go_in(&env.work, &["build"]));
    assert_eq!(out.status.code(), Some(42), "{}", describe(&out));
    assert!(out.stderr.is_empty(), "{}", describe(&out));
}

#[test]
fn death_by_signal_passes_through() {
    let env = setup();
    script_toolchain(&env, "go1.22.10", "kill -TERM $$\nexit 3");
    env.set_default_link("go1.22.10");
    let out = run(&mut env.go_in(&env.work, &["test"]));
    assert_eq!(out.status.signal(), Some(libc::SIGTERM), "{}", describe(&out));
    assert_eq!(out.status.code(), None);
}

#[test]
fn stdio_argv_and_pid_pass_through() {
    let env = setup();
    script_toolchain(
        &env,
        "go1.22.10",
        "echo \"pid=$$\"\nfor a in \"$@\"; do printf '[%s]\\n' \"$a\"; done\ncat\necho \"to stderr\" >&2",
    );
    env.set_default_link("go1.22.10");
    // More than a pipe buffer, so both ends really stream.
    let data: Vec<u8> = (0..300_000u32).map(|i| b"abcdefghij\n"[(i % 11) as usize]).collect();
    let args = ["run", "two words", "", "--x=*"];
    let (out, pid) = run_timeout(&mut env.go_in(&env.work, &args), Some(data.clone()), TIMEOUT);
    assert!(out.status.success(), "{}", describe(&out));
    let expected_head = format!("pid={pid}\n[run]\n[two words]\n[]\n[--x=*]\n");
    let text = out.stdout.clone();
    assert!(
        text.starts_with(expected_head.as_bytes()),
        "the toolchain must run in the shim's own process with the same argv; got:\n{}",
        String::from_utf8_lossy(&text[..text.len().min(200)])
    );
    assert!(
        text[expected_head.len()..] == data[..],
        "stdin must reach the toolchain unchanged"
    );
    assert_eq!(stderr(&out), "to stderr\n");
}

#[test]
fn no_extra_fds_leak_into_the_toolchain() {
    let env = setup();
    let ls = system_program(&["/bin/ls", "/usr/bin/ls"]);
    script_toolchain(&env, "go1.22.10", "echo default");
    linked_toolchain(&env, "go1.23.4", &ls);
    env.set_default_link("go1.22.10");
    // Make the shim open files on the way: a go.mod that needs an upgrade (reads go.mod,
    // lists toolchains/), and a .go-version prefix (reads it, lists toolchains/).
    let module = env.dir("module/sub");
    env.write("module/go.mod", "module m\n\ngo 1.23\n");
    let pinned = env.dir("pinned/sub");
    env.write("pinned/.go-version", "1.23\n");

    let listing = |out: &Output| -> BTreeSet<String> {
        assert!(out.status.success(), "{}", describe(out));
        stdout(out).split_whitespace().map(String::from).collect()
    };
    // Baseline: ls started directly lists 0, 1, 2 and the fd it opened for the listing.
    let mut direct = env.command(&ls, &env.work);
    direct.args(["-1", "/proc/self/fd"]);
    only_std_fds(&mut direct);
    let baseline = listing(&run(&mut direct));
    let expected: BTreeSet<String> = ["0", "1", "2", "3"].into_iter().map(String::from).collect();
    assert_eq!(baseline, expected, "baseline listing");

    for dir in [&module, &pinned] {
        let mut cmd = env.go_in(dir, &["-1", "/proc/self/fd"]);
        only_std_fds(&mut cmd);
        let fds = listing(&run(&mut cmd));
        assert_eq!(fds, expected, "fds seen by the toolchain run from {}", dir.display());
    }
}

// ---------------------------------------------------------------------------------------------
// 3. Recursion
// ---------------------------------------------------------------------------------------------

#[test]
fn toolchain_whose_go_is_the_shim_itself_fails_fast() {
    let env = setup();
    let root = env.gomig_home.join("toolchains/go1.22.10");
    fs::create_dir_all(root.join("bin")).unwrap();
    fs::hard_link(env.shims_dir().join("go"), root.join("bin/go")).unwrap();
    env.set_default_link("go1.22.10");
    let start = Instant::now();
    let out = run_timeout(&mut env.go_in(&env.work, &["version"]), None, Duration::from_secs(10)).0;
    let line = one_line_error(&out);
    assert!(start.elapsed() < Duration::from_secs(10));
    assert_contains(&line, &root.join("bin/go").display().to_string());
    assert_contains(&line, "is the gomig shim itself");
    // Run by a relative name (the shim knows itself by the name execve was given): as the
    // first hop, which runs the tree once more, and as a shim started by a shim, which checks
    // itself at once against the relative name.
    for depth in [None, Some("1")] {
        let mut relative = env.command("./go", &env.shims_dir());
        relative.arg("version");
        if let Some(depth) = depth {
            relative.env("GOMIG_SHIM_DEPTH", depth);
        }
        let line = one_line_error(&run_timeout(&mut relative, None, Duration::from_secs(10)).0);
        assert_contains(&line, "is the gomig shim itself");
    }
}

#[test]
fn toolchain_whose_go_is_a_copy_of_the_shim_fails_not_hangs() {
    let env = setup();
    let root = env.gomig_home.join("toolchains/go1.22.10");
    fs::create_dir_all(root.join("bin")).unwrap();
    fs::copy(env.shims_dir().join("go"), root.join("bin/go")).unwrap();
    assert_ne!(
        fs::metadata(root.join("bin/go")).unwrap().ino(),
        fs::metadata(env.shims_dir().join("go")).unwrap().ino()
    );
    env.set_default_link("go1.22.10");
    let out = run_timeout(&mut env.go_in(&env.work, &["version"]), None, Duration::from_secs(10)).0;
    let line = one_line_error(&out);
    assert_contains(&line, &root.join("bin/go").display().to_string());
    assert_contains(&line, "gomig shim");
}

#[test]
fn path_loop_through_shim_copies_is_stopped_by_the_hop_counter() {
    let env = setup();
    let project = env.dir("project");
    env.write("project/.go-version", "system\n");
    let mut path = vec![env.shims_dir().display().to_string()];
    for i in 0..3 {
        let d = env.root().join(format!("loop{i}"));
        fs::create_dir_all(&d).unwrap();
        fs::copy(env.shims_dir().join("go"), d.join("go")).unwrap();
        path.push(d.display().to_string());
    }
    path.push(env.base_path.clone());
    let mut cmd = env.go_in(&project, &["version"]);
    cmd.env("PATH", path.join(":"));
    let start = Instant::now();
    let out = run_timeout(&mut cmd, None, Duration::from_secs(20)).0;
    let line = one_line_error(&out);
    assert_contains(&line, "shim recursion");
    assert_contains(&line, "20");
    eprintln!("loop stopped after {:?}: {line}", start.elapsed());
}

#[test]
fn system_go_skips_the_shims_dir_and_the_shim_itself() {
    let env = setup();
    let project = env.dir("project");
    env.write("project/.go-version", "system\n");
    // The shims directory again, through a symbolic link, and a hardlink of the shim itself:
    // both must be skipped, and the real `go` after them found.
    let shims_link = env.root().join("shims-link");
    std::os::unix::fs::symlink(env.shims_dir(), &shims_link).unwrap();
    let self_dir = env.root().join("self");
    fs::create_dir_all(&self_dir).unwrap();
    fs::hard_link(env.shims_dir().join("go"), self_dir.join("go")).unwrap();
    let sys_bin = env.root().join("sysbin");
    write_exec(
        &sys_bin.join("go"),
        "#!/bin/sh\necho \"system go GOROOT=[$GOROOT] GOTOOLCHAIN=$GOTOOLCHAIN args=$*\"\n",
    );
    let path = format!(
        "{}:relative/dir::{}:{}:{}:{}",
        env.shims_dir().display(),
        shims_link.display(),
        self_dir.display(),
        sys_bin.display(),
        env.base_path
    );
    let mut cmd = env.go_in(&project, &["env", "GOROOT"]);
    cmd.env("PATH", &path).env("GOROOT", "/stale/goroot");
    let out = run(&mut cmd);
    assert!(out.status.success(), "{}", describe(&out));
    // A system Go finds its own GOROOT: a stale exported one is removed, not passed on.
    assert_eq!(stdout(&out), "system go GOROOT=[] GOTOOLCHAIN=local args=env GOROOT\n");

    // Without the real one, a clear error instead of running a shim.
    let mut cmd = env.go_in(&project, &["version"]);
    cmd.env(
        "PATH",
        format!(
            "{}:{}:{}:{}",
            env.shims_dir().display(),
            shims_link.display(),
            self_dir.display(),
            env.base_path
        ),
    );
    let line = one_line_error(&run(&mut cmd));
    assert_contains(&line, "system Go requested by");
    assert_contains(&line, &project.join(".go-version").display().to_string());
}

// ---------------------------------------------------------------------------------------------
// 4. Bad input: one clear line, exit 1, and no Go runs
// ---------------------------------------------------------------------------------------------

/// A store with a default toolchain and a system `go` on PATH that both leave a trace if run,
/// so a silent fallback to "some other Go" cannot go unnoticed.
struct Guarded {
    env: TestEnv,
    marker: PathBuf,
    path: String,
}

impl Guarded {
    fn new() -> Guarded {
        let env = setup();
        let marker = env.root().join("a-go-ran");
        let trace = format!("echo RAN >> '{}'; echo RAN", marker.display());
        script_toolchain(&env, "go1.22.10", &trace);
        env.set_default_link("go1.22.10");
        let sys_bin = env.root().join("sysbin");
        write_exec(&sys_bin.join("go"), &format!("#!/bin/sh\n{trace}\n"));
        let path = format!("{}:{}:{}", env.shims_dir().display(), sys_bin.display(), env.base_path);
        Guarded { env, marker, path }
    }

    fn go_in(&self, dir: &Path) -> Command {
        let mut cmd = self.env.go_in(dir, &["build", "./..."]);
        cmd.env("PATH", &self.path);
        cmd
    }

    /// Runs the shim in `dir`, asserts a one-line failure and that no Go ran.
    fn fails_in(&self, dir: &Path, cmd: Option<Command>) -> String {
        let mut cmd = cmd.unwrap_or_else(|| self.go_in(dir));
        let out = run(&mut cmd);
        let line = one_line_error(&out);
        assert!(!self.marker.exists(), "another Go ran after: {line}");
        line
    }
}

#[test]
fn bad_go_version_files() {
    // Garbage, after comments and blank lines: the line number is the garbage's.
    let g = Guarded::new();
    let dir = g.env.dir("garbage/sub");
    let file = g
        .env
        .write("garbage/.go-version", "# pinned for the build\n\nbanana split\n");
    let line = g.fails_in(&dir, None);
    assert_contains(&line, &format!("{} line 3", file.display()));
    assert_contains(&line, "\"banana split\" is not a Go version");

    // A path-traversal attempt never reaches the file system, even though the target exists.
    let g = Guarded::new();
    write_exec(
        &g.env.gomig_home.join("x/bin/go"),
        &format!("#!/bin/sh\necho RAN >> '{}'\n", g.marker.display()),
    );
    let dir = g.env.dir("traversal");
    let file = g.env.write("traversal/.go-version", "1.22/../../x\n");
    let line = g.fails_in(&dir, None);
    assert_contains(&line, &format!("{} line 1", file.display()));
    assert_contains(&line, "\"1.22/../../x\" is not a Go version");

    // Empty, and only comments and blank lines.
    for (name, contents) in [("empty", ""), ("comments", "# a comment\n   \n\t# another\n\n")] {
        let g = Guarded::new();
        let dir = g.env.dir(name);
        let file = g.env.write(&format!("{name}/.go-version"), contents);
        let line = g.fails_in(&dir, None);
        assert_contains(&line, &format!("{} holds no version", file.display()));
    }

    // A directory named .go-version.
    let g = Guarded::new();
    let dir = g.env.dir("dir-pin/sub");
    let file = g.env.dir("dir-pin/.go-version");
    let line = g.fails_in(&dir, None);
    assert_contains(&line, &format!("{} is a directory", file.display()));

    // A version that is not installed: the message says how to install it.
    let g = Guarded::new();
    let dir = g.env.dir("missing");
    let file = g.env.write("missing/.go-version", "go1.25.1\n");
    let line = g.fails_in(&dir, None);
    assert_contains(&line, "Go 1.25.1 is not installed");
    assert_contains(&line, &format!("{} line 1", file.display()));
    assert!(line.ends_with("gomig install 1.25.1"), "{line}");
}

#[test]
fn bad_go_mod_files() {
    // An invalid go line: file and line.
    let g = Guarded::new();
    let dir = g.env.dir("badgo/pkg");
    let file = g.env.write("badgo/go.mod", "module m\n\ngo 1.22.x\n");
    let line = g.fails_in(&dir, None);
    assert_contains(&line, &format!("{} line 3", file.display()));
    assert_contains(&line, "invalid go version \"1.22.x\"");

    // An invalid toolchain line.
    let g = Guarded::new();
    let dir = g.env.dir("badtc");
    let file = g.env.write(
        "badtc/go.mod",
        "module m\n\ngo 1.22\n// pinned\ntoolchain go1.22/../x\n",
    );
    let line = g.fails_in(&dir, None);
    assert_contains(&line, &format!("{} line 5", file.display()));
    assert_contains(&line, "invalid toolchain");

    // A go line newer than anything installed (and than the default).
    let g = Guarded::new();
    let dir = g.env.dir("newer");
    let file = g.env.write("newer/go.mod", "module m\n\ngo 1.30\n");
    let line = g.fails_in(&dir, None);
    assert_contains(&line, "Go 1.30.0 is not installed");
    assert_contains(&line, &format!("{} line 3", file.display()));
    assert!(line.ends_with("gomig install 1.30.0"), "{line}");
}

#[test]
fn bad_environment_variables() {
    let g = Guarded::new();
    let mut cmd = g.go_in(&g.env.work);
    cmd.env("GOMIG_GO_VERSION", "garbage");
    let line = g.fails_in(&g.env.work, Some(cmd));
    assert_contains(&line, "GOMIG_GO_VERSION");
    assert_contains(&line, "\"garbage\" is not a Go version");

    let g = Guarded::new();
    let mut cmd = g.go_in(&g.env.work);
    cmd.env("GOMIG_GO_VERSION", "1.27.3");
    let line = g.fails_in(&g.env.work, Some(cmd));
    assert_contains(&line, "Go 1.27.3 is not installed (requested by GOMIG_GO_VERSION)");
    assert!(line.ends_with("gomig install 1.27.3"), "{line}");

    let g = Guarded::new();
    let mut cmd = g.go_in(&g.env.work);
    cmd.env("GOWORK", "relative/path");
    let line = g.fails_in(&g.env.work, Some(cmd));
    assert_contains(&line, "GOWORK=relative/path is not an absolute path");
}

/// Makes the test tree usable by an unprivileged user: directories searchable, files readable.
fn open_up(dir: &Path) {
    let meta = fs::symlink_metadata(dir).unwrap();
    if meta.file_type().is_symlink() {
        return;
    }
    let mode = meta.permissions().mode();
    if meta.is_dir() {
        fs::set_permissions(dir, fs::Permissions::from_mode(mode | 0o755)).unwrap();
        for e in fs::read_dir(dir).unwrap() {
            open_up(&e.unwrap().path());
        }
    } else {
        fs::set_permissions(dir, fs::Permissions::from_mode(mode | 0o444)).unwrap();
    }
}

#[test]
fn unreadable_go_mod() {
    let g = Guarded::new();
    let dir = g.env.dir("locked/pkg");
    let file = g.env.write("locked/go.mod", "module m\n\ngo 1.22\n");
    let mut cmd = g.go_in(&dir);
    if unsafe { libc::geteuid() } == 0 {
        // Root reads a mode-000 file anyway: run the shim as an unprivileged user instead, on
        // a tree it can search, so the permission check is real.
        open_up(g.env.root());
        cmd.uid(65534).gid(65534);
        // The marker lives where nobody cannot write; a Go that ran would still print RAN.
    }
    fs::set_permissions(&file, fs::Permissions::from_mode(0o000)).unwrap();
    let (out, _) = match cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(child) => {
            let pid = child.id();
            (child.wait_with_output().unwrap(), pid)
        }
        Err(e) => panic!("cannot run the shim as user 65534 to make go.mod unreadable to it: {e}"),
    };
    let line = one_line_error(&out);
    assert!(!g.marker.exists());
    assert_eq!(
        line,
        format!(
            "gomig: cannot read {}: permission denied; fix its permissions or remove it",
            file.display()
        )
    );
}

/// A FIFO where a version file or go.mod should be: refused at once (opening and reading it
/// would wait for a writer forever, hanging every `go` command), never a silent fallback.
#[test]
fn fifo_version_files_are_refused_not_waited_on() {
    for name in ["go.mod", ".go-version", "go.work"] {
        let g = Guarded::new();
        let dir = g.env.dir("fifo/pkg");
        let file = g.env.work.join("fifo").join(name);
        let c = std::ffi::CString::new(file.as_os_str().as_encoded_bytes()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
        let out = run_timeout(&mut g.go_in(&dir), None, Duration::from_secs(10)).0;
        let line = one_line_error(&out);
        assert!(!g.marker.exists());
        assert_eq!(
            line,
            format!(
                "gomig: {0} is a FIFO, not a regular file, so gomig does not read it (a read might never end); remove it: rm {0}",
                file.display()
            )
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 5. The environment the toolchain gets
// ---------------------------------------------------------------------------------------------

/// `KEY=value` lines printed by `env`, as (key, value) pairs in order.
fn env_entries(out: &Output) -> Vec<(String, String)> {
    assert!(out.status.success(), "{}", describe(out));
    stdout(out)
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn values_of<'a>(entries: &'a [(String, String)], key: &str) -> Vec<&'a str> {
    entries
        .iter()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .collect()
}

#[test]
fn goroot_is_overridden_and_gotoolchain_defaults_to_local() {
    let env = setup();
    let managed = default_that_prints_its_environment(&env);
    // An adopted toolchain: toolchains/<name> is a link to a GOROOT elsewhere.
    let external = env.root().join("elsewhere/go");
    fs::create_dir_all(external.join("bin")).unwrap();
    std::os::unix::fs::symlink(env_program(), external.join("bin/go")).unwrap();
    std::os::unix::fs::symlink(&external, env.gomig_home.join("toolchains/go1.21.13")).unwrap();
    let adopted_dir = env.dir("adopted");
    env.write("adopted/.go-version", "1.21.13\n");

    // A stale GOROOT is replaced (once, no duplicate), GOTOOLCHAIN=local is added, the hop
    // counter starts, and everything else is passed as is.
    let mut cmd = env.go_in(&env.work, &[]);
    cmd.env("GOROOT", "/stale/goroot").env("SOME_VAR", "kept=as is");
    let e = env_entries(&run(&mut cmd));
    assert_eq!(values_of(&e, "GOROOT"), [managed.display().to_string()]);
    assert_eq!(values_of(&e, "GOTOOLCHAIN"), ["local"]);
    assert_eq!(values_of(&e, "GOMIG_SHIM_DEPTH"), ["1"]);
    assert_eq!(values_of(&e, "SOME_VAR"), ["kept=as is"]);
    assert_eq!(values_of(&e, "HOME"), [env.home.display().to_string()]);

    // The adopted link is resolved: GOROOT is the real tree.
    let mut cmd = env.go_in(&adopted_dir, &[]);
    cmd.env("GOROOT", "/stale/goroot");
    let e = env_entries(&run(&mut cmd));
    assert_eq!(values_of(&e, "GOROOT"), [external.display().to_string()]);

    // A caller's GOTOOLCHAIN is read as Go reads it, and the exec'd go sees one that never
    // lets it download; for a toolchain it may switch from, also what cmd/go's own switch
    // tells its child (it is that toolchain), replacing a stale one.
    let switch = "GOTOOLCHAIN_INTERNAL_SWITCH_VERSION";
    for (value, seen, told) in [
        ("go1.22.10+auto", "go1.22.10+path", Some("go1.22.10")),
        ("go1.22.10+path", "go1.22.10+path", Some("go1.22.10")),
        ("go1.22.10", "go1.22.10", Some("go1.22.10")),
        ("auto", "path", Some("go1.22.10")),
        ("path", "path", Some("go1.22.10")),
        ("local", "local", None),
    ] {
        let mut cmd = env.go_in(&env.work, &[]);
        cmd.env("GOTOOLCHAIN", value).env(switch, "go1.1");
        let e = env_entries(&run(&mut cmd));
        assert_eq!(values_of(&e, "GOTOOLCHAIN"), [seen], "{value}");
        assert_eq!(values_of(&e, switch), told.into_iter().collect::<Vec<_>>(), "{value}");
        assert_eq!(values_of(&e, "GOROOT"), [managed.display().to_string()]);
    }

    // The hop counter counts on from the caller's value, without a duplicate entry.
    let mut cmd = env.go_in(&env.work, &[]);
    cmd.env("GOMIG_SHIM_DEPTH", "5");
    let e = env_entries(&run(&mut cmd));
    assert_eq!(values_of(&e, "GOMIG_SHIM_DEPTH"), ["6"]);
}

/// The little-endian field of `len` bytes at `offset` of an ELF file.
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
fn le(bytes: &[u8], offset: usize, len: usize) -> u64 {
    bytes[offset..offset + len]
        .iter()
        .rev()
        .fold(0, |n, &b| n << 8 | u64::from(b))
}

/// The shim's image on x86_64 Linux: its code, read-only data and GOT in a single loadable
/// segment (so that a call costs one fault-around window, `src/shim/shim.ld`; GNU ld's own
/// layout made that two or three), and no segment both writable and executable. Read from
/// the ELF program headers of the binary the tests run.
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
#[test]
fn the_shim_is_one_executable_segment_and_nothing_writable_runs() {
    let bytes = fs::read(shim_bin()).unwrap();
    assert_eq!(&bytes[..4], b"\x7fELF");
    let (u16_at, u32_at, u64_at) = (
        |o| le(&bytes, o, 2) as usize,
        |o| le(&bytes, o, 4) as u32,
        |o| le(&bytes, o, 8),
    );
    let (phoff, phentsize, phnum) = (u64_at(0x20) as usize, u16_at(0x36), u16_at(0x38));
    const PT_LOAD: u32 = 1;
    const PF_X: u32 = 1;
    const PF_W: u32 = 2;
    let loads: Vec<(u32, u64)> = (0..phnum)
        .map(|i| phoff + i * phentsize)
        .filter(|&h| u32_at(h) == PT_LOAD)
        .map(|h| (u32_at(h + 4), u64_at(h + 0x28)))
        .collect();
    let read_only: Vec<_> = loads
        .iter()
        .filter(|(flags, size)| flags & PF_W == 0 && *size > 0)
        .collect();
    assert_eq!(read_only.len(), 1, "read-only segments (flags, size): {loads:?}");
    assert_ne!(
        read_only[0].0 & PF_X,
        0,
        "the read-only segment holds the code: {loads:?}"
    );
    assert!(
        loads.iter().all(|(flags, _)| flags & (PF_W | PF_X) != (PF_W | PF_X)),
        "a writable and executable segment: {loads:?}"
    );
}

/// The kernel maps a fault's whole 64 KiB window at once: the linker script starts the image
/// so that its hot part (up to `__hot_end`) ends where a window does, and the pages of cold
/// code after it are not mapped by a pinned call. Both linkers settle the script's forward
/// reference; one that did not would leave the image at the window's start.
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
#[test]
fn the_shims_hot_part_ends_where_a_fault_around_window_ends() {
    let bytes = fs::read(shim_bin()).unwrap();
    let (u16_at, u32_at, u64_at) = (
        |o| le(&bytes, o, 2) as usize,
        |o| le(&bytes, o, 4) as u32,
        |o| le(&bytes, o, 8),
    );
    let (shoff, shentsize, shnum) = (u64_at(0x28) as usize, u16_at(0x3a), u16_at(0x3c));
    const SHT_SYMTAB: u32 = 2;
    let section = |i: usize| shoff + i * shentsize;
    let symtab = (0..shnum)
        .map(section)
        .find(|&h| u32_at(h + 4) == SHT_SYMTAB)
        .expect("the test build of the shim keeps its symbol table");
    let strtab = section(u32_at(symtab + 0x28) as usize);
    let (syms, size) = (u64_at(symtab + 0x18) as usize, u64_at(symtab + 0x20) as usize);
    let names = u64_at(strtab + 0x18) as usize;
    let hot_end = (syms..syms + size)
        .step_by(24)
        .find(|&sym| {
            let name = names + u32_at(sym) as usize;
            bytes[name..].starts_with(b"__hot_end\0")
        })
        .map(|sym| u64_at(sym + 8))
        .expect("the linker script defines __hot_end");
    let page_end = hot_end.div_ceil(0x1000) * 0x1000;
    assert_eq!(
        page_end % 0x10000,
        0,
        "__hot_end {hot_end:#x} is not at the end of a 64 KiB window"
    );
}

/// Through a symbolic link, the walk up follows `$PWD` (the parents the user sees, as Go's does),
/// not the physical `..`: the relative probes the shim makes from the directory `getcwd` names
/// are only for a `$PWD` with no link on it. Without `$PWD`, the physical parents count, and
/// `gomig current` agrees with the shim both ways.
#[test]
fn a_linked_working_directory_is_walked_up_by_the_path_the_user_sees() {
    let env = setup();
    let env_prog = env_program();
    let logical_tree = linked_toolchain(&env, "go1.22.10", &env_prog);
    let physical_tree = linked_toolchain(&env, "go1.21.13", &env_prog);
    env.set_default_link("go1.22.10");
    // work/real/.go-version says 1.21.13 above real/proj/sub; work/seen/.go-version says 1.22.10
    // above seen/proj, a link to real/proj.
    env.write("real/.go-version", "1.21.13\n");
    let physical = env.dir("real/proj/sub");
    env.write("seen/.go-version", "1.22.10\n");
    std::os::unix::fs::symlink(env.work.join("real/proj"), env.work.join("seen/proj")).unwrap();
    let logical = env.work.join("seen/proj/sub");

    for (pwd, tree, version) in [
        (Some(&logical), &logical_tree, "go1.22.10"),
        (None, &physical_tree, "go1.21.13"),
    ] {
        let mut go = env.go_in(&physical, &[]);
        let mut current = env.gomig_in(&physical, &["current"]);
        match pwd {
            Some(p) => {
                go.env("PWD", p);
                current.env("PWD", p);
            }
            None => {
                go.env_remove("PWD");
                current.env_remove("PWD");
            }
        }
        let e = env_entries(&run(&mut go));
        assert_eq!(values_of(&e, "GOROOT"), [tree.display().to_string()], "PWD {pwd:?}");
        let out = run(&mut current);
        assert!(out.status.success(), "{}", describe(&out));
        assert_contains(&stdout(&out), version);
    }
}

/// An environment of thousands of variables reaches the toolchain whole: the shim builds the
/// child's environment in the array the kernel handed it (and the auxiliary vector after it),
/// so no size is too large for a fixed buffer, and nothing is dropped or doubled.
#[test]
fn a_large_environment_is_passed_whole() {
    let env = setup();
    let managed = default_that_prints_its_environment(&env);
    let mut cmd = env.go_in(&env.work, &[]);
    for i in 0..3000 {
        cmd.env(format!("BULK_{i:04}"), format!("value {i}"));
    }
    cmd.env("GOROOT", "/stale/goroot").env("GOMIG_SHIM_DEPTH", "2");
    let e = env_entries(&run(&mut cmd));
    let bulk: Vec<_> = e.iter().filter(|(k, _)| k.starts_with("BULK_")).collect();
    assert_eq!(bulk.len(), 3000);
    for (i, (k, v)) in bulk.iter().enumerate() {
        assert_eq!(
            (k.as_str(), v.as_str()),
            (format!("BULK_{i:04}").as_str(), format!("value {i}").as_str())
        );
    }
    assert_eq!(values_of(&e, "GOROOT"), [managed.display().to_string()]);
    assert_eq!(values_of(&e, "GOTOOLCHAIN"), ["local"]);
    assert_eq!(values_of(&e, "GOMIG_SHIM_DEPTH"), ["3"]);
    assert_eq!(values_of(&e, "HOME"), [env.home.display().to_string()]);
}

/// Paths longer than the resolver keeps inline (192 bytes) work the same: a working directory,
/// a `.go-version` above it and an adopted toolchain's link target, each over 600 bytes, with
/// `$PWD` and with `getcwd` alone.
#[test]
fn paths_longer_than_the_inline_buffer() {
    let env = setup();
    default_that_prints_its_environment(&env);
    let long: String = (0..6).map(|i| format!("{i}{}/", "x".repeat(99))).collect();
    let external = env.root().join(&long).join("go");
    fs::create_dir_all(external.join("bin")).unwrap();
    std::os::unix::fs::symlink(env_program(), external.join("bin/go")).unwrap();
    std::os::unix::fs::symlink(&external, env.gomig_home.join("toolchains/go1.21.13")).unwrap();
    let project = env.dir(&format!("long/{long}"));
    fs::write(project.join(".go-version"), "1.21.13\n").unwrap();
    let deep = project.join("a/b/c");
    fs::create_dir_all(&deep).unwrap();
    assert!(deep.as_os_str().len() > 600 && external.as_os_str().len() > 600);

    for with_pwd in [true, false] {
        let mut cmd = env.go_in(&deep, &[]);
        if !with_pwd {
            cmd.env_remove("PWD");
        }
        let e = env_entries(&run(&mut cmd));
        assert_eq!(
            values_of(&e, "GOROOT"),
            [external.display().to_string()],
            "with PWD: {with_pwd}"
        );
        assert_eq!(values_of(&e, "GOTOOLCHAIN"), ["local"]);
    }
}

#[test]
fn goroot_printed_by_a_script_toolchain() {
    // The same through a shell, as the brief's fake toolchains do it.
    let env = setup();
    let root = env.fake_toolchain("go1.22.10");
    env.set_default_link("go1.22.10");
    let mut cmd = env.go_in(&env.work, &["version"]);
    cmd.env("GOROOT", "/usr/local/go");
    let out = run(&mut cmd);
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(
        stdout(&out),
        format!(
            "go1.22.10 go GOROOT={} GOTOOLCHAIN=local args=version\n",
            root.display()
        )
    );
    let mut cmd = env.command(env.shims_dir().join("gofmt"), &env.work);
    cmd.arg("-l").env("GOTOOLCHAIN", "go1.22.10+auto");
    let out = run(&mut cmd);
    assert_eq!(
        stdout(&out),
        format!(
            "go1.22.10 gofmt GOROOT={} GOTOOLCHAIN=go1.22.10+path args=-l\n",
            root.display()
        )
    );
}

/// Counts the heap-growing system calls (`brk`, `mmap`, `mremap`) a program makes before its
/// first `execve`, under gdb catchpoints: they work without symbols, so they see a stripped
/// binary too. `Err(gdb's output)` if gdb never saw the exec.
fn heap_syscalls_before_exec(
    env: &TestEnv,
    dir: &Path,
    program: &Path,
    args: &[&str],
) -> Result<(usize, String), String> {
    let mut cmd = env.command("gdb", dir);
    cmd.args(["-nx", "-batch", "-q"])
        .args(["-ex", "set startup-with-shell off"])
        .args(["-ex", "set pagination off"])
        .args(["-ex", "catch syscall brk mmap mremap"])
        .args(["-ex", "catch exec"])
        .args(["-ex", "run"]);
    // Each `continue` moves past one catch (syscall entry and return are separate stops).
    for _ in 0..400 {
        cmd.args(["-ex", "continue"]);
    }
    cmd.arg("--args").arg(program).args(args);
    let (out, _) = run_timeout(&mut cmd, None, Duration::from_secs(120));
    let text = format!("{}\n{}", stdout(&out), stderr(&out));
    let mut count = 0;
    for line in text.lines() {
        if line.contains("(exec'd ") {
            return Ok((count, text));
        }
        if line.contains("(call to syscall") {
            count += 1;
        }
    }
    Err(text)
}

/// The statically linked shim has no C runtime: not one `brk` or `mmap` (no heap, no loader)
/// from the first instruction to `execve`, even at depth 30 below a 1 MB go.mod.
#[test]
fn static_shim_makes_no_heap_system_call_before_execve() {
    let env = setup();
    let (deep, _) = big_project(&env, "echo ran");
    let shim = env.shims_dir().join("go");
    if interpreter(&shim).is_some() {
        eprintln!("note: the shim is linked dynamically (GOMIG_SHIM_DYNAMIC=1): the loader maps libc, skipped");
        return;
    }
    let (count, text) =
        heap_syscalls_before_exec(&env, &deep, &shim, &["version"]).unwrap_or_else(|t| panic!("no exec seen:\n{t}"));
    assert_eq!(count, 0, "heap system calls before execve:\n{text}");

    // Control: the catchpoints do fire for a program that maps memory before it execs.
    // (A script file: gdb mangles arguments with spaces when it starts without a shell.)
    let script = env.root().join("control.sh");
    fs::write(&script, "exec /bin/true\n").unwrap();
    let (count, text) = heap_syscalls_before_exec(&env, &deep, Path::new("/bin/sh"), &[script.to_str().unwrap()])
        .unwrap_or_else(|t| panic!("no exec seen:\n{t}"));
    assert!(count > 0, "the control made no heap system call:\n{text}");
}
