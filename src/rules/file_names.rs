//! Which blobs of a history the path rules need to read, told from file names.
//!
//! A history scan reads each blob once, before the trees that name it, so it cannot know the
//! blob's paths while it scans it. Running the path rules (`.npmrc`, `.pgpass`, shell
//! profiles...) on every blob would cost most of their time on blobs that no tree places at a
//! path they take. Instead, a path rule whose path pattern must match at the end of the path
//! (ends in `$`) is *deferred*: the object pass leaves it out, the tree pass notes every blob
//! listed under a name that such a pattern could end with, and those blobs are read again
//! with every rule. Whether a name could end a matching path is decided by a DFA of the
//! patterns reversed, run over the name from its last byte: almost every name dies within a
//! few bytes. A path rule whose pattern is not tied to the end of the path (or whose patterns
//! together would make the DFA too large) is not deferred: it runs on every blob as before.

use regex_automata::dfa::{dense, Automaton, StartKind};
use regex_automata::nfa::thompson;
use regex_automata::util::primitives::StateID;
use regex_automata::{Anchored, Input, MatchKind};
use regex_syntax::hir::Look;

use super::Rule;

/// Most heap the reversed DFA of the deferred rules' paths may take. The built-in rules' need
/// far less; a rule file whose paths need more has none of its path rules deferred.
const DFA_SIZE_LIMIT: usize = 8 << 20;

/// The end of a file name no rule names: a path pattern that can end so can end anyhow.
const PROBE: &[u8] = b"\x01\x01";

/// The deferred path rules and the DFA that tells which file names they could take.
#[derive(Debug)]
pub struct FileNames {
    /// Per rule: whether the object pass of a history leaves it out.
    deferred: Vec<bool>,
    /// The deferred rules' path patterns, reversed; `None` when no rule is deferred.
    dfa: Option<Reversed>,
}

impl FileNames {
    /// Decides which of `rules` are deferred and builds the DFA for them.
    pub fn new(rules: &[Rule]) -> FileNames {
        let mut deferred = vec![false; rules.len()];
        let mut hirs = Vec::new();
        for (i, rule) in rules.iter().enumerate() {
            let Some(path) = rule.path.as_deref().filter(|_| !rule.binary) else {
                continue;
            };
            let Ok(hir) = super::pattern::parse_limited(path) else {
                continue;
            };
            // A pattern that takes names ending in anything (`\.mutt/[^/]+$`, `\.htpasswd[^/]*$`)
            // would make names useless to tell blobs apart: such a rule runs on every blob.
            let any_end = || Reversed::new(std::slice::from_ref(&hir)).is_none_or(|d| d.any_end());
            if hir.properties().look_set_suffix().contains(Look::End) && !any_end() {
                deferred[i] = true;
                hirs.push(hir);
            }
        }
        let dfa = match hirs.is_empty() {
            true => None,
            false => Reversed::new(&hirs),
        };
        if dfa.is_none() {
            deferred.iter_mut().for_each(|d| *d = false);
        }
        FileNames { deferred, dfa }
    }

    /// Whether rule `rule` is left out of a history's object pass.
    pub fn is_deferred(&self, rule: usize) -> bool {
        self.deferred.get(rule).copied().unwrap_or(false)
    }

    /// Whether any rule is deferred.
    pub fn any(&self) -> bool {
        self.dfa.is_some()
    }

    /// Whether a file named `name` could sit at a path some deferred rule takes: the name is
    /// the end of such a path, or the end of a path that a longer name or directories in
    /// front could complete. `false` only when no deferred rule can take the file.
    pub fn may_take(&self, name: &[u8]) -> bool {
        self.dfa.as_ref().is_some_and(|dfa| dfa.takes(name))
    }
}

/// A DFA of path patterns reversed, with its start state where a path ends, and which pairs
/// of last two bytes a name it takes can have.
#[derive(Debug)]
struct Reversed {
    dfa: dense::DFA<Vec<u32>>,
    start: StateID,
    /// Bit `256 * last + second_last`: some name ending in those two bytes may be taken.
    ends: Box<[u64; 1024]>,
}

impl Reversed {
    /// The reversed DFA of `hirs`, anchored where a path ends; `None` when it would be too
    /// large.
    fn new(hirs: &[regex_syntax::hir::Hir]) -> Option<Reversed> {
        let nfa = thompson::Compiler::new()
            .configure(
                thompson::Config::new()
                    .reverse(true)
                    .utf8(false)
                    .which_captures(thompson::WhichCaptures::None),
            )
            .build_many_from_hir(hirs)
            .ok()?;
        let dfa = dense::Builder::new()
            .configure(
                dense::Config::new()
                    .match_kind(MatchKind::All)
                    .start_kind(StartKind::Anchored)
                    .accelerate(false)
                    .minimize(false)
                    .dfa_size_limit(Some(DFA_SIZE_LIMIT))
                    .determinize_size_limit(Some(DFA_SIZE_LIMIT)),
            )
            .build_from_nfa(&nfa)
            .ok()?;
        // Every name ends where its path ends: one start state serves them all.
        let input = Input::new(PROBE).anchored(Anchored::Yes);
        let start = dfa.start_state_reverse(&input).ok()?;
        let ends = Box::new([0; 1024]);
        let mut r = Reversed { dfa, start, ends };
        r.ends = r.end_pairs();
        Some(r)
    }

