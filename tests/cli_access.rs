//! `keyhound scan --access-map` and `keyhound revoke` end to end: the binary against a
//! loopback HTTPS imitation of GitHub, Slack and OpenAI (`--connect-to`, `--ca-cert`).

mod common;

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use common::{Pki, Reply, Seen, Server};
use serde_json::{json, Value};
use tempfile::TempDir;

const GHP: &str = "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";
const GH_PAT: &str =
    "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";
const XOXP: &str = "xoxp-202176281917-279897220669-4811820207671-VhSIZWcSFa8Ivl1H6Lpt1plPUNcEF1tN";
const OPENAI: &str = "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";

fn keyhound() -> Command {
    let mut c = Command::cargo_bin("keyhound").unwrap();
    c.env_remove("NO_COLOR").env("COLUMNS", "100");
    for v in [
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
        "NO_PROXY",
        "no_proxy",
    ] {
        c.env_remove(v);
    }
    c
}

fn repo(name: &str, private: bool, admin: bool, push: bool) -> Value {
    json!({"full_name": name, "private": private, "permissions": {"admin": admin, "push": push}})
}

fn handler(req: &Seen, _n: usize) -> Reply {
    let bearer = req
        .header("authorization")
        .and_then(|a| a.strip_prefix("Bearer "))
        .unwrap_or("");
    match (req.host(), req.method.as_str(), req.target.as_str(), bearer) {
        ("api.github.com", "GET", "/user", GHP) => Reply::json(200, json!({"login": "octo-admin"}))
            .header("x-oauth-scopes", "repo, admin:org, workflow")
            .header(
                "github-authentication-token-expiration",
                "2031-01-01 00:00:00 UTC",
            ),
        ("api.github.com", "GET", "/user/orgs?per_page=100", GHP) => {
            Reply::json(200, json!([{"login": "acme"}, {"login": "acme-labs"}]))
        }
        ("api.github.com", "GET", "/user/repos?per_page=100&sort=pushed", GHP) => Reply::json(
            200,
            json!([
                repo("acme/payments-api", true, true, true),
                repo("acme/web", true, false, true),
                repo("acme/infra", true, false, true),
                repo("acme/docs", false, false, false),
                repo("acme/sdk-go", false, false, true),
                repo("acme/sdk-py", false, false, true),
            ]),
        )
        .header(
            "link",
            "<https://api.github.com/user/repos?per_page=100&sort=pushed&page=4>; rel=\"next\"",
        ),
        ("api.github.com", "GET", "/user/repos?per_page=100&sort=pushed&page=4", GHP) => {
            Reply::json(200, json!([repo("acme/legacy", true, false, false)])).header(
                "link",
                "<https://api.github.com/user/repos?per_page=100&sort=pushed&page=5>; rel=\"next\"",
            )
        }
        ("api.github.com", "GET", "/user/repos?per_page=100&sort=pushed&page=5", GHP) => {
            Reply::json(200, json!([repo("acme/archive", true, false, false)])).header(
                "link",
                "<https://api.github.com/user/repos?per_page=100&sort=pushed&page=6>; rel=\"next\"",
            )
        }
        ("api.github.com", "POST", "/credentials/revoke", "") => {
            let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
            if body["credentials"].as_array().is_some_and(|c| c.len() == 1) {
                Reply::new(202, "")
            } else {
                Reply::json(422, json!({"message": "Validation Failed"}))
            }
        }
        ("slack.com", "POST", "/api/auth.revoke", XOXP) => {
            Reply::json(200, json!({"ok": true, "revoked": true}))
        }
        ("api.openai.com", _, _, _) => {
            Reply::json(401, json!({"error": {"code": "invalid_api_key"}}))
        }
        _ => Reply::json(401, json!({"message": "Bad credentials"})),
    }
}

struct Setup {
    dir: TempDir,
    server: Server,
    _pki: Pki,
}

