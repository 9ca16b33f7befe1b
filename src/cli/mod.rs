//! The command line: argv (clap) -> one file per subcommand, each an `Args` struct and a `run`
//! that wires the domain modules together and prints. No command imports another; the pieces
//! they share ([`Ctx`], [`shells`]) live here.

pub mod add;
pub mod archive;
pub mod audit;
pub mod cache;
pub mod check;
pub mod completions;
pub mod config;
pub mod current;
pub mod doctor;
pub mod env;
pub mod env_diff;
pub mod exec;
pub mod fingerprint;
pub mod init;
pub mod install;
pub mod list;
pub mod list_remote;
pub mod local;
pub mod log;
pub mod migrate;
pub mod outdated;
pub mod prune;
pub mod remove;
pub mod restore;
pub mod rollback;
pub mod shell;
pub mod shells;

// Pieces the commands share (no command imports another).
pub mod checking;
pub mod complete;
pub mod explain;
pub mod snapshot;
pub mod source;
pub mod switch;
pub mod uninstall;
pub mod verify;
pub mod which;

use clap::{Parser, Subcommand};

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
    Config(config::Args),
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
    Cache(cache::Args),
    Migrate(migrate::Args),
}

use std::process::ExitCode;

use anyhow::Result;

use crate::lookup::{self, EnvSnapshot};
use crate::store::Store;

/// What every command gets: output settings and access to the store.
pub struct Ctx {
    pub quiet: bool,
}

impl Ctx {
    /// The store, refusing one that other users can write. Nothing is created.
    pub fn store(&self) -> Result<Store> {
        let store = Store::at(lookup::home_dir(&EnvSnapshot::capture())?);
        store.check_permissions()?;
        Ok(store)
    }

    /// The store, with its layout created if missing (for commands that change it), and what
    /// killed gomig processes left in it removed: staging directories and trash whose lock is
    /// free, and temporary `default` links no switch in progress holds; and a switch or
    /// rollback a killed gomig left half done is finished or undone.
    pub fn store_for_change(&self) -> Result<Store> {
        let store = Store::at(lookup::home_dir(&EnvSnapshot::capture())?);
        store.ensure_layout()?;
        store.clean_leftovers();
        store.clean_stale_default_links();
        store.clean_stale_temp_files();
        if let Some(line) = store.recover()? {
            self.note(line);
        }
        Ok(store)
    }

    /// A progress or status line on stderr, unless `-q`.
    pub fn note(&self, msg: impl std::fmt::Display) {
        if !self.quiet {
            eprintln!("{msg}");
        }
    }
}

/// The fingerprint of the toolchain a version argument names (`None`: the Go that runs here);
/// `fingerprint` and `env-diff` share it.
pub fn fingerprint_of(spec: Option<&str>) -> Result<crate::integrity::fingerprint::Fingerprint> {
    let res = match spec {
        Some(v) => lookup::toolchain_arg(v, lookup::Accept::Toolchain)?,
        None => lookup::resolve_here(crate::resolve::Tool::Go)?,
    };
    if res.name.is_empty() {
        anyhow::bail!(
            "the Go selected here is the system's, not a toolchain gomig manages; name a version, or adopt it first: gomig add <GOROOT>"
        );
    }
    let name = lookup::text_of(res.name.as_bytes());
    let root = lookup::path_of(res.goroot.as_bytes());
    Ok(crate::integrity::fingerprint::of_toolchain(&root, Some(&name))?)
}

pub fn run(cli: Cli) -> Result<ExitCode> {
    let ctx = Ctx { quiet: cli.quiet };
    match cli.command {
        Command::Init(a) => init::run(a, &ctx),
        Command::Completions(a) => completions::run(a, &ctx),
        Command::Config(a) => config::run(a, &ctx),
        Command::Current(a) => current::run(a, &ctx),
        Command::Which(a) => which::run(a, &ctx),
        Command::Local(a) => local::run(a, &ctx),
        Command::Shell(a) => shell::run(a, &ctx),
        Command::Switch(a) => switch::run(a, &ctx),
        Command::Rollback(a) => rollback::run(a, &ctx),
        Command::Exec(a) => exec::run(a, &ctx),
        Command::Env(a) => env::run(a, &ctx),
        Command::Add(a) => add::run(a, &ctx),
        Command::Remove(a) => remove::run(a, &ctx),
        Command::List(a) => list::run(a, &ctx),
        Command::Doctor(a) => doctor::run(a, &ctx),
        Command::Install(a) => install::run(a, &ctx),
        Command::Uninstall(a) => uninstall::run(a, &ctx),
        Command::ListRemote(a) => list_remote::run(a, &ctx),
        Command::Outdated(a) => outdated::run(a, &ctx),
        Command::Snapshot(a) => snapshot::run(a, &ctx),
        Command::Verify(a) => verify::run(a, &ctx),
        Command::Fingerprint(a) => fingerprint::run(a, &ctx),
        Command::EnvDiff(a) => env_diff::run(a, &ctx),
        Command::Archive(a) => archive::run(a, &ctx),
        Command::Restore(a) => restore::run(a, &ctx),
        Command::Audit(a) => audit::run(a, &ctx),
        Command::Log(a) => log::run(a, &ctx),
        Command::Prune(a) => prune::run(a, &ctx),
        Command::Check(a) => check::run(a, &ctx),
        Command::Cache(a) => cache::run(a, &ctx),
        Command::Migrate(a) => migrate::run(a, &ctx),
    }
}
