//! The few system calls the resolver needs, on fixed buffers: no heap, no `std`.

use core::ffi::c_char;
use core::mem::MaybeUninit;

use super::os;

/// Longest path the resolver handles (Linux `PATH_MAX`, including the NUL).
pub const PATH_CAP: usize = 4096;

/// Paths shorter than this live in the `PathBuf` itself; longer ones in a mapping of their own.
const INLINE_CAP: usize = 256;

/// A NUL-terminated path of up to `PATH_CAP` bytes, with no heap.
///
/// Almost every path is short, so it is held inline in 256 bytes; a longer one moves to an
/// anonymous mapping of `PATH_CAP` bytes (unmapped on drop), no heap allocation either. The
/// resolver keeps a dozen of these on the stack at once, and every stack page the shim
/// touches is a page fault (about 1-2 us each): at 4 KiB each, every path cost one; at 512
/// bytes the deepest call reached 16 KiB, at 256 it reaches 8.
/// The inline bytes are uninitialised past the NUL. Invariant: `len < PATH_CAP`, the bytes
/// `..=len` of the active buffer (`spill` if not null, else `inline`) are initialised, and
/// the byte at `len` is the NUL.
pub struct PathBuf {
    len: usize,
    spill: *mut u8,
    inline: [MaybeUninit<u8>; INLINE_CAP],
}

// SAFETY: the mapping `spill` points to is owned by this value alone, like a `Box`.
unsafe impl Send for PathBuf {}
// SAFETY: shared access only reads.
unsafe impl Sync for PathBuf {}

impl Default for PathBuf {
    fn default() -> Self {
        let mut p = PathBuf {
            len: 0,
            spill: core::ptr::null_mut(),
            inline: [const { MaybeUninit::uninit() }; INLINE_CAP],
        };
        p.inline[0] = MaybeUninit::new(0);
        p
    }
}

impl Clone for PathBuf {
    /// Copies the path and its NUL only.
    fn clone(&self) -> Self {
        let mut p = PathBuf::default();
        if p.reserve(self.len + 1).is_none() {
            // No memory for a long path's mapping: what a copy of a path too long would get.
            return p;
        }
        // SAFETY: the active buffers hold `len + 1` initialised bytes / room for them.
        unsafe { core::ptr::copy_nonoverlapping(self.base(), p.base_mut(), self.len + 1) };
        p.len = self.len;
        p
    }
}

impl Drop for PathBuf {
    fn drop(&mut self) {
        if !self.spill.is_null() {
            unmap(self.spill);
        }
    }
}

// Long paths are rare: their mapping code stays out of every function that builds a path.
#[cold]
#[inline(never)]
fn unmap(spill: *mut u8) {
    os::munmap(spill, PATH_CAP);
}

impl PathBuf {
    pub fn from_bytes(bytes: &[u8]) -> Option<PathBuf> {
        let mut p = PathBuf::default();
        p.set(bytes)?;
        Some(p)
    }

    fn base(&self) -> *const u8 {
        if self.spill.is_null() {
            self.inline.as_ptr().cast()
        } else {
            self.spill
        }
    }

    fn base_mut(&mut self) -> *mut u8 {
        if self.spill.is_null() {
            self.inline.as_mut_ptr().cast()
        } else {
            self.spill
        }
    }

    /// Room for `bytes` bytes (the NUL included), moving to a mapping past the inline buffer.
    fn reserve(&mut self, bytes: usize) -> Option<()> {
        if bytes <= INLINE_CAP || !self.spill.is_null() {
            return Some(());
        }
        self.move_to_mapping()
    }

    /// Moves the path to a mapping of `PATH_CAP` bytes (see [`unmap`] for why out of line).
    #[cold]
    #[inline(never)]
    fn move_to_mapping(&mut self) -> Option<()> {
        let spill = os::mmap_anon(PATH_CAP).ok()?;
        // SAFETY: the inline buffer holds `len + 1` initialised bytes; the mapping PATH_CAP.
        unsafe { core::ptr::copy_nonoverlapping(self.inline.as_ptr().cast(), spill, self.len + 1) };
        self.spill = spill;
        Some(())
    }

