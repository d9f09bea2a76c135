//! One pack, every entry decoded exactly once: entries are laid out by their offsets in the pack
//! index, their delta trees are built from the entry headers, and each tree is resolved from its
//! base object down, so a delta base is decompressed once for all its deltas.
//!
//! Every entry is judged on its own. An object's size is known before it is inflated (a base
//! entry's header gives it; a delta's result size is at the start of its instructions), so a blob
//! over the size limit is counted and skipped, never inflated, unless deltas need it as their base
//! and it fits the limit for one object. A damaged entry (its CRC32 differs from the index's, or
//! it does not inflate to its declared size) costs only itself and the deltas based on it: the
//! index gives every other entry's offset, so the walk goes on with the rest and names each
//! object it could not read. The outcome does not depend on the number of threads.

use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use gix::hash::oid;
use gix::objs::Kind;
use gix::odb::pack;

use super::{Found, Limits, ObjectError, PackMap, Place, Problem, RELEASE_EVERY};

const NONE: u32 = u32::MAX;

/// Delta trees at least this large are split between threads.
const SPLIT: u32 = 64;

/// A decoding buffer kept for the next object only up to this capacity.
const KEEP_BUFFER: usize = 8 << 20;

/// An opened pack.
pub(in crate::source::git) struct Pack<'a> {
    pub index: &'a pack::index::File,
    pub data: &'a pack::data::File<PackMap>,
    pub map: &'a PackMap,
}

/// Decodes the entries of `pack` that `roots` asks for on `pool`'s threads, handing each object
/// to a clone of `handle`. Returns the objects that could not be read, in pack order.
///
/// With `Roots::NotTrees` the delta trees of tree objects are not decoded: each of their
/// objects is handed on as `Found::Located` (its id and place, from the index alone), for a
/// later `Roots::Trees` walk. Entries that cannot be placed in a delta tree are reported by the
/// `NotTrees` walk only.
pub(super) fn walk<H>(
    pool: &rayon::ThreadPool,
    pack: Pack<'_>,
    limits: Limits,
    roots: Roots,
    handle: &H,
) -> Vec<ObjectError>
where
    H: FnMut(Found<'_>) + Clone + Send,
{
    let (mut layout, problems) = Layout::new(&pack);
    let problems = if roots == Roots::Trees {
        Vec::new()
    } else {
        problems
    };
    let skipped = layout.keep_roots(roots);
    let walk = Walk {
        workers: (0..pool.current_num_threads())
            .map(|_| {
                Mutex::new(Worker {
                    handle: handle.clone(),
                    inflate: gix::zlib::Inflate::default(),
                    delta: Vec::new(),
                    spare: Vec::new(),
                    inserted: Vec::new(),
                })
            })
            .collect(),
        seen: skipped.iter().map(|&s| AtomicBool::new(s)).collect(),
        problems: Mutex::new(problems),
        next: AtomicUsize::new(0),
        decoded: AtomicUsize::new(0),
        pack,
        layout,
        limits,
    };
    if roots == Roots::NotTrees {
        walk.locate_skipped(&skipped, handle);
    }
    pool.scope(|s| {
        for _ in 0..pool.current_num_threads() {
            s.spawn(|_| {
                while let Some(&k) = walk
                    .layout
                    .starts
                    .get(walk.next.fetch_add(1, Ordering::Relaxed))
                {
                    walk.run(k, Base::None);
                }
            });
        }
    });
    walk.pack.map.release();
    walk.finish()
}

/// Which delta trees a walk decodes, by the kind of their base object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::source::git) enum Roots {
    All,
    /// Blobs, commits and tags (and entries whose kind cannot be told); trees are only located.
    NotTrees,
    /// Trees only.
    Trees,
}

