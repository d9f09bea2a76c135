//! The declarative executor: runs a rule's access steps in order, each a request (and its next
//! pages, up to the step's bound) or the live check's answer, and reads facts, captured values,
//! flags and resources from the answers.

use std::collections::HashMap;

use serde_json::Value;

use super::json;
use super::map::{Builder, Resource, Tally, SAMPLE};
use super::{failure, refusal, Input, Net};
use crate::rules::validation::access::{
    AccessSpec, PageHow, PageValue, Paginate, ResourceSpec, Step, StepSource,
};
use crate::rules::validation::RequestSpec;
use crate::validate::http::HttpResponse;
use crate::validate::{fill_at, percent_encode};

pub(super) fn run(
    spec: &AccessSpec,
    steps: &[Step],
    input: &Input<'_>,
    net: &dyn Net,
    b: &mut Builder<'_>,
) {
    let mut r = Runner {
        spec,
        input,
        net,
        vars: HashMap::new(),
    };
    for step in steps {
        if step.when.as_ref().is_some_and(|w| !r.vars.contains_key(w)) {
            continue;
        }
        match &step.source {
            StepSource::Validation => match input.validation {
                Some(resp) => r.validation_step(step, resp, b),
                None => b.gap(&step.id, "the live check gave no answer to read"),
            },
            StepSource::Request { spec: req, host } => r.request_step(step, req, host, b),
        }
    }
}

/// What the steps of one map share: the rule's map, the key, the engine, captured values.
struct Runner<'a> {
    spec: &'a AccessSpec,
    input: &'a Input<'a>,
    net: &'a dyn Net,
    vars: HashMap<String, String>,
}

impl Runner<'_> {
    fn validation_step(&mut self, step: &Step, resp: &HttpResponse, b: &mut Builder<'_>) {
        let body = parse(resp);
        if !accepted(step, resp, body.as_ref()) {
            b.gap(&step.id, &refused(step, resp, body.as_ref()));
            return;
        }
        read_answer(self.spec, step, resp, body.as_ref(), &mut self.vars, b);
        if let Some(r) = &step.resources {
            let mut acc = Acc::default();
            acc.add(r, resp, body.as_ref());
            b.resource(acc.finish(r, false));
        }
    }

    fn request_step(&mut self, step: &Step, req: &RequestSpec, host: &str, b: &mut Builder<'_>) {
        let input = self.input;
        let lookup = |n: &str| self.vars.get(n).cloned();
        let Some(first_url) =
            req.url
                .render_with(input.secret, input.partner, &lookup, percent_encode)
        else {
            b.gap(&step.id, "a value it needs was not found");
            return;
        };
        let (acc, more) = self.pages(step, req, host, &first_url, b);
        if let (Some(r), true) = (&step.resources, acc.pages > 0) {
            b.resource(acc.finish(r, more));
        }
    }

    /// Requests a step's pages, up to its bound; returns the resources read and whether the
    /// provider had more than was read.
    fn pages(
        &mut self,
        step: &Step,
        req: &RequestSpec,
        host: &str,
        first_url: &str,
        b: &mut Builder<'_>,
    ) -> (Acc, bool) {
        let input = self.input;
        let pages = step.paginate.as_ref().map_or(1, |p| p.pages);
        let mut url = first_url.to_string();
        let mut acc = Acc::default();
        for page in 1..=pages {
            let mut what = format!(
                "access {}: {}: {} {}",
                input.label, step.id, req.method, req.url.source
            );
            if page > 1 {
                what.push_str(&format!(" (page {page})"));
            }
            let build = || fill_at(req, url.clone(), input.secret, input.partner);
            let resp = match self.net.send(&what, host, &build) {
                Ok(r) => r,
                Err(e) => {
                    b.gap(&step.id, &failure(&e));
                    return (acc, page > 1);
                }
            };
            let body = parse(&resp);
            if !accepted(step, &resp, body.as_ref()) {
                b.gap(&step.id, &refused(step, &resp, body.as_ref()));
                return (acc, page > 1);
            }
            if page == 1 {
                read_answer(self.spec, step, &resp, body.as_ref(), &mut self.vars, b);
            }
            if let Some(r) = &step.resources {
                acc.add(r, &resp, body.as_ref());
            }
            let Some(p) = &step.paginate else {
                return (acc, false);
            };
            match next_page(p, &resp, body.as_ref(), first_url, host, page, &acc) {
                Next::Url(u) if page < pages => url = u,
                Next::Url(_) => return (acc, true),
                Next::Elsewhere => {
                    b.gap(&step.id, "next page on another host, not followed");
                    return (acc, true);
                }
                Next::Done => return (acc, false),
            }
        }
        (acc, false)
    }
}

