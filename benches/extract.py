"""Extracts other projects' rule test cases into a corpus of one-sample files.

Sources (bare git mirrors, read with `git archive`; nothing from them is kept in this
repository):
  gitleaks, Betterleaks   cmd/generate/config/rules/*.go: the true positives (`tps`) and false
                          positives (`fps`) handed to utils.Validate / utils.ValidateWithPaths.
                          utils.GenerateSampleSecrets(id, secret) is expanded with the project's
                          own template table (read from its utils/generate.go at run time);
                          secrets.NewSecret(<regex>) and NewSecretWithEntropy are expanded by
                          goeval.random_from_regex (a small generator over Python's regex parser),
                          seeded, so a corpus is reproducible.
  TruffleHog              pkg/detectors/**/<name>_test.go, the Test*_Pattern tables: `input` (or
                          `data`) is the sample; a non-empty `want` (or shouldMatch: true) makes it
                          a positive, an empty or absent one a negative.
  Kingfisher              data/rules/*.yml (and *.yaml), YAML: each rule's `examples` are
                          positives, its `negative_examples` negatives. The secret is not
                          labelled in an example: it is taken from the rule's own `pattern`
                          (translated to Python's regex dialect), the longest capture group of its
                          first match, or the whole match when the pattern has no group; when the
                          pattern does not compile or match, the secret stays unknown and the
                          sample's longest key-like token stands for it, as for TruffleHog samples
                          without a `want`.

What the extraction cannot recover is counted, never guessed: an element whose value needs an
unknown function (fmt.Sprintf over a helper that loops or calls crypto, runtime-generated
tokens, struct fields computed in a loop) becomes a Lost value and is reported by reason.
"""

import hashlib
import io
import math
import random
import re
import subprocess
import tarfile
from collections import Counter
from pathlib import Path

import goeval as g

try:
    import yaml
except ImportError:  # only the Kingfisher source needs it
    yaml = None

# ---------------------------------------------------------------------------------- placeholders

PLACEHOLDER_WORDS = [
    "example", "xxxx", "your_", "your-", "yourapi", "yourkey", "yoursecret", "yourtoken", "<your",
    "placeholder", "changeme", "change_me", "dummy", "redacted", "replace_me", "insert_", "fake",
    "notreal", "not_real", "qwerty", "...", "\u2026", "${", "{{", "******",
]


def placeholder_reason(value):
    """Why `value` (a secret, or a sample's longest token) looks like a placeholder, or None.

    Heuristic: a placeholder word (EXAMPLE, xxxx, your_, fake, dummy, `...`, `${`); a run of
    six identical characters where runs of four or more make up 40% of the value or leave
    fewer than 12 other characters (a Twitter bearer token's leading AAAA... is its format,
    AGE-SECRET-KEY-1QQQQ... is a placeholder); an ascending run of six (abcdef, 123456) or an
    interleaved one (a1b2c3d4e5); a unit of two to eight characters repeated three times or
    more (abcabcabc, a1b2a1b2a1b2); a long value of three distinct characters or fewer.
    """
    low = value.lower()
    for w in PLACEHOLDER_WORDS:
        if w in low:
            return f"word {w!r}"
    if re.search(r"(.)\1{5}", value):
        rest = re.sub(r"(.)\1{3,}", "", value)
        if len(rest) < 12 or len(rest) <= 0.6 * len(value):
            return "repeated character"
    if ascending_run(value) >= 6:
        return "sequential run"
    if ascending_run(value[0::2]) >= 5 and ascending_run(value[1::2]) >= 5:
        return "sequential run"  # interleaved: a1b2c3d4e5
    m = re.search(r"((.)(?!\2).{0,7}?)\1{2,}", value)  # a unit of 2-8, not one character
    if m and len(m.group(0)) >= 12:
        return "repeated unit"
    if len(value) >= 16 and len(set(value)) <= 3:
        return "few distinct characters"
    return None


