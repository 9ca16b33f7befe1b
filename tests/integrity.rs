//! Integrity (`docs/integrity.md`): manifests and `verify`, archives and `restore`,
//! the verify gate on `switch`, `audit`, the event log and the journal, `prune`, fingerprints.
//!
//! Real GOROOTs throughout. Tests that change a tree change a private copy in their own temp
//! directory (`private_goroot`), never the shared cache in target/go-dists: the copy's
//! directories are its own and its files hard links, and a file is made the copy's own
//! (`own`) before its bytes or mode change.

#[path = "support/dlsite.rs"]
mod dlsite;
mod support;

use std::collections::BTreeSet;
use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use serde_json::Value;
use sha2::{Digest, Sha256};
use support::*;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// A copy of a real GOROOT under the test's own directory: its own directories (entries may
/// be added, removed and renamed freely) holding hard links to the cached files, so copying
/// costs no I/O. Call [`own`] on a file before changing its bytes or mode.
fn private_goroot(env: &TestEnv, version: &str) -> PathBuf {
    let dest = env.root().join("trees").join(format!("go{version}"));
    fs::create_dir_all(dest.parent().unwrap()).unwrap();
    ok(Command::new("cp").arg("-al").arg(go_dist(version)).arg(&dest));
    dest
}

/// Replaces the hard link at `path` by a copy of its own, so changing it leaves the shared
/// cache alone.
fn own(path: &Path) -> &Path {
    use std::os::unix::fs::MetadataExt;
    let tmp = path.with_extension("gomig-test-own");
    fs::copy(path, &tmp).unwrap();
    fs::rename(&tmp, path).unwrap();
    assert_eq!(
        fs::metadata(path).unwrap().nlink(),
        1,
        "{} is still shared",
        path.display()
    );
    path
}

/// The tree digest recorded for `name` (at install, adoption, restore or snapshot).
fn recorded_digest(env: &TestEnv, name: &str) -> String {
    let text = fs::read_to_string(env.gomig_home.join(format!("manifests/{name}.manifest"))).unwrap();
    let line = text.lines().find(|l| l.starts_with("tree-digest ")).unwrap();
    line["tree-digest ".len()..].to_string()
}

/// A tiny tree that adopts as `version` (a VERSION file and a `bin/go` script).
fn fake_goroot(dir: &Path, version: &str) -> PathBuf {
    fs::create_dir_all(dir.join("bin")).unwrap();
    fs::write(dir.join("VERSION"), format!("go{version}\n")).unwrap();
    let go = dir.join("bin/go");
    fs::write(&go, format!("#!/bin/sh\necho go{version}\n")).unwrap();
    fs::set_permissions(&go, fs::Permissions::from_mode(0o755)).unwrap();
    fs::write(dir.join("README"), "a small tree\n").unwrap();
    dir.to_path_buf()
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", describe(out)))
}

fn events(env: &TestEnv) -> Vec<Value> {
    fs::read_to_string(env.gomig_home.join("log/events.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad log line {l:?}: {e}")))
        .collect()
}

/// `gomig verify VERSION --json`: the report of that one toolchain, and the exit status.
fn verify(env: &TestEnv, version: &str) -> (Option<i32>, Value) {
    let out = run(&mut env.gomig(&["verify", version, "--json"]));
    let v = json(&out);
    (out.status.code(), v[0].clone())
}

fn tree_digest(env: &TestEnv, version: &str) -> String {
    let (code, report) = verify(env, version);
    assert_eq!(code, Some(0), "{report}");
    report["tree_digest"].as_str().unwrap().to_string()
}

fn mode(path: &Path) -> u32 {
    fs::symlink_metadata(path).unwrap().permissions().mode() & 0o7777
}

