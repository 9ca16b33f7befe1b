//! `gomig install` next to the shell's one-pass download, from the same loopback site.
//!
//! Run with `cargo bench --bench install` (`harness = false`; cargo builds `gomig` for benches).
//! The emulated download site of the tests (tests/support/dlsite.rs) serves the official-format
//! archive of the real go1.22.10 and its index on 127.0.0.1. Each round times, in a random order:
//!
//! - `gomig -q install 1.22.10` into a fresh `GOMIG_HOME` (index, download, SHA-256 against the
//!   index, safe extraction into staging, `bin/go version`, manifest, rename, log);
//! - the baseline `curl -sS URL | tee >(sha256sum) | tar -xz` into a fresh directory, which
//!   checks nothing and writes no manifest.
//!
//! Both write to the same filesystem (`GOMIG_BENCH_DIR`, default the system temp directory),
//! after a `sync` so that neither pays for the other's dirty pages. It prints each variant's
//! times, the median of the per-round ratios, and PASS/FAIL against the target (ratio <= 1.1);
//! a FAIL does not fail the run.
//!
//! Environment: `GOMIG_BENCH_RUNS` (rounds, default 10), `GOMIG_BENCH_DIR` (where the trees are
//! written), `GOMIG_BENCH_GOMIG` (a gomig binary to measure instead of the one cargo built),
//! `GOMIG_TEST_DISTS` (the Go distribution cache of `tests/support/fetch-go.sh`).

#[path = "../tests/support/dlsite.rs"]
mod dlsite;

mod common;

use common::*;
use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

const GO: &str = "1.22.10";
/// gomig's median time may be at most this multiple of the baseline's.
const TARGET_RATIO: f64 = 1.1;

fn main() {
    bench_main("install", run);
}

fn run() -> Result<()> {
    let rounds = match env::var("GOMIG_BENCH_RUNS") {
        Ok(v) => v
            .parse()
            .ok()
            .filter(|&n: &usize| n > 0)
            .ok_or_else(|| format!("GOMIG_BENCH_RUNS={v} is not a positive count"))?,
        Err(_) => 10,
    };
    for tool in ["curl", "tee", "sha256sum", "tar", "bash", "sync"] {
        if Command::new("which")
            .arg(tool)
            .output()
            .map_or(true, |o| !o.status.success())
        {
            return Err(format!("the baseline needs {tool} on PATH"));
        }
    }
    let gomig = match env::var_os("GOMIG_BENCH_GOMIG") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(env!("CARGO_BIN_EXE_gomig")),
    };
    let goroot = fetch_go(&dists(), GO)?;
    let release = dlsite::Release::from_goroot(GO, &goroot);
    let archive = release.host_archive().ok_or("no archive for this platform")?.clone();
    let site = dlsite::Site::start(vec![release]);
    let url = site.file_url(&archive.filename);

    let base = env::var_os("GOMIG_BENCH_DIR").map_or_else(env::temp_dir, PathBuf::from);
    let tmp = TempDir::new_in(&base).map_err(|e| format!("cannot create a directory in {}: {e}", base.display()))?;

    let gomig_run = |dir: &Path| -> Result<f64> {
        let home = dir.join("gomig-home");
        let mut cmd = Command::new(&gomig);
        cmd.args(["-q", "install", GO])
            .env_clear()
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .env("HOME", dir)
            .env("GOMIG_HOME", &home)
            .env("GOMIG_CONFIG", dir.join("config.toml"))
            .env("GOMIG_MIRROR", site.url())
            .stdin(Stdio::null());
        let secs = timed(&mut cmd)?;
        let installed = home.join(format!("toolchains/go{GO}/bin/go"));
        if !installed.is_file() {
            return Err(format!("gomig install did not install {}", installed.display()));
        }
        Ok(secs)
    };
    let shell_run = |dir: &Path| -> Result<f64> {
        let out = dir.join("tar");
        fs::create_dir(&out).map_err(|e| format!("{}: {e}", out.display()))?;
        let sum = dir.join("sha256");
        let script = format!(
            "curl -sS '{url}' | tee >(sha256sum > '{}') | tar -xz -C '{}'",
            sum.display(),
            out.display()
        );
        let mut cmd = Command::new("bash");
        cmd.args(["-c", &script]).stdin(Stdio::null());
        let secs = timed(&mut cmd)?;
        // Untimed: the checksum the baseline computed must be the archive's.
        for _ in 0..100 {
            if fs::read_to_string(&sum).is_ok_and(|s| s.starts_with(&archive.sha256)) {
                return Ok(secs);
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        Err(format!("the baseline's sha256sum did not report {}", archive.sha256))
    };

    // A warm-up round of each (page cache, the site's first connection), untimed.
    let warm = tmp.path().join("warm");
    fs::create_dir(&warm).map_err(|e| e.to_string())?;
    gomig_run(&warm)?;
    shell_run(&warm)?;
    remove(&warm);

    let load_before = load_average();
    let mut rng = Rng::seeded();
    let (mut g, mut s, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        let dir = tmp.path().join(format!("round-{round}"));
        fs::create_dir(&dir).map_err(|e| e.to_string())?;
        let gomig_first = rng.next().is_multiple_of(2);
        let (mut tg, mut ts) = (0.0, 0.0);
        for turn in 0..2 {
            sync();
            if (turn == 0) == gomig_first {
                tg = gomig_run(&dir)?;
            } else {
                ts = shell_run(&dir)?;
            }
        }
        remove(&dir);
        g.push(tg);
        s.push(ts);
        ratios.push(tg / ts);
    }

    println!("gomig install benchmark");
    println!("  gomig: {}", gomig.display());
    println!(
        "  {} ({:.1} MiB) from {}, written under {}",
        archive.filename,
        archive.size as f64 / f64::from(1 << 20),
        site.url(),
        base.display()
    );
    println!(
        "  {rounds} rounds, the two variants in random order each round, sync before each; load average {load_before} before, {} after",
        load_average()
    );
    println!("  {:<52}{:>9}{:>9}{:>9}", "", "median", "p10", "p90");
    row("gomig -q install (fresh GOMIG_HOME)", &g, "s");
    row("curl | tee >(sha256sum) | tar -xz", &s, "s");
    row("ratio gomig / shell, per round", &ratios, "x");
    let ratio = percentile(&ratios, 0.5);
    let verdict = if ratio <= TARGET_RATIO { "PASS" } else { "FAIL" };
    println!("{verdict}: median ratio {ratio:.3} (target <= {TARGET_RATIO})");
    Ok(())
}

fn timed(cmd: &mut Command) -> Result<f64> {
    cmd.stdout(Stdio::null()).stderr(Stdio::piped());
    let start = Instant::now();
    let out = cmd.output().map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    let secs = start.elapsed().as_secs_f64();
    if !out.status.success() {
        return Err(format!(
            "{cmd:?} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(secs)
}

fn sync() {
    let _ = Command::new("sync").status();
}

fn row(name: &str, v: &[f64], unit: &str) {
    println!(
        "  {name:<52}{:>8.3}{unit}{:>8.3}{unit}{:>8.3}{unit}",
        percentile(v, 0.5),
        percentile(v, 0.1),
        percentile(v, 0.9)
    );
}
