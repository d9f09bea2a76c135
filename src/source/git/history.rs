//! Git history source (audit mode).
//!
//! Scanning: every object in the repository's object database is decoded once, pack by pack
//! (see `objects`), and every blob and every commit and tag message is handed to the visitor
//! as it is decoded. A blob present in several packs is scanned once (the scanner
//! de-duplicates by id). Commit headers (tree, parents, time) are collected on the way, which
//! makes the later reachability and provenance steps independent of any further commit reads.
//!
//! Provenance is computed afterwards and only for the blobs that have findings, per secret and
//! path: the commits in scope are visited in topological order (parents first), and for each
//! the (secret, path) pairs its tree holds are computed with memoisation by tree (see
//! `trees`). A commit introduces a pair when its tree holds it and none of its parents' trees
//! do; the first such commit in topological order is the one reported. Dates are only shown,
//! never used to decide. The count of a pair is the number of distinct commits holding it.

use std::collections::{BinaryHeap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use std::ops::Range;

use gix::hash::ObjectId;
use gix::objs::{Exists as _, Kind};

use super::objects::{each_object, Found, Limits, Present, ReadError, Roots};
use super::trees::{
    prefix, prefix_bytes, Containment, NameHash, PathId, SetId, TreeTable, WantedIndex,
};
use super::GitError;
use crate::blob::{BlobId, IdMap};
use crate::finding::{Commit, MessageKind};
use crate::rules::file_names::FileNames;
use crate::source::{Event, Skip};

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
    /// The tree walk: the wanted blobs to record in the tree table, how names are hashed, and
    /// which names to record the blobs of whether wanted or not.
    tables: Option<(&'a WantedIndex, NameHash, Option<&'a FileNames>)>,
}

#[derive(Default)]
struct Collected {
    commits: Vec<CommitNode>,
    trees: Vec<ObjectId>,
    /// Annotated tags and the objects they point at.
    tags: Vec<(ObjectId, ObjectId)>,
    /// Objects that were read but do not parse as what they are.
    malformed: Vec<ObjectId>,
    /// Objects trees list that the database does not hold.
    missing: Vec<MissingObject>,
    /// Subtrees and wanted blobs of the trees decoded (the tree walk).
    table: TreeTable,
}

impl Collected {
    fn append(&mut self, other: &mut Collected) {
        self.table.append(&other.table);
        other.table = TreeTable::default();
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
            tables: self.tables,
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
    /// Every tree's id (for the check that what commits lead to is there).
    trees: Vec<ObjectId>,
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
    /// Every decoded tree's subtrees and the wanted blobs it lists (indices into
    /// `table_ids`); `None` when no blob was wanted, and the trees were not decoded.
    table: Option<TreeTable>,
    /// The blobs the table numbers: the wanted blobs it was built for (sorted), then `named`.
    table_ids: Vec<BlobId>,
    /// Blobs the trees list under a name a deferred path rule may take (see
    /// `scan_objects_known`), sorted.
    pub named: Vec<BlobId>,
    /// How the table hashes entry names.
    names: NameHash,
    /// Time spent decoding the trees.
    pub tree_seconds: f64,
    /// Annotated tags and the objects they point at.
    tags: Vec<(ObjectId, ObjectId)>,
    /// The packs read (their `.idx` files); the packs `Known` gave were not.
    pub packs_read: Vec<PathBuf>,
    /// Trees of packs not read, with what lies below each (see `Known`).
    seeds: Vec<(BlobId, u32)>,
    seed_sets: Vec<Vec<(BlobId, Vec<u8>)>>,
}

impl Inventory {
    pub fn commit_count(&self) -> usize {
        self.commits.len()
    }

    /// Whether every commit and tree that history leads to could be read: only then is a
    /// wanted blob that no commit or ref holds known to lie outside history. An unreadable
    /// object (of unknown kind) may be a tree or a commit that holds it.
    fn history_complete(&self) -> bool {
        self.unreadable.is_empty() && self.missing.iter().all(|m| m.kind == Some(Kind::Blob))
    }

    /// Every commit's header.
    pub fn commit_headers(&self) -> Vec<CommitHeader> {
        self.commits.iter().map(CommitNode::header).collect()
    }

    /// Annotated tags and the objects they point at.
    pub fn tag_targets(&self) -> Vec<(BlobId, BlobId)> {
        self.tags
            .iter()
            .map(|(t, o)| (blob_id(t), blob_id(o)))
            .collect()
    }

    /// Gives `c` the trees of the packs not read, each with the pairs below it.
    fn seed(&self, c: &mut Containment<'_>, wanted: &[Wanted]) {
        let index = |id: &BlobId| {
            wanted
                .binary_search_by_key(id, |w| w.id)
                .ok()
                .map(|i| i as u32)
        };
        let sets: Vec<Vec<(u32, &[u8])>> = self
            .seed_sets
            .iter()
            .map(|set| {
                set.iter()
                    .filter_map(|(b, p)| Some((index(b)?, p.as_slice())))
                    .collect()
            })
            .collect();
        let mut converted: Vec<Option<SetId>> = vec![None; sets.len()];
        for (tree, s) in &self.seeds {
            let Some(pairs) = sets.get(*s as usize) else {
                continue;
            };
            let set = match converted[*s as usize] {
                Some(set) => set,
                None => {
                    let set = c.intern_paths(pairs, self.names);
                    converted[*s as usize] = Some(set);
                    set
                }
            };
            c.seed(prefix_bytes(&tree.0), set);
        }
    }
}

/// A commit's header: its tree, parents and committer time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitHeader {
    pub id: BlobId,
    pub tree: BlobId,
    pub parents: Vec<BlobId>,
    pub time: i64,
}

