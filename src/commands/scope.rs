//! A scope: the tree one configuration governs, and running the pipeline over it. Sources
//! (walk, stdin, history, the index, a range) feed one `Scanner`; history places the blobs
//! with findings; the scanner assembles the findings. Each `.keyhound.yaml` governs only its
//! own scope: `keyhound scan theirs/ mine/` never lets `theirs/` configure `mine/`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context as _, Result};

use super::incremental;
use super::scan::{Mode, ScanOptions};
use crate::blob::BlobId;
use crate::cache::Cache;
use crate::config::{self, Config};
use crate::finding::Repository;
use crate::matcher::Matcher;
use crate::progress;
use crate::rules::RuleSet;
use crate::scan::{Assembly, Outcome, RepoFacts, Scanned, Scanner};
use crate::source::git::diff::{self, DiffOptions};
use crate::source::git::history::{self, Facts, HistoryOptions, Inventory};
use crate::source::{self, Event, SourceError};

/// The tree one configuration governs.
pub struct Scope {
    pub config: Config,
    /// The directory the configuration governs: a repository root, or a PATH's directory.
    pub root: PathBuf,
    pub paths: Vec<PathBuf>,
    /// Stdin is read in this scope.
    pub stdin: bool,
    /// The repository of a diff-mode scan.
    pub repo: Option<gix::ThreadSafeRepository>,
    /// Nothing governs it: no configuration, no baseline of its own.
    pub plain: bool,
    /// A remote repository: cloned (or fetched) under `root` before it is scanned.
    pub remote: Option<RemoteScope>,
}

/// A remote repository's scope: what to clone, and how its findings name it.
pub struct RemoteScope {
    pub url: crate::remote::url::RemoteUrl,
    pub credential: Option<crate::remote::clone::Credential>,
    /// Where clones are kept (`--clone-dir`).
    pub clone_root: PathBuf,
}

/// What was done to a scope before it is scanned: a remote repository cloned or fetched.
pub enum Prepared {
    Local,
    Remote(Result<crate::remote::clone::Mirror, crate::remote::clone::CloneError>),
}

/// Clones or fetches a remote scope's repository; nothing for a local scope.
pub fn prepare(scope: &Scope) -> Prepared {
    match &scope.remote {
        None => Prepared::Local,
        Some(r) => Prepared::Remote(crate::remote::clone::update(
            &r.url,
            &r.clone_root,
            r.credential.as_ref(),
        )),
    }
}

impl Scope {
    /// The scope's name for progress lines: a remote repository's identity, else its first
    /// path.
    pub fn name(&self) -> String {
        let raw = match (&self.remote, self.paths.first()) {
            (Some(r), _) => r.url.identity(),
            (None, Some(p)) => source::fs::display_path(p),
            (None, None) => "<stdin>".into(),
        };
        crate::report::sanitize(&raw)
    }
}

impl RemoteScope {
    /// The repository as reports name it: its identity and URL, never the clone's place, so
    /// reports from different machines agree.
    pub fn shown(&self) -> Repository {
        Repository {
            path: crate::report::sanitize(&self.url.identity()),
            remote: Some(crate::report::sanitize(&strip_credentials(
                self.url.as_str(),
            ))),
        }
    }
}

/// What running a scope gave.
pub struct ScopeRun {
    pub outcome: Outcome,
    pub rules: Arc<RuleSet>,
    /// For stderr: shallow clones, submodules, partial clones.
    pub notes: Vec<String>,
    /// For stderr with `-v`: history statistics.
    pub details: Vec<String>,
}

