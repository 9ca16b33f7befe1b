//! Tests of the emulated Go download site itself (tests/support/dlsite.rs), with curl, GNU tar,
//! sha256sum and a raw std::net client, so `gomig install` tests can trust what it serves.

#[path = "support/dlsite.rs"]
mod dlsite;
mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use dlsite::{DistFile, Fault, Release, Site, TarEntry, Target};
use serde_json::Value;
use support::{go_dist, repo_root};

const GO: &str = "1.22.10";

/// Deterministic pseudo-random bytes, so no two offsets look alike.
fn pattern(len: usize) -> Vec<u8> {
    let mut x: u32 = 0x1234_5678;
    (0..len)
        .map(|_| {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (x >> 24) as u8
        })
        .collect()
}

fn fixture(dir: &Path, name: &str, len: usize) -> (PathBuf, Vec<u8>) {
    let data = pattern(len);
    let path = dir.join(name);
    std::fs::write(&path, &data).unwrap();
    (path, data)
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

fn curl(args: &[&str]) -> Output {
    run(Command::new("curl").args(["-sS", "--max-time", "60"]).args(args))
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn sha256sum(path: &Path) -> String {
    let out = run(Command::new("sha256sum").arg(path));
    assert!(out.status.success());
    stdout(&out).split_whitespace().next().unwrap().to_string()
}

fn index(site: &Site, query: &str) -> Value {
    let out = curl(&["-f", &format!("{}?{query}", site.url())]);
    assert!(out.status.success(), "index: {out:?}");
    serde_json::from_slice(&out.stdout).expect("index is JSON")
}

fn index_file<'a>(index: &'a Value, filename: &str) -> &'a Value {
    index
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["files"].as_array().unwrap())
        .find(|f| f["filename"] == filename)
        .unwrap_or_else(|| panic!("{filename} not in the index"))
}

/// How a raw response ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum End {
    /// All of Content-Length arrived.
    Complete,
    /// The server closed the connection first.
    Closed,
    /// Nothing arrived for the read timeout.
    TimedOut,
}

#[derive(Debug)]
struct Resp {
    /// 0 when no status line arrived.
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    end: End,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn content_length(&self) -> usize {
        self.header("content-length").unwrap().parse().unwrap()
    }
}

/// One request on its own connection (`Connection: close`).
fn fetch(site: &Site, method: &str, target: &str, extra: &[(&str, &str)]) -> Resp {
    fetch_timeout(site.addr(), method, target, extra, Duration::from_secs(10))
}

fn fetch_timeout(addr: SocketAddr, method: &str, target: &str, extra: &[(&str, &str)], timeout: Duration) -> Resp {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(timeout)).unwrap();
    send(&mut stream, method, target, extra, true);
    read_response(&mut stream, method == "HEAD")
}

fn send(stream: &mut TcpStream, method: &str, target: &str, extra: &[(&str, &str)], close: bool) {
    let mut req = format!("{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    if close {
        req.push_str("Connection: close\r\n");
    }
    for (name, value) in extra {
        req.push_str(&format!("{name}: {value}\r\n"));
    }
    req.push_str("\r\n");
    stream.write_all(req.as_bytes()).unwrap();
}

fn read_response(stream: &mut TcpStream, head_only: bool) -> Resp {
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    let mut resp = Resp {
        status: 0,
        headers: Vec::new(),
        body: Vec::new(),
        end: End::Complete,
    };
    // Ok(n), or the End it stopped at.
    let mut read = |stream: &mut TcpStream, into: &mut Vec<u8>| match stream.read(&mut chunk) {
        Ok(0) => Err(End::Closed),
        Ok(n) => {
            into.extend_from_slice(&chunk[..n]);
            Ok(())
        }
        Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
            Err(End::TimedOut)
        }
        Err(_) => Err(End::Closed),
    };
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        if let Err(end) = read(stream, &mut buf) {
            resp.end = end;
            return resp;
        }
    };
    let head = String::from_utf8(buf[..head_end].to_vec()).unwrap();
    let mut lines = head.split("\r\n");
    resp.status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    resp.headers = lines
        .map(|l| l.split_once(": ").unwrap())
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    resp.body = buf[head_end + 4..].to_vec();
    let want = if head_only { 0 } else { resp.content_length() };
    while resp.body.len() < want {
        if let Err(end) = read(stream, &mut resp.body) {
            resp.end = end;
            return resp;
        }
    }
    resp
}

