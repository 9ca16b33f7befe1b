//! HTTP for the download site: retries with backoff on network errors and 5xx, an idle
//! timeout, an overall deadline and a minimum rate per file, proxies per scheme (see
//! proxy.rs), TLS with the platform's roots, redirects followed by hand (never from https to
//! anything else, never to a scheme other than http/https), and a body reader that resumes a
//! dropped transfer with a `Range` request.

use std::io::{self, Read};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::install::proxy::{self, Proxies};

/// Redirects followed per request before giving up.
pub const MAX_REDIRECTS: u32 = 10;

/// A deadline for a whole file: this floor, plus its size at [`DEADLINE_RATE`].
pub const DEADLINE_FLOOR: Duration = Duration::from_secs(10 * 60);
/// The rate (bytes per second) a file's deadline allows for its size.
pub const DEADLINE_RATE: u64 = 16 * 1024;
/// The minimum average rate (bytes per second) over each window, by default.
pub const DEFAULT_MIN_RATE: u64 = 1024;
/// The window the minimum rate is averaged over, by default.
pub const DEFAULT_RATE_WINDOW: Duration = Duration::from_secs(60);

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
    /// A host name that does not resolve: it will not resolve in a moment either.
    #[error(
        "{url}: cannot resolve the host name {host}{} (asked once: a name that does not resolve is not retried); check the name and the network; without network, use a mirror you can reach (gomig config set mirror URL, or --mirror URL) or install from a file (gomig install --archive FILE --sha256 HEX)",
        via_proxy(.proxy)
    )]
    NameNotResolved {
        url: String,
        host: String,
        /// `VARIABLE=URL` when the name is the proxy's.
        proxy: Option<String>,
    },
    /// An https:// URL redirected to http://: what the mirror sends would travel in clear text.
    #[error(
        "{url} redirects to {to}, from https to plain http, where the download (and the index, which holds the checksums) could be read and changed on the way; refusing to follow it: use a mirror that stays on https, or name the http:// mirror yourself with --mirror if you mean to"
    )]
    Downgrade { url: String, to: String },
    /// A URL to fetch (a mirror's, as the user named it) that is not http(s): a typo such as
    /// `htps://`, or a scheme gomig does not speak. Nothing is asked, nothing retried.
    #[error(
        "{url} is not an http:// or https:// URL, so gomig cannot download from it; fix the mirror where it is named (--mirror URL, GOMIG_MIRROR, or gomig config set mirror URL), e.g. https://go.dev/dl/"
    )]
    NotHttp { url: String },
    /// A redirect to something that is not an http(s) URL (`file://`, `ftp://`, ...).
    #[error(
        "{url} redirects to {to}, which is not an http:// or https:// URL; refusing to follow it: the mirror is misconfigured or hostile, use another (--mirror URL)"
    )]
    RedirectScheme { url: String, to: String },
    #[error(
        "{url}: HTTP {status} redirect without a Location header; the mirror is misconfigured, use another (--mirror URL)"
    )]
    RedirectWithoutLocation { url: String, status: u16 },
    #[error(
        "{url}: more than {MAX_REDIRECTS} redirects (the last to {last}); the mirror is misconfigured, use another (--mirror URL)"
    )]
    TooManyRedirects { url: String, last: String },
    /// A whole transfer took longer than its deadline.
    #[error(
        "{url}: the download did not finish within its deadline of {} ({received}{} bytes arrived); allow more with GOMIG_DOWNLOAD_DEADLINE (for example 2h), or use a faster mirror (--mirror URL)",
        humantime::format_duration(*.deadline),
        of_size(.expected)
    )]
    Deadline {
        url: String,
        deadline: Duration,
        received: u64,
        expected: Option<u64>,
    },
    /// The average rate over a window fell below the minimum.
    #[error(
        "{url}: the transfer is too slow: {received} bytes in the last {}, below the minimum average of {min_rate} bytes/s (GOMIG_DOWNLOAD_MIN_RATE, over GOMIG_DOWNLOAD_RATE_WINDOW); use a faster mirror (--mirror URL), or lower GOMIG_DOWNLOAD_MIN_RATE (0 turns the check off)",
        humantime::format_duration(*.window)
    )]
    TooSlow {
        url: String,
        received: u64,
        window: Duration,
        min_rate: u64,
    },
    /// A web page where a file was expected: a login page, a captive portal, a wrong path.
    #[error(
        "{url} answered with a web page ({content_type}), not the file: the mirror URL is wrong, or a login page or captive portal is in the way; open it in a browser to see, or use another mirror (--mirror URL)"
    )]
    WebPage { url: String, content_type: String },
    /// A document (the index) larger than gomig reads.
    #[error(
        "{url}: the answer is larger than {} MiB ({limit} bytes), the most gomig reads of it; it is not what was asked for: check that the mirror URL is right",
        .limit >> 20
    )]
    TooLarge { url: String, limit: u64 },
    /// A limit variable that cannot be read.
    #[error("{variable}={value:?} is not {expected}; set it to, for example, {example}, or unset it")]
    Setting {
        variable: &'static str,
        value: String,
        expected: &'static str,
        example: &'static str,
    },
}

