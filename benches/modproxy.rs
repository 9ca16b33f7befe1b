//! `gomig install --proxy` next to the go command's own download of the same toolchain, through
//! the same loopback module proxy and checksum database (tests/support/modproxy.rs).
//!
//! Run with `cargo bench --bench modproxy`. Each round times, in a random order:
//!
//! - `gomig -q install --proxy 1.22.10` into a fresh `GOMIG_HOME` (`@v/list`, the checksum
//!   database's record, tree head and tiles, `.info`, `.mod`, the zip, unpacking into staging
//!   with the `h1:` computed in the same pass, `bin/go version`, manifest, rename, log);
//! - `GOTOOLCHAIN=go1.22.10 go version` run by go1.23.9 with an empty module cache: Go's own
//!   download, sumdb check, unzip into the module cache, exec bits, `go.mod` copies, then
//!   go1.22.10's `go version`.
//!
//! Both write to the same filesystem (`GOMIG_BENCH_DIR`, default the system temp directory),
//! after a `sync`. Prints each variant's times, the median of per-round ratios and PASS/FAIL
//! against the target (ratio <= 1.0); a FAIL does not fail the run. `GOMIG_BENCH_RUNS` (default 5).

#[path = "../tests/support/dlsite.rs"]
mod dlsite;
#[path = "../tests/support/modproxy.rs"]
mod modproxy;
#[path = "../tests/support/mod.rs"]
mod support;

mod common;

use common::*;
use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

const GO: &str = "1.22.10";
const REFEREE: &str = "1.23.9";
const TARGET_RATIO: f64 = 1.0;

fn main() {
    bench_main("modproxy", run);
}

fn run() -> Result<()> {
    let rounds = match env::var("GOMIG_BENCH_RUNS") {
        Ok(v) => v
            .parse()
            .ok()
            .filter(|&n: &usize| n > 0)
            .ok_or_else(|| format!("GOMIG_BENCH_RUNS={v} is not a positive count"))?,
        Err(_) => 5,
    };
    let gomig = PathBuf::from(env!("CARGO_BIN_EXE_gomig"));
    let goroot = fetch_go(&dists(), GO)?;
    let go = fetch_go(&dists(), REFEREE)?.join("bin/go");
    let module = modproxy::toolchain_module(&goroot, GO);
    let db = modproxy::SumDb::new("sum.gomig.test");
    for i in 0..1000 {
        db.add_filler(i);
    }
    db.add_toolchain(&module, &module.h1);
    let db_server = db.serve();
    let proxy = modproxy::ModProxy::start(vec![module.clone()]);
    let gosumdb = db.gosumdb(Some(&db_server.url()));
    let zip_size = fs::metadata(&module.zip).map_err(|e| e.to_string())?.len();

    let base = env::var_os("GOMIG_BENCH_DIR").map_or_else(env::temp_dir, PathBuf::from);
    let tmp = TempDir::new_in(&base).map_err(|e| format!("cannot create a directory in {}: {e}", base.display()))?;
    let clean_env = |cmd: &mut Command, dir: &Path| {
        cmd.env_clear()
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .env("HOME", dir)
            .env("GOPROXY", proxy.url())
            .env("GOSUMDB", &gosumdb)
            .env("GOTELEMETRY", "off")
            .stdin(Stdio::null());
    };
    let gomig_run = |dir: &Path| -> Result<f64> {
        let home = dir.join("gomig-home");
        let mut cmd = Command::new(&gomig);
        clean_env(&mut cmd, dir);
        cmd.args(["-q", "install", "--proxy", GO])
            .env("GOMIG_HOME", &home)
            .env("GOMIG_CONFIG", dir.join("config.toml"));
        let secs = timed(&mut cmd)?;
        let installed = home.join(format!("toolchains/go{GO}/bin/go"));
        if !installed.is_file() {
            return Err(format!("gomig install did not install {}", installed.display()));
        }
        Ok(secs)
    };
    let go_run = |dir: &Path| -> Result<f64> {
        let mut cmd = Command::new(&go);
        clean_env(&mut cmd, dir);
        cmd.args(["version"])
            .env("GOTOOLCHAIN", format!("go{GO}"))
            .env("GOMODCACHE", dir.join("modcache"))
            .env("GOPATH", dir.join("gopath"))
            .env("GOCACHE", dir.join("gocache"))
            .env("GOFLAGS", "-modcacherw");
        let secs = timed(&mut cmd)?;
        let unpacked = dir.join(format!("modcache/golang.org/toolchain@{}/bin/go", module.version));
        if !unpacked.is_file() {
            return Err(format!("go did not download the toolchain to {}", unpacked.display()));
        }
        Ok(secs)
    };

    let warm = tmp.path().join("warm");
    fs::create_dir(&warm).map_err(|e| e.to_string())?;
    gomig_run(&warm)?;
    go_run(&warm)?;
    remove(&warm);

    let load_before = load_average();
    let mut rng = Rng::seeded();
    let (mut g, mut o, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        let dir = tmp.path().join(format!("round-{round}"));
        fs::create_dir(&dir).map_err(|e| e.to_string())?;
        let gomig_first = rng.next().is_multiple_of(2);
        let (mut tg, mut to) = (0.0, 0.0);
        for turn in 0..2 {
            let _ = Command::new("sync").status();
            if (turn == 0) == gomig_first {
                tg = gomig_run(&dir)?;
            } else {
                to = go_run(&dir)?;
            }
        }
        remove(&dir);
        g.push(tg);
        o.push(to);
        ratios.push(tg / to);
    }

    println!("gomig install --proxy benchmark");
    println!(
        "  golang.org/toolchain@{} ({:.1} MiB zip) from {}, sumdb {} (log of {} records), written under {}",
        module.version,
        zip_size as f64 / f64::from(1 << 20),
        proxy.url(),
        db_server.url(),
        db.size(),
        base.display()
    );
    println!(
        "  {rounds} rounds, the two variants in random order each round, sync before each; load average {load_before} before, {} after",
        load_average()
    );
    println!("  {:<58}{:>9}{:>9}{:>9}", "", "median", "p10", "p90");
    row("gomig -q install --proxy (fresh GOMIG_HOME)", &g, "s");
    row("go1.23.9: GOTOOLCHAIN=go1.22.10 go version (empty cache)", &o, "s");
    row("ratio gomig / go, per round", &ratios, "x");
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

fn row(name: &str, v: &[f64], unit: &str) {
    println!(
        "  {name:<58}{:>8.3}{unit}{:>8.3}{unit}{:>8.3}{unit}",
        percentile(v, 0.5),
        percentile(v, 0.1),
        percentile(v, 0.9)
    );
}
