//! Combining the reports of several scans (the shards of one audit) into the report one scan of
//! everything would have written: JSON, JSON Lines and SARIF.
//!
//! Findings are kept exactly as their report wrote them (they are copied, not re-encoded),
//! de-duplicated by rule, fingerprint, location and commit, and ordered as a scan orders them
//! (path, line, column, rule, fingerprint, commit). Summaries are added up; every report's
//! errors are kept, de-duplicated, in a scan's order. SARIF rules are listed in order of
//! first use, and results renumbered to them.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::scan::Summary;

/// A report format `merge` reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Json,
    Jsonl,
    Sarif,
}

#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("{0}: not a keyhound JSON, JSON Lines or SARIF report")]
    Unknown(String),
    #[error("{0}: a report grouped by secret cannot be merged; merge the shards' plain reports")]
    Grouped(String),
    #[error("{name}: a {found} report among {expected} reports: merge reports of one format")]
    Mixed {
        name: String,
        found: &'static str,
        expected: &'static str,
    },
    #[error("{name}: {message}")]
    Bad { name: String, message: String },
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Json => "JSON",
            Kind::Jsonl => "JSON Lines",
            Kind::Sarif => "SARIF",
        }
    }
}

/// What a report is, from its content.
pub fn detect(name: &str, text: &str) -> Result<Kind, MergeError> {
    #[derive(Deserialize)]
    struct Probe {
        schema: Option<String>,
        #[serde(rename = "$schema")]
        sarif_schema: Option<String>,
        version: Option<serde::de::IgnoredAny>,
        runs: Option<serde::de::IgnoredAny>,
    }
    let trimmed = text.trim_start();
    if trimmed.is_empty() {
        // A shard with nothing to report writes an empty JSON Lines file.
        return Ok(Kind::Jsonl);
    }
    if let Ok(p) = serde_json::from_str::<Probe>(text) {
        if p.schema.as_deref() == Some(crate::report::JSON_SCHEMA) {
            return Ok(Kind::Json);
        }
        if p.schema.as_deref() == Some(crate::report::grouped::SCHEMA) {
            return Err(MergeError::Grouped(name.to_string()));
        }
        if p.runs.is_some() && (p.sarif_schema.is_some() || p.version.is_some()) {
            return Ok(Kind::Sarif);
        }
    }
    let first = trimmed.lines().next().unwrap_or("");
    match serde_json::from_str::<serde_json::Value>(first) {
        Ok(v) if v.get("rule_id").is_some() || v.get("error").is_some() => Ok(Kind::Jsonl),
        Ok(v) if v.get("locations").is_some() => Err(MergeError::Grouped(name.to_string())),
        _ => Err(MergeError::Unknown(name.to_string())),
    }
}

/// A shard with nothing to report writes an empty file: it goes with reports of any format and
/// adds nothing to them.
fn blank(text: &str) -> bool {
    text.trim().is_empty()
}

/// A merged report, and what it holds (for the exit code).
#[derive(Debug)]
pub struct Merged {
    pub kind: Kind,
    pub text: String,
    pub findings: usize,
    /// Findings confirmed live by `--validate`.
    pub live: usize,
    pub errors: usize,
}

/// Merges `reports` (name, text), which must all be of one format, into that format.
pub fn merge(reports: &[(String, String)]) -> Result<Merged, MergeError> {
    let mut kind = None;
    for (name, text) in reports.iter().filter(|(_, t)| !blank(t)) {
        let k = detect(name, text)?;
        match kind {
            None => kind = Some(k),
            Some(expected) if expected != k => {
                return Err(MergeError::Mixed {
                    name: name.clone(),
                    found: k.name(),
                    expected: expected.name(),
                })
            }
            _ => {}
        }
    }
    let kind = kind.unwrap_or(Kind::Jsonl);
    let mut merged = match kind {
        Kind::Json => merge_json(reports)?,
        Kind::Jsonl => merge_jsonl(reports)?,
        Kind::Sarif => merge_sarif(reports)?,
    };
    merged.kind = kind;
    Ok(merged)
}

/// A finding's place in a scan's order, read from its JSON.
#[derive(Deserialize)]
struct JsonKey {
    path: String,
    line: usize,
    column: usize,
    rule_id: String,
    fingerprint: String,
    origin: String,
    #[serde(default)]
    commit: Option<CommitId>,
    #[serde(default)]
    validation: Option<State>,
}

#[derive(Deserialize)]
struct CommitId {
    id: String,
}

/// A live check's state.
#[derive(Deserialize)]
struct State {
    state: String,
}

fn is_live(v: &Option<State>) -> bool {
    v.as_ref().is_some_and(|s| s.state == "valid")
}

type SortKey = (String, usize, usize, String, String, String);

