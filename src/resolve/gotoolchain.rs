//! `GOTOOLCHAIN` as cmd/go reads it (`cmd/go/internal/toolchain/select.go`, `go help
//! toolchain`): from the environment, else the `go env -w` file (`$GOENV`, else
//! `os.UserConfigDir()/go/env`), in the forms `local`, `auto`, `path`, `NAME`, `NAME+auto` and
//! `NAME+path`; and which `go` command lines Go lets skip the switch. `core` only, no heap.

use super::files::LineReader;
use super::sys::{Fd, PathBuf};
use super::version::Version;
use super::{Env, MAX_NAME, Name};

/// Whether Go may switch away from the minimum toolchain, and where it would look.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Switching {
    /// `local` or `NAME`: no switching.
    None,
    /// `auto` or `NAME+auto`: by go.mod/go.work, from PATH and then a download.
    Auto,
    /// `path` or `NAME+path`: by go.mod/go.work, from PATH only.
    Path,
}

/// A parsed GOTOOLCHAIN value.
#[derive(Clone, Copy)]
pub struct Setting<'a> {
    /// The minimum toolchain; `None` for `local` (gomig's own choice: pins, go files, default).
    pub min: Option<&'a [u8]>,
    pub switching: Switching,
}

/// Parses a GOTOOLCHAIN value as `toolchain.Select` does; `None` when Go would refuse it
/// ("invalid GOTOOLCHAIN").
pub fn parse(value: &[u8]) -> Option<Setting<'_>> {
    match value {
        b"auto" => {
            return Some(Setting {
                min: None,
                switching: Switching::Auto,
            });
        }
        b"path" => {
            return Some(Setting {
                min: None,
                switching: Switching::Path,
            });
        }
        _ => {}
    }
    let (min, suffix) = match value.iter().position(|&c| c == b'+') {
        Some(i) => (&value[..i], Some(&value[i + 1..])),
        None => (value, None),
    };
    let switching = match suffix {
        None => Switching::None,
        Some(b"auto") => Switching::Auto,
        Some(b"path") => Switching::Path,
        Some(_) => return None,
    };
    if min == b"local" {
        return Some(Setting { min: None, switching });
    }
    if !is_toolchain_name(min) {
        return None;
    }
    Some(Setting {
        min: Some(min),
        switching,
    })
}

/// `gover.FromToolchain` accepts it: `go` + a valid version, then an optional suffix
/// (`-bigcorp`), no path separator. gomig also wants it usable as a directory name.
pub fn is_toolchain_name(name: &[u8]) -> bool {
    if name.len() > MAX_NAME || !super::version::is_safe_text(name) {
        return false;
    }
    let Some(rest) = name.strip_prefix(b"go") else {
        return false;
    };
    let end = rest.iter().position(|&c| c == b'-').unwrap_or(rest.len());
    Version::parse(&rest[..end]).is_valid()
}

/// A language version from Go 1.21 on (`go1.22`): a minimum, never a toolchain that exists.
pub fn is_language_version(name: &[u8]) -> bool {
    Version::parse_go(name).is_lang()
}

/// Finds GOTOOLCHAIN: the environment's (non-empty) value, else the last `GOTOOLCHAIN=` line
/// of the go env file, copied into `value`, with the file's path in `file`. False if neither
/// sets it (Go then takes `$GOROOT/go.env`'s `auto`, which gomig's own rules stand for).
pub fn find(env: &Env<'_>, value: &mut Name, file: &mut PathBuf) -> bool {
    file.clear();
    if let Some(v) = env.gotoolchain {
        set_value(value, v, false);
        return true;
    }
    if !env_file(env, file) {
        return false;
    }
    let Ok(fd) = Fd::open_read(file) else {
        file.clear();
        return false;
    };
    if !read_env_file(fd, value) {
        file.clear();
        return false;
    }
    true
}

/// The last `GOTOOLCHAIN=` line of an open go env file. Out of line and cold: its 16 KiB
/// reader costs stack pages only when the file exists.
#[cold]
#[inline(never)]
fn read_env_file(fd: Fd, value: &mut Name) -> bool {
    let mut reader = LineReader::new(fd);
    let mut found = false;
    while let Ok(Some(line)) = reader.next_line() {
        // Go's readEnvFile: `KEY=VALUE`, a key starting with A-Z; a later line wins.
        if let Some(v) = line.text.strip_prefix(b"GOTOOLCHAIN=") {
            set_value(value, v, line.truncated);
            found = !v.is_empty();
        }
    }
    found
}

