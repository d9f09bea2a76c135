//! `--group-by secret`: one entry per secret (rule id and fingerprint) with every place it
//! was found, for text, JSON and JSON Lines. One key copied into seventeen files is one
//! incident to rotate, not seventeen.
//!
//! The JSON document (`schema: keyhound-secrets/1`) has `secrets` instead of `findings`;
//! each secret carries the facts about the key (rule, confidence — the highest of its
//! locations —, fingerprint, secret, rotate, live check) and `locations`, each with the
//! fields a finding has for its place (path, span, snippet, origin, repository, commit,
//! history). JSON Lines writes one secret per line.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;

use super::json::{errors, JsonError, JsonHistory, Tool};
use super::{location_text, sanitize, BaselineReport, Report, ValidationView};
use crate::finding::{ChecksumState, Commit, Confidence, Finding, Repository};
use crate::scan::Summary;

/// Version of the grouped JSON layout.
pub const SCHEMA: &str = "keyhound-secrets/1";

/// The findings of one secret, in report order.
pub struct Group<'a> {
    pub findings: Vec<&'a Finding>,
}

impl<'a> Group<'a> {
    fn first(&self) -> &'a Finding {
        self.findings[0]
    }

    /// The highest confidence of the secret's locations.
    pub fn confidence(&self) -> Confidence {
        self.findings
            .iter()
            .map(|f| f.confidence)
            .max()
            .unwrap_or(Confidence::Low)
    }

    fn validation(&self) -> Option<&'a crate::finding::Validation> {
        self.findings.iter().find_map(|f| f.validation.as_ref())
    }
}

/// Groups `findings` by rule id and fingerprint, groups ordered by their first finding.
pub fn group(findings: &[Finding]) -> Vec<Group<'_>> {
    let mut index: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    let mut groups: Vec<Group<'_>> = Vec::new();
    for f in findings {
        let key = (f.rule_id.as_str(), f.fingerprint.as_str());
        match index.get(&key) {
            Some(&i) => groups[i].findings.push(f),
            None => {
                index.insert(key, groups.len());
                groups.push(Group { findings: vec![f] });
            }
        }
    }
    groups
}

pub fn text(r: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    for g in group(r.findings) {
        let f = g.first();
        writeln!(
            out,
            "{}  {} ({})  {}",
            r.secret_text(f),
            sanitize(&f.rule_name),
            sanitize(&f.rule_id),
            g.confidence()
        )?;
        let n = g.findings.len();
        writeln!(
            out,
            "    {n} location{} · fingerprint {}",
            if n == 1 { "" } else { "s" },
            f.fingerprint
        )?;
        for l in &g.findings {
            writeln!(out, "    {}  ({})", location_text(l), super::origin_text(l))?;
        }
        if let Some(v) = g.validation() {
            writeln!(out, "    validation: {}", sanitize(&v.summary()))?;
        }
        if let Some(u) = &f.rotate {
            writeln!(out, "    rotate: {}", sanitize(u))?;
        }
        writeln!(out)?;
    }
    Ok(())
}

#[derive(Serialize)]
struct JsonSecret<'a> {
    pub rule_id: &'a str,
    pub rule_name: &'a str,
    pub provider: &'a str,
    pub confidence: Confidence,
    pub fingerprint: &'a str,
    /// The secret, redacted unless `--show-secrets`.
    pub secret: String,
    pub secret_length: usize,
    pub redacted: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partner: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rotate: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checksum: Option<ChecksumState>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validation: Option<ValidationView>,
    /// How many locations.
    pub count: usize,
    pub locations: Vec<JsonLocation<'a>>,
}

/// One place a secret was found: the same fields, with the same meaning, as a finding's.
#[derive(Serialize)]
struct JsonLocation<'a> {
    pub path: &'a str,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub snippet: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decoded_from: Option<&'static str>,
    pub blob: String,
    pub origin: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repository: Option<&'a Repository>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<&'a Commit>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<JsonHistory<'a>>,
}

fn secret<'a>(r: &Report<'_>, g: &Group<'a>) -> JsonSecret<'a> {
    let f = g.first();
    JsonSecret {
        rule_id: &f.rule_id,
        rule_name: &f.rule_name,
        provider: &f.provider,
        confidence: g.confidence(),
        fingerprint: f.fingerprint.as_str(),
        secret: r.exact(&f.secret),
        secret_length: f.secret.len(),
        redacted: !r.show_secrets,
        partner: g.findings.iter().find_map(|f| r.partner_exact(f)),
        rotate: f.rotate.as_deref(),
        checksum: f.checksum,
        validation: g.validation().map(ValidationView::new),
        count: g.findings.len(),
        locations: g.findings.iter().map(|l| location(r, l)).collect(),
    }
}

fn location<'a>(r: &Report<'_>, f: &'a Finding) -> JsonLocation<'a> {
    JsonLocation {
        path: &f.location.path,
        line: f.location.line,
        column: f.location.column,
        end_line: f.location.end_line,
        end_column: f.location.end_column,
        snippet: r.snippet(f),
        decoded_from: f.decoded_from,
        blob: f.blob.to_hex(),
        origin: f.origin.kind(),
        repository: f.origin.repository(),
        commit: super::commit_of(f),
        history: f.origin.history().map(JsonHistory::new),
    }
}

#[derive(Serialize)]
struct Document<'a> {
    schema: &'static str,
    tool: Tool,
    secrets: Vec<JsonSecret<'a>>,
    summary: &'a Summary,
    #[serde(skip_serializing_if = "Option::is_none")]
    baseline: Option<&'a BaselineReport>,
    errors: Vec<JsonError>,
}

pub fn json(r: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    let doc = Document {
        schema: SCHEMA,
        tool: Tool::keyhound(),
        secrets: group(r.findings).iter().map(|g| secret(r, g)).collect(),
        summary: r.summary,
        baseline: r.baseline,
        errors: errors(r),
    };
    super::safe_json::pretty(out, &doc)?;
    writeln!(out)
}

/// One secret per line; then one line per unreadable file or object, as `{"error": {...}}`.
pub fn json_lines(r: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    for g in group(r.findings) {
        super::safe_json::compact(out, &secret(r, &g))?;
        writeln!(out)?;
    }
    for error in errors(r) {
        super::safe_json::compact(out, &serde_json::json!({ "error": error }))?;
        writeln!(out)?;
    }
    Ok(())
}
