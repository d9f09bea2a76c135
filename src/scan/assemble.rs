//! Placing scanned blobs: every finding gets its location and origin here, for every mode.
//!
//! The audit rules: one finding per secret per path. A secret in a file on disk is reported at
//! the file's line, with what history knows of it at that path attached; a secret that only
//! history holds is reported once per path, at the line of the version that introduced it,
//! with that commit. Added lines are reported at their change, messages at their commit.
//! A member of an archive is reported at `ARCHIVE!MEMBER` wherever its archive is placed.
//! A rule with `path` reports only at paths it takes (for a member: its path in the archive);
//! its matches elsewhere are dropped here, the one place that knows every path.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use super::{BlobFinding, BlobResult, Scanned, Summary};
use crate::blob::BlobId;
use crate::finding::{Finding, Fingerprint, History, Location, Origin, Repository};
use crate::rules::RuleSet;
use crate::source::git::history::{Facts, Wanted};
use crate::source::SourceError;

/// What history says about one repository, for placing its blobs.
pub struct RepoFacts {
    pub repo: Arc<Repository>,
    /// What turns a path in the repository into a display path: the repository's path as
    /// the user wrote it, with a trailing `/` (empty for the current directory).
    pub prefix: String,
    pub facts: Facts,
}

/// How to place the scanned blobs.
#[derive(Default)]
pub struct Assembly<'a> {
    pub repos: &'a [RepoFacts],
    /// Report findings that no ref reaches (`--all-objects`).
    pub include_unreachable: bool,
}

/// The result of a scan, ready for suppression, validation and reporting.
pub struct Outcome {
    pub findings: Vec<Finding>,
    /// Findings suppressed by allow comments, placed and sorted like `findings`.
    pub allowed: Vec<Finding>,
    pub summary: Summary,
    pub errors: Vec<SourceError>,
    /// What could not be read in archives (damage, limits): reported, not errors.
    pub warnings: Vec<SourceError>,
}

/// A secret as history tracks it: the rule that found it and its fingerprint, numbered.
#[derive(Default)]
pub struct SecretKeys {
    ids: HashMap<(usize, Fingerprint), u32>,
}

impl SecretKeys {
    pub fn key(&mut self, rules: &RuleSet, f: &BlobFinding) -> u32 {
        let fp = Fingerprint::new(&rules.rules[f.rule].id, &f.secret);
        let next = self.ids.len() as u32;
        *self.ids.entry((f.rule, fp)).or_insert(next)
    }

    fn get(&self, rules: &RuleSet, f: &BlobFinding) -> Option<u32> {
        let fp = Fingerprint::new(&rules.rules[f.rule].id, &f.secret);
        self.ids.get(&(f.rule, fp)).copied()
    }
}

/// The key findings are de-duplicated by: rule, fingerprint, path, commit, and the position
/// except for versions only history holds (one finding per secret per path).
type Key = (String, Fingerprint, String, String, usize, usize);

/// Findings collected per key: reported ones win over allowed ones, then the earliest
/// position.
#[derive(Default)]
struct Collect {
    best: BTreeMap<Key, (bool, Finding)>,
}

impl Collect {
    fn push(&mut self, f: Finding, allowed: bool) {
        let commit = f.origin.commit().map(|c| c.id.clone()).unwrap_or_default();
        let (line, column) = match f.origin.outer() {
            Origin::History(_) => (0, 0),
            _ => (f.location.line, f.location.column),
        };
        let key = (
            f.rule_id.clone(),
            f.fingerprint.clone(),
            f.location.path.clone(),
            commit,
            line,
            column,
        );
        let better = |old: &(bool, Finding)| {
            (allowed, f.location.line, f.location.column)
                < (old.0, old.1.location.line, old.1.location.column)
        };
        match self.best.get(&key) {
            Some(old) if !better(old) => {}
            _ => {
                self.best.insert(key, (allowed, f));
            }
        }
    }

    fn push_some(&mut self, f: Option<Finding>, allowed: bool) {
        if let Some(f) = f {
            self.push(f, allowed);
        }
    }

    fn finish(mut self, rules: &RuleSet) -> (Vec<Finding>, Vec<Finding>) {
        self.drop_displaced(rules);
        let (mut findings, mut allowed) = (Vec::new(), Vec::new());
        for (_, (is_allowed, f)) in self.best {
            if is_allowed {
                allowed.push(f);
            } else {
                findings.push(f);
            }
        }
        (findings, allowed)
    }

