//! `gomig install` when things go wrong: a damaged, short or mis-listed download, a missing
//! file, a stalling or dropping server, a full disk, and hostile archives. Each either
//! recovers (a resumed download) or fails with a clear error and leaves nothing installed, no
//! staging directory and nothing written outside the store.

#[path = "support/dlsite.rs"]
mod dlsite;
#[path = "support/install_kit.rs"]
mod kit;
mod support;

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use dlsite::{DistFile, Fault, Release, Site, TarEntry};
use kit::*;
use support::*;

// ---------------------------------------------------------------------------------------------
// The download
// ---------------------------------------------------------------------------------------------

#[test]
fn a_flipped_byte_is_a_checksum_mismatch_and_nothing_is_installed() {
    let m = mini_site();
    m.site.fault(m.file.as_str(), Fault::FlipByte(m.size / 2));
    let env = TestEnv::new();
    let err = install_fails(&mut gomig_site(&env, &m.site, &["install", GO_122]));
    assert!(err.contains("checksum mismatch"), "{err}");
    assert!(
        err.contains(&m.site.file_url(&m.file)),
        "the error names the URL:\n{err}"
    );
    assert!(err.contains(&m.sha256), "the error shows the expected SHA-256:\n{err}");
    assert_nothing_installed(&env);
}

#[test]
fn a_truncated_archive_is_refused_and_nothing_is_installed() {
    let m = mini_site();
    let short = m.size / 3;
    m.site.fault(m.file.as_str(), Fault::Truncate(short));
    let env = TestEnv::new();
    let err = install_fails(&mut gomig_site(&env, &m.site, &["install", GO_122]));
    assert!(err.contains(&m.site.file_url(&m.file)), "{err}");
    assert!(
        err.contains(&format!("{short} of {} bytes", m.size)),
        "the error says how much arrived of what the index lists:\n{err}"
    );
    assert_nothing_installed(&env);
}

#[test]
fn a_size_that_disagrees_with_the_index_is_refused_and_nothing_is_installed() {
    let m = mini_site();
    m.site.fault(m.file.as_str(), Fault::WrongSize);
    let env = TestEnv::new();
    let err = install_fails(&mut gomig_site(&env, &m.site, &["install", GO_122]));
    assert!(err.contains(&m.site.file_url(&m.file)), "{err}");
    assert!(
        err.contains(&format!("{} of {} bytes", m.size, m.size + 1)),
        "the error gives both sizes:\n{err}"
    );
    assert!(err.contains("--refresh"), "the error says what to try:\n{err}");
    assert_nothing_installed(&env);
}

#[test]
fn a_file_larger_than_the_index_says_is_refused_and_nothing_is_installed() {
    let tmp = tempfile::tempdir().unwrap();
    let mut release = mini_release(GO_122, tmp.path());
    let real_size = release.files[0].size;
    let listed = real_size - 4096;
    release.files[0].size = listed;
    let site = Site::start(vec![release]);
    let env = TestEnv::new();
    let err = install_fails(&mut gomig_site(&env, &site, &["install", GO_122]));
    assert!(err.contains(&site.file_url(&archive_name(GO_122))), "{err}");
    assert!(
        err.contains(&format!("more than the {listed} bytes the index lists")),
        "{err}"
    );
    assert_nothing_installed(&env);
}

#[test]
fn an_archive_whose_go_is_another_release_is_refused_and_nothing_is_installed() {
    // The index lists 1.22.10's file with the right checksum and size, but the tree inside is
    // 1.21.13: the download verifies, the unpacked `bin/go version` gives it away.
    let tmp = tempfile::tempdir().unwrap();
    let file = archive_name(GO_122);
    let path = tmp.path().join(&file);
    dlsite::write_tar_gz(&path, &mini_entries(GO_121));
    let site = Site::start(vec![Release::custom(GO_122, &file, &path)]);
    let env = TestEnv::new();
    let err = install_fails(&mut gomig_site(&env, &site, &["install", GO_122]));
    assert!(
        err.contains(&go_version_line(GO_121)),
        "the error quotes what bin/go version said:\n{err}"
    );
    assert!(
        err.contains("not go1.22.10"),
        "the error names the release asked for:\n{err}"
    );
    assert!(err.contains(&site.file_url(&file)), "the error names the file:\n{err}");
    assert!(err.contains("--mirror"), "the error says what to do:\n{err}");
    assert_eq!(site.downloads(&file), 1, "a verified download is not fetched again");
    assert_nothing_installed(&env);
}

#[test]
fn an_index_without_an_archive_for_this_platform_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let other = Release::new(GO_122)
        .with_file(DistFile::listed("go1.22.10.src.tar.gz"))
        .with_file(DistFile::listed("go1.22.10.plan9-mips.tar.gz"))
        .with_file(DistFile::listed("go1.22.10.windows-amd64.zip"));
    let site = Site::start(vec![other, mini_release(GO_121, tmp.path())]);
    let env = TestEnv::new();
    let err = install_fails(&mut gomig_site(&env, &site, &["install", GO_122]));
    let (os, arch) = dlsite::host_platform();
    assert!(err.contains(&format!("no archive for {os}/{arch}")), "{err}");
    assert!(err.contains(&site.url()), "the error names the mirror:\n{err}");
    assert!(err.contains("go1.21.13"), "the error lists what is available:\n{err}");
    assert!(
        site.requests().iter().all(|r| !r.contains(".tar.gz")),
        "{:#?}",
        site.requests()
    );
    assert_nothing_installed(&env);
}