impl JsonKey {
    /// As `Finding::sort_key`: the commit counts only where the location is in a commit.
    fn sort_key(self) -> SortKey {
        let commit = match self.origin.as_str() {
            "file" | "stdin" => String::new(),
            _ => self.commit.map(|c| c.id).unwrap_or_default(),
        };
        (
            self.path,
            self.line,
            self.column,
            self.rule_id,
            self.fingerprint,
            commit,
        )
    }
}

fn bad(name: &str, e: impl std::fmt::Display) -> MergeError {
    MergeError::Bad {
        name: name.to_string(),
        message: e.to_string(),
    }
}

/// Sorts items by key and drops repeated keys (the first copy stays).
fn order<T>(mut items: Vec<(SortKey, T)>) -> Vec<T> {
    items.sort_by(|a, b| a.0.cmp(&b.0));
    items.dedup_by(|a, b| a.0 == b.0);
    items.into_iter().map(|(_, t)| t).collect()
}

/// An error entry of a JSON report.
#[derive(Deserialize, Serialize, Clone, PartialEq, Eq)]
struct JsonError {
    path: String,
    message: String,
}

impl JsonError {
    /// A scan orders errors by how they read: `path: message`.
    fn key(&self) -> String {
        format!("{}: {}", self.path, self.message)
    }
}

fn sort_errors(errors: &mut Vec<JsonError>) {
    errors.sort_by_key(JsonError::key);
    errors.dedup();
}

fn merge_json(reports: &[(String, String)]) -> Result<Merged, MergeError> {
    #[derive(Deserialize)]
    struct In<'a> {
        schema: String,
        #[serde(borrow)]
        tool: &'a RawValue,
        #[serde(borrow)]
        findings: Vec<&'a RawValue>,
        summary: Summary,
        #[serde(borrow, default)]
        baseline: Option<&'a RawValue>,
        errors: Vec<JsonError>,
    }
    #[derive(Serialize)]
    struct Out<'a> {
        schema: &'a str,
        tool: &'a RawValue,
        findings: Vec<&'a RawValue>,
        summary: &'a Summary,
        #[serde(skip_serializing_if = "Option::is_none")]
        baseline: Option<&'a RawValue>,
        errors: Vec<JsonError>,
    }
    let mut docs = Vec::new();
    for (name, text) in reports.iter().filter(|(_, t)| !blank(t)) {
        let doc: In<'_> = serde_json::from_str(text).map_err(|e| bad(name, e))?;
        docs.push((name, doc));
    }
    let mut summary = Summary::default();
    let mut findings = Vec::new();
    let mut errors = Vec::new();
    for (name, d) in &docs {
        summary.add(&d.summary);
        for f in &d.findings {
            let key: JsonKey = serde_json::from_str(f.get()).map_err(|e| bad(name, e))?;
            let live = is_live(&key.validation);
            findings.push((key.sort_key(), (*f, live)));
        }
        errors.extend(d.errors.iter().cloned());
    }
    sort_errors(&mut errors);
    let findings = order(findings);
    let counts = (
        findings.len(),
        findings.iter().filter(|f| f.1).count(),
        errors.len(),
    );
    let first = docs.first().map(|(_, d)| d);
    let out = Out {
        schema: first.map_or(crate::report::JSON_SCHEMA, |d| d.schema.as_str()),
        tool: match first {
            Some(d) => d.tool,
            None => return Err(MergeError::Unknown("no report".into())),
        },
        findings: findings.iter().map(|f| f.0).collect(),
        summary: &summary,
        baseline: docs.iter().find_map(|(_, d)| d.baseline),
        errors,
    };
    let mut s = serde_json::to_string_pretty(&out).map_err(|e| bad("merged report", e))?;
    s.push('\n');
    Ok(counted(s, counts))
}

fn counted(text: String, (findings, live, errors): (usize, usize, usize)) -> Merged {
    Merged {
        kind: Kind::Json,
        text,
        findings,
        live,
        errors,
    }
}

fn merge_jsonl(reports: &[(String, String)]) -> Result<Merged, MergeError> {
    #[derive(Deserialize)]
    struct ErrorLine {
        error: JsonError,
    }
    let mut findings = Vec::new();
    let mut errors = Vec::new();
    for (name, text) in reports {
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            if let Ok(e) = serde_json::from_str::<ErrorLine>(line) {
                errors.push(e.error);
                continue;
            }
            let key: JsonKey = serde_json::from_str(line).map_err(|e| bad(name, e))?;
            let live = is_live(&key.validation);
            findings.push((key.sort_key(), (line, live)));
        }
    }
    sort_errors(&mut errors);
    let findings = order(findings);
    let counts = (
        findings.len(),
        findings.iter().filter(|f| f.1).count(),
        errors.len(),
    );
    let mut out = String::new();
    for (line, _) in findings {
        out.push_str(line);
        out.push('\n');
    }
    for e in errors {
        let line = serde_json::json!({ "error": e });
        out.push_str(&line.to_string());
        out.push('\n');
    }
    Ok(counted(out, counts))
}

