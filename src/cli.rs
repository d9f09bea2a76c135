//! Command-line syntax (clap derive). Parsing only: `app` turns these into a run.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::finding::Confidence;
use crate::report::Format;
use crate::validate::ConnectTo;

pub const EXIT_CODES: &str = "\
Exit codes:
  0  no findings
  1  findings were reported (none confirmed live)
  2  an error occurred (bad arguments, unreadable rules, a file or object that could not be
     read); an error wins over findings
  3  at least one finding was confirmed live by `scan --validate`";

#[derive(Debug, Parser)]
#[command(
    name = "keyhound",
    version,
    about = "Find leaked API keys and secrets in files, git history, staged changes and commit ranges",
    long_about = "Find leaked API keys and secrets in files, directories, stdin, git history, \
        staged changes and commit ranges.\n\n\
        keyhound matches provider key formats (OpenAI, Anthropic, AWS, GitHub, Google, Slack, \
        Stripe, ...) and high-entropy generic secrets, redacts them in its output and tells you \
        where to rotate each one.",
    after_help = EXIT_CODES,
    propagate_version = true,
    args_override_self = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan files and directories, stdin (`-`), staged changes or commit ranges for secrets
    #[command(after_help = SCAN_HELP)]
    Scan(Box<ScanArgs>),
    /// List the rules in effect, or check rule files against their own examples
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Record the current findings in a baseline, so that only new ones are reported
    #[command(subcommand)]
    Baseline(BaselineCommand),
    /// Install or remove the git pre-commit hook that runs `keyhound scan --staged`
    #[command(subcommand)]
    Hook(HookCommand),
    /// Print a shell completion script
    #[command(after_help = COMPLETIONS_HELP)]
    Completions {
        /// The shell to complete for
        #[arg(value_enum, ignore_case = true)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), for `man -l -` or to install as keyhound.1
    #[command(after_help = MAN_HELP)]
    Man {
        /// A command to print the page of (`scan` → keyhound-scan.1) instead of the main page
        #[arg(value_name = "COMMAND")]
        command: Option<String>,
    },
    /// Revoke found keys at their provider, asking before each one (GitHub, Slack); say where
    /// to revoke the others
    #[command(
        after_help = REVOKE_HELP,
        mut_arg("format", |a| a.hide(true)),
        mut_arg("output", |a| a.hide(true)),
        mut_arg("baseline", |a| a.hide(true)),
        mut_arg("color", |a| a.hide(true)),
        mut_arg("verbose", |a| a.hide(true)),
        mut_arg("validate", |a| a.hide(true)),
        mut_arg("access_map", |a| a.hide(true)),
        mut_arg("only_valid", |a| a.hide(true)),
        mut_arg("allow_validation_host", |a| a.hide(true)),
        mut_arg("validation_concurrency", |a| a.hide(true)),
        mut_arg("validation_rate", |a| a.hide(true)),
        mut_arg("validation_retries", |a| a.hide(true)),
        mut_arg("max_validation_requests", |a| a.hide(true))
    )]
    Revoke(Box<RevokeArgs>),
    /// Combine the JSON, JSON Lines or SARIF reports of several scans (shards) into one
    #[command(after_help = MERGE_HELP)]
    Merge(MergeArgs),
}

const MERGE_HELP: &str = "\
Findings are de-duplicated (by rule, fingerprint, location and commit) and put in the order a
single scan would give; the summaries are added up and every report's errors are kept. The
reports must all be in one format (the format is read from their content), and the merged
report is written in it.

Examples:
  keyhound scan --repos repos.txt --shard 1/3 -f json -o shard-1.json   # on each machine
  keyhound merge shard-*.json -o audit.json";

/// `keyhound merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The reports to combine (JSON, JSON Lines or SARIF, all the same)
    #[arg(value_name = "REPORT", required = true)]
    pub reports: Vec<PathBuf>,

    /// Write the merged report to FILE instead of stdout
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

