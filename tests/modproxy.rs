//! `gomig install --proxy`: toolchains from a Go module proxy, verified by the checksum
//! database, against a loopback proxy and checksum database (tests/support/modproxy.rs) that
//! the go command itself accepts first.

#[path = "support/dlsite.rs"]
mod dlsite;
#[path = "support/install_kit.rs"]
mod kit;
#[path = "support/modproxy.rs"]
mod modproxy;
mod support;

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kit::{assert_nothing_installed, install_events, install_fails, toolchain_entries};
use modproxy::{ModProxy, SumDb, SumDbFaults, ToolchainModule};
use support::*;

const DB_NAME: &str = "sum.gomig.test";

/// A checksum database whose log holds `module` among other records, served on its own port.
fn sumdb_for(module: &ToolchainModule) -> (Arc<SumDb>, modproxy::Server) {
    let db = SumDb::new(DB_NAME);
    for i in 0..300 {
        // More than one tile (height 8) of records, so proofs span tiles.
        db.add_filler(i);
    }
    db.add_toolchain(module, &module.h1);
    db.add_filler(1000);
    let server = db.serve();
    (db, server)
}

/// `gomig ARGS` with GOPROXY and GOSUMDB set as a user of these servers would set them.
fn gomig_via(env: &TestEnv, goproxy: &str, gosumdb: &str, args: &[&str]) -> Command {
    let mut cmd = env.gomig(args);
    cmd.env("GOPROXY", goproxy)
        .env("GOSUMDB", gosumdb)
        .env("GOMIG_RETRY_BASE_MS", "1");
    cmd
}

/// (path, executable, SHA-256) of every file under `root`.
fn files_of(root: &Path) -> BTreeMap<String, (bool, String)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            let meta = fs::symlink_metadata(&path).unwrap();
            if meta.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                let exec = meta.permissions().mode() & 0o111 != 0;
                out.insert(rel, (exec, kit::sha256_of(&path)));
            }
        }
    }
    out
}