fn parse(resp: &HttpResponse) -> Option<Value> {
    serde_json::from_slice(&resp.body).ok()
}

/// A 2xx answer that matches the step's `ok` conditions.
fn accepted(step: &Step, resp: &HttpResponse, body: Option<&Value>) -> bool {
    (200..300).contains(&resp.status) && json::matches(&step.ok, body)
}

fn refused(step: &Step, resp: &HttpResponse, body: Option<&Value>) -> String {
    let why = json::first(&step.error, resp, body).join(", ");
    let status = if (200..300).contains(&resp.status) {
        "refused".to_string()
    } else {
        refusal(resp.status)
    };
    if why.is_empty() {
        status
    } else {
        format!("{status}: {why}")
    }
}

/// Reads the facts, captured values and flags of a step's (first) answer.
fn read_answer(
    spec: &AccessSpec,
    step: &Step,
    resp: &HttpResponse,
    body: Option<&Value>,
    vars: &mut HashMap<String, String>,
    b: &mut Builder<'_>,
) {
    let f = &step.facts;
    let one = |s| json::first(s, resp, body).join(", ");
    let (identity, account, key_type, expiry) = (
        one(&f.identity),
        one(&f.account),
        one(&f.key_type),
        one(&f.expiry),
    );
    b.identity(&identity);
    b.account(&account);
    b.key_type(&key_type);
    b.expiry(&expiry);
    for p in json::first(&f.permissions, resp, body) {
        b.permission(&p, spec.level_of(&p));
    }
    for (name, srcs) in &step.capture {
        if let Some(v) = json::first(srcs, resp, body).into_iter().next() {
            vars.insert(name.clone(), v);
        }
    }
    for flag in &step.flags {
        if !json::matches(&flag.when, body) {
            continue;
        }
        if let Some(p) = &flag.permission {
            b.permission(p, flag.level.unwrap_or_else(|| spec.level_of(p)));
        }
        if let Some(k) = &flag.key_type {
            b.key_type(k);
        }
        if flag.test_mode {
            b.test_mode();
        }
    }
}

/// Resources read so far over a step's pages.
#[derive(Default)]
struct Acc {
    pages: usize,
    seen: u64,
    last_page_items: usize,
    total: Option<u64>,
    sample: Vec<String>,
    tally: Vec<u64>,
}

impl Acc {
    fn add(&mut self, r: &ResourceSpec, resp: &HttpResponse, body: Option<&Value>) {
        self.pages += 1;
        if self.total.is_none() {
            self.total = json::first(&r.total, resp, body)
                .first()
                .and_then(|t| t.parse().ok());
        }
        let list = if r.items.is_empty() {
            body
        } else {
            body.and_then(|b| json::get(b, &r.items))
        };
        let items = json::items(list);
        self.last_page_items = items.len();
        self.tally.resize(r.tally.len(), 0);
        for item in items.iter().filter(|i| json::matches(&r.only, Some(i))) {
            self.seen += 1;
            if let Some(name) = r
                .name
                .as_ref()
                .and_then(|n| json::get(item, n))
                .and_then(json::text)
            {
                if self.sample.len() < SAMPLE {
                    self.sample.push(name);
                }
            }
            for (i, t) in r.tally.iter().enumerate() {
                if json::matches(&t.when, Some(item)) {
                    self.tally[i] += 1;
                }
            }
        }
    }

