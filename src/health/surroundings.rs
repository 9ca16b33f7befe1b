//! The surroundings of the store: what decides which `go` runs before gomig does, or what
//! gomig itself reads, and that someone else could change. One set of checks, reported by both
//! `gomig doctor` and `gomig audit`:
//!
//! - every `PATH` entry before the shims (all of them when the shims are not on `PATH`): not
//!   relative, not writable by others, owned by you or root, and no directory above it that
//!   others can write (they could rename the entry and put their own `go` in its place; a
//!   sticky directory is exempt when the entry on the path is yours or root's, as in the
//!   store's trust rule);
//! - the `system` Go (the first `go` on `PATH` that is not a gomig shim): the same for its
//!   directory, and the program itself not writable by others;
//! - the config file (it chooses the mirror, and whether the shim installs on its own), found
//!   where the trust rule looks for it (`resolve::trust::config_path`): the same rule, and its
//!   directory.
//!
//! Each finding names the path, what is wrong and a command that fixes it.

use std::ffi::OsString;
use std::fs;
use std::os::unix::ffi::OsStringExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

use super::audit::{Context, Finding, Repair, Severity, chmod_cmd, shell_quote};
use crate::lookup::EnvSnapshot;

const STICKY: u32 = 0o1000;

fn writable_by(mode: u32) -> &'static str {
    if mode & 0o002 != 0 { "every user" } else { "its group" }
}

fn severity(mode: u32, if_group: Severity) -> Severity {
    if mode & 0o002 != 0 { Severity::High } else { if_group }
}

fn finding(severity: Severity, check: &'static str, subject: &Path, message: String, fix: String) -> Finding {
    Finding {
        severity,
        check,
        subject: subject.display().to_string(),
        message,
        fix,
        fixable: false,
        repair: None,
    }
}

/// `path` without `.` and `..` (lexically), absolute.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::from("/");
    for c in path.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::ParentDir => {
                out.pop();
            }
            _ => {}
        }
    }
    out
}

/// A directory above `path` that others can write, as the trust rule's walk judges it: not
/// sticky, or sticky with the entry below it on the path owned by neither `uid` nor root. Both
/// the path as spelled and the real one (after links) are checked: both are traversed.
/// Returns the directory, its mode and the entry below it.
pub fn writable_parent(path: &Path, uid: u32) -> Option<(PathBuf, u32, PathBuf)> {
    let spelled = normalize(path);
    let mut paths = vec![spelled.clone()];
    if let Ok(real) = fs::canonicalize(path)
        && real != spelled
    {
        paths.push(real);
    }
    for p in paths {
        let ancestors: Vec<&Path> = p.ancestors().collect();
        // From `/` down: each directory with the entry below it.
        for pair in ancestors.windows(2).rev() {
            let (child, dir) = (pair[0], pair[1]);
            let Ok(meta) = fs::metadata(dir) else { break };
            let mode = meta.mode() & 0o7777;
            if mode & 0o022 == 0 {
                continue;
            }
            let child_ok = fs::symlink_metadata(child).is_ok_and(|m| m.uid() == uid || m.uid() == 0);
            if mode & STICKY != 0 && child_ok {
                continue;
            }
            return Some((dir.to_path_buf(), mode, child.to_path_buf()));
        }
    }
    None
}

fn parent_finding(what: &str, path: &Path, uid: u32, consequence: &str) -> Option<Finding> {
    let (dir, mode, child) = writable_parent(path, uid)?;
    let message = if mode & STICKY != 0 {
        format!(
            "{what} {} is reached through {}, which {} can write (mode {mode:04o}, sticky) and where {} is owned by another user: {consequence}",
            path.display(),
            dir.display(),
            writable_by(mode),
            child.display()
        )
    } else {
        format!(
            "{what} {} is inside {}, which {} can write (mode {mode:04o}): they can rename {} and put their own in its place; {consequence}",
            path.display(),
            dir.display(),
            writable_by(mode),
            child.display()
        )
    };
    Some(finding(
        severity(mode, Severity::Medium),
        "path-parent-writable",
        path,
        message,
        chmod_cmd(mode & 0o022, &dir),
    ))
}

