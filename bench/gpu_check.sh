#!/usr/bin/env bash
# The Omni-Emotion MLLM on the lent GPU machine (Python 3.12 `python3`, torch 2.11 + CUDA, no registry), in two
# calls that fit its 15 minutes with room for a rerun. Random weights at real shapes: nothing is downloaded.
#   A (under 5 min): the CUDA tests and the FaceXFormer parity test; 0.5b and 7b in bf16, 1,933-token
#      prompt: TTFT, decode tokens/s, peak memory, sdpa against eager, the trained and the zero-shot layout
#   B (under 5 min): the same with a static cache, its decoding step compiled by transformers (once, in the
#      warm-up, which is the timed call itself)
# Each step logs to $OUT (the folder whose files come back; bench/out/gpu_check here), prints the log's tail
# when it fails, and the call ends with a JSON summary line (also written to $OUT/summary-<call>.json).
#
#   bash scripts/gpu-wheels.sh                # here, once: the wheels into .whl/
#   bash bench/gpu_check.sh A                 # there: run with carry [".whl"]; then B
#   PYTHON=.venv/bin/python bash bench/gpu_check.sh --dry-run   # here, on CPU: both calls with tiny models
set -u
cd "$(dirname "$0")/.."
CALL=${1:-A}
DRY=""
if [ "$CALL" = "--dry-run" ]; then DRY=1; fi
case "$CALL" in A|B|--dry-run) ;; *) echo "usage: bash bench/gpu_check.sh A|B|--dry-run" >&2; exit 2 ;; esac
LOGS=${OUT:-bench/out/gpu_check}
mkdir -p "$LOGS"
PY=${PYTHON:-python3}
# every model is built from a config: the hub must never be contacted
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false PYTHONUNBUFFERED=1

if ! "$PY" -c 'import torch' 2>/dev/null; then
    echo "$PY has no torch; set PYTHON to an interpreter that has (here: the project's .venv/bin/python)" >&2
    exit 2
fi
if ! ls .whl/*.whl >/dev/null 2>&1; then
    echo "no wheels in .whl/: run bash scripts/gpu-wheels.sh here first, and carry .whl" >&2
    exit 2
fi
if [ -n "$DRY" ]; then
    # Python 3.12 rules here, without a 3.12 torch (PyPI's is a CUDA build of 500+ MB): the wheels must
    # install for CPython 3.12 on manylinux x86_64, and every module must compile under 3.12
    "$PY" -m pip install -q --dry-run --no-index --no-deps --only-binary=:all: --python-version 3.12 \
        --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
        --platform manylinux2014_x86_64 --target "$(mktemp -d)" .whl/*.whl >"$LOGS/wheels-3.12.log" 2>&1 \
        || { tail -n 20 "$LOGS/wheels-3.12.log"; exit 1; }
    PY312=""
    for candidate in python3.12 "$(pyenv root 2>/dev/null)"/versions/3.12*/bin/python3.12; do
        if "$candidate" -c '' 2>/dev/null; then PY312=$candidate; break; fi
    done
    if [ -n "$PY312" ]; then
        "$PY312" -m compileall -q omni_emotion bench tests >"$LOGS/compile-3.12.log" 2>&1 \
            || { tail -n 20 "$LOGS/compile-3.12.log"; exit 1; }
        echo "{\"check\": \"python 3.12 rules\", \"wheels\": \"install\", \"compileall\": \"$("$PY312" -V)\"}"
    else
        echo '{"check": "python 3.12 rules", "wheels": "install", "compileall": "skipped: no python3.12 here"}'
    fi
fi
# the wheels go first on the path, ahead of the image's own packages (its transformers is 5.17)
SITE=$(mktemp -d)
"$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$SITE" .whl/*.whl \
    >"$LOGS/wheels.log" 2>&1 || { tail -n 20 "$LOGS/wheels.log"; exit 1; }
export PYTHONPATH="$PWD:$SITE"
"$PY" bench/gpu_check.py --call "${CALL#--}" --logs "$LOGS"
rc=$?
rm -rf "$SITE"
exit $rc
