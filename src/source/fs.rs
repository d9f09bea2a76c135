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

/// Reads `path` into `buf`; `Ok(None)` when the file is larger than `max`.
fn read_file(path: &Path, max: u64, buf: &mut Vec<u8>) -> std::io::Result<Option<()>> {
    let mut f = File::open(path)?;
    let len = f.metadata()?.len();
    if len > max {
        return Ok(None);
    }
    buf.clear();
    buf.reserve(len as usize);
    // `take` guards against a file that grows while it is read.
    (&mut f).take(max + 1).read_to_end(buf)?;
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
