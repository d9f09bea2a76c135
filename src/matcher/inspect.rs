//! Structural checks a rule asks for with `inspect:`. A regex finds the candidate; the check
//! reads it (a JWT's header and claims, a PEM body's DER, a connection string's host) and
//! decides whether it is reported, with which confidence and which details.
//!
//! Everything here reads scanned content, which is hostile: sizes are bounded before decoding,
//! parsing never panics, and every value copied into a `Detail` is cut short and stripped of
//! control characters.

use std::ops::Range;

use super::{connection, csv, jwt, pem};
use crate::finding::{Confidence, Detail};

pub use crate::rules::syntax::Inspect;

/// What a check concluded about a match it accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub confidence: Confidence,
    pub details: Vec<Detail>,
    /// The secret, when the check narrows the match to part of it (a CSV field).
    pub secret: Option<Range<usize>>,
}

/// A match as a check sees it.
pub struct Candidate<'a> {
    /// The whole input the match was found in.
    pub hay: &'a [u8],
    /// The regex match.
    pub whole: Range<usize>,
    /// The secret.
    pub secret: Range<usize>,
    /// The capture group named `host`, when the pattern has one and it matched.
    pub host: Option<Range<usize>>,
    /// The rule's `weak` patterns match the secret.
    pub weak: bool,
    /// The rule's confidence.
    pub confidence: Confidence,
}

impl Inspect {
    pub fn run(self, c: &Candidate<'_>) -> Option<Verdict> {
        match self {
            Inspect::Jwt => jwt::inspect(c),
            Inspect::PrivateKey => pem::inspect(c),
            Inspect::Connection => connection::inspect(c),
            Inspect::CsvColumn => csv::inspect(c),
        }
    }
}

/// What `apply` settled on: the secret (a check may narrow it), the confidence the check set
/// (`None`: the rule's own rules decide) and the details.
pub(super) struct Checked {
    pub secret: Range<usize>,
    pub confidence: Option<Confidence>,
    pub details: Vec<Detail>,
}

/// Runs a rule's check on a confirmed match: `None` rejects it. Rules without `inspect` pass
/// unchanged.
pub(super) fn apply(
    rule: &crate::rules::Rule,
    hay: &[u8],
    caps: &regex_automata::util::captures::Captures,
    secret: Range<usize>,
) -> Option<Checked> {
    let Some(kind) = rule.inspect else {
        return Some(Checked {
            secret,
            confidence: None,
            details: Vec::new(),
        });
    };
    let compiled = rule.compiled().ok()?;
    let whole = caps.get_match()?.range();
    let host = compiled
        .group_info()
        .to_index(regex_automata::PatternID::ZERO, "host")
        .and_then(|g| caps.get_group(g))
        .map(|s| s.range());
    let weak = rule
        .extras()
        .ok()?
        .weak
        .as_ref()
        .is_some_and(|w| w.is_match(&hay[secret.clone()]));
    let v = kind.run(&Candidate {
        hay,
        whole,
        secret: secret.clone(),
        host,
        weak,
        confidence: rule.confidence,
    })?;
    Some(Checked {
        secret: v.secret.unwrap_or(secret),
        confidence: Some(v.confidence),
        details: v.details,
    })
}

/// Longest value a detail keeps, in characters.
const MAX_DETAIL: usize = 100;

/// A detail from scanned text: control and bidirectional-override characters dropped, cut to
/// `MAX_DETAIL` characters.
pub fn detail(name: &'static str, value: &str) -> Detail {
    let mut v: String = value
        .chars()
        .filter(|c| {
            !c.is_control() && !matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
        })
        .take(MAX_DETAIL + 1)
        .collect();
    if v.chars().count() > MAX_DETAIL {
        v = v.chars().take(MAX_DETAIL - 1).collect::<String>() + "…";
    }
    Detail { name, value: v }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn details_are_cleaned_and_bounded() {
        let d = detail("issuer", "a\u{1b}[31mb\u{202E}c");
        assert_eq!(d.value, "a[31mbc");
        let long = "x".repeat(500);
        let d = detail("issuer", &long);
        assert_eq!(d.value.chars().count(), MAX_DETAIL);
        assert!(d.value.ends_with('…'));
    }
}
