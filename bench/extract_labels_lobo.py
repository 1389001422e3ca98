"""Leave-one-baseline-out check of the rule extractor's fitted weights.

    .venv/bin/python bench/extract_labels_lobo.py [--data ../shared/data]

The extractor keeps three numbers fitted to the five shared baselines: how much conclusions weigh, how much
a feeling stated as one weighs, and the keep ratio. For each baseline, they are chosen from a grid by
agreement with the authors' LLM-extracted labels (openset.csv: the M-avg of our labels scored with theirs as
the truth) on the other four; the choice's gap (ours minus the authors' labels, both scored against
check-openset.csv) is then measured on the fifth. The ground truth is only used for that last measurement.
Slow: the grid is 36 extractor settings over 1,660 texts (several minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import itertools
import json
import tempfile
from pathlib import Path

from common import SHARED_DATA

from omni_emotion.evaluation.metrics import score_dataset
from omni_emotion.evaluation.runner import read_predictions
from omni_emotion.evaluation.wheels import load_wheels
from omni_emotion.mentions import MentionConfig, RuleExtractor

SUMMARY_WEIGHTS = (2.0, 3.0, 4.0)
FRAME_WEIGHTS = (1.0, 1.5, 2.0, 3.0)
KEEP_RATIOS = (0.4, 0.5, 0.6)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=SHARED_DATA)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as cache:
        tables = load_wheels(args.data / "emotion_wheel", cache_dir=cache)
    folders = sorted((args.data / "ovmerd" / "baselines").iterdir())
    reasons, theirs = {}, {}
    for folder in folders:
        with open(folder / "reasons.jsonl") as handle:
            reasons[folder.name] = {r["name"]: r["reason"] for r in map(json.loads, handle)}
        theirs[folder.name] = read_predictions(folder / "openset.csv").labels
    grid = list(itertools.product(SUMMARY_WEIGHTS, FRAME_WEIGHTS, KEEP_RATIOS))
    predictions, agreement = {}, {}
    for setting in grid:
        summary_weight, frame_weight, keep_ratio = setting
        config = MentionConfig(summary_weight=summary_weight, frame_weight=frame_weight)
        extractor = RuleExtractor(tables, keep_ratio=keep_ratio, config=config)
        for name, texts in reasons.items():
            pred = {sample: extractor.extract(text) for sample, text in texts.items()}
            predictions[setting, name] = pred
            agreement[setting, name] = score_dataset(theirs[name], pred, tables).m_avg * 100
    truth = read_predictions(args.data / "ovmerd" / "check-openset.csv").labels
    gaps = []
    for held_out in reasons:
        others = [name for name in reasons if name != held_out]
        chosen = max(grid, key=lambda setting: sum(agreement[setting, name] for name in others))
        authors = score_dataset(truth, theirs[held_out], tables).m_avg * 100
        gaps.append(score_dataset(truth, predictions[chosen, held_out], tables).m_avg * 100 - authors)
        print(
            f"{held_out:12s} chosen on the other four: conclusions x{chosen[0]:g}, stated x{chosen[1]:g}, "
            f"keep {chosen[2]:g}  held-out gap {gaps[-1]:+5.2f}"
        )
    print(
        f"held-out gap: mean {sum(gaps) / len(gaps):+.2f}, mean |gap| {sum(map(abs, gaps)) / len(gaps):.2f}"
    )


if __name__ == "__main__":
    main()