/// A pack's entries by offset (node `k` is the `k`-th entry in the pack) and their delta trees.
struct Layout {
    offsets: Vec<u64>,
    /// Each node's position in the pack index (its id and CRC32).
    pos: Vec<u32>,
    /// Where the entries end (the pack's trailing checksum follows).
    end: u64,
    /// The deltas based on node `k` are `children[child_start[k]..child_start[k + 1]]`.
    child_start: Vec<u32>,
    children: Vec<u32>,
    /// How many nodes each node's delta tree holds, itself included (0: not reachable from a
    /// base object).
    subtree: Vec<u32>,
    /// Where the walk starts: base objects, and entries that cannot be read on their own.
    starts: Vec<u32>,
    /// The kind of each start's object, from its header (`None` for a broken entry).
    start_kinds: Vec<Option<Kind>>,
    /// Entries whose header or base is unusable (already counted among the problems).
    broken: Vec<bool>,
}

impl Layout {
    fn new(p: &Pack<'_>) -> (Layout, Vec<(u32, Problem)>) {
        let n = p.index.num_objects();
        let mut order: Vec<(u64, u32)> = (0..n)
            .map(|i| (p.index.pack_offset_at_index(i), i))
            .collect();
        order.sort_unstable();
        let (offsets, pos): (Vec<u64>, Vec<u32>) = order.into_iter().unzip();
        let mut node_of = vec![NONE; n as usize];
        for (k, &i) in pos.iter().enumerate() {
            node_of[i as usize] = k as u32;
        }
        let end = p.data.pack_end() as u64;
        let mut parent = vec![NONE; n as usize];
        let mut broken = vec![false; n as usize];
        let mut problems = Vec::new();
        let mut starts = Vec::new();
        let mut start_kinds = Vec::new();
        for k in 0..n as usize {
            if k % RELEASE_EVERY == RELEASE_EVERY - 1 {
                p.map.release();
            }
            let next = offsets.get(k + 1).copied().unwrap_or(end);
            match base_of(p, offsets[k], next, &offsets, &node_of) {
                Ok(Err(kind)) => {
                    starts.push(k as u32);
                    start_kinds.push(Some(kind));
                }
                Ok(Ok(b)) => parent[k] = b,
                Err(problem) => {
                    broken[k] = true;
                    starts.push(k as u32);
                    start_kinds.push(None);
                    problems.push((k as u32, problem));
                }
            }
        }
        p.map.release();
        let mut child_start = vec![0u32; n as usize + 1];
        for &b in &parent {
            if b != NONE {
                child_start[b as usize + 1] += 1;
            }
        }
        for i in 0..n as usize {
            child_start[i + 1] += child_start[i];
        }
        let mut fill = child_start.clone();
        let mut children = vec![0u32; child_start[n as usize] as usize];
        for (k, &b) in parent.iter().enumerate() {
            if b != NONE {
                children[fill[b as usize] as usize] = k as u32;
                fill[b as usize] += 1;
            }
        }
        let mut layout = Layout {
            offsets,
            pos,
            end,
            child_start,
            children,
            subtree: Vec::new(),
            starts,
            start_kinds,
            broken,
        };
        layout.subtree = layout.subtree_sizes();
        (layout, problems)
    }

    /// Keeps the starts `roots` asks for and returns, for every node, whether the walk leaves
    /// it alone: a node of a delta tree it skips, or (for `Trees`) no tree at all.
    fn keep_roots(&mut self, roots: Roots) -> Vec<bool> {
        let n = self.offsets.len();
        if roots == Roots::All {
            return vec![false; n];
        }
        let tree = |k: &Option<Kind>| *k == Some(Kind::Tree);
        let mut in_trees = vec![false; n];
        let mut stack: Vec<u32> = self
            .starts
            .iter()
            .zip(&self.start_kinds)
            .filter(|(_, k)| tree(k))
            .map(|(&s, _)| s)
            .collect();
        while let Some(k) = stack.pop() {
            in_trees[k as usize] = true;
            stack.extend_from_slice(self.children_of(k));
        }
        let keep_trees = roots == Roots::Trees;
        let kinds = std::mem::take(&mut self.start_kinds);
        let (starts, kinds): (Vec<u32>, Vec<Option<Kind>>) = self
            .starts
            .iter()
            .zip(kinds)
            .filter(|(_, k)| tree(k) == keep_trees)
            .map(|(&s, k)| (s, k))
            .unzip();
        self.starts = starts;
        self.start_kinds = kinds;
        if keep_trees {
            in_trees.iter().map(|t| !t).collect()
        } else {
            in_trees
        }
    }

