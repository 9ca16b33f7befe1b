//! A check leaves the project exactly as it found it.
//!
//! Go writes go.mod and go.sum when it thinks they need it (with `GOFLAGS=-mod=mod`, a go.mod
//! without a `go` line gets the running release's: B would write `go 1.23.9`, after which A
//! refuses to build). So in module mode each toolchain reads and writes its **own copy** of
//! go.mod and go.sum in the sandbox (`go test -modfile=<sandbox>/modfile-N/go.mod ...`, with the
//! user's GOFLAGS otherwise as given); what a toolchain wrote into its copy is reported as what
//! it wanted to change. In workspace mode Go refuses `-modfile` (and `-mod=mod`), so there, and
//! in module mode as a second line of defence, every go.mod, go.sum, go.work and go.work.sum of
//! the project is [snapshotted](Snapshot) (bytes and mtime) before the check and put back as it
//! was afterwards; what had changed is reported too.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::Serialize;

use super::sandbox::Side;

/// The files of a project that Go may write.
const FILES: &[&str] = &["go.mod", "go.sum", "go.work", "go.work.sum"];

/// How many lines of a change the report keeps per file.
const KEEP_LINES: usize = 20;

/// What a toolchain wanted to change in a project file, or what changed during the check.
#[derive(Debug, Clone, Serialize)]
pub struct ProjectChange {
    /// The toolchain that wanted it (`None`: a file changed during the check, by whom unknown).
    pub side: Option<String>,
    pub file: String,
    /// The file did not exist before.
    pub created: bool,
    /// The change reached the project's file and gomig put the file back as it was.
    pub restored: bool,
    /// Lines the change added and removed (at most [`KEEP_LINES`] each).
    pub added: Vec<String>,
    pub removed: Vec<String>,
}

fn line_diff(old: &[u8], new: &[u8]) -> (Vec<String>, Vec<String>) {
    let old = String::from_utf8_lossy(old);
    let new = String::from_utf8_lossy(new);
    let old_lines: Vec<&str> = old.lines().filter(|l| !l.trim().is_empty()).collect();
    let new_lines: Vec<&str> = new.lines().filter(|l| !l.trim().is_empty()).collect();
    let added = new_lines
        .iter()
        .filter(|l| !old_lines.contains(l))
        .take(KEEP_LINES)
        .map(|l| l.to_string())
        .collect();
    let removed = old_lines
        .iter()
        .filter(|l| !new_lines.contains(l))
        .take(KEEP_LINES)
        .map(|l| l.to_string())
        .collect();
    (added, removed)
}

/// Whether the go command runs in workspace mode in `dir` (GOWORK, else a go.work here or above).
pub fn workspace_mode(dir: &Path) -> bool {
    match std::env::var_os("GOWORK") {
        Some(w) if !w.is_empty() => w != "off",
        _ => dir.ancestors().any(|d| d.join("go.work").is_file()),
    }
}

/// One private copy of go.mod (and go.sum) per toolchain, for `-modfile`.
pub struct Modfiles {
    project: PathBuf,
    /// (GOROOT, label, the copy of go.mod).
    copies: Vec<(PathBuf, String, PathBuf)>,
}

impl Modfiles {
    /// Copies `project`'s go.mod and go.sum into `sandbox/modfile-N/` for each side.
    pub fn prepare(sandbox: &Path, project: &Path, sides: &[&Side]) -> std::io::Result<Modfiles> {
        let mut copies = Vec::new();
        for (n, side) in sides.iter().enumerate() {
            let dir = sandbox.join(format!("modfile-{n}"));
            fs::create_dir_all(&dir)?;
            fs::copy(project.join("go.mod"), dir.join("go.mod"))?;
            if project.join("go.sum").is_file() {
                fs::copy(project.join("go.sum"), dir.join("go.sum"))?;
            }
            copies.push((side.goroot.clone(), side.label.clone(), dir.join("go.mod")));
        }
        Ok(Modfiles {
            project: project.to_path_buf(),
            copies,
        })
    }

    /// (GOROOT, `-modfile` path) for the sandbox.
    pub fn flags(&self) -> Vec<(PathBuf, PathBuf)> {
        self.copies.iter().map(|(g, _, f)| (g.clone(), f.clone())).collect()
    }

