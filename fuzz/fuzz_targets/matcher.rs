//! The matcher over arbitrary bytes with the built-in rules: no panic, matches inside the
//! input, in order, at most `MAX_MATCHES`.
#![no_main]

use std::sync::{Arc, Mutex, OnceLock};

use keyhound::matcher::{Matcher, Scratch, MAX_MATCHES};
use keyhound::rules::RuleSet;
use libfuzzer_sys::fuzz_target;

fn matcher() -> &'static Matcher {
    static M: OnceLock<Matcher> = OnceLock::new();
    M.get_or_init(|| {
        let m = Matcher::new(Arc::new(RuleSet::builtin().unwrap())).unwrap();
        // The DFA walk is what real scans use; the NFA only serves the first megabyte.
        m.prime();
        m
    })
}

/// One scratch for all inputs, as a scan thread keeps one for all its files (and building
/// its regex caches anew for each input would be most of the work).
fn scratch() -> &'static Mutex<Scratch> {
    static S: OnceLock<Mutex<Scratch>> = OnceLock::new();
    S.get_or_init(|| Mutex::new(matcher().scratch()))
}

fuzz_target!(|data: &[u8]| {
    let m = matcher();
    let mut scratch = scratch().lock().unwrap();
    let found = m.find(data, &mut scratch);
    assert!(found.len() <= MAX_MATCHES);
    for w in found.windows(2) {
        assert!((w[0].span.start, w[0].rule) <= (w[1].span.start, w[1].rule));
    }
    for f in &found {
        assert!(f.span.start < f.span.end && f.span.end <= data.len(), "{f:?}");
        if let Some(p) = &f.partner {
            assert!(p.end <= data.len());
        }
    }
});
