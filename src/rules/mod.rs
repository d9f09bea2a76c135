//! Rules as data: loading the built-in and user rule files, validating them, and compiling
//! each rule's regex lazily on first use.
//!
//! Owns `RuleSet`, `Rule`, `Filters` and their errors. Never scans anything; `rules check`
//! (in `check`) drives the matcher over a rule's own examples.

pub mod file_names;
pub mod gitleaks;
mod locate;
pub mod pattern;
pub mod prefixes;
pub mod syntax;
pub use crate::text;
pub mod validation;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use regex_automata::nfa::thompson::{backtrack, pikevm, NFA};
use regex_automata::util::captures::GroupInfo;
use regex_automata::{hybrid, meta, Input};
use regex_syntax::hir::{Hir, HirKind};

use crate::finding::Confidence;
use syntax::{ChecksumKind, ExampleSyntax, FiltersSyntax, RuleFileSyntax, RuleSyntax};
use text::clean;

/// A built-in rule file, converted to JSON at build time (see `build.rs`).
struct BuiltinFile {
    name: &'static str,
    /// Without examples: what a scan needs.
    scan: &'static str,
    /// With examples, for `rules check`.
    full: &'static str,
    /// The line of each rule's `id:` in the YAML file.
    lines: &'static [(&'static str, usize)],
}

use locate::line_of_id;

include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));

/// Default bytes searched on each side of a keyword hit when the pattern's maximum match
/// length is unbounded.
const DEFAULT_WINDOW: usize = 512;
/// Largest automatic window; patterns that can match more (PEM bodies) set `window`.
pub(crate) const MAX_AUTO_WINDOW: usize = 4096;
/// Default `window` of a rule without keywords: the largest content (or, for binary rules,
/// the head of the content) its pattern runs over.
pub(crate) const ANCHORED_WINDOW: usize = 4096;

/// Errors from reading, parsing or validating rule files. Text quoted from a rule file (and
/// file names) is cleaned of control and formatting characters when shown (`text::clean`).
#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    #[error("{}: cannot read rule file", clean(.file))]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read a rule file")]
    Read(#[from] crate::files::ReadError),
    #[error("{}:{line}:{column}: {}", clean(.file), clean(.message))]
    Parse {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{}:{line}: rule `{}`, field `{field}`: {}", clean(.file), clean(.id), clean(.message))]
    Invalid {
        file: String,
        line: usize,
        id: String,
        field: &'static str,
        message: String,
    },
    #[error("{}: filters, field `{field}`: {}", clean(.file), clean(.message))]
    Filter {
        file: String,
        field: &'static str,
        message: String,
    },
    #[error(
        "duplicate rule id `{}`: defined in {} and in {}",
        clean(.id),
        clean(.first),
        clean(.second)
    )]
    Duplicate {
        id: String,
        first: String,
        second: String,
    },
    /// A gitleaks config none of whose rules could be used; the warnings say why.
    #[error("{}: no rule could be imported{}", clean(.file), join_warnings(.warnings))]
    NothingImported {
        file: String,
        warnings: Vec<gitleaks::ImportWarning>,
    },
}

fn join_warnings(warnings: &[gitleaks::ImportWarning]) -> String {
    warnings.iter().map(|w| format!("\n  {w}")).collect()
}

/// The format of a rule file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleFormat {
    /// keyhound's own YAML rule files.
    Yaml,
    /// A built-in rule file, converted from YAML to JSON when keyhound was built.
    BuiltinJson,
    /// A gitleaks (or Betterleaks) TOML config, converted by `gitleaks::import`.
    Gitleaks,
}

/// Where a rule was defined, for messages.
#[derive(Debug, Clone)]
pub struct Origin {
    pub file: String,
    pub line: usize,
    pub builtin: bool,
    pub format: RuleFormat,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// A resolved pairing: the index of the partner rule in the `RuleSet`.
#[derive(Debug, Clone, Copy)]
pub struct Pair {
    pub with: usize,
    pub within_lines: usize,
}

/// Which part of a regex match is the secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretGroup {
    /// The group named `secret`, else group 1, else the whole match (keyhound's rule files).
    /// Compiled rules never hold this: it is resolved to `Index`.
    Auto,
    /// This group (0: the whole match).
    Index(usize),
    /// The first group that matched a non-empty text, else the whole match: gitleaks' rule
    /// when `secretGroup` is not set.
    FirstNonEmpty,
}

/// A rule's compiled form, built on first use and shared by all threads: what searching
/// needs. What judges a match (`Extras`) is built apart, when the first match needs it.
///
/// The pattern runs on regex-automata's engines directly rather than in a `meta::Regex`,
/// which would also build a reverse NFA and a reverse lazy DFA to find where a match starts:
/// a rule's regex only ever runs over a window that ends where the `finder` says the match
/// ends, and the capture engines find its start there themselves. Most rules a scan wakes
/// never match, and the reverse NFA cost about as much to build as the pattern's own.
#[derive(Debug)]
pub struct CompiledRule {
    /// The pattern with its capture groups, for the capture engines.
    pub nfa: NFA,
    /// Finds where the next match ends (see `Finder`); `None` when no lazy DFA can be built
    /// for the pattern, and the capture engines search alone.
    pub finder: Option<Finder>,
    /// The capture engines: the bounded backtracker for text short enough, the PikeVM else.
    pub backtrack: backtrack::BoundedBacktracker,
    pub pikevm: pikevm::PikeVM,
    /// Where the secret is in a match; never `SecretGroup::Auto`.
    pub secret_group: SecretGroup,
    /// Bytes searched on each side of a keyword hit.
    pub window: usize,
    /// The search stops at the line ends around the keyword hit.
    pub single_line: bool,
}

