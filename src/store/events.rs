//! The audit log: one JSON line per change in `log/events.jsonl`.
//!
//! Each event is written with a single `write(2)` on an `O_APPEND` descriptor, so concurrent
//! gomig processes never interleave or lose lines.

use std::fs::OpenOptions;
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use serde_json::{Map, Value};

use crate::store::Store;

/// What an event records, by the command (or step) that made the change. The log holds
/// [`Action::as_str`]; `gomig log`, the journal and the tests read that string.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    Install,
    Add,
    Switch,
    Rollback,
    Uninstall,
    Remove,
    Prune,
    Snapshot,
    Verify,
    Archive,
    Restore,
    Local,
    Shims,
    Migrate,
    AuditFix,
    /// A program in GOBIN replaced by one built with another Go (`gomig tools rebuild`).
    ToolsRebuild,
}

impl Action {
    pub const ALL: [Action; 16] = [
        Action::Install,
        Action::Add,
        Action::Switch,
        Action::Rollback,
        Action::Uninstall,
        Action::Remove,
        Action::Prune,
        Action::Snapshot,
        Action::Verify,
        Action::Archive,
        Action::Restore,
        Action::Local,
        Action::Shims,
        Action::Migrate,
        Action::AuditFix,
        Action::ToolsRebuild,
    ];

    /// The `action` value in the log.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Install => "install",
            Action::Add => "add",
            Action::Switch => "switch",
            Action::Rollback => "rollback",
            Action::Uninstall => "uninstall",
            Action::Remove => "remove",
            Action::Prune => "prune",
            Action::Snapshot => "snapshot",
            Action::Verify => "verify",
            Action::Archive => "archive",
            Action::Restore => "restore",
            Action::Local => "local",
            Action::Shims => "shims",
            Action::Migrate => "migrate",
            Action::AuditFix => "audit-fix",
            Action::ToolsRebuild => "tools-rebuild",
        }
    }

    /// The action a logged `action` value names (`None` for one this gomig does not write).
    pub fn parse(text: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.as_str() == text)
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An event under construction: `Event::new(Action::Switch).field("from", "go1.22.10")`.
pub struct Event {
    fields: Map<String, Value>,
}

impl Event {
    pub fn new(action: Action) -> Event {
        let mut fields = Map::new();
        fields.insert(
            "time".into(),
            humantime::format_rfc3339_millis(std::time::SystemTime::now())
                .to_string()
                .into(),
        );
        fields.insert("action".into(), action.as_str().into());
        Event { fields }
    }

    pub fn field(mut self, key: &str, value: impl Into<Value>) -> Event {
        self.fields.insert(key.into(), value.into());
        self
    }

    /// Marks the outcome: `"ok"` or `"error"` with the message.
    pub fn result(self, result: Result<(), &str>) -> Event {
        match result {
            Ok(()) => self.field("result", "ok"),
            Err(msg) => self.field("result", "error").field("error", msg),
        }
    }

    /// An event from fields kept earlier ([`Event::into_fields`], e.g. in `state/pending`).
    pub fn from_fields(fields: Map<String, Value>) -> Event {
        Event { fields }
    }

    /// The fields so far, to be kept and written later.
    pub fn into_fields(self) -> Map<String, Value> {
        self.fields
    }

    fn finish(mut self) -> Map<String, Value> {
        self.fields.entry("result").or_insert_with(|| "ok".into());
        self.fields.insert("user".into(), user_name().into());
        self.fields.insert("pid".into(), std::process::id().into());
        self.fields.insert("host".into(), host_name().into());
        self.fields
    }

    /// Appends the event to the store's log, and sends it to the systemd journal when that is
    /// there. Errors writing the log are returned, not hidden: a change that cannot be logged
    /// should be reported. The journal is best effort.
    pub fn append(self, store: &Store) -> io::Result<()> {
        let fields = self.finish();
        let result = append_line(&log_path(store), &fields);
        crate::store::journal::send_event(&fields);
        result
    }
}

/// The event log, opened before a change so that a change that cannot be logged is not made.
pub struct EventLog {
    file: std::fs::File,
    path: std::path::PathBuf,
}

impl EventLog {
    pub fn open(store: &Store) -> io::Result<EventLog> {
        let path = log_path(store);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let file = OpenOptions::new().create(true).append(true).mode(0o644).open(&path)?;
        Ok(EventLog { file, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends the event (and sends it to the journal, best effort).
    pub fn write(&mut self, event: &Event) -> io::Result<()> {
        let fields = Event::from_fields(event.fields.clone()).finish();
        let result = write_line(&mut self.file, &self.path, &fields);
        crate::store::journal::send_event(&fields);
        result
    }
}

pub fn log_path(store: &Store) -> std::path::PathBuf {
    store.log_dir().join("events.jsonl")
}

/// The last `limit` lines of the log (all of them with `None`), oldest first. A missing log is
/// empty.
pub fn read_lines(store: &Store, limit: Option<usize>) -> io::Result<Vec<String>> {
    use std::io::BufRead;
    let file = match std::fs::File::open(log_path(store)) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut lines = std::collections::VecDeque::new();
    for line in io::BufReader::new(file).split(b'\n') {
        let line = String::from_utf8_lossy(&line?).into_owned();
        if line.trim().is_empty() {
            continue;
        }
        if limit.is_some_and(|n| lines.len() == n) {
            lines.pop_front();
        }
        if limit != Some(0) {
            lines.push_back(line);
        }
    }
    Ok(lines.into())
}

fn append_line(path: &Path, fields: &Map<String, Value>) -> io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut file = OpenOptions::new().create(true).append(true).mode(0o644).open(path)?;
    write_line(&mut file, path, fields)
}

fn write_line(file: &mut std::fs::File, path: &Path, fields: &Map<String, Value>) -> io::Result<()> {
    let mut line = serde_json::to_vec(fields)?;
    line.push(b'\n');
    // One write call for the whole line: O_APPEND makes it atomic with respect to other writers.
    let n = file.write(&line)?;
    if n != line.len() {
        return Err(io::Error::new(
            io::ErrorKind::WriteZero,
            format!("short write to {}", path.display()),
        ));
    }
    Ok(())
}

fn user_name() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| format!("uid:{}", unsafe { libc::getuid() }))
}

fn host_name() -> String {
    let mut buf = [0u8; 256];
    if unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) } != 0 {
        return String::new();
    }
    let len = buf.iter().position(|&c| c == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..len]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_round_trips_through_its_json_string() {
        for action in Action::ALL {
            let fields = Event::new(action).into_fields();
            let text = serde_json::to_string(&fields).unwrap();
            let back: Map<String, Value> = serde_json::from_str(&text).unwrap();
            let logged = back["action"].as_str().unwrap();
            assert_eq!(logged, action.as_str());
            assert_eq!(Action::parse(logged), Some(action), "{logged}");
        }
        assert_eq!(Action::AuditFix.as_str(), "audit-fix");
        assert_eq!(Action::parse("change"), None);
    }

    #[test]
    fn the_strings_are_the_ones_the_log_has_always_held() {
        let strings: Vec<_> = Action::ALL.iter().map(|a| a.as_str()).collect();
        assert_eq!(
            strings,
            [
                "install",
                "add",
                "switch",
                "rollback",
                "uninstall",
                "remove",
                "prune",
                "snapshot",
                "verify",
                "archive",
                "restore",
                "local",
                "shims",
                "migrate",
                "audit-fix",
                "tools-rebuild"
            ]
        );
    }
}
