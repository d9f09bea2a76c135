//! A progress line on stderr while a scan runs: blobs and bytes scanned and the rate. Only on
//! a terminal, never with `--quiet`, and never on a pipe or in CI logs.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::scan::Stats;

/// Runs `work` while a progress line, refreshed from `stats`, is shown (when `enabled` and
/// stderr is a terminal).
pub fn with_progress<T>(stats: &Stats, enabled: bool, work: impl FnOnce() -> T) -> T {
    if !enabled || !std::io::stderr().is_terminal() {
        return work();
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr_with_hz(10));
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    let done = AtomicBool::new(false);
    let started = Instant::now();
    let out = std::thread::scope(|s| {
        s.spawn(|| {
            while !done.load(Ordering::Relaxed) {
                let sum = stats.summary();
                let secs = started.elapsed().as_secs_f64().max(0.001);
                bar.set_message(format!(
                    "scanned {} blobs, {} ({}/s)",
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
    });
    bar.finish_and_clear();
    out
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
