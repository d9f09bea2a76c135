//! The compiled form of a rule's `validate.access` block: the read-only requests of an access
//! map (or the Rust mapper that makes them), what to read from each answer, and how permissions
//! translate into access levels. Checked when the rule file loads.
//!
//! The safety rules enforced here: every step is a GET or HEAD (POST only to the few documented
//! read-only endpoints below), to an `https://` host of the same site as the rule's live check;
//! the secret never goes in a URL path; the requests a key can cost are bounded
//! (`MAX_REQUESTS`), and the bound is known before anything is sent.

use serde_json::Value;

use super::{compile_request, json_path, sources, Check, RequestSpec, Source};
use crate::rules::syntax::{
    AccessSyntax, CondSyntax, FlagSyntax, Level, LevelsSyntax, NamedMapper, NamedValidator,
    PaginateSyntax, ResourcesSyntax, StepFrom, StepSyntax,
};

/// Steps of one map, at most.
pub const MAX_STEPS: usize = 8;
/// Requests one paginated step may send, at most.
pub const MAX_PAGES: u32 = 5;
/// Requests one key's map may send, retries after a 429 not counted.
pub const MAX_REQUESTS: usize = 12;
/// Pages a paginated step reads when the rule does not say.
const DEFAULT_PAGES: u32 = 2;

/// POST endpoints that only read: (host, path). Everything else an access map sends is a GET
/// or a HEAD. A GraphQL body must hold a query, never a mutation.
const READ_ONLY_POSTS: &[(&str, &str)] = &[
    ("slack.com", "/api/auth.test"),
    ("api.notion.com", "/v1/search"),
    ("api.linear.app", "/graphql"),
];

const FIELD: &str = "validate.access";

type Error = (&'static str, String);

/// A compiled access map.
#[derive(Debug, Clone)]
pub struct AccessSpec {
    pub base: Level,
    pub base_note: Option<String>,
    /// Permission patterns by level, most powerful first.
    pub levels: Vec<(Level, Vec<String>)>,
    pub plan: Plan,
    /// Every host the map may contact, lower-case.
    pub hosts: Vec<String>,
    /// The most requests one key's map sends (retries after a 429 not counted).
    pub max_requests: usize,
}

#[derive(Debug, Clone)]
pub enum Plan {
    Steps(Vec<Step>),
    Mapper(NamedMapper),
}

/// JSON path and the value found there must equal.
pub type Cond = (Vec<String>, Value);

#[derive(Debug, Clone)]
pub struct Step {
    pub id: String,
    pub source: StepSource,
    pub when: Option<String>,
    pub ok: Vec<Cond>,
    pub error: Vec<Source>,
    pub facts: Facts,
    pub capture: Vec<(String, Vec<Source>)>,
    pub flags: Vec<Flag>,
    pub resources: Option<ResourceSpec>,
    pub paginate: Option<Paginate>,
}

#[derive(Debug, Clone)]
pub enum StepSource {
    /// The answer of the rule's live check.
    Validation,
    Request {
        spec: Box<RequestSpec>,
        host: String,
    },
}

#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub identity: Vec<Source>,
    pub account: Vec<Source>,
    pub key_type: Vec<Source>,
    pub expiry: Vec<Source>,
    pub permissions: Vec<Source>,
}

#[derive(Debug, Clone)]
pub struct Flag {
    pub when: Vec<Cond>,
    pub permission: Option<String>,
    pub level: Option<Level>,
    pub key_type: Option<String>,
    pub test_mode: bool,
}

#[derive(Debug, Clone)]
pub struct ResourceSpec {
    pub kind: String,
    /// Empty: the whole answer.
    pub items: Vec<String>,
    pub name: Option<Vec<String>>,
    pub only: Vec<Cond>,
    pub total: Vec<Source>,
    pub tally: Vec<Tally>,
    pub level: Option<Level>,
}

#[derive(Debug, Clone)]
pub struct Tally {
    pub when: Vec<Cond>,
    pub label: String,
    pub level: Option<Level>,
}

