//! The Go checksum database, as the go command's client uses it (golang.org/x/mod/sumdb,
//! cmd/go/internal/modfetch/sumdb.go), for the one module gomig downloads from a proxy.
//!
//! `GOSUMDB` is read as Go reads it: `sum.golang.org` (its built-in key), a verifier key
//! `name+hash+key`, either followed by a URL, or `sum.golang.google.cn` (sum.golang.org's key
//! at that URL). Without a URL the database is reached through the first proxy that answers
//! `<proxy>/sumdb/<name>/supported`, else directly at `https://<name>`. `GOSUMDB=off` is refused:
//! like the go command, gomig never installs a toolchain the database has not vouched for.
//!
//! A lookup checks the signed tree head (a signed note, Ed25519, by the configured key), that
//! it is consistent with the newest tree head gomig saw before (kept in
//! `state/sumdb/<name>/latest`, as Go keeps `$GOPATH/pkg/sumdb/<name>/latest`), and that the
//! record is in the tree, through the log's tiles (height 8); only then are its lines used.
//! Tiles are not cached: each install fetches the few it needs again.

use std::cell::RefCell;
use std::fs::{self, File};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use signed_note::{Note, NoteError, StandardVerifier, Verifier, VerifierList};
use tlog_tiles::{Hash, HashReader, Tile, TileHashReader, TileReader};

use crate::install::download::{DownloadError, Http};
use crate::install::goenv::{self, GoSetting};
use crate::install::modproxy::ProxyList;

pub const DEFAULT_GOSUMDB: &str = "sum.golang.org";
/// cmd/go's knownGOSUMDB.
const SUM_GOLANG_ORG: &str = "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8";
const TILE_HEIGHT: u8 = 8;
/// A lookup answer (a record and a signed tree head) or `supported`: small documents.
const MAX_ANSWER: u64 = 1 << 20;
/// A full tile of height 8 is 256 hashes of 32 bytes.
const MAX_TILE: u64 = 256 * 32;
const TREE_HEADER: &str = "go.sum database tree";

#[derive(Debug, thiserror::Error)]
pub enum SumDbError {
    #[error(
        "{from} is off, but Go toolchains are installed only when the checksum database vouches for them (as the go command itself requires for golang.org/toolchain; GONOSUMDB and GOPRIVATE do not apply either): unset GOSUMDB to use sum.golang.org, or set it to a database you trust (GOSUMDB=NAME+HASH+KEY [URL])"
    )]
    Off { from: String },
    #[error(
        "{from} is {value:?}, which is not a checksum database: {why}; unset it for sum.golang.org, or set it to NAME+HASH+KEY [URL]"
    )]
    BadSetting { value: String, from: String, why: String },
    #[error("cannot reach the checksum database {name}: {source}")]
    Fetch { name: String, source: DownloadError },
    #[error(
        "{url}: the checksum database's answer is malformed ({what}); the server is not a Go checksum database, or is broken"
    )]
    Malformed { url: String, what: String },
    #[error(
        "{url}: the tree head is not signed by the key gomig trusts for {name} ({key}); it is signed by {signers}: this server is not the checksum database it claims to be; if you meant to use another database, set GOSUMDB to its key"
    )]
    UnknownKey {
        url: String,
        name: String,
        /// The key and where it was set.
        key: String,
        signers: String,
    },
    #[error(
        "{url}: the tree head's signature by {name} does not verify: it was forged or damaged on the way; nothing from this server can be trusted"
    )]
    BadSignature { url: String, name: String },
    #[error("{0}")]
    Fork(Box<Fork>),
    #[error(
        "{url}: the checksum database's tiles do not hash to its signed tree head (size {size}): the server sent hashes that are not in the log it signed ({detail})"
    )]
    BadTiles { url: String, size: u64, detail: String },
    #[error(
        "{url}: record {id} of the checksum database is not proven by its log of size {size} ({detail}): the answer does not come from the signed log"
    )]
    RecordNotProven {
        url: String,
        id: i64,
        size: u64,
        detail: String,
    },
    #[error(
        "{path}: {source}; the checksum database's last tree head cannot be kept, so gomig cannot check the next one"
    )]
    State { path: String, source: std::io::Error },
    #[error(
        "{path} holds a tree head that does not verify with the key of {name} ({why}); if GOSUMDB's key changed on purpose, move that file away"
    )]
    SavedUnreadable { path: String, name: String, why: String },
}

