//! Live validity checks end to end against a loopback HTTPS imitation of each covered
//! provider: scan text, validate through the real transport (`--connect-to` and an extra CA),
//! and check states, facts, request counts, where each secret went, and the logs.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Pki, Reply, Seen, Server};
use keyhound::finding::{Finding, LiveState, UnknownReason, Validation};
use keyhound::matcher::Matcher;
use keyhound::rules::RuleSet;
use keyhound::scan::Scanner;
use keyhound::source::Event;
use keyhound::validate::aws::{authorization, SigningInput};
use keyhound::validate::{self, ClientOptions, Options, UreqTransport};
use serde_json::json;

const HOSTS: &[&str] = &[
    "api.openai.com",
    "api.anthropic.com",
    "generativelanguage.googleapis.com",
    "api.github.com",
    "gitlab.com",
    "slack.com",
    "api.stripe.com",
    "api.sendgrid.com",
    "api.twilio.com",
    "api.mailgun.net",
    "huggingface.co",
    "registry.npmjs.org",
    "sts.amazonaws.com",
    "api.openweathermap.org",
    "evil.example",
];

// Format-exact random fakes: "good" ones the imitation accepts, "bad" ones it rejects.
const ANT: &str = "sk-ant-api03-2bhnaGj7MxJu_2tFY8Wtu1mz2SsPldTzQO2SRIk-NElPZ7bFH8QEpQZW_tSIXMXQjBGWNki1A-8ex7AKtWx1DmmXkFZh9AA";
const ANT_BAD: &str = "sk-ant-api03-olv6-K9FhnrXoVJKSayGZ-ZY6h65qMg7fKdrtmGSfHUQlViOYYOIZDvfXTiKFR08YuLnKuE6mLX6f13C6lcdoZgbchXb0AA";
const ANT_ADMIN: &str = "sk-ant-admin01-TtCNvky3y4bJ0Ac7ymbdoI4bz8PG3DGhbA8yJGZO78MW6xShpLCvsAP3JkAZF0ZiUr0Gnh842KvxShP0FZTYEeBU0t2jhAA";
const ANT_ADMIN_BAD: &str = "sk-ant-admin01-3h9WAXoX1sT24RpRadmZ7r_KmV3rZZ7VQKXJPBZsrDx4bSO9eB_GrB7B9KAoAH2cpAmE9RrU1eIeZ3xRFQ89t856hsl6EAA";
const GOOGLE: &str = "AIzagSPpYrJZCZcXVDSv8-hPNV1nDqUTnca_UfC";
const GOOGLE_DISABLED: &str = "AIzaeVOi5BmeSCSaC2uGqTyKTxZNZhv2AS8L8zf";
const GOOGLE_BAD: &str = "AIzazwADwjfWKZVEVzid0tPISP-zygq1xHr9HDb";
const GHP: &str = "ghp_5Dt17jQAxtQGyKJchnF0oLccEmmKO3G8S8bf";
const GHP_BAD: &str = "ghp_kPg94u7k5YZpcyyR5tdHlzMf8LpCAz3hcUrD";
const GHO: &str = "gho_Ud81Cz5DErmIlb5BhzaKcjbhYDRj92U8Xrrv";
const GHU: &str = "ghu_RevUnaHjVjGBYzTyUINxu19D7G4wc5veDvLO";
const GHS: &str = "ghs_qnSCBDGBq2eqMZL5tXxds4D6vkcdVoIpsR3J";
const GHS_BAD: &str = "ghs_OU7mZj0FnkcBoosRVAIYwCYYGhzd7tQPLprq";
const GH_PAT: &str =
    "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";