/// A forward lazy DFA that finds where the leftmost-first match ends, and which of its
/// patterns matched: the rule's pattern, or the branches of a pattern `A|B|…` some of which
/// cannot hold the secret group, as patterns of their own.
///
/// Such branches match a name only so that it reports nothing (the generic rules' public
/// keys and CSRF tokens). Most of such a rule's matches are often theirs, and reading a
/// match's groups costs many times what finding it does; compiled as patterns of one DFA,
/// the branches give the same leftmost-first matches (patterns listed first win, as branches
/// written first do) and say which branch matched, so that a match of a branch without the
/// secret is passed over without its groups being read.
#[derive(Debug)]
pub struct Finder {
    pub dfa: hybrid::dfa::DFA,
    /// Per pattern of `dfa`: whether its matches can hold the secret. The others never match
    /// empty text.
    pub reports: Vec<bool>,
}

impl CompiledRule {
    /// The pattern's capture groups.
    pub fn group_info(&self) -> &GroupInfo {
        self.nfa.group_info()
    }

    /// Whether the pattern matches somewhere in `hay` (for tools, not the scan: it makes its
    /// cache each time).
    pub fn is_match(&self, hay: &[u8]) -> bool {
        let mut cache = self.pikevm.create_cache();
        self.pikevm.is_match(&mut cache, Input::new(hay))
    }
}

/// The rest of a rule's compiled form: the patterns that judge a match or a path. Most rules
/// that a scan wakes never match, and these cost about as much to compile as the pattern, so
/// they are built on first use (user rules' at load, so that an error stops the run there).
#[derive(Debug)]
pub struct Extras {
    pub allow: Option<meta::Regex>,
    pub stopwords: Option<aho_corasick::AhoCorasick>,
    /// Compiled `weak` patterns.
    pub weak: Option<meta::Regex>,
    /// The rule's `path`, compiled.
    pub path: Option<meta::Regex>,
}

/// The top-level branches of a pattern whose secret is group `group` and whether each holds
/// it, if some cannot (and those always match at least one byte): see `Finder`.
fn branches(hir: &Hir, group: usize) -> Option<(&[Hir], Vec<bool>)> {
    fn holds(h: &Hir, group: usize) -> bool {
        match h.kind() {
            HirKind::Capture(c) => c.index as usize == group || holds(&c.sub, group),
            HirKind::Repetition(r) => holds(&r.sub, group),
            HirKind::Concat(subs) | HirKind::Alternation(subs) => {
                subs.iter().any(|s| holds(s, group))
            }
            HirKind::Empty | HirKind::Literal(_) | HirKind::Class(_) | HirKind::Look(_) => false,
        }
    }
    let HirKind::Alternation(alts) = hir.kind() else {
        return None;
    };
    let reports: Vec<bool> = alts.iter().map(|a| holds(a, group)).collect();
    // A branch passed over must not match empty text: the search goes on at its end.
    let empty = alts
        .iter()
        .zip(&reports)
        .any(|(a, r)| !r && a.properties().minimum_len() == Some(0));
    if reports.iter().all(|&r| r) || empty {
        return None;
    }
    Some((alts, reports))
}

#[derive(Debug)]
pub struct Rule {
    pub id: String,
    pub name: String,
    pub provider: String,
    pub keywords: Vec<String>,
    pub pattern: String,
    /// The paths the rule reports in (a regex); `None`: every path.
    pub path: Option<String>,
    /// Runs over the head of binary content (with `path`, without keywords).
    pub binary: bool,
    pub negative_paths: Vec<String>,
    pub min_entropy: Option<f64>,
    pub confidence: Confidence,
    pub rotate: Option<String>,
    pub checksum: Option<ChecksumKind>,
    pub pair: Option<Pair>,
    pub window: Option<usize>,
    pub single_line: bool,
    pub secret_group: SecretGroup,
    pub allow: Vec<String>,
    pub stopwords: Vec<String>,
    pub generic: bool,
    pub skip_global_filters: bool,
    pub decode: Option<syntax::Encoding>,
    pub inspect: Option<syntax::Inspect>,
    pub weak: Vec<String>,
    pub partner_only: bool,
    pub examples: Vec<ExampleSyntax>,
    pub negative_examples: Vec<String>,
    /// The live check `--validate` runs, if the rule declares one.
    pub validate: Validate,
    pub origin: Origin,
    compiled: OnceLock<Result<CompiledRule, String>>,
    extras: OnceLock<Result<Extras, String>>,
}

impl Rule {
    /// The compiled regex, compiling it on first call. The error is the regex error text.
    pub fn compiled(&self) -> Result<&CompiledRule, &str> {
        self.compiled
            .get_or_init(|| compile_rule(self))
            .as_ref()
            .map_err(|e| e.as_str())
    }

    /// The compiled `allow`, `stopwords`, `weak` and `path`, compiling them on first call.
    pub fn extras(&self) -> Result<&Extras, &str> {
        self.extras
            .get_or_init(|| compile_extras(self))
            .as_ref()
            .map_err(|e| e.as_str())
    }

    /// Compiles everything now: the first error, if any.
    pub fn compile_all(&self) -> Result<(), &str> {
        self.compiled()?;
        self.extras()?;
        Ok(())
    }

    /// Whether the rule reports at `path`: always, unless it has a `path` pattern.
    pub fn path_allows(&self, path: &str) -> bool {
        match (self.compiled(), self.extras()) {
            (Ok(_), Ok(c)) => c.path.as_ref().is_none_or(|re| re.is_match(path)),
            _ => false,
        }
    }

    /// Whether the rule has no keywords and runs at the start of the content instead.
    pub fn anchored(&self) -> bool {
        self.keywords.is_empty()
    }
}

impl Rule {
    /// Every field that decides what the rule matches, as text: what results are kept under
    /// (`--cache`). Written as a full destructuring, so that a new field must be sorted into
    /// matching or not before this compiles.
    pub fn matching_fingerprint(&self) -> String {
        let Rule {
            id,
            name: _,
            provider: _,
            keywords,
            pattern,
            min_entropy,
            confidence,
            rotate: _,
            checksum,
            pair,
            window,
            single_line,
            secret_group,
            allow,
            stopwords,
            generic,
            skip_global_filters,
            decode,
            inspect,
            weak,
            partner_only,
            path,
            binary,
            negative_paths,
            examples: _,
            negative_examples: _,
            validate: _,
            origin: _,
            compiled: _,
            extras: _,
        } = self;
        format!(
            "{id}\0{keywords:?}\0{pattern}\0{min_entropy:?}\0{confidence:?}\0{checksum:?}\0{:?}\0{window:?}\0{single_line}\0{secret_group:?}\0{allow:?}\0{stopwords:?}\0{generic}\0{skip_global_filters}\0{decode:?}\0{inspect:?}\0{weak:?}\0{partner_only}\0{path:?}\0{binary}\0{negative_paths:?}",
            pair.map(|p| (p.with, p.within_lines)),
        )
    }
}

