//! gomig's integrity commands on a real GOROOT, each timed next to the shell recipe it replaces.
//!
//! Run with `cargo bench --bench integrity` (std only, `harness = false`). On go1.22.10 (about
//! 9,600 files, 226 MB; read once first so it is in the page cache) it times, in one run, with
//! the two variants of each pair interleaved in random order each round:
//!
//! - `gomig verify` against the seed's recipe
//!   `find $GOROOT/{src,lib,bin,pkg} -type f -print0 | xargs -0 sha256sum` (target: 1.5x faster);
//! - `gomig archive` against `tar --format=pax -czf` (target: no slower, at most 1.05x the size);
//! - `gomig restore` (sidecar check, unpack, tree check, `go version`) into an empty store
//!   against `tar -xzf` of the same archive plus `sha256sum -c` of the tree (target: no slower).
//!
//! It prints a table and a PASS/FAIL line per target; a FAIL does not fail the run.
//! Environment: `GOMIG_BENCH_ROUNDS` (default 5), `GOMIG_TEST_DISTS` (the Go distribution cache
//! of `tests/support/fetch-go.sh`, default `target/go-dists`).

mod common;

use common::*;
use std::env;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

const GO: &str = "1.22.10";
const VERIFY_SPEEDUP: f64 = 1.5;
const ARCHIVE_MAX_SIZE_RATIO: f64 = 1.05;

fn main() {
    bench_main("integrity", run);
}

fn run() -> Result<()> {
    let rounds = match env::var("GOMIG_BENCH_ROUNDS") {
        Ok(v) => v
            .parse::<usize>()
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| format!("GOMIG_BENCH_ROUNDS={v} is not a positive count"))?,
        Err(_) => 5,
    };
    let gomig = PathBuf::from(env!("CARGO_BIN_EXE_gomig"));
    let dists = env::var_os("GOMIG_TEST_DISTS").map_or_else(|| Path::new(ROOT).join("target/go-dists"), PathBuf::from);
    let goroot = fetch_go(&dists, GO)?;
    let tmp = TempDir::new().map_err(|e| format!("cannot create a temporary directory: {e}"))?;
    let b = Bench::new(tmp.path(), &gomig, &goroot)?;

    // Warm up: the tree in the page cache, the recipes checked once.
    let (files, bytes) = tree_size(&goroot).map_err(|e| format!("{}: {e}", goroot.display()))?;
    b.verify_seed()?;
    b.verify_gomig()?;
    b.archive_tar()?;
    b.archive_gomig()?;
    let archive_size = size(&b.gomig_archive);
    let tar_size = size(&b.tar_archive);
    b.restore_tar()?;
    b.clean_restores();
    b.restore_gomig()?;
    b.clean_restores();

    let load_before = load_average();
    let mut rng = Rng::seeded();
    let mut verify = [Vec::new(), Vec::new()];
    let mut archive = [Vec::new(), Vec::new()];
    let mut restore = [Vec::new(), Vec::new()];
    for _ in 0..rounds {
        for i in rng.order() {
            verify[i].push(if i == 0 {
                time(|| b.verify_gomig())?
            } else {
                time(|| b.verify_seed())?
            });
        }
        for i in rng.order() {
            archive[i].push(if i == 0 {
                time(|| b.archive_gomig())?
            } else {
                time(|| b.archive_tar())?
            });
        }
        for i in rng.order() {
            restore[i].push(if i == 0 {
                time(|| b.restore_gomig())?
            } else {
                time(|| b.restore_tar())?
            });
            b.clean_restores();
        }
    }

    println!("gomig integrity benchmark");
    println!(
        "  go{GO} at {}: {files} files, {:.1} MB (in the page cache); {} CPUs; {rounds} rounds, pairs interleaved",
        goroot.display(),
        bytes as f64 / 1e6,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
    );
    println!(
        "  load average {load_before} before, {} after (other work on the machine adds noise)",
        load_average()
    );
    println!("  {:<64}{:>9}{:>9}{:>9}", "", "median", "min", "max");
    row("gomig verify", &verify[0]);
    row(
        "find {src,lib,bin,pkg} -type f -print0 | xargs -0 sha256sum",
        &verify[1],
    );
    row("gomig archive (pax, parallel gzip -6, sidecar)", &archive[0]);
    row("tar --format=pax -czf", &archive[1]);
    row("gomig restore (sidecar, unpack, manifest, go version)", &restore[0]);
    row("tar -xzf + sha256sum -c", &restore[1]);

    let verify_speedup = median(&verify[1]) / median(&verify[0]);
    let archive_ratio = median(&archive[0]) / median(&archive[1]);
    let size_ratio = archive_size as f64 / tar_size as f64;
    let restore_ratio = median(&restore[0]) / median(&restore[1]);
    println!(
        "  archive sizes: gomig {:.2} MB, tar -czf {:.2} MB ({size_ratio:.3}x)",
        archive_size as f64 / 1e6,
        tar_size as f64 / 1e6
    );
    verdict(
        verify_speedup >= VERIFY_SPEEDUP,
        &format!(
            "verify is {verify_speedup:.2}x faster than the seed's find | xargs sha256sum (target {VERIFY_SPEEDUP}x)"
        ),
    );
    verdict(
        archive_ratio <= 1.0 && size_ratio <= ARCHIVE_MAX_SIZE_RATIO,
        &format!(
            "archive takes {archive_ratio:.2}x the time of tar -czf (target <= 1), {size_ratio:.3}x its size (target <= {ARCHIVE_MAX_SIZE_RATIO})"
        ),
    );
    verdict(
        restore_ratio <= 1.0,
        &format!("restore takes {restore_ratio:.2}x the time of tar -xzf + sha256sum -c (target <= 1)"),
    );
    Ok(())
}