/// A site serving one 300 000-byte file as go1.22.10's linux-amd64 archive.
fn small_site() -> (Site, String, Vec<u8>, tempfile::TempDir) {
    let tmp = tempfile::tempdir().unwrap();
    let name = "go1.22.10.linux-amd64.tar.gz".to_string();
    let (path, data) = fixture(tmp.path(), "payload", 300_000);
    let site = Site::start(vec![Release::custom("1.22.10", &name, &path)]);
    (site, name, data, tmp)
}

// --- archives --------------------------------------------------------------------------------

#[test]
fn official_archive_has_the_official_layout_and_unpacks_to_a_working_go() {
    let goroot = go_dist(GO);
    let tmp = tempfile::tempdir().unwrap();
    let (sha, size) = dlsite::official_archive(&goroot, GO, tmp.path());
    let name = dlsite::official_filename(GO);
    assert_eq!(name, "go1.22.10.linux-amd64.tar.gz");
    let archive = tmp.path().join(&name);
    assert_eq!(sha256sum(&archive), sha);
    assert_eq!(std::fs::metadata(&archive).unwrap().len(), size);

    // One verbose listing: `PERMS OWNER SIZE DATE TIME NAME`.
    let listing = run(Command::new("tar").arg("-tvzf").arg(&archive));
    assert!(listing.status.success(), "tar -tvzf: {listing:?}");
    let entries: Vec<(String, String)> = stdout(&listing)
        .lines()
        .map(|line| {
            let mut rest = line;
            let mut fields = Vec::new();
            for _ in 0..5 {
                let (field, tail) = rest.trim_start().split_once(' ').unwrap();
                fields.push(field);
                rest = tail;
            }
            (fields[0].to_string(), rest.trim_start().to_string())
        })
        .collect();
    let names: Vec<&str> = entries.iter().map(|(_, name)| name.as_str()).collect();
    assert_eq!(names[0], "go/");
    assert!(names.iter().all(|n| n.starts_with("go/")), "an entry outside go/");
    for wanted in ["go/bin/", "go/bin/go", "go/bin/gofmt", "go/VERSION", "go/src/"] {
        assert!(names.contains(&wanted), "{wanted} missing");
    }
    let mode = |name: &str| entries.iter().find(|(_, n)| n == name).unwrap().0.clone();
    assert_eq!(mode("go/bin/go"), "-rwxr-xr-x");
    assert_eq!(mode("go/bin/"), "drwxr-xr-x");
    assert_eq!(mode("go/VERSION"), "-rw-r--r--");
    let mut sorted = names.clone();
    sorted.sort_by_key(|n| n.trim_end_matches('/').split('/').collect::<Vec<_>>());
    assert_eq!(names, sorted, "entries are not sorted");

    let count = |kind: &str| {
        let out = run(Command::new("find").arg(&goroot).args(["-type", kind]));
        stdout(&out).lines().count()
    };
    let dirs = names.iter().filter(|n| n.ends_with('/')).count();
    assert_eq!(dirs, count("d"), "directories");
    assert_eq!(names.len() - dirs, count("f"), "files");
    assert!(names.iter().any(|n| n.len() > 100), "no long names exercised");

    // GNU tar's --compare checks every member's contents, size, mode and mtime against the
    // tree (owners differ when the tree is not root's: the archive says root, as go.dev's do).
    let compare = run(Command::new("tar")
        .arg("--compare")
        .arg("-zf")
        .arg(&archive)
        .arg("-C")
        .arg(goroot.parent().unwrap()));
    let report = format!("{}{}", stdout(&compare), String::from_utf8_lossy(&compare.stderr));
    let differences: Vec<&str> = report
        .lines()
        .filter(|l| !l.ends_with(": Uid differs") && !l.ends_with(": Gid differs"))
        .collect();
    assert!(differences.is_empty(), "archive differs from the tree: {differences:?}");
}

#[test]
fn archive_cache_is_reused() {
    let goroot = go_dist(GO);
    let first = dlsite::cached_archive(&goroot, GO).unwrap();
    let mtime = std::fs::metadata(&first.path).unwrap().modified().unwrap();
    let started = Instant::now();
    let second = dlsite::cached_archive(&goroot, GO).unwrap();
    assert_eq!(first, second);
    assert_eq!(
        std::fs::metadata(&second.path).unwrap().modified().unwrap(),
        mtime,
        "rebuilt"
    );
    assert!(started.elapsed() < Duration::from_secs(20));
    assert!(first.path.starts_with(repo_root().join("target/dlsite-cache")));
}

