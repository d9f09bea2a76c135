//! The scan pipeline, the one place that turns content into findings for every mode: sources
//! hand it blobs (`source::Event`), and it matches them, builds located findings, applies
//! allow comments, counts, de-duplicates and orders. Each distinct blob is scanned once (keyed
//! by git's blob id) and remembered under every path it was seen at.
//!
//! Two phases: `Scanner` collects per-blob results while sources run (on many threads), then
//! `Scanned::assemble` places them: files on disk at their paths, git objects where history
//! says they are (one finding per secret per path), added lines at their change, messages at
//! their commit. Never formats output and never reads files itself.

mod assemble;
mod locate;

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::blob::{hex, looks_binary, BlobId, IdMap};
use crate::finding::{
    ChecksumState, Commit, Confidence, Context, Detail, MessageKind, Part, Secret,
};
use crate::matcher::{Match, Matcher, Scratch, Which};
use crate::rules::RuleSet;
use crate::source::archive::{self, Entry};
use crate::source::{AddedLines, Event, Skip, SourceError};
use crate::suppress::{allowed_by_comment, Lines};

pub use assemble::{to_finding, Assembly, Outcome, RepoFacts, SecretKeys};
pub use locate::locate;

/// A finding within one blob, before it is attached to a place.
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
    pub details: Vec<Detail>,
}

/// What scanning one blob gave: findings, and findings an allow comment suppressed (counted,
/// not reported).
#[derive(Debug, Default)]
pub struct BlobResult {
    pub found: Vec<BlobFinding>,
    pub allowed: Vec<BlobFinding>,
}

impl BlobResult {
    fn is_empty(&self) -> bool {
        self.found.is_empty() && self.allowed.is_empty()
    }

    /// Every finding with whether an allow comment suppressed it.
    pub fn all(&self) -> impl Iterator<Item = (&BlobFinding, bool)> {
        self.found
            .iter()
            .map(|f| (f, false))
            .chain(self.allowed.iter().map(|f| (f, true)))
    }
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
    /// FIFOs, sockets and devices named on the command line.
    pub skipped_special: AtomicU64,
    /// Commit and tag messages scanned.
    pub messages: AtomicU64,
    pub errors: AtomicU64,
    /// Blobs of history not read: an earlier scan with the same rules found nothing in them.
    pub cached: AtomicU64,
    /// Archives opened (outermost ones; their members count as items).
    pub archives: AtomicU64,
}

/// A plain copy of `Stats` for reporting, plus what the later phases add (filled in by the
/// caller once they have run).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Summary {
    pub items: u64,
    pub blobs: u64,
    pub bytes: u64,
    pub skipped_binary: u64,
    pub skipped_large: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub skipped_special: u64,
    /// Entries a walk skipped because `.gitignore`, `.ignore` or git's excludes list them (a
    /// skipped directory counts once).
    #[serde(skip_serializing_if = "is_zero")]
    pub ignored: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub messages: u64,
    pub errors: u64,
    /// Archives opened (their members count as items).
    #[serde(skip_serializing_if = "is_zero")]
    pub archives: u64,
    /// Commits in the history or range scanned.
    #[serde(skip_serializing_if = "is_zero")]
    pub commits: u64,
    /// Git repositories whose history was scanned.
    #[serde(skip_serializing_if = "is_zero")]
    pub repositories: u64,
    /// Findings suppressed by an allow comment.
    pub allowed: u64,
    /// Findings suppressed by the baseline.
    pub baselined: u64,
    /// Findings suppressed by `.gitleaksignore` or `.betterleaksignore` entries.
    #[serde(skip_serializing_if = "is_zero")]
    pub ignore_file: u64,
    /// Findings below the minimum confidence.
    #[serde(skip_serializing_if = "is_zero")]
    pub below_confidence: u64,
    /// Blobs of history not read again: the cache (`--cache`) knows them to hold nothing.
    #[serde(skip_serializing_if = "is_zero")]
    pub cached: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Summary {
    /// Adds another scope's counts to this one.
    pub fn add(&mut self, o: &Summary) {
        self.items += o.items;
        self.blobs += o.blobs;
        self.bytes += o.bytes;
        self.skipped_binary += o.skipped_binary;
        self.skipped_large += o.skipped_large;
        self.skipped_special += o.skipped_special;
        self.ignored += o.ignored;
        self.messages += o.messages;
        self.errors += o.errors;
        self.archives += o.archives;
        self.commits += o.commits;
        self.repositories += o.repositories;
        self.allowed += o.allowed;
        self.baselined += o.baselined;
        self.ignore_file += o.ignore_file;
        self.below_confidence += o.below_confidence;
        self.cached += o.cached;
    }
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
            skipped_special: g(&self.skipped_special),
            messages: g(&self.messages),
            errors: g(&self.errors),
            cached: g(&self.cached),
            archives: g(&self.archives),
            ..Summary::default()
        }
    }

    fn bump(a: &AtomicU64) {
        a.fetch_add(1, Ordering::Relaxed);
    }
}

