//! `gomig log [--json] [-n N]`: the audit log of changes to the store.

use std::process::ExitCode;

use anyhow::{Context, Result};
use serde_json::{Map, Value};

use super::Ctx;
use crate::paint::Paint;
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

/// Fields every event has, shown in their own columns or not at all; and those the subject
/// (`go1.22.10`, `go1.21.13 -> go1.22.10`) is made of.
const COMMON: &[&str] = &[
    "time", "action", "result", "error", "user", "pid", "host", "version", "from", "to",
];

/// A value on one line: control characters (a newline in a path) escaped.
fn one_line(s: &str) -> String {
    if s.chars().any(char::is_control) {
        s.escape_debug().to_string()
    } else {
        s.to_string()
    }
}

/// One event as a line: `2026-12-01 09:31:46  switch   ok     go1.21.13 -> go1.22.10  verified=true  (ann@box pid 4242)`.
fn render(fields: &Map<String, Value>, paint: Paint) -> String {
    let get = |k: &str| match fields.get(k) {
        Some(Value::String(s)) => one_line(s),
        Some(Value::Null) | None => String::new(),
        Some(v) => v.to_string(),
    };
    // RFC 3339 in UTC (`2026-12-01T09:31:46.123Z`), shown to the second.
    let time = get("time");
    let time = match time.get(..19) {
        Some(t) if time.ends_with('Z') => format!("{} UTC", t.replacen('T', " ", 1)),
        _ => time,
    };
    let result = get("result");
    let result = format!("{:<6}", if result.is_empty() { "ok" } else { result.as_str() });
    let result = if result.trim_end() == "ok" {
        paint.good(&result)
    } else {
        paint.bad(&result)
    };
    let subject = match (get("from"), get("to"), get("version")) {
        (_, _, v) if !v.is_empty() => v,
        (from, to, _) if !from.is_empty() && !to.is_empty() => format!("{from} -> {to}"),
        (_, to, _) => to,
    };
    let mut line = format!("{time}  {:<10} {result} {subject}", get("action"));
    for (k, v) in fields {
        if COMMON.contains(&k.as_str()) || v.is_null() {
            continue;
        }
        let v = match v {
            Value::String(s) => one_line(s),
            v => v.to_string(),
        };
        line.push_str(&format!("  {k}={v}"));
    }
    let error = get("error");
    if !error.is_empty() {
        line.push_str(&format!("  error: {}", paint.bad(&error)));
    }
    line.push_str(&paint.faint(&format!("  ({}@{} pid {})", get("user"), get("host"), get("pid"))));
    line
}

pub fn run(args: Args, ctx: &Ctx) -> Result<ExitCode> {
    let store = ctx.store()?;
    let path = events::log_path(&store);
    let lines = events::read_lines(&store, args.count).with_context(|| format!("cannot read {}", path.display()))?;
    if lines.is_empty() {
        ctx.note(format!("no events in {}", path.display()));
    }
    let paint = Paint::stdout();
    for (i, line) in lines.iter().enumerate() {
        if args.json {
            println!("{line}");
            continue;
        }
        match serde_json::from_str::<Map<String, Value>>(line) {
            Ok(fields) => println!("{}", render(&fields, paint)),
            Err(e) => eprintln!("warning: {} (event {}): not a JSON object: {e}", path.display(), i + 1),
        }
    }
    Ok(ExitCode::SUCCESS)
}