/// Two tree heads that cannot both be true of one log.
#[derive(Debug)]
pub struct Fork {
    name: String,
    url: String,
    saved: String,
    old_size: u64,
    old_root: String,
    new_size: u64,
    new_root: String,
}

impl std::fmt::Display for Fork {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SECURITY ERROR: the checksum database {} has forked: its tree head from {} (size {}, root {}) is not consistent with the one gomig saw before, saved in {} (size {}, root {}); a log that shows two histories is misbehaving. Do not delete {} unless you know why the log changed; report it to the database's operators",
            self.name, self.url, self.new_size, self.new_root, self.saved, self.old_size, self.old_root, self.saved
        )
    }
}

/// A checksum database as `GOSUMDB` names it.
#[derive(Debug, Clone)]
pub struct SumDb {
    pub name: String,
    /// The verifier key, `name+hash+key`.
    pub key: String,
    /// An explicit URL (the second field of GOSUMDB), bypassing proxies.
    pub url: Option<String>,
    pub setting: GoSetting,
}

pub fn gosumdb_from_go() -> GoSetting {
    goenv::setting("GOSUMDB", DEFAULT_GOSUMDB)
}

/// Parses `GOSUMDB` as cmd/go's dbDial does.
pub fn parse(setting: GoSetting) -> Result<SumDb, SumDbError> {
    let bad = |why: &str| SumDbError::BadSetting {
        value: setting.value.clone(),
        from: setting.from.clone(),
        why: why.to_string(),
    };
    let mut value = setting.value.trim().to_string();
    if value == "sum.golang.google.cn" {
        value = "sum.golang.org https://sum.golang.google.cn".into();
    }
    if value == "off" {
        return Err(SumDbError::Off { from: setting.from });
    }
    let fields: Vec<&str> = value.split_whitespace().collect();
    let (key, url) = match fields.as_slice() {
        [] => return Err(bad("it is empty")),
        [key] => (*key, None),
        [key, url] => (*key, Some(*url)),
        _ => return Err(bad("too many fields")),
    };
    let key = if key == DEFAULT_GOSUMDB { SUM_GOLANG_ORG } else { key };
    let verifier = StandardVerifier::new(key).map_err(|e| bad(&format!("not a verifier key ({e})")))?;
    let name = verifier.name().to_string();
    let name_ok = !name.is_empty()
        && !name.starts_with('/')
        && !name.ends_with('/')
        && name.split('/').all(|c| !c.is_empty() && c != "." && c != "..")
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b".-_:/".contains(&b));
    if !name_ok {
        return Err(bad("its name must be host[/path]"));
    }
    let url = match url {
        Some(u) if u.starts_with("https://") || u.starts_with("http://") => Some(u.trim_end_matches('/').to_string()),
        Some(_) => return Err(bad("its URL must start with https:// or http://")),
        None => None,
    };
    Ok(SumDb {
        name,
        key: key.to_string(),
        url,
        setting,
    })
}

/// A tree head: size and root hash.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Tree {
    n: u64,
    hash: Hash,
}

/// Go's tlog.ParseTree: `go.sum database tree\nN\nHASH\n`, later lines ignored.
fn parse_tree(text: &[u8]) -> Option<Tree> {
    let text = std::str::from_utf8(text).ok()?;
    let mut f = text.splitn(4, '\n');
    let (header, n, hash) = (f.next()?, f.next()?, f.next()?);
    f.next()?;
    if header != TREE_HEADER {
        return None;
    }
    let n: u64 = n.parse().ok().filter(|&n: &u64| n < 1 << 63)?;
    let hash = Hash::parse_hash(hash).ok()?;
    Some(Tree { n, hash })
}

/// Go's tlog.ParseRecord: `ID\nTEXT\n\nSIGNED-TREE`.
fn parse_record(msg: &[u8]) -> Option<(i64, &[u8], &[u8])> {
    let i = msg.iter().position(|&b| b == b'\n')?;
    let id: i64 = std::str::from_utf8(&msg[..i]).ok()?.parse().ok()?;
    let rest = &msg[i + 1..];
    let j = rest.windows(2).position(|w| w == b"\n\n")?;
    Some((id, &rest[..=j], &rest[j + 2..]))
}

