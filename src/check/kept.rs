//! `go test -count=1 -json` from test binaries kept between runs.
//!
//! `go test` links every package's test binary again on each run, even when nothing changed;
//! that is most of its time on a module whose packages are already compiled. `go test -c -o DIR`
//! leaves a binary alone when it is up to date (same sources, same toolchain), so gomig builds
//! the binaries into a directory kept beside the check's build cache and runs each one itself,
//! the way go test runs it: in its package directory, `-test.v=test2json -test.paniconexit0
//! -test.timeout -test.count=1`, through the toolchain's own `test2json -p PKG -t`, so the events
//! are the ones go test would print. A package without test files gets go test's `skip` event.
//!
//! Only where that is sure to be the same: every package loads, every test binary builds, their
//! names differ, GOFLAGS holds build flags only, and the toolchain has `go test -c` for several
//! packages (Go 1.21). Anything else returns `None`, and the caller runs `go test` itself (which
//! also reports build failures the usual way).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::sandbox::{Sandbox, Side, stream};
use super::{Options, patterns};

/// Build flags GOFLAGS may hold for the kept binaries to be what go test would run. Flags that
/// change how tests run (`-short`, `-run`, `-cover`, ...) and `-ldflags` send the check through
/// go test.
const BUILD_FLAGS: &[&str] = &[
    "-mod",
    "-modcacherw",
    "-modfile",
    "-tags",
    "-trimpath",
    "-race",
    "-msan",
    "-asan",
    "-buildvcs",
    "-gcflags",
    "-asmflags",
    "-pgo",
    "-p",
];

fn build_flags_only(goflags: &str) -> bool {
    goflags.split_whitespace().all(|flag| {
        let name = flag.split('=').next().unwrap_or(flag);
        let name = name.strip_prefix("--").map_or(name.to_string(), |n| format!("-{n}"));
        BUILD_FLAGS.contains(&name.as_str())
    })
}

struct Package {
    import_path: String,
    dir: PathBuf,
    has_tests: bool,
}

/// The packages the patterns name, or `None` if any has an error (go test reports those).
fn list(sandbox: &Sandbox, opts: &Options, side: &Side) -> Option<Vec<Package>> {
    let mut args = vec![
        "list",
        "-e",
        "-f",
        "{{.ImportPath}}\t{{.Dir}}\t{{len .TestGoFiles}}\t{{len .XTestGoFiles}}\t{{if or .Error .DepsErrors}}error{{end}}",
    ];
    args.extend(patterns(opts));
    let out = sandbox.go(side, &opts.dir, &args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let mut packages = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let fields: Vec<&str> = line.split('\t').collect();
        let [import_path, dir, tests, xtests, error] = fields.as_slice() else {
            return None;
        };
        if !error.is_empty() {
            return None;
        }
        packages.push(Package {
            import_path: import_path.to_string(),
            dir: PathBuf::from(dir),
            has_tests: *tests != "0" || *xtests != "0",
        });
    }
    Some(packages)
}

/// The file name `go test -c -o DIR/` gives a package's binary (cmd/go's DefaultExecName): its
/// last path element, or the one before a major version suffix (`/v2`), and `.test`. Checked
/// against the files go test -c wrote before any is run.
fn binary_name(import_path: &str) -> String {
    let mut elems = import_path.rsplit('/');
    let last = elems.next().unwrap_or(import_path);
    let digits = last
        .strip_prefix('v')
        .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()));
    let is_major = digits.is_some_and(|d| !d.starts_with('0') && d != "1");
    let base = match (is_major, elems.next()) {
        (true, Some(parent)) => parent,
        _ => last,
    };
    format!("{base}.test")
}

/// What tells this project's kept binaries from others': its directory and the toolchain's tree.
fn project_key(opts: &Options, side: &Side) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    opts.dir.hash(&mut h);
    side.goroot.hash(&mut h);
    h.finish()
}

