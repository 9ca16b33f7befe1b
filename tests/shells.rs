//! Shell integration, end to end: `gomig init` evaluated by the real bash, zsh and fish
//! (non-interactive, no startup files), then `go` through the shims, `gomig shell`, and the
//! completions, all against real Go toolchains in an isolated store.

mod support;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use support::{GO_121, GO_122, TestEnv, describe, gomig_bin, run, stderr, stdout};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sh {
    Bash,
    Zsh,
    Fish,
}

impl Sh {
    fn name(self) -> &'static str {
        match self {
            Sh::Bash => "bash",
            Sh::Zsh => "zsh",
            Sh::Fish => "fish",
        }
    }

    /// The shell run non-interactively, with no startup files, on `script`.
    fn command(self, env: &TestEnv, dir: &Path, script: &str) -> Command {
        let mut cmd = env.command(self.name(), dir);
        match self {
            Sh::Bash => cmd.args(["--noprofile", "--norc", "-c", script]),
            Sh::Zsh => cmd.args(["-f", "-c", script]),
            Sh::Fish => cmd.args(["--no-config", "-c", script]),
        };
        cmd
    }

    /// Evaluates `gomig init` (run as `$T_GOMIG`) in the current shell, appending anything
    /// either step writes on stderr to `$T_OUT/init.err`.
    fn eval_init(self) -> String {
        match self {
            Sh::Fish => "$T_GOMIG init fish 2>>$T_OUT/init.err | source 2>>$T_OUT/init.err\n".to_string(),
            sh => format!(
                "eval \"$(\"$T_GOMIG\" init {0} 2>>\"$T_OUT/init.err\")\" 2>>\"$T_OUT/init.err\"\n",
                sh.name()
            ),
        }
    }
}

const SHELLS: [Sh; 3] = [Sh::Bash, Sh::Zsh, Sh::Fish];

/// A store with Go 1.21.13 (the default) and 1.22.10, a directory pinned to 1.22.10 by
/// `.go-version`, and one with no pins.
struct Fixture {
    env: TestEnv,
    pinned: PathBuf,
    plain: PathBuf,
    /// Where scripts leave stderr captures (`$T_OUT`).
    out: PathBuf,
}

impl Fixture {
    fn new() -> Fixture {
        Fixture::with_env(TestEnv::new())
    }

    /// `env` may have had its `gomig_home` moved before anything was created in it.
    fn with_env(env: TestEnv) -> Fixture {
        env.adopt(GO_121);
        env.adopt(GO_122);
        env.gomig_ok(&["switch", GO_121]);
        env.write("pinned/.go-version", format!("{GO_122}\n"));
        let pinned = env.dir("pinned");
        let plain = env.dir("plain");
        let out = env.root().join("out");
        fs::create_dir_all(&out).unwrap();
        Fixture {
            env,
            pinned,
            plain,
            out,
        }
    }

    /// `shell` on `script`, with `gomig` run as `gomig_exe`. PATH starts as `path` (by
    /// default the system directories, without the shims: `gomig init` must add them).
    fn shell_with(&self, shell: Sh, script: &str, gomig_exe: &Path, path: Option<&str>) -> Output {
        let mut cmd = shell.command(&self.env, &self.env.work, script);
        cmd.env("PATH", path.unwrap_or(&self.env.base_path))
            .env("T_GOMIG", gomig_exe)
            .env("T_PINNED", &self.pinned)
            .env("T_PLAIN", &self.plain)
            .env("T_OUT", &self.out);
        run(&mut cmd)
    }

    fn shell(&self, shell: Sh, script: &str) -> Output {
        self.shell_with(shell, script, &gomig_bin(), None)
    }

    /// A capture the script wrote under `$T_OUT` ("" if it wrote none).
    fn captured(&self, name: &str) -> String {
        fs::read_to_string(self.out.join(name)).unwrap_or_default()
    }
}

