//! JSON Web Tokens (RFC 7519, JWS compact form `header.payload.signature`). The header and
//! payload are decoded, never verified. A token is reported when where it sits or what it
//! says makes it a credential:
//!
//! - it is assigned to a secret-named variable (`API_TOKEN=`, `"access_token": `), sent in a
//!   header (`Authorization: Bearer`, `X-Auth-Token:`), a cookie (`Cookie: id=`) or a URL
//!   parameter (`?jwt=`), passed to a secret-named option (`--token`), or is the whole of its
//!   input (a token file, a decoded base64 value);
//! - or its payload carries credential claims: scopes, roles, permissions, a client id, a
//!   Kubernetes service account.
//!
//! The jwt.io sample token (subject `1234567890`, name `John Doe`) is documentation and never
//! reported; a token whose signature is missing (other than `alg: none`) or too short to be
//! one is a placeholder. Details: `alg`, `issuer` and `expires` (or `expired`, which lowers
//! confidence one level). `alg: none` tokens are unsigned: anyone can forge them, so they are
//! low confidence.

use std::sync::OnceLock;

use regex_automata::meta;
use serde_json::{Map, Value};

use super::decode;
use super::inspect::{detail, Candidate, Verdict};
use crate::finding::{Confidence, Detail};

/// Longest token read; longer ones are not JWTs anyone pastes into code.
const MAX_TOKEN: usize = 24 * 1024;
/// Longest decoded header.
const MAX_HEADER: usize = 4 * 1024;
/// Shortest signature: HS256 gives 43 base64url characters, the shortest real one.
const MIN_SIGNATURE: usize = 20;
/// How far before the token its label is looked for, on its line.
const MAX_LABEL: usize = 160;

/// What a token's header and payload say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Jwt {
    /// The `alg` header, empty when the header has none.
    pub alg: String,
    pub issuer: Option<String>,
    /// `exp`, seconds since the epoch.
    pub expires: Option<i64>,
    /// The payload carries scopes, roles, permissions, a client id or a service account.
    pub credential_claims: bool,
    /// The jwt.io sample token.
    pub documentation: bool,
}

/// Parses a compact JWS; `None` when `token` is not one (three parts, a JSON object header
/// and payload, a signature unless `alg` is `none`).
pub fn parse(token: &[u8]) -> Option<Jwt> {
    if token.len() > MAX_TOKEN {
        return None;
    }
    let mut parts = token.split(|&b| b == b'.');
    let (h, p, s) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let header = object(h, MAX_HEADER)?;
    // RFC 7515 requires `alg`, but tokens are made by every kind of library; two JSON objects
    // and a signature are the shape that matters.
    let alg = match header.get("alg") {
        Some(a) => a.as_str()?,
        None => "",
    };
    // JWA names: HS256, RS512, EdDSA, none; key-management names (ECDH-ES, RSA-OAEP,
    // PBES2-HS256+A128KW) appear in headers too.
    let jwa = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'+' | b'_');
    if alg.len() > 32 || !alg.bytes().all(jwa) {
        return None;
    }
    let unsigned = alg.eq_ignore_ascii_case("none");
    if !unsigned && (s.len() < MIN_SIGNATURE || decode::base64(s).is_none()) {
        return None;
    }
    let payload = object(p, MAX_TOKEN)?;
    let text = |k: &str| payload.get(k).and_then(Value::as_str);
    Some(Jwt {
        alg: alg.to_string(),
        issuer: text("iss").map(str::to_string),
        expires: payload.get("exp").and_then(Value::as_f64).map(|e| e as i64),
        credential_claims: payload.keys().any(|k| credential_claim(k)),
        documentation: text("sub") == Some("1234567890") && text("name") == Some("John Doe"),
    })
}

/// A base64url segment holding a JSON object, decoded to at most `max` bytes.
fn object(segment: &[u8], max: usize) -> Option<Map<String, Value>> {
    if segment.is_empty() || segment.len() / 4 * 3 > max {
        return None;
    }
    let bytes = decode::base64(segment)?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(m) => Some(m),
        _ => None,
    }
}

