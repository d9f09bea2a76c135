//! The `aws-iam` mapper: from the ARN that STS `GetCallerIdentity` returned (the live check),
//! the IAM policies of the caller, read with SigV4-signed GET requests to IAM's query API on
//! `iam.amazonaws.com` (global, signed for `us-east-1`). Only `List*` actions are sent.
//!
//! For an IAM user, at most `MAX_REQUESTS` requests: `ListAttachedUserPolicies`,
//! `ListUserPolicies`, `ListGroupsForUser`, `ListAttachedGroupPolicies` for each of the first
//! two groups, and `ListAccountAliases`. For an assumed role: `ListAttachedRolePolicies`,
//! `ListRolePolicies` and `ListAccountAliases`. Root credentials need no request: they can do
//! everything. An action the key may not call (`AccessDenied`) is a gap, not a failure.

use std::time::SystemTime;

use super::map::{Builder, Resource};
use super::{failure, refusal, Input, Net};
use crate::rules::syntax::Level;
use crate::rules::validation::access::AccessSpec;
use crate::validate::aws::{amz_date, authorization, SigningInput};
use crate::validate::http::{HttpRequest, HttpResponse};
use crate::validate::percent_encode;

pub const HOST: &str = "iam.amazonaws.com";
/// Requests for one key, at most (an IAM user in two or more groups).
pub const MAX_REQUESTS: usize = crate::rules::syntax::NamedMapper::AwsIam.max_requests();
/// Groups whose attached policies are read.
const MAX_GROUPS: usize = 2;

/// Who the caller is, from its ARN.
#[derive(Debug, PartialEq, Eq)]
enum Principal {
    Root,
    User(String),
    Role(String),
    Other,
}

fn principal(arn: &str) -> (Option<String>, Principal) {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    if parts.len() != 6 || parts[0] != "arn" {
        return (None, Principal::Other);
    }
    let account = Some(parts[4].to_string()).filter(|a| !a.is_empty());
    let resource = parts[5];
    let p = if resource == "root" {
        Principal::Root
    } else if let Some(path) = resource.strip_prefix("user/") {
        Principal::User(path.rsplit('/').next().unwrap_or(path).to_string())
    } else if let Some(rest) = resource.strip_prefix("assumed-role/") {
        Principal::Role(rest.split('/').next().unwrap_or(rest).to_string())
    } else {
        Principal::Other
    };
    (account, p)
}

pub(super) fn map(spec: &AccessSpec, input: &Input<'_>, net: &dyn Net, b: &mut Builder<'_>) {
    let Some(arn) = input.identity else {
        b.gap("identity", "the live check named no caller");
        return;
    };
    b.identity(arn);
    let (account, who) = principal(arn);
    let iam = Iam { input, net };
    match &who {
        Principal::Root => {
            b.key_type("root account credentials");
            b.permission("root account (every action)", Level::Admin);
        }
        Principal::User(name) => user(spec, &iam, b, name),
        Principal::Role(name) => {
            b.key_type("assumed role");
            let attached = iam.list(
                b,
                "ListAttachedRolePolicies",
                &[("RoleName", name)],
                "PolicyName",
            );
            policies(spec, b, &attached, "");
            let inline = iam.list(b, "ListRolePolicies", &[("RoleName", name)], "member");
            policies(spec, b, &inline, "inline ");
        }
        Principal::Other => b.gap("identity", "not a user, role or root ARN"),
    }
    if who == Principal::Other {
        return;
    }
    let aliases = iam.list(b, "ListAccountAliases", &[], "member");
    match (aliases.and_then(|a| a.names.into_iter().next()), account) {
        (Some(alias), Some(id)) => b.account(&format!("{alias} ({id})")),
        (None, Some(id)) => b.account(&id),
        (Some(alias), None) => b.account(&alias),
        (None, None) => {}
    }
}

/// An IAM user's attached and inline policies, its groups and their attached policies.
fn user(spec: &AccessSpec, iam: &Iam<'_>, b: &mut Builder<'_>, name: &str) {
    b.key_type("IAM user access key");
    let user = [("UserName", name)];
    let attached = iam.list(b, "ListAttachedUserPolicies", &user, "PolicyName");
    policies(spec, b, &attached, "");
    let inline = iam.list(b, "ListUserPolicies", &user, "member");
    policies(spec, b, &inline, "inline ");
    let Some(groups) = iam.list(b, "ListGroupsForUser", &user, "GroupName") else {
        return;
    };
    b.resource(Resource {
        kind: "group".into(),
        count: groups.names.len() as u64,
        complete: !groups.truncated,
        sample: groups.names.clone(),
        tally: Vec::new(),
        level: None,
    });
    for g in groups.names.iter().take(MAX_GROUPS) {
        let attached = iam.list(
            b,
            "ListAttachedGroupPolicies",
            &[("GroupName", g)],
            "PolicyName",
        );
        policies(spec, b, &attached, &format!("group {g}: "));
    }
    if groups.names.len() > MAX_GROUPS {
        b.gap(
            "ListAttachedGroupPolicies",
            "only the first two groups were read",
        );
    }
}

