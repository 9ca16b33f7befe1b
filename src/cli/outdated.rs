//! `gomig outdated`: newer patches for installed minor lines, and lines Go no longer supports.

use std::process::ExitCode;

use anyhow::Result;
use serde_json::json;

use super::Ctx;
use super::source::{SourceArgs, installer};
use crate::resolve::version::{self, Version};

/// For each installed minor line, the newest patch in the index; unsupported lines flagged.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  gomig outdated && gomig install 1.22   # newest 1.22.x")]
pub struct Args {
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub source: SourceArgs,
}

fn line_of(name: &str) -> String {
    let v = Version::parse_go(name.as_bytes());
    format!(
        "{}.{}",
        String::from_utf8_lossy(v.major),
        String::from_utf8_lossy(v.minor)
    )
}

pub fn run(args: Args, ctx: &Ctx) -> Result<ExitCode> {
    let store = ctx.store()?;
    let index = installer(&store, ctx, &args.source)?.index()?;
    let stable: Vec<_> = index.sorted().into_iter().filter(|r| r.stable).collect();
    // Only the two newest minor lines get security fixes.
    let mut lines: Vec<String> = Vec::new();
    for r in &stable {
        let l = line_of(&r.version);
        if !lines.contains(&l) {
            lines.push(l);
        }
    }
    let supported: Vec<&String> = lines.iter().take(2).collect();
    let mut rows = Vec::new();
    let mut seen = Vec::new();
    let toolchains = store.toolchains()?;
    for t in toolchains.iter().rev() {
        let line = line_of(&t.name);
        if seen.contains(&line) {
            continue;
        }
        seen.push(line.clone());
        let newest = stable
            .iter()
            .find(|r| line_of(&r.version) == line)
            .map(|r| r.version.clone());
        let installed_newest = toolchains
            .iter()
            .filter(|x| line_of(&x.name) == line)
            .map(|x| x.name.clone())
            .max_by(|a, b| version::compare_go(a.as_bytes(), b.as_bytes()))
            .unwrap_or_default();
        let behind = newest
            .as_ref()
            .is_some_and(|n| version::compare_go(n.as_bytes(), installed_newest.as_bytes()).is_gt());
        rows.push(json!({
            "line": line,
            "installed": installed_newest,
            "newest": newest,
            "outdated": behind,
            "supported": supported.contains(&&line),
        }));
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else if rows.is_empty() {
        println!("no toolchains installed");
    } else {
        for row in &rows {
            let listed = row["newest"].is_string();
            let status = match (row["outdated"] == true, row["supported"] == true, listed) {
                (true, _, _) => format!(
                    "update available: gomig install {}",
                    row["newest"].as_str().unwrap_or("").trim_start_matches("go")
                ),
                (false, true, _) => "up to date".to_string(),
                (false, false, true) => "up to date within its line".to_string(),
                // The index no longer lists the line at all: nothing within it to compare with.
                (false, false, false) => format!(
                    "out of support: the index lists no {} release; move to a supported line (gomig install latest)",
                    row["line"].as_str().unwrap_or("")
                ),
            };
            let support = if row["supported"] == true || !listed {
                ""
            } else {
                " (no longer supported by Go: no security fixes)"
            };
            println!(
                "{:<6} {:<12} {status}{support}",
                row["line"].as_str().unwrap_or(""),
                row["installed"].as_str().unwrap_or("")
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