const REVOKE_HELP: &str = "\
Scans like `keyhound scan`, then for each key found asks whether to revoke it:
  GitHub tokens (ghp_, github_pat_, gho_, ghu_, ghr_) through GitHub's credential-revocation
  API, which also tells the token's owner; Slack tokens (xoxb-, xoxp-) with Slack's auth.revoke.
For other keys it prints where to revoke them. Nothing is revoked without a `y` for that key,
or --yes. A revoked key cannot be brought back.

Examples:
  keyhound revoke leaked.env
  keyhound revoke --history-only --yes .";

/// `keyhound revoke`: the scan that finds the keys, and whether to ask.
#[derive(Debug, Args)]
pub struct RevokeArgs {
    /// Revoke every key that can be revoked without asking (for scripts)
    #[arg(long)]
    pub yes: bool,

    #[command(flatten)]
    pub scan: ScanArgs,
}

const COMPLETIONS_HELP: &str = "\
Examples:
  keyhound completions bash > ~/.local/share/bash-completion/completions/keyhound
  keyhound completions zsh > ~/.zfunc/_keyhound      # with fpath+=(~/.zfunc) in .zshrc
  keyhound completions fish > ~/.config/fish/completions/keyhound.fish
  keyhound completions powershell >> $PROFILE
  keyhound completions elvish >> ~/.config/elvish/rc.elv";

const MAN_HELP: &str = "\
Examples:
  keyhound man | man -l -                 read it now
  keyhound man > ~/.local/share/man/man1/keyhound.1
  keyhound man scan > ~/.local/share/man/man1/keyhound-scan.1";

const SCAN_HELP: &str = "\
Examples:
  keyhound scan                      scan the current directory
  keyhound scan src config.yml       scan some paths
  cat notes.txt | keyhound scan -    scan stdin
  keyhound scan --staged             scan what is staged for commit (pre-commit)
  keyhound scan --since-commit origin/main -f sarif -o keyhound.sarif
  keyhound scan --baseline .keyhound-baseline.yaml
  keyhound scan --validate           also check which keys still work
  keyhound scan --access-map         and map what each live key can reach
  keyhound scan --exclude 'vendor/' --exclude '*.min.js'
  keyhound scan --only-rule 'aws.*' --disable-rule aws.access-key-id
  keyhound scan --group-by secret    one entry per secret, with every place it is
  keyhound scan -f github            annotations in a GitHub Actions log
  keyhound scan -f gitlab -o gl-secret-detection-report.json
  keyhound scan -vv                  also log skipped files (binary, too large)
  keyhound scan https://github.com/o/r.git   clone (or fetch) a repository, audit its history
  keyhound scan --github-org o --cache ~/.cache/keyhound/scans   every repository of an org;
                                     re-scans read only what is new
  keyhound scan --repos repos.txt --shard 2/4 -f json -o 2.json   one machine's share

Validation (--validate) sends each found secret, over HTTPS, to the provider that issued it
(the hosts its built-in rule declares) and nowhere else; the README lists what is sent where.
--access-map adds a few read-only requests per live key (at most 12, documented per rule).
Without --validate or --access-map keyhound makes no network connection, except to clone or
fetch the remote repositories it is given (with git) and to list --github-org, --github-user
and --gitlab-group repositories.

