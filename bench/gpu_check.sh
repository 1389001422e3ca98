#!/usr/bin/env bash
# One check of the Omni-Emotion MLLM on a CUDA machine, within 8 minutes, with no download (random weights).
#   1. the CUDA tests (pytest -m gpu)
#   2. bench/mllm_latency.py at the 0.5b and 7b shapes in bf16, a 1,933-token prompt: TTFT, decode tokens/s,
#      peak memory, with sdpa and with eager attention
#   3. the same with a static cache + torch.compile, against the dynamic cache of step 2
# Prints one JSON line per result (a failed or timed-out step prints {"check": ..., "error": ...}).
#
#   bash bench/gpu_check.sh            # from the repository root; PYTHON defaults to .venv/bin/python
set -u
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
# every model is built from a config here: the hub must never be contacted
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
START=$(date +%s)

json_error() {  # check name, exit status
    printf '{"check": "%s", "error": "exit status %s%s"}\n' "$1" "$2" "$([ "$2" = 124 ] && echo ', timed out')"
}

# step budgets (seconds) add up to 450 s, leaving the 8-minute run a margin for start-up
timeout 60 "$PY" -m pytest -q -m gpu tests/test_model_cuda.py >/tmp/gpu_check_pytest.log 2>&1
rc=$?
passed=$(grep -Eo '[0-9]+ passed' /tmp/gpu_check_pytest.log | grep -Eo '[0-9]+' || echo 0)
failed=$(grep -Eo '[0-9]+ failed' /tmp/gpu_check_pytest.log | grep -Eo '[0-9]+' || echo 0)
printf '{"check": "pytest -m gpu", "exit": %s, "passed": %s, "failed": %s}\n' "$rc" "$passed" "$failed"

latency() {  # check name, step budget, bench arguments...
    local name=$1 budget=$2
    shift 2
    local out
    out=$(timeout "$budget" "$PY" bench/mllm_latency.py --device cuda --dtype bfloat16 --prompt-tokens 1933 \
        --new-tokens 64 --repeats 2 "$@" 2>/tmp/gpu_check_bench.log)
    local rc=$?
    if [ $rc -eq 0 ]; then
        printf '%s\n' "$out" | tail -n 1 | sed "s/^{/{\"check\": \"$name\", /"
    else
        json_error "$name" $rc
    fi
}

latency "latency 0.5b sdpa" 30 --size 0.5b --attn sdpa
latency "latency 0.5b eager" 30 --size 0.5b --attn eager
latency "latency 7b sdpa" 50 --size 7b --attn sdpa
latency "latency 7b eager" 50 --size 7b --attn eager
# compilation dominates these two; a timeout prints its error line and the check still ends in time
latency "latency 0.5b sdpa static+compile" 100 --size 0.5b --attn sdpa --static-cache --compile
latency "latency 7b sdpa static+compile" 130 --size 7b --attn sdpa --static-cache --compile
printf '{"check": "total", "seconds": %s}\n' "$(( $(date +%s) - START ))"
