//! The repository configuration file, `.keyhound.yaml`: paths to skip, rules to disable,
//! extra rule directories, a baseline, a minimum confidence.
//!
//! Owns the file's syntax, where it is found and what its values mean once resolved. It reads
//! that one file and nothing else. Unknown keys are errors that name the file and line.
//!
//! What a repository may configure is deliberately narrow: a repository's own file can make
//! keyhound skip things in that repository, never make it contact anything or read anything
//! outside the repository. There is no key for validation hosts (those are only accepted on the
//! command line), and a configuration found in a scanned repository (as opposed to one given
//! with `--config`) may only name files inside that repository, symbolic links resolved. Each
//! configuration governs only the tree it was found in.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};
use serde::Deserialize;

use crate::finding::Confidence;
use crate::rules::RuleSet;

/// The file looked for at the repository root.
pub const FILE_NAME: &str = ".keyhound.yaml";

/// Errors reading or resolving a configuration file.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the configuration")]
    Read(#[from] crate::files::ReadError),
    #[error("{file}:{line}:{column}: {message}")]
    Parse {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{file}:{line}: {field}: {message}")]
    Invalid {
        file: String,
        line: usize,
        field: &'static str,
        message: String,
    },
}

/// `.keyhound.yaml` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigSyntax {
    /// Paths to skip, as globs relative to the directory of the configuration file.
    #[serde(default)]
    exclude_paths: Vec<String>,
    /// Rule ids to disable; `provider` disables every `provider.*` rule, `prefix*` every id
    /// that starts with `prefix`.
    #[serde(default)]
    disable_rules: Vec<String>,
    /// Extra rule files or directories, relative to the configuration file.
    #[serde(default)]
    rules: Vec<PathBuf>,
    /// A baseline file, relative to the configuration file.
    baseline: Option<PathBuf>,
    /// Only report findings of at least this confidence (the command line wins).
    min_confidence: Option<Confidence>,
}

/// A resolved configuration. `Config::default()` is "no configuration file".
#[derive(Debug, Default, Clone)]
pub struct Config {
    /// The file this came from, if any.
    pub file: Option<PathBuf>,
    /// The directory paths are relative to (the file's directory).
    pub root: PathBuf,
    /// Found in a scanned repository: the files it names must stay inside `root`.
    pub confined: bool,
    pub exclude: Option<Exclude>,
    /// The patterns `exclude` was compiled from (the file's, then the command line's).
    pub exclude_patterns: Vec<String>,
    pub disable_rules: Vec<DisableRule>,
    /// `--only-rule`: when set, every rule no entry matches is disabled too.
    pub only_rules: Vec<DisableRule>,
    pub rules: Vec<PathBuf>,
    pub baseline: Option<PathBuf>,
    pub min_confidence: Option<Confidence>,
}

/// One rule-id pattern and where it came from, for messages.
#[derive(Debug, Clone)]
pub struct DisableRule {
    pub pattern: String,
    pub source: RulePatternSource,
}

impl DisableRule {
    /// The one rule-id matcher (`disable_rules`, `--disable-rule`, `--only-rule`): `x` matches
    /// rule `x` and every rule `x.*`; a pattern with `*` (any run of characters, dots included)
    /// or `?` (one character) is a glob over the whole id: `aws.*`, `*.api-key`, `github.*-pat`.
    pub fn matches(&self, id: &str) -> bool {
        let p = self.pattern.as_str();
        if p.contains(['*', '?']) {
            return glob_matches(p.as_bytes(), id.as_bytes());
        }
        id == p || (id.starts_with(p) && id.as_bytes().get(p.len()) == Some(&b'.'))
    }
}