Configuration is read from .keyhound.yaml at the repository root (or --config FILE); a
.gitleaks.toml there adds its rules, and .gitleaksignore and .betterleaksignore entries are
honoured (see the README's \"Coming from gitleaks\").

Exit codes:
  0  no findings
  1  findings were reported (none confirmed live)
  2  an error occurred (an error wins over everything else)
  3  at least one finding was confirmed live (only with --validate)";

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Files, directories or git URLs to scan; `-` reads stdin [default: .]
    #[arg(value_name = "PATH|URL")]
    pub paths: Vec<PathBuf>,

    /// Output format (any case)
    #[arg(short, long, value_enum, ignore_case = true, default_value_t = Format::Text)]
    pub format: Format,

    /// One entry per secret with every place it was found (text, json and jsonl)
    #[arg(long, value_enum, value_name = "WHAT")]
    pub group_by: Option<GroupBy>,

    /// Write the report to FILE instead of stdout
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Print secrets in full instead of a redacted prefix and length
    #[arg(long)]
    pub show_secrets: bool,

    /// Only report findings of at least this confidence [default: low, or the configuration's]
    #[arg(long, value_enum, value_name = "LEVEL")]
    pub min_confidence: Option<MinConfidence>,

    #[command(flatten)]
    pub rules: RuleArgs,

    /// Scan files that .gitignore, .ignore and git's exclude files would skip
    #[arg(long)]
    pub no_ignore: bool,

    /// Follow symbolic links
    #[arg(short = 'L', long)]
    pub follow: bool,

    /// Skip files larger than this (bytes; K, M and G suffixes are powers of 1024)
    #[arg(long, value_name = "SIZE", default_value = "32M", value_parser = parse_size)]
    pub max_file_size: u64,

    /// Open archives (zip, jar, tar, gz, bz2, xz, zst) this many levels deep, archives inside
    /// archives included; 0 leaves them closed
    #[arg(long, value_name = "N", default_value_t = crate::scan::DEFAULT_ARCHIVE_DEPTH)]
    pub max_archive_depth: usize,

    /// Worker threads (default: the number of CPUs; at most 4 per CPU, more are not used)
    #[arg(short = 'j', long, value_name = "N", value_parser = parse_threads)]
    pub threads: Option<usize>,

    /// Print nothing on stderr but errors
    #[arg(short, long)]
    pub quiet: bool,

    /// When to colour the text output
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Say more on stderr: -v adds history statistics and one line per validation check,
    /// -vv validation retries and each file skipped as binary or too large; secrets are never
    /// logged
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Log at this level on stderr (overrides -v and -q for log lines)
    #[arg(long, value_enum, value_name = "LEVEL", ignore_case = true)]
    pub log_level: Option<LogLevel>,

    // Groups with their own help headings come last: a heading applies to every argument
    // declared after it.
    #[command(flatten)]
    pub history: HistoryArgs,

    #[command(flatten)]
    pub remote: RemoteArgs,

    #[command(flatten)]
    pub diff: DiffArgs,

    #[command(flatten)]
    pub suppress: SuppressArgs,

    #[command(flatten)]
    pub validation: ValidationArgs,
}

#[derive(Debug, Args)]
#[command(next_help_heading = "Validation")]
#[command(group(clap::ArgGroup::new("live").args(["validate", "access_map"]).multiple(true)))]
pub struct ValidationArgs {
    /// Check whether each found secret is live by asking its provider over HTTPS
    #[arg(long)]
    pub validate: bool,

    /// Also map what each live key can reach (identity, account, permissions, resources) with
    /// read-only requests to its provider, and rate its severity; implies --validate
    #[arg(long)]
    pub access_map: bool,

    /// Report only findings confirmed live (implies --validate)
    #[arg(long)]
    pub only_valid: bool,

    /// Let rules from --rules validate against HOST (repeatable); built-in rules need no
    /// permission
    #[arg(long, value_name = "HOST")]
    pub allow_validation_host: Vec<String>,

    /// Send connections for HOST:PORT to ADDR:PORT, keeping the URL, Host header and TLS name
    /// (curl's --connect-to; empty HOST or PORT matches any). Turns off proxies. For testing
    #[arg(long, value_name = "HOST:PORT:ADDR:PORT")]
    pub connect_to: Vec<ConnectTo>,

    /// Also trust the CA certificates in this PEM file (repeatable)
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Vec<PathBuf>,

    /// Give up on a validation request after this long (`10s`, `500ms`)
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub validation_timeout: Duration,

    /// Validation requests in flight at once
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub validation_concurrency: u16,

