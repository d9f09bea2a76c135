//! Imports gitleaks (and Betterleaks) TOML configs as keyhound rules, for `--rules FILE.toml`.
//!
//! Owns the mapping from gitleaks' config format to `RuleSyntax` and the typed warnings about
//! what could not be mapped. Never compiles the final rules or prints anything: `RuleSet::load`
//! validates and compiles what this module produces, and the caller shows the warnings.
//!
//! What maps: `regex` → `pattern`, `secretGroup` → `secret_group` (unset: the first capture
//! group that matched, as gitleaks does), `entropy` → `min_entropy`, `keywords` → `keywords`,
//! `description` → `name`, `id` → `gitleaks.<id>`, allowlist `regexes` aimed at the secret →
//! `allow`, allowlist `stopwords` → `stopwords`. Global allowlists are merged into every rule
//! of the file (or the rules named in `targetRules`). keyhound runs a rule's regex only near
//! one of its keywords, so a rule without keywords, or with one shorter than 3 bytes, gets
//! keywords derived from literals every match of its regex contains.
//!
//! What does not map is reported, never dropped silently: a field keyhound cannot honour is
//! ignored with a warning when the rest of the rule still makes sense (a `path` filter,
//! allowlist `paths`, `commits`, `regexTarget = "match"`/`"line"`), and the rule is skipped
//! with a warning when it does not (a `path`-only rule, a regex that does not compile in
//! keyhound's ASCII dialect, no usable keyword).
//!
//! gitleaks reads its config through viper, which ignores the case of keys; so does this
//! module (`secretGroup`, `secretgroup` and `SecretGroup` are one field).

use std::fmt;
use std::ops::Range;

use regex_syntax::hir::literal::{ExtractKind, Extractor};
use regex_syntax::hir::{Class, Hir, HirKind};
use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::syntax::RuleSyntax;
use super::text::clean;
use super::RuleError;
use crate::finding::Confidence;

/// Prefix of every imported rule id: `gitleaks.<id>`.
pub const ID_PREFIX: &str = "gitleaks.";
/// Keywords shorter than this are refused by keyhound (they make every scan slow).
const MIN_KEYWORD: usize = 3;
/// Largest set of derived keywords worth using.
const MAX_DERIVED: usize = 64;

/// What keyhound did about a field it could not take over as gitleaks means it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// The field is not used; the rest of the rule (or file) is.
    Ignored,
    /// The field was changed so that the rule can run (keywords derived from the regex).
    Adjusted,
    /// The rule is not imported.
    Skipped,
}

/// One thing about a gitleaks config that keyhound does differently or not at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportWarning {
    pub file: String,
    pub line: usize,
    /// The gitleaks rule id (as written in the file), when the warning concerns one rule.
    pub rule: Option<String>,
    /// The field as written in the file: `path`, `allowlists[1].regexTarget`, `extend.useDefault`.
    pub field: String,
    pub effect: Effect,
    pub reason: String,
}

impl fmt::Display for ImportWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: ", self.file, self.line)?;
        match (&self.rule, self.effect) {
            (Some(r), Effect::Skipped) => write!(f, "rule `{r}` skipped: `{}`: ", self.field)?,
            (Some(r), Effect::Ignored) => write!(f, "rule `{r}`: `{}` ignored: ", self.field)?,
            (Some(r), Effect::Adjusted) => write!(f, "rule `{r}`: `{}` changed: ", self.field)?,
            (None, Effect::Skipped) => write!(f, "skipped: `{}`: ", self.field)?,
            (None, Effect::Ignored) => write!(f, "`{}` ignored: ", self.field)?,
            (None, Effect::Adjusted) => write!(f, "`{}` changed: ", self.field)?,
        }
        f.write_str(&self.reason)
    }
}

/// What importing one gitleaks config did.
#[derive(Debug, Clone, Default)]
pub struct ImportReport {
    pub file: String,
    /// `[[rules]]` entries in the file.
    pub rules_total: usize,
    /// Rules that made it into the rule set.
    pub imported: usize,
    pub warnings: Vec<ImportWarning>,
}

impl ImportReport {
    /// The warnings about rules that were not imported.
    pub fn skipped(&self) -> impl Iterator<Item = &ImportWarning> {
        self.warnings.iter().filter(|w| w.effect == Effect::Skipped)
    }

    pub(crate) fn skip(&mut self, line: usize, rule: &str, field: &str, reason: String) {
        self.push(line, Some(rule), field, Effect::Skipped, reason);
    }

    fn push(
        &mut self,
        line: usize,
        rule: Option<&str>,
        field: &str,
        effect: Effect,
        reason: String,
    ) {
        // Ids, keys and values quoted from the file are shown to people: cleaned here.
        self.warnings.push(ImportWarning {
            file: self.file.clone(),
            line,
            rule: rule.map(clean),
            field: clean(field),
            effect,
            reason: clean(&reason),
        });
    }
}

/// A converted rule, not yet validated or compiled.
#[derive(Debug)]
pub struct ImportedRule {
    pub syntax: RuleSyntax,
    /// Line of the rule's `id` in the file.
    pub line: usize,
    /// The id as written in the gitleaks file.
    pub gitleaks_id: String,
    /// No `secretGroup`: the secret is the first capture group that matched a non-empty text.
    pub first_nonempty_group: bool,
}

/// The rules of a gitleaks config and what could not be taken over.
#[derive(Debug)]
pub struct Import {
    pub rules: Vec<ImportedRule>,
    pub report: ImportReport,
}

