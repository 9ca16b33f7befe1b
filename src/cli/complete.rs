//! Completion of argument values. The shell calls gomig itself at each TAB
//! (`_GOMIG_COMPLETE=bash gomig -- WORDS...`, see [`super::shells::completions`]); clap_complete's
//! engine walks the command line and asks the completers below for the word under the cursor.
//! They read the store ([`Store::toolchains`]) and the cached download index
//! ([`index::cached_names`]: never the network), and say nothing on any error.

use std::ffi::OsStr;

use clap_complete::engine::{ArgValueCompleter, CompletionCandidate, PathCompleter, ValueCompleter};

use crate::config::Config;
use crate::install::index;
use crate::lookup::{self, EnvSnapshot};
use crate::resolve::version::{self, Version};
use crate::store::Store;

/// The environment variable that makes gomig complete instead of run.
pub const VAR: &str = "_GOMIG_COMPLETE";

/// Which store entries a command takes, and which other spellings.
#[derive(Clone, Copy)]
struct Kinds {
    /// Every entry, installed ones only, or adopted ones only.
    entries: Entries,
    /// `1.22` (newest installed 1.22.x) and `latest`.
    newest: bool,
    /// `system`.
    system: bool,
    /// Releases from the cached index too (`migrate --to`).
    releases: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Entries {
    All,
    Installed,
    Adopted,
}

const TOOLCHAIN: Kinds = Kinds {
    entries: Entries::All,
    newest: true,
    system: false,
    releases: false,
};

/// A toolchain in the store, a prefix or `latest` (switch, verify, snapshot, archive, fingerprint).
pub fn toolchain() -> ArgValueCompleter {
    completer(TOOLCHAIN)
}

/// Also `system` (local, shell, exec, env, check).
pub fn toolchain_or_system() -> ArgValueCompleter {
    completer(Kinds {
        system: true,
        ..TOOLCHAIN
    })
}

/// A toolchain gomig installed, by its exact name (uninstall).
pub fn installed_entry() -> ArgValueCompleter {
    completer(Kinds {
        entries: Entries::Installed,
        newest: false,
        ..TOOLCHAIN
    })
}

/// An adopted toolchain, by its exact name (remove).
pub fn adopted_entry() -> ArgValueCompleter {
    completer(Kinds {
        entries: Entries::Adopted,
        newest: false,
        ..TOOLCHAIN
    })
}

/// An installed toolchain, else a release from the cached index (migrate --to).
pub fn toolchain_or_release() -> ArgValueCompleter {
    completer(Kinds {
        releases: true,
        ..TOOLCHAIN
    })
}

/// A toolchain, or a file (a saved fingerprint: env-diff).
pub fn toolchain_or_file() -> ArgValueCompleter {
    ArgValueCompleter::new(|current: &OsStr| {
        let mut out = candidates(&current.to_string_lossy(), TOOLCHAIN);
        out.extend(PathCompleter::any().complete(current));
        out
    })
}

/// A release in the cached index, a prefix or `latest` (install).
pub fn release() -> ArgValueCompleter {
    ArgValueCompleter::new(|current: &OsStr| releases(&current.to_string_lossy()))
}

fn completer(kinds: Kinds) -> ArgValueCompleter {
    ArgValueCompleter::new(move |current: &OsStr| candidates(&current.to_string_lossy(), kinds))
}

fn store() -> Option<Store> {
    lookup::home_dir(&EnvSnapshot::capture()).ok().map(Store::at)
}

/// Names as `gomig list` shows them (`go1.22.10`), or as typed when the word starts with a
/// digit (`1.22.10`, which every version argument also accepts).
fn spelling(name: &str, current: &str) -> String {
    if current.starts_with(|c: char| c.is_ascii_digit()) {
        version::short(name).to_string()
    } else {
        name.to_string()
    }
}

/// `1.22` for `go1.22.10`; `None` for a name that is not a release with a minor version.
fn line_of(name: &str) -> Option<String> {
    let v = Version::parse_go(name.as_bytes());
    if !v.is_valid() || v.minor.is_empty() {
        return None;
    }
    Some(format!(
        "{}.{}",
        String::from_utf8_lossy(v.major),
        String::from_utf8_lossy(v.minor)
    ))
}

fn candidates(current: &str, kinds: Kinds) -> Vec<CompletionCandidate> {
    let mut out: Vec<CompletionCandidate> = Vec::new();
    let mut any = false;
    if let Some(store) = store() {
        let default = store.default_name().ok().flatten();
        let toolchains = store.toolchains().unwrap_or_default();
        let mut lines: Vec<String> = Vec::new();
        // Newest first.
        for t in toolchains.iter().rev() {
            let adopted = t.adopted_from.is_some();
            match kinds.entries {
                Entries::Installed if adopted => continue,
                Entries::Adopted if !adopted => continue,
                _ => {}
            }
            let mut marks = Vec::new();
            if default.as_deref() == Some(t.name.as_str()) {
                marks.push("default");
            }
            marks.push(if adopted { "adopted" } else { "installed" });
            out.push(CompletionCandidate::new(spelling(&t.name, current)).help(Some(marks.join(", ").into())));
            any = true;
            if let Some(line) = line_of(&t.name).filter(|l| !lines.contains(l)) {
                lines.push(line);
            }
        }
        if kinds.newest {
            for line in lines {
                out.push(CompletionCandidate::new(&line).help(Some(format!("newest installed {line}.x").into())));
            }
            if any {
                out.push(CompletionCandidate::new("latest").help(Some("newest installed".into())));
            }
        }
    }
    if kinds.system {
        out.push(CompletionCandidate::new("system").help(Some("the go on PATH".into())));
    }
    out.retain(|c| c.get_value().to_string_lossy().starts_with(current));
    if kinds.releases {
        let seen: Vec<String> = out
            .iter()
            .map(|c| c.get_value().to_string_lossy().into_owned())
            .collect();
        out.extend(
            releases(current)
                .into_iter()
                .filter(|c| !seen.iter().any(|s| *s == c.get_value().to_string_lossy())),
        );
    }
    out
}

/// The releases of the first mirror whose index is cached (the mirrors `install` would use),
/// newest first, each line's prefix before its releases; installed ones are marked.
fn releases(current: &str) -> Vec<CompletionCandidate> {
    let Some(store) = store() else {
        return Vec::new();
    };
    let installed: Vec<String> = store
        .toolchains()
        .unwrap_or_default()
        .into_iter()
        .map(|t| t.name)
        .collect();
    let config = Config::load().unwrap_or_default();
    let Some(index) = super::source::mirrors(&[], &config)
        .iter()
        .find_map(|m| index::cached_names(m, &store.cache_dir()))
    else {
        return Vec::new();
    };
    let sorted = index.sorted();
    let newest_stable = sorted.iter().find(|r| r.stable).map(|r| r.version.as_str());
    let mut out = vec![CompletionCandidate::new("latest").help(Some("newest release".into()))];
    let mut last_line = None;
    for r in sorted {
        // Pre-releases only while they are newer than every stable release.
        if !r.stable && newest_stable.is_some_and(|s| version::compare_go(r.version.as_bytes(), s.as_bytes()).is_lt()) {
            continue;
        }
        let line = line_of(&r.version);
        if r.stable && line.is_some() && line != last_line {
            let l = line.clone().unwrap_or_default();
            out.push(CompletionCandidate::new(&l).help(Some(format!("newest {l}.x release").into())));
            last_line = line;
        }
        let help = if installed.contains(&r.version) {
            "release, installed"
        } else if r.stable {
            "release"
        } else {
            "pre-release"
        };
        let value = if current.starts_with("go") {
            r.version.clone()
        } else {
            version::short(&r.version).to_string()
        };
        out.push(CompletionCandidate::new(value).help(Some(help.into())));
    }
    out.retain(|c| c.get_value().to_string_lossy().starts_with(current));
    out
}
