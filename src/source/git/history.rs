//! Git history source (audit mode).
//!
//! Scanning: every object in the repository's object database is decoded once, pack by pack,
//! with gix's pack traversal (each delta base is decompressed once, on gix's worker threads),
//! and every blob is handed to the visitor as it is decoded. Loose objects get their own pass;
//! alternates are followed; a blob present in several packs is scanned once (the scanner
//! de-duplicates by id). Commit headers (tree, parents, time) are collected on the way, which
//! makes the later reachability and provenance steps independent of any further commit reads.
//!
//! Provenance is computed afterwards and only for the blobs that have findings: the commits
//! reachable from the refs in scope are visited oldest first, and for each commit the set of
//! wanted blobs its tree contains is computed with memoisation by tree id, so every distinct
//! tree is decoded at most once. That yields the first commit that introduced each blob, its
//! path there, how many commits carry it, and whether a ref reaches it at all.

use crate::blob::IdMap;
use std::path::PathBuf;
use std::sync::Mutex;

use gix::hash::ObjectId;
use gix::objs::{Exists as _, Find as _, Kind};
use gix::odb::pack;

use super::objects::{
    each_object, open_pack, Found, Limits, PackMap, Present, ReadError, RELEASE_EVERY,
};
use super::GitError;
use crate::blob::BlobId;
use crate::finding::Commit;
use crate::scan::{HistoryFacts, Placement};
use crate::source::Event;
use std::ops::Range;

/// Which history to scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every ref: branches, tags, remote-tracking refs, stash, notes, and HEAD.
    AllRefs,
    /// One revision's history (`--branch REF`).
    Rev(String),
}

#[derive(Debug, Clone)]
pub struct HistoryOptions {
    pub scope: Scope,
    /// Also report blobs that no ref reaches.
    pub all_objects: bool,
    pub max_blob_size: u64,
    pub threads: usize,
}

/// A commit's header, as needed for reachability and ordering.
#[derive(Debug, Clone)]
struct CommitNode {
    id: ObjectId,
    tree: ObjectId,
    parents: Vec<ObjectId>,
    time: i64,
}

/// Trees as an adjacency list keyed by 64-bit id prefixes (collisions among the trees of one
/// repository are vanishingly unlikely at 64 bits, and every reported path is re-read by
/// full id): for each tree, its subtrees, plus which wanted blobs it lists directly.
#[derive(Debug, Default, Clone)]
struct TreeTable {
    keys: Vec<u64>,
    child_end: Vec<u32>,
    children: Vec<u64>,
    /// (row, wanted blob index) for every wanted blob a tree lists directly.
    direct: Vec<(u32, u32)>,
}

impl TreeTable {
    /// Records one tree.
    fn push(&mut self, key: u64, data: &[u8], wanted: &Wanted) {
        let row = self.keys.len() as u32;
        self.keys.push(key);
        for (mode, id) in tree_entries(data) {
            match mode {
                // A subdirectory.
                b"40000" => self.children.push(prefix_bytes(id)),
                // A submodule's commit: its repository is not here.
                b"160000" => {}
                _ => {
                    if let Some(w) = wanted.get_bytes(id) {
                        self.direct.push((row, w));
                    }
                }
            }
        }
        self.child_end.push(self.children.len() as u32);
    }

    fn append(&mut self, other: &TreeTable) {
        let (c0, r0) = (self.children.len() as u32, self.keys.len() as u32);
        self.keys.extend_from_slice(&other.keys);
        self.children.extend_from_slice(&other.children);
        self.child_end
            .extend(other.child_end.iter().map(|e| e + c0));
        self.direct
            .extend(other.direct.iter().map(|&(r, w)| (r + r0, w)));
    }

    fn children_of(&self, i: usize) -> &[u64] {
        let start = if i == 0 {
            0
        } else {
            self.child_end[i - 1] as usize
        };
        &self.children[start..self.child_end[i] as usize]
    }
}

/// The blobs with findings, with a 64 Ki-bit filter on the first two id bytes in front of the
/// map: the tree pass looks up every blob entry of every tree (tens of millions), and almost
/// all of them are rejected by one bit test.
struct Wanted {
    bits: Vec<u64>,
    ids: IdMap<ObjectId, u32>,
}

impl Wanted {
    fn new(ids: &[ObjectId]) -> Wanted {
        let mut bits = vec![0u64; 1024];
        let mut map = IdMap::default();
        for (i, id) in ids.iter().enumerate() {
            let k = Self::key(id);
            bits[k >> 6] |= 1 << (k & 63);
            map.insert(*id, i as u32);
        }
        Wanted { bits, ids: map }
    }

    fn key(id: &gix::hash::oid) -> usize {
        let b = id.as_bytes();
        (usize::from(b[0]) << 8) | usize::from(b[1])
    }

    fn get(&self, id: &gix::hash::oid) -> Option<u32> {
        self.get_bytes(id.as_bytes())
    }

    fn get_bytes(&self, id: &[u8]) -> Option<u32> {
        let k = (usize::from(id[0]) << 8) | usize::from(id[1]);
        if self.bits[k >> 6] & (1 << (k & 63)) == 0 {
            return None;
        }
        self.ids.get(&ObjectId::try_from(id).ok()?).copied()
    }
}

/// The entries of a tree object, `(mode, 20-byte id)`, read with the least work: this runs over
/// every entry of every tree in the repository (tens of millions on large histories). A
/// malformed tree ends the iteration early.
fn tree_entries(data: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    let mut rest = data;
    std::iter::from_fn(move || {
        let space = memchr::memchr(b' ', rest)?;
        let mode = &rest[..space];
        let nul = space + 1 + memchr::memchr(0, &rest[space + 1..])?;
        let id = rest.get(nul + 1..nul + 21)?;
        rest = &rest[nul + 21..];
        Some((mode, id))
    })
}