/// Loads the rules a scope runs: built-ins, `--rules`, and the configuration's, minus the
/// configuration's `disable_rules`.
pub fn load_rules(opts: &ScanOptions, config: &Config, notes: &mut Vec<String>) -> Result<RuleSet> {
    let mut sources = crate::rules::builtin_sources(false);
    for p in &opts.extra_rules {
        sources.extend(crate::rules::read_rule_path(p).context("cannot load rules")?);
    }
    // A repository's own rule files (its configuration was found in it) add rules only.
    for p in &config.rules {
        let read = crate::rules::read_rule_path(p).context("cannot load rules")?;
        sources.extend(read.into_iter().map(|mut s| {
            s.filters_allowed = !config.confined;
            s
        }));
    }
    let mut set = RuleSet::load(sources).context("cannot load rules")?;
    super::rules::import_notes(&set, true, notes);
    for d in config.disable(&mut set) {
        let pattern = crate::report::sanitize(&d.pattern);
        notes.push(match d.source {
            config::RulePatternSource::File(line) => format!(
                "warning: {}:{line}: disable_rules: `{pattern}` matches no rule",
                config.file.as_deref().unwrap_or(Path::new("?")).display(),
            ),
            config::RulePatternSource::DisableFlag => {
                format!("warning: --disable-rule `{pattern}` matches no rule")
            }
            config::RulePatternSource::OnlyFlag => {
                format!("warning: --only-rule `{pattern}` matches no rule")
            }
        });
    }
    if set.rules.is_empty() {
        anyhow::bail!("no rule is left to run (--only-rule, --disable-rule, disable_rules)");
    }
    Ok(set)
}

/// Runs a scope with its own rules, or with `rules` (and their loading notes) when given:
/// scopes with the same configuration share them.
pub fn run(
    scope: &Scope,
    prepared: Prepared,
    opts: &ScanOptions,
    rules: Option<(Arc<RuleSet>, Vec<String>)>,
    line: &progress::Line,
) -> Result<ScopeRun> {
    let (set, mut notes) = match rules {
        Some(r) => r,
        None => {
            let mut notes = Vec::new();
            (
                Arc::new(load_rules(opts, &scope.config, &mut notes)?),
                notes,
            )
        }
    };
    if let (Some(remote), Prepared::Remote(mirror)) = (&scope.remote, prepared) {
        return run_remote(scope, remote, mirror, opts, set, notes, line);
    }
    let matcher = Matcher::new(Arc::clone(&set))?;
    let scanner = Scanner::new(matcher)
        .with_allow_comments(opts.allow_comments)
        .with_archives(opts.max_archive_depth, opts.max_file_size);
    let mut details = Vec::new();
    let outcome = match (&opts.mode, &scope.repo) {
        (Mode::Paths, _) => run_paths(scope, opts, scanner, line, &mut notes, &mut details)?,
        (mode, Some(repo)) => run_diff(scope, opts, mode, &repo.to_thread_local(), scanner)?,
        (_, None) => anyhow::bail!("a diff-mode scan needs a repository"),
    };
    let mut outcome = outcome;
    for w in std::mem::take(&mut outcome.warnings) {
        notes.push(format!("warning: {w}"));
    }
    Ok(ScopeRun {
        outcome,
        rules: set,
        notes,
        details,
    })
}

