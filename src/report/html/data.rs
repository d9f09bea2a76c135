//! The findings as the page's script reads them: one JSON document with repositories, rules and
//! commits listed once and findings pointing at them by index. Every string that came from
//! outside keyhound is sanitised here, so the summary and the table show the same text.

use std::collections::HashMap;

use serde::Serialize;

use super::super::{action, sanitize, Report};
use crate::finding::{Commit, Confidence, Finding, Origin, Repository};

/// Everything the page shows about the findings.
#[derive(Serialize)]
pub struct Data {
    pub redacted: bool,
    pub repos: Vec<RepoView>,
    pub rules: Vec<RuleView>,
    pub commits: Vec<CommitView>,
    /// What to do about a secret found in history, by `Row::action`.
    pub actions: Vec<&'static str>,
    pub findings: Vec<Row>,
}

#[derive(Serialize)]
pub struct RepoView {
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote: Option<String>,
}

#[derive(Serialize)]
pub struct RuleView {
    pub id: String,
    pub name: String,
    pub provider: String,
    /// Where the key is rotated, as text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rotate: Option<String>,
    /// The same URL when it may become a link (`https://` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rotate_href: Option<String>,
}

#[derive(Serialize)]
pub struct CommitView {
    pub id: String,
    pub short: String,
    pub author: String,
    pub email: String,
    pub date: String,
    pub summary: String,
}

/// One finding.
#[derive(Serialize)]
pub struct Row {
    pub rule: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repo: Option<usize>,
    pub path: String,
    pub line: usize,
    pub column: usize,
    /// The short id of the commit the location is in, for locations only a commit holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    /// The commit of the location, or the one that introduced the secret at this path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<usize>,
    pub origin: &'static str,
    pub confidence: Confidence,
    /// `valid`, `invalid`, `unknown` or `unchecked`.
    pub validity: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validation: Option<String>,
    /// `yes` (still in HEAD), `no` (only in history) or `n/a` (git knows no history of it).
    pub head: &'static str,
    /// Distinct commits that hold the secret at this path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commits: Option<usize>,
    /// Index into `Data::actions`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<usize>,
    pub secret: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partner: Option<String>,
    pub snippet: String,
    pub fingerprint: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decoded_from: Option<&'static str>,
    /// The date (`YYYY-MM-DD`) of the commit that introduced the secret, for the timeline.
    #[serde(skip)]
    pub introduced: Option<String>,
}

/// Interns values by key: each is listed once and referred to by index.
struct Table<T> {
    index: HashMap<String, usize>,
    items: Vec<T>,
}

impl<T> Default for Table<T> {
    fn default() -> Self {
        Table {
            index: HashMap::new(),
            items: Vec::new(),
        }
    }
}

impl<T> Table<T> {
    fn get(&mut self, key: &str, make: impl FnOnce() -> T) -> usize {
        if let Some(&i) = self.index.get(key) {
            return i;
        }
        self.items.push(make());
        self.index.insert(key.to_string(), self.items.len() - 1);
        self.items.len() - 1
    }
}

/// The shared values findings point at.
#[derive(Default)]
struct Tables {
    repos: Table<RepoView>,
    rules: Table<RuleView>,
    commits: Table<CommitView>,
    actions: Table<&'static str>,
}

/// A finding's indices into the tables.
struct Refs {
    rule: usize,
    repo: Option<usize>,
    commit: Option<usize>,
    action: Option<usize>,
}

impl Tables {
    fn refs(&mut self, f: &Finding) -> Refs {
        Refs {
            rule: self.rules.get(&f.rule_id, || rule_view(f)),
            repo: f.origin.repository().map(|p| {
                let key = format!("{}\0{}", p.path, p.remote.as_deref().unwrap_or(""));
                self.repos.get(&key, || repo_view(p))
            }),
            commit: shown_commit(f).map(|c| self.commits.get(&c.id, || commit_view(c))),
            action: f.origin.history().map(|h| {
                let text = action(h);
                self.actions.get(text, || text)
            }),
        }
    }
}

impl Data {
    pub fn new(r: &Report<'_>) -> Data {
        let mut t = Tables::default();
        let findings = r.findings.iter().map(|f| row(r, f, t.refs(f))).collect();
        Data {
            redacted: !r.show_secrets,
            repos: t.repos.items,
            rules: t.rules.items,
            commits: t.commits.items,
            actions: t.actions.items,
            findings,
        }
    }
}

