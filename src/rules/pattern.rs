//! How every regex from a rule file is parsed, limited and compiled: rule patterns, `allow`
//! patterns and the global filters, built-in or not.
//!
//! Patterns are byte regexes with ASCII-only classes and case folding (`unicode(false)`),
//! matching arbitrary bytes (`utf8(false)`). A pattern may expand to at most
//! `MAX_POSITIONS` NFA positions and `MAX_RANGES` byte ranges: counted repetitions multiply
//! the size of what they repeat (`a{10000}` is 10,000 positions). The positions bound the
//! work per input byte when the regex engine falls back from its lazy DFA to the PikeVM
//! (linear in the input, times the number of NFA states that can be active at once), and
//! both bound the memory of the compiled regex. The largest built-in pattern
//! (`github.server-to-server-token`) takes 2,466 positions and 12,143 ranges; the limits
//! leave 1.6× and 2.7× that. regex-automata's own NFA size limit is set above what any
//! pattern within these limits needs, so it only backs them up.

use regex_automata::util::syntax as re_syntax;
use regex_automata::{hybrid, meta, nfa::thompson};
use regex_syntax::hir::{Class, Hir, HirKind};

/// Most NFA positions (literal bytes, classes, assertions, counted repetitions expanded) a
/// pattern may have.
pub const MAX_POSITIONS: u64 = 4096;
/// Most byte ranges over all of a pattern's classes, repetitions expanded.
pub const MAX_RANGES: u64 = 32 * 1024;
/// regex-automata's limit on one compiled NFA (forward or reverse), in bytes of heap.
const NFA_SIZE_LIMIT: usize = 4 << 20;
/// The lazy DFA's cache per regex and thread (regex-automata's default, made explicit): what
/// one rule's regex can hold in each thread's scratch.
pub const HYBRID_CACHE_CAPACITY: usize = 2 << 20;

/// What `(?&assign)` in a rule's pattern stands for: everything between a name and the value
/// assigned to it, as code and configuration files write it. In order: the closing quotes and
/// bracket of a quoted name (`"KEY"`, `\"KEY\"`, `ENV["KEY"]`); then an operator (`=`, `:`,
/// `=>`, `:=`, `::=`, `:::=`, `?=`, `+=`, `.=`, `,`, `>`) with the value on the same line or,
/// indented, on the next; or a typed declaration (`: String =`, ` string =`, ` []*Type =`); or
/// plain spaces (`ENV KEY value`, `-key value`); and last the value's opening quotes or backtick.
/// Rules that find a key by its name write `(?i:<name>)(?&assign)(<value>)`, so that what
/// counts as assigning a value is decided here, once.
pub const ASSIGN: &str = concat!(
    r#"[\\"']*\]?[\\"']*"#,
    r#"(?:[ \t]*(?:=>|:{1,3}=|[?+.]=|[:=,>])[ \t]*(?:\r?\n[ \t]*)?"#,
    r#"|[ \t]*:[ \t]*[A-Za-z_][\w.<>\[\]?]*[ \t]*=[ \t]*"#,
    r#"|[ \t]+(?:\[\])?\*?[A-Za-z_][\w.]*[ \t]+=[ \t]*"#,
    r#"|[ \t]+)"#,
    r#"[\\"'\x60]*"#,
);

/// The placeholder for `ASSIGN` in rule patterns (PCRE's syntax for calling a named group,
/// which the `regex` crate does not have, so it cannot mean anything else).
const ASSIGN_CALL: &str = "(?&assign)";

/// A rule's pattern as written, with `(?&assign)` replaced by `ASSIGN`.
pub fn expand(pattern: String) -> String {
    match pattern.contains(ASSIGN_CALL) {
        true => pattern.replace(ASSIGN_CALL, ASSIGN),
        false => pattern,
    }
}

/// The syntax every rule regex is parsed with.
fn syntax() -> re_syntax::Config {
    re_syntax::Config::new().unicode(false).utf8(false)
}

/// Parses a pattern, with a one-line error that says where in the pattern the problem is.
pub fn parse(pattern: &str) -> Result<Hir, String> {
    re_syntax::parse_with(pattern, &syntax()).map_err(|e| syntax_error(&e))
}

/// Parses a pattern and checks it against the size limits.
pub fn parse_limited(pattern: &str) -> Result<Hir, String> {
    let hir = parse(pattern)?;
    check_size(&hir)?;
    Ok(hir)
}

/// Compiles one pattern (see `build_many`).
pub fn build(pattern: &str) -> Result<meta::Regex, String> {
    build_many(&[pattern])
}

/// Compiles patterns into one regex that matches any of them, after checking each against
/// the size limits.
pub fn build_many(patterns: &[&str]) -> Result<meta::Regex, String> {
    let hirs = patterns
        .iter()
        .map(|p| parse_limited(p))
        .collect::<Result<Vec<_>, _>>()?;
    build_hirs(&hirs)
}

