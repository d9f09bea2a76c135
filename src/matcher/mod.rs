//! The matcher: bytes in, matches out. Pure: no files, no network, no printing.
//!
//! One aho-corasick automaton (DFA kind, ASCII case-insensitive) finds every rule keyword.
//! Each keyword hit opens a window around itself for the rules that own the keyword; windows
//! of one rule that touch are merged, so each rule's regex runs at most once over any byte and
//! the cost stays linear in the input however many hits it holds. Regexes compile on first
//! use and are shared by all threads; each thread brings its own `Scratch` (regex caches and
//! buffers), so the hot path takes no locks and allocates nothing per byte.
//!
//! After a regex confirms a match, its captured secret goes through the filters: the rule's
//! `min_entropy`, the global placeholder filters (repeated characters, stopwords, placeholder
//! patterns), the rule's own `allow` patterns and `stopwords`, the generic-value test for
//! generic rules, and
//! offline checksums. Paired rules then pick up their partner (an AWS secret key its key id).

pub mod checksum;
pub mod decode;
pub mod entropy;
pub mod generic;
pub mod keywords;

use std::ops::Range;
use std::sync::Arc;

use regex_automata::{meta, util::captures::Captures, Anchored, Input};

use crate::finding::{ChecksumState, Confidence};
use crate::rules::{syntax::ChecksumKind, Rule, RuleSet, SecretGroup};
use keywords::{KeywordScratch, Keywords};

/// A confirmed match of one rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    /// Index of the rule in the `RuleSet`.
    pub rule: usize,
    /// The secret's byte range in the scanned input.
    pub span: Range<usize>,
    /// The paired credential's byte range, for rules with `pair`.
    pub partner: Option<Range<usize>>,
    pub confidence: Confidence,
    pub checksum: Option<ChecksumState>,
    /// Set when the secret was found inside encoded text: `span` is then the encoded text.
    pub decoded: Option<Decoded>,
}

/// A secret found after decoding: the decoded secret and how it was encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub secret: Vec<u8>,
    pub encoding: decode::Encoding,
    /// The decode rule that found the encoded text.
    pub via: usize,
}

/// How many encodings deep the matcher looks (base64 inside base64 is two).
const MAX_DECODE_DEPTH: usize = 2;

/// Most decoded bytes scanned for one input, over all its encoded captures.
const MAX_DECODED_PER_INPUT: usize = 1 << 20;

/// Errors building a matcher.
#[derive(Debug, thiserror::Error)]
pub enum MatcherError {
    #[error("cannot build the keyword automaton: {0}")]
    Automaton(#[from] aho_corasick::BuildError),
}

pub struct Matcher {
    rules: Arc<RuleSet>,
    keywords: Keywords,
    /// For each automaton pattern, the rules that own that keyword.
    keyword_rules: Vec<Vec<u32>>,
    /// Rules without keywords (path rules): each with the most bytes it runs over. Text ones
    /// run on whole text content up to that size, binary ones on the head of binary content.
    anchored_text: Vec<(u32, usize)>,
    anchored_binary: Vec<(u32, usize)>,
}

/// Per-thread working memory for `Matcher::find`. Cloning gives an independent copy.
#[derive(Clone)]
pub struct Scratch {
    keywords: KeywordScratch,
    windows: Vec<(u32, usize, usize)>,
    /// Index into `windows` of each rule's most recent window, for merging on the fly.
    last_window: Vec<u32>,
    regex: Vec<Option<(meta::Cache, Captures)>>,
}

const NO_WINDOW: u32 = u32::MAX;

impl Matcher {
    pub fn new(rules: Arc<RuleSet>) -> Result<Matcher, MatcherError> {
        let mut keywords: Vec<Vec<u8>> = Vec::new();
        let mut keyword_rules: Vec<Vec<u32>> = Vec::new();
        let mut index: std::collections::HashMap<Vec<u8>, usize> = Default::default();
        for (i, rule) in rules.rules.iter().enumerate() {
            for k in &rule.keywords {
                let k = k.to_ascii_lowercase().into_bytes();
                let p = *index.entry(k.clone()).or_insert_with(|| {
                    keywords.push(k);
                    keyword_rules.push(Vec::new());
                    keywords.len() - 1
                });
                if !keyword_rules[p].contains(&(i as u32)) {
                    keyword_rules[p].push(i as u32)
                }
            }
        }
        let automaton = Keywords::new(&keywords)?;
        let (mut anchored_text, mut anchored_binary) = (Vec::new(), Vec::new());
        for (i, rule) in rules.rules.iter().enumerate().filter(|(_, r)| r.anchored()) {
            let limit = rule.window.unwrap_or(crate::rules::ANCHORED_WINDOW);
            match rule.binary {
                true => anchored_binary.push((i as u32, limit)),
                false => anchored_text.push((i as u32, limit)),
            }
        }
        Ok(Matcher {
            rules,
            keywords: automaton,
            keyword_rules,
            anchored_text,
            anchored_binary,
        })
    }