#[test]
fn a_file_without_a_checksum_is_refused_unless_sha256_is_given() {
    let tmp = tempfile::tempdir().unwrap();
    let site = Site::start(vec![mini_release(GO_122, tmp.path()).omit_sha256()]);
    let file = archive_name(GO_122);
    let sha = sha256_of(&tmp.path().join(&file));
    let env = TestEnv::new();

    let err = install_fails(&mut gomig_site(&env, &site, &["install", GO_122]));
    assert!(err.contains("no SHA-256"), "{err}");
    assert!(err.contains(&file), "{err}");
    assert!(err.contains("--sha256 HEX"), "the error says what to do:\n{err}");
    assert_eq!(site.downloads(&file), 0, "nothing is downloaded unverified");
    assert_nothing_installed(&env);

    let wrong = "0".repeat(64);
    let err = install_fails(&mut gomig_site(&env, &site, &["install", GO_122, "--sha256", &wrong]));
    assert!(err.contains("checksum mismatch"), "{err}");
    assert!(err.contains(&sha), "{err}");
    assert_nothing_installed(&env);

    let out = run(&mut gomig_site(
        &env,
        &site,
        &["install", GO_122, "--sha256", &sha.to_uppercase()],
    ));
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(listed_versions(&env), ["go1.22.10"]);
    assert_eq!(install_events(&env)[0]["sha256"], sha.as_str());
}

#[test]
fn an_unknown_version_lists_the_closest_available_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let site = Site::start(vec![
        mini_release(GO_122, tmp.path()),
        mini_release(GO_121, tmp.path()),
        listed_release("1.22.9"),
    ]);
    let env = TestEnv::new();
    let err = install_fails(&mut gomig_site(&env, &site, &["install", "1.22.11"]));
    assert!(err.contains("no Go release matches \"1.22.11\""), "{err}");
    let closest = err
        .split("closest")
        .nth(1)
        .unwrap_or_else(|| panic!("no closest list:\n{err}"));
    assert!(closest.contains("go1.22.10"), "{err}");
    assert!(
        closest.find("go1.22.10") < closest.find("go1.21.13"),
        "the same minor line comes first:\n{err}"
    );
    assert_nothing_installed(&env);
}

#[test]
fn a_listed_archive_that_answers_404_names_the_url_and_the_closest_versions() {
    let tmp = tempfile::tempdir().unwrap();
    let site = Site::start(vec![mini_release(GO_122, tmp.path()), listed_release("1.22.11")]);
    let env = TestEnv::new();
    let err = install_fails(&mut gomig_site(&env, &site, &["install", "1.22.11"]));
    let url = site.file_url(&archive_name("1.22.11"));
    assert!(err.contains(&url), "{err}");
    assert!(err.contains("404"), "{err}");
    assert!(err.contains("closest") && err.contains("go1.22.10"), "{err}");
    // A 404 is an answer, not a network hiccup: asked once, not retried.
    let asked = site.requests().iter().filter(|r| r.contains("go1.22.11.")).count();
    assert_eq!(asked, 1, "{:#?}", site.requests());
    assert_nothing_installed(&env);
}

#[test]
fn a_stalling_server_times_out_with_a_clear_error() {
    let m = mini_site();
    m.site.fault(m.file.as_str(), Fault::StallAfter(100_000));
    let env = TestEnv::new();
    let started = Instant::now();
    let err = install_fails(gomig_site(&env, &m.site, &["install", GO_122]).env("GOMIG_HTTP_TIMEOUT_MS", "300"));
    let took = started.elapsed();
    assert!(err.contains(&m.site.file_url(&m.file)), "{err}");
    assert!(err.contains("timed out"), "{err}");
    assert!(err.contains("--mirror"), "the error says what to try:\n{err}");
    assert!(took < Duration::from_secs(30), "gave up only after {took:?}");
    // It did try to resume before giving up.
    assert!(
        m.site.request_log().iter().any(|r| r.range.is_some()),
        "{:#?}",
        m.site.requests()
    );
    assert_nothing_installed(&env);
}

#[test]
fn a_stalling_index_times_out_with_a_clear_error() {
    let m = mini_site();
    m.site.fault(dlsite::Target::Index, Fault::NoResponse);
    let env = TestEnv::new();
    let err = install_fails(gomig_site(&env, &m.site, &["install", GO_122]).env("GOMIG_HTTP_TIMEOUT_MS", "300"));
    assert!(err.contains("download index"), "{err}");
    assert!(err.contains(&m.site.url()), "{err}");
    assert!(err.contains("timed out") || err.contains("timeout"), "{err}");
    assert_nothing_installed(&env);
}

