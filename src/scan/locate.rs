//! From matches to located blob findings: 1-based lines and columns (in characters), and the
//! bounded line context around each secret with every secret of the blob cut out of it.

use std::ops::Range;

use super::BlobFinding;
use crate::finding::{Context, Part, Secret};
use crate::matcher::Match;

/// Characters of line context kept on each side of a secret.
pub(crate) const CONTEXT_CHARS: usize = 60;

/// Converts matches (sorted by start) to findings with lines, columns and context.
pub fn locate(hay: &[u8], matches: &[Match]) -> Vec<BlobFinding> {
    let secrets = secret_spans(matches);
    let mut pos = Position::new(hay);
    let mut out = Vec::with_capacity(matches.len());
    for m in matches {
        let (line, column) = pos.advance_to(hay, m.span.start);
        let (end_line, end_column) = pos.clone().advance_to(hay, m.span.end);
        out.push(BlobFinding {
            rule: m.rule,
            line,
            column,
            end_line,
            end_column,
            secret: match &m.decoded {
                Some(d) => Secret::new(&d.secret),
                None => Secret::new(&hay[m.span.clone()]),
            },
            partner: m.partner.clone().map(|p| Secret::new(&hay[p])),
            confidence: m.confidence,
            checksum: m.checksum,
            context: context(hay, m.span.clone(), &secrets),
            decoded_from: m.decoded.as_ref().map(|d| d.encoding.as_str()),
            details: m.details.clone(),
        });
    }
    out
}

/// Every byte range of `hay` that holds a secret (matched text and paired ids), sorted and
/// merged where they overlap.
fn secret_spans(matches: &[Match]) -> Vec<Range<usize>> {
    let mut spans: Vec<Range<usize>> = matches
        .iter()
        .flat_map(|m| std::iter::once(m.span.clone()).chain(m.partner.clone()))
        .filter(|s| s.start < s.end)
        .collect();
    spans.sort_by_key(|s| (s.start, s.end));
    let mut merged: Vec<Range<usize>> = Vec::with_capacity(spans.len());
    for s in spans {
        match merged.last_mut() {
            Some(last) if s.start <= last.end => last.end = last.end.max(s.end),
            _ => merged.push(s),
        }
    }
    merged
}

/// Tracks a byte offset and its 1-based line.
#[derive(Debug, Clone)]
struct Position {
    offset: usize,
    line: usize,
    line_start: usize,
}

impl Position {
    /// The start of `hay`. A byte-order mark is not part of the first line's text: editors
    /// do not show it, so columns start after it.
    fn new(hay: &[u8]) -> Self {
        let start = if hay.starts_with(b"\xEF\xBB\xBF") {
            3
        } else {
            0
        };
        Position {
            offset: start,
            line: 1,
            line_start: start,
        }
    }

    /// Moves forward to `to` (never backwards) and returns its line and column.
    fn advance_to(&mut self, hay: &[u8], to: usize) -> (usize, usize) {
        if to > self.offset {
            for nl in memchr::memchr_iter(b'\n', &hay[self.offset..to]) {
                self.line += 1;
                self.line_start = self.offset + nl + 1;
            }
            self.offset = to;
        }
        let to = to.max(self.line_start);
        let column = 1 + char_count(&hay[self.line_start..to]);
        (self.line, column)
    }
}

/// Characters in a UTF-8-ish byte slice as the snippet shows them: each invalid sequence is
/// one (a U+FFFD, as `String::from_utf8_lossy` makes it).
fn char_count(b: &[u8]) -> usize {
    b.utf8_chunks()
        .map(|c| c.valid().chars().count() + usize::from(!c.invalid().is_empty()))
        .sum()
}

