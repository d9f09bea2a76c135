"""Checks of the accuracy harness's Go evaluator, regex generator and placeholder heuristic.

Run: python3 -m unittest discover -s benches -p 'test_*.py'
"""

import contextlib
import io
import json
import random
import re
import sys
import tempfile
import unittest
from pathlib import Path

sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parent))
import accuracy  # noqa: E402
import extract  # noqa: E402
import goeval as g  # noqa: E402

GO = '''package x

const keyword = "acme"

var (
	valid = "k3Jd9sLq" + "0ZpX7mN2"
	input = fmt.Sprintf("%s token = '%s'", keyword, valid)
)

func wrap(s string) string { return "[" + s + "]" }

func TestAcme_Pattern(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  []string
	}{
		{name: "valid", input: wrap(input), want: []string{valid}},
		{name: "computed", input: notKnown(3), want: nil},
	}
	var extra []string
	for _, k := range []string{"a", "b"} {
		extra = append(extra, k+valid)
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {})
	}
}
'''


class GoEvaluator(unittest.TestCase):
    def run_test_func(self):
        pkg = g.Package()
        pkg.add_source(GO)
        _params, toks, (start, end) = pkg.funcs["TestAcme_Pattern"]
        env = {}
        g.run_block(g.Evaluator(pkg), toks, start, end, env)
        return env

    def test_table_with_package_values_and_helpers(self):
        tests = self.run_test_func()["tests"]
        self.assertEqual(tests[0]["input"], "[acme token = 'k3Jd9sLq0ZpX7mN2']")
        self.assertEqual(tests[0]["want"], ["k3Jd9sLq0ZpX7mN2"])

    def test_unknown_call_is_lost_not_guessed(self):
        case = self.run_test_func()["tests"][1]
        self.assertIsInstance(case["input"], g.Lost)
        self.assertIn("notKnown", case["input"].reason)
        self.assertEqual(extract.expectation(case)[0], "negative")

    def test_range_loop_runs_per_element(self):
        self.assertEqual(self.run_test_func()["extra"], ["ak3Jd9sLq0ZpX7mN2", "bk3Jd9sLq0ZpX7mN2"])

    def test_interpreted_string_escapes(self):
        toks = g.tokenize('x := "a\\tb\\x41\\u00e9\\"q"')
        self.assertEqual(toks[2], ("str", 'a\tbA\u00e9"q'))


class RegexGenerator(unittest.TestCase):
    def test_generated_strings_match(self):
        rng = random.Random(7)
        for rx in [r"sk-[a-zA-Z0-9]{20}T3BlbkFJ[a-zA-Z0-9]{20}", r"(?:ghp|gho)_[0-9A-Za-z]{36}",
                   r"[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{12}", r"xox[baprs]-[0-9]{10,13}-[a-zA-Z0-9-]*"]:
            for _ in range(20):
                self.assertRegex(g.random_from_regex(rx, rng), re.compile("^" + rx + "$"))

    def test_repeat_counts_follow_limit_one(self):
        rng = random.Random(1)
        self.assertEqual(len(g.random_from_regex(r"[a-z]{32,64}", rng)), 32)
        self.assertEqual(len(g.random_from_regex(r"[a-z]{250,}", rng)), 250)
        self.assertEqual(len(g.random_from_regex(r"[a-z]+", rng)), 1)


class Placeholders(unittest.TestCase):
    def test_placeholders(self):
        for v in ["sk-YOUR_API_KEY", "AIzaSyD-9tSrke72...", "AKIAIOSFODNN7EXAMPLE", "ghp_xxxxxxxxxxxx",
                  "a1b2c3d4e5f6a1b2", "12345678-ABCD-ABCD", "abcabcabcabc", "AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQ"]:
            self.assertIsNotNone(extract.placeholder_reason(v), v)

    def test_random_values_are_not_placeholders(self):
        rng = random.Random(3)
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
        for _ in range(200):
            v = "".join(rng.choice(alphabet) for _ in range(40))
            self.assertIsNone(extract.placeholder_reason(v), v)
        # A Twitter bearer token (about 110 characters) starts with a run of A's by format.
        tail = "".join(rng.choice(alphabet) for _ in range(88))
        self.assertIsNone(extract.placeholder_reason("A" * 22 + tail))