    /// Where a path rule reports, it stands between the others: a provider rule's finding of
    /// the same text displaces it (the provider knows the format), and it displaces a generic
    /// rule's. The matcher cannot decide this: it does not know the path.
    fn drop_displaced(&mut self, rules: &RuleSet) {
        // 0: generic, 1: path rule, 2: provider rule.
        let rank = |f: &Finding| match rules.get(&f.rule_id) {
            Some(r) if r.path.is_some() => 1,
            Some(r) if r.generic => 0,
            _ => 2,
        };
        if !self.best.values().any(|(_, f)| rank(f) == 1) {
            return;
        }
        let place = |f: &Finding| {
            let commit = f.origin.commit().map(|c| c.id.clone());
            (f.location.path.clone(), commit)
        };
        let span = |f: &Finding| {
            let l = &f.location;
            ((l.line, l.column), (l.end_line, l.end_column))
        };
        for level in [2, 1] {
            let above: Vec<_> = self
                .best
                .values()
                .filter(|(_, f)| rank(f) == level)
                .map(|(_, f)| (place(f), span(f)))
                .collect();
            self.best.retain(|_, (_, f)| {
                rank(f) != level - 1
                    || !above.iter().any(|(p, (a, b))| {
                        let (c, d) = span(f);
                        *p == place(f) && a < &d && c < *b
                    })
            });
        }
    }
}

/// What a placed blob holds: its own findings, or a member's of the archive it is.
struct Content<'a> {
    /// The member's path inside the archive; `None` for the blob's own findings.
    member: Option<&'a str>,
    blob: BlobId,
    result: &'a BlobResult,
}

/// The finding of `f` (found in `c`, content of the blob placed at `path` with `origin`):
/// at `path`, or at the member inside the archive at `path`. `None` when the rule has a `path`
/// that does not take the place.
fn place(
    rules: &RuleSet,
    f: &BlobFinding,
    path: &str,
    c: &Content<'_>,
    origin: Origin,
) -> Option<Finding> {
    let rule = &rules.rules[f.rule];
    let Some(member) = c.member else {
        return rule
            .path_allows(path)
            .then(|| to_finding(rules, f, path, c.blob, origin));
    };
    let member = match member {
        // The content of a compressed stream is named after the stream.
        "" => crate::source::archive::stream_name(path),
        m => m.to_string(),
    };
    if !rule.path_allows(member.rsplit('!').next().unwrap_or(&member)) {
        return None;
    }
    let shown = format!("{path}!{member}");
    let origin = Origin::Member {
        archive: Box::new(origin),
        path: path.to_string(),
        member,
    };
    Some(to_finding(rules, f, &shown, c.blob, origin))
}

impl Scanned {
    /// The blobs with findings that history should place, with the secrets each holds, and
    /// the numbering of those secrets. Blobs seen only on disk or stdin are included: history
    /// may hold them too.
    pub fn wanted(&self) -> (Vec<Wanted>, SecretKeys) {
        let mut keys = SecretKeys::default();
        let mut ids: Vec<BlobId> = self
            .results
            .keys()
            .chain(self.archives.keys())
            .filter(|id| {
                self.file_paths.contains_key(*id) || self.objects.binary_search(id).is_ok()
            })
            .copied()
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let wanted = ids
            .into_iter()
            .map(|id| {
                let mut secrets: Vec<u32> = self
                    .contents(&id)
                    .iter()
                    .flat_map(|c| c.result.all())
                    .map(|(f, _)| keys.key(&self.rules, f))
                    .collect();
                secrets.sort_unstable();
                secrets.dedup();
                Wanted { id, secrets }
            })
            .collect();
        (wanted, keys)
    }

