//! The keyword prefilter: every occurrence of every rule keyword, ASCII case-insensitively,
//! including overlapping ones.
//!
//! The automaton is Aho-Corasick's, built by the `aho-corasick` crate: first its contiguous
//! NFA, cheap to build; once enough input has been seen, its DFA, re-laid out here as a
//! dense table (`Table`) that the hot loop walks directly.
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

/// Input scanned with the NFA before the DFA is built. Building the DFA for a few hundred
/// keywords costs several milliseconds, as much as the NFA needs for about a megabyte, so a
/// pre-commit scan of a few staged files never pays for it and a tree scan pays once.
const DFA_AFTER_BYTES: u64 = 1 << 20;

/// The keyword automaton: a contiguous NFA used first; a DFA table, several times faster per
/// byte, built once enough input has been seen.
pub struct Keywords {
    patterns: Vec<Vec<u8>>,
    nfa: NFA,
    table: OnceLock<Option<Table>>,
    seen: AtomicU64,
    overlap: usize,
    batch: usize,
}

/// Per-thread buffers for `Keywords::find`.
#[derive(Clone, Default)]
pub struct KeywordScratch {
    lanes: [Vec<(u32, u32)>; 4],
}

impl Keywords {
    pub fn new<P: AsRef<[u8]>>(patterns: &[P]) -> Result<Keywords, aho_corasick::BuildError> {
        let nfa = aho_corasick::nfa::contiguous::Builder::new()
            .match_kind(MatchKind::Standard)
            .ascii_case_insensitive(true)
            // Without a prefilter, start states are not "special", so the hot loop only stops
            // on matches.
            .prefilter(false)
            .build(patterns)?;
        let overlap = nfa.max_pattern_len().saturating_sub(1);
        Ok(Keywords {
            patterns: patterns.iter().map(|p| p.as_ref().to_vec()).collect(),
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

    /// The DFA table, once enough input has gone through the NFA (or `None` if it cannot be
    /// built, in which case the NFA goes on serving).
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

    /// Calls `f(pattern, start, end)` for every keyword occurrence, in order of `end`.
    pub fn find(
        &self,
        hay: &[u8],
        scratch: &mut KeywordScratch,
        mut f: impl FnMut(usize, usize, usize),
    ) {
        match self.table(hay.len()) {
            Some(table) => self.find_batched(table, hay, scratch, &mut f),
            None => self.find_batched(&NfaSteps(&self.nfa), hay, scratch, &mut f),
        }
    }

    /// Walks `hay` batch by batch; each batch starts `overlap` bytes early, so that a keyword
    /// ending in it is found whole, and owns (reports) only the hits that end in it.
    fn find_batched<S: Steps>(
        &self,
        a: &S,
        hay: &[u8],
        scratch: &mut KeywordScratch,
        f: &mut impl FnMut(usize, usize, usize),
    ) {
        let mut own = 0usize;
        loop {
            let end = own.saturating_add(self.batch).min(hay.len());
            let from = own.saturating_sub(self.overlap);
            let mut shifted = |p, s, e| f(p, from + s, from + e);
            self.find_with(a, &hay[from..end], own - from, scratch, &mut shifted);
            if end == hay.len() {
                return;
            }
            own = end;
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
/// case; all bytes in no keyword) share a column. Match states are numbered last, so "is
/// this a match" is one comparison.
struct Table {
    classes: [u8; 256],
    trans: Box<[u32]>,
    start: u32,
    /// Ids at or above this are match states.
    first_match: u32,
    stride_log2: u32,
    /// Patterns of match state `(id - first_match) >> stride_log2`:
    /// `match_pats[match_at[i]..match_at[i + 1]]`.
    match_at: Vec<u32>,
    match_pats: Vec<u32>,
}

impl Table {
    fn new(patterns: &[Vec<u8>]) -> Option<Table> {
        let dfa = aho_corasick::dfa::Builder::new()
            .match_kind(MatchKind::Standard)
            .ascii_case_insensitive(true)
            .prefilter(false)
            .build(patterns)
            .ok()?;
        // Columns: one per distinct (case-folded) keyword byte, plus column 0 for the rest.
        let mut classes = [0u8; 256];
        let mut reps = vec![0u8];
        for &b in patterns.iter().flatten() {
            let b = b.to_ascii_lowercase();
            if classes[b as usize] == 0 {
                if reps.len() > 255 {
                    return None;
                }
                let c = reps.len() as u8;
                classes[b as usize] = c;
                classes[b.to_ascii_uppercase() as usize] = c;
                reps.push(b);
            }
        }
        // Column 0's representative: a byte in no keyword (there are keywords over all 256
        // bytes only in theory; then there is no column 0 to fill).
        if let Some(other) = (0..=255u8).find(|&b| classes[b as usize] == 0) {
            reps[0] = other;
        }
        let stride_log2 = reps.len().next_power_of_two().trailing_zeros();
        let stride = 1usize << stride_log2;

        // Every state reachable from the start, in breadth-first order.
        let start = dfa.start_state(Anchored::No).ok()?;
        let mut order = Vec::new();
        // Position in `order` of each state id seen (the crate's ids are small integers).
        let mut index: Vec<u32> = Vec::new();
        let mut place = |sid: aho_corasick::automaton::StateID, order: &mut Vec<_>| {
            let i = sid.as_usize();
            if i >= index.len() {
                index.resize(i + 1, u32::MAX);
            }
            if index[i] == u32::MAX {
                index[i] = order.len() as u32;
                order.push(sid);
            }
        };
        place(start, &mut order);
        let mut i = 0;
        while i < order.len() {
            let sid = order[i];
            for &b in &reps {
                place(dfa.next_state(Anchored::No, sid, b), &mut order);
            }
            i += 1;
        }
        // Renumber: non-match states first, match states last.
        let is_match = |sid| dfa.is_special(sid) && dfa.is_match(sid);
        let mut number = vec![0u32; order.len()];
        let mut n = 0u32;
        let mut first_match = 0u64;
        for pass in [false, true] {
            if pass {
                first_match = u64::from(n);
            }
            for (i, &sid) in order.iter().enumerate() {
                if is_match(sid) == pass {
                    number[i] = n;
                    n += 1;
                }
            }
        }
        if (order.len() as u64) << stride_log2 > u64::from(u32::MAX) {
            return None;
        }
        let id = |sid: aho_corasick::automaton::StateID| {
            (number[index[sid.as_usize()] as usize] as usize) << stride_log2
        };
        let mut trans = vec![0u32; order.len() << stride_log2].into_boxed_slice();
        let mut match_at = vec![0u32];
        let mut match_pats = Vec::new();
        let mut by_number: Vec<usize> = vec![0; order.len()];
        for (i, &num) in number.iter().enumerate() {
            by_number[num as usize] = i;
        }
        for &i in &by_number {
            let sid = order[i];
            let row = id(sid);
            for (c, &b) in reps.iter().enumerate() {
                trans[row + c] = id(dfa.next_state(Anchored::No, sid, b)) as u32;
            }
            if is_match(sid) {
                for k in 0..dfa.match_len(sid) {
                    match_pats.push(dfa.match_pattern(sid, k).as_u32());
                }
                match_at.push(match_pats.len() as u32);
            }
        }
        // Unused columns of a row (past the last class) are never read: `classes` maps no
        // byte to them.
        debug_assert!(stride >= reps.len());
        Some(Table {
            classes,
            trans,
            start: id(start) as u32,
            first_match: (first_match << stride_log2) as u32,
            stride_log2,
            match_at,
            match_pats,
        })
    }
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
        // sets to `row << stride_log2` for a row < rows, and a class is < stride, so `at` is
        // below `rows << stride_log2 == trans.len()`.
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
        let i = ((id - self.first_match) >> self.stride_log2) as usize;
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
        let ac = aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(kws)
            .unwrap();
        let mut v: Vec<_> = ac
            .find_overlapping_iter(hay)
            .map(|m| (m.pattern().as_usize(), m.start(), m.end()))
            .collect();
        v.sort_by_key(|&(p, s, e)| (e, p, s));
        v
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
        let nfa = Keywords::new(kws).unwrap();
        let mut dfa = Keywords::new(kws).unwrap();
        dfa.prime();
        assert!(dfa.table.get().is_some_and(Option::is_some));
        let (a, b) = (run(&nfa), run(&dfa));
        assert!(
            nfa.table.get().is_none(),
            "small inputs never build the DFA"
        );
        assert_eq!(a, b);
        // Batches of any size (one lane or four) find the same.
        for batch in [5, MIN_LANED + 3] {
            dfa.batch = batch;
            assert_eq!(run(&dfa), a, "batch {batch}");
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
