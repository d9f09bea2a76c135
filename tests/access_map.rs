//! Access maps end to end against a loopback HTTPS imitation of every mapped provider: scan a
//! text with the built-in rules, validate with `access_map` on through the real transport
//! (`--connect-to` style routing and a test CA), and check each map, the requests each key
//! cost (method and path, host by host), and that nothing went to a host its rule does not
//! declare.

mod common;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Pki, Reply, Seen, Server};
use keyhound::finding::{Finding, LiveState};
use keyhound::matcher::Matcher;
use keyhound::rules::syntax::Level;
use keyhound::rules::RuleSet;
use keyhound::scan::Scanner;
use keyhound::source::Event;
use keyhound::validate::access::{AccessMap, Severity};
use keyhound::validate::aws::{authorization, SigningInput};
use keyhound::validate::{self, ClientOptions, Options, UreqTransport};
use ring::signature::{RsaKeyPair, UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256};
use serde_json::{json, Value};

const HOSTS: &[&str] = &[
    "api.github.com",
    "gitlab.com",
    "api.bitbucket.org",
    "sts.amazonaws.com",
    "iam.amazonaws.com",
    "oauth2.googleapis.com",
    "cloudresourcemanager.googleapis.com",
    "login.microsoftonline.com",
    "management.azure.com",
    "api.openai.com",
    "api.anthropic.com",
    "huggingface.co",
    "slack.com",
    "api.stripe.com",
    "api.sendgrid.com",
    "api.twilio.com",
    "api.mailgun.net",
    "registry.npmjs.org",
    "api.datadoghq.com",
    "api.digitalocean.com",
    "api.cloudflare.com",
    "api.heroku.com",
    "api.vercel.com",
    "api.netlify.com",
    "api.linear.app",
    "api.notion.com",
    "api.getpostman.com",
    "api.acme.test",
    "evil.example",
];

// Format-exact random fakes.
const GHP_ADMIN: &str = "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";
const GHP_READ: &str = "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";
const GH_PAT: &str =
    "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";
const GLPAT: &str = "glpat-6DS0Aasi3XHXMVBXBD6E";
const BB_USER: &str = "deploybot";
const ATBB: &str = "ATBBWC9b6fKIzqFPF8AOSq4wdLszm5zHLaGa";
const AWS_ID: &str = "AKIARZ64G6E5A6PK3XOO";
const AWS_SECRET: &str = "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";
const AWS_ID_RO: &str = "AKIASXTOXBIEVFT637WC";
const AWS_SECRET_RO: &str = "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";
const GCP_KID: &str = "11bc5d113138cb86e08d77a91958d286df31b776";
const GCP_EMAIL: &str = "deployer@acme-prod-42.iam.gserviceaccount.com";
const GCP_KEY: &str = include_str!("data/access-map/service-account-test-key.pem");
const AZ_TENANT: &str = "efc82c9f-cf48-497f-b4b0-5c190351a7a6";
const AZ_CLIENT: &str = "5703dbd6-174e-4480-8da5-782869b37181";
const AZ_SUB: &str = "df31ae23-c1c9-499d-ad5b-b3c1faf8c878";
const AZ_SECRET: &str = "4Jz5Q~-573F5ddk-488coTo8uHYDcBTgmo-Sjtrp";
const OPENAI: &str = "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";
const OPENAI_ADMIN: &str = "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";
const ANT: &str = "sk-ant-api03-SCcyQUpKsXstUyXzTyMwLiIsbwO0o2GhUonk5NmpqkEMvaH-0EYuyv7fIt3h95KywrgDyY06yZV_XqU3dVSwTTgl2CCYYAA";
const ANT_ADMIN: &str = "sk-ant-admin01-hQsK2_p_jTkIJQ3aEcIQqd3k0WeTNV65qlAXCJOWvr6WgmTrvJXtp9x1oRZ9UQT1A6is8fUMIzXUKaLbG5OYW-fdz3i9rAA";
const HF: &str = "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";
const XOXB: &str = "xoxb-661259503834-2555609374951-xxqebo7K72333nDAZAgYsngb";
const SK_LIVE: &str = "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";
const RK_LIVE: &str = "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";
const SENDGRID: &str = "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";
const TWILIO_SID: &str = "AC4ada0ef5f7fe0c74a227c9cd502bd620";
const TWILIO_TOKEN: &str = "5360a66c717cc749c4091da8be7b5a51";
const MAILGUN: &str = "key-d9de6095d86213bac04e057713432da7";
const NPM: &str = "npm_KByMj4YknLAFJ5AItCQOOyKDpBoh8AOyaKGf";
const DD_API: &str = "8e564b135c3a6d98050cb0c16d257dce";
const DD_APP: &str = "c868d7234904f6b3991ac4770d000165128edae6";
const DO: &str = "dop_v1_03eaf215a288a5e36ec0bc91c4a243db80efc25edc191234e36e8659db13e6a1";
const CF: &str = "cfut_nUTx8xmHmiy4xEVotJsfmmMPzRCt5u6cNf26Tn2ud4cd4cd0";
const HEROKU: &str = "HRKU-AAtRhdr_4SjvcjQo7t5EdCVc8YRttjIfyT7BqBF2xLPx4E4QJuQ0QhXdrGoE";
const VERCEL: &str = "vcp_SXJF-Bf_SbNuyvb81pIXvkqsMtIF3pKeHJ8dzUX0zsahkTFAQT4z6L7T";
const NETLIFY: &str = "nfp_1meqmBxDAaLqFgnHPJYnYYKhEgG9o1A5yGcT";
const LINEAR: &str = "lin_api_eoRbMeBsHzHi3gOdWDzaWeqaRsIl2SeKhlN5tJ9E";
const NOTION: &str = "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";
const POSTMAN: &str = "PMAK-79da8e0e5ece35bfa38a114f-acf801a15bf3d3d6b971beb02e330a32c9";
/// Tokens the imitated Google and Microsoft token endpoints hand out.
const GCP_TOKEN: &str = "ya29.imitation-access-token";
const AZ_TOKEN: &str = "eyJ0eXAiOi.imitation.token";

fn b64(data: &[u8]) -> Vec<u8> {
    keyhound::matcher::decode::base64(data).unwrap_or_default()
}

/// A version-2 macaroon with these caveats, as a PyPI token.
fn pypi_token(caveats: &[&str]) -> String {
    fn field(out: &mut Vec<u8>, kind: u8, data: &[u8]) {
        out.push(kind);
        out.push(data.len() as u8);
        out.extend_from_slice(data);
    }
    let mut m = vec![2u8];
    field(&mut m, 1, b"pypi.org");
    field(&mut m, 2, b"\x0a\x20b8d1c6f0e4a24a8f9b7d3e2c1a0f9e8d");
    m.push(0);
    for c in caveats {
        field(&mut m, 2, c.as_bytes());
        m.push(0);
    }
    m.push(0);
    field(&mut m, 6, &[0x5a; 32]);
    format!("pypi-{}", base64(&m, b"-_", false))
}