/// Converts a gitleaks config. Only a file that is not TOML is an error; everything else
/// becomes a rule or a warning.
pub fn import(file: &str, text: &str) -> Result<Import, RuleError> {
    let doc = DeTable::parse(text).map_err(|e| {
        let (line, column) = e.span().map(|s| line_col(text, s.start)).unwrap_or((0, 0));
        RuleError::Parse {
            file: file.to_string(),
            line,
            column,
            message: e.message().trim().to_string(),
        }
    })?;
    let mut cx = Cx {
        line_starts: std::iter::once(0)
            .chain(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1))
            .collect(),
        report: ImportReport {
            file: clean(file),
            ..ImportReport::default()
        },
    };
    let mut provider = "gitleaks config".to_string();
    let mut globals: Vec<Allowlist> = Vec::new();
    let mut rule_tables = Vec::new();
    for (key, lower, value) in entries(doc.get_ref()) {
        let key = key.as_str();
        let line = cx.line(value.span());
        match lower.as_str() {
            "title" => match value.get_ref().as_str() {
                Some(t) if !t.trim().is_empty() => provider = t.trim().to_string(),
                _ => {}
            },
            // Metadata that changes nothing about what is found.
            "description" | "minversion" => {}
            "extend" => cx.extend(key, value),
            "allowlist" | "allowlists" => {
                for (label, table) in tables(key, value) {
                    match table {
                        Some(t) => {
                            if let Some(a) = cx.allowlist(&label, None, t, true) {
                                globals.push(a);
                            }
                        }
                        None => cx.ignored(line, None, &label, "must be a table".into()),
                    }
                }
            }
            "rules" => {
                for (label, table) in tables(key, value) {
                    rule_tables.push((label, table, line));
                }
            }
            _ => cx.ignored(line, None, key, "not a gitleaks config field".into()),
        }
    }

    let mut rules: Vec<ImportedRule> = Vec::new();
    let mut tagged = (0, 0);
    for (label, table, line) in &rule_tables {
        cx.report.rules_total += 1;
        let Some(table) = table else {
            cx.report
                .skip(*line, label, label, "a rule must be a table".into());
            continue;
        };
        if let Some(r) = cx.rule(label, table, &provider, &globals, &mut tagged) {
            // gitleaks keeps the last rule of an id; so does keyhound, and says so.
            if let Some(i) = rules.iter().position(|x| x.syntax.id == r.syntax.id) {
                let old = rules.remove(i);
                let reason = if old.gitleaks_id == r.gitleaks_id {
                    format!(
                        "the rule at line {} has the same id and replaces it",
                        r.line
                    )
                } else {
                    format!(
                        "the rule `{}` at line {} maps to the same keyhound id `{}` and replaces it",
                        r.gitleaks_id, r.line, r.syntax.id
                    )
                };
                cx.report.skip(old.line, &old.gitleaks_id, "id", reason);
            }
            rules.push(r);
        }
    }
    if tagged.0 > 0 {
        cx.ignored(
            tagged.1,
            None,
            "tags",
            format!(
                "keyhound rules have no tags (set on {} rule{})",
                tagged.0,
                if tagged.0 == 1 { "" } else { "s" }
            ),
        );
    }
    for g in &globals {
        for t in &g.targets {
            if !rule_tables.iter().any(|(_, table, _)| {
                table
                    .and_then(|t| string_field(t, "id"))
                    .is_some_and(|id| id == *t)
            }) {
                cx.ignored(
                    g.line,
                    None,
                    "targetRules",
                    format!("no rule with id `{t}` in this file"),
                );
            }
        }
    }
    cx.report.warnings.sort_by_key(|w| w.line);
    Ok(Import {
        rules,
        report: cx.report,
    })
}

/// An allowlist in the form keyhound can apply: regexes on the secret and stopwords.
#[derive(Debug, Default)]
struct Allowlist {
    line: usize,
    regexes: Vec<String>,
    stopwords: Vec<String>,
    /// `targetRules` of a global allowlist (empty: every rule).
    targets: Vec<String>,
}

struct Cx {
    /// Byte offset of the start of each line.
    line_starts: Vec<usize>,
    report: ImportReport,
}

type Value<'i> = Spanned<DeValue<'i>>;

impl Cx {
    fn line(&self, span: Range<usize>) -> usize {
        self.line_starts.partition_point(|&s| s <= span.start)
    }

    fn ignored(&mut self, line: usize, rule: Option<&str>, field: &str, reason: String) {
        self.report.push(line, rule, field, Effect::Ignored, reason);
    }

    fn extend(&mut self, key: &str, value: &Value<'_>) {
        let line = self.line(value.span());
        let Some(t) = value.get_ref().as_table() else {
            self.ignored(line, None, key, "must be a table".into());
            return;
        };
        for (k, lower, v) in entries(t) {
            let line = self.line(v.span());
            let field = format!("{key}.{k}");
            let reason = match lower.as_str() {
                "usedefault" => match v.get_ref().as_bool() {
                    Some(false) => continue,
                    _ => "keyhound does not import gitleaks' default rules; its own built-in \
                          rules run alongside this file's"
                        .to_string(),
                },
                "path" => "keyhound does not follow `extend.path`; pass that file with another \
                           `--rules` (ids defined in both files then clash)"
                    .to_string(),
                "url" => "keyhound does not fetch configs".to_string(),
                "disabledrules" => {
                    "it applies to an extended config, which keyhound does not import".to_string()
                }
                _ => "not a gitleaks config field".to_string(),
            };
            self.ignored(line, None, &field, reason);
        }
    }

