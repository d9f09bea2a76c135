//! Azure service principals: the `azure-client-credentials` live check and the `azure-arm`
//! mapper.
//!
//! The check asks Microsoft Entra ID (`login.microsoftonline.com/{tenant}`) for a token with
//! the client-credentials grant, for Azure Resource Manager. The tenant and client ids come
//! from the partner finding (the `az ad sp create-for-rbac` JSON around the secret).
//!
//! The map sends at most `MAX_REQUESTS` GETs to `management.azure.com`: the subscriptions the
//! principal sees, then the effective permissions (`Microsoft.Authorization/permissions`) on
//! the first two of them.

use serde_json::Value;

use super::map::{Builder, Resource};
use super::{Bearer, Input, Net};
use crate::finding::{LiveState, UnknownReason};
use crate::rules::syntax::Level;
use crate::rules::validation::access::AccessSpec;
use crate::validate::http::{HttpRequest, HttpResponse};
use crate::validate::percent_encode;

pub const LOGIN_HOST: &str = "login.microsoftonline.com";
pub const ARM_HOST: &str = "management.azure.com";
/// Requests the map sends for one key (the token request is the live check).
pub const MAX_REQUESTS: usize = crate::rules::syntax::NamedMapper::AzureArm.max_requests();
/// Subscriptions whose permissions are read.
const MAX_SUBSCRIPTIONS: usize = 2;

/// Tenant and client ids, from the JSON `az` prints (`tenantId`/`tenant`, `clientId`/`appId`).
fn ids(partner: &str) -> Option<(String, String)> {
    let find = |keys: &[&str]| {
        keys.iter()
            .find_map(|k| string_after(partner, &format!("\"{k}\"")))
    };
    let tenant = find(&["tenantId", "tenant"])?;
    let client = find(&["clientId", "appId"])?;
    let tenant_ok = !tenant.is_empty()
        && tenant.len() <= 100
        && tenant
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    (tenant_ok && is_guid(&client)).then_some((tenant, client))
}

fn string_after(text: &str, key: &str) -> Option<String> {
    let rest = &text[text.find(key)? + key.len()..];
    let rest = rest
        .trim_start()
        .strip_prefix(':')?
        .trim_start()
        .strip_prefix('"')?;
    Some(rest[..rest.find('"')?].to_string())
}

fn is_guid(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// The client-credentials token request for Azure Resource Manager.
pub fn token_request(secret: &str, partner: &str) -> Result<HttpRequest, UnknownReason> {
    let (tenant, client) = ids(partner).ok_or(UnknownReason::MissingPartner)?;
    let body = format!(
        "client_id={}&client_secret={}&scope={}&grant_type=client_credentials",
        percent_encode(&client),
        percent_encode(secret),
        percent_encode("https://management.azure.com/.default"),
    );
    Ok(HttpRequest {
        method: "POST".into(),
        url: format!(
            "https://{LOGIN_HOST}/{}/oauth2/v2.0/token",
            percent_encode(&tenant)
        ),
        headers: vec![(
            "Content-Type".into(),
            "application/x-www-form-urlencoded".into(),
        )],
        body: Some(body.into_bytes()),
    })
}

/// A token is a live secret; `invalid_client` (wrong secret), `unauthorized_client` (unknown
/// application) and an unknown tenant (`invalid_request` with AADSTS90002) are dead ones.
pub fn read_answer(
    resp: &HttpResponse,
    _secret: &str,
    partner: &str,
) -> (
    LiveState,
    Option<UnknownReason>,
    Option<String>,
    Option<String>,
) {
    let body: Option<Value> = serde_json::from_slice(&resp.body).ok();
    let field = |k: &str| body.as_ref().and_then(|b| b.get(k)).and_then(Value::as_str);
    let codes = body
        .as_ref()
        .and_then(|b| b.get("error_codes"))
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_u64).collect::<Vec<_>>())
        .unwrap_or_default();
    match (resp.status, field("error")) {
        (200, _) if field("access_token").is_some() => (
            LiveState::Valid,
            None,
            ids(partner).map(|(t, c)| format!("application {c} in tenant {t}")),
            Some("service principal secret".into()),
        ),
        (400 | 401, Some("invalid_client" | "unauthorized_client")) => {
            (LiveState::Invalid, None, None, None)
        }
        (400, Some("invalid_request")) if codes.contains(&90002) => {
            (LiveState::Invalid, None, None, None)
        }
        (s, _) => (
            LiveState::Unknown,
            Some(UnknownReason::UnexpectedStatus(s)),
            None,
            None,
        ),
    }
}

