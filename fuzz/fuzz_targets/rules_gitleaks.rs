//! gitleaks TOML configs: importing never panics, every imported rule compiles (they compile
//! lazily during a scan, where a failure would silently drop the rule), and warnings carry
//! clean text.
#![no_main]

use keyhound::rules::{RuleSet, RuleSource};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(set) = RuleSet::load(vec![RuleSource::gitleaks("fuzz.toml", text)]) {
        for rule in &set.rules {
            if let Err(e) = rule.compiled() {
                panic!("imported rule {} does not compile: {e}", rule.id);
            }
            assert!(!rule.name.chars().any(keyhound::rules::text::is_unsafe));
        }
        for w in set.imports.iter().flat_map(|i| &i.warnings) {
            let shown = w.to_string();
            assert!(!shown.chars().any(keyhound::rules::text::is_unsafe), "{shown:?}");
        }
    }
});
