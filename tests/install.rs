//! `gomig install` from a loopback download site serving real Go archives (tests/support/
//! dlsite.rs): what gets installed, what it runs, concurrency, kill -9, mirrors, the shim's
//! auto-install and the progress output. Faults and hostile archives: tests/install_faults.rs.

#[path = "support/dlsite.rs"]
mod dlsite;
#[path = "support/install_kit.rs"]
mod kit;
mod support;

use std::fs;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use dlsite::{Fault, Site};
use kit::*;
use support::*;

#[test]
fn an_exact_version_installs_from_the_site_and_the_shim_runs_it() {
    let site = Site::start(vec![real_release(GO_122), listed_release("1.22.9")]);
    let env = TestEnv::in_memory();
    env.install_shims();

    let out = run(&mut gomig_site(&env, &site, &["install", GO_122]));
    assert!(out.status.success(), "{}", describe(&out));
    assert!(stderr(&out).contains("installed go1.22.10"), "{}", describe(&out));

    let project = env.dir("app");
    fs::write(project.join(".go-version"), format!("{GO_122}\n")).unwrap();
    assert_eq!(
        ok(&mut env.go_in(&project, &["version"])).trim(),
        go_version_line(GO_122)
    );

    // Exactly the one archive was fetched, once, and the log says where from and what it was.
    let file = archive_name(GO_122);
    assert_eq!(site.downloads(&file), 1, "{:#?}", site.requests());
    let release = real_release(GO_122);
    let sha = &release.host_archive().unwrap().sha256;
    let events = install_events(&env);
    assert_eq!(events.len(), 1, "{events:#?}");
    assert_eq!(events[0]["version"], "go1.22.10");
    assert_eq!(events[0]["url"], site.file_url(&file));
    assert_eq!(events[0]["mirror"], site.url());
    assert_eq!(events[0]["sha256"], sha.as_str());
    assert_eq!(events[0]["tree_digest"].as_str().unwrap().len(), 64);

    // The tree is complete and recorded: verify re-hashes it against the manifest.
    assert_eq!(toolchain_entries(&env), ["go1.22.10"]);
    env.gomig_ok(&["verify", GO_122]);
    assert_eq!(listed_versions(&env), ["go1.22.10"]);

    // Installing it again is a no-op that downloads nothing.
    let again = run(&mut gomig_site(&env, &site, &["install", GO_122]));
    assert!(again.status.success(), "{}", describe(&again));
    assert!(stderr(&again).contains("already installed"), "{}", describe(&again));
    assert_eq!(site.downloads(&file), 1);
}

#[test]
fn a_minor_line_means_its_newest_release_latest_the_newest_stable_and_several_install_at_once() {
    // Older 1.22 and 1.24 releases and a newer release candidate are listed too; their archives
    // answer 404, so picking any of them would fail the install.
    let site = Site::start(vec![
        real_release(GO_121),
        listed_release("1.22.0"),
        listed_release("1.22.9"),
        real_release(GO_122),
        listed_release("1.22rc1"),
        listed_release("1.24.10"),
        real_release(GO_124),
        listed_release("1.25rc1"),
    ]);
    let env = TestEnv::in_memory();
    let out = run(&mut gomig_site(&env, &site, &["install", "1.22", "latest", GO_121]));
    assert!(out.status.success(), "{}", describe(&out));
    for v in [GO_122, GO_124, GO_121] {
        assert!(stderr(&out).contains(&format!("installed go{v}")), "{}", describe(&out));
        assert_eq!(site.downloads(&archive_name(v)), 1, "{:#?}", site.requests());
    }
    for v in ["1.22.0", "1.22.9", "1.22rc1", "1.24.10", "1.25rc1"] {
        assert_eq!(site.downloads(&archive_name(v)), 0, "{v} should not be fetched");
    }
    assert_eq!(listed_versions(&env), ["go1.21.13", "go1.22.10", "go1.24.11"]);
    // The store had no default: the newest of the first installs became it (and said so).
    assert!(stderr(&out).contains("default: go1.24.11"), "{}", describe(&out));
    assert!(env.gomig_ok(&["current"]).starts_with("go1.24.11"));
    // Each tree is the release it claims to be.
    for v in [GO_121, GO_122, GO_124] {
        let go = env.gomig_home.join(format!("toolchains/go{v}/bin/go"));
        let mut cmd = env.command(&go, &env.work);
        cmd.args(["version"]).env("GOTOOLCHAIN", "local");
        assert_eq!(ok(&mut cmd).trim(), go_version_line(v));
    }
    env.gomig_ok(&["verify", "--all"]);
    // One index fetch served all three (it is cached for a day).
    let index_fetches = site.requests().iter().filter(|r| r.contains("mode=json")).count();
    assert_eq!(index_fetches, 1, "{:#?}", site.requests());
}