/// Claims that grant or describe access rights.
fn credential_claim(key: &str) -> bool {
    const CLAIMS: &[&str] = &[
        "scope",
        "scp",
        "scopes",
        "role",
        "roles",
        "permissions",
        "perms",
        "authorities",
        "entitlements",
        "groups",
        "azp",
        "client_id",
        "clientid",
        "cid",
        "appid",
        "app_id",
        "api_key",
        "apikey",
        "accesskey",
        "access_key",
        "token_use",
        "token_type",
        "grant_type",
    ];
    let k = key.to_ascii_lowercase();
    CLAIMS.contains(&k.as_str()) || k.starts_with("kubernetes.io") || k.ends_with("/claims")
}

/// The label right before a token on its line: a secret-named assignment (with an optional
/// `Bearer`/`JWT`/`Token` scheme inside the quotes), an authorization header, a URL parameter, a
/// cookie of any name, a secret-named command-line option or an XML element.
fn label_regex() -> &'static meta::Regex {
    static RE: OnceLock<meta::Regex> = OnceLock::new();
    RE.get_or_init(|| {
        crate::rules::build_regex(
            r#"(?i)(?:(?:token|auth|bearer|jwt|key|secret|session|cookie|credential|assertion|passw|pwd|access|refresh)[\w.-]*["'\])]*[ \t]*(?:=>|:=|::=|\?=|[:=(,])[ \t]*(?:[frbu]|@)?["'`]?(?:(?:bearer|jwt|token)[ \t]+)?|bearer[ \t]+|[?&#;][\w.\[\]-]+=|cookie["']?[ \t]*[:=][ \t]*["'`]?(?:[^\s;=]+=[^\s;]*;[ \t]*)*[^\s;=]+=|--?(?:[\w-]*[_-])?(?:token|jwt|auth|bearer|session|cookie|key|secret|credentials?|assertion)(?:[ \t]+|=)["']?|<[\w.:-]*(?:token|jwt|key|secret|auth)[\w.:-]*>[ \t]*)$"#,
        )
        .expect("the JWT label pattern compiles")
    })
}

/// Whether the text before `token` on its line labels it as a credential, or the token is all
/// there is of its input.
fn in_credential_context(hay: &[u8], token: std::ops::Range<usize>) -> bool {
    let trim = |b: &u8| b.is_ascii_whitespace() || matches!(b, b'"' | b'\'');
    let before = &hay[..token.start];
    let after = &hay[token.end..];
    if before.iter().all(trim) && after.iter().all(trim) {
        return true;
    }
    let line_start = memchr::memrchr(b'\n', before).map_or(0, |i| i + 1);
    let from = line_start.max(token.start.saturating_sub(MAX_LABEL));
    label_regex().is_match(&hay[from..token.start])
}

/// The `inspect: jwt` check.
pub fn inspect(c: &Candidate<'_>) -> Option<Verdict> {
    let now = jiff::Timestamp::now().as_second();
    judge(c, now)
}

fn judge(c: &Candidate<'_>, now: i64) -> Option<Verdict> {
    let jwt = parse(&c.hay[c.secret.clone()])?;
    if jwt.documentation {
        return None;
    }
    if !jwt.credential_claims && !in_credential_context(c.hay, c.secret.clone()) {
        return None;
    }
    let mut confidence = c.confidence;
    let mut details: Vec<Detail> = Vec::new();
    if !jwt.alg.is_empty() {
        details.push(detail("alg", &jwt.alg));
    }
    if jwt.alg.eq_ignore_ascii_case("none") {
        confidence = Confidence::Low;
    }
    if let Some(iss) = &jwt.issuer {
        details.push(detail("issuer", iss));
    }
    match jwt.expires {
        Some(exp) if exp < now => {
            confidence = confidence.lowered();
            details.push(detail("expired", &date(exp)));
        }
        Some(exp) => details.push(detail("expires", &date(exp))),
        None => details.push(detail("expires", "never")),
    }
    Some(Verdict {
        confidence,
        details,
        secret: None,
    })
}

