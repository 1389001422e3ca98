"""Benchmark judgment on labelled acted recordings: acted emotion -> label family confusion, beside the floor.

    .venv/bin/python bench/confusion.py --gt ../shared/data/dev/emodb-speaker03/gt.csv \
        --videos ../shared/data/dev/emodb-speaker03 [--engine clues] [--cache runs.jsonl]

Runs the engine over every clip named in the ground truth (resumable: results go to --cache, the same JSONL
`omni-emotion eval --videos` writes), then prints:
- the confusion of each acted emotion (the ground truth's first label) against the lexicon family of the
  engine's first label, with "neutral" alone counted apart;
- how often a recording acted with an emotion got `neutral` alone;
- the EW scores beside the floor (the best constant answer, chosen with this ground truth).
The last stdout line is JSON with those figures.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import SHARED_DATA
from omni_emotion.evaluation import runner
from omni_emotion.evaluation.floor import floor_of
from omni_emotion.evaluation.wheels import load_wheels
from omni_emotion.lexicon import FAMILIES, lookup

NEUTRAL_ALONE = "neutral alone"


def predicted_family(labels: list[str]) -> str:
    """The lexicon family of the first label; "neutral alone" for exactly ["neutral"]; "?" when unknown."""
    if labels == ["neutral"]:
        return NEUTRAL_ALONE
    entry = lookup(labels[0]) if labels else None
    return entry.family if entry else "?"


def confusion(truth: dict[str, list[str]], pred: dict[str, list[str]]) -> dict[str, Counter]:
    """{acted emotion: Counter(predicted family)} over the samples with a prediction."""
    table: dict[str, Counter] = {}
    for name, labels in truth.items():
        if name in pred and labels:
            table.setdefault(labels[0], Counter())[predicted_family(pred[name])] += 1
    return table


def print_confusion(table: dict[str, Counter]) -> None:
    columns = [*FAMILIES, NEUTRAL_ALONE]
    columns = [c for c in columns if any(row[c] for row in table.values())]
    width = max(len(c) for c in [*columns, *table]) + 1
    print("acted \\ labelled".ljust(width) + "".join(c.rjust(width) for c in columns) + "   n  top-1 family")
    for acted in sorted(table):
        row = table[acted]
        n = sum(row.values())
        entry = lookup(acted)
        hits = row[entry.family] if entry else 0
        print(
            acted.ljust(width)
            + "".join(str(row[c]).rjust(width) for c in columns)
            + f"{n:4d}  {hits / n:6.0%}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gt", default=str(SHARED_DATA / "dev" / "emodb-speaker03" / "gt.csv"))
    parser.add_argument("--videos", default=str(SHARED_DATA / "dev" / "emodb-speaker03"))
    parser.add_argument("--engine", default="clues")
    parser.add_argument("--wheels", default=str(SHARED_DATA / "emotion_wheel"))
    parser.add_argument("--cache", default="bench/out/confusion.jsonl", help="resumable per-clip results")
    args = parser.parse_args()

    from omni_emotion.pipeline import EmotionPipeline

    truth = runner.read_ground_truth(args.gt)
    tables = load_wheels(args.wheels)
    cache = Path(args.cache)
    cache.parent.mkdir(parents=True, exist_ok=True)
    pipeline = EmotionPipeline.create(engine=args.engine)
    pred = runner.predict_clips(truth.labels, args.videos, pipeline, cache)
    table = confusion(truth.labels, pred.labels)
    print_confusion(table)
    emotional = sum(sum(row.values()) for acted, row in table.items() if acted != "neutral")
    neutral_alone = sum(row[NEUTRAL_ALONE] for acted, row in table.items() if acted != "neutral")
    print(
        f"\n{neutral_alone} of {emotional} recordings acted with an emotion got `neutral` alone "
        f"({neutral_alone / max(emotional, 1):.0%})"
    )
    result = runner.evaluate(truth, pred, tables)
    floor = floor_of(result, truth.labels, tables)
    print(
        f"engine: L1-avg {100 * result.l1_avg:.2f}  M-avg {100 * result.m_avg:.2f}  "
        f"({result.n_scored} scored)"
    )
    print(
        f"floor:  L1-avg {100 * floor.result.l1_avg:.2f}  M-avg {100 * floor.result.m_avg:.2f}  "
        f"(best constant: {', '.join(floor.labels)}; chosen with this ground truth)"
    )
    print(
        json.dumps(
            {
                "engine": args.engine,
                "l1_avg": round(result.l1_avg, 4),
                "m_avg": round(result.m_avg, 4),
                "floor_l1_avg": round(floor.result.l1_avg, 4),
                "floor_m_avg": round(floor.result.m_avg, 4),
                "floor_labels": list(floor.labels),
                "neutral_alone": neutral_alone,
                "emotional": emotional,
                "confusion": {acted: dict(row) for acted, row in table.items()},
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
