//! The compiled form of a rule's `validate` block: the request template, how to read the
//! answer and where the facts about the key are. Checked when the rule file loads, so a bad
//! block fails the run at start with the rule and field named.
//!
//! Only data lives here; `crate::validate` sends the requests. The safety rules that can be
//! checked on the rule alone are enforced here: HTTPS only, a literal host, the secret never
//! in a URL unless the rule declares `secret_in_query`, no header that could redirect or
//! smuggle the request.

pub mod access;

use super::syntax::{
    NamedValidator, OneOrMany, OutcomeSyntax, RequestSyntax, ValidateSyntax, Verdict,
};

/// A compiled `validate` block.
#[derive(Debug, Clone)]
pub struct ValidateSpec {
    pub check: Check,
    /// How to read an answer, first match wins.
    pub outcomes: Vec<Outcome>,
    pub describe: Describe,
    /// The only host this check may contact, lower-case.
    pub host: String,
    pub port: u16,
    /// Whether the check uses the paired credential (`{{partner}}`).
    pub needs_partner: bool,
    /// What a live key can reach, for `--access-map`.
    pub access: Option<access::AccessSpec>,
}

#[derive(Debug, Clone)]
pub enum Check {
    Request(Box<RequestSpec>),
    Named(NamedValidator),
    /// No live check: the rule only has an offline access map (`mapper: pypi-macaroon`).
    Offline,
}

impl ValidateSpec {
    /// The method and the URL template, for messages and documentation (never a secret).
    pub fn describe_request(&self) -> (String, String) {
        match &self.check {
            Check::Request(r) => (r.method.clone(), r.url.source.clone()),
            Check::Named(n) => {
                let (m, u) = n.describe_request();
                (m.to_string(), u.to_string())
            }
            Check::Offline => ("none".into(), "(offline)".into()),
        }
    }
}

#[derive(Debug, Clone)]
pub struct RequestSpec {
    pub method: String,
    pub url: Template,
    pub headers: Vec<(String, Template)>,
    pub body: Option<Template>,
    pub basic_auth: Option<(Template, Template)>,
    pub secret_in_query: bool,
}

/// Text with `{{secret}}` and `{{partner}}` slots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    /// The text as written, for messages: it never holds a secret.
    pub source: String,
    pub parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    Literal(String),
    Secret,
    Partner,
    /// A value an earlier access-map step captured (only in access-map URLs).
    Var(String),
}

impl Template {
    pub fn parse(text: &str) -> Result<Template, String> {
        Template::parse_with(text, &[])
    }

    /// Like `parse`, also accepting `{{name}}` for each of `vars`.
    pub fn parse_with(text: &str, vars: &[String]) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find("{{") {
            let Some(close) = rest[open..].find("}}") else {
                return Err(format!("unclosed `{{{{` in `{text}`"));
            };
            if open > 0 {
                parts.push(Part::Literal(rest[..open].to_string()));
            }
            match rest[open + 2..open + close].trim() {
                "secret" => parts.push(Part::Secret),
                "partner" => parts.push(Part::Partner),
                other if vars.iter().any(|v| v == other) => parts.push(Part::Var(other.into())),
                other => {
                    return Err(format!(
                        "unknown placeholder `{{{{{other}}}}}` (use `{{{{secret}}}}` or `{{{{partner}}}}`)"
                    ))
                }
            }
            rest = &rest[open + close + 2..];
        }
        if !rest.is_empty() {
            parts.push(Part::Literal(rest.to_string()));
        }
        Ok(Template {
            source: text.to_string(),
            parts,
        })
    }

    pub fn uses(&self, p: &Part) -> bool {
        self.parts.contains(p)
    }

    /// Fills the slots; `encode` is applied to substituted values only.
    pub fn render(&self, secret: &str, partner: &str, encode: impl Fn(&str) -> String) -> String {
        self.render_with(secret, partner, &|_| None, encode)
            .unwrap_or_default()
    }

    /// Fills the slots, variables from `var`; `None` when a variable has no value.
    pub fn render_with(
        &self,
        secret: &str,
        partner: &str,
        var: &dyn Fn(&str) -> Option<String>,
        encode: impl Fn(&str) -> String,
    ) -> Option<String> {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Literal(s) => out.push_str(s),
                Part::Secret => out.push_str(&encode(secret)),
                Part::Partner => out.push_str(&encode(partner)),
                Part::Var(name) => out.push_str(&encode(&var(name)?)),
            }
        }
        Some(out)
    }
}

/// One way to read an answer.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Empty: any status.
    pub statuses: Vec<u16>,
    pub json: Vec<(Vec<String>, serde_json::Value)>,
    pub verdict: Verdict,
    pub key_type: Option<String>,
}

