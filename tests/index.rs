//! The download index against the loopback site (tests/support/dlsite.rs): `gomig list-remote`,
//! `gomig outdated`, the one-day cache, `--refresh` and `--offline`.

#[path = "support/dlsite.rs"]
mod dlsite;
#[path = "support/install_kit.rs"]
mod kit;
mod support;

use std::fs;
use std::path::PathBuf;
use std::process::Command;

use dlsite::{DistFile, Release, Site};
use kit::*;
use serde_json::Value;
use support::*;

/// How many times the site was asked for its index.
fn index_requests(site: &Site) -> usize {
    site.requests().iter().filter(|r| r.contains("mode=json")).count()
}

/// The cached index files under `cache/`.
fn cached_indexes(env: &TestEnv) -> Vec<PathBuf> {
    match fs::read_dir(env.gomig_home.join("cache")) {
        Ok(rd) => rd
            .map(|e| e.unwrap().path())
            .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("index-"))
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// Makes the cached index look `age` old (a `touch -d` date, e.g. `25 hours ago`).
fn age_cache(env: &TestEnv, age: &str) {
    let cached = cached_indexes(env);
    assert_eq!(cached.len(), 1, "one cached index expected: {cached:?}");
    ok(Command::new("touch").args(["-m", "-d", age]).arg(&cached[0]));
}

/// The versions (first column) of `gomig list-remote`'s text output.
fn versions_listed(out: &str) -> Vec<String> {
    out.lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

/// A release the index lists only for another platform.
fn other_platform_release(version: &str) -> Release {
    Release::new(version).with_file(DistFile::listed(&format!("go{version}.plan9-mips.tar.gz")))
}

#[test]
fn list_remote_shows_stable_releases_newest_first_and_all_with_all() {
    let site = Site::start(vec![
        listed_release("1.21.13"),
        listed_release("1.22.9"),
        listed_release("1.22.10"),
        listed_release("1.23rc1"),
        other_platform_release("1.20.14"),
    ]);
    let env = TestEnv::new();
    env.fake_toolchain("go1.22.10");

    let out = ok(&mut gomig_site(&env, &site, &["list-remote"]));
    assert_eq!(
        versions_listed(&out),
        ["go1.22.10", "go1.22.9", "go1.21.13", "go1.20.14"],
        "stable only, newest first:\n{out}"
    );
    let line = |v: &str| out.lines().find(|l| l.starts_with(v)).unwrap().to_string();
    assert!(line("go1.22.10").contains("installed"), "{out}");
    assert!(!line("go1.22.9").contains("installed"), "{out}");
    assert!(line("go1.20.14").contains("no archive for this platform"), "{out}");

    let out = ok(&mut gomig_site(&env, &site, &["list-remote", "--all"]));
    assert_eq!(
        versions_listed(&out),
        ["go1.22.10", "go1.22.9", "go1.21.13", "go1.20.14", "go1.23rc1"],
        "--all adds release candidates after the stable releases:\n{out}"
    );
    assert!(out.lines().last().unwrap().contains("unstable"), "{out}");

    let out = ok(&mut gomig_site(&env, &site, &["list-remote", "--all", "--json"]));
    let rows: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("list-remote --json: {e}\n{out}"));
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 5, "{out}");
    let row = |v: &str| {
        rows.iter()
            .find(|r| r["version"] == v)
            .unwrap_or_else(|| panic!("{v}: {out}"))
    };
    assert_eq!(row("go1.22.10")["stable"], true);
    assert_eq!(row("go1.22.10")["installed"], true);
    assert_eq!(row("go1.22.10")["available_here"], true);
    assert_eq!(row("go1.22.9")["installed"], false);
    assert_eq!(row("go1.23rc1")["stable"], false);
    assert_eq!(row("go1.20.14")["available_here"], false);

    let out = ok(&mut gomig_site(&env, &site, &["list-remote", "--json"]));
    let rows: Value = serde_json::from_str(&out).unwrap();
    assert!(
        rows.as_array().unwrap().iter().all(|r| r["stable"] == true),
        "without --all, stable releases only:\n{out}"
    );
}

