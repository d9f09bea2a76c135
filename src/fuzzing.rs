//! Entry points for the fuzz targets in `fuzz/`: the internals a target needs, reached here
//! rather than made part of the library's interface. Nothing else should use them.

/// The `(mode, id)` entries of a git tree object, as the history pass reads them.
pub fn tree_entries(data: &[u8]) -> Vec<(&[u8], &[u8])> {
    crate::source::git::history::tree_entries(data).collect()
}
