//! The rule file format as written on disk (YAML). Parsed syntax is kept apart from the
//! compiled `Rule`: this module only describes shape, `rules::compile` gives it meaning.
//!
//! The schema is documented in `rules/README.md`; keep the two in step.

use serde::Deserialize;

use crate::finding::Confidence;

/// One rule file: an optional provider that its rules inherit, the rules, and optional
/// global filters that apply to every rule.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFileSyntax {
    pub provider: Option<String>,
    #[serde(default)]
    pub rules: Vec<RuleSyntax>,
    pub filters: Option<FiltersSyntax>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSyntax {
    pub id: String,
    pub name: String,
    pub provider: Option<String>,
    pub keywords: Vec<String>,
    pub pattern: String,
    pub min_entropy: Option<f64>,
    #[serde(default = "default_confidence")]
    pub confidence: Confidence,
    pub rotate: Option<String>,
    #[serde(default)]
    pub examples: Vec<ExampleSyntax>,
    #[serde(default)]
    pub negative_examples: Vec<String>,
    pub checksum: Option<ChecksumKind>,
    pub pair: Option<PairSyntax>,
    /// Bytes searched on each side of a keyword hit. Defaults to the pattern's maximum
    /// match length when that is bounded, else 512.
    pub window: Option<usize>,
    /// Regexes on the captured secret; a secret matching any of them is not reported.
    #[serde(default)]
    pub allow: Vec<String>,
    /// Apply the generic-value heuristics (see `matcher::generic`) to the captured value.
    #[serde(default)]
    pub generic: bool,
    /// Ignore the global `filters` for this rule (for formats whose values legitimately
    /// look like placeholders to those filters).
    #[serde(default)]
    pub skip_global_filters: bool,
}

fn default_confidence() -> Confidence {
    Confidence::Medium
}

/// An example the rule must match. Either just the text, or the text and the exact secret
/// the rule must capture from it.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum ExampleSyntax {
    Text(String),
    WithSecret { text: String, secret: String },
}

impl ExampleSyntax {
    pub fn text(&self) -> &str {
        match self {
            ExampleSyntax::Text(t) => t,
            ExampleSyntax::WithSecret { text, .. } => text,
        }
    }

    pub fn secret(&self) -> Option<&str> {
        match self {
            ExampleSyntax::Text(_) => None,
            ExampleSyntax::WithSecret { secret, .. } => Some(secret),
        }
    }
}

/// Offline checksum schemes a rule can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChecksumKind {
    /// GitHub and npm tokens: `prefix_` + 30 base62 characters + 6-character base62 CRC32 of
    /// those 30 characters.
    Crc32Base62,
}

/// Two-part credentials (an id and a secret): this rule's secret is reported together with the
/// nearest match of rule `with` that lies within `within_lines` lines.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PairSyntax {
    pub with: String,
    #[serde(default = "default_within_lines")]
    pub within_lines: usize,
}

fn default_within_lines() -> usize {
    10
}

/// Filters that apply to the captured secret of every rule.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FiltersSyntax {
    /// Regexes: a secret matching any of them is a placeholder, not a finding.
    #[serde(default)]
    pub placeholders: Vec<String>,
    /// Case-insensitive substrings: a secret containing any of them is not a finding.
    #[serde(default)]
    pub stopwords: Vec<String>,
    /// A run of this many identical characters marks a secret as a placeholder.
    pub max_repeat: Option<usize>,
    /// Regexes that reject the value of a generic rule (paths, versions, code references).
    #[serde(default)]
    pub generic_ignore: Vec<String>,
}
