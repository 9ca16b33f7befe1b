//! The `go` / `gofmt` shim: resolve, then `execve` the chosen toolchain.
//!
//! `no_std` and `no_main`: std's runtime start-up allocates and leaves SIGPIPE ignored for the
//! exec'd program, so this binary starts at C `main` and never links an allocator at all.
//! From process start to `execve` it uses stack buffers and raw libc calls only. It shares the
//! resolver with the CLI (`src/resolve`), so `gomig current` gives the same answer.
#![no_std]
#![no_main]
// Without a C library nothing may turn our own `memcpy` loops back into calls to `memcpy`.
#![cfg_attr(gomig_freestanding, no_builtins)]
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../resolve/mod.rs"]
#[allow(dead_code)]
mod resolve;

use core::ffi::{c_char, c_int};
use core::mem::MaybeUninit;

use resolve::message::{self, Sink, StackBuf};
use resolve::os;
use resolve::sys::{self, FileId, PathBuf};
use resolve::{Env, Resolution, Tool};

/// Fail after this many nested shim resolutions (a loop through copies of the shim).
const MAX_DEPTH: u32 = 20;
/// GOROOTs shorter than this are assembled in a small buffer, longer ones in a page-sized one.
const SHORT_GOROOT: usize = 224;

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    os::abort()
}

/// The entry point and the memory functions of a shim with no C runtime (build.rs decides).
#[cfg(gomig_freestanding)]
mod rt;

// Linked with the C runtime, the shim takes `memcpy` and friends from the C library.
#[cfg(not(gomig_freestanding))]
#[link(name = "c")]
unsafe extern "C" {}

/// The precompiled `core` refers to this symbol; with `panic = "abort"` nothing unwinds, so it
/// is never called.
#[unsafe(no_mangle)]
extern "C" fn rust_eh_personality() {}

/// Writes `gomig: <message>\n` to stderr in one `write`.
///
/// Every failure and message path is `#[cold]` and out of line: their big buffers then live in
/// frames of their own, not in the frames of the hot path, whose every page the stack probes
/// touch, and their code sits apart from the code that runs on every call.
#[cold]
#[inline(never)]
fn fail(msg: &[u8]) -> c_int {
    let mut out = StackBuf::<8192>::default();
    out.put(b"gomig: ");
    out.put(msg);
    out.put(b"\n");
    let bytes = out.as_bytes();
    let _ = os::write(2, bytes.as_ptr(), bytes.len());
    1
}

unsafe fn cstr_bytes<'a>(p: *const c_char) -> &'a [u8] {
    unsafe { core::ffi::CStr::from_ptr(p).to_bytes() }
}

fn basename(path: &[u8]) -> &[u8] {
    match path.iter().rposition(|&c| c == b'/') {
        Some(i) => &path[i + 1..],
        None => path,
    }
}

fn parse_u32(s: &[u8]) -> u32 {
    s.iter()
        .try_fold(0u32, |n, &c| {
            if c.is_ascii_digit() {
                n.checked_mul(10)?.checked_add((c - b'0') as u32)
            } else {
                None
            }
        })
        .unwrap_or(0)
}

/// Go's `os.Getwd`: `$PWD` when it is clean and names the current directory (keeps the
/// user's symlinked path), else `getcwd`. True when the path is `getcwd`'s (no link on it).
// Out of line (as `self_id`): its scratch path then takes stack only while it runs.
#[inline(never)]
fn current_dir(pwd: Option<&[u8]>, out: &mut PathBuf) -> Result<bool, i32> {
    if let Some(p) = pwd {
        let clean = resolve::is_clean_absolute(p);
        // Where `$PWD` is the physical path (no link on it), `getcwd` says so in one system
        // call: both rules give that path then, whatever the two `stat`s below would find.
        // Only into the inline buffer: a longer path is left to the rule itself (no mapping).
        if clean && sys::getcwd_inline(out).is_ok() && out.as_bytes() == p {
            return Ok(true);
        }
        if clean && out.set(p).is_some() {
            let dot = PathBuf::from_bytes(b".");
            if let (Ok(a), Some(Ok(b))) = (sys::stat(out), dot.as_ref().map(sys::stat))
                && a.id == b.id
            {
                return Ok(false);
            }
        }
    }
    sys::getcwd(out).map(|()| true)
}

