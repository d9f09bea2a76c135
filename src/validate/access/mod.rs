//! Access maps (`--access-map`): for a live key, read-only requests that describe what it can
//! reach (identity, account, permissions, resources with counts and a bounded sample), and the
//! severity that follows.
//!
//! A map runs inside the validation phase, after the key's live check and with its answer: the
//! same cache slot, worker pool, per-host rate limit, provider budget and 429 handling. It
//! talks to providers only through `Net`, which the engine implements and which refuses any
//! host the rule did not declare. A step that cannot answer (denied, rate limited, budget used
//! up) becomes a gap in the map, never a failure of the check. Nothing is written, created or
//! deleted at the provider: steps are GETs (or POSTs to read-only endpoints, checked when the
//! rule loads), and the Rust mappers send only reads and token exchanges.

pub mod aws;
pub mod azure;
pub mod gcp;
mod json;
pub mod map;
pub mod pypi;
mod steps;

pub use map::{AccessMap, Gap, Permission, Resource, Severity, Tally};

use super::http::{HttpRequest, HttpResponse};
use crate::finding::UnknownReason;
use crate::rules::syntax::NamedMapper;
use crate::rules::validation::access::{AccessSpec, Plan};

/// Sends one request of a map through the validation engine (rate limit, budget, retries).
pub trait Net {
    /// `what` names the request in logs (never with a secret); `host` is where it goes, which
    /// must be one the map declares. `build` is called for each attempt.
    fn send(
        &self,
        what: &str,
        host: &str,
        build: &dyn Fn() -> Result<HttpRequest, UnknownReason>,
    ) -> Result<HttpResponse, UnknownReason>;
}

/// What a map starts from.
pub struct Input<'a> {
    pub secret: &'a str,
    /// Empty when the rule has no partner.
    pub partner: &'a str,
    /// The live check's answer, when it had one.
    pub validation: Option<&'a HttpResponse>,
    /// The identity the live check found.
    pub identity: Option<&'a str>,
    /// Names the map in log lines: the rule id and the redacted secret.
    pub label: &'a str,
}

/// Runs a map. `requests` is left at zero: the engine counts what was sent.
pub fn run(spec: &AccessSpec, input: &Input<'_>, net: &dyn Net) -> AccessMap {
    let mut b = map::Builder::new(
        [input.secret, input.partner],
        spec.base,
        spec.base_note.as_deref(),
    );
    match &spec.plan {
        Plan::Steps(steps) => steps::run(spec, steps, input, net, &mut b),
        Plan::Mapper(NamedMapper::AwsIam) => aws::map(spec, input, net, &mut b),
        Plan::Mapper(NamedMapper::GcpServiceAccount) => gcp::map(spec, input, net, &mut b),
        Plan::Mapper(NamedMapper::AzureArm) => azure::map(spec, input, net, &mut b),
        Plan::Mapper(NamedMapper::PypiMacaroon) => pypi::map(spec, input, &mut b),
    }
    b.finish()
}

/// JSON requests with the access token a live check obtained (Google Cloud, Azure), to one
/// host of the map.
pub(super) struct Bearer<'a> {
    net: &'a dyn Net,
    host: &'static str,
    auth: String,
    label: &'a str,
}

impl<'a> Bearer<'a> {
    /// The token in the live check's answer (`access_token`), if there is one.
    pub(super) fn from_check(
        input: &'a Input<'a>,
        net: &'a dyn Net,
        host: &'static str,
    ) -> Option<Bearer<'a>> {
        let token = input
            .validation
            .and_then(|r| serde_json::from_slice::<serde_json::Value>(&r.body).ok())
            .and_then(|v| v.get("access_token")?.as_str().map(str::to_string))?;
        Some(Bearer {
            net,
            host,
            auth: format!("Bearer {token}"),
            label: input.label,
        })
    }

    /// Sends a request and returns the JSON of a 200 answer; anything else is a gap named
    /// `step`. `template` names the request in logs.
    pub(super) fn call(
        &self,
        b: &mut map::Builder<'_>,
        step: &str,
        template: &str,
        method: &str,
        url: &str,
        body: Option<&str>,
    ) -> Option<serde_json::Value> {
        let what = format!("access {}: {step}: {method} {template}", self.label);
        let build = || {
            let mut headers = vec![("Authorization".to_string(), self.auth.clone())];
            if body.is_some() {
                headers.push(("Content-Type".into(), "application/json".into()));
            }
            Ok(HttpRequest {
                method: method.into(),
                url: url.to_string(),
                headers,
                body: body.map(|t| t.as_bytes().to_vec()),
            })
        };
        match self.net.send(&what, self.host, &build) {
            Ok(r) if r.status == 200 => Some(serde_json::from_slice(&r.body).unwrap_or_default()),
            Ok(r) => {
                b.gap(step, &refusal(r.status));
                None
            }
            Err(e) => {
                b.gap(step, &failure(&e));
                None
            }
        }
    }
}

/// The strings of a JSON array field.
pub(super) fn strings(v: &serde_json::Value, key: &str) -> Vec<String> {
    v.get(key)
        .and_then(serde_json::Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Why a request gave no answer to read, in words.
pub fn failure(reason: &UnknownReason) -> String {
    match reason {
        UnknownReason::BudgetExhausted => {
            "request budget used up (--max-validation-requests), not sent".into()
        }
        other => other.to_string(),
    }
}

/// Why an answer is not one to read: its status in words.
pub fn refusal(status: u16) -> String {
    match status {
        401 | 403 => format!("permission denied (HTTP {status})"),
        404 => "not found (HTTP 404)".into(),
        300..=399 => format!("redirect (HTTP {status}), not followed"),
        500..=599 => format!("server error (HTTP {status})"),
        s => format!("unexpected answer (HTTP {s})"),
    }
}

#[cfg(test)]
mod tests;