#[test]
fn hostile_tar_entries_are_written_verbatim() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("evil.tar.gz");
    let long = format!("go/{}/file", "d".repeat(120));
    let (sha, size) = dlsite::write_tar_gz(
        &out,
        &[
            TarEntry::Dir {
                name: "go/".into(),
                mode: 0o755,
            },
            TarEntry::File {
                name: "go/../evil".into(),
                mode: 0o644,
                data: b"x".to_vec(),
            },
            TarEntry::File {
                name: long.clone(),
                mode: 0o755,
                data: b"y".to_vec(),
            },
            TarEntry::Symlink {
                name: "go/link".into(),
                target: "/etc/passwd".into(),
            },
            TarEntry::Hardlink {
                name: "go/hard".into(),
                target: "../outside".into(),
            },
        ],
    );
    assert_eq!(sha256sum(&out), sha);
    assert_eq!(std::fs::metadata(&out).unwrap().len(), size);
    let listing = stdout(&run(Command::new("tar").arg("-tvzf").arg(&out)));
    assert!(listing.contains(" go/../evil\n"), "{listing}");
    assert!(listing.contains(&format!(" {long}\n")), "{listing}");
    assert!(listing.contains(" go/link -> /etc/passwd\n"), "{listing}");
    // GNU tar strips the `../` when listing a hard link target: read the raw headers.
    assert!(listing.contains(" go/hard link to "), "{listing}");
    let file = std::fs::File::open(&out).unwrap();
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let links: Vec<(Vec<u8>, Vec<u8>)> = archive
        .entries()
        .unwrap()
        .map(|e| e.unwrap())
        .filter_map(|e| Some((e.path_bytes().into_owned(), e.link_name_bytes()?.into_owned())))
        .collect();
    assert_eq!(
        links,
        [
            (b"go/link".to_vec(), b"/etc/passwd".to_vec()),
            (b"go/hard".to_vec(), b"../outside".to_vec())
        ]
    );
}

// --- the index -------------------------------------------------------------------------------

#[test]
fn index_lists_releases_newest_first_with_their_true_sha256() {
    let tmp = tempfile::tempdir().unwrap();
    let versions = [
        "1.21.13",
        "go1.23rc1",
        "1.22.10",
        "1.22.0",
        "1.23beta1",
        "1.20",
        "1.23rc2",
    ];
    let mut releases = Vec::new();
    for (i, v) in versions.iter().enumerate() {
        let name = format!("{}.linux-amd64.tar.gz", dlsite::go_version(v));
        let (path, _) = fixture(tmp.path(), &name, 1000 + i);
        releases.push(Release::custom(v, &name, &path));
    }
    let (path, _) = fixture(tmp.path(), "nosum", 10);
    releases.push(Release::custom("1.19.1", "go1.19.1.linux-amd64.tar.gz", &path).omit_sha256());
    let site = Site::start(releases);

    let all = index(&site, "mode=json&include=all");
    let listed: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["version"].as_str().unwrap())
        .collect();
    assert_eq!(
        listed,
        [
            "go1.23rc2",
            "go1.23rc1",
            "go1.23beta1",
            "go1.22.10",
            "go1.22.0",
            "go1.21.13",
            "go1.20",
            "go1.19.1"
        ]
    );
    for release in all.as_array().unwrap() {
        let version = release["version"].as_str().unwrap();
        let unstable = version.contains("rc") || version.contains("beta");
        assert_eq!(release["stable"], !unstable, "{version}");
    }
    let file = index_file(&all, "go1.22.10.linux-amd64.tar.gz");
    assert_eq!(file["os"], "linux");
    assert_eq!(file["arch"], "amd64");
    assert_eq!(file["kind"], "archive");
    assert_eq!(file["version"], "go1.22.10");
    let on_disk = tmp.path().join("go1.22.10.linux-amd64.tar.gz");
    assert_eq!(file["sha256"], sha256sum(&on_disk));
    assert_eq!(file["size"], std::fs::metadata(&on_disk).unwrap().len());
    let unsummed = index_file(&all, "go1.19.1.linux-amd64.tar.gz");
    assert!(unsummed.get("sha256").is_none(), "{unsummed}");

    // Without include=all go.dev lists the supported releases: the newest stable of the two
    // newest stable minor versions.
    let supported = index(&site, "mode=json");
    let listed: Vec<&str> = supported
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["version"].as_str().unwrap())
        .collect();
    assert_eq!(listed, ["go1.22.10", "go1.21.13"]);

    assert!(site.requests().contains(&"GET /dl/?mode=json&include=all".to_string()));
}

