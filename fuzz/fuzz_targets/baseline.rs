//! Baseline files: loading never panics. The loader reads a file, so the input is written to
//! one first.
#![no_main]

use keyhound::suppress::Baseline;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = std::env::temp_dir().join(format!("keyhound-fuzz-{}.baseline.yaml", std::process::id()));
    std::fs::write(&path, data).unwrap();
    let _ = Baseline::load(&path, None);
});