#[test]
fn without_arguments_it_installs_what_the_directory_needs() {
    let tmp = tempfile::tempdir().unwrap();
    let site = Site::start(vec![mini_release(GO_121, tmp.path()), mini_release(GO_123, tmp.path())]);
    let env = TestEnv::in_memory();
    let project = env.dir("svc");
    fs::write(project.join(".go-version"), "1.23.9\n").unwrap();

    let out = run(gomig_with_mirrors(&env, &[site.url()], &["install"]).current_dir(&project));
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(listed_versions(&env), ["go1.23.9"]);
    assert_eq!(site.downloads(&archive_name(GO_123)), 1);
    assert_eq!(site.downloads(&archive_name(GO_121)), 0);

    // Now nothing is missing: it says so and fetches nothing.
    let again = run(gomig_with_mirrors(&env, &[site.url()], &["install"]).current_dir(&project));
    assert!(again.status.success(), "{}", describe(&again));
    assert!(
        stderr(&again).contains("everything this directory needs is installed"),
        "{}",
        describe(&again)
    );
    assert_eq!(site.downloads(&archive_name(GO_123)), 1);
}

#[test]
fn two_concurrent_installs_of_one_version_download_once_and_both_succeed() {
    let site = Site::start(vec![real_release(GO_122)]);
    let env = TestEnv::in_memory();
    let spawn = || {
        gomig_site(&env, &site, &["install", GO_122])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert!(a.status.success(), "{}", describe(&a));
    assert!(b.status.success(), "{}", describe(&b));
    let said = format!("{}{}", stderr(&a), stderr(&b));
    assert_eq!(said.matches("installed go1.22.10 (").count(), 1, "{said}");
    assert_eq!(said.matches("go1.22.10 is already installed").count(), 1, "{said}");
    assert_eq!(site.downloads(&archive_name(GO_122)), 1, "{:#?}", site.requests());
    assert_eq!(toolchain_entries(&env), ["go1.22.10"]);
    assert_eq!(install_events(&env).len(), 1);
    env.gomig_ok(&["verify", GO_122]);
}

#[test]
fn two_concurrent_installs_of_different_versions_both_succeed() {
    let tmp = tempfile::tempdir().unwrap();
    let site = Site::start(vec![mini_release(GO_121, tmp.path()), mini_release(GO_123, tmp.path())]);
    let env = TestEnv::in_memory();
    let spawn = |v: &str| {
        gomig_site(&env, &site, &["install", v])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(GO_121), spawn(GO_123));
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert!(a.status.success(), "{}", describe(&a));
    assert!(b.status.success(), "{}", describe(&b));
    assert!(stderr(&a).contains("installed go1.21.13 ("), "{}", describe(&a));
    assert!(stderr(&b).contains("installed go1.23.9 ("), "{}", describe(&b));
    for v in [GO_121, GO_123] {
        assert_eq!(site.downloads(&archive_name(v)), 1, "{:#?}", site.requests());
    }
    assert_eq!(
        toolchain_entries(&env),
        ["go1.21.13", "go1.23.9"],
        "no staging left over"
    );
    assert_eq!(install_events(&env).len(), 2);
    env.gomig_ok(&["verify", "--all"]);
    // The store had no default: exactly one of the two became it.
    let default = env.default_name();
    assert!(["go1.21.13", "go1.23.9"].contains(&default.as_str()), "{default}");
    let said = format!("{}{}", stderr(&a), stderr(&b));
    assert_eq!(said.matches("default: ").count(), 1, "{said}");
}

/// A pseudo-random sequence (the seed is printed, so a failure can be replayed).
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n.max(1)
    }
}

/// After a kill: every visible toolchain is complete (its manifest matches the tree and its
/// `go version` is right), and whatever else is there is hidden staging.
fn assert_only_complete_toolchains(env: &TestEnv, when: &str) {
    for name in toolchain_entries(env) {
        if name.starts_with('.') {
            assert!(
                name.starts_with(".staging-"),
                "{when}: unexpected {name} in toolchains/"
            );
            continue;
        }
        assert_eq!(name, "go1.22.10", "{when}: unexpected toolchain {name}");
        let out = run(&mut env.gomig(&["verify", &name]));
        assert!(
            out.status.success(),
            "{when}: {name} is visible but not complete:\n{}",
            describe(&out)
        );
    }
    for v in listed_versions(env) {
        assert_eq!(v, "go1.22.10", "{when}: gomig list shows {v}");
    }
}

