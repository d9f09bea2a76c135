#!/usr/bin/env bash
# Installs keyhound for the GitHub Action (action.yml): the keyhound-cli wheel from the Python
# package index, into a virtualenv under RUNNER_TEMP. Only the keyhound executable is put on
# PATH (through GITHUB_PATH), so the job's own Python is left alone.
#
# KEYHOUND_VERSION: the version to install; empty means the action's own version (the one in
# the Cargo.toml beside action.yml, so `uses: ...@v1.2.3` installs keyhound 1.2.3), `latest`
# the newest published.
set -euo pipefail

version=${KEYHOUND_VERSION:-}
if [ -z "$version" ]; then
  version=$(sed -n 's/^version = "\([^"]*\)"$/\1/p' "${GITHUB_ACTION_PATH:?}/Cargo.toml" | head -n 1)
fi
requirement=keyhound-cli
if [ "$version" != latest ]; then
  requirement="keyhound-cli==$version"
fi

python=$(command -v python3 || command -v python || true)
if [ -z "$python" ]; then
  echo "::error title=keyhound::Python 3 is needed to install keyhound (actions/setup-python)" >&2
  exit 2
fi
venv=${RUNNER_TEMP:?}/keyhound-venv
"$python" -m venv "$venv"
scripts=$venv/bin
if [ -d "$venv/Scripts" ]; then
  scripts=$venv/Scripts # Windows
fi
"$scripts/python" -m pip install --quiet --disable-pip-version-check "$requirement"

bin=$RUNNER_TEMP/keyhound-bin
mkdir -p "$bin"
for exe in keyhound keyhound.exe; do
  if [ -f "$scripts/$exe" ]; then
    cp "$scripts/$exe" "$bin/$exe"
  fi
done
"$bin/keyhound" --version
echo "$bin" >> "${GITHUB_PATH:?}"