/// What a lookup proved: the record's lines for the module version.
#[derive(Debug)]
pub struct Verified {
    pub lines: Vec<String>,
    /// Where the record came from, and the size of the tree that proved it.
    pub url: String,
    pub tree_size: u64,
}

pub struct Client<'a> {
    pub http: &'a Http,
    pub db: SumDb,
    pub proxies: Option<&'a ProxyList>,
    /// `state/sumdb` of the store.
    pub state_dir: PathBuf,
}

/// Reads tiles from the server; the first fetch failure is kept for the message.
struct Tiles<'a> {
    http: &'a Http,
    base: String,
    failure: RefCell<Option<DownloadError>>,
}

impl TileReader for Tiles<'_> {
    fn height(&self) -> u8 {
        TILE_HEIGHT
    }

    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, tlog_tiles::Error> {
        let mut out = Vec::with_capacity(tiles.len());
        for tile in tiles {
            let want = tile.width() as usize * tlog_tiles::HASH_SIZE;
            let url = format!("{}/{}", self.base, tile.path());
            let data = match self.http.get_bytes(&url, MAX_TILE) {
                Ok(d) => d,
                // A partial tile the log has completed since is served in full only (as Go reads it).
                Err(DownloadError::NotFound { .. }) if tile.width() < 1 << tile.height() => {
                    let full = Tile::new(
                        tile.height(),
                        tile.level(),
                        tile.level_index(),
                        1 << tile.height(),
                        false,
                    );
                    let url = format!("{}/{}", self.base, full.path());
                    self.http.get_bytes(&url, MAX_TILE).map_err(|e| self.fail(e))?
                }
                Err(e) => return Err(self.fail(e)),
            };
            if data.len() < want {
                return Err(tlog_tiles::Error::InvalidInput(format!(
                    "{url} holds {} bytes, not the {want} of {} hashes",
                    data.len(),
                    tile.width()
                )));
            }
            out.push(data[..want].to_vec());
        }
        Ok(out)
    }

    fn save_tiles(&self, _tiles: &[Tile], _data: &[Vec<u8>]) {}
}

impl Tiles<'_> {
    fn fail(&self, e: DownloadError) -> tlog_tiles::Error {
        let message = e.to_string();
        self.failure.borrow_mut().get_or_insert(e);
        tlog_tiles::Error::InvalidInput(message)
    }
}

fn lock(path: &Path) -> std::io::Result<File> {
    let file = File::options().create(true).truncate(false).write(true).open(path)?;
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(file)
}