#[test]
fn kill_9_at_random_moments_never_leaves_a_visible_partial_toolchain() {
    let tmp = tempfile::tempdir().unwrap();
    let site = Site::start(vec![mini_release(GO_122, tmp.path())]);
    let env = TestEnv::in_memory();
    let install = || gomig_site(&env, &site, &["-q", "install", GO_122]);

    // How long an uninterrupted install takes here, to spread the kills over it.
    let started = Instant::now();
    ok(&mut install());
    let whole = started.elapsed();
    env.gomig_ok(&["uninstall", GO_122, "--force"]);

    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    eprintln!("kill -9 test: an install takes {whole:?}; seed {seed}");
    let mut rng = Lcg(seed);
    // Kills land uniformly before the end of an install; when one lands after it, the window
    // shrinks to that delay, so the rounds keep hitting installs in progress.
    let mut window = whole;
    let mut interrupted = 0;
    for round in 0..20 {
        let delay = Duration::from_micros(rng.below(window.as_micros() as u64));
        let mut child = install().stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
        std::thread::sleep(delay);
        // SAFETY: kill(2) on our own child's pid.
        unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
        let status = child.wait().unwrap();
        let when = format!("round {round}, killed after {delay:?} ({status})");
        assert_only_complete_toolchains(&env, &when);
        if toolchain_entries(&env).contains(&"go1.22.10".to_string()) {
            // It finished before the kill: remove it so the next round has work to interrupt.
            env.gomig_ok(&["uninstall", GO_122, "--force"]);
            window = delay.max(Duration::from_millis(20));
        } else {
            interrupted += 1;
        }
    }
    eprintln!("kill -9 test: {interrupted} of 20 kills interrupted an install");
    assert!(
        interrupted >= 10,
        "only {interrupted} of 20 kills landed before the install finished"
    );

    // The next install cleans up what the killed ones left and succeeds.
    let out = run(&mut install());
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(
        toolchain_entries(&env),
        ["go1.22.10"],
        "staging leftovers were not cleaned"
    );
    env.gomig_ok(&["verify", GO_122]);
}

#[test]
fn a_mirror_that_is_down_is_skipped_and_the_log_records_the_one_used() {
    let tmp = tempfile::tempdir().unwrap();
    let site = Site::start(vec![mini_release(GO_122, tmp.path())]);
    let env = TestEnv::in_memory();
    let down = dlsite::unused_url();
    let out = run(&mut gomig_with_mirrors(
        &env,
        &[down.clone(), site.url()],
        &["install", GO_122],
    ));
    assert!(out.status.success(), "{}", describe(&out));
    let events = install_events(&env);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["mirror"], site.url());
    assert_eq!(events[0]["url"], site.file_url(&archive_name(GO_122)));
    assert_eq!(listed_versions(&env), ["go1.22.10"]);
}

#[test]
fn an_archive_that_fails_on_the_first_mirror_is_fetched_from_the_next() {
    let tmp = tempfile::tempdir().unwrap();
    let first = Site::start(vec![mini_release(GO_122, tmp.path())]);
    let second = Site::start(vec![mini_release(GO_122, tmp.path())]);
    let file = archive_name(GO_122);
    // The first mirror's index answers, but its archive connection dies every time.
    first.fault(file.as_str(), Fault::Down);
    let env = TestEnv::in_memory();
    let out = run(&mut gomig_with_mirrors(
        &env,
        &[first.url(), second.url()],
        &["install", GO_122],
    ));
    assert!(out.status.success(), "{}", describe(&out));
    assert!(
        stderr(&out).contains(&first.file_url(&file)),
        "the failed mirror should be named:\n{}",
        describe(&out)
    );
    assert_eq!(second.downloads(&file), 1);
    let events = install_events(&env);
    assert_eq!(events[0]["mirror"], second.url());
    assert_eq!(events[0]["url"], second.file_url(&file));
    // The checksum came from the first mirror's index and still matched the second's bytes.
    assert_eq!(events[0]["sha256"], sha256_of(&tmp.path().join(&file)));
}

