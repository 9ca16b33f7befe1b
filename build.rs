//! Links the `go` shim (`gomig-shim`) as a static executable with no C runtime on Linux
//! x86_64 and aarch64; `gomig` is left alone.
//!
//! The shim runs before every `go` command. Linked the usual way, most of its start-up is the
//! dynamic loader mapping and relocating libc; linked statically against glibc, glibc's own
//! start-up calls `malloc` before `main`, which breaks the shim's contract of no heap
//! allocation between process start and `execve`. So the shim brings its own `_start` and
//! memory functions (`src/shim/rt.rs`) and makes raw system calls (`src/resolve/os.rs`): the
//! kernel maps one small file and jumps to it. `cargo bench --bench shim` measures the gain.
//!
//! Per-binary link arguments are the only per-binary knob stable Cargo has, and the
//! `gomig_freestanding` cfg tells the shim's code to provide what the C runtime would have.
//! Set `GOMIG_SHIM_DYNAMIC=1` to link the shim against the C library the usual way.

use std::env;

const SHIM: &str = "gomig-shim";

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=GOMIG_SHIM_DYNAMIC");
    println!("cargo::rustc-check-cfg=cfg(gomig_freestanding)");

    let var = |name: &str| env::var(name).unwrap_or_default();
    let arch = var("CARGO_CFG_TARGET_ARCH");
    if var("CARGO_CFG_TARGET_OS") != "linux" || !matches!(arch.as_str(), "x86_64" | "aarch64") {
        return;
    }
    if var("GOMIG_SHIM_DYNAMIC") == "1" {
        return;
    }
    println!("cargo::rustc-cfg=gomig_freestanding");
    // Non-PIE: a position-independent static executable without a C runtime would have to
    // apply its own relocations before touching any data.
    for arg in ["-nostartfiles", "-nostdlib", "-static", "-no-pie"] {
        println!("cargo::rustc-link-arg-bin={SHIM}={arg}");
    }
    // One read-only segment with the hot path first: see the script for why.
    if arch == "x86_64" {
        let script = format!("{}/src/shim/shim.ld", var("CARGO_MANIFEST_DIR"));
        println!("cargo::rerun-if-changed={script}");
        // `-T` and the path as two arguments: `-Wl,` would split a path with a comma in it.
        println!("cargo::rustc-link-arg-bin={SHIM}=-T");
        println!("cargo::rustc-link-arg-bin={SHIM}={script}");
    }
}