fn pypi() -> String {
    pypi_token(&[r#"[0,1924992000,1700000000]"#, r#"[1,["acme-sdk"]]"#])
}

fn basic(user: &str, pass: &str) -> String {
    format!(
        "Basic {}",
        base64(format!("{user}:{pass}").as_bytes(), b"+/", true)
    )
}

/// Base64 with the two last letters of the alphabet given (`+/` standard, `-_` URL-safe),
/// padded with `=` or not.
fn base64(input: &[u8], last: &[u8; 2], pad: bool) -> String {
    let mut abc = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".to_vec();
    abc.extend_from_slice(last);
    let mut out = String::new();
    for c in input.chunks(3) {
        let n = c
            .iter()
            .enumerate()
            .fold(0u32, |a, (i, &b)| a | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            match i <= c.len() {
                true => out.push(abc[(n >> (18 - 6 * i) & 63) as usize] as char),
                false if pad => out.push('='),
                false => {}
            }
        }
    }
    out
}

fn gcp_key_file() -> String {
    let pem = GCP_KEY.trim_end().replace('\n', "\\n") + "\\n";
    format!(
        "{{\n  \"type\": \"service_account\",\n  \"project_id\": \"acme-prod-42\",\n  \
         \"private_key_id\": \"{GCP_KID}\",\n  \"private_key\": \"{pem}\",\n  \
         \"client_email\": \"{GCP_EMAIL}\",\n  \"client_id\": \"104815162342108\"\n}}"
    )
}

/// Every mapped key, each far enough from the others that pairs stay pairs.
fn leak() -> String {
    let azure = format!(
        "{{\n  \"clientId\": \"{AZ_CLIENT}\",\n  \"clientSecret\": \"{AZ_SECRET}\",\n  \
         \"subscriptionId\": \"{AZ_SUB}\",\n  \"tenantId\": \"{AZ_TENANT}\"\n}}"
    );
    let blocks = [
        format!("GITHUB_TOKEN={GHP_ADMIN}"),
        format!("GH_READ_TOKEN={GHP_READ}"),
        format!("GH_PAT={GH_PAT}"),
        format!("GITLAB_TOKEN={GLPAT}"),
        format!("git clone https://{BB_USER}:{ATBB}@bitbucket.org/acme/api.git"),
        format!("aws_access_key_id = {AWS_ID}\naws_secret_access_key = {AWS_SECRET}"),
        format!("aws_access_key_id = {AWS_ID_RO}\naws_secret_access_key = {AWS_SECRET_RO}"),
        gcp_key_file(),
        azure,
        format!("OPENAI_API_KEY={OPENAI}"),
        format!("OPENAI_ADMIN_KEY={OPENAI_ADMIN}"),
        format!("ANTHROPIC_API_KEY={ANT}"),
        format!("ANTHROPIC_ADMIN_KEY={ANT_ADMIN}"),
        format!("HF_TOKEN={HF}"),
        format!("SLACK_BOT_TOKEN={XOXB}"),
        format!("STRIPE_SECRET_KEY={SK_LIVE}"),
        format!("STRIPE_RESTRICTED_KEY={RK_LIVE}"),
        format!("SENDGRID_API_KEY={SENDGRID}"),
        format!("TWILIO_ACCOUNT_SID={TWILIO_SID}\nTWILIO_AUTH_TOKEN={TWILIO_TOKEN}"),
        format!("MAILGUN_API_KEY={MAILGUN}"),
        format!("NPM_TOKEN={NPM}"),
        format!("TWINE_PASSWORD={}", pypi()),
        format!("DD_API_KEY={DD_API}\nDD_APP_KEY={DD_APP}"),
        format!("DIGITALOCEAN_TOKEN={DO}"),
        format!("CLOUDFLARE_API_TOKEN={CF}"),
        format!("HEROKU_API_KEY={HEROKU}"),
        format!("VERCEL_TOKEN={VERCEL}"),
        format!("NETLIFY_AUTH_TOKEN={NETLIFY}"),
        format!("LINEAR_API_KEY={LINEAR}"),
        format!("NOTION_TOKEN={NOTION}"),
        format!("POSTMAN_API_KEY={POSTMAN}"),
    ];
    blocks.join(&"\n".repeat(12)) + "\n"
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

fn transport(server: &Server, pki: &Pki) -> UreqTransport {
    UreqTransport::new(&ClientOptions {
        timeout: Duration::from_secs(5),
        connect_to: vec![server.connect_all().parse().unwrap()],
        extra_ca: vec![pki.ca_der.clone()],
        env_proxy: false,
    })
}

fn options() -> Options {
    Options {
        per_host_rate: 500.0,
        backoff_base: Duration::from_millis(20),
        access_map: true,
        ..Options::default()
    }
}

struct Log(Mutex<Vec<String>>);

impl Log {
    fn sink(&self) -> impl Fn(u8, &str) + Sync + '_ {
        |_, m| self.0.lock().unwrap().push(m.to_string())
    }
}

/// Runs the scan and the maps against `handler`; returns the findings and what the server saw.
fn run(
    text: &str,
    opts: Options,
    handler: impl Fn(&Seen, usize) -> Reply + Send + Sync + 'static,
) -> (Vec<Finding>, Vec<Seen>, Vec<String>) {
    let pki = Pki::new(HOSTS);
    let server = Server::start(&pki, handler);
    let set = Arc::new(RuleSet::builtin().unwrap());
    let mut findings = scan(&set, text);
    let log = Log(Mutex::new(Vec::new()));
    validate::validate_findings(
        &set,
        &mut findings,
        &transport(&server, &pki),
        &opts,
        &log.sink(),
    );
    let logged = log.0.into_inner().unwrap();
    (findings, server.seen(), logged)
}

fn map_of<'a>(findings: &'a [Finding], secret: &str) -> &'a AccessMap {
    let f = findings
        .iter()
        .find(|f| f.secret.expose() == secret)
        .unwrap_or_else(|| panic!("no finding for {secret:.16}…"));
    let v = f.validation.as_ref().unwrap();
    v.access
        .as_deref()
        .unwrap_or_else(|| panic!("{}: no access map ({})", f.rule_id, v.summary()))
}

/// Method and path (with query) of each request to `host`, in order.
fn requests(seen: &[Seen], host: &str) -> Vec<String> {
    seen.iter()
        .filter(|r| r.host() == host)
        .map(|r| format!("{} {}", r.method, r.target))
        .collect()
}

fn sample(m: &AccessMap, kind: &str) -> (u64, bool, Vec<String>) {
    let r = m
        .resources
        .iter()
        .find(|r| r.kind == kind)
        .unwrap_or_else(|| panic!("no {kind} in {m:?}"));
    (r.count, r.complete, r.sample.clone())
}

fn permissions(m: &AccessMap) -> Vec<(&str, Level)> {
    m.permissions
        .iter()
        .map(|p| (p.name.as_str(), p.level))
        .collect()
}

fn gaps(m: &AccessMap) -> Vec<(&str, &str)> {
    m.unknown
        .iter()
        .map(|g| (g.step.as_str(), g.reason.as_str()))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The imitation.

fn bearer(req: &Seen) -> &str {
    req.header("authorization")
        .and_then(|a| a.strip_prefix("Bearer "))
        .unwrap_or("")
}

fn unauthorized() -> Reply {
    Reply::json(401, json!({"message": "Bad credentials"}))
}

fn providers(req: &Seen, n: usize) -> Reply {
    let host = req.host().to_string();
    match host.as_str() {
        "api.github.com" => github(req),
        "gitlab.com" => gitlab(req),
        "api.bitbucket.org" => bitbucket(req),
        "sts.amazonaws.com" => sts(req),
        "iam.amazonaws.com" => iam(req),
        "oauth2.googleapis.com" | "cloudresourcemanager.googleapis.com" => google(req),
        "login.microsoftonline.com" | "management.azure.com" => azure(req),
        "api.openai.com" => openai(req),
        "api.anthropic.com" => anthropic(req),
        "huggingface.co" => huggingface(req),
        "slack.com" => slack(req, n),
        "api.stripe.com" => stripe(req),
        "api.sendgrid.com" | "api.twilio.com" | "api.mailgun.net" | "registry.npmjs.org" => {
            messaging(req)
        }
        "api.datadoghq.com" | "api.digitalocean.com" | "api.cloudflare.com" => infra(req),
        _ => platforms(req),
    }
}

fn repo(name: &str, private: bool, admin: bool, push: bool) -> Value {
    json!({"full_name": name, "private": private,
           "permissions": {"admin": admin, "push": push, "pull": true}})
}

fn github(req: &Seen) -> Reply {
    let key = bearer(req);
    match (req.target.as_str(), key) {
        ("/user", GHP_ADMIN) => {
            Reply::json(200, json!({"login": "octo-admin", "site_admin": false}))
                .header("x-oauth-scopes", "repo, admin:org, workflow")
                .header(
                    "github-authentication-token-expiration",
                    "2031-01-01 00:00:00 UTC",
                )
        }
        ("/user", GHP_READ) => Reply::json(200, json!({"login": "octo-reader"}))
            .header("x-oauth-scopes", "read:user, read:org"),
        ("/user", GH_PAT) => Reply::json(200, json!({"login": "octo-ci"})),
        ("/user/orgs?per_page=100", GHP_ADMIN) => {
            Reply::json(200, json!([{"login": "acme"}, {"login": "acme-labs"}]))
        }
        ("/user/orgs?per_page=100", GHP_READ) => Reply::json(200, json!([{"login": "acme"}])),
        ("/user/orgs?per_page=100", GH_PAT) => Reply::json(
            403,
            json!({"message": "Resource not accessible by personal access token"}),
        ),
        // Three pages of three, each pointing at the next: the map reads three, no more.
        (t, GHP_ADMIN) if t.starts_with("/user/repos") => {
            let page: usize = t
                .split("&page=")
                .nth(1)
                .and_then(|p| p.parse().ok())
                .unwrap_or(1);
            let items: Vec<Value> = (1..=3)
                .map(|i| {
                    let n = (page - 1) * 3 + i;
                    repo(&format!("acme/service-{n}"), n % 2 == 0, n == 1, n <= 4)
                })
                .collect();
            Reply::json(200, Value::Array(items)).header(
                "link",
                &format!(
                    "<https://api.github.com/user/repos?per_page=100&sort=pushed&page={}>; rel=\"next\", \
                     <https://api.github.com/user/repos?per_page=100&sort=pushed&page=40>; rel=\"last\"",
                    page + 1
                ),
            )
        }
        ("/user/repos?per_page=100&sort=pushed", GHP_READ) => {
            Reply::json(200, json!([repo("acme/docs", false, false, false)]))
        }
        ("/user/repos?per_page=100&sort=pushed", GH_PAT) => {
            Reply::json(200, json!([repo("acme/api", true, false, true)]))
        }
        _ => unauthorized(),
    }
}

fn gitlab(req: &Seen) -> Reply {
    if req.header("private-token") != Some(GLPAT) {
        return Reply::json(401, json!({"message": "401 Unauthorized"}));
    }
    let path = req.target.as_str();
    match path {
        "/api/v4/personal_access_tokens/self" => Reply::json(
            200,
            json!({"name": "ci", "active": true, "revoked": false,
                   "scopes": ["api", "read_user"], "expires_at": "2031-01-01"}),
        ),
        "/api/v4/user" => Reply::json(
            200,
            json!({"username": "ci-bot", "is_admin": false, "bot": false}),
        ),
        "/api/v4/groups?min_access_level=10&per_page=100" => {
            Reply::json(200, json!([{"full_path": "acme"}])).header("x-total", "1")
        }
        p if p.starts_with("/api/v4/projects?membership=true&simple=true&per_page=100") => {
            let second = p.ends_with("&page=2");
            let names = if second {
                ["acme/c", "acme/d"]
            } else {
                ["acme/a", "acme/b"]
            };
            let items: Vec<Value> = names
                .iter()
                .map(|n| json!({"path_with_namespace": n}))
                .collect();
            let next = "<https://gitlab.com/api/v4/projects?membership=true&simple=true&per_page=100&page=2>; rel=\"next\"";
            let r = Reply::json(200, Value::Array(items)).header("x-total", "250");
            if second {
                r.header("link", &next.replace("page=2", "page=3"))
            } else {
                r.header("link", next)
            }
        }
        "/api/v4/projects?membership=true&simple=true&min_access_level=40&per_page=100" => {
            Reply::json(200, json!([{"path_with_namespace": "acme/a"}])).header("x-total", "3")
        }
        _ => Reply::new(404, "{}"),
    }
}

fn bitbucket(req: &Seen) -> Reply {
    if req.header("authorization") != Some(basic(BB_USER, ATBB).as_str()) {
        return unauthorized();
    }
    match req.target.as_str() {
        "/2.0/user" => Reply::json(200, json!({"username": BB_USER}))
            .header("x-oauth-scopes", "repository:write, account"),
        "/2.0/user/permissions/workspaces?pagelen=100" => Reply::json(
            200,
            json!({"size": 1, "values": [{"permission": "owner", "workspace": {"slug": "acme"}}]}),
        ),
        "/2.0/user/permissions/repositories?pagelen=100" => Reply::json(
            200,
            json!({"size": 3, "next": "https://api.bitbucket.org/2.0/user/permissions/repositories?pagelen=100&page=2",
                   "values": [{"permission": "admin", "repository": {"full_name": "acme/api"}},
                              {"permission": "write", "repository": {"full_name": "acme/web"}}]}),
        ),
        "/2.0/user/permissions/repositories?pagelen=100&page=2" => Reply::json(
            200,
            json!({"size": 3, "values": [{"permission": "read", "repository": {"full_name": "acme/docs"}}]}),
        ),
        _ => Reply::new(404, "{}"),
    }
}

/// Checks a SigV4 signature the way AWS does, for the key pairs the imitation knows.
fn aws_caller(req: &Seen, service: &str, host: &str) -> Option<&'static str> {
    let date = req.header("x-amz-date")?;
    let (path, query) = req.target.split_once('?').unwrap_or((&req.target, ""));
    let ctype = req.header("content-type");
    let mut headers = vec![("host", host), ("x-amz-date", date)];
    if let Some(c) = ctype {
        headers.insert(0, ("content-type", c));
    }
    [
        (AWS_ID, AWS_SECRET, "deploy"),
        (AWS_ID_RO, AWS_SECRET_RO, "auditor"),
    ]
    .into_iter()
    .find(|(id, secret, _)| {
        let expected = authorization(
            &SigningInput {
                method: &req.method,
                path,
                query,
                headers: &headers,
                body: &req.body,
                region: "us-east-1",
                service,
                amz_date: date,
            },
            id,
            secret,
        );
        req.header("authorization") == Some(expected.as_str())
    })
    .map(|(_, _, user)| user)
}

