//! Entry points for the fuzz targets in `fuzz/`: the internals a target needs, reached here
//! rather than made part of the library's interface. Nothing else should use them.

/// The `(mode, name, id)` entries of a git tree object, as the history pass reads them.
pub fn tree_entries(data: &[u8]) -> Vec<(&[u8], &[u8], &[u8])> {
    crate::source::git::trees::tree_entries(data).collect()
}

/// The largest delta result the fuzz target builds (the pack walk's bound is `--max-file-size`).
pub const MAX_DELTA_RESULT: u64 = 1 << 20;

/// A pack delta as the pack walk reads it: the base and result sizes from its header, then its
/// instructions applied to `base`. The result, or why the delta is unusable.
pub fn apply_delta(base: &[u8], delta: &[u8]) -> Result<Vec<u8>, String> {
    use crate::source::git::objects::walk;
    let (base_size, a) = walk::varint(delta)?;
    let (result_size, b) = walk::varint(&delta[a..])?;
    if base_size != base.len() as u64 {
        return Err("its base size does not match".into());
    }
    if result_size > MAX_DELTA_RESULT {
        return Err("its result is too large".into());
    }
    let mut out = vec![0; result_size as usize];
    let mut inserted = Vec::new();
    walk::apply_delta(base, &delta[a + b..], &mut out, Some(&mut inserted))?;
    Ok(out)
}
