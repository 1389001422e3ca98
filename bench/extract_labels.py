"""Benchmark the deterministic label extractor against the benchmark authors' LLM extraction.

    .venv/bin/python bench/extract_labels.py [--data ../shared/data]

For each shared baseline: extract labels from reasons.jsonl, score them against check-openset.csv, and print
our M-avg beside that of the authors' LLM-extracted labels (openset.csv, scored here: the gap is ours minus
theirs) and the published one, plus how well our labels agree with the authors' (M1 F-score, treating theirs
as truth; the mean per-sample Jaccard index of the two label sets with synonyms merged, M2) and the extraction
time; every M-avg stands beside the floor (the best constant answer for the
ground truth, chosen with it). Nothing is fitted on the ground truth: it only scores.
"""

from __future__ import annotations

import argparse
import csv
import json
import tempfile
import time
from pathlib import Path

from common import SHARED_DATA

from omni_emotion.evaluation.floor import best_constant
from omni_emotion.evaluation.metrics import map_labels, score_dataset
from omni_emotion.evaluation.runner import read_predictions
from omni_emotion.evaluation.wheels import WheelTables, load_wheels
from omni_emotion.mentions import RuleExtractor


def _jaccard(ours: list[str], theirs: list[str], tables: WheelTables) -> float:
    """|A & B| / |A | B| of two label lists after the synonym grouping (M2); 1 when both are empty."""
    a, b = map_labels(ours, tables, "M2"), map_labels(theirs, tables, "M2")
    return len(a & b) / len(a | b) if a | b else 1.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=SHARED_DATA)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as cache:
        tables = load_wheels(args.data / "emotion_wheel", cache_dir=cache)
    extractor = RuleExtractor(tables)
    truth = read_predictions(args.data / "ovmerd" / "check-openset.csv").labels
    floor = best_constant(truth, tables).result.m_avg * 100
    print(f"floor (best constant answer, chosen with the ground truth): M-avg {floor:.2f}")
    with open(args.data / "ovmerd" / "published_table4.csv", newline="") as handle:
        published = {row["model"]: float(row["M-avg"]) for row in csv.DictReader(handle)}
    gaps, published_gaps, jaccards = [], [], []
    for folder in sorted((args.data / "ovmerd" / "baselines").iterdir()):
        with open(folder / "reasons.jsonl") as handle:
            reasons = {r["name"]: r["reason"] for r in map(json.loads, handle)}
        started = time.perf_counter()
        pred = {name: extractor.extract(text) for name, text in reasons.items()}
        elapsed = time.perf_counter() - started
        ours = score_dataset(truth, pred, tables).m_avg * 100
        theirs = read_predictions(folder / "openset.csv").labels
        authors = score_dataset(truth, theirs, tables).m_avg * 100
        agree = score_dataset(theirs, pred, tables).groupings["M1"].f_score * 100
        jaccard = sum(_jaccard(pred[name], theirs.get(name, []), tables) for name in reasons) / len(reasons)
        jaccards.append(jaccard)
        gaps.append(ours - authors)
        published_gaps.append(ours - published[folder.name])
        print(
            f"{folder.name:12s} extractor M-avg {ours:6.2f}  authors' labels {authors:6.2f}"
            f"  gap {gaps[-1]:+5.2f}"
            f"  (published {published[folder.name]:6.2f}, gap {published_gaps[-1]:+5.2f})"
            f"  above floor {ours - floor:+5.2f}  M1 agreement {agree:5.1f}  Jaccard {jaccard:.3f}"
            f"  labels/sample {sum(map(len, pred.values())) / len(pred):.2f}"
            f"  {elapsed / len(reasons) * 1000:.2f} ms/text"
        )
    print(
        f"gap to the authors' labels: mean {sum(gaps) / len(gaps):+.2f}, mean |gap| "
        f"{sum(map(abs, gaps)) / len(gaps):.2f}, worst {max(gaps, key=abs):+.2f} points; mean gap to "
        f"published {sum(published_gaps) / len(published_gaps):+.2f}; mean Jaccard with the authors' labels "
        f"{sum(jaccards) / len(jaccards):.3f}"
    )


if __name__ == "__main__":
    main()
