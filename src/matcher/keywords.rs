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

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use aho_corasick::automaton::Automaton;
use aho_corasick::nfa::contiguous::NFA;
use aho_corasick::{Anchored, MatchKind};

/// Below this size one lane is used: setting up four costs more than it saves.
const MIN_LANED: usize = 2 * 1024;

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
        f: impl FnMut(usize, usize, usize),
    ) {
        match self.table(hay.len()) {
            Some(table) => self.find_with(table, hay, scratch, f),
            None => self.find_with(&NfaSteps(&self.nfa), hay, scratch, f),
        }
    }

    fn find_with<S: Steps>(
        &self,
        a: &S,
        hay: &[u8],
        scratch: &mut KeywordScratch,
        mut f: impl FnMut(usize, usize, usize),
    ) {
        let len = |p: usize| self.patterns[p].len();
        if hay.len() < MIN_LANED || hay.len() > u32::MAX as usize || self.overlap >= MIN_LANED / 4 {
            let mut sid = a.start();
            for (i, &b) in hay.iter().enumerate() {
                sid = a.next(sid, b);
                if a.is_match(sid) {
                    a.patterns(sid, |p| f(p, i + 1 - len(p), i + 1));
                }
            }
            return;
        }
        walk4(a, self.overlap, hay, scratch);
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

/// Four lanes in lock-step; matches go to `scratch.lanes[i]` in order of their end.
fn walk4<S: Steps>(d: &S, overlap: usize, hay: &[u8], scratch: &mut KeywordScratch) {
    let n = hay.len();
    let chunk = n.div_ceil(4);
    // Lane i owns [i*chunk, (i+1)*chunk) and starts `overlap` bytes earlier.
    let owned = [0, chunk, 2 * chunk, 3 * chunk];
    let from = [0, chunk - overlap, 2 * chunk - overlap, 3 * chunk - overlap];
    let to = [chunk, 2 * chunk, 3 * chunk, n];
    // Steps all four lanes can take; lane 0 is `overlap` bytes shorter than lanes 1 and 2,
    // lane 3 may be shorter still. The rest is finished lane by lane.
    let steps = (0..4).map(|i| to[i] - from[i]).min().unwrap_or(0);
    let start = d.start();
    let [l0, l1, l2, l3] = &mut scratch.lanes;
    let mut lanes = [l0, l1, l2, l3];
    let h = [
        &hay[from[0]..from[0] + steps],
        &hay[from[1]..from[1] + steps],
        &hay[from[2]..from[2] + steps],
        &hay[from[3]..from[3] + steps],
    ];
    let mut ids = [start; 4];
    let mut k = 0;
    while k < steps {
        // The hot loop keeps only the four states, the position and the inputs live; what
        // happens on a match is out of line.
        let (mut s0, mut s1, mut s2, mut s3) = (ids[0], ids[1], ids[2], ids[3]);
        let mut hit = false;
        while k < steps {
            s0 = d.next(s0, h[0][k]);
            s1 = d.next(s1, h[1][k]);
            s2 = d.next(s2, h[2][k]);
            s3 = d.next(s3, h[3][k]);
            k += 1;
            if d.any_match([s0, s1, s2, s3]) {
                hit = true;
                break;
            }
        }
        ids = [s0, s1, s2, s3];
        if hit {
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
        let dfa = Keywords::new(kws).unwrap();
        dfa.prime();
        assert!(dfa.table.get().is_some_and(Option::is_some));
        let (a, b) = (run(&nfa), run(&dfa));
        assert!(
            nfa.table.get().is_none(),
            "small inputs never build the DFA"
        );
        assert_eq!(a, b);
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
