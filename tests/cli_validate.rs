//! `keyhound scan --validate` end to end: the binary against a loopback HTTPS imitation of
//! OpenAI (a built-in rule) and of a user rule's host, through `--connect-to` and `--ca-cert`.

mod common;

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use common::{FakeProxy, Pki, Reply, Seen, Server};
use predicates::prelude::*;
use serde_json::{json, Value};
use tempfile::TempDir;

const OK_KEY: &str = "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";
const BAD_KEY: &str = "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";
const ACME_TOKEN: &str = "acme_q8w7e6r5t4y3";

const PROXY_VARS: &[&str] = &[
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "NO_PROXY",
    "no_proxy",
];

fn keyhound() -> Command {
    let mut c = Command::cargo_bin("keyhound").unwrap();
    c.env_remove("NO_COLOR").env("COLUMNS", "100");
    for v in PROXY_VARS {
        c.env_remove(v);
    }
    c
}

fn handler(req: &Seen, _n: usize) -> Reply {
    let auth = req.header("authorization").unwrap_or("");
    match (req.host(), auth.strip_prefix("Bearer ").unwrap_or("")) {
        ("api.openai.com", OK_KEY) => {
            Reply::json(200, json!({"data": []})).header("openai-organization", "acme-research")
        }
        ("api.acme.test", ACME_TOKEN) => Reply::json(200, json!({"user": "wile"})),
        _ => Reply::json(401, json!({"error": {"code": "invalid_api_key"}})),
    }
}

struct Setup {
    dir: TempDir,
    server: Server,
    _pki: Pki,
}

