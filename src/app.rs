//! One command-line run: resolves options, loads rules, drives a source through the scanner
//! and hands the outcome to a reporter. Errors get their context here (`anyhow`).

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context as _, Result};

use crate::cli::{
    BaselineCommand, Cli, ColorChoice, Command, HookCommand, RuleArgs, RulesCommand, ScanArgs,
    ValidationArgs,
};
use crate::config::{self, Config};
use crate::finding::{Confidence, Finding, LiveState, UnknownReason};
use crate::hook;
use crate::matcher::Matcher;
use crate::progress;
use crate::report::{self, BaselineReport, Format, Report};
use crate::rules::{self, RuleSet};
use crate::scan::{HistoryFacts, Outcome, Scanner, Summary};
use crate::source::git::diff::{self, DiffOptions, RangeSpec};
use crate::source::git::history::{self, HistoryOptions, Scope};
use crate::source::{self, Event};
use crate::suppress::{self, Baseline};
use crate::validate;

/// How a run ended; `main` maps it to the process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Nothing found.
    Clean = 0,
    /// Findings were reported.
    Findings = 1,
    /// Something went wrong; wins over everything else.
    Error = 2,
    /// At least one finding was confirmed live (`--validate`).
    Live = 3,
}

pub fn run(cli: Cli) -> Result<Exit> {
    match cli.command {
        Command::Scan(args) => scan(*args),
        Command::Rules(RulesCommand::List { rules, json }) => rules_list(&rules, json),
        Command::Rules(RulesCommand::Check { paths }) => rules_check(&paths),
        Command::Baseline(BaselineCommand::Create(args)) => baseline_create(*args),
        Command::Hook(cmd) => hook(cmd),
    }
}

fn load_rules(args: &RuleArgs, quiet: bool) -> Result<RuleSet> {
    let set = RuleSet::with_user_rules(&args.extra).context("cannot load rules")?;
    if !quiet {
        report_imports(&set, true);
    }
    Ok(set)
}

/// Tells what importing gitleaks configs left out: every warning (skipped rules too when
/// `with_skipped`), then one summary line per file.
fn report_imports(set: &RuleSet, with_skipped: bool) {
    for imp in &set.imports {
        for w in &imp.warnings {
            if with_skipped || w.effect != rules::gitleaks::Effect::Skipped {
                eprintln!("keyhound: warning: {}", report::sanitize(&w.to_string()));
            }
        }
        let skipped = imp.skipped().count();
        eprintln!(
            "keyhound: {}: imported {} of {} gitleaks rule{}{}",
            report::sanitize(&imp.file),
            imp.imported,
            imp.rules_total,
            if imp.rules_total == 1 { "" } else { "s" },
            match skipped {
                0 => String::new(),
                n => format!(" ({n} skipped)"),
            }
        );
    }
}

/// Where the content of a scan comes from.
enum Mode {
    /// Files, directories and stdin.
    Paths,
    /// The index against HEAD.
    Staged,
    /// The commits of a range, each against its first parent.
    Range(RangeSpec),
}

impl Mode {
    fn of(args: &ScanArgs) -> Mode {
        if args.diff.staged {
            Mode::Staged
        } else if let Some(r) = &args.diff.since_commit {
            Mode::Range(RangeSpec::SinceCommit(r.clone()))
        } else if let Some(r) = &args.diff.range {
            Mode::Range(RangeSpec::Range(r.clone()))
        } else {
            Mode::Paths
        }
    }
}

/// A finished scan before baseline, validation and reporting.
struct ScanRun {
    outcome: Outcome,
    set: Arc<RuleSet>,
    config: Config,
    mode: Mode,
    /// Notes for stderr (history statistics, shallow clones).
    notes: Vec<String>,
}

