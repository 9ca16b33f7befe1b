//! One-line error messages for resolution failures: what happened, which file and line, and
//! the command that fixes it. Written to a byte sink so the shim (stack buffer, `write(2)`)
//! and the CLI (a `String`) print the very same words.

use core::mem::MaybeUninit;

use super::sys::PathBuf;
use super::trust::{Finding, Problem, Role};
use super::{Error, ErrorKind, Source};

pub trait Sink {
    fn put(&mut self, bytes: &[u8]);

    fn put_u64(&mut self, mut n: u64) {
        let mut digits = [0u8; 20];
        let mut i = digits.len();
        loop {
            i -= 1;
            digits[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        self.put(&digits[i..]);
    }
}

/// A fixed-size buffer sink; output past its end is dropped. Uninitialised past `len`, so a
/// big message buffer costs nothing until it is written.
pub struct StackBuf<const N: usize> {
    len: usize,
    buf: [MaybeUninit<u8>; N],
}

impl<const N: usize> Default for StackBuf<N> {
    fn default() -> Self {
        StackBuf {
            len: 0,
            buf: [const { MaybeUninit::uninit() }; N],
        }
    }
}

impl<const N: usize> StackBuf<N> {
    pub fn as_bytes(&self) -> &[u8] {
        // SAFETY: `buf[..len]` has been written.
        unsafe { core::slice::from_raw_parts(self.buf.as_ptr().cast(), self.len) }
    }
}

impl<const N: usize> Sink for StackBuf<N> {
    fn put(&mut self, bytes: &[u8]) {
        let take = bytes.len().min(N - self.len);
        // SAFETY: `len + take <= N`.
        unsafe { core::ptr::copy_nonoverlapping(bytes.as_ptr(), self.buf.as_mut_ptr().add(self.len).cast(), take) };
        self.len += take;
    }
}

/// Short name for an errno, for messages.
pub fn errno_text(e: i32) -> &'static [u8] {
    match e {
        libc::ENOENT => b"no such file or directory",
        libc::EACCES => b"permission denied",
        libc::EPERM => b"operation not permitted",
        libc::ENOTDIR => b"not a directory",
        libc::EISDIR => b"is a directory",
        libc::ELOOP => b"too many levels of symbolic links",
        libc::ENAMETOOLONG => b"file name too long",
        libc::EIO => b"input/output error",
        libc::EINVAL => b"invalid argument (not a symbolic link?)",
        libc::ENOEXEC => b"exec format error",
        libc::E2BIG => b"argument list too long",
        libc::ETXTBSY => b"text file busy",
        // What open(2) says for a socket or a device without a driver; `Fd::open_read` also
        // uses it for a FIFO.
        libc::ENXIO => b"not a regular file (a FIFO, socket or device)",
        _ => b"system error",
    }
}

/// Puts a user-typed version for display: `1.23.0` rather than `go1.23.0` in install hints.
fn put_install_arg(sink: &mut impl Sink, name: &[u8]) {
    sink.put(name.strip_prefix(b"go").unwrap_or(name));
}

fn put_where(sink: &mut impl Sink, err: &Error) {
    match err.source {
        Source::Env => sink.put(b"GOMIG_GO_VERSION"),
        Source::Argument => sink.put(b"the command line"),
        _ if !err.file.is_empty() => {
            sink.put(err.file.as_bytes());
            if err.line > 0 {
                sink.put(b" line ");
                sink.put_u64(err.line as u64);
            }
        }
        Source::Default => sink.put(b"the global default"),
        _ => sink.put(err.source.as_str().as_bytes()),
    }
}

/// Writes the message for `err` in the store at `home`: a toolchain that is not installed but
/// that `gomig prune` archived is restored from its archive, not downloaded again.
pub fn write_failure(err: &Error, home: &PathBuf, sink: &mut impl Sink) {
    let mut archive = PathBuf::default();
    if err.kind == ErrorKind::NotInstalled && super::pruned_archive(home, err.value.as_bytes(), &mut archive) {
        let value = err.value.as_bytes();
        sink.put(b"Go ");
        sink.put(value.strip_prefix(b"go").unwrap_or(value));
        sink.put(b" is not installed (requested by ");
        put_where(sink, err);
        sink.put(b"); gomig prune archived it, so no download is needed; run: gomig restore ");
        put_shell_word(sink, archive.as_bytes());
        return;
    }
    write_error(err, sink)
}

/// Writes the message for `err` (no `error:` prefix, no newline).
pub fn write_error(err: &Error, sink: &mut impl Sink) {
    let value = err.value.as_bytes();
    match err.kind {
        ErrorKind::NoHome => {
            if value.is_empty() {
                sink.put(b"cannot locate the gomig store: HOME is not set; set GOMIG_HOME to an absolute path");
            } else {
                sink.put(b"GOMIG_HOME=");
                sink.put(value);
                sink.put(b" is not an absolute path; set GOMIG_HOME to an absolute path");
            }
        }
        ErrorKind::BadVersion => {
            put_where(sink, err);
            sink.put(b": \"");
            sink.put(value);
            sink.put(b"\" is not a Go version; write an exact version (1.22.10), a prefix (1.22), latest or system");
            match err.source {
                Source::Env => sink.put(b", or run: gomig shell --unset"),
                Source::Argument => sink.put(b" (see gomig list)"),
                _ => {}
            }
        }
        ErrorKind::NameTooLong => {
            put_where(sink, err);
            sink.put(b": \"");
            sink.put(value);
            sink.put(b"...\" is longer than ");
            sink.put_u64(super::MAX_NAME as u64);
            sink.put(b" bytes, the limit for a toolchain name; ");
            match err.source {
                Source::Default => sink.put(b"run: gomig switch VERSION"),
                Source::Env => sink.put(b"run: gomig shell VERSION, or gomig shell --unset"),
                _ => sink.put(b"write a version such as 1.22.10 (see gomig list)"),
            }
        }
        ErrorKind::EmptyVersionFile => {
            sink.put(err.file.as_bytes());
            sink.put(b" holds no version; write one (e.g. 1.22.10) or delete the file");
        }
        ErrorKind::VersionFileIsDir => {
            sink.put(err.file.as_bytes());
            sink.put(b" is a directory, not a version file; remove it or replace it with a file holding a version");
        }
        ErrorKind::Unreadable => {
            sink.put(b"cannot read ");
            sink.put(err.file.as_bytes());
            sink.put(b": ");
            sink.put(errno_text(err.errno));
            sink.put(b"; fix its permissions or remove it");
        }
        ErrorKind::BadGoLine | ErrorKind::BadToolchainLine => {
            put_where(sink, err);
            sink.put(if err.kind == ErrorKind::BadGoLine {
                b": invalid go version \""
            } else {
                b": invalid toolchain \""
            });
            sink.put(value);
            sink.put(if err.kind == ErrorKind::BadGoLine {
                &b"\"; fix the go line (e.g. go 1.22.0)"[..]
            } else {
                &b"\"; fix the toolchain line (e.g. toolchain go1.22.10 or toolchain default)"[..]
            });
        }
        ErrorKind::GoworkNotAbsolute => {
            sink.put(b"GOWORK=");
            sink.put(value);
            sink.put(b" is not an absolute path; set it to an absolute path or off, or unset it");
        }
        ErrorKind::NotInstalled => {
            let name = value.strip_prefix(b"go").unwrap_or(value);
            sink.put(b"Go ");
            sink.put(name);
            sink.put(b" is not installed (requested by ");
            put_where(sink, err);
            sink.put(b"); run: gomig install ");
            put_install_arg(sink, value);
        }
        ErrorKind::DefaultBroken => {
            sink.put(b"the default toolchain ");
            sink.put(value);
            sink.put(b" is missing from the store; run: gomig install ");
            put_install_arg(sink, value);
            sink.put(b" (or gomig rollback / gomig switch VERSION)");
        }
        ErrorKind::SystemNotFound => {
            sink.put(b"system Go requested by ");
            put_where(sink, err);
            sink.put(b", but no ");
            sink.put(value);
            sink.put(b" is on PATH apart from gomig's shims; install Go or pin a version");
        }
        ErrorKind::NoToolchain => {
            sink.put(
                b"no Go toolchain selected here and no default set; run: gomig install latest && gomig switch latest",
            );
        }
        ErrorKind::BadPath => {
            sink.put(b"cannot resolve a Go toolchain: the working directory or a store path is unreadable or too long");
        }
        ErrorKind::Untrusted => match err.untrusted {
            Some(finding) => write_untrusted(err, finding, sink),
            None => sink.put(b"the gomig store is not trusted"),
        },
    }
}

/// Puts a path so that it survives being pasted into a shell: as is when it holds only
/// plain characters, else in single quotes.
fn put_shell_word(sink: &mut impl Sink, word: &[u8]) {
    let plain = !word.is_empty()
        && word
            .iter()
            .all(|&c| c.is_ascii_alphanumeric() || b"/._-+,:@%=".contains(&c));
    if plain {
        sink.put(word);
        return;
    }
    sink.put(b"'");
    for part in word.split(|&c| c == b'\'') {
        sink.put(part);
        if part.as_ptr_range().end != word.as_ptr_range().end {
            sink.put(b"'\\''");
        }
    }
    sink.put(b"'");
}

fn put_mode(sink: &mut impl Sink, mode: u32) {
    let mut digits = [b'0'; 4];
    for (i, d) in digits.iter_mut().enumerate() {
        *d = b'0' + ((mode >> (3 * (3 - i))) & 7) as u8;
    }
    sink.put(&digits);
}

/// `PATH is writable by other users (mode 0777), so they could put a program on your PATH;
/// run: chmod go-w PATH`, and the like: the path, what is wrong, what it allows, the fix.
fn write_untrusted(err: &Error, finding: Finding, sink: &mut impl Sink) {
    let path = err.file.as_bytes();
    let name = err.value.as_bytes();
    sink.put(path);
    match finding.problem {
        Problem::Owner(uid) => {
            sink.put(b" belongs to user id ");
            sink.put_u64(uid as u64);
            sink.put(b", not to you, so that user could ");
        }
        Problem::Writable(mode) => {
            sink.put(b" is writable by other users (mode ");
            put_mode(sink, mode);
            sink.put(b"), so they could ");
        }
        Problem::ParentWritable(mode) => {
            sink.put(b" is writable by other users (mode ");
            put_mode(sink, mode);
            sink.put(b", not sticky), so they could replace what it holds and ");
        }
        Problem::Unchecked => {
            sink.put(b" cannot be checked (more than 40 symbolic links, or too long a path); ");
            sink.put(match finding.role {
                Role::Store | Role::AboveStore => &b"use a GOMIG_HOME reached through fewer links"[..],
                Role::Config => b"set GOMIG_CONFIG to the file itself",
                Role::Toolchain | Role::AboveToolchain => b"adopt the tree by its real path",
            });
            return;
        }
    }
    sink.put(match finding.role {
        Role::Store | Role::AboveStore => &b"put a program on your PATH; "[..],
        Role::Config => b"change gomig's settings (mirror, auto_install); ",
        Role::Toolchain | Role::AboveToolchain => b"change what runs as Go; ",
    });
    match finding.problem {
        Problem::Owner(_) => {
            if matches!(finding.role, Role::Store | Role::AboveStore) {
                sink.put(b"use your own GOMIG_HOME, or ");
            }
            sink.put(if matches!(finding.role, Role::Store | Role::Toolchain) {
                &b"run: chown -R $(id -u) "[..]
            } else {
                b"run: chown $(id -u) "
            });
        }
        _ => sink.put(b"run: chmod go-w "),
    }
    put_shell_word(sink, path);
    if matches!(finding.role, Role::Toolchain | Role::AboveToolchain) && !name.is_empty() {
        sink.put(b" (or forget the toolchain: gomig remove ");
        put_shell_word(sink, name);
        sink.put(b")");
    }
}