/// Where the facts about a valid key are found in the answer.
#[derive(Debug, Clone, Default)]
pub struct Describe {
    pub identity: Vec<Source>,
    pub scopes: Vec<Source>,
    pub key_type: Vec<Source>,
    pub expiry: Vec<Source>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A dotted path into the JSON body; numeric segments index arrays.
    Json(Vec<String>),
    /// A response header, lower-case.
    Header(String),
}

/// Headers a rule may not set: the transport owns them, and `Host` could point the request
/// somewhere the rule does not declare.
const RESERVED_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "proxy-authorization",
    "te",
    "upgrade",
];

const METHODS: &[&str] = &["GET", "POST", "HEAD", "PUT", "PATCH", "DELETE"];

/// Compiles a `validate` block. `has_pair`: whether the rule declares `pair`. The error names
/// the field (`validate.request.url`, …) and the problem.
pub fn compile(v: ValidateSyntax, has_pair: bool) -> Result<ValidateSpec, (&'static str, String)> {
    let outcomes = compile_outcomes(&v.outcomes)?;
    let describe = Describe {
        identity: sources(&v.describe.identity, "validate.describe.identity")?,
        scopes: sources(&v.describe.scopes, "validate.describe.scopes")?,
        key_type: sources(&v.describe.key_type, "validate.describe.key_type")?,
        expiry: sources(&v.describe.expiry, "validate.describe.expiry")?,
    };
    let offline = v.access.as_ref().is_some_and(access::is_offline);
    let (check, host, port, needs_partner) = match (v.validator, v.request) {
        (Some(_), Some(_)) => {
            return Err((
                "validate",
                "set either `validator` or `request`, not both".into(),
            ))
        }
        (None, None) if offline => (Check::Offline, String::new(), 0, false),
        (None, None) => {
            return Err((
                "validate",
                "needs a `request` (or a named `validator`)".into(),
            ))
        }
        (Some(n), None) => {
            let (h, p) = n.endpoint();
            (Check::Named(n), h.to_string(), p, n.needs_partner())
        }
        (None, Some(r)) => {
            let (spec, host, port) = compile_request(r, &[])?;
            let needs = spec.url.uses(&Part::Partner)
                || spec.headers.iter().any(|(_, t)| t.uses(&Part::Partner))
                || spec.body.as_ref().is_some_and(|t| t.uses(&Part::Partner))
                || spec
                    .basic_auth
                    .as_ref()
                    .is_some_and(|(u, p)| u.uses(&Part::Partner) || p.uses(&Part::Partner));
            (Check::Request(Box::new(spec)), host, port, needs)
        }
    };
    if needs_partner && !has_pair {
        return Err((
            "validate",
            "uses the paired credential ({{partner}}) but the rule has no `pair`".into(),
        ));
    }
    let access = match v.access {
        None => None,
        Some(a) => Some(access::compile(a, &check, &host, has_pair)?),
    };
    Ok(ValidateSpec {
        check,
        outcomes,
        describe,
        host,
        port,
        needs_partner,
        access,
    })
}

fn compile_outcomes(list: &[OutcomeSyntax]) -> Result<Vec<Outcome>, (&'static str, String)> {
    if list.is_empty() {
        return Ok(vec![
            Outcome {
                statuses: vec![200],
                json: vec![],
                verdict: Verdict::Valid,
                key_type: None,
            },
            Outcome {
                statuses: vec![401, 403],
                json: vec![],
                verdict: Verdict::Invalid,
                key_type: None,
            },
        ]);
    }
    let field = "validate.outcomes";
    list.iter()
        .map(|o| {
            let statuses = o.status.as_ref().map(OneOrMany::to_vec).unwrap_or_default();
            for &s in &statuses {
                if !(100..=599).contains(&s) {
                    return Err((field, format!("{s} is not an HTTP status")));
                }
                if s == 429 || (300..400).contains(&s) {
                    return Err((
                        field,
                        format!(
                            "status {s} is handled by keyhound itself (429: back-off and retry; \
                             3xx: never followed, reported as unknown)"
                        ),
                    ));
                }
            }
            let json = o
                .json
                .iter()
                .map(|(path, value)| {
                    let p = json_path(path).map_err(|e| (field, e))?;
                    if value.is_object() || value.is_array() {
                        return Err((
                            field,
                            format!(
                                "json `{path}`: compare with a string, number, boolean or null"
                            ),
                        ));
                    }
                    Ok((p, value.clone()))
                })
                .collect::<Result<Vec<_>, _>>()?;
            if let Some(k) = &o.key_type {
                if k.trim().is_empty() {
                    return Err((field, "key_type must not be empty".into()));
                }
            }
            Ok(Outcome {
                statuses,
                json,
                verdict: o.result,
                // Shown in reports: cleaned like all rule text.
                key_type: o.key_type.as_deref().map(super::text::clean),
            })
        })
        .collect()
}

