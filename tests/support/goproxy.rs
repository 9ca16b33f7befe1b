//! A Go module proxy on disk, for `GOPROXY=file://...`: the layout `go` reads from any proxy
//! (`MODULE/@v/list`, `VERSION.info`, `VERSION.mod`, `VERSION.zip`), with module zips written
//! here (stored entries, which Go's module zip reader accepts like deflated ones).

use std::fs;
use std::path::{Path, PathBuf};

pub struct GoProxy {
    pub root: PathBuf,
}

impl GoProxy {
    pub fn new(root: &Path) -> GoProxy {
        fs::create_dir_all(root).unwrap();
        GoProxy {
            root: root.to_path_buf(),
        }
    }

    /// The GOPROXY value for it.
    pub fn url(&self) -> String {
        format!("file://{}", self.root.display())
    }

    /// Publishes `module` at `version` with `files` (path inside the module, contents); the
    /// go.mod is among them. Module paths here are lower case (no `!` escaping needed).
    pub fn publish(&self, module: &str, version: &str, files: &[(&str, &str)]) {
        assert_eq!(module, module.to_lowercase(), "keep test module paths lower case");
        let dir = self.root.join(module).join("@v");
        fs::create_dir_all(&dir).unwrap();
        let go_mod = files
            .iter()
            .find(|(p, _)| *p == "go.mod")
            .map(|(_, c)| *c)
            .expect("a module has a go.mod");
        fs::write(dir.join(format!("{version}.mod")), go_mod).unwrap();
        fs::write(
            dir.join(format!("{version}.info")),
            format!("{{\"Version\":\"{version}\",\"Time\":\"2024-01-02T03:04:05Z\"}}"),
        )
        .unwrap();
        let entries: Vec<(String, &[u8])> = files
            .iter()
            .map(|(p, c)| (format!("{module}@{version}/{p}"), c.as_bytes()))
            .collect();
        fs::write(dir.join(format!("{version}.zip")), zip_stored(&entries)).unwrap();
        let list = dir.join("list");
        let mut versions = fs::read_to_string(&list).unwrap_or_default();
        versions.push_str(version);
        versions.push('\n');
        fs::write(list, versions).unwrap();
    }
}

/// A zip archive of `entries`, uncompressed.
pub fn zip_stored(entries: &[(String, &[u8])]) -> Vec<u8> {
    fn u16le(out: &mut Vec<u8>, v: u16) {
        out.extend_from_slice(&v.to_le_bytes());
    }
    fn u32le(out: &mut Vec<u8>, v: u32) {
        out.extend_from_slice(&v.to_le_bytes());
    }
    const DOS_DATE_1980_01_01: u16 = (1 << 5) | 1;
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data) in entries {
        let mut crc = flate2::Crc::new();
        crc.update(data);
        let (crc, size, offset) = (crc.sum(), data.len() as u32, out.len() as u32);
        // Local file header.
        u32le(&mut out, 0x0403_4b50);
        u16le(&mut out, 20);
        u16le(&mut out, 0); // flags
        u16le(&mut out, 0); // stored
        u16le(&mut out, 0); // time
        u16le(&mut out, DOS_DATE_1980_01_01);
        u32le(&mut out, crc);
        u32le(&mut out, size);
        u32le(&mut out, size);
        u16le(&mut out, name.len() as u16);
        u16le(&mut out, 0);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(data);
        // Its central directory record.
        u32le(&mut central, 0x0201_4b50);
        u16le(&mut central, 20);
        u16le(&mut central, 20);
        u16le(&mut central, 0);
        u16le(&mut central, 0);
        u16le(&mut central, 0);
        u16le(&mut central, DOS_DATE_1980_01_01);
        u32le(&mut central, crc);
        u32le(&mut central, size);
        u32le(&mut central, size);
        u16le(&mut central, name.len() as u16);
        u16le(&mut central, 0); // extra
        u16le(&mut central, 0); // comment
        u16le(&mut central, 0); // disk
        u16le(&mut central, 0); // internal attributes
        u32le(&mut central, 0); // external attributes
        u32le(&mut central, offset);
        central.extend_from_slice(name.as_bytes());
    }
    let (cd_offset, cd_size) = (out.len() as u32, central.len() as u32);
    out.extend_from_slice(&central);
    u32le(&mut out, 0x0605_4b50);
    u16le(&mut out, 0);
    u16le(&mut out, 0);
    u16le(&mut out, entries.len() as u16);
    u16le(&mut out, entries.len() as u16);
    u32le(&mut out, cd_size);
    u32le(&mut out, cd_offset);
    u16le(&mut out, 0);
    out
}