/// The shim's own identity, so that it never execs itself. The file `execve` was given
/// (`AT_EXECFN`, relative to the working directory it still has) is one path lookup; the
/// `/proc/self/exe` link, the fallback, costs several times that on every call (procfs). A
/// name replaced since the `execve` could name another file: then the hop counter
/// (`GOMIG_SHIM_DEPTH`) still ends a loop.
#[inline(never)]
fn self_id(execfn: Option<&[u8]>) -> Option<FileId> {
    if let Some(id) = execfn
        .and_then(PathBuf::from_bytes)
        .and_then(|p| sys::stat(&p).ok())
        .map(|m| m.id)
    {
        return Some(id);
    }
    let exe = PathBuf::from_bytes(b"/proc/self/exe")?;
    sys::stat(&exe).ok().map(|m| m.id)
}

/// What the shim reads from the auxiliary vector the kernel put after the environment's NULL
/// on the stack it built (the `envp` both start-ups hand to `main`).
#[derive(Default)]
struct Aux<'a> {
    /// `AT_EXECFN`: the file `execve` was given.
    execfn: Option<&'a [u8]>,
    /// `AT_EUID`: the effective user id, without a system call.
    euid: Option<u32>,
    /// Pointer slots from the environment's NULL to the end of the vector: the room
    /// [`exec`] may build the child's environment in (the vector is not read again).
    slots: usize,
}

#[cfg(all(target_os = "linux", gomig_freestanding))]
fn aux<'a>(envp: *const *const c_char, env_count: usize) -> Aux<'a> {
    const AT_NULL: usize = 0;
    const AT_EUID: usize = 12;
    const AT_EXECFN: usize = 31;
    let mut found = Aux::default();
    if envp.is_null() {
        return found;
    }
    // SAFETY: the kernel puts (type, value) pairs after envp's NULL, ending with AT_NULL.
    let start = unsafe { envp.add(env_count + 1) } as *const usize;
    let mut pairs = 0;
    loop {
        let (kind, value) = unsafe { (*start.add(2 * pairs), *start.add(2 * pairs + 1)) };
        pairs += 1;
        match kind {
            AT_NULL => break,
            AT_EUID => found.euid = u32::try_from(value).ok(),
            AT_EXECFN if value != 0 => {
                let name = unsafe { cstr_bytes(value as *const c_char) };
                found.execfn = (!name.is_empty()).then_some(name);
            }
            _ => {}
        }
    }
    // The environment's own NULL, then every slot of the vector.
    found.slots = 1 + 2 * pairs;
    found
}

// With the C runtime, the C library keeps reading the vector (getauxval): left alone.
#[cfg(not(all(target_os = "linux", gomig_freestanding)))]
fn aux<'a>(_envp: *const *const c_char, _env_count: usize) -> Aux<'a> {
    Aux::default()
}

/// cmd/go's `targetEnv`: set by a switching go for the toolchain it runs.
const SWITCH_VERSION: &[u8] = b"GOTOOLCHAIN_INTERNAL_SWITCH_VERSION";

/// The release a toolchain name claims (`go1.22.10-mine` -> `go1.22.10`), as its go reports it.
fn claimed_release(name: &[u8]) -> &[u8] {
    match name.iter().position(|&c| c == b'-') {
        Some(i) => &name[..i],
        None => name,
    }
}

/// The arguments after argv[0], as byte strings.
struct Args<'a> {
    argv: *const *const c_char,
    next: usize,
    _args: core::marker::PhantomData<&'a [u8]>,
}

impl<'a> Iterator for Args<'a> {
    type Item = &'a [u8];
    fn next(&mut self) -> Option<&'a [u8]> {
        if self.argv.is_null() {
            return None;
        }
        let p = unsafe { *self.argv.add(self.next) };
        if p.is_null() {
            return None;
        }
        self.next += 1;
        Some(unsafe { cstr_bytes(p) })
    }
}

/// `KEY=value\0` assembled in a stack buffer of `N` bytes, uninitialised past the NUL.
struct EnvEntry<const N: usize> {
    buf: [MaybeUninit<u8>; N],
}

impl<const N: usize> EnvEntry<N> {
    fn new(key: &[u8], value: &[u8]) -> Option<EnvEntry<N>> {
        let mut e = EnvEntry {
            buf: [const { MaybeUninit::uninit() }; N],
        };
        let total = key.len() + 1 + value.len();
        if total >= N {
            return None;
        }
        let dst: *mut u8 = e.buf.as_mut_ptr().cast();
        // SAFETY: `total + 1 <= N` bytes are written, within `buf`.
        unsafe {
            core::ptr::copy_nonoverlapping(key.as_ptr(), dst, key.len());
            *dst.add(key.len()) = b'=';
            core::ptr::copy_nonoverlapping(value.as_ptr(), dst.add(key.len() + 1), value.len());
            *dst.add(total) = 0;
        }
        Some(e)
    }
    fn as_ptr(&self) -> *const c_char {
        self.buf.as_ptr().cast()
    }
}