impl CommitNode {
    fn header(&self) -> CommitHeader {
        CommitHeader {
            id: blob_id(&self.id),
            tree: blob_id(&self.tree),
            parents: self.parents.iter().map(|p| blob_id(p)).collect(),
            time: self.time,
        }
    }

    fn of(h: &CommitHeader) -> CommitNode {
        CommitNode {
            id: object_id(&h.id),
            tree: object_id(&h.tree),
            parents: h.parents.iter().map(object_id).collect(),
            time: h.time,
        }
    }
}

/// What an earlier scan learned from packs it read whole, given back instead of reading those
/// packs again: their commits, tags and trees, and for each tree the (wanted blob, path) pairs
/// below it. Plain data: history does not know where it came from. Blobs are not here: the
/// caller hands those of them with findings to the scanner itself (`read_objects`).
#[derive(Debug, Default, Clone)]
pub struct Known {
    /// The packs (`.idx` files) not to read.
    pub packs: Vec<PathBuf>,
    pub commits: Vec<CommitHeader>,
    /// Annotated tags and the objects they point at.
    pub tags: Vec<(BlobId, BlobId)>,
    /// Each tree, with an index into `sets`.
    pub trees: Vec<(BlobId, u32)>,
    /// (wanted blob, path below the tree) pairs; paths are the names' bytes, `/`-separated.
    pub sets: Vec<Vec<(BlobId, Vec<u8>)>>,
}