#[test]
fn go_itself_installs_through_the_loopback_proxy_and_sumdb_and_gomig_installs_the_same_goroot() {
    let module = modproxy::toolchain_module(&go_dist(GO_122), GO_122);
    let (db, db_server) = sumdb_for(&module);
    let proxy = ModProxy::start(vec![module.clone()]);
    let env = TestEnv::in_memory();
    let gosumdb = db.gosumdb(Some(&db_server.url()));

    // The referee: go1.23.9 switching to go1.22.10 downloads, verifies and runs it through them.
    let modcache = env.root().join("gomodcache");
    let mut go = env.command(go_dist(GO_123).join("bin/go"), &env.work);
    go.args(["version"])
        .env("GOTOOLCHAIN", "go1.22.10")
        .env("GOPROXY", proxy.url())
        .env("GOSUMDB", &gosumdb)
        .env("GOMODCACHE", &modcache)
        .env("GOTELEMETRY", "off");
    let said = ok(&mut go);
    assert_eq!(
        said.trim(),
        format!("go version go1.22.10 {}", host()),
        "Go ran another toolchain"
    );
    let zip_path = format!("/golang.org/toolchain/@v/{}.zip", module.version);
    assert!(proxy.requests().contains(&zip_path), "{:#?}", proxy.requests());
    let lookup = format!("/lookup/golang.org/toolchain@{}", module.version);
    assert!(db_server.requests().contains(&lookup), "{:#?}", db_server.requests());
    let gos_tree = modcache.join(format!("golang.org/toolchain@{}", module.version));

    // gomig, against the same servers; GONOSUMDB and GOPRIVATE do not turn the database off.
    let lookups_before = db_server.requests().iter().filter(|r| **r == lookup).count();
    let mut install = gomig_via(&env, &proxy.url(), &gosumdb, &["install", "--proxy", GO_122]);
    install
        .env("GONOSUMDB", "golang.org/toolchain")
        .env("GOPRIVATE", "golang.org/toolchain");
    let out = run(&mut install);
    assert!(out.status.success(), "{}", describe(&out));
    assert!(stderr(&out).contains("installed go1.22.10 ("), "{}", describe(&out));
    let lookups_after = db_server.requests().iter().filter(|r| **r == lookup).count();
    assert_eq!(lookups_after, lookups_before + 1, "gomig asked the checksum database");

    // The GOROOT is the one cmd/go makes of the module: the same files, contents and exec bits
    // (the _go.mod files copied to go.mod beside them, as Go copies them).
    let ours = env.gomig_home.join("toolchains/go1.22.10");
    let (theirs, mine) = (files_of(&gos_tree), files_of(&ours));
    let only = |a: &BTreeMap<String, (bool, String)>, b: &BTreeMap<String, (bool, String)>| {
        a.iter()
            .filter(|(k, v)| b.get(*k) != Some(v))
            .map(|(k, v)| format!("{k} {v:?}"))
            .take(10)
            .collect::<Vec<_>>()
    };
    assert!(
        only(&theirs, &mine).is_empty(),
        "Go's tree differs: {:#?}",
        only(&theirs, &mine)
    );
    assert!(
        only(&mine, &theirs).is_empty(),
        "gomig's tree differs: {:#?}",
        only(&mine, &theirs)
    );
    assert!(mine.contains_key("src/go.mod") && mine.contains_key("src/_go.mod"));
    assert!(mine["bin/go"].0 && mine["pkg/tool/linux_amd64/compile"].0 && !mine["src/go.mod"].0);

    // Installed as every install is: verified tree, manifest naming its source, logged.
    env.gomig_ok(&["verify", GO_122]);
    let manifest = fs::read_to_string(env.gomig_home.join("manifests/go1.22.10.manifest")).unwrap();
    let source = manifest.lines().find(|l| l.starts_with("source ")).unwrap_or_default();
    assert!(source.contains(&module.h1) && source.contains(DB_NAME), "{source}");
    let events = install_events(&env);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["h1"], module.h1.as_str());
    assert_eq!(
        events[0]["module"],
        format!("golang.org/toolchain@{}", module.version).as_str()
    );
    assert_eq!(events[0]["mirror"], proxy.url().as_str());
    let saved = fs::read_to_string(env.gomig_home.join(format!("state/sumdb/{DB_NAME}/latest"))).unwrap();
    assert!(
        saved.starts_with(&format!("go.sum database tree\n{}\n", db.size())),
        "{saved}"
    );
    let version = ok(env.command(ours.join("bin/go"), &env.work).arg("version"));
    assert!(version.contains("go1.22.10"), "{version}");
}

fn host() -> String {
    let (os, arch) = dlsite::host_platform();
    format!("{os}/{arch}")
}

/// A proxy with the small module of go1.22.10, a database vouching for it, and a user.
struct Setup {
    _tmp: tempfile::TempDir,
    module: ToolchainModule,
    db: Arc<SumDb>,
    db_server: modproxy::Server,
    proxy: ModProxy,
    env: TestEnv,
}

impl Setup {
    fn new() -> Setup {
        let tmp = tempfile::tempdir().unwrap();
        let module = modproxy::mini_module(GO_122, tmp.path());
        let (db, db_server) = sumdb_for(&module);
        let proxy = ModProxy::start(vec![module.clone()]);
        Setup {
            _tmp: tmp,
            module,
            db,
            db_server,
            proxy,
            env: TestEnv::new(),
        }
    }

    fn gosumdb(&self) -> String {
        self.db.gosumdb(Some(&self.db_server.url()))
    }

    fn install(&self) -> Command {
        gomig_via(
            &self.env,
            &self.proxy.url(),
            &self.gosumdb(),
            &["install", "--proxy", GO_122],
        )
    }

    fn install_quietly(&self) -> Command {
        gomig_via(
            &self.env,
            &self.proxy.url(),
            &self.gosumdb(),
            &["-q", "install", "--proxy", GO_122],
        )
    }

