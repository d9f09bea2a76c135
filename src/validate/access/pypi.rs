//! The `pypi-macaroon` mapper: a PyPI API token is a macaroon whose caveats say what it may
//! do, readable without asking PyPI (and without sending the token anywhere).
//!
//! `pypi-` + base64url of a version-2 macaroon: the version byte 2, fields of (type, varint
//! length, bytes) ending with a 0 byte: location (1), identifier (2); then each caveat's
//! fields up to a 0 byte; an empty caveat ends the list; then the signature (6). PyPI's
//! caveats are JSON: `[0, expires, not_before]` expiry, `[1, [names]]` projects by name,
//! `[2, [ids]]` projects by id, `[3, user_id]` the user, `[4, provider]` a trusted-publishing
//! provider; and, in older tokens, `{"version": 1, "permissions": "user" | {"projects": [...]}}`.

use serde_json::Value;

use super::map::{Builder, Resource};
use super::Input;
use crate::rules::syntax::Level;
use crate::rules::validation::access::AccessSpec;

/// Caveats read from one token, at most.
const MAX_CAVEATS: usize = 32;

pub(super) fn map(spec: &AccessSpec, input: &Input<'_>, b: &mut Builder<'_>) {
    let Some(caveats) = caveats(input.secret) else {
        b.gap("macaroon", "the token does not decode as a macaroon");
        return;
    };
    let mut projects: Vec<String> = Vec::new();
    let mut scoped = false;
    let mut user = false;
    for c in &caveats {
        match caveat(c) {
            Caveat::Expiry(at) => b.expiry(&date(at)),
            Caveat::Projects(names) => {
                scoped = true;
                projects.extend(names);
            }
            Caveat::User => user = true,
            Caveat::Publisher => {
                scoped = true;
                b.key_type("trusted publishing token");
            }
            Caveat::Unknown => b.gap("macaroon", "a caveat keyhound does not know"),
        }
    }
    if scoped {
        b.key_type("project-scoped token");
        for p in &projects {
            b.permission(&format!("upload to {p}"), spec.level_of("upload"));
        }
        b.resource(Resource {
            kind: "project".into(),
            count: projects.len() as u64,
            complete: true,
            sample: projects,
            tally: Vec::new(),
            level: Some(Level::Write),
        });
    } else if user || caveats.is_empty() {
        b.key_type("account-wide token");
        b.permission(
            "upload to every project of the account",
            spec.level_of("upload"),
        );
    }
}

/// `2030-01-01` (UTC).
fn date(t: std::time::SystemTime) -> String {
    let d = crate::validate::aws::amz_date(t);
    format!("{}-{}-{}", &d[..4], &d[4..6], &d[6..8])
}

enum Caveat {
    Expiry(std::time::SystemTime),
    Projects(Vec<String>),
    User,
    Publisher,
    Unknown,
}

