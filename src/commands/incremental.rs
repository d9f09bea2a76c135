//! Incremental history scans (`--cache DIR`, see `crate::cache`). Before a repository's object
//! pass: the packs its record describes and that are still there, unchanged, are not read;
//! their commits, tags and trees come from the record; the blobs it knows to hold nothing are
//! not scanned wherever they turn up; and the blobs and messages that had findings are read
//! again by id, so their findings are found as a full scan finds them. After provenance: the
//! record is written anew, for every pack now in the repository.

use std::collections::HashSet;

use crate::blob::BlobId;
use crate::cache::{PackRecord, Record};
use crate::scan::Scanner;
use crate::source::git::history::{self, Inventory, Known, TreeSets};
use crate::source::git::stored;

/// What the object pass is given, and what the next record keeps of the packs not read.
pub struct Before {
    /// Taken by the object pass.
    pub known: Known,
    /// Records of the packs not read (they are immutable: kept as they are).
    carried: Vec<PackRecord>,
    /// Every pack of the record is there, and none other: if the pass finds nothing new
    /// either, the record stands as it is.
    pub unchanged: bool,
}

impl Before {
    /// How many packs the record gave back.
    pub fn carried_packs(&self) -> usize {
        self.carried.len()
    }
}

/// The name a repository's record is kept under: where its object database is.
pub fn key(repo: &gix::Repository) -> String {
    let dir = repo.common_dir();
    std::fs::canonicalize(dir)
        .unwrap_or_else(|_| dir.to_path_buf())
        .display()
        .to_string()
}

/// Prepares a repository's object pass from its record: tells `scanner` what holds nothing,
/// and reads again what had findings in the packs that will not be read.
pub fn before(
    repo: &gix::Repository,
    record: Option<Record>,
    scanner: &Scanner,
    max_blob_size: u64,
) -> Before {
    let Some(record) = record else {
        return Before {
            known: Known::default(),
            carried: Vec::new(),
            unchanged: false,
        };
    };
    let Record {
        packs,
        with_findings,
        loose_clean,
        sets,
    } = record;
    let findings = |id: &BlobId| with_findings.binary_search(id).is_ok();
    let now = stored::packs(repo);
    let recorded = packs.len();
    let mut known = Known::default();
    let mut again: Vec<BlobId> = Vec::new();
    let mut carried = Vec::new();
    // Blobs of packs gone since (repacked, say) that hold nothing: not read where they turn up.
    let mut elsewhere: Vec<BlobId> = Vec::new();
    for p in packs {
        let file = now.iter().find(|f| f.name == p.name && f.size == p.size);
        let Some(file) = file.filter(|f| !known.packs.contains(&f.idx)) else {
            elsewhere.extend(p.blobs.iter().filter(|id| !findings(id)));
            continue;
        };
        known.packs.push(file.idx.clone());
        // Seen already, as far as the scanner goes: the pack is not read.
        let clean: Vec<BlobId> = p.blobs.iter().filter(|id| !findings(id)).copied().collect();
        scanner.restore(clean);
        again.extend(p.blobs.iter().filter(|id| findings(id)));
        again.extend(p.messages.iter());
        again.extend(p.skipped.iter());
        known.commits.extend(p.commits.iter().cloned());
        known.tags.extend(p.tags.iter().copied());
        known.trees.extend(p.trees.iter().copied());
        carried.push(p);
    }
    elsewhere.extend(loose_clean.iter().filter(|id| !findings(id)));
    scanner.know(elsewhere);
    let unchanged = carried.len() == now.len() && carried.len() == recorded;
    known.sets = sets;
    again.sort_unstable();
    again.dedup();
    history::read_objects(repo, &again, max_blob_size, scanner.visitor());
    Before {
        known,
        carried,
        unchanged,
    }
}

/// What the scan saw, for the next record.
pub struct Seen<'a> {
    /// Every blob the scanner saw, sorted.
    pub blobs: &'a [BlobId],
    /// Blobs with findings, sorted.
    pub with_findings: &'a [BlobId],
    /// Commits and tags whose messages had findings, sorted.
    pub messages: &'a [BlobId],
}

/// The repository's new record: the packs carried over, and every pack read this time,
/// described from its index and what the scan saw. `None` when a pack cannot be described.
pub fn after(
    repo: &gix::Repository,
    before: Before,
    inv: &Inventory,
    sets: TreeSets,
    seen: &Seen<'_>,
) -> Option<Record> {
    let set_of = |id: &BlobId| {
        sets.trees
            .binary_search_by_key(id, |t| t.0)
            .ok()
            .map(|i| sets.trees[i].1)
    };
    let mut packs = Vec::new();
    for mut p in before.carried {
        // Set numbers are those of the new record's sets.
        p.trees = p
            .trees
            .iter()
            .map(|(t, _)| Some((*t, set_of(t)?)))
            .collect::<Option<_>>()?;
        packs.push(p);
    }
    let mut commits = inv.commit_headers();
    commits.sort_by_key(|c| c.id);
    let mut tags = inv.tag_targets();
    tags.sort();
    let files = stored::packs(repo);
    for idx in &inv.packs_read {
        let file = files.iter().find(|f| &f.idx == idx)?;
        packs.push(describe(repo, file, &commits, &tags, &set_of, seen)?);
    }
    let in_packs: HashSet<&BlobId> = packs.iter().flat_map(|p| p.blobs.iter()).collect();
    let loose_clean = stored::loose_ids(repo)
        .into_iter()
        .filter(|id| {
            !in_packs.contains(id)
                && seen.blobs.binary_search(id).is_ok()
                && seen.with_findings.binary_search(id).is_err()
        })
        .collect();
    Some(Record {
        packs,
        with_findings: seen.with_findings.to_vec(),
        loose_clean,
        sets: sets.sets,
    })
}

/// One pack read this time, from its index: each object put with what the scan knows of it.
fn describe(
    repo: &gix::Repository,
    file: &stored::PackFile,
    commits: &[history::CommitHeader],
    tags: &[(BlobId, BlobId)],
    set_of: &dyn Fn(&BlobId) -> Option<u32>,
    seen: &Seen<'_>,
) -> Option<PackRecord> {
    let ids = stored::pack_ids(repo, &file.idx).ok()?;
    let mut p = PackRecord {
        name: file.name.clone(),
        size: file.size,
        ..PackRecord::default()
    };
    for id in ids {
        if seen.blobs.binary_search(&id).is_ok() {
            p.blobs.push(id);
        } else if let Some(s) = set_of(&id) {
            p.trees.push((id, s));
        } else if let Ok(i) = commits.binary_search_by_key(&id, |c| c.id) {
            p.commits.push(commits[i].clone());
        } else if let Ok(i) = tags.binary_search_by_key(&id, |t| t.0) {
            p.tags.push(tags[i]);
        } else {
            // A blob over --max-file-size: its header is read again next time.
            p.skipped.push(id);
        }
        if seen.messages.binary_search(&id).is_ok() {
            p.messages.push(id);
        }
    }
    Some(p)
}
