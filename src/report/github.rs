//! GitHub Actions workflow commands: one annotation per finding
//! (`::error file=…,line=…,col=…,endLine=…,endColumn=…,title=…::message`), high confidence
//! as `error`, medium as `warning`, low as `notice`, and one `error` per file or object that
//! could not be read. Secrets are always redacted, `--show-secrets` or not: a workflow log is
//! visible to everyone who can read the repository.
//!
//! Escaping follows the runner's rules: in the message `%`, CR and LF become `%25`, `%0D`,
//! `%0A`; in property values `:` and `,` also become `%3A` and `%2C`. A line that starts with
//! `::` is a command, so nothing scanned can start one: every value is escaped.

use std::io::{self, Write};

use super::{one_line, sanitize, Report};
use crate::finding::{Confidence, Finding};

pub fn write(r: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    for f in r.findings {
        finding(f, out)?;
    }
    for e in r.errors {
        // Git objects have no file to point at; their id is in the message.
        let file = if e.path.starts_with("object ") || e.path.starts_with('<') {
            String::new()
        } else {
            format!("file={},", property(&e.path))
        };
        writeln!(
            out,
            "::error {file}title={}::{}",
            property("keyhound: cannot read"),
            data(&sanitize(&e.to_string()))
        )?;
    }
    Ok(())
}

fn finding(f: &Finding, out: &mut dyn Write) -> io::Result<()> {
    let level = match f.confidence {
        Confidence::High => "error",
        Confidence::Medium => "warning",
        Confidence::Low => "notice",
    };
    let loc = &f.location;
    let mut message = one_line(f, &sanitize(&f.secret.redacted()));
    if let Some(u) = &f.rotate {
        message.push_str(&format!("\nRotate it at {}", sanitize(u)));
    }
    writeln!(
        out,
        "::{level} file={},line={},col={},endLine={},endColumn={},title={}::{}",
        property(&loc.path),
        loc.line,
        loc.column,
        loc.end_line,
        loc.end_column,
        property(&format!("{} ({})", f.rule_name, f.rule_id)),
        data(&message)
    )
}

/// A message, escaped as the runner unescapes it.
fn data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A property value: sanitised, then escaped like a message plus `:` and `,`.
fn property(s: &str) -> String {
    data(&sanitize(s)).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::{data, property};

    #[test]
    fn values_are_escaped_as_the_runner_expects() {
        assert_eq!(data("100% done\r\nnext"), "100%25 done%0D%0Anext");
        assert_eq!(property("a:b,c%d"), "a%3Ab%2Cc%25d");
        assert_eq!(property("x\ny::error::z"), "xy%3A%3Aerror%3A%3Az");
    }
}
