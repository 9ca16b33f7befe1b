//! The one way gomig runs a tree's own `bin/go`.
//!
//! Two flavours, because two different questions are asked of a tree:
//! - [`identity`]: what *is* this tree (`go version`, `go env GOVERSION`)? The user's Go
//!   settings are left out: they say nothing about the tree, and a bad one (`GOFLAGS=-bogus`
//!   or a relative GOPATH in the `GOENV` file, an unknown `GOEXPERIMENT`) makes `go version`
//!   itself fail, which would make an intact tree look broken.
//! - [`as_the_shim_runs`]: what does this toolchain do *for the user* (`go env` for a
//!   fingerprint)? The user's environment, GOROOT set to the tree, and GOTOOLCHAIN=local unless
//!   exported, as the shim hands it over.
//!
//! Both run in `/`, so no go.mod or go.work around the caller can make Go switch toolchains.

use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(Debug, thiserror::Error)]
pub enum GoToolError {
    #[error("cannot run {go}: {source}")]
    Run { go: String, source: std::io::Error },
    #[error("{go} {args} failed: {stderr}")]
    Failed { go: String, args: String, stderr: String },
}

/// `root/bin/go`.
pub fn go_binary(root: &Path) -> PathBuf {
    root.join("bin/go")
}

/// `bin/go` of the tree, untouched by the user's Go settings and never switching toolchains.
pub fn identity(root: &Path) -> Command {
    let mut cmd = Command::new(go_binary(root));
    cmd.current_dir("/")
        .env("GOROOT", root)
        .env("GOTOOLCHAIN", "local")
        .env("GOENV", "off")
        .env_remove("GOFLAGS")
        .env_remove("GOEXPERIMENT");
    cmd
}

/// `bin/go` of the tree as the shim would run it for the user.
pub fn as_the_shim_runs(root: &Path) -> Command {
    let mut cmd = Command::new(go_binary(root));
    cmd.current_dir("/").env("GOROOT", root);
    if std::env::var_os("GOTOOLCHAIN").is_none() {
        cmd.env("GOTOOLCHAIN", "local");
    }
    cmd
}

/// Runs `cmd` (one of the above) and returns its trimmed stdout, or why it failed.
pub fn output(mut cmd: Command, root: &Path) -> Result<String, GoToolError> {
    let go = go_binary(root).display().to_string();
    let out = cmd
        .output()
        .map_err(|source| GoToolError::Run { go: go.clone(), source })?;
    if !out.status.success() {
        let args = cmd
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ");
        return Err(GoToolError::Failed {
            go,
            args,
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// `bin/go version` of a tree (see [`identity`]).
pub fn go_version(root: &Path) -> Result<String, GoToolError> {
    let mut cmd = identity(root);
    cmd.arg("version");
    output(cmd, root)
}

/// The release word of a Go version text: `go1.23.9` of `go version go1.23.9 linux/amd64`, of
/// `go1.23.9 X:boringcrypto`, and `go1.24-abc` of `devel go1.24-abc ...`.
pub fn release_word(text: &str) -> Option<&str> {
    text.split_whitespace().find(|w| {
        w.strip_prefix("go")
            .is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit()))
    })
}
