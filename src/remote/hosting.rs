//! Listing the repositories of a GitHub organisation or user, or of a GitLab group (with its
//! subgroups), through their REST APIs: every page, rate limits waited out, forks and archived
//! repositories left out unless asked for.
//!
//! The API token goes only to the API's own origin (pagination links elsewhere are not
//! followed), and is handed on for cloning only to the host the API serves (`github.com` for
//! `api.github.com`, the API's host otherwise); a listed clone URL on any other host is
//! skipped with a warning.

use std::time::Duration;

use serde::Deserialize;

use super::clone::Credential;
use super::url::{RemoteUrl, Scheme};
use crate::validate::{HttpRequest, HttpResponse, Transport};

/// What to list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listing {
    GithubOrg(String),
    GithubUser(String),
    GitlabGroup(String),
}

impl Listing {
    fn is_github(&self) -> bool {
        !matches!(self, Listing::GitlabGroup(_))
    }

    fn describe(&self) -> String {
        match self {
            Listing::GithubOrg(o) => format!("GitHub organization {o}"),
            Listing::GithubUser(u) => format!("GitHub user {u}"),
            Listing::GitlabGroup(g) => format!("GitLab group {g}"),
        }
    }
}

/// How to list.
#[derive(Debug, Clone, Default)]
pub struct ListOptions {
    /// The API's base URL (`https://ghe.example/api/v3`); the public service's by default.
    pub api_url: Option<String>,
    pub include_forks: bool,
    pub include_archived: bool,
    /// `GITHUB_TOKEN` or `GITLAB_TOKEN`.
    pub token: Option<String>,
    /// The longest keyhound waits for a rate limit to lift before giving up.
    pub max_wait: Duration,
}

/// A listed repository.
#[derive(Debug, Clone)]
pub struct Listed {
    pub url: RemoteUrl,
    /// The token, for cloning from the API's host.
    pub credential: Option<Credential>,
}

