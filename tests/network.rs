//! The network a company laptop or a CI runner really has between gomig and a mirror: proxies
//! named per scheme as Go's net/http and curl read them (`HTTP_PROXY` for `http://` mirrors,
//! `HTTPS_PROXY` for `https://`, `ALL_PROXY` as the fallback, `NO_PROXY` for hosts that go
//! direct), and `https://` mirrors whose
//! certificates are checked against the platform's roots (on Linux the system store, which
//! `SSL_CERT_FILE` replaces, as for curl and openssl). All on loopback: a CONNECT proxy and a
//! TLS front with a CA of the test's own, both relaying to the tests' download site.

#[path = "support/dlsite.rs"]
mod dlsite;
#[path = "support/install_kit.rs"]
mod kit;
#[path = "support/relay.rs"]
mod relay;
mod support;

use kit::*;
use relay::{ConnectProxy, TestCa, TlsFront};
use support::*;

/// The shim runs the installed release: the install was complete and usable.
fn assert_installed_and_runs(env: &TestEnv) {
    assert_eq!(listed_versions(env), ["go1.22.10"]);
    env.install_shims();
    let out = run(&mut env.go_in(&env.work, &["version"]));
    assert_eq!(stdout(&out).trim(), go_version_line(GO_122), "{}", describe(&out));
}

#[test]
fn an_http_mirror_goes_through_http_proxy_never_https_proxy() {
    let m = mini_site();
    let site = &m.site;
    let (for_http, for_https) = (ConnectProxy::start(), ConnectProxy::start());
    let env = TestEnv::new();
    let out = run(gomig_site(&env, site, &["install", GO_122])
        .env("HTTP_PROXY", for_http.url())
        .env("HTTPS_PROXY", for_https.url()));
    assert!(out.status.success(), "{}", describe(&out));
    let site_addr = site.addr().to_string();
    let tunnels = for_http.tunnels();
    assert!(
        !tunnels.is_empty() && tunnels.iter().all(|t| *t == site_addr),
        "every connection to the mirror {site_addr} should go through HTTP_PROXY, it saw {tunnels:?}"
    );
    assert_eq!(
        for_https.tunnels(),
        Vec::<String>::new(),
        "HTTPS_PROXY is for https:// only"
    );
    assert_eq!(site.downloads(&archive_name(GO_122)), 1);
    assert_installed_and_runs(&env);
}

#[test]
fn all_proxy_is_used_when_the_scheme_has_no_proxy_of_its_own() {
    let m = mini_site();
    let site = &m.site;
    let proxy = ConnectProxy::start();
    let env = TestEnv::new();
    let out = run(gomig_site(&env, site, &["install", GO_122]).env("all_proxy", proxy.url()));
    assert!(out.status.success(), "{}", describe(&out));
    assert!(!proxy.tunnels().is_empty(), "all_proxy was not used");
    assert_installed_and_runs(&env);
}

#[test]
fn hosts_and_networks_listed_in_no_proxy_are_reached_directly() {
    let m = mini_site();
    let site = &m.site;
    let proxy = ConnectProxy::start();
    for no_proxy in ["example.com, 127.0.0.1", "127.0.0.0/8", "*"] {
        let env = TestEnv::new();
        let out = run(gomig_site(&env, site, &["install", GO_122])
            .env("HTTP_PROXY", proxy.url())
            .env("NO_PROXY", no_proxy));
        assert!(out.status.success(), "NO_PROXY={no_proxy}: {}", describe(&out));
        assert_eq!(
            proxy.tunnels(),
            Vec::<String>::new(),
            "NO_PROXY={no_proxy}: the host went through the proxy"
        );
        assert_installed_and_runs(&env);
    }
    assert_eq!(site.downloads(&archive_name(GO_122)), 3);
}

#[test]
fn a_proxy_that_is_down_is_an_error_that_names_it_and_installs_nothing() {
    let m = mini_site();
    let site = &m.site;
    let dead_proxy = dlsite::unused_url();
    let dead_proxy = dead_proxy.trim_end_matches("/dl/");
    let env = TestEnv::new();
    let err = install_fails(gomig_site(&env, site, &["install", GO_122]).env("HTTP_PROXY", dead_proxy));
    assert!(
        err.contains(dead_proxy) && err.contains("HTTP_PROXY"),
        "the error should name the proxy and where it came from:\n{err}"
    );
    assert!(site.requests().is_empty(), "nothing should bypass the configured proxy");
    assert_nothing_installed(&env);
}

