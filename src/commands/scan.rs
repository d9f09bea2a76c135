//! `keyhound scan`: options resolved once into `ScanOptions`, the output prepared before any
//! work, each scope run, then suppression, validation, the report and the summary.

use std::collections::HashMap;
use std::io::{self, IsTerminal};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context as _, Result};

use super::output::Output;
use super::scope::{self, RemoteScope, Scope, ScopeRun};
use super::targets::{self, RemoteOptions, Target};
use super::Exit;
use crate::cli::{ColorChoice, ScanArgs, ValidationArgs};
use crate::config::Config;
use crate::finding::{Confidence, Finding, LiveState};
use crate::report::{self, summary, BaselineReport, Report};
use crate::rules::RuleSet;
use crate::scan::{Outcome, Summary};
use crate::source::git::diff::{self, RangeSpec};
use crate::source::git::history::Scope as HistoryScope;
use crate::source::SourceError;
use crate::suppress::Baseline;

/// The file a repository's baseline is looked for under, at its root.
pub const BASELINE_FILE: &str = ".keyhound-baseline.yaml";

/// Where the content of a scan comes from.
#[derive(Debug, Clone)]
pub enum Mode {
    /// Files, directories, stdin, and the history of repositories among them.
    Paths,
    /// The index against HEAD.
    Staged,
    /// The commits of a range, each against its first parent.
    Range(RangeSpec),
}

/// Which configuration to use.
#[derive(Debug, Clone)]
pub enum ConfigChoice {
    /// `--no-config`.
    None,
    /// `--config FILE`: the user's own, trusted.
    File(PathBuf),
    /// `.keyhound.yaml` at each scanned repository's root.
    Find,
}

/// Which baseline to use.
#[derive(Debug, Clone)]
pub enum BaselineChoice {
    Off,
    File(PathBuf),
    /// The configuration's `baseline:`, else `.keyhound-baseline.yaml` at the root.
    Auto,
}

/// A scan's options, resolved once from the command line; nothing after this reads `ScanArgs`.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    pub mode: Mode,
    pub paths: Vec<PathBuf>,
    pub stdin: bool,
    pub threads: usize,
    pub max_file_size: u64,
    pub max_archive_depth: usize,
    pub respect_ignore: bool,
    pub follow: bool,
    pub no_history: bool,
    pub history_only: bool,
    pub all_objects: bool,
    pub history_scope: HistoryScope,
    pub allow_comments: bool,
    pub min_confidence: Option<Confidence>,
    pub config: ConfigChoice,
    pub baseline: BaselineChoice,
    pub extra_rules: Vec<PathBuf>,
    /// `--exclude`, `--disable-rule`, `--only-rule`: added to every scope's configuration.
    pub controls: crate::config::CommandLine,
    pub quiet: bool,
    pub access_map: bool,
    /// Repositories scanned on their own: URLs, `--repos` lists, listings; and `--shard`.
    pub remote: RemoteOptions,
    /// `--cache DIR` (or `KEYHOUND_CACHE`).
    pub cache: Option<PathBuf>,
}