/// The line around `span`, at most `CONTEXT_CHARS` characters on each side (more to take a
/// secret whole, see `uncut`), with `span` as `Part::This`, every other secret range in it
/// as `Part::Secret`, and what lies outside `span` of a range that overlaps it as `Part::Rest`.
fn context(hay: &[u8], span: Range<usize>, secrets: &[Range<usize>]) -> Context {
    // Look at a bounded number of bytes on each side, so a file that is one long line does
    // not make every finding cost the whole line.
    const MAX_BYTES: usize = CONTEXT_CHARS * 4;
    let (start, end) = (span.start, span.end);
    let lo = start.saturating_sub(MAX_BYTES);
    let line_start = memchr::memrchr(b'\n', &hay[lo..start]).map_or(lo, |i| lo + i + 1);
    let hi = end.saturating_add(MAX_BYTES).min(hay.len());
    let line_end = memchr::memchr(b'\n', &hay[end..hi]).map_or(hi, |i| end + i);
    let before = last_chars(&hay[line_start..start], CONTEXT_CHARS);
    let after = first_chars(trim_cr(&hay[end..line_end.max(end)]), CONTEXT_CHARS);
    let window = uncut(
        start - before..end + after,
        line_start..line_end,
        &span,
        secrets,
    );
    let (from, to) = (window.start, window.end);
    // Disjoint pieces to cut out of the text: this secret, and the parts of every secret range
    // on the line that lie outside it (merged ranges can extend past this secret's span). A
    // part is its own piece of text, so a range around this secret is not shown twice.
    let mut pieces: Vec<(Range<usize>, Part)> = vec![(start..end, Part::This)];
    for r in within(secrets, from..to) {
        for piece in [r.start..r.end.min(start), r.start.max(end)..r.end] {
            let piece = piece.start.max(from)..piece.end.min(to);
            if piece.start < piece.end {
                let text = Secret::new(&hay[piece.clone()]);
                let part = if piece == *r {
                    Part::Secret(text)
                } else {
                    Part::Rest(text)
                };
                pieces.push((piece, part));
            }
        }
    }
    pieces.sort_by_key(|(r, _)| r.start);
    let mut parts = Vec::with_capacity(pieces.len() * 2 + 1);
    let mut at = from;
    for (r, part) in pieces {
        push_text(&mut parts, hay, at..r.start);
        parts.push(part);
        at = r.end;
    }
    push_text(&mut parts, hay, at..to);
    Context { parts }
}

/// `window` with its edges moved off the secret ranges they would cut: out to take a range
/// that lies whole within `line` (the bounded line around `this`), else in past it. A piece of
/// a secret would show a prefix from its middle and a length that is not its own.
fn uncut(
    window: Range<usize>,
    line: Range<usize>,
    this: &Range<usize>,
    secrets: &[Range<usize>],
) -> Range<usize> {
    let (mut from, mut to) = (window.start, window.end);
    let cut = |at: usize| within(secrets, at..at + 1).first().filter(|r| r.start < at);
    if let Some(r) = cut(from) {
        from = if r.start >= line.start {
            r.start
        } else {
            r.end.min(this.start)
        };
    }
    if let Some(r) = cut(to) {
        to = if r.end <= line.end {
            r.end
        } else {
            r.start.max(this.end)
        };
    }
    from..to
}

/// The ranges of `secrets` (sorted, disjoint) that overlap `window`, found by binary search:
/// a blob may hold thousands of secrets, and each finding looks only near its own.
fn within(secrets: &[Range<usize>], window: Range<usize>) -> &[Range<usize>] {
    let lo = secrets.partition_point(|r| r.end <= window.start);
    let hi = lo + secrets[lo..].partition_point(|r| r.start < window.end);
    &secrets[lo..hi]
}

fn push_text(parts: &mut Vec<Part>, hay: &[u8], r: Range<usize>) {
    if r.start < r.end {
        parts.push(Part::Text(String::from_utf8_lossy(&hay[r]).into_owned()));
    }
}

fn trim_cr(b: &[u8]) -> &[u8] {
    let mut b = b;
    while let [rest @ .., b'\r'] = b {
        b = rest;
    }
    b
}

/// Bytes taken by the last `n` characters of `b`.
fn last_chars(b: &[u8], n: usize) -> usize {
    let mut chars = 0;
    for (i, &c) in b.iter().enumerate().rev() {
        if (c & 0xC0) != 0x80 {
            chars += 1;
            if chars == n {
                return b.len() - i;
            }
        }
    }
    b.len()
}

