//! Which proxy a download goes through, chosen from the environment as Go's own net/http
//! (golang.org/x/net/http/httpproxy) and curl choose it: per scheme (`HTTPS_PROXY` for
//! `https://`, `HTTP_PROXY` for `http://`, upper or lower case), with `ALL_PROXY` as curl's
//! fallback. `NO_PROXY` is read as Go reads it (a name and its subdomains, `.name` or `*.name`
//! for subdomains only, addresses, CIDR networks, `host:port`, `*`), with one difference: Go
//! never proxies localhost and loopback addresses, gomig does unless they are listed (a local
//! mirror behind a proxy works, and the tests can see the proxy used). ureq alone would send
//! every scheme through the first of these variables that is set, and match less of `NO_PROXY`.

use std::net::IpAddr;

/// The proxy for one scheme, and the variable that named it (for messages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxySetting {
    pub url: String,
    pub variable: &'static str,
}

/// The proxies the environment asks for.
#[derive(Debug, Clone, Default)]
pub struct Proxies {
    pub http: Option<ProxySetting>,
    pub https: Option<ProxySetting>,
    no_proxy: Vec<NoProxy>,
}

#[derive(Debug, Clone, PartialEq)]
enum NoProxy {
    All,
    /// A network: an address with a prefix length (`10.0.0.0/8`, `::1/128`).
    Net(IpAddr, u8),
    /// A host name or address: itself and, for names, every subdomain (`example.com`), or the
    /// subdomains only (`.example.com`, `*.example.com`); with an optional port.
    Host {
        name: String,
        subdomains_only: bool,
        port: Option<u16>,
    },
}

impl Proxies {
    pub fn from_env() -> Proxies {
        Proxies::from_lookup(|name| std::env::var(name).ok())
    }

    /// From any variable lookup (unit tests pass their own). Empty values count as unset.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Proxies {
        let first = |names: &[&'static str]| {
            names.iter().find_map(|&name| {
                get(name)
                    .map(|v| v.trim().to_string())
                    .filter(|v| !v.is_empty())
                    .map(|url| ProxySetting { url, variable: name })
            })
        };
        let no_proxy = get("NO_PROXY")
            .filter(|v| !v.trim().is_empty())
            .or_else(|| get("no_proxy"))
            .unwrap_or_default();
        Proxies {
            http: first(&["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"]),
            https: first(&["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]),
            no_proxy: no_proxy.split(',').filter_map(NoProxy::parse).collect(),
        }
    }

    /// The proxy `url` goes through, or `None` to go direct.
    pub fn for_url(&self, url: &str) -> Option<&ProxySetting> {
        let (scheme, rest) = url.split_once("://")?;
        let setting = match scheme.to_ascii_lowercase().as_str() {
            "https" => self.https.as_ref(),
            "http" => self.http.as_ref(),
            _ => None,
        }?;
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        let authority = authority.rsplit('@').next().unwrap_or(authority);
        let (host, port) = split_host_port(authority);
        let port = port.unwrap_or(if scheme.eq_ignore_ascii_case("https") { 443 } else { 80 });
        let host = host.to_ascii_lowercase();
        if self.no_proxy.iter().any(|n| n.matches(&host, port)) {
            return None;
        }
        Some(setting)
    }
}

/// The host of a URL (`https://user@go.dev:443/dl/` -> `go.dev`), for messages.
pub fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    split_host_port(authority).0.to_string()
}

/// `host:port`, `[v6]:port`, `host`, `[v6]` -> (host without brackets, port).
fn split_host_port(authority: &str) -> (&str, Option<u16>) {
    if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest.split_once(']').unwrap_or((rest, ""));
        return (host, after.strip_prefix(':').and_then(|p| p.parse().ok()));
    }
    match authority.rsplit_once(':') {
        // A bare IPv6 address has more than one colon and no port.
        Some((host, port)) if !host.contains(':') => (host, port.parse().ok()),
        _ => (authority, None),
    }
}