#[test]
fn real_release_is_listed_and_downloads_intact() {
    let site = Site::start(vec![Release::from_goroot(GO, &go_dist(GO))]);
    let name = dlsite::official_filename(GO);
    let all = index(&site, "mode=json&include=all");
    let entry = index_file(&all, &name);
    let cached = dlsite::cached_archive(&go_dist(GO), GO).unwrap();
    assert_eq!(entry["sha256"], sha256sum(&cached.path));
    assert_eq!(entry["size"], cached.size);
    let source = index_file(&all, "go1.22.10.src.tar.gz");
    assert_eq!(source["kind"], "source");
    assert_eq!(source["os"], "");
    assert_eq!(index_file(&all, "go1.22.10.windows-amd64.msi")["kind"], "installer");

    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join(&name);
    let got = curl(&["-f", "-o", out.to_str().unwrap(), &site.file_url(&name)]);
    assert!(got.status.success(), "{got:?}");
    assert_eq!(entry["sha256"], sha256sum(&out));
    assert_eq!(site.downloads(&name), 1);

    // Other platforms' files are listed but not served.
    let other = curl(&["-f", "-o", "/dev/null", &site.file_url("go1.22.10.darwin-arm64.tar.gz")]);
    assert_eq!(other.status.code(), Some(22), "{other:?}");
}

#[test]
fn releases_can_be_replaced_while_running() {
    let (site, name, _, tmp) = small_site();
    let (path, _) = fixture(tmp.path(), "newer", 100);
    site.set_releases(vec![
        Release::custom("1.22.10", &name, &tmp.path().join("payload")),
        Release::custom("1.23.0", "go1.23.0.linux-amd64.tar.gz", &path),
    ]);
    let all = index(&site, "mode=json&include=all");
    assert_eq!(all[0]["version"], "go1.23.0");
    assert_eq!(fetch(&site, "GET", "/dl/go1.23.0.linux-amd64.tar.gz", &[]).status, 200);
}

// --- downloads -------------------------------------------------------------------------------

#[test]
fn ranges_are_honoured() {
    let (site, name, data, _tmp) = small_site();
    let target = format!("/dl/{name}");

    let full = fetch(&site, "GET", &target, &[]);
    assert_eq!((full.status, full.end), (200, End::Complete));
    assert_eq!(full.body, data);
    assert_eq!(full.header("accept-ranges"), Some("bytes"));

    let rest = fetch(&site, "GET", &target, &[("Range", "bytes=1000-")]);
    assert_eq!((rest.status, rest.end), (206, End::Complete));
    assert_eq!(rest.header("content-range"), Some("bytes 1000-299999/300000"));
    assert_eq!(rest.content_length(), 299_000);
    assert_eq!(rest.body, data[1000..]);

    let slice = fetch(&site, "GET", &target, &[("Range", "bytes=10-19")]);
    assert_eq!(slice.status, 206);
    assert_eq!(slice.body, data[10..20]);

    let beyond = fetch(&site, "GET", &target, &[("Range", "bytes=300000-")]);
    assert_eq!(beyond.status, 416);
    assert_eq!(beyond.header("content-range"), Some("bytes */300000"));

    let head = fetch(&site, "HEAD", &target, &[]);
    assert_eq!(head.status, 200);
    assert_eq!(head.content_length(), 300_000);
    assert!(head.body.is_empty());

    assert!(site.requests().contains(&format!("GET {target} Range: bytes=1000-")));
    assert_eq!(fetch(&site, "GET", "/dl/nope.tar.gz", &[]).status, 404);
    assert_eq!(fetch(&site, "POST", &target, &[]).status, 405);
}

#[test]
fn connections_are_kept_alive() {
    let (site, name, data, _tmp) = small_site();
    let mut stream = TcpStream::connect(site.addr()).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    for _ in 0..3 {
        send(&mut stream, "GET", &format!("/dl/{name}"), &[], false);
        let resp = read_response(&mut stream, false);
        assert_eq!((resp.status, resp.end), (200, End::Complete));
        assert_eq!(resp.body, data);
    }
    assert_eq!(site.downloads(&name), 3);
}

