"""The steps of bench/gpu_check.sh (run it, not this: it installs the wheels and sets PYTHONPATH first).

Every step is a subprocess with its own time limit; its output goes to ``<logs>/<step>.log``, and a failed or
timed-out step prints that log's last lines. JSON lines a step prints become its results. The last line is the
summary: {"call", "seconds", "steps": [{"step", "status", "seconds", "results"...}]}, also written to
``<logs>/summary-<call>.json``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

PROMPT = [
    "--prompt-tokens",
    "1933",
    "--new-tokens",
    "64",
    "--repeats",
    "2",
    "--device",
    "cuda",
    "--dtype",
    "bfloat16",
]
EVERY = ["--attn", "sdpa,eager", "--layout", "trained,zero-shot"]
LATENCY = [sys.executable, "bench/mllm_latency.py"]
PYTEST = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "not network"]
TESTS = ["tests/test_model_cuda.py", "tests/test_encoders.py::test_facexformer_matches_torchvision_swin_b"]
# (name, seconds, command); A's limits add up to 270 s and B's to 280 s: each call ends inside 5 minutes
CALLS = {
    "A": [
        ("pytest", 90, PYTEST + TESTS),
        ("latency-0.5b", 60, LATENCY + ["--size", "0.5b", *EVERY, *PROMPT]),
        ("latency-7b", 120, LATENCY + ["--size", "7b", *EVERY, *PROMPT]),
    ],
    "B": [
        ("compiled-0.5b", 120, LATENCY + ["--size", "0.5b", "--static-cache", "--compile", *PROMPT]),
        ("compiled-7b", 160, LATENCY + ["--size", "7b", "--static-cache", "--compile", *PROMPT]),
    ],
}
# the rehearsal here: the same steps on CPU with the tiny model and a short prompt (transformers compiles
# only on accelerators, so B's rehearsal runs the static cache uncompiled)
TINY = ["--size", "tiny", "--device", "cpu", "--prompt-tokens", "400", "--new-tokens", "4", "--repeats", "1"]
DRY_RUN = [
    ("imports", 120, [sys.executable, str(Path(__file__).with_name("gpu_check_imports.py"))]),
    ("pytest", 300, PYTEST + TESTS),
    ("latency-tiny", 300, LATENCY + [*EVERY, *TINY]),
    ("static-tiny", 300, LATENCY + ["--static-cache", "--compile", *TINY]),
]


def run_step(name: str, limit: int, command: list[str], logs: Path) -> dict:
    log = logs / f"{name}.log"
    start = time.perf_counter()
    with log.open("w", encoding="utf-8") as out:
        try:
            rc = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, timeout=limit).returncode
        except subprocess.TimeoutExpired:
            rc = None
    text = log.read_text(encoding="utf-8", errors="replace")
    results = [json.loads(line) for line in text.splitlines() if line.startswith("{") and line.endswith("}")]
    status = "ok" if rc == 0 else ("timed out" if rc is None else f"exit {rc}")
    step = {"step": name, "status": status, "seconds": round(time.perf_counter() - start, 1), "log": log.name}
    if name == "pytest":
        tail = text.strip().splitlines()[-1:] or [""]
        step["summary"] = tail[0]
    if results:
        step["results"] = results
    if status != "ok":
        print(f"--- {name}: {status}; the last lines of {log}:", flush=True)
        print("\n".join(text.splitlines()[-25:]), flush=True)
    print(json.dumps(step), flush=True)
    return step


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--call", choices=("A", "B", "dry-run"), required=True)
    parser.add_argument("--logs", type=Path, required=True)
    args = parser.parse_args()
    steps = DRY_RUN if args.call == "dry-run" else CALLS[args.call]
    start = time.perf_counter()
    done = [run_step(name, limit, command, args.logs) for name, limit, command in steps]
    name = args.call
    summary = {"call": name, "seconds": round(time.perf_counter() - start, 1), "steps": done}
    (args.logs / f"summary-{name}.json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(summary), flush=True)
    return 0 if all(s["status"] == "ok" for s in done) else 1


if __name__ == "__main__":
    sys.exit(main())