fn via_proxy(proxy: &Option<String>) -> String {
    proxy.as_ref().map(|p| format!(" of the proxy {p}")).unwrap_or_default()
}

fn of_size(expected: &Option<u64>) -> String {
    expected.map(|n| format!(" of {n}")).unwrap_or_default()
}

impl DownloadError {
    /// Worth another try (network trouble, 5xx, 429), as opposed to a definite answer.
    pub fn is_transient(&self) -> bool {
        match self {
            DownloadError::Status { status, .. } => *status >= 500 || *status == 429 || *status == 408,
            DownloadError::Network { .. } | DownloadError::Incomplete { .. } => true,
            DownloadError::NotFound { .. }
            | DownloadError::Tls { .. }
            | DownloadError::Proxy { .. }
            | DownloadError::NameNotResolved { .. }
            | DownloadError::Downgrade { .. }
            | DownloadError::NotHttp { .. }
            | DownloadError::RedirectScheme { .. }
            | DownloadError::RedirectWithoutLocation { .. }
            | DownloadError::TooManyRedirects { .. }
            | DownloadError::Deadline { .. }
            | DownloadError::TooSlow { .. }
            | DownloadError::TooLarge { .. }
            | DownloadError::WebPage { .. }
            | DownloadError::Setting { .. } => false,
        }
    }
}

/// How long a file may take, and how slow it may be: `GOMIG_DOWNLOAD_DEADLINE` (a duration,
/// `90s`, `2h`, or seconds; `0` turns it off; default [`DEADLINE_FLOOR`] plus the size at
/// [`DEADLINE_RATE`]), `GOMIG_DOWNLOAD_MIN_RATE` (bytes per second, `0` turns it off; default
/// [`DEFAULT_MIN_RATE`]) averaged over `GOMIG_DOWNLOAD_RATE_WINDOW` (default
/// [`DEFAULT_RATE_WINDOW`]).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// `None`: from the size; `Some(None)`: off.
    pub deadline: Option<Option<Duration>>,
    pub min_rate: u64,
    pub window: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            deadline: None,
            min_rate: DEFAULT_MIN_RATE,
            window: DEFAULT_RATE_WINDOW,
        }
    }
}

fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    match text.parse::<u64>() {
        Ok(secs) => Some(Duration::from_secs(secs)),
        Err(_) => humantime::parse_duration(text).ok(),
    }
}

