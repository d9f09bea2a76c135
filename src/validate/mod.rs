//! Live validity checks (`--validate`): the only code in keyhound that touches the network.
//!
//! A separate, bounded phase after scanning. Each unique (rule, secret[, partner]) is checked
//! once per run: a cache whose slots block concurrent askers until the first check finishes
//! (in-flight de-duplication). A fixed pool of workers caps concurrency; a per-host limiter
//! spaces requests out; each provider has a request budget; a 429 is retried after
//! `Retry-After` or an exponential back-off with jitter, a bounded number of times.
//!
//! Safety: requests go only to the host the rule declares (checked when the rule loads, and the
//! transport follows no redirect); rules that are not built in may contact only the hosts the
//! user allows; secrets are never logged. Log lines name the rule, the redacted secret and the
//! URL *template*, never a filled-in request.

pub mod aws;
pub mod http;

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;

use crate::finding::{Finding, LiveState, Secret, UnknownReason, Validation};
use crate::rules::syntax::{NamedValidator, Verdict};
use crate::rules::validation::{Check, Outcome, RequestSpec, Source, ValidateSpec};
use crate::rules::{Rule, RuleSet};

pub use http::{
    clients_built, read_pem_certificates, ClientOptions, ConnectTo, HttpRequest, HttpResponse,
    Transport, UreqTransport,
};

/// Longest identity, scope or key-type text kept from an answer.
const MAX_FACT_CHARS: usize = 200;

/// Limits of the validation phase.
#[derive(Debug, Clone)]
pub struct Options {
    /// Requests in flight at once, over all hosts.
    pub concurrency: usize,
    /// Requests per second to any one host.
    pub per_host_rate: f64,
    /// Retries after a 429 before reporting `unknown (rate limited)`.
    pub retries: u32,
    /// Requests per provider per run, retries included.
    pub max_requests_per_provider: usize,
    /// First back-off after a 429 without `Retry-After`; doubles each time, plus jitter.
    pub backoff_base: Duration,
    /// A `Retry-After` longer than this is not waited for: the key is reported rate limited.
    pub max_retry_wait: Duration,
    /// Hosts that rules which are not built in may contact (`--allow-validation-host`).
    pub allowed_hosts: Vec<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            concurrency: 8,
            per_host_rate: 5.0,
            retries: 2,
            max_requests_per_provider: 100,
            backoff_base: Duration::from_millis(500),
            max_retry_wait: Duration::from_secs(30),
            allowed_hosts: Vec::new(),
        }
    }
}

/// A log line's level: 1 for one line per check (`-v`), 2 for retries and waits (`-vv`).
pub type Log<'a> = &'a (dyn Fn(u8, &str) + Sync);

/// Counts for the run summary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Unique secrets checked (cache misses).
    pub checked: usize,
    /// HTTP requests sent, retries included.
    pub requests: usize,
    /// Findings by state.
    pub valid: usize,
    pub invalid: usize,
    pub unknown: usize,
}

impl Stats {
    /// Adds another phase's counts to these.
    pub fn add(&mut self, o: &Stats) {
        self.checked += o.checked;
        self.requests += o.requests;
        self.valid += o.valid;
        self.invalid += o.invalid;
        self.unknown += o.unknown;
    }
}

/// Checks every finding and stores the result in `Finding::validation`.
pub fn validate_findings(
    rules: &RuleSet,
    findings: &mut [Finding],
    transport: &dyn Transport,
    opts: &Options,
    log: Log<'_>,
) -> Stats {
    let by_id: HashMap<&str, usize> = rules
        .rules
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.as_str(), i))
        .collect();
    let engine = Engine {
        rules,
        transport,
        opts,
        log,
        cache: Mutex::new(HashMap::new()),
        limiter: RateLimiter::new(opts.per_host_rate),
        budgets: Mutex::new(HashMap::new()),
        requests: AtomicUsize::new(0),
        checked: AtomicUsize::new(0),
    };
    let results: Vec<OnceLock<Validation>> = findings.iter().map(|_| OnceLock::new()).collect();
    let next = AtomicUsize::new(0);
    let workers = opts.concurrency.max(1).min(findings.len().max(1));
    let shared: &[Finding] = findings;
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(f) = shared.get(i) else { break };
                let v = match by_id.get(f.rule_id.as_str()) {
                    Some(&r) => engine.check(r, &f.secret, f.partner.as_ref()),
                    None => Validation::unknown(UnknownReason::NotSupported),
                };
                let _ = results[i].set(v);
            });
        }
    });
    let mut stats = Stats {
        checked: engine.checked.load(Ordering::Relaxed),
        requests: engine.requests.load(Ordering::Relaxed),
        ..Stats::default()
    };
    for (f, r) in findings.iter_mut().zip(results) {
        let v = r
            .into_inner()
            .unwrap_or_else(|| Validation::unknown(UnknownReason::NotSupported));
        match v.state {
            LiveState::Valid => stats.valid += 1,
            LiveState::Invalid => stats.invalid += 1,
            LiveState::Unknown => stats.unknown += 1,
        }
        f.validation = Some(v);
    }
    stats
}

