//! `gomig cache`: the size of each of gomig's caches; `gomig cache clear` empties them.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};

use super::Ctx;
use super::checking::check_cache_dir;
use crate::check::cache::{self, human_size};
use crate::config::Config;
use crate::store::Store;

/// Show the size of gomig's caches, or clear them.
///
/// Two caches, both safe to delete: `check` (gomig check's build cache, test binaries and probe,
/// trimmed after each check to config.toml's `[check_cache]` max_size and max_age, default 2 GiB
/// and 30 days) and `index` (the downloaded release index, fetched again when needed).
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  gomig cache                  # each cache's size and where it is\n  gomig cache clear --check    # empty gomig check's build cache\n  gomig cache clear            # every cache (same as --all)"
)]
pub struct Args {
    #[command(subcommand)]
    pub action: Option<Action>,
    /// Print the sizes as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// Empty caches (default: all of them).
    Clear(ClearArgs),
}

#[derive(Debug, clap::Args)]
pub struct ClearArgs {
    /// gomig check's build cache, kept test binaries and probe.
    #[arg(long)]
    pub check: bool,
    /// The downloaded release index.
    #[arg(long)]
    pub index: bool,
    /// Every cache.
    #[arg(long, conflicts_with_all = ["check", "index"])]
    pub all: bool,
}

/// The index files in the store's cache directory.
fn index_files(store: &Store) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(store.cache_dir())
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("index-"))
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.path())
        .collect();
    files.sort();
    files
}

pub fn run(args: Args, ctx: &Ctx) -> Result<ExitCode> {
    let store = ctx.store()?;
    let check_dir = check_cache_dir(&store);
    match args.action {
        None => show(&store, &check_dir, args.json),
        Some(Action::Clear(c)) => {
            let all = c.all || !(c.check || c.index);
            if all || c.check {
                let freed = cache::clear(&check_dir)?;
                ctx.note(format!(
                    "check: removed {} from {}",
                    human_size(freed),
                    check_dir.display()
                ));
            }
            if all || c.index {
                let mut freed = 0;
                for f in index_files(&store) {
                    freed += cache::size_of(&f);
                    match fs::remove_file(&f) {
                        Ok(()) => {}
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        Err(e) => {
                            return Err(e)
                                .with_context(|| format!("cannot remove {}; check its permissions", f.display()));
                        }
                    }
                }
                ctx.note(format!(
                    "index: removed {} from {}",
                    human_size(freed),
                    store.cache_dir().display()
                ));
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn show(store: &Store, check_dir: &Path, json: bool) -> Result<ExitCode> {
    let limits = Config::load()?.check_cache_limits()?;
    let check = cache::size_of(check_dir);
    let index: u64 = index_files(store).iter().map(|f| cache::size_of(f)).sum();
    let index_where = store.cache_dir().join("index-*.json");
    if json {
        let doc = serde_json::json!({
            "caches": [
                {"name": "check", "path": check_dir, "bytes": check,
                 "max_bytes": limits.max_size, "max_age_seconds": limits.max_age.as_secs()},
                {"name": "index", "path": index_where, "bytes": index},
            ],
            "total_bytes": check + index,
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
        return Ok(ExitCode::SUCCESS);
    }
    let rows = [
        (
            "check",
            human_size(check),
            format!(
                "{}  (trimmed after each check to {}; entries unused for {} removed)",
                check_dir.display(),
                human_size(limits.max_size),
                humantime::format_duration(limits.max_age)
            ),
        ),
        ("index", human_size(index), index_where.display().to_string()),
        ("total", human_size(check + index), String::new()),
    ];
    let w = rows.iter().map(|r| r.1.len()).max().unwrap_or(4).max(4);
    println!("{:<7}{:>w$}  where", "cache", "size");
    for (name, size, place) in rows {
        println!("{}", format!("{name:<7}{size:>w$}  {place}").trim_end());
    }
    Ok(ExitCode::SUCCESS)
}
