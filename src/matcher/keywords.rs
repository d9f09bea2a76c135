//! The keyword prefilter: every occurrence of every rule keyword, ASCII case-insensitively,
//! including overlapping ones.
//!
//! Small inputs are searched without an automaton (`Small`, which costs nothing to set up);
//! once enough input has been seen, an Aho-Corasick DFA is built here as a dense table
//! (`Table`) that the hot loop walks directly.
//!
//! A DFA search is bound by the latency of one table lookup per byte, because each step
//! depends on the state the previous step produced. So inputs are cut into four lanes that
//! are walked in lock-step: the four lookups of a step are independent and the CPU overlaps
//! them. Each lane starts `longest keyword - 1` bytes before the part it owns, so a keyword
//! that straddles a lane boundary is found by exactly one lane.
//!
//! The lanes buffer their hits, to hand them on in order. So that the buffers stay small
//! whatever the input (a run of `AAAA…` can hit on every byte), the input is walked in batches
//! of `BATCH` bytes, each handed on before the next begins; a batch starts, like a lane,
//! `longest keyword - 1` bytes early.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use aho_corasick::automaton::Automaton;
use aho_corasick::nfa::contiguous::NFA;
use aho_corasick::{Anchored, MatchKind};

/// Below this size one lane is used: setting up four costs more than it saves.
const MIN_LANED: usize = 2 * 1024;

/// Input walked per batch: the hits buffered at any time are those of one batch.
pub const BATCH: usize = 64 * 1024;

/// Input scanned without an automaton (`Small`) before the DFA table is built. The table
/// for the built-in keywords takes 2-3 ms to build and then walks about a gigabyte a second;
/// `Small` costs nothing to set up and walks about 80 MB a second. So a pre-commit scan of a
/// few staged files never builds the table, and a tree scan builds it early.
const DFA_AFTER_BYTES: u64 = 64 << 10;

/// The keyword matcher: `Small` first, then a DFA table (`Table`), built once enough input has
/// been seen. The `aho-corasick` crate's NFA stands in for the table when keywords have a
/// shape the table cannot hold (more than 255 distinct bytes, an empty keyword).
pub struct Keywords {
    patterns: Vec<Vec<u8>>,
    small: Small,
    /// Built up front when the table cannot be, so that its errors show at once.
    nfa: Option<NFA>,
    table: OnceLock<Option<Table>>,
    seen: AtomicU64,
    overlap: usize,
    batch: usize,
}

/// Per-thread buffers for `Keywords::find`.
#[derive(Clone, Default)]
pub struct KeywordScratch {
    lanes: [Vec<(u32, u32)>; 4],
    /// `Small`'s hits of one batch: (end, start, pattern).
    small: Vec<(u32, u32, u32)>,
}

impl Keywords {
    pub fn new<P: AsRef<[u8]>>(patterns: &[P]) -> Result<Keywords, aho_corasick::BuildError> {
        let patterns: Vec<Vec<u8>> = patterns.iter().map(|p| p.as_ref().to_vec()).collect();
        let nfa = match Table::fits(&patterns) {
            true => None,
            false => Some(
                aho_corasick::nfa::contiguous::Builder::new()
                    .match_kind(MatchKind::Standard)
                    .ascii_case_insensitive(true)
                    // Without a prefilter, start states are not "special", so the hot loop
                    // only stops on matches.
                    .prefilter(false)
                    .build(&patterns)?,
            ),
        };
        let overlap = patterns
            .iter()
            .map(Vec::len)
            .max()
            .unwrap_or(0)
            .saturating_sub(1);
        Ok(Keywords {
            small: Small::new(&patterns),
            patterns,
            nfa,
            table: OnceLock::new(),
            seen: AtomicU64::new(0),
            overlap,
            batch: BATCH,
        })
    }

    /// Builds the DFA now, for callers that know a large input is coming.
    pub fn prime(&self) {
        self.seen.fetch_add(DFA_AFTER_BYTES, Ordering::Relaxed);
        let _ = self.table(0);
    }