    /// Validation requests per second to any one host
    #[arg(long, value_name = "N", default_value_t = 5.0, value_parser = parse_rate)]
    pub validation_rate: f64,

    /// Retries after an HTTP 429 before reporting `unknown (rate limited)`
    #[arg(long, value_name = "N", default_value_t = 2, value_parser = clap::value_parser!(u32).range(0..=10))]
    pub validation_retries: u32,

    /// Most validation requests sent to one provider in a run (retries included)
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub max_validation_requests: usize,
}

/// Git history options. A PATH that is the root of a git repository (a work tree with `.git`,
/// or a bare repository) has its history scanned as well as its files.
#[derive(Debug, Args)]
#[command(next_help_heading = "Git history")]
pub struct HistoryArgs {
    /// Scan only the files on disk, not the git history of repositories among the PATHs
    #[arg(long, conflicts_with_all = ["history_only", "all_objects", "branch"])]
    pub no_history: bool,

    /// Scan only the git history, not the files on disk
    #[arg(long)]
    pub history_only: bool,

    /// Also scan objects no ref reaches (dangling commits from force-pushes, dropped stashes)
    #[arg(long)]
    pub all_objects: bool,

    /// Limit history to what one revision reaches (a branch, tag or commit)
    #[arg(long, value_name = "REF")]
    pub branch: Option<String>,
}

/// Remote repositories, lists of repositories, incremental re-scans and shards.
#[derive(Debug, Args)]
#[command(next_help_heading = "Remote and many repositories")]
pub struct RemoteArgs {
    /// Also scan the repositories listed in FILE: one git URL or path per line, `#` starts a
    /// comment line (repeatable)
    #[arg(long, value_name = "FILE")]
    pub repos: Vec<PathBuf>,

    /// Also scan every repository of this GitHub organization (token: GITHUB_TOKEN)
    /// (repeatable)
    #[arg(long, value_name = "ORG")]
    pub github_org: Vec<String>,

    /// Also scan every repository this GitHub user owns (token: GITHUB_TOKEN) (repeatable)
    #[arg(long, value_name = "USER")]
    pub github_user: Vec<String>,

    /// Also scan every project of this GitLab group and its subgroups (token: GITLAB_TOKEN)
    /// (repeatable)
    #[arg(long, value_name = "GROUP")]
    pub gitlab_group: Vec<String>,

    /// The hosting API to list from: GitHub Enterprise (https://HOST/api/v3) or a
    /// self-managed GitLab (https://HOST/api/v4)
    #[arg(long, value_name = "URL")]
    pub api_url: Option<String>,

    /// Include forks in organization, user and group listings
    #[arg(long)]
    pub include_forks: bool,

    /// Include archived repositories in organization, user and group listings
    #[arg(long)]
    pub include_archived: bool,

    /// Where remote repositories are cloned, and fetched again on the next run [default:
    /// the user's cache directory, e.g. ~/.cache/keyhound/repos]
    #[arg(long, value_name = "DIR")]
    pub clone_dir: Option<PathBuf>,

    /// Keep what each repository's history scan learned in DIR, so that a re-scan reads only
    /// packs and blobs it has not seen and reports the same as a full scan; records are kept
    /// per rule set, and other rules start over (also KEYHOUND_CACHE)
    #[arg(long, value_name = "DIR")]
    pub cache: Option<PathBuf>,

    /// Do not use a cache, not even KEYHOUND_CACHE
    #[arg(long, conflicts_with = "cache")]
    pub no_cache: bool,

    /// Scan only share K of N (1 <= K <= N) of the repositories and PATHs, chosen by a hash of
    /// each one's URL or path; `keyhound merge` combines the shards' reports
    #[arg(long, value_name = "K/N")]
    pub shard: Option<crate::remote::Shard>,
}

/// Staged and commit-range scans: only the lines a change adds.
#[derive(Debug, Args)]
#[command(next_help_heading = "Pre-commit and CI")]
pub struct DiffArgs {
    /// Scan what is staged for commit (the index, not the files on disk): added lines only.
    /// PATH, if given, is a directory inside the repository
    #[arg(long, conflicts_with_all = ["since_commit", "range", "history_only", "all_objects", "branch"])]
    pub staged: bool,

