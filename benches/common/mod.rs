//! What the benchmarks share: Go releases from the test cache, temporary directories, a
//! shuffling RNG for interleaved runs, order statistics and the load average.
#![allow(dead_code)]

use std::env;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{self, Command};
use std::time::{SystemTime, UNIX_EPOCH};

pub const ROOT: &str = env!("CARGO_MANIFEST_DIR");

pub type Result<T> = std::result::Result<T, String>;

/// Runs the benchmark `name` when cargo asked for benchmarks; `cargo test --benches` runs the
/// binary without `--bench`, and it stays quick there.
pub fn bench_main(name: &str, run: fn() -> Result<()>) {
    if !env::args().any(|a| a == "--bench") {
        println!("{name} benchmark skipped (run it with: cargo bench --bench {name})");
        return;
    }
    if let Err(err) = run() {
        eprintln!("{name} benchmark: {err}");
        process::exit(1);
    }
}

/// The Go distribution cache of `tests/support/fetch-go.sh` (`GOMIG_TEST_DISTS`, default
/// `target/go-dists`).
pub fn dists() -> PathBuf {
    env::var_os("GOMIG_TEST_DISTS").map_or_else(|| Path::new(ROOT).join("target/go-dists"), PathBuf::from)
}

/// The GOROOT of Go `version` (its real path), fetched by `tests/support/fetch-go.sh` if not
/// cached yet.
pub fn fetch_go(dists: &Path, version: &str) -> Result<PathBuf> {
    let goroot = dists.join(format!("go{version}/go"));
    if !goroot.join("bin/go").is_file() {
        let ok = Command::new(Path::new(ROOT).join("tests/support/fetch-go.sh"))
            .arg(version)
            .env("GOMIG_TEST_DISTS", dists)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            return Err(format!(
                "cannot fetch Go {version} (tests/support/fetch-go.sh {version})"
            ));
        }
    }
    // Stores resolve an adopted toolchain's link, so callers compare against the real path.
    fs::canonicalize(&goroot).map_err(|e| format!("{}: {e}", goroot.display()))
}

/// A directory removed on drop (made writable first: trees are read-only in places).
pub struct TempDir(PathBuf);

impl TempDir {
    /// Under the system temp directory.
    pub fn new() -> io::Result<TempDir> {
        TempDir::new_in(&fs::canonicalize(env::temp_dir())?)
    }
    pub fn new_in(base: &Path) -> io::Result<TempDir> {
        let stamp = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let dir = base.join(format!("gomig-bench-{}-{stamp}", process::id()));
        fs::create_dir_all(&dir)?;
        Ok(TempDir(dir))
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        remove(&self.0);
    }
}

/// Removes a tree, making it writable first.
pub fn remove(dir: &Path) {
    let _ = Command::new("chmod").args(["-R", "u+w"]).arg(dir).status();
    let _ = fs::remove_dir_all(dir);
}

/// xorshift64*: enough to shuffle the order of runs, without a dependency.
pub struct Rng(u64);

impl Rng {
    pub fn seeded() -> Rng {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        Rng((nanos ^ (u64::from(process::id()) << 32)) | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub fn shuffle(&mut self, v: &mut [usize]) {
        for i in (1..v.len()).rev() {
            v.swap(i, (self.next() % (i as u64 + 1)) as usize);
        }
    }
    /// `[0, 1]` or `[1, 0]`.
    pub fn order(&mut self) -> [usize; 2] {
        if self.next() & 1 == 0 { [0, 1] } else { [1, 0] }
    }
}

pub fn median(v: &[f64]) -> f64 {
    percentile(v, 0.5)
}

/// The mean of the two nearest ranks (for p = 0.5, the usual median).
pub fn percentile(v: &[f64], p: f64) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let pos = p * (s.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    (s[lo] + s[hi]) / 2.0
}

/// The 1-minute load average, or "?" where there is no `/proc/loadavg`.
pub fn load_average() -> String {
    let text = fs::read_to_string("/proc/loadavg").unwrap_or_default();
    text.split_whitespace().next().unwrap_or("?").to_string()
}
