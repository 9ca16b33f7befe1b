//! HTTP for the download site: retries with backoff on network errors and 5xx, an idle
//! timeout, proxies per scheme (see proxy.rs), TLS with the platform's roots, and a body
//! reader that resumes a dropped transfer with a `Range` request.

use std::io::{self, Read};
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::install::proxy::Proxies;

#[derive(Debug, Clone, thiserror::Error)]
pub enum DownloadError {
    #[error("{url}: not found (HTTP 404)")]
    NotFound { url: String },
    #[error("{url}: HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("{url}: {message}")]
    Network { url: String, message: String },
    /// The proxy setting cannot be used: retrying cannot help.
    #[error("{url}: {message}")]
    Proxy { url: String, message: String },
    /// The TLS handshake failed: retrying the same server cannot help.
    #[error("{url}: {message}")]
    Tls { url: String, message: String },
    /// The transfer ended short of the size the index lists and could not be resumed.
    #[error(
        "{url}: the server sent {received} of {expected} bytes the index lists, and resuming failed ({why}); the file on this mirror is short, or the index is stale (try --refresh)"
    )]
    Incomplete {
        url: String,
        received: u64,
        expected: u64,
        why: String,
    },
}

impl DownloadError {
    /// Worth another try (network trouble, 5xx, 429), as opposed to a definite answer.
    pub fn is_transient(&self) -> bool {
        match self {
            DownloadError::NotFound { .. } | DownloadError::Tls { .. } | DownloadError::Proxy { .. } => false,
            DownloadError::Status { status, .. } => *status >= 500 || *status == 429 || *status == 408,
            DownloadError::Network { .. } | DownloadError::Incomplete { .. } => true,
        }
    }
}

/// An agent per route: direct, and through each scheme's proxy (an invalid proxy URL is kept
/// as the error to report when a request would use it).
#[derive(Clone)]
struct Routes {
    proxies: Proxies,
    direct: ureq::Agent,
    /// Per proxy URL the environment names (one for both schemes when ALL_PROXY serves both).
    through: Vec<(String, Result<ureq::Agent, String>)>,
}

#[derive(Clone)]
pub struct Http {
    routes: Routes,
    attempts: u32,
    backoff: Duration,
    /// How long a read may wait for data, for messages.
    idle: Duration,
}

fn env_ms(name: &str, default: u64) -> Duration {
    Duration::from_millis(std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default))
}

impl Http {
    /// `GOMIG_HTTP_TIMEOUT_MS` (idle time per read, default 30 s) and `GOMIG_RETRY_BASE_MS`
    /// (first backoff, default 500 ms, doubling) tune it; tests make them short.
    pub fn new() -> Http {
        let idle = env_ms("GOMIG_HTTP_TIMEOUT_MS", 30_000);
        let agent = |proxy: Option<ureq::Proxy>| {
            ureq::Agent::config_builder()
                .proxy(proxy)
                // The system's trust store (a company CA in it works), not ureq's bundled roots.
                .tls_config(
                    ureq::tls::TlsConfig::builder()
                        .root_certs(ureq::tls::RootCerts::PlatformVerifier)
                        .build(),
                )
                .timeout_connect(Some(idle.min(Duration::from_secs(15))))
                .timeout_recv_response(Some(idle))
                .timeout_per_read(Some(idle))
                .user_agent(concat!("gomig/", env!("CARGO_PKG_VERSION")))
                .build()
                .new_agent()
        };
        let proxies = Proxies::from_env();
        let mut through: Vec<(String, Result<ureq::Agent, String>)> = Vec::new();
        for s in [&proxies.http, &proxies.https].into_iter().flatten() {
            if through.iter().any(|(url, _)| *url == s.url) {
                continue;
            }
            let route = ureq::Proxy::new(&s.url).map(|p| agent(Some(p))).map_err(|e| {
                format!(
                    "{}={} is not a proxy URL gomig can use ({e}); set it to http://HOST:PORT or unset it",
                    s.variable, s.url
                )
            });
            through.push((s.url.clone(), route));
        }
        let routes = Routes {
            direct: agent(None),
            through,
            proxies,
        };
        Http {
            routes,
            attempts: 4,
            backoff: env_ms("GOMIG_RETRY_BASE_MS", 500),
            idle,
        }
    }

