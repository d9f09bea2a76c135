//! The windows a rule's regex runs over: a few bytes on each side of each keyword hit, merged
//! while the hits come, so that each rule holds at most one window at a time and searches
//! every byte at most once, however many hits the input holds.
//!
//! Hits arrive in order of their end. A rule's window around a hit ends at the hit's end plus
//! the rule's window size (or at the end of the hit's line), so a rule's windows come in order
//! of their end too: a new window either touches the pending one, and is merged into it, or
//! lies wholly after it, and then the pending one is final. Final windows are searched in
//! batches, rule by rule.

use std::ops::Range;

/// Windows that are final, gathered before they are searched: searching them rule by rule
/// keeps one rule's regex caches hot instead of switching between hundreds of them. On input
/// dense with keywords of many rules, batches of 1,024 windows searched a third slower than
/// all windows at once; batches of 16,384 (384 KiB) as fast.
const CLOSED_BATCH: usize = 16 * 1024;

/// Each rule's pending window, which rules have one, and the final windows not searched yet.
#[derive(Clone, Debug, Default)]
pub(super) struct Pending {
    windows: Vec<Option<Range<usize>>>,
    open: Vec<u32>,
    closed: Vec<(u32, Range<usize>)>,
}

impl Pending {
    pub(super) fn new(rules: usize) -> Pending {
        Pending {
            windows: vec![None; rules],
            open: Vec::new(),
            closed: Vec::new(),
        }
    }

    /// Adds rule `r`'s window `w`, merging it into the rule's pending window or closing that.
    pub(super) fn add(&mut self, r: u32, w: Range<usize>) {
        let slot = &mut self.windows[r as usize];
        match slot {
            Some(p) if w.start <= p.end && w.end >= p.start => {
                *p = p.start.min(w.start)..p.end.max(w.end);
            }
            Some(p) => self.closed.push((r, std::mem::replace(p, w))),
            None => {
                self.open.push(r);
                *slot = Some(w);
            }
        }
    }

    /// Whether enough windows are final to be searched now.
    pub(super) fn full(&self) -> bool {
        self.closed.len() >= CLOSED_BATCH
    }

    /// Closes every pending window (the input has ended).
    pub(super) fn close_all(&mut self) {
        for r in self.open.drain(..) {
            if let Some(w) = self.windows[r as usize].take() {
                self.closed.push((r, w));
            }
        }
    }

    /// Takes the final windows, by rule and position.
    pub(super) fn take_closed(&mut self) -> impl Iterator<Item = (u32, Range<usize>)> + '_ {
        self.closed.sort_unstable_by_key(|(r, w)| (*r, w.start));
        self.closed.drain(..)
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
        p.add(1, 0..10);
        p.add(1, 5..20);
        p.add(1, 20..25); // touching windows merge
        p.add(2, 3..4);
        p.add(1, 30..40);
        assert_eq!(p.take_closed().collect::<Vec<_>>(), [(1, 0..25)]);
        p.close_all();
        assert_eq!(
            p.take_closed().collect::<Vec<_>>(),
            [(1, 30..40), (2, 3..4)]
        );
        p.close_all();
        assert_eq!(p.take_closed().count(), 0);
    }

    #[test]
    fn final_windows_wait_in_a_bounded_batch() {
        let mut p = Pending::new(2);
        let mut searched = 0;
        for i in 0..10 * CLOSED_BATCH {
            p.add((i % 2) as u32, 10 * i..10 * i + 5);
            if p.full() {
                searched += p.take_closed().count();
            }
            assert!(p.closed.len() < CLOSED_BATCH);
        }
        p.close_all();
        searched += p.take_closed().count();
        assert_eq!(searched, 10 * CLOSED_BATCH);
    }
}