/// The `key=value` lines a script printed (each key once).
fn report(out: &Output) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    for line in stdout(out).lines() {
        if let Some((k, v)) = line.split_once('=') {
            let old = map.insert(k.to_string(), v.to_string());
            assert!(old.is_none(), "key {k} printed twice:\n{}", describe(out));
        }
    }
    map
}

fn get<'a>(map: &'a BTreeMap<String, String>, key: &str, out: &Output) -> &'a str {
    map.get(key)
        .unwrap_or_else(|| panic!("the script printed no {key}=...:\n{}", describe(out)))
}

/// Asserts that `line` (output of `go version`) names Go `version`.
fn assert_go(line: &str, version: &str, what: &str, out: &Output) {
    assert!(
        line.starts_with(&format!("go version go{version} ")),
        "{what}: expected go{version}, got {line:?}\n{}",
        describe(out)
    );
}

/// Asserts that `path` has `shims` first and nowhere else.
fn assert_shims_first_once(path: &str, shims: &Path, out: &Output) {
    let shims = shims.to_str().unwrap();
    let entries: Vec<&str> = path.split(':').collect();
    assert_eq!(
        entries.first(),
        Some(&shims),
        "shims not first on PATH {path:?}\n{}",
        describe(out)
    );
    assert_eq!(
        entries.iter().filter(|e| **e == shims).count(),
        1,
        "shims not on PATH exactly once: {path:?}\n{}",
        describe(out)
    );
}

/// The scenario every shell goes through, written in bash/zsh syntax.
fn posix_script(shell: Sh) -> String {
    let mut s = String::new();
    if shell == Sh::Zsh {
        // Completions are only registered where compinit is loaded.
        s.push_str("autoload -U compinit && compinit -u\n");
    }
    s.push_str(&shell.eval_init());
    s.push_str(&shell.eval_init());
    s.push_str(
        r#"show() { printf '%s=%s\n' "$1" "$2"; }
showvar() { show "$1" "${GOMIG_GO_VERSION-<unset>}"; }
show path "$PATH"
show gomig_shell "$GOMIG_SHELL"
cd "$T_PINNED" && show pinned "$(go version)"
cd "$T_PLAIN" && show plain "$(go version)"
gomig shell 1.22.10 2>"$T_OUT/shell.err"; show shell_rc $?
showvar shell_var
show shell_go "$(go version)"
gomig shell 9.9.9 2>"$T_OUT/bad.err"; show bad_rc $?
showvar bad_var
show bad_go "$(go version)"
gomig shell --unset 2>"$T_OUT/unset.err"; show unset_rc $?
showvar unset_var
show unset_go "$(go version)"
cd "$T_PINNED" && gomig shell 1.21.13 2>/dev/null; show override_rc $?
show override_go "$(go version)"
gomig shell --unset; cd "$T_PLAIN"
gomig -q shell 1.22.10 2>"$T_OUT/quiet.err"; show quiet_rc $?
showvar quiet_var
gomig shell --unset
show help "$(gomig shell --help | head -n 1)"
show passthrough "$(gomig --version)"
"#,
    );
    match shell {
        Sh::Bash => s.push_str(
            r#"COMP_WORDS=(gomig sh); COMP_CWORD=1; COMP_LINE='gomig sh'; COMP_POINT=${#COMP_LINE}
_gomig gomig sh gomig
show complete "${COMPREPLY[*]}"
show complete_spec "$(complete -p gomig)"
"#,
        ),
        Sh::Zsh => s.push_str("show complete \"${_comps[gomig]-}\"\n"),
        Sh::Fish => unreachable!(),
    }
    s
}

