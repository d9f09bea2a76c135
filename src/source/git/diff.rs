//! Diff-mode git sources: what is about to be committed (the index against `HEAD`) and what a
//! range of commits added (each commit against its first parent). Only secrets on added lines
//! are reported.
//!
//! Owns tree and index comparison, "is this line new" and the commits' descriptions. It is a
//! pure producer: it hands the scanner each new blob of a change with a lazily built
//! "is this line added?" test (`AddedLines`), and the scanner decides what is a finding.
//!
//! What "added" means. Git's line diff calls a moved line deleted-and-added, which would report
//! a secret that was only moved as new. Here a line is added when its content (ignoring
//! surrounding whitespace) occurs in none of the old versions of the paths the change touched:
//! a secret moved within a file, between changed files or into a renamed file is not new; a
//! secret on a new or edited line is. A finding is new when any of its lines is added. A new
//! blob identical to an old blob of the same change (a rename, a copy of a changed file) adds
//! nothing and is not even read. For a merge, a line is added only if no parent has it on that
//! path, so changes brought in from the merged branch are not reported again while a secret
//! written while resolving the merge is.
//!
//! Cheap by construction, because pre-commit latency is the product: the index's cache-tree
//! extension lets unchanged directories be skipped without reading their trees, old blobs are
//! only read for files whose new version has a finding, and nothing is read twice.

use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::ops::Range;
use std::path::{Path, PathBuf};

use gix::bstr::ByteSlice;
use gix::objs::tree::EntryKind;
use gix::prelude::FindExt;
use gix::ObjectId;

use crate::blob::{looks_binary, BlobId};
use crate::finding::Commit;
use crate::source::{AddedLines, Event, Skip, SourceError};
use crate::suppress::Lines;

/// Errors of a diff-mode scan. Messages say what to do, not just what failed.
#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    #[error("{0}")]
    Git(String),
    #[error(
        "{path}: not inside a git repository ({message}); --staged, --since-commit and --range \
         scan a repository: run keyhound inside one or pass its path"
    )]
    NotARepository { path: String, message: String },
    #[error("{path}: --staged needs a repository with a work tree, not a bare repository")]
    Bare { path: String },
    #[error("cannot resolve `{spec}`{note}: {message}\n{advice}")]
    Unresolved {
        spec: String,
        message: String,
        note: &'static str,
        advice: &'static str,
    },
    #[error(
        "cannot scan {range}: this is a shallow clone and commit {commit} has no parent here, \
         so the history the range needs is missing.\n{advice}",
        advice = SHALLOW_ADVICE
    )]
    Shallow { range: String, commit: String },
    #[error("`{0}` is not a range: write A..B (A or B may be empty for HEAD)")]
    BadRange(String),
    #[error(
        "cannot resolve `{spec}`: the repository has no commits yet (HEAD is unborn{branch}); \
         commit first, or scan the files with `keyhound scan PATH`"
    )]
    Unborn { spec: String, branch: String },
}

const SHALLOW_ADVICE: &str = "\
Fetch the missing history, then run keyhound again:
  GitHub Actions: use actions/checkout with `fetch-depth: 0`
  GitLab CI:      set the variable GIT_DEPTH: 0
  elsewhere:      git fetch --unshallow   (or git fetch --deepen=N for N more commits)";

const FETCH_ADVICE: &str = "\
If it is a branch or commit that was not fetched, fetch it first:
  GitHub Actions: use actions/checkout with `fetch-depth: 0`
  elsewhere:      git fetch origin <branch>";

fn git_err(context: &str, e: impl std::fmt::Display) -> DiffError {
    DiffError::Git(format!("{context}: {e}"))
}

/// Options shared by the diff-mode scans.
pub struct DiffOptions<'a> {
    pub max_file_size: u64,
    /// Paths (relative to the repository root) to skip.
    pub exclude: Option<&'a dyn Fn(&str) -> bool>,
}

/// The visitor a diff-mode scan hands its events to.
pub type Visit<'v> = dyn FnMut(Event<'_>) + 'v;

