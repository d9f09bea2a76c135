//! Passwords in connection strings (`postgres://user:pw@host`, JDBC, ADO.NET `Password=…;`):
//! the host decides. A weak password on a host others can reach is more exploitable, not
//! less, so strength only matters where the host is not reachable:
//!
//! | host | strong password | weak password |
//! |---|---|---|
//! | documentation (`example.com`, `*.test`, `*.example`, `*.invalid`, RFC 5737 addresses, `host`/`hostname` placeholders) | – | – |
//! | this machine or its link (`localhost`, `127.0.0.0/8`, `::1`, `0.0.0.0`, `*.local`, `host.docker.internal`, SQL Server's `.` and `(local)`) | low | – |
//! | a docker-compose service defined in the same file | low | – |
//! | another single-label name (`db`, `sqlprod01`) | the rule's | – |
//! | a private address (10/8, 172.16/12, 192.168/16, fc00::/7), `*.cluster.local` | the rule's | the rule's |
//! | any other name or address | the rule's | the rule's |
//!
//! A password is weak when a rule's `weak` pattern matches it or its entropy is below 2.5 bits
//! per byte (fewer than about six distinct characters). Details: `host`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::ops::Range;
use std::sync::OnceLock;

use regex_automata::meta;

use super::entropy;
use super::inspect::{detail, Candidate, Verdict};
use crate::finding::Confidence;

/// Below this entropy (bits per byte) a password is weak whatever its shape.
const WEAK_ENTROPY: f64 = 2.5;

/// Largest input searched for a docker-compose service definition (compose files are small;
/// the bound keeps a file full of connection strings linear).
const MAX_COMPOSE_SCAN: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostClass {
    Documentation,
    Local,
    ComposeService,
    SingleLabel,
    Private,
    Public,
}

/// `tcp:db.acme.io,1433` → `db.acme.io`; `[::1]:5432` → `::1`; `SQL01\SQLEXPRESS` → `sql01`.
pub fn normalize(host: &str) -> String {
    let mut h = host.trim().trim_matches(['"', '\'']);
    for prefix in ["tcp:", "np:", "lpc:", "admin:"] {
        if h.len() > prefix.len() && h[..prefix.len()].eq_ignore_ascii_case(prefix) {
            h = &h[prefix.len()..];
        }
    }
    if let Some(rest) = h.strip_prefix('[') {
        h = rest.split(']').next().unwrap_or(rest);
    } else if h.matches(':').count() == 1 {
        h = h.split(':').next().unwrap_or(h);
    }
    h = h.split([',', '\\', '/']).next().unwrap_or(h);
    match h.trim_end_matches('.') {
        // SQL Server's name for this machine.
        "" if h == "." => ".".to_string(),
        t => t.to_ascii_lowercase(),
    }
}

/// Where a (normalized) host is.
pub fn classify(host: &str, hay: &[u8]) -> HostClass {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return classify_ip(ip);
    }
    let documentation_names = [
        "host",
        "hostname",
        "server",
        "servername",
        "your-host",
        "dbhost",
    ];
    if host.is_empty()
        || documentation_names.contains(&host)
        || host.contains(['<', '>', '{', '}', '$', '%'])
        || ["example.com", "example.org", "example.net"]
            .iter()
            .any(|d| host == *d || host.ends_with(&format!(".{d}")))
        || [".example", ".test", ".invalid"]
            .iter()
            .any(|t| host.ends_with(t))
    {
        return HostClass::Documentation;
    }
    // Kubernetes service names resolve inside the cluster: a private network.
    if host.ends_with(".cluster.local") {
        return HostClass::Private;
    }
    if matches!(
        host,
        "localhost" | "host.docker.internal" | "(local)" | "." | "(localdb)"
    ) || host.starts_with("(localdb)")
        || host.ends_with(".localhost")
        || host.ends_with(".local")
    {
        return HostClass::Local;
    }
    if !host.contains('.') {
        return if compose_service(hay, host) {
            HostClass::ComposeService
        } else {
            HostClass::SingleLabel
        };
    }
    HostClass::Public
}

