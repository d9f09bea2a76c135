//! Running many scopes (repositories) at once within one thread budget: repositories ×
//! blobs, never threads × threads. Each scope takes a share of the `--threads` budget when it
//! starts: one thread each while many are waiting, all that are free for the last ones, and
//! never more than the budget in total. Remote repositories are cloned or fetched a little
//! ahead of their turn by a few threads of their own (the network waits, the CPU scans).
//! Results come back in the scopes' order, whatever order they finished in.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};

use super::scope::{Prepared, Scope};
use crate::progress::{Board, Line};

/// Clones and fetches running at once.
const FETCHERS: usize = 4;

/// Threads handed out and returned.
struct Budget {
    free: Mutex<usize>,
    freed: Condvar,
}

impl Budget {
    /// Takes up to `want` threads, at least one, waiting for one if none is free.
    fn take(&self, want: usize) -> usize {
        let mut free = self.free.lock().unwrap_or_else(|p| p.into_inner());
        while *free == 0 {
            free = self.freed.wait(free).unwrap_or_else(|p| p.into_inner());
        }
        let got = want.clamp(1, *free);
        *free -= got;
        got
    }

    fn give(&self, n: usize) {
        *self.free.lock().unwrap_or_else(|p| p.into_inner()) += n;
        self.freed.notify_all();
    }
}

/// Slots for what the fetchers prepared, by scope.
struct Slots {
    ready: Mutex<Vec<Option<Prepared>>>,
    changed: Condvar,
}

impl Slots {
    fn put(&self, i: usize, p: Prepared) {
        self.ready.lock().unwrap_or_else(|p| p.into_inner())[i] = Some(p);
        self.changed.notify_all();
    }

    fn wait(&self, i: usize) -> Prepared {
        let mut ready = self.ready.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(p) = ready[i].take() {
                return p;
            }
            ready = self.changed.wait(ready).unwrap_or_else(|p| p.into_inner());
        }
    }
}

/// Runs `work` for every scope (given what was prepared for it, its threads and its progress
/// line) on `threads` threads, and returns the results in the scopes' order.
pub fn run_all<T, F>(scopes: &[Scope], threads: usize, quiet: bool, work: F) -> Vec<T>
where
    T: Send,
    F: Fn(usize, &Scope, Prepared, usize, &Line) -> T + Sync,
{
    let threads = threads.max(1);
    let workers = threads.min(scopes.len()).max(1);
    let board = Board::new(!quiet, scopes.len());
    // One local scope (a tree, a repository, a pre-commit hook) runs on this thread: no
    // thread to start, and its allocations go to the main heap.
    if let [scope] = scopes {
        if scope.remote.is_none() {
            let line = board.line(&scope.name());
            let out = work(0, scope, Prepared::Local, threads, &line);
            drop(line);
            board.done();
            return vec![out];
        }
    }
    let budget = Budget {
        free: Mutex::new(threads),
        freed: Condvar::new(),
    };
    let slots = Slots {
        ready: Mutex::new((0..scopes.len()).map(|_| None).collect()),
        changed: Condvar::new(),
    };
    let remote: Vec<usize> = (0..scopes.len())
        .filter(|&i| scopes[i].remote.is_some())
        .collect();
    for (i, s) in scopes.iter().enumerate() {
        if s.remote.is_none() {
            slots.put(i, Prepared::Local);
        }
    }
    let next_fetch = AtomicUsize::new(0);
    let next_scan = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<T>>> = Mutex::new((0..scopes.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..FETCHERS.min(remote.len()) {
            s.spawn(|| {
                while let Some(&i) = remote.get(next_fetch.fetch_add(1, Ordering::Relaxed)) {
                    // Not too far ahead of the scans: clones wait on disk, not in memory, but a
                    // run stopped early should not have fetched everything.
                    while i > next_scan.load(Ordering::Relaxed) + workers + FETCHERS {
                        std::thread::sleep(std::time::Duration::from_millis(20));
                    }
                    slots.put(i, super::scope::prepare(&scopes[i]));
                }
            });
        }
        for _ in 0..workers {
            s.spawn(|| loop {
                let i = next_scan.fetch_add(1, Ordering::Relaxed);
                let Some(scope) = scopes.get(i) else { break };
                let line = board.line(&scope.name());
                if scope.remote.is_some() {
                    line.say("waiting for its clone");
                }
                let prepared = slots.wait(i);
                let left = scopes.len() - i;
                let got = budget.take(threads / left.min(workers));
                let out = work(i, scope, prepared, got, &line);
                budget.give(got);
                drop(line);
                board.done();
                results.lock().unwrap_or_else(|p| p.into_inner())[i] = Some(out);
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|p| p.into_inner())
        .into_iter()
        .flatten()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_is_never_exceeded() {
        let b = Budget {
            free: Mutex::new(4),
            freed: Condvar::new(),
        };
        assert_eq!(b.take(3), 3);
        assert_eq!(b.take(3), 1);
        b.give(2);
        assert_eq!(b.take(0), 1, "at least one");
        assert_eq!(b.take(9), 1);
        assert_eq!(*b.free.lock().unwrap(), 0);
    }
}