def ascending_run(value):
    best = run = 1
    for a, b in zip(value, value[1:]):
        same_class = (a.isdigit() and b.isdigit()) or (a.isalpha() and b.isalpha())
        run = run + 1 if same_class and ord(b) == ord(a) + 1 else 1
        best = max(best, run)
    return best if value else 0


def longest_token(text):
    """The longest run of key-like characters in a sample whose secret is not known."""
    toks = re.findall(r"[A-Za-z0-9+/_\-.~]{8,}={0,2}", text)  # `=` and `:` end a name
    toks = [t for t in toks if not re.fullmatch(r"[a-z.]+\.(?:com|net|org|io)", t)]
    return max(toks, key=len) if toks else text.strip()


def shape(secret):
    """A description of a secret's format that does not reveal it: its separator-delimited
    prefix (or first four characters) and the length and classes of the rest."""
    m = re.match(r"(?:[A-Za-z0-9]{1,12}[-_.])+", secret)
    prefix = m.group(0) if m and len(m.group(0)) < len(secret) - 8 else secret[:4]
    rest = secret[len(prefix):]
    classes = "".join(name for name, rx in (("A-Z", "[A-Z]"), ("a-z", "[a-z]"), ("0-9", "[0-9]"))
                      if re.search(rx, rest))
    extra = "".join(sorted(set(re.sub(r"[A-Za-z0-9]", "", rest))))[:12]
    return f"{prefix}<{len(rest)} [{classes}{extra}]>"


# ---------------------------------------------------------------------------------- samples

class Sample(str):
    """A sample's text, with the secret it carries (when known) and how it was made."""

    def __new__(cls, text, secret=None, origin="literal", context=None):
        s = super().__new__(cls, text)
        s.secret, s.origin, s.context = secret, origin, context
        return s


def git_files(mirror, paths):
    """{path: text} of the files under `paths` at HEAD of a bare mirror."""
    data = subprocess.run(["git", "--git-dir", str(mirror), "archive", "--format=tar", "HEAD", *paths],
                          check=True, capture_output=True).stdout
    out = {}
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        for m in tar.getmembers():
            if m.isfile():
                out[m.name] = tar.extractfile(m).read().decode("utf-8", "replace")
    return out


def head_commit(mirror):
    return subprocess.run(["git", "--git-dir", str(mirror), "rev-parse", "HEAD"], check=True,
                          capture_output=True, text=True).stdout.strip()


def load_package(sources):
    pkg = g.Package()
    for name, src in sorted(sources.items()):
        try:
            pkg.add_source(src)
        except (SyntaxError, ValueError, IndexError) as e:
            pkg.decls[f"<unparsed {name}>"] = ("lost", str(e))
    return pkg


# ---------------------------------------------------------------------------------- gitleaks

def template_table(utils_pkg):
    """GenerateSampleSecrets' {name: template}, read from the project's generate.go."""
    params, toks, (start, end) = utils_pkg.funcs["GenerateSampleSecrets"]
    env = {}
    ev = g.Evaluator(utils_pkg)
    g.run_block(ev, toks, start, end, env)
    samples = env.get("samples")
    if not isinstance(samples, dict) or not samples:
        raise SystemExit("GenerateSampleSecrets: template table not found")
    return dict(sorted(samples.items()))


def entropy(s):
    n = len(s)
    return -sum(c / n * math.log2(c / n) for c in Counter(s).values()) if n else 0.0