/// Clones or fetches a remote repository, then scans its history. A repository that cannot
/// be cloned is an error of the run, reported under its name; one that cannot be fetched is
/// scanned as it was last fetched, and that is an error too.
fn run_remote(
    scope: &Scope,
    remote: &RemoteScope,
    mirror: Result<crate::remote::clone::Mirror, crate::remote::clone::CloneError>,
    opts: &ScanOptions,
    set: Arc<RuleSet>,
    mut notes: Vec<String>,
    line: &progress::Line,
) -> Result<ScopeRun> {
    let shown = remote.shown();
    let failed = |message: String| SourceError {
        path: shown.path.clone(),
        message,
    };
    let mirror = match mirror {
        Ok(m) => m,
        Err(e) => {
            let mut outcome = Outcome {
                findings: Vec::new(),
                allowed: Vec::new(),
                summary: crate::scan::Summary::default(),
                errors: vec![failed(e.to_string())],
                warnings: Vec::new(),
            };
            outcome.summary.errors = 1;
            return Ok(ScopeRun {
                outcome,
                rules: set,
                notes,
                details: Vec::new(),
            });
        }
    };
    let local = Scope {
        config: scope.config.clone(),
        root: mirror.dir.clone(),
        paths: vec![mirror.dir.clone()],
        stdin: false,
        repo: None,
        plain: false,
        remote: None,
    };
    let matcher = Matcher::new(Arc::clone(&set))?;
    let scanner = Scanner::new(matcher)
        .with_allow_comments(opts.allow_comments)
        .with_archives(opts.max_archive_depth, opts.max_file_size);
    let mut details = Vec::new();
    let cache = open_cache(opts, scanner.rules(), &mut notes);
    let mut outcome = run_paths_as(
        &local,
        opts,
        scanner,
        line,
        &mut notes,
        &mut details,
        Some(&shown),
        cache.as_ref(),
    )?;
    for w in std::mem::take(&mut outcome.warnings) {
        notes.push(format!("warning: {w}"));
    }
    if let Some(stale) = mirror.stale {
        outcome.errors.push(failed(format!(
            "{stale}; scanned as of the last successful fetch"
        )));
        outcome.summary.errors += 1;
    }
    // Messages name the repository, never the clone's place on this machine.
    let here = source::fs::display_path(&mirror.dir);
    let rename = |s: &str| s.replace(&here, &shown.path);
    for e in &mut outcome.errors {
        e.path = rename(&e.path);
        e.message = rename(&e.message);
    }
    outcome.errors.sort();
    for n in notes.iter_mut().chain(details.iter_mut()) {
        *n = rename(n);
    }
    Ok(ScopeRun {
        outcome,
        rules: set,
        notes,
        details,
    })
}

/// `--staged`, `--since-commit`, `--range`: the index or the commits of a range.
fn run_diff(
    scope: &Scope,
    opts: &ScanOptions,
    mode: &Mode,
    repo: &gix::Repository,
    scanner: Scanner,
) -> Result<Outcome> {
    let exclude = |p: &str| scope.config.excludes(p);
    let dopts = DiffOptions {
        max_file_size: opts.max_file_size,
        exclude: scope
            .config
            .exclude
            .is_some()
            .then_some(&exclude as &dyn Fn(&str) -> bool),
    };
    let mut visit = scanner.visitor();
    let commits = match mode {
        Mode::Range(spec) => diff::range(repo, spec, &dopts, &mut visit)?,
        _ => {
            diff::staged(repo, &dopts, &mut visit)?;
            0
        }
    };
    drop(visit);
    let scanned = scanner.finish();
    let repos = [RepoFacts {
        repo: Arc::new(describe_repo(repo, Path::new("."))),
        prefix: String::new(),
        facts: Facts::default(),
    }];
    let (_, keys) = scanned.wanted();
    let mut outcome = scanned.assemble(
        &keys,
        &Assembly {
            repos: &repos,
            include_unreachable: false,
        },
    );
    outcome.summary.commits = commits;
    Ok(outcome)
}

/// A repository found among or below the PATHs, opened.
struct Found {
    path: PathBuf,
    repo: gix::Repository,
}

/// Files, directories, stdin, and the history of every repository among or below the paths.
fn run_paths(
    scope: &Scope,
    opts: &ScanOptions,
    scanner: Scanner,
    line: &progress::Line,
    notes: &mut Vec<String>,
    details: &mut Vec<String>,
) -> Result<Outcome> {
    let cache = open_cache(opts, scanner.rules(), notes);
    run_paths_as(
        scope,
        opts,
        scanner,
        line,
        notes,
        details,
        None,
        cache.as_ref(),
    )
}

