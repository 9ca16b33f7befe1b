//! A Go module proxy and a Go checksum database on 127.0.0.1, for tests of installs through
//! GOPROXY: the toolchain module `golang.org/toolchain@v0.0.1-go<V>.<os>-<arch>` built from a real
//! release in the layout cmd/distpack publishes (the binary distribution without `api/`, `doc/`,
//! `misc/`, `test/`; names prefixed `golang.org/toolchain@VERSION/`; every `go.mod` renamed
//! `_go.mod`; sorted as distpack sorts), and a transparency log of go.sum records with its own
//! Ed25519 key, signed tree heads and tiles (height 8). The go command itself is the referee
//! of both (tests/modproxy.rs).
//!
//! Module zips are built once and cached under `target/modproxy-cache/`.

#![allow(dead_code)]

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread;

use sha2::{Digest, Sha256};
use signed_note::{Note, StandardSigner};
use tlog_tiles::{Hash, HashReader, Tile};

use crate::dlsite::host_platform;
use crate::support::repo_root;

pub const MODULE: &str = "golang.org/toolchain";

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

// ---------------------------------------------------------------------------------------------
// The toolchain module
// ---------------------------------------------------------------------------------------------

/// `v0.0.1-go1.22.10.linux-amd64` for this host.
pub fn module_version(version: &str) -> String {
    let (os, arch) = host_platform();
    let v = version.trim_start_matches("go");
    format!("v0.0.1-go{v}.{os}-{arch}")
}

/// A toolchain module as a proxy serves it.
#[derive(Clone, Debug)]
pub struct ToolchainModule {
    /// `go1.22.10`.
    pub release: String,
    /// `v0.0.1-go1.22.10.linux-amd64`.
    pub version: String,
    pub zip: PathBuf,
    /// dirhash `h1:` of the zip and of the `.mod` file.
    pub h1: String,
    pub mod_h1: String,
}

/// distpack's `.mod` file.
pub const GO_MOD: &str = "module golang.org/toolchain\n";

/// Go's dirhash.Hash1 over (name, content SHA-256) pairs.
pub fn hash1(files: &mut [(String, [u8; 32])]) -> String {
    files.sort_by(|a, b| a.0.cmp(&b.0));
    let mut summary = Sha256::new();
    for (name, sum) in files.iter() {
        summary.update(format!("{}  {}\n", hex(sum), name).as_bytes());
    }
    let digest: [u8; 32] = summary.finalize().into();
    format!("h1:{}", Hash(digest))
}

pub fn mod_h1() -> String {
    hash1(&mut [("go.mod".into(), Sha256::digest(GO_MOD.as_bytes()).into())])
}

/// distpack's nameLess: `foo/bar/baz` before `foo/bar.go`.
fn name_less(x: &str, y: &str) -> std::cmp::Ordering {
    for (a, b) in x.bytes().zip(y.bytes()) {
        if a != b {
            if a == b'/' {
                return std::cmp::Ordering::Less;
            }
            if b == b'/' {
                return std::cmp::Ordering::Greater;
            }
            return a.cmp(&b);
        }
    }
    x.len().cmp(&y.len())
}

fn files_under(root: &Path, rel: &str, out: &mut Vec<String>) -> io::Result<()> {
    let dir = if rel.is_empty() {
        root.to_path_buf()
    } else {
        root.join(rel)
    };
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().into_string().expect("UTF-8 names in a Go release");
        let child = if rel.is_empty() { name } else { format!("{rel}/{name}") };
        let kind = entry.file_type()?;
        if kind.is_dir() {
            files_under(root, &child, out)?;
        } else if kind.is_file() {
            out.push(child);
        }
    }
    Ok(())
}

/// The module form of the release at `goroot` (see the module doc), cached.
pub fn toolchain_module(goroot: &Path, release: &str) -> ToolchainModule {
    let version = module_version(release);
    let dir = repo_root().join("target/modproxy-cache");
    fs::create_dir_all(&dir).unwrap();
    let zip = dir.join(format!("{version}.zip"));
    let h1_path = dir.join(format!("{version}.h1"));
    let lock_file = File::create(dir.join(format!("{version}.lock"))).unwrap();
    // One builder at a time across test threads and processes.
    unsafe { libc::flock(std::os::fd::AsRawFd::as_raw_fd(&lock_file), libc::LOCK_EX) };
    let h1 = match fs::read_to_string(&h1_path) {
        Ok(h1) if zip.is_file() => h1.trim().to_string(),
        _ => {
            let tmp = dir.join(format!("{version}.zip.tmp"));
            let h1 = build_module_zip(goroot, &version, &tmp).expect("building the toolchain module zip");
            fs::rename(&tmp, &zip).unwrap();
            fs::write(&h1_path, &h1).unwrap();
            h1
        }
    };
    ToolchainModule {
        release: format!("go{}", release.trim_start_matches("go")),
        version,
        zip,
        h1,
        mod_h1: mod_h1(),
    }
}