    /// Converts one `[[rules]]` table; `None` when the rule is skipped (with a warning).
    fn rule(
        &mut self,
        label: &str,
        table: &DeTable<'_>,
        provider: &str,
        globals: &[Allowlist],
        tagged: &mut (usize, usize),
    ) -> Option<ImportedRule> {
        let fields = entries(table);
        let id_entry = fields.iter().find(|(_, l, _)| l == "id");
        let (gl_id, line) = match id_entry {
            Some((_, _, v)) => match v.get_ref().as_str() {
                Some(s) if !s.trim().is_empty() => (s.trim().to_string(), self.line(v.span())),
                _ => {
                    let line = self.line(v.span());
                    self.report
                        .skip(line, label, "id", "must be a non-empty string".into());
                    return None;
                }
            },
            None => {
                let line = fields.first().map_or(1, |(_, _, v)| self.line(v.span()));
                self.report.skip(line, label, "id", "missing".into());
                return None;
            }
        };
        let rid = gl_id.as_str();
        let skip = |cx: &mut Self, field: &str, reason: String| {
            cx.report.skip(line, rid, field, reason);
            None
        };

        let mut name: Option<String> = None;
        let mut regex: Option<(String, String)> = None;
        let mut secret_group: Option<(String, i64)> = None;
        let mut entropy: Option<(String, f64)> = None;
        let mut keywords: Option<(String, Vec<String>)> = None;
        let mut path: Option<(String, usize)> = None;
        let mut allowlists: Vec<Allowlist> = Vec::new();
        let mut skip_report = false;
        for (key, lower, v) in &fields {
            let vline = self.line(v.span());
            let key = key.as_str();
            let bad = |what: &str| format!("must be {what}");
            match lower.as_str() {
                "id" => {}
                "description" => match v.get_ref().as_str() {
                    Some(s) => name = Some(s.trim().to_string()),
                    None => return skip(self, key, bad("a string")),
                },
                "regex" => match v.get_ref().as_str() {
                    Some(s) => regex = Some((key.to_string(), s.to_string())),
                    None => return skip(self, key, bad("a string")),
                },
                "secretgroup" => match integer(v.get_ref()) {
                    Some(n) => secret_group = Some((key.to_string(), n)),
                    None => return skip(self, key, bad("an integer")),
                },
                "entropy" => match number(v.get_ref()) {
                    Some(n) => entropy = Some((key.to_string(), n)),
                    None => return skip(self, key, bad("a number")),
                },
                "keywords" => match strings(v.get_ref()) {
                    Some(k) => keywords = Some((key.to_string(), k)),
                    None => return skip(self, key, bad("a list of strings")),
                },
                "path" => path = Some((key.to_string(), vline)),
                "tags" => {
                    if tagged.0 == 0 {
                        tagged.1 = vline;
                    }
                    tagged.0 += 1;
                }
                "allowlist" | "allowlists" => {
                    for (alabel, t) in tables(key, v) {
                        match t {
                            Some(t) => {
                                if let Some(a) = self.allowlist(&alabel, Some(rid), t, false) {
                                    allowlists.push(a);
                                }
                            }
                            None => self.ignored(vline, Some(rid), &alabel, bad("a table")),
                        }
                    }
                }
                "required" => self.ignored(
                    vline,
                    Some(rid),
                    key,
                    "keyhound has no composite rules; the rule reports its matches without \
                     the rules it requires"
                        .into(),
                ),
                "skipreport" => match v.get_ref().as_bool() {
                    Some(b) => skip_report = b,
                    None => return skip(self, key, bad("true or false")),
                },
                _ => self.ignored(vline, Some(rid), key, "not a gitleaks rule field".into()),
            }
        }

        let Some(id) = keyhound_id(rid) else {
            return skip(
                self,
                "id",
                "has no letter or digit to build a keyhound id from".into(),
            );
        };
        if skip_report {
            return skip(
                self,
                "skipReport",
                "the rule only serves composite rules (`required`), which keyhound does not have"
                    .into(),
            );
        }
        let Some((regex_key, pattern)) = regex.filter(|(_, p)| !p.is_empty()) else {
            return match path {
                Some((k, _)) => skip(
                    self,
                    &k,
                    "a rule with only a path flags files by name; keyhound matches content".into(),
                ),
                None => skip(self, "regex", "missing".into()),
            };
        };
        if let Some((k, pline)) = &path {
            self.ignored(
                *pline,
                Some(rid),
                k,
                "keyhound does not restrict rules to file paths; the rule applies to every file"
                    .into(),
            );
        }

        let pattern = go_to_rust(&pattern);
        let hir = match parse_regex(&pattern) {
            Ok(h) => h,
            Err(e) => return skip(self, &regex_key, e),
        };
        // gitleaks runs a regex over the whole file; keyhound within a window around each
        // keyword hit. Unbounded patterns (PEM bodies, JWTs) get the widest automatic window
        // rather than the default, so long matches are still found whole.
        let window = match hir.properties().maximum_len() {
            Some(n) if n <= super::MAX_AUTO_WINDOW => None,
            _ => Some(super::MAX_AUTO_WINDOW),
        };

        let groups = hir.properties().explicit_captures_len();
        let secret_group = match secret_group {
            None | Some((_, 0)) => None,
            Some((k, n)) if n < 0 || n as usize > groups => {
                return skip(
                    self,
                    &k,
                    format!(
                        "{n}: the regex has {groups} capture group{}",
                        if groups == 1 { "" } else { "s" }
                    ),
                )
            }
            Some((_, n)) => Some(n as usize),
        };

        let min_entropy = match entropy {
            Some((k, e)) if e > 8.0 => {
                return skip(
                    self,
                    &k,
                    format!("{e}: above 8 bits per byte, no secret can reach it"),
                )
            }
            Some((k, e)) if e < 0.0 => {
                self.ignored(line, Some(rid), &k, format!("{e}: negative"));
                None
            }
            Some((_, e)) if e > 0.0 => Some(e),
            _ => None,
        };

        let keywords = match keywords {
            Some((_, k)) if !k.is_empty() && k.iter().all(|k| k.len() >= MIN_KEYWORD) => {
                let mut k: Vec<String> = k.iter().map(|k| k.to_ascii_lowercase()).collect();
                k.sort();
                k.dedup();
                k
            }
            given => {
                let (field, why) = match &given {
                    Some((key, k)) if !k.is_empty() => (
                        key.clone(),
                        format!(
                            "`{}` is shorter than {MIN_KEYWORD} bytes",
                            k.iter()
                                .find(|k| k.len() < MIN_KEYWORD)
                                .map_or("", String::as_str)
                        ),
                    ),
                    Some((key, _)) => (key.clone(), "empty".to_string()),
                    None => ("keywords".to_string(), "none given".to_string()),
                };
                match derive_keywords(&hir) {
                    Some(k) => {
                        self.report.push(
                            line,
                            Some(rid),
                            &field,
                            Effect::Adjusted,
                            format!(
                                "{why}; keyhound runs a regex only near a keyword, so it uses \
                                 text every match contains: {}",
                                k.join(", ")
                            ),
                        );
                        k
                    }
                    None => {
                        return skip(
                            self,
                            &field,
                            format!(
                            "{why}, and the regex has no literal of {MIN_KEYWORD} bytes or more \
                                 that every match contains, to use instead \
                                 (keyhound runs a regex only near a keyword)"
                        ),
                        )
                    }
                }
            }
        };

        let mut allow = Vec::new();
        let mut stopwords = Vec::new();
        let applicable = globals
            .iter()
            .filter(|g| g.targets.is_empty() || g.targets.iter().any(|t| t == rid));
        for a in allowlists.iter().chain(applicable) {
            allow.extend(a.regexes.iter().cloned());
            stopwords.extend(a.stopwords.iter().cloned());
        }
        allow.dedup();
        stopwords.sort();
        stopwords.dedup();

        Some(ImportedRule {
            syntax: RuleSyntax {
                id,
                name: name
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| rid.to_string()),
                provider: Some(provider.to_string()),
                keywords,
                pattern,
                path: None,
                binary: false,
                negative_paths: Vec::new(),
                min_entropy,
                confidence: Confidence::Medium,
                rotate: None,
                examples: Vec::new(),
                negative_examples: Vec::new(),
                checksum: None,
                pair: None,
                window,
                secret_group,
                allow,
                stopwords,
                generic: rid.to_ascii_lowercase().contains("generic"),
                skip_global_filters: false,
                single_line: false,
                decode: None,
                validate: None,
                inspect: None,
                weak: Vec::new(),
                partner_only: false,
            },
            line,
            gitleaks_id: rid.to_string(),
            first_nonempty_group: secret_group.is_none(),
        })
    }

    /// Converts an allowlist; `None` when none of it can be applied (with warnings).
    fn allowlist(
        &mut self,
        label: &str,
        rule: Option<&str>,
        table: &DeTable<'_>,
        global: bool,
    ) -> Option<Allowlist> {
        let mut out = Allowlist::default();
        let mut condition_and = None;
        let mut target: Option<(String, String, usize)> = None;
        let mut commits: Option<(String, usize)> = None;
        let mut paths: Option<(String, usize)> = None;
        let mut regexes: Vec<(String, usize)> = Vec::new();
        let mut regexes_key = String::new();
        let mut has_stopwords = false;
        let fields = entries(table);
        out.line = fields.first().map_or(1, |(_, _, v)| self.line(v.span()));
        for (key, lower, v) in &fields {
            let vline = self.line(v.span());
            let field = format!("{label}.{key}");
            let not_applied = |what: &str| format!("must be {what}; the allowlist is not applied");
            match lower.as_str() {
                "description" => {}
                "condition" => match v.get_ref().as_str().map(|s| s.trim().to_ascii_uppercase()) {
                    Some(c) if c.is_empty() || c == "OR" || c == "||" => {
                        condition_and = Some((false, field, vline))
                    }
                    Some(c) if c == "AND" || c == "&&" => {
                        condition_and = Some((true, field, vline))
                    }
                    _ => {
                        self.ignored(vline, rule, &field, not_applied("`OR` or `AND`"));
                        return None;
                    }
                },
                "regextarget" => match v.get_ref().as_str() {
                    Some(t @ ("" | "secret" | "match" | "line")) => {
                        target = Some((t.to_string(), field, vline))
                    }
                    _ => {
                        self.ignored(
                            vline,
                            rule,
                            &field,
                            not_applied("`secret`, `match` or `line`"),
                        );
                        return None;
                    }
                },
                "commits" | "paths" | "regexes" | "stopwords" | "targetrules" => {
                    let Some(list) = strings(v.get_ref()) else {
                        self.ignored(vline, rule, &field, not_applied("a list of strings"));
                        return None;
                    };
                    let lines: Vec<usize> = v
                        .get_ref()
                        .as_array()
                        .map(|a| a.iter().map(|x| self.line(x.span())).collect())
                        .unwrap_or_default();
                    match lower.as_str() {
                        "commits" if !list.is_empty() => commits = Some((field, vline)),
                        "paths" if !list.is_empty() => paths = Some((field, vline)),
                        "regexes" => {
                            regexes_key = field;
                            regexes = list.into_iter().zip(lines).collect();
                        }
                        "stopwords" => {
                            let words: Vec<String> = list
                                .into_iter()
                                .filter(|w| !w.is_empty())
                                .map(|w| w.to_ascii_lowercase())
                                .collect();
                            has_stopwords = !words.is_empty();
                            out.stopwords = words;
                        }
                        "targetrules" if global => out.targets = list,
                        "targetrules" => self.ignored(
                            vline,
                            rule,
                            &field,
                            "only global allowlists have target rules".into(),
                        ),
                        _ => {}
                    }
                }
                _ => self.ignored(vline, rule, &field, "not a gitleaks allowlist field".into()),
            }
        }
        let on_secret = target
            .as_ref()
            .is_none_or(|(t, _, _)| t.is_empty() || t == "secret");
        let kinds: Vec<&str> = [
            (commits.is_some(), "commits"),
            (paths.is_some(), "paths"),
            (!regexes.is_empty(), "regexes"),
            (has_stopwords, "stopwords"),
        ]
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, k)| *k)
        .collect();
        if kinds.is_empty() {
            self.ignored(
                out.line,
                rule,
                label,
                "it has no commits, paths, regexes or stopwords".into(),
            );
            return None;
        }
        if let Some((true, field, cline)) = &condition_and {
            if kinds.len() > 1 {
                self.ignored(
                    *cline,
                    rule,
                    field,
                    format!(
                        "keyhound cannot require {} to match together; the allowlist is not \
                         applied, so more may be reported",
                        kinds.join(" and ")
                    ),
                );
                return None;
            }
        }
        if let Some((field, line)) = &commits {
            self.ignored(
                *line,
                rule,
                field,
                "keyhound does not allowlist by commit".into(),
            );
        }
        if let Some((field, line)) = &paths {
            self.ignored(
                *line,
                rule,
                field,
                "keyhound does not allowlist by path; list such files in a `.ignore` file \
                 (gitignore syntax) instead"
                    .into(),
            );
        }
        if !regexes.is_empty() && !on_secret {
            let (t, field, line) = target
                .as_ref()
                .map_or(("", "", 0), |(t, f, l)| (t.as_str(), f.as_str(), *l));
            self.ignored(
                line,
                rule,
                field,
                format!(
                    "`{t}`: keyhound's allowlist regexes see only the secret; {} regex{} not \
                     applied",
                    regexes.len(),
                    if regexes.len() == 1 { " is" } else { "es are" }
                ),
            );
            regexes.clear();
        }
        for (i, (r, line)) in regexes.into_iter().enumerate() {
            let r = go_to_rust(&r);
            match parse_regex(&r).and_then(|_| super::build_regex(&r)) {
                Ok(_) => out.regexes.push(r),
                Err(e) => self.ignored(line, rule, &format!("{regexes_key}[{i}]"), e),
            }
        }
        if out.regexes.is_empty() && out.stopwords.is_empty() && out.targets.is_empty() {
            return None;
        }
        Some(out)
    }
}

