//! The Go module proxy as a source of toolchains: `golang.org/toolchain@v0.0.1-go1.22.10.linux-amd64`
//! (the module form cmd/distpack publishes), fetched through a `GOPROXY` list with Go's rules
//! (cmd/go/internal/modfetch/proxy.go): entries separated by `,` fall through to the next only
//! on 404 or 410, by `|` on any error; `direct` ends the list, `off` refuses. For this module
//! `direct` means what Go's go-get discovery of golang.org/toolchain answers, the module server
//! `https://go.dev/dl/mod` (gomig does not run the discovery itself).

use std::fmt;

use crate::install::download::{DownloadError, Http};
use crate::install::goenv::{self, GoSetting};

pub const TOOLCHAIN_MODULE: &str = "golang.org/toolchain";
const VERSION_PREFIX: &str = "v0.0.1-";
/// Where golang.org/toolchain's go-import meta tag points (`mod https://go.dev/dl/mod`).
pub const DIRECT: &str = "https://go.dev/dl/mod";
/// The most a `@v/list`, `.info` or `.mod` may be (Go's own cap on a go.mod, codehost.MaxGoMod).
pub const MAX_DOCUMENT: u64 = 16 << 20;
/// Go's default, from its GOROOT's go.env.
pub const DEFAULT_GOPROXY: &str = "https://proxy.golang.org,direct";

#[derive(Debug, Clone, thiserror::Error)]
pub enum ModProxyError {
    #[error("{from} is {value:?}: the list has no entries; set GOPROXY to a proxy URL (e.g. {DEFAULT_GOPROXY})")]
    Empty { value: String, from: String },
    #[error(
        "{from} names {entry:?}, which is not an http:// or https:// URL, direct or off; fix it (e.g. {DEFAULT_GOPROXY})"
    )]
    BadEntry { entry: String, from: String },
    #[error(
        "{from} is off: module downloads are disabled, so gomig cannot install from a proxy; set GOPROXY to a proxy (e.g. gomig install --proxy={DEFAULT_GOPROXY} ...) or install from the download site without --proxy"
    )]
    Off { from: String },
    #[error(
        "no module proxy has {what}:\n  {}\nthe proxies may not serve Go toolchains, or not this release; try --proxy=https://proxy.golang.org (gomig list-remote --proxy shows what they have)",
        .tried.join("\n  ")
    )]
    NotFound { what: String, tried: Vec<String> },
    #[error("could not fetch {what} from the module proxies ({from}):\n  {}\ncheck the network or the proxies, and run the install again", .tried.join("\n  "))]
    Failed {
        what: String,
        from: String,
        tried: Vec<String>,
    },
}

/// One entry of a GOPROXY list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The base URL (no trailing slash); `direct` is [`DIRECT`].
    pub base: String,
    /// `|` after it: any error falls through to the next entry, not only 404/410.
    pub fall_back_on_error: bool,
    pub direct: bool,
}

/// A parsed GOPROXY list and where the setting came from.
#[derive(Debug, Clone)]
pub struct ProxyList {
    pub entries: Vec<Entry>,
    /// The list ends in `off`: what is not found before it is refused.
    pub off: bool,
    pub setting: GoSetting,
}

impl fmt::Display for ProxyList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.setting.value)
    }
}

/// The GOPROXY setting as Go reads it (environment, then the go env file, then Go's default).
pub fn goproxy_from_go() -> GoSetting {
    goenv::setting("GOPROXY", DEFAULT_GOPROXY)
}

/// Parses a GOPROXY list the way cmd/go's proxyList does.
pub fn parse(setting: GoSetting) -> Result<ProxyList, ModProxyError> {
    let mut entries = Vec::new();
    let mut off = false;
    let mut rest = setting.value.as_str();
    while !rest.is_empty() {
        let (item, fall_back_on_error) = match rest.find([',', '|']) {
            Some(i) => {
                let sep = rest.as_bytes()[i];
                let item = &rest[..i];
                rest = &rest[i + 1..];
                (item, sep == b'|')
            }
            None => {
                let item = rest;
                rest = "";
                (item, false)
            }
        };
        let item = item.trim();
        match item {
            "" => continue,
            // "off" always fails hard, so the list ends there; so does "direct".
            "off" => {
                off = true;
                break;
            }
            "direct" => {
                entries.push(Entry {
                    base: DIRECT.to_string(),
                    fall_back_on_error,
                    direct: true,
                });
                break;
            }
            url if url.starts_with("https://") || url.starts_with("http://") => entries.push(Entry {
                base: url.trim_end_matches('/').to_string(),
                fall_back_on_error,
                direct: false,
            }),
            other => {
                return Err(ModProxyError::BadEntry {
                    entry: other.to_string(),
                    from: setting.from,
                });
            }
        }
    }
    if entries.is_empty() && !off {
        return Err(ModProxyError::Empty {
            value: setting.value,
            from: setting.from,
        });
    }
    if entries.is_empty() {
        return Err(ModProxyError::Off { from: setting.from });
    }
    Ok(ProxyList { entries, off, setting })
}