#[test]
fn outdated_names_the_newer_patch_of_an_installed_line() {
    let site = Site::start(vec![
        listed_release("1.22.9"),
        listed_release("1.22.10"),
        listed_release("1.23.9"),
        listed_release("1.24.11"),
        listed_release("1.25rc1"),
    ]);
    let env = TestEnv::new();
    env.fake_toolchain("go1.22.9");
    env.fake_toolchain("go1.24.11");

    let out = ok(&mut gomig_site(&env, &site, &["outdated"]));
    let line = |prefix: &str| {
        out.lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix} line:\n{out}"))
            .to_string()
    };
    let old = line("1.22 ");
    assert!(old.contains("go1.22.9"), "{out}");
    assert!(
        old.contains("update available: gomig install 1.22.10"),
        "the newer patch and the command that installs it:\n{out}"
    );
    // The two newest minor lines (1.24, 1.23) get security fixes; 1.22 no longer does.
    assert!(old.contains("no longer supported"), "{out}");
    let new = line("1.24 ");
    assert!(new.contains("up to date"), "{out}");
    assert!(!new.contains("no longer supported"), "{out}");

    let out = ok(&mut gomig_site(&env, &site, &["outdated", "--json"]));
    let rows: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("outdated --json: {e}\n{out}"));
    let rows = rows.as_array().unwrap();
    let row = |l: &str| {
        rows.iter()
            .find(|r| r["line"] == l)
            .unwrap_or_else(|| panic!("{l}: {out}"))
    };
    assert_eq!(row("1.22")["installed"], "go1.22.9");
    assert_eq!(row("1.22")["newest"], "go1.22.10");
    assert_eq!(row("1.22")["outdated"], true);
    assert_eq!(row("1.22")["supported"], false);
    assert_eq!(row("1.24")["outdated"], false);
    assert_eq!(row("1.24")["supported"], true);
    assert_eq!(rows.len(), 2, "one row per installed line:\n{out}");
}

#[test]
fn the_index_is_cached_for_a_day() {
    let tmp = tempfile::tempdir().unwrap();
    let site = Site::start(vec![mini_release(GO_121, tmp.path()), mini_release(GO_122, tmp.path())]);
    let env = TestEnv::new();
    ok(&mut gomig_site(&env, &site, &["install", GO_121]));
    assert_eq!(index_requests(&site), 1);
    // A second install, a list and an outdated within the day: no new fetch.
    ok(&mut gomig_site(&env, &site, &["install", GO_122]));
    ok(&mut gomig_site(&env, &site, &["list-remote"]));
    ok(&mut gomig_site(&env, &site, &["outdated"]));
    assert_eq!(index_requests(&site), 1, "{:#?}", site.requests());
    assert_eq!(listed_versions(&env), ["go1.21.13", "go1.22.10"]);

    // Still fresh just under a day later; fetched again once it is older than that.
    age_cache(&env, "23 hours ago");
    ok(&mut gomig_site(&env, &site, &["list-remote"]));
    assert_eq!(index_requests(&site), 1, "{:#?}", site.requests());
    age_cache(&env, "25 hours ago");
    ok(&mut gomig_site(&env, &site, &["list-remote"]));
    assert_eq!(index_requests(&site), 2, "{:#?}", site.requests());
}