/// Copies a setting; one longer than any toolchain name is cut and marked `+...`, which no
/// form accepts, so it is refused as shown rather than cut into a valid name.
fn set_value(value: &mut Name, v: &[u8], truncated: bool) {
    if v.len() <= MAX_NAME && !truncated {
        value.set(v);
    } else {
        value.set(&v[..v.len().min(MAX_NAME - 4)]);
        value.extend(b"+...");
    }
}

/// cmd/go's `cfg.EnvFile`: `$GOENV` (`off`: none), else `os.UserConfigDir()` + `/go/env`
/// (`$XDG_CONFIG_HOME`, absolute, else `$HOME/.config`): written into `file`, false if Go
/// would read none. The one place gomig says where Go keeps `go env -w` settings.
pub fn env_file(env: &Env<'_>, file: &mut PathBuf) -> bool {
    match env.goenv {
        Some(b"off") => false,
        Some(path) => file.set(path).is_some(),
        None => {
            #[cfg(target_os = "macos")]
            let dir = env.home.map(|h| (h, &b"Library/Application Support/go/env"[..]));
            #[cfg(not(target_os = "macos"))]
            let dir = match env.xdg_config_home {
                Some(x) if x[0] == b'/' => Some((x, &b"go/env"[..])),
                Some(_) => None,
                None => env.home.map(|h| (h, &b".config/go/env"[..])),
            };
            dir.is_some_and(|(d, rest)| file.set(d).is_some() && file.push(rest).is_some())
        }
    }
}

/// The go command lines that cmd/go runs with the minimum toolchain whatever the files say.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum GoCommand {
    #[default]
    Other,
    /// `go install m@v`, `go run m@v`: the module's own go.mod counts, not the one here.
    ModuleAtVersion,
    /// `go env GOTOOLCHAIN`, `go env -w GOTOOLCHAIN=...`, `go env GOMOD`, `go env GOWORK`:
    /// answered by the local toolchain without reading GOTOOLCHAIN, so a bad setting can
    /// always be seen and fixed.
    EnvQuery,
}

/// Build flags of `go install` / `go run` that take a value as the next argument (the
/// boolean ones, and `-flag=value`, do not).
const VALUE_FLAGS: &[&[u8]] = &[
    b"C",
    b"p",
    b"asmflags",
    b"buildmode",
    b"compiler",
    b"covermode",
    b"coverpkg",
    b"debug-actiongraph",
    b"debug-runtime-trace",
    b"debug-trace",
    b"exec",
    b"gccgoflags",
    b"gcflags",
    b"installsuffix",
    b"ldflags",
    b"mod",
    b"modfile",
    b"o",
    b"overlay",
    b"pgo",
    b"pkgdir",
    b"tags",
    b"toolexec",
];

/// Classifies a go command line (`args` without argv[0]) as `toolchain.Select` and its
/// `goInstallVersion` do.
// Out of line, and the rest in functions of their own: most commands (`go version`, `go
// build`) are told apart by their first word, and the shim runs only that part.
#[inline(never)]
pub fn classify<'a>(mut args: impl Iterator<Item = &'a [u8]>) -> GoCommand {
    let Some(cmd) = args.next() else {
        return GoCommand::Other;
    };
    match cmd {
        b"env" => classify_env(args),
        b"run" => classify_build(true, args),
        b"install" => classify_build(false, args),
        _ => GoCommand::Other,
    }
}

#[inline(never)]
fn classify_env<'a>(mut args: impl Iterator<Item = &'a [u8]>) -> GoCommand {
    let (a, b, c) = (args.next(), args.next(), args.next());
    match (a, b, c) {
        (Some(b"GOTOOLCHAIN" | b"GOMOD" | b"GOWORK"), None, None) => GoCommand::EnvQuery,
        (Some(b"-w"), Some(kv), None) if kv.starts_with(b"GOTOOLCHAIN=") => GoCommand::EnvQuery,
        _ => GoCommand::Other,
    }
}

/// `go run` (`run`) or `go install`: run with the minimum toolchain for `m@v`.
#[inline(never)]
fn classify_build<'a>(run: bool, mut args: impl Iterator<Item = &'a [u8]>) -> GoCommand {
    let mut pkg: &[u8] = b"";
    while let Some(a) = args.next() {
        if a == b"--" {
            pkg = args.next().unwrap_or(b"");
            break;
        }
        let Some(flag) = a.strip_prefix(b"-") else {
            pkg = a;
            break;
        };
        let flag = flag.strip_prefix(b"-").unwrap_or(flag);
        if flag.contains(&b'=') {
            continue;
        }
        if VALUE_FLAGS.contains(&flag) {
            args.next();
        } else if run && !is_bool_build_flag(flag) {
            // cmd/go gives up on `go run` with a flag it does not know.
            return GoCommand::Other;
        }
    }
    let Some(at) = pkg.iter().position(|&c| c == b'@') else {
        return GoCommand::Other;
    };
    let (path, version) = (&pkg[..at], &pkg[at + 1..]);
    let local = path == b"." || path == b".." || path.starts_with(b"./") || path.starts_with(b"../");
    if path.is_empty() || version.is_empty() || local || pkg[0] == b'/' || path == b"go" || path == b"toolchain" {
        return GoCommand::Other;
    }
    GoCommand::ModuleAtVersion
}