    /// The room of the active buffer.
    fn capacity(&self) -> usize {
        if self.spill.is_null() { INLINE_CAP } else { PATH_CAP }
    }

    pub fn as_bytes(&self) -> &[u8] {
        // SAFETY: the first `len` bytes of the active buffer are initialised (the invariant).
        unsafe { core::slice::from_raw_parts(self.base(), self.len) }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn as_ptr(&self) -> *const c_char {
        self.base().cast()
    }

    pub fn clear(&mut self) {
        self.len = 0;
        // SAFETY: every buffer has room for the NUL.
        unsafe { *self.base_mut() = 0 };
    }

    pub fn set(&mut self, bytes: &[u8]) -> Option<()> {
        self.clear();
        self.extend(bytes)
    }

    /// Appends raw bytes (no separator). `None` if it would not fit, or the bytes hold a NUL.
    pub fn extend(&mut self, bytes: &[u8]) -> Option<()> {
        let end = self.len + bytes.len();
        if end >= PATH_CAP || has_nul(bytes) {
            return None;
        }
        self.reserve(end + 1)?;
        // SAFETY: `end + 1` bytes fit the active buffer now.
        unsafe {
            let base = self.base_mut();
            core::ptr::copy_nonoverlapping(bytes.as_ptr(), base.add(self.len), bytes.len());
            *base.add(end) = 0;
        }
        self.len = end;
        Some(())
    }

    /// Appends `/name`, avoiding a doubled slash after the root.
    /// `None`, and the path left as it was, if it would not fit or `name` holds a NUL.
    // One copy for every caller: inlined, each path built took its own lines of code.
    #[inline(never)]
    pub fn push(&mut self, name: &[u8]) -> Option<()> {
        let slash = self.as_bytes().last() != Some(&b'/');
        let start = self.len + usize::from(slash);
        let end = start + name.len();
        if end >= PATH_CAP || has_nul(name) {
            return None;
        }
        self.reserve(end + 1)?;
        // SAFETY: `end + 1` bytes fit the active buffer now.
        unsafe {
            let base = self.base_mut();
            if slash {
                *base.add(self.len) = b'/';
            }
            core::ptr::copy_nonoverlapping(name.as_ptr(), base.add(start), name.len());
            *base.add(end) = 0;
        }
        self.len = end;
        Some(())
    }

    pub fn truncate(&mut self, len: usize) {
        if len < self.len {
            self.len = len;
            // SAFETY: `len` is within the initialised part of the active buffer.
            unsafe { *self.base_mut().add(len) = 0 };
        }
    }

    /// Drops the last component; returns false at the root.
    pub fn pop(&mut self) -> bool {
        let bytes = self.as_bytes();
        if bytes.len() <= 1 {
            return false;
        }
        let cut = bytes.iter().rposition(|&c| c == b'/').unwrap_or(0);
        self.truncate(if cut == 0 { 1 } else { cut });
        true
    }

    /// The last path component.
    pub fn file_name(&self) -> &[u8] {
        let bytes = self.as_bytes();
        match bytes.iter().rposition(|&c| c == b'/') {
            Some(i) => &bytes[i + 1..],
            None => bytes,
        }
    }
}

/// A path kept in an anonymous mapping of its own, never inline: the one an [`Error`] names.
/// Every `Result` of the resolver carries its error up the stack, and 256 inline bytes in
/// each of those slots made the shim's deepest stack, and the pages it faults in, larger on
/// every call, for a value almost no call makes. Empty when the mapping cannot be made
/// (ENOMEM): the error and its refusal stand, but its message then names no file and may
/// word its fix as for an error without one.
///
/// [`Error`]: super::Error
pub struct MappedPath {
    len: usize,
    /// `PATH_CAP` bytes, the first `len + 1` initialised (NUL-terminated); null when empty.
    map: *mut u8,
}

// SAFETY: the mapping is owned by this value alone, like a `Box`.
unsafe impl Send for MappedPath {}
// SAFETY: shared access only reads.
unsafe impl Sync for MappedPath {}

impl Drop for MappedPath {
    fn drop(&mut self) {
        if !self.map.is_null() {
            unmap(self.map);
        }
    }
}

impl MappedPath {
    pub const fn new() -> MappedPath {
        MappedPath {
            len: 0,
            map: core::ptr::null_mut(),
        }
    }