/// `(original key, lower-case key, value)` of a table, in file order.
fn entries<'t, 'i>(table: &'t DeTable<'i>) -> Vec<(String, String, &'t Value<'i>)> {
    let mut v: Vec<_> = table
        .iter()
        .map(|(k, v)| {
            let k = k.get_ref().to_string();
            let lower = k.to_ascii_lowercase();
            (k, lower, v)
        })
        .collect();
    v.sort_by_key(|(_, _, v)| v.span().start);
    v
}

/// The tables of `[x]` or `[[x]]`, labelled `x` or `x[i]` (`None`: not a table).
fn tables<'t, 'i>(key: &str, value: &'t Value<'i>) -> Vec<(String, Option<&'t DeTable<'i>>)> {
    match value.get_ref() {
        DeValue::Table(t) => vec![(key.to_string(), Some(t))],
        DeValue::Array(a) => a
            .iter()
            .enumerate()
            .map(|(i, v)| (format!("{key}[{i}]"), v.get_ref().as_table()))
            .collect(),
        _ => vec![(key.to_string(), None)],
    }
}

fn string_field<'t>(table: &'t DeTable<'_>, lower: &str) -> Option<&'t str> {
    table
        .iter()
        .find(|(k, _)| k.get_ref().eq_ignore_ascii_case(lower))
        .and_then(|(_, v)| v.get_ref().as_str())
        .map(str::trim)
}