fn prefix_bytes(id: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&id[..8]);
    u64::from_be_bytes(b)
}

fn prefix(oid: &gix::hash::oid) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&oid.as_bytes()[..8]);
    u64::from_be_bytes(b)
}

/// Where a tree object is: at `offset` in pack number `pack`, or loose (`pack == LOOSE`).
#[derive(Debug, Clone, Copy)]
struct TreeLoc {
    pack: u32,
    offset: u64,
    id: ObjectId,
}

/// Per-thread collector that hands its records to the shared state when dropped (the object
/// pass clones the handler for each worker thread and drops the clones when a pack is done).
struct Collector<'a> {
    records: Collected,
    shared: &'a Mutex<Collected>,
    /// What the database holds, to check trees' entries against (not in a partial clone).
    present: Option<&'a Present>,
    /// Ids (64-bit prefixes) whose presence was checked lately, by slot: most trees list what
    /// others listed before them.
    checked: Vec<u64>,
}

#[derive(Default)]
struct Collected {
    commits: Vec<CommitNode>,
    trees: Vec<TreeLoc>,
    /// Annotated tags and the objects they point at.
    tags: Vec<(ObjectId, ObjectId)>,
    /// Objects that were read but do not parse as what they are.
    malformed: Vec<ObjectId>,
    /// Objects trees list that the database does not hold.
    missing: Vec<MissingObject>,
}

impl Collected {
    fn append(&mut self, other: &mut Collected) {
        self.commits.append(&mut other.commits);
        self.trees.append(&mut other.trees);
        self.tags.append(&mut other.tags);
        self.malformed.append(&mut other.malformed);
        self.missing.append(&mut other.missing);
    }
}

impl Clone for Collector<'_> {
    fn clone(&self) -> Self {
        Collector {
            records: Collected::default(),
            shared: self.shared,
            present: self.present,
            checked: vec![0; CHECKED_SLOTS],
        }
    }
}

const CHECKED_SLOTS: usize = 1 << 14;

/// The empty tree's id: git treats it as present whether or not it was ever written.
const EMPTY_TREE: [u8; 20] = [
    0x4b, 0x82, 0x5d, 0xc6, 0x42, 0xcb, 0x6e, 0xb9, 0xa0, 0x60, 0xe5, 0x4b, 0xf8, 0xd6, 0x92, 0x88,
    0xfb, 0xee, 0x49, 0x04,
];

impl Collector<'_> {
    /// Records the entries of `tree` that name objects the database does not hold. Only the
    /// entries a delta inserted are new (see `Found::Object::inserted`); the others were
    /// checked in the tree they were copied from.
    fn check_entries(&mut self, tree: &ObjectId, data: &[u8], inserted: Option<&[Range<u32>]>) {
        let Some(present) = self.present else {
            return;
        };
        let mut fresh = inserted.map(|r| r.iter().peekable());
        for (kind, at) in tree_ids(data) {
            if let Some(ranges) = fresh.as_mut() {
                while ranges.next_if(|r| r.end as usize <= at).is_some() {}
                match ranges.peek() {
                    // Nothing after this was inserted.
                    None => break,
                    Some(r) if r.start as usize >= at + 20 => continue,
                    Some(_) => {}
                }
            }
            let Some(kind) = kind else { continue };
            let raw = &data[at..at + 20];
            let key = prefix_bytes(raw);
            let slot = &mut self.checked[key as usize % CHECKED_SLOTS];
            if std::mem::replace(slot, key) == key || present.contains_prefix(key) {
                continue;
            }
            if raw == EMPTY_TREE {
                continue;
            }
            if let Ok(id) = ObjectId::try_from(raw) {
                let referenced_by = format!("tree {tree}");
                let kind = Some(kind);
                self.records.missing.push(MissingObject {
                    id,
                    kind,
                    referenced_by,
                });
            }
        }
    }
}

/// Where each entry's 20-byte id starts in a tree object, with what the entry's mode says it
/// is (`None`: a submodule's commit). Names cannot hold a NUL and modes cannot, so the first
/// NUL from an entry's start ends its name; one pass finds them all. A malformed tree ends
/// the iteration early.
fn tree_ids(data: &[u8]) -> impl Iterator<Item = (Option<Kind>, usize)> + '_ {
    let mut nuls = memchr::memchr_iter(0, data);
    let mut start = 0;
    std::iter::from_fn(move || {
        let nul = nuls.by_ref().find(|&n| n >= start)?;
        let at = nul + 1;
        if at + 20 > data.len() {
            return None;
        }
        let kind = match data.get(start..start + 2)? {
            [b'4', _] => Some(Kind::Tree),
            b"16" => None,
            _ => Some(Kind::Blob),
        };
        start = at + 20;
        Some((kind, at))
    })
}

impl Drop for Collector<'_> {
    fn drop(&mut self) {
        let mut g = self.shared.lock().unwrap_or_else(|p| p.into_inner());
        g.append(&mut self.records);
    }
}