fn build_module_zip(goroot: &Path, version: &str, out: &Path) -> io::Result<String> {
    let mut names = Vec::new();
    files_under(goroot, "", &mut names)?;
    let dropped = ["api/", "doc/", "misc/", "test/", ".git/", "pkg/obj/"];
    names.retain(|n| !dropped.iter().any(|d| n.starts_with(d)) && n != "VERSION.cache");
    let prefix = format!("{MODULE}@{version}/");
    let mut files: Vec<(String, String)> = names
        .into_iter()
        .map(|n| {
            let mut zip_name = format!("{prefix}{n}");
            if zip_name.ends_with("/go.mod") {
                zip_name = format!("{}_go.mod", zip_name.strip_suffix("go.mod").unwrap());
            }
            (zip_name, n)
        })
        .collect();
    files.sort_by(|a, b| name_less(&a.0, &b.0));
    let mut zw = zip::ZipWriter::new(io::BufWriter::new(File::create(out)?));
    // Level 1: the clients cannot tell, and the tests build it faster.
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(1));
    let mut sums = Vec::new();
    let mut buf = Vec::new();
    for (zip_name, rel) in &files {
        buf.clear();
        File::open(goroot.join(rel))?.read_to_end(&mut buf)?;
        let mode = fs::metadata(goroot.join(rel))?.permissions().mode() & 0o777;
        zw.start_file(zip_name.as_str(), options.unix_permissions(mode))?;
        zw.write_all(&buf)?;
        sums.push((zip_name.clone(), Sha256::digest(&buf).into()));
    }
    zw.finish()?.flush()?;
    Ok(hash1(&mut sums))
}

/// A copy of `module`'s zip at `dir` with the byte at `offset` flipped.
pub fn zip_with_flipped_byte(module: &ToolchainModule, dir: &Path, offset: u64) -> PathBuf {
    let mut bytes = fs::read(&module.zip).unwrap();
    let i = offset as usize % bytes.len();
    bytes[i] ^= 0x01;
    let path = dir.join("flipped.zip");
    fs::write(&path, bytes).unwrap();
    path
}

// ---------------------------------------------------------------------------------------------
// HTTP
// ---------------------------------------------------------------------------------------------

pub enum Body {
    Bytes(Vec<u8>),
    File(PathBuf),
}

pub struct Response {
    pub status: u16,
    pub body: Body,
}

impl Response {
    pub fn ok(bytes: impl Into<Vec<u8>>) -> Response {
        Response {
            status: 200,
            body: Body::Bytes(bytes.into()),
        }
    }
    pub fn status(status: u16) -> Response {
        Response {
            status,
            body: Body::Bytes(format!("status {status}\n").into_bytes()),
        }
    }
}

type Handler = dyn Fn(&str) -> Response + Send + Sync;

/// A minimal HTTP/1.1 server: one request per connection, a thread per connection.
pub struct Server {
    addr: SocketAddr,
    log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    pub fn start(handler: Arc<Handler>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("listen on 127.0.0.1");
        let addr = listener.local_addr().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let accept_log = Arc::clone(&log);
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let handler = Arc::clone(&handler);
                let log = Arc::clone(&accept_log);
                thread::spawn(move || {
                    let _ = serve(stream, &*handler, &log);
                });
            }
        });
        Server { addr, log }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.addr.port())
    }

    /// The paths requested so far, in order.
    pub fn requests(&self) -> Vec<String> {
        lock(&self.log).clone()
    }
}