    /// Scan the lines added by each commit reachable from HEAD but not from REF
    #[arg(long, value_name = "REF", conflicts_with_all = ["range", "history_only", "all_objects", "branch"])]
    pub since_commit: Option<String>,

    /// Scan the lines added by each commit in A..B (reachable from B but not from A)
    #[arg(long, value_name = "A..B", conflicts_with_all = ["history_only", "all_objects", "branch"])]
    pub range: Option<String>,
}

/// Baselines, allow comments and the configuration file.
#[derive(Debug, Args)]
#[command(next_help_heading = "Suppression and configuration")]
pub struct SuppressArgs {
    /// Do not report the findings listed in this baseline (see `keyhound baseline create`)
    /// [default: the configuration's `baseline:`, else .keyhound-baseline.yaml at the
    /// repository root when there is one]
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,

    /// Use no baseline, not even the repository's .keyhound-baseline.yaml
    #[arg(long, conflicts_with = "baseline")]
    pub no_baseline: bool,

    /// Report findings on lines marked `keyhound:allow`, `gitleaks:allow` or `pragma:
    /// allowlist secret` too (they are counted in the summary either way)
    #[arg(long)]
    pub no_allow_comments: bool,

    /// Read this configuration file instead of .keyhound.yaml at the repository root
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Ignore .keyhound.yaml, and .gitleaks.toml and the ignore files of gitleaks and
    /// Betterleaks
    #[arg(long, conflicts_with = "config")]
    pub no_config: bool,

    /// Skip paths matching GLOB, as `exclude_paths` in .keyhound.yaml does (gitignore-like;
    /// repeatable)
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,

    /// Turn off the rules matching ID: an id, a provider (`aws`) or a glob (`*.api-key`)
    /// (repeatable)
    #[arg(long, value_name = "ID")]
    pub disable_rule: Vec<String>,

    /// Run only the rules matching ID, as --disable-rule reads it (repeatable)
    #[arg(long, value_name = "ID")]
    pub only_rule: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum BaselineCommand {
    /// Scan like `keyhound scan` and write the findings as a baseline
    ///
    /// The baseline lists each finding's rule id and fingerprint (a hash of rule id and secret;
    /// never the secret, no line numbers, no timestamps), sorted, so rerunning it on the same
    /// findings writes the same bytes. Commit it and pass it with `--baseline` (or set
    /// `baseline:` in .keyhound.yaml): those findings are no longer reported, wherever they move.
    #[command(
        after_help = "Example:\n  keyhound baseline create -o .keyhound-baseline.yaml",
        mut_arg("output", |a| a.help("Write the baseline to FILE instead of stdout")),
        mut_arg("format", |a| a.hide(true)),
        mut_arg("show_secrets", |a| a.hide(true)),
        mut_arg("color", |a| a.hide(true)),
        mut_arg("baseline", |a| a.hide(true)),
        mut_arg("verbose", |a| a.hide(true)),
        mut_arg("log_level", |a| a.hide(true)),
        mut_arg("group_by", |a| a.hide(true)),
        mut_arg("validate", |a| a.hide(true)),
        mut_arg("access_map", |a| a.hide(true)),
        mut_arg("only_valid", |a| a.hide(true)),
        mut_arg("allow_validation_host", |a| a.hide(true)),
        mut_arg("connect_to", |a| a.hide(true)),
        mut_arg("ca_cert", |a| a.hide(true)),
        mut_arg("validation_timeout", |a| a.hide(true)),
        mut_arg("validation_concurrency", |a| a.hide(true)),
        mut_arg("validation_rate", |a| a.hide(true)),
        mut_arg("validation_retries", |a| a.hide(true)),
        mut_arg("max_validation_requests", |a| a.hide(true))
    )]
    Create {
        #[command(flatten)]
        scan: Box<ScanArgs>,
        #[command(flatten)]
        triage: TriageArgs,
    },
    /// Turn a gitleaks or Betterleaks JSON report into a keyhound baseline
    ///
    /// Each finding of the report becomes an entry with keyhound's content fingerprint (a hash
    /// of rule id and secret), so the report must hold the secrets: a report written with
    /// `--redact` cannot be imported, and its redacted findings are listed as skipped. gitleaks
    /// rule ids are mapped to keyhound's where keyhound has the same detector; findings of
    /// other rules are listed as skipped too.
    #[command(after_help = BASELINE_IMPORT_HELP)]
    Import {
        /// The report (`gitleaks git --report-format json --report-path REPORT.json`)
        #[arg(value_name = "REPORT.json")]
        report: PathBuf,
        /// Write the baseline to FILE instead of stdout
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        #[command(flatten)]
        triage: TriageArgs,
        /// Print nothing on stderr but errors
        #[arg(short, long)]
        quiet: bool,
    },
}