/// `v0.0.1-go1.22.10.linux-amd64`.
pub fn module_version(name: &str, os: &str, arch: &str) -> String {
    format!("{VERSION_PREFIX}{name}.{os}-{arch}")
}

/// The Go release a module version of this platform holds (`go1.22.10`), if it is one.
pub fn release_of<'a>(module_version: &'a str, os: &str, arch: &str) -> Option<&'a str> {
    let rest = module_version.strip_prefix(VERSION_PREFIX)?;
    let name = rest.strip_suffix(&format!(".{os}-{arch}"))?;
    name.starts_with("go").then_some(name)
}

/// `golang.org/toolchain@v0.0.1-go1.22.10.linux-amd64/`: every name in the module zip starts so.
pub fn zip_prefix(module_version: &str) -> String {
    format!("{TOOLCHAIN_MODULE}@{module_version}/")
}

/// The URL of `file` (`@v/list`, `@v/VERSION.zip`) of the toolchain module on a proxy.
pub fn url(base: &str, file: &str) -> String {
    format!("{base}/{TOOLCHAIN_MODULE}/{file}")
}

impl ProxyList {
    /// Runs `f` on each proxy in turn, as Go's TryProxies: on to the next after a 404/410, or
    /// after any error when the entry is followed by `|`; the first success wins.
    pub fn try_each<T>(
        &self,
        what: &str,
        mut f: impl FnMut(&Entry) -> Result<T, DownloadError>,
    ) -> Result<(T, &Entry), ModProxyError> {
        let mut tried = Vec::new();
        let mut all_not_found = true;
        for entry in &self.entries {
            match f(entry) {
                Ok(v) => return Ok((v, entry)),
                Err(e) => {
                    let not_found = is_not_found(&e);
                    all_not_found &= not_found;
                    tried.push(e.to_string());
                    if !not_found && !entry.fall_back_on_error {
                        break;
                    }
                }
            }
        }
        if self.off && all_not_found {
            tried.push("off: the GOPROXY list ends in off".to_string());
        }
        if all_not_found {
            return Err(ModProxyError::NotFound {
                what: what.to_string(),
                tried,
            });
        }
        Err(ModProxyError::Failed {
            what: what.to_string(),
            from: self.setting.from.clone(),
            tried,
        })
    }

    /// `@v/list` of the toolchain module: the releases the proxies have for this platform.
    pub fn releases(&self, http: &Http, os: &str, arch: &str) -> Result<(Vec<String>, String), ModProxyError> {
        let (body, entry) = self.try_each("the list of Go toolchains (golang.org/toolchain/@v/list)", |e| {
            http.get_bytes(&url(&e.base, "@v/list"), MAX_DOCUMENT)
        })?;
        let text = String::from_utf8_lossy(&body);
        let mut names: Vec<String> = text
            .lines()
            .filter_map(|line| line.split_whitespace().next())
            .filter_map(|v| release_of(v, os, arch))
            .map(str::to_string)
            .collect();
        names.dedup();
        Ok((names, entry.base.clone()))
    }
}

/// A 404 or 410: "not here", which a `,` list falls through.
fn is_not_found(e: &DownloadError) -> bool {
    matches!(
        e,
        DownloadError::NotFound { .. } | DownloadError::Status { status: 410, .. }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(value: &str) -> Result<ProxyList, ModProxyError> {
        parse(GoSetting {
            value: value.into(),
            from: "GOPROXY".into(),
        })
    }

    #[test]
    fn goproxy_lists_parse_as_go_parses_them() {
        let l = list("https://a.example/, http://b.example|direct,https://never.example").unwrap();
        let bases: Vec<_> = l
            .entries
            .iter()
            .map(|e| (e.base.as_str(), e.fall_back_on_error))
            .collect();
        assert_eq!(
            bases,
            [
                ("https://a.example", false),
                ("http://b.example", true),
                (DIRECT, false)
            ]
        );
        let off = list("https://a.example,off,https://never.example").unwrap();
        assert!(off.off);
        assert_eq!(off.entries.len(), 1);
        assert!(matches!(list("off"), Err(ModProxyError::Off { .. })));
        assert!(matches!(list(" , "), Err(ModProxyError::Empty { .. })));
        assert!(matches!(list("file:///tmp/p"), Err(ModProxyError::BadEntry { .. })));
    }

    #[test]
    fn module_versions_name_a_release_of_one_platform() {
        assert_eq!(
            module_version("go1.22.10", "linux", "amd64"),
            "v0.0.1-go1.22.10.linux-amd64"
        );
        assert_eq!(
            release_of("v0.0.1-go1.23rc1.linux-amd64", "linux", "amd64"),
            Some("go1.23rc1")
        );
        assert_eq!(release_of("v0.0.1-go1.22.10.darwin-arm64", "linux", "amd64"), None);
        assert_eq!(release_of("v0.0.2-go1.22.10.linux-amd64", "linux", "amd64"), None);
    }
}
