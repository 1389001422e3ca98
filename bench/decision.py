"""Times the judgment's decision step: the expected-score label choice and the whole ``judge`` call.

    .venv/bin/python bench/decision.py [--repeat 200]

Prints the median milliseconds per call for an uninformative, a split and a peaked posterior, and for
``judge`` on a clip with a face, a voice and words (synthetic clues: the step's cost does not depend on
what the models saw). The issue's budget is 10 ms a clip.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import median_time
from omni_emotion.engines.clue_acoustic import AcousticClues
from omni_emotion.engines.clue_textual import TextualClues
from omni_emotion.engines.clue_visual import VisualClues
from omni_emotion.engines.decision import choose_labels, load_decision_tables
from omni_emotion.engines.fusion import judge
from omni_emotion.engines.voice_model import VoiceEvidence


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    tables = load_decision_tables()
    cases = {
        "prior (no evidence)": dict(tables.prior),
        "split anger/joy": {"anger": 0.5, "joy": 0.5},
        "peaked sadness": {"sadness": 0.95, "neutral": 0.05},
        "flat over all families": {f: 1.0 for f in tables.families},
    }
    for name, posterior in cases.items():
        ms = 1e3 * median_time(args.repeat, lambda p=posterior: choose_labels(p, tables))
        print(f"choose_labels, {name:24s} {ms:6.3f} ms  -> {choose_labels(posterior, tables)[0]}")
    probs = np.full((9, 7), 0.05)
    probs[:, 3] = 0.7
    visual = VisualClues(np.linspace(0, 4, 9), probs, probs[[0, 4, 8]], [], 0, 4.0, 4.0)
    heard = VoiceEvidence(
        {"anger": 0.5, "joy": 0.3, "neutral": 0.2},
        {"anger": 3.5, "joy": 2.1, "neutral": 1.4},
        1.0,
        "single",
        1.0,
    )
    acoustic = AcousticClues(True, 0.7, (), 3.0, model=heard)
    ms = 1e3 * median_time(args.repeat, lambda: judge(visual, acoustic, TextualClues(text="x", valence=0.3)))
    print(f"judge (face + voice + words)             {ms:6.3f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
