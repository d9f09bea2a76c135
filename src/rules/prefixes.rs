//! Provider prefixes: the literal text a provider rule's secret starts with (`apify_api_`,
//! `xoxp-`, `cfut_`), read from the rule's pattern. A value that carries such a prefix is that
//! provider's to judge. Providers choose these prefixes so that their tokens can be recognised;
//! when the provider rule did not take a value with its prefix, a generic rule must not report
//! it under a secret-like name either if the value is plainly not a token of that provider:
//!
//! - the prefix is in a letter case the provider never issues (`APIFY_API_…` for `apify_api_`);
//! - the value is a quarter shorter than the shortest secret the rule accepts, or more (a
//!   truncated or made-up token; a few characters short may be a variant the rule does not
//!   know);
//! - the value is a whole token the rule accepts followed by a separator and more text
//!   (`apify_api_<36 characters>_extra`): the token, if it is one, is reported when it stands
//!   alone, and the glued text is no secret.
//!
//! A value with the right prefix and a plausible length whose characters the rule does not
//! expect is still reported by the generic rule: the rule may be stricter than the provider.
//!
//! Only prefixes the provider rule is certain to have looked at count: the rule runs near its
//! keywords, so a prefix counts when it contains one of them (the value then always brings the
//! rule to it). And only distinctive prefixes count: four characters or more with a separator
//! (`_`, `-`, `.` ...) and three letters or digits, and not a word many providers put in front
//! of their keys (`sk-`, `pk_`, `key-`, `live_`, `api_`), since a key of a provider keyhound
//! does not know may start the same way. Letters alone (`AKIA`, `EAAA`) are also how any
//! base64 value may start.

use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickKind};
use regex_automata::{meta, Anchored, Input};
use regex_syntax::hir::literal::{ExtractKind, Extractor};
use regex_syntax::hir::{Hir, HirKind};

use super::{pattern, Rule, SecretGroup};

/// Shortest prefix, in bytes, that counts.
const MIN_LEN: usize = 4;
/// Fewest letters and digits in a prefix that counts.
const MIN_ALNUM: usize = 3;
/// Prefixes whose letters and digits spell one of these belong to no one provider: many
/// issuers start keys with `key-`, `live_`, `test_`, `api_`, `secret_`, `token.`...
const SHARED: &[&str] = &[
    "access", "api", "app", "auth", "basic", "bearer", "client", "dev", "http", "https", "key",
    "live", "pass", "password", "pat", "prod", "sdk", "secret", "tok", "token", "test", "user",
];

/// The provider prefixes of a rule set. A rule's prefixes are read from its pattern the first
/// time a value holds one of its keywords near its start, so a scan parses the patterns of the
/// few rules its generic values bring up, not all of them.
#[derive(Debug)]
pub struct ProviderPrefixes {
    /// The keywords of the rules that can own prefixes (ASCII case-insensitive), ...
    keywords: Option<AhoCorasick>,
    /// ... and the rules of each.
    keyword_rules: Vec<Vec<usize>>,
    /// Each rule's prefixes, read on first need; `None` when it owns none.
    owners: Vec<OnceLock<Option<Owner>>>,
}

/// How far into a value a keyword of a prefix may end: past the longest prefix.
const PREFIX_SPAN: usize = 64;

/// A rule that owns prefixes, with what judging a value needs.
#[derive(Debug)]
struct Owner {
    /// The prefixes as the rule's pattern spells them (`(?i)` patterns give several).
    prefixes: Vec<Vec<u8>>,
    /// The secret's sub-pattern, its shortest length and its regex, compiled when first used.
    hir: Hir,
    min_len: usize,
    regex: OnceLock<Option<meta::Regex>>,
}

/// Why a value with a provider's prefix is not a generic finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The prefix in a letter case the rule does not accept.
    WrongCase,
    /// A quarter shorter than the shortest secret of the rule, or more.
    TooShort,
    /// A secret of the rule followed by a separator and more text.
    Suffixed,
}