/// The run's cache for these rules (`--cache`); a directory that cannot be made is a
/// warning, and the scan goes on without.
fn open_cache(opts: &ScanOptions, rules: &RuleSet, notes: &mut Vec<String>) -> Option<Cache> {
    let dir = opts.cache.as_ref()?;
    let digest = crate::cache::digest(
        rules,
        opts.max_file_size,
        opts.allow_comments,
        opts.max_archive_depth,
    );
    match Cache::open(dir, digest) {
        Ok(c) => Some(c),
        Err(e) => {
            notes.push(format!("warning: cache: {e}"));
            None
        }
    }
}

/// `run_paths`, with every repository named `shown` when given (a remote repository's
/// clone).
#[allow(clippy::too_many_arguments)]
fn run_paths_as(
    scope: &Scope,
    opts: &ScanOptions,
    scanner: Scanner,
    line: &progress::Line,
    notes: &mut Vec<String>,
    details: &mut Vec<String>,
    shown: Option<&Repository>,
    cache: Option<&Cache>,
) -> Result<Outcome> {
    if scope.stdin {
        read_stdin(opts, &scanner);
    }
    let exclude = exclude_filter(&scope.config)?;
    let history_exclude = exclude.clone();
    let started = Instant::now();
    let (found, passes, ignored) = line.watch(scanner.stats(), || {
        let (found, ignored) = walk(scope, opts, &scanner, exclude);
        let found = open_repositories(found, opts, &scanner);
        if !found.is_empty() {
            // History means large inputs: build the keyword DFA now rather than after a megabyte.
            scanner.prime();
        }
        let passes: Vec<Option<Passed>> = found
            .iter()
            .map(|f| object_pass(f, opts, &scanner, cache, notes))
            .collect();
        (found, passes, ignored)
    });
    let scan_secs = started.elapsed().as_secs_f64();
    let seen_blobs = cache.map(|_| scanner.seen_blobs()).unwrap_or_default();
    let archives = cache.map(|_| scanner.opened_archives()).unwrap_or_default();
    let mut scanned = scanner.finish();
    scanned.summary.ignored = ignored;
    let (wanted, keys) = scanned.wanted();
    let messages: Vec<_> = scanned.messages.iter().map(|m| m.id).collect();
    let seen = cache.map(|_| SeenIds::of(&scanned, seen_blobs, &archives));
    let mut repos = Vec::new();
    for (f, pass) in found.iter().zip(passes) {
        let Some(Passed { inv, before, clean }) = pass else {
            continue;
        };
        repo_notes(f, &inv, notes);
        // A record is kept after a clean pass, unless the one there still holds.
        let unchanged = before
            .as_ref()
            .is_some_and(|b| b.unchanged && inv.packs_read.is_empty() && inv.loose == 0);
        let record = cache.is_some() && clean && inv.partial.is_none() && !unchanged;
        let placed = history::provenance_recording(
            &f.repo,
            &inv,
            &wanted,
            &messages,
            &history_options(opts),
            record,
        );
        let mut commits = inv.commit_count();
        let facts = match placed {
            Ok((facts, stats, sets)) => {
                details.push(format!(
                    "{}: history of {} commits ({} packs read, {} from the cache, {} loose objects); scanning took {:.2}s (trees {:.2}s), provenance for {} blobs {:.2}s",
                    source::fs::display_path(&f.path),
                    inv.commit_count(),
                    inv.packs,
                    before.as_ref().map_or(0, |b| b.carried_packs()),
                    inv.loose,
                    scan_secs,
                    inv.tree_seconds,
                    wanted.len(),
                    stats.seconds,
                ));
                if let (Some(cache), Some(seen), Some(sets), Some(before)) =
                    (cache, &seen, sets, before)
                {
                    save_record(cache, f, before, &inv, sets, seen, notes);
                }
                commits = facts.commits_in_scope;
                facts
            }
            Err(e) => {
                scanned.errors.push(SourceError {
                    path: source::fs::display_path(&f.path),
                    message: e.to_string(),
                });
                scanned.summary.errors += 1;
                Facts::default()
            }
        };
        scanned.summary.commits += commits as u64;
        scanned.summary.repositories += 1;
        let (repo, prefix) = match shown {
            Some(r) => (r.clone(), format!("{}/", r.path)),
            None => (describe_repo(&f.repo, &f.path), prefix_of(&f.path)),
        };
        repos.push(RepoFacts {
            repo: Arc::new(repo),
            prefix,
            facts,
        });
    }
    let mut outcome = assemble(scanned, &keys, &repos, opts);
    // Files on disk were excluded by the walk; versions only history holds are excluded here.
    if let Some(x) = history_exclude {
        let keep = |f: &crate::finding::Finding| {
            let path = f
                .origin
                .member()
                .map_or(f.location.path.as_str(), |(p, _)| p);
            !matches!(f.origin.outer(), crate::finding::Origin::History(_))
                || !(x.0)(Path::new(path))
        };
        outcome.findings.retain(keep);
        outcome.allowed.retain(keep);
    }
    Ok(outcome)
}

