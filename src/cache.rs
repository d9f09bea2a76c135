//! The incremental-scan cache (`--cache DIR`): what one repository's history scan learned,
//! kept between runs under a digest of everything that decides a blob's findings (the rules,
//! their filters, the options that change what is matched, and keyhound itself).
//!
//! For each pack it read whole, a record keeps the pack's blobs, trees (each with the
//! (blob with findings, path) pairs below it), commit headers, annotated tags and the commits
//! and tags whose messages had findings. Packs are immutable and named by their content, so a
//! later scan under the same digest need not read a pack it finds again: it takes the record
//! instead, and reads only the few blobs and messages that had findings, to report them.
//!
//! No secret is ever written here: findings are not stored, only which objects had some.
//!
//! Files are written to a temporary file and renamed into place, so a reader sees a whole file
//! or the previous one, and of two runs writing at once the last one wins (both files are
//! whole and valid). A file is checked by its magic, version, digest, repository and a CRC32 of
//! its body: a torn, damaged or foreign file is ignored with a warning and replaced.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::blob::BlobId;
use crate::rules::RuleSet;
use crate::source::git::history::CommitHeader;

const MAGIC: &[u8; 8] = b"KHCACHE\n";
const VERSION: u32 = 1;

/// What a scan learned about one pack.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PackRecord {
    /// The file name of the pack's index (git names packs by their content).
    pub name: String,
    /// The size of the pack's data file, as a check.
    pub size: u64,
    /// Every blob of the pack the scan saw, sorted.
    pub blobs: Vec<BlobId>,
    /// Every tree, with an index into `Record::sets`, sorted.
    pub trees: Vec<(BlobId, u32)>,
    pub commits: Vec<CommitHeader>,
    /// Annotated tags and what they point at.
    pub tags: Vec<(BlobId, BlobId)>,
    /// Commits and tags whose messages had findings.
    pub messages: Vec<BlobId>,
    /// Objects that were none of these (blobs over `--max-file-size`): looked at again by
    /// their headers, so that they are counted as a full scan counts them.
    pub skipped: Vec<BlobId>,
}

/// What a scan learned about one repository.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Record {
    pub packs: Vec<PackRecord>,
    /// Blobs with findings, sorted: read again when their pack is not.
    pub with_findings: Vec<BlobId>,
    /// Blobs seen outside the recorded packs (loose objects) that hold nothing, sorted.
    pub loose_clean: Vec<BlobId>,
    /// (blob with findings, path below the tree) pairs of trees; the first is empty.
    pub sets: Vec<Vec<(BlobId, Vec<u8>)>>,
}

/// A cache directory, for one digest.
pub struct Cache {
    dir: PathBuf,
    digest: [u8; 20],
}

/// Why a cache file was not used.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("{0}: {1}")]
    Io(PathBuf, std::io::Error),
    #[error("{0}: not a keyhound cache file, or damaged; it is ignored and will be replaced")]
    Damaged(PathBuf),
}

impl Cache {
    /// The cache in `dir` (created if needed) for results under `digest`.
    pub fn open(dir: &Path, digest: [u8; 20]) -> Result<Cache, CacheError> {
        std::fs::create_dir_all(dir).map_err(|e| CacheError::Io(dir.to_path_buf(), e))?;
        Ok(Cache {
            dir: dir.to_path_buf(),
            digest,
        })
    }

    fn file(&self, repo: &str) -> PathBuf {
        let h = BlobId::of(repo.as_bytes()).to_hex();
        self.dir.join(format!("{}.khc", &h[..32]))
    }