impl ProviderPrefixes {
    /// Indexes the keywords of every rule that can judge a value on its own: not generic, not
    /// bound to a path, not a decoder.
    pub fn new(rules: &[Rule]) -> ProviderPrefixes {
        let mut words: Vec<Vec<u8>> = Vec::new();
        let mut keyword_rules: Vec<Vec<usize>> = Vec::new();
        for (i, r) in rules.iter().enumerate().filter(|(_, r)| can_own(r)) {
            for k in &r.keywords {
                let k = k.as_bytes().to_ascii_lowercase();
                match words.iter().position(|w| *w == k) {
                    Some(j) => keyword_rules[j].push(i),
                    None => {
                        words.push(k);
                        keyword_rules.push(vec![i]);
                    }
                }
            }
        }
        let keywords = (!words.is_empty())
            .then(|| {
                // Searched over a value's first bytes only: quick to build beats quick to run.
                AhoCorasick::builder()
                    .kind(Some(AhoCorasickKind::NoncontiguousNFA))
                    .ascii_case_insensitive(true)
                    .build(&words)
                    .ok()
            })
            .flatten();
        ProviderPrefixes {
            keywords,
            keyword_rules,
            owners: rules.iter().map(|_| OnceLock::new()).collect(),
        }
    }

    /// The rules whose prefix `value` starts with (letter case aside), by index.
    pub fn owners(&self, rules: &[Rule], value: &[u8]) -> Vec<usize> {
        let Some(ac) = &self.keywords else {
            return Vec::new();
        };
        let head = &value[..value.len().min(PREFIX_SPAN)];
        let mut out: Vec<usize> = Vec::new();
        for m in ac.find_overlapping_iter(head) {
            for &r in &self.keyword_rules[m.pattern().as_usize()] {
                if !out.contains(&r) && self.owner(rules, r).is_some_and(|o| o.carried_by(value)) {
                    out.push(r);
                }
            }
        }
        out
    }

    /// Whether `value`, which no provider rule took, is plainly not a token of the providers
    /// whose prefix it carries (see the module documentation); `None` when it carries none or
    /// may still be a token of one of them (two providers may share a prefix).
    pub fn judge(&self, rules: &[Rule], value: &[u8]) -> Option<Verdict> {
        let mut verdict = None;
        for r in self.owners(rules, value) {
            verdict = Some(self.owner(rules, r)?.judge(value)?);
        }
        verdict
    }

    /// Every prefix with the index of its rule (reads every rule's pattern).
    pub fn all(&self, rules: &[Rule]) -> Vec<(Vec<u8>, usize)> {
        (0..rules.len())
            .filter_map(|r| Some((r, self.owner(rules, r)?)))
            .flat_map(|(r, o)| o.prefixes.iter().map(move |p| (p.clone(), r)))
            .collect()
    }

    fn owner(&self, rules: &[Rule], r: usize) -> Option<&Owner> {
        self.owners[r]
            .get_or_init(|| {
                let rule = &rules[r];
                let (hir, prefixes) = can_own(rule).then(|| rule_prefixes(rule))??;
                let min_len = hir.properties().minimum_len().unwrap_or(0);
                Some(Owner {
                    prefixes,
                    hir,
                    min_len,
                    regex: OnceLock::new(),
                })
            })
            .as_ref()
    }
}

/// A rule that judges values on its own: not generic, not bound to a path, not a decoder.
fn can_own(r: &Rule) -> bool {
    !r.generic && r.path.is_none() && r.decode.is_none() && !r.binary
}

impl Owner {
    /// `value` starts with one of the prefixes, letter case aside.
    fn carried_by(&self, value: &[u8]) -> bool {
        (self.prefixes.iter()).any(|p| {
            value
                .get(..p.len())
                .is_some_and(|v| v.eq_ignore_ascii_case(p))
        })
    }

