//! `keyhound rules check`: every rule must compile, carry examples that contain one of its
//! keywords, match each example (capturing the declared secret), and match none of its
//! negative examples. A rule with `path` must take the path of each example that gives one
//! (at least one does) and none of its `negative_paths`; a binary rule's examples are hex. Rules imported from gitleaks configs carry no examples; for them the
//! check is that they were imported at all. Examples run through the whole matcher, global filters included, so a
//! rule that the filters would silence fails here rather than in the field.

use std::sync::Arc;

use crate::matcher::{Match, Matcher, MatcherError};
use crate::rules::text::clean;
use crate::rules::{Rule, RuleFormat, RuleSet};

/// One failed check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub rule_id: String,
    pub location: String,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Messages quote examples from rule files: cleaned before a terminal sees them.
        write!(
            f,
            "{}: rule `{}`: {}",
            clean(&self.location),
            clean(&self.rule_id),
            clean(&self.message)
        )
    }
}

/// Checks the rules selected by `which` (all of `set` is loaded, so the matcher sees every
/// rule and every filter as a real scan would).
pub fn check(
    set: Arc<RuleSet>,
    which: impl Fn(&Rule) -> bool,
) -> Result<Vec<Problem>, MatcherError> {
    let matcher = Matcher::new(Arc::clone(&set))?;
    let mut scratch = matcher.scratch();
    let mut problems = Vec::new();
    let filters = &set.filters;
    for (field, pats) in [
        ("placeholders", &filters.placeholders),
        ("generic_ignore", &filters.generic_ignore),
        ("generic_ignore_names", &filters.generic_ignore_names),
    ] {
        for p in pats {
            if let Err(e) = crate::rules::build_regex(p) {
                problems.push(Problem {
                    rule_id: format!("filters.{field}"),
                    location: "filters".into(),
                    message: format!("`{p}` does not compile: {e}"),
                });
            }
        }
    }
    for (idx, rule) in set.rules.iter().enumerate() {
        if !which(rule) {
            continue;
        }
        let mut fail = |message: String| {
            problems.push(Problem {
                rule_id: rule.id.clone(),
                location: rule.origin.to_string(),
                message,
            })
        };
        if let Err(e) = rule.compile_all() {
            fail(format!("pattern does not compile: {e}"));
            continue;
        }
        // gitleaks configs have neither examples nor rotate URLs; demanding them would fail
        // every imported rule. Their import warnings stand in for this check.
        let imported = rule.origin.format == RuleFormat::Gitleaks;
        if rule.examples.is_empty() && !imported {
            fail("has no examples".into());
        }
        if rule.rotate.is_none() && !rule.generic && rule.decode.is_none() && !imported {
            fail("has no `rotate` URL".into());
        }
        for p in path_problems(rule) {
            fail(p);
        }
        for ex in &rule.examples {
            let text = ex.text();
            let lower = text.to_ascii_lowercase();
            if !rule.keywords.is_empty()
                && !rule
                    .keywords
                    .iter()
                    .any(|k| lower.contains(&k.to_ascii_lowercase()))
            {
                fail(format!(
                    "example contains none of the keywords: {}",
                    shorten(text)
                ));
            }
            let Some(bytes) = example_bytes(rule, text) else {
                fail(format!("example is not hex: {}", shorten(text)));
                continue;
            };
            let captured = captures(&matcher, &mut scratch, idx, &bytes);
            if captured.is_empty() {
                fail(format!("example does not match: {}", shorten(text)));
            } else if let Some(want) = ex.secret() {
                if !captured.iter().any(|c| c == want) {
                    fail(format!(
                        "example captured {} instead of the declared secret {}",
                        captured.join(", "),
                        want
                    ));
                }
            }
        }
        for neg in &rule.negative_examples {
            let Some(bytes) = example_bytes(rule, neg) else {
                fail(format!("negative example is not hex: {}", shorten(neg)));
                continue;
            };
            let captured = captures(&matcher, &mut scratch, idx, &bytes);
            if !captured.is_empty() {
                fail(format!(
                    "negative example matches ({}): {}",
                    captured.join(", "),
                    shorten(neg)
                ));
            }
        }
    }
    // A gitleaks rule that could not be imported is a problem of the file it came from.
    for imp in &set.imports {
        for w in imp.skipped() {
            problems.push(Problem {
                rule_id: w.rule.clone().unwrap_or_default(),
                location: format!("{}:{}", w.file, w.line),
                message: format!("not imported: `{}`: {}", w.field, w.reason),
            });
        }
    }
    Ok(problems)
}

/// What is wrong with a rule's paths: an example path it does not take, a negative path it
/// takes, a path rule with no example path, an example path on a rule without `path`.
fn path_problems(rule: &Rule) -> Vec<String> {
    let mut out = Vec::new();
    let paths: Vec<&str> = rule.examples.iter().filter_map(|e| e.path()).collect();
    if rule.path.is_none() {
        if !paths.is_empty() || !rule.negative_paths.is_empty() {
            out.push("has example paths but no `path`".into());
        }
        return out;
    }
    if paths.is_empty() {
        out.push("has `path` but no example with a `path`".into());
    }
    for p in paths.iter().filter(|p| !rule.path_allows(p)) {
        out.push(format!("`path` does not take the example path {p}"));
    }
    for p in rule.negative_paths.iter().filter(|p| rule.path_allows(p)) {
        out.push(format!("`path` takes the negative path {p}"));
    }
    out
}

/// An example's bytes: the text, or for a binary rule the bytes its hex spells.
fn example_bytes(rule: &Rule, text: &str) -> Option<Vec<u8>> {
    if !rule.binary {
        return Some(text.as_bytes().to_vec());
    }
    let digits: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if digits.len() % 2 != 0 {
        return None;
    }
    digits
        .chunks(2)
        .map(|c| u8::from_str_radix(std::str::from_utf8(c).ok()?, 16).ok())
        .collect()
}

/// The secrets rule `idx` reports in `text`, directly or as another rule's pair partner.
/// A binary rule reports the matched bytes in hex, as a scan does.
fn captures(
    m: &Matcher,
    scratch: &mut crate::matcher::Scratch,
    idx: usize,
    text: &[u8],
) -> Vec<String> {
    let rules = &m.rules().rules;
    if rules[idx].binary {
        return m
            .find_binary(text, scratch)
            .into_iter()
            .filter(|x| x.rule == idx)
            .map(|x| crate::blob::hex(&text[x.span]))
            .collect();
    }
    let s = |r: std::ops::Range<usize>| String::from_utf8_lossy(&text[r]).into_owned();
    m.find(text, scratch)
        .into_iter()
        .filter_map(|x: Match| {
            if let Some(d) = &x.decoded {
                // A decode rule's examples are checked by what its decoded text yields.
                if d.via == idx || x.rule == idx {
                    return Some(String::from_utf8_lossy(&d.secret).into_owned());
                }
                return None;
            }
            if x.rule == idx {
                Some(s(x.span))
            } else if rules[x.rule].pair.is_some_and(|p| p.with == idx) {
                x.partner.map(s)
            } else {
                None
            }
        })
        .collect()
}

fn shorten(s: &str) -> String {
    let one_line = s.replace('\n', "⏎");
    if one_line.chars().count() > 100 {
        format!("{}…", one_line.chars().take(100).collect::<String>())
    } else {
        one_line
    }
}