    /// Which pairs of last two bytes leave the DFA alive (or matched).
    fn end_pairs(&self) -> Box<[u64; 1024]> {
        let mut ends = Box::new([0u64; 1024]);
        for last in 0..=255u8 {
            let s1 = self.dfa.next_state(self.start, last);
            for second in 0..=255u8 {
                let s2 = self.dfa.next_state(s1, second);
                let alive = self.dfa.is_match_state(s1)
                    || self.dfa.is_match_state(s2)
                    || !self.dfa.is_dead_state(s2);
                let bit = 256 * usize::from(last) + usize::from(second);
                ends[bit / 64] |= u64::from(alive) << (bit % 64);
            }
        }
        ends
    }

    /// Whether names can end in bytes no pattern names (`PROBE`).
    fn any_end(&self) -> bool {
        self.might_end(PROBE)
    }

    /// The pair test: `false` when no name ending like `name` can be taken.
    fn might_end(&self, name: &[u8]) -> bool {
        let [.., second, last] = name else {
            return true;
        };
        let bit = 256 * usize::from(*last) + usize::from(*second);
        self.ends[bit / 64] & (1 << (bit % 64)) != 0
    }

    /// Whether a path that ends with the file name `name` can match: the name read
    /// backwards, then either the start of the path (a file at the top) or a `/` with
    /// anything in front. This runs on every blob entry of every tree of a history.
    fn takes(&self, name: &[u8]) -> bool {
        if !self.might_end(name) {
            return false;
        }
        let dfa = &self.dfa;
        let mut state = self.start;
        for &b in name.iter().rev() {
            state = dfa.next_state(state, b);
            if dfa.is_special_state(state) {
                if dfa.is_dead_state(state) {
                    return false;
                }
                // A match state (one byte late) means a tail of the name already matched.
                if dfa.is_match_state(state) || dfa.is_quit_state(state) {
                    return true;
                }
            }
        }
        dfa.is_match_state(dfa.next_eoi_state(state)) || {
            let slash = dfa.next_state(state, b'/');
            dfa.is_match_state(slash) || !dfa.is_dead_state(slash)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{RuleSet, RuleSource};

    fn names_of(paths: &[&str]) -> FileNames {
        let yaml: String = paths
            .iter()
            .enumerate()
            .map(|(i, p)| {
                format!(
                    "- id: test.path-{i}\n  name: Path {i}\n  keywords: [pass]\n  pattern: 'pass=(\\w+)'\n  path: '{p}'\n"
                )
            })
            .collect();
        let text = format!("provider: Test\nrules:\n{yaml}");
        let rules = RuleSet::load(vec![RuleSource::yaml("t.yaml", text)]).unwrap();
        FileNames::new(&rules.rules)
    }

    #[test]
    fn names_that_end_a_taken_path_are_kept_and_others_are_not() {
        let f = names_of(&[r"(?:^|/)\.npmrc$", r"(?:^|/)config/master\.key$", r"\.bin$"]);
        for name in [".npmrc", "master.key", "x.bin", ".bin"] {
            assert!(f.may_take(name.as_bytes()), "{name}");
        }
        for name in [
            "npmrc",
            "a.npmrc",
            "README.md",
            "key",
            "bin",
            ".npmrc.bak",
            "",
        ] {
            assert!(!f.may_take(name.as_bytes()), "{name}");
        }
    }

    #[test]
    fn a_path_not_tied_to_its_end_is_not_deferred() {
        let f = names_of(&[r"secrets/", r"a\.txt|b\.txt$"]);
        assert!(!f.is_deferred(0) && !f.is_deferred(1));
        assert!(!f.any());
        assert!(!f.may_take(b"a.txt"));
    }

    #[test]
    fn case_folding_in_a_path_pattern_carries_to_names() {
        let f = names_of(&[r"(?i)(?:^|/)nuget\.config$"]);
        assert!(f.is_deferred(0));
        assert!(f.may_take(b"NuGet.Config") && f.may_take(b"nuget.config"));
        assert!(!f.may_take(b"nuget.json"));
    }

    /// Every built-in path rule's example paths: the file name of each path its pattern takes
    /// must be kept, or history would miss what the rule finds in the working tree. The rules
    /// not deferred take names that end in anything: any file in `~/.mutt/`, `.htpasswd*`.
    #[test]
    fn every_builtin_example_path_is_kept() {
        let rules = RuleSet::builtin_with_examples().unwrap();
        let f = FileNames::new(&rules.rules);
        let (mut checked, mut not_deferred) = (0, std::collections::BTreeSet::new());
        for (i, rule) in rules.rules.iter().enumerate() {
            for path in rule.examples.iter().filter_map(|e| e.path()) {
                if !rule.path_allows(path) || rule.binary {
                    continue;
                }
                if !f.is_deferred(i) {
                    not_deferred.insert(rule.id.as_str());
                    continue;
                }
                let name = path.rsplit('/').next().unwrap();
                assert!(f.may_take(name.as_bytes()), "{}: {path}", rule.id);
                checked += 1;
            }
        }
        assert!(checked > 60, "{checked} example paths");
        let not_deferred: Vec<&str> = not_deferred.into_iter().collect();
        assert_eq!(not_deferred, ["apache.htpasswd", "mutt.password"]);
        for name in ["main.rs", "Makefile", "npmrc", "settings.xml.orig"] {
            assert!(!f.may_take(name.as_bytes()), "{name}");
        }
    }
}