    /// Why `value`, which carries a prefix of the rule, is not one of its secrets; `None` when
    /// it may be one.
    fn judge(&self, value: &[u8]) -> Option<Verdict> {
        if !self.prefixes.iter().any(|p| value.starts_with(p)) {
            return Some(Verdict::WrongCase);
        }
        if value.len() * 4 < self.min_len * 3 {
            return Some(Verdict::TooShort);
        }
        let regex = (self.regex)
            .get_or_init(|| pattern::build_hirs(std::slice::from_ref(&self.hir)).ok())
            .as_ref()?;
        let m = regex.find(Input::new(value).anchored(Anchored::Yes))?;
        let next = *value.get(m.end())?;
        (!next.is_ascii_alphanumeric()).then_some(Verdict::Suffixed)
    }
}

/// The secret's sub-pattern of `rule` and its distinctive prefixes that contain one of the
/// rule's keywords, as the pattern spells them.
fn rule_prefixes(rule: &Rule) -> Option<(Hir, Vec<Vec<u8>>)> {
    let hir = pattern::parse(&rule.pattern).ok()?;
    // Where the secret is, as `compile_rule` decides, read without compiling the rule.
    let secret = match rule.secret_group {
        SecretGroup::Auto => named(&hir, "secret")
            .or_else(|| capture(&hir, 1))
            .or(Some(&hir)),
        SecretGroup::Index(0) => Some(&hir),
        SecretGroup::Index(g) => capture(&hir, g as u32),
        SecretGroup::FirstNonEmpty => None,
    }?;
    // A small class (`xox[abpr]-`) is spelled out; a larger one ends the prefix.
    let seq = Extractor::new()
        .kind(ExtractKind::Prefix)
        .limit_class(8)
        .extract(secret);
    let keywords: Vec<Vec<u8>> = (rule.keywords.iter())
        .map(|k| k.as_bytes().to_ascii_lowercase())
        .collect();
    let mut out: Vec<Vec<u8>> = Vec::new();
    for lit in seq.literals()? {
        let p = lit.as_bytes().to_vec();
        let lower = p.to_ascii_lowercase();
        if distinctive(&p) && keywords.iter().any(|k| contains(&lower, k)) && !out.contains(&p) {
            out.push(p);
        }
    }
    (!out.is_empty()).then(|| (secret.clone(), out))
}

/// Long enough, with a separator and enough letters and digits, and not a word shared by many
/// issuers.
fn distinctive(p: &[u8]) -> bool {
    let alnum: Vec<u8> = (p.iter().copied())
        .filter(u8::is_ascii_alphanumeric)
        .map(|b| b.to_ascii_lowercase())
        .collect();
    p.len() >= MIN_LEN
        && alnum.len() >= MIN_ALNUM
        && alnum.len() < p.len()
        && !SHARED.iter().any(|w| w.as_bytes() == alnum.as_slice())
}

/// The sub-expression of capture group `index`.
fn capture(hir: &Hir, index: u32) -> Option<&Hir> {
    find_capture(hir, &|c| c.index == index)
}

/// The sub-expression of the capture group called `name`.
fn named<'a>(hir: &'a Hir, name: &str) -> Option<&'a Hir> {
    find_capture(hir, &|c| c.name.as_deref() == Some(name))
}

