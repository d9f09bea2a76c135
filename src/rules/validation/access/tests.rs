use super::*;
use crate::rules::syntax::ValidateSyntax;
use crate::rules::validation::{compile as compile_validate, ValidateSpec};

fn spec(yaml: &str) -> Result<ValidateSpec, (&'static str, String)> {
    let v: ValidateSyntax = serde_yaml::from_str(yaml).unwrap();
    compile_validate(v, true)
}

fn err(yaml: &str) -> String {
    match spec(yaml) {
        Ok(_) => panic!("compiled: {yaml}"),
        Err((field, m)) => {
            assert_eq!(field, "validate.access", "{m}");
            m
        }
    }
}

const CHECK: &str = "request: {url: 'https://api.acme.test/v1/me', headers: {Authorization: 'Bearer {{secret}}'}}\n";

#[test]
fn a_map_compiles_with_its_bound_and_hosts() {
    let s = spec(&format!(
        "{CHECK}access:
  base: read
  levels: {{admin: ['admin:*', root], write: ['*:write'], metadata: [me]}}
  steps:
    - {{id: me, from: validation, capture: {{org: json:org.id}}}}
    - id: repos
      when: org
      request: {{url: 'https://api.acme.test/v1/orgs/{{{{org}}}}/repos?limit=100', headers: {{Authorization: 'Bearer {{{{secret}}}}'}}}}
      resources: {{kind: repository, items: json:data, name: json:name, tally: [{{json: {{private: true}}, label: private, level: read}}]}}
      paginate: {{param: cursor, value: json:next, more: {{json: {{has_more: true}}}}, pages: '3'}}
    - id: files
      request: {{url: 'https://files.acme.test/list', headers: {{Authorization: 'Bearer {{{{secret}}}}'}}}}
"
    ))
    .unwrap();
    let a = spec_access(&s);
    assert_eq!(a.max_requests, 4);
    assert_eq!(a.hosts, ["api.acme.test", "files.acme.test"]);
    assert_eq!(a.base, Level::Read);
    assert_eq!(a.level_of("admin:org"), Level::Admin);
    assert_eq!(a.level_of("ROOT"), Level::Admin);
    assert_eq!(a.level_of("repo:write"), Level::Write);
    assert_eq!(a.level_of("me"), Level::Metadata);
    // Named nowhere: a permission that exists grants read.
    assert_eq!(a.level_of("gists"), Level::Read);
    let Plan::Steps(steps) = &a.plan else {
        panic!()
    };
    assert!(matches!(
        &steps[1].paginate,
        Some(Paginate {
            pages: 3,
            how: PageHow::Param { .. },
            ..
        })
    ));
}

fn spec_access(s: &ValidateSpec) -> &AccessSpec {
    s.access.as_ref().unwrap()
}

#[test]
fn exact_names_win_over_patterns() {
    let s = spec(&format!(
        "{CHECK}access: {{levels: {{read: ['*.get'], metadata: [projects.get]}}, steps: [{{id: a, from: validation}}]}}"
    ))
    .unwrap();
    assert_eq!(spec_access(&s).level_of("projects.get"), Level::Metadata);
    assert_eq!(spec_access(&s).level_of("objects.get"), Level::Read);
}