fn sts(req: &Seen) -> Reply {
    match aws_caller(req, "sts", "sts.amazonaws.com") {
        Some(user) => Reply::new(200, &format!(
            "<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/{user}</Arn>\
             <Account>123456789012</Account></GetCallerIdentityResult></GetCallerIdentityResponse>"
        )),
        None => Reply::new(403, "<ErrorResponse><Error><Code>SignatureDoesNotMatch</Code></Error></ErrorResponse>"),
    }
}

fn iam(req: &Seen) -> Reply {
    let Some(user) = aws_caller(req, "iam", "iam.amazonaws.com") else {
        return Reply::new(
            403,
            "<ErrorResponse><Error><Code>SignatureDoesNotMatch</Code></Error></ErrorResponse>",
        );
    };
    let action = req
        .target
        .split("Action=")
        .nth(1)
        .and_then(|a| a.split('&').next())
        .unwrap_or("");
    let members = |tag: &str, names: &[&str]| {
        let items: String = names
            .iter()
            .map(|n| format!("<member><{tag}>{n}</{tag}></member>"))
            .collect();
        Reply::new(
            200,
            &format!("<R><Items>{items}</Items><IsTruncated>false</IsTruncated></R>"),
        )
    };
    let plain = |names: &[&str]| {
        let items: String = names
            .iter()
            .map(|n| format!("<member>{n}</member>"))
            .collect();
        Reply::new(
            200,
            &format!("<R><Names>{items}</Names><IsTruncated>false</IsTruncated></R>"),
        )
    };
    let denied = || {
        Reply::new(
            403,
            "<ErrorResponse><Error><Code>AccessDenied</Code></Error></ErrorResponse>",
        )
    };
    match (user, action) {
        (_, "ListAttachedUserPolicies") if !req.target.contains(&format!("UserName={user}")) => {
            denied()
        }
        ("deploy", "ListAttachedUserPolicies") => members("PolicyName", &["AdministratorAccess"]),
        ("deploy", "ListUserPolicies") => plain(&["deploy-inline"]),
        ("deploy", "ListGroupsForUser") => members("GroupName", &["ops"]),
        ("deploy", "ListAttachedGroupPolicies") => members("PolicyName", &["AmazonS3FullAccess"]),
        ("deploy", "ListAccountAliases") => plain(&["acme-prod"]),
        ("auditor", "ListAttachedUserPolicies") => members("PolicyName", &["ReadOnlyAccess"]),
        ("auditor", "ListGroupsForUser") => members("GroupName", &[]),
        _ => denied(),
    }
}

/// Google's token endpoint checks the JWT's signature and claims; Resource Manager wants the
/// token it gave out.
fn google(req: &Seen) -> Reply {
    match (req.host(), req.method.as_str(), req.target.as_str()) {
        ("oauth2.googleapis.com", "POST", "/token") => {
            let body = String::from_utf8_lossy(&req.body).into_owned();
            let jwt = body.split("assertion=").nth(1).unwrap_or("");
            let parts: Vec<&str> = jwt.split('.').collect();
            let der = b64(GCP_KEY
                .lines()
                .filter(|l| !l.starts_with("-----"))
                .collect::<String>()
                .as_bytes());
            let public = RsaKeyPair::from_pkcs8(&der)
                .unwrap()
                .public()
                .as_ref()
                .to_vec();
            let signed = parts.len() == 3
                && UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &public)
                    .verify(
                        format!("{}.{}", parts[0], parts[1]).as_bytes(),
                        &b64(parts[2].as_bytes()),
                    )
                    .is_ok();
            let claims: Value =
                serde_json::from_slice(&b64(parts.get(1).unwrap_or(&"").as_bytes()))
                    .unwrap_or(Value::Null);
            let header: Value =
                serde_json::from_slice(&b64(parts.first().unwrap_or(&"").as_bytes()))
                    .unwrap_or(Value::Null);
            if signed
                && claims["iss"] == GCP_EMAIL
                && claims["scope"] == "https://www.googleapis.com/auth/cloud-platform.read-only"
                && header["kid"] == GCP_KID
            {
                Reply::json(
                    200,
                    json!({"access_token": GCP_TOKEN, "expires_in": 3599, "token_type": "Bearer"}),
                )
            } else {
                Reply::json(
                    400,
                    json!({"error": "invalid_grant", "error_description": "Invalid JWT Signature."}),
                )
            }
        }
        (_, _, _) if bearer(req) != GCP_TOKEN => Reply::json(401, json!({"error": {"code": 401}})),
        (_, "GET", "/v1/projects?pageSize=50") => Reply::json(
            200,
            json!({"projects": [{"projectId": "acme-prod-42"}, {"projectId": "acme-dev-7"}], "nextPageToken": "p2"}),
        ),
        (_, "POST", "/v1/projects/acme-prod-42:testIamPermissions") => {
            let asked: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
            let held = [
                "resourcemanager.projects.get",
                "storage.objects.list",
                "storage.objects.get",
                "iam.serviceAccountKeys.create",
            ];
            let granted: Vec<&str> = held
                .into_iter()
                .filter(|p| {
                    asked["permissions"]
                        .as_array()
                        .is_some_and(|a| a.iter().any(|x| x == p))
                })
                .chain(["made.up.permission"])
                .collect();
            Reply::json(200, json!({"permissions": granted}))
        }
        _ => Reply::new(404, "{}"),
    }
}