    fn finish(self, r: &ResourceSpec, more: bool) -> Resource {
        let exact = self.total.filter(|&t| t >= self.seen);
        Resource {
            kind: r.kind.clone(),
            count: exact.unwrap_or(self.seen),
            complete: exact.is_some() || !more,
            sample: self.sample,
            tally: r
                .tally
                .iter()
                .zip(self.tally.iter().chain(std::iter::repeat(&0)))
                .map(|(t, &count)| Tally {
                    label: t.label.clone(),
                    count,
                    level: t.level,
                })
                .collect(),
            level: r.level,
        }
    }
}

enum Next {
    Url(String),
    /// The answer points at another host: not followed.
    Elsewhere,
    Done,
}

fn next_page(
    p: &Paginate,
    resp: &HttpResponse,
    body: Option<&Value>,
    first_url: &str,
    host: &str,
    page: u32,
    acc: &Acc,
) -> Next {
    if !json::matches(&p.more, body) {
        return Next::Done;
    }
    let origin = format!("https://{host}");
    let same_host = |u: &str| -> Next {
        if u.starts_with('/') && !u.starts_with("//") {
            Next::Url(format!("{origin}{u}"))
        } else if u
            .strip_prefix(&origin)
            .is_some_and(|rest| rest.starts_with('/'))
        {
            Next::Url(u.to_string())
        } else {
            Next::Elsewhere
        }
    };
    match &p.how {
        PageHow::Link => resp
            .header("link")
            .and_then(link_next)
            .map_or(Next::Done, |u| same_host(&u)),
        PageHow::Url(path) => body
            .and_then(|b| json::get(b, path))
            .and_then(json::text)
            .filter(|u| !u.is_empty())
            .map_or(Next::Done, |u| same_host(&u)),
        PageHow::Param { name, value } => {
            let v = match value {
                PageValue::Json(path) => body
                    .and_then(|b| json::get(b, path))
                    .and_then(json::text)
                    .filter(|v| !v.is_empty()),
                PageValue::Page => (acc.last_page_items > 0).then(|| (page + 1).to_string()),
                PageValue::Offset => (acc.last_page_items > 0).then(|| acc.seen.to_string()),
            };
            v.map_or(Next::Done, |v| Next::Url(with_param(first_url, name, &v)))
        }
    }
}

/// The `rel="next"` target of a `Link` header.
fn link_next(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        let is_next = params.split(';').any(|p| {
            p.trim()
                .replace(' ', "")
                .eq_ignore_ascii_case("rel=\"next\"")
                || p.trim().eq_ignore_ascii_case("rel=next")
        });
        let t = target.trim();
        (is_next && t.starts_with('<') && t.ends_with('>')).then(|| t[1..t.len() - 1].to_string())
    })
}

/// `url` with query parameter `name` set to `value` (replacing an earlier value).
fn with_param(url: &str, name: &str, value: &str) -> String {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut parts: Vec<String> = query
        .split('&')
        .filter(|kv| !kv.is_empty() && kv.split('=').next() != Some(name))
        .map(str::to_string)
        .collect();
    parts.push(format!("{name}={}", percent_encode(value)));
    format!("{base}?{}", parts.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_headers_and_params() {
        let l = r#"<https://api.github.com/user/repos?page=2>; rel="next", <https://api.github.com/user/repos?page=9>; rel="last""#;
        assert_eq!(
            link_next(l).as_deref(),
            Some("https://api.github.com/user/repos?page=2")
        );
        assert_eq!(link_next(r#"<https://x/?page=9>; rel="last""#), None);
        assert_eq!(
            with_param(
                "https://a.test/v1/x?limit=100&cursor=old",
                "cursor",
                "a b/c"
            ),
            "https://a.test/v1/x?limit=100&cursor=a%20b%2Fc"
        );
        assert_eq!(
            with_param("https://a.test/v1/x", "page", "2"),
            "https://a.test/v1/x?page=2"
        );
    }
}
