//! Progress on stderr while a scan runs: blobs and bytes scanned and the rate, one line per
//! repository when several are scanned at once. Only on a terminal, never with `--quiet`, and
//! never on a pipe or in CI logs.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::scan::Stats;

/// Lines for a run over many repositories: one per repository being worked on, and a last
/// line counting those done.
pub struct Board {
    multi: Option<MultiProgress>,
    total: Option<ProgressBar>,
}

impl Board {
    /// A board for `count` repositories; draws nothing unless `enabled` and stderr is a
    /// terminal.
    pub fn new(enabled: bool, count: usize) -> Board {
        if !enabled || !std::io::stderr().is_terminal() {
            return Board {
                multi: None,
                total: None,
            };
        }
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(10));
        // One scope has one line, as a scan of one PATH always had.
        let total = (count > 1).then(|| {
            let total = multi.add(ProgressBar::new(count as u64));
            total.set_style(
                ProgressStyle::with_template("{pos}/{len} repositories done")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            total.tick();
            total
        });
        Board {
            multi: Some(multi),
            total,
        }
    }

    /// A line for the repository `name` (sanitised by the caller), above the total. A board
    /// for one repository does not name it.
    pub fn line(&self, name: &str) -> Line {
        let name = if self.total.is_some() { name } else { "" };
        let bar = self.multi.as_ref().map(|m| {
            let bar = match &self.total {
                Some(t) => m.insert_before(t, ProgressBar::new_spinner()),
                None => m.add(ProgressBar::new_spinner()),
            };
            bar.set_style(
                ProgressStyle::with_template("{spinner} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar
        });
        Line {
            bar,
            name: name.to_string(),
        }
    }

    /// Counts one repository done.
    pub fn done(&self) {
        if let Some(t) = &self.total {
            t.inc(1);
        }
    }
}

impl Drop for Board {
    fn drop(&mut self) {
        if let Some(t) = &self.total {
            t.finish_and_clear();
        }
    }
}

/// One repository's line; cleared when dropped.
pub struct Line {
    bar: Option<ProgressBar>,
    name: String,
}

impl Line {
    /// A line that draws nothing.
    pub fn hidden() -> Line {
        Line {
            bar: None,
            name: String::new(),
        }
    }

    /// Shows what is happening to the repository now.
    pub fn say(&self, what: &str) {
        if let Some(b) = &self.bar {
            b.set_message(format!("{}{what}", self.prefix()));
            b.tick();
        }
    }

    fn prefix(&self) -> String {
        if self.name.is_empty() {
            String::new()
        } else {
            format!("{}: ", self.name)
        }
    }

    /// Runs `work` while the line shows what `stats` counts.
    pub fn watch<T>(&self, stats: &Stats, work: impl FnOnce() -> T) -> T {
        let Some(bar) = &self.bar else {
            return work();
        };
        let done = AtomicBool::new(false);
        let started = Instant::now();
        std::thread::scope(|s| {
            s.spawn(|| {
                while !done.load(Ordering::Relaxed) {
                    let sum = stats.summary();
                    let secs = started.elapsed().as_secs_f64().max(0.001);
                    bar.set_message(format!(
                        "{}scanned {} blobs, {} ({}/s)",
                        self.prefix(),
                        sum.blobs,
                        human(sum.bytes as f64),
                        human(sum.bytes as f64 / secs)
                    ));
                    bar.tick();
                    std::thread::sleep(Duration::from_millis(100));
                }
            });
            let out = work();
            done.store(true, Ordering::Relaxed);
            out
        })
    }
}

impl Drop for Line {
    fn drop(&mut self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

fn human(n: f64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    format!("{v:.1} {}", UNITS[u])
}
