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

pub mod access;
pub mod aws;
pub mod http;
pub mod revoke;

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
    /// Map what each live key can reach (`--access-map`).
    pub access_map: bool,
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
            access_map: false,
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
    /// Unique secrets whose access was mapped (`--access-map`).
    pub mapped: usize,
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
        self.mapped += o.mapped;
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
        mapped: AtomicUsize::new(0),
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
        mapped: engine.mapped.load(Ordering::Relaxed),
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
    mapped: AtomicUsize,
}

impl Engine<'_> {
    fn check(&self, rule_index: usize, secret: &Secret, partner: Option<&Secret>) -> Validation {
        let rule = &self.rules.rules[rule_index];
        let Some(spec) = rule.validate.as_ref() else {
            return Validation::unknown(UnknownReason::NotSupported);
        };
        let mapping = self.opts.access_map && spec.access.is_some();
        let key = Key {
            rule: rule_index,
            secret: secret.expose().to_string(),
            partner: (spec.needs_partner || (mapping && rule.pair.is_some()))
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
            let (mut v, answer) = self.run(rule, spec, secret, partner);
            if mapping {
                v.access = self.map(rule, spec, &v, answer.as_ref(), secret, partner);
            }
            v
        })
        .clone()
    }

    fn log(&self, level: u8, msg: &str) {
        (self.log)(level, msg)
    }

    /// Whether `rule` may contact `host`: built-in rules their declared hosts, other rules only
    /// the hosts the user allowed.
    fn host_allowed(&self, rule: &Rule, host: &str) -> bool {
        rule.origin.builtin
            || self
                .opts
                .allowed_hosts
                .iter()
                .any(|h| h.eq_ignore_ascii_case(host))
    }

    /// The live check; also returns the answer it read, for the access map.
    fn run(
        &self,
        rule: &Rule,
        spec: &ValidateSpec,
        secret: &Secret,
        partner: Option<&Secret>,
    ) -> (Validation, Option<HttpResponse>) {
        if let Check::Offline = spec.check {
            return (Validation::unknown(UnknownReason::NotSupported), None);
        }
        let label = format!("{} {}", rule.id, secret.redacted());
        let (method, url) = spec.describe_request();
        let done = |v: Validation| {
            self.log(
                1,
                &format!("validate {label}: {method} {url}: {}", v.summary()),
            );
            v
        };
        if !self.host_allowed(rule, &spec.host) {
            return (
                done(Validation::unknown(UnknownReason::HostNotAllowed(
                    spec.host.clone(),
                ))),
                None,
            );
        }
        if spec.needs_partner && partner.is_none() {
            return (
                done(Validation::unknown(UnknownReason::MissingPartner)),
                None,
            );
        }
        let partner_value = partner.map_or("", |p| p.expose());
        let what = format!("validate {label}: {method} {url}");
        let build = || build_request(&spec.check, secret.expose(), partner_value);
        let mut sent = 0;
        match self.send(&rule.provider, &spec.host, &what, &build, &mut sent) {
            Ok(resp) => {
                let mut v = interpret(spec, &resp, secret.expose(), partner_value);
                v.http_status = Some(resp.status);
                (done(v), Some(resp))
            }
            Err(reason) => {
                let mut v = Validation::unknown(reason);
                if v.reason == Some(UnknownReason::RateLimited) {
                    v.http_status = Some(429);
                }
                (done(v), None)
            }
        }
    }

    /// Sends one request: the provider's budget, the host's rate limit, and a bounded number
    /// of retries after a 429. `build` makes each attempt's request; `sent` counts attempts.
    fn send(
        &self,
        provider: &str,
        host: &str,
        what: &str,
        build: &dyn Fn() -> Result<HttpRequest, UnknownReason>,
        sent: &mut usize,
    ) -> Result<HttpResponse, UnknownReason> {
        for attempt in 0..=self.opts.retries {
            let req = build()?;
            if url_host(&req.url).is_none_or(|h| !h.eq_ignore_ascii_case(host)) {
                return Err(UnknownReason::HostNotAllowed(host.to_string()));
            }
            if !self.take_budget(provider) {
                return Err(UnknownReason::BudgetExhausted);
            }
            self.limiter.wait(host);
            self.requests.fetch_add(1, Ordering::Relaxed);
            *sent += 1;
            let started = Instant::now();
            let resp = self.transport.send(&req)?;
            self.log(
                2,
                &format!(
                    "{what}: HTTP {} in {:.2}s",
                    resp.status,
                    started.elapsed().as_secs_f64()
                ),
            );
            if resp.status != 429 {
                return Ok(resp);
            }
            let wait =
                retry_after(&resp).unwrap_or_else(|| backoff(self.opts.backoff_base, attempt));
            if attempt == self.opts.retries || wait > self.opts.max_retry_wait {
                return Err(UnknownReason::RateLimited);
            }
            self.log(
                2,
                &format!(
                    "{what}: rate limited by {host}, retrying in {:.2}s",
                    wait.as_secs_f64()
                ),
            );
            self.limiter.defer(host, wait);
            std::thread::sleep(wait);
        }
        unreachable!("the last attempt always returns")
    }

    /// The access map of a checked key: for live keys, and offline maps whatever the check said
    /// (unless the key is known dead).
    fn map(
        &self,
        rule: &Rule,
        spec: &ValidateSpec,
        v: &Validation,
        answer: Option<&HttpResponse>,
        secret: &Secret,
        partner: Option<&Secret>,
    ) -> Option<Box<access::AccessMap>> {
        let a = spec.access.as_ref()?;
        let offline = matches!(spec.check, Check::Offline);
        if !(v.state == LiveState::Valid || offline && v.state != LiveState::Invalid) {
            return None;
        }
        let label = format!("{} {}", rule.id, secret.redacted());
        let net = MapNet {
            engine: self,
            rule,
            hosts: &a.hosts,
            sent: Mutex::new(0),
            refused: Mutex::new(HashMap::new()),
        };
        let input = access::Input {
            secret: secret.expose(),
            partner: partner.map_or("", |p| p.expose()),
            validation: answer,
            identity: v.identity.as_deref(),
            label: &label,
        };
        let mut m = access::run(a, &input, &net);
        m.requests = net.sent.into_inner().unwrap_or_else(|p| p.into_inner());
        self.mapped.fetch_add(1, Ordering::Relaxed);
        self.log(
            1,
            &format!(
                "access {label}: severity {} ({}), {} request{}",
                m.severity.as_str(),
                m.reason,
                m.requests,
                if m.requests == 1 { "" } else { "s" }
            ),
        );
        Some(Box::new(m))
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

/// The engine as an access map sees it: only the map's hosts, and once a host has rate limited
/// the map (or the budget is used up) the rest of its requests there are not sent.
struct MapNet<'a> {
    engine: &'a Engine<'a>,
    rule: &'a Rule,
    hosts: &'a [String],
    sent: Mutex<usize>,
    refused: Mutex<HashMap<String, UnknownReason>>,
}