/// `*` and `?` wildcard matching over the whole of `text` (iterative, linear backtracking).
fn glob_matches(pat: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pat.get(p) {
            Some(b'*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == b'?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pat[p..].iter().all(|&c| c == b'*')
}

/// Compiled `exclude_paths`, matched against paths relative to the configuration's root, with
/// `/` separators. Gitignore-like: a pattern without a `/` matches at any depth, a leading
/// `/` anchors it to the root, and a pattern that names a directory excludes what is inside.
#[derive(Debug, Clone)]
pub struct Exclude {
    set: Arc<GlobSet>,
}

impl Exclude {
    /// Compiles gitignore-like patterns; `None` for none. The error names the bad pattern.
    pub fn new(patterns: &[String]) -> Result<Option<Exclude>, (String, String)> {
        if patterns.is_empty() {
            return Ok(None);
        }
        let mut b = GlobSetBuilder::new();
        for pat in patterns {
            for g in expand_glob(pat).map_err(|m| (pat.clone(), m))? {
                b.add(g);
            }
        }
        let set = b.build().map_err(|e| (String::new(), e.to_string()))?;
        Ok(Some(Exclude { set: Arc::new(set) }))
    }

    pub fn is_match(&self, rel_path: &str) -> bool {
        self.set.is_match(rel_path)
    }
}

/// Rule and path controls given on the command line (`--exclude`, `--disable-rule`,
/// `--only-rule`): they add to every configuration of the run, with the same meaning.
#[derive(Debug, Clone, Default)]
pub struct CommandLine {
    pub exclude: Vec<String>,
    pub disable_rules: Vec<String>,
    pub only_rules: Vec<String>,
}

/// Where a rule-id pattern came from, for messages about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RulePatternSource {
    /// `disable_rules` in the configuration file, at this line.
    File(usize),
    DisableFlag,
    OnlyFlag,
}

impl CommandLine {
    /// Checks the patterns once, before any scanning.
    pub fn check(&self) -> Result<(), String> {
        Exclude::new(&self.exclude).map_err(|(p, m)| format!("--exclude `{p}`: {m}"))?;
        for p in &self.disable_rules {
            if p.trim().is_empty() || p.chars().all(|c| c == '*') {
                return Err(format!("--disable-rule `{p}` would disable every rule"));
            }
        }
        if self.only_rules.iter().any(|p| p.trim().is_empty()) {
            return Err("--only-rule needs a rule id or a glob".into());
        }
        Ok(())
    }
}

impl Config {
    /// Reads and resolves the configuration file at `path`. With `confine`, the file was found
    /// in a scanned repository: it and the files it names must resolve inside its directory.
    pub fn load(path: &Path, confine: bool) -> Result<Config, ConfigError> {
        let file = path.display().to_string();
        let root = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let inside = confine.then_some(root.as_path());
        let text = crate::files::read_text(path, crate::files::MAX_TEXT_FILE, inside)?;
        let syntax: ConfigSyntax = if only_comments(&text) {
            ConfigSyntax::default()
        } else {
            serde_yaml::from_str(&text).map_err(|e| {
                let (line, column) = e
                    .location()
                    .map(|l| (l.line(), l.column()))
                    .unwrap_or((0, 0));
                ConfigError::Parse {
                    file: file.clone(),
                    line,
                    column,
                    message: crate::files::redact_message(&crate::rules::strip_location(
                        &e.to_string(),
                    )),
                }
            })?
        };
        if let Some(root) = inside {
            // A file that does not exist cannot leak anything; reading it fails later.
            for p in syntax.rules.iter().chain(&syntax.baseline) {
                if root.join(p).exists() {
                    crate::files::confine(&root.join(p), root)?;
                }
            }
        }
        let exclude =
            Exclude::new(&syntax.exclude_paths).map_err(|(pat, message)| ConfigError::Invalid {
                file: file.clone(),
                line: line_of(&text, &pat),
                field: "exclude_paths",
                message,
            })?;
        let mut disable_rules = Vec::new();
        for p in syntax.disable_rules {
            if p.trim().is_empty() || p == "*" {
                return Err(ConfigError::Invalid {
                    file: file.clone(),
                    line: line_of(&text, &p),
                    field: "disable_rules",
                    message: format!("`{p}` would disable every rule"),
                });
            }
            disable_rules.push(DisableRule {
                source: RulePatternSource::File(line_of(&text, &p)),
                pattern: p,
            });
        }
        Ok(Config {
            confined: confine,
            file: Some(path.to_path_buf()),
            rules: syntax.rules.iter().map(|p| root.join(p)).collect(),
            baseline: syntax.baseline.as_ref().map(|p| root.join(p)),
            min_confidence: syntax.min_confidence,
            exclude,
            exclude_patterns: syntax.exclude_paths.clone(),
            disable_rules,
            only_rules: Vec::new(),
            root,
        })
    }

    /// Finds `.keyhound.yaml` at the root of the repository containing `start` (a file or
    /// directory), or in `start` itself when it is not inside a repository.
    pub fn find(start: &Path) -> Option<PathBuf> {
        let start = if start.is_dir() {
            start.to_path_buf()
        } else {
            start
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
        };
        let abs = std::path::absolute(&start).unwrap_or_else(|_| start.clone());
        let root = abs
            .ancestors()
            .find(|d| d.join(".git").exists())
            .unwrap_or(&abs);
        let candidate = root.join(FILE_NAME);
        candidate.is_file().then_some(candidate)
    }

    /// Adds the command line's controls to this configuration. `root` is the directory the
    /// scope covers: `--exclude` patterns are relative to it, as `exclude_paths` are to the
    /// configuration file's directory (the same directory when there is a file).
    pub fn with_command_line(mut self, cli: &CommandLine, root: &Path) -> Result<Config, String> {
        if self.file.is_none() {
            self.root = root.to_path_buf();
        }
        if !cli.exclude.is_empty() {
            let mut all = self.exclude_patterns.clone();
            all.extend(cli.exclude.iter().cloned());
            self.exclude = Exclude::new(&all).map_err(|(p, m)| format!("--exclude `{p}`: {m}"))?;
            self.exclude_patterns = all;
        }
        let pattern = |source| {
            move |p: &String| DisableRule {
                pattern: p.clone(),
                source,
            }
        };
        self.disable_rules.extend(
            cli.disable_rules
                .iter()
                .map(pattern(RulePatternSource::DisableFlag)),
        );
        self.only_rules.extend(
            cli.only_rules
                .iter()
                .map(pattern(RulePatternSource::OnlyFlag)),
        );
        Ok(self)
    }

    /// Whether the configuration and the command line leave rule `id` on.
    pub fn rule_enabled(&self, id: &str) -> bool {
        !self.disable_rules.iter().any(|d| d.matches(id))
            && (self.only_rules.is_empty() || self.only_rules.iter().any(|d| d.matches(id)))
    }

    /// Removes the disabled rules (and, with `--only-rule`, the rules it does not name) from
    /// `set` (pairings with a removed rule are dropped) and returns the patterns that matched
    /// no rule, so the caller can warn about typos.
    pub fn disable(&self, set: &mut RuleSet) -> Vec<&DisableRule> {
        if self.disable_rules.is_empty() && self.only_rules.is_empty() {
            return Vec::new();
        }
        let unmatched = self
            .disable_rules
            .iter()
            .chain(&self.only_rules)
            .filter(|d| !set.rules.iter().any(|r| d.matches(&r.id)))
            .collect();
        set.retain(|r| self.rule_enabled(&r.id));
        unmatched
    }

    /// Whether `path` (as a scan reports it) is excluded. Paths from git are relative to the
    /// repository root; paths from a directory walk are made relative to the root here.
    pub fn excludes(&self, rel_path: &str) -> bool {
        self.exclude.as_ref().is_some_and(|e| e.is_match(rel_path))
    }
}

/// Turns one gitignore-like pattern into globs.
fn expand_glob(pat: &str) -> Result<Vec<Glob>, String> {
    let p = pat.trim();
    if p.is_empty() {
        return Err("empty pattern".into());
    }
    if p.starts_with('!') {
        return Err(format!(
            "`{p}`: negated patterns are not supported; exclude less instead"
        ));
    }
    let dir_only = p.ends_with('/');
    let p = p.trim_end_matches('/');
    let base = match p.strip_prefix('/') {
        Some(anchored) => anchored.to_string(),
        None if p.contains('/') => p.to_string(),
        None => format!("**/{p}"),
    };
    let mut pats = Vec::new();
    if !dir_only {
        pats.push(base.clone());
    }
    if !base.ends_with("/**") {
        pats.push(format!("{base}/**"));
    }
    pats.into_iter()
        .map(|g| {
            GlobBuilder::new(&g)
                .literal_separator(true)
                .backslash_escape(true)
                .build()
                .map_err(|e| format!("`{pat}`: {}", e.kind()))
        })
        .collect()
}

fn only_comments(text: &str) -> bool {
    text.lines().all(|l| {
        let t = l.trim();
        t.is_empty() || t.starts_with('#') || t == "---"
    })
}

/// The first line containing `needle` (1-based), or 0.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .map_or(0, |i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(FILE_NAME);
        std::fs::write(&p, text).unwrap();
        (dir, p)
    }

    #[test]
    fn unknown_key_names_file_and_line() {
        let (_d, p) = write("exclude_paths: [vendor]\nallow_validation_host: evil.test\n");
        let e = Config::load(&p, false).unwrap_err().to_string();
        assert!(e.contains(".keyhound.yaml:2:"), "{e}");
        assert!(e.contains("unknown field `allow_validation_host`"), "{e}");
    }

    #[test]
    fn globs_are_gitignore_like() {
        let (_d, p) = write(
            "exclude_paths:\n  - '*.lock'\n  - /build\n  - docs/generated/\n  - 'test/**/fixtures'\n",
        );
        let c = Config::load(&p, false).unwrap();
        for yes in [
            "Cargo.lock",
            "a/b/yarn.lock",
            "build/x.js",
            "docs/generated/a.md",
            "test/unit/fixtures/k.txt",
        ] {
            assert!(c.excludes(yes), "{yes}");
        }
        for no in [
            "src/build/x.js",
            "Cargo.lock.md",
            "docs/generated",
            "docs/x.md",
        ] {
            assert!(!c.excludes(no), "{no}");
        }
    }

    #[test]
    fn disable_patterns() {
        let d = |p: &str| DisableRule {
            pattern: p.into(),
            source: RulePatternSource::DisableFlag,
        };
        assert!(d("openai").matches("openai.legacy-key"));
        assert!(d("openai.legacy-key").matches("openai.legacy-key"));
        assert!(!d("openai.legacy").matches("openai.legacy-key"));
        assert!(d("openai.legacy*").matches("openai.legacy-key"));
        assert!(!d("open").matches("openai.legacy-key"));
        assert!(d("aws.*").matches("aws.access-key-id"));
        assert!(!d("aws.*").matches("awsx.key"));
        assert!(d("*.api-key").matches("google.api-key"));
        assert!(!d("*.api-key").matches("google.api-key-2"));
        assert!(d("github.*-pat").matches("github.fine-grained-pat"));
        assert!(!d("github.*-pat").matches("github.oauth-token"));
        assert!(d("slack.?ot-token").matches("slack.bot-token"));
        assert!(d("*").matches("anything.at-all"));
    }

    #[test]
    fn relative_paths_resolve_against_the_file() {
        let (d, p) =
            write("rules: [my-rules]\nbaseline: .keyhound-baseline.yaml\nmin_confidence: high\n");
        let c = Config::load(&p, false).unwrap();
        assert_eq!(c.rules, vec![d.path().join("my-rules")]);
        assert_eq!(
            c.baseline.as_deref(),
            Some(d.path().join(".keyhound-baseline.yaml").as_path())
        );
        assert_eq!(c.min_confidence, Some(Confidence::High));
        let (_d, p) = write("# nothing yet\n");
        assert!(Config::load(&p, false).unwrap().exclude.is_none());
    }
}