/// A server that sends a byte every 100 ms: never silent long enough for the read timeout.
fn dripping_site() -> MiniSite {
    let m = mini_site();
    m.site.fault(m.file.as_str(), Fault::Drip(Duration::from_millis(100)));
    m
}

#[test]
fn a_download_slower_than_the_minimum_rate_is_given_up_with_the_variable_to_change() {
    let m = dripping_site();
    let env = TestEnv::new();
    let err = install_fails_within(
        gomig_site(&env, &m.site, &["install", GO_122])
            .env("GOMIG_DOWNLOAD_MIN_RATE", "1000")
            .env("GOMIG_DOWNLOAD_RATE_WINDOW", "1s"),
        Duration::from_secs(60),
    );
    assert!(
        err.contains(&m.site.file_url(&m.file)),
        "the error names the URL:\n{err}"
    );
    assert!(
        err.contains("too slow") && err.contains("below the minimum average of 1000 bytes/s"),
        "the error says which limit hit:\n{err}"
    );
    assert!(
        err.contains("GOMIG_DOWNLOAD_MIN_RATE"),
        "the error names the variable:\n{err}"
    );
    assert_eq!(m.site.downloads(&m.file), 1, "a slow mirror is not asked again");
    assert_nothing_installed(&env);
}

#[test]
fn a_download_past_its_deadline_is_given_up_with_the_variable_to_change() {
    let m = dripping_site();
    let env = TestEnv::new();
    let err = install_fails_within(
        gomig_site(&env, &m.site, &["install", GO_122])
            .env("GOMIG_DOWNLOAD_MIN_RATE", "0")
            .env("GOMIG_DOWNLOAD_DEADLINE", "2s"),
        Duration::from_secs(60),
    );
    assert!(
        err.contains(&m.site.file_url(&m.file)),
        "the error names the URL:\n{err}"
    );
    assert!(
        err.contains("did not finish within its deadline of 2s"),
        "the error says which limit hit:\n{err}"
    );
    assert!(
        err.contains(&format!(" of {} bytes arrived", m.size)),
        "the error says how far it got:\n{err}"
    );
    assert!(
        err.contains("GOMIG_DOWNLOAD_DEADLINE"),
        "the error names the variable:\n{err}"
    );
    assert_nothing_installed(&env);
}

#[test]
fn a_download_limit_that_cannot_be_read_names_its_variable() {
    let m = mini_site();
    let env = TestEnv::new();
    let err = install_fails(gomig_site(&env, &m.site, &["install", GO_122]).env("GOMIG_DOWNLOAD_DEADLINE", "soon"));
    assert!(
        err.contains("GOMIG_DOWNLOAD_DEADLINE=\"soon\" is not a duration") && err.contains("unset it"),
        "{err}"
    );
    assert!(m.site.requests().is_empty(), "nothing is fetched with a bad setting");
    assert_nothing_installed(&env);
}

#[test]
fn a_dropped_connection_resumes_with_a_range_request() {
    let site = Site::start(vec![real_release(GO_122)]);
    let file = archive_name(GO_122);
    let chunk = 8 << 20;
    // The first two responses die after 8 MiB each.
    site.fault_times(file.as_str(), Fault::DropAfter(chunk), 2);
    let env = TestEnv::in_memory();
    let out = run(&mut gomig_site(&env, &site, &["install", GO_122]));
    assert!(out.status.success(), "{}", describe(&out));
    let ranges: Vec<Option<String>> = site
        .request_log()
        .iter()
        .filter(|r| r.path().ends_with(&file))
        .map(|r| r.range.clone())
        .collect();
    assert_eq!(
        ranges,
        [
            None,
            Some(format!("bytes={chunk}-")),
            Some(format!("bytes={}-", 2 * chunk))
        ],
        "{:#?}",
        site.requests()
    );
    assert!(stderr(&out).contains("resumed 2 time"), "{}", describe(&out));
    env.gomig_ok(&["verify", GO_122]);
}

#[test]
fn a_server_that_ignores_the_range_still_yields_a_verified_install() {
    let m = mini_site();
    m.site.fault_times(m.file.as_str(), Fault::DropAfter(1 << 20), 1);
    m.site.fault_times(m.file.as_str(), Fault::IgnoreRange, 1);
    let env = TestEnv::new();
    let out = run(&mut gomig_site(&env, &m.site, &["install", GO_122]));
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(m.site.downloads(&m.file), 2);
    assert_eq!(install_events(&env)[0]["sha256"], m.sha256.as_str());
    env.gomig_ok(&["verify", GO_122]);
}

#[test]
fn server_errors_are_retried_with_backoff() {
    let m = mini_site();
    m.site.fault_times(m.file.as_str(), Fault::Status(503), 2);
    m.site.fault_times(dlsite::Target::Index, Fault::Status(502), 1);
    let env = TestEnv::new();
    let out = run(&mut gomig_site(&env, &m.site, &["install", GO_122]));
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(m.site.downloads(&m.file), 1);
    let gets = m.site.requests().iter().filter(|r| r.contains(&m.file)).count();
    assert_eq!(gets, 3, "{:#?}", m.site.requests());
}

