"""Benchmark `analyze`: per-stage milliseconds, cold (models loading) and warm times, peak memory.

    .venv/bin/python bench/analyze.py ../shared/testdata/media/face_noface.mov --engine clues --repeat 3

The last stdout line is JSON: {"clip", "engine", "cold_s", "warm_median_s", "stages_ms", "peak_rss_mb"}.
cold_s is create() plus the first analysis (every model loads); warm runs reuse the loaded pipeline.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from omni_emotion.pipeline import ENGINES, EmotionPipeline  # ENGINES: the engine registry


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clip")
    parser.add_argument("--engine", choices=ENGINES.choices(), default="clues")
    parser.add_argument("--repeat", type=int, default=3, help="warm runs after the cold one")
    args = parser.parse_args()

    t0 = time.perf_counter()
    pipeline = EmotionPipeline.create(engine=args.engine)
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
    print(json.dumps({
        "clip": str(args.clip),
        "engine": pipeline.engine_name,
        "cold_s": round(cold_s, 3),
        "warm_median_s": round(statistics.median(warm), 3) if warm else None,
        "stages_ms": {k: round(v, 1) for k, v in stages.items()},
        "peak_rss_mb": round(peak_mb, 1),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
