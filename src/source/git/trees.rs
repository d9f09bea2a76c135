//! The tree pass and containment: which wanted blobs each tree holds, and at which paths.
//!
//! Only runs when a history scan has findings. Every tree the object pass located is decoded
//! once, by pack offset with a delta-base cache (blobs are not decompressed again), and reduced
//! to a compact table: its subtrees (by 64-bit id prefix and a hash of the entry name) and the
//! wanted blobs it lists directly. Containment then computes, with memoisation by tree, the set
//! of (wanted blob, path) pairs below each tree; paths are interned as chains of name hashes,
//! and turned back into text only for the few paths that are reported, by reading the trees on
//! the way down.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};

use gix::hash::ObjectId;
use gix::objs::Find as _;

use super::GitError;
use crate::blob::IdMap;
use crate::rules::file_names::FileNames;

/// The entries of a tree object, `(mode, name, 20-byte id)`, read with the least work: this
/// runs over every entry of every tree in the repository (tens of millions on large
/// histories). A malformed tree ends the iteration early.
pub fn tree_entries(data: &[u8]) -> impl Iterator<Item = (&[u8], &[u8], &[u8])> {
    let mut rest = data;
    std::iter::from_fn(move || {
        let space = memchr::memchr(b' ', rest)?;
        let mode = &rest[..space];
        let nul = space + 1 + memchr::memchr(0, &rest[space + 1..])?;
        let name = &rest[space + 1..nul];
        let id = rest.get(nul + 1..nul + 21)?;
        rest = &rest[nul + 21..];
        Some((mode, name, id))
    })
}

pub(super) fn prefix_bytes(id: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&id[..8]);
    u64::from_be_bytes(b)
}

pub(super) fn prefix(oid: &gix::hash::oid) -> u64 {
    prefix_bytes(oid.as_bytes())
}

/// Hashes entry names. Seeded per run, so a repository cannot prepare colliding names.
#[derive(Clone, Copy, Debug)]
pub(super) struct NameHash(u64);

impl Default for NameHash {
    fn default() -> Self {
        NameHash::new()
    }
}

impl NameHash {
    pub fn new() -> NameHash {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u8(0);
        NameHash(h.finish() | 1)
    }

    /// FNV-1a over the name, starting from the seed.
    pub fn of(self, name: &[u8]) -> u64 {
        let mut h = 0xcbf2_9ce4_8422_2325 ^ self.0;
        for &b in name {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        h
    }
}

/// The blobs with findings, with a 64 Ki-bit filter on the first two id bytes in front of the
/// map: the tree pass looks up every blob entry of every tree (tens of millions), and almost
/// all of them are rejected by one bit test.
pub(super) struct WantedIndex {
    bits: Vec<u64>,
    ids: IdMap<ObjectId, u32>,
}

impl WantedIndex {
    pub fn new(ids: &[ObjectId]) -> WantedIndex {
        let mut bits = vec![0u64; 1024];
        let mut map = IdMap::default();
        for (i, id) in ids.iter().enumerate() {
            let b = id.as_bytes();
            let k = (usize::from(b[0]) << 8) | usize::from(b[1]);
            bits[k >> 6] |= 1 << (k & 63);
            map.insert(*id, i as u32);
        }
        WantedIndex { bits, ids: map }
    }

    pub fn get(&self, id: &[u8]) -> Option<u32> {
        let k = (usize::from(id[0]) << 8) | usize::from(id[1]);
        if self.bits[k >> 6] & (1 << (k & 63)) == 0 {
            return None;
        }
        self.ids.get(&ObjectId::try_from(id).ok()?).copied()
    }
}

/// In `TreeTable::named`: a blob that is not wanted (yet).
const NOT_WANTED: u32 = u32::MAX;

/// Trees as an adjacency list keyed by 64-bit id prefixes: for each tree, its subtrees with
/// their name hashes, plus which wanted blobs it lists directly and under which name.
/// Prefixes are what keeps this table small; a prefix collision (which a repository would
/// have to be built for) can only misplace history, never lose a finding.
#[derive(Debug, Default, Clone)]
pub(super) struct TreeTable {
    keys: Vec<u64>,
    child_end: Vec<u32>,
    children: Vec<u64>,
    child_names: Vec<u64>,
    /// (row, wanted blob index, name hash) for every wanted blob a tree lists directly.
    direct: Vec<(u32, u32, u64)>,
    /// (row, blob, wanted blob index or `NOT_WANTED`, name hash) for every blob listed under a
    /// name the deferred path rules may take (see `rules::file_names`), until `adopt_named`.
    named: Vec<(u32, ObjectId, u32, u64)>,
}

impl TreeTable {
    /// Records one tree; with `file_names`, also the blobs it lists under a name they take.
    pub fn push(
        &mut self,
        key: u64,
        data: &[u8],
        wanted: &WantedIndex,
        names: NameHash,
        file_names: Option<&FileNames>,
    ) {
        let row = self.keys.len() as u32;
        self.keys.push(key);
        for (mode, name, id) in tree_entries(data) {
            match mode {
                b"40000" => {
                    self.children.push(prefix_bytes(id));
                    self.child_names.push(names.of(name));
                }
                // A submodule's commit: its repository is not here.
                b"160000" => {}
                _ => {
                    let w = wanted.get(id);
                    if let Some(w) = w {
                        self.direct.push((row, w, names.of(name)));
                    }
                    if file_names.is_some_and(|f| f.may_take(name)) {
                        if let Ok(id) = ObjectId::try_from(id) {
                            self.named
                                .push((row, id, w.unwrap_or(NOT_WANTED), names.of(name)));
                        }
                    }
                }
            }
        }
        self.child_end.push(self.children.len() as u32);
    }