#[test]
fn a_proxy_setting_that_is_not_a_url_is_an_error_that_names_the_variable() {
    let m = mini_site();
    let site = &m.site;
    let env = TestEnv::new();
    let err = install_fails(gomig_site(&env, site, &["install", GO_122]).env("http_proxy", "http://[not a host"));
    assert!(
        err.contains("http_proxy=http://[not a host") && err.contains("unset it"),
        "{err}"
    );
    assert!(site.requests().is_empty());
    assert_nothing_installed(&env);
}

#[test]
fn an_https_mirror_whose_certificate_the_system_does_not_trust_is_refused() {
    let (tmp, m) = (tempfile::tempdir().unwrap(), mini_site());
    let ca = TestCa::create(tmp.path());
    let site = &m.site;
    let front = TlsFront::start(&ca, site.addr());
    let env = TestEnv::new();
    // The system's roots (or an empty store: the test CA is in none of them).
    let err = install_fails(&mut gomig_with_mirrors(&env, &[front.url()], &["install", GO_122]));
    assert!(
        err.contains(&front.url()) && err.to_lowercase().contains("certificate"),
        "the error should name the mirror and say its certificate is not trusted:\n{err}"
    );
    assert!(
        site.requests().is_empty(),
        "no request may be sent over an untrusted connection: {:?}",
        site.requests()
    );
    assert_nothing_installed(&env);
}

#[test]
fn an_https_mirror_signed_by_a_root_the_system_trusts_works_also_through_a_proxy() {
    let (tmp, m) = (tempfile::tempdir().unwrap(), mini_site());
    let ca = TestCa::create(tmp.path());
    let site = &m.site;
    let front = TlsFront::start(&ca, site.addr());
    let env = TestEnv::new();
    // SSL_CERT_FILE replaces the system's trust store (rustls-native-certs, like openssl).
    let out = run(gomig_with_mirrors(&env, &[front.url()], &["install", GO_122]).env("SSL_CERT_FILE", &ca.ca_pem));
    assert!(out.status.success(), "{}", describe(&out));
    let events = install_events(&env);
    assert_eq!(events[0]["url"], format!("{}{}", front.url(), archive_name(GO_122)));
    assert_installed_and_runs(&env);

    // The same through HTTPS_PROXY: the tunnel carries TLS end to end (and HTTP_PROXY, here a
    // proxy that is down, is not for https:// mirrors).
    let proxied = TestEnv::new();
    let proxy = ConnectProxy::start();
    let dead = dlsite::unused_url();
    let out = run(gomig_with_mirrors(&proxied, &[front.url()], &["install", GO_122])
        .env("SSL_CERT_FILE", &ca.ca_pem)
        .env("HTTP_PROXY", dead.trim_end_matches("/dl/"))
        .env("HTTPS_PROXY", proxy.url()));
    assert!(out.status.success(), "{}", describe(&out));
    let port = front
        .url()
        .split(':')
        .nth(2)
        .unwrap()
        .trim_end_matches("/dl/")
        .to_string();
    assert!(
        proxy.tunnels().iter().all(|t| *t == format!("localhost:{port}")) && !proxy.tunnels().is_empty(),
        "the proxy should have tunnelled to the mirror: {:?}",
        proxy.tunnels()
    );
    assert_installed_and_runs(&proxied);
}

/// `gomig install` against the https:// front, trusting the test CA.
fn install_over_https(env: &TestEnv, front: &TlsFront, ca: &TestCa) -> std::process::Command {
    let mut cmd = gomig_with_mirrors(env, &[front.url()], &["install", GO_122]);
    cmd.env("SSL_CERT_FILE", &ca.ca_pem);
    cmd
}

#[test]
fn an_https_mirror_that_redirects_to_plain_http_is_refused_for_the_index_and_the_archive() {
    let (tmp, m) = (tempfile::tempdir().unwrap(), mini_site());
    let ca = TestCa::create(tmp.path());
    let site = &m.site;
    let front = TlsFront::start(&ca, site.addr());

    // The index (the only source of the SHA-256) over https redirects to the same site in clear.
    site.fault(dlsite::Target::Index, dlsite::Fault::RedirectTo(site.index_url()));
    let env = TestEnv::new();
    let err = install_fails(&mut install_over_https(&env, &front, &ca));
    let https_index = format!("{}?mode=json&include=all", front.url());
    assert!(
        err.contains(&format!("{https_index} redirects to {}", site.index_url()))
            && err.contains("from https to plain http"),
        "the error names both URLs and the downgrade:\n{err}"
    );
    assert!(err.contains("--mirror"), "the error says what to do:\n{err}");
    assert_eq!(
        site.requests().len(),
        1,
        "nothing may be fetched over plain http: {:?}",
        site.requests()
    );
    assert_nothing_installed(&env);

    // The archive too, once the index came over https.
    site.clear_faults();
    site.clear_requests();
    let plain = site.file_url(&m.file);
    site.fault(m.file.as_str(), dlsite::Fault::RedirectTo(plain.clone()));
    let env = TestEnv::new();
    let err = install_fails(&mut install_over_https(&env, &front, &ca));
    assert!(
        err.contains(&format!("{}{} redirects to {plain}", front.url(), m.file)) && err.contains("plain http"),
        "{err}"
    );
    assert_eq!(
        site.downloads(&m.file),
        0,
        "the archive came in clear: {:?}",
        site.requests()
    );
    assert_nothing_installed(&env);
}

