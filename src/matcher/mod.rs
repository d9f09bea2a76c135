//! The matcher: bytes in, matches out. Pure: no files, no network, no printing.
//!
//! One Aho-Corasick automaton (ASCII case-insensitive, `keywords`) finds every rule keyword.
//! Each keyword hit opens a window around itself for the rules that own the keyword; windows
//! of one rule that touch are merged as the hits come, and a window is searched as soon as it
//! can grow no more (`windows`), so each rule's regex runs at most once over any byte and the
//! cost stays linear in the input however many hits it holds. Regexes compile on first use and
//! are shared by all threads. In a window, a forward lazy DFA finds where the next match ends
//! and the capture engines read its groups there (`next_match`). The lazy DFAs' caches are
//! shared too, one per rule, taken without waiting (`Lease`); each thread brings its own
//! `Scratch` (buffers, and its own caches for when another thread holds a rule's), so the hot
//! path never waits for a lock and allocates nothing per byte.
//!
//! Memory per input is bounded whatever the input holds: keyword hits are handed on in
//! batches, each rule holds one pending window, and at most `MAX_MATCHES` matches are kept
//! (`Scratch::capped` tells when an input had more).
//!
//! After a regex confirms a match, its captured secret goes through the filters: the rule's
//! `min_entropy`, the global placeholder filters (repeated characters, stopwords, placeholder
//! patterns), the rule's own `allow` patterns and `stopwords`, the generic-value test for
//! generic rules, and
//! offline checksums. Paired rules then pick up their partner (an AWS secret key its key id).

pub mod checksum;
mod connection;
mod csv;
pub mod decode;
pub mod entropy;
pub mod generic;
pub mod inspect;
mod jwt;
pub mod keywords;
mod pem;
mod resolve;
mod windows;

use std::ops::Range;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, TryLockError};

use regex_automata::nfa::thompson::{backtrack, pikevm};
use regex_automata::{hybrid, util::captures::Captures, Anchored, Input};

use crate::finding::{ChecksumState, Confidence, Detail};
use crate::rules::{syntax::ChecksumKind, CompiledRule, Rule, RuleSet, SecretGroup};
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
    /// What the rule's `inspect` check read from the secret.
    pub details: Vec<Detail>,
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

/// Most matches kept for one input; the search stops there. Ten thousand secrets in one file
/// are a dump, not a leak, and what is past them would only cost memory.
pub const MAX_MATCHES: usize = 10_000;