fn key_of(entry: &[u8]) -> &[u8] {
    match entry.iter().position(|&c| c == b'=') {
        Some(i) => &entry[..i],
        None => entry,
    }
}

/// The C entry point: resolve, then `execve`.
///
/// # Safety
/// Called by the C runtime with `argv` and `envp` as NULL-terminated arrays of C strings.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn main(_argc: c_int, argv: *const *const c_char, envp: *const *const c_char) -> c_int {
    let arg0 = if argv.is_null() || unsafe { (*argv).is_null() } {
        &b""[..]
    } else {
        unsafe { cstr_bytes(*argv) }
    };

    // Index the environment once: slices point into envp, nothing is copied.
    let mut env = Env::default();
    let mut env_count = 0usize;
    let mut depth = 0u32;
    let mut trace = false;
    let mut force_arg0: Option<&[u8]> = None;
    let mut auto = AutoInstall::default();
    if !envp.is_null() {
        loop {
            let p = unsafe { *envp.add(env_count) };
            if p.is_null() {
                break;
            }
            env_count += 1;
            // Most of an environment is of no interest: judged by its first byte, unread.
            if !resolve::Env::may_set(unsafe { *p } as u8) {
                continue;
            }
            let entry = unsafe { cstr_bytes(p) };
            let key = key_of(entry);
            let value = entry.get(key.len() + 1..).unwrap_or(b"");
            match key {
                b"GOMIG_SHIM_DEPTH" => depth = parse_u32(value),
                b"GOMIG_SHIM_TRACE" => trace = value == b"1",
                b"GOMIG_FORCE_ARG0" if !value.is_empty() => force_arg0 = Some(value),
                b"GOMIG_AUTO_INSTALL" => auto.env_on = value == b"1",
                b"GOMIG_AUTO_INSTALLING" => auto.in_progress = !value.is_empty(),
                // The resolver's trust check reads these too (the config file's owner and mode).
                b"GOMIG_CONFIG" => {
                    auto.config = Some(value);
                    env.set(key, value);
                }
                b"XDG_CONFIG_HOME" => {
                    auto.xdg_config = Some(value);
                    env.set(key, value);
                }
                _ => env.set(key, value),
            }
        }
    }

    let called = basename(force_arg0.unwrap_or(arg0));
    let tool = match Tool::from_name(called) {
        Some(tool) => tool,
        // A toolchain's own command (`go1.22.10`), as gomig init provides one per toolchain.
        None if resolve::gotoolchain::is_toolchain_name(called) => {
            env.command_name = Some(called);
            Tool::Go
        }
        None => {
            return fail(
                b"this is gomig's shim; it runs as `go`, `gofmt` or a toolchain's name (go1.22.10) from the shims directory (see: gomig doctor)",
            );
        }
    };
    if depth >= MAX_DEPTH {
        return fail(b"shim recursion: resolved 20 times in a row without reaching a Go toolchain (a PATH loop through copies of the shim?); run: gomig doctor");
    }

    if tool == Tool::Go && !argv.is_null() && !unsafe { (*argv).is_null() } {
        env.command = resolve::gotoolchain::classify(Args {
            argv,
            next: 1,
            _args: core::marker::PhantomData,
        });
    }

    let mut cwd = PathBuf::default();
    match current_dir(env.pwd, &mut cwd) {
        Ok(physical) => env.cwd_is_working_dir = physical,
        Err(e) => return fail(match e {
            libc::ENAMETOOLONG | libc::ERANGE => {
                b"the current directory's path is longer than 4096 bytes (PATH_MAX), too long to look for a .go-version from; run go from a shorter path to it (a symbolic link will do)"
            }
            libc::EACCES | libc::EPERM => {
                b"cannot determine the current directory: a directory above it cannot be read (permission denied); cd to a directory you can read"
            }
            libc::ENOENT => b"the current directory was deleted; cd to an existing directory",
            _ => b"cannot determine the current directory; cd to an existing directory",
        }),
    }

    let aux = aux(envp, env_count);
    env.euid = aux.euid;
    // Only a shim run by a shim can be running itself in a loop (the first hop of one has
    // no GOMIG_SHIM_DEPTH): the first hop spares the `stat` of its own file, and a GOROOT
    // whose bin/go is the shim is caught, and named, one hop later.
    let own_id = if depth > 0 { self_id(aux.execfn) } else { None };
    let mut res = Resolution::new(tool);
    let here = Call {
        argv,
        envp,
        auto: &auto,
    };
    if let Err(status) = resolve_here(&env, cwd.as_bytes(), own_id, &mut res, &here) {
        return status;
    }

    // Never exec ourselves: a GOROOT whose bin/go is this very shim. The resolver's trust
    // check has usually reached the program already and knows its identity.
    if let Some(own) = own_id
        && res.exe_id.or_else(|| sys::stat(&res.exe).ok().map(|m| m.id)) == Some(own)
    {
        return fail_self(&res);
    }

    if trace {
        write_trace(&res);
    }

    exec(&res, argv, envp, env_count, aux.slots, depth)
}