/// What the object pass learned besides the blobs it handed out.
#[derive(Debug, Default)]
pub struct Inventory {
    commits: Vec<CommitNode>,
    /// Where every tree is, for the tree pass.
    trees: Vec<TreeLoc>,
    /// The packs read, in the order of `TreeLoc::pack`.
    pack_paths: Vec<PathBuf>,
    pub packs: usize,
    pub loose: usize,
    pub shallow: bool,
    /// Objects the database holds but that could not be read (damaged, malformed, or over the
    /// limit for one object), sorted; each was reported as an error. A tree among them has no
    /// location in `trees`, so what lies below it is unknown.
    pub unreadable: Vec<ObjectId>,
    /// Objects that history leads to and that the database does not hold, sorted by id: what
    /// refs, tags and commits point at (short of a shallow clone's boundary) and what trees
    /// list (every tree in the database, as `git fsck` does, where `check_trees` says trees
    /// are checked). Each was
    /// reported as an error unless the repository is a partial clone (`partial`), whose
    /// promisor remote is expected to hold them.
    pub missing: Vec<MissingObject>,
    /// Set when the repository is a partial clone that lacks objects history leads to (those
    /// in `missing`): history is incomplete, and the objects are expected to be absent.
    pub partial: Option<PartialClone>,
}

impl Inventory {
    pub fn commit_count(&self) -> usize {
        self.commits.len()
    }
}

/// An object that history leads to and the object database does not hold.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct MissingObject {
    pub id: ObjectId,
    /// What it should be (`None`: a ref's target, of unknown kind).
    pub kind: Option<Kind>,
    /// What points at it: `commit <id>`, `tag <id>` or a ref name.
    pub referenced_by: String,
}

impl std::fmt::Display for MissingObject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = self.kind.map_or("object".to_string(), |k| k.to_string());
        write!(
            f,
            "{kind} {} is missing from the object database ({} points at it)",
            self.id, self.referenced_by
        )
    }
}

/// A partial clone (`git clone --filter=...`): its promisor remotes and filter, and how many
/// objects that history leads to it lacks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartialClone {
    pub remotes: Vec<String>,
    pub filter: Option<String>,
    pub missing: usize,
}

impl std::fmt::Display for PartialClone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let remote = self.remotes.first().map_or("origin", String::as_str);
        write!(f, "partial clone")?;
        if let Some(filter) = &self.filter {
            write!(f, " (--filter={filter})")?;
        }
        let n = self.missing;
        write!(
            f,
            ": history is incomplete, {n} object{} it leads to {} not here and {} not scanned; \
             clone again without --filter, or fetch {} with \
             `git config --unset remote.{remote}.partialclonefilter && git fetch --refetch {remote}`",
            if n == 1 { "" } else { "s" },
            if n == 1 { "is" } else { "are" },
            if n == 1 { "was" } else { "were" },
            if n == 1 { "it" } else { "them" },
        )
    }
}

fn blob_id(oid: &gix::hash::oid) -> BlobId {
    let mut b = [0u8; 20];
    b.copy_from_slice(oid.as_bytes());
    BlobId(b)
}

fn object_id(b: &BlobId) -> ObjectId {
    ObjectId::from_bytes_or_panic(&b.0)
}

/// Parses the header of a commit object.
fn parse_commit(id: ObjectId, data: &[u8]) -> Option<CommitNode> {
    use gix::objs::commit::ref_iter::Token;
    let mut tree = None;
    let mut parents = Vec::new();
    for token in gix::objs::CommitRefIter::from_bytes(data, gix::hash::Kind::Sha1) {
        match token.ok()? {
            Token::Tree { id } => tree = Some(id),
            Token::Parent { id } => parents.push(id),
            Token::Committer { signature } => {
                return Some(CommitNode {
                    id,
                    tree: tree?,
                    parents,
                    time: signature.seconds(),
                });
            }
            _ => {}
        }
    }
    None
}

/// The object an annotated tag points at.
fn tag_target(data: &[u8]) -> Option<ObjectId> {
    let hex = data.strip_prefix(b"object ")?.get(..40)?;
    ObjectId::from_hex(hex).ok()
}