/// Errors building a matcher.
#[derive(Debug, thiserror::Error)]
pub enum MatcherError {
    #[error("cannot build the keyword automaton")]
    Automaton(#[from] aho_corasick::BuildError),
}

pub struct Matcher {
    rules: Arc<RuleSet>,
    keywords: Keywords,
    /// For each automaton pattern, the rules that own that keyword.
    keyword_rules: Vec<Vec<u32>>,
    /// `keywords` and `keyword_rules` without the deferred path rules (`Which::NotDeferred`),
    /// built on first use: their keywords (`machine`, `pass `...) would cost a history's
    /// object pass hits on every blob.
    undeferred: OnceLock<(Keywords, Vec<Vec<u32>>)>,
    /// Rules without keywords (path rules): each with the most bytes it runs over. Text ones
    /// run on whole text content up to that size, binary ones on the head of binary content.
    anchored_text: Vec<(u32, usize)>,
    anchored_binary: Vec<(u32, usize)>,
    /// Each rule's regex state shared by all threads (see `Lease`).
    shared: Box<[Mutex<Option<Box<RegexState>>>]>,
}

/// The keywords of the rules `keep` accepts, lowercased, each once, with the rules that own
/// each, and the automaton that finds them.
fn keyword_index(
    rules: &RuleSet,
    keep: impl Fn(usize) -> bool,
) -> Result<(Keywords, Vec<Vec<u32>>), MatcherError> {
    let mut keywords: Vec<Vec<u8>> = Vec::new();
    let mut keyword_rules: Vec<Vec<u32>> = Vec::new();
    let mut index: std::collections::HashMap<Vec<u8>, usize> = Default::default();
    for (i, rule) in rules.rules.iter().enumerate().filter(|(i, _)| keep(*i)) {
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
    Ok((Keywords::new(&keywords)?, keyword_rules))
}

/// Per-thread working memory for `Matcher::find`. Cloning gives an independent copy.
#[derive(Clone)]
pub struct Scratch {
    keywords: KeywordScratch,
    pending: windows::Pending,
    /// The thread's own regex state of each rule, for when another thread holds the shared
    /// one (see `Lease`; boxed: a scratch holds one slot per rule, and most stay empty).
    own: Vec<Option<Box<RegexState>>>,
    /// The last `find` stopped at `MAX_MATCHES`.
    capped: bool,
    /// Bytes handed to regexes by the last `find` (windows, summed over rules).
    searched: usize,
    /// The rules the current `find` runs.
    which: Which,
}

/// Which rules a `Matcher::find_which` runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    All,
    /// All but the path rules a history defers to the blobs its trees name for them
    /// (`rules::file_names`).
    NotDeferred,
}

impl Scratch {
    /// Whether the last `Matcher::find` stopped at `MAX_MATCHES` matches: the input holds
    /// more than were returned.
    pub fn capped(&self) -> bool {
        self.capped
    }

    /// Bytes the last `Matcher::find` handed to rule regexes (windows, summed over rules; the
    /// rules without keywords not counted): for benchmarks.
    #[doc(hidden)]
    pub fn searched(&self) -> usize {
        self.searched
    }
}

impl Matcher {
    pub fn new(rules: Arc<RuleSet>) -> Result<Matcher, MatcherError> {
        let (keywords, keyword_rules) = keyword_index(&rules, |_| true)?;
        let (mut anchored_text, mut anchored_binary) = (Vec::new(), Vec::new());
        for (i, rule) in rules.rules.iter().enumerate().filter(|(_, r)| r.anchored()) {
            let limit = rule.window.unwrap_or(crate::rules::ANCHORED_WINDOW);
            match rule.binary {
                true => anchored_binary.push((i as u32, limit)),
                false => anchored_text.push((i as u32, limit)),
            }
        }
        let shared = rules.rules.iter().map(|_| Mutex::default()).collect();
        Ok(Matcher {
            rules,
            keywords,
            keyword_rules,
            undeferred: OnceLock::new(),
            anchored_text,
            anchored_binary,
            shared,
        })
    }

    pub fn rules(&self) -> &Arc<RuleSet> {
        &self.rules
    }

    /// Builds the faster keyword automaton now, for callers that know a large input is
    /// coming (otherwise it is built once a megabyte has been scanned).
    pub fn prime(&self) {
        self.keywords.prime();
        if self.rules.file_names().any() {
            self.keywords_for(Which::NotDeferred).0.prime()
        }
    }

    /// The keyword automaton and each keyword's rules, for a search of the rules `which`.
    fn keywords_for(&self, which: Which) -> (&Keywords, &[Vec<u32>]) {
        if which == Which::All || !self.rules.file_names().any() {
            return (&self.keywords, &self.keyword_rules);
        }
        let (k, r) = self.undeferred.get_or_init(|| {
            let names = self.rules.file_names();
            // A subset of the keywords that built `keywords`: it builds too.
            keyword_index(&self.rules, |i| !names.is_deferred(i)).expect("a subset of keywords")
        });
        (k, r)
    }

    /// Calls `f(keyword, start, end)` for every keyword occurrence in `hay`, in order of `end`:
    /// the keyword walk alone, for benchmarks.
    #[doc(hidden)]
    pub fn keyword_hits(
        &self,
        hay: &[u8],
        scratch: &mut Scratch,
        f: impl FnMut(usize, usize, usize),
    ) {
        self.keywords.find(hay, &mut scratch.keywords, f)
    }