impl Client<'_> {
    fn fetch_err(&self, source: DownloadError) -> SumDbError {
        SumDbError::Fetch {
            name: self.db.name.clone(),
            source,
        }
    }

    /// Where the database is reached (cmd/go's dbClient.initBase).
    fn base(&self) -> Result<String, SumDbError> {
        if let Some(url) = &self.db.url {
            return Ok(url.clone());
        }
        if let Some(list) = self.proxies {
            for entry in list.entries.iter().filter(|e| !e.direct) {
                let base = format!("{}/sumdb/{}", entry.base, self.db.name);
                match self.http.get_bytes(&format!("{base}/supported"), MAX_ANSWER) {
                    Ok(_) => return Ok(base),
                    Err(DownloadError::NotFound { .. } | DownloadError::Status { status: 410, .. }) => {}
                    Err(_) if entry.fall_back_on_error => {}
                    Err(e) => return Err(self.fetch_err(e)),
                }
            }
        }
        Ok(format!("https://{}", self.db.name))
    }

    /// A signed tree head, verified with the database's key.
    fn open_tree(&self, msg: &[u8], url: &str) -> Result<Tree, SumDbError> {
        let malformed = |what: &str| SumDbError::Malformed {
            url: url.to_string(),
            what: what.to_string(),
        };
        let note = Note::from_bytes(msg).map_err(|_| malformed("the tree head is not a signed note"))?;
        let verifier = StandardVerifier::new(&self.db.key).map_err(|_| malformed("bad key"))?;
        let known = VerifierList::new(vec![Box::new(verifier)]);
        match note.verify(&known) {
            Ok(_) => {}
            Err(NoteError::UnverifiedNote) => {
                let signers = signer_names(msg);
                return Err(SumDbError::UnknownKey {
                    url: url.to_string(),
                    name: self.db.name.clone(),
                    key: format!("{}, from {}", self.db.key, self.db.setting.from),
                    signers,
                });
            }
            Err(NoteError::InvalidSignature { name, .. }) => {
                return Err(SumDbError::BadSignature {
                    url: url.to_string(),
                    name,
                });
            }
            Err(e) => return Err(malformed(&format!("its signatures: {e}"))),
        }
        parse_tree(note.text()).ok_or_else(|| malformed("the signed text is not a go.sum database tree"))
    }

    /// The go.sum lines the database holds for `module@version`, proven by its log.
    pub fn lookup(&self, module: &str, version: &str) -> Result<Verified, SumDbError> {
        let base = self.base()?;
        let url = format!("{base}/lookup/{module}@{version}");
        let data = self.http.get_bytes(&url, MAX_ANSWER).map_err(|e| self.fetch_err(e))?;
        let (id, text, tree_msg) = parse_record(&data).ok_or_else(|| SumDbError::Malformed {
            url: url.clone(),
            what: "not ID, record, blank line, tree head".into(),
        })?;
        let tree = self.open_tree(tree_msg, &url)?;
        let tiles = Tiles {
            http: self.http,
            base: base.clone(),
            failure: RefCell::new(None),
        };
        let latest = self.merge_latest(tree, tree_msg, &tiles, &url)?;
        let (Ok(index), true) = (u64::try_from(id), id >= 0 && (id as u64) < latest.n) else {
            return Err(SumDbError::RecordNotProven {
                url,
                id,
                size: latest.n,
                detail: "no such record in the tree".into(),
            });
        };
        let leaf = TileHashReader::new(latest.n, latest.hash, &tiles)
            .read_hashes(&[tlog_tiles::stored_hash_index(0, index)])
            .map_err(|e| self.tile_error(&tiles, &url, latest.n, e))?;
        if leaf.first() != Some(&tlog_tiles::record_hash(text)) {
            return Err(SumDbError::RecordNotProven {
                url,
                id,
                size: latest.n,
                detail: "its text does not hash to the log's leaf".into(),
            });
        }
        let prefix = format!("{module} {version}");
        let lines = String::from_utf8_lossy(text)
            .lines()
            .filter(|l| l.starts_with(&prefix))
            .map(str::to_string)
            .collect();
        Ok(Verified {
            lines,
            url,
            tree_size: latest.n,
        })
    }

    fn tile_error(&self, tiles: &Tiles<'_>, url: &str, size: u64, e: tlog_tiles::Error) -> SumDbError {
        if let Some(failure) = tiles.failure.borrow_mut().take() {
            return self.fetch_err(failure);
        }
        SumDbError::BadTiles {
            url: url.to_string(),
            size,
            detail: e.to_string(),
        }
    }

    /// Checks `tree` against the tree head saved before and saves it if it is newer; returns
    /// the newer of the two (cmd/go's mergeLatest).
    fn merge_latest(&self, tree: Tree, msg: &[u8], tiles: &Tiles<'_>, url: &str) -> Result<Tree, SumDbError> {
        let dir = self.state_dir.join(&self.db.name);
        let state = |path: &Path, source| SumDbError::State {
            path: path.display().to_string(),
            source,
        };
        fs::create_dir_all(&dir).map_err(|e| state(&dir, e))?;
        let saved_path = dir.join("latest");
        let lock_path = dir.join("latest.lock");
        // Two gomig at once: one reads, checks and writes at a time, so none goes back in time.
        let _lock = lock(&lock_path).map_err(|e| state(&lock_path, e))?;
        let saved = match fs::read(&saved_path) {
            Ok(bytes) if !bytes.is_empty() => {
                let shown = saved_path.display().to_string();
                let old = self
                    .open_tree(&bytes, &shown)
                    .map_err(|e| SumDbError::SavedUnreadable {
                        path: shown.clone(),
                        name: self.db.name.clone(),
                        why: e.to_string(),
                    })?;
                Some(old)
            }
            Ok(_) => None,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(state(&saved_path, e)),
        };
        let fork = |old: Tree| {
            SumDbError::Fork(Box::new(Fork {
                name: self.db.name.clone(),
                url: url.to_string(),
                saved: saved_path.display().to_string(),
                old_size: old.n,
                old_root: old.hash.to_string(),
                new_size: tree.n,
                new_root: tree.hash.to_string(),
            }))
        };
        let newer = match saved {
            None => true,
            Some(old) if old.n == tree.n => {
                if old.hash != tree.hash {
                    return Err(fork(old));
                }
                false
            }
            Some(old) => {
                // The older head must be a prefix of the newer one, hashed from the newer's tiles.
                let (older, newer) = if old.n < tree.n { (old, tree) } else { (tree, old) };
                let reader = TileHashReader::new(newer.n, newer.hash, tiles);
                let h = tlog_tiles::tree_hash(older.n, &reader).map_err(|e| self.tile_error(tiles, url, newer.n, e))?;
                if h != older.hash {
                    return Err(fork(old));
                }
                old.n < tree.n
            }
        };
        if newer {
            crate::store::atomic::write_atomic(&saved_path, msg).map_err(|e| state(&saved_path, e.source))?;
            return Ok(tree);
        }
        Ok(saved.unwrap_or(tree))
    }
}