#[test]
fn concurrent_downloads_are_all_intact() {
    let (site, name, data, _tmp) = small_site();
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..8)
            .map(|_| s.spawn(|| fetch(&site, "GET", &format!("/dl/{name}"), &[])))
            .collect();
        for w in workers {
            assert_eq!(w.join().unwrap().body, data);
        }
    });
}

#[test]
fn redirects_like_go_dev() {
    let (site, name, data, tmp) = small_site();
    site.redirect_downloads(true);
    let first = fetch(&site, "GET", &format!("/dl/{name}"), &[]);
    assert_eq!(first.status, 302);
    let location = format!("http://{}/go/{name}", site.addr());
    assert_eq!(first.header("location"), Some(location.as_str()));
    let out = tmp.path().join("out");
    let got = curl(&["-fL", "-o", out.to_str().unwrap(), &site.file_url(&name)]);
    assert!(got.status.success(), "{got:?}");
    assert_eq!(std::fs::read(&out).unwrap(), data);
    assert_eq!(site.downloads(&name), 1);
}

// --- faults ----------------------------------------------------------------------------------

#[test]
fn drop_after_cuts_the_body_and_a_range_request_resumes() {
    let (site, name, data, tmp) = small_site();
    let target = format!("/dl/{name}");
    site.fault_times(name.as_str(), Fault::DropAfter(100_000), 1);
    let cut = fetch(&site, "GET", &target, &[]);
    assert_eq!((cut.status, cut.end), (200, End::Closed));
    assert_eq!(cut.content_length(), 300_000);
    assert_eq!(cut.body, data[..100_000]);
    let rest = fetch(&site, "GET", &target, &[("Range", "bytes=100000-")]);
    assert_eq!((rest.status, rest.end), (206, End::Complete));
    assert_eq!([cut.body, rest.body].concat(), data);

    // The same with curl: a partial transfer, then `-C -` resumes it.
    site.fault_times(name.as_str(), Fault::DropAfter(123_456), 1);
    let out = tmp.path().join("out");
    let first = curl(&["-o", out.to_str().unwrap(), &site.file_url(&name)]);
    assert_eq!(first.status.code(), Some(18), "partial file: {first:?}");
    assert_eq!(std::fs::metadata(&out).unwrap().len(), 123_456);
    let resumed = curl(&["-f", "-C", "-", "-o", out.to_str().unwrap(), &site.file_url(&name)]);
    assert!(resumed.status.success(), "{resumed:?}");
    assert_eq!(std::fs::read(&out).unwrap(), data);
    assert!(site.requests().contains(&format!("GET {target} Range: bytes=123456-")));
}

#[test]
fn status_faults_last_for_their_count_and_not_found_until_cleared() {
    let (site, name, _, _tmp) = small_site();
    let target = format!("/dl/{name}");
    site.fault_times(name.as_str(), Fault::Status(500), 2);
    let statuses: Vec<u16> = (0..3).map(|_| fetch(&site, "GET", &target, &[]).status).collect();
    assert_eq!(statuses, [500, 500, 200]);

    site.fault(name.as_str(), Fault::NotFound);
    assert_eq!(fetch(&site, "GET", &target, &[]).status, 404);
    assert_eq!(fetch(&site, "GET", &target, &[]).status, 404);
    site.clear_faults();
    assert_eq!(fetch(&site, "GET", &target, &[]).status, 200);
}

#[test]
fn faults_apply_only_to_their_target() {
    let (site, name, _, tmp) = small_site();
    let (other_path, _) = fixture(tmp.path(), "other", 10);
    site.set_releases(vec![
        Release::custom("1.22.10", &name, &tmp.path().join("payload")),
        Release::custom("1.21.13", "go1.21.13.linux-amd64.tar.gz", &other_path),
    ]);
    site.fault(name.as_str(), Fault::NotFound);
    site.fault(Target::Index, Fault::Status(503));
    assert_eq!(fetch(&site, "GET", &format!("/dl/{name}"), &[]).status, 404);
    assert_eq!(fetch(&site, "GET", "/dl/go1.21.13.linux-amd64.tar.gz", &[]).status, 200);
    assert_eq!(fetch(&site, "GET", "/dl/?mode=json&include=all", &[]).status, 503);
    site.clear_faults();
    site.fault(Target::All, Fault::Status(502));
    assert_eq!(fetch(&site, "GET", "/dl/go1.21.13.linux-amd64.tar.gz", &[]).status, 502);
    assert_eq!(fetch(&site, "GET", "/dl/?mode=json", &[]).status, 502);
}