#[derive(Debug, Clone)]
pub struct Paginate {
    pub how: PageHow,
    /// Another page is asked for only while the answer matches these.
    pub more: Vec<Cond>,
    /// Requests of the step, the first included.
    pub pages: u32,
}

#[derive(Debug, Clone)]
pub enum PageHow {
    /// The `Link` header's `rel="next"` URL.
    Link,
    /// A URL (or a path on the same host) in the answer.
    Url(Vec<String>),
    /// A query parameter added to the step's URL.
    Param { name: String, value: PageValue },
}

#[derive(Debug, Clone)]
pub enum PageValue {
    /// A cursor from the answer.
    Json(Vec<String>),
    /// 2, 3, …
    Page,
    /// Items seen so far.
    Offset,
}

impl AccessSpec {
    /// The level a permission grants: the list that names it exactly, else the first list
    /// (admin, write, read, metadata) with a `*` pattern that matches it; `read` when none
    /// does (a permission that exists grants at least that).
    pub fn level_of(&self, permission: &str) -> Level {
        let exact = |p: &String| !p.contains('*') && p.eq_ignore_ascii_case(permission);
        let glob = |p: &String| p.contains('*') && glob_match(p, permission);
        self.levels
            .iter()
            .find(|(_, pats)| pats.iter().any(exact))
            .or_else(|| self.levels.iter().find(|(_, pats)| pats.iter().any(glob)))
            .map_or(Level::Read, |(l, _)| *l)
    }
}

impl NamedMapper {
    pub fn name(self) -> &'static str {
        match self {
            NamedMapper::AwsIam => "aws-iam",
            NamedMapper::GcpServiceAccount => "gcp-service-account",
            NamedMapper::AzureArm => "azure-arm",
            NamedMapper::PypiMacaroon => "pypi-macaroon",
        }
    }

    /// The hosts the mapper contacts.
    pub fn hosts(self) -> &'static [&'static str] {
        match self {
            NamedMapper::AwsIam => &["iam.amazonaws.com"],
            NamedMapper::GcpServiceAccount => &["cloudresourcemanager.googleapis.com"],
            NamedMapper::AzureArm => &["management.azure.com"],
            NamedMapper::PypiMacaroon => &[],
        }
    }

    /// The most requests it sends for one key (each mapper in `validate::access` holds to
    /// it; see its documentation for which).
    pub const fn max_requests(self) -> usize {
        match self {
            NamedMapper::AwsIam => 6,
            NamedMapper::GcpServiceAccount => 2,
            NamedMapper::AzureArm => 3,
            NamedMapper::PypiMacaroon => 0,
        }
    }

    /// The live check it builds on (`None`: it needs none and works offline).
    fn validator(self) -> Option<NamedValidator> {
        match self {
            NamedMapper::AwsIam => Some(NamedValidator::AwsSts),
            NamedMapper::GcpServiceAccount => Some(NamedValidator::GcpServiceAccount),
            NamedMapper::AzureArm => Some(NamedValidator::AzureClientCredentials),
            NamedMapper::PypiMacaroon => None,
        }
    }
}

/// Whether the block is an offline map, which needs no live check.
pub fn is_offline(a: &AccessSyntax) -> bool {
    a.mapper.is_some_and(|m| m.validator().is_none())
}

