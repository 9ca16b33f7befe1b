//! The system calls under the resolver and the shim, each returning `Err(errno)` directly.
//!
//! On Linux x86_64 and aarch64 they are raw `syscall`/`svc` instructions: no libc, no global
//! `errno`, so the shim can be a static binary with no C runtime at all (the C runtime's
//! start-up allocates, see build.rs) and the CLI runs the very same code. Elsewhere they are
//! the libc functions.

use core::ffi::c_char;

pub use libc::stat as Stat;

#[cfg(all(target_os = "linux", any(target_arch = "x86_64", target_arch = "aarch64")))]
mod imp {
    use core::arch::asm;
    use core::ffi::c_char;

    /// A system call with up to six arguments; the kernel returns `-errno` on failure.
    ///
    /// # Safety
    /// The arguments must be valid for the call `nr`.
    #[inline(always)]
    pub unsafe fn syscall6(nr: libc::c_long, a: [usize; 6]) -> isize {
        let ret: isize;
        #[cfg(target_arch = "x86_64")]
        unsafe {
            asm!(
                "syscall",
                inlateout("rax") nr as isize => ret,
                in("rdi") a[0], in("rsi") a[1], in("rdx") a[2],
                in("r10") a[3], in("r8") a[4], in("r9") a[5],
                lateout("rcx") _, lateout("r11") _,
                options(nostack),
            );
        }
        #[cfg(target_arch = "aarch64")]
        unsafe {
            asm!(
                "svc 0",
                in("x8") nr,
                inlateout("x0") a[0] as isize => ret,
                in("x1") a[1], in("x2") a[2], in("x3") a[3], in("x4") a[4], in("x5") a[5],
                options(nostack),
            );
        }
        ret
    }

    fn check(ret: isize) -> Result<usize, i32> {
        // The kernel reports errors as -4095..=-1.
        if (-4095..0).contains(&ret) {
            Err(-ret as i32)
        } else {
            Ok(ret as usize)
        }
    }

    /// [`syscall6`] with the kernel's `-errno` turned into `Err(errno)`.
    ///
    /// # Safety
    /// As [`syscall6`].
    pub unsafe fn call(nr: libc::c_long, a: [usize; 6]) -> Result<usize, i32> {
        check(unsafe { syscall6(nr, a) })
    }

    pub fn stat(path: *const c_char, st: *mut libc::stat) -> Result<(), i32> {
        let at = libc::AT_FDCWD as isize as usize;
        unsafe { call(libc::SYS_newfstatat, [at, path as usize, st as usize, 0, 0, 0]) }.map(drop)
    }

    /// `lstat(2)`: a symbolic link itself, not what it points to.
    pub fn lstat(path: *const c_char, st: *mut libc::stat) -> Result<(), i32> {
        let at = libc::AT_FDCWD as isize as usize;
        let flags = libc::AT_SYMLINK_NOFOLLOW as usize;
        unsafe { call(libc::SYS_newfstatat, [at, path as usize, st as usize, flags, 0, 0]) }.map(drop)
    }

    pub fn geteuid() -> u32 {
        unsafe { syscall6(libc::SYS_geteuid, [0; 6]) as u32 }
    }

    pub fn fstat(fd: i32, st: *mut libc::stat) -> Result<(), i32> {
        unsafe { call(libc::SYS_fstat, [fd as usize, st as usize, 0, 0, 0, 0]) }.map(drop)
    }

    pub fn access(path: *const c_char, mode: i32) -> Result<(), i32> {
        let at = libc::AT_FDCWD as isize as usize;
        unsafe { call(libc::SYS_faccessat, [at, path as usize, mode as usize, 0, 0, 0]) }.map(drop)
    }

    pub fn readlink(path: *const c_char, buf: *mut u8, len: usize) -> Result<usize, i32> {
        let at = libc::AT_FDCWD as isize as usize;
        unsafe { call(libc::SYS_readlinkat, [at, path as usize, buf as usize, len, 0, 0]) }
    }

    pub fn getcwd(buf: *mut u8, len: usize) -> Result<(), i32> {
        unsafe { call(libc::SYS_getcwd, [buf as usize, len, 0, 0, 0, 0]) }.map(drop)
    }

    pub fn open(path: *const c_char, flags: i32) -> Result<i32, i32> {
        let at = libc::AT_FDCWD as isize as usize;
        unsafe { call(libc::SYS_openat, [at, path as usize, flags as usize, 0, 0, 0]) }.map(|fd| fd as i32)
    }

    pub fn read(fd: i32, buf: *mut u8, len: usize) -> Result<usize, i32> {
        unsafe { call(libc::SYS_read, [fd as usize, buf as usize, len, 0, 0, 0]) }
    }

    pub fn write(fd: i32, buf: *const u8, len: usize) -> Result<usize, i32> {
        unsafe { call(libc::SYS_write, [fd as usize, buf as usize, len, 0, 0, 0]) }
    }

    pub fn close(fd: i32) {
        let _ = unsafe { call(libc::SYS_close, [fd as usize, 0, 0, 0, 0, 0]) };
    }

    pub fn getdents64(fd: i32, buf: *mut u8, len: usize) -> Result<usize, i32> {
        unsafe { call(libc::SYS_getdents64, [fd as usize, buf as usize, len, 0, 0, 0]) }
    }

    pub fn mmap_anon(len: usize) -> Result<*mut u8, i32> {
        let prot = (libc::PROT_READ | libc::PROT_WRITE) as usize;
        let flags = (libc::MAP_PRIVATE | libc::MAP_ANONYMOUS) as usize;
        let minus_one = -1isize as usize;
        unsafe { call(libc::SYS_mmap, [0, len, prot, flags, minus_one, 0]) }.map(|p| p as *mut u8)
    }

