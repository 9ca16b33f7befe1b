//! Rebuilding a tool in GOBIN with another Go: `go install PACKAGE@VERSION` at the version it
//! was built from, with the build settings it recorded, so that only the compiler changes.
//!
//! Each build goes to its own temporary GOBIN beside the real one (same file system) and the new
//! binary is renamed over the old only once it built and reports the same module version and the
//! new Go; a failure at any step leaves the old tool as it was. The user's GOPROXY, GOFLAGS,
//! GONOSUMDB, GOPRIVATE and GOSUMDB are passed through untouched: a rebuild fetches what a
//! `go install` by hand would, under the same checks. GOTOOLCHAIN=local, so a module's
//! `toolchain` line cannot swap in yet another Go.

use std::fs;
use std::path::{Path, PathBuf};

use super::buildinfo::{self, BuildInfo};
use super::{STAGING_PREFIX, Stamp, Tool};
use crate::gotool;
use crate::store::atomic::{pid_is_gone, sync_dir, unique_suffix};

/// Build settings Go records from the environment, given back to `go install` as they were.
const ENV_SETTINGS: &[&str] = &[
    "CGO_ENABLED",
    "CGO_CFLAGS",
    "CGO_CPPFLAGS",
    "CGO_CXXFLAGS",
    "CGO_LDFLAGS",
    "GOEXPERIMENT",
    "GOFIPS140",
    "GOAMD64",
    "GOARM",
    "GOARM64",
    "GO386",
    "GOMIPS",
    "GOMIPS64",
    "GOPPC64",
    "GORISCV64",
    "GOWASM",
];

/// Flags Go records with their value (`-tags=a,b`), given back as they were.
const VALUE_FLAGS: &[&str] = &["-tags", "-ldflags", "-gcflags", "-asmflags"];

/// Flags Go records as `=true`.
const BOOL_FLAGS: &[&str] = &["-trimpath", "-race", "-msan", "-asan"];

/// How to build a tool again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recipe {
    /// `example.com/tool/cmd/tool@v1.2.3`.
    pub target: String,
    /// Build flags before the target (`-trimpath`, `-ldflags=...`).
    pub flags: Vec<String>,
    /// Environment recorded in the binary (`CGO_ENABLED=0`, `GOAMD64=v1`).
    pub env: Vec<(String, String)>,
}

impl Recipe {
    /// The command a user would type for it, for messages.
    pub fn command_line(&self) -> String {
        self.command_line_via("")
    }

    /// The same, with `go` run by `runner` (`gomig exec 1.23.9 --`): the environment stays in front.
    pub fn command_line_via(&self, runner: &str) -> String {
        let mut words: Vec<String> = self.env.iter().map(|(k, v)| format!("{k}={}", shell_word(v))).collect();
        if !runner.is_empty() {
            words.push(runner.to_string());
        }
        words.push("go install".into());
        words.extend(self.flags.iter().map(|f| shell_word(f)));
        words.push(self.target.clone());
        words.join(" ")
    }
}

fn shell_word(s: &str) -> String {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_=./,:@+%".contains(c)) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// The host a toolchain builds for (`linux`, `amd64`): go install with a GOBIN cannot put a
/// program for another one there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Host {
    pub os: String,
    pub arch: String,
}

pub fn host(goroot: &Path) -> Result<Host, gotool::GoToolError> {
    let mut cmd = gotool::identity(goroot);
    cmd.args(["env", "GOHOSTOS", "GOHOSTARCH"]);
    let out = gotool::output(cmd, goroot)?;
    let mut lines = out.lines();
    Ok(Host {
        os: lines.next().unwrap_or_default().to_string(),
        arch: lines.next().unwrap_or_default().to_string(),
    })
}

/// How `tool` can be built again, or why it cannot be (in words for the user).
pub fn recipe(tool: &Tool, host: &Host) -> Result<Recipe, String> {
    if let Some(target) = &tool.link_target {
        return Err(format!(
            "a symbolic link to {}: gomig replaces only files in GOBIN; rebuild what it points to",
            target.display()
        ));
    }
    let info = tool.info.as_ref().map_err(|e| e.clone())?;
    recipe_of(info, host)
}

