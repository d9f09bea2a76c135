//! Git URLs of remote repositories: telling them apart from paths, refusing credentials written
//! into them, and the identity that names a repository whichever URL form reached it
//! (`https://github.com/o/r.git` and `git@github.com:o/r` are both `github.com/o/r`).

use std::fmt;

/// How a repository is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scheme {
    Https,
    /// Plain HTTP: only to this machine (tests, a local mirror).
    Http,
    Ssh,
    Git,
    File,
}

impl Scheme {
    fn name(self) -> &'static str {
        match self {
            Scheme::Https => "https",
            Scheme::Http => "http",
            Scheme::Ssh => "ssh",
            Scheme::Git => "git",
            Scheme::File => "file",
        }
    }

    fn default_port(self) -> Option<u16> {
        match self {
            Scheme::Https => Some(443),
            Scheme::Http => Some(80),
            Scheme::Ssh => Some(22),
            Scheme::Git => Some(9418),
            Scheme::File => None,
        }
    }
}

/// A remote repository's URL, without credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteUrl {
    /// What git is given.
    url: String,
    pub scheme: Scheme,
    /// Lower-case; empty for `file://`.
    pub host: String,
    pub port: Option<u16>,
    /// The path on the host, as written (for `file://`, the absolute path).
    pub path: String,
}

/// Why a text is not a usable remote URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error(
        "{0}: credentials in a URL are refused (they would show in process lists and logs); \
         set KEYHOUND_GIT_TOKEN or use a git credential helper"
    )]
    Credentials(String),
    #[error("{0}: plain http:// is only used for this machine; use https://")]
    PlainHttp(String),
    #[error(
        "{0}: not a git URL keyhound can clone (https://, ssh://, git@host:path, git://, file://)"
    )]
    Unsupported(String),
}

impl RemoteUrl {
    /// Reads `text` as a remote URL: `None` when it is not one (a path), an error when it is
    /// one that cannot be used.
    pub fn recognise(text: &str) -> Option<Result<RemoteUrl, UrlError>> {
        let text = text.trim();
        if let Some((scheme, rest)) = text.split_once("://") {
            if scheme.is_empty()
                || !scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '+')
            {
                return None;
            }
            return Some(Self::with_scheme(text, scheme, rest));
        }
        scp_like(text).map(|(user, host, path)| {
            let _ = user;
            check_host(text, host)?;
            Ok(RemoteUrl {
                url: text.to_string(),
                scheme: Scheme::Ssh,
                host: host.to_ascii_lowercase(),
                port: None,
                path: path.to_string(),
            })
        })
    }

    /// Parses `text` as a remote URL, failing for a path.
    pub fn parse(text: &str) -> Result<RemoteUrl, UrlError> {
        Self::recognise(text).unwrap_or_else(|| Err(UrlError::Unsupported(text.to_string())))
    }

    fn with_scheme(text: &str, scheme: &str, rest: &str) -> Result<RemoteUrl, UrlError> {
        let shown = strip_userinfo(text);
        let scheme = match scheme.to_ascii_lowercase().as_str() {
            "https" => Scheme::Https,
            "http" => Scheme::Http,
            "ssh" | "git+ssh" | "ssh+git" => Scheme::Ssh,
            "git" => Scheme::Git,
            "file" => Scheme::File,
            _ => return Err(UrlError::Unsupported(shown)),
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        if authority.contains(['?', '#']) || path.contains(['?', '#']) {
            return Err(UrlError::Unsupported(shown));
        }
        let (userinfo, hostport) = match authority.rfind('@') {
            Some(i) => (Some(&authority[..i]), &authority[i + 1..]),
            None => (None, authority),
        };
        // A user name is fine over ssh (`ssh://git@host/...`); anything more, or any user
        // information over HTTP (a token fits in the user name), is a credential.
        match (scheme, userinfo) {
            (_, None) => {}
            (Scheme::Ssh, Some(u)) if !u.contains(':') && !u.is_empty() => {}
            _ => return Err(UrlError::Credentials(shown)),
        }
        let (host, port) =
            split_port(hostport).ok_or_else(|| UrlError::Unsupported(shown.clone()))?;
        if scheme == Scheme::File {
            if !(host.is_empty() || host.eq_ignore_ascii_case("localhost")) || path.len() < 2 {
                return Err(UrlError::Unsupported(shown));
            }
        } else {
            check_host(&shown, host)?;
            if path.trim_matches('/').is_empty() {
                return Err(UrlError::Unsupported(shown));
            }
        }
        if scheme == Scheme::Http && !is_loopback(host) {
            return Err(UrlError::PlainHttp(shown));
        }
        let port = port.filter(|p| Some(*p) != scheme.default_port());
        Ok(RemoteUrl {
            url: text.to_string(),
            scheme,
            host: if scheme == Scheme::File {
                String::new()
            } else {
                host.to_ascii_lowercase()
            },
            port,
            path: path.to_string(),
        })
    }

    /// The URL given to git.
    pub fn as_str(&self) -> &str {
        &self.url
    }

    /// The repository's name, the same for every URL form that reaches it: `host[:port]/path`
    /// without a trailing `.git` or `/` (for `file://`, the path).
    pub fn identity(&self) -> String {
        let path = self.path.trim_end_matches('/');
        let path = path
            .strip_suffix(".git")
            .unwrap_or(path)
            .trim_end_matches('/');
        if self.scheme == Scheme::File {
            return path.to_string();
        }
        let path = path.trim_start_matches('/');
        match self.port {
            Some(p) => format!("{}:{p}/{path}", self.host),
            None => format!("{}/{path}", self.host),
        }
    }

    /// `scheme://host[:port]`, the key git's credential configuration is matched against;
    /// `None` for transports without credentials (`git://`, `file://`) and for ssh (keys).
    pub fn credential_origin(&self) -> Option<String> {
        match self.scheme {
            Scheme::Https | Scheme::Http => Some(match self.port {
                Some(p) => format!("{}://{}:{p}", self.scheme.name(), bracketed(&self.host)),
                None => format!("{}://{}", self.scheme.name(), bracketed(&self.host)),
            }),
            _ => None,
        }
    }
}