const GLPAT: &str = "glpat-kCKn-tvc_1yWXCZf_MTL";
const GLPAT_REVOKED: &str = "glpat-Bh2rXpSGOwPHSuvmjbDx";
const GLPAT_BAD: &str = "glpat-eKDF_3Y_fvIGC-kFj3Np";
const XOXB: &str = "xoxb-249499335314-9134763250065-fwA9u1udPvkP6LWl0g34iwXg";
const XOXB_BAD: &str = "xoxb-955426655708-9346410952537-Q093D7J7EoJFHfQNMZF5d7MN";
const XOXB_ODD: &str = "xoxb-980660389588-9004586403105-F5uMeF3UeFJFdYytBVCLhWGI";
const XOXP: &str = "xoxp-831004518797-384579682967-4992143891514-b6cb69a6eda4eaa3845f711740a768d6";
const XAPP: &str = "xapp-1-A0H5RQD6NFU-2469409791116-453e96b8da57d890c9e7c218fb7bb543db84a94a2964bc21ece6d9d11f20d2db";
const SK_LIVE: &str = "sk_live_umpEtyuhJainQtWJ5BMEVfWa";
const SK_TEST: &str = "sk_test_7cDcaASazhLC3qZkwgucruO2";
const SK_BAD: &str = "sk_live_RpGXqKIJMPn9mwhj7Z74uRhp";
const RK: &str = "rk_live_NWOnJGxnFCcRfAue7vwrF2dd";
const RK_NO_BALANCE: &str = "rk_live_vTg0lwRAIM8D6gipEWRnujrO";
const RK_BAD: &str = "rk_live_AHdmgrXXV9Uv1boNjXmPbiDP";
const SENDGRID: &str = "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";
const SENDGRID_BAD: &str = "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";
const TWILIO_SID: &str = "AC593721358413e461a6c6fa735f618e12";
const TWILIO_TOKEN: &str = "cb2908fbc4331a04fd3172593f65cc71";
const TWILIO_TOKEN_BAD: &str = "499a9b7fc45204abf3215c5d3691cd96";
const TWILIO_KEY_SID: &str = "SKc17af6feda9c795863d07797c10a92d0";
const TWILIO_KEY_SECRET: &str = "0x3l9Ah5lvCL30sufH7NWVg9WeNW5UYa";
const TWILIO_KEY_SECRET_BAD: &str = "e7qXcrnzOe4uMzFzUI3o29PypQT2DjJq";
const MAILGUN: &str = "key-5d5403e58cad608ed7e11663819fd37c";
const MAILGUN_BAD: &str = "key-eead45ccd108c3905de7a53e6001ef3a";
const HF: &str = "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";
const HF_BAD: &str = "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";
const NPM: &str = "npm_zvK1bDV0hCduvMhT5vVavOXkh3KeAJCYQ4nH";
const NPM_BAD: &str = "npm_nxJTYRqj5rq04pNRSRclXvJXNP6yCEN8iXGJ";
const AWS_ID: &str = "AKIALPD43FA7WGQUVWBE";
const AWS_SECRET: &str = "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";
const AWS_SECRET_BAD: &str = "xS6KEL/UH/SQGRZfIoF17duT4ZVbMTZ6RKnuFv9+";
const OWM: &str = "aa0ef3e1f60fa664c37df6cab6ba2d27";
const OWM_BAD: &str = "eb1e60fdb924ea5eccfdc0b6ff0bdfa9";