/// Resolves the configuration, loads the rules and runs the scan `args` describe. Findings
/// below the minimum confidence are already dropped (from `allowed` too, so the counts agree).
fn run_scan(args: &ScanArgs, quiet: bool) -> Result<ScanRun> {
    let mode = Mode::of(args);
    // Diff modes open the repository first: its root is where the configuration lives.
    let repo = match &mode {
        Mode::Paths => None,
        _ => {
            let location = match args.paths.as_slice() {
                [p] if p.as_os_str() != "-" => p,
                _ => bail!(
                    "--staged, --since-commit and --range take at most one PATH: a directory \
                     inside the repository"
                ),
            };
            Some(if matches!(mode, Mode::Staged) {
                diff::discover_for_hook(location)?
            } else {
                diff::discover(location)?
            })
        }
    };
    let config = if args.suppress.no_config {
        Config::default()
    } else if let Some(p) = &args.suppress.config {
        Config::load(p)?
    } else {
        let found = match &repo {
            Some(r) => r
                .workdir()
                .map(|w| w.join(config::FILE_NAME))
                .filter(|p| p.is_file()),
            None => Config::find(
                args.paths
                    .iter()
                    .find(|p| p.as_os_str() != "-")
                    .map_or(Path::new("."), PathBuf::as_path),
            ),
        };
        found
            .map(|p| Config::load(&p))
            .transpose()?
            .unwrap_or_default()
    };

    let mut extra = args.rules.extra.clone();
    extra.extend(config.rules.iter().cloned());
    let mut set = RuleSet::with_user_rules(&extra).context("cannot load rules")?;
    if !quiet {
        report_imports(&set, true);
    }
    for d in config.disable(&mut set) {
        if !quiet {
            eprintln!(
                "keyhound: warning: {}:{}: disable_rules: `{}` matches no rule",
                config.file.as_deref().unwrap_or(Path::new("?")).display(),
                d.line,
                report::sanitize(&d.pattern)
            );
        }
    }
    let set = Arc::new(set);
    let matcher = Matcher::new(Arc::clone(&set))?;
    let scanner = Scanner::new(matcher).with_allow_comments(!args.suppress.no_allow_comments);
    let threads = args.threads.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });

    let (mut outcome, notes) = match (&mode, &repo) {
        (Mode::Paths, _) => {
            let (mut o, notes) = scan_paths(args, scanner, &config, threads)?;
            // Files on disk were excluded by the walk; findings located in git history (at
            // their path in a commit, relative to the repository root) are excluded here.
            if config.exclude.is_some() {
                let in_history = |f: &Finding| {
                    f.provenance.as_ref().and_then(|p| p.path.as_deref())
                        == Some(f.location.path.as_str())
                };
                for list in [&mut o.findings, &mut o.allowed] {
                    list.retain(|f| !(in_history(f) && config.excludes(&f.location.path)));
                }
            }
            (o, notes)
        }
        (_, Some(repo)) => {
            let exclude = |p: &str| config.excludes(p);
            let opts = DiffOptions {
                max_file_size: args.max_file_size,
                allow_comments: scanner.allow_comments(),
                exclude: config
                    .exclude
                    .is_some()
                    .then_some(&exclude as &dyn Fn(&str) -> bool),
            };
            let d = match &mode {
                Mode::Range(spec) => diff::range(repo, spec, &scanner, &opts)?,
                _ => diff::staged(repo, &scanner, &opts)?,
            };
            let mut o = scanner.finish().into_outcome(None);
            o.findings = d.findings;
            o.allowed = d.allowed;
            o.summary.commits = d.commits;
            (o, Vec::new())
        }
        (_, None) => unreachable!("diff modes open a repository"),
    };
    let min: Confidence = args
        .min_confidence
        .map(Into::into)
        .or(config.min_confidence)
        .unwrap_or(Confidence::Low);
    outcome.findings.retain(|f| f.confidence >= min);
    outcome.allowed.retain(|f| f.confidence >= min);
    outcome.summary.allowed = outcome.allowed.len() as u64;
    for e in &outcome.errors {
        eprintln!("keyhound: {}", report::sanitize(&e.to_string()));
    }
    Ok(ScanRun {
        outcome,
        set,
        config,
        mode,
        notes,
    })
}

