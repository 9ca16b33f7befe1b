//! Reading the files that pick a version, loosely like Go does, with fixed buffers.
//!
//! `.go-version` / `.tool-versions`: the first meaningful line. go.mod / go.work: the first
//! top-level `go` and `toolchain` lines, as cmd/go's `gover.GoModLookup` finds them, but never
//! inside a `require (` / `replace (` block. CRLF, a UTF-8 BOM, tabs, `//` comments, unknown
//! directives and a missing final newline are all fine.

use core::mem::MaybeUninit;

use super::sys::{Fd, PathBuf};

const READ_BUF: usize = 16 * 1024;

/// Returned by a [`LineReader::small`] instead of moving or cutting a line: not an errno.
pub const GROW: i32 = -1;
/// Returned once a reader has read its [`LineReader::limit`] without an answer: not an errno.
pub const TOO_LONG: i32 = -2;
/// How much of a `.go-version` or `.tool-versions` is read: far more than a version needs.
pub const PIN_LIMIT: usize = 64 * 1024;
/// How much of a go.mod or go.work is read for its go and toolchain lines: four times the
/// largest go.mod in the tests, where a 1 GB (sparse) file would take seconds on every `go`.
pub const GO_FILE_LIMIT: usize = 4 * 1024 * 1024;

/// One line as read: its 1-based number and bytes (without the newline). A line longer than
/// the buffer is cut, flagged `truncated`, and the rest of it skipped.
pub struct Line<'b> {
    pub number: u32,
    pub text: &'b [u8],
    pub truncated: bool,
}

/// Reads a file line by line through one stack buffer, so a 1 MB go.mod costs a few reads
/// and no allocation, and reading stops as soon as the caller has what it needs. The buffer
/// is uninitialised past `end`, so nothing zeroes 16 KiB for the 8 bytes of a `.go-version`.
///
/// A *small* reader (a few hundred bytes, [`LineReader::small`]) never moves or cuts a line:
/// it holds the file from its first byte, and where the 16 KiB reader would move or cut a
/// line it fails with [`GROW`]; [`LineReader::grown`] then hands what it read to a 16 KiB
/// reader, which reads the lines again from the first. Lines depend only on the bytes, so
/// the answer is the 16 KiB reader's; a version file then costs no stack page for the big
/// buffer (the stack probes of a 16 KiB frame touch all four of its pages).
pub struct LineReader<const N: usize = READ_BUF> {
    fd: Fd,
    buf: [MaybeUninit<u8>; N],
    start: usize,
    end: usize,
    eof: bool,
    number: u32,
    skip_rest_of_line: bool,
    small: bool,
    /// Bytes still to be read before [`TOO_LONG`].
    left: usize,
}

impl LineReader {
    pub fn new(fd: Fd) -> LineReader {
        LineReader::with(fd, false)
    }
}

impl<const N: usize> LineReader<N> {
    /// A reader of `N` bytes that fails with [`GROW`] rather than move or cut a line.
    pub fn small(fd: Fd) -> LineReader<N> {
        LineReader::with(fd, true)
    }

    fn with(fd: Fd, small: bool) -> LineReader<N> {
        LineReader {
            fd,
            buf: [const { MaybeUninit::uninit() }; N],
            start: 0,
            end: 0,
            eof: false,
            number: 0,
            skip_rest_of_line: false,
            small,
            left: usize::MAX,
        }
    }

    /// Reads at most `bytes` bytes of the file; past them, [`TOO_LONG`] instead of a line.
    pub fn limit(mut self, bytes: usize) -> Self {
        self.left = bytes;
        self
    }

    /// The 16 KiB reader that takes over from a small one after [`GROW`]: the bytes read so
    /// far (the file's first ones), to be read as lines again from the first.
    pub fn grown(self) -> LineReader {
        debug_assert!(self.small);
        let LineReader {
            fd,
            buf,
            end,
            eof,
            left,
            ..
        } = self;
        let mut big = LineReader::new(fd).limit(left);
        big.buf[..end].copy_from_slice(&buf[..end]);
        big.end = end;
        big.eof = eof;
        big
    }

    /// `buf[s..e]`, which `read` has filled (`e <= end`).
    fn filled(&self, s: usize, e: usize) -> &[u8] {
        debug_assert!(s <= e && e <= self.end);
        // SAFETY: `buf[..end]` has been written by `read`.
        unsafe { core::slice::from_raw_parts(self.buf.as_ptr().add(s).cast(), e - s) }
    }

