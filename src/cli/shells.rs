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

    fn clap_shell(self) -> clap_complete::Shell {
        match self {
            Shell::Bash => clap_complete::Shell::Bash,
            Shell::Zsh => clap_complete::Shell::Zsh,
            Shell::Fish => clap_complete::Shell::Fish,
        }
    }
}

/// The completion script for `shell`.
pub fn completions(shell: Shell, mut command_line: clap::Command) -> String {
    let mut out = Vec::new();
    clap_complete::generate(shell.clap_shell(), &mut command_line, "gomig", &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// The full `gomig init` output: integration script, then completions.
pub fn init_script(shell: Shell, exe: &Path, shims: &Path, command_line: clap::Command) -> String {
    let mut script = shell
        .template()
        .replace("__GOMIG_SHIMS__", &shell.quote_inner(&shims.to_string_lossy()))
        .replace("__GOMIG_EXE__", &shell.quote_inner(&exe.to_string_lossy()))
        .replace("__GOMIG_SHELL__", shell.clap_shell().to_string().as_str());
    let completion = completions(shell, command_line);
    match shell {
        // zsh completions need compinit; load them only where the user has it.
        Shell::Zsh => {
            script.push_str("if (( $+functions[compdef] )); then\n");
            script.push_str(&completion);
            script.push_str("\nfi\n");
        }
        _ => script.push_str(&completion),
    }
    script
}