/// `name+id` of each signature line of a note, for messages.
fn signer_names(msg: &[u8]) -> String {
    let text = String::from_utf8_lossy(msg);
    let names: Vec<String> = text
        .rsplit_once("\n\n")
        .map(|(_, sigs)| sigs)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| signed_note::Signature::from_bytes(l.as_bytes()).ok())
        .map(|s| format!("{}+{:08x}", s.name(), s.id()))
        .collect();
    if names.is_empty() {
        "no key at all".into()
    } else {
        names.join(", ")
    }
}

/// Go's dirhash.Hash1 of files given as (name, hex SHA-256) pairs: `h1:` and the base64
/// SHA-256 of the lines `HEX  NAME\n`, sorted by name.
pub fn hash1(files: &mut [(String, String)]) -> String {
    use sha2::Digest;
    files.sort_by(|a, b| a.0.cmp(&b.0));
    let mut summary = sha2::Sha256::new();
    for (name, sum) in files.iter() {
        summary.update(format!("{sum}  {name}\n").as_bytes());
    }
    let digest: [u8; 32] = summary.finalize().into();
    // tlog's Hash prints as standard base64, as dirhash does.
    format!("h1:{}", Hash(digest))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setting(v: &str) -> GoSetting {
        GoSetting {
            value: v.into(),
            from: "GOSUMDB".into(),
        }
    }

    #[test]
    fn gosumdb_is_read_as_go_reads_it() {
        let db = parse(setting("sum.golang.org")).unwrap();
        assert_eq!(
            (db.name.as_str(), db.key.as_str(), db.url.as_deref()),
            ("sum.golang.org", SUM_GOLANG_ORG, None)
        );
        let cn = parse(setting("sum.golang.google.cn")).unwrap();
        assert_eq!(
            (cn.name.as_str(), cn.url.as_deref()),
            ("sum.golang.org", Some("https://sum.golang.google.cn"))
        );
        let own = parse(setting(&format!("{SUM_GOLANG_ORG} http://127.0.0.1:1/"))).unwrap();
        assert_eq!(own.url.as_deref(), Some("http://127.0.0.1:1"));
        assert!(matches!(parse(setting("off")), Err(SumDbError::Off { .. })));
        assert!(matches!(parse(setting("a b c")), Err(SumDbError::BadSetting { .. })));
        assert!(matches!(
            parse(setting("example.com")),
            Err(SumDbError::BadSetting { .. })
        ));
    }

    #[test]
    fn records_and_trees_parse_as_tlog_parses_them() {
        let (id, text, tree) = parse_record(b"7\na v h1:x\na v/go.mod h1:y\n\ngo.sum database tree\n").unwrap();
        assert_eq!(
            (id, text, tree),
            (7, &b"a v h1:x\na v/go.mod h1:y\n"[..], &b"go.sum database tree\n"[..])
        );
        assert!(parse_record(b"x\n\n\n").is_none());
        let t = parse_tree(b"go.sum database tree\n2\nnND/nri/U0xuHUrYSy0HtMeal2vzD9V4k/BO79C+QeI=\n").unwrap();
        assert_eq!(t.n, 2);
        assert!(parse_tree(b"other tree\n2\nnND/nri/U0xuHUrYSy0HtMeal2vzD9V4k/BO79C+QeI=\n").is_none());
        assert!(parse_tree(b"go.sum database tree\n-1\nnND/nri/U0xuHUrYSy0HtMeal2vzD9V4k/BO79C+QeI=\n").is_none());
    }
}