    /// The record of the repository named `repo`: `Ok(None)` when there is none or it was made
    /// under another digest (other rules or another keyhound), an error for a file that is not
    /// a whole cache file of this repository.
    pub fn load(&self, repo: &str) -> Result<Option<Record>, CacheError> {
        let path = self.file(repo);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(CacheError::Io(path, e)),
        };
        let damaged = || CacheError::Damaged(path.clone());
        let mut r = Reader { b: &bytes };
        if r.take(8).ok_or_else(damaged)? != MAGIC {
            return Err(damaged());
        }
        let version = r.u32().ok_or_else(damaged)?;
        let digest = r.take(20).ok_or_else(damaged)?;
        if version != VERSION || digest != self.digest {
            // Another keyhound, or other rules: nothing in it applies.
            return Ok(None);
        }
        if r.bytes().ok_or_else(damaged)? != repo.as_bytes() {
            return Err(damaged());
        }
        let len = r.u64().ok_or_else(damaged)? as usize;
        let crc = r.u32().ok_or_else(damaged)?;
        let body = r.take(len).ok_or_else(damaged)?;
        if !r.b.is_empty() || crc32fast::hash(body) != crc {
            return Err(damaged());
        }
        decode(body).map(Some).ok_or_else(damaged)
    }

    /// Writes the record of `repo`: to a temporary file, then renamed over the old one.
    pub fn save(&self, repo: &str, record: &Record) -> Result<(), CacheError> {
        let path = self.file(repo);
        let body = encode(record);
        let mut out = Vec::with_capacity(body.len() + 64 + repo.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.extend_from_slice(&self.digest);
        put_bytes(&mut out, repo.as_bytes());
        out.extend_from_slice(&(body.len() as u64).to_le_bytes());
        out.extend_from_slice(&crc32fast::hash(&body).to_le_bytes());
        out.extend_from_slice(&body);
        let temp = self.dir.join(format!(
            ".{}.{}-{}.tmp",
            path.file_name().unwrap_or_default().to_string_lossy(),
            std::process::id(),
            crate::blob::BlobId::of(format!("{:?}", std::time::Instant::now()).as_bytes())
                .to_hex()
                .get(..8)
                .unwrap_or("0")
        ));
        let io = |e| CacheError::Io(temp.clone(), e);
        let written = std::fs::File::create_new(&temp).and_then(|mut f| {
            f.write_all(&out)?;
            f.sync_all()
        });
        if let Err(e) = written.and_then(|()| std::fs::rename(&temp, &path)) {
            let _ = std::fs::remove_file(&temp);
            return Err(io(e));
        }
        Ok(())
    }
}

/// The digest results are kept under: keyhound's own build (a new build may match
/// differently), every rule's matching fields, the global filters, and the options that
/// change what is read or how it is matched.
pub fn digest(
    rules: &RuleSet,
    max_file_size: u64,
    allow_comments: bool,
    max_archive_depth: usize,
) -> [u8; 20] {
    use sha1::{Digest, Sha1};
    let mut h = Sha1::new();
    h.update(b"keyhound-cache\0");
    h.update(env!("CARGO_PKG_VERSION").as_bytes());
    h.update(build_identity().as_bytes());
    for r in &rules.rules {
        h.update(r.matching_fingerprint().as_bytes());
        h.update(b"\n");
    }
    h.update(rules.filters.matching_fingerprint().as_bytes());
    h.update(b"\0");
    h.update(format!("{max_file_size}\0{allow_comments}\0{max_archive_depth}").as_bytes());
    h.finalize().into()
}

/// The running executable's path, size and modification time: a rebuilt keyhound is another
/// keyhound (its matcher may differ), at the cost of a file's metadata.
fn build_identity() -> String {
    let exe = std::env::current_exe().unwrap_or_default();
    let meta = std::fs::metadata(&exe).ok();
    let modified = meta
        .as_ref()
        .and_then(|m| m.modified().ok())
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    format!(
        "{}\0{}\0{modified}",
        exe.display(),
        meta.map_or(0, |m| m.len())
    )
}

fn put_u32(out: &mut Vec<u8>, n: u32) {
    out.extend_from_slice(&n.to_le_bytes());
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_u32(out, b.len() as u32);
    out.extend_from_slice(b);
}

fn put_ids(out: &mut Vec<u8>, ids: &[BlobId]) {
    put_u32(out, ids.len() as u32);
    for id in ids {
        out.extend_from_slice(&id.0);
    }
}

