//! keyhound's YAML rule files: loading never panics, and a rule that loads compiles (or says
//! why not) and only ever carries clean display text.
#![no_main]

use keyhound::rules::{RuleSet, RuleSource};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(set) = RuleSet::load(vec![RuleSource::yaml("fuzz.yaml", text)]) {
        for rule in &set.rules {
            let _ = rule.compiled();
            for shown in [&rule.name, &rule.provider, &rule.origin.file] {
                assert!(!shown.chars().any(keyhound::rules::text::is_unsafe), "{shown:?}");
            }
        }
    }
});
