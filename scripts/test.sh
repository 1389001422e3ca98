#!/usr/bin/env bash
# Runs the whole test suite (installing first if needed, with the desktop window's test packages). Extra
# arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh --desktop
exec .venv/bin/python -m pytest "$@"