/// What a failed resolution needs to report itself or hand over to auto-install.
struct Call<'a> {
    argv: *const *const c_char,
    envp: *const *const c_char,
    auto: &'a AutoInstall<'a>,
}

/// Runs the resolver; on failure reports it and returns the exit status. Out of line, so that
/// the resolver's frames and the error it may return sit below `main`'s small frame, where the
/// frames of `exec` later reuse the same stack pages.
#[inline(never)]
fn resolve_here(
    env: &Env<'_>,
    cwd: &[u8],
    own_id: Option<FileId>,
    res: &mut Resolution,
    call: &Call<'_>,
) -> Result<(), c_int> {
    match resolve::resolve(env, cwd, own_id, res) {
        Ok(()) => Ok(()),
        Err(err) => Err(resolve_failed(&err, env, res, call)),
    }
}

#[cold]
#[inline(never)]
fn resolve_failed(err: &resolve::Error, env: &Env<'_>, res: &Resolution, call: &Call<'_>) -> c_int {
    // Not for a toolchain's own command: auto-install then runs plain `go` again.
    if err.kind == resolve::ErrorKind::NotInstalled && err.source != resolve::Source::Command && call.auto.enabled(env)
    {
        // The slow, rare path: hand over to the CLI, which installs, then runs us again.
        return auto_install(&res.home, res.tool, err.value.as_bytes(), call.argv, call.envp);
    }
    fail_resolve(err, &res.home, env)
}

#[cold]
#[inline(never)]
fn fail_resolve(err: &resolve::Error, home: &PathBuf, env: &Env<'_>) -> c_int {
    let mut msg = StackBuf::<6144>::default();
    message::write_failure(err, home, env, &mut msg);
    fail(msg.as_bytes())
}

#[cold]
#[inline(never)]
fn fail_self(res: &Resolution) -> c_int {
    let mut msg = StackBuf::<6144>::default();
    msg.put(res.exe.as_bytes());
    msg.put(b" is the gomig shim itself, not a Go toolchain; reinstall ");
    msg.put(res.name.as_bytes());
    msg.put(b" (gomig install) or remove it (gomig uninstall)");
    fail(msg.as_bytes())
}

#[cold]
#[inline(never)]
fn write_trace(res: &Resolution) {
    let mut msg = StackBuf::<8192>::default();
    msg.put(b"gomig: trace: ");
    msg.put(res.source.as_str().as_bytes());
    if !res.file.is_empty() {
        msg.put(b" ");
        msg.put(res.file.as_bytes());
    }
    msg.put(b" -> ");
    msg.put(res.exe.as_bytes());
    msg.put(b"\n");
    let bytes = msg.as_bytes();
    let _ = os::write(2, bytes.as_ptr(), bytes.len());
}

/// Builds the child's environment on the stack (GOROOT replaced or removed, GOTOOLCHAIN=local
/// unless set, the hop counter bumped) and `execve`s. Out of line, so its buffers reuse the
/// stack pages the resolver already touched.
#[inline(never)]
fn exec(
    res: &Resolution,
    argv: *const *const c_char,
    envp: *const *const c_char,
    env_count: usize,
    room: usize,
    depth: u32,
) -> c_int {
    if res.goroot.len() < SHORT_GOROOT {
        exec_with::<{ SHORT_GOROOT + 32 }>(res, argv, envp, env_count, room, depth)
    } else {
        exec_long(res, argv, envp, env_count, room, depth)
    }
}