fn azure(req: &Seen) -> Reply {
    if req.host() == "login.microsoftonline.com" {
        let body = String::from_utf8_lossy(&req.body);
        let ok = req.target == format!("/{AZ_TENANT}/oauth2/v2.0/token")
            && body.contains(&format!("client_id={AZ_CLIENT}"))
            && body.contains(&format!("client_secret={AZ_SECRET}"))
            && body.contains("grant_type=client_credentials");
        return if ok {
            Reply::json(
                200,
                json!({"access_token": AZ_TOKEN, "token_type": "Bearer", "expires_in": 3599}),
            )
        } else {
            Reply::json(
                401,
                json!({"error": "invalid_client", "error_codes": [7000215]}),
            )
        };
    }
    if bearer(req) != AZ_TOKEN {
        return Reply::json(
            401,
            json!({"error": {"code": "InvalidAuthenticationToken"}}),
        );
    }
    match req.target.as_str() {
        "/subscriptions?api-version=2022-12-01" => Reply::json(
            200,
            json!({"value": [{"subscriptionId": AZ_SUB, "displayName": "Production"}]}),
        ),
        t if t == format!("/subscriptions/{AZ_SUB}/providers/Microsoft.Authorization/permissions?api-version=2022-04-01") => {
            Reply::json(
                200,
                json!({"value": [{"actions": ["*"], "notActions": ["Microsoft.Authorization/*/Write", "Microsoft.Authorization/*/Delete"]}]}),
            )
        }
        _ => Reply::new(404, "{}"),
    }
}

fn openai(req: &Seen) -> Reply {
    let list = |items: Value, more: bool| {
        let last = items
            .as_array()
            .and_then(|a| a.last())
            .and_then(|l| l.get("id"))
            .cloned();
        Reply::json(
            200,
            json!({"object": "list", "data": items, "has_more": more, "last_id": last}),
        )
    };
    match (bearer(req), req.target.as_str()) {
        (OPENAI, "/v1/models") => list(json!([]), false)
            .header("openai-organization", "org-acme")
            .header("openai-project", "proj_payments"),
        (OPENAI, "/v1/me") => {
            Reply::json(403, json!({"error": {"code": "insufficient_permissions"}}))
        }
        (OPENAI, "/v1/files?limit=100") => {
            list(json!([{"id": "file-1", "filename": "train.jsonl"}]), false)
        }
        (OPENAI, "/v1/fine_tuning/jobs?limit=100") => list(json!([]), false),
        (OPENAI, "/v1/assistants?limit=100")
            if req.header("openai-beta") == Some("assistants=v2") =>
        {
            Reply::json(403, json!({"error": {"message": "restricted key"}}))
        }
        (OPENAI, "/v1/batches?limit=100") => list(json!([]), false),
        (OPENAI_ADMIN, "/v1/organization/projects?limit=1") => {
            list(json!([{"id": "proj_1", "name": "Default project"}]), true)
                .header("openai-organization", "org-acme")
        }
        (OPENAI_ADMIN, "/v1/organization/projects?limit=100") => list(
            json!([{"id": "proj_1", "name": "Default project"}, {"id": "proj_2", "name": "payments"}]),
            true,
        ),
        (OPENAI_ADMIN, "/v1/organization/projects?limit=100&after=proj_2") => {
            list(json!([{"id": "proj_3", "name": "research"}]), false)
        }
        (OPENAI_ADMIN, "/v1/organization/users?limit=100") => list(
            json!([{"id": "u1", "role": "owner"}, {"id": "u2", "role": "reader"}]),
            false,
        ),
        _ => Reply::json(401, json!({"error": {"code": "invalid_api_key"}})),
    }
}

fn anthropic(req: &Seen) -> Reply {
    let key = req.header("x-api-key").unwrap_or("");
    let list = |items: Value| Reply::json(200, json!({"data": items, "has_more": false}));
    match (key, req.target.as_str()) {
        (ANT, "/v1/models?limit=1") => {
            list(json!([])).header("anthropic-organization-id", "org-7f3a")
        }
        (ANT, "/v1/messages/batches?limit=100") => list(json!([{"id": "msgbatch_01"}])),
        (ANT, "/v1/files?limit=100") => Reply::json(404, json!({"type": "error"})),
        (ANT_ADMIN, "/v1/organizations/me") => {
            Reply::json(200, json!({"id": "org-7f3a", "name": "Acme Corp"}))
        }
        (ANT_ADMIN, "/v1/organizations/workspaces?limit=100") => {
            list(json!([{"name": "Default"}, {"name": "prod"}]))
        }
        (ANT_ADMIN, "/v1/organizations/users?limit=100") => {
            list(json!([{"role": "admin"}, {"role": "user"}]))
        }
        (ANT_ADMIN, "/v1/organizations/api_keys?limit=100&status=active") => {
            list(json!([{"name": "prod-key"}]))
        }
        _ => Reply::json(
            401,
            json!({"type": "error", "error": {"type": "authentication_error"}}),
        ),
    }
}

fn huggingface(req: &Seen) -> Reply {
    if bearer(req) != HF {
        return Reply::json(401, json!({"error": "Invalid credentials"}));
    }
    match req.target.as_str() {
        "/api/whoami-v2" => Reply::json(
            200,
            json!({"name": "alice", "type": "user",
                   "orgs": [{"name": "acme-ml", "roleInOrg": "admin"}, {"name": "papers", "roleInOrg": "read"}],
                   "auth": {"accessToken": {"displayName": "ci", "role": "write"}}}),
        ),
        "/api/models?author=alice&limit=100" => {
            Reply::json(200, json!([{"id": "alice/bert-ft", "private": true}]))
        }
        "/api/datasets?author=alice&limit=100" => Reply::json(200, json!([])),
        "/api/spaces?author=alice&limit=100" => {
            Reply::json(200, json!([{"id": "alice/demo", "private": false}]))
        }
        _ => Reply::new(404, "{}"),
    }
}

/// Slack: the first conversations.list of the bot token is rate limited (Retry-After: 0).
fn slack(req: &Seen, _n: usize) -> Reply {
    static LIMITED_ONCE: AtomicUsize = AtomicUsize::new(0);
    match (bearer(req), req.target.as_str()) {
        (XOXB, "/api/auth.test") => Reply::json(
            200,
            json!({"ok": true, "url": "https://acme.slack.com/", "team": "Acme", "user": "deploybot", "bot_id": "B01"}),
        )
        .header("x-oauth-scopes", "chat:write,channels:read,users:read"),
        (XOXB, t) if t.starts_with("/api/conversations.list") => {
            if t.contains("cursor=") {
                return Reply::json(200, json!({"ok": true, "channels": [{"name": "random", "is_member": true}],
                                              "response_metadata": {"next_cursor": ""}}));
            }
            if LIMITED_ONCE.fetch_add(1, Ordering::SeqCst) == 0 {
                return Reply::json(429, json!({"ok": false, "error": "ratelimited"})).header("retry-after", "0");
            }
            Reply::json(200, json!({"ok": true,
                "channels": [{"name": "general", "is_private": false, "is_member": true},
                             {"name": "incident-room", "is_private": true, "is_member": false}],
                "response_metadata": {"next_cursor": "dGVhbTpDMDY="}}))
        }
        (XOXB, "/api/users.list?limit=200") => Reply::json(
            200,
            json!({"ok": true, "members": [{"deleted": false}, {"deleted": true}, {"deleted": false}],
                   "response_metadata": {"next_cursor": ""}}),
        ),
        _ => Reply::json(200, json!({"ok": false, "error": "invalid_auth"})),
    }
}

fn stripe(req: &Seen) -> Reply {
    let list = || {
        Reply::json(
            200,
            json!({"object": "list", "data": [], "has_more": false}),
        )
    };
    let denied = || Reply::json(403, json!({"error": {"type": "permission_error"}}));
    match (bearer(req), req.target.as_str()) {
        (SK_LIVE, "/v1/balance") => {
            Reply::json(200, json!({"object": "balance", "livemode": true}))
        }
        (SK_LIVE, "/v1/account") => Reply::json(
            200,
            json!({"id": "acct_1Acme", "email": "billing@acme.test", "charges_enabled": true,
                   "settings": {"dashboard": {"display_name": "Acme"}}}),
        ),
        (RK_LIVE, "/v1/balance" | "/v1/account" | "/v1/customers?limit=1") => denied(),
        (RK_LIVE, "/v1/charges?limit=1" | "/v1/payment_intents?limit=1") => list(),
        _ => Reply::json(401, json!({"error": {"type": "invalid_request_error"}})),
    }
}