fn serve(stream: TcpStream, handler: &Handler, log: &Mutex<Vec<String>>) -> io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header == "\r\n" || header == "\n" {
            break;
        }
    }
    lock(log).push(path.clone());
    let resp = handler(&path);
    let mut out = io::BufWriter::new(stream);
    let reason = match resp.status {
        200 => "OK",
        404 => "Not Found",
        410 => "Gone",
        _ => "Error",
    };
    match resp.body {
        Body::Bytes(bytes) => {
            write!(
                out,
                "HTTP/1.1 {} {reason}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                resp.status,
                bytes.len()
            )?;
            out.write_all(&bytes)?;
        }
        Body::File(path) => {
            let mut file = File::open(&path)?;
            let len = file.metadata()?.len();
            write!(
                out,
                "HTTP/1.1 {} {reason}\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n",
                resp.status
            )?;
            io::copy(&mut file, &mut out)?;
        }
    }
    out.flush()
}

// ---------------------------------------------------------------------------------------------
// The checksum database
// ---------------------------------------------------------------------------------------------

struct Hashes<'a>(&'a [Hash]);

impl HashReader for Hashes<'_> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::Error> {
        indexes
            .iter()
            .map(|&i| {
                self.0
                    .get(i as usize)
                    .copied()
                    .ok_or(tlog_tiles::Error::IndexesNotInTree)
            })
            .collect()
    }
}

#[derive(Default)]
struct Log {
    records: Vec<Vec<u8>>,
    /// Every stored hash of the tree (tlog's storage order).
    hashes: Vec<Hash>,
}

impl Log {
    fn append(&mut self, text: Vec<u8>) -> u64 {
        let n = self.records.len() as u64;
        let new = tlog_tiles::stored_hashes(n, &text, &Hashes(&self.hashes)).unwrap();
        self.hashes.extend(new);
        self.records.push(text);
        n
    }

    fn root(&self) -> Hash {
        tlog_tiles::tree_hash(self.records.len() as u64, &Hashes(&self.hashes)).unwrap()
    }
}

/// Misbehaviour on demand.
#[derive(Default, Clone, Copy)]
pub struct SumDbFaults {
    /// Flip a byte of every tile served.
    pub bad_tiles: bool,
    /// Damage the signature of every tree head served (the key's name and id kept).
    pub bad_signature: bool,
    /// Answer lookups with a record text the log does not hold (the signed head unchanged).
    pub forged_record: bool,
}

/// A Go checksum database: a log of go.sum records, signed tree heads, tiles.
pub struct SumDb {
    pub name: String,
    /// `name+hash+key`, as GOSUMDB names it.
    pub vkey: String,
    skey: String,
    log: Mutex<Log>,
    faults: Mutex<SumDbFaults>,
    /// Sign tree heads with another key (of the same name) instead.
    impostor: Mutex<Option<String>>,
}

fn new_key(name: &str) -> (String, String) {
    signed_note::generate_key(&mut rand_core::OsRng, name)
}

impl SumDb {
    pub fn new(name: &str) -> Arc<SumDb> {
        let (skey, vkey) = new_key(name);
        Arc::new(SumDb {
            name: name.into(),
            vkey,
            skey,
            log: Mutex::new(Log::default()),
            faults: Mutex::new(SumDbFaults::default()),
            impostor: Mutex::new(None),
        })
    }

    /// Another log under the same name and key: a fork, once its records differ.
    pub fn same_key(&self) -> Arc<SumDb> {
        Arc::new(SumDb {
            name: self.name.clone(),
            vkey: self.vkey.clone(),
            skey: self.skey.clone(),
            log: Mutex::new(Log::default()),
            faults: Mutex::new(SumDbFaults::default()),
            impostor: Mutex::new(None),
        })
    }

    /// Appends a record; returns its id.
    pub fn add(&self, text: &str) -> u64 {
        lock(&self.log).append(text.as_bytes().to_vec())
    }

    /// Records `module`'s two go.sum lines (with `zip_h1` for the zip).
    pub fn add_toolchain(&self, module: &ToolchainModule, zip_h1: &str) -> u64 {
        self.add(&format!(
            "{MODULE} {v} {zip_h1}\n{MODULE} {v}/go.mod {}\n",
            module.mod_h1,
            v = module.version
        ))
    }

    /// Some other module's record, to grow the log.
    pub fn add_filler(&self, i: usize) -> u64 {
        self.add(&format!("example.com/m{i} v1.0.0 h1:{}\n", Hash([i as u8; 32])))
    }

    pub fn size(&self) -> u64 {
        lock(&self.log).records.len() as u64
    }

    pub fn set_faults(&self, faults: SumDbFaults) {
        *lock(&self.faults) = faults;
    }