impl Limits {
    pub fn from_env() -> Result<Limits, DownloadError> {
        Limits::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Limits, DownloadError> {
        let mut limits = Limits::default();
        let var = |name| get(name).filter(|v| !v.trim().is_empty());
        let bad = |variable, value: String, expected, example| DownloadError::Setting {
            variable,
            value,
            expected,
            example,
        };
        if let Some(v) = var("GOMIG_DOWNLOAD_DEADLINE") {
            let d = parse_duration(&v).ok_or_else(|| bad("GOMIG_DOWNLOAD_DEADLINE", v, "a duration", "30m"))?;
            limits.deadline = Some((!d.is_zero()).then_some(d));
        }
        if let Some(v) = var("GOMIG_DOWNLOAD_MIN_RATE") {
            limits.min_rate = v.trim().parse().map_err(|_| {
                bad(
                    "GOMIG_DOWNLOAD_MIN_RATE",
                    v,
                    "a rate in bytes per second",
                    "1024 (0 turns the check off)",
                )
            })?;
        }
        if let Some(v) = var("GOMIG_DOWNLOAD_RATE_WINDOW") {
            limits.window = parse_duration(&v)
                .filter(|d| !d.is_zero())
                .ok_or_else(|| bad("GOMIG_DOWNLOAD_RATE_WINDOW", v, "a duration above zero", "60s"))?;
        }
        Ok(limits)
    }

    /// The deadline of a file of `size` bytes (unknown: the floor).
    pub fn deadline_for(&self, size: Option<u64>) -> Option<Duration> {
        match self.deadline {
            Some(set) => set,
            None => Some(DEADLINE_FLOOR + Duration::from_secs(size.unwrap_or(0) / DEADLINE_RATE)),
        }
    }
}

/// The clock of one transfer: its deadline, and the bytes of the current rate window.
#[derive(Debug, Clone)]
struct Pace {
    limits: Limits,
    deadline: Option<Duration>,
    start: Instant,
    window_start: Instant,
    window_bytes: u64,
}

impl Pace {
    fn new(limits: Limits, size: Option<u64>) -> Pace {
        let now = Instant::now();
        Pace {
            deadline: limits.deadline_for(size),
            limits,
            start: now,
            window_start: now,
            window_bytes: 0,
        }
    }

    /// After `n` more bytes (`received` in all): still within the limits?
    fn check(&mut self, url: &str, n: u64, received: u64, expected: Option<u64>) -> Result<(), DownloadError> {
        let now = Instant::now();
        if let Some(deadline) = self.deadline
            && now.duration_since(self.start) > deadline
        {
            return Err(DownloadError::Deadline {
                url: url.into(),
                deadline,
                received,
                expected,
            });
        }
        self.window_bytes += n;
        let span = now.duration_since(self.window_start);
        if span >= self.limits.window {
            let rate = self.window_bytes as f64 / span.as_secs_f64();
            if self.limits.min_rate > 0 && rate < self.limits.min_rate as f64 {
                return Err(DownloadError::TooSlow {
                    url: url.into(),
                    received: self.window_bytes,
                    window: Duration::from_millis(span.as_millis() as u64),
                    min_rate: self.limits.min_rate,
                });
            }
            self.window_start = now;
            self.window_bytes = 0;
        }
        Ok(())
    }
}

/// The system's resolver, with every failed lookup told as `HostNotFound`: a name that does not
/// resolve now will not a moment later, so it is not retried (ureq reports it as a bare I/O error).
#[derive(Debug, Default)]
struct Resolver(ureq::unversioned::resolver::DefaultResolver);

impl ureq::unversioned::resolver::Resolver for Resolver {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: ureq::unversioned::transport::NextTimeout,
    ) -> Result<ureq::unversioned::resolver::ResolvedSocketAddrs, ureq::Error> {
        self.0.resolve(uri, config, timeout).map_err(|e| match e {
            // The system's resolver (getaddrinfo) failed: the name does not resolve.
            ureq::Error::Io(_) => ureq::Error::HostNotFound,
            other => other,
        })
    }
}

/// `location` (a redirect's Location) read against `base`, the URL that answered it.
fn join_url(base: &str, location: &str) -> String {
    let location = location.trim();
    let has_scheme = location.split_once(':').is_some_and(|(scheme, _)| {
        !scheme.is_empty()
            && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    });
    if has_scheme {
        return location.to_string();
    }
    let (scheme, rest) = base.split_once("://").unwrap_or(("http", base));
    if let Some(authority_path) = location.strip_prefix("//") {
        return format!("{scheme}://{authority_path}");
    }
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let origin = format!("{scheme}://{}", &rest[..authority_end]);
    if location.starts_with('/') {
        return format!("{origin}{location}");
    }
    let path = &rest[authority_end..];
    let path = path.split(['?', '#']).next().unwrap_or("");
    if location.starts_with('?') || location.is_empty() {
        return format!("{origin}{path}{location}");
    }
    let dir = match path.rfind('/') {
        Some(i) => &path[..=i],
        None => "/",
    };
    format!("{origin}{dir}{location}")
}