fn messaging(req: &Seen) -> Reply {
    let auth = req.header("authorization").unwrap_or("");
    match (req.host(), req.target.as_str()) {
        ("api.sendgrid.com", _) if bearer(req) != SENDGRID => unauthorized(),
        ("api.sendgrid.com", "/v3/scopes") => Reply::json(
            200,
            json!({"scopes": ["mail.send", "templates.read", "stats.read"]}),
        ),
        ("api.sendgrid.com", "/v3/user/account") => {
            Reply::json(200, json!({"type": "paid", "reputation": 99}))
        }
        ("api.sendgrid.com", "/v3/user/username") => {
            Reply::json(200, json!({"username": "acme-mailer"}))
        }
        ("api.twilio.com", _) if auth != basic(TWILIO_SID, TWILIO_TOKEN) => {
            Reply::json(401, json!({"code": 20003}))
        }
        ("api.twilio.com", t) if t == format!("/2010-04-01/Accounts/{TWILIO_SID}.json") => {
            Reply::json(
                200,
                json!({"sid": TWILIO_SID, "friendly_name": "Acme Prod", "status": "active", "type": "Full"}),
            )
        }
        ("api.twilio.com", "/2010-04-01/Accounts.json?PageSize=50") => Reply::json(
            200,
            json!({"accounts": [{"friendly_name": "Acme Prod", "status": "active"},
                                {"friendly_name": "Acme Staging", "status": "suspended"}],
                   "next_page_uri": null}),
        ),
        ("api.twilio.com", t)
            if t == format!(
                "/2010-04-01/Accounts/{TWILIO_SID}/IncomingPhoneNumbers.json?PageSize=50"
            ) =>
        {
            Reply::json(
                200,
                json!({"incoming_phone_numbers": [{"phone_number": "+15550100"}], "next_page_uri": null}),
            )
        }
        ("api.mailgun.net", _) if auth != basic("api", MAILGUN) => Reply::new(401, "Forbidden"),
        ("api.mailgun.net", "/v3/domains?limit=1") => Reply::json(
            200,
            json!({"total_count": 2, "items": [{"name": "mg.acme.test"}]}),
        ),
        ("api.mailgun.net", "/v3/domains?limit=100") => Reply::json(
            200,
            json!({"total_count": 2, "items": [{"name": "mg.acme.test", "state": "active"},
                                               {"name": "news.acme.test", "state": "unverified"}]}),
        ),
        ("api.mailgun.net", "/v3/domains?limit=100&skip=2") => {
            Reply::json(200, json!({"total_count": 2, "items": []}))
        }
        ("registry.npmjs.org", _) if bearer(req) != NPM => unauthorized(),
        ("registry.npmjs.org", "/-/whoami") => Reply::json(200, json!({"username": "alice"})),
        ("registry.npmjs.org", "/-/user/alice/package") => Reply::json(
            200,
            json!({"left-pad-ng": "read-write", "@acme/utils": "read-only"}),
        ),
        _ => Reply::new(404, "{}"),
    }
}

fn infra(req: &Seen) -> Reply {
    match (req.host(), req.target.as_str()) {
        ("api.datadoghq.com", _)
            if req.header("dd-api-key") != Some(DD_API)
                || req.header("dd-application-key") != Some(DD_APP) =>
        {
            Reply::json(403, json!({"errors": ["Forbidden"]}))
        }
        ("api.datadoghq.com", "/api/v2/current_user") => Reply::json(
            200,
            json!({"data": {"attributes": {"handle": "ops@acme.test"}},
                   "included": [{"type": "roles", "attributes": {"name": "Datadog Admin Role"}},
                                {"type": "orgs", "attributes": {"name": "Acme"}}]}),
        ),
        ("api.datadoghq.com", "/api/v1/org") => {
            Reply::json(200, json!({"orgs": [{"name": "Acme"}]}))
        }
        ("api.datadoghq.com", "/api/v2/api_keys?page%5Bsize%5D=100") => Reply::json(
            200,
            json!({"data": [{"attributes": {"name": "agent"}}], "meta": {"page": {"total_filtered_count": 4}}}),
        ),
        ("api.digitalocean.com", _) if bearer(req) != DO => unauthorized(),
        ("api.digitalocean.com", "/v2/account") => Reply::json(
            200,
            json!({"account": {"email": "ops@acme.test", "team": {"name": "Acme"}}}),
        ),
        ("api.digitalocean.com", "/v2/droplets?per_page=200") => Reply::json(
            200,
            json!({"droplets": [{"name": "web-1"}, {"name": "web-2"}], "meta": {"total": 2}}),
        ),
        ("api.digitalocean.com", "/v2/kubernetes/clusters?per_page=200") => Reply::json(
            200,
            json!({"kubernetes_clusters": [], "meta": {"total": 0}}),
        ),
        ("api.digitalocean.com", "/v2/databases") => {
            Reply::json(200, json!({"databases": [{"name": "pg-main"}]}))
        }
        ("api.digitalocean.com", "/v2/apps?per_page=200") => {
            Reply::json(403, json!({"id": "forbidden"}))
        }
        ("api.cloudflare.com", _) if bearer(req) != CF => {
            Reply::json(401, json!({"success": false}))
        }
        ("api.cloudflare.com", "/client/v4/user/tokens/verify") => Reply::json(
            200,
            json!({"success": true, "result": {"id": "7b2c9e", "status": "active", "expires_on": "2031-01-01T00:00:00Z"}}),
        ),
        ("api.cloudflare.com", "/client/v4/user/tokens/7b2c9e") => {
            Reply::json(403, json!({"success": false, "errors": [{"code": 9109}]}))
        }
        ("api.cloudflare.com", "/client/v4/accounts?per_page=50") => Reply::json(
            200,
            json!({"result": [{"name": "Acme"}], "result_info": {"total_count": 1}}),
        ),
        ("api.cloudflare.com", "/client/v4/zones?per_page=50") => Reply::json(
            200,
            json!({"result": [{"name": "acme.test"}, {"name": "acme.dev"}], "result_info": {"total_count": 3}}),
        ),
        ("api.cloudflare.com", "/client/v4/zones?per_page=50&page=2") => Reply::json(
            200,
            json!({"result": [{"name": "acme.io"}], "result_info": {"total_count": 3}}),
        ),
        _ => Reply::new(404, "{}"),
    }
}

fn platforms(req: &Seen) -> Reply {
    let key = bearer(req);
    match (req.host(), req.target.as_str()) {
        ("api.heroku.com", _) if key != HEROKU => unauthorized(),
        ("api.heroku.com", "/account") => {
            Reply::json(200, json!({"email": "dev@acme.test", "name": "Dev"}))
        }
        ("api.heroku.com", "/apps") => {
            Reply::json(200, json!([{"name": "acme-api"}, {"name": "acme-worker"}]))
        }
        ("api.heroku.com", "/teams") => {
            Reply::json(200, json!([{"name": "acme", "role": "admin"}]))
        }
        ("api.vercel.com", _) if key != VERCEL => unauthorized(),
        ("api.vercel.com", "/v2/user") => Reply::json(
            200,
            json!({"user": {"username": "acme-dev", "email": "dev@acme.test"}}),
        ),
        ("api.vercel.com", "/v2/teams?limit=100") => Reply::json(
            200,
            json!({"teams": [{"slug": "acme", "membership": {"role": "MEMBER"}}]}),
        ),
        ("api.vercel.com", "/v9/projects?limit=100") => Reply::json(
            200,
            json!({"projects": [{"name": "site"}], "pagination": {"next": null}}),
        ),
        ("api.netlify.com", _) if key != NETLIFY => unauthorized(),
        ("api.netlify.com", "/api/v1/user") => Reply::json(
            200,
            json!({"email": "web@acme.test", "full_name": "Web Team"}),
        ),
        ("api.netlify.com", "/api/v1/accounts") => Reply::json(200, json!([{"name": "Acme"}])),
        ("api.netlify.com", "/api/v1/sites?per_page=100&filter=all") => {
            Reply::json(200, json!([{"name": "acme-site"}]))
        }
        ("api.linear.app", _) if req.header("authorization") != Some(LINEAR) => Reply::json(
            400,
            json!({"errors": [{"extensions": {"code": "AUTHENTICATION_ERROR"}}]}),
        ),
        ("api.linear.app", "/graphql") => {
            let body = String::from_utf8_lossy(&req.body);
            if body.contains("organization") {
                Reply::json(
                    200,
                    json!({"data": {
                    "viewer": {"name": "PM", "email": "pm@acme.test", "admin": true},
                    "organization": {"name": "Acme", "urlKey": "acme", "userCount": 12},
                    "teams": {"nodes": [{"key": "CORE", "name": "Core", "private": false},
                                        {"key": "SEC", "name": "Security", "private": true}]}}}),
                )
            } else {
                Reply::json(
                    200,
                    json!({"data": {"viewer": {"id": "u1", "email": "pm@acme.test"}}}),
                )
            }
        }
        ("api.notion.com", _) if key != NOTION => Reply::json(401, json!({"code": "unauthorized"})),
        ("api.notion.com", "/v1/users/me") => Reply::json(
            200,
            json!({"object": "user", "name": "Docs bot", "bot": {"workspace_name": "Acme"}}),
        ),
        ("api.notion.com", "/v1/search") => Reply::json(
            200,
            json!({"results": [{"object": "page", "url": "https://www.notion.so/Roadmap-1a2b"},
                               {"object": "database", "url": "https://www.notion.so/Tasks-3c4d"}],
                   "has_more": true, "next_cursor": "c2"}),
        ),
        ("api.notion.com", "/v1/users?page_size=100") => {
            Reply::json(403, json!({"code": "restricted_resource"}))
        }
        ("api.getpostman.com", _) if req.header("x-api-key") != Some(POSTMAN) => unauthorized(),
        ("api.getpostman.com", "/me") => Reply::json(
            200,
            json!({"user": {"username": "acme-qa", "teamName": "Acme", "roles": ["user"]}}),
        ),
        ("api.getpostman.com", "/workspaces") => Reply::json(
            200,
            json!({"workspaces": [{"name": "API", "type": "team"}]}),
        ),
        ("api.getpostman.com", "/collections") => {
            Reply::json(200, json!({"collections": [{"name": "Payments"}]}))
        }
        _ => Reply::new(404, "{}"),
    }
}