fn encode(r: &Record) -> Vec<u8> {
    let mut out = Vec::new();
    put_u32(&mut out, r.packs.len() as u32);
    for p in &r.packs {
        put_bytes(&mut out, p.name.as_bytes());
        out.extend_from_slice(&p.size.to_le_bytes());
        put_ids(&mut out, &p.blobs);
        put_u32(&mut out, p.trees.len() as u32);
        for (t, s) in &p.trees {
            out.extend_from_slice(&t.0);
            put_u32(&mut out, *s);
        }
        put_u32(&mut out, p.commits.len() as u32);
        for c in &p.commits {
            out.extend_from_slice(&c.id.0);
            out.extend_from_slice(&c.tree.0);
            out.extend_from_slice(&c.time.to_le_bytes());
            put_ids(&mut out, &c.parents);
        }
        put_u32(&mut out, p.tags.len() as u32);
        for (t, o) in &p.tags {
            out.extend_from_slice(&t.0);
            out.extend_from_slice(&o.0);
        }
        put_ids(&mut out, &p.messages);
        put_ids(&mut out, &p.skipped);
    }
    put_ids(&mut out, &r.with_findings);
    put_ids(&mut out, &r.loose_clean);
    put_u32(&mut out, r.sets.len() as u32);
    for set in &r.sets {
        put_u32(&mut out, set.len() as u32);
        for (b, path) in set {
            out.extend_from_slice(&b.0);
            put_bytes(&mut out, path);
        }
    }
    out
}

/// Reads what `encode` wrote; `None` for anything else. Counts are checked against the bytes
/// left before anything is allocated for them.
fn decode(body: &[u8]) -> Option<Record> {
    let mut r = Reader { b: body };
    let mut rec = Record::default();
    for _ in 0..r.count(32)? {
        let name = String::from_utf8(r.bytes()?.to_vec()).ok()?;
        let size = r.u64()?;
        let blobs = r.ids()?;
        let mut trees = Vec::with_capacity(r.peek_count(24)?);
        for _ in 0..r.count(24)? {
            trees.push((r.id()?, r.u32()?));
        }
        let mut commits = Vec::with_capacity(r.peek_count(52)?);
        for _ in 0..r.count(52)? {
            let (id, tree) = (r.id()?, r.id()?);
            let time = i64::from_le_bytes(r.take(8)?.try_into().ok()?);
            let parents = r.ids()?;
            commits.push(CommitHeader {
                id,
                tree,
                parents,
                time,
            });
        }
        let mut tags = Vec::with_capacity(r.peek_count(40)?);
        for _ in 0..r.count(40)? {
            tags.push((r.id()?, r.id()?));
        }
        let messages = r.ids()?;
        let skipped = r.ids()?;
        rec.packs.push(PackRecord {
            name,
            size,
            blobs,
            trees,
            commits,
            tags,
            messages,
            skipped,
        });
    }
    rec.with_findings = r.ids()?;
    rec.loose_clean = r.ids()?;
    for _ in 0..r.count(4)? {
        let mut set = Vec::with_capacity(r.peek_count(24)?);
        for _ in 0..r.count(24)? {
            set.push((r.id()?, r.bytes()?.to_vec()));
        }
        rec.sets.push(set);
    }
    if !r.b.is_empty() || rec.sets.is_empty() {
        return None;
    }
    let sets = rec.sets.len() as u32;
    let sorted = |v: &[BlobId]| v.windows(2).all(|w| w[0] < w[1]);
    let valid = rec.packs.iter().all(|p| {
        sorted(&p.blobs)
            && p.trees.windows(2).all(|w| w[0].0 < w[1].0)
            && p.trees.iter().all(|(_, s)| *s < sets)
    }) && sorted(&rec.with_findings)
        && sorted(&rec.loose_clean);
    valid.then_some(rec)
}