    pub fn munmap(p: *mut u8, len: usize) {
        let _ = unsafe { call(libc::SYS_munmap, [p as usize, len, 0, 0, 0, 0]) };
    }

    pub fn execve(path: *const c_char, argv: *const *const c_char, envp: *const *const c_char) -> i32 {
        match unsafe { call(libc::SYS_execve, [path as usize, argv as usize, envp as usize, 0, 0, 0]) } {
            Ok(_) => 0,
            Err(e) => e,
        }
    }

    pub fn exit(code: i32) -> ! {
        loop {
            unsafe { syscall6(libc::SYS_exit_group, [code as usize, 0, 0, 0, 0, 0]) };
        }
    }

    /// Dies of SIGABRT, like `abort(3)`.
    pub fn abort() -> ! {
        unsafe {
            let pid = syscall6(libc::SYS_getpid, [0; 6]);
            syscall6(libc::SYS_kill, [pid as usize, libc::SIGABRT as usize, 0, 0, 0, 0]);
        }
        exit(134)
    }
}

#[cfg(not(all(target_os = "linux", any(target_arch = "x86_64", target_arch = "aarch64"))))]
mod imp {
    use core::ffi::c_char;

    pub fn errno() -> i32 {
        #[cfg(target_os = "linux")]
        unsafe {
            *libc::__errno_location()
        }
        #[cfg(not(target_os = "linux"))]
        unsafe {
            *libc::__error()
        }
    }

    fn check(ret: isize) -> Result<usize, i32> {
        if ret < 0 { Err(errno()) } else { Ok(ret as usize) }
    }

    pub fn stat(path: *const c_char, st: *mut libc::stat) -> Result<(), i32> {
        check(unsafe { libc::stat(path, st) } as isize).map(drop)
    }

    pub fn lstat(path: *const c_char, st: *mut libc::stat) -> Result<(), i32> {
        check(unsafe { libc::lstat(path, st) } as isize).map(drop)
    }

    pub fn geteuid() -> u32 {
        unsafe { libc::geteuid() }
    }

    pub fn fstat(fd: i32, st: *mut libc::stat) -> Result<(), i32> {
        check(unsafe { libc::fstat(fd, st) } as isize).map(drop)
    }

    pub fn access(path: *const c_char, mode: i32) -> Result<(), i32> {
        check(unsafe { libc::access(path, mode) } as isize).map(drop)
    }

    pub fn readlink(path: *const c_char, buf: *mut u8, len: usize) -> Result<usize, i32> {
        check(unsafe { libc::readlink(path, buf.cast(), len) })
    }

    pub fn getcwd(buf: *mut u8, len: usize) -> Result<(), i32> {
        if unsafe { libc::getcwd(buf.cast(), len) }.is_null() {
            Err(errno())
        } else {
            Ok(())
        }
    }

    pub fn open(path: *const c_char, flags: i32) -> Result<i32, i32> {
        check(unsafe { libc::open(path, flags) } as isize).map(|fd| fd as i32)
    }

    pub fn read(fd: i32, buf: *mut u8, len: usize) -> Result<usize, i32> {
        check(unsafe { libc::read(fd, buf.cast(), len) })
    }

    pub fn write(fd: i32, buf: *const u8, len: usize) -> Result<usize, i32> {
        check(unsafe { libc::write(fd, buf.cast(), len) })
    }

    pub fn close(fd: i32) {
        unsafe { libc::close(fd) };
    }

    #[cfg(target_os = "linux")]
    pub fn getdents64(fd: i32, buf: *mut u8, len: usize) -> Result<usize, i32> {
        check(unsafe { libc::syscall(libc::SYS_getdents64, fd, buf, len) } as isize)
    }

    pub fn mmap_anon(len: usize) -> Result<*mut u8, i32> {
        let p = unsafe {
            libc::mmap(
                core::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            Err(errno())
        } else {
            Ok(p.cast())
        }
    }

    pub fn munmap(p: *mut u8, len: usize) {
        unsafe { libc::munmap(p.cast(), len) };
    }

    pub fn execve(path: *const c_char, argv: *const *const c_char, envp: *const *const c_char) -> i32 {
        unsafe { libc::execve(path, argv, envp) };
        errno()
    }

    pub fn exit(code: i32) -> ! {
        unsafe { libc::_exit(code) }
    }

    pub fn abort() -> ! {
        unsafe { libc::abort() }
    }
}

pub use imp::*;

/// `stat(2)` into a zeroed buffer.
pub fn stat_of(path: *const c_char) -> Result<Stat, i32> {
    let mut st = core::mem::MaybeUninit::<Stat>::zeroed();
    stat(path, st.as_mut_ptr())?;
    Ok(unsafe { st.assume_init() })
}

/// `lstat(2)` into a zeroed buffer.
pub fn lstat_of(path: *const c_char) -> Result<Stat, i32> {
    let mut st = core::mem::MaybeUninit::<Stat>::zeroed();
    lstat(path, st.as_mut_ptr())?;
    Ok(unsafe { st.assume_init() })
}

/// `fstat(2)` into a zeroed buffer.
pub fn fstat_of(fd: i32) -> Result<Stat, i32> {
    let mut st = core::mem::MaybeUninit::<Stat>::zeroed();
    fstat(fd, st.as_mut_ptr())?;
    Ok(unsafe { st.assume_init() })
}