#[test]
fn stall_sends_headers_then_nothing_and_the_site_still_stops_promptly() {
    let (site, name, data, _tmp) = small_site();
    let target = format!("/dl/{name}");
    site.fault(name.as_str(), Fault::Stall);
    let short = Duration::from_millis(500);
    let stalled = fetch_timeout(site.addr(), "GET", &target, &[], short);
    assert_eq!((stalled.status, stalled.end), (200, End::TimedOut));
    assert_eq!(stalled.content_length(), data.len());
    assert!(stalled.body.is_empty());

    let timed_out = curl(&["--max-time", "1", "-o", "/dev/null", &site.file_url(&name)]);
    assert_eq!(timed_out.status.code(), Some(28), "{timed_out:?}");

    site.clear_faults();
    site.fault(name.as_str(), Fault::StallAfter(1000));
    let partial = fetch_timeout(site.addr(), "GET", &target, &[], short);
    assert_eq!((partial.status, partial.end), (200, End::TimedOut));
    assert_eq!(partial.body, data[..1000]);

    // A stalled connection held open by the client does not keep the site alive.
    let mut held = TcpStream::connect(site.addr()).unwrap();
    send(&mut held, "GET", &target, &[], false);
    std::thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    drop(site);
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
}

#[test]
fn no_response_and_down() {
    let (site, name, _, _tmp) = small_site();
    let target = format!("/dl/{name}");
    site.fault_times(Target::Index, Fault::NoResponse, 1);
    let silent = fetch_timeout(site.addr(), "GET", "/dl/?mode=json", &[], Duration::from_millis(500));
    assert_eq!((silent.status, silent.end), (0, End::TimedOut));

    site.fault(Target::All, Fault::Down);
    let closed = fetch(&site, "GET", &target, &[]);
    assert_eq!((closed.status, closed.end), (0, End::Closed));
    let empty = curl(&["-o", "/dev/null", &site.file_url(&name)]);
    assert_eq!(empty.status.code(), Some(52), "empty reply: {empty:?}");
    let log = site.request_log();
    assert_eq!(log.last().unwrap().status, None);
}

#[test]
fn stopped_site_and_unused_url_refuse_connections() {
    let (site, name, _, _tmp) = small_site();
    site.stop();
    let err = TcpStream::connect(site.addr()).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
    let refused = curl(&["-o", "/dev/null", &site.file_url(&name)]);
    assert_eq!(refused.status.code(), Some(7), "{refused:?}");
    let nowhere = curl(&["-o", "/dev/null", &dlsite::unused_url()]);
    assert_eq!(nowhere.status.code(), Some(7), "{nowhere:?}");
    site.stop();
}

#[test]
fn flip_byte_corrupts_one_byte_and_the_index_keeps_the_true_sum() {
    let (site, name, data, tmp) = small_site();
    site.fault(name.as_str(), Fault::FlipByte(200_000));
    let got = fetch(&site, "GET", &format!("/dl/{name}"), &[]);
    assert_eq!((got.status, got.end), (200, End::Complete));
    let diffs: Vec<usize> = (0..data.len()).filter(|&i| got.body[i] != data[i]).collect();
    assert_eq!(diffs, [200_000]);
    assert_eq!(got.body[200_000], !data[200_000]);
    // The flipped offset is absolute: a resumed range sees it too.
    let tail = fetch(&site, "GET", &format!("/dl/{name}"), &[("Range", "bytes=199999-")]);
    assert_eq!(tail.body[1], !data[200_000]);
    let all = index(&site, "mode=json&include=all");
    assert_eq!(
        index_file(&all, &name)["sha256"],
        sha256sum(&tmp.path().join("payload"))
    );
}

#[test]
fn truncate_serves_a_prefix_with_a_matching_length() {
    let (site, name, data, _tmp) = small_site();
    site.fault(name.as_str(), Fault::Truncate(1000));
    let got = fetch(&site, "GET", &format!("/dl/{name}"), &[]);
    assert_eq!((got.status, got.end), (200, End::Complete));
    assert_eq!(got.content_length(), 1000);
    assert_eq!(got.body, data[..1000]);
}

