//! Go's own toolchain selection (cmd/go/internal/toolchain/select.go), refereed by real Go:
//! for each go line, toolchain line and base, real `go version` runs with downloads disabled
//! (GOPROXY=off) and says which toolchain it would switch to ("go: downloading go1.22rc1") or
//! runs itself; gomig's resolver must ask for exactly that toolchain, or keep the base.

mod support;

use std::path::Path;
use std::process::Command;

use gomig::lookup::{EnvSnapshot, ResolveFailure, resolve_in, text_of};
use gomig::resolve::{Directive, ErrorKind, Resolution, Rule, Tool};
use support::{GO_121, GO_122, TestEnv, go_dist};

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
