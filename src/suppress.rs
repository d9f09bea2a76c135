//! Suppression: inline allow comments and baselines.
//!
//! Owns the allow markers (`keyhound:allow`, and `gitleaks:allow` / `pragma: allowlist secret`
//! for migration) and the baseline file format. It decides whether a finding is suppressed;
//! it never hides one silently: callers count what was suppressed and report the counts.
//!
//! Allow comments need the scanned bytes, so the scanner checks them while it still has the
//! bytes, and only on the lines that have findings. Baselines work
//! on finished findings: they are keyed by the content fingerprint (rule id + secret hash), so
//! a baselined secret stays suppressed wherever it moves and a different secret never is.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::finding::Finding;

/// Markers that suppress findings on their own line or on the line after.
pub const ALLOW_MARKERS: &[&str] = &[
    "keyhound:allow",
    "gitleaks:allow",
    "pragma: allowlist secret",
    "pragma: allowlist nextline secret",
];

/// Start offsets of every line of a blob, built only for blobs that have findings.
pub struct Lines<'a> {
    hay: &'a [u8],
    starts: Vec<usize>,
}

impl<'a> Lines<'a> {
    pub fn new(hay: &'a [u8]) -> Self {
        let mut starts = Vec::with_capacity(hay.len() / 32 + 1);
        starts.push(0);
        starts.extend(memchr::memchr_iter(b'\n', hay).map(|i| i + 1));
        Lines { hay, starts }
    }

    /// Line `n` (1-based) without its line terminator (`\n` or `\r\n`); `None` when out of range.
    pub fn get(&self, n: usize) -> Option<&'a [u8]> {
        let start = *self.starts.get(n.checked_sub(1)?)?;
        if start > self.hay.len() || (start == self.hay.len() && n > 1) {
            return None;
        }
        let end = self
            .starts
            .get(n)
            .map_or(self.hay.len(), |next| next - 1)
            .max(start);
        let line = &self.hay[start..end];
        Some(line.strip_suffix(b"\r").unwrap_or(line))
    }

    /// Every line, in order.
    pub fn iter(&self) -> impl Iterator<Item = &'a [u8]> + '_ {
        (1..=self.starts.len()).filter_map(|n| self.get(n))
    }
}

/// True when `line` carries an allow marker.
pub fn has_allow_marker(line: &[u8]) -> bool {
    // Cheap pre-check: every marker contains "allow".
    memchr::memmem::find(line, b"allow").is_some()
        && ALLOW_MARKERS
            .iter()
            .any(|m| memchr::memmem::find(line, m.as_bytes()).is_some())
}

/// True when an allow marker sits on `line` (1-based) or on the line before it.
pub fn allowed_by_comment(lines: &Lines<'_>, line: usize) -> bool {
    let on = |n: usize| lines.get(n).is_some_and(has_allow_marker);
    on(line) || (line > 1 && on(line - 1))
}

/// Errors reading or writing a baseline.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("cannot read the baseline")]
    Read(#[from] crate::files::ReadError),
    #[error("{file}:{line}:{column}: {message}")]
    Parse {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{file}: unsupported baseline version {version} (this keyhound writes version 1)")]
    Version { file: String, version: u32 },
    #[error("{file}: entry {rule_id} {fingerprint}: `expires` is not a date (YYYY-MM-DD)")]
    Expires {
        file: String,
        rule_id: String,
        fingerprint: String,
    },
}

/// One accepted finding: the rule and the fingerprint of its secret. Never the secret itself,
/// never a line number, never a timestamp, so the file only changes when the set does.
/// Optional triage fields record why it was accepted, who owns it and until when.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineEntry {
    pub rule_id: String,
    pub fingerprint: String,
    /// The rule's name, for the humans who review the file. Ignored when matching.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_name: Option<String>,
    /// Why the finding is accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Who answers for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// `YYYY-MM-DD`: the last day the entry suppresses; after it, the finding is reported
    /// again and a warning names the entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
}

/// Triage fields to write on new entries.
#[derive(Debug, Clone, Default)]
pub struct Triage {
    pub reason: Option<String>,
    pub owner: Option<String>,
    pub expires: Option<jiff::civil::Date>,
}

impl BaselineEntry {
    /// The expiry date; `load` has checked it parses.
    fn expiry(&self) -> Option<jiff::civil::Date> {
        self.expires.as_deref().and_then(|d| d.parse().ok())
    }

    /// Whether the entry has expired on `today`.
    pub fn expired(&self, today: jiff::civil::Date) -> bool {
        self.expiry().is_some_and(|d| d < today)
    }