#[test]
fn a_full_disk_is_reported_as_such_and_nothing_is_left_on_it() {
    let m = mini_site();
    let env = TestEnv::new();
    // The store on an 8 MiB disk: the 15 MB tree cannot fit.
    let Some(disk) = SmallDisk::mount_for(
        "a_full_disk_is_reported_as_such_and_nothing_is_left_on_it",
        &env.gomig_home,
        "8m",
    ) else {
        return;
    };
    let err = install_fails(&mut gomig_site(&env, &m.site, &["install", GO_122]));
    assert!(err.contains("is full"), "{err}");
    assert!(
        err.contains(&env.gomig_home.display().to_string()),
        "the error names the disk:\n{err}"
    );
    assert!(err.contains("free some space"), "{err}");
    assert_nothing_installed(&env);
    assert!(
        disk.used_bytes() < 512 << 10,
        "{} bytes still used on the store's disk",
        disk.used_bytes()
    );
}

// ---------------------------------------------------------------------------------------------
// Offline installs (`--archive FILE`)
// ---------------------------------------------------------------------------------------------

/// Without `--sha256`, an archive is checked against the `sha256sum`-format sidecar beside it
/// (`FILE.sha256`, as `gomig archive` writes one); a sidecar that disagrees refuses it, and with
/// neither the install says the file itself was not checked.
#[test]
fn an_archive_without_sha256_is_checked_against_its_sidecar_or_said_unchecked() {
    let env = TestEnv::new();
    let dir = env.root().join("dl");
    fs::create_dir_all(&dir).unwrap();
    let archive = mini_archive(GO_122, &dir);
    let (sha, _) = dlsite::sha256_file(&archive).unwrap();
    let base = archive.file_name().unwrap().to_str().unwrap().to_string();
    let sidecar = dir.join(format!("{base}.sha256"));
    let install = || env.gomig(&["install", "--archive", archive.to_str().unwrap()]);

    fs::write(&sidecar, format!("{}  {base}\n", "0".repeat(64))).unwrap();
    let err = install_fails(&mut install());
    assert!(
        err.contains(&sha) && err.contains(&archive.display().to_string()),
        "{err}"
    );
    assert_nothing_installed(&env);

    fs::write(&sidecar, format!("{sha}  {base}\n")).unwrap();
    let out = run(&mut install());
    assert!(out.status.success(), "{}", describe(&out));
    assert!(
        stderr(&out).contains(&format!("against {}", sidecar.display())),
        "{}",
        describe(&out)
    );

    let again = TestEnv::new();
    fs::remove_file(&sidecar).unwrap();
    let out = run(&mut again.gomig(&["install", "--archive", archive.to_str().unwrap()]));
    assert!(out.status.success(), "{}", describe(&out));
    assert!(
        stderr(&out).contains("is not checked against a SHA-256") && stderr(&out).contains("--sha256 HEX"),
        "{}",
        describe(&out)
    );
}

#[test]
fn a_damaged_archive_file_is_refused_offline_and_nothing_is_installed() {
    let env = TestEnv::new();
    let good = mini_archive(GO_122, env.root());
    let bytes = fs::read(&good).unwrap();
    let (good_sha, _) = dlsite::sha256_file(&good).unwrap();
    let damaged = |name: &str, data: &[u8]| {
        let p = env.root().join(name);
        fs::write(&p, data).unwrap();
        p
    };
    let install = |path: &Path, sha: Option<&str>| {
        let mut args = vec!["install", "--archive", path.to_str().unwrap()];
        args.extend(sha.map(|s| ["--sha256", s]).into_iter().flatten());
        env.gomig(&args)
    };

    // One flipped byte, against the checksum of the good file.
    let mut flipped = bytes.clone();
    flipped[bytes.len() / 2] ^= 0x01;
    let path = damaged("flipped.tar.gz", &flipped);
    let err = install_fails(&mut install(&path, Some(&good_sha)));
    assert!(
        err.contains("checksum mismatch") && err.contains(&path.display().to_string()),
        "{err}"
    );
    assert_nothing_installed(&env);

    // Cut short, with no checksum to compare: the unpacking notices.
    let path = damaged("short.tar.gz", &bytes[..bytes.len() * 2 / 3]);
    let err = install_fails(&mut install(&path, None));
    assert!(
        err.contains(&path.display().to_string()) && err.contains("cut short"),
        "the error names the file and says it is short:\n{err}"
    );
    assert_nothing_installed(&env);

    // The gzip trailer's CRC damaged (the tree itself unpacks whole), with a checksum that
    // matches the damaged file: the damage past the tree is still caught.
    let mut trailer = bytes.clone();
    let at = bytes.len() - 6;
    trailer[at] ^= 0xff;
    let path = damaged("trailer.tar.gz", &trailer);
    let (sha, _) = dlsite::sha256_file(&path).unwrap();
    let err = install_fails(&mut install(&path, Some(&sha)));
    assert!(
        err.contains("damaged") && err.contains(&path.display().to_string()),
        "{err}"
    );
    assert_nothing_installed(&env);

    // Not a file at all: said so, not blamed on the archive's contents.
    let err = install_fails(&mut install(env.root(), None));
    assert!(err.contains("is not a file"), "{err}");
    assert_nothing_installed(&env);

    // Control: the good file installs and runs.
    env.gomig_ok(&["install", "--archive", good.to_str().unwrap(), "--sha256", &good_sha]);
    env.install_shims();
    assert_eq!(
        ok(&mut env.go_in(&env.work, &["version"])).trim(),
        go_version_line(GO_122)
    );
}

