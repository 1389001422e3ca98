"""The EW metric of one sample, for a group of candidate answers at once (the reward of RL training).

``group_scores(truth, candidates, tables, grouping)`` gives, for each candidate label list, exactly what
``score_dataset({name: truth}, {name: candidate}, tables)`` reports for that single sample (and so what
``omni-emotion eval`` prints for a one-row file): the mean F_S over the 12 groupings (``"M-avg"``), over the
five level-1 wheels (``"L1-avg"``), or F_S under one grouping (``"M1"``, ``"W3-L2"``, ...). The truth is
mapped once, and each distinct candidate set once, into a (candidates x groupings) table of precision and
recall from which the F scores are taken in one numpy pass. A truth that maps to no group under any
grouping gives 0 for every candidate (``score_dataset`` skips such a sample and reports all scores 0).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from omni_emotion.evaluation.metrics import map_labels, set_scores
from omni_emotion.evaluation.wheels import GROUPINGS, L1_GROUPINGS, WheelTables

__all__ = ["REWARD_GROUPINGS", "group_scores", "grouping_columns"]

# What a reward can average: the two summary figures of ``omni-emotion eval`` or one grouping.
REWARD_GROUPINGS = ("M-avg", "L1-avg", *GROUPINGS)


def grouping_columns(grouping: str) -> tuple[int, ...]:
    """Indices into ``GROUPINGS`` that ``grouping`` (one of ``REWARD_GROUPINGS``) averages over."""
    if grouping == "M-avg":
        return tuple(range(len(GROUPINGS)))
    if grouping == "L1-avg":
        return tuple(GROUPINGS.index(g) for g in L1_GROUPINGS)
    if grouping in GROUPINGS:
        return (GROUPINGS.index(grouping),)
    raise ValueError(f"unknown grouping {grouping!r}; use one of {', '.join(REWARD_GROUPINGS)}")


def group_scores(
    truth: Sequence[str], candidates: Sequence[Sequence[str]], tables: WheelTables, grouping: str = "M-avg"
) -> np.ndarray:
    """(len(candidates),) float64 scores in [0, 1] of each candidate label list against ``truth``.

    Labels are lowercase words, as ``parse_labels`` returns them; unknown words are dropped by the mapping.
    """
    columns = grouping_columns(grouping)
    truth_sets = [map_labels(truth, tables, GROUPINGS[c]) for c in columns]
    precision = np.zeros((len(candidates), len(columns)))
    recall = np.zeros_like(precision)
    seen: dict[frozenset[str], int] = {}
    for i, labels in enumerate(candidates):
        key = frozenset(labels)
        if key in seen:  # sampled answers often repeat: score each distinct label set once
            precision[i], recall[i] = precision[seen[key]], recall[seen[key]]
            continue
        seen[key] = i
        for j, c in enumerate(columns):
            scores = set_scores(truth_sets[j], map_labels(key, tables, GROUPINGS[c]))
            if scores is not None:  # an unmapped truth counts as 0 there, as in score_grouping with n = 0
                precision[i, j], recall[i, j] = scores
    total = precision + recall
    f = np.divide(2.0 * precision * recall, total, out=np.zeros_like(total), where=total > 0)
    return f.mean(axis=1) if len(candidates) else np.zeros(0)