/// A repository's object pass: its inventory, what its cache record gave it, and whether it
/// read everything without an error (only then is a new record kept).
struct Passed {
    inv: Inventory,
    before: Option<incremental::Before>,
    clean: bool,
}

/// Reads a repository's objects, with what its cache record knows when there is a cache.
fn object_pass(
    f: &Found,
    opts: &ScanOptions,
    scanner: &Scanner,
    cache: Option<&Cache>,
    notes: &mut Vec<String>,
) -> Option<Passed> {
    let errors = || {
        scanner
            .stats()
            .errors
            .load(std::sync::atomic::Ordering::Relaxed)
    };
    let before_errors = errors();
    let mut before = cache.map(|c| {
        let record = c.load(&incremental::key(&f.repo)).unwrap_or_else(|e| {
            notes.push(format!("warning: cache: {e}"));
            None
        });
        incremental::before(&f.repo, record, scanner, opts.max_file_size)
    });
    let known = before
        .as_mut()
        .map(|b| std::mem::take(&mut b.known))
        .unwrap_or_default();
    let hopts = history_options(opts);
    let wanted = || scanner.wanted_ids();
    let file_names = Some(scanner.rules().file_names()).filter(|f| f.any());
    let visitor = scanner.history_visitor();
    match history::scan_objects_known(&f.repo, &hopts, visitor, &wanted, known, file_names) {
        Ok(inv) => {
            // The deferred path rules, on the blobs the trees name for them.
            history::read_objects(
                &f.repo,
                &inv.named,
                hopts.max_blob_size,
                scanner.rescanner(),
            );
            Some(Passed {
                inv,
                before,
                clean: errors() == before_errors,
            })
        }
        Err(e) => {
            scanner.error(SourceError {
                path: source::fs::display_path(&f.path),
                message: e.to_string(),
            });
            None
        }
    }
}

/// What the scan saw, owned, for the records of its repositories.
struct SeenIds {
    blobs: Vec<BlobId>,
    with_findings: Vec<BlobId>,
    messages: Vec<BlobId>,
}

impl SeenIds {
    /// `archives` count as having findings: they are read again on every scan.
    fn of(scanned: &Scanned, blobs: Vec<BlobId>, archives: &[BlobId]) -> SeenIds {
        let mut with_findings: Vec<BlobId> = scanned.results.keys().copied().collect();
        with_findings.extend_from_slice(archives);
        with_findings.sort_unstable();
        with_findings.dedup();
        let mut messages: Vec<BlobId> = scanned.messages.iter().map(|m| m.id).collect();
        messages.sort_unstable();
        messages.dedup();
        SeenIds {
            blobs,
            with_findings,
            messages,
        }
    }
}

/// Writes a repository's new cache record; a failure is a warning.
fn save_record(
    cache: &Cache,
    f: &Found,
    before: incremental::Before,
    inv: &Inventory,
    sets: history::TreeSets,
    seen: &SeenIds,
    notes: &mut Vec<String>,
) {
    let seen = incremental::Seen {
        blobs: &seen.blobs,
        with_findings: &seen.with_findings,
        messages: &seen.messages,
    };
    let Some(record) = incremental::after(&f.repo, before, inv, sets, &seen) else {
        return;
    };
    if let Err(e) = cache.save(&incremental::key(&f.repo), &record) {
        notes.push(format!("warning: cache: {e}"));
    }
}

