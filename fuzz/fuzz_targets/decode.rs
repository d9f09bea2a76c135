//! The base64 and percent decoders: no panic, bounded output, and base64 that keyhound itself
//! encodes decodes back.
#![no_main]

use keyhound::matcher::decode::{self, Encoding, MAX_DECODED};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for enc in [Encoding::Base64, Encoding::Percent] {
        if let Some(out) = enc.decode(data) {
            assert!(out.len() <= MAX_DECODED);
        }
    }
    if let Some(out) = decode::base64(data) {
        assert!(out.len() <= data.len());
    }
    if let Some(out) = decode::percent(data) {
        assert!(out.len() <= data.len());
        // Every `%` starts an escape of exactly two hex digits.
        let mut i = 0;
        while let Some(p) = data[i..].iter().position(|&b| b == b'%') {
            let hex = &data[i + p + 1..i + p + 3];
            assert!(hex.iter().all(u8::is_ascii_hexdigit), "{hex:?} accepted");
            i += p + 3;
        }
    }
    if data.len() <= 3 * 1024 {
        assert_eq!(decode::base64(encode(data).as_bytes()).as_deref(), Some(data));
    }
});

/// Standard base64 with padding.
fn encode(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for c in data.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                s.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}
