//! Command-line syntax (clap derive). Parsing only: `app` turns these into a run.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::finding::Confidence;
use crate::report::Format;

pub const EXIT_CODES: &str = "\
Exit codes:
  0  no findings
  1  findings were reported
  2  an error occurred (bad arguments, unreadable rules, a file or object that could not be
     read); an error wins over findings";

#[derive(Debug, Parser)]
#[command(
    name = "keyhound",
    version,
    about = "Find leaked API keys and secrets in files, directories and stdin",
    long_about = "Find leaked API keys and secrets in files, directories and stdin.\n\n\
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
    /// Scan files and directories (or stdin with `-`) for secrets
    #[command(after_help = SCAN_HELP)]
    Scan(ScanArgs),
    /// List the rules in effect, or check rule files against their own examples
    #[command(subcommand)]
    Rules(RulesCommand),
}

const SCAN_HELP: &str = "\
Examples:
  keyhound scan                      scan the current directory
  keyhound scan src config.yml       scan some paths
  cat notes.txt | keyhound scan -    scan stdin
  keyhound scan -f sarif -o keyhound.sarif

Exit codes:
  0  no findings
  1  findings were reported
  2  an error occurred (an error wins over findings)";

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Files or directories to scan; `-` reads stdin
    #[arg(value_name = "PATH", default_value = ".")]
    pub paths: Vec<PathBuf>,

    /// Output format
    #[arg(short, long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Write the report to FILE instead of stdout
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Print secrets in full instead of a redacted prefix and length
    #[arg(long)]
    pub show_secrets: bool,

    /// Only report findings of at least this confidence
    #[arg(long, value_enum, value_name = "LEVEL", default_value_t = MinConfidence::Low)]
    pub min_confidence: MinConfidence,

    #[command(flatten)]
    pub rules: RuleArgs,

    #[command(flatten)]
    pub history: HistoryArgs,

    /// Scan files that .gitignore, .ignore and git's exclude files would skip
    #[arg(long)]
    pub no_ignore: bool,

    /// Follow symbolic links
    #[arg(short = 'L', long)]
    pub follow: bool,

    /// Skip files larger than this (bytes; K, M and G suffixes are powers of 1024)
    #[arg(long, value_name = "SIZE", default_value = "32M", value_parser = parse_size)]
    pub max_file_size: u64,

    /// Worker threads (default: the number of CPUs)
    #[arg(short = 'j', long, value_name = "N")]
    pub threads: Option<usize>,

    /// Print nothing on stderr but errors
    #[arg(short, long)]
    pub quiet: bool,

    /// When to colour the text output
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
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

#[derive(Debug, Args)]
pub struct RuleArgs {
    /// Add rules from a YAML file or a directory of them (repeatable)
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
    /// there (loaded alongside the built-ins, so clashing ids are caught).
    Check {
        #[arg(value_name = "DIR")]
        paths: Vec<PathBuf>,
    },
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

/// Parses `123`, `64K`, `32M`, `1G` (powers of 1024; an optional trailing `B` or `iB`).
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
    fn sizes() {
        assert_eq!(parse_size("100"), Ok(100));
        assert_eq!(parse_size("64K"), Ok(65536));
        assert_eq!(parse_size("32M"), Ok(32 << 20));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("99999999999G").is_err());
    }

    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