fn integer(v: &DeValue<'_>) -> Option<i64> {
    let i = v.as_integer()?;
    i64::from_str_radix(&i.as_str().replace('_', ""), i.radix()).ok()
}

fn number(v: &DeValue<'_>) -> Option<f64> {
    match v {
        DeValue::Float(f) => f.as_str().replace('_', "").parse().ok(),
        DeValue::Integer(_) => integer(v).map(|i| i as f64),
        _ => None,
    }
}

fn strings(v: &DeValue<'_>) -> Option<Vec<String>> {
    v.as_array()?
        .iter()
        .map(|s| s.get_ref().as_str().map(str::to_string))
        .collect()
}

/// 1-based line and column of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text.as_bytes()[..offset.min(text.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let col = before.len()
        - before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |p| p + 1)
        + 1;
    (line, col)
}

/// `gitleaks.<id>`, with the id lower-cased and every character keyhound ids do not allow
/// turned into `-`. `None` when nothing is left.
pub fn keyhound_id(gitleaks_id: &str) -> Option<String> {
    let mut out = String::new();
    for c in gitleaks_id.chars() {
        let c = c.to_ascii_lowercase();
        let c = if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' {
            c
        } else {
            '-'
        };
        if (c == '-' || c == '.') && (out.is_empty() || out.ends_with(['-', '.'])) {
            continue;
        }
        out.push(c);
    }
    let out = out.trim_end_matches(['-', '.']);
    (!out.is_empty()).then(|| format!("{ID_PREFIX}{out}"))
}

