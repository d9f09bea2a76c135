//! The HTTPS transport: a blocking ureq agent that speaks HTTPS only, follows no redirects,
//! trusts Mozilla's roots plus any `--ca-cert`, honours `HTTPS_PROXY`, and can send the TCP
//! connection for a host elsewhere (`--connect-to`, curl's meaning) while the URL, `Host`
//! header and TLS name stay the provider's.
//!
//! Nothing here prints, and no error message built here contains a URL or header value: the
//! request may carry a secret.

use std::fmt;
use std::net::{SocketAddr, ToSocketAddrs};
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use ureq::config::Config;
use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig};
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};

use crate::finding::UnknownReason;

/// Largest response body read. Live checks read small answers; an access map's list pages
/// (100 repositories, with every field GitHub sends) reach several hundred KiB.
const MAX_BODY: u64 = 1024 * 1024;

/// A request ready to send. It holds the secret: it has no `Debug` on purpose.
pub struct HttpRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
}

/// A response; header names are lower-case.
#[derive(Debug, Clone, Default)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Sends one request. The engine talks to providers only through this.
pub trait Transport: Sync {
    /// Sends `req` and reads the answer; failures are mapped to the reason reported.
    fn send(&self, req: &HttpRequest) -> Result<HttpResponse, UnknownReason>;
}

/// `--connect-to HOST:PORT:ADDR:PORT`: connections for `HOST:PORT` go to `ADDR:PORT`. An empty
/// `HOST` or `PORT` matches any; an empty `ADDR` or target `PORT` keeps the original.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectTo {
    pub host: Option<String>,
    pub port: Option<u16>,
    pub to_host: Option<String>,
    pub to_port: Option<u16>,
}

impl FromStr for ConnectTo {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let usage = || format!("`{s}`: expected HOST:PORT:ADDR:PORT (curl's --connect-to)");
        // Split on ':' outside brackets, so `[::1]` stays one field.
        let mut fields = Vec::new();
        let mut depth = 0;
        let mut cur = String::new();
        for c in s.chars() {
            match c {
                '[' => {
                    depth += 1;
                    cur.push(c)
                }
                ']' => {
                    depth -= 1;
                    cur.push(c)
                }
                ':' if depth == 0 => fields.push(std::mem::take(&mut cur)),
                c => cur.push(c),
            }
        }
        fields.push(cur);
        if fields.len() != 4 {
            return Err(usage());
        }
        let host = |f: &str| (!f.is_empty()).then(|| f.to_ascii_lowercase());
        let port = |f: &str| -> Result<Option<u16>, String> {
            if f.is_empty() {
                Ok(None)
            } else {
                f.parse().map(Some).map_err(|_| usage())
            }
        };
        Ok(ConnectTo {
            host: host(&fields[0]),
            port: port(&fields[1])?,
            to_host: host(&fields[2]),
            to_port: port(&fields[3])?,
        })
    }
}

impl ConnectTo {
    fn target(&self, host: &str, port: u16) -> Option<(String, u16)> {
        let host_ok = self
            .host
            .as_deref()
            .is_none_or(|h| h.eq_ignore_ascii_case(host));
        let port_ok = self.port.is_none_or(|p| p == port);
        (host_ok && port_ok).then(|| {
            (
                self.to_host.clone().unwrap_or_else(|| host.to_string()),
                self.to_port.unwrap_or(port),
            )
        })
    }
}

/// How to build the client.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Whole-request timeout (connect, TLS, request, answer).
    pub timeout: Duration,
    pub connect_to: Vec<ConnectTo>,
    /// Extra trusted CA certificates, DER.
    pub extra_ca: Vec<Vec<u8>>,
    /// Use `HTTPS_PROXY` / `ALL_PROXY` (and `NO_PROXY`) from the environment. Ignored when
    /// `connect_to` is set: a redirected connection must not be sent through a proxy.
    pub env_proxy: bool,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            timeout: Duration::from_secs(10),
            connect_to: Vec::new(),
            extra_ca: Vec::new(),
            env_proxy: true,
        }
    }
}

/// Reads every certificate of a PEM file (for `--ca-cert`).
pub fn read_pem_certificates(pem: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let mut out = Vec::new();
    for item in ureq::tls::parse_pem(pem) {
        match item {
            Ok(PemItem::Certificate(c)) => out.push(c.der().to_vec()),
            Ok(_) => {}
            Err(e) => return Err(format!("not a PEM certificate file: {e}")),
        }
    }
    if out.is_empty() {
        return Err("no certificate in the file".into());
    }
    Ok(out)
}

static CLIENTS_BUILT: AtomicUsize = AtomicUsize::new(0);

/// How many HTTP clients this process has built: stays 0 in a run without `--validate`.
pub fn clients_built() -> usize {
    CLIENTS_BUILT.load(Ordering::SeqCst)
}

/// The real transport.
pub struct UreqTransport {
    agent: ureq::Agent,
}

