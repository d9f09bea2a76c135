//! The keyword prefilter: every occurrence of every rule keyword, ASCII case-insensitively,
//! including overlapping ones.
//!
//! One Aho-Corasick DFA (from the `aho-corasick` crate) holds all keywords. A DFA search is
//! bound by the latency of one table lookup per byte, because each step depends on the state
//! the previous step produced. So large inputs are cut into four lanes that are walked in
//! lock-step: the four lookups of a step are independent and the CPU overlaps them, which
//! roughly doubles throughput over a single walk. Each lane starts `longest keyword - 1` bytes
//! before the part it owns, so a keyword that straddles a lane boundary is found by exactly
//! one lane.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use aho_corasick::automaton::Automaton;
use aho_corasick::dfa::DFA;
use aho_corasick::nfa::contiguous::NFA;
use aho_corasick::{Anchored, MatchKind};

/// Below this size one lane is used: setting up four costs more than it saves.
const MIN_LANED: usize = 16 * 1024;

/// Input scanned with the NFA before the DFA is built. Building the DFA for a few hundred
/// keywords costs several milliseconds, as much as the NFA needs for about a megabyte, so a
/// pre-commit scan of a few staged files never pays for it and a tree scan pays once.
const DFA_AFTER_BYTES: u64 = 1 << 20;

/// The keyword automaton: a contiguous NFA, cheap to build, used first; a DFA, about three
/// times faster per byte, built once enough input has been seen.
pub struct Keywords {
    patterns: Vec<Vec<u8>>,
    nfa: NFA,
    dfa: OnceLock<Option<DFA>>,
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
            dfa: OnceLock::new(),
            seen: AtomicU64::new(0),
            overlap,
        })
    }

    /// Builds the DFA now, for callers that know a large input is coming.
    pub fn prime(&self) {
        self.seen.fetch_add(DFA_AFTER_BYTES, Ordering::Relaxed);
        let _ = self.dfa(0);
    }

    /// The DFA, once enough input has gone through the NFA (or `None` if it cannot be built,
    /// in which case the NFA goes on serving).
    fn dfa(&self, len: usize) -> Option<&DFA> {
        if let Some(d) = self.dfa.get() {
            return d.as_ref();
        }
        let seen = self.seen.fetch_add(len as u64, Ordering::Relaxed) + len as u64;
        if seen < DFA_AFTER_BYTES {
            return None;
        }
        self.dfa
            .get_or_init(|| {
                aho_corasick::dfa::Builder::new()
                    .match_kind(MatchKind::Standard)
                    .ascii_case_insensitive(true)
                    .prefilter(false)
                    .build(&self.patterns)
                    .ok()
            })
            .as_ref()
    }

    /// Calls `f(pattern, start, end)` for every keyword occurrence, in order of `end`.
    pub fn find(
        &self,
        hay: &[u8],
        scratch: &mut KeywordScratch,
        f: impl FnMut(usize, usize, usize),
    ) {
        match self.dfa(hay.len()) {
            Some(dfa) => self.find_with(dfa, hay, scratch, f),
            None => self.find_with(&self.nfa, hay, scratch, f),
        }
    }

    fn find_with<A: Automaton>(
        &self,
        a: &A,
        hay: &[u8],
        scratch: &mut KeywordScratch,
        mut f: impl FnMut(usize, usize, usize),
    ) {
        let len = |p: usize| self.patterns[p].len();
        if hay.len() < MIN_LANED || hay.len() > u32::MAX as usize || self.overlap >= MIN_LANED / 4 {
            walk(a, hay, 0, hay.len(), 0, &mut |p, end| {
                f(p, end - len(p), end)
            });
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

/// One lane: walks `hay[from..to]` and reports matches that end after `owned`.
fn walk<A: Automaton>(
    d: &A,
    hay: &[u8],
    from: usize,
    to: usize,
    owned: usize,
    f: &mut impl FnMut(usize, usize),
) {
    {
        let Ok(mut sid) = d.start_state(Anchored::No) else {
            return;
        };
        for (i, &b) in hay[from..to].iter().enumerate() {
            sid = d.next_state(Anchored::No, sid, b);
            if d.is_special(sid) {
                let end = from + i + 1;
                if end > owned && d.is_match(sid) {
                    for k in 0..d.match_len(sid) {
                        f(d.match_pattern(sid, k).as_usize(), end);
                    }
                }
            }
        }
    }
}

/// Four lanes in lock-step; matches go to `scratch.lanes[i]` in order of their end.
fn walk4<A: Automaton>(d: &A, overlap: usize, hay: &[u8], scratch: &mut KeywordScratch) {
    {
        let Ok(start) = d.start_state(Anchored::No) else {
            return;
        };
        let n = hay.len();
        let chunk = n.div_ceil(4);
        // Lane i owns [i*chunk, (i+1)*chunk) and starts `overlap` bytes earlier.
        let owned = [0, chunk, 2 * chunk, 3 * chunk];
        let from = [0, chunk - overlap, 2 * chunk - overlap, 3 * chunk - overlap];
        let to = [chunk, 2 * chunk, 3 * chunk, n];
        // Steps all four lanes can take; lane 0 is `overlap` bytes shorter than lanes 1 and 2,
        // lane 3 may be shorter still. The rest is finished lane by lane.
        let steps = (0..4).map(|i| to[i] - from[i]).min().unwrap_or(0);
        let (mut s0, mut s1, mut s2, mut s3) = (start, start, start, start);
        let [l0, l1, l2, l3] = &mut scratch.lanes;
        let record = |lane: &mut Vec<(u32, u32)>, sid, end: usize, own: usize| {
            if end > own && d.is_match(sid) {
                for k in 0..d.match_len(sid) {
                    lane.push((d.match_pattern(sid, k).as_u32(), end as u32));
                }
            }
        };
        for k in 0..steps {
            let (p0, p1, p2, p3) = (from[0] + k, from[1] + k, from[2] + k, from[3] + k);
            s0 = d.next_state(Anchored::No, s0, hay[p0]);
            s1 = d.next_state(Anchored::No, s1, hay[p1]);
            s2 = d.next_state(Anchored::No, s2, hay[p2]);
            s3 = d.next_state(Anchored::No, s3, hay[p3]);
            if d.is_special(s0) | d.is_special(s1) | d.is_special(s2) | d.is_special(s3) {
                record(l0, s0, p0 + 1, owned[0]);
                record(l1, s1, p1 + 1, owned[1]);
                record(l2, s2, p2 + 1, owned[2]);
                record(l3, s3, p3 + 1, owned[3]);
            }
        }
        for (i, (lane, sid)) in [(l0, s0), (l1, s1), (l2, s2), (l3, s3)]
            .into_iter()
            .enumerate()
        {
            let mut sid = sid;
            let rest = from[i] + steps;
            for (k, &b) in hay[rest..to[i]].iter().enumerate() {
                sid = d.next_state(Anchored::No, sid, b);
                if d.is_special(sid) {
                    record(lane, sid, rest + k + 1, owned[i]);
                }
            }
        }
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
        assert!(dfa.dfa.get().is_some_and(Option::is_some));
        let (a, b) = (run(&nfa), run(&dfa));
        assert!(nfa.dfa.get().is_none(), "small inputs never build the DFA");
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
    }
}