// ---------------------------------------------------------------------------------------------

#[test]
fn every_mapped_provider_end_to_end() {
    let (findings, seen, logged) = run(&leak(), options(), providers);
    let set = RuleSet::builtin().unwrap();

    // Severity follows the most powerful thing each key can do.
    let expect = [
        (GHP_ADMIN, Severity::Critical, "admin: permission admin:org"),
        (GHP_READ, Severity::Medium, "read: permission read:user"),
        (GH_PAT, Severity::High, "write: 1 repository (push role); parts unknown, may reach more"),
        (GLPAT, Severity::High, "write: permission api"),
        (ATBB, Severity::High, "write: permission repository:write"),
        (AWS_SECRET, Severity::Critical, "admin: permission AdministratorAccess"),
        (GCP_KID, Severity::Critical, "admin: permission iam.serviceAccountKeys.create"),
        (AZ_SECRET, Severity::High, "write: permission Production: *"),
        (OPENAI, Severity::High, "write: runs billable model requests; parts unknown, may reach more"),
        (OPENAI_ADMIN, Severity::Critical, "admin: an admin key manages the organization's projects, members and keys"),
        (ANT, Severity::High, "write: runs billable model requests; parts unknown, may reach more"),
        (ANT_ADMIN, Severity::Critical, "admin: an admin key manages the organization's workspaces, members and keys"),
        (HF, Severity::High, "write: permission write"),
        (XOXB, Severity::High, "write: permission chat:write"),
        (SK_LIVE, Severity::Critical, "admin: a secret key has full access to its Stripe account"),
        (RK_LIVE, Severity::Medium, "read: permission read charges; parts unknown, may reach more"),
        (SENDGRID, Severity::High, "write: permission mail.send"),
        (TWILIO_TOKEN, Severity::Critical, "admin: the auth token is its account's master credential"),
        (MAILGUN, Severity::Critical, "admin: a private API key manages the account's domains, routes and keys"),
        (NPM, Severity::High, "write: 1 package (publish rights)"),
        (DD_APP, Severity::Critical, "admin: 1 role (admin)"),
        (DO, Severity::High, "write: tokens are read-write unless created read-only or with custom scopes, which the API does not report; parts unknown, may reach more"),
        (CF, Severity::Low, "metadata: a live key; parts unknown, may reach more"),
        (HEROKU, Severity::Critical, "admin: 1 team (admin role)"),
        (VERCEL, Severity::High, "write: a token acts with its user's rights in the scope it was given"),
        (NETLIFY, Severity::High, "write: a personal access token has its user's full rights"),
        (LINEAR, Severity::Critical, "admin: permission workspace admin"),
        (NOTION, Severity::Medium, "read: an integration reads the pages shared with it; parts unknown, may reach more"),
        (POSTMAN, Severity::High, "write: an API key acts with its user's rights"),
    ];
    for (secret, severity, reason) in expect {
        let m = map_of(&findings, secret);
        assert_eq!(
            (m.severity, m.reason.as_str()),
            (severity, reason),
            "{secret:.16}…: {m:#?}"
        );
    }
    let py = pypi();
    let m = map_of(&findings, &py);
    assert_eq!(
        (m.severity, m.reason.as_str()),
        (Severity::High, "write: permission upload to acme-sdk")
    );
    assert_eq!(m.expiry.as_deref(), Some("2031-01-01"));
    assert_eq!(m.key_type.as_deref(), Some("project-scoped token"));
    assert_eq!(m.requests, 0);

    // Facts, resources and samples read from the answers.
    let gh = map_of(&findings, GHP_ADMIN);
    assert_eq!(gh.identity.as_deref(), Some("octo-admin"));
    assert_eq!(gh.expiry.as_deref(), Some("2031-01-01 00:00:00 UTC"));
    assert_eq!(
        permissions(gh),
        [
            ("admin:org", Level::Admin),
            ("repo", Level::Write),
            ("workflow", Level::Write)
        ]
    );
    assert_eq!(
        sample(gh, "organization"),
        (2, true, vec!["acme".into(), "acme-labs".into()])
    );
    // Three pages of three read, a fourth offered and not followed.
    let (count, complete, names) = sample(gh, "repository");
    assert_eq!((count, complete, names.len()), (9, false, 5));
    assert_eq!(names[0], "acme/service-1");
    let tally: Vec<(String, u64)> = gh.resources[1]
        .tally
        .iter()
        .map(|t| (t.label.clone(), t.count))
        .collect();
    assert_eq!(
        tally,
        [
            ("private".into(), 4),
            ("admin role".into(), 1),
            ("push role".into(), 4)
        ]
    );
    assert_eq!(gh.requests, 4);

    // A denied part leaves the map incomplete, never failed.
    let pat = map_of(&findings, GH_PAT);
    assert_eq!(gaps(pat), [("orgs", "permission denied (HTTP 403)")]);
    assert_eq!(
        findings
            .iter()
            .find(|f| f.secret.expose() == GH_PAT)
            .unwrap()
            .validation
            .as_ref()
            .unwrap()
            .state,
        LiveState::Valid
    );

    let gl = map_of(&findings, GLPAT);
    assert_eq!(gl.identity.as_deref(), Some("ci-bot"));
    assert_eq!(
        sample(gl, "project"),
        (
            250,
            true,
            vec![
                "acme/a".into(),
                "acme/b".into(),
                "acme/c".into(),
                "acme/d".into()
            ]
        )
    );
    assert_eq!(sample(gl, "maintained project").0, 3);
    assert_eq!(gl.expiry.as_deref(), Some("2031-01-01"));

    let bb = map_of(&findings, ATBB);
    assert_eq!(
        sample(bb, "repository"),
        (
            3,
            true,
            vec!["acme/api".into(), "acme/web".into(), "acme/docs".into()]
        )
    );

    let aws = map_of(&findings, AWS_SECRET);
    assert_eq!(aws.account.as_deref(), Some("acme-prod (123456789012)"));
    assert_eq!(
        permissions(aws),
        [
            ("AdministratorAccess", Level::Admin),
            ("group ops: AmazonS3FullAccess", Level::Write),
            ("inline deploy-inline", Level::Read),
        ]
    );
    assert_eq!(sample(aws, "group"), (1, true, vec!["ops".into()]));

    let gcp = map_of(&findings, GCP_KID);
    assert_eq!(gcp.identity.as_deref(), Some(GCP_EMAIL));
    assert_eq!(gcp.account.as_deref(), Some("project acme-prod-42"));
    assert_eq!(
        sample(gcp, "project"),
        (2, false, vec!["acme-prod-42".into(), "acme-dev-7".into()])
    );
    // Only permissions that were asked about are believed.
    assert!(gcp
        .permissions
        .iter()
        .all(|p| p.name != "made.up.permission"));
    assert_eq!(gcp.permissions.len(), 4);

    let az = map_of(&findings, AZ_SECRET);
    assert_eq!(az.account.as_deref(), Some("subscription Production"));
    assert_eq!(
        az.identity.as_deref(),
        Some(format!("application {AZ_CLIENT} in tenant {AZ_TENANT}").as_str())
    );

    let oa = map_of(&findings, OPENAI_ADMIN);
    assert_eq!(
        sample(oa, "project"),
        (
            3,
            true,
            vec![
                "Default project".into(),
                "payments".into(),
                "research".into()
            ]
        )
    );
    let oa_key = map_of(&findings, OPENAI);
    assert_eq!(oa_key.account.as_deref(), Some("org-acme"));
    assert_eq!(
        gaps(oa_key),
        [
            ("me", "permission denied (HTTP 403)"),
            ("assistants", "permission denied (HTTP 403)")
        ]
    );
    assert_eq!(
        gaps(map_of(&findings, ANT)),
        [("files", "not found (HTTP 404)")]
    );

    let hf = map_of(&findings, HF);
    let (_, _, orgs) = sample(hf, "organization");
    assert_eq!(orgs, ["acme-ml", "papers"]);
    assert_eq!(hf.resources[0].tally[0].count, 1);

    let sl = map_of(&findings, XOXB);
    assert_eq!(
        (sl.identity.as_deref(), sl.account.as_deref()),
        (Some("deploybot"), Some("Acme"))
    );
    assert_eq!(
        sample(sl, "channel"),
        (
            3,
            true,
            vec!["general".into(), "incident-room".into(), "random".into()]
        )
    );
    assert_eq!(sample(sl, "member").0, 2);
    assert!(sl.complete, "{sl:#?}");

    let rk = map_of(&findings, RK_LIVE);
    assert_eq!(
        permissions(rk),
        [
            ("read charges", Level::Read),
            ("read payment intents", Level::Read)
        ]
    );
    assert_eq!(gaps(rk).len(), 3);

    assert_eq!(sample(map_of(&findings, MAILGUN), "domain").0, 2);
    assert_eq!(
        sample(map_of(&findings, NPM), "package"),
        (2, true, vec!["@acme/utils".into(), "left-pad-ng".into()])
    );
    assert_eq!(sample(map_of(&findings, DD_APP), "API key").0, 4);
    assert_eq!(map_of(&findings, DD_APP).account.as_deref(), Some("Acme"));
    assert_eq!(
        sample(map_of(&findings, CF), "zone"),
        (
            3,
            true,
            vec!["acme.test".into(), "acme.dev".into(), "acme.io".into()]
        )
    );
    assert!(!sample(map_of(&findings, NOTION), "shared page").1);
    assert_eq!(
        map_of(&findings, TWILIO_TOKEN).key_type.as_deref(),
        Some("Full")
    );

    // The requests, host by host, in order.
    let want: &[(&str, &[&str])] = &[
        ("api.bitbucket.org", &[
            "GET /2.0/user",
            "GET /2.0/user/permissions/workspaces?pagelen=100",
            "GET /2.0/user/permissions/repositories?pagelen=100",
            "GET /2.0/user/permissions/repositories?pagelen=100&page=2",
        ]),
        ("gitlab.com", &[
            "GET /api/v4/personal_access_tokens/self",
            "GET /api/v4/user",
            "GET /api/v4/groups?min_access_level=10&per_page=100",
            "GET /api/v4/projects?membership=true&simple=true&per_page=100",
            "GET /api/v4/projects?membership=true&simple=true&per_page=100&page=2",
            "GET /api/v4/projects?membership=true&simple=true&min_access_level=40&per_page=100",
        ]),
        ("oauth2.googleapis.com", &["POST /token"]),
        ("cloudresourcemanager.googleapis.com", &[
            "GET /v1/projects?pageSize=50",
            "POST /v1/projects/acme-prod-42:testIamPermissions",
        ]),
        ("login.microsoftonline.com", &[&*Box::leak(format!("POST /{AZ_TENANT}/oauth2/v2.0/token").into_boxed_str())]),
        ("management.azure.com", &[
            "GET /subscriptions?api-version=2022-12-01",
            &*Box::leak(format!("GET /subscriptions/{AZ_SUB}/providers/Microsoft.Authorization/permissions?api-version=2022-04-01").into_boxed_str()),
        ]),
        ("huggingface.co", &[
            "GET /api/whoami-v2",
            "GET /api/models?author=alice&limit=100",
            "GET /api/datasets?author=alice&limit=100",
            "GET /api/spaces?author=alice&limit=100",
        ]),
        ("slack.com", &[
            "POST /api/auth.test",
            "GET /api/conversations.list?limit=200&exclude_archived=true&types=public_channel,private_channel",
            "GET /api/conversations.list?limit=200&exclude_archived=true&types=public_channel,private_channel",
            "GET /api/conversations.list?limit=200&exclude_archived=true&types=public_channel,private_channel&cursor=dGVhbTpDMDY%3D",
            "GET /api/users.list?limit=200",
        ]),
        ("api.mailgun.net", &["GET /v3/domains?limit=1", "GET /v3/domains?limit=100", "GET /v3/domains?limit=100&skip=2"]),
        ("registry.npmjs.org", &["GET /-/whoami", "GET /-/user/alice/package"]),
        ("api.datadoghq.com", &["GET /api/v2/current_user", "GET /api/v1/org", "GET /api/v2/api_keys?page%5Bsize%5D=100"]),
        ("api.digitalocean.com", &[
            "GET /v2/account", "GET /v2/droplets?per_page=200", "GET /v2/kubernetes/clusters?per_page=200",
            "GET /v2/databases", "GET /v2/apps?per_page=200",
        ]),
        ("api.cloudflare.com", &[
            "GET /client/v4/user/tokens/verify", "GET /client/v4/user/tokens/7b2c9e",
            "GET /client/v4/accounts?per_page=50", "GET /client/v4/zones?per_page=50",
            "GET /client/v4/zones?per_page=50&page=2",
        ]),
        ("api.heroku.com", &["GET /account", "GET /apps", "GET /teams"]),
        ("api.vercel.com", &["GET /v2/user", "GET /v2/teams?limit=100", "GET /v9/projects?limit=100"]),
        ("api.netlify.com", &["GET /api/v1/user", "GET /api/v1/accounts", "GET /api/v1/sites?per_page=100&filter=all"]),
        ("api.linear.app", &["POST /graphql", "POST /graphql"]),
        ("api.notion.com", &["GET /v1/users/me", "POST /v1/search", "GET /v1/users?page_size=100"]),
        ("api.getpostman.com", &["GET /me", "GET /workspaces", "GET /collections"]),
        ("api.sendgrid.com", &["GET /v3/scopes", "GET /v3/user/account", "GET /v3/user/username"]),
    ];
    for (host, paths) in want {
        assert_eq!(requests(&seen, host), *paths, "{host}");
    }
    let by_key = |host: &str, key: &str| -> Vec<String> {
        seen.iter()
            .filter(|r| {
                r.host() == host && (bearer(r) == key || r.header("x-api-key") == Some(key))
            })
            .map(|r| format!("{} {}", r.method, r.target))
            .collect()
    };
    assert_eq!(
        by_key("api.github.com", GHP_ADMIN),
        [
            "GET /user",
            "GET /user/orgs?per_page=100",
            "GET /user/repos?per_page=100&sort=pushed",
            "GET /user/repos?per_page=100&sort=pushed&page=2",
            "GET /user/repos?per_page=100&sort=pushed&page=3",
        ]
    );
    assert_eq!(by_key("api.openai.com", OPENAI).len(), 6);
    assert_eq!(by_key("api.openai.com", OPENAI_ADMIN).len(), 4);
    assert_eq!(by_key("api.anthropic.com", ANT_ADMIN).len(), 4);
    assert_eq!(
        by_key("api.stripe.com", SK_LIVE),
        ["GET /v1/balance", "GET /v1/account"]
    );
    assert_eq!(by_key("api.stripe.com", RK_LIVE).len(), 5);
    // IAM: five List calls for the admin user, the read-only one stops where it is denied.
    let actions: Vec<String> = seen
        .iter()
        .filter(|r| r.host() == "iam.amazonaws.com")
        .map(|r| r.target.split('&').next().unwrap_or("").to_string())
        .collect();
    assert_eq!(actions.len(), 9, "{actions:?}");
    assert_eq!(requests(&seen, "api.twilio.com").len(), 3);
    assert!(requests(&seen, "evil.example").is_empty());

    // Every request went to a host its rule declares (live check or map), under its own TLS
    // name; no request carries a secret to a host other than its provider's; each map stayed
    // within its documented bound.
    let declared: HashSet<String> = set
        .rules
        .iter()
        .filter_map(|r| r.validate.as_ref())
        .flat_map(|v| {
            let mut h = vec![v.host.clone()];
            h.extend(v.access.iter().flat_map(|a| a.hosts.clone()));
            h
        })
        .collect();
    for r in &seen {
        assert!(declared.contains(r.host()), "{} not declared", r.host());
        assert_eq!(r.sni.as_deref(), Some(r.host()));
    }
    for f in &findings {
        let Some(rule) = set.get(&f.rule_id) else {
            continue;
        };
        let Some(v) = rule.validate.as_ref() else {
            continue;
        };
        let mut hosts = vec![v.host.clone()];
        hosts.extend(v.access.iter().flat_map(|a| a.hosts.clone()));
        for r in seen.iter().filter(|r| r.raw().contains(f.secret.expose())) {
            assert!(
                hosts.iter().any(|h| h == r.host()),
                "{} sent to {}",
                f.rule_id,
                r.host()
            );
        }
        if let (Some(a), Some(m)) = (
            &v.access,
            f.validation.as_ref().and_then(|v| v.access.as_deref()),
        ) {
            // Retries after a 429 are the only requests beyond the bound.
            let retries = if f.secret.expose() == XOXB { 1 } else { 0 };
            assert!(
                m.requests <= a.max_requests + retries,
                "{}: {} > {}",
                f.rule_id,
                m.requests,
                a.max_requests
            );
        }
    }
    assert!(seen
        .iter()
        .all(|r| !r.raw().contains(AWS_SECRET) && !r.raw().contains("PRIVATE KEY")));

    // The log names rules and redacted keys, never a secret.
    let logged = logged.join("\n");
    assert!(
        logged.contains("access github.classic-pat ghp_JLFh…(40 chars): severity critical"),
        "{logged}"
    );
    for f in &findings {
        assert!(
            !logged.contains(f.secret.expose()),
            "{} leaked into the log",
            f.rule_id
        );
    }
    assert!(!logged.contains(GCP_TOKEN) && !logged.contains(AZ_TOKEN));
}