/// The one rule for a URL gomig downloads from (a mirror, as the user names it on the command
/// line, in GOMIG_MIRROR or in the config file): http:// or https://. `gomig config set`
/// asks it too, so a typo is refused where it is typed, not at the next install.
pub fn check_site_url(url: &str) -> Result<(), DownloadError> {
    if matches!(scheme_of(url).as_str(), "http" | "https") {
        Ok(())
    } else {
        Err(DownloadError::NotHttp { url: url.into() })
    }
}

fn scheme_of(url: &str) -> String {
    url.split_once(':')
        .map(|(s, _)| s.to_ascii_lowercase())
        .unwrap_or_default()
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
    /// The deadline and minimum rate, or the variable that could not be read.
    limits: Result<Limits, DownloadError>,
}

fn env_ms(name: &str, default: u64) -> Duration {
    Duration::from_millis(std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default))
}

/// An answer, and the URL it came from after redirects.
struct Answer {
    response: ureq::http::Response<ureq::Body>,
    url: String,
}

impl Http {
    /// `GOMIG_HTTP_TIMEOUT_MS` (idle time per read, default 30 s) and `GOMIG_RETRY_BASE_MS`
    /// (first backoff, default 500 ms, doubling) tune it; tests make them short. The deadline
    /// and the minimum rate: see [`Limits`].
    pub fn new() -> Http {
        let idle = env_ms("GOMIG_HTTP_TIMEOUT_MS", 30_000);
        let agent = |proxy: Option<ureq::Proxy>| {
            let config = ureq::Agent::config_builder()
                .proxy(proxy)
                // The system's trust store (a company CA in it works), not ureq's bundled roots.
                .tls_config(
                    ureq::tls::TlsConfig::builder()
                        .root_certs(ureq::tls::RootCerts::PlatformVerifier)
                        .build(),
                )
                // Redirects are followed by `request`, which checks each hop.
                .max_redirects(0)
                .timeout_connect(Some(idle.min(Duration::from_secs(15))))
                .timeout_recv_response(Some(idle))
                .timeout_per_read(Some(idle))
                .user_agent(concat!("gomig/", env!("CARGO_PKG_VERSION")))
                .build();
            ureq::Agent::with_parts(
                config,
                ureq::unversioned::transport::DefaultConnector::default(),
                Resolver::default(),
            )
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
            limits: Limits::from_env(),
        }
    }

    /// The download settings could be read (else the variable to fix), before anything is asked.
    pub fn check_settings(&self) -> Result<(), DownloadError> {
        self.limits.as_ref().map(|_| ()).map_err(Clone::clone)
    }

    fn limits(&self) -> Result<Limits, DownloadError> {
        self.limits.clone()
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
            ureq::Error::HostNotFound => {
                // Through a proxy, the name looked up is the proxy's.
                let proxy = self.routes.proxies.for_url(url);
                let host = proxy
                    .map(|p| proxy::host_of(&p.url))
                    .unwrap_or_else(|| proxy::host_of(url));
                return DownloadError::NameNotResolved {
                    url: url.into(),
                    host,
                    proxy: proxy.map(|p| format!("{}={}", p.variable, p.url)),
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
                // How hard it tried is part of the answer: a network that is down, not a blip.
                Err(DownloadError::Network { url, message }) if attempt > 1 => {
                    return Err(DownloadError::Network {
                        url,
                        message: format!("{message} (gave up after {attempt} attempts)"),
                    });
                }
                other => return other,
            }
        }
    }

