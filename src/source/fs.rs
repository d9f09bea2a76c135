//! Working-tree source: a parallel walk (`ignore::WalkParallel`) that honours `.gitignore` and
//! `.ignore` unless told not to, never enters `.git`, does not follow symlinks unless asked,
//! and reads each regular file into a per-thread buffer.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ignore::{WalkBuilder, WalkState};

use super::{Event, SourceError};

#[derive(Debug, Clone)]
pub struct WalkOptions {
    /// Honour `.gitignore`, `.ignore` and git's exclude files.
    pub respect_ignore: bool,
    pub follow_links: bool,
    pub max_file_size: u64,
    pub threads: usize,
    /// Entries (files or directories) to skip, e.g. the configuration's `exclude_paths`.
    pub exclude: Option<PathFilter>,
}

/// A predicate on walked paths: `true` skips the entry (and, for a directory, all under it).
#[derive(Clone)]
pub struct PathFilter(pub Arc<dyn Fn(&Path) -> bool + Send + Sync>);

impl std::fmt::Debug for PathFilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PathFilter(..)")
    }
}

/// Walks `paths` in parallel. `make_visitor` is called once per worker thread; the visitor it
/// returns receives that thread's events.
pub fn walk<M, F>(paths: &[PathBuf], opts: &WalkOptions, make_visitor: M)
where
    M: Fn() -> F + Sync,
    F: FnMut(Event<'_>) + Send,
{
    let Some((first, rest)) = paths.split_first() else {
        return;
    };
    let mut b = WalkBuilder::new(first);
    for p in rest {
        b.add(p);
    }
    b.hidden(false)
        .ignore(opts.respect_ignore)
        .git_ignore(opts.respect_ignore)
        .git_exclude(opts.respect_ignore)
        .git_global(opts.respect_ignore)
        .parents(opts.respect_ignore)
        .require_git(false)
        .follow_links(opts.follow_links)
        .threads(opts.threads)
        .filter_entry({
            let exclude = opts.exclude.clone();
            move |e| e.file_name() != ".git" && !exclude.as_ref().is_some_and(|x| (x.0)(e.path()))
        });
    let max = opts.max_file_size;
    b.build_parallel().run(|| {
        let mut visit = make_visitor();
        let mut buf = Vec::new();
        Box::new(move |entry| {
            let entry = match entry {
                Ok(e) => e,
                Err(err) => {
                    visit(Event::Error(walk_error(err)));
                    return WalkState::Continue;
                }
            };
            let is_file = entry.file_type().is_some_and(|t| t.is_file());
            if !is_file {
                return WalkState::Continue;
            }
            let path = display_path(entry.path());
            match read_file(entry.path(), max, &mut buf) {
                Ok(Some(())) => visit(Event::Blob {
                    path: &path,
                    bytes: &buf,
                }),
                Ok(None) => visit(Event::TooLarge {
                    path: &path,
                    size: entry.metadata().map(|m| m.len()).unwrap_or(0),
                }),
                Err(e) => visit(Event::Error(SourceError {
                    path,
                    message: e.to_string(),
                })),
            }
            WalkState::Continue
        })
    });
}

/// The head of a file that decides whether it is binary (`blob::looks_binary` looks for a NUL
/// byte in the first 8 KiB).
const BINARY_HEAD: usize = 8192;

/// Reads `path` into `buf`; `Ok(None)` when the file is larger than `max`. The first 8 KiB
/// come first: a binary file is read no further, and `buf` then holds just that head, which
/// is all the scanner needs to count it as binary and skip it.
fn read_file(path: &Path, max: u64, buf: &mut Vec<u8>) -> std::io::Result<Option<()>> {
    let f = File::open(path)?;
    let len = f.metadata()?.len();
    if len > max {
        return Ok(None);
    }
    buf.clear();
    // `take` guards against a file that grows while it is read; for any `max`, even
    // `u64::MAX`, one byte past it is enough to tell.
    let mut f = f.take(max.saturating_add(1));
    (&mut f).take(BINARY_HEAD as u64).read_to_end(buf)?;
    if buf.len() == BINARY_HEAD && !crate::blob::looks_binary(buf) {
        buf.reserve(
            usize::try_from(len)
                .unwrap_or(0)
                .saturating_sub(BINARY_HEAD),
        );
        f.read_to_end(buf)?;
    }
    if buf.len() as u64 > max {
        return Ok(None);
    }
    Ok(Some(()))
}

/// Paths as the user would write them: no leading `./`.
pub fn display_path(p: &Path) -> String {
    let s = p.to_string_lossy();
    match s.strip_prefix("./") {
        Some(rest) if !rest.is_empty() => rest.to_string(),
        _ => s.into_owned(),
    }
}

fn walk_error(err: ignore::Error) -> SourceError {
    fn path_of(e: &ignore::Error) -> Option<String> {
        match e {
            ignore::Error::WithPath { path, .. } => Some(display_path(path)),
            ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
                path_of(err)
            }
            _ => None,
        }
    }
    fn innermost(e: &ignore::Error) -> String {
        match e {
            ignore::Error::WithPath { err, .. }
            | ignore::Error::WithDepth { err, .. }
            | ignore::Error::WithLineNumber { err, .. } => innermost(err),
            other => other.to_string(),
        }
    }
    SourceError {
        path: path_of(&err).unwrap_or_else(|| "<walk>".into()),
        message: innermost(&err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(content: &[u8], max: u64) -> (Option<()>, Vec<u8>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, content).unwrap();
        let mut buf = Vec::new();
        let r = read_file(&path, max, &mut buf).unwrap();
        (r, buf)
    }

    #[test]
    fn a_binary_file_is_read_no_further_than_its_head() {
        let mut content = vec![b'a'; 1 << 20];
        content[100] = 0;
        let (r, buf) = read(&content, u64::MAX);
        assert_eq!(r, Some(()));
        assert_eq!(buf.len(), BINARY_HEAD);
        assert!(crate::blob::looks_binary(&buf));
        // A NUL after the head does not make a file binary: it is read whole.
        content[100] = b'a';
        content[BINARY_HEAD] = 0;
        let (_, buf) = read(&content, u64::MAX);
        assert_eq!(buf, content);
        assert!(!crate::blob::looks_binary(&buf));
    }

    #[test]
    fn sizes_up_to_u64_max_are_limits() {
        let text = b"x".repeat(3 * BINARY_HEAD + 5);
        for max in [u64::MAX, u64::MAX - 1, text.len() as u64] {
            assert_eq!(read(&text, max), (Some(()), text.clone()), "{max}");
        }
        assert_eq!(read(&text, text.len() as u64 - 1).0, None);
        assert_eq!(read(b"", 0), (Some(()), Vec::new()));
        assert_eq!(read(b"ab", 1).0, None);
    }
}