    /// The DFA table, once enough input has been seen (`None` before, or if it cannot be
    /// built, in which case the NFA serves).
    fn table(&self, len: usize) -> Option<&Table> {
        if let Some(t) = self.table.get() {
            return t.as_ref();
        }
        let seen = self.seen.fetch_add(len as u64, Ordering::Relaxed) + len as u64;
        if seen < DFA_AFTER_BYTES {
            return None;
        }
        self.table
            .get_or_init(|| Table::new(&self.patterns))
            .as_ref()
    }

    /// Calls `f(pattern, start, end)` for every keyword occurrence, in order of `end` (and at
    /// one end, longest first: the order of the `aho-corasick` crate).
    pub fn find(
        &self,
        hay: &[u8],
        scratch: &mut KeywordScratch,
        mut f: impl FnMut(usize, usize, usize),
    ) {
        match (self.table(hay.len()), &self.nfa) {
            (Some(table), _) => self.find_batched(table, hay, scratch, &mut f),
            (None, Some(nfa)) => self.find_batched(&NfaSteps(nfa), hay, scratch, &mut f),
            (None, None) => self.find_small(hay, scratch, &mut f),
        }
    }

    /// `find` with `Small`, batch by batch as `find_batched` does.
    fn find_small(
        &self,
        hay: &[u8],
        scratch: &mut KeywordScratch,
        f: &mut impl FnMut(usize, usize, usize),
    ) {
        for (from, own, end) in self.batches(hay.len()) {
            let hits = &mut scratch.small;
            self.small.find(&hay[from..end], own - from, hits);
            hits.sort_unstable();
            for &(e, s, p) in hits.iter() {
                f(p as usize, from + s as usize, from + e as usize);
            }
            hits.clear();
        }
    }

    /// The batches of an input of `len` bytes, as `(from, own, end)`: a batch owns (reports)
    /// the hits that end in `own..end`, and starts `overlap` bytes early, at `from`, so that a
    /// keyword ending in it is found whole. An empty input is one empty batch.
    fn batches(&self, len: usize) -> impl Iterator<Item = (usize, usize, usize)> + '_ {
        let mut own = Some(0usize);
        std::iter::from_fn(move || {
            let start = own?;
            let end = start.saturating_add(self.batch).min(len);
            own = (end < len).then_some(end);
            Some((start.saturating_sub(self.overlap), start, end))
        })
    }

    /// Walks `hay` batch by batch (see `batches`).
    fn find_batched<S: Steps>(
        &self,
        a: &S,
        hay: &[u8],
        scratch: &mut KeywordScratch,
        f: &mut impl FnMut(usize, usize, usize),
    ) {
        for (from, own, end) in self.batches(hay.len()) {
            let mut shifted = |p, s, e| f(p, from + s, from + e);
            self.find_with(a, &hay[from..end], own - from, scratch, &mut shifted);
        }
    }

    /// Reports the keywords ending in `hay[own..]`; the `own` bytes before are context.
    fn find_with<S: Steps>(
        &self,
        a: &S,
        hay: &[u8],
        own: usize,
        scratch: &mut KeywordScratch,
        f: &mut impl FnMut(usize, usize, usize),
    ) {
        let len = |p: usize| self.patterns[p].len();
        if hay.len() - own < MIN_LANED || self.overlap >= MIN_LANED / 4 {
            let mut sid = a.start();
            for &b in &hay[..own] {
                sid = a.next(sid, b);
            }
            for (i, &b) in hay.iter().enumerate().skip(own) {
                sid = a.next(sid, b);
                if a.is_match(sid) {
                    a.patterns(sid, |p| f(p, i + 1 - len(p), i + 1));
                }
            }
            return;
        }
        walk4(a, self.overlap, hay, own, scratch);
        for lane in &mut scratch.lanes {
            for &(p, end) in lane.iter() {
                let (p, end) = (p as usize, end as usize);
                f(p, end - len(p), end);
            }
            lane.clear();
        }
    }
}