class RuleHooks:
    """Call hooks for a gitleaks-style rule generator; collects what utils.Validate receives."""

    def __init__(self, utils_pkg, rng):
        self.utils = utils_pkg
        self.templates = template_table(utils_pkg)
        self.rng = rng
        self.validated = []  # (rule id or None, positives, negatives)

    def hooks(self):
        return {
            "utils.GenerateSampleSecrets": self.sample_secrets,
            "utils.GenerateSampleSecret": self.sample_secret,
            "secrets.NewSecret": self.new_secret,
            "secrets.NewSecretWithEntropy": self.new_secret,
            "utils.Validate": self.validate,
            "utils.ValidateWithPaths": self.validate,
        }

    def sample_secrets(self, ev, args, env):
        try:
            ident, secret = ev.eval(args[0], env), ev.eval(args[1], env)
        except g.Unrecoverable as e:
            return [g.Lost(str(e))] * len(self.templates)
        out = []
        for name, t in self.templates.items():
            text = t.replace("{i}", ident).replace("{I}", ident.upper()).replace("{s}", secret)
            out.append(Sample(text, secret, "template", name))
        return out

    def sample_secret(self, ev, args, env):
        ident, secret = ev.eval(args[0], env), ev.eval(args[1], env)
        text = g.Evaluator(self.utils, self.rng).user_func("GenerateSampleSecret", [ident, secret])
        return Sample(text, secret, "template", "GenerateSampleSecret")

    def new_secret(self, ev, args, env):
        rx = ev.eval(args[0], env)
        min_entropy = (ev.eval(args[1], env) if len(args) > 1 else 0) or 0
        s = ""
        for _ in range(10):
            s = g.random_from_regex(rx, self.rng)
            if entropy(s) >= min_entropy:
                break
        return GeneratedStr(s)

    def validate(self, ev, args, env):
        rule = ev.guarded(args[0], env)
        rule_id = rule.get("RuleID") if isinstance(rule, dict) else None
        tps = ev.guarded(args[1], env) if len(args) > 1 else None
        fps = ev.guarded(args[2], env) if len(args) > 2 else None
        self.validated.append((rule_id if isinstance(rule_id, str) else None, tps, fps))
        return rule


class GeneratedStr(str):
    """A string produced from a regex; concatenations keep the mark (for the manifest)."""

    def __add__(self, other):
        return GeneratedStr(str.__add__(self, other))

    def __radd__(self, other):
        return GeneratedStr(str.__add__(other, self))


def rule_functions(pkg):
    """Names of the package functions without parameters whose body calls Validate or
    ValidateWithPaths (helpers with parameters run when a rule function calls them)."""
    out = []
    for name, (params, toks, (start, end)) in pkg.funcs.items():
        body = toks[start:end]
        if params:
            continue
        if any(t == ("id", "Validate") or t == ("id", "ValidateWithPaths") for t in body):
            out.append(name)
    return sorted(out)


def extract_rules(project, mirror, seed):
    """Samples of a gitleaks-style rule generator: (samples, lost) lists of dicts."""
    files = git_files(mirror, ["cmd/generate/config/rules", "cmd/generate/config/utils"])
    rules = {k: v for k, v in files.items() if "/rules/" in k and k.endswith(".go") and not k.endswith("_test.go")}
    utils = {k: v for k, v in files.items() if "/utils/" in k and k.endswith(".go") and not k.endswith("_test.go")}
    rng = random.Random(seed)
    hooks = RuleHooks(load_package(utils), rng)
    pkg = load_package(rules)
    samples, lost = [], []
    for fn in rule_functions(pkg):
        hooks.validated.clear()
        ev = g.Evaluator(pkg, rng, hooks.hooks(), {"utils": hooks.utils})
        params, toks, (start, end) = pkg.funcs[fn]
        try:
            g.run_block(ev, toks, start, end, {})
        except (g.Unrecoverable, RecursionError) as e:
            lost.append(dict(project=project, rule=fn, kind="?", reason=str(e)))
        if not hooks.validated:
            lost.append(dict(project=project, rule=fn, kind="?", reason="Validate not reached", count="rule"))
        for rule_id, tps, fps in hooks.validated:
            rule = rule_id or fn
            for kind, vals in (("positive", tps), ("negative", fps)):
                collect_rule_values(project, rule, kind, vals, samples, lost)
    return samples, lost