fn verdict(pass: bool, what: &str) {
    println!("{}: {what}", if pass { "PASS" } else { "FAIL" });
}

/// The store, the archives and the scratch directories of every variant.
struct Bench {
    gomig: PathBuf,
    goroot: PathBuf,
    home: PathBuf,
    /// A store with the GOROOT adopted (its manifest recorded).
    store: PathBuf,
    out: PathBuf,
    gomig_archive: PathBuf,
    tar_archive: PathBuf,
    /// `sha256sum` lines for the tree as `go/...`, what `sha256sum -c` checks after `tar -xzf`.
    sums: PathBuf,
    seed_out: PathBuf,
    restore_store: PathBuf,
    restore_dir: PathBuf,
}

impl Bench {
    fn new(root: &Path, gomig: &Path, goroot: &Path) -> Result<Bench> {
        let b = Bench {
            gomig: gomig.to_path_buf(),
            goroot: goroot.to_path_buf(),
            home: root.join("home"),
            store: root.join("store"),
            out: root.join("out"),
            gomig_archive: root.join(format!("out/go{GO}.{}.tar.gz", platform())),
            tar_archive: root.join("tar.tar.gz"),
            sums: root.join("go.sha256"),
            seed_out: root.join("seed.sha256"),
            restore_store: root.join("restore-store"),
            restore_dir: root.join("restore-tar"),
        };
        for d in [&b.home, &b.out] {
            fs::create_dir_all(d).map_err(|e| format!("{}: {e}", d.display()))?;
        }
        let out = b
            .gomig(&["add", &goroot.display().to_string()])
            .output()
            .map_err(|e| format!("cannot run {}: {e}", gomig.display()))?;
        if !out.status.success() {
            return Err(format!("gomig add failed: {}", String::from_utf8_lossy(&out.stderr)));
        }
        // The reference list for `sha256sum -c`, with paths as `tar -xzf` lays them out.
        let parent = goroot.parent().ok_or("the GOROOT has no parent")?;
        sh(&format!(
            "cd '{}' && find go -type f -print0 | xargs -0 sha256sum > '{}'",
            parent.display(),
            b.sums.display()
        ))?;
        Ok(b)
    }