fn recipe_of(info: &BuildInfo, host: &Host) -> Result<Recipe, String> {
    let Some(main) = &info.main else {
        return Err(if info.path.starts_with("cmd/") {
            format!(
                "part of a Go distribution ({}): it comes with Go, not from go install",
                info.path
            )
        } else {
            "built outside module mode: no module version to install again".to_string()
        });
    };
    if info.path == "command-line-arguments" {
        return Err("built from files named on the command line (go build x.go): no package to install again".into());
    }
    if main.version == "(devel)" || main.version.is_empty() || info.setting("vcs").is_some() {
        let at = match main.version.as_str() {
            "" | "(devel)" => "no module version".to_string(),
            v => format!("stamped {v} from its VCS"),
        };
        return Err(format!(
            "built from a local checkout of {} ({at}): rebuild it there with go install",
            main.path
        ));
    }
    let mut flags = Vec::new();
    let mut env = Vec::new();
    for (key, value) in &info.settings {
        let key = key.as_str();
        match key {
            "-buildmode" if matches!(value.as_str(), "exe" | "pie" | "default") => {
                if value != "exe" {
                    flags.push(format!("-buildmode={value}"));
                }
            }
            "-compiler" if value == "gc" => {}
            "-pgo" => {
                // Go records the profile's path; it is only there again if the file still is.
                if !Path::new(value).is_file() {
                    return Err(format!(
                        "built with the profile {value}, which is no longer there (-pgo)"
                    ));
                }
                flags.push(format!("-pgo={value}"));
            }
            _ if VALUE_FLAGS.contains(&key) => flags.push(format!("{key}={value}")),
            _ if BOOL_FLAGS.contains(&key) => {
                if value == "true" {
                    flags.push(key.to_string());
                }
            }
            "GOOS" | "GOARCH" => {
                let hosts = if key == "GOOS" { &host.os } else { &host.arch };
                if value != hosts {
                    return Err(format!(
                        "built for {key}={value}, not this machine ({hosts}): go install puts such programs elsewhere"
                    ));
                }
                env.push((key.to_string(), value.clone()));
            }
            _ if ENV_SETTINGS.contains(&key) => env.push((key.to_string(), value.clone())),
            // Derived from the module's go.mod, which the same version brings back.
            "DefaultGODEBUG" => {}
            _ => return Err(format!("built with {key}={value}, which gomig cannot reproduce")),
        }
    }
    Ok(Recipe {
        target: format!("{}@{}", info.path, main.version),
        flags,
        env,
    })
}

#[derive(Debug, thiserror::Error)]
pub enum RebuildError {
    #[error("cannot make a temporary GOBIN {dir}: {source}; check that GOBIN is writable (ls -ld {gobin})")]
    Staging {
        dir: String,
        gobin: String,
        source: std::io::Error,
    },
    #[error("cannot run {go}: {source}")]
    Run { go: String, source: std::io::Error },
    #[error("{command} with {go} failed:\n{stderr}")]
    Build {
        command: String,
        go: String,
        stderr: String,
    },
    #[error("{command} did not leave exactly one program in its temporary GOBIN")]
    NoProgram { command: String },
    #[error("the new build is not what was asked for: {0}")]
    Unexpected(String),
    #[error("{file} changed while it was being rebuilt; it is left as it is now (gomig tools shows it)")]
    ChangedMeanwhile { file: String },
    #[error("cannot replace {file}: {source}")]
    Replace { file: String, source: std::io::Error },
}

/// What a successful rebuild replaced.
#[derive(Clone, Debug)]
pub struct Rebuilt {
    pub old_go: String,
    pub new_go: String,
}

/// Builds `tool` again with the toolchain at `goroot` following `recipe`, and renames the new
/// binary over the old one only if it built and reads back as the same module version built
/// with that toolchain (`new_go`, its `go version`). Any error leaves the old file untouched.
pub fn rebuild(tool: &Tool, recipe: &Recipe, goroot: &Path, new_go: &str) -> Result<Rebuilt, RebuildError> {
    let gobin = tool.file.parent().unwrap_or(Path::new("."));
    let staging = gobin.join(format!("{STAGING_PREFIX}{}", unique_suffix()));
    fs::create_dir(&staging).map_err(|source| RebuildError::Staging {
        dir: staging.display().to_string(),
        gobin: gobin.display().to_string(),
        source,
    })?;
    let result = build_and_replace(tool, recipe, goroot, new_go, &staging);
    let _ = fs::remove_dir_all(&staging);
    result
}