    fn zip_downloads(&self) -> usize {
        let zip = format!("/golang.org/toolchain/@v/{}.zip", self.module.version);
        self.proxy.requests().iter().filter(|r| **r == zip).count()
    }
}

#[test]
fn the_small_module_installs_and_runs() {
    let s = Setup::new();
    let out = run(&mut s.install());
    assert!(out.status.success(), "{}", describe(&out));
    s.env.gomig_ok(&["verify", GO_122]);
    let tree = s.env.gomig_home.join("toolchains/go1.22.10");
    assert_eq!(
        fs::read(tree.join("src/go.mod")).unwrap(),
        fs::read(tree.join("src/_go.mod")).unwrap()
    );
    assert_eq!(
        fs::metadata(tree.join("bin/gofmt")).unwrap().permissions().mode() & 0o777,
        0o755
    );
    assert_eq!(
        fs::metadata(tree.join("VERSION")).unwrap().permissions().mode() & 0o777,
        0o644
    );
}

#[test]
fn list_remote_and_version_prefixes_come_from_the_proxys_list() {
    let s = Setup::new();
    s.proxy.list_only("v0.0.1-go1.22.9.linux-amd64");
    s.proxy.list_only("v0.0.1-go1.23rc1.linux-amd64");
    s.proxy.list_only("v0.0.1-go1.99.0.darwin-arm64");
    let listed = ok(&mut gomig_via(
        &s.env,
        &s.proxy.url(),
        &s.gosumdb(),
        &["list-remote", "--all", "--proxy"],
    ));
    let names: Vec<&str> = listed.lines().filter_map(|l| l.split_whitespace().next()).collect();
    assert_eq!(names, ["go1.22.10", "go1.22.9", "go1.23rc1"], "{listed}");
    // `1.22` is the newest 1.22.x the proxy lists.
    let out = run(&mut gomig_via(
        &s.env,
        &s.proxy.url(),
        &s.gosumdb(),
        &["install", "--proxy", "1.22"],
    ));
    assert!(out.status.success(), "{}", describe(&out));
    assert!(stderr(&out).contains("installed go1.22.10 ("), "{}", describe(&out));
}

#[test]
fn the_config_and_the_go_env_file_choose_the_proxy_as_go_would() {
    let s = Setup::new();
    // GOPROXY from Go's own env file (no GOPROXY in the environment), chosen by the config.
    let env_file = s.env.home.join(".config/go/env");
    fs::create_dir_all(env_file.parent().unwrap()).unwrap();
    fs::write(
        &env_file,
        format!("GOPROXY={}\nGOSUMDB={}\n", s.proxy.url(), s.gosumdb()),
    )
    .unwrap();
    s.env.gomig_ok(&["config", "set", "proxy", "true"]);
    let mut cmd = s.env.gomig(&["install", GO_122]);
    cmd.env("GOMIG_RETRY_BASE_MS", "1");
    let out = run(&mut cmd);
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(s.zip_downloads(), 1);
}

// ---------------------------------------------------------------------------------------------
// Refusals: nothing is installed
// ---------------------------------------------------------------------------------------------

#[test]
fn gosumdb_off_is_refused_and_nothing_is_downloaded() {
    let s = Setup::new();
    let mut cmd = gomig_via(&s.env, &s.proxy.url(), "off", &["install", "--proxy", GO_122]);
    cmd.env("GONOSUMDB", "*").env("GOPRIVATE", "*");
    let err = install_fails(&mut cmd);
    assert!(err.contains("GOSUMDB in the environment is off"), "{err}");
    assert!(err.contains("unset GOSUMDB"), "the message says what to do:\n{err}");
    assert_eq!(s.zip_downloads(), 0);
    assert_nothing_installed(&s.env);
}

#[test]
fn a_tree_head_signed_by_another_key_is_refused() {
    let s = Setup::new();
    s.db.sign_with_another_key();
    let err = install_fails(&mut s.install());
    assert!(err.contains("is not signed by the key gomig trusts"), "{err}");
    assert!(err.contains(&s.db.vkey), "the message names the key:\n{err}");
    assert_eq!(s.zip_downloads(), 0);
    assert_nothing_installed(&s.env);
}