/// Compiles parsed (and size-checked) patterns.
pub fn build_hirs(hirs: &[Hir]) -> Result<meta::Regex, String> {
    meta::Builder::new()
        .configure(
            meta::Config::new()
                .utf8_empty(false)
                .nfa_size_limit(Some(NFA_SIZE_LIMIT))
                .hybrid_cache_capacity(HYBRID_CACHE_CAPACITY)
                .onepass(false)
                .auto_prefilter(false),
        )
        .build_many_from_hir(hirs)
        .map_err(|e| match e.size_limit() {
            Some(limit) => format!("the compiled regex exceeds the size limit of {limit} bytes"),
            None => e.to_string(),
        })
}

/// The index of the capture group named `name`, if there is one.
pub fn group_index(hir: &Hir, name: &str) -> Option<usize> {
    match hir.kind() {
        HirKind::Capture(c) if c.name.as_deref() == Some(name) => Some(c.index as usize),
        HirKind::Capture(c) => group_index(&c.sub, name),
        HirKind::Repetition(r) => group_index(&r.sub, name),
        HirKind::Concat(subs) | HirKind::Alternation(subs) => {
            subs.iter().find_map(|h| group_index(h, name))
        }
        HirKind::Empty | HirKind::Literal(_) | HirKind::Class(_) | HirKind::Look(_) => None,
    }
}

/// Compiles patterns into a Thompson NFA configured as `build_hirs` configures the one inside
/// its regex, with or without capture groups: rule patterns run on the lower-level engines
/// (see `rules::CompiledRule`).
pub fn build_nfa(hirs: &[Hir], captures: bool) -> Result<thompson::NFA, String> {
    let which = match captures {
        true => thompson::WhichCaptures::All,
        false => thompson::WhichCaptures::None,
    };
    thompson::Compiler::new()
        .configure(
            thompson::Config::new()
                .utf8(false)
                .nfa_size_limit(Some(NFA_SIZE_LIMIT))
                .which_captures(which),
        )
        .build_many_from_hir(hirs)
        .map_err(|e| match e.size_limit() {
            Some(limit) => format!("the compiled regex exceeds the size limit of {limit} bytes"),
            None => e.to_string(),
        })
}

/// A lazy DFA over `nfa` configured as the one inside a `build_hirs` regex: leftmost-first,
/// `HYBRID_CACHE_CAPACITY` per cache, giving up (so that the caller falls back on the NFA
/// engines) when its cache thrashes. `None` if the NFA cannot have one.
pub fn build_lazy_dfa(nfa: thompson::NFA) -> Option<hybrid::dfa::DFA> {
    hybrid::dfa::Builder::new()
        .configure(
            hybrid::dfa::Config::new()
                .match_kind(regex_automata::MatchKind::LeftmostFirst)
                .unicode_word_boundary(true)
                .cache_capacity(HYBRID_CACHE_CAPACITY)
                .skip_cache_capacity_check(false)
                .minimum_cache_clear_count(Some(3))
                .minimum_bytes_per_state(Some(10)),
        )
        .build_from_nfa(nfa)
        .ok()
}

/// Rejects a pattern whose expansion exceeds `MAX_POSITIONS` or `MAX_RANGES`.
pub fn check_size(hir: &Hir) -> Result<(), String> {
    let (positions, ranges) = size(hir);
    if positions > MAX_POSITIONS {
        return Err(format!(
            "the regex is too large: it expands to {} NFA positions (at most {MAX_POSITIONS}); \
             large counted repetitions such as `{{1000}}` multiply the size of what they repeat",
            shown(positions)
        ));
    }
    if ranges > MAX_RANGES {
        return Err(format!(
            "the regex is too large: its character classes expand to {} byte ranges (at most \
             {MAX_RANGES}); repeat smaller classes",
            shown(ranges)
        ));
    }
    Ok(())
}

fn shown(n: u64) -> String {
    if n == u64::MAX {
        "more than 2^64".into()
    } else {
        n.to_string()
    }
}

/// `(positions, ranges)` of a pattern with its repetitions expanded, as the NFA compiler
/// expands them: `x{n,m}` is `m` copies of `x`, `x{n,}` is `n + 1`. Saturating.
fn size(hir: &Hir) -> (u64, u64) {
    match hir.kind() {
        HirKind::Empty => (0, 0),
        HirKind::Literal(lit) => (lit.0.len() as u64, lit.0.len() as u64),
        HirKind::Class(Class::Bytes(c)) => (1, c.ranges().len().max(1) as u64),
        HirKind::Class(Class::Unicode(c)) => (1, c.ranges().len().max(1) as u64),
        HirKind::Look(_) => (1, 1),
        HirKind::Repetition(r) => {
            let (p, b) = size(&r.sub);
            let copies = u64::from(r.max.unwrap_or(r.min.saturating_add(1))).max(1);
            (p.saturating_mul(copies), b.saturating_mul(copies))
        }
        HirKind::Capture(c) => size(&c.sub),
        HirKind::Concat(subs) | HirKind::Alternation(subs) => {
            subs.iter().map(size).fold((0, 0), |(p, b), (q, c)| {
                (p.saturating_add(q), b.saturating_add(c))
            })
        }
    }
}