fn classify_ip(ip: IpAddr) -> HostClass {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            if v4.is_loopback() || v4 == Ipv4Addr::UNSPECIFIED {
                HostClass::Local
            } else if matches!((a, b, c), (192, 0, 2) | (198, 51, 100) | (203, 0, 113)) {
                HostClass::Documentation
            } else if v4.is_private() || v4.is_link_local() {
                HostClass::Private
            } else {
                HostClass::Public
            }
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            if v6.is_loopback() || v6 == Ipv6Addr::UNSPECIFIED {
                HostClass::Local
            } else if first == 0x2001 && v6.segments()[1] == 0x0db8 {
                HostClass::Documentation
            } else if first & 0xfe00 == 0xfc00 || first & 0xffc0 == 0xfe80 {
                HostClass::Private
            } else {
                HostClass::Public
            }
        }
    }
}

/// The input is a docker-compose file (a top-level `services:`) that defines `name` as one of
/// its services (an indented `name:` line on its own).
fn compose_service(hay: &[u8], name: &str) -> bool {
    if hay.len() > MAX_COMPOSE_SCAN {
        return false;
    }
    let mut services = false;
    let mut defined = false;
    for line in hay.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.starts_with(b"services:") && line[9..].iter().all(u8::is_ascii_whitespace) {
            services = true;
        }
        let trimmed = line.trim_ascii();
        if line.first().is_some_and(|b| *b == b' ' || *b == b'\t')
            && trimmed.len() == name.len() + 1
            && trimmed.ends_with(b":")
            && trimmed[..name.len()].eq_ignore_ascii_case(name.as_bytes())
        {
            defined = true;
        }
    }
    services && defined
}

/// The host named by a `Server=`/`Data Source=`/`Host=`/`Address=` key on the secret's line,
/// for connection strings whose pattern has no `host` group.
fn host_key_regex() -> &'static meta::Regex {
    static RE: OnceLock<meta::Regex> = OnceLock::new();
    RE.get_or_init(|| {
        crate::rules::build_regex(
            r#"(?im)(?:^|[\s;"'{])(?:server|data\s?source|host|hostname|address|addr|network\s?address)\s*=\s*([^;"'\s<>]+)"#,
        )
        .expect("the host key pattern compiles")
    })
}

fn host_on_line(hay: &[u8], secret: &Range<usize>) -> Option<Range<usize>> {
    let start = memchr::memrchr(b'\n', &hay[..secret.start]).map_or(0, |i| i + 1);
    let end = memchr::memchr(b'\n', &hay[secret.end..]).map_or(hay.len(), |i| secret.end + i);
    let re = host_key_regex();
    let mut caps = re.create_captures();
    re.captures(regex_automata::Input::new(hay).span(start..end), &mut caps);
    caps.get_group(1).map(|s| s.range())
}

