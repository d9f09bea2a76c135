//! Reporters: render sorted findings as human text, JSON, JSON Lines, SARIF 2.1.0, CSV,
//! JUnit XML, GitHub Actions workflow commands or GitLab's secret-detection report to any
//! `io::Write`. They never read sources or touch the network.
//!
//! Secrets are redacted unless `show_secrets` is set (the GitHub format always redacts: a
//! workflow log is read by everyone with access to the repository); text that came from
//! scanned files is stripped of control characters before it can reach a terminal. Every
//! format names a finding's origin the same way: its kind, the commit it is in (or that
//! introduced it) and the repository.

mod csv;
mod github;
mod gitlab;
pub mod grouped;
mod html;
mod json;
mod junit;
pub mod rule_show;
pub mod rules_list;
mod safe_json;
mod sarif;
pub mod summary;
mod text;

pub use json::SCHEMA as JSON_SCHEMA;

use std::io::{self, Write};
use std::sync::Arc;

use crate::finding::{Commit, Detail, Finding, History, LiveState, Origin, Part, Validation};
use crate::rules::{Rule, RuleSet};
use crate::scan::Summary;
use crate::source::SourceError;
use crate::suppress::BaselineEntry;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Human-readable text (the default)
    Text,
    /// One JSON document with findings and a summary
    Json,
    /// One JSON object per finding, one per line
    Jsonl,
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF consumers
    Sarif,
    /// Comma-separated values, one row per finding, with a header row
    Csv,
    /// JUnit XML: each finding a failed test case, each unreadable file an error
    Junit,
    /// GitHub Actions workflow commands (`::error file=…`): annotations; secrets always
    /// redacted
    Github,
    /// GitLab's secret-detection report (schema 15.2.1), for `artifacts:reports`
    Gitlab,
    /// One self-contained HTML page: summary, timeline and a filterable table
    Html,
}

impl Format {
    /// Whether the format can show findings grouped by secret (`--group-by secret`).
    pub fn groups(self) -> bool {
        matches!(self, Format::Text | Format::Json | Format::Jsonl)
    }
}

/// Everything a reporter needs.
pub struct Report<'a> {
    pub findings: &'a [Finding],
    pub summary: &'a Summary,
    /// The rules of every scope of the run (a rule is looked up by id).
    pub rules: &'a [Arc<RuleSet>],
    pub show_secrets: bool,
    pub color: bool,
    /// What the baseline did, when one was used.
    pub baseline: Option<&'a BaselineReport>,
    /// Files and objects that could not be read.
    pub errors: &'a [SourceError],
    /// `--group-by secret`: one entry per secret.
    pub grouped: bool,
    /// When the scan started (GitLab's report records it).
    pub started: jiff::Timestamp,
}

/// What a baseline did in a run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BaselineReport {
    pub path: String,
    pub entries: usize,
    /// Findings the baseline suppressed.
    pub suppressed: usize,
    /// Entries that matched nothing. Only known after a full scan; `None` for staged and
    /// commit-range scans, which see only part of the repository.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stale: Option<Vec<BaselineEntry>>,
}

impl Report<'_> {
    /// The rule with this id.
    fn rule(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find_map(|s| s.get(id))
    }

    /// A secret as it may be shown: raw with `--show-secrets`, else redacted; never with
    /// control characters.
    fn show(&self, s: &crate::finding::Secret) -> String {
        if self.show_secrets {
            sanitize(s.expose())
        } else {
            sanitize(&s.redacted())
        }
    }

    /// The finding's secret as it may be shown.
    fn secret_text(&self, f: &Finding) -> String {
        self.show(&f.secret)
    }

    fn partner_text(&self, f: &Finding) -> Option<String> {
        f.partner.as_ref().map(|p| self.show(p))
    }

    /// A secret for a JSON field: exact with `--show-secrets` (line breaks and tabs of a
    /// private key kept; JSON escapes what a terminal must not see, see `safe_json`), else
    /// redacted as `show` does.
    fn exact(&self, s: &crate::finding::Secret) -> String {
        if self.show_secrets {
            s.expose().to_string()
        } else {
            self.show(s)
        }
    }

    fn partner_exact(&self, f: &Finding) -> Option<String> {
        f.partner.as_ref().map(|p| self.exact(p))
    }

    /// The line around the secret, with every secret on it shown as `show` does and control
    /// characters removed.
    fn snippet(&self, f: &Finding) -> String {
        let mut out = String::new();
        for part in &f.context.parts {
            match part {
                Part::Text(t) => out.push_str(&sanitize(t)),
                Part::Secret(s) => out.push_str(&self.show(s)),
                Part::Rest(s) if self.show_secrets => out.push_str(&sanitize(s.expose())),
                Part::Rest(s) => out.push_str(&s.hidden()),
                Part::This => out.push_str(&self.secret_text(f)),
            }
        }
        out
    }
}