def collect_rule_values(project, rule, kind, vals, samples, lost):
    if vals is None:
        return
    if isinstance(vals, g.Lost):
        lost.append(dict(project=project, rule=rule, kind=kind, reason=vals.reason, count="list"))
        return
    items = vals.items() if isinstance(vals, dict) else ((None, v) for v in vals)
    for path, v in items:
        if isinstance(v, g.Lost) or isinstance(path, g.Lost):
            lost.append(dict(project=project, rule=rule, kind=kind, reason=getattr(v, "reason", "path")))
            continue
        if not isinstance(v, str):
            lost.append(dict(project=project, rule=rule, kind=kind, reason=f"not a string: {type(v).__name__}"))
            continue
        origin = getattr(v, "origin", "generated" if isinstance(v, GeneratedStr) else "literal")
        secret = getattr(v, "secret", None)
        samples.append(dict(project=project, rule=rule, kind=kind, text=str(v), secret=secret,
                            origin=origin, context=getattr(v, "context", None),
                            path=path if isinstance(path, str) else None))


# ---------------------------------------------------------------------------------- trufflehog

def extract_trufflehog(project, mirror, seed):
    files = git_files(mirror, ["pkg/detectors"])
    by_dir = {}
    for path, src in files.items():
        if path.endswith(".go") and not path.endswith("_integration_test.go"):
            by_dir.setdefault(str(Path(path).parent), {})[path] = src
    rng = random.Random(seed)
    samples, lost = [], []
    for d, sources in sorted(by_dir.items()):
        if not any(re.search(r"func Test\w*_Pattern\(", s) for p, s in sources.items() if p.endswith("_test.go")):
            continue
        detector = d.removeprefix("pkg/detectors/")
        pkg = load_package(sources)
        for fn in sorted(f for f in pkg.funcs if re.fullmatch(r"Test\w*_Pattern", f)):
            pattern_tests(project, detector, pkg, fn, rng, samples, lost)
    return samples, lost


def pattern_tests(project, detector, pkg, fn, rng, samples, lost):
    params, toks, (start, end) = pkg.funcs[fn]
    env = {}
    ev = g.Evaluator(pkg, rng)
    try:
        g.run_block(ev, toks, start, end, env)
    except (g.Unrecoverable, RecursionError) as e:
        lost.append(dict(project=project, rule=detector, kind="?", reason=str(e)))
        return
    tables = [v for v in env.values() if is_table(v)]
    if not tables:
        why = next((v.reason for v in env.values() if isinstance(v, g.Lost)), "no test table")
        lost.append(dict(project=project, rule=detector, kind="?", reason=f"{fn}: {why}", count="table"))
    for table in tables:
        cases = table.values() if isinstance(table, dict) else table
        for case in cases:
            add_case(project, detector, case, samples, lost)


def is_table(v):
    cases = list(v.values()) if isinstance(v, dict) else v if isinstance(v, list) else []
    return bool(cases) and any(isinstance(c, dict) and ("input" in c or "data" in c) for c in cases)


def add_case(project, detector, case, samples, lost):
    if not isinstance(case, dict):
        lost.append(dict(project=project, rule=detector, kind="?", reason=getattr(case, "reason", "case")))
        return
    text = case.get("input", case.get("data"))
    kind, wants = expectation(case)
    if kind is None or isinstance(text, g.Lost) or not isinstance(text, str):
        reason = text.reason if isinstance(text, g.Lost) else wants if kind is None else "input not a string"
        lost.append(dict(project=project, rule=detector, kind=kind or "?", reason=str(reason)))
        return
    name = case.get("name")
    known = [w for w in wants if isinstance(w, str)]
    samples.append(dict(project=project, rule=detector, kind=kind, text=text,
                        secret=max(known, key=len) if known else None, wants=known,
                        origin="literal", context=name if isinstance(name, str) else None, path=None))