/// A changed path of the index or a commit whose added lines hold findings (or an archive,
/// whose members' findings all count).
#[derive(Debug)]
pub struct AddedItem {
    pub order: usize,
    pub path: String,
    pub blob: BlobId,
    pub commit: Option<Commit>,
    pub result: BlobResult,
}

/// A commit or tag message with findings.
#[derive(Debug)]
pub struct MessageItem {
    pub id: BlobId,
    pub kind: MessageKind,
    pub time: i64,
    pub result: BlobResult,
}

/// Scans content: the matcher plus dedup and bookkeeping.
pub struct Scanner {
    matcher: Matcher,
    stats: Stats,
    state: Mutex<State>,
    allow_comments: bool,
    /// How archives are opened; `None`: they are not.
    archives: Option<archive::Limits>,
}

type IdSet = HashSet<BlobId, std::hash::BuildHasherDefault<crate::blob::IdHasher>>;

/// Archives inside archives opened by default (`--max-archive-depth`).
pub const DEFAULT_ARCHIVE_DEPTH: usize = 2;

/// What a blob is to the scanner.
enum Content {
    Text,
    Archive(archive::Kind),
    /// Binary content that binary rules (magic bytes) matched.
    Binary(Vec<Match>),
}

/// How a blob is named in messages before its path is known.
#[derive(Clone, Copy)]
enum Name<'a> {
    Path(&'a str),
    Object(BlobId),
}

impl Name<'_> {
    /// The name of member `inner` of this archive (`inner` empty: the archive itself).
    fn member(self, inner: &str) -> String {
        let base = match self {
            Name::Path(p) => p.to_string(),
            Name::Object(id) => format!("object {id}"),
        };
        if inner.is_empty() {
            base
        } else {
            format!("{base}!{inner}")
        }
    }
}

#[derive(Default)]
struct State {
    /// Every on-disk (or stdin) blob, with every path it was seen under.
    file_paths: IdMap<BlobId, Vec<String>>,
    /// Git blobs of history seen (scanned or skipped).
    objects: IdSet,
    /// Members of archives seen (scanned or skipped).
    members: IdSet,
    /// The members read from each archive opened: the path inside, and the member's blob.
    archives: IdMap<BlobId, Vec<(String, BlobId)>>,
    /// What could not be read in archives (damage, limits): reported, not errors.
    warnings: Vec<SourceError>,
    /// New blobs of changes seen (diff modes).
    changed: IdSet,
    /// Blobs an earlier scan with the same rules found nothing in (see `know`).
    known: IdSet,
    /// Every archive opened, with members or not (see `opened_archives`).
    opened: IdSet,
    /// Results of blobs that have any finding.
    results: IdMap<BlobId, Arc<BlobResult>>,
    stdin: Option<BlobId>,
    added: Vec<AddedItem>,
    messages: Vec<MessageItem>,
    errors: Vec<SourceError>,
}

/// Everything the scan phase produced, before findings are placed.
pub struct Scanned {
    pub rules: Arc<RuleSet>,
    pub results: IdMap<BlobId, Arc<BlobResult>>,
    /// Paths of on-disk blobs that have results.
    pub file_paths: IdMap<BlobId, Vec<String>>,
    /// Blobs of history that have results (or are archives with members that have).
    pub objects: Vec<BlobId>,
    /// The members with results of each archive opened: the path inside, and the member.
    pub archives: IdMap<BlobId, Vec<(String, BlobId)>>,
    /// What could not be read in archives.
    pub warnings: Vec<SourceError>,
    pub stdin: Option<BlobId>,
    pub added: Vec<AddedItem>,
    pub messages: Vec<MessageItem>,
    pub summary: Summary,
    pub errors: Vec<SourceError>,
}