/// Finds the repository containing `path` (searching parent directories), opened with
/// isolated options like every repository keyhound reads.
pub fn discover(path: &Path) -> Result<gix::Repository, DiffError> {
    let opts = gix::open::Options::isolated();
    gix::discover_opts(path, Default::default(), opts).map_err(|e| DiffError::NotARepository {
        path: path.display().to_string(),
        message: e.to_string(),
    })
}

/// The repository a pre-commit hook runs in: `$GIT_DIR` when git set it for the hook, else
/// the repository containing `path`.
pub fn discover_for_hook(path: &Path) -> Result<gix::Repository, DiffError> {
    match std::env::var_os("GIT_DIR") {
        Some(dir) if !dir.is_empty() => {
            gix::open_opts(PathBuf::from(dir), gix::open::Options::isolated()).map_err(|e| {
                DiffError::NotARepository {
                    path: "$GIT_DIR".into(),
                    message: e.to_string(),
                }
            })
        }
        _ => discover(path),
    }
}

/// A side of a change: an object and what kind of tree entry points to it.
#[derive(Debug, Clone, Copy)]
struct Side {
    id: ObjectId,
    kind: EntryKind,
}

fn is_blob(kind: EntryKind) -> bool {
    matches!(kind, EntryKind::Blob | EntryKind::BlobExecutable)
}

/// One changed path. `old` is `None` for an added path, `new` for a deleted one.
#[derive(Debug)]
struct Change {
    path: Vec<u8>,
    old: Option<Side>,
    new: Option<Side>,
}

struct TreeEntry {
    name: Vec<u8>,
    kind: EntryKind,
    id: ObjectId,
}

/// Git's order of tree entries: by name, with a tree's name compared as if it ended in `/`.
/// The index is sorted by full path, which is the same order.
fn cmp_names(a: &[u8], a_tree: bool, b: &[u8], b_tree: bool) -> std::cmp::Ordering {
    let n = a.len().min(b.len());
    match a[..n].cmp(&b[..n]) {
        std::cmp::Ordering::Equal => {
            let next = |s: &[u8], tree: bool| s.get(n).copied().or(tree.then_some(b'/'));
            next(a, a_tree).cmp(&next(b, b_tree))
        }
        other => other,
    }
}

fn join(prefix: &[u8], name: &[u8]) -> Vec<u8> {
    let mut p = Vec::with_capacity(prefix.len() + name.len() + 1);
    p.extend_from_slice(prefix);
    p.extend_from_slice(name);
    p
}

/// Collects changes between trees, and between a tree and the index.
struct Differ<'r> {
    repo: &'r gix::Repository,
    buf: Vec<u8>,
    out: Vec<Change>,
}

impl<'r> Differ<'r> {
    fn new(repo: &'r gix::Repository) -> Self {
        Differ {
            repo,
            buf: Vec::new(),
            out: Vec::new(),
        }
    }

    fn read_tree(&mut self, id: Option<ObjectId>) -> Result<Vec<TreeEntry>, DiffError> {
        let Some(id) = id else {
            return Ok(Vec::new());
        };
        if id.is_empty_tree() {
            return Ok(Vec::new());
        }
        let iter = self
            .repo
            .objects
            .find_tree_iter(&id, &mut self.buf)
            .map_err(|e| git_err(&format!("cannot read tree {id}"), e))?;
        let mut out = Vec::new();
        for e in iter {
            let e = e.map_err(|e| git_err(&format!("cannot decode tree {id}"), e))?;
            out.push(TreeEntry {
                name: e.filename.to_vec(),
                kind: e.mode.kind(),
                id: e.oid.to_owned(),
            });
        }
        Ok(out)
    }