class FalsePositiveSplit(unittest.TestCase):
    def test_generic_rule_ids_per_tool(self):
        generic = [("keyhound", "generic.assignment"), ("keyhound", "generic.dotenv"),
                   ("gitleaks", "generic-api-key"), ("betterleaks", "generic-password"),
                   ("kingfisher", "betterleaks.generic-credential-uri"),
                   ("detect-secrets", "Secret Keyword"), ("detect-secrets", "Hex High Entropy String")]
        provider = [("keyhound", "cloudflare.origin-ca-key"), ("keyhound", "wordpress.auth-salt"),
                    ("gitleaks", "cloudflare-api-key"), ("betterleaks", "jwt"),
                    ("kingfisher", "betterleaks.jwt"), ("kingfisher", "kingfisher.aws.1"),
                    ("kingfisher", "veles.secrets/cloudflareapitoken"),
                    ("detect-secrets", "Stripe Access Key"), ("detect-secrets", "JSON Web Token")]
        for kind, rule in generic:
            self.assertTrue(accuracy.is_generic(kind, rule), (kind, rule))
        for kind, rule in provider:
            self.assertFalse(accuracy.is_generic(kind, rule), (kind, rule))

    def test_split_counts_a_sample_as_provider_when_any_provider_rule_fired(self):
        corpus = Path("/nonexistent-corpus")

        def sample(project, n, kind="negative", key=None):
            return {"project": project, "kind": kind, "file": f"samples/{project}/{n:05d}.txt",
                    "key": key or f"{project}{n}", "placeholder": None, "rule": "r"}
        samples = [sample("gitleaks", 0), sample("gitleaks", 1), sample("gitleaks", 2),
                   sample("trufflehog", 0), sample("trufflehog", 1, key="same"),
                   sample("trufflehog", 2, key="same"), sample("trufflehog", 3, kind="positive"),
                   sample("explainers", 0)]
        manifest = {"samples": samples}
        path = lambda s: str((corpus / s["file"]).resolve())  # noqa: E731
        found = {path(samples[0]): ["generic.assignment", "generic.dotenv"],
                 path(samples[1]): ["generic.assignment", "cloudflare.origin-ca-key"],
                 path(samples[3]): ["duo.secret-key"],
                 # Identical files count together: the copy the tool did not report is
                 # judged by the rules fired on the other.
                 path(samples[4]): ["generic.password"],
                 path(samples[6]): ["acme.token"],
                 path(samples[7]): ["generic.assignment"]}
        keys = accuracy.detected_keys(corpus, manifest, found)
        split = accuracy.fp_split(corpus, manifest, "keyhound", keys, found)
        self.assertEqual(split["gitleaks"], {"generic": 1, "provider": 1})
        self.assertEqual(split["trufflehog"], {"generic": 2, "provider": 1})
        self.assertEqual(split["all"], {"generic": 3, "provider": 2})
        self.assertEqual(split["explainers"], {"generic": 1})
        fp = accuracy.score(manifest, keys)
        for p in ("gitleaks", "trufflehog", "all", "explainers"):
            self.assertEqual(sum(split[p].values()), fp[p]["fp"], p)


KINGFISHER_YAML = r"""rules:
  - name: Acme API Key
    id: kingfisher.acme.1
    pattern: |
      (?x)
      (?i)
      \b
      (?<key>ACME_[a-z0-9]{32})
      \b
    examples:
      - 'ACME_KEY=acme_bfOp8JQNH4aLZukEjji6aAHTGYngNybd'
      - |
        [acme]
        token = acme_1234567890abcdef1234567890abcdef
    negative_examples:
      - 'acme_lqWb9SeqmVN9'
  - name: Acme Secret
    id: kingfisher.acme.2
    pattern: '\b[0-9a-f]{40}\b'
    examples:
      - 'acme secret 09f94458ac532dc80425343ecf65aa564b7d7c04'
      - 'no match here'
"""