fn chmod(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

/// `gomig archive VERSION -o DIR/`; returns the archive's path.
fn archive(env: &TestEnv, version: &str, dir: &Path) -> PathBuf {
    fs::create_dir_all(dir).unwrap();
    let out = env.gomig_ok(&["archive", version, "-o", &format!("{}/", dir.display())]);
    let path = dir.join(dlsite::official_filename(version));
    assert!(out.contains(path.to_str().unwrap()), "{out}");
    path
}

/// Nothing of `name` in the store: no toolchain, no staging leftovers, no manifest.
fn assert_nothing_installed(env: &TestEnv, name: &str) {
    let dir = env.gomig_home.join("toolchains");
    let left: Vec<String> = fs::read_dir(&dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    assert!(left.is_empty(), "toolchains/ should be empty: {left:?}");
    assert!(!env.gomig_home.join(format!("manifests/{name}.manifest")).exists());
}

// --- raw tar surgery, independent of gomig's writer ------------------------------------------

#[derive(Clone)]
struct Member {
    header: [u8; 512],
    data: Vec<u8>,
}

impl Member {
    fn name(&self) -> Vec<u8> {
        let field = |r: std::ops::Range<usize>| {
            let f = &self.header[r];
            f[..f.iter().position(|&b| b == 0).unwrap_or(f.len())].to_vec()
        };
        let (prefix, name) = (field(345..500), field(0..100));
        if prefix.is_empty() {
            name
        } else {
            [prefix, b"/".to_vec(), name].concat()
        }
    }

    fn set_data(&mut self, data: Vec<u8>) {
        let size = format!("{:011o}\0", data.len());
        self.header[124..136].copy_from_slice(size.as_bytes());
        self.header[148..156].fill(b' ');
        let sum: u32 = self.header.iter().map(|&b| u32::from(b)).sum();
        self.header[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        self.data = data;
    }
}

/// The first `limit` members of a .tar.gz (all with `None`), read with flate2 and by hand.
fn read_members(archive: &Path, limit: Option<usize>) -> Vec<Member> {
    let mut tar = std::io::BufReader::new(flate2::read::GzDecoder::new(fs::File::open(archive).unwrap()));
    let mut members = Vec::new();
    while limit.is_none_or(|n| members.len() < n) {
        let mut header = [0u8; 512];
        tar.read_exact(&mut header).unwrap();
        if header.iter().all(|&b| b == 0) {
            break;
        }
        let size_text = String::from_utf8_lossy(&header[124..136]);
        let size = usize::from_str_radix(size_text.trim_matches(|c: char| c == '\0' || c == ' '), 8).unwrap();
        let mut data = vec![0u8; size.div_ceil(512) * 512];
        tar.read_exact(&mut data).unwrap();
        data.truncate(size);
        members.push(Member { header, data });
    }
    members
}

/// Writes `members` as a .tar.gz with a fresh sidecar (what someone altering an archive would do).
fn write_members(path: &Path, members: &[Member]) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut gz = flate2::write::GzEncoder::new(fs::File::create(path).unwrap(), flate2::Compression::new(1));
    for m in members {
        gz.write_all(&m.header).unwrap();
        gz.write_all(&m.data).unwrap();
        gz.write_all(&vec![0u8; m.data.len().div_ceil(512) * 512 - m.data.len()])
            .unwrap();
    }
    gz.write_all(&[0u8; 1024]).unwrap();
    gz.finish().unwrap();
    let sum = ok(Command::new("sha256sum")
        .arg(path.file_name().unwrap())
        .current_dir(path.parent().unwrap()));
    fs::write(crate_sidecar(path), sum).unwrap();
}

fn crate_sidecar(archive: &Path) -> PathBuf {
    PathBuf::from(format!("{}.sha256", archive.display()))
}

// ---------------------------------------------------------------------------------------------
// Manifests and verify
// ---------------------------------------------------------------------------------------------

#[test]
fn verify_names_every_kind_of_tampering_on_a_real_goroot() {
    let env = TestEnv::new();
    let root = private_goroot(&env, GO_122);
    // Go releases ship no symlinks; give the tree one to retarget.
    std::os::unix::fs::symlink("../VERSION", root.join("misc/gomig-link")).unwrap();
    env.gomig_ok(&["add", root.to_str().unwrap()]);
    let (code, report) = verify(&env, GO_122);
    assert_eq!(code, Some(0), "a fresh manifest verifies: {report}");
    assert!(report["differences"].as_array().unwrap().is_empty());

    // One byte in src/fmt/print.go, a file added in pkg/, one removed from bin/, chmod 777 on
    // bin/go, the symlink retargeted.
    let print = own(&root.join("src/fmt/print.go")).to_path_buf();
    let mut bytes = fs::read(&print).unwrap();
    bytes[1000] ^= 0x20;
    fs::write(&print, &bytes).unwrap();
    fs::write(root.join("pkg/intruder.a"), "!<arch>\n").unwrap();
    fs::remove_file(root.join("bin/gofmt")).unwrap();
    chmod(own(&root.join("bin/go")), 0o777);
    fs::remove_file(root.join("misc/gomig-link")).unwrap();
    std::os::unix::fs::symlink("../go.env", root.join("misc/gomig-link")).unwrap();

    let (code, report) = verify(&env, GO_122);
    assert_eq!(code, Some(1), "any difference is exit status 1");
    let found: BTreeSet<String> = report["differences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let kind = d["kind"].as_str().unwrap();
            let path = d["path"].as_str().unwrap_or("");
            match kind {
                "mode" | "target" => format!("{kind} {path} {} -> {}", d["expected"], d["actual"]),
                _ => format!("{kind} {path}"),
            }
        })
        .collect();
    let want: BTreeSet<String> = [
        "modified src/fmt/print.go",
        "added pkg/intruder.a",
        "removed bin/gofmt",
        "mode bin/go \"0755\" -> \"0777\"",
        "target misc/gomig-link \"../VERSION\" -> \"../go.env\"",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(found, want);

    // For people: one line per difference, by kind.
    let out = run(&mut env.gomig(&["verify", GO_122]));
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    for line in [
        "modified  src/fmt/print.go",
        "added     pkg/intruder.a",
        "removed   bin/gofmt",
        "mode      bin/go (0755 → 0777)",
        "target    misc/gomig-link (../VERSION → ../go.env)",
    ] {
        assert!(text.contains(line), "{line:?} missing:\n{text}");
    }
    let failures: Vec<Value> = events(&env).into_iter().filter(|e| e["action"] == "verify").collect();
    assert_eq!(
        failures.last().unwrap()["result"],
        "error",
        "verify failures are logged"
    );

    // The second factor: bin/go must still say it is the recorded release.
    fs::remove_file(root.join("bin/go")).unwrap();
    fs::write(root.join("bin/go"), "#!/bin/sh\necho go1.99.0\n").unwrap();
    chmod(&root.join("bin/go"), 0o755);
    let (_, report) = verify(&env, GO_122);
    let version = report["differences"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["kind"] == "version")
        .unwrap_or_else(|| panic!("no version difference: {report}"))
        .clone();
    assert_eq!(version["expected"], "go1.22.10");
    assert_eq!(version["actual"], "go1.99.0");
}

#[test]
fn a_broken_goenv_file_does_not_make_an_intact_tree_fail_verify() {
    let env = TestEnv::new();
    env.adopt(GO_122);
    // The user's go.env (GOENV) with garbage in it: settings each of which breaks some go
    // command for this user (GO111MODULE=bogus breaks `go env`, GOFLAGS=-bogus `go version`),
    // and bytes that are no setting at all. It is about the user's builds, not about the tree.
    let goenv = env.root().join("config/go/env");
    fs::create_dir_all(goenv.parent().unwrap()).unwrap();
    fs::write(
        &goenv,
        b"\x00\xff\xfe not a setting\nGO111MODULE=bogus\nGOFLAGS=-bogus\n=\n".as_slice(),
    )
    .unwrap();
    let go = go_dist(GO_122).join("bin/go");
    for args in [&["env", "GOVERSION"][..], &["version"]] {
        let out = run(env
            .command(&go, env.root())
            .args(args)
            .env("GOENV", &goenv)
            .env("GOTOOLCHAIN", "local")
            .env_remove("GOFLAGS"));
        assert!(
            !out.status.success(),
            "the GOENV file should break go {args:?}:\n{}",
            describe(&out)
        );
    }

    let out = run(env.gomig(&["verify", GO_122, "--json"]).env("GOENV", &goenv));
    let report = json(&out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "an intact tree verifies:\n{}",
        describe(&out)
    );
    assert_eq!(report[0]["differences"], serde_json::json!([]), "{report:#}");
}

#[test]
fn the_same_release_installed_twice_has_one_tree_digest_and_sha256sum_checks_the_list() {
    let official = dlsite::cached_archive(&go_dist(GO_122), GO_122).unwrap();
    let envs = [TestEnv::new(), TestEnv::new()];
    for env in &envs {
        env.gomig_ok(&[
            "install",
            "--archive",
            official.path.to_str().unwrap(),
            "--sha256",
            &official.sha256,
        ]);
    }
    let a = recorded_digest(&envs[0], "go1.22.10");
    let b = recorded_digest(&envs[1], "go1.22.10");
    assert_eq!(a, b, "two installs of one release");
    // Adopting the same release elsewhere gives the same digest too: one line to compare a fleet.
    let adopted = TestEnv::new();
    adopted.adopt(GO_122);
    assert_eq!(recorded_digest(&adopted, "go1.22.10"), a);
    // And the installed tree verifies against it.
    assert_eq!(tree_digest(&envs[1], GO_122), a);
    let manifest = fs::read_to_string(envs[0].gomig_home.join("manifests/go1.22.10.manifest")).unwrap();
    assert!(
        manifest.starts_with("gomig-manifest 1\ngo-version go1.22.10\n"),
        "{}",
        &manifest[..200]
    );
    assert!(manifest.contains(&format!("\ntree-digest {a}\n")));

    // --sha256sum writes what `sha256sum -c` checks with no gomig.
    let env = &envs[0];
    let list = env.root().join("go1.22.10.sha256");
    env.gomig_ok(&["snapshot", GO_122, "--sha256sum", list.to_str().unwrap()]);
    let text = fs::read_to_string(&list).unwrap();
    assert_eq!(
        text.lines().count(),
        manifest.lines().filter(|l| l.starts_with("f ")).count()
    );
    ok(Command::new("sha256sum").arg("-c").arg("--quiet").arg(&list));
    // And it fails when a file changes.
    let print = env.gomig_home.join("toolchains/go1.22.10/src/fmt/print.go");
    fs::write(&print, "package fmt\n").unwrap();
    let out = run(Command::new("sha256sum").arg("-c").arg("--quiet").arg(&list));
    assert!(!out.status.success());
    assert!(stdout(&out).contains("src/fmt/print.go: FAILED"), "{}", describe(&out));
}

// ---------------------------------------------------------------------------------------------
// Archive and restore
// ---------------------------------------------------------------------------------------------

#[test]
fn archive_then_restore_into_an_empty_store_gives_the_same_tree() {
    let env = TestEnv::new();
    env.adopt(GO_122);
    let digest = tree_digest(&env, GO_122);
    let out_dir = env.root().join("backup");
    let path = archive(&env, GO_122, &out_dir);
    let name = "go1.22.10.linux-amd64.tar.gz";

    // The sidecar is sha256sum's format, and sha256sum agrees with it.
    let sidecar = fs::read_to_string(out_dir.join(format!("{name}.sha256"))).unwrap();
    assert!(sidecar.ends_with(&format!("  {name}\n")), "{sidecar}");
    let check = ok(Command::new("sha256sum")
        .arg("-c")
        .arg(format!("{name}.sha256"))
        .current_dir(&out_dir));
    assert_eq!(check.trim(), format!("{name}: OK"));

    // GNU tar lists it: the manifest member first, then go/ and the tree, sorted; numeric owner
    // 0/0 and no names.
    let listing = ok(Command::new("tar").arg("-tvzf").arg(&path));
    let rows: Vec<Vec<&str>> = listing.lines().map(|l| l.split_whitespace().collect()).collect();
    assert!(
        rows.iter().all(|r| r.len() == 6 && r[1] == "0/0"),
        "owners: {}",
        &listing[..300]
    );
    let names: Vec<&str> = rows.iter().map(|r| r[5]).collect();
    assert_eq!(names[0], "gomig.manifest");
    assert_eq!(names[1], "go/");
    let tree: Vec<&str> = names[2..].iter().map(|n| n.trim_end_matches('/')).collect();
    let mut sorted = tree.clone();
    sorted.sort_unstable_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    assert_eq!(tree, sorted, "entries are sorted by path");
    assert!(tree.contains(&"go/bin/go") && tree.contains(&"go/src/fmt/print.go"));
    // POSIX pax: a global header carrying gomig's metadata, ustar headers after it.
    let members = read_members(&path, Some(2));
    assert_eq!(members[0].header[156], b'g', "a pax global header comes first");
    let global = String::from_utf8_lossy(&members[0].data).into_owned();
    for record in [
        format!("GOMIG.tree-digest={digest}\n"),
        "GOMIG.go-version=go1.22.10\n".into(),
        "GOMIG.manifest=gomig.manifest\n".into(),
    ] {
        assert!(global.contains(&record), "{record:?} not in {global}");
    }
    assert_eq!(&members[1].header[257..265], b"ustar\x0000");

    // GNU tar extracts it, quietly, to the same tree (contents, modes, links: the digest).
    let x = env.root().join("extracted");
    fs::create_dir_all(&x).unwrap();
    let out = run(Command::new("tar").arg("-xzf").arg(&path).current_dir(&x));
    assert!(out.status.success() && out.stderr.is_empty(), "{}", describe(&out));
    let other = TestEnv::new();
    other.gomig_ok(&["add", x.join("go").to_str().unwrap()]);
    assert_eq!(recorded_digest(&other, "go1.22.10"), digest);

    // Restore into an empty store.
    let fresh = TestEnv::new();
    let out = fresh.gomig_ok(&["restore", path.to_str().unwrap()]);
    assert_eq!(out.trim(), format!("go1.22.10 {digest}"));
    assert_eq!(tree_digest(&fresh, GO_122), digest);
    assert!(
        fresh.gomig_home.join("toolchains/go1.22.10/bin/go").is_file(),
        "installed, not adopted"
    );
    let restored = events(&fresh).into_iter().find(|e| e["action"] == "restore").unwrap();
    assert_eq!(restored["tree_digest"], digest.as_str());
    assert_eq!(restored["sha256_checked"], true);
    let version = ok(&mut fresh.gomig(&["exec", GO_122, "--", "go", "version"]));
    assert!(version.starts_with("go version go1.22.10 "), "{version}");
}

#[test]
fn restore_refuses_a_damaged_or_altered_archive_and_installs_nothing() {
    let env = TestEnv::new();
    env.adopt(GO_122);
    let good = archive(&env, GO_122, &env.root().join("good"));
    let sidecar = fs::read_to_string(crate_sidecar(&good)).unwrap();
    let bytes = fs::read(&good).unwrap();
    let name = good.file_name().unwrap();
    let case = |label: &str| env.root().join(label).join(name);
    let target = TestEnv::new();
    let refuse = |archive: &Path, why: &str| {
        let err = fails(&mut target.gomig(&["restore", archive.to_str().unwrap()]));
        assert!(err.contains(why), "{}: expected {why:?} in:\n{err}", archive.display());
        assert!(err.contains("nothing was restored"), "{err}");
        assert_nothing_installed(&target, "go1.22.10");
    };

    // A flipped byte: the sidecar catches it.
    let flipped = case("flipped");
    fs::create_dir_all(flipped.parent().unwrap()).unwrap();
    let mut b = bytes.clone();
    let mid = b.len() / 2;
    b[mid] ^= 0x01;
    fs::write(&flipped, &b).unwrap();
    fs::write(crate_sidecar(&flipped), &sidecar).unwrap();
    refuse(&flipped, "checksum mismatch");

    // Truncated: with the sidecar, a checksum mismatch; without, a damaged stream.
    let truncated = case("truncated");
    fs::create_dir_all(truncated.parent().unwrap()).unwrap();
    fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    fs::write(crate_sidecar(&truncated), &sidecar).unwrap();
    refuse(&truncated, "checksum mismatch");
    fs::remove_file(crate_sidecar(&truncated)).unwrap();
    refuse(&truncated, "damaged or truncated");

    // A swapped member (bin/gofmt carries bin/go's bytes), with a matching sidecar: the
    // embedded manifest catches it.
    let original = read_members(&good, None);
    let mut members = original.clone();
    let go = members.iter().find(|m| m.name() == b"go/bin/go").unwrap().data.clone();
    members
        .iter_mut()
        .find(|m| m.name() == b"go/bin/gofmt")
        .unwrap()
        .set_data(go);
    let swapped = case("swapped");
    write_members(&swapped, &members);
    refuse(&swapped, "does not match the archive's own manifest");

    // A manifest that does not match the tree: consistent in itself (its digest is right) but
    // missing one file the archive holds (VERSION, early in the archive: the restore stops there).
    let mut members = original;
    let m = members.iter_mut().find(|m| m.name() == b"gomig.manifest").unwrap();
    let text = String::from_utf8(m.data.clone()).unwrap();
    let (head, body) = text.split_once("\n\n").unwrap();
    let body: String = body
        .lines()
        .filter(|l| !l.ends_with(" VERSION"))
        .map(|l| format!("{l}\n"))
        .collect();
    let digest: String = Sha256::digest(body.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let head: String = head
        .lines()
        .map(|l| {
            if l.starts_with("tree-digest ") {
                format!("tree-digest {digest}")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    m.set_data(format!("{head}\n\n{body}").into_bytes());
    let altered = case("manifest");
    write_members(&altered, &members);
    refuse(&altered, "does not match the archive's own manifest");
    // (archive_then_restore_into_an_empty_store_gives_the_same_tree restores an intact one.)
}

// ---------------------------------------------------------------------------------------------
// The switch gate
// ---------------------------------------------------------------------------------------------

#[test]
fn switch_refuses_a_tampered_toolchain_and_rollback_restores_the_previous_default() {
    let env = TestEnv::new();
    let old = fake_goroot(&env.root().join("old/go"), "1.21.13");
    env.gomig_ok(&["add", old.to_str().unwrap()]);
    let root = private_goroot(&env, GO_122);
    env.gomig_ok(&["add", root.to_str().unwrap()]);

    // A good switch (verified), and back.
    env.gomig_ok(&["switch", GO_121]);
    let out = run(&mut env.gomig(&["switch", GO_122]));
    assert!(out.status.success(), "{}", describe(&out));
    assert!(
        stderr(&out).contains("gomig rollback"),
        "the rollback command is printed"
    );
    assert_eq!(env.default_name(), "go1.22.10");
    let done = events(&env)
        .into_iter()
        .rev()
        .find(|e| e["action"] == "switch")
        .unwrap();
    assert_eq!(
        (done["verified"].as_bool(), done["from"].as_str()),
        (Some(true), Some("go1.21.13"))
    );
    env.gomig_ok(&["rollback"]);
    assert_eq!(env.default_name(), "go1.21.13");

    // One byte changed: the switch is refused and the default stays.
    let print = own(&root.join("src/fmt/print.go")).to_path_buf();
    let mut bytes = fs::read(&print).unwrap();
    bytes[10] ^= 0x01;
    fs::write(&print, bytes).unwrap();
    let err = fails(&mut env.gomig(&["switch", GO_122]));
    assert!(
        err.contains("does not match its manifest") && err.contains("src/fmt/print.go"),
        "{err}"
    );
    assert_eq!(env.default_name(), "go1.21.13");
    let refused = events(&env)
        .into_iter()
        .rev()
        .find(|e| e["action"] == "switch")
        .unwrap();
    assert_eq!(refused["result"], "error");
    assert_eq!(refused["to"], "go1.22.10");

    // --no-verify goes ahead, and the log says it did not verify.
    let out = run(&mut env.gomig(&["switch", GO_122, "--no-verify"]));
    assert!(out.status.success(), "{}", describe(&out));
    assert!(stderr(&out).contains("without verifying"), "{}", describe(&out));
    let done = events(&env)
        .into_iter()
        .rev()
        .find(|e| e["action"] == "switch")
        .unwrap();
    assert_eq!(done["verified"], false);
    assert_eq!(env.default_name(), "go1.22.10");
    env.gomig_ok(&["rollback"]);
    assert_eq!(env.default_name(), "go1.21.13");
}

#[test]
fn a_failed_verify_and_a_switch_the_gate_refuses_are_logged_also_without_a_manifest() {
    let env = TestEnv::new();
    let old = fake_goroot(&env.root().join("old/go"), "1.21.13");
    env.gomig_ok(&["add", old.to_str().unwrap()]);
    env.gomig_ok(&["switch", GO_121]);
    // Installed, but never recorded: nothing to verify it against.
    env.fake_toolchain("go1.22.1");
    let last = |action: &str| {
        events(&env)
            .into_iter()
            .rev()
            .find(|e| e["action"] == action)
            .unwrap_or_else(|| panic!("no {action} event in the log"))
    };

    let err = fails(&mut env.gomig(&["verify", "1.22.1"]));
    assert!(
        err.contains("go1.22.1 has no recorded manifest") && err.contains("gomig snapshot go1.22.1"),
        "{err}"
    );
    let logged = last("verify");
    assert_eq!(logged["version"], "go1.22.1");
    assert_eq!(logged["result"], "error");
    assert_eq!(logged["no_manifest"], true);
    assert!(
        logged["error"].as_str().unwrap().contains("no recorded manifest"),
        "{logged}"
    );

    let err = fails(&mut env.gomig(&["switch", "1.22.1"]));
    assert!(err.contains("refusing to switch to an unverified toolchain"), "{err}");
    assert_eq!(env.default_name(), "go1.21.13");
    let refused = last("switch");
    assert_eq!(refused["to"], "go1.22.1");
    assert_eq!(refused["result"], "error");
    assert_eq!(refused["no_manifest"], true);
    assert!(
        refused["error"]
            .as_str()
            .unwrap()
            .contains("verify failed: go1.22.1 has no recorded manifest"),
        "{refused}"
    );
}

// ---------------------------------------------------------------------------------------------
// Audit
// ---------------------------------------------------------------------------------------------

fn audit(env: &TestEnv, args: &[&str], path: &str, vars: &[(&str, &str)]) -> (Option<i32>, Value) {
    let mut cmd = env.gomig(&[&["audit", "--json"][..], args].concat());
    cmd.env("PATH", path);
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let out = run(&mut cmd);
    (out.status.code(), json(&out))
}

fn has(findings: &Value, check: &str, subject: &str) -> bool {
    findings["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["check"] == check && f["subject"].as_str().unwrap().contains(subject))
}

#[test]
fn audit_finds_each_planted_problem_and_fix_repairs_the_permissions_inside_the_store() {
    let env = TestEnv::new();
    // A toolchain inside the store (what --fix may repair), a real Go adopted from outside (its
    // `go env` reads the GOENV file), and a small adopted tree outside (never changed).
    let goroot = env.fake_toolchain("go1.30.1");
    for dir in ["src/fmt", "misc"] {
        fs::create_dir_all(goroot.join(dir)).unwrap();
    }
    fs::write(goroot.join("src/fmt/print.go"), "package fmt\n").unwrap();
    env.adopt(GO_122);
    env.install_shims();
    let outside = fake_goroot(&env.root().join("elsewhere/go"), "1.20.1");
    env.gomig_ok(&["add", outside.to_str().unwrap()]);
    let clean_path = env.path_with_shims();
    let (code, report) = audit(&env, &[], &clean_path, &[]);
    assert_eq!(code, Some(0), "a fresh store has no findings: {report}");

    let print = goroot.join("src/fmt/print.go");
    let gofmt = goroot.join("bin/gofmt");
    let shims = env.shims_dir();
    chmod(&print, 0o666);
    chmod(&gofmt, 0o4755);
    std::os::unix::fs::symlink("/etc/passwd", goroot.join("misc/escape")).unwrap();
    chmod(&shims, 0o775);
    let early = env.root().join("early-bin");
    fs::create_dir_all(&early).unwrap();
    chmod(&early, 0o777);
    chmod(&outside.join("README"), 0o666);
    // A risky setting in the GOENV file (what `go env -w` writes), seen through `go env`.
    let goenv = env.home.join(".config/go/env");
    fs::create_dir_all(goenv.parent().unwrap()).unwrap();
    fs::write(&goenv, "GONOSUMDB=*\n").unwrap();
    let risky_path = format!("{}:{clean_path}", early.display());
    let risky = [
        ("GOSUMDB", "off"),
        ("GOINSECURE", "*"),
        ("GOPROXY", "http://proxy.example.com,direct"),
    ];

    let (code, report) = audit(&env, &[], &risky_path, &risky);
    assert_eq!(code, Some(1), "{report}");
    let print_s = print.to_str().unwrap();
    let gofmt_s = gofmt.to_str().unwrap();
    for (check, subject) in [
        ("world-writable", print_s),
        ("setuid", gofmt_s),
        ("symlink-escape", "misc/escape"),
        ("path-writable", shims.to_str().unwrap()),
        ("path-writable", early.to_str().unwrap()),
        ("world-writable", outside.join("README").to_str().unwrap()),
        ("gosumdb-off", "GOSUMDB=off (environment)"),
        ("goinsecure", "GOINSECURE=* (environment)"),
        ("goproxy-http", "GOPROXY=http://proxy.example.com,direct (environment)"),
        ("nosumdb-all", "GONOSUMDB=* (go env of go1.22.10"),
    ] {
        assert!(
            has(&report, check, subject),
            "no {check} finding for {subject}:\n{report:#}"
        );
    }

    let (code, report) = audit(&env, &["--fix"], &risky_path, &risky);
    assert_eq!(code, Some(1), "the settings are still there: {report}");
    let fixed: BTreeSet<&str> = report["fixed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(fixed, BTreeSet::from([print_s, gofmt_s, shims.to_str().unwrap()]));
    assert_eq!(mode(&print), 0o644);
    assert_eq!(mode(&gofmt), 0o755);
    assert_eq!(mode(&shims), 0o755);
    // Outside GOMIG_HOME nothing changed.
    assert_eq!(mode(&early), 0o777);
    assert_eq!(mode(&outside.join("README")), 0o666);
    for (check, subject) in [("world-writable", print_s), ("setuid", gofmt_s)] {
        assert!(
            !has(&report, check, subject),
            "{check} {subject} should be fixed: {report:#}"
        );
    }
    assert!(has(&report, "path-writable", early.to_str().unwrap()));
    assert!(has(&report, "symlink-escape", "misc/escape"));
    let logged = events(&env).into_iter().find(|e| e["action"] == "audit-fix").unwrap();
    assert_eq!(logged["fixed"], 3);

    // --fail-on: only the escaping symlink (medium) is left.
    chmod(&outside.join("README"), 0o644);
    fs::remove_file(&goenv).unwrap();
    let (code, report) = audit(&env, &["--fail-on", "high"], &clean_path, &[]);
    assert_eq!(report["findings"].as_array().unwrap().len(), 1, "{report:#}");
    assert_eq!(code, Some(0));
    assert_eq!(audit(&env, &["--fail-on", "medium"], &clean_path, &[]).0, Some(1));
    // And people get the fix with each finding.
    let mut cmd = env.gomig(&["audit"]);
    let text = stdout(&run(&mut cmd));
    assert!(
        text.contains("MEDIUM  symlink-escape") && text.contains("fix: check that /etc/passwd is trusted"),
        "{text}"
    );
}

// ---------------------------------------------------------------------------------------------
// The event log and the journal
// ---------------------------------------------------------------------------------------------

#[test]
fn eight_processes_appending_at_once_lose_and_interleave_nothing() {
    let env = TestEnv::new();
    const PER_PROCESS: usize = 30;
    for i in 0..8 {
        env.fake_toolchain(&format!("go1.30.{i}"));
    }
    let children: Vec<_> = (0..8)
        .map(|i| {
            let script = format!(
                "i=0; while [ $i -lt {PER_PROCESS} ]; do \"$0\" -q snapshot 1.30.{i} >/dev/null || exit 1; i=$((i+1)); done"
            );
            env.command("sh", &env.work)
                .arg("-c")
                .arg(script)
                .arg(gomig_bin())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    let text = fs::read_to_string(env.gomig_home.join("log/events.jsonl")).unwrap();
    assert!(text.ends_with('\n'));
    let log = events(&env);
    assert_eq!(log.len(), 8 * PER_PROCESS, "every event is there");
    for i in 0..8 {
        let name = format!("go1.30.{i}");
        let n = log.iter().filter(|e| e["version"] == name.as_str()).count();
        assert_eq!(n, PER_PROCESS, "events of {name}");
    }
    assert!(log.iter().all(|e| e["action"] == "snapshot" && e["result"] == "ok"));
}

/// A datagram of the journal's native protocol, as fields.
fn parse_journal(datagram: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut fields = Vec::new();
    let mut rest = datagram;
    while !rest.is_empty() {
        let eol = rest
            .iter()
            .position(|&b| b == b'\n')
            .expect("a field ends with a newline");
        let line = &rest[..eol];
        if let Some(eq) = line.iter().position(|&b| b == b'=') {
            fields.push((String::from_utf8(line[..eq].to_vec()).unwrap(), line[eq + 1..].to_vec()));
            rest = &rest[eol + 1..];
        } else {
            // Binary-safe form: NAME\n, a little-endian u64 length, the value, \n.
            let name = String::from_utf8(line.to_vec()).unwrap();
            let len = u64::from_le_bytes(rest[eol + 1..eol + 9].try_into().unwrap()) as usize;
            let value = rest[eol + 9..eol + 9 + len].to_vec();
            assert_eq!(rest[eol + 9 + len], b'\n');
            fields.push((name, value));
            rest = &rest[eol + 10 + len..];
        }
    }
    fields
}

fn field<'a>(fields: &'a [(String, Vec<u8>)], name: &str) -> &'a str {
    let v = &fields
        .iter()
        .find(|(k, _)| k == name)
        .unwrap_or_else(|| panic!("no {name} in {fields:?}"))
        .1;
    std::str::from_utf8(v).unwrap()
}

#[test]
fn the_journal_receives_each_event_with_its_fields_and_gomig_log_shows_them() {
    let env = TestEnv::new();
    let socket = env.root().join("journal.sock");
    let journal = UnixDatagram::bind(&socket).unwrap();
    journal.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let gomig = |args: &[&str]| {
        let mut cmd = env.gomig(args);
        cmd.env("GOMIG_JOURNAL_SOCKET", &socket);
        run(&mut cmd)
    };
    let mut buf = vec![0u8; 64 * 1024];
    let mut next = || {
        let n = journal.recv(&mut buf).expect("a datagram from gomig");
        parse_journal(&buf[..n])
    };

    // A GOROOT whose path has a newline: its field needs the binary-safe form.
    let odd = fake_goroot(&env.root().join("odd\ngoroot"), "1.20.1");
    let out = gomig(&["add", odd.to_str().unwrap()]);
    assert!(out.status.success(), "{}", describe(&out));
    let f = next();
    assert_eq!(field(&f, "SYSLOG_IDENTIFIER"), "gomig");
    assert_eq!(field(&f, "MESSAGE"), "gomig add go1.20.1: ok");
    assert_eq!(field(&f, "PRIORITY"), "6");
    assert_eq!(field(&f, "GOMIG_ACTION"), "add");
    assert_eq!(field(&f, "GOMIG_VERSION"), "go1.20.1");
    assert_eq!(field(&f, "GOMIG_GOROOT"), odd.to_str().unwrap());
    assert_eq!(field(&f, "GOMIG_USER"), "tester");
    assert_eq!(field(&f, "GOMIG_RESULT"), "ok");
    assert!(field(&f, "GOMIG_PID").parse::<u32>().is_ok());
    assert_eq!(field(&f, "GOMIG_TREE_DIGEST").len(), 64);
    // The store had no default: the adoption made it one, logged as a switch with its reason.
    let f = next();
    assert_eq!(field(&f, "MESSAGE"), "gomig switch go1.20.1: ok");
    assert_eq!(field(&f, "GOMIG_REASON"), "first toolchain adopted");

    // A switch without verification is a warning; a failure an error.
    env.fake_toolchain("go1.21.1");
    assert!(gomig(&["switch", "1.21.1", "--no-verify"]).status.success());
    let f = next();
    assert_eq!(field(&f, "MESSAGE"), "gomig switch go1.20.1 -> go1.21.1: ok");
    assert_eq!(field(&f, "PRIORITY"), "4");
    assert_eq!(field(&f, "GOMIG_VERIFIED"), "false");
    assert!(!gomig(&["restore", "/nonexistent/go.tar.gz"]).status.success());
    let f = next();
    assert_eq!(field(&f, "PRIORITY"), "3");
    assert_eq!(field(&f, "GOMIG_RESULT"), "error");
    assert!(field(&f, "GOMIG_ERROR").contains("cannot open /nonexistent/go.tar.gz"));

    // No journal, or something else at the path: the command still succeeds.
    drop(journal);
    assert!(gomig(&["switch", "1.21.1", "--no-verify"]).status.success());
    fs::remove_file(&socket).unwrap();
    fs::write(&socket, "not a socket").unwrap();
    let out = gomig(&["snapshot", "1.20.1"]);
    assert!(out.status.success(), "{}", describe(&out));

    // gomig log: the same events for people, or the lines as they are.
    let text = env.gomig_ok(&["log"]);
    let lines: Vec<&str> = text.lines().collect();
    // add, its first-default switch, switch, the failed restore, snapshot (the last switch
    // changed nothing); the newline in the GOROOT is escaped, one event per line.
    assert_eq!(lines.len(), 5, "{text}");
    assert!(lines[0].contains("odd\\ngoroot"), "{text}");
    assert!(lines[0].contains(" add ") && lines[0].contains(" go1.20.1 "), "{text}");
    assert!(lines[3].contains("restore") && lines[3].contains("error"), "{text}");
    let last_two = env.gomig_ok(&["log", "--json", "-n", "2"]);
    let raw = fs::read_to_string(env.gomig_home.join("log/events.jsonl")).unwrap();
    let tail: Vec<&str> = raw.lines().skip(3).collect();
    assert_eq!(
        last_two.lines().collect::<Vec<_>>(),
        tail,
        "--json passes the lines through"
    );
}

// ---------------------------------------------------------------------------------------------
// Prune
// ---------------------------------------------------------------------------------------------

#[test]
fn prune_removes_only_what_nothing_needs_and_archives_it_first() {
    let env = TestEnv::new();
    for name in ["go1.16.1", "go1.18.1", "go1.20.1", "go1.21.1", "go1.21.2", "go1.22.1"] {
        env.fake_toolchain(name);
        env.gomig_ok(&["snapshot", name]);
    }
    // History: 1.20.1, 1.21.1, 1.21.2 (the rollback target); default 1.22.1.
    for v in ["1.20.1", "1.21.1", "1.21.2", "1.22.1"] {
        env.gomig_ok(&["switch", v, "--no-verify"]);
    }
    // Adopted once a default exists (the first toolchain of a store would become it).
    let adopted = fake_goroot(&env.root().join("distro/go"), "1.17.1");
    env.gomig_ok(&["add", adopted.to_str().unwrap()]);
    // A project under the configured roots pins 1.18 (the newest 1.18.x installed).
    let projects = env.dir("projects");
    env.write("projects/app/.go-version", "1.18\n");
    fs::write(
        env.root().join("config.toml"),
        format!("project_roots = [{:?}]\n", projects.display().to_string()),
    )
    .unwrap();

    let plan = env.gomig_ok(&["prune", "--dry-run"]);
    let installed = || -> BTreeSet<String> {
        fs::read_dir(env.gomig_home.join("toolchains"))
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect()
    };
    assert_eq!(installed().len(), 7, "--dry-run changes nothing:\n{plan}");
    for line in [
        "remove  go1.16.1",
        "remove  go1.20.1",
        "keep    go1.22.1     the default",
        "keep    go1.21.2     the rollback target",
        "keep    go1.21.1     in the last 2 of the rollback history",
        "keep    go1.18.1     pinned by",
        "keep    go1.17.1     adopted from",
    ] {
        assert!(plan.contains(line), "{line:?} missing:\n{plan}");
    }

    let out = env.gomig_ok(&["prune"]);
    let left = installed();
    assert_eq!(
        left,
        ["go1.17.1", "go1.18.1", "go1.21.1", "go1.21.2", "go1.22.1"]
            .into_iter()
            .map(String::from)
            .collect(),
        "{out}"
    );
    assert!(adopted.join("bin/go").is_file(), "adopted trees are never deleted");
    // Each removed toolchain was archived first, with a sidecar sha256sum accepts.
    let archives = env.gomig_home.join("archives");
    for name in ["go1.16.1", "go1.20.1"] {
        let file = format!("{name}.linux-amd64.tar.gz");
        ok(Command::new("sha256sum")
            .arg("-c")
            .arg(format!("{file}.sha256"))
            .current_dir(&archives));
        let logged = events(&env)
            .into_iter()
            .find(|e| e["action"] == "prune" && e["version"] == name)
            .unwrap();
        assert!(logged["archive"].as_str().unwrap().ends_with(&file));
    }
    // The history no longer names what is gone; rollback still works.
    let history = fs::read_to_string(env.gomig_home.join("state/history")).unwrap();
    assert_eq!(history, "go1.21.1\ngo1.21.2\n");
    env.gomig_ok(&["rollback"]);
    assert_eq!(env.default_name(), "go1.21.2");
    // And an archive brings a pruned toolchain back, checked against the manifest kept for it.
    let archive = archives.join("go1.20.1.linux-amd64.tar.gz");
    env.gomig_ok(&["restore", archive.to_str().unwrap()]);
    assert!(env.gomig_home.join("toolchains/go1.20.1/bin/go").is_file());

    // The restored one is in no history now: --no-archive removes it without a new archive.
    env.gomig_ok(&["switch", "1.22.1", "--no-verify"]);
    let out = env.gomig_ok(&["prune", "--no-archive", "--keep", "5"]);
    assert!(out.contains("removed go1.20.1     (no archive)"), "{out}");
    assert!(!out.contains("removed go1.21"), "{out}");
    let logged = events(&env).into_iter().rev().find(|e| e["action"] == "prune").unwrap();
    assert_eq!(
        (logged["version"].as_str(), logged["archive"].is_null()),
        (Some("go1.20.1"), true)
    );
    assert!(installed().contains("go1.21.1") && !installed().contains("go1.20.1"));
}

#[test]
fn prune_keeps_a_tampered_toolchain_and_replaces_an_archive_of_an_older_recording() {
    let env = TestEnv::new();
    for name in ["go1.16.1", "go1.20.1", "go1.22.1"] {
        env.fake_toolchain(name);
        env.gomig_ok(&["snapshot", name]);
    }
    env.gomig_ok(&["switch", "1.22.1", "--no-verify"]);
    let archives = env.gomig_home.join("archives");
    let toolchains = env.gomig_home.join("toolchains");

    // go1.16.1 changed after it was recorded: it cannot be archived as recorded.
    fs::write(toolchains.join("go1.16.1/bin/gofmt"), "#!/bin/sh\necho changed\n").unwrap();
    // go1.20.1 has an archive already, made before its tree was recorded again with a new file:
    // the sidecar matches the file, but the archive does not hold what the manifest records.
    archive(&env, "1.20.1", &archives);
    let stale_digest = recorded_digest(&env, "go1.20.1");
    fs::write(toolchains.join("go1.20.1/NEWS"), "added after the first archive\n").unwrap();
    env.gomig_ok(&["snapshot", "1.20.1", "--accept-changes"]);
    let digest = recorded_digest(&env, "go1.20.1");
    assert_ne!(digest, stale_digest);

    let out = run(&mut env.gomig(&["prune"]));
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let err = stderr(&out);
    for part in [
        "go1.16.1: kept: it does not match its manifest (1 difference(s), e.g. modified  bin/gofmt",
        "gomig verify go1.16.1",
        "gomig snapshot go1.16.1",
        "gomig uninstall go1.16.1",
    ] {
        assert!(err.contains(part), "{part:?} missing:\n{}", describe(&out));
    }
    assert!(toolchains.join("go1.16.1/bin/go").is_file(), "the tampered one is kept");
    assert!(
        !archives.join("go1.16.1.linux-amd64.tar.gz").exists(),
        "and not archived"
    );
    let refused = events(&env)
        .into_iter()
        .find(|e| e["action"] == "prune" && e["version"] == "go1.16.1")
        .unwrap();
    assert_eq!(refused["result"], "error");

    // go1.20.1 went, into a fresh archive of what is recorded now (the NEWS file with it).
    assert!(stdout(&out).contains("removed go1.20.1"), "{}", describe(&out));
    assert!(!toolchains.join("go1.20.1").exists());
    let pruned = events(&env)
        .into_iter()
        .find(|e| e["action"] == "prune" && e["version"] == "go1.20.1")
        .unwrap();
    assert_eq!(
        pruned["tree_digest"],
        digest.as_str(),
        "a new archive was made: {pruned}"
    );
    let path = archives.join("go1.20.1.linux-amd64.tar.gz");
    ok(Command::new("sha256sum")
        .arg("-c")
        .arg("go1.20.1.linux-amd64.tar.gz.sha256")
        .current_dir(&archives));
    let members = read_members(&path, Some(1));
    assert!(String::from_utf8_lossy(&members[0].data).contains(&format!("GOMIG.tree-digest={digest}\n")));
    env.gomig_ok(&["restore", path.to_str().unwrap()]);
    assert!(toolchains.join("go1.20.1/NEWS").is_file());
}

// ---------------------------------------------------------------------------------------------
// Fingerprints
// ---------------------------------------------------------------------------------------------

#[test]
fn fingerprints_hash_the_build_settings_and_env_diff_shows_what_differs() {
    let env = TestEnv::new();
    env.adopt(GO_122);
    env.adopt(GO_123);
    let fp = |version: &str, vars: &[(&str, &str)]| {
        let mut cmd = env.gomig(&["fingerprint", version, "--json"]);
        for (k, v) in vars {
            cmd.env(k, v);
        }
        json(&run(&mut cmd))
    };
    let a = fp(GO_122, &[]);
    assert_eq!(a["toolchain"], "go1.22.10");
    assert_eq!(a["keys"]["GOVERSION"], "go1.22.10");
    assert_eq!(a["keys"]["GOOS"], "linux");
    assert_eq!(a["keys"]["GOTOOLCHAIN"], "local");
    assert!(
        a["keys"].get("GOROOT").is_none() && a["keys"].get("GOCACHE").is_none(),
        "no machine paths"
    );
    assert_eq!(fp(GO_122, &[]), a, "stable");
    assert_eq!(
        fp(GO_122, &[("GOCACHE", "/elsewhere")])["fingerprint"],
        a["fingerprint"],
        "paths do not count"
    );
    let b = fp(GO_122, &[("GOFLAGS", "-mod=vendor")]);
    assert_ne!(b["fingerprint"], a["fingerprint"]);
    // The manifest recorded at adoption carries the same fingerprint.
    let manifest = fs::read_to_string(env.gomig_home.join("manifests/go1.22.10.manifest")).unwrap();
    assert!(
        manifest.contains(&format!("\nenv-fingerprint {}\n", a["fingerprint"].as_str().unwrap())),
        "{}",
        &manifest[..300]
    );

    let diff = json(&run(&mut env.gomig(&["env-diff", GO_122, GO_123, "--json"])));
    let keys: Vec<&str> = diff["differences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["GOVERSION"], "{diff:#}");
    // A saved fingerprint against a toolchain now, with one setting changed since.
    let saved = env.root().join("before.json");
    fs::write(&saved, serde_json::to_string(&a).unwrap()).unwrap();
    let same = env.gomig_ok(&["env-diff", saved.to_str().unwrap(), GO_122]);
    assert!(same.starts_with("same fingerprint"), "{same}");
    let mut cmd = env.gomig(&["env-diff", saved.to_str().unwrap(), GO_122]);
    cmd.env("GOPROXY", "https://goproxy.example.com");
    let text = stdout(&run(&mut cmd));
    assert!(
        text.contains("GOPROXY") && text.contains("https://goproxy.example.com"),
        "{text}"
    );
    // A saved file whose keys were edited is refused.
    let mut edited = a.clone();
    edited["keys"]["GOOS"] = "plan9".into();
    fs::write(&saved, serde_json::to_string(&edited).unwrap()).unwrap();
    let err = fails(&mut env.gomig(&["env-diff", saved.to_str().unwrap(), GO_122]));
    assert!(err.contains("does not match its keys"), "{err}");
}
