//! Go's own settings as the go command reads them: the environment first, then the go env
//! file (`$GOENV`, else `$XDG_CONFIG_HOME/go/env`, else `~/.config/go/env`), then Go's
//! default. (cmd/go/internal/cfg: an empty variable counts as unset; `GOENV=off` means no
//! file; a file line is `KEY=VALUE`, other lines are ignored.)

use std::path::PathBuf;

/// A Go setting and where it came from, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoSetting {
    pub value: String,
    pub from: String,
}

/// The go env file, if Go would read one: where the resolver looks for `GOTOOLCHAIN`.
pub fn env_file() -> Option<PathBuf> {
    let snapshot = crate::lookup::EnvSnapshot::capture();
    let mut file = crate::resolve::sys::PathBuf::default();
    crate::resolve::gotoolchain::env_file(&snapshot.env(), &mut file).then(|| crate::lookup::path_of(file.as_bytes()))
}

/// `key`'s value in the text of a go env file (the last line that sets it wins, as in Go's map).
fn from_env_file(text: &str, key: &str) -> Option<String> {
    let mut found = None;
    for line in text.split('\n') {
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        if !k.starts_with(|c: char| c.is_ascii_uppercase()) {
            continue; // a comment, or not a variable name
        }
        if k == key {
            found = Some(v.to_string());
        }
    }
    found
}

/// `key` as Go reads it, or `default` (Go's own, from its GOROOT's go.env) when nothing sets it.
pub fn setting(key: &str, default: &str) -> GoSetting {
    if let Ok(v) = std::env::var(key)
        && !v.is_empty()
    {
        return GoSetting {
            value: v,
            from: format!("{key} in the environment"),
        };
    }
    if let Some(file) = env_file()
        && let Ok(text) = std::fs::read_to_string(&file)
        && let Some(v) = from_env_file(&text, key).filter(|v| !v.is_empty())
    {
        return GoSetting {
            value: v,
            from: format!("{key} in {}", file.display()),
        };
    }
    GoSetting {
        value: default.to_string(),
        from: format!("Go's default {key}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_env_file_is_read_as_go_reads_it() {
        let text = "# comment\nGOPROXY=https://a.example,direct\nlower=x\nGOSUMDB=\nGOPROXY=https://b.example\n";
        assert_eq!(from_env_file(text, "GOPROXY").as_deref(), Some("https://b.example"));
        assert_eq!(from_env_file(text, "GOSUMDB").as_deref(), Some(""));
        assert_eq!(from_env_file(text, "lower"), None);
        assert_eq!(from_env_file(text, "GONOSUMDB"), None);
    }
}
