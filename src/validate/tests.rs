//! Engine tests with a scripted transport: cache and in-flight de-duplication, back-off bounds,
//! budgets, trust, and reading answers. The loopback HTTPS tests live in `tests/validate.rs`.

use std::sync::Mutex;

use super::*;
use crate::blob::BlobId;
use crate::finding::{Confidence, Context, Fingerprint, Location};
use crate::rules::RuleSource;

const RULES: &str = r#"
provider: Acme
rules:
  - id: acme.token
    name: Acme token
    keywords: [acme_]
    pattern: '\b(acme_[a-z0-9]{12})\b'
    rotate: https://acme.test/tokens
    examples: ['acme_k3j5h7g9f2d4']
    validate:
      request:
        url: https://api.acme.test/v1/me
        headers: {Authorization: 'Bearer {{secret}}'}
      outcomes:
        - {status: 200, json: {ok: true, account.mode: live}, result: valid, key_type: live}
        - {status: 200, json: {ok: true}, result: valid}
        - {status: 200, json: {ok: false}, result: invalid}
        - {status: [401, 403], result: invalid}
      describe:
        identity: [json:account.email, json:account.name]
        scopes: [header:x-scopes, json:scopes]
        expiry: header:x-expires
  - id: acme.secret
    name: Acme secret
    keywords: [acmesec_]
    pattern: '\b(acmesec_[a-z0-9]{12})\b'
    rotate: https://acme.test/tokens
    examples: ['acmesec_k3j5h7g9f2d4']
    pair: {with: acme.id}
    validate:
      request:
        method: POST
        url: https://api.acme.test/v1/accounts/{{partner}}?key={{secret}}
        secret_in_query: true
        basic_auth: {username: '{{partner}}', password: '{{secret}}'}
        body: 'id={{partner}}'
  - id: acme.aws
    name: AWS-style secret
    keywords: [awssecret]
    pattern: 'awssecret=([A-Za-z0-9/+]{40})'
    rotate: https://acme.test/tokens
    examples: ['awssecret=N+PMo5KFu5IHYMYLzuzR7jF+QUqKjELHTmoYL1rJ']
    pair: {with: acme.id}
    validate: {validator: aws-sts}
  - id: acme.id
    name: Acme id
    keywords: [acmeid_]
    pattern: '\b(acmeid_[a-z0-9]{6})\b'
    rotate: https://acme.test/tokens
    examples: ['acmeid_k3j5h7']
"#;

fn rules(builtin: bool) -> RuleSet {
    RuleSet::load(vec![RuleSource {
        builtin,
        ..RuleSource::yaml("acme.yaml", RULES)
    }])
    .unwrap()
}

fn finding(rule: &str, secret: &str, partner: Option<&str>) -> Finding {
    let secret = Secret::new(secret.as_bytes());
    Finding {
        rule_id: rule.into(),
        rule_name: rule.into(),
        provider: "Acme".into(),
        confidence: Confidence::High,
        location: Location {
            path: "a.txt".into(),
            line: 1,
            column: 1,
            end_line: 1,
            end_column: 2,
        },
        fingerprint: Fingerprint::new(rule, &secret),
        secret,
        partner: partner.map(|p| Secret::new(p.as_bytes())),
        rotate: None,
        checksum: None,
        context: Context::default(),
        decoded_from: None,
        details: Vec::new(),
        blob: BlobId::of(b""),
        origin: crate::finding::Origin::File { history: None },
        validation: None,
    }
}

type Answer = Box<dyn Fn(&HttpRequest, usize) -> Result<HttpResponse, UnknownReason> + Sync>;
/// Method, URL, headers, body.
type Sent = (String, String, Vec<(String, String)>, Option<Vec<u8>>);

/// Answers from a script, records what was sent.
struct Scripted {
    answer: Answer,
    sent: Mutex<Vec<Sent>>,
    delay: Duration,
}

impl Scripted {
    fn new(
        answer: impl Fn(&HttpRequest, usize) -> Result<HttpResponse, UnknownReason> + Sync + 'static,
    ) -> Scripted {
        Scripted {
            answer: Box::new(answer),
            sent: Mutex::new(Vec::new()),
            delay: Duration::ZERO,
        }
    }

    fn count(&self) -> usize {
        self.sent.lock().unwrap().len()
    }
}

impl Transport for Scripted {
    fn send(&self, req: &HttpRequest) -> Result<HttpResponse, UnknownReason> {
        let n = {
            let mut s = self.sent.lock().unwrap();
            s.push((
                req.method.clone(),
                req.url.clone(),
                req.headers.clone(),
                req.body.clone(),
            ));
            s.len()
        };
        std::thread::sleep(self.delay);
        (self.answer)(req, n)
    }
}