pub(super) fn map(spec: &AccessSpec, input: &Input<'_>, net: &dyn Net, b: &mut Builder<'_>) {
    let Some(api) = Bearer::from_check(input, net, ARM_HOST) else {
        b.gap("token", "the live check gave no access token");
        return;
    };
    if let Some(i) = input.identity {
        b.identity(i);
    }
    b.key_type("service principal secret");
    let Some(list) = subscriptions(&api, b) else {
        return;
    };
    if let Some((_, name)) = list.first() {
        b.account(&format!("subscription {name}"));
    }
    let template = "https://management.azure.com/subscriptions/{id}/providers/Microsoft.Authorization/permissions";
    for (id, name) in list
        .iter()
        .filter(|(id, _)| is_guid(id))
        .take(MAX_SUBSCRIPTIONS)
    {
        let url = format!(
            "https://{ARM_HOST}/subscriptions/{id}/providers/Microsoft.Authorization/permissions?api-version=2022-04-01"
        );
        if let Some(v) = api.call(b, "permissions", template, "GET", &url, None) {
            permissions(spec, b, name, &v);
        }
    }
    if list.len() > MAX_SUBSCRIPTIONS {
        b.gap("permissions", "only the first two subscriptions were read");
    }
}

/// The subscriptions the principal sees: (id, display name).
fn subscriptions(api: &Bearer<'_>, b: &mut Builder<'_>) -> Option<Vec<(String, String)>> {
    let url = format!("https://{ARM_HOST}/subscriptions?api-version=2022-12-01");
    let template = "https://management.azure.com/subscriptions";
    let v = api.call(b, "subscriptions", template, "GET", &url, None)?;
    let list: Vec<(String, String)> = v
        .get("value")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|s| {
            let id = s.get("subscriptionId")?.as_str()?.to_string();
            let name = s
                .get("displayName")
                .and_then(Value::as_str)
                .unwrap_or(&id)
                .to_string();
            Some((id, name))
        })
        .collect();
    b.resource(Resource {
        kind: "subscription".into(),
        count: list.len() as u64,
        complete: v.get("nextLink").and_then(Value::as_str).is_none(),
        sample: list.iter().map(|(_, n)| n.clone()).collect(),
        tally: Vec::new(),
        level: Some(Level::Metadata),
    });
    Some(list)
}

/// Effective permissions on a subscription: `*` without exclusions is Owner-like, `*` that
/// excludes authorization writes is Contributor-like; other actions go by the rule's levels.
fn permissions(spec: &AccessSpec, b: &mut Builder<'_>, sub: &str, v: &Value) {
    for p in v
        .get("value")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let (actions, not_actions) = (
            super::strings(p, "actions"),
            super::strings(p, "notActions"),
        );
        for a in &actions {
            let level = if a == "*" && not_actions.is_empty() {
                Level::Admin
            } else if a == "*" {
                Level::Write
            } else {
                spec.level_of(a)
            };
            b.permission(&format!("{sub}: {a}"), level);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_come_from_either_json_shape() {
        let sdk = r#"3c1f6a0e-5d2b-4f7a-9e8c-1b2d3e4f5a6b",
  "clientSecret": "x",
  "subscriptionId": "0b1c2d3e-4f5a-6b7c-8d9e-0f1a2b3c4d5e",
  "tenantId": "9a8b7c6d-5e4f-3a2b-1c0d-9e8f7a6b5c4d"#;
        // The partner starts inside the clientId value; the key is read from the full JSON too.
        let full = format!("{{\"clientId\": \"{sdk}\"}}");
        assert_eq!(
            ids(&full),
            Some((
                "9a8b7c6d-5e4f-3a2b-1c0d-9e8f7a6b5c4d".into(),
                "3c1f6a0e-5d2b-4f7a-9e8c-1b2d3e4f5a6b".into()
            ))
        );
        let plain = r#"{"appId": "3c1f6a0e-5d2b-4f7a-9e8c-1b2d3e4f5a6b", "password": "x", "tenant": "contoso.onmicrosoft.com"}"#;
        assert_eq!(ids(plain).unwrap().0, "contoso.onmicrosoft.com");
        assert!(ids(r#"{"appId": "../../evil", "tenant": "t"}"#).is_none());
        assert!(
            ids(r#"{"appId": "3c1f6a0e-5d2b-4f7a-9e8c-1b2d3e4f5a6b", "tenant": "a/b"}"#).is_none()
        );
    }

    #[test]
    fn the_token_request_carries_the_secret_in_the_body_only() {
        let p = r#""appId": "3c1f6a0e-5d2b-4f7a-9e8c-1b2d3e4f5a6b", "tenant": "9a8b7c6d-5e4f-3a2b-1c0d-9e8f7a6b5c4d""#;
        let r = token_request("s3cr~et", p).unwrap();
        assert_eq!(r.url, "https://login.microsoftonline.com/9a8b7c6d-5e4f-3a2b-1c0d-9e8f7a6b5c4d/oauth2/v2.0/token");
        assert!(String::from_utf8(r.body.unwrap())
            .unwrap()
            .contains("client_secret=s3cr~et"));
        assert!(matches!(
            token_request("s", "{}"),
            Err(UnknownReason::MissingPartner)
        ));
    }
}