/// Compiles an access block. `check` and `host` are the rule's live check and its host.
pub fn compile(
    a: AccessSyntax,
    check: &Check,
    host: &str,
    has_pair: bool,
) -> Result<AccessSpec, Error> {
    let levels = compile_levels(&a.levels)?;
    if a.base_note.as_deref().is_some_and(|n| n.trim().is_empty()) {
        return Err((FIELD, "base_note must not be empty".into()));
    }
    let (plan, hosts, max_requests) = match (a.mapper, a.steps.is_empty()) {
        (Some(_), false) => return Err((FIELD, "set either `mapper` or `steps`, not both".into())),
        (None, true) => return Err((FIELD, "needs `steps` (or a named `mapper`)".into())),
        (Some(m), true) => compile_mapper(m, check)?,
        (None, false) => {
            let steps = compile_steps(a.steps, check, host, has_pair)?;
            let mut hosts: Vec<String> = steps
                .iter()
                .filter_map(|s| match &s.source {
                    StepSource::Request { host, .. } => Some(host.clone()),
                    StepSource::Validation => None,
                })
                .collect();
            hosts.sort();
            hosts.dedup();
            let max = steps
                .iter()
                .filter(|s| matches!(s.source, StepSource::Request { .. }))
                .map(|s| s.paginate.as_ref().map_or(1, |p| p.pages as usize))
                .sum();
            (Plan::Steps(steps), hosts, max)
        }
    };
    if max_requests > MAX_REQUESTS {
        return Err((
            FIELD,
            format!(
                "sends up to {max_requests} requests per key; at most {MAX_REQUESTS} are allowed"
            ),
        ));
    }
    Ok(AccessSpec {
        base: a.base.unwrap_or(Level::Metadata),
        base_note: a.base_note,
        levels,
        plan,
        hosts,
        max_requests,
    })
}

/// A Rust mapper, which must go with the live check it builds on.
fn compile_mapper(m: NamedMapper, check: &Check) -> Result<(Plan, Vec<String>, usize), Error> {
    let fits = match (m.validator(), check) {
        (None, Check::Offline) => true,
        (Some(v), Check::Named(n)) => v == *n,
        _ => false,
    };
    if !fits {
        let needs = m.validator().map_or("no live check".to_string(), |v| {
            format!("the `{}` validator", v.name())
        });
        return Err((FIELD, format!("mapper `{}` works with {needs}", m.name())));
    }
    let hosts = m.hosts().iter().map(|h| h.to_string()).collect();
    Ok((Plan::Mapper(m), hosts, m.max_requests()))
}

fn compile_levels(l: &LevelsSyntax) -> Result<Vec<(Level, Vec<String>)>, Error> {
    let out = vec![
        (Level::Admin, l.admin.clone()),
        (Level::Write, l.write.clone()),
        (Level::Read, l.read.clone()),
        (Level::Metadata, l.metadata.clone()),
    ];
    if out.iter().flat_map(|(_, p)| p).any(|p| p.trim().is_empty()) {
        return Err((FIELD, "levels: empty permission pattern".into()));
    }
    Ok(out)
}

fn compile_steps(
    steps: Vec<StepSyntax>,
    check: &Check,
    host: &str,
    has_pair: bool,
) -> Result<Vec<Step>, Error> {
    if steps.len() > MAX_STEPS {
        return Err((FIELD, format!("at most {MAX_STEPS} steps")));
    }
    let mut out: Vec<Step> = Vec::new();
    let mut vars: Vec<String> = Vec::new();
    for s in steps {
        let id = s.id.clone();
        let bad = |m: String| (FIELD, format!("step `{id}`: {m}"));
        if id.is_empty()
            || !id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(bad("the id is letters, digits, `-` and `_`".into()));
        }
        if out.iter().any(|o| o.id == id) {
            return Err(bad("a step with this id comes earlier".into()));
        }
        let step = compile_step(s, check, host, has_pair, &vars).map_err(|(_, m)| bad(m))?;
        vars.extend(step.capture.iter().map(|(n, _)| n.clone()));
        out.push(step);
    }
    Ok(out)
}