/// A directory on the way to `go` (a PATH entry, the shims, GOMIG_HOME): others must not be
/// able to add programs to it. Repairable by `audit --fix` when it is inside `home`.
pub fn path_dir(dir: &Path, what: &str, severity_if_group: Severity, uid: u32, home: &Path) -> Vec<Finding> {
    let mut out = Vec::new();
    let Ok(meta) = fs::metadata(dir) else { return out };
    let mode = meta.mode() & 0o7777;
    let owned = dir.starts_with(home);
    if mode & 0o022 != 0 {
        out.push(Finding {
            fixable: owned,
            repair: owned.then(|| Repair {
                path: dir.to_path_buf(),
                clear: mode & 0o022,
                dev: meta.dev(),
                ino: meta.ino(),
            }),
            ..finding(
                severity(mode, severity_if_group),
                "path-writable",
                dir,
                format!(
                    "{what} {} is writable by {} (mode {mode:04o}): a program named go placed there would run instead of gomig's",
                    dir.display(),
                    writable_by(mode)
                ),
                chmod_cmd(mode & 0o022, dir),
            )
        });
    }
    if meta.uid() != uid && meta.uid() != 0 {
        out.push(finding(
            Severity::Medium,
            "path-owner",
            dir,
            format!(
                "{what} {} is owned by uid {}, neither you nor root",
                dir.display(),
                meta.uid()
            ),
            format!("remove it from PATH or chown {uid} {}", shell_quote(dir)),
        ));
    }
    out
}

/// Giving a file back to `uid` takes root: `sudo` unless root runs this.
fn chown_cmd(uid: u32, path: &Path) -> String {
    let sudo = if uid == 0 { "" } else { "sudo " };
    format!("{sudo}chown {uid} {}", shell_quote(path))
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (fs::metadata(a), fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => false,
    }
}

/// The PATH entries before the shims, the system Go, the config file.
pub fn check(ctx: &Context, home: &Path) -> Vec<Finding> {
    let mut out = Vec::new();
    let shims = home.join("shims");
    let entries: Vec<PathBuf> = ctx
        .path
        .as_ref()
        .map(|p| std::env::split_paths(p).collect())
        .unwrap_or_default();
    let at = entries.iter().position(|e| same_dir(e, &shims));
    if ctx.path.is_some() && at.is_none() && shims.is_dir() {
        out.push(finding(
            Severity::Low,
            "shims-not-on-path",
            &shims,
            format!(
                "the shims directory {} is not on PATH: every PATH entry is checked instead",
                shims.display()
            ),
            "set up the shell: eval \"$(gomig init bash)\" (or zsh, fish)".into(),
        ));
    }
    let before = &entries[..at.unwrap_or(entries.len())];
    for entry in before {
        if entry.as_os_str().is_empty() || entry.is_relative() {
            out.push(finding(
                Severity::High,
                "path-relative",
                entry,
                format!(
                    "PATH has the relative entry {:?} before the shims: a go in whatever directory you are in would run",
                    entry.display().to_string()
                ),
                "remove relative entries (and empty ones, which mean .) from PATH".into(),
            ));
            continue;
        }
        if !entry.is_dir() {
            continue;
        }
        out.extend(path_dir(entry, "PATH entry", Severity::Medium, ctx.uid, home));
        out.extend(parent_finding(
            "PATH entry",
            entry,
            ctx.uid,
            "a go there would run instead of gomig's",
        ));
    }
    system_go(ctx, &entries, at, &shims, &mut out);
    config(ctx, &mut out);
    out
}