struct Reader<'a> {
    b: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.b.len() < n {
            return None;
        }
        let (head, rest) = self.b.split_at(n);
        self.b = rest;
        Some(head)
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }

    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }

    fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = self.u32()? as usize;
        self.take(n)
    }

    fn id(&mut self) -> Option<BlobId> {
        Some(BlobId(self.take(20)?.try_into().ok()?))
    }

    /// A count of items at least `min` bytes each: no more than the bytes left could hold.
    fn count(&mut self, min: usize) -> Option<usize> {
        let n = self.u32()? as usize;
        (n.saturating_mul(min) <= self.b.len()).then_some(n)
    }

    /// The count `count` would read, without reading it.
    fn peek_count(&self, min: usize) -> Option<usize> {
        Reader { b: self.b }.count(min)
    }

    fn ids(&mut self) -> Option<Vec<BlobId>> {
        let n = self.count(20)?;
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            v.push(self.id()?);
        }
        Some(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> BlobId {
        BlobId([n; 20])
    }

    fn record() -> Record {
        Record {
            packs: vec![PackRecord {
                name: "pack-1.idx".into(),
                size: 1234,
                blobs: vec![id(1), id(2)],
                trees: vec![(id(3), 1), (id(4), 0)],
                commits: vec![CommitHeader {
                    id: id(5),
                    tree: id(3),
                    parents: vec![id(6)],
                    time: -7,
                }],
                tags: vec![(id(8), id(5))],
                messages: vec![id(5)],
                skipped: vec![id(10)],
            }],
            with_findings: vec![id(2)],
            loose_clean: vec![id(9)],
            sets: vec![Vec::new(), vec![(id(2), b"a/b.env".to_vec())]],
        }
    }

    #[test]
    fn records_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let c = Cache::open(dir.path(), [1; 20]).unwrap();
        assert!(c.load("repo").unwrap().is_none());
        c.save("repo", &record()).unwrap();
        assert_eq!(c.load("repo").unwrap(), Some(record()));
        // Another digest: nothing applies.
        let other = Cache::open(dir.path(), [2; 20]).unwrap();
        assert!(other.load("repo").unwrap().is_none());
        // No temporary file is left behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn torn_damaged_and_foreign_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let c = Cache::open(dir.path(), [1; 20]).unwrap();
        c.save("repo", &record()).unwrap();
        let path = c.file("repo");
        let whole = std::fs::read(&path).unwrap();
        // Cut anywhere, or one bit changed anywhere past the digest: refused, never misread.
        for cut in [10, 40, whole.len() / 2, whole.len() - 1] {
            std::fs::write(&path, &whole[..cut]).unwrap();
            assert!(c.load("repo").is_err(), "cut at {cut}");
        }
        for at in (36..whole.len()).step_by(7) {
            let mut b = whole.clone();
            b[at] ^= 0x10;
            std::fs::write(&path, &b).unwrap();
            assert!(c.load("repo").is_err(), "bit flipped at {at}");
        }
        std::fs::write(&path, b"{\"not\": \"a cache\"}").unwrap();
        assert!(matches!(c.load("repo"), Err(CacheError::Damaged(_))));
        // A file of another repository under this one's name is not this one's.
        std::fs::write(&path, &whole).unwrap();
        std::fs::rename(&path, c.file("other")).unwrap();
        assert!(c.load("other").is_err());
    }

    #[test]
    fn a_body_with_absurd_counts_is_refused_without_allocating_them() {
        let mut body = Vec::new();
        put_u32(&mut body, u32::MAX);
        assert!(decode(&body).is_none());
    }

    #[test]
    fn the_digest_follows_rules_and_options() {
        let rules = RuleSet::builtin().unwrap();
        let a = digest(&rules, 1 << 20, true, 2);
        assert_eq!(a, digest(&rules, 1 << 20, true, 2));
        assert_ne!(a, digest(&rules, 2 << 20, true, 2));
        assert_ne!(a, digest(&rules, 1 << 20, false, 2));
        assert_ne!(a, digest(&rules, 1 << 20, true, 0));
        let mut fewer = RuleSet::builtin().unwrap();
        fewer.rules.pop();
        assert_ne!(a, digest(&fewer, 1 << 20, true, 2));
    }
}