const BASELINE_IMPORT_HELP: &str = "\
Example:
  gitleaks git --report-format json --report-path gitleaks.json
  keyhound baseline import gitleaks.json --reason 'known before keyhound' -o .keyhound-baseline.yaml";

/// Triage fields written on every entry of a new baseline (edit them per entry afterwards).
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Triage")]
pub struct TriageArgs {
    /// Why these findings are accepted
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
    /// Who is responsible for them
    #[arg(long, value_name = "NAME")]
    pub owner: Option<String>,
    /// The day after which the entries stop suppressing (YYYY-MM-DD)
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub expires: Option<jiff::civil::Date>,
}

#[derive(Debug, Subcommand)]
pub enum HookCommand {
    /// Write a git pre-commit hook that runs `keyhound scan --staged`
    ///
    /// The hook goes to the repository's hooks directory (`core.hooksPath` if the repository
    /// sets it). An existing hook that keyhound did not write is left alone unless `--chain`
    /// (keep it and run it first) or `--force` (replace it).
    Install {
        /// Replace an existing pre-commit hook
        #[arg(long, conflicts_with = "chain")]
        force: bool,
        /// Keep an existing pre-commit hook and run it before keyhound
        #[arg(long)]
        chain: bool,
        /// A directory inside the repository
        #[arg(value_name = "PATH", default_value = ".")]
        path: PathBuf,
    },
    /// Remove the pre-commit hook written by `keyhound hook install` (restoring a chained one)
    Uninstall {
        /// A directory inside the repository
        #[arg(value_name = "PATH", default_value = ".")]
        path: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct RuleArgs {
    /// Add rules from a YAML file or a directory of them, or import a gitleaks config
    /// (FILE.toml) (repeatable)
    #[arg(long = "rules", value_name = "PATH")]
    pub extra: Vec<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// List the rules in effect
    List {
        #[command(flatten)]
        rules: RuleArgs,
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Check rules against their examples and negative examples
    ///
    /// Without DIR, checks the built-in rules. With DIR (a file or directory), checks the rules
    /// there (loaded alongside the built-ins, so clashing ids are caught). A gitleaks config
    /// (FILE.toml) has no examples: its check is that every rule imports and compiles.
    Check {
        #[arg(value_name = "DIR")]
        paths: Vec<PathBuf>,
    },
    /// Show what one rule matches, its examples, where to rotate and how it validates
    #[command(
        after_help = "Examples:\n  keyhound rules show github.classic-pat\n  keyhound rules show aws.access-key-id --json"
    )]
    Show {
        /// The rule id (`keyhound rules list` lists them)
        #[arg(value_name = "RULE_ID")]
        id: String,
        #[command(flatten)]
        rules: RuleArgs,
        /// Print JSON instead of text
        #[arg(long)]
        json: bool,
    },
}

/// What `--group-by` groups findings by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GroupBy {
    /// One entry per secret (rule and fingerprint), listing every location
    Secret,
}

