//! What becomes of matches that meet: a generic rule yields to a provider rule on the same
//! text, and a paired rule's secret takes its nearest partner. Both run over a blob's matches
//! sorted by position, in time close to linear in their number (sweeps and binary searches,
//! not every match against every other), since a hostile input can hold thousands of them.

use std::ops::Range;

use super::Match;
use crate::rules::Rule;

/// A provider rule knows the format better than a generic rule: when both capture
/// overlapping secrets, keep the provider's. Of two generic rules on the same value, one that
/// read the value's structure (`inspect`) wins, else the first. `out` is sorted by start.
pub(super) fn drop_generic_overlaps(rules: &[Rule], out: &mut Vec<Match>) {
    if !out.iter().any(|m| rules[m.rule].generic) {
        return;
    }
    let specific = Spans::new(
        out.iter()
            // A path rule's match only counts where the path fits, which the matcher does
            // not know: it never displaces a generic match here.
            .filter(|m| !rules[m.rule].generic && rules[m.rule].path.is_none())
            .map(|m| &m.span),
    );
    let mut keep = vec![true; out.len()];
    let mut checked = Spans::default();
    for inspected in [true, false] {
        // Generic spans of this kind kept so far start no later than the one at hand: it
        // overlaps one of them when their furthest end lies past its start.
        let mut reach: Option<usize> = None;
        let mut kept = Vec::new();
        for (i, m) in out.iter().enumerate() {
            let rule = &rules[m.rule];
            if !rule.generic || rule.inspect.is_some() != inspected {
                continue;
            }
            if specific.overlaps(&m.span)
                || checked.overlaps(&m.span)
                || reach.is_some_and(|r| r > m.span.start)
            {
                keep[i] = false;
            } else {
                reach = Some(reach.map_or(m.span.end, |r| r.max(m.span.end)));
                kept.push(&m.span);
            }
        }
        if inspected {
            checked = Spans::new(kept.into_iter());
        }
    }
    let mut k = keep.into_iter();
    out.retain(|_| k.next().unwrap_or(true));
}

/// Spans sorted by start, with the furthest end among each prefix: a span overlaps one of
/// them when the furthest end of those starting before it ends lies past its start.
#[derive(Default)]
struct Spans {
    starts: Vec<usize>,
    reach: Vec<usize>,
}

impl Spans {
    fn new<'a>(spans: impl Iterator<Item = &'a Range<usize>>) -> Spans {
        let mut s = Spans::default();
        for span in spans {
            s.starts.push(span.start);
            let r = s.reach.last().map_or(span.end, |&r| r.max(span.end));
            s.reach.push(r);
        }
        s
    }

    fn overlaps(&self, s: &Range<usize>) -> bool {
        let k = self.starts.partition_point(|&st| st < s.end);
        k > 0 && self.reach[k - 1] > s.start
    }
}

/// Attaches to each paired rule's match the nearest match of its partner rule within the
/// allowed number of lines; a partner used this way is not reported on its own. "Nearest"
/// means fewest lines apart, then a partner no other secret has taken, then fewest bytes
/// apart: a secret on the line of its own key id keeps it even when the next line's id is
/// closer in bytes. `out` is sorted by start.
pub(super) fn pair_up(rules: &[Rule], hay: &[u8], out: &mut Vec<Match>) {
    if !out.iter().any(|m| rules[m.rule].pair.is_some()) {
        return;
    }
    let lines = Lines::new(hay, out.iter().flat_map(|m| [m.span.start, m.span.end]));
    // The matches of each rule, in order.
    let mut of_rule: Vec<Vec<usize>> = vec![Vec::new(); rules.len()];
    for (j, m) in out.iter().enumerate() {
        of_rule[m.rule].push(j);
    }
    let mut used = vec![false; out.len()];
    for i in 0..out.len() {
        let Some(pair) = rules[out[i].rule].pair else {
            continue;
        };
        let here = out[i].span.clone();
        // Lines and bytes between `here` and match `j`.
        let gap = |j: usize| {
            let m = &out[j].span;
            let (a, b) = if m.start < here.start {
                (m.end.min(here.start), here.start)
            } else {
                (here.end.min(m.start), m.start)
            };
            (lines.between(a, b), b - a)
        };
        let cands = &of_rule[pair.with];
        let mid = cands.partition_point(|&j| out[j].span.start < here.start);
        // A partner's rule has disjoint matches, so the gap only grows away from `here`.
        let near = |&j: &usize| {
            let (l, bytes) = gap(j);
            (l <= pair.within_lines).then_some((l, used[j], bytes, j))
        };
        let before = cands[..mid].iter().rev().map_while(near);
        let after = cands[mid..].iter().map_while(near);
        if let Some((_, _, _, j)) = before.chain(after).min() {
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

/// The number of newlines before each of a set of positions, counted in one pass.
struct Lines {
    /// `(position, newlines before it)`, by position.
    at: Vec<(usize, usize)>,
}

impl Lines {
    fn new(hay: &[u8], positions: impl Iterator<Item = usize>) -> Lines {
        let mut pos: Vec<usize> = positions.collect();
        pos.sort_unstable();
        pos.dedup();
        let (mut last, mut count) = (0, 0);
        let at = pos
            .into_iter()
            .map(|p| {
                count += memchr::memchr_iter(b'\n', &hay[last..p]).count();
                last = p;
                (p, count)
            })
            .collect();
        Lines { at }
    }

    /// Newlines in `a..b`; both are positions given to `new`.
    fn between(&self, a: usize, b: usize) -> usize {
        let before = |p: usize| self.at[self.at.partition_point(|&(q, _)| q < p)].1;
        before(b) - before(a)
    }
}
