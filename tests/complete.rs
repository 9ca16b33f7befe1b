//! Completion of values, in the real bash, zsh and fish, with the scripts `gomig init` prints:
//! installed toolchains from the store, releases from the cached index (the download site is
//! stopped before anything is completed: a completion never downloads), shells, and files.
//!
//! bash: `_gomig` called as bash calls it (`COMP_WORDS`, `COMP_CWORD`); zsh: `_gomig` called
//! with `words`/`CURRENT` and `_describe` (what it hands the candidates to) replaced by one that
//! prints them; fish: `complete -C`.

#[path = "support/dlsite.rs"]
mod dlsite;
mod support;

use std::fs;
use std::process::Output;

use dlsite::{Release, Site};
use support::*;

/// A store with go1.22.10 and go1.21.13 (the default) installed, go1.20.14 adopted (a link to
/// a tree outside the store), the cached index of a site that served 1.25.1, 1.24.7 and
/// 1.26rc1 (stopped since, and named by `GOMIG_MIRROR`), and `pick/` holding `files/` and
/// `filler.txt`.
struct Fixture {
    env: TestEnv,
    mirror: String,
}

fn fixture() -> Fixture {
    let env = TestEnv::new();
    env.install_shims();
    env.fake_toolchain("go1.22.10");
    env.fake_toolchain("go1.21.13");
    env.set_default_link("go1.21.13");
    let outside = env.root().join("elsewhere/go1.20.14");
    fs::create_dir_all(outside.join("bin")).unwrap();
    std::os::unix::fs::symlink(&outside, env.gomig_home.join("toolchains/go1.20.14")).unwrap();
    let site = Site::start(vec![
        Release::new("1.25.1"),
        Release::new("1.24.7"),
        Release::new("1.26rc1"),
    ]);
    let mirror = site.url();
    env.gomig_ok(&["list-remote", "--mirror", &mirror]);
    site.stop();
    drop(site);
    env.dir("pick/files");
    env.write("pick/filler.txt", "x");
    Fixture { env, mirror }
}

/// What each completion case completes: a command line whose last word is the one under the
/// cursor (`""`: after a space).
const CASES: &[(&str, &[&str])] = &[
    ("switch", &["gomig", "switch", ""]),
    ("global", &["gomig", "global", "1.2"]),
    ("local", &["gomig", "local", ""]),
    ("shell", &["gomig", "shell", ""]),
    ("exec", &["gomig", "exec", ""]),
    ("uninstall", &["gomig", "uninstall", ""]),
    ("remove", &["gomig", "remove", ""]),
    ("verify", &["gomig", "verify", "go"]),
    ("check_to", &["gomig", "check", "--to", ""]),
    ("migrate_to", &["gomig", "migrate", "--to", ""]),
    ("install", &["gomig", "install", ""]),
    ("install_line", &["gomig", "install", "1.24"]),
    ("init", &["gomig", "init", ""]),
    ("add", &["gomig", "add", "pick/fi"]),
];

fn sh_words(words: &[&str]) -> String {
    words.iter().map(|w| format!("'{w}'")).collect::<Vec<_>>().join(" ")
}

/// The script for `shell` printing `case=cand1,cand2,...` for each case.
fn script(shell: &str) -> String {
    let mut s = String::new();
    match shell {
        "bash" => {
            s.push_str("eval \"$(\"$T_GOMIG\" init bash)\"\n");
            s.push_str(
                r#"comp() {
  local key=$1; shift
  COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
  COMPREPLY=()
  _gomig gomig "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
  local IFS=,; printf '%s=%s\n' "$key" "${COMPREPLY[*]}"
}
"#,
            );
            for (key, words) in CASES {
                s.push_str(&format!("comp {key} {}\n", sh_words(words)));
            }
        }
        "zsh" => {
            s.push_str("autoload -U compinit && compinit -u\neval \"$(\"$T_GOMIG\" init zsh)\"\n");
            s.push_str(
                r#"typeset -ga got
_describe() { local c; for c in ${(P)3}; do got+=("${c%%:*}${4:+/}"); done; }
comp() {
  local key=$1; shift
  words=("$@"); CURRENT=$#; got=()
  _gomig
  print -r -- "$key=${(j:,:)got}"
}
"#,
            );
            for (key, words) in CASES {
                s.push_str(&format!("comp {key} {}\n", sh_words(words)));
            }
        }
        _ => {
            s.push_str("$T_GOMIG init fish | source\n");
            for (key, words) in CASES {
                let line = words.join(" ");
                s.push_str(&format!(
                    "printf '%s=%s\\n' {key} (string join -- , (complete -C '{line}' | string replace -r '\\t.*' ''))\n"
                ));
            }
        }
    }
    s
}