/// Scans files, directories and stdin, and the history of repositories among the paths.
/// Returns the outcome and notes for stderr.
fn scan_paths(
    args: &ScanArgs,
    scanner: Scanner,
    config: &Config,
    threads: usize,
) -> Result<(Outcome, Vec<String>)> {
    let (stdin, paths): (Vec<&PathBuf>, Vec<&PathBuf>) =
        args.paths.iter().partition(|p| p.as_os_str() == "-");
    if !stdin.is_empty() {
        let mut buf = Vec::new();
        io::stdin()
            .lock()
            .read_to_end(&mut buf)
            .context("cannot read stdin")?;
        let mut scratch = scanner.scratch();
        scanner.handle(
            Event::Blob {
                path: "<stdin>",
                bytes: &buf,
            },
            &mut scratch,
        );
    }

    // Repositories among the paths get their history scanned too.
    let mut repos: Vec<(PathBuf, gix::Repository)> = Vec::new();
    if !args.history.no_history {
        for p in &paths {
            if source::git::is_repository(p) {
                match source::git::open(p) {
                    Ok(repo) => repos.push(((*p).clone(), repo)),
                    Err(e) => scanner.error(source::SourceError {
                        path: p.display().to_string(),
                        message: e.to_string(),
                    }),
                }
            } else if args.history.history_only {
                scanner.error(source::SourceError {
                    path: p.display().to_string(),
                    message: "--history-only needs a git repository".into(),
                });
            }
        }
    }

    // Working trees (not bare repositories: their files are git's own).
    let tree_paths: Vec<PathBuf> = if args.history.history_only {
        Vec::new()
    } else {
        paths
            .iter()
            .filter(|p| {
                !repos
                    .iter()
                    .any(|(rp, r)| rp == **p && r.workdir().is_none())
            })
            .map(|p| (*p).clone())
            .collect()
    };
    let exclude = exclude_filter(config)?;
    let history_opts = HistoryOptions {
        scope: match &args.history.branch {
            Some(b) => Scope::Rev(b.clone()),
            None => Scope::AllRefs,
        },
        all_objects: args.history.all_objects,
        max_blob_size: args.max_file_size,
        threads,
    };
    let started_scan = Instant::now();
    let inventories = progress::with_progress(scanner.stats(), !args.quiet, || {
        if !tree_paths.is_empty() {
            let opts = source::fs::WalkOptions {
                respect_ignore: !args.no_ignore,
                follow_links: args.follow,
                max_file_size: args.max_file_size,
                threads,
                exclude: exclude.clone(),
            };
            source::fs::walk(&tree_paths, &opts, || {
                let mut scratch = scanner.scratch();
                let scanner = &scanner;
                move |event| scanner.handle(event, &mut scratch)
            });
        }

        let mut inventories = Vec::new();
        if !repos.is_empty() {
            // History means large inputs: build the keyword DFA now rather than after a megabyte.
            scanner.prime();
        }
        for (path, repo) in &repos {
            // Cloned for each of gix's worker threads, so each has its own matcher scratch.
            let visitor = {
                let mut scratch = scanner.scratch();
                let scanner = &scanner;
                move |event: Event<'_>| scanner.handle(event, &mut scratch)
            };
            match history::scan_objects(repo, &history_opts, visitor) {
                Ok(inv) => inventories.push((path.clone(), inv)),
                Err(e) => scanner.error(source::SourceError {
                    path: path.display().to_string(),
                    message: e.to_string(),
                }),
            }
        }
        inventories
    });
    let scan_secs = started_scan.elapsed().as_secs_f64();

    let scanned = scanner.finish();
    let mut notes: Vec<String> = Vec::new();
    let mut facts: Option<HistoryFacts> = None;
    let mut history_errors = Vec::new();
    if !repos.is_empty() {
        let wanted = scanned.blob_ids();
        let mut merged = HistoryFacts {
            include_unreachable: history_opts.all_objects,
            ..HistoryFacts::default()
        };
        for ((path, repo), (_, inv)) in repos.iter().zip(&inventories) {
            let submodules = history::submodules_at_head(repo);
            if submodules > 0 {
                notes.push(format!(
                    "{}: {submodules} submodule{} not followed (scan {} separately)",
                    path.display(),
                    if submodules == 1 { " is" } else { "s are" },
                    if submodules == 1 { "it" } else { "them" },
                ));
            }
            if inv.shallow {
                notes.push(format!(
                    "{}: shallow clone, history before its shallow boundary is not available",
                    path.display()
                ));
            }
            if let Some(partial) = &inv.partial {
                notes.push(format!("{}: {partial}", path.display()));
            }
            match history::provenance(repo, inv, &wanted, &history_opts) {
                Ok((f, stats)) => {
                    notes.push(format!(
                        "{}: history of {} commits ({} packs, {} loose objects); scanning took {:.2}s, provenance for {} blobs {:.2}s",
                        path.display(),
                        inv.commit_count(),
                        inv.packs,
                        inv.loose,
                        scan_secs,
                        wanted.len(),
                        stats.seconds,
                    ));

                    for (id, p) in f.placements {
                        let keep = merged
                            .placements
                            .get(&id)
                            .is_none_or(|old| old.commit.is_none() && p.commit.is_some());
                        if keep {
                            merged.placements.insert(id, p);
                        }
                    }
                    merged.head_blobs.extend(f.head_blobs);
                }
                Err(e) => history_errors.push(source::SourceError {
                    path: path.display().to_string(),
                    message: e.to_string(),
                }),
            }
        }
        facts = Some(merged);
    }
    let mut outcome = scanned.into_outcome(facts.as_ref());
    outcome.summary.commits += inventories
        .iter()
        .map(|(_, inv)| inv.commit_count() as u64)
        .sum::<u64>();
    outcome.summary.errors += history_errors.len() as u64;
    outcome.errors.extend(history_errors);
    Ok((outcome, notes))
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
fn normalize(p: &Path) -> PathBuf {
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

fn scan(args: ScanArgs) -> Result<Exit> {
    let started = Instant::now();
    let ScanRun {
        outcome:
            Outcome {
                mut findings,
                allowed: _,
                mut summary,
                errors: _,
            },
        set,
        config,
        mode,
        notes,
    } = run_scan(&args, args.quiet)?;

    let baseline_path = args.suppress.baseline.clone().or(config.baseline.clone());
    let baseline = match &baseline_path {
        Some(p) => {
            let b = Baseline::load(p)?;
            let applied = b.apply(&mut findings);
            summary.baselined = applied.suppressed as u64;
            Some(BaselineReport {
                path: p.display().to_string(),
                entries: b.len(),
                suppressed: applied.suppressed,
                stale: matches!(mode, Mode::Paths).then_some(applied.stale),
            })
        }
        None => None,
    };

    // The network is touched here and only here, and only when asked.
    let validation = if args.validation.validate {
        Some(run_validation(
            &args.validation,
            &set,
            &mut findings,
            args.verbose,
            args.quiet,
        )?)
    } else {
        None
    };
    if args.validation.only_valid {
        findings.retain(|f| {
            f.validation
                .as_ref()
                .is_some_and(|v| v.state == LiveState::Valid)
        });
    }

    let to_terminal = args.output.is_none() && io::stdout().is_terminal();
    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            to_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    };
    let rep = Report {
        findings: &findings,
        summary: &summary,
        rules: &set,
        show_secrets: args.show_secrets,
        color,
        baseline: baseline.as_ref(),
    };
    write_report(args.format, &rep, args.output.as_deref())?;

    let staged = matches!(mode, Mode::Staged);
    // A clean pre-commit run says nothing.
    let silent_when_clean = staged
        && findings.is_empty()
        && summary.errors == 0
        && summary.allowed == 0
        && summary.baselined == 0;
    if !args.quiet && !silent_when_clean {
        for n in &notes {
            eprintln!("keyhound: {}", report::sanitize(n));
        }
        let mut line = summary_line(
            &mode,
            summary.commits > 0,
            &summary,
            findings.len(),
            baseline.as_ref(),
            started.elapsed().as_secs_f64(),
            args.max_file_size,
        );
        if let Some(v) = &validation {
            line.push_str(&format!(
                "; validated {} unique secret{} with {} request{}: {} valid, {} invalid, {} unknown",
                v.checked,
                if v.checked == 1 { "" } else { "s" },
                v.requests,
                if v.requests == 1 { "" } else { "s" },
                v.valid,
                v.invalid,
                v.unknown
            ));
        }
        eprintln!("{line}");
        if staged && !findings.is_empty() {
            eprintln!(
                "keyhound: commit blocked: remove the secret from the staged changes, or mark a \
                 false positive with a `keyhound:allow` comment on its line"
            );
        }
    }
    let live = findings.iter().any(|f| {
        f.validation
            .as_ref()
            .is_some_and(|v| v.state == LiveState::Valid)
    });
    Ok(if summary.errors > 0 {
        Exit::Error
    } else if live {
        Exit::Live
    } else if findings.is_empty() {
        Exit::Clean
    } else {
        Exit::Findings
    })
}

fn baseline_create(args: ScanArgs) -> Result<Exit> {
    if args.suppress.baseline.is_some() {
        bail!("`baseline create` records every current finding; it does not take --baseline");
    }
    if args.format != Format::Text || args.show_secrets || args.validation.validate {
        bail!(
            "`baseline create` writes YAML; --format, --show-secrets and --validate do not apply"
        );
    }
    let scanned = run_scan(&args, args.quiet)?;
    let findings = &scanned.outcome.findings;
    let (text, entries) = suppress::render_baseline(findings);
    match &args.output {
        Some(path) => std::fs::write(path, &text)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => {
            let stdout = io::stdout();
            let mut w = stdout.lock();
            match w.write_all(text.as_bytes()).and_then(|_| w.flush()) {
                Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
                    return Err(e).context("cannot write the baseline")
                }
                _ => {}
            }
        }
    }
    if !args.quiet {
        eprintln!(
            "keyhound: baseline of {} finding{} ({} entr{}){}",
            findings.len(),
            if findings.len() == 1 { "" } else { "s" },
            entries,
            if entries == 1 { "y" } else { "ies" },
            args.output
                .as_ref()
                .map(|p| format!(" written to {}", p.display()))
                .unwrap_or_default()
        );
    }
    Ok(if scanned.outcome.summary.errors > 0 {
        Exit::Error
    } else {
        Exit::Clean
    })
}