/// A cache key. Holds raw secrets, so no `Debug`.
#[derive(PartialEq, Eq, Hash)]
struct Key {
    rule: usize,
    secret: String,
    partner: Option<String>,
}

struct Engine<'a> {
    rules: &'a RuleSet,
    transport: &'a dyn Transport,
    opts: &'a Options,
    log: Log<'a>,
    cache: Mutex<HashMap<Key, Arc<OnceLock<Validation>>>>,
    limiter: RateLimiter,
    budgets: Mutex<HashMap<String, usize>>,
    requests: AtomicUsize,
    checked: AtomicUsize,
}

impl Engine<'_> {
    fn check(&self, rule_index: usize, secret: &Secret, partner: Option<&Secret>) -> Validation {
        let rule = &self.rules.rules[rule_index];
        let Some(spec) = &rule.validate else {
            return Validation::unknown(UnknownReason::NotSupported);
        };
        let key = Key {
            rule: rule_index,
            secret: secret.expose().to_string(),
            partner: spec
                .needs_partner
                .then(|| partner.map(|p| p.expose().to_string()))
                .flatten(),
        };
        let slot = {
            let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
            Arc::clone(cache.entry(key).or_default())
        };
        // Other workers asking for the same key wait here until the first check finishes.
        slot.get_or_init(|| {
            self.checked.fetch_add(1, Ordering::Relaxed);
            self.run(rule, spec, secret, partner)
        })
        .clone()
    }

    fn log(&self, level: u8, msg: &str) {
        (self.log)(level, msg)
    }

    fn run(
        &self,
        rule: &Rule,
        spec: &ValidateSpec,
        secret: &Secret,
        partner: Option<&Secret>,
    ) -> Validation {
        let label = format!("{} {}", rule.id, secret.redacted());
        let (method, url) = spec.describe_request();
        let done = |v: Validation| {
            self.log(
                1,
                &format!("validate {label}: {method} {url}: {}", v.summary()),
            );
            v
        };
        if !rule.origin.builtin
            && !self
                .opts
                .allowed_hosts
                .iter()
                .any(|h| h.eq_ignore_ascii_case(&spec.host))
        {
            return done(Validation::unknown(UnknownReason::HostNotAllowed(
                spec.host.clone(),
            )));
        }
        if spec.needs_partner && partner.is_none() {
            return done(Validation::unknown(UnknownReason::MissingPartner));
        }
        let partner_value = partner.map_or("", |p| p.expose());
        for attempt in 0..=self.opts.retries {
            let req = match build_request(&spec.check, secret.expose(), partner_value) {
                Ok(r) => r,
                Err(reason) => return done(Validation::unknown(reason)),
            };
            if !self.take_budget(&rule.provider) {
                return done(Validation::unknown(UnknownReason::BudgetExhausted));
            }
            self.limiter.wait(&spec.host);
            self.requests.fetch_add(1, Ordering::Relaxed);
            let started = Instant::now();
            let resp = match self.transport.send(&req) {
                Ok(r) => r,
                Err(reason) => return done(Validation::unknown(reason)),
            };
            self.log(
                2,
                &format!(
                    "validate {label}: {method} {url}: HTTP {} in {:.2}s",
                    resp.status,
                    started.elapsed().as_secs_f64()
                ),
            );
            if resp.status != 429 {
                let mut v = interpret(spec, &resp, secret.expose(), partner_value);
                v.http_status = Some(resp.status);
                return done(v);
            }
            let wait =
                retry_after(&resp).unwrap_or_else(|| backoff(self.opts.backoff_base, attempt));
            if attempt == self.opts.retries || wait > self.opts.max_retry_wait {
                let mut v = Validation::unknown(UnknownReason::RateLimited);
                v.http_status = Some(429);
                return done(v);
            }
            self.log(
                2,
                &format!(
                    "validate {label}: rate limited by {}, retrying in {:.2}s",
                    spec.host,
                    wait.as_secs_f64()
                ),
            );
            self.limiter.defer(&spec.host, wait);
            std::thread::sleep(wait);
        }
        unreachable!("the last attempt always returns")
    }

    /// Takes one request from the provider's budget; false when it is used up.
    fn take_budget(&self, provider: &str) -> bool {
        let mut b = self.budgets.lock().unwrap_or_else(|p| p.into_inner());
        let used = b.entry(provider.to_string()).or_insert(0);
        if *used >= self.opts.max_requests_per_provider {
            return false;
        }
        *used += 1;
        true
    }
}