    fn children_of(&self, k: u32) -> &[u32] {
        let k = k as usize;
        &self.children[self.child_start[k] as usize..self.child_start[k + 1] as usize]
    }

    /// Where entry `k` ends: where the next one starts.
    fn next(&self, k: usize) -> u64 {
        self.offsets.get(k + 1).copied().unwrap_or(self.end)
    }

    fn subtree_sizes(&self) -> Vec<u32> {
        let mut size = vec![0u32; self.offsets.len()];
        let mut stack: Vec<(u32, bool)> = self.starts.iter().map(|&s| (s, false)).collect();
        while let Some((k, done)) = stack.pop() {
            if done {
                size[k as usize] = 1 + self
                    .children_of(k)
                    .iter()
                    .map(|&c| size[c as usize])
                    .sum::<u32>();
            } else {
                stack.push((k, true));
                stack.extend(self.children_of(k).iter().map(|&c| (c, false)));
            }
        }
        size
    }
}

/// The node an entry is a delta against, or the kind of a base object, from its header.
fn base_of(
    p: &Pack<'_>,
    offset: u64,
    next: u64,
    offsets: &[u64],
    node_of: &[u32],
) -> Result<Result<u32, Kind>, Problem> {
    if offset >= next {
        return Err(Problem::Damaged(
            "the pack index places it outside the pack or on another entry".into(),
        ));
    }
    let entry = p
        .data
        .entry(offset)
        .map_err(|e| Problem::Damaged(e.to_string()))?;
    if entry.data_offset >= next {
        return Err(Problem::Damaged(
            "its header runs into the next entry".into(),
        ));
    }
    use pack::data::entry::Header::*;
    match entry.header {
        Commit => Ok(Err(Kind::Commit)),
        Tree => Ok(Err(Kind::Tree)),
        Blob => Ok(Err(Kind::Blob)),
        Tag => Ok(Err(Kind::Tag)),
        OfsDelta { base_distance } => entry
            .checked_base_pack_offset(base_distance)
            .and_then(|o| offsets.binary_search(&o).ok())
            .map(|b| Ok(b as u32))
            .ok_or_else(|| {
                Problem::Damaged("its delta base offset is not an entry of this pack".into())
            }),
        RefDelta { base_id } => match p.index.lookup(base_id) {
            Some(i) => Ok(Ok(node_of[i as usize])),
            None => Err(Problem::BaseNotInPack(base_id)),
        },
    }
}

/// What the deltas of an object get from it.
#[derive(Clone)]
enum Base {
    /// Nothing: the node is a base object.
    None,
    Bytes {
        kind: Kind,
        bytes: Arc<Vec<u8>>,
    },
    /// The object was not built: its deltas can still tell their own size.
    Missing {
        kind: Option<Kind>,
        node: u32,
        /// Its size when that is why it was not built.
        too_large: Option<u64>,
    },
}

impl Base {
    fn kind(&self) -> Option<Kind> {
        match self {
            Base::None => None,
            Base::Bytes { kind, .. } => Some(*kind),
            Base::Missing { kind, .. } => *kind,
        }
    }
}

/// A thread's own state.
struct Worker<H> {
    handle: H,
    inflate: gix::zlib::Inflate,
    /// Delta instructions being applied.
    delta: Vec<u8>,
    /// A buffer for the next object.
    spare: Vec<u8>,
    /// The ranges of the last tree built from a delta that the delta inserted.
    inserted: Vec<Range<u32>>,
}

impl<H> Worker<H> {
    fn buffer(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.spare)
    }

    fn give_back(&mut self, buf: Vec<u8>) {
        if buf.capacity() <= KEEP_BUFFER && buf.capacity() > self.spare.capacity() {
            self.spare = buf;
        }
    }
}

/// Why one node failed: the problem, and the kind its deltas inherit if known.
type Failure = (Problem, Option<Kind>);