    pub fn append(&mut self, other: &TreeTable) {
        let (c0, r0) = (self.children.len() as u32, self.keys.len() as u32);
        self.keys.extend_from_slice(&other.keys);
        self.children.extend_from_slice(&other.children);
        self.child_names.extend_from_slice(&other.child_names);
        self.child_end
            .extend(other.child_end.iter().map(|e| e + c0));
        self.direct
            .extend(other.direct.iter().map(|&(r, w, n)| (r + r0, w, n)));
        self.named
            .extend(other.named.iter().map(|&(r, id, w, n)| (r + r0, id, w, n)));
    }

    /// The blobs listed under names the deferred path rules may take, sorted, each once; those
    /// not wanted become wanted, numbered from `first` in the order they have in that list.
    pub fn adopt_named(&mut self, first: u32) -> Vec<ObjectId> {
        let mut ids: Vec<ObjectId> = self.named.iter().map(|n| n.1).collect();
        ids.sort_unstable();
        ids.dedup();
        for (row, id, w, name) in std::mem::take(&mut self.named) {
            if let (NOT_WANTED, Ok(i)) = (w, ids.binary_search(&id)) {
                self.direct.push((row, first + i as u32, name));
            }
        }
        ids
    }

    fn children_of(&self, i: usize) -> std::ops::Range<usize> {
        let start = if i == 0 {
            0
        } else {
            self.child_end[i - 1] as usize
        };
        start..self.child_end[i] as usize
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }
}

/// An interned set of (wanted blob, path) pairs; `0` is the empty set.
pub(super) type SetId = u32;
/// An interned path below some tree: a chain of name hashes. `LEAF` ends a chain.
pub(super) type PathId = u32;
const LEAF: PathId = u32::MAX;

const UNKNOWN: u32 = u32::MAX;
const IN_PROGRESS: u32 = u32::MAX - 1;

/// The (wanted blob, path) pairs below each tree, computed from the tree table with
/// memoisation: every distinct tree is considered once.
pub(super) struct Containment<'a> {
    table: &'a TreeTable,
    rows: IdMap<u64, u32>,
    /// Wanted blobs listed directly by each row (sparse): (blob, name hash).
    direct: IdMap<u32, Vec<(u32, u64)>>,
    memo: Vec<SetId>,
    sets: Vec<Vec<(u32, PathId)>>,
    interned: HashMap<Vec<(u32, PathId)>, SetId>,
    /// Path cells: (first name hash, rest of the path or `LEAF`).
    paths: Vec<(u64, PathId)>,
    path_ids: HashMap<(u64, PathId), PathId>,
}

impl<'a> Containment<'a> {
    /// Containment over `table`, with its blobs numbered by `renumber` (a blob it maps to
    /// `None` is left out).
    pub fn new(table: &'a TreeTable, renumber: &dyn Fn(u32) -> Option<u32>) -> Self {
        let mut interned = HashMap::new();
        interned.insert(Vec::new(), 0);
        let mut direct: IdMap<u32, Vec<(u32, u64)>> = IdMap::default();
        for &(row, w, name) in &table.direct {
            if let Some(w) = renumber(w) {
                direct.entry(row).or_default().push((w, name));
            }
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
            memo: vec![UNKNOWN; table.keys.len()],
            sets: vec![Vec::new()],
            interned,
            paths: Vec::new(),
            path_ids: HashMap::new(),
        }
    }

    pub fn set(&self, s: SetId) -> &[(u32, PathId)] {
        &self.sets[s as usize]
    }

    fn path(&mut self, name: u64, rest: PathId) -> PathId {
        let next = self.paths.len() as PathId;
        let id = *self.path_ids.entry((name, rest)).or_insert(next);
        if id == next {
            self.paths.push((name, rest));
        }
        id
    }

