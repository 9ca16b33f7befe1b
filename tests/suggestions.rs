//! Every command gomig suggests in a message works as written: it parses (the real command
//! line definition) and names a real target (the toolchain it names exists, of the kind the
//! command acts on). The suggestions are collected from gomig's own error paths.

mod support;

use std::fs;
use std::path::Path;

use clap::Parser;
use support::*;

/// Placeholders a message may use, and a value that stands for them.
const PLACEHOLDERS: [(&str, &str); 7] = [
    ("VERSION", "1.22.10"),
    ("NEW_PATH", "/tmp"),
    ("<GOROOT>", "/tmp"),
    ("PATH", "/tmp"),
    ("DIR", "/tmp"),
    ("FILE", "/tmp/x.tar.gz"),
    ("URL", "https://example.invalid/"),
];

/// The `gomig ...` commands in `text`, each up to the end of its clause.
fn suggested_commands(text: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for (i, _) in text.match_indices("gomig ") {
        // Not a word ending in "gomig" (a path like /tmp/gomig-test/...).
        if text[..i].ends_with(|c: char| c.is_alphanumeric() || c == '/' || c == '-' || c == '.') {
            continue;
        }
        let rest = &text[i + "gomig ".len()..];
        let end = rest
            .find([';', ',', '(', ')', '\n', ':', '"', '`'])
            .unwrap_or(rest.len());
        let mut clause = &rest[..end];
        for stop in [" or ", " then ", " and ", " && ", " if ", " to ", " after ", " before "] {
            if let Some(at) = clause.find(stop) {
                clause = &clause[..at];
            }
        }
        let words: Vec<String> = clause
            .split_whitespace()
            .map(|w| w.trim_end_matches('.').to_string())
            .collect();
        let Some(first) = words.first() else { continue };
        // Prose such as "gomig never deletes adopted trees" or "gomig list shows all" is not a
        // command: a subcommand must come first, and no verb of English after it.
        if !first.chars().all(|c| c.is_ascii_lowercase() || c == '-') || SUBCOMMANDS.iter().all(|s| s != first) {
            continue;
        }
        if words.get(1).is_some_and(|w| PROSE.contains(&w.as_str())) {
            continue;
        }
        out.push(words);
    }
    out
}

const PROSE: [&str; 14] = [
    "would", "shows", "says", "is", "can", "records", "never", "keeps", "finds", "checks", "prints", "makes",
    "reports", "will",
];

const SUBCOMMANDS: [&str; 30] = [
    "init",
    "completions",
    "current",
    "which",
    "local",
    "shell",
    "switch",
    "global",
    "rollback",
    "exec",
    "env",
    "add",
    "remove",
    "list",
    "doctor",
    "install",
    "uninstall",
    "list-remote",
    "outdated",
    "snapshot",
    "verify",
    "fingerprint",
    "env-diff",
    "archive",
    "restore",
    "audit",
    "log",
    "prune",
    "check",
    "migrate",
];

/// Checks one suggestion against the store of `env`; returns a description of what is wrong.
fn problem(env: &TestEnv, words: &[String]) -> Option<String> {
    let args: Vec<String> = std::iter::once("gomig".to_string())
        .chain(words.iter().map(|w| {
            PLACEHOLDERS
                .iter()
                .find(|(p, _)| w == p)
                .map_or(w.clone(), |(_, v)| v.to_string())
        }))
        .collect();
    if let Err(e) = gomig::cli::Cli::try_parse_from(&args) {
        return Some(format!(
            "does not parse: {}",
            e.to_string().lines().next().unwrap_or("")
        ));
    }
    let named = words.get(1).filter(|w| !PLACEHOLDERS.iter().any(|(p, _)| w == p));
    let named = named?;
    let name = if named.starts_with("go") {
        named.clone()
    } else {
        format!("go{named}")
    };
    let entry = env.gomig_home.join("toolchains").join(&name);
    let meta = fs::symlink_metadata(&entry).ok();
    let adopted = meta.as_ref().is_some_and(|m| m.file_type().is_symlink());
    let default = fs::read_link(env.gomig_home.join("default"))
        .ok()
        .and_then(|t| t.file_name().map(|n| n.to_string_lossy().into_owned()));
    let history = fs::read_to_string(env.gomig_home.join("state/history")).unwrap_or_default();
    let rollback = history.lines().last().map(str::to_string);
    let protected = default.as_deref() == Some(name.as_str()) || rollback.as_deref() == Some(name.as_str());
    if words.iter().any(|w| w == "--force") && !protected {
        return Some(format!(
            "--force is not needed: {name} is neither the default nor the rollback target"
        ));
    }
    match words[0].as_str() {
        "uninstall" if meta.is_none() || adopted => Some(format!("{name} is not an installed toolchain")),
        "remove" if !adopted => Some(format!("{name} is not an adopted toolchain")),
        "switch" | "verify" | "snapshot" | "archive" if meta.is_none() => Some(format!("{name} is not in the store")),
        "install" if named.contains('-') || !named.chars().next().is_some_and(|c| c.is_ascii_digit()) => {
            Some(format!("{named} is not a release gomig can install"))
        }
        _ => None,
    }
}