/// What a listing gave: repositories (sorted by identity) and warnings for stderr.
#[derive(Debug, Default)]
pub struct Found {
    pub repos: Vec<Listed>,
    pub warnings: Vec<String>,
    /// Forks and archived repositories left out.
    pub left_out: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum HostingError {
    #[error("{0}: the API URL must be https://")]
    NotHttps(String),
    #[error("{what}: {message}")]
    Api { what: String, message: String },
}

/// Pages fetched at most, as a guard against an API that never stops paginating.
const MAX_PAGES: usize = 10_000;
/// Attempts at one page (rate limits and server errors).
const ATTEMPTS: u32 = 6;

#[derive(Deserialize)]
struct GithubRepo {
    clone_url: String,
    #[serde(default)]
    fork: bool,
    #[serde(default)]
    archived: bool,
}

#[derive(Deserialize)]
struct GitlabProject {
    http_url_to_repo: String,
    #[serde(default)]
    archived: bool,
    #[serde(default)]
    forked_from_project: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
struct GithubUser {
    login: String,
}

/// Lists `what`. `sleep` waits (a test passes one that records the waits).
pub fn list(
    what: &Listing,
    opts: &ListOptions,
    transport: &dyn Transport,
    sleep: &dyn Fn(Duration),
) -> Result<Found, HostingError> {
    let api = api_base(what, opts)?;
    let client = Client {
        api: &api,
        what: what.describe(),
        github: what.is_github(),
        token: opts.token.as_deref(),
        transport,
        sleep,
        max_wait: opts.max_wait,
    };
    let mut found = Found::default();
    let entries: Vec<(String, bool, bool)> = match what {
        Listing::GithubOrg(org) => {
            let first = format!("{api}/orgs/{}/repos?type=all&per_page=100", encode(org));
            github_entries(client.pages(&first)?)?
        }
        Listing::GithubUser(user) => {
            let first = match client.token_owner()? {
                Some(me) if me.eq_ignore_ascii_case(user) => {
                    format!("{api}/user/repos?affiliation=owner&per_page=100")
                }
                _ => format!("{api}/users/{}/repos?type=owner&per_page=100", encode(user)),
            };
            github_entries(client.pages(&first)?)?
        }
        Listing::GitlabGroup(group) => {
            let first = format!(
                "{api}/groups/{}/projects?include_subgroups=true&per_page=100&order_by=id&sort=asc",
                encode(group)
            );
            gitlab_entries(client.pages(&first)?)?
        }
    };
    let host = clone_host(&api);
    for (clone_url, fork, archived) in entries {
        if (fork && !opts.include_forks) || (archived && !opts.include_archived) {
            found.left_out += 1;
            continue;
        }
        match RemoteUrl::parse(&clone_url) {
            Ok(u) if u.host == host && matches!(u.scheme, Scheme::Https | Scheme::Http) => {
                let credential = opts.token.as_ref().and_then(|t| {
                    Some(Credential {
                        origin: u.credential_origin()?,
                        username: if what.is_github() {
                            "x-access-token".into()
                        } else {
                            "oauth2".into()
                        },
                        password: t.clone(),
                    })
                });
                found.repos.push(Listed { url: u, credential });
            }
            _ => found.warnings.push(format!(
                "{}: skipped {}: not an https URL on {host}",
                what.describe(),
                crate::report::sanitize(&super::url::strip_userinfo(&clone_url))
            )),
        }
    }
    found.repos.sort_by_key(|l| l.url.identity());
    found.repos.dedup_by_key(|l| l.url.identity());
    Ok(found)
}

fn github_entries(pages: Vec<Vec<u8>>) -> Result<Vec<(String, bool, bool)>, HostingError> {
    let mut out = Vec::new();
    for body in pages {
        let repos: Vec<GithubRepo> = serde_json::from_slice(&body).map_err(bad_answer)?;
        out.extend(repos.into_iter().map(|r| (r.clone_url, r.fork, r.archived)));
    }
    Ok(out)
}

fn gitlab_entries(pages: Vec<Vec<u8>>) -> Result<Vec<(String, bool, bool)>, HostingError> {
    let mut out = Vec::new();
    for body in pages {
        let projects: Vec<GitlabProject> = serde_json::from_slice(&body).map_err(bad_answer)?;
        out.extend(projects.into_iter().map(|p| {
            let fork = p.forked_from_project.is_some();
            (p.http_url_to_repo, fork, p.archived)
        }));
    }
    Ok(out)
}

fn bad_answer(e: serde_json::Error) -> HostingError {
    HostingError::Api {
        what: "API".into(),
        message: format!("unexpected answer: {e}"),
    }
}

/// The API base without a trailing slash; https only, or http to this machine.
fn api_base(what: &Listing, opts: &ListOptions) -> Result<String, HostingError> {
    let base = match (&opts.api_url, what.is_github()) {
        (Some(u), _) => u.trim_end_matches('/').to_string(),
        (None, true) => "https://api.github.com".to_string(),
        (None, false) => "https://gitlab.com/api/v4".to_string(),
    };
    let host = origin_host(&base);
    let https = base.to_ascii_lowercase().starts_with("https://");
    let loopback_http =
        base.to_ascii_lowercase().starts_with("http://") && super::url::is_loopback(&host);
    if !(https || loopback_http) || host.is_empty() || base.contains('@') {
        return Err(HostingError::NotHttps(super::url::strip_userinfo(&base)));
    }
    Ok(base)
}

/// The host part of `scheme://host[:port]/...`, lower-case.
fn origin_host(url: &str) -> String {
    let rest = url.split_once("://").map_or("", |(_, r)| r);
    let authority = rest.split('/').next().unwrap_or("");
    let host = match authority.strip_prefix('[') {
        Some(r) => r.split(']').next().unwrap_or(""),
        None => authority.split(':').next().unwrap_or(""),
    };
    host.to_ascii_lowercase()
}

/// `scheme://host[:port]` of a URL.
fn origin(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let authority = rest.split('/').next().unwrap_or("");
    format!(
        "{}://{}",
        scheme.to_ascii_lowercase(),
        authority.to_ascii_lowercase()
    )
}

/// The host the API's repositories are cloned from.
fn clone_host(api: &str) -> String {
    let host = origin_host(api);
    match host.strip_prefix("api.") {
        Some(rest) if rest == "github.com" => rest.to_string(),
        _ => host,
    }
}

/// Percent-encodes a path segment (a GitLab group path `a/b` becomes `a%2Fb`).
fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

struct Client<'a> {
    api: &'a str,
    what: String,
    github: bool,
    token: Option<&'a str>,
    transport: &'a dyn Transport,
    sleep: &'a dyn Fn(Duration),
    max_wait: Duration,
}

impl Client<'_> {
    fn error(&self, message: String) -> HostingError {
        HostingError::Api {
            what: self.what.clone(),
            message,
        }
    }