fn basic(user: &str, pass: &str) -> String {
    use std::fmt::Write;
    // A tiny independent base64 for the imitation.
    let input = format!("{user}:{pass}").into_bytes();
    let abc = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::from("Basic ");
    for c in input.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= c.len() {
                out.write_char(abc[(n >> (18 - 6 * i) & 63) as usize] as char)
                    .unwrap();
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn unauthorized() -> Reply {
    Reply::json(401, json!({"message": "Bad credentials"}))
}

/// The imitation of every covered provider, by host and path.
fn providers(req: &Seen, _n: usize) -> Reply {
    let auth = req.header("authorization").unwrap_or("");
    let bearer = auth.strip_prefix("Bearer ").unwrap_or("");
    let path = req.target.split('?').next().unwrap_or("");
    match (req.host(), req.method.as_str(), path) {
        ("api.anthropic.com", "GET", "/v1/models") => match req.header("x-api-key") {
            Some(k) if k == ANT && req.header("anthropic-version").is_some() => {
                Reply::json(200, json!({"data": [{"id": "claude-x"}]}))
                    .header("anthropic-organization-id", "org-7f3a")
            }
            _ => Reply::json(401, json!({"type": "error", "error": {"type": "authentication_error"}})),
        },
        ("api.anthropic.com", "GET", "/v1/organizations/me") => match req.header("x-api-key") {
            Some(ANT_ADMIN) => Reply::json(200, json!({"id": "org-7f3a", "type": "organization", "name": "Acme Corp"})),
            _ => Reply::json(401, json!({"type": "error"})),
        },
        ("generativelanguage.googleapis.com", "GET", "/v1beta/models") => {
            match req.header("x-goog-api-key") {
                Some(GOOGLE) => Reply::json(200, json!({"models": []})),
                Some(GOOGLE_DISABLED) => Reply::json(
                    403,
                    json!({"error": {"code": 403, "status": "PERMISSION_DENIED",
                        "details": [{"reason": "SERVICE_DISABLED"}]}}),
                ),
                _ => Reply::json(
                    400,
                    json!({"error": {"code": 400, "status": "INVALID_ARGUMENT",
                        "details": [{"reason": "API_KEY_INVALID"}]}}),
                ),
            }
        }
        ("api.github.com", "GET", "/user") => match bearer {
            GHP => Reply::json(200, json!({"login": "octocat", "id": 1}))
                .header("x-oauth-scopes", "repo, read:org")
                .header("github-authentication-token-expiration", "2030-01-01 00:00:00 UTC"),
            GHO | GHU | GH_PAT => Reply::json(200, json!({"login": "octocat", "id": 1})),
            GHS => Reply::json(403, json!({"message": "Resource not accessible by integration"})),
            _ => unauthorized(),
        },
        ("api.github.com", "GET", "/installation/repositories") => match bearer {
            GHS => Reply::json(200, json!({"total_count": 1, "repositories": [{"owner": {"login": "acme-org"}}]})),
            _ => unauthorized(),
        },
        ("gitlab.com", "GET", "/api/v4/personal_access_tokens/self") => {
            match req.header("private-token") {
                Some(GLPAT) => Reply::json(200, json!({"name": "ci-token", "revoked": false, "active": true,
                    "scopes": ["api", "read_repository"], "expires_at": "2030-01-01"})),
                Some(GLPAT_REVOKED) => Reply::json(200, json!({"name": "old", "revoked": true, "active": false})),
                _ => Reply::json(401, json!({"message": "401 Unauthorized"})),
            }
        }
        ("slack.com", "POST", "/api/auth.test") => match bearer {
            XOXB => Reply::json(200, json!({"ok": true, "url": "https://acme.slack.com/", "team": "Acme", "user": "deploybot"}))
                .header("x-oauth-scopes", "chat:write,channels:read"),
            XOXP => Reply::json(200, json!({"ok": true, "url": "https://acme.slack.com/", "user": "alice"})),
            XOXB_ODD => Reply::json(200, json!({"ok": false, "error": "ratelimited"})),
            _ => Reply::json(200, json!({"ok": false, "error": "invalid_auth"})),
        },
        ("slack.com", "POST", "/api/apps.connections.open") => match bearer {
            XAPP => Reply::json(200, json!({"ok": true, "url": "wss://wss.slack.test/link"})),
            _ => Reply::json(200, json!({"ok": false, "error": "invalid_auth"})),
        },
        ("api.stripe.com", "GET", "/v1/balance") => match bearer {
            SK_LIVE | RK => Reply::json(200, json!({"object": "balance", "livemode": true})),
            SK_TEST => Reply::json(200, json!({"object": "balance", "livemode": false})),
            RK_NO_BALANCE => Reply::json(403, json!({"error": {"type": "permission_error"}})),
            _ => Reply::json(401, json!({"error": {"type": "invalid_request_error"}})),
        },
        ("api.sendgrid.com", "GET", "/v3/scopes") => match bearer {
            SENDGRID => Reply::json(200, json!({"scopes": ["mail.send", "alerts.read"]})),
            _ => Reply::json(401, json!({"errors": [{"message": "authorization required"}]})),
        },
        ("api.twilio.com", "GET", p) if p == format!("/2010-04-01/Accounts/{TWILIO_SID}.json") => {
            if auth == basic(TWILIO_SID, TWILIO_TOKEN) {
                Reply::json(200, json!({"sid": TWILIO_SID, "friendly_name": "Acme Prod", "status": "active", "type": "Full"}))
            } else {
                Reply::json(401, json!({"code": 20003}))
            }
        }
        ("api.twilio.com", "GET", "/2010-04-01/Accounts.json") => {
            if auth == basic(TWILIO_KEY_SID, TWILIO_KEY_SECRET) {
                Reply::json(200, json!({"accounts": [{"friendly_name": "Acme Prod"}]}))
            } else {
                Reply::json(401, json!({"code": 20003}))
            }
        }
        ("api.mailgun.net", "GET", "/v3/domains") => {
            if auth == basic("api", MAILGUN) {
                Reply::json(200, json!({"total_count": 1, "items": [{"name": "mg.acme.test"}]}))
            } else {
                Reply::new(401, "Forbidden")
            }
        }
        ("huggingface.co", "GET", "/api/whoami-v2") => match bearer {
            HF => Reply::json(200, json!({"type": "user", "name": "alice",
                "auth": {"accessToken": {"displayName": "ci", "role": "write"}}})),
            _ => Reply::json(401, json!({"error": "Invalid credentials in Authorization header"})),
        },
        ("registry.npmjs.org", "GET", "/-/whoami") => match bearer {
            NPM => Reply::json(200, json!({"username": "alice"})),
            _ => Reply::json(401, json!({"error": "not logged in"})),
        },
        ("sts.amazonaws.com", "POST", "/") => sts(req),
        ("api.openweathermap.org", "GET", "/data/2.5/weather") => {
            if req.target.contains(&format!("appid={OWM}")) {
                Reply::json(200, json!({"name": "London", "cod": 200}))
            } else {
                Reply::json(401, json!({"cod": 401, "message": "Invalid API key."}))
            }
        }
        _ => Reply::new(404, "no such endpoint"),
    }
}

/// STS checks the SigV4 signature against the secret it knows for the key id.
fn sts(req: &Seen) -> Reply {
    let body = String::from_utf8_lossy(&req.body);
    let date = req.header("x-amz-date").unwrap_or("");
    let ctype = req.header("content-type").unwrap_or("");
    if body != "Action=GetCallerIdentity&Version=2011-06-15" || date.len() != 16 {
        return Reply::new(
            400,
            "<ErrorResponse><Error><Code>InvalidAction</Code></Error></ErrorResponse>",
        );
    }
    let expected = authorization(
        &SigningInput {
            method: "POST",
            path: "/",
            query: "",
            headers: &[
                ("content-type", ctype),
                ("host", "sts.amazonaws.com"),
                ("x-amz-date", date),
            ],
            body: &req.body,
            region: "us-east-1",
            service: "sts",
            amz_date: date,
        },
        AWS_ID,
        AWS_SECRET,
    );
    if req.header("authorization") == Some(expected.as_str()) {
        Reply::new(200, "<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/deploy</Arn><UserId>AIDAEXAMPLE</UserId><Account>123456789012</Account></GetCallerIdentityResult></GetCallerIdentityResponse>")
    } else {
        Reply::new(403, "<ErrorResponse><Error><Type>Sender</Type><Code>SignatureDoesNotMatch</Code></Error></ErrorResponse>")
    }
}

fn text(good: bool) -> String {
    let pick = |g: &str, b: &str| if good { g.to_string() } else { b.to_string() };
    let mut lines = vec![
        format!("ANTHROPIC_API_KEY={}", pick(ANT, ANT_BAD)),
        format!("ANTHROPIC_ADMIN_KEY={}", pick(ANT_ADMIN, ANT_ADMIN_BAD)),
        format!("GOOGLE_API_KEY={}", pick(GOOGLE, GOOGLE_BAD)),
        format!("GITHUB_TOKEN={}", pick(GHP, GHP_BAD)),
        format!("GH_INSTALLATION={}", pick(GHS, GHS_BAD)),
        format!("GITLAB_TOKEN={}", pick(GLPAT, GLPAT_BAD)),
        format!("SLACK_BOT_TOKEN={}", pick(XOXB, XOXB_BAD)),
        format!("STRIPE_KEY={}", pick(SK_LIVE, SK_BAD)),
        format!("STRIPE_RK={}", pick(RK, RK_BAD)),
        format!("SENDGRID_API_KEY={}", pick(SENDGRID, SENDGRID_BAD)),
        format!("TWILIO_ACCOUNT_SID={TWILIO_SID}"),
        format!("TWILIO_AUTH_TOKEN={}", pick(TWILIO_TOKEN, TWILIO_TOKEN_BAD)),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        format!("TWILIO_API_KEY={TWILIO_KEY_SID}"),
        format!(
            "TWILIO_API_SECRET={}",
            pick(TWILIO_KEY_SECRET, TWILIO_KEY_SECRET_BAD)
        ),
        format!("MAILGUN_API_KEY={}", pick(MAILGUN, MAILGUN_BAD)),
        format!("HF_TOKEN={}", pick(HF, HF_BAD)),
        format!("NPM_TOKEN={}", pick(NPM, NPM_BAD)),
        format!("aws_access_key_id = {AWS_ID}"),
        format!(
            "aws_secret_access_key = {}",
            pick(AWS_SECRET, AWS_SECRET_BAD)
        ),
        format!("OPENWEATHERMAP_API_KEY={}", pick(OWM, OWM_BAD)),
    ];
    if good {
        lines.extend([
            format!("GOOGLE_MAPS_KEY={GOOGLE_DISABLED}"),
            format!("GITHUB_OAUTH={GHO}"),
            format!("GITHUB_APP_USER={GHU}"),
            format!("GH_PAT={GH_PAT}"),
            format!("GITLAB_OLD={GLPAT_REVOKED}"),
            format!("SLACK_USER_TOKEN={XOXP}"),
            format!("SLACK_APP_TOKEN={XAPP}"),
            format!("SLACK_OTHER={XOXB_ODD}"),
            format!("STRIPE_TEST={SK_TEST}"),
            format!("STRIPE_RK2={RK_NO_BALANCE}"),
        ]);
    }
    lines.join("\n") + "\n"
}

fn rules_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/validation-rules")
}

fn scan(set: &Arc<RuleSet>, text: &str) -> Vec<Finding> {
    let scanner = Scanner::new(Matcher::new(Arc::clone(set)).unwrap());
    let mut scratch = scanner.scratch();
    scanner.handle(
        Event::File {
            path: "leak.env",
            bytes: text.as_bytes(),
        },
        &mut scratch,
    );
    scanner.finish().into_outcome().findings
}

fn transport(connect_to: &[String], pki: Option<&Pki>, timeout: Duration) -> UreqTransport {
    UreqTransport::new(&ClientOptions {
        timeout,
        connect_to: connect_to.iter().map(|c| c.parse().unwrap()).collect(),
        extra_ca: pki.map(|p| vec![p.ca_der.clone()]).unwrap_or_default(),
        env_proxy: false,
    })
}

fn quick() -> Options {
    Options {
        per_host_rate: 200.0,
        backoff_base: Duration::from_millis(50),
        ..Options::default()
    }
}

struct Log(Mutex<Vec<String>>);

impl Log {
    fn new() -> Log {
        Log(Mutex::new(Vec::new()))
    }
    fn sink(&self) -> impl Fn(u8, &str) + Sync + '_ {
        |_, m| self.0.lock().unwrap().push(m.to_string())
    }
    fn text(&self) -> String {
        self.0.lock().unwrap().join("\n")
    }
}

