//! Reading a repository's object database: packs by traversal (every entry decoded once, each
//! delta base decompressed once, on gix's worker threads), then loose objects, across the
//! repository's own object directory and its alternates. Packs are mapped by this module so that
//! decoded pages can be dropped from the resident set as the traversal moves on.
//!
//! Owns where objects are and how they are read; knows nothing about what they mean (history
//! decides that) or about rules.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use gix::objs::Kind;
use gix::odb::pack;

use crate::source::SourceError;

/// The pack number given to loose objects.
pub(super) const LOOSE: u32 = u32::MAX;

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

/// Calls `handle(kind, id, data, pack, offset)` for every object in the object database: packs
/// by traversal (on gix's worker threads, `handle` cloned for each), then loose objects (pack
/// `LOOSE`). Unreadable packs and objects go to `on_error`; the pass goes on. Returns the
/// packs read and the number of loose objects.
pub(super) fn each_object<H>(
    repo: &gix::Repository,
    threads: usize,
    handle: H,
    on_error: &mut dyn FnMut(SourceError),
) -> (Vec<PathBuf>, usize)
where
    H: FnMut(Kind, &gix::hash::oid, &[u8], u32, u64) + Clone + Send,
{
    let hash = repo.object_hash();
    let interrupt = AtomicBool::new(false);
    let mut packs: Vec<PathBuf> = Vec::new();
    let mut loose_count = 0;
    for dir in object_dirs(repo) {
        for idx in pack_indexes(&dir) {
            let (index, map, data) = match open_pack(&idx, hash) {
                Ok(b) => b,
                Err(message) => {
                    on_error(SourceError {
                        path: idx.display().to_string(),
                        message: format!("cannot open pack: {message}"),
                    });
                    continue;
                }
            };
            let pack_no = packs.len() as u32;
            packs.push(idx.clone());
            let mut h = handle.clone();
            let seen = std::sync::atomic::AtomicU64::new(0);
            let (map, seen) = (&map, &seen);
            let processor = move |kind: Kind,
                                  data: &[u8],
                                  entry: &pack::index::Entry,
                                  _: &dyn gix::progress::Progress| {
                h(kind, &entry.oid, data, pack_no, entry.pack_offset);
                // Each entry is read once; pages of entries already decoded need not stay
                // in this process's resident set.
                let n = seen.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                if n % RELEASE_EVERY as u64 == 0 {
                    map.release();
                }
                Ok(())
            };
            let result = index.traverse(
                &data,
                &mut gix::progress::Discard,
                &interrupt,
                processor,
                pack::index::traverse::Options {
                    traversal: pack::index::traverse::Algorithm::DeltaTreeLookup,
                    thread_limit: Some(threads.max(1)),
                    check:
                        pack::index::traverse::SafetyCheck::SkipFileAndObjectChecksumVerification,
                    alloc_limit_bytes: None,
                    make_pack_lookup_cache: || pack::cache::Never,
                },
            );
            if let Err(e) = result {
                on_error(SourceError {
                    path: data.path().display().to_string(),
                    message: format!("pack could not be read completely: {e}"),
                });
            }
        }

        let loose = gix::odb::loose::Store::at(&dir, hash);
        let mut buf = Vec::new();
        let mut h = handle.clone();
        for id in loose.iter() {
            let id = match id {
                Ok(id) => id,
                Err(e) => {
                    on_error(SourceError {
                        path: dir.display().to_string(),
                        message: format!("cannot list loose objects: {e}"),
                    });
                    continue;
                }
            };
            loose_count += 1;
            match loose.try_find(&id, &mut buf) {
                Ok(Some(obj)) => h(obj.kind, &id, obj.data, LOOSE, 0),
                Ok(None) => {}
                Err(e) => on_error(SourceError {
                    path: format!("object {id}"),
                    message: format!("corrupt loose object: {e}"),
                }),
            }
        }
    }
    (packs, loose_count)
}