#[test]
fn admin_and_read_only_keys_of_one_provider() {
    let text = format!(
        "aws_access_key_id = {AWS_ID}\naws_secret_access_key = {AWS_SECRET}\n{}\
         aws_access_key_id = {AWS_ID_RO}\naws_secret_access_key = {AWS_SECRET_RO}\n",
        "\n".repeat(10)
    );
    let (findings, seen, _) = run(&text, options(), providers);
    let admin = map_of(&findings, AWS_SECRET);
    let reader = map_of(&findings, AWS_SECRET_RO);
    assert_eq!(admin.severity, Severity::Critical);
    assert_eq!(
        (reader.severity, reader.reason.as_str()),
        (
            Severity::Medium,
            "read: permission ReadOnlyAccess; parts unknown, may reach more"
        )
    );
    assert_eq!(
        reader.identity.as_deref(),
        Some("arn:aws:iam::123456789012:user/auditor")
    );
    assert_eq!(
        gaps(reader),
        [
            (
                "ListUserPolicies",
                "permission denied (HTTP 403): AccessDenied"
            ),
            (
                "ListAccountAliases",
                "permission denied (HTTP 403): AccessDenied"
            ),
        ]
    );
    assert_eq!(reader.account.as_deref(), Some("123456789012"));
    assert_eq!(admin.requests, 5);
    assert_eq!(reader.requests, 4);
    // Each key signed its own requests: nine IAM calls, two STS calls, nothing else.
    assert_eq!(requests(&seen, "iam.amazonaws.com").len(), 9);
    assert_eq!(requests(&seen, "sts.amazonaws.com"), ["POST /", "POST /"]);
    assert_eq!(seen.len(), 11);
    assert!(seen
        .iter()
        .all(|r| r.method != "POST" || r.host() == "sts.amazonaws.com"));
}

