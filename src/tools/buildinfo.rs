//! A Go program's build information, as `go version -m` prints it from the binary's buildinfo
//! blob: the Go that built it, the main package and module, and the build settings.
//!
//! The blob is read by the default toolchain's own `go version -m` (the text form: `-json`
//! only exists from Go 1.25 on), so gomig reads it exactly as Go does; this module parses that
//! text. Values with spaces or quotes are written by Go with `strconv.Quote`, and unquoted here.

use std::path::Path;

use serde::Serialize;

use crate::gotool;

/// One module line (`mod` or `dep`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Module {
    pub path: String,
    pub version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sum: Option<String>,
}

/// What a Go binary says about how it was built.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct BuildInfo {
    /// `go1.22.10` (or `devel go1.24-abc ...`, `go1.23.9 X:boringcrypto`).
    pub go_version: String,
    /// The main package's import path (`golang.org/x/tools/gopls`).
    pub path: String,
    /// The main module; `None` for a program built outside module mode (or part of Go).
    pub main: Option<Module>,
    /// The build settings in the order Go recorded them (`-trimpath`=`true`, `CGO_ENABLED`=`0`).
    pub settings: Vec<(String, String)>,
}

impl BuildInfo {
    pub fn setting(&self, key: &str) -> Option<&str> {
        self.settings.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// The Go release that built it (`go1.22.10`), when the version names one.
    pub fn release(&self) -> Option<&str> {
        gotool::release_word(&self.go_version)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// Not a Go program (a script, a C binary, a file Go cannot read): Go's own words.
    #[error("not a Go program ({reason})")]
    NotGo { reason: String },
    #[error(transparent)]
    Go(#[from] gotool::GoToolError),
}

/// Reads the build information of `file` with the toolchain at `goroot`.
pub fn read(goroot: &Path, file: &Path) -> Result<BuildInfo, ReadError> {
    let mut cmd = gotool::identity(goroot);
    cmd.arg("version").arg("-m").arg(file);
    let go = gotool::go_binary(goroot);
    let out = cmd.output().map_err(|source| gotool::GoToolError::Run {
        go: go.display().to_string(),
        source,
    })?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // `go version -m` exits 0 and says on stderr why a file is not a Go program.
    let header = format!("{}: ", file.display());
    match stdout.strip_prefix(&header) {
        Some(text) if out.status.success() => parse(text).ok_or_else(|| ReadError::NotGo {
            reason: format!("go version -m printed what gomig cannot read: {}", stdout.trim()),
        }),
        _ if out.status.success() || !stderr.trim().is_empty() => Err(ReadError::NotGo {
            reason: go_reason(&stderr, file),
        }),
        _ => Err(gotool::GoToolError::Failed {
            go: go.display().to_string(),
            args: format!("version -m {}", file.display()),
            stderr: stderr.trim().to_string(),
        }
        .into()),
    }
}

/// Go's reason without the file name it repeats (`could not read Go build info from F: X`).
fn go_reason(stderr: &str, file: &Path) -> String {
    let text = stderr.trim();
    let shown = file.display().to_string();
    let text = text.strip_prefix(&format!("{shown}: ")).unwrap_or(text);
    let text = text.replace(&format!(" from {shown}"), "");
    if text.is_empty() {
        "go version -m found no Go build information in it".to_string()
    } else {
        text
    }
}

/// Parses what follows `FILE: ` in `go version -m FILE`'s output.
pub fn parse(text: &str) -> Option<BuildInfo> {
    let mut lines = text.lines();
    let go_version = lines.next()?.trim().to_string();
    if go_version.is_empty() {
        return None;
    }
    let mut info = BuildInfo {
        go_version,
        ..BuildInfo::default()
    };
    for line in lines {
        let line = line.strip_prefix('\t').unwrap_or(line);
        let mut fields = line.split('\t');
        match fields.next() {
            Some("path") => info.path = fields.next().unwrap_or_default().to_string(),
            Some("mod") => {
                info.main = Some(Module {
                    path: fields.next().unwrap_or_default().to_string(),
                    version: fields.next().unwrap_or_default().to_string(),
                    sum: fields.next().map(str::to_string),
                })
            }
            Some("build") => {
                let rest = line["build\t".len().min(line.len())..].to_string();
                info.settings.push(setting(&rest)?);
            }
            // dep and => lines: the dependencies come back with the module version.
            _ => {}
        }
    }
    Some(info)
}

/// `key=value`, either side possibly quoted.
fn setting(text: &str) -> Option<(String, String)> {
    let (key, rest) = if text.starts_with('"') {
        let (key, used) = unquote(text)?;
        (key, &text[used..])
    } else {
        let eq = text.find('=')?;
        (text[..eq].to_string(), &text[eq..])
    };
    let value = rest.strip_prefix('=')?;
    let value = if value.starts_with('"') {
        let (v, used) = unquote(value)?;
        if used != value.len() {
            return None;
        }
        v
    } else {
        value.to_string()
    };
    Some((key, value))
}

/// Reads one Go `strconv.Quote`d string at the start of `text`: the string and the bytes used.
fn unquote(text: &str) -> Option<(String, usize)> {
    let mut out = String::new();
    let mut chars = text.char_indices();
    if chars.next()?.1 != '"' {
        return None;
    }
    let mut bytes: Vec<u8> = Vec::new();
    let flush = |bytes: &mut Vec<u8>, out: &mut String| {
        if !bytes.is_empty() {
            out.push_str(&String::from_utf8_lossy(bytes));
            bytes.clear();
        }
    };
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => {
                flush(&mut bytes, &mut out);
                return Some((out, i + 1));
            }
            '\\' => {
                let (_, e) = chars.next()?;
                let hex = |chars: &mut std::str::CharIndices, n: usize| -> Option<u32> {
                    let s: String = (0..n).filter_map(|_| chars.next().map(|(_, c)| c)).collect();
                    if s.len() == n {
                        u32::from_str_radix(&s, 16).ok()
                    } else {
                        None
                    }
                };
                match e {
                    'x' => bytes.push(hex(&mut chars, 2)? as u8),
                    'u' | 'U' => {
                        flush(&mut bytes, &mut out);
                        out.push(char::from_u32(hex(&mut chars, if e == 'u' { 4 } else { 8 })?)?);
                    }
                    simple => {
                        flush(&mut bytes, &mut out);
                        out.push(match simple {
                            'a' => '\x07',
                            'b' => '\x08',
                            'f' => '\x0c',
                            'n' => '\n',
                            'r' => '\r',
                            't' => '\t',
                            'v' => '\x0b',
                            '\\' | '"' | '\'' => simple,
                            _ => return None,
                        });
                    }
                }
            }
            c => {
                flush(&mut bytes, &mut out);
                out.push(c);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_module_and_quoted_build_settings() {
        let text = "go1.22.10\n\tpath\texample.com/hello/cmd/hello\n\tmod\texample.com/hello\tv1.2.0\th1:abc=\n\tdep\tgolang.org/x/mod\tv0.1.0\th1:def=\n\tbuild\t-buildmode=exe\n\tbuild\t-ldflags=\"-s -w -X \\\"main.v=1 2\\\"\"\n\tbuild\t-tags=netgo,osusergo\n\tbuild\tCGO_ENABLED=0\n";
        let info = parse(text).unwrap();
        assert_eq!(info.go_version, "go1.22.10");
        assert_eq!(info.release(), Some("go1.22.10"));
        assert_eq!(info.path, "example.com/hello/cmd/hello");
        let main = info.main.as_ref().unwrap();
        assert_eq!(
            (main.path.as_str(), main.version.as_str()),
            ("example.com/hello", "v1.2.0")
        );
        assert_eq!(info.setting("-ldflags"), Some("-s -w -X \"main.v=1 2\""));
        assert_eq!(info.setting("-tags"), Some("netgo,osusergo"));
        assert_eq!(info.setting("CGO_ENABLED"), Some("0"));
        assert_eq!(info.settings.len(), 4);
    }

    #[test]
    fn a_quoted_key_and_escapes_come_back_as_go_wrote_them() {
        assert_eq!(
            setting("\"a=b\"=\"x\\ty\\x41\\u00e9\""),
            Some(("a=b".to_string(), "x\tyAé".to_string()))
        );
        assert_eq!(setting("\"unterminated=1"), None);
        assert_eq!(setting("-ldflags=\"x\"trailing"), None);
    }

    #[test]
    fn a_program_outside_module_mode_has_no_main_module() {
        let info = parse("go1.22.10\n\tpath\tcmd/go\n\tbuild\t-trimpath=true\n").unwrap();
        assert_eq!(info.main, None);
        assert_eq!(info.path, "cmd/go");
        assert_eq!(parse(""), None);
    }
}
