//! A distro's split GOROOT (Debian's /usr/lib/go-1.19, whose src, api, misc, test and
//! pkg/include are links into /usr/share/go-1.19) is recorded, verified and audited as the one
//! tree `go` runs, not as a tree with five links that leave it.

mod support;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use support::*;

const DEBIAN_GOROOT: &str = "/usr/lib/go-1.19";

/// A private copy of Debian's two halves, `usr/lib/go-1.19` and `usr/share/go-1.19`, with the
/// package's own relative links, so a test may change it.
fn debian_layout(env: &TestEnv) -> PathBuf {
    let usr = env.root().join("usr");
    for half in ["lib", "share"] {
        fs::create_dir_all(usr.join(half)).unwrap();
        ok(Command::new("cp")
            .arg("-a")
            .arg(format!("/usr/{half}/go-1.19"))
            .arg(usr.join(half)));
    }
    usr.join("lib/go-1.19")
}

fn manifest_paths(env: &TestEnv, name: &str) -> Vec<String> {
    let text = fs::read_to_string(env.gomig_home.join(format!("manifests/{name}.manifest"))).unwrap();
    text.lines().map(String::from).collect()
}

fn audit_findings(env: &TestEnv) -> Vec<serde_json::Value> {
    let out = run(&mut env.gomig(&["audit", "--json"]));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", describe(&out)));
    v["findings"]
        .as_array()
        .cloned()
        .unwrap_or_else(|| v.as_array().cloned().unwrap_or_default())
}

#[test]
fn debian_goroot_is_recorded_with_the_standard_library_it_reads_through_its_links() {
    assert!(
        Path::new(DEBIAN_GOROOT).join("bin/go").is_file(),
        "tests/run.sh installs golang-1.19-go"
    );
    let env = TestEnv::new();
    env.gomig_ok(&["add", DEBIAN_GOROOT]);
    let lines = manifest_paths(&env, "go1.19.8");
    let has = |p: &str| lines.iter().any(|l| l.contains(p));
    assert!(
        has("src/runtime/proc.go") && has("pkg/include/funcdata.h"),
        "src/ and pkg/include are recorded"
    );
    assert!(lines.len() > 5000, "the whole tree, not 474 entries: {}", lines.len());
    env.gomig_ok(&["verify", "1.19"]);
    let escapes: Vec<_> = audit_findings(&env)
        .into_iter()
        .filter(|f| f["check"] == "symlink-escape")
        .collect();
    assert!(escapes.is_empty(), "a distro's own layout is not a risk: {escapes:#?}");
}

#[test]
fn a_change_in_the_other_half_of_a_split_tree_fails_verify() {
    let env = TestEnv::new();
    let goroot = debian_layout(&env);
    env.gomig_ok(&["add", goroot.to_str().unwrap()]);
    env.gomig_ok(&["verify", "1.19"]);
    let changed = env.root().join("usr/share/go-1.19/src/fmt/print.go");
    fs::write(&changed, "package fmt\n").unwrap();
    let out = run(&mut env.gomig(&["verify", "1.19"]));
    assert!(!out.status.success(), "{}", describe(&out));
    assert!(describe(&out).contains("src/fmt/print.go"), "{}", describe(&out));
}

#[test]
fn a_split_tree_whose_other_half_others_can_write_is_not_followed_and_is_flagged() {
    let env = TestEnv::new();
    let goroot = debian_layout(&env);
    let share = env.root().join("usr/share/go-1.19");
    fs::set_permissions(&share, fs::Permissions::from_mode(0o777)).unwrap();
    env.gomig_ok(&["add", goroot.to_str().unwrap()]);
    let lines = manifest_paths(&env, "go1.19.8");
    assert!(!lines.iter().any(|l| l.contains("src/runtime/proc.go")), "not entered");
    let escapes: Vec<_> = audit_findings(&env)
        .into_iter()
        .filter(|f| f["check"] == "symlink-escape")
        .collect();
    assert_eq!(escapes.len(), 5, "{escapes:#?}");
}

#[test]
fn a_split_tree_whose_other_half_lies_in_another_users_directory_is_not_followed() {
    let env = TestEnv::new();
    let goroot = debian_layout(&env);
    // usr/share is a link of ours into a directory uid 65534 owns: that user can swap what the
    // links lead to at will, though every directory the links spell is ours.
    let theirs = env.root().join("theirs");
    fs::create_dir(&theirs).unwrap();
    fs::rename(env.root().join("usr/share"), theirs.join("share")).unwrap();
    std::os::unix::fs::symlink(theirs.join("share"), env.root().join("usr/share")).unwrap();
    ok(Command::new("chown").arg("65534").arg(&theirs));
    env.gomig_ok(&["add", goroot.to_str().unwrap()]);
    let lines = manifest_paths(&env, "go1.19.8");
    assert!(
        !lines.iter().any(|l| l.contains("src/runtime/proc.go")),
        "the other half is not entered through {}",
        theirs.display()
    );
}