#[test]
fn tiles_that_do_not_hash_to_the_tree_head_are_refused() {
    let s = Setup::new();
    s.db.set_faults(SumDbFaults {
        bad_tiles: true,
        ..Default::default()
    });
    let err = install_fails(&mut s.install());
    assert!(err.contains("tiles do not hash to its signed tree head"), "{err}");
    assert_eq!(s.zip_downloads(), 0);
    assert_nothing_installed(&s.env);
}

#[test]
fn a_tree_head_with_a_bad_signature_is_refused() {
    let s = Setup::new();
    s.db.set_faults(SumDbFaults {
        bad_signature: true,
        ..Default::default()
    });
    let err = install_fails(&mut s.install());
    assert!(
        err.contains(&format!("signature by {DB_NAME} does not verify")),
        "{err}"
    );
    assert_eq!(s.zip_downloads(), 0);
    assert_nothing_installed(&s.env);
}

#[test]
fn a_record_the_signed_log_does_not_hold_is_refused() {
    let s = Setup::new();
    s.db.set_faults(SumDbFaults {
        forged_record: true,
        ..Default::default()
    });
    let err = install_fails(&mut s.install());
    assert!(err.contains("does not hash to the log's leaf"), "{err}");
    assert_eq!(s.zip_downloads(), 0);
    assert_nothing_installed(&s.env);
}

#[test]
fn a_go_mod_that_is_not_the_recorded_one_is_refused() {
    let s = Setup::new();
    s.proxy
        .serve_mod("module golang.org/toolchain\n\nrequire example.com/evil v1.0.0\n");
    let err = install_fails(&mut s.install());
    assert!(err.contains("this go.mod hashes to"), "{err}");
    assert!(err.contains(&s.module.mod_h1), "{err}");
    assert_eq!(s.zip_downloads(), 0);
    assert_nothing_installed(&s.env);
}

#[test]
fn an_h1_in_the_log_that_is_not_the_zips_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let module = modproxy::mini_module(GO_122, tmp.path());
    let db = SumDb::new(DB_NAME);
    let forged = format!("h1:{}", "A".repeat(43) + "=");
    db.add_toolchain(&module, &forged);
    let db_server = db.serve();
    let proxy = ModProxy::start(vec![module.clone()]);
    let env = TestEnv::new();
    let err = install_fails(&mut gomig_via(
        &env,
        &proxy.url(),
        &db.gosumdb(Some(&db_server.url())),
        &["install", "--proxy", GO_122],
    ));
    assert!(err.contains(&format!("hashes to {}", module.h1)), "{err}");
    assert!(err.contains(&format!("records {forged}")), "{err}");
    assert_nothing_installed(&env);
}

#[test]
fn a_zip_changed_by_one_byte_is_refused() {
    let s = Setup::new();
    let size = fs::metadata(&s.module.zip).unwrap().len();
    let flipped = modproxy::zip_with_flipped_byte(&s.module, s._tmp.path(), size / 3);
    s.proxy.serve_zip(&s.module.version, &flipped);
    let err = install_fails(&mut s.install());
    assert!(
        err.contains("the module zip is damaged or was altered") || err.contains("but the checksum database records"),
        "{err}"
    );
    assert!(err.contains(&s.module.h1), "the message shows the recorded h1:\n{err}");
    assert_nothing_installed(&s.env);
}