/// The same scenario in fish.
fn fish_script() -> String {
    let mut s = Sh::Fish.eval_init();
    s.push_str(&Sh::Fish.eval_init());
    s.push_str(
        r#"function show; printf '%s=%s\n' $argv[1] "$argv[2]"; end
function showvar
    if set -q GOMIG_GO_VERSION; show $argv[1] $GOMIG_GO_VERSION; else; show $argv[1] '<unset>'; end
end
show path (string join : $PATH)
show gomig_shell $GOMIG_SHELL
cd $T_PINNED; and show pinned (go version)
cd $T_PLAIN; and show plain (go version)
gomig shell 1.22.10 2>$T_OUT/shell.err; show shell_rc $status
showvar shell_var
show shell_go (go version)
gomig shell 9.9.9 2>$T_OUT/bad.err; show bad_rc $status
showvar bad_var
show bad_go (go version)
gomig shell --unset 2>$T_OUT/unset.err; show unset_rc $status
showvar unset_var
show unset_go (go version)
cd $T_PINNED; and gomig shell 1.21.13 2>/dev/null; show override_rc $status
show override_go (go version)
gomig shell --unset; cd $T_PLAIN
gomig -q shell 1.22.10 2>$T_OUT/quiet.err; show quiet_rc $status
showvar quiet_var
gomig shell --unset
show help (gomig shell --help | head -n 1)
show passthrough (gomig --version)
show complete (string join , (complete -C 'gomig sh' | string replace -r '\t.*' ''))
"#,
    );
    s
}

/// Runs the whole scenario in `shell` and checks every step.
fn check_integration(fx: &Fixture, shell: Sh, gomig_exe: &Path) {
    let script = match shell {
        Sh::Fish => fish_script(),
        sh => posix_script(sh),
    };
    let out = fx.shell_with(shell, &script, gomig_exe, None);
    assert!(
        out.status.success(),
        "{} scenario failed:\n{}",
        shell.name(),
        describe(&out)
    );
    let r = report(&out);
    let g = |k: &str| get(&r, k, &out);
    let ctx = |what: &str| format!("{}: {what}", shell.name());

    assert_eq!(fx.captured("init.err"), "", "{}", ctx("gomig init wrote to stderr"));
    assert_shims_first_once(g("path"), &fx.env.shims_dir(), &out);
    assert_eq!(g("gomig_shell"), shell.name());

    assert_go(g("pinned"), GO_122, &ctx(".go-version dir"), &out);
    assert_go(g("plain"), GO_121, &ctx("unpinned dir uses the default"), &out);

    assert_eq!(g("shell_rc"), "0", "{}", ctx("gomig shell 1.22.10"));
    assert_eq!(g("shell_var"), GO_122);
    assert_go(g("shell_go"), GO_122, &ctx("after gomig shell 1.22.10"), &out);
    let note = fx.captured("shell.err");
    assert!(
        note.contains("go1.22.10"),
        "{}: {note:?}",
        ctx("gomig shell should say what it chose")
    );

    assert_eq!(g("bad_rc"), "1", "{}", ctx("gomig shell 9.9.9 must fail"));
    let bad = fx.captured("bad.err");
    assert!(
        bad.contains("9.9.9") && bad.contains("not installed"),
        "{}: {bad:?}",
        ctx("gomig shell 9.9.9 should explain")
    );
    assert_eq!(
        g("bad_var"),
        GO_122,
        "{}",
        ctx("a failed gomig shell must leave the shell alone")
    );
    assert_go(g("bad_go"), GO_122, &ctx("after a failed gomig shell"), &out);

    assert_eq!(g("unset_rc"), "0");
    assert_eq!(g("unset_var"), "<unset>");
    assert_go(g("unset_go"), GO_121, &ctx("after gomig shell --unset"), &out);

    assert_eq!(g("override_rc"), "0");
    assert_go(g("override_go"), GO_121, &ctx("gomig shell beats .go-version"), &out);

    assert_eq!(
        g("quiet_rc"),
        "0",
        "{}",
        ctx("gomig -q shell goes through the function")
    );
    assert_eq!(
        g("quiet_var"),
        GO_122,
        "{}",
        ctx("gomig -q shell must change the shell")
    );
    assert_eq!(fx.captured("quiet.err"), "", "{}", ctx("gomig -q shell prints no note"));

    assert!(
        g("help").starts_with("Use a Go version"),
        "{}: {:?}",
        ctx("gomig shell --help"),
        g("help")
    );
    assert!(g("passthrough").starts_with("gomig "), "{}", ctx("gomig --version"));

    let complete = g("complete");
    match shell {
        Sh::Bash => {
            assert!(
                complete.split(' ').any(|w| w == "shell"),
                "bash completion of `gomig sh`: {complete:?}"
            );
            assert!(g("complete_spec").contains("-F _gomig"), "bash: {}", g("complete_spec"));
        }
        Sh::Zsh => assert_eq!(complete, "_gomig", "zsh: completion not registered"),
        Sh::Fish => {
            assert!(
                complete.split(',').any(|w| w == "shell"),
                "fish completion of `gomig sh`: {complete:?}"
            )
        }
    }
}