fn run_shell(fx: &Fixture, shell: &str) -> Output {
    let script = script(shell);
    let mut cmd = fx.env.command(shell, &fx.env.work);
    match shell {
        "bash" => cmd.args(["--noprofile", "--norc", "-c", &script]),
        "zsh" => cmd.args(["-f", "-c", &script]),
        _ => cmd.args(["--no-config", "-c", &script]),
    };
    cmd.env("T_GOMIG", gomig_bin()).env("GOMIG_MIRROR", &fx.mirror);
    run(&mut cmd)
}

fn check_shell(shell: &str) {
    let fx = fixture();
    let out = run_shell(&fx, shell);
    assert!(out.status.success(), "{shell}:\n{}", describe(&out));
    let text = stdout(&out);
    let got = |key: &str| -> Vec<String> {
        let line = text
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{key}=")))
            .unwrap_or_else(|| panic!("{shell}: no {key}= line:\n{}", describe(&out)));
        line.split(',').filter(|s| !s.is_empty()).map(str::to_string).collect()
    };
    let has = |key: &str, want: &[&str]| {
        let g = got(key);
        for w in want {
            assert!(
                g.iter().any(|c| c == w),
                "{shell}: {key} should offer {w}: {g:?}\n{}",
                describe(&out)
            );
        }
    };
    let lacks = |key: &str, unwanted: &[&str]| {
        let g = got(key);
        for w in unwanted {
            assert!(!g.iter().any(|c| c == w), "{shell}: {key} should not offer {w}: {g:?}");
        }
    };
    has(
        "switch",
        &["go1.22.10", "go1.21.13", "go1.20.14", "1.22", "1.21", "latest"],
    );
    lacks("switch", &["system", "-", "1.25.1"]);
    has("global", &["1.22.10", "1.21.13", "1.22", "1.21", "1.20.14"]);
    lacks("global", &["go1.22.10", "latest"]);
    for key in ["local", "shell", "exec", "check_to"] {
        has(key, &["go1.22.10", "go1.21.13", "1.22", "latest", "system"]);
    }
    has("uninstall", &["go1.22.10", "go1.21.13"]);
    lacks("uninstall", &["go1.20.14", "latest", "1.22"]);
    has("remove", &["go1.20.14"]);
    lacks("remove", &["go1.22.10", "go1.21.13"]);
    has("verify", &["go1.22.10", "go1.21.13", "go1.20.14"]);
    lacks("verify", &["1.22", "latest"]);
    has("migrate_to", &["go1.22.10", "1.25.1", "1.24.7", "1.26rc1"]);
    has("install", &["latest", "1.25", "1.25.1", "1.24", "1.24.7", "1.26rc1"]);
    lacks("install", &["go1.22.10"]);
    assert_eq!(got("install_line"), ["1.24", "1.24.7"], "{shell}: install 1.24");
    has("init", &["bash", "zsh", "fish"]);
    let add = got("add");
    assert!(
        add.iter().any(|c| c == "pick/files/") && add.iter().any(|c| c == "pick/filler.txt"),
        "{shell}: add pick/fi should offer the directory and the file: {add:?}"
    );
}

#[test]
fn bash_completes_values() {
    check_shell("bash");
}

#[test]
fn zsh_completes_values() {
    check_shell("zsh");
}

#[test]
fn fish_completes_values() {
    check_shell("fish");
}

/// `gomig completions SHELL` prints the same completion code `init` includes.
#[test]
fn completions_matches_init() {
    let env = TestEnv::new();
    for shell in ["bash", "zsh", "fish"] {
        let init = env.gomig_ok(&["init", shell]);
        let completions = env.gomig_ok(&["completions", shell]);
        assert!(
            init.contains(&completions),
            "{shell}: init lacks the completions script:\n{completions}"
        );
        assert!(completions.contains(&*gomig_bin().to_string_lossy()), "{shell}");
    }
}
