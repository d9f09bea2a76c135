//! Reading a repository's object database: packs by a walk of their delta trees (every entry
//! decoded once, each delta base decompressed once; see `walk`), then loose objects, across the
//! repository's own object directory and its alternates. Packs are mapped by this module so that
//! decoded pages can be dropped from the resident set as the walk moves on.
//!
//! Hostile or damaged object databases are expected: no object is inflated before its size is
//! known and checked, a damaged object costs only itself (and the deltas based on it), and every
//! object that cannot be read is named.
//!
//! Owns where objects are and how they are read; knows nothing about what they mean (history
//! decides that) or about rules.

pub(crate) mod walk;

pub(super) use walk::Roots;

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use gix::hash::{oid, ObjectId};
use gix::objs::Kind;
use gix::odb::pack;

use crate::source::SourceError;

/// The repository's object directories: its own and those of its alternates.
pub(super) fn object_dirs(repo: &gix::Repository) -> Vec<PathBuf> {
    let own = repo.common_dir().join("objects");
    let mut dirs = vec![own.clone()];
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    if let Ok(alternates) = gix::odb::alternate::resolve(own, &cwd) {
        for a in alternates {
            if !dirs.contains(&a) {
                dirs.push(a);
            }
        }
    }
    dirs
}

fn pack_indexes(objects: &Path) -> Vec<PathBuf> {
    let mut idx: Vec<PathBuf> = std::fs::read_dir(objects.join("pack"))
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "idx"))
        .collect();
    idx.sort();
    idx
}

/// Objects decoded between two releases of a pack's mapped pages (`PackMap::release`). Each
/// entry of a pack is read about once per pass, so pages of decoded entries are done with;
/// dropping them keeps the resident set near the heap's size instead of heap + pack.
pub(super) const RELEASE_EVERY: usize = 8192;

/// A pack's data, mapped read-only; clones share the mapping.
#[derive(Clone)]
pub(super) struct PackMap(std::sync::Arc<memmap2::Mmap>);

impl std::ops::Deref for PackMap {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl PackMap {
    fn open(path: &Path) -> std::io::Result<PackMap> {
        let file = std::fs::File::open(path)?;
        // SAFETY: the map is read-only, and git never writes into an existing pack file (it
        // writes new packs under new names and renames them into place).
        let map = unsafe { memmap2::Mmap::map(&file)? };
        Ok(PackMap(std::sync::Arc::new(map)))
    }