fn by_secret(findings: &[Finding]) -> HashMap<String, (String, Validation)> {
    findings
        .iter()
        .map(|f| {
            (
                f.secret.expose().to_string(),
                (f.rule_id.clone(), f.validation.clone().unwrap()),
            )
        })
        .collect()
}

#[test]
fn the_test_rule_files_load_and_pass_their_examples() {
    let set = Arc::new(RuleSet::trusted_files(&[rules_dir()]).unwrap());
    let with_check = set.rules.iter().filter(|r| r.validate.is_some()).count();
    assert_eq!(with_check, 22);
    let problems = keyhound::rulecheck::check(Arc::clone(&set), |_| true).unwrap();
    let text: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
    assert!(text.is_empty(), "{}", text.join("\n"));
}

#[test]
fn every_covered_provider_end_to_end() {
    let pki = Pki::new(HOSTS);
    let server = Server::start(&pki, providers);
    let set = Arc::new(RuleSet::trusted_files(&[rules_dir()]).unwrap());
    let t = transport(&[server.connect_all()], Some(&pki), Duration::from_secs(5));
    let log = Log::new();

    let mut good = scan(&set, &text(true));
    let stats = validate::validate_findings(&set, &mut good, &t, &quick(), &log.sink());
    let got = by_secret(&good);
    let state = |s: &str| {
        let (rule, v) = got
            .get(s)
            .unwrap_or_else(|| panic!("no finding for {s:.12}…"));
        (rule.as_str(), v.state)
    };
    let facts = |s: &str| got[s].1.clone();
    let valid = [
        (ANT, "anthropic.api-key"),
        (ANT_ADMIN, "anthropic.admin-key"),
        (GOOGLE, "google.api-key"),
        (GOOGLE_DISABLED, "google.api-key"),
        (GHP, "github.classic-pat"),
        (GHO, "github.oauth-token"),
        (GHU, "github.user-to-server-token"),
        (GHS, "github.server-to-server-token"),
        (GH_PAT, "github.fine-grained-pat"),
        (GLPAT, "gitlab.pat"),
        (XOXB, "slack.bot-token"),
        (XOXP, "slack.user-token"),
        (XAPP, "slack.app-token"),
        (SK_LIVE, "stripe.secret-key"),
        (SK_TEST, "stripe.secret-key"),
        (RK, "stripe.restricted-key"),
        (RK_NO_BALANCE, "stripe.restricted-key"),
        (SENDGRID, "sendgrid.api-key"),
        (TWILIO_TOKEN, "twilio.auth-token"),
        (TWILIO_KEY_SECRET, "twilio.api-key"),
        (MAILGUN, "mailgun.api-key"),
        (HF, "huggingface.access-token"),
        (NPM, "npm.access-token"),
        (AWS_SECRET, "aws.secret-access-key"),
        (OWM, "openweathermap.api-key"),
    ];
    for (secret, rule) in valid {
        assert_eq!(
            state(secret),
            (rule, LiveState::Valid),
            "{rule}: {:?}",
            facts(secret)
        );
    }
    assert_eq!(state(GLPAT_REVOKED), ("gitlab.pat", LiveState::Invalid));
    assert_eq!(
        facts(XOXB_ODD).reason,
        Some(UnknownReason::UnexpectedStatus(200))
    );
    assert_eq!(good.len(), valid.len() + 2);
    assert_eq!(stats.valid, valid.len());

    // What each provider said about its key.
    assert_eq!(facts(ANT).identity.as_deref(), Some("org-7f3a"));
    assert_eq!(facts(ANT_ADMIN).identity.as_deref(), Some("Acme Corp"));
    assert_eq!(facts(ANT_ADMIN).key_type.as_deref(), Some("admin"));
    assert_eq!(
        facts(GOOGLE_DISABLED).key_type.as_deref(),
        Some("API not enabled for its project")
    );
    let gh = facts(GHP);
    assert_eq!(gh.identity.as_deref(), Some("octocat"));
    assert_eq!(gh.scopes, ["repo", "read:org"]);
    assert_eq!(gh.expiry.as_deref(), Some("2030-01-01 00:00:00 UTC"));
    assert_eq!(facts(GHS).identity.as_deref(), Some("acme-org"));
    let gl = facts(GLPAT);
    assert_eq!(gl.identity.as_deref(), Some("ci-token"));
    assert_eq!(gl.scopes, ["api", "read_repository"]);
    assert_eq!(gl.expiry.as_deref(), Some("2030-01-01"));
    let sl = facts(XOXB);
    assert_eq!(sl.identity.as_deref(), Some("https://acme.slack.com/"));
    assert_eq!(sl.scopes, ["chat:write", "channels:read"]);
    assert_eq!(facts(SK_LIVE).key_type.as_deref(), Some("live"));
    assert_eq!(facts(SK_TEST).key_type.as_deref(), Some("test"));
    assert_eq!(facts(RK).key_type.as_deref(), Some("restricted live"));
    assert_eq!(
        facts(RK_NO_BALANCE).key_type.as_deref(),
        Some("restricted (no balance access)")
    );
    assert_eq!(facts(SENDGRID).scopes, ["mail.send", "alerts.read"]);
    assert_eq!(facts(TWILIO_TOKEN).identity.as_deref(), Some("Acme Prod"));
    assert_eq!(facts(TWILIO_TOKEN).key_type.as_deref(), Some("Full"));
    assert_eq!(facts(MAILGUN).identity.as_deref(), Some("mg.acme.test"));
    let hf = facts(HF);
    assert_eq!(hf.identity.as_deref(), Some("alice"));
    assert_eq!(hf.scopes, ["write"]);
    assert_eq!(facts(NPM).identity.as_deref(), Some("alice"));
    assert_eq!(
        facts(AWS_SECRET).identity.as_deref(),
        Some("arn:aws:iam::123456789012:user/deploy")
    );
    assert_eq!(
        facts(AWS_SECRET).key_type.as_deref(),
        Some("long-term access key")
    );

    // The rejected twins are invalid.
    let mut bad = scan(&set, &text(false));
    validate::validate_findings(&set, &mut bad, &t, &quick(), &log.sink());
    let got_bad = by_secret(&bad);
    for s in [
        ANT_BAD,
        ANT_ADMIN_BAD,
        GOOGLE_BAD,
        GHP_BAD,
        GHS_BAD,
        GLPAT_BAD,
        XOXB_BAD,
        SK_BAD,
        RK_BAD,
        SENDGRID_BAD,
        TWILIO_TOKEN_BAD,
        TWILIO_KEY_SECRET_BAD,
        MAILGUN_BAD,
        HF_BAD,
        NPM_BAD,
        AWS_SECRET_BAD,
        OWM_BAD,
    ] {
        let (rule, v) = &got_bad[s];
        assert_eq!(v.state, LiveState::Invalid, "{rule}: {v:?}");
    }

    // Every request went to the rule's host, under its own TLS name, and no secret is sent to
    // a host other than its provider's.
    let seen = server.seen();
    assert_eq!(seen.len(), good.len() + bad.len());
    let host_of: HashMap<&str, &str> = set
        .rules
        .iter()
        .filter_map(|r| Some((r.id.as_str(), r.validate.as_ref()?.host.as_str())))
        .collect();
    for req in &seen {
        assert_eq!(req.sni.as_deref(), Some(req.host()), "{}", req.target);
    }
    for f in good.iter().chain(&bad) {
        let host = host_of[f.rule_id.as_str()];
        let carriers: Vec<&Seen> = seen
            .iter()
            .filter(|r| r.raw().contains(f.secret.expose()) || carries_basic(r, f))
            .collect();
        for r in &carriers {
            assert_eq!(r.host(), host, "{} sent to {}", f.rule_id, r.host());
        }
        if f.rule_id != "aws.secret-access-key" {
            assert_eq!(carriers.len(), 1, "{}", f.rule_id);
        }
    }
    // The AWS secret itself is never sent, only its signature.
    assert!(seen.iter().all(|r| !r.raw().contains(AWS_SECRET)));
    // Only OpenWeatherMap puts the key in the URL, as its rule declares.
    for req in &seen {
        if req.host() != "api.openweathermap.org" {
            for f in good.iter().chain(&bad) {
                assert!(!req.target.contains(f.secret.expose()), "{}", req.target);
            }
        }
    }
    let logged = log.text();
    for f in good.iter().chain(&bad) {
        assert!(
            !logged.contains(f.secret.expose()),
            "{} leaked into the log",
            f.rule_id
        );
    }
}

