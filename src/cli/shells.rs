//! Shell integration: the scripts in `shells/` with this install's paths filled in, plus
//! completions appended so `init` needs no second process.

use std::path::Path;

use clap::ValueEnum;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

impl Shell {
    fn template(self) -> &'static str {
        match self {
            // One POSIX-style script serves both; only GOMIG_SHELL differs.
            Shell::Bash | Shell::Zsh => include_str!("../../shells/gomig.sh"),
            Shell::Fish => include_str!("../../shells/gomig.fish"),
        }
    }

    /// The shell named by `GOMIG_SHELL` (set by `gomig init`).
    pub fn from_env() -> Option<Shell> {
        Shell::from_str(&std::env::var("GOMIG_SHELL").ok()?, true).ok()
    }

    /// Text for use inside single quotes.
    fn quote_inner(self, s: &str) -> String {
        match self {
            Shell::Fish => s.replace('\\', "\\\\").replace('\'', "\\'"),
            _ => s.replace('\'', r"'\''"),
        }
    }

    /// A single-quoted word.
    pub fn quote(self, s: &str) -> String {
        format!("'{}'", self.quote_inner(s))
    }

    /// `export NAME='value'` in this shell's syntax.
    pub fn set_var(self, name: &str, value: &str) -> String {
        match self {
            Shell::Fish => format!("set -gx {name} {}", self.quote(value)),
            _ => format!("export {name}={}", self.quote(value)),
        }
    }

    pub fn unset_var(self, name: &str) -> String {
        match self {
            Shell::Fish => format!("set -e {name}"),
            _ => format!("unset {name}"),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Shell::Bash => "bash",
            Shell::Zsh => "zsh",
            Shell::Fish => "fish",
        }
    }

    fn completion_template(self) -> &'static str {
        match self {
            Shell::Bash => include_str!("../../shells/complete.bash"),
            Shell::Zsh => include_str!("../../shells/complete.zsh"),
            Shell::Fish => include_str!("../../shells/complete.fish"),
        }
    }
}

/// The completion script for `shell`: a `_gomig` function (fish: `__gomig_complete`) that runs
/// `exe` with `_GOMIG_COMPLETE=SHELL` and the words typed so far at each TAB; gomig answers
/// through clap_complete's engine (see [`super::complete`]) and exits.
pub fn completions(shell: Shell, exe: &Path) -> String {
    shell
        .completion_template()
        .replace("__GOMIG_EXE__", &shell.quote_inner(&exe.to_string_lossy()))
}

/// The full `gomig init` output: integration script, then completions.
pub fn init_script(shell: Shell, exe: &Path, shims: &Path) -> String {
    let mut script = shell
        .template()
        .replace("__GOMIG_SHIMS__", &shell.quote_inner(&shims.to_string_lossy()))
        .replace("__GOMIG_EXE__", &shell.quote_inner(&exe.to_string_lossy()))
        .replace("__GOMIG_SHELL__", shell.name());
    let completion = completions(shell, exe);
    match shell {
        // zsh completions need compinit; load them only where the user has it.
        Shell::Zsh => {
            script.push_str("if (( $+functions[compdef] )); then\n");
            script.push_str(&completion);
            script.push_str("fi\n");
        }
        _ => script.push_str(&completion),
    }
    script
}