impl Setup {
    fn new(handler: impl Fn(&Seen, usize) -> Reply + Send + Sync + 'static) -> Setup {
        let pki = Pki::new(&["api.github.com", "slack.com", "api.openai.com"]);
        let server = Server::start(&pki, handler);
        let dir = tempfile::tempdir().unwrap();
        let w = |name: &str, text: &str| {
            let p = dir.path().join(name);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, text).unwrap();
        };
        w("ca.pem", &pki.ca_pem);
        w("deploy/.env", &format!("GITHUB_TOKEN={GHP}\n"));
        w("notify/slack.py", &format!("SLACK_TOKEN = \"{XOXP}\"\n"));
        w("ml/openai.py", &format!("OPENAI_API_KEY = \"{OPENAI}\"\n"));
        w("ci/pat.txt", &format!("{GH_PAT}\n"));
        Setup {
            dir,
            server,
            _pki: pki,
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn cmd(&self, sub: &str) -> Command {
        let mut c = keyhound();
        c.current_dir(self.path())
            .arg(sub)
            .arg("--connect-to")
            .arg(self.server.connect_all())
            .arg("--ca-cert")
            .arg("ca.pem");
        c
    }
}

#[test]
fn access_maps_in_every_format() {
    let s = Setup::new(handler);
    let out = s
        .cmd("scan")
        .args(["deploy", "--access-map", "-f", "json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("; mapped the access of 1"), "{stderr}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let access = &v["findings"][0]["access"];
    assert_eq!(access["severity"], "critical");
    assert_eq!(access["level"], "admin");
    assert_eq!(access["reason"], "admin: permission admin:org");
    assert_eq!(access["identity"], "octo-admin");
    assert_eq!(access["complete"], true);
    assert_eq!(access["requests"], 4);
    assert_eq!(
        access["permissions"][0],
        json!({"name": "admin:org", "level": "admin"})
    );
    assert_eq!(
        access["resources"][1],
        json!({"kind": "repository", "count": 8, "complete": false,
               "sample": ["acme/payments-api", "acme/web", "acme/infra", "acme/docs", "acme/sdk-go"],
               "tally": [{"label": "private", "count": 5}, {"label": "admin role", "count": 1},
                         {"label": "push role", "count": 5}]})
    );
    // The third page was the last the map reads; the fourth was never asked for.
    let targets: Vec<String> = s.server.seen().iter().map(|r| r.target.clone()).collect();
    assert_eq!(targets.len(), 5, "{targets:?}");
    assert!(!targets.iter().any(|t| t.ends_with("page=6")));

    let text = s
        .cmd("scan")
        .args(["deploy", "--access-map", "-q", "--color", "never"])
        .output()
        .unwrap();
    let text = String::from_utf8(text.stdout).unwrap();
    for line in [
        "    access: CRITICAL (admin: permission admin:org) · identity octo-admin · expires 2031-01-01 00:00:00 UTC\n",
        "      permissions: admin:org (admin), repo (write), workflow (write)\n",
        "      organizations: 2 (acme, acme-labs)\n",
        "      repositories: 8+ (acme/payments-api, acme/web, acme/infra, acme/docs, acme/sdk-go, …) · private: 5 · admin role: 1 · push role: 5\n",
        "      4 requests\n",
    ] {
        assert!(text.contains(line), "{line}\n{text}");
    }

    let sarif: Value = serde_json::from_slice(
        &s.cmd("scan")
            .args(["deploy", "--access-map", "-q", "-f", "sarif"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let props = &sarif["runs"][0]["results"][0]["properties"];
    assert_eq!(props["access"]["severity"], "critical");
    assert_eq!(props["validation"]["state"], "valid");
}

#[test]
fn only_valid_works_with_access_map_alone() {
    let s = Setup::new(handler);
    let out = s
        .cmd("scan")
        .args([".", "--access-map", "--only-valid", "-q", "-f", "jsonl"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(text.contains("\"severity\":\"critical\""));
}

#[test]
fn revoke_asks_for_each_key_and_points_to_the_others() {
    let s = Setup::new(handler);
    // Findings come in path order: ci/pat.txt (GitHub), deploy/.env (GitHub),
    // ml/openai.py (no revocation API), notify/slack.py (Slack).
    let out = s
        .cmd("revoke")
        .arg(".")
        .write_stdin("n\ny\ny\n")
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("revoke github.fine-grained-pat github_p…(93 chars) at ci/pat.txt:1 with GitHub's credential-revocation API"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "github.fine-grained-pat github_p…(93 chars) at ci/pat.txt:1: not revoked (declined)"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("github.classic-pat ghp_JLFh…(40 chars) at deploy/.env:1: revoked: GitHub accepted the revocation (HTTP 202); the owner is notified"),
        "{stderr}"
    );
    assert!(
        stderr.contains("openai.project-key sk-proj-…(164 chars) at ml/openai.py:1: revoke it at https://platform.openai.com/api-keys"),
        "{stderr}"
    );
    assert!(stderr.contains("slack.user-token xoxp-202…(77 chars) at notify/slack.py:1: revoked: Slack revoked the token"), "{stderr}");
    assert!(
        stderr.contains("keyhound: 2 revoked, 1 declined, 0 failed, 1 to revoke at the provider"),
        "{stderr}"
    );
    for k in [GHP, GH_PAT, XOXP, OPENAI] {
        assert!(!stderr.contains(k), "a secret reached stderr");
    }
    // Exactly two requests: GitHub's (the accepted token only, no credentials of ours) and
    // Slack's; nothing to OpenAI, and no scan-time validation.
    let seen = s.server.seen();
    let reqs: Vec<String> = seen
        .iter()
        .map(|r| format!("{} {} {}", r.host(), r.method, r.target))
        .collect();
    assert_eq!(
        reqs,
        [
            "api.github.com POST /credentials/revoke",
            "slack.com POST /api/auth.revoke"
        ]
    );
    assert_eq!(
        String::from_utf8_lossy(&seen[0].body),
        format!("{{\"credentials\":[\"{GHP}\"]}}")
    );
    assert!(seen[0].header("authorization").is_none());
}

#[test]
fn revoke_yes_confirms_all_and_a_refusal_is_an_error() {
    let s = Setup::new(|req: &Seen, n: usize| {
        if req.host() == "slack.com" {
            return Reply::json(200, json!({"ok": false, "error": "invalid_auth"}));
        }
        handler(req, n)
    });
    let out = s
        .cmd("revoke")
        .args(["deploy", "notify", "--yes"])
        .write_stdin("")
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(!stderr.contains("[y/N]"), "{stderr}");
    assert!(stderr.contains("deploy/.env:1: revoked"), "{stderr}");
    assert!(
        stderr.contains("notify/slack.py:1: NOT revoked: Slack refused: invalid_auth"),
        "{stderr}"
    );
    assert_eq!(s.server.seen().len(), 2);
    // Without --yes and with nothing on stdin, nothing is revoked.
    let s = Setup::new(handler);
    let out = s
        .cmd("revoke")
        .arg("deploy")
        .write_stdin("")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8(out.stderr)
        .unwrap()
        .contains("0 revoked, 1 declined"));
    assert!(s.server.seen().is_empty());
}

#[test]
fn scans_never_revoke_and_revoke_only_where_asked() {
    let s = Setup::new(handler);
    s.cmd("scan")
        .args([".", "--access-map", "-q"])
        .assert()
        .code(3);
    assert!(s.server.seen().iter().all(|r| !r.target.contains("revoke")));
    // Nothing revocable found: no connection at all.
    let s = Setup::new(handler);
    s.cmd("revoke")
        .arg("ml")
        .write_stdin("y\n")
        .assert()
        .code(0);
    assert_eq!(s.server.connections(), 0);
}