fn carries_basic(r: &Seen, f: &Finding) -> bool {
    let Some(auth) = r.header("authorization") else {
        return false;
    };
    let user = f.partner.as_ref().map_or("api", |p| p.expose());
    auth == basic(user, f.secret.expose())
}

// OpenAI legacy keys, one per behaviour of the imitation.
const OK_KEY: &str = "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";
const BAD_KEY: &str = "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";
const FORBIDDEN_KEY: &str = "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";
const LIMITED_KEY: &str = "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";
const RETRY_AFTER_KEY: &str = "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";
const BROKEN_KEY: &str = "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";
const SLOW_KEY: &str = "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";
const REDIRECT_KEY: &str = "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";
const ALL_KEYS: &[&str] = &[
    OK_KEY,
    BAD_KEY,
    FORBIDDEN_KEY,
    LIMITED_KEY,
    RETRY_AFTER_KEY,
    BROKEN_KEY,
    SLOW_KEY,
    REDIRECT_KEY,
];

/// api.openai.com, misbehaving on purpose depending on the key.
fn openai(req: &Seen, _n: usize) -> Reply {
    let key = req
        .header("authorization")
        .and_then(|a| a.strip_prefix("Bearer "))
        .unwrap_or("");
    match key {
        OK_KEY => Reply::json(200, json!({"object": "list", "data": []}))
            .header("openai-organization", "acme-research"),
        FORBIDDEN_KEY => Reply::json(
            403,
            json!({"error": {"code": "unsupported_country_region_territory"}}),
        ),
        LIMITED_KEY => Reply::json(429, json!({"error": {"code": "rate_limit_exceeded"}})),
        RETRY_AFTER_KEY => Reply::json(429, json!({})).header("retry-after", "1"),
        BROKEN_KEY => Reply::new(500, "oops"),
        SLOW_KEY => Reply::json(200, json!({})).delayed(Duration::from_secs(3)),
        REDIRECT_KEY => Reply::new(302, "").header("location", "https://evil.example/collect"),
        _ => Reply::json(401, json!({"error": {"code": "invalid_api_key"}})),
    }
}

