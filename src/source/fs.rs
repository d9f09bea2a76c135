//! Working-tree source: a parallel walk (`ignore::WalkParallel`) that honours `.gitignore`,
//! `.ignore` and git's excludes inside git work trees (outside one, in a release tarball or a
//! copy of a workspace, every file is scanned: the `.env` files a `.gitignore` lists are where
//! keys are), never enters `.git`, does not follow symlinks unless asked, and reads each
//! regular file into a per-thread buffer. It also finds the git repositories in the tree (work
//! trees and bare repositories, at any depth) and counts what ignore rules skipped.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use ignore::{WalkBuilder, WalkState};

use super::{Event, Skip, SourceError};

#[derive(Debug, Clone)]
pub struct WalkOptions {
    /// Honour `.gitignore`, `.ignore` and git's exclude files (inside git work trees).
    pub respect_ignore: bool,
    pub follow_links: bool,
    pub max_file_size: u64,
    pub threads: usize,
    /// Entries (files or directories) to skip, e.g. the configuration's `exclude_paths`.
    pub exclude: Option<PathFilter>,
    /// Read and hand out files; `false` only finds repositories.
    pub read: bool,
    /// Archives will be opened: read them whole (otherwise only their head, like any binary
    /// file).
    pub open_archives: bool,
}

/// How walked files are read: up to `max` bytes, archives whole when they will be opened.
#[derive(Debug, Clone, Copy)]
struct Reading {
    max: u64,
    archives: bool,
}

/// A predicate on walked paths: `true` skips the entry (and, for a directory, all under it).
#[derive(Clone)]
pub struct PathFilter(pub Arc<dyn Fn(&Path) -> bool + Send + Sync>);

impl std::fmt::Debug for PathFilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PathFilter(..)")
    }
}

/// What a walk learned besides the files it handed out.
#[derive(Debug, Default)]
pub struct Walked {
    /// Git repositories found: directories holding `.git` (work trees, linked worktrees,
    /// checked-out submodules) and bare repositories, sorted.
    pub repositories: Vec<PathBuf>,
    /// Entries that ignore rules skipped (a skipped directory counts once).
    pub ignored: u64,
}

/// Counters the walk's threads share.
#[derive(Default)]
struct Tally {
    /// Children of every directory the walk entered.
    listed: AtomicU64,
    /// Entries the walk yielded (below the roots) or failed on.
    yielded: AtomicU64,
    /// Entries the filter rejected (`.git`, exclusions, bare repositories).
    filtered: AtomicU64,
    repos: Mutex<Vec<PathBuf>>,
}

