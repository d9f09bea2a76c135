//! Coming from gitleaks and Betterleaks: their ignore files (`.gitleaksignore`,
//! `.betterleaksignore`) and their JSON reports, mapped to keyhound's findings and baselines.
//!
//! An ignore entry is a gitleaks fingerprint, `file:rule:line` or `commit:file:rule:line`.
//! It suppresses the keyhound findings at that path (relative to the repository root) and
//! line whose rule is a counterpart of the gitleaks rule (`rule_map`) or the rule imported
//! from a gitleaks config under `gitleaks.<rule>`; with a commit, only findings in (or
//! introduced by) that commit. An entry whose rule keyhound cannot map, or that is not a
//! fingerprint at all, suppresses nothing and is reported, by file and line, without echoing
//! more of the file than the rule id.
//!
//! The ignore files are found in the scanned repository, so they are read like its
//! `.keyhound.yaml`: regular files inside the repository, bounded in size.

pub mod report;
pub mod rule_map;

use std::path::Path;

use crate::config::{DisableRule, RulePatternSource};
use crate::files::{read_text, ReadError, MAX_TEXT_FILE};
use crate::finding::Finding;
use crate::report::sanitize;

/// The ignore files honoured at a repository's root, in the order they are read.
pub const IGNORE_FILES: &[&str] = &[".gitleaksignore", ".betterleaksignore"];

/// One usable entry.
#[derive(Debug, Clone)]
pub struct IgnoreEntry {
    /// `.gitleaksignore:12`, for messages.
    pub origin: String,
    pub commit: Option<String>,
    pub path: String,
    pub line: usize,
    patterns: Vec<DisableRule>,
}

impl IgnoreEntry {
    fn matches(&self, f: &Finding, rel_path: &str) -> bool {
        self.line == f.location.line
            && self.path == rel_path
            && self.patterns.iter().any(|p| p.matches(&f.rule_id))
            && self.commit.as_ref().is_none_or(|c| {
                crate::report::commit_of(f).is_some_and(|fc| fc.id.starts_with(c.as_str()))
            })
    }
}

/// The entries of a repository's ignore files and what could not be used.
#[derive(Debug, Default)]
pub struct IgnoreFiles {
    pub entries: Vec<IgnoreEntry>,
    /// One warning per entry that suppresses nothing, naming file and line.
    pub warnings: Vec<String>,
}

impl IgnoreFiles {
    /// Reads the ignore files at `root` (none is fine). `rule_known` says whether a rule id
    /// is in the scope's rule set.
    pub fn load(root: &Path, rule_known: &dyn Fn(&str) -> bool) -> Result<IgnoreFiles, ReadError> {
        let mut all = IgnoreFiles::default();
        for name in IGNORE_FILES {
            let path = root.join(name);
            if path.symlink_metadata().is_err() {
                continue;
            }
            let text = read_text(&path, MAX_TEXT_FILE, Some(root))?;
            all.parse(name, &text, rule_known);
        }
        Ok(all)
    }

    /// Adds the entries of one file's text.
    pub fn parse(&mut self, name: &str, text: &str, rule_known: &dyn Fn(&str) -> bool) {
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let origin = format!("{name}:{}", i + 1);
            match parse_fingerprint(line) {
                None => self.warnings.push(format!(
                    "{origin}: not a gitleaks fingerprint (file:rule:line or \
                     commit:file:rule:line); it suppresses nothing"
                )),
                Some((commit, path, rule, n)) => {
                    let patterns: Vec<DisableRule> = rule_map::keyhound_patterns(rule)
                        .into_iter()
                        .map(|p| DisableRule {
                            pattern: p,
                            source: RulePatternSource::DisableFlag,
                        })
                        .collect();
                    if !rule_map::has_builtin(rule)
                        && !rule_known(
                            &crate::rules::gitleaks::keyhound_id(rule).unwrap_or_default(),
                        )
                    {
                        self.warnings.push(format!(
                            "{origin}: gitleaks rule `{}` has no keyhound counterpart (and no \
                             .gitleaks.toml defines it); it suppresses nothing",
                            short(rule)
                        ));
                        continue;
                    }
                    self.entries.push(IgnoreEntry {
                        origin,
                        commit: commit.map(str::to_string),
                        path: path.replace('\\', "/"),
                        line: n,
                        patterns,
                    });
                }
            }
        }
    }

    /// Removes the findings an entry matches; returns how many. `rel_path` gives a finding's
    /// path relative to the repository root.
    pub fn apply(
        &self,
        findings: &mut Vec<Finding>,
        rel_path: &dyn Fn(&Finding) -> String,
    ) -> usize {
        if self.entries.is_empty() {
            return 0;
        }
        let before = findings.len();
        findings.retain(|f| {
            let rel = rel_path(f);
            !self.entries.iter().any(|e| e.matches(f, &rel))
        });
        before - findings.len()
    }
}

/// A rule id as messages show it: sanitised and short.
fn short(s: &str) -> String {
    let s = sanitize(s);
    if s.chars().count() > 64 {
        format!("{}…", s.chars().take(64).collect::<String>())
    } else {
        s
    }
}

/// `commit:file:rule:line` or `file:rule:line` → (commit, file, rule, line). The line and
/// rule are the last two fields, so a path may itself contain `:`; a commit is 40 or 64 hex
/// digits.
fn parse_fingerprint(s: &str) -> Option<(Option<&str>, &str, &str, usize)> {
    let (rest, line) = s.rsplit_once(':')?;
    let line: usize = line.trim().parse().ok().filter(|&n| n > 0)?;
    let (rest, rule) = rest.rsplit_once(':')?;
    if rule.is_empty() {
        return None;
    }
    let commit = rest
        .split_once(':')
        .filter(|(c, _)| matches!(c.len(), 40 | 64) && c.bytes().all(|b| b.is_ascii_hexdigit()));
    let (commit, path) = match commit {
        Some((c, p)) => (Some(c), p),
        None => (None, rest),
    };
    (!path.is_empty()).then_some((commit, path, rule, line))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_parse() {
        let c = "0123456789abcdef0123456789abcdef01234567";
        assert_eq!(
            parse_fingerprint(&format!("{c}:src/a.py:github-pat:12")),
            Some((Some(c), "src/a.py", "github-pat", 12))
        );
        assert_eq!(
            parse_fingerprint("src/a.py:github-pat:3"),
            Some((None, "src/a.py", "github-pat", 3))
        );
        assert_eq!(
            parse_fingerprint("C:/x/a.py:aws-access-token:3"),
            Some((None, "C:/x/a.py", "aws-access-token", 3))
        );
        assert_eq!(parse_fingerprint("src/a.py:github-pat:x"), None);
        assert_eq!(parse_fingerprint("just-text"), None);
        assert_eq!(parse_fingerprint("a.py::3"), None);
    }

    #[test]
    fn unmappable_entries_are_reported_by_line() {
        let mut f = IgnoreFiles::default();
        f.parse(
            ".gitleaksignore",
            "# comment\nsrc/a.py:github-pat:3\nsrc/b.py:adafruit-api-key:4\nnonsense\nsrc/c.py:custom:1\n",
            &|id| id == "gitleaks.custom",
        );
        assert_eq!(f.entries.len(), 2);
        assert_eq!(f.warnings.len(), 2);
        assert!(f.warnings[0].starts_with(".gitleaksignore:3: gitleaks rule `adafruit-api-key`"));
        assert!(f.warnings[1].starts_with(".gitleaksignore:4: not a gitleaks fingerprint"));
    }
}