    pub fn next_line(&mut self) -> Result<Option<Line<'_>>, i32> {
        loop {
            if let Some(pos) = self.filled(self.start, self.end).iter().position(|&c| c == b'\n') {
                let (s, e) = (self.start, self.start + pos);
                self.start = e + 1;
                if core::mem::take(&mut self.skip_rest_of_line) {
                    continue;
                }
                return Ok(Some(self.make_line(s, e, false)));
            }
            if self.eof {
                if self.start < self.end && !self.skip_rest_of_line {
                    let (s, e) = (self.start, self.end);
                    self.start = self.end;
                    return Ok(Some(self.make_line(s, e, false)));
                }
                return Ok(None);
            }
            // A small reader is full: the 16 KiB one decides whether this line is cut.
            if self.small && self.end == N {
                return Err(GROW);
            }
            // The rest of a cut line, with no newline yet: dropped unread, never handed out
            // as a line of its own (a piece of a long comment could read as a `go` line).
            if self.skip_rest_of_line {
                self.start = 0;
                self.end = 0;
            }
            if self.start > 0 && !self.small {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            }
            if self.end == self.buf.len() {
                // A line longer than the buffer: hand out what we have, skip the rest.
                self.start = self.end;
                self.skip_rest_of_line = true;
                return Ok(Some(self.make_line(0, N, true)));
            }
            if self.left == 0 {
                return Err(TOO_LONG);
            }
            let free = &mut self.buf[self.end..];
            let n = self.fd.read_into(free.as_mut_ptr().cast(), free.len().min(self.left))?;
            if n == 0 {
                self.eof = true;
            } else {
                self.end += n;
                self.left -= n;
            }
        }
    }

    fn make_line(&mut self, s: usize, e: usize, truncated: bool) -> Line<'_> {
        self.number += 1;
        let mut text = self.filled(s, e);
        if self.number == 1 {
            text = text.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(text);
        }
        Line {
            number: self.number,
            text,
            truncated,
        }
    }
}

pub fn trim(mut s: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = s {
        if first.is_ascii_whitespace() || *first == 0x0b {
            s = rest;
        } else {
            break;
        }
    }
    while let [rest @ .., last] = s {
        if last.is_ascii_whitespace() || *last == 0x0b {
            s = rest;
        } else {
            break;
        }
    }
    s
}

/// A version request found in a file: the text (borrowed into `out`) and its line.
pub struct Found {
    pub line: u32,
    pub len: usize,
    pub truncated: bool,
}

/// `.go-version`: the first line that is neither empty nor a `#` comment, trimmed.
/// `Ok(None)` means the file holds no version at all.
pub fn read_go_version<const N: usize>(reader: &mut LineReader<N>, out: &mut [u8]) -> Result<Option<Found>, i32> {
    while let Some(line) = reader.next_line()? {
        let text = trim(line.text);
        if text.is_empty() || text[0] == b'#' {
            continue;
        }
        return Ok(Some(copy_found(line.number, text, line.truncated, out)));
    }
    Ok(None)
}

/// `.tool-versions` (asdf, mise): the first version on a `golang` or `go` line.
/// `Ok(None)` means the file does not mention Go, so it does not pin anything.
pub fn read_tool_versions<const N: usize>(reader: &mut LineReader<N>, out: &mut [u8]) -> Result<Option<Found>, i32> {
    while let Some(line) = reader.next_line()? {
        let text = trim(strip_hash_comment(line.text));
        let mut words = text.split(|c| c.is_ascii_whitespace()).filter(|w| !w.is_empty());
        let Some(tool) = words.next() else { continue };
        if tool != b"golang" && tool != b"go" {
            continue;
        }
        let version = words.next().unwrap_or(b"");
        return Ok(Some(copy_found(line.number, version, line.truncated, out)));
    }
    Ok(None)
}

fn strip_hash_comment(s: &[u8]) -> &[u8] {
    match s.iter().position(|&c| c == b'#') {
        Some(i) => &s[..i],
        None => s,
    }
}

fn copy_found(line: u32, text: &[u8], truncated: bool, out: &mut [u8]) -> Found {
    let len = text.len().min(out.len());
    out[..len].copy_from_slice(&text[..len]);
    Found {
        line,
        len,
        truncated: truncated || len < text.len(),
    }
}

/// The `go` and `toolchain` directives of a go.mod or go.work file.
#[derive(Default)]
pub struct GoDirectives {
    pub go: Option<Found>,
    pub toolchain: Option<Found>,
}

/// Finds the first top-level `go` and `toolchain` lines, stopping once both are seen.
/// Values land in `go_out` / `toolchain_out`, with `//` comments and white space removed.
pub fn read_go_directives(
    reader: &mut LineReader,
    go_out: &mut [u8],
    toolchain_out: &mut [u8],
) -> Result<GoDirectives, i32> {
    let mut found = GoDirectives::default();
    let mut in_block = false;
    while let Some(line) = reader.next_line()? {
        let text = trim(strip_line_comment(line.text));
        if in_block {
            // A block such as `require (` ends at a line that starts with `)`.
            in_block = !text.starts_with(b")");
            continue;
        }
        if text.ends_with(b"(") {
            in_block = true;
        } else if found.go.is_none() && has_key(text, b"go") {
            found.go = Some(copy_found(line.number, trim(&text[2..]), line.truncated, go_out));
        } else if found.toolchain.is_none() && has_key(text, b"toolchain") {
            found.toolchain = Some(copy_found(line.number, trim(&text[9..]), line.truncated, toolchain_out));
        }
        if found.go.is_some() && found.toolchain.is_some() {
            break;
        }
    }
    Ok(found)
}

/// `key` followed by a space or tab, as in `gover.GoModLookup`.
fn has_key(line: &[u8], key: &[u8]) -> bool {
    line.len() > key.len() && line.starts_with(key) && matches!(line[key.len()], b' ' | b'\t')
}

fn strip_line_comment(s: &[u8]) -> &[u8] {
    match s.windows(2).position(|w| w == b"//") {
        Some(i) => &s[..i],
        None => s,
    }
}

/// Opens `path` for reading line by line (at most [`GO_FILE_LIMIT`] bytes of it).
pub fn open_lines(path: &PathBuf) -> Result<LineReader, i32> {
    Ok(LineReader::new(Fd::open_read(path)?).limit(GO_FILE_LIMIT))
}
