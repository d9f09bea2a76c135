//! Reading values out of an answer: dotted JSON paths where `*` walks every element of an
//! array, and `header:` sources.

use serde_json::Value;

use crate::rules::validation::access::Cond;
use crate::rules::validation::Source;
use crate::validate::http::HttpResponse;

/// Every value at `path`; `*` expands arrays (and objects' values).
pub fn all<'a>(v: &'a Value, path: &[String]) -> Vec<&'a Value> {
    let mut cur = vec![v];
    for seg in path {
        let mut next = Vec::new();
        for c in cur {
            match (c, seg.as_str()) {
                (Value::Array(a), "*") => next.extend(a.iter()),
                (Value::Object(m), "*") => next.extend(m.values()),
                (Value::Object(m), s) => next.extend(m.get(s)),
                (Value::Array(a), s) => next.extend(s.parse::<usize>().ok().and_then(|i| a.get(i))),
                _ => {}
            }
        }
        cur = next;
    }
    cur
}

/// The first value at `path`.
pub fn get<'a>(v: &'a Value, path: &[String]) -> Option<&'a Value> {
    all(v, path).into_iter().next()
}

/// A scalar as text.
pub fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Whether every condition holds.
pub fn matches(conds: &[Cond], v: Option<&Value>) -> bool {
    conds
        .iter()
        .all(|(path, want)| v.and_then(|v| get(v, path)) == Some(want))
}

/// The text values of the first source that has any. A header's value is split on commas; a
/// JSON array gives one value per scalar item.
pub fn first(sources: &[Source], resp: &HttpResponse, body: Option<&Value>) -> Vec<String> {
    for s in sources {
        let vals: Vec<String> = match s {
            Source::Header(h) => resp
                .header(h)
                .map(|v| v.split(',').map(str::to_string).collect())
                .unwrap_or_default(),
            Source::Json(path) => body.map_or(Vec::new(), |b| {
                all(b, path)
                    .into_iter()
                    .flat_map(|v| match v {
                        Value::Array(a) => a.iter().filter_map(text).collect::<Vec<_>>(),
                        v => text(v).into_iter().collect::<Vec<_>>(),
                    })
                    .collect()
            }),
        };
        let vals: Vec<String> = vals
            .into_iter()
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect();
        if !vals.is_empty() {
            return vals;
        }
    }
    Vec::new()
}

/// The items of a list: an array's elements, or an object's entries as `{key, value}`.
pub fn items(v: Option<&Value>) -> Vec<Value> {
    match v {
        Some(Value::Array(a)) => a.clone(),
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| serde_json::json!({"key": k, "value": v}))
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(s: &str) -> Vec<String> {
        s.split('.').map(str::to_string).collect()
    }

    #[test]
    fn stars_walk_arrays() {
        let v = json!({"result": {"policies": [
            {"permission_groups": [{"name": "Zone Read"}, {"name": "DNS Write"}]},
            {"permission_groups": [{"name": "Workers Scripts Write"}]}
        ]}});
        let got: Vec<_> = all(&v, &p("result.policies.*.permission_groups.*.name"))
            .into_iter()
            .filter_map(text)
            .collect();
        assert_eq!(got, ["Zone Read", "DNS Write", "Workers Scripts Write"]);
        assert_eq!(
            get(&v, &p("result.policies.1.permission_groups.0.name")),
            Some(&json!("Workers Scripts Write"))
        );
        assert!(all(&v, &p("result.nothing.*")).is_empty());
    }

    #[test]
    fn sources_headers_and_items() {
        let resp = HttpResponse {
            status: 200,
            headers: vec![("x-oauth-scopes".into(), "repo, read:org,".into())],
            body: vec![],
        };
        let body =
            json!({"scopes": ["api", 7, {"x": 1}], "a": {"x": "read-write", "y": "read-only"}});
        let srcs = [
            Source::Json(p("missing")),
            Source::Header("x-oauth-scopes".into()),
        ];
        assert_eq!(first(&srcs, &resp, Some(&body)), ["repo", "read:org"]);
        assert_eq!(
            first(&[Source::Json(p("scopes"))], &resp, Some(&body)),
            ["api", "7"]
        );
        let it = items(get(&body, &p("a")));
        assert_eq!(it[0], json!({"key": "x", "value": "read-write"}));
        assert!(matches(&[(p("value"), json!("read-only"))], Some(&it[1])));
        assert!(!matches(&[(p("value"), json!("read-only"))], None));
    }
}
