//! Google Cloud service account keys: the `gcp-service-account` live check and the mapper.
//!
//! The check signs a JWT (RS256) with the key file's private key, `iss` its `client_email`,
//! for the read-only scope `cloud-platform.read-only`, and trades it at Google's token
//! endpoint (`oauth2.googleapis.com`) for a short-lived access token; the private key never
//! leaves this process. The token can only read, whatever roles the account has.
//!
//! The map then sends at most `MAX_REQUESTS` requests to `cloudresourcemanager.googleapis.com`:
//! the projects the account sees (`projects.list`, one page), and
//! `projects.testIamPermissions` on the account's own project with the fixed list
//! `PERMISSIONS`, which answers the subset the account holds (a read: it changes nothing).

use std::time::{SystemTime, UNIX_EPOCH};

use ring::rand::SystemRandom;
use ring::signature::{RsaKeyPair, RSA_PKCS1_SHA256};
use serde_json::Value;

use super::map::{Builder, Resource};
use super::{Bearer, Input, Net};
use crate::finding::{LiveState, UnknownReason};
use crate::rules::syntax::Level;
use crate::rules::validation::access::AccessSpec;
use crate::validate::http::{HttpRequest, HttpResponse};
use crate::validate::percent_encode;

pub const TOKEN_HOST: &str = "oauth2.googleapis.com";
pub const CRM_HOST: &str = "cloudresourcemanager.googleapis.com";
/// Requests the map sends for one key (the token exchange is the live check).
pub const MAX_REQUESTS: usize = crate::rules::syntax::NamedMapper::GcpServiceAccount.max_requests();
const SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform.read-only";

/// The permissions tested on the account's project: what an attacker would look for first.
/// The rule file's `levels` say what each grants.
pub const PERMISSIONS: &[&str] = &[
    "resourcemanager.projects.get",
    "resourcemanager.projects.getIamPolicy",
    "resourcemanager.projects.setIamPolicy",
    "resourcemanager.projects.delete",
    "iam.roles.create",
    "iam.serviceAccounts.actAs",
    "iam.serviceAccounts.getAccessToken",
    "iam.serviceAccountKeys.create",
    "iam.serviceAccounts.list",
    "compute.instances.list",
    "compute.instances.create",
    "compute.instances.setMetadata",
    "container.clusters.get",
    "container.clusters.create",
    "storage.buckets.list",
    "storage.buckets.create",
    "storage.objects.list",
    "storage.objects.get",
    "storage.objects.create",
    "storage.objects.delete",
    "bigquery.tables.getData",
    "bigquery.tables.updateData",
    "secretmanager.versions.access",
    "secretmanager.versions.add",
    "cloudfunctions.functions.create",
    "run.services.create",
    "cloudsql.instances.list",
    "logging.logEntries.list",
];

/// The parts of a key file the partner finding carries.
struct KeyFile {
    der: Vec<u8>,
    email: String,
}

/// Reads the private key (PKCS#8 PEM, possibly with JSON `\n` escapes) and `client_email`.
fn key_file(partner: &str) -> Option<KeyFile> {
    const BEGIN: &str = "-----BEGIN PRIVATE KEY-----";
    const END: &str = "-----END PRIVATE KEY-----";
    let start = partner.find(BEGIN)? + BEGIN.len();
    let end = start + partner[start..].find(END)?;
    let body: String = partner[start..end]
        .replace("\\n", "")
        .replace("\\r", "")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '='))
        .collect();
    let der = crate::matcher::decode::base64(body.as_bytes())?;
    let email = json_string_after(partner, "\"client_email\"")?;
    let ok = email.len() <= 200
        && email.contains('@')
        && email
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"@.-_".contains(&b));
    ok.then_some(KeyFile { der, email })
}

/// The string value after a JSON key in a text.
fn json_string_after(text: &str, key: &str) -> Option<String> {
    let rest = &text[text.find(key)? + key.len()..];
    let rest = rest
        .trim_start()
        .strip_prefix(':')?
        .trim_start()
        .strip_prefix('"')?;
    Some(rest[..rest.find('"')?].to_string())
}

fn b64url(data: &[u8]) -> String {
    crate::validate::base64(data)
        .trim_end_matches('=')
        .replace('+', "-")
        .replace('/', "_")
}

/// The token request: a JWT signed with the key, for the read-only scope.
pub fn token_request(
    key_id: &str,
    partner: &str,
    now: SystemTime,
) -> Result<HttpRequest, UnknownReason> {
    let kf = key_file(partner).ok_or(UnknownReason::Unsendable)?;
    let pair = RsaKeyPair::from_pkcs8(&kf.der).map_err(|_| UnknownReason::Unsendable)?;
    let iat = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let header = serde_json::json!({"alg": "RS256", "typ": "JWT", "kid": key_id});
    let claims = serde_json::json!({
        "iss": kf.email, "scope": SCOPE, "aud": format!("https://{TOKEN_HOST}/token"),
        "iat": iat, "exp": iat + 600,
    });
    let signing_input = format!(
        "{}.{}",
        b64url(header.to_string().as_bytes()),
        b64url(claims.to_string().as_bytes())
    );
    let mut sig = vec![0u8; pair.public().modulus_len()];
    pair.sign(
        &RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        signing_input.as_bytes(),
        &mut sig,
    )
    .map_err(|_| UnknownReason::Unsendable)?;
    let jwt = format!("{signing_input}.{}", b64url(&sig));
    Ok(HttpRequest {
        method: "POST".into(),
        url: format!("https://{TOKEN_HOST}/token"),
        headers: vec![(
            "Content-Type".into(),
            "application/x-www-form-urlencoded".into(),
        )],
        body: Some(
            format!(
                "grant_type={}&assertion={jwt}",
                percent_encode("urn:ietf:params:oauth:grant-type:jwt-bearer")
            )
            .into_bytes(),
        ),
    })
}