#[test]
fn bash_integration() {
    let fx = Fixture::new();
    check_integration(&fx, Sh::Bash, &gomig_bin());
}

#[test]
fn zsh_integration() {
    let fx = Fixture::new();
    check_integration(&fx, Sh::Zsh, &gomig_bin());
}

#[test]
fn fish_integration() {
    let fx = Fixture::new();
    check_integration(&fx, Sh::Fish, &gomig_bin());
}

/// A name that is hard to quote: a space, both quotes, `$`, a backquote, a backslash, a glob.
const AWKWARD: &str = "it's a \"dir\" $HOME `x` \\ *";

/// The store and the gomig executable both under awkward paths, in every shell.
#[test]
fn awkward_paths() {
    let mut env = TestEnv::new();
    env.gomig_home = env.root().join(format!("gomig {AWKWARD}"));
    let fx = Fixture::with_env(env);
    assert!(
        fx.env.gomig_home.join("toolchains").is_dir(),
        "the store is not under the awkward path"
    );
    let bin_dir = fx.env.root().join(format!("bin {AWKWARD}"));
    fs::create_dir_all(&bin_dir).unwrap();
    let exe = bin_dir.join("gomig");
    fs::hard_link(gomig_bin(), &exe)
        .or_else(|_| fs::copy(gomig_bin(), &exe).map(|_| ()))
        .unwrap();
    for shell in SHELLS {
        for f in ["init.err", "shell.err", "bad.err", "unset.err", "quiet.err"] {
            let _ = fs::remove_file(fx.out.join(f));
        }
        check_integration(&fx, shell, &exe);
    }
}

/// Shims already on PATH, but behind another Go (a nested shell whose startup file put
/// something first) or more than once: init moves them to the front, exactly once, and keeps
/// the rest of PATH in order.
#[test]
fn init_moves_shims_to_the_front() {
    let fx = Fixture::new();
    let shims = fx.env.shims_dir();
    let shims = shims.to_str().unwrap();
    let other = fx.env.dir("othergo/bin");
    let other = other.to_str().unwrap();
    let start = format!("{other}:{shims}:/usr/bin:{shims}:/bin");
    let want = format!("{shims}:{other}:/usr/bin:/bin");
    for shell in SHELLS {
        let script = format!(
            "{}{}{}",
            shell.eval_init(),
            shell.eval_init(),
            match shell {
                Sh::Fish => "printf 'path=%s\\n' (string join : $PATH)\n",
                _ => "printf 'path=%s\\n' \"$PATH\"\n",
            }
        );
        let out = fx.shell_with(shell, &script, &gomig_bin(), Some(&start));
        assert!(out.status.success(), "{}:\n{}", shell.name(), describe(&out));
        assert_eq!(
            get(&report(&out), "path", &out),
            want,
            "{}:\n{}",
            shell.name(),
            describe(&out)
        );
    }
}