fn is_bool_build_flag(flag: &[u8]) -> bool {
    matches!(
        flag,
        b"a" | b"n"
            | b"x"
            | b"v"
            | b"race"
            | b"msan"
            | b"asan"
            | b"cover"
            | b"linkshared"
            | b"modcacherw"
            | b"trimpath"
            | b"work"
            | b"buildvcs"
            | b"json"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gotoolchain_forms_are_read_as_cmd_go_reads_them() {
        type Read<'a> = Option<(Option<&'a str>, Switching)>;
        let cases: &[(&str, Read<'_>)] = &[
            ("local", Some((None, Switching::None))),
            ("auto", Some((None, Switching::Auto))),
            ("path", Some((None, Switching::Path))),
            ("local+auto", Some((None, Switching::Auto))),
            ("local+path", Some((None, Switching::Path))),
            ("go1.23.9", Some((Some("go1.23.9"), Switching::None))),
            ("go1.22.10+auto", Some((Some("go1.22.10"), Switching::Auto))),
            ("go1.22.10+path", Some((Some("go1.22.10"), Switching::Path))),
            ("go1.21.1-bigcorp", Some((Some("go1.21.1-bigcorp"), Switching::None))),
            ("go1.22rc1+auto", Some((Some("go1.22rc1"), Switching::Auto))),
            ("go1.23.9+never", None),
            ("go1.23.9+", None),
            ("bash", None),
            ("1.23.9", None),
            ("go1.2/../x", None),
            ("+auto", None),
            ("", None),
        ];
        for (text, want) in cases {
            let got = parse(text.as_bytes()).map(|s| (s.min.map(|m| core::str::from_utf8(m).unwrap()), s.switching));
            assert_eq!(got, *want, "GOTOOLCHAIN={text}");
        }
        assert!(is_language_version(b"go1.22") && is_language_version(b"go1.21"));
        assert!(!is_language_version(b"go1.20") && !is_language_version(b"go1.22.0"));
        assert!(!is_language_version(b"go1.22rc1"));
    }

    #[test]
    fn go_command_lines_that_skip_the_go_mod_here_are_recognised() {
        let at = GoCommand::ModuleAtVersion;
        let cases: &[(&[&str], GoCommand)] = &[
            (&["install", "example.com/cmd@v1.2.3"], at),
            (&["install", "-v", "-tags", "a,b", "example.com/cmd@latest"], at),
            (&["install", "--ldflags=-s", "example.com/cmd@latest"], at),
            (&["run", "example.com/cmd@v1", "--flag"], at),
            (&["run", "-exec", "env", "--", "example.com/cmd@v1"], at),
            (&["run", "-unknownflag", "example.com/cmd@v1"], GoCommand::Other),
            (&["install", "./cmd"], GoCommand::Other),
            (&["install", "./cmd@v1"], GoCommand::Other),
            (&["install", "/abs/cmd@v1"], GoCommand::Other),
            (&["install", "example.com/cmd@"], GoCommand::Other),
            (&["install", "@v1"], GoCommand::Other),
            (&["install", "go@1.22.0"], GoCommand::Other),
            (&["install", "toolchain@go1.22.0"], GoCommand::Other),
            (&["build", "example.com/cmd@v1"], GoCommand::Other),
            (&["install"], GoCommand::Other),
            (&["env", "GOTOOLCHAIN"], GoCommand::EnvQuery),
            (&["env", "GOMOD"], GoCommand::EnvQuery),
            (&["env", "GOWORK"], GoCommand::EnvQuery),
            (&["env", "-w", "GOTOOLCHAIN=auto"], GoCommand::EnvQuery),
            (&["env", "-w", "GOPRIVATE=x"], GoCommand::Other),
            (&["env", "GOTOOLCHAIN", "GOROOT"], GoCommand::Other),
            (&["env"], GoCommand::Other),
            (&[], GoCommand::Other),
        ];
        for (args, want) in cases {
            assert_eq!(classify(args.iter().map(|a| a.as_bytes())), *want, "go {args:?}");
        }
    }
}