/// How the object pass's findings reach the visitor and the collector.
fn object_handler<'a, V>(
    mut visit: V,
    mut collect: Collector<'a>,
) -> impl FnMut(Found<'_>) + Clone + Send + 'a
where
    V: FnMut(Event<'_>) + Clone + Send + 'a,
{
    move |found: Found<'_>| {
        let (kind, id, data, inserted, pack, offset) = match found {
            Found::TooLarge { id, size } => {
                let path = format!("object {id}");
                return visit(Event::TooLarge { path: &path, size });
            }
            Found::Object {
                kind,
                id,
                data,
                inserted,
                pack,
                offset,
            } => (kind, id, data, inserted, pack, offset),
        };
        let parsed = match kind {
            Kind::Blob => {
                let id = blob_id(id);
                return visit(Event::Object { id, bytes: data });
            }
            Kind::Tree => {
                let id = id.to_owned();
                collect.check_entries(&id, data, inserted);
                return collect.records.trees.push(TreeLoc { pack, offset, id });
            }
            Kind::Commit => parse_commit(id.to_owned(), data)
                .map(|node| collect.records.commits.push(node))
                .is_some(),
            Kind::Tag => tag_target(data)
                .map(|t| collect.records.tags.push((id.to_owned(), t)))
                .is_some(),
        };
        if !parsed {
            collect.records.malformed.push(id.to_owned());
            visit(Event::Error(crate::source::SourceError {
                path: format!("object {id}"),
                message: format!("damaged: not a valid {kind} object"),
            }));
        }
    }
}

/// The blob pass: hands every blob in the object database to `visitor` (cloned for each
/// worker thread), collects commit headers and where trees are, and checks that the objects
/// history leads to are there. Unreadable and missing objects are reported to `visitor` as
/// errors, each by id.
pub fn scan_objects<V>(
    repo: &gix::Repository,
    opts: &HistoryOptions,
    visitor: V,
) -> Result<Inventory, GitError>
where
    V: FnMut(Event<'_>) + Clone + Send,
{
    let partial = partial_clone(repo);
    let present = check_trees(repo, partial.is_some()).then(|| Present::of(repo));
    let shared = Mutex::new(Collected::default());
    let collector = Collector {
        records: Collected::default(),
        shared: &shared,
        present: present.as_ref(),
        checked: vec![0; CHECKED_SLOTS],
    };
    let mut report = visitor.clone();
    let handle = object_handler(visitor, collector.clone());
    let mut unreadable = Vec::new();
    let limits = Limits::new(opts.max_blob_size);
    let (pack_paths, loose) = each_object(repo, opts.threads, limits, handle, &mut |e| {
        report(Event::Error(match e {
            ReadError::Object(e) => {
                unreadable.push(e.id);
                crate::source::SourceError {
                    path: format!("object {}", e.id),
                    message: format!("{} ({})", e.problem, e.place),
                }
            }
            ReadError::Store(e) => e,
        }))
    });
    drop(collector);
    let Collected {
        mut commits,
        mut trees,
        mut tags,
        malformed,
        missing,
    } = shared.into_inner().unwrap_or_else(|p| p.into_inner());
    // The same object can sit in several packs, or in a pack and loose.
    commits.sort_by_key(|c| c.id);
    commits.dedup_by_key(|c| c.id);
    trees.sort_by_key(|t| t.id);
    trees.dedup_by_key(|t| t.id);
    tags.sort();
    tags.dedup();
    unreadable.extend(malformed);
    unreadable.sort();
    unreadable.dedup();
    let mut inventory = Inventory {
        commits,
        trees,
        packs: pack_paths.len(),
        pack_paths,
        loose,
        shallow: repo.is_shallow().unwrap_or(false),
        unreadable,
        missing,
        partial,
    };
    inventory
        .missing
        .extend(missing_objects(repo, &opts.scope, &inventory, &tags));
    inventory.missing.sort();
    inventory.missing.dedup_by_key(|m| m.id);
    match &mut inventory.partial {
        Some(p) => p.missing = inventory.missing.len(),
        None => report_missing(&inventory.missing, &mut report),
    }
    // A partial clone that has all that history leads to is complete.
    if inventory.missing.is_empty() {
        inventory.partial = None;
    }
    Ok(inventory)
}

/// Missing objects named one by one, up to a point: a pack that cannot be opened would
/// otherwise name every object in it.
const NAMED_MISSING: usize = 100;

fn report_missing<V: FnMut(Event<'_>)>(missing: &[MissingObject], report: &mut V) {
    for m in missing.iter().take(NAMED_MISSING) {
        report(Event::Error(crate::source::SourceError {
            path: format!("object {}", m.id),
            message: format!("missing: {m}"),
        }));
    }
    if missing.len() > NAMED_MISSING {
        report(Event::Error(crate::source::SourceError {
            path: "objects".into(),
            message: format!(
                "{} more objects that history leads to are missing from the object database",
                missing.len() - NAMED_MISSING
            ),
        }));
    }
}

/// Whether trees' entries are checked against what the database holds: in a partial clone
/// (to tell whether it lacks anything), and wherever objects can go missing. Not in one pack
/// with no loose objects and no alternates: git writes a pack with everything its trees list
/// (a clone or fetch checks that; `repack -a` packs what is reachable), and a damaged entry is
/// reported when it is read. Objects go missing where loose objects or other packs were lost.
/// Commits, root trees and ref targets are checked everywhere.
fn check_trees(repo: &gix::Repository, partial: bool) -> bool {
    if partial {
        return true;
    }
    let dirs = super::objects::object_dirs(repo);
    let [dir] = dirs.as_slice() else {
        return true;
    };
    let packs = std::fs::read_dir(dir.join("pack"))
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "idx"))
        .count();
    let loose = gix::odb::loose::Store::at(dir, repo.object_hash());
    packs != 1 || loose.iter().next().is_some()
}

/// The promisor remotes and filter of a partial clone, from the repository's own config and
/// its packs' `.promisor` marks; `None` for a complete clone.
fn partial_clone(repo: &gix::Repository) -> Option<PartialClone> {
    let config = repo.config_snapshot();
    let mut remotes: Vec<String> = Vec::new();
    let mut filter = None;
    if let Some(r) = config.string("extensions.partialClone") {
        remotes.push(r.to_string());
    }
    for name in repo.remote_names() {
        let name = name.to_string();
        if config.boolean(format!("remote.{name}.promisor").as_str()) == Some(true) {
            remotes.push(name.clone());
        }
        if let Some(f) = config.string(format!("remote.{name}.partialclonefilter").as_str()) {
            filter.get_or_insert_with(|| f.to_string());
        }
    }
    remotes.sort();
    remotes.dedup();
    let promisor_pack = super::objects::object_dirs(repo).iter().any(|dir| {
        std::fs::read_dir(dir.join("pack"))
            .into_iter()
            .flatten()
            .flatten()
            .any(|e| e.path().extension().is_some_and(|x| x == "promisor"))
    });
    (!remotes.is_empty() || filter.is_some() || promisor_pack).then_some(PartialClone {
        remotes,
        filter,
        missing: 0,
    })
}

