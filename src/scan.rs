//! The scan pipeline: content in, findings out. Turns matcher matches into located findings,
//! scans each distinct blob once (keyed by git's blob id), remembers every path a blob was seen
//! under, and produces findings in a deterministic order.
//!
//! Owns dedup, line/column arithmetic and the run's counters. Never formats output and never
//! reads files itself (sources do).

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::blob::{looks_binary, BlobId, IdMap};
use crate::finding::{
    ChecksumState, Commit, Confidence, Context, Finding, Fingerprint, Location, Provenance, Secret,
};
use crate::matcher::{Match, Matcher, Scratch};
use crate::rules::RuleSet;
use crate::source::{Event, SourceError};

/// Characters of line context kept on each side of a secret.
const CONTEXT_CHARS: usize = 60;

/// A finding within one blob, before it is attached to a path.
#[derive(Debug, Clone)]
pub struct BlobFinding {
    pub rule: usize,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub secret: Secret,
    pub partner: Option<Secret>,
    pub confidence: Confidence,
    pub checksum: Option<ChecksumState>,
    pub context: Context,
    /// The encoding the secret was found under (`base64`, `percent`); the location is then
    /// the encoded text's.
    pub decoded_from: Option<&'static str>,
}

/// Counters for the run summary. Shared by worker threads.
#[derive(Debug, Default)]
pub struct Stats {
    /// Files or objects seen (every path, including duplicates).
    pub items: AtomicU64,
    /// Distinct blobs scanned.
    pub blobs: AtomicU64,
    /// Bytes of distinct blobs scanned.
    pub bytes: AtomicU64,
    pub skipped_binary: AtomicU64,
    pub skipped_large: AtomicU64,
    pub errors: AtomicU64,
}

/// A plain copy of `Stats` for reporting, plus what suppression removed (filled in by the
/// caller once suppression has run).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    pub items: u64,
    pub blobs: u64,
    pub bytes: u64,
    pub skipped_binary: u64,
    pub skipped_large: u64,
    pub errors: u64,
    /// Commits scanned (commit-range scans only).
    #[serde(skip_serializing_if = "is_zero")]
    pub commits: u64,
    /// Findings suppressed by an allow comment.
    pub allowed: u64,
    /// Findings suppressed by the baseline.
    pub baselined: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Stats {
    pub fn summary(&self) -> Summary {
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        Summary {
            items: g(&self.items),
            blobs: g(&self.blobs),
            bytes: g(&self.bytes),
            skipped_binary: g(&self.skipped_binary),
            skipped_large: g(&self.skipped_large),
            errors: g(&self.errors),
            ..Summary::default()
        }
    }
}

/// Converts matches to findings with lines, columns and context.
pub fn locate(hay: &[u8], matches: &[Match]) -> Vec<BlobFinding> {
    let mut pos = Position::default();
    let mut out = Vec::with_capacity(matches.len());
    // Matches come sorted by start; positions are computed incrementally.
    for m in matches {
        let (line, column) = pos.advance_to(hay, m.span.start);
        let (end_line, end_column) = {
            let mut p = pos.clone();
            p.advance_to(hay, m.span.end)
        };
        out.push(BlobFinding {
            rule: m.rule,
            line,
            column,
            end_line,
            end_column,
            secret: match &m.decoded {
                Some(d) => Secret::new(&d.secret),
                None => Secret::new(&hay[m.span.clone()]),
            },
            partner: m.partner.clone().map(|p| Secret::new(&hay[p])),
            confidence: m.confidence,
            checksum: m.checksum,
            context: context(hay, m.span.start, m.span.end),
            decoded_from: m.decoded.as_ref().map(|d| d.encoding.as_str()),
        });
    }
    out
}

/// Tracks a byte offset and its 1-based line.
#[derive(Debug, Clone)]
struct Position {
    offset: usize,
    line: usize,
    line_start: usize,
}

impl Default for Position {
    fn default() -> Self {
        Position {
            offset: 0,
            line: 1,
            line_start: 0,
        }
    }
}

impl Position {
    /// Moves forward to `to` (never backwards) and returns its line and column.
    fn advance_to(&mut self, hay: &[u8], to: usize) -> (usize, usize) {
        if to > self.offset {
            for nl in memchr::memchr_iter(b'\n', &hay[self.offset..to]) {
                self.line += 1;
                self.line_start = self.offset + nl + 1;
            }
            self.offset = to;
        }
        let to = to.max(self.line_start);
        let column = 1 + char_count(&hay[self.line_start..to]);
        (self.line, column)
    }
}

/// Unicode scalar values in a UTF-8-ish byte slice (invalid bytes count as one each).
fn char_count(b: &[u8]) -> usize {
    b.iter().filter(|&&c| (c & 0xC0) != 0x80).count()
}