    fn classify(&self, url: &str, err: ureq::Error) -> DownloadError {
        let message = match err {
            ureq::Error::StatusCode(404) => return DownloadError::NotFound { url: url.into() },
            ureq::Error::StatusCode(status) => {
                return DownloadError::Status {
                    url: url.into(),
                    status,
                };
            }
            ureq::Error::Rustls(e) => return tls_failure(url, &e),
            // ureq hands rustls's error over boxed in an io::Error: downcasting is the only way to see it.
            ureq::Error::Io(e) => match e.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()) {
                Some(tls) => return tls_failure(url, tls),
                None => self.describe_io(&e),
            },
            ureq::Error::Timeout(_) => self.timed_out(),
            other => other.to_string(),
        };
        DownloadError::Network {
            url: url.into(),
            message: self.with_proxy(url, message),
        }
    }

    /// A network failure through a proxy names it: the proxy is as likely the cause as the site.
    fn with_proxy(&self, url: &str, message: String) -> String {
        match self.routes.proxies.for_url(url) {
            Some(p) => format!(
                "{message} (through the proxy {} from {}: check that it is up, or list the host in NO_PROXY)",
                p.url, p.variable
            ),
            None => message,
        }
    }

    /// The agent for `url`: through the proxy its scheme's variable names, unless `NO_PROXY`
    /// exempts the host.
    fn agent(&self, url: &str) -> Result<&ureq::Agent, DownloadError> {
        let routes = &self.routes;
        let Some(proxy) = routes.proxies.for_url(url) else {
            return Ok(&routes.direct);
        };
        match routes
            .through
            .iter()
            .find(|(u, _)| *u == proxy.url)
            .map(|(_, route)| route)
        {
            Some(Ok(agent)) => Ok(agent),
            Some(Err(message)) => Err(DownloadError::Proxy {
                url: url.into(),
                message: message.clone(),
            }),
            None => Ok(&routes.direct),
        }
    }

    fn timed_out(&self) -> String {
        format!("timed out: no data for {} ms", self.idle.as_millis())
    }

    /// An I/O error as a user reads it: a timeout says how long it waited.
    fn describe_io(&self, e: &io::Error) -> String {
        let timed_out = matches!(e.kind(), io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock)
            // A timeout inside ureq's reader comes boxed in an io::Error: only a downcast sees it.
            || e.get_ref()
                .and_then(|inner| inner.downcast_ref::<ureq::Error>())
                .is_some_and(|u| matches!(u, ureq::Error::Timeout(_)));
        if timed_out { self.timed_out() } else { e.to_string() }
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
            let resp = self.agent(url)?.get(url).call().map_err(|e| self.classify(url, e))?;
            let mut body = Vec::new();
            resp.into_body()
                .into_reader()
                .take(64 << 20)
                .read_to_end(&mut body)
                .map_err(|e| DownloadError::Network {
                    url: url.into(),
                    message: self.describe_io(&e),
                })?;
            Ok(body)
        })
    }

    /// Opens `url` for streaming from byte `offset`. Returns the reader and whether the
    /// server honoured the range (206) or sent the whole file (200).
    fn open_at(&self, url: &str, offset: u64) -> Result<(Box<dyn Read + Send>, bool), DownloadError> {
        self.retry(|| {
            let mut req = self.agent(url)?.get(url);
            if offset > 0 {
                req = req.header("Range", format!("bytes={offset}-"));
            }
            let resp = req.call().map_err(|e| self.classify(url, e))?;
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
            stuck: 0,
            resumed: 0,
            progress_since_resume: 0,
            failure: None,
            hasher: Sha256::new(),
        })
    }
}

impl Default for Http {
    fn default() -> Self {
        Http::new()
    }
}

/// A failed TLS handshake as a user can act on it: an untrusted certificate is the usual one
/// (a company mirror or proxy with its own certificate authority).
fn tls_failure(url: &str, err: &rustls::Error) -> DownloadError {
    let message = match err {
        rustls::Error::InvalidCertificate(why) => format!(
            "the server's TLS certificate is not trusted ({why:?}); if this mirror uses its own certificate authority, add it to the system's trust store (update-ca-certificates) or point SSL_CERT_FILE at a PEM file that holds it"
        ),
        other => format!("TLS failed: {other}"),
    };
    DownloadError::Tls {
        url: url.into(),
        message,
    }
}