/// The first `go` on PATH that is not a gomig shim: what `system` runs.
fn system_go(ctx: &Context, entries: &[PathBuf], shims_at: Option<usize>, shims: &Path, out: &mut Vec<Finding>) {
    let shim_go = shims.join("go");
    for (i, entry) in entries.iter().enumerate() {
        if entry.is_relative() {
            continue;
        }
        let go = entry.join("go");
        let Ok(meta) = fs::metadata(&go) else { continue };
        if !meta.is_file() || meta.mode() & 0o111 == 0 || same_dir(&go, &shim_go) {
            continue;
        }
        let consequence = "gomig runs this go for `system`, so a program put there would run as your system Go";
        // An entry before the shims is reported as a PATH entry already.
        if shims_at.is_none_or(|s| i > s) {
            let mode = fs::metadata(entry).map(|m| m.mode() & 0o7777).unwrap_or(0);
            let go_ok = meta.uid() == ctx.uid || meta.uid() == 0;
            if mode & 0o022 != 0 && !(mode & STICKY != 0 && go_ok) {
                out.push(finding(
                    severity(mode, Severity::Medium),
                    "system-go-writable",
                    entry,
                    format!(
                        "the system Go {} is in {}, which {} can write (mode {mode:04o}): {consequence}",
                        go.display(),
                        entry.display(),
                        writable_by(mode)
                    ),
                    chmod_cmd(mode & 0o022, entry),
                ));
            }
            out.extend(parent_finding("the system Go's directory", entry, ctx.uid, consequence));
        }
        let mode = meta.mode() & 0o7777;
        if mode & 0o022 != 0 {
            out.push(finding(
                severity(mode, Severity::Medium),
                "system-go-writable",
                &go,
                format!(
                    "the system Go {} is writable by {} (mode {mode:04o}): {consequence}",
                    go.display(),
                    writable_by(mode)
                ),
                chmod_cmd(mode & 0o022, &go),
            ));
        }
        if meta.uid() != ctx.uid && meta.uid() != 0 {
            out.push(finding(
                Severity::Medium,
                "system-go-owner",
                &go,
                format!(
                    "the system Go {} is owned by uid {}, neither you (uid {}) nor root: that user can change it",
                    go.display(),
                    meta.uid(),
                    ctx.uid
                ),
                chown_cmd(ctx.uid, &go),
            ));
        }
        return;
    }
}

/// The config file, where the trust rule looks for it.
fn config(ctx: &Context, out: &mut Vec<Finding>) {
    let snapshot = EnvSnapshot::from_vars(ctx.vars.iter().map(|(k, v)| (k.as_bytes(), v.as_bytes())));
    let mut buf = crate::resolve::sys::PathBuf::default();
    if crate::resolve::trust::config_path(&snapshot.env(), &mut buf).is_none() {
        return;
    }
    let path = PathBuf::from(OsString::from_vec(buf.as_bytes().to_vec()));
    // Links followed, as gomig reads it.
    let Ok(meta) = fs::metadata(&path) else { return };
    let consequence = "it chooses the mirror gomig downloads Go from and whether the shim installs on its own, so gomig refuses to run until this is fixed";
    let mode = meta.mode() & 0o7777;
    if mode & 0o022 != 0 {
        out.push(finding(
            severity(mode, Severity::High),
            "config-writable",
            &path,
            format!(
                "the config file {} is writable by {} (mode {mode:04o}): {consequence}",
                path.display(),
                writable_by(mode)
            ),
            chmod_cmd(mode & 0o022, &path),
        ));
    }
    if meta.uid() != ctx.uid && meta.uid() != 0 {
        out.push(finding(
            Severity::High,
            "config-owner",
            &path,
            format!(
                "the config file {} is owned by uid {}, neither you (uid {}) nor root: {consequence}",
                path.display(),
                meta.uid(),
                ctx.uid
            ),
            chown_cmd(ctx.uid, &path),
        ));
    }
    out.extend(parent_finding("the config file", &path, ctx.uid, consequence));
}
