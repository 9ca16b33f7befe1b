//! A check's run options, its sides and its progress line on stderr (shared by check and migrate).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use anyhow::{Result, anyhow};

use crate::check::{self, Progress, Side};
use crate::config::{Config, ConfigError};
use crate::integrity::manifest::Manifest;
use crate::lookup;
use crate::resolve::Resolution;
use crate::store::Store;

/// gomig check's own build cache (and the test binaries and probe it keeps).
pub fn check_cache_dir(store: &Store) -> PathBuf {
    store.cache_dir().join("check-gocache")
}

/// A side of the comparison for a resolved toolchain.
pub fn side_for(store: &Store, res: &Resolution) -> Result<Side> {
    let name = lookup::text_of(res.name.as_bytes());
    if name.is_empty() {
        // The system Go: ask it where its tree is.
        let exe = lookup::path_of(res.exe.as_bytes());
        let out = Command::new(&exe)
            .args(["env", "GOROOT"])
            .env("GOTOOLCHAIN", "local")
            .output()
            .map_err(|e| anyhow!("cannot run {}: {e}", exe.display()))?;
        let goroot = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        return Ok(Side::new("system", &goroot, None));
    }
    Ok(side_for_name(store, &name, &lookup::path_of(res.goroot.as_bytes())))
}

/// A side for the store's toolchain `name` at `goroot`, with its recorded manifest if any.
pub fn side_for_name(store: &Store, name: &str, goroot: &Path) -> Side {
    let recorded = Manifest::load(&store.manifest_path(name)).ok();
    Side::new(name, goroot, recorded.as_ref().map(|m| &m.header))
}

/// How the checks run: the options `gomig check` and `gomig migrate` (stage 3) share.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Cross-compile targets for B, comma-separated, or `none`
    /// [default: linux/amd64,linux/arm64,darwin/arm64,windows/amd64].
    #[arg(long, value_name = "OS/ARCH,...", value_parser = cross_list)]
    pub cross: Vec<String>,
    /// Passed to go test as -timeout (e.g. 30s, 5m).
    #[arg(long, value_name = "DURATION")]
    pub timeout: Option<String>,
    /// The build cache to use (default: gomig's own, under GOMIG_HOME/cache; pass
    /// "$(go env GOCACHE)" to reuse yours).
    #[arg(long, value_name = "DIR")]
    pub gocache: Option<PathBuf>,
    /// How many more times a test that passed with A and failed with B runs with each, alone;
    /// it is a regression only if it fails every time with B and passes every time with A,
    /// else flaky (0: no reruns).
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub reruns: usize,
}

/// `--cross` checked as clap parses it: a target Go does not know is a usage error.
fn cross_list(value: &str) -> Result<String, check::CheckError> {
    check::parse_targets(&[value.to_string()]).map(|_| value.to_string())
}

impl RunArgs {
    /// The cross targets: the default matrix unless some were given.
    pub fn targets(&self) -> Result<Vec<String>, check::CheckError> {
        if self.cross.is_empty() {
            Ok(check::DEFAULT_CROSS.iter().map(|s| s.to_string()).collect())
        } else {
            check::parse_targets(&self.cross)
        }
    }

    /// The build cache: the one given, else gomig's own.
    pub fn gocache(&self, store: &Store) -> PathBuf {
        self.gocache.clone().unwrap_or_else(|| check_cache_dir(store))
    }

    /// How gomig's own cache is trimmed after a check (config.toml's `[check_cache]`); `None`
    /// for a cache given with `--gocache` (yours: gomig never trims it).
    pub fn trim(&self) -> Result<Option<check::cache::Limits>, ConfigError> {
        if self.gocache.is_some() {
            return Ok(None);
        }
        Config::load()?.check_cache_limits().map(Some)
    }
}

#[derive(Default)]
struct State {
    steps: Vec<(String, String, usize)>,
    cross: usize,
}

/// Shows the two toolchains' progress on one line (on a terminal only).
pub struct ProgressLine {
    bar: indicatif::ProgressBar,
    state: Mutex<State>,
}

impl ProgressLine {
    pub fn new(enabled: bool, prefix: &str) -> ProgressLine {
        let bar = if enabled {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.set_style(
                indicatif::ProgressStyle::with_template("{spinner} {prefix}{msg} [{elapsed}]")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
            );
            bar.set_prefix(prefix.to_string());
            // Dropped on an error path too: no frame left above the message that follows.
            let bar = bar.with_finish(indicatif::ProgressFinish::AndClear);
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        } else {
            indicatif::ProgressBar::hidden()
        };
        ProgressLine {
            bar,
            state: Mutex::new(State::default()),
        }
    }

    pub fn update(&self, p: Progress) {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        match p {
            Progress::Step { side, step } => match st.steps.iter_mut().find(|s| s.0 == side) {
                Some(s) => s.1 = step.to_string(),
                None => st.steps.push((side, step.to_string(), 0)),
            },
            Progress::PackageDone { side, .. } => {
                if let Some(s) = st.steps.iter_mut().find(|s| s.0 == side) {
                    s.2 += 1;
                }
            }
            Progress::CrossDone { .. } => st.cross += 1,
        }
        let mut parts: Vec<String> = st
            .steps
            .iter()
            .map(|(side, step, n)| format!("{side}: {step} ({n} pkgs tested)"))
            .collect();
        if st.cross > 0 {
            parts.push(format!("{} cross builds", st.cross));
        }
        self.bar.set_message(parts.join(" | "));
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// Colour for the check report: stdout's (a terminal without NO_COLOR).
pub fn style() -> crate::paint::Paint {
    crate::paint::Paint::stdout()
}