fn assemble(
    scanned: Scanned,
    keys: &crate::scan::SecretKeys,
    repos: &[RepoFacts],
    opts: &ScanOptions,
) -> Outcome {
    scanned.assemble(
        keys,
        &Assembly {
            repos,
            include_unreachable: opts.all_objects,
        },
    )
}

/// Reads stdin within the size limit and hands it to the scanner; too much is an error.
fn read_stdin(opts: &ScanOptions, scanner: &Scanner) {
    let mut buf = Vec::new();
    match source::stdin::read(std::io::stdin().lock(), opts.max_file_size, &mut buf) {
        Ok(()) => scanner.handle(Event::Stdin { bytes: &buf }, &mut scanner.scratch()),
        Err(e) => scanner.error(SourceError {
            path: "<stdin>".into(),
            message: format!("{e:#}"),
        }),
    }
}

/// Walks the scope's paths (only to find repositories with `--history-only`), and returns
/// the repositories among and below them with the count of ignored entries.
fn walk(
    scope: &Scope,
    opts: &ScanOptions,
    scanner: &Scanner,
    exclude: Option<source::fs::PathFilter>,
) -> (Vec<PathBuf>, u64) {
    let mut repos: Vec<PathBuf> = Vec::new();
    let mut tree_paths = Vec::new();
    for p in &scope.paths {
        match std::fs::metadata(p) {
            Ok(m) if !m.is_file() && !m.is_dir() => {
                scanner.handle(
                    Event::Skipped {
                        path: &source::fs::display_path(p),
                        why: source::Skip::NotAFile,
                    },
                    &mut scanner.scratch(),
                );
                continue;
            }
            _ => {}
        }
        // A bare repository's files are git's own: its history is what is scanned.
        if p.is_dir() && !p.join(".git").exists() && gix::discover::is_git(p).is_ok() {
            repos.push(p.clone());
        } else {
            tree_paths.push(p.clone());
        }
    }
    let wopts = source::fs::WalkOptions {
        respect_ignore: opts.respect_ignore,
        follow_links: opts.follow,
        max_file_size: opts.max_file_size,
        threads: opts.threads,
        exclude,
        read: !opts.history_only,
        open_archives: opts.max_archive_depth > 0,
    };
    let walked = if opts.history_only && opts.no_history {
        source::fs::Walked::default()
    } else {
        source::fs::walk(&tree_paths, &wopts, || scanner.visitor())
    };
    if !opts.no_history {
        repos.extend(walked.repositories);
    }
    repos.sort();
    repos.dedup();
    (repos, walked.ignored)
}

fn open_repositories(paths: Vec<PathBuf>, opts: &ScanOptions, scanner: &Scanner) -> Vec<Found> {
    if opts.no_history {
        return Vec::new();
    }
    paths
        .into_iter()
        .filter_map(|path| {
            let opened = source::git::open(&path).and_then(|repo| {
                history::check_scope(&repo, &opts.history_scope)?;
                Ok(repo)
            });
            match opened {
                Ok(repo) => Some(Found { path, repo }),
                Err(e) => {
                    scanner.error(SourceError {
                        path: source::fs::display_path(&path),
                        message: e.to_string(),
                    });
                    None
                }
            }
        })
        .collect()
}

fn history_options(opts: &ScanOptions) -> HistoryOptions {
    HistoryOptions {
        scope: opts.history_scope.clone(),
        all_objects: opts.all_objects,
        max_blob_size: opts.max_file_size,
        threads: opts.threads,
    }
}