    /// Changes from tree `old` to tree `new` under `prefix` (empty, or ending in `/`).
    /// Identical subtrees are skipped without being read.
    fn trees(
        &mut self,
        old: Option<ObjectId>,
        new: Option<ObjectId>,
        prefix: &[u8],
    ) -> Result<(), DiffError> {
        if old == new {
            return Ok(());
        }
        let a = self.read_tree(old)?;
        let b = self.read_tree(new)?;
        let (mut i, mut j) = (0, 0);
        while i < a.len() || j < b.len() {
            let ord = match (a.get(i), b.get(j)) {
                (Some(x), Some(y)) => cmp_names(
                    &x.name,
                    x.kind == EntryKind::Tree,
                    &y.name,
                    y.kind == EntryKind::Tree,
                ),
                (Some(_), None) => std::cmp::Ordering::Less,
                _ => std::cmp::Ordering::Greater,
            };
            match ord {
                std::cmp::Ordering::Less => {
                    self.one_sided(&a[i], prefix, true)?;
                    i += 1;
                }
                std::cmp::Ordering::Greater => {
                    self.one_sided(&b[j], prefix, false)?;
                    j += 1;
                }
                std::cmp::Ordering::Equal => {
                    let (x, y) = (&a[i], &b[j]);
                    if x.kind == EntryKind::Tree {
                        if x.id != y.id {
                            let p = join(prefix, &x.name);
                            self.trees(Some(x.id), Some(y.id), &[p.as_slice(), b"/"].concat())?;
                        }
                    } else if x.id != y.id || x.kind != y.kind {
                        self.out.push(Change {
                            path: join(prefix, &x.name),
                            old: Some(Side {
                                id: x.id,
                                kind: x.kind,
                            }),
                            new: Some(Side {
                                id: y.id,
                                kind: y.kind,
                            }),
                        });
                    }
                    i += 1;
                    j += 1;
                }
            }
        }
        Ok(())
    }

    /// An entry present on one side only: deleted (`old_side`) or added.
    fn one_sided(&mut self, e: &TreeEntry, prefix: &[u8], old_side: bool) -> Result<(), DiffError> {
        let path = join(prefix, &e.name);
        if e.kind == EntryKind::Tree {
            let p = [path.as_slice(), b"/"].concat();
            return if old_side {
                self.trees(Some(e.id), None, &p)
            } else {
                self.trees(None, Some(e.id), &p)
            };
        }
        let side = Some(Side {
            id: e.id,
            kind: e.kind,
        });
        self.out.push(if old_side {
            Change {
                path,
                old: side,
                new: None,
            }
        } else {
            Change {
                path,
                old: None,
                new: side,
            }
        });
        Ok(())
    }

    /// Changes from tree `tree` to the index entries `range` (all under `prefix`), using the
    /// cache-tree node `cache` of this directory to skip unchanged subdirectories.
    fn index(
        &mut self,
        state: &gix::index::State,
        range: Range<usize>,
        prefix: &[u8],
        tree: Option<ObjectId>,
        cache: Option<&gix::index::extension::Tree>,
    ) -> Result<(), DiffError> {
        let old = self.read_tree(tree)?;
        let entries = state.entries();
        let (mut i, mut oi) = (range.start, 0);
        loop {
            // Stage-0 entries only: conflicted paths cannot be committed, and intent-to-add
            // entries have no content yet.
            while i < range.end && {
                let e = &entries[i];
                e.stage_raw() != 0 || e.flags.contains(gix::index::entry::Flags::INTENT_TO_ADD)
            } {
                i += 1;
            }
            let item = (i < range.end).then(|| {
                let path = entries[i].path(state);
                let rest = &path[prefix.len()..];
                match rest.find_byte(b'/') {
                    Some(k) => {
                        let dir = &path[..prefix.len() + k + 1];
                        let end = i + entries[i..range.end]
                            .partition_point(|e| e.path(state).starts_with(dir));
                        (&rest[..k], true, end)
                    }
                    None => (rest, false, i + 1),
                }
            });
            let ord = match (&item, old.get(oi)) {
                (Some((name, is_dir, _)), Some(o)) => {
                    cmp_names(name, *is_dir, &o.name, o.kind == EntryKind::Tree)
                }
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => break,
            };
            match ord {
                std::cmp::Ordering::Greater => {
                    self.one_sided(&old[oi], prefix, true)?;
                    oi += 1;
                }
                std::cmp::Ordering::Less | std::cmp::Ordering::Equal => {
                    let (name, is_dir, end) = item.expect("an index item");
                    let name = name.to_vec();
                    let o = (ord == std::cmp::Ordering::Equal).then(|| &old[oi]);
                    if is_dir {
                        let child = join(prefix, &[name.as_slice(), b"/"].concat());
                        let e = &entries[i];
                        if end == i + 1 && e.mode.is_sparse() {
                            // A sparse index keeps a whole directory as one tree entry.
                            self.trees(o.map(|o| o.id), Some(e.id), &child)?;
                        } else {
                            let node = cache.and_then(|c| {
                                c.children.iter().find(|t| t.name.as_slice() == name)
                            });
                            let unchanged = match (o, node) {
                                (Some(o), Some(n)) => {
                                    n.num_entries == Some((end - i) as u32) && n.id == o.id
                                }
                                _ => false,
                            };
                            if !unchanged {
                                self.index(state, i..end, &child, o.map(|o| o.id), node)?;
                            }
                        }
                    } else {
                        let e = &entries[i];
                        let kind = e
                            .mode
                            .to_tree_entry_mode()
                            .map_or(EntryKind::Commit, |m| m.kind());
                        let new = Side { id: e.id, kind };
                        match o {
                            Some(o) if o.id == new.id && o.kind == new.kind => {}
                            _ => self.out.push(Change {
                                path: e.path(state).to_vec(),
                                old: o.map(|o| Side {
                                    id: o.id,
                                    kind: o.kind,
                                }),
                                new: Some(new),
                            }),
                        }
                    }
                    i = end;
                    if o.is_some() {
                        oi += 1;
                    }
                }
            }
        }
        Ok(())
    }
}