#[test]
fn only_reads_on_the_checks_site() {
    let step = |req: &str| format!("{CHECK}access: {{steps: [{{id: s, request: {req}}}]}}");
    let m = err(&step(
        "{method: DELETE, url: 'https://api.acme.test/v1/keys/1'}",
    ));
    assert!(m.contains("access maps only read"), "{m}");
    let m = err(&step(
        "{method: POST, url: 'https://api.acme.test/v1/search', body: x}",
    ));
    assert!(m.contains("access maps only read"), "{m}");
    let m = err(&step("{url: 'https://evil.example/collect'}"));
    assert!(m.contains("not on the site"), "{m}");
    let m = err(&step("{url: 'https://api.acme.test/keys/{{secret}}'}"));
    assert!(m.contains("request.url"), "{m}");
    // A GraphQL endpoint that only reads takes queries, never mutations.
    let linear = "request: {method: POST, url: 'https://api.linear.app/graphql', headers: {Authorization: '{{secret}}'}, body: x}\n";
    let gql = |body: &str| {
        format!("{linear}access: {{steps: [{{id: q, request: {{method: POST, url: 'https://api.linear.app/graphql', body: '{body}'}}}}]}}")
    };
    assert!(spec(&gql(r#"{"query":"{ viewer { id } }"}"#)).is_ok());
    let m = err(&gql(r#"{"query":"mutation { apiKeyDelete(id: 1) }"}"#));
    assert!(m.contains("only query"), "{m}");
}

#[test]
fn values_steps_and_bounds_are_checked() {
    let m = err(&format!("{CHECK}access: {{steps: [{{id: a, request: {{url: 'https://api.acme.test/x/{{{{org}}}}'}}}}]}}"));
    assert!(m.contains("unknown placeholder"), "{m}");
    let m = err(&format!(
        "{CHECK}access: {{steps: [{{id: a, when: org, from: validation}}]}}"
    ));
    assert!(m.contains("no earlier step captures"), "{m}");
    let m = err(&format!(
        "{CHECK}access: {{steps: [{{id: a, from: validation, capture: {{Org: json:x}}}}]}}"
    ));
    assert!(m.contains("capture `Org`"), "{m}");
    let m = err(&format!(
        "{CHECK}access: {{steps: [{{id: a, from: validation, paginate: {{next: link}}}}]}}"
    ));
    assert!(m.contains("no next page"), "{m}");
    let m = err(&format!(
        "{CHECK}access: {{steps: [{{id: a, from: validation}}, {{id: a, from: validation}}]}}"
    ));
    assert!(m.contains("comes earlier"), "{m}");
    let many: String = (0..3)
        .map(|i| format!("{{id: s{i}, request: {{url: 'https://api.acme.test/{i}'}}, paginate: {{next: link, pages: 5}}}},"))
        .collect();
    let m = err(&format!("{CHECK}access: {{steps: [{many}]}}"));
    assert!(m.contains("up to 15 requests"), "{m}");
    let m = err(&format!("{CHECK}access: {{steps: [{{id: a, request: {{url: 'https://api.acme.test/'}}, paginate: {{next: link, pages: 9}}}}]}}"));
    assert!(m.contains("between 1 and 5"), "{m}");
    let m = err(&format!("{CHECK}access: {{steps: [{{id: a, from: validation, flags: [{{json: {{x: 1}}, level: admin}}]}}]}}"));
    assert!(m.contains("goes with a `permission`"), "{m}");
    let m = err(&format!("{CHECK}access: {{}}"));
    assert!(m.contains("needs `steps`"), "{m}");
}

#[test]
fn mappers_go_with_their_checks() {
    let s = spec("validator: aws-sts\naccess: {mapper: aws-iam}").unwrap();
    assert_eq!(spec_access(&s).hosts, ["iam.amazonaws.com"]);
    assert_eq!(spec_access(&s).max_requests, 6);
    let m = err("validator: aws-sts\naccess: {mapper: gcp-service-account}");
    assert!(
        m.contains("works with the `gcp-service-account` validator"),
        "{m}"
    );
    let m = err(&format!("{CHECK}access: {{mapper: aws-iam}}"));
    assert!(m.contains("aws-sts"), "{m}");
    // An offline map needs no live check at all.
    let s = spec("access: {mapper: pypi-macaroon}").unwrap();
    assert!(matches!(s.check, Check::Offline));
    assert_eq!(spec_access(&s).max_requests, 0);
    assert!(spec("describe: {identity: json:x}").is_err());
}

#[test]
fn globs() {
    assert!(glob_match("admin:*", "admin:org"));
    assert!(glob_match("*FullAccess", "AmazonS3FullAccess"));
    assert!(glob_match("*:read.*", "users:read.email"));
    assert!(!glob_match("*:read", "users:read.email"));
    assert!(glob_match("a*b*c", "aXbYbZc"));
    assert!(!glob_match("repo", "repo:status"));
}