impl Scanner {
    pub fn new(matcher: Matcher) -> Scanner {
        Scanner {
            matcher,
            stats: Stats::default(),
            state: Mutex::new(State::default()),
            allow_comments: true,
            archives: Some(archive::Limits {
                depth: DEFAULT_ARCHIVE_DEPTH,
                max_member: 32 << 20,
            }),
        }
    }

    /// How deep archives are opened (0: not at all), and the largest member read.
    pub fn with_archives(mut self, depth: usize, max_member: u64) -> Scanner {
        self.archives = (depth > 0).then_some(archive::Limits { depth, max_member });
        self
    }

    /// Whether allow comments (`keyhound:allow`, ...) suppress findings; on by default.
    pub fn with_allow_comments(mut self, on: bool) -> Scanner {
        self.allow_comments = on;
        self
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

    /// A visitor for one worker thread of a source: it brings its own matcher scratch.
    pub fn visitor(&self) -> impl FnMut(Event<'_>) + Clone + Send + '_ {
        let mut scratch = self.scratch();
        move |event| self.handle(event, &mut scratch)
    }

    /// A visitor for one worker thread of a history's object pass: blobs are scanned without
    /// the deferred path rules, which `rescanner` runs on the blobs the trees name for them
    /// (see `rules::file_names`).
    pub fn history_visitor(&self) -> impl FnMut(Event<'_>) + Clone + Send + '_ {
        let mut scratch = self.scratch();
        move |event| match event {
            Event::Object { id, bytes } => self.object(id, bytes, &mut scratch, Which::NotDeferred),
            event => self.handle(event, &mut scratch),
        }
    }

    /// A visitor that scans again, with every rule, blobs that `history_visitor` scanned
    /// without the deferred path rules; what it finds replaces what they had. Nothing is
    /// counted again.
    pub fn rescanner(&self) -> impl FnMut(Event<'_>) + '_ {
        let mut scratch = self.scratch();
        move |event| match event {
            Event::Object { id, bytes } => self.rescan(id, bytes, &mut scratch),
            Event::Error(e) => self.error(e),
            _ => {}
        }
    }

    fn rescan(&self, id: BlobId, bytes: &[u8], scratch: &mut Scratch) {
        {
            let s = self.lock();
            // Scanned whole already: a file on disk or an archive's member.
            if s.file_paths.contains_key(&id) || s.members.contains(&id) {
                return;
            }
        }
        // Binary rules and archives' members are never deferred.
        let archive = self.archives.is_some() && archive::detect(bytes).is_some();
        if archive || looks_binary(bytes) {
            return;
        }
        let result = self.scan_bytes(bytes, scratch, Which::All);
        if !result.is_empty() {
            self.lock().results.insert(id, Arc::new(result));
        }
    }

    /// Handles one source event on the calling thread.
    pub fn handle(&self, event: Event<'_>, scratch: &mut Scratch) {
        match event {
            Event::File { path, bytes } => self.file(Some(path), bytes, scratch),
            Event::Stdin { bytes } => self.file(None, bytes, scratch),
            Event::Object { id, bytes } => self.object(id, bytes, scratch, Which::All),
            Event::Message {
                id,
                kind,
                time,
                bytes,
            } => self.message(id, kind, time, bytes, scratch),
            Event::Added {
                path,
                id,
                bytes,
                order,
                commit,
                lines,
            } => self.added(path, id, bytes, order, commit, lines, scratch),
            Event::Skipped { why, path } => {
                let reason = match why {
                    Skip::TooLarge => "larger than --max-file-size",
                    Skip::Binary => "binary",
                    Skip::NotAFile => "not a regular file",
                    Skip::Unchanged => "unchanged by the commit",
                };
                log::debug!("skipped {path}: {reason}");
                Stats::bump(&self.stats.items);
                match why {
                    Skip::TooLarge => Stats::bump(&self.stats.skipped_large),
                    Skip::Binary => Stats::bump(&self.stats.skipped_binary),
                    Skip::NotAFile => Stats::bump(&self.stats.skipped_special),
                    Skip::Unchanged => {}
                }
            }
            Event::Error(e) => self.error(e),
        }
    }

    pub fn error(&self, e: SourceError) {
        Stats::bump(&self.stats.errors);
        self.lock().errors.push(e);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic elsewhere must not hide findings already collected.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A file on disk (`path`) or stdin (`None`), unless the same content was already scanned.
    fn file(&self, path: Option<&str>, bytes: &[u8], scratch: &mut Scratch) {
        Stats::bump(&self.stats.items);
        let Some(content) = self.classify(bytes, scratch) else {
            log::debug!("skipped {}: binary", path.unwrap_or("<stdin>"));
            return;
        };
        let id = BlobId::of(bytes);
        {
            let mut s = self.lock();
            let first = !s.file_paths.contains_key(&id)
                && !s.objects.contains(&id)
                && !s.members.contains(&id);
            let paths = s.file_paths.entry(id).or_default();
            if let Some(p) = path {
                paths.push(p.to_string());
            } else {
                s.stdin = Some(id);
            }
            if !first {
                return;
            }
        }
        let name = Name::Path(path.unwrap_or("<stdin>"));
        self.scan_content(id, name, bytes, content, scratch, Which::All);
    }

    /// A git object whose id is known, unless that content was already scanned, or is
    /// known to hold nothing.
    fn object(&self, id: BlobId, bytes: &[u8], scratch: &mut Scratch, which: Which) {
        {
            let mut s = self.lock();
            if s.file_paths.contains_key(&id) || !s.objects.insert(id) {
                return;
            }
            // Already scanned as an archive member; history places it all the same.
            if s.members.contains(&id) {
                return;
            }
            if s.known.contains(&id) {
                Stats::bump(&self.stats.cached);
                return;
            }
        }
        Stats::bump(&self.stats.items);
        if let Some(content) = self.classify(bytes, scratch) {
            self.scan_content(id, Name::Object(id), bytes, content, scratch, which);
        }
    }

    /// What `bytes` are: `None` for binary content with nothing to find (counted).
    fn classify(&self, bytes: &[u8], scratch: &mut Scratch) -> Option<Content> {
        if let Some(kind) = self.archives.and_then(|_| archive::detect(bytes)) {
            return Some(Content::Archive(kind));
        }
        if !looks_binary(bytes) {
            return Some(Content::Text);
        }
        let found = if self.matcher.has_binary_rules() {
            self.matcher.find_binary(bytes, scratch)
        } else {
            Vec::new()
        };
        if found.is_empty() {
            Stats::bump(&self.stats.skipped_binary);
            return None;
        }
        Some(Content::Binary(found))
    }

    /// Scans a new blob by what it is.
    fn scan_content(
        &self,
        id: BlobId,
        name: Name<'_>,
        bytes: &[u8],
        content: Content,
        scratch: &mut Scratch,
        which: Which,
    ) -> Option<Arc<BlobResult>> {
        match content {
            Content::Text => self.scan_new(id, bytes, scratch, which),
            Content::Binary(found) => self.keep_binary(id, bytes, &found),
            Content::Archive(kind) => {
                self.open_archive(id, name, bytes, kind, scratch);
                None
            }
        }
    }

    /// Opens an archive and scans its members; what cannot be read is a warning.
    fn open_archive(
        &self,
        id: BlobId,
        name: Name<'_>,
        bytes: &[u8],
        kind: archive::Kind,
        scratch: &mut Scratch,
    ) {
        let Some(limits) = self.archives else {
            return;
        };
        Stats::bump(&self.stats.archives);
        Stats::bump(&self.stats.blobs);
        self.lock().opened.insert(id);
        self.stats
            .bytes
            .fetch_add(bytes.len() as u64, Ordering::Relaxed);
        let mut members = Vec::new();
        archive::open(bytes, kind, &limits, &mut |entry| match entry {
            Entry::Member { path, bytes } => self.member(path, bytes, &mut members, scratch),
            Entry::TooLarge { .. } => {
                Stats::bump(&self.stats.items);
                Stats::bump(&self.stats.skipped_large);
            }
            Entry::Problem { path, message } => self.lock().warnings.push(SourceError {
                path: name.member(path),
                message,
            }),
        });
        if !members.is_empty() {
            self.lock().archives.insert(id, members);
        }
    }

    /// A member of an archive (never an archive itself), unless that content was scanned.
    fn member(
        &self,
        path: &str,
        bytes: &[u8],
        members: &mut Vec<(String, BlobId)>,
        scratch: &mut Scratch,
    ) {
        Stats::bump(&self.stats.items);
        let Some(content) = self.classify(bytes, scratch) else {
            return;
        };
        let id = BlobId::of(bytes);
        members.push((path.to_string(), id));
        let first = {
            let mut s = self.lock();
            !s.file_paths.contains_key(&id) && !s.objects.contains(&id) && s.members.insert(id)
        };
        if first {
            self.scan_content(id, Name::Path(path), bytes, content, scratch, Which::All);
        }
    }

    /// Findings of binary rules: the secret is the matched bytes in hex, at line 1.
    fn keep_binary(&self, id: BlobId, bytes: &[u8], found: &[Match]) -> Option<Arc<BlobResult>> {
        Stats::bump(&self.stats.blobs);
        self.stats
            .bytes
            .fetch_add(bytes.len() as u64, Ordering::Relaxed);
        let found = found
            .iter()
            .map(|m| BlobFinding {
                rule: m.rule,
                line: 1,
                column: 1,
                end_line: 1,
                end_column: 1,
                secret: Secret::new(hex(&bytes[m.span.clone()]).as_bytes()),
                partner: None,
                confidence: m.confidence,
                checksum: None,
                context: Context {
                    parts: vec![Part::This],
                },
                decoded_from: None,
                details: m.details.clone(),
            })
            .collect();
        let result = Arc::new(BlobResult {
            found,
            allowed: Vec::new(),
        });
        self.lock().results.insert(id, Arc::clone(&result));
        Some(result)
    }

    fn message(&self, id: BlobId, kind: MessageKind, time: i64, bytes: &[u8], scr: &mut Scratch) {
        Stats::bump(&self.stats.messages);
        let result = self.scan_bytes(bytes, scr, Which::All);
        if !result.is_empty() {
            self.lock().messages.push(MessageItem {
                id,
                kind,
                time,
                result,
            });
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn added(
        &self,
        path: &str,
        id: BlobId,
        bytes: &[u8],
        order: usize,
        commit: Option<&Commit>,
        lines: &mut dyn AddedLines,
        scratch: &mut Scratch,
    ) {
        Stats::bump(&self.stats.items);
        let (cached, first) = {
            let mut s = self.lock();
            (s.results.get(&id).cloned(), s.changed.insert(id))
        };
        let result = match cached {
            Some(r) => r,
            None if !first => {
                if self.lock().archives.contains_key(&id) {
                    self.added_archive(path, id, order, commit);
                }
                return;
            }
            None => match self.classify(bytes, scratch) {
                Some(Content::Archive(kind)) => {
                    self.open_archive(id, Name::Path(path), bytes, kind, scratch);
                    self.added_archive(path, id, order, commit);
                    return;
                }
                Some(content) => {
                    let name = Name::Path(path);
                    match self.scan_content(id, name, bytes, content, scratch, Which::All) {
                        Some(r) => r,
                        None => return,
                    }
                }
                None => return,
            },
        };
        let text = Lines::new(bytes);
        let mut on_added = |f: &BlobFinding| {
            (f.line..=f.end_line.max(f.line))
                .any(|n| text.get(n).is_some_and(|l| lines.is_added(l)))
        };
        let kept = BlobResult {
            found: result
                .found
                .iter()
                .filter(|f| on_added(f))
                .cloned()
                .collect(),
            allowed: result
                .allowed
                .iter()
                .filter(|f| on_added(f))
                .cloned()
                .collect(),
        };
        if !kept.is_empty() {
            self.lock().added.push(AddedItem {
                order,
                path: path.to_string(),
                blob: id,
                commit: commit.cloned(),
                result: kept,
            });
        }
    }

    /// A changed archive: every finding of its members counts (a line of a compressed member
    /// cannot be compared with the version it replaced). Placed from the archive's members.
    fn added_archive(&self, path: &str, id: BlobId, order: usize, commit: Option<&Commit>) {
        self.lock().added.push(AddedItem {
            order,
            path: path.to_string(),
            blob: id,
            commit: commit.cloned(),
            result: BlobResult::default(),
        });
    }

    /// Matches `bytes` and locates the matches, without any bookkeeping or suppression.
    pub fn find(&self, bytes: &[u8], scratch: &mut Scratch) -> Vec<BlobFinding> {
        self.find_which(bytes, scratch, Which::All)
    }

    fn find_which(&self, bytes: &[u8], scratch: &mut Scratch, which: Which) -> Vec<BlobFinding> {
        let matches = self.matcher.find_which(bytes, scratch, which);
        if matches.is_empty() {
            return Vec::new();
        }
        locate(bytes, &matches)
    }

    /// Matches `bytes` and splits off what allow comments suppress.
    fn scan_bytes(&self, bytes: &[u8], scratch: &mut Scratch, which: Which) -> BlobResult {
        let found = self.find_which(bytes, scratch, which);
        if found.is_empty() {
            return BlobResult::default();
        }
        if !self.allow_comments {
            return BlobResult {
                found,
                allowed: Vec::new(),
            };
        }
        let lines = Lines::new(bytes);
        let (allowed, found) = found
            .into_iter()
            .partition(|f| allowed_by_comment(&lines, f.line));
        BlobResult { found, allowed }
    }

    fn scan_new(
        &self,
        id: BlobId,
        bytes: &[u8],
        scratch: &mut Scratch,
        which: Which,
    ) -> Option<Arc<BlobResult>> {
        Stats::bump(&self.stats.blobs);
        self.stats
            .bytes
            .fetch_add(bytes.len() as u64, Ordering::Relaxed);
        let result = self.scan_bytes(bytes, scratch, which);
        if result.is_empty() {
            return None;
        }
        let result = Arc::new(result);
        self.lock().results.insert(id, Arc::clone(&result));
        Some(result)
    }

    /// The blobs with findings (or suppressed findings) so far that history should place:
    /// files on disk and git objects, sorted (what `Scanned::wanted` will number).
    pub fn wanted_ids(&self) -> Vec<BlobId> {
        let s = self.lock();
        // Archives count through their members.
        let archives = s
            .archives
            .iter()
            .filter(|(_, members)| members.iter().any(|(_, m)| s.results.contains_key(m)));
        let mut ids: Vec<BlobId> = s
            .results
            .keys()
            .chain(archives.map(|(id, _)| id))
            .filter(|id| s.file_paths.contains_key(*id) || s.objects.contains(*id))
            .copied()
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// Takes `ids` as blobs of history that hold nothing, as an earlier scan with the same
    /// rules found: they are not read when a source hands them over.
    pub fn know(&self, ids: impl IntoIterator<Item = BlobId>) {
        self.lock().known.extend(ids);
    }

    /// Takes `ids` as blobs of history seen and holding nothing, without their content (their
    /// packs are not read again; see `know`).
    pub fn restore(&self, ids: impl IntoIterator<Item = BlobId>) {
        let ids = ids.into_iter();
        let mut s = self.lock();
        s.objects.reserve(ids.size_hint().0);
        for id in ids {
            if !s.file_paths.contains_key(&id) && s.objects.insert(id) {
                Stats::bump(&self.stats.cached);
            }
        }
    }

    /// Every archive opened so far, sorted: what is inside one (members, warnings) is not
    /// known by the archive's id alone, so `--cache` reads them again.
    pub fn opened_archives(&self) -> Vec<BlobId> {
        let mut ids: Vec<BlobId> = self.lock().opened.iter().copied().collect();
        ids.sort_unstable();
        ids
    }

    /// Every blob seen so far, on disk or in history, sorted.
    pub fn seen_blobs(&self) -> Vec<BlobId> {
        let s = self.lock();
        let mut ids: Vec<BlobId> = s
            .objects
            .iter()
            .chain(s.file_paths.keys())
            .copied()
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// Ends the scan phase.
    pub fn finish(self) -> Scanned {
        let summary = self.stats.summary();
        let rules = Arc::clone(self.matcher.rules());
        let mut s = self.state.into_inner().unwrap_or_else(|p| p.into_inner());
        let results = std::mem::take(&mut s.results);
        // An archive is kept with the members that have findings, if any.
        let mut archives = std::mem::take(&mut s.archives);
        archives.retain(|_, members| {
            members.retain(|(_, m)| results.contains_key(m));
            !members.is_empty()
        });
        let found = |id: &BlobId| results.contains_key(id) || archives.contains_key(id);
        s.file_paths.retain(|id, _| found(id));
        let mut objects: Vec<BlobId> = s.objects.iter().filter(|id| found(id)).copied().collect();
        objects.sort_unstable();
        s.errors.sort();
        s.errors.dedup();
        s.warnings.sort();
        s.warnings.dedup();
        Scanned {
            rules,
            results,
            file_paths: s.file_paths,
            objects,
            archives,
            warnings: s.warnings,
            stdin: s.stdin,
            added: s.added,
            messages: s.messages,
            summary,
            errors: s.errors,
        }
    }
}
