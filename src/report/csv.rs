//! CSV (RFC 4180): a header row, then one row per finding. Unreadable files are not rows
//! (they are on stderr and in the exit code): a CSV file has one kind of row.
//!
//! Cells that a spreadsheet would read as a formula (`=`, `+`, `-`, `@` first) get a leading
//! `'`: paths and snippets come from the scanned repository.

use std::io::{self, Write};

use super::{commit_of, sanitize, Report};
use crate::finding::Finding;

const HEADER: &[&str] = &[
    "rule_id",
    "rule_name",
    "provider",
    "confidence",
    "path",
    "line",
    "column",
    "end_line",
    "end_column",
    "secret",
    "secret_length",
    "fingerprint",
    "origin",
    "commit",
    "repository",
    "remote",
    "rotate",
    "validation",
];

pub fn write(r: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    row(out, HEADER.iter().map(|s| s.to_string()))?;
    for f in r.findings {
        row(out, cells(r, f))?;
    }
    Ok(())
}

fn cells(r: &Report<'_>, f: &Finding) -> impl Iterator<Item = String> {
    let loc = &f.location;
    let repo = f.origin.repository();
    [
        f.rule_id.clone(),
        f.rule_name.clone(),
        f.provider.clone(),
        f.confidence.to_string(),
        loc.path.clone(),
        loc.line.to_string(),
        loc.column.to_string(),
        loc.end_line.to_string(),
        loc.end_column.to_string(),
        r.secret_text(f),
        f.secret.len().to_string(),
        f.fingerprint.to_string(),
        f.origin.kind().to_string(),
        commit_of(f).map(|c| c.id.clone()).unwrap_or_default(),
        repo.map(|r| r.path.clone()).unwrap_or_default(),
        repo.and_then(|r| r.remote.clone()).unwrap_or_default(),
        f.rotate.clone().unwrap_or_default(),
        f.validation
            .as_ref()
            .map(|v| v.summary())
            .unwrap_or_default(),
    ]
    .into_iter()
}

fn row(out: &mut dyn Write, cells: impl Iterator<Item = String>) -> io::Result<()> {
    let line: Vec<String> = cells.map(|c| cell(&c)).collect();
    write!(out, "{}\r\n", line.join(","))
}

/// One cell: sanitised, defused as a formula, quoted when it must be.
fn cell(raw: &str) -> String {
    let mut s = sanitize(raw);
    if s.starts_with(['=', '+', '-', '@']) {
        s.insert(0, '\'');
    }
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::cell;

    #[test]
    fn cells_are_quoted_and_defused() {
        assert_eq!(cell("plain"), "plain");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(cell("@sum"), "'@sum");
        assert_eq!(cell("line\nbreak"), "linebreak");
    }
}