impl ScanOptions {
    pub fn resolve(args: &ScanArgs) -> Result<ScanOptions> {
        let mode = if args.diff.staged {
            Mode::Staged
        } else if let Some(r) = &args.diff.since_commit {
            Mode::Range(RangeSpec::SinceCommit(r.clone()))
        } else if let Some(r) = &args.diff.range {
            Mode::Range(RangeSpec::Range(r.clone()))
        } else {
            Mode::Paths
        };
        let stdin = args.paths.iter().any(|p| p.as_os_str() == "-");
        let mut paths: Vec<PathBuf> = args
            .paths
            .iter()
            .filter(|p| p.as_os_str() != "-")
            .cloned()
            .collect();
        let remote = RemoteOptions::resolve(&args.remote, &args.validation, &mut paths)?;
        if !matches!(mode, Mode::Paths) && (stdin || paths.len() > 1) {
            bail!(
                "--staged, --since-commit and --range take at most one PATH: a directory inside \
                 the repository"
            );
        }
        if !matches!(mode, Mode::Paths) && (remote.any() || remote.shard.is_some()) {
            bail!(
                "--staged, --since-commit and --range scan one local repository: no URLs, \
                 --repos, listings or --shard"
            );
        }
        Ok(ScanOptions {
            mode,
            paths,
            stdin,
            threads: args
                .threads
                .map_or_else(default_threads, crate::cli::threads),
            max_file_size: args.max_file_size,
            max_archive_depth: args.max_archive_depth,
            respect_ignore: !args.no_ignore,
            follow: args.follow,
            no_history: args.history.no_history,
            history_only: args.history.history_only,
            all_objects: args.history.all_objects,
            history_scope: match &args.history.branch {
                Some(b) => HistoryScope::Rev(b.clone()),
                None => HistoryScope::AllRefs,
            },
            allow_comments: !args.suppress.no_allow_comments,
            min_confidence: args.min_confidence.map(Into::into),
            config: if args.suppress.no_config {
                ConfigChoice::None
            } else if let Some(p) = &args.suppress.config {
                ConfigChoice::File(p.clone())
            } else {
                ConfigChoice::Find
            },
            baseline: if args.suppress.no_baseline {
                BaselineChoice::Off
            } else if let Some(p) = &args.suppress.baseline {
                BaselineChoice::File(p.clone())
            } else {
                BaselineChoice::Auto
            },
            extra_rules: args.rules.extra.clone(),
            controls: controls(args)?,
            quiet: args.quiet,
            access_map: args.validation.access_map,
            remote,
            cache: cache_dir(&args.remote),
        })
    }
}

/// `--cache DIR`, else `KEYHOUND_CACHE`, unless `--no-cache`.
fn cache_dir(args: &crate::cli::RemoteArgs) -> Option<PathBuf> {
    if args.no_cache {
        return None;
    }
    args.cache.clone().or_else(|| {
        std::env::var_os("KEYHOUND_CACHE")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    })
}

fn controls(args: &ScanArgs) -> Result<crate::config::CommandLine> {
    let c = crate::config::CommandLine {
        exclude: args.suppress.exclude.clone(),
        disable_rules: args.suppress.disable_rule.clone(),
        only_rules: args.suppress.only_rule.clone(),
    };
    c.check().map_err(anyhow::Error::msg)?;
    Ok(c)
}

/// A scope's configuration: the chosen file (or none), `.gitleaks.toml` at the root when
/// configuration is looked for, and the command line's controls.
fn load_config(opts: &ScanOptions, found: Option<PathBuf>, root: &Path) -> Result<Config> {
    let config = match (&opts.config, found) {
        (ConfigChoice::None, _) => Config::default(),
        (ConfigChoice::File(p), _) => Config::load(p, false)?,
        (ConfigChoice::Find, Some(p)) => Config::load(&p, true)
            .with_context(|| format!("{}: pass --no-config to scan without it", p.display()))?,
        (ConfigChoice::Find, None) => Config::default(),
    };
    let mut config = config
        .with_command_line(&opts.controls, root)
        .map_err(anyhow::Error::msg)?;
    if matches!(opts.config, ConfigChoice::Find) {
        let toml = root.join(GITLEAKS_CONFIG);
        if toml.symlink_metadata().is_ok() {
            // Read like the repository's own configuration: inside it, bounded.
            crate::files::confine(&toml, root).with_context(|| {
                format!("{}: pass --no-config to scan without it", toml.display())
            })?;
            config.rules.push(toml);
        }
    }
    Ok(config)
}

/// A gitleaks configuration at a repository's root, used as gitleaks would use it.
pub const GITLEAKS_CONFIG: &str = ".gitleaks.toml";

fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Splits the scan into scopes, one per configuration (see `scope`), then one for each
/// repository target (each scanned on its own), keeping `--shard`'s share.
fn plan(opts: &ScanOptions, targets: &[Target]) -> Result<Vec<Scope>> {
    if !matches!(opts.mode, Mode::Paths) {
        return plan_diff(opts);
    }
    let shard = opts.remote.shard;
    let takes = |identity: &str| shard.is_none_or(|s| s.takes(identity));
    let mut paths = opts.paths.clone();
    if paths.is_empty() && !opts.stdin && !opts.remote.asked {
        paths.push(PathBuf::from("."));
    }
    paths.retain(|p| takes(&targets::path_identity(p)));
    let mut scopes: Vec<Scope> = Vec::new();
    for p in paths {
        let (root, found) = locate(opts, &p);
        // Paths under the same root share a scope; so do roots with nothing of their own
        // (no configuration, no baseline).
        let plain = found.is_none() && !root.join(BASELINE_FILE).exists();
        let same = |s: &Scope| s.root == root || (plain && s.plain);
        match scopes.iter_mut().find(|s| same(s)) {
            Some(s) => s.paths.push(p),
            None => scopes.push(Scope {
                config: load_config(opts, found, &root)?,
                root,
                paths: vec![p],
                stdin: false,
                repo: None,
                plain,
                remote: None,
            }),
        }
    }
    if opts.stdin {
        match scopes.first_mut() {
            Some(s) => s.stdin = true,
            None => {
                let (root, found) = match &opts.config {
                    ConfigChoice::Find => scope::find_config(Path::new(".")),
                    _ => (PathBuf::from("."), None),
                };
                scopes.push(Scope {
                    plain: found.is_none(),
                    config: load_config(opts, found, &root)?,
                    root,
                    paths: Vec::new(),
                    stdin: true,
                    repo: None,
                    remote: None,
                });
            }
        }
    }
    for t in targets.iter().filter(|t| takes(&t.identity())) {
        scopes.push(target_scope(opts, t)?);
    }
    Ok(scopes)
}

/// The root a PATH's configuration governs, and the configuration file found there.
fn locate(opts: &ScanOptions, p: &Path) -> (PathBuf, Option<PathBuf>) {
    match &opts.config {
        ConfigChoice::Find => scope::find_config(p),
        _ => (
            scope::normalize(&std::path::absolute(p).unwrap_or(p.to_path_buf())),
            None,
        ),
    }
}

/// The scope of one repository target. A remote repository's own configuration is not read
/// (`--config` applies); a local one's is, as for a PATH.
fn target_scope(opts: &ScanOptions, t: &Target) -> Result<Scope> {
    match t {
        Target::Local(p) => {
            let (root, found) = locate(opts, p);
            Ok(Scope {
                config: load_config(opts, found, &root)?,
                root,
                paths: vec![p.clone()],
                stdin: false,
                repo: None,
                plain: false,
                remote: None,
            })
        }
        Target::Remote { url, credential } => {
            let root = crate::remote::clone::clone_dir(&opts.remote.clone_dir, url);
            let config = match &opts.config {
                ConfigChoice::File(_) => load_config(opts, None, &root)?,
                _ => load_config(
                    &ScanOptions {
                        config: ConfigChoice::None,
                        ..opts.clone()
                    },
                    None,
                    &root,
                )?,
            };
            Ok(Scope {
                config,
                paths: vec![root.clone()],
                root,
                stdin: false,
                repo: None,
                plain: false,
                remote: Some(RemoteScope {
                    url: url.clone(),
                    credential: credential.clone(),
                    clone_root: opts.remote.clone_dir.clone(),
                }),
            })
        }
    }
}

/// The one scope of a staged or commit-range scan.
fn plan_diff(opts: &ScanOptions) -> Result<Vec<Scope>> {
    let location = opts.paths.first().map_or(Path::new("."), PathBuf::as_path);
    let repo = match opts.mode {
        Mode::Staged => diff::discover_for_hook(location)?,
        _ => diff::discover(location)?,
    };
    let root = repo
        .workdir()
        .map_or_else(|| repo.git_dir().to_path_buf(), Path::to_path_buf);
    let found = Some(root.join(crate::config::FILE_NAME)).filter(|p| p.symlink_metadata().is_ok());
    Ok(vec![Scope {
        config: load_config(opts, found, &root)?,
        root,
        paths: Vec::new(),
        stdin: false,
        repo: Some(repo.into_sync()),
        plain: false,
        remote: None,
    }])
}

/// A scope's findings after its minimum confidence, ignore files and baseline.
struct Suppressed {
    outcome: Outcome,
    baseline: Option<BaselineReport>,
    /// Warnings for stderr: ignore-file entries that could not be mapped, expired entries.
    notes: Vec<String>,
}

