//! The pack walk's delta reader: sizes from the header, instructions applied to a base. The
//! first input byte says where the base ends. No panic; a result has exactly the size the
//! header declares.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let (base, delta) = rest.split_at(usize::from(split).min(rest.len()));
    if let Ok(out) = keyhound::fuzzing::apply_delta(base, delta) {
        assert!(out.len() as u64 <= keyhound::fuzzing::MAX_DELTA_RESULT);
    }
});
