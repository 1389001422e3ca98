"""Benchmark folder jobs: N clips analysed in one process, then on a local Ray with A actors, in clips/s.

    .venv/bin/python bench/batch.py [CLIP] [--n 12] [--actors 2] [--engine clues]

CLIP (default ../shared/testdata/media/face_noface.mov) is copied N times into a temporary folder. For each
mode it prints the overall rate (model loading and, on Ray, its start-up included) and the steady rate
(clips after the first result over the time since it). The last stdout line is JSON with both.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import SHARED_MEDIA

from omni_emotion.jobs import PipelineSpec, RayConfig
from omni_emotion.jobs.folder import analyze_folder

DEFAULT_CLIP = SHARED_MEDIA / "face_noface.mov"


def timed(stamps: list[float]):
    """A progress hook that records when each result arrives."""

    def wrap(results, total):
        for result in results:
            stamps.append(time.perf_counter())
            yield result

    return wrap


def run(folder: Path, out: Path, spec: PipelineSpec, ray: RayConfig | None) -> dict[str, float]:
    stamps: list[float] = []
    t0 = time.perf_counter()
    summary = analyze_folder(folder, out, spec, ray=ray, progress=timed(stamps))
    total = time.perf_counter() - t0
    steady = (len(stamps) - 1) / (stamps[-1] - stamps[0]) if len(stamps) > 1 else float("nan")
    return {
        "clips": summary.analysed,
        "failed": summary.failed,
        "seconds": round(total, 1),
        "clips_per_s": round(summary.analysed / total, 3),
        "steady_clips_per_s": round(steady, 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clip", nargs="?", default=str(DEFAULT_CLIP))
    parser.add_argument("--n", type=int, default=12, help="copies of the clip (default 12)")
    parser.add_argument("--actors", type=int, default=2, help="Ray actors (default 2)")
    parser.add_argument("--engine", default="clues")
    args = parser.parse_args()

    spec = PipelineSpec(engine=args.engine)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "clips"
        folder.mkdir()
        for i in range(args.n):
            shutil.copy(args.clip, folder / f"clip{i:03d}{Path(args.clip).suffix}")
        figures = {"sequential": run(folder, Path(tmp) / "seq.jsonl", spec, None)}
        print(f"sequential: {figures['sequential']}", flush=True)
        ray = run(folder, Path(tmp) / "ray.jsonl", spec, RayConfig(actors=args.actors))
        figures[f"ray_{args.actors}_actors"] = ray
        print(f"ray, {args.actors} actors: {ray}", flush=True)
    print(json.dumps({"clip": args.clip, "n": args.n, "engine": args.engine, **figures}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