    /// Drops the mapped pages from this process's resident set. They stay in the page cache,
    /// and the next read maps them again with the same content.
    pub(super) fn release(&self) {
        #[cfg(target_os = "linux")]
        // SAFETY: MADV_DONTNEED on a read-only shared file mapping removes page table entries
        // only; a later read faults in the file's bytes again, so every borrow of the map
        // keeps seeing the same content.
        unsafe {
            let _ = self.0.unchecked_advise(memmap2::UncheckedAdvice::DontNeed);
        }
    }
}

/// Opens a pack's index and its data (`.pack` next to the `.idx`) over a mapping this module
/// controls.
pub(super) fn open_pack(
    idx: &Path,
    hash: gix::hash::Kind,
) -> Result<(pack::index::File, PackMap, pack::data::File<PackMap>), String> {
    let index = pack::index::File::at(idx, hash).map_err(|e| e.to_string())?;
    let path = idx.with_extension("pack");
    let map = PackMap::open(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let data = pack::data::File::from_data(map.clone(), path, hash).map_err(|e| e.to_string())?;
    Ok((index, map, data))
}

/// No object above this many bytes is held in memory, whatever the blob limit: deltas need their
/// bases whole, and trees and commits are read whatever their size.
pub(super) const MIN_OBJECT_LIMIT: u64 = 64 << 20;

/// How large an object may be.
#[derive(Debug, Clone, Copy)]
pub(super) struct Limits {
    /// Blobs above this are counted and skipped, never inflated unless deltas need them as
    /// their base.
    pub blob: u64,
    /// Nothing above this is inflated: the most one object can cost.
    pub object: u64,
}

impl Limits {
    pub(super) fn new(max_blob: u64) -> Limits {
        Limits {
            blob: max_blob,
            object: max_blob.max(MIN_OBJECT_LIMIT),
        }
    }
}

/// What the object pass hands to its handler, on the thread that read it.
pub(super) enum Found<'a> {
    /// An object, decoded.
    Object {
        kind: Kind,
        id: &'a oid,
        data: &'a [u8],
        /// For a tree built from a delta: the ranges of `data` that the delta inserted. The
        /// rest was copied from its base, so entries lying wholly in copied bytes are entries
        /// of the base tree (git's deltas copy runs of matching bytes, and an object id does
        /// not occur by chance anywhere but in its own entry). `None`: all of `data` is new.
        inserted: Option<&'a [Range<u32>]>,
    },
    /// A blob over the size limit; its size comes from its header, its content is not read.
    TooLarge { id: &'a oid, size: u64 },
    /// A tree left for a later walk (see `walk::Roots`): its id only.
    Located { id: &'a oid },
}

/// Where an object was read from.
#[derive(Debug, Clone)]
pub(super) enum Place {
    Pack { path: PathBuf, offset: u64 },
    Loose(PathBuf),
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::Pack { path, offset } => write!(f, "{} at offset {offset}", path.display()),
            Place::Loose(path) => write!(f, "{}", path.display()),
        }
    }
}

/// Why an object could not be read.
#[derive(Debug, Clone, thiserror::Error)]
pub(super) enum Problem {
    #[error("damaged: {0}")]
    Damaged(String),
    #[error("damaged: its pack entry does not match the CRC32 in the pack index")]
    Checksum,
    #[error("its delta base {0} is not in the same pack")]
    BaseNotInPack(ObjectId),
    #[error("its delta base {0} could not be read")]
    BaseUnreadable(ObjectId),
    #[error("its delta base {base} is {size} bytes, over the {limit}-byte limit for one object")]
    BaseTooLarge {
        base: ObjectId,
        size: u64,
        limit: u64,
    },
    #[error("{size} bytes, over the {limit}-byte limit for one object")]
    TooLarge { size: u64, limit: u64 },
    #[error("damaged: its delta chain does not lead to a base object")]
    NoBase,
}

/// An object that could not be read: which, why, and where it is.
#[derive(Debug, thiserror::Error)]
#[error("object {id}: {problem} ({place})")]
pub(super) struct ObjectError {
    pub id: ObjectId,
    pub problem: Problem,
    pub place: Place,
}

/// What the object pass could not read: one object, or a whole pack or directory.
#[derive(Debug)]
pub(super) enum ReadError {
    Object(ObjectError),
    Store(SourceError),
}

/// Hands every object in the object database that `roots` asks for to `handle` (cloned for
/// each worker thread): packs by their delta trees, then loose objects. What
/// cannot be read goes to `on_error` (objects of one pack in pack order); the pass goes on.
/// Returns the packs read and the number of loose objects.
/// Packs for which `skip` is true (by their `.idx` path) are left out.
pub(super) fn each_object<H>(
    repo: &gix::Repository,
    threads: usize,
    limits: Limits,
    roots: walk::Roots,
    skip: &dyn Fn(&Path) -> bool,
    handle: H,
    on_error: &mut dyn FnMut(ReadError),
) -> (Vec<PathBuf>, usize)
where
    H: FnMut(Found<'_>) + Clone + Send,
{
    let hash = repo.object_hash();
    let mut packs: Vec<PathBuf> = Vec::new();
    let mut loose_count = 0;
    let pool = match rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .build()
    {
        Ok(pool) => pool,
        Err(e) => {
            on_error(ReadError::Store(SourceError {
                path: repo.common_dir().display().to_string(),
                message: format!("cannot start worker threads: {e}"),
            }));
            return (packs, 0);
        }
    };
    for dir in object_dirs(repo) {
        for idx in pack_indexes(&dir).into_iter().filter(|p| !skip(p)) {
            let (index, map, data) = match open_pack(&idx, hash) {
                Ok(b) => b,
                Err(message) => {
                    on_error(ReadError::Store(SourceError {
                        path: idx.display().to_string(),
                        message: format!("cannot open pack: {message}"),
                    }));
                    continue;
                }
            };
            packs.push(idx.clone());
            let pack = walk::Pack {
                index: &index,
                data: &data,
                map: &map,
            };
            for e in walk::walk(&pool, pack, limits, roots, &handle) {
                on_error(ReadError::Object(e));
            }
        }
        loose_count += each_loose(&dir, hash, limits, roots, &mut handle.clone(), on_error);
    }
    (packs, loose_count)
}

/// Hands every loose object in `dir` to `handle`, each checked against the limits by its header
/// before it is inflated. Returns how many there are.
fn each_loose<H>(
    dir: &Path,
    hash: gix::hash::Kind,
    limits: Limits,
    roots: walk::Roots,
    handle: &mut H,
    on_error: &mut dyn FnMut(ReadError),
) -> usize
where
    H: FnMut(Found<'_>),
{
    let options = gix::odb::loose::Options {
        alloc_limit_bytes: usize::try_from(limits.object).ok(),
        ..Default::default()
    };
    let loose = gix::odb::loose::Store::at_opts(dir, hash, options);
    let mut buf = Vec::new();
    let mut count = 0;
    for id in loose.iter() {
        let id = match id {
            Ok(id) => id,
            Err(e) => {
                on_error(ReadError::Store(SourceError {
                    path: dir.display().to_string(),
                    message: format!("cannot list loose objects: {e}"),
                }));
                continue;
            }
        };
        count += 1;
        let fail = |problem: Problem| {
            let place = Place::Loose(loose.object_path(&id));
            ReadError::Object(ObjectError { id, problem, place })
        };
        let tree = matches!(loose.try_header(&id), Ok(Some((_, Kind::Tree))));
        match roots {
            walk::Roots::NotTrees if tree => {
                handle(Found::Located { id: &id });
                continue;
            }
            walk::Roots::Trees if !tree => continue,
            _ => {}
        }
        match loose.try_header(&id) {
            Ok(Some((size, Kind::Blob))) if size > limits.blob => {
                handle(Found::TooLarge { id: &id, size });
                continue;
            }
            Ok(Some((size, _))) if size > limits.object => {
                let limit = limits.object;
                on_error(fail(Problem::TooLarge { size, limit }));
                continue;
            }
            Ok(Some(_)) => {}
            Ok(None) => continue,
            Err(e) => {
                on_error(fail(Problem::Damaged(e.to_string())));
                continue;
            }
        }
        match loose.try_find(&id, &mut buf) {
            Ok(Some(obj)) => handle(Found::Object {
                kind: obj.kind,
                id: &id,
                data: obj.data,
                inserted: None,
            }),
            Ok(None) => {}
            Err(e) => on_error(fail(Problem::Damaged(e.to_string()))),
        }
    }
    count
}

/// Which objects the object database holds (by 64-bit id prefix: a chance collision would
/// hide one missing object in 2^64), from the pack indexes and the names of loose objects;
/// nothing is read.
pub(super) struct Present {
    /// Sorted prefixes.
    prefixes: Vec<u64>,
    /// Where the prefixes with each leading 16 bits start in `prefixes`.
    fan: Vec<u32>,
}

impl Present {
    pub(super) fn of(repo: &gix::Repository) -> Present {
        let hash = repo.object_hash();
        let mut prefixes = Vec::new();
        for dir in object_dirs(repo) {
            for idx in pack_indexes(&dir) {
                if let Ok(index) = pack::index::File::at(idx, hash) {
                    prefixes.extend(index.iter().map(|e| prefix(&e.oid)));
                }
            }
            let loose = gix::odb::loose::Store::at(&dir, hash);
            prefixes.extend(loose.iter().flatten().map(|id| prefix(&id)));
        }
        prefixes.sort_unstable();
        prefixes.dedup();
        let mut fan = vec![0u32; (1 << 16) + 1];
        for p in &prefixes {
            fan[(p >> 48) as usize + 1] += 1;
        }
        for i in 0..1 << 16 {
            fan[i + 1] += fan[i];
        }
        Present { prefixes, fan }
    }

    pub(super) fn contains_prefix(&self, key: u64) -> bool {
        let b = (key >> 48) as usize;
        self.prefixes[self.fan[b] as usize..self.fan[b + 1] as usize]
            .binary_search(&key)
            .is_ok()
    }
}

/// The first 8 bytes of an object id, big-endian.
pub(super) fn prefix(id: &oid) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&id.as_bytes()[..8]);
    u64::from_be_bytes(b)
}
