//! The systemd journal, over its native protocol: one datagram per event on
//! `/run/systemd/journal/socket` (`GOMIG_JOURNAL_SOCKET` overrides the path, for tests).
//!
//! Each field is `KEY=value\n`; a value holding a newline uses the binary-safe form
//! `KEY\n<u64 little-endian length><value>\n`. Sending is best effort: no socket, a full
//! socket buffer or any other error is ignored, so the journal never fails a command.

use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;

use serde_json::{Map, Value};

pub const DEFAULT_SOCKET: &str = "/run/systemd/journal/socket";

/// syslog priorities, as journald expects them in `PRIORITY`.
const PRIORITY_ERR: u8 = 3;
const PRIORITY_WARNING: u8 = 4;
const PRIORITY_INFO: u8 = 6;

pub fn socket_path() -> PathBuf {
    match std::env::var_os("GOMIG_JOURNAL_SOCKET") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => PathBuf::from(DEFAULT_SOCKET),
    }
}

/// Appends one field in the native protocol's encoding.
pub fn encode_field(out: &mut Vec<u8>, key: &str, value: &[u8]) {
    out.extend_from_slice(key.as_bytes());
    if value.contains(&b'\n') {
        out.push(b'\n');
        out.extend_from_slice(&(value.len() as u64).to_le_bytes());
    } else {
        out.push(b'=');
    }
    out.extend_from_slice(value);
    out.push(b'\n');
}

/// A journal field name for an event key: `GOMIG_` + upper case, anything else `_`.
fn field_name(key: &str) -> String {
    let mut name = String::from("GOMIG_");
    name.extend(key.chars().map(|c| {
        if c.is_ascii_alphanumeric() {
            c.to_ascii_uppercase()
        } else {
            '_'
        }
    }));
    name
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The one-line summary journalctl shows: `gomig switch go1.21.13 -> go1.22.10: ok`.
fn message(fields: &Map<String, Value>) -> String {
    let get = |k: &str| fields.get(k).filter(|v| !v.is_null()).map(text);
    let mut msg = format!("gomig {}", get("action").unwrap_or_default());
    match (get("from"), get("to"), get("version")) {
        (_, _, Some(v)) => msg.push_str(&format!(" {v}")),
        (Some(from), Some(to), None) => msg.push_str(&format!(" {from} -> {to}")),
        (None, Some(to), None) => msg.push_str(&format!(" {to}")),
        _ => {}
    }
    msg.push_str(&format!(": {}", get("result").unwrap_or_else(|| "ok".into())));
    if let Some(err) = get("error") {
        msg.push_str(&format!(" ({err})"));
    }
    msg
}

fn priority(fields: &Map<String, Value>) -> u8 {
    if fields.get("result").and_then(Value::as_str) == Some("error") {
        PRIORITY_ERR
    } else if fields.get("verified") == Some(&Value::Bool(false)) {
        // A switch with --no-verify: worth noticing.
        PRIORITY_WARNING
    } else {
        PRIORITY_INFO
    }
}

/// The datagram for an event.
pub fn encode_event(fields: &Map<String, Value>) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    encode_field(&mut out, "MESSAGE", message(fields).as_bytes());
    encode_field(&mut out, "PRIORITY", priority(fields).to_string().as_bytes());
    encode_field(&mut out, "SYSLOG_IDENTIFIER", b"gomig");
    for (key, value) in fields {
        if value.is_null() {
            continue;
        }
        encode_field(&mut out, &field_name(key), text(value).as_bytes());
    }
    out
}

/// Sends the event to the journal if its socket exists. Never fails.
pub fn send_event(fields: &Map<String, Value>) {
    let path = socket_path();
    if !path.exists() {
        return;
    }
    let Ok(sock) = UnixDatagram::unbound() else { return };
    // A stuck journald must not stall gomig: drop the event rather than wait.
    let _ = sock.set_nonblocking(true);
    let _ = sock.send_to(&encode_event(fields), &path);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_with_newlines_use_the_binary_safe_form() {
        let mut out = Vec::new();
        encode_field(&mut out, "A", b"plain");
        encode_field(&mut out, "B", b"two\nlines");
        let mut want = b"A=plain\nB\n".to_vec();
        want.extend_from_slice(&9u64.to_le_bytes());
        want.extend_from_slice(b"two\nlines\n");
        assert_eq!(out, want);
    }

    #[test]
    fn event_keys_become_gomig_fields() {
        let mut fields = Map::new();
        fields.insert("action".into(), "switch".into());
        fields.insert("from".into(), "go1.21.13".into());
        fields.insert("to".into(), "go1.22.10".into());
        fields.insert("tree_digest".into(), Value::Null);
        fields.insert("pid".into(), 42.into());
        let text = String::from_utf8(encode_event(&fields)).unwrap();
        assert!(
            text.starts_with("MESSAGE=gomig switch go1.21.13 -> go1.22.10: ok\nPRIORITY=6\nSYSLOG_IDENTIFIER=gomig\n")
        );
        assert!(text.contains("GOMIG_ACTION=switch\n") && text.contains("GOMIG_PID=42\n"));
        assert!(!text.contains("GOMIG_TREE_DIGEST"), "null fields are left out");
    }
}