/// Every tree of a repository with the (wanted blob, path) pairs below it: what `Known` gives
/// back on a later scan.
#[derive(Debug, Default, Clone)]
pub struct TreeSets {
    /// Sorted by tree; an index into `sets` each.
    pub trees: Vec<(BlobId, u32)>,
    /// The first is the empty set.
    pub sets: Vec<Vec<(BlobId, Vec<u8>)>>,
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
        let (kind, id, data, inserted) = match found {
            Found::TooLarge { id, size } => {
                log::debug!("object {id}: {size} bytes, over --max-file-size: skipped");
                let path = format!("object {id}");
                return visit(Event::Skipped {
                    path: &path,
                    why: Skip::TooLarge,
                });
            }
            Found::Located { id } => return collect.records.trees.push(id.to_owned()),
            Found::Object {
                kind,
                id,
                data,
                inserted,
            } => (kind, id, data, inserted),
        };
        let parsed = match kind {
            Kind::Blob => {
                let id = blob_id(id);
                return visit(Event::Object { id, bytes: data });
            }
            Kind::Tree => {
                let oid = id.to_owned();
                collect.check_entries(&oid, data, inserted);
                match collect.tables {
                    Some((wanted, names, file_names)) => {
                        let table = &mut collect.records.table;
                        table.push(prefix(id), data, wanted, names, file_names)
                    }
                    None => collect.records.trees.push(oid),
                }
                return;
            }
            Kind::Commit => parse_commit(id.to_owned(), data)
                .map(|node| {
                    visit_message(&mut visit, id, MessageKind::Commit, node.time, data);
                    collect.records.commits.push(node)
                })
                .is_some(),
            Kind::Tag => tag_target(data)
                .map(|t| {
                    let time = tagger_time(data).unwrap_or(0);
                    visit_message(&mut visit, id, MessageKind::Tag, time, data);
                    collect.records.tags.push((id.to_owned(), t))
                })
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

/// The object pass: hands every blob and message in the object database to `visitor`
/// (cloned for each worker thread), collects commit headers and where trees are, and checks
/// that the objects history leads to are there. Unreadable and missing objects are reported to
/// `visitor` as errors, each by id.
///
/// Trees come last, in a walk of their own, once `wanted` (called after every blob was handed
/// out) says which blobs have findings: each tree is decoded once, and reduced to the tree
/// table provenance needs. With no wanted blob the trees are not decoded at all, unless their
/// entries must be checked against the database (see `check_trees`).
pub fn scan_objects<V>(
    repo: &gix::Repository,
    opts: &HistoryOptions,
    visitor: V,
    wanted: &dyn Fn() -> Vec<BlobId>,
) -> Result<Inventory, GitError>
where
    V: FnMut(Event<'_>) + Clone + Send,
{
    scan_objects_known(repo, opts, visitor, wanted, Known::default(), None)
}

/// `scan_objects`, with what `known` gives back in place of the packs it names. With
/// `file_names`, the visitor scanned blobs without the deferred path rules: the trees are
/// decoded in any case, and the blobs they list under a name those rules may take are
/// wanted whether they have findings or not (`Inventory::named`, for the caller to scan
/// again with every rule before provenance).
pub fn scan_objects_known<V>(
    repo: &gix::Repository,
    opts: &HistoryOptions,
    visitor: V,
    wanted: &dyn Fn() -> Vec<BlobId>,
    known: Known,
    file_names: Option<&FileNames>,
) -> Result<Inventory, GitError>
where
    V: FnMut(Event<'_>) + Clone + Send,
{
    let skip = |p: &Path| known.packs.iter().any(|k| k == p);
    let partial = partial_clone(repo);
    let present = check_trees(repo, partial.is_some()).then(|| Present::of(repo));
    let shared = Mutex::new(Collected::default());
    let collector = Collector {
        records: Collected::default(),
        shared: &shared,
        present: present.as_ref(),
        checked: vec![0; CHECKED_SLOTS],
        tables: None,
    };
    let mut report = visitor.clone();
    let limits = Limits::new(opts.max_blob_size);
    let mut unreadable = Vec::new();
    let mut on_error = |e: ReadError| {
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
    };
    let handle = object_handler(visitor.clone(), collector.clone());
    let (pack_paths, loose) = each_object(
        repo,
        opts.threads,
        limits,
        Roots::NotTrees,
        &skip,
        handle,
        &mut on_error,
    );
    let started = std::time::Instant::now();
    let mut table_ids: Vec<BlobId> = wanted();
    let ids: Vec<ObjectId> = table_ids.iter().map(object_id).collect();
    let index = WantedIndex::new(&ids);
    let names = NameHash::new();
    let tree_walk = !ids.is_empty() || present.is_some() || file_names.is_some();
    if tree_walk {
        let mut trees = collector.clone();
        trees.tables = Some((&index, names, file_names));
        let handle = object_handler(visitor, trees);
        each_object(
            repo,
            opts.threads,
            limits,
            Roots::Trees,
            &skip,
            handle,
            &mut on_error,
        );
    }
    let tree_seconds = started.elapsed().as_secs_f64();
    drop(collector);
    let Collected {
        mut commits,
        mut trees,
        mut tags,
        malformed,
        missing,
        mut table,
    } = shared.into_inner().unwrap_or_else(|p| p.into_inner());
    let named: Vec<BlobId> = (table.adopt_named(table_ids.len() as u32).iter())
        .map(|id| blob_id(id))
        .collect();
    table_ids.extend_from_slice(&named);
    log::debug!(
        "{} blobs listed under names the deferred path rules may take",
        named.len()
    );
    commits.extend(known.commits.iter().map(CommitNode::of));
    tags.extend(known.tags.iter().map(|(t, o)| (object_id(t), object_id(o))));
    trees.extend(known.trees.iter().map(|(t, _)| object_id(t)));
    // The same object can sit in several packs, or in a pack and loose.
    commits.sort_by_key(|c| c.id);
    commits.dedup_by_key(|c| c.id);
    trees.sort_unstable();
    trees.dedup();
    tags.sort();
    tags.dedup();
    unreadable.extend(malformed);
    unreadable.sort();
    unreadable.dedup();
    let mut inventory = Inventory {
        commits,
        trees,
        packs: pack_paths.len(),
        loose,
        shallow: repo.is_shallow().unwrap_or(false),
        unreadable,
        missing,
        partial,
        table: (!table_ids.is_empty()).then_some(table),
        table_ids,
        named,
        names,
        tree_seconds,
        tags: Vec::new(),
        packs_read: pack_paths,
        seeds: known.trees,
        seed_sets: known.sets,
    };
    inventory
        .missing
        .extend(missing_objects(repo, &opts.scope, &inventory, &tags));
    inventory.missing.sort();
    inventory.missing.dedup_by_key(|m| m.id);
    // What is not here or could not be read was reported once (or is expected absent, in a
    // partial clone): the deferred path rules do not try it again.
    let absent: HashSet<ObjectId> = inventory.missing.iter().map(|m| m.id).collect();
    let unreadable = &inventory.unreadable;
    inventory.named.retain(|b| {
        let id = object_id(b);
        !absent.contains(&id) && unreadable.binary_search(&id).is_err()
    });
    inventory.tags = tags;
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
    // By hash: a binary search over every commit costs a cache miss a step.
    let by_id: IdMap<ObjectId, usize> = inv
        .commits
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id, i))
        .collect();
    let commit_at = |id: &ObjectId| by_id.get(id).copied();
    let unreadable = |id: &ObjectId| inv.unreadable.binary_search(id).is_ok();
    // git treats the empty tree as present whether or not it was ever written.
    let empty = ObjectId::empty_tree(repo.object_hash());
    // The trees are sorted: a fan-out on the first two bytes leaves a few to search.
    let mut fanout = vec![0u32; (1 << 16) + 1];
    for t in &inv.trees {
        fanout[prefix16(t) + 1] += 1;
    }
    for i in 1..fanout.len() {
        fanout[i] += fanout[i - 1];
    }
    let tree_known = |id: &ObjectId| {
        let k = prefix16(id);
        inv.trees[fanout[k] as usize..fanout[k + 1] as usize]
            .binary_search(id)
            .is_ok()
    };
    let tree_here = |id: &ObjectId| *id == empty || tree_known(id) || unreadable(id);
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

/// The first two bytes of an id, as a number.
fn prefix16(id: &ObjectId) -> usize {
    let b = id.as_bytes();
    (usize::from(b[0]) << 8) | usize::from(b[1])
}

/// Hands the message of a commit or tag object (what follows its header) to the visitor.
fn visit_message<V: FnMut(Event<'_>)>(
    visit: &mut V,
    oid: &gix::hash::oid,
    kind: MessageKind,
    time: i64,
    data: &[u8],
) {
    if let Some(i) = memchr::memmem::find(data, b"\n\n") {
        let message = &data[i + 2..];
        if !message.is_empty() {
            visit(Event::Message {
                id: blob_id(oid),
                kind,
                time,
                bytes: message,
            });
        }
    }
}

/// The tagger's time of an annotated tag object.
fn tagger_time(data: &[u8]) -> Option<i64> {
    let tagger = gix::objs::TagRefIter::from_bytes(data, gix::hash::Kind::Sha1)
        .tagger()
        .ok()??;
    Some(tagger.seconds())
}

/// A blob with findings, and the secrets it holds (numbered by the caller).
#[derive(Debug, Clone)]
pub struct Wanted {
    pub id: BlobId,
    pub secrets: Vec<u32>,
}

/// Where one secret sits at one path of the history.
#[derive(Debug, Clone)]
pub struct Placed {
    /// The version of the file the secret was introduced in (or, for a path only a ref
    /// reaches, the blob itself).
    pub blob: BlobId,
    /// The introducing commit, if any commit holds the secret at this path.
    pub introduced: Option<BlobId>,
    /// Distinct commits holding the secret at this path.
    pub commits: usize,
    /// False when only objects no ref reaches hold it (`--all-objects`).
    pub reachable: bool,
}

/// What history says about the wanted blobs and messages of one repository.
#[derive(Debug, Default)]
pub struct Facts {
    /// By (secret, path in the repository).
    pub placed: HashMap<(u32, String), Placed>,
    /// Secrets HEAD's tree holds, at any path.
    pub in_head: HashSet<u32>,
    /// The introducing commits, by id.
    pub commits: HashMap<BlobId, Commit>,
    /// Wanted blobs some commit or ref in scope holds (at whichever path).
    pub held: HashSet<BlobId>,
    /// Wanted blobs of this repository's object database that no commit or ref in scope holds,
    /// when history could be read whole (else where they are is unknown: they stay unplaced).
    pub dangling: Vec<BlobId>,
    /// The wanted messages: the commit or tag, and whether a ref reaches it.
    pub messages: HashMap<BlobId, (Commit, bool)>,
    /// The wanted commit messages' places in topological order (parents first), so that a
    /// secret quoted in many messages is placed at the first, whatever their dates.
    pub message_ranks: HashMap<BlobId, usize>,
    /// Commits in scope: those the refs in scope reach (every commit with `--all-objects`).
    pub commits_in_scope: usize,
}

/// Costs of the provenance step, for `-v`.
#[derive(Debug, Default, Clone, Copy)]
pub struct ProvenanceStats {
    pub commits_visited: usize,
    pub trees: usize,
    pub seconds: f64,
}

/// The refs in scope, classified.
#[derive(Default)]
struct Tips {
    commits: Vec<ObjectId>,
    /// Trees and blobs a ref points at directly, with the ref's name.
    direct: Vec<(String, ObjectId, Kind)>,
    /// What refs point at before peeling (annotated tags are reachable through these).
    targets: HashSet<ObjectId>,
}

fn tips(
    repo: &gix::Repository,
    scope: &Scope,
    known: &IdMap<ObjectId, usize>,
) -> Result<Tips, GitError> {
    let mut t = Tips::default();
    let classify = |name: String, id: ObjectId, t: &mut Tips| {
        t.targets.insert(id);
        let peeled = match repo.find_object(id).and_then(|o| o.peel_tags_to_end()) {
            Ok(o) => (o.id, o.kind),
            Err(_) if known.contains_key(&id) => (id, Kind::Commit),
            Err(_) => return,
        };
        match peeled {
            (id, Kind::Commit) => t.commits.push(id),
            (id, k @ (Kind::Tree | Kind::Blob)) => t.direct.push((name, id, k)),
            _ => {}
        }
    };
    let cannot = |e: &dyn std::fmt::Display| GitError::Other(format!("cannot read refs: {e}"));
    match scope {
        Scope::AllRefs => {
            if let Ok(head) = repo.head_id() {
                classify("HEAD".into(), head.detach(), &mut t);
            }
            let platform = repo.references().map_err(|e| cannot(&e))?;
            for r in platform.all().map_err(|e| cannot(&e))?.flatten() {
                let name = r.name().as_bstr().to_string();
                if let Some(id) = r.try_id() {
                    classify(name, id.detach(), &mut t);
                }
            }
        }
        Scope::Rev(rev) => {
            let id = repo
                .rev_parse_single(rev.as_str())
                .map_err(|e| GitError::Other(format!("cannot resolve `{rev}`: {e}")))?;
            classify(rev.clone(), id.detach(), &mut t);
        }
    }
    Ok(t)
}

/// Fails when the scope names a revision the repository does not have (checked before the
/// object pass, so a typo in `--branch` costs nothing).
pub fn check_scope(repo: &gix::Repository, scope: &Scope) -> Result<(), GitError> {
    match scope {
        Scope::AllRefs => Ok(()),
        Scope::Rev(rev) => repo
            .rev_parse_single(rev.as_str())
            .map(|_| ())
            .map_err(|e| {
                if repo.head().is_ok_and(|h| h.is_unborn()) {
                    GitError::Other(format!(
                    "--branch: cannot resolve `{rev}`: the repository has no commits yet (HEAD \
                     is unborn); commit first, or scan the files with `keyhound scan \
                     --no-history PATH`"
                ))
                } else {
                    GitError::Other(format!("--branch: cannot resolve `{rev}`: {e}"))
                }
            }),
    }
}

/// Commits reachable from `tips`, from the collected headers.
fn reachable_from(
    commits: &[CommitNode],
    by_id: &IdMap<ObjectId, usize>,
    tips: &[ObjectId],
) -> Vec<bool> {
    let mut reachable = vec![false; commits.len()];
    let mut stack: Vec<usize> = tips
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
    reachable
}

/// The commits with `include[i]` in topological order, parents first; among commits whose
/// parents are all done, the older (then the smaller id) first, so the order is the same on
/// every run.
fn topo_order(
    commits: &[CommitNode],
    by_id: &IdMap<ObjectId, usize>,
    include: &[bool],
) -> Vec<usize> {
    let mut pending = vec![0u32; commits.len()];
    let mut children: Vec<Vec<u32>> = vec![Vec::new(); commits.len()];
    for (i, c) in commits.iter().enumerate().filter(|(i, _)| include[*i]) {
        for p in &c.parents {
            if let Some(&j) = by_id.get(p).filter(|&&j| include[j]) {
                pending[i] += 1;
                children[j].push(i as u32);
            }
        }
    }
    let key = |i: usize| std::cmp::Reverse((commits[i].time, commits[i].id, i));
    let mut ready: BinaryHeap<_> = (0..commits.len())
        .filter(|&i| include[i] && pending[i] == 0)
        .map(key)
        .collect();
    let mut order = Vec::with_capacity(commits.len());
    while let Some(std::cmp::Reverse((_, _, i))) = ready.pop() {
        order.push(i);
        for &c in &children[i] {
            pending[c as usize] -= 1;
            if pending[c as usize] == 0 {
                ready.push(key(c as usize));
            }
        }
    }
    order
}

/// (secret, path) pairs per containment set: a set's (blob, path) pairs with each blob
/// replaced by the secrets it holds. Interned; `0` is the empty set.
struct Pairs<'w> {
    secrets: &'w [Wanted],
    of_set: HashMap<SetId, u32>,
    sets: Vec<Vec<(u32, PathId)>>,
    interned: HashMap<Vec<(u32, PathId)>, u32>,
}

impl<'w> Pairs<'w> {
    fn new(secrets: &'w [Wanted]) -> Self {
        let mut interned = HashMap::new();
        interned.insert(Vec::new(), 0);
        Pairs {
            secrets,
            of_set: HashMap::new(),
            sets: vec![Vec::new()],
            interned,
        }
    }

    fn of(&mut self, c: &Containment<'_>, set: SetId) -> u32 {
        if set == 0 {
            return 0;
        }
        if let Some(&p) = self.of_set.get(&set) {
            return p;
        }
        let mut pairs: Vec<(u32, PathId)> = c
            .set(set)
            .iter()
            .flat_map(|&(w, path)| {
                self.secrets[w as usize]
                    .secrets
                    .iter()
                    .map(move |&s| (s, path))
            })
            .collect();
        pairs.sort_unstable();
        pairs.dedup();
        let next = self.sets.len() as u32;
        let id = *self.interned.entry(pairs.clone()).or_insert(next);
        if id == next {
            self.sets.push(pairs);
        }
        self.of_set.insert(set, id);
        id
    }
}

/// One walk over a set of commits: first introduction and count of every (secret, path).
#[derive(Default)]
struct Walk {
    /// (commit index, blob index) of the introduction.
    introduced: HashMap<(u32, PathId), (usize, u32)>,
    counts: HashMap<(u32, PathId), usize>,
    /// Blob indices some visited commit holds.
    held: HashSet<u32>,
    visited: usize,
}

fn walk(
    commits: &[CommitNode],
    by_id: &IdMap<ObjectId, usize>,
    order: &[usize],
    c: &mut Containment<'_>,
    pairs: &mut Pairs<'_>,
) -> Walk {
    let mut w = Walk::default();
    let mut pair_of = vec![0u32; commits.len()];
    let mut per_set: HashMap<u32, usize> = HashMap::new();
    for &i in order {
        w.visited += 1;
        let set = c.set_of(&commits[i].tree);
        let p = pairs.of(c, set);
        pair_of[i] = p;
        if p == 0 {
            continue;
        }
        *per_set.entry(p).or_default() += 1;
        w.held.extend(c.set(set).iter().map(|&(b, _)| b));
        let parents: Vec<u32> = commits[i]
            .parents
            .iter()
            .filter_map(|id| by_id.get(id).map(|&j| pair_of[j]))
            .collect();
        if parents.contains(&p) {
            continue;
        }
        for k in 0..pairs.sets[p as usize].len() {
            let item = pairs.sets[p as usize][k];
            let in_parent = parents
                .iter()
                .any(|&q| pairs.sets[q as usize].binary_search(&item).is_ok());
            if in_parent || w.introduced.contains_key(&item) {
                continue;
            }
            let blob = c
                .set(set)
                .iter()
                .filter(|&&(b, path)| {
                    path == item.1 && pairs.secrets[b as usize].secrets.contains(&item.0)
                })
                .map(|&(b, _)| b)
                .min();
            if let Some(b) = blob {
                w.introduced.insert(item, (i, b));
            }
        }
    }
    for (p, n) in per_set {
        for &item in &pairs.sets[p as usize] {
            *w.counts.entry(item).or_default() += n;
        }
    }
    w
}

/// Places the secrets of the wanted blobs in history (see the module documentation), and
/// describes the wanted messages' commits and tags.
pub fn provenance(
    repo: &gix::Repository,
    inventory: &Inventory,
    wanted: &[Wanted],
    messages: &[BlobId],
    opts: &HistoryOptions,
) -> Result<(Facts, ProvenanceStats), GitError> {
    provenance_recording(repo, inventory, wanted, messages, opts, false).map(|(f, s, _)| (f, s))
}

/// `provenance`; with `record`, also every tree's (wanted blob, path) pairs, for a later
/// scan's `Known` (`None` if they could not all be named).
pub fn provenance_recording(
    repo: &gix::Repository,
    inventory: &Inventory,
    wanted: &[Wanted],
    messages: &[BlobId],
    opts: &HistoryOptions,
    record: bool,
) -> Result<(Facts, ProvenanceStats, Option<TreeSets>), GitError> {
    let started = std::time::Instant::now();
    let mut facts = Facts::default();
    let mut stats = ProvenanceStats::default();
    // Without wanted blobs every tree holds nothing.
    let empty_sets = || {
        record.then(|| TreeSets {
            trees: inventory.trees.iter().map(|t| (blob_id(t), 0)).collect(),
            sets: vec![Vec::new()],
        })
    };
    let commits = &inventory.commits;
    let by_id: IdMap<ObjectId, usize> =
        commits.iter().enumerate().map(|(i, c)| (c.id, i)).collect();
    let tips = tips(repo, &opts.scope, &by_id)?;
    let reachable = reachable_from(commits, &by_id, &tips.commits);
    facts.commits_in_scope = match opts.all_objects {
        true => commits.len(),
        false => reachable.iter().filter(|&&r| r).count(),
    };
    if wanted.is_empty() && messages.is_empty() {
        return Ok((facts, stats, empty_sets()));
    }
    describe_messages(repo, messages, &by_id, &reachable, &tips, &mut facts);
    facts.message_ranks = message_ranks(commits, &by_id, messages);
    if wanted.is_empty() {
        stats.seconds = started.elapsed().as_secs_f64();
        return Ok((facts, stats, empty_sets()));
    }

    let names = inventory.names;
    let wanted_ids: Vec<ObjectId> = wanted.iter().map(|w| object_id(&w.id)).collect();
    let index = WantedIndex::new(&wanted_ids);
    let empty = TreeTable::default();
    let table = inventory.table.as_ref().unwrap_or(&empty);
    stats.trees = table.len();
    // The table numbers the blobs it was built for; these are numbered by `wanted`.
    let renumber = |i: u32| {
        let id = inventory.table_ids.get(i as usize)?;
        wanted
            .binary_search_by_key(id, |w| w.id)
            .ok()
            .map(|j| j as u32)
    };
    let mut c = Containment::new(table, &renumber);
    inventory.seed(&mut c, wanted);
    let mut pairs = Pairs::new(wanted);

    let order = topo_order(commits, &by_id, &reachable);
    let mut seen = walk(commits, &by_id, &order, &mut c, &mut pairs);
    stats.commits_visited = seen.visited;
    let mut texts: HashMap<PathId, String> = HashMap::new();
    place_walk(
        repo, commits, wanted, &seen, true, &c, names, &mut texts, &mut facts,
    )?;
    if opts.all_objects {
        let unreachable: Vec<bool> = reachable.iter().map(|r| !r).collect();
        let order = topo_order(commits, &by_id, &unreachable);
        let more = walk(commits, &by_id, &order, &mut c, &mut pairs);
        stats.commits_visited += more.visited;
        place_walk(
            repo, commits, wanted, &more, false, &c, names, &mut texts, &mut facts,
        )?;
        seen.held.extend(more.held);
    }
    place_direct(
        repo,
        &tips,
        wanted,
        &index,
        &mut c,
        names,
        &mut seen.held,
        &mut facts,
    )?;

    if let Ok(tree) = repo.head_tree_id() {
        let set = c.set_of(&tree.detach());
        let p = pairs.of(&c, set);
        facts
            .in_head
            .extend(pairs.sets[p as usize].iter().map(|&(s, _)| s));
    }
    for (w, blob) in wanted.iter().enumerate() {
        if seen.held.contains(&(w as u32)) {
            facts.held.insert(blob.id);
        } else if inventory.history_complete() && repo.has_object(object_id(&blob.id)) {
            facts.dangling.push(blob.id);
        }
    }
    let sets = if record {
        tree_sets(repo, inventory, &mut c, wanted)
    } else {
        None
    };
    stats.seconds = started.elapsed().as_secs_f64();
    Ok((facts, stats, sets))
}

/// Every tree's (wanted blob, path) pairs, with paths as names; `None` if a path cannot be
/// named (a tree that cannot be read, an id-prefix collision).
fn tree_sets(
    repo: &gix::Repository,
    inv: &Inventory,
    c: &mut Containment<'_>,
    wanted: &[Wanted],
) -> Option<TreeSets> {
    let mut out = TreeSets {
        trees: Vec::with_capacity(inv.trees.len()),
        sets: vec![Vec::new()],
    };
    let mut index: HashMap<SetId, u32> = HashMap::from([(0, 0)]);
    let mut texts: HashMap<PathId, Vec<u8>> = HashMap::new();
    for id in &inv.trees {
        let set = c.set_of(id);
        if let Some(&i) = index.get(&set) {
            out.trees.push((blob_id(id), i));
            continue;
        }
        let mut pairs = Vec::new();
        for &(w, p) in c.set(set) {
            let text = match texts.get(&p) {
                Some(t) => t.clone(),
                None => {
                    let t = c.path_bytes(repo, *id, p, inv.names).ok()?;
                    texts.insert(p, t.clone());
                    t
                }
            };
            pairs.push((wanted[w as usize].id, text));
        }
        pairs.sort();
        pairs.dedup();
        out.sets.push(pairs);
        let i = out.sets.len() as u32 - 1;
        index.insert(set, i);
        out.trees.push((blob_id(id), i));
    }
    Some(out)
}

/// Reads the objects `ids` (blobs, commits, tags) by id and hands them to `visit` as the
/// object pass would: blobs within `max_blob_size`, and the messages of commits and tags.
/// For objects whose results a scan needs again without reading their packs.
pub fn read_objects<V>(repo: &gix::Repository, ids: &[BlobId], max_blob_size: u64, mut visit: V)
where
    V: FnMut(Event<'_>),
{
    use gix::objs::{Find as _, FindHeader as _};
    let mut buf = Vec::new();
    for id in ids {
        let oid = object_id(id);
        let error = |message: String| {
            Event::Error(crate::source::SourceError {
                path: format!("object {oid}"),
                message,
            })
        };
        match repo.objects.try_header(&oid) {
            Ok(Some(h)) if h.kind == Kind::Blob && h.size > max_blob_size => {
                visit(Event::Skipped {
                    path: &format!("object {oid}"),
                    why: Skip::TooLarge,
                });
                continue;
            }
            Ok(Some(_)) => {}
            Ok(None) => {
                visit(error("missing from the object database".into()));
                continue;
            }
            Err(e) => {
                visit(error(e.to_string()));
                continue;
            }
        }
        let obj = match repo.objects.try_find(&oid, &mut buf) {
            Ok(Some(o)) => o,
            Ok(None) => continue,
            Err(e) => {
                visit(error(e.to_string()));
                continue;
            }
        };
        match obj.kind {
            Kind::Blob => visit(Event::Object {
                id: *id,
                bytes: obj.data,
            }),
            Kind::Commit => {
                if let Some(node) = parse_commit(oid, obj.data) {
                    visit_message(&mut visit, &oid, MessageKind::Commit, node.time, obj.data);
                }
            }
            Kind::Tag => {
                let time = tagger_time(obj.data).unwrap_or(0);
                visit_message(&mut visit, &oid, MessageKind::Tag, time, obj.data);
            }
            Kind::Tree => {}
        }
    }
}

/// Records what a walk placed (pairs placed by an earlier walk stay).
#[allow(clippy::too_many_arguments)]
fn place_walk(
    repo: &gix::Repository,
    commits: &[CommitNode],
    wanted: &[Wanted],
    w: &Walk,
    reachable: bool,
    c: &Containment<'_>,
    names: NameHash,
    texts: &mut HashMap<PathId, String>,
    facts: &mut Facts,
) -> Result<(), GitError> {
    let mut items: Vec<_> = w.introduced.iter().collect();
    items.sort_unstable_by_key(|(item, _)| **item);
    for (&(secret, path), &(i, b)) in items {
        let node = &commits[i];
        let text = match texts.get(&path) {
            Some(t) => t.clone(),
            None => {
                let t = c.path_text(repo, node.tree, path, names)?;
                texts.insert(path, t.clone());
                t
            }
        };
        let key = (secret, text);
        if facts.placed.contains_key(&key) {
            continue;
        }
        let id = blob_id(&node.id);
        if let std::collections::hash_map::Entry::Vacant(v) = facts.commits.entry(id) {
            if let Some(info) = commit_info(repo, node.id) {
                v.insert(info);
            }
        }
        facts.placed.insert(
            key,
            Placed {
                blob: wanted[b as usize].id,
                introduced: Some(id),
                commits: w.counts.get(&(secret, path)).copied().unwrap_or(0),
                reachable,
            },
        );
    }
    Ok(())
}

/// Blobs and trees that a ref points at directly (a tag on a blob): placed at the ref's name.
#[allow(clippy::too_many_arguments)]
fn place_direct(
    repo: &gix::Repository,
    tips: &Tips,
    wanted: &[Wanted],
    index: &WantedIndex,
    c: &mut Containment<'_>,
    names: NameHash,
    held: &mut HashSet<u32>,
    facts: &mut Facts,
) -> Result<(), GitError> {
    for (name, id, kind) in &tips.direct {
        let found: Vec<(u32, String)> = match kind {
            Kind::Blob => index
                .get(id.as_bytes())
                .map(|w| (w, name.clone()))
                .into_iter()
                .collect(),
            Kind::Tree => {
                let set = c.set_of(id);
                let mut v = Vec::new();
                for &(w, path) in c.set(set) {
                    v.push((
                        w,
                        format!("{name}:{}", c.path_text(repo, *id, path, names)?),
                    ));
                }
                v
            }
            _ => Vec::new(),
        };
        for (w, path) in found {
            held.insert(w);
            for &s in &wanted[w as usize].secrets {
                facts.placed.entry((s, path.clone())).or_insert(Placed {
                    blob: wanted[w as usize].id,
                    introduced: None,
                    commits: 0,
                    reachable: true,
                });
            }
        }
    }
    Ok(())
}

/// Commit (or tag) descriptions of the messages with findings.
fn describe_messages(
    repo: &gix::Repository,
    messages: &[BlobId],
    by_id: &IdMap<ObjectId, usize>,
    reachable: &[bool],
    tips: &Tips,
    facts: &mut Facts,
) {
    for m in messages {
        let id = object_id(m);
        let described = match by_id.get(&id) {
            Some(&i) => commit_info(repo, id).map(|c| (c, reachable[i])),
            None => tag_info(repo, id).map(|c| (c, tips.targets.contains(&id))),
        };
        if let Some(d) = described {
            facts.messages.insert(*m, d);
        }
    }
}

/// The place of each message's commit in the topological order of all commits.
fn message_ranks(
    commits: &[CommitNode],
    by_id: &IdMap<ObjectId, usize>,
    messages: &[BlobId],
) -> HashMap<BlobId, usize> {
    if !messages.iter().any(|m| by_id.contains_key(&object_id(m))) {
        return HashMap::new();
    }
    let order = topo_order(commits, by_id, &vec![true; commits.len()]);
    let mut rank = vec![0; commits.len()];
    for (r, &i) in order.iter().enumerate() {
        rank[i] = r;
    }
    messages
        .iter()
        .filter_map(|m| Some((*m, rank[*by_id.get(&object_id(m))?])))
        .collect()
}

/// Author, date and summary of a commit.
fn commit_info(repo: &gix::Repository, id: ObjectId) -> Option<Commit> {
    let commit = repo.find_commit(id).ok()?;
    let decoded = commit.decode().ok()?;
    let author = decoded.author().ok()?;
    Some(Commit {
        id: id.to_string(),
        author: author.name.to_string(),
        email: author.email.to_string(),
        date: iso8601_utc(author.seconds()),
        summary: decoded.message_summary().to_string(),
    })
}

/// Tagger, date and summary of an annotated tag.
fn tag_info(repo: &gix::Repository, id: ObjectId) -> Option<Commit> {
    let tag = repo.find_tag(id).ok()?;
    let decoded = tag.decode().ok()?;
    let tagger = decoded.tagger().ok().flatten();
    Some(Commit {
        id: id.to_string(),
        author: tagger.map(|t| t.name.to_string()).unwrap_or_default(),
        email: tagger.map(|t| t.email.to_string()).unwrap_or_default(),
        date: tagger.map(|t| iso8601_utc(t.seconds())).unwrap_or_default(),
        summary: format!("tag {}", decoded.name),
    })
}

/// Formats Unix seconds as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn iso8601_utc(secs: i64) -> String {
    match jiff::Timestamp::from_second(secs) {
        Ok(t) => t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        Err(_) => String::new(),
    }
}

/// How many submodules HEAD's `.gitmodules` declares that are not checked out in the work
/// tree (a checked-out one is a repository of its own, found and scanned as such; in a bare
/// repository none is).
pub fn submodules_not_checked_out(repo: &gix::Repository) -> usize {
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
        .filter_map(|l| {
            let l = std::str::from_utf8(l).ok()?.trim();
            let (key, value) = l.split_once('=')?;
            (key.trim() == "path").then(|| value.trim().to_string())
        })
        .filter(|p| {
            repo.workdir()
                .is_none_or(|w| !w.join(p).join(".git").exists())
        })
        .count()
}

#[cfg(test)]
mod tests {
    use super::iso8601_utc;

    #[test]
    fn dates() {
        assert_eq!(iso8601_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso8601_utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(iso8601_utc(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(iso8601_utc(-1), "1969-12-31T23:59:59Z");
    }
}
