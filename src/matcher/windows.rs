//! The windows a rule's regex runs over: a few bytes on each side of each keyword hit, merged
//! while the hits come, so that each rule holds at most one window at a time and searches
//! every byte at most once, however many hits the input holds.
//!
//! Hits arrive in order of their end. A rule's window around a hit ends at the hit's end plus
//! the rule's window size (or at the end of the hit's line), so a rule's windows come in order
//! of their end too: a new window either touches the pending one, and is merged into it, or
//! lies wholly after it, and then the pending one is final and is searched.

use std::ops::Range;

/// Each rule's pending window, and which rules have one.
#[derive(Clone, Debug, Default)]
pub(super) struct Pending {
    windows: Vec<Option<Range<usize>>>,
    open: Vec<u32>,
}

impl Pending {
    pub(super) fn new(rules: usize) -> Pending {
        Pending {
            windows: vec![None; rules],
            open: Vec::new(),
        }
    }

    /// Adds rule `r`'s window `w`; returns the window it makes final, if any.
    pub(super) fn add(&mut self, r: u32, w: Range<usize>) -> Option<Range<usize>> {
        let slot = &mut self.windows[r as usize];
        match slot {
            Some(p) if w.start <= p.end && w.end >= p.start => {
                *p = p.start.min(w.start)..p.end.max(w.end);
                None
            }
            Some(p) => Some(std::mem::replace(p, w)),
            None => {
                self.open.push(r);
                *slot = Some(w);
                None
            }
        }
    }

    /// Takes every pending window, leaving none.
    pub(super) fn drain(&mut self) -> impl Iterator<Item = (u32, Range<usize>)> + '_ {
        let windows = &mut self.windows;
        self.open
            .drain(..)
            .filter_map(|r| windows[r as usize].take().map(|w| (r, w)))
    }
}

/// The newline-free stretch of input that held the latest keyword hit of a single-line rule,
/// so that finding the line of every hit costs one pass over the input in all. `known` holds
/// no newline, starts at 0 or after a newline, and ends at the input's end or a newline.
#[derive(Clone, Debug, Default)]
pub(super) struct Line {
    known: Option<Range<usize>>,
}

impl Line {
    /// The window of a rule that searches `size` bytes on each side of the hit `start..end`;
    /// with `single_line`, no further than the line ends around the hit (the newlines
    /// themselves stay in: a pattern may consume them as delimiters).
    pub(super) fn window(
        &mut self,
        hay: &[u8],
        hit: Range<usize>,
        size: usize,
        single_line: bool,
    ) -> Range<usize> {
        let mut start = hit.start.saturating_sub(size);
        let mut end = hit.end.saturating_add(size).min(hay.len());
        if single_line {
            let (before, after) = self.newlines(hay, hit, size);
            if let Some(nl) = before.filter(|&nl| nl >= start) {
                start = nl;
            }
            if let Some(nl) = after.filter(|&nl| nl < end) {
                end = nl + 1;
            }
        }
        start..end
    }

    /// The last newline before `hit.start` and the first at or after `hit.end`: from the
    /// stretch known to hold no newline when the hit lies in it, else searched for from where
    /// that stretch ends (and remembered). A hit that holds a newline itself, or comes out of
    /// order, is looked at only `size` bytes around.
    fn newlines(
        &mut self,
        hay: &[u8],
        hit: Range<usize>,
        size: usize,
    ) -> (Option<usize>, Option<usize>) {
        let edges =
            |k: &Range<usize>| (k.start.checked_sub(1), (k.end < hay.len()).then_some(k.end));
        let floor = match &self.known {
            Some(k) if k.start <= hit.start && hit.end <= k.end => return edges(k),
            Some(k) if k.end < hay.len() => k.end,
            Some(k) => k.start,
            None => 0,
        };
        if hit.start < floor || memchr::memchr(b'\n', &hay[hit.clone()]).is_some() {
            let from = hit.start.saturating_sub(size);
            let to = hit.end.saturating_add(size).min(hay.len());
            return (
                memchr::memrchr(b'\n', &hay[from..hit.start]).map(|i| from + i),
                memchr::memchr(b'\n', &hay[hit.end..to]).map(|i| hit.end + i),
            );
        }
        let lo = memchr::memrchr(b'\n', &hay[floor..hit.start]).map_or(floor, |i| floor + i + 1);
        let hi = memchr::memchr(b'\n', &hay[hit.end..]).map_or(hay.len(), |i| hit.end + i);
        let known = lo..hi;
        let found = edges(&known);
        self.known = Some(known);
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The window the way it was first written: searched afresh around each hit.
    fn reference(hay: &[u8], hit: Range<usize>, size: usize) -> Range<usize> {
        let mut start = hit.start.saturating_sub(size);
        let mut end = hit.end.saturating_add(size).min(hay.len());
        if let Some(i) = memchr::memrchr(b'\n', &hay[start..hit.start]) {
            start += i;
        }
        if let Some(i) = memchr::memchr(b'\n', &hay[hit.end..end]) {
            end = hit.end + i + 1;
        }
        start..end
    }

    #[test]
    fn single_line_windows_match_a_fresh_search() {
        let hay = b"ab\nkey=1 key=2\n\nkey\nlong line key=3 and more text\nkey=4";
        // Hits in order of their end, as the keyword walk gives them.
        let mut hits: Vec<Range<usize>> = Vec::new();
        for (i, _) in hay.windows(3).enumerate().filter(|(_, w)| *w == b"key") {
            hits.push(i..i + 3);
        }
        hits.push(0..hay.len()); // spans newlines
        for size in [0, 1, 4, 9, 100] {
            let mut line = Line::default();
            for h in &hits {
                let got = line.window(hay, h.clone(), size, true);
                assert_eq!(got, reference(hay, h.clone(), size), "{h:?} size {size}");
            }
        }
    }

    #[test]
    fn pending_windows_merge_and_come_out_final() {
        let mut p = Pending::new(3);
        assert_eq!(p.add(1, 0..10), None);
        assert_eq!(p.add(1, 5..20), None);
        assert_eq!(p.add(1, 20..25), None, "touching windows merge");
        assert_eq!(p.add(2, 3..4), None);
        assert_eq!(p.add(1, 30..40), Some(0..25));
        let mut rest: Vec<_> = p.drain().collect();
        rest.sort_by_key(|w| w.0);
        assert_eq!(rest, [(1, 30..40), (2, 3..4)]);
        assert_eq!(p.drain().count(), 0);
    }
}