/// The location as people read it: `path:line:column`, and `@ commit` when the location is
/// in a commit rather than on disk (a version only history holds, an added line, a message).
pub fn location_text(f: &Finding) -> String {
    let loc = &f.location;
    let mut s = format!("{}:{}:{}", sanitize(&loc.path), loc.line, loc.column);
    let in_commit = match &f.origin {
        Origin::File { .. } | Origin::Stdin => None,
        other => other.commit(),
    };
    if let Some(c) = in_commit {
        s.push_str(" @ ");
        s.push_str(&c.id[..c.id.len().min(8)]);
    }
    s
}

/// The commit a finding's location is in (a version only history holds, an added line, a
/// message); `None` for files on disk and stdin.
pub fn located_in(f: &Finding) -> Option<&Commit> {
    match &f.origin {
        Origin::File { .. } | Origin::Stdin => None,
        other => other.commit(),
    }
}

/// The commit reports name with a finding: the one its location is in, else the one that
/// introduced the secret at this path.
pub fn commit_of(f: &Finding) -> Option<&Commit> {
    f.origin
        .commit()
        .or_else(|| f.origin.history().and_then(|h| h.introduced.as_ref()))
}

/// The finding's origin in one line of plain text, for formats with a single message
/// (CSV, JUnit, GitHub, GitLab): kind, commit and repository, sanitised.
pub fn origin_text(f: &Finding) -> String {
    let mut parts = vec![f.origin.kind().to_string()];
    if let Some(c) = located_in(f) {
        parts.push(format!("in commit {}", c.short_id()));
    } else if let Some(c) = commit_of(f) {
        parts.push(format!("introduced in commit {}", c.short_id()));
    }
    if let Some(h) = f.origin.history() {
        parts.push(action(h).to_string());
    }
    if let Some(r) = f.origin.repository() {
        match &r.remote {
            Some(url) => parts.push(format!("repository {} ({})", r.path, url)),
            None => parts.push(format!("repository {}", r.path)),
        }
    }
    sanitize(&parts.join(", "))
}

/// The archive a finding is a member of, as JSON and SARIF show it.
#[derive(serde::Serialize)]
pub(crate) struct ArchiveView {
    /// The outermost archive's path.
    pub path: String,
    /// The member's path inside it (archives inside archives joined by `!`).
    pub member: String,
}

impl ArchiveView {
    pub(crate) fn of(f: &Finding) -> Option<ArchiveView> {
        f.origin.member().map(|(path, member)| ArchiveView {
            path: sanitize(path),
            member: sanitize(member),
        })
    }
}

/// What to do about a secret found in history.
pub fn action(p: &History) -> &'static str {
    if p.in_head {
        "still in HEAD: rotate the key, then remove it from the code"
    } else if !p.reachable {
        "only in unreachable objects: rotate the key, then expire reflogs and prune (git gc --prune=now)"
    } else {
        "only in history: rotate the key; removing it needs a history rewrite (git filter-repo)"
    }
}

/// A live check's result as JSON and SARIF show it.
#[derive(serde::Serialize)]
pub(crate) struct ValidationView {
    pub state: LiveState,
    /// Machine-readable reason code when `unknown`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
    /// Human-readable reason when `unknown`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    pub scopes: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiry: Option<String>,
}

impl ValidationView {
    pub(crate) fn new(v: &Validation) -> Self {
        ValidationView {
            state: v.state,
            reason: v.reason.as_ref().map(|r| r.code()),
            message: v.reason.as_ref().map(|r| sanitize(&r.to_string())),
            http_status: v.http_status,
            identity: v.identity.as_deref().map(sanitize),
            scopes: v.scopes.iter().map(|s| sanitize(s)).collect(),
            key_type: v.key_type.as_deref().map(sanitize),
            expiry: v.expiry.as_deref().map(sanitize),
        }
    }
}