    pub fn rules(&self) -> &Arc<RuleSet> {
        &self.rules
    }

    /// Builds the faster keyword automaton now, for callers that know a large input is
    /// coming (otherwise it is built once a megabyte has been scanned).
    pub fn prime(&self) {
        self.keywords.prime()
    }

    pub fn scratch(&self) -> Scratch {
        let n = self.rules.rules.len();
        Scratch {
            keywords: KeywordScratch::default(),
            windows: Vec::new(),
            last_window: vec![NO_WINDOW; n],
            regex: (0..n).map(|_| None).collect(),
        }
    }

    /// All confirmed matches in `hay`, ordered by position then rule.
    pub fn find(&self, hay: &[u8], scratch: &mut Scratch) -> Vec<Match> {
        self.find_at(hay, scratch, 0)
    }

    fn find_at(&self, hay: &[u8], scratch: &mut Scratch, depth: usize) -> Vec<Match> {
        self.collect_windows(hay, scratch);
        let mut out = Vec::new();
        let windows = std::mem::take(&mut scratch.windows);
        for &(r, start, end) in &windows {
            if self.rules.rules[r as usize].decode.is_some() && depth >= MAX_DECODE_DEPTH {
                continue;
            }
            self.confirm(hay, r as usize, start..end, scratch, &mut out);
        }
        scratch.windows = windows;
        if depth == 0 {
            for &(r, limit) in &self.anchored_text {
                if hay.len() <= limit {
                    self.confirm_anchored(hay, r as usize, hay.len(), scratch, &mut out);
                }
            }
        }
        if out.is_empty() {
            return out;
        }
        if out
            .iter()
            .any(|m| self.rules.rules[m.rule].decode.is_some())
        {
            out = self.decode_and_rescan(hay, out, scratch, depth);
        }
        out.sort_by_key(|m| (m.span.start, m.rule));
        self.drop_generic_overlaps(&mut out);
        self.pair_up(hay, &mut out);
        out
    }

    /// Matches of the binary rules (magic bytes) in the head of binary content.
    pub fn find_binary(&self, hay: &[u8], scratch: &mut Scratch) -> Vec<Match> {
        let mut out = Vec::new();
        for &(r, limit) in &self.anchored_binary {
            self.confirm_anchored(hay, r as usize, limit.min(hay.len()), scratch, &mut out);
        }
        out
    }

    /// Whether any rule runs on binary content.
    pub fn has_binary_rules(&self) -> bool {
        !self.anchored_binary.is_empty()
    }

    /// A rule without keywords: its pattern must match at the start of `hay[..end]`, and again
    /// right where the previous match ended (one match per entry of a credential file).
    fn confirm_anchored(
        &self,
        hay: &[u8],
        r: usize,
        end: usize,
        scratch: &mut Scratch,
        out: &mut Vec<Match>,
    ) {
        let rule = &self.rules.rules[r];
        let Ok(compiled) = rule.compiled() else {
            return;
        };
        let (cache, caps) = scratch.regex[r].get_or_insert_with(|| {
            (
                compiled.regex.create_cache(),
                compiled.regex.create_captures(),
            )
        });
        let mut at = 0;
        while at < end {
            let input = Input::new(hay).span(at..end).anchored(Anchored::Yes);
            compiled.regex.search_captures_with(cache, &input, caps);
            let Some(m) = caps.get_match() else {
                break;
            };
            if let Some(span) = secret_span(compiled, caps, m.span()) {
                if let Some((confidence, checksum)) = self.accept(rule, &hay[span.clone()]) {
                    out.push(Match {
                        rule: r,
                        span,
                        partner: None,
                        confidence,
                        checksum,
                        decoded: None,
                    });
                }
            }
            if m.end() <= at {
                break;
            }
            at = m.end();
        }
    }