/// Reads the index a commit would be made from: `$GIT_INDEX_FILE` when git set it for a hook
/// (`git commit -a` and `git commit <paths>` commit a temporary index), else the repository's.
fn read_index(repo: &gix::Repository) -> Result<gix::index::State, DiffError> {
    let path = match std::env::var_os("GIT_INDEX_FILE") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => repo.index_path(),
    };
    if !path.exists() {
        return Ok(gix::index::State::new(repo.object_hash()));
    }
    // The trailing checksum is not verified: the index is local, written by git a moment ago,
    // and hashing it costs more than everything else a small commit needs.
    let file = gix::index::File::at(&path, repo.object_hash(), true, Default::default())
        .map_err(|e| git_err(&format!("cannot read the index {}", path.display()), e))?;
    Ok(file.into())
}

/// Scans the added lines of what is staged: the index against `HEAD`'s tree (or an empty
/// tree before the first commit).
pub fn staged(
    repo: &gix::Repository,
    opts: &DiffOptions<'_>,
    visit: &mut Visit<'_>,
) -> Result<(), DiffError> {
    if repo.workdir().is_none() {
        return Err(DiffError::Bare {
            path: repo.git_dir().display().to_string(),
        });
    }
    let head_tree = repo
        .head_tree_id_or_empty()
        .map_err(|e| git_err("cannot read HEAD", e))?
        .detach();
    let head_tree = (!head_tree.is_empty_tree()).then_some(head_tree);
    let state = read_index(repo)?;
    let cache = state.tree();
    let n = state.entries().len();
    let unchanged = matches!((cache, head_tree), (Some(c), Some(h))
        if c.num_entries == Some(n as u32) && c.id == h);
    let mut differ = Differ::new(repo);
    if !unchanged {
        differ.index(&state, 0..n, b"", head_tree, cache)?;
    }
    Producer { repo, opts }.process(0, &differ.out, None, &[], visit);
    Ok(())
}

/// The paths whose staged content differs from `HEAD` (what `git diff --cached --name-only
/// --no-renames` lists), in index order. For tests and diagnostics.
#[doc(hidden)]
pub fn staged_paths(repo: &gix::Repository) -> Result<Vec<String>, DiffError> {
    let head_tree = repo
        .head_tree_id_or_empty()
        .map_err(|e| git_err("cannot read HEAD", e))?
        .detach();
    let head_tree = (!head_tree.is_empty_tree()).then_some(head_tree);
    let state = read_index(repo)?;
    let mut differ = Differ::new(repo);
    differ.index(
        &state,
        0..state.entries().len(),
        b"",
        head_tree,
        state.tree(),
    )?;
    let mut paths: Vec<String> = differ
        .out
        .iter()
        .map(|c| c.path.to_str_lossy().into_owned())
        .collect();
    paths.sort();
    Ok(paths)
}