// ---------------------------------------------------------------------------------------------
// Hostile archives
// ---------------------------------------------------------------------------------------------

/// The small real tree of 1.22.10 with `extra` appended.
fn tree_with(extra: Vec<TarEntry>) -> Vec<TarEntry> {
    let mut entries = mini_entries(GO_122);
    entries.extend(extra);
    entries
}

fn file(name: &str, data: &str) -> TarEntry {
    TarEntry::File {
        name: name.into(),
        mode: 0o644,
        data: data.as_bytes().to_vec(),
    }
}

/// Installs `entries` as an archive with `--archive FILE --sha256 HEX`; asserts it is refused
/// with `why` in the error, nothing installed, and no file named `canary` anywhere under the
/// test's root or in /etc.
fn assert_refused(name: &str, entries: Vec<TarEntry>, why: &str) {
    let env = TestEnv::new();
    let archive = env.root().join(format!("{name}.tar.gz"));
    let (sha, _) = dlsite::write_tar_gz(&archive, &entries);
    let err = install_fails(&mut env.gomig(&["install", "--archive", archive.to_str().unwrap(), "--sha256", &sha]));
    assert!(err.contains(why), "{name}: expected {why:?} in:\n{err}");
    assert!(
        err.contains(&archive.display().to_string()),
        "{name}: the error names the file:\n{err}"
    );
    assert_nothing_installed(&env);
    let escaped = find_named(env.root(), "canary");
    assert!(escaped.is_empty(), "{name}: written outside the tree: {escaped:?}");
}

fn canary_in_etc() -> String {
    format!("gomig-canary-{}", std::process::id())
}

#[test]
fn dot_dot_entries_are_refused() {
    assert_refused(
        "dotdot",
        tree_with(vec![file("go/../../../canary-dotdot", "x")]),
        "path contains ..",
    );
    assert_refused(
        "dotdot-inner",
        tree_with(vec![file("go/src/../../canary-inner", "x")]),
        "path contains ..",
    );
}

#[test]
fn absolute_paths_are_refused() {
    let env = TestEnv::new();
    let target = env.root().join("canary-absolute");
    assert_refused(
        "absolute",
        tree_with(vec![file(target.to_str().unwrap(), "x")]),
        "absolute path",
    );
    assert!(!target.exists());
}

#[test]
fn a_symlink_leaving_the_tree_is_refused_before_anything_is_written_through_it() {
    let etc_canary = Path::new("/etc").join(canary_in_etc());
    let _cleanup = RemoveOnDrop(etc_canary.clone());
    assert_refused(
        "symlink-etc",
        tree_with(vec![
            TarEntry::Symlink {
                name: "go/etc".into(),
                target: "/etc".into(),
            },
            file(&format!("go/etc/{}", canary_in_etc()), "pwned"),
        ]),
        "symlink points outside the tree",
    );
    assert!(!etc_canary.exists(), "a file was written into /etc");
    assert_refused(
        "symlink-relative",
        tree_with(vec![
            TarEntry::Symlink {
                name: "go/src/up".into(),
                target: "../../..".into(),
            },
            file("go/src/up/canary-relative", "pwned"),
        ]),
        "symlink points outside the tree",
    );
    // A link that stays inside is allowed, but nothing is ever written through it.
    assert_refused(
        "symlink-through",
        tree_with(vec![
            TarEntry::Symlink {
                name: "go/lib".into(),
                target: "src".into(),
            },
            file("go/lib/canary-through", "x"),
        ]),
        "written through a symlink",
    );
}