/// Bytes taken by the first `n` characters of `b`.
fn first_chars(b: &[u8], n: usize) -> usize {
    let mut chars = 0;
    for (i, &c) in b.iter().enumerate() {
        if (c & 0xC0) != 0x80 {
            if chars == n {
                return i;
            }
            chars += 1;
        }
    }
    b.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Confidence;

    fn m(span: Range<usize>) -> Match {
        Match {
            rule: 0,
            span,
            partner: None,
            confidence: Confidence::High,
            checksum: None,
            decoded: None,
            details: Vec::new(),
        }
    }

    fn render(c: &Context) -> String {
        c.parts
            .iter()
            .map(|p| match p {
                Part::Text(t) => t.clone(),
                Part::Secret(s) => format!("<{}>", s.expose()),
                Part::Rest(s) => format!("<~{}>", s.expose()),
                Part::This => "[THIS]".into(),
            })
            .collect()
    }

    #[test]
    fn positions_are_one_based_and_count_chars() {
        let hay = "ab\ncé x\n".as_bytes();
        let mut p = Position::new(hay);
        assert_eq!(p.advance_to(hay, 0), (1, 1));
        assert_eq!(p.advance_to(hay, 3), (2, 1));
        // 'é' is two bytes but one column.
        let x = hay.iter().position(|&b| b == b'x').unwrap();
        assert_eq!(p.advance_to(hay, x), (2, 4));
    }

    #[test]
    fn columns_count_what_editors_and_the_snippet_show() {
        // A byte-order mark is not a character of the first line.
        let hay = "\u{FEFF}k=KEY\nKEY".as_bytes();
        let mut p = Position::new(hay);
        assert_eq!(p.advance_to(hay, 5), (1, 3));
        assert_eq!(p.advance_to(hay, 9), (2, 1));
        // Each invalid sequence is one character, as the snippet shows it (U+FFFD).
        let hay = b"a\x80\x80\xe2\x80K";
        let k = hay.len() - 1;
        assert_eq!(Position::new(hay).advance_to(hay, k), (1, 5));
        assert_eq!(String::from_utf8_lossy(&hay[..k]).chars().count(), 4);
    }

    #[test]
    fn context_is_bounded_and_on_one_line() {
        let line = format!("{}KEY{}\nnext", "a".repeat(100), "b".repeat(100));
        let s = line.find("KEY").unwrap();
        let c = context(line.as_bytes(), s..s + 3, &[]);
        assert_eq!(
            render(&c),
            format!(
                "{}[THIS]{}",
                "a".repeat(CONTEXT_CHARS),
                "b".repeat(CONTEXT_CHARS)
            )
        );
    }

    #[test]
    fn every_other_secret_on_the_line_is_a_secret_part() {
        let hay = b"x aws=AAAA1111 gh=BBBB2222 z=CCCC3333\nnext=DDDD";
        let span = |s: &str| {
            let i = hay
                .windows(s.len())
                .position(|w| w == s.as_bytes())
                .unwrap();
            i..i + s.len()
        };
        let matches = [
            m(span("AAAA1111")),
            m(span("BBBB2222")),
            m(span("CCCC3333")),
        ];
        let found = locate(hay, &matches);
        assert_eq!(
            render(&found[1].context),
            "x aws=<AAAA1111> gh=[THIS] z=<CCCC3333>"
        );
        assert_eq!(
            render(&found[0].context),
            "x aws=[THIS] gh=<BBBB2222> z=<CCCC3333>"
        );
        assert_eq!(
            render(&found[2].context),
            "x aws=<AAAA1111> gh=<BBBB2222> z=[THIS]"
        );
    }

    #[test]
    fn overlapping_and_partner_ranges_are_redacted() {
        let hay = b"id=AKIDAKID key=SECRETSECRET";
        let mut a = m(16..28);
        a.partner = Some(3..11);
        let found = locate(hay, &[a]);
        assert_eq!(render(&found[0].context), "id=<AKIDAKID> key=[THIS]");
    }

    #[test]
    fn the_window_never_cuts_a_secret() {
        // A secret the 60 characters of context would cut is taken whole when it lies on the
        // line within reach, else left out: a piece of one would show a prefix from its
        // middle and a length that is not its own.
        let snippet = |line: &str, others: &[&str]| {
            let find = |s: &str| line.find(s).map(|i| i..i + s.len()).unwrap();
            let mut secrets: Vec<Range<usize>> = others.iter().map(|s| find(s)).collect();
            secrets.push(find("KEY"));
            secrets.sort_by_key(|r| r.start);
            render(&context(line.as_bytes(), find("KEY"), &secrets))
        };
        let (l, r) = ("L".repeat(100), "R".repeat(100));
        assert_eq!(
            snippet(&format!("a={l} b=KEY c={r}"), &[&l, &r]),
            format!("<{l}> b=[THIS] c=<{r}>")
        );
        let (l, r) = ("L".repeat(300), "R".repeat(300));
        assert_eq!(
            snippet(&format!("a={l} b=KEY c={r}"), &[&l, &r]),
            " b=[THIS] c="
        );
        // A secret that began on an earlier line.
        assert_eq!(
            snippet("BEGIN\nmid\nEND post KEY", &["BEGIN\nmid\nEND"]),
            " post [THIS]"
        );
    }

    #[test]
    fn a_range_around_this_secret_shows_only_what_lies_outside_it() {
        // Another rule took the value with its quotes: the snippet of the inner secret keeps
        // the line as it is, each piece once.
        let hay = br#"password = "kjfh9485osdf" # end"#;
        let outer = m(11..25);
        let inner = m(12..24);
        let found = locate(hay, &[outer, inner]);
        assert_eq!(
            render(&found[1].context),
            r#"password = <~">[THIS]<~"> # end"#
        );
        assert_eq!(render(&found[0].context), "password = [THIS] # end");
    }
}
