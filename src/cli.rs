//! The command line: one variant per subcommand, each backed by `src/commands/<name>.rs`.

use clap::{Parser, Subcommand};

use crate::commands::*;

#[derive(Debug, Parser)]
#[command(
    name = "gomig",
    version,
    about = "Go toolchain manager: side-by-side installs, verified switches, rollback",
    after_help = "Examples:\n  eval \"$(gomig init zsh)\"     set up the shell (bash, zsh; fish: gomig init fish | source)\n  gomig add /usr/lib/go-1.19    adopt an existing Go\n  gomig switch 1.22.10          set the global default\n  gomig local 1.22              pin this directory\n  gomig current                 which Go runs here, and why"
)]
pub struct Cli {
    /// Print less (errors still go to stderr).
    #[arg(short, long, global = true)]
    pub quiet: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Init(init::Args),
    Completions(completions::Args),
    Current(current::Args),
    Which(which::Args),
    Local(local::Args),
    Shell(shell::Args),
    #[command(visible_alias = "global")]
    Switch(switch::Args),
    Rollback(rollback::Args),
    Exec(exec::Args),
    Env(env::Args),
    Add(add::Args),
    Remove(remove::Args),
    List(list::Args),
    Doctor(doctor::Args),
    Install(install::Args),
    Uninstall(uninstall::Args),
    ListRemote(list_remote::Args),
    Outdated(outdated::Args),
    Snapshot(snapshot::Args),
    Verify(verify::Args),
    Fingerprint(fingerprint::Args),
    EnvDiff(env_diff::Args),
    Archive(archive::Args),
    Restore(restore::Args),
    Audit(audit::Args),
    Log(log::Args),
    Prune(prune::Args),
    Check(check::Args),
    Migrate(migrate::Args),
}
