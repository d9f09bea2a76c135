//! One self-contained HTML page for people: a summary, a timeline of when secrets were
//! introduced, and a table of findings with filters.
//!
//! The page loads nothing: its CSS and script are inline, and a Content-Security-Policy
//! (`default-src 'none'`) forbids every network load and every script or style but its own,
//! which are allowed by their SHA-256 hashes. Text from scanned content, paths, commit metadata
//! and rule files is sanitised and HTML-escaped in the markup; the table's data is JSON in a
//! `<script type="application/json">` block with `<`, `>` and `&` escaped, which the script
//! reads with `JSON.parse` and puts on the page as text only. Secrets are redacted unless
//! `--show-secrets`.

mod data;
mod summary;
mod timeline;

use std::io::{self, Write};

use ring::digest::{digest, SHA256};

use super::{sanitize, Report};

const STYLE: &str = include_str!("html/report.css");
const SCRIPT: &str = include_str!("html/report.js");

pub fn write(r: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    let data = data::Data::new(r);
    let json = data::script_json(&data)?;
    writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">"
    )?;
    writeln!(
        out,
        "<meta http-equiv=\"Content-Security-Policy\" content=\"{}\">",
        csp()
    )?;
    writeln!(out, "<meta name=\"referrer\" content=\"no-referrer\">")?;
    writeln!(
        out,
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    )?;
    writeln!(out, "<title>keyhound report</title>")?;
    writeln!(out, "<style>{STYLE}</style>\n</head>\n<body>")?;
    summary::write_header(r, &data, out)?;
    summary::write_cards(&data, out)?;
    timeline::write(&data, out)?;
    write_table(out)?;
    summary::write_errors(r, out)?;
    writeln!(
        out,
        "<script type=\"application/json\" id=\"keyhound-data\">{json}</script>"
    )?;
    writeln!(out, "<script>{SCRIPT}</script>\n</body>\n</html>")
}

/// The table's frame; the script fills in the filters and rows.
fn write_table(out: &mut dyn Write) -> io::Result<()> {
    out.write_all(
        br#"<section class="findings" aria-labelledby="findings-h">
<h2 id="findings-h">Findings</h2>
<form id="filters" class="filters" role="search">
<label>Repository <select id="f-repo" data-filter="repo"></select></label>
<label>Provider <select id="f-provider" data-filter="provider"></select></label>
<label>Rule <select id="f-rule" data-filter="rule"></select></label>
<label>Confidence <select id="f-confidence" data-filter="confidence"></select></label>
<label>Validity <select id="f-validity" data-filter="validity"></select></label>
<label>Still in HEAD <select id="f-head" data-filter="head"></select></label>
<label>Search <input id="f-text" type="search" placeholder="path, commit, author, fingerprint"></label>
<button id="f-reset" type="reset">Clear filters</button>
</form>
<p id="shown" class="muted" aria-live="polite"></p>
<noscript><p class="warning">The table needs JavaScript; the summary above is complete without it.</p></noscript>
<div id="grid" class="grid" role="table" aria-labelledby="findings-h" tabindex="0">
<div id="grid-head" class="row head" role="row"></div>
<div id="grid-body" class="body" role="rowgroup"></div>
</div>
<div id="detail" class="detail" hidden></div>
</section>
"#,
    )
}

/// The Content-Security-Policy: nothing may load, only this page's own style and script run.
fn csp() -> String {
    format!(
        "default-src 'none'; style-src '{}'; script-src '{}'; img-src 'none'; base-uri 'none'; form-action 'none'",
        hash_source(STYLE),
        hash_source(SCRIPT)
    )
}

/// A CSP hash source for an inline element's text: `sha256-` and the base64 digest.
fn hash_source(text: &str) -> String {
    format!(
        "sha256-{}",
        base64(digest(&SHA256, text.as_bytes()).as_ref())
    )
}

fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | (b as u32) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Text as it may stand in HTML content or a quoted attribute: sanitised (no control or bidi
/// override characters) and with `&`, `<`, `>`, `"` and `'` escaped.
pub(crate) fn esc(s: &str) -> String {
    let s = sanitize(s);
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests;
