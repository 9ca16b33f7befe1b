//! Writing files whole or not at all, and naming temporary files so that the leftovers of a
//! killed process can be told from those of a live one (by the pid in their suffix).

use std::fs::{self, File};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// A file that could not be written: it is unchanged (or was not created).
#[derive(Debug, thiserror::Error)]
#[error("cannot write {path}: {source}")]
pub struct WriteError {
    pub path: String,
    #[source]
    pub source: io::Error,
}

impl WriteError {
    pub fn is_disk_full(&self) -> bool {
        self.source.raw_os_error() == Some(libc::ENOSPC)
    }
}

fn write_err(path: &Path) -> impl FnOnce(io::Error) -> WriteError + '_ {
    move |source| WriteError {
        path: path.display().to_string(),
        source,
    }
}

/// A short random-enough suffix for temporary names: pid, time and a counter.
pub fn unique_suffix() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{}-{:x}-{}",
        std::process::id(),
        nanos,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// The pid of a [`unique_suffix`] (`PID-NANOS-COUNTER`: decimal, hex, decimal), if it is one.
pub(crate) fn parse_unique_suffix(suffix: &[u8]) -> Option<libc::pid_t> {
    let text = std::str::from_utf8(suffix).ok()?;
    let mut parts = text.split('-');
    let (pid, nanos, counter) = (parts.next()?, parts.next()?, parts.next()?);
    let ok = parts.next().is_none()
        && !nanos.is_empty()
        && nanos.bytes().all(|b| b.is_ascii_hexdigit())
        && !counter.is_empty()
        && counter.bytes().all(|b| b.is_ascii_digit());
    if !ok {
        return None;
    }
    pid.parse().ok()
}

/// Whether process `pid` no longer exists (the owner of a leftover named after its pid).
pub fn pid_is_gone(pid: libc::pid_t) -> bool {
    // SAFETY: kill with signal 0 only checks whether the process exists.
    pid > 0 && unsafe { libc::kill(pid, 0) } != 0 && io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH)
}

/// Writes a file whole or not at all: temp file, fsync, rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(write_err(dir))?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = dir.join(format!(".{name}.tmp-{}", unique_suffix()));
    let result = (|| {
        // Writable by its owner only, whatever the umask: under umask 000 a manifest or a
        // record others could rewrite would decide what gomig believes.
        let mut f = File::options().write(true).create_new(true).mode(0o644).open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(write_err(path)(e));
    }
    sync_dir(dir);
    Ok(())
}

/// Makes a rename durable; failure only weakens durability, never correctness.
pub fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}