fn hook(cmd: HookCommand) -> Result<Exit> {
    match cmd {
        HookCommand::Install { force, chain, path } => {
            let mode = if force {
                hook::Existing::Replace
            } else if chain {
                hook::Existing::Chain
            } else {
                hook::Existing::Refuse
            };
            let done = hook::install(&path, mode)?;
            eprintln!("keyhound: {done}");
        }
        HookCommand::Uninstall { path } => {
            let done = hook::uninstall(&path)?;
            eprintln!("keyhound: {done}");
        }
    }
    Ok(Exit::Clean)
}

/// The validation phase: builds the one HTTP client of the run and checks every finding.
fn run_validation(
    args: &ValidationArgs,
    set: &RuleSet,
    findings: &mut [Finding],
    verbose: u8,
    quiet: bool,
) -> Result<validate::Stats> {
    let mut extra_ca = Vec::new();
    for path in &args.ca_cert {
        let pem = std::fs::read(path)
            .with_context(|| format!("cannot read --ca-cert {}", path.display()))?;
        let certs = validate::read_pem_certificates(&pem)
            .map_err(anyhow::Error::msg)
            .with_context(|| format!("--ca-cert {}", path.display()))?;
        extra_ca.extend(certs);
    }
    if findings.is_empty() {
        return Ok(validate::Stats::default());
    }
    let transport = validate::UreqTransport::new(&validate::ClientOptions {
        timeout: args.validation_timeout,
        connect_to: args.connect_to.clone(),
        extra_ca,
        env_proxy: true,
    });
    let opts = validate::Options {
        concurrency: usize::from(args.validation_concurrency),
        per_host_rate: args.validation_rate,
        retries: args.validation_retries,
        max_requests_per_provider: args.max_validation_requests,
        allowed_hosts: args.allow_validation_host.clone(),
        ..validate::Options::default()
    };
    let log = |level: u8, msg: &str| {
        if level <= verbose {
            eprintln!("keyhound: {}", report::sanitize(msg));
        }
    };
    let stats = validate::validate_findings(set, findings, &transport, &opts, &log);
    if !quiet {
        let mut refused: Vec<(&str, &str)> = findings
            .iter()
            .filter_map(|f| match f.validation.as_ref()?.reason.as_ref()? {
                UnknownReason::HostNotAllowed(h) => Some((f.rule_id.as_str(), h.as_str())),
                _ => None,
            })
            .collect();
        refused.sort_unstable();
        refused.dedup();
        for (rule, host) in refused {
            eprintln!(
                "keyhound: rule {rule} is not built in, so it may not send secrets to {host}; \
                 pass --allow-validation-host {host} to allow it"
            );
        }
    }
    Ok(stats)
}

