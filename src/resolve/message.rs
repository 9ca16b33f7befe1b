//! One-line error messages for resolution failures: what happened, which file and line, and
//! the command that fixes it. Written to a byte sink so the shim (stack buffer, `write(2)`)
//! and the CLI (a `String`) print the very same words.

use core::mem::MaybeUninit;

use super::sys::PathBuf;
use super::trust::{Finding, Problem, Role};
use super::{Env, Error, ErrorKind, Source};

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

/// Puts bytes gomig read (a `.go-version` line, a path, a name) so that the terminal shows
/// them and obeys none: control characters (C0, DEL, C1: an escape sequence, a NUL, a
/// newline) and bytes that are not UTF-8 are written as `\0`, `\n`, `\t`, `\r`, `\e` or
/// `\xNN`/`\u{NN}`; everything else as is. The one escaping rule for every message that echoes
/// such text (the CLI reaches it through `lookup::shown`).
pub fn put_text(sink: &mut impl Sink, bytes: &[u8]) {
    for chunk in bytes.utf8_chunks() {
        let valid = chunk.valid();
        let mut start = 0;
        for (i, c) in valid.char_indices() {
            if !c.is_control() {
                continue;
            }
            sink.put(&valid.as_bytes()[start..i]);
            start = i + c.len_utf8();
            match c {
                '\0' => sink.put(b"\\0"),
                '\n' => sink.put(b"\\n"),
                '\t' => sink.put(b"\\t"),
                '\r' => sink.put(b"\\r"),
                '\x1b' => sink.put(b"\\e"),
                c if (c as u32) < 0x80 => put_hex(sink, b"\\x", c as u8),
                c => {
                    put_hex(sink, b"\\u{", c as u32 as u8);
                    sink.put(b"}");
                }
            }
        }
        sink.put(&valid.as_bytes()[start..]);
        for &b in chunk.invalid() {
            put_hex(sink, b"\\x", b);
        }
    }
}

fn put_hex(sink: &mut impl Sink, prefix: &[u8], b: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    sink.put(prefix);
    sink.put(&[HEX[(b >> 4) as usize], HEX[(b & 15) as usize]]);
}

/// Puts a user-typed version for display: `1.23.0` rather than `go1.23.0` in install hints.
fn put_install_arg(sink: &mut impl Sink, name: &[u8]) {
    put_text(sink, name.strip_prefix(b"go").unwrap_or(name));
}