#[cold]
#[inline(never)]
fn exec_long(
    res: &Resolution,
    argv: *const *const c_char,
    envp: *const *const c_char,
    env_count: usize,
    room: usize,
    depth: u32,
) -> c_int {
    exec_with::<{ sys::PATH_CAP + 32 }>(res, argv, envp, env_count, room, depth)
}

/// [`exec`] with `GOROOT=...` assembled in `N` bytes. `room` is how many pointer slots from
/// `envp` on may be rewritten ([`Aux::slots`]).
fn exec_with<const N: usize>(
    res: &Resolution,
    argv: *const *const c_char,
    envp: *const *const c_char,
    env_count: usize,
    room: usize,
    depth: u32,
) -> c_int {
    let goroot = if res.goroot.is_empty() {
        None
    } else {
        EnvEntry::<N>::new(b"GOROOT", res.goroot.as_bytes())
    };
    if !res.goroot.is_empty() && goroot.is_none() {
        return fail(b"GOROOT path too long");
    }
    let mut depth_text = StackBuf::<12>::default();
    depth_text.put_u64(depth as u64 + 1);
    let Some(depth_entry) = EnvEntry::<32>::new(b"GOMIG_SHIM_DEPTH", depth_text.as_bytes()) else {
        return fail(b"internal error building the environment");
    };
    // GOTOOLCHAIN as the resolver says the exec'd go must see it (never a setting that lets
    // it download), and, for a toolchain it may switch from, the variable cmd/go's own switch
    // sets for its child: "you were run as this toolchain", so it does not switch again.
    let gotoolchain = if res.child_gotoolchain.is_empty() {
        None
    } else {
        EnvEntry::<112>::new(b"GOTOOLCHAIN", res.child_gotoolchain.as_bytes())
    };
    let release = claimed_release(res.name.as_bytes());
    let switched = match &gotoolchain {
        Some(_) if !release.is_empty() && res.child_gotoolchain.as_bytes() != b"local" => {
            EnvEntry::<112>::new(SWITCH_VERSION, release)
        }
        _ => None,
    };

    let needed = env_count + 5;
    // Raw pointer writes only: the array is read through `envp` while it is rewritten.
    let slots: *mut *const c_char = if needed <= env_count + room {
        // In place: the environment's own array, then the auxiliary vector after it, are
        // already on the stack the kernel built; kept entries only move down, new ones go
        // where the vector was. No stack page and no copy of the array.
        envp as *mut *const c_char
    } else {
        // No vector to build in (a C runtime): an anonymous mapping is still no heap.
        let bytes = needed * core::mem::size_of::<*const c_char>();
        let Ok(p) = os::mmap_anon(bytes) else {
            return fail(b"environment too large");
        };
        p.cast()
    };
    // SAFETY (every write below): `n < needed`, and `slots` has room for `needed` pointers.
    let put = |n: usize, p: *const c_char| unsafe { slots.add(n).write(p) };

    let mut n = 0;
    for i in 0..env_count {
        // Read before any slot at or below `i` is written (`n <= i`).
        let p = unsafe { envp.add(i).read() };
        // Every key replaced here starts with `G`: any other entry is kept unread.
        if unsafe { *p } as u8 != b'G' {
            put(n, p);
            n += 1;
            continue;
        }
        let key = key_of(unsafe { cstr_bytes(p) });
        if key == b"GOROOT"
            || key == b"GOMIG_SHIM_DEPTH"
            || (gotoolchain.is_some() && (key == b"GOTOOLCHAIN" || key == SWITCH_VERSION))
        {
            continue;
        }
        put(n, p);
        n += 1;
    }
    if let Some(g) = &goroot {
        put(n, g.as_ptr());
        n += 1;
    }
    for e in [&gotoolchain, &switched].into_iter().flatten() {
        put(n, e.as_ptr());
        n += 1;
    }
    put(n, depth_entry.as_ptr());
    n += 1;
    put(n, core::ptr::null());

    // `slots[..=n]` is written and NULL-terminated; execve reads no further.
    let e = os::execve(res.exe.as_ptr(), argv, slots.cast_const());
    fail_exec(res, e)
}

