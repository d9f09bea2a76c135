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
use gix::objs::{Find as _, Kind};
use gix::odb::pack;

use super::objects::{each_object, open_pack, PackMap, RELEASE_EVERY};
use super::GitError;
use crate::blob::BlobId;
use crate::finding::Commit;
use crate::scan::{HistoryFacts, Placement};
use crate::source::Event;

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
pub(crate) fn tree_entries(data: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
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

/// Per-thread collector that hands its records to the shared state when dropped (gix clones
/// the processor for each worker thread and drops the clones when the pack is done).
struct Collector<'a> {
    commits: Vec<CommitNode>,
    trees: Vec<TreeLoc>,
    shared: &'a Mutex<Collected>,
}

#[derive(Default)]
struct Collected {
    commits: Vec<CommitNode>,
    trees: Vec<TreeLoc>,
}

impl Clone for Collector<'_> {
    fn clone(&self) -> Self {
        Collector {
            commits: Vec::new(),
            trees: Vec::new(),
            shared: self.shared,
        }
    }
}

impl Drop for Collector<'_> {
    fn drop(&mut self) {
        if self.trees.is_empty() && self.commits.is_empty() {
            return;
        }
        let mut g = self.shared.lock().unwrap_or_else(|p| p.into_inner());
        g.commits.append(&mut self.commits);
        g.trees.append(&mut self.trees);
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
}

impl Inventory {
    pub fn commit_count(&self) -> usize {
        self.commits.len()
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

/// The blob pass: hands every blob in the object database to `visitor` (cloned for each
/// worker thread) and collects commit headers.
pub fn scan_objects<V>(
    repo: &gix::Repository,
    opts: &HistoryOptions,
    visitor: V,
) -> Result<Inventory, GitError>
where
    V: FnMut(Event<'_>) + Clone + Send,
{
    let shared = Mutex::new(Collected::default());
    let max = opts.max_blob_size;
    let collector = Collector {
        commits: Vec::new(),
        trees: Vec::new(),
        shared: &shared,
    };
    let mut errors = visitor.clone();
    let handle = {
        let mut visit = visitor;
        let mut collect = collector.clone();
        move |kind: Kind, oid: &gix::hash::oid, data: &[u8], pack: u32, offset: u64| match kind {
            Kind::Blob => {
                if data.len() as u64 > max {
                    visit(Event::TooLarge {
                        path: &format!("object {oid}"),
                        size: data.len() as u64,
                    });
                } else {
                    visit(Event::Object {
                        id: blob_id(oid),
                        bytes: data,
                    });
                }
            }
            Kind::Commit => {
                if let Some(node) = parse_commit(oid.to_owned(), data) {
                    collect.commits.push(node);
                }
            }
            Kind::Tree => collect.trees.push(TreeLoc {
                pack,
                offset,
                id: oid.to_owned(),
            }),
            Kind::Tag => {}
        }
    };
    let (pack_paths, loose) =
        each_object(repo, opts.threads, handle, &mut |e| errors(Event::Error(e)));
    drop(collector);
    let Collected {
        mut commits,
        mut trees,
    } = shared.into_inner().unwrap_or_else(|p| p.into_inner());
    // The same object can sit in several packs, or in a pack and loose.
    commits.sort_by_key(|c| c.id);
    commits.dedup_by_key(|c| c.id);
    trees.sort_by_key(|t| t.id);
    trees.dedup_by_key(|t| t.id);
    Ok(Inventory {
        commits,
        trees,
        packs: pack_paths.len(),
        pack_paths,
        loose,
        shallow: repo.is_shallow().unwrap_or(false),
    })
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
    use super::{iso8601_utc, tree_entries};

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
    fn dates() {
        assert_eq!(iso8601_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso8601_utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(iso8601_utc(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(iso8601_utc(-1), "1969-12-31T23:59:59Z");
    }
}