/// regex-syntax errors span several lines (the pattern, a caret, the message); one line,
/// with the position, says the same.
fn syntax_error(e: &regex_syntax::Error) -> String {
    let (kind, span) = match e {
        regex_syntax::Error::Parse(x) => (x.kind().to_string(), x.span()),
        regex_syntax::Error::Translate(x) => (x.kind().to_string(), x.span()),
        other => {
            return other
                .to_string()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        }
    };
    format!(
        "regex error at character {} of the pattern: {kind}",
        span.start.column
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assign_stands_for_the_ways_a_value_is_assigned() {
        let p = expand("(?i:acme[_.-]?key)(?&assign)([0-9a-f]{8})\\b".to_string());
        assert!(!p.contains("(?&assign)"));
        let re = build(&p).unwrap();
        let group1 = |text: &'static str| {
            let mut caps = re.create_captures();
            re.search_captures(&regex_automata::Input::new(text), &mut caps);
            caps.get_group(1).map(|s| &text[s.range()])
        };
        for text in [
            "ACME_KEY=3f9a0c1d",
            "acme_key: \"3f9a0c1d\"",
            "\"acmeKey\" => '3f9a0c1d'",
            "acmeKey := `3f9a0c1d`",
            "ENV[\"ACME_KEY\"] = \"3f9a0c1d\"",
            "val acmeKey: String = \"3f9a0c1d\"",
            "var acmeKey string = \"3f9a0c1d\"",
            "acme_key:\n  3f9a0c1d",
            "ENV ACME_KEY 3f9a0c1d",
        ] {
            assert_eq!(group1(text), Some("3f9a0c1d"), "{text}");
        }
        assert!(!re.is_match(b"acme_key_path /etc/acme/3f9a0c1d"));
        // A pattern without the placeholder is kept as written.
        assert_eq!(expand("a(?&b)".to_string()), "a(?&b)");
    }

    #[test]
    fn sizes_expand_repetitions() {
        let s = |p: &str| size(&parse(p).unwrap());
        assert_eq!(s("abc"), (3, 3));
        assert_eq!(s("a{10000}"), (10_000, 10_000));
        assert_eq!(s("[A-Za-z0-9_-]{8,200}"), (200, 1000));
        assert_eq!(s("(?:ab|c){2,}"), (9, 9));
        assert_eq!(s("(a{1000}){1000}"), (1_000_000, 1_000_000));
        assert_eq!(s("((a{60000}){60000}){60000}").0, 60_000u64.pow(3));
    }

    #[test]
    fn large_patterns_are_refused_before_compiling() {
        let e = build("a{10000}").unwrap_err();
        assert!(e.contains("10000 NFA positions (at most 4096)"), "{e}");
        let e = build("((a{60000}){60000}){60000}{60000}{60000}").unwrap_err();
        assert!(e.contains("more than 2^64"), "{e}");
        let e = build("[\\x00\\x02\\x04\\x06\\x08\\x0a\\x0c\\x0e\\x10\\x12]{4000}").unwrap_err();
        assert!(e.contains("40000 byte ranges"), "{e}");
        assert!(build("a{4096}").is_ok());
    }

    #[test]
    fn patterns_at_the_limits_compile_within_the_nfa_size_limit() {
        // The costliest shapes the position and range limits let through: every position a
        // class of 8 ranges, or classes of 128 ranges (the most a byte class can have).
        let eight = "[\\x00\\x02\\x04\\x06\\x08\\x0a\\x0c\\x0e]";
        let all: String = (0..128u8).map(|b| format!("\\x{:02x}", b * 2)).collect();
        for p in [format!("{eight}{{4096}}"), format!("[{all}]{{256}}")] {
            let hir = parse_limited(&p).unwrap();
            build_hirs(&[hir]).unwrap();
        }
    }

    #[test]
    fn syntax_errors_are_one_line_with_the_position() {
        assert_eq!(
            parse("(acme_[").unwrap_err(),
            "regex error at character 7 of the pattern: unclosed character class"
        );
        assert_eq!(
            parse("ab)").unwrap_err(),
            "regex error at character 3 of the pattern: unopened group"
        );
    }
}
