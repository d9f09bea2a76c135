//! The git tree-entry reader of the history pass: no panic, each entry a mode, a name and a
//! 20-byte id taken from the input in order.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let entries = keyhound::fuzzing::tree_entries(data);
    let mut used = 0;
    for (mode, name, id) in &entries {
        assert_eq!(id.len(), 20);
        assert!(!mode.contains(&b' '));
        assert!(!name.contains(&0));
        // Each entry is "MODE NAME\0" plus the id.
        used += mode.len() + 1 + name.len() + 1 + 20;
    }
    assert!(used <= data.len());
});