/// Fills a rule's request template, or builds a named validator's request.
fn build_request(check: &Check, secret: &str, partner: &str) -> Result<HttpRequest, UnknownReason> {
    match check {
        // STS rejects temporary credentials without their session token, which would look
        // like a dead key: do not ask.
        Check::Named(NamedValidator::AwsSts) if partner.starts_with("ASIA") => {
            Err(UnknownReason::NeedsSessionToken)
        }
        Check::Named(NamedValidator::AwsSts) => Ok(aws::caller_identity_request(
            partner,
            secret,
            SystemTime::now(),
        )),
        Check::Request(r) => fill(r, secret, partner),
    }
}

fn fill(r: &RequestSpec, secret: &str, partner: &str) -> Result<HttpRequest, UnknownReason> {
    let header_safe = |v: &str| !v.contains(['\r', '\n', '\0']);
    if !header_safe(secret) || !header_safe(partner) {
        return Err(UnknownReason::Unsendable);
    }
    let mut headers: Vec<(String, String)> = r
        .headers
        .iter()
        .map(|(n, t)| (n.clone(), t.render(secret, partner, str::to_string)))
        .collect();
    if let Some((u, p)) = &r.basic_auth {
        let creds = format!(
            "{}:{}",
            u.render(secret, partner, str::to_string),
            p.render(secret, partner, str::to_string)
        );
        headers.push((
            "Authorization".into(),
            format!("Basic {}", base64(creds.as_bytes())),
        ));
    }
    Ok(HttpRequest {
        method: r.method.clone(),
        url: r.url.render(secret, partner, percent_encode),
        headers,
        body: r
            .body
            .as_ref()
            .map(|b| b.render(secret, partner, str::to_string).into_bytes()),
    })
}

/// Reads an answer with the rule's outcomes and describe sources.
fn interpret(spec: &ValidateSpec, resp: &HttpResponse, secret: &str, partner: &str) -> Validation {
    if (300..400).contains(&resp.status) {
        return Validation::unknown(UnknownReason::Redirect(resp.status));
    }
    if let Check::Named(NamedValidator::AwsSts) = spec.check {
        let (state, reason, identity, key_type) = aws::read_answer(resp, partner);
        return Validation {
            state,
            reason,
            http_status: None,
            identity: identity.map(|i| scrub(&i, secret, partner)),
            scopes: Vec::new(),
            key_type,
            expiry: None,
        };
    }
    let json: Option<Value> = serde_json::from_slice(&resp.body).ok();
    let matched = spec
        .outcomes
        .iter()
        .find(|o| outcome_matches(o, resp.status, json.as_ref()));
    let Some(outcome) = matched else {
        return Validation::unknown(if resp.status >= 500 {
            UnknownReason::ServerError(resp.status)
        } else {
            UnknownReason::UnexpectedStatus(resp.status)
        });
    };
    match outcome.verdict {
        Verdict::Unknown => Validation::unknown(UnknownReason::UnexpectedStatus(resp.status)),
        Verdict::Invalid => Validation::of(LiveState::Invalid),
        Verdict::Valid => {
            let first = |sources: &[Source]| {
                sources
                    .iter()
                    .find_map(|s| extract(s, resp, json.as_ref()))
                    .map(|vals| {
                        vals.iter()
                            .map(|v| scrub(v, secret, partner))
                            .collect::<Vec<_>>()
                    })
            };
            let scopes = first(&spec.describe.scopes)
                .unwrap_or_default()
                .iter()
                .flat_map(|s| {
                    s.split(|c: char| c == ',' || c.is_whitespace())
                        .filter(|x| !x.is_empty())
                        .map(str::to_string)
                        .collect::<Vec<_>>()
                })
                .collect();
            Validation {
                state: LiveState::Valid,
                reason: None,
                http_status: None,
                identity: first(&spec.describe.identity).map(|v| v.join(", ")),
                scopes,
                key_type: outcome
                    .key_type
                    .clone()
                    .or_else(|| first(&spec.describe.key_type).map(|v| v.join(", "))),
                expiry: first(&spec.describe.expiry).map(|v| v.join(", ")),
            }
        }
    }
}