/// Which commits a range scan covers.
#[derive(Debug, Clone)]
pub enum RangeSpec {
    /// Commits reachable from `HEAD` but not from this revision.
    SinceCommit(String),
    /// `A..B`: commits reachable from `B` but not from `A`; an empty side means `HEAD`.
    Range(String),
}

impl RangeSpec {
    fn display(&self) -> String {
        match self {
            RangeSpec::SinceCommit(r) => format!("{r}..HEAD"),
            RangeSpec::Range(r) => r.clone(),
        }
    }
}

fn resolve(repo: &gix::Repository, spec: &str, shallow: bool) -> Result<ObjectId, DiffError> {
    if spec.starts_with("HEAD") {
        if let Ok(head) = repo.head() {
            if head.is_unborn() {
                let branch = head
                    .referent_name()
                    .map(|n| format!(", on branch {}", n.shorten()))
                    .unwrap_or_default();
                return Err(DiffError::Unborn {
                    spec: spec.to_string(),
                    branch,
                });
            }
        }
    }
    let unresolved = |message: String| DiffError::Unresolved {
        spec: spec.to_string(),
        message,
        note: if shallow {
            " (this is a shallow clone; the commit is probably outside its history)"
        } else {
            ""
        },
        advice: if shallow {
            SHALLOW_ADVICE
        } else {
            FETCH_ADVICE
        },
    };
    let id = repo
        .rev_parse_single(spec)
        .map_err(|e| unresolved(e.to_string()))?;
    let commit = id.object().map_err(|e| unresolved(e.to_string()))?;
    let commit = commit
        .peel_to_commit()
        .map_err(|e| unresolved(format!("not a commit: {e}")))?;
    Ok(commit.id)
}

/// Scans the added lines of each commit in the range, each against its first parent.
/// Returns the number of commits.
pub fn range(
    repo: &gix::Repository,
    spec: &RangeSpec,
    opts: &DiffOptions<'_>,
    visit: &mut Visit<'_>,
) -> Result<u64, DiffError> {
    let shallow: HashSet<ObjectId> = repo
        .shallow_commits()
        .map_err(|e| git_err("cannot read the shallow file", e))?
        .map(|c| c.iter().copied().collect())
        .unwrap_or_default();
    let (base, tip) = match spec {
        RangeSpec::SinceCommit(r) => (r.as_str(), "HEAD"),
        RangeSpec::Range(r) => {
            if r.contains("...") {
                return Err(DiffError::BadRange(r.clone()));
            }
            let (a, b) = r
                .split_once("..")
                .ok_or_else(|| DiffError::BadRange(r.clone()))?;
            (
                if a.is_empty() { "HEAD" } else { a },
                if b.is_empty() { "HEAD" } else { b },
            )
        }
    };
    let tip = resolve(repo, tip, !shallow.is_empty())?;
    let base = resolve(repo, base, !shallow.is_empty())?;
    let commits = commits_between(repo, spec, base, tip, &shallow)?;
    let producer = Producer { repo, opts };
    let mut differ = Differ::new(repo);
    let mut buf = Vec::new();
    for (order, (id, parents)) in commits.iter().enumerate() {
        let tree_of = |c: &ObjectId, buf: &mut Vec<u8>| -> Result<ObjectId, DiffError> {
            let mut commit = repo
                .objects
                .find_commit_iter(c, buf)
                .map_err(|e| git_err(&format!("cannot read commit {c}"), e))?;
            commit
                .tree_id()
                .map_err(|e| git_err(&format!("cannot decode commit {c}"), e))
        };
        let tree = tree_of(id, &mut buf)?;
        let first = match parents.first() {
            Some(p) => Some(tree_of(p, &mut buf)?),
            None => None,
        };
        let others = parents
            .iter()
            .skip(1)
            .map(|p| tree_of(p, &mut buf))
            .collect::<Result<Vec<_>, _>>()?;
        differ.out.clear();
        differ.trees(first, Some(tree), b"")?;
        let changes = std::mem::take(&mut differ.out);
        let info = commit_info(repo, *id)?;
        producer.process(order, &changes, Some(&info), &others, visit);
    }
    Ok(commits.len() as u64)
}

