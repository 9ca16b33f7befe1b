//! What gomig echoes from files is shown, never obeyed (control bytes escaped by one rule, in
//! the CLI and in the shim), and each message says what is really wrong: a path longer than
//! PATH_MAX, a toolchain permission hides, a relative HOME, GOMIG_HOME naming a file.

#[path = "support/dlsite.rs"]
mod dlsite;
#[path = "support/install_kit.rs"]
mod kit;
mod support;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::process::Output;

use support::*;

/// The error text of a failed command: it failed, and nothing raw reached the terminal.
fn error_text(out: &Output) -> String {
    assert!(!out.status.success(), "{}", describe(out));
    assert!(
        !out.stderr.iter().any(|&b| b == 0x1b || b == 0),
        "raw control bytes on stderr: {:?}",
        String::from_utf8_lossy(&out.stderr)
    );
    stderr(out)
}

#[test]
fn control_bytes_in_a_go_version_are_escaped_by_the_cli_and_the_shim() {
    let env = TestEnv::new();
    env.install_shims();
    env.fake_toolchain("go1.22.10");
    env.set_default_link("go1.22.10");
    for (dir, text, shown) in [
        ("nul", &b"1.22.10\0\n"[..], "\"1.22.10\\0\""),
        (
            "esc",
            b"1.22\x1b[2J\x1b]0;owned\x07\n",
            "\"1.22\\e[2J\\e]0;owned\\x07\"",
        ),
        ("c1", "1.22\u{9b}31m\n".as_bytes(), "\"1.22\\u{9b}31m\""),
        ("latin1", b"1.22\xff\n", "\"1.22\\xff\""),
    ] {
        let file = env.write(&format!("{dir}/.go-version"), text);
        let dir = file.parent().unwrap();
        for out in [
            run(&mut env.gomig_in(dir, &["current"])),
            run(&mut env.go_in(dir, &["version"])),
        ] {
            let err = error_text(&out);
            assert!(err.contains(shown), "want {shown}: {err}");
        }
        // gomig local prints the pin as read, escaped too (a byte that is not UTF-8 becomes
        // U+FFFD there, which a terminal does not obey either).
        if text.contains(&0xff) {
            continue;
        }
        let out = run(&mut env.gomig_in(dir, &["local"]));
        assert!(!out.stdout.iter().any(|&b| b == 0x1b || b == 0), "{}", describe(&out));
        assert!(stdout(&out).contains(shown.trim_matches('"')), "{}", describe(&out));
    }
}

#[test]
fn verify_shows_file_names_escaped() {
    let env = TestEnv::new();
    let dl = env.root().join("dl");
    fs::create_dir_all(&dl).unwrap();
    let archive = kit::mini_archive(GO_122, &dl);
    env.gomig_ok(&["install", "--archive", archive.to_str().unwrap()]);
    let tree = env.gomig_home.join(format!("toolchains/go{GO_122}"));
    fs::write(tree.join("bin/evil\x1b[2Jname"), "x").unwrap();
    let out = run(&mut env.gomig(&["verify", GO_122]));
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(!out.stdout.contains(&0x1b), "{}", describe(&out));
    assert!(stdout(&out).contains("bin/evil\\e[2Jname"), "{}", describe(&out));
}

#[test]
fn a_path_longer_than_path_max_is_named_as_such() {
    let env = TestEnv::new();
    env.install_shims();
    env.fake_toolchain("go1.22.10");
    env.set_default_link("go1.22.10");
    // bash keeps its own PWD, so it can cd past PATH_MAX one relative step at a time.
    let part = "d".repeat(200);
    let script = format!(
        "for i in $(seq 1 22); do mkdir {part} && cd {part} || exit 9; done; \"$T_GOMIG\" current; echo \"cli=$?\"; go version; echo \"shim=$?\"; \"$T_GOMIG\" local; echo \"local=$?\""
    );
    let mut cmd = env.command("bash", &env.work);
    cmd.args(["--noprofile", "--norc", "-c", &script])
        .env("T_GOMIG", gomig_bin());
    let out = run(&mut cmd);
    let text = stdout(&out);
    for key in ["cli=1", "shim=1", "local=1"] {
        assert!(text.contains(key), "{key}:\n{}", describe(&out));
    }
    let err = stderr(&out);
    assert_eq!(err.matches("longer than 4096 bytes (PATH_MAX)").count(), 3, "{err}");
    assert!(!err.contains("deleted") && !err.contains("unreadable"), "{err}");
}