fn context(hay: &[u8], start: usize, end: usize) -> Context {
    // Look at a bounded number of bytes on each side, so a file that is one long line does
    // not make every finding cost the whole line.
    const MAX_BYTES: usize = CONTEXT_CHARS * 4;
    let lo = start.saturating_sub(MAX_BYTES);
    let line_start = memchr::memrchr(b'\n', &hay[lo..start]).map_or(lo, |i| lo + i + 1);
    let hi = end.saturating_add(MAX_BYTES).min(hay.len());
    let line_end = memchr::memchr(b'\n', &hay[end..hi]).map_or(hi, |i| end + i);
    let before = String::from_utf8_lossy(&hay[line_start..start]);
    let after = String::from_utf8_lossy(&hay[end..line_end.max(end)]);
    let before: String = {
        let n = before.chars().count();
        before
            .chars()
            .skip(n.saturating_sub(CONTEXT_CHARS))
            .collect()
    };
    let after: String = after
        .trim_end_matches('\r')
        .chars()
        .take(CONTEXT_CHARS)
        .collect();
    Context { before, after }
}

/// Scans content: the matcher plus binary and dedup bookkeeping.
pub struct Scanner {
    matcher: Matcher,
    stats: Stats,
    collected: Mutex<Collected>,
    allow_comments: bool,
}

#[derive(Default)]
struct Collected {
    /// Every blob seen, with every path it was seen under (none for git objects, whose
    /// paths come from provenance).
    paths: IdMap<BlobId, Vec<String>>,
    /// Findings of blobs that have any.
    findings: IdMap<BlobId, Arc<Vec<BlobFinding>>>,
    /// Findings that an allow comment suppressed, kept so they can be counted.
    allowed: IdMap<BlobId, Arc<Vec<BlobFinding>>>,
    errors: Vec<SourceError>,
}

/// A scanned blob that has findings (or findings an allow comment suppressed).
pub struct ScannedBlob {
    pub id: BlobId,
    /// Working-tree (or stdin) paths; empty for blobs only found as git objects.
    pub paths: Vec<String>,
    pub findings: Arc<Vec<BlobFinding>>,
    /// Findings suppressed by an allow comment; counted, not reported.
    pub allowed: Arc<Vec<BlobFinding>>,
}

/// Everything the scan phase produced, before findings are attached to locations.
pub struct Scanned {
    pub rules: Arc<RuleSet>,
    pub blobs: Vec<ScannedBlob>,
    pub summary: Summary,
    pub errors: Vec<SourceError>,
}

/// Where a blob sits in git history, as found by a history source.
#[derive(Debug, Clone, Default)]
pub struct Placement {
    pub commit: Option<Commit>,
    pub path: Option<String>,
    pub commits: usize,
    pub reachable: bool,
}

/// Git history facts for the blobs with findings.
#[derive(Debug, Default)]
pub struct HistoryFacts {
    pub placements: HashMap<BlobId, Placement>,
    /// Blobs in HEAD's tree (to tell "still in HEAD" from "only in history").
    pub head_blobs: HashSet<BlobId>,
    /// Report blobs that no ref reaches (`--all-objects`).
    pub include_unreachable: bool,
}

/// The result of a scan, ready to report.
pub struct Outcome {
    pub findings: Vec<Finding>,
    /// Findings suppressed by allow comments (see `suppress`), sorted like `findings`.
    pub allowed: Vec<Finding>,
    pub summary: Summary,
    pub errors: Vec<SourceError>,
}

impl Scanner {
    pub fn new(matcher: Matcher) -> Scanner {
        Scanner {
            matcher,
            stats: Stats::default(),
            collected: Mutex::new(Collected::default()),
            allow_comments: true,
        }
    }

    /// Whether allow comments (`keyhound:allow`, ...) suppress findings; on by default.
    pub fn with_allow_comments(mut self, on: bool) -> Scanner {
        self.allow_comments = on;
        self
    }

    pub fn allow_comments(&self) -> bool {
        self.allow_comments
    }