    #[cold]
    #[inline(never)]
    pub fn from_bytes(bytes: &[u8]) -> MappedPath {
        let mut p = MappedPath::new();
        let _ = p.set(bytes);
        p
    }

    /// `None` (and left as it was) if `bytes` do not fit a path, hold a NUL, or no mapping can
    /// be made.
    #[cold]
    #[inline(never)]
    pub fn set(&mut self, bytes: &[u8]) -> Option<()> {
        if bytes.len() >= PATH_CAP || has_nul(bytes) {
            return None;
        }
        if self.map.is_null() {
            if bytes.is_empty() {
                self.len = 0;
                return Some(());
            }
            self.map = os::mmap_anon(PATH_CAP).ok()?;
        }
        // SAFETY: the mapping holds PATH_CAP bytes, more than `bytes.len() + 1`.
        unsafe {
            core::ptr::copy_nonoverlapping(bytes.as_ptr(), self.map, bytes.len());
            *self.map.add(bytes.len()) = 0;
        }
        self.len = bytes.len();
        Some(())
    }

    pub fn as_bytes(&self) -> &[u8] {
        if self.map.is_null() {
            return &[];
        }
        // SAFETY: the first `len` bytes of the mapping are initialised.
        unsafe { core::slice::from_raw_parts(self.map, self.len) }
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The path in a [`PathBuf`], for the calls that take one.
    pub fn to_path_buf(&self) -> PathBuf {
        PathBuf::from_bytes(self.as_bytes()).unwrap_or_default()
    }
}

impl Default for MappedPath {
    fn default() -> MappedPath {
        MappedPath::new()
    }
}

/// Whether `bytes` holds a NUL, eight bytes at a time: every path the shim builds is checked,
/// and a byte-by-byte scan was the largest share of the instructions it runs per call.
fn has_nul(bytes: &[u8]) -> bool {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        let w = u64::from_ne_bytes([word[0], word[1], word[2], word[3], word[4], word[5], word[6], word[7]]);
        // Sets a byte's high bit for each zero byte (and never without one).
        if w.wrapping_sub(ONES) & !w & HIGHS != 0 {
            return true;
        }
    }
    words.remainder().contains(&0)
}

/// The identity of a file: device and inode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileId {
    pub dev: u64,
    pub ino: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    File,
    Dir,
    /// A symbolic link (only [`lstat`] reports one).
    Link,
    Other,
}

#[derive(Clone, Copy, Debug)]
pub struct Meta {
    pub id: FileId,
    pub kind: FileKind,
    pub mode: u32,
    /// The owner's user id.
    pub uid: u32,
}

// The casts are no-ops on Linux but not on macOS, where `st_dev` is `i32` and `st_mode` `u16`.
#[allow(clippy::unnecessary_cast)]
pub fn meta_of(st: &libc::stat) -> Meta {
    let fmt = st.st_mode & libc::S_IFMT;
    let kind = if fmt == libc::S_IFREG {
        FileKind::File
    } else if fmt == libc::S_IFDIR {
        FileKind::Dir
    } else if fmt == libc::S_IFLNK {
        FileKind::Link
    } else {
        FileKind::Other
    };
    Meta {
        id: FileId {
            dev: st.st_dev as u64,
            ino: st.st_ino as u64,
        },
        kind,
        mode: st.st_mode as u32,
        uid: st.st_uid as u32,
    }
}