fn merge_sarif(reports: &[(String, String)]) -> Result<Merged, MergeError> {
    let mut logs = Vec::new();
    for (name, text) in reports.iter().filter(|(_, t)| !blank(t)) {
        let log: sarif::Log<'_> = serde_json::from_str(text).map_err(|e| bad(name, e))?;
        if log.runs.len() != 1 {
            return Err(bad(name, "expected one run"));
        }
        logs.push((name, log));
    }
    let Some((_, first)) = logs.first() else {
        return Err(MergeError::Unknown("no report".into()));
    };
    let mut rules: Vec<(String, &RawValue)> = Vec::new();
    let mut results = Vec::new();
    let mut notes: Vec<(String, &RawValue)> = Vec::new();
    for (name, log) in &logs {
        let run = &log.runs[0];
        for r in &run.tool.driver.rules {
            let id: sarif::RuleId = serde_json::from_str(r.get()).map_err(|e| bad(name, e))?;
            if !rules.iter().any(|(known, _)| *known == id.id) {
                rules.push((id.id, r));
            }
        }
        for r in &run.results {
            let key: sarif::ResultKey = serde_json::from_str(r.get()).map_err(|e| bad(name, e))?;
            results.push((key.sort_key(), (key.rule_id.clone(), *r, key.live())));
        }
        for n in &run
            .invocations
            .iter()
            .flat_map(|i| &i.notifications)
            .collect::<Vec<_>>()
        {
            let text: sarif::NotificationText =
                serde_json::from_str(n.get()).map_err(|e| bad(name, e))?;
            notes.push((text.message.text, n));
        }
    }
    notes.sort_by(|a, b| a.0.cmp(&b.0));
    notes.dedup_by(|a, b| a.0 == b.0 && a.1.get() == b.1.get());
    let results = order(results);
    let counts = (
        results.len(),
        results.iter().filter(|r| r.2).count(),
        notes.len(),
    );
    // Rules in order of first use by a result, as a scan lists them.
    let mut used: Vec<&str> = Vec::new();
    for (id, _, _) in &results {
        if !used.contains(&id.as_str()) {
            used.push(id);
        }
    }
    let renumbered: Vec<Box<RawValue>> = results
        .iter()
        .map(|(id, raw, _)| {
            let index = used.iter().position(|u| u == id).unwrap_or(0);
            sarif::with_rule_index(raw.get(), index)
        })
        .collect::<Result<_, _>>()
        .map_err(|e| bad("merged report", e))?;
    let rule_objs: Vec<&RawValue> = used
        .iter()
        .filter_map(|u| rules.iter().find(|(id, _)| id == u).map(|(_, r)| *r))
        .collect();
    let run = &first.runs[0];
    let out = sarif::Out {
        schema: first.schema.as_deref(),
        version: &first.version,
        runs: vec![sarif::OutRun {
            tool: sarif::OutTool {
                driver: sarif::OutDriver {
                    name: &run.tool.driver.name,
                    semantic_version: run.tool.driver.semantic_version.as_deref(),
                    rules: rule_objs,
                },
            },
            invocations: vec![sarif::OutInvocation {
                execution_successful: notes.is_empty(),
                tool_execution_notifications: notes.iter().map(|(_, n)| *n).collect(),
            }],
            column_kind: run.column_kind.as_deref(),
            results: renumbered.iter().map(|b| b.as_ref()).collect(),
        }],
    };
    let mut s = serde_json::to_string_pretty(&out).map_err(|e| bad("merged report", e))?;
    s.push('\n');
    Ok(counted(s, counts))
}

/// The parts of keyhound's SARIF that merging reads and writes.
mod sarif {
    use serde::{Deserialize, Serialize};
    use serde_json::value::RawValue;

    #[derive(Deserialize)]
    pub struct Log<'a> {
        #[serde(rename = "$schema")]
        pub schema: Option<String>,
        pub version: String,
        #[serde(borrow)]
        pub runs: Vec<Run<'a>>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Run<'a> {
        #[serde(borrow)]
        pub tool: Tool<'a>,
        #[serde(borrow, default)]
        pub invocations: Vec<Invocation<'a>>,
        pub column_kind: Option<String>,
        #[serde(borrow, default)]
        pub results: Vec<&'a RawValue>,
    }

    #[derive(Deserialize)]
    pub struct Tool<'a> {
        #[serde(borrow)]
        pub driver: Driver<'a>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Driver<'a> {
        pub name: String,
        pub semantic_version: Option<String>,
        #[serde(borrow, default)]
        pub rules: Vec<&'a RawValue>,
    }