#[test]
fn refresh_fetches_the_index_again_though_it_is_cached() {
    let site = Site::start(vec![listed_release("1.22.10")]);
    let env = TestEnv::new();
    ok(&mut gomig_site(&env, &site, &["list-remote"]));
    assert_eq!(index_requests(&site), 1);

    // A new release appears; the cached index does not know it yet.
    site.set_releases(vec![listed_release("1.22.10"), listed_release("1.22.11")]);
    let out = ok(&mut gomig_site(&env, &site, &["list-remote"]));
    assert_eq!(versions_listed(&out), ["go1.22.10"]);
    assert_eq!(index_requests(&site), 1);

    let out = ok(&mut gomig_site(&env, &site, &["list-remote", "--refresh"]));
    assert_eq!(versions_listed(&out), ["go1.22.11", "go1.22.10"]);
    assert_eq!(index_requests(&site), 2);
    // ... and the refreshed copy is what the cache holds now.
    let out = ok(&mut gomig_site(&env, &site, &["list-remote"]));
    assert_eq!(versions_listed(&out), ["go1.22.11", "go1.22.10"]);
    assert_eq!(index_requests(&site), 2);
}

#[test]
fn offline_uses_the_cached_index_and_says_so_when_there_is_none() {
    let tmp = tempfile::tempdir().unwrap();
    let site = Site::start(vec![mini_release(GO_122, tmp.path()), listed_release("1.22.9")]);
    let env = TestEnv::new();

    // Nothing cached: a clear error, and the network is not touched.
    let out = run(&mut gomig_site(&env, &site, &["list-remote", "--offline"]));
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let err = stderr(&out);
    assert!(err.contains("--offline: no cached download index"), "{err}");
    assert!(err.contains(&site.url()), "the error names the mirror:\n{err}");
    assert!(
        err.contains("run once without --offline") && err.contains("--archive FILE"),
        "the error says what to do:\n{err}"
    );
    assert!(
        !err.contains("check the network"),
        "offline, the network is not the problem:\n{err}"
    );
    assert!(site.requests().is_empty(), "{:#?}", site.requests());

    // Cached once online, the index serves --offline, however old and with the site gone.
    let online = ok(&mut gomig_site(&env, &site, &["list-remote"]));
    assert_eq!(index_requests(&site), 1);
    age_cache(&env, "30 days ago");
    let offline = ok(&mut gomig_site(&env, &site, &["list-remote", "--offline"]));
    assert_eq!(offline, online);
    assert_eq!(index_requests(&site), 1);

    // Installing offline needs the archive: refused before any download, with the way out.
    let file = archive_name(GO_122);
    let err = install_fails(&mut gomig_site(&env, &site, &["install", GO_122, "--offline"]));
    assert!(err.contains("--offline"), "{err}");
    assert!(err.contains(&file), "the error names the file it would need:\n{err}");
    let sha = sha256_of(&tmp.path().join(&file));
    assert!(
        err.contains(&format!("--archive FILE --sha256 {sha}")),
        "the error gives the command for a copy of the file:\n{err}"
    );
    assert_eq!(site.downloads(&file), 0, "{:#?}", site.requests());
    assert_nothing_installed(&env);

    site.stop();
    let offline = ok(&mut gomig_site(&env, &site, &["list-remote", "--offline"]));
    assert_eq!(offline, online);
    // With the file at hand, the offline install works.
    let path = tmp.path().join(&file);
    let out = run(&mut gomig_site(
        &env,
        &site,
        &[
            "install",
            "--offline",
            "--archive",
            path.to_str().unwrap(),
            "--sha256",
            &sha,
        ],
    ));
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(listed_versions(&env), ["go1.22.10"]);
}

#[test]
fn outdated_says_a_line_the_index_no_longer_lists_is_out_of_support() {
    let site = Site::start(vec![listed_release("1.23.9"), listed_release("1.24.11")]);
    let env = TestEnv::new();
    env.fake_toolchain("go1.19.13");
    let out = ok(&mut gomig_site(&env, &site, &["outdated"]));
    let line = out
        .lines()
        .find(|l| l.starts_with("1.19 "))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        line.contains("out of support: the index lists no 1.19 release"),
        "{out}"
    );
    assert!(
        !line.contains("up to date"),
        "nothing in the index to be up to date with:\n{out}"
    );
}
