"""Benchmark `analyze`: per-stage milliseconds, cold (models loading) and warm times, peak memory.

    .venv/bin/python bench/analyze.py ../shared/testdata/media/face_noface.mov [--engine auto] --repeat 3

The last stdout line is JSON: {"clip", "engine", "cold_s", "warm_median_s", "stages_ms", "peak_rss_mb",
"fresh_s"}. cold_s is create() plus the first analysis (every model loads); warm runs reuse the loaded
pipeline. fresh_s is the cold time as a user meets it: ``omni-emotion analyze CLIP`` started as a new
process, until its labels are printed (interpreter start and imports included; ``--fresh 0`` skips it).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from omni_emotion.pipeline import (  # ENGINES: engine registry
    ANALYSIS_TORCH_THREADS,
    ENGINES,
    PipelineSpec,
    analysis_asr_threads,
)


def fresh_process_s(clip: str, engine: str) -> float:
    """Seconds from starting ``omni-emotion analyze`` in a new interpreter to its ``labels:`` line."""
    code = "import sys; from omni_emotion.cli import main; sys.exit(main())"
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "analyze", clip, "--engine", engine],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    seen = None
    for line in proc.stdout:
        if seen is None and line.startswith("labels:"):
            seen = time.perf_counter() - t0
    if proc.wait() != 0 or seen is None:
        raise SystemExit(f"omni-emotion analyze {clip} failed (exit {proc.returncode})")
    return seen


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clip")
    parser.add_argument("--engine", choices=ENGINES.choices(), default="auto")  # what a user runs
    parser.add_argument("--repeat", type=int, default=3, help="warm runs after the cold one")
    parser.add_argument(
        "--fresh", type=int, default=1, help="fresh-process runs to time (the median is kept)"
    )
    args = parser.parse_args()
    fresh = [fresh_process_s(args.clip, args.engine) for _ in range(args.fresh)]
    if fresh:
        print("fresh process to labels: " + ", ".join(f"{s:.2f} s" for s in fresh))

    t0 = time.perf_counter()
    pipeline = PipelineSpec(  # as `analyze`
        engine=args.engine, asr_threads=analysis_asr_threads(), torch_threads=ANALYSIS_TORCH_THREADS
    ).create()
    load_s = time.perf_counter() - t0
    first = pipeline.analyze_file(args.clip)
    cold_s = time.perf_counter() - t0
    print(f"load {load_s * 1e3:.0f} ms; first analysis {first.timings_ms['total']:.0f} ms")
    warm, stages = [], {}
    for i in range(args.repeat):
        t = time.perf_counter()
        analysis = pipeline.analyze_file(args.clip)
        warm.append(time.perf_counter() - t)
        stages = analysis.timings_ms
        print(f"warm {i + 1}: " + ", ".join(f"{k} {v:.0f} ms" for k, v in analysis.timings_ms.items()))
    print("labels:", ", ".join(first.labels))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux reports KiB
    print(
        json.dumps(
            {
                "clip": str(args.clip),
                "engine": pipeline.engine_name,
                "cold_s": round(cold_s, 3),
                "warm_median_s": round(statistics.median(warm), 3) if warm else None,
                "stages_ms": {k: round(v, 1) for k, v in stages.items()},
                "peak_rss_mb": round(peak_mb, 1),
                "fresh_s": round(statistics.median(fresh), 3) if fresh else None,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