/// Keyword occurrences found without an automaton, for small inputs: the keywords indexed by
/// (a hash of) their first two case-folded bytes, so that at each position of the input only
/// the few that may start with the two bytes there are compared. Building it costs a
/// counting sort; building the NFA that served here before cost a pre-commit scan a sixth of
/// its time.
struct Small {
    /// The keywords, ASCII-lower-cased.
    folded: Vec<Vec<u8>>,
    /// `ids[at[k]..at[k + 1]]`: the keywords of two bytes or more whose first two folded
    /// bytes hash to `k` (`Small::key`), in order.
    at: Box<[u32]>,
    /// Each keyword's first two folded bytes and its index.
    ids: Vec<([u8; 2], u32)>,
    /// Keywords of one byte, by their folded byte.
    single: Vec<(u8, u32)>,
}

impl Small {
    const BUCKETS: usize = 1 << 12;

    /// The bucket of keywords whose folded first two bytes are `b0`, `b1`.
    #[inline(always)]
    fn key(b0: u8, b1: u8) -> usize {
        ((usize::from(b0) << 4) ^ usize::from(b1)) & (Self::BUCKETS - 1)
    }

    fn new(patterns: &[Vec<u8>]) -> Small {
        let folded: Vec<Vec<u8>> = patterns.iter().map(|p| p.to_ascii_lowercase()).collect();
        let key = |p: &[u8]| Self::key(p[0], p[1]);
        // Counting sort: `at[k + 1]` counts bucket k, then ends it, then (filled from the
        // back) starts it.
        let mut at = vec![0u32; Self::BUCKETS + 1].into_boxed_slice();
        for p in folded.iter().filter(|p| p.len() >= 2) {
            at[key(p) + 1] += 1;
        }
        for k in 1..at.len() {
            at[k] += at[k - 1];
        }
        let mut ids = vec![([0u8; 2], 0u32); at[Self::BUCKETS] as usize];
        for (i, p) in folded
            .iter()
            .enumerate()
            .rev()
            .filter(|(_, p)| p.len() >= 2)
        {
            let end = &mut at[key(p) + 1];
            *end -= 1;
            ids[*end as usize] = ([p[0], p[1]], i as u32);
        }
        // Now `at[k + 1]` starts bucket k; shift down so that `at[k]` does.
        at.copy_within(1.., 0);
        at[Self::BUCKETS] = ids.len() as u32;
        let single = folded
            .iter()
            .enumerate()
            .filter(|(_, p)| p.len() == 1)
            .map(|(i, p)| (p[0], i as u32))
            .collect();
        Small {
            folded,
            at,
            ids,
            single,
        }
    }

    /// Adds to `hits` (end, start, pattern) for every keyword occurrence in `hay` that ends
    /// past `own` (the bytes before are context), in no particular order.
    fn find(&self, hay: &[u8], own: usize, hits: &mut Vec<(u32, u32, u32)>) {
        for i in 0..hay.len() {
            let b0 = hay[i].to_ascii_lowercase();
            for &(b, p) in &self.single {
                if b == b0 && i + 1 > own {
                    hits.push((i as u32 + 1, i as u32, p));
                }
            }
            let Some(&b1) = hay.get(i + 1) else {
                continue;
            };
            let b1 = b1.to_ascii_lowercase();
            let k = Self::key(b0, b1);
            for &(first, p) in &self.ids[self.at[k] as usize..self.at[k + 1] as usize] {
                // The bucket may hold keywords that start otherwise.
                if first != [b0, b1] {
                    continue;
                }
                let pat = &self.folded[p as usize];
                let end = i + pat.len();
                if end > own && end <= hay.len() && hay[i + 2..end].eq_ignore_ascii_case(&pat[2..])
                {
                    hits.push((end as u32, i as u32, p));
                }
            }
        }
    }
}