#[test]
fn a_rate_limit_in_the_middle_of_a_map_leaves_the_rest_of_that_host_unasked() {
    // Every Slack list answers 429: after the retries the rest of slack.com is not asked.
    let limited = |req: &Seen, n: usize| {
        if req.host() == "slack.com" && req.target != "/api/auth.test" {
            return Reply::json(429, json!({"ok": false})).header("retry-after", "0");
        }
        providers(req, n)
    };
    let text = format!("SLACK_TOKEN={XOXB}\n\n\n\nGITLAB_TOKEN={GLPAT}\n");
    let (findings, seen, logged) = run(&text, options(), limited);
    let m = map_of(&findings, XOXB);
    assert_eq!(
        gaps(m),
        [
            ("conversations", "rate limited"),
            ("members", "rate limited")
        ]
    );
    assert!(!m.complete);
    assert_eq!(m.requests, 3);
    let slack = requests(&seen, "slack.com");
    assert_eq!(slack.len(), 4, "{slack:?}");
    assert!(slack[1..].iter().all(|r| r.contains("conversations.list")));
    // The check itself stays valid, and another provider's map is unaffected.
    let v = findings
        .iter()
        .find(|f| f.secret.expose() == XOXB)
        .unwrap()
        .validation
        .clone()
        .unwrap();
    assert_eq!(v.state, LiveState::Valid);
    assert!(map_of(&findings, GLPAT).complete);
    assert!(
        logged
            .iter()
            .any(|l| l.contains("rate limited by slack.com, retrying in 0.00s")),
        "{logged:?}"
    );
}

#[test]
fn the_provider_budget_bounds_a_map() {
    let opts = Options {
        max_requests_per_provider: 3,
        ..options()
    };
    let (findings, seen, _) = run(&format!("GITHUB_TOKEN={GHP_ADMIN}\n"), opts, providers);
    let m = map_of(&findings, GHP_ADMIN);
    assert_eq!(requests(&seen, "api.github.com").len(), 3);
    assert_eq!(m.requests, 2);
    assert_eq!(
        gaps(m),
        [(
            "repositories",
            "request budget used up (--max-validation-requests), not sent"
        )]
    );
    // What the first page said is kept, marked as possibly more.
    assert_eq!(sample(m, "repository").0, 3);
    assert!(!sample(m, "repository").1);
}

#[test]
fn without_access_map_only_the_live_check_is_sent() {
    let opts = Options {
        access_map: false,
        ..options()
    };
    let (findings, seen, _) = run(
        &format!("GITHUB_TOKEN={GHP_ADMIN}\nTWINE_PASSWORD={}\n", pypi()),
        opts,
        providers,
    );
    assert_eq!(requests(&seen, "api.github.com"), ["GET /user"]);
    assert!(findings
        .iter()
        .all(|f| f.validation.as_ref().unwrap().access.is_none()));
}

#[test]
fn user_rules_map_only_hosts_the_user_allows() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("acme.yaml"),
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
      access:
        levels: {admin: [owner]}
        steps:
          - {id: me, from: validation, facts: {identity: json:user, permissions: json:role}}
          - id: projects
            request: {url: 'https://api.acme.test/v1/projects', headers: {Authorization: 'Bearer {{secret}}'}}
            resources: {kind: project, items: json:projects, name: json:name}
"#,
    )
    .unwrap();
    let handler = |req: &Seen, _: usize| match req.target.as_str() {
        "/v1/me" => Reply::json(200, json!({"user": "wile", "role": "owner"})),
        "/v1/projects" => Reply::json(200, json!({"projects": [{"name": "rockets"}]})),
        _ => Reply::new(404, "{}"),
    };
    let pki = Pki::new(HOSTS);
    let server = Server::start(&pki, handler);
    let set = Arc::new(RuleSet::with_user_rules(&[dir.path().join("acme.yaml")]).unwrap());
    let text = "ACME_TOKEN=acme_q8w7e6r5t4y3\n";
    let mut findings = scan(&set, text);
    validate::validate_findings(
        &set,
        &mut findings,
        &transport(&server, &pki),
        &options(),
        &|_, _| {},
    );
    assert!(findings[0].validation.as_ref().unwrap().access.is_none());
    assert_eq!(server.connections(), 0);
    let opts = Options {
        allowed_hosts: vec!["api.acme.test".into()],
        ..options()
    };
    let mut findings = scan(&set, text);
    validate::validate_findings(
        &set,
        &mut findings,
        &transport(&server, &pki),
        &opts,
        &|_, _| {},
    );
    let m = map_of(&findings, "acme_q8w7e6r5t4y3");
    assert_eq!(
        (m.severity, m.identity.as_deref()),
        (Severity::Critical, Some("wile"))
    );
    assert_eq!(sample(m, "project").2, ["rockets"]);
    let seen: BTreeMap<String, usize> = server.seen().iter().fold(BTreeMap::new(), |mut acc, r| {
        *acc.entry(format!("{} {}", r.host(), r.target)).or_default() += 1;
        acc
    });
    assert_eq!(
        seen,
        BTreeMap::from([
            ("api.acme.test /v1/me".to_string(), 1),
            ("api.acme.test /v1/projects".to_string(), 1)
        ])
    );
}

#[test]
fn answers_are_bounded_and_cleaned() {
    // A hostile answer: escape sequences, the secret echoed back, an endless name.
    let hostile = |req: &Seen, n: usize| {
        if req.host() == "api.vercel.com" && req.target == "/v9/projects?limit=100" {
            let long = "x".repeat(5000);
            return Reply::json(
                200,
                json!({"projects": [
                {"name": format!("\u{1b}]0;pwned\u{7}evil\u{202e}txt {VERCEL}")},
                {"name": long}]}),
            );
        }
        providers(req, n)
    };
    let (findings, _, _) = run(&format!("VERCEL_TOKEN={VERCEL}\n"), options(), hostile);
    let m = map_of(&findings, VERCEL);
    let names = sample(m, "project").2;
    assert_eq!(names[0], "]0;pwnedeviltxt [secret]");
    assert_eq!(names[1].chars().count(), 101);
    let json = serde_json::to_string(m).unwrap();
    assert!(!json.contains(VERCEL) && !json.contains('\u{1b}'));
}

/// The rules this test file maps, one per provider: 25 providers.
#[test]
fn twenty_five_providers_are_mapped() {
    let set = RuleSet::builtin().unwrap();
    let providers: HashSet<&str> = set
        .rules
        .iter()
        .filter(|r| r.validate.as_ref().is_some_and(|v| v.access.is_some()))
        .map(|r| r.provider.as_str())
        .collect();
    let mut list: Vec<&str> = providers.into_iter().collect();
    list.sort_unstable();
    assert_eq!(list.len(), 25, "{list:?}");
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for r in set
        .rules
        .iter()
        .filter(|r| r.validate.as_ref().is_some_and(|v| v.access.is_some()))
    {
        *counts.entry(r.provider.as_str()).or_default() += 1;
        let a = r.validate.as_ref().unwrap().access.as_ref().unwrap();
        assert!(a.max_requests <= 12, "{}", r.id);
    }
    assert!(counts["GitHub"] >= 4);
}