impl Filters {
    /// Every field of the global filters, as text (see `Rule::matching_fingerprint`).
    pub fn matching_fingerprint(&self) -> String {
        let Filters {
            placeholders,
            stopwords,
            max_repeat,
            max_sequence,
            generic_ignore,
            generic_ignore_names,
            compiled: _,
        } = self;
        format!(
            "{placeholders:?}\0{stopwords:?}\0{max_repeat:?}\0{max_sequence:?}\0{generic_ignore:?}\0{generic_ignore_names:?}"
        )
    }
}

/// Builds a byte regex the way every rule pattern is built (see `pattern`).
pub fn build_regex(pattern: &str) -> Result<meta::Regex, String> {
    pattern::build(pattern)
}

fn build_regex_many(patterns: &[&str]) -> Result<meta::Regex, String> {
    pattern::build_many(patterns)
}

fn compile_rule(rule: &Rule) -> Result<CompiledRule, String> {
    let hir = pattern::parse_limited(&rule.pattern)?;
    // The groups are read from the parsed pattern: which regex to build depends on them.
    let groups = hir.properties().explicit_captures_len() + 1;
    let secret_group = match rule.secret_group {
        SecretGroup::Auto => SecretGroup::Index(
            pattern::group_index(&hir, "secret").unwrap_or(if groups > 1 { 1 } else { 0 }),
        ),
        SecretGroup::Index(n) if n >= groups => {
            // A pattern that does not compile says so first.
            pattern::build_nfa(std::slice::from_ref(&hir), true)?;
            return Err(format!(
                "secret_group {n}: the pattern has {} capture group{}",
                groups - 1,
                if groups == 2 { "" } else { "s" }
            ));
        }
        g => g,
    };
    let window = rule.window.unwrap_or_else(|| {
        if rule.anchored() {
            return ANCHORED_WINDOW;
        }
        // The longest match bounds how far from a keyword a match can reach.
        match hir.properties().maximum_len() {
            Some(n) if n <= MAX_AUTO_WINDOW => n,
            _ => DEFAULT_WINDOW,
        }
    });
    let nfa = pattern::build_nfa(std::slice::from_ref(&hir), true)?;
    let split = match secret_group {
        SecretGroup::Index(g) if g > 0 => branches(&hir, g),
        _ => None,
    };
    let finder = match split {
        Some((alts, reports)) => pattern::build_lazy_dfa(pattern::build_nfa(alts, false)?)
            .map(|dfa| Finder { dfa, reports }),
        None => pattern::build_lazy_dfa(nfa.clone()).map(|dfa| Finder {
            dfa,
            reports: vec![true],
        }),
    };
    let backtrack = backtrack::Builder::new()
        .build_from_nfa(nfa.clone())
        .map_err(|e| e.to_string())?;
    let pikevm = pikevm::Builder::new()
        .build_from_nfa(nfa.clone())
        .map_err(|e| e.to_string())?;
    Ok(CompiledRule {
        nfa,
        finder,
        backtrack,
        pikevm,
        secret_group,
        window,
        single_line: rule.single_line,
    })
}

fn compile_extras(rule: &Rule) -> Result<Extras, String> {
    let path = match &rule.path {
        Some(p) => Some(build_regex(p).map_err(|e| format!("path: {e}"))?),
        None => None,
    };
    let allow = if rule.allow.is_empty() {
        None
    } else {
        let pats: Vec<&str> = rule.allow.iter().map(String::as_str).collect();
        Some(build_regex_many(&pats).map_err(|e| format!("allow: {e}"))?)
    };
    let weak = if rule.weak.is_empty() {
        None
    } else {
        let pats: Vec<&str> = rule.weak.iter().map(String::as_str).collect();
        Some(build_regex_many(&pats).map_err(|e| format!("weak: {e}"))?)
    };
    let stopwords = if rule.stopwords.is_empty() {
        None
    } else {
        Some(
            aho_corasick::AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .build(&rule.stopwords)
                .map_err(|e| format!("stopwords: {e}"))?,
        )
    };
    Ok(Extras {
        allow,
        stopwords,
        weak,
        path,
    })
}

/// Global filters on captured secrets, merged from every rule file that declares them.
#[derive(Debug, Default)]
pub struct Filters {
    pub placeholders: Vec<String>,
    pub stopwords: Vec<String>,
    pub max_repeat: Option<usize>,
    pub max_sequence: Option<usize>,
    pub generic_ignore: Vec<String>,
    pub generic_ignore_names: Vec<String>,
    compiled: OnceLock<CompiledFilters>,
}

#[derive(Debug)]
pub struct CompiledFilters {
    pub placeholders: Option<meta::Regex>,
    pub stopwords: Option<aho_corasick::AhoCorasick>,
    pub generic_ignore: Option<meta::Regex>,
    pub generic_ignore_names: Option<meta::Regex>,
}

impl Filters {
    /// Compiled filters. Patterns were validated when the rule set was loaded.
    pub fn compiled(&self) -> &CompiledFilters {
        self.compiled.get_or_init(|| {
            let many = |v: &[String]| {
                if v.is_empty() {
                    return None;
                }
                let pats: Vec<&str> = v.iter().map(String::as_str).collect();
                build_regex_many(&pats).ok()
            };
            let stopwords = if self.stopwords.is_empty() {
                None
            } else {
                aho_corasick::AhoCorasick::builder()
                    .ascii_case_insensitive(true)
                    .build(&self.stopwords)
                    .ok()
            };
            CompiledFilters {
                placeholders: many(&self.placeholders),
                stopwords,
                generic_ignore: many(&self.generic_ignore),
                generic_ignore_names: many(&self.generic_ignore_names),
            }
        })
    }

