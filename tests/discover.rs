//! `gomig add --discover` finds the Go installations of every usual layout: the system's,
//! other version managers', Homebrew's, Go's own module-cache toolchains, and the `go` on PATH.

mod support;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use support::*;

/// A GOROOT at `root` whose VERSION says `version` (as real releases do).
fn goroot(root: &Path, version: &str) -> PathBuf {
    fs::create_dir_all(root.join("bin")).unwrap();
    fs::create_dir_all(root.join("src")).unwrap();
    fs::write(
        root.join("bin/go"),
        format!("#!/bin/sh\necho \"go version {version} linux/amd64\"\n"),
    )
    .unwrap();
    fs::set_permissions(root.join("bin/go"), fs::Permissions::from_mode(0o755)).unwrap();
    fs::write(root.join("VERSION"), format!("{version}\ntime 2024-01-01T00:00:00Z\n")).unwrap();
    root.to_path_buf()
}

#[test]
fn discover_finds_every_usual_layout() {
    let env = TestEnv::new();
    let h = &env.home;
    let brew = env.root().join("brew");
    let on_path = env.root().join("opt/custom-go");
    let layouts: Vec<(&str, PathBuf)> = vec![
        ("go1.21.1", h.join("sdk/go1.21.1")),
        ("go1.21.2", h.join(".asdf/installs/golang/1.21.2/go")),
        ("go1.21.3", h.join(".local/share/mise/installs/go/1.21.3")),
        ("go1.21.4", h.join(".goenv/versions/1.21.4")),
        ("go1.21.5", h.join(".gvm/gos/go1.21.5")),
        ("go1.21.6", h.join(".g/versions/1.21.6/go")),
        ("go1.21.7", h.join(".gobrew/versions/1.21.7/go")),
        ("go1.21.8", h.join(".go/go1.21.8")),
        // GOPATH is the test's own (TestEnv sets it): its module cache.
        (
            "go1.21.9",
            env.root()
                .join("gopath/pkg/mod/golang.org/toolchain@v0.0.1-go1.21.9.linux-amd64"),
        ),
        ("go1.21.10", brew.join("Cellar/go/1.21.10/libexec")),
        ("go1.21.11", on_path.clone()),
    ];
    for (version, root) in &layouts {
        goroot(root, version);
    }
    // Go's module cache is read-only, as Go leaves it.
    let modcache_tree = &layouts[8].1;
    for dir in [
        modcache_tree.join("bin"),
        modcache_tree.join("src"),
        modcache_tree.clone(),
    ] {
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o555)).unwrap();
    }
    // The `go` on PATH is a link in a bin directory, as package managers make it.
    let bin = env.root().join("usr-local-bin");
    fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(on_path.join("bin/go"), bin.join("go")).unwrap();

    let out = run(env
        .gomig(&["add", "--discover"])
        .env("HOMEBREW_PREFIX", &brew)
        .env("PATH", format!("{}:{}", bin.display(), env.base_path)));
    assert!(out.status.success(), "{}", describe(&out));
    let listed = stdout(&out);
    for (version, root) in &layouts {
        let real = fs::canonicalize(root).unwrap();
        assert!(
            listed.lines().any(|l| l == format!("{version}\t{}", real.display())),
            "{version} at {} not found:\n{listed}",
            real.display()
        );
    }

    // And adopted as they are, the read-only module-cache tree included.
    let out = run(env
        .gomig(&["add", "--discover", "--yes"])
        .env("HOMEBREW_PREFIX", &brew)
        .env("PATH", format!("{}:{}", bin.display(), env.base_path)));
    assert!(out.status.success(), "{}", describe(&out));
    let list = env.gomig_ok(&["list", "--json"]);
    for (version, _) in &layouts {
        assert!(
            list.contains(&format!("\"{version}\"")),
            "{version} not adopted:\n{list}"
        );
    }
    for dir in [
        modcache_tree.join("bin"),
        modcache_tree.join("src"),
        modcache_tree.clone(),
    ] {
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
    }
}