    /// Replaces each match of a decode rule by the matches found in its decoded text, placed at
    /// the encoded text.
    fn decode_and_rescan(
        &self,
        hay: &[u8],
        matches: Vec<Match>,
        scratch: &mut Scratch,
        depth: usize,
    ) -> Vec<Match> {
        let mut out = Vec::with_capacity(matches.len());
        let mut budget = MAX_DECODED_PER_INPUT;
        let mut seen: Vec<Range<usize>> = Vec::new();
        for m in matches {
            let Some(encoding) = self.rules.rules[m.rule].decode else {
                out.push(m);
                continue;
            };
            // Two decode rules capturing the same text decode it once.
            if seen.contains(&m.span) {
                continue;
            }
            seen.push(m.span.clone());
            let encoded = &hay[m.span.clone()];
            let Some(decoded) = encoding.decode(encoded) else {
                continue;
            };
            // Nothing was encoded: the text was already scanned as it is.
            if decoded == encoded {
                continue;
            }
            if decoded.len() > budget {
                continue;
            }
            budget -= decoded.len();
            for inner in self.find_at(&decoded, scratch, depth + 1) {
                let secret = match &inner.decoded {
                    Some(d) => d.secret.clone(),
                    None => decoded[inner.span.clone()].to_vec(),
                };
                out.push(Match {
                    rule: inner.rule,
                    span: m.span.clone(),
                    // A partner inside the decoded text has no place in this input.
                    partner: None,
                    confidence: inner.confidence,
                    checksum: inner.checksum,
                    decoded: Some(Decoded {
                        secret,
                        encoding: inner.decoded.as_ref().map_or(encoding, |d| d.encoding),
                        via: m.rule,
                    }),
                });
            }
        }
        out
    }

    /// Fills `scratch.windows` with disjoint `(rule, start, end)` ranges to search.
    fn collect_windows(&self, hay: &[u8], scratch: &mut Scratch) {
        let Scratch {
            keywords,
            windows,
            last_window,
            ..
        } = scratch;
        windows.clear();
        let mut touched: Vec<u32> = Vec::new();
        self.keywords
            .find(hay, keywords, |pattern, hit_start, hit_end| {
                for &r in &self.keyword_rules[pattern] {
                    let rule = &self.rules.rules[r as usize];
                    let Ok(compiled) = rule.compiled() else {
                        continue;
                    };
                    let w = compiled.window;
                    let mut start = hit_start.saturating_sub(w);
                    let mut end = hit_end.saturating_add(w).min(hay.len());
                    if compiled.single_line {
                        // The line ends stay in the window: a pattern may consume the
                        // newline around a value as a delimiter.
                        if let Some(i) = memchr::memrchr(b'\n', &hay[start..hit_start]) {
                            start += i;
                        }
                        if let Some(i) = memchr::memchr(b'\n', &hay[hit_end..end]) {
                            end = hit_end + i + 1;
                        }
                    }
                    let last = last_window[r as usize];
                    if last != NO_WINDOW {
                        let lw = &mut windows[last as usize];
                        if start <= lw.2 && end >= lw.1 {
                            lw.1 = lw.1.min(start);
                            lw.2 = lw.2.max(end);
                            continue;
                        }
                    } else {
                        touched.push(r);
                    }
                    last_window[r as usize] = windows.len() as u32;
                    windows.push((r, start, end));
                }
            });
        for r in touched {
            last_window[r as usize] = NO_WINDOW;
        }
        if windows.len() > 1 {
            // Hits arrive in order of their end, so a few windows of one rule can still
            // overlap; sort and merge so every byte is searched at most once per rule.
            windows.sort_unstable();
            let mut merged = 0;
            for i in 1..windows.len() {
                let (r, s, e) = windows[i];
                let cur = &mut windows[merged];
                if cur.0 == r && s <= cur.2 {
                    cur.2 = cur.2.max(e);
                } else {
                    merged += 1;
                    windows[merged] = (r, s, e);
                }
            }
            windows.truncate(merged + 1);
        }
    }

