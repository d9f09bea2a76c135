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
use std::path::PathBuf;
use std::sync::Mutex;

use gix::hash::ObjectId;
use gix::objs::Kind;

use super::objects::each_object;
use super::trees::{tree_pass, Containment, NameHash, PathId, SetId, TreeLoc, WantedIndex};
use super::GitError;
use crate::blob::{BlobId, IdMap};
use crate::finding::{Commit, MessageKind};
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
                    visit(Event::Skipped {
                        path: &format!("object {oid}"),
                        why: Skip::TooLarge,
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
                    visit_message(&mut visit, oid, MessageKind::Commit, node.time, data);
                    collect.commits.push(node);
                }
            }
            Kind::Tree => collect.trees.push(TreeLoc {
                pack,
                offset,
                id: oid.to_owned(),
            }),
            Kind::Tag => {
                let time = tagger_time(data).unwrap_or(0);
                visit_message(&mut visit, oid, MessageKind::Tag, time, data);
            }
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
    /// Wanted blobs of this repository's object database that no commit or ref in scope holds.
    pub dangling: Vec<BlobId>,
    /// The wanted messages: the commit or tag, and whether a ref reaches it.
    pub messages: HashMap<BlobId, (Commit, bool)>,
}

/// Costs of the provenance step, for `-v`.
#[derive(Debug, Default, Clone, Copy)]
pub struct ProvenanceStats {
    pub commits_visited: usize,
    pub trees: usize,
    pub tree_pass_seconds: f64,
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
            .map_err(|e| GitError::Other(format!("--branch: cannot resolve `{rev}`: {e}"))),
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
    let started = std::time::Instant::now();
    let mut facts = Facts::default();
    let mut stats = ProvenanceStats::default();
    if wanted.is_empty() && messages.is_empty() {
        return Ok((facts, stats));
    }
    let commits = &inventory.commits;
    let by_id: IdMap<ObjectId, usize> =
        commits.iter().enumerate().map(|(i, c)| (c.id, i)).collect();
    let tips = tips(repo, &opts.scope, &by_id)?;
    let reachable = reachable_from(commits, &by_id, &tips.commits);
    describe_messages(repo, messages, &by_id, &reachable, &tips, &mut facts);
    if wanted.is_empty() {
        stats.seconds = started.elapsed().as_secs_f64();
        return Ok((facts, stats));
    }

    let names = NameHash::new();
    let wanted_ids: Vec<ObjectId> = wanted.iter().map(|w| object_id(&w.id)).collect();
    let index = WantedIndex::new(&wanted_ids);
    let table = tree_pass(
        repo,
        &inventory.trees,
        &inventory.pack_paths,
        opts.threads,
        &index,
        names,
    );
    stats.trees = table.len();
    stats.tree_pass_seconds = started.elapsed().as_secs_f64();
    let mut c = Containment::new(&table);
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
        } else if repo.has_object(object_id(&blob.id)) {
            facts.dangling.push(blob.id);
        }
    }
    stats.seconds = started.elapsed().as_secs_f64();
    Ok((facts, stats))
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