    fn gomig(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.gomig);
        cmd.args(args)
            .env_clear()
            .env("HOME", &self.home)
            .env("GOMIG_HOME", &self.store)
            .env("PATH", "/usr/bin:/bin")
            .env("GOMIG_JOURNAL_SOCKET", self.home.join("no-journal"))
            .stdin(Stdio::null())
            .stdout(Stdio::null());
        cmd
    }

    fn verify_gomig(&self) -> Result<()> {
        status(self.gomig(&["-q", "verify", GO]))
    }

    fn verify_seed(&self) -> Result<()> {
        let r = self.goroot.display();
        sh(&format!(
            "find '{r}'/src '{r}'/lib '{r}'/bin '{r}'/pkg -type f -print0 | xargs -0 sha256sum > '{}'",
            self.seed_out.display()
        ))
    }

    fn archive_gomig(&self) -> Result<()> {
        let _ = fs::remove_file(&self.gomig_archive);
        status(self.gomig(&["-q", "archive", GO, "-o", &format!("{}/", self.out.display())]))
    }

    fn archive_tar(&self) -> Result<()> {
        let _ = fs::remove_file(&self.tar_archive);
        let parent = self.goroot.parent().ok_or("the GOROOT has no parent")?;
        let mut cmd = Command::new("tar");
        cmd.arg("--format=pax")
            .arg("-czf")
            .arg(&self.tar_archive)
            .arg("-C")
            .arg(parent)
            .arg("go");
        status(cmd)
    }

    fn restore_gomig(&self) -> Result<()> {
        let mut cmd = self.gomig(&["-q", "restore", &self.gomig_archive.display().to_string()]);
        cmd.env("GOMIG_HOME", &self.restore_store);
        status(cmd)
    }

    fn restore_tar(&self) -> Result<()> {
        fs::create_dir_all(&self.restore_dir).map_err(|e| e.to_string())?;
        sh(&format!(
            "cd '{}' && tar -xzf '{}' && sha256sum -c --quiet '{}'",
            self.restore_dir.display(),
            self.gomig_archive.display(),
            self.sums.display()
        ))
    }

    fn clean_restores(&self) {
        let _ = fs::remove_dir_all(&self.restore_store);
        let _ = fs::remove_dir_all(&self.restore_dir);
    }
}

/// `linux-amd64`: the platform part of an official archive's name.
fn platform() -> String {
    let arch = match env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        other => other,
    };
    format!("{}-{arch}", env::consts::OS)
}

fn status(mut cmd: Command) -> Result<()> {
    let out = cmd
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{cmd:?} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(())
}

fn sh(script: &str) -> Result<()> {
    let mut cmd = Command::new("bash");
    cmd.arg("-c").arg(script).stdout(Stdio::null());
    status(cmd)
}

/// Seconds taken by `f`.
fn time(f: impl FnOnce() -> Result<()>) -> Result<f64> {
    let start = Instant::now();
    f()?;
    Ok(start.elapsed().as_secs_f64())
}

fn size(path: &Path) -> u64 {
    fs::metadata(path).map_or(0, |m| m.len())
}

/// Regular files and their bytes; reading them puts the tree in the page cache.
fn tree_size(dir: &Path) -> io::Result<(u64, u64)> {
    let (mut files, mut bytes) = (0, 0);
    for e in fs::read_dir(dir)? {
        let e = e?;
        let ft = e.file_type()?;
        if ft.is_dir() {
            let (f, b) = tree_size(&e.path())?;
            files += f;
            bytes += b;
        } else if ft.is_file() {
            files += 1;
            bytes += io::copy(&mut fs::File::open(e.path())?, &mut io::sink())?;
        }
    }
    Ok((files, bytes))
}

fn row(name: &str, secs: &[f64]) {
    let min = secs.iter().copied().fold(f64::INFINITY, f64::min);
    let max = secs.iter().copied().fold(0.0, f64::max);
    println!("  {name:<64}{:>8.3}s{min:>8.3}s{max:>8.3}s", median(secs));
}