    /// From now on, tree heads are signed by a key gomig was not told about (same name).
    pub fn sign_with_another_key(&self) {
        *lock(&self.impostor) = Some(new_key(&self.name).0);
    }

    /// GOSUMDB for this database at `url` (or reached through a proxy, without one).
    pub fn gosumdb(&self, url: Option<&str>) -> String {
        match url {
            Some(u) => format!("{} {u}", self.vkey),
            None => self.vkey.clone(),
        }
    }

    pub fn signed_tree(&self) -> Vec<u8> {
        let log = lock(&self.log);
        let text = format!("go.sum database tree\n{}\n{}\n", log.records.len(), log.root());
        let skey = lock(&self.impostor).clone().unwrap_or_else(|| self.skey.clone());
        let signer = StandardSigner::new(&skey).unwrap();
        let mut note = Note::new(text.as_bytes(), &[]).unwrap();
        note.add_sigs(&[&signer]).unwrap();
        let mut bytes = note.to_bytes();
        if lock(&self.faults).bad_signature {
            // A base64 digit of the signature itself (past the 4-byte key id), changed.
            let i = bytes.len() - 12;
            bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
        }
        bytes
    }

    /// Answers a path below the database's URL: `/lookup/M@V`, `/tile/...`, `/latest`.
    pub fn handle(&self, path: &str) -> Response {
        if path == "/latest" {
            return Response::ok(self.signed_tree());
        }
        if let Some(key) = path.strip_prefix("/lookup/") {
            let Some((module, version)) = key.split_once('@') else {
                return Response::status(400);
            };
            let found = {
                let log = lock(&self.log);
                log.records
                    .iter()
                    .position(|r| {
                        String::from_utf8_lossy(r).lines().any(|l| {
                            let mut f = l.split(' ');
                            f.next() == Some(module) && f.next() == Some(version)
                        })
                    })
                    .map(|i| (i, log.records[i].clone()))
            };
            let Some((id, mut text)) = found else {
                return Response::status(404);
            };
            if lock(&self.faults).forged_record {
                let forged = String::from_utf8_lossy(&text).replace("h1:", "h1:X");
                text = forged.into_bytes();
            }
            let mut body = format!("{id}\n").into_bytes();
            body.extend_from_slice(&text);
            body.push(b'\n');
            body.extend_from_slice(&self.signed_tree());
            return Response::ok(body);
        }
        if let Some(tile_path) = path.strip_prefix('/') {
            let Ok(tile) = Tile::from_path(tile_path) else {
                return Response::status(404);
            };
            let data = {
                let log = lock(&self.log);
                tile.read_data(&Hashes(&log.hashes))
            };
            let Ok(mut data) = data else {
                return Response::status(404);
            };
            if lock(&self.faults).bad_tiles && !data.is_empty() {
                data[0] ^= 0x01;
            }
            return Response::ok(data);
        }
        Response::status(404)
    }

    /// Serves this database at its own URL.
    pub fn serve(self: &Arc<Self>) -> Server {
        let db = Arc::clone(self);
        Server::start(Arc::new(move |path: &str| db.handle(path)))
    }
}

// ---------------------------------------------------------------------------------------------
// The module proxy
// ---------------------------------------------------------------------------------------------

#[derive(Default)]
struct ProxyState {
    modules: Vec<ToolchainModule>,
    /// Versions listed in `@v/list` without files (releases the proxy names but cannot serve).
    listed_only: Vec<String>,
    /// `(path prefix, status, times left)`: answer requests so until the count runs out.
    faults: Vec<(String, u16, Option<u32>)>,
    /// Zip files served instead of a module's own.
    zip_override: HashMap<String, PathBuf>,
    /// A `.mod` served instead of distpack's.
    mod_override: Option<String>,
    /// A checksum database proxied under `/sumdb/<name>/`.
    sumdb: Option<Arc<SumDb>>,
}

pub struct ModProxy {
    server: Server,
    state: Arc<Mutex<ProxyState>>,
}

impl ModProxy {
    pub fn start(modules: Vec<ToolchainModule>) -> ModProxy {
        let state = Arc::new(Mutex::new(ProxyState {
            modules,
            ..Default::default()
        }));
        let s = Arc::clone(&state);
        let server = Server::start(Arc::new(move |path: &str| answer(&s, path)));
        ModProxy { server, state }
    }

    pub fn url(&self) -> String {
        self.server.url()
    }

