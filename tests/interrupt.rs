//! Ctrl-C (SIGINT) and SIGTERM in the middle of an install: the staging directory is gone the
//! moment gomig exits (not at the next command), the progress line is ended, nothing is
//! installed, and the exit status is 130 or 143. A real install, against a loopback site that
//! stalls half-way through the archive, with gomig's stderr on a pseudo-terminal so that it draws
//! its progress bar.

#[path = "support/dlsite.rs"]
mod dlsite;
#[path = "support/install_kit.rs"]
mod kit;
mod support;

use std::fs::File;
use std::io::Read;
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::Stdio;
use std::time::{Duration, Instant};

use dlsite::Fault;
use kit::*;
use support::*;

/// A pseudo-terminal: (master, slave), 24x120.
fn pty() -> (File, OwnedFd) {
    let (mut master, mut slave) = (-1, -1);
    let size = libc::winsize {
        ws_row: 24,
        ws_col: 120,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: openpty writes two descriptors it opened, which are then owned here.
    let rc = unsafe { libc::openpty(&mut master, &mut slave, std::ptr::null_mut(), std::ptr::null(), &size) };
    assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
    unsafe { (File::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) }
}

/// `text` without terminal escape sequences (`ESC [ ... final`).
fn without_escapes(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.peek() == Some(&'[') {
                chars.next();
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

fn waits_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "gave up waiting for {what} after {limit:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn an_interrupted_install_leaves_nothing(signal: i32, name: &str, status: i32) {
    let m = mini_site();
    m.site.fault(m.file.as_str(), Fault::StallAfter(m.size / 2));
    let env = TestEnv::new();
    let (mut master, slave) = pty();
    let mut cmd = gomig_site(&env, &m.site, &["install", GO_122]);
    cmd.env("GOMIG_HTTP_TIMEOUT_MS", "60000")
        .env("TERM", "xterm")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(slave));
    let mut child = cmd.spawn().unwrap();
    // The Command holds its copy of the terminal until dropped: the reader sees the end only then.
    drop(cmd);
    let screen = std::thread::spawn(move || {
        let mut out = Vec::new();
        // Ends with EIO once gomig, the last holder of the terminal, is gone.
        let _ = master.read_to_end(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    });

    let staged = || find_named(&env.gomig_home.join("toolchains"), "VERSION");
    waits_for("the tree to be half unpacked", Duration::from_secs(60), || {
        !staged().is_empty()
    });
    let version_file = staged()[0].clone();
    let staging = version_file
        .ancestors()
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(".staging-"))
        })
        .unwrap_or_else(|| panic!("{} is not in a staging directory", version_file.display()))
        .to_path_buf();
    // SAFETY: a signal to the child this test started.
    assert_eq!(unsafe { libc::kill(child.id() as i32, signal) }, 0);
    let start = Instant::now();
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "gomig did not stop on {name}"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    // Right after exit, before any other gomig command could clean up.
    let left = find_named(&env.gomig_home, ".staging-");
    let screen = screen.join().unwrap();
    eprintln!("--- the terminal shows:\n{screen:?}");
    assert_eq!(exit.code(), Some(status), "{exit:?}; the terminal shows:\n{screen}");
    assert!(left.is_empty(), "left behind: {left:?}");
    assert!(!staging.exists());

    assert!(
        screen.contains(GO_122) && screen.contains('['),
        "the progress bar was drawn:\n{screen:?}"
    );
    assert!(screen.ends_with('\n'), "the terminal's line is ended:\n{screen:?}");
    let last_line = screen.trim_end().rsplit('\n').next().unwrap();
    let last_line = without_escapes(last_line);
    let shown = last_line.rsplit('\r').next().unwrap().to_string();
    assert!(
        shown.starts_with(&format!(
            "error: interrupted by {name}; removed the unfinished {}",
            staging.display()
        )),
        "the message starts a line of its own and names what was removed:\n{screen:?}"
    );
    assert!(shown.ends_with("nothing was put in place"), "{shown}");
    assert_nothing_installed(&env);
}

#[test]
fn ctrl_c_during_an_install_removes_the_staging_directory_at_once_and_exits_130() {
    an_interrupted_install_leaves_nothing(libc::SIGINT, "SIGINT", 130);
}

#[test]
fn sigterm_during_an_install_removes_the_staging_directory_at_once_and_exits_143() {
    an_interrupted_install_leaves_nothing(libc::SIGTERM, "SIGTERM", 143);
}

/// Runs `gomig install` held at the transaction's `step`, sends it `signal`, and returns its
/// exit and stderr.
fn interrupted_at(env: &TestEnv, m: &MiniSite, step: &str, signal: i32) -> (std::process::ExitStatus, String) {
    let pause = env.root().join(format!("pause-{}", step.replace(':', "-")));
    let child = gomig_site(env, &m.site, &["install", GO_122])
        .env("GOMIG_TEST_PAUSE_AT", step)
        .env("GOMIG_TEST_PAUSE_FILE", &pause)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    waits_for(step, Duration::from_secs(60), || {
        std::fs::read_to_string(&pause).is_ok_and(|p| !p.is_empty())
    });
    // SAFETY: a signal to the child this test started.
    assert_eq!(unsafe { libc::kill(child.id() as i32, signal) }, 0);
    let out = child.wait_with_output().unwrap();
    let _ = std::fs::remove_file(&pause);
    (out.status, String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn ctrl_c_before_the_tree_is_put_in_place_leaves_nothing_installed_and_after_it_leaves_it_whole() {
    let m = mini_site();
    for step in ["install:before-manifest", "install:before-rename"] {
        let env = TestEnv::new();
        let (exit, err) = interrupted_at(&env, &m, step, libc::SIGINT);
        assert_eq!(exit.code(), Some(130), "{step}: {err}");
        assert!(err.contains("nothing was put in place"), "{step}: {err}");
        let entries = toolchain_entries(&env);
        assert!(entries.is_empty(), "{step}: no tree and no staging left: {entries:?}");
        // (Past the manifest, its record stays, as after a kill -9: the next install rewrites it.)
        env.gomig_ok(&["list"]);
        ok(&mut gomig_site(&env, &m.site, &["install", GO_122]));
        env.gomig_ok(&["verify", "1.22.10"]);
    }
    // Renamed into place already: the cleaner removes nothing of it, and it is whole.
    let env = TestEnv::new();
    let (exit, err) = interrupted_at(&env, &m, "install:before-log", libc::SIGINT);
    assert_eq!(exit.code(), Some(130), "{err}");
    assert!(!err.contains("removed"), "{err}");
    env.gomig_ok(&["verify", "1.22.10"]);
}