    fn confirm(
        &self,
        hay: &[u8],
        r: usize,
        window: Range<usize>,
        scratch: &mut Scratch,
        out: &mut Vec<Match>,
    ) {
        let rule = &self.rules.rules[r];
        let Ok(compiled) = rule.compiled() else {
            return;
        };
        let (cache, caps) = scratch.regex[r].get_or_insert_with(|| {
            (
                compiled.regex.create_cache(),
                compiled.regex.create_captures(),
            )
        });
        let mut input = Input::new(hay).span(window.clone());
        loop {
            compiled.regex.search_captures_with(cache, &input, caps);
            let Some(m) = caps.get_match() else {
                break;
            };
            if let Some(span) = secret_span(compiled, caps, m.span()) {
                if let Some((confidence, checksum)) = self.accept(rule, &hay[span.clone()]) {
                    out.push(Match {
                        rule: r,
                        span,
                        partner: None,
                        confidence,
                        checksum,
                        decoded: None,
                    });
                }
            }
            let next = if m.end() > m.start() {
                m.end()
            } else {
                m.end() + 1
            };
            if next >= window.end {
                break;
            }
            input.set_start(next);
        }
    }

    /// Runs the filters on a captured secret; `None` rejects it.
    fn accept(&self, rule: &Rule, secret: &[u8]) -> Option<(Confidence, Option<ChecksumState>)> {
        if secret.is_empty() {
            return None;
        }
        // Encoded text is judged by what it decodes to.
        if rule.decode.is_some() {
            return Some((rule.confidence, None));
        }
        if let Some(min) = rule.min_entropy {
            if entropy::shannon(secret) < min {
                return None;
            }
        }
        let filters = &self.rules.filters;
        // The head of a binary file is no placeholder: only the rule's own checks apply.
        if !rule.skip_global_filters && !rule.binary {
            if let Some(n) = filters.max_repeat {
                if entropy::longest_run(secret) >= n {
                    return None;
                }
            }
            let c = filters.compiled();
            if let Some(stop) = &c.stopwords {
                if stop.is_match(secret) {
                    return None;
                }
            }
            if let Some(ph) = &c.placeholders {
                if ph.is_match(secret) {
                    return None;
                }
            }
        }
        let compiled = rule.compiled().ok()?;
        if let Some(allow) = &compiled.allow {
            if allow.is_match(secret) {
                return None;
            }
        }
        if let Some(stop) = &compiled.stopwords {
            if stop.is_match(secret) {
                return None;
            }
        }
        if rule.generic {
            if let Some(ignore) = &filters.compiled().generic_ignore {
                if ignore.is_match(secret) {
                    return None;
                }
            }
            if !generic::plausible_secret(secret) {
                return None;
            }
        }
        let mut confidence = rule.confidence;
        let checksum = match rule.checksum {
            Some(ChecksumKind::Crc32Base62) => checksum::crc32_base62(secret).map(|ok| {
                if ok {
                    confidence = confidence.raised();
                    ChecksumState::Valid
                } else {
                    confidence = confidence.lowered();
                    ChecksumState::Invalid
                }
            }),
            None => None,
        };
        Some((confidence, checksum))
    }