fn status(code: u16, body: &str, headers: &[(&str, &str)]) -> HttpResponse {
    HttpResponse {
        status: code,
        headers: headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
        body: body.as_bytes().to_vec(),
    }
}

fn fast() -> Options {
    Options {
        per_host_rate: 1000.0,
        backoff_base: Duration::from_millis(20),
        ..Options::default()
    }
}

struct Lines(Mutex<Vec<String>>);

impl Lines {
    fn new() -> Lines {
        Lines(Mutex::new(Vec::new()))
    }
    fn log(&self) -> impl Fn(u8, &str) + Sync + '_ {
        |_, m| self.0.lock().unwrap().push(m.to_string())
    }
    fn all(&self) -> String {
        self.0.lock().unwrap().join("\n")
    }
}

const TOKEN: &str = "acme_k3j5h7g9f2d4";

#[test]
fn each_unique_secret_is_checked_once_even_in_flight() {
    let set = rules(true);
    let mut t = Scripted::new(|_, _| Ok(status(200, r#"{"ok":true}"#, &[])));
    t.delay = Duration::from_millis(100);
    let mut fs: Vec<Finding> = (0..30)
        .map(|_| finding("acme.token", TOKEN, None))
        .collect();
    fs.push(finding("acme.token", "acme_zzzzzzzzzzz1", None));
    let lines = Lines::new();
    let stats = validate_findings(&set, &mut fs, &t, &fast(), &lines.log());
    assert_eq!(t.count(), 2);
    assert_eq!(stats.requests, 2);
    assert_eq!(stats.checked, 2);
    assert_eq!(stats.valid, 31);
    assert!(fs
        .iter()
        .all(|f| f.validation.as_ref().unwrap().state == LiveState::Valid));
}

#[test]
fn outcomes_and_describe_read_the_answer() {
    let set = rules(true);
    let t = Scripted::new(|req, _| {
        let auth = req
            .headers
            .iter()
            .find(|(n, _)| n == "Authorization")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        Ok(match auth.as_str() {
            "Bearer acme_aaaaaaaaaaa1" => status(
                200,
                r#"{"ok":true,"account":{"mode":"live","email":"ops@acme.test"},"scopes":["read","write"]}"#,
                &[("x-expires", "2030-01-01")],
            ),
            "Bearer acme_aaaaaaaaaaa2" => status(
                200,
                r#"{"ok":true,"account":{"name":"bot"}}"#,
                &[("x-scopes", "repo, user  gist")],
            ),
            "Bearer acme_aaaaaaaaaaa3" => {
                status(200, r#"{"ok":false,"error":"invalid_auth"}"#, &[])
            }
            "Bearer acme_aaaaaaaaaaa4" => status(403, "", &[]),
            "Bearer acme_aaaaaaaaaaa5" => status(503, "", &[]),
            "Bearer acme_aaaaaaaaaaa6" => status(302, "", &[("location", "https://evil.example/")]),
            "Bearer acme_aaaaaaaaaaa7" => status(418, "", &[]),
            _ => status(200, "not json", &[]),
        })
    });
    let mut fs: Vec<Finding> = (1..=8)
        .map(|i| finding("acme.token", &format!("acme_aaaaaaaaaaa{i}"), None))
        .collect();
    validate_findings(&set, &mut fs, &t, &fast(), &|_, _| {});
    let v: Vec<&Validation> = fs.iter().map(|f| f.validation.as_ref().unwrap()).collect();
    assert_eq!(v[0].state, LiveState::Valid);
    assert_eq!(v[0].identity.as_deref(), Some("ops@acme.test"));
    assert_eq!(v[0].scopes, ["read", "write"]);
    assert_eq!(v[0].key_type.as_deref(), Some("live"));
    assert_eq!(v[0].expiry.as_deref(), Some("2030-01-01"));
    assert_eq!(v[0].http_status, Some(200));
    assert_eq!(v[1].state, LiveState::Valid);
    assert_eq!(v[1].identity.as_deref(), Some("bot"));
    assert_eq!(v[1].scopes, ["repo", "user", "gist"]);
    assert_eq!(v[1].key_type, None);
    assert_eq!(v[2].state, LiveState::Invalid);
    assert_eq!(v[3].state, LiveState::Invalid);
    assert_eq!(v[4].reason, Some(UnknownReason::ServerError(503)));
    assert_eq!(v[5].reason, Some(UnknownReason::Redirect(302)));
    assert_eq!(v[6].reason, Some(UnknownReason::UnexpectedStatus(418)));
    // 200 but not JSON: no outcome for it.
    assert_eq!(v[7].reason, Some(UnknownReason::UnexpectedStatus(200)));
}

#[test]
fn rate_limits_back_off_a_bounded_number_of_times() {
    let set = rules(true);
    // Always 429 without Retry-After: 1 try + 2 retries, then unknown.
    let t = Scripted::new(|_, _| Ok(status(429, "", &[])));
    let mut fs = vec![finding("acme.token", TOKEN, None)];
    let started = Instant::now();
    let lines = Lines::new();
    validate_findings(&set, &mut fs, &t, &fast(), &lines.log());
    assert_eq!(t.count(), 3);
    let v = fs[0].validation.as_ref().unwrap();
    assert_eq!(v.reason, Some(UnknownReason::RateLimited));
    assert_eq!(v.summary(), "unknown (rate limited)");
    // Back-off 20ms then 40ms (plus jitter).
    assert!(started.elapsed() >= Duration::from_millis(60));
    assert!(lines.all().contains("retrying in"), "{}", lines.all());

    // Retry-After is honoured, then the answer counts.
    let t = Scripted::new(|_, n| {
        Ok(if n == 1 {
            status(429, "", &[("retry-after", "1")])
        } else {
            status(200, r#"{"ok":true}"#, &[])
        })
    });
    let mut fs = vec![finding("acme.token", TOKEN, None)];
    let started = Instant::now();
    validate_findings(&set, &mut fs, &t, &fast(), &|_, _| {});
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(t.count(), 2);
    assert_eq!(fs[0].validation.as_ref().unwrap().state, LiveState::Valid);

    // A Retry-After beyond the longest wait gives up at once.
    let t = Scripted::new(|_, _| Ok(status(429, "", &[("retry-after", "3600")])));
    let mut fs = vec![finding("acme.token", TOKEN, None)];
    let started = Instant::now();
    validate_findings(&set, &mut fs, &t, &fast(), &|_, _| {});
    assert_eq!(t.count(), 1);
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(
        fs[0].validation.as_ref().unwrap().reason,
        Some(UnknownReason::RateLimited)
    );
}

#[test]
fn the_provider_budget_caps_requests() {
    let set = rules(true);
    let t = Scripted::new(|_, _| Ok(status(401, "", &[])));
    let mut fs: Vec<Finding> = (0..6)
        .map(|i| finding("acme.token", &format!("acme_bbbbbbbbbbb{i}"), None))
        .collect();
    let opts = Options {
        max_requests_per_provider: 4,
        concurrency: 1,
        ..fast()
    };
    let stats = validate_findings(&set, &mut fs, &t, &opts, &|_, _| {});
    assert_eq!(t.count(), 4);
    assert_eq!(stats.invalid, 4);
    assert_eq!(stats.unknown, 2);
    assert_eq!(
        fs[5].validation.as_ref().unwrap().reason,
        Some(UnknownReason::BudgetExhausted)
    );
}

#[test]
fn user_rules_need_the_host_allowed() {
    let set = rules(false);
    let t = Scripted::new(|_, _| Ok(status(200, r#"{"ok":true}"#, &[])));
    let mut fs = vec![finding("acme.token", TOKEN, None)];
    validate_findings(&set, &mut fs, &t, &fast(), &|_, _| {});
    assert_eq!(t.count(), 0);
    assert_eq!(
        fs[0].validation.as_ref().unwrap().reason,
        Some(UnknownReason::HostNotAllowed("api.acme.test".into()))
    );
    let opts = Options {
        allowed_hosts: vec!["API.acme.test".into()],
        ..fast()
    };
    validate_findings(&set, &mut fs, &t, &opts, &|_, _| {});
    assert_eq!(t.count(), 1);
    assert_eq!(fs[0].validation.as_ref().unwrap().state, LiveState::Valid);
}

#[test]
fn partners_basic_auth_query_and_body_are_filled() {
    let set = rules(true);
    let t = Scripted::new(|_, _| Ok(status(200, "{}", &[])));
    let mut fs = vec![
        finding("acme.secret", "acmesec_s3cr3ts3cr3t", Some("acmeid_abc123")),
        finding("acme.secret", "acmesec_s3cr3ts3cr3t", None),
        finding("acme.id", "acmeid_abc123", None),
    ];
    validate_findings(&set, &mut fs, &t, &fast(), &|_, _| {});
    let sent = t.sent.lock().unwrap();
    assert_eq!(sent.len(), 1);
    let (method, url, headers, body) = &sent[0];
    assert_eq!(method, "POST");
    assert_eq!(
        url,
        "https://api.acme.test/v1/accounts/acmeid_abc123?key=acmesec_s3cr3ts3cr3t"
    );
    let auth = &headers
        .iter()
        .find(|(n, _)| n == "Authorization")
        .unwrap()
        .1;
    assert_eq!(
        auth,
        &format!("Basic {}", base64(b"acmeid_abc123:acmesec_s3cr3ts3cr3t"))
    );
    assert_eq!(body.as_deref(), Some(&b"id=acmeid_abc123"[..]));
    assert_eq!(fs[0].validation.as_ref().unwrap().state, LiveState::Valid);
    assert_eq!(
        fs[1].validation.as_ref().unwrap().reason,
        Some(UnknownReason::MissingPartner)
    );
    assert_eq!(
        fs[2].validation.as_ref().unwrap().reason,
        Some(UnknownReason::NotSupported)
    );
}

#[test]
fn transport_failures_become_reasons_and_logs_hold_no_secret() {
    let set = rules(true);
    let t = Scripted::new(|_, _| Err(UnknownReason::Timeout));
    let mut fs = vec![finding("acme.token", TOKEN, None)];
    let lines = Lines::new();
    validate_findings(&set, &mut fs, &t, &fast(), &lines.log());
    assert_eq!(
        fs[0].validation.as_ref().unwrap().summary(),
        "unknown (timeout)"
    );
    let log = lines.all();
    assert!(log.contains("acme.token acme…(17 chars)"), "{log}");
    assert!(log.contains("GET https://api.acme.test/v1/me"), "{log}");
    assert!(!log.contains(TOKEN), "{log}");
}

#[test]
fn facts_never_echo_the_secret() {
    let set = rules(true);
    let t = Scripted::new(|_, _| {
        Ok(status(
            200,
            &format!(r#"{{"ok":true,"account":{{"name":"key {TOKEN}\u001b[31m"}}}}"#),
            &[],
        ))
    });
    let mut fs = vec![finding("acme.token", TOKEN, None)];
    validate_findings(&set, &mut fs, &t, &fast(), &|_, _| {});
    let id = fs[0].validation.as_ref().unwrap().identity.clone().unwrap();
    assert_eq!(id, "key [secret][31m");
}

#[test]
fn the_host_rate_limit_spaces_requests() {
    let set = rules(true);
    let t = Scripted::new(|_, _| Ok(status(401, "", &[])));
    let mut fs: Vec<Finding> = (0..5)
        .map(|i| finding("acme.token", &format!("acme_ccccccccccc{i}"), None))
        .collect();
    let opts = Options {
        per_host_rate: 20.0,
        ..fast()
    };
    let started = Instant::now();
    validate_findings(&set, &mut fs, &t, &opts, &|_, _| {});
    assert_eq!(t.count(), 5);
    // Five requests 50ms apart: the last starts 200ms after the first.
    assert!(
        started.elapsed() >= Duration::from_millis(195),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn encodings() {
    assert_eq!(base64(b""), "");
    assert_eq!(base64(b"f"), "Zg==");
    assert_eq!(base64(b"fo"), "Zm8=");
    assert_eq!(base64(b"foo"), "Zm9v");
    assert_eq!(base64(b"user:pass"), "dXNlcjpwYXNz");
    assert_eq!(percent_encode("a b&c=d/é~"), "a%20b%26c%3Dd%2F%C3%A9~");
}

#[test]
fn backoff_doubles_with_bounded_jitter() {
    for attempt in 0..4 {
        let d = backoff(Duration::from_millis(100), attempt);
        let base = Duration::from_millis(100 << attempt);
        assert!(d >= base && d <= base + base / 2, "{attempt}: {d:?}");
    }
}

#[test]
fn aws_keys_are_signed_and_temporary_ones_are_not_sent() {
    let set = rules(true);
    let t = Scripted::new(|_, _| {
        Ok(status(
            403,
            "<Error><Code>InvalidClientTokenId</Code></Error>",
            &[],
        ))
    });
    let secret = "N+PMo5KFu5IHYMYLzuzR7jF+QUqKjELHTmoYL1rJ";
    let mut fs = vec![
        finding("acme.aws", secret, Some("ASIAIOSFODNN7ABCDEFG")),
        finding("acme.aws", secret, Some("AKIAIOSFODNN7ABCDEFG")),
    ];
    validate_findings(&set, &mut fs, &t, &fast(), &|_, _| {});
    assert_eq!(
        fs[0].validation.as_ref().unwrap().reason,
        Some(UnknownReason::NeedsSessionToken)
    );
    assert_eq!(fs[1].validation.as_ref().unwrap().state, LiveState::Invalid);
    let sent = t.sent.lock().unwrap();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        (sent[0].0.as_str(), sent[0].1.as_str()),
        ("POST", "https://sts.amazonaws.com/")
    );
    assert!(sent[0].2.iter().all(|(_, v)| !v.contains(secret)));
}
