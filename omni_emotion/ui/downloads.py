"""The Analyze tab's downloads: the result as JSON (``Analysis.to_dict()``, evidence included) and the
per-frame facial expressions as CSV, one row per tracked face per analysed frame."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from omni_emotion.types import Analysis, FaceTrack

__all__ = ["EXPRESSION_CSV_HEAD", "expression_rows", "write_downloads"]

EXPRESSION_CSV_HEAD = ("track", "main", "time_s")


def expression_rows(
    faces: Sequence[FaceTrack], predict: Callable[[np.ndarray], np.ndarray], classes: Sequence[str]
) -> list[list]:
    """[track id, main (0/1), time s, one probability per class] for every aligned crop of every track, in
    time order within a track, main person first. ``predict`` maps (K, S, S, 3) uint8 crops to (K, C)."""
    rows: list[list] = []
    for face in sorted(faces, key=lambda f: (not f.main, f.track_id)):
        if face.crops is None or not len(face.crops):
            continue
        probs = np.asarray(predict(face.crops), dtype=np.float64).reshape(len(face.crops), len(classes))
        for t, p in zip(face.crop_seconds, probs):
            rows.append(
                [
                    int(face.track_id),
                    int(bool(face.main)),
                    round(float(t), 3),
                    *(round(float(v), 4) for v in p),
                ]
            )
    return sorted(rows, key=lambda r: (-r[1], r[0], r[2]))


def write_downloads(
    folder: Path, stem: str, analysis: Analysis, rows: list[list], classes: Sequence[str]
) -> list[str]:
    """Write ``<stem>.json`` and ``<stem>-expressions.csv`` into ``folder``; returns both paths. The CSV has
    its header even when no face was seen, so a script reading it needs no special case."""
    result = folder / f"{stem}.json"
    result.write_text(json.dumps(analysis.to_dict(), ensure_ascii=False, indent=1), encoding="utf-8")
    table = folder / f"{stem}-expressions.csv"
    with open(table, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([*EXPRESSION_CSV_HEAD, *classes])
        writer.writerows(rows)
    return [str(result), str(table)]
