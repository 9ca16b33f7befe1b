//! `gomig audit --fix` against another user who swaps an entry for a symlink while it runs
//! (issue 10, item 1): every change is made through a handle on the very entry that was
//! checked, so a file outside GOMIG_HOME never changes, however the race falls.

mod support;

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use support::{TestEnv, describe, run};

/// The other user: nobody.
const OTHER: u32 = 65534;

fn chmod(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

fn mode(path: &Path) -> u32 {
    fs::symlink_metadata(path).unwrap().mode() & 0o7777
}

/// Exchanges each pair of names with `renameat2(RENAME_EXCHANGE)` in a tight loop, and keeps
/// the planted file's mode at 0777 through a descriptor (so each audit has something to fix).
const SWAPPER: &str = r#"
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(int argc, char **argv) {
    int n = (argc - 1) / 2, fds[64];
    for (int i = 0; i < n && i < 64; i++) {
        fds[i] = open(argv[1 + 2 * i], O_RDONLY | O_NOFOLLOW);
        if (fds[i] < 0) { perror(argv[1 + 2 * i]); return 1; }
    }
    for (unsigned long k = 0;; k++) {
        for (int i = 0; i < n; i++) {
            syscall(SYS_renameat2, AT_FDCWD, argv[1 + 2 * i], AT_FDCWD, argv[2 + 2 * i], 2 /* RENAME_EXCHANGE */);
            if ((k & 63) == 0) fchmod(fds[i], 0777);
        }
    }
}
"#;

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn audit_fix_never_changes_the_file_a_swapped_in_link_leads_to() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: needs root, to plant a directory owned by uid {OTHER} and a root-owned victim");
        return;
    }
    let env = TestEnv::new();
    // uid 65534 must reach the toolchain; everything else stays as the store wants it.
    chmod(env.root(), 0o755);
    let goroot = env.fake_toolchain("go1.30.1");
    for d in [&env.gomig_home, &env.gomig_home.join("toolchains"), &goroot] {
        chmod(d, 0o755);
    }
    // The victim: root's, mode 0600, outside the store.
    let victim = env.root().join("victim");
    fs::write(&victim, "root's secret\n").unwrap();
    chmod(&victim, 0o600);

    // A directory inside the toolchain that the other user can write (planted), holding
    // pairs of a world-writable file (what --fix repairs) and a symlink to the victim.
    let planted = goroot.join("pkg");
    fs::create_dir(&planted).unwrap();
    std::os::unix::fs::chown(&planted, Some(OTHER), Some(OTHER)).unwrap();
    let mut args = Vec::new();
    for i in 0..4 {
        let file = planted.join(format!("file{i}"));
        let link = planted.join(format!("link{i}"));
        fs::write(&file, "x\n").unwrap();
        std::os::unix::fs::chown(&file, Some(OTHER), Some(OTHER)).unwrap();
        chmod(&file, 0o777);
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        std::os::unix::fs::lchown(&link, Some(OTHER), Some(OTHER)).unwrap();
        args.push(file);
        args.push(link);
    }

    // The swapper, compiled here, run as the other user.
    let src = env.root().join("swapper.c");
    let bin = env.root().join("swapper");
    fs::write(&src, SWAPPER).unwrap();
    let out = run(Command::new("cc").arg("-O2").arg("-o").arg(&bin).arg(&src));
    assert!(out.status.success(), "cc failed:\n{}", describe(&out));
    chmod(&bin, 0o755);
    let swapper = {
        use std::os::unix::process::CommandExt;
        // std drops the supplementary groups too when root sets a uid.
        Command::new(&bin)
            .args(&args)
            .uid(OTHER)
            .gid(OTHER)
            .spawn()
            .expect("start the swapper")
    };
    let mut swapper = Killed(swapper);
    std::thread::sleep(Duration::from_millis(100));
    assert!(swapper.0.try_wait().unwrap().is_none(), "the swapper stopped at once");

    let start = Instant::now();
    let mut runs = 0;
    let mut fixed_some = 0;
    while runs < 40 && start.elapsed() < Duration::from_secs(20) {
        let out = run(&mut env.gomig(&["audit", "--fix", "--json"]));
        runs += 1;
        let meta = fs::metadata(&victim).unwrap();
        assert_eq!(
            (meta.mode() & 0o7777, meta.uid()),
            (0o600, 0),
            "run {runs}: audit --fix changed {} through a swapped-in link:\n{}",
            victim.display(),
            describe(&out)
        );
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        fixed_some += report["fixed"].as_array().map_or(0, Vec::len);
    }
    assert!(
        swapper.0.try_wait().unwrap().is_none(),
        "the swapper died during the runs"
    );
    drop(swapper);
    eprintln!("{runs} runs of gomig audit --fix, {fixed_some} fixes made, the victim unchanged");
    assert!(
        fixed_some > 0,
        "the fix never ran against the planted files: the race was not exercised"
    );
    assert_eq!(mode(&victim), 0o600);
}