/// `2021-02-14T20:41:01Z`, or the raw number when it is no date.
fn date(secs: i64) -> String {
    match jiff::Timestamp::from_second(secs) {
        Ok(t) => t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        Err(_) => secs.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> String {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let b = s.as_bytes();
        let mut out = String::new();
        for chunk in b.chunks(3) {
            let n =
                chunk.iter().fold(0u32, |acc, &x| acc << 8 | x as u32) << (8 * (3 - chunk.len()));
            for i in 0..=chunk.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            }
        }
        out
    }

    /// A token with a random-looking 43-character signature.
    pub(crate) fn token(header: &str, payload: &str) -> String {
        format!(
            "{}.{}.Q3vT9xLm2Rk8pZbW4nYc7JfH1sDq6GaE0uKoVi5tXwM",
            b64(header),
            b64(payload)
        )
    }

    fn candidate<'a>(hay: &'a [u8], tok: &str) -> Candidate<'a> {
        let start = hay
            .windows(tok.len())
            .position(|w| w == tok.as_bytes())
            .unwrap();
        Candidate {
            hay,
            whole: start..start + tok.len(),
            secret: start..start + tok.len(),
            host: None,
            weak: false,
            confidence: Confidence::Medium,
        }
    }

    const FUTURE: i64 = 1_900_000_000;
    const NOW: i64 = 1_750_000_000;

    #[test]
    fn parses_header_and_claims() {
        let t = token(
            r#"{"alg":"RS256","typ":"JWT"}"#,
            r#"{"iss":"https://auth.acme.io","exp":1900000000,"scope":"read write"}"#,
        );
        let j = parse(t.as_bytes()).unwrap();
        assert_eq!(j.alg, "RS256");
        assert_eq!(j.issuer.as_deref(), Some("https://auth.acme.io"));
        assert_eq!(j.expires, Some(FUTURE));
        assert!(j.credential_claims);
    }

    #[test]
    fn rejects_what_is_not_a_jws() {
        let payload = b64(r#"{"sub":"svc"}"#);
        let header = b64(r#"{"alg":"HS256"}"#);
        for bad in [
            format!("{header}.{payload}"),
            format!("{header}.{payload}.signature"),
            format!("{header}.short.Q3vT9xLm2Rk8pZbW4nYc7JfH1sDq6GaE0uKoVi5tXwM"),
            format!(
                "{}.{payload}.Q3vT9xLm2Rk8pZbW4nYc7JfH1sDq6GaE0uKoVi5tXwM",
                b64(r#"{"alg":7}"#)
            ),
            format!(
                "{}.{payload}.Q3vT9xLm2Rk8pZbW4nYc7JfH1sDq6GaE0uKoVi5tXwM",
                b64(r#"["alg"]"#)
            ),
            format!(
                "{header}.{}.Q3vT9xLm2Rk8pZbW4nYc7JfH1sDq6GaE0uKoVi5tXwM",
                b64("[1,2]")
            ),
            format!("{header}.{payload}.Q3vT9xLm2Rk8pZbW4nYc7JfH1sDq6GaE0uKoVi5tXwM.x.y"),
        ] {
            assert!(parse(bad.as_bytes()).is_none(), "{bad}");
        }
        // An unsigned token has no signature.
        let none = format!("{}.{payload}.", b64(r#"{"alg":"none"}"#));
        assert_eq!(parse(none.as_bytes()).unwrap().alg, "none");
    }

    #[test]
    fn hostile_input_does_not_panic() {
        for t in [
            &b"eyJ.eyJ.\xff\xfe"[..],
            b"....",
            b"eyJhbGciOiJIUzI1NiJ9.eyJ!!!.QQ",
            b"eyJhbGciOiJIUzI1NiJ9.e30.QQQQQQQQQQQQQQQQQQQQQQQQQ=x",
        ] {
            let _ = parse(t);
        }
        // Deep nesting stays within serde_json's recursion limit.
        let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
        let t = token(r#"{"alg":"HS256"}"#, &format!(r#"{{"a":{deep}}}"#));
        assert!(parse(t.as_bytes()).is_none());
        assert!(parse(&vec![b'a'; MAX_TOKEN + 1]).is_none());
    }

    #[test]
    fn reported_in_credential_context() {
        let t = token(r#"{"alg":"HS256"}"#, r#"{"sub":"svc-42","exp":1900000000}"#);
        for line in [
            format!("API_TOKEN={t}"),
            format!("  \"access_token\": \"{t}\","),
            format!("curl -H 'Authorization: Bearer {t}' https://api.acme.io"),
            format!("wss://rt.acme.io/socket?jwt={t}&v=2"),
            format!("X-Auth-Token: {t}"),
            format!("const sessionJwt = `{t}`;"),
            format!("Cookie: id={t}; theme=dark"),
            format!("document.cookie = \"lang=en; sid={t}\""),
            format!(r#"headers = {{"Authorization": "JWT {t}"}}"#),
            format!("python cli.py --token {t} --verbose"),
            format!("deploy --api-key={t}"),
            t.clone(),
        ] {
            let v = judge(&candidate(line.as_bytes(), &t), NOW);
            let v = v.unwrap_or_else(|| panic!("{line}"));
            assert_eq!(v.confidence, Confidence::Medium, "{line}");
            assert_eq!(v.details[0].value, "HS256");
        }
    }

    #[test]
    fn bare_tokens_need_credential_claims() {
        let plain = token(r#"{"alg":"HS256"}"#, r#"{"msg":"hello","exp":1900000000}"#);
        let line = format!("see {plain} in the log");
        assert!(judge(&candidate(line.as_bytes(), &plain), NOW).is_none());
        let line = format!("Authorization: Basic {plain}");
        assert!(judge(&candidate(line.as_bytes(), &plain), NOW).is_none());
        // A bare command-line argument and an option that names no secret.
        for line in [
            format!("python cli.py {plain}"),
            format!("python cli.py --input {plain}"),
        ] {
            assert!(
                judge(&candidate(line.as_bytes(), &plain), NOW).is_none(),
                "{line}"
            );
        }
        let sa = token(
            r#"{"alg":"RS256","kid":"k1"}"#,
            r#"{"iss":"kubernetes/serviceaccount","kubernetes.io/serviceaccount/namespace":"ops"}"#,
        );
        let line = format!("see {sa} in the log");
        let v = judge(&candidate(line.as_bytes(), &sa), NOW).unwrap();
        assert!(v
            .details
            .contains(&detail("issuer", "kubernetes/serviceaccount")));
        assert!(v.details.contains(&detail("expires", "never")));
    }

    #[test]
    fn expired_is_lower_confidence_not_dropped() {
        let t = token(
            r#"{"alg":"ES256"}"#,
            r#"{"iss":"acme","exp":1300819380,"role":"admin"}"#,
        );
        let line = format!("TOKEN={t}");
        let v = judge(&candidate(line.as_bytes(), &t), NOW).unwrap();
        assert_eq!(v.confidence, Confidence::Low);
        assert!(
            v.details
                .contains(&detail("expired", "2011-03-22T18:43:00Z")),
            "{:?}",
            v.details
        );
        let v = judge(&candidate(line.as_bytes(), &t), 1_000_000_000).unwrap();
        assert_eq!(v.confidence, Confidence::Medium);
    }

    #[test]
    fn documentation_and_unsigned_tokens() {
        let doc = token(
            r#"{"alg":"HS256","typ":"JWT"}"#,
            r#"{"sub":"1234567890","name":"John Doe","iat":1516239022}"#,
        );
        let line = format!("TOKEN={doc}");
        assert!(judge(&candidate(line.as_bytes(), &doc), NOW).is_none());
        let none = format!(
            "{}.{}.",
            b64(r#"{"alg":"none"}"#),
            b64(r#"{"role":"admin"}"#)
        );
        let line = format!("TOKEN={none}");
        let v = judge(&candidate(line.as_bytes(), &none), NOW).unwrap();
        assert_eq!(v.confidence, Confidence::Low);
    }
}
