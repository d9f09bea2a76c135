//! Revoking a found key at its provider, for the providers that let whoever holds a key revoke
//! it safely: GitHub's credential-revocation API (meant for tokens found exposed; GitHub tells
//! the owner) and Slack's `auth.revoke`. Only the built-in rules of those tokens qualify.
//!
//! This module builds the request and reads the answer; `crate::revoke` asks the user first.
//! It never runs during a scan.

use serde_json::Value;

use super::http::{HttpRequest, HttpResponse};
use crate::rules::Rule;

/// How a key can be revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `POST https://api.github.com/credentials/revoke`, unauthenticated, the token in the body.
    GitHub,
    /// `POST https://slack.com/api/auth.revoke`, authenticated with the token itself.
    Slack,
}

const GITHUB_RULES: &[&str] = &[
    "github.classic-pat",
    "github.fine-grained-pat",
    "github.oauth-token",
    "github.user-to-server-token",
    "github.refresh-token",
];
const SLACK_RULES: &[&str] = &["slack.bot-token", "slack.user-token"];

impl Method {
    /// The method for a rule's keys, if any.
    pub fn for_rule(rule: &Rule) -> Option<Method> {
        if !rule.origin.builtin {
            return None;
        }
        if GITHUB_RULES.contains(&rule.id.as_str()) {
            Some(Method::GitHub)
        } else if SLACK_RULES.contains(&rule.id.as_str()) {
            Some(Method::Slack)
        } else {
            None
        }
    }

    pub fn host(self) -> &'static str {
        match self {
            Method::GitHub => "api.github.com",
            Method::Slack => "slack.com",
        }
    }

    /// What will happen, for the confirmation question.
    pub fn describe(self) -> &'static str {
        match self {
            Method::GitHub => {
                "GitHub's credential-revocation API (POST https://api.github.com/credentials/revoke); \
                 GitHub notifies the token's owner"
            }
            Method::Slack => "Slack's auth.revoke (POST https://slack.com/api/auth.revoke)",
        }
    }

    pub fn request(self, secret: &str) -> HttpRequest {
        match self {
            Method::GitHub => HttpRequest {
                method: "POST".into(),
                url: "https://api.github.com/credentials/revoke".into(),
                headers: vec![
                    ("Accept".into(), "application/vnd.github+json".into()),
                    ("X-GitHub-Api-Version".into(), "2022-11-28".into()),
                    ("Content-Type".into(), "application/json".into()),
                ],
                body: Some(
                    serde_json::json!({ "credentials": [secret] })
                        .to_string()
                        .into_bytes(),
                ),
            },
            Method::Slack => HttpRequest {
                method: "POST".into(),
                url: "https://slack.com/api/auth.revoke".into(),
                headers: vec![("Authorization".into(), format!("Bearer {secret}"))],
                body: None,
            },
        }
    }

    /// What the answer means: `Ok` with what happened, or `Err` with why not. Text from the
    /// answer is cut short and stripped of control characters.
    pub fn read(self, resp: &HttpResponse) -> Result<String, String> {
        let body: Option<Value> = serde_json::from_slice(&resp.body).ok();
        match self {
            Method::GitHub => match resp.status {
                202 | 204 | 200 => Ok(format!(
                    "GitHub accepted the revocation (HTTP {}); the owner is notified",
                    resp.status
                )),
                422 => Err("GitHub refused the request (HTTP 422: not a revocable token, or too many requests)".into()),
                s => Err(super::access::refusal(s)),
            },
            Method::Slack => {
                let ok = body.as_ref().and_then(|b| b.get("ok")).and_then(Value::as_bool);
                let error = body
                    .as_ref()
                    .and_then(|b| b.get("error"))
                    .and_then(Value::as_str)
                    .map(short);
                match (resp.status, ok) {
                    (200, Some(true)) => Ok("Slack revoked the token".into()),
                    (200, _) => Err(format!(
                        "Slack refused: {}",
                        error.unwrap_or_else(|| "no reason given".into())
                    )),
                    (s, _) => Err(super::access::refusal(s)),
                }
            }
        }
    }
}

fn short(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).take(80).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(status: u16, body: &str) -> HttpResponse {
        HttpResponse {
            status,
            headers: vec![],
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn answers() {
        assert!(Method::GitHub.read(&resp(202, "")).is_ok());
        assert!(Method::GitHub
            .read(&resp(422, "{}"))
            .unwrap_err()
            .contains("422"));
        assert!(Method::Slack
            .read(&resp(200, r#"{"ok":true,"revoked":true}"#))
            .is_ok());
        assert_eq!(
            Method::Slack
                .read(&resp(
                    200,
                    "{\"ok\":false,\"error\":\"invalid_auth\\u001b[2J\"}"
                ))
                .unwrap_err(),
            "Slack refused: invalid_auth[2J"
        );
        let r = Method::GitHub.request("ghp_x");
        assert_eq!(
            String::from_utf8(r.body.unwrap()).unwrap(),
            r#"{"credentials":["ghp_x"]}"#
        );
        assert!(r.headers.iter().all(|(n, _)| n != "Authorization"));
    }
}
