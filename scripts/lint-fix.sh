#!/usr/bin/env bash
# Applies ruff's safe fixes and its formatter to the whole tree, then reports what is left for a person:
# the checks scripts/test.sh runs must pass after it. Run it once on a tree, commit the result on its own.
#
#   bash scripts/lint-fix.sh
set -euo pipefail
cd "$(dirname "$0")/.."
RUFF=${RUFF:-.venv/bin/ruff}
"$RUFF" check --fix --quiet . || true  # what remains is printed by the check below
"$RUFF" format --quiet .
"$RUFF" check .