struct Walk<'a, H> {
    pack: Pack<'a>,
    layout: Layout,
    limits: Limits,
    workers: Vec<Mutex<Worker<H>>>,
    seen: Vec<AtomicBool>,
    problems: Mutex<Vec<(u32, Problem)>>,
    /// The next of `layout.starts` to take.
    next: AtomicUsize,
    decoded: AtomicUsize,
}

impl<H> Walk<'_, H>
where
    H: FnMut(Found<'_>) + Clone + Send,
{
    fn worker(&self) -> MutexGuard<'_, Worker<H>> {
        let i = rayon::current_thread_index().unwrap_or(0) % self.workers.len();
        self.workers[i].lock().unwrap_or_else(|p| p.into_inner())
    }

    fn id(&self, k: u32) -> &oid {
        self.pack.index.oid_at_index(self.layout.pos[k as usize])
    }

    /// Builds `node` and its whole delta tree. The deltas of one object are taken smallest tree
    /// first and the largest last, in place of this call: an object is then held only while
    /// smaller trees below it are built, which bounds the objects held at once by the log of
    /// the tree's size. Large trees leave their largest part to another thread if one is idle.
    fn run(&self, mut node: u32, mut base: Base) {
        loop {
            let built = self.build(node, base);
            let kids = self.layout.children_of(node);
            let sizes = &self.layout.subtree;
            let Some(&heavy) = kids.iter().max_by_key(|&&c| (sizes[c as usize], c)) else {
                return;
            };
            let light = |base: &Base| {
                for &c in kids.iter().filter(|&&c| c != heavy) {
                    self.run(c, base.clone());
                }
            };
            if kids.len() > 1 && sizes[node as usize] >= SPLIT {
                // Each side owns its reference, so the object goes as soon as both are done
                // with it: the largest tree drops it after its first node.
                let for_light = built.clone();
                rayon::join(move || light(&for_light), move || self.run(heavy, built));
                return;
            }
            light(&built);
            (node, base) = (heavy, built);
        }
    }

    /// Decodes one node, hands it to the handler, and returns what its deltas need.
    fn build(&self, node: u32, base: Base) -> Base {
        let k = node as usize;
        self.seen[k].store(true, Ordering::Relaxed);
        if (self.decoded.fetch_add(1, Ordering::Relaxed) + 1) % RELEASE_EVERY == 0 {
            // Each entry is read about once; pages already decoded need not stay resident.
            self.pack.map.release();
        }
        if self.layout.broken[k] {
            return Base::Missing {
                kind: None,
                node,
                too_large: None,
            };
        }
        let mut w = self.worker();
        match self.decode(&mut w, node, base) {
            Ok(built) => built,
            Err((problem, kind)) => {
                let too_large = match problem {
                    Problem::TooLarge { size, .. } => Some(size),
                    _ => None,
                };
                self.problems
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push((node, problem));
                Base::Missing {
                    kind,
                    node,
                    too_large,
                }
            }
        }
    }

    fn decode(&self, w: &mut Worker<H>, node: u32, base: Base) -> Result<Base, Failure> {
        let k = node as usize;
        let offset = self.layout.offsets[k];
        let raw = &self.pack.map[offset as usize..self.layout.next(k) as usize];
        if let Some(crc) = self.pack.index.crc32_at_index(self.layout.pos[k]) {
            if crc32fast::hash(raw) != crc {
                return Err((Problem::Checksum, base.kind()));
            }
        }
        let damaged = |e: String| (Problem::Damaged(e), base.kind());
        let entry = self
            .pack
            .data
            .entry(offset)
            .map_err(|e| damaged(e.to_string()))?;
        let data = &raw[(entry.data_offset - offset) as usize..];
        match entry.header.as_kind() {
            Some(kind) => self.decode_base(w, node, kind, entry.decompressed_size, data),
            None => {
                let mut delta = std::mem::take(&mut w.delta);
                let built =
                    self.decode_delta(w, node, entry.decompressed_size, data, base, &mut delta);
                if delta.capacity() <= KEEP_BUFFER {
                    w.delta = delta;
                }
                built
            }
        }
    }

    fn decode_base(
        &self,
        w: &mut Worker<H>,
        node: u32,
        kind: Kind,
        size: u64,
        data: &[u8],
    ) -> Result<Base, Failure> {
        if let Some(skipped) = self.check_size(w, node, kind, size)? {
            return Ok(skipped);
        }
        let mut buf = w.buffer();
        if let Err(e) = inflate_exact(&mut w.inflate, data, size, &mut buf) {
            w.give_back(buf);
            return Err((Problem::Damaged(e), Some(kind)));
        }
        Ok(self.finish_object(w, node, kind, size, buf, false))
    }

    fn decode_delta(
        &self,
        w: &mut Worker<H>,
        node: u32,
        delta_size: u64,
        data: &[u8],
        base: Base,
        delta: &mut Vec<u8>,
    ) -> Result<Base, Failure> {
        let kind = base.kind();
        let damaged = |e: String| (Problem::Damaged(e), kind);
        let limit = self.limits.object;
        if delta_size > limit {
            // Even the instructions are over the limit: their first bytes tell the result size.
            let size = peek_result_size(&mut w.inflate, data).map_err(damaged)?;
            if let Some(skipped) = self.skip_too_large(w, node, kind, size) {
                return Ok(skipped);
            }
            let size = delta_size.max(size);
            return Err((Problem::TooLarge { size, limit }, kind));
        }
        inflate_exact(&mut w.inflate, data, delta_size, delta).map_err(damaged)?;
        let (base_size, a) = varint(delta).map_err(damaged)?;
        let (size, b) = varint(&delta[a..]).map_err(damaged)?;
        let (kind, bytes) = match &base {
            Base::Bytes { kind, bytes } => (*kind, bytes),
            Base::Missing {
                node: b, too_large, ..
            } => {
                if let Some(skipped) = self.skip_too_large(w, node, kind, size) {
                    return Ok(skipped);
                }
                let base = self.id(*b).to_owned();
                let problem = match *too_large {
                    Some(size) => Problem::BaseTooLarge { base, size, limit },
                    None => Problem::BaseUnreadable(base),
                };
                return Err((problem, kind));
            }
            Base::None => return Err(damaged("a delta without a base".into())),
        };
        if bytes.len() as u64 != base_size {
            let e = "its delta base does not have the size the delta expects";
            return Err(damaged(e.into()));
        }
        if let Some(skipped) = self.check_size(w, node, kind, size)? {
            return Ok(skipped);
        }
        let mut out = w.buffer();
        out.clear();
        out.resize(size as usize, 0);
        // For trees, what the delta inserted tells which entries are new (see `Found`).
        let is_tree = kind == Kind::Tree;
        let inserted = is_tree.then_some(&mut w.inserted);
        if let Err(e) = apply_delta(bytes, &delta[a + b..], &mut out, inserted) {
            w.give_back(out);
            return Err(damaged(e.into()));
        }
        drop(base);
        Ok(self.finish_object(w, node, kind, size, out, is_tree))
    }

    /// Applies the size limits to an object of `size` bytes before it is inflated: a blob over
    /// the blob limit is reported as too large and not built, unless deltas need it as their
    /// base and it fits the object limit (`Ok(None)`: build it); nothing over the object limit
    /// is built.
    fn check_size(
        &self,
        w: &mut Worker<H>,
        node: u32,
        kind: Kind,
        size: u64,
    ) -> Result<Option<Base>, Failure> {
        let as_base = !self.layout.children_of(node).is_empty() && size <= self.limits.object;
        if as_base && kind == Kind::Blob && size > self.limits.blob {
            (w.handle)(Found::TooLarge {
                id: self.id(node),
                size,
            });
            return Ok(None);
        }
        if let Some(skipped) = self.skip_too_large(w, node, Some(kind), size) {
            return Ok(Some(skipped));
        }
        if size > self.limits.object {
            let limit = self.limits.object;
            return Err((Problem::TooLarge { size, limit }, Some(kind)));
        }
        Ok(None)
    }

    /// Reports a blob over the blob limit as too large, and what its deltas get instead of it.
    fn skip_too_large(
        &self,
        w: &mut Worker<H>,
        node: u32,
        kind: Option<Kind>,
        size: u64,
    ) -> Option<Base> {
        if kind != Some(Kind::Blob) || size <= self.limits.blob {
            return None;
        }
        (w.handle)(Found::TooLarge {
            id: self.id(node),
            size,
        });
        Some(Base::Missing {
            kind,
            node,
            too_large: Some(size),
        })
    }

    /// Hands a built object to the handler (unless it is a blob over the limit, built only as
    /// a base) and keeps it if deltas need it. `from_delta`: `w.inserted` holds what its delta
    /// inserted.
    fn finish_object(
        &self,
        w: &mut Worker<H>,
        node: u32,
        kind: Kind,
        size: u64,
        buf: Vec<u8>,
        from_delta: bool,
    ) -> Base {
        if !(kind == Kind::Blob && size > self.limits.blob) {
            (w.handle)(Found::Object {
                kind,
                id: self.id(node),
                data: &buf,
                inserted: from_delta.then_some(&w.inserted[..]),
            });
        }
        if self.layout.children_of(node).is_empty() {
            w.give_back(buf);
            Base::None
        } else {
            Base::Bytes {
                kind,
                bytes: Arc::new(buf),
            }
        }
    }

    /// Hands on the id of every node of a skipped delta tree (trees, for a later walk),
    /// without decoding anything; each entry's CRC32 is still checked against the index, so a
    /// damaged tree is reported even when the trees are never decoded.
    fn locate_skipped(&self, skipped: &[bool], handle: &H) {
        let mut handle = handle.clone();
        let mut damaged = Vec::new();
        for (k, _) in skipped.iter().enumerate().filter(|(_, s)| **s) {
            let node = k as u32;
            let raw = &self.pack.map[self.layout.offsets[k] as usize..self.layout.next(k) as usize];
            match self.pack.index.crc32_at_index(self.layout.pos[k]) {
                Some(crc) if crc32fast::hash(raw) != crc => damaged.push((node, Problem::Checksum)),
                _ => handle(Found::Located { id: self.id(node) }),
            }
        }
        self.problems
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend(damaged);
    }

    /// The problems, in pack order, with every node no base object leads to.
    fn finish(self) -> Vec<ObjectError> {
        let mut problems = self
            .problems
            .into_inner()
            .unwrap_or_else(|p| p.into_inner());
        for (k, seen) in self.seen.iter().enumerate() {
            if !seen.load(Ordering::Relaxed) {
                problems.push((k as u32, Problem::NoBase));
            }
        }
        problems.sort_by_key(|(k, _)| *k);
        let path = self.pack.data.path().to_path_buf();
        problems
            .into_iter()
            .map(|(k, problem)| ObjectError {
                id: self
                    .pack
                    .index
                    .oid_at_index(self.layout.pos[k as usize])
                    .to_owned(),
                problem,
                place: Place::Pack {
                    path: path.clone(),
                    offset: self.layout.offsets[k as usize],
                },
            })
            .collect()
    }
}