fn outcome_matches(o: &Outcome, status: u16, json: Option<&Value>) -> bool {
    if !o.statuses.is_empty() && !o.statuses.contains(&status) {
        return false;
    }
    o.json
        .iter()
        .all(|(path, want)| json.and_then(|j| json_get(j, path)) == Some(want))
}

fn json_get<'a>(v: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(v, |cur, seg| match cur {
        Value::Object(m) => m.get(seg),
        Value::Array(a) => seg.parse::<usize>().ok().and_then(|i| a.get(i)),
        _ => None,
    })
}

/// The text values of a source: a header, a scalar, or an array of scalars.
fn extract(src: &Source, resp: &HttpResponse, json: Option<&Value>) -> Option<Vec<String>> {
    let scalar = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    };
    let vals = match src {
        Source::Header(h) => vec![resp.header(h)?.to_string()],
        Source::Json(path) => match json_get(json?, path)? {
            Value::Array(a) => a.iter().filter_map(scalar).collect(),
            v => vec![scalar(v)?],
        },
    };
    let vals: Vec<String> = vals
        .into_iter()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect();
    (!vals.is_empty()).then_some(vals)
}

/// Bounds a fact from an answer and makes sure it does not repeat the secret back.
fn scrub(v: &str, secret: &str, partner: &str) -> String {
    let mut out = v.replace(secret, "[secret]");
    if !partner.is_empty() {
        out = out.replace(partner, "[partner]");
    }
    let out: String = out.chars().filter(|c| !c.is_control()).collect();
    if out.chars().count() > MAX_FACT_CHARS {
        out.chars().take(MAX_FACT_CHARS).chain(['…']).collect()
    } else {
        out
    }
}

/// `Retry-After` in seconds (the HTTP-date form falls back to back-off).
fn retry_after(resp: &HttpResponse) -> Option<Duration> {
    resp.header("retry-after")?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

/// `base · 2^attempt`, plus up to half of that again as random jitter.
fn backoff(base: Duration, attempt: u32) -> Duration {
    let d = base.saturating_mul(1u32 << attempt.min(16));
    let mut h = RandomState::new().build_hasher();
    h.write_u32(attempt);
    let jitter = d.mul_f64((h.finish() % 1000) as f64 / 2000.0);
    d + jitter
}

/// Spaces requests to each host `1/rate` seconds apart; a 429 pushes the host's next slot back.
struct RateLimiter {
    interval: Duration,
    next: Mutex<HashMap<String, Instant>>,
}

impl RateLimiter {
    fn new(rate: f64) -> RateLimiter {
        let interval = if rate > 0.0 && rate.is_finite() {
            Duration::from_secs_f64(1.0 / rate)
        } else {
            Duration::ZERO
        };
        RateLimiter {
            interval,
            next: Mutex::new(HashMap::new()),
        }
    }

    fn wait(&self, host: &str) {
        let now = Instant::now();
        let slot = {
            let mut next = self.next.lock().unwrap_or_else(|p| p.into_inner());
            let n = next.entry(host.to_string()).or_insert(now);
            let slot = (*n).max(now);
            *n = slot + self.interval;
            slot
        };
        if slot > now {
            std::thread::sleep(slot - now);
        }
    }

    fn defer(&self, host: &str, by: Duration) {
        let until = Instant::now() + by;
        let mut next = self.next.lock().unwrap_or_else(|p| p.into_inner());
        let n = next.entry(host.to_string()).or_insert(until);
        *n = (*n).max(until);
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