/// What a lane walk needs from an automaton.
trait Steps {
    type Id: Copy;
    fn start(&self) -> Self::Id;
    fn next(&self, id: Self::Id, byte: u8) -> Self::Id;
    fn is_match(&self, id: Self::Id) -> bool;
    /// `true` if any of the four is a match state (one test per step of `walk4`).
    fn any_match(&self, ids: [Self::Id; 4]) -> bool;
    fn patterns(&self, id: Self::Id, f: impl FnMut(usize));
}

/// The NFA behind `Steps`.
struct NfaSteps<'a>(&'a NFA);

impl Steps for NfaSteps<'_> {
    type Id = aho_corasick::automaton::StateID;
    fn start(&self) -> Self::Id {
        // An unanchored start state exists for every automaton built with the default
        // `StartKind::Unanchored`.
        self.0
            .start_state(Anchored::No)
            .expect("unanchored start state")
    }
    #[inline(always)]
    fn next(&self, id: Self::Id, byte: u8) -> Self::Id {
        self.0.next_state(Anchored::No, id, byte)
    }
    #[inline(always)]
    fn is_match(&self, id: Self::Id) -> bool {
        self.0.is_special(id) && self.0.is_match(id)
    }
    #[inline(always)]
    fn any_match(&self, ids: [Self::Id; 4]) -> bool {
        ids.iter().any(|&id| self.is_match(id))
    }
    fn patterns(&self, id: Self::Id, mut f: impl FnMut(usize)) {
        for k in 0..self.0.match_len(id) {
            f(self.0.match_pattern(id, k).as_usize());
        }
    }
}

/// The Aho-Corasick DFA as a dense table of `u32` state ids, premultiplied by the row width
/// so that a step is one addition and one load. Bytes that act alike (a letter and its other
/// case; all bytes in no keyword) share a column, and a row has exactly one column per class:
/// rounding rows up to a power of two (so that a state's index is a shift away) doubled the
/// table once the keywords used more than 64 distinct bytes, and the walk, which is bound by
/// the latency of its loads, slowed with it. Match states are numbered last, so "is this a
/// match" is one comparison.
///
/// Built here rather than by the `aho-corasick` crate's DFA builder, which builds a full
/// 256-column automaton (and its NFA) first: a trie over the classes, then in breadth-first
/// order each state's failure link and missing transitions from its failure state's finished
/// row. A state's matches are its own keywords, then its failure state's: the order the
/// crate reports them in.
struct Table {
    classes: [u8; 256],
    trans: Box<[u32]>,
    start: u32,
    /// Ids at or above this are match states.
    first_match: u32,
    /// Columns per row.
    stride: u32,
    /// Patterns of match state `(id - first_match) / stride`:
    /// `match_pats[match_at[i]..match_at[i + 1]]`.
    match_at: Vec<u32>,
    match_pats: Vec<u32>,
}

impl Table {
    /// Whether `new` can build the table for these keywords.
    fn fits(patterns: &[Vec<u8>]) -> bool {
        let mut bytes = [false; 256];
        for &b in patterns.iter().flatten() {
            bytes[b.to_ascii_lowercase() as usize] = true;
        }
        let classes = 1 + bytes.iter().filter(|&&b| b).count();
        let states = 1 + patterns.iter().map(Vec::len).sum::<usize>();
        !patterns.iter().any(Vec::is_empty)
            && classes <= 256
            && states
                .checked_mul(classes)
                .is_some_and(|n| n <= u32::MAX as usize)
    }