/// Applies `.gitleaksignore` and `.betterleaksignore` at the scope's root (unless
/// `--no-config`), counting what they suppress.
fn apply_ignore_files(
    scope: &Scope,
    opts: &ScanOptions,
    rules: &RuleSet,
    outcome: &mut Outcome,
    notes: &mut Vec<String>,
) -> Result<()> {
    if matches!(opts.config, ConfigChoice::None) {
        return Ok(());
    }
    let known = |id: &str| rules.get(id).is_some();
    let files = crate::migrate::IgnoreFiles::load(&scope.root, &known)?;
    notes.extend(files.warnings.iter().map(|w| format!("warning: {w}")));
    let cwd = std::env::current_dir().unwrap_or_default();
    let root = scope::normalize(&cwd.join(&scope.root));
    let rel = |f: &Finding| -> String {
        if let Some(h) = f.origin.history() {
            return h.path.clone();
        }
        if !matches!(f.origin, crate::finding::Origin::File { .. }) {
            return f.location.path.clone();
        }
        let abs = scope::normalize(&cwd.join(&f.location.path));
        abs.strip_prefix(&root)
            .map(|p| p.to_string_lossy().replace('\\', "/"))
            .unwrap_or_else(|_| f.location.path.clone())
    };
    outcome.summary.ignore_file = files.apply(&mut outcome.findings, &rel) as u64;
    Ok(())
}

/// Applies a scope's minimum confidence, ignore files and baseline.
fn suppress(
    scope: &Scope,
    opts: &ScanOptions,
    rules: &RuleSet,
    mut outcome: Outcome,
) -> Result<Suppressed> {
    let mut notes = Vec::new();
    let min = opts
        .min_confidence
        .or(scope.config.min_confidence)
        .unwrap_or(Confidence::Low);
    let before = outcome.findings.len();
    outcome.findings.retain(|f| f.confidence >= min);
    outcome.allowed.retain(|f| f.confidence >= min);
    outcome.summary.below_confidence = (before - outcome.findings.len()) as u64;
    outcome.summary.allowed = outcome.allowed.len() as u64;
    apply_ignore_files(scope, opts, rules, &mut outcome, &mut notes)?;
    let confined = scope.config.confined.then_some(scope.root.as_path());
    let path = match &opts.baseline {
        BaselineChoice::Off => None,
        BaselineChoice::File(p) => Some((p.clone(), None)),
        BaselineChoice::Auto => match &scope.config.baseline {
            Some(p) => Some((p.clone(), confined)),
            None => Some(scope.root.join(BASELINE_FILE))
                .filter(|p| p.symlink_metadata().is_ok())
                .map(|p| (p, Some(scope.root.as_path()))),
        },
    };
    let Some((path, inside)) = path else {
        return Ok(Suppressed {
            outcome,
            baseline: None,
            notes,
        });
    };
    let b = Baseline::load(&path, inside)?;
    let applied = b.apply(&mut outcome.findings, jiff::Zoned::now().date());
    let shown = crate::source::fs::display_path(&path);
    for e in &applied.expired {
        notes.push(format!(
            "warning: {shown}: baseline entry {e} expired on {}{}: it no longer suppresses",
            e.expires.as_deref().unwrap_or("?"),
            e.owner
                .as_deref()
                .map(|o| format!(" (owner {o})"))
                .unwrap_or_default()
        ));
    }
    outcome.summary.baselined = applied.suppressed as u64;
    // Stale entries mean something only when the scan saw all the baseline covers.
    let whole = matches!(opts.mode, Mode::Paths)
        && !opts.no_history
        && !opts.history_only
        && matches!(opts.history_scope, HistoryScope::AllRefs)
        && scope.paths.len() == 1
        && scope::normalize(&std::path::absolute(&scope.paths[0]).unwrap_or_default())
            == scope::normalize(&std::path::absolute(&scope.root).unwrap_or_default());
    Ok(Suppressed {
        outcome,
        baseline: Some(BaselineReport {
            path: shown,
            entries: b.len(),
            suppressed: applied.suppressed,
            stale: whole.then_some(applied.stale),
        }),
        notes,
    })
}