/// Rewrites the few Go (RE2) constructs that keyhound's regex dialect reads differently:
/// a `{` that does not start a repetition (`${VAR}`) is a literal in Go and an error here;
/// `[` inside a class is a literal in Go and a nested class here; `&&` and `~~` inside a
/// class are literals in Go and set operations here; `\Q…\E` quotes in Go only.
pub fn go_to_rust(pattern: &str) -> String {
    let c: Vec<char> = pattern.chars().collect();
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut i = 0;
    let mut in_class = false;
    let mut class_first = false;
    while i < c.len() {
        let ch = c[i];
        let next = c.get(i + 1).copied();
        if ch == '\\' {
            if next == Some('Q') && !in_class {
                i += 2;
                let mut quoted = String::new();
                while i < c.len() && !(c[i] == '\\' && c.get(i + 1) == Some(&'E')) {
                    quoted.push(c[i]);
                    i += 1;
                }
                out.push_str(&regex_syntax::escape(&quoted));
                i += 2;
                continue;
            }
            out.push(ch);
            if let Some(n) = next {
                out.push(n);
            }
            i += 2;
            class_first = false;
            continue;
        }
        if in_class {
            match ch {
                '[' if next == Some(':') => {
                    // A POSIX class, `[:alpha:]`, means the same in both.
                    let end = (i + 2..c.len().saturating_sub(1))
                        .find(|&j| c[j] == ':' && c[j + 1] == ']')
                        .map_or(i + 1, |j| j + 2);
                    out.extend(&c[i..end]);
                    i = end;
                    class_first = false;
                    continue;
                }
                '[' => out.push_str("\\["),
                ']' if !class_first => {
                    in_class = false;
                    out.push(']');
                }
                '&' | '~' if next == Some(ch) => {
                    out.push('\\');
                    out.push(ch);
                }
                _ => out.push(ch),
            }
            class_first = false;
        } else {
            match ch {
                '[' => {
                    in_class = true;
                    class_first = true;
                    out.push('[');
                    if next == Some('^') {
                        out.push('^');
                        i += 1;
                    }
                }
                '{' if !starts_repetition(&c[i + 1..]) => out.push_str("\\{"),
                _ => out.push(ch),
            }
        }
        i += 1;
    }
    out
}

/// Whether the text after a `{` makes it a counted repetition in Go: `n}`, `n,}`, `n,m}`.
fn starts_repetition(rest: &[char]) -> bool {
    let digits = |s: &[char]| s.iter().take_while(|c| c.is_ascii_digit()).count();
    let n = digits(rest);
    if n == 0 {
        return false;
    }
    match rest.get(n) {
        Some('}') => true,
        Some(',') => {
            let m = digits(&rest[n + 1..]);
            rest.get(n + 1 + m) == Some(&'}')
        }
        _ => false,
    }
}

/// Parses a (rewritten) pattern the way keyhound compiles it, within keyhound's size limits,
/// with a one-line error.
fn parse_regex(pattern: &str) -> Result<Hir, String> {
    let hir = super::pattern::parse(pattern)
        .map_err(|e| format!("does not compile in keyhound's dialect: {e}"))?;
    super::pattern::check_size(&hir)?;
    Ok(hir)
}

/// Keywords for a regex that has none: literals (at least 3 bytes, lower-cased) such that
/// every match of the regex contains one of them, so the keyword prefilter never hides a
/// match. `None` when the regex has no such set.
pub fn derive_keywords(hir: &Hir) -> Option<Vec<String>> {
    required(&fold_case(hir)).map(|lits| {
        lits.into_iter()
            .map(|l| String::from_utf8_lossy(&l).into_owned())
            .collect()
    })
}

/// The same regex with each ASCII-case-insensitive letter class (`[Kk]`, from `(?i)`) made
/// the lower-case literal: keywords match case-insensitively anyway, and literals extract
/// far better than classes.
fn fold_case(hir: &Hir) -> Hir {
    match hir.kind() {
        HirKind::Class(c) => match case_pair(c) {
            Some(b) => Hir::literal([b]),
            None => hir.clone(),
        },
        HirKind::Concat(subs) => Hir::concat(subs.iter().map(fold_case).collect()),
        HirKind::Alternation(subs) => Hir::alternation(subs.iter().map(fold_case).collect()),
        HirKind::Repetition(r) => {
            let mut r = r.clone();
            r.sub = Box::new(fold_case(&r.sub));
            Hir::repetition(r)
        }
        HirKind::Capture(c) => {
            let mut c = c.clone();
            c.sub = Box::new(fold_case(&c.sub));
            Hir::capture(c)
        }
        _ => hir.clone(),
    }
}

/// `Some(b'k')` for a class that is exactly `[Kk]`.
fn case_pair(c: &Class) -> Option<u8> {
    let ranges: Vec<(u32, u32)> = match c {
        Class::Bytes(b) => b
            .ranges()
            .iter()
            .map(|r| (u32::from(r.start()), u32::from(r.end())))
            .collect(),
        Class::Unicode(u) => u
            .ranges()
            .iter()
            .map(|r| (u32::from(r.start()), u32::from(r.end())))
            .collect(),
    };
    match ranges.as_slice() {
        [(a, a2), (b, b2)] if a == a2 && b == b2 => {
            let (a, b) = (u8::try_from(*a).ok()?, u8::try_from(*b).ok()?);
            (a.is_ascii_uppercase() && b == a.to_ascii_lowercase()).then_some(b)
        }
        _ => None,
    }
}

/// A set of literals every match of `hir` contains, or `None`.
fn required(hir: &Hir) -> Option<Vec<Vec<u8>>> {
    match hir.kind() {
        HirKind::Literal(l) => normalize(vec![l.0.to_vec()]),
        HirKind::Capture(c) => required(&c.sub),
        HirKind::Repetition(r) if r.min >= 1 => required(&r.sub),
        HirKind::Alternation(alts) => {
            let mut all = Vec::new();
            for a in alts {
                all.extend(required(a)?);
            }
            normalize(all)
        }
        HirKind::Concat(subs) => {
            let mut best: Option<Vec<Vec<u8>>> = None;
            for i in 0..subs.len() {
                for c in [required(&subs[i]), prefixes(&subs[i..])]
                    .into_iter()
                    .flatten()
                {
                    if best.as_ref().is_none_or(|b| score(&c) > score(b)) {
                        best = Some(c);
                    }
                }
            }
            best
        }
        _ => None,
    }
}