#[test]
fn a_toolchain_hidden_by_permissions_is_not_called_not_installed() {
    let env = TestEnv::new();
    env.install_shims();
    env.fake_toolchain("go1.22.10");
    env.set_default_link("go1.22.10");
    let dir = env.dir("app");
    env.write("app/.go-version", "1.22.10\n");
    // Root reads through any mode: the store belongs to user 65534, who runs gomig.
    ok(std::process::Command::new("chown")
        .args(["-R", "65534:65534"])
        .arg(env.root()));
    // The toolchain's own directory, then the whole toolchains/ directory, closed to its owner.
    for hidden in ["toolchains/go1.22.10", "toolchains"] {
        let hidden = env.gomig_home.join(hidden);
        fs::set_permissions(&hidden, fs::Permissions::from_mode(0o600)).unwrap();
        let commands = [
            env.go_in(&dir, &["version"]),
            env.gomig_in(&dir, &["exec", "1.22.10", "--", "go", "version"]),
        ];
        for mut cmd in commands {
            std::os::unix::process::CommandExt::uid(&mut cmd, 65534);
            std::os::unix::process::CommandExt::gid(&mut cmd, 65534);
            let err = error_text(&run(&mut cmd));
            assert!(!err.contains("is not installed"), "{err}");
            assert!(
                err.contains("permission denied") && err.contains("1.22.10") && err.contains("chmod -R u+rwX"),
                "{}: {err}",
                hidden.display()
            );
        }
        fs::set_permissions(&hidden, fs::Permissions::from_mode(0o755)).unwrap();
    }
}

#[test]
fn a_relative_home_is_named_not_called_unset() {
    let env = TestEnv::new();
    env.install_shims();
    let shim = env.shims_dir().join("go");
    for home in ["rel", "~"] {
        let mut cli = env.gomig(&["list"]);
        let mut go = env.command(&shim, &env.work);
        for cmd in [&mut cli, &mut go] {
            cmd.env_remove("GOMIG_HOME").env("HOME", home);
            let err = error_text(&run(cmd));
            assert!(
                err.contains(&format!("HOME={home} is not an absolute path")) && !err.contains("not set"),
                "{err}"
            );
        }
    }
    // Unset is still unset.
    let mut cmd = env.gomig(&["list"]);
    cmd.env_remove("GOMIG_HOME").env_remove("HOME");
    assert!(error_text(&run(&mut cmd)).contains("HOME is not set"));
}

#[test]
fn gomig_home_naming_a_file_says_so() {
    let env = TestEnv::new();
    env.install_shims();
    let shim = env.shims_dir().join("go");
    let file = env.write("not-a-dir", "x");
    for args in [
        &["list"][..],
        &["current"],
        &["install", "1.22.10"],
        &["switch", "1.22.10"],
    ] {
        let mut cmd = env.gomig(args);
        cmd.env("GOMIG_HOME", &file);
        let err = error_text(&run(&mut cmd));
        assert!(
            err.contains(&*file.to_string_lossy()) && err.contains("is a file, not a directory"),
            "{args:?}: {err}"
        );
        assert!(
            !err.contains("permissions") && !err.contains("File exists"),
            "{args:?}: {err}"
        );
    }
    let mut go = env.command(&shim, &env.work);
    go.env("GOMIG_HOME", &file);
    let err = error_text(&run(&mut go));
    assert!(
        err.contains("is a file, not a directory") && !err.contains("permissions"),
        "{err}"
    );
}