    /// Adds a file's filters; `check` compiles their patterns (built-in filters are checked by
    /// the test suite instead, so starting keyhound compiles nothing).
    fn merge(&mut self, file: &str, f: FiltersSyntax, check: bool) -> Result<(), RuleError> {
        for (field, pats) in [
            ("placeholders", &f.placeholders),
            ("generic_ignore", &f.generic_ignore),
            ("generic_ignore_names", &f.generic_ignore_names),
        ] {
            for p in pats.iter().filter(|_| check) {
                build_regex(p).map_err(|e| RuleError::Filter {
                    file: file.to_string(),
                    field,
                    message: format!("`{p}`: {e}"),
                })?;
            }
        }
        if f.stopwords.iter().any(|s| s.is_empty()) {
            return Err(RuleError::Filter {
                file: file.to_string(),
                field: "stopwords",
                message: "empty stopword".into(),
            });
        }
        for (field, n) in [
            ("max_repeat", f.max_repeat),
            ("max_sequence", f.max_sequence),
        ] {
            if n == Some(0) || n == Some(1) {
                return Err(RuleError::Filter {
                    file: file.to_string(),
                    field,
                    message: "must be at least 2".into(),
                });
            }
        }
        self.placeholders.extend(f.placeholders);
        self.stopwords.extend(f.stopwords);
        self.generic_ignore.extend(f.generic_ignore);
        self.generic_ignore_names.extend(f.generic_ignore_names);
        if let Some(n) = f.max_repeat {
            self.max_repeat = Some(self.max_repeat.map_or(n, |m| m.min(n)));
        }
        if let Some(n) = f.max_sequence {
            self.max_sequence = Some(self.max_sequence.map_or(n, |m| m.min(n)));
        }
        Ok(())
    }
}

/// All rules in effect for a run, in a stable order (built-ins by file, then user files).
#[derive(Debug, Default)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
    pub filters: Filters,
    /// What importing each gitleaks config did: rules skipped, fields ignored. The caller
    /// shows these to the user.
    pub imports: Vec<gitleaks::ImportReport>,
    /// Rule id → index in `rules`.
    index: std::collections::HashMap<String, usize>,
    /// The provider prefixes of `rules`, read on first use (`provider_prefix_verdict`).
    prefixes: OnceLock<prefixes::ProviderPrefixes>,
    /// The path rules a history's object pass leaves out, built on first use (`file_names`).
    file_names: OnceLock<file_names::FileNames>,
}

/// A rule file to load: a display name (path) and its text.
pub struct RuleSource {
    pub name: String,
    pub text: std::borrow::Cow<'static, str>,
    /// For built-in files: the line of each rule's `id:` in the original YAML.
    pub id_lines: &'static [(&'static str, usize)],
    /// Built-in rules are trusted: their `validate` blocks may contact the host they declare.
    /// Rules from `--rules` are not, unless the user allows the host (`--allow-validation-host`).
    /// Imported gitleaks rules are never trusted (and have no `validate` block).
    pub builtin: bool,
    pub format: RuleFormat,
    /// Whether the file may declare global `filters:`. A scanned repository's rule files may
    /// add rules, not filters: filters silence every rule's findings, uncounted.
    pub filters_allowed: bool,
}

impl RuleSource {
    /// A YAML rule file from outside the binary.
    pub fn yaml(name: impl Into<String>, text: impl Into<String>) -> RuleSource {
        RuleSource {
            name: name.into(),
            text: std::borrow::Cow::Owned(text.into()),
            id_lines: &[],
            builtin: false,
            format: RuleFormat::Yaml,
            filters_allowed: true,
        }
    }

    /// A gitleaks TOML config.
    pub fn gitleaks(name: impl Into<String>, text: impl Into<String>) -> RuleSource {
        RuleSource {
            name: name.into(),
            text: std::borrow::Cow::Owned(text.into()),
            id_lines: &[],
            builtin: false,
            format: RuleFormat::Gitleaks,
            filters_allowed: true,
        }
    }
}

impl RuleSet {
    /// The rules compiled into the binary, without their examples (all a scan needs).
    pub fn builtin() -> Result<RuleSet, RuleError> {
        RuleSet::load(builtin_sources(false))
    }

    /// The rules compiled into the binary, with their examples, for `rules check`.
    pub fn builtin_with_examples() -> Result<RuleSet, RuleError> {
        RuleSet::load(builtin_sources(true))
    }

