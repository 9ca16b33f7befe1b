//! The README's Quick start, run as it stands: each line in one bash session (so `cd` and the
//! shell integration carry over), against a download site on loopback. A line whose comment
//! starts with `→` must print exactly that (with the test's HOME for `/home/me` and this
//! machine's platform for `linux/amd64`).

#[path = "support/dlsite.rs"]
mod dlsite;
#[path = "support/install_kit.rs"]
mod kit;
mod support;

use std::fs;

use dlsite::Site;
use kit::mini_release;
use support::*;

/// The fenced block under `## Quick start`.
fn quick_start() -> Vec<String> {
    let readme = fs::read_to_string(repo_root().join("README.md")).unwrap();
    let section = readme.split("## Quick start").nth(1).expect("README has a Quick start");
    let block = section.split("```sh\n").nth(1).unwrap().split("```").next().unwrap();
    block
        .lines()
        .map(str::to_string)
        .filter(|l| !l.trim().is_empty())
        .collect()
}

/// `(command, expected output)` of a Quick start line.
fn split_line(line: &str) -> (String, Option<String>) {
    match line.split_once(" # ") {
        Some((cmd, comment)) => (
            cmd.trim().to_string(),
            comment.trim().strip_prefix("→ ").map(str::to_string),
        ),
        None => (line.trim().to_string(), None),
    }
}

#[test]
fn the_quick_start_works_as_written() {
    let env = TestEnv::new();
    let dists = tempfile::tempdir().unwrap();
    let site = Site::start(vec![
        mini_release(GO_122, dists.path()),
        mini_release(GO_123, dists.path()),
    ]);
    let (os, arch) = dlsite::host_platform();
    let lines = quick_start();
    assert!(lines.len() >= 6, "{lines:?}");

    // One bash script: each line's output between markers, so each can be checked.
    let mut script = String::from("set -e\n");
    for (i, line) in lines.iter().enumerate() {
        let (cmd, _) = split_line(line);
        script.push_str(&format!("echo '@@ {i}'\n{cmd}\n"));
    }
    script.push_str("echo '@@ end'\n");
    let bin_dir = gomig_bin().parent().unwrap().to_path_buf();
    let out = run(env
        .command("bash", &env.home)
        .arg("-c")
        .arg(&script)
        .env("PATH", format!("{}:{}", bin_dir.display(), env.base_path))
        .env("GOMIG_MIRROR", site.url())
        .env("GOTELEMETRY", "off"));
    let text = stdout(&out);
    assert!(
        out.status.success() && text.contains("@@ end"),
        "the Quick start stops at a line:\n{}",
        describe(&out)
    );
    for (i, line) in lines.iter().enumerate() {
        let (cmd, expected) = split_line(line);
        let Some(expected) = expected else { continue };
        let printed = text
            .split(&format!("@@ {i}\n"))
            .nth(1)
            .and_then(|rest| rest.split("@@ ").next())
            .unwrap()
            .trim();
        let expected = expected
            .replace("/home/me", env.home.to_str().unwrap())
            .replace("linux/amd64", &format!("{os}/{arch}"));
        assert_eq!(printed, expected, "`{cmd}` printed something else:\n{}", describe(&out));
    }
}