    /// What blob `id` holds: its own findings, then its members' if it is an archive.
    fn contents(&self, id: &BlobId) -> Vec<Content<'_>> {
        let own = self.results.get(id).map(|r| Content {
            member: None,
            blob: *id,
            result: r,
        });
        own.into_iter().chain(self.members(id)).collect()
    }

    /// The members with findings of archive `id`.
    fn members<'a>(&'a self, id: &BlobId) -> impl Iterator<Item = Content<'a>> + 'a {
        self.archives
            .get(id)
            .into_iter()
            .flatten()
            .filter_map(|(path, m)| {
                Some(Content {
                    member: Some(path.as_str()),
                    blob: *m,
                    result: self.results.get(m)?,
                })
            })
    }

    /// Places every finding when no history is involved (files, stdin, changes).
    pub fn into_outcome(self) -> Outcome {
        let (_, keys) = self.wanted();
        self.assemble(&keys, &Assembly::default())
    }

    /// Places every finding. `keys` must come from `wanted`.
    pub fn assemble(self, keys: &SecretKeys, a: &Assembly<'_>) -> Outcome {
        let rules = Arc::clone(&self.rules);
        let mut out = Collect::default();
        let mut covered: HashSet<(usize, u32, String)> = HashSet::new();
        self.place_files(keys, a, &mut out, &mut covered);
        let mut placed: HashSet<BlobId> = HashSet::new();
        for (ri, rf) in a.repos.iter().enumerate() {
            place_history(&self, keys, ri, rf, a, &covered, &mut out);
            placed.extend(rf.facts.held.iter().copied());
            placed.extend(rf.facts.dangling.iter().copied());
        }
        if !a.repos.is_empty() {
            self.place_unplaced(&placed, &mut out);
        }
        for item in &self.added {
            let repo = a.repos.first().map(|r| Arc::clone(&r.repo));
            let own = Content {
                member: None,
                blob: item.blob,
                result: &item.result,
            };
            for c in std::iter::once(own).chain(self.members(&item.blob)) {
                for (f, allowed) in c.result.all() {
                    let origin = Origin::Added {
                        repo: repo.clone().unwrap_or_else(|| Arc::new(Repository::here())),
                        commit: item.commit.clone(),
                    };
                    out.push_some(place(&rules, f, &item.path, &c, origin), allowed);
                }
            }
        }
        self.place_messages(a, &mut out);
        let (mut findings, mut allowed) = out.finish(&rules);
        // Changes keep their order (commits oldest first), then the usual order.
        let rank: HashMap<&str, usize> = self
            .added
            .iter()
            .filter_map(|i| Some((i.commit.as_ref()?.id.as_str(), i.order)))
            .collect();
        let rank_of = |f: &Finding| match f.origin.outer() {
            Origin::Added {
                commit: Some(c), ..
            } => rank.get(c.id.as_str()).copied().unwrap_or(0),
            _ => 0,
        };
        for list in [&mut findings, &mut allowed] {
            list.sort_by(|x, y| (rank_of(x), x.sort_key()).cmp(&(rank_of(y), y.sort_key())));
        }
        Outcome {
            findings,
            allowed,
            summary: self.summary,
            errors: self.errors,
            warnings: self.warnings,
        }
    }

    /// Files on disk and stdin, with history attached where a repository holds the secret at
    /// the same path.
    fn place_files(
        &self,
        keys: &SecretKeys,
        a: &Assembly<'_>,
        out: &mut Collect,
        covered: &mut HashSet<(usize, u32, String)>,
    ) {
        for (id, paths) in &self.file_paths {
            let contents = self.contents(id);
            for path in paths {
                let repo = repo_of(a.repos, path);
                for c in &contents {
                    for (f, allowed) in c.result.all() {
                        let history = repo.and_then(|(ri, rel)| {
                            let key = keys.get(&self.rules, f)?;
                            covered.insert((ri, key, rel.to_string()));
                            history_at(&a.repos[ri], key, rel)
                        });
                        let origin = Origin::File { history };
                        out.push_some(place(&self.rules, f, path, c, origin), allowed);
                    }
                }
            }
        }
        if let Some(id) = self.stdin {
            for c in &self.contents(&id) {
                for (f, allowed) in c.result.all() {
                    out.push_some(place(&self.rules, f, "<stdin>", c, Origin::Stdin), allowed);
                }
            }
        }
    }

    /// Git blobs with findings that no repository could place (its provenance failed and was
    /// reported): never dropped, reported by blob id.
    fn place_unplaced(&self, placed: &HashSet<BlobId>, out: &mut Collect) {
        for id in self.objects.iter().filter(|id| !placed.contains(id)) {
            let path = format!("<blob {id}>");
            for c in &self.contents(id) {
                for (f, allowed) in c.result.all() {
                    let origin = Origin::File { history: None };
                    out.push_some(place(&self.rules, f, &path, c, origin), allowed);
                }
            }
        }
    }

    /// Commit and tag messages: each secret once per repository, at the first message of that
    /// repository that holds it: commits' in topological order (parents first), then tags'
    /// oldest first.
    fn place_messages(&self, a: &Assembly<'_>, out: &mut Collect) {
        for rf in a.repos {
            let mut items: Vec<&super::MessageItem> = (self.messages.iter())
                .filter(|m| rf.facts.messages.contains_key(&m.id))
                .collect();
            let rank = |m: &super::MessageItem| rf.facts.message_ranks.get(&m.id).copied();
            items.sort_by_key(|m| (rank(m).unwrap_or(usize::MAX), m.time, m.id));
            let mut seen: HashSet<(usize, Fingerprint)> = HashSet::new();
            for m in items {
                self.place_message(rf, m, a, &mut seen, out);
            }
        }
    }

    /// One message's secrets not `seen` in an earlier message of its repository.
    fn place_message(
        &self,
        rf: &RepoFacts,
        m: &super::MessageItem,
        a: &Assembly<'_>,
        seen: &mut HashSet<(usize, Fingerprint)>,
        out: &mut Collect,
    ) {
        let Some((commit, reachable)) = rf.facts.messages.get(&m.id) else {
            return;
        };
        if !*reachable && !a.include_unreachable {
            return;
        }
        let path = format!("{}<{} message>", rf.prefix, kind_name(m.kind));
        for (f, allowed) in m.result.all() {
            if !self.rules.rules[f.rule].path_allows(&path) {
                continue;
            }
            let fp = Fingerprint::new(&self.rules.rules[f.rule].id, &f.secret);
            if !seen.insert((f.rule, fp)) {
                continue;
            }
            let origin = Origin::Message {
                repo: Arc::clone(&rf.repo),
                commit: commit.clone(),
                kind: m.kind,
                reachable: *reachable,
            };
            out.push(to_finding(&self.rules, f, &path, m.id, origin), allowed);
        }
    }
}