    /// A provider rule knows the format better than a generic rule: when both capture
    /// overlapping secrets, keep the provider's. A path rule's match only counts where the
    /// path fits, which the matcher does not know: it never displaces a generic match here.
    fn drop_generic_overlaps(&self, out: &mut Vec<Match>) {
        let rules = &self.rules.rules;
        if !out.iter().any(|m| rules[m.rule].generic) {
            return;
        }
        let specific: Vec<Range<usize>> = out
            .iter()
            .filter(|m| !rules[m.rule].generic && rules[m.rule].path.is_none())
            .map(|m| m.span.clone())
            .collect();
        out.retain(|m| {
            !rules[m.rule].generic
                || !specific
                    .iter()
                    .any(|s| s.start < m.span.end && m.span.start < s.end)
        });
        // Two generic rules on the same value: keep the first.
        let mut kept: Vec<Range<usize>> = Vec::new();
        out.retain(|m| {
            if !rules[m.rule].generic {
                return true;
            }
            if kept
                .iter()
                .any(|s| s.start < m.span.end && m.span.start < s.end)
            {
                return false;
            }
            kept.push(m.span.clone());
            true
        });
    }

    /// Attaches to each paired rule's match the nearest match of its partner rule within the
    /// allowed number of lines; a partner used this way is not reported on its own. "Nearest"
    /// means fewest lines apart, then a partner no other secret has taken, then fewest bytes
    /// apart: a secret on the line of its own key id keeps it even when the next line's id is
    /// closer in bytes.
    fn pair_up(&self, hay: &[u8], out: &mut Vec<Match>) {
        let rules = &self.rules.rules;
        if !out.iter().any(|m| rules[m.rule].pair.is_some()) {
            return;
        }
        let mut used = vec![false; out.len()];
        for i in 0..out.len() {
            let Some(pair) = rules[out[i].rule].pair else {
                continue;
            };
            let here = out[i].span.clone();
            let best = out
                .iter()
                .enumerate()
                .filter(|(_, m)| m.rule == pair.with)
                .filter_map(|(j, m)| {
                    let (a, b) = if m.span.start < here.start {
                        (m.span.end.min(here.start), here.start)
                    } else {
                        (here.end.min(m.span.start), m.span.start)
                    };
                    let lines = memchr::memchr_iter(b'\n', &hay[a..b]).count();
                    (lines <= pair.within_lines).then_some((lines, used[j], b - a, j))
                })
                .min();
            if let Some((_, _, _, j)) = best {
                used[j] = true;
                out[i].partner = Some(out[j].span.clone());
                out[i].confidence = out[i].confidence.raised();
            }
        }
        let mut k = 0;
        out.retain(|_| {
            let keep = !used[k];
            k += 1;
            keep
        });
    }
}

/// The secret's span in a match: the rule's secret group, else the first group that matched
/// a non-empty text, else the whole match.
fn secret_span(
    compiled: &crate::rules::CompiledRule,
    caps: &Captures,
    whole: regex_automata::Span,
) -> Option<Range<usize>> {
    let span = match compiled.secret_group {
        SecretGroup::Index(g) => caps.get_group(g),
        _ => (1..caps.group_len())
            .find_map(|g| caps.get_group(g).filter(|s| !s.is_empty()))
            .or(Some(whole)),
    };
    span.map(|s| s.range())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::RuleSource;

    fn matcher(yaml: &str) -> Matcher {
        let set = RuleSet::load(vec![RuleSource::yaml("t.yaml", yaml)]).unwrap();
        Matcher::new(Arc::new(set)).unwrap()
    }

    const RULES: &str = r#"
provider: Test
filters:
  stopwords: [example]
  placeholders: ['(?i)^your']
  max_repeat: 6
rules:
  - id: test.token
    name: Test token
    keywords: [tok_]
    pattern: '\b(tok_[A-Za-z0-9]{12})\b'
    examples: ["tok_abcdefghijkl"]
  - id: test.id
    name: Test id
    keywords: [tid-]
    pattern: '\b(tid-[0-9]{4})\b'
    examples: ["tid-1234"]
  - id: test.secret
    name: Test secret
    keywords: [test_secret]
    pattern: 'test_secret\s*=\s*([A-Za-z0-9]{10})'
    pair: { with: test.id, within_lines: 2 }
    examples: ["test_secret = a1b2c3d4e5"]
  - id: generic.assign
    name: Generic
    keywords: [token]
    pattern: 'token\s*=\s*"([^"]{8,})"'
    generic: true
    examples: ['token = "a1b2c3d4e5"']
"#;

    fn secrets(m: &Matcher, hay: &[u8]) -> Vec<(String, String)> {
        let mut s = m.scratch();
        m.find(hay, &mut s)
            .into_iter()
            .map(|x| {
                (
                    m.rules().rules[x.rule].id.clone(),
                    String::from_utf8_lossy(&hay[x.span]).into_owned(),
                )
            })
            .collect()
    }

    #[test]
    fn finds_keyword_case_insensitively_but_regex_decides() {
        let m = matcher(RULES);
        assert_eq!(
            secrets(&m, b"x TOK_ a tok_A1b2C3d4E5f6 y"),
            vec![("test.token".into(), "tok_A1b2C3d4E5f6".into())]
        );
    }

    #[test]
    fn global_filters_drop_placeholders() {
        let m = matcher(RULES);
        assert!(secrets(&m, b"tok_EXAMPLEabcde").is_empty());
        assert!(secrets(&m, b"tok_aaaaaaaabcde").is_empty());
        assert!(secrets(&m, b"token = \"YourTokenHere1\"").is_empty());
    }

    #[test]
    fn generic_yields_to_provider_rule() {
        let m = matcher(RULES);
        let got = secrets(&m, b"token = \"tok_A1b2C3d4E5f6\"");
        assert_eq!(got, vec![("test.token".into(), "tok_A1b2C3d4E5f6".into())]);
        let got = secrets(&m, b"token = \"Zq9vX2mK7pL4\"");
        assert_eq!(got, vec![("generic.assign".into(), "Zq9vX2mK7pL4".into())]);
    }

    #[test]
    fn pairs_within_lines_only() {
        let m = matcher(RULES);
        let hay = b"id tid-4821\ntest_secret = Qw3rTy7uI9\n";
        let mut s = m.scratch();
        let got = m.find(hay, &mut s);
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(&hay[got[0].partner.clone().unwrap()], b"tid-4821");
        let far = b"id tid-4821\n\n\n\n\ntest_secret = Qw3rTy7uI9\n";
        let got = m.find(far, &mut s);
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(got.iter().all(|g| g.partner.is_none()));
    }

    #[test]
    fn rule_stopwords_and_secret_groups() {
        let m = matcher(
            r#"
provider: Test
rules:
  - id: test.grouped
    name: Grouped
    keywords: [grp=]
    pattern: '(grp)=([A-Za-z0-9]{10})'
    secret_group: 2
    stopwords: [Staging]
    examples: ["grp=a1b2c3d4e5"]
"#,
        );
        assert_eq!(
            secrets(&m, b"grp=Q7rT2mXc9L"),
            vec![("test.grouped".into(), "Q7rT2mXc9L".into())]
        );
        assert!(secrets(&m, b"grp=xSTAGINGx1").is_empty());
    }

    #[test]
    fn without_secret_group_imported_rules_take_the_first_group_that_matched() {
        let set = RuleSet::load(vec![RuleSource::gitleaks(
            "t.toml",
            r#"
[[rules]]
id = "either"
regex = 'hook/([A-Za-z0-9]{8})|hook:()([A-Za-z0-9]{8})|hook!'
keywords = ["hook"]
"#,
        )])
        .unwrap();
        let m = Matcher::new(Arc::new(set)).unwrap();
        assert_eq!(
            secrets(&m, b"hook/Q7rT2mXc hook:Zp4Vb8Nz hook!"),
            vec![
                ("gitleaks.either".into(), "Q7rT2mXc".into()),
                ("gitleaks.either".into(), "Zp4Vb8Nz".into()),
                ("gitleaks.either".into(), "hook!".into())
            ]
        );
    }

    #[test]
    fn a_secret_keeps_the_partner_on_its_own_line() {
        let m = matcher(RULES);
        // The second line's id is closer in bytes to the first secret than the first line's.
        let hay = b"tid-1111 xxxxxxxxxxxxxxxxxxxx test_secret = Aa1Bb2Cc3D\ntid-2222 test_secret = Ee4Ff5Gg6H\n";
        let mut s = m.scratch();
        let got = m.find(hay, &mut s);
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(&hay[got[0].partner.clone().unwrap()], b"tid-1111");
        assert_eq!(&hay[got[1].partner.clone().unwrap()], b"tid-2222");
    }

    #[test]
    fn single_line_rules_search_only_the_keyword_line() {
        let yaml = |single: bool| {
            format!(
                r#"
provider: Test
rules:
  - id: test.line
    name: Line
    keywords: [api_key]
    pattern: '(?:api_key\s*=\s*|^)([A-Za-z0-9]{{12}})(?:\s|$)'
    single_line: {single}
    rotate: https://example.com/rotate
    examples: ["api_key = A1b2C3d4E5f6"]
"#
            )
        };
        // The value on the next line is reached only when the search may cross the newline.
        let hay = b"x\napi_key =\nZq9vX2mK7pL4\ny";
        assert_eq!(secrets(&matcher(&yaml(false)), hay).len(), 1);
        assert!(secrets(&matcher(&yaml(true)), hay).is_empty());
        // On its own line, a value at the end of the line (newline or end of input) is found,
        // and `^` still anchors at the start of the keyword's line.
        for hay in [
            &b"x\napi_key = Zq9vX2mK7pL4\ny"[..],
            b"api_key = Zq9vX2mK7pL4",
            b"x\r\napi_key = Zq9vX2mK7pL4\r\n",
        ] {
            let got = secrets(&matcher(&yaml(true)), hay);
            assert_eq!(got, vec![("test.line".into(), "Zq9vX2mK7pL4".into())]);
        }
    }

    #[test]
    fn rules_without_keywords_match_from_the_start_entry_after_entry() {
        let m = matcher(
            r#"
provider: Test
rules:
  - id: test.entries
    name: Entries
    path: '(?:^|/)\.entries$'
    pattern: '[a-z]+:([A-Za-z0-9]{6,})\n'
    window: 64
    rotate: https://example.com/rotate
    examples: ["ab:Qw3rTy7u\n"]
  - id: test.magic
    name: Magic
    path: '\.bin$'
    binary: true
    pattern: '(?s)(\xfe\xed.{4})'
    rotate: https://example.com/rotate
    examples: ["feed00000000"]
"#,
        );
        let got = secrets(&m, b"ab:Qw3rTy7u\ncd:Zx9vB2nM\n");
        assert_eq!(got.len(), 2, "{got:?}");
        // Only from the start, and only on content no larger than the window.
        assert!(secrets(&m, b"x\nab:Qw3rTy7u\n").is_empty());
        let mut long = b"ab:Qw3rTy7u\n".to_vec();
        long.extend([b'z'; 64]);
        assert!(secrets(&m, &long).is_empty());
        // Binary rules run only where asked, on the head of the content.
        let mut s = m.scratch();
        assert!(m.find(b"\xfe\xed\x00\x01\x02\x03", &mut s).is_empty());
        let bin = m.find_binary(b"\xfe\xed\x00\x01\x02\x03rest", &mut s);
        assert_eq!(bin.len(), 1);
        assert_eq!(bin[0].span, 0..6);
        assert!(m
            .find_binary(b"x\xfe\xed\x00\x01\x02\x03", &mut s)
            .is_empty());
    }

    #[test]
    fn windows_merge_so_dense_hits_stay_linear() {
        let m = matcher(RULES);
        let mut hay = Vec::new();
        let alphabet = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..20_000 {
            hay.extend_from_slice(b"tok_");
            for _ in 0..12 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                hay.push(alphabet[(x % alphabet.len() as u64) as usize]);
            }
            hay.push(b' ');
        }
        let mut s = m.scratch();
        m.collect_windows(&hay, &mut s);
        let searched: usize = s.windows.iter().map(|w| w.2 - w.1).sum();
        assert!(searched <= hay.len(), "{searched} > {}", hay.len());
        let found = m.find(&hay, &mut s);
        assert_eq!(found.len(), 20_000);
    }
}