#[test]
fn the_shim_auto_installs_a_missing_version_and_runs_the_command_as_typed() {
    let site = Site::start(vec![real_release(GO_122)]);
    let env = TestEnv::in_memory();
    env.install_shims();
    let project = env.dir("app");
    fs::write(project.join(".go-version"), "1.22.10\n").unwrap();
    fs::write(
        project.join("main.go"),
        "package main\n\nimport (\n\t\"fmt\"\n\t\"os\"\n\t\"runtime\"\n)\n\nfunc main() { fmt.Println(runtime.Version(), os.Args[1:]) }\n",
    )
    .unwrap();
    fs::write(project.join("go.mod"), "module app\n\ngo 1.22\n").unwrap();

    // Off by default: the miss is an error that says how to install.
    let out = run(env.go_in(&project, &["version"]).env("GOMIG_MIRROR", site.url()));
    assert!(!out.status.success(), "{}", describe(&out));
    assert_eq!(site.downloads(&archive_name(GO_122)), 0);

    let mut go = env.go_in(&project, &["run", ".", "a b", "--flag"]);
    go.env("GOMIG_MIRROR", site.url()).env("GOMIG_AUTO_INSTALL", "1");
    let out = run(&mut go);
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(stdout(&out).trim(), "go1.22.10 [a b --flag]");
    assert_eq!(site.downloads(&archive_name(GO_122)), 1);
    assert_eq!(listed_versions(&env), ["go1.22.10"]);
}

#[test]
fn auto_install_true_in_the_config_file_lets_the_shim_install() {
    let tmp = tempfile::tempdir().unwrap();
    let site = Site::start(vec![mini_release(GO_122, tmp.path())]);
    let env = TestEnv::in_memory();
    env.install_shims();
    let project = env.dir("app");
    fs::write(project.join(".go-version"), "1.22.10\n").unwrap();
    // GOMIG_CONFIG (set by TestEnv) names this file.
    let config = env.root().join("config.toml");
    let go_version = || {
        let mut go = env.go_in(&project, &["version"]);
        go.env("GOMIG_MIRROR", site.url());
        run(&mut go)
    };

    fs::write(&config, "auto_install = false\n").unwrap();
    let out = go_version();
    assert!(!out.status.success(), "{}", describe(&out));
    assert!(stderr(&out).contains("gomig install 1.22.10"), "{}", describe(&out));
    assert_eq!(site.downloads(&archive_name(GO_122)), 0);

    fs::write(
        &config,
        "# let the shim fetch what a project pins\nauto_install = true\n",
    )
    .unwrap();
    let out = go_version();
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(stdout(&out).trim(), go_version_line(GO_122));
    assert_eq!(site.downloads(&archive_name(GO_122)), 1);
    assert_eq!(listed_versions(&env), ["go1.22.10"]);

    // Installed now: the next run execs it without asking the site for anything.
    let asked = site.requests().len();
    let out = go_version();
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(site.requests().len(), asked);
}

#[test]
fn a_gotoolchain_the_store_lacks_is_auto_installed_not_downloaded_by_go() {
    let tmp = tempfile::tempdir().unwrap();
    let site = Site::start(vec![mini_release(GO_122, tmp.path()), mini_release(GO_123, tmp.path())]);
    let env = TestEnv::in_memory();
    env.install_shims();
    assert!(run(&mut gomig_site(&env, &site, &["install", GO_122])).status.success());
    let go_version = |auto: &str| {
        let mut go = env.go_in(&env.work, &["version"]);
        go.env("GOMIG_MIRROR", site.url())
            .env("GOMIG_AUTO_INSTALL", auto)
            .env("GOTOOLCHAIN", "go1.23.9")
            .env("GOPROXY", "off");
        run(&mut go)
    };
    let out = go_version("0");
    assert!(stderr(&out).contains("run: gomig install 1.23.9"), "{}", describe(&out));
    let out = go_version("1");
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(stdout(&out).trim(), go_version_line(GO_123));
    assert_eq!(site.downloads(&archive_name(GO_123)), 1);
    assert_eq!(listed_versions(&env), ["go1.22.10", "go1.23.9"]);
}