fn caveat(text: &[u8]) -> Caveat {
    let Ok(v) = serde_json::from_slice::<Value>(text) else {
        return Caveat::Unknown;
    };
    let strings = |v: Option<&Value>| -> Vec<String> {
        v.and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    match &v {
        Value::Array(a) => match a.first().and_then(Value::as_u64) {
            Some(0) => a
                .get(1)
                .and_then(Value::as_u64)
                .map_or(Caveat::Unknown, |t| {
                    Caveat::Expiry(std::time::UNIX_EPOCH + std::time::Duration::from_secs(t))
                }),
            Some(1) | Some(2) => Caveat::Projects(strings(a.get(1))),
            Some(3) => Caveat::User,
            Some(4) => Caveat::Publisher,
            _ => Caveat::Unknown,
        },
        Value::Object(m) if m.get("version").and_then(Value::as_u64) == Some(1) => {
            match m.get("permissions") {
                Some(Value::String(s)) if s == "user" => Caveat::User,
                Some(Value::Object(p)) => Caveat::Projects(strings(p.get("projects"))),
                _ => Caveat::Unknown,
            }
        }
        Value::Object(m) if m.contains_key("exp") => m
            .get("exp")
            .and_then(Value::as_u64)
            .map_or(Caveat::Unknown, |t| {
                Caveat::Expiry(std::time::UNIX_EPOCH + std::time::Duration::from_secs(t))
            }),
        Value::Object(m) if m.contains_key("project_ids") => {
            Caveat::Projects(strings(m.get("project_ids")))
        }
        _ => Caveat::Unknown,
    }
}

/// The caveat identifiers of a `pypi-` token; `None` when it is not a version-2 macaroon.
pub fn caveats(token: &str) -> Option<Vec<Vec<u8>>> {
    let raw = crate::matcher::decode::base64(token.strip_prefix("pypi-")?.as_bytes())?;
    let mut r = Reader { b: &raw, i: 0 };
    if r.byte()? != 2 {
        return None;
    }
    // Location and identifier, up to the end of the section.
    while r.field()?.is_some() {}
    let mut out = Vec::new();
    loop {
        let mut id = None;
        let mut empty = true;
        while let Some((kind, data)) = r.field()? {
            empty = false;
            if kind == 2 {
                id = Some(data.to_vec());
            }
        }
        if empty {
            break;
        }
        if out.len() == MAX_CAVEATS {
            return None;
        }
        out.extend(id);
    }
    Some(out)
}

struct Reader<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Option<u8> {
        let v = *self.b.get(self.i)?;
        self.i += 1;
        Some(v)
    }

    fn varint(&mut self) -> Option<usize> {
        let mut v: usize = 0;
        for shift in (0..35).step_by(7) {
            let b = self.byte()?;
            v |= usize::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    }

    /// The next field, or `None` at the end of a section (a 0 byte).
    fn field(&mut self) -> Option<Option<(u8, &'a [u8])>> {
        let kind = self.byte()?;
        if kind == 0 {
            return Some(None);
        }
        let len = self.varint()?;
        let data = self.b.get(self.i..self.i.checked_add(len)?)?;
        self.i += len;
        Some(Some((kind, data)))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A version-2 macaroon with these caveats, as a `pypi-` token (the signature is random
    /// bytes: keyhound never checks it).
    pub fn token(caveats: &[&str]) -> String {
        fn field(out: &mut Vec<u8>, kind: u8, data: &[u8]) {
            out.push(kind);
            out.push(data.len() as u8);
            out.extend_from_slice(data);
        }
        let mut m = vec![2u8];
        field(&mut m, 1, b"pypi.org");
        field(&mut m, 2, b"\x0a\x10random-identifier");
        m.push(0);
        for c in caveats {
            field(&mut m, 2, c.as_bytes());
            m.push(0);
        }
        m.push(0);
        field(&mut m, 6, &[7u8; 32]);
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut s = String::from("pypi-");
        for chunk in m.chunks(3) {
            let n = chunk
                .iter()
                .enumerate()
                .fold(0u32, |a, (i, &b)| a | u32::from(b) << (16 - 8 * i));
            for i in 0..=chunk.len() {
                s.push(alphabet[(n >> (18 - 6 * i) & 63) as usize] as char);
            }
        }
        s
    }

    #[test]
    fn caveats_are_read() {
        let t = token(&[
            r#"[0,1893456000,1700000000]"#,
            r#"[1,["left-pad","right-pad"]]"#,
        ]);
        assert!(t.starts_with("pypi-AgEIcHlwaS5vcmc"), "{t}");
        let c = caveats(&t).unwrap();
        assert_eq!(c.len(), 2);
        assert!(matches!(caveat(&c[0]), Caveat::Expiry(_)));
        match caveat(&c[1]) {
            Caveat::Projects(p) => assert_eq!(p, ["left-pad", "right-pad"]),
            _ => panic!(),
        }
        assert!(matches!(
            caveat(br#"{"version": 1, "permissions": "user"}"#),
            Caveat::User
        ));
        assert!(matches!(caveat(b"[9]"), Caveat::Unknown));
        assert_eq!(caveats(&token(&[])).unwrap().len(), 0);
        assert!(caveats("pypi-AAAA").is_none());
        assert!(caveats("pypi-Ag").is_none());
    }
}