    /// The login the token belongs to (GitHub), if there is a token.
    fn token_owner(&self) -> Result<Option<String>, HostingError> {
        if self.token.is_none() {
            return Ok(None);
        }
        let resp = self.get(&format!("{}/user", self.api))?;
        if resp.status != 200 {
            return Ok(None);
        }
        let user: GithubUser = serde_json::from_slice(&resp.body).map_err(bad_answer)?;
        Ok(Some(user.login))
    }

    /// Every page from `first` on, following `Link: <...>; rel="next"` on the API's origin.
    fn pages(&self, first: &str) -> Result<Vec<Vec<u8>>, HostingError> {
        let mut out = Vec::new();
        let mut next = Some(first.to_string());
        while let Some(url) = next.take() {
            if out.len() >= MAX_PAGES {
                return Err(self.error(format!("more than {MAX_PAGES} pages")));
            }
            let resp = self.get(&url)?;
            match resp.status {
                200 => {}
                401 => return Err(self.error(format!("401 Unauthorized: {}", self.token_hint()))),
                403 => return Err(self.error(format!("403 Forbidden: {}", self.token_hint()))),
                404 => {
                    return Err(self
                        .error("not found (or private, and the token cannot see it)".to_string()))
                }
                s => return Err(self.error(format!("unexpected HTTP status {s}"))),
            }
            next = next_link(&resp).filter(|n| origin(n) == origin(self.api));
            out.push(resp.body);
        }
        Ok(out)
    }

    fn token_hint(&self) -> &'static str {
        match (self.token.is_some(), self.github) {
            (false, true) => "set GITHUB_TOKEN to a token that can read it",
            (false, false) => "set GITLAB_TOKEN to a token that can read it",
            (true, true) => "GITHUB_TOKEN cannot read it",
            (true, false) => "GITLAB_TOKEN cannot read it",
        }
    }

    /// One GET, waiting out rate limits and retrying server errors.
    fn get(&self, url: &str) -> Result<HttpResponse, HostingError> {
        let mut headers = vec![("accept".to_string(), "application/json".to_string())];
        if self.github {
            headers[0].1 = "application/vnd.github+json".into();
            headers.push(("x-github-api-version".into(), "2022-11-28".into()));
        }
        if let Some(t) = self.token {
            if self.github {
                headers.push(("authorization".into(), format!("Bearer {t}")));
            } else {
                headers.push(("private-token".into(), t.to_string()));
            }
        }
        let req = HttpRequest {
            method: "GET".into(),
            url: url.to_string(),
            headers,
            body: None,
        };
        let mut waited = Duration::ZERO;
        for attempt in 0..ATTEMPTS {
            let resp = match self.transport.send(&req) {
                Ok(r) => r,
                Err(reason) if attempt + 1 < ATTEMPTS => {
                    log::info!("{}: {reason}; retrying", self.what);
                    (self.sleep)(backoff(attempt));
                    continue;
                }
                Err(reason) => return Err(self.error(reason.to_string())),
            };
            let wait = match rate_limited(&resp) {
                Some(w) => w,
                None if resp.status >= 500 => backoff(attempt),
                None => return Ok(resp),
            };
            if attempt + 1 == ATTEMPTS || waited + wait > self.max_wait {
                return Err(self.error(format!(
                    "rate limited (HTTP {}); the limit lifts in {}s, try again later{}",
                    resp.status,
                    wait.as_secs(),
                    if self.token.is_none() {
                        " or with a token"
                    } else {
                        ""
                    }
                )));
            }
            log::warn!(
                "{}: HTTP {}, waiting {}s before trying again",
                self.what,
                resp.status,
                wait.as_secs()
            );
            (self.sleep)(wait);
            waited += wait;
        }
        Err(self.error("no answer".into()))
    }
}