/// `stat(2)`, following links. `Err(errno)` on failure.
// Out of line, as the two below: the kernel's 144-byte `struct stat` then takes stack only for
// the call, not in the frame of every function that asks for a `Meta`.
#[inline(never)]
pub fn stat(path: &PathBuf) -> Result<Meta, i32> {
    os::stat_of(path.as_ptr()).map(|st| meta_of(&st))
}

/// `lstat(2)`: a symbolic link itself. `Err(errno)` on failure.
#[inline(never)]
pub fn lstat(path: &PathBuf) -> Result<Meta, i32> {
    os::lstat_of(path.as_ptr()).map(|st| meta_of(&st))
}

#[inline(never)]
pub fn fstat(fd: i32) -> Result<Meta, i32> {
    os::fstat_of(fd).map(|st| meta_of(&st))
}

pub fn is_executable(path: &PathBuf) -> bool {
    os::access(path.as_ptr(), libc::X_OK).is_ok()
}

/// `readlink(2)` into `out`; `Err(errno)` if it is not a link or cannot be read.
pub fn readlink(path: &PathBuf, out: &mut PathBuf) -> Result<(), i32> {
    loop {
        let room = out.capacity() - 1;
        let n = os::readlink(path.as_ptr(), out.base_mut(), room)?;
        if n < room {
            // The kernel wrote the first `n` bytes.
            // SAFETY: `n < room`, within the active buffer.
            unsafe { *out.base_mut().add(n) = 0 };
            out.len = n;
            return Ok(());
        }
        if out.capacity() == PATH_CAP {
            out.clear();
            return Err(libc::ENAMETOOLONG);
        }
        // Perhaps cut: read it again into the full-size buffer.
        out.reserve(PATH_CAP).ok_or(libc::ENOMEM)?;
    }
}

/// [`getcwd`] into the buffer `out` has now, never a bigger one: `Err(ERANGE)` if it is too small.
pub fn getcwd_inline(out: &mut PathBuf) -> Result<(), i32> {
    os::getcwd(out.base_mut(), out.capacity()).inspect_err(|_| out.clear())?;
    out.set_len_to_nul();
    Ok(())
}

pub fn getcwd(out: &mut PathBuf) -> Result<(), i32> {
    loop {
        match os::getcwd(out.base_mut(), out.capacity()) {
            // Too long for the inline buffer: again, into the full-size one.
            Err(libc::ERANGE) if out.capacity() < PATH_CAP => out.reserve(PATH_CAP).ok_or(libc::ENOMEM)?,
            Err(e) => return Err(e),
            Ok(()) => break,
        }
    }
    out.set_len_to_nul();
    Ok(())
}

impl PathBuf {
    /// After `getcwd` wrote a NUL-terminated path that fits: the length up to its NUL.
    fn set_len_to_nul(&mut self) {
        let base = self.base();
        // SAFETY: every byte before and at the NUL was written by getcwd.
        self.len = (0..self.capacity())
            .find(|&i| unsafe { *base.add(i) } == 0)
            .unwrap_or(0);
        if self.len == 0 {
            self.clear();
        }
    }
}

/// An open file descriptor, closed on drop.
pub struct Fd(pub i32);

impl Fd {
    /// Opens for reading. A FIFO is refused with `ENXIO` ("not a regular file"): opening it
    /// (`O_NONBLOCK`, so the open cannot wait for a writer) succeeds, but reading it could
    /// block every `go` command forever.
    pub fn open_read(path: &PathBuf) -> Result<Fd, i32> {
        Fd::open_read_meta(path).map(|(fd, _)| fd)
    }

    /// [`Fd::open_read`], with what its `fstat` found, so the caller need not ask again.
    pub fn open_read_meta(path: &PathBuf) -> Result<(Fd, Meta), i32> {
        let flags = libc::O_RDONLY | libc::O_CLOEXEC | libc::O_NONBLOCK;
        let fd = Fd(os::open(path.as_ptr(), flags)?);
        let st = os::fstat_of(fd.0)?;
        if st.st_mode & libc::S_IFMT == libc::S_IFIFO {
            return Err(libc::ENXIO);
        }
        Ok((fd, meta_of(&st)))
    }