/// `--log-level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogLevel {
    Off,
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MinConfidence {
    Low,
    Medium,
    High,
}

impl From<MinConfidence> for Confidence {
    fn from(m: MinConfidence) -> Confidence {
        match m {
            MinConfidence::Low => Confidence::Low,
            MinConfidence::Medium => Confidence::Medium,
            MinConfidence::High => Confidence::High,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Parses `10s`, `500ms`, `2m` or a plain number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let bad = || format!("`{s}` is not a duration (examples: 10s, 500ms, 2m)");
    let (num, unit) = match t.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(i) => (&t[..i], &t[i..]),
        None => (t, "s"),
    };
    let n: f64 = num.parse().map_err(|_| bad())?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        _ => return Err(bad()),
    };
    if !(secs > 0.0 && secs <= 3600.0) {
        return Err(format!("`{s}`: use a duration between 1ms and 1h"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// Parses a calendar date, `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Result<jiff::civil::Date, String> {
    s.trim()
        .parse::<jiff::civil::Date>()
        .map_err(|_| format!("`{s}` is not a date (YYYY-MM-DD)"))
}

fn parse_rate(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(r) if r > 0.0 && r <= 1000.0 => Ok(r),
        _ => Err(format!(
            "`{s}`: use a number of requests per second above 0"
        )),
    }
}

/// Parses `123`, `64K`, `32M`, `1G` (powers of 1024; an optional trailing `B` or `iB`).
/// Most worker threads per CPU. Threads beyond the CPUs help only while others wait on the
/// disk; each one costs memory (read buffers, regex caches, a git pack cache), so thousands
/// of them exhaust memory without scanning any faster.
pub const MAX_THREADS_PER_CPU: usize = 4;

/// Parses `-j N`, lowered to `MAX_THREADS_PER_CPU` per CPU.
/// A number of threads; `threads` caps it (at `MAX_THREADS_PER_CPU` per CPU).
fn parse_threads(s: &str) -> Result<usize, String> {
    let n: usize = s
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a number of threads"))?;
    Ok(n)
}

/// The threads to run for `-j N`: at most `MAX_THREADS_PER_CPU` per CPU, with a warning when
/// that is fewer than asked for.
pub fn threads(asked: usize) -> usize {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let most = cpus.saturating_mul(MAX_THREADS_PER_CPU);
    if asked > most {
        log::warn!("-j {asked}: using {most} threads ({MAX_THREADS_PER_CPU} per CPU at most)");
    }
    asked.min(most)
}

pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let t = t
        .strip_suffix("iB")
        .or_else(|| t.strip_suffix('B'))
        .unwrap_or(t);
    let (num, mult) = match t.chars().last() {
        Some('k' | 'K') => (&t[..t.len() - 1], 1u64 << 10),
        Some('m' | 'M') => (&t[..t.len() - 1], 1 << 20),
        Some('g' | 'G') => (&t[..t.len() - 1], 1 << 30),
        _ => (t, 1),
    };
    let n: u64 = num
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a size (examples: 500000, 512K, 32M, 1G)"))?;
    n.checked_mul(mult)
        .ok_or_else(|| format!("`{s}` is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_are_capped_per_cpu() {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        assert_eq!(parse_threads("1").map(threads), Ok(1));
        assert_eq!(
            parse_threads("200000").map(threads),
            Ok(cpus * MAX_THREADS_PER_CPU)
        );
        assert_eq!(
            parse_threads(&u64::MAX.to_string()).map(threads),
            Ok(cpus * MAX_THREADS_PER_CPU)
        );
        assert!(parse_threads("-1").is_err());
        assert!(parse_threads("many").is_err());
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("100"), Ok(100));
        assert_eq!(parse_size("64K"), Ok(65536));
        assert_eq!(parse_size("32M"), Ok(32 << 20));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("99999999999G").is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("1m"), Ok(Duration::from_secs(60)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("5h").is_err());
    }

    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
