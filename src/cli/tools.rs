//! `gomig tools [--for B]` and `gomig tools rebuild [--with B] [NAMES]`: the programs in GOBIN,
//! the Go that built each, and rebuilding them with another one.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use super::Ctx;
use crate::gotool;
use crate::lookup::{self, Accept};
use crate::store::Store;
use crate::tools::{self, Tool, rebuild};

/// List the programs in GOBIN (or $GOPATH/bin, as `go env` says) with the Go that built each,
/// their module version and build settings, read from the binaries themselves; the ones built
/// with a Go older than the default (or --for) are marked.
#[derive(Debug, clap::Args)]
#[command(
    args_conflicts_with_subcommands = true,
    after_help = "Examples:\n  gomig tools                    # which tools the default Go has left behind\n  gomig tools --for 1.23.9       # before switching to 1.23.9\n  gomig tools rebuild            # rebuild the old ones with the default Go"
)]
pub struct Args {
    #[command(subcommand)]
    pub command: Option<ToolsCommand>,
    /// Compare with this toolchain instead of the global default.
    #[arg(long = "for", value_name = "VERSION")]
    pub for_version: Option<String>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Subcommand)]
pub enum ToolsCommand {
    Rebuild(RebuildArgs),
}

/// Reinstall tools at the module version they were built from, with another Go (go install
/// PACKAGE@VERSION, with the build settings they recorded), several at once. Each is built into
/// a temporary GOBIN and renamed over the old binary only once it built, so a failure leaves
/// the old one in place. Tools built from a local checkout or with settings that cannot be
/// reproduced are listed with the reason. Your GOPROXY, GOFLAGS and GONOSUMDB apply as set.
/// Exit status 1 when a rebuild failed.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  gomig tools rebuild                      # every tool older than the default Go\n  gomig tools rebuild --with 1.23.9 gopls dlv"
)]
pub struct RebuildArgs {
    /// Build with this toolchain instead of the global default.
    #[arg(long, value_name = "VERSION")]
    pub with: Option<String>,
    #[arg(long)]
    pub json: bool,
    /// The programs to rebuild, by their name in GOBIN (default: every one built with an older Go).
    pub names: Vec<String>,
}

/// A toolchain the tools are compared with or built with.
struct Target {
    goroot: PathBuf,
    /// Its `go version` release word (`go1.23.9`).
    release: String,
    /// The version as the user would type it in a `--with`/`--for` (`None`: the default).
    typed: Option<String>,
}

fn target(store: &Store, spec: Option<&str>, flag: &str) -> Result<Target> {
    let name = match spec {
        Some(s) => s.to_string(),
        None => match store.default_name()? {
            Some(n) => n,
            None => bail!(
                "no global default is set, so there is no Go to compare the tools with; set one (gomig switch VERSION) or name one: gomig tools {flag} VERSION"
            ),
        },
    };
    let res = lookup::toolchain_arg(&name, Accept::Toolchain)
        .with_context(|| format!("{} {name}", spec.map_or("the global default", |_| flag)))?;
    let goroot = lookup::path_of(res.goroot.as_bytes());
    let version = gotool::go_version(&goroot)?;
    let release = gotool::release_word(&version)
        .with_context(|| {
            format!(
                "{} reports no Go release ({version})",
                gotool::go_binary(&goroot).display()
            )
        })?
        .to_string();
    Ok(Target {
        goroot,
        release,
        typed: spec.map(str::to_string),
    })
}

pub fn run(args: Args, ctx: &Ctx) -> Result<ExitCode> {
    match args.command {
        Some(ToolsCommand::Rebuild(r)) => run_rebuild(r, ctx),
        None => run_list(args.for_version.as_deref(), args.json, ctx),
    }
}