/// The `inspect: connection` check.
pub fn inspect(c: &Candidate<'_>) -> Option<Verdict> {
    let host = match c.host.clone().or_else(|| host_on_line(c.hay, &c.secret)) {
        Some(r) => normalize(&String::from_utf8_lossy(&c.hay[r])),
        // No host written: an embedded database or a local socket.
        None => "localhost".to_string(),
    };
    let class = classify(&host, c.hay);
    let weak = c.weak || entropy::shannon(&c.hay[c.secret.clone()]) < WEAK_ENTROPY;
    let confidence = match (class, weak) {
        (HostClass::Documentation, _) => return None,
        (HostClass::Local | HostClass::ComposeService | HostClass::SingleLabel, true) => {
            return None
        }
        (HostClass::Local | HostClass::ComposeService, false) => Confidence::Low,
        _ => c.confidence,
    };
    let mut details = vec![detail("host", &host)];
    if weak {
        details.push(detail("password", "weak"));
    }
    Some(Verdict {
        confidence,
        details,
        secret: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_normalized() {
        assert_eq!(
            normalize("tcp:Contoso.database.windows.net,1433"),
            "contoso.database.windows.net"
        );
        assert_eq!(normalize("[::1]:5432"), "::1");
        assert_eq!(normalize("SQL01\\SQLEXPRESS"), "sql01");
        assert_eq!(normalize("db.prod:5432"), "db.prod");
        assert_eq!(normalize("fe80::1"), "fe80::1");
    }

    #[test]
    fn host_classes() {
        let none = b"";
        for (h, class) in [
            ("db.example.com", HostClass::Documentation),
            ("example.org", HostClass::Documentation),
            ("pg.staging.test", HostClass::Documentation),
            ("printer.local", HostClass::Local),
            ("pg.prod.svc.cluster.local", HostClass::Private),
            ("192.0.2.10", HostClass::Documentation),
            ("hostname", HostClass::Documentation),
            ("localhost", HostClass::Local),
            ("127.0.0.2", HostClass::Local),
            ("::1", HostClass::Local),
            ("0.0.0.0", HostClass::Local),
            (".", HostClass::Local),
            ("10.20.0.15", HostClass::Private),
            ("172.20.1.1", HostClass::Private),
            ("192.168.1.20", HostClass::Private),
            ("172.32.0.1", HostClass::Public),
            ("db", HostClass::SingleLabel),
            ("cluster0.x7k2p.mongodb.net", HostClass::Public),
            ("cache.internal", HostClass::Public),
            ("8.8.8.8", HostClass::Public),
        ] {
            assert_eq!(classify(h, none), class, "{h}");
        }
    }

    #[test]
    fn compose_services_defined_in_the_same_file() {
        let compose = b"services:\n  db:\n    image: postgres:16\n  app:\n    environment:\n      DATABASE_URL: postgres://app:x@db:5432/app\n";
        assert_eq!(classify("db", compose), HostClass::ComposeService);
        assert_eq!(classify("cache", compose), HostClass::SingleLabel);
        assert_eq!(classify("db", b"  db:\n"), HostClass::SingleLabel);
    }

    fn verdict(line: &str, secret: &str, host: Option<&str>, weak: bool) -> Option<Verdict> {
        let find = |s: &str| {
            let i = line.find(s).unwrap();
            i..i + s.len()
        };
        inspect(&Candidate {
            hay: line.as_bytes(),
            whole: 0..line.len(),
            secret: find(secret),
            host: host.map(find),
            weak,
            confidence: Confidence::Medium,
        })
    }

    #[test]
    fn weak_passwords_count_on_reachable_hosts_only() {
        let v = verdict(
            "postgres://admin:password123@prod-db.acme.com/app",
            "password123",
            Some("prod-db.acme.com"),
            true,
        )
        .unwrap();
        assert_eq!(v.confidence, Confidence::Medium);
        assert_eq!(v.details[0].value, "prod-db.acme.com");
        let v = verdict("redis://:pw@10.1.2.3:6379", "pw", Some("10.1.2.3"), false).unwrap();
        assert_eq!(v.confidence, Confidence::Medium);
        assert!(verdict(
            "postgres://u:password123@localhost/app",
            "password123",
            Some("localhost"),
            true
        )
        .is_none());
        assert!(verdict("postgres://u:hunter2@db/app", "hunter2", Some("db"), true).is_none());
        assert!(verdict(
            "postgres://u:Xk29fLq81mZtQ@db.example.com/app",
            "Xk29fLq81mZtQ",
            Some("db.example.com"),
            false
        )
        .is_none());
        let v = verdict(
            "postgres://u:Xk29fLq81mZtQ@127.0.0.1/app",
            "Xk29fLq81mZtQ",
            Some("127.0.0.1"),
            false,
        )
        .unwrap();
        assert_eq!(v.confidence, Confidence::Low);
    }

    #[test]
    fn connection_strings_name_their_host_in_a_key() {
        let line =
            "# prod\nServer=tcp:sales.database.windows.net,1433;User ID=app;Password=admin123;";
        let v = verdict(line, "admin123", None, true).unwrap();
        assert_eq!(v.details[0].value, "sales.database.windows.net");
        let line = "Data Source=.;User ID=sa;Password=Xk29fLq81mZtQ;";
        assert_eq!(
            verdict(line, "Xk29fLq81mZtQ", None, false)
                .unwrap()
                .confidence,
            Confidence::Low
        );
    }
}
