//! `gomig list`: installed and adopted toolchains.

use std::process::ExitCode;

use anyhow::Result;
use serde_json::json;

use super::Ctx;
use crate::paint::Paint;
use crate::lookup;
use crate::resolve::Tool;

/// List installed and adopted toolchains: default, rollback target, what selects one here.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  gomig list --json")]
pub struct Args {
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args, ctx: &Ctx) -> Result<ExitCode> {
    let store = ctx.store()?;
    let toolchains = store.toolchains()?;
    let default = store.default_name()?;
    let rollback = store.rollback_target()?;
    let here = lookup::resolve_here(Tool::Go)
        .ok()
        .map(|r| lookup::text_of(r.name.as_bytes()));
    let rows: Vec<_> = toolchains
        .iter()
        .map(|t| {
            let manifest = crate::integrity::manifest::Manifest::load(&store.manifest_path(&t.name));
            json!({
                "version": t.name,
                "path": t.root(),
                "adopted": t.adopted_from.is_some(),
                "present": t.is_present(),
                "default": default.as_deref() == Some(t.name.as_str()),
                "rollback_target": rollback.as_deref() == Some(t.name.as_str()),
                "selected_here": here.as_deref() == Some(t.name.as_str()),
                "size": manifest.as_ref().ok().map(|m| m.total_size()),
                "manifest": match &manifest {
                    Ok(_) => "recorded",
                    Err(crate::integrity::manifest::ManifestError::Io { .. }) => "none",
                    Err(_) => "damaged",
                },
            })
        })
        .collect();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(ExitCode::SUCCESS);
    }
    if rows.is_empty() {
        println!("no toolchains yet: gomig install latest, or adopt one with gomig add PATH");
        return Ok(ExitCode::SUCCESS);
    }
    let paint = Paint::stdout();
    let mut table = comfy_table::Table::new();
    table.load_style(comfy_table::presets::NOTHING);
    table.set_header(["", "VERSION", "SIZE", "PATH", "STATUS"]);
    let mut marks_of = Vec::new();
    for (t, row) in toolchains.iter().zip(&rows) {
        let mut marks = Vec::new();
        if row["default"] == true {
            marks.push("default");
        }
        if row["rollback_target"] == true {
            marks.push("rollback");
        }
        if row["selected_here"] == true {
            marks.push("here");
        }
        if t.adopted_from.is_some() {
            marks.push("adopted");
        }
        if !t.is_present() {
            marks.push("MISSING");
        }
        let star = if row["selected_here"] == true { "*" } else { "" };
        let size = row["size"]
            .as_u64()
            .map(|b| format!("{:.0} MB", b as f64 / 1e6))
            .unwrap_or_else(|| "-".into());
        table.add_row([
            star.to_string(),
            t.name.clone(),
            size,
            t.root().display().to_string(),
            marks.join(", "),
        ]);
        marks_of.push(marks);
    }
    for column in table.column_iter_mut() {
        column.set_padding((0, 2));
    }
    if let Some(size) = table.column_mut(2) {
        size.set_cell_alignment(comfy_table::CellAlignment::Right);
    }
    // Painted after the layout, so escape codes never count as width: the header, and the
    // status column, which is last.
    for (i, line) in table.lines().enumerate() {
        let line = line.trim_end();
        if i == 0 {
            println!("{}", paint.strong(line));
            continue;
        }
        let marks = &marks_of[i - 1];
        let plain = marks.join(", ");
        let lead = line.strip_suffix(plain.as_str()).unwrap_or(line);
        let painted: Vec<String> = marks
            .iter()
            .map(|m| match *m {
                "default" => paint.good(m),
                "MISSING" => paint.bad(m),
                _ => m.to_string(),
            })
            .collect();
        println!("{lead}{}", painted.join(", "));
    }
    Ok(ExitCode::SUCCESS)
}