pub(crate) fn json_path(path: &str) -> Result<Vec<String>, String> {
    let segs: Vec<String> = path.split('.').map(str::to_string).collect();
    if segs.iter().any(String::is_empty) {
        return Err(format!("`{path}` is not a dotted JSON path (`a.b.0.c`)"));
    }
    Ok(segs)
}

pub(crate) fn sources(
    v: &Option<OneOrMany<String>>,
    field: &'static str,
) -> Result<Vec<Source>, (&'static str, String)> {
    v.as_ref()
        .map(OneOrMany::to_vec)
        .unwrap_or_default()
        .iter()
        .map(|s| {
            if let Some(p) = s.strip_prefix("json:") {
                json_path(p).map(Source::Json).map_err(|e| (field, e))
            } else if let Some(h) = s.strip_prefix("header:") {
                if h.is_empty() || !h.bytes().all(is_token_byte) {
                    return Err((field, format!("`{h}` is not a header name")));
                }
                Ok(Source::Header(h.to_ascii_lowercase()))
            } else {
                Err((
                    field,
                    format!("`{s}`: a source is `json:PATH` or `header:NAME`"),
                ))
            }
        })
        .collect()
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Compiles a request; `vars` are the `{{name}}` placeholders its URL may use (access maps).
pub(crate) fn compile_request(
    r: RequestSyntax,
    vars: &[String],
) -> Result<(RequestSpec, String, u16), (&'static str, String)> {
    let method = r.method.to_ascii_uppercase();
    if !METHODS.contains(&method.as_str()) {
        return Err((
            "validate.request.method",
            format!("`{}`: use one of {}", r.method, METHODS.join(", ")),
        ));
    }
    let url_field = "validate.request.url";
    if r.url
        .chars()
        .any(|c| c.is_whitespace() || super::text::is_unsafe(c))
    {
        return Err((
            url_field,
            "holds whitespace, a control or an invisible formatting character".into(),
        ));
    }
    let url = Template::parse_with(&r.url, vars).map_err(|e| (url_field, e))?;
    let Some(after_scheme) = r.url.strip_prefix("https://") else {
        return Err((url_field, "must be an https:// URL".into()));
    };
    let authority_end = after_scheme
        .find(['/', '?', '#'])
        .unwrap_or(after_scheme.len());
    let authority = &after_scheme[..authority_end];
    if authority.contains("{{") || authority.contains('@') {
        return Err((
            url_field,
            "the host must be written out literally (no placeholders, no user:password@)".into(),
        ));
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => {
            let port: u16 = p
                .parse()
                .map_err(|_| (url_field, format!("`{p}` is not a port")))?;
            (h, port)
        }
        None => (authority, 443),
    };
    let host_ok = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    if !host_ok {
        return Err((url_field, format!("`{host}` is not a host name")));
    }
    if after_scheme.contains('#') {
        return Err((url_field, "must not have a #fragment".into()));
    }
    // Where is each placeholder: before or after the start of the query?
    let mut in_query = false;
    let mut secret_in_path = false;
    let mut secret_in_query = false;
    for p in &url.parts {
        match p {
            Part::Literal(s) => in_query |= s.contains('?'),
            Part::Secret if in_query => secret_in_query = true,
            Part::Secret => secret_in_path = true,
            Part::Partner | Part::Var(_) => {}
        }
    }
    if secret_in_path {
        return Err((
            url_field,
            "`{{secret}}` may appear in the URL only as a query parameter (and only with \
             `secret_in_query: true`)"
                .into(),
        ));
    }
    if secret_in_query && !r.secret_in_query {
        return Err((
            url_field,
            "puts the secret in the URL; send it in a header, or set `secret_in_query: true` \
             if the provider accepts it only as a query parameter"
                .into(),
        ));
    }
    if r.secret_in_query && !secret_in_query {
        return Err((
            "validate.request.secret_in_query",
            "is true but the URL's query has no `{{secret}}`".into(),
        ));
    }
    let mut headers = Vec::new();
    for (name, value) in &r.headers {
        let field = "validate.request.headers";
        if name.is_empty() || !name.bytes().all(is_token_byte) {
            return Err((field, format!("`{name}` is not a header name")));
        }
        if RESERVED_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
            return Err((field, format!("`{name}` is set by keyhound, not by rules")));
        }
        if value.contains(['\r', '\n', '\0']) {
            return Err((field, format!("`{name}`: value has a line break")));
        }
        headers.push((
            name.clone(),
            Template::parse(value).map_err(|e| (field, e))?,
        ));
    }
    let basic_auth = match &r.basic_auth {
        None => None,
        Some(b) => {
            let field = "validate.request.basic_auth";
            if headers
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case("authorization"))
            {
                return Err((field, "conflicts with an Authorization header".into()));
            }
            Some((
                Template::parse(&b.username).map_err(|e| (field, e))?,
                Template::parse(&b.password).map_err(|e| (field, e))?,
            ))
        }
    };
    let body = r
        .body
        .as_deref()
        .map(Template::parse)
        .transpose()
        .map_err(|e| ("validate.request.body", e))?;
    if body.is_some() && matches!(method.as_str(), "GET" | "HEAD") {
        return Err((
            "validate.request.body",
            format!("a {method} request has no body"),
        ));
    }
    Ok((
        RequestSpec {
            method,
            url,
            headers,
            body,
            basic_auth,
            secret_in_query: r.secret_in_query,
        },
        host.to_ascii_lowercase(),
        port,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(yaml: &str) -> Result<ValidateSpec, (&'static str, String)> {
        let v: ValidateSyntax = serde_yaml::from_str(yaml).unwrap();
        compile(v, false)
    }

    #[test]
    fn templates_split_into_parts() {
        let t = Template::parse("Bearer {{secret}} and {{ partner }}").unwrap();
        assert_eq!(
            t.parts,
            [
                Part::Literal("Bearer ".into()),
                Part::Secret,
                Part::Literal(" and ".into()),
                Part::Partner
            ]
        );
        assert_eq!(
            t.render("S", "P", |s| format!("<{s}>")),
            "Bearer <S> and <P>"
        );
        assert!(Template::parse("{{token}}").is_err());
        assert!(Template::parse("{{secret").is_err());
    }

    #[test]
    fn a_good_request_compiles_with_default_outcomes() {
        let s = request(
            "request: {url: 'https://API.example.com:8443/v1/me', headers: {Authorization: 'Bearer {{secret}}'}}",
        )
        .unwrap();
        assert_eq!(s.host, "api.example.com");
        assert_eq!(s.port, 8443);
        assert!(!s.needs_partner);
        assert_eq!(s.outcomes.len(), 2);
        assert_eq!(s.outcomes[1].statuses, [401, 403]);
    }

    #[test]
    fn unsafe_urls_are_rejected() {
        for (url, want) in [
            ("http://api.example.com/", "https://"),
            ("https://{{secret}}.example.com/", "literally"),
            ("https://user:pw@example.com/", "literally"),
            (
                "https://api.example.com/keys/{{secret}}",
                "only as a query parameter",
            ),
            (
                "https://api.example.com/?key={{secret}}",
                "secret_in_query: true",
            ),
            ("https://api.example.com/#x", "fragment"),
            ("https://bad_host!/", "not a host name"),
            ("https://a.example/\\x1b[8m", "control"),
            ("https://a.example/\\u202Ex", "control"),
            ("https://a.example/a b", "whitespace"),
        ] {
            let e = request(&format!("request: {{url: \"{url}\"}}")).unwrap_err();
            assert!(e.1.contains(want), "{url}: {e:?}");
        }
        assert!(request(
            "request: {url: 'https://a.example/?key={{secret}}', secret_in_query: true}"
        )
        .is_ok());
        let e = request("request: {url: 'https://a.example/', secret_in_query: true}").unwrap_err();
        assert_eq!(e.0, "validate.request.secret_in_query");
    }

    #[test]
    fn reserved_headers_partner_and_outcomes_are_checked() {
        let e = request("request: {url: 'https://a.example/', headers: {Host: evil.example}}")
            .unwrap_err();
        assert!(e.1.contains("set by keyhound"), "{e:?}");
        let e = request("request: {url: 'https://a.example/', basic_auth: {username: '{{partner}}', password: '{{secret}}'}}")
            .unwrap_err();
        assert!(e.1.contains("no `pair`"), "{e:?}");
        let e = request(
            "{request: {url: 'https://a.example/'}, outcomes: [{status: 429, result: invalid}]}",
        )
        .unwrap_err();
        assert!(e.1.contains("back-off"), "{e:?}");
        let e =
            request("{request: {url: 'https://a.example/', method: GET, body: x}}").unwrap_err();
        assert_eq!(e.0, "validate.request.body");
        let e = request("{validator: aws-sts, request: {url: 'https://a.example/'}}").unwrap_err();
        assert!(e.1.contains("not both"), "{e:?}");
        let e = request("{request: {url: 'https://a.example/'}, describe: {identity: 'body:x'}}")
            .unwrap_err();
        assert_eq!(e.0, "validate.describe.identity");
    }
}