/// The objects the refs in scope point at directly, with the refs' names.
fn scope_tips(repo: &gix::Repository, scope: &Scope) -> Vec<(String, ObjectId)> {
    let mut tips = Vec::new();
    match scope {
        Scope::AllRefs => {
            if let Some(id) = repo.head().ok().and_then(|h| h.id()) {
                tips.push(("HEAD".to_string(), id.detach()));
            }
            if let Ok(platform) = repo.references() {
                for r in platform.all().into_iter().flatten().flatten() {
                    if let Some(id) = r.try_id() {
                        tips.push((r.name().as_bstr().to_string(), id.detach()));
                    }
                }
            }
        }
        // A revision that does not resolve is reported by provenance.
        Scope::Rev(rev) => {
            if let Ok(id) = repo.rev_parse_single(rev.as_str()) {
                tips.push((rev.clone(), id.detach()));
            }
        }
    }
    tips
}

/// The objects that the refs in scope lead to and the database does not hold: targets of refs
/// and tags, commits' parents (short of a shallow clone's boundary) and commits' root trees.
/// Uses only what the object pass collected, so it costs a walk over commit headers.
fn missing_objects(
    repo: &gix::Repository,
    scope: &Scope,
    inv: &Inventory,
    tags: &[(ObjectId, ObjectId)],
) -> Vec<MissingObject> {
    let commit_at = |id: &ObjectId| inv.commits.binary_search_by_key(id, |c| c.id).ok();
    let unreadable = |id: &ObjectId| inv.unreadable.binary_search(id).is_ok();
    // git treats the empty tree as present whether or not it was ever written.
    let empty = ObjectId::empty_tree(repo.object_hash());
    let tree_here = |id: &ObjectId| {
        *id == empty || inv.trees.binary_search_by_key(id, |t| t.id).is_ok() || unreadable(id)
    };
    let mut shallow: Vec<ObjectId> = match repo.shallow_commits() {
        Ok(Some(s)) => s.iter().copied().collect(),
        _ => Vec::new(),
    };
    shallow.sort();
    let mut missing = Vec::new();
    let mut stack = Vec::new();
    for (name, mut id) in scope_tips(repo, scope) {
        let mut by = name;
        // A tag can point at a tag; a cycle of tags cannot be built, but is cut short anyway.
        for _ in 0..64 {
            if let Some(i) = commit_at(&id) {
                stack.push(i);
            } else if let Ok(t) = tags.binary_search_by_key(&id, |t| t.0) {
                by = format!("tag {id}");
                id = tags[t].1;
                continue;
            } else if !tree_here(&id) && !repo.objects.exists(&id) {
                let referenced_by = std::mem::take(&mut by);
                missing.push(MissingObject {
                    id,
                    kind: None,
                    referenced_by,
                });
            }
            break;
        }
    }
    let mut reached = vec![false; inv.commits.len()];
    while let Some(i) = stack.pop() {
        if std::mem::replace(&mut reached[i], true) {
            continue;
        }
        let c = &inv.commits[i];
        let by = || format!("commit {}", c.id);
        if !tree_here(&c.tree) {
            let (id, kind) = (c.tree, Some(Kind::Tree));
            missing.push(MissingObject {
                id,
                kind,
                referenced_by: by(),
            });
        }
        if shallow.binary_search(&c.id).is_ok() {
            continue;
        }
        for p in &c.parents {
            match commit_at(p) {
                Some(j) => stack.push(j),
                None if !unreadable(p) => missing.push(MissingObject {
                    id: *p,
                    kind: Some(Kind::Commit),
                    referenced_by: by(),
                }),
                None => {}
            }
        }
    }
    missing.sort();
    missing.dedup_by_key(|m| m.id);
    missing
}

/// The tree pass (only when there are findings): reads every tree the blob pass located and
/// records its subtrees and the wanted blobs it lists. Trees are decoded by pack offset, in
/// order, with a cache for delta bases, so blobs are not decompressed again; memory stays
/// proportional to the number of trees, not to the number of tree entries.
fn tree_pass(
    repo: &gix::Repository,
    inventory: &Inventory,
    threads: usize,
    wanted: &Wanted,
) -> TreeTable {
    let hash = repo.object_hash();
    let mut table = TreeTable::default();
    let mut by_pack: Vec<Vec<(u64, u64)>> = vec![Vec::new(); inventory.pack_paths.len()];
    let mut loose: Vec<ObjectId> = Vec::new();
    for t in &inventory.trees {
        match by_pack.get_mut(t.pack as usize) {
            Some(v) => v.push((t.offset, prefix(&t.id))),
            None => loose.push(t.id),
        }
    }
    for (path, mut locs) in inventory.pack_paths.iter().zip(by_pack) {
        if locs.is_empty() {
            continue;
        }
        let Ok((index, map, data)) = open_pack(path, hash) else {
            // Reported by the blob pass.
            continue;
        };
        locs.sort_unstable();
        // Runs of consecutive trees, handed out to the workers as they finish: later trees
        // are larger (repositories grow), so equal halves would leave one worker idle.
        let threads = threads.max(1);
        let chunks: Vec<&[(u64, u64)]> = locs.chunks(locs.len().div_ceil(threads * 8)).collect();
        let next = std::sync::atomic::AtomicUsize::new(0);
        let parts: Vec<(usize, TreeTable)> = std::thread::scope(|s| {
            let workers: Vec<_> = (0..threads)
                .map(|_| {
                    let (pack, chunks, next) = ((&index, &map, &data), &chunks, &next);
                    s.spawn(move || {
                        let mut done = Vec::new();
                        loop {
                            let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            let Some(part) = chunks.get(i) else {
                                break done;
                            };
                            done.push((i, decode_trees(pack, part, wanted)));
                        }
                    })
                })
                .collect();
            workers
                .into_iter()
                .filter_map(|w| w.join().ok())
                .flatten()
                .collect()
        });
        for (_, part) in &parts {
            table.append(part);
        }
    }
    let mut buf = Vec::new();
    for id in loose {
        if let Ok(Some(data)) = repo.objects.try_find(&id, &mut buf) {
            table.push(prefix(&id), data.data, wanted);
        }
    }
    table
}

