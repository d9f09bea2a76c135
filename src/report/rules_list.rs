//! `keyhound rules list`: a table, or JSON.

use std::io::{self, Write};

use super::sanitize;
use crate::rules::RuleSet;

pub fn json(set: &RuleSet, out: &mut dyn Write) -> io::Result<()> {
    let rows: Vec<serde_json::Value> = set
        .rules
        .iter()
        .map(|r| {
            serde_json::json!({
                "id": r.id,
                "name": r.name,
                "provider": r.provider,
                "confidence": r.confidence,
                "keywords": r.keywords,
                "rotate": r.rotate,
                "validation": r.validate.as_ref().map(|v| {
                    let (method, url) = v.describe_request();
                    serde_json::json!({ "method": method, "url": url, "host": v.host })
                }),
                "source": r.origin.file,
            })
        })
        .collect();
    serde_json::to_writer_pretty(&mut *out, &rows).map_err(io::Error::from)?;
    writeln!(out)
}

pub fn table(set: &RuleSet, out: &mut dyn Write) -> io::Result<()> {
    let width = |f: fn(&crate::rules::Rule) -> usize, min: usize| {
        set.rules.iter().map(f).max().unwrap_or(min).max(min)
    };
    let w = width(|r| r.id.len(), 2);
    let pw = width(|r| r.provider.len(), 8);
    writeln!(
        out,
        "{:w$}  {:pw$}  {:10}  NAME",
        "ID", "PROVIDER", "CONFIDENCE"
    )?;
    for r in &set.rules {
        writeln!(
            out,
            "{:w$}  {:pw$}  {:10}  {}",
            sanitize(&r.id),
            sanitize(&r.provider),
            r.confidence.as_str(),
            sanitize(&r.name)
        )?;
    }
    writeln!(out, "{} rules", set.rules.len())
}
