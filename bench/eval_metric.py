"""Benchmark the EW metric: grouping-table load time (parse and cached) and scoring time, plus parity.

    .venv/bin/python bench/eval_metric.py [--data ../shared/data] [--repeat 20]

Prints the floor (the best constant answer for the ground truth, chosen with it) and its search time, then
for each shared baseline our M-avg beside the published one and the floor (percent), and the largest column
gap.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import tempfile
import time
from pathlib import Path

from common import SHARED_DATA, median_time

from omni_emotion.evaluation.floor import best_constant
from omni_emotion.evaluation.metrics import score_dataset
from omni_emotion.evaluation.runner import read_predictions
from omni_emotion.evaluation.wheels import GROUPINGS, load_wheels, parse_wheels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=SHARED_DATA)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    wheels = args.data / "emotion_wheel"

    parse_s = []
    for _ in range(3):
        started = time.perf_counter()
        parse_wheels(wheels)
        parse_s.append(time.perf_counter() - started)
    with tempfile.TemporaryDirectory() as cache:
        started = time.perf_counter()
        load_wheels(wheels, cache_dir=cache)
        cold = time.perf_counter() - started
        warm_s = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            tables = load_wheels(wheels, cache_dir=cache)
            warm_s.append(time.perf_counter() - started)
    print(f"parse 7 files (no cache): median {statistics.median(parse_s) * 1000:.0f} ms")
    print(f"load_wheels first call (parse + write cache): {cold * 1000:.0f} ms")
    print(f"load_wheels cached: median {statistics.median(warm_s) * 1000:.1f} ms over {args.repeat}")

    truth = read_predictions(args.data / "ovmerd" / "check-openset.csv").labels
    floor = best_constant(truth, tables)
    search_s = median_time(args.repeat, lambda: best_constant(truth, tables))
    print(
        f"floor (best constant, chosen with the ground truth): {', '.join(floor.labels)}  M-avg "
        f"{floor.result.m_avg * 100:.2f}  L1-avg {floor.result.l1_avg * 100:.2f}  search: median "
        f"{search_s * 1000:.0f} ms over {args.repeat}"
    )
    with open(args.data / "ovmerd" / "published_table4.csv", newline="") as handle:
        published = {row["model"]: row for row in csv.DictReader(handle)}
    for folder in sorted((args.data / "ovmerd" / "baselines").iterdir()):
        pred = read_predictions(folder / "openset.csv").labels
        times = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            result = score_dataset(truth, pred, tables)
            times.append(time.perf_counter() - started)
        gaps = {g: result.groupings[g].f_score * 100 - float(published[folder.name][g]) for g in GROUPINGS}
        worst = max(gaps, key=lambda g: abs(gaps[g]))
        paper = float(published[folder.name]["M-avg"])
        print(
            f"{folder.name:12s} M-avg ours {result.m_avg * 100:6.2f}  published {paper:6.2f}"
            f"  diff {result.m_avg * 100 - paper:+5.2f}"
            f"  above floor {(result.m_avg - floor.result.m_avg) * 100:+5.2f}"
            f"  max column gap {gaps[worst]:+5.2f} ({worst})"
            f"  scoring {len(truth)} samples x 12 groupings: median {statistics.median(times) * 1000:.1f} ms"
        )


if __name__ == "__main__":
    main()