    fn intern(&mut self, mut acc: Vec<(u32, PathId)>) -> SetId {
        if acc.is_empty() {
            return 0;
        }
        acc.sort_unstable();
        acc.dedup();
        let next = self.sets.len() as SetId;
        let s = *self.interned.entry(acc.clone()).or_insert(next);
        if s == next {
            self.sets.push(acc);
        }
        s
    }

    /// The set below the tree with this id (empty for a tree the object pass never saw: cut
    /// off by a shallow clone, or missing).
    pub fn set_of(&mut self, tree: &gix::hash::oid) -> SetId {
        match self.rows.get(&prefix(tree)) {
            None => 0,
            Some(&row) => self.set_of_row(row as usize),
        }
    }

    /// Computes the sets of `row` and everything below it, children first, without
    /// recursion (a repository can nest trees arbitrarily deep).
    fn set_of_row(&mut self, row: usize) -> SetId {
        let mut stack = vec![(row, false)];
        while let Some((r, expanded)) = stack.pop() {
            if !expanded {
                if self.memo[r] != UNKNOWN {
                    continue;
                }
                self.memo[r] = IN_PROGRESS;
                stack.push((r, true));
                for c in self.table.children_of(r) {
                    if let Some(&cr) = self.rows.get(&self.table.children[c]) {
                        if self.memo[cr as usize] == UNKNOWN {
                            stack.push((cr as usize, false));
                        }
                    }
                }
                continue;
            }
            let mut acc: Vec<(u32, PathId)> = Vec::new();
            for (w, name) in self.direct.get(&(r as u32)).cloned().unwrap_or_default() {
                let p = self.path(name, LEAF);
                acc.push((w, p));
            }
            for c in self.table.children_of(r) {
                let (key, name) = (self.table.children[c], self.table.child_names[c]);
                let s = match self.rows.get(&key) {
                    // A cycle can only come from an id-prefix collision: treat it as empty.
                    Some(&cr) if self.memo[cr as usize] < IN_PROGRESS => self.memo[cr as usize],
                    _ => 0,
                };
                for i in 0..self.sets[s as usize].len() {
                    let (w, rest) = self.sets[s as usize][i];
                    let p = self.path(name, rest);
                    acc.push((w, p));
                }
            }
            self.memo[r] = self.intern(acc);
        }
        match self.memo[row] {
            IN_PROGRESS | UNKNOWN => 0,
            s => s,
        }
    }

    /// The set of pairs given as (wanted blob, path below the tree, `/`-separated), interned.
    pub fn intern_paths(&mut self, pairs: &[(u32, &[u8])], names: NameHash) -> SetId {
        let acc = pairs
            .iter()
            .map(|&(w, path)| {
                let mut p = LEAF;
                for part in path.rsplit(|&b| b == b'/') {
                    p = self.path(names.of(part), p);
                }
                (w, p)
            })
            .collect();
        self.intern(acc)
    }

    /// Gives the tree whose id starts with `key` the set `set`, without the table holding it
    /// (a tree known from an earlier scan); a tree the table holds keeps its own.
    pub fn seed(&mut self, key: u64, set: SetId) {
        if self.rows.contains_key(&key) {
            return;
        }
        self.rows.insert(key, self.memo.len() as u32);
        self.memo.push(set);
    }

