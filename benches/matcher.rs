//! Throughput of the matcher over one large input, with the built-in rules: the keyword walk
//! alone (the hot path) and the whole `Matcher::find`. Two figures each: the best wall time
//! of N runs, and (on Linux) the mean CPU time of this thread over them, which a busy machine
//! disturbs less.
//!
//! Usage: `cargo bench --bench matcher -- FILE [RUNS] [--per-rule]`, for example over the
//! files of a repository: `git -C REPO archive --format=tar HEAD > /tmp/src.tar`. With
//! `--per-rule`, also the rules whose regexes cost most on that input: each rule alone, the
//! time of `Matcher::find` less that of its keyword walk (a minute or two for every rule).

use std::sync::Arc;
use std::time::{Duration, Instant};

use keyhound::matcher::Matcher;
use keyhound::rules::RuleSet;

fn main() {
    // `cargo bench` passes `--bench`; everything else is ours.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let Some(file) = args.first() else {
        eprintln!("usage: cargo bench --bench matcher -- FILE [RUNS]");
        std::process::exit(2);
    };
    let runs: usize = args.get(1).and_then(|r| r.parse().ok()).unwrap_or(5);
    let hay = std::fs::read(file).expect("cannot read the input");
    let matcher =
        Matcher::new(Arc::new(RuleSet::builtin().expect("built-in rules"))).expect("matcher");
    matcher.prime();
    let mut scratch = matcher.scratch();

    let mut hits = 0usize;
    let walk = measure(runs, || {
        hits = 0;
        matcher.keyword_hits(&hay, &mut scratch, |_, _, _| hits += 1);
    });
    let mut found = 0;
    let find = measure(runs, || found = matcher.find(&hay, &mut scratch).len());
    let mb = hay.len() as f64 / 1e6;
    println!("{file} ({mb:.1} MB), {runs} runs, MB/s by best wall time / by mean CPU time:");
    println!("  keyword walk    {} ({hits} hits)", walk.rates(mb));
    println!("  Matcher::find   {} ({found} matches)", find.rates(mb));
    busiest_rules(&matcher, &hay, &mut scratch);
    if std::env::args().any(|a| a == "--per-rule") {
        costliest_rules(matcher.rules(), &hay, runs.min(3));
    }
}

/// The rules whose regex windows cost most: each rule alone in a matcher, the best wall time
/// of `find` less the best of its keyword walk, with the bytes of its windows.
fn costliest_rules(rules: &RuleSet, hay: &[u8], runs: usize) {
    let mut costs: Vec<(Duration, usize, &str)> = Vec::new();
    for rule in &rules.rules {
        let mut one = RuleSet::builtin().expect("built-in rules");
        one.retain(|r| r.id == rule.id);
        let m = Matcher::new(Arc::new(one)).expect("matcher");
        m.prime();
        let mut scratch = m.scratch();
        let (mut walk, mut find) = (Duration::MAX, Duration::MAX);
        for _ in 0..runs {
            walk =
                walk.min(measure(1, || m.keyword_hits(hay, &mut scratch, |_, _, _| {})).best_wall);
            find = find.min(measure(1, || drop(m.find(hay, &mut scratch))).best_wall);
        }
        costs.push((find.saturating_sub(walk), scratch.searched(), &rule.id));
    }
    costs.sort_by(|a, b| b.cmp(a));
    let mb = hay.len() as f64 / 1e6;
    println!("  regex time by rule alone, ms per {mb:.0} MB, and window bytes (the costliest 25):");
    for (t, bytes, id) in costs.iter().take(25) {
        println!("    {:>9.1}  {:>11}  {id}", t.as_secs_f64() * 1e3, bytes);
    }
    costs.sort_by_key(|c| std::cmp::Reverse(c.1));
    println!("  the most window bytes:");
    for (t, bytes, id) in costs.iter().take(25) {
        println!("    {:>9.1}  {:>11}  {id}", t.as_secs_f64() * 1e3, bytes);
    }
}

/// The rules whose keywords occur most in the input: each occurrence is a window their regex
/// searches (windows of one rule that overlap are merged, so this is an upper bound).
fn busiest_rules(matcher: &Matcher, hay: &[u8], scratch: &mut keyhound::matcher::Scratch) {
    let rules = matcher.rules();
    let mut per_rule = vec![0usize; rules.rules.len()];
    matcher.keyword_hits(hay, scratch, |p, _, _| {
        for &r in matcher.keyword_rules(p) {
            per_rule[r as usize] += 1;
        }
    });
    let mut busiest: Vec<(usize, usize)> = per_rule.into_iter().enumerate().collect();
    busiest.sort_by_key(|&(r, n)| (std::cmp::Reverse(n), r));
    println!("  keyword hits by rule (the busiest 20):");
    for (r, n) in busiest.into_iter().take(20).filter(|&(_, n)| n > 0) {
        println!("    {n:>9}  {}", rules.rules[r].id);
    }
}

struct Timing {
    best_wall: Duration,
    mean_cpu: Option<Duration>,
}

impl Timing {
    fn rates(&self, mb: f64) -> String {
        let cpu = self
            .mean_cpu
            .map_or("-".into(), |c| format!("{:.0}", mb / c.as_secs_f64()));
        format!("{:.0} / {cpu}", mb / self.best_wall.as_secs_f64())
    }
}

fn measure(runs: usize, mut f: impl FnMut()) -> Timing {
    let runs = runs.max(1);
    let cpu0 = thread_cpu();
    let best_wall = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .min()
        .unwrap_or_default();
    let mean_cpu = cpu0
        .zip(thread_cpu())
        .map(|(a, b)| b.saturating_sub(a) / runs as u32);
    Timing {
        best_wall,
        mean_cpu,
    }
}

/// CPU time (user and system) of the calling thread, from `/proc/thread-self/stat`; in clock
/// ticks of 10 ms, so runs should add up to seconds.
fn thread_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    // The fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 10))
}
