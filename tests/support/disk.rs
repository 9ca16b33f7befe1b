//! A small disk for full-disk tests: a tmpfs mounted for one test, unmounted when dropped.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::ok;

pub struct SmallDisk(PathBuf);

impl SmallDisk {
    /// `Err` (with the reason) when this machine does not let the test mount one.
    pub fn mount(at: &Path, size: &str) -> Result<SmallDisk, String> {
        fs::create_dir_all(at).unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size},mode=0700"), "tmpfs"])
            .arg(at)
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "mount -t tmpfs failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(SmallDisk(at.to_path_buf()))
    }

    /// Mounts one, or says why the test is skipped. Root can always mount one (CI runs the
    /// suite as root): there, a failure is a failure.
    pub fn mount_for(test: &str, at: &Path, size: &str) -> Option<SmallDisk> {
        match SmallDisk::mount(at, size) {
            Ok(d) => Some(d),
            Err(why) if unsafe { libc::geteuid() } == 0 => panic!("cannot mount a small disk as root: {why}"),
            Err(why) => {
                eprintln!("SKIPPED {test} (not root): {why}");
                None
            }
        }
    }

    pub fn used_bytes(&self) -> u64 {
        let out = ok(Command::new("df").args(["-B1", "--output=used"]).arg(&self.0));
        out.lines().nth(1).unwrap().trim().parse().unwrap()
    }

    /// Fills the disk to the last byte with `filler` (a file on it); returns its path.
    pub fn fill(&self) -> PathBuf {
        let filler = self.0.join(".filler");
        let _ = Command::new("dd")
            .args(["if=/dev/zero", "bs=4096"])
            .arg(format!("of={}", filler.display()))
            .output();
        // dd stops at ENOSPC; top up the last partial block byte by byte.
        use std::io::Write;
        let mut f = fs::OpenOptions::new().append(true).open(&filler).unwrap();
        while f.write(&[0]).is_ok_and(|n| n == 1) {}
        filler
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}
