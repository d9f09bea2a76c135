//! `keyhound rules show RULE_ID`: what one rule matches, its examples, where to rotate and
//! how it validates, as text or JSON. Rule text may come from a user's rule file: every
//! value is sanitised; a validation request is shown as its template, where the secret is
//! the `{{secret}}` placeholder.

use std::io::{self, Write};

use serde::Serialize;

use super::sanitize;
use crate::rules::validation::{Check, ValidateSpec};
use crate::rules::{Rule, RuleSet};

#[derive(Serialize)]
struct RuleView {
    id: String,
    name: String,
    provider: String,
    confidence: &'static str,
    /// Where the rule is defined.
    source: String,
    builtin: bool,
    pattern: String,
    keywords: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    min_entropy: Option<f64>,
    /// Bytes searched on each side of a keyword hit.
    window: usize,
    single_line: bool,
    generic: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    checksum: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    decode: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    paired_with: Option<Paired>,
    allow: Vec<String>,
    stopwords: Vec<String>,
    examples: Vec<String>,
    negative_examples: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rotate: Option<String>,
    validation: Option<ValidationView>,
}

#[derive(Serialize)]
struct Paired {
    rule_id: String,
    within_lines: usize,
}

#[derive(Serialize)]
struct ValidationView {
    method: String,
    /// The URL with the secret as `{{secret}}` (and the paired credential as `{{partner}}`).
    url: String,
    host: String,
    /// Header names and their templates.
    headers: Vec<(String, String)>,
    basic_auth: bool,
    body: bool,
    needs_partner: bool,
    /// A named check (`aws-sts`) rather than a declared request.
    #[serde(skip_serializing_if = "Option::is_none")]
    named: Option<&'static str>,
}

fn view(set: &RuleSet, r: &Rule) -> RuleView {
    let s = |v: &str| sanitize(v);
    RuleView {
        id: s(&r.id),
        name: s(&r.name),
        provider: s(&r.provider),
        confidence: r.confidence.as_str(),
        source: s(&r.origin.to_string()),
        builtin: r.origin.builtin,
        pattern: s(&r.pattern),
        keywords: r.keywords.iter().map(|k| s(k)).collect(),
        min_entropy: r.min_entropy,
        window: r.compiled().map_or(0, |c| c.window),
        single_line: r.single_line,
        generic: r.generic,
        checksum: r.checksum.map(|c| format!("{c:?}")),
        decode: r.decode.map(|d| d.as_str()),
        paired_with: r.pair.map(|p| Paired {
            rule_id: s(&set.rules[p.with].id),
            within_lines: p.within_lines,
        }),
        allow: r.allow.iter().map(|a| s(a)).collect(),
        stopwords: r.stopwords.iter().map(|w| s(w)).collect(),
        examples: r.examples.iter().map(|e| s(e.text())).collect(),
        negative_examples: r.negative_examples.iter().map(|e| s(e)).collect(),
        rotate: r.rotate.as_deref().map(s),
        validation: r.validate.as_ref().map(validation),
    }
}

fn validation(v: &ValidateSpec) -> ValidationView {
    let (method, url) = v.describe_request();
    let (headers, basic_auth, body, named) = match &v.check {
        Check::Request(req) => (
            req.headers
                .iter()
                .map(|(n, t)| (sanitize(n), sanitize(&t.source)))
                .collect(),
            req.basic_auth.is_some(),
            req.body.is_some(),
            None,
        ),
        Check::Named(n) => (Vec::new(), false, true, Some(n.name())),
        Check::Offline => (Vec::new(), false, false, Some("offline")),
    };
    ValidationView {
        method: sanitize(&method),
        url: sanitize(&url),
        host: sanitize(&v.host),
        headers,
        basic_auth,
        body,
        needs_partner: v.needs_partner,
        named,
    }
}

pub fn json(set: &RuleSet, r: &Rule, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &view(set, r)).map_err(io::Error::from)?;
    writeln!(out)
}

pub fn text(set: &RuleSet, r: &Rule, out: &mut dyn Write) -> io::Result<()> {
    let v = view(set, r);
    writeln!(out, "{}  {}", v.id, v.name)?;
    writeln!(out, "  provider:    {}", v.provider)?;
    writeln!(out, "  confidence:  {}", v.confidence)?;
    let kind = if v.builtin { "built in" } else { "rule file" };
    writeln!(out, "  defined in:  {} ({kind})", v.source)?;
    writeln!(out, "\nWhat it matches")?;
    writeln!(out, "  pattern:     {}", v.pattern)?;
    writeln!(out, "  keywords:    {}", v.keywords.join(", "))?;
    let entropy = v.min_entropy.map_or("no minimum".to_string(), |e| {
        format!("at least {e} bits per character")
    });
    writeln!(out, "  entropy:     {entropy}")?;
    let line = if v.single_line {
        ", within one line"
    } else {
        ""
    };
    writeln!(
        out,
        "  window:      {} bytes around a keyword{line}",
        v.window
    )?;
    if let Some(c) = &v.checksum {
        writeln!(out, "  checksum:    {c} (checked offline)")?;
    }
    if let Some(d) = v.decode {
        writeln!(out, "  decodes:     {d}")?;
    }
    if let Some(p) = &v.paired_with {
        let n = p.within_lines;
        writeln!(out, "  paired with: {} within {n} lines", p.rule_id)?;
    }
    if !v.allow.is_empty() || !v.stopwords.is_empty() {
        let (a, s) = (v.allow.len(), v.stopwords.len());
        writeln!(out, "  ignores:     {a} allow patterns, {s} stopwords")?;
    }
    list(out, "Examples", &v.examples)?;
    list(out, "Not matched", &v.negative_examples)?;
    writeln!(out, "\nWhere to rotate")?;
    writeln!(out, "  {}", v.rotate.as_deref().unwrap_or("(not known)"))?;
    writeln!(out, "\nLive check (--validate)")?;
    match &v.validation {
        None => writeln!(out, "  none: the rule cannot be checked"),
        Some(c) => validation_text(c, out),
    }
}

fn list(out: &mut dyn Write, title: &str, items: &[String]) -> io::Result<()> {
    if items.is_empty() {
        return Ok(());
    }
    writeln!(out, "\n{title}")?;
    for e in items {
        writeln!(out, "  {e}")?;
    }
    Ok(())
}

fn validation_text(c: &ValidationView, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "  request:     {} {}", c.method, c.url)?;
    writeln!(out, "  host:        {} (HTTPS only, no redirects)", c.host)?;
    if let Some(n) = c.named {
        writeln!(
            out,
            "  signed:      {n} (the secret signs the request; it is not sent)"
        )?;
    }
    for (name, value) in &c.headers {
        writeln!(out, "  header:      {name}: {value}")?;
    }
    if c.basic_auth {
        writeln!(out, "  auth:        HTTP basic authentication")?;
    }
    if c.needs_partner {
        writeln!(
            out,
            "  needs:       the paired credential ({{{{partner}}}})"
        )?;
    }
    Ok(())
}
