//! `gomig current`: which Go runs here, and why.

use std::process::ExitCode;

use anyhow::Result;
use serde_json::json;

use super::Ctx;
use super::explain::{pin_conflict, reason, version_label};
use crate::lookup::{self, path_of, text_of};
use crate::resolve::Tool;

/// Print the Go version this directory resolves to, and why.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  gomig current           go1.22.10 (from /src/app/.go-version)\n  gomig current --json"
)]
pub struct Args {
    /// {"version","goroot","exe","source","path","line","decided_by","reason","conflict"} on stdout.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args, _ctx: &Ctx) -> Result<ExitCode> {
    let res = lookup::resolve_here(Tool::Go)?;
    let conflict = pin_conflict(&res);
    if args.json {
        let out = json!({
            "version": version_label(&res),
            "goroot": if res.goroot.is_empty() { None } else { Some(path_of(res.goroot.as_bytes())) },
            "exe": path_of(res.exe.as_bytes()),
            "source": res.source.as_str(),
            "path": if res.file.is_empty() { None } else { Some(path_of(res.file.as_bytes())) },
            "line": if res.line == 0 { None } else { Some(res.line) },
            // For go.mod/go.work: the line that decided, by kind and number, as written.
            "decided_by": res.decided.as_str().map(|kind| json!({
                "kind": kind,
                "line": res.line,
                "text": text_of(res.request.as_bytes()),
            })),
            "reason": reason(&res),
            "conflict": conflict,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!("{} ({})", version_label(&res), reason(&res));
        if let Some(c) = conflict {
            eprintln!("warning: {c}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