    /// Loads and validates rule files. Duplicate ids, unknown pair targets and malformed
    /// fields are errors. User (non-built-in) patterns are compiled here so that a bad pattern
    /// fails the run at start; built-in patterns compile lazily (`rules check` covers them).
    pub fn load(sources: impl IntoIterator<Item = RuleSource>) -> Result<RuleSet, RuleError> {
        let mut set = RuleSet::default();
        let mut pending_pairs: Vec<(usize, syntax::PairSyntax)> = Vec::new();
        for src in sources {
            if src.format == RuleFormat::Gitleaks {
                set.import_gitleaks(&src)?;
                continue;
            }
            let file: RuleFileSyntax = if src.format == RuleFormat::BuiltinJson {
                serde_json::from_str(&src.text).map_err(|e| RuleError::Parse {
                    file: src.name.clone(),
                    line: 0,
                    column: 0,
                    message: e.to_string(),
                })?
            } else {
                parse_yaml(&src.name, &src.text)?
            };
            if let Some(f) = file.filters {
                if !src.filters_allowed {
                    return Err(RuleError::Filter {
                        file: src.name.clone(),
                        field: "filters",
                        message: "a scanned repository's rule files may add rules, not global \
                                  filters (they would hide every rule's findings); pass the file \
                                  with --rules to trust it"
                            .into(),
                    });
                }
                set.filters.merge(&src.name, f, !src.builtin)?;
            }
            for r in file.rules {
                let line = match src.id_lines.iter().find(|(id, _)| *id == r.id) {
                    Some(&(_, line)) => line,
                    None => line_of_id(&src.text, &r.id),
                };
                let origin = Origin {
                    file: clean(&src.name),
                    line,
                    builtin: src.builtin,
                    format: RuleFormat::Yaml,
                };
                set.check_unique(&r.id, &origin)?;
                let pair = r.pair.clone();
                let lazy = src.format == RuleFormat::BuiltinJson;
                let rule = validate_rule(r, file.provider.as_deref(), origin, lazy)?;
                if !rule.origin.builtin {
                    if let Err(e) = rule.compile_all() {
                        let field = ["secret_group", "allow", "stopwords", "path"]
                            .into_iter()
                            .find(|f| e.starts_with(f))
                            .unwrap_or("pattern");
                        return Err(invalid(&rule, field, e.to_string()));
                    }
                }
                if let Some(p) = pair {
                    pending_pairs.push((set.rules.len(), p));
                }
                set.push(rule);
            }
        }
        for (idx, p) in pending_pairs {
            let Some(&with) = set.index.get(&p.with) else {
                return Err(invalid(
                    &set.rules[idx],
                    "pair",
                    format!("no rule with id `{}`", p.with),
                ));
            };
            set.rules[idx].pair = Some(Pair {
                with,
                within_lines: p.within_lines,
            });
        }
        Ok(set)
    }

    fn push(&mut self, rule: Rule) {
        self.index.insert(rule.id.clone(), self.rules.len());
        self.rules.push(rule);
    }

    fn check_unique(&self, id: &str, origin: &Origin) -> Result<(), RuleError> {
        match self.get(id) {
            Some(prev) => Err(RuleError::Duplicate {
                id: id.to_string(),
                first: prev.origin.to_string(),
                second: origin.to_string(),
            }),
            None => Ok(()),
        }
    }

    /// Converts a gitleaks config and adds the rules that could be used. A rule whose pattern
    /// does not parse is skipped with a warning; a file of which nothing is usable is an
    /// error.
    fn import_gitleaks(&mut self, src: &RuleSource) -> Result<(), RuleError> {
        let gitleaks::Import { rules, mut report } = gitleaks::import(&src.name, &src.text)?;
        let mut imported = 0;
        for r in rules {
            let origin = Origin {
                file: clean(&src.name),
                line: r.line,
                // Never trusted, whatever the caller says: a gitleaks config cannot declare
                // a live check, and must not gain one.
                builtin: false,
                format: RuleFormat::Gitleaks,
            };
            self.check_unique(&r.syntax.id, &origin)?;
            let mut rule = match validate_rule(r.syntax, None, origin, false) {
                Ok(rule) => rule,
                Err(e) => {
                    report.skip(r.line, &r.gitleaks_id, "rule", e.to_string());
                    continue;
                }
            };
            if r.first_nonempty_group {
                rule.secret_group = SecretGroup::FirstNonEmpty;
            }
            // The importer has parsed every pattern, so syntax errors are already skipped
            // rules; compiling waits for first use, as for built-in rules (a config of 200
            // rules would otherwise cost every run its compile time). `rules check` compiles
            // them all.
            self.push(rule);
            imported += 1;
        }
        report.imported = imported;
        if imported == 0 {
            return Err(RuleError::NothingImported {
                file: src.name.clone(),
                warnings: report.warnings,
            });
        }
        self.imports.push(report);
        Ok(())
    }

    /// Built-in rules plus the rule files under each of `paths` (files or directories).
    pub fn with_user_rules(paths: &[PathBuf]) -> Result<RuleSet, RuleError> {
        RuleSet::with_user_rules_and(paths, false)
    }

    /// Like `with_user_rules`; `examples` also loads the built-in rules' examples.
    pub fn with_user_rules_and(paths: &[PathBuf], examples: bool) -> Result<RuleSet, RuleError> {
        let mut sources = builtin_sources(examples);
        for p in paths {
            sources.extend(read_rule_path(p)?);
        }
        RuleSet::load(sources)
    }

    /// Only the rule files under `paths`, trusted like built-in rules (their `validate` blocks
    /// may contact the hosts they declare). For embedding applications and tests that vouch for
    /// their rule files; the command line never loads user rules this way.
    pub fn trusted_files(paths: &[PathBuf]) -> Result<RuleSet, RuleError> {
        let mut sources = Vec::new();
        for p in paths {
            sources.extend(read_rule_path(p)?.into_iter().map(|mut s| {
                s.builtin = true;
                s
            }));
        }
        RuleSet::load(sources)
    }

    /// Keeps the rules `keep` accepts; pairings with a removed rule are dropped.
    pub fn retain(&mut self, keep: impl Fn(&Rule) -> bool) {
        let keep: Vec<bool> = self.rules.iter().map(keep).collect();
        // New index of each kept rule, to remap pairings.
        let mut new_index = Vec::with_capacity(keep.len());
        let mut n = 0;
        for &k in &keep {
            new_index.push(k.then_some(n));
            n += usize::from(k);
        }
        let mut i = 0;
        self.rules.retain(|_| {
            i += 1;
            keep[i - 1]
        });
        for r in &mut self.rules {
            r.pair = r.pair.and_then(|mut p| {
                p.with = new_index[p.with]?;
                Some(p)
            });
        }
        self.index = (self.rules.iter().enumerate())
            .map(|(i, r)| (r.id.clone(), i))
            .collect();
        self.prefixes = OnceLock::new();
        self.file_names = OnceLock::new();
    }

    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.index.get(id).map(|&i| &self.rules[i])
    }

    /// Which path rules a history's object pass leaves out, and which file names they take.
    pub fn file_names(&self) -> &file_names::FileNames {
        self.file_names
            .get_or_init(|| file_names::FileNames::new(&self.rules))
    }

    /// Why `value` is plainly not a token of the provider whose prefix it carries, a value no
    /// provider rule took (`prefixes`): then it is no generic finding either.
    pub fn provider_prefix_verdict(&self, value: &[u8]) -> Option<prefixes::Verdict> {
        self.prefixes
            .get_or_init(|| prefixes::ProviderPrefixes::new(&self.rules))
            .judge(&self.rules, value)
    }
}