    pub fn open_dir(path: &PathBuf) -> Result<Fd, i32> {
        os::open(path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC | libc::O_DIRECTORY).map(Fd)
    }

    /// Reads up to `buf.len()` bytes, retrying on EINTR.
    pub fn read(&self, buf: &mut [u8]) -> Result<usize, i32> {
        self.read_into(buf.as_mut_ptr(), buf.len())
    }

    /// [`Fd::read`] into memory that need not be initialised (`len` writable bytes at `buf`).
    pub fn read_into(&self, buf: *mut u8, len: usize) -> Result<usize, i32> {
        loop {
            match os::read(self.0, buf, len) {
                Err(libc::EINTR) => continue,
                result => return result,
            }
        }
    }
}

impl Drop for Fd {
    fn drop(&mut self) {
        os::close(self.0);
    }
}

/// Calls `f` with the name of each entry of the directory `dir` (dot entries included),
/// reading with `getdents64` into a stack buffer.
#[cfg(target_os = "linux")]
pub fn for_each_dir_entry(dir: &PathBuf, mut f: impl FnMut(&[u8])) -> Result<(), i32> {
    let fd = Fd::open_dir(dir)?;
    // Room for a few entries per call (one needs at most 280 bytes); a frame under a page
    // needs no stack probe.
    let mut buf = [0u8; 2048];
    loop {
        let n = os::getdents64(fd.0, buf.as_mut_ptr(), buf.len())?;
        if n == 0 {
            return Ok(());
        }
        let mut off = 0;
        // struct linux_dirent64 { u64 d_ino; i64 d_off; u16 d_reclen; u8 d_type; char d_name[]; }
        while off + 19 <= n {
            let reclen = u16::from_ne_bytes([buf[off + 16], buf[off + 17]]) as usize;
            if reclen == 0 || off + reclen > n {
                break;
            }
            let name = &buf[off + 19..off + reclen];
            let name_len = name.iter().position(|&c| c == 0).unwrap_or(name.len());
            f(&name[..name_len]);
            off += reclen;
        }
    }
}

/// Non-Linux fallback: `opendir` may allocate in libc, so the shim's no-heap guarantee is
/// only tested and promised on Linux.
#[cfg(not(target_os = "linux"))]
pub fn for_each_dir_entry(dir: &PathBuf, mut f: impl FnMut(&[u8])) -> Result<(), i32> {
    let d = unsafe { libc::opendir(dir.as_ptr()) };
    if d.is_null() {
        return Err(os::errno());
    }
    loop {
        let e = unsafe { libc::readdir(d) };
        if e.is_null() {
            break;
        }
        let name = unsafe { core::ffi::CStr::from_ptr((*e).d_name.as_ptr()) };
        f(name.to_bytes());
    }
    unsafe { libc::closedir(d) };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_path_holds_any_path_that_fits_and_refuses_the_rest_unchanged() {
        let empty = MappedPath::new();
        assert!(empty.is_empty());
        assert_eq!(empty.as_bytes(), b"");

        let mut p = MappedPath::from_bytes(b"/home/me/project/.go-version");
        assert_eq!(p.as_bytes(), b"/home/me/project/.go-version");
        assert_eq!(p.to_path_buf().as_bytes(), p.as_bytes());

        let longest = [b'a'; PATH_CAP - 1];
        assert!(p.set(&longest).is_some());
        assert_eq!(p.as_bytes(), &longest[..]);
        assert!(
            p.set(&[b'a'; PATH_CAP]).is_none(),
            "a path of PATH_CAP bytes has no room for its NUL"
        );
        assert!(p.set(b"/a\0b").is_none());
        assert_eq!(p.as_bytes(), &longest[..], "a refused path leaves the old one");

        assert!(p.set(b"").is_some());
        assert!(p.is_empty());
        assert!(MappedPath::from_bytes(b"/x\0").is_empty());
    }
}