impl fmt::Display for RemoteUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.url)
    }
}

fn bracketed(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

/// `user@host:path` (git's scp-like syntax): a colon before any slash, and not a drive letter.
fn scp_like(text: &str) -> Option<(Option<&str>, &str, &str)> {
    let colon = text.find(':')?;
    if text[..colon].contains('/') || text.contains("://") {
        return None;
    }
    let (user, host) = match text[..colon].rfind('@') {
        Some(i) => (Some(&text[..i]), &text[i + 1..colon]),
        None => (None, &text[..colon]),
    };
    let path = &text[colon + 1..];
    // `C:\x` or `C:/x` is a Windows path; an empty host or path is not a URL.
    if host.len() < 2 || path.is_empty() || host.starts_with('[') {
        return None;
    }
    Some((user, host, path))
}

fn split_port(hostport: &str) -> Option<(&str, Option<u16>)> {
    if let Some(rest) = hostport.strip_prefix('[') {
        let end = rest.find(']')?;
        let host = &rest[..end];
        return match &rest[end + 1..] {
            "" => Some((host, None)),
            p => Some((host, Some(p.strip_prefix(':')?.parse().ok()?))),
        };
    }
    match hostport.rsplit_once(':') {
        Some((h, "")) => Some((h, None)),
        Some((h, p)) => Some((h, Some(p.parse().ok()?))),
        None => Some((hostport, None)),
    }
}

fn check_host(shown: &str, host: &str) -> Result<(), UrlError> {
    let ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':'))
        && !host.starts_with('-');
    if ok {
        Ok(())
    } else {
        Err(UrlError::Unsupported(shown.to_string()))
    }
}

/// True for this machine's names: `localhost`, `127.0.0.0/8`, `::1`.
pub fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The URL with any user information removed, for messages (`https://u:t@h/x` →
/// `https://h/x`).
pub fn strip_userinfo(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let rest = &url[scheme_end + 3..];
    let host_start = rest.find('/').unwrap_or(rest.len());
    match rest[..host_start].rfind('@') {
        Some(at) => format!("{}{}", &url[..scheme_end + 3], &rest[at + 1..]),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> String {
        RemoteUrl::parse(s).unwrap().identity()
    }

    #[test]
    fn every_form_of_one_repository_has_one_identity() {
        for u in [
            "https://github.com/o/r.git",
            "https://GitHub.com/o/r",
            "https://github.com:443/o/r/",
            "ssh://git@github.com/o/r.git",
            "ssh://git@github.com:22/o/r",
            "git@github.com:o/r.git",
            "github.com:o/r",
            "git://github.com/o/r.git",
        ] {
            assert_eq!(id(u), "github.com/o/r", "{u}");
        }
        assert_eq!(
            id("https://h.example:8443/g/sub/p.git"),
            "h.example:8443/g/sub/p"
        );
        assert_eq!(id("file:///srv/git/a.git"), "/srv/git/a");
        assert_eq!(id("http://127.0.0.1:9000/x.git"), "127.0.0.1:9000/x");
    }

    #[test]
    fn paths_are_not_urls() {
        for p in [
            ".",
            "repo",
            "./a:b",
            "/abs/path",
            "C:\\x",
            "C:/x",
            "dir/with:colon",
        ] {
            assert!(RemoteUrl::recognise(p).is_none(), "{p}");
        }
    }

    #[test]
    fn credentials_are_refused_and_not_repeated() {
        for u in [
            "https://user:ghp_secret@github.com/o/r",
            "https://ghp_secret@github.com/o/r",
            "ssh://git:pw@host/r",
        ] {
            let e = RemoteUrl::parse(u).unwrap_err();
            assert!(matches!(e, UrlError::Credentials(_)), "{u}");
            assert!(!e.to_string().contains("secret") && !e.to_string().contains("pw@"));
        }
        assert!(RemoteUrl::parse("ssh://git@host/r").is_ok());
    }

    #[test]
    fn plain_http_only_to_this_machine() {
        assert!(matches!(
            RemoteUrl::parse("http://example.com/r"),
            Err(UrlError::PlainHttp(_))
        ));
        assert!(RemoteUrl::parse("http://localhost:8080/r").is_ok());
        assert!(RemoteUrl::parse("http://[::1]:8080/r").is_ok());
        assert!(matches!(
            RemoteUrl::parse("ftp://h/r"),
            Err(UrlError::Unsupported(_))
        ));
        assert!(RemoteUrl::parse("https://h/").is_err());
        assert!(RemoteUrl::parse("https://-oProxyCommand=x/r").is_err());
    }

    #[test]
    fn credential_origins() {
        let u = RemoteUrl::parse("https://h.example/o/r").unwrap();
        assert_eq!(u.credential_origin().as_deref(), Some("https://h.example"));
        let u = RemoteUrl::parse("http://127.0.0.1:81/r").unwrap();
        assert_eq!(
            u.credential_origin().as_deref(),
            Some("http://127.0.0.1:81")
        );
        assert_eq!(
            RemoteUrl::parse("git@host:r").unwrap().credential_origin(),
            None
        );
    }
}