#[test]
fn no_progress_output_off_a_terminal_and_none_at_all_with_q() {
    let tmp = tempfile::tempdir().unwrap();
    let site = Site::start(vec![mini_release(GO_122, tmp.path()), mini_release(GO_123, tmp.path())]);
    let env = TestEnv::in_memory();
    let out = run(&mut gomig_site(&env, &site, &["install", GO_122]));
    assert!(out.status.success(), "{}", describe(&out));
    let err = stderr(&out);
    // The result, and (the store had none) the new default.
    assert_eq!(err.lines().count(), 2, "only the result lines, no progress:\n{err}");
    assert!(err.lines().nth(1).unwrap().starts_with("default: go1.22.10"), "{err}");
    assert!(
        !err.contains('\r') && !err.contains('\x1b'),
        "progress drawn off a terminal: {err:?}"
    );
    assert!(stdout(&out).is_empty(), "{}", describe(&out));

    let out = run(&mut gomig_site(&env, &site, &["-q", "install", GO_123]));
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(stderr(&out), "", "-q prints nothing on success");
    assert_eq!(stdout(&out), "");
    assert_eq!(listed_versions(&env), ["go1.22.10", "go1.23.9"]);
}

/// Runs `gomig ARGS` on a pseudo-terminal (util-linux `script`) against `site`; returns
/// whether it succeeded and what the terminal showed.
fn on_a_terminal(env: &TestEnv, site: &Site, args: &str) -> (bool, String) {
    let base = gomig_site(env, site, &[]);
    let mut script = Command::new("script");
    script.env_clear();
    for (k, v) in base.get_envs() {
        if let Some(v) = v {
            script.env(k, v);
        }
    }
    let cmd = format!("{} {args}", gomig_bin().display());
    script
        .args(["-q", "-e", "-c", &cmd, "/dev/null"])
        .env("SHELL", "/bin/sh")
        .env("TERM", "xterm")
        .current_dir(&env.work);
    let out = run(&mut script);
    (out.status.success(), stdout(&out))
}

#[test]
fn on_a_terminal_a_progress_bar_shows_bytes_rate_and_eta_unless_q() {
    if Command::new("script").arg("--version").output().is_err() {
        panic!("util-linux `script` is needed to give gomig a terminal (apt-get install bsdutils)");
    }
    let tmp = tempfile::tempdir().unwrap();
    let site = Site::start(vec![real_release(GO_122), mini_release(GO_123, tmp.path())]);
    let env = TestEnv::in_memory();
    let (ok_, shown) = on_a_terminal(&env, &site, &format!("install {GO_122}"));
    assert!(ok_, "{shown}");
    assert!(shown.contains("installed go1.22.10"), "{shown}");
    let tail = &shown[shown.len().saturating_sub(2000)..];
    assert!(shown.contains("eta"), "no progress bar on a terminal:\n{tail:?}");
    let total = real_release(GO_122).host_archive().unwrap().size;
    let total = format!("/{:.2} MiB", total as f64 / f64::from(1 << 20));
    assert!(
        shown.contains(&total),
        "the bar shows bytes of the total ({total}):\n{tail:?}"
    );
    assert!(shown.contains("MiB/s"), "the bar shows the rate:\n{tail:?}");
    let most_files = shown
        .split(" files")
        .filter_map(|before| before.rsplit(", ").next()?.parse::<u64>().ok())
        .max();
    assert!(
        most_files.is_some_and(|n| n > 1000),
        "the bar shows files extracted:\n{tail:?}"
    );

    let quiet = TestEnv::in_memory();
    let (ok_, shown) = on_a_terminal(&quiet, &site, &format!("-q install {GO_123}"));
    assert!(ok_, "{shown}");
    assert!(!shown.contains("eta"), "-q still drew a progress bar:\n{shown:?}");
    assert_eq!(shown.trim(), "", "-q prints nothing on success:\n{shown:?}");
}

#[test]
fn install_and_uninstall_keep_the_toolchain_commands_in_step() {
    let tmp = tempfile::tempdir().unwrap();
    let site = Site::start(vec![mini_release(GO_122, tmp.path()), mini_release(GO_123, tmp.path())]);
    let env = TestEnv::in_memory();
    env.install_shims();
    let command = |v: &str| env.shims_dir().join(format!("go{v}"));
    for v in [GO_122, GO_123] {
        assert!(run(&mut gomig_site(&env, &site, &["install", v])).status.success());
        assert!(command(v).is_file(), "no command for {v}");
    }
    let out = ok(env.command(command(GO_123), &env.work).arg("version"));
    assert_eq!(out.trim(), go_version_line(GO_123));
    assert!(run(&mut env.gomig(&["uninstall", GO_123])).status.success());
    assert!(!command(GO_123).exists(), "the command outlived its toolchain");
    assert!(command(GO_122).is_file());
}
