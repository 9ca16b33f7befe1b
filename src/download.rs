//! HTTP for the download site: retries with backoff on network errors and 5xx, an idle
//! timeout, proxies from `HTTPS_PROXY`/`NO_PROXY`, TLS with the platform's roots, and a body
//! reader that resumes a dropped transfer with a `Range` request.

use std::io::{self, Read};
use std::time::Duration;

use sha2::{Digest, Sha256};

#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    #[error("{url}: not found (HTTP 404)")]
    NotFound { url: String },
    #[error("{url}: HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("{url}: {message}")]
    Network { url: String, message: String },
}

impl DownloadError {
    /// Worth another try (network trouble, 5xx, 429), as opposed to a definite answer.
    pub fn is_transient(&self) -> bool {
        match self {
            DownloadError::NotFound { .. } => false,
            DownloadError::Status { status, .. } => *status >= 500 || *status == 429 || *status == 408,
            DownloadError::Network { .. } => true,
        }
    }
}

#[derive(Clone)]
pub struct Http {
    agent: ureq::Agent,
    attempts: u32,
    backoff: Duration,
}

fn env_ms(name: &str, default: u64) -> Duration {
    Duration::from_millis(std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default))
}

impl Http {
    /// `GOMIG_HTTP_TIMEOUT_MS` (idle time per read, default 30 s) and `GOMIG_RETRY_BASE_MS`
    /// (first backoff, default 500 ms, doubling) tune it; tests make them short.
    pub fn new() -> Http {
        let idle = env_ms("GOMIG_HTTP_TIMEOUT_MS", 30_000);
        let agent = ureq::Agent::config_builder()
            .proxy(ureq::Proxy::try_from_env())
            .timeout_connect(Some(idle.min(Duration::from_secs(15))))
            .timeout_recv_response(Some(idle))
            .timeout_per_read(Some(idle))
            .user_agent(concat!("gomig/", env!("CARGO_PKG_VERSION")))
            .build()
            .new_agent();
        Http {
            agent,
            attempts: 4,
            backoff: env_ms("GOMIG_RETRY_BASE_MS", 500),
        }
    }

    fn classify(url: &str, err: ureq::Error) -> DownloadError {
        match err {
            ureq::Error::StatusCode(404) => DownloadError::NotFound { url: url.into() },
            ureq::Error::StatusCode(status) => DownloadError::Status {
                url: url.into(),
                status,
            },
            other => DownloadError::Network {
                url: url.into(),
                message: other.to_string(),
            },
        }
    }

    /// Runs `f` until it succeeds, fails for good, or runs out of attempts.
    fn retry<T>(&self, mut f: impl FnMut() -> Result<T, DownloadError>) -> Result<T, DownloadError> {
        let mut delay = self.backoff;
        let mut attempt = 1;
        loop {
            match f() {
                Err(e) if e.is_transient() && attempt < self.attempts => {
                    std::thread::sleep(delay);
                    delay *= 2;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    /// A whole (small) document, such as the index.
    pub fn get_bytes(&self, url: &str) -> Result<Vec<u8>, DownloadError> {
        self.retry(|| {
            let resp = self.agent.get(url).call().map_err(|e| Self::classify(url, e))?;
            let mut body = Vec::new();
            resp.into_body()
                .into_reader()
                .take(64 << 20)
                .read_to_end(&mut body)
                .map_err(|e| DownloadError::Network {
                    url: url.into(),
                    message: e.to_string(),
                })?;
            Ok(body)
        })
    }

    /// Opens `url` for streaming from byte `offset`. Returns the reader and whether the
    /// server honoured the range (206) or sent the whole file (200).
    fn open_at(&self, url: &str, offset: u64) -> Result<(Box<dyn Read + Send>, bool), DownloadError> {
        self.retry(|| {
            let mut req = self.agent.get(url);
            if offset > 0 {
                req = req.header("Range", format!("bytes={offset}-"));
            }
            let resp = req.call().map_err(|e| Self::classify(url, e))?;
            let partial = resp.status().as_u16() == 206;
            Ok((
                Box::new(resp.into_body().into_reader()) as Box<dyn Read + Send>,
                partial,
            ))
        })
    }

    /// A body that survives dropped connections: it reconnects with `Range` from where it
    /// stopped (or re-reads and skips, if the server ignores ranges), and hashes every byte
    /// exactly once as it passes.
    pub fn open(&self, url: &str, expected_size: Option<u64>) -> Result<Body, DownloadError> {
        let (reader, _) = self.open_at(url, 0)?;
        Ok(Body {
            http: self.clone(),
            url: url.to_string(),
            reader,
            offset: 0,
            expected_size,
            resumes_left: 5,
            resumed: 0,
            hasher: Sha256::new(),
        })
    }
}

impl Default for Http {
    fn default() -> Self {
        Http::new()
    }
}

pub struct Body {
    http: Http,
    url: String,
    reader: Box<dyn Read + Send>,
    offset: u64,
    expected_size: Option<u64>,
    resumes_left: u32,
    resumed: u32,
    hasher: Sha256,
}

impl Body {
    /// Bytes received so far.
    pub fn received(&self) -> u64 {
        self.offset
    }

    /// How many times the transfer was resumed after a dropped connection.
    pub fn resumed(&self) -> u32 {
        self.resumed
    }

    /// The SHA-256 of everything read, once the body is finished.
    pub fn finish(self) -> (String, u64) {
        (crate::manifest::hex(&self.hasher.finalize()), self.offset)
    }

    /// Reads to the end (what the decompressor left unread, such as padding), so the hash
    /// covers the whole file.
    pub fn drain(&mut self) -> io::Result<()> {
        io::copy(self, &mut io::sink()).map(|_| ())
    }

    fn reconnect(&mut self, why: io::Error) -> io::Result<()> {
        if self.resumes_left == 0 {
            return Err(why);
        }
        self.resumes_left -= 1;
        self.resumed += 1;
        let (mut reader, partial) = self
            .http
            .open_at(&self.url, self.offset)
            .map_err(|e| io::Error::other(format!("{e} (while resuming after: {why})")))?;
        if !partial && self.offset > 0 {
            // The server ignored the range: skip what we already have.
            let skipped = io::copy(&mut (&mut reader).take(self.offset), &mut io::sink())?;
            if skipped != self.offset {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the server sent less on retry than before",
                ));
            }
        }
        self.reader = reader;
        Ok(())
    }
}

impl Read for Body {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.reader.read(buf) {
                Ok(0) => {
                    // A clean end before the expected size is a dropped connection.
                    match self.expected_size {
                        Some(size) if self.offset < size => {
                            self.reconnect(io::Error::new(io::ErrorKind::UnexpectedEof, "connection closed early"))?
                        }
                        _ => return Ok(0),
                    }
                }
                Ok(n) => {
                    let n = match self.expected_size {
                        // Never accept more than the index promised.
                        Some(size) if self.offset + n as u64 > size => {
                            return Err(io::Error::new(
                                io::ErrorKind::InvalidData,
                                format!("{} is larger than the index says ({size} bytes)", self.url),
                            ));
                        }
                        _ => n,
                    };
                    self.hasher.update(&buf[..n]);
                    self.offset += n as u64;
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::InvalidData => return Err(e),
                Err(e) => self.reconnect(e)?,
            }
        }
    }
}