/// Writes the report; a closed pipe (`keyhound scan | head`) is not an error.
fn write_report(format: Format, rep: &Report<'_>, output: Option<&Path>) -> Result<()> {
    let result = match output {
        Some(path) => {
            let file =
                File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
            let mut w = BufWriter::new(file);
            report::write(format, rep, &mut w)
                .and_then(|_| w.flush())
                .with_context(|| format!("cannot write {}", path.display()))
        }
        None => {
            let stdout = io::stdout();
            let mut w = BufWriter::new(stdout.lock());
            match report::write(format, rep, &mut w).and_then(|_| w.flush()) {
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
                other => other.context("cannot write the report"),
            }
        }
    };
    result
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn summary_line(
    mode: &Mode,
    history: bool,
    s: &Summary,
    findings: usize,
    baseline: Option<&BaselineReport>,
    secs: f64,
    max_size: u64,
) -> String {
    let what = match mode {
        Mode::Paths if history => plural(s.items, "file and git object", "files and git objects"),
        Mode::Paths => plural(s.items, "file", "files"),
        Mode::Staged => plural(s.items, "staged file", "staged files"),
        Mode::Range(_) => format!(
            "{} of {}",
            plural(s.items, "changed file", "changed files"),
            plural(s.commits, "commit", "commits")
        ),
    };
    let mut line = format!(
        "keyhound: {} in {} ({}) in {:.2}s",
        match findings {
            0 => "no secrets found".to_string(),
            1 => "1 finding".to_string(),
            n => format!("{n} findings"),
        },
        what,
        human_bytes(s.bytes),
        secs
    );
    let mut skipped = Vec::new();
    let dups = s
        .items
        .saturating_sub(s.blobs + s.skipped_binary + s.skipped_large);
    if matches!(mode, Mode::Paths) && dups > 0 {
        skipped.push(format!(
            "{} scanned once",
            plural(dups, "duplicate", "duplicates")
        ));
    }
    if s.skipped_binary > 0 {
        skipped.push(format!("{} binary skipped", s.skipped_binary));
    }
    if s.skipped_large > 0 {
        skipped.push(format!(
            "{} larger than {} skipped (--max-file-size)",
            s.skipped_large,
            human_bytes(max_size)
        ));
    }
    if s.allowed > 0 {
        skipped.push(format!("{} allowed by comment", s.allowed));
    }
    if let Some(b) = baseline {
        skipped.push(format!("{} baselined", b.suppressed));
        if let Some(stale) = &b.stale {
            if !stale.is_empty() {
                skipped.push(format!(
                    "{} in {} (regenerate with `keyhound baseline create`)",
                    plural(
                        stale.len() as u64,
                        "stale baseline entry",
                        "stale baseline entries"
                    ),
                    b.path
                ));
            }
        }
    }
    if s.errors > 0 {
        skipped.push(plural(s.errors, "error", "errors"));
    }
    if !skipped.is_empty() {
        line.push_str("; ");
        line.push_str(&skipped.join(", "));
    }
    line
}

fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

fn rules_list(args: &RuleArgs, json: bool) -> Result<Exit> {
    let set = load_rules(args, false)?;
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let result = if json {
        let rows: Vec<serde_json::Value> = set
            .rules
            .iter()
            .map(|r| {
                serde_json::json!({
                    "id": r.id,
                    "name": r.name,
                    "provider": r.provider,
                    "confidence": r.confidence,
                    "keywords": r.keywords,
                    "rotate": r.rotate,
                    "validation": r.validate.as_ref().map(|v| {
                        let (method, url) = v.describe_request();
                        serde_json::json!({ "method": method, "url": url, "host": v.host })
                    }),
                    "source": r.origin.file,
                })
            })
            .collect();
        serde_json::to_writer_pretty(&mut out, &rows)
            .map_err(io::Error::from)
            .and_then(|_| writeln!(out))
    } else {
        let w = set
            .rules
            .iter()
            .map(|r| r.id.len())
            .max()
            .unwrap_or(2)
            .max(2);
        let pw = set
            .rules
            .iter()
            .map(|r| r.provider.len())
            .max()
            .unwrap_or(8)
            .max(8);
        (|| {
            writeln!(
                out,
                "{:w$}  {:pw$}  {:10}  NAME",
                "ID", "PROVIDER", "CONFIDENCE"
            )?;
            for r in &set.rules {
                writeln!(
                    out,
                    "{:w$}  {:pw$}  {:10}  {}",
                    r.id,
                    r.provider,
                    r.confidence.as_str(),
                    r.name
                )?;
            }
            writeln!(out, "{} rules", set.rules.len())
        })()
    };
    match result.and_then(|_| out.flush()) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(Exit::Clean),
    }
}

fn rules_check(paths: &[PathBuf]) -> Result<Exit> {
    let set = Arc::new(RuleSet::with_user_rules_and(paths, true).context("cannot load rules")?);
    // Skipped rules come out below as problems.
    report_imports(&set, false);
    let only_user = !paths.is_empty();
    let checked = set
        .rules
        .iter()
        .filter(|r| !only_user || !r.origin.builtin)
        .count();
    let problems = rules::check::check(Arc::clone(&set), |r| !only_user || !r.origin.builtin)?;
    for p in &problems {
        println!("{p}");
    }
    if problems.is_empty() {
        eprintln!("keyhound: {checked} rules checked, all examples pass");
        Ok(Exit::Clean)
    } else {
        eprintln!(
            "keyhound: {checked} rules checked, {} problem{}",
            problems.len(),
            if problems.len() == 1 { "" } else { "s" }
        );
        Ok(Exit::Error)
    }
}