fn put_where(sink: &mut impl Sink, err: &Error) {
    match err.source {
        Source::Env => sink.put(b"GOMIG_GO_VERSION"),
        Source::Argument => sink.put(b"the command line"),
        Source::Command => {
            sink.put(b"the command ");
            sink.put(err.value.as_bytes());
        }
        Source::Gotoolchain => {
            sink.put(b"GOTOOLCHAIN");
            if !err.file.is_empty() {
                sink.put(b" in ");
                sink.put(err.file.as_bytes());
            }
        }
        _ if !err.file.is_empty() => {
            put_text(sink, err.file.as_bytes());
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
/// `env`: the environment the resolver read, for what the error alone does not tell.
pub fn write_failure(err: &Error, home: &PathBuf, env: &Env<'_>, sink: &mut impl Sink) {
    if err.kind == ErrorKind::NotInstalled && write_unreadable_toolchain(err, home, sink) {
        return;
    }
    // The resolver only says that HOME did not do: unset, or not an absolute path (HOME=.,
    // a literal HOME=~ from a script), which "not set" would hide.
    if err.kind == ErrorKind::NoHome
        && err.value.as_bytes().is_empty()
        && let Some(h) = env.home.filter(|h| !h.is_empty())
    {
        sink.put(b"cannot locate the gomig store: HOME=");
        put_text(sink, h);
        sink.put(b" is not an absolute path; set HOME (or GOMIG_HOME) to an absolute path");
        return;
    }
    let mut archive = PathBuf::default();
    if err.kind == ErrorKind::NotInstalled && super::pruned_archive(home, err.value.as_bytes(), &mut archive) {
        let value = err.value.as_bytes();
        sink.put(b"Go ");
        put_text(sink, value.strip_prefix(b"go").unwrap_or(value));
        sink.put(b" is not installed (requested by ");
        put_where(sink, err);
        sink.put(b"); gomig prune archived it, so no download is needed; run: gomig restore ");
        put_shell_word(sink, archive.as_bytes());
        return;
    }
    write_error(err, sink)
}

/// Whether permission hides toolchain `name` in the store at `home`: looks at `toolchains/`,
/// the entry and its `bin/go`, and puts the first that cannot be looked at in `out`.
pub fn hidden_toolchain(home: &PathBuf, name: &[u8], out: &mut PathBuf) -> bool {
    if home.is_empty() || out.set(home.as_bytes()).is_none() || out.push(b"toolchains").is_none() {
        return false;
    }
    let parts: [&[u8]; 3] = [b"", name, b"bin/go"];
    for (i, part) in parts.iter().enumerate() {
        if i > 0 && (part.is_empty() || out.push(part).is_none()) {
            return false;
        }
        match super::sys::stat(out) {
            Ok(_) => continue,
            Err(e) => return e == libc::EACCES || e == libc::EPERM,
        }
    }
    false
}

/// "Not installed" when the store cannot be read is wrong: the toolchain may well be there.
/// Says so and how to fix it (true) when permission hides it, else writes nothing (false).
fn write_unreadable_toolchain(err: &Error, home: &PathBuf, sink: &mut impl Sink) -> bool {
    let name = err.value.as_bytes();
    let mut path = PathBuf::default();
    if !hidden_toolchain(home, name, &mut path) {
        return false;
    }
    sink.put(b"cannot tell whether Go ");
    put_install_arg(sink, name);
    sink.put(b" (requested by ");
    put_where(sink, err);
    sink.put(b") is installed: ");
    put_text(sink, path.as_bytes());
    sink.put(b": permission denied; fix the store's permissions (run: chmod -R u+rwX ");
    put_shell_word(sink, home.as_bytes());
    sink.put(b"), or see gomig doctor");
    true
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
                put_text(sink, value);
                sink.put(b" is not an absolute path; set GOMIG_HOME to an absolute path");
            }
        }
        ErrorKind::BadVersion => {
            put_where(sink, err);
            sink.put(b": \"");
            put_text(sink, value);
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
            put_text(sink, value);
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
            put_text(sink, err.file.as_bytes());
            sink.put(b" holds no version; write one (e.g. 1.22.10) or delete the file");
        }
        ErrorKind::VersionFileIsDir => {
            put_text(sink, err.file.as_bytes());
            sink.put(b" is a directory, not a version file; remove it or replace it with a file holding a version");
        }
        ErrorKind::Unreadable if err.errno == libc::ENOTDIR => {
            // Not a permission problem: something on the way is a file (GOMIG_HOME naming a
            // file, a toolchains entry replaced by one).
            let file = err.file.as_bytes();
            let parent = file
                .iter()
                .rposition(|&c| c == b'/')
                .map_or(file, |i| &file[..i.max(1)]);
            sink.put(b"cannot read ");
            put_text(sink, file);
            sink.put(b": ");
            put_text(sink, parent);
            sink.put(b" (or a directory above it) is a file, not a directory; if it is GOMIG_HOME, set GOMIG_HOME to a directory, else move the file away");
        }
        ErrorKind::Unreadable => {
            sink.put(b"cannot read ");
            put_text(sink, err.file.as_bytes());
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
            put_text(sink, value);
            sink.put(if err.kind == ErrorKind::BadGoLine {
                &b"\"; fix the go line (e.g. go 1.22.0)"[..]
            } else {
                &b"\"; fix the toolchain line (e.g. toolchain go1.22.10 or toolchain default)"[..]
            });
        }
        ErrorKind::BadGotoolchain => {
            sink.put(b"GOTOOLCHAIN=");
            sink.put(value);
            if !err.file.is_empty() {
                sink.put(b" (in ");
                sink.put(err.file.as_bytes());
                sink.put(b")");
            }
            if super::gotoolchain::is_language_version(value.split(|&c| c == b'+').next().unwrap_or(value)) {
                sink.put(b" names a language version, not a toolchain; name a release such as ");
                sink.put(value.split(|&c| c == b'+').next().unwrap_or(value));
                sink.put(b".0");
            } else {
                sink.put(b" is not valid: Go accepts local, auto, path, a toolchain (go1.22.10), or go1.22.10+auto / go1.22.10+path");
            }
            if err.file.is_empty() {
                sink.put(b"; run: unset GOTOOLCHAIN");
            } else {
                sink.put(b"; run: go env -u GOTOOLCHAIN");
            }
        }
        ErrorKind::GoworkNotAbsolute => {
            sink.put(b"GOWORK=");
            put_text(sink, value);
            sink.put(b" is not an absolute path; set it to an absolute path or off, or unset it");
        }
        ErrorKind::NotInstalled => {
            let name = value.strip_prefix(b"go").unwrap_or(value);
            sink.put(b"Go ");
            put_text(sink, name);
            sink.put(b" is not installed (requested by ");
            put_where(sink, err);
            sink.put(b"); run: gomig install ");
            put_install_arg(sink, value);
        }
        ErrorKind::DefaultBroken => {
            sink.put(b"the default toolchain ");
            put_text(sink, value);
            sink.put(b" is missing from the store; run: gomig install ");
            put_install_arg(sink, value);
            sink.put(b" (or gomig rollback / gomig switch VERSION)");
        }
        ErrorKind::SystemNotFound => {
            sink.put(b"system Go requested by ");
            put_where(sink, err);
            sink.put(b", but no ");
            put_text(sink, value);
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
        ErrorKind::NotRegular => {
            let file = err.file.as_bytes();
            if value == b"GOWORK" {
                sink.put(b"GOWORK=");
                sink.put(file);
                sink.put(b" is ");
                sink.put(kind_text(err.detail as u32));
                sink.put(b", not a go.work file; set GOWORK to a go.work file, or off, or unset it");
                return;
            }
            sink.put(file);
            sink.put(b" is ");
            sink.put(kind_text(err.detail as u32));
            sink.put(b", not a regular file, so gomig does not read it (a read might never end); remove it: rm ");
            put_shell_word(sink, file);
        }
        ErrorKind::DanglingLink => {
            let file = err.file.as_bytes();
            sink.put(file);
            sink.put(b" is a symbolic link to ");
            let mut target = PathBuf::default();
            if super::sys::readlink(&err.file.to_path_buf(), &mut target).is_ok() {
                sink.put(target.as_bytes());
            } else {
                sink.put(b"a file");
            }
            sink.put(b", which does not exist, so the version it pins cannot be read; point it at a file holding a version (ln -sfn FILE ");
            put_shell_word(sink, file);
            sink.put(b") or remove it: rm ");
            put_shell_word(sink, file);
        }
        ErrorKind::TooLong => {
            sink.put(err.file.as_bytes());
            if matches!(err.source, Source::GoMod | Source::GoWork) {
                sink.put(b": no go and toolchain lines within its first ");
            } else {
                sink.put(b": no version within its first ");
            }
            put_size(sink, err.detail);
            sink.put(b", all that gomig reads of it; ");
            if matches!(err.source, Source::GoMod | Source::GoWork) {
                sink.put(b"move the go and toolchain lines to the top of the file");
            } else {
                sink.put(b"put the version on its first line");
            }
        }
        ErrorKind::GoworkIsDir => {
            let file = err.file.as_bytes();
            sink.put(b"GOWORK=");
            sink.put(file);
            sink.put(b": read ");
            sink.put(file);
            sink.put(b": is a directory (go fails the same way); set GOWORK to the go.work file (GOWORK=");
            let mut work = err.file.to_path_buf();
            if work.push(b"go.work").is_some() {
                put_shell_word(sink, work.as_bytes());
            }
            sink.put(b"), or off, or unset it");
        }
        ErrorKind::ForeignFile => {
            let file = err.file.as_bytes();
            let dir = match file.iter().rposition(|&c| c == b'/') {
                Some(0) => &b"/"[..],
                Some(i) => &file[..i],
                None => file,
            };
            sink.put(file);
            sink.put(b" belongs to user id ");
            sink.put_u64(err.detail);
            sink.put(b", not to you, and ");
            sink.put(dir);
            sink.put(b" can be written by others, so anyone could have put it there: it is not obeyed; if you trust that directory, run: gomig config set trusted_dirs ");
            put_shell_word(sink, dir);
            sink.put(b" (or make the file yours: sudo chown $(id -u) ");
            put_shell_word(sink, file);
            sink.put(b")");
        }
    }
}

/// What a file that is not regular is, from its `st_mode`.
// The casts are no-ops on Linux but not on macOS, where the `S_IF*` constants are `u16`.
#[allow(clippy::unnecessary_cast)]
fn kind_text(mode: u32) -> &'static [u8] {
    match mode & libc::S_IFMT as u32 {
        m if m == libc::S_IFCHR as u32 => b"a character device",
        m if m == libc::S_IFBLK as u32 => b"a block device",
        m if m == libc::S_IFIFO as u32 => b"a FIFO",
        m if m == libc::S_IFSOCK as u32 => b"a socket",
        _ => b"not a plain file",
    }
}

/// `64 KiB`, `4 MiB`: a read limit for messages.
fn put_size(sink: &mut impl Sink, bytes: u64) {
    if bytes >= 1024 * 1024 && bytes.is_multiple_of(1024 * 1024) {
        sink.put_u64(bytes / (1024 * 1024));
        sink.put(b" MiB");
    } else {
        sink.put_u64(bytes / 1024);
        sink.put(b" KiB");
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
    // Control characters and other bytes a terminal might act on: `$'\x1b'`, which bash and
    // zsh read back as the same bytes, so the command still works when pasted.
    if word.iter().any(|c| !(0x20..0x7f).contains(c)) {
        sink.put(b"$'");
        for &c in word {
            match c {
                b'\'' | b'\\' => sink.put(&[b'\\', c]),
                c if !(0x20..0x7f).contains(&c) => put_hex(sink, b"\\x", c),
                c => sink.put(&[c]),
            }
        }
        sink.put(b"'");
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
    put_text(sink, path);
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