/// Inflates the zlib stream at the start of `input` into `out`, which must come to exactly
/// `size` bytes.
pub(super) fn inflate_exact(
    inflate: &mut gix::zlib::Inflate,
    input: &[u8],
    size: u64,
    out: &mut Vec<u8>,
) -> Result<(), String> {
    let size = usize::try_from(size).map_err(|_| "too large for this machine".to_string())?;
    out.clear();
    out.resize(size, 0);
    inflate.reset();
    let (status, _, written) = inflate.once(input, out).map_err(|e| e.to_string())?;
    if status != gix::zlib::Status::StreamEnd || written != size {
        return Err(format!(
            "its compressed data does not inflate to the {size} bytes its header declares"
        ));
    }
    Ok(())
}

/// The result size of a delta, from the first bytes of its instructions.
fn peek_result_size(inflate: &mut gix::zlib::Inflate, input: &[u8]) -> Result<u64, String> {
    let mut head = [0u8; 20];
    inflate.reset();
    let (_, _, n) = inflate
        .prefix(input, &mut head)
        .map_err(|e| e.to_string())?;
    let (_, a) = varint(&head[..n])?;
    Ok(varint(&head[a..n])?.0)
}

/// A size in a delta's header: 7 bits a byte, least significant first.
pub(crate) fn varint(d: &[u8]) -> Result<(u64, usize), String> {
    let mut size = 0u64;
    for (i, &b) in d.iter().enumerate().take(10) {
        size |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Ok((size, i + 1));
        }
    }
    Err("its delta header is truncated".into())
}