fn compile_step(
    s: StepSyntax,
    check: &Check,
    rule_host: &str,
    has_pair: bool,
    vars: &[String],
) -> Result<Step, Error> {
    let source = match (s.from, s.request) {
        (Some(_), Some(_)) => {
            return Err((FIELD, "set either `from` or `request`, not both".into()))
        }
        (None, None) => return Err((FIELD, "needs a `request` (or `from: validation`)".into())),
        (Some(StepFrom::Validation), None) => {
            if !matches!(check, Check::Request(_)) {
                return Err((
                    FIELD,
                    "`from: validation` needs the rule's own `request`".into(),
                ));
            }
            if s.paginate.is_some() {
                return Err((FIELD, "the validation answer has no next page".into()));
            }
            StepSource::Validation
        }
        (None, Some(r)) => step_request(r, rule_host, has_pair, vars)?,
    };
    if let Some(w) = &s.when {
        if !vars.contains(w) {
            return Err((
                FIELD,
                format!("`when: {w}`: no earlier step captures `{w}`"),
            ));
        }
    }
    let capture = captures(&s.capture)?;
    let facts = Facts {
        identity: srcs(&s.facts.identity)?,
        account: srcs(&s.facts.account)?,
        key_type: srcs(&s.facts.key_type)?,
        expiry: srcs(&s.facts.expiry)?,
        permissions: srcs(&s.facts.permissions)?,
    };
    Ok(Step {
        id: s.id,
        source,
        when: s.when,
        ok: conds(s.ok.as_ref())?,
        error: srcs(&s.error)?,
        facts,
        capture,
        flags: s.flags.iter().map(flag).collect::<Result<_, _>>()?,
        resources: s.resources.map(resources).transpose()?,
        paginate: s.paginate.map(paginate).transpose()?,
    })
}

fn step_request(
    r: crate::rules::syntax::RequestSyntax,
    rule_host: &str,
    has_pair: bool,
    vars: &[String],
) -> Result<StepSource, Error> {
    let body_text = r.body.clone();
    let (spec, host, _port) = compile_request(r, vars)
        .map_err(|(f, m)| (FIELD, format!("{}: {m}", f.trim_start_matches("validate."))))?;
    let path = {
        let after = spec.url.source.trim_start_matches("https://");
        let p = &after[after.find('/').unwrap_or(after.len())..];
        p.split('?').next().unwrap_or("").to_string()
    };
    match spec.method.as_str() {
        "GET" | "HEAD" => {}
        "POST" if READ_ONLY_POSTS.contains(&(host.as_str(), path.as_str())) => {
            let lower = body_text.unwrap_or_default().to_ascii_lowercase();
            if lower.contains("mutation") || lower.contains("subscription") {
                return Err((FIELD, "a GraphQL body may only query".into()));
            }
        }
        m => {
            return Err((
                FIELD,
                format!("{m} {path}: access maps only read (GET, HEAD, or POST to a known read-only endpoint)"),
            ))
        }
    }
    if site(&host) != site(rule_host) {
        return Err((
            FIELD,
            format!("{host} is not on the site of the live check's host {rule_host}"),
        ));
    }
    let uses_partner = spec.url.uses(&super::Part::Partner)
        || spec
            .headers
            .iter()
            .any(|(_, t)| t.uses(&super::Part::Partner))
        || spec
            .basic_auth
            .as_ref()
            .is_some_and(|(u, p)| u.uses(&super::Part::Partner) || p.uses(&super::Part::Partner));
    if uses_partner && !has_pair {
        return Err((FIELD, "uses {{partner}} but the rule has no `pair`".into()));
    }
    Ok(StepSource::Request {
        spec: Box::new(spec),
        host,
    })
}

/// Names and sources of captured values: lower-case names, never `secret` or `partner`.
fn captures(
    c: &std::collections::BTreeMap<String, crate::rules::syntax::OneOrMany<String>>,
) -> Result<Vec<(String, Vec<Source>)>, Error> {
    c.iter()
        .map(|(name, src)| {
            let ok = !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'_' || b.is_ascii_digit())
                && !matches!(name.as_str(), "secret" | "partner");
            if !ok {
                return Err((
                    FIELD,
                    format!("capture `{name}`: use lower-case letters, digits and `_`"),
                ));
            }
            Ok((name.clone(), srcs(&Some(src.clone()))?))
        })
        .collect()
}

/// The last two labels of a host name: the scope an access map may stay within.
fn site(host: &str) -> String {
    let labels: Vec<&str> = host.rsplitn(3, '.').collect();
    labels
        .iter()
        .take(2)
        .rev()
        .cloned()
        .collect::<Vec<_>>()
        .join(".")
}

fn srcs(v: &Option<crate::rules::syntax::OneOrMany<String>>) -> Result<Vec<Source>, Error> {
    sources(v, FIELD)
}