/// The embedded rule files; `examples` includes the rules' examples and negative examples.
pub fn builtin_sources(examples: bool) -> Vec<RuleSource> {
    BUILTIN_RULE_FILES
        .iter()
        .map(|f| RuleSource {
            name: format!("rules/{}", f.name),
            text: std::borrow::Cow::Borrowed(if examples { f.full } else { f.scan }),
            id_lines: f.lines,
            builtin: true,
            format: RuleFormat::BuiltinJson,
            filters_allowed: true,
        })
        .collect()
}

/// Reads one rule file, or every `*.yaml`/`*.yml` file in a directory (sorted, recursive).
/// A file named `*.toml` is a gitleaks config; directories are searched for YAML files only
/// (a repository holds many TOML files that are not rules).
pub fn read_rule_path(path: &Path) -> Result<Vec<RuleSource>, RuleError> {
    let io_err = |source| RuleError::Io {
        file: path.display().to_string(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(io_err)?;
    let mut files = Vec::new();
    // The files of a rules directory must stay in it (no symbolic link out of it).
    let mut inside = None;
    if meta.is_dir() {
        collect_yaml(path, &mut files).map_err(io_err)?;
        files.sort();
        inside = Some(path);
    } else {
        files.push(path.to_path_buf());
    }
    files
        .into_iter()
        .map(|f| {
            // A regular file of bounded size: never a FIFO that blocks or a device that
            // never ends.
            let text = crate::files::read_text(&f, crate::files::MAX_TEXT_FILE, inside)?;
            let name = f.display().to_string();
            Ok(if is_toml(&f) {
                RuleSource::gitleaks(name, text)
            } else {
                RuleSource::yaml(name, text)
            })
        })
        .collect()
}

fn is_toml(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("toml"))
}

fn collect_yaml(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            collect_yaml(&path, out)?;
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        ) {
            out.push(path);
        }
    }
    Ok(())
}

fn parse_yaml<T: serde::de::DeserializeOwned>(file: &str, text: &str) -> Result<T, RuleError> {
    serde_yaml::from_str(text).map_err(|e| {
        let (line, column) = e
            .location()
            .map(|l| (l.line(), l.column()))
            .unwrap_or((0, 0));
        RuleError::Parse {
            file: file.to_string(),
            line,
            column,
            message: strip_location(&e.to_string()),
        }
    })
}

/// The YAML error text repeats the position that the error already shows (used for every YAML
/// file keyhound reads: rules, configuration, baselines).
pub(crate) fn strip_location(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

fn invalid(rule: &Rule, field: &'static str, message: String) -> RuleError {
    RuleError::Invalid {
        file: rule.origin.file.clone(),
        line: rule.origin.line,
        id: rule.id.clone(),
        field,
        message,
    }
}

fn valid_id(id: &str) -> bool {
    let mut parts = id.splitn(2, '.');
    let ok = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
            && !s.starts_with(['-', '.'])
            && !s.ends_with(['-', '.'])
    };
    matches!((parts.next(), parts.next()), (Some(a), Some(b)) if ok(a) && ok(b))
}

/// A rule's `validate` block. A user rule's is compiled as it loads, so that a mistake fails
/// the run at start; a built-in rule's is compiled on first use, since most runs never
/// validate (the test suite compiles every built-in block).
#[derive(Debug, Default)]
pub struct Validate {
    syntax: Option<(syntax::ValidateSyntax, bool)>,
    compiled: OnceLock<Option<validation::ValidateSpec>>,
}

impl Validate {
    fn compiled(spec: Option<validation::ValidateSpec>) -> Validate {
        Validate {
            syntax: None,
            compiled: OnceLock::from(spec),
        }
    }

    fn lazy(syntax: syntax::ValidateSyntax, paired: bool) -> Validate {
        Validate {
            syntax: Some((syntax, paired)),
            compiled: OnceLock::new(),
        }
    }

    /// The compiled block, if the rule declares one.
    pub fn as_ref(&self) -> Option<&validation::ValidateSpec> {
        self.compiled
            .get_or_init(|| {
                let (syntax, paired) = self.syntax.as_ref()?;
                validation::compile(syntax.clone(), *paired).ok()
            })
            .as_ref()
    }

    pub fn is_some(&self) -> bool {
        self.as_ref().is_some()
    }
}

fn validate_rule(
    r: RuleSyntax,
    file_provider: Option<&str>,
    origin: Origin,
    lazy: bool,
) -> Result<Rule, RuleError> {
    let r = RuleSyntax {
        pattern: pattern::expand(r.pattern),
        ..r
    };
    let err = |field: &'static str, message: String| RuleError::Invalid {
        file: origin.file.clone(),
        line: origin.line,
        id: r.id.clone(),
        field,
        message,
    };
    check_fields(&r).map_err(|(field, message)| err(field, message))?;
    // Shown to people: cleaned of anything that could act on a terminal.
    let name = clean(r.name.trim());
    if name.trim().is_empty() {
        return Err(err("name", "must not be empty".into()));
    }
    let provider = match r.provider.as_deref().or(file_provider).map(clean) {
        Some(p) if !p.trim().is_empty() => p.trim().to_string(),
        _ => {
            return Err(err(
                "provider",
                "missing (set it on the rule or the file)".into(),
            ))
        }
    };
    let validate = match r.validate.clone() {
        None => Validate::default(),
        Some(v) if lazy => Validate::lazy(v, r.pair.is_some()),
        Some(v) => Validate::compiled(Some(
            validation::compile(v, r.pair.is_some())
                .map_err(|(field, message)| err(field, message))?,
        )),
    };
    Ok(Rule {
        id: r.id,
        name,
        provider,
        keywords: r.keywords,
        pattern: r.pattern,
        path: r.path,
        binary: r.binary,
        negative_paths: r.negative_paths,
        min_entropy: r.min_entropy,
        confidence: r.confidence,
        rotate: r.rotate,
        checksum: r.checksum,
        pair: None,
        window: r.window,
        single_line: r.single_line,
        secret_group: r.secret_group.map_or(SecretGroup::Auto, SecretGroup::Index),
        allow: r.allow,
        stopwords: r.stopwords,
        generic: r.generic,
        skip_global_filters: r.skip_global_filters,
        decode: r.decode,
        inspect: r.inspect,
        weak: r.weak,
        partner_only: r.partner_only,
        examples: r.examples,
        negative_examples: r.negative_examples,
        validate,
        origin,
        compiled: OnceLock::new(),
        extras: OnceLock::new(),
    })
}