/// The prefixes every match of the concatenation `subs` starts with.
fn prefixes(subs: &[Hir]) -> Option<Vec<Vec<u8>>> {
    // A class of up to one alphabet (`[0-9a-fA-F]` after `SK`) may expand into literals.
    let seq = Extractor::new()
        .kind(ExtractKind::Prefix)
        .limit_class(26)
        .extract(&Hir::concat(subs.to_vec()));
    normalize(
        seq.literals()?
            .iter()
            .map(|l| l.as_bytes().to_vec())
            .collect(),
    )
}

/// Lower-cases, drops literals that contain another of the set (the shorter one finds them
/// too), and refuses sets with a literal too short or too many literals.
fn normalize(lits: Vec<Vec<u8>>) -> Option<Vec<Vec<u8>>> {
    let mut lits: Vec<Vec<u8>> = lits.into_iter().map(|l| l.to_ascii_lowercase()).collect();
    lits.sort_by(|a, b| a.len().cmp(&b.len()).then(a.cmp(b)));
    lits.dedup();
    let mut kept: Vec<Vec<u8>> = Vec::new();
    for l in lits {
        if !kept.iter().any(|k| contains(&l, k)) {
            kept.push(l);
        }
    }
    let ok = !kept.is_empty()
        && kept.len() <= MAX_DERIVED
        && kept.iter().all(|l| l.len() >= MIN_KEYWORD)
        && kept.iter().all(|l| std::str::from_utf8(l).is_ok());
    ok.then(|| {
        kept.sort();
        kept
    })
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle)
}