/// Runs the tests of `patterns(opts)` with `side` from kept binaries, handing each test2json
/// line to `on_line` in package order; `Some(all passed)`, or `None` where go test must run.
pub fn run(sandbox: &Sandbox, opts: &Options, side: &Side, on_line: &mut dyn FnMut(&str)) -> Option<bool> {
    if !build_flags_only(&std::env::var("GOFLAGS").unwrap_or_default()) {
        return None;
    }
    let tool = side
        .goroot
        .join("pkg/tool")
        .join(format!("{}_{}", side.expected_goos, side.expected_goarch))
        .join("test2json");
    if !tool.is_file() {
        return None;
    }
    let packages = list(sandbox, opts, side).filter(|p| !p.is_empty())?;
    let mut names: Vec<String> = packages
        .iter()
        .filter(|p| p.has_tests)
        .map(|p| binary_name(&p.import_path))
        .collect();
    let with_tests = names.len();
    names.sort();
    names.dedup();
    if names.len() != with_tests {
        return None;
    }

    // Two checks of one project with one toolchain take turns on its binaries.
    let (dir, lock) = sandbox
        .kept_dir("gomig-testbins", side, Some(project_key(opts, side)))
        .ok()?;
    // Marks this project's binaries as used, and drops those of projects not checked for a while.
    let _ = lock.set_modified(std::time::SystemTime::now());
    if let Some(all) = dir.parent() {
        trim_unused(all, &dir);
    }
    if with_tests > 0 {
        let out_dir = format!("{}/", dir.display());
        // Linked as go test links the binaries it runs: without symbol table and DWARF (`-s -w`),
        // which is also what keeps this from being slower than go test on a first run. (GOFLAGS
        // with -ldflags, which go test would combine with these, goes through go test.)
        let mut args = vec!["test", "-c", "-vet=off", "-ldflags=-s -w", "-o", out_dir.as_str()];
        args.extend(patterns(opts));
        let built = sandbox.go(side, &opts.dir, &args).output().ok()?;
        if !built.status.success() {
            return None;
        }
    }
    let binaries: Vec<Option<PathBuf>> = packages
        .iter()
        .map(|p| p.has_tests.then(|| dir.join(binary_name(&p.import_path))))
        .collect();
    if binaries.iter().flatten().any(|b| !b.is_file()) {
        return None;
    }

    let timeout = format!("-test.timeout={}", opts.timeout.as_deref().unwrap_or("10m0s"));
    let mut all_passed = true;
    for (p, binary) in packages.iter().zip(binaries) {
        let Some(binary) = binary else {
            let skip = [
                serde_json::json!({"Action": "start", "Package": p.import_path}),
                serde_json::json!({"Action": "output", "Package": p.import_path,
                    "Output": format!("?   \t{}\t[no test files]\n", p.import_path)}),
                serde_json::json!({"Action": "skip", "Package": p.import_path, "Elapsed": 0}),
            ];
            for event in skip {
                on_line(&event.to_string());
            }
            continue;
        };
        // The same process as `go test` would start, under test2json, in the package directory,
        // with the environment the sandbox gives the go command.
        let sandboxed = sandbox.go(side, &p.dir, &[]);
        let mut run = Command::new(&tool);
        run.args(["-p", &p.import_path, "-t"])
            .arg(&binary)
            .args(["-test.v=test2json", "-test.paniconexit0", &timeout, "-test.count=1"])
            .current_dir(&p.dir)
            .stdin(std::process::Stdio::null());
        sandbox.guard(&mut run);
        for (key, value) in sandboxed.get_envs() {
            match value {
                Some(v) => run.env(key, v),
                None => run.env_remove(key),
            };
        }
        let finished = stream(run, &format!("the tests of {}", p.import_path), &mut *on_line).ok()?;
        all_passed &= finished.status.success();
        if !finished.stderr.trim().is_empty() {
            // test2json puts everything on stdout; anything here is a failure to run at all.
            return None;
        }
    }
    Some(all_passed)
}

/// How long the test binaries of a project stay kept after its last check.
const KEEP_UNUSED: std::time::Duration = std::time::Duration::from_secs(14 * 24 * 3600);

/// Removes the kept binaries of other projects whose last check is older than [`KEEP_UNUSED`]
/// (and that no check is using now).
fn trim_unused(all: &Path, current: &Path) {
    let Ok(entries) = fs::read_dir(all) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let lock_path = path.join(".lock");
        let stale = fs::metadata(&lock_path)
            .and_then(|m| m.modified())
            .is_ok_and(|t| t.elapsed().is_ok_and(|age| age > KEEP_UNUSED));
        if path == current || !stale {
            continue;
        }
        if let Ok(lock) = fs::File::options().write(true).open(&lock_path)
            && lock.try_lock().is_ok()
        {
            let _ = fs::remove_dir_all(&path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binaries_are_named_as_go_test_c_names_them() {
        assert_eq!(binary_name("example.com/m/pkg"), "pkg.test");
        assert_eq!(binary_name("example.com/m"), "m.test");
        assert_eq!(binary_name("example.com/m/v2"), "m.test");
        assert_eq!(binary_name("example.com/m/v2/sub"), "sub.test");
        assert_eq!(binary_name("gopkg.in/yaml.v3"), "yaml.v3.test");
        assert_eq!(binary_name("example.com/m/v1"), "v1.test");
        assert_eq!(binary_name("example.com/m/v0"), "v0.test");
    }

    #[test]
    fn binaries_of_projects_not_checked_for_two_weeks_are_removed() {
        let all = tempfile::tempdir().unwrap();
        let make = |name: &str, age_days: u64| {
            let dir = all.path().join(name);
            fs::create_dir_all(&dir).unwrap();
            fs::write(dir.join("pkg.test"), "binary").unwrap();
            let lock = fs::File::create(dir.join(".lock")).unwrap();
            let when = std::time::SystemTime::now() - std::time::Duration::from_secs(age_days * 24 * 3600);
            lock.set_modified(when).unwrap();
            dir
        };
        let (current, fresh, old) = (make("current", 30), make("fresh", 3), make("old", 30));
        trim_unused(all.path(), &current);
        assert!(current.is_dir(), "the project being checked is never trimmed");
        assert!(fresh.is_dir());
        assert!(!old.exists());
    }

    #[test]
    fn only_build_flags_in_goflags_keep_the_binaries() {
        assert!(build_flags_only(""));
        assert!(build_flags_only("-modcacherw -mod=mod -tags=integration --trimpath"));
        assert!(!build_flags_only("-short"));
        assert!(!build_flags_only("-modcacherw -run=TestX"));
        assert!(!build_flags_only("-cover"));
    }
}
