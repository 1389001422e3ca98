#!/usr/bin/env bash
# Runs the whole test suite (installing first if needed, with the desktop window's test packages), after
# checking that requirements.lock installs on every supported Python (scripts/check-lock.sh; it needs PyPI,
# and a machine without it fails here with that said, never silently: OMNI_EMOTION_SKIP_LOCK_CHECK=1 skips
# the check on purpose), then the lint, format and type checks (configured in pyproject.toml; any finding
# fails the run before a test starts: `bash scripts/lint-fix.sh` applies what ruff can fix itself).
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh --desktop
if [ "${OMNI_EMOTION_SKIP_LOCK_CHECK:-0}" = 1 ]; then
  echo "[test] lock check skipped (OMNI_EMOTION_SKIP_LOCK_CHECK=1): requirements.lock was not checked for 3.11-3.13"
else
  # the wheel-tag check from PyPI's file lists (seconds); `bash scripts/check-lock.sh` adds pip's dry runs
  LOCK_CHECK_PIP=0 bash scripts/check-lock.sh
fi
echo "[test] ruff check, ruff format --check, mypy"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
exec .venv/bin/python -m pytest "$@"
