//! Reporters: render sorted findings as human text, JSON, JSON Lines or SARIF 2.1.0 to any
//! `io::Write`. They never read sources or touch the network.
//!
//! Secrets are redacted unless `show_secrets` is set; text that came from scanned files is
//! stripped of control characters before it can reach a terminal.

mod json;
pub mod rules_list;
mod sarif;
pub mod summary;
mod text;

use std::io::{self, Write};
use std::sync::Arc;

use crate::finding::{Finding, History, LiveState, Origin, Part, Validation};
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

    /// The line around the secret, with every secret on it shown as `show` does and control
    /// characters removed.
    fn snippet(&self, f: &Finding) -> String {
        let mut out = String::new();
        for part in &f.context.parts {
            match part {
                Part::Text(t) => out.push_str(&sanitize(t)),
                Part::Secret(s) => out.push_str(&self.show(s)),
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
    match format {
        Format::Text => text::write(report, out),
        Format::Json => json::write(report, out),
        Format::Jsonl => json::write_lines(report, out),
        Format::Sarif => sarif::write(report, out),
    }
}

/// Removes control characters (including ESC, so no terminal escape sequences survive) and
/// replaces tabs with spaces. Applied to every text keyhound did not write itself: scanned
/// content, paths, commit metadata, rule text from rule files, answers from providers.
pub fn sanitize(s: &str) -> String {
    s.chars()
        .filter_map(|c| match c {
            '\t' => Some(' '),
            c if c.is_control() => None,
            // Bidirectional overrides can make a terminal show text in a misleading order.
            '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => None,
            c => Some(c),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_strips_escapes_and_controls() {
        assert_eq!(sanitize("a\x1b[31mred\x07\tb\r"), "a[31mred b");
        assert_eq!(sanitize("x\u{202E}y"), "xy");
    }
}