/// Writes `report` in `format`.
pub fn write(format: Format, report: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    match masked_commits(report) {
        Some(findings) => write_as(
            format,
            &Report {
                findings: &findings,
                ..*report
            },
            out,
        ),
        None => write_as(format, report, out),
    }
}

/// The findings with every secret of the report redacted in the commits they name (summary,
/// author, email): a commit message may hold the very key the commit added. `None` with
/// `--show-secrets`, or when no commit text holds a secret.
fn masked_commits(r: &Report<'_>) -> Option<Vec<Finding>> {
    if r.show_secrets {
        return None;
    }
    let secrets: Vec<&crate::finding::Secret> = r
        .findings
        .iter()
        .flat_map(|f| std::iter::once(&f.secret).chain(&f.partner))
        .filter(|s| !s.is_empty())
        .collect();
    let ac = aho_corasick::AhoCorasick::builder()
        .match_kind(aho_corasick::MatchKind::LeftmostLongest)
        .build(secrets.iter().map(|s| s.expose()))
        .ok()?;
    let holds = |c: &Commit| {
        [&c.summary, &c.author, &c.email]
            .iter()
            .any(|t| ac.is_match(t))
    };
    let needed = r.findings.iter().any(|f| {
        let introduced = f.origin.history().and_then(|h| h.introduced.as_ref());
        f.origin.commit().into_iter().chain(introduced).any(holds)
    });
    if !needed {
        return None;
    }
    let shown: Vec<String> = secrets.iter().map(|s| r.show(s)).collect();
    let mut findings = r.findings.to_vec();
    for c in findings.iter_mut().flat_map(|f| f.origin.commits_mut()) {
        for text in [&mut c.summary, &mut c.author, &mut c.email] {
            *text = ac.replace_all(text, &shown);
        }
    }
    Some(findings)
}

fn write_as(format: Format, report: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    match (format, report.grouped) {
        (Format::Text, true) => grouped::text(report, out),
        (Format::Json, true) => grouped::json(report, out),
        (Format::Jsonl, true) => grouped::json_lines(report, out),
        (Format::Text, _) => text::write(report, out),
        (Format::Json, _) => json::write(report, out),
        (Format::Jsonl, _) => json::write_lines(report, out),
        (Format::Sarif, _) => sarif::write(report, out),
        (Format::Csv, _) => csv::write(report, out),
        (Format::Junit, _) => junit::write(report, out),
        (Format::Github, _) => github::write(report, out),
        (Format::Gitlab, _) => gitlab::write(report, out),
        (Format::Html, _) => html::write(report, out),
    }
}

/// A one-line message about a finding for formats that have room for one: rule, redacted
/// (or shown) secret, confidence, origin and live state.
fn one_line(f: &Finding, secret: &str) -> String {
    let live = f
        .validation
        .as_ref()
        .map(|v| format!("; live check: {}", sanitize(&v.summary())))
        .unwrap_or_default();
    format!(
        "{} found: {secret} ({} confidence; {}{live})",
        sanitize(&f.rule_name),
        f.confidence,
        origin_text(f)
    )
}

/// A finding's details as a JSON object (`{"alg": "HS256", "issuer": "…"}`), in the order
/// found, values sanitised.
pub struct Details<'a>(pub &'a [Detail]);

impl Details<'_> {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `alg HS256 · issuer https://login.example · expired 2021-02-14`, for text output.
    pub fn text(&self) -> String {
        self.0
            .iter()
            .map(|d| format!("{} {}", d.name, sanitize(&d.value)))
            .collect::<Vec<_>>()
            .join(" · ")
    }
}

impl serde::Serialize for Details<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for d in self.0 {
            map.serialize_entry(d.name, &sanitize(&d.value))?;
        }
        map.end()
    }
}

/// Removes control characters (including ESC, so no terminal escape sequences survive) and
/// replaces tabs with spaces. Applied to every text keyhound did not write itself: scanned
/// content, paths, commit metadata, rule text from rule files, answers from providers.
pub use crate::text::sanitize;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_strips_escapes_and_controls() {
        assert_eq!(sanitize("a\x1b[31mred\x07\tb\r"), "a[31mred b");
        assert_eq!(sanitize("x\u{202E}y"), "xy");
        assert_eq!(sanitize("a\u{200F}b\u{061C}c\u{200E}"), "abc");
        // Invisible formatting and line separators too: one rule for every text shown.
        assert_eq!(sanitize("a\u{200B}b\u{2028}c\u{2066}d\u{FEFF}"), "abcd");
    }
}