impl UreqTransport {
    pub fn new(opts: &ClientOptions) -> UreqTransport {
        CLIENTS_BUILT.fetch_add(1, Ordering::SeqCst);
        let mut roots: Vec<Certificate<'static>> = webpki_root_certs::TLS_SERVER_ROOT_CERTS
            .iter()
            .map(|c| Certificate::from_der(c.as_ref()))
            .collect();
        roots.extend(
            opts.extra_ca
                .iter()
                .map(|der| Certificate::from_der(der).to_owned()),
        );
        let proxy = if opts.env_proxy && opts.connect_to.is_empty() {
            ureq::Proxy::try_from_env()
        } else {
            None
        };
        let config = Config::builder()
            .https_only(true)
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_global(Some(opts.timeout))
            .proxy(proxy)
            .user_agent(concat!("keyhound/", env!("CARGO_PKG_VERSION")))
            .tls_config(
                TlsConfig::builder()
                    .root_certs(RootCerts::Specific(std::sync::Arc::new(roots)))
                    .build(),
            )
            .build();
        let resolver = ConnectToResolver {
            rules: opts.connect_to.clone(),
            inner: DefaultResolver::default(),
        };
        UreqTransport {
            agent: ureq::Agent::with_parts(config, DefaultConnector::default(), resolver),
        }
    }
}

impl Transport for UreqTransport {
    fn send(&self, req: &HttpRequest) -> Result<HttpResponse, UnknownReason> {
        let mut b = ureq::http::Request::builder()
            .method(req.method.as_str())
            .uri(req.url.as_str());
        for (n, v) in &req.headers {
            b = b.header(n.as_str(), v.as_str());
        }
        let result = match &req.body {
            Some(body) => b
                .body(body.clone())
                .map_err(|_| UnknownReason::Unsendable)
                .and_then(|r| self.agent.run(r).map_err(|e| map_error(&e))),
            None => b
                .body(())
                .map_err(|_| UnknownReason::Unsendable)
                .and_then(|r| self.agent.run(r).map_err(|e| map_error(&e))),
        };
        let mut resp = result?;
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .filter_map(|(n, v)| Some((n.as_str().to_string(), v.to_str().ok()?.to_string())))
            .collect();
        let body = if req.method == "HEAD" {
            Vec::new()
        } else {
            match resp.body_mut().with_config().limit(MAX_BODY).read_to_vec() {
                Ok(b) => b,
                Err(ureq::Error::Timeout(_)) => return Err(UnknownReason::Timeout),
                Err(_) => return Err(UnknownReason::BadResponse),
            }
        };
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }
}

/// Maps a transport error to a reason without any of its text that could hold a URL.
fn map_error(e: &ureq::Error) -> UnknownReason {
    match e {
        ureq::Error::Timeout(_) => UnknownReason::Timeout,
        ureq::Error::Rustls(r) => UnknownReason::TlsError(r.to_string()),
        ureq::Error::Tls(s) => UnknownReason::TlsError((*s).to_string()),
        ureq::Error::Io(io) => {
            if let Some(r) = io
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
            {
                UnknownReason::TlsError(r.to_string())
            } else if matches!(
                io.kind(),
                std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
            ) {
                UnknownReason::Timeout
            } else {
                UnknownReason::ConnectionFailed
            }
        }
        ureq::Error::BodyExceedsLimit(_) | ureq::Error::Protocol(_) => UnknownReason::BadResponse,
        ureq::Error::RedirectFailed | ureq::Error::TooManyRedirects => UnknownReason::Redirect(0),
        _ => UnknownReason::ConnectionFailed,
    }
}

/// Resolves `--connect-to` targets; every other name goes to the system resolver.
struct ConnectToResolver {
    rules: Vec<ConnectTo>,
    inner: DefaultResolver,
}

impl fmt::Debug for ConnectToResolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectToResolver")
            .field("rules", &self.rules)
            .finish()
    }
}

impl Resolver for ConnectToResolver {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let host = uri.host().unwrap_or_default();
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let port = uri.port_u16().unwrap_or(443);
        for rule in &self.rules {
            if let Some((to_host, to_port)) = rule.target(host, port) {
                let bare = to_host.trim_start_matches('[').trim_end_matches(']');
                let addrs: Vec<SocketAddr> = (bare, to_port)
                    .to_socket_addrs()
                    .map_err(|_| ureq::Error::HostNotFound)?
                    .collect();
                let mut out = self.empty();
                for a in addrs.into_iter().take(16) {
                    out.push(a);
                }
                if out.is_empty() {
                    return Err(ureq::Error::HostNotFound);
                }
                return Ok(out);
            }
        }
        self.inner.resolve(uri, config, timeout)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_to_parses_like_curl() {
        let c: ConnectTo = "api.github.com:443:127.0.0.1:8443".parse().unwrap();
        assert_eq!(
            c.target("api.github.com", 443),
            Some(("127.0.0.1".into(), 8443))
        );
        assert_eq!(
            c.target("API.GitHub.com", 443),
            Some(("127.0.0.1".into(), 8443))
        );
        assert_eq!(c.target("api.github.com", 80), None);
        assert_eq!(c.target("evil.example", 443), None);
        let any: ConnectTo = "::[::1]:9000".parse().unwrap();
        assert_eq!(any.target("x.example", 443), Some(("[::1]".into(), 9000)));
        let keep: ConnectTo = "a.example:443::".parse().unwrap();
        assert_eq!(
            keep.target("a.example", 443),
            Some(("a.example".into(), 443))
        );
        for bad in ["a:1:b", "a:x:b:1", "a:1:b:1:c", ""] {
            assert!(bad.parse::<ConnectTo>().is_err(), "{bad}");
        }
    }

    #[test]
    fn pem_files_need_a_certificate() {
        assert!(read_pem_certificates(b"hello").is_err());
    }
}