impl Setup {
    fn new() -> Setup {
        let pki = Pki::new(&["api.openai.com", "api.acme.test"]);
        let server = Server::start(&pki, handler);
        let dir = tempfile::tempdir().unwrap();
        let w = |name: &str, text: &str| {
            let p = dir.path().join(name);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, text).unwrap();
        };
        w("ca.pem", &pki.ca_pem);
        w("src/live.py", &format!("OPENAI_API_KEY = \"{OK_KEY}\"\n"));
        w("src/dead.py", &format!("OPENAI_API_KEY = \"{BAD_KEY}\"\n"));
        w("src/copy.py", &format!("key = \"{OK_KEY}\"\n"));
        w(
            "acme/acme.yaml",
            r#"provider: Acme
rules:
  - id: acme.token
    name: Acme token
    keywords: [acme_]
    pattern: '\b(acme_[a-z0-9]{12})\b'
    rotate: https://acme.test/tokens
    examples: ['ACME=acme_k3j5h7g9f2d4']
    validate:
      request:
        url: https://api.acme.test/v1/me
        headers: {Authorization: 'Bearer {{secret}}'}
      describe:
        identity: json:user
"#,
        );
        w("other/acme.env", &format!("ACME_TOKEN={ACME_TOKEN}\n"));
        Setup {
            dir,
            server,
            _pki: pki,
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `keyhound scan --validate` pointed at the imitation.
    fn scan(&self) -> Command {
        let mut c = keyhound();
        c.current_dir(self.path())
            .arg("scan")
            .arg("--validate")
            .arg("--connect-to")
            .arg(self.server.connect_all())
            .arg("--ca-cert")
            .arg("ca.pem");
        c
    }
}

fn json_of(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn validate_reports_states_in_every_format_and_exits_3() {
    let s = Setup::new();
    let out = s.scan().args(["src", "-f", "json"]).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json_of(&out);
    let findings = v["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 3);
    let by_path = |p: &str| {
        findings
            .iter()
            .find(|f| f["path"] == p)
            .unwrap_or_else(|| panic!("{p}"))["validation"]
            .clone()
    };
    assert_eq!(
        by_path("src/live.py"),
        json!({"state": "valid", "http_status": 200, "identity": "acme-research", "scopes": []})
    );
    assert_eq!(by_path("src/copy.py")["state"], "valid");
    assert_eq!(
        by_path("src/dead.py"),
        json!({"state": "invalid", "http_status": 401, "scopes": []})
    );
    // The same key in two files was checked once.
    assert_eq!(s.server.seen().len(), 2);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr
            .contains("validated 2 unique secrets with 2 requests: 2 valid, 1 invalid, 0 unknown"),
        "{stderr}"
    );

    let text = String::from_utf8(
        s.scan()
            .args(["src", "-q", "--color", "never"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert!(
        text.contains("    validation: LIVE (valid) · identity acme-research\n"),
        "{text}"
    );
    assert!(text.contains("    validation: invalid\n"), "{text}");

    let jsonl = String::from_utf8(
        s.scan()
            .args(["src", "-q", "-f", "jsonl"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let states: Vec<String> = jsonl
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["validation"]["state"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(states, ["valid", "invalid", "valid"]);

    let sarif: Value = serde_json::from_slice(
        &s.scan()
            .args(["src", "-q", "-f", "sarif"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results[0]["properties"]["validation"]["state"], "valid");
    assert_eq!(
        results[0]["properties"]["validation"]["identity"],
        "acme-research"
    );
    assert!(results[0]["message"]["text"]
        .as_str()
        .unwrap()
        .ends_with("(high confidence; live check: valid)"));
    assert_eq!(results[1]["properties"]["validation"]["state"], "invalid");
}

#[test]
fn only_valid_keeps_live_keys_and_sets_the_exit_code() {
    let s = Setup::new();
    let out = s
        .scan()
        .args(["src", "-q", "-f", "jsonl", "--only-valid"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 2);
    assert!(!text.contains("dead.py"));
    // Only dead keys: nothing to report, exit 0.
    s.scan()
        .args(["src/dead.py", "-q", "--only-valid"])
        .assert()
        .code(0)
        .stdout("");
    // --only-valid implies --validate: the live keys are checked and kept without it.
    let out = keyhound()
        .current_dir(s.path())
        .args([
            "scan",
            "src",
            "-q",
            "-f",
            "jsonl",
            "--only-valid",
            "--connect-to",
        ])
        .arg(s.server.connect_all())
        .args(["--ca-cert", "ca.pem"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(String::from_utf8(out.stdout).unwrap().lines().count(), 2);
}

#[test]
fn without_validate_nothing_touches_the_network() {
    let s = Setup::new();
    let proxy = FakeProxy::start();
    let out = keyhound()
        .current_dir(s.path())
        .env("HTTPS_PROXY", proxy.url())
        .args(["scan", "src", "-f", "json", "--connect-to"])
        .arg(s.server.connect_all())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v = json_of(&out);
    assert!(v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f.get("validation").is_none()));
    assert_eq!(s.server.connections(), 0);
    assert!(proxy.lines.lock().unwrap().is_empty());
}

#[test]
fn user_rules_validate_only_against_allowed_hosts() {
    let s = Setup::new();
    let out = s
        .scan()
        .args(["other", "-f", "json", "--rules", "acme"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v = json_of(&out);
    assert_eq!(
        v["findings"][0]["validation"],
        json!({"state": "unknown", "reason": "host-not-allowed",
               "message": "api.acme.test not allowed for a user rule (--allow-validation-host api.acme.test)",
               "scopes": []})
    );
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("pass --allow-validation-host api.acme.test to allow it"),
        "{stderr}"
    );
    assert_eq!(s.server.connections(), 0);

    let out = s
        .scan()
        .args([
            "other",
            "-f",
            "json",
            "--rules",
            "acme",
            "--allow-validation-host",
            "api.acme.test",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let v = json_of(&out);
    assert_eq!(v["findings"][0]["validation"]["identity"], "wile");
    let seen = s.server.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].host(), "api.acme.test");
}

#[test]
fn verbose_logs_never_show_secrets() {
    let s = Setup::new();
    let out = s
        .scan()
        .args(["src", "-vv", "--show-secrets"])
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("keyhound: validate openai.legacy-key sk-AOqgH…(51 chars): GET https://api.openai.com/v1/models: valid"),
        "{stderr}"
    );
    assert!(stderr.contains("HTTP 401"), "{stderr}");
    assert!(
        !stderr.contains(OK_KEY) && !stderr.contains(BAD_KEY),
        "{stderr}"
    );
    // --show-secrets shows them in the report on stdout, as asked.
    assert!(String::from_utf8(out.stdout).unwrap().contains(OK_KEY));
}

#[test]
fn https_proxy_is_honoured_and_sees_only_the_host() {
    let s = Setup::new();
    let proxy = FakeProxy::start();
    let out = keyhound()
        .current_dir(s.path())
        .env("HTTPS_PROXY", proxy.url())
        .args([
            "scan",
            "src/live.py",
            "-f",
            "json",
            "--validate",
            "--ca-cert",
            "ca.pem",
        ])
        .output()
        .unwrap();
    // The stand-in proxy refuses the tunnel: unknown, not live.
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json_of(&out);
    assert_eq!(v["findings"][0]["validation"]["state"], "unknown");
    let lines = proxy.lines.lock().unwrap().clone();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].starts_with("CONNECT api.openai.com:443 "),
        "{lines:?}"
    );
    assert!(!lines[0].contains(OK_KEY));
    // With --connect-to the proxy is bypassed.
    let out = keyhound()
        .current_dir(s.path())
        .env("HTTPS_PROXY", proxy.url())
        .args([
            "scan",
            "src/live.py",
            "-q",
            "--validate",
            "--ca-cert",
            "ca.pem",
            "--connect-to",
        ])
        .arg(s.server.connect_all())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(proxy.lines.lock().unwrap().len(), 1);
}

#[test]
fn errors_win_over_live_keys() {
    let s = Setup::new();
    s.scan()
        .args(["src", "does-not-exist", "-q"])
        .assert()
        .code(2);
    s.scan()
        .args(["src", "-q", "--ca-cert", "missing.pem"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "cannot read --ca-cert missing.pem",
        ));
    keyhound()
        .current_dir(s.path())
        .args(["scan", "src", "--validate", "--connect-to", "nonsense"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("HOST:PORT:ADDR:PORT"));
}