    /// The rules a keyword (an automaton pattern, as `keyword_hits` reports it) wakes: for
    /// benchmarks.
    #[doc(hidden)]
    pub fn keyword_rules(&self, pattern: usize) -> &[u32] {
        &self.keyword_rules[pattern]
    }

    pub fn scratch(&self) -> Scratch {
        let n = self.rules.rules.len();
        Scratch {
            keywords: KeywordScratch::default(),
            pending: windows::Pending::new(n),
            own: (0..n).map(|_| None).collect(),
            capped: false,
            searched: 0,
            which: Which::All,
        }
    }

    /// All confirmed matches in `hay`, ordered by position then rule; at most `MAX_MATCHES`
    /// (see `Scratch::capped`).
    pub fn find(&self, hay: &[u8], scratch: &mut Scratch) -> Vec<Match> {
        self.find_which(hay, scratch, Which::All)
    }

    /// `find` with only the rules `which` says.
    pub fn find_which(&self, hay: &[u8], scratch: &mut Scratch, which: Which) -> Vec<Match> {
        scratch.capped = false;
        scratch.searched = 0;
        scratch.which = which;
        self.find_at(hay, scratch, 0)
    }

    /// The deferred rules a search leaves out, if it leaves any out.
    fn left_out(&self, scratch: &Scratch) -> Option<&crate::rules::file_names::FileNames> {
        (scratch.which == Which::NotDeferred).then(|| self.rules.file_names())
    }