#[test]
fn a_forked_log_is_refused_whether_the_same_size_or_inconsistent_with_the_head_seen_before() {
    let s = Setup::new();
    // A first lookup saves the tree head (the install then fails: the proxy has no .info).
    s.proxy.fault(
        &format!("/golang.org/toolchain/@v/{}.info", s.module.version),
        404,
        None,
    );
    let err = install_fails(&mut s.install());
    assert!(err.contains(".info"), "{err}");
    let saved = s.env.gomig_home.join(format!("state/sumdb/{DB_NAME}/latest"));
    let seen = fs::read_to_string(&saved).unwrap();

    // The same key, the same size, another history.
    let fork = s.db.same_key();
    for i in 0..s.db.size() - 2 {
        fork.add_filler(i as usize + 5000);
    }
    fork.add_toolchain(&s.module, &s.module.h1);
    fork.add_filler(1000);
    assert_eq!(fork.size(), s.db.size());
    let fork_server = fork.serve();
    let forked = |db: &SumDb, server: &modproxy::Server| {
        install_fails(&mut gomig_via(
            &s.env,
            &s.proxy.url(),
            &db.gosumdb(Some(&server.url())),
            &["install", "--proxy", GO_122],
        ))
    };
    let err = forked(&fork, &fork_server);
    assert!(err.contains("SECURITY ERROR") && err.contains("has forked"), "{err}");
    assert!(err.contains(&saved.display().to_string()), "{err}");

    // Larger, but not an extension of the head seen before.
    fork.add_filler(7000);
    fork.add_filler(7001);
    let err = forked(&fork, &fork_server);
    assert!(err.contains("has forked"), "{err}");
    assert_eq!(
        fs::read_to_string(&saved).unwrap(),
        seen,
        "a forked head is never saved"
    );

    // The real log growing is consistent, and its new head replaces the one saved.
    s.db.add_filler(2000);
    let err = install_fails(&mut s.install());
    assert!(!err.contains("forked"), "{err}");
    let now = fs::read_to_string(&saved).unwrap();
    assert!(
        now.starts_with(&format!("go.sum database tree\n{}\n", s.db.size())),
        "{now}"
    );
    assert_nothing_installed(&s.env);
}

// ---------------------------------------------------------------------------------------------
// GOPROXY lists
// ---------------------------------------------------------------------------------------------

#[test]
fn a_comma_falls_through_a_404_and_the_database_is_found_through_the_proxy() {
    let s = Setup::new();
    let first = ModProxy::start(vec![]);
    first.fault("/", 404, None);
    s.proxy.proxy_sumdb(&s.db);
    let list = format!("{},{}", first.url(), s.proxy.url());
    // No URL in GOSUMDB: the database is reached through the first proxy that supports it.
    let out = run(&mut gomig_via(
        &s.env,
        &list,
        &s.db.gosumdb(None),
        &["install", "--proxy", GO_122],
    ));
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(install_events(&s.env)[0]["mirror"], s.proxy.url().as_str());
    let supported = format!("/sumdb/{DB_NAME}/supported");
    assert!(first.requests().contains(&supported), "{:#?}", first.requests());
    assert!(
        s.proxy
            .requests()
            .iter()
            .any(|r| r.starts_with(&format!("/sumdb/{DB_NAME}/lookup/")))
    );
    assert!(s.db_server.requests().is_empty(), "not reached directly");
}

#[test]
fn a_500_falls_through_only_after_a_pipe() {
    let s = Setup::new();
    let first = ModProxy::start(vec![]);
    first.fault("/", 500, None);
    let err = install_fails(&mut gomig_via(
        &s.env,
        &format!("{},{}", first.url(), s.proxy.url()),
        &s.gosumdb(),
        &["install", "--proxy", GO_122],
    ));
    assert!(err.contains("HTTP 500"), "{err}");
    assert!(s.proxy.requests().is_empty(), "a comma does not fall through a 500");
    assert_nothing_installed(&s.env);

    let out = run(&mut gomig_via(
        &s.env,
        &format!("{}|{}", first.url(), s.proxy.url()),
        &s.gosumdb(),
        &["install", "--proxy", GO_122],
    ));
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(s.zip_downloads(), 1);
}

#[test]
fn goproxy_off_is_refused_with_what_to_do() {
    let s = Setup::new();
    let err = fails(&mut gomig_via(
        &s.env,
        "off",
        &s.gosumdb(),
        &["install", "--proxy", GO_122],
    ));
    assert!(err.contains("GOPROXY in the environment is off"), "{err}");
    assert!(err.contains("--proxy=https://proxy.golang.org,direct"), "{err}");
    assert_nothing_installed(&s.env);
}

