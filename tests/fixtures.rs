//! Fixture-driven accuracy tests.
//!
//! - `fixtures/positives/<provider>.txt`: every non-empty line holds one fake secret and must
//!   yield exactly one finding;
//! - `fixtures/positives/multiline/*`: every file must yield exactly one finding;
//! - `fixtures/negatives/**`: no file may yield any finding.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use keyhound::matcher::Matcher;
use keyhound::rules::RuleSet;
use keyhound::scan::{BlobFinding, Scanner};

fn scanner() -> Scanner {
    let set = Arc::new(RuleSet::builtin().expect("built-in rules load"));
    Scanner::new(Matcher::new(set).expect("matcher builds"))
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The matcher's findings in `text`, without those of path rules (credential files): those
/// count only at a path their rule takes, and fixtures have no such path.
fn find(s: &Scanner, text: &[u8], scratch: &mut keyhound::matcher::Scratch) -> Vec<BlobFinding> {
    let mut found = s.find(text, scratch);
    found.retain(|f| s.rules().rules[f.rule].path.is_none());
    found
}

fn describe(s: &Scanner, f: &BlobFinding) -> String {
    format!(
        "{}:{} {} [{}]",
        f.line,
        f.column,
        s.rules().rules[f.rule].id,
        f.secret.redacted()
    )
}

#[test]
fn every_positive_line_yields_exactly_one_finding() {
    let s = scanner();
    let mut scratch = s.scratch();
    let mut failures = Vec::new();
    let mut files = 0;
    let mut lines_checked = 0;
    for path in files_under(&fixtures().join("positives")) {
        if path.parent().is_some_and(|p| p.ends_with("multiline")) {
            continue;
        }
        files += 1;
        let text = std::fs::read(&path).unwrap();
        let found = find(&s, &text, &mut scratch);
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        for (i, line) in text.split(|&b| b == b'\n').enumerate() {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            lines_checked += 1;
            let on_line: Vec<String> = found
                .iter()
                .filter(|f| f.line == i + 1)
                .map(|f| describe(&s, f))
                .collect();
            if on_line.len() != 1 {
                failures.push(format!(
                    "{name}:{}: expected 1 finding, got {}: {on_line:?}",
                    i + 1,
                    on_line.len()
                ));
            }
        }
        for f in found.iter().filter(|f| f.end_line != f.line) {
            failures.push(format!("{name}: finding spans lines: {}", describe(&s, f)));
        }
    }
    assert!(files > 0, "no positive fixtures found");
    assert!(
        failures.is_empty(),
        "{} of {lines_checked} lines failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_multiline_positive_file_yields_exactly_one_finding() {
    let s = scanner();
    let mut scratch = s.scratch();
    let dir = fixtures().join("positives").join("multiline");
    let mut failures = Vec::new();
    for path in files_under(&dir) {
        let text = std::fs::read(&path).unwrap();
        let found = find(&s, &text, &mut scratch);
        if found.len() != 1 {
            failures.push(format!(
                "{}: expected 1 finding, got {:?}",
                path.display(),
                found.iter().map(|f| describe(&s, f)).collect::<Vec<_>>()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn negatives_yield_nothing() {
    let s = scanner();
    let mut scratch = s.scratch();
    let mut failures = Vec::new();
    let files = files_under(&fixtures().join("negatives"));
    assert!(!files.is_empty(), "no negative fixtures found");
    for path in files {
        let text = std::fs::read(&path).unwrap();
        for f in find(&s, &text, &mut scratch) {
            failures.push(format!("{}:{}", path.display(), describe(&s, &f)));
        }
    }
    assert!(
        failures.is_empty(),
        "negatives produced findings:\n{}",
        failures.join("\n")
    );
}

#[test]
fn builtin_rules_pass_their_own_check() {
    let set = Arc::new(RuleSet::builtin_with_examples().unwrap());
    let n = set.rules.len();
    let problems = keyhound::rulecheck::check(set, |_| true).unwrap();
    let text: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
    assert!(text.is_empty(), "{}", text.join("\n"));
    assert!(n >= 4);
}