    fn new(patterns: &[Vec<u8>]) -> Option<Table> {
        // An empty keyword would match before the first byte, which the walk never reports.
        if patterns.iter().any(|p| p.is_empty()) {
            return None;
        }
        let (classes, stride) = byte_classes(patterns)?;
        let (mut trans, own) = trie(patterns, &classes, stride)?;
        let (matches, order) = complete(&mut trans, own, stride);
        let states = matches.len();

        // Renumber: the root, then the other states breadth-first; match states last.
        let mut number = vec![0u32; states];
        let mut n = 0u32;
        let bfs = std::iter::once(0u32).chain(order.iter().copied());
        for s in bfs.clone().filter(|&s| matches[s as usize].is_empty()) {
            number[s as usize] = n;
            n += 1;
        }
        let first_match = n;
        let mut match_at = vec![0u32];
        let mut match_pats = Vec::new();
        for s in bfs.filter(|&s| !matches[s as usize].is_empty()) {
            number[s as usize] = n;
            n += 1;
            match_pats.extend_from_slice(&matches[s as usize]);
            match_at.push(match_pats.len() as u32);
        }
        // Every id must fit: the largest is (states - 1) * stride.
        u32::try_from(states.checked_mul(stride)?).ok()?;
        let stride32 = stride as u32;
        let id = |s: u32| number[s as usize] * stride32;
        let mut out = vec![0u32; states * stride].into_boxed_slice();
        for (s, row) in trans.chunks_exact(stride).enumerate() {
            let at = number[s] as usize * stride;
            for (o, &t) in out[at..at + stride].iter_mut().zip(row) {
                *o = id(t);
            }
        }
        Some(Table {
            classes,
            trans: out,
            start: id(0),
            first_match: first_match * stride32,
            stride: stride32,
            match_at,
            match_pats,
        })
    }
}

/// The table's columns: one per distinct (case-folded) keyword byte, plus column 0 for the
/// rest; with their number. `None` past 256 columns.
fn byte_classes(patterns: &[Vec<u8>]) -> Option<([u8; 256], usize)> {
    let mut classes = [0u8; 256];
    let mut n_classes = 1usize;
    for &b in patterns.iter().flatten() {
        let b = b.to_ascii_lowercase();
        if classes[b as usize] == 0 {
            if n_classes > 255 {
                return None;
            }
            let c = n_classes as u8;
            classes[b as usize] = c;
            classes[b.to_ascii_uppercase() as usize] = c;
            n_classes += 1;
        }
    }
    Some((classes, n_classes))
}

/// The keywords' trie: row `s` of the transitions holds state `s`'s children, 0 (the root,
/// which is nobody's child) marking a missing one; and each state's own keywords.
fn trie(
    patterns: &[Vec<u8>],
    classes: &[u8; 256],
    stride: usize,
) -> Option<(Vec<u32>, Vec<Vec<u32>>)> {
    let most = 1 + patterns.iter().map(Vec::len).sum::<usize>();
    let mut trans: Vec<u32> = Vec::with_capacity(most * stride);
    trans.resize(stride, 0);
    let mut own: Vec<Vec<u32>> = Vec::with_capacity(most);
    own.push(Vec::new());
    for (p, pat) in patterns.iter().enumerate() {
        let mut s = 0usize;
        for &b in pat {
            let at = s * stride + classes[b as usize] as usize;
            s = match trans[at] {
                0 => {
                    let t = own.len();
                    own.push(Vec::new());
                    trans.resize(trans.len() + stride, 0);
                    trans[at] = u32::try_from(t).ok()?;
                    t
                }
                t => t as usize,
            };
        }
        own[s].push(p as u32);
    }
    Some((trans, own))
}