/// Shims at the front already (a nested shell): PATH is left exactly as it was.
#[test]
fn init_leaves_a_good_path_alone() {
    let fx = Fixture::new();
    let start = fx.env.path_with_shims();
    for shell in SHELLS {
        let script = format!(
            "{}{}",
            shell.eval_init(),
            match shell {
                Sh::Fish => "printf 'path=%s\\n' (string join : $PATH)\n",
                _ => "printf 'path=%s\\n' \"$PATH\"\n",
            }
        );
        let out = fx.shell_with(shell, &script, &gomig_bin(), Some(&start));
        assert!(out.status.success(), "{}:\n{}", shell.name(), describe(&out));
        assert_eq!(get(&report(&out), "path", &out), start, "{}", shell.name());
    }
}

/// zsh without compinit: init skips the completions quietly, the rest works.
#[test]
fn zsh_without_compinit() {
    let fx = Fixture::new();
    let script = format!(
        "{}cd \"$T_PINNED\" && gomig shell 1.21.13 2>/dev/null && printf 'go=%s\\n' \"$(go version)\"\n",
        Sh::Zsh.eval_init()
    );
    let out = fx.shell(Sh::Zsh, &script);
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(fx.captured("init.err"), "");
    assert_go(get(&report(&out), "go", &out), GO_121, "zsh without compinit", &out);
}

/// `gomig completions SHELL` loads cleanly on its own.
#[test]
fn completions_load() {
    let fx = Fixture::new();
    for (shell, script) in [
        (
            Sh::Bash,
            "source <(\"$T_GOMIG\" completions bash) && complete -p gomig >/dev/null",
        ),
        (
            Sh::Zsh,
            "autoload -U compinit && compinit -u && eval \"$(\"$T_GOMIG\" completions zsh)\" && [[ ${_comps[gomig]} == _gomig ]]",
        ),
        (
            Sh::Fish,
            "$T_GOMIG completions fish | source; and complete -C 'gomig sw' | string match -q 'switch*'",
        ),
    ] {
        let out = fx.shell(shell, script);
        assert!(out.status.success(), "{}:\n{}", shell.name(), describe(&out));
        assert_eq!(stderr(&out), "", "{}", shell.name());
    }
}

/// Without the integration `gomig shell` cannot change anything: it says so and exits 1,
/// run directly or from a shell that never evaluated `gomig init`.
#[test]
fn shell_without_integration_fails_helpfully() {
    let fx = Fixture::new();
    let check = |out: &Output, what: &str| {
        assert_eq!(out.status.code(), Some(1), "{what} should exit 1:\n{}", describe(out));
        let err = stderr(out);
        assert!(err.contains("gomig init"), "{what} should point at gomig init: {err:?}");
        assert!(
            !stdout(out).contains("GOMIG_GO_VERSION"),
            "{what} printed shell code:\n{}",
            describe(out)
        );
    };
    check(
        &run(&mut fx.env.gomig(&["shell", GO_122])),
        "gomig shell (plain binary)",
    );
    check(
        &run(&mut fx.env.gomig(&["shell", "--unset"])),
        "gomig shell --unset (plain binary)",
    );

    let bin_dir = gomig_bin().parent().unwrap().to_path_buf();
    let path = format!("{}:{}", fx.env.base_path, bin_dir.display());
    for shell in SHELLS {
        let script = match shell {
            Sh::Fish => "gomig shell 1.22.10; set -l rc $status; set -q GOMIG_GO_VERSION; and exit 9; exit $rc",
            _ => "gomig shell 1.22.10; rc=$?; [ -z \"${GOMIG_GO_VERSION+x}\" ] || exit 9; exit $rc",
        };
        let out = fx.shell_with(shell, script, &gomig_bin(), Some(&path));
        check(&out, &format!("gomig shell in {} without init", shell.name()));
    }
}
