//! SIGINT (Ctrl-C), SIGTERM and SIGHUP: gomig removes at once what the interrupted work would
//! leave (its staging directories, through their one cleaner, `store::staging::clean_on_interrupt`;
//! a running check's processes and sandbox, `check::guard::on_interrupt`), ends the progress
//! line, says so and exits 130, 143 or 129. A kill -9 cannot be caught: the next
//! command removes the leftovers (`Store::clean_leftovers`).

use std::sync::Mutex;

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

/// The progress bar on screen, if any: an interrupt clears it before saying why gomig stopped.
static PROGRESS: Mutex<Option<indicatif::ProgressBar>> = Mutex::new(None);

/// Handles SIGINT, SIGTERM and SIGHUP on a thread of its own from now on. If they cannot be caught,
/// they keep their default action (gomig dies, the next command cleans up).
pub fn install() {
    let Ok(mut signals) = Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
        return;
    };
    let _ = std::thread::Builder::new().name("gomig-signals".into()).spawn(move || {
        if let Some(signal) = signals.forever().next() {
            stop(signal);
        }
    });
}

fn stop(signal: i32) -> ! {
    if let Some(bar) = PROGRESS.lock().unwrap_or_else(|e| e.into_inner()).take() {
        bar.finish_and_clear();
    }
    // A check's processes first: they are still running.
    let sandboxes = crate::check::guard::on_interrupt();
    let removed = crate::store::staging::clean_on_interrupt();
    let name = match signal {
        SIGINT => "SIGINT",
        SIGHUP => "SIGHUP",
        _ => "SIGTERM",
    };
    let mut message = format!("error: interrupted by {name}");
    if !removed.is_empty() {
        let dirs: Vec<String> = removed.iter().map(|p| p.display().to_string()).collect();
        message.push_str(&format!(
            "; removed the unfinished {}: nothing was put in place",
            dirs.join(", ")
        ));
    }
    if !sandboxes.is_empty() {
        let dirs: Vec<String> = sandboxes.iter().map(|p| p.display().to_string()).collect();
        message.push_str(&format!(
            "; ended the check's go processes and removed its sandbox {}",
            dirs.join(", ")
        ));
    }
    eprintln!("{message}");
    std::process::exit(128 + signal);
}

/// `bar` is on screen until the guard drops.
pub struct ProgressLine(());

pub fn progress_line(bar: &indicatif::ProgressBar) -> ProgressLine {
    *PROGRESS.lock().unwrap_or_else(|e| e.into_inner()) = Some(bar.clone());
    ProgressLine(())
}

impl Drop for ProgressLine {
    fn drop(&mut self) {
        *PROGRESS.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
}