#[test]
fn fault_cases_cache_back_off_and_no_leaks() {
    let pki = Pki::new(HOSTS);
    // The RETRY_AFTER key is rate limited once, then accepted.
    let first_retry_after = Arc::new(Mutex::new(true));
    let flag = Arc::clone(&first_retry_after);
    let server = Server::start(&pki, move |req, n| {
        let key = req.header("authorization").unwrap_or("");
        if key.ends_with(RETRY_AFTER_KEY) && !std::mem::replace(&mut *flag.lock().unwrap(), false) {
            return Reply::json(200, json!({})).header("openai-organization", "acme-research");
        }
        openai(req, n)
    });
    let evil = Server::start(&pki, |_, _| Reply::new(200, "thanks"));
    let set = Arc::new(RuleSet::builtin().unwrap());
    let t = transport(
        &[evil.connect_host("evil.example"), server.connect_all()],
        Some(&pki),
        Duration::from_secs(1),
    );
    // Each key in several files, and the OK key many times: one check per key.
    let mut text = String::new();
    for (i, k) in ALL_KEYS.iter().enumerate() {
        for j in 0..3 {
            text.push_str(&format!("KEY_{i}_{j}={k}\n"));
        }
    }
    for j in 0..20 {
        text.push_str(&format!("again_{j} = \"{OK_KEY}\"\n"));
    }
    let mut findings = scan(&set, &text);
    assert_eq!(findings.len(), ALL_KEYS.len() * 3 + 20);
    let log = Log::new();
    let started = Instant::now();
    let stats = validate::validate_findings(&set, &mut findings, &t, &quick(), &log.sink());
    let elapsed = started.elapsed();
    let got = by_secret(&findings);
    let v = |k: &str| got[k].1.clone();

    assert_eq!(v(OK_KEY).state, LiveState::Valid);
    assert_eq!(v(OK_KEY).identity.as_deref(), Some("acme-research"));
    assert_eq!(v(BAD_KEY).state, LiveState::Invalid);
    assert_eq!(
        v(FORBIDDEN_KEY).reason,
        Some(UnknownReason::UnexpectedStatus(403))
    );
    assert_eq!(v(LIMITED_KEY).summary(), "unknown (rate limited)");
    assert_eq!(v(RETRY_AFTER_KEY).state, LiveState::Valid);
    assert_eq!(v(BROKEN_KEY).reason, Some(UnknownReason::ServerError(500)));
    assert_eq!(v(SLOW_KEY).summary(), "unknown (timeout)");
    assert_eq!(v(REDIRECT_KEY).reason, Some(UnknownReason::Redirect(302)));

    // Request counts: one per key, three for the always-limited key (1 + 2 retries), two for
    // the one that said Retry-After: 1.
    let seen = server.seen();
    let count = |k: &str| {
        seen.iter()
            .filter(|r| r.header("authorization") == Some(&format!("Bearer {k}")))
            .count()
    };
    assert_eq!(count(OK_KEY), 1);
    assert_eq!(count(LIMITED_KEY), 3);
    assert_eq!(count(RETRY_AFTER_KEY), 2);
    for k in [BAD_KEY, FORBIDDEN_KEY, BROKEN_KEY, SLOW_KEY, REDIRECT_KEY] {
        assert_eq!(count(k), 1);
    }
    assert_eq!(seen.len(), 11);
    assert_eq!(stats.requests, 11);
    assert_eq!(stats.checked, ALL_KEYS.len());
    // Retry-After: 1 was waited for.
    assert!(elapsed >= Duration::from_secs(1), "{elapsed:?}");

    // Everything went to api.openai.com; the redirect target was never contacted.
    assert!(seen.iter().all(|r| r.host() == "api.openai.com"
        && r.sni.as_deref() == Some("api.openai.com")
        && r.target == "/v1/models"));
    assert_eq!(evil.connections(), 0);
    let logged = log.text();
    assert!(
        logged.contains("openai.legacy-key sk-AOqgH…(51 chars)"),
        "{logged}"
    );
    assert!(logged.contains("retrying in"), "{logged}");
    for k in ALL_KEYS {
        assert!(!logged.contains(k), "a secret reached the log:\n{logged}");
    }
}