fn build_and_replace(
    tool: &Tool,
    recipe: &Recipe,
    goroot: &Path,
    new_go: &str,
    staging: &Path,
) -> Result<Rebuilt, RebuildError> {
    let old = tool
        .build_info()
        .ok_or_else(|| RebuildError::Unexpected("the old program has no build information".into()))?;
    let mut cmd = gotool::as_the_shim_runs(goroot);
    cmd.arg("install")
        .args(&recipe.flags)
        .arg(&recipe.target)
        .env("GOTOOLCHAIN", "local")
        .env("GOBIN", staging)
        .envs(recipe.env.iter().map(|(k, v)| (k, v)));
    let go = gotool::go_binary(goroot).display().to_string();
    let out = cmd
        .output()
        .map_err(|source| RebuildError::Run { go: go.clone(), source })?;
    if !out.status.success() {
        return Err(RebuildError::Build {
            command: recipe.command_line(),
            go,
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    let built: Vec<PathBuf> = fs::read_dir(staging)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    let [new_file] = built.as_slice() else {
        return Err(RebuildError::NoProgram {
            command: recipe.command_line(),
        });
    };
    let new = buildinfo::read(goroot, new_file).map_err(|e| RebuildError::Unexpected(e.to_string()))?;
    let same_module =
        new.main.as_ref().map(|m| (&m.path, &m.version)) == old.main.as_ref().map(|m| (&m.path, &m.version));
    if !same_module || new.path != old.path || gotool::release_word(&new.go_version) != gotool::release_word(new_go) {
        return Err(RebuildError::Unexpected(format!(
            "it reports {} {} built with {}",
            new.path,
            new.main.as_ref().map_or("", |m| m.version.as_str()),
            new.go_version
        )));
    }
    // Someone (a go install by hand, another gomig) replaced it meanwhile: theirs stays.
    if Stamp::now(&tool.file) != tool.stamp {
        return Err(RebuildError::ChangedMeanwhile {
            file: tool.file.display().to_string(),
        });
    }
    fs::rename(new_file, &tool.file).map_err(|source| RebuildError::Replace {
        file: tool.file.display().to_string(),
        source,
    })?;
    if let Some(dir) = tool.file.parent() {
        sync_dir(dir);
    }
    Ok(Rebuilt {
        old_go: old.go_version.clone(),
        new_go: new.go_version,
    })
}

/// Removes temporary GOBINs that killed rebuilds left in `gobin` (their process is gone).
pub fn clean_stale_staging(gobin: &Path) {
    let Ok(entries) = fs::read_dir(gobin) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix(STAGING_PREFIX) else {
            continue;
        };
        let pid = rest.split('-').next().and_then(|p| p.parse::<libc::pid_t>().ok());
        if pid.is_some_and(pid_is_gone) {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

/// A rebuild's progress, for a bar.
pub enum Progress<'a> {
    Started(&'a str),
    Finished(&'a str),
}

/// One tool's rebuild.
pub struct Attempt {
    pub name: String,
    /// `PACKAGE@VERSION`.
    pub target: String,
    pub recipe: Recipe,
    /// The Go that built the old binary.
    pub old_go: String,
    pub result: Result<Rebuilt, RebuildError>,
    /// Set when the attempt could not be logged.
    pub log_warning: Option<String>,
}

/// Rebuilds `chosen` with the toolchain at `goroot` (its release `release`), several at once,
/// and logs each attempt as `tools-rebuild` (the log is opened first: a replacement that could
/// not be logged is not made). Returns the attempts in the order given.
pub fn rebuild_all(
    store: &crate::store::Store,
    chosen: &[(&Tool, Recipe)],
    goroot: &Path,
    release: &str,
    progress: &(dyn Fn(Progress) + Sync),
) -> std::io::Result<Vec<Attempt>> {
    use crate::store::events::{Action, Event, EventLog};
    use rayon::prelude::*;
    let log = std::sync::Mutex::new(EventLog::open(store)?);
    Ok(chosen
        .par_iter()
        .map(|(tool, recipe)| {
            progress(Progress::Started(&tool.name));
            let result = rebuild(tool, recipe, goroot, release);
            progress(Progress::Finished(&tool.name));
            let old_go = tool.build_info().map(|i| i.go_version.clone()).unwrap_or_default();
            let error = result.as_ref().err().map(|e| e.to_string());
            let event = Event::new(Action::ToolsRebuild)
                .field("tool", tool.name.clone())
                .field("file", tool.file.display().to_string())
                .field("target", recipe.target.clone())
                .field("from", old_go.clone())
                .field("to", release.to_string())
                .result(error.as_deref().map_or(Ok(()), Err));
            let log_warning = log
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .write(&event)
                .err()
                .map(|e| format!("cannot log the rebuild of {}: {e}", tool.name));
            Attempt {
                name: tool.name.clone(),
                target: recipe.target.clone(),
                recipe: recipe.clone(),
                old_go,
                result,
                log_warning,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::buildinfo::Module;

    fn host() -> Host {
        Host {
            os: "linux".into(),
            arch: "amd64".into(),
        }
    }

    fn info(version: &str, settings: &[(&str, &str)]) -> BuildInfo {
        BuildInfo {
            go_version: "go1.22.10".into(),
            path: "example.com/tool/cmd/tool".into(),
            main: Some(Module {
                path: "example.com/tool".into(),
                version: version.into(),
                sum: None,
            }),
            settings: settings.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        }
    }

    #[test]
    fn recorded_flags_and_environment_are_given_back() {
        let r = recipe_of(
            &info(
                "v1.2.3",
                &[
                    ("-buildmode", "exe"),
                    ("-compiler", "gc"),
                    ("-ldflags", "-s -w"),
                    ("-tags", "netgo"),
                    ("-trimpath", "true"),
                    ("DefaultGODEBUG", "panicnil=1"),
                    ("CGO_ENABLED", "0"),
                    ("GOARCH", "amd64"),
                    ("GOOS", "linux"),
                    ("GOAMD64", "v3"),
                ],
            ),
            &host(),
        )
        .unwrap();
        assert_eq!(r.target, "example.com/tool/cmd/tool@v1.2.3");
        assert_eq!(r.flags, ["-ldflags=-s -w", "-tags=netgo", "-trimpath"]);
        assert_eq!(r.env.len(), 4);
        assert_eq!(
            r.command_line_via("gomig exec 1.23.9 --"),
            "CGO_ENABLED=0 GOARCH=amd64 GOOS=linux GOAMD64=v3 gomig exec 1.23.9 -- go install '-ldflags=-s -w' -tags=netgo -trimpath example.com/tool/cmd/tool@v1.2.3"
        );
        assert_eq!(
            r.command_line(),
            "CGO_ENABLED=0 GOARCH=amd64 GOOS=linux GOAMD64=v3 go install '-ldflags=-s -w' -tags=netgo -trimpath example.com/tool/cmd/tool@v1.2.3"
        );
    }

    #[test]
    fn what_cannot_be_built_again_says_why() {
        let why = |i: BuildInfo| recipe_of(&i, &host()).unwrap_err();
        assert!(why(info("(devel)", &[])).contains("local checkout"));
        assert!(why(info("v1.0.0", &[("vcs", "git")])).contains("local checkout"));
        assert!(why(info("v1.0.0", &[("-compiler", "gccgo")])).contains("-compiler=gccgo"));
        assert!(why(info("v1.0.0", &[("-buildmode", "c-shared")])).contains("cannot reproduce"));
        assert!(why(info("v1.0.0", &[("GOARCH", "arm64")])).contains("not this machine"));
        assert!(why(info("v1.0.0", &[("-pgo", "/nonexistent/default.pgo")])).contains("no longer there"));
        assert!(why(info("v1.0.0", &[("-linkshared", "true")])).contains("cannot reproduce"));
        let mut dist = info("v1.0.0", &[]);
        dist.main = None;
        dist.path = "cmd/go".into();
        assert!(why(dist).contains("Go distribution"));
    }
}
