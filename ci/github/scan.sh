#!/usr/bin/env bash
# Runs keyhound for the GitHub Action (action.yml) and exits with keyhound's exit code
# (0 clean, 1 findings, 2 error, 3 a live key with validation on).
#
# What is scanned: with KEYHOUND_BASE set (a pull request's base commit, or the commit a push
# started from), the lines added by the commits since it (`--since-commit`); otherwise the
# repository (files and history). A shallow checkout is deepened until the commits since the
# base are all present (KEYHOUND_COMMITS, a pull request's commit count, sets the first
# depth), and unshallowed as a last resort.
#
# KEYHOUND_ARGS: more arguments, split on whitespace. KEYHOUND_VALIDATE: `true` for
# --validate. KEYHOUND_SARIF: a file to write SARIF to (empty: text to the log).
# KEYHOUND_BASELINE: a baseline file used when it exists and the configuration names none;
#   empty for no baseline at all.
# Outputs (GITHUB_OUTPUT): exit-code, and sarif when the SARIF file was written.
set -euo pipefail

base=${KEYHOUND_BASE:-}
if [[ $base =~ ^0+$ ]]; then
  base= # a push that created the branch: there is no previous commit
fi

# Whether the commits from HEAD back to the base are not all here yet.
missing_history() {
  git cat-file -e "$base^{commit}" 2>/dev/null || return 0
  local shallow
  shallow=$(git rev-parse --git-path shallow)
  [ -s "$shallow" ] || return 1
  git rev-list HEAD --not "$base" -- | grep -qxFf "$shallow"
}

# Fetches what missing_history misses; fails when the base cannot be had.
fetch_history() {
  if ! missing_history; then
    return 0
  fi
  if [ "$(git rev-parse --is-shallow-repository)" != true ]; then
    git fetch --quiet --no-tags origin "$base" || true
  else
    deepen_history
  fi
  if missing_history; then
    return 1
  fi
}

# Deepens a shallow checkout until missing_history is satisfied, or unshallows it.
deepen_history() {
  local head depth tries=0
  head=$(git rev-parse HEAD)
  depth=$((${KEYHOUND_COMMITS:-0} + 2))
  while missing_history; do
    if [ "$tries" -ge 6 ]; then
      echo "keyhound: fetching the whole history" >&2
      git fetch --quiet --no-tags --unshallow origin "$head" "$base" ||
        git fetch --quiet --no-tags origin "$base" || true
      break
    fi
    echo "keyhound: fetching $depth more commits to reach $base" >&2
    git fetch --quiet --no-tags --deepen="$depth" origin "$head" "$base" || true
    depth=$((depth * 4))
    tries=$((tries + 1))
  done
}

# One line per finding of a SARIF report, for the log (the report itself goes to code scanning).
list_sarif() {
  local python
  python=$(command -v python3 || command -v python) || return 0
  "$python" - "$1" <<'PY'
import json, sys
for run in json.load(open(sys.argv[1], encoding="utf-8"))["runs"]:
    for r in run.get("results", []):
        where = r["locations"][0]["physicalLocation"]
        print("%s:%s  %s  %s" % (where["artifactLocation"]["uri"], where["region"]["startLine"],
                                r["ruleId"], r["message"]["text"]))
PY
}

args=(scan)
if [ -n "$base" ] && ! fetch_history; then
  # A force push, say: the commit it started from is gone.
  echo "::warning title=keyhound::cannot fetch the history back to $base; scanning the whole checkout"
  base=
fi
if [ -n "$base" ]; then
  args+=(--since-commit "$base")
fi
if [ -n "${KEYHOUND_SARIF:-}" ]; then
  args+=(--format sarif --output "$KEYHOUND_SARIF")
fi
if [ "${KEYHOUND_VALIDATE:-false}" = true ]; then
  args+=(--validate)
fi
# keyhound itself uses the configuration's `baseline:`, else .keyhound-baseline.yaml at the
# root; another file is passed when it exists and the configuration names none; empty: none.
baseline=${KEYHOUND_BASELINE:-}
if [ -z "$baseline" ]; then
  args+=(--no-baseline)
elif [ -f "$baseline" ] && ! grep -qs '^baseline:' .keyhound.yaml; then
  args+=(--baseline "$baseline")
fi
# Extra arguments: split on whitespace, never glob-expanded.
set -f
# shellcheck disable=SC2206
args+=(${KEYHOUND_ARGS:-})
set +f
if [ -z "$base" ]; then
  args+=(.)
fi

# keyhound's output names paths from the scanned repository: stop the runner from reading
# workflow commands in it.
token=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
echo "::stop-commands::$token"
echo "keyhound ${args[*]}"
code=0
keyhound "${args[@]}" || code=$?
if [ -n "${KEYHOUND_SARIF:-}" ] && [ -f "$KEYHOUND_SARIF" ]; then
  list_sarif "$KEYHOUND_SARIF" || true
fi
echo "::$token::"

echo "exit-code=$code" >> "${GITHUB_OUTPUT:-/dev/null}"
if [ -n "${KEYHOUND_SARIF:-}" ] && [ -f "$KEYHOUND_SARIF" ]; then
  echo "sarif=$KEYHOUND_SARIF" >> "${GITHUB_OUTPUT:-/dev/null}"
fi
exit "$code"
