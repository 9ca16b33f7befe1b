//! Output a person reads at a glance: colour on a terminal only (a real pty from `script`),
//! never with NO_COLOR or when piped; `gomig list` as an aligned table with a header;
//! `gomig log` one readable line per event; no spinner frame after a check's result; an
//! unknown `--cross` target a usage error.

mod support;

use std::path::Path;
use std::process::Output;

use support::*;

const ESC: &str = "\x1b[";

/// `gomig ARGS` on a real terminal: `script` gives it a pty for stdin, stdout and stderr.
fn on_terminal(env: &TestEnv, dir: &Path, args: &[&str], extra: &[(&str, &str)]) -> Output {
    let mut line = format!("'{}'", gomig_bin().display());
    for a in args {
        line.push_str(&format!(" '{a}'"));
    }
    let mut cmd = env.command("script", dir);
    cmd.args(["-qec", &line, "/dev/null"])
        .env("TERM", "xterm-256color")
        .env("SHELL", "/bin/sh");
    for (k, v) in extra {
        cmd.env(k, v);
    }
    run(&mut cmd)
}

/// A store with two real Go releases, go1.22.10 the default, and a switch in the log.
fn store() -> TestEnv {
    let env = TestEnv::new();
    env.adopt(GO_121);
    env.adopt(GO_122);
    env.gomig_ok(&["switch", GO_122]);
    env
}

const STATUS_COMMANDS: &[&[&str]] = &[&["list"], &["verify", "--all"], &["doctor"], &["audit"], &["log"]];

#[test]
fn status_is_coloured_on_a_terminal() {
    let env = store();
    for args in STATUS_COMMANDS {
        let out = on_terminal(&env, &env.work, args, &[]);
        let text = stdout(&out);
        assert!(
            text.contains(ESC),
            "{args:?} on a terminal has no colour:\n{}",
            describe(&out)
        );
    }
}

#[test]
fn no_colour_with_no_color_or_when_piped() {
    let env = store();
    for args in STATUS_COMMANDS {
        let out = on_terminal(&env, &env.work, args, &[("NO_COLOR", "1")]);
        assert!(!stdout(&out).is_empty(), "{args:?}:\n{}", describe(&out));
        assert!(
            !stdout(&out).contains(ESC),
            "{args:?} with NO_COLOR:\n{}",
            describe(&out)
        );
        let out = run(&mut env.gomig(args));
        assert!(!stdout(&out).is_empty(), "{args:?}:\n{}", describe(&out));
        assert!(!stdout(&out).contains(ESC), "{args:?} piped:\n{}", describe(&out));
    }
}

#[test]
fn list_is_an_aligned_table_with_a_header() {
    let env = store();
    env.fake_toolchain("go1.20.14");
    let text = env.gomig_ok(&["list"]);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    let header = lines[0];
    for word in ["VERSION", "SIZE", "PATH", "STATUS"] {
        assert!(header.contains(word), "{text}");
    }
    // Every column starts where its heading does.
    let version_at = header.find("VERSION").unwrap();
    let path_at = header.find("PATH").unwrap();
    let status_at = header.find("STATUS").unwrap();
    for (line, name) in lines[1..].iter().zip(["go1.20.14", "go1.21.13", "go1.22.10"]) {
        assert_eq!(line.find(name), Some(version_at), "{text}");
        assert_eq!(line.find('/'), Some(path_at), "{text}");
    }
    // A fake tree: no size, no marks; then the rollback target and the default (selected here).
    assert!(lines[1].trim_end().ends_with("go1.20.14"), "{text}");
    assert_eq!(lines[2].find("rollback, adopted"), Some(status_at), "{text}");
    assert_eq!(lines[3].find("default, here, adopted"), Some(status_at), "{text}");
    assert!(lines[3].starts_with('*') && !lines[2].starts_with('*'), "{text}");
    // Sizes right-aligned under SIZE.
    let size_end = header.find("SIZE").unwrap() + "SIZE".len();
    assert_eq!(&lines[2][size_end - 2..size_end], "MB", "{text}");
}