fn backoff(attempt: u32) -> Duration {
    Duration::from_secs(1 << attempt.min(5))
}

/// How long to wait when `resp` says a rate limit was hit: `Retry-After` (seconds), else the
/// reset time (`X-RateLimit-Reset` on GitHub, `RateLimit-Reset` on GitLab, Unix seconds) once
/// no requests remain.
fn rate_limited(resp: &HttpResponse) -> Option<Duration> {
    if resp.status != 429 && resp.status != 403 {
        return None;
    }
    if let Some(s) = resp
        .header("retry-after")
        .and_then(|v| v.trim().parse::<u64>().ok())
    {
        return Some(Duration::from_secs(s.max(1)));
    }
    let remaining = resp
        .header("x-ratelimit-remaining")
        .or_else(|| resp.header("ratelimit-remaining"))
        .and_then(|v| v.trim().parse::<u64>().ok());
    let reset = resp
        .header("x-ratelimit-reset")
        .or_else(|| resp.header("ratelimit-reset"))
        .and_then(|v| v.trim().parse::<i64>().ok());
    match (remaining, reset) {
        (Some(0), Some(at)) => {
            let now = jiff::Timestamp::now().as_second();
            Some(Duration::from_secs((at - now).clamp(1, i64::MAX) as u64))
        }
        _ if resp.status == 429 => Some(Duration::from_secs(60)),
        _ => None,
    }
}