/// Walks `paths` in parallel. `make_visitor` is called once per worker thread; the visitor it
/// returns receives that thread's events.
pub fn walk<M, F>(paths: &[PathBuf], opts: &WalkOptions, make_visitor: M) -> Walked
where
    M: Fn() -> F + Sync,
    F: FnMut(Event<'_>) + Send,
{
    let Some((first, rest)) = paths.split_first() else {
        return Walked::default();
    };
    let tally = Arc::new(Tally::default());
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
        .require_git(true)
        .follow_links(opts.follow_links)
        .threads(opts.threads)
        .filter_entry({
            let (exclude, tally) = (opts.exclude.clone(), Arc::clone(&tally));
            move |e| {
                let keep = keep_entry(e, exclude.as_ref(), &tally);
                if !keep {
                    tally.filtered.fetch_add(1, Ordering::Relaxed);
                }
                keep
            }
        });
    let read = opts.read;
    let how = Reading {
        max: opts.max_file_size,
        archives: opts.open_archives,
    };
    b.build_parallel().run(|| {
        let mut visit = make_visitor();
        let mut buf = Vec::new();
        let tally = Arc::clone(&tally);
        Box::new(move |entry| {
            let entry = match entry {
                Ok(e) => e,
                Err(err) => {
                    tally.yielded.fetch_add(1, Ordering::Relaxed);
                    visit(Event::Error(walk_error(err)));
                    return WalkState::Continue;
                }
            };
            if entry.depth() > 0 {
                tally.yielded.fetch_add(1, Ordering::Relaxed);
            }
            let Some(kind) = entry.file_type() else {
                return WalkState::Continue;
            };
            if kind.is_dir() {
                let children = std::fs::read_dir(entry.path()).map_or(0, |d| d.count());
                tally.listed.fetch_add(children as u64, Ordering::Relaxed);
            } else if read {
                visit_file(&entry, kind, how, &mut buf, &mut visit);
            }
            WalkState::Continue
        })
    });
    let listed = tally.listed.load(Ordering::Relaxed);
    let seen = tally.yielded.load(Ordering::Relaxed) + tally.filtered.load(Ordering::Relaxed);
    let mut repositories =
        std::mem::take(&mut *tally.repos.lock().unwrap_or_else(|p| p.into_inner()));
    repositories.sort();
    repositories.dedup();
    Walked {
        repositories,
        ignored: if opts.respect_ignore {
            listed.saturating_sub(seen)
        } else {
            0
        },
    }
}

/// The walk's filter: never enter `.git` (but note the repository it belongs to), treat a
/// bare repository as a repository rather than files, and skip excluded paths.
fn keep_entry(e: &ignore::DirEntry, exclude: Option<&PathFilter>, tally: &Tally) -> bool {
    let name = e.file_name();
    if name == ".git" {
        let root = e.path().parent().map(Path::to_path_buf).unwrap_or_default();
        tally
            .repos
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(root);
        return false;
    }
    let is_dir = e.file_type().is_some_and(|t| t.is_dir());
    if is_dir && name.to_string_lossy().ends_with(".git") && gix::discover::is_git(e.path()).is_ok()
    {
        tally
            .repos
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(e.path().to_path_buf());
        return false;
    }
    !exclude.is_some_and(|x| (x.0)(e.path()))
}

/// Reads one walked entry that is not a directory and hands it to `visit`.
fn visit_file<F: FnMut(Event<'_>)>(
    entry: &ignore::DirEntry,
    kind: std::fs::FileType,
    how: Reading,
    buf: &mut Vec<u8>,
    visit: &mut F,
) {
    let path = display_path(entry.path());
    if !kind.is_file() {
        // Symbolic links are not followed (without -L). Anything else (FIFOs, sockets,
        // devices) is never opened: reading it could block forever or never end.
        if !kind.is_symlink() {
            visit(Event::Skipped {
                path: &path,
                why: Skip::NotAFile,
            });
        }
        return;
    }
    match read_file(entry.path(), how, buf) {
        Ok(Some(())) => visit(Event::File {
            path: &path,
            bytes: buf,
        }),
        Ok(None) => visit(Event::Skipped {
            path: &path,
            why: Skip::TooLarge,
        }),
        Err(e) => visit(Event::Error(SourceError {
            path,
            message: e.to_string(),
        })),
    }
}

/// The head of a file that decides whether it is binary (`blob::looks_binary` looks for a NUL
/// byte in the first 8 KiB).
const BINARY_HEAD: usize = 8192;

/// Reads `path` into `buf`; `Ok(None)` when the file is larger than `how.max`. The first
/// 8 KiB come first: a binary file is read no further, and `buf` then holds just that head,
/// which is all the scanner needs to count it as binary and skip it (or to run the binary
/// rules, which read only the head). Archives, binary as they are, are read whole when they
/// will be opened.
fn read_file(path: &Path, how: Reading, buf: &mut Vec<u8>) -> std::io::Result<Option<()>> {
    let max = how.max;
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
    let whole =
        !crate::blob::looks_binary(buf) || (how.archives && super::archive::detect(buf).is_some());
    if buf.len() == BINARY_HEAD && whole {
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
        read_how(
            content,
            Reading {
                max,
                archives: true,
            },
        )
    }

    fn read_how(content: &[u8], how: Reading) -> (Option<()>, Vec<u8>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, content).unwrap();
        let mut buf = Vec::new();
        let r = read_file(&path, how, &mut buf).unwrap();
        (r, buf)
    }

    #[test]
    fn an_archive_is_read_whole_only_when_archives_are_opened() {
        // A zip: local file header magic, then binary content well past the head.
        let mut content = b"PK\x03\x04".to_vec();
        content.resize(4 * BINARY_HEAD, 0);
        assert!(super::super::archive::detect(&content).is_some());
        let (_, buf) = read_how(
            &content,
            Reading {
                max: u64::MAX,
                archives: true,
            },
        );
        assert_eq!(buf.len(), content.len());
        let (_, buf) = read_how(
            &content,
            Reading {
                max: u64::MAX,
                archives: false,
            },
        );
        assert_eq!(buf.len(), BINARY_HEAD);
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