/// Decodes the trees at `locs` (sorted by offset) from one pack.
fn decode_trees(
    (index, map, data): (&pack::index::File, &PackMap, &pack::data::File<PackMap>),
    locs: &[(u64, u64)],
    wanted: &Wanted,
) -> TreeTable {
    let mut table = TreeTable::default();
    let mut inflate = gix::zlib::Inflate::default();
    // Tree deltas are based on other trees, mostly ones just before them in the pack.
    let mut cache = pack::cache::lru::MemoryCappedHashmap::new(16 << 20);
    let mut buf = Vec::new();
    let resolve = |id: &gix::hash::oid, _: &mut Vec<u8>| {
        index
            .lookup(id)
            .map(|i| {
                data.entry(index.pack_offset_at_index(i))
                    .map(pack::data::decode::entry::ResolvedBase::InPack)
            })
            .transpose()
    };
    for (n, &(offset, key)) in locs.iter().enumerate() {
        if n % RELEASE_EVERY == RELEASE_EVERY - 1 {
            map.release();
        }
        let Ok(entry) = data.entry(offset) else {
            continue;
        };
        match data.decode_entry(entry, &mut buf, &mut inflate, &resolve, &mut cache) {
            Ok(out) => {
                let n = (out.object_size as usize).min(buf.len());
                table.push(key, &buf[..n], wanted);
            }
            // Reported by the blob pass.
            Err(_) => continue,
        }
    }
    table
}

/// The set of wanted blobs below each tree, computed from the tree table with memoisation.
struct Containment<'a> {
    table: &'a TreeTable,
    rows: IdMap<u64, u32>,
    /// Wanted blobs listed directly by each row (sparse).
    direct: IdMap<u32, Vec<u32>>,
    wanted_ids: Vec<ObjectId>,
    memo: Vec<u32>,
    /// Interned sets of wanted-blob indices; `sets[0]` is the empty set.
    sets: Vec<Vec<u32>>,
    interned: IdMap<Vec<u32>, u32>,
}

const UNKNOWN: u32 = u32::MAX;
const IN_PROGRESS: u32 = u32::MAX - 1;

impl<'a> Containment<'a> {
    fn new(table: &'a TreeTable, wanted_ids: Vec<ObjectId>) -> Self {
        let mut interned = IdMap::default();
        interned.insert(Vec::new(), 0);
        let mut direct: IdMap<u32, Vec<u32>> = IdMap::default();
        for &(row, w) in &table.direct {
            direct.entry(row).or_default().push(w);
        }
        let rows = table
            .keys
            .iter()
            .enumerate()
            .map(|(i, &k)| (k, i as u32))
            .collect();
        Containment {
            table,
            rows,
            direct,
            wanted_ids,
            memo: vec![UNKNOWN; table.keys.len()],
            sets: vec![Vec::new()],
            interned,
        }
    }

    fn intern(&mut self, mut acc: Vec<u32>) -> u32 {
        acc.sort_unstable();
        acc.dedup();
        let next = self.sets.len() as u32;
        let s = *self.interned.entry(acc.clone()).or_insert(next);
        if s == next {
            self.sets.push(acc);
        }
        s
    }

    /// The interned set of wanted blobs below the tree with this id.
    fn set_of(&mut self, tree: &gix::hash::oid) -> u32 {
        self.set_of_key(prefix(tree))
    }

    fn set_of_key(&mut self, key: u64) -> u32 {
        match self.rows.get(&key) {
            // A tree the object pass never saw (cut off by a shallow clone, or missing).
            None => 0,
            Some(&row) => self.set_of_row(row as usize),
        }
    }

    fn set_of_row(&mut self, row: usize) -> u32 {
        match self.memo[row] {
            UNKNOWN => {}
            // A cycle can only come from an id-prefix collision; treat it as empty.
            IN_PROGRESS => return 0,
            s => return s,
        }
        self.memo[row] = IN_PROGRESS;
        let table = self.table;
        let mut acc: Vec<u32> = self.direct.get(&(row as u32)).cloned().unwrap_or_default();
        for &child in table.children_of(row) {
            let s = self.set_of_key(child);
            if s != 0 {
                acc.extend_from_slice(&self.sets[s as usize]);
            }
        }
        let s = if acc.is_empty() { 0 } else { self.intern(acc) };
        self.memo[row] = s;
        s
    }

    fn contains(&mut self, tree: &gix::hash::oid, w: u32) -> bool {
        let s = self.set_of(tree);
        self.sets[s as usize].binary_search(&w).is_ok()
    }

