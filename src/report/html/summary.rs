//! The top of the page: what was scanned, and the findings counted by provider, confidence,
//! validity and repository. Rendered as static HTML, so it reads without the script; a row
//! that names a filter value (`data-filter`, `data-value`) sets that filter in the table.

use std::collections::{HashMap, HashSet};
use std::io::{self, Write};

use super::data::{Data, VALIDITIES};
use super::esc;
use crate::report::summary::human_bytes;
use crate::report::Report;

/// One counted value: its label, its count, and the table filter it selects.
struct Count {
    label: String,
    count: usize,
    filter: Option<(&'static str, String)>,
}

pub fn write_header(r: &Report<'_>, data: &Data, out: &mut dyn Write) -> io::Result<()> {
    let n = data.findings.len();
    let secrets: HashSet<&str> = data
        .findings
        .iter()
        .map(|f| f.fingerprint.as_str())
        .collect();
    let s = r.summary;
    writeln!(out, "<header>\n<h1>keyhound report</h1>")?;
    let mut facts = vec![format!(
        "<strong>{}</strong> finding{} of <strong>{}</strong> distinct secret{}",
        thousands(n as u64),
        if n == 1 { "" } else { "s" },
        thousands(secrets.len() as u64),
        if secrets.len() == 1 { "" } else { "s" }
    )];
    facts.push(format!(
        "{} files and git objects scanned ({})",
        thousands(s.items),
        human_bytes(s.bytes)
    ));
    if s.repositories > 0 {
        facts.push(format!(
            "history of {} commit{} in {} repositor{}",
            thousands(s.commits),
            if s.commits == 1 { "" } else { "s" },
            s.repositories,
            if s.repositories == 1 { "y" } else { "ies" }
        ));
    }
    if s.errors > 0 {
        facts.push(format!(
            "<a href=\"#errors\">{} error{}</a>",
            s.errors,
            if s.errors == 1 { "" } else { "s" }
        ));
    }
    facts.push(format!("keyhound {}", env!("CARGO_PKG_VERSION")));
    writeln!(out, "<p class=\"facts\">{}</p>", facts.join(" · "))?;
    if r.show_secrets {
        writeln!(out, "<p class=\"warning\">This page shows secrets in full (<code>--show-secrets</code>): keep it as secret as the keys themselves.</p>")?;
    } else {
        writeln!(
            out,
            "<p class=\"muted\">Secrets are redacted: a short prefix and the length.</p>"
        )?;
    }
    writeln!(out, "</header>")
}

/// `12345` as `12,345`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The four summary cards.
pub fn write_cards(data: &Data, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "<section class=\"cards\" aria-label=\"Summary\">")?;
    card(out, "By provider", &providers(data))?;
    card(out, "By confidence", &confidences(data))?;
    let validities = validities(data);
    card(out, "By validity", &validities)?;
    card(out, "Repositories by findings", &repositories(data))?;
    writeln!(out, "</section>")
}

fn card(out: &mut dyn Write, title: &str, rows: &[Count]) -> io::Result<()> {
    let max = rows.iter().map(|c| c.count).max().unwrap_or(0).max(1);
    writeln!(out, "<div class=\"card\">\n<h2>{title}</h2>")?;
    if rows.is_empty() {
        writeln!(out, "<p class=\"muted\">None.</p>\n</div>")?;
        return Ok(());
    }
    writeln!(out, "<table class=\"counts\">")?;
    for c in rows {
        let attrs = match &c.filter {
            Some((k, v)) => format!(
                " data-filter=\"{k}\" data-value=\"{}\" tabindex=\"0\" title=\"Show these in the table\"",
                esc(v)
            ),
            None => String::new(),
        };
        writeln!(
            out,
            "<tr{attrs}><th scope=\"row\">{}</th><td class=\"n\">{}</td><td class=\"bar\"><svg viewBox=\"0 0 100 8\" preserveAspectRatio=\"none\" aria-hidden=\"true\"><rect width=\"{:.1}\" height=\"8\"/></svg></td></tr>",
            esc(&c.label),
            c.count,
            c.count as f64 * 100.0 / max as f64
        )?;
    }
    writeln!(out, "</table>\n</div>")
}

/// Counts sorted by count (highest first), then label.
fn ranked(counts: HashMap<String, usize>) -> Vec<(String, usize)> {
    let mut v: Vec<_> = counts.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v
}

fn providers(data: &Data) -> Vec<Count> {
    let mut counts = HashMap::new();
    for f in &data.findings {
        *counts
            .entry(data.rules[f.rule].provider.clone())
            .or_insert(0) += 1;
    }
    ranked(counts)
        .into_iter()
        .map(|(p, count)| Count {
            label: p.clone(),
            count,
            filter: Some(("provider", p)),
        })
        .collect()
}

fn confidences(data: &Data) -> Vec<Count> {
    ["high", "medium", "low"]
        .into_iter()
        .map(|c| Count {
            label: c.to_string(),
            count: data
                .findings
                .iter()
                .filter(|f| f.confidence.as_str() == c)
                .count(),
            filter: Some(("confidence", c.to_string())),
        })
        .filter(|c| c.count > 0)
        .collect()
}

fn validities(data: &Data) -> Vec<Count> {
    VALIDITIES
        .into_iter()
        .map(|(v, label)| Count {
            label: label.to_string(),
            count: data.findings.iter().filter(|f| f.validity == v).count(),
            filter: Some(("validity", v.to_string())),
        })
        .filter(|c| c.count > 0)
        .collect()
}

fn repositories(data: &Data) -> Vec<Count> {
    let mut counts = vec![0usize; data.repos.len()];
    let mut outside = 0;
    for f in &data.findings {
        match f.repo {
            Some(i) => counts[i] += 1,
            None => outside += 1,
        }
    }
    let mut rows: Vec<Count> = data
        .repos
        .iter()
        .zip(counts)
        .enumerate()
        .map(|(i, (repo, count))| Count {
            label: match &repo.remote {
                Some(url) => format!("{} ({url})", repo.path),
                None => repo.path.clone(),
            },
            count,
            filter: Some(("repo", i.to_string())),
        })
        .collect();
    if outside > 0 {
        rows.push(Count {
            label: "not in a repository".into(),
            count: outside,
            filter: Some(("repo", "none".into())),
        });
    }
    rows.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.label.cmp(&b.label)));
    rows
}

/// Files and objects that could not be read.
pub fn write_errors(r: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    if r.errors.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "<details id=\"errors\" class=\"errors\">\n<summary>{} file{} or object{} could not be read</summary>\n<ul>",
        r.errors.len(),
        if r.errors.len() == 1 { "" } else { "s" },
        if r.errors.len() == 1 { "" } else { "s" },
    )?;
    for e in r.errors {
        writeln!(
            out,
            "<li><code>{}</code>: {}</li>",
            esc(&e.path),
            esc(&e.message)
        )?;
    }
    writeln!(out, "</ul>\n</details>")
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands_are_separated() {
        assert_eq!(super::thousands(0), "0");
        assert_eq!(super::thousands(999), "999");
        assert_eq!(super::thousands(1000), "1,000");
        assert_eq!(super::thousands(1234567), "1,234,567");
    }
}