    /// One GET of `url` (from byte `offset`), following redirects: each hop must stay on http
    /// or https, and never go from https to http. The `Range` goes with every hop.
    fn request(&self, url: &str, offset: u64) -> Result<Answer, DownloadError> {
        check_site_url(url)?;
        let mut current = url.to_string();
        for _ in 0..=MAX_REDIRECTS {
            let mut req = self.agent(&current)?.get(&current);
            if offset > 0 {
                req = req.header("Range", format!("bytes={offset}-"));
            }
            let response = req.call().map_err(|e| self.classify(&current, e))?;
            let status = response.status().as_u16();
            if !matches!(status, 301 | 302 | 303 | 307 | 308) {
                if response.status().is_redirection() {
                    return Err(DownloadError::Status { url: current, status });
                }
                return Ok(Answer { response, url: current });
            }
            let Some(location) = response
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .filter(|v| !v.trim().is_empty())
            else {
                return Err(DownloadError::RedirectWithoutLocation { url: current, status });
            };
            let next = join_url(&current, location);
            let (from, to) = (scheme_of(&current), scheme_of(&next));
            if to != "http" && to != "https" {
                return Err(DownloadError::RedirectScheme { url: current, to: next });
            }
            if from == "https" && to == "http" {
                return Err(DownloadError::Downgrade { url: current, to: next });
            }
            current = next;
        }
        Err(DownloadError::TooManyRedirects {
            url: url.into(),
            last: current,
        })
    }

    /// A whole (small) document, such as the index, of at most `limit` bytes.
    pub fn get_bytes(&self, url: &str, limit: u64) -> Result<Vec<u8>, DownloadError> {
        let limits = self.limits()?;
        self.retry(|| {
            let answer = self.request(url, 0)?;
            let too_large = || DownloadError::TooLarge { url: url.into(), limit };
            let length = answer
                .response
                .headers()
                .get("content-length")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok());
            if length.is_some_and(|n| n > limit) {
                return Err(too_large());
            }
            let mut reader = answer.response.into_body().into_reader();
            let mut pace = Pace::new(limits, length);
            let mut body = Vec::new();
            let mut chunk = vec![0u8; 64 * 1024];
            loop {
                let n = match reader.read(&mut chunk) {
                    Ok(0) => return Ok(body),
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        return Err(DownloadError::Network {
                            url: url.into(),
                            message: self.describe_io(&e),
                        });
                    }
                };
                if body.len() as u64 + n as u64 > limit {
                    return Err(too_large());
                }
                body.extend_from_slice(&chunk[..n]);
                pace.check(url, n as u64, body.len() as u64, length)?;
            }
        })
    }

    /// Opens `url` for streaming from byte `offset`. Returns the reader, whether the server
    /// honoured the range (206) or sent the whole file (200), the URL it came from after
    /// redirects and its content type.
    fn open_at(&self, url: &str, offset: u64) -> Result<Opened, DownloadError> {
        self.retry(|| {
            let answer = self.request(url, offset)?;
            let partial = answer.response.status().as_u16() == 206;
            let content_type = answer
                .response
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            Ok(Opened {
                reader: Box::new(answer.response.into_body().into_reader()),
                partial,
                url: answer.url,
                content_type,
            })
        })
    }

    /// A body that survives dropped connections: it reconnects with `Range` from where it
    /// stopped (or re-reads and skips, if the server ignores ranges), and hashes every byte
    /// exactly once as it passes. The whole transfer keeps to the deadline and minimum rate.
    pub fn open(&self, url: &str, expected_size: Option<u64>) -> Result<Body, DownloadError> {
        let limits = self.limits()?;
        let opened = self.open_at(url, 0)?;
        // What is asked for is an archive; a page is an answer from something else.
        if let Some(content_type) = &opened.content_type
            && content_type.trim().to_ascii_lowercase().starts_with("text/html")
        {
            return Err(DownloadError::WebPage {
                url: opened.url,
                content_type: content_type.clone(),
            });
        }
        Ok(Body {
            http: self.clone(),
            url: url.to_string(),
            source: opened.url,
            content_type: opened.content_type,
            reader: opened.reader,
            offset: 0,
            expected_size,
            stuck: 0,
            resumed: 0,
            progress_since_resume: 0,
            failure: None,
            hasher: Sha256::new(),
            pace: Pace::new(limits, expected_size),
        })
    }
}

struct Opened {
    reader: Box<dyn Read + Send>,
    partial: bool,
    url: String,
    content_type: Option<String>,
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
    /// The URL the bytes come from (after redirects).
    source: String,
    content_type: Option<String>,
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
    pace: Pace,
}

impl Body {
    /// The URL the bytes came from: the one opened, or where its redirects led.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The content type the server declared, if it did.
    pub fn content_type(&self) -> Option<&str> {
        self.content_type.as_deref()
    }

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