/// The `rel="next"` target of a `Link` header.
fn next_link(resp: &HttpResponse) -> Option<String> {
    let link = resp.header("link")?;
    link.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        let is_next = params
            .split(';')
            .any(|p| p.trim().replace(' ', "") == "rel=\"next\"");
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        is_next.then(|| target.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::UnknownReason;
    use std::sync::Mutex;

    /// A request as the script saw it: URL and headers.
    type Sent = (String, Vec<(String, String)>);

    /// Answers from a script, recording the requests.
    struct Script {
        answers: Mutex<Vec<HttpResponse>>,
        seen: Mutex<Vec<Sent>>,
    }

    impl Transport for Script {
        fn send(&self, req: &HttpRequest) -> Result<HttpResponse, UnknownReason> {
            self.seen
                .lock()
                .unwrap()
                .push((req.url.clone(), req.headers.clone()));
            let mut a = self.answers.lock().unwrap();
            if a.is_empty() {
                return Err(UnknownReason::ConnectionFailed);
            }
            Ok(a.remove(0))
        }
    }

    fn resp(status: u16, headers: &[(&str, &str)], body: &str) -> HttpResponse {
        HttpResponse {
            status,
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            body: body.as_bytes().to_vec(),
        }
    }

    fn opts() -> ListOptions {
        ListOptions {
            token: Some("tok".into()),
            max_wait: Duration::from_secs(3600),
            ..ListOptions::default()
        }
    }

    #[test]
    fn github_org_pages_rate_limits_and_filters() {
        let page2 = "https://api.github.com/organizations/1/repos?page=2";
        let script = Script {
            answers: Mutex::new(vec![
                resp(
                    200,
                    &[(
                        "link",
                        &format!("<{page2}>; rel=\"next\", <x>; rel=\"last\""),
                    )],
                    r#"[{"clone_url":"https://github.com/o/b.git","fork":false,"archived":false},
                        {"clone_url":"https://github.com/o/fork.git","fork":true,"archived":false}]"#,
                ),
                resp(
                    403,
                    &[("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", "0")],
                    "",
                ),
                resp(429, &[("retry-after", "7")], ""),
                resp(
                    200,
                    &[],
                    r#"[{"clone_url":"https://github.com/o/a.git","archived":true},
                        {"clone_url":"https://elsewhere.example/o/c.git"}]"#,
                ),
            ]),
            seen: Mutex::new(Vec::new()),
        };
        let waits = Mutex::new(Vec::new());
        let found = list(
            &Listing::GithubOrg("o".into()),
            &ListOptions {
                include_archived: true,
                ..opts()
            },
            &script,
            &|d| waits.lock().unwrap().push(d),
        )
        .unwrap();
        let ids: Vec<String> = found.repos.iter().map(|l| l.url.identity()).collect();
        assert_eq!(ids, ["github.com/o/a", "github.com/o/b"]);
        assert_eq!(found.left_out, 1);
        assert_eq!(found.warnings.len(), 1, "{:?}", found.warnings);
        assert_eq!(
            *waits.lock().unwrap(),
            [Duration::from_secs(1), Duration::from_secs(7)]
        );
        let seen = script.seen.lock().unwrap();
        assert!(seen[0].0.ends_with("/orgs/o/repos?type=all&per_page=100"));
        assert_eq!(seen[1].0, page2);
        assert!(seen
            .iter()
            .all(|(_, h)| h.contains(&("authorization".into(), "Bearer tok".into()))));
        let c = found.repos[0].credential.as_ref().unwrap();
        assert_eq!(
            (c.origin.as_str(), c.username.as_str()),
            ("https://github.com", "x-access-token")
        );
    }

    #[test]
    fn pagination_never_leaves_the_api_origin() {
        let script = Script {
            answers: Mutex::new(vec![resp(
                200,
                &[("link", "<https://evil.example/next>; rel=\"next\"")],
                "[]",
            )]),
            seen: Mutex::new(Vec::new()),
        };
        let found = list(
            &Listing::GitlabGroup("g/sub".into()),
            &opts(),
            &script,
            &|_| {},
        )
        .unwrap();
        assert!(found.repos.is_empty());
        let seen = script.seen.lock().unwrap();
        assert_eq!(seen.len(), 1);
        assert!(seen[0]
            .0
            .starts_with("https://gitlab.com/api/v4/groups/g%2Fsub/projects?"));
        assert!(seen[0].1.contains(&("private-token".into(), "tok".into())));
    }

    #[test]
    fn a_long_rate_limit_is_an_error_not_a_hang() {
        let script = Script {
            answers: Mutex::new(vec![resp(429, &[("retry-after", "7200")], "")]),
            seen: Mutex::new(Vec::new()),
        };
        let e = list(
            &Listing::GithubUser("u".into()),
            &ListOptions {
                token: None,
                max_wait: Duration::from_secs(900),
                ..ListOptions::default()
            },
            &script,
            &|_| panic!("no waiting"),
        )
        .unwrap_err();
        assert!(e.to_string().contains("rate limited"), "{e}");
    }

    #[test]
    fn the_api_must_be_https() {
        let script = Script {
            answers: Mutex::new(Vec::new()),
            seen: Mutex::new(Vec::new()),
        };
        for bad in [
            "http://ghe.example/api/v3",
            "ftp://x",
            "https://u:p@ghe.example/api",
        ] {
            let o = ListOptions {
                api_url: Some(bad.into()),
                ..opts()
            };
            assert!(matches!(
                list(&Listing::GithubOrg("o".into()), &o, &script, &|_| {}),
                Err(HostingError::NotHttps(_))
            ));
        }
        assert!(script.seen.lock().unwrap().is_empty());
    }

    #[test]
    fn clone_hosts() {
        assert_eq!(clone_host("https://api.github.com"), "github.com");
        assert_eq!(clone_host("https://ghe.example/api/v3"), "ghe.example");
        assert_eq!(clone_host("https://gitlab.com/api/v4"), "gitlab.com");
        assert_eq!(clone_host("https://127.0.0.1:8443/api/v3"), "127.0.0.1");
    }
}
