//! Where a rule is in its file. Shared with `build.rs`, which records the lines of the
//! built-in rules at build time.

/// The 1-based line of `id: <id>` in a rule file (1 when not found).
pub(crate) fn line_of_id(text: &str, id: &str) -> usize {
    text.lines()
        .position(|l| {
            let t = l.trim_start().trim_start_matches('-').trim_start();
            t.strip_prefix("id:")
                .map(|v| v.trim().trim_matches(|c| c == '"' || c == '\'') == id)
                .unwrap_or(false)
        })
        .map_or(1, |i| i + 1)
}