def expectation(case):
    """("positive"|"negative"|None, wanted values or a reason)."""
    if "shouldMatch" in case:
        v = case["shouldMatch"]
        return (None, "shouldMatch computed") if isinstance(v, g.Lost) else (
            "positive" if v else "negative", [])
    want = case.get("want")
    if isinstance(want, g.Lost):
        return None, f"want: {want.reason}"
    if not want:
        return "negative", []
    if isinstance(want, dict):
        want = list(want.keys())
    return "positive", list(want) if isinstance(want, list) else [want]


# ---------------------------------------------------------------------------------- kingfisher

def extract_kingfisher(project, mirror, seed):
    """Samples of Kingfisher's rule files: (samples, lost) lists of dicts. `seed` is unused:
    every example is a literal."""
    if yaml is None:
        raise SystemExit("the Kingfisher source needs PyYAML (python3 -m pip install pyyaml)")
    files = git_files(mirror, ["data/rules"])
    samples, lost = [], []
    for path, text in sorted(files.items()):
        if path.endswith((".yml", ".yaml")):
            kingfisher_rules(project, path, text, samples, lost)
    return samples, lost


def kingfisher_rules(project, path, text, samples, lost):
    """Appends the examples of one rule file to `samples` (unreadable parts to `lost`)."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        lost.append(dict(project=project, rule=path, kind="?", reason=f"YAML: {e}"[:200], count="file"))
        return
    rules = doc.get("rules") if isinstance(doc, dict) else None
    if not isinstance(rules, list):
        lost.append(dict(project=project, rule=path, kind="?", reason="no rules list", count="file"))
        return
    for rule in rules:
        if not isinstance(rule, dict):
            lost.append(dict(project=project, rule=path, kind="?", reason="rule not a mapping"))
            continue
        rid = str(rule.get("id") or rule.get("name") or path)
        rx = python_regex(rule.get("pattern"))
        for kind, field in (("positive", "examples"), ("negative", "negative_examples")):
            for ex in rule.get(field) or []:
                if not isinstance(ex, str):
                    lost.append(dict(project=project, rule=rid, kind=kind, reason=f"{field}: not a string"))
                    continue
                secret = pattern_secret(rx, ex) if kind == "positive" else None
                samples.append(dict(project=project, rule=rid, kind=kind, text=ex, secret=secret,
                                    origin="literal", context=rule.get("name"), path=None))


INLINE_FLAGS = re.compile(r"\(\?([imsx]+)\)")


def python_regex(pattern):
    """A Kingfisher (Rust regex) pattern compiled with Python's `re`, or None. Rust allows
    `(?x)` and `(?i)` anywhere and `(?<name>...)`; they are moved to the front and renamed."""
    if not isinstance(pattern, str):
        return None
    flags = set()

    def take(m):
        flags.update(m.group(1))
        return ""
    body = INLINE_FLAGS.sub(take, pattern).replace("(?<", "(?P<").replace("(?P<=", "(?<=").replace("(?P<!", "(?<!")
    try:
        return re.compile((f"(?{''.join(sorted(flags))})" if flags else "") + body)
    except (re.error, OverflowError):
        return None


def pattern_secret(rx, text):
    """The secret a rule's pattern finds in an example: its longest capture group, or the
    whole match; None when there is no pattern or no match."""
    m = rx.search(text) if rx else None
    if not m:
        return None
    groups = [x for x in m.groups() if x]
    return max(groups, key=len) if groups else m.group(0)


# ---------------------------------------------------------------------------------- placeholders in samples

def classify(sample):
    """Placeholder reason for a sample: of its secret(s) when known, else its longest token."""
    values = sample.get("wants") or ([sample["secret"]] if sample.get("secret") else [])
    if not values:
        values = [longest_token(sample["text"])]
    for v in values:
        why = placeholder_reason(v)
        if why:
            return why
    return None


def content_key(name, text):
    """Samples are scored by content: Kingfisher reports one of several identical files."""
    return hashlib.sha1((name + "\0" + text).encode("utf-8", "surrogateescape")).hexdigest()