impl NoProxy {
    fn parse(entry: &str) -> Option<NoProxy> {
        let entry = entry.trim().to_ascii_lowercase();
        if entry.is_empty() {
            return None;
        }
        if entry == "*" {
            return Some(NoProxy::All);
        }
        if let Some((addr, bits)) = entry.split_once('/') {
            let addr: IpAddr = addr.parse().ok()?;
            let max = if addr.is_ipv4() { 32 } else { 128 };
            let bits: u8 = bits.parse().ok().filter(|b| *b <= max)?;
            return Some(NoProxy::Net(addr, bits));
        }
        if let Ok(addr) = entry.parse::<IpAddr>() {
            return Some(NoProxy::Net(addr, if addr.is_ipv4() { 32 } else { 128 }));
        }
        let (host, port) = split_host_port(&entry);
        let (name, subdomains_only) = match host.strip_prefix("*.").or_else(|| host.strip_prefix('.')) {
            Some(domain) => (domain.to_string(), true),
            None => (host.to_string(), false),
        };
        Some(NoProxy::Host {
            name,
            subdomains_only,
            port,
        })
    }

    fn matches(&self, host: &str, port: u16) -> bool {
        match self {
            NoProxy::All => true,
            NoProxy::Net(net, bits) => host.parse::<IpAddr>().is_ok_and(|ip| in_net(ip, *net, *bits)),
            NoProxy::Host {
                name,
                subdomains_only,
                port: want,
            } => {
                if want.is_some_and(|p| p != port) {
                    return false;
                }
                let below = host.strip_suffix(name.as_str()).is_some_and(|s| s.ends_with('.'));
                below || (!subdomains_only && host == name)
            }
        }
    }
}

fn in_net(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    let (ip, net, width) = match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) => (u32::from(a) as u128, u32::from(b) as u128, 32),
        (IpAddr::V6(a), IpAddr::V6(b)) => (u128::from(a), u128::from(b), 128),
        _ => return false,
    };
    let shift = width - u32::from(bits);
    shift >= width || (ip >> shift) == (net >> shift)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxies(vars: &[(&str, &str)]) -> Proxies {
        Proxies::from_lookup(|name| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string()))
    }

    fn via(p: &Proxies, url: &str) -> Option<&'static str> {
        p.for_url(url).map(|s| s.variable)
    }

    #[test]
    fn each_scheme_has_its_own_variable_and_all_proxy_is_the_fallback() {
        let p = proxies(&[("HTTPS_PROXY", "http://s:1"), ("http_proxy", "http://h:2")]);
        assert_eq!(via(&p, "https://go.dev/dl/"), Some("HTTPS_PROXY"));
        assert_eq!(via(&p, "http://mirror.local/dl/"), Some("http_proxy"));
        let p = proxies(&[("HTTPS_PROXY", "http://s:1")]);
        assert_eq!(
            via(&p, "http://mirror.local/dl/"),
            None,
            "HTTPS_PROXY is for https only"
        );
        let p = proxies(&[("ALL_PROXY", "http://a:3"), ("HTTP_PROXY", "")]);
        assert_eq!(via(&p, "http://mirror.local/"), Some("ALL_PROXY"), "empty means unset");
        assert_eq!(via(&p, "https://go.dev/"), Some("ALL_PROXY"));
        assert_eq!(p.for_url("https://go.dev/").unwrap().url, "http://a:3");
        assert_eq!(via(&proxies(&[]), "https://go.dev/"), None);
    }

    #[test]
    fn no_proxy_takes_hosts_domains_addresses_networks_and_ports() {
        let p = proxies(&[
            ("HTTPS_PROXY", "http://proxy:3128"),
            (
                "NO_PROXY",
                " corp.example , .internal,*.lan, 10.0.0.0/8, 192.168.1.7, [::1], mirror.test:8443, ",
            ),
        ]);
        let direct = [
            "https://corp.example/dl/",
            "https://dl.corp.example/dl/",
            "https://a.internal/",
            "https://b.lan/",
            "https://10.1.2.3/",
            "https://192.168.1.7:8443/",
            "https://[::1]:9000/",
            "https://mirror.test:8443/dl/",
            "https://user:pw@CORP.EXAMPLE/dl/",
        ];
        for url in direct {
            assert_eq!(via(&p, url), None, "{url} should go direct");
        }
        let proxied = [
            "https://go.dev/dl/",
            "https://notcorp.example/",
            "https://internal/",
            "https://lan/",
            "https://11.0.0.1/",
            "https://192.168.1.8/",
            "https://mirror.test/dl/",
            "https://[::2]/",
        ];
        for url in proxied {
            assert_eq!(via(&p, url), Some("HTTPS_PROXY"), "{url} should use the proxy");
        }
        let all = proxies(&[("HTTPS_PROXY", "http://proxy:3128"), ("no_proxy", "*")]);
        assert_eq!(via(&all, "https://go.dev/"), None);
    }
}