/// What the scopes gave, together.
pub struct Merged {
    pub findings: Vec<Finding>,
    pub summary: Summary,
    pub errors: Vec<SourceError>,
    /// Each scope's rules (reports look rules up by id in all of them).
    pub rules: Vec<Arc<RuleSet>>,
    pub notes: Vec<String>,
    pub details: Vec<String>,
    pub baselines: Vec<BaselineReport>,
    pub validation: Option<crate::validate::Stats>,
}

/// Runs every scope, validating each scope's findings with its own rules when asked.
/// `with_baseline` is false for `baseline create`.
pub fn run_scopes(
    opts: &ScanOptions,
    with_baseline: bool,
    validation: Option<&ValidationArgs>,
) -> Result<Merged> {
    let mut m = Merged {
        findings: Vec::new(),
        summary: Summary::default(),
        errors: Vec::new(),
        rules: Vec::new(),
        notes: Vec::new(),
        details: Vec::new(),
        baselines: Vec::new(),
        validation: None,
    };
    // Fails before any scanning, like an unreadable --ca-cert should.
    let mut validator = validation
        .map(super::validation::Validator::new)
        .transpose()?;
    let targets = opts.remote.expand(&mut m.notes)?;
    let scopes = plan(opts, &targets)?;
    let mut opts_here = opts.clone();
    if !with_baseline {
        opts_here.baseline = BaselineChoice::Off;
    }
    let runs = run_all(&scopes, opts, &opts_here);
    for run in runs {
        let (
            ScopeRun {
                rules,
                notes,
                details,
                ..
            },
            Suppressed {
                mut outcome,
                baseline,
                notes: suppress_notes,
            },
        ) = run?;
        if let Some(v) = validator.as_mut() {
            v.check(&rules, &mut outcome.findings, opts.quiet);
        }
        m.findings.extend(outcome.findings);
        m.summary.add(&outcome.summary);
        m.errors.extend(outcome.errors);
        m.notes.extend(notes);
        m.notes.extend(suppress_notes);
        m.details.extend(details);
        m.baselines.extend(baseline);
        m.rules.push(rules);
    }
    m.validation = validator.map(|v| v.stats);
    if scopes.len() > 1 {
        m.findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    }
    // Always in one order (as they read), so reports of shards merge into the report of one
    // run.
    m.errors.sort_by_cached_key(|e| e.to_string());
    Ok(m)
}

/// What one scope gave: its run, and its findings after suppression (the outcome of the run is
/// moved into the second).
type Ran = Result<(ScopeRun, Suppressed)>;

/// Runs every scope, several at once within the thread budget (see `schedule`). Scopes with
/// the same configuration share one rule set (loaded once, its warnings given once).
fn run_all(scopes: &[Scope], opts: &ScanOptions, opts_here: &ScanOptions) -> Vec<Ran> {
    let sets = RuleSets::default();
    super::schedule::run_all(
        scopes,
        opts.threads,
        opts.quiet,
        |_, s, prepared, threads, line| -> Ran {
            let mine = ScanOptions {
                threads,
                ..opts.clone()
            };
            let rules = sets.get(&mine, &s.config)?;
            let mut run = scope::run(s, prepared, &mine, Some(rules), line)?;
            let outcome = std::mem::replace(&mut run.outcome, empty_outcome());
            let suppressed = suppress(s, opts_here, &run.rules, outcome)?;
            Ok((run, suppressed))
        },
    )
}

/// Rule sets by what decides them (the configuration's file, rule files and rule controls).
#[derive(Default)]
struct RuleSets {
    by_config: std::sync::Mutex<HashMap<String, Arc<SharedSet>>>,
}

/// One rule set, loaded by the first scope that needs it; its loading notes go to that scope.
#[derive(Default)]
struct SharedSet {
    set: std::sync::OnceLock<Result<Arc<RuleSet>, String>>,
    notes: std::sync::Mutex<Option<Vec<String>>>,
}

