//! What a repository's object database holds, pack by pack, read from pack indexes and the
//! names of loose objects alone (nothing is inflated): for keeping what a scan learned about
//! each pack, and knowing later whether that pack is still there, unchanged.

use std::path::{Path, PathBuf};

use gix::odb::pack;

use super::objects::object_dirs;
use crate::blob::BlobId;

/// A pack of the object database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackFile {
    /// Its index (`.idx`), as the object pass names it.
    pub idx: PathBuf,
    /// The file name of its index: git names packs by their content, so the same name is the
    /// same objects.
    pub name: String,
    /// The size of its data (`.pack`), as a check.
    pub size: u64,
}

/// Every pack of the repository and its alternates.
pub fn packs(repo: &gix::Repository) -> Vec<PackFile> {
    let mut out = Vec::new();
    for dir in object_dirs(repo) {
        let Ok(entries) = std::fs::read_dir(dir.join("pack")) else {
            continue;
        };
        let mut idx: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "idx"))
            .collect();
        idx.sort();
        for p in idx {
            let Ok(meta) = std::fs::metadata(p.with_extension("pack")) else {
                continue;
            };
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            out.push(PackFile {
                idx: p,
                name,
                size: meta.len(),
            });
        }
    }
    out
}

/// The ids of the objects in a pack, from its index, sorted.
pub fn pack_ids(repo: &gix::Repository, idx: &Path) -> Result<Vec<BlobId>, String> {
    let index = pack::index::File::at(idx, repo.object_hash()).map_err(|e| e.to_string())?;
    let mut ids: Vec<BlobId> = index.iter().map(|e| to_id(&e.oid)).collect();
    ids.sort_unstable();
    Ok(ids)
}

/// The ids of the loose objects of the repository and its alternates, sorted.
pub fn loose_ids(repo: &gix::Repository) -> Vec<BlobId> {
    let mut ids: Vec<BlobId> = object_dirs(repo)
        .iter()
        .flat_map(|dir| {
            gix::odb::loose::Store::at(dir, repo.object_hash())
                .iter()
                .flatten()
                .map(|id| to_id(&id))
                .collect::<Vec<_>>()
        })
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

fn to_id(oid: &gix::hash::oid) -> BlobId {
    let mut b = [0u8; 20];
    b.copy_from_slice(oid.as_bytes());
    BlobId(b)
}