    fn find_at(&self, hay: &[u8], scratch: &mut Scratch, depth: usize) -> Vec<Match> {
        let mut out = Vec::new();
        self.search(hay, scratch, depth, &mut out);
        if depth == 0 {
            let left_out = self.left_out(scratch);
            let mut lease = Lease::new(self, &mut scratch.own);
            for &(r, limit) in &self.anchored_text {
                if left_out.is_some_and(|f| f.is_deferred(r as usize)) {
                    continue;
                }
                if hay.len() <= limit && out.len() < MAX_MATCHES {
                    self.run(hay, r as usize, 0..hay.len(), true, &mut lease, &mut out);
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
        resolve::drop_generic_overlaps(&self.rules.rules, &mut out);
        resolve::pair_up(&self.rules.rules, hay, &mut out);
        // Identifiers are reported only as partners, which `pair_up` has attached.
        out.retain(|m| !self.rules.rules[m.rule].partner_only);
        out
    }

    /// Runs each rule's regex over the windows around its keyword hits, each window once it
    /// can grow no more (see `windows`), collecting up to `MAX_MATCHES` matches in `out`.
    fn search(&self, hay: &[u8], scratch: &mut Scratch, depth: usize, out: &mut Vec<Match>) {
        // The keywords of the rules `which` leaves out are not looked for at all.
        let (automaton, keyword_rules) = self.keywords_for(scratch.which);
        let Scratch {
            keywords,
            pending,
            own,
            capped,
            searched,
            which: _,
        } = scratch;
        let mut line = windows::Line::default();
        let mut run = |pending: &mut windows::Pending, out: &mut Vec<Match>| {
            let mut lease = Lease::new(self, own);
            for (r, w) in pending.take_closed() {
                if out.len() < MAX_MATCHES {
                    *searched += w.len();
                    self.run(hay, r as usize, w, false, &mut lease, out);
                }
            }
        };
        automaton.find(hay, keywords, |pattern, start, end| {
            if out.len() >= MAX_MATCHES {
                return;
            }
            for &r in &keyword_rules[pattern] {
                let rule = &self.rules.rules[r as usize];
                if rule.decode.is_some() && depth >= MAX_DECODE_DEPTH {
                    continue;
                }
                let Ok(compiled) = rule.compiled() else {
                    continue;
                };
                let w = line.window(hay, start..end, compiled.window, compiled.single_line);
                pending.add(r, w);
            }
            if pending.full() {
                run(pending, out);
            }
        });
        pending.close_all();
        run(pending, out);
        if out.len() >= MAX_MATCHES {
            *capped = true;
        }
    }

    /// Matches of the binary rules (magic bytes) in the head of binary content.
    pub fn find_binary(&self, hay: &[u8], scratch: &mut Scratch) -> Vec<Match> {
        let mut out = Vec::new();
        let mut lease = Lease::new(self, &mut scratch.own);
        for &(r, limit) in &self.anchored_binary {
            let end = limit.min(hay.len());
            self.run(hay, r as usize, 0..end, true, &mut lease, &mut out);
        }
        out
    }

    /// Whether any rule runs on binary content.
    pub fn has_binary_rules(&self) -> bool {
        !self.anchored_binary.is_empty()
    }

    /// Runs rule `r`'s regex over `hay[span]`, adding what passes the filters to `out` (no
    /// more than `MAX_MATCHES` in all). `anchored`, for a rule without keywords: its pattern
    /// must match at the start of the span, and again right where the previous match ended
    /// (one match per entry of a credential file).
    fn run(
        &self,
        hay: &[u8],
        r: usize,
        span: Range<usize>,
        anchored: bool,
        lease: &mut Lease<'_>,
        out: &mut Vec<Match>,
    ) {
        let Ok(compiled) = self.rules.rules[r].compiled() else {
            return;
        };
        let state = lease.get(r, compiled);
        let mode = if anchored {
            Anchored::Yes
        } else {
            Anchored::No
        };
        let mut at = span.start;
        while at < span.end && out.len() < MAX_MATCHES {
            let input = Input::new(hay).span(at..span.end).anchored(mode);
            let (end, empty) = match next_match(compiled, state, &input) {
                Next::Nothing => break,
                // Such a match is never empty: the search goes on at its end.
                Next::Passed(end) => (end, false),
                Next::Match(m) => {
                    if let Some(found) = self.checked(r, hay, &state.caps, m) {
                        out.push(found);
                    }
                    (m.end, m.is_empty())
                }
            };
            at = match (empty, anchored) {
                (false, _) => end,
                (true, false) => end + 1,
                (true, true) => break,
            };
        }
        lease.release();
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
        let mut seen: std::collections::HashSet<(usize, usize)> = Default::default();
        for m in matches {
            let Some(encoding) = self.rules.rules[m.rule].decode else {
                out.push(m);
                continue;
            };
            // Two decode rules capturing the same text decode it once.
            if !seen.insert((m.span.start, m.span.end)) {
                continue;
            }
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
                if out.len() >= MAX_MATCHES {
                    scratch.capped = true;
                    break;
                }
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
                    details: inner.details,
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

    /// The match of rule `r` whose regex matched `whole`: its secret read by the rule's check
    /// (which may narrow it), then judged by the filters; `None` rejects it.
    fn checked(
        &self,
        r: usize,
        hay: &[u8],
        caps: &Captures,
        whole: regex_automata::Span,
    ) -> Option<Match> {
        let rule = &self.rules.rules[r];
        let secret = secret_span(rule.compiled().ok()?, caps, whole)?;
        let checked = inspect::apply(rule, hay, caps, secret)?;
        let span = checked.secret;
        let (confidence, checksum) = self.accept(rule, &hay[span.clone()])?;
        if rule.generic && !rule.skip_global_filters {
            // A name that says the value is not real (`fakeToken`, `dummy_secret`).
            let before = &hay[whole.start.min(span.start)..span.start];
            let names = self.rules.filters.compiled().generic_ignore_names.as_ref();
            if names.is_some_and(|n| n.is_match(generic::assigned_name(before))) {
                return None;
            }
        }
        Some(Match {
            rule: r,
            span,
            partner: None,
            confidence: checked.confidence.unwrap_or(confidence),
            checksum,
            decoded: None,
            details: checked.details,
        })
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
            if let Some(n) = filters.max_sequence {
                if entropy::longest_sequence(secret) >= n {
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
        let extras = rule.extras().ok()?;
        if let Some(allow) = &extras.allow {
            if allow.is_match(secret) {
                return None;
            }
        }
        if let Some(stop) = &extras.stopwords {
            if stop.is_match(secret) {
                return None;
            }
        }
        if rule.generic {
            // `generic_ignore` is one of the global filters.
            let ignore = (!rule.skip_global_filters)
                .then(|| filters.compiled().generic_ignore.as_ref())
                .flatten();
            if ignore.is_some_and(|i| i.is_match(secret)) {
                return None;
            }
            // A value with a provider's prefix is that provider's rule's to judge: it did not
            // take this one (or it would have won over the generic rule). Plainly not one of
            // its tokens (wrong case, too short, a token with text glued on): no finding.
            if !rule.skip_global_filters && self.rules.provider_prefix_verdict(secret).is_some() {
                return None;
            }
            // A rule that inspects its matches judges the value itself.
            if rule.inspect.is_none() && !generic::plausible_secret(secret) {
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
}

/// What searching with one rule's regex needs: its engines' caches and the capture groups.
#[derive(Clone)]
struct RegexState {
    finder: Option<hybrid::dfa::Cache>,
    /// Made when the rule first matches.
    backtrack: Option<backtrack::Cache>,
    pikevm: Option<pikevm::Cache>,
    caps: Captures,
}

impl RegexState {
    fn new(compiled: &CompiledRule) -> Box<RegexState> {
        Box::new(RegexState {
            finder: compiled.finder.as_ref().map(|f| f.dfa.create_cache()),
            backtrack: None,
            pikevm: None,
            caps: Captures::all(compiled.group_info().clone()),
        })
    }
}

/// What the next search in a window found.
enum Next {
    Nothing,
    /// A match of a branch that cannot hold the secret, ending here (see `Finder`).
    Passed(usize),
    /// A match, its groups in the state's `caps`.
    Match(regex_automata::Span),
}

/// The leftmost-first match of the rule's pattern in `input`: where the lazy DFA says it ends,
/// then read by the capture engines over the text up to that end (the leftmost-first match
/// there is the same match; look-around still sees past the end).
fn next_match(compiled: &CompiledRule, state: &mut RegexState, input: &Input<'_>) -> Next {
    if let (Some(finder), Some(cache)) = (&compiled.finder, state.finder.as_mut()) {
        match finder.dfa.try_search_fwd(cache, input) {
            Ok(None) => return Next::Nothing,
            Ok(Some(half)) if !finder.reports[half.pattern().as_usize()] => {
                return Next::Passed(half.offset())
            }
            Ok(Some(half)) => {
                let upto = input.clone().range(input.start()..half.offset());
                return capture(compiled, state, &upto);
            }
            // The lazy DFA gave up (its cache thrashed): the capture engines search alone.
            Err(_) => {}
        }
    }
    capture(compiled, state, input)
}

/// The leftmost-first match in `input` with its groups: the bounded backtracker's, or the
/// PikeVM's when the text is too long for the backtracker.
fn capture(compiled: &CompiledRule, state: &mut RegexState, input: &Input<'_>) -> Next {
    let caps = &mut state.caps;
    let bt = state
        .backtrack
        .get_or_insert_with(|| compiled.backtrack.create_cache());
    if compiled.backtrack.try_search(bt, input, caps).is_err() {
        let vm = state
            .pikevm
            .get_or_insert_with(|| compiled.pikevm.create_cache());
        compiled.pikevm.search(vm, input, caps);
    }
    match caps.get_match() {
        Some(m) => Next::Match(m.span()),
        None => Next::Nothing,
    }
}

/// A thread's hold on one rule's regex state at a time: the rule's shared state, or, while
/// another thread holds that, the thread's own.
///
/// A regex cache holds the lazy DFA states found so far, and finding them (determinisation)
/// costs far more than using them: with a cache per thread and rule, every thread paid for
/// the same states of the large generic patterns. Shared, the states one thread found serve
/// all. A thread holds the shared state only while it searches one window (so that it is
/// free as often as can be), and never waits for it.
struct Lease<'m> {
    matcher: &'m Matcher,
    own: &'m mut [Option<Box<RegexState>>],
    held: Held<'m>,
}

enum Held<'m> {
    Nothing,
    Shared(usize, MutexGuard<'m, Option<Box<RegexState>>>),
    Own(usize),
}

impl<'m> Lease<'m> {
    fn new(matcher: &'m Matcher, own: &'m mut [Option<Box<RegexState>>]) -> Lease<'m> {
        Lease {
            matcher,
            own,
            held: Held::Nothing,
        }
    }

    /// Lets go of the state held (unlocking a shared one).
    fn release(&mut self) {
        self.held = Held::Nothing;
    }

    /// Rule `r`'s state, made on first use.
    fn get(&mut self, r: usize, compiled: &crate::rules::CompiledRule) -> &mut RegexState {
        let current = match &self.held {
            Held::Shared(h, _) | Held::Own(h) => Some(*h),
            Held::Nothing => None,
        };
        if current != Some(r) {
            // Lets go of the state held before (unlocking a shared one) first.
            self.held = Held::Nothing;
            let shared = &self.matcher.shared[r];
            self.held = match shared.try_lock() {
                Ok(guard) => Held::Shared(r, guard),
                Err(TryLockError::WouldBlock) => Held::Own(r),
                // A thread panicked while searching with it: start afresh.
                Err(TryLockError::Poisoned(p)) => {
                    let mut guard = p.into_inner();
                    *guard = None;
                    shared.clear_poison();
                    Held::Shared(r, guard)
                }
            };
        }
        let slot = match &mut self.held {
            Held::Shared(_, guard) => &mut **guard,
            Held::Own(_) | Held::Nothing => &mut self.own[r],
        };
        slot.get_or_insert_with(|| RegexState::new(compiled))
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

    #[test]
    fn not_deferred_leaves_out_the_path_rules_a_file_name_decides() {
        let m = matcher(
            r#"
provider: Test
rules:
  - id: test.netrc
    name: netrc
    keywords: [machine]
    pattern: 'machine \S+ password (\S+)'
    path: '(?:^|/)\.netrc$'
  - id: test.pgpass
    name: pgpass
    pattern: '(?m)^[^:\s]+:\d+:\w+:\w+:(\w+)$'
    path: '(?:^|/)\.pgpass$'
  - id: test.anywhere
    name: anywhere
    keywords: [machine]
    pattern: 'machine (mk_[a-z0-9]{8})'
    path: 'secrets/'
"#,
        );
        let hay = b"db:5432:app:app:hunter2\nmachine mk_a1b2c3d4 password hunter3\n";
        let mut s = m.scratch();
        let ids = |found: Vec<Match>| -> Vec<String> {
            found
                .iter()
                .map(|x| m.rules().rules[x.rule].id.clone())
                .collect()
        };
        let all = ids(m.find_which(hay, &mut s, Which::All));
        assert_eq!(all, ["test.pgpass", "test.anywhere", "test.netrc"]);
        // A path pattern not tied to the end of the path is never deferred.
        let some = ids(m.find_which(hay, &mut s, Which::NotDeferred));
        assert_eq!(some, ["test.anywhere"]);
        assert_eq!(ids(m.find(hay, &mut s)), all);
    }

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
    fn generic_rules_leave_provider_prefixed_values_to_the_provider() {
        let m = matcher(
            r#"
provider: Test
rules:
  - id: acme.token
    name: Acme token
    keywords: [acme_tok_]
    pattern: '\b(acme_tok_[A-Za-z0-9]{30})\b'
    examples: ['acme_tok_Zq9vX2mK7pL4wR8nZq9vX2mK7pL4wR']
  - id: generic.assign
    name: Generic
    keywords: [token]
    pattern: 'token\s*=\s*"([^"]{8,})"'
    generic: true
    examples: ['token = "a1b2c3d4e5"']
"#,
        );
        let token = "acme_tok_Zq9vX2mK7pL4wR8nZq9vX2mK7pL4wR";
        let found = |v: &str| secrets(&m, format!("token = \"{v}\"").as_bytes());
        assert_eq!(found(token), vec![("acme.token".into(), token.into())]);
        // Not a token of the provider: the prefix in the wrong case, cut short, a suffix.
        assert!(found(&token.to_uppercase()).is_empty());
        assert!(found(&token[..20]).is_empty());
        assert!(found(&format!("{token}_extra")).is_empty());
        // The provider's prefix and length, characters its rule does not expect: reported.
        let odd = "acme_tok_zq9vx2mk7pl4wr8n=q9vx2mk7pl4wr";
        assert_eq!(found(odd), vec![("generic.assign".into(), odd.into())]);
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
    fn partner_only_identifiers_need_their_secret() {
        let m = matcher(&RULES.replace(
            "    pattern: '\\b(tid-[0-9]{4})\\b'",
            "    pattern: '\\b(tid-[0-9]{4})\\b'\n    partner_only: true",
        ));
        assert!(secrets(&m, b"id tid-4821\n").is_empty());
        let hay = b"id tid-4821\ntest_secret = Qw3rTy7uI9\n";
        let mut s = m.scratch();
        let got = m.find(hay, &mut s);
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(&hay[got[0].partner.clone().unwrap()], b"tid-4821");
    }

    #[test]
    fn an_inspecting_generic_rule_wins_over_other_generic_rules() {
        let yaml = |inspect: &str| {
            format!(
                r#"
provider: Test
rules:
  - id: generic.first
    name: First
    keywords: [token]
    pattern: 'token=(\S+)'
    generic: true
    examples: ["token=Qw3rTy7uI9xZ"]
  - id: jwt.second
    name: Second
    keywords: [token]
    pattern: 'token=(\S+)'
    generic: true
    skip_global_filters: true
    {inspect}
    examples: ["token=Qw3rTy7uI9xZ"]
"#
            )
        };
        let token = "eyJhbGciOiJIUzI1NiJ9.eyJzY29wZSI6ImFkbWluIn0.Q3vT9xLm2Rk8pZbW4nYc7JfH1sDq6GaE0uKoVi5tXwM";
        let hay = format!("token={token}");
        let got = secrets(&matcher(&yaml("inspect: jwt")), hay.as_bytes());
        assert_eq!(got, vec![("jwt.second".into(), token.into())]);
        let got = secrets(&matcher(&yaml("")), hay.as_bytes());
        assert_eq!(got, vec![("generic.first".into(), token.into())]);
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
        let hay = tokens(9_000);
        let mut s = m.scratch();
        let found = m.find(&hay, &mut s);
        assert_eq!(found.len(), 9_000);
        assert!(!s.capped());
        assert!(s.searched <= hay.len(), "{} > {}", s.searched, hay.len());
    }

    /// `n` random `tok_` tokens, space-separated.
    fn tokens(n: usize) -> Vec<u8> {
        let mut hay = Vec::new();
        let alphabet = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..n {
            hay.extend_from_slice(b"tok_");
            for _ in 0..12 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                hay.push(alphabet[(x % alphabet.len() as u64) as usize]);
            }
            hay.push(b' ');
        }
        hay
    }

    #[test]
    fn matches_stop_at_the_cap_and_say_so() {
        let m = matcher(RULES);
        let hay = tokens(MAX_MATCHES + 500);
        let mut s = m.scratch();
        let found = m.find(&hay, &mut s);
        assert_eq!(found.len(), MAX_MATCHES);
        assert!(s.capped());
        // The first ones, in order.
        assert_eq!(found[0].span, 0..16);
        assert!(found.windows(2).all(|w| w[0].span.start < w[1].span.start));
        assert!(m.find(b"tok_A1b2C3d4E5f6", &mut s).len() == 1 && !s.capped());
    }

    #[test]
    fn many_pairs_on_one_line_pair_as_before() {
        // Ids and secrets interleaved on one line, then on lines of their own.
        let m = matcher(RULES);
        let mut hay = Vec::new();
        for i in 0..400 {
            hay.extend_from_slice(format!("tid-{i:04} test_secret = {i:04}Qw3rTy ").as_bytes());
        }
        for i in 0..100 {
            hay.extend_from_slice(format!("\ntid-{i:04}\n\ntest_secret = Zx{i:04}Kp7q").as_bytes());
        }
        let mut s = m.scratch();
        let got = m.find(&hay, &mut s);
        let mut want = m.find_at_unresolved(&hay, &mut s);
        reference::drop_generic_overlaps(&m.rules().rules, &mut want);
        reference::pair_up(&m.rules().rules, &hay, &mut want);
        assert_eq!(got, want);
        assert_eq!(
            got.iter().filter(|g| g.partner.is_some()).count(),
            400 + 100
        );
    }

    #[test]
    fn generic_overlaps_resolve_as_before() {
        let m = matcher(RULES);
        let mut hay = Vec::new();
        for i in 0..500 {
            let v = if i % 3 == 0 {
                format!("tok_A1b2C3d4E{i:04}")
            } else {
                format!("Zq9vX2mK{i:04}")
            };
            hay.extend_from_slice(format!("token = \"{v}\" tok_Q1w2E3r4T5y6 ").as_bytes());
        }
        let mut s = m.scratch();
        let got = m.find(&hay, &mut s);
        let mut want = m.find_at_unresolved(&hay, &mut s);
        reference::drop_generic_overlaps(&m.rules().rules, &mut want);
        reference::pair_up(&m.rules().rules, &hay, &mut want);
        assert_eq!(got, want);
        assert!(got.iter().any(|g| m.rules().rules[g.rule].generic));
    }

    impl Matcher {
        /// Matches before overlaps and pairs are resolved.
        fn find_at_unresolved(&self, hay: &[u8], scratch: &mut Scratch) -> Vec<Match> {
            let mut out = Vec::new();
            self.search(hay, scratch, 0, &mut out);
            out.sort_by_key(|m| (m.span.start, m.rule));
            out
        }
    }

    /// The first, quadratic way of resolving overlaps and pairs: every match against every
    /// other.
    mod reference {
        use super::super::Match;
        use crate::rules::Rule;
        use std::ops::Range;

        pub fn drop_generic_overlaps(rules: &[Rule], out: &mut Vec<Match>) {
            let specific: Vec<Range<usize>> = out
                .iter()
                .filter(|m| !rules[m.rule].generic)
                .map(|m| m.span.clone())
                .collect();
            let overlap = |a: &Range<usize>, b: &Range<usize>| a.start < b.end && b.start < a.end;
            out.retain(|m| !rules[m.rule].generic || !specific.iter().any(|s| overlap(s, &m.span)));
            let mut kept: Vec<Range<usize>> = Vec::new();
            out.retain(|m| {
                if !rules[m.rule].generic {
                    return true;
                }
                if kept.iter().any(|s| overlap(s, &m.span)) {
                    return false;
                }
                kept.push(m.span.clone());
                true
            });
        }

        pub fn pair_up(rules: &[Rule], hay: &[u8], out: &mut Vec<Match>) {
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
}