    /// The path of wanted blob `w` below `tree`, reading only the trees on the way to it.
    fn path_of(
        &mut self,
        repo: &gix::Repository,
        tree: &ObjectId,
        w: u32,
    ) -> Result<Option<String>, GitError> {
        let target = self.wanted_ids[w as usize];
        let mut path: Vec<u8> = Vec::new();
        let mut current = *tree;
        let mut buf = Vec::new();
        'descend: loop {
            let data = repo
                .objects
                .try_find(&current, &mut buf)
                .map_err(|e| GitError::Other(format!("tree {current}: {e}")))?
                .ok_or_else(|| GitError::Other(format!("tree {current} is missing")))?;
            let mut subtrees: Vec<(Vec<u8>, ObjectId)> = Vec::new();
            for e in gix::objs::TreeRefIter::from_bytes(data.data, gix::hash::Kind::Sha1) {
                let e = e.map_err(|e| GitError::Other(format!("tree {current}: {e}")))?;
                if e.mode.is_tree() {
                    subtrees.push((e.filename.to_vec(), e.oid.to_owned()));
                } else if !e.mode.is_commit() && e.oid == target {
                    path.extend_from_slice(e.filename);
                    return Ok(Some(String::from_utf8_lossy(&path).into_owned()));
                }
            }
            for (name, id) in subtrees {
                if self.contains(&id, w) {
                    path.extend_from_slice(&name);
                    path.push(b'/');
                    current = id;
                    continue 'descend;
                }
            }
            return Ok(None);
        }
    }
}

/// Costs of the provenance step, for the summary.
#[derive(Debug, Default, Clone, Copy)]
pub struct ProvenanceStats {
    pub commits_visited: usize,
    pub trees: usize,
    pub seconds: f64,
}

/// Places each wanted blob in history: the commit that introduced it, its path there, how
/// many commits carry it, whether a ref in scope reaches it, and which wanted blobs are in
/// HEAD's tree.
pub fn provenance(
    repo: &gix::Repository,
    inventory: &Inventory,
    wanted: &[BlobId],
    opts: &HistoryOptions,
) -> Result<(HistoryFacts, ProvenanceStats), GitError> {
    let started = std::time::Instant::now();
    let mut facts = HistoryFacts {
        include_unreachable: opts.all_objects,
        ..HistoryFacts::default()
    };
    let mut stats = ProvenanceStats::default();
    if wanted.is_empty() {
        return Ok((facts, stats));
    }
    let commits = &inventory.commits;
    let by_id: IdMap<ObjectId, usize> =
        commits.iter().enumerate().map(|(i, c)| (c.id, i)).collect();
    let wanted_ids: Vec<ObjectId> = wanted.iter().map(object_id).collect();
    let wanted_index = Wanted::new(&wanted_ids);
    let table = tree_pass(repo, inventory, opts.threads, &wanted_index);
    stats.trees = table.keys.len();
    let mut c = Containment::new(&table, wanted_ids);

    // Tips of the scope: commits, plus trees and blobs that refs point at directly.
    let mut tip_commits: Vec<ObjectId> = Vec::new();
    let mut direct: Vec<(String, ObjectId, Kind)> = Vec::new();
    let mut classify = |name: String, id: ObjectId| {
        if by_id.contains_key(&id) {
            tip_commits.push(id);
        } else if let Ok(h) = repo.find_header(id) {
            match h.kind() {
                Kind::Commit => tip_commits.push(id),
                k @ (Kind::Tree | Kind::Blob) => direct.push((name, id, k)),
                Kind::Tag => {}
            }
        }
    };
    match &opts.scope {
        Scope::AllRefs => {
            if let Ok(head) = repo.head_id() {
                classify("HEAD".into(), head.detach());
            }
            let platform = repo
                .references()
                .map_err(|e| GitError::Other(format!("cannot read refs: {e}")))?;
            let iter = platform
                .all()
                .and_then(|i| i.peeled())
                .map_err(|e| GitError::Other(format!("cannot read refs: {e}")))?;
            for r in iter.flatten() {
                let name = r.name().as_bstr().to_string();
                if let Some(id) = r.try_id() {
                    classify(name, id.detach());
                }
            }
        }
        Scope::Rev(rev) => {
            let id = repo
                .rev_parse_single(rev.as_str())
                .map_err(|e| GitError::Other(format!("cannot resolve `{rev}`: {e}")))?;
            let id = id
                .object()
                .and_then(|o| o.peel_tags_to_end())
                .map(|o| o.id)
                .map_err(|e| GitError::Other(format!("cannot resolve `{rev}`: {e}")))?;
            classify(rev.clone(), id);
        }
    }

    // Reachable commits, from the collected headers.
    let mut reachable = vec![false; commits.len()];
    let mut stack: Vec<usize> = tip_commits
        .iter()
        .filter_map(|id| by_id.get(id).copied())
        .collect();
    while let Some(i) = stack.pop() {
        if std::mem::replace(&mut reachable[i], true) {
            continue;
        }
        for p in &commits[i].parents {
            if let Some(&j) = by_id.get(p) {
                if !reachable[j] {
                    stack.push(j);
                }
            }
        }
    }

    let n = wanted.len();
    // For each wanted blob: the oldest commit that introduced it (or, failing that, the
    // oldest that holds it), and how many commits hold it.
    let mut visit = |only_reachable: bool, c: &mut Containment<'_>| {
        let mut first: Vec<Option<(usize, bool)>> = vec![None; n];
        let mut counts = vec![0usize; n];
        let mut order: Vec<usize> = (0..commits.len())
            .filter(|&i| reachable[i] == only_reachable)
            .collect();
        order.sort_by_key(|&i| (commits[i].time, commits[i].id));
        for i in order {
            let node = &commits[i];
            stats.commits_visited += 1;
            let s = c.set_of(&node.tree);
            if s == 0 {
                continue;
            }
            for w in c.sets[s as usize].clone() {
                let wi = w as usize;
                counts[wi] += 1;
                if matches!(first[wi], Some((_, true))) {
                    continue;
                }
                let introduced = node.parents.iter().all(|p| match by_id.get(p) {
                    Some(&j) => !c.contains(&commits[j].tree, w),
                    None => true,
                });
                if first[wi].is_none() || introduced {
                    first[wi] = Some((i, introduced));
                }
            }
        }
        (first, counts)
    };

    let (mut first, mut counts) = visit(true, &mut c);
    let placed: Vec<bool> = first.iter().map(Option::is_some).collect();

    // Blobs that refs reach through a direct tree or blob ref (e.g. a tag on a blob).
    let mut direct_paths: Vec<Option<String>> = vec![None; n];
    for (name, id, kind) in &direct {
        match kind {
            Kind::Blob => {
                if let Some(w) = wanted_index.get(id) {
                    direct_paths[w as usize].get_or_insert_with(|| name.clone());
                }
            }
            Kind::Tree => {
                let s = c.set_of(id);
                for w in c.sets[s as usize].clone() {
                    if direct_paths[w as usize].is_none() {
                        let p = c.path_of(repo, id, w)?.unwrap_or_default();
                        direct_paths[w as usize] = Some(format!("{name}:{p}"));
                    }
                }
            }
            _ => {}
        }
    }

    if opts.all_objects && placed.iter().any(|p| !p) {
        let (first_u, counts_u) = visit(false, &mut c);
        for w in 0..n {
            if !placed[w] && direct_paths[w].is_none() {
                first[w] = first_u[w];
                counts[w] = counts_u[w];
            }
        }
    }

    for (w, blob) in wanted.iter().enumerate() {
        let mut placement = Placement {
            commits: counts[w],
            reachable: placed[w] || direct_paths[w].is_some(),
            ..Placement::default()
        };
        if let Some((i, _)) = first[w] {
            let node = &commits[i];
            placement.commit = commit_info(repo, node.id);
            placement.path = c.path_of(repo, &node.tree, w as u32)?;
        } else if let Some(p) = &direct_paths[w] {
            placement.path = Some(p.clone());
        }
        facts.placements.insert(*blob, placement);
    }

    if let Ok(tree) = repo.head_tree_id() {
        let s = c.set_of(&tree.detach());
        for &w in &c.sets[s as usize] {
            facts.head_blobs.insert(wanted[w as usize]);
        }
    }
    stats.seconds = started.elapsed().as_secs_f64();
    Ok((facts, stats))
}