fn json_of(tool: &Tool, target: &Target, host: Option<&rebuild::Host>) -> Value {
    let mut row = json!({ "name": tool.name, "file": tool.file, "link_target": tool.link_target });
    match &tool.info {
        Ok(info) => {
            row["go"] = info.go_version.clone().into();
            row["package"] = info.path.clone().into();
            row["module"] = info.main.as_ref().map(|m| m.path.clone()).into();
            row["version"] = info.main.as_ref().map(|m| m.version.clone()).into();
            row["settings"] = info
                .settings
                .iter()
                .map(|(k, v)| json!({ "key": k, "value": v }))
                .collect::<Vec<_>>()
                .into();
            row["older"] = tool.older_than(&target.release).into();
            if let Some(host) = host {
                row["not_rebuildable"] = rebuild::recipe(tool, host).err().into();
            }
        }
        Err(e) => row["error"] = e.clone().into(),
    }
    row
}

fn run_list(for_version: Option<&str>, json: bool, ctx: &Ctx) -> Result<ExitCode> {
    let store = ctx.store()?;
    let target = target(&store, for_version, "--for")?;
    let gobin = tools::gobin(&target.goroot)?;
    let found = tools::scan(&target.goroot, &gobin)?;
    let host = rebuild::host(&target.goroot).ok();
    if json {
        let rows: Vec<Value> = found.iter().map(|t| json_of(t, &target, host.as_ref())).collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "gobin": gobin,
                "gobin_exists": gobin.is_dir(),
                "for": target.release,
                "tools": rows,
            }))?
        );
        return Ok(ExitCode::SUCCESS);
    }
    if !gobin.is_dir() {
        println!(
            "GOBIN {} does not exist: nothing was installed with go install yet",
            gobin.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    if found.is_empty() {
        println!("no programs in GOBIN {}", gobin.display());
        return Ok(ExitCode::SUCCESS);
    }
    ctx.note(format!("GOBIN {}", gobin.display()));
    let width = found.iter().map(|t| t.name.len()).max().unwrap_or(0).max(4);
    // Older ones gomig can rebuild, and older ones it cannot.
    let (mut older, mut stuck) = (0, 0);
    for tool in &found {
        let Some(info) = tool.build_info() else {
            println!(
                "{:<width$}  {}",
                tool.name,
                tool.info.as_ref().err().map_or("", |e| e.as_str())
            );
            continue;
        };
        let (module, version) = info
            .main
            .as_ref()
            .map_or((info.path.as_str(), "-"), |m| (m.path.as_str(), m.version.as_str()));
        let mut status = String::new();
        if tool.older_than(&target.release) {
            status = format!("older than {}", target.release);
            match host.as_ref().map(|h| rebuild::recipe(tool, h)) {
                Some(Err(why)) => {
                    stuck += 1;
                    status.push_str(&format!("; not rebuildable: {why}"));
                }
                _ => older += 1,
            }
        }
        let line = format!(
            "{:<width$}  {:<10} {module} {version}  {status}",
            tool.name, info.go_version
        );
        println!("{}", line.trim_end());
        let settings: Vec<String> = info
            .settings
            .iter()
            .map(|(k, v)| format!("{}={}", quoted(k), quoted(v)))
            .collect();
        if !settings.is_empty() {
            println!("{:<width$}  build: {}", "", settings.join(" "));
        }
        if let Some(link) = &tool.link_target {
            println!("{:<width$}  a link to {}", "", link.display());
        }
    }
    if older > 0 {
        let with = target.typed.as_ref().map_or(String::new(), |t| format!(" --with {t}"));
        println!(
            "{older} built with a Go older than {}; rebuild them with it: gomig tools rebuild{with}",
            target.release
        );
    }
    if stuck > 0 {
        println!(
            "{stuck} built with a Go older than {} that gomig cannot rebuild (the reason is on each line)",
            target.release
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// A build setting as Go prints it: quoted when it has spaces or quotes.
fn quoted(text: &str) -> String {
    if text.contains(|c: char| c.is_whitespace() || c == '"' || c == '`') {
        format!("{text:?}")
    } else {
        text.to_string()
    }
}

/// One line of a rebuild's outcome.
struct Outcome {
    name: String,
    /// `rebuilt`, `failed` or `skipped`.
    kind: &'static str,
    detail: String,
    row: Value,
}

fn run_rebuild(args: RebuildArgs, ctx: &Ctx) -> Result<ExitCode> {
    let store = ctx.store_for_change()?;
    let target = target(&store, args.with.as_deref(), "rebuild --with")?;
    let gobin = tools::gobin(&target.goroot)?;
    rebuild::clean_stale_staging(&gobin);
    let found = tools::scan(&target.goroot, &gobin)?;
    let host = rebuild::host(&target.goroot)?;
    let plan = tools::plan(&found, &args.names, &target.release, &host);

    let mut outcomes: Vec<Outcome> = Vec::new();
    for name in &plan.unknown {
        outcomes.push(Outcome {
            name: name.clone(),
            kind: "failed",
            detail: format!(
                "no program {name} in GOBIN {} (gomig tools lists them)",
                gobin.display()
            ),
            row: json!({ "name": name, "result": "failed", "error": "not in GOBIN" }),
        });
    }
    for (tool, why) in &plan.skipped {
        outcomes.push(Outcome {
            name: tool.name.clone(),
            kind: "skipped",
            detail: why.clone(),
            row: json!({ "name": tool.name, "result": "skipped", "reason": why }),
        });
    }

    let bar = progress_bar(!ctx.quiet && std::io::stderr().is_terminal(), plan.chosen.len());
    let building = Mutex::new(Vec::<String>::new());
    let attempts = rebuild::rebuild_all(&store, &plan.chosen, &target.goroot, &target.release, &|p| {
        let mut now = building.lock().unwrap_or_else(|e| e.into_inner());
        match p {
            rebuild::Progress::Started(name) => now.push(name.to_string()),
            rebuild::Progress::Finished(name) => {
                now.retain(|n| n != name);
                bar.inc(1);
            }
        }
        bar.set_message(now.join(" "));
    })
    .with_context(|| {
        format!(
            "cannot open the event log {}; nothing was rebuilt",
            crate::store::events::log_path(&store).display()
        )
    })?;
    bar.finish_and_clear();
    let with = target.release.trim_start_matches("go").to_string();
    for a in attempts {
        if let Some(w) = &a.log_warning {
            ctx.note(format!("warning: {w}"));
        }
        outcomes.push(outcome_of(&a, &with));
    }
    outcomes.sort_by(|a, b| a.name.cmp(&b.name));

    let failed = outcomes.iter().filter(|o| o.kind == "failed").count();
    if args.json {
        let rows: Vec<&Value> = outcomes.iter().map(|o| &o.row).collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({ "gobin": gobin, "with": target.release, "tools": rows }))?
        );
    } else if outcomes.is_empty() {
        println!(
            "nothing to rebuild: every Go program in {} was built with {} or newer",
            display_gobin(&gobin),
            target.release
        );
    } else {
        for o in &outcomes {
            println!("{:<8} {}  {}", o.kind, o.name, o.detail);
        }
    }
    Ok(if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn outcome_of(a: &rebuild::Attempt, with: &str) -> Outcome {
    match &a.result {
        Ok(r) => Outcome {
            name: a.name.clone(),
            kind: "rebuilt",
            detail: format!("{}  {} -> {}", a.target, r.old_go, r.new_go),
            row: json!({ "name": a.name, "result": "rebuilt", "target": a.target, "from": r.old_go, "to": r.new_go }),
        },
        Err(e) => Outcome {
            name: a.name.clone(),
            kind: "failed",
            detail: format!(
                "{}: the old one ({}) is kept; {e}\nto retry by hand: {}",
                a.target,
                a.old_go,
                a.recipe.command_line_via(&format!("gomig exec {with} --"))
            ),
            row: json!({ "name": a.name, "result": "failed", "target": a.target, "kept": a.old_go, "error": e.to_string() }),
        },
    }
}

fn display_gobin(gobin: &Path) -> String {
    if gobin.is_dir() {
        format!("GOBIN {}", gobin.display())
    } else {
        format!("GOBIN {} (which does not exist)", gobin.display())
    }
}

fn progress_bar(enabled: bool, len: usize) -> indicatif::ProgressBar {
    if !enabled || len == 0 {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} rebuilding {msg} [{elapsed}]")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}