    fn with(mut self, t: &Triage) -> Self {
        self.reason = t.reason.clone().or(self.reason);
        self.owner = t.owner.clone().or(self.owner);
        self.expires = t.expires.map(|d| d.to_string()).or(self.expires);
        self
    }
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct BaselineFile {
    version: u32,
    #[serde(default)]
    findings: Vec<BaselineEntry>,
}

const BASELINE_HEADER: &str = "\
# keyhound baseline: findings accepted as known. Each entry is a rule id and the fingerprint of
# a secret (a hash; the secret itself is not stored). Regenerate with `keyhound baseline create`.
";

/// A loaded baseline.
#[derive(Debug)]
pub struct Baseline {
    pub path: PathBuf,
    entries: BTreeMap<(String, String), BaselineEntry>,
}

/// What applying a baseline did.
#[derive(Debug, Default)]
pub struct BaselineOutcome {
    /// Findings the baseline suppressed.
    pub suppressed: usize,
    /// Entries that matched nothing in this run, sorted.
    pub stale: Vec<BaselineEntry>,
    /// Entries past their `expires` date: they suppressed nothing.
    pub expired: Vec<BaselineEntry>,
}

impl Baseline {
    /// Reads the baseline at `path`; with `inside`, it must resolve under that directory.
    pub fn load(path: &Path, inside: Option<&Path>) -> Result<Baseline, BaselineError> {
        let file = path.display().to_string();
        let text = crate::files::read_text(path, crate::files::MAX_TEXT_FILE, inside)?;
        let parsed: BaselineFile = serde_yaml::from_str(&text).map_err(|e| {
            let (line, column) = e
                .location()
                .map(|l| (l.line(), l.column()))
                .unwrap_or((0, 0));
            BaselineError::Parse {
                file: file.clone(),
                line,
                column,
                message: crate::files::redact_message(&crate::rules::strip_location(
                    &e.to_string(),
                )),
            }
        })?;
        if parsed.version != 1 {
            return Err(BaselineError::Version {
                file,
                version: parsed.version,
            });
        }
        if let Some(e) = parsed
            .findings
            .iter()
            .find(|e| e.expires.is_some() && e.expiry().is_none())
        {
            return Err(BaselineError::Expires {
                file,
                rule_id: crate::text::sanitize(&e.rule_id),
                fingerprint: crate::text::sanitize(&e.fingerprint),
            });
        }
        let entries = parsed
            .findings
            .into_iter()
            .map(|e| ((e.rule_id.clone(), e.fingerprint.clone()), e))
            .collect();
        Ok(Baseline {
            path: path.to_path_buf(),
            entries,
        })
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn key(f: &Finding) -> (String, String) {
        (f.rule_id.clone(), f.fingerprint.as_str().to_string())
    }

    /// Removes baselined findings from `findings`. Stale entries are those that matched none
    /// of `findings`; they are only meaningful when the run saw everything the baseline
    /// covers (a full scan), so the caller decides whether to report them.
    /// Entries past their `expires` date on `today` suppress nothing.
    pub fn apply(&self, findings: &mut Vec<Finding>, today: jiff::civil::Date) -> BaselineOutcome {
        let mut used: BTreeSet<(String, String)> = BTreeSet::new();
        let before = findings.len();
        findings.retain(|f| {
            let key = Self::key(f);
            match self.entries.get(&key) {
                Some(e) if !e.expired(today) => {
                    used.insert(key);
                    false
                }
                _ => true,
            }
        });
        let (expired, live): (Vec<_>, Vec<_>) =
            self.entries.values().partition(|e| e.expired(today));
        let stale = live
            .into_iter()
            .filter(|e| !used.contains(&(e.rule_id.clone(), e.fingerprint.clone())))
            .cloned()
            .collect();
        BaselineOutcome {
            suppressed: before - findings.len(),
            stale,
            expired: expired.into_iter().cloned().collect(),
        }
    }
}

/// Renders a baseline of `findings`: one entry per (rule id, fingerprint), sorted, with a
/// fixed header, so the same findings always produce the same bytes. `triage` fields are
/// written on every entry. Returns the text and the number of entries.
pub fn render_baseline(findings: &[Finding], triage: &Triage) -> (String, usize) {
    let entries: BTreeSet<BaselineEntry> = findings
        .iter()
        .map(|f| {
            BaselineEntry {
                rule_id: f.rule_id.clone(),
                fingerprint: f.fingerprint.as_str().to_string(),
                rule_name: Some(f.rule_name.clone()),
                ..BaselineEntry::default()
            }
            .with(triage)
        })
        .collect();
    // Two names for one (rule, fingerprint) cannot happen: the name comes from the rule.
    render_entries(entries)
}

/// Renders `entries` as a baseline file; returns the text and the number of entries.
pub fn render_entries(entries: BTreeSet<BaselineEntry>) -> (String, usize) {
    let n = entries.len();
    let file = BaselineFile {
        version: 1,
        findings: entries.into_iter().collect(),
    };
    let body = serde_yaml::to_string(&file).unwrap_or_else(|_| "version: 1\nfindings: []\n".into());
    (format!("{BASELINE_HEADER}{body}"), n)
}

/// Applies `triage` to every entry.
pub fn with_triage(entries: BTreeSet<BaselineEntry>, triage: &Triage) -> BTreeSet<BaselineEntry> {
    entries.into_iter().map(|e| e.with(triage)).collect()
}

impl fmt::Display for BaselineEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.rule_id, self.fingerprint)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_strip_terminators() {
        let l = Lines::new(b"a\r\nbb\n\nlast");
        assert_eq!(l.get(1), Some(&b"a"[..]));
        assert_eq!(l.get(2), Some(&b"bb"[..]));
        assert_eq!(l.get(3), Some(&b""[..]));
        assert_eq!(l.get(4), Some(&b"last"[..]));
        assert_eq!(l.get(5), None);
        assert_eq!(l.get(0), None);
        let t = Lines::new(b"x\n");
        assert_eq!(t.iter().collect::<Vec<_>>(), vec![&b"x"[..]]);
    }

    #[test]
    fn markers() {
        assert!(has_allow_marker(b"key = 'x' # keyhound:allow"));
        assert!(has_allow_marker(b"// gitleaks:allow"));
        assert!(has_allow_marker(b"x = 1  # pragma: allowlist secret"));
        assert!(has_allow_marker(b"# pragma: allowlist nextline secret"));
        assert!(!has_allow_marker(b"keyhound: allow"));
        assert!(!has_allow_marker(b"allow = true"));
    }
}