class KingfisherExtraction(unittest.TestCase):
    def extract(self, text):
        samples, lost = [], []
        extract.kingfisher_rules("kingfisher", "data/rules/acme.yml", text, samples, lost)
        return samples, lost

    def test_examples_are_positives_and_negative_examples_negatives(self):
        samples, lost = self.extract(KINGFISHER_YAML)
        self.assertEqual(lost, [])
        got = [(s["rule"], s["kind"], s["context"]) for s in samples]
        self.assertEqual(got, [("kingfisher.acme.1", "positive", "Acme API Key")] * 2
                         + [("kingfisher.acme.1", "negative", "Acme API Key")]
                         + [("kingfisher.acme.2", "positive", "Acme Secret")] * 2)
        self.assertEqual(samples[1]["text"], "[acme]\ntoken = acme_1234567890abcdef1234567890abcdef\n")
        self.assertEqual(samples[2]["text"], "acme_lqWb9SeqmVN9")

    def test_secret_is_what_the_rule_pattern_captures(self):
        samples, _ = self.extract(KINGFISHER_YAML)
        # Inline (?x) and (?i) and a Rust-style (?<name>...) group compile in Python's dialect.
        self.assertEqual(samples[0]["secret"], "acme_bfOp8JQNH4aLZukEjji6aAHTGYngNybd")
        self.assertEqual(samples[3]["secret"], "09f94458ac532dc80425343ecf65aa564b7d7c04")
        self.assertIsNone(samples[4]["secret"])  # no match: unknown, not guessed
        self.assertIsNone(samples[2]["secret"])  # negatives carry no secret

    def test_placeholders_judged_on_the_captured_secret(self):
        samples, _ = self.extract(KINGFISHER_YAML)
        self.assertIsNone(extract.classify(samples[0]))
        self.assertEqual(extract.classify(samples[1]), "sequential run")
        self.assertIsNone(extract.classify(samples[3]))

    def test_unreadable_files_are_counted_lost(self):
        samples, lost = self.extract("rules: [unclosed\n")
        self.assertEqual(samples, [])
        self.assertEqual([x["reason"][:5] for x in lost], ["YAML:"])
        samples, lost = self.extract("rules:\n  - id: x\n    examples: [[1, 2]]\n")
        self.assertEqual(samples, [])
        self.assertEqual(lost[0]["reason"], "examples: not a string")

    def test_pattern_that_does_not_compile_leaves_secret_unknown(self):
        self.assertIsNone(extract.python_regex("(unclosed"))
        self.assertIsNone(extract.pattern_secret(None, "acme_bfOp8JQNH4aLZukEjji6aAHTGYngNybd"))
        rx = extract.python_regex(r"(?<=key=)(?P<v>[a-z]+)")  # lookbehind and (?P< kept
        self.assertEqual(extract.pattern_secret(rx, "key=abc"), "abc")


class CorpusLayout(unittest.TestCase):
    def test_adding_a_source_keeps_the_other_sources_files(self):
        def sample(project, text):
            return dict(project=project, rule="r", kind="negative", text=text, secret=None, path=None)
        with tempfile.TemporaryDirectory() as d:
            old = [sample("gitleaks", "a"), sample("trufflehog", "b"), sample("gitleaks", "c")]
            new = [dict(s) for s in old[:2]] + [sample("kingfisher", "k")] + [dict(old[2])]
            accuracy.write_samples(Path(d), old)
            accuracy.write_samples(Path(d), new)
            self.assertEqual([s["file"] for s in old], [s["file"] for s in new[:2] + new[3:]])
            self.assertEqual(new[2]["file"], "samples/kingfisher/00000.txt")
            self.assertEqual((Path(d) / new[3]["file"]).read_text(), "c")

    def test_reuse_rebuilds_when_the_sources_changed(self):
        with tempfile.TemporaryDirectory() as d:
            self.assertIsNone(accuracy.load_manifest(Path(d)))
            path = Path(d) / "manifest.json"
            path.write_text(json.dumps({"sources": {p: {} for p, _, _ in accuracy.SOURCES[:3]}}))
            with contextlib.redirect_stderr(io.StringIO()):
                self.assertIsNone(accuracy.load_manifest(Path(d)))
            path.write_text(json.dumps({"sources": {p: {} for p, _, _ in accuracy.SOURCES}}))
            self.assertIsNotNone(accuracy.load_manifest(Path(d)))


class MissClasses(unittest.TestCase):
    def test_kingfisher_misses_group_by_provider_when_asked(self):
        self.assertEqual(accuracy.miss_class("kingfisher", "kingfisher.acme.2", by_provider=True), "kingfisher.acme")
        self.assertEqual(accuracy.miss_class("kingfisher", "kingfisher.acme.2"), "kingfisher.acme.2")
        self.assertEqual(accuracy.miss_class("trufflehog", "acme", by_provider=True), "trufflehog:acme")
        self.assertEqual(accuracy.miss_class("gitleaks", "acme-api-key", by_provider=True), "acme-api-key")


if __name__ == "__main__":
    unittest.main()
