//! `gomig log [--json] [-n N]`: the audit log of changes to the store.

use std::process::ExitCode;

use anyhow::{Context, Result};
use serde_json::{Map, Value};

use super::Ctx;
use crate::store::events;

/// Show the events gomig logged (installs, switches, rollbacks, restores, prunes, verify
/// failures...), oldest first.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  gomig log -n 20\n  gomig log --json | jq 'select(.action == \"switch\")'")]
pub struct Args {
    /// Print the log's JSON lines as they are.
    #[arg(long)]
    pub json: bool,
    /// Only the last N events.
    #[arg(short = 'n', value_name = "N")]
    pub count: Option<usize>,
}

/// Fields every event has, shown in their own columns or not at all.
const COMMON: &[&str] = &["time", "action", "result", "error", "user", "pid", "host"];

/// A value on one line: control characters (a newline in a path) escaped.
fn one_line(s: &str) -> String {
    if s.chars().any(char::is_control) {
        s.escape_debug().to_string()
    } else {
        s.to_string()
    }
}

fn render(fields: &Map<String, Value>) -> String {
    let get = |k: &str| match fields.get(k) {
        Some(Value::String(s)) => one_line(s),
        Some(Value::Null) | None => String::new(),
        Some(v) => v.to_string(),
    };
    let mut line = format!("{}  {:<10} {:<6}", get("time"), get("action"), get("result"));
    for (k, v) in fields {
        if COMMON.contains(&k.as_str()) || v.is_null() {
            continue;
        }
        let v = match v {
            Value::String(s) => one_line(s),
            v => v.to_string(),
        };
        line.push_str(&format!(" {k}={v}"));
    }
    let error = get("error");
    if !error.is_empty() {
        line.push_str(&format!(" error=\"{error}\""));
    }
    line.push_str(&format!(" ({}@{} pid {})", get("user"), get("host"), get("pid")));
    line
}

pub fn run(args: Args, ctx: &Ctx) -> Result<ExitCode> {
    let store = ctx.store()?;
    let path = events::log_path(&store);
    let lines = events::read_lines(&store, args.count).with_context(|| format!("cannot read {}", path.display()))?;
    if lines.is_empty() {
        ctx.note(format!("no events in {}", path.display()));
    }
    for (i, line) in lines.iter().enumerate() {
        if args.json {
            println!("{line}");
            continue;
        }
        match serde_json::from_str::<Map<String, Value>>(line) {
            Ok(fields) => println!("{}", render(&fields)),
            Err(e) => eprintln!("warning: {} (event {}): not a JSON object: {e}", path.display(), i + 1),
        }
    }
    Ok(ExitCode::SUCCESS)
}