/// Applies git delta instructions `ops` to `base`, filling `out` exactly. With `inserted`, the
/// ranges of `out` that the delta inserted (rather than copied from the base) are put there.
pub(crate) fn apply_delta(
    base: &[u8],
    ops: &[u8],
    out: &mut [u8],
    mut inserted: Option<&mut Vec<Range<u32>>>,
) -> Result<(), &'static str> {
    const SHORT: &str = "its delta instructions are truncated";
    if let Some(v) = inserted.as_deref_mut() {
        v.clear();
    }
    let (mut i, mut o) = (0usize, 0usize);
    while let Some(&cmd) = ops.get(i) {
        i += 1;
        let src: &[u8] = if cmd & 0x80 != 0 {
            // Copy from the base: which offset and size bytes follow is in the command's bits.
            let mut field = |bits: u8, shift: u32| -> Result<usize, &'static str> {
                let mut v = 0usize;
                for b in 0..bits {
                    if cmd & (1 << (shift + u32::from(b))) != 0 {
                        v |= usize::from(*ops.get(i).ok_or(SHORT)?) << (8 * b);
                        i += 1;
                    }
                }
                Ok(v)
            };
            let offset = field(4, 0)?;
            let size = match field(3, 4)? {
                0 => 0x10000,
                n => n,
            };
            offset
                .checked_add(size)
                .and_then(|end| base.get(offset..end))
                .ok_or("a delta copies from outside its base")?
        } else if cmd != 0 {
            let lit = ops.get(i..i + usize::from(cmd)).ok_or(SHORT)?;
            i += usize::from(cmd);
            if let Some(v) = inserted.as_deref_mut() {
                let (start, end) = (o as u32, (o + lit.len()) as u32);
                match v.last_mut() {
                    Some(last) if last.end == start => last.end = end,
                    _ => v.push(start..end),
                }
            }
            lit
        } else {
            return Err("its delta uses the reserved instruction 0");
        };
        out.get_mut(o..o + src.len())
            .ok_or("its delta writes past the size it declares")?
            .copy_from_slice(src);
        o += src.len();
    }
    if o != out.len() {
        return Err("its delta writes less than the size it declares");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{apply_delta, varint, Range};

    #[test]
    fn delta_copy_and_insert() {
        let base = b"0123456789";
        // copy offset 2 size 3, insert "ab", copy offset 0 size 1
        let ops = [0x91, 2, 3, 2, b'a', b'b', 0x90, 1];
        let mut out = [0u8; 6];
        let mut inserted = Vec::new();
        apply_delta(base, &ops, &mut out, Some(&mut inserted)).unwrap();
        assert_eq!(&out, b"234ab0");
        assert_eq!(inserted, vec![Range { start: 3, end: 5 }]);
        // Declared size too large or too small, a copy outside the base, truncation.
        assert!(apply_delta(base, &ops, &mut [0u8; 7], None).is_err());
        assert!(apply_delta(base, &ops, &mut [0u8; 5], None).is_err());
        assert!(apply_delta(base, &[0x91, 9, 3], &mut [0u8; 3], None).is_err());
        assert!(apply_delta(base, &[0x91, 2], &mut [0u8; 3], None).is_err());
        assert!(apply_delta(base, &[0], &mut [], None).is_err());
        assert!(apply_delta(base, &[3, b'a'], &mut [0u8; 3], None).is_err());
    }

    #[test]
    fn delta_sizes() {
        assert_eq!(varint(&[0x05]).unwrap(), (5, 1));
        assert_eq!(varint(&[0x80 | 0x10, 0x01, 9]).unwrap(), (0x90, 2));
        assert!(varint(&[0x80]).is_err());
        assert!(varint(&[0xff; 11]).is_err());
    }
}
