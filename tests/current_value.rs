//! The no-argument forms print the value in effect (`gomig local`, `gomig switch`/`global`,
//! `gomig shell`), exit 0, and say how to set one when there is none; and `v1.22.10` is
//! accepted where a version is.

mod support;

use std::fs;

use support::*;

#[test]
fn switch_without_a_version_prints_the_default() {
    let env = TestEnv::new();
    // No store at all: nothing is created, and the note says what to do.
    for cmd in ["switch", "global"] {
        let out = run(&mut env.gomig(&[cmd]));
        assert_eq!(out.status.code(), Some(0), "{cmd}:\n{}", describe(&out));
        assert_eq!(stdout(&out), "", "{cmd}");
        let err = stderr(&out);
        assert!(
            err.contains("no global default") && err.contains("gomig install latest"),
            "{cmd}: {err:?}"
        );
    }
    assert!(!env.gomig_home.exists(), "gomig switch created the store");

    // Installed but no default: names what is there.
    env.fake_toolchain("go1.22.10");
    env.fake_toolchain("go1.21.13");
    let out = run(&mut env.gomig(&["switch"]));
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert_eq!(stdout(&out), "");
    let err = stderr(&out);
    assert!(
        err.contains("gomig switch VERSION") && err.contains("go1.22.10"),
        "{err:?}"
    );

    env.set_default_link("go1.21.13");
    for cmd in ["switch", "global"] {
        assert_eq!(env.gomig_ok(&[cmd]), "go1.21.13\n", "{cmd}");
    }
}

#[test]
fn local_without_a_version_prints_the_pin_in_effect() {
    let env = TestEnv::new();
    env.fake_toolchain("go1.22.10");
    env.set_default_link("go1.22.10");
    let sub = env.dir("app/sub");

    let out = run(&mut env.gomig_in(&sub, &["local"]));
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert_eq!(stdout(&out), "");
    let err = stderr(&out);
    assert!(
        err.contains("no .go-version") && err.contains("gomig local VERSION"),
        "{err:?}"
    );

    // A parent's pin applies here: printed with its file.
    let file = env.write("app/.go-version", "1.22\n");
    let out = run(&mut env.gomig_in(&sub, &["local"]));
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let line = stdout(&out);
    assert!(
        line.starts_with("1.22 ") && line.contains(&*file.to_string_lossy()) && line.contains("go1.22.10"),
        "{line:?}"
    );

    // gomig shell's variable comes first: noted, the file still printed.
    let mut cmd = env.gomig_in(&sub, &["local"]);
    cmd.env("GOMIG_GO_VERSION", "1.22.10");
    let out = run(&mut cmd);
    assert!(stdout(&out).starts_with("1.22 "), "{}", describe(&out));
    assert!(stderr(&out).contains("GOMIG_GO_VERSION=1.22.10"), "{}", describe(&out));

    // A pin nothing satisfies is still the pin: printed, with the shim's complaint.
    fs::write(&file, "9.9.9\n").unwrap();
    let out = run(&mut env.gomig_in(&sub, &["local"]));
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert!(
        stdout(&out).contains("9.9.9") && stdout(&out).contains(&*file.to_string_lossy()),
        "{}",
        describe(&out)
    );
    assert!(stderr(&out).contains("not installed"), "{}", describe(&out));
}

#[test]
fn shell_without_a_version_prints_this_shells_pin() {
    let env = TestEnv::new();
    env.fake_toolchain("go1.22.10");
    env.set_default_link("go1.22.10");

    // The plain binary: the variable from its environment.
    let out = run(&mut env.gomig(&["shell"]));
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert_eq!(stdout(&out), "");
    assert!(stderr(&out).contains("not set"), "{}", describe(&out));
    let mut cmd = env.gomig(&["shell"]);
    cmd.env("GOMIG_GO_VERSION", "1.22");
    let out = run(&mut cmd);
    assert_eq!(stdout(&out), "1.22\n", "{}", describe(&out));

    // Through the shell function, which evaluates what gomig shell prints.
    for (shell, script) in [
        (
            "bash",
            "eval \"$(\"$T_GOMIG\" init bash)\"; gomig shell; echo \"none_rc=$?\"; gomig shell 1.22.10 2>/dev/null; echo \"value=$(gomig shell 2>/dev/null)\"; gomig shell --unset; echo \"after=$(gomig shell 2>/dev/null)\"",
        ),
        (
            "zsh",
            "eval \"$(\"$T_GOMIG\" init zsh)\"; gomig shell; echo \"none_rc=$?\"; gomig shell 1.22.10 2>/dev/null; echo \"value=$(gomig shell 2>/dev/null)\"; gomig shell --unset; echo \"after=$(gomig shell 2>/dev/null)\"",
        ),
        (
            "fish",
            "$T_GOMIG init fish | source; gomig shell; echo none_rc=$status; gomig shell 1.22.10 2>/dev/null; echo value=\"$(gomig shell 2>/dev/null)\"; gomig shell --unset; echo after=\"$(gomig shell 2>/dev/null)\"",
        ),
    ] {
        let mut cmd = env.command(shell, &env.work);
        match shell {
            "bash" => cmd.args(["--noprofile", "--norc", "-c", script]),
            "zsh" => cmd.args(["-f", "-c", script]),
            _ => cmd.args(["--no-config", "-c", script]),
        };
        cmd.env("T_GOMIG", gomig_bin()).env("PATH", &env.base_path);
        let out = run(&mut cmd);
        assert!(out.status.success(), "{shell}:\n{}", describe(&out));
        let text = stdout(&out);
        assert!(text.contains("none_rc=0\n"), "{shell}:\n{}", describe(&out));
        assert!(text.contains("value=1.22.10\n"), "{shell}:\n{}", describe(&out));
        assert!(text.contains("after=\n"), "{shell}:\n{}", describe(&out));
        assert!(stderr(&out).contains("not set"), "{shell}:\n{}", describe(&out));
    }
}

/// `v1.22.10` is a spelling of go1.22.10 for switch, local, shell and exec.
#[test]
fn v_prefixed_versions_are_accepted() {
    let env = TestEnv::new();
    env.adopt(GO_121);
    env.adopt(GO_122);
    env.gomig_ok(&["switch", "v1.21.13"]);
    assert_eq!(env.default_name(), "go1.21.13");
    env.gomig_ok(&["global", "v1.22.10"]);
    assert_eq!(env.default_name(), "go1.22.10");

    let dir = env.dir("pinned");
    let out = run(&mut env.gomig_in(&dir, &["local", "v1.21.13"]));
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(fs::read_to_string(dir.join(".go-version")).unwrap(), "1.21.13\n");

    let mut cmd = env.gomig(&["shell", "v1.21.13"]);
    cmd.env("GOMIG_SHELL", "bash");
    let out = run(&mut cmd);
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(stdout(&out), "export GOMIG_GO_VERSION='1.21.13'\n");

    let out = env.gomig_ok(&["exec", "v1.21.13", "--", "go", "version"]);
    assert!(out.starts_with("go version go1.21.13 "), "{out:?}");
}