    /// What each toolchain wrote into its copies, as changes it wanted to the project's files.
    pub fn wanted(&self) -> Vec<ProjectChange> {
        let mut out = Vec::new();
        for (_, label, copy) in &self.copies {
            for name in ["go.mod", "go.sum"] {
                let original = self.project.join(name);
                let before = fs::read(&original).ok();
                let after = fs::read(copy.with_file_name(name)).ok();
                if after.is_none() || before == after {
                    continue;
                }
                let (added, removed) = line_diff(before.as_deref().unwrap_or(b""), after.as_deref().unwrap_or(b""));
                out.push(ProjectChange {
                    side: Some(label.clone()),
                    file: original.display().to_string(),
                    created: before.is_none(),
                    restored: false,
                    added,
                    removed,
                });
            }
        }
        out
    }
}

/// A file's bytes and mtime; `None` for a file that was not there.
type FileState = Option<(Vec<u8>, Option<SystemTime>)>;

/// The bytes and mtime of the project's Go files before the check.
pub struct Snapshot {
    files: Vec<(PathBuf, FileState)>,
}

impl Snapshot {
    /// go.mod, go.sum, go.work and go.work.sum in each of `dirs` (absent ones too: a file
    /// created during the check is removed again).
    pub fn take(dirs: &[PathBuf]) -> Snapshot {
        let mut files = Vec::new();
        for dir in dirs {
            for name in FILES {
                let path = dir.join(name);
                if files.iter().any(|(p, _)| *p == path) {
                    continue;
                }
                let state = fs::read(&path)
                    .ok()
                    .map(|bytes| (bytes, fs::metadata(&path).and_then(|m| m.modified()).ok()));
                files.push((path, state));
            }
        }
        Snapshot { files }
    }

    /// This snapshot plus the files of `earlier` it does not have (earlier states win).
    pub fn merged_into(self, mut earlier: Snapshot) -> Snapshot {
        for (path, state) in self.files {
            if !earlier.files.iter().any(|(p, _)| *p == path) {
                earlier.files.push((path, state));
            }
        }
        earlier
    }

    /// Puts back every file that changed; what had changed, and `Err` lines for what could
    /// not be put back.
    pub fn restore(&self) -> (Vec<ProjectChange>, Vec<String>) {
        let mut changes = Vec::new();
        let mut failed = Vec::new();
        for (path, before) in &self.files {
            let now = fs::read(path).ok();
            let same_bytes = now.as_deref() == before.as_ref().map(|(b, _)| b.as_slice());
            let mtime = fs::metadata(path).and_then(|m| m.modified()).ok();
            match before {
                Some((_, when)) if same_bytes => {
                    // Rewritten with the same bytes: only the time to put back.
                    if mtime != *when
                        && let Some(t) = when
                    {
                        let _ = fs::File::options()
                            .write(true)
                            .open(path)
                            .and_then(|f| f.set_modified(*t));
                    }
                    continue;
                }
                None if now.is_none() => continue,
                _ => {}
            }
            let (added, removed) = line_diff(
                before.as_ref().map_or(&[][..], |(b, _)| b.as_slice()),
                now.as_deref().unwrap_or(b""),
            );
            let put_back = match before {
                Some((bytes, when)) => fs::write(path, bytes).and_then(|()| match when {
                    Some(t) => fs::File::options().write(true).open(path)?.set_modified(*t),
                    None => Ok(()),
                }),
                None => fs::remove_file(path),
            };
            if let Err(e) = &put_back {
                failed.push(format!(
                    "{} changed during the check and could not be put back ({e}); restore it from version control",
                    path.display()
                ));
            }
            changes.push(ProjectChange {
                side: None,
                file: path.display().to_string(),
                created: before.is_none(),
                restored: put_back.is_ok(),
                added,
                removed,
            });
        }
        (changes, failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_puts_back_bytes_and_time_and_removes_what_was_created() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        fs::write(dir.join("go.mod"), "module m\n").unwrap();
        let old_time = SystemTime::now() - std::time::Duration::from_secs(3600);
        fs::File::options()
            .write(true)
            .open(dir.join("go.mod"))
            .unwrap()
            .set_modified(old_time)
            .unwrap();
        let snap = Snapshot::take(std::slice::from_ref(&dir));
        fs::write(dir.join("go.mod"), "module m\n\ngo 1.23.9\n").unwrap();
        fs::write(dir.join("go.work.sum"), "x h1:y\n").unwrap();
        let (changes, failed) = snap.restore();
        assert!(failed.is_empty());
        assert_eq!(fs::read_to_string(dir.join("go.mod")).unwrap(), "module m\n");
        assert_eq!(fs::metadata(dir.join("go.mod")).unwrap().modified().unwrap(), old_time);
        assert!(!dir.join("go.work.sum").exists());
        assert_eq!(changes.len(), 2);
        assert_eq!(changes[0].added, vec!["go 1.23.9".to_string()]);
        assert!(changes[0].restored && !changes[0].created);
        assert!(changes[1].created);
    }
}