    /// The text of `path` below `tree`, found by reading the trees on the way down and
    /// matching entry names by hash.
    pub fn path_text(
        &self,
        repo: &gix::Repository,
        tree: ObjectId,
        path: PathId,
        names: NameHash,
    ) -> Result<String, GitError> {
        let out = self.path_bytes(repo, tree, path, names)?;
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    /// `path_text`, as the bytes of the names.
    pub fn path_bytes(
        &self,
        repo: &gix::Repository,
        tree: ObjectId,
        path: PathId,
        names: NameHash,
    ) -> Result<Vec<u8>, GitError> {
        let mut out: Vec<u8> = Vec::new();
        let (mut current, mut at) = (tree, path);
        let mut buf = Vec::new();
        loop {
            let (name, rest) = self.paths[at as usize];
            let data = repo
                .objects
                .try_find(&current, &mut buf)
                .map_err(|e| GitError::Other(format!("tree {current}: {e}")))?
                .ok_or_else(|| GitError::Other(format!("tree {current} is missing")))?;
            let entry = tree_entries(data.data)
                .find(|(mode, n, _)| names.of(n) == name && (rest == LEAF) != (*mode == b"40000"));
            let Some((_, n, id)) = entry else {
                return Err(GitError::Other(format!("tree {current}: path not found")));
            };
            out.extend_from_slice(n);
            if rest == LEAF {
                return Ok(out);
            }
            out.push(b'/');
            current = ObjectId::try_from(id).map_err(|e| GitError::Other(e.to_string()))?;
            at = rest;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tree_entries_reads_modes_names_and_ids() {
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
                (&b"100644"[..], &b"a.txt"[..], &[1u8; 20][..]),
                (&b"40000"[..], &b"dir with space"[..], &[2u8; 20][..]),
                (&b"160000"[..], &b"sub"[..], &[3u8; 20][..]),
            ]
        );
        // Truncated: no partial entry.
        assert_eq!(tree_entries(&t[..t.len() - 1]).count(), 2);
    }

    fn tree(entries: &[(&str, &str, [u8; 20])]) -> Vec<u8> {
        let mut t = Vec::new();
        for (mode, name, id) in entries {
            t.extend_from_slice(format!("{mode} {name}\0").as_bytes());
            t.extend_from_slice(id);
        }
        t
    }

    #[test]
    fn containment_tracks_blobs_with_their_paths() {
        let names = NameHash::new();
        let blob = [7u8; 20];
        let wanted = WantedIndex::new(&[ObjectId::from_bytes_or_panic(&blob)]);
        let (sub, root) = ([2u8; 20], [1u8; 20]);
        let mut table = TreeTable::default();
        table.push(
            prefix_bytes(&sub),
            &tree(&[("100644", "k.env", blob)]),
            &wanted,
            names,
            None,
        );
        table.push(
            prefix_bytes(&root),
            &tree(&[("100644", "top.env", blob), ("40000", "cfg", sub)]),
            &wanted,
            names,
            None,
        );
        let mut c = Containment::new(&table, &Some);
        let s = c.set_of(&ObjectId::from_bytes_or_panic(&root));
        assert_eq!(c.set(s).len(), 2, "the blob at two paths");
        let subset = c.set_of(&ObjectId::from_bytes_or_panic(&sub));
        assert_eq!(c.set(subset).len(), 1);
        // The same tree asked again is memoised: the same set.
        assert_eq!(c.set_of(&ObjectId::from_bytes_or_panic(&root)), s);
    }

    #[test]
    fn blobs_under_names_the_deferred_rules_take_become_wanted() {
        let text = "provider: Test\nrules:\n- id: test.netrc\n  name: netrc\n  keywords: [machine]\n  pattern: 'machine (\\w+)'\n  path: '(?:^|/)\\.netrc$'\n";
        let rules =
            crate::rules::RuleSet::load(vec![crate::rules::RuleSource::yaml("t.yaml", text)])
                .unwrap();
        let file_names = FileNames::new(&rules.rules);
        let names = NameHash::new();
        let (found, clean, other) = ([7u8; 20], [8u8; 20], [9u8; 20]);
        let wanted = WantedIndex::new(&[ObjectId::from_bytes_or_panic(&found)]);
        let root = [1u8; 20];
        let mut table = TreeTable::default();
        let entries = [
            ("100644", ".netrc", clean),
            ("100644", "a.txt", other),
            ("100644", "b/.netrc", found),
        ];
        let entries: Vec<_> = entries
            .iter()
            .map(|&(m, n, id)| (m, n.rsplit('/').next().unwrap(), id))
            .collect();
        table.push(
            prefix_bytes(&root),
            &tree(&entries),
            &wanted,
            names,
            Some(&file_names),
        );
        // Both blobs named `.netrc` are read again; the one not wanted yet gets number 1.
        let named = table.adopt_named(1);
        let ids: Vec<ObjectId> = [found, clean]
            .iter()
            .map(|b| ObjectId::from_bytes_or_panic(b))
            .collect();
        assert_eq!(named, ids);
        let mut c = Containment::new(&table, &Some);
        let s = c.set_of(&ObjectId::from_bytes_or_panic(&root));
        let blobs: Vec<u32> = c.set(s).iter().map(|&(w, _)| w).collect();
        assert_eq!(
            blobs,
            [0, 2],
            "the wanted blob, and the clean one as number 1 + 1"
        );
    }

    #[test]
    fn a_deep_chain_of_trees_does_not_recurse() {
        let names = NameHash::new();
        let blob = [9u8; 20];
        let wanted = WantedIndex::new(&[ObjectId::from_bytes_or_panic(&blob)]);
        // Object ids are hashes: so are these.
        let id = |i: u32| crate::blob::BlobId::of(&i.to_le_bytes()).0;
        let mut table = TreeTable::default();
        let depth = 200_000;
        table.push(
            prefix_bytes(&id(0)),
            &tree(&[("100644", "deep.env", blob)]),
            &wanted,
            names,
            None,
        );
        for i in 1..depth {
            table.push(
                prefix_bytes(&id(i)),
                &tree(&[("40000", "d", id(i - 1))]),
                &wanted,
                names,
                None,
            );
        }
        let mut c = Containment::new(&table, &Some);
        let s = c.set_of(&ObjectId::from_bytes_or_panic(&id(depth - 1)));
        assert_eq!(c.set(s).len(), 1);
    }
}