fn policies(spec: &AccessSpec, b: &mut Builder<'_>, list: &Option<Names>, prefix: &str) {
    if let Some(l) = list {
        for name in &l.names {
            b.permission(&format!("{prefix}{name}"), spec.level_of(name));
        }
        if l.truncated {
            b.gap("policies", "more policies than one answer lists");
        }
    }
}

struct Names {
    names: Vec<String>,
    truncated: bool,
}

struct Iam<'a> {
    input: &'a Input<'a>,
    net: &'a dyn Net,
}

impl Iam<'_> {
    /// Calls a `List*` action and collects the text of every `<element>`; `None` (and a gap)
    /// when the call has no usable answer.
    fn list(
        &self,
        b: &mut Builder<'_>,
        action: &str,
        params: &[(&str, &str)],
        element: &str,
    ) -> Option<Names> {
        let what = format!(
            "access {}: {action}: GET https://{HOST}/?Action={action}",
            self.input.label
        );
        let build = || {
            Ok(list_request(
                action,
                params,
                self.input.partner,
                self.input.secret,
                SystemTime::now(),
            ))
        };
        let resp: HttpResponse = match self.net.send(&what, HOST, &build) {
            Ok(r) => r,
            Err(e) => {
                b.gap(action, &failure(&e));
                return None;
            }
        };
        let body = String::from_utf8_lossy(&resp.body);
        if resp.status != 200 {
            let code = elements(&body, "Code")
                .into_iter()
                .next()
                .unwrap_or_default();
            let why = refusal(resp.status);
            b.gap(
                action,
                &if code.is_empty() {
                    why
                } else {
                    format!("{why}: {code}")
                },
            );
            return None;
        }
        Some(Names {
            names: elements(&body, element),
            truncated: elements(&body, "IsTruncated")
                .first()
                .is_some_and(|t| t == "true"),
        })
    }
}

/// A signed IAM query-API GET.
fn list_request(
    action: &str,
    params: &[(&str, &str)],
    key_id: &str,
    secret: &str,
    now: SystemTime,
) -> HttpRequest {
    let mut q: Vec<(String, String)> = vec![
        ("Action".into(), action.into()),
        ("Version".into(), "2010-05-08".into()),
    ];
    q.extend(params.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    q.sort();
    let query = q
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let date = amz_date(now);
    let auth = authorization(
        &SigningInput {
            method: "GET",
            path: "/",
            query: &query,
            headers: &[("host", HOST), ("x-amz-date", &date)],
            body: b"",
            region: "us-east-1",
            service: "iam",
            amz_date: &date,
        },
        key_id,
        secret,
    );
    HttpRequest {
        method: "GET".into(),
        url: format!("https://{HOST}/?{query}"),
        headers: vec![
            ("X-Amz-Date".into(), date),
            ("Authorization".into(), auth),
            ("Accept".into(), "application/xml".into()),
        ],
        body: None,
    }
}

/// The texts of every `<name>…</name>` element (IAM answers are flat enough for this).
fn elements(xml: &str, name: &str) -> Vec<String> {
    let (open, close) = (format!("<{name}>"), format!("</{name}>"));
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(i) = rest.find(&open) {
        let after = &rest[i + open.len()..];
        let Some(j) = after.find(&close) else { break };
        let v = after[..j].trim();
        if !v.is_empty() && !v.contains('<') {
            out.push(v.to_string());
        }
        rest = &after[j + close.len()..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_name_the_principal() {
        assert_eq!(
            principal("arn:aws:iam::123456789012:user/ci/deploy"),
            (
                Some("123456789012".into()),
                Principal::User("deploy".into())
            )
        );
        assert_eq!(
            principal("arn:aws:iam::123456789012:root").1,
            Principal::Root
        );
        assert_eq!(
            principal("arn:aws:sts::123456789012:assumed-role/Admin/session-1").1,
            Principal::Role("Admin".into())
        );
        assert_eq!(principal("nonsense").1, Principal::Other);
    }

    #[test]
    fn requests_are_signed_lists_that_never_carry_the_secret() {
        let secret = "N+PMo5KFu5IHYMYLzuzR7jF+QUqKjELHTmoYL1rJ";
        let r = list_request(
            "ListUserPolicies",
            &[("UserName", "a b")],
            "AKIAIOSFODNN7ABCDEFG",
            secret,
            SystemTime::now(),
        );
        assert_eq!(r.method, "GET");
        assert_eq!(
            r.url,
            "https://iam.amazonaws.com/?Action=ListUserPolicies&UserName=a%20b&Version=2010-05-08"
        );
        assert!(r.headers.iter().all(|(_, v)| !v.contains(secret)));
        assert!(r
            .headers
            .iter()
            .any(|(n, v)| n == "Authorization" && v.contains("/us-east-1/iam/aws4_request")));
    }

    #[test]
    fn xml_elements() {
        let xml = "<R><AttachedPolicies><member><PolicyName>AdministratorAccess</PolicyName></member><member><PolicyName>S3</PolicyName></member></AttachedPolicies><IsTruncated>false</IsTruncated></R>";
        assert_eq!(elements(xml, "PolicyName"), ["AdministratorAccess", "S3"]);
        assert_eq!(elements(xml, "IsTruncated"), ["false"]);
        assert!(elements("<a>", "a").is_empty());
    }
}
