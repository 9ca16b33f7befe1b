//! Go's own toolchain selection (cmd/go/internal/toolchain/select.go), refereed by real Go:
//! for each go line, toolchain line and base, real `go version` runs with downloads disabled
//! (GOPROXY=off) and says which toolchain it would switch to ("go: downloading go1.22rc1") or
//! runs itself; gomig's resolver must ask for exactly that toolchain, or keep the base.

mod support;

use std::path::Path;
use std::process::Command;

use gomig::lookup::{EnvSnapshot, ResolveFailure, resolve_in, text_of};
use gomig::resolve::{Directive, ErrorKind, Resolution, Rule, Tool};
use support::{GO_121, GO_122, GO_123, GO_124, TestEnv, go_dist};

/// What real Go decided in a module: run itself, or switch to the named toolchain.
#[derive(Debug, PartialEq, Eq)]
enum GoChoice {
    Local(String),
    Switch(String),
}

/// Runs real `go version` from the GOROOT of `base` in `dir` with `gotoolchain`, where no
/// other toolchain can be found or downloaded, and reads its decision.
fn real_go_choice(env: &TestEnv, base: &str, dir: &Path, gotoolchain: &str) -> GoChoice {
    let go = go_dist(base).join("bin/go");
    let out = Command::new(go)
        .arg("version")
        .current_dir(dir)
        .env_clear()
        .env("HOME", &env.home)
        .env("PATH", "/usr/bin:/bin")
        .env("GOCACHE", env.root().join("gocache"))
        .env("GOPATH", env.root().join("gopath"))
        .env("GOMODCACHE", env.root().join("modcache"))
        .env("GOENV", "off")
        .env("GOPROXY", "off")
        .env("GOTELEMETRY", "off")
        .env("GOTOOLCHAIN", gotoolchain)
        .output()
        .expect("run real go");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if let Some(v) = stdout.strip_prefix("go version ") {
        return GoChoice::Local(v.split_whitespace().next().unwrap_or("").to_string());
    }
    let asked = stderr
        .split("go: downloading ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("real go neither ran nor switched:\n{stdout}\n{stderr}"));
    GoChoice::Switch(asked.to_string())
}

/// gomig's decision in the same module, with only `base` installed and it the default.
fn gomig_choice(env: &TestEnv, dir: &Path, base: &str) -> (GoChoice, Directive) {
    match gomig_resolve(env, dir) {
        Ok(res) => {
            assert!(
                matches!(res.rule, Rule::BaseSatisfies | Rule::Default | Rule::ToolchainDefault),
                "{}: {:?}",
                dir.display(),
                res.rule
            );
            (GoChoice::Local(text_of(res.name.as_bytes())), res.decided)
        }
        Err(e) if e.kind == ErrorKind::NotInstalled => (GoChoice::Switch(e.value.clone()), Directive::None),
        Err(e) => panic!("{}: base {base}: {e}", dir.display()),
    }
}

fn gomig_resolve(env: &TestEnv, dir: &Path) -> Result<Box<Resolution>, ResolveFailure> {
    let snapshot = EnvSnapshot::from_vars([
        ("GOMIG_HOME", env.gomig_home.display().to_string()),
        ("HOME", env.home.display().to_string()),
        ("PATH", "/usr/bin:/bin".to_string()),
        ("TMPDIR", env.root().join("tmp").display().to_string()),
    ]);
    resolve_in(&snapshot, dir, Tool::Go)
}

const GO_LINES: &[Option<&str>] = &[
    None,
    Some("1.20"),
    Some("1.21"),
    Some("1.21.0"),
    Some("1.22"),
    Some("1.22rc1"),
    Some("1.22.0"),
    Some("1.22.3"),
    Some("1.23"),
];
const TOOLCHAIN_LINES: &[Option<&str>] = &[
    None,
    Some("go1.21.0"),
    Some("go1.22"),
    Some("go1.22rc1"),
    Some("go1.22.0"),
    Some("go1.22.3"),
    Some("go1.22.10"),
    Some("go1.23.1"),
    Some("default"),
];

fn module_text(go: Option<&str>, toolchain: Option<&str>) -> String {
    let mut text = String::from("module example.com/m\n\n");
    if let Some(g) = go {
        text.push_str(&format!("go {g}\n"));
    }
    if let Some(t) = toolchain {
        text.push_str(&format!("\ntoolchain {t}\n"));
    }
    text
}

#[test]
fn go_line_and_toolchain_line_ask_for_what_real_go_asks_for() {
    let mut checked = 0;
    for base in [GO_121, GO_122] {
        let base_name = format!("go{base}");
        let env = TestEnv::new();
        env.fake_toolchain(&base_name);
        env.set_default_link(&base_name);
        for (i, go) in GO_LINES.iter().enumerate() {
            for (j, toolchain) in TOOLCHAIN_LINES.iter().enumerate() {
                let rel = format!("m{i}-{j}");
                env.write(&format!("{rel}/go.mod"), module_text(*go, *toolchain));
                let dir = env.dir(&rel);
                let real = real_go_choice(&env, base, &dir, "auto");
                let (ours, _) = gomig_choice(&env, &dir, base);
                assert_eq!(
                    ours, real,
                    "base {base_name}, go {go:?}, toolchain {toolchain:?}: gomig and real go differ"
                );
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 2 * GO_LINES.len() * TOOLCHAIN_LINES.len());
}

#[test]
fn a_toolchain_line_at_the_language_version_is_asked_for_as_written() {
    let env = TestEnv::new();
    env.fake_toolchain("go1.21.13");
    env.set_default_link("go1.21.13");
    for (toolchain, want) in [("go1.22", "go1.22"), ("go1.22rc1", "go1.22rc1")] {
        let rel = toolchain.to_string();
        env.write(&format!("{rel}/go.mod"), module_text(Some("1.22"), Some(toolchain)));
        let dir = env.dir(&rel);
        assert_eq!(
            real_go_choice(&env, GO_121, &dir, "auto"),
            GoChoice::Switch(want.into())
        );
        let (ours, decided) = gomig_choice(&env, &dir, GO_121);
        assert_eq!(ours, GoChoice::Switch(want.into()));
        assert_eq!(decided, Directive::None);
    }
    // Installed, go1.22rc1 meets `toolchain go1.22rc1` (it is not below go1.22.0's line),
    // and the toolchain line is the one that decided.
    env.fake_toolchain("go1.22rc1");
    let res = gomig_resolve(&env, &env.dir("go1.22rc1")).unwrap();
    assert_eq!(text_of(res.name.as_bytes()), "go1.22rc1");
    assert_eq!(text_of(res.requirement.as_bytes()), "go1.22rc1");
    assert_eq!((res.decided, res.line), (Directive::Toolchain, 5));
    // With go1.22.0 installed as well, gomig's rule (the newest of the lowest line that meets
    // the requirement, releases first) takes it; before, `go 1.22` asked for go1.22.0 and
    // would have skipped go1.22rc1 even alone.
    env.fake_toolchain("go1.22.0");
    let res = gomig_resolve(&env, &env.dir("go1.22rc1")).unwrap();
    assert_eq!(text_of(res.name.as_bytes()), "go1.22.0");
}

/// gomig's decision with GOTOOLCHAIN set and nothing installed: the toolchain it asks for
/// (or the base it would run), read from the not-installed error.
fn gomig_asks_for(env: &TestEnv, dir: &Path, gotoolchain: &str) -> String {
    let snapshot = EnvSnapshot::from_vars([
        ("GOMIG_HOME", env.gomig_home.display().to_string()),
        ("HOME", env.home.display().to_string()),
        ("PATH", "/usr/bin:/bin".to_string()),
        ("TMPDIR", env.root().join("tmp").display().to_string()),
        ("GOTOOLCHAIN", gotoolchain.to_string()),
    ]);
    match resolve_in(&snapshot, dir, Tool::Go) {
        Err(e) if e.kind == ErrorKind::NotInstalled => e.value,
        Err(e) => panic!("{}: GOTOOLCHAIN={gotoolchain}: {e}", dir.display()),
        Ok(res) => panic!("nothing is installed, yet {}", text_of(res.name.as_bytes())),
    }
}

#[test]
fn gotoolchain_name_and_name_plus_auto_ask_for_what_real_go_asks_for() {
    let env = TestEnv::new();
    std::fs::create_dir_all(env.gomig_home.join("toolchains")).unwrap();
    let mut checked = 0;
    for gotoolchain in [
        "go1.22.3+auto",
        "go1.22.3+path",
        "go1.22.3",
        "go1.20+auto",
        "go1.22rc1+auto",
    ] {
        for (i, go) in GO_LINES.iter().enumerate() {
            for (j, toolchain) in TOOLCHAIN_LINES.iter().enumerate() {
                let rel = format!("m{i}-{j}");
                env.write(&format!("{rel}/go.mod"), module_text(*go, *toolchain));
                let dir = env.dir(&rel);
                // Real go1.21.13 is never the toolchain asked for here, so it always says
                // which one it wants ("downloading ..." or, with +path, "cannot find ...").
                let real = match real_go_choice(&env, GO_121, &dir, gotoolchain.replace("+path", "+auto").as_str()) {
                    GoChoice::Switch(name) => name,
                    GoChoice::Local(v) => panic!("real go ran itself ({v})"),
                };
                assert_eq!(
                    gomig_asks_for(&env, &dir, gotoolchain),
                    real,
                    "GOTOOLCHAIN={gotoolchain}, go {go:?}, toolchain {toolchain:?}"
                );
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 5 * GO_LINES.len() * TOOLCHAIN_LINES.len());
}

/// A store with real go1.22.10 (the default), go1.23.9 and go1.24.11, and the shims.
fn store_with_real_go() -> TestEnv {
    let env = TestEnv::new();
    for v in [GO_122, GO_123, GO_124] {
        env.adopt(v);
    }
    env.gomig_ok(&["switch", GO_122]);
    env.install_shims();
    env
}

/// `go ARGS` through the shim with GOTOOLCHAIN (None: unset), downloads impossible.
fn shim_go(env: &TestEnv, dir: &Path, gotoolchain: Option<&str>, args: &[&str]) -> std::process::Output {
    let mut cmd = env.go_in(dir, args);
    cmd.env("GOPROXY", "off")
        .env("GOTELEMETRY", "off")
        .env("GOMODCACHE", env.root().join("modcache"));
    if let Some(v) = gotoolchain {
        cmd.env("GOTOOLCHAIN", v);
    }
    support::run(&mut cmd)
}

fn runs(env: &TestEnv, dir: &Path, gotoolchain: Option<&str>, want: &str) {
    let out = shim_go(env, dir, gotoolchain, &["version"]);
    assert!(
        out.status.success() && support::stdout(&out).starts_with(&format!("go version {want} ")),
        "GOTOOLCHAIN={gotoolchain:?} in {}: want {want}\n{}",
        dir.display(),
        support::describe(&out)
    );
    assert!(
        !env.root().join("modcache/golang.org/toolchain").exists(),
        "a toolchain was downloaded"
    );
}

fn child_gotoolchain(env: &TestEnv, dir: &Path, gotoolchain: Option<&str>) -> String {
    let out = shim_go(env, dir, gotoolchain, &["env"]);
    assert!(out.status.success(), "{}", support::describe(&out));
    let text = support::stdout(&out);
    let line = text
        .lines()
        .find(|l| l.starts_with("GOTOOLCHAIN="))
        .unwrap_or_else(|| panic!("{text}"));
    line["GOTOOLCHAIN=".len()..].trim_matches('\'').to_string()
}

#[test]
fn gotoolchain_is_served_from_the_store_in_every_form() {
    let env = store_with_real_go();
    env.write("m24/go.mod", "module example.com/m\n\ngo 1.24.0\n");
    env.write("m21/go.mod", "module example.com/m\n\ngo 1.21.0\n");
    env.write("tc/go.mod", "module example.com/m\n\ngo 1.21.0\n\ntoolchain go1.23.9\n");
    env.write("pinned/.go-version", "1.24.11\n");
    let (m24, m21, tc, pinned) = (env.dir("m24"), env.dir("m21"), env.dir("tc"), env.dir("pinned"));
    let plain = env.dir("plain");

    // A toolchain name: that toolchain, whatever go.mod or a pin says.
    runs(&env, &plain, Some("go1.23.9"), "go1.23.9");
    runs(&env, &m24, Some("go1.23.9"), "go1.23.9");
    runs(&env, &pinned, Some("go1.23.9"), "go1.23.9");
    // NAME+auto / NAME+path: NAME is the base, go.mod may raise it (from the store).
    runs(&env, &plain, Some("go1.23.9+auto"), "go1.23.9");
    runs(&env, &m21, Some("go1.23.9+auto"), "go1.23.9");
    runs(&env, &m24, Some("go1.23.9+auto"), "go1.24.11");
    runs(&env, &tc, Some("go1.22.10+path"), "go1.23.9");
    runs(&env, &pinned, Some("go1.22.10+path"), "go1.22.10");
    // local, auto, path: gomig's own rules (the pin, go.mod over the default).
    for form in [None, Some("local"), Some("auto"), Some("path"), Some("local+auto")] {
        runs(&env, &m24, form, "go1.24.11");
        runs(&env, &pinned, form, "go1.24.11");
        runs(&env, &plain, form, "go1.22.10");
    }
    // What the exec'd go sees: never a setting that lets it download.
    let seen = [
        (None, "local"),
        (Some("local"), "local"),
        (Some("auto"), "path"),
        (Some("path"), "path"),
        (Some("go1.23.9"), "go1.23.9"),
        (Some("go1.23.9+auto"), "go1.23.9+path"),
        (Some("go1.23.9+path"), "go1.23.9+path"),
    ];
    for (form, want) in seen {
        assert_eq!(child_gotoolchain(&env, &m24, form), want, "GOTOOLCHAIN={form:?}");
    }
}

#[test]
fn gotoolchain_from_the_go_env_file_is_served_from_the_store() {
    let env = store_with_real_go();
    let plain = env.dir("plain");
    env.write("m24/go.mod", "module example.com/m\n\ngo 1.24.0\n");
    let m24 = env.dir("m24");
    // os.UserConfigDir()/go/env: XDG_CONFIG_HOME (TestEnv sets it to ~/.config).
    let file = env.home.join(".config/go/env");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, "GOPRIVATE=x\nGOTOOLCHAIN=go1.24.11\n").unwrap();
    runs(&env, &plain, None, "go1.24.11");
    // `gomig current` agrees, and says where the setting came from.
    let current = support::ok(&mut env.gomig_in(&plain, &["current"]));
    assert_eq!(
        current.trim(),
        format!(
            "go1.24.11 (from GOTOOLCHAIN=go1.24.11 in {} (go env -w))",
            file.display()
        )
    );
    let json: serde_json::Value =
        serde_json::from_str(&support::ok(&mut env.gomig_in(&plain, &["current", "--json"]))).unwrap();
    assert_eq!(json["source"], "GOTOOLCHAIN", "{json}");
    assert_eq!(json["path"], file.display().to_string(), "{json}");
    // A later line wins, as in Go; the environment beats the file.
    std::fs::write(&file, "GOTOOLCHAIN=go1.24.11\nGOTOOLCHAIN=go1.23.9+auto\n").unwrap();
    runs(&env, &plain, None, "go1.23.9");
    runs(&env, &m24, None, "go1.24.11");
    runs(&env, &plain, Some("go1.22.10"), "go1.22.10");
    // `go env -w` writes it through the shim, and `go env GOTOOLCHAIN` reads it back.
    let out = shim_go(&env, &plain, None, &["env", "-w", "GOTOOLCHAIN=go1.23.9"]);
    assert!(out.status.success(), "{}", support::describe(&out));
    assert_eq!(
        support::stdout(&shim_go(&env, &plain, None, &["env", "GOTOOLCHAIN"])).trim(),
        "go1.23.9"
    );
    runs(&env, &m24, None, "go1.23.9");
    // $GOENV names another file; GOENV=off reads none.
    let other = env.write("goenv", "GOTOOLCHAIN=go1.24.11\n");
    let mut cmd = env.go_in(&plain, &["version"]);
    cmd.env("GOENV", &other);
    assert!(support::ok(&mut cmd).starts_with("go version go1.24.11 "));
    let mut cmd = env.go_in(&plain, &["version"]);
    cmd.env("GOENV", "off");
    assert!(support::ok(&mut cmd).starts_with("go version go1.22.10 "));

    // A toolchain the store lacks: the usual error, naming the file, with the command to run.
    std::fs::write(&file, "GOTOOLCHAIN=go1.21.13\n").unwrap();
    let err = support::fails(&mut env.go_in(&plain, &["version"]));
    assert!(
        err.contains(&format!(
            "Go 1.21.13 is not installed (requested by GOTOOLCHAIN in {}); run: gomig install 1.21.13",
            file.display()
        )),
        "{err}"
    );
    // A setting Go refuses: named, with the way out, which works through the shim.
    std::fs::write(&file, "GOTOOLCHAIN=go1.23\n").unwrap();
    let err = support::fails(&mut env.go_in(&plain, &["version"]));
    assert!(
        err.contains("GOTOOLCHAIN=go1.23 (in ")
            && err.contains("language version")
            && err.contains("go env -u GOTOOLCHAIN"),
        "{err}"
    );
    let out = shim_go(&env, &plain, None, &["env", "-u", "GOTOOLCHAIN"]);
    assert!(
        !out.status.success(),
        "go env -u is not one of Go's escapes: {}",
        support::describe(&out)
    );
    let out = shim_go(&env, &plain, None, &["env", "-w", "GOTOOLCHAIN=auto"]);
    assert!(out.status.success(), "{}", support::describe(&out));
    runs(&env, &m24, None, "go1.24.11");
}

#[test]
fn gotoolchain_errors_name_the_setting_and_the_fix() {
    let env = store_with_real_go();
    let plain = env.dir("plain");
    let mut cmd = env.go_in(&plain, &["version"]);
    cmd.env("GOTOOLCHAIN", "go1.21.13");
    let err = support::fails(&mut cmd);
    assert!(
        err.contains("Go 1.21.13 is not installed (requested by GOTOOLCHAIN); run: gomig install 1.21.13"),
        "{err}"
    );
    let long = format!("go1.23.9-{}", "x".repeat(100));
    for bad in ["bash", "go1.23.9+never", "go1.22", "1.23.9", "go1.23.9/../../x", &long] {
        let mut cmd = env.go_in(&plain, &["version"]);
        cmd.env("GOTOOLCHAIN", bad);
        let err = support::fails(&mut cmd);
        let shown = if bad.len() > 64 {
            format!("{}+...", &bad[..60])
        } else {
            bad.to_string()
        };
        assert!(
            err.contains(&format!("GOTOOLCHAIN={shown} ")) && err.contains("unset GOTOOLCHAIN"),
            "{bad}: {err}"
        );
    }
    // `go env GOTOOLCHAIN` still answers, as in Go, so a bad setting can be seen.
    let mut cmd = env.go_in(&plain, &["env", "GOTOOLCHAIN"]);
    cmd.env("GOTOOLCHAIN", "bash");
    assert_eq!(support::ok(&mut cmd).trim(), "bash");
}

#[test]
fn go_install_and_go_run_at_a_version_ignore_the_module_here() {
    let env = store_with_real_go();
    env.write("m24/go.mod", "module example.com/m\n\ngo 1.24.0\n");
    let m24 = env.dir("m24");
    let traced = |args: &[&str]| {
        let mut cmd = env.go_in(&m24, args);
        cmd.env("GOMIG_SHIM_TRACE", "1").env("GOPROXY", "off");
        let out = support::run(&mut cmd);
        let err = support::stderr(&out);
        err.lines()
            .find(|l| l.starts_with("gomig: trace: "))
            .unwrap_or_else(|| panic!("{err}"))
            .to_string()
    };
    for args in [
        &["install", "example.com/tool@v1.0.0"][..],
        &["install", "-v", "-tags", "x", "example.com/tool@latest"],
        &["run", "example.com/tool@v1.0.0", "arg"],
        &["run", "-exec", "env", "--", "example.com/tool@v1.0.0"],
    ] {
        let trace = traced(args);
        assert!(
            trace.contains("default") && trace.contains("go1.22.10/"),
            "{args:?}: {trace}"
        );
    }
    for args in [
        &["install", "./..."][..],
        &["install", "example.com/tool"],
        &["run", "./cmd@x"],
        &["build", "example.com/tool@v1.0.0"],
        &["install", "go@1.24.0"],
    ] {
        let trace = traced(args);
        assert!(
            trace.contains("go.mod") && trace.contains("go1.24.11/"),
            "{args:?}: {trace}"
        );
    }
}

fn command_names(env: &TestEnv) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(env.shims_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("go1"))
        .collect();
    names.sort();
    names
}

#[test]
fn each_toolchain_has_its_own_command_kept_in_step_with_the_store() {
    use std::os::unix::fs::MetadataExt;
    let env = store_with_real_go();
    assert_eq!(command_names(&env), ["go1.22.10", "go1.23.9", "go1.24.11"]);
    let shim = std::fs::metadata(env.shims_dir().join("go")).unwrap();
    for name in command_names(&env) {
        let m = std::fs::symlink_metadata(env.shims_dir().join(&name)).unwrap();
        assert!(
            m.is_file() && m.ino() == shim.ino(),
            "{name} is not a hardlink of the shim"
        );
    }
    // `go1.22.10 ...` runs that toolchain, whatever the pins, go.mod or GOTOOLCHAIN say.
    env.write("m/go.mod", "module example.com/m\n\ngo 1.24.0\n");
    env.write("m/.go-version", "1.23.9\n");
    let m = env.dir("m");
    for gotoolchain in [None, Some("go1.24.11"), Some("auto")] {
        let mut cmd = env.command(env.shims_dir().join("go1.22.10"), &m);
        cmd.arg("version");
        if let Some(v) = gotoolchain {
            cmd.env("GOTOOLCHAIN", v);
        }
        assert!(
            support::ok(&mut cmd).starts_with("go version go1.22.10 "),
            "GOTOOLCHAIN={gotoolchain:?}"
        );
    }
    // Forgetting a toolchain removes its command; adopting one adds it.
    env.gomig_ok(&["remove", GO_123]);
    assert_eq!(command_names(&env), ["go1.22.10", "go1.24.11"]);
    env.adopt(GO_121);
    assert_eq!(command_names(&env), ["go1.21.13", "go1.22.10", "go1.24.11"]);
    // A command whose toolchain is gone (copied elsewhere, say) says so and how to fix it.
    let stale = env.root().join("bin/go1.23.9");
    std::fs::create_dir_all(stale.parent().unwrap()).unwrap();
    std::fs::copy(env.shims_dir().join("go"), &stale).unwrap();
    let err = support::fails(env.command(&stale, &m).arg("version"));
    assert!(
        err.contains("Go 1.23.9 is not installed (requested by the command go1.23.9); run: gomig install 1.23.9"),
        "{err}"
    );
    // `gomig init` puts back a command someone deleted.
    std::fs::remove_file(env.shims_dir().join("go1.21.13")).unwrap();
    env.install_shims();
    assert_eq!(command_names(&env), ["go1.21.13", "go1.22.10", "go1.24.11"]);
}

#[test]
fn gos_own_switch_finds_gomigs_trees_through_the_commands_on_path() {
    let env = store_with_real_go();
    env.write("tc/go.mod", "module example.com/m\n\ngo 1.21.0\n\ntoolchain go1.23.9\n");
    let tc = env.dir("tc");
    // Real go1.21.13, not gomig's, with gomig's shims on PATH: its switch runs gomig's trees,
    // through the shim (GOTOOLCHAIN_INTERNAL_SWITCH_VERSION confirms which release runs).
    let real = go_dist(GO_121).join("bin/go");
    for (dir, gotoolchain, want) in [
        (&env.work, "go1.24.11+path", "go1.24.11"),
        (&tc, "path", "go1.23.9"),
        (&tc, "auto", "go1.23.9"),
    ] {
        let mut cmd = env.command(&real, dir);
        cmd.arg("version")
            .env("GOTOOLCHAIN", gotoolchain)
            .env("GOPROXY", "off")
            .env("GOMODCACHE", env.root().join("modcache"));
        let out = support::ok(&mut cmd);
        assert!(
            out.starts_with(&format!("go version {want} ")),
            "GOTOOLCHAIN={gotoolchain}: {out}"
        );
    }
    assert!(
        !env.root().join("modcache/golang.org/toolchain").exists(),
        "a toolchain was downloaded"
    );
}

#[test]
fn gomig_exec_passes_on_a_gotoolchain_that_never_downloads() {
    let env = store_with_real_go();
    let plain = env.dir("plain");
    for (setting, want) in [
        (None, "local"),
        (Some("local"), "local"),
        (Some("auto"), "path"),
        (Some("go1.24.11"), "go1.24.11+path"),
        (Some("go1.24.11+auto"), "go1.24.11+path"),
    ] {
        let mut cmd = env.gomig_in(&plain, &["exec", GO_122, "--", "go", "env", "GOTOOLCHAIN"]);
        if let Some(v) = setting {
            cmd.env("GOTOOLCHAIN", v);
        }
        assert_eq!(support::ok(&mut cmd).trim(), want, "GOTOOLCHAIN={setting:?}");
    }
    // The exec'd go1.22.10 switches as asked, to gomig's go1.24.11 command on PATH.
    let mut cmd = env.gomig_in(&plain, &["exec", GO_122, "--", "go", "version"]);
    cmd.env("GOTOOLCHAIN", "go1.24.11")
        .env("GOPROXY", "off")
        .env("GOMODCACHE", env.root().join("modcache"));
    assert!(support::ok(&mut cmd).starts_with("go version go1.24.11 "));
}