/// The commits reachable from `tip` and not from `base`, oldest first (the order in which
/// the secrets arrived), with their parents.
fn commits_between(
    repo: &gix::Repository,
    spec: &RangeSpec,
    base: ObjectId,
    tip: ObjectId,
    shallow: &HashSet<ObjectId>,
) -> Result<Vec<(ObjectId, Vec<ObjectId>)>, DiffError> {
    let walk = repo
        .rev_walk([tip])
        .with_hidden([base])
        .sorting(gix::revision::walk::Sorting::ByCommitTime(
            gix::traverse::commit::simple::CommitTimeOrder::NewestFirst,
        ))
        .all()
        .map_err(|e| git_err("cannot walk the commits", e))?;
    let mut commits = Vec::new();
    for info in walk {
        let info = info.map_err(|e| git_err("cannot walk the commits", e))?;
        if shallow.contains(&info.id) {
            return Err(DiffError::Shallow {
                range: spec.display(),
                commit: info.id.to_hex_with_len(12).to_string(),
            });
        }
        commits.push((info.id, info.parent_ids.to_vec()));
    }
    commits.reverse();
    Ok(commits)
}

/// Hands the new blobs of changes to the visitor.
struct Producer<'a> {
    repo: &'a gix::Repository,
    opts: &'a DiffOptions<'a>,
}

/// Hash of a line for "did this line exist before": surrounding whitespace is ignored, so a
/// re-indented line is not new.
fn line_key(line: &[u8]) -> u64 {
    let mut h = DefaultHasher::new();
    line.trim_ascii().hash(&mut h);
    h.finish()
}

/// Reads a blob if it is within the size limit: `Ok(None)` when it is too large.
fn read_blob(
    repo: &gix::Repository,
    id: &ObjectId,
    max: u64,
) -> Result<Option<Vec<u8>>, SourceError> {
    let error = |e: &dyn std::fmt::Display| SourceError {
        path: format!("object {id}"),
        message: format!("cannot read blob: {e}"),
    };
    match repo.find_header(*id) {
        Ok(h) if h.size() > max => return Ok(None),
        Ok(_) => {}
        Err(e) => return Err(error(&e)),
    }
    let mut buf = Vec::new();
    match repo.objects.find_blob(id, &mut buf) {
        Ok(_) => Ok(Some(buf)),
        Err(e) => Err(error(&e)),
    }
}

/// The "is this line added?" test of one changed path: a line is added when no old version
/// the change replaced (and, for a merge, no other parent's version of the path) has it. The
/// pool of old lines is built on the first question, shared by the paths of one change.
struct OldLines<'a> {
    repo: &'a gix::Repository,
    max: u64,
    changes: &'a [Change],
    pool: &'a mut Option<HashSet<u64>>,
    path: &'a [u8],
    other_parents: &'a [ObjectId],
    parents_read: bool,
    errors: Vec<SourceError>,
}

impl OldLines<'_> {
    fn pool_blob(&mut self, id: &ObjectId, pool: &mut HashSet<u64>) {
        match read_blob(self.repo, id, self.max) {
            Ok(Some(bytes)) if !looks_binary(&bytes) => {
                pool.extend(Lines::new(&bytes).iter().map(line_key));
            }
            Ok(_) => {}
            Err(e) => self.errors.push(e),
        }
    }
}

impl AddedLines for OldLines<'_> {
    fn is_added(&mut self, line: &[u8]) -> bool {
        let mut pool = match self.pool.take() {
            Some(p) => p,
            None => {
                let mut p = HashSet::new();
                for c in self.changes {
                    if let Some(o) = c.old.filter(|o| is_blob(o.kind)) {
                        self.pool_blob(&o.id, &mut p);
                    }
                }
                p
            }
        };
        if !self.parents_read {
            self.parents_read = true;
            for tree in self.other_parents {
                if let Some(id) = blob_at(self.repo, *tree, self.path) {
                    self.pool_blob(&id, &mut pool);
                }
            }
        }
        let added = !pool.contains(&line_key(line));
        *self.pool = Some(pool);
        added
    }
}