    pub fn requests(&self) -> Vec<String> {
        self.server.requests()
    }

    /// `@v/list` also names `version` (`v0.0.1-go1.99.0.linux-amd64`), with no files behind it.
    pub fn list_only(&self, version: &str) {
        lock(&self.state).listed_only.push(version.into());
    }

    /// Answer every path starting with `prefix` with `status` (`times` times, or always).
    pub fn fault(&self, prefix: &str, status: u16, times: Option<u32>) {
        lock(&self.state).faults.push((prefix.into(), status, times));
    }

    /// Serve `zip` as the module zip of `version`.
    pub fn serve_zip(&self, version: &str, zip: &Path) {
        lock(&self.state).zip_override.insert(version.into(), zip.into());
    }

    /// Serve `text` as every module's `.mod`.
    pub fn serve_mod(&self, text: &str) {
        lock(&self.state).mod_override = Some(text.into());
    }

    /// Proxy `db` under `/sumdb/<name>/` (and answer `/sumdb/<name>/supported`).
    pub fn proxy_sumdb(&self, db: &Arc<SumDb>) {
        lock(&self.state).sumdb = Some(Arc::clone(db));
    }
}

fn answer(state: &Mutex<ProxyState>, path: &str) -> Response {
    let mut s = lock(state);
    if let Some(i) = s
        .faults
        .iter()
        .position(|(p, _, left)| path.starts_with(p.as_str()) && *left != Some(0))
    {
        let (_, status, left) = &mut s.faults[i];
        if let Some(n) = left {
            *n -= 1;
        }
        return Response::status(*status);
    }
    if let Some(db) = &s.sumdb {
        let base = format!("/sumdb/{}", db.name);
        if let Some(rest) = path.strip_prefix(&base) {
            if rest == "/supported" {
                return Response::ok("");
            }
            let db = Arc::clone(db);
            drop(s);
            return db.handle(rest);
        }
    }
    let Some(file) = path.strip_prefix(&format!("/{MODULE}/@v/")) else {
        return Response::status(404);
    };
    if file == "list" {
        let mut list: Vec<String> = s.modules.iter().map(|m| m.version.clone()).collect();
        list.extend(s.listed_only.iter().cloned());
        return Response::ok(list.iter().map(|v| format!("{v}\n")).collect::<String>());
    }
    let Some(m) = s.modules.iter().find(|m| file.starts_with(&format!("{}.", m.version))) else {
        return Response::status(404);
    };
    match &file[m.version.len()..] {
        ".info" => Response::ok(format!(
            "{{\"Version\":\"{}\",\"Time\":\"2024-12-03T18:00:00Z\"}}\n",
            m.version
        )),
        ".mod" => Response::ok(s.mod_override.clone().unwrap_or_else(|| GO_MOD.into())),
        ".zip" => Response {
            status: 200,
            body: Body::File(s.zip_override.get(&m.version).cloned().unwrap_or_else(|| m.zip.clone())),
        },
        _ => Response::status(404),
    }
}

/// The module form of a small real tree of `release` (its `VERSION`, `go.env`, `bin/go`,
/// `bin/gofmt`, `lib/time`, `src/errors` and `src/go.mod`), built in `dir`: `bin/go version`
/// reports the release, in a fraction of the bytes, for tests that need no whole toolchain.
pub fn mini_module(release: &str, dir: &Path) -> ToolchainModule {
    let full = crate::support::go_dist(release.trim_start_matches("go"));
    let root = dir.join(format!("mini-go{}", release.trim_start_matches("go")));
    let mut rels = vec![
        "VERSION".to_string(),
        "go.env".into(),
        "bin/go".into(),
        "bin/gofmt".into(),
        "src/go.mod".into(),
        "lib/time/zoneinfo.zip".into(),
    ];
    files_under(&full, "src/errors", &mut rels).unwrap();
    for rel in &rels {
        let to = root.join(rel);
        fs::create_dir_all(to.parent().unwrap()).unwrap();
        fs::copy(full.join(rel), &to).unwrap();
    }
    let version = module_version(release);
    let zip = dir.join(format!("{version}.zip"));
    let h1 = build_module_zip(&root, &version, &zip).unwrap();
    ToolchainModule {
        release: format!("go{}", release.trim_start_matches("go")),
        version,
        zip,
        h1,
        mod_h1: mod_h1(),
    }
}