#[cold]
#[inline(never)]
fn fail_exec(res: &Resolution, e: i32) -> c_int {
    let mut msg = StackBuf::<6144>::default();
    msg.put(b"cannot run ");
    message::put_text(&mut msg, res.exe.as_bytes());
    msg.put(b": ");
    msg.put(message::errno_text(e));
    if (e == libc::EACCES || e == libc::EPERM) && !res.name.is_empty() {
        // Not broken, not missing: closed to this user.
        msg.put(b"; the toolchain ");
        msg.put(res.name.as_bytes());
        msg.put(b" is installed but its files cannot be read or run by you; fix the store's permissions (run: chmod -R u+rwX ");
        message::put_text(&mut msg, res.home.as_bytes());
        msg.put(b"), or see gomig doctor");
    } else if !res.name.is_empty() {
        msg.put(b"; the toolchain ");
        msg.put(res.name.as_bytes());
        msg.put(b" looks broken: run gomig verify ");
        msg.put(res.name.as_bytes());
        msg.put(b", then reinstall it (gomig install) if needed");
    }
    fail(msg.as_bytes())
}

/// The shim's auto-install settings: `GOMIG_AUTO_INSTALL=1`, or `auto_install = true` in the
/// config file, and never twice in a row (`GOMIG_AUTO_INSTALLING` is set by the CLI).
#[derive(Default)]
struct AutoInstall<'a> {
    env_on: bool,
    in_progress: bool,
    config: Option<&'a [u8]>,
    xdg_config: Option<&'a [u8]>,
}

impl AutoInstall<'_> {
    fn enabled(&self, env: &Env<'_>) -> bool {
        if self.in_progress {
            return false;
        }
        self.env_on || self.config_says_so(env)
    }

    /// Scans the config for `auto_install = true` (only on a miss, never on the hot path).
    #[cold]
    #[inline(never)]
    fn config_says_so(&self, env: &Env<'_>) -> bool {
        let mut path = PathBuf::default();
        let found = match (self.config, self.xdg_config, env.home) {
            (Some(c), _, _) => path.set(c),
            (None, Some(x), _) => path.set(x).and_then(|_| path.push(b"gomig/config.toml")),
            (None, None, Some(h)) => path.set(h).and_then(|_| path.push(b".config/gomig/config.toml")),
            _ => None,
        };
        if found.is_none() {
            return false;
        }
        let Ok(mut reader) = resolve::files::open_lines(&path) else {
            return false;
        };
        while let Ok(Some(line)) = reader.next_line() {
            let text = resolve::files::trim(line.text);
            let Some(eq) = text.iter().position(|&c| c == b'=') else {
                continue;
            };
            if resolve::files::trim(&text[..eq]) == b"auto_install" {
                return resolve::files::trim(&text[eq + 1..]).starts_with(b"true");
            }
        }
        false
    }
}

/// Execs `gomig install --then-exec TOOL VERSION -- ARGS...`. The CLI is found through the
/// `state/gomig` link that `gomig init` keeps.
#[cold]
#[inline(never)]
fn auto_install(
    home: &PathBuf,
    tool: Tool,
    version: &[u8],
    argv: *const *const c_char,
    envp: *const *const c_char,
) -> c_int {
    let mut link = home.clone();
    let mut gomig = PathBuf::default();
    if link.push(b"state/gomig").is_none() || sys::readlink(&link, &mut gomig).is_err() {
        return fail(b"auto-install is on, but the gomig CLI is not recorded in the store; run gomig init once (or gomig install VERSION)");
    }
    let Some(version) = PathBuf::from_bytes(version) else {
        return fail(b"version name too long");
    };
    let tool_name = if tool == Tool::Go { c"go" } else { c"gofmt" };
    const FIXED: usize = 6;
    let mut args = [core::ptr::null::<c_char>(); 512];
    args[0] = gomig.as_ptr();
    args[1] = c"install".as_ptr();
    args[2] = c"--then-exec".as_ptr();
    args[3] = tool_name.as_ptr();
    args[4] = version.as_ptr();
    args[5] = c"--".as_ptr();
    let mut n = FIXED;
    if !argv.is_null() {
        let mut i = 1;
        loop {
            let p = unsafe { *argv.add(i) };
            if p.is_null() {
                break;
            }
            if n + 1 >= args.len() {
                return fail(b"too many arguments for auto-install; run gomig install first");
            }
            args[n] = p;
            n += 1;
            i += 1;
        }
    }
    let e = os::execve(gomig.as_ptr(), args.as_ptr(), envp);
    let mut msg = StackBuf::<6144>::default();
    msg.put(b"auto-install: cannot run ");
    msg.put(gomig.as_bytes());
    msg.put(b": ");
    msg.put(message::errno_text(e));
    msg.put(b"; run gomig init again");
    fail(msg.as_bytes())
}
