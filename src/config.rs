//! The repository configuration file, `.keyhound.yaml`: paths to skip, rules to disable,
//! extra rule directories, a baseline, a minimum confidence.
//!
//! Owns the file's syntax, where it is found and what its values mean once resolved. It reads
//! that one file and nothing else. Unknown keys are errors that name the file and line.
//!
//! What a repository may configure is deliberately narrow: a repository's own file can make
//! keyhound skip things in that repository, never make it contact anything. In particular there
//! is no key for validation hosts; those are only accepted on the command line.

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
    #[error("{file}: cannot read configuration")]
    Read {
        file: String,
        #[source]
        source: std::io::Error,
    },
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
    pub exclude: Option<Exclude>,
    pub disable_rules: Vec<DisableRule>,
    pub rules: Vec<PathBuf>,
    pub baseline: Option<PathBuf>,
    pub min_confidence: Option<Confidence>,
}

/// One `disable_rules` entry and the line it is on, for messages.
#[derive(Debug, Clone)]
pub struct DisableRule {
    pub pattern: String,
    pub line: usize,
}

impl DisableRule {
    /// `x` disables rule `x` and every rule `x.*`; `x*` every rule whose id starts with `x`.
    pub fn matches(&self, id: &str) -> bool {
        let p = self.pattern.as_str();
        if let Some(prefix) = p.strip_suffix('*') {
            return id.starts_with(prefix);
        }
        id == p || (id.starts_with(p) && id.as_bytes().get(p.len()) == Some(&b'.'))
    }
}

/// Compiled `exclude_paths`, matched against paths relative to the configuration's root, with
/// `/` separators. Gitignore-like: a pattern without a `/` matches at any depth, a leading
/// `/` anchors it to the root, and a pattern that names a directory excludes what is inside.
#[derive(Debug, Clone)]
pub struct Exclude {
    set: Arc<GlobSet>,
}

impl Exclude {
    pub fn is_match(&self, rel_path: &str) -> bool {
        self.set.is_match(rel_path)
    }
}

impl Config {
    /// Reads and resolves the configuration file at `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            file: file.clone(),
            source,
        })?;
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
                    message: crate::rules::strip_location(&e.to_string()),
                }
            })?
        };
        let root = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let exclude = if syntax.exclude_paths.is_empty() {
            None
        } else {
            let mut b = GlobSetBuilder::new();
            for pat in &syntax.exclude_paths {
                let globs = expand_glob(pat).map_err(|message| ConfigError::Invalid {
                    file: file.clone(),
                    line: line_of(&text, pat),
                    field: "exclude_paths",
                    message,
                })?;
                for g in globs {
                    b.add(g);
                }
            }
            let set = b.build().map_err(|e| ConfigError::Invalid {
                file: file.clone(),
                line: 0,
                field: "exclude_paths",
                message: e.to_string(),
            })?;
            Some(Exclude { set: Arc::new(set) })
        };
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
                line: line_of(&text, &p),
                pattern: p,
            });
        }
        Ok(Config {
            file: Some(path.to_path_buf()),
            rules: syntax.rules.iter().map(|p| root.join(p)).collect(),
            baseline: syntax.baseline.as_ref().map(|p| root.join(p)),
            min_confidence: syntax.min_confidence,
            exclude,
            disable_rules,
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

    /// Removes the disabled rules from `set` (pairings with a removed rule are dropped) and
    /// returns the entries that matched no rule, so the caller can warn about typos.
    pub fn disable(&self, set: &mut RuleSet) -> Vec<&DisableRule> {
        if self.disable_rules.is_empty() {
            return Vec::new();
        }
        let unmatched = self
            .disable_rules
            .iter()
            .filter(|d| !set.rules.iter().any(|r| d.matches(&r.id)))
            .collect();
        let keep: Vec<bool> = set
            .rules
            .iter()
            .map(|r| !self.disable_rules.iter().any(|d| d.matches(&r.id)))
            .collect();
        // New index of each kept rule, to remap pairings.
        let mut new_index = Vec::with_capacity(keep.len());
        let mut n = 0;
        for &k in &keep {
            new_index.push(if k { Some(n) } else { None });
            n += usize::from(k);
        }
        let mut i = 0;
        set.rules.retain(|_| {
            i += 1;
            keep[i - 1]
        });
        for r in &mut set.rules {
            r.pair = r.pair.and_then(|mut p| {
                p.with = new_index[p.with]?;
                Some(p)
            });
        }
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
        let e = Config::load(&p).unwrap_err().to_string();
        assert!(e.contains(".keyhound.yaml:2:"), "{e}");
        assert!(e.contains("unknown field `allow_validation_host`"), "{e}");
    }

    #[test]
    fn globs_are_gitignore_like() {
        let (_d, p) = write(
            "exclude_paths:\n  - '*.lock'\n  - /build\n  - docs/generated/\n  - 'test/**/fixtures'\n",
        );
        let c = Config::load(&p).unwrap();
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
            line: 1,
        };
        assert!(d("openai").matches("openai.legacy-key"));
        assert!(d("openai.legacy-key").matches("openai.legacy-key"));
        assert!(!d("openai.legacy").matches("openai.legacy-key"));
        assert!(d("openai.legacy*").matches("openai.legacy-key"));
        assert!(!d("open").matches("openai.legacy-key"));
    }

    #[test]
    fn relative_paths_resolve_against_the_file() {
        let (d, p) =
            write("rules: [my-rules]\nbaseline: .keyhound-baseline.yaml\nmin_confidence: high\n");
        let c = Config::load(&p).unwrap();
        assert_eq!(c.rules, vec![d.path().join("my-rules")]);
        assert_eq!(
            c.baseline.as_deref(),
            Some(d.path().join(".keyhound-baseline.yaml").as_path())
        );
        assert_eq!(c.min_confidence, Some(Confidence::High));
        let (_d, p) = write("# nothing yet\n");
        assert!(Config::load(&p).unwrap().exclude.is_none());
    }
}