/// Turns the trie into the DFA in place. Breadth-first, each state's failure link and missing
/// transitions come from its failure state, which is shallower and so already complete; so do
/// its matches. Returns each state's matches and the states in breadth-first order (the root
/// left out).
fn complete(trans: &mut [u32], mut own: Vec<Vec<u32>>, stride: usize) -> (Vec<Vec<u32>>, Vec<u32>) {
    let states = own.len();
    let mut fail = vec![0u32; states];
    let mut matches: Vec<Vec<u32>> = vec![Vec::new(); states];
    let mut order: Vec<u32> = Vec::with_capacity(states);
    // The root's children fail to the root; its missing transitions stay at the root.
    order.extend(trans[..stride].iter().filter(|&&t| t != 0));
    let mut i = 0;
    let mut children: Vec<(usize, u32)> = Vec::new();
    while i < order.len() {
        let s = order[i] as usize;
        i += 1;
        let f = fail[s] as usize;
        let mut m = std::mem::take(&mut own[s]);
        m.extend_from_slice(&matches[f]);
        matches[s] = m;
        // The row is the failure state's, but for the trie's own transitions (whose
        // targets fail to where the failure state goes).
        let row = s * stride..(s + 1) * stride;
        children.clear();
        children.extend(
            trans[row.clone()]
                .iter()
                .enumerate()
                .filter(|&(_, &t)| t != 0)
                .map(|(c, &t)| (c, t)),
        );
        trans.copy_within(f * stride..(f + 1) * stride, row.start);
        for &(c, t) in &children {
            fail[t as usize] = trans[row.start + c];
            trans[row.start + c] = t;
            order.push(t);
        }
    }
    (matches, order)
}

impl Steps for Table {
    type Id = u32;
    fn start(&self) -> u32 {
        self.start
    }
    #[inline(always)]
    fn next(&self, id: u32, byte: u8) -> u32 {
        let at = id as usize + self.classes[byte as usize] as usize;
        debug_assert!(at < self.trans.len());
        // SAFETY: `id` is a row start taken from `start` or `trans`, all of which `Table::new`
        // sets to `row * stride` for a row < rows, and a class is < stride, so `at` is below
        // `rows * stride == trans.len()`.
        unsafe { *self.trans.get_unchecked(at) }
    }
    #[inline(always)]
    fn is_match(&self, id: u32) -> bool {
        id >= self.first_match
    }
    #[inline(always)]
    fn any_match(&self, ids: [u32; 4]) -> bool {
        ids[0].max(ids[1]).max(ids[2].max(ids[3])) >= self.first_match
    }
    fn patterns(&self, id: u32, mut f: impl FnMut(usize)) {
        let i = ((id - self.first_match) / self.stride) as usize;
        for &p in &self.match_pats[self.match_at[i] as usize..self.match_at[i + 1] as usize] {
            f(p as usize);
        }
    }
}

/// Four lanes in lock-step over `hay[own..]` (the bytes before are context); matches go to
/// `scratch.lanes[i]` in order of their end. Needs `hay.len() - own >= MIN_LANED` and
/// `overlap < MIN_LANED / 4`, so that every lane is longer than the overlap.
fn walk4<S: Steps>(d: &S, overlap: usize, hay: &[u8], own: usize, scratch: &mut KeywordScratch) {
    let n = hay.len();
    let chunk = (n - own).div_ceil(4);
    // Lane i owns [own + i*chunk, own + (i+1)*chunk) and starts `overlap` bytes earlier.
    let owned = [own, own + chunk, own + 2 * chunk, own + 3 * chunk];
    let from = owned.map(|o| o.saturating_sub(overlap));
    let to = [owned[1], owned[2], owned[3], n];
    // Steps all four lanes can take; lane 0 may be up to `overlap` bytes shorter than lanes 1
    // and 2, lane 3 may be shorter still. The rest is finished lane by lane.
    let steps = (0..4).map(|i| to[i] - from[i]).min().unwrap_or(0);
    let [l0, l1, l2, l3] = &mut scratch.lanes;
    let mut lanes = [l0, l1, l2, l3];
    let h = [
        &hay[from[0]..from[0] + steps],
        &hay[from[1]..from[1] + steps],
        &hay[from[2]..from[2] + steps],
        &hay[from[3]..from[3] + steps],
    ];
    let mut ids = [d.start(); 4];
    let mut k = 0;
    while k < steps {
        if lockstep(d, &h, &mut k, &mut ids) {
            record4(d, &mut lanes, ids, from.map(|f| f + k), owned);
        }
    }
    for (i, lane) in lanes.iter_mut().enumerate() {
        let mut id = ids[i];
        let rest = from[i] + steps;
        for (k, &b) in hay[rest..to[i]].iter().enumerate() {
            id = d.next(id, b);
            record(d, lane, id, rest + k + 1, owned[i]);
        }
    }
}