/// Resumes in a row that brought no new byte before the transfer is given up.
const MAX_STUCK_RESUMES: u32 = 4;
/// Resumes in all, so a server that always stalls after a little data cannot keep us forever.
const MAX_RESUMES: u32 = 30;

pub struct Body {
    http: Http,
    url: String,
    reader: Box<dyn Read + Send>,
    offset: u64,
    expected_size: Option<u64>,
    /// Resumes in a row without progress.
    stuck: u32,
    resumed: u32,
    progress_since_resume: u64,
    /// Why the transfer was given up, once it was.
    failure: Option<DownloadError>,
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

    /// Why the transfer was given up (after retries), if it was: the download failed, whatever
    /// the reader of the body made of the error it got.
    pub fn failure(&self) -> Option<&DownloadError> {
        self.failure.as_ref()
    }

    /// The SHA-256 of everything read, once the body is finished.
    pub fn finish(self) -> (String, u64) {
        (crate::integrity::hex(&self.hasher.finalize()), self.offset)
    }

    /// Reads to the end (what the decompressor left unread, such as padding), so the hash
    /// covers the whole file.
    pub fn drain(&mut self) -> io::Result<()> {
        io::copy(self, &mut io::sink()).map(|_| ())
    }

    fn give_up(&mut self, failure: DownloadError) -> io::Error {
        let err = io::Error::other(failure.to_string());
        self.failure = Some(failure);
        err
    }

    /// Reconnects after `why` (a dropped or stalled connection), from the current offset.
    fn reconnect(&mut self, why: String, short: bool) -> io::Result<()> {
        if self.progress_since_resume > 0 {
            self.stuck = 0;
        }
        self.stuck += 1;
        if self.stuck > MAX_STUCK_RESUMES || self.resumed >= MAX_RESUMES {
            let message = format!("{why} (gave up after {} resumed attempts)", self.resumed);
            return Err(self.give_up(DownloadError::Network {
                url: self.url.clone(),
                message,
            }));
        }
        if self.stuck > 1 {
            // Back off a little when resuming brings nothing.
            std::thread::sleep(self.http.backoff * (1 << (self.stuck - 2).min(4)));
        }
        self.resumed += 1;
        self.progress_since_resume = 0;
        let (mut reader, partial) = match self.http.open_at(&self.url, self.offset) {
            Ok(opened) => opened,
            Err(e) => {
                let failure = match (&e, self.expected_size) {
                    (DownloadError::Status { status: 416, .. }, Some(expected)) if short => DownloadError::Incomplete {
                        url: self.url.clone(),
                        received: self.offset,
                        expected,
                        why: "the server has no more bytes: HTTP 416".into(),
                    },
                    _ => DownloadError::Network {
                        url: self.url.clone(),
                        message: format!("{why}; resuming failed: {e}"),
                    },
                };
                return Err(self.give_up(failure));
            }
        };
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
        if let Some(f) = &self.failure {
            return Err(io::Error::other(f.to_string()));
        }
        loop {
            match self.reader.read(buf) {
                Ok(0) => {
                    // A clean end before the expected size is a dropped connection.
                    match self.expected_size {
                        Some(size) if self.offset < size => {
                            self.reconnect("the connection closed early".into(), true)?
                        }
                        _ => return Ok(0),
                    }
                }
                Ok(n) => {
                    if let Some(size) = self.expected_size
                        && self.offset + n as u64 > size
                    {
                        // Never accept more than the index promised.
                        return Err(io::Error::new(
                            io::ErrorKind::InvalidData,
                            format!("the server sends more than the {size} bytes the index lists"),
                        ));
                    }
                    self.hasher.update(&buf[..n]);
                    self.offset += n as u64;
                    self.progress_since_resume += n as u64;
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::InvalidData => return Err(e),
                Err(e) => {
                    let why = self.http.describe_io(&e);
                    self.reconnect(why, false)?
                }
            }
        }
    }
}
