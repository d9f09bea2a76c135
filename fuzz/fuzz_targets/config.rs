//! `.keyhound.yaml`: loading never panics. The loader reads a file, so the input is written
//! to one first.
#![no_main]

use keyhound::config::Config;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = std::env::temp_dir().join(format!("keyhound-fuzz-{}.keyhound.yaml", std::process::id()));
    std::fs::write(&path, data).unwrap();
    let _ = Config::load(&path, true);
});
