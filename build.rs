//! Optionally links the `go` shim (`gomig-shim`) statically on Linux with glibc
//! (`GOMIG_SHIM_STATIC=1`); `gomig` is left alone.
//!
//! The default is a dynamically linked shim: static glibc's start-up code calls `malloc`
//! (4x) and `calloc` (1x) before `main`, which breaks the shim's contract of no heap
//! allocation between process start and `execve` (tests/shim_process.rs proves it). The
//! static build saves the dynamic loader's work (`cargo bench --bench shim` shows how much)
//! for those who prefer that to the contract. Per-binary link arguments are the only
//! per-binary knob stable Cargo has (`+crt-static` would apply to `gomig` too), so the static
//! link is spelled out here:
//!
//! - `-static-pie` alone is not enough: rustc passes `-Wl,-Bdynamic -lc` before any link
//!   argument, which makes an executable that needs `libc.so.6` but has no interpreter and
//!   crashes at start. A directory holding only `libc.a`, searched before the system
//!   directories, makes that same `-lc` pick the archive.
//! - static glibc needs `libgcc_eh`/`libgcc` (`_Unwind_Resume`, `__gcc_personality_v0`), which
//!   rustc does not add for a `no_std` binary.
//!
//! If the C toolchain has no static libc (or no static-pie support) the shim stays dynamic,
//! with a warning.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const SHIM: &str = "gomig-shim";

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=GOMIG_SHIM_STATIC");
    println!("cargo:rerun-if-env-changed=RUSTC_LINKER");

    let var = |name: &str| env::var(name).unwrap_or_default();
    if var("CARGO_CFG_TARGET_OS") != "linux" || var("CARGO_CFG_TARGET_ENV") != "gnu" {
        return;
    }
    if var("GOMIG_SHIM_STATIC") != "1" {
        return;
    }
    // The C compiler rustc links with: the configured linker for this target, else `cc`.
    let linker = env::var("RUSTC_LINKER").unwrap_or_else(|_| "cc".to_string());
    let (Some(libc_a), Some(_)) = (find_file(&linker, "libc.a"), find_file(&linker, "rcrt1.o")) else {
        println!(
            "cargo:warning=no static glibc (libc.a, rcrt1.o) found via {linker}: the go shim is linked dynamically"
        );
        return;
    };
    let Some(out_dir) = env::var_os("OUT_DIR").map(PathBuf::from) else {
        return;
    };
    let dir = out_dir.join("static-libc");
    if let Err(e) = link_only(&libc_a, &dir) {
        println!(
            "cargo:warning=cannot prepare {}: {e}; the go shim is linked dynamically",
            dir.display()
        );
        return;
    }
    println!("cargo:rerun-if-changed={}", libc_a.display());
    for arg in [
        "-static-pie".to_string(),
        format!("-L{}", dir.display()),
        "-lgcc_eh".into(),
        "-lgcc".into(),
    ] {
        println!("cargo:rustc-link-arg-bin={SHIM}={arg}");
    }
}

/// Where the C compiler finds `name`, if it does (it echoes the bare name when it does not).
fn find_file(compiler: &str, name: &str) -> Option<PathBuf> {
    let out = Command::new(compiler)
        .arg(format!("-print-file-name={name}"))
        .output()
        .ok()?;
    let path = PathBuf::from(String::from_utf8(out.stdout).ok()?.trim());
    (out.status.success() && path.is_absolute() && path.is_file()).then_some(path)
}

/// Makes `dir` hold exactly a link to `libc_a` (no `libc.so` beside it).
fn link_only(libc_a: &Path, dir: &Path) -> std::io::Result<()> {
    fs::create_dir_all(dir)?;
    let link = dir.join("libc.a");
    let _ = fs::remove_file(&link);
    #[cfg(unix)]
    return std::os::unix::fs::symlink(libc_a, &link);
    #[cfg(not(unix))]
    return fs::copy(libc_a, &link).map(drop);
}