/// Steps the four lanes over `h[i][*k..]` (all of one length) until one of them is in a match
/// state (`true`) or the end. Out of line, so that the hot loop has the registers to itself:
/// it keeps only the four states, the position and the inputs live, and ran 12-15% slower
/// when the loop around it (batches, lane bounds) shared them.
#[inline(never)]
fn lockstep<S: Steps>(d: &S, h: &[&[u8]; 4], k: &mut usize, ids: &mut [S::Id; 4]) -> bool {
    let [h0, h1, h2, h3] = *h;
    let steps = h0.len().min(h1.len()).min(h2.len()).min(h3.len());
    let (mut s0, mut s1, mut s2, mut s3) = (ids[0], ids[1], ids[2], ids[3]);
    let mut i = *k;
    let mut hit = false;
    while i < steps {
        s0 = d.next(s0, h0[i]);
        s1 = d.next(s1, h1[i]);
        s2 = d.next(s2, h2[i]);
        s3 = d.next(s3, h3[i]);
        i += 1;
        if d.any_match([s0, s1, s2, s3]) {
            hit = true;
            break;
        }
    }
    *k = i;
    *ids = [s0, s1, s2, s3];
    hit
}

/// Records the matches of the four lanes' states; `ends[i]` is where lane i's last byte
/// ended.
#[cold]
#[inline(never)]
fn record4<S: Steps>(
    d: &S,
    lanes: &mut [&mut Vec<(u32, u32)>; 4],
    ids: [S::Id; 4],
    ends: [usize; 4],
    owned: [usize; 4],
) {
    for i in 0..4 {
        record(d, lanes[i], ids[i], ends[i], owned[i]);
    }
}