/// The commit shown with a finding: the one its location is in, else the one that introduced
/// the secret at its path.
fn shown_commit(f: &Finding) -> Option<&Commit> {
    f.origin
        .commit()
        .or_else(|| f.origin.history().and_then(|h| h.introduced.as_ref()))
}

fn row(r: &Report<'_>, f: &Finding, refs: Refs) -> Row {
    let history = f.origin.history();
    let at = match &f.origin {
        Origin::File { .. } | Origin::Stdin => None,
        other => other.commit().map(|c| sanitize(&c.id[..c.id.len().min(8)])),
    };
    Row {
        rule: refs.rule,
        repo: refs.repo,
        path: sanitize(&f.location.path),
        line: f.location.line,
        column: f.location.column,
        at,
        commit: refs.commit,
        origin: f.origin.kind(),
        confidence: f.confidence,
        validity: f
            .validation
            .as_ref()
            .map_or("unchecked", |v| v.state.as_str()),
        validation: f.validation.as_ref().map(validation_text),
        head: match history {
            Some(h) if h.in_head => "yes",
            Some(_) => "no",
            None => "n/a",
        },
        commits: history.map(|h| h.commits),
        action: refs.action,
        secret: r.secret_text(f),
        partner: r.partner_text(f),
        snippet: r.snippet(f),
        fingerprint: f.fingerprint.as_str().to_string(),
        decoded_from: f.decoded_from,
        introduced: history
            .and_then(|h| h.introduced.as_ref())
            .map(|c| sanitize(&c.date[..c.date.len().min(10)])),
    }
}

fn rule_view(f: &Finding) -> RuleView {
    let rotate = f.rotate.as_deref().map(sanitize);
    RuleView {
        id: sanitize(&f.rule_id),
        name: sanitize(&f.rule_name),
        provider: sanitize(&f.provider),
        rotate_href: f
            .rotate
            .as_deref()
            .filter(|u| is_https(u))
            .map(String::from),
        rotate,
    }
}

/// Whether `url` may become a link: an `https://` URL with nothing in it that a browser
/// would strip or reinterpret (white space, control characters, quotes, angle brackets).
pub fn is_https(url: &str) -> bool {
    let lower = url.get(..8).map(str::to_ascii_lowercase);
    lower.as_deref() == Some("https://")
        && url.len() > 8
        && url
            .chars()
            .all(|c| c.is_ascii_graphic() && !matches!(c, '"' | '\'' | '<' | '>' | '`' | '\\'))
}

fn repo_view(p: &Repository) -> RepoView {
    RepoView {
        path: sanitize(&p.path),
        remote: p.remote.as_deref().map(sanitize),
    }
}

fn commit_view(c: &Commit) -> CommitView {
    CommitView {
        id: sanitize(&c.id),
        short: sanitize(c.short_id()),
        author: sanitize(&c.author),
        email: sanitize(&c.email),
        date: sanitize(&c.date),
        summary: sanitize(&c.summary),
    }
}

fn validation_text(v: &crate::finding::Validation) -> String {
    let mut parts = vec![sanitize(&v.summary())];
    if let Some(s) = v.http_status {
        parts.push(format!("HTTP {s}"));
    }
    if let Some(i) = &v.identity {
        parts.push(format!("identity {}", sanitize(i)));
    }
    if !v.scopes.is_empty() {
        parts.push(format!("scopes {}", sanitize(&v.scopes.join(", "))));
    }
    if let Some(k) = &v.key_type {
        parts.push(format!("key type {}", sanitize(k)));
    }
    if let Some(e) = &v.expiry {
        parts.push(format!("expires {}", sanitize(e)));
    }
    parts.join(" · ")
}

/// The data as it may stand inside `<script type="application/json">`: JSON with `<`, `>` and
/// `&` escaped as `\u003c`, `\u003e` and `\u0026`, so no `</script>` or `<!--` can end or
/// change the block, and with the line separators JavaScript once treated as line ends escaped
/// too. `JSON.parse` reads the same strings back.
pub fn script_json(data: &Data) -> serde_json::Result<String> {
    let json = serde_json::to_string(data)?;
    let mut out = String::with_capacity(json.len() + json.len() / 32);
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    Ok(out)
}

/// The validity values, as the data names them and as people read them, in the order the page
/// lists them.
pub const VALIDITIES: [(&str, &str); 4] = [
    ("valid", "valid"),
    ("invalid", "invalid"),
    ("unknown", "unknown"),
    ("unchecked", "not checked"),
];
