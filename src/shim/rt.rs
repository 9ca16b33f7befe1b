//! The shim's own process start and the memory functions the compiler calls, for a static
//! binary linked without any C runtime (build.rs links it so on Linux x86_64 and aarch64).
//!
//! The C runtime is what made a static shim allocate before `main` (glibc's start-up calls
//! `malloc`), and its dynamic twin is what makes a dynamic shim slow (the loader maps and
//! relocates libc). Without either, the kernel jumps to `_start`, which hands the initial
//! stack (argc, argv, envp) to `main` and exits with its status. No TLS, no `errno`, no
//! allocator: the system calls are in `resolve/os.rs`.

use core::ffi::{c_char, c_int};

use crate::resolve::os;

#[cfg(target_arch = "x86_64")]
core::arch::global_asm!(
    ".globl _start",
    ".type _start,@function",
    "_start:",
    // The outermost frame: no return address, a 16-byte aligned stack for the call.
    "xor ebp, ebp",
    "mov rdi, rsp",
    "and rsp, -16",
    "call {entry}",
    "ud2",
    entry = sym start,
);

#[cfg(target_arch = "aarch64")]
core::arch::global_asm!(
    ".globl _start",
    ".type _start,%function",
    "_start:",
    "mov x29, xzr",
    "mov x30, xzr",
    "mov x0, sp",
    "bl {entry}",
    "brk #0",
    entry = sym start,
);

/// Reads the initial process stack the kernel built: `argc`, then `argv[argc]` and a NULL,
/// then `envp` up to a NULL.
unsafe extern "C" fn start(sp: *const usize) -> ! {
    unsafe {
        let argc = *sp;
        let argv = sp.add(1) as *const *const c_char;
        let envp = argv.add(argc + 1);
        os::exit(crate::main(argc as c_int, argv, envp))
    }
}

// The functions below are what the compiler emits calls to for copies, fills and compares
// (and `core::ffi::CStr` for `strlen`). The crate is `no_builtins`, so these loops are not
// turned back into calls to themselves.

/// # Safety
/// As C's `memcpy`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memcpy(dest: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    unsafe { copy_forward(dest, src, n) };
    dest
}

/// # Safety
/// As C's `memmove`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memmove(dest: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    if (dest as usize).wrapping_sub(src as usize) >= n {
        // No overlap that a forward copy would trample.
        unsafe { copy_forward(dest, src, n) };
    } else {
        let mut i = n;
        while i > 0 {
            i -= 1;
            unsafe { *dest.add(i) = *src.add(i) };
        }
    }
    dest
}

/// # Safety
/// As C's `memset`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memset(dest: *mut u8, c: c_int, n: usize) -> *mut u8 {
    #[cfg(target_arch = "x86_64")]
    unsafe {
        // `rep stosb` is the fast fill on every x86_64 with ERMSB; the shim zeroes 16 KiB
        // buffers.
        core::arch::asm!(
            "rep stosb",
            inout("rdi") dest => _, inout("rcx") n => _, in("al") c as u8,
            options(nostack, preserves_flags),
        );
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let word = usize::from_ne_bytes([c as u8; core::mem::size_of::<usize>()]);
        let mut i = 0;
        while i < n && (dest as usize + i) % core::mem::size_of::<usize>() != 0 {
            unsafe { *dest.add(i) = c as u8 };
            i += 1;
        }
        while i + core::mem::size_of::<usize>() <= n {
            unsafe { (dest.add(i) as *mut usize).write(word) };
            i += core::mem::size_of::<usize>();
        }
        while i < n {
            unsafe { *dest.add(i) = c as u8 };
            i += 1;
        }
    }
    dest
}

/// # Safety
/// As C's `memcmp`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> c_int {
    for i in 0..n {
        let (x, y) = unsafe { (*a.add(i), *b.add(i)) };
        if x != y {
            return x as c_int - y as c_int;
        }
    }
    0
}

/// # Safety
/// As C's `bcmp`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> c_int {
    unsafe { memcmp(a, b, n) }
}

/// # Safety
/// As C's `strlen`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strlen(s: *const c_char) -> usize {
    const W: usize = core::mem::size_of::<usize>();
    const ONES: usize = usize::from_ne_bytes([0x01; W]);
    const HIGHS: usize = usize::from_ne_bytes([0x80; W]);
    let mut n = 0;
    // Byte by byte to a word boundary, then a word at a time: the shim measures every
    // environment entry it reads, and a `PATH` is hundreds of bytes. The last word read may
    // hold bytes past the NUL: outside the string in Rust's model, as in every C library's
    // strlen, but an aligned word never crosses a page, so the read cannot fault.
    while !(s as usize + n).is_multiple_of(W) {
        if unsafe { *s.add(n) } == 0 {
            return n;
        }
        n += 1;
    }
    loop {
        let w = unsafe { (s.add(n) as *const usize).read() };
        if w.wrapping_sub(ONES) & !w & HIGHS != 0 {
            break;
        }
        n += W;
    }
    while unsafe { *s.add(n) } != 0 {
        n += 1;
    }
    n
}

unsafe fn copy_forward(dest: *mut u8, src: *const u8, n: usize) {
    // Most copies are a path component or a short path: two overlapping word moves (all loads
    // before the stores) beat `rep movsb`'s start-up, which the shim paid about 80 times a call.
    if n <= 16 {
        unsafe { copy_short(dest, src, n) };
        return;
    }
    #[cfg(target_arch = "x86_64")]
    unsafe {
        core::arch::asm!(
            "rep movsb",
            inout("rdi") dest => _, inout("rsi") src => _, inout("rcx") n => _,
            options(nostack, preserves_flags),
        );
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        const W: usize = core::mem::size_of::<usize>();
        let mut i = 0;
        if (dest as usize) % W == (src as usize) % W {
            while i < n && (dest as usize + i) % W != 0 {
                unsafe { *dest.add(i) = *src.add(i) };
                i += 1;
            }
            while i + W <= n {
                unsafe { (dest.add(i) as *mut usize).write((src.add(i) as *const usize).read()) };
                i += W;
            }
        }
        while i < n {
            unsafe { *dest.add(i) = *src.add(i) };
            i += 1;
        }
    }
}

/// `n <= 16` bytes, each read before any is written.
#[inline(always)]
unsafe fn copy_short(dest: *mut u8, src: *const u8, n: usize) {
    unsafe {
        if n >= 8 {
            let (a, b) = (
                (src as *const u64).read_unaligned(),
                (src.add(n - 8) as *const u64).read_unaligned(),
            );
            (dest as *mut u64).write_unaligned(a);
            (dest.add(n - 8) as *mut u64).write_unaligned(b);
        } else if n >= 4 {
            let (a, b) = (
                (src as *const u32).read_unaligned(),
                (src.add(n - 4) as *const u32).read_unaligned(),
            );
            (dest as *mut u32).write_unaligned(a);
            (dest.add(n - 4) as *mut u32).write_unaligned(b);
        } else if n > 0 {
            // 1 to 3 bytes: the first, the middle and the last (some the same).
            let (a, b, c) = (*src, *src.add(n / 2), *src.add(n - 1));
            *dest = a;
            *dest.add(n / 2) = b;
            *dest.add(n - 1) = c;
        }
    }
}