    /// Gives up once the deadline passed or the rate fell below the minimum.
    fn keep_pace(&mut self, n: u64) -> io::Result<()> {
        // All of it arrived: what is slow now is whoever reads it, not the transfer.
        if n == 0 && self.expected_size == Some(self.offset) {
            return Ok(());
        }
        match self.pace.check(&self.url, n, self.offset, self.expected_size) {
            Ok(()) => Ok(()),
            Err(e) => Err(self.give_up(e)),
        }
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
        let Opened {
            mut reader,
            partial,
            url: source,
            ..
        } = match self.http.open_at(&self.url, self.offset) {
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
        self.source = source;
        Ok(())
    }
}

impl Read for Body {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(f) = &self.failure {
            return Err(io::Error::other(f.to_string()));
        }
        self.keep_pace(0)?;
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
                    self.keep_pace(n as u64)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_redirect_location_is_read_against_the_url_that_answered_it() {
        let base = "https://go.dev/dl/go1.22.10.linux-amd64.tar.gz?x=1";
        assert_eq!(
            join_url(base, "https://dl.google.com/go/f"),
            "https://dl.google.com/go/f"
        );
        assert_eq!(join_url(base, "file:///etc/passwd"), "file:///etc/passwd");
        assert_eq!(join_url(base, "//cdn.example/f"), "https://cdn.example/f");
        assert_eq!(join_url(base, "/go/f"), "https://go.dev/go/f");
        assert_eq!(join_url(base, "f2"), "https://go.dev/dl/f2");
        assert_eq!(
            join_url(base, "?y=2"),
            "https://go.dev/dl/go1.22.10.linux-amd64.tar.gz?y=2"
        );
        assert_eq!(join_url("http://h:8080", "a"), "http://h:8080/a");
        assert_eq!(scheme_of("HTTP://h/"), "http");
    }

    fn limits(vars: &[(&str, &str)]) -> Result<Limits, DownloadError> {
        Limits::from_lookup(|name| vars.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string()))
    }

    #[test]
    fn limits_come_from_their_variables_and_a_bad_value_names_its_variable() {
        let default = limits(&[]).unwrap();
        assert_eq!(
            default.deadline_for(Some(100 * DEADLINE_RATE)),
            Some(DEADLINE_FLOOR + Duration::from_secs(100))
        );
        assert_eq!(default.deadline_for(None), Some(DEADLINE_FLOOR));
        assert_eq!(default.min_rate, DEFAULT_MIN_RATE);
        let set = limits(&[
            ("GOMIG_DOWNLOAD_DEADLINE", "90s"),
            ("GOMIG_DOWNLOAD_MIN_RATE", "10"),
            ("GOMIG_DOWNLOAD_RATE_WINDOW", "2"),
        ])
        .unwrap();
        assert_eq!(set.deadline_for(Some(1 << 40)), Some(Duration::from_secs(90)));
        assert_eq!((set.min_rate, set.window), (10, Duration::from_secs(2)));
        assert_eq!(
            limits(&[("GOMIG_DOWNLOAD_DEADLINE", "0")]).unwrap().deadline_for(None),
            None
        );
        let err = limits(&[("GOMIG_DOWNLOAD_MIN_RATE", "fast")]).unwrap_err().to_string();
        assert!(err.starts_with("GOMIG_DOWNLOAD_MIN_RATE=\"fast\" is not"), "{err}");
        let err = limits(&[("GOMIG_DOWNLOAD_RATE_WINDOW", "0")]).unwrap_err().to_string();
        assert!(
            err.contains("GOMIG_DOWNLOAD_RATE_WINDOW") && err.contains("unset it"),
            "{err}"
        );
    }

    #[test]
    fn a_transfer_below_the_minimum_rate_over_a_window_is_too_slow() {
        let limits = Limits {
            deadline: Some(None),
            min_rate: 1000,
            window: Duration::from_millis(50),
        };
        let mut pace = Pace::new(limits, None);
        pace.check("u", 10, 10, None).unwrap();
        std::thread::sleep(Duration::from_millis(60));
        let err = pace.check("u", 1, 11, None).unwrap_err();
        assert!(matches!(err, DownloadError::TooSlow { received: 11, .. }), "{err:?}");
    }
}