#[test]
fn wrong_size_lists_another_size_but_serves_the_file() {
    let (site, name, data, _tmp) = small_site();
    site.fault(name.as_str(), Fault::WrongSize);
    let all = index(&site, "mode=json&include=all");
    assert_eq!(index_file(&all, &name)["size"], data.len() as u64 + 1);
    let got = fetch(&site, "GET", &format!("/dl/{name}"), &[]);
    assert_eq!(got.body, data);
}

#[test]
fn ignore_range_answers_200_with_everything() {
    let (site, name, data, _tmp) = small_site();
    site.fault(name.as_str(), Fault::IgnoreRange);
    let got = fetch(&site, "GET", &format!("/dl/{name}"), &[("Range", "bytes=1000-")]);
    assert_eq!((got.status, got.end), (200, End::Complete));
    assert!(got.header("content-range").is_none());
    assert_eq!(got.body, data);
}

#[test]
fn listed_files_and_custom_metadata_render_as_given() {
    let tmp = tempfile::tempdir().unwrap();
    let (path, _) = fixture(tmp.path(), "payload", 10);
    let release = Release::custom("1.22.10", "weird-name.bin", &path)
        .with_file(DistFile::listed("go1.22.10.linux-arm64.tar.gz"))
        .with_file(DistFile::new("go1.22.10.src.tar.gz", &path));
    let site = Site::start(vec![release]);
    let all = index(&site, "mode=json&include=all");
    let (os, arch) = dlsite::host_platform();
    assert_eq!(index_file(&all, "weird-name.bin")["os"], os);
    assert_eq!(index_file(&all, "weird-name.bin")["arch"], arch);
    assert_eq!(index_file(&all, "go1.22.10.linux-arm64.tar.gz")["arch"], "arm64");
    assert_eq!(index_file(&all, "go1.22.10.src.tar.gz")["kind"], "source");
    assert_eq!(fetch(&site, "GET", "/dl/go1.22.10.linux-arm64.tar.gz", &[]).status, 404);
    assert_eq!(fetch(&site, "GET", "/dl/weird-name.bin", &[]).status, 200);
}

#[test]
fn redirect_to_and_html_page_answer_as_told() {
    let (site, name, _data, _tmp) = small_site();
    let target = format!("/dl/{name}");
    site.fault_times(name.as_str(), Fault::RedirectTo("file:///etc/passwd".into()), 1);
    let moved = fetch(&site, "GET", &target, &[]);
    assert_eq!(
        (moved.status, moved.header("location")),
        (302, Some("file:///etc/passwd"))
    );
    site.fault_times(name.as_str(), Fault::HtmlPage, 1);
    let page = fetch(&site, "GET", &target, &[]);
    assert_eq!(page.status, 200);
    assert!(page.header("content-type").unwrap().starts_with("text/html"));
    assert_eq!(page.body, dlsite::HTML_PAGE.as_bytes());
    assert_eq!(fetch(&site, "GET", &target, &[]).status, 200);
}

#[test]
fn pad_to_pads_the_index_with_spaces_and_it_stays_json() {
    let (site, _name, _data, _tmp) = small_site();
    let plain = fetch(&site, "GET", "/dl/?mode=json&include=all", &[]);
    site.fault_times(Target::Index, Fault::PadTo(1 << 20), 1);
    let padded = fetch(&site, "GET", "/dl/?mode=json&include=all", &[]);
    assert_eq!((padded.content_length(), padded.body.len()), (1 << 20, 1 << 20));
    assert_eq!(padded.body[..plain.body.len()], plain.body[..]);
    assert!(padded.body[plain.body.len()..].iter().all(|b| *b == b' '));
    let _: Value = serde_json::from_slice(&padded.body).expect("still JSON");
}

#[test]
fn drip_sends_the_body_a_byte_at_a_time() {
    let (site, name, data, _tmp) = small_site();
    site.fault(name.as_str(), Fault::Drip(Duration::from_millis(50)));
    let start = Instant::now();
    let cut = fetch_timeout(
        site.addr(),
        "GET",
        &format!("/dl/{name}"),
        &[("Range", "bytes=0-9")],
        Duration::from_secs(5),
    );
    assert_eq!((cut.status, cut.end), (206, End::Complete));
    assert_eq!(cut.body, data[..10]);
    assert!(start.elapsed() >= Duration::from_millis(450), "{:?}", start.elapsed());
}
