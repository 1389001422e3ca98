"""Writes omni_emotion/engines/data/decision.json: what the expected-score decision rule needs at run time.

    .venv/bin/python bench/fit_decision.py [--wheels ../shared/data/emotion_wheel]
        [--prior ../shared/data/mer2023_text/train.csv] [--out omni_emotion/engines/data/decision.json]

- groups: for every word of the project's lexicon, its group under each of the benchmark's 12 groupings
  (evaluation/wheels.py resolves the authors' tables; "" where a word maps to nothing). Only the engine's own
  words are kept, so the engine needs no benchmark files at run time.
- prior: the label frequencies of MER2023's training split (the drama corpus OV-MERD was drawn from; its
  OV-MERD samples are removed from this copy), mapped to lexicon families. Families that its six-way scheme
  has no class for (boredom, disgust, contempt) are taken to be as common as its rarest class, then all are
  renormalised. Never the OV-MERD ground truth.
- source: the SHA-256 of every input, so a changed input shows.
The output is deterministic: running the script again on the same inputs writes the same bytes.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import SHARED_DATA
from omni_emotion.engines.decision import DECISION_FILE
from omni_emotion.engines.fusion import BASE_WORD
from omni_emotion.evaluation.wheels import GROUPINGS, WHEEL_FILES, load_wheels
from omni_emotion.lexicon import LEXICON, lookup

# MER2023's six classes -> the lexicon word whose family they name
MER2023_CLASSES = {
    "neutral": "neutral",
    "angry": "angry",
    "happy": "happy",
    "sad": "sad",
    "worried": "worried",
    "surprise": "surprised",
}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def prior_from(train_csv: Path) -> dict[str, float]:
    counts = Counter(row["emotion"] for row in csv.DictReader(train_csv.open(encoding="utf-8")))
    unknown = set(counts) - set(MER2023_CLASSES)
    if unknown:
        raise SystemExit(f"unexpected classes in {train_csv}: {sorted(unknown)}")
    family_counts = {
        lookup(MER2023_CLASSES[c]).family if c != "neutral" else "neutral": n for c, n in counts.items()
    }
    rarest = min(family_counts.values())
    for family in BASE_WORD:
        family_counts.setdefault(family, rarest)
    total = sum(family_counts.values())
    return {family: round(family_counts[family] / total, 6) for family in BASE_WORD}


def build(wheels: Path, train_csv: Path) -> dict:
    tables = load_wheels(wheels)
    words = sorted({entry.word for entry in LEXICON} | set(BASE_WORD.values()))
    groups = {
        w: [tables.groups[w][i] if w in tables.groups else "" for i in range(len(GROUPINGS))] for w in words
    }
    source = {f"wheels/{name}": sha256(wheels / name) for name in WHEEL_FILES}
    source["prior"] = f"{train_csv.name} {sha256(train_csv)}"
    return {
        "groupings": list(GROUPINGS),
        "truth_words": dict(BASE_WORD),
        "prior": prior_from(train_csv),
        "source": source,
        "groups": groups,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheels", type=Path, default=SHARED_DATA / "emotion_wheel")
    parser.add_argument("--prior", type=Path, default=SHARED_DATA / "mer2023_text" / "train.csv")
    parser.add_argument("--out", type=Path, default=DECISION_FILE)
    args = parser.parse_args()
    data = build(args.wheels, args.prior)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(data, indent=1, ensure_ascii=False, sort_keys=False) + "\n", encoding="utf-8"
    )
    print(f"wrote {args.out}: {len(data['groups'])} words, prior {data['prior']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