#[test]
fn a_symlink_chain_that_climbs_through_an_earlier_link_is_refused() {
    // Each link alone stays inside the tree, lexically: `d/l -> ..` is the tree's root, and
    // `d/m -> l/../..` would be too if `l` were a directory. On disk `l` is the root, so `m`
    // is the directory above the tree.
    assert_refused(
        "symlink-chain",
        tree_with(vec![
            TarEntry::Dir {
                name: "go/d/".into(),
                mode: 0o755,
            },
            TarEntry::Symlink {
                name: "go/d/l".into(),
                target: "..".into(),
            },
            TarEntry::Symlink {
                name: "go/d/m".into(),
                target: "l/../..".into(),
            },
        ]),
        "symlink points outside the tree",
    );
    // The same trick ten directories deep climbs all the way to /etc: `j/m` is
    // `a/b/etc` lexically, but `/etc` (or whatever lies nine levels above the tree) on disk.
    let etc_canary = Path::new("/etc").join(canary_in_etc());
    let _cleanup = RemoveOnDrop(etc_canary.clone());
    let deep = "go/a/b/c/d/e/f/g/h/i/j";
    assert_refused(
        "symlink-chain-etc",
        tree_with(vec![
            TarEntry::Dir {
                name: format!("{deep}/"),
                mode: 0o755,
            },
            TarEntry::Symlink {
                name: format!("{deep}/l"),
                target: "../../../../../../../../../..".into(),
            },
            TarEntry::Symlink {
                name: format!("{deep}/m"),
                target: "l/../../../../../../../../../etc".into(),
            },
            file(&format!("{deep}/m/{}", canary_in_etc()), "pwned"),
        ]),
        "symlink points outside the tree",
    );
    assert!(!etc_canary.exists(), "a file was written into /etc");
    // A link that climbs through a name not extracted yet is refused too: a later entry could
    // make that name a link (`m` is checked before `x` exists).
    assert_refused(
        "symlink-chain-later",
        tree_with(vec![
            TarEntry::Dir {
                name: "go/d/".into(),
                mode: 0o755,
            },
            TarEntry::Symlink {
                name: "go/d/m".into(),
                target: "x/../..".into(),
            },
            TarEntry::Symlink {
                name: "go/d/x".into(),
                target: "..".into(),
            },
        ]),
        "symlink points outside the tree",
    );
}

#[test]
fn symlinks_that_stay_inside_are_kept_even_through_other_links() {
    // Links like the few in Go's own trees, and a chain that resolves inside: all installed.
    let env = TestEnv::new();
    let archive = env.root().join("links.tar.gz");
    let (sha, _) = dlsite::write_tar_gz(
        &archive,
        &tree_with(vec![
            TarEntry::Symlink {
                name: "go/src/errors/same-dir".into(),
                target: "errors.go".into(),
            },
            TarEntry::Symlink {
                name: "go/src/up".into(),
                target: "../bin".into(),
            },
            TarEntry::Symlink {
                name: "go/src/errors/through".into(),
                target: "../up/../VERSION".into(),
            },
        ]),
    );
    env.gomig_ok(&["install", "--archive", archive.to_str().unwrap(), "--sha256", &sha]);
    let root = env.gomig_home.join("toolchains/go1.22.10");
    assert_eq!(
        fs::read_link(root.join("src/errors/through")).unwrap(),
        Path::new("../up/../VERSION")
    );
    assert!(
        fs::read_to_string(root.join("src/errors/through"))
            .unwrap()
            .starts_with("go1.22.10")
    );
    env.gomig_ok(&["verify", GO_122]);
}

struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}

#[test]
fn a_hardlink_to_a_file_outside_is_refused() {
    let victim = tempfile::NamedTempFile::new().unwrap();
    let before = fs::metadata(victim.path()).unwrap().nlink();
    assert_refused(
        "hardlink-absolute",
        tree_with(vec![TarEntry::Hardlink {
            name: "go/canary-hardlink".into(),
            target: victim.path().to_str().unwrap().into(),
        }]),
        "hardlink points outside the tree",
    );
    assert_refused(
        "hardlink-passwd",
        tree_with(vec![TarEntry::Hardlink {
            name: "go/canary-passwd".into(),
            target: "go/../../../../../../etc/passwd".into(),
        }]),
        "hardlink points outside the tree",
    );
    assert_eq!(fs::metadata(victim.path()).unwrap().nlink(), before);
}

#[test]
fn device_nodes_and_fifos_are_refused() {
    assert_refused(
        "device",
        tree_with(vec![TarEntry::CharDevice {
            name: "go/canary-null".into(),
            major: 1,
            minor: 3,
        }]),
        "device files",
    );
    assert_refused(
        "fifo",
        tree_with(vec![TarEntry::Fifo {
            name: "go/canary-fifo".into(),
        }]),
        "device files",
    );
}

#[test]
fn entries_outside_go_are_refused() {
    assert_refused(
        "outside",
        tree_with(vec![file("canary-outside/file", "x")]),
        "entry outside go/",
    );
    assert_refused("sibling", tree_with(vec![file("gox/canary", "x")]), "entry outside go/");
}

#[test]
fn a_gzip_bomb_past_the_cap_is_refused() {
    let env = TestEnv::new();
    let archive = env.root().join("bomb.tar.gz");
    let (sha, size) = dlsite::write_tar_gz(
        &archive,
        &tree_with(vec![TarEntry::File {
            name: "go/canary-bomb".into(),
            mode: 0o644,
            data: vec![0; 64 << 20],
        }]),
    );
    let cap = 32u64 << 20;
    let started = Instant::now();
    let err = install_fails(
        env.gomig(&["install", "--archive", archive.to_str().unwrap(), "--sha256", &sha])
            .env("GOMIG_MAX_EXTRACT_BYTES", cap.to_string()),
    );
    assert!(err.contains(&format!("more than {cap} bytes")), "{err}");
    assert!(err.contains("GOMIG_MAX_EXTRACT_BYTES"), "{err}");
    assert!(
        size < cap / 2,
        "the archive ({size} bytes) is a bomb only if it is small"
    );
    assert!(started.elapsed() < Duration::from_secs(60));
    assert_nothing_installed(&env);
}

