//! JSON and JSON Lines output. The field names are public API: change them on purpose.

use std::io::{self, Write};

use serde::Serialize;

use super::{BaselineReport, Report, ValidationView};
use crate::finding::{ChecksumState, Commit, Confidence, Finding, Repository};
use crate::scan::Summary;
use crate::validate::access::AccessMap;

/// Version of the JSON document layout.
pub const SCHEMA: &str = "keyhound-findings/1";

#[derive(Serialize)]
pub struct JsonFinding<'a> {
    pub rule_id: &'a str,
    pub rule_name: &'a str,
    pub provider: &'a str,
    pub confidence: Confidence,
    pub path: &'a str,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    /// The secret, redacted unless `--show-secrets`.
    pub secret: String,
    pub secret_length: usize,
    pub redacted: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partner: Option<String>,
    pub fingerprint: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rotate: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checksum: Option<ChecksumState>,
    pub snippet: String,
    /// The encoding the secret was hidden under; the location is the encoded text's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decoded_from: Option<&'static str>,
    /// What the secret itself says: a JWT's `alg`, `issuer` and `expires`, a private key's
    /// `format` and `encrypted`, a connection string's `host`.
    #[serde(skip_serializing_if = "super::Details::is_empty")]
    pub details: super::Details<'a>,
    pub blob: String,
    /// Where the finding comes from: `file`, `stdin`, `history` (a version only git history
    /// holds), `staged`, `commit` (a line a commit of a range added), `commit-message`,
    /// `tag-message`.
    pub origin: &'static str,
    /// The repository, for findings that git knows about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repository: Option<&'a Repository>,
    /// The commit of an added line or a message, or the commit that introduced the secret at
    /// this path (history).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<&'a Commit>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<JsonHistory<'a>>,
    /// The archive, for a member of one (`path` is then `ARCHIVE!MEMBER`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub archive: Option<super::ArchiveView>,
    /// Present with `--validate`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validation: Option<ValidationView>,
    /// What the key can reach, with `--access-map`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access: Option<&'a AccessMap>,
}

#[derive(Serialize)]
pub struct JsonHistory<'a> {
    /// The path in the repository.
    pub path: &'a str,
    /// Distinct commits whose tree holds the secret at this path.
    pub commits: usize,
    /// The secret is still in HEAD's tree.
    pub in_head: bool,
    /// A ref reaches the blob (false only with `--all-objects`).
    pub reachable: bool,
    pub action: &'static str,
}

fn finding<'a>(r: &Report<'_>, f: &'a Finding) -> JsonFinding<'a> {
    JsonFinding {
        rule_id: &f.rule_id,
        rule_name: &f.rule_name,
        provider: &f.provider,
        confidence: f.confidence,
        path: &f.location.path,
        line: f.location.line,
        column: f.location.column,
        end_line: f.location.end_line,
        end_column: f.location.end_column,
        secret: r.exact(&f.secret),
        secret_length: f.secret.len(),
        redacted: !r.show_secrets,
        partner: r.partner_exact(f),
        fingerprint: f.fingerprint.as_str(),
        rotate: f.rotate.as_deref(),
        checksum: f.checksum,
        snippet: r.snippet(f),
        decoded_from: f.decoded_from,
        details: super::Details(&f.details),
        blob: f.blob.to_hex(),
        origin: f.origin.kind(),
        repository: f.origin.repository(),
        commit: f
            .origin
            .commit()
            .or_else(|| f.origin.history().and_then(|h| h.introduced.as_ref())),
        history: f.origin.history().map(JsonHistory::new),
        archive: super::ArchiveView::of(f),
        validation: f.validation.as_ref().map(ValidationView::new),
        access: access(f),
    }
}

impl<'a> JsonHistory<'a> {
    pub fn new(h: &'a crate::finding::History) -> Self {
        JsonHistory {
            path: &h.path,
            commits: h.commits,
            in_head: h.in_head,
            reachable: h.reachable,
            action: super::action(h),
        }
    }
}

/// The access map of a finding, when one was made.
fn access(f: &Finding) -> Option<&AccessMap> {
    f.validation.as_ref()?.access.as_deref()
}

#[derive(Serialize)]
struct Document<'a> {
    schema: &'static str,
    tool: Tool,
    findings: Vec<JsonFinding<'a>>,
    summary: &'a Summary,
    #[serde(skip_serializing_if = "Option::is_none")]
    baseline: Option<&'a BaselineReport>,
    /// Files and objects that could not be read.
    errors: Vec<JsonError>,
}

/// A file or object that could not be read.
#[derive(Serialize)]
pub struct JsonError {
    path: String,
    message: String,
}

pub fn errors(r: &Report<'_>) -> Vec<JsonError> {
    r.errors
        .iter()
        .map(|e| JsonError {
            path: super::sanitize(&e.path),
            message: super::sanitize(&e.message),
        })
        .collect()
}

#[derive(Serialize)]
pub struct Tool {
    name: &'static str,
    version: &'static str,
}

impl Tool {
    pub fn keyhound() -> Tool {
        Tool {
            name: "keyhound",
            version: env!("CARGO_PKG_VERSION"),
        }
    }
}

pub fn write(r: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    let doc = Document {
        schema: SCHEMA,
        tool: Tool::keyhound(),
        findings: r.findings.iter().map(|f| finding(r, f)).collect(),
        summary: r.summary,
        baseline: r.baseline,
        errors: errors(r),
    };
    super::safe_json::pretty(out, &doc)?;
    writeln!(out)
}

/// One finding per line; then one line per unreadable file or object, as `{"error": {...}}`.
pub fn write_lines(r: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    for f in r.findings {
        super::safe_json::compact(out, &finding(r, f))?;
        writeln!(out)?;
    }
    for error in errors(r) {
        super::safe_json::compact(out, &serde_json::json!({ "error": error }))?;
        writeln!(out)?;
    }
    Ok(())
}