/// Records the matches of state `id` whose end is past `own` (the part of the input the lane
/// owns).
#[inline(always)]
fn record<S: Steps>(d: &S, lane: &mut Vec<(u32, u32)>, id: S::Id, end: usize, own: usize) {
    if end > own && d.is_match(id) {
        d.patterns(id, |p| lane.push((p as u32, end as u32)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn reference(kws: &[&str], hay: &[u8]) -> Vec<(usize, usize, usize)> {
        let mut v = reference_in_order(kws, hay);
        v.sort_by_key(|&(p, s, e)| (e, p, s));
        v
    }

    /// Every keyword occurrence in the order `aho-corasick` reports them: by end, and at one
    /// end longest first.
    fn reference_in_order(kws: &[&str], hay: &[u8]) -> Vec<(usize, usize, usize)> {
        let ac = aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(kws)
            .unwrap();
        ac.find_overlapping_iter(hay)
            .map(|m| (m.pattern().as_usize(), m.start(), m.end()))
            .collect()
    }

    /// Runs the NFA and the DFA and checks that they agree.
    fn ours(kws: &[&str], hay: &[u8]) -> Vec<(usize, usize, usize)> {
        let run = |k: &Keywords| {
            let mut s = KeywordScratch::default();
            let mut v = Vec::new();
            k.find(hay, &mut s, |p, st, e| v.push((p, st, e)));
            let sorted = v.windows(2).all(|w| w[0].2 <= w[1].2);
            assert!(sorted, "not in order of end");
            v.sort_by_key(|&(p, s, e)| (e, p, s));
            v
        };
        let mut small = Keywords::new(kws).unwrap();
        let mut dfa = Keywords::new(kws).unwrap();
        dfa.prime();
        assert!(dfa.table.get().is_some_and(Option::is_some));
        // Unsorted, the hits come in exactly the crate's order, with and without the table.
        for k in [&small, &dfa] {
            let mut in_order = Vec::new();
            k.find(hay, &mut KeywordScratch::default(), |p, st, e| {
                in_order.push((p, st, e))
            });
            assert_eq!(in_order, reference_in_order(kws, hay));
        }
        let (a, b) = (run(&small), run(&dfa));
        assert!(
            small.table.get().is_none(),
            "small inputs never build the DFA"
        );
        assert_eq!(a, b);
        // Batches of any size (one lane or four) find the same.
        for batch in [5, MIN_LANED + 3] {
            dfa.batch = batch;
            small.batch = batch;
            assert_eq!(run(&dfa), a, "batch {batch}");
            assert_eq!(run(&small), a, "batch {batch}, without the table");
        }
        a
    }

    const KWS: &[&str] = &["sk-", "sk-proj-", "token", "ken", "api_key", "key="];

    #[test]
    fn lanes_agree_with_the_reference_at_every_boundary() {
        // Keywords planted across every lane boundary of inputs of several sizes.
        for n in [MIN_LANED, MIN_LANED + 1, MIN_LANED + 7, 3 * MIN_LANED + 5] {
            let mut hay = vec![b'.'; n];
            let chunk = n.div_ceil(4);
            for b in [chunk, 2 * chunk, 3 * chunk] {
                for (off, kw) in [(3usize, "sk-proj-"), (1, "TOKEN"), (6, "api_key=")] {
                    let at = b - off;
                    hay[at..at + kw.len()].copy_from_slice(kw.as_bytes());
                }
            }
            hay[n - 4..].copy_from_slice(b"key=");
            assert_eq!(ours(KWS, &hay), reference(KWS, &hay), "n = {n}");
        }
    }

    #[test]
    fn buffered_hits_are_bounded_by_the_batch() {
        // Every byte of a run of `a` ends two keywords: millions of hits, a few batches' worth
        // buffered at a time.
        let kws = ["aaa", "aaaaaaaaaaaaaaaaaaaa"];
        let k = Keywords::new(&kws).unwrap();
        k.prime();
        let hay = vec![b'a'; 4 << 20];
        let mut s = KeywordScratch::default();
        let mut hits = 0usize;
        let mut last_end = 0;
        k.find(&hay, &mut s, |_, _, e| {
            assert!(e >= last_end);
            last_end = e;
            hits += 1;
        });
        assert_eq!(hits, (hay.len() - 2) + (hay.len() - 19));
        let buffered: usize = s.lanes.iter().map(Vec::capacity).sum();
        assert!(buffered <= 4 * BATCH, "{buffered} hits buffered");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn same_matches_as_aho_corasick(
            parts in proptest::collection::vec(
                prop_oneof![Just("sk-proj-"), Just("Token"), Just("key="), Just("api_"), Just("xx"), Just("k")],
                0..6000,
            )
        ) {
            let hay = parts.concat().into_bytes();
            prop_assert_eq!(ours(KWS, &hay), reference(KWS, &hay));
        }

        #[test]
        fn any_keywords_any_bytes(
            kws in proptest::collection::vec(
                proptest::collection::vec(prop_oneof![Just(b'a'), Just(b'B'), Just(b'-'), Just(0xffu8), Just(b'0')], 1..6),
                1..12,
            ),
            hay in proptest::collection::vec(
                prop_oneof![Just(b'a'), Just(b'A'), Just(b'b'), Just(b'-'), Just(0xefu8), Just(0xbf), Just(0xbd), Just(b'0'), Just(b'z')],
                0..9000,
            ),
        ) {
            // 0xff becomes U+FFFD (EF BF BD): keywords with non-ASCII bytes.
            let kws: Vec<String> = kws.into_iter().map(|k| String::from_utf8_lossy(&k).into_owned()).collect();
            let kws: Vec<&str> = kws.iter().map(String::as_str).collect();
            prop_assert_eq!(ours(&kws, &hay), reference(&kws, &hay));
        }
    }
}
