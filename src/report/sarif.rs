//! SARIF 2.1.0 output, the subset GitHub code scanning reads: the rules that have results,
//! results with physical locations, and partial fingerprints so alerts survive moved lines.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;

use super::{Report, ValidationView};
use crate::finding::{Confidence, Finding, Origin};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: Vec<Run<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Tool<'a>,
    invocations: Vec<Invocation>,
    column_kind: &'static str,
    results: Vec<ResultObj<'a>>,
}

/// The run itself: whether every file and object could be read, and the ones that could not.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation {
    execution_successful: bool,
    tool_execution_notifications: Vec<Notification>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Notification {
    level: &'static str,
    message: Text,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    locations: Vec<NotificationLocation>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NotificationLocation {
    physical_location: ArtifactOnly,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactOnly {
    artifact_location: ArtifactLocation,
}

#[derive(Serialize)]
struct Tool<'a> {
    driver: Driver<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver<'a> {
    name: &'static str,
    semantic_version: &'static str,
    rules: Vec<RuleObj<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RuleObj<'a> {
    id: &'a str,
    name: String,
    short_description: Text,
    full_description: Text,
    #[serde(skip_serializing_if = "Option::is_none")]
    help_uri: Option<&'a str>,
    help: Text,
    default_configuration: DefaultConfiguration,
    properties: RuleProperties<'a>,
}

#[derive(Serialize)]
struct DefaultConfiguration {
    level: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RuleProperties<'a> {
    provider: &'a str,
    tags: Vec<&'static str>,
    #[serde(rename = "security-severity")]
    security_severity: &'static str,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResultObj<'a> {
    rule_id: String,
    rule_index: usize,
    level: &'static str,
    message: Text,
    locations: Vec<LocationObj>,
    partial_fingerprints: BTreeMap<&'static str, String>,
    properties: ResultProperties<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResultProperties<'a> {
    confidence: Confidence,
    secret: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    rotate: Option<String>,
    #[serde(rename = "decodedFrom", skip_serializing_if = "Option::is_none")]
    decoded_from: Option<&'static str>,
    #[serde(skip_serializing_if = "super::Details::is_empty")]
    details: super::Details<'a>,
    origin: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    repository: Option<crate::finding::Repository>,
    #[serde(skip_serializing_if = "Option::is_none")]
    commit: Option<crate::finding::Commit>,
    #[serde(skip_serializing_if = "Option::is_none")]
    commits: Option<usize>,
    #[serde(rename = "inHead", skip_serializing_if = "Option::is_none")]
    in_head: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    action: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    archive: Option<super::ArchiveView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    validation: Option<ValidationView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    access: Option<crate::validate::access::AccessMap>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LocationObj {
    physical_location: PhysicalLocation,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    region: Region,
}

#[derive(Serialize)]
struct ArtifactLocation {
    uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    properties: Option<ArtifactProperties>,
}

#[derive(Serialize)]
struct ArtifactProperties {
    /// The commit in which `uri` holds the secret.
    commit: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: usize,
    start_column: usize,
    end_line: usize,
    end_column: usize,
    snippet: Text,
}

fn level(c: Confidence) -> &'static str {
    match c {
        Confidence::High => "error",
        Confidence::Medium => "warning",
        Confidence::Low => "note",
    }
}

/// A path as a relative URI reference: forward slashes, reserved characters percent-encoded.
fn uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.replace('\\', "/").bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

pub fn write(r: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    // Rules in order of first use by a (sorted) result, so output is stable.
    let mut order: Vec<&str> = Vec::new();
    for f in r.findings {
        if !order.contains(&f.rule_id.as_str()) {
            order.push(&f.rule_id);
        }
    }
    let rules: Vec<RuleObj<'_>> = order
        .iter()
        .filter_map(|id| r.rule(id))
        .map(|rule| RuleObj {
            id: &rule.id,
            name: rule
                .name
                .split(|c: char| !c.is_ascii_alphanumeric())
                .filter(|w| !w.is_empty())
                .map(|w| {
                    let mut c = w.chars();
                    c.next()
                        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                        .unwrap_or_default()
                })
                .collect(),
            short_description: Text {
                text: super::sanitize(&rule.name),
            },
            full_description: Text {
                text: super::sanitize(&format!("{} (provider: {}).", rule.name, rule.provider)),
            },
            help_uri: rule.rotate.as_deref(),
            help: Text {
                text: match &rule.rotate {
                    Some(u) => format!(
                        "Treat the credential as compromised: revoke or rotate it at {u}, then remove it from the code and its history."
                    ),
                    None => "Treat the credential as compromised: change it, then remove it from the code and its history.".into(),
                },
            },
            default_configuration: DefaultConfiguration {
                level: level(rule.confidence),
            },
            properties: RuleProperties {
                provider: &rule.provider,
                tags: vec!["security", "secret"],
                security_severity: match rule.confidence {
                    Confidence::High => "9.0",
                    Confidence::Medium => "7.0",
                    Confidence::Low => "4.0",
                },
            },
        })
        .collect();
    let results = r
        .findings
        .iter()
        .map(|f| {
            result(
                r,
                f,
                order.iter().position(|id| *id == f.rule_id).unwrap_or(0),
            )
        })
        .collect();
    let log = Log {
        schema: SCHEMA,
        version: "2.1.0",
        runs: vec![Run {
            tool: Tool {
                driver: Driver {
                    name: "keyhound",
                    semantic_version: env!("CARGO_PKG_VERSION"),
                    rules,
                },
            },
            invocations: vec![invocation(r)],
            column_kind: "unicodeCodePoints",
            results,
        }],
    };
    super::safe_json::pretty(out, &log)?;
    writeln!(out)
}

fn invocation(r: &Report<'_>) -> Invocation {
    Invocation {
        execution_successful: r.errors.is_empty(),
        tool_execution_notifications: r
            .errors
            .iter()
            .map(|e| Notification {
                level: "error",
                message: Text {
                    text: super::sanitize(&e.to_string()),
                },
                // Git objects have no file to point at; their id is in the message.
                locations: if e.path.starts_with("object ") || e.path.starts_with('<') {
                    Vec::new()
                } else {
                    vec![NotificationLocation {
                        physical_location: ArtifactOnly {
                            artifact_location: ArtifactLocation {
                                uri: uri(&e.path),
                                properties: None,
                            },
                        },
                    }]
                },
            })
            .collect(),
    }
}

fn result<'a>(r: &Report<'_>, f: &'a Finding, rule_index: usize) -> ResultObj<'a> {
    let mut partial_fingerprints = BTreeMap::new();
    partial_fingerprints.insert("keyhound/v1", f.fingerprint.to_string());
    let history = f.origin.history();
    // The commit whose tree the location is in (not a file on disk).
    let located_in = match &f.origin {
        Origin::File { .. } | Origin::Stdin => None,
        other => other.commit(),
    };
    let live = f
        .validation
        .as_ref()
        .map(|v| format!("; live check: {}", super::sanitize(&v.summary())))
        .unwrap_or_default();
    ResultObj {
        rule_id: f.rule_id.clone(),
        rule_index,
        level: level(f.confidence),
        message: Text {
            text: format!(
                "{} found: {} ({} confidence{live})",
                super::sanitize(&f.rule_name),
                r.secret_text(f),
                f.confidence
            ),
        },
        locations: vec![LocationObj {
            physical_location: PhysicalLocation {
                artifact_location: ArtifactLocation {
                    uri: uri(&f.location.path),
                    properties: located_in.map(|c| ArtifactProperties {
                        commit: c.id.clone(),
                    }),
                },
                region: Region {
                    start_line: f.location.line,
                    start_column: f.location.column,
                    end_line: f.location.end_line,
                    end_column: f.location.end_column,
                    snippet: Text { text: r.snippet(f) },
                },
            },
        }],
        partial_fingerprints,
        properties: ResultProperties {
            confidence: f.confidence,
            secret: r.exact(&f.secret),
            rotate: f.rotate.as_deref().map(super::sanitize),
            decoded_from: f.decoded_from,
            details: super::Details(&f.details),
            origin: f.origin.kind(),
            repository: f.origin.repository().cloned(),
            commit: f
                .origin
                .commit()
                .or_else(|| history.and_then(|h| h.introduced.as_ref()))
                .cloned(),
            commits: history.map(|h| h.commits),
            in_head: history.map(|h| h.in_head),
            action: history.map(super::action),
            archive: super::ArchiveView::of(f),
            validation: f.validation.as_ref().map(ValidationView::new),
            access: access(f),
        },
    }
}

/// The access map, for `properties.access`.
fn access(f: &Finding) -> Option<crate::validate::access::AccessMap> {
    f.validation.as_ref()?.access.as_deref().cloned()
}

#[cfg(test)]
mod tests {
    use super::uri;

    #[test]
    fn uris_are_relative_references() {
        assert_eq!(uri("src/a b.py"), "src/a%20b.py");
        assert_eq!(uri("dir\\x#1"), "dir/x%231");
    }
}