fn path_or_root(text: &str, what: &str) -> Result<Vec<String>, Error> {
    let Some(p) = text.strip_prefix("json:") else {
        return Err((FIELD, format!("{what} `{text}`: use `json:PATH`")));
    };
    if p == "." {
        return Ok(Vec::new());
    }
    json_path(p).map_err(|e| (FIELD, format!("{what}: {e}")))
}

fn conds(c: Option<&CondSyntax>) -> Result<Vec<Cond>, Error> {
    c.map_or(Ok(Vec::new()), |c| cond_map(&c.json))
}

fn cond_map(m: &std::collections::BTreeMap<String, Value>) -> Result<Vec<Cond>, Error> {
    m.iter()
        .map(|(path, value)| {
            if value.is_object() || value.is_array() {
                return Err((FIELD, format!("json `{path}`: compare with a scalar")));
            }
            Ok((json_path(path).map_err(|e| (FIELD, e))?, value.clone()))
        })
        .collect()
}

fn flag(f: &FlagSyntax) -> Result<Flag, Error> {
    if f.json.is_empty() {
        return Err((FIELD, "a flag needs `json` conditions".into()));
    }
    if f.level.is_some() && f.permission.is_none() {
        return Err((FIELD, "a flag's `level` goes with a `permission`".into()));
    }
    if f.permission.is_none() && f.key_type.is_none() && !f.test_mode {
        return Err((
            FIELD,
            "a flag sets a `permission`, a `key_type` or `test_mode`".into(),
        ));
    }
    Ok(Flag {
        when: cond_map(&f.json)?,
        permission: f.permission.clone(),
        level: f.level,
        key_type: f.key_type.clone(),
        test_mode: f.test_mode,
    })
}

fn resources(r: ResourcesSyntax) -> Result<ResourceSpec, Error> {
    if r.kind.trim().is_empty() {
        return Err((FIELD, "resources need a `kind`".into()));
    }
    let tally = r
        .tally
        .iter()
        .map(|t| {
            if t.json.is_empty() || t.label.trim().is_empty() {
                return Err((
                    FIELD,
                    "a tally needs `json` conditions and a `label`".into(),
                ));
            }
            Ok(Tally {
                when: cond_map(&t.json)?,
                label: t.label.clone(),
                level: t.level,
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(ResourceSpec {
        kind: r.kind,
        items: path_or_root(&r.items, "items")?,
        name: r
            .name
            .as_deref()
            .map(|n| path_or_root(n, "name"))
            .transpose()?,
        only: conds(r.only.as_ref())?,
        total: srcs(&r.total)?,
        tally,
        level: r.level,
    })
}

fn paginate(p: PaginateSyntax) -> Result<Paginate, Error> {
    let pages = p.pages.unwrap_or(DEFAULT_PAGES);
    if !(1..=MAX_PAGES).contains(&pages) {
        return Err((FIELD, format!("paginate.pages: between 1 and {MAX_PAGES}")));
    }
    let how = match (p.next.as_deref(), p.param, p.value.as_deref()) {
        (Some("link"), None, None) => PageHow::Link,
        (Some(n), None, None) => PageHow::Url(path_or_root(n, "paginate.next")?),
        (None, Some(name), Some(v)) => {
            if name.is_empty()
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_-[]".contains(&b))
            {
                return Err((
                    FIELD,
                    format!("paginate.param `{name}` is not a parameter name"),
                ));
            }
            let value = match v {
                "page" => PageValue::Page,
                "offset" => PageValue::Offset,
                other => PageValue::Json(path_or_root(other, "paginate.value")?),
            };
            PageHow::Param { name, value }
        }
        _ => {
            return Err((
                FIELD,
                "paginate: `next: link`, `next: json:PATH`, or `param` with `value`".into(),
            ))
        }
    };
    Ok(Paginate {
        how,
        more: conds(p.more.as_ref())?,
        pages,
    })
}

/// Case-insensitive match where `*` stands for any run of characters.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let t: Vec<char> = text.to_lowercase().chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests;