/// How rarely a set of literals is expected to occur in text, as a log: each byte of the
/// shortest literal makes it about 20 times rarer (up to 12 bytes); each literal in the set
/// adds its own chance, counted twice because a long list of near-identical keywords (a class
/// spelled out) helps the prefilter little and reads badly.
fn score(lits: &[Vec<u8>]) -> f64 {
    let shortest = lits.iter().map(Vec::len).min().unwrap_or(0).min(12);
    shortest as f64 * 20f64.ln() - 2.0 * (lits.len() as f64).ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn derive(p: &str) -> Option<Vec<String>> {
        derive_keywords(&super::super::pattern::parse(p).unwrap())
    }

    #[test]
    fn keywords_come_from_literals_every_match_contains() {
        assert_eq!(derive(r"\b(ghp_[A-Za-z0-9]{36})\b").unwrap(), ["ghp_"]);
        assert_eq!(
            derive(r"(?i)\b(sk_(?:live|test)_[a-z0-9]{24})").unwrap(),
            ["sk_live_", "sk_test_"]
        );
        assert_eq!(
            derive(r"(?i)[\w.-]{0,50}?(?:freshbooks)[ \t\w.-]{0,20}=\s*([a-z0-9]{64})").unwrap(),
            ["freshbooks"]
        );
        // A literal after an unbounded prefix still counts.
        assert_eq!(
            derive(r"[a-z]+@acme\.example\.com").unwrap(),
            ["@acme.example.com"]
        );
        // Alternatives each bring theirs.
        assert_eq!(
            derive(r"(?:AKIA|ASIA)[A-Z2-7]{16}|xoxb-[0-9]+").unwrap(),
            ["akia", "asia", "xoxb-"]
        );
    }

    #[test]
    fn no_keywords_without_a_usable_literal() {
        assert_eq!(derive(r"\b[a-f0-9]{40}\b"), None);
        assert_eq!(derive(r"(?:ab|[0-9]{8})"), None);
        assert_eq!(derive(r"x?[A-Z]{3}-[0-9]{4}"), None);
    }

    #[test]
    fn ids_become_keyhound_ids() {
        assert_eq!(keyhound_id("github-pat").unwrap(), "gitleaks.github-pat");
        assert_eq!(keyhound_id("My_Rule 2").unwrap(), "gitleaks.my-rule-2");
        assert_eq!(keyhound_id("--a..b--").unwrap(), "gitleaks.a.b");
        assert_eq!(keyhound_id("__"), None);
    }

    #[test]
    fn go_patterns_are_rewritten_where_the_dialects_differ() {
        assert_eq!(go_to_rust(r"^\${[A-Z_]+}$"), r"^\$\{[A-Z_]+}$");
        assert_eq!(go_to_rust(r"a{2}b{1,}c{1,3}"), r"a{2}b{1,}c{1,3}");
        assert_eq!(go_to_rust(r"x{,3}"), r"x\{,3}");
        assert_eq!(go_to_rust(r"[[:alpha:][]"), r"[[:alpha:]\[]");
        assert_eq!(go_to_rust(r"[]a&&b~~]"), r"[]a\&&b\~~]");
        assert_eq!(go_to_rust(r"[^]{]{2}"), r"[^]{]{2}");
        assert_eq!(go_to_rust(r"\Qa.b\E+"), r"a\.b+");
        assert_eq!(go_to_rust(r"\{\[x"), r"\{\[x");
        for p in [r"^\${[A-Z_]+}$", r"[[:alpha:][]", r"[]a&&b~~]", r"\Qa.b\E"] {
            parse_regex(&go_to_rust(p)).unwrap();
        }
    }

    fn import_str(text: &str) -> Import {
        import("t.toml", text).unwrap()
    }

    fn warnings(i: &Import) -> Vec<String> {
        i.report.warnings.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn imported_text_is_cleaned_and_oversized_regexes_are_skipped() {
        let toml = "title = \"Corp\\u001b[2J\"\n\
            [[rules]]\nid = \"tok\\u202Een\"\ndescription = \"Token\\u001b]8;;https://x.example\\u0007\"\n\
            regex = 'tok_[a-z]{12}'\nkeywords = [\"tok_\"]\n\"bogus\\u001b\" = 1\n\
            [[rules]]\nid = \"huge\"\nregex = 'huge_a{10000}'\nkeywords = [\"huge_\"]\n";
        let set = super::super::RuleSet::load(vec![super::super::RuleSource::gitleaks(
            "t\u{1b}.toml",
            toml,
        )])
        .unwrap();
        let r = &set.rules[0];
        assert_eq!(r.id, "gitleaks.tok-en");
        assert_eq!(r.name, "Token]8;;https://x.example");
        assert_eq!(r.provider, "Corp[2J");
        assert_eq!(r.origin.file, "t.toml");
        assert_eq!(set.rules.len(), 1);
        let w: Vec<String> = set.imports[0]
            .warnings
            .iter()
            .map(|w| w.to_string())
            .collect();
        assert!(
            w.contains(
                &"t.toml:7: rule `token`: `bogus` ignored: not a gitleaks rule field".into()
            ),
            "{w:?}"
        );
        assert!(
            w.iter().any(|w| w.starts_with(
                "t.toml:9: rule `huge` skipped: `regex`: the regex is too large: it expands to \
                 10005 NFA positions"
            )),
            "{w:?}"
        );
    }

    #[test]
    fn keys_are_case_insensitive_like_viper() {
        let i = import_str(
            r#"
[[Rules]]
ID = "x"
Regex = '''k_(a+)(b+)'''
SecretGroup = 2
Entropy = 1
Keywords = ["K_A"]
"#,
        );
        assert!(i.report.warnings.is_empty(), "{:?}", warnings(&i));
        let r = &i.rules[0].syntax;
        assert_eq!(r.id, "gitleaks.x");
        assert_eq!(r.secret_group, Some(2));
        assert_eq!(r.min_entropy, Some(1.0));
        assert_eq!(r.keywords, ["k_a"]);
        assert!(!i.rules[0].first_nonempty_group);
    }

    #[test]
    fn a_later_rule_with_the_same_id_wins() {
        let i = import_str(
            r#"
[[rules]]
id = "a"
regex = 'aaa1'
[[rules]]
id = "A"
regex = 'aaa2'
"#,
        );
        assert_eq!(i.rules.len(), 1);
        assert_eq!(i.rules[0].syntax.pattern, "aaa2");
        let w = warnings(&i);
        assert!(
            w.iter()
                .any(|w| w.starts_with("t.toml:3: rule `a` skipped: `id`: the rule `A` at line 6")),
            "{w:?}"
        );
    }

    #[test]
    fn impossible_values_skip_the_rule() {
        let i = import_str(
            r#"
[[rules]]
id = "g"
regex = 'key(a)'
secretGroup = 2
[[rules]]
id = "e"
regex = 'key(a)'
entropy = 9.5
[[rules]]
id = "s"
regex = 'key(a)'
skipReport = true
[[rules]]
id = "k"
regex = 'key(a)'
keywords = "key"
[[rules]]
regex = 'key(a)'
"#,
        );
        assert!(i.rules.is_empty());
        assert_eq!(i.report.rules_total, 5);
        let w = warnings(&i).join("\n");
        for want in [
            "rule `g` skipped: `secretGroup`: 2: the regex has 1 capture group",
            "rule `e` skipped: `entropy`: 9.5: above 8 bits per byte",
            "rule `s` skipped: `skipReport`",
            "rule `k` skipped: `keywords`: must be a list of strings",
            "rule `rules[4]` skipped: `id`: missing",
        ] {
            assert!(w.contains(want), "missing {want:?} in\n{w}");
        }
    }

    #[test]
    fn allowlists_map_to_allow_and_stopwords_where_they_can() {
        let i = import_str(
            r#"
[[allowlists]]
targetRules = ["b"]
regexes = ['^global']
[[allowlists]]
stopwords = ["Every"]
[[allowlists]]
targetRules = ["nope"]
stopwords = ["x1"]

[[rules]]
id = "a"
regex = 'key_(\w+)'
[[rules.allowlists]]
condition = "AND"
regexes = ['^one$']
[[rules.allowlists]]
condition = "AND"
regexes = ['^two$']
stopwords = ["three"]
[[rules.allowlists]]
regexTarget = "match"
regexes = ['four']
stopwords = ["five"]
[rules.allowlist]
regexes = ['(bad']

[[rules]]
id = "b"
regex = 'key_(\w+)'
"#,
        );
        let a = &i.rules[0].syntax;
        assert_eq!(a.allow, ["^one$"]);
        assert_eq!(a.stopwords, ["every", "five"]);
        let b = &i.rules[1].syntax;
        assert_eq!(b.allow, ["^global"]);
        assert_eq!(b.stopwords, ["every"]);
        let w = warnings(&i).join("\n");
        for want in [
            "rule `a`: `allowlists[1].condition` ignored: keyhound cannot require regexes and \
             stopwords",
            "rule `a`: `allowlists[2].regexTarget` ignored: `match`",
            "rule `a`: `allowlist.regexes[0]` ignored: does not compile",
            "`targetRules` ignored: no rule with id `nope` in this file",
        ] {
            assert!(w.contains(want), "missing {want:?} in\n{w}");
        }
    }

    #[test]
    fn unbounded_patterns_get_the_widest_window() {
        let i = import_str(
            r#"
[[rules]]
id = "pem"
regex = '''-----BEGIN[ A-Z]*PRIVATE KEY-----[\s\S]+?KEY-----'''
keywords = ["-----begin"]
[[rules]]
id = "short"
regex = 'tok_[a-z]{8}'
"#,
        );
        assert_eq!(
            i.rules[0].syntax.window,
            Some(crate::rules::MAX_AUTO_WINDOW)
        );
        assert_eq!(i.rules[1].syntax.window, None);
    }

    #[test]
    fn line_and_column_of_offsets() {
        assert_eq!(line_col("ab\ncd", 0), (1, 1));
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
    }
}