/// The token endpoint's verdict: a token is a live key; `invalid_grant` (deleted key, unknown
/// account, bad signature) and `invalid_client` are dead ones.
pub fn read_answer(
    resp: &HttpResponse,
    partner: &str,
) -> (
    LiveState,
    Option<UnknownReason>,
    Option<String>,
    Option<String>,
) {
    let body: Option<Value> = serde_json::from_slice(&resp.body).ok();
    let field = |k: &str| body.as_ref().and_then(|b| b.get(k)).and_then(Value::as_str);
    match resp.status {
        200 if field("access_token").is_some() => (
            LiveState::Valid,
            None,
            key_file(partner).map(|k| k.email),
            Some("service account key".into()),
        ),
        400 | 401 if matches!(field("error"), Some("invalid_grant" | "invalid_client")) => {
            (LiveState::Invalid, None, None, None)
        }
        s => (
            LiveState::Unknown,
            Some(UnknownReason::UnexpectedStatus(s)),
            None,
            None,
        ),
    }
}

/// The project a service account lives in, from its address (`NAME@PROJECT.iam.gserviceaccount.com`).
fn home_project(email: &str) -> Option<String> {
    let p = email
        .split_once('@')?
        .1
        .strip_suffix(".iam.gserviceaccount.com")?;
    valid_project(p).then(|| p.to_string())
}

/// A project id as Google allows them: 6 to 30 lower-case letters, digits and hyphens.
fn valid_project(p: &str) -> bool {
    (6..=30).contains(&p.len())
        && p.starts_with(|c: char| c.is_ascii_lowercase())
        && p.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

pub(super) fn map(spec: &AccessSpec, input: &Input<'_>, net: &dyn Net, b: &mut Builder<'_>) {
    let (Some(api), Some(kf)) = (
        Bearer::from_check(input, net, CRM_HOST),
        key_file(input.partner),
    ) else {
        b.gap("token", "the live check gave no access token");
        return;
    };
    b.identity(&kf.email);
    b.key_type("service account key");
    let listed = projects(&api, b);
    let Some(project) =
        home_project(&kf.email).or_else(|| listed.into_iter().find(|p| valid_project(p)))
    else {
        b.gap("testIamPermissions", "no project to test permissions on");
        return;
    };
    b.account(&format!("project {project}"));
    test_permissions(spec, &api, b, &project);
}

/// The projects the account sees (one page); their ids.
fn projects(api: &Bearer<'_>, b: &mut Builder<'_>) -> Vec<String> {
    let url = format!("https://{CRM_HOST}/v1/projects?pageSize=50");
    let template = "https://cloudresourcemanager.googleapis.com/v1/projects";
    let Some(v) = api.call(b, "projects", template, "GET", &url, None) else {
        return Vec::new();
    };
    let listed: Vec<String> = v
        .get("projects")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| p.get("projectId")?.as_str().map(str::to_string))
        .collect();
    let more = v
        .get("nextPageToken")
        .and_then(Value::as_str)
        .is_some_and(|t| !t.is_empty());
    b.resource(Resource {
        kind: "project".into(),
        count: listed.len() as u64,
        complete: !more,
        sample: listed.clone(),
        tally: Vec::new(),
        level: Some(Level::Metadata),
    });
    listed
}

/// `testIamPermissions` on `project` with `PERMISSIONS`: the ones the account holds.
fn test_permissions(spec: &AccessSpec, api: &Bearer<'_>, b: &mut Builder<'_>, project: &str) {
    let body = serde_json::json!({ "permissions": PERMISSIONS }).to_string();
    let url = format!(
        "https://{CRM_HOST}/v1/projects/{}:testIamPermissions",
        percent_encode(project)
    );
    let template =
        "https://cloudresourcemanager.googleapis.com/v1/projects/{project}:testIamPermissions";
    if let Some(v) = api.call(b, "testIamPermissions", template, "POST", &url, Some(&body)) {
        for p in super::strings(&v, "permissions") {
            // Only names that were asked about: the answer cannot add others.
            if PERMISSIONS.contains(&p.as_str()) {
                b.permission(&p, spec.level_of(&p));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_files_and_projects() {
        let blob = "-----BEGIN PRIVATE KEY-----\\nMIIB\\nAAAA\\n-----END PRIVATE KEY-----\\n\",\n  \"client_email\": \"deploy@acme-prod-42.iam.gserviceaccount.com\"";
        let kf = key_file(blob).unwrap();
        assert_eq!(kf.email, "deploy@acme-prod-42.iam.gserviceaccount.com");
        assert_eq!(kf.der, crate::matcher::decode::base64(b"MIIBAAAA").unwrap());
        assert_eq!(home_project(&kf.email).as_deref(), Some("acme-prod-42"));
        assert_eq!(
            home_project("123-compute@developer.gserviceaccount.com"),
            None
        );
        assert!(key_file("no key here").is_none());
        // A key that does not parse cannot sign: nothing is sent.
        assert!(matches!(
            token_request("k", blob, SystemTime::now()),
            Err(UnknownReason::Unsendable)
        ));
        assert_eq!(b64url(&[0xfb, 0xff]), "-_8");
    }
}