/// The blob at `path` in `tree`, if there is one.
fn blob_at(repo: &gix::Repository, tree: ObjectId, path: &[u8]) -> Option<ObjectId> {
    let tree = repo.find_tree(tree).ok()?;
    let entry = tree.lookup_entry(path.split(|&b| b == b'/')).ok()??;
    is_blob(entry.mode().kind()).then(|| entry.object_id())
}

impl Producer<'_> {
    /// Hands the new blobs of `changes` to `visit`. `commit` is the commit being scanned
    /// (none for the index); `other_parents` are the trees of a merge's parents after the
    /// first.
    fn process(
        &self,
        order: usize,
        changes: &[Change],
        commit: Option<&Commit>,
        other_parents: &[ObjectId],
        visit: &mut Visit<'_>,
    ) {
        // Old content this change replaced or removed: a new blob equal to one of these was
        // moved or copied, not written.
        let old_ids: HashSet<ObjectId> = changes
            .iter()
            .filter_map(|c| {
                let o = c.old?;
                (is_blob(o.kind) && c.new.is_none_or(|n| n.id != o.id)).then_some(o.id)
            })
            .collect();
        let mut pool: Option<HashSet<u64>> = None;
        for c in changes {
            let Some(new) = c.new.filter(|n| is_blob(n.kind)) else {
                continue;
            };
            if c.old.is_some_and(|o| o.id == new.id && is_blob(o.kind)) {
                continue; // only the mode changed
            }
            let path = c.path.to_str_lossy();
            if self.opts.exclude.is_some_and(|ex| ex(&path)) {
                continue;
            }
            if old_ids.contains(&new.id) {
                visit(Event::Skipped {
                    path: &path,
                    why: Skip::Unchanged,
                });
                continue;
            }
            let bytes = match read_blob(self.repo, &new.id, self.opts.max_file_size) {
                Ok(Some(b)) => b,
                Ok(None) => {
                    visit(Event::Skipped {
                        path: &path,
                        why: Skip::TooLarge,
                    });
                    continue;
                }
                Err(mut e) => {
                    e.path = path.into_owned();
                    visit(Event::Error(e));
                    continue;
                }
            };
            let mut lines = OldLines {
                repo: self.repo,
                max: self.opts.max_file_size,
                changes,
                pool: &mut pool,
                path: &c.path,
                other_parents,
                parents_read: false,
                errors: Vec::new(),
            };
            visit(Event::Added {
                path: &path,
                id: BlobId(new.id.as_bytes().try_into().unwrap_or([0; 20])),
                bytes: &bytes,
                order,
                commit,
                lines: &mut lines,
            });
            for e in std::mem::take(&mut lines.errors) {
                visit(Event::Error(e));
            }
        }
    }
}

/// Author, date and summary of a commit.
fn commit_info(repo: &gix::Repository, id: ObjectId) -> Result<Commit, DiffError> {
    let commit = repo
        .find_commit(id)
        .map_err(|e| git_err(&format!("cannot read commit {id}"), e))?;
    // The same form as history provenance: author date, ISO 8601 in UTC.
    let (author, email, date) = match commit.author() {
        Ok(sig) => {
            let sig = sig.trim();
            (
                sig.name.to_string(),
                sig.email.to_string(),
                super::history::iso8601_utc(sig.seconds()),
            )
        }
        Err(_) => Default::default(),
    };
    let summary = commit
        .message_raw_sloppy()
        .lines()
        .next()
        .map(|l| l.to_str_lossy().trim().to_string())
        .unwrap_or_default();
    Ok(Commit {
        id: id.to_string(),
        author,
        email,
        date,
        summary,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tree_order_puts_trees_after_dotted_files() {
        use std::cmp::Ordering::*;
        assert_eq!(cmp_names(b"a.b", false, b"a", true), Less);
        assert_eq!(cmp_names(b"a", true, b"a0", false), Less);
        assert_eq!(cmp_names(b"a", false, b"a", true), Less);
        assert_eq!(cmp_names(b"a", true, b"a", true), Equal);
    }

    #[test]
    fn line_keys_ignore_surrounding_whitespace() {
        assert_eq!(line_key(b"  key = 1\t"), line_key(b"key = 1"));
        assert_ne!(line_key(b"key = 1"), line_key(b"key = 2"));
    }
}