impl access::Net for MapNet<'_> {
    fn send(
        &self,
        what: &str,
        host: &str,
        build: &dyn Fn() -> Result<HttpRequest, UnknownReason>,
    ) -> Result<HttpResponse, UnknownReason> {
        if !self.hosts.iter().any(|h| h.eq_ignore_ascii_case(host))
            || !self.engine.host_allowed(self.rule, host)
        {
            return Err(UnknownReason::HostNotAllowed(host.to_string()));
        }
        if let Some(r) = self
            .refused
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(host)
        {
            return Err(r.clone());
        }
        let mut sent = 0;
        let result = self
            .engine
            .send(&self.rule.provider, host, what, build, &mut sent);
        *self.sent.lock().unwrap_or_else(|p| p.into_inner()) += sent;
        if let Err(r @ (UnknownReason::RateLimited | UnknownReason::BudgetExhausted)) = &result {
            self.refused
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(host.to_string(), r.clone());
        }
        result
    }
}

/// The host of an `https://` URL, lower-case.
fn url_host(url: &str) -> Option<String> {
    let rest = url.strip_prefix("https://")?;
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let host = authority.rsplit_once(':').map_or(authority, |(h, _)| h);
    (!host.is_empty() && !authority.contains('@')).then(|| host.to_ascii_lowercase())
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
        Check::Named(NamedValidator::GcpServiceAccount) => {
            access::gcp::token_request(secret, partner, SystemTime::now())
        }
        Check::Named(NamedValidator::AzureClientCredentials) => {
            access::azure::token_request(secret, partner)
        }
        Check::Request(r) => fill(r, secret, partner),
        Check::Offline => Err(UnknownReason::NotSupported),
    }
}

fn fill(r: &RequestSpec, secret: &str, partner: &str) -> Result<HttpRequest, UnknownReason> {
    fill_at(
        r,
        r.url.render(secret, partner, percent_encode),
        secret,
        partner,
    )
}

/// Builds a request from a template, sent to `url` (already filled in).
pub(crate) fn fill_at(
    r: &RequestSpec,
    url: String,
    secret: &str,
    partner: &str,
) -> Result<HttpRequest, UnknownReason> {
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
        url,
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
    let named = match spec.check {
        Check::Named(NamedValidator::AwsSts) => Some(aws::read_answer(resp, partner)),
        Check::Named(NamedValidator::GcpServiceAccount) => {
            Some(access::gcp::read_answer(resp, partner))
        }
        Check::Named(NamedValidator::AzureClientCredentials) => {
            Some(access::azure::read_answer(resp, secret, partner))
        }
        _ => None,
    };
    if let Some((state, reason, identity, key_type)) = named {
        return Validation {
            identity: identity.map(|i| scrub(&i, secret, partner)),
            key_type,
            reason,
            ..Validation::of(state)
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
                identity: first(&spec.describe.identity).map(|v| v.join(", ")),
                scopes,
                key_type: outcome
                    .key_type
                    .clone()
                    .or_else(|| first(&spec.describe.key_type).map(|v| v.join(", "))),
                expiry: first(&spec.describe.expiry).map(|v| v.join(", ")),
                ..Validation::of(LiveState::Valid)
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
pub(crate) fn percent_encode(s: &str) -> String {
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

pub(crate) fn base64(input: &[u8]) -> String {
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