/// The checks on a rule's fields that need nothing but the rule: the field and the problem.
fn check_fields(r: &RuleSyntax) -> Result<(), (&'static str, String)> {
    if !valid_id(&r.id) {
        return Err((
            "id",
            "must look like `provider.kind`: lower-case letters, digits, `-`, with a dot".into(),
        ));
    }
    if r.keywords.is_empty() && r.path.is_none() {
        return Err((
            "keywords",
            "at least one keyword is required (only a rule with `path` may have none)".into(),
        ));
    }
    if r.binary && (r.path.is_none() || !r.keywords.is_empty()) {
        return Err((
            "binary",
            "a binary rule needs `path` and no keywords: it runs on the head of the content".into(),
        ));
    }
    if r.path.as_deref() == Some("") {
        return Err(("path", "must not be empty".into()));
    }
    if let Some(k) = r.keywords.iter().find(|k| k.len() < 3) {
        return Err((
            "keywords",
            format!("`{k}` is shorter than 3 bytes; short keywords make every scan slow"),
        ));
    }
    // `rules list` shows keywords; they are literals to find in text: whitespace (`key\t`)
    // but never escape sequences or invisible formatting.
    let odd = |c: char| text::is_unsafe(c) && !matches!(c, '\t' | '\n' | '\r');
    if r.keywords.iter().any(|k| k.chars().any(odd)) {
        return Err((
            "keywords",
            "a keyword holds a control or invisible formatting character".into(),
        ));
    }
    if r.pattern.is_empty() {
        return Err(("pattern", "must not be empty".into()));
    }
    if let Some(e) = r.min_entropy {
        if !(0.0..=8.0).contains(&e) {
            return Err((
                "min_entropy",
                "must be between 0 and 8 bits per byte".into(),
            ));
        }
    }
    if let Some(u) = &r.rotate {
        text::check_rotate_url(u).map_err(|e| ("rotate", e))?;
    }
    if r.window == Some(0) {
        return Err(("window", "must be positive".into()));
    }
    if r.stopwords.iter().any(|s| s.is_empty()) {
        return Err(("stopwords", "empty stopword".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(text: &str) -> Vec<RuleSource> {
        vec![RuleSource::yaml("user.yaml", text)]
    }

    const GOOD: &str = r#"
provider: Acme
rules:
  - id: acme.token
    name: Acme token
    keywords: [acme_]
    pattern: '\b(acme_[a-z0-9]{10})\b'
    rotate: https://acme.example/tokens
    examples: ["acme_0123456789"]
"#;

    #[test]
    fn loads_a_good_file() {
        let set = RuleSet::load(src(GOOD)).unwrap();
        let r = set.get("acme.token").unwrap();
        assert_eq!(r.provider, "Acme");
        assert_eq!(r.origin.line, 4);
        let c = r.compiled().unwrap();
        assert_eq!(c.secret_group, SecretGroup::Index(1));
        assert_eq!(c.window, 15);
    }

    #[test]
    fn retained_rules_are_found_by_id_and_keep_their_pairs() {
        let text = format!(
            "{GOOD}  - id: acme.secret\n    name: Acme secret\n    keywords: [acme_s]\n    \
             pattern: '\\b(acme_s[a-z0-9]{{10}})\\b'\n    \
             pair: {{ with: acme.token, within_lines: 2 }}\n    \
             rotate: https://acme.example/tokens\n    examples: [\"acme_s0123456789\"]\n"
        );
        let mut set = RuleSet::load(src(&text)).unwrap();
        set.retain(|r| r.id == "acme.secret");
        assert_eq!(set.rules.len(), 1);
        assert_eq!(set.get("acme.secret").unwrap().id, "acme.secret");
        assert!(set.get("acme.token").is_none());
        assert!(set.rules[0].pair.is_none());
    }

    #[test]
    fn unknown_field_names_file_line_and_field() {
        let text = GOOD.replace("    rotate:", "    rotat:");
        let e = RuleSet::load(src(&text)).unwrap_err().to_string();
        assert!(e.starts_with("user.yaml:8:"), "{e}");
        assert!(e.contains("unknown field `rotat`"), "{e}");
    }

    #[test]
    fn bad_type_names_the_field() {
        let text = GOOD.replace("keywords: [acme_]", "keywords: 3");
        let e = RuleSet::load(src(&text)).unwrap_err().to_string();
        assert!(e.contains("keywords"), "{e}");
        assert!(e.starts_with("user.yaml:6:"), "{e}");
    }

    #[test]
    fn bad_user_pattern_fails_at_load() {
        let text = GOOD.replace(r"'\b(acme_[a-z0-9]{10})\b'", "'(acme_['");
        let e = RuleSet::load(src(&text)).unwrap_err().to_string();
        assert!(
            e.contains("user.yaml:4: rule `acme.token`, field `pattern`"),
            "{e}"
        );
    }

    #[test]
    fn duplicate_ids_are_rejected() {
        let mut s = src(GOOD);
        s.extend(src(GOOD));
        let e = RuleSet::load(s).unwrap_err().to_string();
        assert!(e.contains("duplicate rule id `acme.token`"), "{e}");
    }

    #[test]
    fn id_format_is_enforced() {
        for bad in ["Acme.token", "acmetoken", "acme.", ".token", "acme token.x"] {
            let text = GOOD.replace("id: acme.token", &format!("id: \"{bad}\""));
            let e = RuleSet::load(src(&text)).unwrap_err().to_string();
            assert!(e.contains("field `id`"), "{bad}: {e}");
        }
    }

    #[test]
    fn short_keywords_are_rejected() {
        let text = GOOD.replace("keywords: [acme_]", "keywords: [ac]");
        let e = RuleSet::load(src(&text)).unwrap_err().to_string();
        assert!(e.contains("shorter than 3"), "{e}");
    }

    #[test]
    fn secret_group_must_exist_in_the_pattern() {
        let text = format!("{GOOD}    secret_group: 2\n");
        let e = RuleSet::load(src(&text)).unwrap_err().to_string();
        assert!(
            e.contains("rule `acme.token`, field `secret_group`: secret_group 2: the pattern has 1 capture group"),
            "{e}"
        );
    }

    #[test]
    fn pair_target_must_exist() {
        let text = format!("{GOOD}    pair: {{ with: acme.id }}\n");
        let e = RuleSet::load(src(&text)).unwrap_err().to_string();
        assert!(e.contains("no rule with id `acme.id`"), "{e}");
    }

    #[test]
    fn rule_text_is_cleaned_when_loaded() {
        let text = GOOD
            .replace("provider: Acme", "provider: \"Acme\\e[2J\\u202E\"")
            .replace(
                "name: Acme token",
                "name: \"Acme\\e]8;;https://x.example\\a token\\n\"",
            );
        let set = RuleSet::load(vec![RuleSource::yaml("user\x1b[31m.yaml", text)]).unwrap();
        let r = set.get("acme.token").unwrap();
        assert_eq!(r.provider, "Acme[2J");
        assert_eq!(r.name, "Acme]8;;https://x.example token");
        assert_eq!(r.origin.file, "user[31m.yaml");
    }

    #[test]
    fn rotate_must_be_a_plain_https_url() {
        for bad in [
            "http://acme.example/tokens",
            "https://user:pw@acme.example/",
            "\"https://acme.example/\\e[8m\"",
            "\"https://acme.example/\\u202Emoc\"",
            "\"https://acme.example/a b\"",
        ] {
            let text = GOOD.replace("https://acme.example/tokens", bad);
            let e = RuleSet::load(src(&text)).unwrap_err().to_string();
            assert!(
                e.starts_with("user.yaml:4: rule `acme.token`, field `rotate`: "),
                "{bad}: {e}"
            );
            assert!(!e.contains(['\x1b', '\u{202E}']), "{e}");
        }
    }

    #[test]
    fn keywords_hold_no_escape_sequences() {
        let text = GOOD.replace("keywords: [acme_]", "keywords: [\"acme\\e[2J\"]");
        let e = RuleSet::load(src(&text)).unwrap_err().to_string();
        assert!(
            e.contains("field `keywords`: a keyword holds a control"),
            "{e}"
        );
    }

    #[test]
    fn messages_quoting_a_rule_file_are_cleaned() {
        let text = GOOD.replace("id: acme.token", "id: \"acme\\e[2J.token\"");
        let e = RuleSet::load(src(&text)).unwrap_err().to_string();
        assert!(e.contains("rule `acme[2J.token`, field `id`"), "{e}");
        let text = GOOD.replace("keywords: [acme_]", "keywords: [\"\\e[\"]");
        let e = RuleSet::load(src(&text)).unwrap_err().to_string();
        assert!(
            e.contains("field `keywords`: `[` is shorter than 3 bytes"),
            "{e}"
        );
    }

    #[test]
    fn a_regex_error_names_rule_file_line_and_the_error() {
        let text = GOOD.replace(r"'\b(acme_[a-z0-9]{10})\b'", "'(acme_['");
        let e = RuleSet::load(src(&text)).unwrap_err().to_string();
        assert_eq!(
            e,
            "user.yaml:4: rule `acme.token`, field `pattern`: regex error at character 7 of \
             the pattern: unclosed character class"
        );
        let text = format!("{GOOD}    allow: ['(x']\n");
        let e = RuleSet::load(src(&text)).unwrap_err().to_string();
        assert!(
            e.starts_with("user.yaml:4: rule `acme.token`, field `allow`: allow: regex error"),
            "{e}"
        );
    }

    #[test]
    fn oversized_patterns_are_rejected_with_rule_and_line() {
        let text = GOOD.replace(r"'\b(acme_[a-z0-9]{10})\b'", "'acme_a{10000}'");
        let e = RuleSet::load(src(&text)).unwrap_err().to_string();
        assert!(
            e.starts_with("user.yaml:4: rule `acme.token`, field `pattern`: the regex is too large: it expands to 10005 NFA positions"),
            "{e}"
        );
        let text = format!("{GOOD}filters:\n  placeholders: ['x{{5000}}']\n");
        let e = RuleSet::load(src(&text)).unwrap_err().to_string();
        assert!(e.contains("filters, field `placeholders`"), "{e}");
    }

    #[test]
    fn every_builtin_rule_compiles_within_the_limits_and_its_text_is_clean() {
        let set = RuleSet::builtin().unwrap();
        for r in &set.rules {
            assert!(
                r.compile_all().is_ok(),
                "{}: {:?}",
                r.id,
                r.compile_all().err()
            );
            if let Some((syntax, paired)) = &r.validate.syntax {
                let compiled = validation::compile(syntax.clone(), *paired);
                assert!(compiled.is_ok(), "{}: {:?}", r.id, compiled.err());
            }
            assert_eq!(text::clean(&r.name), r.name, "{}", r.id);
            assert_eq!(text::clean(&r.provider), r.provider, "{}", r.id);
        }
        let filters = &set.filters;
        for p in (filters.placeholders.iter())
            .chain(&filters.generic_ignore)
            .chain(&filters.generic_ignore_names)
        {
            assert!(build_regex(p).is_ok(), "{p}");
        }
    }

    #[test]
    fn builtin_rules_load() {
        let set = RuleSet::builtin().unwrap();
        assert!(!set.rules.is_empty());
    }
}