impl RuleSets {
    fn get(&self, opts: &ScanOptions, config: &Config) -> Result<(Arc<RuleSet>, Vec<String>)> {
        let key = format!(
            "{:?}|{:?}|{:?}|{:?}",
            config.file, config.rules, config.disable_rules, config.only_rules
        );
        let shared = Arc::clone(
            self.by_config
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .entry(key)
                .or_default(),
        );
        let set = shared.set.get_or_init(|| {
            let mut notes = Vec::new();
            let set = scope::load_rules(opts, config, &mut notes);
            *shared.notes.lock().unwrap_or_else(|p| p.into_inner()) = Some(notes);
            set.map(Arc::new).map_err(|e| format!("{e:#}"))
        });
        let set = set.clone().map_err(anyhow::Error::msg)?;
        let notes = shared
            .notes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .unwrap_or_default();
        Ok((set, notes))
    }
}

fn empty_outcome() -> Outcome {
    Outcome {
        findings: Vec::new(),
        allowed: Vec::new(),
        summary: Summary::default(),
        errors: Vec::new(),
        warnings: Vec::new(),
    }
}

pub fn run(args: ScanArgs) -> Result<Exit> {
    let started = Instant::now();
    let started_at = jiff::Timestamp::now();
    let opts = ScanOptions::resolve(&args)?;
    let grouped = args.group_by.is_some();
    if grouped && !args.format.groups() {
        bail!("--group-by secret applies to the text, json and jsonl formats");
    }
    let output = Output::prepare(args.output.as_deref())?;
    // --only-valid needs the live checks: it implies --validate.
    let live = args.validation.validate || args.validation.only_valid || args.validation.access_map;
    let validation = live.then_some(&args.validation);
    let mut m = run_scopes(&opts, true, validation)?;
    for e in &m.errors {
        eprintln!("keyhound: {}", report::sanitize(&e.to_string()));
    }
    if args.validation.only_valid {
        m.findings.retain(|f| {
            f.validation
                .as_ref()
                .is_some_and(|v| v.state == LiveState::Valid)
        });
    }
    let color = use_color(args.color, output.is_stdout());
    let rep = Report {
        findings: &m.findings,
        summary: &m.summary,
        rules: &m.rules,
        show_secrets: args.show_secrets,
        color,
        baseline: m.baselines.first(),
        errors: &m.errors,
        grouped,
        started: started_at,
    };
    output.write(|w| report::write(args.format, &rep, w))?;
    print_summary(&opts, &m, started);
    Ok(exit_code(&m))
}

fn use_color(choice: ColorChoice, to_stdout: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            to_stdout
                && io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    }
}

fn print_summary(opts: &ScanOptions, m: &Merged, started: Instant) {
    let staged = matches!(opts.mode, Mode::Staged);
    // A clean pre-commit run says nothing.
    let s = &m.summary;
    let silent =
        staged && m.findings.is_empty() && s.errors == 0 && s.allowed == 0 && s.baselined == 0;
    if opts.quiet || silent {
        return;
    }
    for n in &m.notes {
        eprintln!("keyhound: {}", report::sanitize(n));
    }
    for n in &m.details {
        log::info!("{n}");
    }
    let what = match &opts.mode {
        Mode::Paths => summary::What::Paths,
        Mode::Staged => summary::What::Staged,
        Mode::Range(_) => summary::What::Range,
    };
    let line = summary::line(&summary::Facts {
        what,
        summary: s,
        findings: m.findings.len(),
        baselines: &m.baselines,
        seconds: started.elapsed().as_secs_f64(),
        max_size: opts.max_file_size,
        validation: m.validation.as_ref(),
        access_map: opts.access_map,
    });
    eprintln!("{line}");
    if staged && !m.findings.is_empty() {
        eprintln!(
            "keyhound: commit blocked: remove the secret from the staged changes, or mark a \
             false positive with a `keyhound:allow` comment on its line"
        );
    }
}

fn exit_code(m: &Merged) -> Exit {
    let live = m.findings.iter().any(|f| {
        f.validation
            .as_ref()
            .is_some_and(|v| v.state == LiveState::Valid)
    });
    if m.summary.errors > 0 {
        Exit::Error
    } else if live {
        Exit::Live
    } else if m.findings.is_empty() {
        Exit::Clean
    } else {
        Exit::Findings
    }
}
