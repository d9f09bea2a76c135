//! The declarative executor against a scripted `Net`: pages, gaps, captured values, and the
//! hosts it sends to. The loopback HTTPS tests of every mapped provider are in
//! `tests/access_map.rs`.

use std::sync::Mutex;

use super::*;
use crate::rules::syntax::{Level, ValidateSyntax};
use crate::rules::validation::{compile, ValidateSpec};

type Answers = Box<dyn Fn(&str) -> Result<HttpResponse, UnknownReason> + Sync>;

struct Script {
    answers: Answers,
    seen: Mutex<Vec<(String, String)>>,
}

impl Net for Script {
    fn send(
        &self,
        _what: &str,
        host: &str,
        build: &dyn Fn() -> Result<HttpRequest, UnknownReason>,
    ) -> Result<HttpResponse, UnknownReason> {
        let req = build()?;
        self.seen
            .lock()
            .unwrap()
            .push((host.to_string(), req.url.clone()));
        (self.answers)(&req.url)
    }
}

fn json(status: u16, body: serde_json::Value, headers: &[(&str, &str)]) -> HttpResponse {
    HttpResponse {
        status,
        headers: headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
        body: body.to_string().into_bytes(),
    }
}

fn spec(yaml: &str) -> ValidateSpec {
    let v: ValidateSyntax = serde_yaml::from_str(yaml).unwrap();
    compile(v, false).unwrap()
}

const RULE: &str = r#"
request: {url: 'https://api.acme.test/v1/me', headers: {Authorization: 'Bearer {{secret}}'}}
access:
  levels: {admin: [owner], write: ['*:write']}
  steps:
    - id: me
      from: validation
      facts: {identity: json:login, permissions: header:x-scopes}
      capture: {org: json:org, plan: json:plan}
    - id: repos
      when: org
      request: {url: 'https://api.acme.test/orgs/{{org}}/repos?per_page=3', headers: {Authorization: 'Bearer {{secret}}'}}
      resources:
        kind: repository
        items: 'json:.'
        name: json:name
        tally: [{json: {role: owner}, label: owner role, level: admin}]
      paginate: {next: link, pages: 2}
    - id: members
      request: {url: 'https://api.acme.test/members', headers: {Authorization: 'Bearer {{secret}}'}}
      resources: {kind: member, items: json:members}
    - id: billing
      when: plan
      request: {url: 'https://api.acme.test/billing'}
"#;

fn page(names: &[&str]) -> serde_json::Value {
    serde_json::Value::Array(
        names
            .iter()
            .map(|n| serde_json::json!({"name": n, "role": "reader"}))
            .collect(),
    )
}

#[test]
fn pages_past_the_bound_gaps_and_captured_values() {
    let s = spec(RULE);
    let net = Script {
        answers: Box::new(|url| match url {
            "https://api.acme.test/orgs/a%2Fb%20c/repos?per_page=3" => Ok(json(
                200,
                page(&["r1", "r2", "r3"]),
                &[(
                    "link",
                    "<https://api.acme.test/orgs/x/repos?page=2>; rel=\"next\"",
                )],
            )),
            "https://api.acme.test/orgs/x/repos?page=2" => Ok(json(
                200,
                serde_json::json!([{"name": "r4", "role": "owner"}, {"name": "r5"}, {"name": "r6"}]),
                &[(
                    "link",
                    "<https://api.acme.test/orgs/x/repos?page=3>; rel=\"next\"",
                )],
            )),
            "https://api.acme.test/members" => Ok(json(403, serde_json::json!({}), &[])),
            other => panic!("unexpected request to {other}"),
        }),
        seen: Mutex::new(Vec::new()),
    };
    let validation = json(
        200,
        serde_json::json!({"login": "wile", "org": "a/b c"}),
        &[("x-scopes", "repo:write, read")],
    );
    let input = Input {
        secret: "tok_1234567890",
        partner: "",
        validation: Some(&validation),
        identity: None,
        label: "acme.token tok_…(14 chars)",
    };
    let m = run(s.access.as_ref().unwrap(), &input, &net);
    let seen = net.seen.lock().unwrap().clone();
    // The captured value went into the URL encoded; page 3 was past the bound; the step whose
    // value was never captured did not run.
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert!(seen
        .iter()
        .all(|(h, u)| h == "api.acme.test" && u.starts_with("https://api.acme.test/")));
    assert_eq!(m.identity.as_deref(), Some("wile"));
    assert_eq!(
        m.permissions,
        [
            Permission {
                name: "repo:write".into(),
                level: Level::Write
            },
            Permission {
                name: "read".into(),
                level: Level::Read
            },
        ]
    );
    let repos = &m.resources[0];
    assert_eq!((repos.count, repos.complete), (6, false));
    assert_eq!(repos.sample, ["r1", "r2", "r3", "r4", "r5"]);
    assert_eq!(repos.tally[0].count, 1);
    assert_eq!(m.level, Level::Admin);
    assert_eq!(m.reason, "admin: 1 repository (owner role)");
    assert_eq!(
        m.unknown,
        [Gap {
            step: "members".into(),
            reason: "permission denied (HTTP 403)".into()
        }]
    );
    assert!(!m.complete);
}

#[test]
fn next_pages_elsewhere_and_failures_are_gaps() {
    let s = spec(RULE);
    let net = Script {
        answers: Box::new(|url| match url {
            u if u.contains("/repos") => Ok(json(
                200,
                page(&["r1"]),
                &[("link", "<https://evil.example/steal>; rel=\"next\"")],
            )),
            _ => Err(UnknownReason::RateLimited),
        }),
        seen: Mutex::new(Vec::new()),
    };
    let validation = json(200, serde_json::json!({"org": "acme"}), &[]);
    let input = Input {
        secret: "tok_1234567890",
        partner: "",
        validation: Some(&validation),
        identity: None,
        label: "x",
    };
    let m = run(s.access.as_ref().unwrap(), &input, &net);
    assert_eq!(net.seen.lock().unwrap().len(), 2);
    assert_eq!((m.resources[0].count, m.resources[0].complete), (1, false));
    let reasons: Vec<&str> = m.unknown.iter().map(|g| g.reason.as_str()).collect();
    assert_eq!(
        reasons,
        ["next page on another host, not followed", "rate limited"]
    );
    // Without the live check's answer the first step is a gap, and nothing is captured.
    let input = Input {
        validation: None,
        ..input
    };
    let m = run(s.access.as_ref().unwrap(), &input, &net);
    assert_eq!(m.unknown[0].reason, "the live check gave no answer to read");
    assert_eq!(m.level, Level::Metadata);
}
