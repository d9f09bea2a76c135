//! JUnit XML, the test-report format most CI systems display: each finding is a failed test
//! case (its rule and location as the name, its file as the class), each file or object that
//! could not be read an errored one; a clean scan is one passing test case. Every attribute
//! and text is escaped, and characters XML 1.0 cannot hold are dropped.

use std::io::{self, Write};

use super::{one_line, origin_text, sanitize, Report};
use crate::finding::Finding;

pub fn write(r: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    let failures = r.findings.len();
    let errors = r.errors.len();
    let tests = (failures + errors).max(1);
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        out,
        r#"<testsuites name="keyhound" tests="{tests}" failures="{failures}" errors="{errors}">"#
    )?;
    writeln!(
        out,
        r#"  <testsuite name="keyhound" tests="{tests}" failures="{failures}" errors="{errors}" skipped="0">"#
    )?;
    for f in r.findings {
        finding(r, f, out)?;
    }
    for e in r.errors {
        writeln!(
            out,
            r#"    <testcase classname="{}" name="{}">"#,
            esc(&sanitize(&e.path)),
            esc(&sanitize(&format!("read {}", e.path)))
        )?;
        writeln!(
            out,
            r#"      <error type="read-error" message="{}"/>"#,
            esc(&sanitize(&e.to_string()))
        )?;
        writeln!(out, "    </testcase>")?;
    }
    if failures + errors == 0 {
        writeln!(
            out,
            r#"    <testcase classname="keyhound" name="no secrets found"/>"#
        )?;
    }
    writeln!(out, "  </testsuite>")?;
    writeln!(out, "</testsuites>")
}

fn finding(r: &Report<'_>, f: &Finding, out: &mut dyn Write) -> io::Result<()> {
    let loc = super::location_text(f);
    let path = esc(&sanitize(&f.location.path));
    writeln!(
        out,
        r#"    <testcase classname="{path}" name="{}" file="{path}" line="{}">"#,
        esc(&format!("{} at {loc}", f.rule_id)),
        f.location.line
    )?;
    writeln!(
        out,
        r#"      <failure type="{}" message="{}">{}</failure>"#,
        esc(&f.rule_id),
        esc(&one_line(f, &r.secret_text(f))),
        esc(&details(r, f))
    )?;
    writeln!(out, "    </testcase>")
}

/// The failure's text: one fact per line.
fn details(r: &Report<'_>, f: &Finding) -> String {
    let mut lines = vec![
        format!("location: {}", super::location_text(f)),
        format!(
            "rule: {} ({})",
            sanitize(&f.rule_name),
            sanitize(&f.rule_id)
        ),
        format!("confidence: {}", f.confidence),
        format!("secret: {}", r.secret_text(f)),
        format!("fingerprint: {}", f.fingerprint),
        format!("origin: {}", origin_text(f)),
        format!("snippet: {}", r.snippet(f)),
    ];
    if let Some(u) = &f.rotate {
        lines.push(format!("rotate: {}", sanitize(u)));
    }
    if let Some(v) = &f.validation {
        lines.push(format!("validation: {}", sanitize(&v.summary())));
    }
    lines.join("\n")
}

/// Escapes text for an XML attribute or element, dropping what XML 1.0 cannot hold
/// (control characters other than tab and line breaks, U+FFFE, U+FFFF).
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\t' | '\r' => out.push(' '),
            c if c.is_control() || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::esc;

    #[test]
    fn escapes_markup_and_drops_what_xml_cannot_hold() {
        assert_eq!(
            esc("a<b>&\"c\"'d'"),
            "a&lt;b&gt;&amp;&quot;c&quot;&apos;d&apos;"
        );
        assert_eq!(esc("x\u{1b}[31m\u{0}y\u{FFFF}"), "x[31my");
        assert_eq!(esc("one\ntwo"), "one&#10;two");
    }
}