/// How many submodules HEAD's `.gitmodules` declares (their repositories are not scanned).
pub fn submodules_at_head(repo: &gix::Repository) -> usize {
    let Ok(tree) = repo.head_tree() else {
        return 0;
    };
    let Ok(Some(entry)) = tree.lookup_entry_by_path(".gitmodules") else {
        return 0;
    };
    let Ok(blob) = entry.object() else {
        return 0;
    };
    blob.data
        .split(|&b| b == b'\n')
        .filter(|l| l.trim_ascii_start().starts_with(b"[submodule"))
        .count()
}

/// Author, date and summary of a commit.
fn commit_info(repo: &gix::Repository, id: ObjectId) -> Option<Commit> {
    let commit = repo.find_commit(id).ok()?;
    let decoded = commit.decode().ok()?;
    let author = decoded.author().ok()?;
    let seconds = author.seconds();
    let summary = decoded.message_summary().to_string();
    Some(Commit {
        id: id.to_string(),
        author: author.name.to_string(),
        email: author.email.to_string(),
        date: iso8601_utc(seconds),
        summary,
    })
}

/// Formats Unix seconds as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn iso8601_utc(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (proleptic Gregorian calendar).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::{iso8601_utc, tree_entries, tree_ids, Kind};

    #[test]
    fn tree_entries_reads_modes_and_ids() {
        let mut t = Vec::new();
        t.extend_from_slice(b"100644 a.txt\0");
        t.extend_from_slice(&[1u8; 20]);
        t.extend_from_slice(b"40000 dir with space\0");
        t.extend_from_slice(&[2u8; 20]);
        t.extend_from_slice(b"160000 sub\0");
        t.extend_from_slice(&[3u8; 20]);
        let got: Vec<_> = tree_entries(&t).collect();
        assert_eq!(
            got,
            vec![
                (&b"100644"[..], &[1u8; 20][..]),
                (&b"40000"[..], &[2u8; 20][..]),
                (&b"160000"[..], &[3u8; 20][..]),
            ]
        );
        // Truncated: no partial entry.
        assert_eq!(tree_entries(&t[..t.len() - 1]).count(), 2);
    }

    #[test]
    fn tree_ids_finds_each_id_and_what_it_is() {
        let mut t = Vec::new();
        t.extend_from_slice(b"100644 a.txt\0");
        t.extend_from_slice(&[0u8; 20]); // NULs inside an id are not name ends
        t.extend_from_slice(b"40000 dir\0");
        t.extend_from_slice(&[2u8; 20]);
        t.extend_from_slice(b"160000 sub\0");
        t.extend_from_slice(&[3u8; 20]);
        let got: Vec<_> = tree_ids(&t).collect();
        assert_eq!(
            got,
            vec![(Some(Kind::Blob), 13), (Some(Kind::Tree), 43), (None, 74)]
        );
        assert_eq!(&t[43..63], &[2u8; 20]);
        assert_eq!(tree_ids(&t[..t.len() - 1]).count(), 2);
    }

    #[test]
    fn dates() {
        assert_eq!(iso8601_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso8601_utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(iso8601_utc(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(iso8601_utc(-1), "1969-12-31T23:59:59Z");
    }
}
