//! What stands between gomig and a mirror in real networks, on loopback: an HTTP `CONNECT`
//! proxy (what `HTTPS_PROXY` names) and a TLS front with its own certificate authority (what
//! an `https://` mirror is). Both relay bytes to a real server (the tests' download site), so
//! what arrives is exactly what the site sent.
#![allow(dead_code)]

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::thread;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

fn listen() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("relay: cannot listen: {e}"));
    let addr = listener.local_addr().unwrap();
    (listener, addr)
}

/// Copies `from` to `to` until end of stream, then half-closes `to`.
fn pump(mut from: TcpStream, mut to: TcpStream) {
    let _ = io::copy(&mut from, &mut to);
    let _ = to.shutdown(Shutdown::Write);
}

/// An HTTP proxy that accepts `CONNECT host:port` (how HTTPS clients, and ureq for every
/// scheme, go through a proxy) and records each tunnel's target.
pub struct ConnectProxy {
    addr: SocketAddr,
    tunnels: Arc<Mutex<Vec<String>>>,
}

impl ConnectProxy {
    pub fn start() -> ConnectProxy {
        let (listener, addr) = listen();
        let tunnels = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&tunnels);
        thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let seen = Arc::clone(&seen);
                thread::spawn(move || {
                    let _ = tunnel(client, &seen);
                });
            }
        });
        ConnectProxy { addr, tunnels }
    }

    /// For `HTTPS_PROXY`: `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.addr.port())
    }

    /// The `host:port` of every tunnel asked for, in order.
    pub fn tunnels(&self) -> Vec<String> {
        self.tunnels.lock().unwrap().clone()
    }
}

/// Reads a request head (the client sends nothing more before the answer), opens the tunnel.
fn tunnel(mut client: TcpStream, seen: &Mutex<Vec<String>>) -> io::Result<()> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if client.read(&mut byte)? == 0 {
            return Ok(());
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let mut words = head.split_whitespace();
    let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    if method != "CONNECT" {
        client.write_all(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")?;
        return Ok(());
    }
    seen.lock().unwrap().push(target.to_string());
    let upstream = match TcpStream::connect(target) {
        Ok(s) => s,
        Err(_) => {
            client.write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")?;
            return Ok(());
        }
    };
    client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")?;
    let (c2, u2) = (client.try_clone()?, upstream.try_clone()?);
    let up = thread::spawn(move || pump(c2, u2));
    pump(upstream, client);
    let _ = up.join();
    Ok(())
}

/// A certificate authority of the test's own, and a certificate it signed for `localhost` and
/// `127.0.0.1`, made with the openssl command (files under `dir`).
pub struct TestCa {
    /// The CA certificate (PEM): what `SSL_CERT_FILE` names to trust it.
    pub ca_pem: PathBuf,
    pub server_pem: PathBuf,
    pub server_key: PathBuf,
}

impl TestCa {
    pub fn create(dir: &Path) -> TestCa {
        let openssl = |args: &[&str]| {
            let out = Command::new("openssl")
                .args(args)
                .current_dir(dir)
                .output()
                .unwrap_or_else(|e| panic!("cannot run openssl (apt install openssl): {e}"));
            assert!(
                out.status.success(),
                "openssl {args:?} failed:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
        let mut ca = vec!["req", "-x509"];
        ca.extend(ec);
        ca.extend([
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=gomig test CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ]);
        openssl(&ca);
        let mut csr = vec!["req"];
        csr.extend(ec);
        csr.extend(["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"]);
        openssl(&csr);
        std::fs::write(
            dir.join("server.ext"),
            "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n\
             keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
        )
        .unwrap();
        openssl(&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "server.ext",
            "-out",
            "server.pem",
        ]);
        TestCa {
            ca_pem: dir.join("ca.pem"),
            server_pem: dir.join("server.pem"),
            server_key: dir.join("server.key"),
        }
    }
}

/// Terminates TLS with the test CA's server certificate and relays the plain bytes to
/// `backend`: an `https://` mirror in front of the tests' download site.
pub struct TlsFront {
    addr: SocketAddr,
}

impl TlsFront {
    pub fn start(ca: &TestCa, backend: SocketAddr) -> TlsFront {
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&ca.server_pem)
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let key = PrivateKeyDer::from_pem_file(&ca.server_key).unwrap();
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap();
        let config = Arc::new(config);
        let (listener, addr) = listen();
        thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let config = Arc::clone(&config);
                thread::spawn(move || {
                    let _ = relay_tls(client, config, backend);
                });
            }
        });
        TlsFront { addr }
    }

    /// The mirror base URL: `https://localhost:PORT/dl/`.
    pub fn url(&self) -> String {
        format!("https://localhost:{}/dl/", self.addr.port())
    }
}

/// One TLS connection: the client side is read on this thread, the backend on another; both
/// write TLS records to the client under one lock, so records never interleave.
fn relay_tls(client: TcpStream, config: Arc<rustls::ServerConfig>, backend: SocketAddr) -> io::Result<()> {
    let tls = Arc::new(Mutex::new(
        rustls::ServerConnection::new(config).map_err(io::Error::other)?,
    ));
    let upstream = TcpStream::connect(backend)?;
    let backend_to_client = {
        let tls = Arc::clone(&tls);
        let mut from = upstream.try_clone()?;
        let mut to = client.try_clone()?;
        thread::spawn(move || {
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let n = from.read(&mut buf).unwrap_or(0);
                let mut conn = tls.lock().unwrap();
                if n == 0 {
                    conn.send_close_notify();
                } else if conn.writer().write_all(&buf[..n]).is_err() {
                    return;
                }
                while conn.wants_write() {
                    if conn.write_tls(&mut to).is_err() {
                        return;
                    }
                }
                if n == 0 {
                    let _ = to.shutdown(Shutdown::Write);
                    return;
                }
            }
        })
    };
    let mut from = client.try_clone()?;
    let mut to_client = client;
    let mut to_backend = upstream;
    let mut buf = vec![0u8; 64 * 1024];
    let mut plain = vec![0u8; 64 * 1024];
    loop {
        let n = from.read(&mut buf)?;
        let mut conn = tls.lock().unwrap();
        if n == 0 {
            break;
        }
        let mut incoming = &buf[..n];
        while !incoming.is_empty() {
            conn.read_tls(&mut incoming)?;
            if let Err(e) = conn.process_new_packets() {
                // Send the alert (a client that does not trust us says why), then give up.
                while conn.wants_write() {
                    let _ = conn.write_tls(&mut to_client);
                }
                return Err(io::Error::other(e));
            }
        }
        loop {
            match conn.reader().read(&mut plain) {
                Ok(0) => break,
                Ok(m) => to_backend.write_all(&plain[..m])?,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(e),
            }
        }
        while conn.wants_write() {
            conn.write_tls(&mut to_client)?;
        }
    }
    let _ = to_backend.shutdown(Shutdown::Write);
    let _ = backend_to_client.join();
    Ok(())
}