fn kind_name(k: crate::finding::MessageKind) -> &'static str {
    match k {
        crate::finding::MessageKind::Commit => "commit",
        crate::finding::MessageKind::Tag => "tag",
    }
}

/// Secrets only history holds at a path (not covered by a file on disk): one finding per
/// secret per path, at the version that introduced it.
fn place_history(
    scanned: &Scanned,
    keys: &SecretKeys,
    ri: usize,
    rf: &RepoFacts,
    a: &Assembly<'_>,
    covered: &HashSet<(usize, u32, String)>,
    out: &mut Collect,
) {
    let rules = &scanned.rules;
    for ((key, rel), placed) in &rf.facts.placed {
        if covered.contains(&(ri, *key, rel.clone())) {
            continue;
        }
        if !placed.reachable && !a.include_unreachable {
            continue;
        }
        let Some(history) = history_at(rf, *key, rel) else {
            continue;
        };
        let path = format!("{}{rel}", rf.prefix);
        for c in &scanned.contents(&placed.blob) {
            // The secret's occurrences in that version: reported ones first, then the earliest.
            let best = c
                .result
                .all()
                .filter(|(f, _)| keys.get(rules, f) == Some(*key))
                .min_by_key(|(f, allowed)| (*allowed, f.line, f.column));
            if let Some((f, allowed)) = best {
                let origin = Origin::History(history.clone());
                out.push_some(place(rules, f, &path, c, origin), allowed);
            }
        }
    }
    if !a.include_unreachable {
        return;
    }
    for id in &rf.facts.dangling {
        let path = format!("{}<unreachable blob {id}>", rf.prefix);
        for c in &scanned.contents(id) {
            for (f, allowed) in c.result.all() {
                let history = History {
                    repo: Arc::clone(&rf.repo),
                    path: path.clone(),
                    introduced: None,
                    commits: 0,
                    in_head: false,
                    reachable: false,
                };
                let origin = Origin::History(history);
                out.push_some(place(rules, f, &path, c, origin), allowed);
            }
        }
    }
}

/// What history knows of secret `key` at `rel` in a repository.
fn history_at(rf: &RepoFacts, key: u32, rel: &str) -> Option<History> {
    let placed = rf.facts.placed.get(&(key, rel.to_string()))?;
    Some(History {
        repo: Arc::clone(&rf.repo),
        path: rel.to_string(),
        introduced: placed
            .introduced
            .and_then(|c| rf.facts.commits.get(&c).cloned()),
        commits: placed.commits,
        in_head: rf.facts.in_head.contains(&key),
        reachable: placed.reachable,
    })
}

/// The repository whose work tree holds display path `path`, and the path inside it: the
/// repository with the longest matching prefix.
fn repo_of<'p>(repos: &[RepoFacts], path: &'p str) -> Option<(usize, &'p str)> {
    repos
        .iter()
        .enumerate()
        .filter_map(|(i, r)| path.strip_prefix(r.prefix.as_str()).map(|rel| (i, rel, r)))
        .max_by_key(|(_, _, r)| r.prefix.len())
        .map(|(i, rel, _)| (i, rel))
}

/// Builds a finding for a blob finding placed at `path`.
pub fn to_finding(
    rules: &RuleSet,
    bf: &BlobFinding,
    path: &str,
    blob: BlobId,
    origin: Origin,
) -> Finding {
    let rule = &rules.rules[bf.rule];
    Finding {
        rule_id: rule.id.clone(),
        rule_name: rule.name.clone(),
        provider: rule.provider.clone(),
        confidence: bf.confidence,
        location: Location {
            path: path.to_string(),
            line: bf.line,
            column: bf.column,
            end_line: bf.end_line,
            end_column: bf.end_column,
        },
        fingerprint: Fingerprint::new(&rule.id, &bf.secret),
        secret: bf.secret.clone(),
        partner: bf.partner.clone(),
        rotate: rule.rotate.clone(),
        checksum: bf.checksum,
        context: bf.context.clone(),
        decoded_from: bf.decoded_from,
        details: bf.details.clone(),
        blob,
        origin,
        validation: None,
    }
}