fn find_capture<'a>(
    hir: &'a Hir,
    wanted: &dyn Fn(&regex_syntax::hir::Capture) -> bool,
) -> Option<&'a Hir> {
    match hir.kind() {
        HirKind::Capture(c) if wanted(c) => Some(&c.sub),
        HirKind::Capture(c) => find_capture(&c.sub, wanted),
        HirKind::Repetition(r) => find_capture(&r.sub, wanted),
        HirKind::Concat(subs) | HirKind::Alternation(subs) => {
            subs.iter().find_map(|s| find_capture(s, wanted))
        }
        _ => None,
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{RuleSet, RuleSource};

    fn set(yaml: &str) -> RuleSet {
        RuleSet::load(vec![RuleSource::yaml("t.yaml", yaml)]).unwrap()
    }

    const RULES: &str = r#"
provider: Test
rules:
  - id: acme.token
    name: Acme token
    keywords: [acme_tok_]
    pattern: '\b(acme_tok_[A-Za-z0-9]{30})\b'
    rotate: https://acme.io
    examples: ['x = acme_tok_Zq9vX2mK7pL4wR8nZq9vX2mK7pL4wR']
  - id: acme.chat
    name: Acme chat token
    keywords: [xoxq-]
    pattern: '(?P<secret>xox[qw]-[0-9]{10}-[A-Za-z0-9]{24})'
    rotate: https://acme.io
    examples: ['xoxq-1234567890-Zq9vX2mK7pL4wR8nZq9vX2mK']
  - id: acme.keyword-near
    name: Found only near the word acme
    keywords: [acmecorp]
    pattern: 'acmecorp.{0,40}(ak_z[A-Za-z0-9]{30})'
    rotate: https://acme.io
    examples: ['acmecorp ak_zZq9vX2mK7pL4wR8nZq9vX2mK7pL4wR']
  - id: acme.short
    name: A short prefix
    keywords: [sk-]
    pattern: '(sk-[a-f0-9]{32})'
    rotate: https://acme.io
    examples: ['sk-0f1e2d3c4b5a69788796a5b4c3d2e1f0']
  - id: acme.word
    name: A prefix many issuers use
    keywords: [live_]
    pattern: '(live_[a-f0-9]{32})'
    rotate: https://acme.io
    examples: ['live_0f1e2d3c4b5a69788796a5b4c3d2e1f0']
  - id: acme.assign
    name: Generic rules judge no one else's values
    keywords: [gen_tok_]
    pattern: '(gen_tok_[a-z]{5,})'
    generic: true
    examples: ['gen_tok_qwzxy']
"#;

    #[test]
    fn prefixes_that_contain_a_keyword_count() {
        let s = set(RULES);
        let p = ProviderPrefixes::new(&s.rules);
        let all: Vec<(String, &str)> = (p.all(&s.rules).into_iter())
            .map(|(q, i)| (String::from_utf8_lossy(&q).into(), s.rules[i].id.as_str()))
            .collect();
        assert_eq!(
            all,
            vec![
                ("acme_tok_".into(), "acme.token"),
                ("xoxq-".into(), "acme.chat")
            ]
        );
    }

    #[test]
    fn owner_ignores_case_and_needs_the_prefix_at_the_start() {
        let s = set(RULES);
        let p = ProviderPrefixes::new(&s.rules);
        let id =
            |v: &str| (p.owners(&s.rules, v.as_bytes()).first()).map(|&i| s.rules[i].id.clone());
        assert_eq!(id("acme_tok_short").as_deref(), Some("acme.token"));
        assert_eq!(
            id("ACME_TOK_Zq9vX2mK7pL4wR8n").as_deref(),
            Some("acme.token")
        );
        assert_eq!(
            id("xoxq-1234-1234-1234-4ddbc191").as_deref(),
            Some("acme.chat")
        );
        // Spelled out from a class, but the keyword names only one of them.
        assert_eq!(id("xoxw-1234567890-Zq9vX2mK7pL4wR8nZq9vX2mK"), None);
        assert_eq!(id("my_acme_tok_Zq9vX2mK7pL4wR8n"), None);
        // A rule that runs only near another word never saw the value; short and shared
        // prefixes are left to generic rules.
        assert_eq!(id("ak_zZq9vX2mK7pL4wR8nZq9vX2mK7pL4wR"), None);
        assert_eq!(id("sk-ba588036180d4d1d9cebbf"), None);
        assert_eq!(id("live_ba588036180d4d1d9cebbf"), None);
        assert_eq!(id("gen_tok_qwzxy"), None);
    }

    #[test]
    fn judged_by_the_owner() {
        let s = set(RULES);
        let p = ProviderPrefixes::new(&s.rules);
        let judge = |v: &str| p.judge(&s.rules, v.as_bytes());
        let token = "acme_tok_Zq9vX2mK7pL4wR8nZq9vX2mK7pL4wR";
        assert_eq!(judge(&token.to_uppercase()), Some(Verdict::WrongCase));
        assert_eq!(judge("acme_tok_Zq9vX2mK7pL4"), Some(Verdict::TooShort));
        // A few characters short may be a variant the rule does not know.
        assert_eq!(judge(&token[..token.len() - 4]), None);
        assert_eq!(judge(&format!("{token}_extra")), Some(Verdict::Suffixed));
        assert_eq!(judge(&format!("{token}-2")), Some(Verdict::Suffixed));
        // The rule's prefix and length with characters it does not expect: the rule may be
        // stricter than the provider, so the generic rule still reports it.
        assert_eq!(judge("acme_tok_zq9vx2mk7pl4wr8nzq9vx2mk7pl4w=="), None);
        assert_eq!(judge(&format!("{token}Xy")), None);
        assert_eq!(judge("Zq9vX2mK7pL4wR8nZq9vX2mK7pL4wR"), None);
    }

    #[test]
    fn a_shared_prefix_is_judged_by_every_rule_that_has_it() {
        let s = set(r#"
provider: Test
rules:
  - id: acme.long
    name: Long
    keywords: [acme_]
    pattern: '\b(acme_[a-z0-9]{46})\b'
    rotate: https://acme.io
    examples: ['acme_0123456789abcdefghij0123456789abcdefghij012345']
  - id: other.short
    name: Short
    keywords: [acme_]
    pattern: '\b(acme_[a-z0-9]{30})\b'
    rotate: https://acme.io
    examples: ['acme_0123456789abcdefghij0123456789']
"#);
        let p = ProviderPrefixes::new(&s.rules);
        // Too short for one, a plausible length (with a character neither expects) for the other.
        assert_eq!(
            p.judge(&s.rules, b"acme_q8zk2m5x9wr4t7yb1nc6vh3js0dfg-"),
            None
        );
        assert_eq!(p.judge(&s.rules, b"acme_q8zk2m"), Some(Verdict::TooShort));
    }

    #[test]
    fn distinctive_prefixes() {
        for p in [
            "xoxp-",
            "glpat-",
            "apify_api_",
            "phx_",
            "HRKU-AA",
            "sk-admin-",
            "dp.pt.",
        ] {
            assert!(distinctive(p.as_bytes()), "{p}");
        }
        for p in [
            "sk-", "pk_", "eyJ", "key-", "LIVE_", "api_", "secret_", "r8_", "$1$", "1//0",
        ] {
            assert!(!distinctive(p.as_bytes()), "{p}");
        }
        // Letters alone are how any base64 value may start.
        for p in ["AKIA", "EAAA", "AIza", "mainnet"] {
            assert!(!distinctive(p.as_bytes()), "{p}");
        }
    }
}

#[cfg(test)]
mod builtin {
    use super::*;
    use crate::rules::RuleSet;

    #[test]
    fn builtin_prefixes() {
        let set = RuleSet::builtin().unwrap();
        let t = std::time::Instant::now();
        let p = ProviderPrefixes::new(&set.rules);
        let took = t.elapsed();
        let prefixes = p.all(&set.rules);
        let all: Vec<String> = (prefixes.iter())
            .map(|(q, i)| format!("{} {}", String::from_utf8_lossy(q), set.rules[*i].id))
            .collect();
        if std::env::var_os("KEYHOUND_PRINT_PREFIXES").is_some() {
            eprintln!("{} prefixes in {took:?}\n{}", all.len(), all.join("\n"));
        }
        let has = |q: &str| {
            prefixes
                .iter()
                .any(|(x, _)| x.eq_ignore_ascii_case(q.as_bytes()))
        };
        for q in [
            "apify_api_",
            "xoxp-",
            "glpat-",
            "phx_",
            "sk-admin-",
            "hrku-aa",
            "cfut_",
        ] {
            assert!(has(q), "{q}");
        }
        for q in [
            "sk-", "pk_", "key-", "live_", "secret_", "eyj", "akia", "eaaa",
        ] {
            assert!(!has(q), "{q}");
        }
    }
}
