//! `keyhound baseline import`: a gitleaks or Betterleaks JSON report turned into keyhound
//! baseline entries. keyhound's fingerprint is a hash of rule id and secret, so each finding
//! needs its secret: findings of a report written with `--redact` (secret `REDACTED`, or cut
//! short with `…`/`...`) cannot be turned into entries and are counted as such. A finding
//! becomes one entry per keyhound rule that looks for the same credential (`rule_map`), plus
//! one for `gitleaks.<rule>`, the id the rule has when its gitleaks config is imported.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Deserialize;

use super::rule_map;
use crate::config::{DisableRule, RulePatternSource};
use crate::finding::{Fingerprint, Secret};
use crate::rules::RuleSet;
use crate::suppress::BaselineEntry;

/// Errors reading a report.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read the report")]
    Read(#[from] crate::files::ReadError),
    #[error("{file}: not a gitleaks or Betterleaks JSON report (an array of findings): {message}")]
    Parse { file: String, message: String },
}

/// One finding of a gitleaks report: only the fields the import needs.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GitleaksFinding {
    #[serde(rename = "RuleID")]
    rule_id: String,
    #[serde(default)]
    secret: String,
}

/// What an import did.
#[derive(Debug, Default)]
pub struct Imported {
    pub entries: BTreeSet<BaselineEntry>,
    pub findings: usize,
    /// Findings whose secret the report redacted.
    pub redacted: usize,
    /// gitleaks rule → findings of it keyhound has no built-in counterpart for (kept only as
    /// `gitleaks.<rule>` entries).
    pub unmapped: BTreeMap<String, usize>,
}

/// Whether a report's secret was redacted (`gitleaks --redact` writes `REDACTED`, or keeps a
/// prefix and appends `...` with `--redact=N`).
fn redacted(secret: &str) -> bool {
    secret.is_empty() || secret.contains("REDACTED") || secret.ends_with("...")
}

/// Reads the report at `path` and builds baseline entries against the built-in rules.
pub fn import(path: &Path, rules: &RuleSet) -> Result<Imported, ImportError> {
    let file = path.display().to_string();
    let text = crate::files::read_text(path, 4 * crate::files::MAX_TEXT_FILE, None)?;
    let findings: Vec<GitleaksFinding> =
        serde_json::from_str(&text).map_err(|e| ImportError::Parse {
            file: file.clone(),
            message: crate::files::redact_message(&e.to_string()),
        })?;
    let mut out = Imported {
        findings: findings.len(),
        ..Imported::default()
    };
    for f in findings {
        if redacted(&f.secret) {
            out.redacted += 1;
            continue;
        }
        if !rule_map::has_builtin(&f.rule_id) {
            *out.unmapped
                .entry(crate::report::sanitize(&f.rule_id))
                .or_default() += 1;
        }
        let secret = Secret::new(f.secret.as_bytes());
        for id in rule_ids(&f.rule_id, &f.secret, rules) {
            out.entries.insert(BaselineEntry {
                fingerprint: Fingerprint::new(&id, &secret).to_string(),
                rule_name: rules.get(&id).map(|r| r.name.clone()),
                rule_id: id,
                ..BaselineEntry::default()
            });
        }
    }
    Ok(out)
}

/// The keyhound rule ids a gitleaks finding is recorded under: the counterparts whose
/// pattern matches the secret, or every counterpart when none does on the bare secret (a
/// pattern that needs its surrounding assignment), and `gitleaks.<rule>`.
fn rule_ids(gitleaks_id: &str, secret: &str, rules: &RuleSet) -> Vec<String> {
    let mut ids = candidates(gitleaks_id, rules);
    let matching: Vec<String> = ids
        .iter()
        .filter(|id| {
            rules
                .get(id)
                .is_some_and(|r| r.compiled().is_ok_and(|c| c.is_match(secret.as_bytes())))
        })
        .cloned()
        .collect();
    if !matching.is_empty() {
        ids.retain(|id| matching.contains(id) || rules.get(id).is_none());
    }
    ids
}

fn candidates(gitleaks_id: &str, rules: &RuleSet) -> Vec<String> {
    let mut ids = Vec::new();
    for p in rule_map::keyhound_patterns(gitleaks_id) {
        let d = DisableRule {
            pattern: p.clone(),
            source: RulePatternSource::DisableFlag,
        };
        let matched: Vec<String> = rules
            .rules
            .iter()
            .filter(|r| d.matches(&r.id))
            .map(|r| r.id.clone())
            .collect();
        if matched.is_empty() && p.starts_with(crate::rules::gitleaks::ID_PREFIX) {
            ids.push(p);
        }
        ids.extend(matched);
    }
    ids.sort();
    ids.dedup();
    ids
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_is_recognised() {
        assert!(redacted("REDACTED"));
        assert!(redacted("ghp_abc..."));
        assert!(redacted(""));
        assert!(!redacted("ghp_abcdef"));
    }
}
