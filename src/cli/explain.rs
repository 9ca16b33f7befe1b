//! How a resolution is shown to a person: the name, the reason, a pin that conflicts with
//! go.mod, and the environment that selects it (shared by current, doctor, shell, exec, env).

use crate::lookup::{self, EnvSnapshot, path_of, text_of};
use crate::resolve::version::Version;
use crate::resolve::{Resolution, Rule, Source, Tool};

/// The version name to show: the toolchain, or `system`.
pub fn version_label(res: &Resolution) -> String {
    if res.name.is_empty() {
        "system".into()
    } else {
        text_of(res.name.as_bytes())
    }
}

/// One human sentence for why this toolchain was chosen.
pub fn reason(res: &Resolution) -> String {
    // A directory name may hold control characters: shown escaped.
    let file = crate::lookup::shown(res.file.as_bytes());
    let request = text_of(res.request.as_bytes());
    let base = match res.base_from_gotoolchain {
        true => format!(
            "{} (GOTOOLCHAIN={})",
            text_of(res.base.as_bytes()),
            text_of(res.gotoolchain.as_bytes())
        ),
        false => text_of(res.base.as_bytes()),
    };
    let requirement = text_of(res.requirement.as_bytes());
    // The line that decided, by its kind and number (`go.mod toolchain line 5 go1.23.9`).
    let line_kind = res.decided.as_str().unwrap_or("go");
    let line = res.line;
    match (res.source, res.rule) {
        (Source::Env, _) => format!("from GOMIG_GO_VERSION={request} (gomig shell)"),
        (Source::Argument, _) => format!("requested as {request}"),
        (Source::Command, _) => format!("run as the command {request}"),
        (Source::Gotoolchain, _) => match res.gotoolchain_file.is_empty() {
            true => format!("from GOTOOLCHAIN={}", text_of(res.gotoolchain.as_bytes())),
            false => format!(
                "from GOTOOLCHAIN={} in {} (go env -w)",
                text_of(res.gotoolchain.as_bytes()),
                path_of(res.gotoolchain_file.as_bytes()).display()
            ),
        },
        (Source::GoVersionFile, _) => format!("from {file}"),
        (Source::ToolVersions, _) => format!("from {file} line {}", res.line),
        (Source::GoMod | Source::GoWork, Rule::ToolchainDefault) => {
            format!("{file} says toolchain default: the global default")
        }
        (Source::GoMod | Source::GoWork, Rule::BaseSatisfies) => {
            format!("{file} {line_kind} line {line} ({request}) asks for {requirement}; the base {base} satisfies it")
        }
        (Source::GoMod | Source::GoWork, Rule::Upgrade) if base.is_empty() => {
            format!("required by {file} {line_kind} line {line} ({request}); no default is set")
        }
        (Source::GoMod | Source::GoWork, Rule::Upgrade) => {
            format!("required by {file} {line_kind} line {line} ({request}); base {base} is older")
        }
        (Source::GoMod | Source::GoWork, _) => format!("the global default ({file} requires no version)"),
        (Source::Default, _) => "the global default".into(),
        (Source::System, _) => "the first go on PATH: no version requested here and no default set".into(),
    }
}

/// A pin (`.go-version`, `.tool-versions`, `GOMIG_GO_VERSION`) older than what go.mod or
/// go.work requires: the pinned Go runs and Go itself will refuse, so say so, with both files.
/// The requirement counts whether or not a toolchain that meets it is installed.
pub fn pin_conflict(res: &Resolution) -> Option<String> {
    if !matches!(res.source, Source::Env | Source::GoVersionFile | Source::ToolVersions) || res.name.is_empty() {
        return None;
    }
    let dir = lookup::current_dir().ok()?;
    // Go refuses a toolchain older than the go line (compared as written: `go 1.22` is met by
    // go1.22rc1); a toolchain line is only a suggestion, which GOTOOLCHAIN=local ignores.
    let (file, go_line, number) = match lookup::resolve_with(&EnvSnapshot::capture(), &dir, Tool::Go, false) {
        Ok(go_files) => (
            path_of(go_files.file.as_bytes()),
            text_of(go_files.go_line.as_bytes()),
            go_files.go_line_number,
        ),
        Err(failure) if matches!(failure.origin, Source::GoMod | Source::GoWork) => {
            (failure.file, failure.go_line, failure.go_line_number)
        }
        Err(_) => return None,
    };
    if go_line.is_empty()
        || Version::parse(go_line.as_bytes())
            .compare(&Version::parse_go(res.name.as_bytes()))
            .is_le()
    {
        return None;
    }
    let (line, requirement) = (number, format!("go{go_line}"));
    let pin = if res.source == Source::Env {
        "GOMIG_GO_VERSION".to_string()
    } else {
        path_of(res.file.as_bytes()).display().to_string()
    };
    Some(format!(
        "{pin} pins {} but {} line {line} requires {requirement}: Go will refuse to build; raise the pin or remove it",
        text_of(res.name.as_bytes()),
        file.display(),
    ))
}

/// The environment changes that select `res`: (PATH entry to prepend, GOROOT or None to unset).
pub fn selection_env(res: &Resolution) -> (std::path::PathBuf, Option<std::path::PathBuf>) {
    let exe = lookup::path_of(res.exe.as_bytes());
    let bin = exe.parent().map(|p| p.to_path_buf()).unwrap_or_default();
    let goroot = if res.goroot.is_empty() {
        None
    } else {
        Some(lookup::path_of(res.goroot.as_bytes()))
    };
    (bin, goroot)
}