#[test]
fn options_that_cannot_apply_to_a_proxy_install_are_refused_before_any_request() {
    let s = Setup::new();
    let sha = "0".repeat(64);
    for (args, says) in [
        (
            vec!["install", "--proxy", "--sha256", sha.as_str(), GO_122],
            "--sha256 does not apply",
        ),
        (
            vec!["install", "--proxy", "--offline", GO_122],
            "--offline: a module proxy install needs",
        ),
        (
            vec!["install", "--proxy", "--mirror", "https://go.dev/dl/", GO_122],
            "--proxy and --mirror",
        ),
    ] {
        let err = fails(&mut gomig_via(&s.env, &s.proxy.url(), &s.gosumdb(), &args));
        assert!(err.contains(says), "{args:?}:\n{err}");
    }
    assert!(
        s.proxy.requests().iter().all(|r| r.ends_with("@v/list")),
        "{:#?}",
        s.proxy.requests()
    );
    assert_nothing_installed(&s.env);
}

#[test]
fn a_full_disk_while_the_zip_downloads_is_reported_as_such() {
    let s = Setup::new();
    // The store on a 2 MiB disk: the module zip (several MB) cannot be written.
    let Some(disk) = SmallDisk::mount_for(
        "a_full_disk_while_the_zip_downloads_is_reported_as_such",
        &s.env.gomig_home,
        "2m",
    ) else {
        return;
    };
    let err = install_fails(&mut s.install());
    assert!(err.contains("is full") && err.contains("free some space"), "{err}");
    assert_nothing_installed(&s.env);
    assert!(disk.used_bytes() < 512 << 10, "{} bytes still used", disk.used_bytes());
}

// ---------------------------------------------------------------------------------------------
// Crash safety and concurrency
// ---------------------------------------------------------------------------------------------

#[test]
fn two_concurrent_installs_of_one_version_download_once_and_both_succeed() {
    let s = Setup::new();
    let spawn = || {
        s.install()
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
    assert_eq!(s.zip_downloads(), 1);
    assert_eq!(toolchain_entries(&s.env), ["go1.22.10"]);
    s.env.gomig_ok(&["verify", GO_122]);
}

#[test]
fn kill_9_at_random_moments_never_leaves_a_visible_partial_toolchain() {
    let s = Setup::new();
    let install = || s.install_quietly();
    let started = Instant::now();
    ok(&mut install());
    let whole = started.elapsed();
    s.env.gomig_ok(&["uninstall", GO_122, "--force"]);
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    eprintln!("kill -9 test: an install takes {whole:?}; seed {seed}");
    let mut state = seed;
    let mut below = |n: u64| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) % n.max(1)
    };
    let mut window = whole;
    let mut interrupted = 0;
    for round in 0..20 {
        let delay = Duration::from_micros(below(window.as_micros() as u64));
        let mut child = install().stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
        std::thread::sleep(delay);
        // SAFETY: kill(2) on our own child's pid.
        unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
        let status = child.wait().unwrap();
        let when = format!("round {round}, killed after {delay:?} ({status})");
        for name in toolchain_entries(&s.env) {
            if name.starts_with(".staging-") {
                continue;
            }
            assert_eq!(name, "go1.22.10", "{when}: unexpected {name}");
            let out = run(&mut s.env.gomig(&["verify", &name]));
            assert!(
                out.status.success(),
                "{when}: visible but not complete:\n{}",
                describe(&out)
            );
        }
        if toolchain_entries(&s.env).contains(&"go1.22.10".to_string()) {
            s.env.gomig_ok(&["uninstall", GO_122, "--force"]);
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
    let out = run(&mut install());
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(
        toolchain_entries(&s.env),
        ["go1.22.10"],
        "staging leftovers were not cleaned"
    );
    s.env.gomig_ok(&["verify", GO_122]);
}