#[test]
fn log_is_one_readable_line_per_event() {
    let env = store();
    let text = env.gomig_ok(&["log"]);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() >= 3, "{text}");
    for line in &lines {
        // `2026-12-01 09:31:46 UTC  action   ok ...`
        let (date, rest) = line.split_at(23);
        assert!(date.ends_with(" UTC") && date.as_bytes()[10] == b' ', "{line:?}");
        assert!(rest.contains(" ok "), "{line:?}");
        assert!(!line.contains('{'), "not JSON: {line:?}");
    }
    let last = lines.last().unwrap();
    assert!(
        last.contains(" switch ") && last.contains("go1.21.13 -> go1.22.10"),
        "{text}"
    );
    // JSON stays under --json.
    for line in env.gomig_ok(&["log", "--json"]).lines() {
        serde_json::from_str::<serde_json::Value>(line).unwrap();
    }
}

#[test]
fn check_result_is_coloured_and_no_spinner_follows_it() {
    let env = TestEnv::new();
    env.adopt(GO_121);
    env.adopt(GO_122);
    env.write("m/go.mod", "module example.com/m\n\ngo 1.21\n");
    env.write(
        "m/m_test.go",
        "package m\n\nimport \"testing\"\n\nfunc TestOK(t *testing.T) {}\n",
    );
    let dir = env.work.join("m");
    let out = on_terminal(
        &env,
        &dir,
        &["check", "--from", GO_121, "--to", GO_122, "--cross", "none"],
        &[],
    );
    assert!(out.status.success(), "{}", describe(&out));
    let text = stdout(&out);
    let verdict = text
        .find("no regressions")
        .unwrap_or_else(|| panic!("{}", describe(&out)));
    // The verdict in green.
    assert!(text[..verdict].ends_with(&format!("{ESC}32m")), "{text:?}");
    let after = &text[verdict..];
    assert!(
        !after.contains("pkgs tested"),
        "a spinner frame after the result: {after:?}"
    );
}

#[test]
fn an_unknown_cross_target_is_a_usage_error() {
    let env = store();
    for cmd in ["check", "migrate"] {
        let out = run(&mut env.gomig(&[cmd, "--to", GO_122, "--cross", "bogus/x"]));
        assert_eq!(out.status.code(), Some(2), "{cmd}:\n{}", describe(&out));
        let err = stderr(&out);
        assert!(
            err.contains("bogus/x") && err.contains("GOOS") && err.contains("--help"),
            "{cmd}: {err}"
        );
    }
    // A known OS with an unknown architecture too; a real pair is accepted as before.
    let out = run(&mut env.gomig(&["check", "--to", GO_122, "--cross", "linux/bogus"]));
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(stderr(&out).contains("GOARCH"), "{}", describe(&out));
}

/// A check that cannot run (here: a go.mod Go rejects) ends migrate's stage 3 with an error,
/// not a report: its spinner stops before the stage's FAILED line, and no frame follows it.
#[test]
fn migrate_stops_the_spinner_of_a_check_that_could_not_run() {
    let env = store();
    env.gomig_ok(&["switch", GO_121]);
    env.write("m/go.mod", "module example.com/m\n\ngo 1.21\nbogus directive\n");
    env.write("m/m.go", "package m\n");
    let dir = env.work.join("m");
    let out = on_terminal(
        &env,
        &dir,
        &["migrate", "--to", GO_122, "--yes", "--cross", "none"],
        &[],
    );
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let text = stdout(&out);
    let stage = text
        .find("stage 3/4 check")
        .unwrap_or_else(|| panic!("{}", describe(&out)));
    let after = &text[stage..];
    assert!(
        after.contains("FAILED") && after.contains("unknown directive"),
        "{after:?}"
    );
    // Nothing drawn or erased after the result lines (an erase would eat the last of them)...
    assert!(
        !after.contains("pkgs tested") && !after.contains("\x1b[1A") && !after.contains("\x1b[2K"),
        "the spinner drew after the result: {after:?}"
    );
    // ...and the last frame was erased before the stage line, not written over by it.
    let before = &text[..stage];
    let frame = before.rfind("pkgs tested").unwrap_or(0);
    assert!(
        before.rfind("\x1b[2K").is_some_and(|c| c > frame),
        "stage line over a frame: {before:?}"
    );
}
