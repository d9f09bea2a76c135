//! GitLab's secret-detection report (schema 15.2.1), the file GitLab reads from
//! `artifacts:reports:secret_detection`. One vulnerability per finding; GitLab requires a
//! commit on every location: the commit the finding is in, or the one that introduced the
//! secret at that path, else (a file outside git, stdin) the placeholder sha `0000000`. The source line is
//! never included (`raw_source_code_extract` would hold the secret); unreadable files and
//! objects are `warn` messages of the scan.

use std::io::{self, Write};

use serde::Serialize;
use sha1::{Digest, Sha1};

use super::{commit_of, one_line, sanitize, Report};
use crate::blob::hex;
use crate::finding::{Confidence, Finding, LiveState};

const VERSION: &str = "15.2.1";
const SCHEMA: &str = "https://gitlab.com/gitlab-org/security-products/security-report-schemas/-/raw/v15.2.1/dist/secret-detection-report-format.json";
/// GitLab's placeholder for "not in a commit".
const NO_COMMIT: &str = "0000000";

#[derive(Serialize)]
struct Document {
    version: &'static str,
    schema: &'static str,
    scan: Scan,
    vulnerabilities: Vec<Vulnerability>,
}

#[derive(Serialize)]
struct Scan {
    analyzer: Tool,
    scanner: Tool,
    #[serde(rename = "type")]
    kind: &'static str,
    start_time: String,
    end_time: String,
    status: &'static str,
    messages: Vec<Message>,
}

#[derive(Serialize)]
struct Tool {
    id: &'static str,
    name: &'static str,
    version: &'static str,
    vendor: Vendor,
}

#[derive(Serialize)]
struct Vendor {
    name: &'static str,
}

#[derive(Serialize)]
struct Message {
    level: &'static str,
    value: String,
}

#[derive(Serialize)]
struct Vulnerability {
    id: String,
    name: String,
    description: String,
    severity: &'static str,
    solution: String,
    identifiers: Vec<Identifier>,
    location: Location,
}

#[derive(Serialize)]
struct Identifier {
    #[serde(rename = "type")]
    kind: &'static str,
    name: String,
    value: String,
}

#[derive(Serialize)]
struct Location {
    file: String,
    start_line: usize,
    end_line: usize,
    commit: CommitRef,
}

#[derive(Serialize)]
struct CommitRef {
    sha: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    author: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
}

fn tool() -> Tool {
    Tool {
        id: "keyhound",
        name: "keyhound",
        version: env!("CARGO_PKG_VERSION"),
        vendor: Vendor { name: "keyhound" },
    }
}

/// `yyyy-mm-ddThh:mm:ss` in UTC, as the schema asks.
fn time(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S").to_string()
}

pub fn write(r: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    let doc = Document {
        version: VERSION,
        schema: SCHEMA,
        scan: Scan {
            analyzer: tool(),
            scanner: tool(),
            kind: "secret_detection",
            start_time: time(r.started),
            end_time: time(jiff::Timestamp::now()),
            status: "success",
            messages: r
                .errors
                .iter()
                .map(|e| Message {
                    level: "warn",
                    value: sanitize(&e.to_string()),
                })
                .collect(),
        },
        vulnerabilities: r.findings.iter().map(|f| vulnerability(r, f)).collect(),
    };
    super::safe_json::pretty(out, &doc)?;
    writeln!(out)
}

fn vulnerability(r: &Report<'_>, f: &Finding) -> Vulnerability {
    let commit = commit_of(f);
    Vulnerability {
        id: uuid_of(f),
        name: truncate(&sanitize(&f.rule_name), 255),
        description: one_line(f, &r.secret_text(f)),
        severity: severity(f),
        solution: truncate(
            &match &f.rotate {
                Some(u) => format!(
                    "Treat the credential as compromised: revoke or rotate it at {}, then remove it from the code and its history.",
                    sanitize(u)
                ),
                None => "Treat the credential as compromised: change it, then remove it from the code and its history.".into(),
            },
            7000,
        ),
        identifiers: vec![Identifier {
            kind: "keyhound_rule_id",
            name: format!("keyhound rule {}", sanitize(&f.rule_id)),
            value: sanitize(&f.rule_id),
        }],
        location: Location {
            file: sanitize(&f.location.path),
            start_line: f.location.line,
            end_line: f.location.end_line,
            commit: match commit {
                Some(c) => CommitRef {
                    sha: c.id.clone(),
                    author: Some(sanitize(&format!("{} <{}>", c.author, c.email))),
                    date: Some(c.date.clone()),
                    message: Some(sanitize(&c.summary)),
                },
                None => CommitRef {
                    sha: NO_COMMIT.into(),
                    author: None,
                    date: None,
                    message: None,
                },
            },
        },
    }
}

/// A key confirmed live is critical; otherwise the rule's confidence in the match.
fn severity(f: &Finding) -> &'static str {
    if f.validation
        .as_ref()
        .is_some_and(|v| v.state == LiveState::Valid)
    {
        return "Critical";
    }
    match f.confidence {
        Confidence::High => "High",
        Confidence::Medium => "Medium",
        Confidence::Low => "Low",
    }
}

/// A stable UUID-shaped id: a hash of the fingerprint and the location, so the same finding
/// keeps its id from run to run.
fn uuid_of(f: &Finding) -> String {
    let mut h = Sha1::new();
    h.update(f.fingerprint.as_str().as_bytes());
    h.update([0]);
    h.update(f.location.path.as_bytes());
    h.update([0]);
    h.update(f.location.line.to_string().as_bytes());
    h.update([0]);
    h.update(commit_of(f).map_or("", |c| c.id.as_str()).as_bytes());
    let d: [u8; 20] = h.finalize().into();
    let x = hex(&d[..16]);
    format!(
        "{}-{}-{}-{}-{}",
        &x[..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..32]
    )
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}
