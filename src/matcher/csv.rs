//! Tables (CSV, semicolon- or tab-separated): a column whose header names a secret
//! (`password`, `api_key`, `client_secret`, `access_token`) holds secrets in the rows below,
//! none of them labelled on its own line. The rule's match is the header line; this check
//! finds the column, reads the rows below that have the header's shape, and narrows the
//! finding to the first value in the column. Details: `column`.

use std::ops::Range;

use super::inspect::{detail, Candidate, Verdict};
use crate::finding::Confidence;

/// Most rows read below a header.
const MAX_ROWS: usize = 50;
/// Most bytes read below a header.
const MAX_TABLE: usize = 16 * 1024;
/// Most columns in a header.
const MAX_COLUMNS: usize = 64;

/// The fields of one line (byte ranges into `line`), split at `delim` outside double quotes.
fn fields(line: &[u8], delim: u8) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut quoted = false;
    for (i, &b) in line.iter().enumerate() {
        match b {
            b'"' => quoted = !quoted,
            b if b == delim && !quoted => {
                out.push(start..i);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(start..line.len());
    out
}

/// A field without surrounding blanks and quotes.
fn trimmed(line: &[u8], r: Range<usize>) -> Range<usize> {
    let (mut s, mut e) = (r.start, r.end);
    while s < e && (line[s].is_ascii_whitespace() || line[s] == b'"' || line[s] == b'\'') {
        s += 1;
    }
    while e > s
        && (line[e - 1].is_ascii_whitespace() || line[e - 1] == b'"' || line[e - 1] == b'\'')
    {
        e -= 1;
    }
    s..e
}

/// Whether a header names a column of secrets: `password`, `db_password`, `secret`,
/// `client_secret`, `api_key`, `access_token`, ... (a bare `key` or `token` is too common in
/// data that holds none).
pub fn secret_column(name: &[u8]) -> Option<bool> {
    let n: String = name
        .iter()
        .map(|&b| {
            if b.is_ascii_alphanumeric() {
                b.to_ascii_lowercase() as char
            } else {
                '_'
            }
        })
        .collect();
    let n = n.trim_matches('_');
    let last = n.rsplit('_').next().unwrap_or(n);
    let compound = |w: &str| {
        n.strip_suffix(w)
            .is_some_and(|p| p.ends_with('_') || p.is_empty())
    };
    if matches!(last, "password" | "passwd" | "pwd" | "passphrase") {
        return Some(true);
    }
    let key_like = matches!(last, "secret" | "apikey" | "credential" | "credentials")
        || [
            "api_key",
            "access_key",
            "secret_key",
            "private_key",
            "auth_key",
        ]
        .iter()
        .any(|w| compound(w))
        || [
            "auth_token",
            "access_token",
            "refresh_token",
            "api_token",
            "bearer_token",
            "bot_token",
        ]
        .iter()
        .any(|w| compound(w));
    key_like.then_some(false)
}

/// The `inspect: csv-column` check.
pub fn inspect(c: &Candidate<'_>) -> Option<Verdict> {
    // The header line and what follows it, bounded.
    let start = memchr::memrchr(b'\n', &c.hay[..c.secret.start]).map_or(0, |i| i + 1);
    let end = c.hay.len().min(c.secret.end.saturating_add(MAX_TABLE));
    let text = &c.hay[start..end];
    // Each raw line (with its `\r`, if any) and where it starts in the input.
    let mut lines = text.split(|&b| b == b'\n').scan(start, |at, raw| {
        let start = *at;
        *at += raw.len() + 1;
        Some((start, raw.strip_suffix(b"\r").unwrap_or(raw)))
    });
    let (_, header) = lines.next()?;
    let delim = [b',', b';', b'\t']
        .into_iter()
        .max_by_key(|&d| header.iter().filter(|&&b| b == d).count())?;
    let columns = fields(header, delim);
    if columns.len() < 2 || columns.len() > MAX_COLUMNS {
        return None;
    }
    let plain = |r: &Range<usize>| {
        let f = &header[trimmed(header, r.clone())];
        !f.is_empty()
            && f.len() <= 40
            && f.iter()
                .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b' ' | b'.'))
    };
    if !columns.iter().all(plain) {
        return None;
    }
    let (k, password) = columns
        .iter()
        .enumerate()
        .find_map(|(i, r)| secret_column(&header[trimmed(header, r.clone())]).map(|p| (i, p)))?;
    for (start, line) in lines.take(MAX_ROWS) {
        let row = fields(line, delim);
        if row.len() != columns.len() {
            break;
        }
        let value = trimmed(line, row[k].clone());
        let v = &line[value.clone()];
        if v.len() >= 6
            && !v
                .iter()
                .any(|b| b.is_ascii_whitespace() || matches!(b, b'(' | b')'))
        {
            let name = &header[trimmed(header, columns[k].clone())];
            return Some(Verdict {
                confidence: if password {
                    Confidence::Low
                } else {
                    c.confidence
                },
                details: vec![detail("column", &String::from_utf8_lossy(name))],
                secret: Some(start + value.start..start + value.end),
            });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(table: &str) -> Option<(String, Verdict)> {
        let header = table.find('\n').unwrap_or(table.len());
        let c = Candidate {
            hay: table.as_bytes(),
            whole: 0..header,
            secret: 0..header,
            host: None,
            weak: false,
            confidence: Confidence::Medium,
        };
        let v = inspect(&c)?;
        let s = v.secret.clone().unwrap();
        Some((table[s].to_string(), v))
    }

    #[test]
    fn the_column_named_by_the_header() {
        let (s, v) =
            run("name,email,api_key,plan\nacme,ops@acme.io,Zq9vX2mK7pL4wR8n,pro\n").unwrap();
        assert_eq!(s, "Zq9vX2mK7pL4wR8n");
        assert_eq!(v.details[0].value, "api_key");
        assert_eq!(v.confidence, Confidence::Medium);
        let (s, v) = run("\"user\";\"Password\"\r\n\"ops\";\"Tr4!nW0rk\"\r\n").unwrap();
        assert_eq!(s, "Tr4!nW0rk");
        assert_eq!(v.confidence, Confidence::Low);
        // An empty cell is skipped; the next row's value is taken.
        let (s, _) = run("id\tclient_secret\n1\t\n2\tb7Hq2LmZx9Pw4Rk8\n").unwrap();
        assert_eq!(s, "b7Hq2LmZx9Pw4Rk8");
    }

    #[test]
    fn not_a_table() {
        // Code that mentions a password between commas.
        assert!(
            run("def login(self, password, user):\n    return check(user, password, x)\n")
                .is_none()
        );
        // A bare `token` column (word lists, NLP data).
        assert!(run("token,count\nthe,4021\nsecret,12\n").is_none());
        // Rows of another shape end the table.
        assert!(run("user,password\nthis line is prose\n").is_none());
    }

    #[test]
    fn column_names() {
        for (name, want) in [
            ("password", Some(true)),
            ("DB Password", Some(true)),
            ("client_secret", Some(false)),
            ("apiKey", Some(false)),
            ("api_key", Some(false)),
            ("ACCESS-TOKEN", Some(false)),
            ("token", None),
            ("key", None),
            ("password_hint", None),
            ("monkey", None),
        ] {
            assert_eq!(secret_column(name.as_bytes()), want, "{name}");
        }
    }
}