#[test]
fn an_untrusted_certificate_is_a_tls_error() {
    let pki = Pki::new(HOSTS);
    let server = Server::start(&pki, openai);
    let set = Arc::new(RuleSet::builtin().unwrap());
    // No extra CA: the test CA is not among the default roots.
    let t = transport(&[server.connect_all()], None, Duration::from_secs(5));
    let mut findings = scan(&set, &format!("k={OK_KEY}\n"));
    validate::validate_findings(&set, &mut findings, &t, &quick(), &|_, _| {});
    let v = findings[0].validation.clone().unwrap();
    match v.reason {
        Some(UnknownReason::TlsError(e)) => assert!(e.contains("UnknownIssuer"), "{e}"),
        other => panic!("{other:?}"),
    }
    // The handshake failed, so no request (and no secret) reached the server.
    assert!(server.seen().is_empty());
    assert_eq!(server.connections(), 1);
}

#[test]
fn a_certificate_for_another_name_is_refused() {
    // The server's certificate does not cover api.openai.com.
    let pki = Pki::new(&["other.example"]);
    let server = Server::start(&pki, openai);
    let set = Arc::new(RuleSet::builtin().unwrap());
    let t = transport(&[server.connect_all()], Some(&pki), Duration::from_secs(5));
    let mut findings = scan(&set, &format!("k={OK_KEY}\n"));
    validate::validate_findings(&set, &mut findings, &t, &quick(), &|_, _| {});
    let v = findings[0].validation.clone().unwrap();
    assert!(
        matches!(v.reason, Some(UnknownReason::TlsError(_))),
        "{v:?}"
    );
    assert!(server.seen().is_empty());
}