    pub fn rules(&self) -> &Arc<RuleSet> {
        self.matcher.rules()
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    pub fn scratch(&self) -> Scratch {
        self.matcher.scratch()
    }

    /// Prepares for a large input (see `Matcher::prime`).
    pub fn prime(&self) {
        self.matcher.prime()
    }

    /// Matches `bytes` without any bookkeeping.
    pub fn scan_bytes(&self, bytes: &[u8], scratch: &mut Scratch) -> Vec<BlobFinding> {
        let matches = self.matcher.find(bytes, scratch);
        if matches.is_empty() {
            return Vec::new();
        }
        locate(bytes, &matches)
    }

    /// Handles one source event on the calling thread.
    pub fn handle(&self, event: Event<'_>, scratch: &mut Scratch) {
        match event {
            Event::Blob { path, bytes } => self.scan_path(path, bytes, scratch),
            Event::Object { id, bytes } => self.scan_object(id, bytes, scratch),
            Event::TooLarge { .. } => {
                self.stats.items.fetch_add(1, Ordering::Relaxed);
                self.stats.skipped_large.fetch_add(1, Ordering::Relaxed);
            }
            Event::Error(e) => self.error(e),
        }
    }

    pub fn error(&self, e: SourceError) {
        self.stats.errors.fetch_add(1, Ordering::Relaxed);
        self.lock().errors.push(e);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Collected> {
        // A panic elsewhere must not hide findings already collected.
        self.collected.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Scans `bytes` found at `path`, unless the same content was already scanned.
    fn scan_path(&self, path: &str, bytes: &[u8], scratch: &mut Scratch) {
        self.stats.items.fetch_add(1, Ordering::Relaxed);
        if looks_binary(bytes) {
            self.stats.skipped_binary.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let id = BlobId::of(bytes);
        {
            let mut c = self.lock();
            let paths = c.paths.entry(id).or_default();
            paths.push(path.to_string());
            if paths.len() > 1 {
                return;
            }
        }
        self.scan_new(id, bytes, scratch);
    }

    /// Scans a git object whose id is known, unless that content was already scanned.
    fn scan_object(&self, id: BlobId, bytes: &[u8], scratch: &mut Scratch) {
        {
            let mut c = self.lock();
            if c.paths.contains_key(&id) {
                return;
            }
            c.paths.insert(id, Vec::new());
        }
        self.stats.items.fetch_add(1, Ordering::Relaxed);
        if looks_binary(bytes) {
            self.stats.skipped_binary.fetch_add(1, Ordering::Relaxed);
            return;
        }
        self.scan_new(id, bytes, scratch);
    }

    fn scan_new(&self, id: BlobId, bytes: &[u8], scratch: &mut Scratch) {
        self.stats.blobs.fetch_add(1, Ordering::Relaxed);
        self.stats
            .bytes
            .fetch_add(bytes.len() as u64, Ordering::Relaxed);
        let found = self.scan_bytes(bytes, scratch);
        if found.is_empty() {
            return;
        }
        let (found, allowed) = if self.allow_comments {
            crate::suppress::split_allowed(bytes, found)
        } else {
            (found, Vec::new())
        };
        let mut c = self.lock();
        if !found.is_empty() {
            c.findings.insert(id, Arc::new(found));
        }
        if !allowed.is_empty() {
            c.allowed.insert(id, Arc::new(allowed));
        }
    }

    /// True when a blob with this id was already seen (scanned or skipped).
    pub fn seen(&self, id: &BlobId) -> bool {
        self.lock().paths.contains_key(id)
    }

    /// Ends the scan phase.
    pub fn finish(self) -> Scanned {
        let summary = self.stats.summary();
        let rules = Arc::clone(self.matcher.rules());
        let mut collected = self
            .collected
            .into_inner()
            .unwrap_or_else(|p| p.into_inner());
        let mut ids: Vec<BlobId> = collected.findings.keys().copied().collect();
        ids.extend(
            collected
                .allowed
                .keys()
                .filter(|id| !collected.findings.contains_key(id)),
        );
        let mut blobs: Vec<ScannedBlob> = ids
            .into_iter()
            .map(|id| ScannedBlob {
                id,
                paths: collected.paths.remove(&id).unwrap_or_default(),
                findings: collected.findings.remove(&id).unwrap_or_default(),
                allowed: collected.allowed.remove(&id).unwrap_or_default(),
            })
            .collect();
        blobs.sort_by_key(|b| b.id);
        let mut errors = collected.errors;
        errors.sort_by(|a, b| (&a.path, &a.message).cmp(&(&b.path, &b.message)));
        Scanned {
            rules,
            blobs,
            summary,
            errors,
        }
    }
}

impl Scanned {
    /// Ids of the blobs that have findings (reported or allowed).
    pub fn blob_ids(&self) -> Vec<BlobId> {
        self.blobs.iter().map(|b| b.id).collect()
    }

    /// Attaches findings to their locations: working-tree paths where the blob was seen on
    /// disk, else its path in the commit that introduced it. Sorted and de-duplicated.
    pub fn into_outcome(self, history: Option<&HistoryFacts>) -> Outcome {
        let rules = &self.rules;
        let in_head: HashSet<Fingerprint> = history
            .map(|h| {
                self.blobs
                    .iter()
                    .filter(|b| h.head_blobs.contains(&b.id))
                    .flat_map(|b| b.findings.iter())
                    .map(|f| Fingerprint::new(&rules.rules[f.rule].id, &f.secret))
                    .collect()
            })
            .unwrap_or_default();
        let mut findings = Vec::new();
        let mut allowed = Vec::new();
        // History-only findings, one per (rule, secret, path): the same secret in many versions
        // of one file is one leak, reported at its oldest introduction. [reported, allowed]
        let mut from_history: [HashMap<(String, Fingerprint, String), Finding>; 2] =
            Default::default();
        for blob in &self.blobs {
            let placement = history.and_then(|h| h.placements.get(&blob.id));
            let paths: Vec<String> = if !blob.paths.is_empty() {
                blob.paths.clone()
            } else {
                match (placement, history) {
                    (Some(p), Some(h)) if p.reachable || h.include_unreachable => {
                        vec![p
                            .path
                            .clone()
                            .unwrap_or_else(|| format!("<unreachable blob {}>", blob.id))]
                    }
                    (Some(_), _) => continue,
                    // Provenance failed (reported as an error): never drop the finding.
                    (None, _) => vec![format!("<blob {}>", blob.id)],
                }
            };
            for path in &paths {
                for (bf, is_allowed) in blob
                    .findings
                    .iter()
                    .map(|f| (f, false))
                    .chain(blob.allowed.iter().map(|f| (f, true)))
                {
                    let mut f = to_finding(rules, bf, path, blob.id);
                    // A blob on disk that no commit holds has no history to tell.
                    let placed = placement
                        .filter(|p| blob.paths.is_empty() || p.commits > 0 || p.commit.is_some());
                    if let Some(p) = placed {
                        f.provenance = Some(Provenance {
                            commit: p.commit.clone(),
                            path: p.path.clone(),
                            commits: p.commits,
                            in_head: in_head.contains(&f.fingerprint),
                            reachable: p.reachable,
                        });
                    }
                    if !blob.paths.is_empty() {
                        if is_allowed {
                            allowed.push(f);
                        } else {
                            findings.push(f);
                        }
                        continue;
                    }
                    let key = (f.rule_id.clone(), f.fingerprint.clone(), path.clone());
                    match from_history[usize::from(is_allowed)].entry(key) {
                        Entry::Vacant(v) => {
                            v.insert(f);
                        }
                        Entry::Occupied(mut o) => {
                            let kept = o.get_mut();
                            let commits = commits_of(kept) + commits_of(&f);
                            if introduced_before(&f, kept) {
                                *kept = f;
                            }
                            if let Some(p) = kept.provenance.as_mut() {
                                p.commits = commits;
                            }
                        }
                    }
                }
            }
        }
        let [reported, suppressed] = from_history;
        findings.extend(reported.into_values());
        allowed.extend(suppressed.into_values());
        for list in [&mut findings, &mut allowed] {
            list.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
            list.dedup_by(|a, b| a.sort_key() == b.sort_key());
        }
        Outcome {
            findings,
            allowed,
            summary: self.summary,
            errors: self.errors,
        }
    }
}

fn commits_of(f: &Finding) -> usize {
    f.provenance.as_ref().map_or(0, |p| p.commits)
}

/// Whether `a` was introduced by an older commit than `b` (ties broken by blob id, so the
/// choice does not depend on iteration order).
fn introduced_before(a: &Finding, b: &Finding) -> bool {
    let date = |f: &Finding| {
        f.provenance
            .as_ref()
            .and_then(|p| p.commit.as_ref())
            .map(|c| c.date.clone())
    };
    match (date(a), date(b)) {
        (Some(x), Some(y)) if x != y => x < y,
        (Some(_), None) => true,
        (None, Some(_)) => false,
        _ => a.blob < b.blob,
    }
}

/// Attaches a blob finding to a path.
pub fn to_finding(rules: &RuleSet, bf: &BlobFinding, path: &str, blob: BlobId) -> Finding {
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
        blob,
        provenance: None,
        validation: None,
        commit: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_and_count_chars() {
        let hay = "ab\ncé x\n".as_bytes();
        let mut p = Position::default();
        assert_eq!(p.advance_to(hay, 0), (1, 1));
        assert_eq!(p.advance_to(hay, 3), (2, 1));
        // 'é' is two bytes but one column.
        let x = hay.iter().position(|&b| b == b'x').unwrap();
        assert_eq!(p.advance_to(hay, x), (2, 4));
    }

    #[test]
    fn context_is_bounded_and_on_one_line() {
        let line = format!("{}KEY{}\nnext", "a".repeat(100), "b".repeat(100));
        let s = line.find("KEY").unwrap();
        let c = context(line.as_bytes(), s, s + 3);
        assert_eq!(c.before, "a".repeat(CONTEXT_CHARS));
        assert_eq!(c.after, "b".repeat(CONTEXT_CHARS));
    }
}