/// Notes for stderr about what a repository's history leaves out.
fn repo_notes(f: &Found, inv: &Inventory, notes: &mut Vec<String>) {
    let shown = source::fs::display_path(&f.path);
    let missing = history::submodules_not_checked_out(&f.repo);
    if missing > 0 {
        notes.push(format!(
            "{shown}: {missing} submodule{} not checked out, so {} history is not scanned",
            if missing == 1 { " is" } else { "s are" },
            if missing == 1 { "its" } else { "their" },
        ));
    }
    if inv.shallow {
        notes.push(format!(
            "{shown}: shallow clone, history before its shallow boundary is not available"
        ));
    }
    if let Some(partial) = &inv.partial {
        notes.push(format!("{shown}: {partial}"));
    }
}

/// The display prefix of paths inside the repository at `path`: `repo/`, or nothing for `.`.
fn prefix_of(path: &Path) -> String {
    match source::fs::display_path(path).as_str() {
        "." | "" => String::new(),
        p => format!("{}/", p.trim_end_matches('/')),
    }
}

/// The repository as reports name it: its path and its remote's URL without credentials.
pub fn describe_repo(repo: &gix::Repository, path: &Path) -> Repository {
    let shown = source::fs::display_path(path);
    let remote = repo
        .find_default_remote(gix::remote::Direction::Fetch)
        .and_then(|r| r.ok())
        .and_then(|r| {
            r.url(gix::remote::Direction::Fetch)
                .map(|u| u.to_bstring().to_string())
        });
    Repository {
        path: if shown.is_empty() { ".".into() } else { shown },
        remote: remote.map(|u| crate::report::sanitize(&strip_credentials(&u))),
    }
}

/// A URL without its user information (`https://user:token@host/x` → `https://host/x`): a
/// remote URL can carry a token.
fn strip_credentials(url: &str) -> String {
    crate::remote::url::strip_userinfo(url)
}

/// The configuration's `exclude_paths` as a walk filter: walked paths are made relative to
/// the configuration's directory before matching.
fn exclude_filter(config: &Config) -> Result<Option<source::fs::PathFilter>> {
    let Some(exclude) = config.exclude.clone() else {
        return Ok(None);
    };
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let root = normalize(&cwd.join(&config.root));
    Ok(Some(source::fs::PathFilter(Arc::new(move |p: &Path| {
        let abs = normalize(&cwd.join(p));
        match abs.strip_prefix(&root) {
            Ok(rel) if !rel.as_os_str().is_empty() => {
                exclude.is_match(&rel.to_string_lossy().replace('\\', "/"))
            }
            _ => false,
        }
    }))))
}

/// Removes `.` and resolves `..` lexically (no file system access, symlinks untouched).
pub fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// Finds the configuration that governs `path`: `.keyhound.yaml` at the root of the repository
/// containing it, or in `path` itself when it is not inside a repository.
pub fn find_config(path: &Path) -> (PathBuf, Option<PathBuf>) {
    let start = if path.is_dir() {
        path.to_path_buf()
    } else {
        path.parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
    };
    let abs = std::path::absolute(&start).unwrap_or_else(|_| start.clone());
    let root = abs
        .ancestors()
        .find(|d| d.join(".git").exists())
        .unwrap_or(&abs)
        .to_path_buf();
    let candidate = root.join(config::FILE_NAME);
    let found = candidate.symlink_metadata().is_ok().then_some(candidate);
    (root, found)
}

#[cfg(test)]
mod tests {
    use super::strip_credentials;

    #[test]
    fn remote_urls_lose_their_credentials() {
        assert_eq!(
            strip_credentials("https://user:ghp_x@github.com/o/r.git"),
            "https://github.com/o/r.git"
        );
        assert_eq!(
            strip_credentials("https://github.com/o/r.git"),
            "https://github.com/o/r.git"
        );
        assert_eq!(
            strip_credentials("git@github.com:o/r.git"),
            "git@github.com:o/r.git"
        );
        assert_eq!(strip_credentials("ssh://tok@host/p@x"), "ssh://host/p@x");
    }
}