#[test]
fn a_downgrade_after_a_redirect_that_stayed_on_https_is_refused_too() {
    let (tmp, m) = (tempfile::tempdir().unwrap(), mini_site());
    let ca = TestCa::create(tmp.path());
    let site = &m.site;
    let front = TlsFront::start(&ca, site.addr());
    // https -> https (relative) -> http: each hop is held to the rule, not only the first.
    let plain = site.file_url(&m.file);
    site.fault_times(m.file.as_str(), dlsite::Fault::RedirectTo(format!("/go/{}", m.file)), 1);
    site.fault(m.file.as_str(), dlsite::Fault::RedirectTo(plain.clone()));
    let env = TestEnv::new();
    let err = install_fails(&mut install_over_https(&env, &front, &ca));
    let origin = front.url().trim_end_matches("/dl/").to_string();
    assert!(
        err.contains(&format!("{origin}/go/{} redirects to {plain}", m.file)) && err.contains("plain http"),
        "the hop that downgrades is named:\n{err}"
    );
    assert_eq!(site.downloads(&m.file), 0, "{:?}", site.requests());
    assert_nothing_installed(&env);
}

#[test]
fn a_redirect_that_stays_on_https_is_followed_and_the_log_names_where_the_bytes_came_from() {
    let (tmp, m) = (tempfile::tempdir().unwrap(), mini_site());
    let ca = TestCa::create(tmp.path());
    let site = &m.site;
    let front = TlsFront::start(&ca, site.addr());
    // A relative Location, read against the https:// URL that answered it.
    site.fault_times(m.file.as_str(), dlsite::Fault::RedirectTo(format!("/go/{}", m.file)), 1);
    let env = TestEnv::new();
    let out = run(&mut install_over_https(&env, &front, &ca));
    assert!(out.status.success(), "{}", describe(&out));
    let events = install_events(&env);
    let origin = front.url().trim_end_matches("/dl/").to_string();
    assert_eq!(events[0]["url"], format!("{origin}/go/{}", m.file), "{:?}", events[0]);
    assert_eq!(events[0]["requested"], format!("{}{}", front.url(), m.file));
    assert_installed_and_runs(&env);
}

#[test]
fn a_host_name_that_does_not_resolve_is_asked_once_and_said_so() {
    // `.invalid` never resolves (RFC 6761); the system's resolver is asked, as for any name.
    let mirror = "http://gomig-test.invalid/dl/".to_string();
    let env = TestEnv::new();
    let err = install_fails(&mut gomig_with_mirrors(
        &env,
        std::slice::from_ref(&mirror),
        &["install", GO_122],
    ));
    assert!(
        err.contains(&format!(
            "{mirror}?mode=json&include=all: cannot resolve the host name gomig-test.invalid"
        )),
        "the error names the URL and the name:\n{err}"
    );
    assert!(
        err.contains("asked once") && !err.contains("attempts"),
        "a name that does not resolve is not retried:\n{err}"
    );
    assert!(!err.contains("check the network, or"), "one hint, not two:\n{err}");
    assert_nothing_installed(&env);

    // The proxy's name: the error names the proxy and its variable; the next mirror is not
    // reached either (it goes through the same proxy).
    let m = mini_site();
    let env = TestEnv::new();
    let err = install_fails(
        gomig_site(&env, &m.site, &["install", GO_122]).env("HTTP_PROXY", "http://proxy.gomig-test.invalid:3128"),
    );
    assert!(
        err.contains(
            "cannot resolve the host name proxy.gomig-test.invalid of the proxy HTTP_PROXY=http://proxy.gomig-test.invalid:3128"
        ),
        "{err}"
    );
    assert!(!err.contains("attempts"), "{err}");
    assert!(m.site.requests().is_empty());
    assert_nothing_installed(&env);

    // A mirror that does not resolve, then one that works.
    let env = TestEnv::new();
    let out = run(&mut gomig_with_mirrors(
        &env,
        &[mirror, m.site.url()],
        &["install", GO_122],
    ));
    assert!(out.status.success(), "{}", describe(&out));
    let err = stderr(&out);
    assert!(
        err.contains("cannot resolve the host name gomig-test.invalid") && err.contains("trying the next mirror"),
        "{err}"
    );
    assert_installed_and_runs(&env);
}