#[test]
fn an_archive_of_more_entries_than_the_cap_is_refused() {
    let env = TestEnv::new();
    let archive = env.root().join("many.tar.gz");
    let files = (0..500).map(|i| file(&format!("go/canary-many/{i}"), "x")).collect();
    let (sha, _) = dlsite::write_tar_gz(&archive, &tree_with(files));
    let err = install_fails(
        env.gomig(&["install", "--archive", archive.to_str().unwrap(), "--sha256", &sha])
            .env("GOMIG_MAX_EXTRACT_ENTRIES", "100"),
    );
    assert!(err.contains("more than 100 entries"), "{err}");
    assert!(err.contains("GOMIG_MAX_EXTRACT_ENTRIES"), "{err}");
    assert_nothing_installed(&env);

    // Control: the same archive under the default cap installs.
    env.gomig_ok(&["install", "--archive", archive.to_str().unwrap(), "--sha256", &sha]);
}

#[test]
fn a_hostile_archive_served_by_the_site_is_refused_too() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join(archive_name(GO_122));
    dlsite::write_tar_gz(
        &path,
        &tree_with(vec![
            TarEntry::Symlink {
                name: "go/pkg".into(),
                target: "../../..".into(),
            },
            file("go/pkg/canary-site", "x"),
        ]),
    );
    let site = Site::start(vec![Release::custom(GO_122, &archive_name(GO_122), &path)]);
    let env = TestEnv::new();
    let err = install_fails(&mut gomig_site(&env, &site, &["install", GO_122]));
    assert!(err.contains("symlink points outside the tree"), "{err}");
    assert!(err.contains(&site.file_url(&archive_name(GO_122))), "{err}");
    assert_eq!(
        site.downloads(&archive_name(GO_122)),
        1,
        "a hostile archive is not fetched again"
    );
    assert_nothing_installed(&env);
    assert!(find_named(env.root(), "canary").is_empty());
}

#[test]
fn setuid_and_setgid_bits_are_dropped_and_the_log_says_so() {
    let env = TestEnv::new();
    let archive = env.root().join("setuid.tar.gz");
    let (sha, _) = dlsite::write_tar_gz(
        &archive,
        &tree_with(vec![
            TarEntry::File {
                name: "go/bin/suid-helper".into(),
                mode: 0o4755,
                data: b"#!/bin/sh\n".to_vec(),
            },
            TarEntry::Dir {
                name: "go/sgid-dir/".into(),
                mode: 0o2775,
            },
            TarEntry::File {
                name: "go/sgid-dir/tool".into(),
                mode: 0o2777,
                data: b"x".to_vec(),
            },
        ]),
    );
    let out = run(&mut env.gomig(&["install", "--archive", archive.to_str().unwrap(), "--sha256", &sha]));
    assert!(
        out.status.success(),
        "setuid bits are neutralised, not fatal:\n{}",
        describe(&out)
    );
    let root = env.gomig_home.join("toolchains/go1.22.10");
    let mode = |rel: &str| fs::symlink_metadata(root.join(rel)).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode("bin/suid-helper"), 0o755);
    assert_eq!(mode("sgid-dir"), 0o755);
    assert_eq!(
        mode("sgid-dir/tool"),
        0o755,
        "no setgid, and no group/other write either"
    );
    let events = install_events(&env);
    let dropped = events[0]["dropped_setuid_setgid"].as_array().unwrap();
    assert_eq!(dropped.len(), 3, "{events:#?}");
    assert!(dropped.iter().any(|d| d == "go/bin/suid-helper"), "{events:#?}");
    env.gomig_ok(&["verify", GO_122]);
}

// ---------------------------------------------------------------------------------------------
// A mirror that answers wrongly, and the next one
// ---------------------------------------------------------------------------------------------

/// A site serving the small 1.22.10 tree with its index's listing changed by `edit`.
fn site_listing(edit: impl FnOnce(&mut DistFile)) -> (tempfile::TempDir, Site) {
    let tmp = tempfile::tempdir().unwrap();
    let mut release = mini_release(GO_122, tmp.path());
    edit(&mut release.files[0]);
    (tmp, Site::start(vec![release]))
}

/// `gomig install 1.22.10` with `first` then `second` as mirrors; asserts it installed from
/// `second` and returns stderr.
fn installs_from_the_second(env: &TestEnv, first: &Site, second: &Site) -> String {
    let out = run(&mut gomig_with_mirrors(
        env,
        &[first.url(), second.url()],
        &["install", GO_122],
    ));
    assert!(out.status.success(), "{}", describe(&out));
    let events = install_events(env);
    assert_eq!(events[0]["mirror"], second.url(), "{:?}", events[0]);
    assert_eq!(listed_versions(env), ["go1.22.10"]);
    stderr(&out)
}