/// An adopted tree outside the store whose `bin/go` says it is `name`.
fn tree(env: &TestEnv, rel: &str, name: &str) -> std::path::PathBuf {
    let root = env.dir(rel);
    fs::create_dir_all(root.join("bin")).unwrap();
    fs::write(root.join("bin/go"), format!("#!/bin/sh\necho \"{name} go\"\n")).unwrap();
    fs::set_permissions(root.join("bin/go"), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    fs::write(root.join("VERSION"), format!("{name}\n")).unwrap();
    root
}

fn stderr_of(env: &TestEnv, dir: &Path, args: &[&str]) -> String {
    let out = run(&mut env.gomig_in(dir, args));
    format!("{}{}", stderr(&out), stdout(&out))
}

#[test]
fn every_command_a_message_suggests_parses_and_names_a_real_target() {
    let env = TestEnv::new();
    for name in ["go1.21.13", "go1.22.10", "go1.23.9"] {
        env.fake_toolchain(name);
        env.gomig_ok(&["snapshot", name]);
    }
    env.gomig_ok(&["switch", "1.22.10"]);
    env.gomig_ok(&["switch", "1.23.9"]);
    env.install_shims();
    let adopted = tree(&env, "elsewhere/go1.20.14", "go1.20.14");
    env.gomig_ok(&["add", adopted.to_str().unwrap()]);
    let moved = tree(&env, "elsewhere/go1.19.13", "go1.19.13");
    env.gomig_ok(&["add", moved.to_str().unwrap()]);
    fs::remove_dir_all(&moved).unwrap();

    let mut messages = Vec::new();
    let work = env.work.clone();
    // Refusals of removal: the default, the rollback target, the wrong kind.
    messages.push(stderr_of(&env, &work, &["uninstall", "1.23.9"]));
    messages.push(stderr_of(&env, &work, &["uninstall", "1.22.10"]));
    messages.push(stderr_of(&env, &work, &["uninstall", "1.20.14"]));
    messages.push(stderr_of(&env, &work, &["remove", "1.21.13"]));
    messages.push(stderr_of(&env, &work, &["uninstall", "1.24.0"]));
    // Adopting a name that is taken, by an installed and by an adopted toolchain.
    let clash = tree(&env, "other/go1.21.13", "go1.21.13");
    messages.push(stderr_of(&env, &work, &["add", clash.to_str().unwrap()]));
    let clash = tree(&env, "other/go1.20.14", "go1.20.14");
    messages.push(stderr_of(&env, &work, &["add", clash.to_str().unwrap()]));
    // Selecting what is not there, or is damaged.
    messages.push(stderr_of(&env, &work, &["switch", "1.25.0"]));
    messages.push(stderr_of(&env, &work, &["verify", "1.22"]));
    fs::write(env.gomig_home.join("toolchains/go1.21.13/bin/gofmt"), "changed").unwrap();
    messages.push(stderr_of(&env, &work, &["switch", "1.21.13"]));
    messages.push(stderr_of(&env, &work, &["snapshot", "1.21.13"]));
    // Doctor on the moved tree; check outside a module; a pin the shim cannot run.
    messages.push(stderr_of(&env, &work, &["doctor"]));
    messages.push(stderr_of(&env, &work, &["check", "--to", "1.22.10"]));
    let project = env.dir("project");
    fs::write(project.join(".go-version"), "1.24.3\n").unwrap();
    let out = run(&mut env.go_in(&project, &["version"]));
    messages.push(stderr(&out));

    let mut checked = 0;
    let mut wrong = Vec::new();
    for text in &messages {
        for words in suggested_commands(text) {
            checked += 1;
            if let Some(why) = problem(&env, &words) {
                wrong.push(format!("`gomig {}`: {why}\n  in: {}", words.join(" "), text.trim()));
            }
        }
    }
    assert!(
        checked >= 15,
        "too few suggestions collected ({checked}): {messages:#?}"
    );
    assert!(
        wrong.is_empty(),
        "{} suggestion(s) do not work as written:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