    #[derive(Deserialize)]
    pub struct Invocation<'a> {
        #[serde(borrow, default, rename = "toolExecutionNotifications")]
        pub notifications: Vec<&'a RawValue>,
    }

    #[derive(Deserialize)]
    pub struct RuleId {
        pub id: String,
    }

    #[derive(Deserialize)]
    pub struct NotificationText {
        pub message: Text,
    }

    #[derive(Deserialize)]
    pub struct Text {
        pub text: String,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct ResultKey {
        pub rule_id: String,
        locations: Vec<Location>,
        partial_fingerprints: Fingerprints,
        properties: Properties,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Location {
        physical_location: Physical,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Physical {
        artifact_location: Artifact,
        region: Region,
    }

    #[derive(Deserialize)]
    struct Artifact {
        uri: String,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Region {
        start_line: usize,
        start_column: usize,
    }

    #[derive(Deserialize)]
    struct Fingerprints {
        #[serde(rename = "keyhound/v1")]
        keyhound: String,
    }

    #[derive(Deserialize)]
    struct Properties {
        origin: String,
        #[serde(default)]
        commit: Option<super::CommitId>,
        #[serde(default)]
        validation: Option<super::State>,
    }

    impl ResultKey {
        pub fn live(&self) -> bool {
            super::is_live(&self.properties.validation)
        }

        pub fn sort_key(&self) -> super::SortKey {
            let loc = self.locations.first();
            let commit = match self.properties.origin.as_str() {
                "file" | "stdin" => String::new(),
                _ => self
                    .properties
                    .commit
                    .as_ref()
                    .map(|c| c.id.clone())
                    .unwrap_or_default(),
            };
            (
                loc.map(|l| percent_decode(&l.physical_location.artifact_location.uri))
                    .unwrap_or_default(),
                loc.map_or(0, |l| l.physical_location.region.start_line),
                loc.map_or(0, |l| l.physical_location.region.start_column),
                self.rule_id.clone(),
                self.partial_fingerprints.keyhound.clone(),
                commit,
            )
        }
    }

    /// The path a SARIF `uri` was made from (keyhound percent-encodes reserved bytes).
    fn percent_decode(uri: &str) -> String {
        let b = uri.as_bytes();
        let mut out = Vec::with_capacity(b.len());
        let mut i = 0;
        while i < b.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            match (
                b[i],
                b.get(i + 1).and_then(|&c| hex(c)),
                b.get(i + 2).and_then(|&c| hex(c)),
            ) {
                (b'%', Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                }
                (c, _, _) => {
                    out.push(c);
                    i += 1;
                }
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    /// The result's JSON with its `ruleIndex` set to `index`. The key occurs once, at the top
    /// of the result: inside strings a quote is escaped, so the text cannot occur there.
    pub fn with_rule_index(raw: &str, index: usize) -> Result<Box<RawValue>, serde_json::Error> {
        const KEY: &str = "\"ruleIndex\": ";
        let text = match raw.find(KEY) {
            Some(at) => {
                let start = at + KEY.len();
                let end = start
                    + raw[start..]
                        .find(|c: char| !c.is_ascii_digit())
                        .unwrap_or(raw.len() - start);
                format!("{}{index}{}", &raw[..start], &raw[end..])
            }
            None => raw.to_string(),
        };
        RawValue::from_string(text)
    }

    #[derive(Serialize)]
    pub struct Out<'a> {
        #[serde(rename = "$schema", skip_serializing_if = "Option::is_none")]
        pub schema: Option<&'a str>,
        pub version: &'a str,
        pub runs: Vec<OutRun<'a>>,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct OutRun<'a> {
        pub tool: OutTool<'a>,
        pub invocations: Vec<OutInvocation<'a>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        pub column_kind: Option<&'a str>,
        pub results: Vec<&'a RawValue>,
    }

    #[derive(Serialize)]
    pub struct OutTool<'a> {
        pub driver: OutDriver<'a>,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct OutDriver<'a> {
        pub name: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        pub semantic_version: Option<&'a str>,
        pub rules: Vec<&'a RawValue>,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct OutInvocation<'a> {
        pub execution_successful: bool,
        pub tool_execution_notifications: Vec<&'a RawValue>,
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn rule_indexes_are_rewritten_once() {
            let raw =
                r#"{"ruleId": "a", "ruleIndex": 12, "message": {"text": "\"ruleIndex\": 3"}}"#;
            let out = with_rule_index(raw, 0).unwrap();
            assert_eq!(
                out.get(),
                r#"{"ruleId": "a", "ruleIndex": 0, "message": {"text": "\"ruleIndex\": 3"}}"#
            );
        }

        #[test]
        fn uris_decode() {
            assert_eq!(percent_decode("src/a%20b.py"), "src/a b.py");
            assert_eq!(percent_decode("x%2"), "x%2");
        }
    }
}