#[test]
fn a_first_index_with_a_wrong_checksum_sends_the_install_to_the_next_mirror_and_its_own_index() {
    let wrong = "0".repeat(64);
    let (_tmp, first) = site_listing(|f| f.sha256 = wrong.clone());
    let second = mini_site();
    let env = TestEnv::new();
    let err = installs_from_the_second(&env, &first, &second.site);
    assert!(
        err.contains("checksum mismatch") && err.contains(&format!("expected SHA-256 {wrong}")),
        "the warning says what happened on the first mirror:\n{err}"
    );
    assert!(
        err.contains(&format!("trying the next mirror, {}", second.site.url())),
        "{err}"
    );
    assert_eq!(install_events(&env)[0]["sha256"], second.sha256);
}

#[test]
fn an_index_checksum_that_is_not_64_hex_digits_is_refused_before_anything_is_downloaded() {
    let (_tmp, first) = site_listing(|f| f.sha256 = "e3b0c44298fc1c149afbf4c8996fb924".into());
    let file = archive_name(GO_122);
    let env = TestEnv::new();
    let err = install_fails(&mut gomig_site(&env, &first, &["install", GO_122]));
    assert!(
        err.contains(&format!(
            "the index of {} lists \"e3b0c44298fc1c149afbf4c8996fb924\" as the SHA-256 of {file}, which is not 64 hex digits",
            first.url()
        )),
        "{err}"
    );
    assert!(err.contains("--refresh") && err.contains("--sha256 HEX"), "{err}");
    assert_eq!(
        first.downloads(&file),
        0,
        "nothing is downloaded against a damaged checksum"
    );
    assert_nothing_installed(&env);

    // With a second mirror, its own index's checksum is used.
    let second = mini_site();
    let env = TestEnv::new();
    let err = installs_from_the_second(&env, &first, &second.site);
    assert!(err.contains("not 64 hex digits"), "{err}");
    assert_eq!(first.downloads(&file), 0);
}

#[test]
fn an_index_larger_than_gomig_reads_is_called_that_and_the_next_mirror_is_used() {
    let (first, second) = (mini_site(), mini_site());
    first.site.fault(dlsite::Target::Index, Fault::PadTo(100 << 20));
    let env = TestEnv::new();
    let err = installs_from_the_second(&env, &first.site, &second.site);
    assert!(
        err.contains(&format!(
            "{}?mode=json&include=all: the answer is larger than 64 MiB",
            first.site.url()
        )),
        "the warning says what was wrong with the first mirror's index:\n{err}"
    );
    assert!(!err.contains("EOF"), "{err}");
    assert_eq!(first.site.downloads(&first.file), 0);
}

#[test]
fn a_web_page_where_the_archive_should_be_is_called_that_and_the_next_mirror_is_used() {
    let (first, second) = (mini_site(), mini_site());
    first.site.fault(first.file.as_str(), Fault::HtmlPage);
    let env = TestEnv::new();
    let err = installs_from_the_second(&env, &first.site, &second.site);
    assert!(
        err.contains(&format!(
            "{} answered with a web page (text/html; charset=utf-8), not the file",
            first.site.file_url(&first.file)
        )),
        "{err}"
    );
    assert!(
        !err.contains("connection"),
        "nothing is blamed on the connection:\n{err}"
    );
}

#[test]
fn a_redirect_to_a_file_url_is_refused_as_such() {
    let m = mini_site();
    m.site
        .fault(m.file.as_str(), Fault::RedirectTo("file:///etc/passwd".into()));
    let env = TestEnv::new();
    let err = install_fails(&mut gomig_site(&env, &m.site, &["install", GO_122]));
    assert!(
        err.contains(&format!(
            "{} redirects to file:///etc/passwd, which is not an http:// or https:// URL",
            m.site.file_url(&m.file)
        )),
        "{err}"
    );
    assert!(!err.contains("too many redirects"), "{err}");
    assert_nothing_installed(&env);
}

#[test]
fn a_mirror_that_is_not_an_http_url_is_refused_at_once_and_not_blamed_on_the_network() {
    let env = TestEnv::new();
    // A typo a new user makes: one attempt, no backoff, the URL named and how to fix it.
    let mut cmd = gomig_with_mirrors(&env, &["htps://go.dev/dl/".into()], &["install", GO_122]);
    cmd.env("GOMIG_RETRY_BASE_MS", "2000");
    let err = install_fails_within(&mut cmd, std::time::Duration::from_secs(5));
    assert!(
        err.contains("htps://go.dev/dl/?mode=json&include=all is not an http:// or https:// URL"),
        "{err}"
    );
    assert!(
        err.contains("GOMIG_MIRROR") && err.contains("--mirror"),
        "names where a mirror is set:\n{err}"
    );
    assert!(
        !err.contains("check the network") && !err.contains("attempts"),
        "nothing is blamed on the connection:\n{err}"
    );
    assert_nothing_installed(&env);
}

#[test]
fn a_redirect_loop_is_called_that_and_names_the_url() {
    let m = mini_site();
    let url = m.site.file_url(&m.file);
    m.site.fault(m.file.as_str(), Fault::RedirectTo(url.clone()));
    let env = TestEnv::new();
    let err = install_fails(&mut gomig_site(&env, &m.site, &["install", GO_122]));
    assert!(
        err.contains(&format!("{url}: more than 10 redirects (the last to {url})")),
        "{err}"
    );
    assert_nothing_installed(&env);
}
